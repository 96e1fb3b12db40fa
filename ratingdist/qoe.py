"""Quality-of-experience (QoE) figures of rating distributions, with confidence intervals.

Every function takes the ratings in one of these forms and works on all stimuli at once:

- *counts*: a :class:`~ratingdist.data.RatingCounts` or an (n, K) array of rating counts: the
  figure of the empirical distribution (the sample);
- a :class:`~ratingdist.fitting.FitResult`: the figure of the fitted model;
- an :class:`~ratingdist.adaptive.AdaptiveResult` (``rd.fit_adaptive``): the figure of the
  model under its learned thresholds (and lapse), one value per cell (stimulus × group) in the
  order of ``res.cells``. Category figures (%GoB, %PoW, MOS, category quantiles) use the
  cell's probabilities, lapse included; latent quantiles are those of the stimulus' latent
  quality μ_j + σ_j F⁻¹(α) on the latent axis whose category boundaries are the group's
  learned thresholds (``res.thresholds``), not k + ½: "90 % of users rate fair or better"
  is ``level_reached_by(res, 0.9) >= τ_2`` (the lapse, which draws categories at random, is
  not part of the latent quality).

Figures of the rating U on the scale 1..K (Hoßfeld et al. 2016): MOS = E[U]; SOS = sd(U);
%GoB = P(U ≥ K − 1) ("good or better"); %PoW = P(U ≤ 2) ("poor or worse"); the
θ-acceptability P(U ≥ θ); the SOS parameter a of SOS² = a·(MOS − 1)(K − MOS).

Quantiles come in two kinds (``kind=``):

- ``"latent"`` (the default for quantized metric models): F⁻¹(α) of the fitted continuous latent
  quality X on the rating axis (category k covers the latent interval between the thresholds
  around it; with the reference thresholds k ± 0.5). ``level_reached_by(fit, φ)`` = F⁻¹(1 − φ)
  is the quality level that a share φ of users reach or exceed, and
  ``share_reaching(fit, u)`` = P(X ≥ u) its inverse (Saupe et al. 2024).
- ``"category"``: the integer-valued quantile min{k : P(U ≤ k) ≥ α} of the ratings themselves
  (Hoßfeld et al. 2016): the only kind for counts and for the discrete families (maxent, GSD),
  which have no latent variable. Asking for a quantile of those without ``kind="category"``
  raises ``ValueError``.

Confidence intervals: :func:`mos_ci` (Student t), :func:`prob_ci`, :func:`gob_ci`,
:func:`pow_ci` (Wilson or Wald), :func:`sos_hypothesis` (least squares through the origin), and
:func:`bootstrap_ci` for any figure (multinomial bootstrap from the counts, or parametric
bootstrap from the fitted model with a refit of every replicate; BCa, percentile or normal
intervals).

Example: which KonIQ-10k images does 90 % of the crowd rate fair (3) or better, i.e. whose
latent 10 % quantile lies above the poor/fair threshold 2.5? ::

    import ratingdist as rd
    counts = rd.datasets.load("koniq10k")
    ll = rd.fit(counts, "logit-logistic")
    model = rd.qoe.level_reached_by(ll, 0.9) >= 2.5          # latent 10 % quantile
    sample = rd.qoe.share_reaching(counts, 3, kind="category") >= 0.9   # share of ratings ≥ 3
    model.sum(), sample.sum()    # 6003 and 5948 of the 10,073 images; 5915 in both

References
----------
Hoßfeld, Heegaard, Varela, Möller, "QoE beyond the MOS: an in-depth look at QoE via better
metrics and their relation to MOS", Quality and User Experience 1:2 (2016).
Hoßfeld, Schatz, Egger, "SOS: the MOS is not enough!", QoMEX 2011.
Saupe, Rusek, Hägele, Weiskopf, Janowski, "Maximum entropy and quantized metric models for
absolute category ratings", IEEE Signal Processing Letters 31 (2024) 2970–2974.
Davison, Hinkley, "Bootstrap methods and their application", Cambridge (1997), ch. 2 and 5.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from . import scale
from ._kernels.bootstrap import resample_counts, weighted_row_sums
from .adaptive import AdaptiveResult, CellModel
from .data import RatingCounts
from .fitting import FitResult, as_counts, fit

#: Input of every function: counts (empirical figures) or a fit (model figures; an adaptive fit
#: gives one value per cell, stimulus × group, in the order of ``res.cells``).
Source = RatingCounts | FitResult | AdaptiveResult | ArrayLike
#: A figure computed row-wise: a source in, one value per stimulus out.
Statistic = Callable[[RatingCounts | FitResult], ArrayLike]

#: Slack for comparing cumulative probabilities with a quantile level (rounding in sums).
_TOLERANCE = 1e-12
_KINDS = ("latent", "category")
_BOOTSTRAP_METHODS = ("multinomial", "parametric")
_INTERVALS = ("bca", "percentile", "normal")
_PROPORTION_METHODS = ("wilson", "wald")
_SOS_METHODS = ("ols", "bootstrap")


# -- inputs ----------------------------------------------------------------------------------
def _split(x: Source) -> tuple[FitResult | CellModel | None, RatingCounts]:
    """The fit (None for counts; an adaptive fit's :class:`CellModel`) and the counts behind
    ``x``."""
    if isinstance(x, AdaptiveResult):
        x = x.cell_model()
    if isinstance(x, FitResult | CellModel):
        return x, x.counts
    return None, as_counts(x)


def _counts_only(x: Source, what: str) -> RatingCounts:
    if isinstance(x, FitResult | AdaptiveResult | CellModel):
        raise TypeError(
            f"{what} is an interval for the sample: pass counts (e.g. fit.counts), or use "
            "bootstrap_ci for a figure of the fitted model"
        )
    return as_counts(x)


def _per_stimulus(values: ArrayLike, n: int, name: str) -> NDArray[np.float64]:
    """A scalar or an (n,) array as a float (n,) array."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 0:
        return np.full(n, float(v))
    if v.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have shape ({n},), got {v.shape}")
    return v


def _levels(values: ArrayLike, n: int, name: str) -> NDArray[np.float64]:
    """Probability levels in [0, 1], a scalar or one per stimulus."""
    v = _per_stimulus(values, n, name)
    if np.any(~(v >= 0) | (v > 1)):
        raise ValueError(f"{name} must lie in [0, 1], got {values!r}")
    return v


def _check_confidence(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"level (the confidence level) must lie in (0, 1), got {level!r}")
    return float(level)


def _check_choice(value: str, choices: tuple[str, ...], name: str) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def _kind(fitted: FitResult | None, kind: str | None) -> str:
    """Resolve the kind of quantile: latent for quantized fits, category only on request."""
    latent = fitted is not None and fitted.family.is_latent
    if kind is None:
        if latent:
            return "latent"
        source = "rating counts have" if fitted is None else f"the {fitted.family.name} family has"
        raise ValueError(
            f"{source} no continuous latent quality, so its quantiles are categories: pass "
            "kind='category' (or fit a quantized family such as 'logit-logistic')"
        )
    _check_choice(kind, _KINDS, "kind")
    if kind == "latent" and not latent:
        return _kind(fitted, None)
    return kind


# -- distributions ---------------------------------------------------------------------------
def _sums(x: Source, weights: NDArray) -> NDArray[np.float64]:
    """Row sums S_j = Σ_k c_k w_kj (counts) or Σ_k p_k w_kj (fit), with S_0 = Σ_k c_k (or p_k).

    ``weights`` is (K,) or (K, j); the result is (n, 1 + j).
    """
    fitted, counts = _split(x)
    w = np.asarray(weights, dtype=np.float64).reshape(counts.K, -1)
    return weighted_row_sums(counts.counts if fitted is None else fitted.probs, w)


def _share(x: Source, categories: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Σ_{k in categories} p_k per row."""
    s = _sums(x, categories)
    return s[:, 1] / s[:, 0]


def _moments(x: Source) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Mean, population variance and number of ratings N of every stimulus.

    From S₀ = Σ c_k, S₁ = Σ c_k k, S₂ = Σ c_k k²: mean = S₁/S₀, var = (S₀S₂ − S₁²)/S₀², which
    for counts is exact in float64 (integers below 2⁵³) for N < 10⁷.
    """
    fitted, counts = _split(x)
    k = scale.support(counts.K)
    s0, s1, s2 = _sums(x, np.column_stack([k, k * k])).T
    var = np.maximum(s0 * s2 - s1 * s1, 0.0) / (s0 * s0)
    n = s0 if fitted is None else counts.n_ratings.astype(np.float64)
    return s1 / s0, var, n


def probabilities(x: Source) -> NDArray[np.float64]:
    """Probabilities (n, K) of the ratings 1..K: the empirical pmf c_k/N, or the fitted pmf.

    Examples
    --------
    >>> from ratingdist import qoe
    >>> qoe.probabilities([[1, 0, 3, 0, 0]]).tolist()
    [[0.25, 0.0, 0.75, 0.0, 0.0]]
    """
    fitted, counts = _split(x)
    p = counts.counts.astype(np.float64) if fitted is None else fitted.probs
    return p / p.sum(axis=1, keepdims=True)


def mos(x: Source) -> NDArray[np.float64]:
    """Mean opinion score MOS = Σ_k k·p_k, shape (n,).

    Examples
    --------
    >>> from ratingdist import qoe
    >>> qoe.mos([[0, 0, 25, 73, 7]]).round(4).tolist()
    [3.8286]
    """
    return _moments(x)[0]


def sos(x: Source, ddof: int | None = None) -> NDArray[np.float64]:
    """Standard deviation of opinion scores, SOS = √(Σ_k c_k (k − MOS)² / (N − ddof)), (n,).

    Parameters
    ----------
    x : counts or a fit.
    ddof : delta degrees of freedom. Default 1 for counts (the sample standard deviation, as in
        Hoßfeld's ``QoEmetrics.m``; NaN for a single rating) and 0 for a fit (the standard
        deviation of the fitted distribution).

    Examples
    --------
    >>> from ratingdist import qoe
    >>> qoe.sos([[0, 0, 2, 2, 0]]).round(4).tolist()
    [0.5774]
    >>> qoe.sos([[0, 0, 2, 2, 0]], ddof=0).tolist()
    [0.5]
    """
    _, var, n = _moments(x)
    if ddof is None:
        ddof = 0 if _split(x)[0] is not None else 1
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(var * n / (n - ddof))


def prob(x: Source, categories: Iterable[int]) -> NDArray[np.float64]:
    """Probability P(U ∈ categories) of a set of rating categories (1..K), shape (n,).

    Examples
    --------
    >>> from ratingdist import qoe
    >>> qoe.prob([[1, 2, 3, 4, 0]], [1, 5]).tolist()
    [0.1]
    """
    K = _split(x)[1].K
    cats = np.asarray(list(categories), dtype=np.float64)
    if cats.size == 0 or np.any((cats < 1) | (cats > K) | (cats != np.round(cats))):
        raise ValueError(f"categories must be whole numbers in 1..{K}, got {categories!r}")
    return _share(x, np.isin(scale.support(K), cats))


def acceptability(x: Source, theta: ArrayLike) -> NDArray[np.float64]:
    """θ-acceptability A_θ = P(U ≥ θ) of the ratings, shape (n,); θ scalar or (n,).

    For a quantized fit this is the category probability, which equals the latent
    P(X ≥ threshold below ⌈θ⌉); :func:`share_reaching` gives P(X ≥ u) at any u.

    Examples
    --------
    >>> from ratingdist import qoe
    >>> qoe.acceptability([[1, 2, 3, 4, 0]], 3).tolist()
    [0.7]
    """
    K = _split(x)[1].K
    if np.ndim(theta) == 0:
        return _share(x, scale.support(K) >= float(theta))
    p = probabilities(x)
    t = _per_stimulus(theta, len(p), "theta")
    return np.where(scale.support(K)[None, :] >= t[:, None], p, 0.0).sum(axis=1)


def gob(x: Source, good: int | None = None) -> NDArray[np.float64]:
    """%GoB ("good or better") = P(U ≥ good) as a fraction, shape (n,); good = K − 1 default.

    Examples
    --------
    >>> from ratingdist import qoe
    >>> qoe.gob([[0, 0, 25, 73, 7]]).round(4).tolist()
    [0.7619]
    """
    _, counts = _split(x)
    return acceptability(x, counts.K - 1 if good is None else good)


def pow(x: Source, poor: int = 2) -> NDArray[np.float64]:
    """%PoW ("poor or worse") = P(U ≤ poor) as a fraction, shape (n,).

    Named as in the QoE literature; it shadows the builtin ``pow`` inside this module only.

    Examples
    --------
    >>> from ratingdist import qoe
    >>> qoe.pow([[5, 13, 6, 0, 0]]).tolist()
    [0.75]
    """
    return _share(x, scale.support(_split(x)[1].K) <= poor)


# -- quantiles ---------------------------------------------------------------------------------
def quantile(x: Source, alpha: ArrayLike, kind: str | None = None) -> NDArray[np.float64]:
    """α-quantile of quality on the rating axis, shape (n,); α scalar or (n,).

    - ``kind="latent"`` (default for quantized fits): Q_α = F⁻¹(α) of the latent quality X,
      mapped to the rating axis (u = 0.5 + K·x for the unit-interval families). Closed forms:
      normal μ + σΦ⁻¹(α), logistic μ + s·logit α, beta 0.5 + K·I⁻¹_α(a, b), Kumaraswamy
      0.5 + K(1 − (1 − α)^{1/b})^{1/a}, logit-logistic 0.5 + K·expit(logit_mu + s·logit α).
      Fits that are a limit of the family (ratings in one category, two neighbouring ones or
      only 1 and K; ``fit.limit``) have a degenerate latent law: all its mass at the category
      (one category) or at the threshold between the two; for 1 and K, mass p₁ at the lower
      end of the latent axis (−∞, or 0.5 for the unit-interval families) and p_K at the upper
      end. Their quantiles are those of that limit.
    - ``kind="category"``: Q_α = min{k : P(U ≤ k) ≥ α}, a category 1..K (returned as float),
      of the empirical or fitted pmf — the only kind for counts and discrete families.

    Examples
    --------
    >>> import ratingdist as rd
    >>> from ratingdist import qoe
    >>> res = rd.fit([[0, 0, 25, 73, 7]], "normal")
    >>> qoe.quantile(res, 0.1).round(2).tolist()
    [3.25]
    >>> qoe.quantile([[0, 0, 25, 73, 7]], 0.1, kind="category").tolist()
    [3.0]
    """
    fitted, counts = _split(x)
    a = _levels(alpha, len(counts), "alpha")
    if _kind(fitted, kind) == "category":
        cdf = np.cumsum(probabilities(x), axis=1)
        k = (cdf < a[:, None] - _TOLERANCE).sum(axis=1) + 1
        return np.minimum(k, counts.K).astype(np.float64)
    return _latent_quantile(fitted, a)


def level_reached_by(x: Source, share: ArrayLike, kind: str | None = None) -> NDArray[np.float64]:
    """The quality level that a share φ of users reach or exceed, shape (n,); φ scalar or (n,).

    - ``kind="latent"``: F⁻¹(1 − φ) of the latent quality on the rating axis, i.e.
      ``quantile(x, 1 − φ)`` (Hoßfeld et al.: "the 10 % quantile is the level that 90 % of
      users reach or exceed").
    - ``kind="category"``: max{k : P(U ≥ k) ≥ φ}, the best category that at least a share φ of
      the ratings reach. It equals the category quantile Q_{1−φ} except where P(U ≤ k) = 1 − φ
      exactly for some k, where Q_{1−φ} is one category too low.

    Examples
    --------
    >>> import ratingdist as rd
    >>> from ratingdist import qoe
    >>> res = rd.fit([[0, 0, 25, 73, 7]], "logit-logistic")
    >>> qoe.level_reached_by(res, 0.9).round(2).tolist()
    [3.21]
    >>> qoe.level_reached_by([[1, 9, 0, 0, 0]], 0.9, kind="category").tolist()
    [2.0]
    """
    fitted, counts = _split(x)
    phi = _levels(share, len(counts), "share")
    if _kind(fitted, kind) == "category":
        tail = np.cumsum(probabilities(x)[:, ::-1], axis=1)[:, ::-1]
        return (tail >= phi[:, None] - _TOLERANCE).sum(axis=1).astype(np.float64)
    return _latent_quantile(fitted, 1.0 - phi)


def share_reaching(x: Source, level: ArrayLike, kind: str | None = None) -> NDArray[np.float64]:
    """Share of users whose quality reaches or exceeds a level u, shape (n,); u scalar or (n,).

    ``kind="latent"``: P(X ≥ u) = 1 − F(u) of the latent quality (u on the rating axis), so
    that ``share_reaching(fit, level_reached_by(fit, φ)) = φ`` (for fits that are not limits).
    ``kind="category"``: P(U ≥ u), the θ-acceptability of the ratings.

    Examples
    --------
    >>> import ratingdist as rd
    >>> from ratingdist import qoe
    >>> res = rd.fit([[0, 0, 25, 73, 7]], "normal")
    >>> qoe.share_reaching(res, 3.5).round(3).tolist()
    [0.766]
    >>> qoe.share_reaching([[0, 0, 25, 73, 7]], 4, kind="category").round(3).tolist()
    [0.762]
    """
    fitted, counts = _split(x)
    u = _per_stimulus(level, len(counts), "level")
    if _kind(fitted, kind) == "category":
        return acceptability(x, u)
    fam, K = fitted.family, counts.K
    out = np.empty(len(u))
    smooth = ~fitted.limit
    if smooth.any():
        out[smooth] = 1.0 - fam.latent_cdf(fitted.params[smooth], u[smooth], K)
    if fitted.limit.any():
        atoms, mass = _limit_atoms(fitted)
        lim = u[fitted.limit, None]
        out[fitted.limit] = np.where(atoms >= lim, mass, 0.0).sum(axis=1)
    return out


def _latent_quantile(fitted: FitResult, alpha: NDArray[np.float64]) -> NDArray[np.float64]:
    """F⁻¹(α) on the rating axis; limit fits through :func:`_limit_atoms`."""
    out = np.empty(len(alpha))
    smooth = ~fitted.limit
    if smooth.any():
        out[smooth] = fitted.family.latent_ppf(fitted.params[smooth], alpha[smooth], fitted.K)
    if fitted.limit.any():
        atoms, mass = _limit_atoms(fitted)
        first = alpha[fitted.limit] <= mass[:, 0] + _TOLERANCE
        out[fitted.limit] = np.where(first, atoms[:, 0], atoms[:, 1])
    return out


def _limit_atoms(
    fitted: FitResult | CellModel,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Latent law of the limit fits: atoms (m, 2) on the rating axis and their masses (m, 2).

    One category k: all mass at k. Two neighbouring categories k, k + 1: all mass at the
    threshold between them. Only 1 and K: mass c₁/N at the lower end of the latent axis and
    c_K/N at the upper end. An adaptive fit's cells carry their own (the fitted μ_j, on its
    learned thresholds).
    """
    if isinstance(fitted, CellModel):
        return fitted.atoms, fitted.atom_mass
    fam, K = fitted.family, fitted.K
    c = fitted.counts.counts[fitted.limit]
    nonzero = c > 0
    first = nonzero.argmax(axis=1)
    last = K - 1 - nonzero[:, ::-1].argmax(axis=1)
    thresholds = fam._to_rating(fam.thresholds(K), K)
    ends = fam._to_rating(np.array([0.0, 1.0]), K) if fam.unit_interval else [-np.inf, np.inf]
    single = first == last
    extremes = last - first > 1
    centre = np.where(single, first + 1.0, thresholds[np.minimum(first, K - 2)])
    atoms = np.column_stack(
        [np.where(extremes, ends[0], centre), np.where(extremes, ends[1], centre)]
    )
    rows = np.arange(len(c))
    low_mass = np.where(extremes, c[rows, first] / c.sum(axis=1), 1.0)
    return atoms, np.column_stack([low_mass, 1.0 - low_mass])


# -- analytic confidence intervals -----------------------------------------------------------
def _interval(counts: RatingCounts, estimate, lower, upper) -> pd.DataFrame:
    return pd.DataFrame({"id": counts.ids, "estimate": estimate, "lower": lower, "upper": upper})


def mos_ci(x: RatingCounts | ArrayLike, level: float = 0.95) -> pd.DataFrame:
    """Student-t confidence interval of the MOS of every stimulus.

    MOS ± t_{1−α/2, R−1}·SOS/√R with R ratings and the sample SOS (Hoßfeld et al. 2016),
    clipped to the scale [1, K]. With R = 1 there is no estimate of the spread and the interval
    is the whole scale [1, K]. With all ratings equal (SOS = 0) it has width 0.

    Returns
    -------
    DataFrame with columns id, estimate (the MOS), lower, upper.

    Examples
    --------
    >>> from ratingdist import qoe
    >>> qoe.mos_ci([[0, 0, 25, 73, 7]]).round(3).to_dict("records")
    [{'id': 0, 'estimate': 3.829, 'lower': 3.727, 'upper': 3.931}]
    """
    counts = _counts_only(x, "mos_ci")
    confidence = _check_confidence(level)
    r = counts.n_ratings
    m, s = mos(counts), sos(counts)
    with np.errstate(invalid="ignore"):
        half = stats.t.ppf(0.5 + confidence / 2, r - 1) * s / np.sqrt(r)
    half = np.where(r > 1, half, np.inf)
    return _interval(counts, m, np.maximum(m - half, 1.0), np.minimum(m + half, counts.K))


def prob_ci(
    x: RatingCounts | ArrayLike,
    categories: Iterable[int],
    level: float = 0.95,
    method: str = "wilson",
) -> pd.DataFrame:
    """Confidence interval of the proportion P(U ∈ categories) of every stimulus.

    With p̂ the sample proportion of R ratings and z = Φ⁻¹(1 − α/2):

    - ``"wilson"`` (default; Wilson 1927): (p̂ + z²/2R ± z·√(p̂(1 − p̂)/R + z²/4R²)) / (1 + z²/R),
      good coverage also for small R and p̂ near 0 or 1;
    - ``"wald"`` (the delta method): p̂ ± z·√(p̂(1 − p̂)/R), clipped to [0, 1]; width 0 at
      p̂ ∈ {0, 1}.

    Returns
    -------
    DataFrame with columns id, estimate (p̂), lower, upper.

    Examples
    --------
    >>> from ratingdist import qoe
    >>> qoe.prob_ci([[0, 0, 25, 73, 7]], [4, 5]).round(3).to_dict("records")
    [{'id': 0, 'estimate': 0.762, 'lower': 0.672, 'upper': 0.833}]
    """
    counts = _counts_only(x, "prob_ci")
    confidence = _check_confidence(level)
    _check_choice(method, _PROPORTION_METHODS, "method")
    p = prob(counts, categories)
    r = counts.n_ratings
    z = stats.norm.ppf(0.5 + confidence / 2)
    if method == "wald":
        half = z * np.sqrt(p * (1 - p) / r)
        return _interval(counts, p, np.maximum(p - half, 0.0), np.minimum(p + half, 1.0))
    shrink = 1.0 + z * z / r
    centre = (p + z * z / (2 * r)) / shrink
    half = z * np.sqrt(p * (1 - p) / r + z * z / (4 * r * r)) / shrink
    return _interval(counts, p, np.maximum(centre - half, 0.0), np.minimum(centre + half, 1.0))


def gob_ci(
    x: RatingCounts | ArrayLike, good: int | None = None, level: float = 0.95,
    method: str = "wilson",
) -> pd.DataFrame:
    """Confidence interval of %GoB = P(U ≥ good) (default K − 1); see :func:`prob_ci`.

    Examples
    --------
    >>> from ratingdist import qoe
    >>> qoe.gob_ci([[0, 0, 25, 73, 7]]).round(3).to_dict("records")
    [{'id': 0, 'estimate': 0.762, 'lower': 0.672, 'upper': 0.833}]
    """
    K = _counts_only(x, "gob_ci").K
    good = K - 1 if good is None else good
    return prob_ci(x, range(int(np.ceil(good)), K + 1), level, method)


def pow_ci(
    x: RatingCounts | ArrayLike, poor: int = 2, level: float = 0.95, method: str = "wilson"
) -> pd.DataFrame:
    """Confidence interval of %PoW = P(U ≤ poor); see :func:`prob_ci`.

    Examples
    --------
    >>> from ratingdist import qoe
    >>> qoe.pow_ci([[5, 13, 6, 0, 0]]).round(3).to_dict("records")
    [{'id': 0, 'estimate': 0.75, 'lower': 0.551, 'upper': 0.88}]
    """
    _counts_only(x, "pow_ci")
    return prob_ci(x, range(1, int(np.floor(poor)) + 1), level, method)


def sos_hypothesis(
    x: Source,
    level: float = 0.95,
    method: str = "ols",
    n_boot: int = 1000,
    seed: int | np.random.Generator | None = 0,
) -> pd.Series:
    """The SOS parameter a of a set of stimuli, with a confidence interval.

    The SOS hypothesis SOS²(MOS) = a·v_max(MOS), v_max = (MOS − 1)(K − MOS), fitted by least
    squares through the origin over the stimuli i: â = Σ v_i s_i² / Σ v_i² (Hoßfeld, Schatz,
    Egger 2011). On the normalized scale z = (u − 1)/(K − 1) both v and s² are divided by
    (K − 1)², so â is the same (scale-invariant); a ∈ [0, 1], a = 1/(K − 1) is the binomial
    spread (0.25 for K = 5). s is :func:`sos` (sample SOS for counts); stimuli without a finite
    SOS (a single rating) are left out.

    Parameters
    ----------
    x : counts (sample SOS) or a fit (SOS of the fitted distributions).
    level : confidence level.
    method : ``"ols"``: â ± t_{1−α/2, n−1}·se with se = σ̂/√Σv², σ̂² = Σ(s² − â v)²/(n − 1),
        the regression through the origin (assumes equal residual variance across stimuli);
        ``"bootstrap"``: percentile interval of â over ``n_boot`` resamples of the stimuli with
        replacement, se their standard deviation (robust to unequal variances).
    n_boot, seed : resamples and seed of ``"bootstrap"``.

    Returns
    -------
    Series with a, se, lower, upper, n_stimuli.

    Examples
    --------
    >>> from ratingdist import qoe
    >>> counts = [[0, 0, 25, 73, 7], [5, 13, 6, 0, 0], [1, 4, 10, 6, 3]]
    >>> round(float(qoe.sos_hypothesis(counts)["a"]), 4)
    0.183
    """
    confidence = _check_confidence(level)
    _check_choice(method, _SOS_METHODS, "method")
    _, counts = _split(x)
    s2 = sos(x) ** 2
    keep = np.isfinite(s2)
    v, s2 = scale.v_max(mos(x)[keep], counts.K), s2[keep]
    n = len(v)
    a = float(v @ s2 / (v @ v))
    if method == "ols":
        se = float(np.sqrt(((s2 - a * v) ** 2).sum() / (n - 1) / (v @ v)))
        half = stats.t.ppf(0.5 + confidence / 2, n - 1) * se
        lower, upper = a - half, a + half
    else:
        rows = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
        replicates = (v * s2)[rows].sum(axis=1) / (v * v)[rows].sum(axis=1)
        se = float(replicates.std(ddof=1))
        lower, upper = (float(end[0]) for end in _ordered_interval(replicates[None, :], confidence))
    return pd.Series({"a": a, "se": se, "lower": lower, "upper": upper, "n_stimuli": n})


# -- bootstrap ---------------------------------------------------------------------------------
def bootstrap_ci(
    x: Source,
    statistic: Statistic | Mapping[str, Statistic],
    n_boot: int = 1000,
    level: float = 0.95,
    method: str = "multinomial",
    interval: str = "bca",
    seed: int | np.random.Generator | None = 0,
    chunk_size: int = 500_000,
) -> pd.DataFrame:
    """Bootstrap confidence intervals of any per-stimulus figure.

    Every stimulus i with N_i ratings is resampled ``n_boot`` = R times,
    c* ~ Multinomial(N_i, p), with

    - ``method="multinomial"`` (nonparametric): p = the empirical pmf c/N of the counts; for
      a fit the family is refitted to every replicate (same bounds and regularization);
    - ``method="parametric"`` (needs a fit): p = the fitted pmf, and the family is refitted to
      every replicate.

    ``statistic`` maps the replicates — a RatingCounts (counts) or a FitResult (refits) with
    one row per (stimulus, replicate) — to one value per row; any function of this module
    does, e.g. ``qoe.gob`` or ``lambda r: qoe.quantile(r, 0.1)`` (its parameters must be
    scalars, not per-stimulus arrays). The estimate θ̂ is the statistic of ``x`` itself.
    With θ*_(j) the ordered replicates and 1 − α = ``level`` (Davison and Hinkley 1997, §5):

    - ``interval="percentile"``: [θ*_(⌊(R+1)α/2⌋), θ*_(⌈(R+1)(1−α/2)⌉)];
    - ``interval="bca"`` (default; Efron 1987): the same order statistics at the levels
      Φ(z₀ + (z₀ + z)/(1 − a(z₀ + z))) for z = z_{α/2}, z_{1−α/2}, with the bias correction
      z₀ = Φ⁻¹(share of θ* below θ̂, ties counted half) and the acceleration
      a = Σ_k c_k d_k³ / (6 (Σ_k c_k d_k²)^{3/2}) from the jackknife over the observed
      ratings: d_k = θ̄ − θ̂₋ₖ with θ̂₋ₖ the statistic without one rating k (refitted for a
      fit) and θ̄ = Σ_k c_k θ̂₋ₖ / N. It corrects the bias and skew that make percentile
      intervals of latent quantiles from small panels too short (about 90 % instead of 95 %
      with 24 ratings);
    - ``interval="normal"``: θ̂ ± z_{1−α/2}·se.

    se is the standard deviation of the replicates. Replicates are drawn in chunks of about
    ``chunk_size`` rows by a Numba kernel, each from its own random stream keyed by the seed
    and the (stimulus, replicate) index, so results do not depend on the thread count or the
    chunk size. A stimulus whose ratings all lie in one category (for a fit of a quantized
    family: in two neighbouring ones, a limit fit) gets an interval of width 0.

    Parameters
    ----------
    x : counts or a fit.
    statistic : a function, or a mapping name → function to bootstrap several figures on the
        same replicates.
    n_boot : replicates R per stimulus.
    level : confidence level 1 − α.
    method : ``"multinomial"`` or ``"parametric"``.
    interval : ``"bca"``, ``"percentile"`` or ``"normal"``.
    seed : int, Generator or None (fresh entropy).
    chunk_size : rows (stimuli × replicates) per chunk; bounds memory.

    Returns
    -------
    DataFrame with columns id, estimate, lower, upper, se (one row per stimulus); for a mapping
    also statistic (the name), stimuli in order within each statistic.

    Examples
    --------
    >>> import ratingdist as rd
    >>> from ratingdist import qoe
    >>> counts = [[0, 0, 25, 73, 7]]
    >>> qoe.bootstrap_ci(counts, qoe.mos, n_boot=500).round(2).to_dict("records")
    [{'id': 0, 'estimate': 3.83, 'lower': 3.72, 'upper': 3.92, 'se': 0.05}]
    >>> res = rd.fit(counts, "logit-logistic")
    >>> q10 = qoe.bootstrap_ci(res, lambda r: qoe.quantile(r, 0.1), 200, method="parametric")
    >>> q10[["estimate", "lower", "upper"]].round(1).to_dict("records")
    [{'estimate': 3.2, 'lower': 3.0, 'upper': 3.4}]
    """
    if isinstance(x, AdaptiveResult | CellModel):
        raise TypeError(
            "bootstrap_ci refits stimulus by stimulus; an adaptive fit shares its thresholds "
            "between stimuli: use the standard errors of the fit (res.thresholds, "
            "res.extreme_response()) or refit resampled studies with rd.fit_adaptive"
        )
    confidence = _check_confidence(level)
    _check_choice(method, _BOOTSTRAP_METHODS, "method")
    _check_choice(interval, _INTERVALS, "interval")
    if n_boot < 2:
        raise ValueError(f"n_boot must be >= 2, got {n_boot!r}")
    fitted, counts = _split(x)
    if method == "parametric" and fitted is None:
        raise ValueError("the parametric bootstrap needs a fit: pass a FitResult, not counts")
    named = dict(statistic) if isinstance(statistic, Mapping) else {"": statistic}
    replicates = _replicates(x, named, n_boot, method, seed, chunk_size)
    jackknife = _jackknife(x, named) if interval == "bca" else {}
    tables = []
    for name, reps in replicates.items():
        estimate = np.asarray(named[name](x), dtype=np.float64)
        se = reps.std(axis=1, ddof=1)
        if interval == "normal":
            half = stats.norm.ppf(0.5 + confidence / 2) * se
            lower, upper = estimate - half, estimate + half
        else:
            lower, upper = _ordered_interval(reps, confidence, estimate, jackknife.get(name))
        table = _interval(counts, estimate, lower, upper)
        table["se"] = se
        if isinstance(statistic, Mapping):
            table.insert(1, "statistic", name)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def _refit_like(fitted: FitResult | None, counts: NDArray[np.int64]) -> RatingCounts | FitResult:
    """Counts (trusted, ids 0..m−1) as RatingCounts, or refitted like ``fitted``."""
    sample = RatingCounts._new(np.arange(len(counts)), counts)
    if fitted is None:
        return sample
    return fit(
        sample, fitted.family, bounds=fitted.bounds,
        pseudo_counts=fitted.pseudo_counts, prob_floor=fitted.prob_floor,
    )


def _replicates(
    x: Source, named: dict[str, Statistic], n_boot: int, method: str, seed, chunk_size: int
) -> dict[str, NDArray[np.float64]]:
    """Bootstrap replicates (n, R) of every statistic."""
    fitted, counts = _split(x)
    probs = fitted.probs if method == "parametric" else counts.counts.astype(np.float64)
    thresholds = _sampling_thresholds(probs)
    key = np.uint64(np.random.default_rng(seed).integers(0, 2**63))
    n_ratings = counts.n_ratings
    n = len(counts)
    out = {name: np.empty((n, n_boot)) for name in named}
    per_chunk = max(1, chunk_size // n_boot)
    for start in range(0, n, per_chunk):
        stop = min(start + per_chunk, n)
        c = resample_counts(n_ratings[start:stop], thresholds[start:stop], n_boot, start, key)
        sample = _refit_like(fitted, c)
        for name, f in named.items():
            out[name][start:stop] = np.asarray(f(sample), dtype=np.float64).reshape(-1, n_boot)
    return out


def _sampling_thresholds(probs: NDArray[np.float64]) -> NDArray[np.int64]:
    """⌊F(k)·2³²⌋ for k = 1..K − 1 (rows normalized), 2³² from the last positive category on."""
    cdf = np.cumsum(probs, axis=1)[:, :-1] / probs.sum(axis=1, keepdims=True)
    more = np.logical_or.accumulate(probs[:, :0:-1] > 0, axis=1)[:, ::-1]
    cdf = np.where(more, np.minimum(cdf, 1.0), 1.0)
    return np.floor(cdf * 2.0**32).astype(np.int64)


def _jackknife(x: Source, named: dict[str, Statistic]) -> dict[str, NDArray[np.float64]]:
    """BCa acceleration a (n,) of every statistic from the jackknife over the ratings.

    Leaving out one rating of category k gives the same sample for all c_k such ratings, so
    the jackknife needs one evaluation (refit) per non-empty category. a = 0 for one rating.
    """
    fitted, counts = _split(x)
    c = counts.counts
    n, K = c.shape
    leave_out = (c > 0) & (counts.n_ratings > 1)[:, None]
    if not leave_out.any():
        return {name: np.zeros(n) for name in named}
    rows = (c[:, None, :] - np.eye(K, dtype=np.int64)[None])[leave_out]
    sample = _refit_like(fitted, rows)
    weights = np.where(leave_out, c, 0).astype(np.float64)
    total = weights.sum(axis=1, keepdims=True)
    out = {}
    for name, f in named.items():
        theta = np.zeros((n, K))
        theta[leave_out] = np.asarray(f(sample), dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            d = np.where(leave_out, (weights * theta).sum(axis=1, keepdims=True) / total - theta, 0)
            a = (weights * d**3).sum(axis=1) / (6 * ((weights * d**2).sum(axis=1)) ** 1.5)
        out[name] = np.where(np.isfinite(a), a, 0.0)
    return out


def _ordered_interval(
    replicates: NDArray[np.float64],
    confidence: float,
    estimate: NDArray[np.float64] | None = None,
    acceleration: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Percentile interval per row, or BCa given the estimates and accelerations (n,)."""
    ordered = np.sort(replicates, axis=1)
    n, R = ordered.shape
    tail = (1.0 - confidence) / 2
    levels = np.tile([tail, 1.0 - tail], (n, 1))
    if estimate is not None and acceleration is not None:
        below = (replicates < estimate[:, None]).sum(axis=1)
        ties = (replicates == estimate[:, None]).sum(axis=1)
        z0 = stats.norm.ppf(np.clip((below + ties / 2) / R, 1 / (R + 1), R / (R + 1)))[:, None]
        z = stats.norm.ppf(levels)
        a = acceleration[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            adjusted = stats.norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z)))
        levels = np.where(np.isfinite(adjusted), adjusted, levels)
    position = np.column_stack(
        [np.floor((R + 1) * levels[:, 0]), np.ceil((R + 1) * levels[:, 1])]
    )
    index = np.clip(position, 1, R).astype(np.int64) - 1
    lower, upper = np.take_along_axis(ordered, index, axis=1).T
    return lower, upper
