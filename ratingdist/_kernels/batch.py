"""Parallel drivers: loops over stimuli (``prange``) around the per-stimulus kernels.

Each stimulus is processed independently with its own scratch arrays, so results do not depend
on the number of threads.
"""

import math

import numba as nb
import numpy as np

from .codes import (
    BETA,
    GSD_BETABINOMIAL,
    GSD_MIXTURE,
    KUMARASWAMY,
    KUMARASWAMY_CENTRED,
    LOGISTIC,
    LOGIT_LOGISTIC,
    NORMAL,
)
from .gsd import gsd_logp, shape_at_binomial
from .maxent import DUAL_TOL, maxent_fit_props, maxent_logp, mean_shape
from .quantized import kumaraswamy_h
from .solver import family_logp, match_moments, match_moments_nested, minimize_nll

_SQRT3_OVER_PI = math.sqrt(3.0) / math.pi
_GUMBEL_SD = math.pi / math.sqrt(6.0)
_LOG_LOG_2 = math.log(math.log(2.0))
#: χ²(q, p) per rating above which a converged fit of a non-log-concave family is retried from
#: the other starts.
POOR_FIT_CHI2 = 0.05


@nb.njit(cache=True, parallel=True, error_model="numpy")
def logpmf_theta(fam, theta, aux, K):
    """log-pmf (n, K) of a quantized family at solver coordinates θ (n, 2)."""
    n = theta.shape[0]
    out = np.empty((n, K))
    for i in nb.prange(n):
        dlogp = np.empty((K, 2))
        family_logp(fam, theta[i, 0], theta[i, 1], aux, K, out[i], dlogp)
    return out


@nb.njit(cache=True, parallel=True, error_model="numpy")
def gsd_logpmf(params, K):
    """log-pmf (n, K) of the GSD at native parameters (ψ, ρ) (n, 2)."""
    n = params.shape[0]
    out = np.empty((n, K))
    for i in nb.prange(n):
        dlogp = np.empty((K, 2))
        gsd_logp(params[i, 0], params[i, 1], K, out[i], dlogp)
    return out


@nb.njit(cache=True, parallel=True, error_model="numpy")
def maxent_logpmf(params, K):
    """log-pmf (n, K) of the maximum-entropy family at (ψ, ρ) (n, 2), and convergence flags."""
    n = params.shape[0]
    out = np.empty((n, K))
    ok = np.empty(n, dtype=np.bool_)
    for i in nb.prange(n):
        ok[i] = maxent_logp(params[i, 0], params[i, 1], K, out[i])
    return out, ok


@nb.njit(cache=True, nogil=True, error_model="numpy")
def moment_start(fam, psi, var, K, aux):
    """Starting θ for :func:`match_moments` from the continuous (Sheppard-corrected) latent."""
    latent_var = max(var - 1.0 / 12.0, 0.25 * var, 1e-6)
    if fam == BETA or fam == KUMARASWAMY or fam == KUMARASWAMY_CENTRED or fam == LOGIT_LOGISTIC:
        xm = min(max((psi - 0.5) / K, 1e-3), 1.0 - 1e-3)
        xv = min(latent_var / (K * K), 0.9 * xm * (1.0 - xm))
        if fam == LOGIT_LOGISTIC:
            s = math.sqrt(xv) / (xm * (1.0 - xm)) * _SQRT3_OVER_PI
            return math.log(xm / (1.0 - xm)), math.log(min(max(s, 1e-4), 50.0))
        if fam == KUMARASWAMY_CENTRED:
            # Gumbel-minimum latent in u ≈ a·log x: sd(log x) ≈ (π/√6)/a, median at x_m
            log_a = math.log(max(_GUMBEL_SD * xm / math.sqrt(xv), 1e-3))
            h_m = kumaraswamy_h(log_a, math.log(xm))[0]
            return log_a, _LOG_LOG_2 - h_m + kumaraswamy_h(log_a, aux[K - 1])[0]
        common = xm * (1.0 - xm) / xv - 1.0
        return math.log(xm * common), math.log((1.0 - xm) * common)
    sd = math.sqrt(latent_var)
    if fam == LOGISTIC:
        sd *= _SQRT3_OVER_PI
    return psi, math.log(sd)


@nb.njit(cache=True, error_model="numpy")
def moment_starts(fam, psi, var, aux, K):
    """:func:`moment_start` for every stimulus, (n, 2)."""
    out = np.empty((psi.shape[0], 2))
    for i in range(psi.shape[0]):
        out[i, 0], out[i, 1] = moment_start(fam, psi[i], var[i], K, aux)
    return out


@nb.njit(cache=True, parallel=True, error_model="numpy")
def from_moments_theta(fam, psi, var, aux, K, maxit):
    """θ (n, 2) whose quantized pmf has mean ψ and variance v (interior points only)."""
    n = psi.shape[0]
    theta = np.empty((n, 2))
    ok = np.empty(n, dtype=np.bool_)
    for i in nb.prange(n):
        logp = np.empty(K)
        dlogp = np.empty((K, 2))
        t0, t1 = moment_start(fam, psi[i], var[i], K, aux)
        r0, r1, conv = match_moments(fam, t0, t1, aux, K, psi[i], var[i], maxit, logp, dlogp)
        if not conv:  # safeguarded nested bisection, then a Newton polish
            t0, t1 = match_moments_nested(fam, aux, K, psi[i], var[i], logp, dlogp)
            r0, r1, conv = match_moments(fam, t0, t1, aux, K, psi[i], var[i], maxit, logp, dlogp)
        theta[i, 0] = r0
        theta[i, 1] = r1
        ok[i] = conv
    return theta, ok


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _chi2(fam, th0, th1, aux, c, K, logp, dlogp):
    """χ²(q, p) = Σ_k (q_k − p_k)²/p_k per rating of the fit at θ, q = c/N."""
    family_logp(fam, th0, th1, aux, K, logp, dlogp)
    n = 0.0
    for k in range(K):
        n += c[k]
    out = 0.0
    for k in range(K):
        p = math.exp(logp[k])
        if p > 0.0:
            out += (c[k] / n - p) ** 2 / p
        elif c[k] > 0.0:
            return np.inf
    return out


@nb.njit(cache=True, parallel=True, error_model="numpy")
def fit_theta(fam, counts, starts, lo, hi, aux, K, maxit):
    """Maximum-likelihood θ per stimulus, best of the given starts (n, S, 2).

    The first start is always solved. The others are tried where that solve did not converge
    or, for the families whose likelihood is not log-concave in a reparametrization (beta,
    Kumaraswamy: local optima are possible), where the fit is poor (χ²(q, p) > POOR_FIT_CHI2
    per rating); the normal, logistic and logit-logistic likelihoods have a single stationary
    point (Pratt 1981), found from any start. Keeps the lowest NLL (a converged one first).
    """
    n = counts.shape[0]
    theta = np.empty((n, 2))
    nll = np.empty(n)
    iters = np.empty(n, dtype=np.int64)
    conv = np.empty(n, dtype=np.bool_)
    concave = fam == NORMAL or fam == LOGISTIC or fam == LOGIT_LOGISTIC
    for i in nb.prange(n):
        logp = np.empty(K)
        dlogp = np.empty((K, 2))
        best = np.inf
        theta[i, 0] = starts[i, 0, 0]
        theta[i, 1] = starts[i, 0, 1]
        iters[i] = 0
        conv[i] = False
        total = counts[i].sum()
        for s in range(starts.shape[1]):
            if s > 0 and conv[i] and (
                concave
                or _chi2(fam, theta[i, 0], theta[i, 1], aux, counts[i], K, logp, dlogp)
                <= POOR_FIT_CHI2
            ):
                break
            t0, t1, f, it, ok = minimize_nll(
                fam, starts[i, s, 0], starts[i, s, 1], lo[0], hi[0], lo[1], hi[1],
                aux, counts[i], K, maxit, logp, dlogp,
            )
            iters[i] += it
            # a converged optimum beats an unconverged point unless clearly lower (per rating,
            # so that scaled counts choose the same start)
            f /= total
            margin = 1e-11 * (1.0 + abs(best))
            # (ties within rounding keep the earlier start, whatever the scaling)
            if best == np.inf or (ok and not conv[i] and f < best + margin) or (
                f < best - 1e-14 * abs(best) and (ok or not conv[i])
            ) or (f < best - margin):
                best = f
                theta[i, 0] = t0
                theta[i, 1] = t1
                conv[i] = ok
        nll[i] = best * total
    return theta, nll, iters, conv


@nb.njit(cache=True, error_model="numpy")
def sample_mean_shape(counts, K):
    """Sample (ψ, ρ) (n, 2) of each row of counts, from its proportions (see mean_shape)."""
    out = np.empty((counts.shape[0], 2))
    for i in range(counts.shape[0]):
        out[i, 0], out[i, 1] = mean_shape(counts[i] / counts[i].sum(), K)
    return out


@nb.njit(cache=True, parallel=True, error_model="numpy")
def fit_maxent(counts, K):
    """Maxent maximum likelihood (the moment match) from the proportions of each row.

    Returns native (ψ, ρ) (n, 2), the log-pmf (n, K) and convergence flags.
    """
    n = counts.shape[0]
    params = np.empty((n, 2))
    logp = np.empty((n, K))
    conv = np.empty(n, dtype=np.bool_)
    for i in nb.prange(n):
        props = counts[i] / counts[i].sum()
        dec = maxent_fit_props(props, K, logp[i])
        fitted = np.exp(logp[i])
        params[i, 0], params[i, 1] = mean_shape(fitted / fitted.sum(), K)
        conv[i] = dec <= DUAL_TOL
    return params, logp, conv


@nb.njit(cache=True, parallel=True, error_model="numpy")
def fit_gsd(counts, K, maxit):
    """GSD maximum likelihood over its smooth pieces near the sample mean.

    Counts enter through their proportions (the solver works per rating), so huge totals
    cannot overflow or stall it and scaled counts give the same fit; the NLL is scaled to N.
    Each mixture piece whose solve stops on the piece's edge is solved again from its middle.
    Tries the beta-binomial piece and the mixture pieces ψ ∈ [j, j + 1] for j within one of
    ⌊ψ₀⌋ (ψ₀, ρ₀ the sample moments); returns native (ψ, ρ), the log-pmf (n, K) at the
    solver coordinates of the best piece (native ρ cannot hold an r within 1e-16 of 1), the NLL,
    iterations and convergence flags.
    """
    n = counts.shape[0]
    params = np.empty((n, 2))
    nll = np.empty(n)
    iters = np.empty(n, dtype=np.int64)
    conv = np.empty(n, dtype=np.bool_)
    logp_out = np.empty((n, K))
    aux = np.zeros(1)
    for i in nb.prange(n):
        logp = np.empty(K)
        dlogp = np.empty((K, 2))
        piece_aux = np.zeros(1)
        best_aux = np.zeros(1)
        total = counts[i].sum()
        props = counts[i] / total
        psi0, rho0 = mean_shape(props, K)
        c0 = shape_at_binomial(psi0, K)
        r_a = min(rho0 / c0, 0.999) if c0 > 0.0 else 0.5
        t0, t1, best, it, ok = minimize_nll(
            GSD_BETABINOMIAL, psi0, max(r_a, 1e-3), 1.0, float(K), 0.0, 1.0,
            aux, props, K, maxit, logp, dlogp,
        )
        total_it = it
        psi_best = t0
        rho_best = shape_at_binomial(t0, K) * t1
        ok_best = ok
        code_best = GSD_BETABINOMIAL
        th_best0 = t0
        th_best1 = t1
        j_mid = min(max(int(math.floor(psi0)), 1), K - 1)  # noqa: RUF046 (Numba typing)
        r_b = (rho0 - c0) / (1.0 - c0) if c0 < 1.0 else 0.5
        r_b = min(max(r_b, 1e-3), 0.999)
        for j in range(max(j_mid - 1, 1), min(j_mid + 1, K - 1) + 1):
            piece_aux[0] = j
            start = min(max(psi0, j + 1e-3), j + 1.0 - 1e-3)
            t0, t1, f, it, ok = minimize_nll(
                GSD_MIXTURE, start, r_b, float(j), j + 1.0, 0.0, 1.0,
                piece_aux, props, K, maxit, logp, dlogp,
            )
            total_it += it
            if not ok or t1 <= 0.0 or t0 <= j or t0 >= j + 1.0:
                # stopped on the piece's edge (the binomial r = 0 or ψ = j, j + 1), where the
                # mixture likelihood can have a local optimum: also start in the middle
                u0, u1, g, it, ok2 = minimize_nll(
                    GSD_MIXTURE, j + 0.5, 0.5, float(j), j + 1.0, 0.0, 1.0,
                    piece_aux, props, K, maxit, logp, dlogp,
                )
                total_it += it
                if (ok2 and not ok and g <= f + 1e-9 * (1.0 + abs(f))) or g < f:
                    t0, t1, f, ok = u0, u1, g, ok2
            if f < best:
                best = f
                c = shape_at_binomial(t0, K)
                psi_best = t0
                rho_best = c + (1.0 - c) * t1
                ok_best = ok
                code_best = GSD_MIXTURE
                best_aux[0] = j
                th_best0 = t0
                th_best1 = t1
        params[i, 0] = psi_best
        params[i, 1] = rho_best
        nll[i] = best * total
        iters[i] = total_it
        conv[i] = ok_best
        family_logp(code_best, th_best0, th_best1, best_aux, K, logp_out[i], dlogp)
    return params, logp_out, nll, iters, conv
