"""Benchmark: adaptive quantized metric models (``rd.fit_adaptive``).

Run by hand (not part of the tests):

    RATINGDIST_DATA_DIR=../shared/data python benchmarks/bench_adaptive.py [--stimuli N]
        [--coverage 200] [--skip-koniq]

Prints wall-clock seconds, and in brackets the CPU seconds of all threads (telling on a shared
machine), warm (the Numba kernels compiled and cached by a small run first):

1. KonIQ-10k (10,073 stimuli, one group), thresholds="shared", normal and logistic, without and
   with a lapse: time, NLL and AIC against the reference thresholds k + ½ (``.fixed()``), the
   learned thresholds with their standard errors, max |gradient|;
2. a synthetic two-group study of ``--stimuli`` stimuli (default 10^5; 25 ratings per group and
   stimulus, per-group thresholds and lapses): time and recovery of the thresholds;
3. coverage of the 95 % threshold intervals over ``--coverage`` simulated studies (60 stimuli,
   two groups, 40 ratings per cell, per-group thresholds and lapses).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numba
import numpy as np
from scipy import stats

import ratingdist as rd

K = 5
TRUE_TAU = np.array([[1.5, 2.4, 3.6, 4.5], [1.1, 2.3, 3.8, 4.8]])
TRUE_LAPSE = np.array([0.03, 0.08])


def timed(call) -> tuple[str, object]:
    """'wall s (CPU s)' of a call, and its result."""
    cpu = time.process_time()
    start = time.perf_counter()
    out = call()
    return f"{time.perf_counter() - start:7.2f} s ({time.process_time() - cpu:.2f} s CPU)", out


def simulate(seed: int, n: int, ratings: int) -> np.ndarray:
    """(2, n, K) counts from the normal model with TRUE_TAU and TRUE_LAPSE, every stimulus
    rated by both groups."""
    rng = np.random.default_rng(seed)
    mu = rng.uniform(1.3, 4.7, n)
    sigma = rng.uniform(0.4, 1.2, n)
    out = np.empty((2, n, K), np.int64)
    for g in range(2):
        cdf = stats.norm.cdf((TRUE_TAU[g][None, :] - mu[:, None]) / sigma[:, None])
        q = np.diff(np.column_stack([np.zeros(n), cdf, np.ones(n)]), axis=1)
        p = (1 - TRUE_LAPSE[g]) * q + TRUE_LAPSE[g] / K
        out[g] = rng.multinomial(ratings, p)
    return out


def koniq() -> None:
    counts = rd.datasets.load("koniq10k")
    print(f"KonIQ-10k: {len(counts)} stimuli, {int(counts.n_ratings.sum())} ratings")
    for family in ("normal", "logistic"):
        for lapse in (None, "shared"):
            took, res = timed(lambda f=family, la=lapse: rd.fit_adaptive(counts, f, lapse=la))
            fixed = res.fixed()
            tau = ", ".join(
                f"{v:.4f} ± {s:.4f}" if s > 0 else f"{v:.1f}"
                for v, s in zip(res.thresholds["value"], res.thresholds["se"])
            )
            lam = ""
            if lapse is not None:
                row = res.lapse.iloc[0]
                lam = f"  lapse {row['value']:.5f} ± {row['se']:.5f}"
            test = res.lr_test(fixed)
            print(
                f"  {family:8s} lapse={lapse!s:6s} {took}  NLL {res.nll:.1f}  "
                f"ΔNLL vs k+½ {res.nll - fixed.nll:+.1f}  ΔAIC {res.aic - fixed.aic:+.1f}  "
                f"LR {test['statistic']:.1f} (df {int(test['df'])})  converged {res.converged}  "
                f"max|grad| {res.grad_max:.2g}"
            )
            print(f"      thresholds {tau}{lam}")


def large(n: int) -> None:
    counts = simulate(0, n, 25)
    took, res = timed(
        lambda: rd.fit_adaptive(counts, thresholds="per-group", lapse="per-group")
    )
    th = res.thresholds
    free = ~th["pinned"].to_numpy()
    z = (th["value"].to_numpy() - TRUE_TAU.ravel())[free] / th["se"].to_numpy()[free]
    print(
        f"two groups × {n} stimuli, per-group thresholds and lapses: {took}  converged "
        f"{res.converged}  max|grad| {res.grad_max:.2g}  outer iterations "
        f"{res._fit['outer_iterations']}"
    )
    print(f"  (estimate − truth)/se of the free thresholds: {np.round(z, 2).tolist()}")
    print(f"  lapses {res.lapse['value'].round(5).tolist()} (truth {TRUE_LAPSE.tolist()})")


def coverage(studies: int) -> None:
    hits = []
    start = time.perf_counter()
    for seed in range(studies):
        res = rd.fit_adaptive(simulate(1000 + seed, 60, 40), thresholds="per-group",
                              lapse="per-group")
        th = res.thresholds
        free = ~th["pinned"].to_numpy()
        truth = TRUE_TAU.ravel()[free]
        hits.extend((th["ci_low"].to_numpy()[free] <= truth)
                    & (truth <= th["ci_high"].to_numpy()[free]))
    share = float(np.mean(hits))
    half = 1.96 * np.sqrt(share * (1 - share) / len(hits))
    print(
        f"coverage of the 95 % threshold intervals over {studies} studies ({len(hits)} "
        f"intervals): {share:.3f} ± {half:.3f}  ({time.perf_counter() - start:.1f} s)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stimuli", type=int, default=100_000)
    ap.add_argument("--coverage", type=int, default=200)
    ap.add_argument("--skip-koniq", action="store_true")
    args = ap.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{numba.get_num_threads()} Numba threads"
    )
    rd.fit_adaptive(simulate(0, 50, 10), thresholds="per-group", lapse="per-group")  # compile
    if not args.skip_koniq:
        koniq()
    large(args.stimuli)
    coverage(args.coverage)


if __name__ == "__main__":
    main()
