"""Benchmark: fit every family to KonIQ-10k, VQEG-HDTV and 1,000,000 synthetic stimuli.

Run by hand (not part of the tests):

    RATINGDIST_DATA_DIR=../shared/data python benchmarks/bench_fit.py [--full-check]

Prints one table: seconds and µs per stimulus per family (cold = first call in a fresh process
with an empty Numba cache, i.e. including JIT compilation; warm = repeated call), the
per-stimulus scipy.optimize multi-start baseline on a fixed random subset measured in the same
run with the ratio to it, peak memory of the 1,000,000-stimulus run, and the worst NLL
difference to the baseline (``--full-check``: on all KonIQ-10k stimuli, which takes a while).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numba
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ratingdist as rd  # noqa: E402
from tests import reference as ref  # noqa: E402  (independent scipy implementation)

BASELINE_SUBSET = 40
SYNTHETIC = 1_000_000

_CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
import numpy as np
import ratingdist as rd
mode = sys.argv[1]
if mode == "synthetic":
    rng = np.random.default_rng(0)
    n = int(sys.argv[2])
    psi = rng.uniform(1.3, 4.7, n)
    var = rd.scale.var_from_rho(psi, rng.uniform(0.3, 0.95, n))
    probs = rd.family("maxent").pmf_from_moments(psi, var)
    probs /= probs.sum(axis=1, keepdims=True)
    counts = rng.multinomial(rng.integers(20, 120, n), probs)
    rd.fit_all(counts[:100])
    t0 = time.perf_counter()
    rd.fit_all(counts)
    dt = time.perf_counter() - t0
else:
    counts = rd.datasets.load(mode)
    rd.fit_all(counts)
    dt = time.perf_counter() - t0
    t1 = time.perf_counter()
    rd.fit_all(counts)
    dt = [dt, time.perf_counter() - t1]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": dt, "peak_mb": peak}))
"""


def child(args: list[str], cache_dir: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, *args], env=env, capture_output=True, text=True
    )
    if out.returncode:
        raise RuntimeError(f"benchmark child {args} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def per_family_warm(counts, repeats: int = 3) -> dict[str, float]:
    rd.fit_all(counts)
    out = {}
    for name in rd.FAMILIES:
        best = np.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            rd.fit(counts, name)
            best = min(best, time.perf_counter() - t0)
        out[name] = best
    return out


def reference_nll(name: str, counts: np.ndarray) -> np.ndarray:
    """NLL of the scipy multi-start reference fit for each row."""
    return np.array([ref.mle_multistart(name, c, K=5, seed=0)[1] for c in counts])


def baseline(counts, rows, workers: int = 1) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds per stimulus of the scipy multi-start fit, and worst NLL(ours) − NLL(scipy).

    With ``workers`` > 1 the reference fits run in that many processes (the timing is then
    wall time per stimulus over all workers).
    """
    seconds, worst = {}, {}
    for name in rd.FAMILIES:
        ours = rd.fit(counts[rows], name).nll
        t0 = time.perf_counter()
        if workers > 1:
            chunks = np.array_split(counts[rows], 8 * workers)
            with ProcessPoolExecutor(workers) as pool:
                theirs = np.concatenate(list(pool.map(reference_nll, [name] * len(chunks), chunks)))
        else:
            theirs = reference_nll(name, counts[rows])
        seconds[name] = (time.perf_counter() - t0) / len(rows)
        worst[name] = float(np.max(ours - theirs))
    return seconds, worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full-check", action="store_true", help="check all KonIQ-10k stimuli")
    parser.add_argument("--synthetic", type=int, default=SYNTHETIC)
    args = parser.parse_args()

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, numba threads {numba.get_num_threads()}")
    koniq = rd.datasets.load("koniq10k")
    vqeg = rd.datasets.load("vqeg-hdtv")
    with tempfile.TemporaryDirectory() as cache:
        cold_koniq = child(["koniq10k"], cache)  # empty cache: JIT compilation included
        warm_cache = child(["koniq10k"], cache)  # on-disk cache filled by the first run
    with tempfile.TemporaryDirectory() as cache:
        child(["vqeg-hdtv"], cache)
        vq = child(["vqeg-hdtv"], cache)
        synth = child(["synthetic", str(args.synthetic)], cache)

    rows = np.random.default_rng(7).choice(len(koniq), BASELINE_SUBSET, replace=False)
    base_seconds, worst = baseline(koniq.counts, rows)
    if args.full_check:
        _, worst = baseline(koniq.counts, np.arange(len(koniq)), workers=os.cpu_count() or 1)
    warm = per_family_warm(koniq)

    n = len(koniq)
    print(f"\nKonIQ-10k ({n} stimuli), per family, warm:")
    print(f"{'family':15s} {'s':>8s} {'µs/stim':>9s} {'scipy µs/stim':>14s} {'speed-up':>9s} "
          f"{'worst ΔNLL':>11s}")
    for name in rd.FAMILIES:
        us = warm[name] / n * 1e6
        b = base_seconds[name] * 1e6
        print(f"{name:15s} {warm[name]:8.3f} {us:9.2f} {b:14.0f} {b / us:9.0f} "
              f"{worst[name]:11.2e}")
    print(f"{'all 7':15s} {sum(warm.values()):8.3f}")
    print("\nfit_all, seconds (fresh process):")
    print(f"  KonIQ-10k cold, empty JIT cache : {cold_koniq['seconds'][0]:.2f} "
          "(import + compile + fit)")
    print(f"  KonIQ-10k cold, warm JIT cache  : {warm_cache['seconds'][0]:.2f} (import + fit)")
    print(f"  KonIQ-10k warm                  : {warm_cache['seconds'][1]:.3f}")
    print(f"  VQEG-HDTV warm ({len(vqeg)} stimuli) : {vq['seconds'][1]:.3f}")
    print(f"  {args.synthetic:,} synthetic stimuli, 7 families: {synth['seconds']:.1f} s, "
          f"peak memory {synth['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
