"""The reference model in every implementation, each as a zero-argument training step.

Every builder takes the same :class:`~benchmarks.reference_numpy.MLPSpec`, initial
parameters (from :func:`~benchmarks.reference_numpy.init_params`) and data batch, and returns
a callable doing one training step (forward, backward, Adam update) and returning the cost.
Each implementation draws its own dropout masks from its own generator, as it would in use.

Peers (PyTorch, MyGrad, HIPS autograd) are optional: their builders raise ImportError when the
package is missing and the suite skips them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from .reference_numpy import Array, MLPSpec, NumpyMLP

__all__ = ["BUILDERS", "available", "build"]

Step = Callable[[], float]
Builder = Callable[[MLPSpec, dict[str, Array], Array, Array], Step]


def _numpy_adam_state(params: dict[str, Array]) -> tuple[dict[str, Array], dict[str, Array]]:
    return ({k: np.zeros_like(v) for k, v in params.items()},
            {k: np.zeros_like(v) for k, v in params.items()})


def build_numpy(spec: MLPSpec, params: dict[str, Array], x: Array, y: Array) -> Step:
    """The hand-written numpy model (the floor)."""
    model = NumpyMLP(params, spec)
    return lambda: model.step(x, y)


def build_tensorgraph(spec: MLPSpec, params: dict[str, Array], x: Array, y: Array) -> Step:
    """tensorgraph with its nn layers, losses and Adam, written as a user would."""
    from .tg_model import TensorgraphMLP

    model = TensorgraphMLP(params, spec)
    return lambda: model.step(x, y)


def build_torch(spec: MLPSpec, params: dict[str, Array], x: Array, y: Array) -> Step:
    """PyTorch CPU with torch.nn and torch.optim.Adam."""
    import torch
    from torch import nn

    dtype = torch.float64 if x.dtype == np.float64 else torch.float32
    layers: list[Any] = []
    sizes = (spec.n_in, *spec.hidden)
    for fan_in, fan_out in itertools.pairwise(sizes):
        layers += [nn.Linear(fan_in, fan_out, bias=False),
                   nn.BatchNorm1d(fan_out, eps=spec.bn_eps, momentum=spec.bn_momentum),
                   nn.ReLU(), nn.Dropout(spec.p)]
    layers.append(nn.Linear(sizes[-1], 1))
    net = nn.Sequential(*layers).to(dtype)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    norms = [m for m in net if isinstance(m, nn.BatchNorm1d)]
    with torch.no_grad():
        for i, lin in enumerate(linears, start=1):
            lin.weight.copy_(torch.from_numpy(params[f"W{i}"]))
        linears[-1].bias.copy_(torch.from_numpy(params[f"b{len(linears)}"]))
        for i, bn in enumerate(norms, start=1):
            bn.weight.copy_(torch.from_numpy(params[f"gamma{i}"]))
            bn.bias.copy_(torch.from_numpy(params[f"beta{i}"]))
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=spec.lr, betas=spec.betas, eps=spec.adam_eps)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    m = x.shape[0]
    weights = [lin.weight for lin in linears]
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        logits = net(tx)
        l2 = sum((w * w).sum() for w in weights)
        cost = bce(logits, ty) + spec.lam / (2 * m) * l2
        cost.backward()
        opt.step()
        return float(cost.detach())

    return step


def _adam_numpy(spec: MLPSpec, params: dict[str, Array], m_: dict[str, Array],
                v_: dict[str, Array], grads: dict[str, Array], t: int) -> None:
    b1, b2 = spec.betas
    c1, c2 = 1 - b1**t, 1 - b2**t
    for k, g in grads.items():
        m, v, w = m_[k], v_[k], params[k]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        w -= (spec.lr / c1) * (m / (np.sqrt(v / c2) + spec.adam_eps))


def build_autograd(spec: MLPSpec, params: dict[str, Array], x: Array, y: Array) -> Step:
    """HIPS autograd: the loss as a function, its gradient by ``autograd.grad``; Adam in numpy."""
    import autograd  # type: ignore[import-untyped]
    import autograd.numpy as anp  # type: ignore[import-untyped]

    state = {k: v.copy() for k, v in params.items()}
    m_, v_ = _numpy_adam_state(state)
    rng = np.random.default_rng(2)
    n_hidden = len(spec.hidden)
    batch = x.shape[0]
    scale = x.dtype.type(1 / (1 - spec.p))

    def cost(p: dict[str, Any], masks: list[Array]) -> Any:
        a = x
        for i in range(1, n_hidden + 1):
            z = anp.dot(a, p[f"W{i}"].T)
            mu = anp.mean(z, axis=0)
            zc = z - mu
            var = anp.mean(zc * zc, axis=0)
            yy = zc / anp.sqrt(var + spec.bn_eps) * p[f"gamma{i}"] + p[f"beta{i}"]
            a = anp.maximum(yy, 0) * masks[i - 1]
        last = n_hidden + 1
        z = anp.dot(a, p[f"W{last}"].T) + p[f"b{last}"]
        bce = anp.maximum(z, 0) - z * y + anp.log1p(anp.exp(-anp.abs(z)))
        l2 = sum(anp.sum(p[f"W{i}"] ** 2) for i in range(1, last + 1))
        return anp.mean(bce) + spec.lam / (2 * batch) * l2

    grad_fn = autograd.value_and_grad(cost)
    counter = [0]

    def step() -> float:
        masks = [(rng.random((batch, h), dtype=x.dtype) >= spec.p) * scale
                 for h in spec.hidden]
        value, grads = grad_fn(state, masks)
        counter[0] += 1
        _adam_numpy(spec, state, m_, v_, grads, counter[0])
        return float(value)

    return step


def build_mygrad(spec: MLPSpec, params: dict[str, Array], x: Array, y: Array) -> Step:
    """MyGrad tensors for the graph; Adam in numpy on the parameter arrays."""
    import mygrad as mg

    state = {k: v.copy() for k, v in params.items()}
    m_, v_ = _numpy_adam_state(state)
    rng = np.random.default_rng(2)
    n_hidden = len(spec.hidden)
    batch = x.shape[0]
    scale = x.dtype.type(1 / (1 - spec.p))
    counter = [0]

    def step() -> float:
        p = {k: mg.tensor(v) for k, v in state.items()}  # type: ignore[attr-defined]
        a: Any = x
        for i in range(1, n_hidden + 1):
            z = mg.matmul(a, p[f"W{i}"].T)
            mu = mg.mean(z, axis=0)
            zc = z - mu
            var = mg.mean(zc * zc, axis=0)
            yy = zc / mg.sqrt(var + spec.bn_eps) * p[f"gamma{i}"] + p[f"beta{i}"]
            mask = (rng.random((batch, h := spec.hidden[i - 1]), dtype=x.dtype) >= spec.p)
            del h
            a = mg.maximum(yy, 0) * (mask * scale)
        last = n_hidden + 1
        z = mg.matmul(a, p[f"W{last}"].T) + p[f"b{last}"]
        bce = mg.maximum(z, 0) - z * y + mg.log1p(mg.exp(-mg.abs(z)))
        l2 = sum(mg.sum(p[f"W{i}"] ** 2) for i in range(1, last + 1))
        cost = mg.mean(bce) + spec.lam / (2 * batch) * l2
        cost.backward()
        counter[0] += 1
        grads = {k: np.asarray(t.grad) for k, t in p.items()}
        _adam_numpy(spec, state, m_, v_, grads, counter[0])
        return float(cost.item())

    return step


BUILDERS: dict[str, Builder] = {
    "tensorgraph": build_tensorgraph,
    "numpy": build_numpy,
    "torch": build_torch,
    "mygrad": build_mygrad,
    "autograd": build_autograd,
}


def available(name: str) -> bool:
    """True when the implementation's package can be imported."""
    module = {"tensorgraph": "tensorgraph.nn", "numpy": "numpy", "torch": "torch",
              "mygrad": "mygrad", "autograd": "autograd"}[name]
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def build(name: str, spec: MLPSpec, params: dict[str, Array], x: Array, y: Array) -> Step:
    """Build implementation ``name``'s training step."""
    return BUILDERS[name](spec, params, x, y)
