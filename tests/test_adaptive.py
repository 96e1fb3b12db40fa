"""Adaptive quantized metric models (``rd.fit_adaptive``) against independent computations:
scipy optimizers over all parameters of a plain NumPy likelihood, statsmodels' ordered probit
and logit, finite-difference Hessians, ``rd.fit`` at the reference thresholds, and recovery of
the parameters of simulated studies."""

from __future__ import annotations

import warnings

import numba
import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

import ratingdist as rd
from ratingdist import adaptive

K = 5
_CDF = {"normal": stats.norm.cdf, "logistic": stats.logistic.cdf}


def simulate(seed, n=30, G=2, tau=None, lam=None, family="normal", ratings=25, overlap=1.0):
    """(G, n, K) counts drawn from the model; a share ``overlap`` of stimuli rated by all
    groups, the others by one group each (round robin)."""
    rng = np.random.default_rng(seed)
    tau = np.array([[1.5, 2.5, 3.5, 4.5]] * G) if tau is None else np.asarray(tau, float)
    lam = np.zeros(G) if lam is None else np.asarray(lam, float)
    mu = rng.uniform(1.3, 4.7, n)
    sigma = rng.uniform(0.4, 1.2, n)
    counts = np.zeros((G, n, K), np.int64)
    shared = rng.random(n) < overlap
    for g in range(G):
        z = (tau[g][None, :] - mu[:, None]) / sigma[:, None]
        cdf = np.column_stack([np.zeros(n), _CDF[family](z), np.ones(n)])
        p = (1 - lam[g]) * np.diff(cdf, axis=1) + lam[g] / K
        for j in range(n):
            if shared[j] or j % G == g:
                counts[g, j] = rng.multinomial(ratings, p[j])
    return counts


def reference_nll(x, counts, family, thresholds, lapse, scale):
    """The model's NLL over all parameters in plain NumPy: x = (μ_j, log σ_j or log σ, free
    thresholds (reference set: the interior ones; other sets: τ_1 and log gaps), lapses)."""
    G, n, _ = counts.shape
    T = 1 if thresholds == "shared" else G
    mu = x[:n]
    i = n
    if scale == "common":
        ls = np.full(n, x[i])
        i += 1
    else:
        ls = x[i:i + n]
        i += n
    taus = []
    for t in range(T):
        if t == 0:
            taus.append(np.concatenate([[1.5], x[i:i + K - 3], [K - 0.5]]))
            i += K - 3
        else:
            taus.append(x[i] + np.concatenate([[0.0], np.cumsum(np.exp(x[i + 1:i + K - 1]))]))
            i += K - 1
    L = 0 if lapse is None else (1 if lapse == "shared" else G)
    lams = x[i:i + L]
    total = 0.0
    for g in range(G):
        tau = taus[0 if T == 1 else g]
        lam = lams[0 if L == 1 else g] if L else 0.0
        if np.any(np.diff(tau) <= 0):
            return np.inf
        z = (tau[None, :] - mu[:, None]) / np.exp(ls)[:, None]
        cdf = np.column_stack([np.zeros(n), _CDF[family](z), np.ones(n)])
        p = (1 - lam) * np.diff(cdf, axis=1) + lam / K
        c = counts[g]
        with np.errstate(divide="ignore"):
            total -= np.sum(np.where(c > 0, c * np.log(np.maximum(p, 1e-300)), 0.0))
    return total


def scipy_best(counts, family, thresholds, lapse, scale, starts=4, seed=0):
    """Best L-BFGS-B fit of :func:`reference_nll` from several starts (one at the moment
    estimates and reference thresholds, the others perturbed)."""
    G, n, _ = counts.shape
    rng = np.random.default_rng(seed)
    pooled = counts.sum(axis=0).astype(float)
    k = np.arange(1, K + 1)
    mean = (pooled * k).sum(1) / pooled.sum(1)
    sd = np.sqrt((pooled * (k - mean[:, None]) ** 2).sum(1) / pooled.sum(1))
    T = 1 if thresholds == "shared" else G
    L = 0 if lapse is None else (1 if lapse == "shared" else G)
    best = np.inf
    for s in range(starts):
        jit = 0.0 if s == 0 else 0.3
        x = [mean + jit * rng.normal(size=n)]
        if scale == "common":
            x.append([np.log(0.7)])
        else:
            x.append(np.log(np.maximum(sd, 0.3)) + jit * rng.normal(size=n))
        x.append([2.5, 3.5] + jit * rng.normal(size=2) * 0.3)
        for _ in range(1, T):
            x.append(np.concatenate([[1.5 + jit * rng.normal() * 0.3], np.zeros(K - 2)]))
        x.append(np.full(L, 0.02))
        x0 = np.concatenate([np.ravel(a) for a in x])
        bounds = [(None, None)] * (len(x0) - L) + [(0.0, 0.999)] * L
        r = optimize.minimize(
            reference_nll, x0, args=(counts, family, thresholds, lapse, scale), method="L-BFGS-B",
            bounds=bounds, options={"maxiter": 20000, "maxfun": 10**6, "ftol": 1e-15, "gtol": 1e-9},
        )
        best = min(best, r.fun)
    return best


@pytest.mark.parametrize(
    "family, thresholds, lapse, scale",
    [
        ("normal", "shared", None, "per-stimulus"),
        ("normal", "per-group", None, "per-stimulus"),
        ("logistic", "per-group", None, "per-stimulus"),
        ("normal", "per-group", "per-group", "per-stimulus"),
        ("logistic", "shared", "shared", "common"),
        ("normal", "per-group", None, "common"),
    ],
)
def test_joint_nll_not_above_scipy(family, thresholds, lapse, scale):
    counts = simulate(1, tau=[[1.5, 2.5, 3.5, 4.5], [1.2, 2.4, 3.7, 4.9]], lam=[0.02, 0.06],
                      family=family)
    res = rd.fit_adaptive(counts, family, thresholds=thresholds, lapse=lapse, scale=scale)
    assert res.converged
    assert np.isfinite(res.table[["mu", "nll"]].to_numpy()).all()
    ref = scipy_best(counts, family, thresholds, lapse, scale)
    assert res.nll <= ref + 1e-6
    # the reported NLL is the model's NLL at the reported parameters
    assert res.cells["nll"].sum() == pytest.approx(res.nll, rel=1e-12, abs=1e-9)


def _flat_params(res, counts):
    """The fit's parameters in the coordinates of :func:`reference_nll`."""
    th = res.thresholds
    x = [res.table["mu"].to_numpy()]
    if res.scale_mode == "common":
        x.append([np.log(res.common_scale["value"])])
    else:
        x.append(np.log(res.table["sigma"].to_numpy()))
    for t, (_, grp) in enumerate(th.groupby("group", sort=False)):
        v = grp["value"].to_numpy()
        x.append(v[1:-1] if t == 0 else np.concatenate([[v[0]], np.log(np.diff(v))]))
    if res.lapse_mode is not None:
        x.append(res.lapse["value"].to_numpy())
    return np.concatenate([np.ravel(a) for a in x])


def _fd_hessian(fun, x, h=1e-4):
    n = len(x)
    H = np.empty((n, n))

    def f(i, j, a, b):
        y = x.copy()
        y[i] += a
        y[j] += b
        return fun(y)

    for i in range(n):
        for j in range(i, n):
            H[i, j] = H[j, i] = (
                f(i, j, h, h) - f(i, j, h, -h) - f(i, j, -h, h) + f(i, j, -h, -h)
            ) / (4 * h * h)
    return H


@pytest.mark.parametrize("lapse", [None, "per-group"])
def test_standard_errors_match_finite_difference_hessian(lapse):
    counts = simulate(3, n=12, tau=[[1.5, 2.5, 3.5, 4.5], [1.2, 2.4, 3.7, 4.9]],
                      lam=[0.05, 0.1], ratings=40)
    res = rd.fit_adaptive(counts, thresholds="per-group", lapse=lapse)
    x = _flat_params(res, counts)
    fun = lambda y: reference_nll(y, counts, "normal", "per-group", lapse, "per-stimulus")  # noqa: E731
    assert fun(x) == pytest.approx(res.nll, rel=1e-12)
    cov = np.linalg.inv(_fd_hessian(fun, x))
    n = counts.shape[1]
    # reference group interior thresholds, then group 1's τ_1 (its gaps are in log coordinates)
    se_fd = np.sqrt(np.diag(cov)[[2 * n, 2 * n + 1, 2 * n + 2]])
    th = res.thresholds
    se = th.loc[~th["pinned"], "se"].to_numpy()[:3]
    np.testing.assert_allclose(se, se_fd, rtol=2e-4)
    if lapse is not None:
        np.testing.assert_allclose(res.lapse["se"], np.sqrt(np.diag(cov)[-2:]), rtol=2e-4)


def _long_format(counts2d):
    stim, rating = [], []
    for j, row in enumerate(counts2d):
        for k, c in enumerate(row):
            stim += [j] * int(c)
            rating += [k + 1] * int(c)
    return np.array(stim), np.array(rating)


@pytest.mark.parametrize("family, distr", [("normal", "probit"), ("logistic", "logit")])
def test_common_scale_equals_statsmodels_ordered_model(family, distr):
    from statsmodels.miscmodels.ordinal_model import OrderedModel
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    counts = simulate(5, n=15, G=1, family=family, ratings=30)
    res = rd.fit_adaptive(counts, family, scale="common")
    stim, rating = _long_format(counts[0])
    exog = pd.get_dummies(pd.Categorical(stim)).iloc[:, 1:].astype(float)
    endog = pd.Series(pd.Categorical(rating, categories=range(1, K + 1), ordered=True))
    with warnings.catch_warnings():  # BFGS on numerical derivatives ends with a precision loss
        warnings.simplefilter("ignore", ConvergenceWarning)
        sm = OrderedModel(endog, exog, distr=distr).fit(
            method="bfgs", maxiter=20000, disp=False, gtol=1e-9
        )
    assert res.nll == pytest.approx(-sm.llf, abs=1e-6)
    cuts = sm.model.transform_threshold_params(sm.params)[1:-1]
    a = (K - 2) / (cuts[-1] - cuts[0])
    np.testing.assert_allclose(res.thresholds["value"], a * (cuts - cuts[0]) + 1.5, atol=1e-5)
    assert res.common_scale["value"] == pytest.approx(a, rel=1e-5)
    beta = np.concatenate([[0.0], sm.params[: counts.shape[1] - 1]])
    np.testing.assert_allclose(res.table["mu"], a * (beta - cuts[0]) + 1.5, atol=1e-5)


def _with_degenerate(counts2d):
    extra = np.array([[0, 0, 12, 0, 0], [0, 7, 5, 0, 0], [4, 0, 0, 0, 6], [9, 0, 0, 0, 0],
                      [0, 0, 0, 3, 8], [1, 0, 0, 0, 0]])
    return np.vstack([counts2d, extra])


@pytest.mark.parametrize("family", ["normal", "logistic", "logit-logistic"])
def test_fixed_equals_rd_fit(family):
    c = _with_degenerate(simulate(7, n=40, G=1, family=family.removeprefix("logit-"))[0])
    res = rd.fit_adaptive(c, family)
    fixed = res.fixed()
    assert fixed.converged
    reference = [0.2, 0.4, 0.6, 0.8] if family == "logit-logistic" else [1.5, 2.5, 3.5, 4.5]
    assert (fixed.thresholds["value"] == reference).all()
    assert (res.reference_thresholds == reference).all()
    ref = rd.fit(c, family).table
    tab = fixed.table
    np.testing.assert_allclose(tab["nll"], ref["nll"], rtol=1e-10, atol=1e-9)
    np.testing.assert_array_equal(tab["limit"], ref["limit"])
    ok = ~ref["limit"].to_numpy()
    mname, sname = rd.family(family).param_names
    # rd.fit stops at a Newton decrement of 1e-10 (parameters to about 1e-6); the joint solver
    # goes to 1e-13, so its NLL is never above rd.fit's
    assert np.all(tab["nll"] <= ref["nll"] + 1e-10)
    np.testing.assert_allclose(tab["mu"][ok], ref[mname][ok], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tab["sigma"][ok], ref[sname][ok], rtol=1e-5)
    np.testing.assert_array_equal(tab["sigma"][~ok], ref[sname][~ok])
    np.testing.assert_allclose(fixed.cells[[f"p{k}" for k in range(1, 6)]],
                               ref[[f"p{k}" for k in range(1, 6)]], atol=1e-5)
    assert res.nll <= fixed.nll
    test = res.lr_test()
    assert test["df"] == 2
    assert test["statistic"] == pytest.approx(2 * (fixed.nll - res.nll))


@pytest.mark.parametrize(
    "thresholds, lapse, scale",
    [("shared", None, "per-stimulus"), ("per-group", "per-group", "per-stimulus"),
     ("shared", "shared", "common"), ("per-group", None, "common")],
)
def test_logit_logistic_is_the_logistic_model_on_the_logit_axis(thresholds, lapse, scale):
    # logit X ~ Logistic(logit μ, s) cut at τ ∈ (0, 1) is the logistic model cut at logit τ:
    # with learned thresholds both reach the same optimum, the thresholds related by the affine
    # map a·u + b between the pins (1.5, 4.5) and (logit 0.2, logit 0.8)
    counts = simulate(11, n=40, G=2, family="logistic", lam=[0.02, 0.05],
                      tau=[[1.5, 2.4, 3.3, 4.5], [1.5, 2.7, 3.6, 4.5]])
    kw = {"thresholds": thresholds, "lapse": lapse, "scale": scale}
    a = rd.fit_adaptive(counts, "logistic", **kw)
    b = rd.fit_adaptive(counts, "logit-logistic", **kw)
    assert a.converged and b.converged
    assert b.nll == pytest.approx(a.nll, rel=1e-10, abs=1e-8)
    assert b.n_params == a.n_params
    lo, hi = np.log(0.25), np.log(4.0)
    slope, shift = (hi - lo) / 3.0, lo - 1.5 * (hi - lo) / 3.0
    u = stats.logistic.ppf(b.thresholds["value"].to_numpy())
    np.testing.assert_allclose(u, slope * a.thresholds["value"].to_numpy() + shift, atol=2e-5)
    # se and interval: the delta method and the logit-axis Wald interval mapped to [0, 1]
    t = b.thresholds
    free = ~t["pinned"].to_numpy()
    se_u = a.thresholds["se"].to_numpy()[free] * slope
    v = t["value"].to_numpy()[free]
    np.testing.assert_allclose(t["se"].to_numpy()[free], v * (1 - v) * se_u, rtol=2e-3)
    np.testing.assert_allclose(stats.logistic.ppf(t["ci_high"].to_numpy()[free]),
                               u[free] + stats.norm.ppf(0.975) * se_u, rtol=2e-3)
    if lapse is not None:
        np.testing.assert_allclose(b.lapse["value"], a.lapse["value"], atol=1e-6)
    # per stimulus: logit μ = a·μ + b, s = a·σ (σ → 0 limits at 0 in both)
    np.testing.assert_allclose(b.table["mu"], slope * a.table["mu"] + shift, atol=5e-5)
    np.testing.assert_allclose(b.table["sigma"], slope * a.table["sigma"], atol=5e-5)
    np.testing.assert_allclose(b.cell_probs(), a.cell_probs(), atol=1e-6)


def test_degenerate_stimuli_have_defined_answers():
    c = _with_degenerate(simulate(8, n=20, G=1)[0])
    for lapse in (None, "shared"):
        res = rd.fit_adaptive(c, lapse=lapse)
        tab = res.table
        assert res.converged
        assert not tab.isna().any().any()
        assert np.isfinite(tab["nll"]).all()
        one = tab.index[-6:][[0, 1, 3, 4, 5]]
        assert (tab.loc[one, "sigma"] == 0).all() and tab.loc[one, "limit"].all()
        assert res.cells["nll"].sum() == pytest.approx(res.nll, rel=1e-12)
    # only degenerate stimuli and the learned thresholds: still a defined answer
    res = rd.fit_adaptive(c[-6:])
    assert not res.table.isna().any().any()


def test_group_without_common_stimuli_identified_by_rule():
    a = simulate(9, n=20, G=1)[0]
    b = simulate(10, n=20, G=1, tau=[[1.0, 2.2, 3.9, 5.0]])[0]
    counts = np.stack([np.vstack([a, np.zeros_like(b)]), np.vstack([np.zeros_like(a), b])])
    res = rd.fit_adaptive(counts, thresholds="per-group")
    assert res.identified_by_rule == ["1"]
    assert "share no stimulus" in res.identification
    th = res.thresholds
    assert th["pinned"].sum() == 4
    assert th.loc[th["group"] == "1", "value"].iloc[[0, -1]].tolist() == [1.5, 4.5]
    # the pinned group is fitted like a separate study
    alone = rd.fit_adaptive(b, thresholds="per-group")
    np.testing.assert_allclose(th.loc[th["group"] == "1", "value"],
                               alone.thresholds["value"], atol=1e-7)
    linked = rd.fit_adaptive(simulate(9, n=20, G=2), thresholds="per-group")
    assert linked.identified_by_rule == []


def test_labelled_rows_equal_array_form():
    counts = simulate(11, n=10, G=2, overlap=0.5)
    rows, grp, stim = [], [], []
    for g in range(2):
        for j in range(10):
            if counts[g, j].sum():
                rows.append(counts[g, j])
                grp.append("ab"[g])
                stim.append(f"s{j}")
    rc = rd.RatingCounts(np.arange(len(rows)), np.array(rows))
    a = rd.fit_adaptive(rc, groups=grp, stimuli=stim, thresholds="per-group", lapse="shared")
    b = rd.fit_adaptive(counts, thresholds="per-group", lapse="shared")
    assert a.nll == pytest.approx(b.nll, rel=1e-12)
    np.testing.assert_allclose(a.thresholds["value"], b.thresholds["value"], atol=1e-9)
    assert a.thresholds["group"].unique().tolist() == ["a", "b"]
    assert set(a.table["groups"]) == {"a", "b", "a,b"}
    by_group = {
        name: rd.RatingCounts([s for s, x in zip(stim, grp) if x == name],
                              np.array([r for r, x in zip(rows, grp) if x == name]))
        for name in "ab"
    }
    c = rd.fit_adaptive(by_group, thresholds="per-group", lapse="shared")
    assert c.nll == pytest.approx(b.nll, rel=1e-12)
    np.testing.assert_allclose(c.thresholds["value"], b.thresholds["value"], atol=1e-9)


def test_k_mismatch_between_groups():
    groups = {"a": rd.RatingCounts([1, 2], [[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]]),
              "b": rd.RatingCounts([1, 2], [[1, 2, 3, 4], [4, 3, 2, 1]])}
    with pytest.raises(ValueError, match="group 'b' has K = 4 categories, group 'a' has K = 5"):
        rd.fit_adaptive(groups)


def test_results_do_not_depend_on_thread_count():
    counts = simulate(12, n=600, G=2, lam=[0.03, 0.05])
    before = numba.get_num_threads()
    out = []
    try:
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            r = rd.fit_adaptive(counts, thresholds="per-group", lapse="per-group")
            out.append((r.nll, r.thresholds["se"].to_numpy(), r.table["mu"].to_numpy()))
    finally:
        numba.set_num_threads(before)
    for o in out[1:]:
        assert o[0] == out[0][0]
        np.testing.assert_array_equal(o[1], out[0][1])
        np.testing.assert_array_equal(o[2], out[0][2])


TRUE_TAU = np.array([[1.5, 2.4, 3.6, 4.5], [1.1, 2.3, 3.8, 4.8]])


def test_recovery_and_coverage():
    hits = []
    for seed in range(50):
        counts = simulate(100 + seed, n=60, G=2, tau=TRUE_TAU, lam=[0.03, 0.08], ratings=40)
        res = rd.fit_adaptive(counts, thresholds="per-group", lapse="per-group")
        assert res.converged
        th = res.thresholds
        free = ~th["pinned"].to_numpy()
        truth = TRUE_TAU.ravel()[free]
        lo, hi = th["ci_low"].to_numpy()[free], th["ci_high"].to_numpy()[free]
        hits.extend((lo <= truth) & (truth <= hi))
        if seed == 0:
            z = (th["value"].to_numpy()[free] - truth) / th["se"].to_numpy()[free]
            assert np.all(np.abs(z) < 4)
            assert np.all(np.abs(res.lapse["value"] - [0.03, 0.08]) < 4 * res.lapse["se"])
    assert 0.85 <= np.mean(hits) <= 0.99


def test_lr_test_shared_vs_per_group():
    counts = simulate(13, n=60, G=2, tau=TRUE_TAU, ratings=40)
    shared = rd.fit_adaptive(counts, thresholds="shared")
    per = rd.fit_adaptive(counts, thresholds="per-group")
    t = adaptive.lr_test(shared, per)
    assert t["df"] == 4
    assert t["p_value"] < 1e-3
    same = simulate(14, n=60, G=2, ratings=40)
    t0 = adaptive.lr_test(rd.fit_adaptive(same), rd.fit_adaptive(same, thresholds="per-group"))
    assert t0["p_value"] > 1e-3
    with pytest.raises(ValueError, match="more"):
        adaptive.lr_test(per, shared)
    with pytest.raises(ValueError, match="same counts"):
        adaptive.lr_test(shared, rd.fit_adaptive(same, thresholds="per-group"))


@pytest.mark.parametrize(
    "counts, kwargs, match",
    [
        (np.zeros((2, 3)), {}, "no rating"),
        (np.ones((2, 3, 5, 1)), {}, "shape"),
        (np.ones((1, 3, 2)), {}, "K = 2"),
        (np.array([[[1, 2, -1, 0, 1]]]), {}, "value -1 is negative"),
        (np.array([[[1, 2, 1.5, 0, 1]]]), {}, "value 1.5 is not a whole number"),
        (np.array([[[1, 2, 1, 0, 1]], [[0, 0, 0, 0, 0]]]), {}, "group 1 has no rating"),
        (np.array([[[1, 2, 1, 0, 1], [0, 0, 0, 0, 0]]]), {}, "stimulus 1 has no rating"),
        (np.ones((3, 5), int), {"groups": [0, 1]}, "2 labels for 3 rows"),
        (np.ones((2, 5), int), {"groups": [0, 0], "stimuli": ["a", "a"]}, "appears twice"),
        (np.ones((1, 2, 5), int), {"family": "gsd"}, "family must be one of"),
        (np.ones((1, 2, 5), int), {"family": "beta", "scale": "common"}, "scale='per-stimulus'"),
        (np.ones((1, 2, 5), int), {"family": "kumaraswamy", "lapse": "shared"}, "lapse=None"),
        (np.ones((1, 2, 5), int), {"family": "gsd"}, "family must be one of"),
        (np.ones((1, 2, 5), int), {"thresholds": "each"}, "thresholds"),
        (np.ones((1, 2, 5), int), {"lapse": "all"}, "lapse"),
        (np.ones((1, 2, 5), int), {"scale": "one"}, "scale"),
        (np.array([[[0, 3, 2, 4, 1]], [[2, 0, 3, 1, 1]]]), {"thresholds": "per-group"},
         "group .1. has no rating in category 2"),
        (np.array([[[1, 3, 0, 4, 1]]]), {}, "study has no rating in category 3.*merge"),
        (np.array([[[1, 2, 3, 2, 1]]]), {"lapse": "shared"},
         "5 free parameters but the 1 group-stimulus cells determine only 4"),
        (np.array([[1, 2, 3, 2, 1], [0, 0, 0, 0, 0]]), {"groups": ["a", "b"]},
         "groups= labels: stimulus 1 has no ratings"),
        ({"a": np.array([[1, 2, 3, 2, 1]]), "b": np.zeros((1, 5), int)}, {},
         "group 'b': stimulus 0 has no ratings"),
    ],
)
def test_bad_input(counts, kwargs, match):
    with pytest.raises(ValueError, match=match):
        rd.fit_adaptive(counts, **kwargs)


def _extreme_of_params(x, counts, lapse, scale):
    """E_g = mean_j p_{g,j,1} + p_{g,j,K} in plain NumPy, x as in :func:`reference_nll`
    (per-group thresholds, normal)."""
    G, n, _ = counts.shape
    mu = x[:n]
    if scale == "common":
        ls, i = np.full(n, x[n]), n + 1
    else:
        ls, i = x[n:2 * n], 2 * n
    taus = [np.concatenate([[1.5], x[i:i + K - 3], [K - 0.5]])]
    i += K - 3
    for _ in range(1, G):
        taus.append(x[i] + np.concatenate([[0.0], np.cumsum(np.exp(x[i + 1:i + K - 1]))]))
        i += K - 1
    lams = x[i:i + G] if lapse else np.zeros(G)
    out = []
    for g in range(G):
        z = (taus[g][None, :] - mu[:, None]) / np.exp(ls)[:, None]
        tails = stats.norm.cdf(z[:, 0]) + stats.norm.sf(z[:, -1])
        out.append(np.mean((1 - lams[g]) * tails + 2 * lams[g] / K))
    return np.array(out)


@pytest.mark.parametrize("lapse, scale", [(None, "per-stimulus"), ("per-group", "per-stimulus"),
                                          ("per-group", "common")])
def test_extreme_response_matches_full_information_delta_method(lapse, scale):
    counts = simulate(3, n=12, tau=[[1.5, 2.5, 3.5, 4.5], [1.2, 2.4, 3.7, 4.9]],
                      lam=[0.05, 0.1], ratings=40)
    res = rd.fit_adaptive(counts, thresholds="per-group", lapse=lapse, scale=scale)
    er = res.extreme_response()
    # the value is the mean of the fitted end-category probabilities of the group's cells
    cells = res.cells
    direct = (cells["p1"] + cells[f"p{K}"]).groupby(cells["group"], sort=False).mean()
    np.testing.assert_allclose(er["value"], direct.to_numpy(), rtol=1e-13)
    assert er["n_stimuli"].tolist() == [12, 12]
    # independent: the delta method with the full finite-difference Hessian over every parameter
    x = _flat_params(res, counts)
    fun = lambda y: reference_nll(y, counts, "normal", "per-group", lapse, scale)  # noqa: E731
    cov = np.linalg.inv(_fd_hessian(fun, x))
    np.testing.assert_allclose(_extreme_of_params(x, counts, lapse, scale), er["value"],
                               rtol=1e-12)
    h = 1e-6
    ext = lambda y: _extreme_of_params(y, counts, lapse, scale)  # noqa: E731
    grad = np.array([(ext(x + h * e) - ext(x - h * e)) / (2 * h) for e in np.eye(len(x))]).T
    var = np.einsum("gp,pq,gq->g", grad, cov, grad)
    np.testing.assert_allclose(er["se"], np.sqrt(var), rtol=1e-3)
    # the ratio: value, and its se from the log ratio with the covariance of the two groups
    r = res.extreme_response_ratio(1, 0)
    assert r["value"] == pytest.approx(er["value"][1] / er["value"][0], rel=1e-13)
    d = grad[1] / er["value"][1] - grad[0] / er["value"][0]
    v = d @ cov @ d
    assert r["se"] == pytest.approx(r["value"] * np.sqrt(v), rel=1e-3)
    assert r["ci_low"] < r["value"] < r["ci_high"]


def test_extreme_response_defined_answers():
    counts = simulate(4, n=10, G=2)
    fixed = rd.fit_adaptive(counts).fixed()
    er = fixed.extreme_response()
    # at the reference thresholds without a lapse only the stimulus fits carry uncertainty
    assert np.isfinite(er["se"]).all() and (er["se"] > 0).all()
    # a lapse on its bound 0 is held there: the intervals of the fit without a lapse
    no_lapse = rd.fit_adaptive(counts)
    on_bound = rd.fit_adaptive(counts, lapse="shared")
    assert on_bound.lapse["at_bound"].all()
    np.testing.assert_allclose(on_bound.extreme_response()[["value", "se"]],
                               no_lapse.extreme_response()[["value", "se"]], rtol=1e-6)
    # group 1 rates one stimulus, σ → 0 on two adjacent categories: only the split is
    # determined, E = the share of 5s with its binomial se (pseudo-inverse of the singular block)
    broad = [3, 5, 6, 5, 5]
    split = np.array([[broad, [0] * 5, [0] * 5], [[0] * 5, [0, 0, 0, 10, 14], [0, 0, 24, 0, 0]]])
    one = rd.fit_adaptive(split[:, :2]).fixed().extreme_response()
    assert one["value"][1] == pytest.approx(14 / 24, rel=1e-6)  # the σ floor: 1e-7
    assert one["se"][1] == pytest.approx(np.sqrt(14 / 24 * 10 / 24 / 24), rel=1e-6)
    # a stimulus all in one category sits at its limit: no variance (group 1: half of it)
    two = rd.fit_adaptive(split).fixed().extreme_response()
    assert two["value"][1] == pytest.approx(14 / 48, rel=1e-6)
    assert two["se"][1] == pytest.approx(one["se"][1] / 2, rel=1e-6)
    with pytest.raises(ValueError, match="group 'x' is not in the fit"):
        fixed.extreme_response_ratio("x", 0)
    # a stimulus rated only in 1 and K (the σ → ∞ limit) counts as all mass at the ends
    c = np.array([[[5, 0, 0, 0, 5], [0, 3, 6, 2, 0], [1, 4, 5, 3, 1]]])
    e = rd.fit_adaptive(c).extreme_response()
    assert np.isfinite(e[["value", "se"]].to_numpy()).all()
    cells = rd.fit_adaptive(c).cells
    assert e["value"][0] == pytest.approx((cells["p1"] + cells["p5"]).mean(), rel=1e-13)
