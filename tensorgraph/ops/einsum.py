r"""Einstein summation, as ``numpy.einsum``, with a VJP that is itself an einsum.

The subscripts are parsed once into explicit labels: the ellipsis becomes fresh letters
(right-aligned, as numpy broadcasts it) and an implicit output becomes numpy's (the ellipsis
first, then every label used exactly once, in alphabetical order). The gradient of operand
:math:`k` contracts the upstream gradient with every other operand onto :math:`k`'s labels:

.. math:: \bar A_k[\sigma_k] = \sum_{\text{labels not in }\sigma_k}
          \bar Z[\sigma_{out}] \prod_{j \ne k} A_j[\sigma_j]

A label repeated in :math:`\sigma_k` (``ii->i``, the trace ``ii``) makes :math:`\bar A_k`
zero off that diagonal: its later occurrences are renamed and an identity matrix joins the
contraction. A label of :math:`\sigma_k` found nowhere else (summed away in the forward) is
broadcast back by a vector of ones. Both are operands of the same einsum, which therefore
runs on Tensors as well, so second derivatives come free.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ShapeError
from ._base import Domain, Op, register
from .elementwise import check_args

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["FUNCTIONS", "einsum", "parse_subscripts"]

LETTERS = string.ascii_letters


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _term(term: str, where: str, subscripts: str) -> tuple[str, str, bool]:
    """Split one term into the labels before and after its ellipsis."""
    if term.count("...") > 1 or term.replace("...", "").count("."):
        raise ShapeError(f"einsum: {where} of {subscripts!r} has a '.' that is not part of "
                         f"one ellipsis ('...')")
    for c in term.replace("...", ""):
        if c not in LETTERS:
            raise ShapeError(f"einsum: invalid subscript {c!r} in {subscripts!r}; "
                             f"subscripts are letters a-z, A-Z")
    if "..." in term:
        head, tail = term.split("...")
        return head, tail, True
    return term, "", False


def parse_subscripts(
    subscripts: str, shapes: Sequence[tuple[int, ...]]
) -> tuple[list[str], str, dict[str, int]]:
    """Explicit labels for every operand and the output, and the size of every label.

    The ellipsis is replaced by fresh letters (the last ones of the broadcast ellipsis for
    an operand with fewer ellipsis dimensions); a size-1 dimension broadcasts against a
    label's other sizes, as in numpy. Raises :class:`~tensorgraph.errors.ShapeError` naming
    the subscripts and the shapes for everything numpy would refuse.
    """
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a str, got {type(subscripts).__name__}")
    spec = subscripts.replace(" ", "")
    shown = f"{subscripts!r} with operand shapes {list(map(tuple, shapes))}"
    if spec.count("->") > 1:
        raise ShapeError(f"einsum: more than one '->' in {subscripts!r}")
    lhs, arrow, rhs = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ShapeError(f"einsum: {len(terms)} operand term(s) for {len(shapes)} operand(s) "
                         f"in {shown}")
    if "-" in lhs or ">" in lhs or "-" in rhs or ">" in rhs:
        raise ShapeError(f"einsum: a '-' or '>' that is not part of '->' in {subscripts!r}")
    parts = [_term(t, f"operand {k}", subscripts) for k, t in enumerate(terms)]
    used = set(lhs.replace(".", "").replace(",", ""))
    ranks = []
    for k, ((head, tail, ellipsis), shape) in enumerate(zip(parts, shapes)):
        named = len(head) + len(tail)
        if named > len(shape) or (not ellipsis and named != len(shape)):
            raise ShapeError(f"einsum: operand {k} has {len(shape)} dimension(s) but "
                             f"{terms[k]!r} names {named}: {shown}")
        ranks.append(len(shape) - named if ellipsis else 0)
    fresh = [c for c in LETTERS if c not in used]
    rank = max(ranks, default=0)
    if rank > len(fresh):
        raise ShapeError(f"einsum: too many dimensions for numpy's 52 labels in {shown}")
    dots = "".join(fresh[:rank])
    labels = [head + dots[rank - r:] + tail for (head, tail, _), r in zip(parts, ranks)]
    sizes: dict[str, int] = {}
    for k, (term, shape) in enumerate(zip(labels, shapes)):
        for c, n in zip(term, shape):
            seen = sizes.get(c)
            if seen is None or seen == 1:
                sizes[c] = n
            elif n not in (1, seen):
                what = "ellipsis dimensions" if c in dots else f"label {c!r}"
                raise ShapeError(f"einsum: {what} of size {seen} and {n} (operand {k}) do "
                                 f"not match or broadcast: {shown}")
        for c in set(term):  # a label repeated in one operand takes its diagonal
            own = {n for d, n in zip(term, shape) if d == c}
            if len(own) > 1 and c not in dots:
                raise ShapeError(f"einsum: label {c!r} repeated in operand {k} has sizes "
                                 f"{sorted(own)}; a diagonal needs equal sizes: {shown}")
    if arrow:
        head, tail, ellipsis = _term(rhs, "the output", subscripts)
        if rank and not ellipsis:
            raise ShapeError(f"einsum: the operands have ellipsis dimensions but the output "
                             f"{rhs!r} has no '...': {shown}")
        out = head + dots + tail
        for c in head + tail:
            if (head + tail).count(c) > 1:
                raise ShapeError(f"einsum: output label {c!r} appears more than once: {shown}")
            if c not in used:
                raise ShapeError(f"einsum: output label {c!r} is in no operand: {shown}")
    else:
        counts = "".join(head + tail for head, tail, _ in parts)
        out = dots + "".join(sorted(c for c in set(counts) if counts.count(c) == 1))
    return labels, out, sizes


def _spec(terms: Sequence[str], out: str) -> str:
    return ",".join(terms) + "->" + out


def _einsum_reference(*operands: Any, subscripts: str, optimize: Any = False) -> Any:
    return np.einsum(subscripts, *operands, optimize=optimize)


#: The subscripts the registry draws from (each with its operand count).
SPECS = (
    "ij,jk->ik", "ij,jk", "ii->i", "ii", "iij->ij", "ij->ji", "ij->", "i,i->", "i,j->ij",
    "...ij,...jk->...ik", "bij,bjk->bik", "ij,jk,kl->il", "i...->...", "ijk->kji",
    "ii...->i...", "ij,ij->ij", "i,i,i->i", "ji", "ab,b->a", "i->", "i...j->j...i",
    "ij,i->", "...", "a...,...a",
)  # fmt: skip


def _draw_shapes(draw_int: Any) -> list[tuple[int, ...]]:
    spec = SPECS[draw_int(0, len(SPECS) - 1)]
    lhs = spec.split("->")[0]
    sizes = {c: draw_int(1, 4) for c in sorted(set(lhs) - {".", ","})}
    base = tuple(draw_int(1, 4) for _ in range(draw_int(0, 2)))
    shapes = []
    for term in lhs.split(","):
        head, _, tail = term.partition("...")
        dots: tuple[int, ...] = ()
        if "..." in term:
            kept = base[draw_int(0, len(base)):]
            dots = tuple(1 if draw_int(0, 2) == 0 else n for n in kept)
        shapes.append((*(sizes[c] for c in head), *dots, *(sizes[c] for c in tail)))
    return shapes


def _fitting_specs(shapes: Sequence[tuple[int, ...]]) -> list[dict[str, Any]]:
    found = []
    for spec in SPECS:
        try:
            parse_subscripts(spec, shapes)
        except ShapeError:
            continue
        found.append({"subscripts": spec})
    return found



@register
class Einsum(Op):
    r"""Einstein summation over any number of operands, as ``numpy.einsum``.

    .. math:: Z[\sigma_{out}] = \sum_{\text{labels not in } \sigma_{out}}
              \prod_k A_k[\sigma_k],\qquad
              \bar A_k[\sigma_k] = \sum \bar Z[\sigma_{out}] \prod_{j \ne k} A_j[\sigma_j]

    with identities for labels repeated in :math:`\sigma_k` and ones for labels only
    :math:`\sigma_k` holds (see the module docstring). ``subscripts`` is numpy's string
    (explicit ``->`` or implicit output, repeated labels, ``...``); ``optimize`` is passed to
    numpy and changes only the order of the contraction.

    >>> import tensorgraph as tg
    >>> a = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> tg.einsum("ii", a).backward()
    >>> a.grad
    tensor([[1., 0.],
            [0., 1.]], dtype=float32)
    """

    name = "einsum"
    domain = Domain(nargs=3, shapes=_draw_shapes, params=_fitting_specs)
    reference = staticmethod(_einsum_reference)
    array_params = frozenset()

    @staticmethod
    def forward(*operands: Any, subscripts: str, optimize: Any = False) -> Any:
        out = np.einsum(subscripts, *operands, optimize=optimize)
        # numpy returns a view of the operand for pure transpositions and diagonals; a
        # copy keeps the result independent of the input, like every other contraction
        if isinstance(out, np.ndarray) and out.base is not None:
            out = out.copy()
        return out

    @classmethod
    def vjp(cls, grad: Any, out: Any, inputs: Sequence[Any], needs: Sequence[bool],
            params: dict[str, Any], ctx: Any) -> list[Any]:
        labels, out_labels, sizes = parse_subscripts(params["subscripts"],
                                                     [_shape(a) for a in inputs])
        optimize = params.get("optimize", False)
        dtype = grad.dtype
        grads: list[Any] = []
        for k, need in enumerate(needs):
            if not need:
                grads.append(None)
                continue
            free = [c for c in LETTERS if c not in sizes]
            terms, operands = [out_labels], [grad]
            for j, a in enumerate(inputs):
                if j != k:
                    # a size-1 dimension that broadcast in the forward is summed alone (a
                    # fresh label): it must not set the size of that label's gradient
                    terms.append("".join(
                        free.pop() if n == 1 and sizes[c] != 1 else c
                        for c, n in zip(labels[j], _shape(a))))
                    operands.append(a)
            target = ""
            for c in labels[k]:
                if c in target:  # a repeated label: only its diagonal receives gradient
                    renamed = free.pop()
                    terms.append(c + renamed)
                    operands.append(np.eye(sizes[c], dtype=dtype))
                    target += renamed
                else:
                    target += c
            present = set("".join(terms))
            for c in dict.fromkeys(labels[k]):
                if c not in present:  # summed away by this operand alone: broadcast back
                    terms.append(c)
                    operands.append(np.ones(_shape(inputs[k])[labels[k].index(c)],
                                            dtype=dtype))
            grads.append(np.einsum(_spec(terms, target), *operands, optimize=optimize))
        return grads


def einsum(subscripts: str, *operands: Any, optimize: Any = False) -> Tensor:
    """Einstein summation of ``operands`` as ``numpy.einsum(subscripts, *operands)``; see
    :class:`Einsum`. ``optimize`` is numpy's (contraction order only)."""
    check_args("einsum", *operands)
    parse_subscripts(subscripts, [_shape(a) for a in operands])
    return Einsum.apply(*operands, subscripts=subscripts, optimize=optimize)


def _sublist(labels: Any, k: int) -> str:
    term = ""
    for s in labels:
        if s is Ellipsis:
            term += "..."
        elif isinstance(s, (int, np.integer)) and 0 <= s < len(LETTERS):
            term += LETTERS[s]
        else:
            raise ShapeError(f"einsum: sublist {k} holds {s!r}; labels are ints in [0, 52) or "
                             f"Ellipsis")
    return term


def _np_einsum(*operands: Any, out: Any = None, dtype: Any = None, order: str = "K",
               casting: str = "safe", optimize: Any = False) -> Tensor:
    if out is not None or dtype is not None or order != "K" or casting != "safe":
        raise TypeError("numpy.einsum: out, dtype, order and casting are not supported on "
                        "Tensors; use tensorgraph's einsum (or call numpy on "
                        "tensor.detach().numpy())")
    if operands and isinstance(operands[0], str):
        return einsum(operands[0], *operands[1:], optimize=optimize)
    # numpy's sublist form: einsum(a, [0, 1], b, [1, 2], [0, 2])
    pairs = len(operands) // 2
    arrays = list(operands[0 : 2 * pairs : 2])
    spec = ",".join(_sublist(s, k) for k, s in enumerate(operands[1 : 2 * pairs : 2]))
    if len(operands) % 2:  # a last sublist names the output
        spec += "->" + _sublist(operands[-1], pairs)
    return einsum(spec, *arrays, optimize=optimize)


FUNCTIONS = {np.einsum: _np_einsum}
