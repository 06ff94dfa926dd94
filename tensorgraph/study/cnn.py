"""The study's convolutional network: :class:`SquareCNN`, which reads a row of ``s * s``
features as a one-channel ``s x s`` image (the 64 pixels of the digits as 8x8).

It takes the same standardised 2-D feature rows as the MLPs (its first layer is an
``nn.Unflatten``), so the study's resampling, scaling, training and evaluation run it
unchanged, and a saved model predicts from the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from numpy.typing import DTypeLike

from .. import nn
from ..errors import DomainError
from ..nn import init
from ..nn.init import GeneratorLike, get_generator
from ..serialization import register_architecture

__all__ = ["SquareCNN", "image_side"]


def image_side(n_features: int, where: str = "SquareCNN") -> int:
    """The side ``s`` of the square image a row of ``n_features = s * s`` features makes.

    Raises DomainError naming ``where`` when ``n_features`` is not a square number.
    """
    side = math.isqrt(n_features) if n_features >= 1 else 0
    if side < 1 or side * side != n_features:
        raise DomainError(
            f"{where}: a CNN reads each row of features as a square one-channel image, so it "
            f"needs a square number of features (64 for 8x8); got {n_features}, which is not "
            f"a square"
        )
    return side


class SquareCNN(nn.Sequential):
    """A small CNN on rows of ``s * s`` features: ``Unflatten`` to ``(1, s, s)``, then per
    width in ``channels`` a 3x3 ``Conv2d`` (padding 1, so the image keeps its size) ->
    ``BatchNorm2d`` (if ``batch_norm``; the conv then has no bias) -> ``ReLU``; then a 2x2
    ``MaxPool2d`` (when ``s >= 2``), ``Flatten``, ``Dropout`` (if ``dropout > 0``) and the
    output ``Linear``, which returns logits.

    The convolutions have He initialisation (uniform, ReLU gain), the output layer the
    uniform initialisation of gain 1, all biases zero: as ``nn.MLP(init="kaiming")``.

    Parameters
    ----------
    n_features : int
        Features per row: a square number ``s * s``.
    channels : sequence of int
        The output channels of the convolutions, e.g. ``(16, 32)``: at least one.
    n_outputs : int
        The width of the output (logits).
    batch_norm : bool
    dropout : float
        Dropout probability before the output layer, in ``[0, 1)``.
    dtype : float dtype, optional
    generator : int or numpy Generator, optional
        Seeds the initialisation and the dropout masks.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorgraph as tg
    >>> from tensorgraph.study import SquareCNN
    >>> model = SquareCNN(64, (8, 16), 10, generator=0)
    >>> model(tg.tensor(np.zeros((3, 64), np.float32))).shape
    (3, 10)
    """

    def __init__(self, n_features: int, channels: Sequence[int], n_outputs: int,
                 batch_norm: bool = True, dropout: float = 0.0,
                 dtype: DTypeLike | None = None, generator: GeneratorLike = None) -> None:
        super().__init__()
        side = image_side(n_features)
        widths = tuple(channels)
        if not widths or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 1
                                 for c in widths):
            raise DomainError(f"SquareCNN: channels must be positive ints, at least one, got "
                              f"{channels!r}")
        if isinstance(n_outputs, bool) or not isinstance(n_outputs, int) or n_outputs < 1:
            raise DomainError(f"SquareCNN: n_outputs must be a positive int, got {n_outputs!r}")
        rng = get_generator(generator)
        self._config: dict[str, Any] = {
            "n_features": n_features, "channels": list(widths), "n_outputs": n_outputs,
            "batch_norm": bool(batch_norm), "dropout": float(dropout),
        }
        self.append(nn.Unflatten(1, (1, side, side)))
        convs = []
        for n_in, n_out in zip((1, *widths[:-1]), widths, strict=True):
            conv = nn.Conv2d(n_in, n_out, 3, padding=1, bias=not batch_norm, dtype=dtype)
            convs.append(conv)
            self.append(conv)
            if batch_norm:
                self.append(nn.BatchNorm2d(n_out, dtype=dtype))
            self.append(nn.ReLU())
        if side >= 2:
            self.append(nn.MaxPool2d(2))
            side //= 2
        self.append(nn.Flatten())
        if dropout > 0:
            self.append(nn.Dropout(dropout, generator=rng))
        last = nn.Linear(widths[-1] * side * side, n_outputs, dtype=dtype, generator=rng)
        self.append(last)
        for conv in convs:
            init.kaiming_uniform_(conv.weight, 0.0, nonlinearity="relu", generator=rng)
            if conv.bias is not None:
                init.zeros_(conv.bias)
        init.kaiming_uniform_(last.weight, 0.0, nonlinearity="linear", generator=rng)
        assert last.bias is not None
        init.zeros_(last.bias)
        self._config["dtype"] = str(last.weight.dtype)

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments (JSON-compatible), which ``save_model`` records."""
        return dict(self._config)


# save_model / load_model (and so `tensorgraph train --save` and `predict`) know the CNN.
register_architecture(SquareCNN)
