"""Quantized metric models (normal, logistic, beta, Kumaraswamy, logit-logistic) in solver
coordinates: native parameters ↔ θ, log-pmfs with θ-derivatives, limit parameters, moment
starts and the latent quantile function."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..families import QuantizedFamily
from ._numerics import _tiny
from ._special import (
    _HALF_LOG_2PI,
    _NEG_INF,
    _BetaIncInv,
    _log1mexp,
    _log_betainc,
    _logsubexp,
    _safe,
)

_SQRT3_OVER_PI = math.sqrt(3.0) / math.pi
_GUMBEL_SD = math.pi / math.sqrt(6.0)
_LOG_LOG_2 = math.log(math.log(2.0))


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

    θ = (μ, log σ) for normal and logistic, (logit_mu, log s) for logit-logistic (native
    (logit_mu, s); thresholds logit t), (log a, log b) for beta, and the centred
    (log a, log b + h(a, t_ref)) for Kumaraswamy (thresholds log t, t_ref the middle one).
    """

    def __init__(self, fam: QuantizedFamily, K: int, like: Tensor):
        self.fam, self.K, self.kind = fam, K, fam.name
        t = torch.as_tensor(fam.thresholds(K), dtype=like.dtype, device=like.device)
        self.t = t
        self.g = {"logit-logistic": torch.logit(t), "kumaraswamy": torch.log(t)}.get(self.kind, t)
        self.g_ref = self.g[(K - 1) // 2]

    # -- coordinates -------------------------------------------------------------------
    def to_theta(self, p: Tensor) -> Tensor:
        if self.kind in ("normal", "logistic", "logit-logistic"):
            return torch.stack([p[..., 0], torch.log(p[..., 1])], dim=-1)
        lp = torch.log(p)
        if self.kind == "beta":
            return lp
        h_ref = _kumaraswamy_h(lp[..., 0], self.g_ref)[0]
        return torch.stack([lp[..., 0], lp[..., 1] + h_ref], dim=-1)

    def from_theta(self, th: Tensor) -> Tensor:
        if self.kind in ("normal", "logistic", "logit-logistic"):
            return torch.stack([th[..., 0], torch.exp(th[..., 1])], dim=-1)
        if self.kind == "beta":
            return torch.exp(th)
        h_ref = _kumaraswamy_h(th[..., 0], self.g_ref)[0]
        return torch.stack([torch.exp(th[..., 0]), torch.exp(th[..., 1] - h_ref)], dim=-1)

    def limit_params(self, mean: Tensor, at_min: Tensor) -> Tensor:
        """Limit parameters on the boundary, as ``QuantizedFamily.from_moments`` returns them."""
        K = self.K
        inf = torch.full_like(mean, math.inf)
        if self.kind in ("beta", "kumaraswamy"):
            lim = torch.where(at_min, inf, torch.zeros_like(mean))
            return torch.stack([lim, lim], dim=-1)
        lower = torch.clamp(torch.floor(mean), 1, K - 1).long()
        between = self.t[lower - 1]
        point = (mean - 0.5) / K if self.fam.unit_interval else mean
        loc = torch.where(mean == torch.floor(mean), point, between)
        if self.kind == "logit-logistic":  # native location logit μ
            loc = torch.logit(loc)
        # at v_max the scale → ∞ with the location running off towards the heavier end
        # (the middle of the scale, logit μ = 0, if both ends weigh the same)
        middle = torch.full_like(mean, 0.0 if self.kind == "logit-logistic" else (1 + K) / 2)
        off = torch.where(mean > (1 + K) / 2, inf, torch.where(mean < (1 + K) / 2, -inf, middle))
        return torch.stack(
            [torch.where(at_min, loc, off), torch.where(at_min, torch.zeros_like(mean), inf)],
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
