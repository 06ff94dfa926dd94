"""Callbacks: code that :func:`~tensorgraph.training.fit` runs at fixed points of training.

A callback overrides any of ``on_train_begin``, ``on_epoch_begin``, ``on_batch_end``,
``on_epoch_end`` and ``on_train_end``. During ``fit`` its :attr:`Callback.state` is the
:class:`FitState` of the run (model, optimizer, history, current epoch); calling
``state.stop(reason)`` ends training after the current batch.

``on_train_end`` runs however ``fit`` ends, also when it raises (a loss that fails, a
KeyboardInterrupt), so a callback releases what it holds there; ``state.error`` is then the
exception, which ``fit`` re-raises after every callback has run.

Names and behaviour follow Keras (``EarlyStopping``, ``ModelCheckpoint``, ``TerminateOnNaN``,
``CSVLogger``).
"""

from __future__ import annotations

import csv
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from .history import History

__all__ = [
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "FitState",
    "LRSchedulerCallback",
    "ModelCheckpoint",
    "TerminateOnNaN",
    "TrainingWarning",
]


class TrainingWarning(UserWarning):
    """Training stopped for a reason the user must see (a NaN loss)."""


@dataclass
class FitState:
    """The shared state of one :func:`~tensorgraph.training.fit` call."""

    model: Any
    optimizer: Any
    history: History
    epochs: int
    epoch: int = 0
    stop_training: bool = False
    stop_reason: str | None = None
    stop_warned: bool = False
    notes: list[str] = field(default_factory=list)
    #: The exception that is ending ``fit``, when ``on_train_end`` runs because of one.
    error: BaseException | None = None

    def stop(self, reason: str, warn: bool = False) -> None:
        """End training after the current batch, recording ``reason`` in the history.

        With ``warn`` the reason is also issued as a :class:`TrainingWarning` (seen even when
        progress output is off); otherwise it is printed with the progress output.
        """
        self.stop_training = True
        self.stop_reason = reason
        if warn:
            self.stop_warned = True
            warnings.warn(reason, TrainingWarning, stacklevel=3)


class Callback:
    """Base class: every hook does nothing."""

    state: FitState

    def set_state(self, state: FitState) -> None:
        self.state = state

    def on_train_begin(self, logs: dict[str, float]) -> None:
        pass

    def on_epoch_begin(self, epoch: int) -> None:
        pass

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        pass

    def on_train_end(self, logs: dict[str, float]) -> None:
        pass


def _monitored(owner: str, monitor: str, logs: dict[str, float]) -> float:
    if monitor not in logs:
        hint = (
            " (pass validation=... to fit for val_* values)" if monitor.startswith("val_") else ""
        )
        raise ValueError(
            f"{owner}: monitor {monitor!r} is not logged{hint}; logged: {', '.join(logs)}"
        )
    return float(logs[monitor])


def _resolve_mode(owner: str, mode: str, monitor: str) -> str:
    if mode == "auto":
        higher = ("acc", "precision", "recall", "f1")
        return "max" if any(word in monitor for word in higher) else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    return mode


class EarlyStopping(Callback):
    """Stop when a monitored value has stopped improving.

    Parameters
    ----------
    monitor : str
        A logged key, e.g. ``"val_loss"`` or ``"val_accuracy"``.
    min_delta : float
        The smallest change that counts as an improvement.
    patience : int
        Epochs without improvement to wait before stopping (0: stop at the first one).
    mode : {"auto", "min", "max"}
        Whether lower or higher is better; ``auto`` takes ``max`` for accuracy-like names.
    restore_best_weights : bool
        At the end of training, load the weights of the best epoch (whether or not training
        stopped early).

    Attributes
    ----------
    best : float
    best_epoch : int or None
        0-based.
    stopped_epoch : int or None
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        mode: str = "auto",
        restore_best_weights: bool = False,
    ) -> None:
        if patience < 0 or min_delta < 0:
            raise ValueError(
                f"EarlyStopping: patience and min_delta must be >= 0, got {patience}, {min_delta}"
            )
        self.monitor, self.min_delta, self.patience = monitor, float(min_delta), int(patience)
        self.mode = _resolve_mode("EarlyStopping", mode, monitor)
        self.restore_best_weights = restore_best_weights
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.wait = 0
        self._best_state: dict[str, np.ndarray] | None = None

    def on_train_begin(self, logs: dict[str, float]) -> None:
        self._reset()

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        value = _monitored("EarlyStopping", self.monitor, logs)
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self._best_state = self.state.model.state_dict()
            return
        self.wait += 1
        if self.wait >= max(self.patience, 1):
            self.stopped_epoch = epoch
            best = (
                "none"
                if self.best_epoch is None
                else (f"{self.best:.6g} at epoch {self.best_epoch + 1}")
            )
            self.state.stop(
                f"EarlyStopping: {self.monitor} did not improve for {self.wait} epochs "
                f"(best {best})"
            )

    def on_train_end(self, logs: dict[str, float]) -> None:
        if self.state.error is not None:  # fit is failing: leave the model as it is
            return
        if self.restore_best_weights and self._best_state is not None:
            self.state.model.load_state_dict(self._best_state)
            self.state.notes.append(
                f"EarlyStopping: restored the weights of epoch {(self.best_epoch or 0) + 1}"
            )


class ModelCheckpoint(Callback):
    """Save the model after every epoch, or only when the monitored value improves.

    Parameters
    ----------
    path : str
        The file; may hold ``{epoch}`` (1-based) and any logged key as format fields, e.g.
        ``"ckpt-{epoch:03d}-{val_loss:.3f}.npz"``.
    monitor : str
    save_best_only : bool
        Save only when ``monitor`` improves on the best so far.
    mode : {"auto", "min", "max"}
    save_weights_only : bool
        Save ``model.state_dict()`` with :func:`tensorgraph.save`; otherwise a model whose
        architecture is registered is saved with :func:`tensorgraph.save_model` (rebuildable
        with ``load_model``), any other with its state dict.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
        save_weights_only: bool = False,
    ) -> None:
        self.path, self.monitor = os.fspath(path), monitor
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.mode = _resolve_mode("ModelCheckpoint", mode, monitor)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.saved: list[str] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        from .. import serialization

        if self.save_best_only:
            value = _monitored("ModelCheckpoint", self.monitor, logs)
            better = value < self.best if self.mode == "min" else value > self.best
            if not better:
                return
            self.best = value
        try:
            path = self.path.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"ModelCheckpoint: cannot format path {self.path!r}: {exc}") from None
        model = self.state.model
        if not self.save_weights_only and serialization.has_architecture(model):
            serialization.save_model(model, path)
        else:
            serialization.save(model.state_dict(), path)
        self.saved.append(path)


class LRSchedulerCallback(Callback):
    """Step a learning-rate scheduler once per epoch.

    ``ReduceLROnPlateau`` is stepped with the monitored value; any other scheduler with no
    argument (PyTorch's ``scheduler.step()`` after each epoch).
    """

    def __init__(self, scheduler: Any, monitor: str = "val_loss") -> None:
        self.scheduler, self.monitor = scheduler, monitor

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        from ..optim import ReduceLROnPlateau

        if isinstance(self.scheduler, ReduceLROnPlateau):
            self.scheduler.step(_monitored("LRSchedulerCallback", self.monitor, logs))
        else:
            self.scheduler.step()


class TerminateOnNaN(Callback):
    """Stop as soon as a batch's loss is NaN or infinite, with a :class:`TrainingWarning`
    naming the epoch and the batch (both 1-based)."""

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        loss = logs.get("loss", 0.0)
        if not math.isfinite(loss):
            message = (
                f"TerminateOnNaN: the loss is {loss} at epoch {self.state.epoch + 1}, batch "
                f"{batch + 1}; training stopped (try a smaller learning rate)"
            )
            self.state.stop(message, warn=True)


class CSVLogger(Callback):
    """Write one CSV row per epoch: ``epoch`` (0-based) then the logged keys.

    Parameters
    ----------
    path : path-like
    separator : str
    append : bool
        Append to an existing file (without repeating the header) instead of overwriting it.
    """

    def __init__(
        self, path: str | os.PathLike[str], separator: str = ",", append: bool = False
    ) -> None:
        self.path, self.separator, self.append = Path(path), separator, append
        self._file: IO[str] | None = None
        self._writer: Any = None
        self._keys: list[str] | None = None

    def on_train_begin(self, logs: dict[str, float]) -> None:
        has_rows = self.append and self.path.exists() and self.path.stat().st_size > 0
        # Kept open across epochs (closed in on_train_end), so no with-block here.
        mode = "a" if self.append else "w"
        self._file = open(self.path, mode, newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.writer(self._file, delimiter=self.separator)
        self._keys = None
        self._header_written = has_rows

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self._file is None:
            return
        if self._keys is None:
            self._keys = list(logs)
            if not self._header_written:
                self._writer.writerow(["epoch", *self._keys])
        self._writer.writerow([epoch, *(repr(float(logs.get(k, math.nan))) for k in self._keys)])
        self._file.flush()

    def on_train_end(self, logs: dict[str, float]) -> None:
        # also run when fit raises: the rows written so far stay, the file is closed
        if self._file is not None:
            self._file.close()
            self._file = None
