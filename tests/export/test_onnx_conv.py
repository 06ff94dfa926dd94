"""Exported convolution, pooling and 2-d batch-norm layers compute in ONNX Runtime what
tensorgraph computes in evaluation mode."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.errors import ExportError

from .test_onnx_export import _assert_close, _eval_output, _run


def _check(model: nn.Module, shape: tuple[int, ...], seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    proto = tg.onnx.export(model, x)
    for batch in (shape[0], 1, 5):
        xb = rng.standard_normal((batch, *shape[1:])).astype(np.float32)
        _assert_close(_run(proto, xb), _eval_output(model, xb))


CONV2D: list[dict[str, Any]] = [
    {},
    {"stride": 2},
    {"padding": 1},
    {"padding": (2, 0), "stride": (1, 2)},
    {"padding": "same"},
    {"padding": "same", "kernel_size": 4, "dilation": 2},
    {"padding": "valid", "dilation": (2, 1)},
    {"groups": 2},
    {"groups": 4, "bias": False, "padding": 1},
]


@pytest.mark.parametrize("options", CONV2D, ids=lambda o: ",".join(f"{k}={v}" for k, v in
                                                                   o.items()) or "plain")
def test_conv2d(options: dict[str, Any]) -> None:
    kernel = options.pop("kernel_size", 3)
    model = nn.Conv2d(4, 8, kernel, generator=0, **options)
    _check(model, (2, 4, 9, 8))


@pytest.mark.parametrize("options", [{}, {"stride": 2, "padding": 1}, {"padding": "same",
                                     "dilation": 3}, {"groups": 2, "bias": False}])
def test_conv1d(options: dict[str, Any]) -> None:
    _check(nn.Conv1d(4, 6, 3, generator=0, **options), (2, 4, 11))


@pytest.mark.parametrize("layer", [
    nn.MaxPool2d(2), nn.MaxPool2d(3, stride=2, padding=1), nn.MaxPool2d(2, dilation=2),
    nn.AvgPool2d(2), nn.AvgPool2d(3, stride=1, padding=1),
    nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
    nn.AdaptiveAvgPool2d(1), nn.AdaptiveAvgPool2d((4, 2)), nn.AdaptiveAvgPool2d((None, 2)),
], ids=repr)
def test_pooling(layer: nn.Module) -> None:
    _check(layer, (2, 3, 8, 8))


def test_batch_norm_2d_with_trained_statistics() -> None:
    bn = nn.BatchNorm2d(3)
    rng = np.random.default_rng(0)
    with tg.no_grad():
        for _ in range(4):
            bn(tg.tensor((rng.standard_normal((5, 3, 4, 4)) * 2 + 1).astype(np.float32)))
    _check(bn, (2, 3, 4, 4))


def test_an_exported_cnn_gives_onnx_runtime_outputs_equal_to_tensorgraphs() -> None:
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, generator=0), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 3, padding=1, generator=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(), nn.Linear(16 * 4 * 4, 10, generator=2),
        nn.LogSoftmax(dim=1),
    )
    rng = np.random.default_rng(1)
    model.train()
    with tg.no_grad():
        for _ in range(3):
            model(tg.tensor(rng.standard_normal((8, 1, 8, 8)).astype(np.float32)))
    _check(model, (4, 1, 8, 8))


def test_what_onnx_pooling_cannot_express_is_refused() -> None:
    with pytest.raises(ExportError, match=r"AdaptiveAvgPool2d to \(3, 3\) from \(8, 8\)"):
        tg.onnx.export(nn.AdaptiveAvgPool2d(3), tg.zeros((1, 2, 8, 8)))
    with pytest.raises(ExportError, match="divisor_override"):
        tg.onnx.export(nn.AvgPool2d(2, divisor_override=3), tg.zeros((1, 2, 8, 8)))
    with pytest.raises(ExportError, match="batched input"):  # (C, L): one unbatched signal
        tg.onnx.export(nn.Conv1d(2, 2, 1, generator=0), tg.zeros((2, 5)), dynamic_batch=False)


@pytest.mark.parametrize("layer", [
    nn.LayerNorm(6), nn.LayerNorm((3, 6), eps=1e-3), nn.LayerNorm(6, elementwise_affine=False),
    nn.LayerNorm(6, bias=False), nn.GELU(), nn.GELU(approximate="tanh"), nn.SiLU(),
], ids=repr)
def test_layer_norm_and_activations(layer: nn.Module) -> None:
    if isinstance(layer, nn.LayerNorm) and layer.weight is not None:
        rng = np.random.default_rng(3)  # parameters away from their initial 1 and 0
        with tg.no_grad():
            layer.weight._data[...] = rng.uniform(0.5, 2.0, layer.weight.shape)
            if layer.bias is not None:
                layer.bias._data[...] = rng.standard_normal(layer.bias.shape)
    _check(layer, (4, 3, 6))


def test_a_transformer_style_block_exports() -> None:
    model = nn.Sequential(nn.Linear(6, 16, generator=0), nn.LayerNorm(16), nn.GELU(),
                          nn.Linear(16, 16, generator=1), nn.SiLU(), nn.Linear(16, 3, generator=2))
    _check(model, (5, 6))


def test_the_study_cnn_exports_from_feature_rows() -> None:
    from tensorgraph.study.cnn import SquareCNN

    model = SquareCNN(64, (4, 8), 10, dropout=0.25, generator=0)
    rng = np.random.default_rng(0)
    model.train()
    with tg.no_grad():
        model(tg.tensor(rng.standard_normal((16, 64)).astype(np.float32)))
    _check(model, (3, 64))


@pytest.mark.parametrize(("dim", "sizes", "shape"), [
    (1, (2, -1), (3, 12)), (-1, (3, 2, 2), (3, 4, 12)), (1, (1, 4, 4), (2, 16)),
])
def test_unflatten(dim: int, sizes: tuple[int, ...], shape: tuple[int, ...]) -> None:
    _check(nn.Sequential(nn.Unflatten(dim, sizes), nn.Tanh()), shape)
    with pytest.raises(ExportError, match="batch axis"):
        tg.onnx.export(nn.Unflatten(0, (1, -1)), tg.zeros((4, 3)))
