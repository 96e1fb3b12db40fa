"""A single rating distribution with the verbs of a scipy.stats discrete distribution."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray


class FamilyLike(Protocol):
    """What a distribution uses of the family it came from (a :class:`ratingdist.Family`): its
    name and whether it is latent; latent families (the quantized metric models) also have
    ``latent_cdf(params, u, K)`` and ``latent_ppf(params, q, K)``."""

    name: str
    is_latent: bool


class RatingDistribution:
    """A distribution on the categories 1..K, like a frozen ``scipy.stats`` discrete one.

    Parameters
    ----------
    probs : probabilities of the categories 1..K (non-negative, summing to 1).
    family, params : the family and native parameters it came from, if any; quantized families
        add the latent-quality methods :meth:`latent_cdf` and :meth:`latent_ppf`.

    Examples
    --------
    >>> import ratingdist as rd
    >>> d = rd.family("gsd").freeze([3.5, 0.6])
    >>> round(d.mean(), 12), int(d.ppf(0.5)), d.support()
    (3.5, 4, (1, 5))
    """

    def __init__(self, probs: ArrayLike, family: FamilyLike | None = None, params=None):
        p = np.asarray(probs, dtype=np.float64)
        if p.ndim != 1 or len(p) < 3 or np.any(~np.isfinite(p)) or np.any(p < 0):
            raise ValueError(f"probs must be K >= 3 finite non-negative numbers, got {probs!r}")
        if abs(p.sum() - 1.0) > 1e-9:
            raise ValueError(f"probs must sum to 1, they sum to {p.sum()!r}")
        self.probs = p / p.sum()
        self.K = len(p)
        self.family = family
        self.params = None if params is None else np.asarray(params, dtype=np.float64)
        self._cdf = np.minimum(np.cumsum(self.probs), 1.0)
        self._cdf[-1] = 1.0

    def __repr__(self) -> str:
        name = self.family.name if self.family is not None else "rating"
        return f"RatingDistribution({name}, probs={np.round(self.probs, 4).tolist()})"

    def support(self) -> tuple[int, int]:
        """The categories' range (1, K)."""
        return 1, self.K

    def _index(self, k: ArrayLike) -> tuple[NDArray, NDArray[np.bool_]]:
        k = np.asarray(k, dtype=np.float64)
        inside = (k >= 1) & (k <= self.K) & (k == np.floor(k))
        return np.where(inside, k, 1).astype(int) - 1, inside

    def pmf(self, k: ArrayLike) -> NDArray[np.float64]:
        """P(rating = k); 0 outside 1..K or at non-integers."""
        idx, inside = self._index(k)
        return np.where(inside, self.probs[idx], 0.0)

    def logpmf(self, k: ArrayLike) -> NDArray[np.float64]:
        """log P(rating = k)."""
        with np.errstate(divide="ignore"):
            return np.log(self.pmf(k))

    def cdf(self, k: ArrayLike) -> NDArray[np.float64]:
        """P(rating ≤ k) for real k."""
        k = np.asarray(k, dtype=np.float64)
        idx = np.clip(np.floor(k).astype(int), 0, self.K) - 1
        return np.where(k < 1, 0.0, self._cdf[np.maximum(idx, 0)])

    def sf(self, k: ArrayLike) -> NDArray[np.float64]:
        """P(rating > k)."""
        return 1.0 - self.cdf(k)

    def ppf(self, q: ArrayLike) -> NDArray:
        """Category-valued quantile min{k : P(rating ≤ k) ≥ q} (cumulative sums within 1e-12
        of q count as reaching it)."""
        q = np.asarray(q, dtype=np.float64)
        if np.any((q < 0) | (q > 1)):
            raise ValueError("quantile levels must lie in [0, 1]")
        k = np.searchsorted(self._cdf, q - 1e-12, side="left") + 1
        return np.minimum(k, self.K)

    def rvs(self, size=None, random_state=None) -> NDArray:
        """Random ratings drawn with a numpy Generator (or seed)."""
        gen = np.random.default_rng(random_state)
        return gen.choice(np.arange(1, self.K + 1), size=size, p=self.probs)

    def mean(self) -> float:
        """Expected rating."""
        return float(self.probs @ np.arange(1, self.K + 1))

    def var(self) -> float:
        """Variance of the rating."""
        k = np.arange(1, self.K + 1)
        return float(self.probs @ (k - self.mean()) ** 2)

    def std(self) -> float:
        """Standard deviation of the rating."""
        return float(np.sqrt(self.var()))

    def entropy(self) -> float:
        """Shannon entropy −Σ p log p in nats (0·log 0 = 0)."""
        p = self.probs[self.probs > 0]
        return float(-(p * np.log(p)).sum())

    def _latent_family(self):
        if self.family is None or not self.family.is_latent:
            raise AttributeError("only quantized metric models have a latent quality")
        return self.family

    def latent_cdf(self, u: ArrayLike) -> NDArray[np.float64]:
        """cdf of the latent quality at rating-axis values u (quantized families)."""
        return self._latent_family().latent_cdf(self.params, u, self.K)

    def latent_ppf(self, q: ArrayLike) -> NDArray[np.float64]:
        """Quantiles of the latent quality on the rating axis (quantized families)."""
        return self._latent_family().latent_ppf(self.params, q, self.K)
