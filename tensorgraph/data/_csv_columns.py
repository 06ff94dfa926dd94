"""Matching the columns of a file to predict on with the features a model was trained on."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from ..errors import DataError

__all__ = ["made_up_names", "match_columns"]

_MADE_UP = re.compile(r"x[0-9]+")


def made_up_names(names: Sequence[str]) -> bool:
    """Whether ``names`` are the ``x0, x1, ...`` that :func:`load_csv` gives the features of a
    file without a header (so no names at all)."""
    return bool(names) and all(_MADE_UP.fullmatch(name) for name in names)


def _listing(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def match_columns(
    where: str, file_names: Sequence[str], features: Sequence[str], label: str | None
) -> list[int]:
    """The position in ``file_names`` of each of the model's ``features``, in the model's
    order; the ``label`` column may be present and is skipped. Raises :class:`DataError`
    (one line, naming the missing, extra or repeated columns) when they cannot be matched.
    """
    counts = Counter(file_names)
    repeated = [n for n in features if counts[n] > 1]
    missing = [n for n in features if counts[n] == 0]
    wanted = set(features)
    extra = [n for n in file_names if n not in wanted and n != label]
    problems = []
    if missing:
        problems.append(f"missing {_listing(missing)}")
    if extra:
        problems.append(f"not used by the model {_listing(extra)}")
    if repeated:
        problems.append(f"named twice {_listing(repeated)}")
    if problems:
        raise DataError(
            f"{where}: the columns do not match the model's {len(features)} features: "
            + "; ".join(problems)
            + " (columns are matched by their header names; the model takes "
            + _listing(list(features), limit=5)
            + (f", and may carry its label column {label!r})" if label else ")")
        )
    position = {name: j for j, name in enumerate(file_names)}
    return [position[name] for name in features]
