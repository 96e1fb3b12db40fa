"""Numba options shared by the kernels.

Numba compiles each function with two entry points besides its native one, unless told not
to: a CPython wrapper (unboxing the arguments, boxing the result) and a C-callable wrapper (for
first-class function use). Each wrapper is lowered, optimized and compiled to machine code
with its function, and linked into every kernel that calls it. The kernels are never passed as
first-class functions, and the ``register_jitable`` functions are called only by other kernels
(from Python they run as plain Python), so:

- :data:`KERNEL`, for the ``@numba.njit`` entry points: no C-callable wrapper;
- :data:`INNER`, for the ``@register_jitable`` functions: no wrapper at all.

Both cache the compiled code on disk, release the GIL and follow NumPy's floating-point error
model (division by zero gives inf or nan instead of raising).
"""

KERNEL = {"cache": True, "nogil": True, "error_model": "numpy", "no_cfunc_wrapper": True}
INNER = {**KERNEL, "no_cpython_wrapper": True}
