"""Catalog of valid but adversarial rating-count stimuli for stress tests of the fitters.

:func:`make_catalog` draws ``n`` stimuli on a ``K``-point scale from ten classes in fixed shares
(:data:`CLASS_SHARES`). Every row is a valid stimulus: non-negative int64 counts with a positive
total that does not overflow int64.

======================  =====  =============================================================
class                   share  content
======================  =====  =============================================================
``single``              0.08   all ratings (1..200) in one category
``single_stray``        0.10   one category (1..200) plus one rating in any other category
                               (adjacent, two away or at the far end)
``two_adjacent``        0.08   two adjacent categories, each with 1..100 ratings
``two_adjacent_stray``  0.08   two adjacent categories plus one rating elsewhere
``extremes``            0.06   only categories 1 and K (1..100 ratings each)
``tiny``                0.08   1..3 ratings in total, uniform over the categories
``huge``                0.06   totals 1e6..1e18 (log-uniform), one category, two adjacent
                               categories or a Dirichlet pmf scaled to the total
``huge_stray``          0.06   a huge single category plus one stray rating elsewhere
``dirichlet``           0.20   Dirichlet-multinomial panels of 2..200 ratings, concentrations
                               log-uniform in [0.05, 50] per category
``ordinary``            0.20   multinomial panels of 10..100 ratings from a quantized normal
                               pmf (mu ~ U(1, K), sigma log-uniform in [0.3, 3], thresholds
                               k + 0.5)
======================  =====  =============================================================

The class sizes are ``round(share * n)`` with the remainder given to ``ordinary``; rows come in
class order (shuffle them where order matters). Generation is vectorized: 1e6 stimuli take
about two seconds.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

CLASS_SHARES: dict[str, float] = {
    "single": 0.08,
    "single_stray": 0.10,
    "two_adjacent": 0.08,
    "two_adjacent_stray": 0.08,
    "extremes": 0.06,
    "tiny": 0.08,
    "huge": 0.06,
    "huge_stray": 0.06,
    "dirichlet": 0.20,
    "ordinary": 0.20,
}


def _log_uniform_int(rng: np.random.Generator, low: float, high: float, size: int) -> np.ndarray:
    """Integers drawn log-uniformly from ``[low, high]``."""
    values = np.exp(rng.uniform(np.log(low), np.log(high + 1.0), size))
    return np.clip(np.floor(values), low, high).astype(np.int64)


def _stray_positions(rng: np.random.Generator, main: np.ndarray, K: int) -> np.ndarray:
    """A category other than ``main`` for every row, uniform over the other ``K - 1``."""
    return (main + rng.integers(1, K, main.size)) % K


def _dirichlet_pmf(rng: np.random.Generator, m: int, K: int) -> np.ndarray:
    """``(m, K)`` pmfs from Dirichlet laws with log-uniform concentrations in [0.05, 50]."""
    alpha = np.exp(rng.uniform(np.log(0.05), np.log(50.0), (m, K)))
    gamma = rng.gamma(alpha)
    total = gamma.sum(axis=1, keepdims=True)
    flat = total[:, 0] <= 0.0
    gamma[flat] = 1.0
    total[flat] = K
    return gamma / total


def _multinomial(rng: np.random.Generator, totals: np.ndarray, pmf: np.ndarray) -> np.ndarray:
    """Row-wise multinomial draws (``pmf`` renormalized in float64 against round-off)."""
    pmf = pmf / pmf.sum(axis=1, keepdims=True)
    return rng.multinomial(totals, pmf).astype(np.int64)


def _make_class(name: str, m: int, K: int, rng: np.random.Generator) -> np.ndarray:
    counts = np.zeros((m, K), dtype=np.int64)
    rows = np.arange(m)
    if name in ("single", "single_stray"):
        main = rng.integers(0, K, m)
        counts[rows, main] = _log_uniform_int(rng, 1, 200, m)
        if name == "single_stray":
            counts[rows, _stray_positions(rng, main, K)] += 1
    elif name in ("two_adjacent", "two_adjacent_stray"):
        low = rng.integers(0, K - 1, m)
        counts[rows, low] = _log_uniform_int(rng, 1, 100, m)
        counts[rows, low + 1] = _log_uniform_int(rng, 1, 100, m)
        if name == "two_adjacent_stray":
            stray = (low + 2 + rng.integers(0, K - 2, m)) % K
            counts[rows, stray] += 1
    elif name == "extremes":
        counts[:, 0] = _log_uniform_int(rng, 1, 100, m)
        counts[:, K - 1] = _log_uniform_int(rng, 1, 100, m)
    elif name == "tiny":
        counts = _multinomial(rng, rng.integers(1, 4, m), np.full((m, K), 1.0 / K))
    elif name in ("huge", "huge_stray"):
        totals = 10.0 ** rng.uniform(6.0, 18.0, m)
        if name == "huge_stray":
            main = rng.integers(0, K, m)
            counts[rows, main] = np.floor(totals).astype(np.int64)
            counts[rows, _stray_positions(rng, main, K)] += 1
        else:
            kind = rng.integers(0, 3, m)
            pmf = _dirichlet_pmf(rng, m, K)
            low = rng.integers(0, K - 1, m)
            share = rng.uniform(0.05, 0.95, m)
            adjacent = kind == 1
            pmf[adjacent] = 0.0
            pmf[rows[adjacent], low[adjacent]] = share[adjacent]
            pmf[rows[adjacent], low[adjacent] + 1] = 1.0 - share[adjacent]
            single = kind == 0
            pmf[single] = 0.0
            pmf[rows[single], low[single]] = 1.0
            counts = np.floor(pmf * totals[:, None]).astype(np.int64)
            empty = counts.sum(axis=1) == 0
            counts[empty, 0] = 1
    elif name == "dirichlet":
        counts = _multinomial(rng, rng.integers(2, 201, m), _dirichlet_pmf(rng, m, K))
    elif name == "ordinary":
        mu = rng.uniform(1.0, K, m)
        sigma = np.exp(rng.uniform(np.log(0.3), np.log(3.0), m))
        edges = np.concatenate(([-np.inf], np.arange(1, K) + 0.5, [np.inf]))
        cdf = ndtr((edges[None, :] - mu[:, None]) / sigma[:, None])
        counts = _multinomial(rng, rng.integers(10, 101, m), np.diff(cdf, axis=1))
    else:
        raise ValueError(f"unknown class {name!r}")
    return counts


def make_catalog(n: int, seed: int = 0, K: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` valid adversarial stimuli from the classes of :data:`CLASS_SHARES`.

    Parameters
    ----------
    n : int
        Number of stimuli (``n >= 0``).
    seed : int, optional
        Seed of :func:`numpy.random.default_rng`; the catalog is a pure function of
        ``(n, seed, K)``.
    K : int, optional
        Number of categories (``K >= 3``).

    Returns
    -------
    counts : numpy.ndarray
        ``(n, K)`` int64 counts, every row with a positive total below ``2**63``.
    labels : numpy.ndarray
        ``(n,)`` class names (str), rows grouped by class in the order of :data:`CLASS_SHARES`.

    Examples
    --------
    >>> counts, labels = make_catalog(1000, seed=1)
    >>> counts.shape, counts.dtype, bool((counts.sum(axis=1) > 0).all())
    ((1000, 5), dtype('int64'), True)
    """
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    if K < 3:
        raise ValueError(f"K must be at least 3, got {K}")
    rng = np.random.default_rng(seed)
    sizes = {name: round(share * n) for name, share in CLASS_SHARES.items()}
    sizes["ordinary"] += n - sum(sizes.values())
    if sizes["ordinary"] < 0:
        sizes["dirichlet"] += sizes["ordinary"]
        sizes["ordinary"] = 0
    blocks = [_make_class(name, size, K, rng) for name, size in sizes.items()]
    labels = np.concatenate([np.full(size, name) for name, size in sizes.items()]).astype(str)
    return np.concatenate(blocks, axis=0), labels
