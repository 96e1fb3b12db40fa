"""ratingdist.dask: every per-stimulus number equals the in-memory path bit for bit; the
dataset-level figures are the exact (math.fsum) reductions; counts equal
RatingCounts.from_ratings; bad ratings name their partition."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import ratingdist as rd  # noqa: E402
from ratingdist import dask as rdd  # noqa: E402
from ratingdist.dask._exact import ExactSum  # noqa: E402

pytestmark = pytest.mark.data

#: Unequal partition sizes (7 partitions) of KonIQ-10k's 10,073 stimuli.
SIZES = (3001, 17, 1500, 2555, 1, 999, 2000)


def unequal_partitions(counts: rd.RatingCounts) -> dd.DataFrame:
    table = counts.to_frame().reset_index()
    bounds = np.cumsum((0, *SIZES))
    assert bounds[-1] == len(table)
    pieces = [dask.delayed(table.iloc[a:b].reset_index(drop=True))
              for a, b in itertools.pairwise(bounds)]
    return dd.from_delayed(pieces, meta=table.iloc[:0])


def by_id(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values("id", kind="stable").reset_index(drop=True)


def exact_summary(res: rd.FitResult) -> dict[str, float]:
    """FitResult.summary with math.fsum in place of numpy's sums."""
    n = len(res)
    total = math.fsum(res.nll)
    return {
        "aic": rd.gof.aic(total, n),
        "bic": rd.gof.bic(total, n),
        "mean_g": math.fsum(res.g) / n,
        "mean_nll": total / n,
        "mean_likelihood": math.fsum(np.exp(-res.nll / res.counts.n_ratings)) / n,
    }


@pytest.fixture(scope="module")
def in_memory(koniq):
    return rd.fit_all(koniq)


@pytest.fixture(scope="module")
def threaded(koniq):
    with dask.config.set(scheduler="threads"):
        tables = rdd.fit_all(unequal_partitions(koniq))
        computed = dict(zip(tables, dask.compute(*tables.values())))
        table = rdd.compare(tables)
    return computed, table


def test_fit_tables_equal_in_memory_bit_for_bit(in_memory, threaded):
    computed, _ = threaded
    for name, res in in_memory.items():
        expected = res.table
        got = computed[name]
        assert list(got.columns) == list(expected.columns)
        assert got.dtypes.to_dict() == expected.dtypes.to_dict()
        pd.testing.assert_frame_equal(by_id(got), by_id(expected), check_exact=True)


def test_compare_is_the_exact_reduction(in_memory, threaded):
    _, table = threaded
    expected = rd.compare(in_memory)
    assert list(table.columns) == list(expected.columns)
    assert table["family"].tolist() == expected["family"].tolist()
    whole = ["n", "n_limit", "n_not_converged", "share_p_below_0.05"]
    pd.testing.assert_frame_equal(table[whole], expected[whole], check_exact=True)
    for _, row in table.iterrows():
        for key, value in exact_summary(in_memory[row["family"]]).items():
            assert row[key] == value, (row["family"], key)
    floats = ["aic", "delta_aic", "bic", "mean_g", "mean_nll", "mean_likelihood"]
    np.testing.assert_allclose(table[floats], expected[floats], rtol=1e-14, atol=1e-9)


def test_compare_does_not_depend_on_partitioning(koniq, threaded):
    _, table = threaded
    with dask.config.set(scheduler="threads"):
        tables = rdd.fit_all(koniq, ["gsd", "logit-logistic"], npartitions=3)
        again = rdd.compare(tables)
    rows = table.set_index("family").loc[again["family"]].reset_index()
    pd.testing.assert_frame_equal(again.drop(columns="delta_aic"),
                                  rows.drop(columns="delta_aic"), check_exact=True)


def test_local_cluster_equals_in_memory(koniq, in_memory):
    with rdd.local_cluster(n_workers=2, threads_per_worker=1) as cluster, \
            distributed.Client(cluster) as client:
        env = client.run(lambda: __import__("os").environ.get("NUMBA_NUM_THREADS"))
        assert set(env.values()) == {"1"}
        tables = rdd.fit_all(unequal_partitions(koniq), ["logit-logistic"])
        got = tables["logit-logistic"].compute()
        table = rdd.compare(tables)
    expected = in_memory["logit-logistic"]
    pd.testing.assert_frame_equal(by_id(got), by_id(expected.table), check_exact=True)
    assert table["aic"].iloc[0] == exact_summary(expected)["aic"]
    assert table["n"].iloc[0] == len(koniq)


def long_ratings(counts: rd.RatingCounts, seed: int = 0) -> pd.DataFrame:
    """One row per rating, shuffled."""
    ids = np.repeat(np.repeat(counts.ids, counts.K), counts.counts.ravel())
    ratings = np.tile(np.arange(1, counts.K + 1), len(counts))
    ratings = np.repeat(ratings, counts.counts.ravel())
    order = np.random.default_rng(seed).permutation(len(ids))
    return pd.DataFrame({"stimulus": ids[order],
                         "rating": ratings[order]})


def test_counts_from_ratings_equal_from_ratings(koniq):
    long = long_ratings(koniq[:300])
    ddf = dd.from_pandas(long, npartitions=5, sort=False)
    with dask.config.set(scheduler="threads"):
        got = rdd.counts_from_ratings(ddf, split_out=3).compute()
    expected = rd.RatingCounts.from_ratings(long).to_frame().reset_index()
    assert got.dtypes.to_dict() == expected.dtypes.to_dict()
    pd.testing.assert_frame_equal(by_id(got), by_id(expected), check_exact=True)


def test_counts_per_group_and_integer_ids():
    long = pd.DataFrame({
        "stimulus": [7, 7, 8, 7, 8, 8],
        "lab": ["a", "b", "a", "a", "b", "b"],
        "rating": [1, 2, 3, 1, 5, 4],
    })
    with dask.config.set(scheduler="sync"):
        counts = rdd.counts_from_ratings(dd.from_pandas(long, npartitions=2), group="lab")
        got = counts.compute().sort_values(["id", "lab"]).reset_index(drop=True)
        fits = rdd.fit(counts, "maxent").compute()
        table = rdd.compare(rdd.fit_all(counts, ["normal", "maxent"]))
    assert got["id"].dtype == np.int64
    assert got.to_numpy().tolist() == [
        [7, "a", 2, 0, 0, 0, 0], [7, "b", 0, 1, 0, 0, 0],
        [8, "a", 0, 0, 1, 0, 0], [8, "b", 0, 0, 0, 1, 1],
    ]
    assert list(fits.columns[:2]) == ["id", "lab"]
    assert table["lab"].tolist() == ["a", "a", "b", "b"]
    assert set(table["n"]) == {2}


@pytest.mark.parametrize(
    ("value", "reason"),
    [(7, "rating 7 is outside 1..5"), (2.5, "rating 2.5 is not a whole number"),
     (np.nan, "rating nan is missing"), (True, "rating True is a boolean"),
     ("3", "rating '3' is a string")],
)
def test_bad_rating_names_partition_row_stimulus_and_value(value, reason):
    long = pd.DataFrame({"stimulus": list("abcdef") * 2, "rating": [1, 2, 3, 4, 5, 1] * 2})
    long["rating"] = long["rating"].astype(object)
    long.loc[9, "rating"] = value
    # an object column of numbers (Dask would otherwise turn it into strings)
    with dask.config.set({"dataframe.convert-string": False, "scheduler": "sync"}):
        ddf = dd.from_pandas(long, npartitions=3, sort=False)
        counts = rdd.counts_from_ratings(ddf)
        with pytest.raises(ValueError) as info:
            counts.compute()
    message = str(info.value)
    assert message.startswith("partition 2: row 9 (stimulus 'd'), column 'rating': ")
    assert reason in message


def test_bad_counts_and_duplicate_ids_name_the_partition():
    table = pd.DataFrame({"id": ["a", "b", "a"], "c1": [1, 0, 2], "c2": [0, 1, 0],
                          "c3": [2, 2, 1]})
    ddf = dd.from_pandas(table, npartitions=1)
    with dask.config.set(scheduler="sync"), pytest.raises(ValueError, match=r"^partition 0: "
                                                          r"stimulus id 'a' occurs twice"):
        rdd.fit(ddf, "normal").compute()
    with pytest.raises(ValueError, match="bounds must be one of"):
        rdd.fit(ddf, "normal", bounds="box")


def test_qoe_equals_in_memory(koniq):
    counts = koniq[:500]
    res = rd.fit(counts, "beta")
    with dask.config.set(scheduler="threads"):
        got = rdd.qoe(counts, "beta", quantiles=(0.1, 0.9), npartitions=4).compute()
    assert got.columns.tolist() == ["id", "mos", "sos", "gob", "pow", "q0.1", "q0.9"]
    np.testing.assert_array_equal(got["id"], counts.ids)
    np.testing.assert_array_equal(got["mos"], rd.qoe.mos(res))
    np.testing.assert_array_equal(got["gob"], rd.qoe.gob(res))
    np.testing.assert_array_equal(got["q0.1"], rd.qoe.quantile(res, 0.1))
    with pytest.raises(ValueError, match="kind='category'"):
        rdd.qoe(counts, "gsd")
    cat = rdd.qoe(counts, "gsd", quantiles=[0.5], kind="category", npartitions=2).compute()
    np.testing.assert_array_equal(cat["q0.5"],
                                  rd.qoe.quantile(rd.fit(counts, "gsd"), 0.5, kind="category"))


def test_to_parquet_round_trip(koniq, tmp_path):
    counts = koniq[:200]
    with dask.config.set(scheduler="threads"):
        tables = rdd.fit_all(counts, ["kumaraswamy", "gsd"], npartitions=3)
        folders = rdd.to_parquet(tables, tmp_path)
    for name, folder in folders.items():
        back = dd.read_parquet(folder).compute()
        expected = rd.fit(counts, name).table
        back = back.astype(expected.dtypes.to_dict())  # Parquet gives NA-valued string dtypes
        pd.testing.assert_frame_equal(by_id(back), by_id(expected), check_exact=True)


def test_exact_sum_is_fsum_for_any_split():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(5000) * 10.0 ** rng.integers(-300, 300, 5000)
    x[:3] = [5e-324, -5e-324, 2.2250738585072014e-308]
    whole = ExactSum.of(x)
    assert whole.value == math.fsum(x)
    parts = [ExactSum.of(p) for p in np.array_split(x, 13)]
    assert sum(reversed(parts), ExactSum()).value == whole.value
    assert ExactSum.of([1.0, np.inf]).value == np.inf


def test_worker_environment_rejects_bad_thread_counts():
    assert rdd.worker_environment(1)["NUMBA_NUM_THREADS"] == "1"
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="threads_per_worker"):
            rdd.worker_environment(bad)
