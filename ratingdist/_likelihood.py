"""Likelihood statistics of rating counts under fitted probabilities, row by row: the NLL, the
G statistic and its asymptotic p-value, the dataset AIC/BIC.

:mod:`ratingdist.fitting` fills its tables with them; :mod:`ratingdist.gof`, which judges fits,
re-exports them next to the bootstrap p-value and the consistency check.

References
----------
Saupe, Rusek, Hägele, Weiskopf, Janowski, IEEE Signal Processing Letters 31 (2024) (NLL, G,
dataset AIC/BIC). Nawała, Janowski, Ćmiel, Rusek, "Describing subjective experiment consistency
by p-value P–P plot", ACM Multimedia 2020 (least-spread rows fit exactly).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats


def _log(probs: ArrayLike) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.asarray(probs, dtype=np.float64))


def nll(counts: ArrayLike, probs: ArrayLike) -> NDArray[np.float64]:
    """Negative log-likelihood −Σ_k c_k log p_k per row (multinomial coefficient dropped).

    Cells with c_k = 0 contribute nothing (0·log 0 = 0); a rating in a category of probability
    0 gives +inf.
    """
    return nll_from_logp(counts, _log(probs))


def nll_from_logp(counts: ArrayLike, logp: ArrayLike) -> NDArray[np.float64]:
    """:func:`nll` from log-probabilities: a probability below the smallest float (log p of,
    say, −1400) still gives its finite NLL."""
    c = np.asarray(counts, dtype=np.float64)
    lp = np.asarray(logp, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        terms = np.where(c > 0, -c * lp, 0.0)
    return terms.sum(axis=-1)


def g_statistic(counts: ArrayLike, probs: ArrayLike) -> NDArray[np.float64]:
    """G = 2 Σ_k c_k log(c_k/(N p_k)) per row (twice the GSD authors' statistic T)."""
    return g_from_logp(counts, _log(probs))


def log_proportions(counts: ArrayLike) -> NDArray[np.float64]:
    """log(c_k/N) per cell (−inf where c_k = 0), as log1p(−(N − c_k)/N) where c_k > N/2.

    N − c_k is exact for integer counts, so a category holding all but a few of 10¹⁰ ratings
    gets log(c_k/N) ≈ −1e-10 to full relative precision (log(c_k/N) itself would carry an
    absolute error of 1e-16, i.e. 1e-6 in c_k·log(c_k/N)).
    """
    c = np.asarray(counts, dtype=np.float64)
    n = c.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(2.0 * c > n, np.log1p(-(n - c) / n), np.log(c / n))


def g_from_logp(counts: ArrayLike, logp: ArrayLike) -> NDArray[np.float64]:
    """:func:`g_statistic` from log-probabilities (finite where p underflows but log p does not)."""
    c = np.asarray(counts, dtype=np.float64)
    lp = np.asarray(logp, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        terms = np.where(c > 0, c * (log_proportions(c) - lp), 0.0)
    return np.maximum(2.0 * terms.sum(axis=-1), 0.0)


def g_test_pvalue(g: ArrayLike, df: int) -> NDArray[np.float64]:
    """Asymptotic p-value P(χ²_df ≥ G); df = K − 1 − 2 for a two-parameter family.

    With df < 1 (K = 3) the asymptotic test does not exist and the p-value is NaN: use
    :func:`ratingdist.gof.bootstrap_pvalue`. For df = 2 (K = 5) the χ² survival function is
    exp(−G/2) in closed form (an order of magnitude faster than the incomplete gamma function).
    """
    g = np.asarray(g, dtype=np.float64)
    if df < 1:
        return np.full(g.shape, np.nan)
    if df == 2:
        return np.exp(-0.5 * g)
    return stats.chi2.sf(g, df)


def aic(total_nll: float, n_stimuli: int, n_params: int = 2) -> float:
    """Dataset AIC = 2·(n_params·n) + 2·Σ NLL (the reference study's definition)."""
    return 2.0 * n_params * n_stimuli + 2.0 * total_nll


def bic(total_nll: float, n_stimuli: int, n_params: int = 2) -> float:
    """Dataset BIC = (n_params·n)·ln n + 2·Σ NLL, n the number of stimuli (as in the study)."""
    return n_params * n_stimuli * np.log(n_stimuli) + 2.0 * total_nll


def least_spread_support(counts: NDArray) -> NDArray[np.bool_]:
    """Rows with one non-zero category or two neighbouring ones.

    Every family fits them exactly (their bootstrap p-value is 1, Nawała et al. 2020).
    """
    nonzero = np.asarray(counts) > 0
    n_nonzero = nonzero.sum(axis=1)
    first = nonzero.argmax(axis=1)
    last = nonzero.shape[1] - 1 - nonzero[:, ::-1].argmax(axis=1)
    return (n_nonzero == 1) | ((n_nonzero == 2) & (last - first == 1))
