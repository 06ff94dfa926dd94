"""Training: :func:`fit`, :func:`evaluate`, :func:`predict`, the :class:`History` they record,
callbacks and metrics.

>>> import numpy as np, tensorgraph as tg
>>> from tensorgraph import nn, optim
>>> from tensorgraph.training import fit
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(64, 2)).astype(np.float32)
>>> y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
>>> model = nn.MLP([2, 8, 2], output=None, generator=0)
>>> history = fit(model, nn.functional.cross_entropy, optim.Adam(model.parameters(), lr=0.05),
...               (X, y), epochs=30, metrics=["accuracy"], seed=0, progress=False)
>>> history.history["accuracy"][-1] > 0.9
True
"""

from __future__ import annotations

from .callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    FitState,
    LRSchedulerCallback,
    ModelCheckpoint,
    TerminateOnNaN,
    TrainingWarning,
)
from .history import History
from .loop import evaluate, fit, predict
from .metrics import (
    Accuracy,
    F1Score,
    Metric,
    Precision,
    Recall,
    accuracy,
    f1_score,
    get_metric,
    precision,
    predicted_classes,
    recall,
)

__all__ = [
    "Accuracy",
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "F1Score",
    "FitState",
    "History",
    "LRSchedulerCallback",
    "Metric",
    "ModelCheckpoint",
    "Precision",
    "Recall",
    "TerminateOnNaN",
    "TrainingWarning",
    "accuracy",
    "evaluate",
    "f1_score",
    "fit",
    "get_metric",
    "precision",
    "predict",
    "predicted_classes",
    "recall",
]
