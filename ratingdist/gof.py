"""Goodness of fit: likelihoods, the G-test with asymptotic and bootstrap p-values, AIC/BIC,
and the consistency check of a whole study.

References
----------
Saupe, Rusek, Hägele, Weiskopf, Janowski, IEEE Signal Processing Letters 31 (2024) (NLL, G,
dataset AIC/BIC). Nawała, Janowski, Ćmiel, Rusek, "Describing subjective experiment consistency
by p-value P–P plot", ACM Multimedia 2020 (bootstrap G-test, P–P plot, consistency bound).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from ._likelihood import aic, bic, g_statistic, g_test_pvalue, least_spread_support, nll
from .fitting import FitResult, fit

__all__ = [
    "aic",
    "bic",
    "bootstrap_pvalue",
    "consistency",
    "g_statistic",
    "g_test_pvalue",
    "least_spread_support",
    "nll",
]


def bootstrap_pvalue(
    result: FitResult,
    n_boot: int = 1000,
    seed: int | np.random.Generator | None = 0,
    chunk_size: int = 200_000,
) -> NDArray[np.float64]:
    """Parametric-bootstrap p-value of the G-test, one per stimulus.

    For each stimulus draw ``n_boot`` multinomial samples of its size from the fitted pmf,
    refit the family to each (same bounds and regularization), and return the share of
    bootstrap G statistics ≥ the observed G. Stimuli with one non-zero category, or two
    neighbouring ones, get p = 1 (Nawała et al. 2020).

    Parameters
    ----------
    result : a :class:`~ratingdist.fitting.FitResult`.
    n_boot : number of bootstrap samples R per stimulus; the p-value has resolution 1/R.
    seed : seed or Generator; the same seed gives the same p-values.
    chunk_size : bootstrap samples refitted per batch (bounds memory).

    Examples
    --------
    >>> import ratingdist as rd
    >>> res = rd.fit([[5, 13, 6, 0, 0]], "gsd")
    >>> p = rd.gof.bootstrap_pvalue(res, n_boot=200, seed=1)
    >>> bool(0.05 < p[0] < 0.4)
    True
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot!r}")
    rng = np.random.default_rng(seed)
    counts = result.counts.counts
    n_ratings = result.counts.n_ratings
    probs = result.probs / result.probs.sum(axis=1, keepdims=True)
    observed = result.g
    exceed = np.zeros(len(counts), dtype=np.int64)
    options = {
        "bounds": result.bounds,
        "pseudo_counts": result.pseudo_counts,
        "prob_floor": result.prob_floor,
    }
    per_chunk = max(1, chunk_size // n_boot)
    for start in range(0, len(counts), per_chunk):
        stop = min(start + per_chunk, len(counts))
        n_rep = np.repeat(n_ratings[start:stop], n_boot)
        p_rep = np.repeat(probs[start:stop], n_boot, axis=0)
        samples = rng.multinomial(n_rep, p_rep)
        g_boot = fit(samples, result.family, **options).g.reshape(stop - start, n_boot)
        # compare with a relative tolerance so that ties in G count as exceedances
        threshold = observed[start:stop, None] * (1 - 1e-9) - 1e-12
        exceed[start:stop] = (g_boot >= threshold).sum(axis=1)
    p = exceed / n_boot
    p[least_spread_support(counts)] = 1.0
    return p


def consistency(
    p_values: ArrayLike, alpha: float = 0.2, levels: ArrayLike | None = None, z: float = 1.645
) -> tuple[pd.DataFrame, pd.Series]:
    """Study consistency from per-stimulus G-test p-values (Nawała et al. 2020).

    Under a consistent study the share of stimuli with p < α is at most α up to chance; the
    one-sided binomial bound is α + z·√(α(1 − α)/n).

    Returns
    -------
    pp : DataFrame with columns alpha, share (share of p-values ≤ alpha) and bound, over
        ``levels`` (default 0.001..0.2) — the data of the P–P plot.
    verdict : Series with n, alpha, share_below (p < α), bound, z_score, p_value (of the
        binomial test 1 − Φ(z)) and consistent (share_below ≤ bound).
    """
    p = np.asarray(p_values, dtype=np.float64)
    p = p[np.isfinite(p)]
    n = len(p)
    if n == 0:
        raise ValueError("no finite p-values to judge")
    grid = np.linspace(0.001, 0.2, 200) if levels is None else np.asarray(levels, float)
    pp = pd.DataFrame(
        {
            "alpha": grid,
            "share": (p[None, :] <= grid[:, None]).mean(axis=1),
            "bound": grid + z * np.sqrt(grid * (1 - grid) / n),
        }
    )
    share = float(np.mean(p < alpha))
    bound = alpha + z * np.sqrt(alpha * (1 - alpha) / n)
    z_score = (share * n - n * alpha) / np.sqrt(n * alpha * (1 - alpha))
    verdict = pd.Series(
        {
            "n": n,
            "alpha": alpha,
            "share_below": share,
            "bound": bound,
            "z_score": z_score,
            "p_value": float(stats.norm.sf(z_score)),
            "consistent": share <= bound,
        }
    )
    return pp, verdict
