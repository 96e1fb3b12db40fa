"""Adaptive quantized metric models: category thresholds learned from the data, per group, with
lapse rates.

Counts n_{g,j,k} of category k given to stimulus j by group g (a country, a lab, an
experiment). Stimulus j has a latent quality with location μ_j and scale σ_j (normal or
logistic on the rating axis, or logit-logistic on [0, 1]; one σ_j per stimulus or one common
σ); group g cuts it at its
thresholds τ_{g,1} < … < τ_{g,K−1} (one set for the study, ``thresholds="shared"``, or one per
group, ``"per-group"``) and gives an unintended response with probability λ_g (``lapse``):

    p_{g,j,k} = (1 − λ_g)·[F((τ_{g,k} − μ_j)/σ_j) − F((τ_{g,k−1} − μ_j)/σ_j)] + λ_g/K.

The likelihood Σ n_{g,j,k} log p_{g,j,k} is maximized jointly over all parameters (exact MLE,
``_kernels.joint``). Location-scale latents are invariant under (μ, σ, τ) → (aμ + b, aσ, aτ + b),
so the reference group's outer thresholds are pinned at the reference values 1.5 and K − 0.5;
:attr:`AdaptiveResult.identification` states the rule for each fit.

The logit-logistic latent X ∈ (0, 1) has logit X ~ Logistic(logit μ_j, s_j): cut at thresholds
τ_k ∈ (0, 1) it is the logistic model on the logit axis u_k = logit τ_k, with location logit μ_j
and scale s_j, and is fitted there (the same invariance, pins at the reference values 1/K and
(K − 1)/K); :attr:`AdaptiveResult.thresholds` reports τ_k on [0, 1], the intervals mapped from
the logit axis. With learned thresholds it is the learned logistic model in other coordinates
(equal likelihood); the two differ only at the reference thresholds (k + ½ on the rating axis
against k/K on [0, 1]).

References
----------
Saupe et al., "Uncovering cultural influences on perceptual image and video quality assessment
through adaptive quantized metric models", J. Perceptual Imaging 7 (2025) 000407; Saupe, Rusek,
Hägele, Weiskopf, Janowski, IEEE Signal Processing Letters 31 (2024) 2970–2974 (reference
thresholds k + ½); McCullagh, JRSS B 42 (1980) 109–142 (cumulative link models).

Examples
--------
>>> import numpy as np
>>> import ratingdist as rd
>>> counts = np.array([[[0, 2, 9, 6, 1], [1, 6, 8, 2, 0], [0, 0, 3, 9, 6], [4, 9, 4, 1, 0]]])
>>> res = rd.fit_adaptive(counts, "normal")
>>> res.thresholds["value"].round(3).tolist()
[1.5, 2.585, 3.589, 4.5]
>>> bool(res.nll <= res.fixed().nll)
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from . import _likelihood, adaptive_bootstrap, extreme
from ._kernels import codes, joint
from .data import RatingCounts
from .families import family as family_named
from .families.quantized import unit_cdf
from .fitting import INFINITE_PARAMETER, as_counts

THRESHOLD_MODES = ("shared", "per-group")
LAPSE_MODES = (None, "shared", "per-group")
SCALE_MODES = ("per-stimulus", "common")
_FAMILY_CODES = {"normal": codes.NORMAL, "logistic": codes.LOGISTIC,
                 "logit-logistic": codes.LOGISTIC, "beta": codes.BETA,
                 "kumaraswamy": codes.KUMARASWAMY_CENTRED}
#: Families on [0, 1] fitted on the logit axis (logit X logistic).
_LOGIT_AXIS = frozenset({"logit-logistic"})
#: Shape families on [0, 1] (θ = (log a, log b), centred for Kumaraswamy; ``_kernels.joint_unit``).
_UNIT = frozenset({"beta", "kumaraswamy"})
#: Box of θ for the shape families: (lo, hi) per coordinate. a, b ≤ 1e6 (beta: sd ≈ 5e-4)
#: and a ≤ 1e4 (Kumaraswamy: Gumbel scale 1e-4 in log x) put a concentrated member's mass
#: outside two adjacent categories below 1e-300 for category widths above 0.05; a, b ≥ 1e-4 is
#: the spread end.
_UNIT_BOX = {"beta": (np.log([1e-4, 1e-4]), np.log([1e6, 1e6])),
             "kumaraswamy": (np.array([np.log(1e-4), -1e5]), np.array([np.log(1e4), 1e5]))}
#: The latent families of the adaptive model.
ADAPTIVE_FAMILIES = tuple(_FAMILY_CODES)
_Z95 = stats.norm.ppf(0.975)


def _reference_axis(family: str, K: int) -> NDArray[np.float64]:
    """The reference thresholds on the axis the model is fitted on: k + ½ (rating axis),
    logit(k/K) (logit axis of logit-logistic) or k/K (beta, Kumaraswamy), k = 1..K − 1."""
    k = np.arange(1, K, dtype=np.float64)
    if family in _UNIT:
        return k / K
    return special.logit(k / K) if family in _LOGIT_AXIS else k + 0.5


def _on_latent(family: str, u: NDArray[np.float64]) -> NDArray[np.float64]:
    """Values of the fitting axis on the family's latent axis (expit on the logit axis)."""
    return special.expit(u) if family in _LOGIT_AXIS else u


@dataclass(frozen=True)
class CellModel:
    """An adaptive fit's model per cell, in the form the QoE functions read a fit.

    Attributes
    ----------
    family : the latent family (params (μ_j, σ_j) on the latent axis of the learned
        thresholds; logit-logistic: (logit μ_j, s_j), the family's native parameters).
    params : (n_cells, 2) (μ, σ) of each cell's stimulus (σ = 0 and ±inf at the limits).
    probs : (n_cells, K) category probabilities at the group's thresholds, lapse included.
    counts : the cells' counts, ids ``"stimulus|group"``.
    limit : (n_cells,) the stimulus is a limit of the family.
    atoms, atom_mass : (n_limit, 2) latent law of the limit cells (atoms on the rating axis,
        u = 0.5 + K·x for logit-logistic, and their masses).
    K : number of categories.
    """

    family: object
    params: NDArray[np.float64]
    probs: NDArray[np.float64]
    counts: RatingCounts
    limit: NDArray[np.bool_]
    atoms: NDArray[np.float64]
    atom_mass: NDArray[np.float64]
    K: int


@dataclass(frozen=True)
class _Study:
    """Cells (group × stimulus) with their counts, sorted by stimulus then group."""

    ids: NDArray
    groups: NDArray
    cell_stim: NDArray[np.int64]
    cell_group: NDArray[np.int64]
    counts: NDArray[np.int64]

    @property
    def K(self) -> int:
        return self.counts.shape[1]


def _check_values(values: NDArray, where) -> NDArray[np.int64]:
    """Whole numbers ≥ 0; ``where(index)`` names an offending entry."""
    if values.dtype == object or not np.issubdtype(values.dtype, np.number):
        raise ValueError(f"counts must be numbers, got dtype {values.dtype}")
    vals = values.astype(np.float64)
    bad = ~np.isfinite(vals) | (vals < 0) | (vals != np.round(vals))
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        x = values[idx].item()
        reason = "negative" if np.isfinite(vals[idx]) and vals[idx] < 0 else "not a whole number"
        raise ValueError(
            f"{where(idx)}: value {x!r} is {reason}; counts must be whole numbers >= 0"
        )
    return vals.astype(np.int64)


def _study(counts, groups, stimuli) -> _Study:
    """Validate the input forms of :func:`fit_adaptive` into cells."""
    if isinstance(counts, Mapping):
        if groups is not None or stimuli is not None:
            raise ValueError("groups= and stimuli= go with row counts, not with a mapping")
        if not counts:
            raise ValueError("counts: the mapping of groups holds no group")
        parts = {}
        for g, c in counts.items():
            try:
                parts[g] = as_counts(c)
            except ValueError as e:
                raise ValueError(f"group {g!r}: {e}") from None
        first, K = next((g, c.K) for g, c in parts.items())
        for g, c in parts.items():
            if c.K != K:
                raise ValueError(
                    f"group {g!r} has K = {c.K} categories, group {first!r} has K = {K}"
                )
        rows = RatingCounts._new(
            np.arange(sum(len(c) for c in parts.values())),
            np.vstack([c.counts for c in parts.values()]),
        )
        labels = np.concatenate([np.full(len(c), i) for i, c in enumerate(parts.values())])
        ids = np.concatenate([np.asarray(c.ids, dtype=object) for c in parts.values()])
        st = _study(rows, labels, ids)
        names = np.empty(len(parts), dtype=object)
        names[:] = list(parts)
        return _Study(st.ids, names[st.groups.astype(np.int64)], st.cell_stim, st.cell_group,
                      st.counts)
    if groups is None and stimuli is None and not isinstance(counts, RatingCounts):
        arr = np.asarray(counts)
        if arr.ndim == 3:
            G, n, K = arr.shape
            if K < 3:
                raise ValueError(f"counts of shape {arr.shape}: K = {K} categories, need K >= 3")
            if G == 0 or n == 0:
                raise ValueError(f"counts of shape {arr.shape}: no groups or no stimuli")
            c = _check_values(arr, lambda i: f"group {i[0]}, stimulus {i[1]}, column 'c{i[2] + 1}'")
            rated = c.sum(axis=2) > 0
            for j in np.flatnonzero(~rated.any(axis=0))[:1]:
                raise ValueError(f"stimulus {j} has no rating in any group")
            for g in np.flatnonzero(~rated.any(axis=1))[:1]:
                raise ValueError(f"group {g} has no rating")
            jj, gg = np.nonzero(rated.T)
            return _Study(np.arange(n), np.arange(G), jj, gg, c[gg, jj])
        if arr.ndim != 2:
            raise ValueError(
                f"counts must be a RatingCounts, an (n, K) or a (G, n, K) array, got shape "
                f"{arr.shape}"
            )
    try:
        rc = as_counts(counts)
    except ValueError as e:
        if groups is None:
            raise
        raise ValueError(f"counts with groups= labels: {e}") from None
    n = len(rc)
    if groups is None:
        glab = np.zeros(n, dtype=np.int64)
    else:
        glab = np.asarray(groups)
        if glab.ndim != 1 or len(glab) != n:
            raise ValueError(f"groups has {glab.size} labels for {n} rows of counts")
    slab = rc.ids if stimuli is None else np.asarray(stimuli)
    if slab.ndim != 1 or len(slab) != n:
        raise ValueError(f"stimuli has {slab.size} labels for {n} rows of counts")
    g_codes, g_uni = pd.factorize(pd.Series(glab), sort=False)
    s_codes, s_uni = pd.factorize(pd.Series(slab), sort=False)
    key = pd.Series(s_codes.astype(np.int64) * len(g_uni) + g_codes)
    dup = key.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise ValueError(f"row {i}: stimulus {slab[i]!r} appears twice in group {glab[i]!r}")
    order = np.lexsort((g_codes, s_codes))
    return _Study(
        np.asarray(s_uni), np.asarray(g_uni), s_codes[order].astype(np.int64),
        g_codes[order].astype(np.int64), rc.counts[order].astype(np.int64),
    )


def _components(study: _Study) -> NDArray[np.int64]:
    """Component label of each group: groups linked by a stimulus both rated."""
    G = len(study.groups)
    parent = np.arange(G)

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    first = {}
    for j, g in zip(study.cell_stim.tolist(), study.cell_group.tolist()):
        if j in first:
            ra, rb = find(first[j]), find(g)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        else:
            first[j] = g
    return np.array([find(g) for g in range(G)])


def _label(x) -> str:
    return str(x)


class AdaptiveResult:
    """Joint maximum-likelihood fit of an adaptive quantized metric model.

    Attributes
    ----------
    family, K, thresholds_mode, lapse_mode, scale_mode : the model.
    thresholds : DataFrame (group, k, value, se, ci_low, ci_high, pinned): one row per threshold
        of each threshold set (``group`` is ``"all"`` for shared thresholds) on the family's
        latent axis (the rating axis; [0, 1] for logit-logistic); pinned ones have se = 0.
        Wald 95 % intervals from the observed information with the stimulus parameters
        eliminated (Schur complement); for logit-logistic the Wald interval of logit τ mapped
        to [0, 1], and se by the delta method, τ(1 − τ)·se(logit τ).
    reference_thresholds : (K − 1,) the reference thresholds on the same axis (k + ½, or k/K).
    lapse : DataFrame (group, value, se, ci_low, ci_high, at_bound), empty without a lapse;
        intervals clipped to [0, 1]. A lapse on its bound 0 (``at_bound``) has its se from its
        own curvature with the other shared parameters eliminated, a diagnostic only (the Wald
        interval does not hold on a boundary), and no covariances.
    table : per-stimulus DataFrame: id, groups, n_groups, n, mu, sigma, nll, converged, limit,
        at_bound, iterations (logit-logistic: mu = logit μ_j and sigma = s_j, on the logit
        axis). ``limit``: σ_j → 0 (reported as 0; the fit sits at the σ floor,
        where its likelihood equals the limit's to double precision) or, for ratings only in
        1 and K, σ_j → ∞ (reported as 1e308 in :attr:`table`, as :func:`ratingdist.fit` does; μ_j
        as there).
    cells : per-cell DataFrame: id, group, c1..cK, p1..pK, nll.
    nll, aic, bic, n_params : NLL = −Σ n log p; AIC = 2·n_params + 2·NLL; BIC = n_params·ln n +
        2·NLL with n the number of stimuli (the reference study's dataset definitions).
    converged : every block and the shared Newton iteration converged.
    grad_max : max |∂NLL/∂θ| over every free coordinate (stationarity check on the full
        gradient, stimulus blocks included).
    identification : the identification rule, in words; ``identified_by_rule`` the groups
        whose thresholds are identified only under it (they share no stimulus with the
        reference group).
    covariance : DataFrame, the asymptotic covariance of the free shared parameters (inverse
        of the profile Hessian; inf on the diagonal where it is singular).
    """

    def __init__(self, study, family, thresholds_mode, lapse_mode, scale_mode, fixed, fit,
                 problem, pins, names, identification, identified_by_rule):
        self._study = study
        self._cell_model = None
        self.family = family
        self.K = study.K
        self.reference_thresholds = _on_latent(family, _reference_axis(family, study.K))
        self.thresholds_mode = thresholds_mode
        self.lapse_mode = lapse_mode
        self.scale_mode = scale_mode
        self.reference_thresholds_only = fixed
        self._fit = fit
        self._problem = problem
        self._pins = pins
        self.identification = identification
        self.identified_by_rule = identified_by_rule
        self.grad_max = float(fit["grad_max"])
        n = len(study.ids)
        P = problem["P"]
        S = fit["S"]
        lam_idx = problem["lam_idx"]
        bound = np.zeros(P, bool)
        bound[lam_idx] = (fit["lam"] <= 0.0) | (fit["lam"] >= joint.LAPSE_MAX)
        self._lapse_at_bound = bound[lam_idx]
        cov = _covariance(S, bound)
        self.covariance = pd.DataFrame(cov, index=names, columns=names)
        self._se = np.sqrt(np.diag(cov))
        self.n_params = (2 * n if scale_mode == "per-stimulus" else n + 1) + P - (
            1 if problem["rho_idx"] >= 0 else 0
        )
        self.nll = float(fit["nll"].sum() + problem["limit_nll"].sum())
        self.aic = _likelihood.aic(self.nll, 1, self.n_params)
        self.bic = float(self.n_params * np.log(n) + 2.0 * self.nll)
        self.converged = bool(fit["outer_converged"] and fit["converged"][problem["active"]].all())

    def __repr__(self) -> str:
        return (
            f"AdaptiveResult({self.family}, thresholds={self.thresholds_mode!r}, "
            f"lapse={self.lapse_mode!r}, scale={self.scale_mode!r}, nll={self.nll:.3f}, "
            f"n_params={self.n_params})"
        )

    def _set_label(self, t: int) -> str:
        return "all" if self.thresholds_mode == "shared" else _label(self._study.groups[t])

    @property
    def thresholds(self) -> pd.DataFrame:
        tau = self._fit["tau"]
        idx = self._problem["tau_idx"]
        rows = []
        for t in range(tau.shape[0]):
            for i in range(tau.shape[1]):
                s = idx[t, i]
                se = float(self._se[s]) if s >= 0 else 0.0
                u = float(tau[t, i])
                v, low, high = (float(x) for x in _on_latent(
                    self.family, np.array([u, u - _Z95 * se, u + _Z95 * se])))
                if s < 0:  # pinned: the reference value exactly
                    v = low = high = float(self.reference_thresholds[i])
                if self.family in _UNIT:
                    low, high = max(low, 0.0), min(high, 1.0)
                if self.family in _LOGIT_AXIS:
                    se *= v * (1.0 - v)
                rows.append({
                    "group": self._set_label(t), "k": i + 1, "value": v, "se": se,
                    "ci_low": low, "ci_high": high, "pinned": s < 0,
                })
        return pd.DataFrame(rows)

    @property
    def lapse(self) -> pd.DataFrame:
        cols = ["group", "value", "se", "ci_low", "ci_high", "at_bound"]
        if self.lapse_mode is None:
            return pd.DataFrame(columns=cols)
        lab = ["all"] if self.lapse_mode == "shared" else [_label(g) for g in self._study.groups]
        rows = []
        for lv, s, name, b in zip(self._fit["lam"], self._problem["lam_idx"], lab,
                                  self._lapse_at_bound):
            se = float(self._se[s])
            rows.append({
                "group": name, "value": float(lv), "se": se,
                "ci_low": max(0.0, lv - _Z95 * se), "ci_high": min(1.0, lv + _Z95 * se),
                "at_bound": bool(b),
            })
        return pd.DataFrame(rows, columns=cols)

    @property
    def common_scale(self) -> pd.Series | None:
        """The common σ with its se (delta method from log σ) where ``scale="common"``."""
        r = self._problem["rho_idx"]
        if r < 0:
            return None
        sig = math.exp(self._fit["ls_common"])
        return pd.Series({"value": sig, "se": sig * float(self._se[r])})

    def _latent_q(self, mu, ls):
        """Quantized-latent probabilities (before the lapse) of every cell, (n_cells, K), from
        (μ_j, log σ_j) or, for beta and Kumaraswamy, the solver coordinates θ_j."""
        st, p, f = self._study, self._problem, self._fit
        j = st.cell_stim
        tau = f["tau"][p["cell_tset"]]
        if self.family in _UNIT:
            Fz = unit_cdf(self.family, mu[j, None], ls[j, None], tau, p["log_tref"])
        else:
            F = stats.norm.cdf if self.family == "normal" else stats.logistic.cdf
            Fz = F((tau - mu[j, None]) / np.exp(ls[j])[:, None])
        return np.diff(np.column_stack([np.zeros(len(j)), Fz, np.ones(len(j))]), axis=1)

    def _mu_sigma(self):
        """μ_j, σ_j as reported, the fitted log σ_j, and the limit and at-bound flags.

        σ_j → 0 limit: every cell of the stimulus has all but 1e-10 of its latent mass on two
        adjacent categories (the block optimum lies in the limit; the solver stops where the
        likelihood equals the limit's to double precision).
        """
        p, f = self._problem, self._fit
        st = self._study
        if self.family in _UNIT:
            return self._shape_params()
        mu = f["theta"][:, 0].copy()
        ls = np.full(len(mu), f["ls_common"]) if p["common"] else f["theta"][:, 1].copy()
        sigma = np.exp(ls)
        limit = np.zeros(len(mu), bool)
        if not p["common"]:
            q = self._latent_q(mu, ls)
            pair = np.max(q[:, :-1] + q[:, 1:], axis=1)
            rest = q.sum(axis=1) - pair
            wide = np.zeros(len(mu), bool)
            np.logical_or.at(wide, st.cell_stim, rest > 1e-10)
            limit = ~wide & p["active"]
        sigma[limit] = 0.0
        ext = ~p["active"]
        mu[ext] = p["limit_mu"][ext]
        sigma[ext] = np.inf
        at_bound = (ls >= math.log(joint.SIGMA_CEILING) - 1e-12) & p["active"]
        return mu, sigma, ls, limit | ext, at_bound

    def _shape_params(self):
        """Beta, Kumaraswamy: native a_j, b_j (a = b = ∞ at the concentrated limit, 0 for ratings
        only in 1 and K without a lapse), θ_1, and the limit and at-bound (spread end) flags."""
        p, f = self._problem, self._fit
        st = self._study
        th = f["theta"]
        q = self._latent_q(th[:, 0], th[:, 1])
        pair = np.max(q[:, :-1] + q[:, 1:], axis=1)
        wide = np.zeros(len(th), bool)
        np.logical_or.at(wide, st.cell_stim, q.sum(axis=1) - pair > 1e-10)
        limit = ~wide & p["active"]
        log_b = th[:, 1].copy()
        if self.family == "kumaraswamy":
            from .families.quantized import _kumaraswamy_h
            log_b -= _kumaraswamy_h(th[:, 0], p["log_tref"])
        with np.errstate(over="ignore"):
            a, b = np.exp(th[:, 0]), np.exp(log_b)
        ext = ~p["active"]
        limit |= ext & ~p["spread"]
        a[limit] = b[limit] = np.inf
        a[p["spread"]] = b[p["spread"]] = 0.0
        at_bound = (th[:, 0] <= p["lo"][0] + 1e-12) & p["active"]
        return a, b, th[:, 1], limit | ext, at_bound

    @property
    def table(self) -> pd.DataFrame:
        st = self._study
        n = len(st.ids)
        mu, sigma, _, limit, at_bound = self._mu_sigma()
        names = [[] for _ in range(n)]
        for j, g in zip(st.cell_stim, st.cell_group):
            names[j].append(_label(st.groups[g]))
        n_r = np.bincount(st.cell_stim, weights=st.counts.sum(axis=1), minlength=n)
        nll = self._fit["nll"].copy()
        ext = ~self._problem["active"]
        nll[ext] = self._problem["limit_nll"][ext]
        pn = ("a", "b") if self.family in _UNIT else ("mu", "sigma")
        return pd.DataFrame({
            "id": st.ids, "groups": [",".join(x) for x in names],
            "n_groups": [len(x) for x in names], "n": n_r.astype(np.int64),
            pn[0]: _finite(mu), pn[1]: _finite(sigma), "nll": nll,
            "converged": self._fit["converged"] | ext,
            "limit": limit, "at_bound": at_bound, "iterations": self._fit["iterations"],
        })

    def cell_probs(self) -> NDArray[np.float64]:
        """Fitted probabilities of every cell, (n_cells, K), in the order of :attr:`cells`."""
        st, p, f = self._study, self._problem, self._fit
        K = st.K
        j = st.cell_stim
        if self.family in _UNIT:
            q = self._latent_q(f["theta"][:, 0], f["theta"][:, 1])
        else:
            mu, _, ls, _, _ = self._mu_sigma()
            q = self._latent_q(np.where(p["active"], mu, 0.0), ls)
        ext = ~p["active"][j]
        if self.family in _UNIT:
            q[ext] = p["limit_probs"][j[ext]]
        elif ext.any():
            split = p["limit_split"][j[ext]]
            q[ext] = 0.0
            q[ext, 0] = split
            q[ext, K - 1] = 1.0 - split
        lam = f["lam"][p["cell_lset"]] if p["lapse"] else np.zeros(len(j))
        return (1.0 - lam)[:, None] * q + lam[:, None] / K

    def cell_model(self) -> CellModel:
        """The fitted model of every cell (stimulus × group, in the order of :attr:`cells`) as
        the QoE functions read it: ``rd.qoe.gob(res)``, ``rd.qoe.quantile(res, 0.1)`` etc.
        take the result directly and call this. Built once per result (the same object on
        every call)."""
        if self._cell_model is None:
            self._cell_model = self._build_cell_model()
        return self._cell_model

    def _build_cell_model(self) -> CellModel:
        st, p = self._study, self._problem
        j = st.cell_stim
        mu, sigma, _, limit, _ = self._mu_sigma()
        probs = self.cell_probs()
        ids = np.array([f"{_label(a)}|{_label(g)}" for a, g in
                        zip(st.ids[j], st.groups[st.cell_group])], dtype=object)
        # the latent law of the limit cells (as rd.fit's at the reference thresholds): σ_j → 0
        # puts all mass on the threshold between two rated categories, or at the middle of one
        # (the end categories: half a neighbouring gap beyond the outer threshold, or on [0, 1]
        # the middle between the outer threshold and the end); ratings only in 1 and K put the
        # split at the ends of the latent axis
        fam = family_named(self.family)
        cl = limit[j]
        ext = p["spread"][j]
        tau = _on_latent(self.family, self._fit["tau"][p["cell_tset"]][cl])
        c = st.counts[cl] > 0
        first = c.argmax(axis=1)
        last = st.K - 1 - c[:, ::-1].argmax(axis=1)
        if fam.unit_interval:
            ends = np.zeros(len(tau)), np.ones(len(tau))
        else:
            ends = tau[:, 0] - (tau[:, 1] - tau[:, 0]), tau[:, -1] + (tau[:, -1] - tau[:, -2])
        edges = np.column_stack([ends[0], tau, ends[1]])
        rows = np.arange(len(first))
        centre = np.where(first == last, 0.5 * (edges[rows, first] + edges[rows, first + 1]),
                          edges[rows, np.minimum(first + 1, st.K)])
        centre = fam._to_rating(centre, st.K)
        atoms = np.column_stack([centre, centre])
        low = np.ones(len(first))
        e = ext[cl]
        atoms[e] = (fam._to_rating(np.array([0.0, 1.0]), st.K) if fam.unit_interval
                    else [-np.inf, np.inf])
        low[e] = p["limit_split"][j[cl][e]]
        return CellModel(
            family=fam, params=np.column_stack([mu[j], sigma[j]]),
            probs=probs, counts=RatingCounts(ids, st.counts), limit=cl,
            atoms=atoms, atom_mass=np.column_stack([low, 1.0 - low]), K=st.K,
        )

    @property
    def cells(self) -> pd.DataFrame:
        st = self._study
        K = st.K
        probs = self.cell_probs()
        cols = {"id": st.ids[st.cell_stim], "group": [_label(g) for g in st.groups[st.cell_group]]}
        for k in range(K):
            cols[f"c{k + 1}"] = st.counts[:, k]
        for k in range(K):
            cols[f"p{k + 1}"] = probs[:, k]
        cols["nll"] = _likelihood.nll(st.counts, probs)
        return pd.DataFrame(cols)

    def fixed(self) -> AdaptiveResult:
        """The same model (lapse and scale options) at the reference thresholds k + ½ (k/K for
        logit-logistic) for every group. Without a lapse and with per-stimulus scales it is
        :func:`ratingdist.fit` per stimulus."""
        return _fit(self._study, self.family, self.thresholds_mode, self.lapse_mode,
                    self.scale_mode, fixed=True)

    def extreme_response(self) -> pd.DataFrame:
        """Extreme-response propensity per group, E_g = mean over the stimuli g rated of
        P(rating ∈ {1, K}) under the fitted model, with delta-method se and 95 % interval from
        the shared-parameter covariance; see :mod:`ratingdist.extreme`. Columns: group,
        n_stimuli, value, se, ci_low, ci_high."""
        return extreme.extreme_response(self)

    def extreme_response_ratio(self, a, b) -> pd.Series:
        """E_a / E_b of two groups (labels as in :attr:`lapse`), delta method on the log ratio;
        see :mod:`ratingdist.extreme`. Series: group_a, group_b, value, se, ci_low, ci_high."""
        return extreme.extreme_response_ratio(self, a, b)

    def bootstrap(self, n_boot: int = 200, seed: int = 0, level: float = 0.95
                  ) -> adaptive_bootstrap.AdaptiveBootstrap:
        """Parametric-bootstrap bias, se and basic intervals of the thresholds and lapses:
        ``n_boot`` studies drawn from the fitted cell probabilities (each cell's total kept),
        refitted with the same options; see :mod:`ratingdist.adaptive_bootstrap`. The
        intervals to use for the lapses, whose Wald intervals (:attr:`lapse`) under-cover
        with tens of ratings per stimulus (the lapse MLE is then biased low by about half its
        se, and its spread grows with it)."""
        return adaptive_bootstrap.bootstrap(self, n_boot=n_boot, seed=seed, level=level)

    def _refit(self, counts: NDArray[np.int64]) -> AdaptiveResult:
        """The same model fitted to other counts of the same cells."""
        st = self._study
        return _fit(_Study(st.ids, st.groups, st.cell_stim, st.cell_group, counts), self.family,
                    self.thresholds_mode, self.lapse_mode, self.scale_mode,
                    fixed=self.reference_thresholds_only)

    @property
    def _logit_axis(self) -> bool:
        return self.family in _LOGIT_AXIS

    def _on_latent(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        return _on_latent(self.family, u)

    def lr_test(self, other: AdaptiveResult | None = None) -> pd.Series:
        """Likelihood-ratio test against a nested fit (default: :meth:`fixed`); see
        :func:`lr_test`."""
        return lr_test(self.fixed() if other is None else other, self)


def _finite(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """A table column with ±∞ limit values written as ±INFINITE_PARAMETER, as
    :attr:`ratingdist.FitResult.table` writes them."""
    return np.where(np.isinf(x), np.sign(x) * INFINITE_PARAMETER, x)


def _covariance(S: NDArray, bound: NDArray[np.bool_]) -> NDArray:
    """Inverse of the profile Hessian S over the coordinates off their bounds (inf where S is
    singular there); a coordinate on its bound gets the variance 1/(S_bb − S_bf S_ff⁻¹ S_fb)
    from its own curvature with the free coordinates eliminated (inf if not positive) and no
    covariances."""
    P = len(S)
    cov = np.zeros((P, P))
    free = ~bound
    Sff = S[np.ix_(free, free)]
    try:
        inv = np.linalg.inv(Sff) if free.any() else np.zeros((0, 0))
        ok = np.all(np.isfinite(inv)) and np.all(np.diag(inv) > 0)
    except np.linalg.LinAlgError:
        ok = False
    if not ok:
        return np.where(np.eye(P, dtype=bool), np.inf, 0.0)
    cov[np.ix_(free, free)] = inv
    for b in np.flatnonzero(bound):
        sfb = S[free, b]
        curv = S[b, b] - sfb @ inv @ sfb
        cov[b, b] = 1.0 / curv if curv > 0 else np.inf
    return cov


def lr_test(restricted: AdaptiveResult, general: AdaptiveResult) -> pd.Series:
    """Likelihood-ratio test of a nested pair of adaptive fits of the same counts.

    LR = 2·(NLL_restricted − NLL_general), df = difference of the numbers of parameters,
    p-value = P(χ²_df ≥ LR) (Wilks). Typical pairs: reference vs learned thresholds
    (``res.fixed()`` vs ``res``), shared vs per-group thresholds or lapses. Where the restriction
    puts a parameter on the boundary of its range (no lapse vs a lapse: λ = 0) the χ² p-value is
    conservative (the null distribution is a χ̄² mixture, Self & Liang 1987).

    Returns a Series: statistic, df, p_value, nll_restricted, nll_general.

    Raises
    ------
    ValueError
        If the fits are of different counts or families, or the restricted one does not have
        fewer parameters.
    """
    a, b = restricted, general
    same = (
        a.family == b.family
        and a._study.counts.shape == b._study.counts.shape
        and np.array_equal(a._study.counts, b._study.counts)
    )
    if not same:
        raise ValueError("lr_test needs two fits of the same counts with the same family")
    df = b.n_params - a.n_params
    if df <= 0:
        raise ValueError(
            f"restricted fit has {a.n_params} parameters, general fit {b.n_params}: the general "
            "fit must have more"
        )
    stat = max(2.0 * (a.nll - b.nll), 0.0)
    return pd.Series({
        "statistic": stat, "df": df, "p_value": float(stats.chi2.sf(stat, df)),
        "nll_restricted": a.nll, "nll_general": b.nll,
    })


def fit_adaptive(
    counts: RatingCounts | ArrayLike,
    family: str = "normal",
    groups: Sequence | ArrayLike | None = None,
    *,
    stimuli: Sequence | ArrayLike | None = None,
    thresholds: str = "shared",
    lapse: str | None = None,
    scale: str = "per-stimulus",
) -> AdaptiveResult:
    """Fit an adaptive quantized metric model by joint maximum likelihood.

    Parameters
    ----------
    counts : a RatingCounts (one group); a (G, n, K) integer array (group, stimulus, category;
        a stimulus with all-zero counts in a group was not rated there); a mapping
        {group: RatingCounts} (stimuli matched by id); or a RatingCounts or (rows, K) array
        with ``groups`` (and optionally ``stimuli``) labels per row.
    family : ``"normal"`` or ``"logistic"`` latent on the rating axis, or ``"logit-logistic"``
        on [0, 1] (thresholds τ_k ∈ (0, 1); fitted as the logistic model on the logit axis, see
        the module). The beta and Kumaraswamy latents are not location-scale families on any
        axis of the thresholds; their adaptive fits are not available.
    groups : group label of each row (the first label to appear is the reference group).
    stimuli : stimulus label of each row (default: the ids of ``counts``); the same stimulus in
        several groups shares μ_j and σ_j.
    thresholds : ``"shared"`` (one ordered set for the study) or ``"per-group"``.
    lapse : None, ``"shared"`` (one λ) or ``"per-group"`` (λ_g per group), λ ∈ [0, 0.999].
    scale : ``"per-stimulus"`` (σ_j) or ``"common"`` (one σ for all stimuli).

    Identification: the reference group's τ_1 and τ_{K−1} are pinned at 1.5 and K − 0.5 (1/K
    and (K − 1)/K for logit-logistic); its
    interior thresholds and the other groups' thresholds are free and strictly ordered. A group
    that shares no stimulus (directly or through other groups) with the reference group gets the
    same pins on the first group of its component (only τ_1 with a common scale, which already
    fixes the stretch); the result says so.

    σ_j is kept in [1e-3, 1e4]: the σ_j → 0 limit (ratings in one category or two adjacent ones)
    is reached at the floor to double precision; ratings only in 1 and K without a lapse are the
    σ_j → ∞ limit (empirical split, no information on the thresholds), as in
    :func:`ratingdist.fit`; with a lapse such a stimulus stops at the ceiling.

    Returns
    -------
    AdaptiveResult

    Raises
    ------
    ValueError
        For a wrong shape, a negative or fractional count, labels that do not match the rows,
        an unknown option, a group or stimulus without ratings, a category that a threshold
        set never sees where that leaves a free threshold unidentified (e.g. per-group
        thresholds of a group that never used category 1), or more free parameters than the
        cells determine category probabilities (Σ_cells (K − 1)), a model that cannot be
        identified.
    """
    if family not in _FAMILY_CODES:
        raise ValueError(f"family must be one of {ADAPTIVE_FAMILIES}, got {family!r}")
    if thresholds not in THRESHOLD_MODES:
        raise ValueError(f"thresholds must be one of {THRESHOLD_MODES}, got {thresholds!r}")
    if lapse not in LAPSE_MODES:
        raise ValueError(f"lapse must be one of {LAPSE_MODES}, got {lapse!r}")
    if scale not in SCALE_MODES:
        raise ValueError(f"scale must be one of {SCALE_MODES}, got {scale!r}")
    if family in _UNIT and scale != "per-stimulus":
        raise ValueError(
            f"scale={scale!r}: the {family} latent has two shape parameters per stimulus and no "
            "scale to share (its spread is tied to its mean); use scale='per-stimulus', or a "
            "location-scale family (normal, logistic, logit-logistic) for a common scale"
        )
    if family in _UNIT and lapse is not None:
        raise ValueError(
            f"lapse={lapse!r}: the {family} latent's adaptive fit has no lapse (its stimuli in "
            "one category or two adjacent ones are solved as exact limits, which hold only "
            "without one); use lapse=None, or a location-scale family (normal, logistic, "
            "logit-logistic) for a lapse"
        )
    return _fit(_study(counts, groups, stimuli), family, thresholds, lapse, scale, fixed=False)


def _unit_pins(study: _Study, family: str, pinned: NDArray[np.bool_], T: int):
    """Pins of the beta and Kumaraswamy models (into ``pinned``), the rule and the groups
    identified only under it: τ_1 = 1/K and τ_{K−1} = (K − 1)/K of every threshold set.

    Kumaraswamy: X ~ Kum(a, b) gives X^c ~ Kum(a/c, b), so (a, τ) → (a/c, τ^c) leaves every
    category probability unchanged (an exact invariance: one pin is needed). Beyond it, as
    a → 0 the law of log(−log X) tends to a location-scale family (S = (a·(−log x))^b), whose
    affine invariance has a second direction: with one pin the supremum lies at τ_1 → 0 and
    τ_{K−1} → 1 (VQEG-HDTV and synthetic studies). Beta: no exact invariance, but its cdf is a
    power law near 0 and 1 (I_x(a, b) ~ x^a/(a·B(a, b))), and with all thresholds free the
    supremum again lies at τ_1 → 0. Both are therefore only weakly identified without the two
    outer pins, which remove these directions.
    """
    K = study.K
    pinned[:, [0, K - 2]] = True
    rule = (
        f"Thresholds ordered 0 < tau_1 < ... < tau_(K-1) < 1; tau_1 = 1/{K} and "
        f"tau_(K-1) = {K - 1}/{K} of every threshold set pinned, the interior ones free. "
        + ("Kumaraswamy: X^c ~ Kum(a/c, b) makes one pin necessary; the second blocks the "
           "a -> 0 regime, where log(-log X) becomes location-scale and the supremum lies at "
           "tau_1 -> 0, tau_(K-1) -> 1." if family == "kumaraswamy" else
           "Beta: no exact invariance, but the power-law tails of the cdf near 0 and 1 make "
           "the outer thresholds weakly identified (with them free the supremum lies at "
           "tau_1 -> 0); the pins remove this.")
    )
    return rule, []


def _unit_theta(family: str, study: _Study, pooled: NDArray, lo: NDArray, hi: NDArray,
                log_tref: float) -> NDArray[np.float64]:
    """Starts of the shape families' blocks: the per-stimulus fits at the reference thresholds
    (:func:`ratingdist.fit` of the pooled counts) in the solver coordinates, limits (a = b = ∞
    or 0) and members off the box moved into it."""
    from .families.quantized import _kumaraswamy_h
    from .fitting import fit as fit_reference

    tab = fit_reference(RatingCounts._new(np.arange(len(pooled)), pooled.astype(np.int64)),
                        family).table
    a = tab["a"].to_numpy(dtype=np.float64)
    b = tab["b"].to_numpy(dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0) & (a < 1e300) & (b < 1e300)
    la = np.log(np.where(ok, a, 1.0))
    lb = np.log(np.where(ok, b, 1.0))
    theta = np.column_stack([la, lb])
    if family == "kumaraswamy":
        theta[:, 1] = lb + _kumaraswamy_h(la, log_tref)
    return np.clip(theta, lo, hi)


def _fit(study: _Study, family, thresholds, lapse, scale, fixed) -> AdaptiveResult:
    K = study.K
    G = len(study.groups)
    n = len(study.ids)
    T = 1 if thresholds == "shared" else G
    tset_of_group = np.zeros(G, np.int64) if T == 1 else np.arange(G)
    L = 0 if lapse is None else (1 if lapse == "shared" else G)
    lset_of_group = np.zeros(G, np.int64) if L <= 1 else np.arange(G)
    common = scale == "common"
    ref = _reference_axis(family, K)
    logit_axis = family in _LOGIT_AXIS
    lo_txt, hi_txt = (f"1/{K}", f"{K - 1}/{K}") if logit_axis else ("1.5", f"{K - 0.5}")
    # identification: pins
    pinned = np.zeros((T, K - 1), bool)
    by_rule: list = []
    unit = family in _UNIT
    if fixed:
        pinned[:] = True
        rule = ("All thresholds fixed at the reference values "
                + ("k/K on [0, 1]." if logit_axis or unit else "k + 1/2."))
    elif unit:
        rule, by_rule = _unit_pins(study, family, pinned, T)
    else:
        pinned[tset_of_group[0], [0, K - 2]] = True
        ref_name = "all groups" if T == 1 else f"the reference group {_label(study.groups[0])!r}"
        rule = (
            f"Thresholds ordered tau_1 < ... < tau_(K-1); {ref_name} has tau_1 = {lo_txt} and "
            f"tau_(K-1) = {hi_txt} pinned (the reference values); interior thresholds and those "
            "of the other groups are free (each iterate kept strictly ordered, the maximum of the "
            "parameterization tau_1 + cumulative sums of exp(delta))."
            + (" Fitted on the logit axis logit(tau), where the latent is logistic." if logit_axis
               else "")
        )
        if T > 1:
            comp = _components(study)
            for root in sorted(set(comp.tolist()) - {comp[0]}):
                g = int(root)
                pinned[g, 0] = True
                if not common:
                    pinned[g, K - 2] = True
                by_rule.extend(_label(x) for x in study.groups[comp == root])
            if by_rule:
                which = "tau_1" if common else "tau_1 and tau_(K-1)"
                rule += (
                    f" Groups {by_rule} share no stimulus with the reference group: their "
                    "thresholds are identified only under the rule that the first group of each "
                    f"such set has {which} pinned at the reference values too (the data say "
                    "nothing about their shift" + ("" if common else " or stretch") + ")."
                )
    # unused categories leave free thresholds unidentified
    cell_tset = tset_of_group[study.cell_group]
    for t in range(T):
        used = study.counts[cell_tset == t].sum(axis=0) > 0
        for k in range(K):
            if used[k]:
                continue
            bad = (0 < k < K - 1 and not (pinned[t, k - 1] and pinned[t, k])) or (
                (k == 0 and not pinned[t, 0]) or (k == K - 1 and not pinned[t, K - 2])
            )
            if bad:
                if T == 1:
                    raise ValueError(
                        f"the study has no rating in category {k + 1}: its thresholds are not "
                        "identified (merge that category with a neighbour, or fit at the "
                        "reference thresholds with rd.fit)"
                    )
                raise ValueError(
                    f"group {_label(study.groups[t])!r} has no rating in category {k + 1}: its "
                    "thresholds are not identified (pool the groups with thresholds='shared')"
                )
    # shared coordinates
    tau_idx = np.full((T, K - 1), -1, np.int64)
    P = 0
    for t in range(T):
        for i in range(K - 1):
            if not pinned[t, i]:
                tau_idx[t, i] = P
                P += 1
    names = [f"tau[{('all' if T == 1 else _label(study.groups[t]))},{i + 1}]"
             for t in range(T) for i in range(K - 1) if not pinned[t, i]]
    lam_idx = np.arange(P, P + L, dtype=np.int64)
    P += L
    names += ["lapse[all]"] if L == 1 else [f"lapse[{_label(g)}]" for g in study.groups[:L]]
    rho_idx = -1
    if common:
        rho_idx = P
        P += 1
        names.append("log_sigma")
    # stimuli: starts and the σ → ∞ limits (ratings only in 1 and K, no lapse)
    c = study.counts.astype(np.float64)
    pooled = np.zeros((n, K))
    np.add.at(pooled, study.cell_stim, c)
    nz = pooled > 0
    ext = (nz[:, 0] & nz[:, K - 1] & (nz.sum(axis=1) == 2)) & (lapse is None) & (not common)
    split = pooled[:, 0] / pooled.sum(axis=1)
    limit_nll = np.zeros(n)
    limit_mu = np.zeros(n)
    if ext.any():
        cj = c[ext[study.cell_stim]]
        sj = split[study.cell_stim][ext[study.cell_stim]]
        per_cell = _likelihood.nll(cj[:, [0, K - 1]], np.column_stack([sj, 1.0 - sj]))
        np.add.at(limit_nll, study.cell_stim[ext[study.cell_stim]], per_cell)
        mid = 0.5 * (ref[0] + ref[-1])
        limit_mu = np.where(split < 0.5, np.inf, np.where(split > 0.5, -np.inf, mid))
    spread = ext.copy()
    limit_probs = pooled / pooled.sum(axis=1, keepdims=True)
    if unit and lapse is None:
        # ratings in one category or two adjacent ones, every cell on the same thresholds: the
        # supremum is the concentrated limit a, b → ∞ at the empirical split, whatever the
        # thresholds (as rd.fit's limits); such a stimulus is left out of the joint solve
        first = nz.argmax(axis=1)
        last = K - 1 - nz[:, ::-1].argmax(axis=1)
        tsets = np.zeros(n, np.int64)
        np.maximum.at(tsets, study.cell_stim, cell_tset)
        lows = np.full(n, T, np.int64)
        np.minimum.at(lows, study.cell_stim, cell_tset)
        narrow = (last - first <= 1) & (tsets == lows)
        cells = narrow[study.cell_stim]
        np.add.at(limit_nll, study.cell_stim[cells],
                  _likelihood.nll(c[cells], limit_probs[study.cell_stim[cells]]))
        ext = ext | narrow
    # starts from the moments of the category centres on the fitting axis
    centres = special.logit((np.arange(1, K + 1) - 0.5) / K) if logit_axis else np.arange(1, K + 1)
    mean = (pooled * centres).sum(axis=1) / pooled.sum(axis=1)
    var = (pooled * (centres - mean[:, None]) ** 2).sum(axis=1) / pooled.sum(axis=1)
    theta = np.column_stack([mean, np.log(np.maximum(np.sqrt(var), 0.3))])
    ptr = np.zeros(n + 1, np.int64)
    ptr[1:] = np.cumsum(np.bincount(study.cell_stim, minlength=n))
    log_tref = float(np.log(((K - 1) // 2 + 1) / K))
    if unit:
        box_lo, box_hi = _UNIT_BOX[family]
        theta = _unit_theta(family, study, pooled, box_lo, box_hi, log_tref)
    problem = {
        "fam": _FAMILY_CODES[family], "active": ~ext, "ptr": ptr, "counts": c,
        "cell_tset": cell_tset,
        "cell_lset": lset_of_group[study.cell_group] if L else np.zeros(len(c), np.int64),
        "lapse": L > 0, "common": common, "tau_idx": tau_idx, "lam_idx": lam_idx,
        "rho_idx": rho_idx, "P": P, "K": K, "limit_nll": limit_nll, "limit_mu": limit_mu,
        "limit_split": split, "spread": spread, "limit_probs": limit_probs,
    }
    if unit:
        problem.update(unit=True, lo=box_lo, hi=box_hi, log_tref=log_tref)
    n_free = 2 * n if not common else n + 1
    n_free += P - (1 if common else 0) - 2 * int(ext.sum())
    n_data = len(c) * (K - 1)
    if n_free > n_data:
        raise ValueError(
            f"the model has {n_free} free parameters but the {len(c)} group-stimulus cells "
            f"determine only {n_data} category probabilities: the parameters are not "
            "identified (use thresholds='shared', lapse=None or scale='common', or add stimuli)"
        )
    tau0 = np.tile(ref, (T, 1))
    lam0 = np.zeros(L)
    ls0 = float(np.log(max(np.sqrt(np.average(var, weights=pooled.sum(axis=1))), 0.3)))
    fit = joint.solve(problem, theta, tau0, lam0, ls0)
    return AdaptiveResult(study, family, thresholds, lapse, scale, fixed, fit, problem, pinned,
                          names, rule, by_rule)
