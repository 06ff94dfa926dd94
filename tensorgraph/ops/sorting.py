r"""Sorting: ``sort`` (an op whose VJP routes each gradient through the sorting permutation)
and ``argsort`` (indices, no gradient).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..broadcast import single_axis
from ..errors import DomainError
from ._base import Domain, Op, register
from .shape import _along, _shape, flatten

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["argsort", "sort"]


_KINDS = (None, "quicksort", "mergesort", "heapsort", "stable")


def _stable_argsort(x: Any, axis: int) -> np.ndarray:
    """The permutation a stable sort applies along ``axis`` (ties keep their order)."""
    data = np.asarray(getattr(x, "_data", x))
    # numpy's default sort is several times faster than its stable one, and gives the same
    # permutation when nothing ties; a tie (NaNs count as tied) takes the stable path
    perm: np.ndarray = np.argsort(data, axis=axis)
    ordered = np.take_along_axis(data, perm, axis)
    n = data.shape[axis]
    head, tail = ordered[_along(axis, slice(0, n - 1))], ordered[_along(axis, slice(1, n))]
    if ((head == tail) | (np.isnan(head) & np.isnan(tail))).any():
        perm = np.argsort(data, axis=axis, kind="stable")
    return perm


def _sort_params(shapes: Any) -> list[dict[str, Any]]:
    ndim = len(shapes[0])
    return [{"axis": a} for a in range(ndim)]


@register
class Sort(Op):
    r"""Sort along ``axis``: a permutation :math:`\pi` of each slice, with
    :math:`z_j = x_{\pi(j)}` and :math:`\bar x_{\pi(j)} = \bar z_j`.

    The permutation is a stable sort's: tied values keep their order, so the first of a
    tie goes to the first of the tied output places and receives that place's gradient.

    >>> import tensorgraph as tg
    >>> tg.sort(tg.tensor([3.0, 1.0, 2.0]))
    tensor([1., 2., 3.], dtype=float32)
    """

    name = "sort"
    array_params = frozenset()
    domain = Domain(distinct=True, min_rank=1, params=_sort_params, edges=(0.0,))

    @staticmethod
    def forward(x: Any, axis: int = -1) -> Any:
        return np.sort(x, axis=axis)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: int = -1) -> Any:
        # the permutation is recomputed here, not saved by the forward: a forward that no
        # gradient follows then costs numpy's sort alone
        perm = _stable_argsort(x, axis)
        inverse = np.empty_like(perm)
        np.put_along_axis(inverse, perm, np.arange(perm.shape[axis]).reshape(
            (-1,) + (1,) * (perm.ndim - axis - 1)), axis)
        return np.take_along_axis(grad, inverse, axis)


def _check_kind(name: str, kind: Any, order: Any, stable: Any) -> None:
    if order is not None:
        raise TypeError(f"{name}: order={order!r} (structured arrays) is not supported on "
                        f"Tensors")
    if kind is not None and stable is not None:
        raise ValueError(f"{name}: `kind` and `stable` parameters can't be provided at the "
                         f"same time")
    if kind not in _KINDS:
        raise DomainError(f"{name}: kind must be one of {_KINDS[1:]}, got {kind!r}")


def sort(a: Any, axis: int | None = -1, kind: str | None = None, order: Any = None, *,
         stable: bool | None = None) -> Tensor:
    """Return a sorted copy of ``a`` along ``axis`` (flattened for ``axis=None``), as
    ``numpy.sort``; see :class:`Sort`.

    The sort is always stable, whatever ``kind`` says: every numpy kind gives the same
    values, and a stable order of ties is one that any kind may give. Ties route each
    gradient by that stable permutation (PyTorch's ``sort(stable=True)`` does the same).

    Parameters
    ----------
    a : Tensor or array_like
        The values to sort.
    axis : int or None
        The axis to sort along (the last by default; the flattened input for None).
    kind : {None, 'quicksort', 'mergesort', 'heapsort', 'stable'}
        Accepted for numpy's sake; the sort is stable whatever it says.
    order : None
        Structured arrays are not supported.
    stable : bool, optional
        As numpy's; not together with ``kind``.

    >>> import tensorgraph as tg
    >>> tg.sort(tg.tensor([[3.0, 1.0], [0.0, 2.0]]), axis=None)
    tensor([0., 1., 2., 3.], dtype=float32)
    """
    _check_kind("sort", kind, order, stable)
    if axis is None:
        a, ax = flatten(a), 0
    else:
        ax = single_axis(axis, len(_shape(a)), "sort")
    return Sort.apply(a, axis=ax)


def argsort(a: Any, axis: int | None = -1, kind: str | None = None, order: Any = None, *,
            stable: bool | None = None) -> Tensor:
    """The indices that sort ``a`` along ``axis``, as ``numpy.argsort``: an integer tensor
    that carries no gradient. Stable whatever ``kind`` says (see :func:`sort`).

    >>> import tensorgraph as tg
    >>> tg.argsort(tg.tensor([3.0, 1.0, 3.0, 2.0]))
    tensor([1, 3, 0, 2], dtype=int64)
    """
    from ..autograd import _new_tensor

    _check_kind("argsort", kind, order, stable)
    data = np.asarray(getattr(a, "_data", a))
    if axis is None:
        data, ax = data.reshape(-1), 0
    else:
        ax = single_axis(axis, data.ndim, "argsort")
    return _new_tensor(np.argsort(data, axis=ax, kind="stable"), False, None)


FUNCTIONS: dict[Any, Any] = {np.sort: sort, np.argsort: argsort}
