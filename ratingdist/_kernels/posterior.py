"""Posterior-predictive pmfs by quadrature over a shared (ψ, t) grid, parallel over stimuli.

The grid tabulates log p_k(ψ, ρ(t)) of one family at the midpoints of n1 × n2 cells and the log
of the prior weight of every cell (−inf where it has none). For each stimulus with counts c the
posterior weight of a cell is exp(log w + Σ_k c_k log p_k); the predictive pmf is the
weighted mean of p over the cells. Only the cells that matter are visited:

1. a coarse pass over the centres of blocks of ``coarse`` × ``coarse`` cells finds the log
   posterior's maximum and the blocks within ``delta`` of it;
2. a fine pass over that box (grown by one block on each side) with a stride of 1, 3, 9, …
   cells per axis — at most ``max_nodes`` nodes per axis — is the composite midpoint rule on
   blocks of stride × stride cells.

Strides divide ``coarse``, and ``coarse`` divides n1 and n2, so the blocks of every pass tile
the grid.
"""

import numba as nb
import numpy as np

from .jit import KERNEL
from .rows import run_rows


@nb.njit(**KERNEL)
def _log_posterior(c, logp, logw, i, j):
    if logw[i, j] == -np.inf:
        return -np.inf
    s = logw[i, j]
    for k in range(c.shape[0]):
        if c[k] > 0.0:
            s += c[k] * logp[i, j, k]
    return s


@nb.njit(**KERNEL)
def _stride(width, coarse, max_nodes):
    s = 1
    while s < coarse and (width + s - 1) // s > max_nodes:
        s *= 3
    return s


@nb.njit(**KERNEL)
def _posterior_rows(start, stop, counts, logp, prob, logw, coarse, max_nodes, delta, out):
    K = counts.shape[1]
    n1, n2 = logw.shape
    b1, b2 = n1 // coarse, n2 // coarse
    half = coarse // 2
    for r in range(start, stop):
        c = counts[r]
        coarse_lp = np.empty((b1, b2))
        top = -np.inf
        for a in range(b1):
            for b in range(b2):
                v = _log_posterior(c, logp, logw, a * coarse + half, b * coarse + half)
                coarse_lp[a, b] = v
                top = max(top, v)
        a0, a1, c0, c1 = b1, -1, b2, -1
        for a in range(b1):
            for b in range(b2):
                if coarse_lp[a, b] >= top - delta:
                    a0 = min(a0, a)
                    a1 = max(a1, a)
                    c0 = min(c0, b)
                    c1 = max(c1, b)
        lo1, hi1 = max(a0 - 1, 0) * coarse, min(a1 + 2, b1) * coarse
        lo2, hi2 = max(c0 - 1, 0) * coarse, min(c1 + 2, b2) * coarse
        s1 = _stride(hi1 - lo1, coarse, max_nodes)
        s2 = _stride(hi2 - lo2, coarse, max_nodes)
        m1, m2 = (hi1 - lo1) // s1, (hi2 - lo2) // s2
        fine = np.empty((m1, m2))
        top = -np.inf
        for a in range(m1):
            for b in range(m2):
                v = _log_posterior(c, logp, logw, lo1 + a * s1 + s1 // 2, lo2 + b * s2 + s2 // 2)
                fine[a, b] = v
                top = max(top, v)
        total = 0.0
        for a in range(m1):
            for b in range(m2):
                w = np.exp(fine[a, b] - top)
                if w > 0.0:
                    total += w
                    i, j = lo1 + a * s1 + s1 // 2, lo2 + b * s2 + s2 // 2
                    for k in range(K):
                        out[r, k] += w * prob[i, j, k]
        for k in range(K):
            out[r, k] /= total


def posterior_predictive(counts, logp, prob, logw, coarse, max_nodes, delta):
    """Predictive pmf (m, K) of every row of counts (m, K); see the module docstring."""
    counts = np.ascontiguousarray(counts, dtype=np.float64)
    out = np.zeros(counts.shape)
    run_rows(_posterior_rows, counts.shape[0], counts, logp, prob, logw, int(coarse),
             int(max_nodes), float(delta), out)
    return out

