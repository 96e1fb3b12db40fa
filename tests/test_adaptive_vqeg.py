"""``rd.fit_adaptive`` on VQEG-HDTV against an independent NumPy/SciPy maximum-likelihood fit.

100 videos of four experiments (groups = experiment = PVS id // 1000, 25 videos each, spread
evenly over each experiment's ids), every option combination: latent normal / logistic,
thresholds shared / per-group, lapse none / shared / per-group, scale per-stimulus / common.

The model of a cell (group g, stimulus j) with counts n_1..n_K:

    q_k = F(z_k) − F(z_{k−1}),   z_k = (τ_{g,k} − μ_j)/σ_j,
    p_k = (1 − λ_g) q_k + λ_g/K,   NLL = −Σ n_k log p_k,

with z_0 = −∞, z_K = +∞ and F the standard normal or logistic cdf. The reference fit minimizes
the NLL over all parameters at once with the analytic gradient: SciPy's truncated Newton (TNC)
with loose tolerances from every start; from the best end point, and from any where TNC did not
converge, TNC with tight tolerances and then L-BFGS-B. The coordinates are (μ_j, log σ_j) with
log σ_j ∈ [log 1e-3, log 1e4] (the box of ``fit_adaptive``) and λ ∈ [0, 0.999] as bounds.
log q_k is computed from log-cdfs (``log_ndtr``, ``log_expit``) on the side of the distribution
where the difference does not cancel, log p_k by ``logaddexp``. Thresholds are
ordered by construction: a set with both outer thresholds pinned (1.5 and K − 0.5) has its
K − 2 gaps (K − 2)·softmax(θ, 0), a set with only τ_1 pinned has gaps exp(θ). The experiments
share no video, so every group is its own connected component: with per-group thresholds and
per-stimulus scales each group's outer thresholds are pinned; with a common scale (which fixes
the stretch of every group) the other groups pin τ_1 only; a shared set is pinned once. Each
pinning is a pure normalization of the location-scale invariance (μ, σ, τ) → (aμ + b, aσ, aτ + b),
so the optimal NLL does not depend on it.

With per-stimulus scales a stimulus whose ratings lie in one category or two adjacent ones
k, k + 1 takes its supremum in closed form: any split of the q-mass between k and k + 1 is the
σ_j → 0 limit at μ_j = τ_k, and the best one has p_k ∝ n_k on p_k + p_{k+1} = 1 − (K − 2)λ/K,
or, where that leaves p_k below λ/K, all q-mass on the other category. On the σ floor 1e-3 the
likelihood equals this supremum to double precision (the other thresholds lie hundreds of σ
away), independently of the thresholds.

Starts: moment estimates (μ_j the mean rating, σ_j the standard deviation floored at 0.5,
thresholds at k + ½, λ = 0.02), perturbed copies of them, and this file's own solutions of the
nested models (no lapse inside a lapse, one lapse inside per-group lapses, shared thresholds
inside per-group ones, a common scale inside per-stimulus scales), mapped into the larger
model; never the solution of ``fit_adaptive``.

Each combination asserts (1) ``res.nll`` ≤ the best reference NLL + 1e-6 and (2) the NLL
recomputed at the reported parameters (``res.thresholds``, ``res.lapse``, μ and σ of
``res.table``) equals ``res.nll`` to 1e-8 relative. A stimulus reported in the σ_j → 0 limit
(σ = 0, ``limit``) contributes the limit's likelihood at the reported lapse: the q-mass on the
best pair of adjacent categories with the best split (a single category included).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize
from scipy.special import log_expit, log_ndtr

import ratingdist as rd

K = 5
LOW_PIN, HIGH_PIN = 1.5, K - 0.5
LOG_SIGMA = (math.log(1e-3), math.log(1e4))
LAPSE_MAX = 0.999
EXPERIMENTS = (1, 3, 5, 6)
PER_EXPERIMENT = 25
LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)

FAMILIES = ("normal", "logistic")
THRESHOLDS = ("shared", "per-group")
LAPSES = (None, "shared", "per-group")
SCALES = ("per-stimulus", "common")
COMBINATIONS = [
    (f, t, la, s) for f in FAMILIES for t in THRESHOLDS for la in LAPSES for s in SCALES
]


# --------------------------------------------------------------------------------------------
# the reference likelihood


def _log_cdf(z: np.ndarray, family: str) -> np.ndarray:
    return log_ndtr(z) if family == "normal" else log_expit(z)


def _log_pdf(z: np.ndarray, family: str) -> np.ndarray:
    if family == "normal":
        return -0.5 * z * z - LOG_SQRT_2PI
    return log_expit(z) + log_expit(-z)


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 − eˣ) for x ≤ 0 (Mächler 2012: expm1 near 0, log1p below −ln 2)."""
    x = np.minimum(x, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(x > -math.log(2), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def _log_q(z: np.ndarray, family: str) -> np.ndarray:
    """log(F(hi) − F(lo)) of the K categories from z (cells, K + 1), ±∞ at the ends: from the
    survival function S(x) = F(−x) where both bounds are above 0, else from F."""
    log_f, log_s = _log_cdf(z, family), _log_cdf(-z, family)
    upper = z[:, :-1] > 0
    with np.errstate(invalid="ignore"):
        base = np.where(upper, log_s[:, :-1], log_f[:, 1:])
        return base + _log1mexp(np.where(upper, log_s[:, 1:], log_f[:, :-1]) - base)


def _closed_form(n: np.ndarray, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Supremum over (μ, σ) of the log-likelihood's negative for ratings in one category or two
    adjacent ones, and its derivative in λ (envelope: the split is optimal), per stimulus."""
    big, small = n.max(1), np.sort(n, axis=1)[:, -2]
    total = big + small
    two = 1.0 - (K - 2) * lam / K  # p_k + p_{k+1}
    one = 1.0 - (K - 1) * lam / K  # p_k with all q-mass on k
    split = (small > 0) & (two * small >= lam / K * total)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(small > 0, small * np.log(small / total), 0.0) - big * np.log(
            big / total)
        value = np.where(split, entropy - total * np.log(two),
                         -big * np.log(one) - np.where(small > 0, small * np.log(lam / K), 0.0))
        slope = np.where(split, total * (K - 2) / (K * two),
                         big * (K - 1) / (K * one) - np.where(small > 0, small / lam, 0.0))
    return value, slope


class _Model:
    """One option combination: parameter layout, NLL and gradient in the vector
    x = [θ of every threshold set, λ, μ_j, log σ (one per stimulus or one)] over the stimuli
    not taken in closed form."""

    def __init__(self, counts: np.ndarray, group: np.ndarray, family: str, thresholds: str,
                 lapse: str | None, scale: str) -> None:
        n_groups = int(group.max()) + 1
        self.family, self.scale = family, scale
        if thresholds == "shared":
            self.tset, self.pins = np.zeros_like(group), ["both"]
        else:
            self.tset = group
            self.pins = ["both"] + ["first" if scale == "common" else "both"] * (n_groups - 1)
        self.n_theta = [K - 3 if p == "both" else K - 2 for p in self.pins]
        self.n_lapse = 0 if lapse is None else 1 if lapse == "shared" else n_groups
        self.lset = np.zeros_like(group) if lapse == "shared" else group
        occupied = counts > 0
        span = (K - 1 - occupied[:, ::-1].argmax(1)) - occupied.argmax(1)
        self.closed = (span <= 1) if scale == "per-stimulus" else np.zeros(len(counts), bool)
        self.open = ~self.closed
        self.n = counts[self.open].astype(np.float64)
        self.n_closed = counts[self.closed].astype(np.float64)
        self.tset_open, self.lset_open = self.tset[self.open], self.lset[self.open]
        self.lset_closed = self.lset[self.closed]
        self.n_stim = int(self.open.sum())
        self.n_s = self.n_stim if scale == "per-stimulus" else 1
        self.n_theta_all = sum(self.n_theta)

    # ---- parameter layout
    def split(self, x: np.ndarray):
        i = self.n_theta_all
        thetas = np.split(x[:i], np.cumsum(self.n_theta)[:-1])
        lam = x[i:i + self.n_lapse]
        mu = x[i + self.n_lapse:i + self.n_lapse + self.n_stim]
        return thetas, lam, mu, x[i + self.n_lapse + self.n_stim:]

    def bounds(self) -> list[tuple[float | None, float | None]]:
        return ([(None, None)] * (self.n_theta_all) + [(0.0, LAPSE_MAX)] * self.n_lapse
                + [(None, None)] * self.n_stim + [LOG_SIGMA] * self.n_s)

    @staticmethod
    def tau_of(theta: np.ndarray, pin: str) -> tuple[np.ndarray, np.ndarray]:
        """Thresholds τ_1..τ_{K−1} of one set and their Jacobian dτ/dθ."""
        if pin == "both":
            e = np.exp(np.append(theta, 0.0) - max(theta.max(initial=0.0), 0.0))
            s = e / e.sum()
            gaps = (HIGH_PIN - LOW_PIN) * s
            jac_gaps = (HIGH_PIN - LOW_PIN) * (np.diag(s) - np.outer(s, s))[:, :-1]
        else:
            gaps = np.exp(theta)
            jac_gaps = np.diag(gaps)
        tau = LOW_PIN + np.concatenate([[0.0], np.cumsum(gaps)])
        jac = np.vstack([np.zeros((1, len(theta))), np.cumsum(jac_gaps, axis=0)])
        if pin == "both":
            tau[-1], jac[-1] = HIGH_PIN, 0.0
        return tau, jac

    @staticmethod
    def theta_of(tau: np.ndarray, pin: str) -> np.ndarray:
        """θ of one set from ordered thresholds whose pinned values are those of ``pin``."""
        gaps = np.diff(tau)
        if pin == "both":
            return np.log(gaps[:-1]) - np.log(gaps[-1])
        return np.log(gaps)

    def pack(self, taus: list[np.ndarray], lam: np.ndarray, mu: np.ndarray,
             sigma: np.ndarray) -> np.ndarray:
        """x from thresholds per set, lapses and μ_j, σ_j of every stimulus (a common scale
        starts from the median σ_j)."""
        theta = [self.theta_of(t, p) for t, p in zip(taus, self.pins)]
        sigma = np.asarray(sigma, np.float64)[self.open]
        log_sigma = np.log(sigma if self.scale == "per-stimulus" else [np.median(sigma)])
        return np.concatenate([*theta, np.clip(lam, 0.0, LAPSE_MAX), mu[self.open],
                               np.clip(log_sigma, *LOG_SIGMA)])

    def unpack(self, x: np.ndarray):
        """(thresholds per set, lapses, μ_j, σ_j) of x; μ_j, σ_j of every stimulus, NaN where
        taken in closed form."""
        thetas, lam, mu, log_sigma = self.split(x)
        taus = [self.tau_of(t, p)[0] for t, p in zip(thetas, self.pins)]
        full_mu = np.full(len(self.open), np.nan)
        full_sigma = np.full(len(self.open), np.nan)
        full_mu[self.open], full_sigma[self.open] = mu, np.exp(log_sigma)
        return taus, lam, full_mu, full_sigma

    # ---- likelihood
    def nll_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        thetas, lam, mu, log_sigma = self.split(x)
        sets = [self.tau_of(t, p) for t, p in zip(thetas, self.pins)]
        tau = np.stack([s[0] for s in sets])[self.tset_open]  # (stimuli, K − 1)
        inv = np.exp(-log_sigma)
        inv = inv if self.scale == "per-stimulus" else np.full(self.n_stim, inv[0])
        zi = (tau - mu[:, None]) * inv[:, None]
        rows = len(zi)
        z = np.column_stack([np.full(rows, -np.inf), zi, np.full(rows, np.inf)])
        logq = _log_q(z, self.family)
        n = self.n
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.n_lapse:
                lg = lam[self.lset_open][:, None]
                log_keep = np.log1p(-lg)
                logp = np.logaddexp(log_keep + logq, np.log(lg / K))
                w = np.exp(log_keep + logq - logp)  # d log p / d log q
            else:
                logp, w = logq, 1.0
            nll = -float(np.sum(np.where(n > 0, n * logp, 0.0)))
            u = n * w
            logf = _log_pdf(zi, self.family)
            up = np.where(u[:, :-1] > 0, u[:, :-1] * np.exp(logf - logq[:, :-1]), 0.0)
            down = np.where(u[:, 1:] > 0, u[:, 1:] * np.exp(logf - logq[:, 1:]), 0.0)
            gz = down - up  # dNLL/dz_k, (stimuli, K − 1)
            if self.n_lapse:
                dl = np.where(n > 0, n * (np.exp(-logp) / K - np.exp(logq - logp)), 0.0)
                grad_lam = -np.bincount(self.lset_open, dl.sum(1), minlength=self.n_lapse)
        if len(self.n_closed):
            lam_closed = lam[self.lset_closed] if self.n_lapse else np.zeros(len(self.n_closed))
            value, slope = _closed_form(self.n_closed, lam_closed)
            nll += float(value.sum())
            if self.n_lapse:
                grad_lam += np.bincount(self.lset_closed, slope, minlength=self.n_lapse)
        grad_mu = -gz.sum(1) * inv
        grad_s = -(gz * zi).sum(1)
        grad_s = grad_s if self.scale == "per-stimulus" else np.array([grad_s.sum()])
        grad_tau = gz * inv[:, None]
        grad_theta = [
            jac.T @ grad_tau[self.tset_open == t].sum(0) for t, (_, jac) in enumerate(sets)
        ]
        parts = [*grad_theta] + ([grad_lam] if self.n_lapse else []) + [grad_mu, grad_s]
        return nll, np.concatenate(parts)

    def tnc(self, x0: np.ndarray, tight: bool) -> tuple[float, np.ndarray, bool]:
        """Truncated Newton (cheap iterations): NLL, end point, whether it converged; loose
        tolerances to rank the starts, tight ones to polish."""
        options = ({"ftol": 0.0, "gtol": 1e-9, "accuracy": 1e-12} if tight
                   else {"ftol": 1e-7, "gtol": 1e-4})
        res = optimize.minimize(self.nll_grad, x0, jac=True, method="TNC", bounds=self.bounds(),
                                options={"maxfun": 20_000, "xtol": 0.0, **options})
        return float(res.fun), res.x, res.status in (1, 2)

    def polish(self, x0: np.ndarray) -> tuple[float, np.ndarray]:
        """Tight truncated Newton, then L-BFGS-B (which also recovers from a failed TNC line
        search)."""
        _, x, _ = self.tnc(x0, tight=True)
        res = optimize.minimize(
            self.nll_grad, x, jac=True, method="L-BFGS-B", bounds=self.bounds(),
            options={"maxiter": 20_000, "maxfun": 40_000, "maxcor": 10, "ftol": 1e-15,
                     "gtol": 1e-9},
        )
        return float(res.fun), res.x


def _nll_cells(n: np.ndarray, tau: np.ndarray, lam: np.ndarray, mu: np.ndarray,
               sigma: np.ndarray, family: str) -> np.ndarray:
    """NLL of each cell at thresholds tau (cells, K − 1), lapses, μ and σ (all per cell)."""
    zi = (tau - mu[:, None]) / sigma[:, None]
    z = np.column_stack([np.full(len(zi), -np.inf), zi, np.full(len(zi), np.inf)])
    logq = _log_q(z, family)
    with np.errstate(divide="ignore"):
        logp = np.logaddexp(np.log1p(-lam)[:, None] + logq, np.log(lam / K)[:, None])
    return -np.sum(np.where(n > 0, n * logp, 0.0), axis=1)


def _limit_nll(n: np.ndarray, lam: float) -> float:
    """NLL of the σ → 0 limit at lapse λ: q-mass on the best pair of adjacent categories with
    the best split (p_k + p_{k+1} = 1 − (K − 2)λ/K, p_k ∝ n_k clipped to
    [λ/K, 1 − λ + λ/K]), λ/K elsewhere."""
    total = 1.0 - (K - 2) * lam / K
    best = math.inf
    for k in range(K - 1):
        pair = n[k] + n[k + 1]
        p_k = total * n[k] / pair if pair else 0.5 * total
        p_k = min(max(p_k, lam / K), 1.0 - lam + lam / K)
        p = np.full(K, lam / K)
        p[k], p[k + 1] = p_k, total - p_k
        with np.errstate(divide="ignore", invalid="ignore"):
            value = -float(np.sum(np.where(n > 0, n * np.log(p), 0.0)))
        best = min(best, value)
    return best


# --------------------------------------------------------------------------------------------
# the study and the reference fits


class _Study:
    """The 100 selected videos, their groups, and the reference fits (cached per model)."""

    def __init__(self, vqeg) -> None:
        experiment = np.asarray(vqeg.ids) // 1000
        rows = np.concatenate([
            np.flatnonzero(experiment == e)[
                np.linspace(0, np.sum(experiment == e) - 1, PER_EXPERIMENT).round().astype(int)
            ]
            for e in EXPERIMENTS
        ])
        self.counts = vqeg[rows]
        self.labels = experiment[rows]
        self.group = np.searchsorted(EXPERIMENTS, self.labels)
        self.n = np.asarray(self.counts.counts)
        self.fits: dict[tuple, tuple[float, np.ndarray, list[float]]] = {}

    def model(self, family: str, thresholds: str, lapse: str | None, scale: str) -> _Model:
        return _Model(self.n, self.group, family, thresholds, lapse, scale)

    def starts(self, model: _Model, seed: int, perturbed: int) -> list[np.ndarray]:
        """The moment start and ``perturbed`` perturbed copies of it."""
        k = np.arange(1, K) + 0.5
        cats = np.arange(1, K + 1)
        total = self.n.sum(1)
        mean = self.n @ cats / total
        sigma = np.maximum(np.sqrt(np.maximum(self.n @ cats**2 / total - mean**2, 0.0)), 0.5)
        out = [model.pack([k] * len(model.pins), np.full(model.n_lapse, 0.02), mean, sigma)]
        rng = np.random.default_rng(seed)
        for _ in range(perturbed):
            taus = []
            for pin in model.pins:
                free = slice(1, K - 2) if pin == "both" else slice(1, K - 1)
                tau = k.copy()
                tau[free] = np.sort(tau[free] + rng.uniform(-0.25, 0.25, len(tau[free])))
                taus.append(tau)
            out.append(model.pack(
                taus, rng.uniform(0.005, 0.08, model.n_lapse),
                mean + rng.normal(0.0, 0.3, len(mean)),
                sigma * np.exp(rng.normal(0.0, 0.3, len(mean)))))
        return out

    def nested(self, key: tuple, model: _Model) -> list[np.ndarray]:
        """This file's own solutions of the models nested in ``key``, mapped into it."""
        family, thresholds, lapse, scale = key
        parents = []
        if thresholds == "per-group":
            parents.append((family, "shared", lapse, scale))
        if lapse is not None:
            parents.append((family, thresholds, None if lapse == "shared" else "shared", scale))
        if scale == "per-stimulus":
            parents.append((family, thresholds, lapse, "common"))
        out = []
        for parent in parents:
            _, x, _ = self.reference(*parent)
            taus, lam, mu, sigma = self.model(*parent).unpack(x)
            taus = taus * len(model.pins) if len(taus) == 1 else taus
            lam = np.resize(lam, model.n_lapse) if len(lam) else np.zeros(model.n_lapse)
            out.append(model.pack(taus, lam, mu, sigma))
        return out

    def reference(self, family: str, thresholds: str, lapse: str | None, scale: str,
                  perturbed: int = 1) -> tuple[float, np.ndarray, list[float]]:
        """(best NLL, its x, the NLL from every start) of the reference fit."""
        key = (family, thresholds, lapse, scale)
        if key not in self.fits:
            model = self.model(*key)
            starts = self.starts(model, COMBINATIONS.index(key), perturbed)
            fits = []
            for x0 in starts + self.nested(key, model):
                value, x, converged = model.tnc(x0, tight=False)
                fits.append((value, x) if converged else model.polish(x))
            best = model.polish(min(fits, key=lambda f: f[0])[1])
            self.fits[key] = (best[0], best[1], [f[0] for f in fits])
        return self.fits[key]


@pytest.fixture(scope="module")
def study(vqeg) -> _Study:
    return _Study(vqeg)


def _reported_nll(res, study: _Study, family: str) -> float:
    """NLL at the parameters that ``res`` reports (logit-logistic: thresholds τ ∈ (0, 1),
    mu = logit of the median and sigma = s, i.e. F(τ) = expit((logit τ − mu)/sigma))."""
    table = res.table.set_index("id").loc[study.counts.ids]
    labels = [str(g) for g in study.labels]
    sets = {str(g): d.sort_values("k")["value"].to_numpy() for g, d in res.thresholds.groupby(
        "group")}
    tau = np.stack([sets[g] if g in sets else sets["all"] for g in labels])
    if family == "logit-logistic":
        tau, family = np.log(tau / (1.0 - tau)), "logistic"
    if res.lapse.empty:
        lam = np.zeros(len(labels))
    else:
        lapses = dict(zip(res.lapse["group"].astype(str), res.lapse["value"]))
        lam = np.array([lapses[g] if g in lapses else lapses["all"] for g in labels])
    mu, sigma = table["mu"].to_numpy(), table["sigma"].to_numpy()
    limit = table["limit"].to_numpy(bool)
    assert np.all(sigma[limit] == 0)
    assert np.all((sigma[~limit] >= 1e-3) & (sigma[~limit] <= 1e4))
    open_part = _nll_cells(study.n[~limit], tau[~limit], lam[~limit], mu[~limit], sigma[~limit],
                           family)
    return float(open_part.sum()) + sum(_limit_nll(study.n[i], lam[i])
                                        for i in np.flatnonzero(limit))


# --------------------------------------------------------------------------------------------
# the tests


@pytest.mark.data
def test_selection_spans_experiments(study):
    assert len(study.counts) == 100 and len(set(study.counts.ids.tolist())) == 100
    assert sorted(set(study.labels.tolist())) == list(EXPERIMENTS)
    assert np.all(np.bincount(study.group) == PER_EXPERIMENT)


@pytest.mark.data
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("lapse", LAPSES)
@pytest.mark.parametrize("thresholds", THRESHOLDS)
@pytest.mark.parametrize("family", FAMILIES)
def test_reference_gradient_matches_finite_differences(study, family, thresholds, lapse, scale):
    model = study.model(family, thresholds, lapse, scale)
    x = study.starts(model, 7, 1)[1]
    x[model.n_theta_all:model.n_theta_all + model.n_lapse] = 0.03
    _, grad = model.nll_grad(x)
    shared = model.n_theta_all + model.n_lapse
    coords = np.concatenate([np.arange(shared), np.arange(shared, len(x), 7)])
    step = 1e-6
    numeric = np.array([
        (model.nll_grad(x + step * e)[0] - model.nll_grad(x - step * e)[0]) / (2 * step)
        for e in np.eye(len(x))[coords]
    ])
    np.testing.assert_allclose(grad[coords], numeric, rtol=1e-5, atol=1e-5)


@pytest.mark.data
@pytest.mark.parametrize(("family", "thresholds", "lapse", "scale"), COMBINATIONS)
def test_fit_adaptive_reaches_the_reference_optimum(study, family, thresholds, lapse, scale):
    res = rd.fit_adaptive(study.counts, family, groups=study.labels, thresholds=thresholds,
                          lapse=lapse, scale=scale)
    assert _reported_nll(res, study, family) == pytest.approx(res.nll, rel=1e-8, abs=0)
    best, _, _ = study.reference(family, thresholds, lapse, scale)
    assert res.nll <= best + 1e-6, (res.nll, best)


@pytest.mark.data
@pytest.mark.parametrize(("thresholds", "lapse", "scale"),
                         [c[1:] for c in COMBINATIONS if c[0] == "logistic"])
def test_logit_logistic_reaches_the_logistic_reference_optimum(study, thresholds, lapse, scale):
    # logit X ~ Logistic(logit μ, s) cut at τ ∈ (0, 1) is the logistic model cut at logit τ, and
    # each pinning normalizes the same invariance: the optimum is the logistic reference's
    res = rd.fit_adaptive(study.counts, "logit-logistic", groups=study.labels,
                          thresholds=thresholds, lapse=lapse, scale=scale)
    assert _reported_nll(res, study, "logit-logistic") == pytest.approx(res.nll, rel=1e-8, abs=0)
    best, _, _ = study.reference("logistic", thresholds, lapse, scale)
    assert res.nll <= best + 1e-6, (res.nll, best)
