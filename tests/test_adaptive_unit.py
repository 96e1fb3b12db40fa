"""``rd.fit_adaptive`` with the beta and Kumaraswamy latents on [0, 1].

Exactness: on the 100 VQEG-HDTV videos of ``test_adaptive_vqeg`` (four experiments as groups)
the joint NLL is compared with an independent NumPy/SciPy fit of the same likelihood,

    q_k = F(τ_{g,k}; a_j, b_j) − F(τ_{g,k−1}; a_j, b_j),   NLL = −Σ n_k log q_k,

F(x) = I_x(a, b) (``scipy.special.betainc``) or 1 − (1 − x^a)^b, in the native coordinates
(log a_j, log b_j) (box log a, log b ∈ [log 1e-4, log 1e6]; Kumaraswamy log a ≤ log 1e4,
log b ∈ [−30, 700]), each set with τ_1 = 1/K and τ_{K−1} = (K − 1)/K pinned (the model) and the
interior thresholds ordered by construction as 1/K + (K − 2)/K times cumulative sums of a
softmax. L-BFGS-B with the gradient by central differences (the
stimulus coordinates of all stimuli at once: the likelihood is separable over stimuli), from
moment starts and perturbed copies; never from ``fit_adaptive``'s solution. A limit (a, b → ∞)
is only approached by the reference, so the comparison is one-sided: ``res.nll`` ≤ reference
+ 1e-6.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, special

import ratingdist as rd
from tests.test_adaptive_vqeg import _Study

K = 5
UNIT = ("beta", "kumaraswamy")


def _cdf(family: str, la: np.ndarray, lb: np.ndarray, tau: np.ndarray) -> np.ndarray:
    a, b = np.exp(la)[:, None], np.exp(lb)[:, None]
    if family == "beta":
        return special.betainc(a, b, tau)
    return -np.expm1(b * np.log1p(-(tau ** a)))


def _stimulus_nll(family, n, tau, la, lb):
    """(n_stimuli,) NLL of every stimulus (one cell each) at thresholds tau (n, K − 1)."""
    F = _cdf(family, la, lb, tau)
    q = np.diff(np.column_stack([np.zeros(len(n)), F, np.ones(len(n))]), axis=1)
    with np.errstate(divide="ignore"):
        return -(n * np.log(np.maximum(q, 1e-300))).sum(axis=1)


class _Reference:
    """The independent joint fit of one model (family, thresholds)."""

    def __init__(self, n, group, family, thresholds):
        self.n, self.family = n, family
        self.tset = group if thresholds == "per-group" else np.zeros_like(group)
        self.T = int(self.tset.max()) + 1
        self.free = K - 3  # free thresholds per set (the outer two pinned)
        self.m = len(n)
        hi_a = np.log(1e6) if family == "beta" else np.log(1e4)
        lb = (np.log(1e-4), np.log(1e6)) if family == "beta" else (-30.0, 700.0)
        self.bounds = ([(None, None)] * (self.T * self.free) + [(np.log(1e-4), hi_a)] * self.m
                       + [lb] * self.m)

    def taus(self, y):
        out = []
        for t in range(self.T):
            g = special.softmax(np.append(y[t * self.free:(t + 1) * self.free], 0.0))
            inner = np.cumsum(g)[:-1]
            out.append(0.2 + 0.6 * inner)
        return np.column_stack([np.full(self.T, 1 / K), np.array(out), np.full(self.T, 0.8)])

    def split(self, x):
        s = self.T * self.free
        return x[:s], x[s:s + self.m], x[s + self.m:]

    def per_stimulus(self, x):
        y, la, lb = self.split(x)
        return _stimulus_nll(self.family, self.n, self.taus(y)[self.tset], la, lb)

    def nll_grad(self, x):
        f = self.per_stimulus(x)
        g = np.zeros_like(x)
        h = 1e-6
        s = self.T * self.free
        for i in range(s):
            e = np.zeros_like(x)
            e[i] = h
            g[i] = (self.per_stimulus(x + e).sum() - self.per_stimulus(x - e).sum()) / (2 * h)
        for block in (slice(s, s + self.m), slice(s + self.m, s + 2 * self.m)):
            e = np.zeros_like(x)
            e[block] = h
            g[block] = (self.per_stimulus(x + e) - self.per_stimulus(x - e)) / (2 * h)
        return float(f.sum()), g

    def start(self, rng, jitter):
        total = self.n.sum(1)
        c = (np.arange(1, K + 1) - 0.5) / K
        m = self.n @ c / total
        v = np.maximum(self.n @ c**2 / total - m**2, 0.01)
        nu = np.clip(m * (1 - m) / v - 1, 0.5, 1e4)
        la, lb = np.log(m * nu), np.log((1 - m) * nu)
        y = np.zeros(self.T * self.free)
        x = np.concatenate([y, la, lb])
        if jitter:
            x = x + jitter * rng.standard_normal(len(x))
        lo = np.array([b[0] if b[0] is not None else -np.inf for b in self.bounds])
        hi = np.array([b[1] if b[1] is not None else np.inf for b in self.bounds])
        return np.clip(x, lo, hi)

    def fit(self):
        rng = np.random.default_rng(3)
        best = np.inf
        for jitter in (0.0, 0.3):
            r = optimize.minimize(self.nll_grad, self.start(rng, jitter), jac=True,
                                  method="L-BFGS-B", bounds=self.bounds,
                                  options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-8})
            best = min(best, r.fun)
        return best


@pytest.fixture(scope="module")
def study(vqeg) -> _Study:
    return _Study(vqeg)


@pytest.mark.data
@pytest.mark.parametrize(("family", "thresholds"), [
    ("beta", "shared"), ("beta", "per-group"), ("kumaraswamy", "shared"),
    ("kumaraswamy", "per-group"),
])
def test_unit_fit_reaches_the_reference_optimum(study, family, thresholds):
    res = rd.fit_adaptive(study.counts, family, groups=study.labels, thresholds=thresholds)
    assert res.converged
    best = _Reference(study.n, study.group, family, thresholds).fit()
    assert res.nll <= best + 1e-6, (res.nll, best)
    # the NLL at the reported parameters (limits: the empirical split)
    table = res.table.set_index("id").loc[study.counts.ids]
    sets = {str(g): d.sort_values("k")["value"].to_numpy()
            for g, d in res.thresholds.groupby("group")}
    tau = np.stack([sets.get(str(g), sets.get("all")) for g in study.labels])
    lim = table["limit"].to_numpy(bool)
    a, b = table["a"].to_numpy(), table["b"].to_numpy()
    own = _stimulus_nll(family, study.n[~lim], tau[~lim], np.log(a[~lim]), np.log(b[~lim]))
    p = study.n[lim] / study.n[lim].sum(1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        emp = -np.nansum(study.n[lim] * np.log(p))
    assert own.sum() + emp == pytest.approx(res.nll, rel=1e-8)


@pytest.mark.data
@pytest.mark.parametrize("family", UNIT)
def test_unit_fixed_is_rd_fit(study, family):
    res = rd.fit_adaptive(study.counts, family, groups=study.labels, thresholds="per-group")
    ref = rd.fit(study.counts, family)
    assert res.fixed().nll == pytest.approx(float(ref.nll.sum()), abs=1e-8)
    assert res.nll <= res.fixed().nll + 1e-9


def _synthetic(family, tau, n_stim, n_rat, seed):
    rng = np.random.default_rng(seed)
    m = rng.uniform(0.15, 0.85, n_stim)
    nu = rng.uniform(4, 15, n_stim)
    a, b = m * nu, (1 - m) * nu
    if family == "kumaraswamy":
        a, b = rng.uniform(1.5, 5, n_stim), rng.uniform(1.5, 8, n_stim)
    F = _cdf(family, np.log(a), np.log(b), np.tile(tau, (n_stim, 1)))
    q = np.diff(np.column_stack([np.zeros(n_stim), F, np.ones(n_stim)]), axis=1)
    return np.array([rng.multinomial(n_rat, qi) for qi in q])


@pytest.mark.parametrize(("family", "tau"), [
    ("beta", [0.2, 0.33, 0.55, 0.8]), ("kumaraswamy", [0.2, 0.37, 0.55, 0.8])])
def test_unit_thresholds_recovered(family, tau):
    counts = _synthetic(family, np.array(tau), 400, 30, 11)
    res = rd.fit_adaptive(counts, family)
    assert res.converged
    th = res.thresholds
    free = ~th["pinned"].to_numpy()
    z = (th["value"].to_numpy() - np.array(tau))[free] / th["se"].to_numpy()[free]
    assert np.all(np.abs(z) < 4), z
    # the observed information of the free thresholds has full rank
    assert np.all(np.linalg.eigvalsh(np.linalg.inv(res.covariance.to_numpy())) > 0)
    assert "tau_(K-1) = 4/5" in res.identification


def test_unit_bad_requests():
    counts = np.array([[0, 2, 9, 6, 1], [1, 6, 8, 2, 0], [0, 0, 3, 9, 6], [4, 9, 4, 1, 0]])
    for family in UNIT:
        with pytest.raises(ValueError, match="scale='per-stimulus'"):
            rd.fit_adaptive(counts, family, scale="common")
    no_mid = counts.copy()
    no_mid[:, 2] = 0
    with pytest.raises(ValueError, match="no rating in category 3"):
        rd.fit_adaptive(no_mid, "kumaraswamy")
    with pytest.raises(ValueError, match="lapse=None"):
        rd.fit_adaptive(counts, "beta", lapse="shared")
