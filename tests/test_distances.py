"""Distances between rating distributions (ratingdist.evaluation.distances) against scipy and
direct summation, their metric properties and bounds, and the input checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats
from scipy.spatial import distance

import ratingdist as rd
from ratingdist.evaluation import distances as dist

EXAMPLE = np.array([[0, 0, 25, 73, 7], [3, 10, 40, 30, 2], [0, 1, 0, 0, 5]])


# -- inputs ----------------------------------------------------------------------------------
@st.composite
def pmf_rows(draw, count: int = 2):
    """``count`` arrays of n pmfs over K categories with exact zeros and ties."""
    K = draw(st.integers(3, 7))
    n = draw(st.integers(1, 5))
    weight = st.one_of(st.just(0.0), st.just(0.5), st.floats(1e-3, 1.0))
    rows = []
    for _ in range(count):
        w = draw(arrays(np.float64, (n, K), elements=weight))
        w[w.sum(axis=1) == 0, draw(st.integers(0, K - 1))] = 1.0
        rows.append(w / w.sum(axis=1, keepdims=True))
    return rows


def random_pmfs(n: int, K: int = 5, seed: int = 0, zeros: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(K, 0.8), n)
    if zeros:
        p[rng.random((n, K)) < 0.3] = 0.0
        p[p.sum(axis=1) == 0, 0] = 1.0
    return p / p.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def koniq_pmfs(koniq):
    """Empirical pmfs of 300 KonIQ-10k images and their fitted normal pmfs."""
    rows = np.random.default_rng(0).choice(len(koniq), 300, replace=False)
    counts = koniq[rows]
    observed = counts.counts / counts.n_ratings[:, None]
    return counts, observed, rd.fit(counts, "normal").probs


# -- independent implementations, one pair of pmfs at a time ---------------------------------
def cdf(p):
    total, out = 0.0, []
    for value in p:
        total += value
        out.append(total)
    return out


def ref_emd(p, q, r):
    K = len(p)
    return (sum(abs(a - b) ** r for a, b in zip(cdf(p), cdf(q))) / K) ** (1 / r)


def ref_rps(p, q):
    return sum((b - a) ** 2 for a, b in zip(cdf(p)[:-1], cdf(q)[:-1]))


def ref_intersection(p, q):
    return sum(min(a, b) for a, b in zip(p, q))


def ref_bhattacharyya_coefficient(p, q):
    return sum(math.sqrt(a * b) for a, b in zip(p, q))


def ref_clark(p, q):
    return math.sqrt(sum(((a - b) / (a + b)) ** 2 for a, b in zip(p, q) if a + b > 0))


def ref_aitchison(p, q):
    def clr(v):
        logs = [math.log(x) for x in v]
        centre = sum(logs) / len(logs)
        return [x - centre for x in logs]

    return math.sqrt(sum((a - b) ** 2 for a, b in zip(clr(p), clr(q))))


def ref_moments(p):
    mean = sum((k + 1) * x for k, x in enumerate(p))
    return mean, math.sqrt(sum((k + 1 - mean) ** 2 * x for k, x in enumerate(p)))


def smoothed(p, eps):
    return (np.asarray(p) + eps) / (1 + len(p) * eps)


def scipy_jsd(p, q, base=None):
    """jensenshannon(p, q)**2; scipy's square root of a rounding-negative value near 0 is NaN."""
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(distance.jensenshannon(p, q, base=base) ** 2, nan=0.0)


def reference_values(p, q) -> dict[str, float]:
    """Every pmf-vs-pmf measure of one pair, from scipy or direct summation."""
    K = len(p)
    values = np.arange(1, K + 1)
    eps = 1e-3
    return {
        "wasserstein": stats.wasserstein_distance(values, values, p, q),
        "emd": ref_emd(p, q, 2),
        "emd_r1": ref_emd(p, q, 1),
        "emd_r3": ref_emd(p, q, 3),
        "rps": ref_rps(p, q),
        "kl": stats.entropy(p, q),
        "kl_eps": stats.entropy(smoothed(p, eps), smoothed(q, eps)),
        "jsd": scipy_jsd(p, q),
        "jsd_base2": scipy_jsd(p, q, base=2),
        "total_variation": distance.braycurtis(p, q),
        "intersection": ref_intersection(p, q),
        "chebyshev": distance.chebyshev(p, q),
        "hellinger": distance.euclidean(np.sqrt(p), np.sqrt(q)) / math.sqrt(2),
        "bhattacharyya_coefficient": ref_bhattacharyya_coefficient(p, q),
        "cosine_similarity": 1 - distance.cosine(p, q),
        "clark": ref_clark(p, q),
        "canberra": distance.canberra(p, q),
        "aitchison_eps": ref_aitchison(smoothed(p, eps), smoothed(q, eps)),
        "mos_error": abs(ref_moments(q)[0] - ref_moments(p)[0]),
        "sos_error": abs(ref_moments(q)[1] - ref_moments(p)[1]),
    }


def vectorized_values(p, q) -> dict[str, np.ndarray]:
    return {
        "wasserstein": dist.wasserstein(p, q),
        "emd": dist.emd(p, q),
        "emd_r1": dist.emd(p, q, r=1),
        "emd_r3": dist.emd(p, q, r=3),
        "rps": dist.rps(p, q),
        "kl": dist.kl(p, q),
        "kl_eps": dist.kl(p, q, eps=1e-3),
        "jsd": dist.jsd(p, q),
        "jsd_base2": dist.jsd(p, q, base=2),
        "total_variation": dist.total_variation(p, q),
        "intersection": dist.intersection(p, q),
        "chebyshev": dist.chebyshev(p, q),
        "hellinger": dist.hellinger(p, q),
        "bhattacharyya_coefficient": dist.bhattacharyya_coefficient(p, q),
        "cosine_similarity": dist.cosine_similarity(p, q),
        "clark": dist.clark(p, q),
        "canberra": dist.canberra(p, q),
        "aitchison_eps": dist.aitchison(p, q, eps=1e-3),
        "mos_error": dist.mos_error(p, q),
        "sos_error": dist.sos_error(p, q),
    }


def check_against_references(p: np.ndarray, q: np.ndarray) -> None:
    got = vectorized_values(p, q)
    expected = [reference_values(a, b) for a, b in zip(p, q)]
    for name, values in got.items():
        assert values.shape == (len(p),), name
        want = np.array([row[name] for row in expected])
        np.testing.assert_allclose(values, want, rtol=1e-9, atol=1e-12, err_msg=name)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(
            dist.bhattacharyya(p, q), -np.log(got["bhattacharyya_coefficient"]), atol=1e-12
        )


@settings(max_examples=150, deadline=None)
@given(pmf_rows())
def test_random_pmfs_match_references(rows):
    check_against_references(*rows)


def test_fixed_pmfs_match_references():
    check_against_references(random_pmfs(50, seed=1), random_pmfs(50, seed=2))
    check_against_references(random_pmfs(20, K=7, seed=3, zeros=False), random_pmfs(20, K=7))


@pytest.mark.data
def test_koniq_fits_match_references(koniq_pmfs):
    _, observed, fitted = koniq_pmfs
    check_against_references(observed, fitted)
    table = dist.compare_distributions(observed, fitted)
    assert list(table.columns) == list(dist.DEFAULT_METRICS)
    for name in dist.DEFAULT_METRICS:
        np.testing.assert_array_equal(table[name], dist.METRICS[name](observed, fitted))
    # the fit is far closer to the data than the average KonIQ-10k pmf
    average = observed.mean(axis=0)
    assert np.median(dist.jsd(observed, fitted)) < np.median(dist.jsd(observed, average)) / 3


# -- count-based scores ----------------------------------------------------------------------
def ratings(row):
    return np.repeat(np.arange(1, len(row) + 1), row)


def ref_rps_counts(counts_row, q):
    F = cdf(q)[:-1]
    scores = [sum((F[k] - (y <= k + 1)) ** 2 for k in range(len(F))) for y in ratings(counts_row)]
    return sum(scores) / len(scores)


def check_count_scores(counts: np.ndarray, q: np.ndarray) -> None:
    n = counts.sum(axis=1)
    observed = counts / n[:, None]
    np.testing.assert_allclose(
        dist.rps_counts(counts, q), [ref_rps_counts(c, b) for c, b in zip(counts, q)], rtol=1e-12
    )
    with np.errstate(divide="ignore"):
        nll = [-np.mean(np.log(b[ratings(c) - 1])) for c, b in zip(counts, q)]
    np.testing.assert_allclose(dist.nll_per_rating(counts, q), nll, rtol=1e-12)
    g = [2 * m * stats.entropy(o, b) for m, o, b in zip(n, observed, q)]
    np.testing.assert_allclose(dist.g_statistic(counts, q), g, rtol=1e-9, atol=1e-9)
    # the expected-score decomposition of the RPS (docstring of rps)
    F = np.cumsum(observed, axis=1)[:, :-1]
    np.testing.assert_allclose(
        dist.rps_counts(counts, q),
        dist.rps(observed, q) + (F * (1 - F)).sum(axis=1),
        rtol=1e-12,
    )
    assert np.all(dist.rps_counts(counts, observed) <= dist.rps_counts(counts, q) + 1e-12)


def test_count_scores_match_ratings():
    rng = np.random.default_rng(4)
    counts = rng.multinomial(rng.integers(1, 30, 40), rng.dirichlet(np.ones(5), 40))
    check_count_scores(counts, random_pmfs(40, seed=5))
    check_count_scores(EXAMPLE, random_pmfs(3, seed=6, zeros=False))


@pytest.mark.data
def test_koniq_count_scores(koniq_pmfs):
    counts, _, fitted = koniq_pmfs
    check_count_scores(counts.counts, fitted)
    res = rd.fit(counts, "normal")
    np.testing.assert_allclose(dist.g_statistic(counts, fitted), res.g, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(
        dist.nll_per_rating(counts, fitted), res.nll / counts.n_ratings, rtol=1e-12
    )


def test_count_scores_of_a_single_row_and_of_impossible_ratings():
    value = dist.rps_counts([0, 2, 0, 1, 0], [0.2] * 5)
    assert np.ndim(value) == 0
    assert value == pytest.approx(ref_rps_counts([0, 2, 0, 1, 0], [0.2] * 5))
    assert dist.nll_per_rating([1, 0, 0, 0, 0], [0, 0.5, 0.5, 0, 0]) == np.inf
    assert dist.g_statistic([1, 0, 0, 0, 0], [0, 0.5, 0.5, 0, 0]) == np.inf


# -- properties ------------------------------------------------------------------------------
SYMMETRIC = (
    "emd", "wasserstein", "rps", "mos_error", "sos_error", "jsd", "total_variation",
    "intersection", "chebyshev", "hellinger", "bhattacharyya", "cosine_similarity", "clark",
    "canberra",
)
#: Zero at p = q; cosine similarity and intersection are 1 there instead.
DISTANCES = tuple(name for name in dist.DEFAULT_METRICS if name not in
                  ("cosine_similarity", "intersection"))


@settings(max_examples=150, deadline=None)
@given(pmf_rows())
def test_symmetry_and_identity(rows):
    p, q = rows
    for name in SYMMETRIC:
        f = dist.METRICS[name]
        np.testing.assert_allclose(f(p, q), f(q, p), rtol=1e-12, atol=1e-15, err_msg=name)
    np.testing.assert_allclose(dist.aitchison(p, q, eps=0.01), dist.aitchison(q, p, eps=0.01))
    for name in DISTANCES:
        np.testing.assert_allclose(dist.METRICS[name](p, p), 0.0, atol=1e-7, err_msg=name)
    for name in ("cosine_similarity", "intersection"):
        np.testing.assert_allclose(dist.METRICS[name](p, p), 1.0, rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(dist.aitchison(p, p, eps=0.01), 0.0, atol=1e-12)


def test_kl_is_not_symmetric():
    p, q = [0.5, 0.5, 0, 0, 0], [0.25, 0.25, 0.25, 0.25, 0]
    assert dist.kl(p, q) == pytest.approx(math.log(2))
    assert dist.kl(q, p) == np.inf


METRIC_DISTANCES = {
    "hellinger": dist.hellinger,
    "total_variation": dist.total_variation,
    "wasserstein": dist.wasserstein,
    "sqrt_jsd": lambda p, q: np.sqrt(dist.jsd(p, q)),
    "emd_r1": lambda p, q: dist.emd(p, q, r=1),
    "emd_r2": dist.emd,
    "emd_r3": lambda p, q: dist.emd(p, q, r=3),
    "chebyshev": dist.chebyshev,
    "aitchison_eps": lambda p, q: dist.aitchison(p, q, eps=0.01),
}


@settings(max_examples=200, deadline=None)
@given(pmf_rows(count=3))
def test_triangle_inequality(rows):
    p, q, s = rows
    for name, d in METRIC_DISTANCES.items():
        assert np.all(d(p, s) <= d(p, q) + d(q, s) + 1e-12), name


@settings(max_examples=150, deadline=None)
@given(pmf_rows())
def test_bounds_and_identities(rows):
    p, q = rows
    K = p.shape[1]
    tv = dist.total_variation(p, q)
    assert np.all((tv >= 0) & (tv <= 1 + 1e-12))
    assert np.all(dist.jsd(p, q) <= math.log(2) + 1e-12)
    assert np.all(dist.jsd(p, q, base=2) <= 1 + 1e-12)
    np.testing.assert_allclose(dist.intersection(p, q), 1 - tv, atol=1e-12)
    bc = dist.bhattacharyya_coefficient(p, q)
    assert np.all((bc >= 0) & (bc <= 1 + 1e-12))
    np.testing.assert_allclose(dist.hellinger(p, q) ** 2, 1 - bc, atol=1e-12)
    assert np.all(dist.hellinger(p, q) <= 1 + 1e-12)
    w1 = dist.wasserstein(p, q)
    np.testing.assert_allclose(dist.emd(p, q, r=1), w1 / K, rtol=1e-12)
    np.testing.assert_allclose(dist.emd(p, q) ** 2, dist.rps(p, q) / K, rtol=1e-10, atol=1e-15)
    assert np.all(w1 <= (K - 1) * tv + 1e-12)
    assert np.all(dist.mos_error(p, q) <= w1 + 1e-12)
    assert np.all(dist.chebyshev(p, q) <= tv + 1e-12)
    assert np.all(tv <= np.sqrt(dist.kl(p, q) / 2) + 1e-12)  # Pinsker
    assert np.all(dist.clark(p, q) <= math.sqrt(K) + 1e-12)
    assert np.all(dist.canberra(p, q) <= K + 1e-12)
    assert np.all(dist.cosine_similarity(p, q) <= 1 + 1e-12)


def test_disjoint_supports():
    p, q = [1, 0, 0, 0, 0], [0, 0, 0, 0, 1]
    assert dist.jsd(p, q) == pytest.approx(math.log(2))
    assert dist.total_variation(p, q) == 1.0
    assert dist.hellinger(p, q) == pytest.approx(1.0)
    assert dist.bhattacharyya(p, q) == np.inf
    assert dist.cosine_similarity(p, q) == 0.0
    assert dist.wasserstein(p, q) == 4.0
    assert dist.mos_error(p, q) == 4.0
    assert dist.clark(p, q) == pytest.approx(math.sqrt(2))
    assert dist.canberra(p, q) == 2.0


# -- shapes ----------------------------------------------------------------------------------
def test_rows_broadcast_and_single_pmfs_give_scalars():
    p = random_pmfs(6, seed=7)
    q = random_pmfs(1, seed=8)[0]
    for name, f in dist.METRICS.items():
        kwargs = {"eps": 0.01} if name == "aitchison" else {}
        rows = f(p, q, **kwargs)
        assert rows.shape == (6,), name
        single = f(p[2], q, **kwargs)
        assert np.ndim(single) == 0 and isinstance(single, float), name
        assert single == pytest.approx(rows[2], rel=1e-12, abs=1e-15), name
        np.testing.assert_allclose(f(q, p, **kwargs), [f(q, row, **kwargs) for row in p])
        np.testing.assert_array_equal(f(p[:1], p, **kwargs), f(p[0], p, **kwargs))


def test_compare_distributions_table():
    p, q = random_pmfs(4, seed=9), random_pmfs(4, seed=10)
    table = dist.compare_distributions(p, q, ["kl", "emd"])
    assert list(table.columns) == ["kl", "emd"] and len(table) == 4
    np.testing.assert_array_equal(table["emd"], dist.emd(p, q))
    custom = dist.compare_distributions(p[0], q[0], {"w": dist.wasserstein, "one": lambda a, b: 1})
    assert custom.to_dict("records") == [{"w": dist.wasserstein(p[0], q[0]), "one": 1.0}]
    with pytest.raises(ValueError, match="unknown metric 'emd2'"):
        dist.compare_distributions(p, q, ["emd2"])


def test_rows_are_renormalized_within_tolerance():
    p = np.array([0.2, 0.2, 0.2, 0.2, 0.2 + 5e-7])
    assert dist.total_variation(p, p / p.sum()) == 0.0


# -- input checks ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("p", "q", "message"),
    [
        ([[0.5, 0.5, 0, 0, 0], [0.5, 0.4, 0, 0, 0]], [0.2] * 5, r"p row 1 sums to 0\.9"),
        ([0.2] * 5, [[0.2] * 5, [0.5, 0.6, -0.1, 0, 0]], "q row 1, category 3: value -0.1"),
        ([0.2] * 5, [0.2, 0.2, np.nan, 0.2, 0.2], "q row 0, category 3: value nan"),
        ([0.2] * 5, [0.25] * 4, "p has K = 5 categories but q has K = 4"),
        (random_pmfs(3), random_pmfs(2), "p has 3 rows and q has 2"),
        ([[[0.2] * 5]], [0.2] * 5, r"p must be a pmf \(K,\) or rows of pmfs"),
        ([0.5, 0.5], [0.5, 0.5], "K must be an integer >= 3"),
    ],
)
def test_invalid_pmfs(p, q, message):
    with pytest.raises(ValueError, match=message):
        dist.jsd(p, q)


def test_invalid_options_and_counts():
    p = [0.2] * 5
    with pytest.raises(ValueError, match="r must be a finite number >= 1"):
        dist.emd(p, p, r=0.5)
    with pytest.raises(ValueError, match="eps must be a finite number >= 0"):
        dist.kl(p, p, eps=-0.1)
    with pytest.raises(ValueError, match="base must be a positive number other than 1"):
        dist.jsd(p, p, base=1)
    with pytest.raises(ValueError, match="q row 0, category 1 is 0: the Aitchison distance"):
        dist.aitchison(p, [0, 0.25, 0.25, 0.25, 0.25])
    with pytest.raises(ValueError, match="column 'c2': value -1 is negative"):
        dist.rps_counts([[1, -1, 0, 0, 0]], p)
    with pytest.raises(ValueError, match="stimulus 1 has no ratings"):
        dist.nll_per_rating([[1, 0, 0, 0, 0], [0, 0, 0, 0, 0]], p)
    with pytest.raises(ValueError, match="counts has K = 5 categories but q has K = 4"):
        dist.g_statistic([1, 0, 0, 0, 0], [0.25] * 4)
