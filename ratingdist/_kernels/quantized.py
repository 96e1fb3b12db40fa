"""Log-probabilities of quantized metric models and their derivatives, per stimulus.

A latent variable with cdf F is cut at thresholds t_1 < … < t_{K−1}:
p_k = F(t_k) − F(t_{k−1}) (F(t_0) = 0, F(t_K) = 1). Everything is computed in log space, each
cell from whichever side (cdf or survival function) loses no precision.

Solver coordinates θ (unconstrained):

- normal, logistic: θ = (μ, log σ), z = (t − μ)/σ on the rating axis;
- logit-logistic: θ = (logit μ, log s), z = (logit t − logit μ)/s, i.e. logit X is logistic;
- Kumaraswamy: θ = (log a, log b); with u = log b + h(a, t), h = log(−log(1 − t^a)), the cdf
  is the Gumbel-minimum cdf 1 − exp(−e^u), which keeps b ≈ 1e30 (concentrated fits) exact.
  Concentrated members lie on a curved ridge log b ≈ −a·log t, so the unbounded solvers use
  centred coordinates θ = (log a, log b + h(a, t_ref)) instead (code KUMARASWAMY_CENTRED,
  log t_ref stored after the thresholds in ``g``), in which the model is close to a
  location-scale one in log t with scale 1/a;
- beta: θ = (log a, log b), F = I_t(a, b), the regularized incomplete beta function.

``g`` holds the thresholds transformed for the family: the rating-axis thresholds for normal and
logistic, logit t for logit-logistic, log t for Kumaraswamy and t for beta.

Reference: Saupe, Rusek, Hägele, Weiskopf, Janowski, "Maximum entropy and quantized metric
models for absolute category ratings", IEEE Signal Processing Letters 31 (2024) 2970–2974.
"""

import math

import numpy as np
from numba.extending import register_jitable

from .codes import BETA, KUMARASWAMY, KUMARASWAMY_CENTRED, NORMAL
from .jit import INNER
from .special import (
    NAN,
    NO_CONSTANTS,
    log1mexp,
    log_betainc_with_grad_cached,
    log_expit,
    log_ndtr,
    logsubexp,
    norm_logpdf,
)

_NEG_INF = -np.inf


@register_jitable(**INNER)
def _standard_terms(fam, z):
    """(log F0, log S0, d log F0/dz, d log S0/dz) of the standard latent cdf at z."""
    if fam == NORMAL:
        lf = log_ndtr(z)
        ls = log_ndtr(-z)
        lpdf = norm_logpdf(z)
        return lf, ls, math.exp(lpdf - lf), -math.exp(lpdf - ls)
    if fam == KUMARASWAMY or fam == KUMARASWAMY_CENTRED:  # Gumbel minimum: F0(u) = 1 − exp(−e^u)
        eu = math.exp(z)
        dlf = 1.0 if eu < 1e-300 else eu / math.expm1(eu)
        return log1mexp(-eu), -eu, dlf, -eu
    # logistic and logit-logistic
    lf = log_expit(z)
    ls = log_expit(-z)
    return lf, ls, math.exp(ls), -math.exp(lf)


@register_jitable(**INNER)
def kumaraswamy_h(log_a, log_t):
    """h = log(−log(1 − t^a)) and dh/d(log a), stable for t^a → 0 and t^a → 1.

    With y = a·log t and L = log(−y) = log a + log(−log t): h = y where t^a < 4e-18, and
    h = log(−L − y/2) (−log(1 − e^y) = −log(−y) − y/2 + O(y²)) where |y| < 2e-9, so that a may
    underflow: members with almost all mass at 1 and K have log a ≈ −1/ρ.
    """
    log_neg_y = log_a + math.log(-log_t)
    if log_neg_y < -20.0:
        half = 0.5 * math.exp(log_neg_y)  # −y/2
        series = half - log_neg_y
        return math.log(series), (half - 1.0) / series
    y = -math.exp(log_neg_y)  # log(t^a) < 0
    if y < -40.0:  # t^a < 4e-18: −log(1 − t^a) = t^a to double precision
        return y, y
    ty = math.exp(y)
    one_minus = -math.expm1(y)  # 1 − t^a
    neg_log = -log1mexp(y)  # −log(1 − t^a) > 0
    return math.log(neg_log), y * ty / (one_minus * neg_log)


@register_jitable(**INNER)
def _kumaraswamy_ref(fam, th0, g_ref):
    """(h, dh/d(log a)) at the reference threshold of the centred Kumaraswamy coordinates, which
    depend on θ0 only (one evaluation for all thresholds); (0, 0) for the plain ones."""
    if fam == KUMARASWAMY_CENTRED:
        return kumaraswamy_h(th0, g_ref)
    return 0.0, 0.0


@register_jitable(**INNER)
def _kumaraswamy_terms(fam, th0, th1, g, h_ref, dh_ref):
    """:func:`threshold_terms` of the Kumaraswamy codes, with :func:`_kumaraswamy_ref` given."""
    h, dh = kumaraswamy_h(th0, g)
    if fam == KUMARASWAMY_CENTRED:
        h -= h_ref
        dh -= dh_ref
    z = th1 + h
    lf, ls, df, ds = _standard_terms(fam, z)
    return lf, ls, df * dh, df, ds * dh, ds


@register_jitable(**INNER)
def threshold_terms(fam, th0, th1, g, g_ref):
    """log F, log S at one threshold and their gradients in θ.

    Returns (lF, lS, dlF0, dlF1, dlS0, dlS1).
    """
    if fam == BETA:
        a = math.exp(th0)
        b = math.exp(th1)
        # log_betainc_with_grad without its entry point (one compiled level fewer)
        r = log_betainc_with_grad_cached(g, a, b, NAN, NAN, NAN, NAN, NO_CONSTANTS)
        lf, ls, dfa, dfb, dsa, dsb = r[0], r[1], r[2], r[3], r[4], r[5]
        return lf, ls, a * dfa, b * dfb, a * dsa, b * dsb
    if fam == KUMARASWAMY or fam == KUMARASWAMY_CENTRED:
        h_ref, dh_ref = _kumaraswamy_ref(fam, th0, g_ref)
        return _kumaraswamy_terms(fam, th0, th1, g, h_ref, dh_ref)
    scale = math.exp(th1)
    z = (g - th0) / scale
    lf, ls, df, ds = _standard_terms(fam, z)
    # dz/dθ0 = −1/σ, dz/dθ1 = −z
    return lf, ls, -df / scale, -df * z, -ds / scale, -ds * z


@register_jitable(**INNER)
def quantized_logp(fam, th0, th1, g, K, logp, dlogp):
    """Fill logp (K,) and dlogp (K, 2) = ∂ log p_k / ∂θ for one stimulus."""
    p_lf = _NEG_INF
    p_ls = 0.0
    p_dlf0 = 0.0
    p_dlf1 = 0.0
    p_dls0 = 0.0
    p_dls1 = 0.0
    g_ref = g[K - 1] if g.shape[0] >= K else 0.0
    # beta: the digamma differences of log_betainc_with_grad depend on (a, b) only, one pair
    # per side of the mode, computed once for all thresholds
    a = math.exp(th0)
    b = math.exp(th1)
    p1 = np.nan
    p2 = np.nan
    q1 = np.nan
    q2 = np.nan
    # Kumaraswamy: h at the reference threshold depends on θ0 only
    kumaraswamy = fam == KUMARASWAMY or fam == KUMARASWAMY_CENTRED
    h_ref, dh_ref = _kumaraswamy_ref(fam, th0, g_ref) if kumaraswamy else (0.0, 0.0)
    for k in range(K):
        if k < K - 1 and fam == BETA:
            lf, ls, dfa, dfb, dsa, dsb, p1, p2, q1, q2 = log_betainc_with_grad_cached(
                g[k], a, b, p1, p2, q1, q2, NO_CONSTANTS
            )
            dlf0, dlf1, dls0, dls1 = a * dfa, b * dfb, a * dsa, b * dsb
        elif k < K - 1 and kumaraswamy:
            lf, ls, dlf0, dlf1, dls0, dls1 = _kumaraswamy_terms(fam, th0, th1, g[k], h_ref, dh_ref)
        elif k < K - 1:
            lf, ls, dlf0, dlf1, dls0, dls1 = threshold_terms(fam, th0, th1, g[k], g_ref)
        else:
            lf, ls, dlf0, dlf1, dls0, dls1 = 0.0, _NEG_INF, 0.0, 0.0, 0.0, 0.0
        if lf <= p_ls:  # the cell lies below the middle: difference of cdfs
            lp = logsubexp(lf, p_lf)
            if lp == _NEG_INF:
                d0 = 0.0
                d1 = 0.0
            else:
                w_hi = math.exp(lf - lp)
                w_lo = math.exp(p_lf - lp)
                d0 = w_hi * dlf0 - w_lo * p_dlf0
                d1 = w_hi * dlf1 - w_lo * p_dlf1
        else:  # difference of survival functions
            lp = logsubexp(p_ls, ls)
            if lp == _NEG_INF:
                d0 = 0.0
                d1 = 0.0
            else:
                w_hi = math.exp(p_ls - lp)
                w_lo = math.exp(ls - lp)
                d0 = w_hi * p_dls0 - w_lo * dls0
                d1 = w_hi * p_dls1 - w_lo * dls1
        logp[k] = lp
        dlogp[k, 0] = d0
        dlogp[k, 1] = d1
        p_lf, p_ls, p_dlf0, p_dlf1, p_dls0, p_dls1 = lf, ls, dlf0, dlf1, dls0, dls1
