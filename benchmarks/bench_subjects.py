"""Speed of ``rd.subjects`` against Netflix sureal on the NFLX public dataset, in one run.

Times each analysis of ``ratingdist.subjects`` on the parsed ratings, and, where sureal is
installed (a test-only dependency), sureal's matching model on the same data handed over in
memory (``tests/sureal_reference.py``; only its ``run_modeling`` is timed), and prints the
ratio (best of ``--repeat`` calls each). The P.910 Annex E model is the
headline: ``rd.subjects.p910`` should be at least 10× faster than sureal's ``P910``.

Run: ``RATINGDIST_DATA_DIR=... python benchmarks/bench_subjects.py [--repeat 20]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path

import ratingdist as rd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

ANALYSES: dict[str, Callable[[rd.Ratings], object]] = {
    "mos": rd.subjects.mos,
    "bt500": rd.subjects.bt500,
    "p913": rd.subjects.p913,
    "p910": rd.subjects.p910,
    # the same, with the result's DataFrames built (they are built on first access)
    "p910+tables": lambda r: (lambda a: (a.stimuli, a.subjects, a.summary))(rd.subjects.p910(r)),
    "mle_co": lambda r: rd.subjects.mle(r, content_ambiguity=False),
    "mle": rd.subjects.mle,
}


def best_time(call: Callable[[], object], repeat: int) -> float:
    """Least wall time of ``repeat`` calls, in seconds (after one warm-up call)."""
    call()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed calls per analysis")
    parser.add_argument("--dataset", default="nflx-public", choices=["nflx-public", "vqeg-hd3"])
    args = parser.parse_args(argv)
    ratings = rd.datasets.load(args.dataset)
    have_sureal = importlib.util.find_spec("sureal") is not None
    if have_sureal:
        import sureal_reference
    print(f"{args.dataset}: {ratings}")
    print(f"{'analysis':12s} {'ratingdist ms':>14s} {'sureal ms':>10s} {'ratio':>7s}")
    for name, analysis in ANALYSES.items():
        # the slow full models get fewer repeats
        repeat = max(1, args.repeat // 10) if name.startswith("mle") else args.repeat
        ours = best_time(lambda a=analysis: a(ratings), repeat)
        line = f"{name:12s} {1e3 * ours:14.3f}"
        if have_sureal:
            # the data are handed over before the timing
            model = sureal_reference.model(ratings, name.split("+")[0])
            theirs = best_time(lambda m=model: sureal_reference.run(m), repeat)
            line += f" {1e3 * theirs:10.3f} {theirs / ours:7.1f}"
        print(line)


if __name__ == "__main__":
    main()
