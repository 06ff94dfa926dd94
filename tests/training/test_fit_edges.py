"""``fit`` at its edges: a loss that raises mid-epoch (callbacks still clean up), empty data,
a batch larger than the data, numpy integers for counts."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn, optim
from tensorgraph.data import DataLoader, TensorDataset
from tensorgraph.errors import DomainError
from tensorgraph.training import Callback, CSVLogger, EarlyStopping, evaluate, fit


def _data(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int64)


def _bce(out: Any, target: Any) -> Any:
    labels = tg.tensor(np.asarray(target._data).reshape(-1, 1).astype(np.float32))
    return nn.functional.binary_cross_entropy_with_logits(out, labels)


class _Boom(RuntimeError):
    pass


def _failing_loss(after: int) -> Any:
    calls = {"n": 0}

    def loss(out: Any, target: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > after:
            raise _Boom(f"loss failed at call {calls['n']}")
        return _bce(out, target)

    return loss


class _Ends(Callback):
    def __init__(self) -> None:
        self.ended: list[BaseException | None] = []

    def on_train_end(self, logs: dict[str, float]) -> None:
        self.ended.append(self.state.error)


def test_csv_logger_closes_its_file_when_the_loss_raises_mid_epoch(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    logger, ends = CSVLogger(path), _Ends()
    model = nn.MLP([2, 4, 1], output=None, generator=0)
    # 40 samples in batches of 8: 5 batches an epoch; the 13th call is in epoch 3
    with pytest.raises(_Boom, match="loss failed at call 13"):
        fit(model, _failing_loss(12), optim.SGD(model.parameters(), lr=0.1), _data(),
            epochs=5, batch_size=8, callbacks=[logger, ends], progress=False)  # fmt: skip
    assert logger._file is None  # closed
    rows = list(csv.reader(path.open(newline="")))
    assert [r[0] for r in rows] == ["epoch", "0", "1"]  # what was written before stays
    assert len(ends.ended) == 1 and isinstance(ends.ended[0], _Boom)
    assert model.training  # the mode was restored too


def test_a_failing_on_train_end_does_not_hide_the_training_error(tmp_path: Path) -> None:
    class Broken(Callback):
        def on_train_end(self, logs: dict[str, float]) -> None:
            raise ValueError("cleanup failed")

    logger = CSVLogger(tmp_path / "log.csv")
    model = nn.MLP([2, 4, 1], output=None, generator=0)
    with pytest.raises(_Boom):
        fit(model, _failing_loss(2), optim.SGD(model.parameters(), lr=0.1), _data(),
            epochs=2, batch_size=8, callbacks=[Broken(), logger], progress=False)  # fmt: skip
    assert logger._file is None  # the callback after the broken one still ran
    # without a training error, the callback's own error is raised (after the others ran)
    logger = CSVLogger(tmp_path / "log2.csv")
    with pytest.raises(ValueError, match="cleanup failed"):
        fit(model, _bce, optim.SGD(model.parameters(), lr=0.1), _data(), epochs=1,
            callbacks=[Broken(), logger], progress=False)  # fmt: skip
    assert logger._file is None


def test_early_stopping_does_not_restore_weights_when_fit_fails() -> None:
    model = nn.MLP([2, 4, 1], output=None, generator=0)
    stopper = EarlyStopping("loss", restore_best_weights=True, patience=10)
    with pytest.raises(_Boom):
        fit(model, _failing_loss(12), optim.SGD(model.parameters(), lr=0.1), _data(),
            epochs=5, batch_size=8, callbacks=[stopper], progress=False)  # fmt: skip
    at_failure = model.state_dict()
    assert stopper.best_epoch is not None  # it had a best epoch, but did not load it
    assert not all(np.array_equal(at_failure[k], v) for k, v in stopper._best_state.items())


@pytest.mark.parametrize("batch_size", [None, 8])
def test_empty_training_or_evaluation_data_is_refused(batch_size: int | None) -> None:
    model = nn.MLP([2, 4, 1], output=None, generator=0)
    empty = (np.zeros((0, 2), np.float32), np.zeros(0, np.int64))
    with pytest.raises(DomainError, match=r"fit: the data (is empty|gives no batch) \(0 samples\)"):
        fit(model, _bce, optim.SGD(model.parameters(), lr=0.1), empty, batch_size=batch_size,
            progress=False)  # fmt: skip
    with pytest.raises(DomainError, match=r"evaluate: the data (is empty|gives no batch)"):
        evaluate(model, _bce, empty, batch_size=batch_size)


def test_drop_last_with_too_little_data_is_refused() -> None:
    model = nn.MLP([2, 4, 1], output=None, generator=0)
    X, y = _data(5)
    loader = DataLoader(TensorDataset(X, y), batch_size=8, drop_last=True)
    with pytest.raises(DomainError, match="5 samples, fewer than batch_size=8 with drop_last"):
        fit(model, _bce, optim.SGD(model.parameters(), lr=0.1), loader, batch_size=None,
            progress=False)


def test_a_batch_larger_than_the_data_is_one_full_batch() -> None:
    X, y = _data(10)
    model = nn.MLP([2, 4, 1], output=None, generator=0)
    twin = nn.MLP([2, 4, 1], output=None, generator=0)
    history = fit(model, _bce, optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=np.int64(3),
                  batch_size=1000, shuffle=False, progress=False)  # fmt: skip
    full = fit(twin, _bce, optim.SGD(twin.parameters(), lr=0.1), (X, y), epochs=3,
               batch_size=None, shuffle=False, progress=False)  # fmt: skip
    assert history.params["steps"] == 1 and len(history) == 3
    assert history.history["loss"] == full.history["loss"]
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_batch_size_one_with_batch_norm_is_a_clear_error_from_fit() -> None:
    X, y = _data(9)  # batches of 4: the last holds 1 sample
    model = nn.MLP([2, 4, 1], batch_norm=True, output=None, generator=0)
    with pytest.raises(ValueError, match="expected more than 1 value per channel"):
        fit(model, _bce, optim.SGD(model.parameters(), lr=0.1), (X, y), batch_size=4,
            shuffle=False, progress=False)  # fmt: skip
