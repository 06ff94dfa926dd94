r"""The reference model written by hand in numpy: forward, hand-derived backward, Adam.

This is the floor tensorgraph is measured against: what a careful person writes without an
autograd engine. The network is the original study's:

input 64 -> [Linear(no bias) -> BatchNorm1d -> ReLU -> Dropout(0.2)] x 2 (256 units)
-> Linear(256 -> 1, bias), trained with binary cross-entropy from logits plus the L2 cost
:math:`\frac{\lambda}{2m}\sum_l \lVert W_l\rVert^2` and Adam.

Backward, with :math:`m` the batch size, :math:`\sigma` the logistic function and
:math:`s = \text{keep}/(1-p)` the dropout scale mask:

.. math::

    \bar z &= (\sigma(z) - y)/m, \qquad
    \bar W_3 = \bar z^\top A_2 + \tfrac{\lambda}{m} W_3,\qquad
    \bar b_3 = \textstyle\sum_i \bar z_i \\
    \bar A_2 &= \bar z W_3,\qquad \bar R = \bar A \odot s,\qquad \bar Y = \bar R\odot[Y>0] \\
    \bar\gamma &= \textstyle\sum_i \bar Y\odot\hat x,\qquad \bar\beta = \sum_i \bar Y,\qquad
    \bar{\hat x} = \bar Y \gamma \\
    \bar Z &= \frac{1}{m\sqrt{\sigma_B^2+\epsilon}}
        \Big(m\,\bar{\hat x} - \textstyle\sum_i \bar{\hat x}
        - \hat x \sum_i \bar{\hat x}\odot\hat x\Big) \\
    \bar W &= \bar Z^\top A_{\text{prev}} + \tfrac{\lambda}{m} W,\qquad
    \bar A_{\text{prev}} = \bar Z W
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MLPSpec", "NumpyMLP", "init_params", "make_data"]

Array = np.ndarray[Any, Any]


@dataclass(frozen=True)
class MLPSpec:
    """Sizes and hyper-parameters of the reference model."""

    n_in: int = 64
    hidden: tuple[int, ...] = (256, 256)
    p: float = 0.2
    lam: float = 0.7
    bn_eps: float = 1e-5
    bn_momentum: float = 0.1
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-8


def init_params(spec: MLPSpec, dtype: Any, seed: int = 0) -> dict[str, Array]:
    """He-uniform weights, gamma 1, beta 0, bias 0: the same start for every implementation.

    Weights are shaped (out_features, in_features) as in ``Linear``. Names: ``W1, gamma1,
    beta1, ..., W{L+1}, b{L+1}``.
    """
    rng = np.random.default_rng(seed)
    params: dict[str, Array] = {}
    sizes = (spec.n_in, *spec.hidden)
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes), start=1):
        bound = np.sqrt(6.0 / fan_in)
        params[f"W{i}"] = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(dtype)
        params[f"gamma{i}"] = np.ones(fan_out, dtype=dtype)
        params[f"beta{i}"] = np.zeros(fan_out, dtype=dtype)
    last = len(spec.hidden) + 1
    bound = np.sqrt(1.0 / sizes[-1])
    params[f"W{last}"] = rng.uniform(-bound, bound, (1, sizes[-1])).astype(dtype)
    params[f"b{last}"] = np.zeros(1, dtype=dtype)
    return params


def make_data(spec: MLPSpec, batch: int, dtype: Any, seed: int = 1) -> tuple[Array, Array]:
    """A batch of inputs and 0/1 labels (labels from a fixed random linear rule)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, spec.n_in)).astype(dtype)
    w = rng.standard_normal(spec.n_in)
    y = (x @ w > 0).astype(dtype).reshape(batch, 1)
    return x, y


class NumpyMLP:
    """The reference model and its Adam optimiser, by hand.

    Parameters
    ----------
    params : dict
        Initial parameters from :func:`init_params` (copied).
    spec : MLPSpec
    rng : numpy.random.Generator, optional
        Draws the dropout masks.
    """

    def __init__(self, params: dict[str, Array], spec: MLPSpec,
                 rng: np.random.Generator | None = None) -> None:
        self.spec = spec
        self.params = {k: v.copy() for k, v in params.items()}
        self.dtype = next(iter(params.values())).dtype
        self.rng = rng if rng is not None else np.random.default_rng(2)
        self.n_hidden = len(spec.hidden)
        self.running_mean = [np.zeros(h, dtype=self.dtype) for h in spec.hidden]
        self.running_var = [np.ones(h, dtype=self.dtype) for h in spec.hidden]
        # Adam state, preallocated once and updated in place
        self.m = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.v = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.t = 0

    # ------------------------------------------------------------------ forward
    def draw_masks(self, batch: int) -> list[Array]:
        """Boolean keep-masks for every dropout layer (True = kept)."""
        return [self.rng.random((batch, h), dtype=self.dtype) >= self.spec.p
                for h in self.spec.hidden]

    def forward(self, x: Array, y: Array, masks: list[Array] | None = None
                ) -> tuple[float, dict[str, Any]]:
        """Training-mode forward pass; returns the cost and what backward needs."""
        spec, p = self.spec, self.params
        m = x.shape[0]
        if masks is None:
            masks = self.draw_masks(m)
        scale = self.dtype.type(1.0 / (1.0 - spec.p))
        cache: dict[str, Any] = {"a0": x}
        a = x
        for i in range(1, self.n_hidden + 1):
            z = a @ p[f"W{i}"].T
            mu = z.mean(axis=0)
            zc = z - mu
            var = (zc * zc).mean(axis=0)
            inv_std = 1.0 / np.sqrt(var + spec.bn_eps)
            xhat = zc * inv_std
            yy = xhat * p[f"gamma{i}"] + p[f"beta{i}"]
            s = masks[i - 1] * scale
            a = np.maximum(yy, 0) * s
            self._update_running(i - 1, mu, var, m)
            cache[f"xhat{i}"], cache[f"inv_std{i}"] = xhat, inv_std
            cache[f"y{i}"], cache[f"s{i}"], cache[f"a{i}"] = yy, s, a
        last = self.n_hidden + 1
        logits = a @ p[f"W{last}"].T + p[f"b{last}"]
        bce = np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits)))
        l2 = sum(float(np.sum(p[f"W{i}"] * p[f"W{i}"])) for i in range(1, last + 1))
        cost = float(bce.mean()) + spec.lam / (2 * m) * l2
        cache["logits"], cache["y"] = logits, y
        return cost, cache

    def _update_running(self, i: int, mu: Array, var: Array, m: int) -> None:
        mom = self.spec.bn_momentum
        self.running_mean[i] *= 1 - mom
        self.running_mean[i] += mom * mu
        self.running_var[i] *= 1 - mom
        self.running_var[i] += (mom * m / max(m - 1, 1)) * var

    # ------------------------------------------------------------------ backward
    def backward(self, cache: dict[str, Any]) -> dict[str, Array]:
        """Gradients of the cost with respect to every parameter (the formulas above)."""
        spec, p = self.spec, self.params
        logits, y = cache["logits"], cache["y"]
        m = logits.shape[0]
        reg = self.dtype.type(spec.lam / m)
        grads: dict[str, Array] = {}
        # sigmoid without overflow, through exp(-|z|)
        e = np.exp(-np.abs(logits))
        sig = np.where(logits >= 0, 1 / (1 + e), e / (1 + e))
        dz = (sig - y) / m
        last = self.n_hidden + 1
        grads[f"W{last}"] = dz.T @ cache[f"a{last - 1}"] + reg * p[f"W{last}"]
        grads[f"b{last}"] = dz.sum(axis=0)
        da = dz @ p[f"W{last}"]
        for i in range(self.n_hidden, 0, -1):
            dy = da * cache[f"s{i}"]
            dy *= cache[f"y{i}"] > 0
            xhat = cache[f"xhat{i}"]
            grads[f"gamma{i}"] = (dy * xhat).sum(axis=0)
            grads[f"beta{i}"] = dy.sum(axis=0)
            dxhat = dy * p[f"gamma{i}"]
            dzz = (cache[f"inv_std{i}"] / m) * (
                m * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)
            )
            grads[f"W{i}"] = dzz.T @ cache[f"a{i - 1}"] + reg * p[f"W{i}"]
            if i > 1:
                da = dzz @ p[f"W{i}"]
        return grads

    # ------------------------------------------------------------------ Adam
    def adam(self, grads: dict[str, Array]) -> None:
        """One Adam step (PyTorch's eps placement), in place on preallocated moments."""
        b1, b2 = self.spec.betas
        self.t += 1
        c1 = 1 - b1**self.t
        c2 = 1 - b2**self.t
        step = self.spec.lr / c1
        for k, g in grads.items():
            m, v, w = self.m[k], self.v[k], self.params[k]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            denom = np.sqrt(v / c2)
            denom += self.spec.adam_eps
            w -= step * (m / denom)

    def step(self, x: Array, y: Array) -> float:
        """One training step: forward, backward, Adam; returns the cost before the update."""
        cost, cache = self.forward(x, y)
        self.adam(self.backward(cache))
        return cost
