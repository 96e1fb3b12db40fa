"""Whether Numba's on-disk cache already holds compiled code of given kernels.

A ``cache=True`` dispatcher keeps an index file ``<name>-<line>.py<version>.nbi`` in its cache
directory (``NUMBA_CACHE_DIR``, else ``__pycache__`` next to the source file where writable,
else a user-wide directory; ``numba.core.caching``). The index is a pickle of the Numba version,
the source file's stamp (modification time and size) and the compiled signatures; Numba loads
code only from an index of its own version with the current stamp. Reading the index is a few
small file reads, so the answer costs next to nothing next to a compilation.
"""

from __future__ import annotations

from collections.abc import Iterable


def on_disk(dispatchers: Iterable[object]) -> bool:
    """True if the on-disk cache holds compiled code of every one of ``dispatchers``.

    A function that is not a caching dispatcher (as under ``NUMBA_DISABLE_JIT=1``) needs no
    compilation and counts as held.
    """
    for dispatcher in dispatchers:
        index = getattr(getattr(dispatcher, "_cache", None), "_cache_file", None)
        if index is None:
            continue
        try:
            if not index._load_index():
                return False
        except Exception:  # an unreadable index is compiled again by Numba
            return False
    return True
