"""The generalized score distribution (GSD), exact.

Parameters ψ ∈ [1, K] (the mean) and ρ ∈ [0, 1] (variance ρ·v_min + (1 − ρ)·v_max). With
C(ψ) = ((K − 2)/(K − 1))·v_max/(v_max − v_min) (C = 1 where v_max = v_min):

- ρ < C: reparametrized beta-binomial, α = (ψ − 1)ρ/((K − 1)(C − ρ)),
  β = (K − ψ)ρ/((K − 1)(C − ρ)), on K − 1 trials shifted by one;
- ρ = C: Binomial(K − 1, (ψ − 1)/(K − 1)) shifted by one;
- ρ > C: ((ρ − C)/(1 − C))·max(0, 1 − |k − ψ|) + ((1 − ρ)/(1 − C))·Binomial.

References
----------
Ćmiel, Nawała, Janowski, Rusek, "Generalised score distribution: underdispersed continuation of
the beta-binomial distribution", Statistical Papers (2023), doi:10.1007/s00362-023-01398-0.
Janowski, Ćmiel, Rusek, Nawała, Li, "Generalized score distribution", arXiv:1909.04369.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import scale
from .._kernels import batch
from ._moment_params import MeanShapeFamily


class GSD(MeanShapeFamily):
    """Generalized score distribution with mean ψ and shape ρ."""

    name = "gsd"

    def logpmf(self, params: ArrayLike, K: int = scale.DEFAULT_K) -> NDArray[np.float64]:
        """Exact GSD log-pmf (n, K) from the closed form (no interpolated table)."""
        K = scale.check_K(K)
        p, single = self.check_params(params, K)
        out = batch.gsd_logpmf(p, K)
        return out[0] if single else out

    @staticmethod
    def binomial_shape(mean: ArrayLike, K: int = scale.DEFAULT_K) -> NDArray[np.float64]:
        """C(ψ), the ρ at which the GSD is the shifted binomial."""
        m = np.asarray(mean, dtype=np.float64)
        lo, hi = scale.v_min(m), scale.v_max(m, K)
        width = hi - lo
        with np.errstate(invalid="ignore", divide="ignore"):
            c = (K - 2.0) / (K - 1.0) * hi / np.where(width > 0, width, 1.0)
        return np.where(width > 0, c, 1.0)
