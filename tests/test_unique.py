"""Grouping of identical rows (``ratingdist._unique``) against numpy's exact sort."""

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from ratingdist import _unique
from ratingdist._unique import unique_rows


def _check(values, first, inverse):
    assert np.array_equal(values[first][inverse].view(np.uint64), values.view(np.uint64))
    # first occurrences, in order of appearance, each row once
    assert np.all(np.diff(first) > 0)
    assert np.array_equal(inverse[first], np.arange(first.size))
    expected = np.unique(values.view(np.uint64).reshape(len(values), -1), axis=0)
    assert first.size == len(expected)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300), k=st.integers(1, 6))
def test_unique_rows_matches_numpy(seed, n, k):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 3, (n, k)).astype(float)
    first, inverse = unique_rows(values)
    _check(values, first, inverse)


def test_hash_collisions_fall_back_to_the_exact_sort(monkeypatch):
    """Every row given the same hash: the grouping is still exact."""
    values = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [5.0, 6.0], [3.0, 4.0], [0.0, -0.0]])
    monkeypatch.setattr(
        _unique.pd, "factorize", lambda key: (np.zeros(len(key), np.int64), pd.Index([0]))
    )
    first, inverse = unique_rows(values)
    assert first.tolist() == [0, 1, 3, 5]
    assert inverse.tolist() == [0, 1, 0, 2, 1, 3]
    _check(values, first, inverse)


def test_empty_and_signed_zero():
    first, inverse = unique_rows(np.zeros((0, 3)))
    assert first.size == inverse.size == 0
    first, inverse = unique_rows(np.array([[0.0], [-0.0], [0.0]]))
    assert first.tolist() == [0, 1] and inverse.tolist() == [0, 1, 0]
