"""Anderson acceleration of a fixed-point iteration x ← G(x) (here: one block-coordinate sweep).

With the last m+1 iterates x_k and residuals f_k = G(x_k) − x_k, the accelerated point is

    x⁺ = G(x_k) − ΔG γ,   γ = argmin ‖f_k − ΔF γ‖₂,

ΔF, ΔG the matrices of successive differences of f and G(x) (Walker & Ni's "type II" form,
solved by least squares). The caller safeguards it: x⁺ is used only where it lowers the
objective below that of G(x_k), and the history is dropped otherwise.

References
----------
Anderson, "Iterative procedures for nonlinear integral equations", J. ACM 12 (1965) 547–560;
Walker & Ni, "Anderson acceleration for fixed-point iterations", SIAM J. Numer. Anal. 49 (2011)
1715–1735.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


class Anderson:
    """History of a fixed-point iteration; :meth:`step` returns the accelerated point or None."""

    def __init__(self, memory: int = 5) -> None:
        self.memory = memory
        self._g: list[NDArray[np.float64]] = []
        self._f: list[NDArray[np.float64]] = []

    def reset(self) -> None:
        self._g.clear()
        self._f.clear()

    def step(self, x: NDArray[np.float64], gx: NDArray[np.float64]
             ) -> NDArray[np.float64] | None:
        """Record the pair (x, G(x)) and return the accelerated point (None until two pairs)."""
        self._g.append(gx.copy())
        self._f.append(gx - x)
        if len(self._f) > self.memory + 1:
            self._g.pop(0)
            self._f.pop(0)
        if len(self._f) < 2:
            return None
        dF = np.diff(np.stack(self._f, axis=1), axis=1)
        dG = np.diff(np.stack(self._g, axis=1), axis=1)
        gamma, *_ = np.linalg.lstsq(dF, self._f[-1], rcond=None)
        out = gx - dG @ gamma
        return out if np.all(np.isfinite(out)) else None
