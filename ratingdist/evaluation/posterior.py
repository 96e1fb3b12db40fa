"""Posterior-predictive rating distributions: fits that never predict probability zero.

A maximum-likelihood fit to a small panel whose ratings fall into one or two adjacent
categories is the limit pmf on those categories, and the log-likelihood of any other rating
is −∞. Averaging the family's pmf over the posterior of its parameters instead gives every
category a positive probability that shrinks as the panel grows:

    q̃_k = ∫∫ p_k(ψ, ρ) π(ψ, ρ) Π_j p_j(ψ, ρ)^{c_j} dψ dρ / ∫∫ π(ψ, ρ) Π_j p_j(ψ, ρ)^{c_j} dψ dρ

over the family's members addressed by their mean ψ ∈ [1, K] and shape
ρ = (v_max − v)/(v_max − v_min) ∈ [0, 1] (every family covers that whole region). The default
prior π is uniform on [1, K] × [0, 1]: the same weak prior for every family, flat in the mean
and spread alike, with no reference to any data set.

The integral is a composite midpoint rule over a grid of 81 cells per unit of ψ (cell edges on
the integers, where the pmfs have kinks) and 243 cells of t, ρ = sin²(πt/2), which crowds nodes
towards the least-spread (ρ = 1) and largest-spread (ρ = 0) borders; dρ = (π/2) sin(πt) dt.
The family's pmfs on the grid are tabulated once per family and K; each stimulus then visits
only the cells where its posterior lives (``ratingdist._kernels.posterior``).

References
----------
Gelman, Carlin, Stern, Dunson, Vehtari, Rubin, "Bayesian Data Analysis", 3rd ed., CRC (2013),
§1.3 (posterior predictive distribution).
Saupe, Rusek, Hägele, Weiskopf, Janowski, "Maximum entropy and quantized metric models for
absolute category ratings", IEEE Signal Processing Letters 31 (2024) 2970–2974.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pooch
from numpy.typing import ArrayLike, NDArray

from .. import scale
from .._kernels import batch
from .._kernels.posterior import posterior_predictive as _predictive_kernel
from .._version import __version__
from ..data import RatingCounts
from ..families import Family, QuantizedFamily, family
from ..families.gsd import GSD
from ..families.maxent import MaxEnt
from ..fitting import as_counts

#: Grid cells per unit of the mean ψ and over t ∈ [0, 1] (ρ = sin²(πt/2)).
PSI_CELLS_PER_UNIT = 81
T_CELLS = 243
#: Cells per side of the blocks of the coarse pass, and the most nodes per axis of the fine one.
_COARSE = 9
_MAX_NODES = 32
#: Cells whose log posterior is this far below the coarse maximum are left out.
_DELTA = 25.0
#: Layout of the stored tables; part of their cache key.
_TABLE_FORMAT = 2
_TABLES: dict[tuple[str, int], tuple[NDArray, NDArray, NDArray]] = {}

#: A prior density on (ψ, ρ): arrays in, non-negative weights of the same shape out.
Prior = Callable[[NDArray[np.float64], NDArray[np.float64]], ArrayLike]


def grid_nodes(K: int = scale.DEFAULT_K) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Midpoints (ψ, ρ) of the quadrature cells, each of shape (n_ψ, n_t)."""
    K = scale.check_K(K)
    psi = 1.0 + (np.arange((K - 1) * PSI_CELLS_PER_UNIT) + 0.5) / PSI_CELLS_PER_UNIT
    t = (np.arange(T_CELLS) + 0.5) / T_CELLS
    return np.meshgrid(psi, np.sin(0.5 * np.pi * t) ** 2, indexing="ij")


def _grid_logpmf(fam: Family, psi: NDArray, rho: NDArray, K: int) -> tuple[NDArray, NDArray]:
    """log-pmf (n_ψ, n_t, K) at the nodes (n_ψ, n_t) and a mask of the nodes where it exists."""
    if isinstance(fam, (MaxEnt, GSD)):
        params = np.column_stack([psi.ravel(), rho.ravel()])
        if isinstance(fam, MaxEnt):
            logp, ok = batch.maxent_logpmf(params, K)
        else:
            logp, ok = batch.gsd_logpmf(params, K), np.ones(len(params), bool)
        return logp.reshape(*psi.shape, K), ok.reshape(psi.shape)
    if not isinstance(fam, QuantizedFamily):
        raise TypeError(f"no posterior predictive for family {fam!r}")
    var = scale.var_from_rho(psi, rho, K)
    theta, ok = fam._solve_moments(psi.ravel(), var.ravel(), K)
    logp = batch.logpmf_theta(fam.solver_code(), theta, fam._aux(K), K)
    return logp.reshape(*psi.shape, K), ok.reshape(psi.shape)


def _table_path(fam: Family, K: int) -> Path:
    key = f"{fam!r}|{K}|{PSI_CELLS_PER_UNIT}|{T_CELLS}|{__version__}|{_TABLE_FORMAT}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(pooch.os_cache("ratingdist")) / "posterior-grids" / f"{fam.name}-{digest}.npz"


def _tabulated(fam: Family, K: int) -> tuple[NDArray, NDArray, NDArray]:
    """log p, p (n_ψ, n_t, K) and the node mask (n_ψ, n_t) of one family.

    Matching the means and variances of a quantized family at every node takes 0.1–1 s, so the
    table is kept in memory and in the user cache (``pooch.os_cache("ratingdist")``), keyed by
    the family (thresholds included), K, the grid and the package version.
    """
    key = (repr(fam), K)
    if key in _TABLES:
        return _TABLES[key]
    path = _table_path(fam, K)
    try:
        with np.load(path) as stored:
            logp, ok = stored["logp"], stored["ok"]
    except (OSError, KeyError, ValueError):
        psi, rho = grid_nodes(K)
        logp, ok = _grid_logpmf(fam, psi, rho, K)
        ok = ok & np.isfinite(logp).any(axis=-1) & ~np.isnan(logp).any(axis=-1)
        logp = np.where(ok[..., None], logp, 0.0)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, logp=logp, ok=ok)
        except OSError:  # a read-only cache only costs the recomputation
            pass
    logp = np.ascontiguousarray(logp, dtype=np.float64)
    _TABLES[key] = logp, np.exp(logp), ok
    return _TABLES[key]


def _log_weights(prior: Prior | None, ok: NDArray, K: int) -> NDArray[np.float64]:
    """log of prior density × dρ/dt at the nodes, −inf where the family has no member."""
    psi, rho = grid_nodes(K)
    t = (np.arange(T_CELLS) + 0.5) / T_CELLS
    jacobian = np.broadcast_to(0.5 * np.pi * np.sin(np.pi * t), psi.shape)
    density = np.ones_like(psi) if prior is None else np.asarray(prior(psi, rho), dtype=float)
    if density.shape != psi.shape or not np.all(np.isfinite(density)) or np.any(density < 0):
        raise ValueError(
            "prior must return finite, non-negative densities of the shape of its (psi, rho) "
            f"arguments {psi.shape}"
        )
    with np.errstate(divide="ignore"):
        logw = np.log(density * jacobian)
    logw[~ok] = -np.inf
    if not np.isfinite(logw).any():
        raise ValueError("prior puts no weight on the family's members")
    return logw


def posterior_predictive(
    counts: RatingCounts | ArrayLike,
    family_name: str | Family,
    *,
    prior: Prior | None = None,
) -> NDArray[np.float64]:
    """Posterior-predictive pmf of one family for every stimulus.

    q̃_k = E[p_k(ψ, ρ) | counts] under the prior ``prior`` on the family's members
    (see the module docstring for the formula and the quadrature).

    Parameters
    ----------
    counts : RatingCounts, or an (n, K) array of rating counts.
    family_name : a name from ``rd.FAMILIES`` or a family object.
    prior : density π(ψ, ρ) on [1, K] × [0, 1] (up to a constant), called once with arrays of
        the grid's nodes; None (default) for the uniform prior.

    Returns
    -------
    (n, K) probabilities, every one positive.

    Notes
    -----
    Every family is matched to the mean and variance of every node (``Family.from_moments``;
    a node it could not match would get no prior weight). The grid resolves
    posteriors of panels up to a few hundred ratings; for larger panels the posterior is
    narrower than a cell and the predictive pmf tends to the maximum-likelihood fit, which is
    then the better tool.

    Examples
    --------
    >>> import ratingdist as rd
    >>> q = rd.evaluation.posterior_predictive([[0, 0, 5, 0, 0], [0, 3, 2, 0, 0]], "normal")
    >>> bool((q > 0).all()), q.sum(axis=1).round(12).tolist()
    (True, [1.0, 1.0])
    >>> q.argmax(axis=1).tolist()
    [2, 1]
    """
    fam = family(family_name)
    rc = as_counts(counts)
    K = rc.K
    logp, prob, ok = _tabulated(fam, K)
    logw = _log_weights(prior, ok, K)
    unique, inverse = np.unique(rc.counts, axis=0, return_inverse=True)
    q = _predictive_kernel(
        unique.astype(np.float64), logp, prob, logw, _COARSE, _MAX_NODES, _DELTA
    )
    return q[inverse.ravel()]
