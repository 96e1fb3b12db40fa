"""The interface every rating-distribution family implements.

A family is a two-parameter set of pmfs on the categories 1..K. All methods are vectorized over
stimuli: ``params`` is an array of shape (n, 2) (or (2,) for one stimulus) in the family's
native parameters, and results have a leading axis of length n (dropped again for (2,) input).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import scale
from ..data import RatingCounts
from ..frozen import RatingDistribution

#: Box constraints of the reference study's fitting code, by family (``bounds="reference"``).
BoundsDict = dict[str, tuple[float, float]]


def as_params(params: ArrayLike, name: str) -> tuple[NDArray[np.float64], bool]:
    """Return ``params`` as a float (n, 2) array and whether the input was a single row."""
    p = np.asarray(params, dtype=np.float64)
    single = p.ndim == 1
    p = np.atleast_2d(p)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(
            f"{name}: params must have shape (n, 2) or (2,), got {np.shape(params)}"
        )
    return p, single


def first_bad(mask: NDArray[np.bool_]) -> int:
    """Index of the first True entry of a boolean array."""
    return int(np.flatnonzero(mask)[0])


def least_spread_pmf(mean: NDArray[np.float64], K: int) -> NDArray[np.float64]:
    """pmf on ⌊ψ⌋ and ⌈ψ⌉ with mean ψ: q_k = max(0, 1 − |k − ψ|) (variance v_min(ψ))."""
    k = scale.support(K)
    return np.maximum(0.0, 1.0 - np.abs(k - mean[:, None]))


def extremes_pmf(mean: NDArray[np.float64], K: int) -> NDArray[np.float64]:
    """pmf on 1 and K with mean ψ (variance v_max(ψ))."""
    out = np.zeros((len(mean), K))
    out[:, 0] = (K - mean) / (K - 1.0)
    out[:, -1] = (mean - 1.0) / (K - 1.0)
    return out


class Family(ABC):
    """A two-parameter family of distributions on the rating scale 1..K.

    Subclasses define :attr:`name`, :attr:`param_names`, :meth:`natural_bounds`,
    :meth:`reference_bounds`, :meth:`logpmf` and :meth:`from_moments`.
    """

    #: Registry name, e.g. ``"logit-logistic"``.
    name: str
    #: Names of the two native parameters.
    param_names: tuple[str, str]
    #: True for quantized metric models, which have a continuous latent quality.
    is_latent: bool = False
    #: Names of the reference study's parameters (:meth:`reference_params`).
    reference_param_names: tuple[str, str] | None = None

    def __repr__(self) -> str:
        return f"rd.family({self.name!r})"

    # -- parameters -------------------------------------------------------------------------
    @abstractmethod
    def natural_bounds(self, K: int = scale.DEFAULT_K) -> BoundsDict:
        """Closed range of each native parameter over which the pmf is defined."""

    @abstractmethod
    def reference_bounds(self, K: int = scale.DEFAULT_K) -> BoundsDict:
        """The box constraints of the reference study's fitting code."""

    def reference_params(self, params: ArrayLike) -> NDArray[np.float64]:
        """The reference study's parameters from native ones, same shape; the native ones
        themselves unless a family overrides it (logit-logistic: (logit_mu, s) → (μ, s))."""
        return np.array(params, dtype=np.float64)

    def from_reference_params(self, ref: ArrayLike) -> NDArray[np.float64]:
        """Native parameters from the reference study's (inverse of :meth:`reference_params`)."""
        return np.array(ref, dtype=np.float64)

    def bounds(self, mode: str = "natural", K: int = scale.DEFAULT_K) -> BoundsDict:
        """Parameter bounds: ``"natural"`` (the family's domain) or ``"reference"``."""
        if mode == "natural":
            return self.natural_bounds(K)
        if mode == "reference":
            return self.reference_bounds(K)
        raise ValueError(f"bounds mode must be 'natural' or 'reference', got {mode!r}")

    def check_params(self, params: ArrayLike, K: int = scale.DEFAULT_K) -> tuple:
        """Validate native parameters; returns the (n, 2) array and the single-row flag."""
        p, single = as_params(params, self.name)
        for j, (pname, (lo, hi)) in enumerate(self.natural_bounds(K).items()):
            col = p[:, j]
            bad = ~np.isfinite(col) | (col < lo) | (col > hi)
            if bad.any():
                i = first_bad(bad)
                raise ValueError(
                    f"{self.name}: parameter {pname} of row {i} is {float(col[i])!r}, outside "
                    f"[{lo}, {hi}]"
                )
        return p, single

    # -- probabilities ---------------------------------------------------------------------
    @abstractmethod
    def logpmf(self, params: ArrayLike, K: int = scale.DEFAULT_K) -> NDArray[np.float64]:
        """log-probabilities of the categories 1..K, shape (n, K) (or (K,))."""

    def pmf(self, params: ArrayLike, K: int = scale.DEFAULT_K) -> NDArray[np.float64]:
        """Probabilities of the categories 1..K, shape (n, K) (or (K,))."""
        return np.exp(self.logpmf(params, K))

    def moments(
        self, params: ArrayLike, K: int = scale.DEFAULT_K
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Mean and variance of the rating distribution, each (n,) (or scalars)."""
        mean, var = scale.moments_of_probs(self.pmf(params, K))
        return mean, var

    # -- mean/variance parameterization ----------------------------------------------------
    @abstractmethod
    def from_moments(
        self, mean: ArrayLike, var: ArrayLike, K: int = scale.DEFAULT_K
    ) -> NDArray[np.float64]:
        """Native parameters (n, 2) of the family member with the given mean and variance.

        Defined on the whole feasible region v_min(ψ) ≤ v ≤ v_max(ψ); on its boundary the
        parameters are the limit values documented by the family, and
        :meth:`pmf_from_moments` gives the limit distribution itself.
        """

    def pmf_from_moments(
        self, mean: ArrayLike, var: ArrayLike, K: int = scale.DEFAULT_K
    ) -> NDArray[np.float64]:
        """pmf (n, K) of the family member with the given mean and variance.

        On the boundary of the feasible region every family tends to the same limit: the
        least-spread pmf on ⌊ψ⌋, ⌈ψ⌉ at v = v_min and the pmf on {1, K} at v = v_max.
        """
        m, v = scale.check_moments(mean, var, K)
        m, v = m.ravel(), v.ravel()
        at_min, at_max = scale.on_boundary(m, v, K)
        inner = ~(at_min | at_max)
        out = np.empty((len(m), K))
        out[at_min] = least_spread_pmf(m[at_min], K)
        out[at_max] = extremes_pmf(m[at_max], K)
        if inner.any():
            out[inner] = self._interior_pmf_from_moments(m[inner], v[inner], K)
        return out

    def _interior_pmf_from_moments(
        self, mean: NDArray[np.float64], var: NDArray[np.float64], K: int
    ) -> NDArray[np.float64]:
        """pmf of interior (mean, variance) pairs, through the native parameters."""
        return self.pmf(self.from_moments(mean, var, K), K)

    # -- conveniences ----------------------------------------------------------------------
    def freeze(self, params: ArrayLike, K: int = scale.DEFAULT_K) -> RatingDistribution:
        """One distribution (a single parameter row) as a scipy.stats-like object."""
        p, _ = as_params(params, self.name)
        if len(p) != 1:
            raise ValueError(f"freeze takes one parameter row, got {len(p)}")
        return RatingDistribution(self.pmf(p[0], K), family=self, params=p[0])

    def sample_counts(
        self,
        params: ArrayLike,
        n_ratings: ArrayLike,
        rng: np.random.Generator | int | None = None,
        K: int = scale.DEFAULT_K,
    ) -> RatingCounts:
        """Draw synthetic rating counts, one multinomial sample per parameter row.

        Parameters
        ----------
        params : (n, 2) native parameters.
        n_ratings : number of ratings per stimulus, scalar or (n,).
        rng : a ``numpy.random.Generator`` (or a seed) for reproducible draws.

        Examples
        --------
        >>> import ratingdist as rd
        >>> c = rd.family("normal").sample_counts([[3.2, 0.8]] * 3, 24, rng=1)
        >>> c.counts.sum(axis=1).tolist()
        [24, 24, 24]
        """
        probs = np.atleast_2d(self.pmf(params, K))
        n = np.broadcast_to(np.asarray(n_ratings), (len(probs),))
        if np.any(n < 1) or not np.all(np.equal(np.mod(n, 1), 0)):
            raise ValueError(f"n_ratings must be positive integers, got {n_ratings!r}")
        gen = np.random.default_rng(rng)
        probs = probs / probs.sum(axis=1, keepdims=True)
        counts = gen.multinomial(n.astype(np.int64), probs)
        return RatingCounts(np.arange(len(probs)), counts)
