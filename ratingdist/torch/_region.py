"""The feasible region of (mean, variance) on the scale 1..K, its boundary, the limit pmfs
on it, and the moments of probability rows."""

from __future__ import annotations

import torch
from torch import Tensor

from .. import scale as _scale
from ._numerics import _boundary_tol


def v_min(mean: Tensor) -> Tensor:
    """Least variance on the scale for mean ψ: v_min(ψ) = (⌈ψ⌉ − ψ)(ψ − ⌊ψ⌋).

    Examples
    --------
    >>> import torch, ratingdist.torch as rdt
    >>> rdt.v_min(torch.tensor([3.0, 3.25])).tolist()
    [0.0, 0.1875]
    """
    frac = mean - torch.floor(mean)
    return frac * (1.0 - frac)


def v_max(mean: Tensor, K: int = _scale.DEFAULT_K) -> Tensor:
    """Largest variance on 1..K for mean ψ: v_max(ψ) = (ψ − 1)(K − ψ)."""
    return (mean - 1.0) * (_scale.check_K(K) - mean)


def rho_from_var(mean: Tensor, var: Tensor, K: int = _scale.DEFAULT_K) -> Tensor:
    """ρ = (v_max − v)/(v_max − v_min), clipped to [0, 1]; 0.5 where v_max = v_min.

    Examples
    --------
    >>> import torch, ratingdist.torch as rdt
    >>> rdt.rho_from_var(torch.tensor([3.0, 1.0]), torch.tensor([1.0, 0.0])).tolist()
    [0.75, 0.5]
    """
    hi, lo = v_max(mean, K), v_min(mean)
    width = hi - lo
    wide = width > 0
    rho = (hi - var) / torch.where(wide, width, torch.ones_like(width))
    return torch.where(wide, rho, torch.full_like(rho, 0.5)).clamp(0.0, 1.0)


def var_from_rho(mean: Tensor, rho: Tensor, K: int = _scale.DEFAULT_K) -> Tensor:
    """Variance for mean ψ and shape ρ: v = ρ·v_min(ψ) + (1 − ρ)·v_max(ψ)."""
    return rho * v_min(mean) + (1.0 - rho) * v_max(mean, K)


def _boundary(mean: Tensor, var: Tensor, K: int) -> tuple[Tensor, Tensor]:
    """Masks of pairs on the lower (v_min) and the upper (v_max) boundary."""
    tol = _boundary_tol(mean)
    at_min = var <= v_min(mean) + tol
    return at_min, (var >= v_max(mean, K) - tol) & ~at_min


def _prob_moments(p: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and variance of probability rows (…, K) on 1..K."""
    k = torch.arange(1, p.shape[-1] + 1, dtype=p.dtype, device=p.device)
    m = (p * k).sum(-1)
    return m, ((k - m[..., None]) ** 2 * p).sum(-1)


def _limit_probs(mean: Tensor, at_min: Tensor, K: int) -> Tensor:
    """Least-spread pmf max(0, 1 − |k − ψ|) where ``at_min``, else the pmf on {1, K}."""
    k = torch.arange(1, K + 1, dtype=mean.dtype, device=mean.device)
    least = torch.clamp(1.0 - (k - mean[:, None]).abs(), min=0.0)
    middle = torch.zeros((len(mean), K - 2), dtype=mean.dtype, device=mean.device)
    ends = torch.cat([((K - mean) / (K - 1.0))[:, None], middle,
                      ((mean - 1.0) / (K - 1.0))[:, None]], 1)
    return torch.where(at_min[:, None], least, ends)
