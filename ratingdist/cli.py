"""The ``ratingdist`` command: fit, compare, query and plot rating distributions from the shell.

    ratingdist compare koniq10k
    ratingdist fit vqeg-hdtv --families gsd normal | head
    ratingdist compare ratings.csv --stimulus-col clip --rating-col mos_vote
    ratingdist compare 'ratings/*.parquet' --dask --workers 2
    ratingdist qoe koniq10k --family logit-logistic --quantile 0.1 0.9 --gob --stimuli 100117038.jpg
    ratingdist evaluate vqeg-hdtv --train-sizes 5 10 20 --repeats 10 -o summary.csv
    ratingdist plot gtest-cdf koniq10k -o gtest_cdf.png
    ratingdist plot model-difference normal maxent --metric aitchison -o difference.png
    ratingdist subjects nflx-public --model bt500
    ratingdist subjects lab.csv --model p910 -o lab     # lab_stimuli.csv, lab_subjects.csv

A SOURCE is a dataset name (``koniq10k``, ``vqeg-hdtv``) or a .csv, .parquet or .xlsx file
holding a count table (one row per stimulus, count columns c1..cK or n1..nK) or long-format
ratings (one row per rating; stimulus, rating and optional subject columns, detected by their
usual names or named with --stimulus-col, --rating-col, --subject-col). Tables are written as
.csv, .parquet (needs pyarrow) or .xlsx, or as CSV on stdout (``-o -``, the default of ``fit``);
figures in any format matplotlib knows (.png, .pdf, .svg, ...). ``subjects`` analyses the
ratings subject by subject and reads individual ratings: ``nflx-public``, ``vqeg-hd3``, a
long-format file with a subject column, a stimuli × subjects table (``--wide``) or a Netflix
sureal dataset file (.py, .json). Exit status: 0 on success; 2 on
a bad argument, file or stimulus id, with one line ``ratingdist SUB: error: ...`` on stderr.

The parser imports only the standard library: numpy, pandas, Numba and the fitting code are
imported by the subcommand that needs them, so that ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import glob
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from ._version import __version__

if TYPE_CHECKING:
    from types import ModuleType

    import pandas as pd
    from matplotlib.figure import Figure

    from .data import RatingCounts
    from .fitting import FitResult
    from .ratings import Ratings
    from .subjects import SubjectAnalysis

# The parser is built from the names below, not from the library, so that ``--help`` and
# argument errors need no numpy, pandas or Numba; tests/test_cli.py checks them against it.
_DATASETS = ("koniq10k", "vqeg-hdtv", "nflx-public", "vqeg-hd3")
_FAMILIES = ("normal", "logistic", "beta", "kumaraswamy", "logit-logistic", "maxent", "gsd")
_QUANTIZED = _FAMILIES[:5]
_METHODS = ("mle", "prob_floor", "pseudo_counts", "posterior")
#: Analyses of ``ratingdist subjects`` (``correlation`` is rd.subjects.correlation_screening).
_MODELS = ("mos", "bt500", "p913", "p910", "mle", "correlation", "quantized")
_SUREAL_SUFFIXES = (".py", ".json")

#: Exit status for bad arguments and inputs (argparse's own errors use it too).
EXIT_USAGE = 2
TABLE_FORMATS = (".csv", ".parquet", ".xlsx")
#: ``--output -``: the table as CSV on stdout.
STDOUT = "-"
#: Exceptions that mean bad input (the library raises ValueError with a message for users).
_INPUT_ERRORS = (ValueError, TypeError, KeyError, OSError, RuntimeError, ImportError)
_DEFAULT_QUANTILES = (0.1, 0.5, 0.9)
_COUNT_COLUMN = re.compile(r"[cn]\d+", re.IGNORECASE)
#: Column names recognised in long-format rating files (case-insensitive; ``_id`` may follow).
_LONG_COLUMNS = {
    "stimulus": ("stimulus", "image", "video", "item", "pvs", "id"),
    "rating": ("rating", "score", "vote", "opinion"),
    "subject": ("subject", "observer", "worker", "rater", "user"),
}
#: Further columns that ``subjects`` reads from long-format ratings when present.
_STUDY_COLUMNS = {
    "repetition": ("repetition", "rep", "repeat"),
    "content": ("content", "src"),
}


class _UsageError(ValueError):
    """A bad combination of arguments found after parsing: reported like argparse's errors."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``ratingdist SUB: error: ... (see ratingdist SUB --help)``."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, self.error_line(message) + "\n")

    def error_line(self, message: str) -> str:
        return f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)"


def _one_line(message: str) -> str:
    return " ".join(message.split())


# -- inputs and outputs ----------------------------------------------------------------------
def _load(args: argparse.Namespace) -> RatingCounts:
    """The SOURCE of the command: a dataset name, a count table or a long-format rating file.

    A dataset of individual ratings (``nflx-public``, ``vqeg-hd3``) is counted per stimulus.

    For a long-format file, ``args.layout`` says which columns were read.
    """
    from . import datasets

    args.layout = None
    source = args.source
    if source in datasets.available():
        from .ratings import Ratings

        data = datasets.load(source)
        return data.counts() if isinstance(data, Ratings) else data
    table = _read(_source_file(source, datasets.available()))
    try:
        return _counts_of(table, args)
    except _UsageError:
        raise
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from None


def _source_file(source: str, names: Sequence[str]) -> Path:
    """The file a SOURCE that is not a dataset names; an error suggesting the nearest name."""
    path = Path(source)
    if not path.is_file():
        if path.exists():
            raise ValueError(f"{source}: not a file")
        near = difflib.get_close_matches(source, names, n=1, cutoff=0.5)
        hint = f"; did you mean {near[0]}?" if near else ""
        raise ValueError(f"{source!r} is neither a dataset ({', '.join(names)}) nor a file{hint}")
    return path


def _read(path: Path) -> pd.DataFrame:
    """A table file; CSV text is read as written (ids such as ``007`` stay strings unless the
    whole column holds plain numbers)."""
    import pandas as pd

    from .csvtext import read_csv_as_written

    # CSV text as written (ids such as 007 stay strings); typed formats through pandas
    readers = {".parquet": pd.read_parquet, ".xlsx": pd.read_excel, ".xls": pd.read_excel}
    reader = readers.get(path.suffix.lower(), read_csv_as_written)
    try:
        table = reader(path)
    except Exception as err:  # readers of damaged files fail with many exception types
        raise ValueError(f"{path}: cannot read it ({type(err).__name__}: {err})") from None
    if table.empty:
        raise ValueError(f"{path}: no stimuli (the table has no rows)")
    return table


def _counts_of(table: pd.DataFrame, args: argparse.Namespace) -> RatingCounts:
    """A count table (c1..cK or n1..nK columns) or long-format ratings, counted."""
    from .data import RatingCounts

    named = {role: getattr(args, f"{role}_col") for role in _LONG_COLUMNS}
    has_counts = any(isinstance(c, str) and _COUNT_COLUMN.fullmatch(c) for c in table.columns)
    if has_counts and not any(named.values()):
        counts = RatingCounts.from_table(table)
        if args.K is not None and counts.K != args.K:
            raise _UsageError(f"the count table has {counts.K} categories, not -K {args.K}")
        return counts
    columns = {role: named[role] or _detect_column(table, role) for role in _LONG_COLUMNS}
    if columns["rating"] is None:
        raise ValueError(
            f"no count columns c1..cK or n1..nK and no rating column "
            f"({', '.join(_LONG_COLUMNS['rating'])}) among the columns {list(table.columns)}; "
            "name the columns of long-format ratings with --rating-col and --stimulus-col"
        )
    if columns["stimulus"] is None:
        raise ValueError(
            f"long-format ratings need a stimulus column "
            f"({', '.join(_LONG_COLUMNS['stimulus'])}) besides {columns['rating']!r} among the "
            f"columns {list(table.columns)}; name it with --stimulus-col"
        )
    args.layout = "long format: " + ", ".join(
        f"{role} {name!r}" for role, name in columns.items() if name is not None
    )
    return RatingCounts.from_ratings(
        table, stimulus=columns["stimulus"], rating=columns["rating"],
        subject=columns["subject"], K=5 if args.K is None else args.K,
    )


def _detect_column(table: pd.DataFrame, role: str) -> str | None:
    """The single column named like a ``role`` column of long-format ratings, or None."""
    names = {**_LONG_COLUMNS, **_STUDY_COLUMNS}[role]
    found = [c for c in table.columns if isinstance(c, str) and _column_key(c) in names]
    if len(found) > 1:
        raise ValueError(
            f"columns {' and '.join(map(repr, found))} could both be the {role} column; "
            f"choose with --{role}-col"
        )
    return found[0] if found else None


def _column_key(name: str) -> str:
    """``"Stimulus_ID"`` -> ``"stimulus"``, ``"id"`` -> ``"id"``: the name to look up."""
    key = name.strip().lower()
    return re.sub(r"[_ ]?id$", "", key) or key


def _select(counts: RatingCounts, stimuli: Sequence[str] | None) -> RatingCounts:
    """The stimuli with the given ids (compared as strings), in that order; all if None."""
    if not stimuli:
        return counts
    import numpy as np

    index = {str(s): i for i, s in enumerate(counts.ids)}
    for s in stimuli:
        if s not in index:
            examples = ", ".join(str(i) for i in counts.ids[:3])
            raise ValueError(f"unknown stimulus id {s!r} (ids look like {examples}, ...)")
    return counts[np.array([index[s] for s in stimuli], dtype=np.intp)]


def _check_suffix(path: str | None, allowed: Sequence[str], what: str) -> None:
    if path is None or (path == STDOUT and ".csv" in allowed):
        return
    if Path(path).suffix.lower() not in allowed:
        raise _UsageError(f"{what} must end in {', '.join(allowed)}: {path!r}")


def _write_table(table: pd.DataFrame, path: str) -> None:
    """Write a table to ``path`` (.csv, .parquet, .xlsx), or as CSV to stdout for ``-``."""
    if path == STDOUT:
        table.to_csv(sys.stdout, index=False)
        return
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
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", None):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4f}"))


def _fit_families(
    counts: RatingCounts, families: Sequence[str], bounds: str, progress: bool | None
) -> dict[str, FitResult]:
    """Fit every family, with a progress bar on stderr (by default only on a terminal)."""
    from .fitting import fit_all

    helper = _prepare_kernels(families)
    try:
        return fit_all(counts, families, bounds=bounds, progress=progress)
    finally:
        if helper is not None:  # done, or redundant once the fits have compiled everything
            helper.kill()
            helper.wait()


def _prepare_kernels(families: Sequence[str]) -> subprocess.Popen | None:
    """Before a first fit whose kernels are not yet in Numba's on-disk cache: one line on
    stderr, only on a terminal (piped or redirected output stays clean); and, with two or more
    cores and kernels to compile that do not come with those of the first family
    (``fitting.compile_group``: a second process compiling the GSD's kernels would compile the
    whole solver again, which this one has by then), a ``ratingdist.precompile`` process that
    compiles them into the cache meanwhile. Returns that process."""
    from .fitting import compile_group, kernels_compiled

    pending = [name for name in families if not kernels_compiled([name])]
    if not pending:
        return None
    if sys.stderr.isatty():
        print("ratingdist: compiling kernels on first use (once, 10-30 s)...", file=sys.stderr,
              flush=True)
    later = [name for name in pending if compile_group(name) != compile_group(pending[0])]
    if not later or (os.cpu_count() or 1) < 2:
        return None
    root = str(Path(__file__).resolve().parents[1])  # this package, however it was found
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    return subprocess.Popen(
        [sys.executable, "-m", "ratingdist.precompile", *later], stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": path},
    )


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
    """The first line of a printed table; names the columns read from a long-format file."""
    return _header_line(args, len(counts), counts.n_ratings.sum())


def _header_line(args: argparse.Namespace, n_stimuli: int, n_ratings: int) -> str:
    layout = f" ({args.layout})" if args.layout else ""
    return f"{args.source}{layout}: {n_stimuli} stimuli, {n_ratings} ratings, bounds={args.bounds}"


def _run_compare(args: argparse.Namespace) -> int:
    from .fitting import compare

    _check_suffix(args.output, TABLE_FORMATS, "--output")
    if args.dask:
        return _run_compare_dask(args)
    if args.workers is not None:
        raise _UsageError("--workers needs --dask")
    counts = _select(_load(args), args.stimuli)
    table = compare(_fit_families(counts, args.families, args.bounds, args.progress))
    if args.output:
        _write_table(table, args.output)
        return 0
    print(_header(args, counts))
    _print_table(table)
    return 0


# -- compare on Dask ------------------------------------------------------------------------
def _import_dask() -> ModuleType:
    """ratingdist.dask, or a one-line ImportError naming the extra to install."""
    try:
        from . import dask as rdd
    except ImportError as err:
        raise ImportError(
            f"--dask needs Dask ({err}); install ratingdist[dask]"
        ) from None
    return rdd


def _read_dask(source: str):
    """Long-format ratings of a Parquet directory, a Parquet/CSV file or a glob of them."""
    import dask.dataframe as dd

    path = Path(source)
    if path.is_dir() or path.suffix.lower() == ".parquet":
        reader = dd.read_parquet
    elif path.suffix.lower() == ".csv":
        reader = dd.read_csv
    else:
        raise ValueError(
            f"{source}: --dask reads a Parquet directory, or .parquet or .csv files (a glob "
            "such as 'ratings/*.csv' in quotes)"
        )
    if not path.exists() and not glob.glob(source):
        raise ValueError(f"{source}: no such file, directory or matching files")
    try:
        return reader(source)
    except Exception as err:  # readers of damaged files fail with many exception types
        raise ValueError(f"{source}: cannot read it ({type(err).__name__}: {err})") from None


@contextlib.contextmanager
def _dask_scheduler(
    workers: int | None, show_progress: bool
) -> Iterator[tuple[Callable, Callable]]:
    """``(persist, compute)`` on the threaded scheduler (``workers`` None) or on a LocalCluster
    of ``workers`` processes, each showing Dask's own progress bar on stderr (if
    ``show_progress``)."""
    if workers is None:
        import dask
        from dask.diagnostics import ProgressBar

        def bar() -> contextlib.AbstractContextManager:
            return ProgressBar(out=sys.stderr) if show_progress else contextlib.nullcontext()

        def persist(obj):
            with bar():
                return obj.persist()

        def compute(*objs):
            with bar():
                return dask.compute(*objs)

        with dask.config.set(scheduler="threads"):
            yield persist, compute
        return
    from distributed import Client, progress

    from .dask import local_cluster

    with local_cluster(n_workers=workers) as cluster, Client(cluster) as client:
        def show(futures) -> None:
            if not show_progress:
                return
            with contextlib.redirect_stdout(sys.stderr):
                progress(futures)
            print(file=sys.stderr)

        def persist(obj):
            obj = client.persist(obj)
            show(obj)
            return obj

        def compute(*objs):
            futures = [client.compute(obj) for obj in objs]
            show([f for fs in futures for f in (fs if isinstance(fs, list) else [fs])])
            return tuple(client.gather(futures))

        yield persist, compute


def _run_compare_dask(args: argparse.Namespace) -> int:
    rdd = _import_dask()
    if args.stimuli:
        raise _UsageError("--stimuli cannot be combined with --dask")
    ratings = _read_dask(args.source)
    columns = {role: getattr(args, f"{role}_col") or _detect_column(ratings._meta, role)
               for role in _LONG_COLUMNS}
    for role in ("stimulus", "rating"):
        if columns[role] is None:
            raise ValueError(
                f"{args.source}: --dask needs long-format ratings with a {role} column "
                f"({', '.join(_LONG_COLUMNS[role])}) among the columns "
                f"{list(ratings.columns)}; name it with --{role}-col"
            )
    args.layout = "long format: " + ", ".join(
        f"{role} {name!r}" for role, name in columns.items() if name is not None
    )
    counts = rdd.counts_from_ratings(
        ratings, stimulus=columns["stimulus"], rating=columns["rating"],
        subject=columns["subject"], K=5 if args.K is None else args.K,
    )
    with _dask_scheduler(args.workers, args.progress is not False) as (persist, compute):
        counts = persist(counts)
        n_ratings = int(compute(counts.drop(columns="id").sum().sum())[0])
        table = rdd.compare(rdd.fit_all(counts, args.families, bounds=args.bounds),
                            compute=compute)
    if args.output:
        _write_table(table, args.output)
        return 0
    print(_header_line(args, int(table["n"].iloc[0]), n_ratings))
    _print_table(table)
    return 0


def _run_fit(args: argparse.Namespace) -> int:
    import pandas as pd

    _check_suffix(args.output, TABLE_FORMATS, "--output")
    counts = _select(_load(args), args.stimuli)
    results = _fit_families(counts, args.families, args.bounds, args.progress)
    _write_table(pd.concat([r.table for r in results.values()], ignore_index=True), args.output)
    return 0


# -- qoe -----------------------------------------------------------------------------------
def _qoe_table(res: FitResult, args: argparse.Namespace) -> pd.DataFrame:
    """One row per stimulus: id, ratings, sample MOS, then the fitted family's figures."""
    import pandas as pd

    from . import qoe

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
    from .fitting import fit

    _check_suffix(args.output, TABLE_FORMATS, "--output")
    queries = (args.quantile, args.level_reached_by, args.share_reaching, args.gob, args.pow)
    if not any(queries):
        args.quantile, args.gob, args.pow = list(_DEFAULT_QUANTILES), True, True
    latent = args.quantile or args.level_reached_by or args.share_reaching
    if latent and args.kind != "category" and args.family not in _QUANTIZED:
        raise _UsageError(
            f"the {args.family} family has no continuous latent quality, so its quantiles are "
            f"categories: add --kind category, or choose one of {', '.join(_QUANTIZED)}"
        )
    counts = _select(_load(args), args.stimuli)
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
    counts = _select(_load(args), args.stimuli)
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
        raise _UsageError(
            f"the {args.family} family has no continuous latent quality; choose one of "
            f"{', '.join(_QUANTIZED)}"
        )
    from .fitting import fit

    counts = _select(_load(args), args.stimuli)
    res = fit(counts, args.family, bounds=args.bounds)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.6 * len(args.stimuli)), layout="constrained")
    for ax, stimulus in zip(fig.subplots(len(args.stimuli), 1, squeeze=False)[:, 0],
                            args.stimuli):
        plots.latent_density(res, stimulus, args.quantiles, ax=ax)
    return fig


def _plot_model_difference(args: argparse.Namespace, plots: ModuleType) -> Figure:
    if len(args.families) < 2:
        raise _UsageError("model-difference needs at least two families")
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
    from . import evaluation

    _check_suffix(args.output, TABLE_FORMATS, "--output")
    _check_suffix(args.per_stimulus, TABLE_FORMATS, "--per-stimulus")
    if args.output == STDOUT and args.per_stimulus == STDOUT:
        raise _UsageError("--output and --per-stimulus cannot both be - (stdout)")
    counts = _select(_load(args), args.stimuli)
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
    _input_options(source)
    _families_option(source)
    cmd = sub.add_parser(
        "evaluate", parents=[source],
        help="predict held-out ratings: every family against smoothing baselines",
        description="Split every stimulus' ratings at random into train and test parts, "
        "predict the test ratings from the train ratings with every family (plain MLE, "
        "floored MLE, MLE with pseudo-counts, posterior predictive) and with the empirical, "
        "add-1/2 and best add-alpha baselines, and report the mean test NLL per rating.",
        epilog=_SOURCE_HELP,
    )
    cmd.add_argument("--train-sizes", nargs="+", type=_positive_int, default=[5, 10, 20],
                     metavar="N", help="train ratings per stimulus (default 5 10 20)")
    cmd.add_argument("--repeats", type=_positive_int, default=10,
                     help="random splits per train size (default 10)")
    cmd.add_argument("--seed", type=int, default=0, help="seed of the splits (default 0)")
    cmd.add_argument("--methods", nargs="+", choices=_METHODS, default=list(_METHODS),
                     metavar="METHOD",
                     help=f"family predictors (default: all of {', '.join(_METHODS)})")
    cmd.add_argument("--output", "-o", help=f"write the summary ({_TABLE_HELP})")
    cmd.add_argument("--per-stimulus", metavar="FILE",
                     help=f"write the tidy per-stimulus table ({_TABLE_HELP})")
    cmd.set_defaults(run=_run_evaluate, parser=cmd)


# -- subjects ------------------------------------------------------------------------------
_MODEL_TITLES = {
    "mos": "MOS (no screening)",
    "bt500": "ITU-R BT.500-14 Annex 1 kurtosis screening, then MOS",
    "p913": "ITU-T P.913 §12.4 bias removal and screening, then MOS",
    "p910": "ITU-T P.910 Annex E subject bias and inconsistency",
    "mle": "maximum likelihood with content ambiguity (Li & Bampis 2017)",
    "mle_co": "maximum likelihood without content ambiguity (Li & Bampis 2017)",
    "correlation": "correlation screening against the MOS, then MOS",
    "quantized": "quantized subject model (bias, inconsistency, ambiguity, lapse)",
}


def _load_ratings(args: argparse.Namespace) -> Ratings:
    """The individual ratings of ``subjects``: a dataset of them, a sureal file, a long-format
    or (``--wide``) a stimuli × subjects table. ``args.layout`` says which columns were read."""
    from . import datasets
    from .ratings import Ratings

    args.layout = None
    K = 5 if args.K is None else args.K
    source = args.source
    named = [f"--{role}-col" for role in (*_LONG_COLUMNS, *_STUDY_COLUMNS)
             if getattr(args, f"{role}_col")]
    if source in datasets.available():
        data = datasets.load(source)
        if not isinstance(data, Ratings):
            individual = [n for n, d in datasets.REGISTRY.items() if d.kind == "sureal"]
            raise ValueError(
                f"{source} holds rating counts per stimulus, not who gave which rating; subject "
                f"analyses need individual ratings ({', '.join(individual)} or a file)"
            )
        if args.wide or named or args.K is not None:
            raise _UsageError(f"{source} is a dataset: --wide, -K and the column options are "
                              "for files")
        return data
    path = _source_file(source, datasets.available())
    if path.suffix.lower() in _SUREAL_SUFFIXES:
        if args.wide or named:
            raise _UsageError(f"{source} is a sureal dataset file: --wide and the column "
                              "options are for tables")
        try:
            return Ratings.from_sureal(path, K=K)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"{source}: cannot read it as a sureal dataset file "
                             f"({type(err).__name__}: {err})") from None
    table = _read(path)
    try:
        return _wide_ratings(table, args, K) if args.wide else _long_ratings(table, args, K)
    except _UsageError:
        raise
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from None


def _wide_ratings(table: pd.DataFrame, args: argparse.Namespace, K: int) -> Ratings:
    """One row per stimulus: the id column (``--stimulus-col``, default the first), then one
    column per subject."""
    from .ratings import Ratings

    other = [f"--{role}-col" for role in ("subject", "rating", *_STUDY_COLUMNS)
             if getattr(args, f"{role}_col")]
    if other:
        raise _UsageError(f"--wide reads one column per subject: {', '.join(other)} is for "
                          "long-format ratings (--stimulus-col names the id column)")
    id_column = args.stimulus_col or table.columns[0]
    ratings = Ratings.from_wide(table, id_column=id_column, K=K)
    args.layout = f"wide: stimulus {id_column!r}, {ratings.n_subjects} subject columns"
    return ratings


def _long_ratings(table: pd.DataFrame, args: argparse.Namespace, K: int) -> Ratings:
    """One row per rating: stimulus, subject and rating columns (repetition and content ones
    when present), detected by their names or named by the options."""
    from .ratings import Ratings

    roles = (*_LONG_COLUMNS, *_STUDY_COLUMNS)
    columns = {role: getattr(args, f"{role}_col") or _detect_column(table, role)
               for role in roles}
    for role in _LONG_COLUMNS:
        if columns[role] is None:
            raise ValueError(
                f"subject analyses need a {role} column ({', '.join(_LONG_COLUMNS[role])}) "
                f"among the columns {list(table.columns)}; name it with --{role}-col, or read "
                "one column per subject with --wide"
            )
    args.layout = "long format: " + ", ".join(
        f"{role} {name!r}" for role, name in columns.items() if name is not None
    )
    return Ratings.from_long(table, stimulus=columns["stimulus"], subject=columns["subject"],
                             rating=columns["rating"], repetition=columns["repetition"],
                             content=columns["content"], K=K)


def _check_subjects_options(args: argparse.Namespace) -> None:
    """Options that the chosen model does not take, and a file name given as the prefix."""
    if args.output is not None and (
        args.output == STDOUT or Path(args.output).suffix.lower() in TABLE_FORMATS
    ):
        raise _UsageError(f"--output takes a prefix of file names (PREFIX_stimuli.csv, "
                          f"PREFIX_subjects.csv), not a file: {args.output!r}")
    if args.ci is not None and args.model in ("p910", "mle"):
        raise _UsageError(f"--ci is for mos, bt500, p913 and correlation: {args.model} "
                          "intervals are normal (χ² for the inconsistency)")
    if args.correlation_method is not None and args.model != "correlation":
        raise _UsageError("--correlation-method needs --model correlation")
    if args.content_ambiguity is not None and args.model != "mle":
        raise _UsageError("--content-ambiguity and --no-content-ambiguity need --model mle")
    if args.ci is not None and args.model == "quantized":
        raise _UsageError("--ci is for mos, bt500, p913 and correlation: quantized intervals "
                          "are Wald intervals from the observed information")
    if args.latent is not None and args.model != "quantized":
        raise _UsageError("--latent needs --model quantized")


def _analyse(ratings: Ratings, args: argparse.Namespace) -> SubjectAnalysis:
    from . import subjects

    ci = args.ci or "normal"
    if args.model == "mos":
        return subjects.mos(ratings, ci=ci, level=args.level)
    if args.model in ("bt500", "p913"):
        return getattr(subjects, args.model)(ratings, ci=ci, level=args.level)
    if args.model == "correlation":
        return subjects.correlation_screening(ratings, method=args.correlation_method or "pcc",
                                              ci=ci, level=args.level)
    if args.model == "p910":
        return subjects.p910(ratings, level=args.level)
    ambiguity = args.content_ambiguity is not False
    if ambiguity and ratings.contents is None:
        raise _UsageError(
            f"{args.source} gives no source content per stimulus, which --model mle needs for "
            "the content ambiguity: name the column with --content-col, or add "
            "--no-content-ambiguity"
        )
    return subjects.mle(ratings, content_ambiguity=ambiguity, level=args.level)


def _subjects_header(args: argparse.Namespace, ratings: Ratings, res: SubjectAnalysis) -> str:
    """Two lines: the data read, and the analysis (with its fit for the models)."""
    layout = f" ({args.layout})" if args.layout else ""
    line = (f"{args.source}{layout}: {ratings.n_stimuli} stimuli, {ratings.n_subjects} "
            f"subjects, {ratings.n_ratings} ratings\n{res.method}: {_MODEL_TITLES[res.method]}")
    summary = res.summary
    if "n_iterations" in summary:
        state = "converged" if summary["converged"] else "not converged"
        rounds = int(summary["n_iterations"])
        line += (f"; {rounds} iteration{'' if rounds == 1 else 's'}, {state}; per rating: "
                 f"log-likelihood {summary['loglikelihood']:.4f}, aic {summary['aic']:.4f}, "
                 f"bic {summary['bic']:.4f}")
    if "threshold" in summary:
        line += f"; threshold {summary['threshold']:.4f}"
    return line


def _rejected_line(res: SubjectAnalysis, n_subjects: int) -> str:
    if res.method in ("mos", "p910", "mle", "mle_co"):
        return f"rejected subjects: none ({res.method} keeps every subject)"
    if not len(res.rejected):
        return "rejected subjects: none"
    ids = " ".join(str(i) for i in res.rejected)
    return f"rejected subjects ({len(res.rejected)} of {n_subjects}): {ids}"


def _run_quantized(args: argparse.Namespace, ratings: Ratings) -> int:
    """``subjects --model quantized``: :func:`ratingdist.subjects.fit` with its defaults."""
    from . import subjects

    res = subjects.fit(ratings, family=args.latent or "normal", level=args.level)
    if args.output is not None:
        for name, table in (("stimuli", res.stimuli), ("subjects", res.subjects)):
            _write_table(table, f"{args.output}_{name}.csv")
    else:
        layout = f" ({args.layout})" if args.layout else ""
        state = "converged" if res.converged else "not converged"
        n = res.n_ratings
        print(f"{args.source}{layout}: {ratings.n_stimuli} stimuli, {ratings.n_subjects} "
              f"subjects, {n} ratings\nquantized: {_MODEL_TITLES['quantized']}, "
              f"{res.family} latent, lapse {res.lapse:.4f}, κ = {res.shrinkage:g}; "
              f"{res.n_sweeps} sweeps, {state}; per rating: log-likelihood of the categories "
              f"{-res.nll / n:.4f}, aic {res.aic / n:.4f}, bic {res.bic / n:.4f}")
        _print_table(res.subjects)
    print("rejected subjects: none (quantized keeps every subject)")
    return 0


def _run_subjects(args: argparse.Namespace) -> int:
    _check_subjects_options(args)
    ratings = _load_ratings(args)
    if args.model == "quantized":
        return _run_quantized(args, ratings)
    res = _analyse(ratings, args)
    if args.output is not None:
        tables = {"stimuli": res.stimuli, "subjects": res.subjects}
        if res.contents is not None:
            tables["contents"] = res.contents
        for name, table in tables.items():
            _write_table(table, f"{args.output}_{name}.csv")
    else:
        print(_subjects_header(args, ratings, res))
        counts = [c for c in ("p", "q") if c in res.subjects]  # outlier counts of a screening
        _print_table(res.subjects.astype(dict.fromkeys(counts, "int64")))
    print(_rejected_line(res, ratings.n_subjects))
    return 0


def _add_subjects(sub) -> None:
    cmd = sub.add_parser(
        "subjects", help="subject analyses: bias, inconsistency, screening (BT.500, P.913, "
        "P.910)",
        description="Analyse a study subject by subject and print one row per subject: bias "
        "and inconsistency with their intervals (p910, mle), the screening statistics (bt500, "
        "p913, correlation) and whether the subject is rejected; then the rejected subjects. "
        "With -o PREFIX, write the per-stimulus quality (id, n, quality, std, ci_low, "
        "ci_high) to PREFIX_stimuli.csv and the per-subject table to PREFIX_subjects.csv "
        "(and the content ambiguities of mle to PREFIX_contents.csv).",
        epilog="SOURCE holds individual ratings: a dataset (nflx-public, vqeg-hd3), a Netflix "
        "sureal dataset file (.py, read without running it, or .json), or a .csv, .parquet or "
        ".xlsx file of long-format ratings (one row per rating: stimulus, subject and rating "
        f"columns named {'/'.join(_LONG_COLUMNS['stimulus'])}, "
        f"{'/'.join(_LONG_COLUMNS['subject'])}, {'/'.join(_LONG_COLUMNS['rating'])}; "
        f"optionally repetition ({'/'.join(_STUDY_COLUMNS['repetition'])}) and source content "
        f"({'/'.join(_STUDY_COLUMNS['content'])}); case-insensitive, _id may follow; other "
        "names with the column options) or, with --wide, a table with one row per stimulus: "
        "its id in the first column (or --stimulus-col), then one column per subject, blanks "
        "for missing ratings.",
    )
    cmd.add_argument("source", metavar="SOURCE",
                     help="dataset name, sureal file or rating table (see below)")
    cmd.add_argument("--model", choices=_MODELS, default="p910",
                     help="mos, bt500 (ITU-R BT.500-14 kurtosis screening), p913 (ITU-T P.913 "
                     "bias removal and screening), p910 (ITU-T P.910 Annex E, default), mle "
                     "(Li & Bampis, with content ambiguity), correlation (screening by the "
                     "correlation with the MOS), quantized (the quantized subject model: bias, "
                     "inconsistency and ambiguity on a quantized latent, with a lapse)")
    cmd.add_argument("--latent", choices=("normal", "logistic"), default=None,
                     help="latent distribution of --model quantized (default normal)")
    cmd.add_argument("--level", type=_open_level, default=0.95,
                     help="confidence level of the intervals (default 0.95)")
    cmd.add_argument("--ci", choices=("normal", "t"), default=None,
                     help="normal or Student-t MOS intervals (mos, bt500, p913, correlation; "
                     "default normal)")
    cmd.add_argument("--correlation-method", choices=("pcc", "srcc"), default=None,
                     help="Pearson or Spearman correlation (--model correlation; default pcc)")
    cmd.add_argument("--content-ambiguity", action=argparse.BooleanOptionalAction,
                     default=None, help="model the ambiguity of each source content (--model "
                     "mle; default on, needs the contents)")
    cmd.add_argument("--output", "-o", metavar="PREFIX",
                     help="write PREFIX_stimuli.csv and PREFIX_subjects.csv")
    table = cmd.add_argument_group("rating tables")
    table.add_argument("--wide", action="store_true",
                       help="one row per stimulus, one column per subject")
    for role in (*_LONG_COLUMNS, *_STUDY_COLUMNS):
        table.add_argument(f"--{role}-col", metavar="NAME",
                           help=f"the {role} column (default: detected)")
    table.add_argument("-K", "--categories", dest="K", type=_positive_int, metavar="K",
                       help="number of rating categories 1..K (default 5)")
    cmd.set_defaults(run=_run_subjects, parser=cmd)


# -- adaptive ------------------------------------------------------------------------------
#: Dataset groupings that ``adaptive --groups`` knows: dataset -> {name: meaning}; each is the
#: stimulus id // 1000.
_DATASET_GROUPS = {"vqeg-hdtv": {"experiment": "PVS id // 1000"}}


def _adaptive_input(args: argparse.Namespace):
    """Counts and group labels for :func:`ratingdist.fit_adaptive`: a RatingCounts (with the
    labels of a dataset grouping, or None), or with --groups COL of a file a {group:
    RatingCounts} mapping (the rows of each group a count table or long-format ratings)."""
    import numpy as np

    from . import datasets

    args.layout = None
    source, col = args.source, args.groups
    if source in datasets.available():
        if args.stimuli:
            raise _UsageError("--stimuli goes with a file, not with a dataset")
        counts = _load(args)
        if col is None:
            return counts, None
        known = _DATASET_GROUPS.get(source, {})
        if col not in known:
            offer = (f"; {source} knows --groups " + ", ".join(
                f"{k} ({v})" for k, v in known.items())) if known else ""
            raise _UsageError(f"dataset {source} has no grouping {col!r}{offer}")
        ids = np.asarray(counts.ids)
        try:
            labels = np.asarray(ids, dtype=np.float64)
        except ValueError:
            raise ValueError(f"{source}: stimulus ids such as {ids[0]!r} are not numbers, "
                             f"cannot form {col}") from None
        return counts, (labels // 1000).astype(np.int64)
    if col is None:
        return _select(_load(args), args.stimuli), None
    table = _read(_source_file(source, datasets.available()))
    if col not in table.columns:
        raise ValueError(f"{source}: no group column {col!r} among the columns "
                         f"{list(table.columns)}")
    if table[col].isna().any():
        row = int(np.flatnonzero(table[col].isna().to_numpy())[0])
        raise ValueError(f"{source}: row {row}: column {col!r} is empty")
    rest = table.drop(columns=[col])
    parts = {}
    try:
        for g, part in rest.groupby(table[col].to_numpy(), sort=False):
            counts = _select(_counts_of(part.reset_index(drop=True), args), None)
            if args.stimuli:
                keep = np.isin(np.asarray(counts.ids).astype(str), args.stimuli)
                counts = counts[np.flatnonzero(keep)]
            if len(counts):
                parts[g] = counts
    except _UsageError:
        raise
    except ValueError as err:
        raise ValueError(f"{source}: {col} {g!r}: {err}") from None
    if not parts:
        raise ValueError(f"{source}: none of the --stimuli {args.stimuli} is in any group")
    return parts, None


def _adaptive_summary(res, ref) -> pd.DataFrame:
    """AIC, BIC, NLL of the fit and of the same model at the reference thresholds."""
    import pandas as pd

    rows = []
    for name, r in (("reference thresholds", ref), ("learned thresholds", res)):
        rows.append({"model": name, "n_params": r.n_params, "nll": r.nll, "aic": r.aic,
                     "bic": r.bic, "converged": r.converged})
    return pd.DataFrame(rows)


def _run_adaptive(args: argparse.Namespace) -> int:
    from .adaptive import fit_adaptive

    counts, labels = _adaptive_input(args)
    lapse = None if args.lapse == "none" else args.lapse
    res = fit_adaptive(counts, args.family, labels, thresholds=args.thresholds, lapse=lapse,
                       scale=args.scale)
    ref = res.fixed()
    test = res.lr_test(ref)
    summary = _adaptive_summary(res, ref)
    groups = res.extreme_response()
    boot = None if args.bootstrap is None else res.bootstrap(args.bootstrap, seed=args.seed)
    if args.output is not None:
        tables = {"thresholds": res.thresholds, "lapse": res.lapse, "models": summary,
                  "lr_test": test.to_frame().T, "extreme": groups, "stimuli": res.table}
        if boot is not None:
            tables |= {"bootstrap_thresholds": boot.thresholds, "bootstrap_lapse": boot.lapse}
        for name, table in tables.items():
            _write_table(table, f"{args.output}_{name}.csv")
        return 0
    n_stim = len(res.table)
    n_groups = len(groups)
    layout = f" ({args.layout})" if args.layout else ""
    print(f"{args.source}{layout}: {n_stim} stimuli, {int(res.table['n'].sum())} ratings, "
          f"{n_groups} group{'s' if n_groups != 1 else ''}; {args.family}, thresholds="
          f"{args.thresholds}, lapse={args.lapse}, scale={args.scale}")
    print("thresholds (95 % Wald intervals; pinned ones fix the latent axis):")
    _print_table(res.thresholds)
    if lapse is not None:
        print("lapse:")
        _print_table(res.lapse)
    if boot is not None:
        print(f"parametric bootstrap ({boot.n_boot - boot.n_failed} of {boot.n_boot} studies "
              f"refitted, seed {boot.seed}; basic 95 % intervals, lapses on the square-root "
              "scale):")
        _print_table(boot.thresholds[~boot.thresholds["pinned"]])
        if lapse is not None:
            _print_table(boot.lapse)
    print("extreme-response propensity P(rating in {1, K}), mean over the group's stimuli:")
    _print_table(groups)
    _print_table(summary)
    print(f"LR test, reference vs learned thresholds: statistic {test['statistic']:.4f}, "
          f"df {int(test['df'])}, p = {test['p_value']:.4g}")
    if res.identified_by_rule:
        print(res.identification)
    return 0


def _add_adaptive(sub) -> None:
    cmd = sub.add_parser(
        "adaptive", help="learn the category thresholds per group (adaptive quantized models)",
        description="Fit an adaptive quantized metric model by joint maximum likelihood: "
        "category thresholds learned from the data (shared or per group), lapse rates, "
        "per-stimulus or common scales. Prints the thresholds with 95 %% intervals, the "
        "lapses, the extreme-response propensity per group, NLL/AIC/BIC at the reference "
        "thresholds k + 1/2 and at the learned ones, and their likelihood-ratio test; "
        "--bootstrap B adds parametric-bootstrap intervals of the thresholds and lapses. With "
        "-o PREFIX, writes PREFIX_thresholds.csv, PREFIX_lapse.csv, PREFIX_models.csv, "
        "PREFIX_lr_test.csv, PREFIX_extreme.csv and PREFIX_stimuli.csv.",
        epilog=_SOURCE_HELP + " --groups COL names the group column of a file (count table: "
        "one row per stimulus and group; long format: one row per rating); for the dataset "
        "vqeg-hdtv, --groups experiment groups by PVS id // 1000.",
    )
    _input_options(cmd)
    cmd.add_argument("--family", choices=("normal", "logistic", "logit-logistic", "beta",
                                          "kumaraswamy"),
                     default="normal", help="latent distribution (default normal)")
    cmd.add_argument("--groups", metavar="COL",
                     help="group column (a file) or grouping (vqeg-hdtv: experiment)")
    cmd.add_argument("--thresholds", choices=("shared", "per-group"), default="shared",
                     help="one threshold set for the study (default) or one per group")
    cmd.add_argument("--lapse", choices=("none", "shared", "per-group"), default="none",
                     help="lapse rate: none (default), one for the study, or one per group")
    cmd.add_argument("--scale", choices=("per-stimulus", "common"), default="per-stimulus",
                     help="one latent scale per stimulus (default) or a common one")
    cmd.add_argument("--bootstrap", type=_positive_int, metavar="B",
                     help="also parametric-bootstrap intervals of the thresholds and lapses "
                     "from B refitted studies (PREFIX_bootstrap_thresholds.csv, "
                     "PREFIX_bootstrap_lapse.csv with -o); the intervals to use for lapses")
    cmd.add_argument("--seed", type=int, default=0, help="seed of --bootstrap (default 0)")
    cmd.add_argument("--output", "-o", metavar="PREFIX", help="write the tables to "
                     "PREFIX_thresholds.csv, PREFIX_lapse.csv, ... (see above)")
    cmd.set_defaults(run=_run_adaptive, parser=cmd)


# -- parser --------------------------------------------------------------------------------
_TABLE_HELP = ".csv, .parquet, .xlsx, or - for CSV on stdout"
_SOURCE_HELP = (
    f"SOURCE is a dataset ({', '.join(_DATASETS)}) or a file (.csv, .parquet, .xlsx) holding "
    "either a count table (one row per stimulus, columns c1..cK or n1..nK) or long-format "
    "ratings (one row per rating: a stimulus column named "
    f"{'/'.join(_LONG_COLUMNS['stimulus'])}, a rating column named "
    f"{'/'.join(_LONG_COLUMNS['rating'])}, optionally a subject column named "
    f"{'/'.join(_LONG_COLUMNS['subject'])}; case-insensitive, _id may follow; other names "
    "with --stimulus-col, --rating-col, --subject-col)."
)


def _input_options(parent: argparse.ArgumentParser, stimuli_required: bool = False) -> None:
    """SOURCE, the columns of a long-format file and --stimuli."""
    parent.add_argument("source", metavar="SOURCE",
                        help="dataset name, count table or long-format rating file (see below)")
    long = parent.add_argument_group("long-format rating files")
    for role in _LONG_COLUMNS:
        long.add_argument(f"--{role}-col", metavar="NAME",
                          help=f"the {role} column (default: detected)")
    long.add_argument("-K", "--categories", dest="K", type=_positive_int, metavar="K",
                      help="number of rating categories 1..K (default 5)")
    parent.add_argument(
        "--stimuli", nargs="+", metavar="ID", required=stimuli_required,
        help="stimulus ids to use" + ("" if stimuli_required else " (default: all)"),
    )


def _source_options(stimuli_required: bool = False) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    _input_options(parent, stimuli_required)
    parent.add_argument(
        "--bounds", choices=("natural", "reference"), default="natural",
        help="unbounded MLE (natural, default) or the reference study's box constraints",
    )
    return parent


def _families_option(parent: argparse.ArgumentParser) -> None:
    parent.add_argument(
        "--families", nargs="+", choices=_FAMILIES, default=list(_FAMILIES), metavar="FAMILY",
        help=f"families to fit (default: all of {', '.join(_FAMILIES)})",
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
        "share of p < 0.05, ...; best AIC first).", epilog=_SOURCE_HELP,
    )
    compare_cmd.add_argument("--output", "-o", help=f"write the table ({_TABLE_HELP})")
    scale_out = compare_cmd.add_argument_group(
        "scale-out (needs ratingdist[dask])",
        "With --dask, SOURCE is a directory of Parquet files, a .parquet or .csv file, or a "
        "quoted glob of them, holding long-format ratings; they are counted and fitted "
        "partition by partition, never all in one process. The table equals the in-memory one.",
    )
    scale_out.add_argument("--dask", action="store_true",
                           help="count and fit with Dask (Dask's progress bar on stderr unless "
                           "--no-progress)")
    scale_out.add_argument("--workers", type=_positive_int, metavar="N",
                           help="a local cluster of N worker processes (default: Dask's "
                           "threaded scheduler in this process)")
    compare_cmd.set_defaults(run=_run_compare, parser=compare_cmd)
    fit_cmd = sub.add_parser(
        "fit", parents=[common], help="fit the families and write the per-stimulus table",
        description="Fit the families and write one row per stimulus and family: counts, "
        "parameters, mean, var, rho, fitted probabilities, nll, g, p_value, diagnostics.",
        epilog=_SOURCE_HELP,
    )
    fit_cmd.add_argument("--output", "-o", default=STDOUT,
                         help=f"output file ({_TABLE_HELP}; default: CSV on stdout)")
    fit_cmd.set_defaults(run=_run_fit, parser=fit_cmd)


def _add_qoe(sub) -> None:
    cmd = sub.add_parser(
        "qoe", parents=[_source_options()],
        help="QoE figures per stimulus: quantiles, %%GoB, %%PoW",
        description="Fit one family and report, per stimulus, quality quantiles on the rating "
        "axis, the level a share of users reaches, %%GoB and %%PoW. Without a query option: "
        "--quantile 0.1 0.5 0.9 --gob --pow.", epilog=_SOURCE_HELP,
    )
    cmd.add_argument("--family", choices=_FAMILIES, default="logit-logistic", metavar="FAMILY",
                     help=f"family to fit: one of {', '.join(_FAMILIES)} (default: "
                     "logit-logistic)")
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
    cmd.add_argument("--output", "-o", help=f"write the table ({_TABLE_HELP})")
    cmd.set_defaults(run=_run_qoe, parser=cmd)


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
    figure.add_argument("--dpi", type=_positive_int, default=150,
                        help="resolution (default 150)")
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
                             description=text[0].upper() + text[1:] + ".",
                             epilog=_SOURCE_HELP if parents[kind] else None)
        p.set_defaults(run=_run_plot, draw=draw, parser=p)
        if kind == "observed-vs-fitted":
            _families_option(p)
        elif kind == "psi-v":
            p.add_argument("--full-region", action="store_true",
                           help="show the whole feasible region, not just the stimuli")
        elif kind == "pp":
            p.add_argument("--alpha", type=_open_level, default=0.2,
                           help="level α₀ of the consistency verdict (default 0.2)")
        elif kind == "latent-density":
            p.add_argument("--family", choices=_FAMILIES, default="logit-logistic",
                           metavar="FAMILY", help=f"quantized family: one of "
                           f"{', '.join(_QUANTIZED)} (default: logit-logistic)")
            p.add_argument("--quantiles", nargs="+", type=_open_level,
                           default=list(_DEFAULT_QUANTILES), metavar="ALPHA",
                           help="quantile levels to mark (default 0.1 0.5 0.9)")
        elif kind == "model-difference":
            p.add_argument("families", nargs="+", choices=_FAMILIES, metavar="FAMILY",
                           help="two families (one map) or more (a matrix of all pairs)")
            p.add_argument("--metric", choices=("l1", "aitchison"), default="l1",
                           help="L1 or Aitchison distance (default l1)")
            p.add_argument("--grid", type=_positive_int, default=200,
                           help="grid points along the mean (half as many for ρ; default 200)")
            p.add_argument("-K", type=_positive_int, default=5,
                           help="number of categories (default 5)")


def _parser() -> _Parser:
    parser = _Parser(
        prog="ratingdist",
        description="Fit, compare, query and plot rating distributions of absolute-category-"
        "rating data. A SOURCE is a dataset (koniq10k, vqeg-hdtv), a count table or a "
        "long-format rating file; see ratingdist COMMAND --help.",
        epilog="Exit status: 0 on success, 2 on a bad argument or input.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_compare_and_fit(sub)
    _add_qoe(sub)
    _add_evaluate(sub)
    _add_plot(sub)
    _add_subjects(sub)
    _add_adaptive(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ratingdist`` console script; returns the exit status.

    Errors are one line on stderr and exit status 2: ``ratingdist SUB: error: ... (see
    ratingdist SUB --help)`` for a bad argument, ``ratingdist SUB: error: ...`` for bad input.
    """
    args, unknown = _parser().parse_known_args(argv)
    command: _Parser = args.parser
    if unknown:
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        status = args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
    except BrokenPipeError:  # e.g. piped into head: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return 130
    except _UsageError as err:
        print(command.error_line(str(err)), file=sys.stderr)
        return EXIT_USAGE
    except _INPUT_ERRORS as err:
        message = _one_line(_message(err)) or type(err).__name__
        print(f"{command.prog}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    return status


def _message(err: BaseException) -> str:
    """What an exception says; a KeyError's key without the quotes its str adds."""
    if isinstance(err, KeyError) and len(err.args) == 1:
        return str(err.args[0])
    return str(err)


if __name__ == "__main__":
    sys.exit(main())
