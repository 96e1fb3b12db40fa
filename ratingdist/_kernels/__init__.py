"""Numba-compiled kernels: log-pmfs with derivatives, per-stimulus solvers, parallel drivers.

Nothing here is public API; inputs are trusted (validated by the public functions).
"""
