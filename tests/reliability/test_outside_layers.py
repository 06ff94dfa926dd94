"""Bugs an outside tester found in the layers, losses, convolutions and ONNX export of
issue 14; each test failed before its fix."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.ops.special import erf_array


# --------------------------------------------------------------------------- erf
@pytest.mark.parametrize(("dtype", "expected"), [
    (np.int64, np.float64), (np.int32, np.float64), (np.int8, np.float16),
    (np.uint8, np.float16), (np.bool_, np.float16),
])  # fmt: skip
def test_erf_of_integers_is_a_float_like_numpys_ufuncs(dtype: type, expected: type) -> None:
    # erf(1) = 0.84 was truncated to the integer 0 (the output took the input's dtype)
    x = np.array([0, 1], dtype=dtype)
    out = erf_array(x)
    assert out.dtype == np.tanh(x).dtype == expected
    np.testing.assert_allclose(out, [0.0, math.erf(1.0)], rtol=1e-3)
    t = tg.erf(tg.tensor(np.array([1, 2])))
    assert t.dtype == np.float64
    np.testing.assert_allclose(t.numpy(), [math.erf(1.0), math.erf(2.0)], rtol=1e-15)


# --------------------------------------------------------------------------- ONNX export
def _onnx_run(proto: Any, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(proto.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"input": x})[0])


@pytest.mark.filterwarnings("ignore:Implicit dimension choice")
@pytest.mark.parametrize("layer", [nn.Softmax, nn.LogSoftmax])
@pytest.mark.parametrize("shape", [(2, 4), (2, 3, 4), (2, 3, 4, 2)])
def test_onnx_export_of_softmax_with_dim_none_uses_pytorchs_implicit_axis(
        layer: type[nn.Module], shape: tuple[int, ...]) -> None:
    # dim=None crashed the exporter with "int() argument must be ... not 'NoneType'"
    model = nn.Sequential(layer(dim=None))
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    proto = tg.onnx.export(model, x[:1])
    np.testing.assert_allclose(_onnx_run(proto, x), model(tg.tensor(x)).numpy(),
                               rtol=1e-5, atol=1e-6)


def test_onnx_export_of_dropout2d_is_the_identity() -> None:
    # Dropout2d (a Dropout with its own forward) was refused, though eval makes it the identity
    model = nn.Sequential(nn.Conv2d(2, 3, 1, generator=0), nn.Dropout2d(0.5), nn.Flatten())
    model.train()
    x = np.random.default_rng(1).standard_normal((4, 2, 3, 3)).astype(np.float32)
    proto = tg.onnx.export(model, x)
    assert model.training and model[1].training  # the flags are restored
    model.eval()
    np.testing.assert_allclose(_onnx_run(proto, x), model(tg.tensor(x)).numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("slope", [0.01, 0.2, 1.7])
def test_onnx_float64_leaky_relu_keeps_its_slope_in_float64(slope: float) -> None:
    # ONNX's LeakyRelu takes alpha as a float32 attribute: 0.01 became 0.0099999998, so a
    # float64 export differed from tensorgraph by 2e-8 relative instead of rounding error
    model = nn.Sequential(nn.LeakyReLU(slope))
    x = np.random.default_rng(2).standard_normal((5, 7)) * 100
    proto = tg.onnx.export(model, x)
    got = _onnx_run(proto, x)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, model(tg.tensor(x)).numpy(), rtol=1e-15, atol=0)
    x32 = x.astype(np.float32)  # float32 graphs still compute in float32
    model32 = nn.Sequential(nn.LeakyReLU(slope))
    np.testing.assert_allclose(_onnx_run(tg.onnx.export(model32, x32), x32),
                               model32(tg.tensor(x32)).numpy(), rtol=1e-6)


@pytest.mark.parametrize(("shape", "normalized"), [((6, 4), (4,)), ((5, 3, 4), (3, 4))])
@pytest.mark.parametrize("eps", [1e-5, 0.1])
def test_onnx_float64_layer_norm_agrees_to_rounding(shape: tuple[int, ...],
                                                    normalized: tuple[int, ...],
                                                    eps: float) -> None:
    # ONNX Runtime's float64 LayerNormalization (epsilon a float32 attribute) was off by
    # 5e-9 relative on rows of small variance; docs/onnx.md promises 1e-12 in float64
    rng = np.random.default_rng(3)
    model = nn.Sequential(nn.LayerNorm(normalized, eps=eps, dtype=np.float64))
    model.load_state_dict({"0.weight": tg.tensor(rng.standard_normal(normalized) + 1),
                           "0.bias": tg.tensor(rng.standard_normal(normalized))})
    model.eval()
    x = rng.standard_normal(shape) * 0.01
    want = model(tg.tensor(x)).numpy()
    got = _onnx_run(tg.onnx.export(model, x[:2]), x)
    assert np.abs(got - want).max() <= 1e-12 * np.abs(want).max()


@pytest.mark.parametrize("layer", [nn.BatchNorm1d, nn.BatchNorm2d])
@pytest.mark.parametrize("eps", [1e-5, 0.1, 0.3])
def test_onnx_float64_batch_norm_keeps_eps_in_float64(layer: type[nn.Module],
                                                      eps: float) -> None:
    # BatchNormalization's epsilon is a float32 attribute: eps=0.3 became 0.30000001,
    # 5e-9 relative off in a float64 export of small-variance statistics
    rng = np.random.default_rng(4)
    shape = (8, 3) if layer is nn.BatchNorm1d else (8, 3, 2, 2)
    model = nn.Sequential(layer(3, eps=eps, dtype=np.float64))
    model(tg.tensor(rng.standard_normal(shape) * 0.01))  # training: running statistics
    model.eval()
    x = rng.standard_normal(shape) * 0.01
    want = model(tg.tensor(x)).numpy()
    got = _onnx_run(tg.onnx.export(model, x), x)
    assert np.abs(got - want).max() <= 1e-12 * np.abs(want).max()


# --------------------------------------------------------------------------- losses
_F32, _T32 = np.ones((2, 3), np.float32), np.ones((2, 3), np.float32)
_HALF = np.full((2, 3), 0.5, np.float32)


@pytest.mark.parametrize(("call", "name", "what"), [
    (lambda F: F.binary_cross_entropy(tg.tensor(_HALF), _T32, np.ones(3)),
     "binary_cross_entropy", "weight"),
    (lambda F: F.binary_cross_entropy_with_logits(tg.tensor(_F32), _T32, np.ones(3)),
     "binary_cross_entropy_with_logits", "weight"),
    (lambda F: F.binary_cross_entropy_with_logits(tg.tensor(_F32), _T32,
                                                  pos_weight=np.ones(3)),
     "binary_cross_entropy_with_logits", "pos_weight"),
    (lambda F: F.mse_loss(tg.tensor(_F32), np.ones((2, 3))), "mse_loss", "target"),
    (lambda F: F.l1_loss(tg.tensor(_F32), _T32, weight=np.ones((2, 3))), "l1_loss", "weight"),
    (lambda F: F.huber_loss(tg.tensor(_F32), _T32, weight=np.ones((2, 3))), "huber_loss",
     "weight"),
    (lambda F: F.mse_loss(tg.tensor(_F32), _T32, weight=np.ones((2, 3))), "mse_loss", "weight"),
])  # fmt: skip
def test_loss_weight_or_target_of_another_float_dtype_is_refused_by_the_loss(
        call: Any, name: str, what: str) -> None:
    # the refusal came from an inner op ("multiply: mixed floating dtypes ..."), naming
    # neither the loss nor the argument
    from tensorgraph.errors import DTypeError

    with pytest.raises(DTypeError, match=rf"^{name}: {what} has dtype float64.*float32"):
        call(nn.functional)


@pytest.mark.parametrize("ids", [np.array([[0, 3]]), np.array([[0.0, 3.0]], np.float32)])
def test_onnx_export_names_an_unexportable_layer_before_checking_the_example(
        ids: np.ndarray) -> None:
    # an Embedding model got "example_input has dtype int64, the model's parameters
    # float32" (or embedding's own "ids must be integers"), never that Embedding is not
    # exportable
    from tensorgraph.errors import ExportError

    model = nn.Sequential(nn.Embedding(5, 2, generator=0), nn.Flatten(), nn.Linear(4, 1))
    with pytest.raises(ExportError, match=r"cannot export Embedding \(at '0'\)"):
        tg.onnx.export(model, ids)
