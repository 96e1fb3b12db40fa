"""Training losses: the negative log-likelihood of rating counts and the EMD of NIMA."""

from __future__ import annotations

import torch
from torch import Tensor

from ._checks import _as_float, _check_probs, _first, _index, _normalized
from ._special import _log_where, _safe

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(x: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return x.mean()
    if reduction == "sum":
        return x.sum()
    if reduction == "none":
        return x
    raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _nll(c: Tensor, lp: Tensor) -> Tensor:
    """−Σ_k c_k log p_k with 0·log 0 = 0 (inf where a rated category has p = 0)."""
    rated = c > 0
    terms = torch.where(rated, c * _safe(rated, lp, 0.0), torch.zeros_like(lp))
    return -terms.sum(-1)


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
