"""The record of a training run (:class:`History`) and the optional matplotlib import."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["History", "pyplot"]


def pyplot(feature: str = "plotting") -> Any:
    """Import ``matplotlib.pyplot``, choosing the Agg backend when there is no display.

    Raises
    ------
    ImportError
        Naming the extra to install when matplotlib is missing.
    """
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            f"{feature} needs matplotlib, which is not installed: pip install tensorgraph[plot]"
        ) from None
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if headless and "matplotlib.pyplot" not in sys.modules:
        # Without a display an interactive backend cannot open; Agg draws to files.
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


class History:
    """What :func:`~tensorgraph.training.fit` returns: the logged values of every epoch.

    Attributes
    ----------
    history : dict of str to list of float
        One list per logged key, one entry per epoch, as in Keras: ``loss`` and the metrics
        for the training split, ``val_loss`` and ``val_<metric>`` for the validation split,
        ``lr`` the learning rate used. A key missing in an epoch holds NaN there.
    epoch : list of int
        The epoch indices (0-based) in the order they ran.
    params : dict
        ``epochs``, ``steps`` (batches per epoch), ``batch_size``.
    stop_reason : str or None
        Why training stopped before ``epochs`` (early stopping, NaN loss), else None.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.params: dict[str, Any] = {}
        self.stop_reason: str | None = None

    def append(self, epoch: int, logs: Mapping[str, float]) -> None:
        """Record the logs of one epoch (new keys are back-filled with NaN)."""
        n = len(self.epoch)
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, [math.nan] * n).append(float(value))
        for values in self.history.values():
            if len(values) == n:
                values.append(math.nan)

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.history:
            raise KeyError(f"History has no {key!r}; logged: {', '.join(self.history)}")
        return self.history[key]

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"

    def last(self) -> dict[str, float]:
        """The values of the last epoch."""
        return {key: values[-1] for key, values in self.history.items() if values}

    def plot(
        self,
        keys: Sequence[str] | None = None,
        path: str | os.PathLike[str] | None = None,
        title: str | None = None,
    ) -> Any:
        """Draw one panel per quantity (loss, each metric), training and validation curves.

        Parameters
        ----------
        keys : sequence of str, optional
            The training keys to draw (``val_<key>`` is added when logged); all but ``lr``
            by default.
        path : path-like, optional
            Also save the figure there (PNG, PDF, SVG... by extension).
        title : str, optional

        Returns
        -------
        matplotlib.figure.Figure

        Raises
        ------
        ImportError
            When matplotlib is missing: ``pip install tensorgraph[plot]``.
        """
        plt = pyplot("History.plot")
        if keys is None:
            keys = [k for k in self.history if not k.startswith("val_") and k != "lr"]
        unknown = [k for k in keys if k not in self.history]
        if unknown:
            raise KeyError(f"History.plot: not logged: {unknown}; logged: {list(self.history)}")
        fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.5), squeeze=False)
        epochs = [e + 1 for e in self.epoch]
        for ax, key in zip(axes[0], keys, strict=True):
            ax.plot(epochs, self.history[key], label="train")
            if f"val_{key}" in self.history:
                ax.plot(epochs, self.history[f"val_{key}"], label="validation")
            ax.set_xlabel("epoch")
            ax.set_title(key)
            ax.legend()
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=100)
        return fig
