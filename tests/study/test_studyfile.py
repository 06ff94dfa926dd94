"""Study files (TOML): models of the series with new settings, new models, the shared
settings, and clear refusals."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tensorgraph.errors import DataError, DomainError
from tensorgraph.study import SERIES, StudySettings, load_study_file, parse_study, select

TEXT = """
[study]
folds = 3
repeats = 1
seed = 4
baseline = "adam"
hidden = [16, 8]

[[models]]
name = "adam"

[[models]]
name = "momentum"
lr = 0.01
momentum = 0.8

[[models]]
name = "adam_wide"
label = "Adam, 128 units"
optimizer = "adam"
lr = 0.002
betas = [0.8, 0.99]
hidden = [128]
dropout = 0.1
"""


def test_a_study_file_names_models_and_settings(tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    path.write_text(TEXT)
    parsed = load_study_file(path)
    assert parsed.text == TEXT and parsed.record() == {"path": str(path), "text": TEXT}
    assert parsed.models is not None
    adam, momentum, wide = parsed.models
    assert adam == next(s for s in SERIES if s.name == "adam")
    assert (momentum.label, momentum.optimizer, momentum.lr, momentum.momentum) == (
        "momentum", "momentum", 0.01, 0.8)
    assert (wide.betas, wide.hidden, wide.dropout, wide.label) == (
        (0.8, 0.99), (128,), 0.1, "Adam, 128 units")
    settings = StudySettings(**parsed.settings)
    assert (settings.folds, settings.repeats, settings.seed, settings.baseline) == (
        3, 1, 4, "adam")
    assert settings.hidden == (16, 8)
    assert [s.name for s in select(["adam_wide", "adam"], parsed.models)] == [
        "adam", "adam_wide"]


def test_without_models_the_study_is_the_series() -> None:
    parsed = parse_study("[study]\nfolds = 4\n")
    assert parsed.models is None and parsed.settings == {"folds": 4}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[study]\nfold = 3\n", "unknown key 'fold' in [study]"),
        ("[runs]\n", "unknown table 'runs'"),
        ("[[models]]\nname = 'x'\nlr = 0.1\n", "model 'x' is not in the catalogue, "
         "so it needs optimizer"),
        ("[[models]]\nname = 'adam'\nrate = 0.1\n", "unknown key 'rate' in model 'adam'"),
        ("[[models]]\nname = 'adam'\nlr = -1.0\n", "model 'adam': lr must be a positive number"),
        ("[[models]]\nname = 'n'\noptimizer = 'lbfgs'\nlr = 0.1\n", "optimizer must be one of"),
        ("[study\n", "not valid TOML"),
        ("models = []\n", "models must be a non-empty array of tables"),
    ],
)
def test_bad_files_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises((DataError, DomainError), match=message.replace("[", r"\[")):
        parse_study(text)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(DomainError, match="folds must be an integer >= 2, got 1"):
        StudySettings(**parse_study("[study]\nfolds = 1\n").settings)


def test_missing_file_and_missing_toml_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(DataError, match="--study: no such file"):
        load_study_file(tmp_path / "absent.toml")
    # Python 3.10 without tomli: a clear message with an install line.
    monkeypatch.setitem(sys.modules, "tomllib", None)
    monkeypatch.setitem(sys.modules, "tomli", None)
    with pytest.raises(ImportError, match=r'needs tomli: pip install "tomli>=2"'):
        parse_study("[study]\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # A quoted "false" is a non-empty string, truthy: it must not turn batch-norm on.
        ("[[models]]\nname = 'adam'\nbatch_norm = 'false'\n",
         "model 'adam': batch_norm must be true or false .a TOML boolean"),
        ("[[models]]\nname = 'adam'\nbatch_norm = 0\n", "batch_norm must be true or false"),
        ("[[models]]\nname = 'gd'\nfull_batch = 'no'\n", "model 'gd': full_batch must be true"),
        ("[study]\nfolds = true\n", r"\[study\]: folds must be an integer, got True"),
        ("[study]\nrepeats = 1.0\n", "repeats must be an integer"),
        ("[study]\nhidden = [true]\n", r"hidden must be a non-empty array of positive"),
        ("[study]\nconfidence = true\n", "confidence must be a number"),
        ("[study]\nbaseline = 3\n", "baseline must be a non-empty string"),
        ("[[models]]\nname = 'adam'\nhidden = [true]\n", "model 'adam': hidden must be"),
        ("[[models]]\nname = 'adam'\nhidden = [0]\n", "model 'adam': hidden must be"),
        ("[[models]]\nname = 'adam'\nlr = true\n", "model 'adam': lr must be a number"),
        ("[[models]]\nname = 'adam'\nepochs = false\n", "model 'adam': epochs must be an"),
        ("[[models]]\nname = 'adam'\nbetas = [0.9, true]\n", "betas must be an array of two"),
        ("[[models]]\nname = 'adam'\nlabel = ['a']\n", "model 'adam': label must be a non-empty"),
        ("[[models]]\nname = 'adam'\nlabel = 3\n", "model 'adam': label must be a non-empty"),
        ("[[models]]\nname = 'adam'\nlabel = ''\n", "label must be a non-empty string"),
        ("[[models]]\nname = 3\n", "every ..models.. entry needs a name"),
        ("[study]\nseeds = 3\nfolds = 2\n", "seeds .random splits. and folds/repeats"),
        ("[study]\nseeds = 3\nrepeats = 2\n", "exclude each other"),
    ],
)
def test_every_field_is_type_checked_naming_file_model_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as caught:
        load_study_file(path)
    assert str(path) in str(caught.value)


def test_specs_refuse_booleans_for_numbers_and_strings_for_flags() -> None:
    adam = next(s for s in SERIES if s.name == "adam")
    from dataclasses import replace

    for field, value in (("lr", True), ("batch_norm", "false"), ("full_batch", 1),
                         ("hidden", (True,)), ("label", ["a"]), ("dropout", False)):
        with pytest.raises(DomainError, match=f"model 'adam': {field} must"):
            replace(adam, **{field: value})
    with pytest.raises(DomainError, match="hidden must be positive layer widths"):
        StudySettings(hidden=(True,))
