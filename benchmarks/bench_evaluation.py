"""Benchmark: the held-out-ratings experiment on all of KonIQ-10k.

Run by hand (not part of the tests):

    RATINGDIST_DATA_DIR=../shared/data python benchmarks/bench_evaluation.py
        [--train-sizes 5 10 20 40] [--repeats 10]

Prints wall-clock seconds (and in brackets the CPU seconds of all threads), warm: the Numba
kernels compiled and the posterior grids tabulated by a small run first.

1. the whole experiment: every family × every method (mle, prob_floor, pseudo_counts,
   posterior) and the baselines, for the train sizes × repeats;
2. its parts on one split per train size: the split itself against a per-stimulus loop of
   numpy's ``Generator.multivariate_hypergeometric`` (the baseline, measured in the same run),
   and the posterior predictive of one family against the independent scipy quadrature of
   ``tests/reference_posterior.py`` on a few stimuli.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numba
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ratingdist as rd  # noqa: E402
from tests import reference_posterior as ref  # noqa: E402  (independent scipy quadrature)

REFERENCE_STIMULI = 5


def timed(call):
    start, cpu = time.perf_counter(), sum(os.times()[:2])
    out = call()
    return time.perf_counter() - start, sum(os.times()[:2]) - cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-sizes", type=int, nargs="+", default=[5, 10, 20, 40])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    counts = rd.datasets.load("koniq10k")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}, Python {platform.python_version()}, "
        f"numba threads {numba.get_num_threads()}"
    )
    # warm-up: compile, tabulate the posterior grids
    rd.evaluation.predictive_experiment(counts[:200], train_sizes=[5], repeats=1)

    wall, cpu, ex = timed(
        lambda: rd.evaluation.predictive_experiment(
            counts, train_sizes=args.train_sizes, repeats=args.repeats, seed=0
        )
    )
    n_pred = len(ex.predictors)
    print(
        f"KonIQ-10k: {len(counts)} stimuli, train sizes {args.train_sizes} x {args.repeats} "
        f"repeats x {n_pred} predictors (7 families x 4 methods + 3 baselines)"
    )
    print(f"  whole experiment, warm: {wall:7.2f} s ({cpu:.2f} s CPU)")

    rng = np.random.default_rng(0)
    print("  one split of every stimulus (ratingdist kernel vs numpy loop):")
    for size in args.train_sizes:
        w_ours, _, _ = timed(lambda s=size: rd.evaluation.split_counts(counts, s, seed=1))
        w_np, _, _ = timed(
            lambda s=size: [rng.multivariate_hypergeometric(row, s) for row in counts.counts]
        )
        print(f"    train size {size:3d}: {w_ours * 1e3:8.2f} ms vs {w_np * 1e3:8.1f} ms "
              f"({w_np / w_ours:6.0f}x)")
    print("  posterior predictive, logit-logistic, all stimuli of one split:")
    for size in args.train_sizes:
        train, _ = rd.evaluation.split_counts(counts, size, seed=1)
        w_ours, c_ours, _ = timed(
            lambda t=train: rd.evaluation.posterior_predictive(t, "logit-logistic")
        )
        subset = train[:REFERENCE_STIMULI]
        w_ref, _, _ = timed(
            lambda s=subset: [ref.posterior_predictive_reference(row, "logit-logistic")
                              for row in s]
        )
        per_ours = w_ours / len(train) * 1e6
        per_ref = w_ref / len(subset) * 1e6
        print(f"    train size {size:3d}: {w_ours:6.3f} s ({c_ours:.2f} s CPU), "
              f"{per_ours:7.1f} µs/stim; scipy reference {per_ref / 1e6:7.2f} s/stim "
              f"({per_ref / per_ours:8.0f}x)")


if __name__ == "__main__":
    main()
