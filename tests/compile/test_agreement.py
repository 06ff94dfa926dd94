"""Compiled and eager training steps agree, bit for bit, step after step.

Each case builds the same model and optimizer twice from one seed, trains one copy eagerly
and the other through ``tg.compile`` for several steps on fresh batches, and compares the
losses, the parameters, the optimizer state and the batch-norm buffers exactly: a plan
repeats the eager arithmetic (the same numpy calls on the same values, in the same
order), so there is no rounding to tolerate.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn, optim
from tensorgraph.compiler import CompiledFunction, CompileWarning
from tensorgraph.nn import functional as F

STEPS = 4


@pytest.fixture(autouse=True)
def _float64() -> Any:
    """The models are built in float64 (the library's default is float32)."""
    with tg.default_dtype(np.float64):
        yield


def _batches(n_in: int | tuple[int, ...], n_out: int, batch: int, kind: str, dtype: Any
             ) -> list[tuple[Any, Any]]:
    rng = np.random.default_rng(7)
    out = []
    in_shape = n_in if isinstance(n_in, tuple) else (n_in,)
    for _ in range(STEPS):
        x = rng.standard_normal((batch, *in_shape)).astype(dtype)
        if kind == "binary":
            y = (rng.random((batch, n_out)) > 0.5).astype(dtype)
        elif kind == "labels":
            y = rng.integers(0, n_out, batch)
        else:
            y = rng.standard_normal((batch, n_out)).astype(dtype)
        out.append((x, y))
    return out


def _training_step(model: Any, opt: Any, loss_fn: Any) -> Callable[[Any, Any], Any]:
    def step(x: Any, y: Any) -> Any:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def _run(build: Callable[[], tuple[Any, Any, Callable[..., Any]]], kind: str = "regression",
         n_in: int | tuple[int, ...] = 5, n_out: int = 3, dtype: Any = np.float64,
         train: bool = True,
         batch: int = 8) -> tuple[list[Any], list[Any], CompiledFunction]:
    """Train two copies (eager, compiled); return both copies' (losses, arrays) and the
    compiled function."""
    results = []
    compiled: CompiledFunction | None = None
    for mode in ("eager", "compiled"):
        model, opt, loss_fn = build()
        model.train(train)
        fn: Any = _training_step(model, opt, loss_fn)
        if mode == "compiled":
            fn = compiled = tg.compile(fn)
        losses = []
        with warnings.catch_warnings():
            warnings.simplefilter("error", CompileWarning)  # no fallback allowed here
            for x, y in _batches(n_in, n_out, batch, kind, dtype):
                losses.append(fn(tg.tensor(x), y if kind == "labels" else tg.tensor(y)))
        arrays = [p._data.copy() for p in model.parameters()]
        arrays += [b._data.copy() for b in model.buffers()]
        for state in opt.state.values():
            arrays += [np.copy(v) for v in state.values()]
        results.append(([float(v.item()) for v in losses], arrays))
    assert compiled is not None
    return results[0], results[1], compiled


def _assert_same(eager: Any, compiled: Any, fn: CompiledFunction) -> None:
    (eager_losses, eager_arrays), (losses, arrays) = eager, compiled
    assert losses == eager_losses
    assert len(arrays) == len(eager_arrays)
    for a, b in zip(eager_arrays, arrays):
        np.testing.assert_array_equal(a, b)
    assert (fn.traces, fn.replays, fn.eager_calls) == (1, STEPS - 1, 0)


def _seeded(make: Callable[[], Any]) -> Any:
    tg.manual_seed(0)
    return make()


LAYERS: dict[str, Callable[[], Any]] = {
    "linear": lambda: nn.Linear(5, 3),
    "mlp": lambda: nn.MLP([5, 7, 3], output=None),
    "mlp-bn-dropout": lambda: nn.MLP([5, 7, 6, 3], batch_norm=True, dropout=0.3, output=None,
                                     generator=3),
    "batchnorm": lambda: nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.Linear(4, 3)),
    "batchnorm-cumulative": lambda: nn.Sequential(nn.Linear(5, 4),
                                                  nn.BatchNorm1d(4, momentum=None),
                                                  nn.Linear(4, 3)),
    "dropout": lambda: nn.Sequential(nn.Linear(5, 6), nn.Dropout(0.4, generator=1),
                                     nn.Linear(6, 3)),
    "dropout-default-generator": lambda: nn.Sequential(nn.Linear(5, 6), nn.Dropout(0.5),
                                                       nn.Linear(6, 3)),
    "relu": lambda: nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 3)),
    "leaky_relu": lambda: nn.Sequential(nn.Linear(5, 6), nn.LeakyReLU(0.1), nn.Linear(6, 3)),
    "tanh": lambda: nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 3)),
    "sigmoid": lambda: nn.Sequential(nn.Linear(5, 6), nn.Sigmoid(), nn.Linear(6, 3)),
    "softmax": lambda: nn.Sequential(nn.Linear(5, 6), nn.Softmax(), nn.Linear(6, 3)),
}


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_layers_agree(layer: str, train: bool) -> None:
    def build() -> Any:
        model = _seeded(LAYERS[layer])
        return model, optim.SGD(model.parameters(), lr=0.1), F.mse_loss

    eager, compiled, fn = _run(build, train=train)
    _assert_same(eager, compiled, fn)


def test_batchnorm_running_statistics_follow_eager() -> None:
    """The running buffers move at every compiled step exactly as eagerly."""
    def build() -> Any:
        model = _seeded(lambda: nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4)))
        return model, optim.SGD(model.parameters(), lr=0.1), lambda out, y: out.sum()

    eager, compiled, fn = _run(build)
    _assert_same(eager, compiled, fn)
    bn_start = nn.BatchNorm1d(4)
    running = compiled[1][-3:]  # running_mean, running_var, num_batches_tracked
    assert not np.array_equal(running[0], bn_start.running_mean._data)
    assert int(running[2]) == STEPS


LOSSES: dict[str, tuple[Callable[..., Any], str, int]] = {
    "mse": (F.mse_loss, "regression", 3),
    "bce_with_logits": (F.binary_cross_entropy_with_logits, "binary", 3),
    "bce": (lambda out, y: F.binary_cross_entropy(F.sigmoid(out), y), "binary", 3),
    "cross_entropy": (F.cross_entropy, "labels", 4),
    "nll": (lambda out, y: F.nll_loss(F.log_softmax(out, axis=-1), y), "labels", 4),
    "l2_penalty": (lambda out, y: F.mse_loss(out, y) + nn.l2_penalty([out], lam=0.1, m=8),
                   "regression", 3),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_agree(name: str) -> None:
    loss_fn, kind, n_out = LOSSES[name]

    def build() -> Any:
        model = _seeded(lambda: nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, n_out)))
        return model, optim.SGD(model.parameters(), lr=0.1), loss_fn

    eager, compiled, fn = _run(build, kind=kind, n_out=n_out)
    _assert_same(eager, compiled, fn)


OPTIMIZERS: dict[str, Callable[[Any], Any]] = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "sgd-momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1,
                                        weight_decay=0.01),
    "sgd-nesterov": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda p: optim.Adam(p, lr=0.01),
    "adam-amsgrad-wd": lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1, amsgrad=True),
    "adam-maximize": lambda p: optim.Adam(p, lr=0.01, maximize=True, eps_inside_sqrt=True),
    "adamw": lambda p: optim.AdamW(p, lr=0.01),
    # lerp's other branch (1 - beta1 >= 0.5) and two groups with their own hyper-parameters
    "adam-low-beta1": lambda p: optim.Adam(p, lr=0.01, betas=(0.3, 0.9)),
    "adamw-groups": lambda p: (lambda ps: optim.AdamW([
        {"params": ps[:1]}, {"params": ps[1:], "lr": 0.02, "weight_decay": 0.1}]))(list(p)),
    "rmsprop": lambda p: optim.RMSprop(p, lr=0.01),
    "rmsprop-centered-momentum": lambda p: optim.RMSprop(p, lr=0.01, centered=True,
                                                         momentum=0.5, weight_decay=0.1),
}


def test_every_optimizer_is_covered() -> None:
    classes = {type(make([tg.tensor([1.0], requires_grad=True)])) for make in OPTIMIZERS.values()}
    optimizers = {c for c in vars(optim).values()
                  if isinstance(c, type) and issubclass(c, optim.Optimizer)
                  and c is not optim.Optimizer}
    assert optimizers <= classes


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_optimizers_agree(name: str, dtype: Any) -> None:
    def build() -> Any:
        model = _seeded(lambda: nn.MLP([5, 6, 3], batch_norm=True, dropout=0.2, output=None,
                                       dtype=dtype, generator=4))
        return model, OPTIMIZERS[name](model.parameters()), F.mse_loss

    eager, compiled, fn = _run(build, dtype=dtype)
    _assert_same(eager, compiled, fn)


def test_scheduler_inside_the_step_is_replayed() -> None:
    def build() -> Any:
        model = _seeded(lambda: nn.Linear(5, 3))
        opt = optim.SGD(model.parameters(), lr=0.5)
        sched = optim.ExponentialLR(opt, gamma=0.5)

        def loss(out: Any, y: Any) -> Any:
            sched.step()  # runs before opt.step() here: the lr the step uses halves each call
            return F.mse_loss(out, y)

        return model, opt, loss

    eager, compiled, fn = _run(build)
    _assert_same(eager, compiled, fn)


def test_the_reference_model_agrees_in_float32() -> None:
    """The benchmark's model (batch-norm, ReLU, dropout, BCE + L2, Adam), as a user wrote it."""
    from benchmarks.reference_numpy import MLPSpec, init_params, make_data
    from benchmarks.tg_model import TensorgraphMLP

    spec = MLPSpec(n_in=8, hidden=(16, 16))
    params = init_params(spec, np.float32)
    eager = TensorgraphMLP(params, spec, np.random.default_rng(5))
    compiled = TensorgraphMLP(params, spec, np.random.default_rng(5))

    def step(model: TensorgraphMLP, x: Any, y: Any) -> Any:
        model.optimizer.zero_grad()
        cost = model.forward(x, y)
        cost.backward()
        model.optimizer.step()
        return cost

    fast = tg.compile(step)
    for seed in range(STEPS):
        x, y = make_data(spec, 16, np.float32, seed=seed)
        a = step(eager, tg.tensor(x), tg.tensor(y))
        b = fast(compiled, tg.tensor(x), tg.tensor(y))
        assert a.item() == b.item()
    for p, q in zip(eager.net.parameters(), compiled.net.parameters()):
        np.testing.assert_array_equal(p._data, q._data)
    assert fast.replays == STEPS - 1


def test_gradients_are_left_in_grad_as_eagerly() -> None:
    """Without zero_grad in the step, gradients accumulate across calls as eagerly."""
    results = []
    for compiled in (False, True):
        w = tg.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)

        def step(x: Any, w: Any = w) -> Any:
            loss = (tg.tanh(x @ w) ** 2).sum()
            loss.backward()
            return loss

        fn = tg.compile(step) if compiled else step
        for k in range(3):
            fn(tg.tensor(np.full((4, 2), 0.5 + k)))
        assert w.grad is not None
        results.append(w.grad.numpy().copy())
    np.testing.assert_array_equal(results[0], results[1])


def test_buffers_off_gives_the_same_numbers() -> None:
    def build() -> Any:
        model = _seeded(LAYERS["mlp-bn-dropout"])
        return model, optim.Adam(model.parameters()), F.mse_loss

    eager, _, _ = _run(build)
    model, opt, loss_fn = build()

    @tg.compile(buffers=False)
    def step(x: Any, y: Any) -> Any:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    losses = [float(step(tg.tensor(x), tg.tensor(y)).item())
              for x, y in _batches(5, 3, 8, "regression", np.float64)]
    assert losses == eager[0]


def test_outputs_are_new_detached_tensors_that_later_steps_do_not_change() -> None:
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    @tg.compile
    def step(x: Any) -> Any:
        opt.zero_grad()
        h = x * w + 1.0
        loss = (h * h).sum()
        loss.backward()
        opt.step()
        return loss, h

    first = step(tg.tensor([1.0, 1.0]))
    kept = first[1].numpy().copy()
    step(tg.tensor([3.0, 3.0]))
    second = step(tg.tensor([5.0, 5.0]))
    np.testing.assert_array_equal(first[1].numpy(), kept)
    assert not second[0].requires_grad and second[0].is_leaf
    assert step.replays == 2


def test_a_gradient_reset_inside_the_function_is_replayed() -> None:
    """``x.grad = None`` in the function happens at every call, not only at the trace."""
    grads = []
    for compiled in (False, True):
        x = tg.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
        y = tg.tensor([[1.5, 2.0], [-0.5, 1.0]], requires_grad=True)

        def work(x: Any = x, y: Any = y) -> Any:
            x.grad = None
            y.zero_grad()
            t = x * y + x
            s = (t * t - y).sum()
            s.backward()
            return s

        fn = tg.compile(work) if compiled else work
        for _ in range(3):
            fn()
        grads.append((x.grad.numpy().copy(), y.grad.numpy().copy()))
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


def test_numpy_scalar_gradients_are_replayed_not_baked_in() -> None:
    """A VJP of 0-d operands returns a numpy scalar (``grad * s``): the plan must compute
    it again from the new input at each replay, not keep the trace's value as a constant."""
    w = tg.tensor(np.ones(3), requires_grad=True)

    def step(x: Any, s: Any) -> Any:
        w.grad = None
        loss = (w * x).sum() * s
        loss.backward()
        return loss

    compiled = tg.compile(step)
    x = tg.tensor(np.arange(3.0))
    for scale in (1.0, 2.0, -3.5):
        with warnings.catch_warnings():
            warnings.simplefilter("error", CompileWarning)
            compiled(x, tg.tensor(np.array(scale)))
        assert w.grad is not None
        np.testing.assert_array_equal(w.grad.numpy(), scale * np.arange(3.0))
    assert compiled.replays == 2


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_batchnorm2d_agrees(train: bool) -> None:
    """``BatchNorm2d`` (a ``BatchNorm1d`` over the ``(N, C, H*W)`` view) replays: the
    statistics over axes (0, 2) of the view, the running buffers and the VJP, bit for bit."""
    def build() -> Any:
        bn = _seeded(lambda: nn.BatchNorm2d(3))
        bn.weight.data = np.linspace(0.5, 1.5, 3)
        bn.bias.data = np.linspace(-0.2, 0.2, 3)
        opt = optim.Adam(bn.parameters(), lr=0.01)
        return bn, opt, lambda out, y: ((out.reshape((4, 30)) - y) ** 2).mean()

    eager, compiled, fn = _run(build, n_in=(3, 2, 5), n_out=30, batch=4, train=train)
    _assert_same(eager, compiled, fn)
    if train:  # the running statistics moved, identically (compared above)
        assert not np.array_equal(compiled[1][2], np.zeros(3))


def test_the_adam_kernel_records_its_writes_for_the_engine() -> None:
    """A graph that saved a parameter before a replayed Adam step refuses to run backward
    afterwards, as after an eager step (the kernel bumps each parameter's version)."""
    from tensorgraph.errors import InPlaceModificationError

    w = tg.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    opt = optim.Adam([w], lr=0.1)

    @tg.compile
    def step(x: Any) -> Any:
        opt.zero_grad()
        loss = ((x @ w) ** 2).sum()
        loss.backward()
        opt.step()
        return loss

    x = tg.tensor(np.ones((4, 2)))
    for _ in range(3):
        step(x)
    assert step.replays == 2
    saved = (w * w).sum()  # saves w's current values
    step(x)  # a replay: the Adam kernel writes w in place
    with pytest.raises(InPlaceModificationError):
        saved.backward()
