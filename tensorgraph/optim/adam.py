r"""Adam and AdamW: adaptive moment estimation, with coupled or decoupled weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import DomainError, DTypeError
from ..tensor import Tensor
from .functional import adam_update
from .optimizer import Optimizer, ParamGroup, check_flag, check_hparam

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015, *Adam: A Method for Stochastic Optimization*), PyTorch's form.

    .. math::

        g &\leftarrow \pm \nabla_p L + \lambda\, p \quad \text{(coupled weight decay)} \\
        m &\leftarrow \beta_1 m + (1 - \beta_1)\, g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2 \\
        \hat m &= \frac{m}{1 - \beta_1^t}, \qquad \hat v = \frac{v}{1 - \beta_2^t} \\
        p &\leftarrow p - \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    :math:`m, v` start at zero and :math:`t` counts this parameter's steps from 1. With
    ``amsgrad`` (Reddi et al., 2018) :math:`v_{\max} = \max(v_{\max}, v)` replaces :math:`v`
    (bias-corrected, as PyTorch does). ``eps`` is added *after* the square root (PyTorch,
    and Algorithm 1 of the paper); ``eps_inside_sqrt=True`` gives :math:`\sqrt{\hat v +
    \epsilon}`, the original study's placement. The update is
    :func:`tensorgraph.optim.functional.adam_update`.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta \ge 0`.
    betas : (float, float)
        :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)`.
    eps : float
        :math:`\epsilon > 0`.
    weight_decay : float
        Coupled L2 coefficient :math:`\lambda \ge 0`: equivalent to adding
        :math:`\tfrac{\lambda}{2}\|p\|^2` to the loss. See :class:`AdamW` for the decoupled form.
    amsgrad : bool
        Use the running maximum of :math:`v`.
    maximize : bool
        Ascend instead of descend.
    eps_inside_sqrt : bool
        Put :math:`\epsilon` under the square root.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> w = tg.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = tg.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()  # the first Adam step moves each weight by about lr
    >>> w.numpy().round(6)
    array([ 0.9, -1.9], dtype=float32)
    """

    _decoupled = False

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[ParamGroup],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        eps_inside_sqrt: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
            maximize=maximize, eps_inside_sqrt=eps_inside_sqrt,
        )  # fmt: skip
        super().__init__(params, defaults)

    def _check_group(self, group: ParamGroup) -> None:
        name = type(self).__name__
        check_hparam(name, "lr", group["lr"])
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise DTypeError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        check_hparam(name, "betas[0]", betas[0], high=1.0, high_open=True)
        check_hparam(name, "betas[1]", betas[1], high=1.0, high_open=True)
        check_hparam(name, "eps", group["eps"], low_open=True)
        check_hparam(name, "weight_decay", group["weight_decay"])
        check_flag(name, "amsgrad", group["amsgrad"])
        check_flag(name, "maximize", group["maximize"])
        check_flag(name, "eps_inside_sqrt", group["eps_inside_sqrt"])
        if self._decoupled and group["lr"] * group["weight_decay"] > 1:
            raise DomainError(
                f"{name}: lr * weight_decay = {group['lr'] * group['weight_decay']!r} > 1 "
                f"would flip the weights' sign in the decay p *= 1 - lr * weight_decay"
            )

    def _step_group(self, group: ParamGroup) -> None:
        lr: float = group["lr"]
        beta1, beta2 = group["betas"]
        eps: float = group["eps"]
        weight_decay: float = group["weight_decay"]
        amsgrad: bool = group["amsgrad"]
        maximize: bool = group["maximize"]
        inside: bool = group["eps_inside_sqrt"]
        decoupled = self._decoupled
        need_grad = maximize or (weight_decay != 0 and not decoupled)
        for p in group["params"]:
            grad = self._grad_array(p)
            if grad is None:
                continue
            state: dict[str, Any] | None = self.state.get(p)
            if state is None:
                state = self.state[p] = {
                    "step": 0,
                    "exp_avg": np.zeros_like(p._data),
                    "exp_avg_sq": np.zeros_like(p._data),
                }
            if amsgrad and "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = np.zeros_like(p._data)
            state["step"] += 1
            tmp, gtmp = self._buffers(p, need_grad)
            adam_update(
                p._data, grad, state["exp_avg"], state["exp_avg_sq"],
                state.get("max_exp_avg_sq"), step=state["step"], lr=lr, beta1=beta1,
                beta2=beta2, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                maximize=maximize, decoupled_weight_decay=decoupled, eps_inside_sqrt=inside,
                scratch=tmp, grad_scratch=gtmp,
            )  # fmt: skip
            p._bump_version()


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), PyTorch's ``AdamW``.

    The decay shrinks the weights directly, before the Adam step, instead of entering the
    gradient (and hence being rescaled by :math:`1/(\sqrt{\hat v} + \epsilon)`):

    .. math::

        p \leftarrow (1 - \eta \lambda)\, p, \qquad
        \text{then } p \leftarrow p - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)
        \text{ with } g = \pm\nabla_p L

    With decoupled decay, :math:`\lambda` is *not* equivalent to an L2 penalty in the loss.
    Defaults as PyTorch: ``weight_decay=1e-2``. Other parameters as :class:`Adam`
    (the update is :func:`tensorgraph.optim.functional.adamw_update`).
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[ParamGroup],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        eps_inside_sqrt: bool = False,
    ) -> None:
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
            maximize=maximize, eps_inside_sqrt=eps_inside_sqrt,
        )  # fmt: skip
