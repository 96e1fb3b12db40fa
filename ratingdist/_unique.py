"""Identical rows of a float array: the first occurrence of each and the map back to it.

Rows are grouped by a 64-bit hash of their bit patterns (each column xor-ed in and mixed by
the SplitMix64 finalizer; grouped by :func:`pandas.factorize` in linear time) and the grouping
is then checked exactly; where two different rows share a hash (a collision), the exact sort of
:func:`numpy.unique` is used instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64 finalizer (Steele, Lea, Flood, "Fast splittable pseudorandom number
    generators", OOPSLA 2014), in place: every input bit reaches every output bit."""
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def unique_rows(values: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Indices ``first`` of the first occurrence of every distinct row of ``values`` (n, K), in
    order of appearance, and ``inverse`` (n,) with ``values[first][inverse]`` equal to
    ``values`` bit for bit.

    Rows are compared by their bit patterns (``0.0`` and ``-0.0`` are different rows).

    Examples
    --------
    >>> first, inverse = unique_rows(np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0]]))
    >>> first.tolist(), inverse.tolist()
    ([0, 1], [0, 1, 0])
    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    n = values.shape[0]
    if n == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    bits = values.view(np.uint64).reshape(n, -1)
    key = np.zeros(n, np.uint64)
    for column in bits.T:
        key ^= column
        _mix(key)
    inverse, uniques = pd.factorize(key)
    first = np.empty(len(uniques), np.intp)
    first[inverse[::-1]] = np.arange(n - 1, -1, -1)
    inverse = inverse.astype(np.intp, copy=False)
    if np.array_equal(bits[first][inverse], bits):
        return first, inverse
    _, first, inverse = np.unique(bits, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # first occurrences in order of appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return first[order], rank[inverse.reshape(-1)]
