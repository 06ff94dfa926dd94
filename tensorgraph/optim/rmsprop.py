r"""RMSprop: gradient steps scaled by a running root-mean-square of the gradient."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .functional import rmsprop_update
from .optimizer import Optimizer, ParamGroup, check_flag, check_hparam

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, *Neural Networks for Machine Learning*, lecture 6e), PyTorch's form.

    .. math::

        g &\leftarrow \pm \nabla_p L + \lambda\, p \\
        v &\leftarrow \alpha\, v + (1 - \alpha)\, g^2, \qquad
        \bar g \leftarrow \alpha\, \bar g + (1 - \alpha)\, g \ \text{(centered)} \\
        s &= \sqrt{v - \bar g^2} + \epsilon \ \text{(centered)}, \qquad
        s = \sqrt{v} + \epsilon \ \text{(otherwise)} \\
        b &\leftarrow \mu\, b + g / s, \quad p \leftarrow p - \eta\, b \quad (\mu > 0);
        \qquad p \leftarrow p - \eta\, g / s \quad (\mu = 0)

    :math:`v`, :math:`\bar g` and :math:`b` start at zero; ``eps`` is added after the square
    root. No bias correction (unlike Adam). The update is
    :func:`tensorgraph.optim.functional.rmsprop_update`.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta \ge 0`.
    alpha : float
        Smoothing constant :math:`\alpha \in [0, 1)`.
    eps : float
        :math:`\epsilon > 0`.
    momentum : float
        :math:`\mu \ge 0` (a momentum buffer over the scaled step).
    centered : bool
        Divide by an estimate of the gradient's variance rather than its second moment.
    weight_decay : float
        Coupled L2 coefficient :math:`\lambda \ge 0`.
    maximize : bool
        Ascend instead of descend.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[ParamGroup],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
            centered=centered, maximize=maximize,
        )  # fmt: skip
        super().__init__(params, defaults)

    def _check_group(self, group: ParamGroup) -> None:
        check_hparam("RMSprop", "lr", group["lr"])
        check_hparam("RMSprop", "alpha", group["alpha"], high=1.0, high_open=True)
        check_hparam("RMSprop", "eps", group["eps"], low_open=True)
        check_hparam("RMSprop", "momentum", group["momentum"])
        check_hparam("RMSprop", "weight_decay", group["weight_decay"])
        check_flag("RMSprop", "centered", group["centered"])
        check_flag("RMSprop", "maximize", group["maximize"])

    def _step_group(self, group: ParamGroup) -> None:
        lr: float = group["lr"]
        alpha: float = group["alpha"]
        eps: float = group["eps"]
        momentum: float = group["momentum"]
        centered: bool = group["centered"]
        weight_decay: float = group["weight_decay"]
        maximize: bool = group["maximize"]
        need_grad = weight_decay != 0 or maximize
        for p in group["params"]:
            grad = self._grad_array(p)
            if grad is None:
                continue
            state: dict[str, Any] | None = self.state.get(p)
            if state is None:
                state = self.state[p] = {"step": 0, "square_avg": np.zeros_like(p._data)}
            # created when first needed, so turning an option on mid-run works
            if centered and "grad_avg" not in state:
                state["grad_avg"] = np.zeros_like(p._data)
            if momentum > 0 and "momentum_buffer" not in state:
                state["momentum_buffer"] = np.zeros_like(p._data)
            state["step"] += 1
            tmp, gtmp = self._buffers(p, need_grad)
            rmsprop_update(
                p._data, grad, state["square_avg"], state.get("grad_avg"),
                state.get("momentum_buffer"), lr=lr, alpha=alpha, eps=eps, momentum=momentum,
                centered=centered, weight_decay=weight_decay, maximize=maximize,
                scratch=tmp, grad_scratch=gtmp,
            )  # fmt: skip
            p._bump_version()
