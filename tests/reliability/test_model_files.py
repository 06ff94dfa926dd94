"""Model files at the edges: permissions and symlinks on save, and crafted files on load.

A crafted file (wrong types in any field, deep nesting, absurd or negative sizes, mismatched
dtypes, text that is not text) must give a ``SerializationError`` naming the file, never
another exception, a RecursionError, a huge allocation or a wrong value. The hypothesis tests
mutate the bytes of valid files and the fields of their index.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import stat
import struct
import tempfile
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.serialization import SerializationError, load_metadata, load_model

META = "__tensorgraph__.npy"


# --------------------------------------------------------------------------- helpers
def _npy(header: str, payload: bytes = b"", version: int = 1) -> bytes:
    """An .npy file with the header text given verbatim (padded as numpy pads it)."""
    magic = b"\x93NUMPY" + bytes([version, 0])
    size_format = "<H" if version == 1 else "<I"
    start = len(magic) + struct.calcsize(size_format)
    text = header.encode("latin1")
    pad = (-(start + len(text) + 1)) % 64
    text += b" " * pad + b"\n"
    return magic + struct.pack(size_format, len(text)) + text + payload


def _array_npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def _entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _meta(entries: dict[str, bytes]) -> Any:
    array = np.load(io.BytesIO(entries[META]))
    return json.loads(str(array[()]))


def _with_meta(entries: dict[str, bytes], meta: Any) -> dict[str, bytes]:
    return {**entries, META: _array_npy(np.array(json.dumps(meta)))}


def _model_file(folder: Path) -> Path:
    model = nn.MLP([3, 4, 2], batch_norm=True, output=None, generator=0)
    path = folder / "model.npz"
    tg.save_model(model, path, metadata={"classes": ["a", "b"], "scale": np.ones(3)})
    return path


# --------------------------------------------------------------------------- permissions
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_honours_the_umask_like_open(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        tg.save({"w": np.ones(2)}, tmp_path / "saved.npz")
        with open(tmp_path / "opened.npz", "wb"):
            pass
    finally:
        os.umask(old)
    saved = stat.S_IMODE((tmp_path / "saved.npz").stat().st_mode)
    assert saved == stat.S_IMODE((tmp_path / "opened.npz").stat().st_mode) == 0o666 & ~umask


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "state.npz"
    tg.save({"w": np.ones(2)}, path)
    os.chmod(path, 0o640)
    tg.save({"w": np.zeros(2)}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    np.testing.assert_array_equal(tg.load(path)["w"], np.zeros(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.npz"]


def test_a_symlink_is_written_through_atomically(tmp_path: Path) -> None:
    real_dir = tmp_path / "models"
    real_dir.mkdir()
    target = real_dir / "v1.npz"
    tg.save({"w": np.ones(2)}, target)
    os.chmod(target, 0o600)
    link = tmp_path / "current.npz"
    link.symlink_to(target)
    chain = tmp_path / "latest.npz"  # a link to the link
    chain.symlink_to(link)
    tg.save({"w": np.full(2, 3.0)}, chain)
    assert link.is_symlink() and chain.is_symlink()
    assert os.path.realpath(chain) == str(target)
    np.testing.assert_array_equal(tg.load(target)["w"], np.full(2, 3.0))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    # the temporary file was made beside the target (then renamed): nothing left anywhere
    assert sorted(p.name for p in real_dir.iterdir()) == ["v1.npz"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current.npz", "latest.npz", "models"]


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.npz"
    link.symlink_to(tmp_path / "new.npz")
    tg.save({"w": np.ones(1)}, link)
    assert link.is_symlink() and (tmp_path / "new.npz").is_file()


def test_too_deep_a_nest_is_refused_on_save_before_writing(tmp_path: Path) -> None:
    deep: Any = 1.0
    for _ in range(150):
        deep = [deep]
    with pytest.raises(ValueError, match="nests containers more than 100 levels deep"):
        tg.save(deep, tmp_path / "deep.npz")
    assert not (tmp_path / "deep.npz").exists()


# --------------------------------------------------------------------------- crafted files
def _load_error(path: Path, loader: Any = tg.load) -> str:
    with pytest.raises(SerializationError) as info:
        loader(path)
    assert path.name in str(info.value)
    return str(info.value)


@pytest.mark.parametrize("count", [10**12, 2**62, 10**18])
def test_an_absurd_size_is_refused_before_allocating(tmp_path: Path, count: int) -> None:
    good = _entries(_model_file(tmp_path))
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': ({count},), }}"
    path = _zip(tmp_path / "huge.npz", {**good, "a0.npy": _npy(header, bytes(64))})
    tracemalloc.start()
    try:
        message = _load_error(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f"claims shape ({count},) of float64" in message
    assert peak < 5_000_000  # nothing near the claimed size was allocated


def test_a_plausible_but_false_size_is_refused_without_allocating_it(tmp_path: Path) -> None:
    good = _entries(_model_file(tmp_path))
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (50000000,), }"  # 400 MB
    path = _zip(tmp_path / "big.npz", {**good, "a0.npy": _npy(header, bytes(80))})
    tracemalloc.start()
    try:
        message = _load_error(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "(400000000 bytes) but holds 80 bytes" in message
    assert peak < 5_000_000


def test_a_zip_entry_claiming_more_than_the_file_holds_is_refused(tmp_path: Path) -> None:
    path = _model_file(tmp_path)
    data = bytearray(path.read_bytes())
    # the central directory's "uncompressed size" of the first entry: offset 24 of its record
    record = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, record + 24, 2**31)
    path.write_bytes(bytes(data))
    assert "claims 2147483648 bytes" in _load_error(path)


@pytest.mark.parametrize(
    ("header", "piece"),
    [
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (-3,), }", "negative size"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (-2, -4), }", "negative size"),
        ("{'descr': '<f9', 'fortran_order': False, 'shape': (2,), }", "damaged entry"),
        ("{'descr': 'O', 'fortran_order': False, 'shape': (2,), }", "never unpickles"),
        ("{'descr': [('a', 'O')], 'fortran_order': False, 'shape': (1,), }", "never unpickles"),
        ("{'descr': '<f8', 'fortran_order': 'yes', 'shape': (2,), }", "damaged entry"),
        ("{'descr': '<f8', 'shape': (2,), }", "damaged entry"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (2.0,), }", "damaged entry"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': 2, }", "damaged entry"),
        ("__import__('os').system('true')", "damaged entry"),
        ("{'descr': '<i4', 'fortran_order': False, 'shape': (4, 3), }", "do not fit"),
        ("{'descr': 'V0', 'fortran_order': False, 'shape': (10000000000,), }", "zero bytes"),
    ],
)
def test_crafted_array_headers(tmp_path: Path, header: str, piece: str) -> None:
    good = _entries(_model_file(tmp_path))
    weight = np.load(io.BytesIO(good["a0.npy"]))
    assert weight.shape == (4, 3) and weight.dtype == np.float32
    payload = weight.tobytes() if "<i4" in header else weight.astype("<f8").tobytes()
    path = _zip(tmp_path / "crafted.npz", {**good, "a0.npy": _npy(header, payload)})
    loader = load_model if piece == "do not fit" else tg.load
    assert piece in _load_error(path, loader)


def test_npy_format_3_and_garbage_magic_are_refused(tmp_path: Path) -> None:
    good = _entries(_model_file(tmp_path))
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
    path = _zip(tmp_path / "v3.npz", {**good, "a0.npy": _npy(header, bytes(16), version=3)})
    assert "format (3, 0)" in _load_error(path)
    path = _zip(tmp_path / "magic.npz", {**good, "a0.npy": b"NOTNUMPY" + bytes(100)})
    assert "damaged entry" in _load_error(path)


def test_entries_that_are_not_arrays_or_appear_twice(tmp_path: Path) -> None:
    good = _entries(_model_file(tmp_path))
    path = _zip(tmp_path / "extra.npz", {**good, "readme.txt": b"hello"})
    assert "not an array" in _load_error(path)
    path = tmp_path / "twice.npz"
    with zipfile.ZipFile(path, "w") as archive, pytest.warns(UserWarning, match="Duplicate"):
        for name, data in {**good, "a0.npy": good["a0.npy"]}.items():
            archive.writestr(name, data)
        archive.writestr("a0.npy", good["a0.npy"])
    assert "twice" in _load_error(path)


@pytest.mark.parametrize(
    ("index", "piece"),
    [
        (np.array(b'{"format": "tensorgraph"}'), "expected one unicode string"),
        (np.array(["{}", "{}"]), "expected one unicode string"),
        (np.array(3.0), "expected one unicode string"),
        (np.array("not json {"), "not JSON"),
        (np.array("[" * 100_000 + "]" * 100_000), "nested too deeply"),
        (np.array("\ud800"), "not JSON"),
    ],
)
def test_an_index_that_is_not_a_json_text(tmp_path: Path, index: np.ndarray, piece: str) -> None:
    good = _entries(_model_file(tmp_path))
    path = _zip(tmp_path / "index.npz", {**good, META: _array_npy(index)})
    assert piece in _load_error(path)


def test_non_utf8_code_points_in_the_index_are_refused(tmp_path: Path) -> None:
    good = _entries(_model_file(tmp_path))
    text = json.dumps(_meta(good))
    codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").copy()
    codes[5] = 0x110000  # beyond Unicode
    header = f"{{'descr': '<U{len(codes)}', 'fortran_order': False, 'shape': (), }}"
    path = _zip(tmp_path / "utf.npz", {**good, META: _npy(header, codes.tobytes())})
    _load_error(path)


def _set(meta: Any, path: list[Any], value: Any) -> Any:
    node = meta
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return meta


WRONG = [None, True, 3, -1, 2.5, "x", [], {}, [1, 2], {"t": "value"}]


def _index_paths(meta: Any) -> list[list[Any]]:
    """Every path to a field of the index."""
    paths: list[list[Any]] = []
    stack: list[tuple[list[Any], Any]] = [([], meta)]
    while stack:
        where, node = stack.pop()
        children = node.items() if isinstance(node, dict) else (
            enumerate(node) if isinstance(node, list) else ())  # fmt: skip
        for key, child in children:
            paths.append([*where, key])
            stack.append(([*where, key], child))
    return paths


def test_every_field_of_the_index_with_every_wrong_type(tmp_path: Path) -> None:
    good = _entries(_model_file(tmp_path))
    meta = _meta(good)
    paths = _index_paths(meta)
    assert len(paths) > 60
    outcomes: dict[str, int] = {"refused": 0, "loaded": 0}
    for path in paths:
        for value in WRONG:
            crafted = _set(json.loads(json.dumps(meta)), path, value)
            file = _zip(tmp_path / "field.npz", _with_meta(good, crafted))
            for loader in (tg.load, load_model, load_metadata):
                try:
                    loader(file)
                except SerializationError as err:
                    assert "field.npz" in str(err)
                    outcomes["refused"] += 1
                else:  # a field that does not matter to this loader, or a valid value
                    outcomes["loaded"] += 1
    assert outcomes["refused"] > outcomes["loaded"]


@pytest.mark.parametrize(
    ("change", "piece"),
    [
        ({"version": "1"}, "invalid format version"),
        ({"version": True}, "invalid format version"),
        ({"version": 0}, "invalid format version"),
        ({"version": 2}, "newer tensorgraph"),
        ({"kind": ["model"]}, "damaged index"),
        ({"content": None}, "damaged index"),
        ({"format": "numpy"}, "foreign"),
    ],
)
def test_top_level_fields(tmp_path: Path, change: dict[str, Any], piece: str) -> None:
    good = _entries(_model_file(tmp_path))
    path = _zip(tmp_path / "top.npz", _with_meta(good, {**_meta(good), **change}))
    assert piece in _load_error(path)


@pytest.mark.parametrize(
    ("architecture", "piece"),
    [
        (["MLP"], "damaged architecture record"),
        ({"class": ["MLP"], "config": {}}, "damaged architecture record"),
        ({"class": "MLP", "config": [1]}, "damaged architecture record"),
        ({"class": "Evil", "config": {}}, "cannot rebuild"),
        ({"class": "MLP", "config": {"sizes": [10**6, 10**6, 1]}}, "need at least"),
        ({"class": "MLP", "config": {"sizes": [3, -4, 2]}}, "expected positive ints"),
        ({"class": "MLP", "config": {"sizes": [3, True, 2]}}, "expected positive ints"),
        ({"class": "MLP", "config": {"sizes": [3, 4, 2], "dtype": "object"}}, "cannot build"),
        ({"class": "MLP", "config": {"sizes": [3, 4, 2], "dtype": "float16"}}, "do not fit"),
        ({"class": "MLP", "config": {"sizes": [3, 4, 2], "activation": [1]}}, "cannot build"),
        ({"class": "MLP", "config": {"sizes": [3, 4, 2], "evil": 1}}, "cannot build"),
    ],
)
def test_crafted_architectures(tmp_path: Path, architecture: Any, piece: str) -> None:
    good = _entries(_model_file(tmp_path))
    meta = {**_meta(good), "architecture": architecture}
    path = _zip(tmp_path / "arch.npz", _with_meta(good, meta))
    assert piece in _load_error(path, load_model)


def test_deep_nesting_in_the_index_and_the_config(tmp_path: Path) -> None:
    good = _entries(_model_file(tmp_path))
    deep: Any = {"t": "value", "v": 1}
    for _ in range(200):  # 400 JSON levels: json itself copes, the index is refused
        deep = {"t": "list", "items": [deep]}
    path = _zip(tmp_path / "deep.npz", _with_meta(good, {**_meta(good), "content": deep}))
    assert "more than 100 levels deep" in _load_error(path)
    nested: Any = 1
    for _ in range(700):
        nested = [nested]
    meta = _meta(good)
    meta["architecture"]["config"]["dropout"] = nested
    path = _zip(tmp_path / "deepconfig.npz", _with_meta(good, meta))
    _load_error(path, load_model)


@pytest.mark.parametrize(
    ("node", "piece"),
    [
        ({"t": "scalar", "ref": "a0"}, "is a scalar but its array has shape"),
        ({"t": "array", "ref": "a999"}, "refers to a missing array"),
        ({"t": "tensor", "ref": "a0"}, "has no 'requires_grad'"),
        ({"t": "value", "v": {"nested": 1}}, "is dict"),
        ({"t": "dict", "items": [["k", {"t": "value", "v": 1}], ["k", {"t": "value", "v": 2}]]},
         "has the key 'k' twice"),
        ({"t": "dict", "items": [[1.5, {"t": "value", "v": 1}]]}, "has a key of type float"),
        ({"t": "dict", "items": [["k"]]}, "is not a [key, value] pair"),
        ({"t": "set", "items": []}, "unknown entry kind 'set'"),
    ],
)
def test_crafted_index_entries(tmp_path: Path, node: Any, piece: str) -> None:
    good = _entries(_model_file(tmp_path))
    path = _zip(tmp_path / "node.npz", _with_meta(good, {**_meta(good), "content": node}))
    assert piece in _load_error(path)


def test_a_tensor_of_text_or_an_integer_tensor_that_requires_grad(tmp_path: Path) -> None:
    tg.save({"t": tg.tensor(np.ones(2))}, tmp_path / "t.npz")
    good = _entries(tmp_path / "t.npz")
    for array, flag in ((np.array(["a", "b"]), False), (np.arange(2), True)):
        meta = _meta(good)
        meta["content"]["items"][0][1]["requires_grad"] = flag
        path = _zip(tmp_path / "tt.npz", {**_with_meta(good, meta), "a0.npy": _array_npy(array)})
        assert "is a tensor of dtype" in _load_error(path)


# --------------------------------------------------------------------------- any failure
@pytest.mark.parametrize(
    "header",
    [
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }'''",  # TokenError
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,\\",  # TokenError (EOF)
    ],
)
def test_an_npy_header_the_tokenizer_chokes_on(tmp_path: Path, header: str) -> None:
    good = _entries(_model_file(tmp_path))
    path = _zip(tmp_path / "m.npz", {**good, "a1.npy": _npy(header, bytes(16))})
    assert "is not a complete tensorgraph file" in _load_error(path)


def _central_directory_field(path: Path, offset: int, value: int) -> Path:
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02") + offset
    data[at : at + 2] = struct.pack("<H", value)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("offset", "value", "piece"),
    [(6, 109, "zip file version 10.9"),  # was NotImplementedError
     (8, 1, "encrypted"),  # was RuntimeError
     (10, 99, "compression")],
)  # fmt: skip
def test_zip_version_encryption_and_compression_flags(
    tmp_path: Path, offset: int, value: int, piece: str
) -> None:
    path = _central_directory_field(_model_file(tmp_path), offset, value)
    for loader in (tg.load, load_model, load_metadata):
        message = _load_error(path, loader)
        assert piece in message and str(path) in message


def test_a_directory_is_a_serialization_error(tmp_path: Path) -> None:
    assert _load_error(tmp_path) == f"load: {tmp_path} is a directory, not a tensorgraph file"
    with pytest.raises(FileNotFoundError, match="no such file"):
        tg.load(tmp_path / "absent.npz")


def test_predict_with_a_damaged_model_is_one_line_and_exit_2(tmp_path: Path) -> None:
    from tensorgraph import cli

    path = _central_directory_field(_model_file(tmp_path), 6, 109)
    for model in (path, tmp_path):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            status = cli.main(["predict", "--model", str(model), "--data", "digits"])
        assert status == 2
        lines = err.getvalue().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"tensorgraph predict: error: load: {model}")


# --------------------------------------------------------------------------- fuzzing
def _saved_model_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return _model_file(Path(folder)).read_bytes()


SAVED = _saved_model_bytes()
FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
                deadline=None)  # fmt: skip


def _reference() -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.npz"
        path.write_bytes(SAVED)
        return tg.load(path), load_metadata(path)


REFERENCE_STATE, REFERENCE_METADATA = _reference()


@st.composite
def mutated(draw: Any) -> bytes:
    data = bytearray(SAVED)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "zero_run"]))
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "set":
            data[at] = draw(st.sampled_from([0, 0xFF, 0x7F, 0x80]))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        else:
            n = draw(st.integers(1, 16))
            data[at : at + n] = bytes(len(data[at : at + n]))
    return bytes(data)


@FUZZ
@given(data=mutated())
def test_mutated_bytes_give_the_exact_content_or_a_serialization_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.npz"
        path.write_bytes(data)
        try:
            state = tg.load(path)
        except SerializationError:
            pass
        else:  # a byte the reader does not use (a timestamp, a comment)
            assert state.keys() == REFERENCE_STATE.keys()
            for key, value in state.items():
                np.testing.assert_array_equal(value, REFERENCE_STATE[key])
                assert value.dtype == REFERENCE_STATE[key].dtype
        try:
            model = load_model(path)
        except SerializationError:
            return
        assert isinstance(model, nn.MLP)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                 max_size=3),
    max_leaves=8,
)  # fmt: skip


def _good_entries() -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(SAVED))
    return {name: archive.read(name) for name in archive.namelist()}


GOOD = _good_entries()
GOOD_META = _meta(GOOD)
GOOD_PATHS = _index_paths(GOOD_META)


@FUZZ
@given(where=st.sampled_from(GOOD_PATHS), value=JSON)
def test_any_json_in_any_field_gives_a_value_or_a_serialization_error(where: list[Any],
                                                                      value: Any) -> None:
    crafted = _set(json.loads(json.dumps(GOOD_META)), where, value)
    with tempfile.TemporaryDirectory() as folder:
        path = _zip(Path(folder) / "m.npz", _with_meta(GOOD, crafted))
        for loader in (tg.load, load_model, load_metadata):
            try:
                loader(path)
            except SerializationError as err:
                assert "m.npz" in str(err)


@FUZZ
@given(
    descr=st.sampled_from(["<f8", "<f4", ">f8", "<i8", "|u1", "<c16", "|b1", "<U3", "|S2",
                           "V8", "<M8[s]", "f8", "<f16", "xx", "O"]),
    shape=st.lists(st.integers(-3, 10**13), max_size=3).map(tuple),
    fortran=st.booleans(),
    payload=st.integers(0, 200),
)  # fmt: skip
def test_any_array_header_gives_an_array_or_a_serialization_error(
    descr: str, shape: tuple[int, ...], fortran: bool, payload: int
) -> None:
    header = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape!r}, }}"
    with tempfile.TemporaryDirectory() as folder:
        path = _zip(Path(folder) / "m.npz", {**GOOD, "a1.npy": _npy(header, bytes(payload))})
        try:
            tg.load(path)
        except SerializationError as err:
            assert "m.npz" in str(err)
        else:  # accepted only when the header describes exactly the bytes that follow
            assert all(n >= 0 for n in shape)
            assert math.prod(shape) * np.dtype(descr).itemsize == payload
        try:
            load_model(path)
        except SerializationError as err:
            assert "m.npz" in str(err)


def _records() -> list[tuple[list[int], int]]:
    """The headers of each kind, as (starts, size): the zip's local headers, central
    directory records and end record, and the .npy headers; where a damaged byte reaches
    zipfile's and numpy's parsers (version, flags, compression, sizes, lengths, offsets)."""
    kinds = []
    for signature, size in ((b"PK\x03\x04", 30), (b"PK\x01\x02", 46), (b"PK\x05\x06", 22),
                            (b"\x93NUMPY", 128)):  # fmt: skip
        starts, start = [], SAVED.find(signature)
        while start >= 0:
            starts.append(start)
            start = SAVED.find(signature, start + 1)
        kinds.append((starts, size))
    return kinds


RECORDS = _records()


@st.composite
def damaged_byte(draw: Any) -> tuple[int, int]:
    """(offset, xor mask): half of the time a byte anywhere, else a byte of a header."""
    if draw(st.booleans()):
        at = draw(st.integers(0, len(SAVED) - 1))
    else:
        starts, size = draw(st.sampled_from(RECORDS))
        at = min(draw(st.sampled_from(starts)) + draw(st.integers(0, size - 1)), len(SAVED) - 1)
    return at, draw(st.sampled_from([1, 2, 4, 8, 16, 32, 64, 128]) | st.integers(1, 255))


@FUZZ
@given(flips=st.lists(damaged_byte(), min_size=1, max_size=3))
def test_flipped_bits_in_the_zip_and_npy_headers_give_the_content_or_an_error(
    flips: list[tuple[int, int]],
) -> None:
    data = bytearray(SAVED)
    for at, mask in flips:
        data[at] ^= mask
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.npz"
        path.write_bytes(bytes(data))
        for loader in (tg.load, load_model, load_metadata):
            try:
                loaded = loader(path)
            except SerializationError as err:
                assert str(path) in str(err)
                continue
            if loader is tg.load:  # a bit the reader does not use (a timestamp, a comment)
                assert loaded.keys() == REFERENCE_STATE.keys()
                for key, value in loaded.items():
                    np.testing.assert_array_equal(value, REFERENCE_STATE[key])
