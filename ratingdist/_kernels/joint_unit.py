"""Joint likelihood over cells for the latents on [0, 1] (beta, Kumaraswamy) cut at learned
thresholds 0 < τ_1 < … < τ_{K−1} < 1: the cell likelihood with its derivatives, the per-stimulus
block solver and the assembly of the profile (Schur complement), as :mod:`.joint` does for the
location-scale latents (its :func:`.joint.solve` drives both).

A cell's probabilities are p_k = (1 − λ)·[F(τ_k; θ) − F(τ_{k−1}; θ)] + λ/K with the stimulus'
coordinates θ = (log a, log b) (beta, F = I_x(a, b)) or the centred Kumaraswamy coordinates
θ = (log a, log b + h(a, t_ref)), h(a, t) = log(−log(1 − t^a)), t_ref the middle reference
threshold (``_kernels.quantized``), in which F(τ) = 1 − exp(−e^u), u = θ_1 + h(a, τ) − h(a, t_ref).

Derivatives in the local coordinates (θ_0, θ_1, τ_1..τ_{K−1}, λ): the gradient is exact
(∂F/∂θ from ``_kernels.special.log_betainc_with_grad`` or the closed-form Kumaraswamy terms,
∂F/∂τ = f the density); in the Hessian the τ and λ rows are exact (∂²F/∂τ² = f·∂log f/∂τ) and the
θ rows are central differences of the exact gradient (step ``FD_STEP`` over the local scale of
the cell in θ, relative error about 1e-9); the likelihood and its stationarity, hence the MLE,
are exact.

Densities at a threshold: beta log f = (a − 1) log τ + (b − 1) log(1 − τ) − log B(a, b),
∂log f/∂τ = (a − 1)/τ − (b − 1)/(1 − τ); Kumaraswamy, with y = a log τ, r = e^y/(1 − e^y),
q = −log(1 − e^y) and H = r/q = ∂h/∂y: log f = u − e^u + log(a/τ) + log H,
∂log f/∂τ = (a/τ)(1 + r − e^u·H) − 1/τ.

References
----------
Saupe, Rusek, Hägele, Weiskopf, Janowski, IEEE Signal Processing Letters 31 (2024) (quantized
metric models on [0, 1]); Kumaraswamy, J. Hydrology 46 (1980) 79–88.
"""

import math

import numba as nb
import numpy as np

from .codes import BETA
from .jit import KERNEL
from .quantized import kumaraswamy_h
from .solver import _trust_step
from .special import (
    NAN,
    NO_CONSTANTS,
    log1mexp,
    log_beta,
    log_betainc_with_grad_cached,
    logaddexp,
    logsubexp,
)

_INF = np.inf
_NEG_INF = -np.inf
#: Central-difference step in θ of the θ rows of the cell Hessian (divided by the local scale of
#: the cell in θ, see :func:`unit_cell`).
FD_STEP = 1e-5
#: Trust radius of a block step (units of θ).
BLOCK_RADIUS = 4.0
#: Newton decrement (relative to 1 + NLL) at which a block counts as converged.
BLOCK_TOL = 1e-13
#: Iterations a restart gets before it is compared with the best block found so far.
RESTART_MAXIT = 30
#: A corner start is run only if its NLL, less what its neighbouring categories could gain,
#: is within this many nats of the best block found.
RESTART_SCREEN = 1.0
#: Distance from a box bound within which :func:`assemble` holds a coordinate.
BOUND_TOL = 1e-6
#: Stimuli per reduction chunk (fixed, so sums do not depend on the number of threads).
CHUNK = 256


@nb.njit(**KERNEL)
def _threshold(fam, th0, th1, t, log_tref, out, i):
    """out[:, i] ← (log F, log S, ∂log F/∂θ_0, ∂log F/∂θ_1, ∂log S/∂θ_0, ∂log S/∂θ_1, log f,
    ∂log f/∂τ) at the threshold t."""
    a = math.exp(th0)
    lt = math.log(t)
    if fam == BETA:
        b = math.exp(th1)
        r = log_betainc_with_grad_cached(t, a, b, NAN, NAN, NAN, NAN, NO_CONSTANTS)
        out[0, i] = r[0]
        out[1, i] = r[1]
        out[2, i] = a * r[2]
        out[3, i] = b * r[3]
        out[4, i] = a * r[4]
        out[5, i] = b * r[5]
        out[6, i] = (a - 1.0) * lt + (b - 1.0) * math.log1p(-t) - log_beta(a, b)
        out[7, i] = (a - 1.0) / t - (b - 1.0) / (1.0 - t) if out[6, i] > -700.0 else 0.0
        return
    h, dh = kumaraswamy_h(th0, lt)
    hr, dhr = kumaraswamy_h(th0, log_tref)
    u = th1 + h - hr
    eu = math.exp(u)
    out[0, i] = log1mexp(-eu)
    out[1, i] = -eu
    dlf = 1.0 if eu < 1e-300 else (eu / math.expm1(eu) if eu < 745.0 else 0.0)
    out[2, i] = dlf * (dh - dhr)
    out[3, i] = dlf
    out[4, i] = -eu * (dh - dhr)
    out[5, i] = -eu
    y = a * lt
    H = dh / y  # ∂h/∂y = r/q
    r = 1.0 / math.expm1(-y)
    out[6, i] = u - eu + th0 - lt + math.log(H)
    out[7, i] = (a / t) * (1.0 + r - eu * H) - 1.0 / t if out[6, i] > -700.0 else 0.0


@nb.njit(**KERNEL)
def _cell_grad(fam, th0, th1, tau, lam, lapse, c, K, log_tref, grad, work, second, hess):
    """NLL of one cell and its gradient ``grad`` (K + 2) in (θ_0, θ_1, τ_1..τ_{K−1}, λ); with
    ``second`` also the exact τ and λ rows of the Hessian into ``hess`` (entries a, b ≥ 2).
    Returns inf where an observed category has probability 0."""
    P = K + 2
    for a in range(P):
        grad[a] = 0.0
    if second:
        for a in range(P):
            for b in range(P):
                hess[a, b] = 0.0
    for i in range(K - 1):
        _threshold(fam, th0, th1, tau[i], log_tref, work, i)
    log1ml = math.log1p(-lam)
    loglk = math.log(lam / K) if lam > 0.0 else _NEG_INF
    f = 0.0
    v = np.zeros(P)
    for k in range(K):
        ck = c[k]
        if ck <= 0.0:
            continue
        up = k < K - 1
        lo = k > 0
        lf_up = work[0, k] if up else 0.0
        ls_up = work[1, k] if up else _NEG_INF
        lf_lo = work[0, k - 1] if lo else _NEG_INF
        ls_lo = work[1, k - 1] if lo else 0.0
        d0 = 0.0
        d1 = 0.0
        if lf_up <= ls_lo:
            lD = logsubexp(lf_up, lf_lo)
            if lD > _NEG_INF:
                if up:
                    w = math.exp(lf_up - lD)
                    d0 += w * work[2, k]
                    d1 += w * work[3, k]
                if lo and lf_lo > _NEG_INF:
                    w = math.exp(lf_lo - lD)
                    d0 -= w * work[2, k - 1]
                    d1 -= w * work[3, k - 1]
        else:
            lD = logsubexp(ls_lo, ls_up)
            if lD > _NEG_INF:
                if lo:
                    w = math.exp(ls_lo - lD)
                    d0 += w * work[4, k - 1]
                    d1 += w * work[5, k - 1]
                if up and ls_up > _NEG_INF:
                    w = math.exp(ls_up - lD)
                    d0 -= w * work[4, k]
                    d1 -= w * work[5, k]
        lp = logaddexp(log1ml + lD, loglk) if lapse else lD
        if not lp > _NEG_INF:
            return _INF
        f -= ck * lp
        for a in range(P):
            v[a] = 0.0
        s = math.exp(log1ml + lD - lp) if lD > _NEG_INF else 0.0
        v[0] = s * d0
        v[1] = s * d1
        e_up = math.exp(log1ml + work[6, k] - lp) if up else 0.0
        e_lo = -math.exp(log1ml + work[6, k - 1] - lp) if lo else 0.0
        if up:
            v[2 + k] += e_up
        if lo:
            v[1 + k] += e_lo
        if lapse:
            v[K + 1] = math.exp(-math.log(K) - lp) - (math.exp(lD - lp) if lD > _NEG_INF else 0.0)
        for a in range(P):
            grad[a] -= ck * v[a]
        if second:
            # W = ∇²p/p on the τ, λ entries: ∂²p/∂τ² = ±(1 − λ) f ∂log f/∂τ, ∂²p/∂τ∂λ = ∓f
            if up:
                hess[2 + k, 2 + k] -= ck * e_up * work[7, k]
            if lo:
                hess[1 + k, 1 + k] -= ck * e_lo * work[7, k - 1]
            if lapse:
                for a in range(2, K + 1):
                    x = -v[a] / (1.0 - lam)
                    hess[a, K + 1] -= ck * x
                    hess[K + 1, a] -= ck * x
            for a in range(2, P):
                for b in range(2, P):
                    hess[a, b] += ck * v[a] * v[b]
    return f


@nb.njit(**KERNEL)
def unit_cell(fam, th0, th1, tau, lam, lapse, c, K, log_tref, grad, hess, work, gp, gm):
    """NLL of one cell, its gradient ``grad`` (K + 2) and Hessian ``hess`` (K + 2, K + 2) in
    (θ_0, θ_1, τ_1..τ_{K−1}, λ) (λ entries 0 unless ``lapse``): the τ, λ rows exact, the θ rows
    central differences of the exact gradient. ``work`` (8, K), ``gp``, ``gm`` (K + 2) scratch."""
    P = K + 2
    f = _cell_grad(fam, th0, th1, tau, lam, lapse, c, K, log_tref, grad, work, True, hess)
    if not f < _INF:
        return _INF
    # steps on the scale on which the cell varies in θ: a concentrated beta member moves its
    # mean by about 1/sqrt(a + b) sd per unit of log a, a Kumaraswamy one by a per unit of log a
    if fam == BETA:
        h_d = FD_STEP / math.sqrt(1.0 + math.exp(th0) + math.exp(th1))
        h_0 = h_d
    else:
        h_d = FD_STEP
        h_0 = FD_STEP / (1.0 + math.exp(th0))
    for d in range(2):
        h = h_0 if d == 0 else h_d
        if d == 0:
            fp = _cell_grad(fam, th0 + h, th1, tau, lam, lapse, c, K, log_tref, gp, work, False,
                            hess)
            fm = _cell_grad(fam, th0 - h, th1, tau, lam, lapse, c, K, log_tref, gm, work, False,
                            hess)
        else:
            fp = _cell_grad(fam, th0, th1 + h, tau, lam, lapse, c, K, log_tref, gp, work, False,
                            hess)
            fm = _cell_grad(fam, th0, th1 - h, tau, lam, lapse, c, K, log_tref, gm, work, False,
                            hess)
        if not (fp < _INF and fm < _INF):
            for a in range(P):
                hess[d, a] = 0.0
                hess[a, d] = 0.0
            continue
        for a in range(P):
            x = (gp[a] - gm[a]) / (2.0 * h)
            if a < 2:
                hess[d, a] += 0.5 * x
                hess[a, d] += 0.5 * x
            else:
                hess[d, a] = x
                hess[a, d] = x
    return f


@nb.njit(**KERNEL)
def _stim_eval(fam, th0, th1, a0, a1, counts, cell_tset, cell_lset, tau, lam, lapse, K, log_tref,
               scr):
    """NLL of one stimulus' cells with its gradient and Hessian in θ:
    (NLL, g0, g1, h00, h01, h11)."""
    grad, hess, work, gp, gm = scr
    f = 0.0
    g0 = 0.0
    g1 = 0.0
    h00 = 0.0
    h01 = 0.0
    h11 = 0.0
    for c in range(a0, a1):
        lv = lam[cell_lset[c]] if lapse else 0.0
        fc = unit_cell(fam, th0, th1, tau[cell_tset[c]], lv, lapse, counts[c], K, log_tref, grad,
                       hess, work, gp, gm)
        if not fc < _INF:
            return _INF, 0.0, 0.0, 0.0, 0.0, 0.0
        f += fc
        g0 += grad[0]
        g1 += grad[1]
        h00 += hess[0, 0]
        h01 += hess[0, 1]
        h11 += hess[1, 1]
    return f, g0, g1, h00, h01, h11


@nb.njit(**KERNEL)
def _scratch(K):
    P = K + 2
    return (np.empty(P), np.empty((P, P)), np.empty((8, K)), np.empty(P), np.empty(P))


@nb.njit(**KERNEL)
def _free(x, g, lo, hi):
    """The coordinate is not held by a bound that the gradient pushes against."""
    return not ((x <= lo and g > 0.0) or (x >= hi and g < 0.0))


@nb.njit(**KERNEL)
def _block_newton(fam, t0, t1, lo, hi, a0, a1, counts, cell_tset, cell_lset, tau, lam, lapse, K,
                  log_tref, maxit, scr):
    """Projected trust-region Newton on one stimulus' θ in the box [lo, hi]² (coordinates on
    a bound with the gradient pointing out are held). Converged: gradient below
    1e-10·(1 + NLL), Newton decrement below BLOCK_TOL·(1 + NLL), or ten iterations gaining less
    than 1e-14·(1 + NLL) (the approach to a limit). Returns (θ_0, θ_1, NLL, converged,
    iterations)."""
    f, g0, g1, h00, h01, h11 = _stim_eval(fam, t0, t1, a0, a1, counts, cell_tset, cell_lset, tau,
                                          lam, lapse, K, log_tref, scr)
    if f == _INF:
        return t0, t1, _INF, False, 0
    f_back = f
    for it in range(maxit):
        if it % 10 == 0:
            if it > 0 and f_back - f <= 1e-14 * (1.0 + f):
                return t0, t1, f, True, it
            f_back = f
        f0 = _free(t0, g0, lo[0], hi[0])
        f1 = _free(t1, g1, lo[1], hi[1])
        if (not f0 or abs(g0) <= 1e-10 * (1.0 + f)) and (not f1 or abs(g1) <= 1e-10 * (1.0 + f)):
            return t0, t1, f, True, it
        d0, d1, newton = _trust_step(g0, g1, h00, h01, h11, 1.0, 1.0, f0, f1, BLOCK_RADIUS)
        dec = -(g0 * d0 + g1 * d1)
        if (newton and dec <= BLOCK_TOL * (1.0 + f)) or not dec > 0.0:
            return t0, t1, f, newton, it
        t = 1.0
        accepted = False
        for _ in range(60):
            n0 = min(max(t0 + t * d0, lo[0]), hi[0])
            n1 = min(max(t1 + t * d1, lo[1]), hi[1])
            nf, ng0, ng1, nh00, nh01, nh11 = _stim_eval(fam, n0, n1, a0, a1, counts, cell_tset,
                                                        cell_lset, tau, lam, lapse, K, log_tref,
                                                        scr)
            slope = g0 * (n0 - t0) + g1 * (n1 - t1)
            if nf <= f + 1e-4 * slope or (nf <= f and -slope <= 1e-15 * (1.0 + f)):
                accepted = True
                break
            t *= 0.5 if nf < _INF else 0.1
        if not accepted:
            return t0, t1, f, dec <= 1e-9 * (1.0 + f), it
        t0, t1, f, g0, g1, h00, h01, h11 = n0, n1, nf, ng0, ng1, nh00, nh01, nh11
    return t0, t1, f, False, maxit


@nb.njit(**KERNEL)
def member(fam, m, q, spread, log_tref, lo, hi):
    """θ of a member with F(m) ≈ q and spread about ``spread`` around m ∈ (0, 1), clipped to
    the box (beta: mean m, sd ≈ spread; Kumaraswamy: F(m) = q exactly, sd of X ≈ spread)."""
    if fam == BETA:
        nu = max(m * (1.0 - m) / (spread * spread) - 1.0, 1e-3)
        t0 = math.log(m * nu)
        t1 = math.log((1.0 - m) * nu)
    else:
        t0 = min(max(math.log(1.28 * m / spread), lo[0]), hi[0])
        t1 = math.log(-math.log1p(-q)) - kumaraswamy_h(t0, math.log(m))[0] + kumaraswamy_h(
            t0, log_tref)[0]
    if fam == BETA and (t0 > hi[0] or t1 > hi[1]):  # keep the mean: the larger one at its bound
        shift = max(t0 - hi[0], t1 - hi[1])
        t0 -= shift
        t1 -= shift
    return min(max(t0, lo[0]), hi[0]), min(max(t1, lo[1]), hi[1])


@nb.njit(**KERNEL)
def _limit_start(t0, t1, lo, hi, fam, a0, a1, counts, cell_tset, cell_lset, tau, lam, lapse, K,
                 log_tref, scr):
    """The start of a block: θ as given or, for ratings in one category or two adjacent ones
    (cells sharing their thresholds), the concentrated member at the box bound (mean in the
    middle of the category, or at the threshold between the two with F there the share below)
    where its NLL is not higher."""
    first = K
    last = -1
    for c in range(a0, a1):
        if cell_tset[c] != cell_tset[a0]:
            return t0, t1
        for k in range(K):
            if counts[c, k] > 0.0:
                first = min(first, k)
                last = max(last, k)
    if last - first > 1:
        return t0, t1
    tr = tau[cell_tset[a0]]
    tiny = 1e-12
    if first == last:
        low = tr[first - 1] if first > 0 else 0.0
        up = tr[first] if first < K - 1 else 1.0
        m = 0.5 * (low + up)
        q = 0.5
    else:
        below = 0.0
        total = 0.0
        for c in range(a0, a1):
            below += counts[c, first]
            total += counts[c, first] + counts[c, last]
        m = tr[first]
        q = below / total
    s0, s1 = member(fam, m, q, tiny, log_tref, lo, hi)
    f = _stim_eval(fam, t0, t1, a0, a1, counts, cell_tset, cell_lset, tau, lam, lapse, K,
                   log_tref, scr)[0]
    fl = _stim_eval(fam, s0, s1, a0, a1, counts, cell_tset, cell_lset, tau, lam, lapse, K,
                    log_tref, scr)[0]
    if fl <= f or not f < _INF:
        return s0, s1
    return t0, t1


@nb.njit(cache=True, parallel=True, error_model="numpy", no_cfunc_wrapper=True)
def solve_blocks(fam, theta, active, ptr, counts, cell_tset, cell_lset, tau, lam, lapse, lo, hi,
                 K, log_tref, maxit, restart, alt):
    """Every active stimulus' block solved at fixed shared parameters, from ``theta`` (n, 2),
    as :func:`.joint.solve_blocks`: blocks with ``restart[j]`` are also started from ``alt[j]``,
    from members concentrated on every rated category and split at every threshold between two
    rated categories (screened by what the lapse could lose near them), the best kept.
    Returns (theta, nll, converged, iterations, gap)."""
    n = theta.shape[0]
    out = theta.copy()
    nll = np.zeros(n)
    conv = np.ones(n, dtype=np.bool_)
    iters = np.zeros(n, dtype=np.int64)
    gap = np.full(n, _INF)
    for j in nb.prange(n):
        if not active[j]:
            continue
        scr = _scratch(K)
        a0 = ptr[j]
        a1 = ptr[j + 1]
        s0, s1 = _limit_start(theta[j, 0], theta[j, 1], lo, hi, fam, a0, a1, counts, cell_tset,
                              cell_lset, tau, lam, lapse, K, log_tref, scr)
        bm, bl, bf, bc, bi = _block_newton(fam, s0, s1, lo, hi, a0, a1, counts, cell_tset,
                                           cell_lset, tau, lam, lapse, K, log_tref, maxit, scr)
        if restart[j]:
            near = _INF
            pooled = np.zeros(K)
            for c in range(a0, a1):
                for k in range(K):
                    pooled[k] += counts[c, k]
            tr = tau[cell_tset[a0]]
            lam_min = 1.0
            for c in range(a0, a1):
                lam_min = min(lam_min, lam[cell_lset[c]] if lapse else 0.0)
            stray = -math.log(lam_min / K) if lam_min > 0.0 else _INF
            for r in range(2 * K):
                first = 0
                last = 0
                if r == 0:
                    s0, s1 = alt[j, 0], alt[j, 1]
                elif r <= K:
                    k = r - 1
                    if pooled[k] <= 0.0:
                        continue
                    low = tr[k - 1] if k > 0 else 0.0
                    up = tr[k] if k < K - 1 else 1.0
                    s0, s1 = member(fam, 0.5 * (low + up), 0.5, 0.1 * (up - low), log_tref, lo,
                                    hi)
                    first = k
                    last = k
                else:
                    i = r - K - 1
                    if pooled[i] <= 0.0 or pooled[i + 1] <= 0.0:
                        continue
                    low = tr[i - 1] if i > 0 else 0.0
                    up = tr[i + 1] if i + 1 < K - 1 else 1.0
                    s0, s1 = member(fam, tr[i], 0.5, 0.05 * (up - low), log_tref, lo, hi)
                    first = i
                    last = i + 1
                if r > 0:
                    gain = 0.0
                    if first > 0 and pooled[first - 1] > 0.0:
                        gain += pooled[first - 1] * stray
                    if last < K - 1 and pooled[last + 1] > 0.0:
                        gain += pooled[last + 1] * stray
                    f0 = _stim_eval(fam, s0, s1, a0, a1, counts, cell_tset, cell_lset, tau, lam,
                                    lapse, K, log_tref, scr)[0]
                    if not f0 - gain <= bf + RESTART_SCREEN:
                        continue
                rm, rl, rf, rc, ri = _block_newton(fam, s0, s1, lo, hi, a0, a1, counts,
                                                   cell_tset, cell_lset, tau, lam, lapse, K,
                                                   log_tref, RESTART_MAXIT, scr)
                if rc and rf > bf + 1e-9 * (1.0 + abs(bf)) and rf < near:
                    near = rf
                if rf < bf - 1e-12 * (1.0 + abs(bf)):
                    if not rc:
                        rm, rl, rf, rc, ri = _block_newton(fam, rm, rl, lo, hi, a0, a1, counts,
                                                           cell_tset, cell_lset, tau, lam, lapse,
                                                           K, log_tref, maxit, scr)
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
def assemble(fam, theta, active, ptr, counts, cell_tset, cell_lset, tau, lam, lapse, lo, hi,
             tau_idx, lam_idx, P, K, log_tref):
    """NLL, full gradient and the Schur complement at (θ, shared), reduced over fixed chunks, as
    :func:`.joint.assemble`. Returns (nll (n,), grad (n, 2), free (n, 2) (θ coordinates off
    the box bounds; one on a bound is held), gs (P,), gcorr (P,) = Σ_j H_sj H_jj⁻¹ g_j,
    S (P, P), D (n, 2, P) =
    −H_jj⁻¹ H_js)."""
    n = theta.shape[0]
    nch = (n + CHUNK - 1) // CHUNK
    nll = np.zeros(n)
    gst = np.zeros((n, 2))
    free = np.zeros((n, 2), dtype=np.bool_)
    gs_c = np.zeros((nch, P))
    gc_c = np.zeros((nch, P))
    S_c = np.zeros((nch, P, P))
    D = np.zeros((n, 2, P))
    Kp = K + 2
    for ch in nb.prange(nch):
        grad, hess, work, gp, gm = _scratch(K)
        C = np.zeros((2, P))
        mark = np.zeros(P, dtype=np.bool_)
        touched = np.empty(P, dtype=np.int64)
        loc = np.empty(Kp, dtype=np.int64)
        for j in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
            if not active[j]:
                continue
            t0 = theta[j, 0]
            t1 = theta[j, 1]
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
                f += unit_cell(fam, t0, t1, tau[t], lv, lapse, counts[c], K, log_tref, grad,
                               hess, work, gp, gm)
                loc[0] = -1
                loc[1] = -1
                for i in range(K - 1):
                    loc[2 + i] = tau_idx[t, i]
                loc[K + 1] = lam_idx[cell_lset[c]] if lapse else -1
                g0 += grad[0]
                g1 += grad[1]
                b00 += hess[0, 0]
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
                    C[1, sa] += hess[1, a]
                    if not mark[sa]:
                        mark[sa] = True
                        touched[nt] = sa
                        nt += 1
            nll[j] = f
            gst[j, 0] = g0
            gst[j, 1] = g1
            # a coordinate on its bound is held (not eliminated): at the concentrated end the
            # block is flat along the limit's valley, and its curvature there is rounding
            f0 = lo[0] + BOUND_TOL < t0 < hi[0] - BOUND_TOL
            f1 = lo[1] + BOUND_TOL < t1 < hi[1] - BOUND_TOL
            free[j, 0] = f0
            free[j, 1] = f1
            i00 = 0.0
            i01 = 0.0
            i11 = 0.0
            det = b00 * b11 - b01 * b01
            if f0 and f1 and b00 > 0.0 and b11 > 0.0 and det > 1e-14 * b00 * b11:
                i00 = b11 / det
                i01 = -b01 / det
                i11 = b00 / det
            elif f0 and b00 > 0.0:
                i00 = 1.0 / b00
            elif f1 and b11 > 0.0:
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
    return nll, gst, free, gs, gc, S, D
