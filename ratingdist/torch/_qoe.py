"""QoE figures: latent quantiles on the rating axis, %GoB and %PoW."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import scale as _scale
from ..families import Family, QuantizedFamily
from ._checks import _as_float, _check_moments, _check_params, _first, _index, _normalized
from ._moments import _solve_moments
from ._pmf import _resolve
from ._quantized import _latent_ppf, _Quantized
from ._region import _boundary


def _check_alpha(alpha: float | Tensor, like: Tensor) -> Tensor:
    a = _as_float(alpha, "alpha", like=like)
    try:
        a = torch.broadcast_to(a, like.shape)
    except RuntimeError:
        raise ValueError(
            f"alpha (shape {tuple(a.shape)}) does not broadcast to the batch shape "
            f"{tuple(like.shape)}"
        ) from None
    bad = ~(a >= 0) | (a > 1)
    if bool(bad.any()):
        i = _first(bad)
        raise ValueError(f"alpha at index {_index(i, a.shape)} is {a.reshape(-1)[i].item()!r}, "
                         "outside [0, 1]")
    return a


def _latent_spec(fam: Family, K: int, like: Tensor) -> _Quantized:
    if not isinstance(fam, QuantizedFamily):
        raise ValueError(
            f"the {fam.name} family has no continuous latent quality, so its quantiles are "
            "categories (rd.qoe.quantile(..., kind='category')); latent quantiles need a "
            "quantized family such as 'logit-logistic'"
        )
    return _Quantized(fam, K, like)


def quantile(
    family: str | Family, params: Tensor, alpha: float | Tensor, *, K: int = _scale.DEFAULT_K
) -> Tensor:
    """α-quantile Q_α = F⁻¹(α) of the latent quality on the rating axis, shape ``S``.

    Quantized families only (as ``rd.qoe.quantile`` with ``kind="latent"``): normal
    μ + σΦ⁻¹(α), logistic μ + s·logit α, beta 0.5 + K·I⁻¹_α(a, b), Kumaraswamy
    0.5 + K(1 − (1 − α)^{1/b})^{1/a}, logit-logistic 0.5 + K·expit(logit_mu + s·logit α).
    ``alpha`` is a scalar or broadcasts to ``S``; the level that a share φ of users reach or
    exceed is ``quantile(family, params, 1 − φ)``. Differentiable in the parameters and α.

    Examples
    --------
    >>> import torch, ratingdist.torch as rdt
    >>> p = torch.tensor([3.824, 0.446], dtype=torch.float64)
    >>> round(rdt.quantile("normal", p, 0.1).item(), 2)
    3.25
    """
    fam, K = _resolve(family), _scale.check_K(K)
    p = _check_params(fam, params, K)
    spec = _latent_spec(fam, K, p)
    a = _check_alpha(alpha, p[..., 0])
    flat = p.reshape(-1, 2)
    return _latent_ppf(spec, spec.to_theta(flat), a.reshape(-1)).reshape(p.shape[:-1])


def quantile_from_moments(
    family: str | Family, mean: Tensor, var: Tensor, alpha: float | Tensor, *,
    K: int = _scale.DEFAULT_K, clamp: bool = False,
) -> Tensor:
    """Latent α-quantile (see :func:`quantile`) of the member with mean ψ and variance v.

    On the boundary the latent law is the limit's, as ``rd.qoe.quantile`` has it for limit
    fits: at v = v_min all mass at ψ (ψ a category) or at the threshold between ⌊ψ⌋ and ⌈ψ⌉;
    at v = v_max mass (K − ψ)/(K − 1) at the lower end of the latent axis (−∞, or 0.5 for the
    unit-interval families) and the rest at the upper end (∞, or K + 0.5).
    """
    fam, K = _resolve(family), _scale.check_K(K)
    m, v = _check_moments(mean, var, K, clamp)
    spec = _latent_spec(fam, K, m)
    a = _check_alpha(alpha, m).reshape(-1)
    shape = m.shape
    m, v = m.reshape(-1), v.reshape(-1)
    at_min, at_max = _boundary(m, v, K)
    lower = torch.clamp(torch.floor(m), 1, K - 1).long()
    rating_t = 0.5 + K * spec.t if spec.fam.unit_interval else spec.t
    centre = torch.where(m == torch.floor(m), m, rating_t[lower - 1])
    low, high = (0.5, K + 0.5) if spec.fam.unit_interval else (-math.inf, math.inf)
    first = a <= (K - m) / (K - 1.0) + 1e-12
    ends = torch.where(first, torch.full_like(m, low), torch.full_like(m, high))
    out = torch.where(at_min, centre, ends)
    idx = torch.nonzero(~(at_min | at_max)).squeeze(1)
    if idx.numel():
        th = _solve_moments(spec, m[idx], v[idx])
        out = out.index_put((idx,), _latent_ppf(spec, th, a[idx]))
    return out.reshape(shape)


def _category(value, K: int, name: str) -> int:
    if isinstance(value, bool) or not float(value).is_integer() or not 1 <= value <= K:
        raise ValueError(f"{name} must be a category 1..{K}, got {value!r}")
    return int(value)


def gob(probs: Tensor, good: int | None = None) -> Tensor:
    """%GoB ("good or better") = P(U ≥ good) as a fraction, ``S + (K,)`` → ``S``.

    ``good`` defaults to K − 1 (4 on the 5-point scale). Rows are normalized, so counts work
    too (Hoßfeld et al. 2016).

    Examples
    --------
    >>> import torch, ratingdist.torch as rdt
    >>> round(rdt.gob(torch.tensor([0.0, 0.0, 25, 73, 7])).item(), 4)
    0.7619
    """
    p = _normalized(probs, "probs")
    K = p.shape[-1]
    return p[..., _category(K - 1 if good is None else good, K, "good") - 1:].sum(-1)


def pow(probs: Tensor, poor: int = 2) -> Tensor:
    """%PoW ("poor or worse") = P(U ≤ poor) as a fraction, ``S + (K,)`` → ``S``.

    Named as in the QoE literature (and ``rd.qoe.pow``); it shadows the builtin inside this
    module only. Rows are normalized.
    """
    p = _normalized(probs, "probs")
    return p[..., : _category(poor, p.shape[-1], "poor")].sum(-1)
