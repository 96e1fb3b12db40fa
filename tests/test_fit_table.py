"""FitResult.table: free of NaN and infinities (limits marked, not hidden), and read back from
CSV bit for bit for every family and K = 3..7."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ratingdist as rd
from ratingdist.fitting import INFINITE_PARAMETER


def _counts(K: int) -> rd.RatingCounts:
    """Degenerate stimuli of every kind, then a few ordinary ones; ids that CSV could mangle."""
    def row(*cells: tuple[int, int]) -> list[int]:
        out = [0] * K
        for k, c in cells:
            out[k] = c
        return out

    rows = [row((K // 2, 5)), row((0, 3), (1, 4)), row((0, 5), (K - 1, 5)), row((0, 5), (K - 1, 3)),
            row((0, 7)), row((K - 1, 7)), row((K - 2, 2), (K - 1, 9))]
    rng = np.random.default_rng(K)
    rows += (rng.integers(0, 20, size=(3, K)) + np.eye(3, K, dtype=int)).tolist()
    ids = ["007", " a", "NA", "nan", "1000.0", 'x,"y"', "2024-01-02", "-0", "1e3", "ä"]
    return rd.RatingCounts(ids, rows)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


@pytest.mark.parametrize("K", [3, 4, 5, 6, 7])
def test_tables_are_finite_and_round_trip_exactly(K: int, tmp_path) -> None:
    counts = _counts(K)
    for name in rd.FAMILIES:
        for bounds in ("natural", "reference"):
            res = rd.fit(counts, name, bounds=bounds)
            table = res.table
            numbers = table.select_dtypes("number").to_numpy(dtype=float)
            assert np.isfinite(numbers).all(), (name, bounds)
            assert len(table.dropna()) == len(table)
            assert table["limit"].dtype == bool and table["converged"].dtype == bool
            assert ("p_value" in table) == (K > 3)
            path = tmp_path / f"{name}-{bounds}.csv"
            res.to_csv(path)
            back = rd.FitResult.read_csv(path)
            pd.testing.assert_frame_equal(back.table, table, check_exact=True)
            assert back.counts == counts and back.counts.ids.tolist() == counts.ids.tolist()
            assert _same_bits(back.params, res.params) and _same_bits(back.probs, res.probs)
            assert (back.limit == res.limit).all() and back.bounds == bounds


def test_infinite_limit_parameters_are_written_as_the_largest_float() -> None:
    counts = [[0, 0, 5, 0, 0], [3, 4, 0, 0, 0], [5, 0, 0, 0, 5], [5, 0, 0, 0, 3]]
    for name in ("normal", "beta"):
        res = rd.fit(counts, name)
        assert res.limit.all() and np.isinf(res.params).any()
        params = res.table[list(res.family.param_names)].to_numpy()
        infinite = np.isinf(res.params)
        assert (np.abs(params[infinite]) == INFINITE_PARAMETER).all()
        assert (params[~infinite] == res.params[~infinite]).all()
        back = rd.FitResult.from_table(res.table)
        assert np.array_equal(back.params, res.params)
    beta = rd.fit([[0, 0, 5, 0, 0]], "beta")
    assert beta.params.tolist() == [[np.inf, np.inf]]
    assert beta.table[["a", "b"]].to_numpy().tolist() == [[INFINITE_PARAMETER, INFINITE_PARAMETER]]


def test_tables_written_with_17_digits_read_back_exactly(tmp_path) -> None:
    res = rd.fit(_counts(5), "logit-logistic")
    path = tmp_path / "fit.csv"
    res.table.to_csv(path, index=False, float_format="%.17g")
    back = rd.FitResult.read_csv(path)
    assert _same_bits(back.params, res.params) and _same_bits(back.probs, res.probs)
    pd.testing.assert_frame_equal(back.table, res.table, check_exact=True)


def test_bad_fit_tables_are_refused() -> None:
    counts = [[1, 2, 3, 4, 5], [0, 1, 5, 1, 0]]
    table = rd.fit(counts, "normal").table
    mixed = pd.concat([table, rd.fit(counts, "gsd").table], ignore_index=True)
    with pytest.raises(ValueError, match="row 2, column 'family': value 'gsd' differs"):
        rd.FitResult.from_table(mixed)
    with pytest.raises(ValueError, match="row 1, column 'limit': value 'yes' is neither"):
        rd.FitResult.from_table(table.astype({"limit": object}).assign(limit=["False", "yes"]))
    with pytest.raises(ValueError, match="fit table has no column 'sigma'"):
        rd.FitResult.from_table(table.drop(columns="sigma"))
    with pytest.raises(ValueError, match="no stimuli"):
        rd.FitResult.from_table(table.iloc[:0])


def test_an_underflowed_probability_keeps_its_finite_nll_through_a_round_trip(tmp_path) -> None:
    """p5 ≈ e^-1400 underflows to 0 in p1..p5; the NLL from the log-probabilities is finite and
    the table read back keeps it (and G) exactly."""
    res = rd.fit([[0, 80920, 0, 0, 1]], "kumaraswamy")
    assert res.probs[0, 4] == 0.0 and np.isfinite(res.nll).all()
    res.to_csv(tmp_path / "fit.csv")
    back = rd.FitResult.read_csv(tmp_path / "fit.csv")
    assert back.nll.tolist() == res.nll.tolist()
    assert back.g.tolist() == res.g.tolist()
    pd.testing.assert_frame_equal(back.table, res.table)
