"""The ``ratingdist`` command: fit families to a dataset or a count table and compare them.

    ratingdist compare koniq10k
    ratingdist fit vqeg-hdtv --families gsd normal --output fits.csv

Errors in files or arguments print one line to stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from . import datasets
from .data import RatingCounts
from .families import FAMILIES
from .fitting import compare, fit_all

_WRITERS = {".csv": "to_csv", ".parquet": "to_parquet"}


def _load(source: str) -> RatingCounts:
    """A registered dataset name, or the path of a count table (CSV)."""
    if source in datasets.available():
        return datasets.load(source)
    path = Path(source)
    if not path.exists():
        raise ValueError(
            f"{source!r} is neither a dataset ({', '.join(datasets.available())}) nor a file"
        )
    return RatingCounts.from_table(path)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ratingdist",
        description="Fit rating-distribution families to absolute-category-rating counts.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("source", help="dataset name (koniq10k, vqeg-hdtv) or a count-table CSV")
    common.add_argument(
        "--families", nargs="+", choices=FAMILIES, default=list(FAMILIES), metavar="FAMILY",
        help=f"families to fit (default: all of {', '.join(FAMILIES)})",
    )
    common.add_argument(
        "--bounds", choices=("natural", "reference"), default="natural",
        help="unbounded MLE (natural) or the reference study's box constraints",
    )
    sub.add_parser(
        "compare", parents=[common], help="fit the families and print the comparison table"
    )
    fit_cmd = sub.add_parser(
        "fit", parents=[common], help="fit the families and write the per-stimulus table"
    )
    fit_cmd.add_argument(
        "--output", "-o", required=True, help="output file (.csv or .parquet)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ratingdist`` console script."""
    args = _parser().parse_args(argv)
    try:
        counts = _load(args.source)
        if args.command == "fit" and Path(args.output).suffix not in _WRITERS:
            raise ValueError(f"--output must end in {' or '.join(_WRITERS)}: {args.output!r}")
        results = fit_all(counts, args.families, bounds=args.bounds)
    except (ValueError, OSError) as err:
        print(f"ratingdist: error: {err}", file=sys.stderr)
        return 2
    if args.command == "compare":
        table = compare(results)
        with pd.option_context("display.width", 200, "display.max_columns", None):
            print(f"{args.source}: {len(counts)} stimuli, {counts.n_ratings.sum()} ratings, "
                  f"bounds={args.bounds}")
            print(table.to_string(index=False, float_format=lambda x: f"{x:.4f}"))
        return 0
    tables = pd.concat([r.table for r in results.values()], ignore_index=True)
    path = Path(args.output)
    getattr(tables, _WRITERS[path.suffix])(path, index=False)
    print(f"wrote {len(tables)} rows to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
