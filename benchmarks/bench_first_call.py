"""Benchmark: a new user's first calls, each in a fresh process.

Run by hand (not part of the tests):

    RATINGDIST_DATA_DIR=../shared/data python benchmarks/bench_first_call.py [--repeats 3]
        [--evaluation]

Measures the wall-clock seconds (and the CPU seconds of the process and its threads) of

1. ``python -m ratingdist --help`` and ``ratingdist compare --help`` (best of ``--repeats``);
2. ``python -m ratingdist compare koniq10k``, cold: an empty Numba cache (a new temporary
   ``NUMBA_CACHE_DIR``), so every kernel is compiled; then warm: the same cache again;
3. with ``--evaluation``, the first ``rd.evaluation.posterior_predictive`` of one family and
   the first ``rd.evaluation.predictive_experiment`` on 500 KonIQ-10k stimuli, cold (empty
   Numba cache and an empty user cache, so the posterior grids are tabulated) and warm.

and prints a table with the machine's cores and load average.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_POSTERIOR = (
    "import ratingdist as rd; "
    "rd.evaluation.posterior_predictive(rd.datasets.load('koniq10k')[:500], 'logit-logistic')"
)
_PREDICTIVE = (
    "import ratingdist as rd; "
    "rd.evaluation.predictive_experiment(rd.datasets.load('koniq10k')[:500], None, [6], 1)"
)


def run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one fresh process running ``python ARGS``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def environment(cache: str, user_cache: str | None = None) -> dict[str, str]:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache,
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    if user_cache is not None:
        env["XDG_CACHE_HOME"] = user_cache
    return env


def cold_and_warm(args: list[str], user_cache: bool = False) -> list[tuple[str, float, float]]:
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as home:
        env = environment(cache, home if user_cache else None)
        return [("cold", *run(args, env)), ("warm", *run(args, env))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each --help (best)")
    parser.add_argument("--evaluation", action="store_true",
                        help="also the first posterior_predictive and predictive_experiment")
    opts = parser.parse_args()
    rows: list[tuple[str, str, float, float]] = []
    with tempfile.TemporaryDirectory() as cache:
        for args in (["--help"], ["compare", "--help"]):
            best = min((run(["-m", "ratingdist", *args], environment(cache))
                        for _ in range(opts.repeats)), key=lambda t: t[0])
            rows.append((f"ratingdist {' '.join(args)}", "", *best))
    for state, wall, cpu in cold_and_warm(["-m", "ratingdist", "compare", "koniq10k"]):
        rows.append(("ratingdist compare koniq10k", state, wall, cpu))
    if opts.evaluation:
        for name, code in (("first posterior_predictive (500 stimuli)", _POSTERIOR),
                           ("first predictive_experiment (500 stimuli)", _PREDICTIVE)):
            for state, wall, cpu in cold_and_warm(["-c", code], user_cache=True):
                rows.append((name, state, wall, cpu))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {load} "
          f"(1, 5, 15 min), Python {platform.python_version()}")
    print(f"{'command':44s} {'cache':5s} {'wall s':>7s} {'CPU s':>7s}")
    for name, state, wall, cpu in rows:
        print(f"{name:44s} {state:5s} {wall:7.2f} {cpu:7.2f}")


if __name__ == "__main__":
    main()
