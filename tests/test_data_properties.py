"""Properties of the data layer (hypothesis; derandomized on CI, see conftest.py):

- valid count tables with awkward ids (leading zeros, spaces, quotes, commas) and counts up to
  2^62 are held exactly, or refused naming the stimulus whose total int64 cannot hold, and
  round-trip through CSV files exactly;
- fit tables round-trip through CSV bit for bit;
- CSV cells are read as written, by the fast reader and the line-by-line one alike;
- one invalid cell anywhere (in memory or in a CSV file) is refused with its stimulus, column and
  value in the message; so is one invalid rating in long format.
"""

from __future__ import annotations

import csv
import math
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import ratingdist as rd
from ratingdist.csvtext import _read_line_by_line, cell_value
from ratingdist.data import RatingCounts

INT64_MAX = 2**63 - 1

#: Ids as people write them: digits with leading zeros, blanks, quotes, commas, letters.
IDS = st.text(alphabet="0123456789 .,-\"'ax\u00e9\n", min_size=1, max_size=6).filter(
    lambda s: s != ""
)


@st.composite
def tables(draw, max_count: int = 2**62) -> tuple[list[str], list[list[int]]]:
    K = draw(st.integers(3, 7))
    n = draw(st.integers(1, 6))
    ids = draw(st.lists(IDS, min_size=n, max_size=n, unique=True))
    cell = st.one_of(st.integers(0, 3), st.integers(0, max_count))
    rows = [draw(st.lists(cell, min_size=K, max_size=K)) for _ in range(n)]
    for r in rows:
        if sum(r) == 0:
            r[0] = 1
    return ids, rows


def _ids_read_back(ids: list[str]) -> list[object]:
    """What a CSV column of these ids is read as: integers if every id is spelled as a whole
    number (``7``, ``1000.0``), else the text as written."""
    values = [cell_value(text) for text in ids]
    if all(isinstance(v, int | float) and float(v).is_integer() for v in values):
        return [int(v) for v in values]
    return list(ids)


@settings(max_examples=150, deadline=None)
@given(tables())
def test_count_tables_are_exact_and_round_trip_through_csv(table) -> None:
    ids, rows = table
    overflow = [i for i, r in enumerate(rows) if sum(r) > INT64_MAX]
    if overflow:
        i = overflow[0]
        message = f"stimulus {ids[i]!r}: its {sum(rows[i])} ratings in columns 'c1'.."
        with pytest.raises(ValueError, match=re.escape(message)):
            RatingCounts(ids, rows)
        return
    rc = RatingCounts(ids, rows)
    assert rc.ids.tolist() == ids and rc.counts.tolist() == rows
    assert rc.n_ratings.tolist() == [sum(r) for r in rows]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "counts.csv"
        rc.to_frame().to_csv(path)
        expected = _ids_read_back(ids)
        if len(set(expected)) < len(expected):  # "1" and "1.0" are the same integer id
            with pytest.raises(ValueError, match="occurs twice"):
                RatingCounts.from_table(path)
            return
        back = RatingCounts.from_table(path)
    assert back.ids.tolist() == expected
    assert back.counts.dtype == np.int64 and back.counts.tolist() == rows


@settings(max_examples=25, deadline=None)
@given(tables(max_count=1000), st.sampled_from(["maxent", "normal", "gsd", "beta"]))
def test_fit_tables_round_trip_through_csv_bit_for_bit(table, name) -> None:
    ids, rows = table
    expected = _ids_read_back(ids)
    if len(set(expected)) < len(expected):
        return
    res = rd.fit(RatingCounts(ids, rows), name)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fit.csv"
        res.to_csv(path)
        back = rd.FitResult.read_csv(path)
    assert back.counts.ids.tolist() == expected
    assert np.array_equal(back.params.view(np.int64), res.params.view(np.int64))
    assert np.array_equal(back.probs.view(np.int64), res.probs.view(np.int64))
    same_ids = res.table.assign(id=back.counts.ids)
    pd.testing.assert_frame_equal(back.table, same_ids, check_exact=True)


#: Cells that are not counts int64 can hold, in memory.
BAD_VALUES = st.one_of(
    st.integers(max_value=-1),
    st.integers(min_value=2**63, max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True).filter(
        lambda x: not (math.isfinite(x) and x.is_integer() and 0 <= x < 2**63)
    ),
    st.booleans(),
    st.text(max_size=4),
    st.complex_numbers(),
    st.none(),
)


@settings(max_examples=200, deadline=None)
@given(tables(max_count=10**6), st.data())
def test_one_bad_cell_is_named(table, data) -> None:
    ids, rows = table
    i = data.draw(st.integers(0, len(rows) - 1))
    k = data.draw(st.integers(0, len(rows[0]) - 1))
    value = data.draw(BAD_VALUES)
    rows[i][k] = value
    where = f"stimulus {ids[i]!r}, column 'c{k + 1}': "
    with pytest.raises(ValueError) as err:
        RatingCounts(ids, rows)
    text = str(err.value)
    assert text.startswith(where) and f" {value!r} " in text, text


#: Texts in a CSV file that are not counts (a canonical number that is no count, or other text).
BAD_TEXT = st.one_of(
    st.integers(max_value=-1).map(str),
    st.integers(min_value=2**63, max_value=2**80).map(str),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()).map(
        repr
    ),
    st.sampled_from(["", " 3", "3 ", "007", "1e3", "+3", "True", "nan", "inf", "NA", "3.00", "x"]),
)


@settings(max_examples=150, deadline=None)
@given(tables(max_count=10**6), st.data())
def test_one_bad_cell_in_a_csv_file_is_named(table, data) -> None:
    ids, rows = table
    expected_ids = _ids_read_back(ids)
    if len(set(expected_ids)) < len(expected_ids):
        return
    i = data.draw(st.integers(0, len(rows) - 1))
    k = data.draw(st.integers(0, len(rows[0]) - 1))
    text = data.draw(BAD_TEXT)
    cells: list[list[object]] = [list(r) for r in rows]
    cells[i][k] = text
    frame = pd.DataFrame(cells, columns=[f"c{j + 1}" for j in range(len(rows[0]))], dtype=object)
    frame.insert(0, "id", ids)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "counts.csv"
        frame.to_csv(path, index=False)
        with pytest.raises(ValueError) as err:
            RatingCounts.from_table(path)
    message = str(err.value)
    where = f"stimulus {expected_ids[i]!r}, column 'c{k + 1}': "
    assert message.startswith(where) and f" {cell_value(text)!r} " in message, message


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(1, 5), min_size=1, max_size=20),
    st.data(),
    st.one_of(
        st.integers().filter(lambda r: not 1 <= r <= 5),
        st.floats().filter(lambda x: x not in (1.0, 2.0, 3.0, 4.0, 5.0)),
        st.booleans(),
        st.text(max_size=3),
        st.none(),
    ),
)
def test_one_bad_rating_is_named_with_its_row(ratings, data, value) -> None:
    j = data.draw(st.integers(0, len(ratings) - 1))
    cells: list[object] = list(ratings)
    cells[j] = value
    df = pd.DataFrame(
        {"stimulus": [f"s{r % 3}" for r in range(len(cells))],
         "rating": pd.Series(cells, dtype=object, index=pd.RangeIndex(100, 100 + len(cells)))},
    )
    with pytest.raises(ValueError) as err:
        RatingCounts.from_ratings(df)
    message = str(err.value)
    where = f"row {100 + j} (stimulus 's{j % 3}'), column 'rating': rating "
    assert message.startswith(f"{where}{value!r} "), message


FIELDS = st.one_of(
    st.text(alphabet="0123456789 .,-+e\"'aN\n", max_size=5),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)


@settings(max_examples=150, deadline=None)
@example(rows=[[" "]])  # found by hypothesis: a line of blanks is a field, not a blank line
@example(rows=[[""], ["00"]])  # found by hypothesis: an empty field stays None, not NaN
@given(st.integers(1, 4).flatmap(
    lambda m: st.lists(st.lists(FIELDS, min_size=m, max_size=m), min_size=1, max_size=8)
))
def test_csv_cells_are_read_as_written(rows) -> None:
    header = [f"f{j}" for j in range(len(rows[0]))]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cells.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([header, *rows])
        fast = rd.read_csv_as_written(path)
        exact = _read_line_by_line(path)
    pd.testing.assert_frame_equal(fast, exact, check_exact=True)
    assert fast.columns.tolist() == header and len(fast) == len(rows)
    for i, row in enumerate(rows):
        for j, text in enumerate(row):
            value = fast.iloc[i, j]
            assert (value is None) if text == "" else str(value) == text
