"""Long-format ratings → counts per stimulus, by a tree reduction over partitions.

Each partition of ratings is counted by :meth:`RatingCounts.from_ratings` (its validation and
its id rules included), giving per-stimulus partial counts; Dask's groupby-sum then adds the
partial counts of a stimulus from all partitions, as a tree reduction (``split_out=1``) or by
hashing only the partial counts into ``split_out`` output partitions. The ratings themselves are
never shuffled, except for the check that no subject rated a stimulus twice when a subject
column is given (a groupby over all (stimulus, subject) pairs).
"""

from __future__ import annotations

import warnings
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from .. import scale
from ..data import RatingCounts

ID = "id"


def count_columns(K: int) -> list[str]:
    """The count columns ``c1..cK``."""
    return [f"c{k}" for k in range(1, K + 1)]


def counts_from_ratings(
    ratings: dd.DataFrame,
    stimulus: Any = "stimulus",
    rating: Any = "rating",
    K: int = scale.DEFAULT_K,
    group: Any = None,
    subject: Any = None,
    split_out: int | bool = True,
    split_every: int | None = None,
) -> dd.DataFrame:
    """Count long-format ratings (one row per rating) per stimulus, and per group if given.

    Parameters
    ----------
    ratings : Dask DataFrame with a stimulus column and a rating column (whole numbers 1..K).
    stimulus, rating : column names.
    K : number of rating categories.
    group : optional column (e.g. lab or viewing condition): counts per (stimulus, group) cell.
    subject : optional subject column: as in :meth:`RatingCounts.from_ratings`, a missing
        subject or a subject that rated a stimulus twice (in one partition or in two) is an
        error. It is checked, not kept: counts do not depend on it.
    split_out : number of output partitions; ``True`` (default) lets Dask choose
        (⌈partitions/15⌉), 1 gives a pure tree reduction. Many stimuli want several.
    split_every : fan-in of the tree reduction (Dask's default if None).

    Returns
    -------
    Dask DataFrame with columns ``id`` (and the group column), ``c1..cK`` (int64): one row per
    stimulus (or cell). Ids follow :class:`~ratingdist.RatingCounts`: an integer column gives
    int64 ids, a string column string ids, spelled exactly as in the data. Row order is Dask's.

    Raises
    ------
    ValueError
        When the data are computed, for the first bad rating found (outside 1..K, fractional,
        missing, not a number, a boolean or a string), a missing stimulus/group/subject or a
        (stimulus, subject) pair rated twice in one partition: the message starts with the
        partition number and names the row, the stimulus and the value, as
        :meth:`RatingCounts.from_ratings` does; for a pair rated in two partitions, it names
        the stimulus and the subject. Up front for a missing column or a bad K.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> from ratingdist.dask import counts_from_ratings
    >>> long = pd.DataFrame({"stimulus": ["b", "a", "b", "b"], "rating": [5, 1, 4, 5]})
    >>> counts = counts_from_ratings(dd.from_pandas(long, npartitions=2), K=5)
    >>> counts.compute().sort_values("id").to_numpy().tolist()
    [['a', 1, 0, 0, 0, 0], ['b', 0, 0, 0, 1, 2]]
    """
    K = scale.check_K(K)
    if not isinstance(ratings, dd.DataFrame):
        raise TypeError(f"ratings must be a Dask DataFrame, got {type(ratings).__name__}")
    needed = [stimulus, rating, *([] if group is None else [group]),
              *([] if subject is None else [subject])]
    missing = [c for c in needed if c not in ratings.columns]
    if missing:
        raise ValueError(f"column {missing[0]!r} not found; columns are {list(ratings.columns)}")
    if group is not None and group in (ID, *count_columns(K)):
        raise ValueError(f"group column {group!r} clashes with the output columns id, c1..c{K}")
    numeric_ids = _numeric_ids(ratings[stimulus].dtype)
    keys = [ID] if group is None else [ID, group]
    meta = _partition_counts(
        _sample(ratings, stimulus, rating, group, subject), stimulus, rating, K, group,
        numeric_ids, subject,
    ).iloc[:0]
    partial = ratings.map_partitions(
        _partition_counts, stimulus, rating, K, group, numeric_ids, subject, meta=meta,
        enforce_metadata=False,
    )
    summed = partial.groupby(keys, sort=False).sum(split_out=split_out, split_every=split_every)
    out = summed.reset_index()[[*keys, *count_columns(K)]]
    if subject is None:
        return out
    sizes = ratings[[stimulus, subject]].groupby([stimulus, subject]).size(
        split_out=split_out, split_every=split_every
    )
    twice = [dask.delayed(_first_twice)(piece) for piece in sizes.to_delayed()]
    checked = dask.delayed(_no_pair_twice)(twice, stimulus, subject)
    return out.map_partitions(_after_check, checked, meta=out._meta, enforce_metadata=False)


def _first_twice(sizes: pd.Series) -> tuple[Any, Any] | None:
    """The first (stimulus, subject) pair of a partition of pair sizes that occurs twice."""
    twice = sizes.to_numpy() > 1
    return sizes.index[int(np.argmax(twice))] if twice.any() else None


def _no_pair_twice(found: list[tuple[Any, Any] | None], stimulus: Any, subject: Any) -> bool:
    """Raise for the first pair found twice; True if there is none."""
    for pair in found:
        if pair is not None:
            s, u = (v.item() if isinstance(v, np.generic) else v for v in pair)
            raise ValueError(
                f"stimulus {s!r}, subject {u!r}: rated twice (in columns {stimulus!r} and "
                f"{subject!r}, in two partitions)"
            )
    return True


def _after_check(part: pd.DataFrame, checked: bool) -> pd.DataFrame:
    """The counts, once the subject check has passed (``checked`` is its result)."""
    return part


def _numeric_ids(dtype: Any) -> bool:
    """Whether a stimulus column of this dtype gives int64 ids (RatingCounts' rule)."""
    if isinstance(dtype, pd.CategoricalDtype):
        return dtype.categories is not None and pd.api.types.is_numeric_dtype(
            dtype.categories.dtype
        )
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _sample(
    ratings: dd.DataFrame, stimulus: Any, rating: Any, group: Any, subject: Any
) -> pd.DataFrame:
    """One valid rating with the dtypes of ``ratings``: the input from which meta is derived."""
    empty = ratings._meta
    stim = empty[stimulus]
    if isinstance(stim.dtype, pd.CategoricalDtype):
        value = stim.cat.categories[0] if len(stim.cat.categories) else "a"
        column = pd.Series(pd.Categorical([value]))
    else:
        column = pd.Series([1 if _numeric_ids(stim.dtype) else "a"]).astype(stim.dtype)
    cols = {stimulus: column, rating: pd.Series([1], dtype=np.int64)}
    if group is not None:
        kind = 0 if pd.api.types.is_numeric_dtype(empty[group].dtype) else "g"
        cols[group] = pd.Series([kind]).astype(empty[group].dtype)
    if subject is not None:
        kind = 0 if pd.api.types.is_numeric_dtype(empty[subject].dtype) else "s"
        cols[subject] = pd.Series([kind]).astype(empty[subject].dtype)
    return pd.DataFrame(cols)


def _partition_counts(
    part: pd.DataFrame,
    stimulus: Any,
    rating: Any,
    K: int,
    group: Any,
    numeric_ids: bool,
    subject: Any = None,
    partition_info: dict | None = None,
) -> pd.DataFrame:
    """Counts of one partition: ``RatingCounts.from_ratings`` (per group value), as a frame."""
    number = None if partition_info is None else partition_info.get("number")
    where = "partition" if number is None else f"partition {number}"
    try:
        _reject_non_numbers(part, stimulus, rating)
        if group is None:
            return _counted(part, stimulus, rating, K, numeric_ids, subject)
        if part[group].isna().any():
            i = int(np.argmax(part[group].isna().to_numpy()))
            raise ValueError(
                f"row {part.index[i]!r} (stimulus {part[stimulus].iloc[i]!r}), column {group!r}:"
                " group is missing"
            )
        frames = [
            _counted(sub, stimulus, rating, K, numeric_ids, subject).assign(**{group: value})
            for value, sub in part.groupby(group, sort=False, observed=True)
        ]
        if not frames:
            return _counted(part, stimulus, rating, K, numeric_ids, subject).assign(
                **{group: part[group].iloc[:0]}
            )[[ID, group, *count_columns(K)]]
        out = pd.concat(frames, ignore_index=True)
        out[group] = out[group].astype(part[group].dtype)
        return out[[ID, group, *count_columns(K)]]
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc


def _counted(
    part: pd.DataFrame, stimulus: Any, rating: Any, K: int, numeric_ids: bool, subject: Any
) -> pd.DataFrame:
    """``from_ratings`` of one partition (or group) as columns id, c1..cK."""
    with warnings.catch_warnings():
        # unused categories of a categorical stimulus column are no stimuli of this partition
        warnings.simplefilter("ignore", UserWarning)
        rc = RatingCounts.from_ratings(part, stimulus=stimulus, rating=rating,
                                       subject=subject, K=K, drop_empty=True)
    if numeric_ids and rc.ids.dtype.kind not in "iu" and len(rc):
        bad = next(i for i in rc.ids if not str(i).lstrip("-").isdigit())
        raise ValueError(
            f"stimulus id {bad!r} is not a whole number; a numeric stimulus column must hold "
            "whole numbers (cast it to strings for other ids)"
        )
    return rc.to_frame().reset_index()


def _reject_non_numbers(part: pd.DataFrame, stimulus: Any, rating: Any) -> None:
    """Booleans and strings are no ratings (pandas would read True as 1 and "3" as 3)."""
    values = part[rating]
    if pd.api.types.is_bool_dtype(values.dtype):
        bad = np.ones(len(values), bool)
    elif values.dtype.kind in "iuf":
        return
    else:
        bad = values.map(lambda v: isinstance(v, str | bool | np.bool_)).to_numpy(dtype=bool)
    if bad.any():
        i = int(np.argmax(bad))
        value = values.iloc[i]
        kind = "a string" if isinstance(value, str) else "a boolean"
        raise ValueError(
            f"row {part.index[i]!r} (stimulus {part[stimulus].iloc[i]!r}), column {rating!r}: "
            f"rating {value!r} is {kind}, not a number (column dtype {values.dtype}; convert "
            "the column to numbers first, e.g. with dd.to_numeric)"
        )
