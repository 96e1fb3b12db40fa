"""Multinomial resampling for the bootstrap, parallel over stimuli.

Every (stimulus, replicate) pair draws from its own counter-based random stream: the SplitMix64
sequence started at a state derived from (key, stimulus, replicate). The counts therefore depend
only on the key and on those indices, not on the number of threads or on how the work is split
into chunks. Each 64-bit output gives two 32-bit uniforms, so category probabilities are
resolved to 2⁻³² (the thresholds are ⌊F(k)·2³²⌋).

References
----------
Steele, Lea, Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014 (SplitMix64).
"""

import numba as nb
import numpy as np

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_LOW32 = np.uint64(0xFFFFFFFF)
_ABOVE = np.int64(2**32)


@nb.njit(cache=True, error_model="numpy", no_cfunc_wrapper=True)
def _mix(z):
    """SplitMix64 finalizer, a bijection of uint64."""
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@nb.njit(cache=True, error_model="numpy", no_cfunc_wrapper=True)
def _threshold(t, k):
    """t[k], or 2³² (above every 32-bit uniform) past the end."""
    return t[k] if k < len(t) else _ABOVE


@nb.njit(cache=True, parallel=True, error_model="numpy", no_cfunc_wrapper=True)
def resample_counts(n_ratings, thresholds, n_boot, first, key):
    """Multinomial counts (m·R, K); row i·R + r is replicate r of stimulus i.

    Parameters
    ----------
    n_ratings : (m,) int64 ratings per stimulus.
    thresholds : (m, K − 1) int64, ⌊F(k)·2³²⌋ of the cdf F of each stimulus (2³² from the last
        category of positive probability on): a 32-bit uniform u is rating k + 1 for the
        smallest k with u < thresholds[i, k], rating K if there is none.
    n_boot : replicates R per stimulus.
    first : global index of stimulus 0 (streams are keyed by the global index).
    key : uint64 seed.

    The ratings are counted below four thresholds at a time in scalar accumulators (registers),
    replaying the stream for every further block of four.
    """
    m, K1 = thresholds.shape
    out = np.empty((m * n_boot, K1 + 1), dtype=np.int64)
    for j in nb.prange(m * n_boot):
        i = j // n_boot
        t = thresholds[i]
        n = n_ratings[i]
        stream = np.uint64(first + i) * np.uint64(n_boot) + np.uint64(j - i * n_boot)
        start = _mix(key ^ _mix(stream * _GAMMA + _GAMMA))
        previous = 0
        for block in range(0, K1, 4):
            t0, t1 = _threshold(t, block), _threshold(t, block + 1)
            t2, t3 = _threshold(t, block + 2), _threshold(t, block + 3)
            b0 = b1 = b2 = b3 = 0
            state = start
            for _ in range(n // 2):
                state += _GAMMA
                z = _mix(state)
                u1 = np.int64(z >> np.uint64(32))
                u2 = np.int64(z & _LOW32)
                b0 += (u1 < t0) + (u2 < t0)
                b1 += (u1 < t1) + (u2 < t1)
                b2 += (u1 < t2) + (u2 < t2)
                b3 += (u1 < t3) + (u2 < t3)
            if n % 2 == 1:
                u1 = np.int64(_mix(state + _GAMMA) >> np.uint64(32))
                b0 += u1 < t0
                b1 += u1 < t1
                b2 += u1 < t2
                b3 += u1 < t3
            for q, below in enumerate((b0, b1, b2, b3)):
                if block + q < K1:
                    out[j, block + q] = below - previous
                    previous = below
        out[j, K1] = n - previous
    return out


@nb.njit(cache=True, parallel=True, error_model="numpy", no_cfunc_wrapper=True)
def weighted_row_sums(a, weights):
    """(m, 1 + J): column 0 is Σ_k a[i, k], column 1 + q is Σ_k a[i, k]·weights[k, q].

    The per-row reductions of the QoE figures (K is small); a Numba loop rather than a BLAS
    product, whose threads would compete with the Numba thread pool.
    """
    m, K = a.shape
    J = weights.shape[1]
    out = np.empty((m, J + 1))
    for i in nb.prange(m):
        total = 0.0
        for k in range(K):
            total += a[i, k]
        out[i, 0] = total
        for q in range(J):
            s = 0.0
            for k in range(K):
                s += a[i, k] * weights[k, q]
            out[i, q + 1] = s
    return out
