r"""The ``numpy.linalg`` family: ``det``, ``slogdet``, ``inv``, ``solve``, ``cholesky``, ``eigh``.

Every function takes stacks of matrices in its last two axes, as numpy does, and raises
numpy's own ``LinAlgError`` (with the function and the shape added) where numpy does: a
singular matrix for ``inv`` and ``solve``, a matrix that is not positive definite for
``cholesky``. ``cholesky`` and ``eigh`` read one triangle of their input, as LAPACK does; their
gradients are the exact derivatives of that function (the other triangle gets zero, the
off-diagonal entries of the triangle read count twice), which agree with PyTorch's symmetric
gradient :math:`\bar G` on every symmetric perturbation (see :class:`Eigh`).

The registry draws 1x1 and 2x2 matrices (with distinct entries, kept away from 0) for the
ops that need an invertible or positive-definite input: its value draws cannot promise a
well-conditioned n-by-n matrix. ``tests/ops/test_numpy_linalg.py`` checks larger,
well-conditioned and batched matrices at both orders against PyTorch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..errors import ShapeError
from ._base import Domain, Op, register
from .elementwise import check_args

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["FUNCTIONS", "EighResult", "SlogdetResult", "cholesky", "det", "eigh", "eigvalsh",
           "inv", "slogdet", "solve"]

LinAlgError = np.linalg.LinAlgError


class SlogdetResult(NamedTuple):
    """``sign`` (a constant Tensor: it has no gradient) and ``logabsdet``, as numpy's."""

    sign: Any
    logabsdet: Any


class EighResult(NamedTuple):
    """``eigenvalues`` (ascending) and ``eigenvectors`` (columns), as numpy's."""

    eigenvalues: Any
    eigenvectors: Any


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _mT(x: Any) -> Any:
    return np.swapaxes(x, -1, -2)


def _square(name: str, a: Any) -> tuple[int, ...]:
    check_args(name, a)
    shape = _shape(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise LinAlgError(f"{name}: needs square matrices in the last two axes, got shape "
                          f"{shape}")
    return shape


def _run(name: str, op: type[Op], shape: tuple[int, ...], *args: Any, **params: Any) -> Tensor:
    try:
        return op.apply(*args, **params)
    except LinAlgError as err:
        raise LinAlgError(f"{name}: {err} (input of shape {shape})") from None


def _one_triangle(g: Any, lower: bool) -> Any:
    r"""The gradient of a function of the symmetric matrix that one triangle of its input
    defines, from that function's gradient ``g`` (any :math:`\bar G` correct on symmetric
    perturbations): :math:`\operatorname{tril}(\bar G + \bar G^\top, -1) + \bar G \circ I`."""
    n = _shape(g)[-1]
    both = g + _mT(g)
    strict = np.tril(both, -1) if lower else np.triu(both, 1)
    return strict + g * np.eye(n, dtype=g.dtype)


# --------------------------------------------------------------------------- domains
def _matrices(largest: int) -> Any:
    def draw(draw_int: Any) -> list[tuple[int, ...]]:
        n = draw_int(1, 4)
        n = min(n, draw_int(1, largest)) if n else 0  # an empty draw keeps its 0
        batch = tuple(draw_int(1, 3) for _ in range(draw_int(0, 1)))
        return [(*batch, n, n)]

    return draw


def _solve_shapes(draw_int: Any) -> list[tuple[int, ...]]:
    (a,) = _matrices(2)(draw_int)
    n = a[-1]
    if draw_int(0, 1):
        return [a, (n,)]
    batch = a[:-2] if draw_int(0, 1) else ()
    return [a, (*batch, n, draw_int(1, 4))]


_INVERTIBLE = Domain(shapes=_matrices(2), distinct=True, avoid=(0.0,), margin=0.5)


# --------------------------------------------------------------------------- det, slogdet
def _cofactors(a: np.ndarray) -> np.ndarray:
    r"""The cofactor matrix :math:`\det(A) A^{-\top}`, valid for singular matrices too:
    with :math:`A = U \Sigma V^\top` it is :math:`\det(U)\det(V)\, U
    \operatorname{diag}(\prod_{j \ne i} \sigma_j) V^\top`."""
    u, s, vt = np.linalg.svd(a)
    n = s.shape[-1]
    others = np.stack([np.prod(np.delete(s, i, axis=-1), axis=-1) for i in range(n)], -1)
    sign = np.linalg.det(u) * np.linalg.det(vt)
    return np.asarray(sign[..., None, None] * (u * others[..., None, :]) @ vt)


@register
class Det(Op):
    r"""Determinant of (a stack of) square matrices, as ``numpy.linalg.det``.

    .. math:: z = \det A,\qquad \bar A = \bar z\, z\, A^{-\top}

    At a singular matrix, where :math:`A^{-1}` does not exist, the first derivative is the
    cofactor matrix (computed from the SVD); second derivatives there raise numpy's
    ``LinAlgError`` (they go through :func:`inv`).

    >>> import tensorgraph as tg
    >>> a = tg.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
    >>> tg.det(a).backward()
    >>> a.grad
    tensor([[ 3., -1.],
            [-1.,  2.]], dtype=float32)
    """

    name = "det"
    domain = _INVERTIBLE
    array_params = frozenset()
    forward = staticmethod(np.linalg.det)
    reference = staticmethod(np.linalg.det)

    @staticmethod
    def vjp_0(grad: Any, out: Any, a: Any) -> Any:
        if isinstance(a, np.ndarray):
            try:
                cof = out[..., None, None] * _mT(np.linalg.inv(a))
            except LinAlgError:
                cof = _cofactors(a)
            return grad[..., None, None] * cof
        return (grad * out)[..., None, None] * _mT(np.linalg.inv(a))


def _slogdet_forward(a: Any) -> Any:
    sign, logabsdet = np.linalg.slogdet(a)
    return np.stack([sign, logabsdet], axis=-1)


@register
class Slogdet(Op):
    r"""Sign and log of the absolute determinant, packed as ``[..., (sign, logabsdet)]``;
    :func:`slogdet` unpacks them as numpy does (the sign carries no gradient).

    .. math:: z = \log\lvert\det A\rvert,\qquad \bar A = \bar z\, A^{-\top}

    >>> import tensorgraph as tg
    >>> tg.slogdet(tg.tensor([[-2.0, 0.0], [0.0, 1.0]]))
    SlogdetResult(sign=tensor(-1., dtype=float32), logabsdet=tensor(0.6931472, dtype=float32))
    """

    name = "slogdet"
    domain = _INVERTIBLE
    array_params = frozenset()
    forward = staticmethod(_slogdet_forward)
    reference = staticmethod(_slogdet_forward)

    @staticmethod
    def vjp_0(grad: Any, out: Any, a: Any) -> Any:
        try:
            inverse = np.linalg.inv(a)
        except LinAlgError:
            # numpy's bare "Singular matrix" would name neither the op nor the shape
            raise LinAlgError(f"slogdet: the gradient of log|det A| is A^-T, which does not "
                              f"exist for a singular A (shape {tuple(a.shape)}, log|det A| = "
                              f"-inf)") from None
        return grad[..., 1, None, None] * _mT(inverse)


# --------------------------------------------------------------------------- inv, solve
@register
class Inv(Op):
    r"""Inverse of (a stack of) square matrices, as ``numpy.linalg.inv``.

    .. math:: Z = A^{-1},\qquad \bar A = -Z^\top \bar Z Z^\top

    >>> import tensorgraph as tg
    >>> tg.inv(tg.tensor([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.5 , 0.  ],
            [0.  , 0.25]], dtype=float32)
    """

    name = "inv"
    domain = _INVERTIBLE
    array_params = frozenset()
    forward = staticmethod(np.linalg.inv)
    reference = staticmethod(np.linalg.inv)

    @staticmethod
    def vjp_0(grad: Any, out: Any, a: Any) -> Any:
        zt = _mT(out)
        return -(zt @ grad @ zt)


@register
class Solve(Op):
    r"""Solution of :math:`A x = b`, as ``numpy.linalg.solve``: ``b`` is a vector when it
    is 1-D, otherwise a stack of matrices ``(..., M, K)``; batch axes broadcast.

    .. math:: \bar b = A^{-\top} \bar x,\qquad \bar A = -\bar b\, x^\top

    >>> import tensorgraph as tg
    >>> tg.solve(tg.tensor([[2.0, 0.0], [0.0, 4.0]]), tg.tensor([1.0, 1.0]))
    tensor([0.5 , 0.25], dtype=float32)
    """

    name = "solve"
    domain = Domain(nargs=2, shapes=_solve_shapes, distinct=True, avoid=(0.0,), margin=0.5)
    array_params = frozenset()
    forward = staticmethod(np.linalg.solve)
    reference = staticmethod(np.linalg.solve)

    @classmethod
    def vjp(cls, grad: Any, out: Any, inputs: Sequence[Any], needs: Sequence[bool],
            params: dict[str, Any], ctx: Any) -> list[Any]:
        a, b = inputs
        if _shape(b) and len(_shape(b)) == 1:  # numpy 2: a 1-D b is one vector
            gb = np.linalg.solve(_mT(a), grad[..., None])[..., 0]
            ga = -(gb[..., :, None] * out[..., None, :])
        else:
            gb = np.linalg.solve(_mT(a), grad)
            ga = -(gb @ _mT(out))
        return [ga if needs[0] else None, gb if needs[1] else None]


# --------------------------------------------------------------------------- cholesky
def _cholesky_forward(a: Any, upper: bool = False) -> Any:
    return np.linalg.cholesky(a, upper=upper)


@register
class Cholesky(Op):
    r"""Cholesky factor of (a stack of) symmetric positive-definite matrices, as
    ``numpy.linalg.cholesky``: :math:`A = L L^\top` (``upper=True``: :math:`U = L^\top`).
    Only the lower (upper) triangle of :math:`A` is read.

    .. math:: \Phi = \operatorname{tril}(L^\top \bar L) - \tfrac12 \operatorname{diag},
              \quad S = L^{-\top} \Phi L^{-1},\quad \bar G = \tfrac12 (S + S^\top)

    :math:`\bar G` is PyTorch's (symmetric) gradient; the gradient of the function numpy
    computes, which reads one triangle, is :math:`\operatorname{tril}(\bar G + \bar G^\top,
    -1) + \bar G \circ I` (``triu`` for ``upper``). Not positive definite: numpy's
    ``LinAlgError``.

    >>> import tensorgraph as tg
    >>> tg.cholesky(tg.tensor([[4.0, 2.0], [2.0, 5.0]]))
    tensor([[2., 0.],
            [1., 2.]], dtype=float32)
    """

    name = "cholesky"
    domain = Domain(shapes=_matrices(1), low=0.5, high=3.0,
                    params=lambda shapes: [{"upper": False}, {"upper": True}])
    array_params = frozenset()
    forward = staticmethod(_cholesky_forward)
    reference = staticmethod(_cholesky_forward)

    @staticmethod
    def vjp_0(grad: Any, out: Any, a: Any, upper: bool = False) -> Any:
        low, g = (_mT(out), _mT(grad)) if upper else (out, grad)
        n = _shape(low)[-1]
        phi = _mT(low) @ g
        phi = np.tril(phi) - 0.5 * phi * np.eye(n, dtype=phi.dtype)
        inv_low = np.linalg.inv(low)
        s = _mT(inv_low) @ phi @ inv_low
        return _one_triangle(0.5 * (s + _mT(s)), lower=not upper)


# --------------------------------------------------------------------------- eigh
def _eigh_forward(a: Any, UPLO: str = "L") -> Any:
    w, v = np.linalg.eigh(a, UPLO=UPLO)  # type: ignore[call-overload]
    return np.concatenate([w[..., None, :], v], axis=-2)


@register
class Eigh(Op):
    r"""Eigenvalues (ascending) and eigenvectors of (a stack of) symmetric matrices, as
    ``numpy.linalg.eigh``, packed as ``[..., 0, :] = w`` and ``[..., 1:, :] = V``;
    :func:`eigh` unpacks them. Only the ``UPLO`` triangle of :math:`A` is read.

    .. math:: \bar G = V \big(\operatorname{diag}(\bar w) + F \circ (V^\top \bar V)\big)
              V^\top,\qquad F_{ij} = \frac{1}{w_j - w_i}\ (i \ne j),\quad F_{ii} = 0

    :math:`\bar G` is correct on symmetric perturbations (PyTorch returns it, symmetrised);
    the gradient of the function numpy computes, which reads one triangle, is
    :math:`\operatorname{tril}(\bar G + \bar G^\top, -1) + \bar G \circ I` (``triu`` for
    ``UPLO="U"``). Both give the same gradient to any parameter the symmetric matrix is
    built from.

    **Degenerate eigenvalues.** Eigenvectors of a repeated eigenvalue are not unique and
    have no derivative; close eigenvalues make :math:`F` (and the gradient) large. At an
    exact tie :math:`w_i = w_j` the term is set to 0 (PyTorch gives inf/nan there). That is
    the exact gradient when the loss reaches the tied eigenvectors only through their
    eigenspace (its projector :math:`V_S V_S^\top`) or not at all (functions of the
    eigenvalues alone). It is not for a matrix function :math:`V f(\Lambda) V^\top` built
    from the pieces, whose derivative at a tie holds :math:`f'(w)`, a limit :math:`\bar V`
    alone cannot give: differentiate such functions away from ties (or write them with
    ops whose derivative is known there).

    >>> import tensorgraph as tg
    >>> w, v = tg.eigh(tg.tensor([[2.0, 0.0], [0.0, 1.0]]))
    >>> w
    tensor([1., 2.], dtype=float32)
    """

    name = "eigh"
    domain = Domain(shapes=_matrices(3), distinct=True, avoid=(0.0,), margin=0.3,
                    params=lambda shapes: [{"UPLO": "L"}, {"UPLO": "U"}])
    array_params = frozenset()
    forward = staticmethod(_eigh_forward)
    reference = staticmethod(_eigh_forward)

    @staticmethod
    def vjp_0(grad: Any, out: Any, a: Any, UPLO: str = "L") -> Any:
        w, v = out[..., 0, :], out[..., 1:, :]
        gw, gv = grad[..., 0, :], grad[..., 1:, :]
        n = _shape(w)[-1]
        gap = w[..., None, :] - w[..., :, None]  # gap[i, j] = w_j - w_i
        tie = np.asarray(getattr(gap, "_data", gap)) == 0  # the diagonal and exact ties
        f = np.where(tie, 0.0, 1.0 / np.where(tie, 1.0, gap))
        inner = gw[..., None, :] * np.eye(n, dtype=out.dtype) + f * (_mT(v) @ gv)
        return _one_triangle(v @ inner @ _mT(v), lower=UPLO == "L")


# --------------------------------------------------------------------------- functions
def det(a: Any) -> Tensor:
    """Determinant of the matrices in ``a``'s last two axes, as ``numpy.linalg.det``; see
    :class:`Det`."""
    return _run("det", Det, _square("det", a), a)


def slogdet(a: Any) -> SlogdetResult:
    """``(sign, logabsdet)`` of the determinants, as ``numpy.linalg.slogdet``; the sign is a
    constant Tensor; see :class:`Slogdet`."""
    packed = _run("slogdet", Slogdet, _square("slogdet", a), a)
    return SlogdetResult(packed[..., 0].detach(), packed[..., 1])


def inv(a: Any) -> Tensor:
    """Inverse of the matrices in ``a``'s last two axes, as ``numpy.linalg.inv``; a
    singular matrix raises numpy's ``LinAlgError``; see :class:`Inv`."""
    return _run("inv", Inv, _square("inv", a), a)


def solve(a: Any, b: Any) -> Tensor:
    """Solve ``a @ x = b``, as ``numpy.linalg.solve`` (a 1-D ``b`` is one vector, else
    ``(..., M, K)``); a singular ``a`` raises numpy's ``LinAlgError``; see :class:`Solve`."""
    shape = _square("solve", a)
    check_args("solve", b)
    sb = _shape(b)
    m = shape[-1]
    if not sb or (len(sb) == 1 and sb[0] != m) or (len(sb) > 1 and sb[-2] != m):
        raise ShapeError(f"solve: b of shape {sb} does not fit a of shape {shape}: b must be "
                         f"({m},) or (..., {m}, K)")
    if len(sb) > 1:
        try:
            np.broadcast_shapes(shape[:-2], sb[:-2])
        except ValueError:
            raise ShapeError(f"solve: batch dimensions of a {shape} and b {sb} do not "
                             f"broadcast") from None
    return _run("solve", Solve, shape, a, b)


def cholesky(a: Any, /, *, upper: bool = False) -> Tensor:
    """Cholesky factor (lower, or upper with ``upper=True``) of symmetric positive-definite
    matrices, as ``numpy.linalg.cholesky``; see :class:`Cholesky`."""
    return _run("cholesky", Cholesky, _square("cholesky", a), a, upper=bool(upper))


def eigh(a: Any, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices, as
    ``numpy.linalg.eigh``, reading the ``UPLO`` triangle; see :class:`Eigh` (and its note on
    repeated eigenvalues)."""
    if not isinstance(UPLO, str) or UPLO.upper() not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    UPLO = UPLO.upper()
    packed = _run("eigh", Eigh, _square("eigh", a), a, UPLO=UPLO)
    return EighResult(packed[..., 0, :], packed[..., 1:, :])


def eigvalsh(a: Any, UPLO: str = "L") -> Tensor:
    """Eigenvalues of symmetric matrices, as ``numpy.linalg.eigvalsh``: :func:`eigh`'s."""
    values: Tensor = eigh(a, UPLO).eigenvalues
    return values


FUNCTIONS = {
    np.linalg.det: det, np.linalg.slogdet: slogdet, np.linalg.inv: inv,
    np.linalg.solve: solve, np.linalg.cholesky: cholesky, np.linalg.eigh: eigh,
    np.linalg.eigvalsh: eigvalsh,
}  # fmt: skip
