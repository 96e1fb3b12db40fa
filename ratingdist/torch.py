"""Rating distributions in PyTorch: batched, differentiable, on the inputs' device and dtype.

No-reference quality networks predict, per stimulus, a mean opinion score and a spread, or a
histogram of ratings. This module turns such outputs into full rating distributions of every
family of :mod:`ratingdist` and into QoE figures, and scores them against observed ratings::

    import torch
    import ratingdist.torch as rdt

    mean = torch.tensor([3.2, 4.1], dtype=torch.float64, requires_grad=True)
    var = torch.tensor([0.6, 0.3], dtype=torch.float64)
    p = rdt.pmf_from_moments("logit-logistic", mean, var)      # (2, 5)
    loss = rdt.nll_loss(torch.tensor([[0, 2, 9, 10, 3], [0, 0, 2, 12, 9]]), p)
    loss.backward()                                             # gradients through the solver

Functions (tensors of any leading batch shape ``S``; K categories, 5 by default):

- :func:`pmf_from_moments`, :func:`logpmf_from_moments`, :func:`pmf_from_mean_sd`,
  :func:`pmf_from_mean_rho`: (mean, variance | sd | ρ), each ``S`` → probabilities ``S + (K,)``;
  :func:`params_from_moments`: → native parameters ``S + (2,)``;
- :func:`pmf`, :func:`logpmf`: native parameters ``S + (2,)`` (as ``rd.family(name)``) →
  ``S + (K,)``;
- :func:`fit`: rating counts or histograms ``S + (K,)`` → maximum-likelihood fit (:class:`Fit`);
- :func:`quantile`, :func:`quantile_from_moments`: latent quantiles on the rating axis;
  :func:`gob`, :func:`pow`: %GoB and %PoW of probabilities;
- :func:`nll_loss`, :func:`emd_loss`: training losses;
- :func:`v_min`, :func:`v_max`, :func:`rho_from_var`, :func:`var_from_rho`: the feasible region.

Conventions are those of the Numba path (``rd.family(name)``, ``rd.fit``, ``rd.qoe``), which
float64 results reproduce to 1e-9 or better (``fit`` stops where ``rd.fit`` stops). Probabilities
are computed in log space, every cell from whichever side (cdf or survival function) loses no
precision, so float32 gives no NaN. Solutions of equations (the mean/variance
parameterization, the maximum-entropy multipliers, maximum-likelihood fits, the inverse
incomplete beta function) are found by batched Newton or Fisher-scoring iterations without
building a graph (rows leave the batch as they converge), and differentiated by the implicit
function theorem: the backward pass solves one 2×2 system per stimulus. Everything else is
differentiated by autograd.

Inputs are checked once: shapes, a floating dtype, means in [1, K], variances in
[v_min(ψ), v_max(ψ)]. ``clamp=True`` projects infeasible pairs onto the region instead of raising,
with a warning that says how many were moved. On the boundary of the region (v = v_min or
v = v_max, to within 1e-12 in float64, 1e-6 in float32) every family returns the limit pmf, as
``Family.pmf_from_moments`` does: the least-spread pmf on ⌊ψ⌋, ⌈ψ⌉, or the pmf on {1, K}.

Limits: the GSD likelihood of counts symmetric about the middle of the scale has two
mirror-image maxima of equal likelihood, and which one :func:`fit` returns may differ from
``rd.fit`` by rounding. In float32, pairs within about 1e-3 of ψ = 1 or ψ = K, or right next to
v_max, may miss the float32 tolerance (a ``RuntimeWarning`` says how many; results stay
finite). Near the boundary the gradients are large where the parameters move fast: that is the
derivative of the limit being approached.

References
----------
Saupe, Rusek, Hägele, Weiskopf, Janowski, "Maximum entropy and quantized metric models for
absolute category ratings", IEEE Signal Processing Letters 31 (2024) 2970–2974.
Ćmiel, Nawała, Janowski, Rusek, "Generalised score distribution: underdispersed continuation of
the beta-binomial distribution", Statistical Papers (2023), doi:10.1007/s00362-023-01398-0.
Talebi, Milanfar, "NIMA: neural image assessment", IEEE Trans. Image Processing 27 (2018)
3998–4011 (the EMD loss).
"""

from __future__ import annotations

import math
import sys
import warnings
from typing import NamedTuple

try:
    import torch
except ImportError as exc:
    raise ImportError('ratingdist.torch needs PyTorch: pip install "ratingdist[torch]"') from exc
from torch import Tensor
from torch.autograd.function import once_differentiable

from . import scale as _scale
from .families import Family, QuantizedFamily
from .families import family as _family
from .families.gsd import GSD
from .families.maxent import MaxEnt

__all__ = [
    "Fit",
    "emd_loss",
    "fit",
    "gob",
    "logpmf",
    "logpmf_from_moments",
    "nll_loss",
    "params_from_moments",
    "pmf",
    "pmf_from_mean_rho",
    "pmf_from_mean_sd",
    "pmf_from_moments",
    "pow",
    "quantile",
    "quantile_from_moments",
    "rho_from_var",
    "v_max",
    "v_min",
    "var_from_rho",
]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT3_OVER_PI = math.sqrt(3.0) / math.pi
_GUMBEL_SD = math.pi / math.sqrt(6.0)
_LOG_LOG_2 = math.log(math.log(2.0))
_NEG_INF = -math.inf
#: Iteration caps of the solvers (each stops as soon as all rows have converged).
_NEWTON_MAXIT = 300
_LM_RETRIES = 16
_CF_MAXIT = 5000
_FIT_MAXIT = 500
#: Stirling-series coefficients B_2k / (2k (2k − 1)), k = 1..8 (DLMF 5.11.1).
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156,
             -3617 / 122400)
_REDUCTIONS = ("mean", "sum", "none")


# -- dtype-dependent tolerances ----------------------------------------------------------------
def _eps(x: Tensor) -> float:
    return torch.finfo(x.dtype).eps


def _tiny(x: Tensor) -> float:
    """A guard against division by zero, well above the underflow threshold of the dtype."""
    return torch.finfo(x.dtype).tiny * 1e8


def _feasibility_tol(x: Tensor, K: int) -> float:
    """Variances this far outside [v_min, v_max] are rounding and are moved onto the bound."""
    return max(_scale.FEASIBILITY_TOLERANCE, 16.0 * _eps(x) * K * K)


def _boundary_tol(x: Tensor) -> float:
    """Variances this close to v_min or v_max are on the boundary of the feasible region."""
    return max(_scale.BOUNDARY_TOLERANCE, 8.0 * _eps(x))


# -- the feasible region -----------------------------------------------------------------------
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


def _warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the first caller outside this module."""
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


# -- input checks ------------------------------------------------------------------------------
def _as_float(x, name: str, like: Tensor | None = None, counts: bool = False) -> Tensor:
    """``x`` as a floating tensor; non-tensors (and, for ``counts``, integer tensors) take the
    dtype and device of ``like`` (the default dtype without one)."""
    if counts and isinstance(x, Tensor) and not x.is_floating_point():
        dtype = like.dtype if like is not None else torch.get_default_dtype()
        x = x.to(dtype=dtype, device=None if like is None else like.device)
    if isinstance(x, Tensor):
        if not x.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
        if like is not None and (x.dtype != like.dtype or x.device != like.device):
            raise TypeError(
                f"{name} is {x.dtype} on {x.device} but the other input is {like.dtype} on "
                f"{like.device}; convert one of them"
            )
        return x
    if like is not None:
        return torch.as_tensor(x, dtype=like.dtype, device=like.device)
    t = torch.as_tensor(x)
    return t if t.is_floating_point() else t.to(torch.get_default_dtype())


def _index(flat: int, shape: tuple[int, ...]):
    """Flat index as an int (1-D input) or a tuple (several batch axes)."""
    if len(shape) <= 1:
        return flat
    out = []
    for n in reversed(shape):
        out.append(flat % n)
        flat //= n
    return tuple(reversed(out))


def _first(mask: Tensor) -> int:
    return int(torch.nonzero(mask.reshape(-1))[0, 0])


def _broadcast(a: Tensor, b: Tensor, names: tuple[str, str]) -> tuple[Tensor, Tensor]:
    try:
        return torch.broadcast_tensors(a, b)
    except RuntimeError:
        raise ValueError(
            f"{names[0]} (shape {tuple(a.shape)}) and {names[1]} (shape {tuple(b.shape)}) do "
            "not broadcast to a common batch shape"
        ) from None


def _check_finite(x: Tensor, name: str) -> None:
    bad = ~torch.isfinite(x)
    if bool(bad.any()):
        i = _first(bad)
        raise ValueError(f"{name} at index {_index(i, x.shape)} is {x.reshape(-1)[i].item()!r}")


def _check_moments(mean, var, K: int, clamp: bool, spread: str = "variance"):
    """Validated (mean, variance) tensors of a common shape, clipped onto the feasible region.

    Variances within rounding (:func:`_feasibility_tol`) of a bound are moved onto it silently;
    pairs further out raise ``ValueError`` naming the first one, or with ``clamp=True`` are
    projected (mean to [1, K], then variance to [v_min, v_max]) with a warning.
    """
    mean = _as_float(mean, "mean")
    var = _as_float(var, spread, like=mean)
    mean, var = _broadcast(mean, var, ("mean", spread))
    _check_finite(mean, "mean")
    _check_finite(var, spread)
    bad_mean = (mean < 1.0) | (mean > K)
    if not clamp and bool(bad_mean.any()):
        i = _first(bad_mean)
        raise ValueError(
            f"mean at index {_index(i, mean.shape)} is {mean.reshape(-1)[i].item()!r}, outside "
            f"the scale [1, {K}] (pass clamp=True to project onto it)"
        )
    m = mean.clamp(1.0, float(K))
    lo, hi = v_min(m), v_max(m, K)
    tol = _feasibility_tol(m, K)
    bad_var = (var < lo - tol) | (var > hi + tol)
    if not clamp and bool(bad_var.any()):
        i = _first(bad_var)
        raise ValueError(
            f"{spread} at index {_index(i, var.shape)} gives variance "
            f"{var.reshape(-1)[i].item()!r}, outside the feasible interval "
            f"[{lo.reshape(-1)[i].item():.6g}, {hi.reshape(-1)[i].item():.6g}] for mean "
            f"{m.reshape(-1)[i].item()!r} on a {K}-point scale (pass clamp=True to project "
            "onto it)"
        )
    if clamp:
        moved = int((bad_mean | bad_var).sum())
        if moved:
            _warn(
                f"clamped {moved} of {mean.numel()} (mean, {spread}) pairs onto the feasible "
                f"region (means to [1, {K}], variances to [v_min, v_max])"
            )
    return m, torch.minimum(torch.maximum(var, lo), hi)


def _boundary(mean: Tensor, var: Tensor, K: int) -> tuple[Tensor, Tensor]:
    """Masks of pairs on the lower (v_min) and the upper (v_max) boundary."""
    tol = _boundary_tol(mean)
    at_min = var <= v_min(mean) + tol
    return at_min, (var >= v_max(mean, K) - tol) & ~at_min


def _check_params(fam: Family, params, K: int) -> Tensor:
    """Native parameters as a floating tensor ``S + (2,)`` inside the family's domain."""
    p = _as_float(params, "params")
    if p.ndim == 0 or p.shape[-1] != 2:
        raise ValueError(f"{fam.name}: params must have shape (..., 2), got {tuple(p.shape)}")
    is_open = isinstance(fam, QuantizedFamily)
    for j, (pname, (lo, hi)) in enumerate(fam.natural_bounds(K).items()):
        col = p[..., j]
        if is_open:
            bad = ~torch.isfinite(col) | (col <= lo) | (col >= hi)
        else:
            bad = ~torch.isfinite(col) | (col < lo) | (col > hi)
        if bool(bad.any()):
            i = _first(bad)
            side = f"({lo}, {hi})" if is_open else f"[{lo}, {hi}]"
            raise ValueError(
                f"{fam.name}: parameter {pname} at index {_index(i, col.shape)} is "
                f"{col.reshape(-1)[i].item()!r}, outside {side}"
            )
    return p


def _check_probs(x, name: str, like: Tensor | None = None, counts: bool = False) -> Tensor:
    """Non-negative, finite rows ``S + (K,)`` (probabilities or counts), K ≥ 3."""
    t = _as_float(x, name, like=like, counts=counts)
    if t.ndim == 0 or t.shape[-1] < 3:
        raise ValueError(f"{name} must have shape (..., K) with K >= 3, got {tuple(t.shape)}")
    if like is not None and t.shape != like.shape:
        raise ValueError(f"{name} has shape {tuple(t.shape)}, expected {tuple(like.shape)}")
    bad = ~torch.isfinite(t) | (t < 0)
    if bool(bad.any()):
        i = _first(bad)
        raise ValueError(
            f"{name} at index {_index(i, t.shape)} is {t.reshape(-1)[i].item()!r}; entries must "
            "be finite and >= 0"
        )
    return t


def _reduce(x: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return x.mean()
    if reduction == "sum":
        return x.sum()
    if reduction == "none":
        return x
    raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


# -- log-space helpers -------------------------------------------------------------------------
def _safe(mask: Tensor, x: Tensor, fill: float) -> Tensor:
    """``x`` where ``mask``, else ``fill``: keeps unselected branches finite for autograd."""
    return torch.where(mask, x, torch.full_like(x, fill))


def _log1mexp(x: Tensor) -> Tensor:
    """log(1 − eˣ) for x ≤ 0 (Mächler 2012: expm1 above −ln 2, log1p below)."""
    near = x > -math.log(2.0)
    return torch.where(
        near,
        torch.log(-torch.expm1(_safe(near, x, -1.0))),
        torch.log1p(-torch.exp(_safe(~near, x, -1.0))),
    )


def _logsubexp(a: Tensor, b: Tensor) -> Tensor:
    """log(eᵃ − eᵇ) for a ≥ b; −inf where a = b (also both −inf)."""
    apart = b < a
    diff = _safe(apart, b - _safe(apart, a, 0.0), -1.0)
    return torch.where(apart, a + _log1mexp(diff), torch.full_like(a, _NEG_INF))


def _log_where(p: Tensor) -> Tensor:
    """log p with log 0 = −inf and a zero gradient there."""
    pos = p > 0
    return torch.where(pos, torch.log(_safe(pos, p, 1.0)), torch.full_like(p, _NEG_INF))


def _rlog1(t: Tensor) -> Tensor:
    """t − log(1 + t) without cancellation near 0 (DiDonato & Morris 1992, RLOG1).

    For |t| ≤ 1/4, with w = t/(2 + t): t − log1p(t) = t·w − 2w³(1/3 + w²/5 + w⁴/7 + …).
    """
    small = t.abs() <= 0.25
    ts = _safe(small, t, 0.0)
    w = ts / (2.0 + ts)
    u = w * w
    s = torch.full_like(w, 1.0 / 23.0)
    for d in range(21, 1, -2):
        s = s * u + 1.0 / d
    tl = _safe(~small, t, 1.0)
    return torch.where(small, ts * w - 2.0 * w * u * s, tl - torch.log1p(tl))


def _stirling(x: Tensor) -> Tensor:
    """Stirling remainder δ(x) = log Γ(x) − (x − ½)log x + x − ½ log 2π for x ≥ 10 (series)."""
    ix = 1.0 / torch.clamp(x, min=10.0)
    ix2 = ix * ix
    s = torch.full_like(ix, _STIRLING[-1])
    for c in reversed(_STIRLING[:-1]):
        s = s * ix2 + c
    return s * ix


# -- regularized incomplete beta function ------------------------------------------------------
def _log_pref(x: Tensor, lx: Tensor, ly: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """log(xᵃ(1 − x)ᵇ/(a·B(a, b))) without cancellation of large terms.

    a, b ≥ 10: −E + ½ log(ab/(a + b)) − ½ log 2π − (δ(a) + δ(b) − δ(a + b)) − log a with
    E = a·rlog1(x/x₀ − 1) + b·rlog1(y/y₀ − 1), x₀ = a/(a + b) (DiDonato & Morris, BRCOMP);
    one of them ≥ 10: log Γ(a + b) − log Γ(b) in Stirling form; else lgamma.
    """
    s = a + b
    lam = a - s * x
    big_a, big_b = a >= 10.0, b >= 10.0
    kl = a * _rlog1(-lam / a) + b * _rlog1(lam / b)
    both = (-kl + 0.5 * (torch.log(a) - torch.log1p(a / b)) - _HALF_LOG_2PI
            - (_stirling(a) + _stirling(b) - _stirling(s)) - torch.log(a))
    neither = a * lx + b * ly + torch.lgamma(s) - torch.lgamma(a + 1.0) - torch.lgamma(b)
    only_b = (a * lx + b * ly - torch.lgamma(a + 1.0) + a * torch.log(b)
              + (s - 0.5) * torch.log1p(a / b) - a + _stirling(s) - _stirling(b))
    only_a = (a * lx + b * ly - torch.log(a) - torch.lgamma(b) + b * torch.log(a)
              + (s - 0.5) * torch.log1p(b / a) - b + _stirling(s) - _stirling(a))
    return torch.where(
        big_a & big_b, both, torch.where(big_b, only_b, torch.where(big_a, only_a, neither))
    )


def _cf_coefficients(m: int, x: Tensor, a: Tensor, b: Tensor, derivs: bool):
    """d_{2m}, d_{2m+1} of the incomplete-beta continued fraction (DLMF 8.17.22) and, with
    ``derivs``, their (a, b)-derivatives stacked on a last axis."""
    s = a + b
    r1, r2, r3 = 1.0 / (a + (2 * m - 1)), 1.0 / (a + 2 * m), 1.0 / (a + (2 * m + 1))
    even = m * (b - m) * x * r1 * r2
    odd = -(a + m) * (s + m) * x * r2 * r3
    if not derivs:
        return even, odd, None, None
    d_even = torch.stack([-even * (r1 + r2), m * x * r1 * r2], -1)
    rs = 1.0 / (s + m)
    d_odd = torch.stack([odd * (1.0 / (a + m) + rs - r2 - r3), odd * rs], -1)
    return even, odd, d_even, d_odd


def _lentz(state: list, coef: Tensor, d_coef: Tensor | None, tiny: float) -> Tensor:
    """One modified-Lentz step D ← 1/(1 + a·D), C ← 1 + a/C, h ← h·D·C on ``state`` =
    [D, C, h] (+ [∂D, ∂C, ∂log h] with trailing (a, b) axes), in place; returns D·C."""
    d, c = state[0], state[1]
    dn = 1.0 + coef * d
    cn = 1.0 + coef / c
    small_d, small_c = dn.abs() < tiny, cn.abs() < tiny
    dn = torch.where(small_d, torch.full_like(dn, tiny), dn)
    cn = torch.where(small_c, torch.full_like(cn, tiny), cn)
    if d_coef is not None:
        dd, dc, dlh = state[3], state[4], state[5]
        ddn = d_coef * d[..., None] + coef[..., None] * dd
        dcn = (d_coef - coef[..., None] * dc / c[..., None]) / c[..., None]
        ddn = _safe(~small_d[..., None], ddn, 0.0)
        dcn = _safe(~small_c[..., None], dcn, 0.0)
        state[3] = -ddn / (dn * dn)[..., None]
        state[4] = dcn
        state[5] = dlh - ddn / dn[..., None] + dcn / cn[..., None]
    state[0] = 1.0 / dn
    state[1] = cn
    step = cn / dn
    state[2] = state[2] * step
    return step


def _log_cf(x: Tensor, a: Tensor, b: Tensor, derivs: bool = False):
    """log of the continued fraction h with I_x(a, b) = xᵃ(1 − x)ᵇ/(a·B(a, b))·h (1-D inputs).

    h = 1/(1 + d₁/(1 + d₂/(1 + …))), d_{2m+1} = −(a + m)(a + b + m)x/((a + 2m)(a + 2m + 1)),
    d_{2m} = m(b − m)x/((a + 2m − 1)(a + 2m)) (DLMF 8.17.22), by the modified Lentz algorithm
    (Numerical Recipes §6.4), 1 + d₁ formed from a − (a + b)x without cancellation. Each entry
    runs until its steps are 1 to within 4.5 ulp, and two more (so that derivatives have
    converged too); converged entries leave the batch. With ``derivs`` the (a, b)-derivatives
    of log h are carried along by forward-mode differentiation of the recurrences.
    """
    tiny, tol = _tiny(x), 4.5 * _eps(x)
    d0 = (a - (a + b) * x + 1.0) / (a + 1.0)
    d0 = torch.where(d0.abs() < tiny, torch.full_like(d0, tiny), d0)
    state = [1.0 / d0, torch.ones_like(d0), 1.0 / d0]
    if derivs:
        dd0 = torch.stack([x * (b - 1.0), -x * (a + 1.0)], -1) / ((a + 1.0) ** 2)[..., None]
        state += [-dd0 / (d0 * d0)[..., None], torch.zeros_like(dd0), -dd0 / d0[..., None]]
    rows = torch.arange(x.shape[0], device=x.device)
    left = torch.full_like(rows, 3)
    done_rows, done_state = [], []
    for m in range(1, _CF_MAXIT):
        even, odd, d_even, d_odd = _cf_coefficients(m, x, a, b, derivs)
        _lentz(state, even, d_even, tiny)
        step = _lentz(state, odd, d_odd, tiny)
        left = left - ((left < 3) | ((step.detach() - 1.0).abs() < tol)).long()
        if m % 4 and m < _CF_MAXIT - 1:
            continue
        fin = left <= 0
        if bool(fin.any()):
            done_rows.append(rows[fin])
            done_state.append([t[fin] for t in state])
            keep = ~fin
            rows, left, x, a, b = rows[keep], left[keep], x[keep], a[keep], b[keep]
            state = [t[keep] for t in state]
        if rows.numel() == 0:
            break
    done_rows.append(rows)
    done_state.append(state)
    order = torch.cat(done_rows)
    log_h = _scatter(order, torch.cat([st[2] for st in done_state]).log())
    if not derivs:
        return log_h, None
    return log_h, _scatter(order, torch.cat([st[5] for st in done_state]))


def _scatter(order: Tensor, values: Tensor) -> Tensor:
    """Rows of ``values`` put back at the positions ``order`` (a permutation)."""
    return torch.zeros_like(values).index_put((order,), values)


def _log_betainc(x: Tensor, a: Tensor, b: Tensor, derivs: bool = False):
    """(log I_x(a, b), log(1 − I_x(a, b))) for 0 < x < 1, a, b > 0 (broadcast).

    The continued fraction is evaluated for I_x(a, b) where x < (a + 1)/(a + b + 2) and for
    1 − I_x(a, b) = I_{1−x}(b, a) otherwise, so the smaller of the two comes directly and the
    other through log1mexp. With ``derivs`` also their (a, b)-derivatives (shape + (2,)), with
    ∂_a log(xᵃ(1 − x)ᵇ/(a B)) = log x + ψ(a + b) − ψ(a + 1) and ∂_b = log(1 − x) + ψ(a + b) − ψ(b).
    Accuracy in float64 (a, b in 1e-3..1e7): relative 1e-12 in the logarithms; derivatives
    (analytic, or autograd through the iterations) to relative 1e-11.
    """
    x, a, b = torch.broadcast_tensors(x, a, b)
    shape = x.shape
    x, a, b = x.reshape(-1), a.reshape(-1), b.reshape(-1)
    swap = x * (a + b + 2.0) > a + 1.0
    xs = torch.where(swap, 1.0 - x, x)
    as_, bs = torch.where(swap, b, a), torch.where(swap, a, b)
    lx, ly = torch.log(xs), torch.log1p(-xs)
    log_h, d_log_h = _log_cf(xs, as_, bs, derivs)
    direct = torch.clamp(_log_pref(xs, lx, ly, as_, bs) + log_h, max=0.0)
    other = _log1mexp(direct)
    li = torch.where(swap, other, direct).reshape(shape)
    lj = torch.where(swap, direct, other).reshape(shape)
    if not derivs:
        return li, lj
    psi_s = torch.digamma(as_ + bs)
    d_direct = d_log_h + torch.stack([lx + psi_s - torch.digamma(as_ + 1.0),
                                      ly + psi_s - torch.digamma(bs)], -1)
    d_direct = torch.where(swap[:, None], d_direct.flip(-1), d_direct)
    d_other = -torch.exp(direct - other)[:, None] * d_direct
    d_li = torch.where(swap[:, None], d_other, d_direct).reshape(*shape, 2)
    d_lj = torch.where(swap[:, None], d_direct, d_other).reshape(*shape, 2)
    return li, lj, d_li, d_lj


# -- quantized metric models -------------------------------------------------------------------
def _kumaraswamy_h(log_a: Tensor, log_t: Tensor) -> tuple[Tensor, Tensor]:
    """h = log(−log(1 − tᵃ)) and dh/d(log a), stable for tᵃ → 0 and tᵃ → 1.

    With y = a·log t and L = log(−y) = log a + log(−log t): h = y where tᵃ < 4e-18, and
    h = log(−L − y/2) (−log(1 − eʸ) = −log(−y) − y/2 + O(y²)) where |y| < 2e-9, so that a may
    underflow: members with almost all mass at 1 and K have log a ≈ −1/ρ.
    """
    log_neg_y = log_a + torch.log(-log_t)
    y = -torch.exp(log_neg_y)
    tail = y < -40.0
    near_one = log_neg_y < -20.0
    mid = ~(tail | near_one)
    ys = _safe(mid, y, -1.0)
    neg_log = -_log1mexp(ys)  # −log(1 − tᵃ)
    dh = ys * torch.exp(ys) / (-torch.expm1(ys) * neg_log)
    small = torch.exp(_safe(near_one, log_neg_y, -21.0)) / 2.0  # −y/2
    series = small - _safe(near_one, log_neg_y, -21.0)
    h = torch.where(tail, y, torch.where(near_one, torch.log(series), torch.log(neg_log)))
    return h, torch.where(tail, y, torch.where(near_one, (small - 1.0) / series, dh))


def _standard_terms(kind: str, z: Tensor, derivs: bool):
    """log F₀(z), log S₀(z) of the standard latent cdf and their z-derivatives."""
    if kind == "normal":
        lf, ls = torch.special.log_ndtr(z), torch.special.log_ndtr(-z)
        if not derivs:
            return lf, ls, None, None
        lpdf = -0.5 * z * z - _HALF_LOG_2PI
        return lf, ls, torch.exp(lpdf - lf), -torch.exp(lpdf - ls)
    if kind == "kumaraswamy":  # Gumbel minimum: F₀(u) = 1 − exp(−eᵘ)
        cap = math.log(torch.finfo(z.dtype).max) - 1.0
        eu = torch.exp(torch.clamp(z, max=cap))
        lf, ls = _log1mexp(-eu), -eu
        if not derivs:
            return lf, ls, None, None
        eus = torch.clamp(eu, min=_tiny(z))
        return lf, ls, torch.where(z > cap, torch.zeros_like(eu), eus / torch.expm1(eus)), -eu
    lf = torch.nn.functional.logsigmoid(z)
    ls = torch.nn.functional.logsigmoid(-z)
    if not derivs:
        return lf, ls, None, None
    return lf, ls, torch.exp(ls), -torch.exp(lf)


class _Quantized:
    """A quantized metric model in solver coordinates θ, as in ``_kernels.quantized``.

    θ = (μ, log σ) for normal and logistic, (logit μ, log s) for logit-logistic (thresholds
    logit t), (log a, log b) for beta, and the centred (log a, log b + h(a, t_ref)) for
    Kumaraswamy (thresholds log t, t_ref the middle one).
    """

    def __init__(self, fam: QuantizedFamily, K: int, like: Tensor):
        self.fam, self.K, self.kind = fam, K, fam.name
        t = torch.as_tensor(fam.thresholds(K), dtype=like.dtype, device=like.device)
        self.t = t
        self.g = {"logit-logistic": torch.logit(t), "kumaraswamy": torch.log(t)}.get(self.kind, t)
        self.g_ref = self.g[(K - 1) // 2]

    # -- coordinates -------------------------------------------------------------------
    def to_theta(self, p: Tensor) -> Tensor:
        if self.kind in ("normal", "logistic"):
            return torch.stack([p[..., 0], torch.log(p[..., 1])], dim=-1)
        if self.kind == "logit-logistic":
            return torch.stack([torch.logit(p[..., 0]), torch.log(p[..., 1])], dim=-1)
        lp = torch.log(p)
        if self.kind == "beta":
            return lp
        h_ref = _kumaraswamy_h(lp[..., 0], self.g_ref)[0]
        return torch.stack([lp[..., 0], lp[..., 1] + h_ref], dim=-1)

    def from_theta(self, th: Tensor) -> Tensor:
        if self.kind in ("normal", "logistic"):
            return torch.stack([th[..., 0], torch.exp(th[..., 1])], dim=-1)
        if self.kind == "logit-logistic":
            return torch.stack([torch.sigmoid(th[..., 0]), torch.exp(th[..., 1])], dim=-1)
        if self.kind == "beta":
            return torch.exp(th)
        h_ref = _kumaraswamy_h(th[..., 0], self.g_ref)[0]
        return torch.stack([torch.exp(th[..., 0]), torch.exp(th[..., 1] - h_ref)], dim=-1)

    def limit_params(self, mean: Tensor, at_min: Tensor) -> Tensor:
        """Limit parameters on the boundary, as ``QuantizedFamily.from_moments`` returns them."""
        K = self.K
        nan = torch.full_like(mean, math.nan)
        inf = torch.full_like(mean, math.inf)
        if self.kind in ("beta", "kumaraswamy"):
            lim = torch.where(at_min, inf, torch.zeros_like(mean))
            return torch.stack([lim, lim], dim=-1)
        lower = torch.clamp(torch.floor(mean), 1, K - 1).long()
        between = self.t[lower - 1]
        point = (mean - 0.5) / K if self.fam.unit_interval else mean
        loc = torch.where(mean == torch.floor(mean), point, between)
        return torch.stack(
            [torch.where(at_min, loc, nan), torch.where(at_min, torch.zeros_like(mean), inf)],
            dim=-1,
        )

    def moment_start(self, psi: Tensor, var: Tensor) -> Tensor:
        """Starting θ from the continuous, Sheppard-corrected latent (``batch.moment_start``)."""
        K = self.K
        latent_var = torch.clamp(torch.maximum(var - 1.0 / 12.0, 0.25 * var), min=1e-6)
        if not self.fam.unit_interval:
            sd = torch.sqrt(latent_var) * (_SQRT3_OVER_PI if self.kind == "logistic" else 1.0)
            return torch.stack([psi, torch.log(sd)], dim=-1)
        xm = torch.clamp((psi - 0.5) / K, 1e-3, 1.0 - 1e-3)
        xv = torch.minimum(latent_var / (K * K), 0.9 * xm * (1.0 - xm))
        if self.kind == "logit-logistic":
            s = torch.sqrt(xv) / (xm * (1.0 - xm)) * _SQRT3_OVER_PI
            return torch.stack([torch.logit(xm), torch.log(torch.clamp(s, 1e-4, 50.0))], dim=-1)
        if self.kind == "kumaraswamy":
            log_a = torch.log(torch.clamp(_GUMBEL_SD * xm / torch.sqrt(xv), min=1e-3))
            h_m = _kumaraswamy_h(log_a, torch.log(xm))[0]
            h_ref = _kumaraswamy_h(log_a, self.g_ref)[0]
            return torch.stack([log_a, _LOG_LOG_2 - h_m + h_ref], dim=-1)
        common = xm * (1.0 - xm) / xv - 1.0
        return torch.stack([torch.log(xm * common), torch.log((1.0 - xm) * common)], dim=-1)

    # -- probabilities -----------------------------------------------------------------
    def _thresholds(self, th: Tensor, derivs: bool):
        """log F and log S at the thresholds (n, K − 1), and their θ-derivatives (n, K − 1, 2)."""
        if self.kind == "beta":
            ab = torch.exp(th)[:, None, :]
            out = _log_betainc(self.t, ab[..., 0], ab[..., 1], derivs)
            if not derivs:
                return (*out, None, None)
            lf, ls, dlf, dls = out
            return lf, ls, dlf * ab, dls * ab
        th0, th1 = th[:, :1], th[:, 1:]
        if self.kind == "kumaraswamy":
            h, dh = _kumaraswamy_h(th0, self.g)
            h_ref, dh_ref = _kumaraswamy_h(th0, self.g_ref)
            z = th1 + h - h_ref
            lf, ls, df, ds = _standard_terms(self.kind, z, derivs)
            if not derivs:
                return lf, ls, None, None
            dz0 = dh - dh_ref
            return lf, ls, torch.stack([df * dz0, df], -1), torch.stack([ds * dz0, ds], -1)
        scale = torch.exp(th1)
        z = (self.g - th0) / scale
        lf, ls, df, ds = _standard_terms("normal" if self.kind == "normal" else "logistic", z,
                                         derivs)
        if not derivs:
            return lf, ls, None, None
        # dz/dθ₀ = −1/σ, dz/dθ₁ = −z
        return (lf, ls, torch.stack([-df / scale, -df * z], -1),
                torch.stack([-ds / scale, -ds * z], -1))

    def logp(self, th: Tensor, derivs: bool = False):
        """log p_k (n, K) at θ (n, 2), and with ``derivs`` ∂ log p_k/∂θ (n, K, 2).

        p_k = F(t_k) − F(t_{k−1}) as a difference of cdfs for cells below the middle and of
        survival functions above it (``_kernels.quantized.quantized_logp``).
        """
        lf, ls, dlf, dls = self._thresholds(th, derivs)
        n = th.shape[0]
        ninf = torch.full((n, 1), _NEG_INF, dtype=th.dtype, device=th.device)
        zero = torch.zeros((n, 1), dtype=th.dtype, device=th.device)
        f_hi, f_lo = torch.cat([lf, zero], 1), torch.cat([ninf, lf], 1)
        s_hi, s_lo = torch.cat([zero, ls], 1), torch.cat([ls, ninf], 1)
        use_cdf = f_hi <= s_hi
        hi = torch.where(use_cdf, f_hi, s_hi)
        lo = torch.where(use_cdf, f_lo, s_lo)
        lp = _logsubexp(hi, lo)
        if not derivs:
            return lp
        z2 = torch.zeros((n, 1, 2), dtype=th.dtype, device=th.device)
        d_hi = torch.where(use_cdf[..., None], torch.cat([dlf, z2], 1), torch.cat([z2, dls], 1))
        d_lo = torch.where(use_cdf[..., None], torch.cat([z2, dlf], 1), torch.cat([dls, z2], 1))
        finite = torch.isfinite(lp)
        w_hi = torch.where(finite, torch.exp(hi - lp), torch.zeros_like(lp))
        w_lo = torch.where(finite, torch.exp(lo - lp), torch.zeros_like(lp))
        return lp, w_hi[..., None] * d_hi - w_lo[..., None] * d_lo


# -- implicit differentiation ------------------------------------------------------------------
def _solve2(j: Tensor, r: Tensor, transpose: bool = False) -> Tensor:
    """Solve J x = r (or Jᵀ x = r) for batches of 2×2 systems, J (n, 2, 2), r (n, 2)."""
    a, b, c, d = j[:, 0, 0], j[:, 0, 1], j[:, 1, 0], j[:, 1, 1]
    if transpose:
        b, c = c, b
    det = a * d - b * c
    return torch.stack([d * r[:, 0] - b * r[:, 1], a * r[:, 1] - c * r[:, 0]], -1) / det[:, None]


class _Root(torch.autograd.Function):
    """θ(y) solving f(θ) = y, found outside autograd: dθ/dy = (∂f/∂θ)⁻¹ (implicit function
    theorem), so the backward pass is one 2×2 solve with the Jacobian at the solution."""

    @staticmethod
    def forward(ctx, y: Tensor, theta: Tensor, jac: Tensor) -> Tensor:
        ctx.save_for_backward(jac)
        return theta.clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):
        (jac,) = ctx.saved_tensors
        return _solve2(jac, grad, transpose=True), None, None


class _Argmax(torch.autograd.Function):
    """θ(c) maximizing Σ_k c_k log p_k(θ) (coordinates with ``free`` False held at a bound).

    With the score s(θ, c) = Σ_k c_k ∇ log p_k(θ) = 0 at the solution, dθ/dc = −(∂s/∂θ)⁻¹ ∂s/∂c
    on the free coordinates (implicit function theorem); the Hessian ∂s/∂θ and ∂s/∂c come from
    autograd (twice) applied to ``logp_fn(θ, rows)``, the log-pmf of the given rows, at the
    solution. Rows without an incoming gradient are skipped.
    """

    @staticmethod
    def forward(ctx, counts: Tensor, theta: Tensor, free: Tensor, logp_fn) -> Tensor:
        ctx.logp_fn = logp_fn
        ctx.save_for_backward(counts, theta, free)
        return theta.clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):
        counts, theta, free = ctx.saved_tensors
        rows = torch.nonzero((grad != 0).any(1)).squeeze(1)  # others have no gradient
        grad_c = torch.zeros_like(counts)
        if rows.numel() == 0:
            return grad_c, None, None, None
        free, grad = free[rows], grad[rows]
        with torch.enable_grad():
            th = theta[rows].detach().requires_grad_(True)
            c = counts[rows].detach().requires_grad_(True)
            lp = ctx.logp_fn(th, rows)
            lp = _safe(torch.isfinite(lp), lp, 0.0)
            score = torch.autograd.grad((c * lp).sum(), th, create_graph=True)[0]
            hess = -torch.stack([torch.autograd.grad(score[:, i].sum(), th, retain_graph=True)[0]
                                 for i in range(2)], dim=1)  # Hessian of the NLL
            eye = torch.eye(2, dtype=th.dtype, device=th.device).expand_as(hess)
            hess = torch.where(free[:, :, None] & free[:, None, :], hess, eye)
            w = _solve2(hess, torch.where(free, grad, torch.zeros_like(grad)))
            grad_c[rows] = torch.autograd.grad(score, c, grad_outputs=w)[0]
        return grad_c, None, None, None


# -- moment matching (quantized families) ------------------------------------------------------
class _Moments:
    """Residuals for matching mean ψ and variance v at θ, and their Jacobians.

    Both equations are taken as log ratios of sums of non-negative terms, which keep full
    relative precision where the pmf is nearly a limit (almost all mass in one or two
    categories, or at 1 and K):

    - r₀ = log Σ_{k>ψ} (k − ψ)p_k − log Σ_{k<ψ} (ψ − k)p_k, zero exactly when the mean is ψ;
    - r₁ = log A − log B − log((v − v_min)/(v_max − v)) with A = E[(U − j)(U − j − 1)],
      j = ⌊ψ⌋, and B = E[(U − 1)(K − U)], which at mean ψ are v − v_min and v_max − v.
    """

    def __init__(self, spec: _Quantized, psi: Tensor, var: Tensor):
        K = spec.K
        self.spec, self.psi = spec, psi
        k = torch.arange(1, K + 1, dtype=psi.dtype, device=psi.device)
        above = k - psi[:, None]
        j = torch.clamp(torch.floor(psi), 1, K - 1)[:, None]
        # log-weights of the sums Σ(k − ψ)⁺p_k, Σ(ψ − k)⁺p_k, A and B, (n, 4, K)
        self.log_w = torch.stack([_log_where(above), _log_where(-above),
                                  _log_where((k - j) * (k - j - 1.0)),
                                  _log_where((k - 1.0) * (K - k)).expand_as(above)], 1)
        self.target = torch.log(var - v_min(psi)) - torch.log(v_max(psi, K) - var)

    def tolerances(self) -> tuple[float, Tensor]:
        eps = _eps(self.psi)
        return 32.0 * eps * self.spec.K, 32.0 * eps * (1.0 + self.target.abs())

    def __call__(self, th: Tensor, rows: Tensor):
        """(r (n, 2), J (n, 2, 2)) at θ for the given rows."""
        lp, dlp = self.spec.logp(th, derivs=True)
        z = lp[:, None, :] + self.log_w[rows]
        total = torch.logsumexp(z, dim=2)  # log of the four sums
        grads = torch.exp(z - total[..., None]) @ dlp  # their θ-gradients (n, 4, 2)
        r = torch.stack([total[:, 0] - total[:, 1], total[:, 2] - total[:, 3] - self.target[rows]],
                        -1)
        return r, torch.stack([grads[:, 0] - grads[:, 1], grads[:, 2] - grads[:, 3]], 1)


def _lm_step(jac: Tensor, r: Tensor, lam: Tensor) -> Tensor:
    """Newton step J d = −r (λ = 0), or Levenberg–Marquardt (JᵀJ + λ·diag JᵀJ) d = −Jᵀr."""
    jt = jac.transpose(1, 2)
    a = jt @ jac
    damped = a + lam[:, None, None] * torch.diag_embed(torch.diagonal(a, dim1=1, dim2=2))
    lm = -_solve2(damped, (jt @ r[..., None])[..., 0])
    return torch.where(lam[:, None] > 0, lm, -_solve2(jac, r))


def _step_unit(th: Tensor, kind: str) -> Tensor:
    """Scale of a unit step in θ₀: σ for a location, |log a|/4 (at least 1) for Kumaraswamy,
    whose members with mass near 1 and K have log a ≈ −1/ρ, else 1."""
    if kind in ("normal", "logistic", "logit-logistic"):
        return torch.exp(th[:, 1])
    if kind == "kumaraswamy":
        return torch.clamp(th[:, 0].abs() / 4.0, min=1.0)
    return torch.ones_like(th[:, 0])


def _newton(residual: _Moments, theta: Tensor, kind: str):
    """Newton's method with Levenberg–Marquardt damping for residual(θ) = 0 on every row.

    Each step (:func:`_lm_step`) is capped at two units of :func:`_step_unit` (scale units for
    a location, as in ``_kernels.solver.match_moments``) and taken when it decreases |r|²;
    λ then shrinks tenfold (to 0, the Newton step), else it grows tenfold and the step is
    retried. Rows stop when converged (|r| below 32ε·K, resp. 32ε(1 + |target|)), or when no
    step decreases |r|² or only by rounding (converged then if |r| is within √ε/10 for the
    mean and 10√ε for the log ratio).

    Returns θ and the mask of converged rows.
    """
    n = theta.shape[0]
    r, jac = residual(theta, torch.arange(n, device=theta.device))
    tol0, tol1 = residual.tolerances()
    stall = math.sqrt(_eps(theta))
    norm = (r * r).sum(1)
    lam = torch.zeros_like(norm)
    ok = (r[:, 0].abs() < tol0) & (r[:, 1].abs() < tol1)
    stopped = ok | ~torch.isfinite(norm)
    for _ in range(_NEWTON_MAXIT):
        act = torch.nonzero(~stopped).squeeze(1)
        if act.numel() == 0:
            break
        th, ra, ja, na, la = theta[act], r[act], jac[act], norm[act], lam[act]
        before = na.clone()
        pending = torch.ones_like(na, dtype=torch.bool)
        for _retry in range(_LM_RETRIES):
            idx = torch.nonzero(pending).squeeze(1)
            if idx.numel() == 0:
                break
            d = _lm_step(ja[idx], ra[idx], la[idx])
            big = torch.maximum(d[:, 0].abs() / _step_unit(th[idx], kind), d[:, 1].abs())
            d = d * torch.where(big > 2.0, 2.0 / big, torch.ones_like(big))[:, None]
            trial = th[idx] + _safe(torch.isfinite(d), d, 0.0)
            s, js = residual(trial, act[idx])
            ns = (s * s).sum(1)
            good = ns < na[idx]
            take, miss = idx[good], idx[~good]
            th[take], ra[take], ja[take], na[take] = trial[good], s[good], js[good], ns[good]
            la[take] = torch.where(la[take] > 1e-9, la[take] / 10.0, torch.zeros_like(la[take]))
            la[miss] = torch.clamp(la[miss] * 10.0, min=1e-6)
            pending[take] = False
        theta[act], r[act], jac[act], norm[act], lam[act] = th, ra, ja, na, la
        t1 = tol1[act]
        conv = (ra[:, 0].abs() < tol0) & (ra[:, 1].abs() < t1)
        near = (ra[:, 0].abs() < 0.1 * stall) & (ra[:, 1].abs() < 10.0 * stall)
        stuck = pending | (near & (na > 0.25 * before))  # no step, or rounding-level progress
        ok[act] = conv | (stuck & near)
        stopped[act] = conv | stuck
    return theta, ok


def _moment_jacobian(spec: _Quantized, th: Tensor) -> Tensor:
    """∂(mean, variance)/∂θ (n, 2, 2) of the pmf at θ."""
    lp, dlp = spec.logp(th, derivs=True)
    p = torch.exp(lp)
    k = torch.arange(1, spec.K + 1, dtype=th.dtype, device=th.device)
    m = (p * k).sum(1)
    dm = ((p * k)[..., None] * dlp).sum(1)
    de = ((p * k * k)[..., None] * dlp).sum(1)
    return torch.stack([dm, de - 2.0 * m[:, None] * dm], 1)


def _solve_moments(spec: _Quantized, psi: Tensor, var: Tensor) -> Tensor:
    """θ (n, 2) with mean ψ and variance v (interior points), differentiable in (ψ, v)."""
    with torch.no_grad():
        p0, v0 = psi.detach(), var.detach()
        theta, ok = _newton(_Moments(spec, p0, v0), spec.moment_start(p0, v0), spec.kind)
        if not bool(ok.all()):
            bad = torch.nonzero(~ok).squeeze(1)
            theta[bad], ok[bad] = _continuation(spec, p0[bad], v0[bad])
    if not bool(ok.all()):
        i = _first(~ok)
        _warn(
            f"{spec.kind}: {int((~ok).sum())} of {len(ok)} (mean, variance) pairs were not "
            f"matched to tolerance (first: mean {psi[i].item()!r}, variance {var[i].item()!r}); "
            "their results are the closest iterate",
            RuntimeWarning,
        )
    if torch.is_grad_enabled() and (psi.requires_grad or var.requires_grad):
        jac = _moment_jacobian(spec, theta)
        return _Root.apply(torch.stack([psi, var], -1), theta, jac)
    return theta


def _continuation(spec: _Quantized, psi: Tensor, var: Tensor):
    """Newton for the pairs it could not match directly: from the moment start θ₀, whose own
    (mean, ρ) are matched exactly, along the straight path in (mean, ρ) to the target, in eight
    stages each solved from the previous solution. Returns θ and the converged flags."""
    K = spec.K
    theta = spec.moment_start(psi, var)
    m0, v0 = _prob_moments(torch.exp(spec.logp(theta)))
    rho0, rho = rho_from_var(m0, v0, K), rho_from_var(psi, var, K)
    for stage in range(1, 9):
        w = stage / 8.0
        pm = (1.0 - w) * m0 + w * psi
        pv = var_from_rho(pm, (1.0 - w) * rho0 + w * rho, K)
        theta, ok = _newton(_Moments(spec, pm, pv), theta, spec.kind)
    return theta, ok


def _prob_moments(p: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and variance of probability rows (…, K) on 1..K."""
    k = torch.arange(1, p.shape[-1] + 1, dtype=p.dtype, device=p.device)
    m = (p * k).sum(-1)
    return m, ((k - m[..., None]) ** 2 * p).sum(-1)


# -- maximum entropy ---------------------------------------------------------------------------
def _maxent_points(K: int, like: Tensor) -> Tensor:
    """Categories centred and scaled to [−1, 1], x_k = (k − c)/h, for conditioning."""
    k = torch.arange(1, K + 1, dtype=like.dtype, device=like.device)
    return (k - 0.5 * (K + 1)) / (0.5 * (K - 1))


def _maxent_targets(psi: Tensor, var: Tensor, K: int) -> Tensor:
    """E[x] and E[x²] of the scaled categories for mean ψ and variance v."""
    c, h = 0.5 * (K + 1), 0.5 * (K - 1)
    return torch.stack([(psi - c) / h, (var + (psi - c) ** 2) / (h * h)], -1)


def _maxent_dual(lam: Tensor, x: Tensor, t: Tensor):
    """Dual φ(λ) = log Σ_k exp(λ₁x_k + λ₂x_k²) − λ·t, its gradient and Hessian (covariance)."""
    z = lam[:, :1] * x + lam[:, 1:] * x * x
    lse = torch.logsumexp(z, dim=1)
    w = torch.exp(z - lse[:, None])
    m1, m2, m3, m4 = ((w * x**q).sum(1) for q in range(1, 5))
    phi = lse - (lam * t).sum(1)
    cov = m3 - m1 * m2
    hess = torch.stack([torch.stack([m2 - m1 * m1, cov], -1),
                        torch.stack([cov, m4 - m2 * m2], -1)], 1)
    return phi, torch.stack([m1, m2], -1) - t, hess


def _maxent_lambdas(t: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
    """(λ₁, λ₂) minimizing the convex dual for targets t (n, 2), and the Hessian there.

    Newton's method with Armijo backtracking from λ = 0 (``_kernels.maxent.maxent_lambdas``);
    a step is also taken when φ rises by rounding only and the gradient halves. Rows stop when
    |∇φ| < 16ε, or when no step (or only rounding-level progress) is left, converged then if
    |∇φ| < √ε.
    """
    eps = _eps(t)
    tol, stall = 16.0 * eps, math.sqrt(eps)
    lam = torch.zeros_like(t)
    phi, g, hess = _maxent_dual(lam, x, t)
    done = (g.abs() < tol).all(1)
    ok = done.clone()
    for _ in range(_FIT_MAXIT):
        act = torch.nonzero(~done).squeeze(1)
        if act.numel() == 0:
            break
        la, pa, ga, ha = lam[act], phi[act], g[act], hess[act]
        before = (ga * ga).sum(1)
        d = -_solve2(ha, ga)
        d = torch.where(torch.isfinite(d).all(1, keepdim=True), d, -ga)
        slope = (ga * d).sum(1)
        step = torch.ones_like(pa)
        pending = torch.ones_like(pa, dtype=torch.bool)
        for _ls in range(60):
            idx = torch.nonzero(pending).squeeze(1)
            if idx.numel() == 0:
                break
            trial = la[idx] + step[idx, None] * d[idx]
            nphi, ng, nh = _maxent_dual(trial, x, t[act[idx]])
            good = (nphi <= pa[idx] + 1e-4 * step[idx] * slope[idx]) | (
                (nphi <= pa[idx] + 64.0 * eps * pa[idx].abs())
                & ((ng * ng).sum(1) < 0.25 * before[idx])
            )
            take = idx[good]
            la[take], pa[take], ga[take], ha[take] = trial[good], nphi[good], ng[good], nh[good]
            pending[take] = False
            step[idx[~good]] *= 0.5
        lam[act], phi[act], g[act], hess[act] = la, pa, ga, ha
        conv = (ga.abs() < tol).all(1)
        near = (ga.abs() < stall).all(1)
        stuck = pending | (near & ((ga * ga).sum(1) > 0.25 * before))
        ok[act] = conv | (stuck & near)
        done[act] = conv | stuck
    if not bool(ok.all()):
        _warn(
            f"maxent: the moment equations of {int((~ok).sum())} of {len(ok)} pairs were not "
            "solved to tolerance; their results are the closest iterate",
            RuntimeWarning,
        )
    return lam, hess


def _maxent_logp(psi: Tensor, var: Tensor, K: int) -> Tensor:
    """Maximum-entropy log-pmf (n, K) for interior (ψ, v), differentiable in both.

    p_k ∝ exp(λ₁x_k + λ₂x_k²) with E[x] and E[x²] matched; dλ/dt is the inverse covariance
    (the implicit function theorem applied to the dual's gradient E_λ[x, x²] − t = 0).
    """
    x = _maxent_points(K, psi)
    t = _maxent_targets(psi, var, K)
    with torch.no_grad():
        lam, hess = _maxent_lambdas(t.detach(), x)
    lam = _Root.apply(t, lam, hess)
    z = lam[:, :1] * x + lam[:, 1:] * x * x
    return z - torch.logsumexp(z, dim=1, keepdim=True)


# -- generalized score distribution ------------------------------------------------------------
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


# -- limits and dispatch -----------------------------------------------------------------------
def _resolve(family: str | Family) -> Family:
    fam = _family(family)
    if not isinstance(fam, QuantizedFamily | MaxEnt | GSD):
        raise TypeError(f"ratingdist.torch has no implementation of family {fam!r}")
    return fam


def _limit_probs(mean: Tensor, at_min: Tensor, K: int) -> Tensor:
    """Least-spread pmf max(0, 1 − |k − ψ|) where ``at_min``, else the pmf on {1, K}."""
    k = torch.arange(1, K + 1, dtype=mean.dtype, device=mean.device)
    least = torch.clamp(1.0 - (k - mean[:, None]).abs(), min=0.0)
    middle = torch.zeros((len(mean), K - 2), dtype=mean.dtype, device=mean.device)
    ends = torch.cat([((K - mean) / (K - 1.0))[:, None], middle,
                      ((mean - 1.0) / (K - 1.0))[:, None]], 1)
    return torch.where(at_min[:, None], least, ends)


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
    logistic (μ, s), beta and Kumaraswamy (a, b), logit-logistic (μ, s), maxent and GSD (ψ, ρ).
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


# -- maximum likelihood ------------------------------------------------------------------------
class Fit(NamedTuple):
    """Maximum-likelihood fits of :func:`fit`, one entry per stimulus (leading shape ``S``).

    Attributes
    ----------
    params : ``S + (2,)`` native parameters (limit values, e.g. scale 0, where ``limit``).
    probs : ``S + (K,)`` fitted probabilities.
    nll : ``S``, −Σ_k c_k log p_k.
    converged : ``S`` bool, the solver's convergence flags.
    limit : ``S`` bool, rows whose ratings lie in one category, two neighbouring ones or only
        in 1 and K: their fit is the empirical pmf, a limit of the quantized families.
    """

    params: Tensor
    probs: Tensor
    nll: Tensor
    converged: Tensor
    limit: Tensor


def _count_moments(c: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and population variance of rating counts (n, K)."""
    return _prob_moments(c / c.sum(1, keepdim=True))


def _degenerate(c: Tensor) -> Tensor:
    """Rows with ratings in one category, two neighbouring ones, or only in 1 and K."""
    nz = c > 0
    count = nz.sum(1)
    first = nz.to(torch.int8).argmax(1)
    last = c.shape[1] - 1 - nz.flip(1).to(torch.int8).argmax(1)
    least = (count == 1) | ((count == 2) & (last - first == 1))
    return least | (nz[:, 0] & nz[:, -1] & (count == 2))


def _nll(c: Tensor, lp: Tensor) -> Tensor:
    """−Σ_k c_k log p_k with 0·log 0 = 0 (inf where a rated category has p = 0)."""
    rated = c > 0
    terms = torch.where(rated, c * _safe(rated, lp, 0.0), torch.zeros_like(lp))
    return -terms.sum(-1)


def _nll_terms(c: Tensor, lp: Tensor, dlp: Tensor):
    """NLL, its gradient and the Fisher information N Σ_k p_k ∇log p_k ∇log p_kᵀ."""
    f = _nll(c, lp)
    g = -(c[..., None] * dlp).sum(1)
    p = torch.exp(lp)[..., None, None]
    info = c.sum(1)[:, None, None] * (p * dlp[..., :, None] * dlp[..., None, :]).sum(1)
    return f, g, info


def _direction(g: Tensor, info: Tensor, free: Tensor) -> Tensor:
    """Scoring direction −I⁻¹g on the free coordinates (``_kernels.solver._direction``):
    Levenberg damping where I is ill-conditioned, −g/I_ii with one free coordinate."""
    h00, h01, h11 = info[:, 0, 0], info[:, 0, 1], info[:, 1, 1]
    damp = 1e-12 * (h00 + h11) + 1e-300
    for _ in range(40):
        a, d = h00 + damp, h11 + damp
        bad = ~(a * d - h01 * h01 > 1e-14 * a * d)
        if not bool(bad.any()):
            break
        damp = torch.where(bad, torch.clamp(damp * 100.0, min=1e-12), damp)
    det = a * d - h01 * h01
    both = torch.stack([-(d * g[:, 0] - h01 * g[:, 1]), -(a * g[:, 1] - h01 * g[:, 0])], -1)
    both = torch.where(bad[:, None], -g, both / det[:, None])
    diag = torch.stack([h00, h11], -1)
    single = torch.where(diag > 0, -g / _safe(diag > 0, diag, 1.0), -g)
    out = torch.where(free.all(1, keepdim=True), both, single)
    return torch.where(free, out, torch.zeros_like(out))


def _free(th: Tensor, g: Tensor, lo: Tensor, hi: Tensor) -> Tensor:
    """Coordinates not held at a bound by the gradient."""
    return ~(((th <= lo) & (g > 0)) | ((th >= hi) & (g < 0)))


def _scoring(logp_fn, theta: Tensor, lo: Tensor, hi: Tensor, c: Tensor, max_iter: int,
             tol: float):
    """Projected Fisher scoring for the MLE of every row inside the box [lo, hi] (n, 2).

    As ``_kernels.solver.minimize_nll``: coordinates whose bound is active are fixed, the step
    −I⁻¹g is halved along the projected path until the Armijo condition holds, and a row stops
    when the decrement −gᵀd falls below ``tol`` (NLL units; at least N(8ε)², the rounding
    level of the gradient for N ratings), or when no step is accepted, or only rounding-level
    progress (converged then if the decrement is below max(1e-6, Nε)). Where the NLL is flat
    to rounding (decrement below 10³ε(1 + NLL)) a step is also taken when it halves the
    decrement. ``logp_fn(θ, rows)`` gives log p and ∂ log p/∂θ. Returns θ, the converged
    flags and the free-coordinate mask at the solution.
    """
    eps = _eps(theta)
    n_ratings = c.sum(1)
    floor = torch.clamp(n_ratings * (8.0 * eps) ** 2, min=tol)
    loose = torch.clamp(n_ratings * eps, min=1e-6)
    theta = torch.minimum(torch.maximum(theta, lo), hi)
    f, g, info = _nll_terms(c, *logp_fn(theta, torch.arange(len(c), device=c.device)))
    free = _free(theta, g, lo, hi)
    dec = -(g * _direction(g, info, free)).sum(1)
    done = ~torch.isfinite(f) | (dec < floor)
    ok = done & torch.isfinite(f)
    for _ in range(max_iter):
        act = torch.nonzero(~done).squeeze(1)
        if act.numel() == 0:
            break
        th, fa, ga, ia, fr = theta[act], f[act], g[act], info[act], free[act]
        la, ha, da = lo[act], hi[act], dec[act]
        before = da.clone()
        flat = da < 1e3 * eps * (1.0 + fa.abs())
        d = _direction(ga, ia, fr)
        t = torch.ones_like(fa)
        pending = torch.ones_like(fa, dtype=torch.bool)
        for _ls in range(60):
            idx = torch.nonzero(pending).squeeze(1)
            if idx.numel() == 0:
                break
            trial = torch.minimum(torch.maximum(th[idx] + t[idx, None] * d[idx], la[idx]), ha[idx])
            nf, ng, ni = _nll_terms(c[act[idx]], *logp_fn(trial, act[idx]))
            nfree = _free(trial, ng, la[idx], ha[idx])
            ndec = -(ng * _direction(ng, ni, nfree)).sum(1)
            armijo = nf <= fa[idx] + 1e-4 * (ga[idx] * (trial - th[idx])).sum(1)
            good = torch.isfinite(nf) & (armijo | (flat[idx] & (ndec < 0.5 * da[idx])))
            take = idx[good]
            th[take], fa[take], ga[take], ia[take] = trial[good], nf[good], ng[good], ni[good]
            fr[take], da[take] = nfree[good], ndec[good]
            pending[take] = False
            t[idx[~good]] *= 0.5
        theta[act], f[act], g[act], info[act], free[act], dec[act] = th, fa, ga, ia, fr, da
        conv = da < floor[act]
        near = da < loose[act]
        stuck = pending | (flat & (da > 0.5 * before))  # no step, or rounding-level progress
        ok[act] = conv | (stuck & near)
        done[act] = conv | stuck
    return theta, ok, free


def _solve_mle(logp_fn, theta0, lo, hi, c, max_iter, tol):
    """MLE θ (n, 2), differentiable in the counts (:class:`_Argmax`), and convergence flags.

    ``logp_fn(θ, rows, derivs)`` gives log p (and with ``derivs`` ∂ log p/∂θ) for the rows.
    """
    with torch.no_grad():
        theta, ok, free = _scoring(lambda th, rows: logp_fn(th, rows, True), theta0.detach(),
                                   lo, hi, c.detach(), max_iter, tol)
    theta = _Argmax.apply(c, theta, free, lambda th, rows: logp_fn(th, rows, False))
    return theta, ok


def _fit_quantized(fam: QuantizedFamily, c: Tensor, limit: Tensor, max_iter: int, tol: float):
    """Quantized-family MLE (``fitting._fit_quantized``): limit rows get the limit parameters
    and the empirical pmf, the others Fisher scoring from the moment start (variance kept 2 %
    of the feasible width away from its bounds). Returns params, probs, converged."""
    K = c.shape[1]
    spec = _Quantized(fam, K, c)
    mean, var = _count_moments(c)
    params = spec.limit_params(mean, _boundary(mean, var, K)[0])
    probs = c / c.sum(1, keepdim=True)
    converged = torch.ones_like(limit)
    idx = torch.nonzero(~limit).squeeze(1)
    if idx.numel():
        m, v = mean[idx].detach(), var[idx].detach()
        lo, hi = v_min(m), v_max(m, K)
        v = torch.minimum(torch.maximum(v, lo + 0.02 * (hi - lo)), hi - 0.02 * (hi - lo))
        inf = torch.full((len(idx), 2), math.inf, dtype=c.dtype, device=c.device)
        theta, ok = _solve_mle(lambda th, rows, derivs: spec.logp(th, derivs),
                               spec.moment_start(m, v), -inf, inf, c[idx], max_iter, tol)
        params = params.index_put((idx,), spec.from_theta(theta))
        probs = probs.index_put((idx,), torch.exp(spec.logp(theta)))
        converged = converged.index_put((idx,), ok)
    return params, probs, converged


def _fit_gsd(c: Tensor, max_iter: int, tol: float):
    """GSD MLE over its smooth pieces near the sample mean (``_kernels.batch.fit_gsd``): the
    beta-binomial piece from (ψ̂, min(ρ̂/C, 0.999)), the mixture pieces ψ ∈ [j, j + 1] for j
    within one of ⌊ψ̂⌋; the piece with the lowest NLL wins (ties to the first). Rows in one
    category, two neighbouring ones or only 1 and K keep the moment estimate (ψ̂, ρ̂), whose
    pmf is their empirical one. Returns params, converged."""
    K = c.shape[1]
    mean, var = _count_moments(c)
    rho = rho_from_var(mean, var, K)
    params = torch.stack([mean, rho], -1)
    converged = torch.ones_like(mean, dtype=torch.bool)
    idx = torch.nonzero(~_degenerate(c)).squeeze(1)
    if idx.numel() == 0:
        return params, converged
    cs, psi0, rho0 = c[idx], mean[idx].detach(), rho[idx].detach()
    c0 = _gsd_shape(psi0, K)
    n = len(idx)
    box = torch.tensor([[1.0, 0.0], [float(K), 1.0]], dtype=c.dtype, device=c.device)
    r_a = torch.where(c0 > 0, torch.clamp(rho0 / _safe(c0 > 0, c0, 1.0), max=0.999), 0.5)
    start = torch.stack([psi0, torch.clamp(r_a, min=1e-3)], -1)
    bb = _solve_mle(lambda th, rows, derivs: _gsd_beta_binomial(th[:, 0], th[:, 1], K, derivs),
                    start, box[0].expand(n, 2), box[1].expand(n, 2), cs, max_iter, tol)
    j_mid = torch.clamp(torch.floor(psi0), 1, K - 1)
    r_b = torch.where(c0 < 1, (rho0 - c0) / _safe(c0 < 1, 1.0 - c0, 1.0), 0.5)
    r_b = torch.clamp(r_b, 1e-3, 0.999)
    pieces = []
    for offset in (-1, 0, 1):
        j = j_mid + offset
        rows = torch.nonzero((j >= 1) & (j <= K - 1)).squeeze(1)
        jr = j[rows]
        lo = torch.stack([jr, torch.zeros_like(jr)], -1)
        hi = torch.stack([jr + 1.0, torch.ones_like(jr)], -1)
        start = torch.stack([torch.minimum(torch.maximum(psi0[rows], jr + 1e-3), jr + 1 - 1e-3),
                             r_b[rows]], -1)
        jl = jr.long()

        def mix(th, sub, derivs, jl=jl):
            return _gsd_mixture(th[:, 0], th[:, 1], jl[sub], K, derivs)

        pieces.append((rows, jl, *_solve_mle(mix, start, lo, hi, cs[rows], max_iter, tol)))
    psi, r = bb[0][:, 0], bb[0][:, 1]
    best = _nll(cs, _gsd_beta_binomial(psi, r, K)).detach()
    rho_hat, ok = _gsd_shape(psi, K) * r, bb[1]
    for rows, jl, theta, piece_ok in pieces:
        nll = _nll(cs[rows], _gsd_mixture(theta[:, 0], theta[:, 1], jl, K)).detach()
        better = nll < best[rows]
        win, th = rows[better], theta[better]
        shape = _gsd_shape(th[:, 0], K)
        psi = psi.index_put((win,), th[:, 0])
        rho_hat = rho_hat.index_put((win,), shape + (1.0 - shape) * th[:, 1])
        best = best.index_put((win,), nll[better])
        ok = ok.index_put((win,), piece_ok[better])
    fitted = torch.stack([psi.clamp(1.0, float(K)), rho_hat.clamp(0.0, 1.0)], -1)
    return params.index_put((idx,), fitted), converged.index_put((idx,), ok)


def fit(
    family: str | Family, counts: Tensor, *, max_iter: int = _FIT_MAXIT, tol: float = 1e-10
) -> Fit:
    """Maximum-likelihood fit of a family to rating counts or histograms ``S + (K,)``.

    As ``rd.fit`` (natural bounds), row by row and batched: quantized families by Fisher
    scoring from the moment-matched start, maxent by moment matching (its MLE), GSD by
    projected scoring on its smooth pieces. Counts may be integers or non-negative floats (a
    predicted histogram of probabilities fits like counts that sum to 1). The parameters and
    probabilities are differentiable in the counts: the implicit function theorem at the
    optimum, with coordinates held at a bound of a GSD piece fixed.

    Parameters
    ----------
    family : a name from ``rd.FAMILIES`` or a family object.
    counts : ``S + (K,)`` non-negative counts, integer or floating.
    max_iter : iteration cap of the scoring solver per row.
    tol : Newton decrement −gᵀd (NLL units) at which a row has converged; the default is that
        of ``rd.fit``, so both stop at the same iterate. Smaller values (down to 0: until no
        step helps) give the optimum to near machine precision, which implicit gradients
        assume; the deviation from it is ≈ √(tol/N) in the parameters.

    Returns
    -------
    Fit
        params, probs, nll, converged, limit (see :class:`Fit`).

    Examples
    --------
    >>> import torch, ratingdist.torch as rdt
    >>> res = rdt.fit("normal", torch.tensor([[0, 0, 25, 73, 7]], dtype=torch.float64))
    >>> res.params.round(decimals=3).tolist()
    [[3.824, 0.446]]
    """
    fam = _resolve(family)
    c = _check_probs(counts, "counts", counts=True)
    K = c.shape[-1]
    flat = c.reshape(-1, K)
    empty = flat.sum(1) <= 0
    if bool(empty.any()):
        raise ValueError(f"counts row {_index(_first(empty), c.shape[:-1])} has no ratings")
    limit = _degenerate(flat)
    if isinstance(fam, QuantizedFamily):
        params, probs, converged = _fit_quantized(fam, flat, limit, max_iter, tol)
    else:
        if isinstance(fam, MaxEnt):
            mean, var = _count_moments(flat)
            params = torch.stack([mean, rho_from_var(mean, var, K)], -1)
            converged = torch.ones_like(limit)
        else:
            params, converged = _fit_gsd(flat, max_iter, tol)
            limit = torch.zeros_like(limit)
        probs = torch.exp(_native_logp(fam, params, K))
    shape = c.shape[:-1]
    nll = _nll(flat, _log_where(probs))
    return Fit(params.reshape(*shape, 2), probs.reshape(*shape, K), nll.reshape(shape),
               converged.reshape(shape), limit.reshape(shape))


# -- quantiles ---------------------------------------------------------------------------------
class _BetaIncInv(torch.autograd.Function):
    """x with I_x(a, b) = q; dx/dq = 1/f(x), dx/d(a, b) = −∂I/∂(a, b)/f(x) (f the beta pdf)."""

    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor, q: Tensor) -> Tensor:
        x = _betaincinv(a, b, q)
        ctx.save_for_backward(a, b, x)
        return x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):
        a, b, x = ctx.saved_tensors
        inside = (x > 0) & (x < 1)
        xs = _safe(inside, x, 0.5)
        li, _, dli, _ = _log_betainc(xs, a, b, derivs=True)
        log_pdf = ((a - 1.0) * torch.log(xs) + (b - 1.0) * torch.log1p(-xs)
                   - torch.lgamma(a) - torch.lgamma(b) + torch.lgamma(a + b))
        w = _safe(inside, grad * torch.exp(-log_pdf), 0.0)
        di = torch.exp(li)[..., None] * dli
        return -w * di[..., 0], -w * di[..., 1], w


def _betaincinv(a: Tensor, b: Tensor, q: Tensor) -> Tensor:
    """Inverse of I_x(a, b) in x (1-D inputs): safeguarded Newton in y = logit x.

    G(y) = log I − log q (q ≤ 1/2) or log(1 − q) − log(1 − I) (q > 1/2), increasing in y,
    G' = f(x)·x(1 − x)/I (resp. /(1 − I)); a step leaving the bracket of the sign changes seen
    so far is replaced by bisection.
    """
    big = 0.9 * math.log(torch.finfo(q.dtype).max)
    tol = 8.0 * _eps(q)
    lower_side = q <= 0.5
    log_q = torch.where(lower_side, torch.log(q), torch.log1p(-q))
    y = torch.logit(a / (a + b))
    lo, hi = torch.full_like(y, -big), torch.full_like(y, big)
    act = torch.nonzero((q > 0) & (q < 1)).squeeze(1)
    for _ in range(400):
        if act.numel() == 0:
            break
        ya, aa, ba = y[act], a[act], b[act]
        x = torch.sigmoid(ya)
        li, lj = _log_betainc(x, aa, ba)
        side = lower_side[act]
        g = torch.where(side, li - log_q[act], log_q[act] - lj)
        log_slope = (aa * torch.log(x) + ba * torch.log1p(-x) - torch.lgamma(aa)
                     - torch.lgamma(ba) + torch.lgamma(aa + ba) - torch.where(side, li, lj))
        lo[act] = torch.where(g < 0, ya, lo[act])
        hi[act] = torch.where(g > 0, ya, hi[act])
        step = g * torch.exp(-log_slope)
        new = ya - step
        bisect = ~torch.isfinite(new) | (new <= lo[act]) | (new >= hi[act])
        new = torch.where(bisect, 0.5 * (lo[act] + hi[act]), new)
        y[act] = new
        small = (new - ya).abs() <= tol * (1.0 + ya.abs())
        act = act[~(small | (g == 0))]
    x = torch.sigmoid(y)
    return torch.where(q <= 0, torch.zeros_like(x), torch.where(q >= 1, torch.ones_like(x), x))


def _latent_ppf(spec: _Quantized, th: Tensor, alpha: Tensor) -> Tensor:
    """F⁻¹(α) of the latent quality on the rating axis at solver coordinates θ (n, 2)."""
    K = spec.K
    if spec.kind == "normal":
        return th[:, 0] + torch.exp(th[:, 1]) * torch.special.ndtri(alpha)
    if spec.kind == "logistic":
        return th[:, 0] + torch.exp(th[:, 1]) * torch.logit(alpha)
    if spec.kind == "logit-logistic":
        x = torch.sigmoid(th[:, 0] + torch.exp(th[:, 1]) * torch.logit(alpha))
    elif spec.kind == "kumaraswamy":  # (1 − (1 − α)^{1/b})^{1/a}
        a = torch.exp(th[:, 0])
        inv_b = torch.exp(_kumaraswamy_h(th[:, 0], spec.g_ref)[0] - th[:, 1])
        x = torch.exp(torch.log(-torch.expm1(torch.log1p(-alpha) * inv_b)) / a)
    else:
        ab = torch.exp(th)
        x = _BetaIncInv.apply(ab[:, 0], ab[:, 1], alpha)
    return 0.5 + K * x


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
    0.5 + K(1 − (1 − α)^{1/b})^{1/a}, logit-logistic 0.5 + K·expit(logit μ + s·logit α).
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


# -- QoE figures and losses --------------------------------------------------------------------
def _normalized(x, name: str, like: Tensor | None = None) -> Tensor:
    """Rows of probabilities or counts (integer counts allowed) divided by their sums."""
    p = _check_probs(x, name, like=like, counts=True)
    return p / p.sum(-1, keepdim=True)


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


def nll_loss(
    counts: Tensor, probs: Tensor, *, log_input: bool = False, reduction: str = "mean"
) -> Tensor:
    """Negative log-likelihood −Σ_k c_k log p_k of observed rating counts, ``S + (K,)`` each.

    The multinomial coefficient is dropped (as in ``rd.gof.nll``) and 0·log 0 = 0.
    ``log_input=True`` takes log-probabilities (e.g. :func:`logpmf_from_moments`), which is
    more stable for tiny probabilities. ``reduction``: ``"mean"`` over the batch (default),
    ``"sum"``, or ``"none"`` for one value per stimulus.

    Examples
    --------
    >>> import torch, ratingdist.torch as rdt
    >>> p = torch.tensor([[0.1, 0.2, 0.4, 0.2, 0.1]])
    >>> round(rdt.nll_loss(torch.tensor([[0, 1, 2, 1, 0]]), p).item(), 4)
    5.0515
    """
    if log_input:
        lp = _as_float(probs, "probs")
        if lp.ndim == 0 or lp.shape[-1] < 3:
            raise ValueError(f"probs must have shape (..., K) with K >= 3, got {tuple(lp.shape)}")
        if bool((torch.isnan(lp) | (lp > 0)).any()):
            i = _first(torch.isnan(lp) | (lp > 0))
            raise ValueError(f"log-probability at index {_index(i, lp.shape)} is "
                             f"{lp.reshape(-1)[i].item()!r} (must be <= 0)")
    else:
        lp = _log_where(_check_probs(probs, "probs"))
    c = _check_probs(counts, "counts", like=lp, counts=True)
    return _reduce(_nll(c, lp), reduction)


def emd_loss(p: Tensor, q: Tensor, r: float = 2.0, *, reduction: str = "mean") -> Tensor:
    """Earth mover's distance of NIMA, ((1/K) Σ_k |CDF_p(k) − CDF_q(k)|^r)^{1/r}, ``S + (K,)``.

    Rows of p and q (probabilities or counts) are normalized first. r = 2 is the NIMA loss
    (Talebi & Milanfar 2018); r > 0. The gradient at p = q is taken as 0.

    Examples
    --------
    >>> import torch, ratingdist.torch as rdt
    >>> p = torch.tensor([[0.0, 0.0, 1.0, 0.0, 0.0]])
    >>> q = torch.tensor([[0.0, 0.0, 0.0, 1.0, 0.0]])
    >>> round(rdt.emd_loss(p, q).item(), 4)
    0.4472
    """
    if not r > 0:
        raise ValueError(f"r must be > 0, got {r!r}")
    pp = _normalized(p, "p")
    qq = _normalized(q, "q", like=pp)
    gap = (torch.cumsum(pp, -1) - torch.cumsum(qq, -1)).abs()
    power = (gap**r).mean(-1)
    pos = power > 0
    dist = torch.where(pos, _safe(pos, power, 1.0) ** (1.0 / r), torch.zeros_like(power))
    return _reduce(dist, reduction)
