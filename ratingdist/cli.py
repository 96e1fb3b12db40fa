"""The ``ratingdist`` command: fit, compare, query and plot rating distributions from the shell.

    ratingdist compare koniq10k
    ratingdist fit vqeg-hdtv --families gsd normal --output fits.xlsx
    ratingdist qoe koniq10k --family logit-logistic --quantile 0.1 0.9 --gob --stimuli 100117038.jpg
    ratingdist evaluate vqeg-hdtv --train-sizes 5 10 20 --repeats 10 -o summary.csv
    ratingdist plot gtest-cdf koniq10k -o gtest_cdf.png
    ratingdist plot model-difference normal maxent --metric aitchison -o difference.png

A SOURCE is a dataset name (``koniq10k``, ``vqeg-hdtv``) or a count table: a .csv, .parquet or
.xlsx file with one row per stimulus, an id column and count columns c1..cK (or n1..nK).
Tables are written as .csv, .parquet (needs pyarrow) or .xlsx; figures in any format matplotlib
knows (.png, .pdf, .svg, ...). Exit status: 0 on success; 2 on a bad argument, file or stimulus
id, with one line ``ratingdist: error: ...`` on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from tqdm import tqdm

from . import datasets, evaluation, qoe
from .data import RatingCounts
from .families import FAMILIES, family
from .fitting import FitResult, compare, fit

if TYPE_CHECKING:
    from types import ModuleType

    from matplotlib.figure import Figure

#: Exit status for bad arguments and inputs (argparse's own errors use it too).
EXIT_USAGE = 2
TABLE_FORMATS = (".csv", ".parquet", ".xlsx")
#: Exceptions that mean bad input (the library raises ValueError with a message for users).
_INPUT_ERRORS = (ValueError, OSError, RuntimeError, ImportError)
_QUANTIZED = tuple(name for name in FAMILIES if family(name).is_latent)
_DEFAULT_QUANTILES = (0.1, 0.5, 0.9)
_READERS = {".parquet": pd.read_parquet, ".xlsx": pd.read_excel, ".xls": pd.read_excel}


# -- inputs and outputs ----------------------------------------------------------------------
def _load(source: str) -> RatingCounts:
    """A registered dataset name, or the path of a count table (.csv, .parquet, .xlsx)."""
    if source in datasets.available():
        return datasets.load(source)
    path = Path(source)
    if not path.is_file():
        raise ValueError(
            f"{source!r} is neither a dataset ({', '.join(datasets.available())}) nor a file"
        )
    reader = _READERS.get(path.suffix.lower(), pd.read_csv)
    try:
        table = reader(path)
    except Exception as err:  # readers of damaged files fail with many exception types
        raise ValueError(f"{source}: cannot read it ({type(err).__name__}: {err})") from None
    try:
        return RatingCounts.from_table(table)
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from None


def _select(counts: RatingCounts, stimuli: Sequence[str] | None) -> RatingCounts:
    """The stimuli with the given ids (compared as strings), in that order; all if None."""
    if not stimuli:
        return counts
    index = {str(s): i for i, s in enumerate(counts.ids)}
    for s in stimuli:
        if s not in index:
            examples = ", ".join(str(i) for i in counts.ids[:3])
            raise ValueError(f"unknown stimulus id {s!r} (ids look like {examples}, ...)")
    return counts[np.array([index[s] for s in stimuli], dtype=np.intp)]


def _check_suffix(path: str, allowed: Sequence[str], what: str) -> None:
    if Path(path).suffix.lower() not in allowed:
        raise ValueError(f"{what} must end in {', '.join(allowed)}: {path!r}")


def _write_table(table: pd.DataFrame, path: str) -> None:
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        table.to_csv(path, index=False)
    elif suffix == ".parquet":
        try:
            table.to_parquet(path, index=False)
        except ImportError:
            raise ImportError("writing .parquet needs pyarrow: pip install pyarrow") from None
    else:
        table.to_excel(path, index=False)
    print(f"wrote {len(table)} rows to {path}")


def _print_table(table: pd.DataFrame) -> None:
    with pd.option_context("display.width", 200, "display.max_columns", None):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4f}"))


def _fit_families(
    counts: RatingCounts, families: Sequence[str], bounds: str, progress: bool | None
) -> dict[str, FitResult]:
    """Fit every family, with a progress bar on stderr (by default only on a terminal)."""
    bar = tqdm(
        families, desc="fitting", unit="family", file=sys.stderr, leave=False,
        disable=None if progress is None else not progress,
    )
    results = {}
    for name in bar:
        bar.set_postfix_str(name)
        results[name] = fit(counts, name, bounds=bounds)
    return results


def _probability(text: str) -> float:
    """argparse type: a number in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1]: {text!r}")
    return value


def _open_level(text: str) -> float:
    """argparse type: a number in (0, 1)."""
    value = _probability(text)
    if value in (0.0, 1.0):
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1: {text!r}")
    return value


# -- compare and fit ---------------------------------------------------------------------------
def _header(args: argparse.Namespace, counts: RatingCounts) -> str:
    return (f"{args.source}: {len(counts)} stimuli, {counts.n_ratings.sum()} ratings, "
            f"bounds={args.bounds}")


def _run_compare(args: argparse.Namespace) -> int:
    if args.output:
        _check_suffix(args.output, TABLE_FORMATS, "--output")
    counts = _select(_load(args.source), args.stimuli)
    table = compare(_fit_families(counts, args.families, args.bounds, args.progress))
    if args.output:
        _write_table(table, args.output)
        return 0
    print(_header(args, counts))
    _print_table(table)
    return 0


def _run_fit(args: argparse.Namespace) -> int:
    _check_suffix(args.output, TABLE_FORMATS, "--output")
    counts = _select(_load(args.source), args.stimuli)
    results = _fit_families(counts, args.families, args.bounds, args.progress)
    _write_table(pd.concat([r.table for r in results.values()], ignore_index=True), args.output)
    return 0


# -- qoe -----------------------------------------------------------------------------------
def _qoe_table(res: FitResult, args: argparse.Namespace) -> pd.DataFrame:
    """One row per stimulus: id, ratings, sample MOS, then the fitted family's figures."""
    counts = res.counts
    table = pd.DataFrame({"id": counts.ids, "n": counts.n_ratings, "mos": qoe.mos(counts)})
    for a in args.quantile:
        table[f"quantile_{a:g}"] = qoe.quantile(res, a, kind=args.kind)
    for phi in args.level_reached_by:
        table[f"level_reached_by_{phi:g}"] = qoe.level_reached_by(res, phi, kind=args.kind)
    for u in args.share_reaching:
        table[f"share_reaching_{u:g}"] = qoe.share_reaching(res, u, kind=args.kind)
    if args.gob:
        table["gob"] = qoe.gob(res)
    if args.pow:
        table["pow"] = qoe.pow(res)
    return table


def _run_qoe(args: argparse.Namespace) -> int:
    if args.output:
        _check_suffix(args.output, TABLE_FORMATS, "--output")
    queries = (args.quantile, args.level_reached_by, args.share_reaching, args.gob, args.pow)
    if not any(queries):
        args.quantile, args.gob, args.pow = list(_DEFAULT_QUANTILES), True, True
    latent = args.quantile or args.level_reached_by or args.share_reaching
    if latent and args.kind != "category" and args.family not in _QUANTIZED:
        raise ValueError(
            f"the {args.family} family has no continuous latent quality, so its quantiles are "
            f"categories: add --kind category, or choose one of {', '.join(_QUANTIZED)}"
        )
    counts = _select(_load(args.source), args.stimuli)
    res = fit(counts, args.family, bounds=args.bounds)
    table = _qoe_table(res, args)
    if args.output:
        _write_table(table, args.output)
        return 0
    kind = "category" if args.kind == "category" or args.family not in _QUANTIZED else "latent"
    notes = [f"{args.family} fit", f"{kind} quantiles on the rating axis"]
    if args.gob:
        notes.append(f"gob = P(rating >= {counts.K - 1})")
    if args.pow:
        notes.append("pow = P(rating <= 2)")
    print(f"{_header(args, counts)}; " + ", ".join(notes))
    _print_table(table)
    return 0


# -- plot ----------------------------------------------------------------------------------
def _figure_results(args: argparse.Namespace) -> tuple[RatingCounts, dict[str, FitResult]]:
    counts = _select(_load(args.source), args.stimuli)
    return counts, _fit_families(counts, args.families, args.bounds, args.progress)


def _plot_gtest_cdf(args: argparse.Namespace, plots: ModuleType) -> Figure:
    counts, results = _figure_results(args)
    return plots.gtest_cdf(results, title=f"{args.source}: {len(counts)} stimuli")


def _plot_psi_v(args: argparse.Namespace, plots: ModuleType) -> Figure:
    return plots.psi_v_plane(_figure_results(args)[1], zoom=not args.full_region)


def _plot_observed_vs_fitted(args: argparse.Namespace, plots: ModuleType) -> Figure:
    return plots.observed_vs_fitted(_figure_results(args)[1], args.stimuli)


def _plot_pp(args: argparse.Namespace, plots: ModuleType) -> Figure:
    return plots.pp_plot(_figure_results(args)[1], alpha=args.alpha)


def _plot_latent_density(args: argparse.Namespace, plots: ModuleType) -> Figure:
    if args.family not in _QUANTIZED:
        raise ValueError(
            f"the {args.family} family has no continuous latent quality; choose one of "
            f"{', '.join(_QUANTIZED)}"
        )
    counts = _select(_load(args.source), args.stimuli)
    res = fit(counts, args.family, bounds=args.bounds)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.6 * len(args.stimuli)), layout="constrained")
    for ax, stimulus in zip(fig.subplots(len(args.stimuli), 1, squeeze=False)[:, 0],
                            args.stimuli):
        plots.latent_density(res, stimulus, args.quantiles, ax=ax)
    return fig


def _plot_model_difference(args: argparse.Namespace, plots: ModuleType) -> Figure:
    if len(args.families) < 2:
        raise ValueError("model-difference needs at least two families")
    options = {"metric": args.metric, "grid": (args.grid, args.grid // 2), "K": args.K}
    if len(args.families) == 2:
        return plots.model_difference_map(*args.families, **options)
    return plots.model_difference_matrix(args.families, **options)


def _run_plot(args: argparse.Namespace) -> int:
    from matplotlib.figure import Figure

    from . import plots

    formats = Figure().canvas.get_supported_filetypes()
    _check_suffix(args.output, [f".{f}" for f in formats], "--output")
    fig = args.draw(args, plots)
    fig.savefig(args.output, dpi=args.dpi)
    print(f"wrote {args.output}")
    return 0


# -- evaluate ------------------------------------------------------------------------------
def _run_evaluate(args: argparse.Namespace) -> int:
    for path in (args.output, args.per_stimulus):
        if path:
            _check_suffix(path, TABLE_FORMATS, "--output" if path == args.output else
                          "--per-stimulus")
    counts = _select(_load(args.source), args.stimuli)
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    ex = evaluation.predictive_experiment(
        counts, args.families, args.train_sizes, args.repeats, args.seed,
        methods=args.methods, progress=progress,
    )
    if args.per_stimulus:
        _write_table(ex.table, args.per_stimulus)
    if args.output:
        _write_table(ex.summary, args.output)
        return 0
    print(f"{args.source}: {len(counts)} stimuli; test NLL per rating, mean over stimuli of "
          f"{args.repeats} random splits per train size (seed {args.seed})")
    columns = ["train_size", "predictor", "mean_nll", "se", "share_infinite",
               "delta_add_half", "delta_add_best"]
    _print_table(ex.summary[columns])
    print("\nbest family predictor per train size:")
    _print_table(ex.best()[["train_size", "best_predictor", "best_nll", "add_half_nll",
                            "add_best_nll", "best_alpha", "beats_add_half", "beats_add_best"]])
    return 0


def _positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1: {text!r}")
    return value


def _add_evaluate(sub) -> None:
    source = argparse.ArgumentParser(add_help=False)
    source.add_argument("source", help="dataset name (koniq10k, vqeg-hdtv) or a count table "
                        "(.csv, .parquet, .xlsx with c1..cK or n1..nK columns)")
    source.add_argument("--stimuli", nargs="+", metavar="ID",
                        help="stimulus ids to use (default: all)")
    _families_option(source)
    cmd = sub.add_parser(
        "evaluate", parents=[source],
        help="predict held-out ratings: every family against smoothing baselines",
        description="Split every stimulus' ratings at random into train and test parts, "
        "predict the test ratings from the train ratings with every family (plain MLE, "
        "floored MLE, MLE with pseudo-counts, posterior predictive) and with the empirical, "
        "add-1/2 and best add-alpha baselines, and report the mean test NLL per rating.",
    )
    cmd.add_argument("--train-sizes", nargs="+", type=_positive_int, default=[5, 10, 20],
                     metavar="N", help="train ratings per stimulus (default 5 10 20)")
    cmd.add_argument("--repeats", type=_positive_int, default=10,
                     help="random splits per train size (default 10)")
    cmd.add_argument("--seed", type=int, default=0, help="seed of the splits (default 0)")
    cmd.add_argument("--methods", nargs="+", choices=evaluation.METHODS,
                     default=list(evaluation.METHODS), metavar="METHOD",
                     help=f"family predictors (default: all of {', '.join(evaluation.METHODS)})")
    cmd.add_argument("--output", "-o", help="write the summary (.csv, .parquet, .xlsx)")
    cmd.add_argument("--per-stimulus", metavar="FILE",
                     help="write the tidy per-stimulus table (.csv, .parquet, .xlsx)")
    cmd.set_defaults(run=_run_evaluate)


# -- parser --------------------------------------------------------------------------------
def _source_options(stimuli_required: bool = False) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("source", help="dataset name (koniq10k, vqeg-hdtv) or a count table "
                        "(.csv, .parquet, .xlsx with c1..cK or n1..nK columns)")
    parent.add_argument(
        "--bounds", choices=("natural", "reference"), default="natural",
        help="unbounded MLE (natural, default) or the reference study's box constraints",
    )
    parent.add_argument(
        "--stimuli", nargs="+", metavar="ID", required=stimuli_required,
        help="stimulus ids to use" + ("" if stimuli_required else " (default: all)"),
    )
    return parent


def _families_option(parent: argparse.ArgumentParser) -> None:
    parent.add_argument(
        "--families", nargs="+", choices=FAMILIES, default=list(FAMILIES), metavar="FAMILY",
        help=f"families to fit (default: all of {', '.join(FAMILIES)})",
    )
    parent.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None,
        help="a progress bar on stderr (default: only on a terminal)",
    )


def _add_compare_and_fit(sub) -> None:
    common = _source_options()
    _families_option(common)
    compare_cmd = sub.add_parser(
        "compare", parents=[common], help="fit the families and print the comparison table",
        description="Fit the families to every stimulus and compare them (AIC, BIC, mean G, "
        "share of p < 0.05, ...; best AIC first).",
    )
    compare_cmd.add_argument("--output", "-o", help="write the table (.csv, .parquet, .xlsx)")
    compare_cmd.set_defaults(run=_run_compare)
    fit_cmd = sub.add_parser(
        "fit", parents=[common], help="fit the families and write the per-stimulus table",
        description="Fit the families and write one row per stimulus and family: counts, "
        "parameters, mean, var, rho, fitted probabilities, nll, g, p_value, diagnostics.",
    )
    fit_cmd.add_argument("--output", "-o", required=True,
                         help="output file (.csv, .parquet or .xlsx)")
    fit_cmd.set_defaults(run=_run_fit)


def _add_qoe(sub) -> None:
    cmd = sub.add_parser(
        "qoe", parents=[_source_options()],
        help="QoE figures per stimulus: quantiles, %%GoB, %%PoW",
        description="Fit one family and report, per stimulus, quality quantiles on the rating "
        "axis, the level a share of users reaches, %GoB and %PoW. Without a query option: "
        "--quantile 0.1 0.5 0.9 --gob --pow.",
    )
    cmd.add_argument("--family", choices=FAMILIES, default="logit-logistic", metavar="FAMILY",
                     help=f"family to fit: one of {', '.join(FAMILIES)} (default: logit-logistic)")
    cmd.add_argument("--quantile", nargs="+", type=_probability, default=[], metavar="ALPHA",
                     help="α-quantiles F⁻¹(α) of the latent quality")
    cmd.add_argument("--level-reached-by", nargs="+", type=_probability, default=[],
                     metavar="SHARE", help="the level that this share of users reaches or "
                     "exceeds, F⁻¹(1 − share)")
    cmd.add_argument("--share-reaching", nargs="+", type=float, default=[], metavar="LEVEL",
                     help="the share of users whose quality reaches this level, P(X ≥ level)")
    cmd.add_argument("--gob", action="store_true", help="%%GoB = P(rating ≥ K − 1)")
    cmd.add_argument("--pow", action="store_true", help="%%PoW = P(rating ≤ 2)")
    cmd.add_argument(
        "--kind", choices=("latent", "category"), default=None,
        help="latent quantiles (quantized families, default) or whole categories (any family)",
    )
    cmd.add_argument("--output", "-o", help="write the table (.csv, .parquet, .xlsx)")
    cmd.set_defaults(run=_run_qoe)


_PLOTS: dict[str, tuple[Callable, str]] = {
    "gtest-cdf": (_plot_gtest_cdf, "cdfs of the G statistics against χ²(K − 3)"),
    "psi-v": (_plot_psi_v, "the stimuli in the (mean, variance) plane coloured by G"),
    "observed-vs-fitted": (_plot_observed_vs_fitted, "observed and fitted pmfs of stimuli"),
    "pp": (_plot_pp, "P–P plot of the G-test p-values (consistency check)"),
    "latent-density": (_plot_latent_density, "latent quality density with its quantiles"),
    "model-difference": (_plot_model_difference,
                         "L1 or Aitchison distance between families over the (mean, variance) "
                         "plane"),
}


def _add_plot(sub) -> None:
    figure = argparse.ArgumentParser(add_help=False)
    figure.add_argument("--output", "-o", required=True,
                        help="image file (.png, .pdf, .svg, ...)")
    figure.add_argument("--dpi", type=int, default=150, help="resolution (default 150)")
    cmd = sub.add_parser("plot", help="draw a figure", description="Draw a figure to a file.")
    kinds = cmd.add_subparsers(dest="kind", required=True, metavar="KIND")
    fitted = _source_options()
    _families_option(fitted)
    parents = {
        "gtest-cdf": [fitted], "psi-v": [fitted], "pp": [fitted],
        "observed-vs-fitted": [_source_options(stimuli_required=True)],
        "latent-density": [_source_options(stimuli_required=True)],
        "model-difference": [],
    }
    for kind, (draw, text) in _PLOTS.items():
        p = kinds.add_parser(kind, parents=[*parents[kind], figure], help=text,
                             description=text[0].upper() + text[1:] + ".")
        p.set_defaults(run=_run_plot, draw=draw)
        if kind == "observed-vs-fitted":
            _families_option(p)
        elif kind == "psi-v":
            p.add_argument("--full-region", action="store_true",
                           help="show the whole feasible region, not just the stimuli")
        elif kind == "pp":
            p.add_argument("--alpha", type=_open_level, default=0.2,
                           help="level α₀ of the consistency verdict (default 0.2)")
        elif kind == "latent-density":
            p.add_argument("--family", choices=FAMILIES, default="logit-logistic",
                           metavar="FAMILY", help=f"quantized family: one of "
                           f"{', '.join(_QUANTIZED)} (default: logit-logistic)")
            p.add_argument("--quantiles", nargs="+", type=_open_level,
                           default=list(_DEFAULT_QUANTILES), metavar="ALPHA",
                           help="quantile levels to mark (default 0.1 0.5 0.9)")
        elif kind == "model-difference":
            p.add_argument("families", nargs="+", choices=FAMILIES, metavar="FAMILY",
                           help="two families (one map) or more (a matrix of all pairs)")
            p.add_argument("--metric", choices=("l1", "aitchison"), default="l1",
                           help="L1 or Aitchison distance (default l1)")
            p.add_argument("--grid", type=int, default=200,
                           help="grid points along the mean (half as many for ρ; default 200)")
            p.add_argument("-K", type=int, default=5, help="number of categories (default 5)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ratingdist",
        description="Fit, compare, query and plot rating distributions of absolute-category-"
        "rating data. A SOURCE is a dataset (koniq10k, vqeg-hdtv) or a count table.",
        epilog="Exit status: 0 on success, 2 on a bad argument or input.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_compare_and_fit(sub)
    _add_qoe(sub)
    _add_evaluate(sub)
    _add_plot(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ratingdist`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:  # e.g. piped into head: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except _INPUT_ERRORS as err:
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"ratingdist: error: {message}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
