"""Predicting unseen ratings: the held-out-ratings experiment of the reference study.

For every stimulus the ratings are split at random, without replacement, into a train part of
``train_size`` ratings and a test part (the train counts are multivariate hypergeometric). Each
predictor turns the train counts into a pmf q, which is scored by the mean negative
log-likelihood per test rating

    NLL = −(1/N_test) Σ_k c_test,k log q_k

(lower is better; exp(−NLL) is the geometric-mean likelihood of a test rating). Predictors:

- every family with each of the methods

  - ``"mle"``: the maximum-likelihood fit of the train counts;
  - ``"prob_floor"``: that fit with every probability raised to at least ε,
    (1 − Kε)·q + ε (``rd.fit(..., prob_floor=ε)``);
  - ``"pseudo_counts"``: the fit of the train counts plus α₀ in every category
    (``rd.fit(..., pseudo_counts=α₀)``);
  - ``"posterior"``: the posterior-predictive pmf under a uniform prior on the family's
    members (:func:`~ratingdist.evaluation.posterior.posterior_predictive`);

- with ``learned_thresholds=True``, for the normal and logistic families: the same two
  maximum-likelihood predictors (``"learned-mle"``, ``"learned-prob_floor"``) of the adaptive
  model whose category thresholds are learned, by joint maximum likelihood over all stimuli,
  from the train ratings only (:func:`~ratingdist.adaptive.fit_adaptive`,
  ``thresholds="shared"``; the outer thresholds pinned at 1.5 and K − 0.5);

- baselines: the empirical train distribution with the floor ε (``"empirical"``), add-α
  smoothing (c + α)/(N + Kα) with the given α (``"add-0.5"`` by default), and add-α with the α
  that is best in hindsight, i.e. that minimizes the mean test NLL of that train size over all
  stimuli and repeats (``"add-best"``).

A maximum-likelihood fit of a panel in one or two adjacent categories is the limit pmf on those
categories; a test rating elsewhere has probability 0 and an infinite NLL. The summary reports
the share of such stimuli and the mean geometric-mean likelihood, which stays finite.

References
----------
Saupe, Rusek, Hägele, Weiskopf, Janowski, "Maximum entropy and quantized metric models for
absolute category ratings", IEEE Signal Processing Letters 31 (2024) 2970–2974.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

from .. import gof
from .._kernels.split import split_counts as _split_kernel
from ..adaptive import ADAPTIVE_FAMILIES, fit_adaptive
from ..data import RatingCounts
from ..families import FAMILIES, Family, family
from ..fitting import as_counts, fit
from .posterior import Prior, posterior_predictive

#: Methods of turning a family into a predictor (see the module docstring).
METHODS: tuple[str, ...] = ("mle", "prob_floor", "pseudo_counts", "posterior")
#: Range of α searched for the best-in-hindsight add-α smoothing.
_ALPHA_RANGE = (1e-3, 1e2)


def _key(seed: int, train_size: int) -> np.uint64:
    """64-bit stream key of one (seed, train size) pair."""
    return np.random.SeedSequence([int(seed), int(train_size)]).generate_state(1, np.uint64)[0]


def _check_size(train_size: int) -> int:
    if isinstance(train_size, bool) or not float(train_size).is_integer() or train_size < 1:
        raise ValueError(f"train sizes must be whole numbers >= 1, got {train_size!r}")
    return int(train_size)


def split_counts(
    counts: RatingCounts | ArrayLike, train_size: int, *, seed: int = 0, repeat: int = 0
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Split each stimulus' ratings at random into train and test counts.

    ``train_size`` of the N ratings of a stimulus are drawn without replacement (all of them
    when N ≤ ``train_size``); the train counts are multivariate hypergeometric. The split is a
    function of (seed, train_size, repeat, stimulus position) only, the same on any number of
    threads.

    Returns
    -------
    train, test : (n, K) int64 counts with train + test = counts.

    Examples
    --------
    >>> import ratingdist as rd
    >>> train, test = rd.evaluation.split_counts([[0, 3, 10, 8, 3]], 10, seed=1)
    >>> int(train.sum()), (train + test).tolist()
    (10, [[0, 3, 10, 8, 3]])
    """
    c = as_counts(counts).counts
    size = _check_size(train_size)
    if isinstance(repeat, bool) or not float(repeat).is_integer() or repeat < 0:
        raise ValueError(f"repeat must be a whole number >= 0, got {repeat!r}")
    train = _split_kernel(np.ascontiguousarray(c), size, _key(seed, size), int(repeat))
    return train, c - train


def add_alpha(counts: ArrayLike, alpha: float) -> NDArray[np.float64]:
    """Add-α (Lidstone) smoothing (c_k + α)/(N + Kα) of rows of counts."""
    c = np.asarray(counts, dtype=np.float64)
    return (c + alpha) / (c.sum(axis=-1, keepdims=True) + alpha * c.shape[-1])


def floored(probs: NDArray[np.float64], eps: float) -> NDArray[np.float64]:
    """(1 − Kε)·q + ε: every probability at least ε."""
    return (1.0 - probs.shape[-1] * eps) * probs + eps


def heldout_nll(test: NDArray, probs: NDArray[np.float64]) -> NDArray[np.float64]:
    """Mean NLL per test rating −(1/N_test) Σ_k c_k log q_k of each row (+inf for q_k = 0)."""
    return gof.nll(test, probs) / test.sum(axis=1)


class PredictiveExperiment:
    """Result of :func:`predictive_experiment`.

    Attributes
    ----------
    ids : (n,) stimulus ids.
    train_sizes : the train sizes, in order.
    predictors : DataFrame with columns predictor, family (None for baselines), method.
    nll : (n_sizes, repeats, n, n_predictors) test NLL per rating; NaN where a stimulus has no
        test rating at that train size (N ≤ train size).
    best_alpha : (n_sizes,) the add-α of the ``"add-best"`` baseline per train size.
    settings : the options of the run.
    """

    def __init__(self, ids, train_sizes, predictors, nll, best_alpha, settings):
        self.ids = ids
        self.train_sizes = tuple(train_sizes)
        self.predictors = predictors
        self.nll = nll
        self.best_alpha = best_alpha
        self.settings = settings

    def __repr__(self) -> str:
        return (
            f"PredictiveExperiment(n={len(self.ids)}, train_sizes={list(self.train_sizes)}, "
            f"repeats={self.nll.shape[1]}, predictors={len(self.predictors)})"
        )

    def _per_stimulus(self) -> tuple[NDArray, NDArray, NDArray]:
        """Per (size, stimulus, predictor): mean NLL, mean likelihood, share infinite."""
        with np.errstate(invalid="ignore"):
            nll = self.nll.mean(axis=1)
            likelihood = np.exp(-self.nll).mean(axis=1)
            infinite = np.isinf(self.nll).mean(axis=1)
        return nll, likelihood, infinite

    @property
    def table(self) -> pd.DataFrame:
        """Tidy per-stimulus table, one row per (train size, stimulus, predictor).

        Columns: train_size, id, predictor, family, method, nll (test NLL per rating, mean
        over repeats), likelihood (mean over repeats of exp(−nll)), share_infinite (share of
        repeats with an infinite NLL). Stimuli without test ratings at a size are left out.
        """
        nll, likelihood, infinite = self._per_stimulus()
        frames = []
        n_pred = nll.shape[2]
        for s, size in enumerate(self.train_sizes):
            keep = ~np.isnan(nll[s, :, 0])
            m = int(keep.sum())
            frame = pd.DataFrame(
                {
                    "train_size": size,
                    "id": np.repeat(self.ids[keep], n_pred),
                    "predictor": np.tile(self.predictors["predictor"].to_numpy(), m),
                    "family": np.tile(self.predictors["family"].to_numpy(), m),
                    "method": np.tile(self.predictors["method"].to_numpy(), m),
                    "nll": nll[s, keep].ravel(),
                    "likelihood": likelihood[s, keep].ravel(),
                    "share_infinite": infinite[s, keep].ravel(),
                }
            )
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    @property
    def summary(self) -> pd.DataFrame:
        """One row per (train size, predictor).

        Columns: train_size, predictor, family, method, n_stimuli, mean_nll (mean over stimuli
        of the per-stimulus test NLL, each averaged over repeats; inf if any is infinite), se
        (its standard error over stimuli), mean_likelihood, share_infinite (share of the
        (stimulus, repeat) splits with an infinite NLL), delta_add_half / se_delta_add_half and
        delta_add_best / se_delta_add_best (paired mean differences of the NLL to the add-α
        baseline and to the best-in-hindsight add-α, with standard errors; negative = better),
        alpha (the α of the add-α rows).
        """
        nll, likelihood, infinite = self._per_stimulus()
        names = list(self.predictors["predictor"])
        half = names.index(self.settings["alpha_name"])
        best = names.index("add-best")
        rows = []
        for s, size in enumerate(self.train_sizes):
            keep = ~np.isnan(nll[s, :, 0])
            x = nll[s, keep]
            n = len(x)
            for j, row in self.predictors.iterrows():
                alpha = {half: self.settings["alpha"], best: self.best_alpha[s]}.get(j, np.nan)
                rows.append(
                    {
                        "train_size": size,
                        "predictor": row["predictor"],
                        "family": row["family"],
                        "method": row["method"],
                        "n_stimuli": n,
                        "mean_nll": x[:, j].mean(),
                        "se": _se(x[:, j]),
                        "mean_likelihood": likelihood[s, keep, j].mean(),
                        "share_infinite": float(infinite[s, keep, j].mean()),
                        "delta_add_half": (x[:, j] - x[:, half]).mean(),
                        "se_delta_add_half": _se(x[:, j] - x[:, half]),
                        "delta_add_best": (x[:, j] - x[:, best]).mean(),
                        "se_delta_add_best": _se(x[:, j] - x[:, best]),
                        "alpha": alpha,
                    }
                )
        return pd.DataFrame(rows)

    def paired(self, predictor: str, baseline: str) -> pd.DataFrame:
        """Paired comparison of two predictors per train size: Δ = mean over stimuli of
        NLL(predictor) − NLL(baseline) (each stimulus' NLL averaged over repeats; negative:
        the predictor is better) with its standard error over stimuli.

        Columns: train_size, predictor, baseline, n_stimuli, delta, se, z (= delta / se).
        """
        names = list(self.predictors["predictor"])
        for name in (predictor, baseline):
            if name not in names:
                raise ValueError(f"unknown predictor {name!r}; the experiment has {names}")
        a, b = names.index(predictor), names.index(baseline)
        nll = self._per_stimulus()[0]
        rows = []
        for s, size in enumerate(self.train_sizes):
            keep = ~np.isnan(nll[s, :, 0])
            with np.errstate(invalid="ignore"):
                d = nll[s, keep, a] - nll[s, keep, b]
            se = _se(d)
            delta = float(d.mean()) if len(d) else float("nan")
            rows.append({
                "train_size": size, "predictor": predictor, "baseline": baseline,
                "n_stimuli": int(keep.sum()), "delta": delta, "se": se,
                "z": delta / se if np.isfinite(se) and se > 0 else float("nan"),
            })
        return pd.DataFrame(rows)

    def best(self) -> pd.DataFrame:
        """Per train size: the best family predictor (lowest mean NLL) against the baselines.

        Columns: train_size, best_predictor, best_nll, se, add_half_nll, add_best_nll,
        best_alpha, empirical_nll, delta_add_half, se_delta_add_half, delta_add_best,
        se_delta_add_best, beats_add_half, beats_add_best (the difference is negative by more
        than two standard errors).
        """
        summary = self.summary
        out = []
        for size, part in summary.groupby("train_size", sort=False):
            models = part[part["family"].notna()]
            top = models.loc[models["mean_nll"].idxmin()]
            by_name = part.set_index("predictor")
            out.append(
                {
                    "train_size": size,
                    "best_predictor": top["predictor"],
                    "best_nll": top["mean_nll"],
                    "se": top["se"],
                    "add_half_nll": by_name.loc[self.settings["alpha_name"], "mean_nll"],
                    "add_best_nll": by_name.loc["add-best", "mean_nll"],
                    "best_alpha": by_name.loc["add-best", "alpha"],
                    "empirical_nll": by_name.loc["empirical", "mean_nll"],
                    "delta_add_half": top["delta_add_half"],
                    "se_delta_add_half": top["se_delta_add_half"],
                    "delta_add_best": top["delta_add_best"],
                    "se_delta_add_best": top["se_delta_add_best"],
                    "beats_add_half": top["delta_add_half"] + 2 * top["se_delta_add_half"] < 0,
                    "beats_add_best": top["delta_add_best"] + 2 * top["se_delta_add_best"] < 0,
                }
            )
        return pd.DataFrame(out)


def _se(x: NDArray[np.float64]) -> float:
    """Standard error of the mean; inf for fewer than two values or where some value is
    infinite (the mean is then infinite too, or undetermined)."""
    if len(x) < 2 or not np.all(np.isfinite(x)):
        return float("inf")
    return float(x.std(ddof=1) / np.sqrt(len(x)))


def _predictor_table(
    names: Sequence[str], methods: Sequence[str], alpha_name: str,
    learned: Sequence[tuple[str, str]] = (),
) -> pd.DataFrame:
    rows = [
        ("empirical", None, "empirical"),
        (alpha_name, None, "add-alpha"),
        ("add-best", None, "add-alpha"),
    ]
    rows += [(f"{name}/{method}", name, method) for name in names for method in methods]
    rows += [(f"{name}/learned-{method}", name, f"learned-{method}") for name, method in learned]
    return pd.DataFrame(rows, columns=["predictor", "family", "method"])


def _learned_predictors(fams: Sequence[Family], methods: Sequence[str]) -> list[tuple[str, str]]:
    """(family, method) of the learned-threshold predictors, in table order."""
    names = [f.name for f in fams if f.name in ADAPTIVE_FAMILIES]
    if not names:
        raise ValueError(
            f"learned_thresholds needs one of the families {ADAPTIVE_FAMILIES}, got "
            f"{[f.name for f in fams]}"
        )
    chosen = [m for m in ("mle", "prob_floor") if m in methods]
    if not chosen:
        raise ValueError("learned_thresholds needs the method 'mle' or 'prob_floor'")
    return [(name, m) for name in names for m in chosen]


def _family_predictions(
    fam: Family, train: NDArray, methods: Sequence[str], options: dict
) -> dict[str, NDArray[np.float64]]:
    """pmfs of one family per method for rows of train counts (fitted once per distinct row)."""
    unique, inverse = np.unique(train, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    out: dict[str, NDArray[np.float64]] = {}
    if "mle" in methods or "prob_floor" in methods:
        mle = fit(unique, fam).probs
        out["mle"] = mle
        out["prob_floor"] = floored(mle, options["prob_floor"])
    if "pseudo_counts" in methods:
        out["pseudo_counts"] = fit(unique, fam, pseudo_counts=options["pseudo_counts"]).probs
    if "posterior" in methods:
        out["posterior"] = posterior_predictive(unique, fam, prior=options["prior"])
    return {method: out[method][inverse] for method in methods}


def _best_alpha(trains: list[NDArray], tests: list[NDArray]) -> float:
    """The α minimizing the mean test NLL of add-α smoothing over the given splits."""
    train, test = np.vstack(trains), np.vstack(tests)

    def mean_nll(log_alpha: float) -> float:
        return float(heldout_nll(test, add_alpha(train, np.exp(log_alpha))).mean())

    lo, hi = np.log(_ALPHA_RANGE)
    res = optimize.minimize_scalar(mean_nll, bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-6})
    return float(np.exp(res.x))


def _check_options(methods, prob_floor, pseudo_counts, empirical_floor, alpha, K):
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(f"methods must be a non-empty subset of {METHODS}, got {methods!r}")
    for name, value in (("prob_floor", prob_floor), ("empirical_floor", empirical_floor)):
        if not (np.isfinite(value) and 0 < value < 1 / K):
            raise ValueError(f"{name} must lie in (0, 1/K) = (0, {1 / K:.4g}), got {value!r}")
    for name, value in (("pseudo_counts", pseudo_counts), ("alpha", alpha)):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be > 0, got {value!r}")


def predictive_experiment(
    counts: RatingCounts | ArrayLike,
    families: Iterable[str | Family] | None = None,
    train_sizes: Iterable[int] = (5, 10, 20),
    repeats: int = 10,
    seed: int = 0,
    *,
    methods: Sequence[str] = METHODS,
    prob_floor: float = 1e-3,
    pseudo_counts: float = 0.5,
    empirical_floor: float = 1e-3,
    alpha: float = 0.5,
    prior: Prior | None = None,
    learned_thresholds: bool = False,
    progress: bool | None = False,
) -> PredictiveExperiment:
    """Predict held-out ratings from random train subsets of every stimulus' ratings.

    See the module docstring for the splits, the predictors and the score.

    Parameters
    ----------
    counts : RatingCounts, or an (n, K) array of rating counts.
    families : families to evaluate (default: all of ``rd.FAMILIES``).
    train_sizes : numbers of train ratings per stimulus; a stimulus with at most that many
        ratings is left out at that size.
    repeats : random splits per train size.
    seed : the splits are a function of (seed, train size, repeat, stimulus position).
    methods : family predictors, a subset of :data:`METHODS`.
    prob_floor : ε of the ``"prob_floor"`` method.
    pseudo_counts : α₀ of the ``"pseudo_counts"`` method.
    empirical_floor : ε of the empirical baseline, (1 − Kε)·p̂ + ε.
    alpha : α of the add-α baseline (named ``"add-<alpha>"``).
    prior : prior density of the ``"posterior"`` method (default uniform in (ψ, ρ)).
    learned_thresholds : also the predictors with thresholds learned from the train ratings
        (``"<family>/learned-mle"``, ``"<family>/learned-prob_floor"``) for the normal and
        logistic families among ``families`` and the methods ``"mle"``/``"prob_floor"``
        among ``methods``; :meth:`PredictiveExperiment.paired` compares them with the
        reference thresholds.
    progress : a progress bar (``tqdm.auto``) over the (train size, repeat) splits on stderr:
        False (default) prints nothing, True shows it, None only where stderr is a terminal.

    Returns
    -------
    PredictiveExperiment, with ``summary``, ``best()`` and the tidy per-stimulus ``table``.

    Examples
    --------
    >>> import ratingdist as rd
    >>> counts = rd.family("normal").sample_counts([[3.2, 0.8]] * 50, 24, rng=0)
    >>> ex = rd.evaluation.predictive_experiment(counts, ["normal"], [5], repeats=2,
    ...                                          methods=["posterior"])
    >>> ex.best()[["train_size", "best_predictor", "beats_add_half"]].to_dict("records")
    [{'train_size': 5, 'best_predictor': 'normal/posterior', 'beats_add_half': True}]
    """
    rc = as_counts(counts)
    K = rc.K
    fams = [family(f) for f in (FAMILIES if families is None else families)]
    sizes = [_check_size(s) for s in train_sizes]
    if not sizes:
        raise ValueError("train_sizes must name at least one size")
    if isinstance(repeats, bool) or not float(repeats).is_integer() or repeats < 1:
        raise ValueError(f"repeats must be a whole number >= 1, got {repeats!r}")
    methods = list(methods)
    _check_options(methods, prob_floor, pseudo_counts, empirical_floor, alpha, K)
    alpha_name = f"add-{alpha:g}"
    learned = _learned_predictors(fams, methods) if learned_thresholds else []
    predictors = _predictor_table([f.name for f in fams], methods, alpha_name, learned)
    options = {"prob_floor": prob_floor, "pseudo_counts": pseudo_counts, "prior": prior}
    c = rc.counts
    n_ratings = rc.n_ratings
    nll = np.full((len(sizes), int(repeats), len(c), len(predictors)), np.nan)
    best_alpha = np.empty(len(sizes))
    runs = [(s, r) for s in range(len(sizes)) for r in range(int(repeats))]
    if progress is not False:
        from tqdm.auto import tqdm

        runs = tqdm(runs, desc="splits", unit="split",
                    disable=None if progress is None else not progress)
    trains: list[NDArray] = []
    tests: list[NDArray] = []
    for s, r in runs:
        size = sizes[s]
        rows = np.flatnonzero(n_ratings > size)
        if len(rows) == 0:
            raise ValueError(f"no stimulus has more than {size} ratings; lower the train size")
        train, test = split_counts(c[rows], size, seed=seed, repeat=r)
        trains.append(train)
        tests.append(test)
        out = nll[s, r]
        out[rows, 0] = heldout_nll(test, floored(train / size, empirical_floor))
        out[rows, 1] = heldout_nll(test, add_alpha(train, alpha))
        for f, fam in enumerate(fams):
            predictions = _family_predictions(fam, train, methods, options)
            for m, method in enumerate(methods):
                out[rows, 3 + f * len(methods) + m] = heldout_nll(test, predictions[method])
        first = 3 + len(fams) * len(methods)
        fitted: dict[str, NDArray] = {}
        for i, (name, method) in enumerate(learned):
            if name not in fitted:
                fitted[name] = fit_adaptive(train, name, thresholds="shared").cell_probs()
            probs = fitted[name] if method == "mle" else floored(fitted[name], prob_floor)
            out[rows, first + i] = heldout_nll(test, probs)
        if r == repeats - 1:
            best_alpha[s] = _best_alpha(trains, tests)
            for rep in range(int(repeats)):
                smoothed = add_alpha(trains[rep], best_alpha[s])
                nll[s, rep, rows, 2] = heldout_nll(tests[rep], smoothed)
            trains, tests = [], []
    settings = {
        "seed": seed,
        "methods": tuple(methods),
        "prob_floor": prob_floor,
        "pseudo_counts": pseudo_counts,
        "empirical_floor": empirical_floor,
        "alpha": alpha,
        "alpha_name": alpha_name,
        "prior": prior,
    }
    return PredictiveExperiment(rc.ids, sizes, predictors, nll, best_alpha, settings)
