"""Bugs an outside tester found in the layers, losses, convolutions and ONNX export of
issue 14; each test failed before its fix."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tensorgraph as tg
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
