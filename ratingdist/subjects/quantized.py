"""The quantized subject model: subject bias, subject inconsistency and stimulus ambiguity on
the latent of a quantized metric model, fitted to the individual ratings.

    P(r_ij = k) = (1 − λ)·[F((t_k − ψ_j − Δ_i)/s_ij) − F((t_{k−1} − ψ_j − Δ_i)/s_ij)] + λ/K,
    s_ij² = σ_j² + υ_i²,   t_k = k + ½ (t_0 = −∞, t_K = +∞),

with F the standard normal or logistic cdf, ψ_j the quality and σ_j the ambiguity of stimulus
j, Δ_i the bias and υ_i the inconsistency of subject i (or one υ for all), λ an optional lapse
rate shared by all ratings. The fixed thresholds fix the scale; the location is identified by
mean_i Δ_i = 0.

A free σ_j per stimulus overfits (σ_j → 0 on a stimulus rated in one category), and
σ_j² + c, υ_i² − c leave every s_ij unchanged; both are resolved by log-normal (hierarchical)
priors on σ_j and υ_i: the objective is
NLL + κ/2 · Σ_j (log σ_j − mean_j log σ_j)² + κ/2 · Σ_i (log υ_i − mean_i log υ_i)²
(the second term with per-subject υ only), with the strength κ = ``shrinkage`` (κ = 0: the
plain MLE; scales then stop at their floor ``scale_floor``). Cross-validation
(:func:`~ratingdist.subjects.crossvalidate`) chooses κ and the floor.
Locations are boxed (ψ_j ∈ [1 − 4K, 4K], Δ_i ∈ [−4K, 4K], before the centring) and log
scales kept in [log scale_floor, log(10K)], so that a stimulus or subject with all ratings in
one category has a defined estimate rather than a divergent one: all in the lowest (highest)
category puts the location on the box, where those ratings have probability 1 to machine
precision (the limit), and one inner category puts the scale on the floor.

References
----------
Janowski & Pinson, "The accuracy of subjects in a quality experiment: a theoretical subject
model", IEEE TMM 17 (2015) 2210–2224; Li & Bampis, "Recover subjective quality scores from
noisy measurements", DCC 2017; McCullagh, JRSS B 42 (1980) 109–142 (cumulative link models);
Saupe et al., IEEE SPL 31 (2024) (quantized metric models).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from ratingdist._kernels import subjects as kern
from ratingdist._kernels.codes import LOGISTIC, NORMAL
from ratingdist.ratings import Ratings
from ratingdist.subjects._anderson import Anderson

#: Default smallest scale σ_j, υ_i (category widths).
SCALE_FLOOR = 0.05
#: Locations are boxed in ψ_j ∈ [1 − LOC_BOX·K, LOC_BOX·K], Δ_i ∈ [−LOC_BOX·K, LOC_BOX·K].
LOC_BOX = 4
#: Largest allowed ``scale_floor``.
K_MAX_FLOOR = 1.0
#: Largest lapse rate.
LAPSE_MAX = 0.5
#: Projected-gradient tolerance at which each start is compared with the others.
SCREEN_TOL = 1e-1
#: Studies with more ratings screen the starts on a subsample of about this many (every
#: ⌈N/SCREEN_RATINGS⌉-th stimulus, all subjects).
SCREEN_RATINGS = 200_000
#: Newton steps on the stimuli left out of the screening before the polish.
PREFIT_STEPS = 5
#: Above this many parameters the standard errors come from the 2×2 blocks alone.
DENSE_MAX = 3000
_FAMILIES = {"normal": NORMAL, "logistic": LOGISTIC}


class QuantizedSubjectModel:
    """A fitted quantized subject model (:func:`fit`).

    Attributes
    ----------
    stimuli : DataFrame
        ``id``, ``n``, ``psi`` (quality on the 1..K latent), ``psi_se``, ``psi_ci_low``,
        ``psi_ci_high``, ``sigma`` (ambiguity; 0 without it), ``sigma_se``.
    subjects : DataFrame
        ``id``, ``n``, ``bias`` (Δ_i), ``bias_se``, ``bias_ci_low``, ``bias_ci_high``,
        ``inconsistency`` (υ_i), ``inconsistency_se``, ``inconsistency_ci_low``,
        ``inconsistency_ci_high`` (Wald on log υ).
    nll : float
        −log-likelihood of the ratings (the prior term excluded); ``objective`` includes it.
    n_params, aic, bic : free parameters (ψ, σ, Δ less one for mean Δ = 0, υ, λ) and
        2·n_params + 2·nll, ln(N)·n_params + 2·nll.
    converged, max_grad, n_sweeps : the stopping rule: max |∂objective/∂θ| over all free
        parameters (those on a bound excluded when the gradient points outwards); the sweeps
        of all starts (those screened on a subsample of the stimuli included).
    lapse : float  (0 without a lapse)
    standard_errors : ``"observed information"`` (the inverse of the full observed Hessian of
        the objective, constrained to mean Δ = 0, times N/(N − n_params), the degrees-of-freedom
        correction of least squares; parameters on a bound get an infinite SE) or ``"block"``
        (inverse of each 2×2 block, other parameters held fixed, with the same correction;
        studies with more than DENSE_MAX parameters).
    identification : str
    """

    def __init__(self, **fields: Any) -> None:
        self._f = fields
        for key in ("family", "ambiguity", "inconsistency_model", "shrinkage", "nll",
                    "objective", "n_params", "converged", "max_grad", "n_sweeps", "lapse",
                    "standard_errors", "n_ratings", "K"):
            setattr(self, key, fields[key])
        self.aic = 2.0 * self.n_params + 2.0 * self.nll
        self.bic = math.log(self.n_ratings) * self.n_params + 2.0 * self.nll
        self.identification = ("thresholds fixed at t_k = k + 1/2; location by mean subject "
                               "bias = 0")

    @functools.cached_property
    def stimuli(self) -> pd.DataFrame:
        return pd.DataFrame(self._f["stimuli"])

    @functools.cached_property
    def subjects(self) -> pd.DataFrame:
        return pd.DataFrame(self._f["subjects"])

    def _index(self, labels: ArrayLike, known: NDArray[Any], what: str) -> NDArray[np.int64]:
        pos = pd.Index(known).get_indexer(pd.Index(np.asarray(labels, dtype=object)))
        if np.any(pos < 0):
            bad = np.asarray(labels, dtype=object)[pos < 0][0]
            raise ValueError(f"{what} {bad!r} is not in the fitted study")
        return pos.astype(np.int64)

    def _cell_params(
        self, stimulus: ArrayLike, subject: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        j = self._index(stimulus, self._f["stimuli"]["id"], "stimulus")
        i = self._index(subject, self._f["subjects"]["id"], "subject")
        m = self._f["stimuli"]["psi"][j] + self._f["subjects"]["bias"][i]
        s = np.hypot(self._f["stimuli"]["sigma"][j], self._f["subjects"]["inconsistency"][i])
        return m, s

    def log_prob(self, stimulus: ArrayLike, subject: ArrayLike, rating: ArrayLike
                 ) -> NDArray[np.float64]:
        """log P(r = rating) of the cells (stimulus id, subject id, rating 1..K)."""
        m, s = self._cell_params(stimulus, subject)
        k = np.asarray(rating, dtype=np.int64).ravel()
        if k.size != m.size or np.any((k < 1) | (k > self.K)):
            raise ValueError(f"rating must be {m.size} whole numbers in 1..{self.K}")
        return kern.log_prob(_FAMILIES[self.family], m, s, k, _tau(self.K), self.lapse, self.K)

    def pmf(self, stimulus: ArrayLike, subject: ArrayLike) -> NDArray[np.float64]:
        """P(r = 1..K) of each (stimulus id, subject id) cell, shape (n, K)."""
        m, s = self._cell_params(stimulus, subject)
        n, K = m.size, self.K
        out = np.empty((n, K))
        for k in range(1, K + 1):
            out[:, k - 1] = np.exp(kern.log_prob(_FAMILIES[self.family], m, s,
                                                 np.full(n, k, dtype=np.int64), _tau(K),
                                                 self.lapse, K))
        return out

    def __repr__(self) -> str:
        return (f"QuantizedSubjectModel(family={self.family!r}, ambiguity={self.ambiguity}, "
                f"inconsistency={self.inconsistency_model!r}, lapse={self.lapse:.4g}, "
                f"nll={self.nll:.6g}, converged={self.converged})")


def _tau(K: int) -> NDArray[np.float64]:
    return np.arange(1, K, dtype=np.float64) + 0.5


def fit(
    ratings: Ratings,
    family: Literal["normal", "logistic"] = "normal",
    ambiguity: bool = True,
    inconsistency: Literal["per-subject", "common"] = "per-subject",
    lapse: Literal["shared"] | None = "shared",
    shrinkage: float = 5.0,
    scale_floor: float = SCALE_FLOOR,
    level: float = 0.95,
    tol: float = 1e-7,
    max_sweeps: int = 2000,
) -> QuantizedSubjectModel:
    """Fit the quantized subject model (see the module) by maximum (penalized) likelihood.

    Block-coordinate Newton: a damped Newton step on every stimulus block (ψ_j, log σ_j) in
    parallel at the subjects fixed, then on every subject block (Δ_i, log υ_i), then on the
    shared parameters (λ: a projected Newton step, damped where it would raise the NLL, see
    :func:`_lapse_step`; a common log υ: Newton with backtracking); these sweeps are a
    fixed-point iteration, sped up by safeguarded Anderson acceleration
    (:mod:`ratingdist.subjects._anderson`; the accelerated point is kept where its objective is
    below that after the block steps), until the full gradient of the objective is below
    ``tol`` in every free coordinate; then Δ is re-centred to mean 0 (ψ shifted by the same
    amount). Each block reads its own ratings only (CSR index by stimulus and by subject) and
    sums in a fixed order, so results do not depend on the number of threads. A sweep passes
    over the ratings about four times (:func:`~ratingdist._kernels.subjects.block_step` on
    both sides with the subjects' sums, then one pass by stimulus for the objective and the
    full gradient, whose stimulus sums start the next sweep) and allocates nothing per rating
    beyond two float arrays. Six starts (three splits of the scale, two lapse rates) are
    screened to SCREEN_TOL, on every ⌈N/SCREEN_RATINGS⌉-th stimulus with all subjects where
    N > SCREEN_RATINGS, and the best is polished on all ratings.

    Parameters
    ----------
    ratings : Ratings
    family : latent distribution F, ``"normal"`` or ``"logistic"``.
    ambiguity : estimate σ_j per stimulus (True) or set σ_j = 0.
    inconsistency : ``"per-subject"`` υ_i or one ``"common"`` υ.
    lapse : ``"shared"`` (default): one lapse rate λ ∈ [0, LAPSE_MAX] for all ratings; or None.
    shrinkage : κ ≥ 0, the precision of the log-normal priors on σ_j, υ_i (see the module).
        The defaults (a shared lapse, κ = 5) predict hidden ratings best in 10-fold
        cross-validation on NFLX public and VQEG-HD3 (see the README); without a lapse a
        hidden rating one category away from a concentrated stimulus costs tens of nats.
    scale_floor : smallest σ_j and υ_i (> 0).
    level : confidence level of the intervals.
    tol, max_sweeps : stopping rule on the full gradient, most sweeps.

    Returns
    -------
    QuantizedSubjectModel

    Raises
    ------
    ValueError
        On an unknown family / inconsistency / lapse, κ < 0, ``ambiguity=True`` with a common
        inconsistency and κ = 0 (σ_j² and υ² are then not separately identified), or a level
        outside (0, 1).
    """
    if not isinstance(ratings, Ratings):
        raise TypeError(f"ratings must be ratingdist.Ratings, got {type(ratings).__name__}")
    if family not in _FAMILIES:
        raise ValueError(f"family must be 'normal' or 'logistic', got {family!r}")
    if inconsistency not in ("per-subject", "common"):
        raise ValueError(f"inconsistency must be 'per-subject' or 'common', got {inconsistency!r}")
    if lapse not in (None, "shared"):
        raise ValueError(f"lapse must be None or 'shared', got {lapse!r}")
    if not (float(shrinkage) >= 0 and math.isfinite(shrinkage)):
        raise ValueError(f"shrinkage must be a finite number >= 0, got {shrinkage!r}")
    if not 0 < scale_floor < K_MAX_FLOOR:
        raise ValueError(f"scale_floor must be in (0, {K_MAX_FLOOR}), got {scale_floor!r}")
    if ambiguity and inconsistency == "common" and shrinkage == 0:
        raise ValueError("ambiguity=True with a common inconsistency needs shrinkage > 0")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    fam = _FAMILIES[family]
    K, J, I = ratings.K, ratings.n_stimuli, ratings.n_subjects
    j = np.ascontiguousarray(ratings.stimulus_index, dtype=np.int64)
    i = np.ascontiguousarray(ratings.subject_index, dtype=np.int64)
    r = np.ascontiguousarray(ratings.values, dtype=np.int64)
    N = r.size
    tau = _tau(K)
    kappa = float(shrinkage) if ambiguity else 0.0
    kappa_s = 0.0 if inconsistency == "common" else float(shrinkage)
    use_lapse = lapse == "shared"
    common = inconsistency == "common"
    n_j = np.bincount(j, minlength=J).astype(np.float64)
    n_i = np.bincount(i, minlength=I).astype(np.float64)
    mean_j = np.bincount(j, weights=r, minlength=J) / n_j
    var_j = np.bincount(j, weights=(r - mean_j[j]) ** 2, minlength=J) / n_j
    s0 = math.sqrt(max(float(np.mean(var_j)), 0.25))
    setup = dict(fam=fam, K=K, I=I, ambiguity=ambiguity, common=common, use_lapse=use_lapse,
                 kappa=kappa, kappa_s=kappa_s, scale_floor=scale_floor)
    prob = _Problem(j=j, i=i, r=r, J=J, **setup)

    # The objective has several local minima: the total scale s_ij² = σ_j² + υ_i² can sit
    # mostly on the stimuli or mostly on the subjects (the priors fix only the spread of the
    # log scales, not their level), and a lapse can take the stray ratings or leave them to
    # wide scales. Every start is screened with a loose tolerance, on every ⌈N/SCREEN_RATINGS⌉-th
    # stimulus (all subjects) where the study has more than SCREEN_RATINGS ratings; the best
    # is polished on all ratings (after PREFIT_STEPS Newton steps on the stimuli left out).
    splits = ((0.5, 0.5), (0.95, 0.3), (0.3, 0.95)) if ambiguity else ((0.0, 1.0),)
    starts = []
    for share_j, share_i in splits:
        for lam0 in ((0.01, 0.1) if use_lapse else (0.0,)):
            rho0 = math.log(max(s0 * share_j, scale_floor)) if ambiguity else -np.inf
            starts.append((rho0, math.log(max(s0 * share_i, scale_floor)), lam0))

    def put(pr: _Problem, start: tuple[float, float, float], mean: NDArray[np.float64]) -> None:
        pr.psi[:] = np.clip(mean, 1.0, K)
        pr.rho[:] = start[0]
        pr.dlt[:] = 0.0
        pr.nu[:] = start[1]
        pr.lam = start[2]

    sweeps = 0
    put(prob, starts[0], mean_j)
    if len(starts) > 1:
        stride = max(1, -(-N // SCREEN_RATINGS))
        keep = j % stride == 0
        screen = prob if stride == 1 else _Problem(j=j[keep] // stride, i=i[keep], r=r[keep],
                                                   J=-(-J // stride), **setup)
        mean_screen = mean_j[::stride]
        best: tuple[Any, ...] = ()
        best_obj = np.inf
        for start in starts:
            put(screen, start, mean_screen)
            _, used, _, state = screen.descend(SCREEN_TOL, max_sweeps)
            sweeps += used
            if state[1] < best_obj:
                best_obj = state[1]
                best = (start, screen.psi.copy(), screen.rho.copy(), screen.dlt.copy(),
                        screen.nu.copy(), screen.lam)
        del screen
        put(prob, best[0], mean_j)
        prob.psi[::stride], prob.rho[::stride] = best[1], best[2]
        prob.dlt[:], prob.nu[:], prob.lam = best[3], best[4], best[5]
        if stride > 1:
            prob.prefit_stimuli(PREFIT_STEPS)
    converged, used, max_grad, (nll, obj) = prob.descend(tol, max_sweeps)
    sweeps += used
    psi, rho, dlt, nu, lam = prob.psi, prob.rho, prob.dlt, prob.nu, prob.lam
    ls_lo, ls_hi = prob.ls_lo, prob.ls_hi
    psi_box, dlt_box = prob.psi_box, prob.dlt_box

    # the bounds break the invariance (ψ + c, Δ − c) only for stimuli or subjects on them, so
    # the centring is done once, after the fit (the box applies before it)
    shift = float(np.mean(dlt))
    dlt -= shift
    psi += shift
    psi_box = (psi_box[0] + [shift, 0.0], psi_box[1] + [shift, 0.0])
    dlt_box = (dlt_box[0] - [shift, 0.0], dlt_box[1] - [shift, 0.0])
    z = float(stats.norm.ppf(0.5 + level / 2))
    n_params = J + (J if ambiguity else 0) + (I - 1) + (1 if common else I) + int(use_lapse)
    if _se_kind(J, I, ambiguity, common, use_lapse) == "block":
        se = _block_errors(*prob.block_hessians(), J, I, ambiguity, common)
    else:
        d = kern.rating_derivatives(fam, psi, rho, dlt, nu, prob.j_s, prob.i_s, prob.r_s, tau,
                                    lam, use_lapse, K)
        se = _standard_errors(d, prob.j_s, prob.i_s, J, I, kappa, kappa_s, ambiguity, common,
                              use_lapse, psi, rho, dlt, nu, lam, psi_box, dlt_box,
                              (ls_lo, ls_hi))
    # degrees-of-freedom correction of least squares: the per-stimulus locations use up data
    dof = math.sqrt(N / (N - n_params)) if N > n_params else 1.0
    se = {key: (val * dof if key != "kind" else val) for key, val in se.items()}
    sigma = np.exp(rho)
    ups = np.exp(nu)
    with np.errstate(over="ignore"):
        ups_high = ups * np.exp(z * se["nu"])
    stim = {"id": ratings.ids, "n": n_j.astype(np.int64), "psi": psi.copy(),
            "psi_se": se["psi"], "psi_ci_low": psi - z * se["psi"],
            "psi_ci_high": psi + z * se["psi"], "sigma": sigma, "sigma_se": sigma * se["rho"]}
    subj = {"id": ratings.subjects, "n": n_i.astype(np.int64), "bias": dlt.copy(),
            "bias_se": se["dlt"], "bias_ci_low": dlt - z * se["dlt"],
            "bias_ci_high": dlt + z * se["dlt"], "inconsistency": ups,
            "inconsistency_se": ups * se["nu"],
            "inconsistency_ci_low": ups * np.exp(-z * se["nu"]),
            "inconsistency_ci_high": ups_high}
    return QuantizedSubjectModel(
        family=family, ambiguity=bool(ambiguity), inconsistency_model=inconsistency,
        shrinkage=float(shrinkage), nll=nll, objective=obj, n_params=n_params, converged=converged,
        max_grad=max_grad, n_sweeps=sweeps, lapse=float(lam), standard_errors=se["kind"],
        n_ratings=N, K=K, stimuli=stim, subjects=subj,
    )


class _Problem:
    """The ratings of a fit (in stimulus order, with a CSR index by subject), its parameters
    (ψ, ρ = log σ, Δ, ν = log υ, λ, updated in place) and the block-coordinate sweeps of
    :func:`fit`."""

    def __init__(self, fam: int, K: int, j: NDArray[np.int64], i: NDArray[np.int64],
                 r: NDArray[np.int64], J: int, I: int, ambiguity: bool, common: bool,
                 use_lapse: bool, kappa: float, kappa_s: float, scale_floor: float) -> None:
        self.fam, self.K, self.J, self.I, self.N = fam, K, J, I, r.size
        self.ambiguity, self.common, self.use_lapse = ambiguity, common, use_lapse
        self.kappa, self.kappa_s = kappa, kappa_s
        self.tau = _tau(K)
        by_j = np.argsort(j, kind="stable")
        self.i_s = i[by_j].astype(np.int32)
        self.j_s = j[by_j].astype(np.int32)
        self.r_s = r[by_j].astype(np.int32)
        del by_j
        self.idx_j = np.arange(self.N, dtype=np.int32)
        self.order_i = np.argsort(self.i_s, kind="stable").astype(np.int32)
        # the subject blocks' passes read the ratings in subject order, sequentially
        self.j_i = self.j_s[self.order_i]
        self.r_i = self.r_s[self.order_i]
        self.ptr_j = np.concatenate([[0], np.cumsum(np.bincount(j, minlength=J))]).astype(np.int64)
        self.ptr_i = np.concatenate([[0], np.cumsum(np.bincount(i, minlength=I))]).astype(np.int64)
        self.ls_lo, self.ls_hi = math.log(scale_floor), math.log(10.0 * K)
        self.psi_box = np.array([1.0 - LOC_BOX * K, self.ls_lo]), np.array([LOC_BOX * K,
                                                                             self.ls_hi])
        self.dlt_box = np.array([-LOC_BOX * K, self.ls_lo]), np.array([LOC_BOX * K, self.ls_hi])
        self.psi = np.zeros(J)
        self.rho = np.full(J, 0.0 if ambiguity else -np.inf)
        self.dlt = np.zeros(I)
        self.nu = np.zeros(I)
        self.lam = 0.0
        # per-block sums (kern.block_sums) and per-rating derivatives for the subjects' gradient
        self.stats_j = np.zeros((J, 8))
        self.stats_i = np.zeros((I, 8))
        self.gm = np.empty(self.N)
        self.gl = np.empty(self.N)
        self.sums_i = np.zeros((I, 2))
        self.empty = np.zeros(0)
        self.n_rho = J if ambiguity else 0
        self.n_nu = 1 if common else I
        lo_l, hi_l = [0.0] if use_lapse else [], [LAPSE_MAX] if use_lapse else []
        self.lo_x = np.concatenate([np.full(J, self.psi_box[0][0]),
                                    np.full(self.n_rho, self.ls_lo),
                                    np.full(I, self.dlt_box[0][0]),
                                    np.full(self.n_nu, self.ls_lo), lo_l])
        self.hi_x = np.concatenate([np.full(J, self.psi_box[1][0]),
                                    np.full(self.n_rho, self.ls_hi),
                                    np.full(I, self.dlt_box[1][0]),
                                    np.full(self.n_nu, self.ls_hi), hi_l])

    def center(self) -> float:
        return float(np.mean(self.rho)) if self.kappa > 0 else 0.0

    def center_s(self) -> float:
        return float(np.mean(self.nu)) if self.kappa_s > 0 else 0.0

    def prior(self) -> float:
        pen = (0.5 * self.kappa * float(np.sum((self.rho - self.center()) ** 2))
               if self.kappa > 0 else 0.0)
        return pen + 0.5 * self.kappa_s * float(np.sum((self.nu - self.center_s()) ** 2))

    def pack(self) -> NDArray[np.float64]:
        return np.concatenate([self.psi, self.rho[:self.n_rho], self.dlt, self.nu[:self.n_nu],
                               [self.lam] if self.use_lapse else []])

    def unpack(self, x: NDArray[np.float64]) -> None:
        J, I = self.J, self.I
        self.psi[:] = x[:J]
        at = J
        self.rho[:self.n_rho] = x[at:at + self.n_rho]
        at += self.n_rho
        self.dlt[:] = x[at:at + I]
        at += I
        self.nu[:] = x[at:at + self.n_nu]
        if self.use_lapse:
            self.lam = float(x[-1])

    def evaluate(self) -> tuple[float, float, dict[str, NDArray[np.float64]]]:
        """NLL, objective and gradient at the current point, in one pass over the ratings by
        stimulus (which leaves the stimulus blocks' sums in ``stats_j`` for the next sweep)
        and a sum of the per-rating derivatives by subject."""
        st = self.stats_j
        kern.block_sums(self.fam, self.psi, self.rho, self.dlt, np.exp(2.0 * self.nu),
                        self.ptr_j, self.idx_j, self.i_s, self.r_s, self.tau, self.lam,
                        self.use_lapse, self.K, self.ambiguity, st, self.gm, self.gl)
        kern.gather_sums(self.ptr_i, self.order_i, self.gm, self.gl, self.sums_i)
        nll = float(np.sum(st[:, 0]))
        g = {"psi": st[:, 1].copy(), "dlt": self.sums_i[:, 0].copy()}
        if self.ambiguity:
            g["rho"] = st[:, 2] + self.kappa * (self.rho - self.center())
        if self.common:
            g["nu_c"] = np.array([np.sum(self.sums_i[:, 1])])
        else:
            g["nu"] = self.sums_i[:, 1] + self.kappa_s * (self.nu - self.center_s())
        if self.use_lapse:
            g["lam"] = np.array([np.sum(st[:, 6])])
        return nll, nll + self.prior(), g

    def projected_max(self, g: dict[str, NDArray[np.float64]]) -> float:
        """max |g| over the free coordinates (those on a bound with g pointing out excluded)."""
        parts = [_free(g["psi"], self.psi, self.psi_box[0][0], self.psi_box[1][0]),
                 _free(g["dlt"], self.dlt, self.dlt_box[0][0], self.dlt_box[1][0])]
        if self.ambiguity:
            parts.append(_free(g["rho"], self.rho, self.ls_lo, self.ls_hi))
        if self.common:
            parts.append(_free(g["nu_c"], self.nu[:1], self.ls_lo, self.ls_hi))
        else:
            parts.append(_free(g["nu"], self.nu, self.ls_lo, self.ls_hi))
        if self.use_lapse:
            parts.append(_free(g["lam"], np.array([self.lam]), 0.0, LAPSE_MAX))
        return float(max(np.max(np.abs(p)) for p in parts))

    def block_hessians(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The stimulus and subject blocks' sums (kern.block_sums) at the current point."""
        self.evaluate()
        kern.block_sums(self.fam, self.dlt, self.nu, self.psi, np.exp(2.0 * self.rho),
                        self.ptr_i, self.idx_j, self.j_i, self.r_i, self.tau, self.lam,
                        self.use_lapse, self.K, not self.common, self.stats_i, self.empty,
                        self.empty)
        return self.stats_j, self.stats_i

    def prefit_stimuli(self, steps: int) -> None:
        """``steps`` Newton steps on every stimulus block at the subjects and λ fixed (each
        step starts from the sums at the previous one's accepted point)."""
        self.evaluate()
        for _ in range(steps):
            kern.block_step(self.fam, self.psi, self.rho, self.dlt, np.exp(2.0 * self.nu),
                            self.ptr_j, self.idx_j, self.i_s, self.r_s, self.tau, self.lam,
                            self.use_lapse, self.K, self.ambiguity, self.kappa, self.center(),
                            *self.psi_box, self.stats_j)

    def sweep(self) -> tuple[float, float]:
        """Newton steps on all stimulus blocks (from ``stats_j`` at the current point), then on
        all subject blocks, then on the shared parameters; returns the objective after the block
        steps (an upper bound on that after the shared step) and the damped λ (see
        :func:`_lapse_step`; the λ set is the full Newton step)."""
        fam, K, tau, lapse = self.fam, self.K, self.tau, self.use_lapse
        kern.block_step(fam, self.psi, self.rho, self.dlt, np.exp(2.0 * self.nu), self.ptr_j,
                        self.idx_j, self.i_s, self.r_s, tau, self.lam, lapse, K,
                        self.ambiguity, self.kappa, self.center(), *self.psi_box, self.stats_j)
        var_j = np.exp(2.0 * self.rho)
        kern.block_sums(fam, self.dlt, self.nu, self.psi, var_j, self.ptr_i, self.idx_j,
                        self.j_i, self.r_i, tau, self.lam, lapse, K, not self.common,
                        self.stats_i, self.empty, self.empty)
        kern.block_step(fam, self.dlt, self.nu, self.psi, var_j, self.ptr_i, self.idx_j,
                        self.j_i, self.r_i, tau, self.lam, lapse, K, not self.common,
                        self.kappa_s, self.center_s(), *self.dlt_box, self.stats_i)
        if self.common:
            self.lam, d = _shared_step(fam, self.psi, self.rho, self.dlt, self.nu, self.j_s,
                                       self.i_s, self.r_s, tau, self.lam, lapse, K, True,
                                       (self.ls_lo, self.ls_hi))
            return float(np.sum(d[:, 0])) + self.prior(), self.lam
        f_pre = float(np.sum(self.stats_i[:, 0])) + self.prior()
        if not lapse:
            return f_pre, self.lam
        self.lam, lam_safe = _lapse_step(self.lam, float(np.sum(self.stats_i[:, 6])),
                                         float(np.sum(self.stats_i[:, 7])))
        return f_pre, lam_safe

    def descend(self, tol: float, budget: int) -> tuple[bool, int, float, tuple[float, float]]:
        """Sweeps from the current point until the projected gradient is below ``tol``, sped up
        by a safeguarded Anderson step; returns (converged, sweeps, max |g|, (NLL, objective))."""
        converged, sweeps = False, 0
        nll, obj, g = self.evaluate()
        max_grad = self.projected_max(g)
        if max_grad < tol:
            return True, 0, max_grad, (nll, obj)
        stall, best = 0, max_grad
        accel = Anderson(memory=10)
        while sweeps < budget:
            sweeps += 1
            x = self.pack()
            f_pre, lam_safe = self.sweep()
            previous, grad_x = obj, max_grad
            # a safeguarded Anderson step: kept only where it lowers the objective below that
            # after the block steps
            gx = self.pack()
            xa = accel.step(x, gx)
            trial = None
            if xa is not None:
                self.unpack(np.clip(xa, self.lo_x, self.hi_x))
                trial = self.evaluate()
                # where the objective no longer resolves the step, the gradient decides
                flat = abs(trial[1] - f_pre) <= 1e-14 * (1.0 + abs(f_pre))
                if not (trial[1] < f_pre or (flat and self.projected_max(trial[2]) < grad_x)):
                    self.unpack(gx)
                    accel.reset()
                    trial = None
            if trial is None:
                nll, obj, g = self.evaluate()
                if obj > f_pre and self.lam != lam_safe:
                    self.lam = lam_safe  # the Newton step on λ overshot: the damped one
                    nll, obj, g = self.evaluate()
            else:
                nll, obj, g = trial
            max_grad = self.projected_max(g)
            if max_grad < tol:
                converged = True
                break
            stuck = previous - obj <= 1e-15 * (1 + abs(obj)) and max_grad >= 0.999 * best
            best = min(best, max_grad)
            stall = stall + 1 if stuck else 0
            if stall >= 50:
                break
        return converged, sweeps, max_grad, (nll, obj)


def _free(g: NDArray[np.float64], x: NDArray[np.float64], lo: float, hi: float
          ) -> NDArray[np.float64]:
    """The gradient with the components zeroed where x is on a bound and g points outwards."""
    out = np.where(((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0)), 0.0, g)
    return np.where(np.isfinite(x), out, 0.0)


def _lapse_step(lam: float, g: float, h: float) -> tuple[float, float]:
    """The projected Newton step on the lapse rate λ ∈ [0, LAPSE_MAX] from the gradient g and
    curvature h of the NLL in λ at the other parameters fixed, and a damped one that is sure
    to lower the NLL.

    The NLL −Σ log((1 − λ)·D_t + λ/K) is a sum of −log of affine functions of λ, hence
    self-concordant, and the damped step −g/h/(1 + δ) with the Newton decrement δ = |g|/√h
    lowers it by at least δ − log(1 + δ) (then projected on the box, still a descent as the
    function is convex); the full step, which reaches a bound at once, is tried first.

    References
    ----------
    Nesterov & Nemirovskii, "Interior-point polynomial algorithms in convex programming"
    (1994), section 2.2; Boyd & Vandenberghe, "Convex Optimization" (2004), section 9.6.
    """
    if not h > 0.0 or (lam <= 0.0 and g > 0.0) or (lam >= LAPSE_MAX and g < 0.0):
        return lam, lam
    delta = abs(g) / math.sqrt(h)
    full = float(min(max(lam - g / h, 0.0), LAPSE_MAX))
    return full, float(min(max(lam - g / h / (1.0 + delta), 0.0), LAPSE_MAX))


def _shared_step(fam: int, psi: NDArray[np.float64], rho: NDArray[np.float64],
                 dlt: NDArray[np.float64], nu: NDArray[np.float64], j: NDArray[np.int64],
                 i: NDArray[np.int64], r: NDArray[np.int64], tau: NDArray[np.float64],
                 lam: float, use_lapse: bool, K: int, common: bool,
                 ls_box: tuple[float, float]) -> tuple[float, NDArray[np.float64]]:
    """One projected Newton step with backtracking on the shared (common log υ, λ); the common
    log υ is updated in place in ``nu``; returns the new λ and the per-rating derivatives
    (:func:`~ratingdist._kernels.subjects.rating_derivatives`) there."""
    def total(lam_: float) -> tuple[float, NDArray[np.float64]]:
        d = kern.rating_derivatives(fam, psi, rho, dlt, nu, j, i, r, tau, lam_, use_lapse, K)
        return float(np.sum(d[:, 0])), d

    f0, d = total(lam)
    a = d[:, 1]
    b = 1.0 - a
    names: list[str] = []
    if common:
        names.append("nu")
    if use_lapse:
        names.append("lam")
    gv = {"nu": np.sum(d[:, 3] * b), "lam": np.sum(d[:, 7])}
    hv = {("nu", "nu"): np.sum(d[:, 6] * b * b + d[:, 3] * 2 * a * b),
          ("lam", "lam"): np.sum(d[:, 8]), ("nu", "lam"): np.sum(d[:, 10] * b)}
    hv[("lam", "nu")] = hv[("nu", "lam")]
    g = np.array([gv[n] for n in names])
    H = np.array([[hv[(p, q)] for q in names] for p in names])
    try:
        w = np.linalg.eigvalsh(H)
        step = -np.linalg.solve(H, g) if w[0] > 0 else -g / (np.max(np.abs(np.diag(H))) + 1)
    except np.linalg.LinAlgError:
        step = -g / (np.max(np.abs(np.diag(H))) + 1)
    x0 = np.array([nu[0] if n == "nu" else lam for n in names])
    box_lo = np.array([ls_box[0] if n == "nu" else 0.0 for n in names])
    box_hi = np.array([ls_box[1] if n == "nu" else LAPSE_MAX for n in names])
    big = np.max(np.abs(step))
    if big > 1.0:
        step = step / big
    t = 1.0
    for _ in range(40):
        x = np.clip(x0 + t * step, box_lo, box_hi)
        vals = dict(zip(names, x))
        if common:
            nu[:] = vals["nu"]
        lam_new = float(vals.get("lam", lam))
        f1, d1 = total(lam_new)
        if f1 <= f0:
            return lam_new, d1
        t *= 0.5
    if common:
        nu[:] = x0[0]
    return lam, d


def _standard_errors(d: NDArray[np.float64], j: NDArray[np.int64], i: NDArray[np.int64],
                     J: int, I: int, kappa: float, kappa_s: float, ambiguity: bool, common: bool,
                     use_lapse: bool, psi: NDArray[np.float64], rho: NDArray[np.float64],
                     dlt: NDArray[np.float64], nu: NDArray[np.float64], lam: float,
                     psi_box: Any, dlt_box: Any, ls_box: tuple[float, float]) -> dict[str, Any]:
    """Standard errors from the observed information (see :class:`QuantizedSubjectModel`).

    Per-rating chain rule (a = σ²/s², b = 1 − a; g_m, g_ls, H_·· from the cell): with
    u = (ψ, ρ, Δ, ν) the cell's blocks, ∂m = (1, 0, 1, 0), ∂ls = (0, a, 0, b) and
    ∂²ls/∂ρ² = ∂²ls/∂ν² = 2ab = −∂²ls/∂ρ∂ν.
    """
    a = d[:, 1]
    b = 1.0 - a
    gls, hmm, hml, hll = d[:, 3], d[:, 4], d[:, 5], d[:, 6]
    hlm, hll_l, hlam = d[:, 9], d[:, 10], d[:, 8]
    # parameter numbering
    off = {"psi": 0}
    n = J
    if ambiguity:
        off["rho"] = n
        n += J
    off["dlt"] = n
    n += I
    if common:
        off["nu"] = n
        n += 1
    else:
        off["nu"] = n
        n += I
    if use_lapse:
        off["lam"] = n
        n += 1
    # fixed: coordinates on a bound
    fixed = np.zeros(n, dtype=bool)
    tiny = 1e-9
    fixed[off["psi"]:off["psi"] + J] = ((psi <= psi_box[0][0] + tiny)
                                        | (psi >= psi_box[1][0] - tiny))
    if ambiguity:
        fixed[off["rho"]:off["rho"] + J] = (rho <= ls_box[0]) | (rho >= ls_box[1])
    fixed[off["dlt"]:off["dlt"] + I] = ((dlt <= dlt_box[0][0] + tiny)
                                        | (dlt >= dlt_box[1][0] - tiny))
    nus = nu[:1] if common else nu
    fixed[off["nu"]:off["nu"] + nus.size] = (nus <= ls_box[0]) | (nus >= ls_box[1])
    if use_lapse:
        fixed[off["lam"]] = lam <= 0.0 or lam >= LAPSE_MAX

    idx_psi = off["psi"] + j
    idx_dlt = off["dlt"] + i
    idx_nu = off["nu"] + (np.zeros_like(i) if common else i)
    # (index, coefficient on m, coefficient on ls) of each cell's parameters
    blocks = [(idx_psi, np.ones_like(a), np.zeros_like(a)),
              (idx_dlt, np.ones_like(a), np.zeros_like(a)),
              (idx_nu, np.zeros_like(a), b)]
    if ambiguity:
        blocks.append((off["rho"] + j, np.zeros_like(a), a))
    cols = blocks
    H = np.zeros((n, n))
    for p_idx, pm, pl in cols:
        for q_idx, qm, ql in cols:
            val = pm * qm * hmm + (pm * ql + pl * qm) * hml + pl * ql * hll
            np.add.at(H, (p_idx, q_idx), val)
    # second derivatives of ls: 2ab on ρρ, νν; −2ab on ρν
    np.add.at(H, (idx_nu, idx_nu), gls * 2 * a * b)
    if ambiguity:
        idx_rho = off["rho"] + j
        np.add.at(H, (idx_rho, idx_rho), gls * 2 * a * b)
        np.add.at(H, (idx_rho, idx_nu), -gls * 2 * a * b)
        np.add.at(H, (idx_nu, idx_rho), -gls * 2 * a * b)
        sl = slice(off["rho"], off["rho"] + J)
        H[sl, sl] += kappa * (np.eye(J) - 1.0 / J)
    if kappa_s > 0:
        sl = slice(off["nu"], off["nu"] + I)
        H[sl, sl] += kappa_s * (np.eye(I) - 1.0 / I)
    if use_lapse:
        L = off["lam"]
        for p_idx, pm, pl in cols:
            v = np.bincount(p_idx, weights=pm * hlm + pl * hll_l, minlength=n)
            H[L, :] += v
            H[:, L] += v
        H[L, L] = np.sum(hlam)
    keep = ~fixed
    A = np.zeros(n)
    A[off["dlt"]:off["dlt"] + I] = 1.0 / I
    Hk = H[np.ix_(keep, keep)]
    Ak = A[keep]
    m = int(keep.sum())
    B = np.zeros((m + 1, m + 1))
    B[:m, :m] = Hk
    B[:m, m] = Ak
    B[m, :m] = Ak
    try:
        cov_k = np.linalg.inv(B)[:m, :m]
    except np.linalg.LinAlgError:
        cov_k = np.linalg.pinv(B)[:m, :m]
    var = np.full(n, np.inf)
    var[keep] = np.diag(cov_k)
    se = np.sqrt(np.where(var > 0, var, np.inf))
    out = {"kind": "observed information", "psi": se[off["psi"]:off["psi"] + J],
           "rho": se[off["rho"]:off["rho"] + J] if ambiguity else np.zeros(J),
           "dlt": se[off["dlt"]:off["dlt"] + I]}
    out["nu"] = np.full(I, se[off["nu"]]) if common else se[off["nu"]:off["nu"] + I]
    return out


def _se_kind(J: int, I: int, ambiguity: bool, common: bool, use_lapse: bool) -> str:
    """``"observed information"`` up to DENSE_MAX parameters (the mean Δ included), else
    ``"block"``."""
    n = J + (J if ambiguity else 0) + I + (1 if common else I) + int(use_lapse)
    return "observed information" if n <= DENSE_MAX else "block"


def _block_errors(stats_j: NDArray[np.float64], stats_i: NDArray[np.float64], J: int, I: int,
                  ambiguity: bool, common: bool) -> dict[str, Any]:
    """SEs from the inverse of each 2×2 block (the other parameters held fixed), from the
    blocks' NLL Hessians (columns 3–5 of :func:`~ratingdist._kernels.subjects.block_sums`:
    H_loc,loc, H_loc,lsc, H_lsc,lsc, the prior excluded)."""
    out: dict[str, Any] = {"kind": "block"}
    for side, st, size, loc, lsn in (("stim", stats_j, J, "psi", "rho"),
                                     ("subj", stats_i, I, "dlt", "nu")):
        h00, h01, h11 = st[:, 3], st[:, 4], st[:, 5]
        scale = ambiguity if side == "stim" else not common
        with np.errstate(divide="ignore", invalid="ignore"):
            if scale:
                det = h00 * h11 - h01**2
                v0, v1 = h11 / det, h00 / det
            else:
                v0, v1 = 1.0 / h00, np.zeros(size)
        v0 = np.where(v0 > 0, v0, np.inf)
        v1 = np.where(v1 > 0, v1, np.inf) if scale else v1
        out[loc], out[lsn] = np.sqrt(v0), np.sqrt(v1)
    if common:
        out["nu"] = np.zeros(I)
    return out
