"""The generalized score distribution: its beta-binomial and mixture pieces, each in its own
coordinates with derivatives, and the exact log-pmf."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._region import v_max, v_min
from ._special import _log_where, _safe


def _gsd_shape(psi: Tensor, K: int) -> Tensor:
    """C(ψ) = ((K − 2)/(K − 1))·v_max/(v_max − v_min), the ρ of the binomial; 1 if v_max = v_min."""
    hi, lo = v_max(psi, K), v_min(psi)
    wide = hi - lo > 0
    c = (K - 2.0) / (K - 1.0) * hi / _safe(wide, hi - lo, 1.0)
    return torch.where(wide, c, torch.ones_like(c))


def _log_binom(K: int, like: Tensor) -> tuple[Tensor, Tensor]:
    """Trials s = 0..K − 1 and log C(K − 1, s)."""
    s = torch.arange(K, dtype=like.dtype, device=like.device)
    return s, math.lgamma(K) - torch.lgamma(s + 1.0) - torch.lgamma(K - s)


def _gsd_beta_binomial(psi: Tensor, r: Tensor, K: int, derivs: bool = False):
    """Piece ρ ≤ C(ψ) in coordinates (ψ, r = ρ/C) (``_kernels.gsd.betabinomial_logp``).

    With n = K − 1, a = (ψ − 1)/n, b = (K − ψ)/n, A = a·r, B = b·r, D = 1 − r:
    q_s = C(n, s) ∏_{i<s}(A + iD) ∏_{j<n−s}(B + jD) / ∏_{i<n}(r + iD), the i = 0 factors
    a·r, b·r and r cancelled. Returns log q (m, K) and, with ``derivs``, ∂ log q/∂(ψ, r).
    """
    n = K - 1
    s, lbinom = _log_binom(K, psi)
    a, b = ((psi - 1.0) / n)[:, None], ((K - psi) / n)[:, None]
    r = r[:, None]
    big_a, big_b = r * a, r * b
    dd = 1.0 - r
    i = torch.arange(1, n, dtype=psi.dtype, device=psi.device)
    ta, tb, tr = big_a + i * dd, big_b + i * dd, r + i * dd
    zeros2 = torch.zeros((len(psi), 2), dtype=psi.dtype, device=psi.device)

    def upto(terms):  # Σ_{i=1}^{s−1} terms_i for s = 0..n
        return torch.cat([zeros2, torch.cumsum(terms, 1)], 1)

    inner = (s >= 1) & (s <= n - 1)
    lp = (lbinom - _log_where(tr).sum(1, keepdim=True)
          + torch.where(s >= 1, _log_where(a), torch.zeros_like(a))
          + torch.where(s <= n - 1, _log_where(b), torch.zeros_like(b))
          + torch.where(inner, _log_where(r), torch.zeros_like(r))
          + upto(_log_where(ta)) + upto(_log_where(tb)).flip(1))
    if not derivs:
        return lp
    ra, rb = 1.0 / ta, 1.0 / tb
    dpsi = (torch.where(s >= 1, 1.0 / (n * a), torch.zeros_like(a))
            - torch.where(s <= n - 1, 1.0 / (n * b), torch.zeros_like(b))
            + upto(r / n * ra) - upto(r / n * rb).flip(1))
    dr = (torch.where(inner, 1.0 / r, torch.zeros_like(r)) + upto((a - i) * ra)
          + upto((b - i) * rb).flip(1) - ((1.0 - i) / tr).sum(1, keepdim=True))
    finite = torch.isfinite(lp)[..., None]
    return lp, _safe(finite, torch.stack([dpsi, dr], -1), 0.0)


def _gsd_mixture(psi: Tensor, r: Tensor, j: Tensor, K: int, derivs: bool = False):
    """Piece ρ ≥ C(ψ), ψ in [j, j + 1], in coordinates (ψ, r = (ρ − C)/(1 − C)):
    q = r·L + (1 − r)·Bin(K − 1, (ψ − 1)/(K − 1)) with L the least-spread pmf on j, j + 1
    (``_kernels.gsd.mixture_logp``). Returns log q and, with ``derivs``, ∂ log q/∂(ψ, r)."""
    n = K - 1
    s, lbinom = _log_binom(K, psi)
    pi = ((psi - 1.0) / n)[:, None]
    inside = (pi > 0) & (pi < 1)
    pis = _safe(inside, pi, 0.5)
    lbin = (lbinom + torch.where(s > 0, s * _log_where(pi), torch.zeros_like(pi))
            + torch.where(s < n, (n - s) * torch.where(pi < 1, torch.log1p(-pis), -math.inf),
                          torch.zeros_like(pi)))
    rating = s + 1.0
    jj = j[:, None].to(psi.dtype)
    lower, upper = rating == jj, rating == jj + 1.0
    ls = torch.where(lower, jj + 1.0 - psi[:, None], psi[:, None] - jj)
    r = r[:, None]
    log_r, log_1mr = _log_where(r), _log_where(1.0 - r)
    two = lower | upper
    ls = torch.where(two, ls, torch.ones_like(ls))  # unused outside j, j + 1; keeps logs finite
    mixed = torch.logaddexp(log_r + _log_where(ls), log_1mr + lbin)
    lp = torch.where(two, mixed, log_1mr + lbin)
    if not derivs:
        return lp
    dlbin = (s / pis - (n - s) / (1.0 - pis)) / n
    finite = torch.isfinite(lp)
    w_ls = torch.where(finite, torch.exp(log_r - lp), torch.zeros_like(lp))  # r/q
    w_bin = torch.where(finite, torch.exp(log_1mr + lbin - lp), torch.zeros_like(lp))
    lps = _safe(finite, lp, 0.0)
    dr_two = torch.exp(_log_where(ls) - lps) - torch.exp(lbin - lps)  # (L − Bin)/q
    d_two = torch.stack([w_ls * torch.where(lower, -1.0, 1.0) + w_bin * dlbin, dr_two], -1)
    d_rest = torch.stack([dlbin.expand_as(lp), -1.0 / _safe(r < 1, 1.0 - r, 1.0).expand_as(lp)],
                         -1)
    return lp, _safe(finite[..., None], torch.where(two[..., None], d_two, d_rest), 0.0)


def _gsd_logp(psi: Tensor, rho: Tensor, K: int) -> Tensor:
    """Exact GSD log-pmf (n, K) at native (ψ, ρ), each piece in its own coordinates."""
    c = _gsd_shape(psi, K)
    below = rho <= c
    r_bb = _safe(below, rho / c, 0.5)
    r_mix = _safe(~below, (rho - c) / _safe(~below, 1.0 - c, 1.0), 0.5)
    j = torch.clamp(torch.floor(psi), 1, K - 1).long()
    return torch.where(below[:, None], _gsd_beta_binomial(psi, r_bb, K),
                       _gsd_mixture(psi, r_mix, j, K))
