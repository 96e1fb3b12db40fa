"""The standard analyses of a subjective study, subject by subject, with sureal's conventions.

Notation: u_jir is the rating of stimulus j by subject i in repetition r; missing cells are left
out of every sum, n_j is the number of ratings of stimulus j and k_i that of subject i.

- :func:`mos`: the mean opinion score per stimulus with normal or Student-t intervals;
- :func:`bt500`: ITU-R BT.500-14 Annex 1 §2.3 kurtosis screening of subjects, then MOS;
- :func:`correlation_screening`: subjects whose ratings correlate poorly with the MOS are
  rejected, then MOS;
- :func:`p913`: ITU-T P.913 §12.4 bias removal, kurtosis screening, then MOS;
- :func:`p910`: ITU-T P.910 Annex E (alternating projection): subject bias Δ_i and
  inconsistency υ_i, consistency-weighted quality ψ_j;
- :func:`mle`: the maximum-likelihood model with content ambiguity of Li & Bampis (2017),
  u ~ N(x_j + b_i, v_i² + a_c(j)²), and its content-oblivious variant (a ≡ 0).

Every analysis returns a :class:`SubjectAnalysis` whose DataFrames have documented columns.
Standard errors, intervals and screening follow Netflix sureal 0.9.0 (the de-facto reference;
its outputs are reproduced to 1e-6 on the NFLX public and VQEG HD3 datasets), except where a
docstring says otherwise. sureal writes its 95 % intervals as ±1.95996·std; here the quantile
of ``level`` is exact (1.959964 for 95 %).

References
----------
ITU-R BT.500-14 (10/2019), Annex 1 §2.3; ITU-T P.913 (06/2021) §12.4; ITU-T P.910 (11/2021)
Annex E. Z. Li, C. G. Bampis, "Recover subjective quality scores from noisy measurements", Data
Compression Conference 2017 (arXiv:1611.01715). Z. Li, C. G. Bampis, L. Janowski,
I. Katsavounidis, "A simple model for subject behavior in subjective experiments", Human Vision
and Electronic Imaging 2020. Netflix sureal, ``sureal/subjective_model.py`` (Apache-2.0).
"""

from __future__ import annotations

import functools
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import special, stats

from ratingdist.ratings import Ratings
from ratingdist.subjects._cells import Cells
from ratingdist.subjects._projection import alternating_projection

#: Added to υ_i² in the weights of P.910 Annex E, w_i = 1/(υ_i² + ε) (sureal's EPSILON).
WEIGHT_EPSILON = 1e-8
#: Damping of the Newton steps of :func:`mle`: θ ← (1 − ρ)θ + ρ θ_new (sureal's REFRESH_RATE).
REFRESH_RATE = 0.1


class SubjectAnalysis:
    """The result of a subject analysis.

    Attributes
    ----------
    method : str
        ``"mos"``, ``"bt500"``, ``"correlation"``, ``"p913"``, ``"p910"``, ``"mle"`` or
        ``"mle_co"``.
    stimuli : DataFrame
        One row per stimulus: ``id``, ``n`` (ratings used), ``quality`` (MOS or the model's
        ψ_j / x_j), ``std`` (its standard error), ``ci_low``, ``ci_high``.
    subjects : DataFrame
        One row per subject: ``id``, ``n`` (its ratings), ``rejected``, and what the method
        estimates: ``bias`` (Δ_i / b_i) and ``inconsistency`` (υ_i / v_i) with ``*_std``,
        ``*_ci_low``, ``*_ci_high``; the screening statistics (see the functions).
    summary : Series
        Dataset-level numbers: ``n_ratings``, ``n_rejected`` and, for the models,
        ``n_iterations``, ``converged``, ``loglikelihood``, ``dof``, ``aic``, ``bic`` (per
        rating, sureal's convention: LL = L/N, dof = parameters/N, aic = 2·dof − 2·LL,
        bic = ln(N)·dof − 2·LL).
    contents : DataFrame or None
        :func:`mle` with content ambiguity: ``id``, ``n``, ``ambiguity`` (a_c),
        ``ambiguity_std``, ``ambiguity_ci_low``, ``ambiguity_ci_high``.

    The tables are built from the estimates on first access.
    """


    def __init__(
        self,
        method: str,
        stimuli: dict[str, NDArray[Any]],
        subjects: dict[str, NDArray[Any]],
        summary: dict[str, Any],
        contents: dict[str, NDArray[Any]] | None = None,
    ) -> None:
        self.method = method
        self._tables = {"stimuli": stimuli, "subjects": subjects, "contents": contents}
        self._summary = summary

    @functools.cached_property
    def stimuli(self) -> pd.DataFrame:
        return pd.DataFrame(self._tables["stimuli"])

    @functools.cached_property
    def subjects(self) -> pd.DataFrame:
        return pd.DataFrame(self._tables["subjects"])

    @functools.cached_property
    def contents(self) -> pd.DataFrame | None:
        table = self._tables["contents"]
        return None if table is None else pd.DataFrame(table)

    @functools.cached_property
    def summary(self) -> pd.Series:
        return pd.Series(self._summary, dtype=object)

    @property
    def rejected(self) -> NDArray[Any]:
        """Ids of the rejected subjects."""
        table = self._tables["subjects"]
        return np.asarray(table["id"])[np.asarray(table["rejected"])]

    def __repr__(self) -> str:
        table = self._tables["subjects"]
        return (f"SubjectAnalysis(method={self.method!r}, "
                f"stimuli={len(self._tables['stimuli']['id'])}, subjects={len(table['id'])}, "
                f"rejected={int(np.sum(table['rejected']))})")


# --------------------------------------------------------------------------------------------
# MOS and screening


def mos(
    ratings: Ratings, ci: Literal["normal", "t"] = "normal", level: float = 0.95
) -> SubjectAnalysis:
    """Mean opinion score per stimulus with its confidence interval.

    MOS_j = mean of the n_j ratings of stimulus j (all subjects and repetitions),
    std_j = SOS_j/√n_j with the sample standard deviation SOS_j (ddof 1), and the interval
    MOS_j ± q·std_j with q the normal quantile z_{(1+level)/2} (``ci="normal"``, sureal's
    convention) or Student's t_{(1+level)/2, n_j − 1} (``ci="t"``, ITU-R BT.500-14 Annex 1
    §2.2.1 for small panels). A stimulus with one rating has std = inf.

    Parameters
    ----------
    ratings : Ratings
    ci : {"normal", "t"}
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    SubjectAnalysis
        ``stimuli`` with ``id``, ``n``, ``quality``, ``sos``, ``std``, ``ci_low``, ``ci_high``,
        ``unscreened`` (always False here: see :func:`bt500`); ``subjects`` with ``id``, ``n``,
        ``rejected`` (all False).

    Examples
    --------
    >>> wide = pd.DataFrame({"s1": [5, 2], "s2": [4, 1], "s3": [4, 2]}, index=["a", "b"])
    >>> res = mos(Ratings.from_wide(wide), ci="t")
    >>> res.stimuli[["id", "quality", "std", "ci_low", "ci_high"]].round(3)
      id  quality    std  ci_low  ci_high
    0  a    4.333  0.333   2.899    5.768
    1  b    1.667  0.333   0.232    3.101
    """
    cells = Cells.of(ratings, dense=False)
    rejected = np.zeros(ratings.n_subjects, dtype=bool)
    return _screened("mos", ratings, cells, rejected, {}, ci, level)


def bt500(
    ratings: Ratings, ci: Literal["normal", "t"] = "normal", level: float = 0.95
) -> SubjectAnalysis:
    """ITU-R BT.500-14 Annex 1 §2.3.1 screening of subjects by kurtosis, then the MOS.

    Per stimulus j: mean μ_j, population standard deviation σ_j and kurtosis
    β₂ = m₄/m₂² of its ratings; the stimulus counts as normally distributed if 2 ≤ β₂ ≤ 4,
    and then ε = 2, else ε = √20. For each rating of subject i, P_i += [u ≥ μ_j + ε σ_j] and
    Q_i += [u ≤ μ_j − ε σ_j]. Subject i is rejected if (P_i + Q_i)/k_i > 0.05 and
    |P_i − Q_i|/(P_i + Q_i) < 0.3; if every subject would be rejected, none is (sureal's
    rule). The MOS (:func:`mos`) is then taken over the accepted subjects; a stimulus that
    only rejected subjects rated keeps all its ratings and has ``unscreened`` True.

    The comparisons are ≥ and ≤ as the standard writes them, so a stimulus that all subjects
    rated alike (σ_j = 0) counts each of its ratings once in P and once in Q, as in sureal.
    k_i is the number of ratings of subject i (sureal divides by the number of stimuli times
    repetitions, which is the same for a complete study). With P_i + Q_i = 0 the asymmetry
    is 0 and the subject is kept.

    Returns
    -------
    SubjectAnalysis
        As :func:`mos`; ``subjects`` adds ``p``, ``q``, ``outlier_share`` ((P + Q)/k),
        ``asymmetry`` (|P − Q|/(P + Q)) and ``rejected``.

    Examples
    --------
    >>> res = bt500(Ratings.from_wide(pd.DataFrame(
    ...     {"s1": [5, 4, 1, 2], "s2": [5, 4, 1, 2], "s3": [1, 2, 5, 4]})))
    >>> res.subjects[["id", "p", "q", "rejected"]]
       id    p    q  rejected
    0  s1  0.0  0.0     False
    1  s2  0.0  0.0     False
    2  s3  0.0  0.0     False
    """
    cells = Cells.of(ratings, dense=False)
    screen = _kurtosis_screen(cells)
    return _screened("bt500", ratings, cells, screen.pop("rejected"), screen, ci, level)


def correlation_screening(
    ratings: Ratings,
    method: Literal["pcc", "srcc"] = "pcc",
    ci: Literal["normal", "t"] = "normal",
    level: float = 0.95,
) -> SubjectAnalysis:
    """Reject subjects whose ratings correlate poorly with the MOS, then take the MOS.

    r_i is the Pearson (``"pcc"``) or Spearman (``"srcc"``, ties ranked by their average)
    correlation between subject i's ratings (averaged over its repetitions) and the MOS of
    all ratings, over the stimuli that subject i rated. The threshold is
    min(0.7, mean(r) − sd(r)) (sd with ddof 1 across subjects); subjects with r_i ≤ threshold
    are rejected, none if all would be. A subject whose ratings (or whose stimuli's MOS) do
    not vary, or who rated fewer than two stimuli, has r_i = 0.

    Returns
    -------
    SubjectAnalysis
        As :func:`mos`; ``subjects`` adds ``correlation`` and ``rejected``; ``summary`` adds
        ``threshold``.

    References
    ----------
    Z. Li et al., HVEI 2020 (the screening compared there); ITU-T P.913 (06/2021) §12.3.
    """
    if method not in ("pcc", "srcc"):
        raise ValueError(f"method must be 'pcc' or 'srcc', got {method!r}")
    cells = Cells.of(ratings, dense=False)
    n_j = cells.per_stimulus()
    mos_j = cells.per_stimulus(cells.u) / n_j
    I = cells.n_subjects
    # one value per (subject, stimulus) cell: the mean of its repetitions
    key = cells.i * cells.n_stimuli + cells.j
    cell, inverse = np.unique(key, return_inverse=True)
    x = np.bincount(inverse, weights=cells.u) / np.bincount(inverse)
    g, y = cell // cells.n_stimuli, mos_j[cell % cells.n_stimuli]
    if method == "srcc":
        x, y = _group_ranks(g, x), _group_ranks(g, y)
    r = _group_pearson(g, x, y, I)
    spread = float(np.std(r, ddof=1)) if I > 1 else 0.0
    threshold = min(0.7, float(np.mean(r)) - spread)
    rejected = r <= threshold
    if rejected.all():
        rejected[:] = False
    return _screened("correlation", ratings, cells, rejected, {"correlation": r}, ci, level,
                     {"threshold": threshold})


def p913(
    ratings: Ratings, ci: Literal["normal", "t"] = "normal", level: float = 0.95
) -> SubjectAnalysis:
    """ITU-T P.913 §12.4 bias removal, then :func:`bt500`'s kurtosis screening, then the MOS.

    BIAS_i = mean over subject i's ratings of (u_jir − MOS_j), with the MOS of all ratings;
    the ratings become r_jir = u_jir − BIAS_i; the screening and the MOS (``quality``, with
    SOS and std of the bias-removed ratings) use r. This is sureal's ``P913`` model.

    Returns
    -------
    SubjectAnalysis
        As :func:`bt500`; ``subjects`` adds ``bias`` (BIAS_i of every subject).

    Examples
    --------
    >>> wide = pd.DataFrame({"s1": [5, 4, 2], "s2": [4, 3, 1]}, index=["a", "b", "c"])
    >>> res = p913(Ratings.from_wide(wide))
    >>> res.subjects["bias"].tolist(), res.stimuli["quality"].tolist()
    ([0.5, -0.5], [4.5, 3.5, 1.5])
    """
    cells = Cells.of(ratings, dense=False)
    mos_j = cells.per_stimulus(cells.u) / cells.per_stimulus()
    bias = cells.per_subject(cells.u - mos_j[cells.j]) / cells.per_subject()
    removed = cells.with_values(cells.u - bias[cells.i])
    screen = _kurtosis_screen(removed)
    extra = {"bias": bias, **screen}
    return _screened("p913", ratings, removed, extra.pop("rejected"), extra, ci, level)


def _kurtosis_screen(cells: Cells) -> dict[str, NDArray[Any]]:
    """BT.500-14 Annex 1 §2.3.1: P, Q, (P + Q)/k, |P − Q|/(P + Q) and the rejections."""
    n = cells.per_stimulus()
    mu = cells.per_stimulus(cells.u) / n
    d = cells.u - mu[cells.j]
    m2 = cells.per_stimulus(d**2) / n
    m4 = cells.per_stimulus(d**4) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        beta2 = np.where(m2 > 0, m4 / np.where(m2 > 0, m2, 1.0) ** 2, np.nan)
    eps = np.where((beta2 >= 2) & (beta2 <= 4), 2.0, np.sqrt(20.0))
    band = (eps * np.sqrt(m2))[cells.j]
    p = cells.per_subject((cells.u >= mu[cells.j] + band).astype(np.float64))
    q = cells.per_subject((cells.u <= mu[cells.j] - band).astype(np.float64))
    k = cells.per_subject()
    share = (p + q) / np.maximum(k, 1.0)
    total = p + q
    asymmetry = np.abs(p - q) / np.where(total > 0, total, 1.0)
    rejected = (share > 0.05) & (asymmetry < 0.3)
    if rejected.all():
        rejected[:] = False
    return {"p": p, "q": q, "outlier_share": share, "asymmetry": asymmetry,
            "rejected": rejected}


def _screened(
    method: str,
    ratings: Ratings,
    cells: Cells,
    rejected: NDArray[np.bool_],
    subject_columns: dict[str, NDArray[Any]],
    ci: str,
    level: float,
    summary: dict[str, Any] | None = None,
) -> SubjectAnalysis:
    """MOS of the accepted subjects' ratings, with the subject table."""
    quantile = _check_ci(ci, level)
    kept = cells.keep(~rejected)
    # a stimulus that only rejected subjects rated keeps all its ratings (flagged)
    unscreened = kept.per_stimulus() == 0
    if unscreened.any():
        rows = ~rejected[cells.i] | unscreened[cells.j]
        kept = Cells(cells.j[rows], cells.i[rows], cells.u[rows], cells.n_stimuli,
                     cells.n_subjects)
    n = kept.per_stimulus()
    quality = kept.per_stimulus(kept.u) / n
    dev2 = kept.per_stimulus((kept.u - quality[kept.j]) ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        sos = np.where(n > 1, np.sqrt(dev2 / np.maximum(n - 1, 1)), np.inf)
    std = sos / np.sqrt(n)
    q = quantile(np.maximum(n - 1, 1))
    half = np.where(np.isfinite(std), q * std, np.inf)
    stimuli = {"id": ratings.ids, "n": n.astype(np.int64), "quality": quality, "sos": sos,
               "std": std, "ci_low": quality - half, "ci_high": quality + half,
               "unscreened": unscreened}
    subjects = {"id": ratings.subjects, "n": cells.per_subject().astype(np.int64),
                **subject_columns, "rejected": rejected}
    totals = {"n_ratings": ratings.n_ratings, "n_rejected": int(rejected.sum()),
              **(summary or {})}
    return SubjectAnalysis(method, stimuli, subjects, totals)


def _check_ci(ci: str, level: float) -> Any:
    """The quantile function q(df) of the two-sided interval at ``level``."""
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    upper = (1.0 + float(level)) / 2.0
    if ci == "normal":
        z = float(special.ndtri(upper))
        return lambda df: np.full(np.shape(df), z)
    if ci == "t":
        return lambda df: stats.t.ppf(upper, df)
    raise ValueError(f"ci must be 'normal' or 't', got {ci!r}")


def _group_pearson(
    g: NDArray[np.int64], x: NDArray[np.float64], y: NDArray[np.float64], size: int
) -> NDArray[np.float64]:
    """Pearson correlation of x and y within each group; 0 where either does not vary."""
    n = np.maximum(np.bincount(g, minlength=size), 1)
    dx = x - (np.bincount(g, weights=x, minlength=size) / n)[g]
    dy = y - (np.bincount(g, weights=y, minlength=size) / n)[g]
    sxy = np.bincount(g, weights=dx * dy, minlength=size)
    sxx = np.bincount(g, weights=dx * dx, minlength=size)
    syy = np.bincount(g, weights=dy * dy, minlength=size)
    scale = np.sqrt(sxx * syy)
    # spreads at the level of rounding count as constant
    tiny = (sxx <= 1e-24 * n) | (syy <= 1e-24 * n)
    return np.where(tiny, 0.0, sxy / np.where(tiny, 1.0, scale))


def _group_ranks(g: NDArray[np.int64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Ranks 1.. of x within each group, ties given their average rank."""
    order = np.lexsort((x, g))
    gs, xs = g[order], x[order]
    new_group = np.r_[True, gs[1:] != gs[:-1]]
    new_value = new_group | np.r_[True, xs[1:] != xs[:-1]]
    position = np.arange(len(x), dtype=np.float64)
    group_start = np.maximum.accumulate(np.where(new_group, position, 0.0))
    run = np.cumsum(new_value) - 1
    run_first = position[new_value]
    run_last = np.r_[run_first[1:] - 1, len(x) - 1]
    ranks_sorted = (run_first[run] + run_last[run]) / 2.0 - group_start + 1.0
    out = np.empty(len(x))
    out[order] = ranks_sorted
    return out


# --------------------------------------------------------------------------------------------
# models of subject bias and inconsistency


def p910(
    ratings: Ratings,
    quality_std: Literal["stimulus", "subject"] = "stimulus",
    level: float = 0.95,
    tol: float = 1e-8,
    max_iter: int = 1000,
) -> SubjectAnalysis:
    """ITU-T P.910 Annex E: subject bias and inconsistency by alternating projection.

    Model u_jir = ψ_j + Δ_i + υ_i·X, X ~ N(0, 1) (Li et al., HVEI 2020). Start with
    ψ_j = MOS_j and Δ_i = mean_j(u − ψ_j); then repeat

    1. residuals e = u − ψ_j − Δ_i; υ_i = population sd (ddof 0, about its own mean) of e
       over subject i's ratings;
    2. ψ_j = Σ w_i (u − Δ_i) / Σ w_i over stimulus j's ratings, w_i = 1/(υ_i² + 1e-8);
    3. Δ_i = mean over subject i's ratings of (u − ψ_j);

    until ‖ψ − ψ_prev‖₂ < ``tol`` (or ``max_iter`` rounds), and shift so that mean_i Δ_i = 0
    (Δ ← Δ − m, ψ ← ψ + m). NFLX public converges in 14 rounds.

    Standard errors (sureal's): std(ψ_j) = υ_j/√n_j with υ_j the sd (ddof 0) of the last
    residuals of stimulus j (``quality_std="stimulus"``, P.910 and sureal's ``P910``), or
    1/√(Σ_i υ_i⁻²) over stimulus j's ratings (``"subject"``, sureal's ``MLE_CO_AP``);
    std(Δ_i) = υ_i/√k_i; std(υ_i) = 1/√(−∂²L/∂υ_i²) = 1/√(Σ_j (3e²/υ_i⁴ − 1/υ_i²)) at the
    estimate. Intervals: ψ and Δ ± z·std; υ_i from χ² with k_i degrees of freedom,
    [υ_i √(k_i/χ²_{k_i}((1+level)/2)), υ_i √(k_i/χ²_{k_i}((1−level)/2))]. A subject with
    υ_i = 0 has std(Δ_i) = std(υ_i) = 0.

    With few subjects the rounds can settle where ψ follows one subject exactly: its υ_i
    becomes 0 and its weight 1e8 (a degenerate fixed point of the projection, reached by sureal
    alike). Look at ``subjects["inconsistency"]`` before trusting ψ on a small panel.

    Returns
    -------
    SubjectAnalysis
        ``stimuli``: ``id``, ``n``, ``quality`` (ψ_j), ``std``, ``ci_low``, ``ci_high``;
        ``subjects``: ``id``, ``n``, ``bias`` (Δ_i), ``inconsistency`` (υ_i), each with
        ``_std``, ``_ci_low``, ``_ci_high``; ``rejected`` (all False). ``summary`` with
        LL = Σ log φ(u; ψ_j + Δ_i, υ_i)/N and dof = (n_stimuli + 2·n_subjects)/N.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> bias = np.array([0.5, 0.0, -0.5, 0, 0, 0.2, -0.2, 0])
    >>> sd = np.array([0.4, 0.6, 1.0, 0.5, 0.5, 0.8, 0.8, 0.5])
    >>> u = rng.uniform(1.5, 4.5, (40, 1)) + bias + rng.normal(0, sd, (40, 8))
    >>> res = p910(Ratings.from_wide(pd.DataFrame(np.clip(np.rint(u), 1, 5))))
    >>> res
    SubjectAnalysis(method='p910', stimuli=40, subjects=8, rejected=0)
    >>> res.subjects[["id", "bias", "inconsistency"]].head(3).round(2)
       id  bias  inconsistency
    0   0  0.59           0.48
    1   1  0.04           0.55
    2   2 -0.53           0.81
    """
    if quality_std not in ("stimulus", "subject"):
        raise ValueError(f"quality_std must be 'stimulus' or 'subject', got {quality_std!r}")
    z = float(_check_ci("normal", level)(1.0))
    _check_iteration(tol, max_iter)
    cells = Cells.of(ratings)
    u, at_j, at_i = cells.u, cells.at_stimulus, cells.at_subject
    n_j, k_i = cells.per_stimulus(), cells.per_subject()
    psi, delta, upsilon, psi_last, delta_last, iteration, converged = alternating_projection(
        cells.j, cells.i, ratings.values.astype(np.float64), cells.n_stimuli, cells.n_subjects,
        WEIGHT_EPSILON, float(tol), int(max_iter))
    e = u - at_j(psi_last) - at_i(delta_last)
    with np.errstate(divide="ignore", invalid="ignore"):
        if quality_std == "stimulus":
            psi_std = cells.std_per_stimulus(e) / np.sqrt(n_j)
        else:
            psi_std = 1.0 / np.sqrt(cells.per_stimulus(cells.full(at_i(1.0 / upsilon**2))))
        delta_std = upsilon / np.sqrt(k_i)
        r = u - at_j(psi) - at_i(delta)
        v2 = at_i(upsilon**2)
        curvature = cells.per_subject(cells.full(1.0 / v2 - 3.0 * r**2 / v2**2))
        upsilon_std = np.where(upsilon > 0, 1.0 / np.sqrt(np.maximum(0.0, -curvature)), 0.0)
        loglik = _gaussian_loglik(r, v2)
    shift = float(np.mean(delta))
    delta, psi = delta - shift, psi + shift
    n_params = cells.n_stimuli + 2 * cells.n_subjects
    return SubjectAnalysis(
        "p910",
        _stimulus_frame(ratings, n_j, psi, psi_std, z),
        _model_subjects(ratings, k_i, delta, delta_std, upsilon, upsilon_std, z, level),
        _model_summary(ratings.n_ratings, iteration, converged, loglik, n_params),
    )


def mle(
    ratings: Ratings,
    content_ambiguity: bool = True,
    level: float = 0.95,
    tol: float = 1e-8,
    max_iter: int = 10000,
) -> SubjectAnalysis:
    """Maximum-likelihood subject model with content ambiguity (Li & Bampis, DCC 2017).

    u_jir ~ N(x_j + b_i, v_i² + a_c(j)²): true quality x_j, subject bias b_i and
    inconsistency v_i, and the ambiguity a_c shared by the stimuli of a source content c
    (:attr:`Ratings.contents`). The log-likelihood over the observed ratings is
    L = Σ [−½ log(2π(v_i² + a_c²)) − (u − x_j − b_i)²/(2(v_i² + a_c²))].
    With ``content_ambiguity=False`` a ≡ 0 (sureal's ``MLE_CO``, the model of :func:`p910`,
    whose optimum it shares).

    Solver (sureal's ``MLE``, "simplified" gradients): start with x = MOS, b = 0, v_i and a_c
    the population sds of the residuals u − MOS_j per subject and per content; then update in
    turn b (its exact maximizer Σ(u − x)/σ² / Σ 1/σ², σ² = v² + a²), v and a (one Newton step
    on ∂L/∂θ with ∂²L/∂θ², clipped at 0) and x (exact maximizer), each damped as
    θ ← 0.9 θ + 0.1 θ_new, until ‖x − x_prev‖₂ < ``tol``; then shift so that mean_i b_i = 0.

    Standard errors are 1/√(−∂²L/∂θ²) at the last iterate (for x and b: 1/√(Σ 1/σ²));
    intervals ± z·std, except v_i from χ² with k_i degrees of freedom as in :func:`p910`, and
    a_c clipped at 0 below. A content whose curvature is not negative has std = inf.

    Parameters
    ----------
    ratings : Ratings
        With :attr:`~Ratings.contents` when ``content_ambiguity`` is True.
    content_ambiguity : bool
        Model a_c (True, sureal's ``MLE``) or not (False, sureal's ``MLE_CO``).
    level, tol, max_iter
        Confidence level, stopping tolerance on ‖Δx‖₂, most rounds.

    Returns
    -------
    SubjectAnalysis
        As :func:`p910`; with content ambiguity also ``contents`` (``id``, ``n``,
        ``ambiguity``, ``ambiguity_std``, ``ambiguity_ci_low``, ``ambiguity_ci_high``);
        dof = (n_stimuli + 2·n_subjects (+ n_contents))/N.

    Raises
    ------
    ValueError
        If ``content_ambiguity`` is True and the ratings have no contents; if the iteration
        runs into a point where the likelihood has no finite maximum (without content
        ambiguity always for a subject with a single rating; in general a subject whose
        ratings the model fits exactly, υ_i → 0 with a_c = 0), naming the subjects. (The
        likelihood is unbounded near any such point; like sureal's solver this one follows
        the interior stationary point from its start, and where it drifts towards a
        singular point without reaching it returns that point, with a very small υ_i.)
    """
    z = float(_check_ci("normal", level)(1.0))
    _check_iteration(tol, max_iter)
    if content_ambiguity and ratings.contents is None:
        raise ValueError(
            "mle with content_ambiguity=True needs the contents of the stimuli (Ratings."
            "from_long(..., content=...) or a sureal file); use content_ambiguity=False"
        )
    cells = Cells.of(ratings)
    u, at_j, at_i = cells.u, cells.at_stimulus, cells.at_subject
    n_j, k_i = cells.per_stimulus(), cells.per_subject()
    if not content_ambiguity and np.any(k_i < 2):
        raise ValueError(_unbounded(ratings, np.flatnonzero(k_i < 2), "has a single rating"))
    if content_ambiguity:
        codes, _ = pd.factorize(pd.Series(ratings.contents, dtype=object))
        content_ids = ratings.contents[np.unique(codes, return_index=True)[1]]
    else:
        codes, content_ids = np.zeros(cells.n_stimuli, dtype=np.int64), np.array([0])
    codes = codes.astype(np.int64)
    n_contents = len(content_ids)
    n_c = np.bincount(codes, weights=n_j, minlength=n_contents)

    def per_content(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.bincount(codes, weights=cells.per_stimulus(x), minlength=n_contents)

    def at_c(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return at_j(x[codes])

    x = cells.per_stimulus(u) / n_j
    residual = u - at_j(x)
    b = np.zeros(cells.n_subjects)
    v = cells.std_per_subject(residual)
    a = np.zeros(n_contents)
    if content_ambiguity:
        mean_c = per_content(residual) / n_c
        a = np.sqrt(per_content((residual - at_c(mean_c)) ** 2) / n_c)
    a_std = np.zeros(n_contents)
    rate = REFRESH_RATE
    converged, iteration = False, 0
    with np.errstate(divide="ignore", invalid="ignore"):
        while not converged and iteration < max_iter:
            iteration += 1
            previous = x
            at = at_c(a)
            s2 = at_i(v**2) + at**2
            den = cells.per_subject(1.0 / s2)
            b = (1 - rate) * b + rate * cells.per_subject((u - at_j(x)) / s2) / den
            b_std = 1.0 / np.sqrt(np.maximum(0.0, den))
            e = u - at_j(x) - at_i(b)
            vt = at_i(v)
            plus, minus = vt**2 + at**2, vt**2 - at**2
            grad = cells.per_subject(-vt / plus + vt * e**2 / plus**2)
            curv = cells.per_subject(
                minus / plus**2 + e**2 * (at**4 - 3 * vt**4 - 2 * vt**2 * at**2) / plus**4
            )
            v = np.maximum((1 - rate) * v + rate * (v - grad / curv), 0.0)
            v_std = 1.0 / np.sqrt(np.maximum(0.0, -curv))
            if content_ambiguity:
                vt = at_i(v)
                plus, minus = vt**2 + at**2, vt**2 - at**2
                grad = per_content(-at / plus + at * e**2 / plus**2)
                curv = per_content(
                    -minus / plus**2 + e**2 * (vt**4 - 3 * at**4 - 2 * vt**2 * at**2) / plus**4
                )
                a = np.maximum((1 - rate) * a + rate * (a - grad / curv), 0.0)
                a_std = 1.0 / np.sqrt(np.maximum(0.0, -curv))
            s2 = at_i(v**2) + at_c(a) ** 2
            den = cells.per_stimulus(1.0 / s2)
            x = (1 - rate) * x + rate * cells.per_stimulus((u - at_i(b)) / s2) / den
            x_std = 1.0 / np.sqrt(np.maximum(0.0, den))
            converged = bool(np.linalg.norm(previous - x) < tol)
        loglik = _gaussian_loglik(u - at_j(x) - at_i(b), at_i(v**2) + at_c(a) ** 2)
    if not (np.isfinite(loglik) and np.isfinite(x).all() and np.isfinite(v).all()):
        # the iteration ran into v_i² + a_c² = 0: the likelihood has no finite maximum there
        raise ValueError(_unbounded(ratings, np.flatnonzero(~(v > 0)), "is fitted exactly"))
    shift = float(np.mean(b))
    b, x = b - shift, x + shift
    n_params = cells.n_stimuli + 2 * cells.n_subjects + (n_contents if content_ambiguity else 0)
    contents = None
    if content_ambiguity:
        half = z * a_std
        contents = {
            "id": content_ids, "n": n_c.astype(np.int64), "ambiguity": a,
            "ambiguity_std": a_std, "ambiguity_ci_low": np.maximum(a - half, 0.0),
            "ambiguity_ci_high": a + half,
        }
    return SubjectAnalysis(
        "mle" if content_ambiguity else "mle_co",
        _stimulus_frame(ratings, n_j, x, x_std, z),
        _model_subjects(ratings, k_i, b, b_std, v, v_std, z, level),
        _model_summary(ratings.n_ratings, iteration, converged, loglik, n_params),
        contents,
    )


def _unbounded(ratings: Ratings, subjects: NDArray[np.int64], why: str) -> str:
    """The message of a Gaussian subject model without a finite maximum."""
    frame = ratings.to_frame()
    names = ratings.subjects[subjects]
    parts = []
    for name in names[:5]:
        rows = frame[frame["subject"] == name]
        name = name.item() if isinstance(name, np.generic) else name
        first = rows.iloc[0]
        stimulus = first["stimulus"]
        stimulus = stimulus.item() if isinstance(stimulus, np.generic) else stimulus
        parts.append(f"subject {name!r} ({len(rows)} rating(s); first: stimulus "
                     f"{stimulus!r}, rating {first['rating']})")
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return (
        f"the maximum-likelihood subject model has no finite optimum: {', '.join(parts)}{more} "
        f"{why}, so its inconsistency goes to 0 and the likelihood grows without bound; drop "
        "such subjects, or use rd.subjects.p910 (whose weights 1/(υ² + ε) stay finite) or the "
        "quantized subject model rd.subjects.fit"
    )


def _gaussian_loglik(residual: NDArray[np.float64], var: NDArray[np.float64]) -> float:
    """Σ log φ(residual; 0, var): the Gaussian log-density of the ratings; +inf where a
    variance is 0 (the density is unbounded at such a degenerate optimum)."""
    if np.any(var <= 0):
        return np.inf
    return float(np.sum(-0.5 * np.log(2 * np.pi * var) - residual**2 / (2 * var)))


def _check_iteration(tol: float, max_iter: int) -> None:
    if not float(tol) > 0:
        raise ValueError(f"tol must be > 0, got {tol!r}")
    if isinstance(max_iter, bool) or not float(max_iter).is_integer() or max_iter < 1:
        raise ValueError(f"max_iter must be a whole number >= 1, got {max_iter!r}")


def _stimulus_frame(
    ratings: Ratings,
    n: NDArray[np.float64],
    quality: NDArray[np.float64],
    std: NDArray[np.float64],
    z: float,
) -> dict[str, NDArray[Any]]:
    return {"id": ratings.ids, "n": n.astype(np.int64), "quality": quality, "std": std,
            "ci_low": quality - z * std, "ci_high": quality + z * std}


def _model_subjects(
    ratings: Ratings,
    k: NDArray[np.float64],
    bias: NDArray[np.float64],
    bias_std: NDArray[np.float64],
    inconsistency: NDArray[np.float64],
    inconsistency_std: NDArray[np.float64],
    z: float,
    level: float,
) -> dict[str, NDArray[Any]]:
    """Subject table with the χ² interval of the inconsistency (k_i degrees of freedom)."""
    # chdtri(k, y) is the χ²_k quantile of 1 − y
    low = inconsistency * np.sqrt(k / special.chdtri(k, (1 - level) / 2))
    high = inconsistency * np.sqrt(k / special.chdtri(k, (1 + level) / 2))
    return {
        "id": ratings.subjects, "n": k.astype(np.int64),
        "bias": bias, "bias_std": bias_std,
        "bias_ci_low": bias - z * bias_std, "bias_ci_high": bias + z * bias_std,
        "inconsistency": inconsistency, "inconsistency_std": inconsistency_std,
        "inconsistency_ci_low": low, "inconsistency_ci_high": high,
        "rejected": np.zeros(len(k), dtype=bool),
    }


def _model_summary(
    n_ratings: int, iterations: int, converged: bool, loglik: float, n_params: int
) -> dict[str, Any]:
    ll, dof = loglik / n_ratings, n_params / n_ratings
    return {
        "n_ratings": n_ratings, "n_rejected": 0, "n_iterations": iterations,
        "converged": converged, "loglikelihood": ll, "dof": dof, "aic": 2 * dof - 2 * ll,
        "bic": float(np.log(n_ratings) * dof - 2 * ll),
    }
