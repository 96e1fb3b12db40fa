"""Kernels of the quantized subject model: one cell per rating, the one-rating case of
:func:`joint.cell_nll`.

Rating t of stimulus j by subject i in category k has the probability

    p = (1 − λ)·[F((t_k − m)/s) − F((t_{k−1} − m)/s)] + λ/K,  m = ψ_j + Δ_i,
    s² = σ_j² + υ_i²,

with the reference thresholds t_k = k + ½. :func:`rating_terms` gives the NLL of the rating
with its derivatives in (m, log s, λ); the blocks (ψ_j, ρ_j = log σ_j) and (Δ_i, ν_i = log υ_i)
follow by the chain rule with a = σ²/s², b = υ²/s² = 1 − a:

    ∂ log s/∂ρ = a, ∂ log s/∂ν = b, ∂² log s/∂ρ² = ∂² log s/∂ν² = −∂² log s/∂ρ∂ν = 2ab.

:func:`block_pass` minimizes every stimulus' (or every subject's) block at the other blocks
fixed (projected damped Newton, in parallel over blocks; each block reads only its own
ratings through a CSR index, so the result does not depend on the number of threads).
:func:`rating_derivatives` returns the per-rating NLLs and derivatives from which the caller
sums gradients and the observed information in a fixed order.

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
from .special import log_expit, log_ndtr, logaddexp, logsubexp, norm_logpdf

#: Damped-Newton iterations per block and pass (one: the sweeps are accelerated instead).
BLOCK_ITER = 1
#: Gradient (NLL units) below which a block is left as it is.
BLOCK_GTOL = 1e-11
#: Ratings per work item of the per-rating kernels.
CHUNK = 4096
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
def rating_terms(fam, m, ls, k, tau, lam, lapse, K, out):
    """NLL of one rating in category k (0-based) and into ``out``: g_m, g_ls, H_mm, H_mls,
    H_lsls, g_λ, H_λλ, H_λm, H_λls (the λ entries 0 unless ``lapse``).

    The one-observation case of :func:`joint.cell_nll` in (m, log s, λ): only the two
    thresholds around category k enter. With v = ∇p/p and W = ∇²p/p, ∇(−log p) = −v and
    ∇²(−log p) = −(W − v vᵀ); the derivatives of F at a threshold are those of the module
    :mod:`joint`.
    """
    sig = math.exp(ls)
    z_up = (tau[k] - m) / sig if k < K - 1 else _INF
    z_lo = (tau[k - 1] - m) / sig if k > 0 else _NEG_INF
    # F(z_up) − F(z_lo) from the lower tails, or S(z_lo) − S(z_up) from the upper ones: the
    # smaller of F(z_up) and S(z_lo) (F symmetric: z_up + z_lo ≤ 0), so that nothing cancels
    if z_up + z_lo <= 0.0:
        lD = logsubexp(_log_cdf(fam, z_up), _log_cdf(fam, z_lo))
    else:
        lD = logsubexp(_log_cdf(fam, -z_lo), _log_cdf(fam, -z_up))
    log1ml = math.log1p(-lam)
    if lapse:
        loglk = math.log(lam / K) if lam > 0.0 else _NEG_INF
        lp = logaddexp(log1ml + lD, loglk)
    else:
        lp = lD
    for c in range(9):
        out[c] = 0.0
    if not lp > _NEG_INF:
        return _INF
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
        vl = math.exp(-math.log(K) - lp) - math.exp(lD - lp)
        out[5] = -vl
        out[6] = vl * vl
        out[7] = v0 / (1.0 - lam) + vl * v0
        out[8] = v1 / (1.0 - lam) + vl * v1
    return -lp


@nb.njit(**KERNEL)
def _block_eval(fam, loc, lsc, other_loc, other_lsc, idx, lo_r, hi_r, peer, rating, tau, lam,
                lapse, K, scale_free, kappa, center, out, g, H):
    """NLL of one block's ratings with gradient g and Hessian H in (location, log scale)."""
    f = 0.0
    g[0] = 0.0
    g[1] = 0.0
    H[0, 0] = 0.0
    H[0, 1] = 0.0
    H[1, 1] = 0.0
    s2o = math.exp(2.0 * lsc)
    for r in range(lo_r, hi_r):
        t = idx[r]
        p = peer[t]
        m = loc + other_loc[p]
        s2 = s2o + math.exp(2.0 * other_lsc[p])
        ls = 0.5 * math.log(s2)
        a = s2o / s2
        fr = rating_terms(fam, m, ls, rating[t] - 1, tau, lam, lapse, K, out)
        f += fr
        g[0] += out[0]
        H[0, 0] += out[2]
        if scale_free:
            g[1] += out[1] * a
            H[0, 1] += out[3] * a
            H[1, 1] += out[4] * a * a + out[1] * 2.0 * a * (1.0 - a)
    if scale_free and kappa > 0.0:
        d = lsc - center
        f += 0.5 * kappa * d * d
        g[1] += kappa * d
        H[1, 1] += kappa
    H[1, 0] = H[0, 1]
    return f


@nb.njit(**KERNEL)
def _block_newton(fam, x, other_loc, other_lsc, idx, lo_r, hi_r, peer, rating, tau, lam, lapse,
                  K, scale_free, kappa, center, lo, hi, out):
    """Projected damped Newton on one block x = (location, log scale) in the box [lo, hi]."""
    g = np.zeros(2)
    H = np.zeros((2, 2))
    gt = np.zeros(2)
    Ht = np.zeros((2, 2))
    f = _block_eval(fam, x[0], x[1], other_loc, other_lsc, idx, lo_r, hi_r, peer, rating, tau,
                    lam, lapse, K, scale_free, kappa, center, out, g, H)
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
        for _h in range(40):
            for c in range(2):  # a coordinate outside its box (after a shift) stays there
                xt[c] = x[c] + step * d[c]
                if d[c] < 0.0:
                    xt[c] = max(xt[c], min(lo[c], x[c]))
                elif d[c] > 0.0:
                    xt[c] = min(xt[c], max(hi[c], x[c]))
            ft = _block_eval(fam, xt[0], xt[1], other_loc, other_lsc, idx, lo_r, hi_r, peer,
                             rating, tau, lam, lapse, K, scale_free, kappa, center,
                             out, gt, Ht)
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
        for c in range(2):
            g[c] = gt[c]
            for e in range(2):
                H[c, e] = Ht[c, e]
        if moved < 1e-15 or decrease <= 1e-16 * (1.0 + abs(f)):
            break
    return f


@nb.njit(cache=True, parallel=True, error_model="numpy", no_cfunc_wrapper=True)
def block_pass(fam, loc, lsc, other_loc, other_lsc, ptr, idx, peer, rating, tau, lam, lapse, K,
               scale_free, kappa, center, lo, hi):
    """Minimize every block (location ``loc``, log scale ``lsc``) at the others fixed; blocks
    are stimuli or subjects (a log scale of −inf: no scale of its own), their ratings
    ``idx[ptr[b]:ptr[b+1]]``, the other side's index of rating t ``peer[t]``. Updates loc/lsc
    in place."""
    nb_ = ptr.size - 1
    for b in nb.prange(nb_):
        if ptr[b + 1] == ptr[b]:
            continue
        out = np.zeros(9)
        x = np.empty(2)
        x[0] = loc[b]
        x[1] = lsc[b]
        _block_newton(fam, x, other_loc, other_lsc, idx, ptr[b], ptr[b + 1], peer, rating, tau,
                      lam, lapse, K, scale_free, kappa, center, lo, hi, out)
        loc[b] = x[0]
        if scale_free:
            lsc[b] = x[1]


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
