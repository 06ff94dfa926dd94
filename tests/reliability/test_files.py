"""Files: loading never runs code, damaged or foreign files get a clear error, saving is
atomic, and malformed CSV (fuzzed by hypothesis) is refused by ``load_csv`` and the CLI."""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tensorgraph as tg
from tensorgraph import cli
from tensorgraph.data import load_csv
from tensorgraph.errors import DataError
from tensorgraph.serialization import SerializationError


def state() -> dict[str, Any]:
    return {"weight": np.arange(6.0).reshape(2, 3), "bias": tg.tensor([0.5, -1.0]), "step": 7,
            "betas": (0.9, 0.999), "name": "adam"}


def same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, (np.ndarray, tg.Tensor)):
        x, y = np.asarray(a), np.asarray(b)
        return np.array_equal(x, y) and x.dtype == y.dtype
    return bool(a == b)


# --------------------------------------------------------------------------- no code runs
class _Exploit:
    """Unpickling this creates a directory: proof that code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (os.mkdir, (self.marker,))


def _pickle_files(folder: Path) -> dict[str, Path]:
    marker = str(folder / "pwned")
    files = {}
    files["raw pickle"] = folder / "raw.npz"
    files["raw pickle"].write_bytes(pickle.dumps({"weight": _Exploit(marker)}))
    files["object .npy"] = folder / "object.npy"
    np.save(files["object .npy"], np.array([_Exploit(marker)], dtype=object), allow_pickle=True)
    # a tensorgraph-looking archive whose array entry is a pickled object array
    good = folder / "good.npz"
    tg.save({"weight": np.ones(2)}, good)
    with zipfile.ZipFile(good) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    buffer = io.BytesIO()
    np.save(buffer, np.array([_Exploit(marker)], dtype=object), allow_pickle=True)
    files["pickled entry"] = folder / "entry.npz"
    with zipfile.ZipFile(files["pickled entry"], "w") as z:
        for name, data in entries.items():
            z.writestr(name, buffer.getvalue() if name == "a0.npy" else data)
    return files


@pytest.mark.parametrize("kind", ["raw pickle", "object .npy", "pickled entry"])
@pytest.mark.parametrize("loader", ["load", "load_model"])
def test_loading_never_unpickles(tmp_path: Path, kind: str, loader: str) -> None:
    path = _pickle_files(tmp_path)[kind]
    with pytest.raises(SerializationError, match=re.escape(path.name)):
        getattr(tg, loader)(path)
    assert not (tmp_path / "pwned").exists(), "loading ran code from the file"


# --------------------------------------------------------------------------- damaged files
@pytest.mark.parametrize(
    ("content", "piece"),
    [
        (b"", "not a complete tensorgraph file"),
        (b"weight,bias\n1,2\n", "not a complete tensorgraph file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "not a complete tensorgraph file"),
    ],
    ids=["empty", "text", "png"],
)
def test_foreign_files(tmp_path: Path, content: bytes, piece: str) -> None:
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    with pytest.raises(SerializationError, match=piece):
        tg.load(path)


def test_plain_numpy_files_are_named_as_such(tmp_path: Path) -> None:
    np.savez(tmp_path / "plain.npz", w=np.ones(3))
    with pytest.raises(SerializationError, match="not one written by tensorgraph"):
        tg.load(tmp_path / "plain.npz")
    np.save(tmp_path / "single.npy", np.ones(3))
    with pytest.raises(SerializationError, match=re.escape("single .npy array")):
        tg.load(tmp_path / "single.npy")
    with pytest.raises(FileNotFoundError, match="no such file"):
        tg.load(tmp_path / "missing.npz")


def _saved_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.npz"
        tg.save(state(), path)
        return path.read_bytes()


SAVED = _saved_bytes()
FILE_SETTINGS = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@FILE_SETTINGS
@given(cut=st.integers(0, len(SAVED) - 1))
def test_any_truncation_is_a_serialization_error(cut: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.npz"
        path.write_bytes(SAVED[:cut])
        with pytest.raises(SerializationError, match=re.escape("s.npz")):
            tg.load(path)


@FILE_SETTINGS
@given(position=st.integers(0, len(SAVED) - 1), flip=st.integers(1, 255))
def test_a_corrupted_byte_gives_an_error_or_the_exact_content_never_a_wrong_one(
    position: int, flip: int
) -> None:
    data = bytearray(SAVED)
    data[position] ^= flip
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.npz"
        path.write_bytes(bytes(data))
        try:
            loaded = tg.load(path)
        except SerializationError:
            return
        # the byte was one the reader does not use (a timestamp, a comment, ...)
        assert same(state(), loaded)


# --------------------------------------------------------------------------- atomic save
def test_an_interrupted_save_keeps_the_previous_file(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.npz"
    tg.save(state(), path)
    before = path.read_bytes()
    real_savez = np.savez

    def interrupted(stream: Any, **arrays: Any) -> None:
        real_savez(stream, **arrays)
        stream.truncate(100)  # half written...
        raise KeyboardInterrupt  # ...when the user presses Ctrl-C

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tg.save({"weight": np.zeros(5)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert same(state(), tg.load(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.npz"]  # no temporary left


@pytest.mark.parametrize("saver", ["save", "save_model"])
def test_saving_to_a_directory_or_into_a_missing_one_names_it(tmp_path: Path, saver: str) -> None:
    model = tg.nn.MLP([2, 3, 2])
    write = (lambda p: tg.save(model.state_dict(), p)) if saver == "save" else (
        lambda p: tg.save_model(model, p))  # fmt: skip
    with pytest.raises(IsADirectoryError, match=rf"^\[Errno 21\] save: {tmp_path} is a dir"):
        write(tmp_path)  # it named a hidden temporary file, after writing it
    missing = tmp_path / "missing" / "m.npz"
    with pytest.raises(FileNotFoundError, match=rf"save: no such directory: {tmp_path}/missing$"):
        write(missing)
    assert list(tmp_path.iterdir()) == []


def test_a_refused_object_does_not_touch_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "state.npz"
    tg.save(state(), path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="pickle"):
        tg.save({"weight": object()}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.npz"]


# --------------------------------------------------------------------------- CSV fuzzing
NUMBERS = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=32)
TEXT = st.text(alphabet="abcdxyz", max_size=6)  # letters: never a finite number


@st.composite
def csv_table(draw: Any) -> tuple[list[list[str]], np.ndarray, np.ndarray]:
    n_features = draw(st.integers(1, 4))
    n_rows = draw(st.integers(4, 10))
    values = np.array(
        draw(st.lists(st.lists(NUMBERS, min_size=n_features, max_size=n_features),
                      min_size=n_rows, max_size=n_rows)), dtype=np.float32
    ).reshape(n_rows, n_features)
    labels = np.array(draw(st.lists(st.integers(0, 2), min_size=n_rows, max_size=n_rows)))
    labels[:2] = [0, 1]  # a classification set needs two classes
    rows = [[repr(float(v)) for v in row] + [str(c)] for row, c in zip(values, labels)]
    return rows, values, labels


def _write_csv(path: Path, rows: list[list[str]], bom: bool, crlf: bool, final: bool) -> None:
    end = "\r\n" if crlf else "\n"
    text = end.join(",".join(r) for r in rows) + (end if final else "")
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))


@settings(max_examples=max(10, settings.default.max_examples))
@given(table=csv_table(), bom=st.booleans(), crlf=st.booleans(), final=st.booleans())
def test_well_formed_csv_loads_exactly_with_any_bom_and_line_ends(
    table: Any, bom: bool, crlf: bool, final: bool
) -> None:
    rows, values, labels = table
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        _write_csv(path, rows, bom, crlf, final)
        bunch = load_csv(path, header=False)
    np.testing.assert_array_equal(bunch.data, values)
    present = np.unique(labels)
    np.testing.assert_array_equal(bunch.target, np.searchsorted(present, labels))


@st.composite
def broken_csv(draw: Any) -> tuple[list[list[str]], int, str]:
    rows, _, _ = draw(csv_table())
    line = draw(st.integers(2, len(rows)))  # 1-based; line 1 stays numeric (no header guess)
    row = rows[line - 1]
    kind = draw(st.sampled_from(["missing field", "extra field", "text", "empty cell"]))
    if kind == "missing field":
        row.pop(draw(st.integers(0, len(row) - 1)))
    elif kind == "extra field":
        row.insert(draw(st.integers(0, len(row))), repr(draw(NUMBERS)))
    else:
        column = draw(st.integers(0, len(row) - 2))  # a feature cell
        row[column] = draw(TEXT) if kind == "text" else ""
        return rows, line, f"line {line}, column {column + 1}"
    return rows, line, f"line {line}"


@settings(max_examples=max(10, settings.default.max_examples))
@given(case=broken_csv(), bom=st.booleans(), crlf=st.booleans())
def test_malformed_csv_is_a_data_error_naming_file_line_and_column(
    case: Any, bom: bool, crlf: bool
) -> None:
    rows, _, where = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "broken.csv"
        _write_csv(path, rows, bom, crlf, final=True)
        with pytest.raises(DataError) as info:
            load_csv(path)
    assert str(path) in str(info.value) and where in str(info.value)


@st.composite
def dressed_csv(draw: Any) -> tuple[bytes, np.ndarray, np.ndarray, dict[str, Any]]:
    """A well-formed table written with drawn options: delimiter, header, quoting, trailing
    delimiters, blank lines, word labels; and the load_csv arguments (some left to detect)."""
    rows, values, labels = draw(csv_table())
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    words = draw(st.booleans())
    if words:
        rows = [[*r[:-1], f"class {r[-1]}"] for r in rows]
    if draw(st.booleans()):  # a header of names
        rows.insert(0, [f"f{k}" for k in range(values.shape[1])] + ["label"])
        header = True
    else:
        header = False
    quote = draw(st.booleans())
    trailing = draw(st.booleans())
    lines = []
    for row in rows:
        cells = [f'"{c}"' if quote or " " in c else c for c in row]
        lines.append(delimiter.join(cells) + (delimiter if trailing else ""))
    for _ in range(draw(st.integers(0, 2))):  # blank lines anywhere after the first
        lines.insert(draw(st.integers(1, len(lines))), draw(st.sampled_from(["", "  "])))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    text = end.join(lines) + end
    data = ("\ufeff" if draw(st.booleans()) else "").encode() + text.encode()
    kwargs: dict[str, Any] = {}
    if draw(st.booleans()):
        kwargs["delimiter"] = delimiter
    if draw(st.booleans()) or (words and not header):  # unique first labels are ambiguous
        kwargs["header"] = header
    return data, values, labels, kwargs


@settings(max_examples=max(10, settings.default.max_examples))
@given(case=dressed_csv(), dtype=st.sampled_from([np.float32, np.float64]))
def test_dressed_csv_loads_exactly_with_every_option(case: Any, dtype: type) -> None:
    data, values, labels, kwargs = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        path.write_bytes(data)
        bunch = load_csv(path, dtype=dtype, **kwargs)
    np.testing.assert_array_equal(bunch.data, values.astype(dtype))
    present = np.unique(labels)
    np.testing.assert_array_equal(bunch.target, np.searchsorted(present, labels))


@st.composite
def damaged_csv(draw: Any) -> tuple[bytes, dict[str, Any]]:
    """A dressed file with one cell or line replaced by something hostile."""
    data, _, _, kwargs = draw(dressed_csv())
    lines = data.split(b"\n")
    i = draw(st.integers(0, max(0, len(lines) - 2)))
    hostile = draw(st.sampled_from(
        [b"inf", b"nan", b"1e39", b"-1e400", b"1_0", b'"x"y', b'"open', b"", b",", b";;",
         b"\t", b" 1 ", b"0x10", b"1.5", b"9007199254740993", b"\xff"]
    ))
    cells = lines[i].split(b",")
    cells[draw(st.integers(0, len(cells) - 1))] = hostile
    lines[i] = b",".join(cells)
    return b"\n".join(lines), kwargs


@settings(max_examples=max(20, 2 * settings.default.max_examples))
@given(case=st.one_of(damaged_csv(), dressed_csv().map(lambda c: (c[0], c[3]))),
       dtype=st.sampled_from([np.float32, np.float64, np.int64]))
def test_the_fast_path_and_the_careful_reader_agree_on_any_file(case: Any, dtype: type) -> None:
    from unittest import mock

    from tensorgraph.data import _csv_fast

    data, kwargs = case

    def attempt() -> Any:
        try:
            return load_csv(path, dtype=dtype, **kwargs)
        except DataError as exc:
            return str(exc)

    def decline(*args: Any) -> Any:
        raise _csv_fast.Declined

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        path.write_bytes(data)
        either = attempt()
        with mock.patch.object(_csv_fast, "read", decline):
            careful = attempt()
    if isinstance(careful, str) or isinstance(either, str):
        assert either == careful  # the careful reader's message, whichever path ran first
        return
    assert either.data.dtype == careful.data.dtype
    np.testing.assert_array_equal(either.data, careful.data)
    np.testing.assert_array_equal(either.target, careful.target)
    assert either.target_names == careful.target_names
    assert either.feature_names == careful.feature_names


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\xef\xbb\xbf", b"\r\n", b"a,b,y\n"],
                         ids=["empty", "blank lines", "bom only", "crlf only", "header only"])
def test_files_without_data_are_a_data_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "nothing.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=re.escape("nothing.csv")):
        load_csv(path)


@settings(max_examples=max(5, settings.default.max_examples // 3))
@given(case=broken_csv())
def test_cli_refuses_malformed_csv_with_exit_status_2_and_one_line(case: Any) -> None:
    rows, _, where = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "broken.csv"
        _write_csv(path, rows, bom=False, crlf=False, final=True)
        err = io.StringIO()
        with _redirect_stderr(err):
            status = cli.main(["train", "--data", str(path), "--epochs", "1", "--no-progress"])
    assert status == 2
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tensorgraph train: error:")
    assert str(path) in lines[0] and where in lines[0]


@settings(max_examples=max(5, settings.default.max_examples // 3))
@given(case=damaged_csv())
def test_cli_on_hostile_csv_succeeds_or_says_one_line_never_a_traceback(case: Any) -> None:
    data, kwargs = case
    flags = []
    if "delimiter" in kwargs:
        flags += ["--delimiter", kwargs["delimiter"]]
    if "header" in kwargs:
        flags.append("--header" if kwargs["header"] else "--no-header")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hostile.csv"
        path.write_bytes(data)
        out, err = io.StringIO(), io.StringIO()
        with _redirect_stderr(err), contextlib.redirect_stdout(out):
            status = cli.main(
                ["train", "--data", str(path), "--epochs", "1", "--hidden", "4", "--no-progress",
                 *flags]
            )
    lines = err.getvalue().strip().splitlines()
    if status == 0:
        assert lines == [] and "hostile.csv:" in out.getvalue()
    else:
        assert status == 2 and len(lines) == 1
        assert lines[0].startswith("tensorgraph train: error:")


def test_cli_refuses_an_empty_file_with_exit_status_2(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert cli.main(["train", "--data", str(path), "--epochs", "1", "--no-progress"]) == 2
    assert "empty.csv: the file is empty" in capsys.readouterr().err


def _redirect_stderr(stream: io.StringIO) -> Any:
    import contextlib

    return contextlib.redirect_stderr(stream)
