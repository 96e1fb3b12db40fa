"""Independent reference implementation of the rating-distribution models.

This module is used by the test-suite to check the fast ``ratingdist`` library. It is written
independently of the library (it never imports it) and favours clarity and correctness over
speed:

* quantized metric models (QMM) are built from ``scipy.stats`` cdfs or, for the Kumaraswamy and
  logit-logistic laws, from their explicit cdf formulas evaluated with 50 digits in ``mpmath``;
  the latent quantile functions use numeric root finding rather than closed-form inverses;
* the generalized score distribution (GSD) is evaluated in ``mpmath`` straight from its
  definition (beta-binomial branch, binomial, and binomial / least-spread mixture);
* the maximum-entropy pmf is found by brute-force maximisation of the entropy over the
  probability simplex subject to the moment constraints (not via the exponential-family form);
* maximum-likelihood fits use a vectorized coarse grid plus random starts followed by a
  bounded truncated-Newton polish (``scipy.optimize`` TNC) of the best few candidates; the GSD
  is fitted piecewise over the boxes on which its likelihood is smooth; the maxent model is
  fitted by likelihood in its exponential form (a convex problem).

Conventions (``notes.md`` sections 1.2 and 2, ``design.md`` section 3): ratings are categories
``1..K`` (default ``K = 5``); for a mean ``m``, ``v_min(m) = (ceil(m) - m)(m - floor(m))`` and
``v_max(m) = (m - 1)(K - m)``. Normal and logistic latents live on the rating axis with thresholds
``k + 0.5``; beta, Kumaraswamy and logit-logistic latents live on ``[0, 1]`` with thresholds
``k / K``, which is the rating axis ``u = 0.5 + K x``.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from scipy import linalg, optimize, special, stats

__all__ = [
    "FAMILIES",
    "QUANTIZED_FAMILIES",
    "family_pmf",
    "gsd_pmf_exact",
    "maxent_pmf_bruteforce",
    "maxent_pmf_exp",
    "mle_multistart",
    "nll",
    "quantized_cdf",
    "quantized_pmf",
    "quantized_ppf",
    "v_max",
    "v_min",
]

FAMILIES = ("normal", "logistic", "beta", "kumaraswamy", "logit-logistic", "maxent", "gsd")
QUANTIZED_FAMILIES = ("normal", "logistic", "beta", "kumaraswamy", "logit-logistic")
_UNIT_FAMILIES = ("beta", "kumaraswamy", "logit-logistic")
_MP_FAMILIES = ("kumaraswamy", "logit-logistic")

#: Probability floor used only inside the optimizer's search objective (never in reported NLLs).
_SEARCH_FLOOR = 1e-300


# --------------------------------------------------------------------------------------------
# Scale helpers
# --------------------------------------------------------------------------------------------
def v_min(mean):
    """Smallest variance of a distribution on the integers with the given mean.

    Parameters
    ----------
    mean : float or array_like
        Mean ``m``.

    Returns
    -------
    float or numpy.ndarray
        ``(ceil(m) - m) * (m - floor(m))``.
    """
    m = np.asarray(mean, dtype=float)
    return (np.ceil(m) - m) * (m - np.floor(m))


def v_max(mean, K=5):
    """Largest variance of a distribution on ``1..K`` with the given mean.

    Parameters
    ----------
    mean : float or array_like
        Mean ``m`` in ``[1, K]``.
    K : int, optional
        Number of categories.

    Returns
    -------
    float or numpy.ndarray
        ``(m - 1) * (K - m)``.
    """
    m = np.asarray(mean, dtype=float)
    return (m - 1.0) * (K - m)


def nll(counts, probs):
    """Negative log-likelihood ``-sum_k c_k log p_k`` with ``0 log 0 = 0``.

    Parameters
    ----------
    counts : array_like
        Non-negative counts, shape ``(..., K)``.
    probs : array_like
        Probabilities, broadcastable against ``counts``.

    Returns
    -------
    float or numpy.ndarray
        The NLL over the last axis; ``inf`` where a positive count meets a zero probability.
    """
    c = np.asarray(counts, dtype=float)
    p = np.asarray(probs, dtype=float)
    c, p = np.broadcast_arrays(c, p)
    with np.errstate(divide="ignore"):
        terms = np.where(c > 0, -c * np.log(np.where(c > 0, p, 1.0)), 0.0)
    out = terms.sum(axis=-1)
    return float(out) if np.ndim(out) == 0 else out


def _check_family(family, allowed):
    if family not in allowed:
        raise ValueError(f"unknown family {family!r}; expected one of {allowed}")


def _check_qmm_params(family, p1, p2):
    """Raise ``ValueError`` for parameters outside the natural domain of a QMM family."""
    if not (np.isfinite(p1) and np.isfinite(p2)):
        raise ValueError("parameters must be finite")
    if family in ("normal", "logistic"):
        if p2 <= 0:
            raise ValueError("scale must be > 0")
    elif family in ("beta", "kumaraswamy"):
        if p1 <= 0 or p2 <= 0:
            raise ValueError("shape parameters must be > 0")
    elif family == "logit-logistic":
        if not (0 < p1 < 1) or p2 <= 0:
            raise ValueError("logit-logistic needs 0 < mu < 1 and s > 0")


# --------------------------------------------------------------------------------------------
# Quantized metric models
# --------------------------------------------------------------------------------------------
def _thresholds(family, K):
    """Cut points between the categories, on the latent variable's own axis."""
    k = np.arange(1, K, dtype=float)
    if family in _UNIT_FAMILIES:
        return k / K
    return k + 0.5


def _scipy_cdf_sf(family, p1, p2, x):
    """``(cdf, sf)`` of a scipy.stats law at ``x`` (unfrozen calls, which are much faster)."""
    if family == "normal":
        return stats.norm.cdf(x, loc=p1, scale=p2), stats.norm.sf(x, loc=p1, scale=p2)
    if family == "logistic":
        return stats.logistic.cdf(x, loc=p1, scale=p2), stats.logistic.sf(x, loc=p1, scale=p2)
    if family == "beta":
        return stats.beta.cdf(x, p1, p2), stats.beta.sf(x, p1, p2)
    raise ValueError(family)


def _mp_cdf(family, p1, p2, x):
    """Explicit cdf formula in mpmath (unit-interval latent ``x`` in ``[0, 1]``)."""
    x = mpmath.mpf(x)
    if x <= 0:
        return mpmath.mpf(0)
    if x >= 1:
        return mpmath.mpf(1)
    a = mpmath.mpf(p1)
    b = mpmath.mpf(p2)
    if family == "kumaraswamy":
        # F(x) = 1 - (1 - x^a)^b
        return 1 - (1 - x**a) ** b
    if family == "logit-logistic":
        # F(x) = 1 / (1 + (mu (1 - x) / (x (1 - mu)))^(1/s))
        mu, s = a, b
        return 1 / (1 + (mu * (1 - x) / (x * (1 - mu))) ** (1 / s))
    raise ValueError(family)


def quantized_pmf(family, p1, p2, K=5):
    """Category probabilities of a quantized metric model.

    ``p_k = F(t_k) - F(t_{k-1})`` with ``F(t_0) = 0`` and ``F(t_K) = 1``. Normal, logistic and beta
    use ``scipy.stats``; each cell is computed as a cdf difference or as an sf difference,
    whichever side of the median it lies on, to keep tail precision. Kumaraswamy and
    logit-logistic use their explicit cdf formulas evaluated in mpmath with 50 digits.

    Parameters
    ----------
    family : str
        One of ``"normal"``, ``"logistic"``, ``"beta"``, ``"kumaraswamy"``, ``"logit-logistic"``.
    p1, p2 : float
        Parameters: normal / logistic ``(mu, scale)``, beta / Kumaraswamy ``(a, b)``,
        logit-logistic ``(mu, s)`` with ``0 < mu < 1``.
    K : int, optional
        Number of categories.

    Returns
    -------
    numpy.ndarray
        Shape ``(K,)`` probabilities.
    """
    _check_family(family, QUANTIZED_FAMILIES)
    p1, p2 = float(p1), float(p2)
    _check_qmm_params(family, p1, p2)
    t = _thresholds(family, K)
    if family in _MP_FAMILIES:
        with mpmath.workdps(50):
            F = [mpmath.mpf(0)]
            F += [_mp_cdf(family, p1, p2, mpmath.mpf(k) / K) for k in range(1, K)]
            F += [mpmath.mpf(1)]
            return np.array([float(F[k] - F[k - 1]) for k in range(1, K + 1)])
    F, S = _scipy_cdf_sf(family, p1, p2, t)
    cdf = np.concatenate([[0.0], F, [1.0]])
    sf = np.concatenate([[1.0], S, [0.0]])
    p = np.where(cdf[:-1] >= 0.5, sf[:-1] - sf[1:], cdf[1:] - cdf[:-1])
    return np.maximum(p, 0.0)


def quantized_cdf(family, p1, p2, x, K=5):
    """Cdf of the latent variable of a quantized model, on the rating axis.

    Parameters
    ----------
    family : str
        A quantized family name.
    p1, p2 : float
        Family parameters (see :func:`quantized_pmf`).
    x : float or array_like
        Points on the rating axis ``u``; unit-interval families use ``u = 0.5 + K * x_unit``.
    K : int, optional
        Number of categories.

    Returns
    -------
    float or numpy.ndarray
        ``P(U <= x)``.
    """
    _check_family(family, QUANTIZED_FAMILIES)
    p1, p2 = float(p1), float(p2)
    _check_qmm_params(family, p1, p2)
    u = np.asarray(x, dtype=float)
    if family in ("normal", "logistic"):
        out = _scipy_cdf_sf(family, p1, p2, u)[0]
    else:
        y = np.clip((u - 0.5) / K, 0.0, 1.0)
        if family == "beta":
            out = stats.beta.cdf(y, p1, p2)
        else:
            with mpmath.workdps(50):
                flat = [float(_mp_cdf(family, p1, p2, float(v))) for v in y.ravel()]
            out = np.array(flat).reshape(y.shape)
    return float(out) if np.ndim(out) == 0 else out


def _unit_cdf_sf_float(family, p1, p2, y):
    """Float cdf and sf of Kumaraswamy / logit-logistic at ``y`` in ``[0, 1]`` (root finding)."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if family == "kumaraswamy":
            if y <= 0:
                return 0.0, 1.0
            if y >= 1:
                return 1.0, 0.0
            log_s = p2 * math.log1p(-(y**p1))
            return -math.expm1(log_s), math.exp(log_s)
        if family == "logit-logistic":
            if y <= 0:
                return 0.0, 1.0
            if y >= 1:
                return 1.0, 0.0
            z = (special.logit(y) - special.logit(p1)) / p2
            return float(special.expit(z)), float(special.expit(-z))
    raise ValueError(family)


def quantized_ppf(family, p1, p2, q, K=5):
    """Quantile function of the latent variable of a quantized model, on the rating axis.

    Normal and logistic use ``scipy.stats``; beta uses ``scipy.stats.beta.ppf``; Kumaraswamy and
    logit-logistic solve ``F(x) = q`` (or ``S(x) = 1 - q`` in the upper half) with
    :func:`scipy.optimize.brentq`, deliberately not with the closed-form inverses.

    Parameters
    ----------
    family : str
        A quantized family name.
    p1, p2 : float
        Family parameters.
    q : float or array_like
        Probabilities in ``[0, 1]``.
    K : int, optional
        Number of categories.

    Returns
    -------
    float or numpy.ndarray
        Quantiles on the rating axis.
    """
    _check_family(family, QUANTIZED_FAMILIES)
    p1, p2 = float(p1), float(p2)
    _check_qmm_params(family, p1, p2)
    qq = np.asarray(q, dtype=float)
    if np.any((qq < 0) | (qq > 1)):
        raise ValueError("q must lie in [0, 1]")
    if family in ("normal", "logistic"):
        law = stats.norm if family == "normal" else stats.logistic
        out = law.ppf(qq, loc=p1, scale=p2)
    elif family == "beta":
        out = 0.5 + K * stats.beta.ppf(qq, p1, p2)
    else:
        flat = []
        for v in qq.ravel():
            v = float(v)
            if v == 0.0:
                flat.append(0.0)
                continue
            if v == 1.0:
                flat.append(1.0)
                continue

            def fun(y, v=v):
                # lower half: F(y) - q; upper half: (1 - q) - S(y), both increasing in y
                F, S = _unit_cdf_sf_float(family, p1, p2, y)
                return F - v if v <= 0.5 else (1.0 - v) - S

            root = optimize.brentq(
                fun, 0.0, 1.0, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=2000
            )
            flat.append(root)
        out = 0.5 + K * np.array(flat).reshape(qq.shape)
    return float(out) if np.ndim(out) == 0 else out


def _qmm_pmf_vec(family, P1, P2, K):
    """Vectorized float QMM pmf for parameter arrays ``P1``, ``P2`` of shape ``(m,)``.

    Uses ``scipy.special`` (ndtr, expit, betainc / betaincc, expm1 / log1p) with the same
    cdf-or-sf cell rule as :func:`quantized_pmf`. Returns shape ``(m, K)``.
    """
    P1 = np.asarray(P1, dtype=float)[:, None]
    P2 = np.asarray(P2, dtype=float)[:, None]
    t = _thresholds(family, K)[None, :]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
        if family == "normal":
            z = (t - P1) / P2
            F, S = special.ndtr(z), special.ndtr(-z)
        elif family == "logistic":
            z = (t - P1) / P2
            F, S = special.expit(z), special.expit(-z)
        elif family == "beta":
            F, S = special.betainc(P1, P2, t), special.betaincc(P1, P2, t)
        elif family == "kumaraswamy":
            log_s = P2 * np.log1p(-np.exp(P1 * np.log(t)))
            F, S = -np.expm1(log_s), np.exp(log_s)
        elif family == "logit-logistic":
            z = (special.logit(t) - special.logit(P1)) / P2
            F, S = special.expit(z), special.expit(-z)
        else:
            raise ValueError(family)
    m = F.shape[0]
    F = np.concatenate([np.zeros((m, 1)), F, np.ones((m, 1))], axis=1)
    S = np.concatenate([np.ones((m, 1)), S, np.zeros((m, 1))], axis=1)
    p = np.where(F[:, :-1] >= 0.5, S[:, :-1] - S[:, 1:], F[:, 1:] - F[:, :-1])
    return np.maximum(p, 0.0)


# --------------------------------------------------------------------------------------------
# Generalized score distribution
# --------------------------------------------------------------------------------------------
def _to_mpf(value):
    """Convert a float, int, str or mpf to mpf at the current mpmath precision."""
    if isinstance(value, str):
        return mpmath.mpf(value.strip())
    if isinstance(value, (int, np.integer)):
        return mpmath.mpf(int(value))
    if isinstance(value, mpmath.mpf):
        return +value
    return mpmath.mpf(float(value))


def gsd_pmf_exact(psi, rho, K=5, dps=50, as_mpf=False):
    """Exact generalized-score-distribution pmf, evaluated in mpmath from its definition.

    With ``v_min``, ``v_max`` as in the module docstring and
    ``C = (K-2)/(K-1) * v_max / (v_max - v_min)`` (``C = 1`` when ``v_max = v_min``):

    * ``rho < C``: reparametrised beta-binomial (product formula, notes.md section 2.1);
    * ``rho == C``: ``Binomial(K-1, (psi-1)/(K-1))`` shifted by one;
    * ``rho > C``: mixture ``(rho-C)/(1-C) * max(0, 1-|k-psi|) + (1-rho)/(1-C) * Binomial``;
    * ``psi`` in ``{1, K}``: point mass; ``rho = 0``: the limit ``q_1 = (K-psi)/(K-1)``,
      ``q_K = (psi-1)/(K-1)`` (the product formula is 0/0 there).

    Parameters
    ----------
    psi : float, int, str or mpmath.mpf
        Mean, in ``[1, K]``. Strings are parsed exactly (e.g. ``"2.1"``).
    rho : float, int, str or mpmath.mpf
        Shape ("complementary normalized variance"), in ``[0, 1]``.
    K : int, optional
        Number of categories (``K >= 3``).
    dps : int, optional
        mpmath decimal digits.
    as_mpf : bool, optional
        If True return the list of ``K`` mpf probabilities instead of a float array.

    Returns
    -------
    numpy.ndarray or list of mpmath.mpf
        The pmf over ``1..K``.
    """
    if K < 3:
        raise ValueError("K must be >= 3")
    with mpmath.workdps(dps):
        psi = _to_mpf(psi)
        rho = _to_mpf(rho)
        M = mpmath.mpf(K)
        if not (1 <= psi <= M):
            raise ValueError("psi must lie in [1, K]")
        if not (0 <= rho <= 1):
            raise ValueError("rho must lie in [0, 1]")
        ks = range(1, K + 1)
        zero, one = mpmath.mpf(0), mpmath.mpf(1)
        if psi == 1 or psi == M:
            q = [one if k == int(psi) else zero for k in ks]
        else:
            vmax = (psi - 1) * (M - psi)
            vmin = (mpmath.ceil(psi) - psi) * (psi - mpmath.floor(psi))
            C = (M - 2) / (M - 1) * vmax / (vmax - vmin)
            p_bin = (psi - 1) / (M - 1)

            def binom_pmf(k):
                return mpmath.binomial(K - 1, k - 1) * p_bin ** (k - 1) * (1 - p_bin) ** (K - k)

            if rho == 0:
                q = [zero] * K
                q[0] = (M - psi) / (M - 1)
                q[-1] = (psi - 1) / (M - 1)
            elif rho < C:
                D = C - rho
                den = mpmath.fprod(rho + i * D for i in range(K - 1))
                q = []
                for k in ks:
                    num = mpmath.binomial(K - 1, k - 1)
                    num *= mpmath.fprod((psi - 1) * rho / (M - 1) + i * D for i in range(k - 1))
                    num *= mpmath.fprod((M - psi) * rho / (M - 1) + j * D for j in range(K - k))
                    q.append(num / den)
            elif rho == C:
                q = [binom_pmf(k) for k in ks]
            else:
                w_min = (rho - C) / (1 - C)
                w_bin = (1 - rho) / (1 - C)
                q = [w_min * max(zero, 1 - abs(k - psi)) + w_bin * binom_pmf(k) for k in ks]
        if as_mpf:
            return q
        return np.array([float(v) for v in q])


def _gsd_piece_C(psi, j, K):
    """``C(psi)`` for ``psi`` in ``[j, j+1]`` (``v_min`` written as the piece's quadratic)."""
    vmax = (psi - 1.0) * (K - psi)
    vmin = (j + 1.0 - psi) * (psi - j)
    denom = vmax - vmin
    with np.errstate(divide="ignore", invalid="ignore"):
        C = np.where(denom > 0, (K - 2.0) / (K - 1.0) * vmax / np.where(denom > 0, denom, 1.0), 1.0)
    return C


def _gsd_betabin_vec(psi, rho, C, K):
    """Float beta-binomial branch, with the common factor ``rho`` cancelled (valid at rho = 0).

    ``q_k = binom(K-1, k-1) a^[k>=2] b^[k<=K-1] rho^e_k prod_{i=1}^{k-2}(rho a + i D)
    prod_{j=1}^{K-k-1}(rho b + j D) / prod_{i=1}^{K-2}(rho + i D)`` with ``a = (psi-1)/(K-1)``,
    ``b = (K-psi)/(K-1)``, ``D = C - rho`` and ``e_k = [k>=2] + [k<=K-1] - 1``.
    """
    a = (psi - 1.0) / (K - 1.0)
    b = (K - psi) / (K - 1.0)
    D = C - rho
    den = np.ones_like(psi)
    for i in range(1, K - 1):
        den = den * (rho + i * D)
    cols = []
    for k in range(1, K + 1):
        v = np.full_like(psi, float(math.comb(K - 1, k - 1)))
        if k >= 2:
            v = v * a
        if k <= K - 1:
            v = v * b
        e = int(k >= 2) + int(k <= K - 1) - 1
        if e:
            v = v * rho**e
        for i in range(1, k - 1):
            v = v * (rho * a + i * D)
        for j in range(1, K - k):
            v = v * (rho * b + j * D)
        cols.append(v / den)
    return np.stack(cols, axis=-1)


def _gsd_mixture_vec(psi, w_min, K):
    """Float mixture ``w_min * least_spread + (1 - w_min) * Binomial`` (shape ``(m, K)``)."""
    k = np.arange(1, K + 1, dtype=float)[None, :]
    p = ((psi - 1.0) / (K - 1.0))[:, None]
    binom = special.comb(K - 1, k - 1) * p ** (k - 1) * (1.0 - p) ** (K - k)
    least = np.maximum(0.0, 1.0 - np.abs(k - psi[:, None]))
    return w_min[:, None] * least + (1.0 - w_min[:, None]) * binom


def _gsd_pmf_vec(psi, rho, K):
    """Vectorized float GSD pmf for arrays ``psi``, ``rho`` of shape ``(m,)``."""
    psi = np.asarray(psi, dtype=float)
    rho = np.asarray(rho, dtype=float)
    j = np.clip(np.floor(psi), 1, K - 1)
    C = _gsd_piece_C(psi, j, K)
    with np.errstate(divide="ignore", invalid="ignore"):
        bb = _gsd_betabin_vec(psi, rho, C, K)
        w = np.where(C < 1, (rho - C) / np.where(C < 1, 1.0 - C, 1.0), 1.0)
        mix = _gsd_mixture_vec(psi, w, K)
    out = np.where((rho < C)[:, None], bb, mix)
    return np.maximum(out, 0.0)


# --------------------------------------------------------------------------------------------
# Maximum entropy
# --------------------------------------------------------------------------------------------
def maxent_pmf_exp(l1, l2, K=5):
    """Exponential-form maximum-entropy pmf ``p_k ∝ exp(l1 k + l2 k^2)``.

    Parameters
    ----------
    l1, l2 : float
        Natural parameters.
    K : int, optional
        Number of categories.

    Returns
    -------
    numpy.ndarray
        Shape ``(K,)`` probabilities.
    """
    k = np.arange(1, K + 1, dtype=float)
    eta = l1 * k + l2 * k**2
    return np.exp(eta - special.logsumexp(eta))


def _boundary_maxent(mean, var, K, v_lo, v_hi, tol):
    """Limit pmfs on the boundary of the feasible (mean, variance) set, else None."""
    p = np.zeros(K)
    fl, ce = math.floor(mean), math.ceil(mean)
    if v_hi - v_lo <= tol or var <= v_lo + tol:
        if fl == ce:
            p[fl - 1] = 1.0
        else:
            p[fl - 1] = ce - mean
            p[ce - 1] = mean - fl
        return p
    if var >= v_hi - tol:
        p[0] = (K - mean) / (K - 1.0)
        p[K - 1] = (mean - 1.0) / (K - 1.0)
        return p
    return None


def _feasible_interior_start(mean, var, K, v_lo, v_hi):
    """A strictly positive pmf with the given mean and variance.

    Mixture of the least-spread pmf (variance ``v_min``), the two-point pmf on ``{1, K}``
    (variance ``v_max``) and the binomial with the same mean (full support, variance
    ``v_max / (K - 1)``). All three have mean ``mean``, so the variance mixes linearly.
    """
    k = np.arange(1, K + 1)
    p_lo = _boundary_maxent(mean, v_lo, K, v_lo, v_hi, 0.0)
    p_hi = np.zeros(K)
    p_hi[0] = (K - mean) / (K - 1.0)
    p_hi[K - 1] = (mean - 1.0) / (K - 1.0)
    pb = (mean - 1.0) / (K - 1.0)
    p_bin = special.comb(K - 1, k - 1) * pb ** (k - 1) * (1 - pb) ** (K - k)
    v_bin = v_hi / (K - 1.0)  # v_lo < v_bin < v_hi for interior non-endpoint means
    g = 0.5 * min(1.0, (var - v_lo) / (v_bin - v_lo), (v_hi - var) / (v_hi - v_bin))
    beta_w = (var - g * v_bin - (1.0 - g) * v_lo) / (v_hi - v_lo)
    alpha_w = 1.0 - g - beta_w
    return alpha_w * p_lo + beta_w * p_hi + g * p_bin


def maxent_pmf_bruteforce(mean, var, K=5):
    """Maximum-entropy pmf on ``1..K`` with the given mean and (population) variance.

    The entropy ``H(p) = -sum p log p`` is maximised directly over the probability simplex
    subject to ``sum p = 1``, ``sum k p_k = mean`` and ``sum (k - mean)^2 p_k = var``:

    1. SLSQP in the probabilities themselves (bounds ``[0, 1]``, linear equality constraints),
       from a strictly positive feasible mixture;
    2. polish: the feasible set is the affine set ``p0 + N y`` (``N`` a null-space basis of the
       constraint matrix), on which ``-H`` is strictly convex; it is minimised over ``y`` with
       ``trust-exact`` using the exact gradient ``N^T (log p + 1)`` and Hessian
       ``N^T diag(1/p) N``;
    3. a final scaled, re-centred Newton polish of the same problem
       (:func:`_maxent_newton_polish`), because near the optimum the entropy changes by less
       than float resolution and pass 2 stops with a reduced gradient of about ``1e-7``.

    The exponential-family / Lagrange-multiplier form is never used. On the boundary of the
    feasible set (``var == v_min`` or ``var == v_max``, within ``1e-13``) the limit pmf is returned.

    Parameters
    ----------
    mean : float
        Mean in ``[1, K]``.
    var : float
        Population variance in ``[v_min(mean), v_max(mean)]``.
    K : int, optional
        Number of categories (``K >= 3``).

    Returns
    -------
    numpy.ndarray
        Shape ``(K,)`` probabilities.
    """
    mean, var = float(mean), float(var)
    if not (1.0 <= mean <= K):
        raise ValueError("mean must lie in [1, K]")
    v_lo, v_hi = float(v_min(mean)), float(v_max(mean, K))
    tol = 1e-13 * max(1.0, v_hi)
    if var < v_lo - tol or var > v_hi + tol:
        raise ValueError("variance outside the feasible range [v_min, v_max]")
    p_bd = _boundary_maxent(mean, var, K, v_lo, v_hi, tol)
    if p_bd is not None:
        return p_bd
    if K == 3:  # three constraints fix the three probabilities
        k = np.arange(1, 4.0)
        A = np.vstack([np.ones(3), k, (k - mean) ** 2])
        return np.linalg.solve(A, np.array([1.0, mean, var]))

    k = np.arange(1, K + 1, dtype=float)
    A = np.vstack([np.ones(K), k, (k - mean) ** 2])
    rhs = np.array([1.0, mean, var])
    p0 = _feasible_interior_start(mean, var, K, v_lo, v_hi)

    def neg_entropy(p):
        return float(np.sum(special.xlogy(p, p)))

    def neg_entropy_grad(p):
        return np.log(np.maximum(p, 1e-300)) + 1.0

    # Pass 1: SLSQP over the simplex.
    res = optimize.minimize(
        neg_entropy,
        p0,
        jac=neg_entropy_grad,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * K,
        constraints=[{"type": "eq", "fun": lambda p: A @ p - rhs, "jac": lambda p: A}],
        options={"ftol": 1e-16, "maxiter": 1000},
    )
    p1 = np.asarray(res.x, dtype=float)
    # Project back onto the affine constraint set and make it strictly positive.
    p1 = p1 - np.linalg.lstsq(A, A @ p1 - rhs, rcond=None)[0]
    if np.min(p1) <= 0:
        for eps in (1e-12, 1e-9, 1e-6, 1e-3, 1e-1, 1.0):
            cand = (1.0 - eps) * p1 + eps * p0
            if np.min(cand) > 0:
                p1 = cand
                break

    # Pass 2: Newton-type polish in the null-space coordinates.
    N = linalg.null_space(A)

    def f(y):
        p = p1 + N @ y
        if np.min(p) <= 0:
            return np.inf
        return float(np.sum(p * np.log(p)))

    def g(y):
        p = np.maximum(p1 + N @ y, 1e-300)
        return N.T @ (np.log(p) + 1.0)

    def h(y):
        # floor 1e-150 keeps the Hessian's norm finite at trial points outside the simplex
        p = np.maximum(p1 + N @ y, 1e-150)
        return N.T @ (N / p[:, None])

    res2 = optimize.minimize(
        f,
        np.zeros(N.shape[1]),
        jac=g,
        hess=h,
        method="trust-exact",
        options={"gtol": 1e-15, "maxiter": 300},
    )
    y = res2.x
    if not np.all(np.isfinite(p1 + N @ y)) or f(y) > f(np.zeros(N.shape[1])):
        y = np.zeros(N.shape[1])

    p = p1 + N @ y
    if np.min(p) <= 0:
        p = p1
    return _maxent_newton_polish(p, A, rhs)


def _maxent_newton_polish(p, A, rhs, max_iter=200):
    """Scaled, re-centred Newton iterations for ``min sum p log p`` subject to ``A p = rhs``.

    Near the optimum the entropy changes by less than float resolution, and on the fixed
    affine chart ``p1 + N y`` probabilities far below ``1e-16`` are lost to cancellation. Each
    step here is the equality-constrained Newton step from the current ``p`` computed in the
    scaled variables ``dp = sqrt(p) w`` (a least-squares projection, well conditioned however
    small some ``p_k`` are), damped to stay inside the simplex. The accepted point must not
    increase the scaled Newton decrement ``||w||^2`` (or must decrease ``sum p log p`` while
    that is still resolvable). The result stops when the decrement is below ``1e-30``.
    """

    def newton_step(q):
        s = np.sqrt(q)
        B = A * s[None, :]
        r = s * (np.log(q) + 1.0)
        lam = np.linalg.lstsq(B.T, r, rcond=None)[0]
        w = -(r - B.T @ lam)
        return s * w, float(w @ w)

    def neg_entropy(q):
        return float(np.sum(q * np.log(q)))

    p = np.asarray(p, dtype=float)
    dp, dec = newton_step(p)
    for _ in range(max_iter):
        if dec < 1e-30:
            break
        neg = dp < 0
        t = 1.0
        if np.any(neg):
            t = min(1.0, 0.95 * float(np.min(-p[neg] / dp[neg])))
        accepted = False
        for _ in range(60):
            q = p + t * dp
            q = q - np.linalg.lstsq(A, A @ q - rhs, rcond=None)[0]  # remove rounding drift
            if np.min(q) > 0:
                dq, dec_q = newton_step(q)
                f_p, f_q = neg_entropy(p), neg_entropy(q)
                resolvable = t * dec > 1e-13 * max(1.0, abs(f_p))
                if (resolvable and f_q <= f_p - 0.25 * t * dec) or (
                    not resolvable and dec_q <= dec
                ):
                    accepted = True
                    break
            t *= 0.5
        if not accepted:
            break
        p, dp, dec = q, dq, dec_q
    return p / p.sum()


# --------------------------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------------------------
def family_pmf(family, p1, p2, K=5):
    """High-precision pmf of any family (quantized, ``"gsd"`` or ``"maxent"``).

    Parameters
    ----------
    family : str
        A name from :data:`FAMILIES`.
    p1, p2 : float
        Parameters; ``"maxent"`` takes ``(l1, l2)`` of :func:`maxent_pmf_exp`, ``"gsd"``
        takes ``(psi, rho)``.
    K : int, optional
        Number of categories.

    Returns
    -------
    numpy.ndarray
        Shape ``(K,)`` probabilities.
    """
    _check_family(family, FAMILIES)
    if family == "gsd":
        return gsd_pmf_exact(p1, p2, K=K)
    if family == "maxent":
        return maxent_pmf_exp(p1, p2, K=K)
    return quantized_pmf(family, p1, p2, K=K)


# --------------------------------------------------------------------------------------------
# Maximum likelihood
# --------------------------------------------------------------------------------------------
_REFERENCE_BOX = {
    # natural-parameter boxes of the reference study (open ends at zero stay open)
    "normal": ((-19.0, 25.0), (0.0, 100.0)),
    "logistic": ((-19.0, 25.0), (0.0, 100.0)),
    "beta": ((0.0, 20.0), (0.0, 20.0)),
    "kumaraswamy": ((0.0, 20.0), (0.0, 20.0)),
    "logit-logistic": ((0.0, 1.0), (0.0, 20.0)),
}


def _to_natural(family, theta):
    """Unconstrained coordinates ``(m, 2)`` -> natural parameters ``(P1, P2)``."""
    t1, t2 = theta[:, 0], theta[:, 1]
    if family in ("normal", "logistic"):
        return t1, np.exp(t2)
    if family in ("beta", "kumaraswamy"):
        return np.exp(t1), np.exp(t2)
    if family == "logit-logistic":
        return special.expit(t1), np.exp(t2)
    raise ValueError(family)


def _to_theta(family, p1, p2):
    """Natural parameters -> unconstrained coordinates (inverse of :func:`_to_natural`)."""
    if family in ("normal", "logistic"):
        return np.array([p1, math.log(p2)])
    if family in ("beta", "kumaraswamy"):
        return np.array([math.log(p1), math.log(p2)])
    return np.array([float(special.logit(p1)), math.log(p2)])


def _theta_bounds(family, bounds):
    """Optimizer bounds in unconstrained coordinates.

    ``bounds=None`` still uses a very wide safety box (scales in ``[1e-5, 1e5]``, beta shapes and
    Kumaraswamy ``a`` in ``[1e-5, 1e6]``, Kumaraswamy ``b`` in ``[1e-5, 1e30]``, locations in
    ``[-1000, 1000]``, ``logit mu`` in ``[-200, 200]``). It never binds for non-degenerate
    counts. For degenerate counts (one category, or two adjacent ones) the supremum of the
    likelihood is only approached at infinity; the search then stops once the NLL is within
    ``1e-10`` (relative) of the empirical-pmf NLL, or on this box, typically within ``1e-9``
    and always (in the checks made) within ``1e-7`` of the supremum.
    """
    if family in ("normal", "logistic"):
        box = [(-1000.0, 1000.0), (math.log(1e-5), math.log(1e5))]
    elif family == "beta":
        box = [(math.log(1e-5), math.log(1e6)), (math.log(1e-5), math.log(1e6))]
    elif family == "kumaraswamy":  # b ~ x0^(-a) must grow fast when the latent concentrates
        box = [(math.log(1e-5), math.log(1e6)), (math.log(1e-5), math.log(1e30))]
    else:
        box = [(-200.0, 200.0), (math.log(1e-5), math.log(1e5))]
    if bounds is None:
        return box
    if bounds != "reference":
        raise ValueError("bounds must be None or 'reference'")
    (lo1, hi1), (_, hi2) = _REFERENCE_BOX[family]
    if family in ("normal", "logistic"):
        ref = [(lo1, hi1), (-math.inf, math.log(hi2))]
    elif family in ("beta", "kumaraswamy"):
        ref = [(-math.inf, math.log(hi1)), (-math.inf, math.log(hi2))]
    else:
        ref = [(-math.inf, math.inf), (-math.inf, math.log(hi2))]
    return [(max(a, c), min(b, d)) for (a, b), (c, d) in zip(box, ref, strict=True)]


def _qmm_starts(family, rng, n_random):
    """Coarse grid plus random starting points in unconstrained coordinates."""
    if family in ("normal", "logistic"):
        g1 = np.linspace(-1.0, 7.0, 33)
        g2 = np.log(np.geomspace(0.03, 30.0, 25))
        r1 = rng.uniform(1.0, 5.0, n_random)
        r2 = np.log(rng.uniform(0.05, 3.0, n_random))
    elif family in ("beta", "kumaraswamy"):
        g1 = np.log(np.geomspace(0.05, 200.0, 29))
        g2 = np.log(np.geomspace(0.05, 200.0, 29))
        r1 = np.log(rng.uniform(0.05, 20.0, n_random))
        r2 = np.log(rng.uniform(0.05, 20.0, n_random))
    else:
        g1 = np.linspace(-6.0, 6.0, 31)
        g2 = np.log(np.geomspace(0.02, 20.0, 25))
        r1 = special.logit(rng.uniform(0.01, 0.99, n_random))
        r2 = np.log(rng.uniform(0.02, 3.0, n_random))
    G1, G2 = np.meshgrid(g1, g2, indexing="ij")
    grid = np.column_stack([G1.ravel(), G2.ravel()])
    return np.vstack([grid, np.column_stack([r1, r2])])


def _search_nll(counts, P):
    """NLL with a tiny probability floor (search only), rows of ``P`` are pmfs."""
    c = counts[None, :]
    logp = np.log(np.maximum(P, _SEARCH_FLOOR))
    val = -np.sum(np.where(c > 0, c * logp, 0.0), axis=1)
    return np.where(np.isfinite(val), val, 1e300)


def _fd_value_and_grad(fun_vec, x, lo, hi, rel_step=1e-6):
    """Value and central-difference gradient (one-sided at bounds) of a vectorized function."""
    d = x.size
    h = rel_step * np.maximum(1.0, np.abs(x))
    pts = [x]
    kinds = []
    for i in range(d):
        e = np.zeros(d)
        e[i] = h[i]
        up_ok = x[i] + h[i] <= hi[i]
        dn_ok = x[i] - h[i] >= lo[i]
        if up_ok and dn_ok:
            pts += [x + e, x - e]
            kinds.append("c")
        elif up_ok:
            pts += [x + e, x + 2 * e]
            kinds.append("f")
        else:
            pts += [x - e, x - 2 * e]
            kinds.append("b")
    vals = fun_vec(np.array(pts))
    f0 = vals[0]
    grad = np.empty(d)
    for i, kind in enumerate(kinds):
        a, b = vals[1 + 2 * i], vals[2 + 2 * i]
        if kind == "c":
            grad[i] = (a - b) / (2 * h[i])
        elif kind == "f":
            grad[i] = (-3 * f0 + 4 * a - b) / (2 * h[i])
        else:
            grad[i] = (3 * f0 - 4 * a + b) / (2 * h[i])
    return float(f0), grad


def _polish(fun_vec, x0, bounds, f_floor=-np.inf, maxfun=2000, degenerate=False):
    """Bounded truncated-Newton (TNC) polish with central-difference gradients, run twice.

    TNC is used rather than L-BFGS-B because it makes no BLAS calls: with a multi-threaded
    OpenBLAS on a busy machine each L-BFGS-B iteration can cost milliseconds. ``f_floor`` is a
    lower bound of the objective (the NLL of the empirical pmf); the search stops early once it
    is reached to ``1e-10`` relative, which only happens for degenerate counts (their supremum
    lies at infinity along a flat valley). With ``degenerate=True`` a Nelder-Mead pass follows.
    """
    lo = [b[0] for b in bounds]
    hi = [b[1] for b in bounds]
    x = np.clip(np.asarray(x0, dtype=float), lo, hi)
    best_x, best_f = x, float(fun_vec(x[None, :])[0])
    close = 1e-10 * max(1.0, abs(f_floor))

    class _FloorReached(Exception):
        pass

    def value_and_grad(z):
        f, g = _fd_value_and_grad(fun_vec, z, lo, hi)
        if f - f_floor <= close:
            raise _FloorReached(np.array(z, dtype=float))
        return f, g

    for _ in range(2):
        if best_f - f_floor <= close:
            break
        try:
            res = optimize.minimize(
                value_and_grad,
                best_x,
                jac=True,
                method="TNC",
                bounds=bounds,
                options={"ftol": 1e-15, "xtol": 1e-13, "gtol": 1e-12, "maxfun": maxfun},
            )
            x_new = np.asarray(res.x, dtype=float)
        except _FloorReached as stop:
            x_new = stop.args[0]
        f_new = float(fun_vec(x_new[None, :])[0])
        if f_new <= best_f:
            best_x, best_f = x_new, f_new
    if np.isfinite(f_floor) and best_f - f_floor > close and degenerate:
        # Degenerate counts: Nelder-Mead's expanding steps walk the flat valley much further.
        def value(z):
            f = float(fun_vec(np.asarray(z, dtype=float)[None, :])[0])
            if f - f_floor <= close:
                raise _FloorReached(np.array(z, dtype=float))
            return f

        try:
            res = optimize.minimize(
                value,
                best_x,
                method="Nelder-Mead",
                bounds=bounds,
                options={"xatol": 1e-12, "fatol": 1e-15, "maxfev": 3000},
            )
            x_new = np.asarray(res.x, dtype=float)
        except _FloorReached as stop:
            x_new = stop.args[0]
        f_new = float(fun_vec(x_new[None, :])[0])
        if f_new <= best_f:
            best_x, best_f = x_new, f_new
    return best_x, best_f


def _pick_starts(points, values, n_pick, min_dist):
    """Up to ``n_pick`` best points that are pairwise at least ``min_dist`` apart."""
    order = np.argsort(values, kind="stable")
    chosen = []
    for idx in order:
        if not np.isfinite(values[idx]):
            break
        if all(np.linalg.norm(points[idx] - points[c]) >= min_dist for c in chosen):
            chosen.append(idx)
        if len(chosen) == n_pick:
            break
    return chosen


def _is_degenerate(counts):
    """True when the non-zero counts sit on one category or on two adjacent categories."""
    nz = np.flatnonzero(np.asarray(counts) > 0)
    return nz.size <= 1 or (nz.size == 2 and nz[1] - nz[0] == 1)


def _mle_qmm(family, counts, K, n_starts, rng, bounds):
    tb = _theta_bounds(family, bounds)

    def fun_vec(theta):
        P1, P2 = _to_natural(family, theta)
        return _search_nll(counts, _qmm_pmf_vec(family, P1, P2, K))

    starts = _qmm_starts(family, rng, n_starts)
    for i, (a, b) in enumerate(tb):
        starts[:, i] = np.clip(starts[:, i], a, b)
    vals = fun_vec(starts)
    best_x, best_f = None, np.inf
    # Degenerate counts (support on one category or two adjacent ones) have their supremum at
    # infinity along a flat valley: one polish is enough there and saves time.
    degenerate = _is_degenerate(counts)
    n_polish = 1 if degenerate else 3
    f_floor = nll(counts, counts / counts.sum())
    for idx in _pick_starts(starts, vals, n_polish, 0.5):
        x, fx = _polish(
            fun_vec,
            starts[idx],
            tb,
            f_floor,
            maxfun=200 if degenerate else 2000,
            degenerate=degenerate,
        )
        if fx < best_f:
            best_x, best_f = x, fx
    P1, P2 = _to_natural(family, best_x[None, :])
    params = np.array([P1[0], P2[0]])
    probs = _qmm_pmf_vec(family, P1, P2, K)[0]
    return params, nll(counts, probs)


def _mle_gsd(counts, K, n_starts, rng):
    """GSD fit over the smooth pieces ``psi in [j, j+1]`` x {beta-binomial, mixture} branch.

    Inside a piece the coordinates are ``(psi, t)`` with ``t in [0, 1]`` and
    ``rho = C(psi) t`` (beta-binomial branch) or ``rho = C + (1 - C) t`` (mixture branch), so the
    likelihood is smooth on each closed box and its kink at ``rho = C`` and at integer ``psi``
    become box edges.
    """

    def pmf_piece(x, j, branch):
        psi = np.clip(x[:, 0], j, j + 1.0)
        t = np.clip(x[:, 1], 0.0, 1.0)
        C = _gsd_piece_C(psi, j, K)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if branch == 0:
                return np.maximum(_gsd_betabin_vec(psi, C * t, C, K), 0.0)
            return np.maximum(_gsd_mixture_vec(psi, t, K), 0.0)

    def rho_of(x, j, branch):
        C = float(_gsd_piece_C(np.array([x[0]]), j, K)[0])
        return C * x[1] if branch == 0 else C + (1.0 - C) * x[1]

    # Candidate points: a grid in every piece plus random (psi, rho) mapped into their piece.
    gp = np.linspace(0.0, 1.0, 41)
    gt = np.linspace(0.0, 1.0, 21)
    GP, GT = np.meshgrid(gp, gt, indexing="ij")
    r_psi = rng.uniform(1.0, K, n_starts)
    r_rho = rng.uniform(0.0, 1.0, n_starts)
    r_j = np.clip(np.floor(r_psi), 1, K - 1)
    r_C = _gsd_piece_C(r_psi, r_j, K)
    pieces = []
    for j in range(1, K):
        for branch in (0, 1):
            pts = np.column_stack([j + GP.ravel(), GT.ravel()])
            sel = r_j == j
            if branch == 0:
                sel &= r_rho < r_C
                t_r = r_rho[sel] / r_C[sel]
            else:
                sel &= r_rho >= r_C
                t_r = np.where(r_C[sel] < 1, (r_rho[sel] - r_C[sel]) / (1 - r_C[sel]), 0.0)
            pts = np.vstack([pts, np.column_stack([r_psi[sel], t_r])])
            vals = _search_nll(counts, pmf_piece(pts, float(j), branch))
            i_best = int(np.argmin(vals))
            pieces.append((float(vals[i_best]), j, branch, pts[i_best]))
    f_floor = nll(counts, counts / counts.sum())
    best = (np.inf, None)
    # Polish every piece whose grid minimum is near the best grid value (the grid's own error
    # is far below this margin for realistic counts), so no competitive piece is skipped.
    grid_best = min(item[0] for item in pieces)
    margin = 2.0 + 0.02 * abs(grid_best)
    for f_grid, j, branch, x0 in pieces:
        if f_grid > grid_best + margin:
            continue

        def fun_vec(x, j=j, branch=branch):
            return _search_nll(counts, pmf_piece(x, float(j), branch))

        x, fx = _polish(fun_vec, x0, [(float(j), j + 1.0), (0.0, 1.0)], f_floor)
        if fx < best[0]:
            best = (fx, (x[0], rho_of(x, float(j), branch)))
    psi, rho = best[1]
    params = np.array([psi, min(max(rho, 0.0), 1.0)])
    probs = _gsd_pmf_vec(params[:1], params[1:], K)[0]
    return params, nll(counts, probs)


def _mle_maxent(counts, K):
    """Maxent MLE in the exponential form (convex in the natural parameters).

    Uses centred and scaled scores ``z = (k - (K+1)/2) / ((K-1)/2)`` internally with exact
    gradient and Hessian (``trust-exact``), then maps back to ``p_k ∝ exp(l1 k + l2 k^2)``.
    """
    k = np.arange(1, K + 1, dtype=float)
    c0, h = (K + 1) / 2.0, (K - 1) / 2.0
    z = (k - c0) / h
    T = np.column_stack([z, z**2])
    n = counts.sum()
    tbar = counts @ T

    def f(g):
        eta = T @ g
        return float(-tbar @ g + n * special.logsumexp(eta))

    def grad(g):
        eta = T @ g
        p = np.exp(eta - special.logsumexp(eta))
        return -tbar + n * (p @ T)

    def hess(g):
        eta = T @ g
        p = np.exp(eta - special.logsumexp(eta))
        m = p @ T
        return n * ((T * p[:, None]).T @ T - np.outer(m, m))

    g = np.zeros(2)
    for _ in range(3):
        res = optimize.minimize(
            f, g, jac=grad, hess=hess, method="trust-exact", options={"gtol": 1e-12 * n}
        )
        g = res.x
    l2 = g[1] / h**2
    l1 = g[0] / h - 2.0 * c0 * g[1] / h**2
    params = np.array([l1, l2])
    return params, nll(counts, maxent_pmf_exp(l1, l2, K))


def mle_multistart(family, counts, K=5, n_starts=16, seed=0, bounds=None):
    """Maximum-likelihood fit of one stimulus' counts by multi-start optimisation.

    Minimises ``NLL = -sum_k c_k log p_k``. Quantized families are optimised in unconstrained
    coordinates (``(mu, log scale)``, ``(log a, log b)``, ``(logit mu, log s)``): a vectorized
    coarse grid plus ``n_starts`` random points are evaluated, and the best three well-separated
    candidates are polished with bounded TNC (central-difference gradients, one restart). The
    GSD is optimised piecewise (see :func:`_mle_gsd`). The maxent model is fitted by likelihood
    in its exponential form (a convex problem, solved with exact derivatives). A probability
    floor of ``1e-300`` is used only during the search; the returned NLL is computed without it.

    Degenerate counts (one category, or two adjacent ones) have no finite maximiser for the
    quantized and maxent families; the result is then a far-out point whose NLL is within about
    ``1e-9`` (at worst ``1e-7``) of the supremum (see :func:`_theta_bounds`).

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    counts : array_like of int
        Length-``K`` rating counts.
    K : int, optional
        Number of categories.
    n_starts : int, optional
        Random starts added to the coarse grid (quantized families and GSD).
    seed : int, optional
        Seed of the random starts.
    bounds : None or "reference", optional
        ``None``: natural parameter domain; ``"reference"``: the published study's box
        (normal / logistic ``mu in [-19, 25]``, scale in ``(0, 100]``; beta / Kumaraswamy
        ``a, b in (0, 20]``; logit-logistic ``s in (0, 20]``; GSD and maxent unchanged).

    Returns
    -------
    params : numpy.ndarray
        Shape ``(2,)`` natural parameters: normal / logistic ``(mu, scale)``, beta / Kumaraswamy
        ``(a, b)``, logit-logistic ``(mu, s)``, maxent ``(l1, l2)``, GSD ``(psi, rho)``.
    nll : float
        NLL at ``params`` (``inf`` if a positive count gets probability zero).
    """
    _check_family(family, FAMILIES)
    counts = np.asarray(counts, dtype=float)
    if counts.shape != (K,):
        raise ValueError(f"counts must have shape ({K},)")
    if np.any(counts < 0) or counts.sum() <= 0:
        raise ValueError("counts must be non-negative with a positive total")
    if bounds not in (None, "reference"):
        raise ValueError("bounds must be None or 'reference'")
    rng = np.random.default_rng(seed)
    if family == "maxent":
        return _mle_maxent(counts, K)
    if family == "gsd":
        return _mle_gsd(counts, K, n_starts, rng)
    return _mle_qmm(family, counts, K, n_starts, rng, bounds)
