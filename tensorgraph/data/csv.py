"""Reading a user's own CSV file: numeric features and a label column mapped to classes.

Nothing is guessed silently and nothing is dropped: a malformed file raises
:class:`~tensorgraph.errors.DataError` naming the file, the line and the column.
"""

from __future__ import annotations

import csv as _csv
import gzip
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import numpy as np
from numpy.typing import DTypeLike

from ..dtypes import get_default_dtype
from ..errors import DataError
from .datasets import Bunch

__all__ = ["MISSING_VALUES", "inspect_csv", "load_csv"]

#: Cells read as a missing value (compared case-insensitively after stripping blanks).
MISSING_VALUES = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})

Row = tuple[int, list[str]]  # (line number, stripped cells)


def _open(path: Path) -> IO[str]:
    # utf-8-sig drops a byte-order mark; newline="" lets the csv module handle CRLF and
    # quoted line breaks itself.
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _read_rows(path: Path, delimiter: str) -> list[Row]:
    rows: list[Row] = []
    try:
        with _open(path) as handle:
            reader = _csv.reader(handle, delimiter=delimiter, strict=True)
            for cells in reader:
                rows.append((reader.line_num, [cell.strip() for cell in cells]))
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (gzip.BadGzipFile, EOFError) as exc:
        raise DataError(f"{path}: not a readable gzip file ({exc})") from None
    except _csv.Error as exc:
        raise DataError(f"{path}: malformed CSV: {exc}") from None
    # Blank lines at the very end are harmless; blank lines inside the data are reported.
    while rows and not rows[-1][1]:
        rows.pop()
    for line, cells in rows:
        if not cells:
            raise DataError(f"{path}, line {line}: empty line inside the data")
    if not rows:
        raise DataError(f"{path}: the file is empty")
    return rows


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _looks_like_header(rows: list[Row]) -> bool:
    # A header has a non-numeric cell above a numeric one: a label column may hold words,
    # but a feature column never does.
    if len(rows) < 2:
        return not any(_is_number(c) for c in rows[0][1])
    first, second = rows[0][1], rows[1][1]
    return any(not _is_number(a) and _is_number(b) for a, b in zip(first, second, strict=False))


def _column(j: int, names: Sequence[str] | None) -> str:
    return f"column {j + 1}" + (f" ('{names[j]}')" if names is not None else "")


def _resolve_target(target: int | str, names: list[str] | None, n_columns: int, path: Path) -> int:
    if isinstance(target, str):
        if names is None:
            raise DataError(
                f"{path}: target column '{target}' is given by name, but the file has no "
                f"header line; give its index (0 .. {n_columns - 1}) instead"
            )
        matches = [j for j, name in enumerate(names) if name == target]
        if not matches:
            raise DataError(
                f"{path}: no column named '{target}'; the columns are: {', '.join(names)}"
            )
        if len(matches) > 1:
            raise DataError(
                f"{path}: the header names {len(matches)} columns '{target}' "
                f"(columns {', '.join(str(j + 1) for j in matches)}); rename them"
            )
        return matches[0]
    if isinstance(target, bool) or not isinstance(target, int | np.integer):
        raise TypeError(f"load_csv: target must be a column name or index, got {target!r}")
    if not -n_columns <= target < n_columns:
        raise DataError(
            f"{path}: target column index {target} is out of range for {n_columns} columns"
        )
    return int(target) % n_columns


def _parse_features(
    rows: list[Row], columns: list[int], names: list[str] | None, path: Path
) -> np.ndarray:
    values = np.empty((len(rows), len(columns)), dtype=np.float64)
    for i, (line, cells) in enumerate(rows):
        for k, j in enumerate(columns):
            cell = cells[j]
            if cell.lower() in MISSING_VALUES:
                raise DataError(
                    f"{path}, line {line}, {_column(j, names)}: missing value ({cell!r})"
                )
            try:
                value = float(cell)
            except ValueError:
                raise DataError(
                    f"{path}, line {line}, {_column(j, names)}: {cell!r} is not a number"
                ) from None
            if not math.isfinite(value):
                raise DataError(
                    f"{path}, line {line}, {_column(j, names)}: {cell!r} is not a finite number"
                )
            values[i, k] = value
    return values


def _parse_labels(
    rows: list[Row], j: int, names: list[str] | None, path: Path
) -> tuple[np.ndarray, tuple[str, ...]]:
    cells = [cells[j] for _, cells in rows]
    for (line, _), cell in zip(rows, cells, strict=True):
        if cell.lower() in MISSING_VALUES:
            raise DataError(f"{path}, line {line}, {_column(j, names)}: missing label ({cell!r})")
    if all(_is_number(c) for c in cells):
        # Numeric labels: classes in numeric order, named by their integer value.
        numbers = [float(c) for c in cells]
        for (line, _), cell, number in zip(rows, cells, numbers, strict=True):
            if not math.isfinite(number) or number != round(number):
                raise DataError(
                    f"{path}, line {line}, {_column(j, names)}: label {cell!r} is not an "
                    "integer; load_csv reads classification data (class labels)"
                )
        keys: list[str] = [str(int(n)) for n in numbers]
        classes = sorted(set(keys), key=int)
    else:
        keys = cells
        classes = sorted(set(keys))
    if len(classes) < 2:
        raise DataError(
            f"{path}, {_column(j, names)}: the label column holds a single class "
            f"({classes[0]!r}); classification needs at least two"
        )
    index = {name: k for k, name in enumerate(classes)}
    return np.array([index[key] for key in keys], dtype=np.int64), tuple(classes)


def load_csv(
    path: str | os.PathLike[str],
    target: int | str | None = -1,
    *,
    header: bool | None = None,
    delimiter: str = ",",
    dtype: DTypeLike | None = None,
    parse_target: bool = True,
) -> Bunch:
    """Read a classification data set from a CSV file (optionally gzip-compressed).

    Every column except the target must hold numbers. The target column holds class labels,
    words or integers, mapped to class indices ``0 .. n_classes - 1`` in sorted order
    (numeric order for integer labels); ``target_names`` keeps the original labels.

    Parameters
    ----------
    path : path-like
        A ``.csv`` file, or ``.csv.gz``. UTF-8, with or without a byte-order mark; LF or CRLF
        line ends.
    target : int, str or None
        The label column: an index (0-based, negative counts from the end; default the last
        column) or a header name. ``None`` reads every column as a feature (``target`` of the
        result is then None), for data to predict on.
    header : bool, optional
        Whether the first line holds column names. By default it is detected: the first line
        is a header when one of its cells is not a number while the cell below it is.
    delimiter : str
        The field separator.
    dtype : float dtype, optional
        The dtype of the features; the default float dtype when omitted.
    parse_target : bool
        False leaves the target column out unread (``target`` of the result is None): for
        a file of samples to predict that still carries its label column.

    Returns
    -------
    Bunch
        ``data`` (n_samples, n_features), ``target`` (n_samples,) int64, ``feature_names``,
        ``target_names``, ``name`` (the file name) and ``target_column``.

    Raises
    ------
    DataError
        For a ragged row, a non-numeric or missing feature, a missing label, an unknown target
        column, a single class, an empty file; the message names the file, the line and the
        column (1-based, as a text editor or a spreadsheet shows them).
    FileNotFoundError
        When the file does not exist.
    """
    path = Path(path)
    rows = _read_rows(path, delimiter)
    first_line, first = rows[0]
    n_columns = len(first)
    for line, cells in rows[1:]:
        if len(cells) != n_columns:
            raise DataError(
                f"{path}, line {line}: {len(cells)} fields, but line {first_line} has "
                f"{n_columns}; every row needs the same number of columns"
            )
    has_header = _looks_like_header(rows) if header is None else header
    names: list[str] | None = None
    if has_header:
        names = first
        rows = rows[1:]
        if not rows:
            raise DataError(f"{path}: the file has a header line but no data")
    j = None if target is None else _resolve_target(target, names, n_columns, path)
    columns = [k for k in range(n_columns) if k != j]
    if not columns:
        raise DataError(f"{path}: the file has only the target column, no features")
    features = _parse_features(rows, columns, names, path)
    labels: np.ndarray | None = None
    classes: tuple[str, ...] = ()
    if j is not None and parse_target:
        labels, classes = _parse_labels(rows, j, names, path)
    feature_names = tuple(names[k] if names else f"x{k}" for k in columns)
    return Bunch(
        data=features.astype(dtype or get_default_dtype()),
        target=labels,
        feature_names=feature_names,
        target_names=classes,
        name=path.name,
        target_column=None if j is None else (names[j] if names else f"column {j + 1}"),
    )


def inspect_csv(
    path: str | os.PathLike[str], *, header: bool | None = None, delimiter: str = ","
) -> tuple[int, list[str] | None]:
    """The number of columns of a CSV file and its header names (None without a header),
    with the same checks and header detection as :func:`load_csv`."""
    source = Path(path)
    rows = _read_rows(source, delimiter)
    has_header = _looks_like_header(rows) if header is None else header
    return len(rows[0][1]), (rows[0][1] if has_header else None)
