"""Batched maximum-likelihood fits: projected Fisher scoring per row, differentiable in the
counts."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

from ..families import Family, QuantizedFamily
from ..families.maxent import MaxEnt
from ._checks import _check_probs, _first, _index
from ._gsd import _gsd_beta_binomial, _gsd_mixture, _gsd_shape
from ._implicit import _Argmax
from ._losses import _nll
from ._numerics import _FIT_MAXIT, _eps
from ._pmf import _native_logp, _resolve
from ._quantized import _Quantized
from ._region import _boundary, _prob_moments, rho_from_var, v_max, v_min
from ._special import _log_where, _safe


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


def _nll_terms(c: Tensor, lp: Tensor, dlp: Tensor):
    """NLL, its gradient and the Fisher information N Σ_k p_k ∇log p_k ∇log p_kᵀ."""
    f = _nll(c, lp)
    g = -(c[..., None] * dlp).sum(1)
    p = torch.exp(lp)[..., None, None]
    info = c.sum(1)[:, None, None] * (p * dlp[..., :, None] * dlp[..., None, :]).sum(1)
    return f, g, info


def _direction(g: Tensor, info: Tensor, free: Tensor) -> Tensor:
    """Scoring direction −I⁻¹g on the free coordinates (cf. ``_kernels.solver._trust_step``):
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
