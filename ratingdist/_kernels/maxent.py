"""Discrete maximum-entropy distribution on 1..K for a given mean and variance, per stimulus.

The entropy maximizer under the constraints Σ p_k = 1, Σ k p_k = ψ, Σ (k − ψ)² p_k = v is
p_k ∝ exp(λ₁k + λ₂k²) (λ₂ > 0 allowed: U-shaped pmfs). λ minimizes the convex dual
φ(λ) = log Σ_k exp(λ·T(k)) − λ·τ with τ = E[T]. The statistics are taken relative to two
anchor categories a ≠ b (the two heaviest): T(k) = (k − a, (k − a)(k − b)), which vanish where
the mass is, so that moments next to the boundary of the feasible region (λ very large) keep
their relative precision: the gradient E_p[T] − τ is a sum of small terms and the Hessian
determinant is the sum of positive terms p_a p_b p_c D_abc² (D the doubled area of the triangle
T(a), T(b), T(c)), free of cancellation. Newton's method with backtracking solves the dual.
On the boundary itself the solution is the limit: ρ = 1 (v = v_min) the least-spread pmf on
⌊ψ⌋, ⌈ψ⌉; ρ = 0 (v = v_max) mass on 1 and K only.

Reference: Saupe, Rusek, Hägele, Weiskopf, Janowski, IEEE Signal Processing Letters 31 (2024).
"""

import math

import numpy as np
from numba.extending import register_jitable

from .jit import INNER

_NEG_INF = -np.inf
#: Smallest variance for which the dual is started from the discretized normal (else λ = 0).
NORMAL_START_MIN_VAR = 0.1
#: Newton decrement (per-rating NLL units) at which the dual counts as solved.
DUAL_TOL = 1e-15


@register_jitable(**INNER)
def _dual(l1, l2, K, a, b, tu, ty, logp, prob):
    """φ, ∇φ, ∇²φ (h_uu, h_uy, h_yy) and det ∇²φ at λ; fills logp (K,) and prob = exp(logp)."""
    zmax = _NEG_INF
    kmax = 0
    for k in range(K):
        u = k - a
        z = l1 * u + l2 * u * (k - b)
        logp[k] = z
        if z > zmax:
            zmax = z
            kmax = k
    rest = 0.0
    for k in range(K):
        if k != kmax:
            rest += math.exp(logp[k] - zmax)
    lse = zmax + math.log1p(rest)
    mu = 0.0
    my = 0.0
    for k in range(K):
        logp[k] -= lse
        p = math.exp(logp[k])
        prob[k] = p
        mu += p * (k - a)
        my += p * (k - a) * (k - b)
    huu = 0.0
    huy = 0.0
    hyy = 0.0
    for k in range(K):
        p = prob[k]
        du = (k - a) - mu
        dy = (k - a) * (k - b) - my
        huu += p * du * du
        huy += p * du * dy
        hyy += p * dy * dy
    det = 0.0
    for i in range(K):
        pi = prob[i]
        ui = i - a
        yi = ui * (i - b)
        for j in range(i + 1, K):
            pij = pi * prob[j]
            uj = j - a
            yj = uj * (j - b)
            for m in range(j + 1, K):
                um = m - a
                ym = um * (m - b)
                d = (uj - ui) * (ym - yi) - (um - ui) * (yj - yi)
                det += pij * prob[m] * d * d
    phi = lse - l1 * tu - l2 * ty
    return phi, mu - tu, my - ty, huu, huy, hyy, det


@register_jitable(**INNER)
def maxent_solve(K, a, b, tu, ty, logp):
    """Fill logp (K,) with the maxent log-pmf whose anchored moments are τ = (tu, ty).

    a, b: 0-based anchor categories; tu = E[k − a], ty = E[(k − a)(k − b)].
    Returns the final Newton decrement (≤ :data:`DUAL_TOL` when solved).
    """
    prob = np.empty(K)
    l1 = 0.0
    l2 = 0.0
    # well inside the feasible region start from the discretized normal with the same moments,
    # log p_k ≈ −(k − m)²/(2v) = λ₁(k − a) + λ₂(k − a)(k − b) + const (0-based k, mean m)
    m = a + tu
    v = ty + (a + b) * m - a * b - m * m
    if v >= NORMAL_START_MIN_VAR and v <= 0.5 * m * (K - 1.0 - m):
        l2 = -0.5 / v
        l1 = (2.0 * m - a - b) * 0.5 / v
    phi, g1, g2, huu, huy, hyy, det = _dual(l1, l2, K, a, b, tu, ty, logp, prob)
    dec = np.inf
    for _ in range(300):
        if det > 0.0:
            d1 = -(hyy * g1 - huy * g2) / det
            d2 = -(huu * g2 - huy * g1) / det
        else:
            d1 = -g1
            d2 = -g2
        dec = -(g1 * d1 + g2 * d2)
        if not dec > 1e-24:  # also stops on NaN
            break
        t = 1.0
        accepted = False
        for _ls in range(60):
            n1 = l1 + t * d1
            n2 = l2 + t * d2
            res = _dual(n1, n2, K, a, b, tu, ty, logp, prob)
            if res[0] <= phi - 1e-4 * t * dec:
                accepted = True
                break
            if t == 1.0 and res[0] <= phi + 1e-14 * abs(phi) + 1e-300:
                # rounding regime: accept a full step that shrinks the decrement
                e1 = res[1]
                e2 = res[2]
                if res[6] > 0.0:
                    f1 = -(res[5] * e1 - res[4] * e2) / res[6]
                    f2 = -(res[3] * e2 - res[4] * e1) / res[6]
                    if -(e1 * f1 + e2 * f2) < 0.5 * dec:
                        accepted = True
                        break
            if dec <= DUAL_TOL:  # solved; a shorter step cannot gain above the rounding
                break
            t *= 0.5
        if not accepted:
            break
        l1, l2 = n1, n2
        phi, g1, g2, huu, huy, hyy, det = res
    _dual(l1, l2, K, a, b, tu, ty, logp, prob)
    return dec


@register_jitable(**INNER)
def anchors(props, K):
    """0-based indices of the largest and second-largest proportions (lowest index on ties)."""
    a = 0
    for k in range(1, K):
        if props[k] > props[a]:
            a = k
    b = 1 if a == 0 else 0
    for k in range(K):
        if k != a and props[k] > props[b]:
            b = k
    return a, b


@register_jitable(**INNER)
def mean_shape(props, K):
    """(ψ, ρ) of the pmf props (K,) on 1..K, from sums of non-negative terms.

    v_max − v = −Σ p_k (k − 1)(k − K) and v − v_min = Σ p_k (k − ⌊ψ⌋)(k − ⌈ψ⌉) have no
    cancellation; ρ = (v_max − v)/(v_max − v_min), 0.5 where v_max = v_min; ψ ∈ [1, K].
    """
    a, _ = anchors(props, K)
    dev = 0.0
    for k in range(K):
        dev += props[k] * (k - a)
    psi = min(max(a + 1.0 + dev, 1.0), float(K))
    lo = math.floor(psi)
    hi = math.ceil(psi)
    above = 0.0
    below = 0.0
    for k in range(K):
        x = k + 1.0
        above -= props[k] * (x - 1.0) * (x - K)
        below += props[k] * max((x - lo) * (x - hi), 0.0)
    width = above + below
    rho = above / width if width > 0.0 else 0.5
    return psi, min(max(rho, 0.0), 1.0)


@register_jitable(**INNER)
def maxent_fit_props(props, K, logp):
    """Maximum-likelihood maxent log-pmf for the proportions props (K,): the moment match.

    Returns the Newton decrement of the dual (per-rating NLL units above the optimum, ×2).
    """
    a, b = anchors(props, K)
    tu = 0.0
    ty = 0.0
    for k in range(K):
        tu += props[k] * (k - a)
        ty += props[k] * (k - a) * (k - b)
    return maxent_solve(K, a, b, tu, ty, logp)


@register_jitable(**INNER)
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
    width = vmax - vmin
    if rho >= 0.5:  # anchors ⌊ψ⌋, ⌈ψ⌉ (heavier first): E[(k − a)(k − b)] = v − v_min
        lo = min(int(math.floor(psi)), K - 1)  # noqa: RUF046 (Numba typing)
        a = lo if psi - lo <= 0.5 else lo + 1
        b = lo + 1 if a == lo else lo
        tu = psi - a
        ty = (1.0 - rho) * width
    else:  # anchors 1 and K: E[(k − 1)(k − K)] = v − v_max
        a = 1 if psi <= 0.5 * (K + 1) else K
        b = K + 1 - a
        tu = psi - a
        ty = -rho * width
    dec = maxent_solve(K, a - 1, b - 1, tu, ty, logp)
    return dec <= DUAL_TOL
