"""``tg.onnx.export``: the written file, run in ONNX Runtime, computes what the model computes
in evaluation mode; what cannot be exported is refused by name."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.errors import DTypeError, ExportError, ShapeError


def _run(path: Path | bytes, x: np.ndarray, name: str = "input") -> np.ndarray:
    source = path.SerializeToString() if isinstance(path, onnx.ModelProto) else str(path)
    session = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {name: x})
    return np.asarray(out)


def _eval_output(model: nn.Module, x: np.ndarray) -> np.ndarray:
    model.eval()
    with tg.no_grad():
        return np.asarray(model(tg.tensor(x)).numpy())


def _assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    """1e-5 relative to the output's scale, as the issue asks in float32."""
    assert actual.shape == expected.shape
    scale = max(float(np.abs(expected).max()), 1e-6)
    assert np.abs(actual - expected).max() <= 1e-5 * scale


def _trained_batch_norm(model: nn.Module, n_in: int, seed: int = 0) -> None:
    """Move the running statistics away from (0, 1) so the test sees them used."""
    rng = np.random.default_rng(seed)
    model.train()
    with tg.no_grad():
        for _ in range(5):
            model(tg.tensor((rng.standard_normal((16, n_in)) * 3 + 1).astype(np.float32)))


MLPS: dict[str, dict[str, Any]] = {
    "logits": {"sizes": [5, 8, 3], "output": None},
    "sigmoid": {"sizes": [5, 8, 1], "output": "sigmoid"},
    "softmax": {"sizes": [5, 8, 8, 4], "output": "softmax"},
    "log_softmax": {"sizes": [5, 8, 4], "output": "log_softmax", "activation": "tanh"},
    "batch_norm_dropout": {"sizes": [5, 16, 16, 2], "output": None, "batch_norm": True,
                           "dropout": 0.3},
    "leaky_no_bias": {"sizes": [5, 8, 1], "output": "sigmoid", "activation": "leaky_relu",
                      "bias": False},
}


@pytest.mark.parametrize("name", sorted(MLPS))
def test_an_exported_mlp_gives_onnx_runtime_outputs_equal_to_tensorgraphs(
    name: str, tmp_path: Path
) -> None:
    model = nn.MLP(generator=1, **MLPS[name])
    _trained_batch_norm(model, 5)
    model.train()  # exported as evaluation computes, whatever the mode now
    path = tmp_path / "model.onnx"
    tg.onnx.export(model, tg.zeros((1, 5)), path)
    assert model.training, "export must leave the training flags as they were"
    rng = np.random.default_rng(2)
    for batch in (1, 7, 64):  # the batch axis is free
        x = (rng.standard_normal((batch, 5)) * 2).astype(np.float32)
        _assert_close(_run(path, x), _eval_output(model, x))


def test_the_graph_has_named_input_output_and_a_dynamic_batch_axis(tmp_path: Path) -> None:
    model = nn.MLP([3, 4, 2], output=None, generator=0)
    proto = tg.onnx.export(model, tg.zeros((2, 3)), tmp_path / "m.onnx",
                           input_names=["pixels"], output_names=["logits"])
    loaded = onnx.load(str(tmp_path / "m.onnx"))
    assert loaded == proto
    (inp,), (out,) = loaded.graph.input, loaded.graph.output
    assert (inp.name, out.name) == ("pixels", "logits")
    dims = [[d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in (inp, out)]
    assert dims == [["batch", 3], ["batch", 2]]
    assert loaded.opset_import[0].version == tg.onnx.OPSET_VERSION
    fixed = tg.onnx.export(model, tg.zeros((2, 3)), dynamic_batch=False)
    assert [d.dim_value for d in fixed.graph.input[0].type.tensor_type.shape.dim] == [2, 3]


def test_float64_models_export_in_float64() -> None:
    model = nn.MLP([4, 6, 3], output="softmax", dtype=np.float64, generator=3)
    x = np.random.default_rng(0).standard_normal((9, 4))
    proto = tg.onnx.export(model, x)
    out = _run(proto, x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, _eval_output(model, x), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("start", "end", "shape"), [
    (1, -1, (3, 2, 4, 5)), (2, 3, (3, 2, 4, 5)), (1, 2, (3, 2, 4, 5)), (0, -1, (3, 2, 4)),
])
def test_flatten_of_any_axes(start: int, end: int, shape: tuple[int, ...]) -> None:
    model = nn.Sequential(nn.Flatten(start, end), nn.Tanh())
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    proto = tg.onnx.export(model, x, dynamic_batch=start != 0)
    _assert_close(_run(proto, x), _eval_output(model, x))
    if start != 0:
        bigger = np.concatenate([x, x[:1]])
        _assert_close(_run(proto, bigger), _eval_output(model, bigger))


def test_linear_on_a_rank_three_input_and_nested_sequentials() -> None:
    inner = nn.Sequential(nn.Linear(4, 3, generator=0), nn.Sigmoid())
    model = nn.Sequential(nn.Linear(5, 4, generator=1), nn.Sequential(inner, nn.Identity()),
                          nn.Linear(3, 2, bias=False, generator=2))
    x = np.random.default_rng(0).standard_normal((2, 6, 5)).astype(np.float32)
    _assert_close(_run(tg.onnx.export(model, x), x), _eval_output(model, x))


def test_a_subclass_that_keeps_forward_is_exported() -> None:
    class MyLinear(nn.Linear):
        pass

    model = nn.Sequential(MyLinear(3, 2, generator=0))
    x = np.ones((4, 3), np.float32)
    _assert_close(_run(tg.onnx.export(model, x), x), _eval_output(model, x))


class Doubler(nn.Module):
    def forward(self, x: Any) -> Any:
        return 2 * x


class ShiftedLinear(nn.Linear):
    def forward(self, x: Any) -> Any:
        return super().forward(x) + 1


@pytest.mark.parametrize(("layer", "named"), [
    (Doubler(), "Doubler (at '1.0')"),
    (ShiftedLinear(4, 4, generator=0), "ShiftedLinear (at '1.0')"),
])
def test_a_layer_that_cannot_be_exported_is_named_with_its_place(
    layer: nn.Module, named: str, tmp_path: Path
) -> None:
    model = nn.Sequential(nn.Linear(3, 4, generator=0), nn.Sequential(layer), nn.ReLU())
    path = tmp_path / "m.onnx"
    with pytest.raises(ExportError, match=f"cannot export {named}".replace("(", r"\(")
                       .replace(")", r"\)")):
        tg.onnx.export(model, tg.zeros((1, 3)), path)
    assert not path.exists() and os.listdir(tmp_path) == []


def test_a_subclass_of_sequential_with_its_own_forward_is_refused() -> None:
    class Residual(nn.Sequential):
        def forward(self, x: Any) -> Any:
            return x + super().forward(x)

    with pytest.raises(ExportError, match="cannot export Residual"):
        tg.onnx.export(Residual(nn.Linear(2, 2, generator=0)), tg.zeros((1, 2)))


def test_batch_norm_without_running_statistics_is_refused() -> None:
    model = nn.Sequential(nn.Linear(3, 4, generator=0), nn.BatchNorm1d(4,
                          track_running_stats=False))
    with pytest.raises(ExportError, match=r"BatchNorm1d with track_running_stats=False.*"
                                          r"\(at '1'\)"):
        tg.onnx.export(model, tg.zeros((2, 3)))


def test_mistakes_are_refused_clearly() -> None:
    model = nn.MLP([3, 2], output=None, generator=0)
    with pytest.raises(DTypeError, match=r"example_input has dtype float64.*float32"):
        tg.onnx.export(model, np.zeros((1, 3)))
    with pytest.raises(ShapeError, match="batch axis"):
        tg.onnx.export(model, np.zeros((), np.float32))
    with pytest.raises(ShapeError, match="batch axis"):
        tg.onnx.export(model, np.zeros((0, 3), np.float32))
    with pytest.raises(ValueError, match="input_names must hold one"):
        tg.onnx.export(model, tg.zeros((1, 3)), input_names=["a", "b"])
    with pytest.raises(ValueError, match="both named 'x'"):
        tg.onnx.export(model, tg.zeros((1, 3)), input_names=["x"], output_names=["x"])
    with pytest.raises(TypeError, match="must be a tensorgraph Module"):
        tg.onnx.export(lambda x: x, tg.zeros((1, 3)))  # type: ignore[arg-type]
    mixed = nn.Sequential(nn.Linear(3, 2, generator=0),
                          nn.Linear(2, 2, dtype=np.float64, generator=0))
    with pytest.raises(DTypeError, match="mixes parameter dtypes"):
        tg.onnx.export(mixed, tg.zeros((1, 3)))
    with pytest.raises(ShapeError):  # the example does not fit the model: tensorgraph says so
        tg.onnx.export(model, tg.zeros((1, 4)))


def test_writing_is_atomic_and_refuses_a_directory(tmp_path: Path) -> None:
    model = nn.MLP([3, 2], output=None, generator=0)
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")
    tg.onnx.export(model, tg.zeros((1, 3)), path)
    assert onnx.load(str(path)).graph.node
    assert sorted(os.listdir(tmp_path)) == ["m.onnx"]  # no temporary file left
    with pytest.raises(IsADirectoryError):
        tg.onnx.export(model, tg.zeros((1, 3)), tmp_path)


def test_standardize_and_class_probabilities_compute_what_predict_prints() -> None:
    mean, scale = np.array([1.0, -2.0, 0.5]), np.array([2.0, 0.5, 1.0])
    for classes in (1, 4):
        model = nn.Sequential(tg.onnx.Standardize(mean, scale),
                              nn.MLP([3, 5, classes], output=None, generator=0),
                              tg.onnx.ClassProbabilities())
        x = np.random.default_rng(classes).standard_normal((6, 3)).astype(np.float32)
        expected = _eval_output(model, x)
        assert expected.shape == (6, max(classes, 2))
        np.testing.assert_allclose(expected.sum(axis=1), 1.0, rtol=1e-6)
        _assert_close(_run(tg.onnx.export(model, x), x), expected)
    with pytest.raises(ValueError, match="finite and > 0"):
        tg.onnx.Standardize([0.0], [0.0])
    with pytest.raises(ShapeError, match="shapes"):
        tg.onnx.Standardize([0.0, 1.0], [1.0])
