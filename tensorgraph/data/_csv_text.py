"""The text layer of :func:`~tensorgraph.data.load_csv`: opening, sniffing the delimiter,
finding the header and reading rows with the standard ``csv`` module (the careful reader
whose messages name the file and the line).
"""

from __future__ import annotations

import csv as _csv
import gzip
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import DataError

__all__ = [
    "DELIMITERS",
    "MISSING_VALUES",
    "Layout",
    "Row",
    "delimiter_hint",
    "is_missing",
    "is_number",
    "layout",
    "open_text",
    "rows_of",
    "sniff",
]

#: The delimiters ``delimiter=None`` chooses from, in order of preference on a tie.
DELIMITERS = (",", ";", "\t")
_SAMPLE_CHARS = 1 << 16  # the head that sniffing looks at
_SAMPLE_ROWS = 50

Row = tuple[int, list[str]]  # (line number of the row's first line, stripped cells)


def open_text(path: Path) -> IO[str]:
    """Open ``path`` (plain or ``.gz``) as text for the ``csv`` module."""
    # utf-8-sig drops a byte-order mark; newline="" lets the csv module handle CRLF and
    # quoted line breaks itself.
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def rows_of(handle: IO[str], delimiter: str, path: Path) -> Iterator[Row]:
    """The non-blank rows read from ``handle``, as (line, stripped cells)."""
    reader = _csv.reader(handle, delimiter=delimiter, strict=True)
    line = 1
    try:
        for cells in reader:
            stripped = [cell.strip() for cell in cells]
            if line == 1 and stripped:
                # utf-8-sig drops one byte-order mark; a file saved twice by a BOM-adding
                # editor has more, which would stay in the first column's name.
                stripped[0] = stripped[0].lstrip("\ufeff").strip()
            # Empty and blank-only lines carry no record: skipped, wherever they are (as
            # numpy.loadtxt and pandas do), so both readers agree on every file.
            if stripped and (len(stripped) > 1 or stripped[0]):
                yield line, stripped
            line = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (gzip.BadGzipFile, EOFError) as exc:
        raise DataError(f"{path}: not a readable gzip file ({exc})") from None
    except _csv.Error as exc:
        raise DataError(f"{path}, line {reader.line_num}: malformed CSV: {exc}") from None


def is_number(cell: str) -> bool:
    """Whether ``cell`` is a number as the readers accept it (no ``1_000`` digit groups)."""
    if "_" in cell:
        return False
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _head(path: Path) -> str:
    try:
        with open_text(path) as handle:
            text = handle.read(_SAMPLE_CHARS)
            complete = len(text) < _SAMPLE_CHARS
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (gzip.BadGzipFile, EOFError) as exc:
        raise DataError(f"{path}: not a readable gzip file ({exc})") from None
    if not complete and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # whole lines only
    return text


def sniff(path: Path) -> str:
    """The delimiter of ``path`` among :data:`DELIMITERS` (comma when nothing else fits).

    A candidate scores by (every sampled row has the same number of fields > 1, the number
    of numeric cells, the number of fields); the first candidate wins a tie.
    """
    lines = _head(path).splitlines()[:_SAMPLE_ROWS]
    best, best_score = DELIMITERS[0], (False, -1, -1)
    for candidate in DELIMITERS:
        try:
            rows = [r for r in _csv.reader(lines, delimiter=candidate) if any(c.strip() for c in r)]
        except _csv.Error:
            continue
        widths = {len(r) for r in rows}
        width = min(widths) if widths else 0
        numeric = sum(is_number(c.strip()) for r in rows for c in r)
        score = (len(widths) == 1 and width > 1, numeric, width)
        if score > best_score:
            best, best_score = candidate, score
    return best


_HINTED = (*DELIMITERS, "|", " ")  # not sniffed, but named when a file seems to use them


def is_missing(cell: str) -> bool:
    """Whether ``cell`` is a missing-value marker (``''``, ``NA``, ``nan``, ``-nan``, ...)."""
    lowered = cell.lower()
    return lowered in MISSING_VALUES or lowered in ("+nan", "-nan")


def delimiter_hint(cells: list[str], delimiter: str) -> str:
    """A note for an error message when ``cells`` look split with another delimiter."""
    text = "".join(cells)
    for other in _HINTED:
        if other != delimiter and other in text:
            return (
                f" (the file seems to use {other!r} as its delimiter, not {delimiter!r}: pass "
                f"delimiter={other!r}, or --delimiter on the command line)"
            )
    return ""


@dataclass(frozen=True)
class Layout:
    """What the first rows say about a file: its delimiter, header and width."""

    delimiter: str
    first: list[str]  # the cells of the first row
    sample: list[str] | None  # the cells of the first data row, None without data
    names: list[str] | None  # the header's cells, None without a header
    n_columns: int
    first_line: int  # the line of the first row (the header when there is one)
    data_line: int  # the line of the first data row (0 when the file has no data)
    trailing: bool  # every row ends with an empty field (a trailing delimiter): dropped


#: Cells read as a missing value (compared case-insensitively after stripping blanks).
MISSING_VALUES = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
_NUMBER_LIKE = re.compile(r"[+-]?\.?[0-9]")  # "2x", "1,5" split: a mistyped number, not a name
_ASK = "pass header=True (--header) or header=False (--no-header)"


def _kind(cell: str) -> str:
    """``missing``, ``number``, ``junk`` (not a number but starts like one) or ``name``."""
    if is_missing(cell):
        return "missing"
    if is_number(cell):
        return "number"
    return "junk" if _NUMBER_LIKE.match(cell) else "name"


def _detect_header(
    first: list[str], second: list[str] | None, target: object, where: str
) -> bool:
    """Whether the first row is a header, or a :class:`DataError` when it cannot be told.

    A header's cells look like names: non-empty, not numbers, not missing-value markers. A
    row with a number is data, and an empty, missing or mistyped cell beside the numbers is
    an error in the data (reported on its line), never a reason to drop the row as a header.
    """
    if isinstance(target, str) and target in first:
        return True  # the column asked for by name is named on the first line
    kinds = [_kind(c) for c in first]
    numbers = "number" in kinds
    if not numbers and "missing" not in kinds:
        return True  # names only (a repeated name is refused by the caller)
    if numbers and ("missing" in kinds or "junk" in kinds):
        return False  # data with an error in it: the parser names the cell
    if not numbers:  # names beside empty or missing cells: a header with a hole, or bad data
        blank = next(c for c, k in zip(first, kinds, strict=True) if k == "missing")
        raise DataError(
            f"{where}: is this line a header? It holds no number, but a cell {blank!r} is no "
            f"column name either; {_ASK}"
        )
    # Numbers and names: the names are labels of a data row, unless a name sits above a
    # number of the next row (a feature column never holds a word): then it is unsure.
    if second is not None and any(
        k == "name" and _kind(b) == "number" for k, b in zip(kinds, second, strict=False)
    ):
        raise DataError(
            f"{where}: is this line a header? It mixes numbers and names "
            f"({', '.join(repr(c) for c in first[:6])}{', ...' if len(first) > 6 else ''}); "
            + _ASK
        )
    return False


def _refuse_repeated_names(names: list[str], where: str) -> None:
    seen: dict[str, int] = {}
    for j, name in enumerate(names):
        if name in seen:
            raise DataError(
                f"{where}: the header names column {name!r} twice (columns {seen[name] + 1} "
                f"and {j + 1}); every column needs its own name"
            )
        seen[name] = j


def layout(path: Path, header: bool | None, delimiter: str | None, target: object) -> Layout:
    """Sniff the delimiter (when None), find the header and the width from the first rows."""
    if delimiter is None:
        delimiter = sniff(path)
    with open_text(path) as handle:
        head = list(itertools.islice(rows_of(handle, delimiter, path), 2))
    if not head:
        raise DataError(f"{path}: the file is empty")
    first_line, first = head[0]
    second = head[1][1] if len(head) > 1 else None
    trailing = len(first) > 1 and first[-1] == "" and (second is None or second[-1:] == [""])
    width = len(first) - trailing
    first, second = first[:width], None if second is None else second[:width]
    where = f"{path}, line {first_line}"
    has_header = _detect_header(first, second, target, where) if header is None else header
    names = first if has_header else None
    if names is not None:
        _refuse_repeated_names(names, where)
    data_line = (head[1][0] if len(head) > 1 else 0) if has_header else first_line
    sample = second if has_header else first
    return Layout(delimiter, first, sample, names, width, first_line, data_line, trailing)
