"""Discrete maximum-entropy distribution on 1..K for a given mean and variance, per stimulus.

The entropy maximizer under the constraints Σ p_k = 1, Σ k p_k = ψ, Σ (k − ψ)² p_k = v is
p_k ∝ exp(λ₁k + λ₂k²) (λ₂ > 0 allowed: U-shaped pmfs). λ minimizes the convex dual
φ(λ) = log Σ_k exp(λ·T(k)) − λ·E[T], T(k) = (x_k, x_k²) with x_k = (k − c)/h centred and
scaled for conditioning; Newton's method with backtracking solves it to machine precision.
On the boundary of the feasible region the solution is the limit: ρ = 1 (v = v_min) the
least-spread pmf on ⌊ψ⌋, ⌈ψ⌉; ρ = 0 (v = v_max) mass on 1 and K only.

Reference: Saupe, Rusek, Hägele, Weiskopf, Janowski, IEEE Signal Processing Letters 31 (2024).
"""

import math

import numba as nb
import numpy as np

_NEG_INF = -np.inf


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _dual(l1, l2, K, c, h, t1, t2):
    """φ, ∇φ and ∇²φ of the maxent dual at (λ₁, λ₂) in scaled coordinates."""
    zmax = _NEG_INF
    for k in range(1, K + 1):
        x = (k - c) / h
        z = l1 * x + l2 * x * x
        zmax = max(zmax, z)
    s = 0.0
    m1 = 0.0
    m2 = 0.0
    m3 = 0.0
    m4 = 0.0
    for k in range(1, K + 1):
        x = (k - c) / h
        w = math.exp(l1 * x + l2 * x * x - zmax)
        s += w
        m1 += w * x
        m2 += w * x * x
        m3 += w * x * x * x
        m4 += w * x * x * x * x
    m1 /= s
    m2 /= s
    m3 /= s
    m4 /= s
    phi = zmax + math.log(s) - l1 * t1 - l2 * t2
    return phi, m1 - t1, m2 - t2, m2 - m1 * m1, m3 - m1 * m2, m4 - m2 * m2


@nb.njit(cache=True, nogil=True, error_model="numpy")
def maxent_lambdas(psi, var, K):
    """Solve for (λ₁, λ₂) in the scaled coordinates x = (k − c)/h; interior (ψ, v) only.

    Returns (λ₁, λ₂, c, h, converged).
    """
    c = 0.5 * (K + 1.0)
    h = 0.5 * (K - 1.0)
    t1 = (psi - c) / h
    t2 = (var + (psi - c) ** 2) / (h * h)
    l1 = 0.0
    l2 = 0.0
    phi, g1, g2, h11, h12, h22 = _dual(l1, l2, K, c, h, t1, t2)
    for _ in range(500):
        if abs(g1) < 1e-15 and abs(g2) < 1e-15:
            return l1, l2, c, h, True
        det = h11 * h22 - h12 * h12
        if det <= 1e-300:
            d1 = -g1
            d2 = -g2
        else:
            d1 = -(h22 * g1 - h12 * g2) / det
            d2 = -(h11 * g2 - h12 * g1) / det
        slope = g1 * d1 + g2 * d2
        t = 1.0
        accepted = False
        for _ls in range(60):
            n1 = l1 + t * d1
            n2 = l2 + t * d2
            nphi, ng1, ng2, nh11, nh12, nh22 = _dual(n1, n2, K, c, h, t1, t2)
            if nphi <= phi + 1e-4 * t * slope or (
                nphi <= phi + 1e-13 * abs(phi) and ng1 * ng1 + ng2 * ng2 < g1 * g1 + g2 * g2
            ):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            break
        l1, l2 = n1, n2
        phi, g1, g2, h11, h12, h22 = nphi, ng1, ng2, nh11, nh12, nh22
    return l1, l2, c, h, abs(g1) < 1e-10 and abs(g2) < 1e-10


@nb.njit(cache=True, nogil=True, error_model="numpy")
def maxent_logp(psi, rho, K, logp):
    """Fill logp (K,) with the maximum-entropy log-pmf for mean ψ and shape ρ.

    Returns True when the dual converged (always on the boundary).
    """
    frac = psi - math.floor(psi)
    vmin = frac * (1.0 - frac)
    vmax = (psi - 1.0) * (K - psi)
    if vmax - vmin <= 0.0 or rho >= 1.0:  # point mass or the two categories around ψ
        for k in range(1, K + 1):
            q = 1.0 - abs(k - psi)
            logp[k - 1] = math.log(q) if q > 0.0 else _NEG_INF
        return True
    if rho <= 0.0:  # the extremes 1 and K
        for k in range(1, K + 1):
            logp[k - 1] = _NEG_INF
        logp[0] = math.log((K - psi) / (K - 1.0))
        logp[K - 1] = math.log((psi - 1.0) / (K - 1.0))
        return True
    var = rho * vmin + (1.0 - rho) * vmax
    l1, l2, c, h, ok = maxent_lambdas(psi, var, K)
    zmax = _NEG_INF
    for k in range(1, K + 1):
        x = (k - c) / h
        zmax = max(zmax, l1 * x + l2 * x * x)
    s = 0.0
    for k in range(1, K + 1):
        x = (k - c) / h
        s += math.exp(l1 * x + l2 * x * x - zmax)
    for k in range(1, K + 1):
        x = (k - c) / h
        logp[k - 1] = l1 * x + l2 * x * x - zmax - math.log(s)
    return ok
