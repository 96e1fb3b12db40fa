"""Benchmark: adaptive quantized metric models (``rd.fit_adaptive``).

Run by hand (not part of the tests):

    RATINGDIST_DATA_DIR=../shared/data python benchmarks/bench_adaptive.py [--stimuli N]
        [--lapse-stimuli N] [--coverage 200] [--skip-koniq] [--ordered-model N]
        [--bootstrap-coverage STUDIES] [--n-boot B] [--only-bootstrap]

Prints wall-clock seconds, and in brackets the CPU seconds of all threads (telling on a shared
machine), warm (the Numba kernels compiled and cached by a small run first):

1. KonIQ-10k (10,073 stimuli, one group), thresholds="shared", normal and logistic, without and
   with a lapse: time, NLL and AIC against the reference thresholds k + ½ (``.fixed()``), the
   learned thresholds with their standard errors, max |gradient|;
2. a synthetic two-group study drawn with per-group thresholds and lapses (25 ratings per group
   and stimulus): ``--stimuli`` stimuli (default 10^5) fitted without a lapse (per-group
   thresholds), ``--lapse-stimuli`` (default 2·10^4) with per-group lapses: time and recovery
   of the thresholds;
3. coverage of the 95 % threshold and lapse intervals over ``--coverage`` simulated studies
   (60 stimuli, two groups, 40 ratings per cell, per-group thresholds and lapses), and the
   mean standardized error of the lapses; with ``--bootstrap-coverage`` the same for the
   parametric-bootstrap basic intervals (``res.bootstrap(B)``, default B = 200) over that many
   studies (``--only-bootstrap``: this part alone);
4. the homoscedastic special case (``scale="common"``, ``thresholds="shared"``, no lapse)
   against statsmodels' ``OrderedModel`` (probit and logit) on ``--ordered-model`` VQEG-HDTV
   videos (default 100; 0 skips it): NLL of both, time of both and their ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numba
import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.miscmodels.ordinal_model import OrderedModel

import ratingdist as rd

K = 5
TRUE_TAU = np.array([[1.5, 2.4, 3.6, 4.5], [1.1, 2.3, 3.8, 4.8]])
TRUE_LAPSE = np.array([0.03, 0.08])


def timed(call) -> tuple[str, object]:
    """'wall s (CPU s)' of a call, and its result."""
    wall, cpu, out = timed_cpu(call)
    return f"{wall:7.2f} s ({cpu:.2f} s CPU)", out


def timed_cpu(call) -> tuple[float, float, object]:
    """Wall and CPU seconds (all threads) of a call, and its result."""
    cpu = time.process_time()
    start = time.perf_counter()
    out = call()
    return time.perf_counter() - start, time.process_time() - cpu, out


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


def large(n: int, lapse: str | None) -> None:
    counts = simulate(0, n, 25)
    took, res = timed(lambda: rd.fit_adaptive(counts, thresholds="per-group", lapse=lapse))
    th = res.thresholds
    free = ~th["pinned"].to_numpy()
    z = (th["value"].to_numpy() - TRUE_TAU.ravel())[free] / th["se"].to_numpy()[free]
    print(
        f"two groups × {n} stimuli, per-group thresholds, lapse={lapse}: {took}  converged "
        f"{res.converged}  max|grad| {res.grad_max:.2g}  NLL {res.nll:.1f}"
    )
    print(f"  (estimate − truth)/se of the free thresholds: {np.round(z, 2).tolist()}")
    if lapse is not None:
        print(f"  lapses {res.lapse['value'].round(5).tolist()} (truth {TRUE_LAPSE.tolist()})")


def _hits(thresholds: pd.DataFrame, lapse: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Whether each free threshold's and each lapse's interval holds the truth."""
    free = ~thresholds["pinned"].to_numpy()
    truth = TRUE_TAU.ravel()[free]
    th = ((thresholds["ci_low"].to_numpy()[free] <= truth)
          & (truth <= thresholds["ci_high"].to_numpy()[free]))
    lam = (lapse["ci_low"].to_numpy() <= TRUE_LAPSE) & (TRUE_LAPSE <= lapse["ci_high"].to_numpy())
    return th, lam


def coverage(studies: int) -> None:
    hits = []
    lapse_hits = []
    lapse_z = []
    start = time.perf_counter()
    for seed in range(studies):
        res = rd.fit_adaptive(simulate(1000 + seed, 60, 40), thresholds="per-group",
                              lapse="per-group")
        th_hits, lam_hits = _hits(res.thresholds, res.lapse)
        hits.extend(th_hits)
        lapse_hits.extend(lam_hits)
        lam = res.lapse
        lapse_z.extend((lam["value"].to_numpy() - TRUE_LAPSE) / lam["se"].to_numpy())
    for name, h in (("threshold", hits), ("lapse", lapse_hits)):
        share = float(np.mean(h))
        half = 1.96 * np.sqrt(share * (1 - share) / len(h))
        print(
            f"coverage of the 95 % {name} intervals over {studies} studies ({len(h)} "
            f"intervals): {share:.3f} ± {half:.3f}"
        )
    z = np.asarray(lapse_z)
    print(f"lapses: mean (estimate − truth)/se {z.mean():+.3f}, sd {z.std(ddof=1):.3f}  "
          f"({time.perf_counter() - start:.1f} s)")


def bootstrap_coverage(studies: int, n_boot: int) -> None:
    """Coverage of the basic bootstrap intervals of the thresholds and lapses (the design of
    :func:`coverage`)."""
    hits, lapse_hits, width, wald_width = [], [], [], []
    start = time.perf_counter()
    for seed in range(studies):
        res = rd.fit_adaptive(simulate(1000 + seed, 60, 40), thresholds="per-group",
                              lapse="per-group")
        boot = res.bootstrap(n_boot, seed=seed)
        th_hits, lam_hits = _hits(boot.thresholds, boot.lapse)
        hits.extend(th_hits)
        lapse_hits.extend(lam_hits)
        lam = boot.lapse
        width.extend(lam["ci_high"] - lam["ci_low"])
        wald_width.extend(res.lapse["ci_high"] - res.lapse["ci_low"])
    for name, h in (("threshold", hits), ("lapse", lapse_hits)):
        share = float(np.mean(h))
        half = 1.96 * np.sqrt(share * (1 - share) / len(h))
        print(
            f"coverage of the 95 % basic bootstrap {name} intervals (B = {n_boot}) over "
            f"{studies} studies ({len(h)} intervals): {share:.3f} ± {half:.3f}"
        )
    print(f"lapse intervals: mean width {np.mean(width):.4f} (Wald {np.mean(wald_width):.4f})  "
          f"({time.perf_counter() - start:.1f} s)")


def ordered_model(n: int) -> None:
    """``fit_adaptive(counts, family, scale="common")`` against statsmodels' ``OrderedModel``.

    The model is the ordered probit / logit with one latent location per stimulus and one
    scale: P(rating = k) = F((τ_k − μ_j)/σ) − F((τ_{k−1} − μ_j)/σ). ``OrderedModel`` fits
    y* = x'β + ε, ε ~ F with scale 1 and thresholds c_1, c_1 + exp(δ_2), ...: on long-format
    ratings (one row per rating) with the dummies of all stimuli but the first as exog (no
    constant: the first stimulus is the origin) it is the same model, c_k = (τ_k − μ_1)/σ and
    β_j = (μ_j − μ_1)/σ, so the two maximum log-likelihoods agree. ``OrderedModel`` uses
    numerical derivatives (BFGS here). Videos whose ratings all lie in category 1 or all in K are
    left out: their μ_j is at ∓∞, where β_j diverges. The n videos are spread evenly over the
    remaining ones in id order. Times of ``fit_adaptive``: median of 9 runs (the ratio's base) and
    the best of them (fits this small take milliseconds, and the spread on a loaded machine is
    large).
    """
    counts = rd.datasets.load("vqeg-hdtv")
    c = np.asarray(counts.counts)
    k = counts.K
    finite = (c[:, 0] < c.sum(1)) & (c[:, -1] < c.sum(1))
    rows = np.flatnonzero(finite)[np.linspace(0, finite.sum() - 1, n).round().astype(int)]
    sub, cells = counts[rows], c[rows]
    stimulus = np.repeat(np.repeat(np.arange(n), k), cells.ravel())
    ratings = np.tile(np.arange(1, k + 1), n).repeat(cells.ravel())
    endog = pd.Series(pd.Categorical(ratings, categories=range(1, k + 1), ordered=True))
    exog = (stimulus[:, None] == np.arange(1, n)[None, :]).astype(np.float64)
    print(f"OrderedModel: {n} VQEG-HDTV videos, {len(ratings)} ratings, {n - 1 + k - 1} parameters")
    for distr, family in (("probit", "normal"), ("logit", "logistic")):
        rd.fit_adaptive(sub[:10], family, scale="common")  # warm: kernels loaded
        runs = [timed_cpu(lambda f=family: rd.fit_adaptive(sub, f, scale="common"))
                for _ in range(9)]
        rd_wall, rd_cpu = np.median([r[:2] for r in runs], axis=0)
        rd_best = min(r[0] for r in runs)
        res = runs[0][2]
        model = OrderedModel(endog, exog, distr=distr)
        om_wall, om_cpu, om = timed_cpu(
            lambda m=model: m.fit(method="bfgs", maxiter=5000, gtol=1e-8, disp=False))
        print(
            f"  {distr:6s} fit_adaptive NLL {res.nll:.8f} {rd_wall:.3f} s ({rd_cpu:.3f} s CPU, "
            f"median of 9; best {rd_best:.3f} s), "
            f"converged {res.converged}  OrderedModel NLL {-om.llf:.8f} {om_wall:.2f} s "
            f"({om_cpu:.2f} s CPU), converged {om.mle_retvals['converged']}  "
            f"difference {-om.llf - res.nll:+.1e}  speed ratio {om_wall / rd_wall:.0f}× wall, "
            f"{om_cpu / rd_cpu:.0f}× CPU"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stimuli", type=int, default=100_000)
    ap.add_argument("--lapse-stimuli", type=int, default=20_000)
    ap.add_argument("--coverage", type=int, default=200)
    ap.add_argument("--skip-koniq", action="store_true")
    ap.add_argument("--bootstrap-coverage", type=int, default=0, metavar="STUDIES")
    ap.add_argument("--n-boot", type=int, default=200)
    ap.add_argument("--only-bootstrap", action="store_true")
    ap.add_argument("--ordered-model", type=int, default=100, metavar="N",
                    help="videos of the OrderedModel comparison (0: skip)")
    args = ap.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{numba.get_num_threads()} Numba threads"
    )
    rd.fit_adaptive(simulate(0, 50, 10), thresholds="per-group", lapse="per-group")  # compile
    if args.only_bootstrap:
        bootstrap_coverage(args.bootstrap_coverage, args.n_boot)
        return
    if not args.skip_koniq:
        koniq()
    large(args.stimuli, None)
    large(args.lapse_stimuli, "per-group")
    coverage(args.coverage)
    if args.bootstrap_coverage:
        bootstrap_coverage(args.bootstrap_coverage, args.n_boot)
    if args.ordered_model:
        ordered_model(args.ordered_model)


if __name__ == "__main__":
    main()
