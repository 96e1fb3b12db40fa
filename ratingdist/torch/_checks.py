"""Input checks (shapes, dtypes, devices, ranges; errors that name the first bad entry) and
warnings attributed to the caller."""

from __future__ import annotations

import os
import sys
import warnings

import torch
from torch import Tensor

from ..families import Family, QuantizedFamily
from ._numerics import _feasibility_tol
from ._region import v_max, v_min

_PACKAGE_DIR = os.path.dirname(__file__)


def _warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the first caller outside this package."""
    frame, level = sys._getframe(0), 1
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == _PACKAGE_DIR:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


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


def _normalized(x, name: str, like: Tensor | None = None) -> Tensor:
    """Rows of probabilities or counts (integer counts allowed) divided by their sums."""
    p = _check_probs(x, name, like=like, counts=True)
    return p / p.sum(-1, keepdim=True)
