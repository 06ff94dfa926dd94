from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from tensorgraph.data import _csv_fast, load_csv
from tensorgraph.errors import DataError, DTypeError


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
        (
            "a,b,c\n1,-Infinity,0\n3,4,1\n",
            {},
            r"line 2, column 2 \('b'\): '-Infinity' is not a fin",
        ),
        ("a,b,c\n1,nan,0\n3,4,1\n", {}, r"line 2, column 2 \('b'\): missing value \('nan'\)"),
        ("a,b,c\n1,2,0\n3,1_000,1\n", {}, r"line 3, column 2 \('b'\): '1_000' is not a number"),
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
        ("1,2,0\n,,\n3,4,1\n", {}, r"data\.csv, line 2, column 1: missing value \(''\)"),
        ("", {}, r"data\.csv: the file is empty"),
        ("a,b,c\n", {}, r"data\.csv: the file has a header line but no data"),
        ("a,a,c\n1,2,0\n3,4,1\n", {"target": "a"}, r"names column 'a' twice \(columns 1 and 2\)"),
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


# --------------------------------------------------------------------------- values and dtypes
@pytest.mark.parametrize(
    ("text", "dtype", "message"),
    [
        ("1,1e39,0\n3,4,1\n", None, r"line 1, column 2: '1e39' overflows float32 .*float64"),
        ("1,-1e39,0\n3,4,1\n", np.float32, r"line 1, column 2: '-1e39' overflows float32"),
        ("1,2,0\n3,70000,1\n", np.float16, r"line 2, column 2: '70000' overflows float16"),
        ("1,1e400,0\n3,4,1\n", np.float64, r"line 1, column 2: '1e400' overflows float64"),
        ("1,1.7,0\n3,4,1\n", np.int32, r"line 1, column 2: '1.7' is not an integer; dtype int32"),
        ("1,2,0\n3e10,4,1\n", np.int32, r"line 2, column 1: '3e10' overflows int32 \(range"),
        ("1,-1,0\n3,4,1\n", np.uint8, r"line 1, column 2: '-1' overflows uint8"),
    ],
)
def test_values_that_do_not_fit_the_dtype_are_refused_with_line_column_and_value(
    tmp_path: Path, text: str, dtype: object, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        load_csv(_write(tmp_path, text), dtype=dtype)  # type: ignore[arg-type]


def test_values_inside_the_range_load_and_integer_dtypes_take_integral_values(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, "1,3.4e38,0\n-2.5,1e-50,1\n")
    assert load_csv(path).data.tolist() == [[1.0, np.float32(3.4e38)], [-2.5, 0.0]]
    path = _write(tmp_path, "1e39,2,0\n3,4,1\n")
    assert load_csv(path, dtype=np.float64).data[0, 0] == 1e39
    path = _write(tmp_path, "2.0,-7,0\n3e3,9007199254740993,1\n")
    exact = load_csv(path, dtype=np.int64).data
    assert exact.dtype == np.int64 and exact.tolist() == [[2, -7], [3000, 9007199254740993]]
    with pytest.raises(DTypeError, match="dtype must be a floating or an integer dtype, got bool"):
        load_csv(path, dtype=bool)


def test_distinct_integer_labels_above_2_53_stay_distinct(tmp_path: Path) -> None:
    big = 2**53
    text = f"1,{big}\n2,{big + 1}\n3,{big + 1}.0\n4,{10**30}\n5,007\n6,7\n"
    bunch = load_csv(_write(tmp_path, text))
    assert bunch.target_names == ("7", str(big), str(big + 1), str(10**30))
    assert bunch.target.tolist() == [1, 2, 2, 3, 0, 0]  # type: ignore[union-attr]


# --------------------------------------------------------------------------- header and delimiter
@pytest.mark.parametrize(
    ("text", "kwargs", "names", "n_rows"),
    [
        ("a,b,label\n1,2,0\n3,4,1\n", {}, ("a", "b"), 2),  # names only: a header
        ("1,2,0\n3,4,1\n", {}, ("x0", "x1"), 2),  # numbers only: data
        ("1990,1991,label\n1,2,a\n3,4,b\n", {"header": True}, ("1990", "1991"), 2),
        ("1990,1991,label\n1,2,a\n3,4,b\n", {"header": False}, ("x0", "x1"), 3),
        ("1990,1991\n1,2\n3,4\n", {"header": True, "target": None}, ("1990", "1991"), 2),
        ("p,q,label\n1,2,a\n3,4,b\n", {"target": "label"}, ("p", "q"), 2),  # named target
        ("5.1,3.5,setosa\n4.9,3.0,setosa\n6.3,2.5,virginica\n", {}, ("x0", "x1"), 3),
    ],
)
def test_header_detection_and_the_header_argument(
    tmp_path: Path, text: str, kwargs: dict[str, object], names: tuple[str, ...], n_rows: int
) -> None:
    bunch = load_csv(_write(tmp_path, text), **kwargs)  # type: ignore[arg-type]
    assert bunch.feature_names == names and bunch.data.shape[0] == n_rows


@pytest.mark.parametrize(
    "first",
    ["1,,cat", "1,NA,cat", "?,2,cat", "1,2x,cat", "-nan,2,cat", "1, ,cat", "1,null,cat"],
)
def test_a_first_row_with_a_missing_or_mistyped_value_is_data_not_a_header(
    tmp_path: Path, first: str
) -> None:
    # It used to be taken as the header and dropped: 3 rows, feature names ['1', ''].
    path = _write(tmp_path, first + "\n3,4,dog\n5,6,cat\n7,8,dog\n")
    with pytest.raises(DataError, match=r"data\.csv, line 1, column [12]: "):
        load_csv(path)
    for kwargs in ({"target": None}, {"parse_target": False}):
        with pytest.raises(DataError, match=r"line 1, column [12]: "):
            load_csv(path, **kwargs)  # type: ignore[arg-type]
    assert load_csv(path, header=True).data.shape == (3, 2)  # asked for: a header


@pytest.mark.parametrize(
    ("text", "piece"),
    [
        ("1990,1991,label\n1,2,0\n3,4,1\n", "mixes numbers and names"),  # 'label' above 0
        ("id,2020,label\n1,2,x\n3,4,y\n", "mixes numbers and names"),
        (",a,b,label\n0,1,2,x\n1,3,4,y\n", "a cell '' is no column name"),
        ("NA,b,label\n1,2,x\n3,4,y\n", "a cell 'NA' is no column name"),
    ],
)
def test_an_undecidable_first_line_is_refused_with_the_header_option(
    tmp_path: Path, text: str, piece: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(DataError, match=r"line 1: is this line a header\?") as info:
        load_csv(path)
    assert piece in str(info.value) and "header=True (--header)" in str(info.value)
    assert load_csv(path, header=True).data.shape[0] == 2


@pytest.mark.parametrize("header", ["a,a,b,label", "a,b,a,label"])
def test_a_header_naming_a_column_twice_is_refused(tmp_path: Path, header: str) -> None:
    path = _write(tmp_path, header + "\n1,2,3,x\n4,5,6,y\n")
    for kwargs in ({}, {"header": True}, {"target": None}, {"target": "label"}):
        with pytest.raises(DataError, match=r"line 1: the header names column 'a' twice"):
            load_csv(path, **kwargs)  # type: ignore[arg-type]


def test_a_header_of_numbers_above_word_labels_is_refused_not_guessed(tmp_path: Path) -> None:
    text = "1990,1991,label\n1,2,a\n3,4,b\n5,6,a\n7,8,b\n"
    with pytest.raises(DataError, match=r"line 1: is this line a header\? Its label 'label'"):
        load_csv(_write(tmp_path, text))


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_sniffed_among_comma_semicolon_and_tab(
    tmp_path: Path, delimiter: str
) -> None:
    rows = [["a", "b", "y"], ["1.5", "2", "u"], ["3", "4", "v"]]
    text = "".join(delimiter.join(r) + "\n" for r in rows)
    bunch = load_csv(_write(tmp_path, text))
    assert bunch.feature_names == ("a", "b") and bunch.data.tolist() == [[1.5, 2], [3, 4]]
    assert load_csv(_write(tmp_path, text), delimiter=delimiter).data.shape == (2, 2)


def test_decimal_commas_with_semicolons_sniff_as_semicolons_and_say_so(tmp_path: Path) -> None:
    path = _write(tmp_path, "a;b;y\n1,5;2;0\n3;4,25;1\n")
    with pytest.raises(DataError, match=r"line 2, column 1 \('a'\): '1,5' is not a number"):
        load_csv(path)


@pytest.mark.parametrize(
    ("text", "delimiter", "message"),
    [
        ("a;b;y\n1;2;0\n3;4;1\n", ",", r"only the target column.*seems to use ';'.*delimiter=';'"),
        ("a,b,y\n1,2;3,0\n", ",", r"'2;3' is not a number \(the file seems to use ';'"),
        ("a,b,y\n1,2,0\n3;4;1\n", ",", r"line 3: 1 fields, but line 1 has 3.*seems to use ';'"),
    ],
)
def test_errors_mention_the_delimiter_when_the_file_seems_to_use_another(
    tmp_path: Path, text: str, delimiter: str, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        load_csv(_write(tmp_path, text), delimiter=delimiter)


@pytest.mark.parametrize("delimiter", ["", ";;", '"', "\n"])
def test_a_bad_delimiter_argument_is_refused(tmp_path: Path, delimiter: str) -> None:
    with pytest.raises(DataError, match="delimiter must be one character"):
        load_csv(_write(tmp_path, "1,2,0\n3,4,1\n"), delimiter=delimiter)


# --------------------------------------------------------------------------- hostile files
@pytest.mark.parametrize(
    ("text", "data", "target"),
    [
        ("\ufeffa,b,y\r\n1,2,0\r\n3,4,1\r\n", [[1, 2], [3, 4]], [0, 1]),  # BOM, CRLF
        ('a,b,y\n"1","2","x"\n3," 4 ","y, z"\n', [[1, 2], [3, 4]], [0, 1]),  # quoted fields
        ("a,b,y,\n1,2,0,\n3,4,1,\n", [[1, 2], [3, 4]], [0, 1]),  # trailing delimiters
        ("\n\na,b,y\n\n1,2,0\n  \n3,4,1\n\n\n", [[1, 2], [3, 4]], [0, 1]),  # blank lines
        ("a,b,y\r\n1,2,0\r\n\r\n3,4,1", [[1, 2], [3, 4]], [0, 1]),  # no final line end
    ],
)
def test_hostile_but_valid_files_load_correctly(
    tmp_path: Path, text: str, data: list[list[float]], target: list[int]
) -> None:
    bunch = load_csv(_write(tmp_path, text))
    assert bunch.feature_names == ("a", "b")
    assert bunch.data.tolist() == data and bunch.target.tolist() == target  # type: ignore[union-attr]


def test_a_single_column_and_huge_lines(tmp_path: Path) -> None:
    single = _write(tmp_path, "x\n1\n2\n", "single.csv")
    assert load_csv(single, target=None).data.tolist() == [[1], [2]]
    with pytest.raises(DataError, match=r"single\.csv: the file has only the target column"):
        load_csv(single)
    wide = _write(tmp_path, "".join(",".join([str(i)] * 5000) + f",{i}\n" for i in range(3)))
    assert load_csv(wide).data.shape == (3, 5000)
    huge = _write(tmp_path, "1," + "9" * 200_000 + ",0\n2,3,1\n", "huge.csv")
    with pytest.raises(DataError, match=r"huge\.csv, line 1: malformed CSV: field larger"):
        load_csv(huge)
    with pytest.raises(DataError, match=r"line 3: 'x' after the last column"):
        load_csv(_write(tmp_path, "a,b,y,\n1,2,0,\n3,4,1,x\n"))


# --------------------------------------------------------------------------- the two readers
CLEAN_FILES = [
    "a,b,y\n1,2,0\n3,4.5,1\n",
    "\ufeffa;b;kind\r\n-1e-3;2;cat\r\n3;4.5e2;dog\r\n",
    "a\tb\ty\n1\t 2 \tx y\n3\t4\tz\n",
    "1,2,7,\n3,4,9007199254740993,\n5,6,7,\n",
    "0.1,0.2,0.30000000000000004,a\n1e-45,3.4028234e38,-0,b\n",
]


def _careful(monkeypatch: pytest.MonkeyPatch) -> None:
    def decline(*args: object) -> None:
        raise _csv_fast.Declined

    monkeypatch.setattr(_csv_fast, "read", decline)


@pytest.mark.parametrize("text", CLEAN_FILES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_fast_path_reads_clean_files_and_agrees_with_the_careful_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, dtype: type
) -> None:
    path = _write(tmp_path, text)
    used = []
    real = _csv_fast.read

    def spy(*args: object) -> object:
        result = real(*args)  # type: ignore[arg-type]
        used.append(True)  # reached only when the fast path did not decline
        return result

    monkeypatch.setattr(_csv_fast, "read", spy)
    fast = load_csv(path, dtype=dtype)
    assert used == [True]
    _careful(monkeypatch)
    careful = load_csv(path, dtype=dtype)
    assert fast.data.dtype == careful.data.dtype == dtype
    np.testing.assert_array_equal(fast.data, careful.data)
    np.testing.assert_array_equal(fast.target, careful.target)  # type: ignore[arg-type]
    assert fast.target_names == careful.target_names
    assert fast.feature_names == careful.feature_names


@pytest.mark.parametrize("cell", ["-nan", "+NaN", "nan"])
def test_a_signed_nan_is_a_missing_value_not_an_overflow(tmp_path: Path, cell: str) -> None:
    path = _write(tmp_path, f"1,{cell},a\n3,4,b\n")  # '-nan' was said to overflow float64
    message = rf"line 1, column 2: missing value \('{re.escape(cell)}'\) \(not a number\)$"
    with pytest.raises(DataError, match=message):
        load_csv(path)
    with pytest.raises(DataError, match=r"line 2, column 3: missing label"):
        load_csv(_write(tmp_path, f"1,2,a\n3,4,{cell}\n5,6,b\n"))


@pytest.mark.parametrize("delimiter", ["|", " "])
def test_a_pipe_or_space_separated_file_gets_a_delimiter_hint(
    tmp_path: Path, delimiter: str
) -> None:
    path = _write(tmp_path, "1|2|a\n3|4|b\n".replace("|", delimiter))
    with pytest.raises(DataError, match=rf"only the target column.*delimiter={delimiter!r}"):
        load_csv(path)
    assert load_csv(path, delimiter=delimiter).data.tolist() == [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize("text", ["p,q,y\n1,2,a\n3,4,b\n", "1,2,a\n3,4,b\n"])
def test_every_leading_byte_order_mark_is_dropped(tmp_path: Path, text: str) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"\xef\xbb\xbf" * 3 + text.encode())
    bunch = load_csv(path)
    assert bunch.data.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert bunch.feature_names == (("p", "q") if text[0] == "p" else ("x0", "x1"))
