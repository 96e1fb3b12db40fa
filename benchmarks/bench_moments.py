"""Benchmark: (mean, variance) pairs matched per second by ``from_moments`` of every quantized
family, the previous solver against the current one, and the posterior-grid tabulation.

Run by hand (not part of the tests):

    python benchmarks/bench_moments.py [--pairs 200000] [--families normal ...] [--no-old]

Pairs are drawn uniformly over the feasible region (ψ ~ U(1, K), ρ ~ U(0, 1), K = 5). The
current path is ``QuantizedFamily._solve_moments`` (``ratingdist._kernels.moments``: Newton on
log-ratio residuals from a table of solutions; "evals" is its mean number of residual
evaluations per pair) and the public ``from_moments`` around it; the
previous one, kept here only for the comparison, is Newton on the raw moment residuals from the
continuous-latent start with nested bisection where that fails. Every rate is the best of two
warm calls. The posterior grids (78,732 nodes per family) are tabulated cold (no table of
solutions, no stored grid) and warm (table of solutions built, grid recomputed).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

import numba as nb
import numpy as np

import ratingdist as rd
from ratingdist import scale
from ratingdist._kernels.codes import LOGISTIC, LOGIT_LOGISTIC, NORMAL
from ratingdist._kernels.moments import MAXIT, log_odds_target, moment_start, newton, table_start
from ratingdist._kernels.solver import family_logp
from ratingdist.evaluation import posterior
from ratingdist.families import quantized

_INF = np.inf
#: Largest absolute moment residual accepted by the previous solver.
_OLD_MOMENT_TOL = 1e-11


# -- the previous solver, verbatim ------------------------------------------------------------
@nb.njit(cache=False, nogil=True, error_model="numpy")
def _moment_residual(fam, th0, th1, aux, K, psi, var, logp, dlogp):
    """(mean − ψ, variance − v) at θ and its Jacobian."""
    family_logp(fam, th0, th1, aux, K, logp, dlogp)
    m = 0.0
    e2 = 0.0
    dm0 = 0.0
    dm1 = 0.0
    de0 = 0.0
    de1 = 0.0
    for k in range(K):
        if logp[k] > -_INF:
            x = k + 1.0
            p = math.exp(logp[k])
            m += x * p
            e2 += x * x * p
            dm0 += x * p * dlogp[k, 0]
            dm1 += x * p * dlogp[k, 1]
            de0 += x * x * p * dlogp[k, 0]
            de1 += x * x * p * dlogp[k, 1]
    v = e2 - m * m
    return m - psi, v - var, dm0, dm1, de0 - 2.0 * m * dm0, de1 - 2.0 * m * dm1


@nb.njit(cache=False, nogil=True, error_model="numpy")
def match_moments(fam, th0, th1, aux, K, psi, var, maxit, logp, dlogp):
    """Newton's method with backtracking for θ whose pmf has mean ψ and variance v.

    Returns (th0, th1, converged).
    """
    r0, r1, j00, j01, j10, j11 = _moment_residual(fam, th0, th1, aux, K, psi, var, logp, dlogp)
    norm = r0 * r0 + r1 * r1
    for _ in range(maxit):
        if abs(r0) < _OLD_MOMENT_TOL and abs(r1) < _OLD_MOMENT_TOL:
            return th0, th1, True
        det = j00 * j11 - j01 * j10
        if det == 0.0 or not math.isfinite(det):
            return th0, th1, False
        d0 = -(j11 * r0 - j01 * r1) / det
        d1 = -(j00 * r1 - j10 * r0) / det
        # at most a factor e² in a scale and two scale units in a location per step
        unit0 = math.exp(th1) if fam in (NORMAL, LOGISTIC, LOGIT_LOGISTIC) else 1.0
        big = max(abs(d0) / unit0, abs(d1))
        if big > 2.0:
            d0 *= 2.0 / big
            d1 *= 2.0 / big
        t = 1.0
        accepted = False
        for _ls in range(50):
            n0 = th0 + t * d0
            n1 = th1 + t * d1
            s0, s1, k00, k01, k10, k11 = _moment_residual(
                fam, n0, n1, aux, K, psi, var, logp, dlogp
            )
            nnorm = s0 * s0 + s1 * s1
            if nnorm < norm * (1.0 - 1e-4 * t) or nnorm == 0.0:  # False for NaN
                accepted = True
                break
            t *= 0.5
        if not accepted:
            return th0, th1, abs(r0) < 1e-9 and abs(r1) < 1e-9
        th0, th1 = n0, n1
        r0, r1, j00, j01, j10, j11 = s0, s1, k00, k01, k10, k11
        norm = nnorm
    return th0, th1, abs(r0) < _OLD_MOMENT_TOL and abs(r1) < _OLD_MOMENT_TOL


@nb.njit(cache=False, nogil=True, error_model="numpy")
def _mean_var(fam, th0, th1, aux, K, logp, dlogp):
    family_logp(fam, th0, th1, aux, K, logp, dlogp)
    m = 0.0
    e2 = 0.0
    for k in range(K):
        if logp[k] > -_INF:
            p = math.exp(logp[k])
            m += (k + 1.0) * p
            e2 += (k + 1.0) * (k + 1.0) * p
    return m, e2 - m * m


@nb.njit(cache=False, nogil=True, error_model="numpy")
def _match_mean(fam, location_first, outer, lo, hi, aux, K, psi, logp, dlogp):
    """Bisect the location-like coordinate for mean ψ at a fixed outer coordinate.

    The mean increases with the location θ0 of location-scale families and decreases with
    θ1 (b) of the beta and Kumaraswamy families. Returns (coordinate, variance there).
    """
    mid = 0.5 * (lo + hi)
    v = 0.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if location_first:
            m, v = _mean_var(fam, mid, outer, aux, K, logp, dlogp)
        else:
            m, v = _mean_var(fam, outer, mid, aux, K, logp, dlogp)
        if (m < psi) == location_first:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 4e-16 * max(1.0, abs(mid)):
            break
    return mid, v


@nb.njit(cache=False, nogil=True, error_model="numpy")
def match_moments_nested(fam, aux, K, psi, var, logp, dlogp):
    """Safeguarded fallback of :func:`match_moments`: nested bisections on monotone maps.

    Location-scale families (normal, logistic, logit-logistic): the inner bisection finds the
    location with mean ψ at a fixed log-scale, the outer one the log-scale with variance v (the
    variance grows with the scale). Beta and Kumaraswamy: the inner bisection is on the second
    coordinate (b), the outer on log a (the variance falls as a grows). Returns (th0, th1).
    """
    location_first = fam in (NORMAL, LOGISTIC, LOGIT_LOGISTIC)
    lo = -45.0
    hi = 45.0
    inner = 0.0
    outer = 0.0
    for _ in range(200):
        outer = 0.5 * (lo + hi)
        if location_first:
            scale = math.exp(outer)
            inner, v = _match_mean(
                fam, True, outer, aux[0] - 60.0 * scale, aux[K - 2] + 60.0 * scale,
                aux, K, psi, logp, dlogp,
            )
            grows = v < var
        else:
            width = 80.0 + 40.0 * math.exp(outer)  # b-like coordinates scale with a
            inner, v = _match_mean(fam, False, outer, -width, width, aux, K, psi, logp, dlogp)
            grows = v > var
        if grows:
            lo = outer
        else:
            hi = outer
        if hi - lo <= 1e-15 * max(1.0, abs(outer)):
            break
    if location_first:
        return inner, outer
    return outer, inner


@nb.njit(cache=False, parallel=True, error_model="numpy")
def old_from_moments_theta(fam, psi, var, aux, K, maxit):
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




# -- timing ------------------------------------------------------------------------------------
@nb.njit(parallel=True, error_model="numpy")
def evaluations(fam, psi, var, g, K, table, per_unit, tau_lo, tau_step):
    """Mean number of residual evaluations of the first Newton solve from the table start."""
    out = np.empty(psi.shape[0])
    for i in nb.prange(psi.shape[0]):
        wa = np.empty(4)
        wb = np.empty(4)
        tau = log_odds_target(psi[i], var[i], K)
        t0, t1, jac, _, _ = table_start(table, per_unit, tau_lo, tau_step, psi[i], tau, wa, wb)
        out[i] = newton(fam, t0, t1, g, K, psi[i], tau, MAXIT, jac)[3]
    return out.mean()


def best_of(fn, *args, repeat: int = 2) -> tuple[float, object]:
    """Shortest wall time of ``repeat`` calls fn(*args), and the last result."""
    best, out = math.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=float, default=2e5)
    ap.add_argument("--families", nargs="+",
                    default=["normal", "logistic", "beta", "kumaraswamy", "logit-logistic"])
    ap.add_argument("--no-old", action="store_true", help="skip the previous solver")
    args = ap.parse_args()
    K, n = 5, int(args.pairs)
    rng = np.random.default_rng(0)
    psi = rng.uniform(1.0, K, n)
    var = scale.var_from_rho(psi, rng.uniform(0.0, 1.0, n), K)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}, Python {platform.python_version()}, "
          f"numba threads {nb.get_num_threads()}")
    print(f"{n} (mean, variance) pairs, uniform over the feasible region, K = {K}")
    print(f"{'family':<15}{'evals':>6}{'new pairs/s':>13}{'from_moments/s':>16}"
          f"{'old pairs/s':>13}{'speed-up':>10}{'old unmatched':>15}{'new unmatched':>15}")
    for name in args.families:
        fam = rd.family(name)
        code, aux = fam.solver_code(), fam._aux(K)
        fam._solve_moments(psi[:10], var[:10], K)  # compile, build the table of solutions
        t_new, (_, ok_new) = best_of(fam._solve_moments, psi, var, K)
        t_pub, _ = best_of(fam.from_moments, psi, var, K)
        table, _ = fam._moment_table(K)
        evals = evaluations(code, psi, var, aux, K, table, quantized._PER_UNIT,
                            quantized._TAU_LO, quantized._TAU_STEP)
        row = f"{name:<15}{evals:>6.2f}{n / t_new:>13.3g}{n / t_pub:>16.3g}"
        if args.no_old:
            print(row + f"{'':>13}{'':>10}{'':>15}{int((~ok_new).sum()):>15}")
            continue
        old_from_moments_theta(code, psi[:10], var[:10], aux, K, 200)
        t_old, (_, ok_old) = best_of(old_from_moments_theta, code, psi, var, aux, K, 200)
        print(row + f"{n / t_old:>13.3g}{t_old / t_new:>10.1f}{int((~ok_old).sum()):>15}"
              f"{int((~ok_new).sum()):>15}")

    print("\nposterior grid (78,732 nodes), seconds to tabulate one family:")
    print(f"{'family':<15}{'cold':>8}{'warm':>8}{'old':>8}")
    grid_psi, grid_rho = posterior.grid_nodes(K)
    grid_var = scale.var_from_rho(grid_psi, grid_rho, K).ravel()
    for name in args.families:
        fam = rd.family(name)
        quantized._MOMENT_TABLES.clear()
        t = time.perf_counter()
        posterior._grid_logpmf(fam, grid_psi, grid_rho, K)
        cold = time.perf_counter() - t
        warm, _ = best_of(posterior._grid_logpmf, fam, grid_psi, grid_rho, K)
        old = math.nan
        if not args.no_old:
            old, _ = best_of(old_from_moments_theta, fam.solver_code(), grid_psi.ravel(),
                             grid_var, fam._aux(K), K, 200, repeat=1)
        print(f"{name:<15}{cold:>8.3f}{warm:>8.3f}{old:>8.2f}")


if __name__ == "__main__":
    main()
