"""Probabilities of every family: at native parameters and at (mean, variance | sd | ρ),
with the limit pmfs on the boundary of the feasible region."""

from __future__ import annotations

import torch
from torch import Tensor

from .. import scale as _scale
from ..families import Family, QuantizedFamily
from ..families import family as _family
from ..families.gsd import GSD
from ..families.maxent import MaxEnt
from ._checks import (
    _as_float,
    _broadcast,
    _check_finite,
    _check_moments,
    _check_params,
    _first,
    _index,
    _warn,
)
from ._gsd import _gsd_logp
from ._maxent import _maxent_logp
from ._moments import _solve_moments
from ._quantized import _Quantized
from ._region import _boundary, _limit_probs, rho_from_var, v_max, v_min, var_from_rho
from ._special import _log_where


# -- dispatch to the families ------------------------------------------------------------------
def _resolve(family: str | Family) -> Family:
    fam = _family(family)
    if not isinstance(fam, QuantizedFamily | MaxEnt | GSD):
        raise TypeError(f"ratingdist.torch has no implementation of family {fam!r}")
    return fam


def _interior_logp(fam: Family, mean: Tensor, var: Tensor, K: int) -> Tensor:
    """log-pmf (n, K) of the members with interior moments (ψ, v)."""
    if isinstance(fam, MaxEnt):
        return _maxent_logp(mean, var, K)
    if isinstance(fam, GSD):
        return _gsd_logp(mean, rho_from_var(mean, var, K), K)
    spec = _Quantized(fam, K, mean)
    return spec.logp(_solve_moments(spec, mean, var))


def _logp_of_moments(fam: Family, mean: Tensor, var: Tensor, K: int) -> Tensor:
    """log-pmf (n, K) for validated moments: limits on the boundary, solved inside."""
    at_min, at_max = _boundary(mean, var, K)
    out = _log_where(_limit_probs(mean, at_min, K))
    inner = ~(at_min | at_max)
    if bool(inner.all()):
        return _interior_logp(fam, mean, var, K)
    idx = torch.nonzero(inner).squeeze(1)
    if idx.numel() == 0:
        return out
    return out.index_put((idx,), _interior_logp(fam, mean[idx], var[idx], K))


def _native_logp(fam: Family, p: Tensor, K: int) -> Tensor:
    """log-pmf (n, K) at validated native parameters (n, 2)."""
    if isinstance(fam, GSD):
        return _gsd_logp(p[:, 0], p[:, 1], K)
    if isinstance(fam, MaxEnt):
        psi, rho = p[:, 0], p[:, 1]
        at_min = (rho >= 1.0) | (v_max(psi, K) - v_min(psi) <= 0)
        inner = ~at_min & (rho > 0.0)
        out = _log_where(_limit_probs(psi, at_min, K))
        idx = torch.nonzero(inner).squeeze(1)
        if idx.numel() == 0:
            return out
        var = var_from_rho(psi[idx], rho[idx], K)
        return out.index_put((idx,), _maxent_logp(psi[idx], var, K))
    spec = _Quantized(fam, K, p)
    return spec.logp(spec.to_theta(p))


# -- public: probabilities ---------------------------------------------------------------------
def logpmf(family: str | Family, params: Tensor, K: int = _scale.DEFAULT_K) -> Tensor:
    """log-probabilities of the categories 1..K at native parameters, ``S + (2,)`` → ``S + (K,)``.

    The parameters are those of ``rd.family(family)`` (same order and meaning): normal (μ, σ),
    logistic (μ, s), beta and Kumaraswamy (a, b), logit-logistic (logit_mu, s), maxent and GSD
    (ψ, ρ).
    Differentiable in the parameters.

    Examples
    --------
    >>> import torch, ratingdist.torch as rdt
    >>> rdt.logpmf("normal", torch.tensor([3.0, 1.0], dtype=torch.float64)).exp().round(
    ...     decimals=3).tolist()
    [0.067, 0.242, 0.383, 0.242, 0.067]
    """
    fam, K = _resolve(family), _scale.check_K(K)
    p = _check_params(fam, params, K)
    return _native_logp(fam, p.reshape(-1, 2), K).reshape(*p.shape[:-1], K)


def pmf(family: str | Family, params: Tensor, K: int = _scale.DEFAULT_K) -> Tensor:
    """Probabilities of the categories 1..K at native parameters; see :func:`logpmf`."""
    return torch.exp(logpmf(family, params, K))


def params_from_moments(
    family: str | Family, mean: Tensor, var: Tensor, *, K: int = _scale.DEFAULT_K,
    clamp: bool = False,
) -> Tensor:
    """Native parameters ``S + (2,)`` of the member with mean ψ and variance v (each ``S``).

    As ``rd.family(family).from_moments``: solved by batched Newton iterations for the
    quantized families and differentiable by the implicit function theorem; (ψ, ρ) for maxent
    and GSD. On the boundary the limit values (e.g. scale 0 at v = v_min, ∞ at v = v_max).
    """
    fam, K = _resolve(family), _scale.check_K(K)
    m, v = _check_moments(mean, var, K, clamp)
    shape = m.shape
    m, v = m.reshape(-1), v.reshape(-1)
    if not isinstance(fam, QuantizedFamily):
        return torch.stack([m, rho_from_var(m, v, K)], -1).reshape(*shape, 2)
    spec = _Quantized(fam, K, m)
    at_min, at_max = _boundary(m, v, K)
    out = spec.limit_params(m, at_min)
    idx = torch.nonzero(~(at_min | at_max)).squeeze(1)
    if idx.numel():
        out = out.index_put((idx,), spec.from_theta(_solve_moments(spec, m[idx], v[idx])))
    return out.reshape(*shape, 2)


def logpmf_from_moments(
    family: str | Family, mean: Tensor, var: Tensor, *, K: int = _scale.DEFAULT_K,
    clamp: bool = False,
) -> Tensor:
    """log-probabilities ``S + (K,)`` of the member with mean ψ and variance v (each ``S``).

    Matches ``rd.family(family).pmf_from_moments`` (in float64 to 1e-10 or better): the
    quantized families through the solver coordinates, maxent through its Lagrange
    multipliers, GSD through ρ; on the boundary of the feasible region the limit pmf.
    Differentiable in ψ and v (implicit function theorem). Raises ``ValueError`` for means
    outside [1, K] or variances outside [v_min(ψ), v_max(ψ)] unless ``clamp=True``, which
    projects them onto the region with a warning saying how many were moved.
    """
    fam, K = _resolve(family), _scale.check_K(K)
    m, v = _check_moments(mean, var, K, clamp)
    return _logp_of_moments(fam, m.reshape(-1), v.reshape(-1), K).reshape(*m.shape, K)


def pmf_from_moments(
    family: str | Family, mean: Tensor, var: Tensor, *, K: int = _scale.DEFAULT_K,
    clamp: bool = False,
) -> Tensor:
    """Probabilities ``S + (K,)`` of the member with mean ψ and variance v; see
    :func:`logpmf_from_moments`.

    Examples
    --------
    >>> import torch, ratingdist.torch as rdt
    >>> mean = torch.tensor([3.2, 1.0], dtype=torch.float64)
    >>> var = torch.tensor([0.8, 0.0], dtype=torch.float64)
    >>> rdt.pmf_from_moments("normal", mean, var).round(decimals=3).tolist()
    [[0.024, 0.183, 0.428, 0.299, 0.066], [1.0, 0.0, 0.0, 0.0, 0.0]]
    """
    fam, K = _resolve(family), _scale.check_K(K)
    m, v = _check_moments(mean, var, K, clamp)
    return torch.exp(_logp_of_moments(fam, m.reshape(-1), v.reshape(-1), K)).reshape(*m.shape, K)


def pmf_from_mean_sd(
    family: str | Family, mean: Tensor, sd: Tensor, *, K: int = _scale.DEFAULT_K,
    clamp: bool = False,
) -> Tensor:
    """Probabilities ``S + (K,)`` for mean ψ and standard deviation σ ≥ 0 (v = σ²)."""
    sd = _as_float(sd, "sd", like=mean if isinstance(mean, Tensor) else None)
    _check_finite(sd, "sd")
    if bool((sd < 0).any()):
        i = _first(sd < 0)
        raise ValueError(f"sd at index {_index(i, sd.shape)} is {sd.reshape(-1)[i].item()!r} < 0")
    fam, K = _resolve(family), _scale.check_K(K)
    m, v = _check_moments(mean, sd * sd, K, clamp, spread="sd")
    return torch.exp(_logp_of_moments(fam, m.reshape(-1), v.reshape(-1), K)).reshape(*m.shape, K)


def pmf_from_mean_rho(
    family: str | Family, mean: Tensor, rho: Tensor, *, K: int = _scale.DEFAULT_K,
    clamp: bool = False,
) -> Tensor:
    """Probabilities ``S + (K,)`` for mean ψ and shape ρ ∈ [0, 1], v = ρ·v_min + (1 − ρ)·v_max.

    ``clamp=True`` also moves ρ into [0, 1].
    """
    fam, K = _resolve(family), _scale.check_K(K)
    mean = _as_float(mean, "mean")
    rho = _as_float(rho, "rho", like=mean)
    mean, rho = _broadcast(mean, rho, ("mean", "rho"))
    _check_finite(mean, "mean")
    _check_finite(rho, "rho")
    bad = (rho < 0) | (rho > 1)
    if clamp:
        rho = rho.clamp(0.0, 1.0)
    elif bool(bad.any()):
        i = _first(bad)
        raise ValueError(
            f"rho at index {_index(i, rho.shape)} is {rho.reshape(-1)[i].item()!r}, outside "
            "[0, 1] (pass clamp=True to project onto it)"
        )
    if clamp and bool(bad.any()):
        _warn(f"clamped {int(bad.sum())} of {rho.numel()} rho values into [0, 1]")
    m = mean.clamp(1.0, float(K)) if clamp else mean
    m, v = _check_moments(m, var_from_rho(m, rho, K), K, clamp)
    return torch.exp(_logp_of_moments(fam, m.reshape(-1), v.reshape(-1), K)).reshape(*m.shape, K)
