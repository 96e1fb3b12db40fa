"""Families parametrized directly by the mean ψ and the shape ρ (maximum entropy, GSD)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import scale
from .base import BoundsDict, Family


class MeanShapeFamily(Family):
    """A family with native parameters (ψ, ρ): the mean and ρ = (v_max − v)/(v_max − v_min).

    Such a family covers the closed feasible region, so every (ψ, ρ) in [1, K] × [0, 1] has a
    pmf, limits included.
    """

    param_names = ("psi", "rho")

    def natural_bounds(self, K: int = scale.DEFAULT_K) -> BoundsDict:
        return {"psi": (1.0, float(scale.check_K(K))), "rho": (0.0, 1.0)}

    def reference_bounds(self, K: int = scale.DEFAULT_K) -> BoundsDict:
        return self.natural_bounds(K)

    def from_moments(
        self, mean: ArrayLike, var: ArrayLike, K: int = scale.DEFAULT_K
    ) -> NDArray[np.float64]:
        """(ψ, ρ) = (mean, (v_max − v)/(v_max − v_min)); ρ = 0.5 where v_max = v_min."""
        m, v = scale.check_moments(mean, var, K)
        m, v = m.ravel(), v.ravel()
        return np.column_stack([m, scale.rho_from_var(m, v, K)])

    def moments(
        self, params: ArrayLike, K: int = scale.DEFAULT_K
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Mean ψ and variance ρ·v_min(ψ) + (1 − ρ)·v_max(ψ), in closed form."""
        p, single = self.check_params(params, K)
        mean, var = p[:, 0], scale.var_from_rho(p[:, 0], p[:, 1], K)
        return (mean[0], var[0]) if single else (mean, var)
