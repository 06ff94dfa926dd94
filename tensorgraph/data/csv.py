"""Reading a user's own CSV file: numeric features and a label column mapped to classes.

Nothing is guessed silently and nothing is dropped: a malformed file raises
:class:`~tensorgraph.errors.DataError` naming the file, the line and the column. A clean file
is read by numpy's C parser (:mod:`._csv_fast`); any other goes through the careful reader
(:mod:`._csv_text`, :mod:`._csv_parse`), which gives the same arrays or says what is wrong.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

from ..dtypes import get_default_dtype
from ..errors import DataError, DTypeError
from . import _csv_careful, _csv_fast
from ._csv_parse import MISSING_VALUES, column_name
from ._csv_text import DELIMITERS, Layout, delimiter_hint, is_number, layout
from .datasets import Bunch

__all__ = ["MISSING_VALUES", "inspect_csv", "load_csv"]


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


def _check_options(delimiter: str | None, dtype: DTypeLike | None) -> np.dtype:
    if delimiter is not None and (
        not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n'
    ):
        raise DataError(
            f"load_csv: delimiter must be one character other than a quote or a line break "
            f"(or None to sniff it among {', '.join(map(repr, DELIMITERS))}), got {delimiter!r}"
        )
    resolved = np.dtype(get_default_dtype() if dtype is None else dtype)
    if not (np.issubdtype(resolved, np.floating) or np.issubdtype(resolved, np.integer)):
        raise DTypeError(f"load_csv: dtype must be a floating or an integer dtype, got {resolved}")
    return resolved


def _refuse_ambiguous_header(
    path: Path, header: bool | None, lay: Layout, target: np.ndarray, classes: tuple[str, ...]
) -> None:
    # A first line of numbers above word labels ("1990,1991,label") types like a data row.
    # When its label is a class of its own while every other class has several rows, the
    # line is more likely a header: refuse to guess rather than train on a class "label".
    if header is not None or lay.names is not None or all(is_number(c) for c in lay.first):
        return
    counts = np.bincount(target, minlength=len(classes))
    first = int(target[0])
    if counts[first] > 1 or np.delete(counts, first).min() < 2:
        return
    raise DataError(
        f"{path}, line {lay.first_line}: is this line a header? Its label {classes[first]!r} "
        "appears on no other line; pass header=True (--header) or header=False (--no-header)"
    )


def load_csv(
    path: str | os.PathLike[str],
    target: int | str | None = -1,
    *,
    header: bool | None = None,
    delimiter: str | None = None,
    dtype: DTypeLike | None = None,
    parse_target: bool = True,
) -> Bunch:
    """Read a classification data set from a CSV file (optionally gzip-compressed).

    Every column except the target must hold finite numbers. The target column holds class
    labels, words or integers, mapped to class indices ``0 .. n_classes - 1`` in sorted order
    (numeric order for integer labels); ``target_names`` keeps the original labels.

    Parameters
    ----------
    path : path-like
        A ``.csv`` file, or ``.csv.gz``. UTF-8, with or without a byte-order mark; LF or CRLF
        line ends; fields may be quoted with ``"``. Empty and blank lines are skipped; a
        delimiter at the end of every line (the header's included) is ignored.
    target : int, str or None
        The label column: an index (0-based, negative counts from the end; default the last
        column) or a header name. ``None`` reads every column as a feature (``target`` of the
        result is then None), for data to predict on.
    header : bool, optional
        Whether the first line holds column names. ``None`` (default) detects it: the first
        line is a header when ``target`` is one of its cells, or when its cells look like
        names (none a number or a missing marker). A line with a number is data (a header of
        numbers needs ``header=True``), and an empty, missing or mistyped cell in it is an
        error on line 1, never a reason to drop it. A line that cannot be told from data
        (names beside empty cells, a name above a number of the next line beside numbers,
        or numbers above a word label of a class of its own) is refused: pass ``header``.
        A header naming a column twice is refused.
    delimiter : str, optional
        The field separator; ``None`` (default) sniffs it among comma, semicolon and tab from
        the first lines (the one that splits every line into the same number of fields, with
        the most numbers).
    dtype : float or integer dtype, optional
        The dtype of the features; the default float dtype when omitted. A value beyond the
        dtype's range (``1e39`` for float32) is an error, never ``inf``; an integer dtype
        refuses values that are not integers (``1.7``).
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
        For a ragged row, a non-numeric, missing (``''``, ``NA``, ``nan``, ...), infinite or
        out-of-range feature, a missing or fractional numeric label, an unknown target
        column, a single class, an empty file; the message names the file, the line and the
        column (1-based, as a text editor or a spreadsheet shows them) and the delimiter when
        the file seems to use another one.
    DTypeError
        For a dtype that is neither floating nor integer.
    FileNotFoundError
        When the file does not exist.
    """
    path = Path(path)
    resolved = _check_options(delimiter, dtype)
    lay = layout(path, header, delimiter, target)
    if lay.names is not None and lay.data_line == 0:
        raise DataError(f"{path}: the file has a header line but no data")
    j = None if target is None else _resolve_target(target, lay.names, lay.n_columns, path)
    columns = [k for k in range(lay.n_columns) if k != j]
    if not columns:
        raise DataError(
            f"{path}: the file has only the target column, no features"
            + delimiter_hint(lay.first, lay.delimiter)
        )
    wanted = j if parse_target else None
    try:
        features, labels = _csv_fast.read(path, lay, columns, wanted, resolved)
    except _csv_fast.Declined:
        features, labels = _csv_careful.read(path, lay, columns, wanted, resolved)
    target_array: np.ndarray | None = None
    classes: tuple[str, ...] = ()
    if labels is not None:
        target_array, classes = labels
        if len(classes) < 2:
            raise DataError(
                f"{path}, {column_name(j or 0, lay.names)}: the label column holds a single "
                f"class ({classes[0]!r}); classification needs at least two"
            )
        _refuse_ambiguous_header(path, header, lay, target_array, classes)
    names = lay.names
    return Bunch(
        data=features,
        target=target_array,
        feature_names=tuple(names[k] if names else f"x{k}" for k in columns),
        target_names=classes,
        name=path.name,
        target_column=None if j is None else (names[j] if names else f"column {j + 1}"),
    )


def inspect_csv(
    path: str | os.PathLike[str], *, header: bool | None = None, delimiter: str | None = None
) -> tuple[int, list[str] | None]:
    """The number of columns of a CSV file and its header names (None without a header),
    with the same delimiter sniffing and header detection as :func:`load_csv`."""
    _check_options(delimiter, None)
    lay = layout(Path(path), header, delimiter, None)
    return lay.n_columns, lay.names


def first_row(path: str | os.PathLike[str], *, delimiter: str | None = None) -> list[str]:
    """The cells of the first non-blank line of a CSV file, header or data, as read (with
    the same delimiter sniffing as :func:`load_csv`; a trailing delimiter dropped)."""
    _check_options(delimiter, None)
    return layout(Path(path), False, delimiter, None).first
