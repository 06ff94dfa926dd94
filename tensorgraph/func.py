"""Function transforms: derivatives of functions, built on the reverse-mode engine.

``grad``, ``value_and_grad`` and ``vjp`` (JAX's and ``torch.func``'s names) and, beside them,
``jacobian`` (``torch.func.jacrev``), ``hessian``, ``hvp`` and ``jvp``
(``torch.autograd.functional``'s), HIPS autograd's ``elementwise_grad``, and ``checkpoint``
(:mod:`tensorgraph.checkpoint`, re-exported here).

Everything here is a composition of :func:`~tensorgraph.autograd.gradients`: tensorgraph has
reverse mode only, so the forward-mode product ``jvp`` is two reverse passes (the double-VJP
construction) and a Jacobian is one reverse pass per output element. ``docs/transforms.md``
gives the cost of each.

A transform whose function depends on a tensor that requires grad other than the leaves it
makes (an argument that already requires grad, differentiated or not, as inside another
transform, or a tensor the function closes over), with grad mode on, keeps the graph of its
result as ``torch.func`` does, so transforms nest: ``grad(grad(f))``,
``jacobian(jacobian(f))``, ``jacobian(lambda a: grad(lambda b: f(a, b))(y))``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._checkpoint import checkpoint
from .autograd import _new_tensor, enable_grad, gradients, is_grad_enabled
from .errors import DTypeError, GradientError, ShapeError
from .tensor import Tensor, tensor

__all__ = [
    "checkpoint",
    "elementwise_grad",
    "grad",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "value_and_grad",
    "vjp",
]


# --------------------------------------------------------------------------- helpers
def _as_leaf(value: Any, what: str = "grad", position: int = 0) -> Tensor:
    """The tensor to differentiate with respect to: ``value`` itself when it already requires
    grad (so nested transforms see through it), else a new leaf that requires grad."""
    if isinstance(value, Tensor):
        if value.requires_grad:
            return value
        leaf = value.detach()
    else:
        leaf = tensor(value)
    if leaf.dtype.kind != "f":
        raise DTypeError(
            f"{what}: argument {position} is {leaf.dtype} (shape {leaf.shape}); only floating "
            f"inputs can be differentiated; convert it with .astype(np.float64) first"
        )
    return leaf.requires_grad_()


def _argnums(argnums: int | Sequence[int], nargs: int, what: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise ValueError(f"{what}: argnums is empty; name at least one argument")
    for n in nums:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"{what}: argnums must be ints, got {n!r}")
        if not -nargs <= n < nargs:
            raise IndexError(f"{what}: argnums {n} is out of range for {nargs} arguments")
    normal = [int(n) % nargs for n in nums]
    if len(set(normal)) != len(normal):
        raise ValueError(f"{what}: argnums {nums} names an argument twice")
    return tuple(normal)


def _nested(outs: Sequence[Tensor], fresh: Sequence[Any], grad_mode: bool) -> bool:
    """Whether the results keep their graph: grad mode was on at the call and the outputs
    depend on a tensor that requires grad other than the ``fresh`` leaves made for this call
    (an argument of an enclosing transform, differentiated here or not, a tensor the
    function closes over, a parameter), as ``torch.func``'s results do. Otherwise an
    enclosing transform would silently see a constant."""
    if not grad_mode:
        return False
    mine = {id(t) for t in fresh}
    seen: set[int] = set()
    stack = []
    for o in outs:
        if o._node is not None:
            stack.append(o._node)
        elif o.requires_grad and id(o) not in mine:
            return True
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for arg, need in zip(node.args or (), node.needs):
            if not need or id(arg) in mine:
                continue
            if arg._node is None:
                return True
            stack.append(arg._node)
    return False


def _tracked(tangents: Sequence[Any], grad_mode: bool) -> bool:
    """Whether a tangent requires grad: the product is differentiable in it too."""
    return grad_mode and any(isinstance(v, Tensor) and v.requires_grad for v in tangents)


def _leaves(args: Sequence[Any], nums: Sequence[int], what: str) -> list[Any]:
    new_args = list(args)
    for n in nums:
        new_args[n] = _as_leaf(args[n], what, n)
    return new_args


def _fresh(args: Sequence[Any], new_args: Sequence[Any]) -> list[Any]:
    """The leaves made for this call (not the caller's own tensors that require grad)."""
    return [new for old, new in zip(args, new_args) if new is not old]


def _check_tensor(value: Any, what: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{what}: the function must return a Tensor, got "
                        f"{type(value).__name__}")
    return value


def _outputs(value: Any, what: str) -> tuple[tuple[Tensor, ...], bool]:
    """The function's outputs as a tuple, and whether it returned a single Tensor."""
    if isinstance(value, Tensor):
        return (value,), True
    if isinstance(value, (tuple, list)) and value:
        return tuple(_check_tensor(v, what) for v in value), False
    raise TypeError(f"{what}: the function must return a Tensor or a non-empty tuple of "
                    f"Tensors, got {type(value).__name__}")


def _scalar(value: Any, what: str) -> Tensor:
    checked = _check_tensor(value, what)
    if checked.size != 1:
        raise GradientError(f"{what}: the function must return a single-element Tensor, got "
                            f"shape {checked.shape}; use jacobian (or vjp) for other outputs")
    return checked


def _tangents(tangents: Any, primals: Sequence[Tensor], is_tuple: bool, what: str
              ) -> list[Any]:
    """``tangents`` in the structure of ``primals`` (one array-like for a single primal, a
    tuple for a tuple): same count, shapes and dtypes."""
    if is_tuple and not isinstance(tangents, (tuple, list)):
        raise TypeError(f"{what}: the primals are a tuple, so the tangents must be a tuple "
                        f"of the same length, got {type(tangents).__name__}")
    given = list(tangents) if is_tuple else [tangents]
    if len(given) != len(primals):
        raise ValueError(f"{what}: {len(given)} tangent(s) for {len(primals)} primal(s); "
                         f"pass one per primal, in the same structure")
    result = []
    for i, (v, p) in enumerate(zip(given, primals)):
        data = v._data if isinstance(v, Tensor) else v
        if isinstance(data, np.ndarray) and data.dtype.kind == "f" and data.dtype != p.dtype:
            raise DTypeError(f"{what}: tangent {i} is {data.dtype} but primal {i} is "
                             f"{p.dtype}; cast one explicitly")
        if not isinstance(data, np.ndarray):
            data = np.asarray(data)  # Python data is weak: it takes the primal's dtype
        if data.dtype.kind not in "biuf":
            raise DTypeError(f"{what}: tangent {i} is {data.dtype}; tangents must be real "
                             f"numbers")
        if data.shape != p.shape:
            raise ShapeError(f"{what}: tangent {i} has shape {data.shape} but primal {i} has "
                             f"shape {p.shape}")
        result.append(v if isinstance(v, Tensor) and v.dtype == p.dtype
                      else data.astype(p.dtype, copy=False))
    return result


def _detach(value: Tensor, keep: bool) -> Tensor:
    return value if keep else value.detach()


# --------------------------------------------------------------------------- grad, vjp
def _value_and_grad(f: Callable[..., Any], argnums: int | Sequence[int], what: str,
                    args: Sequence[Any]) -> tuple[Tensor, Any]:
    nums = _argnums(argnums, len(args), what)
    grad_mode = is_grad_enabled()
    with enable_grad():
        new_args = _leaves(args, nums, what)
        value = _scalar(f(*new_args), what)
        nested = _nested([value], _fresh(args, new_args), grad_mode)
        grads = gradients(value, [new_args[n] for n in nums], create_graph=nested,
                          allow_unused=True) if value.requires_grad else tuple(
            _zeros(new_args[n]) for n in nums)
    return _detach(value, nested), grads[0] if isinstance(argnums, int) else grads


def value_and_grad(
    f: Callable[..., Tensor], argnums: int | Sequence[int] = 0
) -> Callable[..., tuple[Tensor, Any]]:
    """Return a function computing ``f(*args)`` and its gradient w.r.t. ``args[argnums]``.

    The gradient is a Tensor (a tuple of them when ``argnums`` is a sequence). When called
    with arguments that already require grad (as inside another ``grad``), the gradient
    keeps its graph, so ``grad(grad(f))`` gives second derivatives.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> value, slope = tg.value_and_grad(lambda x: (x ** 3).sum())(tg.tensor(2.0))
    >>> float(value), float(slope)
    (8.0, 12.0)
    """

    @functools.wraps(f)
    def wrapped(*args: Any) -> tuple[Tensor, Any]:
        return _value_and_grad(f, argnums, "grad", args)

    return wrapped


def grad(f: Callable[..., Tensor], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """Return a function computing the gradient of scalar ``f`` w.r.t. ``args[argnums]``.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> d2 = tg.grad(tg.grad(lambda x: x ** 3))
    >>> float(d2(tg.tensor(2.0, dtype="float64")))
    12.0
    """

    @functools.wraps(f)
    def wrapped(*args: Any) -> Any:
        return _value_and_grad(f, argnums, "grad", args)[1]

    return wrapped


def vjp(f: Callable[..., Tensor], *args: Any) -> tuple[Tensor, Callable[[Any], tuple[Tensor, ...]]]:
    """Evaluate ``f(*args)`` and return it with a function mapping a cotangent to gradients.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> out, pullback = tg.vjp(lambda x: x * 3, tg.tensor([1.0, 2.0]))
    >>> pullback(tg.tensor([1.0, 1.0]))[0]
    tensor([3., 3.], dtype=float32)
    """
    grad_mode = is_grad_enabled()
    leaves = [_as_leaf(a, "vjp", i) for i, a in enumerate(args)]
    with enable_grad():
        out = f(*leaves)
        nested = _nested([out], _fresh(args, leaves), grad_mode)

    def pullback(cotangent: Any) -> tuple[Tensor, ...]:
        # a cotangent that requires grad is an input of the pullback too
        keep = nested or (is_grad_enabled() and isinstance(cotangent, Tensor)
                          and cotangent.requires_grad)
        with enable_grad():
            return gradients(out, leaves, grad_outputs=cotangent, retain_graph=True,
                             create_graph=keep, allow_unused=True)

    return out, pullback


def elementwise_grad(f: Callable[..., Tensor],
                     argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """Return a function computing the gradient of ``f(*args).sum()`` (HIPS autograd's).

    For an elementwise ``f`` (each output element depends on the input element at the same
    place) this is the derivative at every element, in one reverse pass: the VJP of ``f`` with
    a cotangent of ones. For any other ``f`` it is still the gradient of the sum of the
    outputs, which is not a derivative of each element: use :func:`jacobian` then.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorgraph as tg
    >>> tg.elementwise_grad(np.tanh)(np.array([0.0, 1.0]))
    tensor([1.        , 0.41997434], dtype=float64)
    """

    @functools.wraps(f)
    def wrapped(*args: Any) -> Any:
        nums = _argnums(argnums, len(args), "elementwise_grad")
        grad_mode = is_grad_enabled()
        with enable_grad():
            new_args = _leaves(args, nums, "elementwise_grad")
            out = _check_tensor(f(*new_args), "elementwise_grad")
            nested = _nested([out], _fresh(args, new_args), grad_mode)
            inputs = [new_args[n] for n in nums]
            if out.requires_grad:
                grads = gradients(out, inputs, grad_outputs=np.ones(out.shape, out.dtype),
                                  create_graph=nested, allow_unused=True)
            else:
                grads = tuple(_zeros(x) for x in inputs)
        return grads[0] if isinstance(argnums, int) else grads

    return wrapped


def _zeros(x: Tensor, lead: tuple[int, ...] = ()) -> Tensor:
    return _new_tensor(np.zeros(lead + x.shape, dtype=x.dtype), False, None)


# --------------------------------------------------------------------------- jacobian, hessian
def _jacobian_of(out: Tensor, inputs: Sequence[Tensor], keep: bool) -> list[Tensor]:
    """d out / d inputs, each shaped ``out.shape + input.shape``: one reverse pass per element
    of ``out`` (the graph is kept between them)."""
    if not out.requires_grad or out.size == 0:
        return [_zeros(x, out.shape) for x in inputs]
    rows: list[list[Any]] = [[] for _ in inputs]
    seed = np.zeros(out.size, dtype=out.dtype)
    for i in range(out.size):
        seed[i] = 1.0
        grads = gradients(out, inputs, grad_outputs=seed.reshape(out.shape), retain_graph=True,
                          create_graph=keep, allow_unused=True)
        seed[i] = 0.0
        for row, g in zip(rows, grads):
            row.append(g)
    if keep:
        from .ops import stack

        return [stack(row).reshape(out.shape + x.shape) for row, x in zip(rows, inputs)]
    return [_new_tensor(np.stack([g._data for g in row]).reshape(out.shape + x.shape), False,
                        None) for row, x in zip(rows, inputs)]


def jacobian(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """Return a function computing the Jacobian of ``f`` w.r.t. ``args[argnums]`` (reverse mode).

    Like ``torch.func.jacrev(f, argnums)``: the Jacobian of an output of shape ``S`` w.r.t.
    an input of shape ``T`` has shape ``S + T``. A tuple ``argnums`` gives a tuple (one
    Jacobian per input); a function returning a tuple gives a tuple (one per output), of
    tuples when ``argnums`` is a tuple too.

    Cost: one forward pass and one reverse pass per output element (the graph is kept
    between them), so ``m`` reverse passes for ``m`` outputs. The rows are not batched: a
    VJP is written for its output's exact shape, so a stacked seed does not flow through the
    engine (see ``docs/transforms.md``).

    Examples
    --------
    >>> import numpy as np
    >>> import tensorgraph as tg
    >>> tg.jacobian(lambda x: x[::-1] * 2.0)(np.array([1.0, 2.0]))
    tensor([[0., 2.],
            [2., 0.]], dtype=float64)
    """

    @functools.wraps(f)
    def wrapped(*args: Any) -> Any:
        nums = _argnums(argnums, len(args), "jacobian")
        grad_mode = is_grad_enabled()
        with enable_grad():
            new_args = _leaves(args, nums, "jacobian")
            outs, single = _outputs(f(*new_args), "jacobian")
            nested = _nested(outs, _fresh(args, new_args), grad_mode)
            inputs = [new_args[n] for n in nums]
            jacs = [_jacobian_of(o, inputs, nested) for o in outs]
        per_output = [j[0] if isinstance(argnums, int) else tuple(j) for j in jacs]
        return per_output[0] if single else tuple(per_output)

    return wrapped


def hessian(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """Return a function computing the Hessian of ``f`` w.r.t. ``args[argnums]``.

    ``jacobian(jacobian(f, argnums), argnums)``, as ``torch.func.hessian`` is the Jacobian of
    the Jacobian: for a scalar ``f`` of an input of shape ``T`` the result has shape
    ``T + T``; with a tuple ``argnums`` it is the nested tuple of blocks ``H[i][j]``.

    Cost: for a scalar ``f`` of ``n`` inputs, one reverse pass that records its own graph,
    then ``n`` reverse passes through that graph.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorgraph as tg
    >>> tg.hessian(lambda x: (x ** 3).sum())(np.array([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]], dtype=float64)
    """
    return jacobian(jacobian(f, argnums), argnums)


# --------------------------------------------------------------------------- hvp, jvp
def _primals(f: Callable[..., Any], primals: Any, what: str
             ) -> tuple[list[Tensor], bool, list[Tensor]]:
    """Leaves for ``primals`` (a Tensor, an array or a tuple of them), whether it was a
    tuple, and which of the leaves were made for this call (see :func:`_fresh`)."""
    is_tuple = isinstance(primals, (tuple, list))
    given = list(primals) if is_tuple else [primals]
    if not given:
        raise ValueError(f"{what}: no primals given")
    leaves = [_as_leaf(p, what, i) for i, p in enumerate(given)]
    return leaves, is_tuple, _fresh(given, leaves)


def hvp(f: Callable[..., Any], primals: Any, tangents: Any) -> tuple[Tensor, Any]:
    """Return ``(f(*primals), H v)`` for scalar ``f``, as ``torch.autograd.functional.hvp``.

    ``primals`` and ``tangents`` are each a Tensor (or array) or a tuple of them, in the same
    structure and shapes; the product has that structure. Computed as reverse-over-reverse:
    the gradient with its graph recorded, then one reverse pass of ``<grad, v>``; two
    reverse passes, never the Hessian itself.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorgraph as tg
    >>> value, hv = tg.hvp(lambda x: (x ** 3).sum(), np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    >>> hv
    tensor([ 6., 12.], dtype=float64)
    """
    grad_mode = is_grad_enabled()
    leaves, is_tuple, fresh = _primals(f, primals, "hvp")
    vs = _tangents(tangents, leaves, is_tuple, "hvp")
    with enable_grad():
        value = _scalar(f(*leaves), "hvp")
        nested = _nested([value], fresh, grad_mode) or _tracked(vs, grad_mode)
        grads = gradients(value, leaves, create_graph=True, allow_unused=True) \
            if value.requires_grad else ()
        pairs = [(g, v) for g, v in zip(grads, vs) if g.requires_grad]
        if pairs:
            products = gradients([g for g, _ in pairs], leaves,
                                 grad_outputs=[v for _, v in pairs], create_graph=nested,
                                 allow_unused=True)
        else:  # f is at most linear in the primals: the Hessian is zero
            products = tuple(_zeros(x) for x in leaves)
    products = tuple(_detach(p, nested) for p in products)
    return _detach(value, nested), products if is_tuple else products[0]


def jvp(f: Callable[..., Any], primals: Any, tangents: Any) -> tuple[Any, Any]:
    """Return ``(f(*primals), J v)``: the forward-mode product, as ``torch.func.jvp``.

    ``primals`` and ``tangents`` are each a Tensor (or array) or a tuple of them, in the same
    structure and shapes; the outputs and their products have ``f``'s output structure.

    Computed by the double-VJP construction, since the engine is reverse mode only: with a
    dummy cotangent ``u`` that requires grad, ``g(u) = J^T u`` is a reverse pass that records
    its graph; ``g`` is linear in ``u``, so ``J v`` is the gradient of ``<g(u), v>`` w.r.t.
    ``u``: a second reverse pass. Cost: two reverse passes (the first one recording), about
    three times a forward-mode product; every op on the path must support second order.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorgraph as tg
    >>> out, tangent = tg.jvp(np.sin, np.array([0.0]), np.array([2.0]))
    >>> tangent
    tensor([2.], dtype=float64)
    """
    grad_mode = is_grad_enabled()
    leaves, is_tuple, fresh = _primals(f, primals, "jvp")
    vs = _tangents(tangents, leaves, is_tuple, "jvp")
    with enable_grad():
        outs, single = _outputs(f(*leaves), "jvp")
        nested = _nested(outs, fresh, grad_mode) or _tracked(vs, grad_mode)
        live = [o for o in outs if o.requires_grad]
        dummies = [_new_tensor(np.zeros(o.shape, o.dtype), True, None) for o in live]
        pulled = gradients(live, leaves, grad_outputs=dummies, create_graph=True,
                           allow_unused=True) if live else ()
        pairs = [(g, v) for g, v in zip(pulled, vs) if g.requires_grad]
        if pairs:
            pushed = iter(gradients([g for g, _ in pairs], dummies,
                                    grad_outputs=[v for _, v in pairs], create_graph=nested,
                                    allow_unused=True))
        else:
            pushed = iter(())
    products = [_detach(next(pushed), nested) if o.requires_grad and pairs else _zeros(o)
                for o in outs]
    values = [_detach(o, nested) for o in outs]
    if single:
        return values[0], products[0]
    return tuple(values), tuple(products)
