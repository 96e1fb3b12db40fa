"""Benchmark of ratingdist.dask: long-format ratings on Parquet → counts → all seven families.

Synthetic ratings (each stimulus a discretized normal with a random mean and spread) are
written to Parquet in chunks (never all in memory), then counted by
``ratingdist.dask.counts_from_ratings``, fitted with every family and compared
(``ratingdist.dask.compare``) on a LocalCluster. Reports wall time per stage, the peak memory
of each worker (``ru_maxrss``, read on the workers) and, when the ratings fit in memory
(``--in-memory-limit``), the time of the in-memory path (pandas → RatingCounts.from_ratings →
rd.fit_all → rd.compare) and the ratio of the two.

Full run (10⁸ ratings of 10⁶ stimuli, a few GB of disk)::

    python benchmarks/bench_dask.py --n-stimuli 1000000 --ratings-per-stimulus 100 --workers 2

Quick check::

    python benchmarks/bench_dask.py --n-stimuli 10000 --ratings-per-stimulus 100
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
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


def run_dask(folder: Path, workers: int, split_out: int) -> dict[str, object]:
    import dask.dataframe as dd
    from distributed import Client, wait

    figures: dict[str, object] = {}
    with rdd.local_cluster(n_workers=workers, threads_per_worker=1) as cluster, \
            Client(cluster) as client:
        client.run(lambda: rd.fit([[0, 1, 2, 1, 0]], "gsd"))  # load the cached kernels
        t0 = time.perf_counter()
        ratings = dd.read_parquet(folder)
        counts = rdd.counts_from_ratings(ratings, K=K, split_out=split_out).persist()
        wait(counts)
        t1 = time.perf_counter()
        table = rdd.compare(rdd.fit_all(counts))
        t2 = time.perf_counter()
        figures.update(counts_s=t1 - t0, fit_compare_s=t2 - t1, total_s=t2 - t0,
                       peak_mib=peak_memory_mib(client), table=table)
    return figures


def run_in_memory(folder: Path) -> tuple[float, pd.DataFrame]:
    t0 = time.perf_counter()
    long = pd.read_parquet(folder)
    counts = rd.RatingCounts.from_ratings(long, K=K)
    table = rd.compare(rd.fit_all(counts))
    return time.perf_counter() - t0, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-stimuli", type=int, default=1_000_000)
    parser.add_argument("--ratings-per-stimulus", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-stimuli", type=int, default=50_000,
                        help="stimuli per Parquet file (one Dask partition each)")
    parser.add_argument("--split-out", type=int, default=None,
                        help="count partitions (default: 4 per worker)")
    parser.add_argument("--in-memory-limit", type=float, default=3e7,
                        help="run the in-memory path too if there are at most this many ratings")
    parser.add_argument("--folder", type=Path, default=None, help="keep the Parquet files here")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        n = write_ratings(folder, args.n_stimuli, args.ratings_per_stimulus, args.chunk_stimuli,
                          args.seed)
        print(f"wrote {n:,} ratings of {args.n_stimuli:,} stimuli to Parquet in "
              f"{time.perf_counter() - t0:.1f} s")
        figures = run_dask(folder, args.workers, args.split_out or 4 * args.workers)
        print(f"dask, {args.workers} workers × 1 thread: counts {figures['counts_s']:.1f} s, "
              f"7 families fit + compare {figures['fit_compare_s']:.1f} s, "
              f"total {figures['total_s']:.1f} s")
        for worker, mib in figures["peak_mib"].items():
            print(f"  peak memory {worker}: {mib:.0f} MiB")
        print(figures["table"][["family", "n", "aic", "mean_g"]].to_string(index=False))
        if n <= args.in_memory_limit:
            seconds, table = run_in_memory(folder)
            same = np.array_equal(table["n"], figures["table"]["n"])
            print(f"in memory: {seconds:.1f} s; dask/in-memory time ratio "
                  f"{figures['total_s'] / seconds:.2f}; same n per family: {same}; max relative "
                  "AIC difference "
                  f"{np.max(np.abs(table['aic'] / figures['table']['aic'] - 1)):.1e}")


if __name__ == "__main__":
    main()
