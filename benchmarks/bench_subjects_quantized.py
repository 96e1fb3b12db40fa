"""Quantized subject model: cross-validated prediction of hidden ratings, and fit speed.

    RATINGDIST_DATA_DIR=... python benchmarks/bench_subjects_quantized.py cv [folds]
    python benchmarks/bench_subjects_quantized.py speed N_STIMULI N_SUBJECTS FRACTION
    python benchmarks/bench_subjects_quantized.py coverage [STUDIES]

``cv``: mean NLL per hidden rating ± SE (10 folds, seed 0) on NFLX public and VQEG-HD3 for the
per-stimulus add-½ and logit-logistic models, the Gaussian P.910 and Li-Bampis models scored on
the rating intervals, and the quantized subject model (normal and logistic latents, shared
lapse, shrinkage κ = 5). ``speed``: a synthetic study with a random fraction of the cells
rated; prints the fit time (wall clock and CPU), the objective and the peak resident memory
(including the study's construction). ``coverage``: share of the 95 %
intervals of the subject bias and inconsistency that hold the truth over synthetic complete
studies (40 stimuli × 8 subjects, no ambiguity, κ = 0).
"""

import resource
import sys
import time

import numpy as np
import pandas as pd

import ratingdist as rd

MODELS = [
    "add-alpha", "logit-logistic", "p910", "mle",
    ("quantized normal, lapse, κ=5", {"shrinkage": 5.0, "lapse": "shared"}),
    ("quantized logistic, lapse, κ=5", {"shrinkage": 5.0, "lapse": "shared",
                                        "family": "logistic"}),
    ("quantized normal, no ambiguity, lapse", {"ambiguity": False, "shrinkage": 5.0,
                                               "lapse": "shared"}),
]


def cv(folds: int) -> None:
    for name in ("nflx-public", "vqeg-hd3"):
        t = time.perf_counter()
        table = rd.subjects.crossvalidate(rd.datasets.load(name), MODELS, folds=folds, seed=0)
        print(f"## {name} ({folds} folds, seed 0, {time.perf_counter() - t:.0f} s)")
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4f}"), flush=True)


def speed(J: int, I: int, fraction: float) -> None:
    rng = np.random.default_rng(0)
    n = int(J * I * fraction)
    cells = np.unique(rng.integers(0, J * I, size=int(n * 1.06)))[:n]
    j, i = cells // I, cells % I
    psi = rng.uniform(1.5, 4.5, J)
    sig = np.exp(rng.normal(np.log(0.3), 0.3, J))
    dlt = rng.normal(0, 0.3, I)
    ups = np.exp(rng.normal(np.log(0.5), 0.3, I))
    u = psi[j] + dlt[i] + np.hypot(sig[j], ups[i]) * rng.standard_normal(j.size)
    r = np.clip(np.round(u), 1, 5).astype(np.int64)
    ratings = rd.Ratings.from_long(pd.DataFrame({"stimulus": j, "subject": i, "rating": r}))
    t, c = time.perf_counter(), time.process_time()
    res = rd.subjects.fit(ratings)  # the defaults: shared lapse, κ = 5
    dt, dc = time.perf_counter() - t, time.process_time() - c
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"{J} stimuli x {I} subjects, {j.size} ratings: fit {dt:.1f} s (CPU {dc:.1f} s), "
          f"objective {res.objective:.6f}, sweeps {res.n_sweeps}, "
          f"converged {res.converged}, max|grad| {res.max_grad:.2e}, peak RSS {peak:.2f} GiB")


def coverage(studies: int) -> None:
    hits_b = hits_u = total = 0
    for seed in range(studies):
        rng = np.random.default_rng(1000 + seed)
        J, I = 40, 8
        psi = rng.uniform(1.5, 4.5, J)
        dlt = rng.normal(0, 0.3, I)
        dlt -= dlt.mean()
        ups = np.exp(rng.normal(np.log(0.5), 0.2, I))
        j, i = np.divmod(np.arange(J * I), I)
        u = psi[j] + dlt[i] + ups[i] * rng.standard_normal(j.size)
        r = np.clip(np.floor(u + 0.5), 1, 5).astype(np.int64)
        res = rd.subjects.fit(rd.Ratings.from_long(pd.DataFrame(
            {"stimulus": j, "subject": i, "rating": r})), ambiguity=False, shrinkage=0.0,
            lapse=None)
        s = res.subjects
        hits_b += int(np.sum((s["bias_ci_low"] <= dlt) & (dlt <= s["bias_ci_high"])))
        hits_u += int(np.sum((s["inconsistency_ci_low"] <= ups)
                             & (ups <= s["inconsistency_ci_high"])))
        total += I
    print(f"{studies} studies, {total} subjects: bias coverage {hits_b / total:.3f}, "
          f"inconsistency coverage {hits_u / total:.3f}")


if __name__ == "__main__":
    if sys.argv[1] == "coverage":
        coverage(int(sys.argv[2]) if len(sys.argv) > 2 else 200)
    elif sys.argv[1] == "cv":
        cv(int(sys.argv[2]) if len(sys.argv) > 2 else 10)
    else:
        speed(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
