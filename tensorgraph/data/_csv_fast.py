"""The fast path of :func:`~tensorgraph.data.load_csv`: numpy's C parser (``np.loadtxt``)
reads a clean file in one pass into a structured array (one field per column, so a row with
the wrong number of fields is caught); any doubt hands the file back to the careful reader.

The fast path never decides an error: when numpy refuses a cell, finds ``nan`` or ``inf``,
or a label is missing or not an integer, it declines (:class:`Declined`) and the careful
reader, which knows lines and columns, reads the file again and says what is wrong.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from numpy.lib.recfunctions import structured_to_unstructured

from ._csv_parse import _INTEGER, LabelError, label_classes
from ._csv_text import Layout

__all__ = ["Declined", "Labels", "read"]

Labels = tuple[np.ndarray, tuple[str, ...]]
_WIDTH = 64  # characters of a text label field


class Declined(Exception):
    """The file is not one the fast path reads exactly; the careful reader takes over."""


def _text_field(layout: Layout, column: int, integers: bool) -> np.dtype:
    # Integer labels parse as int64 (exact, no Python objects); any other column the fast
    # path does not convert is read as fixed-width text, wide enough that a value filling the
    # width is a sign of truncation (checked by _check_text).
    cell = "" if layout.sample is None or column >= len(layout.sample) else layout.sample[column]
    if integers and _INTEGER.fullmatch(cell) and len(cell) < 18:
        return np.dtype(np.int64)
    return np.dtype(f"U{min(max(8, 2 * len(cell)), _WIDTH)}")


def _check_text(raw: np.ndarray) -> None:
    if raw.dtype.kind != "U":
        return
    if np.any(np.char.str_len(raw) >= raw.dtype.itemsize // 4):
        raise Declined  # a value as wide as the field may have been cut
    if np.any(np.char.find(raw, '"') >= 0):
        raise Declined  # quoting: the csv module's rules, not numpy's, decide


def _labels(raw: np.ndarray) -> Labels:
    distinct, inverse = np.unique(raw, return_inverse=True)
    keys = [str(v).strip() for v in distinct.tolist()]
    try:
        index, classes = label_classes(list(dict.fromkeys(keys)))
    except LabelError:
        raise Declined from None
    lookup = np.array([index[k] for k in keys], dtype=np.int64)
    return lookup[inverse.reshape(-1)], classes


def read(
    path: Path,
    layout: Layout,
    columns: list[int],
    target: int | None,
    dtype: np.dtype,
) -> tuple[np.ndarray, Labels | None]:
    """Features (``columns`` as ``dtype``) and, when ``target`` is given, the class indices
    and class names of the target column; raises :class:`Declined` when unsure."""
    if layout.data_line == 0:
        raise Declined
    width = layout.n_columns + layout.trailing
    wanted = set(columns)
    fields = [
        (f"c{c}", dtype if c in wanted else _text_field(layout, c, c == target))
        for c in range(width)
    ]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a deprecated conversion is a doubt, not a value
            table = np.loadtxt(
                path,
                dtype=np.dtype(fields),
                delimiter=layout.delimiter,
                comments=None,
                quotechar=None,  # quoted fields go to the careful reader (csv module rules)
                skiprows=layout.data_line - 1,
                encoding="utf-8-sig",
                ndmin=1,
            )
    except Exception:  # whatever numpy refuses, the careful reader explains
        raise Declined from None
    if layout.trailing and np.any(table[f"c{width - 1}"] != ""):
        raise Declined  # a value after a trailing delimiter: not a trailing delimiter
    for c in range(layout.n_columns):
        if c not in wanted:
            _check_text(table[f"c{c}"])
    features = structured_to_unstructured(table[[f"c{c}" for c in columns]], dtype=dtype)
    if np.issubdtype(dtype, np.inexact) and not np.isfinite(features).all():
        raise Declined  # nan, inf, or a number beyond the dtype's range
    labels = None if target is None else _labels(table[f"c{target}"])
    return np.ascontiguousarray(features), labels
