"""Figures (ratingdist.plots): every figure is drawn, non-empty, and shows the right numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import integrate, stats

import ratingdist as rd
from ratingdist import plots, qoe, scale

#: KonIQ-10k image 10004473376.jpg (notes.md §1.5) and a limit stimulus (two neighbours).
EXAMPLE, LIMIT = [0, 0, 25, 73, 7], [0, 0, 12, 12, 0]


def inked_share(fig: Figure) -> float:
    """Share of the rendered pixels that are not white."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgb = np.asarray(canvas.buffer_rgba())[..., :3]
    return float((rgb < 250).any(axis=-1).mean())


def assert_drawn(fig: Figure, min_ink: float = 0.03) -> None:
    assert isinstance(fig, Figure) and fig.axes
    assert inked_share(fig) > min_ink


@pytest.fixture(scope="module")
def counts() -> rd.RatingCounts:
    rng = np.random.default_rng(1)
    params = np.column_stack([rng.uniform(1.5, 8, 150), rng.uniform(1.5, 8, 150)])
    sample = rd.family("beta").sample_counts(params, 24, rng=rng)
    ids = ["example", "limit", *(f"s{i}" for i in range(len(sample)))]
    return rd.RatingCounts(ids, np.vstack([EXAMPLE, LIMIT, sample.counts]))


@pytest.fixture(scope="module")
def results(counts) -> dict[str, rd.FitResult]:
    return rd.fit_all(counts)


def test_gtest_cdf_draws_every_family_and_the_chi2_cdf(results):
    fig = plots.gtest_cdf(results, title="synthetic")
    assert_drawn(fig)
    (ax,) = fig.axes
    labels = [line.get_label() for line in ax.lines]
    assert [lab.split(" ")[0] for lab in labels[:7]] == list(rd.FAMILIES)
    assert labels[-2:] == ["χ²(2) cdf", "p = 0.05 (G = 5.99)"]
    # each family's curve is the empirical cdf of its G statistics
    for line, res in zip(ax.lines, results.values()):
        x, y = line.get_data()
        assert np.allclose(np.sort(res.g), x[1:]) and y[-1] == 1.0
    chi2 = ax.lines[7]
    assert np.allclose(chi2.get_ydata(), stats.chi2.cdf(chi2.get_xdata(), 2))
    assert ax.get_title() == "synthetic"


def test_gtest_cdf_draws_into_a_given_axes(results):
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.gtest_cdf([results["gsd"]], ax=ax) is fig
    assert len(ax.lines) == 3


def test_gtest_cdf_rejects_fits_of_different_stimuli(counts, results):
    other = rd.fit(counts[:10], "gsd")
    with pytest.raises(ValueError, match="same stimuli"):
        plots.gtest_cdf({"normal": results["normal"], "gsd": other})
    with pytest.raises(ValueError, match="no fits"):
        plots.gtest_cdf({})


def test_psi_v_plane_colours_stimuli_by_g(counts, results):
    fig = plots.psi_v_plane(results)
    assert_drawn(fig)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == 7 and len(fig.axes) == 8  # and the colour bar
    moments = np.column_stack([counts.mean(), counts.var()])
    for ax, res in zip(panels, results.values()):
        points = ax.collections[0]
        order = np.argsort(res.g, kind="stable")
        assert np.allclose(points.get_offsets(), moments[order])
        assert np.allclose(points.get_array(), res.g[order])
        assert points.norm.vmax == pytest.approx(stats.chi2.ppf(0.99, 2))
    full = plots.psi_v_plane({"gsd": results["gsd"]}, zoom=False)
    assert full.axes[0].get_xlim() == (1.0, 5.0)


def test_observed_vs_fitted_shows_observed_shares_and_fitted_pmfs(results):
    fig = plots.observed_vs_fitted(results, ["example", "s3"])
    assert_drawn(fig)
    ax = fig.axes[0]
    assert ax.get_title() == "example (N = 105, MOS 3.83)"
    heights = [bar.get_height() for bar in ax.patches]
    assert np.allclose(heights, np.array(EXAMPLE) / 105)
    assert np.allclose(ax.lines[0].get_ydata(), results["normal"].probs[0])
    assert len(fig.legends) == 1


def test_stimuli_are_found_by_id_as_strings(vqeg_like):
    fig = plots.observed_vs_fitted(vqeg_like, ["1001"])
    assert fig.axes[0].get_title().startswith("1001 ")
    with pytest.raises(ValueError, match="unknown stimulus id '7'"):
        plots.observed_vs_fitted(vqeg_like, [7])


@pytest.fixture(scope="module")
def vqeg_like() -> dict[str, rd.FitResult]:
    return rd.fit_all(rd.RatingCounts([1000, 1001], [EXAMPLE, [1, 4, 10, 6, 3]]), ["beta"])


def test_pp_plot_shows_the_consistency_verdict(results):
    fig = plots.pp_plot({"gsd": results["gsd"], "normal": results["normal"].p_value})
    assert_drawn(fig)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    _, verdict = rd.gof.consistency(results["gsd"].p_value)
    word = "consistent" if verdict["consistent"] else "inconsistent"
    assert texts[0] == f"gsd: {100 * verdict['share_below']:.1f} % below 0.2, {word}"
    assert texts[2].startswith("bound") and texts[2].endswith(f"n = {len(results['gsd'])}")
    pp, _ = rd.gof.consistency(results["gsd"].p_value, levels=ax.lines[0].get_xdata())
    assert np.allclose(ax.lines[0].get_ydata(), pp["share"])


def test_pp_plot_marks_an_inconsistent_study():
    p = np.r_[np.full(100, 0.01), np.linspace(0, 1, 400)]
    fig = plots.pp_plot(p)
    assert fig.axes[0].get_legend().get_texts()[0].get_text().endswith(", inconsistent")


def test_latent_density_marks_the_quantiles(results):
    res = results["normal"]
    fig = plots.latent_density(res, "example", quantiles=(0.1, 0.5, 0.9))
    assert_drawn(fig)
    ax = fig.axes[0]
    expected = qoe.quantile(res, 0.1)[0], qoe.quantile(res, 0.5)[0], qoe.quantile(res, 0.9)[0]
    assert [t.get_text() for t in ax.texts] == [f"Q{q} {v:.2f}" for q, v in
                                               zip((10, 50, 90), expected)]
    assert np.round(expected, 2).tolist() == [3.25, 3.82, 4.40]  # notes.md §1.5
    # the bars carry the observed shares, the curve integrates to about 1
    widths = np.array([bar.get_width() for bar in ax.patches])
    heights = np.array([bar.get_height() for bar in ax.patches])
    assert np.allclose(widths * heights, np.array(EXAMPLE) / 105)
    u, f = ax.lines[0].get_data()
    assert integrate.trapezoid(f, u) == pytest.approx(1.0, abs=2e-3)


@pytest.mark.parametrize("name", ["beta", "kumaraswamy", "logit-logistic", "logistic"])
def test_latent_density_of_every_quantized_family(results, name):
    fig = plots.latent_density(results[name], "s0", quantiles=[0.25])
    u, f = fig.axes[0].lines[0].get_data()
    assert integrate.trapezoid(f, u) == pytest.approx(1.0, abs=5e-3)


def test_latent_density_errors(results):
    with pytest.raises(ValueError, match="gsd family has no continuous latent quality"):
        plots.latent_density(results["gsd"], "example")
    with pytest.raises(ValueError, match="limit with no latent density"):
        plots.latent_density(results["normal"], "limit")
    with pytest.raises(ValueError, match="unknown stimulus id 'nope'"):
        plots.latent_density(results["normal"], "nope")
    with pytest.raises(ValueError, match="quantile levels"):
        plots.latent_density(results["normal"], "example", quantiles=[0.0])


def test_difference_grid_matches_direct_computation():
    psi, var, d = plots.difference_grid("normal", "gsd", "l1", grid=(7, 4))
    assert psi.shape == var.shape == d.shape == (7, 4)
    assert np.allclose(psi[:, 0], np.linspace(1, 5, 9)[1:-1])
    assert np.allclose(rd.scale.rho_from_var(psi, var)[0], np.linspace(0.01, 0.99, 4))
    i, j = 3, 2
    p = rd.family("normal").pmf_from_moments(psi[i, j], var[i, j])[0]
    q = rd.family("gsd").pmf_from_moments(psi[i, j], var[i, j])[0]
    assert d[i, j] == pytest.approx(np.abs(p - q).sum())
    _, _, a = plots.difference_grid("normal", "gsd", "aitchison", grid=(7, 4))
    clr = np.log(p) - np.log(p).mean() - (np.log(q) - np.log(q).mean())
    assert a[i, j] == pytest.approx(np.sqrt((clr**2).sum()))
    # symmetric, zero for a family against itself
    assert np.allclose(plots.difference_grid("gsd", "normal", "aitchison", grid=(7, 4))[2], a)
    assert np.allclose(plots.difference_grid("beta", "beta", grid=(7, 4))[2], 0.0)


def test_difference_grid_leaves_unmatched_points_blank(monkeypatch):
    # every family matches every interior point, also Kumaraswamy next to v_max
    _, _, d = plots.difference_grid("kumaraswamy", "normal", grid=(5, 3), rho=(0.001, 0.5))
    assert np.isfinite(d).all()
    # a point a family could not match stays blank
    kuma = type(rd.family("kumaraswamy"))
    matched = kuma._interior_pmf_from_moments

    def refuse_wide(self, mean, var, K):
        if np.any(scale.rho_from_var(mean, var, K) < 0.01):
            raise RuntimeError("not matched")
        return matched(self, mean, var, K)

    monkeypatch.setattr(kuma, "_interior_pmf_from_moments", refuse_wide)
    _, _, d = plots.difference_grid("kumaraswamy", "normal", grid=(5, 3), rho=(0.001, 0.5))
    assert np.isnan(d[:, 0]).all() and np.isfinite(d[:, 1:]).all()
    with pytest.raises(ValueError, match="metric"):
        plots.difference_grid("normal", "gsd", "l2")
    with pytest.raises(ValueError, match="grid"):
        plots.difference_grid("normal", "gsd", grid=1)


@pytest.mark.parametrize("metric", ["l1", "aitchison"])
def test_model_difference_map(metric):
    fig = plots.model_difference_map("normal", "maxent", metric, grid=(41, 21))
    assert_drawn(fig, min_ink=0.2)
    ax, bar = fig.axes
    assert ax.get_title() == "normal vs maxent"
    values = ax.collections[0].get_array()
    _, _, d = plots.difference_grid("normal", "maxent", metric, grid=(41, 21))
    assert values.size == d.size
    label = {"l1": "L1 distance", "aitchison": "Aitchison distance"}[metric]
    assert bar.get_ylabel() == label


def test_model_difference_matrix_has_every_pair_once():
    fig = plots.model_difference_matrix(["normal", "logistic", "beta", "gsd"], "aitchison",
                                        grid=(21, 11))
    assert_drawn(fig, min_ink=0.2)
    titles = sorted(ax.get_title() for ax in fig.axes if ax.get_title())
    assert titles == sorted(["logistic vs normal", "beta vs normal", "beta vs logistic",
                             "gsd vs normal", "gsd vs logistic", "gsd vs beta"])
    norms = {id(ax.collections[0].norm) for ax in fig.axes if ax.get_title()}
    assert len(norms) == 1  # a shared colour scale
    with pytest.raises(ValueError, match="two families"):
        plots.model_difference_matrix(["normal"])


@pytest.mark.data
def test_figures_of_a_real_dataset(vqeg, tmp_path):
    results = rd.fit_all(vqeg)
    for name, fig in {
        "gtest": plots.gtest_cdf(results, title="VQEG-HDTV"),
        "plane": plots.psi_v_plane(results),
        "pp": plots.pp_plot(results),
        "fitted": plots.observed_vs_fitted(results, vqeg.ids[:3]),
    }.items():
        path = tmp_path / f"{name}.png"
        fig.savefig(path, dpi=60)
        assert path.stat().st_size > 10_000
        assert_drawn(fig)


# -- subjects --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def panel() -> rd.Ratings:
    """A complete panel of 30 stimuli and 8 subjects with known biases and spreads."""
    rng = np.random.default_rng(6)
    bias = np.array([0.6, 0.0, -0.5, 0.0, 0.2, -0.2, 0.0, 0.3])
    sd = np.array([0.4, 0.6, 1.0, 0.5, 0.5, 0.8, 0.8, 0.5])
    u = rng.uniform(1.5, 4.5, (30, 1)) + bias + rng.normal(0, sd, (30, 8))
    wide = pd.DataFrame(np.clip(np.rint(u), 1, 5).astype(int),
                        columns=[f"obs{i}" for i in range(8)])
    return rd.Ratings.from_wide(wide)


def errorbars(ax) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray | None]]:
    """(label, x, y, [low, high] per point or None) of every errorbar drawn into ``ax``."""
    out = []
    for container in ax.containers:
        line, _, bars = container.lines
        x, y = (np.asarray(v, dtype=float) for v in line.get_data())
        segments = None
        if bars:
            segments = np.array([[s[0][1], s[1][1]] for s in bars[0].get_segments()])
        out.append((container.get_label(), x, y, segments))
    return out


def test_subject_bias_draws_every_subject_with_its_interval(panel):
    res = rd.subjects.p910(panel)
    fig = plots.subject_bias(res)
    assert_drawn(fig)
    ax = fig.axes[0]
    assert ax.get_title() == "p910: 8 subjects, 0 marked rejected"
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"obs{i}" for i in range(8)]
    (bias_label, bx, by, bbars), (inc_label, ix, iy, ibars) = errorbars(ax)
    sub = res.subjects
    assert (bias_label, inc_label) == ("bias Δ", "inconsistency υ")
    np.testing.assert_allclose(by, sub["bias"])
    np.testing.assert_allclose(bbars, sub[["bias_ci_low", "bias_ci_high"]])
    np.testing.assert_allclose(iy, sub["inconsistency"])
    np.testing.assert_allclose(ibars, sub[["inconsistency_ci_low", "inconsistency_ci_high"]])
    assert np.all(bx < np.arange(8)) and np.all(ix > np.arange(8))  # side by side


def test_subject_bias_marks_the_rejected_subjects(panel):
    res = rd.subjects.p910(panel)
    marked = ["obs2", "obs5"]
    fig = plots.subject_bias(res, rejected=marked)
    ax = fig.axes[0]
    assert ax.get_title() == "p910: 8 subjects, 2 marked rejected"
    red = [t.get_text() for t in ax.get_xticklabels() if t.get_color() == "C3"]
    assert red == marked
    drawn = {label: (x, y) for label, x, y, _ in errorbars(ax)}
    x, y = drawn["bias Δ, rejected"]
    assert np.allclose(np.rint(x), [2, 5])
    np.testing.assert_allclose(y, res.subjects["bias"].to_numpy()[[2, 5]])
    assert len(ax.patches) == 2  # a shaded column per rejected subject
    # by default the analysis' own rejections are marked
    p913 = rd.subjects.p913(panel)
    assert p913.rejected.tolist() == ["obs6"]
    fig = plots.subject_bias(p913)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_color() == "C3"] == (
        ["obs6"])


def test_subject_bias_of_p913_shows_the_bias_alone(panel):
    res = rd.subjects.p913(panel)
    fig = plots.subject_bias(res, rejected=[])
    assert fig.axes[0].get_title() == "p913: 8 subjects, 0 marked rejected"
    ((label, _, y, bars),) = errorbars(fig.axes[0])
    assert label == "bias Δ" and bars is None
    np.testing.assert_allclose(y, res.subjects["bias"])


def test_subject_bias_draws_into_a_given_axes_and_checks_its_input(panel):
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.subject_bias(rd.subjects.p910(panel), ax=ax, title="t") is fig
    assert ax.get_title() == "t"
    with pytest.raises(ValueError, match="bt500 analysis estimates no subject bias"):
        plots.subject_bias(rd.subjects.bt500(panel))
    with pytest.raises(ValueError, match="unknown stimulus id 'nobody'"):
        plots.subject_bias(rd.subjects.p910(panel), rejected=["nobody"])
    with pytest.raises(TypeError, match="expected a subject analysis"):
        plots.subject_bias(panel.counts())


def test_stimulus_quality_sorts_and_overlays_analyses(panel):
    mos, p910 = rd.subjects.mos(panel), rd.subjects.p910(panel)
    fig = plots.stimulus_quality({"MOS": mos, "P.910": p910}, title="panel")
    assert_drawn(fig)
    ax = fig.axes[0]
    assert ax.get_title() == "panel"
    assert ax.get_xlabel() == "stimulus, sorted by MOS quality"
    order = np.argsort(mos.stimuli["quality"].to_numpy(), kind="stable")
    for (label, x, y, bars), res in zip(errorbars(ax), (mos, p910)):
        assert label == {"mos": "MOS", "p910": "P.910"}[res.method]
        st = res.stimuli.iloc[order]
        np.testing.assert_allclose(y, st["quality"])
        np.testing.assert_allclose(bars, st[["ci_low", "ci_high"]])
        assert np.allclose(np.rint(x), np.arange(len(st)))
    assert np.all(np.diff(errorbars(ax)[0][2]) >= 0)
    # a sequence is labelled by the methods, unsorted keeps the order
    fig = plots.stimulus_quality([mos, p910], sort=False)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["mos", "p910"]
    np.testing.assert_allclose(errorbars(ax)[1][2], p910.stimuli["quality"])


def test_stimulus_quality_leaves_out_what_has_no_interval_or_quality():
    wide = pd.DataFrame({"s1": [5, 4, 2], "s2": [4, None, 1]}, index=["a", "b", "c"])
    res = rd.subjects.mos(rd.Ratings.from_wide(wide))  # "b" has one rating: infinite interval
    ((_, _, y, bars),) = errorbars(plots.stimulus_quality(res, sort=False).axes[0])
    assert np.allclose(y, [4.5, 4.0, 1.5])
    assert np.allclose(bars[1], [4.0, 4.0]) and np.isfinite(bars).all()
    screened = rd.subjects.mos(rd.Ratings.from_wide(wide))
    screened.stimuli.loc[1, ["quality", "ci_low", "ci_high"]] = np.nan  # no rater kept
    ((_, x, y, _),) = errorbars(plots.stimulus_quality(screened, sort=False).axes[0])
    assert np.allclose(x, [0, 2]) and np.allclose(y, [4.5, 1.5])


def test_stimulus_quality_checks_its_input(panel):
    other = rd.Ratings.from_wide(panel.to_frame().pivot(
        index="stimulus", columns="subject", values="rating").iloc[:5])
    with pytest.raises(ValueError, match="same stimuli"):
        plots.stimulus_quality([rd.subjects.mos(panel), rd.subjects.mos(other)])
    with pytest.raises(ValueError, match="no analyses"):
        plots.stimulus_quality({})
    with pytest.raises(TypeError, match="expected a subject analysis"):
        plots.stimulus_quality(panel)


@pytest.mark.data
def test_subject_figures_of_nflx_public(nflx, tmp_path):
    p910 = rd.subjects.p910(nflx)
    bt500 = rd.subjects.bt500(nflx)
    fig = plots.subject_bias(p910, rejected=bt500.rejected)
    red = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_color() == "C3"]
    assert red == ["2"]
    fig.savefig(tmp_path / "bias.png", dpi=60)
    assert_drawn(fig)
    fig = plots.stimulus_quality({"MOS": rd.subjects.mos(nflx), "P.910": p910})
    assert_drawn(fig)
    assert len(errorbars(fig.axes[0])[1][1]) == 79


def test_thresholds_draws_every_set_with_its_intervals():
    from .test_adaptive import simulate

    counts = simulate(2, n=20, G=3, tau=[[1.5, 2.5, 3.5, 4.5], [1.3, 2.4, 3.7, 4.7],
                                         [1.6, 2.7, 3.6, 4.4]])
    res = rd.fit_adaptive(counts, thresholds="per-group")
    fig = plots.thresholds(res)
    assert_drawn(fig, 0.01)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "2"]
    assert ax.get_title() == "normal latent: thresholds per-group, lapse none"
    th = res.thresholds
    free = th[~th["pinned"]]
    (container,) = ax.containers
    line, _, (bars,) = container.lines
    x, y = (np.asarray(v, float) for v in line.get_data())
    np.testing.assert_allclose(x, free["value"])
    np.testing.assert_allclose(y, free["group"].astype(int))
    ends = np.array([[s[0][0], s[1][0]] for s in bars.get_segments()])
    np.testing.assert_allclose(ends, free[["ci_low", "ci_high"]])
    pinned = [ln for ln in ax.lines if ln.get_label() == "pinned"]
    np.testing.assert_allclose(pinned[0].get_xdata(), th.loc[th["pinned"], "value"])
    reference = sorted(ln.get_xdata()[0] for ln in ax.lines if ln.get_linestyle() == ":")
    assert reference == [1.5, 2.5, 3.5, 4.5]


def test_thresholds_of_a_unit_interval_family_on_zero_one():
    counts = np.array([[[0, 2, 9, 6, 1], [1, 6, 8, 2, 0], [0, 0, 3, 9, 6], [4, 9, 4, 1, 0]]])
    fig = plots.thresholds(rd.fit_adaptive(counts, "logit-logistic"))
    ax = fig.axes[0]
    assert ax.get_xlim() == pytest.approx((0.0, 1.0))
    assert "[0, 1]" in ax.get_xlabel()
    assert sorted(round(line.get_xdata()[0], 12) for line in ax.lines
                  if line.get_linestyle() == ":") == [0.2, 0.4, 0.6, 0.8]


def test_thresholds_draws_into_a_given_axes_and_checks_its_input():
    fig = Figure()
    ax = fig.add_subplot()
    res = rd.fit_adaptive(np.array([[[0, 2, 9, 6, 1], [1, 6, 8, 2, 0], [0, 0, 3, 9, 6]]]))
    assert plots.thresholds(res, ax=ax, title="t") is fig and ax.get_title() == "t"
    with pytest.raises(TypeError, match="expected an adaptive fit"):
        plots.thresholds(rd.fit(rd.RatingCounts(["a"], [[1, 2, 3, 2, 1]]), "normal"))
