"""Tests of ratingdist.ratings: the readers of individual ratings, their checks and views."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ratingdist as rd
from ratingdist import datasets
from ratingdist.data import RatingCounts
from ratingdist.ratings import Ratings


@pytest.fixture
def long() -> pd.DataFrame:
    return pd.DataFrame({
        "stimulus": ["a", "a", "b", "b", "b", "c"],
        "subject": ["s1", "s2", "s1", "s2", "s2", "s1"],
        "rep": [1, 1, 1, 1, 2, 1],
        "rating": [4, 5, 2, 1, 2, 3.0],
        "lab": ["x", "x", "x", "y", "y", "x"],
        "src": [0, 0, 0, 0, 0, 1],
    })


def test_from_long(long) -> None:
    r = Ratings.from_long(long, repetition="rep", group="lab", content="src")
    assert repr(r) == "Ratings(stimuli=3, subjects=2, ratings=6, K=5, repetitions=2)"
    assert r.ids.tolist() == ["a", "b", "c"] and r.subjects.tolist() == ["s1", "s2"]
    assert r.contents.tolist() == [0, 0, 1]
    assert r.values.tolist() == [4, 5, 2, 1, 2, 3]
    assert r.repetition_index.tolist() == [0, 0, 0, 0, 1, 0]
    dense = r.array()
    assert dense.shape == (3, 2, 2)
    assert np.isnan(dense[2, 1]).all() and dense[1, 1].tolist() == [1.0, 2.0]
    frame = r.to_frame()
    assert frame.columns.tolist() == ["stimulus", "subject", "rating", "repetition", "group",
                                      "content"]
    assert frame["group"].tolist() == long["lab"].tolist()
    assert r.counts() == RatingCounts.from_ratings(long, K=5)


def test_summaries(long) -> None:
    r = Ratings.from_long(long, repetition="rep")
    stim = r.stimulus_summary()
    assert stim["id"].tolist() == ["a", "b", "c"]
    assert stim["n"].tolist() == [2, 3, 1] and stim["n_subjects"].tolist() == [2, 2, 1]
    expected = long.groupby("stimulus", sort=False)["rating"]
    np.testing.assert_allclose(stim["mean"], expected.mean(), rtol=1e-15)
    np.testing.assert_allclose(stim["std"], expected.std().fillna(0.0), rtol=1e-15)
    assert stim["min"].tolist() == [4, 1, 3] and stim["max"].tolist() == [5, 2, 3]
    subj = r.subject_summary()
    assert subj["n"].tolist() == [3, 3] and subj["n_stimuli"].tolist() == [3, 2]
    np.testing.assert_allclose(subj["mean"], [3.0, 8 / 3], rtol=1e-15)


def test_ids_keep_their_spelling(tmp_path: Path) -> None:
    file = tmp_path / "long.csv"
    file.write_text("video,rater,score\n007,01,5\n7,1,4\n007,1,3\n")
    r = Ratings.from_long(file, stimulus="video", subject="rater", rating="score")
    assert r.ids.tolist() == ["007", "7"] and r.subjects.tolist() == ["01", "1"]
    numeric = Ratings.from_long(pd.DataFrame({"stimulus": [3.0, 4.0], "subject": [1, 1],
                                              "rating": [1, 2]}))
    assert numeric.ids.dtype == np.int64 and numeric.ids.tolist() == [3, 4]


def test_from_wide(tmp_path: Path) -> None:
    wide = pd.DataFrame({"s1": [5, 2, None], "s2": [4, " ", 1], "s3": ["", 3, 3]},
                        index=["a", "b", "c"])
    r = Ratings.from_wide(wide)
    assert r.ids.tolist() == ["a", "b", "c"] and r.subjects.tolist() == ["s1", "s2", "s3"]
    assert r.to_frame().to_dict("list") == {
        "stimulus": ["a", "a", "b", "b", "c", "c"],
        "subject": ["s1", "s2", "s1", "s3", "s2", "s3"],
        "rating": [5, 4, 2, 3, 1, 3],
    }
    file = tmp_path / "wide.csv"
    wide.rename_axis("video").reset_index().to_csv(file, index=False)
    from_file = Ratings.from_wide(file)
    assert from_file.to_frame().equals(r.to_frame())
    chosen = Ratings.from_wide(wide, subject_columns=["s2", "s1"])
    assert chosen.subjects.tolist() == ["s2", "s1"] and chosen.n_ratings == 4


def _write_sureal(path: Path, os_values: list, prefix: str = "") -> Path:
    """A sureal dataset file; paths as expressions that a reader must skip."""
    videos = ",\n".join(
        f"{{'asset_id': {k}, 'content_id': {k // 2}, 'os': {os!r}, "
        f"'path': dis_dir + '/v{k}.yuv'}}"
        for k, os in enumerate(os_values)
    )
    path.write_text(f"{prefix}dis_dir = '/x'\nref_videos = []\ndis_videos = [\n{videos}\n]\n")
    return path


def test_from_sureal_python_is_parsed_not_run(tmp_path: Path) -> None:
    file = _write_sureal(tmp_path / "d.py", [[1, 2.0, 3], [4, 5, [5, 4]]],
                         prefix="raise SystemExit('executed')\n")
    r = Ratings.from_sureal(file)
    assert r.ids.tolist() == [0, 1] and r.subjects.tolist() == [0, 1, 2]
    assert r.contents.tolist() == [0, 0]
    assert r.n_repetitions == 2
    assert r.to_frame()["rating"].tolist() == [1, 2, 3, 4, 5, 5, 4]
    assert r.to_frame()["repetition"].tolist() == [0, 0, 0, 0, 0, 0, 1]


def test_from_sureal_dict_os(tmp_path: Path) -> None:
    file = _write_sureal(tmp_path / "d.py", [{"ann": 3, "bob": [4, 5]}, {"bob": 1, "cy": 2}])
    r = Ratings.from_sureal(file)
    assert r.subjects.tolist() == ["ann", "bob", "cy"]
    assert np.array_equal(r.array()[:, :, 0], [[3, 4, np.nan], [np.nan, 1, 2]], equal_nan=True)
    assert r.array()[0, 1].tolist() == [4, 5]


def test_from_sureal_json(tmp_path: Path) -> None:
    data = {"dis_videos": [
        {"asset_id": "v1", "content_id": 0, "os": [5, None, [4, 3]], "path": "x"},
        {"asset_id": "v2", "content_id": 1, "os": [1, 2, 2]},
    ]}
    file = tmp_path / "d.json"
    file.write_text(json.dumps(data))
    r = Ratings.from_sureal(file)
    assert r.ids.tolist() == ["v1", "v2"] and r.n_ratings == 6
    assert r.subjects.tolist() == [0, 2, 1]  # in order of their first rating
    assert np.array_equal(r.array()[0], [[5, np.nan], [4, 3], [np.nan, np.nan]], equal_nan=True)
    assert r.counts().counts.tolist() == [[0, 0, 1, 1, 1], [1, 2, 0, 0, 0]]


@pytest.mark.data
def test_sureal_datasets(nflx, vqeg_hd3) -> None:
    assert isinstance(nflx, Ratings) and isinstance(vqeg_hd3, Ratings)
    assert (nflx.n_stimuli, nflx.n_subjects, nflx.n_ratings) == (79, 26, 2054)
    assert (vqeg_hd3.n_stimuli, vqeg_hd3.n_subjects, vqeg_hd3.n_ratings) == (72, 24, 1728)
    assert nflx.ids[:3].tolist() == [9, 10, 11] and len(set(nflx.contents.tolist())) == 9
    assert nflx.array()[0, :5, 0].tolist() == [1.0, 1.0, 1.0, 2.0, 1.0]
    assert nflx.counts().counts.sum() == 2054
    assert datasets.citation("nflx-public").startswith("Netflix public dataset")
    assert datasets.path("vqeg-hd3").name == "VQEGHD3_dataset_raw.py"


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rating": [4, 5, 2, 1, 2, 6]},
         r"row 5 \(stimulus 'c', subject 's1'\), column 'rating': rating 6 is outside 1\.\.5"),
        ({"rating": [4, 5, 2.5, 1, 2, 3]},
         r"row 2 \(stimulus 'b', subject 's1'\), column 'rating': rating 2\.5 is not a whole"),
        ({"rating": [4, 5, 2, None, 2, 3]},
         r"row 3 \(stimulus 'b', subject 's2'\), column 'rating': rating nan is missing"),
        ({"rating": [4, 5, 2, "x", 2, 3]}, r"row 3 .*: rating 'x' is a string, not a number"),
        ({"subject": ["s1", None, "s1", "s2", "s2", "s1"]}, r"row 1, column 'subject': id is "),
    ],
)
def test_bad_values(long, change, message) -> None:
    with pytest.raises(ValueError, match=message):
        Ratings.from_long(long.assign(**change), repetition="rep")


def test_duplicate_cells(long) -> None:
    with pytest.raises(ValueError, match=r"row 4 \(stimulus 'b', subject 's2'\): cell rated "
                       r"twice, also in row 3; name the repetition column"):
        Ratings.from_long(long)
    with pytest.raises(ValueError, match=r"row 4 \(stimulus 'b', subject 's2', repetition 1 "
                       r"\(column 'rep'\)\): cell rated twice, also in row 3"):
        Ratings.from_long(long.assign(rep=1), repetition="rep")


def test_other_bad_long_input(long) -> None:
    with pytest.raises(ValueError, match=r"column 'score' not found"):
        Ratings.from_long(long, rating="score")
    with pytest.raises(ValueError, match=r"stimulus 'b' has contents 0 and 1"):
        Ratings.from_long(long.assign(src=[0, 0, 0, 1, 1, 1]), repetition="rep", content="src")
    with pytest.raises(ValueError, match="no ratings"):
        Ratings.from_long(long.iloc[:0])
    with pytest.raises(ValueError, match="K must be an integer >= 3"):
        Ratings.from_long(long, K=2)
    with pytest.raises(TypeError, match="build Ratings with"):
        Ratings()


def test_bad_wide_input() -> None:
    wide = pd.DataFrame({"s1": [5, 2], "s2": [4, 7]}, index=["a", "b"])
    with pytest.raises(ValueError, match=r"row 'b' \(stimulus 'b', subject 's2'\), column 's2':"
                       r" rating 7 is outside 1\.\.5"):
        Ratings.from_wide(wide)
    with pytest.raises(ValueError, match="subject 's2' has no ratings"):
        Ratings.from_wide(wide.assign(s2=[None, None]))
    with pytest.raises(ValueError, match="stimulus 'b' has no ratings"):
        Ratings.from_wide(pd.DataFrame({"s1": [5, None]}, index=["a", "b"]))
    with pytest.raises(ValueError, match="stimulus id 'a' occurs twice"):
        Ratings.from_wide(wide.set_axis(["a", "a"]))


@pytest.mark.parametrize(
    ("os_values", "message"),
    [
        ([[1, 2], [3, 9]], r"dis_videos\[1\] \(stimulus 1, subject 1\), 'os': rating 9 is "
                           r"outside 1\.\.5"),
        ([[1, 2], [3, [4, 0.5]]], r"dis_videos\[1\] \(stimulus 1, subject 1, repetition 1\), "
                                  r"'os': rating 0\.5"),
        ([[1, 2], [3]], r"dis_videos\[1\] \(asset_id 1\): 'os' must be a list of 2 scores"),
        ([{"a": 1}, 5], r"dis_videos\[1\] \(asset_id 1\): 'os' must be a list or a dict"),
    ],
)
def test_bad_sureal_scores(tmp_path: Path, os_values, message) -> None:
    with pytest.raises(ValueError, match=message):
        Ratings.from_sureal(_write_sureal(tmp_path / "d.py", os_values))


def test_bad_sureal_files(tmp_path: Path) -> None:
    file = tmp_path / "d.py"
    file.write_text("x = 1\n")
    with pytest.raises(ValueError, match="no literal list assigned to 'dis_videos'"):
        Ratings.from_sureal(file)
    file.write_text("s = [1]\ndis_videos = [{'asset_id': 1, 'os': s}]\n")
    with pytest.raises(ValueError, match=r"dis_videos\[0\]\['os'\] is not a literal value"):
        Ratings.from_sureal(file)
    file.write_text("dis_videos = [{'os': [1]}]\n")
    with pytest.raises(ValueError, match=r"dis_videos\[0\] has no 'asset_id'"):
        Ratings.from_sureal(file)
    file.write_text("dis_videos = [{'asset_id': 1, 'os': [1]}, {'asset_id': 1, 'os': [2]}]\n")
    with pytest.raises(ValueError, match="stimulus id 1 occurs twice"):
        Ratings.from_sureal(file)
    file.write_text("dis_videos = []\n")
    with pytest.raises(ValueError, match="dis_videos is empty"):
        Ratings.from_sureal(file)
    file.write_text("dis_videos = [{'asset_id': 1, 'os': [1]\n")
    with pytest.raises(ValueError,
                       match=r"d\.py: cannot read it as a sureal dataset file \(SyntaxError"):
        Ratings.from_sureal(file)
    js = tmp_path / "d.json"
    js.write_text("[1, 2]")
    with pytest.raises(ValueError, match="no list 'dis_videos'"):
        Ratings.from_sureal(js)


def test_public_name() -> None:
    assert rd.Ratings is Ratings


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "007", "7"]), st.integers(0, 4),
                          st.integers(0, 2), st.integers(1, 5)),
                min_size=1, max_size=40, unique_by=lambda t: t[:3]))
def test_long_round_trip(rows) -> None:
    """from_long keeps every rating, in order, and counts them as RatingCounts does."""
    long = pd.DataFrame(rows, columns=["stimulus", "subject", "rep", "rating"])
    r = Ratings.from_long(long, repetition="rep")
    frame = r.to_frame()
    assert frame["stimulus"].tolist() == long["stimulus"].tolist()
    assert frame["subject"].tolist() == long["subject"].tolist()
    assert frame["rating"].tolist() == long["rating"].tolist()
    assert r.counts() == RatingCounts.from_ratings(long)
    dense = r.array()
    assert np.count_nonzero(~np.isnan(dense)) == len(long)
    assert np.nansum(dense) == long["rating"].sum()
