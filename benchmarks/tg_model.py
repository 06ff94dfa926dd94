"""The reference model written with tensorgraph's layers, losses and optimiser, as a user would."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from tensorgraph import nn, optim
from tensorgraph.nn import functional as F

from .reference_numpy import Array, MLPSpec

__all__ = ["TensorgraphMLP"]


class TensorgraphMLP:
    """The reference model: ``[Linear(no bias) -> BatchNorm1d -> ReLU -> Dropout] x L ->
    Linear``, BCE with logits plus the L2 cost, Adam.

    Parameters
    ----------
    params : dict
        Initial parameters from :func:`~benchmarks.reference_numpy.init_params` (copied).
    spec : MLPSpec
    generator : numpy.random.Generator, optional
        Source of the dropout masks.
    """

    def __init__(self, params: dict[str, Array], spec: MLPSpec,
                 generator: np.random.Generator | None = None) -> None:
        self.spec = spec
        dtype = next(iter(params.values())).dtype
        gen = generator if generator is not None else np.random.default_rng(2)
        sizes = (spec.n_in, *spec.hidden)
        self.blocks: list[tuple[Any, Any, Any, Any]] = []
        layers: list[Any] = []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes), start=1):
            lin = nn.Linear(fan_in, fan_out, bias=False, dtype=dtype)
            bn = nn.BatchNorm1d(fan_out, eps=spec.bn_eps, momentum=spec.bn_momentum,
                                dtype=dtype)
            act = nn.ReLU()
            drop = nn.Dropout(spec.p, generator=gen)
            lin.weight.data = params[f"W{i}"].copy()
            bn.weight.data = params[f"gamma{i}"].copy()
            bn.bias.data = params[f"beta{i}"].copy()
            self.blocks.append((lin, bn, act, drop))
            layers += [lin, bn, act, drop]
        last = len(spec.hidden) + 1
        self.head = nn.Linear(sizes[-1], 1, dtype=dtype)
        self.head.weight.data = params[f"W{last}"].copy()
        assert self.head.bias is not None
        self.head.bias.data = params[f"b{last}"].copy()
        layers.append(self.head)
        self.net = nn.Sequential(*layers)
        self.net.train()
        self.weights = nn.weight_matrices(self.net)
        self.optimizer = optim.Adam(self.net.parameters(), lr=spec.lr, betas=spec.betas,
                                    eps=spec.adam_eps)

    def forward(self, x: Any, y: Any, record: list[Any] | None = None) -> Any:
        """The cost of a batch; ``record`` (if given) collects each dropout layer's output."""
        h = x
        for lin, bn, act, drop in self.blocks:
            h = drop(act(bn(lin(h))))
            if record is not None:
                record.append(h)
        logits = self.head(h)
        m = x.shape[0]
        l2 = nn.l2_penalty(self.weights, lam=self.spec.lam, m=m)
        return F.binary_cross_entropy_with_logits(logits, y) + l2

    def step(self, x: Any, y: Any) -> float:
        """One training step: forward, backward, Adam; returns the cost before the update."""
        self.optimizer.zero_grad()
        cost = self.forward(x, y)
        cost.backward()
        self.optimizer.step()
        return float(cost.item())
