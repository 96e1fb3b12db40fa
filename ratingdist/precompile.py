"""Compile the fitting kernels of some families into Numba's on-disk cache, in a process of
its own: ``python -m ratingdist.precompile FAMILY ...``.

A first ``ratingdist compare`` or ``fit`` with an empty cache starts it for the families whose
kernels do not come with those of the first family it fits (``fitting.compile_group``: the
maximum-entropy ones, where the first is a quantized family or the GSD), so that a second core
compiles their kernels while the command compiles and fits the first; the command then loads
them from the cache. Each
kernel is compiled for the argument types of a real fit, so the cache entries are the ones the
command looks up. The process runs at a lower priority (``nice`` 10), so that on a busy machine
it takes only idle cores from the command, which compiles what it does not find in time.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import numpy as np

from .fitting import fit_all

#: Counts that take every fitting kernel of every family: interior rows and a degenerate one.
_PROBE = np.array([[0, 1, 5, 3, 1], [2, 0, 0, 0, 7], [0, 0, 9, 0, 0]])


def main(argv: Sequence[str] | None = None) -> int:
    """Fit the probe counts with the families named in ``argv`` (default: the command line)."""
    if argv is None and hasattr(os, "nice"):
        os.nice(10)
    fit_all(_PROBE, list(sys.argv[1:] if argv is None else argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
