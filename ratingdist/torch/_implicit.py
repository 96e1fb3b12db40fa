"""Differentiation of solutions by the implicit function theorem: roots of equations
(:class:`_Root`) and maxima of likelihoods (:class:`_Argmax`)."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from ._special import _safe


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
