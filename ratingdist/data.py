"""Rating counts per stimulus: the validated container every analysis starts from.

:class:`RatingCounts` holds stimulus ids and an (n, K) table of how often each rating 1..K was
given to each stimulus. Its constructors read the layouts rating data come in and check them at
this edge, so that everything downstream can trust the counts:

- :meth:`RatingCounts.from_table`: one row per stimulus with count columns ``c1..cK`` or
  ``n1..nK`` (KonIQ-10k, VQEG HDTV, the output of :meth:`RatingCounts.to_frame`);
- :meth:`RatingCounts.from_ratings`: long format, one row per rating (a lab-study export);
- :meth:`RatingCounts.from_wide`: one row per stimulus, one column per individual rating, blanks
  allowed (a crowdsourcing export);
- :meth:`RatingCounts.from_lists`: ratings as Python lists.

Every problem is a ``ValueError`` (``TypeError`` for a wrong type) that names the stimulus, the
column and the offending value. Nothing is dropped silently: stimuli without ratings are an
error unless ``drop_empty=True``, which drops them with a ``UserWarning``.
"""

from __future__ import annotations

import itertools
import numbers
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ratingdist.csvtext import read_csv_as_written
from ratingdist.scale import DEFAULT_K, check_K, moments_of_counts

#: Names of count columns that :meth:`RatingCounts.from_table` detects: c1..cK or n1..nK.
_COUNT_COLUMN = re.compile(r"^([cn])(\d+)$", re.IGNORECASE)
#: Names (case-insensitive) of the total column that :meth:`RatingCounts.from_table` detects.
_TOTAL_COLUMNS = ("c_total", "n_total", "total")
#: How many ids the warning about dropped stimuli names.
_NAMED_IDS = 5


class RatingCounts:
    """Counts of the ratings 1..K given to each of n stimuli; immutable.

    Parameters
    ----------
    ids : array-like, shape (n,)
        Stimulus ids, unique, none missing or empty. If all are whole numbers that int64 holds
        (integers, or floats such as ``1000.0``) they are stored as int64, else each as its
        ``str`` in an object array.
    counts : array-like, shape (n, K)
        Row i counts the ratings 1..K of stimulus ``ids[i]``: whole numbers in 0..2^63 − 1
        (integer-valued floats such as ``3.0`` are accepted exactly; booleans, strings and
        complex numbers are not), a total per stimulus that int64 holds, at least one rating
        per stimulus, K >= 3. Python lists and DataFrame columns are checked cell by cell as
        given, before any conversion could round or cast them.

    Raises
    ------
    ValueError
        If the counts are not 2-D, K < 3, the number of ids differs from the number of rows, an
        id is missing, empty or repeated, a count is negative, fractional, missing, not a number
        or beyond int64, a total is beyond int64, or a stimulus has no rating. The message names
        the stimulus, the column and the value.

    Examples
    --------
    >>> rc = RatingCounts(["a", "b"], [[0, 1, 2, 3, 4], [5, 0, 0, 0, 1]])
    >>> rc
    RatingCounts(n=2, K=5, ratings=16)
    >>> rc.K, len(rc), rc.n_ratings.tolist()
    (5, 2, [10, 6])
    >>> rc.mean().tolist()
    [4.0, 1.6666666666666667]
    >>> RatingCounts(["a"], [[1, -1, 0]])
    Traceback (most recent call last):
    ...
    ValueError: stimulus 'a', column 'c2': value -1 is negative; counts must be whole numbers >= 0
    """

    __slots__ = ("_counts", "_ids")

    def __init__(self, ids: ArrayLike, counts: ArrayLike) -> None:
        ids_, counts_ = _validate(ids, counts)
        self._set(*_keep_rated(ids_, counts_, _default_columns(counts_.shape[1])))

    def _set(self, ids: NDArray[Any], counts: NDArray[np.int64]) -> None:
        self._ids, self._counts = _read_only(ids), _read_only(counts)

    @classmethod
    def _new(cls, ids: NDArray[Any], counts: NDArray[np.int64]) -> RatingCounts:
        """Wrap arrays that are already valid (no checks)."""
        obj = cls.__new__(cls)
        obj._set(ids, counts)
        return obj

    # ----------------------------------------------------------------------------------------
    # constructors

    @classmethod
    def from_table(
        cls,
        table: pd.DataFrame | str | PathLike[str],
        columns: Sequence[Any] | None = None,
        id_column: Any = None,
        total_column: Any = None,
        drop_empty: bool = False,
        K: int | None = None,
    ) -> RatingCounts:
        """Read a count table: one row per stimulus, one column per rating category.

        Parameters
        ----------
        table : DataFrame or str or path
            The table, or the path of a CSV file holding it.
        columns : sequence, optional
            The count columns in category order (1..K). By default detected: exactly one set of
            columns ``c1..cK`` or ``n1..nK`` (case-insensitive, consecutive from 1, K >= 3).
        id_column : optional
            The column of stimulus ids. By default the first column that is neither a count
            nor the total column; if there is none, the index.
        total_column : optional
            A column of totals per stimulus. By default ``c_total``, ``n_total`` or ``total``
            (case-insensitive) if present. It is checked against the row sums, never trusted.
        drop_empty : bool
            Drop stimuli without ratings (with a ``UserWarning``) instead of raising.
        K : int, optional
            The number of categories of the scale; detected count columns must then be exactly
            ``c1..cK`` (a 5-point table without its ``c5`` column is an error naming it, not a
            4-point scale).

        A CSV file is read as written (:func:`ratingdist.csvtext.read_csv_as_written`): only
        the empty field is missing, ids such as ``007``, ``" a"`` or ``NA`` stay strings (a
        column of ids all spelled as whole numbers, ``7`` or ``1000.0``, becomes integers), and
        counts must be spelled as Python writes numbers (``1e3`` and ``03`` are refused).

        Returns
        -------
        RatingCounts

        Raises
        ------
        ValueError
            If the table has no rows, the count columns cannot be found or are ambiguous, a
            named column is missing,
            a count is invalid, or a total disagrees with its row sum (all as in the class).
        TypeError
            If ``table`` is neither a DataFrame nor a path.

        Examples
        --------
        >>> df = pd.DataFrame({"image": ["x", "y"], "c1": [0, 2], "c2": [1, 0],
        ...                    "c3": [3, 1], "c_total": [4, 3]})
        >>> rc = RatingCounts.from_table(df)
        >>> rc.ids.tolist(), rc.counts.tolist()
        (['x', 'y'], [[0, 1, 3], [2, 0, 1]])
        >>> RatingCounts.from_table(df.assign(c_total=[4, 4]))
        Traceback (most recent call last):
        ...
        ValueError: stimulus 'y', column 'c_total': total 4 disagrees with the sum 3 of 'c1'..'c3'
        """
        df = _read_table(table)
        if len(df) == 0:
            raise ValueError("no stimuli: the table has no rows")
        count_columns = _detect_count_columns(df.columns) if columns is None else list(columns)
        if K is not None and len(count_columns) != check_K(K):
            if columns is None and len(count_columns) < K:
                stem = str(count_columns[0])[:-1]
                missing = [f"{stem}{k}" for k in range(len(count_columns) + 1, K + 1)]
                raise ValueError(
                    f"K={K} but the table has no count column {', '.join(map(repr, missing))}"
                )
            raise ValueError(f"K={K} but {len(count_columns)} count columns: {count_columns}")
        _require_columns(
            df, [*count_columns, *(c for c in (id_column, total_column) if c is not None)]
        )
        if total_column is None:
            total_column = _detect_total_column(df.columns)
        if id_column is None:
            others = [c for c in df.columns if c not in count_columns and c != total_column]
            id_column = others[0] if others else None
        raw_ids = df.index if id_column is None else df[id_column]
        ids, counts = _validate(raw_ids, df[count_columns], count_columns)
        if total_column is not None:
            _check_total(ids, counts, df[total_column].to_numpy(), total_column, count_columns)
        return cls._new(*_keep_rated(ids, counts, count_columns, drop_empty))

    @classmethod
    def from_ratings(
        cls,
        df: pd.DataFrame | str | PathLike[str],
        stimulus: Any = "stimulus",
        rating: Any = "rating",
        subject: Any = None,
        K: int = DEFAULT_K,
        drop_empty: bool = False,
    ) -> RatingCounts:
        """Count long-format ratings: one row per (stimulus, rating), e.g. a lab-study export.

        Parameters
        ----------
        df : DataFrame or str or path
            The ratings, or the path of a CSV file holding them (read as written, as in
            :meth:`from_table`).
        stimulus, rating : column names
            The stimulus id and the rating (a whole number in 1..K; ``3.0`` is fine).
        subject : column name, optional
            The subject id. If given, a subject that rated the same stimulus twice is an error.
        K : int
            Number of rating categories.
        drop_empty : bool
            Drop stimuli without ratings (with a ``UserWarning``) instead of raising. They can
            only occur when the stimulus column is categorical with unused categories.

        Returns
        -------
        RatingCounts
            Stimuli in order of first appearance (in category order for a categorical column).

        Raises
        ------
        ValueError
            If a rating is missing, not a number, fractional or outside 1..K (naming the row
            index, the column and the value), a stimulus or subject id is missing, or a
            (stimulus, subject) pair occurs twice.

        Examples
        --------
        >>> long = pd.DataFrame({"stimulus": ["b", "a", "b", "b"], "rating": [5, 1, 4, 5]})
        >>> rc = RatingCounts.from_ratings(long, K=5)
        >>> rc.ids.tolist(), rc.counts.tolist()
        (['b', 'a'], [[0, 0, 0, 1, 2], [1, 0, 0, 0, 0]])
        >>> RatingCounts.from_ratings(long.assign(rating=[5, 1, 3.5, 5]))
        Traceback (most recent call last):
        ...
        ValueError: row 2 (stimulus 'b'), column 'rating': rating 3.5 is not a whole number
        """
        K = check_K(K)
        df = _read_table(df, "df")
        _require_columns(df, [stimulus, rating, *([] if subject is None else [subject])])
        stimuli = df[stimulus]
        _require_present(df, stimulus)
        codes = _rating_codes(
            df[rating].to_numpy(),
            K,
            lambda i: (
                f"row {_show(df.index[i])} (stimulus {_show(stimuli.iloc[i])}), column {rating!r}"
            ),
        )
        if subject is not None:
            _require_present(df, subject)
            _check_unique_pairs(df, stimulus, subject)
        if isinstance(stimuli.dtype, pd.CategoricalDtype):
            rows, uniques = stimuli.cat.codes.to_numpy(), stimuli.cat.categories
        else:
            rows, uniques = pd.factorize(stimuli)
        counts = _tally(rows, codes, len(uniques), K)
        ids, counts = _validate(uniques, counts)
        return cls._new(*_keep_rated(ids, counts, _default_columns(K), drop_empty))

    @classmethod
    def from_wide(
        cls,
        df: pd.DataFrame | str | PathLike[str],
        id_column: Any = None,
        rating_columns: Sequence[Any] | None = None,
        K: int = DEFAULT_K,
        drop_empty: bool = False,
    ) -> RatingCounts:
        """Count wide-format ratings: one row per stimulus, one column per individual rating.

        Blank cells (NaN, None, empty or all-space strings) are skipped: in a crowdsourcing
        export not every rater sees every stimulus.

        Parameters
        ----------
        df : DataFrame or str or path
            The ratings, or the path of a CSV file holding them (read as written, as in
            :meth:`from_table`).
        id_column : column name, optional
            The stimulus ids; by default the index.
        rating_columns : sequence of column names, optional
            The rating columns; by default all columns but ``id_column``.
        K : int
            Number of rating categories.
        drop_empty : bool
            Drop stimuli whose cells are all blank (with a ``UserWarning``) instead of raising.

        Returns
        -------
        RatingCounts

        Raises
        ------
        ValueError
            If a non-blank cell is not a whole number in 1..K (naming the stimulus, the column
            and the value), an id is missing or repeated, or a stimulus has no rating.

        Examples
        --------
        >>> wide = pd.DataFrame({"r1": [5, 1], "r2": [4, None], "r3": ["", 2]}, index=[7, 8])
        >>> rc = RatingCounts.from_wide(wide, K=5)
        >>> rc.ids.tolist(), rc.counts.tolist()
        ([7, 8], [[0, 0, 0, 1, 1], [1, 1, 0, 0, 0]])
        """
        K = check_K(K)
        df = _read_table(df, "df")
        if rating_columns is None:
            columns = [c for c in df.columns if id_column is None or c != id_column]
        else:
            columns = list(rating_columns)
        _require_columns(df, [*columns, *([] if id_column is None else [id_column])])
        ids = _as_ids(df.index if id_column is None else df[id_column], len(df))
        cells = df[columns].to_numpy(dtype=object).ravel()
        filled = np.flatnonzero(~_blank(cells))
        m = len(columns)
        codes = _rating_codes(
            cells[filled],
            K,
            lambda j: f"stimulus {_show(ids[filled[j] // m])}, column {columns[filled[j] % m]!r}",
        )
        counts = _tally(filled // max(m, 1), codes, len(df), K)
        return cls._new(*_keep_rated(*_validate(ids, counts), _default_columns(K), drop_empty))

    @classmethod
    def from_lists(
        cls,
        ratings: Mapping[Any, Iterable[Any]] | Iterable[Iterable[Any]],
        ids: ArrayLike | None = None,
        K: int = DEFAULT_K,
        drop_empty: bool = False,
    ) -> RatingCounts:
        """Count ratings given as lists, one list per stimulus.

        Parameters
        ----------
        ratings : mapping or sequence
            ``{id: [ratings]}``, or a sequence of rating sequences.
        ids : array-like, optional
            Ids for a sequence of sequences (default ``0..n-1``); not allowed with a mapping.
        K : int
            Number of rating categories.
        drop_empty : bool
            Drop stimuli with an empty list (with a ``UserWarning``) instead of raising.

        Returns
        -------
        RatingCounts

        Raises
        ------
        ValueError
            If a rating is not a whole number in 1..K (naming the stimulus, the position in its
            list and the value), ids are repeated or of the wrong length, or a list is empty.
        TypeError
            If ``ratings`` or one of its items is not a collection of ratings (a string is not).

        Examples
        --------
        >>> RatingCounts.from_lists({"a": [1, 2, 2], "b": [3]}, K=3).counts.tolist()
        [[1, 2, 0], [0, 0, 1]]
        >>> RatingCounts.from_lists([[1, 2, 2], [3]], K=3).ids.tolist()
        [0, 1]
        """
        K = check_K(K)
        if isinstance(ratings, Mapping):
            if ids is not None:
                raise ValueError("ids must not be given when ratings is a mapping (its keys are)")
            ids, lists = list(ratings.keys()), list(ratings.values())
        else:
            lists = list(_collection(ratings, "ratings"))
            ids = np.arange(len(lists)) if ids is None else ids
        ids_ = _as_ids(ids, len(lists))
        lists = [
            list(_collection(seq, f"ratings of stimulus {_show(i)}"))
            for i, seq in zip(ids_, lists, strict=True)
        ]
        lengths = np.array([len(seq) for seq in lists], dtype=np.int64)
        rows = np.repeat(np.arange(len(lists)), lengths)
        starts = np.cumsum(lengths) - lengths
        cells = np.fromiter(
            itertools.chain.from_iterable(lists), dtype=object, count=int(lengths.sum())
        )
        codes = _rating_codes(
            cells, K, lambda j: f"stimulus {_show(ids_[rows[j]])}, position {j - starts[rows[j]]}"
        )
        counts = _tally(rows, codes, len(lists), K)
        return cls._new(*_keep_rated(*_validate(ids_, counts), _default_columns(K), drop_empty))

    # ----------------------------------------------------------------------------------------
    # members

    @property
    def ids(self) -> NDArray[Any]:
        """Stimulus ids, shape (n,): int64, or ``str`` in an object array; read-only."""
        return self._ids

    @property
    def counts(self) -> NDArray[np.int64]:
        """Rating counts, shape (n, K), int64, read-only; column k counts rating k + 1."""
        return self._counts

    @property
    def K(self) -> int:
        """Number of rating categories."""
        return int(self._counts.shape[1])

    @property
    def n_ratings(self) -> NDArray[np.int64]:
        """Number of ratings per stimulus, shape (n,)."""
        return self._counts.sum(axis=1)

    def mean(self) -> NDArray[np.float64]:
        """Mean rating (MOS) per stimulus, shape (n,).

        Examples
        --------
        >>> RatingCounts([1], [[1, 0, 1]]).mean().tolist()
        [2.0]
        """
        return moments_of_counts(self._counts)[0]

    def var(self) -> NDArray[np.float64]:
        """Population variance (divisor N) of the ratings per stimulus, shape (n,).

        Examples
        --------
        >>> RatingCounts([1], [[1, 0, 1]]).var().tolist()
        [1.0]
        """
        return moments_of_counts(self._counts)[1]

    def to_frame(self) -> pd.DataFrame:
        """The counts as a DataFrame indexed by id (index name ``"id"``), columns ``c1..cK``.

        :meth:`from_table` reads it back.

        Examples
        --------
        >>> df = RatingCounts(["a"], [[1, 0, 2]]).to_frame()
        >>> df.index.name, df.columns.tolist(), df.loc["a"].tolist()
        ('id', ['c1', 'c2', 'c3'], [1, 0, 2])
        """
        return pd.DataFrame(
            self._counts.copy(),
            index=pd.Index(self._ids, name="id"),
            columns=_default_columns(self.K),
        )

    def __len__(self) -> int:
        return int(self._counts.shape[0])

    def __getitem__(self, key: int | slice | ArrayLike) -> RatingCounts:
        """Select stimuli by position: an int, a slice, a boolean mask or an integer array.

        An int gives a RatingCounts with one stimulus.

        Examples
        --------
        >>> rc = RatingCounts(["a", "b", "c"], [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
        >>> rc[1].ids.tolist(), rc[rc.mean() > 1].ids.tolist(), rc[[2, 0]].ids.tolist()
        (['b'], ['b', 'c'], ['c', 'a'])
        """
        if isinstance(key, slice):
            return type(self)._new(self._ids[key], self._counts[key])
        index = np.asarray(key)
        if index.size == 0:
            index = index.astype(np.intp)
        kind = index.dtype.kind
        if index.ndim > 1 or kind not in "biu" or (index.ndim == 0 and kind == "b"):
            raise TypeError(
                "RatingCounts index must be an int, a slice, a boolean mask or an integer array, "
                f"got {key!r}"
            )
        index = np.atleast_1d(index)
        return type(self)._new(self._ids[index], self._counts[index])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RatingCounts):
            return NotImplemented
        return np.array_equal(self._ids, other._ids) and np.array_equal(self._counts, other._counts)

    def __repr__(self) -> str:
        return f"RatingCounts(n={len(self)}, K={self.K}, ratings={sum(self.n_ratings.tolist())})"


# --------------------------------------------------------------------------------------------
# validation helpers


def _show(value: Any) -> str:
    """repr of a value for an error message, numpy scalars as their Python equivalents."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _read_only(a: NDArray[Any]) -> NDArray[Any]:
    a.flags.writeable = False
    return a


def _default_columns(K: int) -> list[str]:
    return [f"c{k}" for k in range(1, K + 1)]


def _validate(
    ids: ArrayLike, counts: ArrayLike, columns: Sequence[Any] | None = None
) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """Check shape, K, ids and count values; return (ids, counts) as fresh arrays."""
    cells, shape = _count_cells(counts)
    if len(shape) != 2:
        raise ValueError(f"counts must be 2-D (stimuli × rating categories), got shape {shape}")
    check_K(shape[1])
    if shape[0] == 0:
        raise ValueError("no stimuli: the counts have no rows")
    ids_ = _as_ids(ids, shape[0])
    columns = _default_columns(shape[1]) if columns is None else columns
    return ids_, _check_counts(cells, ids_, columns)


def _count_cells(counts: Any) -> tuple[list[NDArray[Any]], tuple[int, ...]]:
    """The columns of a count table as separate arrays (each keeps its own type), and the shape.

    A DataFrame is split by column (``to_numpy`` of mixed columns would round big integers to
    floats); Python lists become object arrays, so every cell is checked as given (``np.asarray``
    would turn ``True`` into 1 and ``2**60 + 1`` next to a float into a rounded float).
    """
    if isinstance(counts, pd.DataFrame):
        return [counts.iloc[:, k].to_numpy() for k in range(counts.shape[1])], counts.shape
    values = np.array(counts, dtype=object) if isinstance(counts, list | tuple) else np.asarray(
        counts
    )
    if values.ndim != 2:
        return [], values.shape
    return [values[:, k] for k in range(values.shape[1])], values.shape


#: The largest count (and total of a stimulus) that int64 holds.
_INT64_MAX = int(np.iinfo(np.int64).max)
#: 2^63 as a float: float counts at or above it do not fit in int64.
_INT64_LIMIT = float(2**63)
#: Row totals below this in floating point are certainly below 2^63 (exactly summed above it).
_SAFE_TOTAL = float(2**62)


def _check_counts(
    cells: Sequence[NDArray[Any]], ids: NDArray[Any], columns: Sequence[Any]
) -> NDArray[np.int64]:
    """(n, m) int64 counts from m columns of cells, each a whole number in 0..2^63 − 1, with row
    totals that int64 holds; the error names the stimulus, the column and the value of the first
    bad cell in row-major order."""
    out = np.empty((len(ids), len(cells)), dtype=np.int64)
    first: tuple[int, int] | None = None
    for k, column in enumerate(cells):
        ints, problem = _column_counts(column)
        if problem.any():
            i = int(np.argmax(problem))
            if first is None or i < first[0]:
                first = (i, k)
        elif first is None:
            out[:, k] = ints
    if first is not None:
        i, k = first
        raise ValueError(_count_problem(cells[k][i], ids[i], columns[k]))
    rough = out.sum(axis=1, dtype=np.float64)
    for i in np.flatnonzero(rough >= _SAFE_TOTAL):
        total = sum(int(v) for v in out[i])
        if total > _INT64_MAX:
            raise ValueError(
                f"stimulus {_show(ids[i])}: its {total} ratings in columns {columns[0]!r}.."
                f"{columns[-1]!r} exceed what int64 holds ({_INT64_MAX})"
            )
    return out


def _column_counts(column: NDArray[Any]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """One column of cells as int64 counts, and where a cell is not a count that int64 holds."""
    kind = column.dtype.kind
    if kind == "i":
        return column.astype(np.int64), column < 0
    if kind == "u":
        problem = column > _INT64_MAX
        return np.where(problem, 0, column).astype(np.int64), problem
    if kind == "f":
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(column) & (np.floor(column) == column)
            ok &= (column >= 0) & (column < _INT64_LIMIT)
        return np.where(ok, column, 0).astype(np.int64), ~ok
    if kind == "O":
        exact = [_exact_count(v) for v in column]
        ok = np.array([type(v) is int and 0 <= v <= _INT64_MAX for v in exact], dtype=bool)
        ints = np.array([v if good else 0 for v, good in zip(exact, ok, strict=True)], np.int64)
        return ints, ~ok
    # booleans, complex numbers, strings, dates: never counts
    return np.zeros(len(column), dtype=np.int64), np.ones(len(column), dtype=bool)


def _exact_count(value: Any) -> int | str:
    """The exact integer that ``value`` is, or why it is not an integer."""
    if isinstance(value, bool | np.bool_):
        return "is a boolean"
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, complex | np.complexfloating):
        return "is a complex number"
    if isinstance(value, str | bytes):
        return "is a string, not a number"
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return "is missing"
    if not isinstance(value, numbers.Real):
        return "is not a number"
    if not np.isfinite(float(value)) or int(value) != value:
        return "is not a whole number"
    return int(value)


def _count_problem(value: Any, stimulus: Any, column: Any) -> str:
    """The message for a cell that :func:`_column_counts` flags."""
    where = f"stimulus {_show(stimulus)}, column {column!r}"
    exact = _exact_count(value)
    if isinstance(exact, int) and exact > _INT64_MAX:
        return (
            f"{where}: count {_show(value)} exceeds the largest count that int64 holds exactly "
            f"({_INT64_MAX})"
        )
    reason = "is negative" if isinstance(exact, int) else exact
    return f"{where}: value {_show(value)} {reason}; counts must be whole numbers >= 0"


def _not_a_real_number(values: NDArray[Any]) -> NDArray[np.bool_]:
    """Cells that are booleans, complex numbers, strings (even numeric ones like " 3 ") or other
    objects that are not real numbers; missing cells (None, NaN) are not flagged here."""
    if values.dtype.kind in "iuf":
        return np.zeros(values.shape, dtype=bool)
    if values.dtype.kind != "O":
        return np.ones(values.shape, dtype=bool)
    flat = [not (value is None or _is_real(value)) for value in values.ravel()]
    return np.array(flat, dtype=bool).reshape(values.shape)


def _as_ids(ids: ArrayLike, n: int) -> NDArray[Any]:
    """Stimulus ids as int64 (all whole numbers that int64 holds) or as str in an object array;
    unique, none missing or empty. Dates become their text (``str``)."""
    if isinstance(ids, pd.Index | pd.Series):
        arr = ids.to_numpy()
    elif isinstance(ids, list | tuple):  # as given: np.asarray would turn [1, 2.5] into floats
        arr = np.array(ids, dtype=object)
    else:
        arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(f"ids must be 1-D, got shape {arr.shape}")
    if len(arr) != n:
        raise ValueError(f"got {len(arr)} ids for {n} stimuli (rows of counts)")
    if arr.dtype.kind in "mM":
        arr = pd.Index(arr).to_numpy(dtype=object)
    if arr.dtype.kind == "i" or (arr.dtype.kind == "u" and not (arr > _INT64_MAX).any()):
        out = arr.astype(np.int64)
    else:
        missing = pd.isna(arr)
        if missing.any():
            i = int(np.argmax(missing))
            raise ValueError(f"stimulus id at position {i} is missing ({_show(arr[i])})")
        values = arr.tolist()
        if all(_is_whole(v) and -_INT64_MAX - 1 <= int(v) <= _INT64_MAX for v in values):
            out = np.array([int(v) for v in values], dtype=np.int64)
        else:
            out = np.empty(n, dtype=object)
            out[:] = [str(v) for v in values]
            empty = out == ""
            if empty.any():
                raise ValueError(f"stimulus id at position {int(np.argmax(empty))} is empty ('')")
    repeated = pd.Index(out).duplicated()
    if repeated.any():
        j = int(np.argmax(repeated))
        i = int(np.argmax(out == out[j]))
        raise ValueError(
            f"stimulus id {_show(out[j])} occurs twice (positions {i} and {j}); ids must be unique"
        )
    return out


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _is_whole(value: Any) -> bool:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return False
    return isinstance(value, numbers.Integral) or float(value).is_integer()


def _numeric(values: NDArray[Any]) -> NDArray[np.float64]:
    """Values as floats; NaN where missing or not a number."""
    if values.dtype.kind in "iuf":
        return values.astype(np.float64)
    if values.dtype.kind in "bc":
        return np.full(values.shape, np.nan)
    with warnings.catch_warnings():  # complex cells are refused by the caller
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        flat = pd.to_numeric(pd.Series(values.ravel(), dtype=object), errors="coerce")
        return flat.to_numpy(dtype=np.float64, na_value=np.nan).reshape(values.shape)


def _outside_scale(number: NDArray[np.float64], K: int) -> NDArray[np.bool_]:
    """Where ``number`` is not a whole number in 1..K."""
    with np.errstate(invalid="ignore"):
        return ~np.isfinite(number) | (np.floor(number) != number) | (number < 1) | (number > K)


def _rating_codes(values: NDArray[Any], K: int, where: Callable[[int], str]) -> NDArray[np.int64]:
    """Ratings 1..K as category codes 0..K-1; the error names ``where(i)`` of the first bad one.

    A rating is a real number (not a boolean, a complex number or a string, even a numeric one)
    that is a whole number in 1..K (``3.0`` is fine).
    """
    number = _numeric(values)
    bad = _outside_scale(number, K) | _not_a_real_number(values)
    if bad.any():
        i = int(np.argmax(bad))
        exact = _exact_count(values[i])
        reason = exact if isinstance(exact, str) else f"is outside 1..{K}"
        raise ValueError(f"{where(i)}: rating {_show(values[i])} {reason}")
    return number.astype(np.int64) - 1


def _tally(
    rows: NDArray[np.integer], codes: NDArray[np.int64], n: int, K: int
) -> NDArray[np.int64]:
    """(n, K) counts of the category codes per row."""
    return (
        np.bincount(rows.astype(np.int64) * K + codes, minlength=n * K)
        .astype(np.int64)
        .reshape(n, K)
    )


def _keep_rated(
    ids: NDArray[Any],
    counts: NDArray[np.int64],
    columns: Sequence[Any],
    drop_empty: bool = False,
) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """Raise on stimuli without ratings, or drop them with a warning if ``drop_empty``."""
    empty = counts.sum(axis=1) == 0
    if not empty.any():
        return ids, counts
    dropped = ids[empty]
    if not drop_empty:
        raise ValueError(
            f"stimulus {_show(dropped[0])} has no ratings (columns {columns[0]!r}..{columns[-1]!r}"
            f" all zero; {len(dropped)} of {len(ids)} stimuli have none); drop_empty=True in a"
            " from_* constructor drops them"
        )
    named = ", ".join(_show(i) for i in dropped[:_NAMED_IDS])
    more = ", ..." if len(dropped) > _NAMED_IDS else ""
    warnings.warn(
        f"dropped {len(dropped)} of {len(ids)} stimuli with no ratings: {named}{more}",
        UserWarning,
        stacklevel=3,
    )
    return ids[~empty], counts[~empty]


def _check_total(
    ids: NDArray[Any],
    counts: NDArray[np.int64],
    totals: NDArray[Any],
    total_column: Any,
    count_columns: Sequence[Any],
) -> None:
    """Check a total column against the row sums of the counts."""
    total = _check_counts([totals], ids, [total_column])[:, 0]
    sums = counts.sum(axis=1)
    wrong = total != sums
    if wrong.any():
        i = int(np.argmax(wrong))
        raise ValueError(
            f"stimulus {_show(ids[i])}, column {total_column!r}: total {total[i]} disagrees "
            f"with the sum {sums[i]} of {count_columns[0]!r}..{count_columns[-1]!r}"
        )


def _blank(cells: NDArray[Any]) -> NDArray[np.bool_]:
    """Where cells are NaN, None or empty/all-space strings."""
    spaces = np.array([isinstance(c, str) and not c.strip() for c in cells], dtype=bool)
    return pd.isna(cells) | spaces


def _collection(value: Any, what: str) -> Iterable[Any]:
    """``value`` if it is a non-string iterable, else a TypeError naming ``what``."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise TypeError(f"{what} must be a sequence of ratings, got {type(value).__name__}")
    return value


def _read_table(table: Any, what: str = "table") -> pd.DataFrame:
    """A DataFrame as given, or a CSV file read as written (:mod:`ratingdist.csvtext`)."""
    if isinstance(table, pd.DataFrame):
        return table
    if isinstance(table, str | PathLike):
        return read_csv_as_written(table)
    raise TypeError(
        f"{what} must be a pandas DataFrame or a CSV path, got {type(table).__name__}"
    )


def _require_columns(df: pd.DataFrame, names: Iterable[Any]) -> None:
    absent = [name for name in names if name not in df.columns]
    if absent:
        raise ValueError(f"column {absent[0]!r} not found; the columns are {list(df.columns)}")


def _require_present(df: pd.DataFrame, column: Any) -> None:
    missing = df[column].isna().to_numpy()
    if missing.any():
        i = int(np.argmax(missing))
        raise ValueError(f"row {_show(df.index[i])}, column {column!r}: id is missing")


def _check_unique_pairs(df: pd.DataFrame, stimulus: Any, subject: Any) -> None:
    twice = df.duplicated([stimulus, subject]).to_numpy()
    if twice.any():
        j = int(np.argmax(twice))
        s, u = df[stimulus].iloc[j], df[subject].iloc[j]
        i = int(np.argmax(((df[stimulus] == s) & (df[subject] == u)).to_numpy()))
        raise ValueError(
            f"stimulus {_show(s)}, subject {_show(u)}: rated twice (rows {_show(df.index[i])} "
            f"and {_show(df.index[j])} in columns {stimulus!r} and {subject!r})"
        )


def _detect_count_columns(names: Iterable[Any]) -> list[Any]:
    """The single set of columns c1..cK or n1..nK (case-insensitive, K >= 3) among ``names``."""
    names = list(names)
    groups: dict[str, dict[int, Any]] = {}
    for name in names:
        match = _COUNT_COLUMN.match(name) if isinstance(name, str) else None
        if match:
            group = groups.setdefault(match.group(1).lower(), {})
            number = int(match.group(2))
            if number in group:
                raise ValueError(f"count columns {group[number]!r} and {name!r} clash")
            group[number] = name
    found = {prefix: g for prefix, g in groups.items() if len(g) >= 3 and 1 in g}
    if not found:
        raise ValueError(
            f"no count columns c1..cK or n1..nK (K >= 3) among the columns {names}; "
            "name them with columns=[...]"
        )
    if len(found) > 1:
        sets = " and ".join(f"{p}1..{p}{max(g)}" for p, g in found.items())
        raise ValueError(f"ambiguous count columns: {sets}; choose with columns=[...]")
    ((prefix, group),) = found.items()
    gap = min(set(range(1, max(group) + 2)) - group.keys())
    if gap <= max(group):
        raise ValueError(
            f"count columns {prefix}1..{prefix}{max(group)} have a gap: no column "
            f"{prefix}{gap}; name them with columns=[...]"
        )
    return [group[k] for k in range(1, len(group) + 1)]


def _detect_total_column(names: Iterable[Any]) -> Any:
    """The column named c_total, n_total or total (case-insensitive), or None."""
    found = [n for n in names if isinstance(n, str) and n.lower() in _TOTAL_COLUMNS]
    if len(found) > 1:
        raise ValueError(f"ambiguous total columns {found}; choose with total_column=...")
    return found[0] if found else None
