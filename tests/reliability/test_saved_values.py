"""Every path by which a saved value could change is caught or impossible (docs/reliability.md,
"What a graph saves cannot change behind its back").

Each test is one route a careful user found to a silently wrong gradient; each now gives the
right gradient or a clear error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.errors import DTypeError, GradientError, InPlaceModificationError, ShapeError


def _leaf(values: Any) -> tg.Tensor:
    return tg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def _grad(t: tg.Tensor) -> np.ndarray:
    assert t.grad is not None
    return t.grad.numpy()


# --------------------------------------------------------------------------- gradient buffers
def test_retained_gradients_never_share_a_buffer() -> None:
    x = _leaf([1.0, 2.0])
    a, b = x * 2.0, x * 3.0
    a.retain_grad()
    b.retain_grad()
    loss = (a + b).sum()  # add's VJP hands the same array to both inputs
    loss.backward(retain_graph=True)
    assert not np.shares_memory(_grad(a), _grad(b))
    with tg.no_grad():
        a.grad[...] = 0.0  # type: ignore[index]
    np.testing.assert_array_equal(_grad(b), [1.0, 1.0])
    loss.backward()  # accumulates: no buffer counted twice
    np.testing.assert_array_equal(_grad(a), [1.0, 1.0])
    np.testing.assert_array_equal(_grad(b), [2.0, 2.0])
    np.testing.assert_array_equal(_grad(x), [10.0, 10.0])


def test_a_seed_gradient_is_never_adopted_as_a_grad_buffer() -> None:
    x = _leaf([1.0, 2.0])
    seed = np.array([3.0, 4.0])
    x.backward(seed)
    x.backward(seed)
    np.testing.assert_array_equal(seed, [3.0, 4.0])
    np.testing.assert_array_equal(_grad(x), [6.0, 8.0])
    seed_tensor = tg.tensor(np.array([1.0, 1.0]))
    y = _leaf([5.0, 6.0])
    y.backward(seed_tensor)
    optimizer = tg.optim.SGD([y], lr=0.1)
    optimizer.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(seed_tensor.numpy(), [1.0, 1.0])


def test_backward_of_a_leaf_with_itself_as_seed_leaves_it_alone() -> None:
    x = _leaf([1.0, 2.0])
    x.backward(x)
    x.backward(x)
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(_grad(x), [2.0, 4.0])


def test_create_graph_seeds_are_not_shared_by_two_grads() -> None:
    x, y = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    seed = tg.tensor(np.array([1.0, 1.0]))
    (x + y).backward(seed, create_graph=True)
    assert x.grad is not y.grad and x.grad is not seed
    assert not np.shares_memory(_grad(x), _grad(y))
    assert not np.shares_memory(_grad(x), seed.numpy())


def test_a_graph_that_read_a_grad_refuses_after_the_grad_accumulates() -> None:
    x, w = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    (x * x).sum().backward()
    uses_grad = (x.grad * w).sum()  # type: ignore[operator]
    (x * x).sum().backward()  # accumulates into x.grad in place
    with pytest.raises(InPlaceModificationError, match="multiply"):
        uses_grad.backward()


# --------------------------------------------------------------------------- saved arguments
def test_an_index_array_changed_after_the_forward_does_not_change_the_gradient() -> None:
    x = _leaf([1.0, 2.0, 3.0])
    index = np.array([0, 0, 2])
    y = x[index]
    index[:] = 1
    (y * np.array([1.0, 2.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(_grad(x), [3.0, 0.0, 4.0])


def test_an_index_tensor_changed_after_the_forward_does_not_change_the_gradient() -> None:
    x = _leaf([1.0, 2.0, 3.0])
    index = tg.tensor(np.array([2, 2]))
    y = x[index]
    index[0] = 0
    y.sum().backward()
    np.testing.assert_array_equal(_grad(x), [0.0, 0.0, 2.0])


def test_a_mask_and_labels_changed_after_the_forward_do_not_change_the_gradient() -> None:
    x = _leaf([1.0, -2.0, 3.0])
    mask = np.array([True, False, True])
    picked = x[mask]
    mask[:] = True
    picked.sum().backward()
    np.testing.assert_array_equal(_grad(x), [1.0, 0.0, 1.0])

    logits = _leaf([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
    labels = np.array([0, 2])
    loss = tg.nn.functional.cross_entropy(logits, labels)
    expected = logits.detach().softmax(axis=-1).numpy().copy()
    expected[[0, 1], [0, 2]] -= 1.0
    labels[:] = 1
    loss.backward()
    np.testing.assert_allclose(_grad(logits), expected / 2, rtol=1e-12)


def test_a_plain_array_operand_changed_after_the_forward_does_not_change_the_gradient() -> None:
    w = _leaf([1.0, 2.0])
    scale = np.array([3.0, 4.0])
    loss = (w * scale).sum()
    scale[:] = 0.0
    loss.backward()
    np.testing.assert_array_equal(_grad(w), [3.0, 4.0])


def test_constructors_copy_the_callers_array() -> None:
    array = np.array([1.0, 2.0])
    t, p = tg.tensor(array), tg.nn.Parameter(array)
    u = tg.tensor(t)
    array[0] = 9.0
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(p.numpy(), [1.0, 2.0])
    with tg.no_grad():
        t[1] = 7.0
    np.testing.assert_array_equal(u.numpy(), [1.0, 2.0])


def test_a_parameter_written_through_its_source_array_keeps_a_right_gradient() -> None:
    source = np.array([1.0, 2.0])
    w = tg.nn.Parameter(source)
    loss = (w * w).sum()
    source[:] = 100.0
    loss.backward()
    np.testing.assert_array_equal(_grad(w), [2.0, 4.0])


def test_a_write_through_a_view_tensor_reaches_the_nodes_that_saved_its_base() -> None:
    x = _leaf([1.0, 2.0, 3.0])
    base = tg.tensor(np.array([4.0, 5.0, 6.0]))
    loss = (x * base).sum()
    view = base[1:]
    view += 1.0  # writes base's memory
    np.testing.assert_array_equal(base.numpy(), [4.0, 6.0, 7.0])
    with pytest.raises(InPlaceModificationError, match="multiply: argument 1"):
        loss.backward()


def test_assigning_data_replaces_the_array_and_is_seen_by_backward() -> None:
    x = _leaf([1.0, 2.0])
    loss = (x * x).sum()
    source = np.array([5.0, 5.0])
    x.data = source
    source[0] = 0.0
    np.testing.assert_array_equal(x.numpy(), [5.0, 5.0])  # a copy was taken
    with pytest.raises(InPlaceModificationError):
        loss.backward()


# --------------------------------------------------------------------------- in-place ops
def test_in_place_accumulation_into_a_plain_tensor_is_recorded() -> None:
    w = _leaf([1.0, 2.0])
    acc = tg.zeros(2, dtype=np.float64)
    acc += w * 3.0
    acc += w * w
    assert acc.requires_grad and not acc.is_leaf
    acc.sum().backward()
    np.testing.assert_array_equal(acc.numpy(), [4.0, 10.0])
    np.testing.assert_array_equal(_grad(w), [5.0, 7.0])


@pytest.mark.parametrize("symbol", ["+=", "-=", "*=", "/="])
def test_in_place_arithmetic_matches_its_out_of_place_form(symbol: str) -> None:
    def run(inplace: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, w = _leaf([1.5, -2.0, 3.0]), _leaf([0.5, 4.0, -1.0])
        h = x * 2.0
        ops = {"+=": tg.add, "-=": tg.subtract, "*=": tg.multiply, "/=": tg.divide}
        if inplace:
            if symbol == "+=":
                h += w
            elif symbol == "-=":
                h -= w
            elif symbol == "*=":
                h *= w
            else:
                h /= w
        else:
            h = ops[symbol](h, w)
        (h * h).sum().backward()
        return h.numpy().copy(), _grad(x).copy(), _grad(w).copy()

    for got, want in zip(run(True), run(False)):
        np.testing.assert_allclose(got, want, rtol=1e-15)


def test_item_assignment_of_a_gradient_carrying_value_is_recorded() -> None:
    w = _leaf([1.0, 2.0])
    b = tg.zeros(3, dtype=np.float64)
    b[0] = w[1] * 2.0
    b[2] = w[0]
    (b * np.array([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(b.numpy(), [4.0, 0.0, 1.0])
    np.testing.assert_array_equal(_grad(w), [100.0, 2.0])


def test_item_assignment_overwrites_the_gradient_of_what_it_replaced() -> None:
    x, v = _leaf([1.0, 2.0, 3.0]), _leaf([7.0])
    h = x * 1.0
    h[np.array([0, 0])] = tg.concatenate([v, v * 3.0])  # the last write wins, as in numpy
    h.sum().backward()
    np.testing.assert_array_equal(h.numpy(), [21.0, 2.0, 3.0])
    np.testing.assert_array_equal(_grad(x), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(_grad(v), [3.0])


def test_in_place_on_a_saved_intermediate_is_refused_at_backward() -> None:
    x = _leaf([1.0, 2.0])
    h = x * 2.0
    y = (h * h).sum()  # saved h
    h += 1.0
    with pytest.raises(InPlaceModificationError, match="multiply"):
        y.backward()


def test_in_place_after_retain_grad_retains_the_new_value() -> None:
    x = _leaf([1.0, 2.0])
    h = x * 2.0
    h.retain_grad()
    h *= 3.0
    (h * h).sum().backward()
    np.testing.assert_array_equal(_grad(h), 2 * h.numpy())
    np.testing.assert_array_equal(_grad(x), 2 * h.numpy() * 6.0)


def test_recorded_in_place_on_a_view_is_refused_clearly() -> None:
    x, w = _leaf([1.0, 2.0, 3.0]), _leaf([1.0])
    h = x * 1.0
    view = h[0:1]
    with pytest.raises(GradientError, match="shares its memory"):
        view += w


def test_in_place_cannot_broadcast_the_tensor_written_to() -> None:
    acc = tg.zeros(2, dtype=np.float64)
    with pytest.raises(ShapeError, match="in-place"):
        acc += _leaf([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ShapeError, match="in-place"):
        acc += np.ones((3, 2))
    counts = tg.tensor(np.zeros(2, dtype=np.int64))
    with pytest.raises(DTypeError, match="int64"):
        counts += _leaf([1.0, 2.0])


def test_a_leaf_that_requires_grad_still_refuses_in_place_writes() -> None:
    w = _leaf([1.0, 2.0])
    with pytest.raises(GradientError, match="leaf"):
        w += 1.0
    with pytest.raises(GradientError, match="leaf"):
        w[0] = 3.0
    with tg.no_grad():
        w += 1.0
    np.testing.assert_array_equal(w.numpy(), [2.0, 3.0])


# --------------------------------------------------------------------------- numpy conversion
CONVERSIONS = {
    "np.array of a list": lambda x: np.array([x, 2 * x]),
    "np.asarray": lambda x: np.asarray(x),
    "np.mean of a list": lambda x: np.mean([x, x + 2]),
    "np.r_": lambda x: np.r_[x, x],
    "np.c_": lambda x: np.c_[x, x],
    "np.append": lambda x: np.append(x, x),
    "float array": lambda x: np.array(x, dtype=np.float32),
}


@pytest.mark.parametrize("name", sorted(CONVERSIONS))
def test_converting_a_tensor_that_requires_grad_to_numpy_is_refused(name: str) -> None:
    x = _leaf([1.0, 2.0])
    with pytest.raises(TypeError, match=r"detach\(\)|not supported on Tensors"):
        CONVERSIONS[name](x)


def test_grad_of_a_function_that_drops_the_graph_names_the_conversion() -> None:
    with pytest.raises(TypeError, match=r"requires grad.*detach\(\)"):
        tg.grad(lambda x: np.asarray(x).sum())(tg.tensor([1.0, 2.0]))


def test_converting_a_detached_tensor_is_fine_and_read_only() -> None:
    x = _leaf([1.0, 2.0])
    array = np.asarray(x.detach())
    np.testing.assert_array_equal(array, [1.0, 2.0])
    assert not array.flags.writeable
    assert np.array(x.detach()).flags.writeable  # np.array copies


def test_complex_operands_are_refused() -> None:
    x = _leaf([1.0, 2.0])
    with pytest.raises(DTypeError, match="complex"):
        x * np.array([1j, 2.0])
    with pytest.raises(DTypeError, match="complex"):
        x + 1j
    with pytest.raises(TypeError, match="complex"):
        tg.tensor([1 + 2j])


# --------------------------------------------------------------------------- weak scalars
def test_float64_scalars_keep_a_float32_graph_float32() -> None:
    w = tg.tensor(np.array([0.5, 1.5], dtype=np.float32), requires_grad=True)
    outputs = [
        10.0 ** w,
        np.float64(10.0) ** w,
        tg.leaky_relu(w - 1.0, np.float64(0.2)),
        tg.clip(w, np.float64(0.0), np.float64(1.0)),
        tg.log(w + np.float64(1e-7)),
        w ** np.float64(2.0),
    ]
    for out in outputs:
        assert out.dtype == np.float32
        w.grad = None
        out.sum().backward()
        assert _grad(w).dtype == np.float32
    w.grad = None
    (10.0 ** w).sum().backward()
    np.testing.assert_allclose(_grad(w), np.log(10.0) * 10.0 ** np.array([0.5, 1.5]),
                               rtol=1e-6)


# --------------------------------------------------------------------------- op declarations
def _plain(value: Any) -> bool:
    """A parameter value nobody can change after the call: Python numbers, flags, strings,
    slices, dtypes, and tuples of those."""
    if isinstance(value, tuple):
        return all(_plain(v) for v in value)
    return value is None or value is Ellipsis or isinstance(value, (bool, int, float, str, slice,
                                                                    np.dtype, type))


def test_every_op_declares_the_parameters_that_may_hold_arrays() -> None:
    from tensorgraph.ops import REGISTRY

    shapes = {1: [(3, 2)], 2: [(3, 2), (2,)], 3: [(4, 3), (3,), (3,)]}
    undeclared = []
    checked = 0
    for name, op in REGISTRY.items():
        if op.array_params is None or op.domain.params is None:
            continue
        checked += 1
        for params in op.domain.params(shapes.get(op.domain.nargs, [(3, 2)] * op.domain.nargs)):
            for key, value in params.items():
                if not _plain(value) and key not in op.array_params:
                    undeclared.append(f"{name}.{key} = {value!r}")
    assert not undeclared, f"parameters that may hold arrays but are not declared: {undeclared}"
    assert checked >= 20  # every built-in op with parameters declares them


def test_declared_array_parameters_are_copied_when_saved() -> None:
    x = _leaf([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    slope = np.float64(0.3)
    y = tg.leaky_relu(x - 3.0, slope)
    assert type(y._node.params["negative_slope"]) is float  # type: ignore[union-attr]
    index = np.array([2, 0])
    z = tg.getitem(x, index)
    saved = z._node.params["index"]  # type: ignore[union-attr]
    assert not np.shares_memory(saved, index)


def test_matmul_names_a_none_operand() -> None:
    with pytest.raises(TypeError, match="matmul: operand 1 is NoneType"):
        tg.matmul(tg.ones((2, 2)), None)


def test_requires_grad_set_as_an_attribute_is_checked() -> None:
    counts = tg.tensor(np.arange(3))
    with pytest.raises(DTypeError, match="only floating tensors"):
        counts.requires_grad = True
    h = _leaf([1.0]) * 2.0
    with pytest.raises(GradientError, match="non-leaf"):
        h.requires_grad = False


def test_in_place_with_itself_as_the_operand_reads_the_old_value() -> None:
    x = _leaf([1.0, 2.0])
    t = x * 1.0
    t += t
    t *= t
    t.sum().backward()
    np.testing.assert_array_equal(t.numpy(), [4.0, 16.0])
    np.testing.assert_array_equal(_grad(x), [8.0, 16.0])  # d(4 x^2)/dx


# --------------------------------------------------------------------------- outside findings
def test_zeroing_a_grad_in_place_is_seen_by_a_graph_that_read_it() -> None:
    layer = tg.nn.Linear(2, 1, generator=0, dtype=np.float64)
    layer(tg.tensor(np.ones((1, 2)))).sum().backward()
    g = layer.weight.grad
    assert g is not None
    w = _leaf([3.0, 4.0])
    uses = (w * g.reshape(2)).sum()
    tg.optim.SGD(layer.parameters(), lr=0.1).zero_grad(set_to_none=False)
    with pytest.raises(InPlaceModificationError):
        uses.backward()
    layer(tg.tensor(np.ones((1, 2)))).sum().backward()
    uses = (w * layer.weight.grad.reshape(2)).sum()  # type: ignore[union-attr]
    layer.zero_grad(set_to_none=False)
    with pytest.raises(InPlaceModificationError):
        uses.backward()


@pytest.mark.parametrize("array", [
    np.array([1, None, 3], dtype=object),
    np.array(["1", "2", "3"]),
    np.array(["2020-01-01"] * 3, dtype="datetime64[D]"),
])
def test_object_string_and_datetime_operands_are_refused(array: np.ndarray) -> None:
    with pytest.raises(TypeError, match=str(array.dtype).replace("[", r"\[").replace("]", r"\]")):
        _leaf([1.0, 2.0, 3.0]) + array


def test_a_parameter_that_requires_grad_is_refused_not_dropped() -> None:
    x = _leaf([-1.0, 2.0])
    with pytest.raises(TypeError, match="requires grad"):
        tg.leaky_relu(x, tg.tensor(0.1, requires_grad=True))
    with pytest.raises(TypeError, match="requires grad"):
        tg.pad(x, 1, constant_values=tg.tensor(2.5, requires_grad=True))


def test_a_0d_array_slope_is_weak_like_a_number() -> None:
    x = tg.tensor(np.array([-1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = tg.leaky_relu(x, np.array(0.1))
    assert y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_allclose(_grad(x), [0.1, 1.0], rtol=1e-6)


@pytest.mark.parametrize("reduce", [tg.max, tg.min])
def test_a_nan_extremum_gets_the_gradient_as_in_pytorch(reduce: Any) -> None:
    x = _leaf([1.0, np.nan, 2.0])
    reduce(x).backward()
    np.testing.assert_array_equal(_grad(x), [0.0, 1.0, 0.0])


def test_assigning_a_grad_is_checked() -> None:
    x = _leaf([1.0, 2.0])
    with pytest.raises(ShapeError, match="assigned grad has shape"):
        x.grad = tg.tensor(np.ones((2, 3)))
    with pytest.raises(DTypeError, match="assigned grad has dtype"):
        x.grad = tg.tensor(np.ones(2, dtype=np.float32))
    with pytest.raises(GradientError, match="itself"):
        x.grad = x
    with pytest.raises(TypeError, match="Tensor or None"):
        x.grad = np.ones(2)  # type: ignore[assignment]
    x.grad = tg.tensor(np.ones(2))
    (x * 2.0).sum().backward()
    np.testing.assert_array_equal(_grad(x), [3.0, 3.0])


def test_accuracy_refuses_outputs_that_are_not_finite() -> None:
    from tensorgraph.errors import DomainError
    from tensorgraph.training import accuracy

    with pytest.raises(DomainError, match="not finite"):
        accuracy(np.array([[np.nan, 0.9], [0.9, 0.1]]), np.array([0, 0]))


def test_an_mlp_with_a_softmax_over_one_unit_is_refused() -> None:
    from tensorgraph.errors import DomainError

    with pytest.raises(DomainError, match="one output unit"):
        tg.nn.MLP([3, 4, 1], output="softmax")
