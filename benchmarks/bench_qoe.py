"""Benchmark: bootstrap confidence intervals of QoE figures for all KonIQ-10k stimuli.

Run by hand (not part of the tests):

    RATINGDIST_DATA_DIR=../shared/data python benchmarks/bench_qoe.py [--n-boot 1000]
        [--family logit-logistic] [--stimuli N]

Prints wall-clock seconds, and in brackets the CPU seconds of all threads (telling on a shared
machine), warm: the Numba kernels compiled and cached by a small run first:

1. the multinomial bootstrap of MOS, SOS, %GoB and %PoW on the same replicates (resampling and
   figures; BCa and percentile intervals);
2. the parametric bootstrap of a family's latent 10 % quantile, which refits the family to
   every replicate, with the share of that time spent in ``rd.fit``; and, as a by-product, how
   many images 90 % of the crowd rate fair or better (latent 10 % quantile ≥ 2.5) by the point
   estimate and by the lower end of its 95 % BCa interval.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numba
import numpy as np

import ratingdist as rd
from ratingdist import qoe

FIGURES = {"mos": qoe.mos, "sos": qoe.sos, "gob": qoe.gob, "pow": qoe.pow}


def q10(result):
    return qoe.quantile(result, 0.1)


def seconds(call) -> tuple[float, object]:
    start = time.perf_counter()
    out = call()
    return time.perf_counter() - start, out


def timed(call) -> tuple[str, object]:
    """'wall s (CPU s)' of a call, and its result."""
    cpu = time.process_time()
    wall, out = seconds(call)
    return f"{wall:6.2f} s ({time.process_time() - cpu:.2f} s CPU)", out


def fit_share(result, n_boot: int, chunk_size: int = 500_000) -> float:
    """Seconds that rd.fit takes for all replicates, timed on one chunk and scaled."""
    per_chunk = max(1, chunk_size // n_boot)
    rows = np.arange(min(per_chunk, len(result)))
    sample = np.random.default_rng(0).multinomial(
        result.counts.n_ratings[rows].repeat(n_boot), result.probs[rows].repeat(n_boot, axis=0)
    )
    spent, _ = seconds(lambda: rd.fit(sample, result.family))
    return spent * len(result) / len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--family", default="logit-logistic")
    parser.add_argument("--stimuli", type=int, default=None, help="first N stimuli only")
    args = parser.parse_args()

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}, Python {platform.python_version()}, "
          f"numba threads {numba.get_num_threads()}")
    counts = rd.datasets.load("koniq10k")
    if args.stimuli:
        counts = counts[: args.stimuli]
    n, R = len(counts), args.n_boot
    print(f"KonIQ-10k: {n} stimuli, {R} replicates each ({n * R:,} resampled panels)")

    qoe.bootstrap_ci(counts[:20], FIGURES, n_boot=20)  # compile / load the kernels
    for interval in ("bca", "percentile"):
        spent, _ = timed(lambda i=interval: qoe.bootstrap_ci(counts, FIGURES, R, interval=i))
        print(f"  MOS, SOS, %GoB, %PoW, multinomial bootstrap, {interval:10s}: {spent}")

    fitted = rd.fit(counts, args.family)
    qoe.bootstrap_ci(rd.fit(counts[:20], args.family), q10, 20, method="parametric")
    spent, table = timed(lambda: qoe.bootstrap_ci(fitted, q10, R, method="parametric"))
    refit = fit_share(fitted, R)
    print(f"  {args.family} latent Q10, parametric bootstrap with refits, bca: {spent}; "
          f"rd.fit about {refit:.1f} s wall of it")
    print(f"  images with latent Q10 >= 2.5: {int((table['estimate'] >= 2.5).sum())} by the "
          f"estimate, {int((table['lower'] >= 2.5).sum())} by the lower end of the 95 % interval")


if __name__ == "__main__":
    main()
