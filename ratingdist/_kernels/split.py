"""Random train/test splits of each stimulus' ratings, parallel over stimuli.

Stimulus i of split ``repeat`` draws from its own counter-based SplitMix64 stream, keyed by
(key, repeat, i), so a split depends only on those and not on the number of threads. The
``size`` train ratings are a uniformly random subset of the N ratings, chosen by selection
sampling (Knuth, TAOCP vol. 2, §3.4.2, Algorithm S): rating j (of the ratings listed category
by category) is taken with probability (size − taken)/(N − j). The train counts are therefore
multivariate hypergeometric.
"""

import numba as nb
import numpy as np

from .bootstrap import _GAMMA, _mix
from .jit import KERNEL
from .rows import run_rows

_TO_UNIT = 2.0**-53


@nb.njit(**KERNEL)
def _split_rows(start, stop, counts, size, key, repeat, train):
    K = counts.shape[1]
    stream_key = _mix(key ^ _mix(np.uint64(repeat) * _GAMMA + _GAMMA))
    for i in range(start, stop):
        state = _mix(stream_key ^ _mix(np.uint64(i) * _GAMMA))
        remaining = 0
        for k in range(K):
            remaining += counts[i, k]
        need = size
        for k in range(K):
            taken = 0
            for _ in range(counts[i, k]):
                state += _GAMMA
                u = np.float64(_mix(state) >> np.uint64(11)) * _TO_UNIT
                if u * remaining < need:
                    taken += 1
                    need -= 1
                remaining -= 1
            train[i, k] = taken


def split_counts(counts, size, key, repeat):
    """Train counts (n, K) of a random subset of ``size`` ratings per stimulus (all if fewer)."""
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    train = np.zeros(counts.shape, dtype=np.int64)
    run_rows(_split_rows, counts.shape[0], counts, int(size), np.uint64(key), int(repeat), train)
    return train
