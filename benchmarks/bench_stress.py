"""Stress benchmark: fit every family to a large adversarial catalog and report failures.

Per family and bounds mode: share of converged fits, NaN/inf counts in params, probs and nll, worst
|sum p - 1|, worst NLL excess over the independent multi-start fitter of ``tests/reference.py`` on
a random sample (``--check`` stimuli; the saturated NLL is used where it is a limit of the family,
as in ``benchmarks/make_adversarial_reference.py``), wall time, and peak memory as the growth of
the process' maximum resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``; 0 when the
peak was reached earlier). Prints a markdown table.

Run: ``PYTHONPATH=. python benchmarks/bench_stress.py --n 1000000 [--families normal,gsd]
[--bounds natural,reference] [--check 200]``.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

import ratingdist as rd
from benchmarks.make_adversarial_reference import reference_nll
from tests.adversarial import make_catalog


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def stress_row(counts: np.ndarray, family: str, bounds: str, check: np.ndarray) -> dict:
    rss0, t0 = _maxrss_mib(), time.perf_counter()
    try:
        res = rd.fit(counts, family, bounds=bounds)
    except (ValueError, FloatingPointError, ZeroDivisionError) as error:
        return {"family": family, "bounds": bounds, "converged": f"raised: {error}"}
    seconds = time.perf_counter() - t0
    rss = _maxrss_mib() - rss0
    nll = res.table["nll"].to_numpy(float)
    ref = np.array([reference_nll((counts[i], family, bounds, 16)) for i in check])
    total = counts[check].sum(axis=1).astype(float)
    return {
        "family": family,
        "bounds": bounds,
        "converged": float(res.converged.mean()),
        "nonfinite params": int((~np.isfinite(res.params)).sum()),
        "nonfinite probs": int((~np.isfinite(res.probs)).sum()),
        "nonfinite nll": int((~np.isfinite(nll)).sum()),
        "max |sum p - 1|": float(np.nanmax(np.abs(res.probs.sum(axis=1) - 1.0))),
        "max NLL excess": float(np.nanmax(nll[check] - ref)) if check.size else 0.0,
        "above ref + tol": int((~(nll[check] - ref <= 1e-6 + 1e-12 * total)).sum()),
        "time s": seconds,
        "maxrss growth MiB": rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--families", default=",".join(rd.FAMILIES))
    parser.add_argument("--bounds", default="natural,reference")
    parser.add_argument("--check", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    counts, _ = make_catalog(args.n, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    check = np.sort(rng.choice(len(counts), size=min(args.check, len(counts)), replace=False))
    rows = [
        stress_row(counts, family, bounds, check)
        for family in args.families.split(",")
        for bounds in args.bounds.split(",")
    ]
    print(f"{args.n} adversarial stimuli (tests.adversarial.make_catalog, seed {args.seed}), "
          f"NLL checked on {check.size}")
    header = max(rows, key=len)
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for row in rows:
        cells = [f"{v:.3g}" if isinstance(v, float) else str(v) for v in row.values()]
        cells += [""] * (len(header) - len(cells))
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
