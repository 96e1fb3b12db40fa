"""Dataset-level figures of Dask fit tables, reduced exactly from per-partition partial sums.

Each partition of a fit table contributes its number of stimuli, the exact sums
(:class:`~ratingdist.dask._exact.ExactSum`) of NLL, G and exp(−NLL/N), and its counts of
p < 0.05, limits and non-converged fits. Partial sums add exactly, so the figures do not depend
on the partitioning or on the order in which the parts are combined: each sum is the correctly
rounded sum over all stimuli (``math.fsum``), and a mean is that sum divided by n.

:attr:`ratingdist.FitResult.summary` sums exactly too (``math.fsum``), so every figure, and
so every column of :func:`compare`, equals that of ``rd.compare`` on all stimuli at once, bit
for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from .. import gof
from ..fitting import compare as _compare
from ..fitting import fit as _fit
from ._counts import ID, count_columns
from ._exact import ExactSum


@dataclass(frozen=True)
class _Partial:
    """The summary ingredients of some stimuli of one family; ``+`` combines two sets."""

    n: int = 0
    nll: ExactSum = field(default_factory=ExactSum)
    g: ExactSum = field(default_factory=ExactSum)
    likelihood: ExactSum = field(default_factory=ExactSum)
    p_below: int = 0
    limit: int = 0
    not_converged: int = 0

    def __add__(self, other: _Partial) -> _Partial:
        return _Partial(
            self.n + other.n, self.nll + other.nll, self.g + other.g,
            self.likelihood + other.likelihood, self.p_below + other.p_below,
            self.limit + other.limit, self.not_converged + other.not_converged,
        )


@dataclass(frozen=True)
class _Reduced:
    """Stands in for a FitResult in ``rd.compare``, which reads ``.summary`` only."""

    summary: pd.Series


def compare(
    results: dict[str, dd.DataFrame] | Iterable[dd.DataFrame],
    compute: Callable[..., tuple] = dask.compute,
) -> pd.DataFrame:
    """One row per family, best (lowest AIC) first: ``rd.compare`` of Dask fit tables.

    Parameters
    ----------
    results : {family: table} from :func:`fit_all`, or fit tables from :func:`fit` (or read
        back from Parquet), one per family.
    compute : computes the per-partition partial sums, called as ``compute(*lists)``, one list
        of Delayed per table, and returning the computed lists (``dask.compute`` by default;
        e.g. one that shows a progress bar).

    Returns
    -------
    DataFrame with the columns of :func:`ratingdist.compare` (family, n, aic, delta_aic, bic,
    mean_g, mean_nll, mean_likelihood, share_p_below_0.05, n_limit, n_not_converged), from
    exact per-partition sums: equal to ``rd.compare`` of the in-memory fits. With a group
    column in the tables, one block of rows per group value (sorted), the group column first.

    Examples
    --------
    >>> import ratingdist as rd
    >>> from ratingdist import dask as rdd
    >>> counts = rd.RatingCounts([1, 2, 3], [[0, 2, 5, 3, 0], [1, 4, 4, 1, 0], [0, 0, 3, 6, 2]])
    >>> table = rdd.compare(rdd.fit_all(counts, ["normal", "gsd"], npartitions=2))
    >>> table[["family", "n"]].to_numpy().tolist()
    [['normal', 3], ['gsd', 3]]
    """
    tables = list(results.values() if isinstance(results, dict) else results)
    if not tables:
        raise ValueError("compare needs at least one fit table")
    groups = [_group_column(t) for t in tables]
    if len(set(groups)) != 1:
        raise ValueError(f"the fit tables differ in their group columns: {groups}")
    group = groups[0]
    K = _count_columns_of(tables[0])
    parts = [[dask.delayed(_partials)(p, K, group) for p in t.to_delayed()] for t in tables]
    computed = compute(*parts)
    blocks = []
    per_table = [_combine(partials) for partials in computed]
    keys = {key for reduced in per_table for key in reduced}
    if not keys:
        raise ValueError("the fit tables have no stimuli")
    template = _template_summary(K)
    for key in [None] if group is None else sorted(keys):
        rows = [_Reduced(_summary(*reduced[key], template)) for reduced in per_table
                if key in reduced]
        block = _compare(rows)
        if group is not None:
            block.insert(0, group, key)
        blocks.append(block)
    return blocks[0] if group is None else pd.concat(blocks, ignore_index=True)


def _group_column(table: dd.DataFrame) -> Any:
    """The column between ``id`` and ``family`` of a fit table (None if there is none)."""
    columns = list(table.columns)
    if ID not in columns or "family" not in columns:
        raise ValueError(f"not a fit table (needs columns 'id' and 'family'): {columns}")
    between = columns[columns.index(ID) + 1 : columns.index("family")]
    return between[0] if between else None


def _count_columns_of(table: dd.DataFrame) -> int:
    K = 0
    while f"c{K + 1}" in table.columns:
        K += 1
    return K


def _partials(part: pd.DataFrame, K: int, group: Any) -> dict[Any, tuple[str | None, _Partial]]:
    """{group value (None without groups): (family, partial sums)} of one partition."""
    if len(part) == 0:
        return {}
    if group is None:
        return {None: _partial_of(part, K)}
    return {
        value: _partial_of(sub, K)
        for value, sub in part.groupby(group, sort=False, observed=True, dropna=False)
    }


def _partial_of(t: pd.DataFrame, K: int) -> tuple[str, _Partial]:
    """Partial sums of stimuli of one family, with the same elementwise operations as
    :attr:`ratingdist.FitResult.summary` (so each term is bitwise the same)."""
    nll = t["nll"].to_numpy(dtype=np.float64)
    n_ratings = t[count_columns(K)].to_numpy(dtype=np.int64).sum(axis=1)
    partial = _Partial(
        n=len(t),
        nll=ExactSum.of(nll),
        g=ExactSum.of(t["g"].to_numpy(dtype=np.float64)),
        likelihood=ExactSum.of(np.exp(-nll / n_ratings)),
        p_below=int((t["p_value"].to_numpy() < 0.05).sum()) if "p_value" in t else 0,
        limit=int(t["limit"].to_numpy(dtype=bool).sum()),
        not_converged=int((~t["converged"].to_numpy(dtype=bool)).sum()),
    )
    return str(t["family"].iloc[0]), partial


def _combine(partials: list[dict[Any, tuple[str, _Partial]]]) -> dict[Any, tuple[str, _Partial]]:
    """Add the partial sums of all partitions, per group value (exact: order is irrelevant)."""
    out: dict[Any, tuple[str, _Partial]] = {}
    for piece in partials:
        for key, (name, partial) in piece.items():
            if key in out:
                out[key] = (name, out[key][1] + partial)
            else:
                out[key] = (name, partial)
    return out


def _template_summary(K: int) -> pd.Series:
    """``FitResult.summary`` of a one-stimulus fit: the names and types of the figures."""
    return _fit([[1] * K], "normal").summary


def _summary(family_name: str, p: _Partial, template: pd.Series) -> pd.Series:
    """The figures of :attr:`ratingdist.FitResult.summary` from exact partial sums."""
    total = p.nll.value
    figures: dict[str, Any] = {
        "family": family_name,
        "n": p.n,
        "aic": gof.aic(total, p.n),
        "bic": gof.bic(total, p.n),
        "mean_g": p.g.value / p.n,
        "mean_nll": total / p.n,
        "mean_likelihood": p.likelihood.value / p.n,
        "share_p_below_0.05": p.p_below / p.n,
        "n_limit": p.limit,
        "n_not_converged": p.not_converged,
    }
    unknown = [key for key in template.index if key not in figures]
    if unknown:
        raise NotImplementedError(
            f"FitResult.summary has figures {unknown} that ratingdist.dask does not reduce yet"
        )
    values = {key: type(template[key])(figures[key]) for key in template.index}
    return pd.Series(values, name=values["family"])

