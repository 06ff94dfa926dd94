"""load_digits().images: the digits as (N, 1, 8, 8) images, a view of data."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.data import load_breast_cancer, load_digits
from tensorgraph.errors import DataError


def test_digits_images_are_data_as_one_channel_8x8_images() -> None:
    digits = load_digits(dtype=np.float64)
    images = digits.images
    assert images is not None
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float64
    # Row-major pixels: feature pixel_<r>_<c> is image[:, 0, r, c].
    names = digits.feature_names
    for row, col in [(0, 0), (2, 5), (7, 7)]:
        column = names.index(f"pixel_{row}_{col}")
        np.testing.assert_array_equal(images[:, 0, row, col], digits.data[:, column])
    # A view: no second copy of the pixels.
    assert np.shares_memory(images, digits.data)


def test_digits_images_follow_the_requested_dtype() -> None:
    digits = load_digits(dtype=np.float32)
    assert digits.images is not None and digits.images.dtype == np.float32
    assert load_digits().images.dtype == load_digits().data.dtype  # type: ignore[union-attr]


def test_a_digit_image_looks_like_its_digit() -> None:
    # The first sample is a 0: its centre is empty and its ring is inked.
    digits = load_digits(dtype=np.float64)
    assert digits.images is not None and digits.target is not None
    zero = digits.images[int(np.flatnonzero(digits.target == 0)[0]), 0]
    assert zero[3:5, 3:5].mean() < zero[1:7, 1:7].mean()


def test_unflatten_of_the_rows_gives_the_images() -> None:
    digits = load_digits(dtype=np.float64)
    rows = nn.Unflatten(1, (1, 8, 8))(tg.tensor(digits.data[:10]))
    assert digits.images is not None
    np.testing.assert_array_equal(rows.numpy(), digits.images[:10])


def test_images_go_straight_into_a_convolution() -> None:
    digits = load_digits(dtype=np.float64)
    assert digits.images is not None
    out = nn.Conv2d(1, 4, 3, padding=1, dtype=np.float64, generator=0)(
        tg.tensor(digits.images[:5]))
    assert out.shape == (5, 4, 8, 8)


def test_tabular_data_has_no_images() -> None:
    assert load_breast_cancer().images is None


def test_a_bunch_refuses_images_that_are_not_its_rows() -> None:
    digits = load_digits()
    assert digits.target is not None
    with pytest.raises(DataError, match=r"images of shape \(1797, 1, 8, 8\) are not the rows "
                                        r"of data of shape \(10, 64\)"):
        replace(digits, data=digits.data[:10], target=digits.target[:10])
    subset = replace(digits, data=digits.data[:10], target=digits.target[:10],
                     images=None if digits.images is None else digits.images[:10])
    assert subset.images is not None and subset.images.shape == (10, 1, 8, 8)
