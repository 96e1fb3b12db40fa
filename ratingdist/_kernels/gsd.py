"""Generalized score distribution (GSD): exact log-pmf and derivatives, per stimulus.

The GSD on 1..K with mean ψ and shape ρ (Ćmiel, Nawała, Janowski, Rusek 2023) has two smooth
pieces that meet at the binomial, ρ = C(ψ) = ((K − 2)/(K − 1))·v_max/(v_max − v_min):

- ρ ≤ C: a reparametrized beta-binomial. Writing r = ρ/C ∈ [0, 1], n = K − 1,
  a = (ψ − 1)/n, b = (K − ψ)/n, A = a·r, B = b·r, D = 1 − r, the pmf of rating s + 1 is

      q_s = C(n, s) ∏_{i<s} (A + iD) ∏_{j<n−s} (B + jD) / ∏_{i<n} (r + iD),

  in which C cancels, so the piece is smooth in (ψ, r) over the whole [1, K] × [0, 1];
- ρ ≥ C: with r = (ρ − C)/(1 − C) ∈ [0, 1] the mixture
  q = r·L(ψ) + (1 − r)·Bin(n, (ψ − 1)/n), L the least-spread pmf on ⌊ψ⌋ and ⌈ψ⌉;
  smooth in (ψ, r) on each ψ ∈ [j, j + 1].

References: Ćmiel, Nawała, Janowski, Rusek, Statistical Papers (2023),
doi:10.1007/s00362-023-01398-0; Janowski, Ćmiel, Rusek, Nawała, Li, arXiv:1909.04369.
"""

import math

import numpy as np
from numba.extending import register_jitable

from .jit import INNER

_NEG_INF = -np.inf


@register_jitable(**INNER)
def shape_at_binomial(psi, K):
    """C(ψ): the value of ρ at which the GSD is the shifted binomial (1 where v_max = v_min)."""
    frac = psi - math.floor(psi)
    vmin = frac * (1.0 - frac)
    vmax = (psi - 1.0) * (K - psi)
    if vmax - vmin <= 0.0:
        return 1.0
    return (K - 2.0) / (K - 1.0) * vmax / (vmax - vmin)


@register_jitable(**INNER)
def betabinomial_logp(psi, r, K, logp, dlogp):
    """Piece ρ ≤ C(ψ) in coordinates (ψ, r = ρ/C): fill logp (K,) and dlogp (K, 2)."""
    n = K - 1
    a = (psi - 1.0) / n
    b = (K - psi) / n
    A = a * r
    B = b * r
    D = 1.0 - r
    den = 0.0
    dden = 0.0
    for i in range(1, n):
        den += math.log(r + i * D)
        dden += (1.0 - i) / (r + i * D)
    lbinom = 0.0  # log C(n, s), updated incrementally
    for s in range(n + 1):
        if s > 0:
            lbinom += math.log((n - s + 1.0) / s)
        n_r = (1 if s >= 1 else 0) + (1 if s <= n - 1 else 0) - 1
        lp = lbinom - den
        if s >= 1:
            lp += math.log(a) if a > 0.0 else _NEG_INF
        if s <= n - 1:
            lp += math.log(b) if b > 0.0 else _NEG_INF
        if n_r == 1:
            lp += math.log(r) if r > 0.0 else _NEG_INF
        for i in range(1, s):
            lp += math.log(A + i * D)
        for j in range(1, n - s):
            lp += math.log(B + j * D)
        logp[s] = lp
        if lp == _NEG_INF:
            dlogp[s, 0] = 0.0
            dlogp[s, 1] = 0.0
            continue
        dpsi = 0.0
        dr = n_r / r if n_r == 1 else 0.0
        if s >= 1:
            dpsi += 1.0 / (n * a)
        if s <= n - 1:
            dpsi -= 1.0 / (n * b)
        for i in range(1, s):
            dpsi += (r / n) / (A + i * D)
            dr += (a - i) / (A + i * D)
        for j in range(1, n - s):
            dpsi -= (r / n) / (B + j * D)
            dr += (b - j) / (B + j * D)
        dlogp[s, 0] = dpsi
        dlogp[s, 1] = dr - dden


@register_jitable(**INNER)
def mixture_logp(psi, r, j, K, logp, dlogp):
    """Piece ρ ≥ C(ψ), ψ in [j, j + 1], in coordinates (ψ, r): fill logp and dlogp."""
    n = K - 1
    pi = (psi - 1.0) / n
    lbinom = 0.0  # log C(n, s), updated incrementally
    for s in range(n + 1):
        if s > 0:
            lbinom += math.log((n - s + 1.0) / s)
        lbin = lbinom
        if s > 0:
            lbin += s * math.log(pi) if pi > 0.0 else _NEG_INF
        if s < n:
            lbin += (n - s) * math.log1p(-pi) if pi < 1.0 else _NEG_INF
        rating = s + 1
        if rating == j or rating == j + 1:
            ls = (j + 1.0 - psi) if rating == j else (psi - j)
            dls = -1.0 if rating == j else 1.0
            binom = math.exp(lbin)
            # d Bin/dψ; no negative powers, so that π ∈ {0, 1} stays finite
            up = s * math.pow(pi, s - 1) * math.pow(1.0 - pi, n - s) if s > 0 else 0.0
            down = (n - s) * math.pow(pi, s) * math.pow(1.0 - pi, n - s - 1) if s < n else 0.0
            dbin = math.exp(lbinom) / n * (up - down)
            q = r * ls + (1.0 - r) * binom
            if q <= 0.0:
                logp[s] = _NEG_INF
                dlogp[s, 0] = 0.0
                dlogp[s, 1] = 0.0
            else:
                logp[s] = math.log(q)
                dlogp[s, 0] = (r * dls + (1.0 - r) * dbin) / q
                dlogp[s, 1] = (ls - binom) / q
        else:
            lp = lbin + math.log1p(-r) if r < 1.0 else _NEG_INF
            logp[s] = lp
            if lp == _NEG_INF:
                dlogp[s, 0] = 0.0
                dlogp[s, 1] = 0.0
            else:
                dlogp[s, 0] = (s / pi - (n - s) / (1.0 - pi)) / n
                dlogp[s, 1] = -1.0 / (1.0 - r)


@register_jitable(**INNER)
def gsd_logp(psi, rho, K, logp, dlogp):
    """log-pmf of the GSD at native parameters (ψ, ρ); derivatives in the piece's coordinates."""
    c = shape_at_binomial(psi, K)
    if rho <= c:
        betabinomial_logp(psi, rho / c, K, logp, dlogp)
    else:
        j = min(max(int(math.floor(psi)), 1), K - 1)  # noqa: RUF046 (Numba typing)
        mixture_logp(psi, (rho - c) / (1.0 - c), j, K, logp, dlogp)
