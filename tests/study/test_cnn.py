"""The study's CNN: the architecture field of ModelSpec, the SquareCNN builder, the
catalogue entry ``cnn`` (outside the default series), study files, and a tiny fit."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.data import load_breast_cancer, load_digits
from tensorgraph.errors import DataError, DomainError
from tensorgraph.serialization import load_model, save_model
from tensorgraph.study import (
    CATALOGUE,
    CNN,
    SERIES,
    ModelSpec,
    SquareCNN,
    StudySettings,
    build_model,
    parse_study,
    plan,
    prepare,
    select,
    train_model,
)
from tensorgraph.training import evaluate

SERIES_NAMES = ["gd", "minibatch", "momentum", "rmsprop", "adam", "adam_l2", "adam_dropout",
                "adam_bn", "adam_bn_l2_dropout"]


# --------------------------------------------------------------------------- specs
def test_the_default_series_stays_the_nine_mlps() -> None:
    assert [s.name for s in SERIES] == SERIES_NAMES
    assert all(s.architecture == "mlp" for s in SERIES)
    assert [s.name for s in select(None)] == SERIES_NAMES
    assert [s.name for s in CATALOGUE] == [*SERIES_NAMES, "cnn"]


def test_the_cnn_entry_is_a_cnn_with_its_own_channels() -> None:
    assert CNN.architecture == "cnn" and CNN.hidden == (16, 32) and CNN.batch_norm
    assert "CNN" in CNN.label


def test_select_finds_the_cnn_in_the_catalogue_in_catalogue_order() -> None:
    assert [s.name for s in select(["cnn", "adam_bn"])] == ["adam_bn", "cnn"]
    assert select(["cnn"]) == [CNN]
    # Given an explicit series, only its models are known.
    with pytest.raises(DomainError, match="unknown model 'cnn'; the series is: gd"):
        select(["cnn"], SERIES)
    with pytest.raises(DomainError, match=r"unknown model 'cnm'.*adam_bn_l2_dropout, cnn"):
        select(["cnm"])


@pytest.mark.parametrize(("changes", "words"), [
    ({"architecture": "rnn"}, "architecture must be one of mlp, cnn, got 'rnn'"),
    ({"architecture": "CNN"}, "architecture must be one of mlp, cnn"),
    ({"hidden": None}, "a CNN needs its own hidden: the output channels"),
    ({"hidden": (16, 0)}, "hidden must be positive layer widths"),
])
def test_check_spec_refuses_bad_cnn_specs(changes: dict[str, object], words: str) -> None:
    with pytest.raises(DomainError, match=f"model 'cnn': {words}"):
        replace(CNN, **changes)  # type: ignore[arg-type]


def test_an_mlp_spec_keeps_the_default_architecture() -> None:
    spec = ModelSpec("m", "m", "adam", lr=0.01)
    assert spec.architecture == "mlp" and spec.hidden is None


# --------------------------------------------------------------------------- builder
def test_build_model_makes_the_documented_cnn() -> None:
    model = build_model(CNN, 64, 10, hidden=(64, 32), seed=0)
    assert isinstance(model, SquareCNN)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Unflatten", "Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d",
                     "ReLU", "MaxPool2d", "Flatten", "Dropout", "Linear"]
    convs = [m for m in model if isinstance(m, nn.Conv2d)]
    assert [c.weight.shape for c in convs] == [(16, 1, 3, 3), (32, 16, 3, 3)]
    assert all(c.bias is None for c in convs)  # batch-norm removes a bias
    assert model[-1].weight.shape == (10, 32 * 4 * 4)
    x = tg.tensor(np.zeros((5, 64), np.float32))
    assert model(x).shape == (5, 10)
    # He initialisation: uniform within the ReLU bound sqrt(6 / fan_in).
    bound = math.sqrt(6 / (16 * 9))
    w = convs[1].weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound


def test_the_builder_follows_the_spec_switches_and_the_data_shape() -> None:
    plain = replace(CNN, batch_norm=False, dropout=0.0, hidden=(4,))
    model = build_model(plain, 9, 2, hidden=(64,), seed=1)  # 3x3 images, two classes
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Unflatten", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    assert model[1].bias is not None and model[-1].weight.shape == (1, 4 * 1 * 1)
    assert model(tg.tensor(np.zeros((2, 9), np.float32))).shape == (2, 1)
    one_pixel = build_model(plain, 1, 3, hidden=(64,), seed=1)  # no pooling on 1x1
    assert "MaxPool2d" not in [type(m).__name__ for m in one_pixel]


def test_the_same_seed_builds_the_same_cnn() -> None:
    a = build_model(CNN, 64, 10, hidden=(8,), seed=3).state_dict()
    b = build_model(CNN, 64, 10, hidden=(8,), seed=3).state_dict()
    c = build_model(CNN, 64, 10, hidden=(8,), seed=4).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not all(np.array_equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("n_features", [30, 63, 0])
def test_a_cnn_refuses_a_feature_count_that_is_not_a_square(n_features: int) -> None:
    with pytest.raises(DomainError, match=f"square number of features.*got {n_features}"):
        build_model(CNN, n_features, 2, hidden=(8,), seed=0)


def test_a_study_of_a_cnn_on_non_square_data_is_refused_before_training() -> None:
    with pytest.raises(DomainError, match="model 'cnn': a CNN reads each row"):
        plan(load_breast_cancer(), [SERIES[0], CNN], StudySettings(folds=2, repeats=1))


def test_squarecnn_refuses_bad_arguments() -> None:
    with pytest.raises(DomainError, match="channels must be positive ints"):
        SquareCNN(64, (), 10)
    with pytest.raises(DomainError, match="n_outputs must be a positive int"):
        SquareCNN(64, (4,), 0)
    assert SquareCNN(64, [4, 8], 10, generator=0).get_config() == {
        "n_features": 64, "channels": [4, 8], "n_outputs": 10, "batch_norm": True,
        "dropout": 0.0, "dtype": "float32"}


# --------------------------------------------------------------------------- training
def test_a_tiny_cnn_fit_learns_the_digits() -> None:
    digits = load_digits()
    assert digits.target is not None
    rows = np.concatenate([np.flatnonzero(digits.target == d)[:30] for d in range(10)])
    small = replace(digits, data=digits.data[rows], target=digits.target[rows], images=None)
    split = prepare(small, seed=0)
    spec = replace(CNN, hidden=(8, 16))
    trained = train_model(spec, (split.X_train, split.y_train), None, split.n_classes,
                          hidden=(64,), epochs=8, batch_size=32, patience=0, init_seed=0,
                          shuffle_seed=0)
    losses = trained.history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    accuracy = evaluate(trained.model, None, (split.X_test, split.y_test),
                        metrics=["accuracy"])["accuracy"]
    assert accuracy > 0.6  # ten classes: chance is 0.1


# --------------------------------------------------------------------------- study files
def test_a_study_file_names_the_cnn_and_defines_new_cnns() -> None:
    parsed = parse_study("""
[[models]]
name = "adam_bn"

[[models]]
name = "cnn"
lr = 0.01

[[models]]
name = "cnn_small"
architecture = "cnn"
optimizer = "adam"
lr = 0.002
hidden = [4, 8]
""")
    assert parsed.models is not None
    bn, cnn, small = parsed.models
    assert bn.architecture == "mlp"
    assert (cnn.architecture, cnn.lr, cnn.hidden) == ("cnn", 0.01, (16, 32))
    assert (small.architecture, small.hidden, small.label) == ("cnn", (4, 8), "cnn_small")
    assert isinstance(build_model(small, 64, 10, hidden=(64,), seed=0), SquareCNN)


@pytest.mark.parametrize(("entry", "words"), [
    ("architecture = 1", "architecture must be a non-empty string, got 1"),
    ("architecture = 'lstm'", "architecture must be one of mlp, cnn, got 'lstm'"),
])
def test_a_study_file_refuses_a_bad_architecture(entry: str, words: str) -> None:
    text = f"[[models]]\nname = 'n'\noptimizer = 'adam'\nlr = 0.1\nhidden = [4]\n{entry}\n"
    with pytest.raises((DataError, DomainError), match=words):
        parse_study(text)


def test_a_study_file_cnn_without_channels_is_refused() -> None:
    text = "[[models]]\nname = 'n'\narchitecture = 'cnn'\noptimizer = 'adam'\nlr = 0.1\n"
    with pytest.raises(DataError, match="a CNN needs its own hidden"):
        parse_study(text)


def test_a_saved_cnn_loads_back_with_its_weights(tmp_path: Path) -> None:
    model = build_model(CNN, 64, 10, hidden=(4, 8), seed=2)
    x = np.random.default_rng(0).normal(size=(6, 64)).astype(np.float32)
    model.eval()
    expected = model(tg.tensor(x)).numpy()
    save_model(model, tmp_path / "cnn.npz")
    loaded = load_model(tmp_path / "cnn.npz")
    assert isinstance(loaded, SquareCNN) and loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded(tg.tensor(x)).numpy(), expected)


def test_the_documented_study_files_parse_with_their_cnns() -> None:
    # The example of docs/study.md and the module's docstring: both name cnn and define one.
    from tensorgraph.study import studyfile

    page = (Path(__file__).resolve().parents[2] / "docs" / "study.md").read_text()
    block = page.split("```toml\n", 1)[1].split("```", 1)[0]
    docstring = studyfile.__doc__ or ""
    module_block = docstring.split("::\n", 1)[1].split("\nWithout", 1)[0]
    for text in (block, module_block):
        models = parse_study(text).models
        assert models is not None
        cnns = [m for m in models if m.architecture == "cnn"]
        assert [(m.name, m.hidden) for m in cnns] == [("cnn", (16, 32)), ("cnn_small", (8, 16))]


def test_the_cnn_fits_are_handed_out_first() -> None:
    # Its steps cost tens of times an MLP's: started last, they would leave a worker idle.
    from tensorgraph.study import expected_cost

    tasks = plan(load_digits(), select(["adam_bn_l2_dropout", "cnn"]),
                 StudySettings(folds=2, repeats=1))
    cost = {t.spec.name: expected_cost(t) for t in tasks[:2]}
    assert cost["cnn"] > 10 * cost["adam_bn_l2_dropout"]
