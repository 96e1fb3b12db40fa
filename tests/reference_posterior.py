"""Reference posterior predictive pmf under the uniform prior on (ψ, ρ).

For rating counts ``c = (c_1, ..., c_K)`` and a two-parameter family of pmfs ``p(ψ, ρ)`` on the
categories ``1..K``, parametrized by its mean ``ψ ∈ [1, K]`` and shape ``ρ ∈ [0, 1]`` (the variance
is ``v = ρ v_min(ψ) + (1 − ρ) v_max(ψ)``), this module computes

    q̃_k = ∫∫ p_k(ψ, ρ) L(ψ, ρ) dψ dρ / ∫∫ L(ψ, ρ) dψ dρ,    L = Π_j p_j^{c_j},

by its own numerical integration. Only the family pmf is taken from :mod:`ratingdist` (its public
``Family.pmf`` / ``Family.pmf_from_moments``); nothing else of the package is used.

Method
------
Globally adaptive cubature on rectangles with the tensor Gauss–Kronrod 7/15 rule (225 nodes per
rectangle; the nodes of all rectangles of a round go through vectorized family calls):

* the ψ range is split at the integers ``2..K−1``, where ``v_min`` (and hence ``p``) has kinks;
* for the GSD the ρ range is split along the curve ``ρ = C(ψ)``, where the GSD changes formula,
  through the coordinates ``ρ = C(ψ) t`` (lower part) and ``ρ = C(ψ) + (1 − C(ψ)) t`` (upper
  part), ``t ∈ [0, 1]``, with their Jacobians;
* the maximum of ``log L`` is located first (grid plus a bounded Nelder–Mead polish); the
  rectangle holding it is split there, and ``L`` is always evaluated as
  ``exp(log L − shift)``, where ``shift`` is the largest ``log L`` seen so far (earlier
  contributions are rescaled whenever it grows), so large ``N`` neither underflows nor overflows;
* nodes at which an a-priori bound of ``L`` (Markov and Cantelli inequalities for a pmf with
  mean ψ and variance v, :func:`log_likelihood_bound`) is below ``exp(−60)`` times the largest
  ``L`` seen are not evaluated (their integrand is below that level, so this changes nothing at
  the accuracy of interest and avoids the slow family evaluations in the corners ψ → 1, K
  and at the borders ρ → 0, 1 whenever the likelihood is negligible there);
* the ``K + 1`` integrals ``∫ L`` and ``∫ p_k L`` are refined together; per rectangle and
  direction the error estimate is ``|K15⊗K15 − G7⊗K15|`` (ψ) and ``|K15⊗K15 − K15⊗G7|`` (t),
  and a rectangle is bisected along its worse direction while the summed estimates exceed
  ``tol · (∫ p_k L + floor · ∫ L)`` for some ``k``. Rectangles adjacent to ``ρ → 0``, ``ρ → 1``
  or ``ψ → 1, K`` are refined geometrically towards the border by this rule, which handles
  posteriors piling up against it. The nodes never lie on the border itself;
* nodes where the family pmf cannot be evaluated get zero weight (isolated failures are first
  retried at slightly displaced points); see the Notes of
  :func:`posterior_predictive_reference`.

The estimates ``|K15 − G7|`` are conservative: the achieved accuracy is usually far better than
``tol`` (see ``tests/test_reference_posterior_selfcheck.py``).
"""

from __future__ import annotations

import contextlib
import itertools
import warnings
from collections.abc import Callable, Iterator

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

import ratingdist as rd

__all__ = [
    "FAMILIES",
    "NATIVE_FAMILIES",
    "QUANTIZED_FAMILIES",
    "family_pmf_psi_rho",
    "log_likelihood",
    "log_likelihood_bound",
    "max_likelihood_point",
    "posterior_predictive_reference",
]

NATIVE_FAMILIES = ("maxent", "gsd")
QUANTIZED_FAMILIES = ("normal", "logistic", "beta", "kumaraswamy", "logit-logistic")
FAMILIES = QUANTIZED_FAMILIES + NATIVE_FAMILIES

# Gauss–Kronrod 7/15 rule on [-1, 1] (QUADPACK ``dqk15``): Kronrod nodes and weights, and the
# Gauss weights of the 7-point rule on the Kronrod nodes of odd index (zero elsewhere).
_XK_HALF = np.array(
    [
        0.991455371120812639206854697526329,
        0.949107912342758524526189684047851,
        0.864864423359769072789712788640926,
        0.741531185599394439863864773280788,
        0.586087235467691130294144845693013,
        0.405845151377397166906606412076961,
        0.207784955007898467600689403773245,
        0.0,
    ]
)
_WK_HALF = np.array(
    [
        0.022935322010529224963732008058970,
        0.063092092629978553290700663189204,
        0.104790010322250183839876322541518,
        0.140653259715525918745189590510238,
        0.169004726639267902826583426598550,
        0.190350578064785409913256402421014,
        0.204432940075298892414161999234649,
        0.209482141084727828012999174891714,
    ]
)
_WG_HALF = np.array(
    [
        0.0,
        0.129484966168869693270611432679082,
        0.0,
        0.279705391489276667901467771423780,
        0.0,
        0.381830050505118944950369775488975,
        0.0,
        0.417959183673469387755102040816327,
    ]
)
XK = np.concatenate([-_XK_HALF, _XK_HALF[-2::-1]])
WK = np.concatenate([_WK_HALF, _WK_HALF[-2::-1]])
WG = np.concatenate([_WG_HALF, _WG_HALF[-2::-1]])

_MAX_ROUNDS = 60
#: Points per vectorized pmf call.
_CHUNK = 128
#: Displacements (towards the centre of the domain) at which a failed pmf evaluation is retried.
_NUDGE = (1e-9, 1e-7, 1e-5)
#: Largest fraction of failed nodes in a cell for which the failures are retried.
_ISOLATED = 0.25
#: Evaluation points whose likelihood bound is below exp(-_SKIP) L_max are not evaluated.
_SKIP = 60.0
#: Leaves that hold a node where the family cannot be evaluated are not split below this area.
_FREEZE_AREA = 1e-6
#: Number of failed nodes beyond which no leaf holding a failed node is refined any more.
_MAX_FAILED = 1000


# --------------------------------------------------------------------------------------------
# Family pmf on (ψ, ρ)
# --------------------------------------------------------------------------------------------
def _v_min(psi: NDArray[np.float64]) -> NDArray[np.float64]:
    return (np.ceil(psi) - psi) * (psi - np.floor(psi))


def _v_max(psi: NDArray[np.float64], K: int) -> NDArray[np.float64]:
    return (psi - 1.0) * (K - psi)


def _gsd_split(psi: NDArray[np.float64], K: int) -> NDArray[np.float64]:
    """The GSD switch point ``C(ψ) = ((K − 2)/(K − 1)) v_max / (v_max − v_min)``, ψ ∈ (1, K).

    ``v_max − v_min = (ψ − 1)(K − 2)`` on ``[1, 2]`` and ``(K − ψ)(K − 2)`` on ``[K − 1, K]``;
    these closed forms are used there, so the value stays accurate next to ψ = 1 and ψ = K.
    """
    psi = np.asarray(psi, dtype=np.float64)
    vmax = _v_max(psi, K)
    diff = vmax - _v_min(psi)
    diff = np.where(psi <= 2.0, (psi - 1.0) * (K - 2.0), diff)
    diff = np.where(psi >= K - 1.0, (K - psi) * (K - 2.0), diff)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (K - 2.0) / (K - 1.0) * vmax / diff


def _raw_pmf(name: str, K: int) -> Callable[[NDArray, NDArray], NDArray]:
    fam = rd.family(name)
    if name in NATIVE_FAMILIES:

        def fun(psi: NDArray, rho: NDArray) -> NDArray:
            return np.atleast_2d(fam.pmf(np.column_stack([psi, rho]), K))

    else:

        def fun(psi: NDArray, rho: NDArray) -> NDArray:
            var = rho * _v_min(psi) + (1.0 - rho) * _v_max(psi, K)
            return np.atleast_2d(fam.pmf_from_moments(psi, var, K))

    return fun


def _guarded(fun: Callable, psi: NDArray, rho: NDArray, K: int) -> NDArray[np.float64]:
    """``fun`` on many points; a point whose evaluation raises gets a row of NaN.

    The points are evaluated in chunks of ``_CHUNK``; a chunk that raises is evaluated again
    point by point.
    """
    out = np.full((len(psi), K), np.nan)

    def attempt(a: int, b: int) -> bool:
        try:
            out[a:b] = np.asarray(fun(psi[a:b], rho[a:b]), dtype=np.float64).reshape(-1, K)
        except Exception:
            return False
        return True

    for start in range(0, len(psi), _CHUNK):
        stop = min(start + _CHUNK, len(psi))
        if not attempt(start, stop) and stop - start > 1:
            for i in range(start, stop):
                attempt(i, i + 1)
    return out


def family_pmf_psi_rho(
    name: str, psi: ArrayLike, rho: ArrayLike, K: int = 5
) -> NDArray[np.float64]:
    """pmf of family ``name`` at mean ``psi`` and shape ``rho``.

    Parameters
    ----------
    name : str
        One of :data:`FAMILIES`.
    psi, rho : array_like
        Broadcastable arrays of means in ``[1, K]`` and shapes in ``[0, 1]``.
    K : int, optional
        Number of categories.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, K)`` for ``n`` broadcast points. Rows of points at which the family raises an
        exception (or returns a non-finite value) are NaN.
    """
    if name not in FAMILIES:
        raise ValueError(f"unknown family {name!r}; expected one of {FAMILIES}")
    psi, rho = np.broadcast_arrays(
        np.asarray(psi, dtype=np.float64), np.asarray(rho, dtype=np.float64)
    )
    psi, rho = psi.ravel(), rho.ravel()
    out = _guarded(_raw_pmf(name, K), psi, rho, K)
    out[~np.all(np.isfinite(out), axis=1)] = np.nan
    return out


def log_likelihood(counts: NDArray[np.float64], probs: NDArray[np.float64]) -> NDArray[np.float64]:
    """``Σ_j c_j log p_j`` per row of ``probs`` (``0 log 0 = 0``; NaN rows give ``−inf``)."""
    used = counts > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = np.log(np.maximum(probs[:, used], 0.0)) @ counts[used]
    return np.where(np.isnan(ll), -np.inf, ll)


def log_likelihood_bound(
    counts: NDArray[np.float64], psi: NDArray[np.float64], rho: NDArray[np.float64], K: int
) -> NDArray[np.float64]:
    """Upper bound of ``log L`` valid for every pmf on ``1..K`` with mean ψ and variance v.

    Uses ``p_j ≤ (ψ − 1)/(j − 1)`` and ``p_j ≤ (K − ψ)/(K − j)`` (Markov) and
    ``p_j ≤ v / (v + (j − ψ)²)`` (Cantelli), with ``v = ρ v_min(ψ) + (1 − ρ) v_max(ψ)``.
    """
    psi = np.asarray(psi, dtype=np.float64)[:, None]
    rho = np.asarray(rho, dtype=np.float64)[:, None]
    j = np.arange(1, K + 1, dtype=np.float64)[None, :]
    v = rho * _v_min(psi) + (1.0 - rho) * _v_max(psi, K)
    d2 = (j - psi) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where(d2 > 0, v / (v + d2), 1.0)
        b = np.minimum(b, np.where(j > 1, (psi - 1.0) / np.maximum(j - 1.0, 1.0), 1.0))
        b = np.minimum(b, np.where(j < K, (K - psi) / np.maximum(K - j, 1.0), 1.0))
        b = np.clip(b, 0.0, 1.0)
    return log_likelihood(counts, b)


@contextlib.contextmanager
def _one_numba_thread() -> Iterator[None]:
    """Run the family kernels on one numba thread (restored afterwards).

    Every parallel kernel launch has a fixed cost that dominates the many small and medium
    batches evaluated here, most of all on a busy machine.
    """
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency of ratingdist
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _check_counts(counts: ArrayLike, K: int) -> NDArray[np.float64]:
    c = np.asarray(counts, dtype=np.float64)
    if c.shape != (K,):
        raise ValueError(f"counts must have shape ({K},), got {c.shape}")
    if not np.all(np.isfinite(c)) or np.any(c < 0) or np.any(c != np.round(c)):
        raise ValueError(f"counts must be non-negative integers, got {counts!r}")
    if c.sum() < 1:
        raise ValueError("counts must contain at least one rating (N >= 1)")
    return c


def max_likelihood_point(counts: ArrayLike, name: str, K: int = 5) -> tuple[float, float, float]:
    """Maximizer of ``log L`` over ``[1, K] × [0, 1]`` (grid search plus Nelder–Mead polish).

    Returns
    -------
    psi, rho, loglik : float
        The location of the best point found and its log-likelihood.
    """
    c = _check_counts(counts, K)
    with _one_numba_thread():
        return _max_likelihood_point(c, name, K)


def _max_likelihood_point(c: NDArray[np.float64], name: str, K: int) -> tuple[float, float, float]:
    n_psi, n_rho = 20 * (K - 1) + 1, 21
    g_psi = np.linspace(1.0, K, n_psi)[1:-1]
    g_rho = np.linspace(0.0, 1.0, n_rho)[1:-1]
    P, R = np.meshgrid(g_psi, g_rho, indexing="ij")
    ll = log_likelihood(c, family_pmf_psi_rho(name, P.ravel(), R.ravel(), K))
    i = int(np.argmax(ll))
    x0 = np.array([P.ravel()[i], R.ravel()[i]])
    best = (float(x0[0]), float(x0[1]), float(ll[i]))

    def neg(x: NDArray[np.float64]) -> float:
        val = log_likelihood(c, family_pmf_psi_rho(name, x[0], x[1], K))[0]
        return -val if np.isfinite(val) else 1e300

    eps = 1e-12
    res = optimize.minimize(
        neg,
        x0,
        method="Nelder-Mead",
        bounds=[(1.0 + eps, K - eps), (eps, 1.0 - eps)],
        options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 400},
    )
    if np.isfinite(res.fun) and -res.fun > best[2]:
        best = (float(res.x[0]), float(res.x[1]), float(-res.fun))
    return best


# --------------------------------------------------------------------------------------------
# Adaptive cubature
# --------------------------------------------------------------------------------------------
class _Cubature:
    """Leaves of the adaptive partition with their K15 integrals and error estimates."""

    def __init__(self, c: NDArray[np.float64], name: str, K: int, shift: float) -> None:
        self.c, self.name, self.K = c, name, K
        self.shift = shift
        self.fun = _raw_pmf(name, K)
        self.n_eval = 0
        self.n_skipped = 0
        self.n_failed = 0
        # rectangles: columns psi_lo, psi_hi, t_lo, t_hi, part (0: ρ = t or lower GSD part,
        # 1: upper GSD part)
        self.rect = np.empty((0, 5))
        self.val = np.empty((0, K + 1))
        self.err_psi = np.empty((0, K + 1))
        self.err_t = np.empty((0, K + 1))
        self.has_failed = np.empty(0, dtype=bool)

    def _pmf(self, psi: NDArray, rho: NDArray, cell: NDArray) -> NDArray[np.float64]:
        """Family pmf; isolated failures are retried at points moved inwards by ``_NUDGE``.

        A failure counts as isolated when at most ``_ISOLATED`` of the evaluated nodes of its
        cell failed; denser failures mark a region where the family cannot be evaluated.
        """
        out = _guarded(self.fun, psi, rho, self.K)
        s_psi = np.sign(0.5 * (1.0 + self.K) - psi)
        s_rho = np.sign(0.5 - rho)
        failed = ~np.all(np.isfinite(out), axis=1)
        n_cell = np.bincount(cell)
        frac = np.bincount(cell, weights=failed)[cell] / n_cell[cell]
        retry = frac <= _ISOLATED
        for step in _NUDGE:
            bad = ~np.all(np.isfinite(out), axis=1) & retry
            if not bad.any():
                break
            out[bad] = _guarded(
                self.fun, psi[bad] + step * s_psi[bad], rho[bad] + step * s_rho[bad], self.K
            )
        return out

    def _rho(self, psi: NDArray, t: NDArray, part: NDArray) -> tuple[NDArray, NDArray]:
        if self.name != "gsd":
            return t, np.ones_like(t)
        cc = _gsd_split(psi, self.K)
        lower = part == 0
        rho = np.where(lower, cc * t, cc + (1.0 - cc) * t)
        jac = np.where(lower, cc, 1.0 - cc)
        return rho, jac

    def add(self, rect: NDArray[np.float64]) -> None:
        """Evaluate the rule on the rectangles ``rect`` and append them as leaves."""
        n, K, m = len(rect), self.K, len(XK)
        a_p, b_p, a_t, b_t, part = rect.T
        hp, ht = 0.5 * (b_p - a_p), 0.5 * (b_t - a_t)
        psi = (0.5 * (a_p + b_p))[:, None, None] + hp[:, None, None] * XK[None, :, None]
        t = (0.5 * (a_t + b_t))[:, None, None] + ht[:, None, None] * XK[None, None, :]
        psi, t = np.broadcast_arrays(psi, t)
        prt = np.broadcast_to(part[:, None, None], psi.shape)
        psi = psi.ravel()
        rho, jac = self._rho(psi, t.ravel(), prt.ravel())
        probs = np.zeros((len(psi), K))
        ll = np.full(len(psi), -np.inf)
        # points whose likelihood is provably below exp(-_SKIP) times the best one seen so far
        # contribute nothing; all others are evaluated
        live = log_likelihood_bound(self.c, psi, rho, K) > self.shift - _SKIP
        cell = np.repeat(np.arange(n), m * m)
        p_live = self._pmf(psi[live], rho[live], cell[live])
        bad = ~np.all(np.isfinite(p_live), axis=1)
        p_live[bad] = 0.0
        probs[live] = p_live
        ll_live = log_likelihood(self.c, p_live)
        ll_live[bad] = -np.inf
        ll[live] = ll_live
        self.n_eval += int(live.sum())
        self.n_skipped += int((~live).sum())
        self.n_failed += int(bad.sum())
        top = float(np.max(ll))
        if np.isfinite(top) and top > self.shift:
            scale = np.exp(self.shift - top)
            self.val *= scale
            self.err_psi *= scale
            self.err_t *= scale
            self.shift = top
        w = np.exp(ll - self.shift) * jac
        f = np.concatenate([w[:, None], probs * w[:, None]], axis=1).reshape(n, m, m, K + 1)
        area = (hp * ht)[:, None]
        kk = np.einsum("i,j,rijk->rk", WK, WK, f) * area
        gk = np.einsum("i,j,rijk->rk", WG, WK, f) * area
        kg = np.einsum("i,j,rijk->rk", WK, WG, f) * area
        self.rect = np.concatenate([self.rect, rect])
        self.val = np.concatenate([self.val, kk])
        self.err_psi = np.concatenate([self.err_psi, np.abs(kk - gk)])
        self.err_t = np.concatenate([self.err_t, np.abs(kk - kg)])
        failed = np.zeros(len(psi), dtype=bool)
        failed[np.flatnonzero(live)[bad]] = True
        self.has_failed = np.concatenate([self.has_failed, failed.reshape(n, m * m).any(axis=1)])

    def frozen(self) -> NDArray[np.bool_]:
        """Leaves holding a failed node that are no longer refined.

        These are the leaves smaller than ``_FREEZE_AREA`` and, once more than ``_MAX_FAILED``
        nodes have failed in all, every leaf holding a failed node.
        """
        area = (self.rect[:, 1] - self.rect[:, 0]) * (self.rect[:, 3] - self.rect[:, 2])
        return self.has_failed & ((area < _FREEZE_AREA) | (self.n_failed > _MAX_FAILED))

    def refine(self, tol: float, floor: float, max_eval: int) -> bool:
        """Bisect the leaves with more than their share of the error; True when converged."""
        total = self.val.sum(axis=0)
        budget = tol * (np.abs(total) + floor * total[0])
        if not total[0] > 0:
            raise RuntimeError("the likelihood integral vanished: no usable evaluation point")
        active = ~self.frozen()
        e_psi = np.where(active, np.max(self.err_psi / budget, axis=1), 0.0)
        e_t = np.where(active, np.max(self.err_t / budget, axis=1), 0.0)
        if np.all(self.errors() <= budget) or not active.any():
            return True
        if self.n_eval >= max_eval:
            return False
        s = e_psi + e_t
        split = s > 0.5 / active.sum()
        split[np.argmax(s)] = True
        rect = self.rect[split]
        along_psi = (e_psi >= e_t)[split]
        keep = ~split
        self.rect, self.val = self.rect[keep], self.val[keep]
        self.err_psi, self.err_t = self.err_psi[keep], self.err_t[keep]
        self.has_failed = self.has_failed[keep]
        left, right = rect.copy(), rect.copy()
        mid_p = 0.5 * (rect[:, 0] + rect[:, 1])
        mid_t = 0.5 * (rect[:, 2] + rect[:, 3])
        left[:, 1] = np.where(along_psi, mid_p, rect[:, 1])
        right[:, 0] = np.where(along_psi, mid_p, rect[:, 0])
        left[:, 3] = np.where(along_psi, rect[:, 3], mid_t)
        right[:, 2] = np.where(along_psi, rect[:, 2], mid_t)
        self.add(np.concatenate([left, right]))
        return False

    def errors(self, frozen: bool = False) -> NDArray[np.float64]:
        """Summed error estimates of the active (or, with ``frozen``, the frozen) leaves."""
        sel = self.frozen() == frozen
        return (self.err_psi[sel] + self.err_t[sel]).sum(axis=0)


def _initial_rectangles(name: str, K: int, psi0: float, rho0: float) -> NDArray[np.float64]:
    """Pieces between the kinks, each halved in both directions, the mode's piece split there."""
    parts = (0, 1) if name == "gsd" else (0,)
    if name == "gsd":
        cc = float(_gsd_split(np.array(psi0), K))
        part0 = 0 if rho0 <= cc else 1
        t0 = rho0 / cc if part0 == 0 else (rho0 - cc) / (1.0 - cc)
    else:
        part0, t0 = 0, rho0
    out = []
    for j in range(1, K):
        for part in parts:
            p_cuts = [j, j + 0.5, j + 1.0]
            t_cuts = [0.0, 0.5, 1.0]
            if j <= psi0 <= j + 1 and part == part0:
                p_cuts = sorted({*p_cuts, psi0})
                t_cuts = sorted({*t_cuts, min(max(t0, 0.0), 1.0)})
            for pa, pb in itertools.pairwise(p_cuts):
                if pb - pa < 1e-9:
                    continue
                for ta, tb in itertools.pairwise(t_cuts):
                    if tb - ta < 1e-9:
                        continue
                    out.append((pa, pb, ta, tb, part))
    return np.array(out, dtype=np.float64)


def posterior_predictive_reference(
    counts: ArrayLike,
    name: str,
    K: int = 5,
    tol: float = 1e-7,
    *,
    floor: float = 1e-8,
    max_eval: int = 3_000_000,
    return_info: bool = False,
) -> NDArray[np.float64] | tuple[NDArray[np.float64], dict]:
    """Posterior predictive pmf of ``counts`` under the uniform prior on (ψ, ρ).

    Computes ``q̃_k = ∫∫ p_k L dψ dρ / ∫∫ L dψ dρ`` over ``[1, K] × [0, 1]``, with
    ``L = Π_j p_j^{c_j}`` and ``p = p(ψ, ρ)`` the family member with mean ``ψ`` and variance
    ``ρ v_min(ψ) + (1 − ρ) v_max(ψ)``, by adaptive tensor Gauss–Kronrod cubature (see the module
    docstring).

    Parameters
    ----------
    counts : array_like of int, shape (K,)
        Rating counts ``c_1..c_K``; non-negative integers with ``N = Σ c_k ≥ 1``.
    name : str
        Family: ``"maxent"`` or ``"gsd"`` (pmf from ``Family.pmf`` on ``(ψ, ρ)``) or one of
        ``"normal"``, ``"logistic"``, ``"beta"``, ``"kumaraswamy"``, ``"logit-logistic"`` (pmf
        from ``Family.pmf_from_moments``).
    K : int, optional
        Number of categories (default 5).
    tol : float, optional
        Requested relative accuracy of each ``∫ p_k L`` and of ``∫ L``; each ``q̃_k`` is then
        accurate to about ``2 tol (q̃_k + floor)`` by the (conservative) error estimate.
    floor : float, optional
        Absolute allowance, relative to ``∫ L``, so that categories with a predictive
        probability far below ``floor`` do not drive the refinement.
    max_eval : int, optional
        Budget of pmf evaluations; when it is exhausted before the error estimate meets ``tol``
        a ``RuntimeError`` is raised.
    return_info : bool, optional
        Also return a dict with ``error`` (estimated absolute error of each ``q̃_k``),
        ``error_unresolved`` (the part of the error estimate, not included in ``error``, from
        the cells next to nodes where the family cannot be evaluated, see Notes),
        ``n_eval`` (pmf evaluations), ``n_skipped`` (nodes left out by the likelihood bound),
        ``n_failed`` (nodes given zero weight, see Notes), ``n_rect`` (rectangles of the final
        partition), ``mode`` (ψ, ρ, log L of the likelihood maximum found) and
        ``log_evidence`` (``log ∫∫ L dψ dρ``).

    Returns
    -------
    numpy.ndarray, shape (K,)
        The posterior predictive pmf ``q̃`` (and the info dict if ``return_info``).

    Raises
    ------
    ValueError
        For an unknown family or counts that are not ``K`` non-negative integers with ``N ≥ 1``.
    RuntimeError
        If the error estimate does not reach ``tol`` within ``max_eval`` evaluations.

    Notes
    -----
    Where the family pmf raises an exception or returns non-finite values at isolated nodes (at
    most a quarter of the nodes of a cell), the evaluation is retried at the point moved towards
    the centre of the domain by 1e-9, 1e-7 and 1e-5 in both ψ and ρ (the pmf is continuous, so
    this changes the integrand by a negligible amount; it bridges the sporadic solver failures
    of the maxent family next to ψ = 1). Points at which all retries fail, and points in
    regions of dense failures, are given zero prior weight, i.e. the integrand is taken as zero
    there. This happens in thin border strips, e.g. for the Kumaraswamy family (K = 5) at every
    ρ below about 1e-3, rising to about 1e-2 next to ψ = 1; the result is then the posterior
    predictive under the uniform prior restricted to the points where the family can be
    evaluated. The effect is negligible unless the likelihood is large in such a strip (counts
    piled at both ends of the scale, where ρ → 0 is favoured); ``n_failed`` in the info dict
    tells whether any node was affected. Cells holding such a node are not split below an area
    of 1e-6, nor at all once more than 1000 nodes have failed (the jump of the integrand at the
    edge of the strip would otherwise be chased without end, and failed evaluations are slow);
    their error estimate is reported as ``error_unresolved`` and a ``RuntimeWarning`` is issued
    when it exceeds ``tol``.

    During the call the family kernels run on one numba thread (the previous setting is
    restored afterwards): a parallel kernel launch costs more than the small batches evaluated
    here.

    Examples
    --------
    >>> q = posterior_predictive_reference([0, 2, 5, 2, 1], "gsd")
    >>> bool(abs(q.sum() - 1) < 1e-12)
    True
    """
    if name not in FAMILIES:
        raise ValueError(f"unknown family {name!r}; expected one of {FAMILIES}")
    c = _check_counts(counts, K)
    with _one_numba_thread():
        psi0, rho0, ll0 = _max_likelihood_point(c, name, K)
        cub = _Cubature(c, name, K, shift=ll0)
        cub.add(_initial_rectangles(name, K, psi0, rho0))
        for _ in range(_MAX_ROUNDS):
            if cub.refine(tol, floor, max_eval):
                break
        else:
            raise RuntimeError(f"no convergence in {_MAX_ROUNDS} rounds ({cub.n_eval} evaluations)")
    total = cub.val.sum(axis=0)
    err = cub.errors()
    if not np.all(err <= tol * (np.abs(total) + floor * total[0])):
        raise RuntimeError(
            f"error estimate above tol after {cub.n_eval} evaluations (max_eval={max_eval})"
        )
    q = total[1:] / total[0]
    err_frozen = cub.errors(frozen=True)
    q_err_frozen = err_frozen[1:] / total[0] + q * err_frozen[0] / total[0]
    if np.any(err_frozen > tol * (np.abs(total) + floor * total[0])):
        warnings.warn(
            f"{name}: the family could not be evaluated at {cub.n_failed} nodes where the "
            f"likelihood matters; the result is accurate only to about "
            f"{float(np.max(q_err_frozen / (q + floor))):.1e} relative there",
            RuntimeWarning,
            stacklevel=2,
        )
    if not return_info:
        return q
    q_err = err[1:] / total[0] + q * err[0] / total[0]
    info = {
        "error": q_err,
        "error_unresolved": q_err_frozen,
        "n_eval": cub.n_eval,
        "n_skipped": cub.n_skipped,
        "n_failed": cub.n_failed,
        "n_rect": len(cub.rect),
        "mode": (psi0, rho0, ll0),
        "log_evidence": float(np.log(total[0]) + cub.shift),
    }
    return q, info
