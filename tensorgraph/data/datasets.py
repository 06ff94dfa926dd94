"""The built-in datasets shipped inside the package, and :class:`Bunch`, the record they return.

Both files live in ``tensorgraph/data/files`` (credits in its ``README.md``) and are read
through :mod:`importlib.resources`, so they work from a wheel, a zip or a source tree.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

import numpy as np
from numpy.typing import DTypeLike

from ..dtypes import get_default_dtype
from ..errors import DataError

__all__ = ["Bunch", "load_breast_cancer", "load_digits"]

_MEASURES = (
    "radius",
    "texture",
    "perimeter",
    "area",
    "smoothness",
    "compactness",
    "concavity",
    "concave points",
    "symmetry",
    "fractal dimension",
)
# Three blocks of ten, as in the UCI description: the mean, the standard error, the worst.
_BREAST_CANCER_FEATURES = (
    tuple(f"mean {m}" for m in _MEASURES)
    + tuple(f"{m} error" for m in _MEASURES)
    + tuple(f"worst {m}" for m in _MEASURES)
)


@dataclass(frozen=True, eq=False)  # arrays have no single truth value: compare by identity
class Bunch:
    """A classification data set: features, class indices and the names of both.

    Unpacks as ``X, y = bunch``.

    Attributes
    ----------
    data : ndarray, shape (n_samples, n_features)
        Floating features (the default float dtype unless another was asked for).
    target : ndarray of int64, shape (n_samples,), or None
        Class indices ``0 .. n_classes - 1`` (None when a CSV was read without a target).
    feature_names : tuple of str
    target_names : tuple of str
        ``target_names[k]`` is the original label of class ``k``.
    name : str
        The data set's name (the file name for :func:`~tensorgraph.data.load_csv`).
    target_column : str or None
        The name of the label column in the source file, when it had one.
    description : str
    images : ndarray, shape (n_samples, 1, height, width), or None
        For image data (:func:`load_digits`): ``data`` as one-channel images in PyTorch's
        NCHW layout, ready for ``nn.Conv2d``. A view of ``data`` (the same memory, rows of
        pixels in row-major order); None for other data.
    """

    data: np.ndarray
    target: np.ndarray | None
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]
    name: str
    target_column: str | None = None
    description: str = ""
    images: np.ndarray | None = None

    def __post_init__(self) -> None:
        # dataclasses.replace(bunch, data=subset) without images=None would keep images of
        # other samples: refuse that rather than hand out images that are not the data.
        if self.images is None:
            return
        shape, rows = np.shape(self.images), np.shape(self.data)
        if len(shape) != 4 or len(rows) != 2 or shape[0] != rows[0] or \
                shape[1] * shape[2] * shape[3] != rows[1]:
            raise DataError(
                f"Bunch {self.name!r}: images of shape {shape} are not the rows of data of "
                f"shape {rows} (replacing data, also replace images, or pass images=None)"
            )

    def __iter__(self) -> Iterator[np.ndarray | None]:
        yield self.data
        yield self.target

    @property
    def n_classes(self) -> int:
        """The number of classes (0 without a target)."""
        return len(self.target_names)


def _read_resource(name: str) -> str:
    raw = resources.files("tensorgraph.data").joinpath("files", name).read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


def _parse_table(text: str, name: str, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, ndmin=2)
    if table.shape[1] != n_features + 1:
        raise DataError(
            f"{name}: the shipped file has {table.shape[1]} columns, expected "
            f"{n_features + 1}; the installation is damaged, reinstall tensorgraph"
        )
    labels = table[:, -1]
    if not np.array_equal(labels, np.round(labels)):
        raise DataError(f"{name}: the shipped file has non-integer labels; reinstall tensorgraph")
    return table[:, :-1], labels.astype(np.int64)


def load_breast_cancer(dtype: DTypeLike | None = None) -> Bunch:
    """The Breast Cancer Wisconsin (Diagnostic) data: 569 samples, 30 features, 2 classes.

    Class 0 is ``malignant`` (212 samples), class 1 ``benign`` (357). Source: UCI Machine
    Learning Repository, CC BY 4.0 (W. N. Street, W. H. Wolberg and O. L. Mangasarian, 1993).

    Parameters
    ----------
    dtype : float dtype, optional
        The dtype of ``data``; the default float dtype when omitted.

    Examples
    --------
    >>> from tensorgraph.data import load_breast_cancer
    >>> X, y = load_breast_cancer()
    >>> X.shape, y.shape, X.dtype
    ((569, 30), (569,), dtype('float32'))
    """
    text = _read_resource("breast_cancer.csv")
    first, _, rest = text.partition("\n")
    # The first line is "n_samples,n_features,class names...".
    fields = first.strip().split(",")
    n_samples, n_features = int(fields[0]), int(fields[1])
    features, labels = _parse_table(rest, "breast_cancer.csv", n_features)
    if features.shape[0] != n_samples:
        raise DataError(
            f"breast_cancer.csv: {features.shape[0]} rows, the header says {n_samples}; "
            "reinstall tensorgraph"
        )
    return Bunch(
        data=features.astype(dtype or get_default_dtype()),
        target=labels,
        feature_names=_BREAST_CANCER_FEATURES,
        target_names=tuple(fields[2:]),
        name="breast_cancer",
        target_column="diagnosis",
        description="Breast Cancer Wisconsin (Diagnostic), UCI, CC BY 4.0",
    )


def load_digits(dtype: DTypeLike | None = None) -> Bunch:
    """Optical recognition of handwritten digits: 1797 images of 8x8 pixels, 10 classes.

    Each feature is a pixel count in ``0 .. 16`` (row-major, ``pixel_<row>_<col>``); the
    class is the digit. ``images`` holds the same pixels as images of shape
    ``(1797, 1, 8, 8)``: (sample, channel, row, column), the layout ``nn.Conv2d`` reads.
    Unlike scikit-learn's ``digits.images`` (``(1797, 8, 8)``) it keeps the channel axis,
    so the images go into a convolution as they are, and it is a view of ``data`` (no copy;
    ``nn.Unflatten(1, (1, 8, 8))`` makes the same shape inside a model from ``data``'s rows).
    Source: UCI Machine Learning Repository, CC BY 4.0 (E. Alpaydin and
    C. Kaynak, 1998).

    Parameters
    ----------
    dtype : float dtype, optional
        The dtype of ``data``; the default float dtype when omitted.

    Examples
    --------
    >>> from tensorgraph.data import load_digits
    >>> digits = load_digits()
    >>> digits.data.shape, digits.n_classes
    ((1797, 64), 10)
    >>> digits.images.shape
    (1797, 1, 8, 8)
    """
    features, labels = _parse_table(_read_resource("digits.csv.gz"), "digits.csv.gz", 64)
    data = np.ascontiguousarray(features, dtype=dtype or get_default_dtype())
    return Bunch(
        data=data,
        target=labels,
        feature_names=tuple(f"pixel_{r}_{c}" for r in range(8) for c in range(8)),
        target_names=tuple(str(d) for d in range(10)),
        name="digits",
        target_column="digit",
        description="Optical Recognition of Handwritten Digits (8x8), UCI, CC BY 4.0",
        images=data.reshape(-1, 1, 8, 8),  # a view: reshape of a C-contiguous array
    )
