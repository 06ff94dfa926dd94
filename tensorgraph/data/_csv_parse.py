"""The careful converter of :func:`~tensorgraph.data.load_csv`: cell by cell, with a message
naming the file, the line, the column and the value for the first cell that does not fit.

The rules (documented in ``docs/training.md``):

* a feature is a finite number; a missing marker (:data:`MISSING_VALUES`, ``nan`` among
  them) is a missing value, ``inf``/``infinity`` is not finite: both are refused;
* a number beyond the range of the requested dtype (``1e39`` for float32) is refused, never
  turned into ``inf``; numbers inside the range round to the nearest representable value;
* an integer dtype takes integral values only (``2``, ``2.0``, ``2e3``), inside its range;
* labels that are all numbers must be integers and are compared exactly (as Python ints,
  so distinct labels above 2**53 stay distinct); otherwise every label is a word.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from ..errors import DataError
from ._csv_text import MISSING_VALUES, Row, delimiter_hint, is_missing, is_number

__all__ = ["MISSING_VALUES", "LabelError", "column_name", "label_classes", "parse_features"]


_INFINITE = re.compile(r"[+-]?inf(inity)?", re.IGNORECASE)
_INTEGER = re.compile(r"[+-]?[0-9]+")


def column_name(j: int, names: Sequence[str] | None) -> str:
    """``column 3 ('age')``: 1-based, as a spreadsheet shows it."""
    return f"column {j + 1}" + (f" ({names[j]!r})" if names is not None else "")


def _exact_integer(cell: str) -> int | None:
    """The integer ``cell`` denotes exactly (``7``, ``7.0``, ``7e3``), None when it is not
    an integer; ``cell`` is a finite number."""
    if _INTEGER.fullmatch(cell):
        return int(cell)
    try:
        value = Decimal(cell)
    except InvalidOperation:  # pragma: no cover - cell was checked to be a number
        return None
    if not value.is_finite() or value != value.to_integral_value():
        return None
    return int(value)


def _feature_error(path: Path, line: int, j: int, names: Sequence[str] | None, text: str) -> str:
    return f"{path}, line {line}, {column_name(j, names)}: {text}"


def _check_cell(cell: str, where: tuple[Path, int, int, Sequence[str] | None], delim: str) -> None:
    path, line, j, names = where
    if is_missing(cell):
        text = " (not a number)" if cell.lower().endswith("nan") else ""
        raise DataError(_feature_error(path, line, j, names, f"missing value ({cell!r}){text}"))
    if _INFINITE.fullmatch(cell):
        raise DataError(
            _feature_error(
                path, line, j, names, f"{cell!r} is not a finite number (load_csv refuses inf)"
            )
        )
    if not is_number(cell):
        raise DataError(
            _feature_error(path, line, j, names, f"{cell!r} is not a number")
            + delimiter_hint([cell], delim)
        )


def parse_features(
    rows: list[Row],
    columns: list[int],
    names: Sequence[str] | None,
    path: Path,
    dtype: np.dtype,
    delimiter: str,
) -> np.ndarray:
    """The feature cells of ``rows`` as a ``(len(rows), len(columns))`` array of ``dtype``."""
    integral = np.issubdtype(dtype, np.integer)
    out = np.empty((len(rows), len(columns)), dtype=dtype if integral else np.float64)
    lo, hi = (int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)) if integral else (0, 0)
    for i, (line, cells) in enumerate(rows):
        for k, j in enumerate(columns):
            cell = cells[j]
            where = (path, line, j, names)
            _check_cell(cell, where, delimiter)
            if integral:
                number = _exact_integer(cell)
                if number is None:
                    raise DataError(
                        _feature_error(path, line, j, names, f"{cell!r} is not an integer")
                        + f"; dtype {dtype} takes integral values only"
                    )
                if not lo <= number <= hi:
                    raise DataError(
                        _feature_error(path, line, j, names, f"{cell!r} overflows {dtype}")
                        + f" (range {lo} .. {hi})"
                    )
                out[i, k] = number
                continue
            value = float(cell)
            if not math.isfinite(value):  # a finite literal beyond float64's range
                raise DataError(
                    _feature_error(path, line, j, names, f"{cell!r} overflows float64")
                    + f" (largest finite {np.finfo(np.float64).max:.6g})"
                )
            out[i, k] = value
    if integral:
        return out
    with np.errstate(over="ignore"):
        cast = out.astype(dtype)
    overflow = np.isinf(cast)
    if overflow.any():
        i, k = (int(v) for v in np.argwhere(overflow)[0])  # row-major: the first in the file
        line, cells = rows[i]
        j = columns[k]
        raise DataError(
            _feature_error(path, line, j, names, f"{cells[j]!r} overflows {dtype}")
            + f" (largest finite {np.finfo(dtype).max:.8g}); pass dtype=np.float64 to keep it"
        )
    return cast


class LabelError(ValueError):
    """A label value that is not a class label (the caller adds file, line and column)."""

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(reason)
        self.value, self.reason = value, reason


def label_classes(values: Sequence[str]) -> tuple[dict[str, int], tuple[str, ...]]:
    """Classes of the distinct (stripped) label ``values``: ``value -> class index`` and the
    class names. Numbers only: integers in numeric order, named by their exact value;
    otherwise words in sorted order. Raises :class:`LabelError` for a missing or a
    non-integral label."""
    for value in values:
        if is_missing(value):
            raise LabelError(value, f"missing label ({value!r})")
    if values and all(is_number(v) and not _INFINITE.fullmatch(v) for v in values):
        keys: dict[str, int] = {}
        for value in values:
            number = _exact_integer(value)
            if number is None:
                raise LabelError(
                    value,
                    f"label {value!r} is not an integer; load_csv reads classification data "
                    "(class labels)",
                )
            keys[value] = number
        ordered = sorted(set(keys.values()))
        rank = {number: k for k, number in enumerate(ordered)}
        return {v: rank[n] for v, n in keys.items()}, tuple(str(n) for n in ordered)
    words = sorted(set(values))
    position = {word: k for k, word in enumerate(words)}
    return {v: position[v] for v in values}, tuple(words)
