"""Numba-compiled kernels: log-pmfs with derivatives, per-stimulus solvers, parallel drivers.

Nothing here is public API; inputs are trusted (validated by the public functions).

Two kinds of kernels, for a short first-run compilation (the compiled code is cached on disk):

- ``@numba.njit``: the entry points called from Python (the drivers in ``batch`` and the other
  modules, the special functions), with ``jit.KERNEL`` options (no C-callable wrapper);
- ``@register_jitable``: the functions called only by other kernels, with ``jit.INNER`` options:
  compiled without a Python entry point (no wrapper to generate, optimize and compile to
  machine code for each of them); called from Python they run as plain Python. They take
  runtime values, not compile-time literals, so each is compiled once for all families (a
  literal family code or flag would compile the whole call tree below it again).
"""
