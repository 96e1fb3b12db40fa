"""Benchmark: predicting held-out ratings with thresholds learned from the train ratings.

Run by hand (not part of the tests):

    RATINGDIST_DATA_DIR=../shared/data python benchmarks/bench_learned_prediction.py
        [--repeats 10]

The held-out-ratings experiment (``rd.evaluation.predictive_experiment``, seed 0) on VQEG-HDTV
(train sizes 5, 10, 20) and KonIQ-10k (10, 20, 40) with ``learned_thresholds=True``: for the
latents of ``--families`` (default normal, logistic, logit-logistic), the floored
maximum-likelihood predictor (ε = 10⁻³) at the reference thresholds (k + ½; k/K for
logit-logistic) against the same predictor with thresholds learned (jointly over all stimuli,
from the train ratings only). Prints per train size the mean test NLL per rating of
both and the paired difference Δ = learned − reference ± its standard error (negative: the
learned thresholds predict better), and the time of the run.
"""

from __future__ import annotations

import argparse
import time

import ratingdist as rd

SIZES = {"vqeg-hdtv": [5, 10, 20], "koniq10k": [10, 20, 40]}


def run(name: str, repeats: int, families: list[str]) -> None:
    counts = rd.datasets.load(name)
    start = time.perf_counter()
    ex = rd.evaluation.predictive_experiment(
        counts, families, SIZES[name], repeats=repeats, seed=0,
        methods=["prob_floor"], learned_thresholds=True,
    )
    took = time.perf_counter() - start
    summary = ex.summary.set_index(["train_size", "predictor"])
    print(f"{name}: {len(counts)} stimuli, {repeats} splits per train size ({took:.1f} s)")
    print("| train | latent | k + ½ | learned | Δ learned − k + ½ |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for fam in families:
        pair = ex.paired(f"{fam}/learned-prob_floor", f"{fam}/prob_floor")
        for _, row in pair.iterrows():
            size = row["train_size"]
            ref = summary.loc[(size, f"{fam}/prob_floor")]
            new = summary.loc[(size, f"{fam}/learned-prob_floor")]
            print(
                f"| {size} | {fam} | {ref['mean_nll']:.4f} ± {ref['se']:.4f} | "
                f"{new['mean_nll']:.4f} ± {new['se']:.4f} | "
                f"{row['delta']:+.5f} ± {row['se']:.5f} |"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--families", nargs="+", default=["normal", "logistic", "logit-logistic"])
    args = ap.parse_args()
    for name in SIZES:
        run(name, args.repeats, args.families)


if __name__ == "__main__":
    main()
