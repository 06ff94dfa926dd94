"""The careful reader of :func:`~tensorgraph.data.load_csv`: the ``csv`` module row by row,
each problem reported with the file, the line, the column and the value.

It streams: rows are converted a block at a time, so that memory holds the features read so
far, one block of text and one small integer per label, never the whole file as strings.
"""

from __future__ import annotations

from array import array
from pathlib import Path

import numpy as np

from ..errors import DataError
from ._csv_parse import LabelError, column_name, label_classes, parse_features
from ._csv_text import Layout, Row, delimiter_hint, open_text, rows_of

__all__ = ["read"]

_BLOCK = 4096  # rows converted at a time


def _check_row(path: Path, lay: Layout, line: int, cells: list[str]) -> list[str]:
    width = lay.n_columns + lay.trailing
    if len(cells) != width:
        raise DataError(
            f"{path}, line {line}: {len(cells)} fields, but line {lay.first_line} has "
            f"{width}; every row needs the same number of columns"
            + delimiter_hint(cells, lay.delimiter)
        )
    if lay.trailing and cells[-1]:
        raise DataError(
            f"{path}, line {line}: {cells[-1]!r} after the last column (line "
            f"{lay.first_line} ends with a delimiter)"
        )
    return cells[: lay.n_columns]


def read(
    path: Path, lay: Layout, columns: list[int], target: int | None, dtype: np.dtype
) -> tuple[np.ndarray, tuple[np.ndarray, tuple[str, ...]] | None]:
    """Features (``columns`` as ``dtype``) and, when ``target`` is given, the class indices
    and class names of the target column; a :class:`DataError` for the first problem."""
    blocks: list[np.ndarray] = []
    block: list[Row] = []
    ids = array("q")  # per row: the index of its raw label in `seen`
    seen: dict[str, int] = {}
    lines: list[int] = []  # the first line of each distinct raw label
    with open_text(path) as handle:
        rows = rows_of(handle, lay.delimiter, path)
        if lay.names is not None:
            _check_row(path, lay, *next(rows))  # the header
        for line, cells in rows:
            cells = _check_row(path, lay, line, cells)
            block.append((line, cells))
            if target is not None:
                label = cells[target]
                if label not in seen:
                    seen[label] = len(seen)
                    lines.append(line)
                ids.append(seen[label])
            if len(block) == _BLOCK:
                blocks.append(parse_features(block, columns, lay.names, path, dtype, lay.delimiter))
                block = []
    if block or not blocks:
        blocks.append(parse_features(block, columns, lay.names, path, dtype, lay.delimiter))
    features = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    if len(features) == 0:
        raise DataError(f"{path}: the file has a header line but no data")
    if target is None:
        return features, None
    distinct = list(seen)
    try:
        index, classes = label_classes(distinct)
    except LabelError as exc:
        line = lines[seen[exc.value]]
        where = column_name(target, lay.names)
        raise DataError(f"{path}, line {line}, {where}: {exc.reason}") from None
    lookup = np.array([index[value] for value in distinct], dtype=np.int64)
    return features, (lookup[np.frombuffer(ids, dtype=np.int64)], classes)
