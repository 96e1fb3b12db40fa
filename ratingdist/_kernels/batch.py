"""Parallel drivers: loops over stimuli around the per-stimulus kernels.

Each stimulus is processed independently with its own scratch arrays, so results do not depend
on the number of threads. The drivers of the fits and pmfs are sequential row kernels
(``_*_rows``) run on blocks of rows by :func:`~ratingdist._kernels.rows.run_rows`, which
compiles in half the time of ``prange`` loops over the same call tree; the Python functions of
the same names without ``_rows`` allocate the outputs and run them.
"""

import math

import numba as nb
import numpy as np
from numba.extending import register_jitable

from .codes import (
    GSD_BETABINOMIAL,
    GSD_MIXTURE,
    LOGISTIC,
    LOGIT_LOGISTIC,
    NORMAL,
)
from .gsd import gsd_logp, shape_at_binomial
from .jit import INNER, KERNEL
from .maxent import DUAL_TOL, maxent_fit_props, maxent_logp, mean_shape
from .moments import moment_start
from .rows import run_rows
from .solver import family_logp, minimize_nll

#: χ²(q, p) per rating above which a converged fit of a non-log-concave family is retried from
#: the other starts.
POOR_FIT_CHI2 = 0.05


def _floats(a):
    """C-contiguous float64 (one compiled signature of each row kernel, whatever the input)."""
    return np.ascontiguousarray(a, dtype=np.float64)


@nb.njit(**KERNEL)
def _logpmf_theta_rows(start, stop, fam, theta, aux, K, out):
    for i in range(start, stop):
        dlogp = np.empty((K, 2))
        family_logp(fam, theta[i, 0], theta[i, 1], aux, K, out[i], dlogp)


def logpmf_theta(fam, theta, aux, K):
    """log-pmf (n, K) of a quantized family at solver coordinates θ (n, 2)."""
    theta = _floats(theta)
    out = np.empty((theta.shape[0], K))
    run_rows(_logpmf_theta_rows, theta.shape[0], int(fam), theta, _floats(aux), int(K), out)
    return out


@nb.njit(**KERNEL)
def _gsd_logpmf_rows(start, stop, params, K, out):
    for i in range(start, stop):
        dlogp = np.empty((K, 2))
        gsd_logp(params[i, 0], params[i, 1], K, out[i], dlogp)


def gsd_logpmf(params, K):
    """log-pmf (n, K) of the GSD at native parameters (ψ, ρ) (n, 2)."""
    params = _floats(params)
    out = np.empty((params.shape[0], K))
    run_rows(_gsd_logpmf_rows, params.shape[0], params, int(K), out)
    return out


@nb.njit(**KERNEL)
def _maxent_logpmf_rows(start, stop, params, K, out, ok):
    for i in range(start, stop):
        ok[i] = maxent_logp(params[i, 0], params[i, 1], K, out[i])


def maxent_logpmf(params, K):
    """log-pmf (n, K) of the maximum-entropy family at (ψ, ρ) (n, 2), and convergence flags."""
    params = _floats(params)
    n = params.shape[0]
    out = np.empty((n, K))
    ok = np.empty(n, dtype=np.bool_)
    run_rows(_maxent_logpmf_rows, n, params, int(K), out, ok)
    return out, ok


@nb.njit(cache=True, error_model="numpy", no_cfunc_wrapper=True)
def moment_starts(fam, psi, var, aux, K):
    """:func:`moments.moment_start` for every stimulus, (n, 2)."""
    out = np.empty((psi.shape[0], 2))
    for i in range(psi.shape[0]):
        out[i, 0], out[i, 1] = moment_start(fam, psi[i], var[i], K, aux)
    return out


@register_jitable(**INNER)
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


@nb.njit(**KERNEL)
def _fit_theta_rows(start, stop, fam, counts, starts, lo, hi, aux, K, maxit, theta, nll, iters,
                    conv, logp_out):
    concave = fam == NORMAL or fam == LOGISTIC or fam == LOGIT_LOGISTIC
    for i in range(start, stop):
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
        family_logp(fam, theta[i, 0], theta[i, 1], aux, K, logp_out[i], dlogp)


def fit_theta(fam, counts, starts, lo, hi, aux, K, maxit):
    """Maximum-likelihood θ per stimulus, best of the given starts (n, S, 2).

    The first start is always solved. The others are tried where that solve did not converge
    or, for the families whose likelihood is not log-concave in a reparametrization (beta,
    Kumaraswamy: local optima are possible), where the fit is poor (χ²(q, p) > POOR_FIT_CHI2
    per rating); the normal, logistic and logit-logistic likelihoods have a single stationary
    point (Pratt 1981), found from any start. Keeps the lowest NLL (a converged one first).

    Returns θ (n, 2), the NLL, iterations, convergence flags and the log-pmf (n, K) at θ (in
    the same kernel: a fit compiles no separate log-pmf driver).
    """
    counts = _floats(counts)
    n = counts.shape[0]
    theta = np.empty((n, 2))
    nll = np.empty(n)
    iters = np.empty(n, dtype=np.int64)
    conv = np.empty(n, dtype=np.bool_)
    logp = np.empty((n, K))
    run_rows(
        _fit_theta_rows, n, int(fam), counts, _floats(starts), _floats(lo), _floats(hi),
        _floats(aux), int(K), int(maxit), theta, nll, iters, conv, logp,
    )
    return theta, nll, iters, conv, logp


@nb.njit(cache=True, error_model="numpy", no_cfunc_wrapper=True)
def sample_mean_shape(counts, K):
    """Sample (ψ, ρ) (n, 2) of each row of counts, from its proportions (see mean_shape)."""
    out = np.empty((counts.shape[0], 2))
    for i in range(counts.shape[0]):
        out[i, 0], out[i, 1] = mean_shape(counts[i] / counts[i].sum(), K)
    return out


@nb.njit(**KERNEL)
def _fit_maxent_rows(start, stop, counts, K, params, logp, conv):
    for i in range(start, stop):
        props = counts[i] / counts[i].sum()
        dec = maxent_fit_props(props, K, logp[i])
        fitted = np.exp(logp[i])
        params[i, 0], params[i, 1] = mean_shape(fitted / fitted.sum(), K)
        conv[i] = dec <= DUAL_TOL


def fit_maxent(counts, K):
    """Maxent maximum likelihood (the moment match) from the proportions of each row.

    Returns native (ψ, ρ) (n, 2), the log-pmf (n, K) and convergence flags.
    """
    counts = _floats(counts)
    n = counts.shape[0]
    params = np.empty((n, 2))
    logp = np.empty((n, K))
    conv = np.empty(n, dtype=np.bool_)
    run_rows(_fit_maxent_rows, n, counts, int(K), params, logp, conv)
    return params, logp, conv


@nb.njit(**KERNEL)
def _fit_gsd_rows(start, stop, counts, K, maxit, params, logp_out, nll, iters, conv):
    for i in range(start, stop):
        logp = np.empty(K)
        dlogp = np.empty((K, 2))
        piece_aux = np.zeros(1)
        best_aux = np.zeros(1)
        total = counts[i].sum()
        props = counts[i] / total
        psi0, rho0 = mean_shape(props, K)
        c0 = shape_at_binomial(psi0, K)
        r_a = min(rho0 / c0, 0.999) if c0 > 0.0 else 0.5
        j_mid = min(max(int(math.floor(psi0)), 1), K - 1)  # noqa: RUF046 (Numba typing)
        r_b = (rho0 - c0) / (1.0 - c0) if c0 < 1.0 else 0.5
        r_b = min(max(r_b, 1e-3), 0.999)
        j_lo = max(j_mid - 1, 1)
        best = np.inf
        total_it = 0
        psi_best = psi0
        rho_best = rho0
        ok_best = False
        code_best = GSD_BETABINOMIAL
        th_best0 = psi0
        th_best1 = r_a
        # piece j_lo − 1 is the beta-binomial one; the piece code is a runtime value, so that
        # the solver is compiled once for all families (a literal code would specialize it)
        for j in range(j_lo - 1, min(j_mid + 1, K - 1) + 1):
            if j < j_lo:
                code = GSD_BETABINOMIAL
                s0, s1, lo0, hi0 = psi0, max(r_a, 1e-3), 1.0, float(K)
            else:
                code = GSD_MIXTURE
                piece_aux[0] = j
                s0, s1, lo0, hi0 = min(max(psi0, j + 1e-3), j + 1.0 - 1e-3), r_b, float(j), j + 1.0
            t0, t1, f, it, ok = minimize_nll(
                code, s0, s1, lo0, hi0, 0.0, 1.0, piece_aux, props, K, maxit, logp, dlogp,
            )
            total_it += it
            if j >= j_lo and (not ok or t1 <= 0.0 or t0 <= j or t0 >= j + 1.0):
                # stopped on the piece's edge (the binomial r = 0 or ψ = j, j + 1), where the
                # mixture likelihood can have a local optimum: also start in the middle
                u0, u1, g, it, ok2 = minimize_nll(
                    code, j + 0.5, 0.5, lo0, hi0, 0.0, 1.0, piece_aux, props, K, maxit,
                    logp, dlogp,
                )
                total_it += it
                if (ok2 and not ok and g <= f + 1e-9 * (1.0 + abs(f))) or g < f:
                    t0, t1, f, ok = u0, u1, g, ok2
            if j < j_lo or f < best:
                best = f
                c = shape_at_binomial(t0, K)
                psi_best = t0
                rho_best = c * t1 if j < j_lo else c + (1.0 - c) * t1
                ok_best = ok
                code_best = code
                best_aux[0] = piece_aux[0]
                th_best0 = t0
                th_best1 = t1
        params[i, 0] = psi_best
        params[i, 1] = rho_best
        nll[i] = best * total
        iters[i] = total_it
        conv[i] = ok_best
        family_logp(code_best, th_best0, th_best1, best_aux, K, logp_out[i], dlogp)


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
    counts = _floats(counts)
    n = counts.shape[0]
    params = np.empty((n, 2))
    logp_out = np.empty((n, K))
    nll = np.empty(n)
    iters = np.empty(n, dtype=np.int64)
    conv = np.empty(n, dtype=np.bool_)
    run_rows(_fit_gsd_rows, n, counts, int(K), int(maxit), params, logp_out, nll, iters, conv)
    return params, logp_out, nll, iters, conv


#: The Numba entry points that a fit runs, by kind of family (their callees are cached with
#: them).
FIT_KERNELS = {
    "quantized": (moment_starts, _fit_theta_rows),
    "maxent": (_fit_maxent_rows, sample_mean_shape),
    "gsd": (_fit_gsd_rows,),
}
