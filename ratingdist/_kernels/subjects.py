"""Kernels of the quantized subject model: one cell per rating, the one-rating case of
:func:`joint.cell_nll`.

Rating t of stimulus j by subject i in category k has the probability

    p = (1 − λ)·[F((t_k − m)/s) − F((t_{k−1} − m)/s)] + λ/K,  m = ψ_j + Δ_i,
    s² = σ_j² + υ_i²,

with the reference thresholds t_k = k + ½. :func:`rating_terms` gives the NLL of the rating
with its derivatives in (m, log s, λ); the blocks (ψ_j, ρ_j = log σ_j) and (Δ_i, ν_i = log υ_i)
follow by the chain rule with a = σ²/s², b = υ²/s² = 1 − a:

    ∂ log s/∂ρ = a, ∂ log s/∂ν = b, ∂² log s/∂ρ² = ∂² log s/∂ν² = −∂² log s/∂ρ∂ν = 2ab.

:func:`block_sums` gives every stimulus' (or every subject's) NLL, gradient and Hessian in
its block (and, for the convergence test, the per-rating derivatives that
:func:`gather_sums` sums by the other side); :func:`block_step` takes one projected damped
Newton step on every block at the other blocks fixed. Both run in parallel over blocks, each
block reading only its own ratings through a CSR index and summing in a fixed order, so the
results do not depend on the number of threads. :func:`rating_derivatives` returns the
per-rating NLLs and derivatives from which the caller sums the observed information.

References
----------
McCullagh, "Regression models for ordinal data", JRSS B 42 (1980) 109–142; Janowski & Pinson,
IEEE TMM 17 (2015) 2210–2224 (subject bias, inaccuracy and stimulus ambiguity).
"""

import math

import numba as nb
import numpy as np

from .codes import NORMAL
from .jit import KERNEL
from .joint import _INF, _NEG_INF
from .special import _scaled_arg, log_expit, log_ndtr, logaddexp, logsubexp, norm_logpdf

#: Damped-Newton iterations per block and pass (one: the sweeps are accelerated instead).
BLOCK_ITER = 1
#: Gradient (NLL units) below which a block is left as it is.
BLOCK_GTOL = 1e-11
#: Ratings per work item of the per-rating kernels.
CHUNK = 4096
#: Ratings whose nearer interval end has |z| ≤ LINEAR_MAX_Z are evaluated in linear space
#: (:func:`rating_terms`).
LINEAR_MAX_Z = 10.0
INV_SQRT_2PI = 0.3989422804014327
#: Largest step of a block coordinate (scale units for locations, e-folds for log scales).
STEP_MAX = 1.0


@nb.njit(**KERNEL)
def _log_cdf(fam, z):
    """log F(z) of the standard latent (−inf at z = −inf, 0 at +inf)."""
    if fam == NORMAL:
        return log_ndtr(z)
    return log_expit(z)


@nb.njit(**KERNEL)
def _log_density(fam, z):
    """(log f(z), ψ = f′/f) of the standard latent at a finite z."""
    if fam == NORMAL:
        return norm_logpdf(z), -z
    lf = log_expit(z)
    ls = log_expit(-z)
    return lf + ls, math.exp(ls) - math.exp(lf)


@nb.njit(**KERNEL)
def _tail(fam, z):
    """F(z) of the standard latent for z ≤ 0 (the lower tail, to a few ulp; 0 at −inf)."""
    if z == _NEG_INF:
        return 0.0
    if fam == NORMAL:
        t, tl = _scaled_arg(z)
        return 0.5 * math.erfc(t) * (1.0 - 2.0 * t * tl)
    e = math.exp(z)
    return e / (1.0 + e)


@nb.njit(**KERNEL)
def _density(fam, z):
    """(f(z), ψ = f′/f) of the standard latent at a finite z."""
    if fam == NORMAL:
        return math.exp(-0.5 * z * z) * INV_SQRT_2PI, -z
    e = math.exp(-abs(z))
    c = 1.0 / (1.0 + e)
    # F = c, S = e·c for z ≥ 0 (the reverse below): ψ = S − F
    return e * c * c, (e * c - c) if z >= 0.0 else (c - e * c)


@nb.njit(**KERNEL)
def rating_terms(fam, m, ls, k, tau, lam, lapse, K, out):
    """NLL of one rating in category k (0-based) and into ``out``: g_m, g_ls, H_mm, H_mls,
    H_lsls, g_λ, H_λλ, H_λm, H_λls (the λ entries 0 unless ``lapse``).

    The one-observation case of :func:`joint.cell_nll` in (m, log s, λ): only the two
    thresholds around category k enter. With v = ∇p/p and W = ∇²p/p, ∇(−log p) = −v and
    ∇²(−log p) = −(W − v vᵀ); the derivatives of F at a threshold are those of the module
    :mod:`joint`.

    The interval probability D = F(z_up) − F(z_lo) is taken from the side of its smaller
    tail (F symmetric: with z_up + z_lo > 0 as S(z_lo) − S(z_up)), so that both ends are
    lower-tail values F(b) ≤ F(a), b ≤ a, b ≤ 0. Where |a| ≤ LINEAR_MAX_Z and the two tails do
    not cancel (D ≥ F(a)/16) it is formed in linear space, D = F(a) − F(b) or, for a > 0,
    D = 1 − F(b) − F(−a) with log p = log1p(−(1 − p)) when 1 − p < ½, so that log p keeps
    its relative accuracy for p near 1; elsewhere (far tails, cancellation) in log space
    (log Φ of :func:`~ratingdist._kernels.special.log_ndtr`, logsubexp). Both agree with
    :func:`joint.cell_nll` to ~1e-15 relative.
    """
    return _terms(fam, m, math.exp(ls), k, tau, lam, lapse, K, out)


@nb.njit(**KERNEL)
def _terms(fam, m, sig, k, tau, lam, lapse, K, out):
    """:func:`rating_terms` at the scale s = ``sig`` itself."""
    z_up = (tau[k] - m) / sig if k < K - 1 else _INF
    z_lo = (tau[k - 1] - m) / sig if k > 0 else _NEG_INF
    if z_up + z_lo <= 0.0:
        a_end, b_end = z_up, z_lo
    else:
        a_end, b_end = -z_lo, -z_up
    lin = False
    D = 0.0
    lD = 0.0
    lp = 0.0
    p = 0.0
    if abs(a_end) <= LINEAR_MAX_Z:
        fb = _tail(fam, b_end)
        if a_end <= 0.0:
            fa = _tail(fam, a_end)
            D = fa - fb
            lin = D >= 0.0625 * fa
            comp = 1.0 - D
        else:
            comp = fb + _tail(fam, -a_end)
            D = 1.0 - comp
            lin = True
        if lin:
            if lapse:
                p = (1.0 - lam) * D + lam / K
                comp = (1.0 - lam) * comp + lam * (K - 1.0) / K
            else:
                p = D
            lp = math.log1p(-comp) if comp < 0.5 else math.log(p)
    log1ml = math.log1p(-lam)
    if not lin:
        lD = logsubexp(_log_cdf(fam, a_end), _log_cdf(fam, b_end))
        if lapse:
            loglk = math.log(lam / K) if lam > 0.0 else _NEG_INF
            lp = logaddexp(log1ml + lD, loglk)
        else:
            lp = lD
    for c in range(9):
        out[c] = 0.0
    if not lp > _NEG_INF:
        return _INF
    inv_p = (1.0 - lam) / p if lin else 0.0
    v0 = 0.0
    v1 = 0.0
    w00 = 0.0
    w01 = 0.0
    w11 = 0.0
    for side in range(2):
        if side == 0:
            if k >= K - 1:
                continue
            z = z_up
        else:
            if k <= 0:
                continue
            z = z_lo
        if lin:
            fz, psi = _density(fam, z)
            e = fz * inv_p
        else:
            ld, psi = _log_density(fam, z)
            e = math.exp(log1ml + ld - lp)
        if side == 1:
            e = -e
        if e == 0.0:
            continue
        v0 -= e / sig
        v1 -= z * e
        w00 += e * psi / (sig * sig)
        w01 += e * (1.0 + z * psi) / sig
        w11 += z * e * (1.0 + z * psi)
    out[0] = -v0
    out[1] = -v1
    out[2] = v0 * v0 - w00
    out[3] = v0 * v1 - w01
    out[4] = v1 * v1 - w11
    if lapse:
        if lin:
            vl = (1.0 / K - D) / p
        else:
            vl = math.exp(-math.log(K) - lp) - math.exp(lD - lp)
        out[5] = -vl
        out[6] = vl * vl
        out[7] = v0 / (1.0 - lam) + vl * v0
        out[8] = v1 / (1.0 - lam) + vl * v1
    return -lp


@nb.njit(**KERNEL)
def _block_eval(fam, loc, lsc, other_loc, other_var, idx, lo_r, hi_r, peer, rating, tau, lam,
                lapse, K, scale_free, out, st, gm, gl):
    """Sums over one block's ratings at its (location, log scale) = (loc, lsc) into
    ``st``: NLL, g_loc, g_lsc, H_loc,loc, H_loc,lsc, H_lsc,lsc, g_λ, H_λλ (the prior
    excluded). If ``gm`` is not empty, rating t's ∂/∂m and b·∂/∂log s (b = 1 − a, the other
    side's share of the scale) go to gm[t], gl[t]."""
    for c in range(8):
        st[c] = 0.0
    s2o = math.exp(2.0 * lsc)
    write = gm.size > 0
    for r in range(lo_r, hi_r):
        t = idx[r]
        p = peer[t]
        s2 = s2o + other_var[p]
        a = s2o / s2
        st[0] += _terms(fam, loc + other_loc[p], math.sqrt(s2), rating[t] - 1, tau, lam, lapse,
                        K, out)
        st[1] += out[0]
        st[3] += out[2]
        if scale_free:
            st[2] += out[1] * a
            st[4] += out[3] * a
            st[5] += out[4] * a * a + out[1] * 2.0 * a * (1.0 - a)
        if lapse:
            st[6] += out[5]
            st[7] += out[6]
        if write:
            gm[t] = out[0]
            gl[t] = out[1] * (1.0 - a)


@nb.njit(**KERNEL)
def _with_prior(st, lsc, scale_free, kappa, center, g, H):
    """Objective of a block (NLL + κ/2·(lsc − center)²) with its gradient g and Hessian H."""
    g[0] = st[1]
    H[0, 0] = st[3]
    g[1] = 0.0
    H[0, 1] = 0.0
    H[1, 1] = 0.0
    f = st[0]
    if scale_free:
        g[1] = st[2]
        H[0, 1] = st[4]
        H[1, 1] = st[5]
        if kappa > 0.0:
            d = lsc - center
            f += 0.5 * kappa * d * d
            g[1] += kappa * d
            H[1, 1] += kappa
    H[1, 0] = H[0, 1]
    return f


@nb.njit(**KERNEL)
def _block_newton(fam, x, other_loc, other_var, idx, lo_r, hi_r, peer, rating, tau, lam, lapse,
                  K, scale_free, kappa, center, lo, hi, out, st):
    """Projected damped Newton on one block x = (location, log scale) in the box [lo, hi],
    from its sums ``st`` at x (:func:`_block_eval`); ``st`` ends at the accepted point."""
    g = np.zeros(2)
    H = np.zeros((2, 2))
    stt = np.zeros(8)
    empty = np.zeros(0)
    f = _with_prior(st, x[1], scale_free, kappa, center, g, H)
    n = 2 if scale_free else 1
    d = np.zeros(2)
    xt = np.zeros(2)
    for _ in range(BLOCK_ITER):
        # free coordinates: not on a bound with the gradient pushing outwards
        free0 = not ((x[0] <= lo[0] and g[0] > 0) or (x[0] >= hi[0] and g[0] < 0))
        free1 = n == 2 and not ((x[1] <= lo[1] and g[1] > 0) or (x[1] >= hi[1] and g[1] < 0))
        gmax = max(abs(g[0]) if free0 else 0.0, abs(g[1]) if free1 else 0.0)
        if gmax < BLOCK_GTOL:
            break
        d[0] = 0.0
        d[1] = 0.0
        h00 = H[0, 0]
        h11 = H[1, 1]
        h01 = H[0, 1]
        if free0 and free1:
            det = h00 * h11 - h01 * h01
            if h00 > 0 and det > 1e-300 * (1.0 + h00 * h11):
                d[0] = -(h11 * g[0] - h01 * g[1]) / det
                d[1] = -(h00 * g[1] - h01 * g[0]) / det
            else:
                d[0] = -g[0] / (abs(h00) + 1.0)
                d[1] = -g[1] / (abs(h11) + 1.0)
        elif free0:
            d[0] = -g[0] / h00 if h00 > 0 else -g[0] / (abs(h00) + 1.0)
        elif free1:
            d[1] = -g[1] / h11 if h11 > 0 else -g[1] / (abs(h11) + 1.0)
        big = max(abs(d[0]), abs(d[1]))
        if big == 0.0:
            break
        if big > STEP_MAX:
            d[0] *= STEP_MAX / big
            d[1] *= STEP_MAX / big
        step = 1.0
        accepted = False
        ft = f
        for _h in range(40):
            for c in range(2):  # a coordinate outside its box (after a shift) stays there
                xt[c] = x[c] + step * d[c]
                if d[c] < 0.0:
                    xt[c] = max(xt[c], min(lo[c], x[c]))
                elif d[c] > 0.0:
                    xt[c] = min(xt[c], max(hi[c], x[c]))
            _block_eval(fam, xt[0], xt[1], other_loc, other_var, idx, lo_r, hi_r, peer, rating,
                        tau, lam, lapse, K, scale_free, out, stt, empty, empty)
            ft = _with_prior(stt, xt[1], scale_free, kappa, center, g, H)
            if ft <= f:
                accepted = True
                break
            step *= 0.5
        if not accepted:
            break
        moved = abs(xt[0] - x[0]) + abs(xt[1] - x[1])
        x[0] = xt[0]
        x[1] = xt[1]
        decrease = f - ft
        f = ft
        for c in range(8):
            st[c] = stt[c]
        if moved < 1e-15 or decrease <= 1e-16 * (1.0 + abs(f)):
            break
    return f


@nb.njit(cache=True, parallel=True, error_model="numpy", no_cfunc_wrapper=True)
def block_sums(fam, loc, lsc, other_loc, other_var, ptr, idx, peer, rating, tau, lam, lapse, K,
               scale_free, stats, gm, gl):
    """Per-block sums of :func:`_block_eval` into ``stats`` (n_blocks, 8) for the blocks
    (location ``loc``, log scale ``lsc``; a log scale of −inf: no scale of its own) with
    ratings ``idx[ptr[b]:ptr[b+1]]``, ``peer[t]`` the other side's index of rating t and
    ``other_var`` its variances exp(2·log scale); with non-empty ``gm``, ``gl`` also the
    per-rating derivatives that :func:`gather_sums` sums for the other side."""
    for b in nb.prange(ptr.size - 1):
        out = np.zeros(9)
        _block_eval(fam, loc[b], lsc[b], other_loc, other_var, idx, ptr[b], ptr[b + 1], peer,
                    rating, tau, lam, lapse, K, scale_free, out, stats[b], gm, gl)


@nb.njit(cache=True, parallel=True, error_model="numpy", no_cfunc_wrapper=True)
def block_step(fam, loc, lsc, other_loc, other_var, ptr, idx, peer, rating, tau, lam, lapse, K,
               scale_free, kappa, center, lo, hi, stats):
    """One projected damped Newton step (:data:`BLOCK_ITER` iterations, backtracking) on every
    block at the others fixed, in parallel, from ``stats`` at the current point
    (:func:`block_sums`; arguments as there, the prior κ/2·(lsc − center)² and the box
    [lo, hi] added); updates loc/lsc and ``stats`` (to the accepted point) in place."""
    for b in nb.prange(ptr.size - 1):
        if ptr[b + 1] == ptr[b]:
            continue
        out = np.zeros(9)
        x = np.empty(2)
        x[0] = loc[b]
        x[1] = lsc[b]
        _block_newton(fam, x, other_loc, other_var, idx, ptr[b], ptr[b + 1], peer, rating, tau,
                      lam, lapse, K, scale_free, kappa, center, lo, hi, out, stats[b])
        loc[b] = x[0]
        if scale_free:
            lsc[b] = x[1]


@nb.njit(cache=True, parallel=True, error_model="numpy", no_cfunc_wrapper=True)
def gather_sums(ptr, idx, gm, gl, out):
    """out[b] = (Σ gm[t], Σ gl[t]) over the ratings t = idx[ptr[b]:ptr[b+1]] of block b."""
    for b in nb.prange(ptr.size - 1):
        s0 = 0.0
        s1 = 0.0
        for r in range(ptr[b], ptr[b + 1]):
            t = idx[r]
            s0 += gm[t]
            s1 += gl[t]
        out[b, 0] = s0
        out[b, 1] = s1


@nb.njit(cache=True, parallel=True, error_model="numpy", no_cfunc_wrapper=True)
def rating_derivatives(fam, psi, rho, dlt, nu, j, i, rating, tau, lam, lapse, K):
    """Per rating: NLL, a = σ²/s², and the derivatives of :func:`rating_terms` (n, 10)."""
    n = j.size
    res = np.empty((n, 11))
    for chunk in nb.prange((n + CHUNK - 1) // CHUNK):
        out = np.zeros(9)
        for t in range(chunk * CHUNK, min(n, (chunk + 1) * CHUNK)):
            jj = j[t]
            ii = i[t]
            s2o = math.exp(2.0 * rho[jj])
            s2 = s2o + math.exp(2.0 * nu[ii])
            res[t, 0] = rating_terms(fam, psi[jj] + dlt[ii], 0.5 * math.log(s2), rating[t] - 1,
                                     tau, lam, lapse, K, out)
            res[t, 1] = s2o / s2
            for c in range(9):
                res[t, 2 + c] = out[c]
    return res


@nb.njit(cache=True, parallel=True, error_model="numpy", no_cfunc_wrapper=True)
def log_prob(fam, m, s, rating, tau, lam, K):
    """log p of each rating (category ``rating`` 1..K) at location m and scale s."""
    n = m.size
    res = np.empty(n)
    lapse = lam > 0.0
    for chunk in nb.prange((n + CHUNK - 1) // CHUNK):
        out = np.zeros(9)
        for t in range(chunk * CHUNK, min(n, (chunk + 1) * CHUNK)):
            res[t] = -rating_terms(fam, m[t], math.log(s[t]), rating[t] - 1, tau, lam, lapse,
                                   K, out)
    return res
