from __future__ import annotations

import csv
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn, optim
from tensorgraph.autograd import is_grad_enabled
from tensorgraph.data import DataLoader, TensorDataset
from tensorgraph.errors import DTypeError
from tensorgraph.serialization import load_model
from tensorgraph.training import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LRSchedulerCallback,
    ModelCheckpoint,
    TerminateOnNaN,
    TrainingWarning,
    evaluate,
    fit,
    predict,
)


def _blobs(n: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    X = rng.normal(size=(n, 2)) + 2.0 * y[:, None]
    return X.astype(np.float32), y.astype(np.int64)


def _bce(output: Any, target: Any) -> Any:
    labels = target.numpy().reshape(-1, 1).astype(output.dtype)
    return nn.functional.binary_cross_entropy_with_logits(output, tg.tensor(labels))


def _model(seed: int = 0, **kwargs: Any) -> nn.MLP:
    return nn.MLP([2, 8, 1], output=None, generator=seed, **kwargs)


def _fit(model: nn.Module, epochs: int = 5, **kwargs: Any) -> Any:
    X, y = _blobs()
    kwargs.setdefault("optimizer", optim.Adam(model.parameters(), lr=0.05))
    return fit(model, _bce, train=(X, y), epochs=epochs, batch_size=16, progress=False, **kwargs)


def test_history_records_train_and_validation_loss_metrics_and_lr() -> None:
    X, y = _blobs(seed=1)
    model = _model()
    history = _fit(model, epochs=20, validation=(X, y), metrics=["accuracy", "f1"], seed=0)
    assert history.epoch == list(range(20))
    assert list(history.history) == [
        "loss",
        "accuracy",
        "f1",
        "val_loss",
        "val_accuracy",
        "val_f1",
        "lr",
    ]
    assert all(len(v) == 20 for v in history.history.values())
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] > 0.85
    assert history["lr"] == [0.05] * 20
    assert history.params == {"epochs": 20, "steps": 4, "batch_size": 16}
    assert history.stop_reason is None
    # The logged validation values are what evaluate() gives for the final model.
    scores = evaluate(model, _bce, (X, y), metrics=["accuracy"])
    assert scores["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-6)
    assert scores["accuracy"] == history["val_accuracy"][-1]


def test_epoch_loss_is_the_sample_weighted_mean_of_the_batch_losses() -> None:
    X, y = _blobs(n=10)
    seen: list[tuple[float, int]] = []

    def loss(output: Any, target: Any) -> Any:
        value = _bce(output, target)
        seen.append((float(value.item()), len(target)))
        return value

    model = _model()
    history = fit(
        model,
        loss,
        optim.SGD(model.parameters(), lr=0.0),
        (X, y),
        epochs=1,
        batch_size=4,
        progress=False,
    )
    assert [n for _, n in seen] == [4, 4, 2]
    expected = sum(v * n for v, n in seen) / 10
    assert history["loss"][0] == pytest.approx(expected, rel=1e-12)


def test_same_seed_same_history_different_seed_different_batches() -> None:
    first = _fit(_model(), seed=3, metrics=["accuracy"]).history
    second = _fit(_model(), seed=3, metrics=["accuracy"]).history
    third = _fit(_model(), seed=4, metrics=["accuracy"]).history
    assert first == second
    assert first["loss"] != third["loss"]


class _Probe(nn.Module):
    """Records the mode and the grad switch at every call."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = _model()
        self.calls: list[tuple[bool, bool, int]] = []

    def forward(self, x: Any) -> Any:
        self.calls.append((self.training, is_grad_enabled(), len(x)))
        return self.inner(x)


def test_train_mode_while_fitting_eval_mode_without_graph_while_evaluating() -> None:
    X, y = _blobs(n=20)
    probe = _Probe()
    probe.eval()
    fit(
        probe,
        _bce,
        optim.SGD(probe.parameters(), lr=0.1),
        (X, y),
        epochs=2,
        batch_size=8,
        validation=(X[:5], y[:5]),
        progress=False,
    )
    # per epoch: three training batches (8, 8, 4) in train mode, one validation pass in eval
    expected = [(True, True, 8), (True, True, 8), (True, True, 4), (False, False, 5)] * 2
    assert probe.calls == expected
    assert probe.training is False  # the mode it had before fit
    assert probe.inner.training is False
    probe.train()
    probe.calls.clear()
    predict(probe, X)
    evaluate(probe, _bce, (X, y))
    assert [c[:2] for c in probe.calls] == [(False, False), (False, False)]
    assert probe.training is True


def test_early_stopping_stops_after_patience_and_restores_the_best_weights() -> None:
    scores = iter([5.0, 4.0, 3.0, 3.5, 3.2, 1.0, 1.0])

    def scripted(output: Any, target: Any) -> float:
        return next(scores)

    class Snapshots(Callback):
        def __init__(self) -> None:
            self.states: list[dict[str, np.ndarray]] = []

        def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
            self.states.append(self.state.model.state_dict())

    model = _model()
    snapshots = Snapshots()
    stopper = EarlyStopping("scripted", patience=2, mode="min", restore_best_weights=True)
    history = _fit(model, epochs=7, metrics=[scripted], callbacks=[snapshots, stopper])
    assert len(history) == 5  # epochs 4 and 5 did not improve on epoch 3
    assert stopper.best == 3.0 and stopper.best_epoch == 2 and stopper.stopped_epoch == 4
    assert (
        history.stop_reason
    ) == "EarlyStopping: scripted did not improve for 2 epochs (best 3 at epoch 3)"
    final = model.state_dict()
    for key, value in snapshots.states[2].items():
        np.testing.assert_array_equal(final[key], value)
    assert any(not np.array_equal(final[k], v) for k, v in snapshots.states[-1].items())


def test_early_stopping_min_delta_mode_auto_and_unknown_monitor() -> None:
    stopper = EarlyStopping("val_accuracy", min_delta=0.1)
    assert stopper.mode == "max"
    with pytest.raises(ValueError, match=r"monitor 'val_loss' is not logged \(pass validation"):
        _fit(_model(), epochs=1, callbacks=[EarlyStopping()])
    values = iter([1.0, 0.95, 0.92, 0.5])
    history = _fit(
        _model(),
        epochs=4,
        metrics=[lambda o, t: next(values)],
        callbacks=[EarlyStopping("<lambda>", min_delta=0.1, patience=1)],
    )
    assert len(history) == 2  # 0.95 is not better than 1.0 by more than 0.1


def test_terminate_on_nan_names_epoch_and_batch_and_stops_at_once() -> None:
    calls = {"n": 0}

    def flaky(output: Any, target: Any) -> Any:
        calls["n"] += 1
        value = _bce(output, target)
        return value * math.nan if calls["n"] == 7 else value  # epoch 2, batch 3

    model = _model()
    X, y = _blobs()
    with pytest.warns(TrainingWarning, match=r"the loss is nan at epoch 2, batch 3"):
        history = fit(
            model,
            flaky,
            optim.SGD(model.parameters(), lr=0.1),
            (X, y),
            epochs=5,
            batch_size=16,
            callbacks=[TerminateOnNaN()],
            progress=False,
        )
    assert calls["n"] == 7
    assert len(history) == 2 and math.isnan(history["loss"][1])
    assert history.stop_reason is not None and "epoch 2, batch 3" in history.stop_reason


def test_csv_logger_writes_one_row_per_epoch_with_the_history_values(tmp_path: Path) -> None:
    X, y = _blobs(seed=2)
    path = tmp_path / "log.csv"
    history = _fit(
        _model(), epochs=3, validation=(X, y), metrics=["accuracy"], callbacks=[CSVLogger(path)]
    )
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert [int(r[0]) for r in rows[1:]] == [0, 1, 2]
    for i, key in enumerate(rows[0][1:], start=1):
        assert [float(r[i]) for r in rows[1:]] == history[key]
    _fit(
        _model(),
        epochs=2,
        validation=(X, y),
        metrics=["accuracy"],
        callbacks=[CSVLogger(path, append=True)],
    )
    with open(path, newline="") as handle:
        assert len(list(csv.reader(handle))) == 1 + 3 + 2


def test_model_checkpoint_keeps_the_best_model_rebuildable(tmp_path: Path) -> None:
    X, y = _blobs(seed=5)
    checkpoint = ModelCheckpoint(tmp_path / "best.npz", monitor="val_loss", save_best_only=True)
    every = ModelCheckpoint(str(tmp_path / "epoch{epoch}.npz"), save_weights_only=True)
    model = _model()
    history = _fit(model, epochs=4, validation=(X, y), callbacks=[checkpoint, every])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "best.npz",
        "epoch1.npz",
        "epoch2.npz",
        "epoch3.npz",
        "epoch4.npz",
    ]
    best = int(np.argmin(history["val_loss"]))
    restored = load_model(tmp_path / "best.npz")
    assert evaluate(restored, _bce, (X, y))["loss"] == pytest.approx(
        history["val_loss"][best], rel=1e-6
    )
    assert set(tg.load(tmp_path / "epoch1.npz")) == set(model.state_dict())


def test_lr_scheduler_callback_steps_per_epoch_and_feeds_plateau_the_monitor() -> None:
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = _fit(
        model,
        epochs=4,
        optimizer=opt,
        callbacks=[LRSchedulerCallback(optim.StepLR(opt, step_size=2, gamma=0.5))],
    )
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05])
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    values = iter([1.0, 1.0, 1.0, 1.0, 1.0])
    plateau = optim.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    history = _fit(
        model,
        epochs=4,
        optimizer=opt,
        metrics=[lambda o, t: next(values)],
        callbacks=[LRSchedulerCallback(plateau, monitor="<lambda>")],
    )
    # epoch 1 sets the best; every later epoch fails to improve and halves the rate after it
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.025])


def test_data_as_dataset_or_loader_and_full_batch() -> None:
    X, y = _blobs(n=12)
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    assert (
        fit(model, _bce, opt, TensorDataset(X, y), batch_size=None, progress=False).params["steps"]
        == 1
    )
    loader = DataLoader(TensorDataset(X, y), batch_size=5)
    assert fit(model, _bce, opt, loader, batch_size=None, progress=False).params["steps"] == 3
    with pytest.raises(ValueError, match="batch_size is set by the DataLoader"):
        fit(model, _bce, opt, loader, batch_size=4, progress=False)
    with pytest.raises(TypeError, match=r"expected \(X, y\), a Dataset or a DataLoader"):
        fit(model, _bce, opt, X, progress=False)
    with pytest.raises(DTypeError, match="inputs are float64 but the model's parameters are"):
        fit(model, _bce, opt, (X.astype(np.float64), y), progress=False)
    with pytest.raises(ValueError, match=r"each sample must be \(inputs, target\)"):
        fit(model, _bce, opt, (X,), progress=False)
    assert predict(model, X, batch_size=5).shape == (12, 1)


def test_progress_lines_without_tqdm_and_silence(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fit(_model(), epochs=2)
    assert capsys.readouterr() == ("", "")
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X, y = _blobs()
    model = _model()
    fit(
        model,
        _bce,
        optim.Adam(model.parameters(), lr=0.01),
        (X, y),
        epochs=2,
        validation=(X, y),
        metrics=["accuracy"],
        progress=True,
    )
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 2
    assert lines[1].startswith("epoch 2/2 - loss ")
    assert " - val_accuracy " in lines[1]


def test_history_plot_needs_matplotlib_and_says_which_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    history = _fit(_model(), epochs=1)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"pip install tensorgraph\[plot\]"):
        history.plot()


def test_history_plot_draws_train_and_validation_panels(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    X, y = _blobs()
    history = _fit(_model(), epochs=3, validation=(X, y), metrics=["accuracy"])
    figure = history.plot(path=tmp_path / "h.png")
    assert [ax.get_title() for ax in figure.axes] == ["loss", "accuracy"]
    assert [line.get_label() for line in figure.axes[0].get_lines()] == ["train", "validation"]
    np.testing.assert_allclose(figure.axes[0].get_lines()[1].get_ydata(), history["val_loss"])
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(KeyError, match="not logged"):
        history.plot(keys=["auc"])


def test_progress_uses_a_tqdm_bar_over_the_epochs_when_installed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("tqdm")  # in the test extra, so CI exercises this path
    X, y = _blobs()
    model = _model()
    fit(model, _bce, optim.Adam(model.parameters(), lr=0.01), (X, y), epochs=3,
        progress=True, description="blobs")
    out, err = capsys.readouterr()
    assert out == ""
    assert "blobs" in err and "3/3" in err and "epoch" in err
