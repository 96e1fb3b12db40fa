"""The figures of rating-distribution studies, drawn with matplotlib.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot, so nothing is
shown and no global state is touched: save it with ``fig.savefig(path)``; in Jupyter, after
``%matplotlib inline``, a returned figure is displayed. Functions that draw a single panel
accept ``ax=`` to draw into an existing axes instead.

- :func:`gtest_cdf`: empirical cdfs of the per-stimulus G statistics of several families
  against the χ²(K − 3) cdf, the main figure of the reference study;
- :func:`psi_v_plane`: the stimuli at (sample mean ψ, sample variance v) coloured by G, one
  panel per family, inside the feasible region v_min(ψ) ≤ v ≤ v_max(ψ);
- :func:`observed_vs_fitted`: observed and fitted pmfs of chosen stimuli;
- :func:`pp_plot`: the p-value P–P plot of the study-consistency check (Nawała et al. 2020);
- :func:`latent_density`: the latent quality density of one stimulus under a quantized family,
  with its quantiles;
- :func:`model_difference_map`, :func:`model_difference_matrix`: L1 or Aitchison distance
  between the members of two families that share a mean and a variance, over the (ψ, v) plane
  (:func:`difference_grid` gives the numbers);
- :func:`subject_bias`: bias and inconsistency of every subject of a subject analysis
  (:mod:`ratingdist.subjects`) with their intervals, rejected subjects marked;
- :func:`stimulus_quality`: the quality of every stimulus with its interval, sorted, one or
  more analyses overlaid (e.g. the MOS against the P.910 quality);
- :func:`thresholds`: the category thresholds of an adaptive fit per group on the latent axis,
  with their intervals.

References
----------
Saupe, Rusek, Hägele, Weiskopf, Janowski, "Maximum entropy and quantized metric models for
absolute category ratings", IEEE Signal Processing Letters 31 (2024) 2970–2974.
Nawała, Janowski, Ćmiel, Rusek, "Describing subjective experiment consistency by p-value P–P
plot", ACM Multimedia 2020.
Aitchison, "The statistical analysis of compositional data", Chapman & Hall (1986).
ITU-T P.910 (11/2021) Annex E; Z. Li, C. G. Bampis, L. Janowski, I. Katsavounidis, "A simple
model for subject behavior in subjective experiments", Human Vision and Electronic Imaging 2020.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations

import numpy as np
from matplotlib import colors
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray
from pandas import DataFrame
from scipy import stats

from . import gof, scale
from .evaluation.distances import aitchison
from .families import FAMILIES, Family, family
from .fitting import FitResult

#: A fixed colour per family, the same in every figure.
FAMILY_COLOURS: dict[str, str] = {name: f"C{i}" for i, name in enumerate(FAMILIES)}
METRICS = ("l1", "aitchison")
_METRIC_LABELS = {"l1": "L1 distance", "aitchison": "Aitchison distance"}
#: Default (ψ, ρ) grid of the model-difference maps: ψ step 0.02, ρ step 0.01.
DEFAULT_GRID = (199, 99)
#: ρ range of the maps (on the boundary ρ ∈ {0, 1} all families coincide).
DEFAULT_RHO = (0.01, 0.99)


# -- helpers -------------------------------------------------------------------------------
def _as_results(results: Mapping[str, FitResult] | Iterable[FitResult]) -> dict[str, FitResult]:
    """Fits keyed by family name; all of the same stimuli."""
    items = dict(results) if isinstance(results, Mapping) else {r.family.name: r for r in results}
    if not items:
        raise ValueError("no fits to plot")
    first = next(iter(items.values()))
    for name, res in items.items():
        if not isinstance(res, FitResult):
            raise TypeError(f"{name}: expected a FitResult, got {type(res).__name__}")
        if len(res) != len(first) or not np.array_equal(res.counts.ids, first.counts.ids):
            raise ValueError(f"{name}: the fits must be of the same stimuli")
    return items


def _colour(name: str, index: int) -> str:
    return FAMILY_COLOURS.get(name, f"C{index % 10}")


def _new_axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    return Figure(figsize=size, layout="constrained").add_subplot()


def _panels(n: int, ncols: int, size: tuple[float, float]) -> tuple[Figure, list[Axes]]:
    """A figure with n panels in rows of ``ncols`` (extra grid cells removed)."""
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for extra in axes[n:]:
        extra.remove()
    return fig, list(axes[:n])


def _positions(ids: NDArray, stimuli: Iterable) -> NDArray[np.intp]:
    """Row positions of stimulus ids (compared as strings, so "1000" finds the id 1000)."""
    index = {str(s): i for i, s in enumerate(ids)}
    wanted = [str(s) for s in stimuli]
    if not wanted:
        raise ValueError("no stimuli given")
    for s in wanted:
        if s not in index:
            examples = ", ".join(repr(str(i)) for i in ids[:3])
            raise ValueError(f"unknown stimulus id {s!r} (ids look like {examples}, ...)")
    return np.array([index[s] for s in wanted], dtype=np.intp)


def _finish(ax: Axes, legend_loc: str, title: str | None = None) -> Figure:
    """The common last touches of a single-panel figure: legend, light grid, optional title."""
    ax.legend(loc=legend_loc, fontsize="small")
    ax.grid(alpha=0.3)
    if title is not None:
        ax.set_title(title)
    return ax.figure


def _degrees_of_freedom(K: int) -> int:
    if K < 4:
        raise ValueError(f"the G-test of a two-parameter family needs K >= 4, got K = {K}")
    return K - 3


def draw_feasible_region(ax: Axes, K: int = scale.DEFAULT_K, points: int = 801) -> None:
    """Draw the boundary curves v_min(ψ) = (⌈ψ⌉ − ψ)(ψ − ⌊ψ⌋) and v_max(ψ) = (ψ − 1)(K − ψ)."""
    psi = np.linspace(1.0, K, points)
    ax.plot(psi, scale.v_max(psi, K), color="0.3", lw=0.8)
    ax.plot(psi, scale.v_min(psi), color="0.3", lw=0.8)
    ax.set_xlim(1, K)
    ax.set_ylim(0, float(scale.v_max((1 + K) / 2, K)) * 1.03)
    ax.set_xlabel("mean ψ")
    ax.set_ylabel("variance v")


# -- G statistics --------------------------------------------------------------------------
def gtest_cdf(
    results: Mapping[str, FitResult] | Iterable[FitResult],
    *,
    g_max: float | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Empirical cdfs of the G statistics of several fits against the χ²(K − 3) cdf.

    G = 2 Σ_k c_k log(c_k/(N p_k)) per stimulus; if a family fits, G is asymptotically χ²
    with K − 1 − 2 degrees of freedom, so its empirical cdf should follow the χ² cdf (dashed).
    The dotted line is the critical value of the test at p = 0.05 (5.99 for K = 5). A curve
    below the χ² cdf means more large G values than chance allows.

    Parameters
    ----------
    results : fits of the same stimuli, ``{family: FitResult}`` (e.g. from ``rd.fit_all``).
    g_max : right end of the G axis; default the 99.9 % quantile of χ²(K − 3).
    title : axes title.
    ax : draw into this axes.

    Examples
    --------
    >>> import ratingdist as rd
    >>> from ratingdist import plots
    >>> counts = rd.family("beta").sample_counts([[4.0, 2.0]] * 50, 24, rng=0)
    >>> fig = plots.gtest_cdf(rd.fit_all(counts, ["beta", "gsd"]))
    >>> len(fig.axes[0].lines)
    4
    """
    items = _as_results(results)
    K = next(iter(items.values())).K
    df = _degrees_of_freedom(K)
    g_max = float(stats.chi2.ppf(0.999, df)) if g_max is None else float(g_max)
    ax = _new_axes(ax, (6.4, 4.2))
    for i, (name, res) in enumerate(items.items()):
        g = np.sort(res.g)
        share = np.arange(1, len(g) + 1) / len(g)
        ax.step(
            np.r_[0.0, g], np.r_[0.0, share], where="post", color=_colour(name, i), lw=1.4,
            label=f"{name} (mean G {res.g.mean():.2f}, {np.mean(res.p_value < 0.05):.1%} p<0.05)",
        )
    x = np.linspace(0.0, g_max, 400)
    ax.plot(x, stats.chi2.cdf(x, df), "k--", lw=1.2, label=f"χ²({df}) cdf")
    critical = float(stats.chi2.ppf(0.95, df))
    ax.axvline(critical, color="0.4", ls=":", lw=1.0, label=f"p = 0.05 (G = {critical:.2f})")
    ax.set_xlim(0.0, g_max)
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("G statistic")
    ax.set_ylabel("share of stimuli with G ≤ x")
    return _finish(ax, "lower right", title)


def psi_v_plane(
    results: Mapping[str, FitResult] | Iterable[FitResult],
    *,
    g_max: float | None = None,
    ncols: int = 4,
    point_size: float = 3.0,
    cmap: str = "viridis",
    zoom: bool = True,
) -> Figure:
    """The stimuli in the (ψ, v) plane coloured by the G statistic of each family's fit.

    One panel per family; every stimulus sits at its sample mean ψ and population variance v
    (the moments the families are parameterized by), between the curves v_min(ψ) and v_max(ψ).
    Stimuli with larger G are drawn on top; the colour scale is shared and capped at ``g_max``.

    Parameters
    ----------
    results : fits of the same stimuli, ``{family: FitResult}``.
    g_max : top of the colour scale; default the 99 % quantile of χ²(K − 3) (9.21 for K = 5).
    ncols : panels per row.
    point_size : marker area in points².
    cmap : matplotlib colour map.
    zoom : limit the axes to the stimuli (True) or show the whole feasible region.

    Examples
    --------
    >>> import ratingdist as rd
    >>> from ratingdist import plots
    >>> counts = rd.family("beta").sample_counts([[4.0, 2.0]] * 50, 24, rng=0)
    >>> fig = plots.psi_v_plane(rd.fit_all(counts, ["beta", "gsd", "normal"]))
    >>> len(fig.axes)  # three panels and the colour bar
    4
    """
    items = _as_results(results)
    first = next(iter(items.values()))
    K = first.K
    df = _degrees_of_freedom(K)
    g_max = float(stats.chi2.ppf(0.99, df)) if g_max is None else float(g_max)
    mean, var = first.counts.mean(), first.counts.var()
    norm = colors.Normalize(0.0, g_max)
    fig, axes = _panels(len(items), ncols, (3.3, 2.8))
    for ax, (name, res) in zip(axes, items.items()):
        order = np.argsort(res.g, kind="stable")
        points = ax.scatter(
            mean[order], var[order], c=res.g[order], s=point_size, norm=norm, cmap=cmap,
            linewidths=0, rasterized=True,
        )
        draw_feasible_region(ax, K)
        if zoom:
            ax.set_xlim(max(1.0, mean.min() - 0.1), min(K, mean.max() + 0.1))
            ax.set_ylim(0.0, var.max() * 1.08)
        ax.set_title(f"{name}: mean G {res.g.mean():.2f}", fontsize="medium")
    bar = fig.colorbar(points, ax=axes, extend="max", shrink=0.9)
    bar.set_label(f"G (χ²({df}) critical value {stats.chi2.ppf(0.95, df):.2f} marked)")
    bar.ax.axhline(stats.chi2.ppf(0.95, df), color="w", lw=1.5)
    return fig


# -- single stimuli ------------------------------------------------------------------------
def observed_vs_fitted(
    results: Mapping[str, FitResult] | Iterable[FitResult],
    stimuli: Sequence,
    *,
    ncols: int = 3,
) -> Figure:
    """Observed rating shares (bars) and the fitted pmfs of several families, per stimulus.

    Parameters
    ----------
    results : fits of the same stimuli, ``{family: FitResult}``.
    stimuli : stimulus ids, one panel each (compared as strings).
    ncols : panels per row.

    Examples
    --------
    >>> import ratingdist as rd
    >>> from ratingdist import plots
    >>> counts = rd.RatingCounts(["a", "b"], [[0, 0, 25, 73, 7], [5, 13, 6, 0, 0]])
    >>> fig = plots.observed_vs_fitted(rd.fit_all(counts, ["normal", "gsd"]), ["a", "b"])
    >>> [ax.get_title() for ax in fig.axes]
    ['a (N = 105, MOS 3.83)', 'b (N = 24, MOS 2.04)']
    """
    items = _as_results(results)
    first = next(iter(items.values()))
    rows = _positions(first.counts.ids, stimuli)
    K = first.K
    k = scale.support(K)
    observed = first.counts.counts / first.counts.n_ratings[:, None]
    fig, axes = _panels(len(rows), ncols, (3.3, 2.6))
    for ax, row in zip(axes, rows):
        ax.bar(k, observed[row], color="0.82", edgecolor="0.5", label="observed")
        for i, (name, res) in enumerate(items.items()):
            ax.plot(k, res.probs[row], marker="o", ms=3.5, lw=1.2, color=_colour(name, i),
                    label=name)
        n = int(first.counts.n_ratings[row])
        ax.set_title(f"{first.counts.ids[row]} (N = {n}, MOS {first.counts.mean()[row]:.2f})",
                     fontsize="medium")
        ax.set_xticks(k)
        ax.set_xlabel("rating")
        ax.set_ylabel("probability")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 8),
               fontsize="small")
    return fig


def latent_density(
    fit_result: FitResult,
    stimulus,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    *,
    points: int = 600,
    ax: Axes | None = None,
) -> Figure:
    """Latent quality density of one stimulus under a quantized family, with its quantiles.

    The density f of the fitted latent X is drawn on the rating axis (u = 0.5 + K·x for the
    unit-interval families), with the thresholds that cut it into categories (grey) and the
    quantiles Q_α = F⁻¹(α) (red). The bars are the observed shares c_k/N spread over each
    category's interval between thresholds (height c_k/(N·width)), so that their areas compare
    with the areas under f.

    Parameters
    ----------
    fit_result : a fit of a quantized family (normal, logistic, beta, kumaraswamy,
        logit-logistic).
    stimulus : the stimulus id (compared as a string).
    quantiles : levels α in (0, 1).
    points : evaluation points of the density.
    ax : draw into this axes.

    Raises
    ------
    ValueError
        For a discrete family (maxent, GSD: no latent quality), or a stimulus whose fit is a
        limit of the family (its latent law has no density).

    Examples
    --------
    >>> import ratingdist as rd
    >>> from ratingdist import plots
    >>> res = rd.fit(rd.RatingCounts(["img"], [[0, 0, 25, 73, 7]]), "normal")
    >>> fig = plots.latent_density(res, "img")
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['Q10 3.25', 'Q50 3.82', 'Q90 4.40']
    """
    fam = fit_result.family
    if not fam.is_latent:
        raise ValueError(
            f"the {fam.name} family has no continuous latent quality; latent densities need a "
            f"quantized family ({', '.join(FAMILIES[:5])})"
        )
    levels = np.asarray(quantiles, dtype=np.float64)
    if levels.ndim != 1 or np.any((levels <= 0) | (levels >= 1)):
        raise ValueError(f"quantile levels must lie in (0, 1), got {quantiles!r}")
    row = int(_positions(fit_result.counts.ids, [stimulus])[0])
    if fit_result.limit[row]:
        raise ValueError(
            f"stimulus {stimulus!r}: its ratings lie in one category, two neighbouring ones or "
            f"only 1 and K, so the {fam.name} fit is a limit with no latent density"
        )
    K, params = fit_result.K, fit_result.params[row]
    t = fam.thresholds(K)
    t = 0.5 + K * t if fam.unit_interval else t
    edges = np.r_[2 * t[0] - t[1], t, 2 * t[-1] - t[-2]]
    q = fam.latent_ppf(params, levels, K)
    tails = fam.latent_ppf(params, np.array([1e-3, 1 - 1e-3]), K)
    u = np.linspace(min(edges[0], tails[0]), max(edges[-1], tails[1]), points)
    ax = _new_axes(ax, (6.4, 3.8))
    c = fit_result.counts.counts[row]
    share = c / c.sum()
    ax.bar(edges[:-1], share / np.diff(edges), width=np.diff(edges), align="edge", color="0.85",
           edgecolor="0.6", label="observed share per category")
    ax.plot(u, fam.latent_pdf(params, u, K), color=_colour(fam.name, 0), lw=1.8,
            label=f"{fam.name} latent density")
    for threshold in t:
        ax.axvline(threshold, color="0.6", lw=0.8)
    top = ax.get_ylim()[1]
    for level, value in zip(levels, q):
        ax.axvline(value, color="C3", ls="--", lw=1.2)
        ax.text(value, top * 0.97, f"Q{100 * level:g} {value:.2f}", rotation=90, ha="right",
                va="top", color="C3", fontsize="small")
    ax.set_xlim(u[0], u[-1])
    ax.set_xticks(scale.support(K))
    ax.set_xlabel("quality on the rating axis")
    ax.set_ylabel("density")
    ax.set_title(f"{fit_result.counts.ids[row]} (N = {c.sum()}): {fam.name} fit")
    ax.legend(loc="upper left", fontsize="small")
    return ax.figure


# -- consistency ---------------------------------------------------------------------------
def pp_plot(
    p_values: ArrayLike | FitResult | Mapping[str, ArrayLike | FitResult],
    *,
    alpha: float = 0.2,
    z: float = 1.645,
    ax: Axes | None = None,
) -> Figure:
    """P–P plot of per-stimulus G-test p-values, the consistency check of Nawała et al. (2020).

    For α in (0, max(α₀, 0.2)] it draws the share of stimuli with p ≤ α and the one-sided
    binomial bound α + z·√(α(1 − α)/n) (dashed): a consistent study stays below the bound.
    The legend gives the verdict of :func:`ratingdist.gof.consistency` at α₀ = ``alpha``.

    Parameters
    ----------
    p_values : p-values of one fit (an array or a FitResult), or a mapping label → p-values
        or FitResult for several curves.
    alpha : the level α₀ of the verdict.
    z : the normal quantile of the bound (1.645: one-sided 95 %).
    ax : draw into this axes.

    Examples
    --------
    >>> import numpy as np
    >>> from ratingdist import plots
    >>> p = np.linspace(0.0, 1.0, 501)[1:]  # evenly spread, as under a consistent study
    >>> fig = plots.pp_plot({"uniform": p})
    >>> fig.axes[0].get_legend().get_texts()[0].get_text()
    'uniform: 19.8 % below 0.2, consistent'
    """
    if isinstance(p_values, Mapping):
        series = dict(p_values)
    else:
        series = {"p-values": p_values}
    levels = np.linspace(0.001, max(alpha, 0.2), 200)
    ax = _new_axes(ax, (5.6, 4.2))
    bounds: dict[int, NDArray] = {}
    for i, (name, values) in enumerate(series.items()):
        p = values.p_value if isinstance(values, FitResult) else values
        pp, verdict = gof.consistency(p, alpha=alpha, levels=levels, z=z)
        word = "consistent" if verdict["consistent"] else "inconsistent"
        ax.plot(pp["alpha"], pp["share"], color=_colour(name, i), lw=1.5,
                label=f"{name}: {100 * verdict['share_below']:.1f} % below {alpha:g}, {word}")
        bounds[int(verdict["n"])] = pp["bound"].to_numpy()
    for n, bound in bounds.items():
        ax.plot(levels, bound, "k--", lw=1.0, label=f"bound α + {z:g}·√(α(1−α)/n), n = {n}")
    ax.plot(levels, levels, color="0.5", ls=":", lw=1.0, label="share = α")
    ax.set_xlim(0.0, levels[-1])
    ax.set_ylim(0.0, None)
    ax.set_xlabel("α")
    ax.set_ylabel("share of stimuli with p ≤ α")
    return _finish(ax, "upper left")


# -- model differences ---------------------------------------------------------------------
def _distance(p: NDArray[np.float64], q: NDArray[np.float64], metric: str) -> NDArray[np.float64]:
    """L1 Σ_k |p_k − q_k|, or :func:`~ratingdist.evaluation.aitchison` where both pmfs are
    positive (NaN elsewhere, and where a pmf is NaN)."""
    if metric == "l1":
        return np.abs(p - q).sum(axis=-1)
    positive = (p > 0).all(axis=-1) & (q > 0).all(axis=-1)
    d = np.full(p.shape[:-1], np.nan)
    if positive.any():
        d[positive] = aitchison(p[positive], q[positive])
    return d


def _grid_axes(
    grid: int | tuple[int, int], rho: tuple[float, float], K: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Grid points of ψ (strictly inside (1, K)) and of ρ, each 1-D."""
    n_psi, n_rho = (grid, grid) if np.isscalar(grid) else grid
    if n_psi < 2 or n_rho < 2:
        raise ValueError(f"grid needs at least 2 points per axis, got {grid!r}")
    if not 0.0 <= rho[0] < rho[1] <= 1.0:
        raise ValueError(f"rho must be an increasing pair in [0, 1], got {rho!r}")
    return np.linspace(1.0, K, int(n_psi) + 2)[1:-1], np.linspace(rho[0], rho[1], int(n_rho))


def _plane(psi: NDArray, rho: NDArray, K: int) -> tuple[NDArray, NDArray]:
    """The (ψ, v) coordinates of a ψ × ρ grid, arrays (len ψ, len ρ)."""
    psi, r = np.meshgrid(psi, rho, indexing="ij")
    return psi, scale.var_from_rho(psi, r, K)


def _cell_edges(x: NDArray, lo: float, hi: float) -> NDArray:
    """Edges of cells centred at increasing x: midpoints, the ends clipped to [lo, hi]."""
    mid = (x[1:] + x[:-1]) / 2
    return np.clip(np.r_[2 * x[0] - mid[0], mid, 2 * x[-1] - mid[-1]], lo, hi)


def _pmf_grid(fam: Family, psi: NDArray, var: NDArray, K: int) -> NDArray[np.float64]:
    """pmf_from_moments over a grid (…, K); points the family cannot match are NaN."""
    m, v = psi.ravel(), var.ravel()
    try:
        p = fam.pmf_from_moments(m, v, K)
    except RuntimeError:
        p = np.full((len(m), K), np.nan)
        for i in range(len(m)):
            try:
                p[i] = fam.pmf_from_moments(m[i], v[i], K)[0]
            except RuntimeError:
                continue
    return p.reshape(*psi.shape, K)


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")


def difference_grid(
    family_a: str | Family,
    family_b: str | Family,
    metric: str = "l1",
    *,
    grid: int | tuple[int, int] = DEFAULT_GRID,
    rho: tuple[float, float] = DEFAULT_RHO,
    K: int = scale.DEFAULT_K,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Distance between the members of two families with the same mean and variance.

    On a grid of means ψ in (1, K) and shapes ρ (v = ρ·v_min(ψ) + (1 − ρ)·v_max(ψ)), both
    families' pmfs p, q come from ``pmf_from_moments`` and are compared by

    - ``"l1"``: Σ_k |p_k − q_k| ∈ [0, 2];
    - ``"aitchison"``: ‖clr p − clr q‖₂, clr(p)_k = ln p_k − (1/K) Σ_j ln p_j (Aitchison 1986),
      the distance of compositional data, which weighs ratios, so tiny probabilities count.

    Parameters
    ----------
    family_a, family_b : family names or objects.
    metric : ``"l1"`` or ``"aitchison"``.
    grid : points (n_ψ, n_ρ), or one number for both.
    rho : the ρ range; on the boundary ρ ∈ {0, 1} all families coincide. A point a family
        could not match (none of the built-in ones leaves one) and Aitchison distances
        involving a zero probability are NaN.
    K : number of categories.

    Returns
    -------
    psi, var, distance : arrays of shape (n_ψ, n_ρ).

    Examples
    --------
    >>> from ratingdist import plots
    >>> psi, var, d = plots.difference_grid("normal", "maxent", grid=(9, 5))
    >>> d.shape, bool(d.max() < 0.2)
    ((9, 5), True)
    """
    _check_metric(metric)
    psi, var = _plane(*_grid_axes(grid, rho, K), K)
    p = _pmf_grid(family(family_a), psi, var, K)
    q = _pmf_grid(family(family_b), psi, var, K)
    return psi, var, _distance(p, q, metric)


def _norm(metric: str, d: Iterable[NDArray], vmax: float | None) -> colors.Normalize:
    """Colour scale: linear from 0 for L1; logarithmic for Aitchison, over four decades."""
    top = float(np.nanmax([np.nanmax(x) for x in d])) if vmax is None else float(vmax)
    if metric == "l1":
        return colors.Normalize(0.0, top)
    return colors.LogNorm(top * 1e-4, top, clip=True)


def _draw_difference(
    ax: Axes, axes: tuple[NDArray, NDArray], d: NDArray, norm: colors.Normalize, cmap: str, K: int
):
    """pcolormesh of distances on the curvilinear cells of the ψ × ρ grid ``axes``."""
    psi, rho = axes
    x, y = _plane(_cell_edges(psi, 1.0, K), _cell_edges(rho, 0.0, 1.0), K)
    values = np.ma.masked_invalid(np.maximum(d, norm.vmin) if norm.vmin > 0 else d)
    mesh = ax.pcolormesh(x, y, values, norm=norm, cmap=cmap, rasterized=True)
    draw_feasible_region(ax, K)
    return mesh


def model_difference_map(
    family_a: str | Family,
    family_b: str | Family,
    metric: str = "l1",
    *,
    grid: int | tuple[int, int] = DEFAULT_GRID,
    rho: tuple[float, float] = DEFAULT_RHO,
    K: int = scale.DEFAULT_K,
    vmax: float | None = None,
    cmap: str = "magma",
    ax: Axes | None = None,
) -> Figure:
    """Map of the distance between two families over the (ψ, v) plane.

    See :func:`difference_grid` for the distances and the grid; points that could not be
    computed are left blank. The L1 colour scale is linear from 0; the Aitchison one, whose
    values span orders of magnitude (tiny probabilities near v_min), is logarithmic over four
    decades below the top (``vmax``, default the largest distance).

    Examples
    --------
    >>> from ratingdist import plots
    >>> fig = plots.model_difference_map("logistic", "logit-logistic", "aitchison", grid=15)
    >>> fig.axes[0].get_title()
    'logistic vs logit-logistic'
    """
    _, _, d = difference_grid(family_a, family_b, metric, grid=grid, rho=rho, K=K)
    ax = _new_axes(ax, (5.6, 3.8))
    mesh = _draw_difference(ax, _grid_axes(grid, rho, K), d, _norm(metric, [d], vmax), cmap, K)
    ax.figure.colorbar(mesh, ax=ax, label=_METRIC_LABELS[metric])
    ax.set_title(f"{family(family_a).name} vs {family(family_b).name}")
    return ax.figure


def model_difference_matrix(
    families: Sequence[str | Family] = FAMILIES,
    metric: str = "l1",
    *,
    grid: int | tuple[int, int] = DEFAULT_GRID,
    rho: tuple[float, float] = DEFAULT_RHO,
    K: int = scale.DEFAULT_K,
    vmax: float | None = None,
    cmap: str = "magma",
) -> Figure:
    """Distance maps of every pair of families, as the lower triangle of a matrix of panels.

    Panel (i, j), i > j, compares families i and j over the (ψ, v) plane (see
    :func:`difference_grid` and, for the colour scale, :func:`model_difference_map`); the
    colour scale is shared. Each family's pmfs are computed once.

    Examples
    --------
    >>> from ratingdist import plots
    >>> fig = plots.model_difference_matrix(["normal", "beta", "gsd"], grid=11)
    >>> sorted(ax.get_title() for ax in fig.axes if ax.get_title())
    ['beta vs normal', 'gsd vs beta', 'gsd vs normal']
    """
    _check_metric(metric)
    fams = [family(f) for f in families]
    if len(fams) < 2:
        raise ValueError("a difference matrix needs at least two families")
    axes_1d = _grid_axes(grid, rho, K)
    psi, var = _plane(*axes_1d, K)
    pmfs = [_pmf_grid(f, psi, var, K) for f in fams]
    distances = {(i, j): _distance(pmfs[i], pmfs[j], metric)
                 for j, i in combinations(range(len(fams)), 2)}
    norm = _norm(metric, distances.values(), vmax)
    n = len(fams) - 1
    fig = Figure(figsize=(2.4 * n + 0.6, 2.0 * n), layout="constrained")
    axes = fig.subplots(n, n, squeeze=False)
    for (i, j), d in distances.items():
        ax = axes[i - 1, j]
        mesh = _draw_difference(ax, axes_1d, d, norm, cmap, K)
        ax.set_title(f"{fams[i].name} vs {fams[j].name}", fontsize="small")
        ax.label_outer()
    for i in range(n):
        for j in range(i + 1, n):
            axes[i, j].set_axis_off()
    if n == 1:
        fig.colorbar(mesh, ax=axes[0, 0], label=_METRIC_LABELS[metric])
    else:  # in the empty top-right corner of the matrix
        cax = axes[0, -1].inset_axes([0.45, 0.0, 0.1, 1.0])
        fig.colorbar(mesh, cax=cax, label=_METRIC_LABELS[metric])
    return fig


# -- subjects ------------------------------------------------------------------------------
def _table(result: object, name: str) -> DataFrame:
    """``result.stimuli`` or ``result.subjects`` of a subject analysis, checked."""
    table = getattr(result, name, None)
    if not isinstance(table, DataFrame):
        raise TypeError(
            f"expected a subject analysis (a result of ratingdist.subjects, with .stimuli and "
            f".subjects tables), got {type(result).__name__}"
        )
    return table


def _interval(table: DataFrame, column: str, low: str, high: str) -> NDArray[np.float64] | None:
    """Error-bar lengths (2, n) below and above ``column``; None without the interval columns.

    Infinite or undefined bounds (a stimulus with one rating, or none after screening) get no
    bar.
    """
    if low not in table or high not in table:
        return None
    value = table[column].to_numpy(dtype=np.float64)
    bars = np.vstack([value - table[low].to_numpy(dtype=np.float64),
                      table[high].to_numpy(dtype=np.float64) - value])
    return np.where(np.isfinite(bars), bars, 0.0)


def subject_bias(
    result: object,
    *,
    rejected: Iterable | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Bias and inconsistency of every subject, with their intervals; rejected subjects marked.

    The model of ITU-T P.910 Annex E and of Li & Bampis (:func:`ratingdist.subjects.p910`,
    :func:`~ratingdist.subjects.mle`) is u_jir = ψ_j + Δ_i + υ_i·X, X ~ N(0, 1): subject i
    rates Δ_i higher than the quality on average (bias, circles) and scatters with standard
    deviation υ_i (inconsistency, squares), both on the rating axis. The bars are the
    analysis' intervals (``bias_ci_low`` … ``inconsistency_ci_high``; the χ² interval for υ_i).
    A P.913 result (:func:`~ratingdist.subjects.p913`) has a bias without an interval and no
    inconsistency; only what the result holds is drawn. Rejected subjects are drawn hollow
    with a red tick label and a shaded column.

    Parameters
    ----------
    result : a subject analysis with a ``bias`` column in ``result.subjects``.
    rejected : ids of the subjects to mark (compared as strings); default the ``rejected``
        column of ``result``. Pass a screening's ``rejected`` to mark its choice on a model,
        e.g. ``subject_bias(p910, rejected=bt500.rejected)``.
    title : axes title; default the method and the number of rejected subjects.
    ax : draw into this axes.

    Raises
    ------
    ValueError
        If the analysis estimates no subject bias (MOS, BT.500, correlation screening), or a
        subject to mark is unknown.

    Examples
    --------
    >>> import pandas as pd
    >>> import ratingdist as rd
    >>> from ratingdist import plots
    >>> wide = pd.DataFrame({"s1": [5, 4, 2, 1], "s2": [4, 4, 1, 1], "s3": [5, 3, 3, 2]})
    >>> res = rd.subjects.p910(rd.Ratings.from_wide(wide))
    >>> fig = plots.subject_bias(res, rejected=["s3"])
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['s1', 's2', 's3']
    >>> fig.axes[0].get_title()
    'p910: 3 subjects, 1 marked rejected'
    """
    subjects = _table(result, "subjects")
    if "bias" not in subjects:
        method = getattr(result, "method", type(result).__name__)
        raise ValueError(
            f"the {method} analysis estimates no subject bias; use ratingdist.subjects.p910, "
            "mle or p913"
        )
    ids = subjects["id"].to_numpy()
    if rejected is None:
        marked = subjects["rejected"].to_numpy(dtype=bool) if "rejected" in subjects else (
            np.zeros(len(ids), dtype=bool))
    else:
        wanted = [str(s) for s in rejected]
        marked = np.zeros(len(ids), dtype=bool)
        if wanted:
            marked[_positions(ids, wanted)] = True
    x = np.arange(len(ids), dtype=np.float64)
    ax = _new_axes(ax, (max(6.4, 0.28 * len(ids) + 1.5), 4.0))
    for position in x[marked]:
        ax.axvspan(position - 0.5, position + 0.5, color="C3", alpha=0.08, lw=0)
    series = [("bias", "bias Δ", "o", "C0", -0.12)]
    if "inconsistency" in subjects:
        series.append(("inconsistency", "inconsistency υ", "s", "C1", 0.12))
    for column, label, marker, colour, shift in series:
        value = subjects[column].to_numpy(dtype=np.float64)
        bars = _interval(subjects, column, f"{column}_ci_low", f"{column}_ci_high")
        for keep, face, suffix in ((~marked, colour, ""), (marked, "white", ", rejected")):
            if not keep.any():
                continue
            ax.errorbar(
                x[keep] + shift, value[keep], yerr=None if bars is None else bars[:, keep],
                fmt=marker, ms=5, color=colour, mfc=face, ecolor=colour, elinewidth=1.0,
                capsize=2, label=label + suffix,
            )
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_xticks(x, [str(i) for i in ids], rotation=90 if len(ids) > 12 else 0,
                  fontsize="small")
    for tick, bad in zip(ax.get_xticklabels(), marked):
        if bad:
            tick.set_color("C3")
    ax.set_xlim(-0.7, len(ids) - 0.3)
    ax.set_xlabel("subject")
    ax.set_ylabel("rating-scale units")
    ax.legend(loc="best", fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    if title is None:
        method = getattr(result, "method", "subjects")
        title = f"{method}: {len(ids)} subjects, {int(marked.sum())} marked rejected"
    ax.set_title(title)
    return ax.figure


def stimulus_quality(
    results: object | Mapping[str, object] | Sequence[object],
    *,
    sort: bool = True,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """The quality of every stimulus with its interval, from one or more subject analyses.

    Each analysis' ``quality`` (the MOS, or the model's ψ_j / x_j) is drawn with the interval
    ``ci_low`` … ``ci_high`` against the stimulus' rank; with ``sort`` the stimuli are ordered
    by the quality of the first analysis, so that the others show where they depart from it
    (e.g. the MOS against the P.910 quality, which removes the subjects' biases and weighs them
    by their consistency). Intervals that are infinite (one rating) are left out, as are
    stimuli without a quality (none of their raters kept by a screening).

    Parameters
    ----------
    results : an analysis, a sequence of analyses of the same stimuli (labelled by their
        ``method``), or a mapping label → analysis.
    sort : order the stimuli by the first analysis' quality (True) or keep their order.
    title : axes title.
    ax : draw into this axes.

    Raises
    ------
    ValueError
        If there is no analysis, or the analyses are not of the same stimuli.

    Examples
    --------
    >>> import pandas as pd
    >>> import ratingdist as rd
    >>> from ratingdist import plots
    >>> wide = pd.DataFrame({"s1": [5, 4, 2, 1], "s2": [4, 4, 1, 1], "s3": [5, 3, 3, 2]})
    >>> r = rd.Ratings.from_wide(wide)
    >>> fig = plots.stimulus_quality({"MOS": rd.subjects.mos(r), "P.910": rd.subjects.p910(r)})
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['MOS', 'P.910']
    """
    if isinstance(results, Mapping):
        items = dict(results)
    elif isinstance(results, Sequence) and not isinstance(results, str):
        items = {}
        for res in results:
            label = str(getattr(res, "method", len(items)))
            items[label if label not in items else f"{label} ({len(items) + 1})"] = res
    else:
        items = {str(getattr(results, "method", "quality")): results}
    if not items:
        raise ValueError("no analyses to plot")
    tables = {label: _table(res, "stimuli") for label, res in items.items()}
    first_label, first = next(iter(tables.items()))
    ids = first["id"].to_numpy()
    for label, table in tables.items():
        if len(table) != len(first) or not np.array_equal(table["id"].to_numpy(), ids):
            raise ValueError(f"{label}: the analyses must be of the same stimuli "
                             f"(as {first_label})")
    quality = first["quality"].to_numpy(dtype=np.float64)
    order = np.argsort(quality, kind="stable") if sort else np.arange(len(ids))
    ax = _new_axes(ax, (7.2, 4.2))
    n = len(tables)
    width = min(0.5, 0.8 / n)
    x = np.arange(len(ids), dtype=np.float64)
    for i, (label, table) in enumerate(tables.items()):
        value = table["quality"].to_numpy(dtype=np.float64)[order]
        bars = _interval(table, "quality", "ci_low", "ci_high")
        shown = np.isfinite(value)
        ax.errorbar(
            x[shown] + (i - (n - 1) / 2) * width, value[shown],
            yerr=None if bars is None else bars[:, order][:, shown],
            fmt="o" if i == 0 else "s", ms=3.0, color=f"C{i % 10}", elinewidth=0.8, capsize=0,
            alpha=0.9, label=label,
        )
    ax.set_xlim(-1.0, len(ids))
    ax.set_xlabel(f"stimulus, sorted by {first_label} quality" if sort else "stimulus")
    ax.set_ylabel("quality (rating scale)")
    return _finish(ax, "upper left", title)


def thresholds(
    result: object,
    *,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """The category thresholds of an adaptive fit on the latent axis, one row per threshold set,
    with their 95 % intervals.

    An adaptive quantized metric model (:func:`ratingdist.fit_adaptive`) cuts the latent
    quality at τ_{g,1} < … < τ_{g,K−1}: a rating k means τ_{g,k−1} < latent ≤ τ_{g,k}. Each
    row is one group's set (one row ``all`` for shared thresholds); free thresholds are filled
    circles with their Wald intervals (``ci_low``, ``ci_high`` of ``result.thresholds``),
    pinned ones (the identification rule) hollow diamonds without a bar. The reference
    thresholds (``result.reference_thresholds``: k + ½ on the rating axis, k/K on [0, 1] for
    logit-logistic) are dotted vertical lines, and the categories are labelled between them
    along the top.

    Parameters
    ----------
    result : an :class:`ratingdist.AdaptiveResult` (anything with a ``thresholds`` table of
        group, k, value, ci_low, ci_high, pinned, and ``K``; ``reference_thresholds`` default
        k + ½).
    title : axes title; default the family and the threshold and lapse options.
    ax : draw into this axes.

    Raises
    ------
    TypeError
        If ``result`` has no thresholds table.

    Examples
    --------
    >>> import numpy as np
    >>> import ratingdist as rd
    >>> from ratingdist import plots
    >>> counts = np.array([[[0, 2, 9, 6, 1], [1, 6, 8, 2, 0], [0, 0, 3, 9, 6], [4, 9, 4, 1, 0]]])
    >>> fig = plots.thresholds(rd.fit_adaptive(counts))
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['all']
    """
    table = getattr(result, "thresholds", None)
    if not isinstance(table, DataFrame) or not {"group", "value", "pinned"} <= set(table):
        raise TypeError(
            f"expected an adaptive fit (ratingdist.fit_adaptive, with a .thresholds table), got "
            f"{type(result).__name__}"
        )
    K = int(result.K)
    groups = list(dict.fromkeys(table["group"].tolist()))
    ax = _new_axes(ax, (7.0, 1.2 + 0.45 * len(groups)))
    ref = np.asarray(getattr(result, "reference_thresholds", np.arange(1, K) + 0.5), float)
    unit = ref[-1] < 1.0
    # the ends of the latent axis: [0, 1], or half a category beyond the outer thresholds
    edges = np.concatenate([[ref[0] - (ref[1] - ref[0])], ref, [ref[-1] + (ref[-1] - ref[-2])]])
    for t in ref:
        ax.axvline(t, color="0.6", lw=0.8, ls=":")
    row = {g: i for i, g in enumerate(groups)}
    y = table["group"].map(row).to_numpy(dtype=np.float64)
    x = table["value"].to_numpy(dtype=np.float64)
    pinned = table["pinned"].to_numpy(dtype=bool)
    free = ~pinned
    bars = _interval(table, "value", "ci_low", "ci_high")
    if free.any():
        ax.errorbar(x[free], y[free], xerr=None if bars is None else bars[:, free], fmt="o",
                    ms=5, color="C0", ecolor="C0", elinewidth=1.2, capsize=3,
                    label="learned (95 % CI)")
    if pinned.any():
        ax.plot(x[pinned], y[pinned], "D", ms=5, mfc="white", color="0.3", ls="none",
                label="pinned")
    ax.set_yticks(np.arange(len(groups)), [str(g) for g in groups])
    ax.set_ylim(len(groups) - 0.5, -0.5)
    ax.set_xlim(edges[0], edges[-1])
    top = ax.secondary_xaxis("top")
    top.set_xticks(0.5 * (edges[:-1] + edges[1:]), [str(k) for k in range(1, K + 1)])
    top.set_xlabel("category (between the reference thresholds " + ("k/K)" if unit else "k + ½)"),
                   fontsize="small")
    ax.set_xlabel("latent quality (" + ("[0, 1]" if unit else "rating axis") + ")")
    ax.set_ylabel("group")
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(axis="x", alpha=0.2)
    if title is None:
        family_name = getattr(result, "family", "adaptive")
        mode = getattr(result, "thresholds_mode", "")
        lapse = getattr(result, "lapse_mode", None)
        title = f"{family_name} latent: thresholds {mode}, lapse {lapse or 'none'}"
    ax.set_title(title)
    return ax.figure
