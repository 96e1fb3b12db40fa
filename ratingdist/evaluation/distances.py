"""Distances, divergences and scores between distributions on the rating scale 1..K.

Every function compares an observed (reference) distribution ``p`` with a predicted one ``q``,
given as pmfs over the categories 1..K:

- ``p`` and ``q`` are array-likes of shape (K,) or (n, K), one pmf per row; rows broadcast
  like numpy arrays, so one pmf can be compared with n others;
- the result has the broadcast shape without its last axis: (n,) for rows, a ``numpy.float64``
  (a ``float``) when both inputs are single pmfs;
- every row must be finite, non-negative and sum to 1 within 1e-6 (``ValueError`` naming the
  argument and the row otherwise); rows are divided by their sums before use;
- F_p(k) = Σ_{j≤k} p_j is the cdf at category k; the categories are one unit apart.

The count-based scores (:func:`nll_per_rating`, :func:`g_statistic`, :func:`rps_counts`) take
the observed ratings as counts (a :class:`~ratingdist.data.RatingCounts` or an (n, K) / (K,)
array of whole numbers, at least one rating per row) instead of ``p``.

:data:`METRICS` maps the names of the pmf-vs-pmf functions to the functions;
:func:`compare_distributions` tabulates several of them.

References
----------
Talebi, Milanfar, "NIMA: neural image assessment", IEEE Trans. Image Process. 27 (2018)
3998–4011 (EMD). Epstein, "A scoring system for probability forecasts of ranked categories",
J. Appl. Meteorol. 8 (1969) 985–987 (RPS). Lin, "Divergence measures based on the Shannon
entropy", IEEE Trans. Inf. Theory 37 (1991) 145–151 (JSD). Endres, Schindelin, "A new metric
for probability distributions", IEEE Trans. Inf. Theory 49 (2003) 1858–1860 (√JSD is a
metric). Cha, "Comprehensive survey on distance/similarity measures between probability density
functions", Int. J. Math. Models Methods Appl. Sci. 1 (2007) 300–307. Geng, "Label distribution
learning", IEEE Trans. Knowl. Data Eng. 28 (2016) 1734–1748 (Chebyshev, Clark, Canberra, KL,
cosine, intersection). Aitchison, "The statistical analysis of compositional data", Chapman &
Hall (1986) (clr, Aitchison distance).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .. import gof
from ..data import RatingCounts
from ..fitting import as_counts
from ..scale import check_K, moments_of_probs

#: One value per row: an (n,) array, or a numpy.float64 for two single pmfs.
Values = NDArray[np.float64] | np.float64
#: Largest |row sum − 1| accepted for a pmf.
ROW_SUM_TOLERANCE = 1e-6


# -- inputs ----------------------------------------------------------------------------------
def _pmf(x: ArrayLike, name: str) -> NDArray[np.float64]:
    """One pmf (K,) or rows of pmfs (n, K), checked and divided by the row sums."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim not in (1, 2):
        raise ValueError(f"{name} must be a pmf (K,) or rows of pmfs (n, K), got shape {a.shape}")
    check_K(a.shape[-1])
    rows = np.atleast_2d(a)
    bad = ~np.isfinite(rows) | (rows < 0)
    if bad.any():
        i, k = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} row {i}, category {k + 1}: value {rows[i, k].item()!r} is not a "
            "probability; pmfs must be finite and >= 0"
        )
    total = rows.sum(axis=1)
    off = np.abs(total - 1.0) > ROW_SUM_TOLERANCE
    if off.any():
        i = int(np.argmax(off))
        raise ValueError(
            f"{name} row {i} sums to {total[i].item()!r}, not 1 (tolerance {ROW_SUM_TOLERANCE:g});"
            " divide counts or weights by their row sum first"
        )
    return a / a.sum(axis=-1, keepdims=True)


def _same_scale(a: NDArray, b: NDArray, names: tuple[str, str]) -> None:
    """Raise unless the rows of a and b have the same K and broadcast against each other."""
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(
            f"{names[0]} has K = {a.shape[-1]} categories but {names[1]} has K = {b.shape[-1]}"
        )
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"{names[0]} has {a.shape[0]} rows and {names[1]} has {b.shape[0]}: give equally "
            "many rows, or a single pmf"
        ) from None


def _pmfs(p: ArrayLike, q: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Checked p and q (see the module docstring)."""
    P, Q = _pmf(p, "p"), _pmf(q, "q")
    _same_scale(P, Q, ("p", "q"))
    return P, Q


def _counts_and_pmf(
    counts: RatingCounts | ArrayLike, q: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Counts as floats (validated by RatingCounts) and the checked pmfs q."""
    c = counts.counts if isinstance(counts, RatingCounts) else np.asarray(counts)
    if c.ndim not in (1, 2):
        raise ValueError(f"counts must be (K,) or (n, K), got shape {c.shape}")
    as_counts(np.atleast_2d(c))
    C, Q = c.astype(np.float64), _pmf(q, "q")
    _same_scale(C, Q, ("counts", "q"))
    return C, Q


def _check_eps(eps: float) -> float:
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
    return float(eps)


def _smooth(P: NDArray[np.float64], eps: float) -> NDArray[np.float64]:
    """(x + eps)/(1 + K·eps): additive smoothing that keeps rows summing to 1."""
    return (P + eps) / (1.0 + P.shape[-1] * eps)


def _cdf(P: NDArray[np.float64]) -> NDArray[np.float64]:
    """F(1), …, F(K − 1) (F(K) = 1 for every pmf)."""
    return np.cumsum(P, axis=-1)[..., :-1]


def _relative_entropy(P: NDArray[np.float64], Q: NDArray[np.float64]) -> Values:
    """Σ_k p_k log(p_k/q_k) with 0·log 0 = 0; +inf where q_k = 0 < p_k; >= 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(P > 0, P * (np.log(P) - np.log(Q)), 0.0)
    return np.maximum(terms.sum(axis=-1), 0.0)


def _relative_differences(P: NDArray[np.float64], Q: NDArray[np.float64]) -> NDArray[np.float64]:
    """|p_k − q_k|/(p_k + q_k), with 0 where p_k = q_k = 0."""
    total = P + Q
    return np.where(total > 0, np.abs(P - Q) / np.where(total > 0, total, 1.0), 0.0)


# -- cdf-based distances and scores ----------------------------------------------------------
def emd(p: ArrayLike, q: ArrayLike, r: float = 2.0) -> Values:
    """Normalized earth mover's distance of NIMA.

    EMD_r(p, q) = ((1/K) Σ_{k=1}^{K} |F_p(k) − F_q(k)|^r)^{1/r}, r >= 1 (Talebi & Milanfar
    2018; r = 2 is their loss). The term k = K is 0. Relations: ``emd(p, q, 1)`` =
    ``wasserstein(p, q)``/K and ``emd(p, q, 2)**2`` = ``rps(p, q)``/K.

    Examples
    --------
    >>> from ratingdist.evaluation import emd
    >>> round(float(emd([0, 0, 1, 0, 0], [0, 0, 0, 1, 0])), 4)     # one F differs by 1
    0.4472
    >>> emd([[0.2] * 5, [0, 0, 1, 0, 0]], [0, 0, 1, 0, 0], r=1).tolist()
    [0.24, 0.0]
    """
    if not (np.isfinite(r) and r >= 1):
        raise ValueError(f"r must be a finite number >= 1, got {r!r}")
    P, Q = _pmfs(p, q)
    gaps = np.abs(_cdf(P) - _cdf(Q)) ** r
    return (gaps.sum(axis=-1) / P.shape[-1]) ** (1.0 / r)


def wasserstein(p: ArrayLike, q: ArrayLike) -> Values:
    """Wasserstein-1 distance with unit category spacing.

    W1(p, q) = Σ_{k=1}^{K−1} |F_p(k) − F_q(k)|: the least mass × distance to move p onto q
    (it equals ``scipy.stats.wasserstein_distance`` with values 1..K and weights p, q).
    ``emd(p, q, r=1)`` is W1/K.

    Examples
    --------
    >>> from ratingdist.evaluation import wasserstein
    >>> float(wasserstein([1, 0, 0, 0, 0], [0, 0, 0, 0, 1]))
    4.0
    """
    P, Q = _pmfs(p, q)
    return np.abs(_cdf(P) - _cdf(Q)).sum(axis=-1)


def rps(p: ArrayLike, q: ArrayLike) -> Values:
    """Ranked probability score between pmfs: Σ_{k=1}^{K−1} (F_q(k) − F_p(k))².

    The RPS of a forecast q for one rating y is Σ_{k=1}^{K−1} (F_q(k) − 1[y ≤ k])² (Epstein
    1969), a proper scoring rule. Its expectation over y ~ p is

        E_p[RPS(q, y)] = rps(p, q) + Σ_{k=1}^{K−1} F_p(k)(1 − F_p(k)),

    and the second term does not depend on q: ranking predictions by ``rps(p, q)`` is ranking
    them by their expected per-rating RPS. :func:`rps_counts` is the per-rating form on the
    observed ratings. ``rps(p, q)/K`` is ``emd(p, q, 2)**2``.

    Examples
    --------
    >>> from ratingdist.evaluation import rps
    >>> float(rps([0, 0, 1, 0, 0], [0, 0, 0.5, 0.5, 0]))
    0.25
    """
    P, Q = _pmfs(p, q)
    return ((_cdf(Q) - _cdf(P)) ** 2).sum(axis=-1)


def rps_counts(counts: RatingCounts | ArrayLike, q: ArrayLike) -> Values:
    """Mean ranked probability score of q over the observed ratings.

    (1/N) Σ_y Σ_{k=1}^{K−1} (F_q(k) − 1[y ≤ k])² over the N ratings y of a row. With p̂ =
    counts/N it equals ``rps(p̂, q)`` + Σ_k F_p̂(k)(1 − F_p̂(k)) (see :func:`rps`), so it is
    smallest at q = p̂.

    Examples
    --------
    >>> from ratingdist.evaluation import rps_counts
    >>> float(rps_counts([0, 0, 1, 1, 0], [0, 0, 0.5, 0.5, 0]))    # 0.25 + 0.25 uncertainty
    0.25
    >>> float(rps_counts([0, 0, 2, 0, 0], [0, 0, 0.5, 0.5, 0]))
    0.25
    """
    C, Q = _counts_and_pmf(counts, q)
    K = C.shape[-1]
    at_or_below = (np.arange(K)[:, None] <= np.arange(K - 1)[None, :]).astype(np.float64)
    # per_rating[..., j] = RPS of a rating j + 1: Σ_k (F_q(k) − 1[j + 1 ≤ k])²
    per_rating = ((_cdf(Q)[..., None, :] - at_or_below) ** 2).sum(axis=-1)
    return (C * per_rating).sum(axis=-1) / C.sum(axis=-1)


def mos_error(p: ArrayLike, q: ArrayLike) -> Values:
    """Absolute error of the implied MOS: |μ_q − μ_p| with μ = Σ_k k·p_k.

    μ_p − μ_q = Σ_{k=1}^{K−1} (F_q(k) − F_p(k)), so ``mos_error`` <= ``wasserstein``. The signed
    error is the difference of :func:`ratingdist.scale.moments_of_probs` means.

    Examples
    --------
    >>> from ratingdist.evaluation import mos_error
    >>> round(float(mos_error([0, 0, 1, 0, 0], [0, 0, 0.5, 0.5, 0])), 6)
    0.5
    """
    P, Q = _pmfs(p, q)
    return np.abs(moments_of_probs(Q)[0] - moments_of_probs(P)[0])


def sos_error(p: ArrayLike, q: ArrayLike) -> Values:
    """Absolute error of the implied SOS: |σ_q − σ_p|, σ the population sd of the pmf.

    σ² = Σ_k (k − μ)² p_k (divisor 1: the sd of the distribution itself, not a sample sd).

    Examples
    --------
    >>> from ratingdist.evaluation import sos_error
    >>> float(sos_error([0, 0, 1, 0, 0], [0, 0, 0.5, 0.5, 0]))
    0.5
    """
    P, Q = _pmfs(p, q)
    return np.abs(np.sqrt(moments_of_probs(Q)[1]) - np.sqrt(moments_of_probs(P)[1]))


# -- information-theoretic divergences -------------------------------------------------------
def kl(p: ArrayLike, q: ArrayLike, eps: float = 0.0) -> Values:
    """Kullback–Leibler divergence KL(p‖q) = Σ_k p_k log(p_k/q_k), natural log.

    0·log 0 = 0; the result is +inf where q_k = 0 < p_k. With ``eps`` > 0 both pmfs are first
    smoothed to (x + eps)/(1 + K·eps), which keeps KL finite. KL is not symmetric: the reverse
    divergence is ``kl(q, p)``. Equals ``scipy.stats.entropy(p, q)``; the G statistic of counts
    with N ratings is 2N·KL(p̂‖q) (:func:`g_statistic`).

    Examples
    --------
    >>> from ratingdist.evaluation import kl
    >>> round(float(kl([0.5, 0.5, 0, 0, 0], [0.25, 0.25, 0.25, 0.25, 0])), 6)   # log 2
    0.693147
    >>> float(kl([0, 0, 0, 0, 1], [0.25, 0.25, 0.25, 0.25, 0]))
    inf
    >>> round(float(kl([0, 0, 0, 0, 1], [0.25, 0.25, 0.25, 0.25, 0], eps=0.01)), 3)
    4.315
    """
    eps = _check_eps(eps)
    P, Q = _pmfs(p, q)
    return _relative_entropy(_smooth(P, eps), _smooth(Q, eps))


def jsd(p: ArrayLike, q: ArrayLike, base: float | None = None) -> Values:
    """Jensen–Shannon divergence ½KL(p‖m) + ½KL(q‖m), m = (p + q)/2 (Lin 1991).

    Symmetric, finite, between 0 and ln 2 (1 with ``base=2``); natural log unless ``base`` is
    given. ``scipy.spatial.distance.jensenshannon`` returns its square root, the
    Jensen–Shannon *distance*, which is a metric (Endres & Schindelin 2003):
    ``jsd(p, q, base)`` = ``jensenshannon(p, q, base)**2``.

    Examples
    --------
    >>> from ratingdist.evaluation import jsd
    >>> float(jsd([1, 0, 0, 0, 0], [0, 0, 0, 0, 1], base=2))
    1.0
    """
    if base is not None and not (np.isfinite(base) and base > 0 and base != 1):
        raise ValueError(f"base must be a positive number other than 1, got {base!r}")
    P, Q = _pmfs(p, q)
    M = (P + Q) / 2
    divergence = (_relative_entropy(P, M) + _relative_entropy(Q, M)) / 2
    return divergence if base is None else divergence / np.log(base)


# -- distances between the probability vectors ----------------------------------------------
def total_variation(p: ArrayLike, q: ArrayLike) -> Values:
    """Total variation distance ½ Σ_k |p_k − q_k| ∈ [0, 1] (= Bray–Curtis for pmfs).

    Examples
    --------
    >>> from ratingdist.evaluation import total_variation
    >>> float(total_variation([0.5, 0.5, 0, 0, 0], [0, 0.5, 0.5, 0, 0]))
    0.5
    """
    P, Q = _pmfs(p, q)
    return np.abs(P - Q).sum(axis=-1) / 2


def intersection(p: ArrayLike, q: ArrayLike) -> Values:
    """Histogram intersection Σ_k min(p_k, q_k) = 1 − TV(p, q), a similarity in [0, 1].

    Examples
    --------
    >>> from ratingdist.evaluation import intersection
    >>> float(intersection([0.5, 0.5, 0, 0, 0], [0, 0.5, 0.5, 0, 0]))
    0.5
    """
    P, Q = _pmfs(p, q)
    return np.minimum(P, Q).sum(axis=-1)


def chebyshev(p: ArrayLike, q: ArrayLike) -> Values:
    """Chebyshev distance max_k |p_k − q_k|.

    Examples
    --------
    >>> from ratingdist.evaluation import chebyshev
    >>> float(chebyshev([0.5, 0.5, 0, 0, 0], [0, 0.75, 0.25, 0, 0]))
    0.5
    """
    P, Q = _pmfs(p, q)
    return np.abs(P - Q).max(axis=-1)


def hellinger(p: ArrayLike, q: ArrayLike) -> Values:
    """Hellinger distance (1/√2)‖√p − √q‖₂ ∈ [0, 1]; H² = 1 − BC (Bhattacharyya coefficient).

    Examples
    --------
    >>> from ratingdist.evaluation import hellinger
    >>> float(hellinger([1, 0, 0, 0, 0], [0, 1, 0, 0, 0]))
    1.0
    """
    P, Q = _pmfs(p, q)
    return np.sqrt(((np.sqrt(P) - np.sqrt(Q)) ** 2).sum(axis=-1) / 2)


def bhattacharyya_coefficient(p: ArrayLike, q: ArrayLike) -> Values:
    """Bhattacharyya coefficient BC = Σ_k √(p_k q_k) ∈ [0, 1], a similarity (1 at p = q).

    Examples
    --------
    >>> from ratingdist.evaluation import bhattacharyya_coefficient
    >>> float(bhattacharyya_coefficient([0.5, 0.5, 0, 0, 0], [0, 0.5, 0.5, 0, 0]))
    0.5
    """
    P, Q = _pmfs(p, q)
    return np.sqrt(P * Q).sum(axis=-1)


def bhattacharyya(p: ArrayLike, q: ArrayLike) -> Values:
    """Bhattacharyya distance −log BC(p, q), BC = Σ_k √(p_k q_k); +inf for disjoint supports.

    Not a metric (no triangle inequality); :func:`hellinger` = √(1 − BC) is.

    Examples
    --------
    >>> from ratingdist.evaluation import bhattacharyya
    >>> round(float(bhattacharyya([0.5, 0.5, 0, 0, 0], [0, 0.5, 0.5, 0, 0])), 6)    # log 2
    0.693147
    """
    coefficient = np.minimum(bhattacharyya_coefficient(p, q), 1.0)
    with np.errstate(divide="ignore"):
        return -np.log(coefficient)


def cosine_similarity(p: ArrayLike, q: ArrayLike) -> Values:
    """Cosine similarity p·q/(‖p‖₂‖q‖₂) ∈ [0, 1] (1 − ``scipy.spatial.distance.cosine``).

    Examples
    --------
    >>> from ratingdist.evaluation import cosine_similarity
    >>> round(float(cosine_similarity([0.5, 0.5, 0, 0, 0], [0, 0.5, 0.5, 0, 0])), 6)
    0.5
    """
    P, Q = _pmfs(p, q)
    norms = np.sqrt((P**2).sum(axis=-1) * (Q**2).sum(axis=-1))
    return (P * Q).sum(axis=-1) / norms


def clark(p: ArrayLike, q: ArrayLike) -> Values:
    """Clark distance √(Σ_k ((p_k − q_k)/(p_k + q_k))²); terms with p_k = q_k = 0 are 0.

    Between 0 and √K (Geng 2016).

    Examples
    --------
    >>> from ratingdist.evaluation import clark
    >>> round(float(clark([0.5, 0.5, 0, 0, 0], [0, 0.5, 0.5, 0, 0])), 6)    # √2
    1.414214
    """
    P, Q = _pmfs(p, q)
    return np.sqrt((_relative_differences(P, Q) ** 2).sum(axis=-1))


def canberra(p: ArrayLike, q: ArrayLike) -> Values:
    """Canberra distance Σ_k |p_k − q_k|/(p_k + q_k); terms with p_k = q_k = 0 are 0.

    Between 0 and K; equals ``scipy.spatial.distance.canberra``.

    Examples
    --------
    >>> from ratingdist.evaluation import canberra
    >>> float(canberra([0.5, 0.5, 0, 0, 0], [0, 0.5, 0.5, 0, 0]))
    2.0
    """
    P, Q = _pmfs(p, q)
    return _relative_differences(P, Q).sum(axis=-1)


def aitchison(p: ArrayLike, q: ArrayLike, eps: float = 0.0) -> Values:
    """Aitchison distance ‖clr p − clr q‖₂, clr(p)_k = ln p_k − (1/K) Σ_j ln p_j.

    The distance of compositional data analysis (Aitchison 1986); it needs strictly positive
    pmfs. With ``eps`` > 0 both pmfs are first smoothed to (x + eps)/(1 + K·eps); with
    ``eps`` = 0 a zero probability raises ``ValueError``.

    Examples
    --------
    >>> from ratingdist.evaluation import aitchison
    >>> p = [0.1, 0.2, 0.4, 0.2, 0.1]
    >>> round(float(aitchison(p, [0.2, 0.2, 0.2, 0.2, 0.2])), 4)
    1.1599
    >>> round(float(aitchison([0, 0, 1, 0, 0], p, eps=0.01)), 3)
    3.304
    """
    eps = _check_eps(eps)
    P, Q = _pmfs(p, q)
    P, Q = _smooth(P, eps), _smooth(Q, eps)
    for name, X in (("p", P), ("q", Q)):
        zero = np.atleast_2d(X) == 0
        if zero.any():
            i, k = np.argwhere(zero)[0]
            raise ValueError(
                f"{name} row {i}, category {k + 1} is 0: the Aitchison distance needs strictly "
                "positive pmfs; pass eps > 0 to smooth them"
            )
    log_p, log_q = np.log(P), np.log(Q)
    clr_gap = (log_p - log_p.mean(axis=-1, keepdims=True)) - (
        log_q - log_q.mean(axis=-1, keepdims=True)
    )
    return np.sqrt((clr_gap**2).sum(axis=-1))


# -- scores of the observed counts -----------------------------------------------------------
def nll_per_rating(counts: RatingCounts | ArrayLike, q: ArrayLike) -> Values:
    """Cross-entropy of the observed ratings under q: −(1/N) Σ_k c_k log q_k.

    The negative log-likelihood :func:`ratingdist.gof.nll` divided by the number N of ratings
    of the row; exp(−value) is the geometric-mean likelihood of a rating. +inf if a rating falls
    in a category with q_k = 0.

    Examples
    --------
    >>> from ratingdist.evaluation import nll_per_rating
    >>> round(float(nll_per_rating([0, 0, 3, 1, 0], [0, 0, 0.5, 0.5, 0])), 6)   # log 2
    0.693147
    """
    C, Q = _counts_and_pmf(counts, q)
    return gof.nll(C, Q) / C.sum(axis=-1)


def g_statistic(counts: RatingCounts | ArrayLike, q: ArrayLike) -> Values:
    """G statistic 2 Σ_k c_k log(c_k/(N q_k)) = 2N·KL(p̂‖q), p̂ = counts/N.

    The same as :func:`ratingdist.gof.g_statistic`, with the inputs checked.

    Examples
    --------
    >>> from ratingdist.evaluation import g_statistic
    >>> round(float(g_statistic([0, 0, 2, 0, 0], [0, 0, 0.5, 0.5, 0])), 6)   # 4 log 2
    2.772589
    """
    C, Q = _counts_and_pmf(counts, q)
    return gof.g_statistic(C, Q)


# -- tables ----------------------------------------------------------------------------------
#: The pmf-vs-pmf functions by name (default arguments).
METRICS: dict[str, Callable[[ArrayLike, ArrayLike], Values]] = {
    "emd": emd,
    "wasserstein": wasserstein,
    "rps": rps,
    "mos_error": mos_error,
    "sos_error": sos_error,
    "kl": kl,
    "jsd": jsd,
    "total_variation": total_variation,
    "intersection": intersection,
    "chebyshev": chebyshev,
    "hellinger": hellinger,
    "bhattacharyya": bhattacharyya,
    "cosine_similarity": cosine_similarity,
    "clark": clark,
    "canberra": canberra,
    "aitchison": aitchison,
}
#: The columns of :func:`compare_distributions` by default: all of :data:`METRICS` except
#: ``aitchison``, which fails on pmfs with zeros.
DEFAULT_METRICS = tuple(name for name in METRICS if name != "aitchison")


def compare_distributions(
    p: ArrayLike,
    q: ArrayLike,
    metrics: Iterable[str] | Mapping[str, Callable[[ArrayLike, ArrayLike], ArrayLike]]
    | None = None,
) -> pd.DataFrame:
    """Table of distances between observed pmfs p and predicted pmfs q, one row per pmf.

    Parameters
    ----------
    p, q : (n, K) or (K,) pmfs, broadcast against each other as in every function here.
    metrics : names from :data:`METRICS` (default :data:`DEFAULT_METRICS`), or a mapping of
        column names to functions ``f(p, q)`` returning one value per row.

    Returns
    -------
    DataFrame with one column per metric and one row per (broadcast) row of p and q.

    Examples
    --------
    >>> from ratingdist.evaluation import compare_distributions
    >>> p = [[0, 0, 1, 0, 0], [0, 0.5, 0.5, 0, 0]]
    >>> compare_distributions(p, [0, 0, 0.5, 0.5, 0], ["wasserstein", "jsd"]).round(3)
       wasserstein    jsd
    0          0.5  0.216
    1          1.0  0.347
    """
    P, Q = _pmfs(p, q)
    if metrics is None:
        metrics = DEFAULT_METRICS
    if not isinstance(metrics, Mapping):
        names = list(metrics)
        unknown = [name for name in names if name not in METRICS]
        if unknown:
            raise ValueError(f"unknown metric {unknown[0]!r}; known: {', '.join(METRICS)}")
        metrics = {name: METRICS[name] for name in names}
    n = np.broadcast_shapes(np.atleast_2d(P).shape, np.atleast_2d(Q).shape)[0]
    return pd.DataFrame(
        {name: np.broadcast_to(np.asarray(f(p, q), float), (n,)) for name, f in metrics.items()}
    )
