"""Maximum-likelihood fitting: exactness against an independent multi-start scipy fit on real
data, limits, the reference box, regularization, persistence and goodness of fit."""

import numba
import numpy as np
import pandas as pd
import pytest

import ratingdist as rd
from ratingdist import scale

from . import reference as ref

#: Stimuli per dataset checked against the scipy reference (KonIQ-10k: a fixed random subset).
KONIQ_SUBSET = 500


def unique_rows(counts):
    """Distinct count vectors (the reference fit is the same for equal counts)."""
    return np.unique(counts, axis=0)


def exactness_rows(koniq, vqeg):
    rng = np.random.default_rng(2024)
    sub = koniq.counts[rng.choice(len(koniq), KONIQ_SUBSET, replace=False)]
    return unique_rows(np.vstack([vqeg.counts, sub]))


@pytest.mark.data
@pytest.mark.slow
@pytest.mark.parametrize("name", rd.FAMILIES)
def test_fit_is_at_least_as_good_as_multistart_scipy(name, koniq, vqeg):
    """On every VQEG-HDTV stimulus and 500 KonIQ-10k ones: NLL ≤ scipy's + 1e-6."""
    counts = exactness_rows(koniq, vqeg)
    res = rd.fit(counts, name)
    assert res.converged.all()
    worst = -np.inf
    for row, ours in zip(counts, res.nll):
        _, theirs = ref.mle_multistart(name, row, K=5, seed=0)
        worst = max(worst, ours - theirs)
    assert worst <= 1e-6, f"{name}: fitted NLL exceeds the scipy reference by {worst:.3g}"


@pytest.mark.data
@pytest.mark.parametrize("name", ("beta", "kumaraswamy", "normal", "logit-logistic", "gsd"))
def test_reference_bounds_against_scipy(name, vqeg):
    counts = unique_rows(vqeg.counts)[::7]
    res = rd.fit(counts, name, bounds="reference")
    for row, ours in zip(counts, res.nll):
        _, theirs = ref.mle_multistart(name, row, K=5, seed=0, bounds="reference")
        assert ours <= theirs + 1e-6, (name, row)


def test_degenerate_stimuli_are_limits():
    counts = np.array(
        [
            [0, 0, 24, 0, 0],  # one category
            [0, 10, 14, 0, 0],  # two adjacent
            [9, 0, 0, 0, 15],  # the extremes only
            [0, 0, 0, 1, 0],  # a single rating
            [1, 0, 0, 0, 0],  # a single rating at the end of the scale
        ]
    )
    empirical = counts / counts.sum(axis=1, keepdims=True)
    for name in rd.FAMILIES:
        res = rd.fit(counts, name)
        assert res.converged.all()
        # exactly the empirical pmf: zeros stay zeros (held-out ratings there are impossible)
        np.testing.assert_array_equal(res.probs, empirical, err_msg=name)
        np.testing.assert_allclose(res.g, 0.0, atol=1e-9)
        assert np.all(np.isfinite(res.nll))
        if name != "gsd":  # the GSD attains these pmfs at boundary parameters
            assert res.limit.all(), name
    normal = rd.fit(counts, "normal")
    np.testing.assert_array_equal(normal.params[:2], [[3.0, 0.0], [2.5, 0.0]])


def test_published_gsd_values():
    """GSD reference values of the GSD authors (T = G/2)."""
    res = rd.fit([[5, 13, 6, 0, 0], [0, 0, 1, 10, 13]], "gsd")
    np.testing.assert_allclose(res.params[:, 0], [2.04, 4.50], atol=0.07)
    np.testing.assert_allclose(res.params[:, 1], [0.8375, 0.935], atol=0.01)
    np.testing.assert_allclose(res.g / 2, [1.2893, 0.0946], atol=2e-3)
    p = rd.gof.bootstrap_pvalue(res, n_boot=2000, seed=11)
    np.testing.assert_allclose(p, [0.19, 0.50], atol=0.04)


def test_maxent_fit_matches_moments():
    counts = np.array([[1, 4, 10, 6, 3], [0, 2, 0, 9, 1]])
    res = rd.fit(counts, "maxent")
    mean, var = scale.moments_of_counts(counts)
    np.testing.assert_allclose(res.mean, mean, atol=1e-12)
    np.testing.assert_allclose(res.var, var, atol=1e-12)


def test_results_do_not_depend_on_thread_count():
    counts = rd.family("logistic").sample_counts(
        rd.family("logistic").from_moments(np.linspace(1.5, 4.5, 300), 0.6), 24, rng=5
    )
    default = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = {name: rd.fit(counts, name).params for name in rd.FAMILIES}
    finally:
        numba.set_num_threads(default)
    for name in rd.FAMILIES:
        np.testing.assert_array_equal(rd.fit(counts, name).params, one[name])


def test_fit_result_table_and_summary():
    rows = [[0, 0, 25, 73, 7], [5, 13, 6, 0, 0], [1, 2, 3, 2, 1]]
    counts = rd.RatingCounts(["a", "b", "c"], rows)
    res = rd.fit(counts, "normal")
    table = res.table
    expected = ["id", "family", "bounds", "c1", "c5", "mu", "sigma", "mean", "var", "rho", "p1",
                "p5", "nll", "g", "p_value", "iterations", "converged", "limit", "at_bound"]
    assert set(expected) <= set(table.columns)
    assert table["id"].tolist() == ["a", "b", "c"]
    s = res.summary
    n = 3
    assert s["aic"] == pytest.approx(2 * 2 * n + 2 * res.nll.sum())
    assert s["bic"] == pytest.approx(2 * n * np.log(n) + 2 * res.nll.sum())
    assert s["mean_g"] == pytest.approx(res.g.mean())
    # G and p-value definitions
    c = counts.counts[0]
    g = 2 * sum(ck * np.log(ck / (c.sum() * pk)) for ck, pk in zip(c, res.probs[0]) if ck > 0)
    assert res.g[0] == pytest.approx(g)
    assert res.p_value[0] == pytest.approx(np.exp(-g / 2))  # χ² with 2 df


def test_round_trip_csv_and_parquet(tmp_path):
    counts = rd.RatingCounts([10, 20], [[0, 0, 25, 73, 7], [0, 10, 14, 0, 0]])
    res = rd.fit(counts, "kumaraswamy", bounds="reference", prob_floor=1e-6)
    for path, write, read in [
        (tmp_path / "fit.csv", res.to_csv, rd.FitResult.read_csv),
        (tmp_path / "fit.parquet", res.to_parquet, rd.FitResult.read_parquet),
    ]:
        write(path)
        back = read(path)
        pd.testing.assert_frame_equal(back.table, res.table)
        assert back.family.name == "kumaraswamy" and back.bounds == "reference"


def test_reference_bounds_bind_and_never_beat_the_unbounded_fit():
    counts = np.array([[0, 1, 90, 9, 0], [0, 0, 5, 92, 3], [3, 10, 6, 4, 1]])
    for name in ("beta", "kumaraswamy"):
        free = rd.fit(counts, name)
        boxed = rd.fit(counts, name, bounds="reference")
        assert np.all(free.nll <= boxed.nll + 1e-9)
        assert boxed.at_bound[:2].all()
        assert np.all(boxed.params <= 20 + 1e-9)


def test_regularized_fit_has_no_zero_probabilities():
    counts = np.array([[0, 0, 5, 0, 0], [0, 2, 3, 0, 0]])
    plain = rd.fit(counts, "normal")
    assert np.any(plain.probs == 0)
    smooth = rd.fit(counts, "normal", pseudo_counts=0.5)
    assert np.all(smooth.probs > 0) and not smooth.limit.any()
    floored = rd.fit(counts, "normal", prob_floor=1e-3)
    assert np.all(floored.probs >= 1e-3)
    np.testing.assert_allclose(floored.probs.sum(axis=1), 1.0)
    assert smooth.summary["n"] == 2 and smooth.table["pseudo_counts"].iloc[0] == 0.5


def test_bad_arguments():
    with pytest.raises(ValueError, match="bounds must be one of"):
        rd.fit([[1, 2, 3, 2, 1]], "normal", bounds="box")
    with pytest.raises(ValueError, match="unknown family"):
        rd.fit([[1, 2, 3, 2, 1]], "weibull")
    with pytest.raises(ValueError, match="pseudo_counts"):
        rd.fit([[1, 2, 3, 2, 1]], "normal", pseudo_counts=-1)
    with pytest.raises(ValueError, match="negative"):
        rd.fit([[1, -2, 3, 2, 1]], "normal")


def test_bootstrap_pvalue_is_seeded_and_shortcuts_degenerate():
    res = rd.fit([[3, 10, 6, 4, 1], [0, 0, 24, 0, 0], [0, 12, 12, 0, 0]], "logistic")
    a = rd.gof.bootstrap_pvalue(res, n_boot=300, seed=4)
    b = rd.gof.bootstrap_pvalue(res, n_boot=300, seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[1:], [1.0, 1.0])
    assert 0 <= a[0] <= 1


def test_consistency_check():
    rng = np.random.default_rng(0)
    uniform = rng.uniform(size=2000)
    pp, verdict = rd.gof.consistency(uniform)
    assert verdict["consistent"] and verdict["n"] == 2000
    assert list(pp.columns) == ["alpha", "share", "bound"]
    skewed = np.concatenate([uniform[:1500], np.full(500, 0.01)])
    assert not rd.gof.consistency(skewed)[1]["consistent"]
    assert rd.gof.consistency(uniform, alpha=0.2)[1]["bound"] == pytest.approx(
        0.2 + 1.645 * np.sqrt(0.2 * 0.8 / 2000)
    )


@pytest.mark.data
def test_comparison_tables(koniq, vqeg, capsys):
    """The reference study's Tables I and II: AIC, BIC and G-test figures per family."""
    for label, counts in (("KonIQ-10k", koniq), ("VQEG-HDTV", vqeg)):
        for bounds in ("natural", "reference"):
            table = rd.compare(rd.fit_all(counts, bounds=bounds))
            with capsys.disabled():
                print(f"\n{label} ({bounds} bounds)\n{table.round(4).to_string(index=False)}")
            assert table["aic"].is_monotonic_increasing
            assert table["delta_aic"].iloc[0] == 0
            assert set(table["family"]) == set(rd.FAMILIES)
            assert (table["n_not_converged"] == 0).all()
    koniq_table = rd.compare(rd.fit_all(koniq))
    assert koniq_table["family"].iloc[0] == "logit-logistic"


def test_fit_all_shows_a_progress_bar_only_when_asked(capsys):
    rows = [[0, 0, 25, 73, 7], [5, 13, 6, 0, 0]]
    quiet = rd.fit_all(rows, ["normal", "gsd"])
    assert capsys.readouterr().err == ""  # the library prints nothing by default
    shown = rd.fit_all(rows, ["normal", "gsd"], progress=True)
    err = capsys.readouterr().err
    assert "fitting" in err and "gsd" in err
    assert rd.fit_all(rows, ["normal", "gsd"], progress=None).keys() == shown.keys()
    assert capsys.readouterr().err == ""  # None: only on a terminal (pytest's stderr is none)
    for name in shown:
        np.testing.assert_array_equal(shown[name].params, quiet[name].params)


@pytest.mark.parametrize("name", rd.FAMILIES)
@pytest.mark.parametrize("bounds", ["natural", "reference"])
def test_repeated_rows_fit_as_each_row_alone(name, bounds):
    """Identical rows are fitted once and the result copied: every output is bit for bit that
    of fitting the row on its own, also for rows that differ only in one count."""
    from tests.adversarial import make_catalog

    counts, _ = make_catalog(60, seed=11)
    rows = np.vstack([counts, counts[::-1], counts[:5] + np.eye(5, dtype=np.int64)[4]])
    res = rd.fit(rows, name, bounds=bounds)
    for i in (0, 7, 23, 59, 60, 64, 119, 120, 124):
        alone = rd.fit(rows[i : i + 1], name, bounds=bounds)
        np.testing.assert_array_equal(res.params[i], alone.params[0])
        np.testing.assert_array_equal(res.probs[i], alone.probs[0])
        np.testing.assert_array_equal(res.nll[i], alone.nll[0])
        assert res.iterations[i] == alone.iterations[0]
        assert res.converged[i] == alone.converged[0]
        assert res.limit[i] == alone.limit[0]
        assert res.at_bound[i] == alone.at_bound[0]
