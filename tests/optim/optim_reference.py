"""Plain numpy transcriptions of the update formulas (new arrays, no in-place tricks).

They are written straight from the math in docs/optim.md so that the in-place, scratch-buffer
implementations of tensorgraph.optim.functional can be checked against them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray


def ref_sgd(
    p: Array, g: Array, buf: Array | None, *, lr: float, momentum: float = 0.0,
    dampening: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0,
    maximize: bool = False,
) -> tuple[Array, Array | None]:  # fmt: skip
    g = -g if maximize else g
    g = g + weight_decay * p
    if momentum != 0:
        buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
        d = g + momentum * buf if nesterov else buf
    else:
        d = g
    return p - lr * d, buf


def ref_rmsprop(
    p: Array, g: Array, v: Array, gbar: Array, buf: Array, *, lr: float = 1e-2,
    alpha: float = 0.99, eps: float = 1e-8, momentum: float = 0.0, centered: bool = False,
    weight_decay: float = 0.0, maximize: bool = False,
) -> tuple[Array, Array, Array, Array]:  # fmt: skip
    g = -g if maximize else g
    g = g + weight_decay * p
    v = alpha * v + (1 - alpha) * g**2
    if centered:
        gbar = alpha * gbar + (1 - alpha) * g
        denom = np.sqrt(v - gbar**2) + eps
    else:
        denom = np.sqrt(v) + eps
    if momentum > 0:
        buf = momentum * buf + g / denom
        p = p - lr * buf
    else:
        p = p - lr * g / denom
    return p, v, gbar, buf


def ref_adam(
    p: Array, g: Array, m: Array, v: Array, vmax: Array, t: int, *, lr: float = 1e-3,
    beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0,
    amsgrad: bool = False, maximize: bool = False, decoupled: bool = False,
    eps_inside_sqrt: bool = False,
) -> tuple[Array, Array, Array, Array]:  # fmt: skip
    g = -g if maximize else g
    if decoupled:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    if amsgrad:
        vmax = np.maximum(vmax, v)
        second = vmax
    else:
        second = v
    m_hat = m / (1 - beta1**t)
    v_hat = second / (1 - beta2**t)
    denom = np.sqrt(v_hat + eps) if eps_inside_sqrt else np.sqrt(v_hat) + eps
    return p - lr * m_hat / denom, m, v, vmax


def run_reference(kind: str, p0: Array, grads: list[Array], **hp: Any) -> Array:
    """Apply ``len(grads)`` steps of the reference rule ``kind`` to one parameter array."""
    p = p0.copy()
    zeros = np.zeros_like(p)
    if kind == "sgd":
        buf = None
        for g in grads:
            p, buf = ref_sgd(p, g, buf, **hp)
    elif kind == "rmsprop":
        v, gbar, b = zeros, zeros, zeros
        for g in grads:
            p, v, gbar, b = ref_rmsprop(p, g, v, gbar, b, **hp)
    elif kind in ("adam", "adamw"):
        m, v, vmax = zeros, zeros, zeros
        for t, g in enumerate(grads, start=1):
            p, m, v, vmax = ref_adam(p, g, m, v, vmax, t, decoupled=kind == "adamw", **hp)
    else:
        raise ValueError(kind)
    return p
