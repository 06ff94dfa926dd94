"""``fit(..., compile=True)`` and a study model with ``compile = true`` train exactly as
eagerly: the same losses, the same weights, the same running statistics."""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np

import tensorgraph as tg
from tensorgraph import nn, optim
from tensorgraph.compiler import CompileWarning
from tensorgraph.study.models import SERIES
from tensorgraph.study.studyfile import parse_study
from tensorgraph.study.trainer import train_model
from tensorgraph.training import fit


def _data(n: int = 45) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 4)).astype(np.float32)
    y = (X[:, :1] + X[:, 1:2] > 0).astype(np.float32)
    return X, y


def _fit(compile: bool) -> tuple[Any, Any]:
    model = nn.MLP([4, 8, 1], batch_norm=True, dropout=0.25, output=None, generator=1)
    opt = optim.Adam(model.parameters(), lr=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        history = fit(model, nn.BCEWithLogitsLoss(), opt, _data(), epochs=3, batch_size=16,
                      seed=0, progress=False, validation=_data(20), metrics=["accuracy"],
                      compile=compile)
    return history, model


def test_fit_compiled_trains_exactly_as_eagerly() -> None:
    eager_history, eager_model = _fit(False)
    history, model = _fit(True)
    assert history.history == eager_history.history
    for a, b in zip(eager_model.state_dict().values(), model.state_dict().values()):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_a_study_model_can_ask_for_compile() -> None:
    study = parse_study('[[models]]\nname = "adam"\ncompile = true\n')
    assert study.models is not None and study.models[0].compile is True
    spec = replace(next(s for s in SERIES if s.name == "adam_bn"), dropout=0.2)
    X, y = _data(60)
    labels = y.ravel().astype(np.int64)
    runs = []
    for flag in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("error", CompileWarning)
            trained = train_model(
                replace(spec, compile=flag), (X[:40], labels[:40]), (X[40:], labels[40:]), 2,
                hidden=[6], epochs=2, batch_size=16, patience=0, init_seed=3, shuffle_seed=4)
        runs.append((trained.history.history, [np.array(p.numpy()) for p in
                                               trained.model.parameters()]))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


def test_the_compiled_step_is_really_replayed_by_fit() -> None:
    """fit traces per batch shape: 16-row batches and the 13-row last batch."""
    import tensorgraph.training.loop as loop

    made = []
    original = loop._compiled_step

    def spy(*args: Any) -> Any:
        step = original(*args)
        made.append(step)
        return step

    loop._compiled_step = spy
    try:
        _fit(True)
    finally:
        loop._compiled_step = original
    (step,) = made
    assert step.traces == 2 and step.replays == 3 * 3 - 1 - 2 and step.eager_calls == 0
    assert isinstance(tg.compile(lambda: None), tg.compiler.CompiledFunction)
