"""Per-stimulus solvers shared by all families: projected Fisher scoring for the maximum
likelihood, and Newton's method for matching a given mean and variance.

Both work in a family's solver coordinates θ (see ``quantized`` and ``gsd``) through
:func:`family_logp`, which returns log p_k and ∂ log p_k/∂θ. The Fisher information
I(θ) = N Σ_k p_k ∇log p_k ∇log p_kᵀ is positive semi-definite, so every scoring step is a descent
direction for the negative log-likelihood; box constraints (the reference study's bounds, the GSD
pieces) are handled by fixing the coordinates whose bound is active (Bertsekas' projected Newton)
and an Armijo line search along the projected path.
"""

import math

import numba as nb
import numpy as np

from .codes import GSD_BETABINOMIAL, GSD_MIXTURE, LOGISTIC, LOGIT_LOGISTIC, NORMAL
from .gsd import betabinomial_logp, mixture_logp
from .quantized import quantized_logp

_INF = np.inf
#: Newton decrement −gᵀd (in NLL units) below which a fit counts as converged.
DECREMENT_TOL = 1e-10
#: Largest absolute moment residual accepted by :func:`match_moments`.
MOMENT_TOL = 1e-11


@nb.njit(cache=True, nogil=True, error_model="numpy")
def family_logp(fam, th0, th1, aux, K, logp, dlogp):
    """log p_k (K,) and ∂ log p_k/∂θ (K, 2) of family ``fam`` at θ = (th0, th1)."""
    if fam == GSD_BETABINOMIAL:
        betabinomial_logp(th0, th1, K, logp, dlogp)
    elif fam == GSD_MIXTURE:
        mixture_logp(th0, th1, int(aux[0]), K, logp, dlogp)
    else:
        quantized_logp(fam, th0, th1, aux, K, logp, dlogp)


@nb.njit(cache=True, nogil=True, error_model="numpy")
def nll_terms(fam, th0, th1, aux, c, K, logp, dlogp):
    """NLL = −Σ c_k log p_k, its gradient and the Fisher information at θ."""
    family_logp(fam, th0, th1, aux, K, logp, dlogp)
    n = 0.0
    f = 0.0
    g0 = 0.0
    g1 = 0.0
    for k in range(K):
        if c[k] > 0.0:
            n += c[k]
            if logp[k] == -_INF:
                return _INF, 0.0, 0.0, 0.0, 0.0, 0.0
            f -= c[k] * logp[k]
            g0 -= c[k] * dlogp[k, 0]
            g1 -= c[k] * dlogp[k, 1]
    h00 = 0.0
    h01 = 0.0
    h11 = 0.0
    for k in range(K):
        if logp[k] > -_INF:
            p = math.exp(logp[k])
            h00 += p * dlogp[k, 0] * dlogp[k, 0]
            h01 += p * dlogp[k, 0] * dlogp[k, 1]
            h11 += p * dlogp[k, 1] * dlogp[k, 1]
    return f, g0, g1, n * h00, n * h01, n * h11


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _clip(x, lo, hi):
    return min(max(x, lo), hi)


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _direction(g0, g1, h00, h01, h11, free0, free1):
    """Scoring direction on the free coordinates, with Levenberg damping when ill-conditioned."""
    if free0 and free1:
        damp = 1e-12 * (h00 + h11) + 1e-300
        for _ in range(40):
            a = h00 + damp
            d = h11 + damp
            det = a * d - h01 * h01
            if det > 1e-14 * a * d:
                return -(d * g0 - h01 * g1) / det, -(a * g1 - h01 * g0) / det
            damp = max(damp * 100.0, 1e-12)
        return -g0, -g1
    if free0:
        return (-g0 / h00 if h00 > 0.0 else -g0), 0.0
    if free1:
        return 0.0, (-g1 / h11 if h11 > 0.0 else -g1)
    return 0.0, 0.0


@nb.njit(cache=True, nogil=True, error_model="numpy")
def minimize_nll(fam, th0, th1, lo0, hi0, lo1, hi1, aux, c, K, maxit, logp, dlogp):
    """Projected Fisher scoring from θ = (th0, th1) inside the box [lo, hi].

    Returns (th0, th1, nll, iterations, converged).
    """
    th0 = _clip(th0, lo0, hi0)
    th1 = _clip(th1, lo1, hi1)
    f, g0, g1, h00, h01, h11 = nll_terms(fam, th0, th1, aux, c, K, logp, dlogp)
    if f == _INF:
        return th0, th1, f, 0, False
    for it in range(maxit):
        free0 = not ((th0 <= lo0 and g0 > 0.0) or (th0 >= hi0 and g0 < 0.0))
        free1 = not ((th1 <= lo1 and g1 > 0.0) or (th1 >= hi1 and g1 < 0.0))
        d0, d1 = _direction(g0, g1, h00, h01, h11, free0, free1)
        decrement = -(g0 * d0 + g1 * d1)
        if decrement < DECREMENT_TOL:
            return th0, th1, f, it, True
        t = 1.0
        accepted = False
        for _ls in range(60):
            n0 = _clip(th0 + t * d0, lo0, hi0)
            n1 = _clip(th1 + t * d1, lo1, hi1)
            nf, ng0, ng1, nh00, nh01, nh11 = nll_terms(fam, n0, n1, aux, c, K, logp, dlogp)
            if nf <= f + 1e-4 * (g0 * (n0 - th0) + g1 * (n1 - th1)):
                accepted = True
                break
            t *= 0.5
        if not accepted:  # no decrease left at double precision
            return th0, th1, f, it, decrement < 1e-6
        th0, th1 = n0, n1
        f, g0, g1, h00, h01, h11 = nf, ng0, ng1, nh00, nh01, nh11
    return th0, th1, f, maxit, False


@nb.njit(cache=True, nogil=True, error_model="numpy")
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


@nb.njit(cache=True, nogil=True, error_model="numpy")
def match_moments(fam, th0, th1, aux, K, psi, var, maxit, logp, dlogp):
    """Newton's method with backtracking for θ whose pmf has mean ψ and variance v.

    Returns (th0, th1, converged).
    """
    r0, r1, j00, j01, j10, j11 = _moment_residual(fam, th0, th1, aux, K, psi, var, logp, dlogp)
    norm = r0 * r0 + r1 * r1
    for _ in range(maxit):
        if abs(r0) < MOMENT_TOL and abs(r1) < MOMENT_TOL:
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
    return th0, th1, abs(r0) < MOMENT_TOL and abs(r1) < MOMENT_TOL


@nb.njit(cache=True, nogil=True, error_model="numpy")
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


@nb.njit(cache=True, nogil=True, error_model="numpy")
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


@nb.njit(cache=True, nogil=True, error_model="numpy")
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
