"""The quantized subject model against an independent scipy fit, on recovery, degenerate data,
thread counts, and the cross-validation's reproducibility."""

import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

import ratingdist as rd
from ratingdist.subjects import quantized as q


def _synthetic(J, I, seed, fraction=1.0, sig=0.3, ups=0.5):
    rng = np.random.default_rng(seed)
    psi = rng.uniform(1.5, 4.5, J)
    s_j = np.exp(rng.normal(np.log(sig), 0.2, J))
    dlt = rng.normal(0, 0.3, I)
    dlt -= dlt.mean()
    u_i = np.exp(rng.normal(np.log(ups), 0.2, I))
    j, i = np.divmod(np.arange(J * I), I)
    keep = rng.random(J * I) < fraction
    j, i = j[keep], i[keep]
    u = psi[j] + dlt[i] + np.hypot(s_j[j], u_i[i]) * rng.standard_normal(j.size)
    r = np.clip(np.floor(u + 0.5), 1, 5).astype(int)
    table = pd.DataFrame({"stimulus": j, "subject": i, "rating": r})
    return rd.Ratings.from_long(table), dict(psi=psi, sigma=s_j, bias=dlt, ups=u_i)


def _scipy_objective(ratings, ambiguity, kappa, family, lapse=False):
    """Penalized NLL of the model over all parameters, written with scipy.stats (the lapse
    rate, if any, is the last parameter)."""
    J, I, K = ratings.n_stimuli, ratings.n_subjects, ratings.K
    j, i, r = ratings.stimulus_index, ratings.subject_index, ratings.values
    dist = stats.norm if family == "normal" else stats.logistic
    up = np.where(r == K, np.inf, r + 0.5)
    lo = np.where(r == 1, -np.inf, r - 0.5)

    def f(x):
        psi, dlt = x[:J], x[J:J + I]
        nu = x[J + I:J + 2 * I]
        rho = x[J + 2 * I:J + 2 * I + J] if ambiguity else np.full(J, -np.inf)
        m = psi[j] + dlt[i]
        s = np.sqrt(np.exp(2 * rho[j]) + np.exp(2 * nu[i]))
        p = dist.cdf((up - m) / s) - dist.cdf((lo - m) / s)
        if lapse:
            p = (1 - x[-1]) * p + x[-1] / K
        val = -np.sum(np.log(np.maximum(p, 1e-300)))
        val += 0.5 * kappa * np.sum((nu - nu.mean()) ** 2)
        if ambiguity:
            val += 0.5 * kappa * np.sum((rho - rho.mean()) ** 2)
        return val

    n = J + 2 * I + (J if ambiguity else 0)
    lo_b = [1 - 4 * K] * J + [-4 * K] * I + [math.log(q.SCALE_FLOOR)] * (n - J - I)
    hi_b = [4 * K] * J + [4 * K] * I + [math.log(10 * K)] * (n - J - I)
    if lapse:
        lo_b, hi_b = [*lo_b, 0.0], [*hi_b, q.LAPSE_MAX]
    return f, list(zip(lo_b, hi_b))


def _scipy_best(ratings, ambiguity, kappa, family, starts=3, lapse=False):
    f, bounds = _scipy_objective(ratings, ambiguity, kappa, family, lapse)
    J, I = ratings.n_stimuli, ratings.n_subjects
    mean = ratings.counts().counts @ np.arange(1, 6) / ratings.counts().counts.sum(1)
    rng = np.random.default_rng(1)
    best = np.inf
    for s in range(starts):
        x0 = np.concatenate([mean + 0.1 * s * rng.standard_normal(J),
                             0.1 * s * rng.standard_normal(I),
                             np.full(I, math.log(0.5)) + 0.2 * s * rng.standard_normal(I),
                             np.full(J if ambiguity else 0, math.log(0.3)),
                             [0.01 * (s + 1)] if lapse else []])
        res = optimize.minimize(f, x0, method="L-BFGS-B", bounds=bounds,
                                options={"maxiter": 20000, "maxfun": 10**6, "ftol": 1e-15,
                                         "gtol": 1e-10})
        best = min(best, res.fun)
    return best


@pytest.fixture(scope="module")
def nflx_small():
    path = os.environ.get("RATINGDIST_DATA_DIR")
    if not path or not os.path.exists(os.path.join(path, "NFLX_dataset_public_raw.py")):
        pytest.skip("RATINGDIST_DATA_DIR with the NFLX public file is not set")
    table = rd.datasets.load("nflx-public").to_frame()
    stim = table["stimulus"].unique()[:15]
    subj = table["subject"].unique()[:10]
    table = table[table["stimulus"].isin(stim) & table["subject"].isin(subj)]
    return rd.Ratings.from_long(table)


@pytest.mark.parametrize(("ambiguity", "kappa", "family", "lapse"),
                         [(False, 0.0, "normal", False), (True, 1.0, "normal", False),
                          (True, 1.0, "logistic", False), (True, 5.0, "normal", True),
                          (False, 0.0, "logistic", True)])
def test_objective_not_above_scipy_nflx(nflx_small, ambiguity, kappa, family, lapse):
    res = rd.subjects.fit(nflx_small, family=family, ambiguity=ambiguity, shrinkage=kappa,
                          lapse="shared" if lapse else None)
    assert res.converged and res.max_grad < 1e-6
    best = _scipy_best(nflx_small, ambiguity, kappa, family, lapse=lapse)
    assert res.objective <= best + 1e-6


def test_objective_not_above_scipy_synthetic():
    ratings, _ = _synthetic(12, 8, seed=3, fraction=0.8)
    res = rd.subjects.fit(ratings, shrinkage=2.0, lapse=None)
    assert res.converged
    assert res.objective <= _scipy_best(ratings, True, 2.0, "normal") + 1e-6
    assert abs(res.subjects["bias"].mean()) < 1e-12


def test_recovery_synthetic():
    ratings, truth = _synthetic(200, 30, seed=5, fraction=0.5)
    res = rd.subjects.fit(ratings, ambiguity=False, lapse=None, shrinkage=1.0)
    ids = res.subjects["id"].to_numpy(dtype=int)  # subjects in order of first appearance
    est_bias = res.subjects["bias"].to_numpy()
    # υ absorbs σ_j without ambiguity: s² = σ² + υ² on average
    assert np.max(np.abs(est_bias - truth["bias"][ids])) < 0.15
    psi_true = truth["psi"][res.stimuli["id"].to_numpy(dtype=int)]
    assert np.corrcoef(res.stimuli["psi"], psi_true)[0, 1] > 0.97
    s_true = np.sqrt(np.mean(truth["sigma"] ** 2) + truth["ups"][ids] ** 2)
    assert np.median(np.abs(res.subjects["inconsistency"] / s_true - 1)) < 0.1


def test_ci_coverage_small():
    hits_b, hits_u, total = 0, 0, 0
    for seed in range(40):
        ratings, truth = _synthetic(40, 8, seed=100 + seed, sig=0.0001)
        res = rd.subjects.fit(ratings, ambiguity=False, shrinkage=0.0, lapse=None)
        s = res.subjects
        b = truth["bias"]
        hits_b += np.sum((s["bias_ci_low"] <= b) & (b <= s["bias_ci_high"]))
        u = truth["ups"]  # σ_j ≈ 0: s_ij = υ_i
        hits_u += np.sum((s["inconsistency_ci_low"] <= u) & (u <= s["inconsistency_ci_high"]))
        total += len(s)
    assert 0.85 <= hits_b / total <= 0.99
    assert 0.85 <= hits_u / total <= 0.99


def test_degenerate_stimulus_and_subject():
    table = pd.DataFrame({
        "stimulus": ["a", "a", "a", "b", "b", "b", "c", "c", "c", "d", "d", "d"],
        "subject": ["x", "y", "z"] * 4,
        "rating": [1, 1, 1, 3, 3, 3, 2, 3, 4, 5, 5, 5],
    })
    ratings = rd.Ratings.from_long(table)
    for kw in ({}, {"ambiguity": False, "shrinkage": 0.0, "lapse": None}, {"lapse": None}):
        res = rd.subjects.fit(ratings, **kw)
        # the common scale crawls towards its floor (the limit s → 0); reported, not hidden
        assert res.converged or res.max_grad < 1e-3
        for frame in (res.stimuli, res.subjects):
            numeric = frame.select_dtypes("number").to_numpy(dtype=float)
            assert not np.any(np.isnan(numeric))
        p = res.pmf(["a", "b", "d"], ["x", "x", "x"])
        assert np.allclose(p.sum(1), 1.0)
        assert p[0, 0] > 0.99 and p[2, 4] > 0.99


def test_pmf_matches_log_prob():
    ratings, _ = _synthetic(10, 6, seed=2)
    res = rd.subjects.fit(ratings, lapse="shared", family="logistic")
    p = res.pmf([0, 1, 2], [3, 4, 5])
    lp = res.log_prob([0, 1, 2], [3, 4, 5], [1, 3, 5])
    assert np.allclose(np.log(p[[0, 1, 2], [0, 2, 4]]), lp, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="stimulus 99"):
        res.pmf([99], [0])


def test_bad_arguments():
    ratings, _ = _synthetic(5, 4, seed=0)
    with pytest.raises(ValueError, match="family"):
        rd.subjects.fit(ratings, family="beta")
    with pytest.raises(ValueError, match="shrinkage > 0"):
        rd.subjects.fit(ratings, inconsistency="common", shrinkage=0.0)


_THREADS = """
import numpy as np, pandas as pd, ratingdist as rd
rng = np.random.default_rng(0)
j, i = np.divmod(np.arange(3000), 30)
keep = rng.random(3000) < 0.5
r = np.clip(np.round(rng.uniform(1, 5, 100)[j] + rng.normal(0, 0.6, 3000)), 1, 5)[keep]
res = rd.subjects.fit(rd.Ratings.from_long(pd.DataFrame(
    {"stimulus": j[keep], "subject": i[keep], "rating": r.astype(int)})), lapse="shared")
print(repr(res.nll), repr(res.stimuli["psi"].sum()), repr(res.subjects["bias_se"].sum()))
"""


def test_thread_count_independent():
    outs = []
    for n in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=n)
        outs.append(subprocess.run([sys.executable, "-c", _THREADS], env=env, check=True,
                                   capture_output=True, text=True).stdout)
    assert outs[0] == outs[1]


def test_crossvalidate_reproducible():
    ratings, _ = _synthetic(8, 6, seed=4)
    models = ["add-alpha", "normal", "p910", "mle", ("q", {"lapse": "shared"})]
    a = rd.subjects.crossvalidate(ratings, models, folds=3, seed=7)
    b = rd.subjects.crossvalidate(ratings, models, folds=3, seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert list(a["model"]) == ["add-alpha", "normal", "p910", "mle", "q"]
    assert np.all(np.isfinite(a["nll"])) and np.all(a["n"] == ratings.n_ratings)


@pytest.mark.parametrize("fam", [0, 1])
@pytest.mark.parametrize("lapse", [False, True])
def test_rating_terms_equal_cell_nll(fam, lapse):
    """The one-rating kernel equals the general cell likelihood with one count."""
    from ratingdist._kernels import joint
    from ratingdist._kernels import subjects as kern
    from ratingdist._kernels.codes import LOGISTIC, NORMAL

    code = (NORMAL, LOGISTIC)[fam]
    K = 5
    tau = np.arange(1, K, dtype=np.float64) + 0.5
    rng = np.random.default_rng(3)
    P = K + 2
    out = np.zeros(9)
    for m, ls, k in zip(rng.uniform(-3, 9, 300), rng.uniform(-4, 2, 300),
                        rng.integers(0, K, 300)):
        lam = 0.03 if lapse else 0.0
        c = np.zeros(K)
        c[k] = 1.0
        grad, hess = np.zeros(P), np.zeros((P, P))
        f = joint.cell_nll(code, m, ls, tau, lam, lapse, c, K, grad, hess, np.zeros((4, K)),
                           np.zeros(P), np.zeros((P, P)))
        fr = kern.rating_terms(code, m, ls, k, tau, lam, lapse, K, out)
        expected = [grad[0], grad[1], hess[0, 0], hess[0, 1], hess[1, 1], grad[P - 1],
                    hess[P - 1, P - 1], hess[P - 1, 0], hess[P - 1, 1]]
        if not np.isfinite(f):
            assert fr == f
            continue
        np.testing.assert_allclose(fr, f, rtol=1e-13, atol=1e-300)
        np.testing.assert_allclose(out, expected, rtol=1e-11, atol=1e-13 * (1 + abs(f)))


def test_anderson_solves_a_linear_fixed_point():
    """On x ← A x + b (spectral radius 0.95) plain iteration needs hundreds of steps; the
    accelerated one reaches the fixed point of this 4-dimensional map within a few."""
    from ratingdist.subjects._anderson import Anderson

    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    A = Q @ np.diag([0.95, 0.9, -0.5, 0.2]) @ Q.T
    b = rng.standard_normal(4)
    fixed = np.linalg.solve(np.eye(4) - A, b)
    acc, x = Anderson(memory=5), np.zeros(4)
    for _ in range(8):
        gx = A @ x + b
        xa = acc.step(x, gx)
        x = gx if xa is None else xa
    assert np.max(np.abs(x - fixed)) < 1e-10
    y = np.zeros(4)
    for _ in range(8):
        y = A @ y + b
    assert np.max(np.abs(y - fixed)) > 1e-2


@pytest.mark.parametrize("fam", [0, 1])
def test_block_sums_equal_numpy_reference(fam):
    """The fused per-block sums and the by-subject gather equal the per-rating derivatives
    summed with numpy (the chain rule of the kernels' module docstring)."""
    from ratingdist._kernels import subjects as kern

    rng = np.random.default_rng(8)
    J, I, N, K = 40, 25, 600, 5
    cells = rng.choice(J * I, N, replace=False)
    j, i = np.sort(cells) // I, np.sort(cells) % I
    r = rng.integers(1, K + 1, N)
    psi, rho = rng.uniform(1, 5, J), rng.normal(-1, 0.5, J)
    dlt, nu = rng.normal(0, 0.4, I), rng.normal(-0.7, 0.4, I)
    tau, lam = np.arange(1, K, dtype=np.float64) + 0.5, 0.02
    d = kern.rating_derivatives(fam, psi, rho, dlt, nu, j, i, r, tau, lam, True, K)
    a = d[:, 1]
    ptr_j = np.concatenate([[0], np.cumsum(np.bincount(j, minlength=J))])
    order_i = np.argsort(i, kind="stable")
    ptr_i = np.concatenate([[0], np.cumsum(np.bincount(i, minlength=I))])
    st_j, st_i = np.zeros((J, 8)), np.zeros((I, 8))
    gm, gl, sums = np.empty(N), np.empty(N), np.zeros((I, 2))
    kern.block_sums(fam, psi, rho, dlt, np.exp(2 * nu), ptr_j, np.arange(N), i, r, tau, lam,
                    True, K, True, st_j, gm, gl)
    kern.gather_sums(ptr_i, order_i, gm, gl, sums)
    kern.block_sums(fam, dlt, nu, psi, np.exp(2 * rho), ptr_i, order_i, j, r, tau, lam, True,
                    K, True, st_i, np.zeros(0), np.zeros(0))
    for st, idx, n, w in ((st_j, j, J, a), (st_i, i, I, 1 - a)):
        ref = [d[:, 0], d[:, 2], d[:, 3] * w, d[:, 4], d[:, 5] * w,
               d[:, 6] * w * w + d[:, 3] * 2 * a * (1 - a), d[:, 7], d[:, 8]]
        for c, col in enumerate(ref):
            np.testing.assert_allclose(st[:, c], np.bincount(idx, weights=col, minlength=n),
                                       rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(sums[:, 0], np.bincount(i, weights=d[:, 2], minlength=I),
                               rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(sums[:, 1], np.bincount(i, weights=d[:, 3] * (1 - a),
                                                       minlength=I), rtol=1e-12, atol=1e-10)


def test_lapse_step_lowers_the_nll():
    """The damped Newton step on λ never raises −Σ log((1 − λ)D + λ/K) and both steps stay in
    the box."""
    rng = np.random.default_rng(2)
    K = 5

    def f(x, D):
        return -np.sum(np.log((1 - x) * D + x / K))

    for _ in range(200):
        D = rng.uniform(0.001, 1, 50) ** rng.uniform(0.2, 4)
        lam = rng.uniform(0, q.LAPSE_MAX)
        p = (1 - lam) * D + lam / K
        v = (1 / K - D) / p
        full, safe = q._lapse_step(lam, float(-np.sum(v)), float(np.sum(v * v)))
        assert 0 <= safe <= q.LAPSE_MAX and 0 <= full <= q.LAPSE_MAX
        assert f(safe, D) <= f(lam, D) + 1e-12 * abs(f(lam, D))


def test_subsample_screening_reaches_the_same_optimum(monkeypatch):
    """Screening the starts on every 3rd stimulus (SCREEN_RATINGS below N) polishes to the
    optimum that screening on all ratings reaches."""
    ratings, _ = _synthetic(90, 20, seed=11, fraction=0.6)
    full = rd.subjects.fit(ratings)
    monkeypatch.setattr(q, "SCREEN_RATINGS", ratings.n_ratings // 3 + 1)
    sub = rd.subjects.fit(ratings)
    assert full.converged and sub.converged
    assert abs(sub.objective - full.objective) < 1e-6
    np.testing.assert_allclose(sub.stimuli["psi"], full.stimuli["psi"], atol=1e-5)
