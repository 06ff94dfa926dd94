"""The text layer of :func:`~tensorgraph.data.load_csv`: opening, sniffing the delimiter,
finding the header and reading rows with the standard ``csv`` module (the careful reader
whose messages name the file and the line).
"""

from __future__ import annotations

import csv as _csv
import gzip
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import DataError

__all__ = [
    "DELIMITERS",
    "Layout",
    "Row",
    "delimiter_hint",
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


def delimiter_hint(cells: list[str], delimiter: str) -> str:
    """A note for an error message when ``cells`` look split with another delimiter."""
    text = "".join(cells)
    for other in DELIMITERS:
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


def _detect_header(first: list[str], second: list[str] | None, target: object) -> bool:
    if isinstance(target, str) and target in first:
        return True  # the column asked for by name is named on the first line
    if second is None:
        return not any(is_number(c) for c in first)
    # A header has a non-numeric cell above a numeric one: a label column may hold words,
    # but a feature column never does. A first row of numbers only is data.
    return any(not is_number(a) and is_number(b) for a, b in zip(first, second, strict=False))


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
    has_header = _detect_header(first, second, target) if header is None else header
    names = first if has_header else None
    data_line = (head[1][0] if len(head) > 1 else 0) if has_header else first_line
    sample = second if has_header else first
    return Layout(delimiter, first, sample, names, width, first_line, data_line, trailing)
