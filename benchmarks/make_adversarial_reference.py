"""Rebuild tests/data/adversarial_reference.csv.gz: reference NLLs of the adversarial subset.

For the stimuli of ``tests.adversarial.make_catalog(N, seed=2026)`` (N = 2,000 by default),
every family of ``tests.reference.FAMILIES`` and both bounds modes, the reference NLL is the
minimum of

* the NLL of the independent scipy multi-start fitter ``tests.reference.mle_multistart``, and
* the saturated NLL ``-sum c log(c / N)`` where the empirical pmf is in the closure of the family
  (or box): counts on one category or on two adjacent categories, for every family in the natural
  mode and for normal, logistic, maxent and GSD in the reference box (a, b <= 20 and s <= 20 keep
  beta, Kumaraswamy and logit-logistic away from point masses).

Run: ``PYTHONPATH=. python benchmarks/make_adversarial_reference.py [--n 2000] [--starts 16]
[--jobs 2]``.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from tests.adversarial import make_catalog
from tests.reference import FAMILIES, mle_multistart

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "adversarial_reference.csv.gz"
BOX_REACHES_POINT_MASS = ("normal", "logistic", "maxent", "gsd")


def saturated_nll(counts: np.ndarray) -> float:
    """``-sum_k c_k log(c_k / N)`` with ``0 log 0 = 0``."""
    c = counts[counts > 0].astype(float)
    return float(-(c * np.log(c / c.sum())).sum())


def saturated_in_closure(counts: np.ndarray, family: str, bounds: str) -> bool:
    """Whether the empirical pmf is a limit of the family: one or two adjacent categories."""
    support = np.flatnonzero(counts)
    degenerate = support.size == 1 or (support.size == 2 and support[1] == support[0] + 1)
    return degenerate and (bounds == "natural" or family in BOX_REACHES_POINT_MASS)


def reference_nll(task: tuple[np.ndarray, str, str, int]) -> float:
    counts, family, bounds, n_starts = task
    _, nll = mle_multistart(family, counts, K=counts.size, n_starts=n_starts, seed=0,
                            bounds=None if bounds == "natural" else "reference")
    if saturated_in_closure(counts, family, bounds):
        nll = min(nll, saturated_nll(counts))
    return float(nll)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--starts", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    counts, labels = make_catalog(args.n, seed=2026)
    rows, tasks = [], []
    for family in FAMILIES:
        for bounds in ("natural", "reference"):
            for i in range(len(counts)):
                rows.append((i, labels[i], family, bounds))
                tasks.append((counts[i], family, bounds, args.starts))
    with ProcessPoolExecutor(args.jobs) as pool:
        nll = list(pool.map(reference_nll, tasks, chunksize=64))
    table = pd.DataFrame(rows, columns=["row", "class", "family", "bounds"])
    table[[f"c{k + 1}" for k in range(counts.shape[1])]] = counts[table["row"].to_numpy()]
    table["ref_nll"] = nll
    OUT.parent.mkdir(parents=True, exist_ok=True)
    table.drop(columns="row").to_csv(OUT, index=False, float_format="%.17g")


if __name__ == "__main__":
    main()
