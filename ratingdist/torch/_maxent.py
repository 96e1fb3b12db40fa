"""The maximum-entropy family: Lagrange multipliers by Newton on the convex dual, and its
log-pmf differentiable in (mean, variance)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._checks import _warn
from ._implicit import _Root, _solve2
from ._numerics import _FIT_MAXIT, _eps


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
