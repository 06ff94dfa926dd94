"""``tensorgraph train --export``: the ONNX file takes raw feature columns and gives the
probabilities ``tensorgraph predict`` prints for the same model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from tensorgraph.data import load_breast_cancer, load_digits

from .test_cli import FAST, run


def _predicted(stdout: str) -> np.ndarray:
    rows = list(csv.reader(stdout.splitlines()))[1:]
    return np.array([[float(v) for v in row[2:]] for row in rows])


def test_train_export_gives_the_probabilities_predict_prints(tmp_path: Path) -> None:
    for data, features in (("breast_cancer", load_breast_cancer().data),
                           ("digits", load_digits().data)):
        model, exported = tmp_path / f"{data}.npz", tmp_path / f"{data}.onnx"
        trained = run("train", "--data", data, "--model", "adam_bn", "--save", str(model),
                      "--export", str(exported), *FAST)
        assert trained.returncode == 0, trained.stderr
        assert f"exported {exported}" in trained.stdout
        printed = run("predict", "--model", str(model), "--data", data)
        assert printed.returncode == 0, printed.stderr
        session = ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
        (probabilities,) = session.run(None, {"features": np.asarray(features, np.float32)})
        expected = _predicted(printed.stdout)
        assert probabilities.shape == expected.shape
        # predict prints 6 decimals of the same float32 computation
        assert np.abs(probabilities - expected).max() <= 1e-5
        meta = {p.key: json.loads(p.value) for p in onnx.load(str(exported)).metadata_props}
        assert meta["dataset"] == data
        assert len(meta["class_names"]) == expected.shape[1]
        assert len(meta["feature_names"]) == features.shape[1]


def test_export_problems_are_found_before_training(tmp_path: Path) -> None:
    same = tmp_path / "m"
    result = run("train", "--data", "breast_cancer", "--save", str(same), "--export",
                 str(same), *FAST)
    assert result.returncode == 2
    assert "name the same file" in result.stderr
    result = run("train", "--data", "breast_cancer", "--export", str(tmp_path), *FAST)
    assert result.returncode == 2
    assert "is a directory" in result.stderr and "model.onnx" in result.stderr
    result = run("train", "--data", "breast_cancer", "--export",
                 str(tmp_path / "missing" / "m.onnx"), *FAST)
    assert result.returncode == 2 and "no such directory" in result.stderr
    assert "train acc" not in result.stdout  # refused before any training
