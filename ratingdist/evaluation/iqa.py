"""MOS-level measures of image- and video-quality assessment (IQA / VQA).

An objective model predicts one score x_i per stimulus; the subjective truth is the MOS y_i.
The measures of VQEG and ITU-T P.1401:

- rank correlations on the raw predictions: :func:`srcc` (Spearman) and :func:`krcc`
  (Kendall τ-b, with ties);
- :func:`plcc` (Pearson) and :func:`rmse`, after an optional mapping of x onto y fitted
  by least squares (:func:`fit_mapping`: 4- or 5-parameter logistic, or the monotone 3rd-order
  polynomial that P.1401 prefers);
- the P.1401 statistics that use each stimulus' 95 % confidence-interval half-width ci95_i of
  the MOS: the ε-insensitive :func:`epsilon_rmse` and the :func:`outlier_ratio`;
- percentile-bootstrap intervals over stimuli: :func:`bootstrap_ci` for any measure, and
  :func:`correlations` for the table of all of them.

Inputs are 1-D arrays of equal length, finite, with at least 3 stimuli (at least d + 1 with a
mapping of d parameters); ``ValueError`` otherwise. A correlation with a constant input is
undefined and returned as NaN, without a warning.

The half-widths ci95 are, for R ratings with sample SOS s, t_{0.975, R−1}·s/√R, e.g.
``scipy.stats.t.ppf(0.975, R - 1) * qoe.sos(counts) / np.sqrt(R)`` (the unclipped half-width
of :func:`ratingdist.qoe.mos_ci`).

References
----------
ITU-T Rec. P.1401, "Methods, metrics and procedures for statistical evaluation, qualification
and comparison of objective quality prediction models" (2020). VQEG, "Final report from the
Video Quality Experts Group on the validation of objective models of video quality assessment,
phase II" (2003) (4-parameter logistic). Sheikh, Sabir, Bovik, "A statistical evaluation of
recent full reference image quality assessment algorithms", IEEE Trans. Image Process. 15
(2006) 3440–3451 (5-parameter logistic). Efron, Tibshirani, "An introduction to the
bootstrap", Chapman & Hall (1993), ch. 13 (percentile interval).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special, stats

#: The mapping kinds of :func:`fit_mapping` and their numbers of parameters d.
MAPPINGS: dict[str, int] = {"logistic4": 4, "logistic5": 5, "poly3": 4}
#: Grid of t₀ ∈ [−1, 1] searched by the monotone cubic fit (see ``_nondecreasing_cubic``).
_T0_GRID = np.linspace(-1.0, 1.0, 101)


# -- inputs ----------------------------------------------------------------------------------
def _vector(values: ArrayLike, name: str) -> NDArray[np.float64]:
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per stimulus), got shape {a.shape}")
    bad = ~np.isfinite(a)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name}[{i}] is {a[i].item()!r}; values must be finite")
    return a


def _pair(
    x: ArrayLike, y: ArrayLike, mapping: str | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """x and y checked: 1-D, finite, equal length, at least 3 (d + 1 with a mapping) values."""
    X, Y = _vector(x, "x"), _vector(y, "y")
    if len(X) != len(Y):
        raise ValueError(f"x has {len(X)} values but y has {len(Y)}")
    needed = 3 if mapping is None else _n_params(mapping) + 1
    if len(X) < needed:
        what = "" if mapping is None else f" for the {mapping} mapping"
        raise ValueError(f"need at least {needed} stimuli{what}, got {len(X)}")
    return X, Y


def _half_widths(ci95: ArrayLike, n: int) -> NDArray[np.float64]:
    ci = _vector(ci95, "ci95")
    if len(ci) != n:
        raise ValueError(f"ci95 has {len(ci)} values but x and y have {n}")
    if (ci < 0).any():
        i = int(np.argmax(ci < 0))
        raise ValueError(f"ci95[{i}] is {ci[i].item()!r}; half-widths must be >= 0")
    return ci


def _n_params(kind: str) -> int:
    if kind not in MAPPINGS:
        raise ValueError(f"unknown mapping {kind!r}; known: {', '.join(MAPPINGS)} or None")
    return MAPPINGS[kind]


# -- correlations ----------------------------------------------------------------------------
def _constant(x: NDArray[np.float64]) -> bool:
    return bool(x.min() == x.max())


def _standardized_deviations(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """x − mean x divided by its largest absolute value (x not constant).

    x is first scaled by a power of two (exact) into [−1, 1] and shifted by its median (exact
    for near-constant data, Sterbenz' lemma), so that the deviations keep their digits and the
    sums of products stay in range for subnormal, huge and near-constant values alike
    (products of deviations of 1e-266 underflow to 0 without it).
    """
    u = np.ldexp(x, -np.frexp(np.abs(x).max())[1])
    u = u - np.median(u)
    u = u - u.mean()
    return u / np.abs(u).max()


def _pearson(x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    """r = Σ x̃ỹ/√(Σ x̃² Σ ỹ²) with x̃, ỹ the rescaled deviations; NaN if x or y is constant."""
    if _constant(x) or _constant(y):
        return np.nan
    xc, yc = _standardized_deviations(x), _standardized_deviations(y)
    r = (xc * yc).sum() / np.sqrt((xc**2).sum() * (yc**2).sum())
    return float(np.clip(r, -1.0, 1.0))


def srcc(x: ArrayLike, y: ArrayLike) -> float:
    """Spearman rank correlation: the Pearson correlation of the ranks (ties: mean ranks).

    NaN if x or y is constant.

    Examples
    --------
    >>> from ratingdist.evaluation import srcc
    >>> srcc([1, 2, 3, 4], [1, 4, 9, 16])
    1.0
    """
    X, Y = _pair(x, y)
    return _pearson(stats.rankdata(X), stats.rankdata(Y))


def krcc(x: ArrayLike, y: ArrayLike) -> float:
    """Kendall rank correlation τ-b = (C − D)/√((n₀ − n₁)(n₀ − n₂)), with ties.

    C, D: concordant and discordant pairs; n₀ = n(n − 1)/2; n₁, n₂: pairs tied in x, in y.
    NaN if x or y is constant.

    Examples
    --------
    >>> from ratingdist.evaluation import krcc
    >>> round(krcc([1, 2, 3, 4], [1, 3, 2, 4]), 4)
    0.6667
    """
    X, Y = _pair(x, y)
    if _constant(X) or _constant(Y):
        return np.nan
    return float(stats.kendalltau(X, Y, variant="b").statistic)


def plcc(x: ArrayLike, y: ArrayLike, mapping: str | None = None) -> float:
    """Pearson linear correlation of f(x) and y, f the fitted ``mapping`` (identity if None).

    NaN if x or y is constant.

    Examples
    --------
    >>> import numpy as np
    >>> from ratingdist.evaluation import plcc
    >>> x = np.linspace(-3, 3, 25)
    >>> y = 1 + 4 / (1 + np.exp(-2 * x))
    >>> round(plcc(x, y), 3), round(plcc(x, y, mapping="logistic4"), 3)
    (0.963, 1.0)
    """
    X, Y = _pair(x, y, mapping)
    return _pearson(_mapped(X, Y, mapping), Y)


# -- mappings --------------------------------------------------------------------------------
def _logistic4(x: NDArray, b1: float, b2: float, b3: float, b4: float) -> NDArray:
    return (b1 - b2) * special.expit((x - b3) / abs(b4)) + b2


def _logistic5(x: NDArray, b1: float, b2: float, b3: float, b4: float, b5: float) -> NDArray:
    return b1 * (0.5 - special.expit(-b2 * (x - b3))) + b4 * x + b5


def _logistic4_jacobian(x: NDArray, b1: float, b2: float, b3: float, b4: float) -> NDArray:
    z = (x - b3) / abs(b4)
    s = special.expit(z)
    slope = (b1 - b2) * s * (1 - s) / abs(b4)
    return np.column_stack([s, 1 - s, -slope, -slope * z * np.sign(b4)])


def _logistic5_jacobian(
    x: NDArray, b1: float, b2: float, b3: float, b4: float, b5: float
) -> NDArray:
    e = special.expit(-b2 * (x - b3))
    slope = b1 * e * (1 - e)
    return np.column_stack([0.5 - e, slope * (x - b3), -slope * b2, x, np.ones_like(x)])


def _poly3(x: NDArray, a0: float, a1: float, a2: float, a3: float) -> NDArray:
    return np.polynomial.polynomial.polyval(x, [a0, a1, a2, a3])


_FORMULAS: dict[str, Callable[..., NDArray]] = {
    "logistic4": _logistic4,
    "logistic5": _logistic5,
    "poly3": _poly3,
}


_JACOBIANS = {"logistic4": _logistic4_jacobian, "logistic5": _logistic5_jacobian}


@dataclass(frozen=True, eq=False)
class FittedMapping:
    """A mapping y ≈ f(x) fitted by :func:`fit_mapping`; call it on predictions.

    Attributes
    ----------
    kind : ``"logistic4"``, ``"logistic5"`` or ``"poly3"``.
    params : the parameters β₁… of the formula of ``kind`` (see :func:`fit_mapping`); for
        ``"poly3"`` the coefficients a₀, a₁, a₂, a₃ of a₀ + a₁x + a₂x² + a₃x³.
    """

    kind: str
    params: NDArray[np.float64]
    #: powers of two: the formula is evaluated as 2^y_exp · f(x·2^−x_exp) with the parameters
    #: of the scaled data, which stay finite where those of x itself overflow (subnormal x)
    x_exp: int = 0
    y_exp: int = 0
    scaled_params: NDArray[np.float64] | None = None

    @property
    def n_params(self) -> int:
        """Number d of fitted parameters (the P.1401 degrees of freedom of the mapping)."""
        return len(self.params)

    def __call__(self, x: ArrayLike) -> NDArray[np.float64]:
        x = np.asarray(x, dtype=np.float64)
        if self.scaled_params is None:
            return _FORMULAS[self.kind](x, *self.params)
        scaled = _FORMULAS[self.kind](np.ldexp(x, -self.x_exp), *self.scaled_params)
        return np.ldexp(scaled, self.y_exp)


def _least_squares(
    kind: str, x: NDArray, y: NDArray, starts: list[list[float]]
) -> NDArray[np.float64]:
    """Parameters of the formula ``kind`` with the least residual sum of squares over starts."""
    formula, jacobian = _FORMULAS[kind], _JACOBIANS[kind]
    fits = [
        optimize.least_squares(
            lambda b: formula(x, *b) - y,
            start,
            jac=lambda b: jacobian(x, *b),
            method="lm",
            x_scale="jac",
        )
        for start in starts
    ]
    return min(fits, key=lambda result: result.cost).x


def _fit_logistic4(x: NDArray, y: NDArray) -> NDArray[np.float64]:
    """4-parameter logistic from [max y, min y, mean x, sd x/4] and its mirror image."""
    centre, width = x.mean(), x.std() / 4
    starts = [[y.max(), y.min(), centre, width], [y.min(), y.max(), centre, width]]
    params = _least_squares("logistic4", x, y, starts)
    params[3] = abs(params[3])
    return params


def _fit_logistic5(x: NDArray, y: NDArray) -> NDArray[np.float64]:
    """5-parameter logistic from [10, 0, mean y, 0.1, 0.1] and from a start scaled to the data.

    The second start (β₁ = ±range y, β₂ = 1/sd x, β₃ = mean x, β₄ = 0, β₅ = mean y) finds the
    fit where the first, tuned to MOS scales, ends in a poor local minimum. β₂ is returned
    >= 0 ((β₁, β₂) and (−β₁, −β₂) give the same function).
    """
    direction = -1.0 if _pearson(x, y) < 0 else 1.0
    starts = [
        [10.0, 0.0, y.mean(), 0.1, 0.1],
        [direction * np.ptp(y), 1 / x.std(), x.mean(), 0.0, y.mean()],
    ]
    params = _least_squares("logistic5", x, y, starts)
    if params[1] < 0:
        params[:2] = -params[:2]
    return params


def _nondecreasing_cubic(t: NDArray, y: NDArray) -> tuple[NDArray[np.float64], float]:
    """Least-squares cubic in t ∈ [−1, 1] that is non-decreasing there: (coefficients, RSS).

    A quadratic g >= 0 on [−1, 1] is λ(t − t₀)² + μ(1 − t²) + ν with λ, μ, ν >= 0 and
    t₀ ∈ [−1, 1], so the non-decreasing cubics are
    f(t) = a + λ(t − t₀)³/3 + μ(t − t³/3) + νt. For fixed t₀ this is a non-negative least
    squares problem with a free intercept, solved in the 3-D span of the centred powers
    t, t², t³ (QR); the RSS is minimized over t₀ on a grid, then by a bounded scalar search
    next to the best grid point.
    """
    powers = np.column_stack([t, t**2, t**3])
    q, r = np.linalg.qr(powers - powers.mean(axis=0))
    centred = y - y.mean()
    target = q.T @ centred
    unexplained = centred @ centred - target @ target

    def basis(t0: float) -> NDArray[np.float64]:
        """Columns (t − t₀)³/3, t − t³/3, t as coefficients of t, t², t³."""
        return np.array([[t0**2, 1.0, 1.0], [-t0, 0.0, 0.0], [1 / 3, -1 / 3, 0.0]])

    def rss(t0: float) -> float:
        return optimize.nnls(r @ basis(t0), target)[1] ** 2 + unexplained

    grid = [rss(t0) for t0 in _T0_GRID]
    i = int(np.argmin(grid))
    lo, hi = _T0_GRID[max(i - 1, 0)], _T0_GRID[min(i + 1, len(_T0_GRID) - 1)]
    refined = optimize.minimize_scalar(rss, bounds=(lo, hi), method="bounded")
    t0 = refined.x if refined.fun < grid[i] else _T0_GRID[i]
    slopes = basis(t0) @ optimize.nnls(r @ basis(t0), target)[0]
    coef = np.concatenate([[y.mean() - powers.mean(axis=0) @ slopes], slopes])
    return coef, min(refined.fun, grid[i])


def _fit_poly3(x: NDArray, y: NDArray) -> NDArray[np.float64]:
    """Cubic monotone on [min x, max x]: the better of the non-decreasing and non-increasing fits.

    Fitted in t = (2x − min x − max x)/(max x − min x) ∈ [−1, 1], then converted to powers of x.
    """
    domain = [x.min(), x.max()]
    width = domain[1] - domain[0]
    t = np.polynomial.polynomial.polyval(x, [-sum(domain) / width, 2 / width])
    rising, rss_rising = _nondecreasing_cubic(t, y)
    falling, rss_falling = _nondecreasing_cubic(t, -y)
    coef_t = rising if rss_rising <= rss_falling else -falling
    cubic = np.polynomial.Polynomial(coef_t, domain=domain, window=[-1, 1]).convert()
    return np.pad(cubic.coef, (0, 4 - len(cubic.coef)))


_FITTERS: dict[str, Callable[[NDArray, NDArray], NDArray[np.float64]]] = {
    "logistic4": _fit_logistic4,
    "logistic5": _fit_logistic5,
    "poly3": _fit_poly3,
}


def fit_mapping(x: ArrayLike, y: ArrayLike, kind: str) -> FittedMapping:
    """Fit a mapping f of the predictions x onto the MOS y by least squares.

    Kinds (d parameters, at least d + 1 stimuli):

    - ``"logistic4"`` (VQEG 2003): f(x) = (β₁ − β₂)/(1 + exp(−(x − β₃)/|β₄|)) + β₂, monotone;
      started from [max y, min y, mean x, sd x/4] and from the same with β₁, β₂ swapped; |β₄|
      is returned;
    - ``"logistic5"`` (Sheikh et al. 2006): f(x) = β₁(½ − 1/(1 + exp(β₂(x − β₃)))) + β₄x + β₅,
      not constrained to be monotone (the linear term may oppose the logistic one); started
      from [10, 0, mean y, 0.1, 0.1] and from a start scaled to the data; β₂ >= 0 is returned
      ((β₁, β₂) and (−β₁, −β₂) give the same function);
    - ``"poly3"`` (ITU-T P.1401): f(x) = a₀ + a₁x + a₂x² + a₃x³ constrained to be monotone
      (non-decreasing or non-increasing, whichever fits better) on [min x, max x]. The
      constraint holds exactly: the derivative is parameterized as a quadratic that is >= 0
      on the interval.

    The logistic fits (Levenberg–Marquardt, ``scipy.optimize.least_squares(method="lm")``
    with analytic Jacobians, at most 100·d evaluations per start) keep the start that ends with
    the least residual sum of squares. Where the data do not saturate, the best logistic has
    its asymptotes far outside the data and the search stops at the evaluation limit with a
    fit that is still good on the data's range.

    Examples
    --------
    >>> import numpy as np
    >>> from ratingdist.evaluation import fit_mapping
    >>> x = np.linspace(0, 10, 30)
    >>> f = fit_mapping(x, 1 + 4 / (1 + np.exp(-(x - 4) / 1.5)), "logistic4")
    >>> f.params.round(3).tolist()
    [5.0, 1.0, 4.0, 1.5]
    >>> g = fit_mapping(x, np.minimum(x, 5.0), "poly3")      # the best cubic would fall at 10
    >>> bool(np.all(np.diff(g(np.linspace(0, 10, 1001))) >= 0))
    True
    """
    X, Y = _pair(x, y, kind)
    if _constant(X):
        raise ValueError("x is constant: no mapping of it onto y can be fitted")
    # fitted on data scaled into [−1, 1] by powers of two (exact), for subnormal or huge values
    x_exp, y_exp = _binary_exponent(X), _binary_exponent(Y)
    scaled = _FITTERS[kind](np.ldexp(X, -x_exp), np.ldexp(Y, -y_exp))
    with np.errstate(over="ignore", under="ignore"):
        params = np.ldexp(scaled, _PARAM_EXPONENTS[kind](x_exp, y_exp))
    return FittedMapping(kind, params, x_exp, y_exp, scaled)


def _binary_exponent(v: NDArray[np.float64]) -> int:
    """e with max |v| in [2^(e−1), 2^e) (0 for v = 0)."""
    return int(np.frexp(np.abs(v).max())[1])


#: exponents by which each parameter scales when x and y are scaled by 2^ex and 2^ey
_PARAM_EXPONENTS: dict[str, Callable[[int, int], NDArray[np.int64]]] = {
    "logistic4": lambda ex, ey: np.array([ey, ey, ex, ex]),
    "logistic5": lambda ex, ey: np.array([ey, -ex, ex, ey - ex, ey]),
    "poly3": lambda ex, ey: np.array([ey, ey - ex, ey - 2 * ex, ey - 3 * ex]),
}


def _mapped(x: NDArray, y: NDArray, mapping: str | None) -> NDArray[np.float64]:
    return x if mapping is None else fit_mapping(x, y, mapping)(x)


# -- errors ----------------------------------------------------------------------------------
def _errors(x: ArrayLike, y: ArrayLike, mapping: str | None) -> tuple[NDArray[np.float64], int]:
    """Prediction errors y − f(x) and the number d of mapping parameters."""
    X, Y = _pair(x, y, mapping)
    return Y - _mapped(X, Y, mapping), 0 if mapping is None else MAPPINGS[mapping]


def _root_mean_square(err: NDArray[np.float64], dof: int) -> float:
    """√(Σ err²/dof), scaled by max |err| so that squares neither underflow nor overflow."""
    top = np.abs(err).max()
    if top == 0 or not np.isfinite(top):
        return float(top)
    return float(top * np.sqrt(((err / top) ** 2).sum() / dof))


def rmse(x: ArrayLike, y: ArrayLike, mapping: str | None = None) -> float:
    """Root-mean-square error √(Σ_i (y_i − f(x_i))²/(N − d)) of ITU-T P.1401.

    f is the fitted ``mapping`` with d parameters (the identity and d = 0 without one, which is
    the plain RMSE with divisor N). P.1401 computes it after the monotone ``"poly3"`` mapping.

    Examples
    --------
    >>> from ratingdist.evaluation import rmse
    >>> rmse([1, 2, 3, 4], [1, 2, 3, 6])
    1.0
    """
    err, d = _errors(x, y, mapping)
    return _root_mean_square(err, len(err) - d)


def epsilon_rmse(
    x: ArrayLike, y: ArrayLike, ci95: ArrayLike, mapping: str | None = None
) -> float:
    """ε-insensitive RMSE of ITU-T P.1401: √(Σ_i max(0, |y_i − f(x_i)| − ci95_i)²/(N − d)).

    Errors within a stimulus' 95 % confidence half-width ci95_i of the MOS count as 0; f and d
    as in :func:`rmse`. Never larger than :func:`rmse`.

    Examples
    --------
    >>> from ratingdist.evaluation import epsilon_rmse
    >>> epsilon_rmse([1, 2, 3, 4], [1, 2, 3, 6], ci95=[0.1, 0.1, 0.1, 1.0])
    0.5
    """
    err, d = _errors(x, y, mapping)
    excess = np.maximum(np.abs(err) - _half_widths(ci95, len(err)), 0.0)
    return _root_mean_square(excess, len(err) - d)


def outlier_ratio(
    x: ArrayLike, y: ArrayLike, ci95: ArrayLike, mapping: str | None = None
) -> float:
    """Outlier ratio of ITU-T P.1401: the share of stimuli with |y_i − f(x_i)| > ci95_i.

    f as in :func:`rmse`.

    Examples
    --------
    >>> from ratingdist.evaluation import outlier_ratio
    >>> outlier_ratio([1, 2, 3, 4], [1.2, 2, 3, 6], ci95=[0.1, 0.1, 0.1, 1.0])
    0.5
    """
    err, _ = _errors(x, y, mapping)
    return float(np.mean(np.abs(err) > _half_widths(ci95, len(err))))


# -- bootstrap -------------------------------------------------------------------------------
def _check_bootstrap(n_boot: int, level: float, allow_zero: bool) -> None:
    if isinstance(n_boot, bool) or int(n_boot) != n_boot or n_boot < (0 if allow_zero else 1):
        raise ValueError(f"n_boot must be an integer >= {0 if allow_zero else 1}, got {n_boot!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")


def _percentile_interval(
    replicates: NDArray[np.float64], level: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lower and upper percentile bounds over axis 0, ignoring NaN replicates."""
    alpha = (1 - level) / 2
    with warnings.catch_warnings():  # all-NaN columns give NaN bounds
        warnings.simplefilter("ignore", RuntimeWarning)
        bounds = np.nanquantile(replicates, [alpha, 1 - alpha], axis=0)
    return bounds[0], bounds[1]


def bootstrap_ci(
    metric: Callable[..., float],
    x: ArrayLike,
    y: ArrayLike,
    *others: ArrayLike,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int | np.random.Generator | None = 0,
) -> pd.Series:
    """Percentile-bootstrap confidence interval of ``metric(x, y, *others)`` over stimuli.

    Each of the ``n_boot`` replicates draws N stimuli with replacement and evaluates the
    metric on the same rows of every array (paired resampling; a mapping inside the metric is
    refitted on every replicate). The interval is the (1 − level)/2 and (1 + level)/2 quantiles
    of the replicates; replicates where the metric is NaN (e.g. a constant resample) are left
    out. The same seed gives the same interval.

    Parameters
    ----------
    metric : a function of the arrays returning a number, e.g. :func:`srcc`, or
        ``lambda x, y, ci: outlier_ratio(x, y, ci, mapping="poly3")``.
    x, y, others : 1-D arrays of one value per stimulus, all of the same length.
    n_boot : number of replicates (>= 1).
    level : confidence level in (0, 1).
    seed : seed or numpy Generator.

    Returns
    -------
    Series with estimate (the metric on all stimuli), lower and upper.

    Examples
    --------
    >>> import numpy as np
    >>> from ratingdist.evaluation import bootstrap_ci, srcc
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=60)
    >>> y = x + rng.normal(size=60)
    >>> ci = bootstrap_ci(srcc, x, y, n_boot=200, seed=3)
    >>> bool(ci.lower < ci.estimate < ci.upper)
    True
    """
    _check_bootstrap(n_boot, level, allow_zero=False)
    arrays = [np.asarray(a) for a in (x, y, *others)]
    lengths = {len(a) for a in arrays}
    if len(lengths) > 1:
        raise ValueError(f"the arrays differ in length: {[len(a) for a in arrays]}")
    estimate = float(metric(*arrays))
    rows = np.random.default_rng(seed).integers(0, len(arrays[0]), (n_boot, len(arrays[0])))
    replicates = np.array([_or_nan(lambda r=r: float(metric(*(a[r] for a in arrays))), 1)
                           for r in rows]).ravel()
    lower, upper = _percentile_interval(replicates, level)
    return pd.Series({"estimate": estimate, "lower": float(lower), "upper": float(upper)})


def _or_nan(call: Callable[[], object], size: int) -> NDArray[np.float64]:
    """A replicate's value(s), or NaN where the resample is degenerate (e.g. constant, so
    that a mapping cannot be fitted)."""
    try:
        return np.asarray(call(), dtype=np.float64).reshape(size)
    except ValueError:
        return np.full(size, np.nan)


def _measures(
    x: NDArray, y: NDArray, ci95: NDArray | None, mapping: str | None
) -> dict[str, float]:
    """All measures of :func:`correlations` from one fit of the mapping."""
    err = y - _mapped(x, y, mapping)
    d = 0 if mapping is None else MAPPINGS[mapping]
    values = {
        "srcc": _pearson(stats.rankdata(x), stats.rankdata(y)),
        "krcc": krcc(x, y),
        "plcc": _pearson(y - err, y),
        "rmse": float(np.sqrt((err**2).sum() / (len(err) - d))),
    }
    if ci95 is not None:
        excess = np.maximum(np.abs(err) - ci95, 0.0)
        values["epsilon_rmse"] = float(np.sqrt((excess**2).sum() / (len(err) - d)))
        values["outlier_ratio"] = float(np.mean(np.abs(err) > ci95))
    return values


def correlations(
    x: ArrayLike,
    y: ArrayLike,
    ci95: ArrayLike | None = None,
    mapping: str | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Table of the IQA measures of predictions x against the MOS y, with bootstrap intervals.

    Rows: srcc, krcc (on the raw x), plcc and rmse (after ``mapping``), and with ``ci95`` also
    epsilon_rmse and outlier_ratio. The mapping is fitted once on all stimuli for the estimates
    and once per replicate for the intervals. Intervals as in :func:`bootstrap_ci` (the same
    replicates for every measure); ``n_boot=0`` gives the estimates alone (NaN bounds).

    Returns
    -------
    DataFrame indexed by measure with columns estimate, lower, upper.

    Examples
    --------
    >>> import numpy as np
    >>> from ratingdist.evaluation import correlations
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(0, 1, 80)
    >>> y = 1 + 4 * x**2 + rng.normal(0, 0.3, 80)
    >>> table = correlations(x, y, mapping="poly3", n_boot=100)
    >>> table.index.tolist(), table.columns.tolist()
    (['srcc', 'krcc', 'plcc', 'rmse'], ['estimate', 'lower', 'upper'])
    >>> bool((table.lower <= table.estimate).all() and (table.estimate <= table.upper).all())
    True
    """
    _check_bootstrap(n_boot, level, allow_zero=True)
    X, Y = _pair(x, y, mapping)
    ci = None if ci95 is None else _half_widths(ci95, len(X))
    estimate = _measures(X, Y, ci, mapping)
    names = list(estimate)
    if n_boot == 0:
        lower = upper = np.full(len(names), np.nan)
    else:
        rows = np.random.default_rng(seed).integers(0, len(X), (n_boot, len(X)))
        replicates = np.array([
            _or_nan(lambda r=r: list(
                _measures(X[r], Y[r], None if ci is None else ci[r], mapping).values()
            ), len(names))
            for r in rows
        ])
        lower, upper = _percentile_interval(replicates, level)
    table = pd.DataFrame({"estimate": list(estimate.values()), "lower": lower, "upper": upper})
    return table.set_axis(pd.Index(names, name="measure"))
