from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from tensorgraph.data import load_csv
from tensorgraph.errors import DataError


def _write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_header_named_target_and_word_labels(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,b,kind\n1,2,cat\n3,4.5,dog\n5,6,cat\n")
    bunch = load_csv(path, target="kind")
    assert bunch.data.tolist() == [[1, 2], [3, 4.5], [5, 6]]
    assert bunch.data.dtype == np.float32
    assert bunch.target.tolist() == [0, 1, 0]  # type: ignore[union-attr]
    assert bunch.target_names == ("cat", "dog")
    assert bunch.feature_names == ("a", "b")
    assert bunch.target_column == "kind"
    assert bunch.name == "data.csv"


def test_no_header_default_last_column_integer_labels_in_numeric_order(tmp_path: Path) -> None:
    path = _write(tmp_path, "1,2,10\n3,4,2\n5,6,10\n")
    X, y = load_csv(path)
    assert X.tolist() == [[1, 2], [3, 4], [5, 6]]  # type: ignore[union-attr]
    assert y.tolist() == [1, 0, 1]  # type: ignore[union-attr]
    assert load_csv(path).target_names == ("2", "10")


def test_target_by_index_first_column_and_none(tmp_path: Path) -> None:
    path = _write(tmp_path, "0,1.5,2\n1,3.5,4\n")
    bunch = load_csv(path, target=0, dtype=np.float64)
    assert bunch.data.tolist() == [[1.5, 2], [3.5, 4]]
    assert bunch.target.tolist() == [0, 1]  # type: ignore[union-attr]
    features_only = load_csv(path, target=None)
    assert features_only.data.shape == (2, 3) and features_only.target is None


def test_bom_crlf_gzip_and_semicolons(tmp_path: Path) -> None:
    text = "\ufeffx;y;label\r\n1;2;a\r\n3;4;b\r\n\r\n"
    bunch = load_csv(_write(tmp_path, text), target="label", delimiter=";")
    assert bunch.feature_names == ("x", "y")
    assert bunch.target_names == ("a", "b")
    gz = tmp_path / "data.csv.gz"
    gz.write_bytes(gzip.compress(b"1,2,0\n3,4,1\n"))
    assert load_csv(gz).data.shape == (2, 2)


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("a,b,c\n1,2,0\n3,4\n", {}, r"data\.csv, line 3: 2 fields, but line 1 has 3"),
        ("a,b,c\n1,2,0\n3,x,1\n", {}, r"data\.csv, line 3, column 2 \('b'\): 'x' is not a number"),
        ("1,2,0\n3,,1\n", {}, r"data\.csv, line 2, column 2: missing value \(''\)"),
        ("a,b,c\n1,NA,0\n3,4,1\n", {}, r"line 2, column 2 \('b'\): missing value \('NA'\)"),
        ("a,b,c\n1,inf,0\n3,4,1\n", {}, r"line 2, column 2 \('b'\): 'inf' is not a finite"),
        ("a,b,c\n1,2,0\n3,4,\n", {}, r"line 3, column 3 \('c'\): missing label"),
        (
            "a,b,c\n1,2,0\n",
            {"target": "label"},
            r"data\.csv: no column named 'label'; the columns are: a, b, c",
        ),
        ("1,2,0\n3,4,1\n", {"target": "label"}, r"data\.csv: .*no header line"),
        ("1,2,0\n3,4,1\n", {"target": 5}, r"index 5 is out of range for 3 columns"),
        ("a,b,c\n1,2,0\n3,4,0\n", {}, r"column 3 \('c'\): the label column holds a single class"),
        ("a,b,c\n1,2,0.5\n3,4,1\n", {}, r"line 2, column 3 \('c'\): label '0.5' is not an integer"),
        ("1,2,0\n\n3,4,1\n", {}, r"data\.csv, line 2: empty line inside the data"),
        ("", {}, r"data\.csv: the file is empty"),
        ("a,b,c\n", {}, r"data\.csv: the file has a header line but no data"),
        ("a,a,c\n1,2,0\n3,4,1\n", {"target": "a"}, r"names 2 columns 'a'"),
    ],
)
def test_malformed_files_name_file_line_and_column(
    tmp_path: Path, text: str, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(DataError, match=message):
        load_csv(_write(tmp_path, text), **kwargs)  # type: ignore[arg-type]


def test_non_utf8_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("a,b\n1,\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin\.csv: not UTF-8"):
        load_csv(path)
    with pytest.raises(FileNotFoundError):
        load_csv(tmp_path / "absent.csv")


def test_builtin_datasets_have_the_documented_shapes_and_classes() -> None:
    from tensorgraph.data import load_breast_cancer, load_digits

    cancer = load_breast_cancer()
    assert cancer.data.shape == (569, 30) and len(cancer.feature_names) == 30
    assert np.bincount(cancer.target).tolist() == [212, 357]  # type: ignore[arg-type]
    assert cancer.target_names == ("malignant", "benign")
    digits = load_digits(dtype=np.float64)
    assert digits.data.shape == (1797, 64) and digits.data.dtype == np.float64
    assert digits.data.min() == 0 and digits.data.max() == 16
    assert sorted(set(digits.target.tolist())) == list(range(10))  # type: ignore[union-attr]
