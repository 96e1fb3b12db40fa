"""The K-point rating scale: support, feasible variances, the shape parameter ρ, moments.

A K-point absolute-category-rating (ACR) scale has the categories 1..K (K = 5: bad, poor,
fair, good, excellent). For a distribution on it with mean ψ the variance v is confined to

    v_min(ψ) = (⌈ψ⌉ − ψ)(ψ − ⌊ψ⌋)   (mass on the two categories next to ψ)
    v_max(ψ) = (ψ − 1)(K − ψ)       (mass on the extreme categories 1 and K)

and the *complementary normalized variance* ρ = (v_max − v)/(v_max − v_min) ∈ [0, 1] locates v
inside that interval (ρ = 1: least spread, ρ = 0: largest spread). Where v_max = v_min
(ψ = 1 or ψ = K) ρ is set to 0.5, the convention of the GSD reference code.

References
----------
Ćmiel, Nawała, Janowski, Rusek, "Generalised score distribution: underdispersed continuation of
the beta-binomial distribution", Statistical Papers (2023), doi:10.1007/s00362-023-01398-0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

DEFAULT_K = 5
#: Variances this far outside [v_min, v_max] are taken as rounding and clipped onto the bound.
FEASIBILITY_TOLERANCE = 1e-9
#: Variances this close to v_min or v_max are on the boundary of the feasible region.
BOUNDARY_TOLERANCE = 1e-12


def check_K(K: int) -> int:
    """Return ``K`` as an int after checking that it is an integer of at least 3."""
    if isinstance(K, bool) or not float(K).is_integer() or int(K) < 3:
        raise ValueError(f"K must be an integer >= 3 (number of rating categories), got {K!r}")
    return int(K)


def support(K: int = DEFAULT_K) -> NDArray[np.float64]:
    """Rating categories 1..K as floats."""
    return np.arange(1, check_K(K) + 1, dtype=np.float64)


def v_min(mean: ArrayLike) -> NDArray[np.float64]:
    """Least variance of a distribution on the scale with the given mean.

    v_min(ψ) = (⌈ψ⌉ − ψ)(ψ − ⌊ψ⌋), reached by the pmf on ⌊ψ⌋ and ⌈ψ⌉ alone.
    """
    m = np.asarray(mean, dtype=np.float64)
    frac = m - np.floor(m)
    return frac * (1.0 - frac)


def v_max(mean: ArrayLike, K: int = DEFAULT_K) -> NDArray[np.float64]:
    """Largest variance of a distribution on 1..K with the given mean: (ψ − 1)(K − ψ)."""
    m = np.asarray(mean, dtype=np.float64)
    return (m - 1.0) * (check_K(K) - m)


def rho_from_var(mean: ArrayLike, var: ArrayLike, K: int = DEFAULT_K) -> NDArray[np.float64]:
    """Complementary normalized variance ρ = (v_max − v)/(v_max − v_min), clipped to [0, 1].

    ρ = 0.5 where v_max = v_min (ψ = 1 or ψ = K), as in the GSD reference code.
    """
    m, v = np.broadcast_arrays(np.asarray(mean, float), np.asarray(var, float))
    hi, lo = v_max(m, K), v_min(m)
    width = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(width > 0, (hi - v) / np.where(width > 0, width, 1.0), 0.5)
    return np.clip(rho, 0.0, 1.0)


def var_from_rho(mean: ArrayLike, rho: ArrayLike, K: int = DEFAULT_K) -> NDArray[np.float64]:
    """Variance for mean ψ and shape ρ: v = ρ·v_min(ψ) + (1 − ρ)·v_max(ψ)."""
    m, r = np.broadcast_arrays(np.asarray(mean, float), np.asarray(rho, float))
    return r * v_min(m) + (1.0 - r) * v_max(m, K)


def moments_of_probs(probs: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean and variance of distributions on 1..K given as rows of probabilities (…, K)."""
    p = np.asarray(probs, dtype=np.float64)
    k = np.arange(1, p.shape[-1] + 1, dtype=np.float64)
    total = p.sum(axis=-1)
    # elementwise sums, not matmul: BLAS threads contend with Numba's right after a kernel
    mean = (p * k).sum(axis=-1) / total
    var = ((k - mean[..., None]) ** 2 * p).sum(axis=-1) / total
    return mean, var


def moments_of_counts(counts: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sample mean (MOS) and population variance (divisor N) of rating counts (…, K).

    The population variance is the moment the maximum-entropy and GSD moment estimators use;
    the sample variance with divisor N − 1 is ``var * N / (N − 1)``.
    """
    c = np.asarray(counts, dtype=np.float64)
    k = np.arange(1, c.shape[-1] + 1, dtype=np.float64)
    n = c.sum(axis=-1)
    # kept on the scale: with 10^16 ratings and one stray the rounded quotient can land an ulp
    # outside [1, K]
    mean = np.clip((c * k).sum(axis=-1) / n, 1.0, float(c.shape[-1]))
    # centred sum of squares: exact for integer data, no cancellation
    var = ((k - mean[..., None]) ** 2 * c).sum(axis=-1) / n
    return mean, var


def on_boundary(
    mean: NDArray[np.float64], var: NDArray[np.float64], K: int = DEFAULT_K
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Masks of (mean, variance) pairs on the lower (v_min) and upper (v_max) boundary.

    Pairs within :data:`BOUNDARY_TOLERANCE` of a bound count as on it: rounding in a sample
    variance must not turn a limit distribution into an ill-posed interior problem.
    """
    lo, hi = v_min(mean), v_max(mean, K)
    at_min = var <= lo + BOUNDARY_TOLERANCE
    at_max = (var >= hi - BOUNDARY_TOLERANCE) & ~at_min
    return at_min, at_max


def check_moments(
    mean: ArrayLike, var: ArrayLike, K: int = DEFAULT_K
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validate (mean, variance) pairs against the feasible region of the K-point scale.

    Returns float arrays of a common shape, with variances within
    :data:`FEASIBILITY_TOLERANCE` of a bound moved onto it. Raises ``ValueError`` naming the
    first offending index and value otherwise.
    """
    K = check_K(K)
    m, v = np.broadcast_arrays(np.asarray(mean, float), np.asarray(var, float))
    m, v = np.atleast_1d(m).astype(float), np.atleast_1d(v).astype(float)
    bad = ~np.isfinite(m) | (m < 1.0) | (m > K)
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        raise ValueError(f"mean at index {i} is {m.ravel()[i]!r}, outside the scale [1, {K}]")
    lo, hi = v_min(m), v_max(m, K)
    tol = FEASIBILITY_TOLERANCE
    bad = ~np.isfinite(v) | (v < lo - tol) | (v > hi + tol)
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        raise ValueError(
            f"variance at index {i} is {v.ravel()[i]!r}, outside the feasible interval "
            f"[{lo.ravel()[i]:.6g}, {hi.ravel()[i]:.6g}] for mean {m.ravel()[i]!r} on a "
            f"{K}-point scale"
        )
    return m, np.clip(v, lo, hi)
