"""Matching a mean ψ and a variance v with a quantized family: Newton's method on two residuals
that keep full relative precision up to the boundary of the feasible region.

With j = ⌊ψ⌋ (at most K − 1), f = ψ − j, F_i = P(U ≤ i) and S_i = P(U > i) at the thresholds
i = 1..K − 1, summation by parts gives sums of non-negative terms only:

- S₊ = E[(U − ψ)⁺] = (1 − f)·S_j + Σ_{i>j} S_i and S₋ = E[(ψ − U)⁺] = f·F_j + Σ_{i<j} F_i,
  equal exactly when the mean is ψ;
- A = E[(U − j)(U − j − 1)] = Σ_{i>j} 2(i − j)·S_i + Σ_{i<j} 2(j − i)·F_i and
  B = E[(U − 1)(K − U)] = Σ_k (k − 1)(K − k)·p_k, which at mean ψ are v − v_min(ψ) and
  v_max(ψ) − v.

The residuals r₀ = log S₊ − log S₋ and r₁ = log A − log B − τ, τ = log((v − v_min)/(v_max − v)),
are O(1)-scaled everywhere in the interior, also where almost all mass sits in one or two
categories (τ → −∞) or at 1 and K (τ → +∞), where the raw moment equations lose all relative
precision. Only the cell probabilities p_k in B are differences, each taken from whichever side
(cdf or survival function) loses no precision, as in ``quantized``; for the location-scale
latents the middle cells, which next to v_max are narrow on the latent scale, come from
cancellation-free formulas instead (:func:`_location_scale_cell`).

Newton steps in the solver coordinates θ of ``quantized`` (capped at two scale units for a
location and two e-folds for a log-scale) are damped by Levenberg–Marquardt where a full step
does not decrease |r|². The start is the bicubic interpolation of a table of solutions on a
(ψ, τ) grid (:func:`build_table`, itself a continuation over the grid from the continuous,
Sheppard-corrected latent at its centre, :func:`moment_start`), which leaves two to three
residual evaluations per pair. A pair that Newton does not match from there is solved by
continuation from the nearest node, then from the moment start, along straight paths. Every
pair is solved alone, so results do not depend on the number of threads.

References
----------
Moré, "The Levenberg–Marquardt algorithm: implementation and theory", Lecture Notes in
Mathematics 630 (1978) 105–116; Allgower, Georg, "Introduction to Numerical Continuation
Methods", SIAM (2003), ch. 1.
"""

import math

import numba as nb
import numpy as np

from .codes import BETA, KUMARASWAMY, KUMARASWAMY_CENTRED, LOGISTIC, LOGIT_LOGISTIC, NORMAL
from .jit import KERNEL
from .quantized import kumaraswamy_h, threshold_terms
from .solver import family_logp
from .special import (
    NO_CONSTANTS,
    betainc_constants,
    log_betainc_both_at,
    log_betainc_with_grad_psi,
)

_SQRT3_OVER_PI = math.sqrt(3.0) / math.pi
_GUMBEL_SD = math.pi / math.sqrt(6.0)
_LOG_LOG_2 = math.log(math.log(2.0))
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_EPS = 2.220446049250313e-16
#: Newton iterations per solve, and Levenberg–Marquardt retries per iteration.
MAXIT = 100
_LM_RETRIES = 12
#: Residual below which the last Newton step is taken without evaluating its result: the
#: residual after it is O(|r|²) ≈ 1e-14 in these O(1)-scaled coordinates (measured: mean and
#: variance within 6e-14 of their targets over the whole region, ``tests/test_moments_grid``).
QUADRATIC = 1e-7
#: Stages of the continuation fallback.
_STAGES = 8
#: Jacobian argument of :func:`newton` that has it evaluate the Jacobian at the start.
NO_JACOBIAN = (math.nan, math.nan, math.nan, math.nan)
#: Channels of a table of :func:`build_table`: θ₀, θ₁ and the Jacobian ∂r/∂θ there.
_CHANNELS = 6


@nb.njit(**KERNEL)
def moment_start(fam, psi, var, K, aux):
    """Starting θ from the continuous latent with mean ψ and the Sheppard-corrected variance
    v − 1/12 (at least v/4): normal and logistic by their mean and sd, beta by its moments on
    [0, 1], logit-logistic by the delta method, Kumaraswamy as a Gumbel-minimum latent in
    a·log x with its median at the latent mean."""
    latent_var = max(var - 1.0 / 12.0, 0.25 * var, 1e-6)
    if fam == BETA or fam == KUMARASWAMY or fam == KUMARASWAMY_CENTRED or fam == LOGIT_LOGISTIC:
        xm = min(max((psi - 0.5) / K, 1e-3), 1.0 - 1e-3)
        xv = min(latent_var / (K * K), 0.9 * xm * (1.0 - xm))
        if fam == LOGIT_LOGISTIC:
            s = math.sqrt(xv) / (xm * (1.0 - xm)) * _SQRT3_OVER_PI
            return math.log(xm / (1.0 - xm)), math.log(min(max(s, 1e-4), 50.0))
        if fam == KUMARASWAMY_CENTRED:
            # Gumbel-minimum latent in u ≈ a·log x: sd(log x) ≈ (π/√6)/a, median at x_m
            log_a = math.log(max(_GUMBEL_SD * xm / math.sqrt(xv), 1e-3))
            h_m = kumaraswamy_h(log_a, math.log(xm))[0]
            return log_a, _LOG_LOG_2 - h_m + kumaraswamy_h(log_a, aux[K - 1])[0]
        common = xm * (1.0 - xm) / xv - 1.0
        return math.log(xm * common), math.log((1.0 - xm) * common)
    sd = math.sqrt(latent_var)
    if fam == LOGISTIC:
        sd *= _SQRT3_OVER_PI
    return psi, math.log(sd)


@nb.njit(**KERNEL)
def _tails(fam, th0, th1, g, g_ref, consts, grad):
    """(F, S, ∂F/∂θ₀, ∂F/∂θ₁, ∂S/∂θ₀, ∂S/∂θ₁) at one threshold g (transformed as in
    ``quantized``); direct formulas for the location-scale latents, the incomplete beta with
    the x-free terms ``special.betainc_constants`` of the caller for beta (ψ(a), ψ(b),
    ψ(a + b), which enter only the Jacobian, and the log gamma terms of the prefactor;
    ``special.log_betainc_with_grad_psi``), else from the log-space terms of
    ``quantized.threshold_terms``. Without ``grad`` the beta derivatives are 0 (values only,
    ``special.log_betainc_both_at``)."""
    if fam == NORMAL or fam == LOGISTIC or fam == LOGIT_LOGISTIC:
        sigma = math.exp(th1)
        z = (g - th0) / sigma
        if fam == NORMAL:  # the smaller tail from erfc, the larger one as its complement
            small = 0.5 * math.erfc(abs(z) * _INV_SQRT2)
            big_f, big_s = (1.0 - small, small) if z >= 0.0 else (small, 1.0 - small)
            dens = _INV_SQRT_2PI * math.exp(-0.5 * z * z)
        else:
            e = math.exp(-abs(z))
            lo = e / (1.0 + e)
            hi = 1.0 / (1.0 + e)
            big_f, big_s = (hi, lo) if z >= 0.0 else (lo, hi)
            dens = hi * lo
        # dz/dθ₀ = −1/σ, dz/dθ₁ = −z
        d0 = -dens / sigma
        d1 = -dens * z
        return big_f, big_s, d0, d1, -d0, -d1
    if fam == BETA:
        a = math.exp(th0)
        b = math.exp(th1)
        if not grad:
            lf, ls = log_betainc_both_at(g, a, b, consts)
            return math.exp(lf), math.exp(ls), 0.0, 0.0, 0.0, 0.0
        lf, ls, dfa, dfb, dsa, dsb = log_betainc_with_grad_psi(g, a, b, consts)
        big_f = math.exp(lf)
        big_s = math.exp(ls)
        return (big_f, big_s, big_f * (a * dfa), big_f * (b * dfb), big_s * (a * dsa),
                big_s * (b * dsb))
    lf, ls, dlf0, dlf1, dls0, dls1 = threshold_terms(fam, th0, th1, g, g_ref)
    big_f = math.exp(lf)
    big_s = math.exp(ls)
    return big_f, big_s, big_f * dlf0, big_f * dlf1, big_s * dls0, big_s * dls1


@nb.njit(**KERNEL)
def _location_scale_cell(fam, th0, th1, g_lo, g_hi):
    """(p, ∂p/∂θ₀, ∂p/∂θ₁, exact) of the cell between two thresholds of a location-scale latent,
    without the cancellation of F(z_hi) − F(z_lo) where the cell is narrow on the latent scale
    (σ ≫ 1, next to v_max). With Δ = (g_hi − g_lo)/σ:

    - logistic: p = F(z_hi)·S(z_lo)·(1 − e^{−Δ}), exact for every Δ;
    - normal, where Δ(1 + |m|) < 1e-2 (m the midpoint): the midpoint expansion
      p = φ(m)Δ[1 + (m² − 1)Δ²/24 + (m⁴ − 6m² + 3)Δ⁴/1920] (truncation below 1e-16);
      elsewhere ``exact`` is False and the caller takes the difference of tails.
    """
    sigma = math.exp(th1)
    z_lo = (g_lo - th0) / sigma
    z_hi = (g_hi - th0) / sigma
    delta = (g_hi - g_lo) / sigma
    if fam == NORMAL:
        m = 0.5 * (z_lo + z_hi)
        if delta * (1.0 + abs(m)) >= 1e-2:
            return 0.0, 0.0, 0.0, False
        m2 = m * m
        d2 = delta * delta
        q = (m2 - 1.0) * d2 / 24.0 + (m2 * m2 - 6.0 * m2 + 3.0) * d2 * d2 / 1920.0
        q_m = m * d2 / 12.0 + (4.0 * m2 * m - 12.0 * m) * d2 * d2 / 1920.0
        q_d = (m2 - 1.0) * delta / 12.0 + (m2 * m2 - 6.0 * m2 + 3.0) * d2 * delta / 480.0
        p = _INV_SQRT_2PI * math.exp(-0.5 * m2) * delta * (1.0 + q)
        dlp_m = -m + q_m / (1.0 + q)
        # dm/dθ₀ = −1/σ, dm/dθ₁ = −m, dΔ/dθ₁ = −Δ
        return p, -p * dlp_m / sigma, p * (-m * dlp_m - 1.0 - delta * q_d / (1.0 + q)), True
    e_hi = math.exp(-abs(z_hi))
    f_hi = 1.0 / (1.0 + e_hi) if z_hi >= 0.0 else e_hi / (1.0 + e_hi)
    s_hi = e_hi / (1.0 + e_hi) if z_hi >= 0.0 else 1.0 / (1.0 + e_hi)
    e_lo = math.exp(-abs(z_lo))
    f_lo = 1.0 / (1.0 + e_lo) if z_lo >= 0.0 else e_lo / (1.0 + e_lo)
    s_lo = e_lo / (1.0 + e_lo) if z_lo >= 0.0 else 1.0 / (1.0 + e_lo)
    p = f_hi * s_lo * -math.expm1(-delta)
    # d log F/dz = S, d log S/dz = −F, dz/dθ₀ = −1/σ, dz/dθ₁ = −z
    tail = 0.0 if delta > 700.0 else delta / math.expm1(delta)
    return p, p * (f_lo - s_hi) / sigma, p * (-s_hi * z_hi + f_lo * z_lo - tail), True


@nb.njit(**KERNEL)
def residual(fam, th0, th1, g, K, psi, target, grad):
    """(r₀, r₁) at θ and the Jacobian ∂r/∂θ (module docstring).

    Returns (r0, r1, j00, j01, j10, j11, w0, w1); non-finite where a sum underflows. w0 = S₋ and
    w1 = AB/(A + B) convert the residuals to absolute errors: mean − ψ ≈ w0·r0 and
    variance − v ≈ w1·r1. Without ``grad`` the Jacobian is that of the location-scale and
    Kumaraswamy families, but not computed (and not meaningful) for beta.
    """
    j = min(int(math.floor(psi)), K - 1)  # noqa: RUF046 (Numba typing)
    frac = psi - j
    g_ref = g[K - 1] if g.shape[0] >= K else 0.0
    sp = 0.0
    sp0 = 0.0
    sp1 = 0.0
    sm = 0.0
    sm0 = 0.0
    sm1 = 0.0
    a = 0.0
    a0 = 0.0
    a1 = 0.0
    b = 0.0
    b0 = 0.0
    b1 = 0.0
    pf = 0.0  # F and S at the previous threshold (t_0 = −∞) and their gradients
    ps = 1.0
    pf0 = 0.0
    pf1 = 0.0
    ps0 = 0.0
    ps1 = 0.0
    consts = NO_CONSTANTS
    if fam == BETA:  # digamma and log gamma values once per evaluation, not per threshold
        consts = betainc_constants(math.exp(th0), math.exp(th1), grad)
    for i in range(1, K):
        f, s, f0, f1, s0, s1 = _tails(fam, th0, th1, g[i - 1], g_ref, consts, grad)
        if i < j:
            sm += f
            sm0 += f0
            sm1 += f1
            w = 2.0 * (j - i)
            a += w * f
            a0 += w * f0
            a1 += w * f1
        elif i == j:
            sm += frac * f
            sm0 += frac * f0
            sm1 += frac * f1
            sp += (1.0 - frac) * s
            sp0 += (1.0 - frac) * s0
            sp1 += (1.0 - frac) * s1
        else:
            sp += s
            sp0 += s0
            sp1 += s1
            w = 2.0 * (i - j)
            a += w * s
            a0 += w * s0
            a1 += w * s1
        if i >= 2:  # cell k = i between t_{i−1} and t_i, weight (k − 1)(K − k)
            h = (i - 1.0) * (K - i)
            exact = False
            if fam == NORMAL or fam == LOGISTIC or fam == LOGIT_LOGISTIC:
                c, c0, c1, exact = _location_scale_cell(fam, th0, th1, g[i - 2], g[i - 1])
            if exact:
                b += h * c
                b0 += h * c0
                b1 += h * c1
            elif f <= ps:
                b += h * (f - pf)
                b0 += h * (f0 - pf0)
                b1 += h * (f1 - pf1)
            else:
                b += h * (ps - s)
                b0 += h * (ps0 - s0)
                b1 += h * (ps1 - s1)
        pf, ps, pf0, pf1, ps0, ps1 = f, s, f0, f1, s0, s1
    r0 = math.log(sp) - math.log(sm)
    r1 = math.log(a) - math.log(b) - target
    return (r0, r1, sp0 / sp - sm0 / sm, sp1 / sp - sm1 / sm, a0 / a - b0 / b, a1 / a - b1 / b,
            sm, a * b / (a + b))


@nb.njit(**KERNEL)
def log_odds_target(psi, var, K):
    """τ = log((v − v_min(ψ))/(v_max(ψ) − v))."""
    frac = psi - math.floor(psi)
    lo = frac * (1.0 - frac)
    hi = (psi - 1.0) * (K - psi)
    return math.log(var - lo) - math.log(hi - var)


@nb.njit(**KERNEL)
def _unit0(fam, th0, th1):
    """Natural unit of θ₀: the scale for a location, |log a|/4 (at least 1) for the centred
    Kumaraswamy coordinates (members with mass near 1 and K have log a ≈ −1/ρ), else 1."""
    if fam == NORMAL or fam == LOGISTIC or fam == LOGIT_LOGISTIC:
        return math.exp(th1)
    if fam == KUMARASWAMY_CENTRED:
        return max(abs(th0) / 4.0, 1.0)
    return 1.0


@nb.njit(**KERNEL)
def newton(fam, th0, th1, g, K, psi, target, maxit, jac):
    """Damped Newton for r(θ) = 0 from θ = (th0, th1) (module docstring).

    A step is the Newton step J d = −r (λ = 0) or the Levenberg–Marquardt step
    (JᵀJ + λ·diag JᵀJ) d = −Jᵀr, taken when it decreases |r|²; λ then shrinks tenfold (to 0),
    else grows tenfold and the step is retried. Where |r₀|, |r₁| < :data:`QUADRATIC` the Newton
    step is the last one (its result is not evaluated again). Converged: |r₀| < 32εK and
    |r₁| < 32ε(1 + |τ|), or no step decreases |r|² by more than rounding while |r₀| < √ε/10 and
    |r₁| < 10√ε, or while the mean and the variance are within 16εK and 16εK² of ψ and v
    (next to v_max the middle cells are differences of nearly equal cdf values, whose
    cancellation bounds the relative precision of B).

    ``jac`` is an approximate Jacobian at the start (interpolated in a table of solutions,
    :func:`table_start`), which saves the derivatives of the first evaluation (the first step
    is then a chord step), or :data:`NO_JACOBIAN`. The last, unevaluated step is always taken
    with the Jacobian evaluated at its start.

    Returns (th0, th1, converged, evaluations).
    """
    tol0 = 32.0 * _EPS * K
    tol1 = 32.0 * _EPS * (1.0 + abs(target))
    stall = math.sqrt(_EPS)
    abs_tol0 = 16.0 * _EPS * K
    abs_tol1 = 16.0 * _EPS * K * K
    evals = 1
    if fam == BETA and math.isfinite(jac[0] + jac[1] + jac[2] + jac[3]):
        r0, r1, j00, j01, j10, j11, w0, w1 = residual(fam, th0, th1, g, K, psi, target, False)
        if abs(r0) < QUADRATIC and abs(r1) < QUADRATIC:  # the last step needs the exact one
            r0, r1, j00, j01, j10, j11, w0, w1 = residual(fam, th0, th1, g, K, psi, target, True)
            evals += 1
        else:
            j00, j01, j10, j11 = jac
    else:
        r0, r1, j00, j01, j10, j11, w0, w1 = residual(fam, th0, th1, g, K, psi, target, True)
    norm = r0 * r0 + r1 * r1
    if not math.isfinite(norm):
        return th0, th1, False, evals
    lam = 0.0
    for _ in range(maxit):
        if abs(r0) < tol0 and abs(r1) < tol1:
            return th0, th1, True, evals
        before = norm
        taken = False
        for _retry in range(_LM_RETRIES):
            if lam == 0.0:
                det = j00 * j11 - j01 * j10
                d0 = -(j11 * r0 - j01 * r1) / det
                d1 = -(j00 * r1 - j10 * r0) / det
                if abs(r0) < QUADRATIC and abs(r1) < QUADRATIC and math.isfinite(d0 + d1):
                    # quadratic convergence: the residual after this step is O(|r|²)
                    return th0 + d0, th1 + d1, True, evals
            else:
                a00 = j00 * j00 + j10 * j10
                a01 = j00 * j01 + j10 * j11
                a11 = j01 * j01 + j11 * j11
                c00 = a00 * (1.0 + lam)
                c11 = a11 * (1.0 + lam)
                q0 = j00 * r0 + j10 * r1
                q1 = j01 * r0 + j11 * r1
                det = c00 * c11 - a01 * a01
                d0 = -(c11 * q0 - a01 * q1) / det
                d1 = -(c00 * q1 - a01 * q0) / det
            if not (math.isfinite(d0) and math.isfinite(d1)):
                lam = max(lam * 10.0, 1e-6)
                continue
            big = max(abs(d0) / _unit0(fam, th0, th1), abs(d1))
            if big > 2.0:
                d0 *= 2.0 / big
                d1 *= 2.0 / big
            n0 = th0 + d0
            n1 = th1 + d1
            s0, s1, k00, k01, k10, k11, u0, u1 = residual(fam, n0, n1, g, K, psi, target, True)
            evals += 1
            ns = s0 * s0 + s1 * s1
            if ns < norm:  # False for NaN
                th0, th1 = n0, n1
                r0, r1, j00, j01, j10, j11, w0, w1 = s0, s1, k00, k01, k10, k11, u0, u1
                norm = ns
                lam = lam / 10.0 if lam > 1e-9 else 0.0
                taken = True
                break
            lam = max(lam * 10.0, 1e-6)
        near = (abs(r0) < 0.1 * stall and abs(r1) < 10.0 * stall) or (
            w0 * abs(r0) < abs_tol0 and w1 * abs(r1) < abs_tol1
        )
        if not taken or (near and norm > 0.25 * before):
            conv = (abs(r0) < tol0 and abs(r1) < tol1) or near
            return th0, th1, conv, evals
    return th0, th1, abs(r0) < tol0 and abs(r1) < tol1, evals


@nb.njit(**KERNEL)
def _pmf_mean_rho(fam, th0, th1, g, K):
    """Mean and ρ = (v_max − v)/(v_max − v_min) of the pmf at θ."""
    logp = np.empty(K)
    dlogp = np.empty((K, 2))
    family_logp(fam, th0, th1, g, K, logp, dlogp)
    m = 0.0
    for k in range(K):
        m += (k + 1.0) * math.exp(logp[k])
    var = 0.0
    for k in range(K):
        var += (k + 1.0 - m) ** 2 * math.exp(logp[k])
    frac = m - math.floor(m)
    lo = frac * (1.0 - frac)
    hi = (m - 1.0) * (K - m)
    return m, (hi - var) / (hi - lo)


@nb.njit(**KERNEL)
def _continuation(fam, psi, rho, g, K):
    """Newton along the straight path in (ψ, ρ) from the moments of the start θ₀ to (ψ, ρ), in
    :data:`_STAGES` stages each solved from the previous solution; (th0, th1, converged)."""
    frac = psi - math.floor(psi)
    lo = frac * (1.0 - frac)
    hi = (psi - 1.0) * (K - psi)
    th0, th1 = moment_start(fam, psi, hi - rho * (hi - lo), K, g)
    m0, rho0 = _pmf_mean_rho(fam, th0, th1, g, K)
    if not (1.0 < m0 < K and 0.0 < rho0 < 1.0):
        return th0, th1, False
    ok = False
    for stage in range(1, _STAGES + 1):
        w = stage / _STAGES
        pm = (1.0 - w) * m0 + w * psi
        pr = (1.0 - w) * rho0 + w * rho
        # τ = log((v − v_min)/(v_max − v)) = log((1 − ρ)/ρ)
        th0, th1, ok, _ = newton(fam, th0, th1, g, K, pm, math.log1p(-pr) - math.log(pr), MAXIT,
                                NO_JACOBIAN)
    return th0, th1, ok


@nb.njit(**KERNEL)
def _path(fam, th0, th1, g, K, psi_a, tau_a, psi_b, tau_b):
    """Continuation from a solution θ at (ψ_a, τ_a) to (ψ_b, τ_b) along the straight path in
    (ψ, τ), in :data:`_STAGES` stages each solved from the previous one; (th0, th1, ok)."""
    ok = False
    for stage in range(1, _STAGES + 1):
        w = stage / _STAGES
        th0, th1, ok, _ = newton(
            fam, th0, th1, g, K, (1.0 - w) * psi_a + w * psi_b, (1.0 - w) * tau_a + w * tau_b,
            MAXIT, NO_JACOBIAN,
        )
        if not ok:
            return th0, th1, False
    return th0, th1, ok


@nb.njit(**KERNEL)
def _node(fam, th0, th1, g, K, psi_a, tau_a, psi_b, tau_b):
    """Solve the node (ψ_b, τ_b) from the solution θ at its neighbour (ψ_a, τ_a)."""
    n0, n1, ok, _ = newton(fam, th0, th1, g, K, psi_b, tau_b, MAXIT, NO_JACOBIAN)
    if ok:
        return n0, n1, True
    return _path(fam, th0, th1, g, K, psi_a, tau_a, psi_b, tau_b)


@nb.njit(cache=True, parallel=True, error_model="numpy", no_cfunc_wrapper=True)
def build_table(fam, g, K, per_unit, tau_lo, tau_step, n_tau):
    """θ at the nodes ψ_i = 1 + (i + ½)/per_unit, i < (K − 1)·per_unit, and
    τ_j = tau_lo + j·tau_step, j < n_tau, each solved from a solved neighbour: from the middle
    of the central column up and down, then along every row outwards (a continuation over the
    grid). Returns the table (n_ψ, n_τ, :data:`_CHANNELS`): θ and the Jacobian ∂r/∂θ there
    (j00, j01, j10, j11, for the chord step of :func:`newton`), and the flags of the solved
    nodes; an unsolved node keeps its neighbour's θ."""
    n_psi = (K - 1) * per_unit
    table = np.empty((n_psi, n_tau, _CHANNELS))
    ok = np.zeros((n_psi, n_tau), dtype=np.bool_)
    ic = n_psi // 2
    jc = min(max(int(math.floor(0.5 - tau_lo / tau_step)), 0), n_tau - 1)  # noqa: RUF046 (Numba typing)
    psi_c = 1.0 + (ic + 0.5) / per_unit
    tau_c = tau_lo + jc * tau_step
    frac = psi_c - math.floor(psi_c)
    lo = frac * (1.0 - frac)
    hi = (psi_c - 1.0) * (K - psi_c)
    rho_c = 1.0 / (1.0 + math.exp(tau_c))
    t0, t1 = moment_start(fam, psi_c, hi - rho_c * (hi - lo), K, g)
    t0, t1, conv, _ = newton(fam, t0, t1, g, K, psi_c, tau_c, MAXIT, NO_JACOBIAN)
    if not conv:
        t0, t1, conv = _continuation(fam, psi_c, rho_c, g, K)
    table[ic, jc, 0] = t0
    table[ic, jc, 1] = t1
    ok[ic, jc] = conv
    for step in (1, -1):
        j = jc + step
        while 0 <= j < n_tau:
            a0, a1 = table[ic, j - step, 0], table[ic, j - step, 1]
            t0, t1, conv = _node(
                fam, a0, a1, g, K, psi_c, tau_lo + (j - step) * tau_step, psi_c,
                tau_lo + j * tau_step,
            )
            if not conv:
                t0, t1 = a0, a1
            table[ic, j, 0] = t0
            table[ic, j, 1] = t1
            ok[ic, j] = conv
            j += step
    for j in nb.prange(n_tau):
        tau = tau_lo + j * tau_step
        for step in (1, -1):
            i = ic + step
            while 0 <= i < n_psi:
                a0, a1 = table[i - step, j, 0], table[i - step, j, 1]
                t0, t1, conv = _node(
                    fam, a0, a1, g, K, 1.0 + (i - step + 0.5) / per_unit, tau,
                    1.0 + (i + 0.5) / per_unit, tau,
                )
                if not conv:
                    t0, t1 = a0, a1
                table[i, j, 0] = t0
                table[i, j, 1] = t1
                ok[i, j] = conv
                i += step
    for i in nb.prange(n_psi):
        for j in range(n_tau):
            r = residual(fam, table[i, j, 0], table[i, j, 1], g, K, 1.0 + (i + 0.5) / per_unit,
                         tau_lo + j * tau_step, True)
            for c in range(4):
                table[i, j, 2 + c] = r[2 + c]
    return table, ok


@nb.njit(**KERNEL)
def _weights(x, n, w):
    """First node index of the 4-point Lagrange stencil at x (in node units, −½ ≤ x ≤ n − ½)
    and its weights in w (4,); one-sided stencils at the ends keep the weights exact for cubics
    (half a node of extrapolation past the end nodes)."""
    i = min(max(int(math.floor(x)) - 1, 0), n - 4)  # noqa: RUF046 (Numba typing)
    t = x - (i + 1)  # position relative to the second node, in [−1.5, 2.5]
    # Lagrange cubic through nodes i..i+3 at offsets −1, 0, 1, 2
    w[0] = -t * (t - 1.0) * (t - 2.0) / 6.0
    w[1] = (t + 1.0) * (t - 1.0) * (t - 2.0) / 2.0
    w[2] = -(t + 1.0) * t * (t - 2.0) / 2.0
    w[3] = (t + 1.0) * t * (t - 1.0) / 6.0
    return i


@nb.njit(**KERNEL)
def table_start(table, per_unit, tau_lo, tau_step, psi, tau, wa, wb):
    """θ at (ψ, τ) by bicubic (tensor Lagrange) interpolation in a table of
    :func:`build_table`; returns (th0, th1, the Jacobian there (j00, j01, j10, j11), nearest ψ
    node, nearest τ node).

    The ψ stencil stays within the unit [j, j + 1] that holds ψ (j = ⌊ψ⌋, at most K − 1):
    v_min(ψ) = f(1 − f) has a kink at every integer, and so has θ(ψ, τ), which a stencil across
    it would interpolate with an error of the order of the node spacing (residuals 1e-2 instead
    of 1e-4 within 1/32 of an integer).
    """
    n_psi = table.shape[0]
    n_tau = table.shape[1]
    xa = (psi - 1.0) * per_unit - 0.5
    xb = min(max((tau - tau_lo) / tau_step, 0.0), n_tau - 1.0)
    first = (min(int(math.floor(psi)), n_psi // per_unit) - 1) * per_unit  # noqa: RUF046 (Numba typing)
    a = first + _weights(min(max(xa - first, -0.5), per_unit - 0.5), per_unit, wa)
    b = _weights(xb, n_tau, wb)
    t0 = t1 = j00 = j01 = j10 = j11 = 0.0
    for p in range(4):
        for q in range(4):
            w = wa[p] * wb[q]
            t0 += w * table[a + p, b + q, 0]
            t1 += w * table[a + p, b + q, 1]
            j00 += w * table[a + p, b + q, 2]
            j01 += w * table[a + p, b + q, 3]
            j10 += w * table[a + p, b + q, 4]
            j11 += w * table[a + p, b + q, 5]
    na = min(max(int(math.floor(xa + 0.5)), 0), n_psi - 1)  # noqa: RUF046 (Numba typing)
    nb_ = min(max(int(math.floor(xb + 0.5)), 0), n_tau - 1)  # noqa: RUF046 (Numba typing)
    return t0, t1, (j00, j01, j10, j11), na, nb_


@nb.njit(cache=True, parallel=True, error_model="numpy", no_cfunc_wrapper=True)
def solve(fam, psi, var, g, K, table, table_ok, per_unit, tau_lo, tau_step):
    """θ (n, 2) whose quantized pmf has mean ψ and variance v, for interior points
    1 < ψ < K, v_min(ψ) < v < v_max(ψ), and the flags of the converged ones.

    Newton starts from the bicubic interpolation of a table of :func:`build_table` in (ψ, τ);
    where it fails, continuation from the nearest solved node, then from the moment start.
    """
    n = psi.shape[0]
    theta = np.empty((n, 2))
    ok = np.empty(n, dtype=np.bool_)
    for i in nb.prange(n):
        wa = np.empty(4)
        wb = np.empty(4)
        tau = log_odds_target(psi[i], var[i], K)
        t0, t1, jac, na, nb_ = table_start(table, per_unit, tau_lo, tau_step, psi[i], tau, wa,
                                           wb)
        t0, t1, conv, _ = newton(fam, t0, t1, g, K, psi[i], tau, MAXIT, jac)
        if not conv and table_ok[na, nb_]:
            t0, t1, conv = _path(
                fam, table[na, nb_, 0], table[na, nb_, 1], g, K, 1.0 + (na + 0.5) / per_unit,
                tau_lo + nb_ * tau_step, psi[i], tau,
            )
        if not conv:
            frac = psi[i] - math.floor(psi[i])
            lo = frac * (1.0 - frac)
            hi = (psi[i] - 1.0) * (K - psi[i])
            t0, t1, conv = _continuation(fam, psi[i], (hi - var[i]) / (hi - lo), g, K)
        theta[i, 0] = t0
        theta[i, 1] = t1
        ok[i] = conv
    return theta, ok
