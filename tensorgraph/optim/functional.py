r"""The optimizers' update rules as pure functions on numpy arrays.

Each function updates ``param`` and its state arrays **in place** and returns nothing (except
:func:`sgd_update`, which returns the momentum buffer it may have had to create). They know
nothing about :class:`~tensorgraph.Tensor`, parameter groups or the graph, so the math can be
read and tested on its own; the classes in :mod:`tensorgraph.optim` hold the state and call
them.

Temporaries. Every rule is written with numpy ``out=`` arguments so that a step allocates
nothing: ``scratch`` is one work array shaped like ``param`` (reused for every intermediate,
one after the other) and ``grad_scratch`` holds the *effective* gradient when it differs from
``grad`` (coupled weight decay or ``maximize``), because ``grad`` itself is never modified
(it is the user's ``p.grad``). Both are allocated on the fly when not given, so the functions
also work standalone; the optimizer classes pass buffers they keep from step to step.

The operation order follows PyTorch's single-tensor implementations (``torch.optim``), so
results agree with it to rounding in float64.
"""

from __future__ import annotations

import numpy as np

__all__ = ["adam_update", "adamw_update", "rmsprop_update", "sgd_update"]


def _effective_grad(
    param: np.ndarray,
    grad: np.ndarray,
    weight_decay: float,
    maximize: bool,
    grad_scratch: np.ndarray | None,
) -> np.ndarray:
    r"""Return :math:`\pm g + \lambda p` (coupled weight decay), ``grad`` itself when neither
    the sign nor the decay changes it (no copy in the common case)."""
    if weight_decay == 0 and not maximize:
        return grad
    out = np.empty_like(param) if grad_scratch is None else grad_scratch
    if weight_decay == 0:
        np.negative(grad, out=out)
    else:
        np.multiply(param, weight_decay, out=out)
        # maximize: -g + wd p, written as wd p - g (the same number, no sign temporary)
        (np.subtract if maximize else np.add)(out, grad, out=out)
    return out


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float, scratch: np.ndarray) -> None:
    r"""``start += weight * (end - start)`` in place, in PyTorch's ``lerp_`` form.

    For ``weight >= 0.5`` PyTorch evaluates :math:`e - (e - s)(1 - w)` instead; both equal
    :math:`(1-w) s + w e`, we keep the same branch so the rounding is the same too.
    """
    np.subtract(end, start, out=scratch)
    if weight < 0.5:
        scratch *= weight
        start += scratch
    else:
        scratch *= 1.0 - weight
        np.subtract(end, scratch, out=start)


def _scratch(param: np.ndarray, scratch: np.ndarray | None) -> np.ndarray:
    return np.empty_like(param) if scratch is None else scratch


def sgd_update(
    param: np.ndarray,
    grad: np.ndarray,
    momentum_buffer: np.ndarray | None,
    *,
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    maximize: bool = False,
    scratch: np.ndarray | None = None,
    grad_scratch: np.ndarray | None = None,
) -> np.ndarray | None:
    r"""One step of stochastic gradient descent with (Nesterov) momentum, in place.

    .. math::

        g &\leftarrow \pm \nabla + \lambda\, p \\
        b &\leftarrow \begin{cases} g & \text{first step (buffer is None)} \\
                       \mu\, b + (1 - \tau)\, g & \text{afterwards} \end{cases} \\
        d &= \begin{cases} g + \mu\, b & \text{nesterov} \\ b & \text{otherwise} \end{cases}
            \qquad (d = g \text{ when } \mu = 0) \\
        p &\leftarrow p - \eta\, d

    with learning rate :math:`\eta`, momentum :math:`\mu`, dampening :math:`\tau` and
    coupled weight decay :math:`\lambda`; the sign of :math:`\nabla` is flipped when
    ``maximize``.

    Parameters
    ----------
    param, grad : ndarray
        The parameter (updated in place) and its gradient (read only).
    momentum_buffer : ndarray or None
        The buffer :math:`b` (updated in place); None before the first momentum step.

    Returns
    -------
    ndarray or None
        The momentum buffer (a new array on the first momentum step), None without momentum.
    """
    tmp = _scratch(param, scratch)
    g = _effective_grad(param, grad, weight_decay, maximize, grad_scratch)
    if momentum != 0:
        if momentum_buffer is None:
            momentum_buffer = g.copy()
        else:
            momentum_buffer *= momentum
            if dampening == 0:
                momentum_buffer += g
            else:
                np.multiply(g, 1.0 - dampening, out=tmp)
                momentum_buffer += tmp
        if nesterov:
            np.multiply(momentum_buffer, momentum, out=tmp)
            tmp += g
            tmp *= lr
        else:
            np.multiply(momentum_buffer, lr, out=tmp)
    else:
        np.multiply(g, lr, out=tmp)
    param -= tmp
    return momentum_buffer


def rmsprop_update(
    param: np.ndarray,
    grad: np.ndarray,
    square_avg: np.ndarray,
    grad_avg: np.ndarray | None = None,
    momentum_buffer: np.ndarray | None = None,
    *,
    lr: float = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    momentum: float = 0.0,
    centered: bool = False,
    weight_decay: float = 0.0,
    maximize: bool = False,
    scratch: np.ndarray | None = None,
    grad_scratch: np.ndarray | None = None,
) -> None:
    r"""One RMSprop step (Hinton, Lecture 6e of *Neural Networks for Machine Learning*), in place.

    .. math::

        g &\leftarrow \pm \nabla + \lambda\, p \\
        v &\leftarrow \alpha\, v + (1 - \alpha)\, g^2 \\
        \bar g &\leftarrow \alpha\, \bar g + (1 - \alpha)\, g \quad \text{(centered only)} \\
        \tilde v &= v - \bar g^2 \ \text{(centered)}, \quad \tilde v = v \ \text{(otherwise)} \\
        b &\leftarrow \mu\, b + g / (\sqrt{\tilde v} + \epsilon), \qquad
        p \leftarrow p - \eta\, b \quad (\mu > 0) \\
        p &\leftarrow p - \eta\, g / (\sqrt{\tilde v} + \epsilon) \quad (\mu = 0)

    ``eps`` is added after the square root (PyTorch's placement). The state arrays
    ``square_avg`` (:math:`v`), ``grad_avg`` (:math:`\bar g`, needed when ``centered``) and
    ``momentum_buffer`` (:math:`b`, needed when ``momentum > 0``) all start at zero.
    """
    if centered and grad_avg is None:
        raise ValueError("rmsprop_update: centered=True needs the grad_avg state array")
    if momentum > 0 and momentum_buffer is None:
        raise ValueError("rmsprop_update: momentum > 0 needs the momentum_buffer state array")
    tmp = _scratch(param, scratch)
    g = _effective_grad(param, grad, weight_decay, maximize, grad_scratch)
    square_avg *= alpha
    np.multiply(g, g, out=tmp)
    tmp *= 1.0 - alpha
    square_avg += tmp
    if centered:
        assert grad_avg is not None  # checked above
        _lerp_(grad_avg, g, 1.0 - alpha, tmp)
        np.multiply(grad_avg, grad_avg, out=tmp)
        np.subtract(square_avg, tmp, out=tmp)
        np.sqrt(tmp, out=tmp)
    else:
        np.sqrt(square_avg, out=tmp)
    tmp += eps
    np.divide(g, tmp, out=tmp)
    if momentum > 0:
        assert momentum_buffer is not None  # checked above
        momentum_buffer *= momentum
        momentum_buffer += tmp
        np.multiply(momentum_buffer, lr, out=tmp)
    else:
        tmp *= lr
    param -= tmp


def adam_update(
    param: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    max_exp_avg_sq: np.ndarray | None = None,
    *,
    step: int,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    maximize: bool = False,
    decoupled_weight_decay: bool = False,
    eps_inside_sqrt: bool = False,
    scratch: np.ndarray | None = None,
    grad_scratch: np.ndarray | None = None,
) -> None:
    r"""One Adam step (Kingma & Ba, 2015, *Adam: A Method for Stochastic Optimization*), in place.

    .. math::

        g &\leftarrow \pm \nabla + \lambda\, p
            \quad \text{(coupled weight decay; AdamW: } p \leftarrow (1 - \eta\lambda)\, p
            \text{ instead)} \\
        m &\leftarrow \beta_1 m + (1 - \beta_1)\, g \\
        v &\leftarrow \beta_2 v + (1 - \beta_2)\, g^2 \\
        \hat m &= m / (1 - \beta_1^t), \qquad
        \hat v = v / (1 - \beta_2^t) \\
        p &\leftarrow p - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)

    With ``amsgrad`` the running maximum :math:`v_{\max} \leftarrow \max(v_{\max}, v)` is
    kept and bias-corrected in place of :math:`v` (PyTorch's variant). With
    ``eps_inside_sqrt`` the denominator is :math:`\sqrt{\hat v + \epsilon}`, the placement of
    the original study; the default is PyTorch's (and the Adam paper's Algorithm 1).

    Parameters
    ----------
    param, grad : ndarray
        The parameter (updated in place) and its gradient (read only).
    exp_avg, exp_avg_sq : ndarray
        :math:`m` and :math:`v`, zero before the first step, updated in place.
    max_exp_avg_sq : ndarray, optional
        :math:`v_{\max}` (zero before the first step), required when ``amsgrad``.
    step : int
        :math:`t`, the 1-based index of this step (already incremented).
    decoupled_weight_decay : bool
        Apply ``weight_decay`` as AdamW does (see :func:`adamw_update`).
    """
    if step < 1:
        raise ValueError(f"adam_update: step is 1-based, got {step}")
    if amsgrad and max_exp_avg_sq is None:
        raise ValueError("adam_update: amsgrad=True needs the max_exp_avg_sq state array")
    tmp = _scratch(param, scratch)
    if decoupled_weight_decay:
        if weight_decay != 0:
            param *= 1.0 - lr * weight_decay
        g = _effective_grad(param, grad, 0.0, maximize, grad_scratch)
    else:
        g = _effective_grad(param, grad, weight_decay, maximize, grad_scratch)
    _lerp_(exp_avg, g, 1.0 - beta1, tmp)
    exp_avg_sq *= beta2
    np.multiply(g, g, out=tmp)
    tmp *= 1.0 - beta2
    exp_avg_sq += tmp

    bias_correction1 = 1.0 - beta1**step
    bias_correction2 = 1.0 - beta2**step
    step_size = lr / bias_correction1
    second = exp_avg_sq
    if amsgrad:
        assert max_exp_avg_sq is not None  # checked above
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    if step_size == 0:
        return  # lr = 0: the moments advance, the parameter stays
    # p -= step_size * m / (sqrt(v) / sqrt(bc2) + eps), with the scalars folded into one
    # factor so that the denominator costs one pass less:
    #   step_size * m / (sqrt(v)/c + eps) = m / ((sqrt(v) + eps c) / (step_size c)),  c = sqrt(bc2)
    c = bias_correction2**0.5
    if eps_inside_sqrt:
        # sqrt(v / bc2 + eps) = sqrt(v + eps bc2) / c
        np.add(second, eps * bias_correction2, out=tmp)
        np.sqrt(tmp, out=tmp)
    else:
        np.sqrt(second, out=tmp)
        tmp += eps * c
    tmp *= 1.0 / (step_size * c)
    np.divide(exp_avg, tmp, out=tmp)
    param -= tmp


def adamw_update(
    param: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    max_exp_avg_sq: np.ndarray | None = None,
    *,
    step: int,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
    amsgrad: bool = False,
    maximize: bool = False,
    eps_inside_sqrt: bool = False,
    scratch: np.ndarray | None = None,
    grad_scratch: np.ndarray | None = None,
) -> None:
    r"""One AdamW step (Loshchilov & Hutter, 2019, *Decoupled Weight Decay Regularization*).

    The weight decay shrinks the parameter directly instead of entering the gradient (and
    hence the moments):

    .. math:: p \leftarrow (1 - \eta \lambda)\, p

    followed by the Adam step of :func:`adam_update` with no coupled decay.
    """
    adam_update(
        param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step=step, lr=lr, beta1=beta1,
        beta2=beta2, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
        decoupled_weight_decay=True, eps_inside_sqrt=eps_inside_sqrt, scratch=scratch,
        grad_scratch=grad_scratch,
    )  # fmt: skip
