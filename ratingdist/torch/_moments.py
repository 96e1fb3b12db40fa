"""The mean/variance parameterization of the quantized families: batched Newton with
Levenberg–Marquardt damping on log-ratio residuals, continuation where it fails, and the
implicit-function backward pass."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._checks import _first, _warn
from ._implicit import _Root, _solve2
from ._numerics import _LM_RETRIES, _NEWTON_MAXIT, _eps
from ._quantized import _Quantized
from ._region import _prob_moments, rho_from_var, v_max, v_min, var_from_rho
from ._special import _log_where, _safe


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
