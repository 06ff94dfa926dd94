"""Study files: a TOML file naming a study's models and settings.

::

    # every key is optional; these are the defaults
    [study]
    folds = 5          # k of the k-fold cross-validation
    repeats = 2
    # seeds = 10       # instead: 10 random stratified splits
    seed = 0
    baseline = "gd"
    epochs = 200       # the models' shared training settings
    batch_size = 64
    hidden = [64, 32]
    patience = 20

    [[models]]         # a model of the default series, as it is
    name = "gd"

    [[models]]         # a model of the series with other settings
    name = "adam"
    lr = 0.01

    [[models]]         # a new model: name, optimizer and lr are required
    name = "adam_wide"
    label = "Adam, 128 units"
    optimizer = "adam" # sgd, momentum, rmsprop or adam
    lr = 0.001
    betas = [0.9, 0.99]
    hidden = [128]
    l2 = 0.1           # also: dropout, batch_norm, momentum, full_batch, epochs,
                       # batch_size, patience, compile (true: train through tg.compile)

    [[models]]         # a model of the catalogue outside the default series
    name = "cnn"       # the small CNN (square images: the digits)

    [[models]]         # a new CNN: hidden is the channels of its 3x3 convolutions
    name = "cnn_small"
    architecture = "cnn"   # "mlp" (the default) or "cnn"
    optimizer = "adam"
    lr = 0.003
    hidden = [8, 16]
    batch_norm = true

Without ``[[models]]`` the study runs the nine models of the default series; ``[[models]]``
entries may name any model of the catalogue (the series and ``cnn``). Read with
:mod:`tomllib` (Python 3.11+), or with ``tomli`` on Python 3.10 (the ``toml`` extra).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from ..errors import DataError
from .models import CATALOGUE, ModelSpec

__all__ = ["SETTING_KEYS", "StudyFile", "load_study_file", "parse_study"]

#: The keys of a study file's ``[study]`` table.
SETTING_KEYS = ("folds", "repeats", "seeds", "seed", "baseline", "epochs", "batch_size",
                "hidden", "patience", "val_fraction", "test_fraction", "confidence")
_MODEL_KEYS = tuple(f.name for f in fields(ModelSpec))

# What each key's TOML value must be. Checked before any value is used, so that a quoted
# "false" is not taken as true, nor a boolean as the integer 1 (Python's bool is an int).
_SETTING_TYPES = {"folds": "int", "repeats": "int", "seeds": "int", "seed": "int",
                  "baseline": "str", "epochs": "int", "batch_size": "int", "hidden": "widths",
                  "patience": "int", "val_fraction": "number", "test_fraction": "number",
                  "confidence": "number"}
_MODEL_TYPES = {"name": "str", "label": "str", "optimizer": "str", "lr": "number",
                "full_batch": "bool", "l2": "number", "dropout": "number",
                "batch_norm": "bool", "momentum": "number", "betas": "pair",
                "hidden": "widths", "epochs": "int", "batch_size": "int", "patience": "int",
                "compile": "bool", "architecture": "str"}
_EXPECTED = {"int": "an integer", "str": "a non-empty string", "number": "a number",
             "bool": "true or false (a TOML boolean, not quoted)",
             "widths": "a non-empty array of positive integers, e.g. [64, 32]",
             "pair": "an array of two numbers, e.g. [0.9, 0.999]"}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fits(value: Any, kind: str) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str) and bool(value.strip())
    if kind == "number":
        return _is_number(value)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "widths":
        return (isinstance(value, list) and bool(value) and all(
            isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in value))
    return isinstance(value, list) and len(value) == 2 and all(map(_is_number, value))


def _check_types(table: dict[str, Any], types: dict[str, str], where: str) -> None:
    for key, value in table.items():
        kind = types[key]
        if not _fits(value, kind):
            shown = f"{value!r} ({type(value).__name__})" if not isinstance(value, list) \
                else repr(value)
            raise DataError(f"{where}: {key} must be {_EXPECTED[kind]}, got {shown}")


@dataclass
class StudyFile:
    """A parsed study file: its models (None: the default series), its settings and its
    text (kept in ``results.json``)."""

    path: str
    text: str
    models: list[ModelSpec] | None
    settings: dict[str, Any]

    def record(self) -> dict[str, Any]:
        """The file as ``results.json`` keeps it."""
        return {"path": self.path, "text": self.text}


def _toml() -> Any:
    for name in ("tomllib", "tomli"):  # tomllib is Python 3.11+; tomli is its 3.10 backport
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError(
        "reading a study file on Python 3.10 needs tomli: pip install \"tomli>=2\" "
        "(from a checkout: pip install \".[toml]\"); Python 3.11+ reads TOML itself"
    )


def _model(entry: Any, where: str) -> ModelSpec:
    if not isinstance(entry, dict):
        raise DataError(f"{where}: each [[models]] entry must be a table")
    unknown = sorted(set(entry) - set(_MODEL_KEYS))
    if unknown:
        raise DataError(f"{where}: unknown key {unknown[0]!r} in model "
                        f"{entry.get('name', '?')!r}; known: {', '.join(_MODEL_KEYS)}")
    name = entry.get("name")
    if not (isinstance(name, str) and name.strip()):
        raise DataError(f"{where}: every [[models]] entry needs a name (a non-empty string), "
                        f"got {name!r}")
    _check_types(entry, _MODEL_TYPES, f"{where}: model {name!r}")
    values = dict(entry)
    for key in ("betas", "hidden"):
        if isinstance(values.get(key), list):
            values[key] = tuple(values[key])
    known = {spec.name: spec for spec in CATALOGUE}
    if name in known:
        return replace(known[name], **values)
    missing = [key for key in ("name", "optimizer", "lr") if key not in values]
    if missing:
        raise DataError(
            f"{where}: model {name!r} is not in the catalogue, so it needs "
            f"{', '.join(missing)} (the catalogue: {', '.join(known)})"
        )
    values.setdefault("label", name)
    return ModelSpec(**values)


def parse_study(text: str, where: str = "study file") -> StudyFile:
    """Parse a study file's text (see the module's documentation for the format)."""
    tomllib = _toml()
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{where}: not valid TOML: {exc}") from None
    unknown = sorted(set(document) - {"study", "models"})
    if unknown:
        raise DataError(f"{where}: unknown table {unknown[0]!r}; a study file has [study] "
                        f"and [[models]]")
    settings = document.get("study", {})
    if not isinstance(settings, dict):
        raise DataError(f"{where}: [study] must be a table")
    wrong = sorted(set(settings) - set(SETTING_KEYS))
    if wrong:
        raise DataError(f"{where}: unknown key {wrong[0]!r} in [study]; known: "
                        f"{', '.join(SETTING_KEYS)}")
    _check_types(settings, _SETTING_TYPES, f"{where}: [study]")
    if "seeds" in settings and ("folds" in settings or "repeats" in settings):
        raise DataError(f"{where}: [study] sets seeds (random splits) and folds/repeats "
                        f"(k-fold), which exclude each other; keep one")
    if isinstance(settings.get("hidden"), list):
        settings["hidden"] = tuple(settings["hidden"])
    entries = document.get("models")
    if entries is not None and (not isinstance(entries, list) or not entries):
        raise DataError(f"{where}: models must be a non-empty array of tables ([[models]])")
    try:
        models = None if entries is None else [_model(e, where) for e in entries]
    except (TypeError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{where}: {exc}") from None
    return StudyFile(path=where, text=text, models=models, settings=settings)


def load_study_file(path: str | os.PathLike[str]) -> StudyFile:
    """Read and parse the study file at ``path``."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"--study: no such file: {file}")
    return parse_study(file.read_text(encoding="utf-8"), str(file))
