"""The metrics read a model's outputs the way the model and the loss mean them.

The bug this pins: ``nn.MLP([4, 16, 1])`` (sigmoid output by default) trained with
``BCELoss`` and ``metrics=["accuracy"]`` reported the positive fraction (0.31) for a model
that was 99% accurate, because the metric read probabilities as logits (every probability is
> 0). Each test trains a real model and compares the logged accuracy with one computed by
hand from ``predict``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn, optim
from tensorgraph.errors import DomainError
from tensorgraph.training import (
    Accuracy,
    F1Score,
    TrainingWarning,
    accuracy,
    evaluate,
    fit,
    predict,
    predicted_classes,
)
from tensorgraph.training.metrics import output_is_logits


def _binary(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Separable data with 31% positives."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    score = X @ np.array([1.5, -1.0, 0.5, 0.0])
    y = (score > np.quantile(score, 0.69)).astype(np.int64)
    return X.astype(np.float32), y


def _column(target: Any, dtype: Any = np.float32) -> tg.Tensor:
    return tg.tensor(np.asarray(target._data).reshape(-1, 1).astype(dtype))


def _train(model: nn.Module, loss: Any, data: tuple[np.ndarray, Any], epochs: int = 40,
           metrics: Any = ("accuracy",)) -> dict[str, list[float]]:  # fmt: skip
    history = fit(model, loss, optim.Adam(model.parameters(), lr=0.05), data, epochs=epochs,
                  batch_size=64, metrics=list(metrics), seed=0, progress=False)  # fmt: skip
    return history.history


def test_sigmoid_mlp_with_bce_loss_reports_its_true_accuracy() -> None:
    X, y = _binary()
    assert y.mean() == pytest.approx(0.31, abs=0.01)
    model = nn.MLP([4, 16, 1], generator=0)  # output="sigmoid" by default

    def bce(p: Any, target: Any) -> Any:
        return nn.BCELoss()(p, _column(target))

    logged = _train(model, bce, (X, y))["accuracy"][-1]
    probabilities = predict(model, X)[:, 0]
    true_accuracy = float(((probabilities > 0.5) == y).mean())
    assert true_accuracy > 0.95
    assert evaluate(model, None, (X, y), metrics=["accuracy"])["accuracy"] == true_accuracy
    assert logged > 0.9 and abs(logged - y.mean()) > 0.5  # not the positive fraction


def test_logit_mlp_with_bce_with_logits_and_n_targets() -> None:
    X, y = _binary(seed=1)
    model = nn.MLP([4, 16, 1], output=None, generator=0)
    loss = nn.BCEWithLogitsLoss()
    history = _train(model, lambda z, t: loss(z, _column(t)), (X, y), metrics=["accuracy", "f1"])
    logits = predict(model, X)[:, 0]
    hand = float(((logits > 0) == y).mean())
    assert hand > 0.95
    scores = evaluate(model, None, (X, y), metrics=["accuracy", "f1"])
    assert scores["accuracy"] == hand
    assert history["accuracy"][-1] > 0.9


def test_flat_n_outputs_read_through_the_loss_module() -> None:
    """A model whose last layer is Flatten (outputs (N,)) says nothing; BCEWithLogitsLoss
    does, and (N,) float targets are labels."""
    X, y = _binary(seed=2)
    model = nn.Sequential(nn.Linear(4, 8, generator=0), nn.ReLU(),
                          nn.Linear(8, 1, generator=1), nn.Flatten(0))  # fmt: skip
    loss = nn.BCEWithLogitsLoss()
    assert output_is_logits(model, loss) == (True, "the loss BCEWithLogitsLoss")
    yf = y.astype(np.float32)
    history = _train(model, loss, (X, yf))
    logits = predict(model, X)
    assert logits.shape == (len(y),)
    assert evaluate(model, loss, (X, yf), metrics=["accuracy"])["accuracy"] == float(
        ((logits > 0) == y).mean()
    )
    assert history["accuracy"][-1] > 0.9
    # the same outputs through a BCELoss-trained sigmoid: probabilities
    assert output_is_logits(nn.Sequential(nn.Linear(4, 1), nn.Sigmoid(), nn.Flatten(0)),
                            nn.BCELoss()) == (False, "the loss BCELoss")  # fmt: skip


class _Custom(nn.Module):
    """A model whose structure says nothing about what its one output means."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(4, 1, generator=0)

    def forward(self, x: Any) -> Any:
        return self.body(x)


def test_unknown_model_and_loss_is_an_error_at_the_first_batch_not_a_guess() -> None:
    X, y = _binary()

    def my_loss(z: Any, t: Any) -> Any:
        return nn.functional.binary_cross_entropy_with_logits(z, _column(t))

    model = _Custom()
    before = model.body.weight.numpy().copy()
    with pytest.raises(DomainError, match=re.escape("accuracy: the outputs have one column")):
        fit(model, my_loss, optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=3,
            metrics=["accuracy"], progress=False)  # fmt: skip
    np.testing.assert_array_equal(model.body.weight.numpy(), before)  # not one step taken
    with pytest.raises(DomainError, match="from_logits=True"):
        evaluate(model, my_loss, (X, y), metrics=["accuracy"])
    # explicit: fine
    history = _train(model, my_loss, (X, y), metrics=[Accuracy(from_logits=True)])
    logits = predict(model, X)[:, 0]
    assert history["accuracy"][-1] == pytest.approx(float(((logits > 0) == y).mean()), abs=0.03)
    # or the loss says so itself
    my_loss.expects_logits = True  # type: ignore[attr-defined]
    assert evaluate(model, my_loss, (X, y), metrics=["accuracy"])["accuracy"] == float(
        ((logits > 0) == y).mean()
    )
    # a multi-class model needs nothing: the arg-max reads logits and probabilities alike
    wide = nn.Sequential(_Custom(), nn.Linear(1, 3, generator=0), nn.Softmax())
    assert 0 <= evaluate(wide, None, (X, y), metrics=["accuracy"])["accuracy"] <= 1


@pytest.mark.parametrize("output", [None, "softmax", "log_softmax"])
@pytest.mark.parametrize("targets", ["labels", "column", "one_hot"])
def test_multiclass_outputs_and_every_target_layout(output: str | None, targets: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4)).astype(np.float32)
    y = np.argmax(X[:, :3] + 0.1 * rng.normal(size=(300, 3)), axis=1).astype(np.int64)
    model = nn.MLP([4, 16, 3], output=output, generator=0)

    def loss(out: Any, t: Any) -> Any:
        labels = np.asarray(t._data).reshape(len(out), -1)
        labels = labels.argmax(axis=1) if labels.shape[1] > 1 else labels[:, 0]
        if output is None:
            return nn.functional.cross_entropy(out, labels.astype(np.int64))
        logp = out if output == "log_softmax" else tg.log(tg.clip(out, 1e-7, 1.0))
        return nn.functional.nll_loss(logp, labels.astype(np.int64))

    shown = {"labels": y, "column": y.reshape(-1, 1),
             "one_hot": np.eye(3, dtype=np.float32)[y]}[targets]  # fmt: skip
    history = _train(model, loss, (X, shown), epochs=30)
    hand = float((predict(model, X).argmax(axis=1) == y).mean())
    assert hand > 0.85
    assert evaluate(model, loss, (X, shown), metrics=["accuracy"])["accuracy"] == hand
    assert history["accuracy"][-1] > 0.8


def test_a_model_and_a_loss_that_disagree_warn_and_the_model_wins() -> None:
    X, y = _binary()
    model = nn.MLP([4, 8, 1], generator=0)  # sigmoid out: probabilities
    loss = nn.BCEWithLogitsLoss()  # ... read as logits: a double sigmoid
    with pytest.warns(TrainingWarning, match="ends in Sigmoid .* BCEWithLogitsLoss expects logits"):
        fit(model, loss, optim.Adam(model.parameters(), lr=0.05),
            (X, y.reshape(-1, 1).astype(np.float32)), epochs=1, metrics=["accuracy"],
            progress=False)  # fmt: skip
    assert output_is_logits(model, loss)[0] is False


def test_explicit_conventions_and_thresholds() -> None:
    logits = np.array([[-2.0], [-0.1], [0.3], [1.5]])
    probabilities = 1 / (1 + np.exp(-logits))
    labels = np.array([0, 1, 1, 1])
    for t in (0.2, 0.5, 0.6, 0.9):
        assert accuracy(logits, labels, from_logits=True, threshold=t) == accuracy(
            probabilities, labels, from_logits=False, threshold=t
        )
    assert predicted_classes(logits, from_logits=True, threshold=0.6).tolist() == [0, 0, 0, 1]
    assert F1Score(from_logits=False, threshold=0.4)(probabilities, labels) == pytest.approx(
        2 * 3 / (2 * 3 + 0 + 0)
    )
    with pytest.raises(DomainError, match="from_logits=False but the outputs are not probabil"):
        accuracy(logits, labels, from_logits=False)
    with pytest.raises(DomainError, match="threshold must be a probability in"):
        Accuracy(from_logits=True, threshold=1.0)
    with pytest.raises(DomainError, match="from_logits must be True, False or None"):
        Accuracy(from_logits=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("target", "text"),
    [
        (np.array([0.0, 0.3, 1.0, 1.0]), "targets must be class labels (whole numbers)"),
        (np.array([-1, 1, 1, -1]), "labels must be in [0, 1]; found [-1, -1]"),
        (np.array([0, 1, 2, 1]), "labels must be in [0, 1]; found [2]"),
        (np.array(["a", "b", "a", "b"]), "targets must be class labels, got dtype <U1"),
    ],
)
def test_targets_that_are_not_labels_are_refused(target: np.ndarray, text: str) -> None:
    with pytest.raises(DomainError, match=re.escape(text)):
        accuracy(np.zeros((4, 1)), target, from_logits=True)
