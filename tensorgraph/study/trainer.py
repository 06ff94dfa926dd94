"""Training one model of a study on given arrays: the step shared by the single-split run
(``tensorgraph train``) and every fit of a resampled study.

Batch-norm and a last mini-batch of one sample
    A batch-norm layer cannot normalise one sample in training mode (its batch variance is 0
    and it refuses). When the training part leaves a last mini-batch of exactly one sample,
    the models with batch-norm **drop** that batch (``DataLoader(drop_last=True)``). The data
    is reshuffled every epoch, so a different sample sits out each epoch and none is lost
    for good. The other models keep it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import nn
from ..data import DataLoader, TensorDataset
from ..training import EarlyStopping, History, fit
from .models import ModelSpec, build_model, make_loss, make_optimizer

__all__ = ["Trained", "drops_last_batch", "train_model"]


@dataclass
class Trained:
    """A trained network with its cost function and training history."""

    model: nn.Sequential
    loss: Any
    history: History


def drops_last_batch(spec: ModelSpec, n_train: int, batch_size: int) -> bool:
    """Whether ``spec``'s training drops a last mini-batch (batch-norm and one sample left)."""
    return spec.batch_norm and n_train > batch_size and n_train % batch_size == 1


def train_model(
    spec: ModelSpec,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray] | None,
    n_classes: int,
    *,
    hidden: Sequence[int],
    epochs: int,
    batch_size: int,
    patience: int,
    init_seed: int,
    shuffle_seed: int,
    progress: bool = False,
    description: str | None = None,
) -> Trained:
    """Train the model of ``spec`` on ``train`` (early stopping on ``validation``'s loss
    with ``patience`` > 0, restoring the best weights).

    ``spec``'s own ``hidden``/``epochs``/``batch_size``/``patience`` win over the arguments.
    ``init_seed`` seeds the initialisation and dropout, ``shuffle_seed`` the mini-batches.
    """
    X, y = train
    epochs = spec.epochs or epochs
    patience = spec.patience if spec.patience is not None else patience
    size = len(y) if spec.full_batch else (spec.batch_size or batch_size)
    model = build_model(spec, X.shape[1], n_classes, hidden, init_seed)
    loss = make_loss(model, spec, n_classes)
    callbacks = []
    if patience > 0 and validation is not None:
        callbacks.append(EarlyStopping("val_loss", patience=patience, restore_best_weights=True))
    loader = DataLoader(
        TensorDataset(X, y),
        batch_size=min(size, len(y)),
        shuffle=True,
        drop_last=drops_last_batch(spec, len(y), size),
        seed=shuffle_seed,
    )
    history = fit(
        model,
        loss,
        make_optimizer(spec, model),
        loader,
        epochs=epochs,
        batch_size=None,
        validation=validation,
        metrics=["accuracy"],
        callbacks=callbacks,
        progress=progress,
        description=description or spec.label,
        compile=spec.compile,
    )
    return Trained(model=model, loss=loss, history=history)
