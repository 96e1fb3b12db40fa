"""The discrete maximum-entropy distribution on 1..K for a given mean and variance.

Among all pmfs on 1..K with mean ψ and variance v the one of largest entropy
H = −Σ p_k log p_k is p_k ∝ exp(λ₁k + λ₂k²) (λ₂ > 0 gives U shapes). Its maximum-likelihood
fit matches the sample mean and variance (it is a regular exponential family with sufficient
statistics k and k²), so fitting needs no optimization.

References
----------
Saupe, Rusek, Hägele, Weiskopf, Janowski, "Maximum entropy and quantized metric models for
absolute category ratings", IEEE Signal Processing Letters 31 (2024) 2970–2974.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import scale
from .._kernels import batch
from ._moment_params import MeanShapeFamily
from .base import first_bad


class MaxEnt(MeanShapeFamily):
    """Maximum-entropy pmf with mean ψ and shape ρ (variance ρ·v_min + (1 − ρ)·v_max)."""

    name = "maxent"

    def logpmf(self, params: ArrayLike, K: int = scale.DEFAULT_K) -> NDArray[np.float64]:
        """log p_k = λ₀ + λ₁k + λ₂k² with λ solving the moment constraints; (n, K)."""
        K = scale.check_K(K)
        p, single = self.check_params(params, K)
        out, ok = batch.maxent_logpmf(p, K)
        if not ok.all():
            i = first_bad(~ok)
            raise RuntimeError(f"maxent: moment equations not solved for row {i}: {p[i]}")
        return out[0] if single else out

    def lagrange_multipliers(
        self, params: ArrayLike, K: int = scale.DEFAULT_K
    ) -> NDArray[np.float64]:
        """(λ₁, λ₂) with p_k ∝ exp(λ₁k + λ₂k²); ±inf or NaN on the boundary (ρ ∈ {0, 1})."""
        lp = np.atleast_2d(self.logpmf(params, K))
        with np.errstate(invalid="ignore"):
            l2 = 0.5 * (lp[:, 2] - 2.0 * lp[:, 1] + lp[:, 0])
            l1 = lp[:, 1] - lp[:, 0] - 3.0 * l2
        out = np.column_stack([l1, l2])
        return out[0] if np.ndim(params) == 1 else out
