"""Individual ratings: who rated what, how often, on a K-point scale.

:class:`Ratings` is the long table (stimulus, subject, rating[, repetition, group]) of a
subjective study, one row per rating. Cells (stimulus × subject) may be missing, and a subject
may rate a stimulus more than once (repetitions). Stimuli may carry a *content* (the source
that several processed versions share), which the content-ambiguity model of
:func:`ratingdist.subjects.mle` uses.

Readers check their input at this edge with the conventions of :mod:`ratingdist.data`: ids
keep their exact spelling (whole numbers become int64, anything else ``str``), and every bad
value is a ``ValueError`` naming the row, the subject and the value: ratings outside 1..K,
fractional or missing ratings, and the same (stimulus, subject, repetition) cell twice.

- :meth:`Ratings.from_long`: one row per rating (a lab-study export);
- :meth:`Ratings.from_wide`: one row per stimulus, one column per subject, blanks missing;
- :meth:`Ratings.from_sureal`: a dataset file of Netflix sureal (``.py`` parsed from its
  syntax tree, never executed, or ``.json``).

:meth:`Ratings.counts` gives the :class:`~ratingdist.data.RatingCounts` that every
per-stimulus fit starts from; :func:`ratingdist.subjects` analyses the ratings subject by
subject.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ratingdist.data import (
    RatingCounts,
    _blank,
    _rating_codes,
    _read_table,
    _require_columns,
    _require_present,
    _show,
    _tally,
)
from ratingdist.scale import DEFAULT_K, check_K


class Ratings:
    """Ratings of stimuli by subjects on a K-point scale, one entry per rating; immutable.

    Build it with :meth:`from_long`, :meth:`from_wide` or :meth:`from_sureal`. Stimuli and
    subjects are kept in order of first appearance.

    Examples
    --------
    >>> long = pd.DataFrame({"stimulus": ["a", "a", "b", "b", "b"],
    ...                      "subject": ["s1", "s2", "s1", "s2", "s2"],
    ...                      "rep": [0, 0, 0, 0, 1], "rating": [4, 5, 2, 1, 2]})
    >>> r = Ratings.from_long(long, repetition="rep")
    >>> r
    Ratings(stimuli=2, subjects=2, ratings=5, K=5, repetitions=2)
    >>> r.ids.tolist(), r.subjects.tolist(), r.counts().counts.tolist()
    (['a', 'b'], ['s1', 's2'], [[0, 0, 0, 1, 1], [1, 2, 0, 0, 0]])
    >>> r.array()[1].tolist()  # stimulus 'b': subjects × repetitions, NaN where missing
    [[2.0, nan], [1.0, 2.0]]
    """

    __slots__ = ("_K", "_contents", "_group", "_ids", "_rating", "_rep", "_stim", "_subj",
                 "_subjects")

    def __init__(self) -> None:
        raise TypeError("build Ratings with Ratings.from_long, from_wide or from_sureal")

    @classmethod
    def _new(
        cls,
        ids: NDArray[Any],
        subjects: NDArray[Any],
        stim: NDArray[np.int64],
        subj: NDArray[np.int64],
        rep: NDArray[np.int64],
        rating: NDArray[np.int64],
        K: int,
        contents: NDArray[Any] | None = None,
        group: NDArray[Any] | None = None,
    ) -> Ratings:
        """Wrap checked arrays; the (stimulus, subject, repetition) cells must be unique."""
        obj = cls.__new__(cls)
        obj._ids, obj._subjects = _frozen(ids), _frozen(subjects)
        obj._stim, obj._subj, obj._rep = _frozen(stim), _frozen(subj), _frozen(rep)
        obj._rating, obj._K = _frozen(rating), K
        obj._contents = None if contents is None else _frozen(contents)
        obj._group = None if group is None else _frozen(group)
        return obj

    # ----------------------------------------------------------------------------------------
    # readers

    @classmethod
    def from_long(
        cls,
        table: pd.DataFrame | str | PathLike[str],
        stimulus: Any = "stimulus",
        subject: Any = "subject",
        rating: Any = "rating",
        repetition: Any = None,
        group: Any = None,
        content: Any = None,
        K: int = DEFAULT_K,
    ) -> Ratings:
        """Read long-format ratings: one row per rating.

        Parameters
        ----------
        table : DataFrame or str or path
            The ratings, or the path of a CSV file holding them (read as written, so that ids
            such as ``007`` stay strings).
        stimulus, subject, rating : column names
            Stimulus id, subject id and the rating (a whole number in 1..K; ``3.0`` is fine).
        repetition : column name, optional
            Which repetition of the (stimulus, subject) cell a row is. Without it every cell
            may be rated once.
        group : column name, optional
            A label per rating (e.g. the lab or session), kept in :meth:`to_frame`.
        content : column name, optional
            The source content of each stimulus; must be the same in all rows of a stimulus.
        K : int
            Number of rating categories.

        Returns
        -------
        Ratings

        Raises
        ------
        ValueError
            If a column is absent, an id is missing, a rating is missing, fractional or
            outside 1..K (naming the row, the stimulus, the subject and the value), a cell is
            rated twice, or a stimulus has two contents.

        Examples
        --------
        >>> long = pd.DataFrame({"video": [1, 1, 2], "rater": ["x", "y", "x"],
        ...                      "score": [5, 4, 6]})
        >>> Ratings.from_long(long, stimulus="video", subject="rater", rating="score")
        Traceback (most recent call last):
        ...
        ValueError: row 2 (stimulus 2, subject 'x'), column 'score': rating 6 is outside 1..5
        """
        K = check_K(K)
        df = _read_table(table)
        optional = [c for c in (repetition, group, content) if c is not None]
        _require_columns(df, [stimulus, subject, rating, *optional])
        if len(df) == 0:
            raise ValueError("no ratings: the table has no rows")
        for column in (stimulus, subject, *([] if repetition is None else [repetition])):
            _require_present(df, column)
        stim, ids = _codes(df[stimulus], "stimulus")
        subj, subjects = _codes(df[subject], "subject")
        codes = _rating_codes(
            df[rating].to_numpy(),
            K,
            lambda i: (
                f"row {_show(df.index[i])} (stimulus {_show(ids[stim[i]])}, subject "
                f"{_show(subjects[subj[i]])}), column {rating!r}"
            ),
        )
        if repetition is None:
            rep = np.zeros(len(df), dtype=np.int64)
        else:
            rep = pd.factorize(df[repetition], sort=True)[0].astype(np.int64)
        _check_unique_cells(
            stim, subj, rep, ids, subjects,
            lambda i: f"row {_show(df.index[i])}",
            "" if repetition is None else f", repetition {{}} (column {repetition!r})",
            None if repetition is None else df[repetition].to_numpy(),
        )
        contents = None if content is None else _contents(df[content], stim, ids, content)
        groups = None if group is None else _frozen(df[group].to_numpy(dtype=object).copy())
        return cls._new(ids, subjects, stim, subj, rep, codes + 1, K, contents, groups)

    @classmethod
    def from_wide(
        cls,
        table: pd.DataFrame | str | PathLike[str],
        id_column: Any = None,
        subject_columns: Sequence[Any] | None = None,
        K: int = DEFAULT_K,
    ) -> Ratings:
        """Read a stimuli × subjects table: one row per stimulus, one column per subject.

        Blank cells (NaN, None, empty or all-space strings) are missing ratings.

        Parameters
        ----------
        table : DataFrame or str or path
            The table, or the path of a CSV file holding it.
        id_column : column name, optional
            The stimulus ids; by default the index of a DataFrame, the first column of a file.
        subject_columns : sequence of column names, optional
            The subjects' columns (the names are the subject ids); by default all other columns.
        K : int
            Number of rating categories.

        Returns
        -------
        Ratings

        Raises
        ------
        ValueError
            If a filled cell is not a whole number in 1..K (naming the row, the stimulus, the
            subject and the value), ids repeat, or a stimulus or subject has no rating.

        Examples
        --------
        >>> wide = pd.DataFrame({"s1": [5, 2], "s2": [4, None]}, index=["a", "b"])
        >>> r = Ratings.from_wide(wide)
        >>> r.to_frame().to_dict("list")
        {'stimulus': ['a', 'a', 'b'], 'subject': ['s1', 's2', 's1'], 'rating': [5, 4, 2]}
        """
        K = check_K(K)
        df = _read_table(table)
        if id_column is None and not isinstance(table, pd.DataFrame):
            id_column = df.columns[0]
        columns = (
            [c for c in df.columns if id_column is None or c != id_column]
            if subject_columns is None else list(subject_columns)
        )
        _require_columns(df, [*columns, *([] if id_column is None else [id_column])])
        if len(df) == 0 or not columns:
            raise ValueError("no ratings: the table has no rows or no subject columns")
        raw_ids = df.index if id_column is None else df[id_column]
        ids = _unique_labels(raw_ids, "stimulus")
        subjects = _unique_labels(pd.Index(columns), "subject")
        cells = df[columns].to_numpy(dtype=object).ravel()
        filled = np.flatnonzero(~_blank(cells))
        m = len(columns)
        stim, subj = filled // m, filled % m
        codes = _rating_codes(
            cells[filled],
            K,
            lambda t: (
                f"row {_show(df.index[stim[t]])} (stimulus {_show(ids[stim[t]])}, subject "
                f"{_show(subjects[subj[t]])}), column {columns[subj[t]]!r}"
            ),
        )
        _require_rated(np.bincount(stim, minlength=len(ids)), ids, "stimulus")
        _require_rated(np.bincount(subj, minlength=m), subjects, "subject")
        rep = np.zeros(len(filled), dtype=np.int64)
        return cls._new(ids, subjects, stim.astype(np.int64), subj.astype(np.int64), rep,
                        codes + 1, K)

    @classmethod
    def from_sureal(cls, path: str | PathLike[str], K: int = DEFAULT_K) -> Ratings:
        """Read a dataset file of Netflix sureal: ``.py`` (parsed, never run) or ``.json``.

        The file defines ``dis_videos``, a list of dicts with ``asset_id`` (the stimulus id),
        ``content_id`` (its source content) and ``os``, the opinion scores: a list with one
        entry per subject (subject ids 0, 1, … in list order; ``null``/NaN for a missing
        cell) or a dict ``{subject: score}``; an entry may itself be a list of repeated
        ratings (repetitions 0, 1, …). A ``.py``
        file is read from its syntax tree: only the literal values of ``asset_id``,
        ``content_id`` and ``os`` are used, other keys (paths written as expressions such as
        ``dis_dir + '/x.yuv'``) are skipped. A ``.json`` file holds an object with the key
        ``dis_videos``.

        Parameters
        ----------
        path : str or path
            The dataset file.
        K : int
            Number of rating categories.

        Returns
        -------
        Ratings
            Stimuli in file order, with :attr:`contents` from ``content_id``.

        Raises
        ------
        ValueError
            If ``dis_videos`` is absent or not a literal list, an entry lacks ``asset_id`` or
            ``os``, ``os`` is neither a list nor a dict, list-style ``os`` differ in length, a
            score is not a whole number in 1..K (naming the entry, the stimulus, the subject and
            the value), or an ``asset_id`` repeats.

        References
        ----------
        Netflix sureal, ``sureal/dataset_reader.py`` (``RawDatasetReader``), Apache-2.0.
        """
        K = check_K(K)
        videos = _sureal_videos(Path(path))
        if not videos:
            raise ValueError(f"{path}: dis_videos is empty")
        listed = isinstance(videos[0].get("os"), list | tuple)
        n_subjects = len(videos[0]["os"]) if listed and "os" in videos[0] else 0
        raw_ids, contents, stim, subj_keys, rep, values, where = [], [], [], [], [], [], []
        for j, video in enumerate(videos):
            for key in ("asset_id", "os"):
                if key not in video:
                    raise ValueError(f"{path}: dis_videos[{j}] has no {key!r}")
            scores = video["os"]
            if listed:
                if not isinstance(scores, list | tuple) or len(scores) != n_subjects:
                    raise ValueError(
                        f"{path}: dis_videos[{j}] (asset_id {_show(video['asset_id'])}): 'os' "
                        f"must be a list of {n_subjects} scores like dis_videos[0], got "
                        f"{type(scores).__name__} of length {len(scores)}"
                    )
                items = list(enumerate(scores))
            elif isinstance(scores, dict):
                items = list(scores.items())
            else:
                raise ValueError(
                    f"{path}: dis_videos[{j}] (asset_id {_show(video['asset_id'])}): 'os' must "
                    f"be a list or a dict, got {type(scores).__name__}"
                )
            raw_ids.append(video["asset_id"])
            contents.append(video.get("content_id", j))
            for subject, score in items:
                reps = list(score) if isinstance(score, list | tuple) else [score]
                for r, value in enumerate(reps):
                    if value is None or (isinstance(value, float) and np.isnan(value)):
                        continue  # a missing cell (null or NaN in a JSON file)
                    stim.append(j)
                    subj_keys.append(subject)
                    rep.append(r)
                    values.append(value)
                    where.append((j, subject, r, len(reps) > 1))
        ids = _unique_labels(pd.Index(raw_ids, dtype=object), "stimulus")
        subj, subjects = _codes(pd.Series(subj_keys, dtype=object), "subject")

        def _where(t: int) -> str:
            j, subject, r, repeated = where[t]
            again = f", repetition {r}" if repeated else ""
            return (f"{path}: dis_videos[{j}] (stimulus {_show(ids[j])}, subject "
                    f"{_show(subject)}{again}), 'os'")

        codes = _rating_codes(np.array(values, dtype=object), K, _where)
        content_ids = _unique_labels(pd.Index(contents, dtype=object), "content", unique=False)
        return cls._new(ids, subjects, np.array(stim, dtype=np.int64), subj,
                        np.array(rep, dtype=np.int64), codes + 1, K, content_ids)

    # ----------------------------------------------------------------------------------------
    # members

    @property
    def ids(self) -> NDArray[Any]:
        """Stimulus ids, shape (n_stimuli,): int64, or ``str`` in an object array."""
        return self._ids

    @property
    def subjects(self) -> NDArray[Any]:
        """Subject ids, shape (n_subjects,): int64, or ``str`` in an object array."""
        return self._subjects

    @property
    def contents(self) -> NDArray[Any] | None:
        """Source content of each stimulus, shape (n_stimuli,), or None if not given."""
        return self._contents

    @property
    def K(self) -> int:
        """Number of rating categories."""
        return self._K

    @property
    def n_stimuli(self) -> int:
        return len(self._ids)

    @property
    def n_subjects(self) -> int:
        return len(self._subjects)

    @property
    def n_ratings(self) -> int:
        return len(self._rating)

    @property
    def n_repetitions(self) -> int:
        """The most ratings one subject gave one stimulus."""
        return int(self._rep.max()) + 1

    @property
    def stimulus_index(self) -> NDArray[np.int64]:
        """Position in :attr:`ids` of each rating's stimulus, shape (n_ratings,)."""
        return self._stim

    @property
    def subject_index(self) -> NDArray[np.int64]:
        """Position in :attr:`subjects` of each rating's subject, shape (n_ratings,)."""
        return self._subj

    @property
    def repetition_index(self) -> NDArray[np.int64]:
        """Repetition slot 0, 1, … of each rating, shape (n_ratings,)."""
        return self._rep

    @property
    def values(self) -> NDArray[np.int64]:
        """The ratings 1..K, shape (n_ratings,)."""
        return self._rating

    def counts(self) -> RatingCounts:
        """Counts of the ratings 1..K per stimulus, for the per-stimulus fits.

        Examples
        --------
        >>> wide = pd.DataFrame({"s1": [5, 2], "s2": [4, None]}, index=["a", "b"])
        >>> Ratings.from_wide(wide).counts().counts.tolist()
        [[0, 0, 0, 1, 1], [0, 1, 0, 0, 0]]
        """
        counts = _tally(self._stim, self._rating - 1, self.n_stimuli, self._K)
        return RatingCounts._new(self._ids.copy(), counts)

    def array(self) -> NDArray[np.float64]:
        """Dense view, shape (n_stimuli, n_subjects, n_repetitions), NaN where missing."""
        out = np.full((self.n_stimuli, self.n_subjects, self.n_repetitions), np.nan)
        out[self._stim, self._subj, self._rep] = self._rating
        return out

    def to_frame(self) -> pd.DataFrame:
        """The long table: ``stimulus``, ``subject``, ``rating``, and ``repetition``,
        ``group``, ``content`` where the ratings have them."""
        out = {
            "stimulus": self._ids[self._stim],
            "subject": self._subjects[self._subj],
            "rating": self._rating.copy(),
        }
        if self.n_repetitions > 1:
            out["repetition"] = self._rep.copy()
        if self._group is not None:
            out["group"] = self._group.copy()
        if self._contents is not None:
            out["content"] = self._contents[self._stim]
        return pd.DataFrame(out)

    def stimulus_summary(self) -> pd.DataFrame:
        """Per stimulus: ``id`` (``content``), ``n`` ratings, ``n_subjects``, ``mean``,
        ``std`` (sample standard deviation, ddof 1; 0 for a single rating), ``min``, ``max``.

        Examples
        --------
        >>> wide = pd.DataFrame({"s1": [5, 2], "s2": [4, None]}, index=["a", "b"])
        >>> Ratings.from_wide(wide).stimulus_summary()[["id", "n", "mean", "std"]]
          id  n  mean       std
        0  a  2   4.5  0.707107
        1  b  1   2.0  0.000000
        """
        out = _summary(self._stim, self._subj, self._rating, self.n_stimuli)
        out.insert(0, "id", self._ids)
        out = out.rename(columns={"n_other": "n_subjects"})
        if self._contents is not None:
            out.insert(1, "content", self._contents)
        return out

    def subject_summary(self) -> pd.DataFrame:
        """Per subject: ``id``, ``n`` ratings, ``n_stimuli``, ``mean``, ``std`` (ddof 1; 0 for a
        single rating), ``min``, ``max``."""
        out = _summary(self._subj, self._stim, self._rating, self.n_subjects)
        out.insert(0, "id", self._subjects)
        return out.rename(columns={"n_other": "n_stimuli"})

    def __repr__(self) -> str:
        return (f"Ratings(stimuli={self.n_stimuli}, subjects={self.n_subjects}, "
                f"ratings={self.n_ratings}, K={self._K}, repetitions={self.n_repetitions})")


# --------------------------------------------------------------------------------------------
# helpers


def _frozen(a: NDArray[Any]) -> NDArray[Any]:
    a = np.asarray(a)
    a.flags.writeable = False
    return a


def _label_array(values: Sequence[Any]) -> NDArray[Any]:
    """Labels as int64 if all are whole numbers, else as ``str`` in an object array."""
    items = [v.item() if isinstance(v, np.generic) else v for v in values]
    if all(isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer()
           for v in items):
        return np.array([int(v) for v in items], dtype=np.int64)
    out = np.empty(len(items), dtype=object)
    out[:] = [str(v) for v in items]
    return out


def _unique_labels(values: pd.Index | pd.Series, what: str, unique: bool = True) -> NDArray[Any]:
    """Ids as :func:`_label_array`; missing ones (and, if ``unique``, repeats) are errors."""
    raw = values.to_numpy(dtype=object)
    missing = pd.isna(raw)
    if missing.any():
        i = int(np.argmax(missing))
        raise ValueError(f"{what} id at position {i} is missing ({_show(raw[i])})")
    labels = _label_array(list(raw))
    if unique:
        repeated = pd.Index(labels).duplicated()
        if repeated.any():
            j = int(np.argmax(repeated))
            i = int(np.argmax(labels == labels[j]))
            raise ValueError(f"{what} id {_show(labels[j])} occurs twice (positions {i} and "
                             f"{j}); ids must be unique")
    return labels


def _codes(values: pd.Series, what: str) -> tuple[NDArray[np.int64], NDArray[Any]]:
    """Codes in order of first appearance and the unique labels (exact spelling kept)."""
    codes, uniques = pd.factorize(values)
    labels = _unique_labels(pd.Index(uniques, dtype=object), what)
    return codes.astype(np.int64), labels


def _check_unique_cells(
    stim: NDArray[np.int64],
    subj: NDArray[np.int64],
    rep: NDArray[np.int64],
    ids: NDArray[Any],
    subjects: NDArray[Any],
    row: Any,
    rep_text: str,
    rep_values: NDArray[Any] | None,
) -> None:
    key = (stim * (int(subj.max()) + 1) + subj) * (int(rep.max()) + 1) + rep
    twice = pd.Index(key).duplicated()
    if twice.any():
        j = int(np.argmax(twice))
        i = int(np.argmax(key == key[j]))
        again = rep_text.format(_show(rep_values[j])) if rep_values is not None else ""
        hint = "" if rep_values is not None else "; name the repetition column with repetition="
        raise ValueError(
            f"{row(j)} (stimulus {_show(ids[stim[j]])}, subject {_show(subjects[subj[j]])}"
            f"{again}): cell rated twice, also in {row(i)}{hint}"
        )


def _contents(
    values: pd.Series, stim: NDArray[np.int64], ids: NDArray[Any], column: Any
) -> NDArray[Any]:
    """One content per stimulus; a stimulus with two is an error."""
    raw = values.to_numpy(dtype=object)
    missing = pd.isna(raw)
    if missing.any():
        i = int(np.argmax(missing))
        raise ValueError(f"row {_show(values.index[i])}, column {column!r}: content is missing")
    codes, uniques = pd.factorize(values)
    first = np.full(len(ids), -1, dtype=np.int64)
    order = np.arange(len(stim))[::-1]
    first[stim[order]] = codes[order]
    clash = codes != first[stim]
    if clash.any():
        t = int(np.argmax(clash))
        raise ValueError(
            f"row {_show(values.index[t])}, column {column!r}: stimulus {_show(ids[stim[t]])} "
            f"has contents {_show(uniques[first[stim[t]]])} and {_show(uniques[codes[t]])}"
        )
    return _label_array(list(uniques[first]))


def _require_rated(n: NDArray[np.int64], labels: NDArray[Any], what: str) -> None:
    if (n == 0).any():
        raise ValueError(f"{what} {_show(labels[int(np.argmax(n == 0))])} has no ratings")


def _summary(
    key: NDArray[np.int64], other: NDArray[np.int64], rating: NDArray[np.int64], n: int
) -> pd.DataFrame:
    counts = np.bincount(key, minlength=n)
    total = np.bincount(key, weights=rating, minlength=n)
    mean = total / counts
    dev2 = np.bincount(key, weights=(rating - mean[key]) ** 2, minlength=n)
    std = np.sqrt(dev2 / np.maximum(counts - 1, 1))
    pairs = np.unique(key * (int(other.max()) + 1) + other)
    n_other = np.bincount(pairs // (int(other.max()) + 1), minlength=n)
    low = np.full(n, np.iinfo(np.int64).max)
    high = np.zeros(n, dtype=np.int64)
    np.minimum.at(low, key, rating)
    np.maximum.at(high, key, rating)
    return pd.DataFrame({"n": counts, "n_other": n_other, "mean": mean, "std": std,
                         "min": low, "max": high})


# --------------------------------------------------------------------------------------------
# sureal files

#: Keys of a ``dis_videos`` entry that :meth:`Ratings.from_sureal` reads.
_SUREAL_KEYS = ("asset_id", "content_id", "os")


def _sureal_videos(path: Path) -> list[dict[str, Any]]:
    """The ``dis_videos`` entries of a sureal dataset file, with the keys that are read."""
    if path.suffix.lower() == ".json":
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        videos = data.get("dis_videos") if isinstance(data, dict) else None
        if not isinstance(videos, list):
            raise ValueError(f"{path}: no list 'dis_videos' in the JSON object")
        out = []
        for j, video in enumerate(videos):
            if not isinstance(video, dict):
                raise ValueError(f"{path}: dis_videos[{j}] is not an object")
            out.append({k: video[k] for k in _SUREAL_KEYS if k in video})
        return out
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as err:
        raise ValueError(f"{path}: cannot read it as a sureal dataset file (SyntaxError, "
                         f"line {err.lineno}: {err.msg})") from None
    node = None
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "dis_videos" for t in statement.targets
        ):
            node = statement.value
    if not isinstance(node, ast.List):
        raise ValueError(f"{path}: no literal list assigned to 'dis_videos'")
    out = []
    for j, element in enumerate(node.elts):
        if not isinstance(element, ast.Dict):
            raise ValueError(f"{path}: dis_videos[{j}] is not a literal dict")
        entry = {}
        for key, value in zip(element.keys, element.values):
            if isinstance(key, ast.Constant) and key.value in _SUREAL_KEYS:
                try:
                    entry[key.value] = ast.literal_eval(value)
                except ValueError:
                    raise ValueError(
                        f"{path}: dis_videos[{j}][{key.value!r}] is not a literal value "
                        f"(line {value.lineno})"
                    ) from None
        out.append(entry)
    return out
