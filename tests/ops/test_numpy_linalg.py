"""numpy's linear algebra on tensors: values equal numpy's, gradients PyTorch's (float64).

Every case is a plain numpy call on Tensors (``np.dot(t, w)``, ``np.linalg.det(t)``). First
and second derivatives are compared with torch when it is importable (CI installs it), and
always with central differences too, so nothing here skips. ``cholesky`` and ``eigh`` read
one triangle of their input: PyTorch's gradient is the symmetric one, ours the exact
derivative of numpy's function; both are compared through a symmetric parametrisation, and
their relation is pinned on a leaf. The documented conventions (the 2-norm at the origin,
inf-norm ties, det at a singular matrix, eigh at an exact eigenvalue tie) and the errors
(singular, non-square, not positive definite, bad shapes and subscripts) are pinned by value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.errors import ShapeError
from tensorgraph.testing import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # pragma: no cover - CI installs torch
    torch = None

RNG = np.random.default_rng(7)
LinAlgError = np.linalg.LinAlgError


def _normal(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def _well_conditioned(*shape: int) -> np.ndarray:
    """Matrices with singular values in [1, 3] (a random orthogonal times a diagonal)."""
    n = shape[-1]
    q, _ = np.linalg.qr(RNG.standard_normal(shape))
    return np.asarray(q * RNG.uniform(1.0, 3.0, (*shape[:-2], 1, n)) @ np.swapaxes(q, -1, -2)
                      + 0.3 * RNG.standard_normal(shape))


def _spd(*shape: int) -> np.ndarray:
    x = RNG.standard_normal(shape)
    return np.asarray(x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1]))


def _tg_derivatives(f: Callable[..., Any], arrays: list[np.ndarray], upstream: np.ndarray,
                    direction: np.ndarray) -> list[np.ndarray]:
    """tensorgraph's gradients of ``<upstream, f(x)>`` and of ``<direction, grad_0>``."""
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    first = tg.gradients((f(*xs) * upstream).sum(), xs, create_graph=True)
    if not first[0].requires_grad:  # linear in x alone: a constant gradient
        return [g.numpy() for g in first] + [np.zeros_like(a) for a in arrays]
    second = tg.gradients((first[0] * direction).sum(), xs, allow_unused=True)
    return ([g.detach().numpy() for g in first] +
            [np.zeros_like(a) if g is None else g.detach().numpy()
             for g, a in zip(second, arrays)])


def _torch_derivatives(f: Callable[..., Any], arrays: list[np.ndarray], upstream: np.ndarray,
                       direction: np.ndarray) -> list[np.ndarray]:
    assert torch is not None
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    first = torch.autograd.grad((f(*xs) * torch.tensor(upstream)).sum(), xs, create_graph=True)
    if not first[0].requires_grad:
        return [g.detach().numpy() for g in first] + [np.zeros_like(a) for a in arrays]
    second = torch.autograd.grad((first[0] * torch.tensor(direction)).sum(), xs,
                                 allow_unused=True)
    # force: torch hands out a lazy ZeroTensor for a second derivative that is 0
    return ([g.detach().numpy(force=True) for g in first] +
            [np.zeros_like(a) if g is None else g.detach().numpy(force=True)
             for g, a in zip(second, arrays)])


def _check(f: Callable[..., Any], torch_f: Callable[..., Any] | None,
           *arrays: np.ndarray, rtol: float = 1e-9) -> None:
    """Values against numpy (f on arrays), derivatives against torch and finite differences."""
    out = f(*[tg.tensor(a, requires_grad=True) for a in arrays])
    assert isinstance(out, tg.Tensor) and out.requires_grad
    expected = np.asarray(f(*arrays))
    assert out.shape == expected.shape and out.dtype == expected.dtype
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    if torch is not None and torch_f is not None:
        upstream, direction = _normal(*out.shape), _normal(*arrays[0].shape)
        ours = _tg_derivatives(f, list(arrays), upstream, direction)
        theirs = _torch_derivatives(torch_f, list(arrays), upstream, direction)
        for i, (a, b) in enumerate(zip(ours, theirs)):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-10, err_msg=f"derivative {i}")
    assert gradcheck(f, *arrays)
    assert gradgradcheck(f, *arrays)


# --------------------------------------------------------------------------- products
def _t(name: str) -> Callable[..., Any] | None:
    """A torch function by dotted name, or None without torch."""
    if torch is None:  # pragma: no cover - CI installs torch
        return None
    obj: Any = torch
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj  # type: ignore[no-any-return]


Case = tuple[str, Callable[..., Any], Callable[..., Any] | None, tuple[tuple[int, ...], ...]]
PRODUCTS: list[Case] = [
    ("dot 1-D 1-D", np.dot, _t("dot"), ((4,), (4,))),
    ("dot 2-D 2-D", np.dot, _t("mm"), ((2, 3), (3, 4))),
    ("dot 2-D 1-D", np.dot, _t("mv"), ((2, 3), (3,))),
    ("dot 1-D 3-D", np.dot, lambda a, b: torch.matmul(a, b), ((3,), (2, 3, 4))),
    ("dot 3-D 3-D", np.dot, lambda a, b: torch.tensordot(a, b, ([2], [1])), ((2, 2, 3), (4, 3, 2))),
    ("dot 0-d 2-D", np.dot, lambda a, b: a * b, ((), (2, 3))),
    ("vdot", np.vdot, lambda a, b: torch.dot(a.flatten(), b.flatten()), ((2, 3), (6,))),
    ("inner 1-D", np.inner, _t("inner"), ((3,), (3,))),
    ("inner 2-D 3-D", np.inner, _t("inner"), ((2, 3), (2, 4, 3))),
    ("outer", np.outer, lambda a, b: torch.outer(a.flatten(), b.flatten()), ((2, 2), (3,))),
    ("tensordot int", np.tensordot, lambda a, b: torch.tensordot(a, b, 2), ((2, 3, 4), (3, 4, 2))),
    ("tensordot 0", lambda a, b: np.tensordot(a, b, 0), lambda a, b: torch.tensordot(a, b, 0),
     ((2,), (3,))),
    ("tensordot pairs", lambda a, b: np.tensordot(a, b, ([1, 0], [0, 2])),
     lambda a, b: torch.tensordot(a, b, ([1, 0], [0, 2])), ((3, 2, 4), (2, 5, 3))),
    ("tensordot ints", lambda a, b: np.tensordot(a, b, (0, 1)),
     lambda a, b: torch.tensordot(a, b, ([0], [1])), ((3, 2), (4, 3))),
    ("kron 2-D", np.kron, _t("kron"), ((2, 3), (4, 2))),
    ("kron 1-D 2-D", np.kron, _t("kron"), ((2,), (2, 3))),
]  # fmt: skip


@pytest.mark.parametrize("case", PRODUCTS, ids=[c[0] for c in PRODUCTS])
def test_products_match_numpy_and_torch(case: Any) -> None:
    _, f, torch_f, shapes = case
    _check(f, torch_f, *[_normal(*s) for s in shapes])


# --------------------------------------------------------------------------- einsum
EINSUMS: list[tuple[str, tuple[tuple[int, ...], ...]]] = [
    ("ij,jk->ik", ((2, 3), (3, 4))),
    ("ij,jk", ((2, 3), (3, 4))),             # implicit output
    ("ba,ac", ((2, 3), (3, 4))),             # implicit output, alphabetical: 'bc'
    ("ii->i", ((3, 3),)),                    # diagonal extraction
    ("ii", ((3, 3),)),                       # trace
    ("iij->ji", ((2, 2, 3),)),
    ("ij->", ((2, 3),)),
    ("i,j->ij", ((2,), (3,))),
    ("...ij,...jk->...ik", ((2, 1, 2, 3), (4, 3, 2))),  # broadcast ellipsis
    ("i...->...", ((2, 3, 4),)),
    ("bi,bj,bk->ijk", ((2, 3), (2, 2), (2, 4))),          # three operands
    ("ij,ij,ij->i", ((2, 3), (2, 3), (2, 3))),
    ("i...j,j->...i", ((2, 3, 4), (4,))),
]


@pytest.mark.parametrize(("spec", "shapes"), EINSUMS, ids=[e[0] for e in EINSUMS])
def test_einsum_matches_numpy_and_torch(spec: str, shapes: Any) -> None:
    torch_f = None if torch is None else (lambda *xs: torch.einsum(spec, *xs))
    _check(lambda *xs: np.einsum(spec, *xs), torch_f, *[_normal(*s) for s in shapes])


def test_einsum_sublist_form_and_optimize_reach_the_op() -> None:
    a, b = _normal(2, 3), _normal(3, 4)
    t = tg.tensor(a, requires_grad=True)
    out = np.einsum(t, [0, 1], b, [1, 2], [0, 2])
    np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-12)
    assert out.op_name == "einsum"
    opt = np.einsum("ij,jk->ik", t, b, optimize=True)
    np.testing.assert_allclose(opt.numpy(), a @ b, rtol=1e-12)
    opt.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), np.ones((2, 4)) @ b.T, rtol=1e-12)


@pytest.mark.parametrize(("spec", "shapes", "message"), [
    ("ij,jk->ik", ((2, 3),), "1 operand"),
    ("ij,jk->ik", ((2, 3), (4, 5)), "label 'j'"),
    ("ij->i", ((2, 3, 4),), "names 2"),
    ("i1->i", ((2, 2),), "invalid subscript"),
    ("ij->ik", ((2, 3),), "'k' is in no operand"),
    ("ij->ii", ((2, 2),), "more than once"),
    ("ii->i", ((2, 3),), "label 'i' of size 2 and 3"),
    ("...i->i", ((2, 3),), "no '...'"),
    ("i.j->i", ((2, 3),), "ellipsis"),
    ("ij->i->j", ((2, 3),), "more than one '->'"),
])  # fmt: skip
def test_einsum_refuses_bad_subscripts_clearly(spec: str, shapes: Any, message: str) -> None:
    with pytest.raises(ShapeError, match="einsum") as info:
        np.einsum(spec, *[tg.tensor(_normal(*s)) for s in shapes])
    assert message in str(info.value)
    with pytest.raises(ValueError):  # numpy refuses the same calls
        np.einsum(spec, *[_normal(*s) for s in shapes])


# --------------------------------------------------------------------------- diagonals
DIAGONALS: list[tuple[str, Callable[..., Any], Callable[..., Any] | None, tuple[int, ...]]] = [
    ("trace", np.trace, _t("trace"), (3, 3)),
    ("trace offset", lambda a: np.trace(a, 1), lambda a: torch.diagonal(a, 1).sum(), (3, 4)),
    ("trace axes", lambda a: np.trace(a, -1, 2, 0),
     lambda a: torch.diagonal(a, -1, 2, 0).sum(-1), (3, 2, 4)),
    ("diag 1-D", np.diag, _t("diag"), (3,)),
    ("diag 1-D k", lambda a: np.diag(a, 2), lambda a: torch.diag(a, 2), (3,)),
    ("diag 1-D -k", lambda a: np.diag(a, -1), lambda a: torch.diag(a, -1), (3,)),
    ("diag 2-D", np.diag, _t("diag"), (3, 4)),
    ("diag 2-D k", lambda a: np.diag(a, -1), lambda a: torch.diag(a, -1), (4, 3)),
    ("diagonal", lambda a: np.diagonal(a, 1, 0, 2), lambda a: torch.diagonal(a, 1, 0, 2),
     (3, 2, 4)),
    ("linalg.diagonal", np.linalg.diagonal, lambda a: torch.diagonal(a, 0, -2, -1), (2, 3, 3)),
    ("tril", np.tril, _t("tril"), (2, 3, 4)),
    ("tril k", lambda a: np.tril(a, -1), lambda a: torch.tril(a, -1), (4, 3)),
    ("triu", np.triu, _t("triu"), (2, 3, 4)),
    ("triu k", lambda a: np.triu(a, 2), lambda a: torch.triu(a, 2), (3, 5)),
]  # fmt: skip


@pytest.mark.parametrize("case", DIAGONALS, ids=[c[0] for c in DIAGONALS])
def test_diagonals_and_triangles_match_numpy_and_torch(case: Any) -> None:
    _, f, torch_f, shape = case
    _check(f, torch_f, _normal(*shape))


def test_diagonal_functions_refuse_bad_input_clearly() -> None:
    with pytest.raises(ShapeError, match=r"diag: .*got shape \(2, 2, 2\)"):
        np.diag(tg.ones((2, 2, 2)))
    with pytest.raises(ShapeError, match="diagonal: axis1 and axis2 name the same axis"):
        np.diagonal(tg.ones((2, 2)), 0, 1, -1)
    with pytest.raises(ShapeError, match="at least 2 dimensions"):
        np.trace(tg.ones(3))
    with pytest.raises(TypeError, match="tril: k must be an int"):
        np.tril(tg.ones((2, 2)), 0.5)


# --------------------------------------------------------------------------- norms
NORMS: list[tuple[str, dict[str, Any], tuple[int, ...]]] = [
    ("default vector", {}, (5,)),
    ("default 3-D", {}, (2, 3, 4)),
    ("2 axis keepdims", {"ord": 2, "axis": 1, "keepdims": True}, (3, 4)),
    ("1", {"ord": 1, "axis": -1}, (3, 4)),
    ("inf", {"ord": np.inf}, (6,)),
    ("-inf", {"ord": -np.inf, "axis": 0}, (3, 4)),
    ("fro", {"ord": "fro"}, (3, 4)),
    ("fro axes", {"ord": "fro", "axis": (2, 0), "keepdims": True}, (3, 2, 4)),
    ("matrix 1", {"ord": 1}, (3, 4)),
    ("matrix -1", {"ord": -1, "axis": (1, 2)}, (2, 3, 4)),
    ("matrix inf", {"ord": np.inf, "keepdims": True}, (3, 4)),
    ("matrix -inf", {"ord": -np.inf, "axis": (0, 1)}, (3, 4)),
]


@pytest.mark.parametrize(("label", "kwargs", "shape"), NORMS, ids=[n[0] for n in NORMS])
def test_norm_matches_numpy_and_torch(label: str, kwargs: dict[str, Any],
                                      shape: tuple[int, ...]) -> None:
    torch_kwargs = {("dim" if k == "axis" else "keepdim" if k == "keepdims" else k): v
                    for k, v in kwargs.items()}
    torch_f = None if torch is None else (lambda a: torch.linalg.norm(a, **torch_kwargs))
    _check(lambda a: np.linalg.norm(a, **kwargs), torch_f, _normal(*shape))


def test_norm_at_the_origin_has_pytorchs_zero_subgradient() -> None:
    for ord_ in (None, 2, 1, np.inf):
        x = tg.zeros(3, dtype=np.float64, requires_grad=True)
        np.linalg.norm(x, ord_).backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3))
        if torch is not None:
            t = torch.zeros(3, dtype=torch.float64, requires_grad=True)
            torch.linalg.norm(t, ord_).backward()
            np.testing.assert_array_equal(t.grad.numpy(), np.zeros(3))
    # a zero row among nonzero ones: only that row's gradient is the convention
    m = tg.tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True)
    np.linalg.norm(m, axis=1).sum().backward()
    np.testing.assert_allclose(m.grad.numpy(), [[0.0, 0.0], [0.6, 0.8]])


def test_inf_norm_ties_share_the_gradient_as_in_pytorch() -> None:
    values = np.array([-2.0, 1.0, 2.0])
    x = tg.tensor(values, requires_grad=True)
    np.linalg.norm(x, np.inf).backward()
    np.testing.assert_allclose(x.grad.numpy(), [-0.5, 0.0, 0.5])
    if torch is not None:
        t = torch.tensor(values, requires_grad=True)
        torch.linalg.norm(t, float("inf")).backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())


def test_norm_refuses_what_it_cannot_differentiate() -> None:
    x = tg.ones((3, 3))
    for ord_ in (2, -2, "nuc"):
        with pytest.raises(TypeError, match=f"ord={ord_!r} for a matrix norm"):
            np.linalg.norm(x, ord_)
    for ord_ in (0, 3, "fro"):
        with pytest.raises(TypeError, match="for a vector norm"):
            np.linalg.norm(x, ord_, axis=0)
    with pytest.raises(ShapeError, match="names 3 axes"):
        np.linalg.norm(tg.ones((2, 2, 2)), axis=(0, 1, 2))
    with pytest.raises(ShapeError, match="1-D or 2-D"):
        np.linalg.norm(tg.ones((2, 2, 2)), 1)


# --------------------------------------------------------------------------- np.linalg
def test_det_inv_slogdet_match_numpy_and_torch_batched() -> None:
    a = _well_conditioned(2, 3, 3)
    _check(np.linalg.det, _t("linalg.det"), a, rtol=1e-8)
    _check(np.linalg.inv, _t("linalg.inv"), a, rtol=1e-8)
    _check(lambda x: np.linalg.slogdet(x)[1], lambda x: torch.linalg.slogdet(x)[1], a,
           rtol=1e-8)
    flipped = a.copy()
    flipped[0] = flipped[0][::-1]  # a negative determinant in the batch
    result = np.linalg.slogdet(tg.tensor(flipped, requires_grad=True))
    sign, logabsdet = np.linalg.slogdet(flipped)
    np.testing.assert_array_equal(result.sign.numpy(), sign)
    assert not result.sign.requires_grad and result.logabsdet.requires_grad
    np.testing.assert_allclose(result.logabsdet.numpy(), logabsdet, rtol=1e-12)


@pytest.mark.parametrize(("a_shape", "b_shape"), [
    ((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (3,)), ((2, 3, 3), (3, 4)),
    ((3, 3), (2, 3, 1)), ((2, 1, 3, 3), (4, 3, 2)),
])  # fmt: skip
def test_solve_matches_numpy_and_torch(a_shape: tuple[int, ...],
                                       b_shape: tuple[int, ...]) -> None:
    def torch_solve(a: Any, b: Any) -> Any:  # torch treats a batched 1-D-like b differently
        if b.ndim == 1:
            return torch.linalg.solve(a, b.expand(*a.shape[:-1]).unsqueeze(-1))[..., 0]
        return torch.linalg.solve(a, b)

    a, b = _well_conditioned(*a_shape), _normal(*b_shape)
    _check(np.linalg.solve, torch_solve, a, b, rtol=1e-8)
    # the gradient of b too (the harness's second order follows the first input)
    _check(lambda y, x: np.linalg.solve(x, y), lambda y, x: torch_solve(x, y), b, a, rtol=1e-8)


def _sym(x: Any) -> Any:
    return x + np.swapaxes(x, -1, -2) if isinstance(x, (np.ndarray, tg.Tensor)) else \
        x + x.transpose(-1, -2)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_matches_numpy_and_torch(upper: bool) -> None:
    a = _spd(2, 3, 3)
    # through a symmetric parametrisation, where both conventions give the same gradient
    _check(lambda x: np.linalg.cholesky(_sym(x) / 2 + a, upper=upper),
           lambda x: torch.linalg.cholesky(_sym(x) / 2 + torch.tensor(a), upper=upper),
           0.1 * _normal(2, 3, 3), rtol=1e-8)
    # on a leaf: the exact derivative of numpy's function, which reads one triangle
    assert gradcheck(lambda x: np.linalg.cholesky(x, upper=upper), a)
    assert gradgradcheck(lambda x: np.linalg.cholesky(x, upper=upper), a)
    if torch is not None:
        upstream = _normal(2, 3, 3)
        x = tg.tensor(a, requires_grad=True)
        (np.linalg.cholesky(x, upper=upper) * upstream).sum().backward()
        t = torch.tensor(a, requires_grad=True)
        (torch.linalg.cholesky(t, upper=upper) * torch.tensor(upstream)).sum().backward()
        g = t.grad.numpy()  # PyTorch's symmetric gradient
        triangle = np.triu if upper else np.tril
        expected = triangle(2 * g, 1 if upper else -1) + g * np.eye(3)
        np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-9, atol=1e-12)


def _eigh_loss(w: Any, v: Any, c: Any) -> Any:
    """A function of eigenvalues and eigenvectors that does not depend on their signs."""
    return w * c[0] + (v * v * c[1:]).sum(-2) + (v[..., 0, :] * v[..., 1, :]) * c[0]


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_matches_numpy_and_torch(uplo: str) -> None:
    c = _normal(4, 3)

    def ours(x: Any) -> Any:
        w, v = np.linalg.eigh(_sym(x), uplo)
        return _eigh_loss(w, v, c)

    def theirs(x: Any) -> Any:
        w, v = torch.linalg.eigh(_sym(x), uplo)
        return _eigh_loss(w, v, torch.tensor(c))

    _check(ours, theirs, _normal(2, 3, 3), rtol=1e-8)
    # on a leaf that is not symmetric: the exact derivative of numpy's function
    a = _normal(3, 3)
    assert gradcheck(lambda x: np.linalg.eigh(x, uplo).eigenvalues, a)
    assert gradcheck(lambda x: _eigh_loss(*np.linalg.eigh(x, uplo), c), a)
    assert gradgradcheck(lambda x: _eigh_loss(*np.linalg.eigh(x, uplo), c), a)
    np.testing.assert_allclose(np.linalg.eigvalsh(tg.tensor(a), uplo).numpy(),
                               np.linalg.eigvalsh(a, uplo), rtol=1e-12)


def test_eigh_at_an_exact_tie_is_right_for_losses_of_the_eigenspace() -> None:
    a = np.diag([1.0, 1.0, 2.0])  # eigenvalue 1 is double
    c = _normal(3, 3)
    c = c + c.T

    def projector_loss(x: Any) -> Any:
        w, v = np.linalg.eigh(x)
        tied = v[:, :2]  # any basis of the eigenspace: the projector does not depend on it
        return (tied @ tied.T * c).sum() + w.sum()

    x = tg.tensor(a, requires_grad=True)
    projector_loss(x).backward()
    # perturbation theory: dP = -(P dA Q + Q dA P) for the gap 1 - 2; d sum(w) = trace(dA)
    p, q = np.diag([1.0, 1.0, 0.0]), np.diag([0.0, 0.0, 1.0])
    g = -(p @ c @ q + q @ c @ p) + np.eye(3)
    expected = np.tril(2 * g, -1) + g * np.eye(3)  # on the triangle eigh reads
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(projector_loss, a)  # smooth there: the eigenspace is isolated


def test_det_of_a_singular_matrix_has_the_cofactor_gradient() -> None:
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    x = tg.tensor(singular, requires_grad=True)
    d = np.linalg.det(x)
    assert d.item() == 0.0
    d.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)
    assert gradcheck(np.linalg.det, singular)  # det is a polynomial: smooth there
    if torch is not None:
        # torch returns 0 at the exactly singular point; the derivative is continuous, and
        # next to that point torch agrees with the cofactors
        t = torch.tensor(singular + np.diag([0.0, 1e-9]), requires_grad=True)
        torch.linalg.det(t).backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-8)


def test_linalg_errors_are_numpys_with_the_function_and_shape() -> None:
    singular = tg.tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(LinAlgError, match=r"inv: Singular matrix \(input of shape \(2, 2\)\)"):
        np.linalg.inv(singular)
    with pytest.raises(LinAlgError, match="solve: Singular matrix"):
        np.linalg.solve(singular, tg.ones(2))
    with pytest.raises(LinAlgError, match="cholesky: Matrix is not positive definite"):
        np.linalg.cholesky(tg.tensor([[1.0, 2.0], [2.0, 1.0]]))
    for name in ("det", "slogdet", "inv", "cholesky", "eigh"):
        with pytest.raises(LinAlgError, match=rf"{name}: needs square matrices .*\(2, 3\)"):
            getattr(np.linalg, name)(tg.ones((2, 3)))
        with pytest.raises(LinAlgError):  # numpy raises the same error type
            getattr(np.linalg, name)(np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"solve: b of shape \(2,\) does not fit"):
        np.linalg.solve(tg.eye(3), tg.ones(2))
    with pytest.raises(ShapeError, match="solve: batch dimensions"):
        np.linalg.solve(tg.ones((2, 3, 3)), tg.ones((4, 3, 1)))
    with pytest.raises(ValueError, match="UPLO must be 'L' or 'U'"):
        np.linalg.eigh(tg.eye(2), "X")
    # log|det| of a singular matrix is -inf and has no gradient: said in backward, by name
    leaf = tg.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=np.float64, requires_grad=True)
    sign, logabsdet = np.linalg.slogdet(leaf)
    assert sign.item() == 0.0 and logabsdet.item() == -np.inf
    with pytest.raises(LinAlgError, match=r"slogdet: .*singular A \(shape \(2, 2\)"):
        logabsdet.backward()


def test_product_functions_refuse_bad_shapes_clearly() -> None:
    with pytest.raises(ShapeError, match=r"dot: shapes \(2, 3\) and \(4,\) not aligned"):
        np.dot(tg.ones((2, 3)), tg.ones(4))
    with pytest.raises(ShapeError, match=r"vdot: operands of 6 and 5 elements"):
        np.vdot(tg.ones((2, 3)), tg.ones(5))
    with pytest.raises(ShapeError, match="inner: the last dimensions"):
        np.inner(tg.ones((2, 3)), tg.ones((3, 2)))
    with pytest.raises(ShapeError, match="tensordot: shape mismatch for sum"):
        np.tensordot(tg.ones((2, 3)), tg.ones((2, 3)), 1)
    with pytest.raises(ShapeError, match="tensordot: 2 axes of a but 1 of b"):
        np.tensordot(tg.ones((2, 3)), tg.ones((2, 3)), ([0, 1], [0]))
    with pytest.raises(ShapeError, match="tensordot: axes=3 is out of range"):
        np.tensordot(tg.ones((2, 3)), tg.ones((2, 3)), 3)
    with pytest.raises(TypeError, match="out= is not supported"):
        np.dot(tg.ones(2), tg.ones(2), out=np.empty(()))


def test_empty_matrices_follow_numpy() -> None:
    x = tg.zeros((2, 0, 0), dtype=np.float64, requires_grad=True)
    d = np.linalg.det(x)
    np.testing.assert_array_equal(d.numpy(), np.linalg.det(np.zeros((2, 0, 0))))
    d.sum().backward()
    assert x.grad.shape == (2, 0, 0)
    w, v = np.linalg.eigh(tg.zeros((0, 0)))
    assert w.shape == (0,) and v.shape == (0, 0)
    assert np.einsum("ij,jk->ik", tg.zeros((2, 0)), tg.zeros((0, 3))).numpy().tolist() == \
        [[0.0] * 3] * 2
