"""Joint likelihood over cells: the cell likelihood with its exact derivatives, the per-stimulus
block solver and the shared-parameter Newton step with the stimulus blocks eliminated.

A cell is one stimulus seen by one group (later: one stimulus rated by one subject). Its
category probabilities come from a location-scale latent with cdf F cut at the thresholds of
the cell's group, mixed with a lapse λ:

    p_k = (1 − λ)·[F((τ_k − m)/s) − F((τ_{k−1} − m)/s)] + λ/K,   τ_0 = −∞, τ_K = +∞,

and the cell's negative log-likelihood is −Σ_k n_k log p_k. :func:`cell_nll` returns it with its
gradient and observed Hessian in the local coordinates a = (m, log s, τ_1..τ_{K−1}, λ), so a
model whose cell location and scale are built from several blocks (m = ψ_j + Δ_i,
s² = σ_j² + υ_i²) reuses it through the chain rule.

The stimulus model here has m = μ_j and log s = ρ_j (per stimulus) or a common ρ. The full
Hessian is an arrowhead: 2×2 (or 1×1) stimulus blocks, coupled only through the small dense
block of the shared parameters (thresholds, lapses, common scale). :func:`solve_blocks` solves
every stimulus' block at fixed shared parameters (projected trust-region Newton, in parallel);
:func:`assemble` returns the shared gradient and the Schur complement
S = H_ss − Σ_j H_sj H_jj⁻¹ H_js, the exact Hessian of the NLL profiled over the stimulus blocks,
reduced over fixed chunks of stimuli in a fixed order (results independent of the number of
threads). :func:`solve` runs Newton's method on the profile with a line search.

Derivatives (z = (τ − m)/s, f = F′, f′ = ψ·f; ψ = −z for the normal, 1 − 2F for the logistic):
∂F/∂τ = f/s, ∂F/∂m = −f/s, ∂F/∂log s = −z f; ∂²F/∂τ² = ∂²F/∂m² = −∂²F/∂τ∂m = ψ f/s²;
∂²F/∂τ∂log s = −∂²F/∂m∂log s = −(1 + zψ) f/s; ∂²F/∂(log s)² = z(1 + zψ) f.

References
----------
Saupe, Rusek, Hägele, Weiskopf, Janowski, IEEE Signal Processing Letters 31 (2024) (quantized
metric models); McCullagh, "Regression models for ordinal data", JRSS B 42 (1980) 109–142
(cumulative link models with thresholds shared by the cells); Nocedal & Wright, "Numerical
Optimization" (2006), §16.2 (Schur complement of an arrowhead Hessian).
"""

import math

import numba as nb
import numpy as np

from . import joint_unit
from .codes import NORMAL
from .jit import KERNEL
from .solver import _trust_step
from .special import log_expit, log_ndtr_pair, logaddexp, logsubexp, norm_logpdf

_INF = np.inf
_NEG_INF = -np.inf
#: Trust radius of a block step: scale units for μ, e-folds for log σ.
BLOCK_RADIUS = 4.0
#: Newton decrement (NLL units, relative to 1 + NLL) at which a block counts as converged.
BLOCK_TOL = 1e-13
#: Iterations a restart gets before it is compared with the best block found so far.
RESTART_MAXIT = 30
#: A corner start is run only if its NLL, less what its neighbouring categories could gain,
#: is within this many nats of the best block found.
RESTART_SCREEN = 1.0
#: Stimuli per reduction chunk (fixed, so sums do not depend on the number of threads).
CHUNK = 256


@nb.njit(**KERNEL)
def _standard(fam, z):
    """(log F, log S, log f, ψ = f′/f) of the standard latent at z."""
    if fam == NORMAL:
        lF, lS = log_ndtr_pair(z)
        return lF, lS, norm_logpdf(z), -z
    lf = log_expit(z)
    ls = log_expit(-z)
    return lf, ls, lf + ls, math.exp(ls) - math.exp(lf)


@nb.njit(**KERNEL)
def _tabulate(fam, m, sig, tau, K, work):
    """``work`` (4, K) ← (log F, log S, log f, ψ) of the standard latent at every
    z_i = (τ_i − m)/σ, i < K − 1."""
    for i in range(K - 1):
        lF, lS, lf, psi = _standard(fam, (tau[i] - m) / sig)
        work[0, i] = lF
        work[1, i] = lS
        work[2, i] = lf
        work[3, i] = psi


@nb.njit(**KERNEL)
def _log_prob(k, K, work, log1ml, loglk, lapse):
    """log p_k = log[(1 − λ)·D_k + λ/K] from the tabulated work, D_k the latent mass of
    category k (from whichever tail loses no precision)."""
    lf_up = work[0, k] if k < K - 1 else 0.0
    ls_up = work[1, k] if k < K - 1 else _NEG_INF
    lf_lo = work[0, k - 1] if k > 0 else _NEG_INF
    ls_lo = work[1, k - 1] if k > 0 else 0.0
    if lf_up <= ls_lo:
        lD = logsubexp(lf_up, lf_lo)
    else:
        lD = logsubexp(ls_lo, ls_up)
    return (logaddexp(log1ml + lD, loglk) if lapse else lD), lD


@nb.njit(**KERNEL)
def _edge(k, side, K, tau, m, sig, work, log1ml, lp):
    """The upper (side 0) or lower (side 1) threshold i of category k with e = ±(1 − λ)f_i/p_k
    (0 where category k has no such threshold), z_i and ψ_i."""
    i = k if side == 0 else k - 1
    if i < 0 or i > K - 2:
        return i, 0.0, 0.0, 0.0
    sgn = 1.0 if side == 0 else -1.0
    return i, sgn * math.exp(log1ml + work[2, i] - lp), (tau[i] - m) / sig, work[3, i]


@nb.njit(**KERNEL)
def _add_sym(w, a, b, x):
    w[a, b] += x
    if a != b:
        w[b, a] += x


@nb.njit(**KERNEL)
def cell_nll(fam, m, ls, tau, lam, lapse, c, K, grad, hess, work, v, w):
    """NLL −Σ_k c_k log p_k of one cell, its gradient ``grad`` (K + 2) and observed Hessian
    ``hess`` (K + 2, K + 2) in a = (m, log s, τ_1..τ_{K−1}, λ) (λ entries 0 unless ``lapse``).

    ``work`` (4, K), ``v`` (K + 2) and ``w`` (K + 2, K + 2) are scratch. Returns inf where an
    observed category has probability 0. Per observed category, with v = ∇p/p and W = ∇²p/p:
    ∇(−log p) = −v, ∇²(−log p) = −(W − v vᵀ).
    """
    P = K + 2
    for a in range(P):
        grad[a] = 0.0
        for b in range(P):
            hess[a, b] = 0.0
    sig = math.exp(ls)
    _tabulate(fam, m, sig, tau, K, work)
    log1ml = math.log1p(-lam)
    loglk = math.log(lam / K) if lam > 0.0 else _NEG_INF
    f = 0.0
    for k in range(K):
        ck = c[k]
        if ck <= 0.0:
            continue
        lp, lD = _log_prob(k, K, work, log1ml, loglk, lapse)
        if not lp > _NEG_INF:
            return _INF
        f -= ck * lp
        for a in range(P):
            v[a] = 0.0
            for b in range(P):
                w[a, b] = 0.0
        for side in range(2):
            i, e, z, psi = _edge(k, side, K, tau, m, sig, work, log1ml, lp)
            if e == 0.0:
                continue
            ti = 2 + i
            v[ti] += e / sig
            v[0] -= e / sig
            v[1] -= z * e
            h = e * psi / (sig * sig)
            _add_sym(w, ti, ti, h)
            _add_sym(w, ti, 0, -h)
            _add_sym(w, 0, 0, h)
            q = e * (1.0 + z * psi) / sig
            _add_sym(w, ti, 1, -q)
            _add_sym(w, 0, 1, q)
            _add_sym(w, 1, 1, z * e * (1.0 + z * psi))
        if lapse:
            v[K + 1] = math.exp(-math.log(K) - lp) - math.exp(lD - lp)
            for a in range(K + 1):  # ∂²p/∂λ∂a = −∂D/∂a = −(∂p/∂a)/(1 − λ)
                x = -v[a] / (1.0 - lam)
                w[a, K + 1] = x
                w[K + 1, a] = x
        for a in range(P):
            grad[a] -= ck * v[a]
            for b in range(P):
                hess[a, b] -= ck * (w[a, b] - v[a] * v[b])
    return f


@nb.njit(**KERNEL)
def cell_nll_ms(fam, m, ls, tau, lam, lapse, c, K, work):
    """NLL of one cell with its gradient and Hessian in (m, log s) only: the (m, log s) part
    of :func:`cell_nll` without the threshold and lapse rows, for the block solver.

    Returns (NLL, g_m, g_ls, h_mm, h_mls, h_lsls); NLL = inf where an observed category has
    probability 0. ``work`` (4, K) is scratch.
    """
    sig = math.exp(ls)
    _tabulate(fam, m, sig, tau, K, work)
    log1ml = math.log1p(-lam)
    loglk = math.log(lam / K) if lam > 0.0 else _NEG_INF
    f = 0.0
    g0 = 0.0
    g1 = 0.0
    h00 = 0.0
    h01 = 0.0
    h11 = 0.0
    for k in range(K):
        ck = c[k]
        if ck <= 0.0:
            continue
        lp, _ = _log_prob(k, K, work, log1ml, loglk, lapse)
        if not lp > _NEG_INF:
            return _INF, 0.0, 0.0, 0.0, 0.0, 0.0
        f -= ck * lp
        v0 = 0.0
        v1 = 0.0
        w00 = 0.0
        w01 = 0.0
        w11 = 0.0
        for side in range(2):
            _, e, z, psi = _edge(k, side, K, tau, m, sig, work, log1ml, lp)
            if e == 0.0:
                continue
            v0 -= e / sig
            v1 -= z * e
            w00 += e * psi / (sig * sig)
            w01 += e * (1.0 + z * psi) / sig
            w11 += z * e * (1.0 + z * psi)
        g0 -= ck * v0
        g1 -= ck * v1
        h00 -= ck * (w00 - v0 * v0)
        h01 -= ck * (w01 - v0 * v1)
        h11 -= ck * (w11 - v1 * v1)
    return f, g0, g1, h00, h01, h11


@nb.njit(**KERNEL)
def _stim_eval(fam, mu, ls, a0, a1, counts, cell_tset, cell_lset, tau, lam, lapse, K, work):
    """NLL of one stimulus' cells, and its gradient and Hessian in (μ, log σ)."""
    f = 0.0
    g0 = 0.0
    g1 = 0.0
    h00 = 0.0
    h01 = 0.0
    h11 = 0.0
    for c in range(a0, a1):
        lv = lam[cell_lset[c]] if lapse else 0.0
        fc, c0, c1, c00, c01, c11 = cell_nll_ms(fam, mu, ls, tau[cell_tset[c]], lv, lapse,
                                                counts[c], K, work)
        if not fc < _INF:  # also NaN
            return _INF, 0.0, 0.0, 0.0, 0.0, 0.0
        f += fc
        g0 += c0
        g1 += c1
        h00 += c00
        h01 += c01
        h11 += c11
    return f, g0, g1, h00, h01, h11


@nb.njit(**KERNEL)
def _block_newton(fam, mu, ls, free_ls, lo, hi, a0, a1, counts, cell_tset, cell_lset, tau, lam,
                  lapse, K, maxit, scr):
    """Projected trust-region Newton on one stimulus' (μ, log σ), log σ kept in [lo, hi].

    A log σ on its bound with the gradient pointing out is fixed and μ solved alone. Converged:
    the gradient in natural units (σ·∂/∂μ, ∂/∂log σ) is below 1e-10·(1 + NLL) (this also ends
    the approach to a σ → 0 limit, whose likelihood is then the limit's to double precision), or
    the Newton decrement is below BLOCK_TOL·(1 + NLL), or ten iterations gained less than
    1e-14·(1 + NLL) together (the slow approach to a σ → 0 limit of a logistic latent, whose
    tails fall only exponentially). Returns (μ, log σ, NLL, converged, iterations).
    """
    f, g0, g1, h00, h01, h11 = _stim_eval(fam, mu, ls, a0, a1, counts, cell_tset, cell_lset, tau,
                                          lam, lapse, K, scr)
    if f == _INF:
        return mu, ls, _INF, False, 0
    f_back = f  # the NLL 10 iterations ago: a crawl towards a limit has stopped gaining
    for it in range(maxit):
        if it % 10 == 0:
            if it > 0 and f_back - f <= 1e-14 * (1.0 + f):
                return mu, ls, f, True, it
            f_back = f
        sig = math.exp(ls)
        f1 = free_ls and not ((ls <= lo and g1 > 0.0) or (ls >= hi and g1 < 0.0))
        small = abs(g0) * sig <= 1e-10 * (1.0 + f) and (not f1 or abs(g1) <= 1e-10 * (1.0 + f))
        if small:  # gradient at rounding level in natural units (also on the way to σ → 0)
            return mu, ls, f, True, it
        d0, d1, newton = _trust_step(g0, g1, h00, h01, h11, sig, 1.0, True, f1, BLOCK_RADIUS)
        dec = -(g0 * d0 + g1 * d1)
        if (newton and dec <= BLOCK_TOL * (1.0 + f)) or not dec > 0.0:
            return mu, ls, f, newton or small, it
        t = 1.0
        accepted = False
        for _ls in range(60):
            n0 = mu + t * d0
            n1 = min(max(ls + t * d1, lo), hi)
            nf, ng0, ng1, nh00, nh01, nh11 = _stim_eval(fam, n0, n1, a0, a1, counts, cell_tset,
                                                        cell_lset, tau, lam, lapse, K, scr)
            slope = g0 * (n0 - mu) + g1 * (n1 - ls)
            if nf <= f + 1e-4 * slope or (nf <= f and -slope <= 1e-15 * (1.0 + f)):
                accepted = True
                break
            t *= 0.5 if nf < _INF else 0.1
        if not accepted:
            return mu, ls, f, small or dec <= 1e-9 * (1.0 + f), it
        mu, ls, f, g0, g1, h00, h01, h11 = n0, n1, nf, ng0, ng1, nh00, nh01, nh11
    return mu, ls, f, False, maxit


@nb.njit(**KERNEL)
def _limit_start(mu, ls, lo, fam, a0, a1, counts, cell_tset, cell_lset, tau, lam, lapse, K,
                 scr):
    """The start of a block: (μ, log σ) as given, or, for a stimulus whose ratings lie in one
    category or two adjacent ones and whose cells share their thresholds, the σ → 0 limit at
    the floor where its NLL is not higher (μ in the middle of the category, or where it
    splits the ratings between the two at the threshold between them).

    Newton's method approaches such a limit only slowly (with a logistic latent over hundreds
    of iterations: the optimum lies at the end of a curved valley μ = τ − z·σ); at the floor its
    likelihood is the limit's to double precision and only μ remains to be solved.
    """
    first = K
    last = -1
    for c in range(a0, a1):
        if cell_tset[c] != cell_tset[a0]:
            return mu, ls  # cells on different thresholds: no common limit
        for k in range(K):
            if counts[c, k] > 0.0:
                first = min(first, k)
                last = max(last, k)
    if last - first > 1:
        return mu, ls
    tr = tau[cell_tset[a0]]
    if first == last:
        low = tr[first - 1] if first > 0 else tr[0] - 0.5 * (tr[1] - tr[0])
        up = tr[first] if first < K - 1 else tr[K - 2] + 0.5 * (tr[K - 2] - tr[K - 3])
        m = 0.5 * (low + up)
    else:
        below = 0.0
        total = 0.0
        for c in range(a0, a1):
            below += counts[c, first]
            total += counts[c, first] + counts[c, last]
        # z = F⁻¹(share below the threshold): the split of the limit
        m = tr[first] - math.exp(lo) * _standard_quantile(fam, below / total)
    f = _stim_eval(fam, mu, ls, a0, a1, counts, cell_tset, cell_lset, tau, lam, lapse, K,
                   scr)[0]
    fl = _stim_eval(fam, m, lo, a0, a1, counts, cell_tset, cell_lset, tau, lam, lapse, K,
                    scr)[0]
    if fl <= f or not f < _INF:
        return m, lo
    return mu, ls


@nb.njit(**KERNEL)
def _standard_quantile(fam, q):
    """F⁻¹(q) of the standard latent for 0 < q < 1: logit q, or for the normal Newton's method
    on log Φ(z) = log q from z = logit(q)/1.7 (to about 1e-12; a start for the block solver)."""
    if q > 0.5:
        return -_standard_quantile(fam, 1.0 - q)
    z = math.log(q) - math.log1p(-q)
    if fam != NORMAL:
        return z
    z /= 1.7
    target = math.log(q)
    for _ in range(30):
        lF, _lS, lf, _psi = _standard(fam, z)
        step = (lF - target) / math.exp(lf - lF)
        z -= step
        if abs(step) < 1e-12 * (1.0 + abs(z)):
            break
    return z


@nb.njit(**KERNEL)
def _scratch(K):
    P = K + 2
    return (np.empty(P), np.empty((P, P)), np.empty((4, K)), np.empty(P), np.empty((P, P)))


@nb.njit(cache=True, parallel=True, error_model="numpy", no_cfunc_wrapper=True)
def solve_blocks(fam, theta, active, ptr, counts, cell_tset, cell_lset, tau, lam, lapse, common,
                 ls_common, lo, hi, K, maxit, restart, alt):
    """Every active stimulus' block solved at fixed shared parameters, from ``theta`` (n, 2).

    Each block with ``restart[j]`` is also started from ``alt[j]`` (the block's optimum without
    a lapse: the wide member), from members concentrated on every rated
    category and from members split at every threshold between two rated categories (with a
    lapse the block likelihood has local optima besides the σ → 0 corners). Each start runs
    RESTART_MAXIT iterations, the better ones to the end, and the best block is kept. A corner
    start is skipped when its NLL, less what the latent could take over from the lapse near
    it (the ratings of the categories next to the corner's, at −log(λ/K) each), exceeds the
    best block's by more than RESTART_SCREEN. Returns (theta, nll (n,), converged (n,),
    iterations (n,), gap (n,)): ``gap`` is, for a restarted block, how far above the best block
    the lowest start ended that converged to another local optimum (inf where none did).
    """
    n = theta.shape[0]
    out = theta.copy()
    nll = np.zeros(n)
    conv = np.ones(n, dtype=np.bool_)
    iters = np.zeros(n, dtype=np.int64)
    gap = np.full(n, _INF)
    for j in nb.prange(n):
        if not active[j]:
            continue
        scr = np.empty((4, K))
        a0 = ptr[j]
        a1 = ptr[j + 1]
        mu0 = theta[j, 0]
        ls0 = ls_common if common else theta[j, 1]
        if not common:
            mu0, ls0 = _limit_start(mu0, ls0, lo, fam, a0, a1, counts, cell_tset, cell_lset,
                                    tau, lam, lapse, K, scr)
        bm, bl, bf, bc, bi = _block_newton(fam, mu0, ls0, not common, lo, hi, a0, a1, counts,
                                           cell_tset, cell_lset, tau, lam, lapse, K, maxit, scr)
        if restart[j]:
            near = _INF  # the lowest NLL of a start that converged to another local optimum
            pooled = np.zeros(K)
            for c in range(a0, a1):
                for k in range(K):
                    pooled[k] += counts[c, k]
            tr = tau[cell_tset[a0]]
            # the cost −log(λ/K) of a rating left to the lapse (the smallest λ of the cells)
            lam_min = 1.0
            for c in range(a0, a1):
                lam_min = min(lam_min, lam[cell_lset[c]] if lapse else 0.0)
            stray = -math.log(lam_min / K) if lam_min > 0.0 else _INF
            for r in range(2 * K):
                if r == 0:
                    s0, s1 = alt[j, 0], alt[j, 1]
                elif r <= K:
                    k = r - 1
                    if pooled[k] <= 0.0:
                        continue
                    low = tr[k - 1] if k > 0 else tr[0] - 1.0
                    up = tr[k] if k < K - 1 else tr[K - 2] + 1.0
                    s0, s1 = 0.5 * (low + up), math.log(max(0.1 * (up - low), math.exp(lo)))
                    first = k
                    last = k
                else:
                    i = r - K - 1
                    if pooled[i] <= 0.0 or pooled[i + 1] <= 0.0:
                        continue
                    low = tr[i - 1] if i > 0 else tr[0] - 1.0
                    up = tr[i + 1] if i + 1 < K - 1 else tr[K - 2] + 1.0
                    s0, s1 = tr[i], math.log(max(0.05 * (up - low), math.exp(lo)))
                    first = i
                    last = i + 1
                if common:
                    s1 = ls_common
                elif r > 0:
                    # a corner start: near it the latent can take over at most the ratings of
                    # the categories next to its own from the lapse (gaining ≤ −log(λ/K) each)
                    gain = 0.0
                    if first > 0 and pooled[first - 1] > 0.0:
                        gain += pooled[first - 1] * stray
                    if last < K - 1 and pooled[last + 1] > 0.0:
                        gain += pooled[last + 1] * stray
                    f0 = _stim_eval(fam, s0, s1, a0, a1, counts, cell_tset, cell_lset, tau, lam,
                                    lapse, K, scr)[0]
                    if not f0 - gain <= bf + RESTART_SCREEN:
                        continue
                rm, rl, rf, rc, ri = _block_newton(fam, s0, s1, not common, lo, hi, a0, a1,
                                                   counts, cell_tset, cell_lset, tau, lam, lapse,
                                                   K, RESTART_MAXIT, scr)
                if rc and rf > bf + 1e-9 * (1.0 + abs(bf)) and rf < near:
                    near = rf
                if rf < bf - 1e-12 * (1.0 + abs(bf)):
                    if not rc:  # the better basin: solved to the end
                        rm, rl, rf, rc, ri = _block_newton(fam, rm, rl, not common, lo, hi, a0,
                                                           a1, counts, cell_tset, cell_lset, tau,
                                                           lam, lapse, K, maxit, scr)
                    if bf < near:
                        near = bf
                    bm, bl, bf, bc, bi = rm, rl, rf, rc, ri
            gap[j] = near - bf
        out[j, 0] = bm
        out[j, 1] = bl
        nll[j] = bf
        conv[j] = bc
        iters[j] = bi
    return out, nll, conv, iters, gap


@nb.njit(cache=True, parallel=True, error_model="numpy", no_cfunc_wrapper=True)
def assemble(fam, theta, active, ptr, counts, cell_tset, cell_lset, tau, lam, lapse, common,
             ls_common, lo, hi, tau_idx, lam_idx, rho_idx, P, K):
    """NLL, full gradient and the Schur complement at (θ, shared), reduced over fixed chunks.

    Returns (nll (n,), grad (n, 2) of the stimulus blocks, free_ls (n,) (log σ_j not held by an
    active bound), gs (P,) shared gradient, gcorr (P,) = Σ_j H_sj H_jj⁻¹ g_j, S (P, P) =
    H_ss − Σ_j H_sj H_jj⁻¹ H_js, D (n, 2, P) = −H_jj⁻¹ H_js, the first-order change of the
    block optima with the shared parameters). A block direction with no curvature (a stimulus
    at the σ floor whose cells do not depend on μ to double precision) is not eliminated: it
    couples to nothing.
    """
    n = theta.shape[0]
    nch = (n + CHUNK - 1) // CHUNK
    nll = np.zeros(n)
    gst = np.zeros((n, 2))
    free_ls = np.zeros(n, dtype=np.bool_)
    gs_c = np.zeros((nch, P))
    gc_c = np.zeros((nch, P))
    S_c = np.zeros((nch, P, P))
    D = np.zeros((n, 2, P))
    Kp = K + 2
    for ch in nb.prange(nch):
        grad, hess, work, v, w = _scratch(K)
        C = np.zeros((2, P))
        mark = np.zeros(P, dtype=np.bool_)
        touched = np.empty(P, dtype=np.int64)
        loc = np.empty(Kp, dtype=np.int64)
        for j in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
            if not active[j]:
                continue
            mu = theta[j, 0]
            ls = ls_common if common else theta[j, 1]
            nt = 0
            g0 = 0.0
            g1 = 0.0
            b00 = 0.0
            b01 = 0.0
            b11 = 0.0
            f = 0.0
            for c in range(ptr[j], ptr[j + 1]):
                t = cell_tset[c]
                lv = lam[cell_lset[c]] if lapse else 0.0
                f += cell_nll(fam, mu, ls, tau[t], lv, lapse, counts[c], K, grad, hess, work, v,
                              w)
                loc[0] = -1
                loc[1] = rho_idx if common else -1
                for i in range(K - 1):
                    loc[2 + i] = tau_idx[t, i]
                loc[K + 1] = lam_idx[cell_lset[c]] if lapse else -1
                g0 += grad[0]
                b00 += hess[0, 0]
                if not common:
                    g1 += grad[1]
                    b01 += hess[0, 1]
                    b11 += hess[1, 1]
                for a in range(Kp):
                    sa = loc[a]
                    if sa < 0:
                        continue
                    gs_c[ch, sa] += grad[a]
                    for b in range(Kp):
                        sb = loc[b]
                        if sb >= 0:
                            S_c[ch, sa, sb] += hess[a, b]
                    C[0, sa] += hess[0, a]
                    if not common:
                        C[1, sa] += hess[1, a]
                    if not mark[sa]:
                        mark[sa] = True
                        touched[nt] = sa
                        nt += 1
            nll[j] = f
            gst[j, 0] = g0
            gst[j, 1] = g1
            fl = (not common) and not ((ls <= lo and g1 >= 0.0) or (ls >= hi and g1 <= 0.0))
            free_ls[j] = fl
            # inverse of the block on its usable directions
            i00 = 0.0
            i01 = 0.0
            i11 = 0.0
            det = b00 * b11 - b01 * b01
            if fl and b00 > 0.0 and b11 > 0.0 and det > 1e-14 * b00 * b11:
                i00 = b11 / det
                i01 = -b01 / det
                i11 = b00 / det
            elif b00 > 0.0:
                i00 = 1.0 / b00
            elif fl and b11 > 0.0:
                i11 = 1.0 / b11
            for x in range(nt):
                a = touched[x]
                u0 = i00 * C[0, a] + i01 * C[1, a]
                u1 = i01 * C[0, a] + i11 * C[1, a]
                D[j, 0, a] = -u0
                D[j, 1, a] = -u1
                gc_c[ch, a] += u0 * g0 + u1 * g1
                for y in range(nt):
                    b = touched[y]
                    S_c[ch, a, b] -= u0 * C[0, b] + u1 * C[1, b]
            for x in range(nt):
                a = touched[x]
                C[0, a] = 0.0
                C[1, a] = 0.0
                mark[a] = False
    gs = np.zeros(P)
    gc = np.zeros(P)
    S = np.zeros((P, P))
    for ch in range(nch):
        gs += gs_c[ch]
        gc += gc_c[ch]
        S += S_c[ch]
    return nll, gst, free_ls, gs, gc, S, D


# ---------------------------------------------------------------------------------------------
# the outer Newton iteration on the shared parameters (plain Python: a few dense P×P solves)
# ---------------------------------------------------------------------------------------------
#: Floor and ceiling of σ_j on the rating axis (see :func:`solve`).
SIGMA_FLOOR = 1e-3
SIGMA_CEILING = 1e4
#: NLL gap within which another local optimum of a block gets its restarts again.
RECHECK_GAP = 5.0
#: Largest lapse rate.
LAPSE_MAX = 0.999
#: Iteration caps: block Newton per call, outer Newton steps.
BLOCK_MAXIT = 200
OUTER_MAXIT = 200


def _descent_step(S, g):
    """−S⁻¹g, with S's eigenvalues lifted to ≥ 1e-10·max|eig| where S is not positive definite
    (a descent direction in any case). Returns (step, positive_definite)."""
    try:
        L = np.linalg.cholesky(S)
        y = np.linalg.solve(L, -g)
        return np.linalg.solve(L.T, y), True
    except np.linalg.LinAlgError:
        vals, vecs = np.linalg.eigh(S)
        top = max(float(np.abs(vals).max()), 1e-300)
        vals = np.maximum(np.abs(vals), 1e-10 * top)
        return -(vecs @ ((vecs.T @ g) / vals)), False


def _trial_points(s, step, lam_slots):
    """Trial points of the outer line search: s + t·step for t = 1, 1/2, 1/4, … (60 halvings),
    the lapses clipped to [0, LAPSE_MAX]; first, where the step would more than double a lapse,
    points with those lapses extrapolated.

    Near λ = 0 the profile NLL behaves like −a·log(λ + ε) + b·λ (stray ratings that only the
    lapse explains), on which Newton's method only doubles λ per step. For that model the
    minimum lies at λ/(1 − r), r = Δλ/λ the Newton step relative to λ, which is where the first
    trials put such a lapse (at most 100·λ), then half and a quarter of the way in log λ; the
    other coordinates take the full Newton step.
    """
    lam = s[lam_slots]
    d = step[lam_slots]
    r = np.divide(d, lam, out=np.zeros_like(lam), where=lam > 0.0)
    doubling = (lam > 0.0) & (r >= 0.5)
    if doubling.any():
        target = np.where(r < 0.99, lam / np.maximum(1.0 - r, 0.01), 100.0 * lam)
        target = np.minimum(target, LAPSE_MAX)
        for theta in (1.0, 0.5, 0.25):
            trial = s + step
            trial[lam_slots] = np.where(doubling, lam * (target / np.where(doubling, lam, 1.0))
                                        ** theta, lam + d)
            trial[lam_slots] = np.clip(trial[lam_slots], 0.0, LAPSE_MAX)
            yield trial
    t = 1.0
    for _ in range(60):
        trial = s + t * step
        trial[lam_slots] = np.clip(trial[lam_slots], 0.0, LAPSE_MAX)
        yield trial
        t *= 0.5


def solve(problem, theta, tau, lam, ls_common):
    """Joint maximum likelihood: Newton's method on the shared parameters with the stimulus
    blocks profiled out, a backtracking line search on the profile NLL (each trial point's blocks
    re-solved in parallel from the previous ones moved by the first-order change
    −H_jj⁻¹H_js·Δs). Without a lapse, or with every λ = 0, every block is convex in
    (μ/σ, 1/σ) (Pratt 1981) and needs no restarts; a lapse model is solved first with its
    lapses held at 0, then with them free (projected Newton on [0, LAPSE_MAX]) from that
    optimum, so that it never ends above the model without a lapse. Once converged with some
    λ > 0, every block is re-started from every corner (see :func:`solve_blocks`) and the
    iteration goes on; at each later convergence the blocks in which restarts met more than one
    local optimum (or gained) are re-started again, until such a round improves nothing. The
    starting ``lam`` is not used.

    ``problem`` is a dict of the cell arrays: fam, active, ptr, counts, cell_tset, cell_lset,
    lapse, common, tau_idx, lam_idx, rho_idx, P, K; for the latents on [0, 1] also unit = True,
    lo, hi (2,) the box of θ and log_tref (the blocks and assembly of :mod:`.joint_unit`, θ in
    place of (μ, log σ)). Shared parameters: the thresholds τ (T, K − 1)
    marked free by ``tau_idx`` ≥ 0, the lapses λ (L,) in [0, LAPSE_MAX], the common log σ. The
    thresholds stay strictly increasing (a trial point that breaks the order is rejected), log σ_j
    stays in [log SIGMA_FLOOR, log SIGMA_CEILING]: the σ_j → 0 limit of stimuli concentrated on
    one category or split between two adjacent ones (with a lapse also those whose stray ratings
    the lapse explains) is reached to double precision at the floor (the omitted mass is
    F(−gap/SIGMA_FLOOR), below 1e-300 for threshold gaps above 0.04), and contributes nothing to
    the profile gradient of the thresholds.

    Returns a dict: theta, tau, lam, ls_common, nll (n,), converged (n,), iterations (n,),
    S (P, P) the profile Hessian (Schur complement), grad_max (max |∂NLL/∂·| over every free
    coordinate, stimulus blocks included), outer_iterations, outer_converged.
    """
    p = problem
    lo, hi = math.log(SIGMA_FLOOR), math.log(SIGMA_CEILING)
    tau_idx, lam_idx, rho_idx, P = p["tau_idx"], p["lam_idx"], p["rho_idx"], p["P"]
    lam_slots = lam_idx[lam_idx >= 0]

    unit = p.get("unit", False)
    if unit:  # beta, Kumaraswamy: θ in the box [lo, hi]² (``joint_unit``)
        lo_v, hi_v = p["lo"], p["hi"]

    def blocks(tau_, lam_, lsc, th, restart):
        if unit:
            return joint_unit.solve_blocks(
                p["fam"], th, p["active"], p["ptr"], p["counts"], p["cell_tset"],
                p["cell_lset"], tau_, lam_, p["lapse"], lo_v, hi_v, p["K"], p["log_tref"],
                BLOCK_MAXIT, restart, wide,
            )
        return solve_blocks(
            p["fam"], th, p["active"], p["ptr"], p["counts"], p["cell_tset"], p["cell_lset"],
            tau_, lam_, p["lapse"], p["common"], lsc, lo, hi, p["K"], BLOCK_MAXIT, restart,
            wide,
        )

    def pack(tau_, lam_, lsc):
        s = np.zeros(P)
        s[tau_idx[tau_idx >= 0]] = tau_[tau_idx >= 0]
        if len(lam_idx):
            s[lam_idx] = lam_
        if rho_idx >= 0:
            s[rho_idx] = lsc
        return s

    def unpack(s):
        tau_ = tau.copy()
        tau_[tau_idx >= 0] = s[tau_idx[tau_idx >= 0]]
        lam_ = s[lam_idx] if len(lam_idx) else lam.copy()
        return tau_, lam_, (s[rho_idx] if rho_idx >= 0 else ls_common)

    def assembled(th, tau_, lam_, lsc):
        if unit:
            nll_, gst_, free_, gs_, gc_, S_, D_ = joint_unit.assemble(
                p["fam"], th, p["active"], p["ptr"], p["counts"], p["cell_tset"],
                p["cell_lset"], tau_, lam_, p["lapse"], lo_v, hi_v, tau_idx, lam_idx, P, p["K"],
                p["log_tref"],
            )
            return nll_, gst_, free_, gs_, gc_, S_, D_
        return assemble(
            p["fam"], th, p["active"], p["ptr"], p["counts"], p["cell_tset"], p["cell_lset"],
            tau_, lam_, p["lapse"], p["common"], lsc, lo, hi, tau_idx, lam_idx, rho_idx, P, p["K"],
        )

    # Every block is convex in (μ/σ, 1/σ) while all λ = 0 (Pratt 1981): a lapse model is first
    # solved with its lapses held at 0 (the model without a lapse, unimodal blocks, no
    # restarts), then with them free from there, so that it never ends above the model without
    # one. Once converged with some λ > 0, every block is re-started from every corner (see
    # :func:`solve_blocks`) and the iteration goes on; at each later convergence the blocks in
    # which those restarts met more than one local optimum are re-started again, until such a
    # round gains nothing.
    n = theta.shape[0]
    no_restart = np.zeros(n, bool)
    wide = theta  # the blocks' optima without a lapse (an extra start of the restarts)
    theta, nll, conv, iters, _ = blocks(tau, lam, ls_common, theta, no_restart)
    F = float(nll.sum())
    s = pack(tau, lam, ls_common)
    outer_converged = P == 0
    held = len(lam_slots) > 0  # phase 1: the lapses held at 0
    checked = False  # a round of restarts found nothing better at the current point
    recheck = None  # after the first round: the blocks with several local optima
    it = 0
    for it in range(OUTER_MAXIT if P else 0):  # noqa: B007
        _, _, _, gs, gc, S, D = assembled(theta, tau, lam, ls_common)
        g = gs - gc
        free = np.ones(P, bool)
        if held:
            free[lam_slots] = False
        else:
            free[lam_slots[(s[lam_slots] <= 0.0) & (g[lam_slots] > 0.0)]] = False
            free[lam_slots[(s[lam_slots] >= LAPSE_MAX) & (g[lam_slots] < 0.0)]] = False
        step = np.zeros(P)
        if free.any():
            step[free], _ = _descent_step(S[np.ix_(free, free)], g[free])
        slope = float(g @ step)
        tol = 1e-9 * (1.0 + 1e-6 * abs(F))
        if -slope <= tol:
            if held:
                held = False
                wide = theta.copy()
                continue
            if checked or not np.any(lam > 0.0):
                outer_converged = True
                break
            mask = np.ones(n, bool) if recheck is None else recheck
            theta2, nll2, conv2, iters2, gap = blocks(tau, lam, ls_common, theta, mask)
            F2 = float(nll2.sum())
            checked = not F2 < F - tol
            near = gap <= RECHECK_GAP
            recheck = near if recheck is None else (recheck | near)
            theta, nll, conv, iters, F = theta2, nll2, conv2, iters2, F2
            continue
        accepted = False
        for s_new in _trial_points(s, step, lam_slots):
            tau_n, lam_n, lsc_n = unpack(s_new)
            inside = not unit or (np.all(tau_n[:, 0] > 0.0) and np.all(tau_n[:, -1] < 1.0))
            if inside and np.all(np.diff(tau_n, axis=1) > 0):
                move = D @ (s_new - s)  # the blocks follow to first order, by at most 1 unit
                move[~np.isfinite(move).all(axis=1)] = 0.0
                big = np.abs(move).max(axis=1) > 1.0
                move[big] /= np.abs(move[big]).max(axis=1, keepdims=True)
                th_start = theta + move
                if unit:
                    th_start = np.clip(th_start, lo_v, hi_v)
                else:
                    th_start[:, 1] = np.clip(th_start[:, 1], lo, hi)
                th_n, nll_n, conv_n, it_n, _ = blocks(tau_n, lam_n, lsc_n, th_start, no_restart)
                F_n = float(nll_n.sum())
                pred = float(g @ (s_new - s))
                if F_n <= F + 1e-4 * pred or (F_n <= F and -pred <= 1e-13 * (1.0 + abs(F))):
                    accepted = True
                    break
        if not accepted:
            outer_converged = -slope <= 1e3 * tol
            break
        s, tau, lam, ls_common = s_new, tau_n, lam_n, lsc_n
        theta, nll, conv, iters, F = th_n, nll_n, conv_n, it_n, F_n
        checked = False
    nll_j, gst, free_ls, gs, gc, S, _ = assembled(theta, tau, lam, ls_common)
    active = p["active"]
    if unit:
        parts = [np.abs(gst[active & free_ls[:, 0], 0]), np.abs(gst[active & free_ls[:, 1], 1])]
    else:
        parts = [np.abs(gst[active, 0]), np.abs(gst[active & free_ls, 1])]
    free = np.ones(P, bool)
    free[lam_slots[(s[lam_slots] <= 0.0) & (gs[lam_slots] > 0.0)]] = False
    parts.append(np.abs(gs[free]))
    grad_max = max((float(x.max()) for x in parts if len(x)), default=0.0)
    return {
        "theta": theta, "tau": tau, "lam": lam, "ls_common": ls_common, "nll": nll_j,
        "converged": conv, "iterations": iters, "S": S, "grad_max": grad_max,
        "free_ls": free_ls, "outer_iterations": it, "outer_converged": bool(outer_converged),
    }
