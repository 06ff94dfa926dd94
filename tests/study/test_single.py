from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn, study
from tensorgraph.data import Bunch, load_breast_cancer
from tensorgraph.errors import DomainError


def test_prepare_splits_60_20_20_stratified_and_standardises_on_train_only() -> None:
    bunch = load_breast_cancer()
    split = study.prepare(bunch, seed=0)
    sizes = (len(split.y_train), len(split.y_val), len(split.y_test))
    assert sizes == (341, 114, 114)
    for labels in (split.y_train, split.y_val, split.y_test):
        assert abs(labels.mean() - bunch.target.mean()) < 0.01  # type: ignore[union-attr]
    np.testing.assert_allclose(split.X_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(split.X_train.std(axis=0), 1.0, atol=1e-4)
    # The three splits are disjoint and together hold every sample once.
    raw = split.scaler.inverse_transform(
        np.concatenate([split.X_train, split.X_val, split.X_test]).astype(np.float64)
    )
    order = np.lexsort(raw.T[::-1])
    expected = bunch.data.astype(np.float64)[np.lexsort(bunch.data.astype(np.float64).T[::-1])]
    np.testing.assert_allclose(raw[order], expected, rtol=1e-5, atol=1e-4)
    again = study.prepare(bunch, seed=0)
    assert np.array_equal(again.X_test, split.X_test)


def test_select_keeps_the_series_order_and_refuses_unknown_names() -> None:
    assert [s.name for s in study.select(["adam", "gd"])] == ["gd", "adam"]
    assert len(study.select(None)) == 9
    with pytest.raises(DomainError, match="unknown model 'sgd'"):
        study.select(["sgd"])


def test_models_and_costs_follow_their_spec() -> None:
    spec = next(s for s in study.SERIES if s.name == "adam_bn_l2_dropout")
    model = study.build_model(spec, n_features=4, n_classes=2, hidden=(6, 5), seed=0)
    kinds = [type(m).__name__ for m in model]
    assert kinds.count("BatchNorm1d") == 2 and kinds.count("Dropout") == 2
    assert kinds[-1] == "Linear" and model[-1].out_features == 1  # logits
    assert study.build_model(spec, 4, 10, (6,), 0)[-1].out_features == 10
    x = tg.tensor(np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32))
    y = tg.tensor(np.array([0, 1] * 4))
    model.eval()
    output = model(x)
    cost = study.make_loss(model, spec, n_classes=2)(output, y)
    labels = tg.tensor(y.numpy().reshape(-1, 1).astype(np.float32))
    bce = nn.functional.binary_cross_entropy_with_logits(output, labels)
    penalty = nn.l2_penalty(nn.weight_matrices(model), spec.l2, m=8)
    assert float(cost) == pytest.approx(float(bce) + float(penalty), rel=1e-6)
    assert float(penalty) > 0


def test_a_short_run_measures_every_model_and_formats_a_table(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    bunch = Bunch(X, y, ("a", "b", "c"), ("no", "yes"), "toy")
    split = study.prepare(bunch, seed=1)
    config = study.StudyConfig(epochs=3, batch_size=8, hidden=(4,), patience=0)
    runs = study.run(split, study.select(["gd", "adam"]), config)
    assert [r.epochs_run for r in runs] == [3, 3]
    assert all(0 <= r.test_accuracy <= 1 and r.final_cost > 0 for r in runs)
    table = study.format_table(runs).splitlines()
    assert table[0].split()[:2] == ["model", "train"] and len(table) == 4
    assert table[2].startswith("full-batch gradient descent")
    paths = study.write_results(tmp_path, split, config, runs)
    assert [p.name for p in paths] == ["results.json", "results.csv"]
