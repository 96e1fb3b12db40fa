"""Cross-validation of rating models on hidden individual ratings.

Every rating of the study is put in one of ``folds`` folds at random (seeded); each fold in
turn is hidden, the models are fitted to the other ratings, and each hidden rating is scored
by −log P(rating | model, its stimulus, its subject). A hidden rating whose stimulus or subject
has no other rating cannot be predicted by every model and is left out (counted in
``n_skipped``).

Models
------
- ``"add-alpha"``: the stimulus' own rating frequencies with ½ added to every category,
  p_k = (n_k + ½)/(n + K/2);
- a family name of ``rd.FAMILIES`` (e.g. ``"logit-logistic"``): :func:`ratingdist.fit` per
  stimulus on the training counts with ``pseudo_counts=0.5`` (without them a category unseen
  in training often has probability 0, and the mean NLL is infinite), its pmf;
- ``"p910"`` (ITU-T P.910 Annex E) and ``"mle"`` (Li & Bampis, with content ambiguity where the
  study has contents): the Gaussian u ~ N(ψ_j + Δ_i, s²) scored on the rating's interval,
  P(k) = Φ((k + ½ − m)/s) − Φ((k − ½ − m)/s) with the tails folded into 1 and K
  (s floored at SCALE_FLOOR of :mod:`~ratingdist.subjects.quantized`);
- ``"quantized"``, or ``(label, {keyword arguments of subjects.fit})``: the quantized subject
  model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import special

from ratingdist.fitting import fit as fit_family
from ratingdist.ratings import Ratings
from ratingdist.subjects import quantized, standard


def _log_interval(m: NDArray[np.float64], s: NDArray[np.float64], k: NDArray[np.int64],
                  K: int) -> NDArray[np.float64]:
    """log P(k) of N(m, s²) on the interval (k − ½, k + ½), tails folded into 1 and K."""
    s = np.maximum(s, quantized.SCALE_FLOOR)
    hi = np.where(k >= K, np.inf, (k + 0.5 - m) / s)
    lo = np.where(k <= 1, -np.inf, (k - 0.5 - m) / s)
    # upper tail by symmetry where it is more accurate
    flip = lo > 0
    a = np.where(flip, -hi, lo)
    b = np.where(flip, -lo, hi)
    lb, la = special.log_ndtr(b), special.log_ndtr(a)
    with np.errstate(divide="ignore"):
        return lb + np.log1p(-np.exp(la - lb))


def _score(model: Any, train: Ratings, hidden: pd.DataFrame) -> NDArray[np.float64]:
    """−log P of each hidden rating under ``model`` fitted to ``train``."""
    K = train.K
    j = pd.Index(train.ids).get_indexer(hidden["stimulus"])
    i = pd.Index(train.subjects).get_indexer(hidden["subject"])
    k = hidden["rating"].to_numpy(dtype=np.int64)
    if isinstance(model, tuple):
        res = quantized.fit(train, **model[1])
        return -res.log_prob(hidden["stimulus"], hidden["subject"], k)
    if model == "quantized":
        res = quantized.fit(train)
        return -res.log_prob(hidden["stimulus"], hidden["subject"], k)
    if model == "add-alpha":
        c = train.counts().counts.astype(np.float64) + 0.5
        p = c / c.sum(axis=1, keepdims=True)
        return -np.log(p[j, k - 1])
    if model in ("p910", "mle"):
        if model == "p910":
            res = standard.p910(train)
            s = res.subjects["inconsistency"].to_numpy()[i]
        else:
            amb = train.contents is not None
            res = standard.mle(train, content_ambiguity=amb)
            v = res.subjects["inconsistency"].to_numpy()[i]
            if amb:
                codes = pd.Index(res.contents["id"]).get_indexer(train.contents[j])
                a = res.contents["ambiguity"].to_numpy()[codes]
            else:
                a = 0.0
            s = np.sqrt(v**2 + a**2)
        m = res.stimuli["quality"].to_numpy()[j] + res.subjects["bias"].to_numpy()[i]
        return -_log_interval(m, s, k, K)
    res = fit_family(train.counts(), model, pseudo_counts=0.5)
    return -np.log(np.asarray(res.probs)[j, k - 1])


def crossvalidate(
    ratings: Ratings,
    models: Sequence[Any],
    folds: int = 10,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean negative log-likelihood per hidden rating of each model (see the module).

    Parameters
    ----------
    ratings : Ratings
    models : model names, or ``(label, dict)`` for :func:`~ratingdist.subjects.fit` variants.
    folds : number of folds (≥ 2).
    seed : seed of the random fold assignment (numpy ``default_rng``).

    Returns
    -------
    DataFrame
        One row per model: ``model``, ``nll`` (mean −log P per hidden rating), ``se`` (its
        standard error, sd of the per-rating values / √n), ``n`` (ratings scored),
        ``n_skipped``.
    """
    if not isinstance(ratings, Ratings):
        raise TypeError(f"ratings must be ratingdist.Ratings, got {type(ratings).__name__}")
    if isinstance(folds, bool) or not float(folds).is_integer() or folds < 2:
        raise ValueError(f"folds must be a whole number >= 2, got {folds!r}")
    table = ratings.to_frame()
    N = len(table)
    fold = np.empty(N, dtype=np.int64)
    fold[np.random.default_rng(seed).permutation(N)] = np.arange(N) % folds
    scores: dict[str, list[NDArray[np.float64]]] = {_label(m): [] for m in models}
    skipped = 0
    for f in range(folds):
        hide = fold == f
        train_table = table[~hide]
        hidden = table[hide]
        known = (hidden["stimulus"].isin(train_table["stimulus"])
                 & hidden["subject"].isin(train_table["subject"]))
        skipped += int((~known).sum())
        hidden = hidden[known]
        train = Ratings.from_long(
            train_table, repetition="repetition" if "repetition" in table else None,
            content="content" if "content" in table else None, K=ratings.K)
        for m in models:
            scores[_label(m)].append(_score(m, train, hidden))
    rows = []
    for m in models:
        x = np.concatenate(scores[_label(m)])
        rows.append({"model": _label(m), "nll": float(np.mean(x)),
                     "se": float(np.std(x, ddof=1) / math.sqrt(x.size)), "n": int(x.size),
                     "n_skipped": skipped})
    return pd.DataFrame(rows)


def _label(model: Any) -> str:
    return str(model[0]) if isinstance(model, tuple) else str(model)
