"""Benchmark of ratingdist.dask: long-format ratings on Parquet → counts → all seven families.

Synthetic ratings (each stimulus a discretized normal with a random mean and spread) are
written to Parquet in chunks (never all in memory), then counted by
``ratingdist.dask.counts_from_ratings``, fitted with every family and compared
(``ratingdist.dask.compare``) on a LocalCluster. Reports wall time per stage, the peak memory
of each worker and of the client process (``ru_maxrss``) and, on the largest leading set of
Parquet files with at most ``--in-memory-limit`` ratings, the times of the in-memory path
(pandas → RatingCounts.from_ratings → rd.fit_all → rd.compare, in a process of its own, with its
peak memory) and of the Dask path on the same files, their ratio and whether the two comparison
tables are equal (they are, bit for bit).

Full run (10⁸ ratings of 10⁶ stimuli, a few GB of disk)::

    python benchmarks/bench_dask.py --n-stimuli 1000000 --ratings-per-stimulus 100 --workers 2

Quick check::

    python benchmarks/bench_dask.py --n-stimuli 10000 --ratings-per-stimulus 100
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from scipy import stats

import ratingdist as rd
from ratingdist import dask as rdd

K = 5


def write_ratings(folder: Path, n_stimuli: int, per_stimulus: int, chunk: int, seed: int) -> int:
    """Write shuffled long-format ratings in files of ``chunk`` stimuli; return the count."""
    rng = np.random.default_rng(seed)
    edges = np.arange(1, K) + 0.5
    written = 0
    for number, start in enumerate(range(0, n_stimuli, chunk)):
        m = min(chunk, n_stimuli - start)
        mu = rng.uniform(1.5, 4.5, m)
        sigma = rng.uniform(0.4, 1.5, m)
        cdf = stats.norm.cdf((edges[None, :] - mu[:, None]) / sigma[:, None])
        probs = np.diff(np.column_stack([np.zeros(m), cdf, np.ones(m)]), axis=1)
        counts = rng.multinomial(per_stimulus, probs)
        ids = np.repeat(np.repeat(np.arange(start, start + m), K), counts.ravel())
        ratings = np.repeat(np.tile(np.arange(1, K + 1, dtype=np.int8), m), counts.ravel())
        order = rng.permutation(len(ids))
        pd.DataFrame({"stimulus": ids[order], "rating": ratings[order]}).to_parquet(
            folder / f"part-{number:05d}.parquet", index=False
        )
        written += len(ids)
    return written


def peak_memory_mib(client) -> dict[str, float]:
    """ru_maxrss of every worker process, in MiB (Linux reports KiB)."""
    rss = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return {worker: kib / 1024 for worker, kib in rss.items()}


def run_dask(files: list[Path], workers: int, split_out: int) -> dict[str, object]:
    """counts → fit_all → compare on a fresh LocalCluster; seconds per stage, peak memory."""
    import dask.dataframe as dd
    from distributed import Client, wait

    figures: dict[str, object] = {}
    with rdd.local_cluster(n_workers=workers, threads_per_worker=1) as cluster, \
            Client(cluster) as client:
        client.run(lambda: rd.fit([[0, 1, 2, 1, 0]], "gsd"))  # load the cached kernels
        t0 = time.perf_counter()
        ratings = dd.read_parquet([str(f) for f in files])
        counts = rdd.counts_from_ratings(ratings, K=K, split_out=split_out).persist()
        wait(counts)
        t1 = time.perf_counter()
        table = rdd.compare(rdd.fit_all(counts))
        t2 = time.perf_counter()
        figures.update(counts_s=t1 - t0, fit_compare_s=t2 - t1, total_s=t2 - t0,
                       peak_mib=peak_memory_mib(client), table=table)
    return figures


def _in_memory(files: list[Path]) -> tuple[float, pd.DataFrame, float]:
    t0 = time.perf_counter()
    long = pd.read_parquet(files)
    counts = rd.RatingCounts.from_ratings(long, K=K)
    del long
    table = rd.compare(rd.fit_all(counts))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return time.perf_counter() - t0, table, peak


def run_in_memory(files: list[Path]) -> tuple[float, pd.DataFrame, float]:
    """The in-memory path in a fresh process: seconds, comparison table, peak MiB."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pool.apply(rd.fit, ([[0, 1, 2, 1, 0]], "gsd"))  # load the cached kernels
        return pool.apply(_in_memory, (files,))


def report_dask(label: str, figures: dict[str, object], workers: int) -> None:
    print(f"dask on {label}, {workers} workers × 1 thread: counts {figures['counts_s']:.1f} s, "
          f"7 families fit + compare {figures['fit_compare_s']:.1f} s, "
          f"total {figures['total_s']:.1f} s")
    for worker, mib in figures["peak_mib"].items():
        print(f"  peak memory {worker}: {mib:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-stimuli", type=int, default=1_000_000)
    parser.add_argument("--ratings-per-stimulus", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-stimuli", type=int, default=50_000,
                        help="stimuli per Parquet file (one Dask partition each)")
    parser.add_argument("--split-out", type=int, default=None,
                        help="count partitions (default: 4 per worker)")
    parser.add_argument("--in-memory-limit", type=float, default=5e7,
                        help="compare with the in-memory path on the leading files holding at "
                        "most this many ratings")
    parser.add_argument("--folder", type=Path, default=None, help="keep the Parquet files here")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        n = write_ratings(folder, args.n_stimuli, args.ratings_per_stimulus, args.chunk_stimuli,
                          args.seed)
        files = sorted(folder.glob("part-*.parquet"))
        print(f"wrote {n:,} ratings of {args.n_stimuli:,} stimuli to Parquet "
              f"({len(files)} files) in {time.perf_counter() - t0:.1f} s")
        split_out = args.split_out or 4 * args.workers
        figures = run_dask(files, args.workers, split_out)
        report_dask(f"{n:,} ratings", figures, args.workers)
        client_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  peak memory of the client (and scheduler) process: {client_mib:.0f} MiB")
        print(figures["table"][["family", "n", "aic", "mean_g"]].to_string(index=False))
        rows = np.cumsum([pq.ParquetFile(f).metadata.num_rows for f in files])
        m = int(np.searchsorted(rows, args.in_memory_limit, side="right"))
        if m == 0:
            return
        subset = files[:m]
        small = int(rows[m - 1])
        if m < len(files):
            figures = run_dask(subset, args.workers, split_out)
            report_dask(f"the first {m} files ({small:,} ratings)", figures, args.workers)
        seconds, table, peak = run_in_memory(subset)
        same = table.equals(figures["table"])
        print(f"in memory on {small:,} ratings: {seconds:.1f} s, peak memory {peak:.0f} MiB; "
              f"dask/in-memory time ratio {figures['total_s'] / seconds:.2f}; comparison tables "
              f"equal bit for bit: {same}")

if __name__ == "__main__":
    main()
