"""CSV files read as written: every cell keeps its spelling unless it is a number spelled the
way Python writes that number.

``pandas.read_csv`` guesses: ``007`` becomes 7, ``NA`` and ``nan`` become missing, a data row
longer than the header silently turns the first column into the index, and a repeated column
name is renamed. The rating readers need the file as written, so this reader

- treats only the empty field as missing (``NA``, ``nan``, ``null`` are strings);
- converts a cell to a number only if its spelling is the one Python gives that number back
  (``str(int(cell)) == cell`` or ``repr(float(cell)) == cell``: ``7``, ``-3``, ``2.5``,
  ``1e-05``), so that ``str`` of every cell is the text in the file; ``007``, `` 7``, ``+7``,
  ``7.50``, ``1e3``, ``inf`` stay strings;
- refuses a row whose number of fields differs from the header's, and a header that names a
  column twice, naming the line and the column;
- reads UTF-8 (a byte-order mark is dropped), plain or compressed by suffix (``.gz``, ``.bz2``,
  ``.xz``, ``.zip`` holding one file, ``.zst`` with the ``zstandard`` package); blank lines are
  skipped.

A column becomes ``int64`` when every cell is an integer that int64 holds, ``float64`` when
every cell is a float; otherwise it is an ``object`` column of Python ints, floats, strings and
``None`` (the empty field), so that ``str`` of every cell stays its text.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import re
import zipfile
from collections.abc import Callable
from os import PathLike
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd


def _zip_open(path: Path, mode: str, **text: Any) -> IO[str]:
    """The one file of a zip archive, as text."""
    archive = zipfile.ZipFile(path)
    names = [info.filename for info in archive.infolist() if not info.is_dir()]
    if len(names) != 1:
        raise ValueError(f"{path}: a .zip must hold exactly one file, it holds {len(names)}")
    member = archive.open(names[0])
    archive.close()  # the member keeps the file open until it is closed itself
    return io.TextIOWrapper(member, **text)


def _zstd_open(path: Path, mode: str, **text: Any) -> IO[str]:
    try:
        import zstandard
    except ImportError:
        raise ValueError(f"{path}: reading .zst files needs the zstandard package "
                         "(pip install zstandard)") from None
    return zstandard.open(path, mode, **text)


#: Openers of compressed text files by suffix; anything else is read as plain text.
_OPENERS: dict[str, Callable[..., IO[str]]] = {
    ".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".zip": _zip_open, ".zst": _zstd_open,
}
#: Integers as ``str(int)`` writes them.
_INTEGER = re.compile(r"0|-?[1-9][0-9]*")
#: Candidates for floats as ``repr(float)`` writes them (ASCII digits; no inf or nan).
_FLOAT = re.compile(r"-?[0-9]+\.[0-9]+(?:e[-+][0-9]+)?|-?[0-9]+e[-+][0-9]+")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def cell_value(text: str) -> int | float | str | None:
    """The value of one CSV field: ``None`` if empty, a number if it is spelled as Python
    spells that number, else the text itself.

    Examples
    --------
    >>> [cell_value(t) for t in ["", "7", "007", "2.5", "2.50", "1e-05", "NA", "nan"]]
    [None, 7, '007', 2.5, '2.50', 1e-05, 'NA', 'nan']
    """
    if text == "":
        return None
    if _INTEGER.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        number = float(text)
        if repr(number) == text:
            return number
    return text


def read_csv_as_written(path: str | PathLike[str]) -> pd.DataFrame:
    """Read a CSV file with a header line, every cell as written (see the module docstring).

    Parameters
    ----------
    path : str or path
        The file.

    Returns
    -------
    DataFrame
        One column per header field (in file order), one row per data line; no rows if the file
        has only its header.

    Raises
    ------
    ValueError
        If the file has no header line, the header names a column twice, or a data line has
        more or fewer fields than the header (naming the line).
    OSError, UnicodeDecodeError
        If the file cannot be read as UTF-8 text.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text("id,c1,c2\\n007,1,2.0\\nNA,3,4.0\\n")
    >>> df = read_csv_as_written(path)
    >>> df["id"].tolist(), df["c1"].dtype.name, df["c2"].tolist()
    (['007', 'NA'], 'int64', [2.0, 4.0])
    """
    path = Path(path)
    opener = _OPENERS.get(path.suffix.lower())
    try:  # the C parser for speed, each column parsed into its distinct texts and their codes
        with (opener(path, "rt", encoding="utf-8-sig", newline="") if opener
              else open(path, encoding="utf-8-sig", newline="")) as handle:
            raw = pd.read_csv(handle, header=None, dtype="category", na_filter=False,
                              skip_blank_lines=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError):
        return _read_line_by_line(path)  # says what is wrong, naming the line
    columns = [(raw[c].cat.codes.to_numpy(), np.asarray(raw[c].cat.categories, dtype=object))
               for c in raw.columns]
    if any(codes[0] < 0 for codes, _ in columns):
        return _read_line_by_line(path)
    codes, texts = columns[-1]
    empty = np.flatnonzero(texts == "")
    if (codes[1:] < 0).any() or (empty.size and (codes[1:] == empty[0]).any()):
        return _read_line_by_line(path)  # a short or blank line, or an empty last field
    header = [str(texts[codes[0]]) for codes, texts in columns]
    _check_header(header, path)
    return _frame(header, [_used(codes[1:], texts) for codes, texts in columns])


def _used(codes: np.ndarray, texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, texts) restricted to the texts the codes use (the header's text may be unused)."""
    used = np.flatnonzero(np.bincount(codes, minlength=texts.size))
    remap = np.zeros(texts.size, dtype=np.intp)
    remap[used] = np.arange(used.size)
    return remap[codes], texts[used]


def _read_line_by_line(path: Path) -> pd.DataFrame:
    """:func:`read_csv_as_written` with the csv module, which sees how many fields each line
    has."""
    opener = _OPENERS.get(path.suffix.lower(), open)
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:  # type: ignore[operator]
        reader = csv.reader(handle)
        header = next(reader, None)
        while header == []:
            header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: no header line (the file is empty)")
        _check_header(header, path)
        rows = []
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise ValueError(
                    f"{path}, line {reader.line_num}: {len(row)} fields, but the header has "
                    f"{len(header)} ({', '.join(header)})"
                )
            rows.append(row)
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(header)
    return _frame(header, [pd.factorize(np.array(cells, dtype=object)) for cells in columns])


def _frame(header: list[str], columns: list[tuple[np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """The DataFrame of converted columns, each given as (codes, distinct texts) and with its
    own dtype (an object column stays object: pandas would infer a string dtype that turns
    ``None`` into NaN)."""
    index = pd.RangeIndex(len(columns[0][0]) if columns else 0)
    converted = [_column(codes, uniques) for codes, uniques in columns]
    return pd.DataFrame(
        {name: pd.Series(values, index=index, dtype=values.dtype, copy=False)
         for name, values in zip(header, converted, strict=True)},
        index=index,
    )


def _check_header(header: list[str], path: Path) -> None:
    seen: dict[str, int] = {}
    for position, name in enumerate(header):
        if name in seen:
            raise ValueError(
                f"{path}: the header names column {name!r} twice (fields {seen[name] + 1} and "
                f"{position + 1})"
            )
        seen[name] = position


def _column(codes: np.ndarray, uniques: np.ndarray) -> np.ndarray:
    """A column of fields, given as codes into its distinct texts, as int64, float64 or object
    (see the module docstring); each distinct text is converted once."""
    values = [cell_value(t) for t in uniques]
    if all(type(v) is int and _INT64_MIN <= v <= _INT64_MAX for v in values):
        return np.array(values, dtype=np.int64)[codes]
    if all(type(v) is float for v in values):
        return np.array(values, dtype=np.float64)[codes]
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column[codes]
