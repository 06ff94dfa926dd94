"""The training loop: :func:`fit`, :func:`evaluate`, :func:`predict`.

Keras' comfort on PyTorch's pieces: ``fit`` takes a model (a callable ``Module``), a loss
function ``loss(output, target) -> scalar Tensor``, an optimizer with ``zero_grad()`` and
``step()``, and the training data; it returns a :class:`~tensorgraph.training.History`.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..data.loader import DataLoader, Dataset, TensorDataset
from ..errors import DomainError, DTypeError
from .callbacks import Callback, FitState, TrainingWarning
from .history import History
from .metrics import Metric, conflict, get_metric, output_is_logits

__all__ = ["evaluate", "fit", "predict"]

Data = Any  # (X, y) arrays or Tensors, a Dataset, or a DataLoader
LossFn = Callable[[Any, Any], Any]


def _loader(
    data: Data, batch_size: int | None, shuffle: bool, seed: int | None, where: str
) -> DataLoader:
    if isinstance(data, DataLoader):
        if batch_size is not None:
            raise ValueError(
                f"{where}: batch_size is set by the DataLoader; do not pass batch_size with one"
            )
        return data
    if isinstance(data, Dataset):
        dataset = data
    elif isinstance(data, tuple | list) and len(data) in (1, 2):
        dataset = TensorDataset(*data)
    else:
        raise TypeError(
            f"{where}: expected (X, y), a Dataset or a DataLoader, got {type(data).__name__}"
        )
    if batch_size is None and len(dataset) == 0:
        raise DomainError(f"{where}: the data is empty (0 samples)")
    size = len(dataset) if batch_size is None else batch_size
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise DomainError(f"{where}: batch_size must be a positive integer, got {batch_size!r}")
    return DataLoader(dataset, batch_size=int(size), shuffle=shuffle, seed=seed)


def _check_not_empty(loader: DataLoader, where: str) -> None:
    """No batch at all would log a NaN loss and no metric: refuse it instead."""
    if len(loader) == 0:
        n = len(loader.dataset)
        detail = (
            "0 samples"
            if n == 0
            else f"{n} samples, fewer than batch_size={loader.batch_size} with drop_last=True"
        )
        raise DomainError(f"{where}: the data gives no batch ({detail})")


def _resolve_metrics(
    specs: Iterable[str | Metric | Callable[[Any, Any], float]] | None, model: Any, loss: Any
) -> list[Metric]:
    """The metrics, with how to read one-column outputs decided from the model and the loss
    where the user left it open (see :func:`~tensorgraph.training.metrics.output_is_logits`)."""
    metrics = [get_metric(m) for m in specs or ()]
    if not metrics:
        return metrics
    from_logits, _ = output_is_logits(model, loss)
    clash = conflict(model, loss)
    if clash is not None:
        warnings.warn(clash, TrainingWarning, stacklevel=3)
    return [m.resolved(from_logits) for m in metrics]


def _check_dtype(model: Any, x: Any, where: str) -> None:
    params = getattr(model, "parameters", None)
    first = next(iter(params()), None) if callable(params) else None
    if first is not None and x.dtype.kind == "f" and x.dtype != first.dtype:
        raise DTypeError(
            f"{where}: the inputs are {x.dtype} but the model's parameters are {first.dtype}; "
            f"convert the data (X.astype(np.{first.dtype})) or the model (model.to(...))"
        )


def _metric_logs(
    metrics: Sequence[Metric], outputs: list[np.ndarray], targets: list[np.ndarray]
) -> dict[str, float]:
    if not metrics or not outputs:
        return {}
    output, target = np.concatenate(outputs), np.concatenate(targets)
    return {m.name: m(output, target) for m in metrics}


class _Progress:
    """A tqdm bar over the epochs when tqdm is installed, else one line per epoch (stderr)."""

    def __init__(self, enabled: bool, epochs: int, description: str | None) -> None:
        self.bar: Any = None
        self.enabled, self.epochs = enabled, epochs
        self.description = f"{description}: " if description else ""
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                return
            self.bar = tqdm(
                total=epochs,
                desc=description,
                unit="epoch",
                leave=True,
                file=sys.stderr,
                dynamic_ncols=True,
            )

    def epoch(self, epoch: int, logs: dict[str, float], seconds: float) -> None:
        if not self.enabled:
            return
        shown = {k: v for k, v in logs.items() if k != "lr"}
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in shown.items()}, refresh=False)
            self.bar.update(1)
            return
        values = " - ".join(f"{k} {v:.4f}" for k, v in shown.items())
        print(
            f"{self.description}epoch {epoch + 1}/{self.epochs} - {values} - {seconds:.2f}s",
            file=sys.stderr,
            flush=True,
        )

    def note(self, message: str) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def fit(
    model: Any,
    loss: LossFn,
    optimizer: Any,
    train: Data,
    epochs: int = 1,
    batch_size: int | None = 32,
    validation: Data | None = None,
    metrics: Iterable[str | Metric | Callable[[Any, Any], float]] | None = None,
    callbacks: Iterable[Callback] | None = None,
    seed: int | None = None,
    progress: bool = True,
    shuffle: bool = True,
    description: str | None = None,
    compile: bool = False,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train``.

    Each batch: ``optimizer.zero_grad()``, ``out = model(X)``, ``l = loss(out, y)``,
    ``l.backward()``, ``optimizer.step()``. The model is in train mode during the passes
    over the training data and in eval mode (without recording a graph) while the validation
    data is evaluated; at the end it is left in the mode it had before ``fit``.

    Parameters
    ----------
    model : Module
        Called on a batch of inputs.
    loss : callable
        ``loss(output, target)`` returning a scalar Tensor, e.g.
        ``nn.functional.cross_entropy`` or ``nn.BCEWithLogitsLoss()``. Regularisation terms
        (``nn.l2_penalty``) go inside it.
    optimizer : Optimizer
    train : (X, y), Dataset or DataLoader
    epochs : int
    batch_size : int or None
        Mini-batch size for arrays and Datasets (``None``: the whole set, full-batch gradient
        descent). Leave it None when passing a DataLoader.
    validation : (X, y), Dataset or DataLoader, optional
        Evaluated after every epoch; its values are logged with a ``val_`` prefix.
    metrics : iterable, optional
        Names (``"accuracy"``, ``"precision"``, ``"recall"``, ``"f1"``), :class:`Metric`
        objects or functions ``f(output, target) -> float``, computed over each whole epoch
        (not averaged over batches). One-column (binary) outputs are read as probabilities
        when the model ends in ``Sigmoid``, as logits when it ends in ``Linear``, otherwise
        as the loss says (``BCELoss``: probabilities, ``BCEWithLogitsLoss``: logits); when
        neither tells, pass ``Accuracy(from_logits=...)`` (fit raises at the first batch
        rather than guess).
    callbacks : iterable of Callback, optional
    seed : int, optional
        Seeds the shuffling of the training batches (the same seed gives the same batches);
        the model's own randomness (dropout) comes from its generator.
    progress : bool
        Show progress on stderr: a tqdm bar when tqdm is installed (the ``progress`` extra),
        otherwise one line per epoch. ``False`` is silent.
    shuffle : bool
        Reshuffle the training data every epoch (arrays and Datasets only).
    description : str, optional
        A label for the progress display.
    compile : bool
        Run each training batch through a step traced once per batch shape with
        :func:`tensorgraph.compile` (zero_grad, forward, loss, backward, step replayed without
        a graph; the same numbers as eagerly). A model or loss the trace cannot replay runs
        eagerly with one warning. See ``docs/compile.md``.

    Returns
    -------
    History
        The loss (mean over the samples of the epoch, as computed while training) and the
        metrics of every epoch, for the training and validation data, and ``lr``.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 0:
        raise DomainError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    epochs = int(epochs)
    train_loader = _loader(train, batch_size, shuffle, seed, "fit")
    _check_not_empty(train_loader, "fit")
    metric_list = _resolve_metrics(metrics, model, loss)
    callback_list = list(callbacks or ())
    history = History()
    history.params = {
        "epochs": epochs,
        "steps": len(train_loader),
        "batch_size": train_loader.batch_size,
    }
    state = FitState(model=model, optimizer=optimizer, history=history, epochs=epochs)
    for callback in callback_list:
        callback.set_state(state)
    was_training = bool(getattr(model, "training", True))
    step = _compiled_step(model, loss, optimizer) if compile else None
    bar = _Progress(progress, epochs, description)
    finished = False
    try:
        for callback in callback_list:
            callback.on_train_begin({})
        for epoch in range(epochs):
            state.epoch = epoch
            started = time.perf_counter()
            for callback in callback_list:
                callback.on_epoch_begin(epoch)
            logs, finished = _train_epoch(
                model, loss, optimizer, train_loader, metric_list, callback_list, state, step
            )
            if finished and validation is not None:
                scores = evaluate(model, loss, validation, metrics=metric_list)
                logs.update({f"val_{k}": v for k, v in scores.items()})
            groups = getattr(optimizer, "param_groups", None)
            if groups:
                logs["lr"] = float(groups[0]["lr"])
            if finished:
                for callback in callback_list:
                    callback.on_epoch_end(epoch, logs)
            history.append(epoch, logs)
            bar.epoch(epoch, logs, time.perf_counter() - started)
            if state.stop_training:
                break
        finished = True
    except BaseException as error:
        state.error = error
        raise
    finally:
        # on_train_end runs however training ended, so every callback can release what it
        # holds (CSVLogger's file); after an error the error stays the one that propagates
        _end_callbacks(callback_list, history.last(), failed=not finished)
        bar.close()
        model.train(was_training)
    history.stop_reason = state.stop_reason
    unseen = state.stop_reason if state.stop_reason and not state.stop_warned else None
    for message in ([unseen] if unseen else []) + state.notes:
        bar.note(message)
    return history


def _end_callbacks(callbacks: Sequence[Callback], logs: dict[str, float], failed: bool) -> None:
    first: BaseException | None = None
    for callback in callbacks:
        try:
            callback.on_train_end(logs)
        except Exception as exc:  # the others still clean up
            if first is None:
                first = exc
    if first is not None and not failed:
        raise first


def _compiled_step(model: Any, loss: LossFn, optimizer: Any) -> Any:
    """One training step (what :func:`_train_epoch` does per batch) under tg.compile."""
    from ..compiler import compile as compile_step

    def step(x: Any, y: Any) -> tuple[Any, Any]:
        optimizer.zero_grad()
        output = model(x)
        value = loss(output, y)
        value.backward()
        optimizer.step()
        return value, output

    return compile_step(step)


def _train_epoch(
    model: Any,
    loss: LossFn,
    optimizer: Any,
    loader: DataLoader,
    metrics: Sequence[Metric],
    callbacks: Sequence[Callback],
    state: FitState,
    step: Any = None,
) -> tuple[dict[str, float], bool]:
    """One pass over the training data; returns the epoch's logs and whether it finished."""
    model.train()
    total, count = 0.0, 0
    outputs: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for batch, fields in enumerate(loader):
        if len(fields) != 2:
            raise ValueError(
                f"fit: each sample must be (inputs, target), the data gives {len(fields)} fields"
            )
        x, y = fields
        first = batch == 0 and state.epoch == 0
        if first:
            _check_dtype(model, x, "fit")
        if step is not None and not first:
            value, output = step(x, y)
        else:  # the first batch runs eagerly: its checks fail before anything is traced
            optimizer.zero_grad()
            output = model(x)
            if first:
                for metric in metrics:  # a metric that cannot read these outputs fails now
                    metric.check(output._data, y._data)
            value = loss(output, y)
            value.backward()
            optimizer.step()
        number = float(value.item())
        total += number * len(x)
        count += len(x)
        if metrics:
            outputs.append(np.array(output.numpy()))
            targets.append(y.numpy())
        for callback in callbacks:
            callback.on_batch_end(batch, {"loss": number, "size": float(len(x))})
        if state.stop_training:
            return {"loss": total / count}, False
    logs = {"loss": total / count if count else math.nan}
    logs.update(_metric_logs(metrics, outputs, targets))
    return logs, True


def evaluate(
    model: Any,
    loss: LossFn | None,
    data: Data,
    batch_size: int | None = None,
    metrics: Iterable[str | Metric | Callable[[Any, Any], float]] | None = None,
) -> dict[str, float]:
    """The loss (mean over samples) and metrics of ``model`` on ``data``, in eval mode.

    Runs without recording a graph; the model's train/eval mode is restored afterwards.

    Parameters
    ----------
    model : Module
    loss : callable or None
        As in :func:`fit`; None computes only the metrics.
    data : (X, y), Dataset or DataLoader
    batch_size : int, optional
        Evaluate in chunks of this size (the whole set at once by default).
    metrics : iterable, optional
        As in :func:`fit`.

    Returns
    -------
    dict
        ``{"loss": ..., "<metric>": ...}``.
    """
    loader = _loader(data, batch_size, False, None, "evaluate")
    _check_not_empty(loader, "evaluate")
    metric_list = _resolve_metrics(metrics, model, loss)
    was_training = bool(getattr(model, "training", False))
    model.eval()
    total, count = 0.0, 0
    outputs: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    try:
        with no_grad():
            for batch, (x, y) in enumerate(loader):
                if batch == 0:
                    _check_dtype(model, x, "evaluate")
                output = model(x)
                if loss is not None:
                    total += float(loss(output, y).item()) * len(x)
                count += len(x)
                outputs.append(np.array(output.numpy()))
                targets.append(y.numpy())
    finally:
        model.train(was_training)
    logs = {"loss": total / count if count else math.nan} if loss is not None else {}
    logs.update(_metric_logs(metric_list, outputs, targets))
    return logs


def predict(model: Any, X: Any, batch_size: int | None = None) -> np.ndarray:
    """The model's outputs on ``X`` (an array, a Tensor, a Dataset or a DataLoader) as a
    numpy array, in eval mode and without recording a graph (the mode is restored after)."""
    data = X if isinstance(X, Dataset | DataLoader) else (X,)
    loader = _loader(data, batch_size, False, None, "predict")
    was_training = bool(getattr(model, "training", False))
    model.eval()
    outputs: list[np.ndarray] = []
    try:
        with no_grad():
            for batch, fields in enumerate(loader):
                if batch == 0:
                    _check_dtype(model, fields[0], "predict")
                outputs.append(np.array(model(fields[0]).numpy()))
    finally:
        model.train(was_training)
    return np.concatenate(outputs) if outputs else np.empty((0,))
