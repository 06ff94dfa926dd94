"""The models of a study: :class:`ModelSpec`, the default series, and how a spec becomes a
network, a cost and an optimiser.

Every model of the default series is an L-layer network (``nn.MLP``) with ReLU hidden layers
and He initialisation; a spec with ``architecture="cnn"`` is a small convolutional network
(:class:`~tensorgraph.study.cnn.SquareCNN`) that reads each row of ``s * s`` features as an
``s x s`` image, its ``hidden`` being the channels of its convolutions.
Its output is a sigmoid unit for binary data and a softmax over the classes otherwise; it is
trained on the *logits* with the matching stable loss (``binary_cross_entropy_with_logits``
or ``cross_entropy``), and the sigmoid/softmax is applied when reading probabilities.
The "L2" models add :math:`\\frac{\\lambda}{2m}\\sum_l \\lVert W_l \\rVert_F^2` to the cost.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from .. import nn, optim
from ..errors import DomainError
from ..tensor import Tensor
from .cnn import SquareCNN, image_side

__all__ = [
    "ARCHITECTURES",
    "CATALOGUE",
    "OPTIMIZERS",
    "SERIES",
    "ModelSpec",
    "build_model",
    "check_data_fits",
    "describe_overrides",
    "make_loss",
    "make_optimizer",
    "output_width",
    "select",
    "with_overrides",
]

#: The optimisers a spec may name.
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")

#: The networks a spec may name: ``"mlp"`` (``nn.MLP``; ``hidden`` = the layer widths) or
#: ``"cnn"`` (:class:`~tensorgraph.study.cnn.SquareCNN`; ``hidden`` = the channels of its
#: 3x3 convolutions, e.g. ``(16, 32)``; it needs a square number of features).
ARCHITECTURES = ("mlp", "cnn")


@dataclass(frozen=True)
class ModelSpec:
    """One model of a study: its optimiser, its regularisation and (optionally) its own
    training settings.

    The fields left at None take the study's shared value (``epochs``, ``batch_size``,
    ``hidden``, ``patience``) or the optimiser's default (``momentum``: 0.9 for the
    ``"momentum"`` optimiser, 0 otherwise; ``betas``: Adam's (0.9, 0.999)).

    ``architecture`` is one of :data:`ARCHITECTURES`. For ``"cnn"``, ``hidden`` gives the
    output channels of the convolutions (the study's shared ``hidden``, meant for MLP layer
    widths, is not used: a CNN spec must set its own), ``batch_norm`` puts a
    ``BatchNorm2d`` after each convolution and ``dropout`` acts before the output layer.
    """

    name: str
    label: str
    optimizer: str  # one of OPTIMIZERS
    lr: float
    full_batch: bool = False
    l2: float = 0.0
    dropout: float = 0.0
    batch_norm: bool = False
    momentum: float | None = None
    betas: tuple[float, float] | None = None
    hidden: tuple[int, ...] | None = None
    epochs: int | None = None
    batch_size: int | None = None
    patience: int | None = None
    #: train through tg.compile (the same numbers, faster steps; docs/compile.md)
    compile: bool = False
    architecture: str = "mlp"

    def __post_init__(self) -> None:
        check_spec(self)


def _fail(spec_name: str, message: str) -> DomainError:
    return DomainError(f"model {spec_name!r}: {message}")


def _number(value: Any) -> bool:
    # bool is an int in Python: True must not pass for a learning rate of 1.
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_spec(spec: ModelSpec) -> None:
    """Refuse a spec whose values no optimiser or network accepts (raises DomainError)."""
    name = spec.name
    if not isinstance(name, str) or not name:
        raise DomainError(f"a model needs a non-empty name, got {name!r}")
    if not (isinstance(spec.label, str) and spec.label.strip()):
        raise _fail(name, f"label must be a non-empty string, got {spec.label!r}")
    for flag in ("full_batch", "batch_norm", "compile"):
        if not isinstance(getattr(spec, flag), bool):
            raise _fail(name, f"{flag} must be True or False, got {getattr(spec, flag)!r}")
    if spec.optimizer not in OPTIMIZERS:
        raise _fail(name, f"optimizer must be one of {', '.join(OPTIMIZERS)}, "
                    f"got {spec.optimizer!r}")
    if spec.architecture not in ARCHITECTURES:
        raise _fail(name, f"architecture must be one of {', '.join(ARCHITECTURES)}, "
                    f"got {spec.architecture!r}")
    if spec.architecture == "cnn" and spec.hidden is None:
        raise _fail(name, "a CNN needs its own hidden: the output channels of its "
                    "convolutions, e.g. (16, 32) (the study's shared hidden sizes are MLP "
                    "layer widths)")
    if not (_number(spec.lr) and math.isfinite(spec.lr) and spec.lr > 0):
        raise _fail(name, f"lr must be a positive number, got {spec.lr!r}")
    if not (_number(spec.l2) and math.isfinite(spec.l2) and spec.l2 >= 0):
        raise _fail(name, f"l2 must be a number >= 0, got {spec.l2!r}")
    if not (_number(spec.dropout) and 0 <= spec.dropout < 1):
        raise _fail(name, f"dropout must be in [0, 1), got {spec.dropout!r}")
    if spec.momentum is not None and not (
        _number(spec.momentum) and 0 <= spec.momentum < 1
    ):
        raise _fail(name, f"momentum must be in [0, 1), got {spec.momentum!r}")
    if spec.betas is not None and not (
        len(spec.betas) == 2 and all(_number(b) and 0 <= b < 1 for b in spec.betas)
    ):
        raise _fail(name, f"betas must be two numbers in [0, 1), got {spec.betas!r}")
    if spec.hidden is not None and (
        not spec.hidden or not all(isinstance(w, int) and not isinstance(w, bool) and w >= 1
                                   for w in spec.hidden)
    ):
        raise _fail(name, f"hidden must be positive layer widths, got {spec.hidden!r}")
    for key in ("epochs", "batch_size"):
        value = getattr(spec, key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):
            raise _fail(name, f"{key} must be a positive integer, got {value!r}")
    if spec.patience is not None and (
        isinstance(spec.patience, bool) or not isinstance(spec.patience, int) or spec.patience < 0
    ):
        raise _fail(name, f"patience must be an integer >= 0, got {spec.patience!r}")


#: The series of the original study, in its order: the default models of a study.
SERIES: tuple[ModelSpec, ...] = (
    ModelSpec("gd", "full-batch gradient descent", "sgd", lr=0.5, full_batch=True),
    ModelSpec("minibatch", "mini-batch gradient descent", "sgd", lr=0.05),
    ModelSpec("momentum", "momentum", "momentum", lr=0.05),
    ModelSpec("rmsprop", "RMSprop", "rmsprop", lr=0.001),
    ModelSpec("adam", "Adam", "adam", lr=0.001),
    ModelSpec("adam_l2", "Adam + L2", "adam", lr=0.001, l2=0.5),
    ModelSpec("adam_dropout", "Adam + dropout", "adam", lr=0.001, dropout=0.2),
    ModelSpec("adam_bn", "Adam + batch-norm", "adam", lr=0.001, batch_norm=True),
    ModelSpec(
        "adam_bn_l2_dropout",
        "Adam + batch-norm + L2 + dropout",
        "adam",
        lr=0.001,
        l2=0.5,
        dropout=0.2,
        batch_norm=True,
    ),
)


#: A small CNN on square images (the digits' 8x8), outside the default series: two 3x3
#: convolutions of 16 and 32 channels with batch-norm and ReLU, a 2x2 max-pool, dropout and
#: the output layer (``SquareCNN``).
CNN = ModelSpec("cnn", "CNN 16-32 + batch-norm + dropout (Adam)", "adam", lr=0.003,
                dropout=0.25, batch_norm=True, hidden=(16, 32), architecture="cnn")

#: Every model ``select`` and a study file can name: the default series, then the models
#: outside it (:data:`CNN`).
CATALOGUE: tuple[ModelSpec, ...] = (*SERIES, CNN)


def select(
    names: Sequence[str] | None, series: Sequence[ModelSpec] | None = None
) -> list[ModelSpec]:
    """The specs named in ``names``, in the series' order; all of the series for None.

    Without ``series``, ``names`` may name any model of :data:`CATALOGUE` (e.g. ``"cnn"``)
    and None selects the nine models of the default :data:`SERIES`.
    """
    if not names:
        return list(SERIES if series is None else series)
    series = CATALOGUE if series is None else series
    known = {spec.name: spec for spec in series}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise DomainError(f"unknown model {unknown[0]!r}; the series is: {', '.join(known)}")
    return [spec for spec in series if spec.name in set(names)]


def describe_overrides(values: dict[str, Any]) -> str:
    """``{"l2": 0.0, "lr": 0.01}`` as ``"l2=0, lr=0.01"`` (the form labels and tables show)."""
    return ", ".join(f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"
                     for key, value in values.items())


def with_overrides(specs: Sequence[ModelSpec], **values: Any) -> list[ModelSpec]:
    """``specs`` with the given fields (those not None) set on every spec, e.g.
    ``with_overrides(specs, lr=0.01, l2=None)`` sets every learning rate to 0.01.

    A spec that an override changes gets it appended to its label (``"Adam + L2
    [l2=0]"``), so that no table shows the label of a model that did not run as labelled.
    """
    names = {f.name for f in fields(ModelSpec)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise DomainError(f"with_overrides: ModelSpec has no field {unknown[0]!r}")
    given = {k: v for k, v in values.items() if v is not None}
    changed = []
    for spec in specs:
        differs = {k: v for k, v in given.items() if k != "label" and getattr(spec, k) != v}
        label = given.get("label", spec.label)
        if differs:
            label = f"{label} [{describe_overrides(differs)}]"
        changed.append(replace(spec, **{**given, "label": label}))
    return changed


def output_width(n_classes: int) -> int:
    """One logit for two classes (sigmoid output), one per class otherwise (softmax)."""
    return 1 if n_classes == 2 else n_classes


def check_data_fits(spec: ModelSpec, n_features: int) -> None:
    """Refuse (DomainError) data that ``spec``'s network cannot read: a CNN needs a square
    number of features."""
    if spec.architecture == "cnn":
        image_side(n_features, f"model {spec.name!r}")


def build_model(
    spec: ModelSpec, n_features: int, n_classes: int, hidden: Sequence[int], seed: int
) -> nn.Sequential:
    """The network of ``spec``, logits out, He initialisation: an ``nn.MLP`` with ReLU hidden
    layers (``spec.hidden`` when set, else ``hidden``), or for ``architecture="cnn"`` a
    :class:`~tensorgraph.study.cnn.SquareCNN` with ``spec.hidden`` channels."""
    if spec.architecture == "cnn":
        assert spec.hidden is not None  # check_spec refuses a CNN without it
        return SquareCNN(n_features, spec.hidden, output_width(n_classes),
                         batch_norm=spec.batch_norm, dropout=spec.dropout, generator=seed)
    sizes = [n_features, *(spec.hidden or hidden), output_width(n_classes)]
    return nn.MLP(
        sizes,
        activation="relu",
        batch_norm=spec.batch_norm,
        dropout=spec.dropout,
        output=None,
        init="kaiming",
        generator=seed,
    )


def make_loss(model: nn.Module, spec: ModelSpec, n_classes: int) -> Callable[[Any, Any], Any]:
    """The cost of ``spec``: cross-entropy of the logits, plus the L2 term when asked for."""
    weights = nn.weight_matrices(model)

    def cost(output: Any, target: Any) -> Any:
        if n_classes == 2:
            # tensor ops (not numpy on the labels' array), so that tg.compile can trace it
            labels = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
            value = nn.functional.binary_cross_entropy_with_logits(
                output, labels.reshape(-1, 1).astype(output.dtype)
            )
        else:
            value = nn.functional.cross_entropy(output, target)
        if spec.l2:
            value = value + nn.l2_penalty(weights, spec.l2, m=len(output))
        return value

    return cost


def make_optimizer(spec: ModelSpec, model: nn.Module) -> optim.Optimizer:
    """The optimiser of ``spec`` (PyTorch's defaults apart from the learning rate, the
    momentum and the betas)."""
    params = list(model.parameters())
    if spec.optimizer == "sgd":
        return optim.SGD(params, lr=spec.lr, momentum=spec.momentum or 0.0)
    if spec.optimizer == "momentum":
        momentum = 0.9 if spec.momentum is None else spec.momentum
        return optim.SGD(params, lr=spec.lr, momentum=momentum)
    if spec.optimizer == "rmsprop":
        return optim.RMSprop(params, lr=spec.lr, momentum=spec.momentum or 0.0)
    if spec.optimizer == "adam":
        return optim.Adam(params, lr=spec.lr, betas=spec.betas or (0.9, 0.999))
    raise DomainError(f"unknown optimizer {spec.optimizer!r}")
