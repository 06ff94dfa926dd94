"""Anomaly detection: find the op that first produces NaN or Inf, and writes behind numpy's back.

:class:`detect_anomaly` turns on a thread-local switch (``autograd._modes.anomaly``). While it
is on, the engine (:mod:`tensorgraph.autograd`) calls the hooks of this module:

- :func:`_anomaly_forward` after every op: it records the user's call site on the node and
  CRC-32 checksums of the arrays the node saved, and checks the output for NaN and Inf;
- :func:`check_seeds` before a backward pass, on the gradients that start it;
- :func:`_verify_checksums` before a node's VJP runs: the saved arrays must be unchanged
  (a write through numpy, ``.numpy()`` or a view bypasses the version counters);
- :func:`check_vjp` after a VJP: the gradients it returned must be finite.

Outside the block the engine does none of this work: one flag test per op. The module is
kept apart from the engine so that the engine reads in one sitting.
"""

from __future__ import annotations

import contextlib
import os
import sys
import zlib
from collections.abc import Sequence
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np

from . import autograd as _engine
from .errors import AnomalyError, InPlaceModificationError

if TYPE_CHECKING:
    from .autograd import Node
    from .ops._base import Op

__all__ = ["detect_anomaly"]  # the hooks are the engine's, not public API


class detect_anomaly(contextlib.ContextDecorator):
    """Find the op that first produces NaN or Inf, in the forward or the backward pass.

    Inside the block every op checks its output (and, in backward, the gradients its VJP
    returns) and raises :class:`~tensorgraph.errors.AnomalyError` naming the op, the shapes
    of its inputs and the file and line of the user's code that called it. Outside the block
    the engine does none of this work.
    """

    def __init__(self) -> None:
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        modes = _engine._modes
        self._previous.append(modes.anomaly)
        modes.anomaly = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _engine._modes.anomaly = self._previous.pop()


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_call_site() -> str:
    """Return ``file:line`` of the innermost stack frame outside the tensorgraph package."""
    # walking frames directly: traceback.extract_stack() would also read every source line
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIR):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


def _nonfinite(value: Any) -> str | None:
    """Return "NaN" or "Inf" when the array (or Tensor) holds one, else None."""
    data = getattr(value, "_data", value)
    if isinstance(data, np.ndarray) and data.dtype.kind in "fc" and not np.isfinite(data).all():
        return "NaN" if np.isnan(data).any() else "Inf"
    return None


def _check_finite(
    op: str, where: str, arrays: Sequence[Any], inputs: Sequence[Any], site: str
) -> None:
    for value in arrays:
        kind = _nonfinite(value)
        if kind is None:
            continue
        shapes = ", ".join(str(np.shape(getattr(a, "_data", a))) for a in inputs)
        bad = [i for i, a in enumerate(inputs) if _nonfinite(a) is not None]
        already = f"; input(s) {bad} were already non-finite" if bad else ""
        raise AnomalyError(
            f"{op}: {where} produced {kind} (input shapes {shapes}{already}); "
            f"the op was called at {site}"
        )


def _checksum(value: Any) -> int | None:
    """A CRC-32 of an array's bytes (None for non-arrays): detects writes through numpy."""
    data = getattr(value, "_data", value)
    if not isinstance(data, np.ndarray):
        return None
    return zlib.crc32(np.ascontiguousarray(data).tobytes())


def _anomaly_forward(op: type[Op], node: Node | None, arrays: Sequence[Any], out: Any) -> None:
    """After an op: remember the call site and checksums, and check the output."""
    site = _user_call_site()
    if node is not None:
        node.site = site
        assert node.args is not None
        node.checksums = (tuple(_checksum(a) for a in node.args), _checksum(out))
    _check_finite(op.name, "the forward pass", [out], arrays, site)


def check_seeds(root_grads: Sequence[Any]) -> None:
    """Before a backward pass: the gradients that start it must be finite."""
    for g in root_grads:
        kind = _nonfinite(g)
        if kind is not None:
            raise AnomalyError(f"backward: the gradient that starts the pass holds {kind}")


def _verify_checksums(node: Node) -> None:
    """Before a VJP: refuse to run it on arrays changed since the forward."""
    assert node.args is not None and node.checksums is not None
    saved_args, saved_out = node.checksums
    for i, (a, saved) in enumerate(zip(node.args, saved_args)):
        if saved is not None and _checksum(a) != saved:
            what = f"argument {i} (shape {np.shape(getattr(a, '_data', a))})"
            break
    else:
        if _checksum(node.out) == saved_out:
            return
        what = f"its output (shape {getattr(node.out, 'shape', None)})"
    raise InPlaceModificationError(
        f"{node.op.name}: {what} was modified in place after it was saved for backward "
        f"(its contents changed although no tensorgraph in-place operation recorded it: a "
        f"write through numpy, .numpy(), .data[...] or a view); the op was called at "
        f"{node.site}"
    )


def check_vjp(node: Node, input_grads: Sequence[Any], inputs: Sequence[Any]) -> None:
    """After a VJP: the gradients it returned must be finite."""
    returned = [x for x in input_grads if x is not None]
    _check_finite(
        node.op.name, "the backward pass (its VJP)", returned, inputs,
        node.site or "<unknown: run the forward pass under detect_anomaly() too>",
    )
