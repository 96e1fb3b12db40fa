"""Tests of ratingdist.data: RatingCounts, its constructors and their validation."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ratingdist.csvtext import read_csv_as_written as rd_read
from ratingdist.data import RatingCounts

# three stimuli on a 5-point scale, the same data in every layout
LISTS = {"a": [1, 2, 2, 5], "b": [3, 3], "c": [4, 5, 5]}
COUNTS = [[1, 2, 0, 0, 1], [0, 0, 2, 0, 0], [0, 0, 0, 1, 2]]


@pytest.fixture
def rc() -> RatingCounts:
    return RatingCounts(["a", "b", "c"], COUNTS)


def long_frame() -> pd.DataFrame:
    rows = [(s, r) for s, ratings in LISTS.items() for r in ratings]
    return pd.DataFrame(rows, columns=["stimulus", "rating"])


def wide_frame() -> pd.DataFrame:
    width = max(len(r) for r in LISTS.values())
    table = [r + [None] * (width - len(r)) for r in LISTS.values()]
    return pd.DataFrame(table, index=list(LISTS), columns=[f"r{j}" for j in range(width)])


# ---------------------------------------------------------------------------------------------
# the container


def test_members(rc: RatingCounts) -> None:
    assert rc.K == 5
    assert len(rc) == 3
    assert rc.ids.dtype == object and rc.ids.tolist() == ["a", "b", "c"]
    assert rc.counts.dtype == np.int64 and rc.counts.tolist() == COUNTS
    assert rc.n_ratings.dtype == np.int64 and rc.n_ratings.tolist() == [4, 2, 3]
    for i, ratings in enumerate(LISTS.values()):
        assert rc.mean()[i] == pytest.approx(np.mean(ratings))
        assert rc.var()[i] == pytest.approx(np.var(ratings))
    assert repr(rc) == "RatingCounts(n=3, K=5, ratings=9)"


def test_read_only(rc: RatingCounts) -> None:
    with pytest.raises(ValueError, match="read-only"):
        rc.counts[0, 0] = 7
    with pytest.raises(ValueError, match="read-only"):
        rc.ids[0] = "z"
    with pytest.raises(AttributeError):
        rc.counts = np.zeros((3, 5))  # type: ignore[misc]
    assert not rc[0].counts.flags.writeable
    assert not rc[[0, 2]].counts.flags.writeable


def test_input_is_copied() -> None:
    counts = np.array([[1, 2, 3]])
    rc = RatingCounts([1], counts)
    counts[0, 0] = 99
    assert rc.counts.tolist() == [[1, 2, 3]]


@pytest.mark.parametrize(
    ("ids", "expected", "dtype"),
    [
        ([1000.0, 1001.0], [1000, 1001], np.int64),
        (np.array([3, 4], dtype=np.int32), [3, 4], np.int64),
        ([1, "x"], ["1", "x"], object),
        ([1.5, 2.0], ["1.5", "2.0"], object),
        (pd.Index(["p", "q"]), ["p", "q"], object),
    ],
)
def test_ids_normalized(ids: object, expected: list, dtype: type) -> None:
    rc = RatingCounts(ids, [[1, 0, 0], [0, 1, 0]])
    assert rc.ids.dtype == dtype
    assert rc.ids.tolist() == expected


def test_float_counts_that_are_whole_are_accepted() -> None:
    rc = RatingCounts(["a"], [[3.0, 0.0, 1.0]])
    assert rc.counts.dtype == np.int64 and rc.counts.tolist() == [[3, 0, 1]]


def test_getitem(rc: RatingCounts) -> None:
    assert rc[1] == RatingCounts(["b"], [COUNTS[1]])
    assert rc[-1].ids.tolist() == ["c"]
    assert rc[np.int64(0)].ids.tolist() == ["a"]
    assert rc[1:].ids.tolist() == ["b", "c"]
    assert rc[rc.n_ratings > 2].ids.tolist() == ["a", "c"]
    assert rc[[2, 0]].counts.tolist() == [COUNTS[2], COUNTS[0]]
    assert len(rc[[]]) == 0 and rc[[]].K == 5
    with pytest.raises(IndexError):
        rc[3]
    for key in ("a", 1.5, True, [[0]]):
        with pytest.raises(TypeError, match="index must be"):
            rc[key]


def test_to_frame(rc: RatingCounts) -> None:
    df = rc.to_frame()
    assert df.index.name == "id"
    assert df.index.tolist() == ["a", "b", "c"]
    assert df.columns.tolist() == ["c1", "c2", "c3", "c4", "c5"]
    assert df.to_numpy().tolist() == COUNTS
    assert RatingCounts.from_table(df) == rc


def test_equality(rc: RatingCounts) -> None:
    assert rc == RatingCounts(np.array(["a", "b", "c"]), np.array(COUNTS))
    assert rc != RatingCounts(["a", "b", "d"], COUNTS)
    assert rc != RatingCounts(["a", "b", "c"], np.array(COUNTS) * 2)
    assert rc != RatingCounts([0, 1, 2], COUNTS)
    assert rc != rc[:2]
    assert rc != COUNTS


# ---------------------------------------------------------------------------------------------
# validation in the direct constructor (shared by from_table)


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ([[1, -2, 0]], "stimulus 'a', column 'c2': value -2 is negative"),
        ([[1, 2.5, 0]], "stimulus 'a', column 'c2': value 2.5 is not a whole number"),
        ([[1, np.nan, 0]], "stimulus 'a', column 'c2': value nan is missing"),
        ([[1, np.inf, 0]], "stimulus 'a', column 'c2': value inf is not a whole number"),
        ([[1, "x", 0]], "stimulus 'a', column 'c2': value 'x' is a string, not a number"),
        ([[0, 0, 0]], r"stimulus 'a' has no ratings \(columns 'c1'..'c3' all zero"),
        ([[1, 1]], "K must be an integer >= 3"),
        ([1, 2, 3], r"counts must be 2-D .* got shape \(3,\)"),
    ],
)
def test_invalid_counts(counts: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RatingCounts(["a"], counts)


def test_invalid_ids() -> None:
    with pytest.raises(ValueError, match=r"stimulus id 'a' occurs twice \(positions 0 and 2\)"):
        RatingCounts(["a", "b", "a"], [[1, 0, 0]] * 3)
    with pytest.raises(ValueError, match=r"got 2 ids for 3 stimuli"):
        RatingCounts(["a", "b"], [[1, 0, 0]] * 3)
    with pytest.raises(ValueError, match="stimulus id at position 1 is missing"):
        RatingCounts(["a", None], [[1, 0, 0]] * 2)
    with pytest.raises(ValueError, match=r"ids must be 1-D"):
        RatingCounts([["a"]], [[1, 0, 0]])


# ---------------------------------------------------------------------------------------------
# from_table


def test_from_table_detects_columns_id_and_total() -> None:
    df = pd.DataFrame(
        {"name": ["a", "b"], "N1": [1, 0], "N2": [0, 2], "N3": [3, 0], "Total": [4, 2]}
    )
    rc = RatingCounts.from_table(df)
    assert rc.ids.tolist() == ["a", "b"]
    assert rc.counts.tolist() == [[1, 0, 3], [0, 2, 0]]


def test_from_table_csv_path_and_float_ids(tmp_path) -> None:
    csv = tmp_path / "counts.csv"
    csv.write_text("PVS_id,n1,n2,n3,n4,n5\n1000.0,0,0,0,10,14\n1001.0,8,10,6,0,0\n")
    for table in (csv, str(csv)):
        rc = RatingCounts.from_table(table)
        assert rc.ids.dtype == np.int64 and rc.ids.tolist() == [1000, 1001]
        assert rc.counts.tolist() == [[0, 0, 0, 10, 14], [8, 10, 6, 0, 0]]


def test_from_table_explicit_columns_and_index_ids() -> None:
    df = pd.DataFrame(
        {"bad": [1, 0], "fair": [0, 2.0], "good": [3, 1], "note": ["x", "y"]},
        index=pd.Index([10, 11]),
    )
    rc = RatingCounts.from_table(df, columns=["bad", "fair", "good"], id_column="note")
    assert rc.ids.tolist() == ["x", "y"]
    rc = RatingCounts.from_table(df[["bad", "fair", "good"]], columns=["bad", "fair", "good"])
    assert rc.ids.tolist() == [10, 11]
    assert rc.counts.tolist() == [[1, 0, 3], [0, 2, 1]]


def test_from_table_total_column() -> None:
    df = pd.DataFrame({"id": ["a", "b"], "c1": [1, 2], "c2": [1, 0], "c3": [1, 1], "n": [3, 4]})
    message = r"stimulus 'b', column 'n': total 4 disagrees with the sum 3 of 'c1'..'c3'"
    with pytest.raises(ValueError, match=message):
        RatingCounts.from_table(df, total_column="n")
    df = df.rename(columns={"n": "c_total"})
    with pytest.raises(ValueError, match="stimulus 'b', column 'c_total': total 4 disagrees"):
        RatingCounts.from_table(df)
    with pytest.raises(ValueError, match="stimulus 'a', column 'c_total': value -3 is negative"):
        RatingCounts.from_table(df.assign(c_total=[-3, 3]))
    assert RatingCounts.from_table(df.assign(c_total=[3, 3])).n_ratings.tolist() == [3, 3]


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (["id", "c1", "c2", "c3", "n1", "n2", "n3"], r"ambiguous count columns: c1..c3 and n1..n3"),
        (["id", "c1", "c2", "c3", "c5"], "count columns c1..c5 have a gap: no column c4"),
        (["id", "c1", "C1", "c2", "c3"], "count columns 'c1' and 'C1' clash"),
        (["id", "c1", "c2", "x"], r"no count columns c1..cK or n1..nK \(K >= 3\)"),
        (["id", "c1", "c2", "c3", "total", "c_total"], "ambiguous total columns"),
    ],
)
def test_from_table_column_detection_errors(columns: list[str], message: str) -> None:
    df = pd.DataFrame([["a", *[1] * (len(columns) - 1)]], columns=columns)
    with pytest.raises(ValueError, match=message):
        RatingCounts.from_table(df)


def test_from_table_invalid_values() -> None:
    df = pd.DataFrame({"id": ["a", "b"], "c1": [1, 2], "c2": [1, "x"], "c3": [1, 1]})
    with pytest.raises(ValueError, match="stimulus 'b', column 'c2': value 'x' is a string"):
        RatingCounts.from_table(df)
    with pytest.raises(ValueError, match=r"column 'c9' not found; the columns are \['id'"):
        RatingCounts.from_table(df, columns=["c1", "c9", "c3"])
    with pytest.raises(TypeError, match="table must be a pandas DataFrame or a CSV path"):
        RatingCounts.from_table(COUNTS)  # type: ignore[arg-type]
    dup = pd.DataFrame({"id": ["a", "a"], "c1": [1, 2], "c2": [1, 1], "c3": [1, 1]})
    with pytest.raises(ValueError, match="stimulus id 'a' occurs twice"):
        RatingCounts.from_table(dup)


def test_drop_empty_warns_and_names_first_five_ids() -> None:
    ids = [f"s{i}" for i in range(8)]
    counts = [[0, 0, 0]] * 7 + [[1, 2, 3]]
    df = pd.DataFrame(counts, columns=["c1", "c2", "c3"]).assign(id=ids)
    with pytest.raises(ValueError, match=r"stimulus 's0' has no ratings .*7 of 8 stimuli"):
        RatingCounts.from_table(df)
    message = "dropped 7 of 8 stimuli with no ratings: 's0', 's1', 's2', 's3', 's4', ..."
    with pytest.warns(UserWarning, match=re.escape(message)):
        rc = RatingCounts.from_table(df, drop_empty=True)
    assert rc == RatingCounts(["s7"], [[1, 2, 3]])


# ---------------------------------------------------------------------------------------------
# from_ratings, from_wide, from_lists


def test_from_ratings_keeps_first_appearance_order() -> None:
    df = pd.DataFrame({"stim": [9, 2, 9, 2, 5], "score": [1, 2.0, 3, 3, 5]})
    rc = RatingCounts.from_ratings(df, stimulus="stim", rating="score", K=5)
    assert rc.ids.tolist() == [9, 2, 5]
    assert rc.counts.tolist() == [[1, 0, 1, 0, 0], [0, 1, 1, 0, 0], [0, 0, 0, 0, 1]]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (3.5, "is not a whole number"),
        (np.nan, "is missing"),
        ("x", "is a string, not a number"),
        ("3", "is a string, not a number"),
        (True, "is a boolean"),
        (6, r"is outside 1..5"),
        (0, r"is outside 1..5"),
    ],
)
def test_from_ratings_invalid_rating(value: object, reason: str) -> None:
    df = pd.DataFrame({"stimulus": ["a", "b", "c"], "rating": [1, value, 2]}, index=[10, 11, 12])
    message = f"row 11 \\(stimulus 'b'\\), column 'rating': rating {value!r} {reason}"
    with pytest.raises(ValueError, match=message):
        RatingCounts.from_ratings(df)


def test_from_ratings_subjects() -> None:
    df = pd.DataFrame(
        {"stimulus": ["a", "a", "b", "a"], "subject": ["u", "v", "u", "u"], "rating": [1, 2, 3, 4]}
    )
    message = r"stimulus 'a', subject 'u': rated twice \(rows 0 and 3"
    with pytest.raises(ValueError, match=message):
        RatingCounts.from_ratings(df, subject="subject")
    rc = RatingCounts.from_ratings(df.iloc[:3], subject="subject")
    assert rc.counts.tolist() == [[1, 1, 0, 0, 0], [0, 0, 1, 0, 0]]
    with pytest.raises(ValueError, match="row 1, column 'subject': id is missing"):
        RatingCounts.from_ratings(df.assign(subject=["u", None, "u", "w"]), subject="subject")


def test_from_ratings_missing_columns_and_ids() -> None:
    df = long_frame()
    with pytest.raises(ValueError, match="column 'score' not found"):
        RatingCounts.from_ratings(df, rating="score")
    with pytest.raises(ValueError, match="row 0, column 'stimulus': id is missing"):
        RatingCounts.from_ratings(df.assign(stimulus=[None, *df.stimulus[1:]]))
    with pytest.raises(TypeError, match="df must be a pandas DataFrame"):
        RatingCounts.from_ratings(LISTS)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="K must be an integer >= 3"):
        RatingCounts.from_ratings(df, K=2)


def test_from_ratings_unused_categories() -> None:
    df = long_frame()
    df["stimulus"] = pd.Categorical(df.stimulus, categories=["z", "c", "b", "a"])
    with pytest.raises(ValueError, match="stimulus 'z' has no ratings"):
        RatingCounts.from_ratings(df)
    with pytest.warns(UserWarning, match="dropped 1 of 4 stimuli with no ratings: 'z'"):
        rc = RatingCounts.from_ratings(df, drop_empty=True)
    assert rc.ids.tolist() == ["c", "b", "a"]


def test_from_wide_skips_blanks() -> None:
    df = pd.DataFrame(
        {"clip": ["a", "b"], "r1": [5, ""], "r2": [None, 2.0], "r3": [np.nan, 3], "r4": [1, " "]}
    )
    rc = RatingCounts.from_wide(df, id_column="clip")
    assert rc.ids.tolist() == ["a", "b"]
    assert rc.counts.tolist() == [[1, 0, 0, 0, 1], [0, 1, 1, 0, 0]]
    rc = RatingCounts.from_wide(df, id_column="clip", rating_columns=["r1", "r2"], K=5)
    assert rc.counts.tolist() == [[0, 0, 0, 0, 1], [0, 1, 0, 0, 0]]


def test_from_wide_errors() -> None:
    df = pd.DataFrame({"r1": [5, 1], "r2": [2, 4.5]}, index=["a", "b"])
    with pytest.raises(ValueError, match=r"stimulus 'b', column 'r2': rating 4\.5 is not a whole"):
        RatingCounts.from_wide(df)
    with pytest.raises(ValueError, match=r"stimulus 'a', column 'r1': rating 5 is outside 1\.\.4"):
        RatingCounts.from_wide(df, K=4)
    blank = pd.DataFrame({"r1": [5, None], "r2": [2, ""]}, index=["a", "b"])
    with pytest.raises(ValueError, match="stimulus 'b' has no ratings"):
        RatingCounts.from_wide(blank)
    with pytest.warns(UserWarning, match="dropped 1 of 2 stimuli with no ratings: 'b'"):
        assert RatingCounts.from_wide(blank, drop_empty=True).ids.tolist() == ["a"]


def test_from_lists() -> None:
    rc = RatingCounts.from_lists(LISTS)
    assert rc == RatingCounts(list(LISTS), COUNTS)
    rc = RatingCounts.from_lists([[1, 1, 3], np.array([2.0])], K=3)
    assert rc.ids.tolist() == [0, 1] and rc.counts.tolist() == [[2, 0, 1], [0, 1, 0]]
    assert RatingCounts.from_lists([[1], [2]], ids=["x", "y"]).ids.tolist() == ["x", "y"]


def test_from_lists_errors() -> None:
    with pytest.raises(ValueError, match=r"stimulus 'b', position 1: rating 7 is outside 1\.\.5"):
        RatingCounts.from_lists({"a": [1], "b": [2, 7]})
    with pytest.raises(ValueError, match="stimulus 1, position 0: rating None is missing"):
        RatingCounts.from_lists([[1], [None]])
    with pytest.raises(ValueError, match="ids must not be given when ratings is a mapping"):
        RatingCounts.from_lists(LISTS, ids=["x", "y", "z"])
    with pytest.raises(ValueError, match="got 1 ids for 2 stimuli"):
        RatingCounts.from_lists([[1], [2]], ids=["x"])
    with pytest.raises(ValueError, match="stimulus id 'x' occurs twice"):
        RatingCounts.from_lists([[1], [2]], ids=["x", "x"])
    with pytest.raises(TypeError, match="ratings of stimulus 'a' must be a sequence"):
        RatingCounts.from_lists({"a": "123"})
    with pytest.raises(TypeError, match="ratings must be a sequence"):
        RatingCounts.from_lists(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="stimulus 'a' has no ratings"):
        RatingCounts.from_lists({"a": [], "b": [1]})
    with pytest.warns(UserWarning, match="dropped 1 of 2 stimuli with no ratings: 'a'"):
        assert len(RatingCounts.from_lists({"a": [], "b": [1]}, drop_empty=True)) == 1


def test_round_trips_agree() -> None:
    expected = RatingCounts(list(LISTS), COUNTS)
    table = pd.DataFrame(COUNTS, columns=[f"c{k}" for k in range(1, 6)]).assign(id=list(LISTS))
    built = [
        RatingCounts.from_lists(LISTS),
        RatingCounts.from_ratings(long_frame()),
        RatingCounts.from_wide(wide_frame()),
        RatingCounts.from_table(table),
        RatingCounts.from_table(expected.to_frame()),
    ]
    for rc in built:
        assert rc == expected


# ---------------------------------------------------------------------------------------------
# property


@settings(max_examples=50, deadline=None)
@given(
    st.integers(3, 7).flatmap(
        lambda K: st.tuples(
            st.just(K), st.lists(st.lists(st.integers(1, K), min_size=1, max_size=30), max_size=8)
        )
    )
)
def test_from_lists_counts_match_bincount(case: tuple[int, list[list[int]]]) -> None:
    K, ratings = case
    if not ratings:  # found by hypothesis: no stimuli is an error, not an empty result
        with pytest.raises(ValueError, match="no stimuli"):
            RatingCounts.from_lists(ratings, K=K)
        return
    rc = RatingCounts.from_lists(ratings, K=K)
    assert rc.counts.shape == (len(ratings), K)
    assert rc.n_ratings.tolist() == [len(r) for r in ratings]
    for row, r in zip(rc.counts, ratings, strict=True):
        assert row.tolist() == np.bincount(r, minlength=K + 1)[1:].tolist()


# the catalog of inputs that cannot be held exactly: each a ValueError naming the place
_FIVE = ["c1", "c2", "c3", "c4", "c5"]


def _frame(row: list, columns: list | None = None) -> pd.DataFrame:
    return pd.DataFrame([["a", *row]], columns=["id", *(columns or _FIVE)])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: RatingCounts(["a"], [[2**62, 2**62, 0, 0, 0]]),
         r"stimulus 'a': its 9223372036854775808 ratings in columns 'c1'..'c5' exceed what int64 "
         r"holds \(9223372036854775807\)"),
        (lambda: RatingCounts(["a"], [[1e20, 0, 0, 0, 1]]),
         r"stimulus 'a', column 'c1': count 1e\+20 exceeds the largest count that int64 holds"),
        (lambda: RatingCounts(["a"], np.array([[2**63 + 5, 0, 0, 0, 1]], dtype=np.uint64)),
         r"column 'c1': count 9223372036854775813 exceeds"),
        (lambda: RatingCounts.from_table(_frame([True, 1, 1, 1, 1])),
         r"stimulus 'a', column 'c1': value True is a boolean"),
        (lambda: RatingCounts.from_table(_frame([1, " 3 ", 1, 1, 1])),
         r"stimulus 'a', column 'c2': value ' 3 ' is a string, not a number"),
        (lambda: RatingCounts.from_table(_frame([1, 1, 2 + 0j, 1, 1])),
         r"stimulus 'a', column 'c3': value \(2\+0j\) is a complex number"),
        (lambda: RatingCounts.from_table(_frame([1, 1, 1, 1], ["c1", "c2", "c4", "c5"])),
         r"count columns c1..c5 have a gap: no column c3"),
        (lambda: RatingCounts.from_table(_frame([1, 1, 1, 1], ["c1", "c2", "c3", "c4"]), K=5),
         r"K=5 but the table has no count column 'c5'"),
        (lambda: RatingCounts.from_table(_frame([1, 1, 1, 1, 1]).iloc[:0]),
         r"no stimuli"),
        (lambda: RatingCounts.from_ratings(pd.DataFrame({"stimulus": ["a"], "rating": [True]})),
         r"row 0 \(stimulus 'a'\), column 'rating': rating True is a boolean"),
        (lambda: RatingCounts.from_ratings(pd.DataFrame({"stimulus": [], "rating": []})),
         r"no stimuli"),
        (lambda: RatingCounts.from_lists({}), r"no stimuli"),
    ],
)
def test_inputs_that_cannot_be_held_exactly_are_refused(make, message) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_csv_files_are_read_as_written(tmp_path: Path) -> None:
    path = tmp_path / "counts.csv"
    path.write_text("id,c1,c2,c3,c4,c5\n007,1,2,3,4,5\n010,0,0,1,0,0\n")
    rc = RatingCounts.from_table(path)
    assert rc.ids.tolist() == ["007", "010"]
    rc.to_frame().to_csv(tmp_path / "again.csv")
    assert RatingCounts.from_table(tmp_path / "again.csv") == rc
    path.write_text("id,c1,c2,c3,c4,c5\n")
    with pytest.raises(ValueError, match="no stimuli"):
        RatingCounts.from_table(path)
    path.write_text("id,c1,c2,c3,c4,c5\n1,99999999999999999999,2,3,4,5\n")
    with pytest.raises(ValueError, match="stimulus 1, column 'c1': count 99999999999999999999"):
        RatingCounts.from_table(path)


# ---------------------------------------------------------------------------------------------
# counts and totals: exact or refused


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (2**70, "count 1180591620717411303424 exceeds the largest count that int64 holds"),
        (1e20, r"count 1e\+20 exceeds the largest count that int64 holds"),
        (3.5, "value 3.5 is not a whole number"),
        (True, "value True is a boolean"),
        ("3", "value '3' is a string, not a number"),
        (None, "value None is missing"),
        (np.nan, "value nan is missing"),
        (-1, "value -1 is negative"),
        (1 + 2j, r"value \(1\+2j\) is a complex number"),
    ],
)
def test_mixed_python_lists_are_checked_cell_by_cell(value, message) -> None:
    with pytest.raises(ValueError, match=f"stimulus 'b', column 'c3': {message}"):
        RatingCounts(["a", "b"], [[1, 2, 3], [4, 5, value]])
    with pytest.raises(ValueError, match=f"stimulus 'b', column 'n3': {message}"):
        RatingCounts.from_table(
            pd.DataFrame({"id": ["a", "b"], "n1": [1, 4], "n2": [2, 5],
                          "n3": pd.Series([3, value], dtype=object)})
        )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (2**70, r"1180591620717411303424 is outside 1\.\.5"),
        (1e20, r"1e\+20 is outside 1\.\.5"),
        (3.5, "3.5 is not a whole number"),
        (True, "True is a boolean"),
        ("3", "'3' is a string, not a number"),
        (None, "None is missing"),
        (np.nan, "nan is missing"),
        (-1, r"-1 is outside 1\.\.5"),
        (3 + 0j, r"\(3\+0j\) is a complex number"),
    ],
)
def test_from_lists_checks_every_rating(value, reason) -> None:
    with pytest.raises(ValueError, match=f"stimulus 'b', position 2: rating {reason}"):
        RatingCounts.from_lists({"a": [1, 2], "b": [5, 4, value]})


def test_row_totals_are_exact() -> None:
    top = 2**63 - 1
    assert RatingCounts(["a"], [[2**62, 2**62 - 1, 0]]).n_ratings.tolist() == [top]
    assert RatingCounts(["a"], np.array([[top - 1, 1, 0]])).n_ratings.tolist() == [top]
    for row in ([top, 1, 0], [2**62, 2**62, 0], [3 * 2**61, 3 * 2**61, 5]):
        total = sum(row)
        message = f"stimulus 'b': its {total} ratings in columns 'c1'..'c3' exceed what int64"
        with pytest.raises(ValueError, match=message):
            RatingCounts(["a", "b"], np.array([[1, 1, 1], row], dtype=np.uint64))
    rc = RatingCounts(["a", "b"], [[2**62, 0, 1], [2**62, 0, 1]])
    assert repr(rc) == f"RatingCounts(n=2, K=3, ratings={2**63 + 2})"


def test_integral_floats_are_exact_and_columns_keep_their_types() -> None:
    rc = RatingCounts(["a"], np.array([[2.0**53 + 2, 0.0, 3.0]]))
    assert rc.counts.tolist() == [[2**53 + 2, 0, 3]]
    df = pd.DataFrame({"id": ["a"], "c1": [2**60 + 1], "c2": [2.0], "c3": [np.float32(1)]})
    assert RatingCounts.from_table(df).counts.tolist() == [[2**60 + 1, 2, 1]]
    with pytest.raises(ValueError, match=r"column 'c1': count 9223372036854775813 exceeds"):
        RatingCounts(["a"], np.array([[2**63 + 5, 0, 1]], dtype=np.uint64))
    with pytest.raises(ValueError, match=r"column 'c2': count 9.223372036854776e\+18 exceeds"):
        RatingCounts(["a"], np.array([[0.0, 2.0**63, 1.0]]))


# ---------------------------------------------------------------------------------------------
# readers


def test_csv_text_is_read_as_written(tmp_path: Path) -> None:
    path = tmp_path / "counts.csv"
    path.write_text(
        "id,c1,c2,c3\n007,1,2,3\n a,1,1,1\n1000.0,0,0,1\nNA,1,0,0\nnan,2,0,0\n"
        '"x,""y""",0,3,0\n2024-01-02,1,1,0\n\n'
    )
    rc = RatingCounts.from_table(path)
    assert rc.ids.tolist() == ["007", " a", "1000.0", "NA", "nan", 'x,"y"', "2024-01-02"]
    assert rc.counts[:2].tolist() == [[1, 2, 3], [1, 1, 1]]
    path.write_text("PVS_id,c1,c2,c3\n1000.0,1,2,3\n1001.0,0,1,0\n")  # whole numbers: int ids
    assert RatingCounts.from_table(path).ids.tolist() == [1000, 1001]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,c1,c2,c3\n", "no stimuli"),
        ("", "no header line"),
        ("id,c1,c2,c3\na,1,2,3,4\nb,1,1,1\n", "line 2: 5 fields, but the header has 4"),
        ("id,c1,c2,c3\na,1,2,3\nb,1,1\n", "line 3: 3 fields, but the header has 4"),
        ("id,c1,c1,c2,c3\na,1,2,3,3\n", "the header names column 'c1' twice"),
        ("id,c1,c2,c3\na,1,2,3\na,1,1,1\n", r"stimulus id 'a' occurs twice \(positions 0 and 1"),
        ("id,c1,c2,c3\na,,2,3\n", "stimulus 'a', column 'c1': value None is missing"),
        ("id,c1,c2,c3\na,NA,2,3\n", "stimulus 'a', column 'c1': value 'NA' is a string"),
        ("id,c1,c2,c3\na,1e3,2,3\n", "stimulus 'a', column 'c1': value '1e3' is a string"),
        ("id,c1,c2,c3\na,007,2,3\n", "stimulus 'a', column 'c1': value '007' is a string"),
        ("id,c1,c2,c3\na,2.5,2,3\n", "stimulus 'a', column 'c1': value 2.5 is not a whole"),
        (f"id,c1,c2,c3\na,{2**62},{2**62},1\n", f"stimulus 'a': its {2**63 + 1} ratings"),
    ],
)
def test_bad_csv_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "counts.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        RatingCounts.from_table(path)


def test_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("\n\nid,c1,c2,c3\n\n a ,1,2,3\n\n")  # empty lines are skipped
    assert RatingCounts.from_table(path).ids.tolist() == [" a "]
    path.write_text("id\n \n\nx\n")  # a line of blanks is a field
    assert rd_read(path)["id"].tolist() == [" ", "x"]


def test_frames_without_rows_and_typed_frames() -> None:
    for empty in (pd.DataFrame(), pd.DataFrame(columns=["id", "c1", "c2", "c3"])):
        with pytest.raises(ValueError, match="no stimuli"):
            RatingCounts.from_table(empty)
    text = pd.DataFrame({"id": ["007"], "c1": ["1"], "c2": ["2"], "c3": ["3"]})  # dtype=str
    with pytest.raises(ValueError, match="stimulus '007', column 'c1': value '1' is a string"):
        RatingCounts.from_table(text)
    dates = pd.DataFrame({"day": pd.to_datetime(["2024-01-01", "2024-01-02"]),
                          "c1": [1, 0], "c2": [0, 1], "c3": [1, 1]})
    assert RatingCounts.from_table(dates).ids.tolist() == [
        "2024-01-01 00:00:00", "2024-01-02 00:00:00"
    ]
    nat = dates.assign(day=[dates["day"][0], pd.NaT])
    with pytest.raises(ValueError, match="stimulus id at position 1 is missing"):
        RatingCounts.from_table(nat)
    with pytest.raises(ValueError, match="stimulus id at position 0 is empty"):
        RatingCounts(["", "a"], [[1, 0, 0], [0, 1, 0]])
    assert RatingCounts([2**70, 1e20], [[1, 0, 0], [0, 1, 0]]).ids.tolist() == [
        str(2**70), "1e+20"
    ]


def test_from_ratings_reads_csv_as_written(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text("stimulus,subject,rating\n007,NA,5\n010,NA,1\n007,s2,4.0\n")
    rc = RatingCounts.from_ratings(path, subject="subject")
    assert rc.ids.tolist() == ["007", "010"]
    assert rc.counts.tolist() == [[0, 0, 0, 1, 1], [1, 0, 0, 0, 0]]
    for cell, message in [
        ("6", r"row 1 \(stimulus '010'\), column 'rating': rating 6 is outside 1\.\.5"),
        ("2.5", r"row 1 \(stimulus '010'\), column 'rating': rating 2\.5 is not a whole number"),
        ("", r"row 1 \(stimulus '010'\), column 'rating': rating None is missing"),
        ("True", r"row 1 \(stimulus '010'\), column 'rating': rating 'True' is a string"),
    ]:
        path.write_text(f"stimulus,rating\n007,5\n010,{cell}\n")
        with pytest.raises(ValueError, match=message):
            RatingCounts.from_ratings(path)
    path.write_text("stimulus,rating\n")
    with pytest.raises(ValueError, match="no stimuli"):
        RatingCounts.from_ratings(path)
    with pytest.raises(TypeError, match="df must be a pandas DataFrame or a CSV path"):
        RatingCounts.from_ratings(5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "reason"),
    [(6, r"6 is outside 1\.\.5"), (0.5, r"0\.5 is not a whole number"),
     (True, "True is a boolean"), (np.nan, "nan is missing")],
)
def test_from_ratings_names_row_and_value(value, reason) -> None:
    df = pd.DataFrame({"stimulus": ["a", "b"], "rating": [1, value]}, index=[7, 8], dtype=object)
    message = rf"row 8 \(stimulus 'b'\), column 'rating': rating {reason}"
    with pytest.raises(ValueError, match=message):
        RatingCounts.from_ratings(df)


def _write_compressed(path, text):
    import bz2
    import gzip
    import lzma
    import zipfile

    data = text.encode()
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("table.csv", data)
    else:
        opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[path.suffix]
        with opener(path, "wb") as handle:
            handle.write(data)


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz", ".zip"])
@pytest.mark.parametrize("text", ["id,c1,c2,c3\r\n007,1,2,3\r\nNA,0,0,4\r\n",
                                  "id,c1,c2,c3\n007,1,2,3\n\nNA,0,0,4\n"])
def test_compressed_csv_reads_like_plain(tmp_path, suffix, text):
    plain = tmp_path / "t.csv"
    plain.write_bytes(text.encode())
    packed = tmp_path / f"t.csv{suffix}"
    _write_compressed(packed, text)
    expected = rd_read(plain)
    assert expected["id"].tolist() == ["007", "NA"]
    pd.testing.assert_frame_equal(rd_read(packed), expected, check_exact=True)
    assert RatingCounts.from_table(packed).ids.tolist() == ["007", "NA"]


def test_zip_with_two_files_is_refused(tmp_path):
    import zipfile

    path = tmp_path / "t.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", "id,c1,c2,c3\n1,1,2,3\n")
        archive.writestr("b.csv", "id,c1,c2,c3\n1,1,2,3\n")
    with pytest.raises(ValueError, match="exactly one file, it holds 2"):
        rd_read(path)


def test_zst_without_zstandard_says_what_to_install(tmp_path):
    try:
        import zstandard
    except ImportError:
        path = tmp_path / "t.csv.zst"
        path.write_bytes(b"\x28\xb5\x2f\xfd")
        with pytest.raises(ValueError, match="pip install zstandard"):
            rd_read(path)
    else:
        path = tmp_path / "t.csv.zst"
        with zstandard.open(path, "wt", encoding="utf-8") as handle:
            handle.write("id,c1,c2,c3\n007,1,2,3\n")
        assert rd_read(path)["id"].tolist() == ["007"]
