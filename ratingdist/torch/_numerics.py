"""Tolerances that depend on the dtype, and the iteration caps of the solvers."""

from __future__ import annotations

import torch
from torch import Tensor

from .. import scale as _scale

#: Iteration caps of the solvers (each stops as soon as all rows have converged).
_NEWTON_MAXIT = 300
_LM_RETRIES = 16
_CF_MAXIT = 5000
_FIT_MAXIT = 500


# -- dtype-dependent tolerances ----------------------------------------------------------------
def _eps(x: Tensor) -> float:
    return torch.finfo(x.dtype).eps


def _tiny(x: Tensor) -> float:
    """A guard against division by zero, well above the underflow threshold of the dtype."""
    return torch.finfo(x.dtype).tiny * 1e8


def _feasibility_tol(x: Tensor, K: int) -> float:
    """Variances this far outside [v_min, v_max] are rounding and are moved onto the bound."""
    return max(_scale.FEASIBILITY_TOLERANCE, 16.0 * _eps(x) * K * K)


def _boundary_tol(x: Tensor) -> float:
    """Variances this close to v_min or v_max are on the boundary of the feasible region."""
    return max(_scale.BOUNDARY_TOLERANCE, 8.0 * _eps(x))
