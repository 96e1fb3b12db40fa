"""Per-stimulus solver shared by all families: projected Newton / Fisher scoring for the maximum
likelihood (the mean/variance match is in ``moments``).

Both work in a family's solver coordinates θ (see ``quantized`` and ``gsd``) through
:func:`family_logp`, which returns log p_k and ∂ log p_k/∂θ. The likelihood steps use the Fisher
information I(θ) = Σ_k p_k ∇log p_k ∇log p_kᵀ where the fit is close and the observed Hessian
otherwise (shifted by the trust-region multiplier where it is indefinite), so every step is a
descent direction for the negative log-likelihood; box constraints (the reference study's
bounds, the GSD pieces) are handled by fixing the coordinates whose bound is active, with an
ε-active set (Bertsekas' projected Newton), and an Armijo line search along the projected path.
"""

import math

import numpy as np
from numba.extending import register_jitable

from .codes import (
    BETA,
    GSD_BETABINOMIAL,
    GSD_MIXTURE,
    KUMARASWAMY,
    KUMARASWAMY_CENTRED,
    LOGISTIC,
    LOGIT_LOGISTIC,
    NORMAL,
)
from .gsd import betabinomial_logp, mixture_logp
from .jit import INNER
from .quantized import quantized_logp

_INF = np.inf
#: Newton decrement ḡᵀH⁻¹ḡ relative to the NLL (about twice the relative gap to the optimum)
#: below which a fit counts as converged (see :func:`minimize_nll`). Relative, so that the
#: stopping point (and every iterate) is the same for the counts and any multiple of them; the
#: NLL is then within about 5e-13·NLL of the optimum.
DECREMENT_TOL = 1e-12
#: χ²(q, p) per rating up to which the Fisher information stands in for the observed Hessian:
#: H − I = Σ_k (q_k − p_k)·(∇ℓ_k∇ℓ_kᵀ − ∇²p_k/p_k), of relative size about √χ² (Cauchy–Schwarz).
FISHER_CHI2 = 0.05
#: Trust radius of one solver step in natural units (scales for locations, e-folds for log-scales).
STEP_RADIUS = 4.0
#: Distance to a bound (natural units) within which a coordinate pushed outwards is put on it.
BOUND_SNAP = 1e-10
#: Relative size of a Newton step below which it cannot move its coordinate (two ulps).
RESOLUTION = 4.5e-16
#: Share of the way to a bound at which a line search that met zero likelihood on that bound
#: tries a second point (see :func:`_pulled_bound`).
EDGE_FRACTION = 0.9
#: Most single-ulp moves tried where the solver stops without converging (:func:`_ulp_polish`).
POLISH_STEPS = 16
#: Gain of a full step over its quadratic model's prediction above which (in this and the last
#: iteration) a beta or Kumaraswamy step is doubled while the NLL keeps falling (see
#: :func:`minimize_nll`).
EXPAND_RATIO = 1.1


@register_jitable(**INNER)
def family_logp(fam, th0, th1, aux, K, logp, dlogp):
    """log p_k (K,) and ∂ log p_k/∂θ (K, 2) of family ``fam`` at θ = (th0, th1)."""
    if fam == GSD_BETABINOMIAL:
        betabinomial_logp(th0, th1, K, logp, dlogp)
    elif fam == GSD_MIXTURE:
        mixture_logp(th0, th1, int(aux[0]), K, logp, dlogp)
    else:
        quantized_logp(fam, th0, th1, aux, K, logp, dlogp)


@register_jitable(**INNER)
def nll_terms(fam, th0, th1, aux, c, K, logp, dlogp):
    """NLL = −Σ c_k log p_k, its gradient and the Fisher information (Σ c)·Σ p_k ∇ℓ_k ∇ℓ_kᵀ at θ.

    With proportions q = c/N for ``c`` every term is per rating. Returns
    (f, g0, g1, h00, h01, h11); f = inf where a positive count has probability 0.
    """
    family_logp(fam, th0, th1, aux, K, logp, dlogp)
    n = 0.0
    f = 0.0
    g0 = 0.0
    g1 = 0.0
    for k in range(K):
        if c[k] > 0.0:
            n += c[k]
            if not logp[k] > -_INF:  # zero probability (or NaN) for an observed category
                return _INF, 0.0, 0.0, 0.0, 0.0, 0.0
            f -= c[k] * logp[k]
            g0 -= c[k] * dlogp[k, 0]
            g1 -= c[k] * dlogp[k, 1]
    h00 = 0.0
    h01 = 0.0
    h11 = 0.0
    for k in range(K):
        if logp[k] > -_INF:
            p = math.exp(logp[k])
            h00 += p * dlogp[k, 0] * dlogp[k, 0]
            h01 += p * dlogp[k, 0] * dlogp[k, 1]
            h11 += p * dlogp[k, 1] * dlogp[k, 1]
    if not (math.isfinite(f) and math.isfinite(g0) and math.isfinite(g1)):
        return _INF, 0.0, 0.0, 0.0, 0.0, 0.0
    return f, g0, g1, n * h00, n * h01, n * h11


@register_jitable(**INNER)
def _term_sizes(q, K, dlogp):
    """(Σ q_k |∂ℓ_k/∂θ0|, Σ q_k |∂ℓ_k/∂θ1|, max over observed k of |∂ℓ_k/∂θ0|, … θ1).

    The sums bound the rounding error of the gradient; the maxima set finite-difference steps.
    """
    s0 = 0.0
    s1 = 0.0
    m0 = 0.0
    m1 = 0.0
    for k in range(K):
        if q[k] > 0.0:
            a0 = abs(dlogp[k, 0])
            a1 = abs(dlogp[k, 1])
            s0 += q[k] * a0
            s1 += q[k] * a1
            m0 = max(m0, a0)
            m1 = max(m1, a1)
    return s0, s1, m0, m1


@register_jitable(**INNER)
def _clip(x, lo, hi):
    return min(max(x, lo), hi)


@register_jitable(**INNER)
def _trust_step(g0, g1, h00, h01, h11, u0, u1, free0, free1, radius):
    """Trust-region step on the free coordinates: the minimizer of gᵀd + ½dᵀHd subject to
    ‖(d0/u0, d1/u1)‖ ≤ radius (Moré–Sorensen: d = −(H + λD²)⁻¹g with the smallest λ ≥ 0 that
    makes H + λD² positive definite and the step fit, found by bisection on log λ).

    Returns (d0, d1, newton): newton is True where the plain Newton step (λ = 0, H positive
    definite) was taken.
    """
    if not (free0 or free1):
        return 0.0, 0.0, True
    if not free0 or not free1:  # one coordinate: 1-D Newton, else a step to the radius
        g = g0 if free0 else g1
        h = h00 if free0 else h11
        u = u0 if free0 else u1
        if h > 0.0 and abs(g / h) <= radius * u:
            d = -g / h
            newton = True
        else:
            d = -radius * u if g > 0.0 else radius * u
            newton = False
        return (d, 0.0, newton) if free0 else (0.0, d, newton)
    # scaled problem: a = D⁻¹HD⁻¹, b = D⁻¹g with D = diag(1/u0, 1/u1)
    a00 = h00 * u0 * u0
    a01 = h01 * u0 * u1
    a11 = h11 * u1 * u1
    b0 = g0 * u0
    b1 = g1 * u1
    det = a00 * a11 - a01 * a01
    if a00 > 0.0 and a11 > 0.0 and det > 1e-12 * a00 * a11:
        x0 = -(a11 * b0 - a01 * b1) / det
        x1 = -(a00 * b1 - a01 * b0) / det
        if x0 * x0 + x1 * x1 <= radius * radius:
            return x0 * u0, x1 * u1, True
    # smallest eigenvalue of a: λ must exceed −λ_min
    half_tr = 0.5 * (a00 + a11)
    lam_min = half_tr - math.sqrt(0.25 * (a00 - a11) ** 2 + a01 * a01)
    scale = abs(a00) + abs(a11) + 2.0 * abs(a01) + math.sqrt(b0 * b0 + b1 * b1) / radius
    lo = max(0.0, -lam_min) + 1e-14 * scale + 1e-300
    hi = lo + scale + 1.0
    x0 = 0.0
    x1 = 0.0
    for _ in range(100):
        lam = math.sqrt(lo * hi) if lo > 0.0 else 0.5 * hi
        c00 = a00 + lam
        c11 = a11 + lam
        dt = c00 * c11 - a01 * a01
        x0 = -(c11 * b0 - a01 * b1) / dt
        x1 = -(c00 * b1 - a01 * b0) / dt
        nrm = x0 * x0 + x1 * x1
        if nrm > radius * radius:
            lo = lam
        else:
            hi = lam
        if hi - lo <= 1e-6 * hi:
            break
    c00 = a00 + hi
    c11 = a11 + hi
    dt = c00 * c11 - a01 * a01
    x0 = -(c11 * b0 - a01 * b1) / dt
    x1 = -(c00 * b1 - a01 * b0) / dt
    return x0 * u0, x1 * u1, False


@register_jitable(**INNER)
def _positive_definite(h00, h01, h11, free0, free1):
    """True where H is positive definite on the free coordinates."""
    if free0 and free1:
        return h00 > 0.0 and h11 > 0.0 and h00 * h11 - h01 * h01 > 1e-12 * h00 * h11
    return (h00 > 0.0 or not free0) and (h11 > 0.0 or not free1)


@register_jitable(**INNER)
def _fd_step(th, m, lo, hi):
    """Forward-difference step for one coordinate: about 1e-6 in the observed log p_k, kept
    representable and inside the box (backward where the forward point would leave it)."""
    h = 1e-6 / max(m, 1.0)
    h = max(h, 1e-13 * max(1.0, abs(th)))
    if th + h > hi:
        h = -h
    return h


@register_jitable(**INNER)
def _hessian(fam, th0, th1, g0, g1, free0, free1, lo0, hi0, lo1, hi1, aux, q, K, logp, dlogp):
    """Observed Hessian of the per-rating NLL by forward differences of the analytic gradient,
    along the free coordinates only (the other entries are not needed and left 0).

    Returns (h00, h01, h11, ok); ok is False where a shifted point has zero likelihood.
    """
    _, _, m0, m1 = _term_sizes(q, K, dlogp)
    h00 = 0.0
    h01 = 0.0
    h11 = 0.0
    if free0:
        e0 = _fd_step(th0, m0, lo0, hi0)
        fa, a0, a1, _, _, _ = nll_terms(fam, th0 + e0, th1, aux, q, K, logp, dlogp)
        if fa == _INF:
            return 0.0, 0.0, 0.0, False
        h00 = (a0 - g0) / e0
        h01 = (a1 - g1) / e0
    if free1:
        e1 = _fd_step(th1, m1, lo1, hi1)
        fb, b0, b1, _, _, _ = nll_terms(fam, th0, th1 + e1, aux, q, K, logp, dlogp)
        if fb == _INF:
            return 0.0, 0.0, 0.0, False
        h11 = (b1 - g1) / e1
        h01 = 0.5 * (h01 + (b0 - g0) / e1) if free0 else 0.0
    return h00, h01, h11, True


@register_jitable(**INNER)
def _snap(th, g, lo, hi, eps):
    """θ moved onto a bound within ``eps`` of it where the gradient points out of the box.

    Bertsekas' ε-active set: a coordinate a rounding step short of its bound counts as on it,
    so that the projected step does not stall against the bound.
    """
    if th - lo <= eps and g > 0.0:
        return lo
    if hi - th <= eps and g < 0.0:
        return hi
    return th


@register_jitable(**INNER)
def _free(th, g, lo, hi):
    """False where the coordinate sits on a bound with the gradient pointing out of the box."""
    return not ((th <= lo and g > 0.0) or (th >= hi and g < 0.0))


@register_jitable(**INNER)
def _at_noise_floor(g0, g1, free0, free1, q, K, dlogp):
    """True where every free gradient component is cancellation noise: |ḡ_j| below 1e-11 of
    Σ_k q_k |∂ℓ_k/∂θ_j|, the sum of the magnitudes of its terms (scale-free)."""
    s0, s1, _, _ = _term_sizes(q, K, dlogp)
    ok0 = (not free0) or abs(g0) <= 1e-11 * s0
    ok1 = (not free1) or abs(g1) <= 1e-11 * s1
    return ok0 and ok1


@register_jitable(**INNER)
def _f_noise(fam, q, K, logp):
    """Rounding level of f̄ = −Σ q_k log p_k: 64 ulps of Σ q_k |log p_k| (each log p_k is
    relatively accurate), plus 64 ulps per rating for the GSD pieces, whose log p_k are sums of
    logarithms of order one (absolutely accurate: log p ≈ −1e-12 carries an error of 1e-16)."""
    s = 0.0
    for k in range(K):
        if q[k] > 0.0:
            s += q[k] * abs(logp[k])
    if fam == GSD_BETABINOMIAL or fam == GSD_MIXTURE:
        s += 1.0
    return 64.0 * 2.220446049250313e-16 * s


@register_jitable(**INNER)
def _pulled_bound(th, d, lo, hi):
    """The bound that the step θ + d of one coordinate runs into, pulled in to
    EDGE_FRACTION of the way from θ (θ itself where that rounds onto the bound); ``lo`` or
    ``hi`` unchanged where the step stays inside or θ is on that bound already.

    Returns (lo, hi) of the pulled-in interval.
    """
    if d > 0.0 and th < hi and th + d >= hi:
        b = th + EDGE_FRACTION * (hi - th)
        return lo, b if b < hi else th
    if d < 0.0 and th > lo and th + d <= lo:
        b = th + EDGE_FRACTION * (lo - th)
        return b if b > lo else th, hi
    return lo, hi


@register_jitable(**INNER)
def _predicted_decrease(d0, d1, g0, g1, h00, h01, h11):
    """Decrease −(gᵀd + ½ dᵀHd) of the quadratic model along the step d."""
    return -(g0 * d0 + g1 * d1) - 0.5 * (h00 * d0 * d0 + 2.0 * h01 * d0 * d1 + h11 * d1 * d1)


@register_jitable(**INNER)
def _ulp_polish(fam, th0, th1, f, g0, g1, lo0, hi0, lo1, hi1, aux, q, K, logp, dlogp):
    """Where the solver stops without converging: move each coordinate by single ulps downhill
    (against its gradient, inside the box) while that lowers f̄, at most POLISH_STEPS times.

    Panels of 10¹⁶ or more ratings in one category with one stray rating have their optimum
    closer to a bound than the float spacing there (GSD ψ − 1 ≈ 3/N): the best point is then
    the one a few ulps from the bound that the steps, which are longer, pass over.
    Returns (th0, th1, f) and leaves logp, dlogp at that point.
    """
    moved = False
    for _ in range(POLISH_STEPS):
        better = False
        for j in range(2):
            g = g0 if j == 0 else g1
            if g == 0.0 or not math.isfinite(g):
                continue
            x = th0 if j == 0 else th1
            y = np.nextafter(x, -_INF if g > 0.0 else _INF)
            if y < (lo0 if j == 0 else lo1) or y > (hi0 if j == 0 else hi1):
                continue
            a0 = y if j == 0 else th0
            a1 = th1 if j == 0 else y
            af, ag0, ag1, _, _, _ = nll_terms(fam, a0, a1, aux, q, K, logp, dlogp)
            moved = True
            if af < f:
                th0, th1, f, g0, g1 = a0, a1, af, ag0, ag1
                better = True
        if not better:
            break
    if moved:
        family_logp(fam, th0, th1, aux, K, logp, dlogp)
    return th0, th1, f


@register_jitable(**INNER)
def _save_state(logp, dlogp, saved, K):
    """Copy log p_k and ∂ log p_k/∂θ into the rows of ``saved`` (K, 3).

    Element loops: a slice assignment would compile NumPy's shape-mismatch error message (string
    formatting) into every solver.
    """
    for k in range(K):
        saved[k, 0] = logp[k]
        saved[k, 1] = dlogp[k, 0]
        saved[k, 2] = dlogp[k, 1]


@register_jitable(**INNER)
def _restore_state(saved, logp, dlogp, K):
    """Copy the rows of ``saved`` (K, 3) back into log p_k and ∂ log p_k/∂θ."""
    for k in range(K):
        logp[k] = saved[k, 0]
        dlogp[k, 0] = saved[k, 1]
        dlogp[k, 1] = saved[k, 2]


@register_jitable(**INNER)
def _unit0(fam, th1):
    """Natural unit of θ0 at θ: the scale for location-scale coordinates, else 1."""
    if fam == NORMAL or fam == LOGISTIC or fam == LOGIT_LOGISTIC:
        return math.exp(th1)
    return 1.0


@register_jitable(**INNER)
def minimize_nll(fam, th0, th1, lo0, hi0, lo1, hi1, aux, c, K, maxit, logp, dlogp):
    """Projected Newton for the NLL −Σ c_k log p_k(θ) from θ = (th0, th1) inside the box [lo, hi].

    The likelihood depends on the counts only through the proportions q = c/N and the total N,
    so the iteration works on the per-rating NLL f̄ = −Σ q_k log p_k (any N up to the float
    range). Each step is the trust-region step (:func:`_trust_step`, radius STEP_RADIUS natural
    units: scale units for locations, e-folds for log-scales) of the quadratic model with the
    Fisher information where the fit is close (χ²(q, p) ≤ FISHER_CHI2, where it is within about
    √χ² of the Hessian: cheap scoring steps on well-fitting data), else the observed Hessian
    (forward differences of the analytic gradient; where a shifted point has zero likelihood,
    the Fisher information plus the outer products Σ q_k ∇ℓ_k ∇ℓ_kᵀ), so
    steps stay descent directions also where the Hessian is indefinite, and near the optimum it
    is Newton's step (quadratic convergence, unlike Fisher scoring where the fit is poor). A
    coordinate on its bound with the gradient pointing out of the box is fixed and the other one
    solved alone (Bertsekas' projected Newton); steps are backtracked along the projected path
    (Armijo). Where a trial on a bound has zero likelihood, the step projected on the box pulled
    in to EDGE_FRACTION of the way to that bound is tried as well (:func:`_pulled_bound`); where
    full beta or Kumaraswamy steps gain more than EXPAND_RATIO times their model's prediction
    twice running, the step is doubled while the NLL falls.

    Converged: the Newton decrement per rating ḡᵀH⁻¹ḡ (about twice the gap of f̄ to its optimum)
    is below DECREMENT_TOL·f̄, or every free gradient component is at its rounding floor; both
    tests are on the proportions alone, so scaling the counts changes no step.
    Otherwise the best point found, moved by single ulps downhill where that lowers f̄
    (:func:`_ulp_polish`), is returned with converged=False.

    Returns (th0, th1, nll, iterations, converged).
    """
    n_tot = 0.0
    for k in range(K):
        n_tot += c[k]
    q = np.empty(K)
    for k in range(K):
        q[k] = c[k] / n_tot
    saved = np.empty((K, 3))  # logp and dlogp while a second point of a line search is tried
    gained = False  # the last full step gained more than its model predicted
    expand = fam == BETA or fam == KUMARASWAMY or fam == KUMARASWAMY_CENTRED
    th0 = _clip(th0, lo0, hi0)
    th1 = _clip(th1, lo1, hi1)
    f, g0, g1, h00, h01, h11 = nll_terms(fam, th0, th1, aux, q, K, logp, dlogp)
    if f == _INF:
        return th0, th1, _INF, 0, False
    for it in range(maxit):
        s0 = _snap(th0, g0, lo0, hi0, BOUND_SNAP * _unit0(fam, th1))
        s1 = _snap(th1, g1, lo1, hi1, BOUND_SNAP)
        if s0 != th0 or s1 != th1:
            sf, sg0, sg1, sh00, sh01, sh11 = nll_terms(fam, s0, s1, aux, q, K, logp, dlogp)
            if sf <= f + 1e-12 * abs(f):
                th0, th1, f, g0, g1, h00, h01, h11 = s0, s1, sf, sg0, sg1, sh00, sh01, sh11
            else:
                nll_terms(fam, th0, th1, aux, q, K, logp, dlogp)
        free0 = _free(th0, g0, lo0, hi0)
        free1 = _free(th1, g1, lo1, hi1)
        if _at_noise_floor(g0, g1, free0, free1, q, K, dlogp):
            return th0, th1, n_tot * f, it, True
        # Fisher plus outer products of the observed terms: the metric where no Hessian is had;
        # χ²(q, p) per rating says how far the Fisher information is from the Hessian
        b00 = h00
        b01 = h01
        b11 = h11
        chi2 = 0.0
        for k in range(K):
            if q[k] > 0.0:
                b00 += q[k] * dlogp[k, 0] * dlogp[k, 0]
                b01 += q[k] * dlogp[k, 0] * dlogp[k, 1]
                b11 += q[k] * dlogp[k, 1] * dlogp[k, 1]
            if logp[k] > -_INF:
                p = math.exp(logp[k])
                chi2 += (q[k] - p) * (q[k] - p) / p
        if chi2 <= FISHER_CHI2 and h00 * h11 - h01 * h01 > 1e-12 * h00 * h11:
            e00, e01, e11, ok_h = h00, h01, h11, True
        else:
            e00, e01, e11, ok_h = _hessian(
                fam, th0, th1, g0, g1, free0, free1, lo0, hi0, lo1, hi1, aux, q, K, logp, dlogp
            )
            if not ok_h:
                e00, e01, e11 = b00, b01, b11
            elif not _positive_definite(e00, e01, e11, free0, free1):
                ok_h = False  # indefinite: the trust-region step shifts it (not a Newton step)
        d0, d1, newton = _trust_step(
            g0, g1, e00, e01, e11, _unit0(fam, th1), 1.0, free0, free1, STEP_RADIUS
        )
        newton = newton and ok_h
        if newton and free0 and free1:
            fix0 = abs(d0) <= RESOLUTION * abs(th0)
            fix1 = abs(d1) <= RESOLUTION * abs(th1)
            if fix0 != fix1:  # one Newton step is below its coordinate's resolution: the other
                free0 = not fix0  # coordinate is solved alone (the first stays where it is)
                free1 = not fix1
                d0, d1, newton = _trust_step(
                    g0, g1, e00, e01, e11, _unit0(fam, th1), 1.0, free0, free1, STEP_RADIUS
                )
        decrement = -(g0 * d0 + g1 * d1)
        if newton and decrement <= DECREMENT_TOL * f:
            return th0, th1, n_tot * f, it, True
        if not decrement > 0.0:  # no descent left in double precision (not at the noise floor)
            th0, th1, f = _ulp_polish(fam, th0, th1, f, g0, g1, lo0, hi0, lo1, hi1, aux, q, K,
                                      logp, dlogp)
            return th0, th1, n_tot * f, it, False
        t = 1.0
        accepted = False
        n0 = th0
        n1 = th1
        nf = f
        ng0 = g0
        ng1 = g1
        nh00 = h00
        nh01 = h01
        nh11 = h11
        unrepresentable = False
        edge = False  # a second point to try, on a box pulled in from the bounds met
        t_edge = 1.0
        e_lo0, e_hi0, e_lo1, e_hi1 = lo0, hi0, lo1, hi1
        e0 = th0
        e1 = th1
        for _ls in range(80):
            n0 = _clip(th0 + t * d0, lo0, hi0)
            n1 = _clip(th1 + t * d1, lo1, hi1)
            if n0 == th0 and n1 == th1:
                # the Newton step itself rounds away: θ is the optimum at double resolution
                unrepresentable = t == 1.0 and newton
                break
            nf, ng0, ng1, nh00, nh01, nh11 = nll_terms(fam, n0, n1, aux, q, K, logp, dlogp)
            slope = g0 * (n0 - th0) + g1 * (n1 - th1)
            if nf <= f + 1e-4 * slope:
                accepted = True
                break
            # rounding regime: the predicted decrease is below the resolution of f
            if nf <= f and -slope <= 1e-14 * abs(f):
                accepted = True
                break
            if nf == _INF and not edge:
                # on a bound that θ is not on (e.g. the GSD mixture weight r = 1 with a rating
                # outside the least-spread pmf) the zero is most likely that bound's, and the
                # optimum may lie just inside it: cutting the step to a tenth would let the
                # distance to the bound shrink by only 10 % per iteration
                e_lo0, e_hi0 = _pulled_bound(th0, t * d0, lo0, hi0)
                e_lo1, e_hi1 = _pulled_bound(th1, t * d1, lo1, hi1)
                edge = e_lo0 != lo0 or e_hi0 != hi0 or e_lo1 != lo1 or e_hi1 != hi1
                t_edge = t
            t *= 0.5 if nf < _INF else 0.1
        if edge:
            e0 = _clip(th0 + t_edge * d0, e_lo0, e_hi0)
            e1 = _clip(th1 + t_edge * d1, e_lo1, e_hi1)
            edge = e0 != th0 or e1 != th1
        if edge:
            # also the same step projected on the box with those bounds pulled in (the
            # fraction-to-the-boundary rule of interior-point methods, Nocedal & Wright,
            # Numerical Optimization, 2nd ed., §19.2); the lower of the two points is kept
            if accepted:
                _save_state(logp, dlogp, saved, K)
            ef, eg0, eg1, eh00, eh01, eh11 = nll_terms(fam, e0, e1, aux, q, K, logp, dlogp)
            e_slope = g0 * (e0 - th0) + g1 * (e1 - th1)
            if ef < f and ef <= f + 1e-4 * e_slope and (not accepted or ef < nf):
                n0, n1, nf, ng0, ng1, nh00, nh01, nh11 = e0, e1, ef, eg0, eg1, eh00, eh01, eh11
                accepted = True
            elif accepted:
                _restore_state(saved, logp, dlogp, K)
        ahead = (expand and accepted and t == 1.0 and n0 == th0 + d0 and n1 == th1 + d1
                 and f - nf >= EXPAND_RATIO * _predicted_decrease(d0, d1, g0, g1, e00, e01, e11)
                 and f - nf > 1e-8 * abs(f))
        if ahead and gained:
            # the full steps of this and the last iteration gained clearly more than their
            # quadratic models predicted (the NLL falls off exponentially ahead, e.g. the mass
            # outside a huge category as a beta concentrates on it): double the step while that
            # lowers the NLL, within the trust radius (only for the log-scale coordinates of
            # beta and Kumaraswamy: for the other families the doublings cost more evaluations
            # than they save)
            u0 = _unit0(fam, th1)
            s = 1.0
            while (2.0 * s * d0 / u0) ** 2 + (2.0 * s * d1) ** 2 <= STEP_RADIUS * STEP_RADIUS:
                x0 = th0 + 2.0 * s * d0
                x1 = th1 + 2.0 * s * d1
                if x0 < lo0 or x0 > hi0 or x1 < lo1 or x1 > hi1:
                    break
                _save_state(logp, dlogp, saved, K)
                xf, xg0, xg1, xh00, xh01, xh11 = nll_terms(fam, x0, x1, aux, q, K, logp, dlogp)
                if not xf < nf:
                    _restore_state(saved, logp, dlogp, K)
                    break
                n0, n1, nf, ng0, ng1, nh00, nh01, nh11 = x0, x1, xf, xg0, xg1, xh00, xh01, xh11
                s *= 2.0
        gained = ahead
        if not accepted:
            # no decrease at double precision: converged only if the gradient is pure noise
            family_logp(fam, th0, th1, aux, K, logp, dlogp)
            ok = unrepresentable or _at_noise_floor(g0, g1, free0, free1, q, K, dlogp) or (
                newton and decrement <= max(1e3 * DECREMENT_TOL * f, _f_noise(fam, q, K, logp))
            )
            if not ok:
                th0, th1, f = _ulp_polish(fam, th0, th1, f, g0, g1, lo0, hi0, lo1, hi1, aux, q,
                                          K, logp, dlogp)
            return th0, th1, n_tot * f, it, ok
        th0, th1 = n0, n1
        f, g0, g1, h00, h01, h11 = nf, ng0, ng1, nh00, nh01, nh11
    th0, th1, f = _ulp_polish(fam, th0, th1, f, g0, g1, lo0, hi0, lo1, hi1, aux, q, K, logp,
                              dlogp)
    return th0, th1, n_tot * f, maxit, False
