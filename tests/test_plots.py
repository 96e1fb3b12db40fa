"""Figures (ratingdist.plots): every figure is drawn, non-empty, and shows the right numbers."""

from __future__ import annotations

import numpy as np
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
