r"""Stochastic gradient descent with optional (Nesterov) momentum."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import DomainError
from ..tensor import Tensor
from .functional import sgd_update
from .optimizer import Optimizer, ParamGroup, check_flag, check_hparam

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, PyTorch's ``torch.optim.SGD``.

    .. math::

        g &\leftarrow \pm \nabla_p L + \lambda\, p \\
        b_1 &= g, \qquad b_t = \mu\, b_{t-1} + (1 - \tau)\, g \\
        p &\leftarrow p - \eta \cdot \begin{cases} g + \mu\, b_t & \text{nesterov} \\
                                        b_t & \text{otherwise} \end{cases}

    (:math:`p \leftarrow p - \eta g` when :math:`\mu = 0`). The momentum buffer starts as the
    first gradient, not as zero (PyTorch's convention; Sutskever et al., 2013 for the
    Nesterov form). The update is :func:`tensorgraph.optim.functional.sgd_update`.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters or parameter groups (see :class:`~tensorgraph.optim.Optimizer`).
    lr : float
        Learning rate :math:`\eta \ge 0`.
    momentum : float
        :math:`\mu \ge 0`.
    dampening : float
        :math:`\tau \in [0, 1]`.
    nesterov : bool
        Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
    weight_decay : float
        Coupled L2 coefficient :math:`\lambda \ge 0` (added to the gradient).
    maximize : bool
        Ascend instead of descend.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> w = tg.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = tg.optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.8, -1.6], dtype=float32, requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[ParamGroup],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
            weight_decay=weight_decay, maximize=maximize,
        )  # fmt: skip
        super().__init__(params, defaults)

    def _check_group(self, group: ParamGroup) -> None:
        check_hparam("SGD", "lr", group["lr"])
        momentum = check_hparam("SGD", "momentum", group["momentum"])
        dampening = check_hparam("SGD", "dampening", group["dampening"], high=1.0)
        check_hparam("SGD", "weight_decay", group["weight_decay"])
        check_flag("SGD", "maximize", group["maximize"])
        if check_flag("SGD", "nesterov", group["nesterov"]) and (momentum <= 0 or dampening != 0):
            raise DomainError(
                f"SGD: nesterov momentum needs momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _step_group(self, group: ParamGroup) -> None:
        lr: float = group["lr"]
        momentum: float = group["momentum"]
        dampening: float = group["dampening"]
        nesterov: bool = group["nesterov"]
        weight_decay: float = group["weight_decay"]
        maximize: bool = group["maximize"]
        need_grad = weight_decay != 0 or maximize
        for p in group["params"]:
            grad = self._grad_array(p)
            if grad is None:
                continue
            state: dict[str, Any] = self.state.setdefault(p, {})
            tmp, gtmp = self._buffers(p, need_grad)
            buf = sgd_update(
                p._data, grad, state.get("momentum_buffer"), lr=lr, momentum=momentum,
                dampening=dampening, nesterov=nesterov, weight_decay=weight_decay,
                maximize=maximize, scratch=tmp, grad_scratch=gtmp,
            )  # fmt: skip
            if buf is not None:
                state["momentum_buffer"] = buf
            p._bump_version()
