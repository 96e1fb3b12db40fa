"""Families: exact pmfs against independent computations, invariants, the (mean, variance)
parameterization and the scipy.stats-like frozen distribution."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import ratingdist as rd
from ratingdist import scale

from . import reference as ref

QUANTIZED = ("normal", "logistic", "beta", "kumaraswamy", "logit-logistic")
K = 5


def grid(interior: bool, K: int = K, rho_min: float = 1e-4):
    """Dense (ψ, v) grid; with interior=False it includes the whole boundary."""
    if interior:
        psi = np.linspace(1.1, K - 0.1, 39)
        rho = np.array([0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.95, 0.99, 0.999])
        rho = np.append(rho, rho_min)
    else:
        psi = np.linspace(1.0, K, 41)
        rho = np.array([0.0, rho_min, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 1 - 1e-4, 1.0])
    P, R = np.meshgrid(psi, rho)
    P, R = P.ravel(), R.ravel()
    return P, scale.var_from_rho(P, R, K)


def test_registry():
    assert rd.FAMILIES == (
        "normal", "logistic", "beta", "kumaraswamy", "logit-logistic", "maxent", "gsd"
    )
    for name in rd.FAMILIES:
        assert rd.family(name).name == name
    with pytest.raises(ValueError, match="unknown family 'gauss'"):
        rd.family("gauss")


#: Kumaraswamy members approach v_max only as a → 0 like exp(−1/(v_max − v)): below this ρ
#: their a underflows (a documented limitation); all other families take ρ down to 1e-4.
RHO_MIN = {"kumaraswamy": 0.01}


@pytest.mark.parametrize("name", rd.FAMILIES)
def test_pmf_is_a_distribution_on_whole_region(name):
    psi, var = grid(interior=False, rho_min=RHO_MIN.get(name, 1e-4))
    p = rd.family(name).pmf_from_moments(psi, var)
    assert p.shape == (len(psi), K)
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
    mean, v = scale.moments_of_probs(p)
    np.testing.assert_allclose(mean, psi, atol=1e-9)
    np.testing.assert_allclose(v, var, atol=1e-9)


@pytest.mark.parametrize("name", rd.FAMILIES)
def test_moments_round_trip_interior(name):
    fam = rd.family(name)
    psi, var = grid(interior=True, rho_min=0.01)
    params = fam.from_moments(psi, var)
    mean, v = fam.moments(params)
    np.testing.assert_allclose(mean, psi, rtol=0, atol=1e-9)
    np.testing.assert_allclose(v, var, rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", QUANTIZED)
def test_quantized_pmf_equals_scipy_cdf_differences(name):
    fam = rd.family(name)
    P, R = np.meshgrid([1.5, 2.2, 3.0, 3.7, 4.5], [0.1, 0.4, 0.7, 0.95])
    params = fam.from_moments(P.ravel(), scale.var_from_rho(P.ravel(), R.ravel()))
    ours = fam.pmf(params)
    # the reference takes the reference study's parameters (logit-logistic: μ, not logit μ)
    theirs = np.array([ref.quantized_pmf(name, a, b, K=K) for a, b in fam.reference_params(params)])
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("name", QUANTIZED)
def test_quantized_pmf_extreme_parameters(name):
    """Concentrated and widely spread members keep their tiny cells accurate."""
    params = {
        "normal": [[3.2, 0.05], [1.7, 0.2], [3.0, 30.0]],
        "logistic": [[3.2, 0.05], [4.6, 0.1], [3.0, 30.0]],
        "beta": [[800.0, 400.0], [0.05, 0.08], [30.0, 3.0]],
        "kumaraswamy": [[40.0, 1e6], [0.1, 0.2], [3.0, 9.0]],
        "logit-logistic": [[0.6, 0.03], [0.3, 5.0], [0.9, 0.2]],
    }[name]
    ours = rd.family(name).logpmf(rd.family(name).from_reference_params(params))
    with np.errstate(divide="ignore"):
        theirs = np.log([ref.quantized_pmf(name, a, b, K=K) for a, b in params])
    finite = np.isfinite(theirs)
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=1e-8, atol=1e-15)


def test_maxent_equals_bruteforce_entropy_maximization():
    fam = rd.family("maxent")
    psi, var = grid(interior=True)
    sel = slice(None, None, 11)
    ours = fam.pmf_from_moments(psi[sel], var[sel])
    theirs = np.array([ref.maxent_pmf_bruteforce(m, v, K=K) for m, v in zip(psi[sel], var[sel])])
    np.testing.assert_allclose(ours, theirs, atol=1e-7)


def test_gsd_equals_exact_arithmetic():
    fam = rd.family("gsd")
    psi = np.array(["1", "1.3", "2", "2.5", "3.17", "4", "4.5", "4.99", "5", "3.5", "1.02"])
    rho = np.array(["0.5", "0", "0.2", "1", "0.75", "0.999", "0.3", "0.6", "0.1", "0.8", "0.9"])
    for p_s in psi:
        for r_s in rho:
            ours = fam.pmf([float(p_s), float(r_s)])
            exact = ref.gsd_pmf_exact(p_s, r_s, K=K)
            np.testing.assert_allclose(ours, exact, rtol=0, atol=1e-12, err_msg=f"{p_s}, {r_s}")


def test_gsd_binomial_shape():
    """At ρ = C(ψ) the GSD is the binomial on K − 1 trials shifted by one."""
    fam = rd.family("gsd")
    psi = 2.6
    pi = (psi - 1) / 4
    binomial = stats.binom.pmf(np.arange(5), 4, pi)
    np.testing.assert_allclose(fam.pmf([psi, float(fam.binomial_shape(psi))]), binomial, atol=1e-14)


@settings(max_examples=60, deadline=None)
@given(
    psi=st.floats(1.0, 5.0),
    rho=st.floats(0.0, 1.0),
    name=st.sampled_from(rd.FAMILIES),
)
def test_property_pmf_from_moments_hits_mean_and_variance(psi, rho, name):
    rho = max(rho, RHO_MIN.get(name, 0.0)) if 0 < rho < 1 else rho
    var = float(scale.var_from_rho(psi, rho))
    p = rd.family(name).pmf_from_moments(psi, var)[0]
    assert np.all(p >= 0)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    mean, v = scale.moments_of_probs(p)
    assert mean == pytest.approx(psi, abs=1e-8)
    assert v == pytest.approx(var, abs=1e-8)


@settings(max_examples=40, deadline=None)
@given(
    mu=st.floats(-2.0, 8.0),
    log_sigma=st.floats(-3.0, 2.5),
    name=st.sampled_from(("normal", "logistic")),
)
def test_property_location_scale_pmf(mu, log_sigma, name):
    p = rd.family(name).pmf([mu, np.exp(log_sigma)])
    assert np.all(p >= 0)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("name", QUANTIZED)
def test_latent_cdf_and_ppf_against_reference(name):
    fam = rd.family(name)
    params = fam.from_moments([2.2, 3.8, 3.0], [0.6, 0.3, 1.5])
    q = np.array([0.1, 0.5, 0.9])
    ours = fam.latent_ppf(params, np.tile(q, (3, 1)))
    for i, (a, b) in enumerate(fam.reference_params(params)):
        theirs = [ref.quantized_ppf(name, a, b, qq, K=K) for qq in q]
        np.testing.assert_allclose(ours[i], theirs, rtol=1e-9)
        np.testing.assert_allclose(
            fam.latent_cdf(params[i], ours[i]), q, rtol=1e-9
        )
    # the latent cdf at the thresholds reproduces the pmf
    u = np.arange(1, K) + 0.5
    cdf = fam.latent_cdf(params, np.tile(u, (3, 1)))
    np.testing.assert_allclose(np.diff(cdf, prepend=0, append=1), fam.pmf(params), atol=1e-12)


def test_custom_thresholds():
    t = [1.4, 2.6, 3.5, 4.4]
    fam = rd.family("normal", thresholds=t)
    expected = np.diff([0.0, *stats.norm.cdf(t, 3.0, 1.0), 1.0])
    np.testing.assert_allclose(fam.pmf([3.0, 1.0]), expected, atol=1e-14)
    with pytest.raises(ValueError, match="strictly increasing"):
        rd.family("normal", thresholds=[2.0, 1.0, 3.0])
    with pytest.raises(ValueError, match="inside"):
        rd.family("beta", thresholds=[0.0, 0.5, 0.7, 0.9])
    with pytest.raises(ValueError, match="K = 5 categories, but K = 7"):
        fam.pmf([3.0, 1.0], K=7)


def test_other_K():
    for name in rd.FAMILIES:
        fam = rd.family(name)
        for k in (3, 7, 11):
            params = fam.from_moments([2.0], [0.7], K=k)
            p = fam.pmf(params, K=k)
            assert p.shape == (1, k)
            mean, var = scale.moments_of_probs(p)
            np.testing.assert_allclose([mean[0], var[0]], [2.0, 0.7], atol=1e-9)


def test_bad_parameters_name_the_row():
    with pytest.raises(ValueError, match="row 1"):
        rd.family("normal").pmf([[3.0, 1.0], [3.0, -1.0]])
    with pytest.raises(ValueError, match=r"parameter rho of row 0 is 1\.5"):
        rd.family("gsd").pmf([3.0, 1.5])
    with pytest.raises(ValueError, match="shape"):
        rd.family("beta").pmf([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="variance at index 0"):
        rd.family("maxent").from_moments(3.0, 5.0)
    with pytest.raises(ValueError, match="mean at index 1"):
        rd.family("normal").from_moments([3.0, 6.0], [1.0, 1.0])


def test_boundary_limits_of_from_moments():
    normal = rd.family("normal")
    p = normal.from_moments([3.0, 2.5, 3.0], [0.0, 0.25, 4.0])
    np.testing.assert_array_equal(p[:2], [[3.0, 0.0], [2.5, 0.0]])
    assert np.isinf(p[2, 1])
    np.testing.assert_allclose(
        normal.pmf_from_moments([2.3, 3.0], [0.21, 4.0]),
        [[0, 0.7, 0.3, 0, 0], [0.5, 0, 0, 0, 0.5]],
        atol=1e-12,
    )


def test_freeze_behaves_like_scipy():
    fam = rd.family("logit-logistic")
    d = fam.freeze(fam.from_reference_params([0.669, 0.245]))
    assert d.support() == (1, 5)
    assert d.pmf(np.arange(1, 6)).sum() == pytest.approx(1.0)
    assert d.pmf(2.5) == 0.0 and d.pmf(0) == 0.0
    assert d.cdf(5) == 1.0 and d.cdf(0.5) == 0.0
    assert d.cdf(3.7) == pytest.approx(d.pmf([1, 2, 3]).sum())
    assert d.ppf(0.5) == 4
    assert d.mean() == pytest.approx(float(d.probs @ np.arange(1, 6)))
    assert d.std() ** 2 == pytest.approx(d.var())
    assert d.entropy() > 0
    draws = d.rvs(size=1000, random_state=3)
    np.testing.assert_array_equal(draws, d.rvs(size=1000, random_state=3))
    assert set(np.unique(draws)) <= {1, 2, 3, 4, 5}
    assert d.latent_ppf(0.1) == pytest.approx(3.21, abs=0.01)
    with pytest.raises(AttributeError, match="latent"):
        rd.family("gsd").freeze([3.0, 0.5]).latent_ppf(0.1)


def test_sample_counts_reproducible():
    fam = rd.family("gsd")
    a = fam.sample_counts([[3.2, 0.7], [1.5, 0.2]], [24, 100], rng=7)
    b = fam.sample_counts([[3.2, 0.7], [1.5, 0.2]], [24, 100], rng=np.random.default_rng(7))
    assert a == b
    np.testing.assert_array_equal(a.n_ratings, [24, 100])
