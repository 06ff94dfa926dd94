"""``checkpoint``: the same gradients as without it (to float64 rounding), no graph of the
segment kept by the forward, the same dropout masks replayed, less peak memory."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.errors import GradientError

from ._cases import torch

RNG = np.random.default_rng(5)


def _net(depth: int = 4, width: int = 6, dropout: float = 0.0,
         generator: Any = "own") -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(width, width, dtype="float64", generator=i), nn.Tanh()]
        if dropout:
            layers.append(nn.Dropout(dropout, generator=100 + i if generator == "own"
                                     else generator))
    return nn.Sequential(*layers)


def _forward(net: nn.Sequential, x: tg.Tensor, segments: int) -> tg.Tensor:
    if segments == 0:
        return net(x)
    per = len(net) // segments
    for s in range(segments):
        x = tg.checkpoint(net[s * per:(s + 1) * per], x)
    return x


def _grads(net: nn.Module) -> list[np.ndarray]:
    return [p.grad.numpy().copy() for p in net.parameters()]  # type: ignore[union-attr]


@pytest.mark.parametrize("segments", [1, 2, 4])
def test_backward_through_checkpointed_modules_gives_the_plain_gradients(segments: int) -> None:
    x_data = RNG.normal(size=(5, 6))
    results = []
    for s in (0, segments):
        net = _net()
        x = tg.tensor(x_data, requires_grad=True)
        (_forward(net, x, s) ** 2).mean().backward()
        results.append((_grads(net), x.grad.numpy().copy()))  # type: ignore[union-attr]
    (plain, plain_x), (ckpt, ckpt_x) = results
    np.testing.assert_allclose(ckpt_x, plain_x, rtol=1e-13, atol=1e-15)
    for a, b in zip(ckpt, plain):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_the_forward_keeps_one_node_whose_inputs_are_the_arguments_and_parameters() -> None:
    net = _net(depth=3)
    x = tg.tensor(RNG.normal(size=(2, 6)), requires_grad=True)
    y = tg.checkpoint(net, x)
    node = y._node
    assert node is not None and node.op.name == "checkpoint"
    params = list(net.parameters())
    assert len(node.args) == 1 + len(params)
    assert node.args[0] is x and all(a is p for a, p in zip(node.args[1:], params))
    # nothing of the segment is reachable: every input is a leaf
    assert all(a._node is None for a in node.args)
    np.testing.assert_array_equal(y.numpy(), net(x).numpy())


def test_gradients_returns_the_plain_values_and_leaves_grad_alone() -> None:
    net = _net()
    x = tg.tensor(RNG.normal(size=(3, 6)), requires_grad=True)
    params = list(net.parameters())
    plain = tg.gradients((net(x) ** 2).sum(), [x, *params])
    got = tg.gradients((tg.checkpoint(net, x) ** 2).sum(), [x, *params])
    assert all(p.grad is None for p in params) and x.grad is None
    for a, b in zip(got, plain):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-13, atol=1e-15)


def test_a_function_of_several_arguments_with_constants_and_keywords() -> None:
    labels = tg.tensor(np.array([0, 2, 1]))  # an integer tensor: a constant of the segment

    def segment(a: tg.Tensor, k: int, b: tg.Tensor, *, scale: float) -> tg.Tensor:
        picked = a[np.arange(3), labels.numpy()]
        return (np.exp(picked) * b[:3] * k * scale).sum()

    a, b = RNG.normal(size=(3, 3)), RNG.normal(size=4)
    grads = []
    for use in (False, True):
        ta, tb = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
        y = tg.checkpoint(segment, ta, 2, tb, scale=0.5) if use else segment(ta, 2, tb,
                                                                                 scale=0.5)
        y.backward()
        grads.append((ta.grad.numpy(), tb.grad.numpy()))  # type: ignore[union-attr]
    for got, expected in zip(grads[1], grads[0]):
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)


def test_double_backward_through_a_checkpoint() -> None:
    f = lambda t: (np.sin(t) * t ** 2).sum()  # noqa: E731
    x = np.array([0.3, -1.1, 2.0])
    v = RNG.normal(size=3)
    plain = tg.hvp(f, x, v)[1].numpy()
    got = tg.hvp(lambda t: tg.checkpoint(f, t), x, v)[1].numpy()
    np.testing.assert_allclose(got, plain, rtol=1e-13, atol=1e-15)
    third = tg.grad(tg.grad(tg.grad(lambda t: tg.checkpoint(lambda s: s ** 4, t))))
    assert third(np.float64(2.0)).item() == pytest.approx(48.0, rel=1e-14)


@pytest.mark.parametrize("generator", ["own", None])
def test_dropout_masks_are_replayed_in_the_recomputation(generator: Any) -> None:
    x_data = RNG.normal(size=(8, 6))

    def run(segments: int, preserve: bool = True) -> tuple[list[np.ndarray], float]:
        tg.manual_seed(11)
        net = _net(depth=2, dropout=0.5, generator=generator)
        x = tg.tensor(x_data)
        y = tg.checkpoint(net, x, preserve_rng_state=preserve) if segments else net(x)
        (y ** 2).sum().backward()
        # the program's random stream after backward: the recomputation must not move it
        return _grads(net), float(tg.rand(1).item())

    plain, after_plain = run(0)
    ckpt, after_ckpt = run(1)
    for a, b in zip(ckpt, plain):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    assert after_ckpt == after_plain
    fresh, _ = run(1, preserve=False)  # new masks in the recomputation: other gradients
    assert not all(np.allclose(a, b) for a, b in zip(fresh, plain))


def test_a_tensor_reaching_the_segment_by_closure_is_refused_in_backward() -> None:
    w = tg.tensor(RNG.normal(size=3), requires_grad=True)
    x = tg.tensor(RNG.normal(size=3), requires_grad=True)
    y = tg.checkpoint(lambda t: (t * w).sum(), x)
    with pytest.raises(GradientError, match=r"checkpoint: .*1 tensor\(s\) that require grad "
                                            r"but were not passed .*\(3,\)"):
        y.backward()


def test_a_closure_over_a_module_is_refused_but_its_method_is_accepted() -> None:
    net = _net(depth=1)
    x = tg.tensor(RNG.normal(size=(2, 6)), requires_grad=True)
    with pytest.raises(GradientError, match=r"pass the nn\.Module itself"):
        tg.checkpoint(lambda t: net(t).sum(), x).backward()
    tg.checkpoint(net.forward, x).sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_misuse_is_refused_clearly() -> None:
    x = tg.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(TypeError, match="checkpoint: the function must return one Tensor"):
        tg.checkpoint(lambda t: (t, t), x)
    # the recomputation is checked against the forward's shape and dtype (as torch's
    # determinism check does); values are not compared (that would cost another copy)
    calls = iter([3, 2])
    z = tg.checkpoint(lambda t: t[:next(calls)], x)
    with pytest.raises(GradientError, match=r"recomputing the segment gave \(2,\) float64 "
                                            r"where the forward gave \(3,\) float64; the "
                                            r"function must be deterministic"):
        z.sum().backward()


def test_without_grad_the_function_just_runs() -> None:
    x = tg.tensor(np.ones(3), requires_grad=True)
    with tg.no_grad():
        y = tg.checkpoint(lambda t: t * 2.0, x)
    assert y._node is None and not y.requires_grad
    z = tg.checkpoint(lambda t: t * 2.0, tg.tensor(np.ones(3)))
    assert z._node is None


def test_matches_torch_checkpoint() -> None:
    x = RNG.normal(size=(4, 3))
    w = RNG.normal(size=(3, 3))

    def segment(lib: Any) -> Callable[..., Any]:
        return lambda a, b: lib.tanh(a @ b) * a

    tx, tw = tg.tensor(x, requires_grad=True), tg.tensor(w, requires_grad=True)
    (tg.checkpoint(segment(np), tx, tw) ** 2).sum().backward()
    if torch is not None:
        ux = torch.tensor(x, requires_grad=True)
        uw = torch.tensor(w, requires_grad=True)
        out = torch.utils.checkpoint.checkpoint(segment(torch), ux, uw, use_reentrant=False)
        (out ** 2).sum().backward()
        expected = [ux.grad.numpy(), uw.grad.numpy()]
    else:  # pragma: no cover - CI installs torch
        expected = [g.numpy() for g in tg.grad(lambda a, b: (segment(np)(a, b) ** 2).sum(),
                                               (0, 1))(x, w)]
    np.testing.assert_allclose(tx.grad.numpy(), expected[0], rtol=1e-13)  # type: ignore[union-attr]
    np.testing.assert_allclose(tw.grad.numpy(), expected[1], rtol=1e-13)  # type: ignore[union-attr]


def _peak(segments: int) -> int:
    net = _net(depth=16, width=128)
    x = tg.tensor(np.random.default_rng(0).normal(size=(256, 128)))
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        (_forward(net, x, segments) ** 2).mean().backward()
        return tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()


def test_checkpointing_an_mlp_in_segments_lowers_the_peak_memory() -> None:
    # 16 Linear+Tanh layers in 4 segments: measured 44% less at width 256, batch 512
    plain, ckpt = _peak(0), _peak(4)
    assert ckpt < 0.7 * plain, (plain, ckpt)


def test_double_backward_reaches_the_parameters_of_a_checkpointed_module() -> None:
    net = _net(depth=2, width=3)
    x = tg.tensor(RNG.normal(size=(2, 3)), requires_grad=True)
    totals = []
    for use in (False, True):
        net.zero_grad()
        out = tg.checkpoint(net, x) if use else net(x)
        (g,) = tg.gradients((out ** 2).sum(), [x], create_graph=True)
        (g ** 2).sum().backward()
        totals.append(_grads(net))
    for a, b in zip(*totals):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
