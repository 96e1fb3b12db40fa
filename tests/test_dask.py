"""ratingdist.dask: every per-stimulus number and every figure of the comparison table equals
the in-memory path bit for bit (threaded scheduler and a 2-process LocalCluster, KonIQ-10k in 7
partitions of unequal size); counts equal RatingCounts.from_ratings; bad ratings name their
partition; the workers load the compiled kernels from the Numba cache; ``ratingdist compare
--dask`` prints what ``ratingdist compare`` prints."""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys

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


def assert_bitwise_equal(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same columns and dtypes, every column ``==`` elementwise, floats also bit for bit."""
    assert list(got.columns) == list(expected.columns)
    assert got.dtypes.to_dict() == expected.dtypes.to_dict()
    assert len(got) == len(expected)
    for column in expected.columns:
        a, b = got[column].to_numpy(), expected[column].to_numpy()
        assert (a == b).all(), column
        if a.dtype == np.float64:
            assert (a.view(np.int64) == b.view(np.int64)).all(), column


def kernel_cache_stats() -> tuple[int, int]:
    """(cache misses, cache hits) of every Numba dispatcher of ratingdist in this process: a
    miss is a kernel compiled here instead of loaded from the on-disk cache."""
    from numba.core.dispatcher import Dispatcher

    dispatchers = {id(v): v for name, module in list(sys.modules.items())
                   if name.startswith("ratingdist") for v in vars(module).values()
                   if isinstance(v, Dispatcher)}
    misses = sum(sum(d.stats.cache_misses.values()) for d in dispatchers.values())
    hits = sum(sum(d.stats.cache_hits.values()) for d in dispatchers.values())
    return misses, hits


def fit_every_family() -> tuple[int, int]:
    """A worker's first fits: every family once; then its kernel cache statistics."""
    for name in rd.FAMILIES:
        rd.fit([[0, 1, 2, 1, 0], [3, 0, 0, 0, 0]], name)
    return kernel_cache_stats()


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
        assert_bitwise_equal(by_id(computed[name]), by_id(res.table))


def test_compare_equals_in_memory_bit_for_bit(in_memory, threaded):
    _, table = threaded
    assert_bitwise_equal(table, rd.compare(in_memory))


def test_in_memory_summary_sums_exactly(in_memory):
    res = in_memory["gsd"]
    n = len(res)
    summary = res.summary
    assert summary["mean_g"] == math.fsum(res.g) / n
    assert summary["aic"] == rd.gof.aic(math.fsum(res.nll), n)
    reversed_order = rd.fit(res.counts[np.arange(n)[::-1]], "gsd").summary
    assert reversed_order.equals(summary)


def test_compare_does_not_depend_on_partitioning(koniq, threaded):
    _, table = threaded
    with dask.config.set(scheduler="threads"):
        tables = rdd.fit_all(koniq, ["gsd", "logit-logistic"], npartitions=3)
        again = rdd.compare(tables)
    rows = table.set_index("family").loc[again["family"]].reset_index()
    pd.testing.assert_frame_equal(again.drop(columns="delta_aic"),
                                  rows.drop(columns="delta_aic"), check_exact=True)


def test_local_cluster_equals_in_memory_bit_for_bit(koniq, in_memory):
    with rdd.local_cluster(n_workers=2, threads_per_worker=1) as cluster, \
            distributed.Client(cluster) as client:
        env = client.run(lambda: os.environ.get("NUMBA_NUM_THREADS"))
        assert set(env.values()) == {"1"}
        assert len(env) == 2
        tables = rdd.fit_all(unequal_partitions(koniq))
        computed = dict(zip(tables, dask.compute(*tables.values())))
        table = rdd.compare(tables)
    for name, res in in_memory.items():
        assert_bitwise_equal(by_id(computed[name]), by_id(res.table))
    assert_bitwise_equal(table, rd.compare(in_memory))


def test_workers_load_the_kernels_from_the_cache(in_memory):
    # in_memory has compiled (or loaded) every kernel here, so the on-disk cache is warm
    assert sum(kernel_cache_stats()) > 0
    with rdd.local_cluster(n_workers=1) as cluster, distributed.Client(cluster) as client:
        (misses, hits), = client.run(fit_every_family).values()
    assert misses == 0
    assert hits > 0


def test_worker_environment_carries_the_numba_cache_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    assert "NUMBA_CACHE_DIR" not in rdd.worker_environment(1)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert rdd.worker_environment(1)["NUMBA_CACHE_DIR"] == str(tmp_path)
    assert rdd.worker_environment(1, cache_dir="/elsewhere")["NUMBA_CACHE_DIR"] == "/elsewhere"
    with rdd.local_cluster(n_workers=1, env={"NUMBA_CACHE_DIR": str(tmp_path / "x")}) \
            as cluster, distributed.Client(cluster) as client:
        seen = client.run(lambda: os.environ.get("NUMBA_CACHE_DIR"))
    assert set(seen.values()) == {str(tmp_path / "x")}


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


# -- ratingdist compare --dask -----------------------------------------------------------------
def ratingdist(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "ratingdist", *args], capture_output=True,
                          text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def rating_files(koniq, tmp_path_factory):
    """KonIQ-10k's first 1500 stimuli as long-format ratings with a subject column: one CSV
    file, and a directory of three Parquet files of unequal size."""
    folder = tmp_path_factory.mktemp("ratings")
    long = long_ratings(koniq[:1500], seed=2)
    long["subject"] = long.groupby("stimulus").cumcount()
    long = long.rename(columns={"stimulus": "clip", "rating": "vote", "subject": "rater"})
    long.to_csv(folder / "ratings.csv", index=False)
    parts = folder / "parts"
    parts.mkdir()
    for i, (a, b) in enumerate(itertools.pairwise([0, 1000, 60000, len(long)])):
        long.iloc[a:b].to_parquet(parts / f"part-{i}.parquet", index=False)
    return folder


COLUMNS = ("--stimulus-col", "clip", "--rating-col", "vote", "--subject-col", "rater")


def test_cli_compare_dask_prints_the_in_memory_table(rating_files):
    source = str(rating_files / "ratings.csv")
    expected = ratingdist("compare", source, *COLUMNS)
    assert expected.returncode == 0, expected.stderr
    threaded = ratingdist("compare", source, *COLUMNS, "--dask")
    assert threaded.returncode == 0, threaded.stderr
    assert threaded.stdout == expected.stdout
    assert "100% Completed" in threaded.stderr  # dask.diagnostics.ProgressBar
    cluster = ratingdist("compare", str(rating_files / "parts"), *COLUMNS, "--dask",
                         "--workers", "2", "--families", "gsd", "beta", "--bounds", "reference")
    assert cluster.returncode == 0, cluster.stderr
    small = ratingdist("compare", source, *COLUMNS, "--families", "gsd", "beta",
                       "--bounds", "reference")
    assert cluster.stdout.splitlines()[1:] == small.stdout.splitlines()[1:]
    assert cluster.stdout.split(":", 1)[1] == small.stdout.split(":", 1)[1]
    assert "100% Completed" in cluster.stderr  # distributed.progress


def test_cli_compare_dask_errors_are_one_line(rating_files, tmp_path):
    out = ratingdist("compare", str(rating_files / "ratings.csv"), "--workers", "2", *COLUMNS)
    assert out.returncode == 2
    assert "--workers needs --dask" in out.stderr
    doubled = pd.read_csv(rating_files / "ratings.csv").iloc[:10]
    doubled.to_parquet(tmp_path / "a.parquet", index=False)
    doubled.iloc[:1].to_parquet(tmp_path / "b.parquet", index=False)
    out = ratingdist("compare", str(tmp_path / "*.parquet"), *COLUMNS, "--dask")
    assert out.returncode == 2
    last = out.stderr.splitlines()[-1]  # after Dask's progress bar
    assert last.startswith("ratingdist compare: error: stimulus ")
    assert "subject 0: rated twice" in last
    quiet = ratingdist("compare", str(tmp_path / "a.parquet"), *COLUMNS, "--dask",
                       "--families", "normal", "--no-progress")
    assert quiet.returncode == 0
    assert quiet.stderr == ""
    out = ratingdist("compare", str(tmp_path / "none-*.csv"), "--dask")
    assert out.returncode == 2
    assert "no such file, directory or matching files" in out.stderr


def test_cli_compare_dask_without_dask_says_what_to_install(rating_files):
    code = ("import sys; sys.modules['dask'] = None; from ratingdist.cli import main; "
            f"sys.exit(main(['compare', {str(rating_files / 'ratings.csv')!r}, '--dask']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1
    assert out.stderr.startswith("ratingdist compare: error: --dask needs Dask")
    assert "install ratingdist[dask]" in out.stderr


def test_counts_from_ratings_checks_the_subject_column():
    long = pd.DataFrame({"stimulus": list("abab"), "subject": ["s", "s", "t", "s"],
                         "rating": [1, 2, 3, 4]})
    with dask.config.set(scheduler="sync"):
        one = rdd.counts_from_ratings(dd.from_pandas(long, npartitions=1), subject="subject")
        with pytest.raises(ValueError, match=r"^partition 0: stimulus 'b', subject 's': rated "
                           r"twice \(rows 1 and 3"):
            one.compute()
        two = rdd.counts_from_ratings(dd.from_pandas(long, npartitions=2, sort=False),
                                      subject="subject")
        with pytest.raises(ValueError, match=r"^stimulus 'b', subject 's': rated twice \(in "
                           r"columns 'stimulus' and 'subject', in two partitions\)"):
            two.compute()
        fine = rdd.counts_from_ratings(dd.from_pandas(long.iloc[:3], npartitions=2,
                                                      sort=False), subject="subject")
        got = by_id(fine.compute())
    assert got.to_numpy().tolist() == [["a", 1, 0, 1, 0, 0], ["b", 0, 1, 0, 0, 0]]
