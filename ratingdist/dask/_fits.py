"""Per-stimulus fits and QoE figures over count partitions: the in-memory ``rd.fit`` per partition.

Stimuli are independent, so fitting a partition of the counts with :func:`ratingdist.fit`
gives, row for row, what fitting all counts at once gives. Column names and dtypes (Dask's
``meta``) come from fitting a one-stimulus sample, so they are always those of
:attr:`ratingdist.FitResult.table`.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import numba
import numpy as np
import pandas as pd

from .. import qoe as _qoe
from ..data import RatingCounts
from ..families import FAMILIES, Family, family
from ..fitting import FitResult
from ..fitting import fit as _fit
from ._counts import ID, count_columns

#: The workqueue threading layer of Numba aborts on kernels launched from two threads at once;
#: with it, fits in threads of one process take turns (OpenMP and TBB need no lock).
_WORKQUEUE_LOCK = threading.Lock()


def fit(
    counts: dd.DataFrame | RatingCounts | pd.DataFrame,
    family_name: str | Family,
    npartitions: int | None = None,
    **options: Any,
) -> dd.DataFrame:
    """Fit one family to every stimulus, partition by partition.

    Parameters
    ----------
    counts : a Dask DataFrame with columns ``id``, ``c1..cK`` and at most one more column, a
        group (as from :func:`counts_from_ratings`), or an in-memory RatingCounts or count
        table (columns ``id``, ``c1..cK``), which is split into ``npartitions``.
    family_name : a name from ``rd.FAMILIES`` or a family object.
    npartitions : for a Dask DataFrame, repartition to this many partitions first (None: keep
        them); for in-memory counts the number of pieces (None: the number of CPUs).
    **options : as for :func:`ratingdist.fit` (``bounds``, ``pseudo_counts``, ``prob_floor``).

    Returns
    -------
    Dask DataFrame with exactly the columns and dtypes of :attr:`ratingdist.FitResult.table`
    (the group column after ``id`` if the counts have one); rows in the order of the counts.
    Every row equals, bit for bit, the row of ``rd.fit`` on all counts at once.

    Raises
    ------
    ValueError
        Up front for bad options or columns; when computed, for invalid counts or an id that
        occurs twice in a partition (the message names the partition, as RatingCounts does
        the stimulus).

    Examples
    --------
    >>> import ratingdist as rd
    >>> from ratingdist import dask as rdd
    >>> counts = rd.RatingCounts(["x", "y"], [[0, 0, 25, 73, 7], [5, 13, 6, 0, 0]])
    >>> table = rdd.fit(counts, "normal", npartitions=2).compute()
    >>> table[["id", "mu", "sigma"]].round(3).to_numpy().tolist()
    [['x', 3.824, 0.446], ['y', 2.033, 0.628]]
    """
    fam = family(family_name)
    ddf = as_dask_counts(counts, npartitions)
    K, group = _layout(ddf)
    meta = _fit_partition(_sample_counts(ddf._meta, K), fam, K, group, options)
    return ddf.map_partitions(
        _fit_partition, fam, K, group, options, meta=meta.iloc[:0], enforce_metadata=False
    )


def fit_all(
    counts: dd.DataFrame | RatingCounts | pd.DataFrame,
    families: Iterable[str | Family] | None = None,
    npartitions: int | None = None,
    **options: Any,
) -> dict[str, dd.DataFrame]:
    """:func:`fit` for several families (all of ``rd.FAMILIES`` by default): {name: table}.

    The tables are lazy; compute them together (``dask.compute(*tables.values())``,
    :func:`compare`, :func:`to_parquet`) so that the counts are computed once, or
    ``persist()`` the counts first.
    """
    ddf = as_dask_counts(counts, npartitions)
    names = FAMILIES if families is None else tuple(families)
    out: dict[str, dd.DataFrame] = {}
    for name in names:
        fam = family(name)
        out[fam.name] = fit(ddf, fam, **options)
    return out


def qoe(
    counts: dd.DataFrame | RatingCounts | pd.DataFrame,
    family_name: str | Family,
    quantiles: Iterable[float] = (0.1, 0.5, 0.9),
    kind: str | None = None,
    npartitions: int | None = None,
    **options: Any,
) -> dd.DataFrame:
    """QoE figures of the fitted model per stimulus, from :mod:`ratingdist.qoe`.

    Columns: ``id`` (and the group column), ``mos`` (:func:`~ratingdist.qoe.mos`), ``sos``
    (:func:`~ratingdist.qoe.sos`), ``gob`` (%GoB as a fraction, :func:`~ratingdist.qoe.gob`),
    ``pow`` (%PoW, :func:`~ratingdist.qoe.pow`) and ``q<α>`` for each quantile level α
    (:func:`~ratingdist.qoe.quantile`: latent quantiles on the rating axis for quantized
    families; pass ``kind="category"`` for category quantiles, the only kind for maxent and
    GSD, which raise ``ValueError`` otherwise, as in :mod:`ratingdist.qoe`).

    Examples
    --------
    >>> from ratingdist import dask as rdd
    >>> figures = rdd.qoe([[0, 0, 25, 73, 7]], "normal", quantiles=[0.1], npartitions=1)
    >>> figures.compute().round(2).to_numpy().tolist()
    [[0.0, 3.83, 0.52, 0.77, 0.0, 3.25]]
    """
    fam = family(family_name)
    levels = tuple(float(a) for a in quantiles)
    ddf = as_dask_counts(counts, npartitions)
    K, group = _layout(ddf)

    def figures(res: FitResult) -> dict[str, Any]:
        cols: dict[str, Any] = {
            "mos": _qoe.mos(res), "sos": _qoe.sos(res), "gob": _qoe.gob(res), "pow": _qoe.pow(res),
        }
        for a in levels:
            cols[f"q{a:g}"] = _qoe.quantile(res, a, kind=kind)
        return cols

    meta = _qoe_partition(_sample_counts(ddf._meta, K), fam, K, group, options, figures)
    return ddf.map_partitions(
        _qoe_partition, fam, K, group, options, figures, meta=meta.iloc[:0],
        enforce_metadata=False,
    )


def to_parquet(tables: dict[str, dd.DataFrame], path: str | os.PathLike[str], **kwargs: Any
               ) -> dict[str, Path]:
    """Write each table to ``path/<name>/`` (Dask's partitioned Parquet), all in one compute.

    ``kwargs`` go to :meth:`dask.dataframe.DataFrame.to_parquet` (default ``write_index=False``).
    Read a family back with ``dd.read_parquet(path / name)``; its ``.compute()`` is a fit table
    that :meth:`ratingdist.FitResult.from_table` accepts.

    Returns
    -------
    {name: folder written}
    """
    root = Path(path)
    kwargs.setdefault("write_index", False)
    folders = {name: root / name for name in tables}
    writes = [t.to_parquet(folders[name], compute=False, **kwargs) for name, t in tables.items()]
    dask.compute(*writes)
    return folders


def as_dask_counts(
    counts: dd.DataFrame | RatingCounts | pd.DataFrame, npartitions: int | None = None
) -> dd.DataFrame:
    """A Dask DataFrame of counts (id, c1..cK[, group]) from any of the accepted inputs."""
    if isinstance(counts, dd.DataFrame):
        return counts if npartitions is None else counts.repartition(npartitions=npartitions)
    if isinstance(counts, pd.DataFrame):
        rc = RatingCounts.from_table(counts, id_column=ID if ID in counts.columns else None)
    elif isinstance(counts, RatingCounts):
        rc = counts
    else:
        rc = RatingCounts(np.arange(len(np.atleast_2d(counts))), np.atleast_2d(counts))
    pieces = npartitions or os.cpu_count() or 1
    table = rc.to_frame().reset_index()
    return dd.from_pandas(table, npartitions=max(1, min(pieces, len(table))), sort=False)


# -- per partition -----------------------------------------------------------------------------
def _layout(ddf: dd.DataFrame) -> tuple[int, Any]:
    """K and the group column (or None) of a Dask count table; ValueError if it has neither
    id and c1..cK nor at most one further column."""
    columns = list(ddf.columns)
    K = 0
    while f"c{K + 1}" in columns:
        K += 1
    if ID not in columns or K < 3:
        raise ValueError(f"counts need columns 'id' and c1..cK (K >= 3); got {columns}")
    others = [c for c in columns if c not in (ID, *count_columns(K))]
    if len(others) > 1:
        raise ValueError(
            f"counts may have one column besides id and c1..c{K} (a group), got {others}"
        )
    return K, (others[0] if others else None)


def _sample_counts(like: pd.DataFrame, K: int) -> pd.DataFrame:
    """A one-stimulus count table with the columns and dtypes of ``like`` (a partition or a
    Dask meta): computing on it gives the meta, and the dtypes of an empty partition."""
    cols: dict[Any, pd.Series] = {}
    for name in like.columns:
        dtype = like[name].dtype
        value = 0 if pd.api.types.is_numeric_dtype(dtype) else "a"
        cols[name] = pd.Series([value]).astype(dtype)
    sample = pd.DataFrame(cols)
    sample[count_columns(K)] = 1
    return sample


def _pieces(part: pd.DataFrame, K: int, group: Any) -> Iterator[tuple[Any, RatingCounts]]:
    """(group value, RatingCounts) of a partition; one piece with value None without groups."""
    if group is None:
        yield None, RatingCounts(part[ID].to_numpy(), part[count_columns(K)].to_numpy())
        return
    for value, sub in part.groupby(group, sort=False, observed=True, dropna=False):
        yield value, RatingCounts(sub[ID].to_numpy(), sub[count_columns(K)].to_numpy())


def _per_piece(
    part: pd.DataFrame,
    K: int,
    group: Any,
    partition_info: dict | None,
    compute: Callable[[RatingCounts], pd.DataFrame],
) -> pd.DataFrame:
    """``compute`` on each piece of a partition, with the group column put back after id."""
    number = None if partition_info is None else partition_info.get("number")
    frames = []
    try:
        with _numba_guard():
            for value, rc in _pieces(part, K, group):
                table = compute(rc)
                if group is not None:
                    table.insert(1, group, pd.Series([value] * len(table)).astype(
                        part[group].dtype).to_numpy())
                frames.append(table)
    except ValueError as exc:
        where = "partition" if number is None else f"partition {number}"
        raise ValueError(f"{where}: {exc}") from exc
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _fit_partition(
    part: pd.DataFrame, fam: Family, K: int, group: Any, options: dict[str, Any],
    partition_info: dict | None = None,
) -> pd.DataFrame:
    """``rd.fit(...).table`` of one partition."""
    if len(part) == 0:
        part = _sample_counts(part, K)
        return _per_piece(part, K, group, partition_info,
                          lambda rc: _fit(rc, fam, **options).table).iloc[:0]
    return _per_piece(part, K, group, partition_info, lambda rc: _fit(rc, fam, **options).table)


def _qoe_partition(
    part: pd.DataFrame, fam: Family, K: int, group: Any, options: dict[str, Any],
    figures: Callable[[FitResult], dict[str, Any]], partition_info: dict | None = None,
) -> pd.DataFrame:
    """The QoE figures of one partition."""

    def compute(rc: RatingCounts) -> pd.DataFrame:
        res = _fit(rc, fam, **options)
        return pd.DataFrame({ID: rc.ids, **figures(res)})

    if len(part) == 0:
        part = _sample_counts(part, K)
        return _per_piece(part, K, group, partition_info, compute).iloc[:0]
    return _per_piece(part, K, group, partition_info, compute)


@contextlib.contextmanager
def _numba_guard() -> Iterator[None]:
    """Serialize Numba kernels across threads when the threading layer is workqueue (or not
    chosen yet); a no-op for OpenMP and TBB."""
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run in this process yet
        layer = None
    if layer in ("omp", "tbb"):
        yield
        return
    with _WORKQUEUE_LOCK:
        yield
