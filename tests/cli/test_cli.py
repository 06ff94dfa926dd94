"""End-to-end tests of the ``tensorgraph`` command, run as ``python -m tensorgraph``."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import cli
from tensorgraph.data import load_breast_cancer
from tensorgraph.serialization import load_metadata

FAST = ["--epochs", "2", "--hidden", "8", "--no-progress"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "tensorgraph", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def _small_csv(path: Path, with_header: bool = True, n: int = 60) -> Path:
    bunch = load_breast_cancer()
    rows = [
        [*map(str, bunch.data[i, :4].tolist()), bunch.target_names[bunch.target[i]]]
        for i in range(n)
    ]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        if with_header:
            writer.writerow(["radius", "texture", "perimeter", "area", "diagnosis"])
        writer.writerows(rows)
    return path


def test_train_save_then_predict_with_and_without_the_label_column(tmp_path: Path) -> None:
    data = _small_csv(tmp_path / "cells.csv")
    model_path = tmp_path / "model.npz"
    result = run("train", "--data", str(data), "--model", "adam", "--save", str(model_path), *FAST)
    assert result.returncode == 0, result.stderr
    assert "saved" in result.stdout.splitlines()[-1]
    with_label = run("predict", "--model", str(model_path), "--data", str(data))
    assert with_label.returncode == 0, with_label.stderr
    rows = list(csv.reader(with_label.stdout.splitlines()))
    assert rows[0] == ["row", "prediction", "p_benign", "p_malignant"]
    assert len(rows) == 61
    assert {r[1] for r in rows[1:]} <= {"benign", "malignant"}
    assert all(abs(float(r[2]) + float(r[3]) - 1) < 1e-5 for r in rows[1:])
    # The same rows without the label column and without a header give the same predictions.
    features = tmp_path / "features.csv"
    bunch = load_breast_cancer()
    features.write_text(
        "".join(",".join(map(str, row)) + "\n" for row in bunch.data[:60, :4].tolist())
    )
    without = run(
        "predict",
        "--model",
        str(model_path),
        "--data",
        str(features),
        "--out",
        str(tmp_path / "p.csv"),
    )
    assert without.returncode == 0, without.stderr
    assert (tmp_path / "p.csv").read_text().splitlines() == with_label.stdout.splitlines()
    # The model file is an ordinary tensorgraph model file.
    model = tg.load_model(model_path)
    assert model[0].in_features == 4


def test_gradcheck_prints_a_table_and_passes() -> None:
    result = run("gradcheck", "--op", "exp", "--op", "matmul", "--trials", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["op", "worst", "error", "tolerance", "result"]
    assert [line.split()[0] for line in lines[1:3]] == ["exp", "matmul"]
    assert all(line.split()[-1] == "pass" for line in lines[1:3])
    assert lines[-1] == "2 of 2 ops pass"


def test_gradcheck_exits_1_when_an_op_has_a_wrong_derivative() -> None:
    # A deliberately wrong VJP registered in the same process the CLI runs in.
    script = textwrap.dedent("""
        import sys
        from tensorgraph.ops._base import Domain, Op, register
        from tensorgraph.cli import main

        @register
        class Wrong(Op):
            name = "wrong_double"
            domain = Domain()

            @staticmethod
            def forward(x):
                return 2 * x

            @staticmethod
            def vjp_0(grad, out, x):
                return 3 * grad

        sys.exit(main(["gradcheck", "--op", "wrong_double", "--op", "exp"]))
    """)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert "FAIL" in next(line for line in lines if line.startswith("wrong_double"))
    assert lines[-1] == "1 of 2 ops pass; failed: wrong_double"


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,y\n1,2,0\n3,4\n")
    words = tmp_path / "words.csv"
    words.write_text("a,b,y\n1,2,0\n3,x,1\n")
    truncated = tmp_path / "truncated.npz"
    tg.save({"w": np.arange(100.0)}, tmp_path / "full.npz")
    truncated.write_bytes((tmp_path / "full.npz").read_bytes()[:200])
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, w=np.ones(2))
    state = tmp_path / "state.npz"
    tg.save({"w": np.ones(2)}, state)
    return {
        "ragged": ragged,
        "words": words,
        "truncated": truncated,
        "foreign": foreign,
        "state": state,
    }


BAD = [
    ((), "give a command"),
    (("fly",), "invalid choice: 'fly'"),
    (("compare", "--epochs", "0"), "--epochs: expected a positive integer, got '0'"),
    (("compare", "--epochs", "ten"), "--epochs: expected a positive integer, got 'ten'"),
    (("compare", "--batch-size", "-4"), "--batch-size: expected a positive integer"),
    (("compare", "--hidden", "64,x"), "--hidden: expected comma-separated positive"),
    (("compare", "--data", "absent.csv"), "--data: no such file: absent.csv"),
    (("compare", "--models", "sgd9"), "unknown model 'sgd9'; the series is: gd, minibatch"),
    (("compare", "--data", "digits", "--target", "0"), "--target applies to CSV files"),
    (("compare", "--data", "{ragged}"), "ragged.csv, line 3: 2 fields, but line 1 has 3"),
    (("compare", "--data", "{words}"), "words.csv, line 3, column 2 ('b'): 'x' is not a number"),
    (("compare", "--data", "{words}", "--target", "label"), "no column named 'label'"),
    (("compare", "--data", "{words}", "--target", "7"), "index 7 is out of range for 3 columns"),
    (("train", "--model", "nope"), "unknown model 'nope'"),
    (("train", "--hidden", "3,,2"), "--hidden: expected comma-separated positive"),
    (("train", "--hidden", "3,2,"), "--hidden: expected comma-separated positive"),
    (("train", "--hidden", "100000000,100000000", "--epochs", "1"),
     "--hidden 100000000,100000000: the model would have 1e+16 parameters (30 features, "
     "2 classes); at most 2.15e+09 are allowed"),
    (("train", "--save", "{tmp}/missing/x.npz"), "--save: no such directory: {tmp}/missing"),
    (("train", "--save", "{tmp}"), "--save: {tmp} is a directory; give a file name"),
    (("predict", "--data", "x.csv"), "the following arguments are required: --model"),
    (("predict", "--model", "absent.npz", "--data", "digits"), "no such file: absent.npz"),
    (("predict", "--model", "{truncated}", "--data", "digits"), "is not a complete tensorgraph"),
    (("predict", "--model", "{foreign}", "--data", "digits"), "not one written by tensorgraph"),
    (("predict", "--model", "{state}", "--data", "digits"), "holds a state_dict, not a model"),
    (("gradcheck", "--op", "nope"), "--op: no registered op named 'nope'"),
    (("gradcheck", "--dtype", "float16"), "invalid choice: 'float16'"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) or "none" for a, _ in BAD])
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    files = {**_bad_files(tmp_path), "tmp": str(tmp_path)}
    result = run(*(a.format(**files) for a in args), cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # refused before any training: nothing printed, nothing lost
    lines = result.stderr.strip().splitlines()
    assert message.format(**files) in lines[-1]
    assert len(lines) == 1 or (not args and lines[0].startswith("usage:"))


def test_predict_refuses_a_file_with_the_wrong_number_of_columns(tmp_path: Path) -> None:
    data = _small_csv(tmp_path / "cells.csv")
    model_path = tmp_path / "model.npz"
    assert (
        run(
            "train", "--data", str(data), "--model", "gd", "--save", str(model_path), *FAST
        ).returncode
        == 0
    )
    wide = tmp_path / "wide.csv"
    wide.write_text("1,2,3,4,5,6\n")
    result = run("predict", "--model", str(model_path), "--data", str(wide))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"tensorgraph predict: error: {wide}: 6 columns, but the model takes 4 features "
        "(5 with the label column)"
    )


# --------------------------------------------------------------------------- predict: columns
NAMES = ["radius", "texture", "perimeter", "area"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A model trained on a 4-feature CSV with a header, and that CSV."""
    folder = tmp_path_factory.mktemp("trained")
    data = _small_csv(folder / "cells.csv")
    model = folder / "model.npz"
    assert cli.main(["train", "--data", str(data), "--save", str(model), *FAST]) == 0
    return model, data


def _write_columns(path: Path, header: list[str], order: list[int], label: bool) -> Path:
    bunch = load_breast_cancer()
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([header[k] for k in order] + (["diagnosis"] if label else []))
        for i in range(60):
            row = [str(bunch.data[i, k]) for k in order]
            writer.writerow(row + ([bunch.target_names[bunch.target[i]]] if label else []))
    return path


def _predict(model: Path, data: Path, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["predict", "--model", str(model), "--data", str(data), *extra])
    return status, out.getvalue(), err.getvalue()


def test_predict_matches_reordered_columns_by_name(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    model, data = trained
    status, expected, _ = _predict(model, data)
    assert status == 0
    for order, label in [([3, 1, 0, 2], True), ([2, 0, 3, 1], False)]:
        shuffled = _write_columns(tmp_path / "shuffled.csv", NAMES, order, label)
        status, got, err = _predict(model, shuffled)
        assert status == 0, err
        assert got == expected
    # --no-header: the names line is read as data, and refused as such.
    status, _, err = _predict(model, data, "--no-header")
    assert status == 2
    assert err.strip().endswith("line 1, column 1: 'radius' is not a number")


@pytest.mark.parametrize(
    ("header", "order", "message"),
    [
        (["radius", "texture", "perim", "area"], [0, 1, 2, 3],
         "missing 'perimeter'; not used by the model 'perim'"),
        (["radius", "texture", "perimeter", "area", "id"], [0, 1, 2, 3, 4],
         "not used by the model 'id'"),
        (["radius", "texture", "area", "area"], [0, 1, 2, 3],
         "missing 'perimeter'; named twice 'area'"),
    ],
)
def test_predict_refuses_columns_that_cannot_be_matched(
    trained: tuple[Path, Path], tmp_path: Path, header: list[str], order: list[int], message: str
) -> None:
    model, _ = trained
    bunch = load_breast_cancer()
    path = tmp_path / "new.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([[str(bunch.data[i, k % 4]) for k in order] for i in range(5)])
    status, out, err = _predict(model, path)
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tensorgraph predict: error: {path}: ")
    assert "the columns do not match the model's 4 features" in lines[0] and message in lines[0]


def test_predict_reads_a_header_of_numbers_named_by_the_model(tmp_path: Path) -> None:
    years = ["1990", "1991", "1992", "1993"]
    data = _write_columns(tmp_path / "years.csv", years, [0, 1, 2, 3], label=True)
    model = tmp_path / "model.npz"
    args = ["train", "--data", str(data), "--target", "diagnosis", "--save", str(model), *FAST]
    assert cli.main(args) == 0
    assert load_metadata(model)["feature_names"] == years
    status, expected, _ = _predict(model, data)
    assert status == 0
    reordered = _write_columns(tmp_path / "rows.csv", years, [1, 0, 3, 2], label=False)
    status, got, err = _predict(model, reordered)  # first line all numbers: still a header
    assert status == 0, err
    assert got == expected


def test_predict_refuses_class_names_that_do_not_fit_the_outputs(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    model_path, data = trained
    model = tg.load_model(model_path)
    for classes in (["benign"], ["a", "b", "c"]):
        metadata = {**load_metadata(model_path), "class_names": classes}
        broken = tmp_path / "broken.npz"
        tg.save_model(model, broken, metadata=metadata)
        status, out, err = _predict(broken, data)
        assert status == 2 and out == ""
        assert err.strip() == (
            f"tensorgraph predict: error: {broken}: the model has 1 output, for 2 classes "
            f"(one sigmoid output), but the file names {len(classes)} classes "
            f"({', '.join(classes)})"
        )


# --------------------------------------------------------------------------- delimiter, header
def test_train_and_predict_with_delimiter_and_header_flags(tmp_path: Path) -> None:
    bunch = load_breast_cancer()
    rows = [[*map(str, bunch.data[i, :4]), str(bunch.target[i])] for i in range(60)]
    semicolons = tmp_path / "semi.csv"
    semicolons.write_text("".join(";".join(r) + "\n" for r in rows))
    model = tmp_path / "model.npz"
    assert cli.main(["train", "--data", str(semicolons), "--save", str(model), *FAST]) == 0
    meta = load_metadata(model)
    assert meta["named_features"] is False and meta["target_index"] == 4
    status, sniffed, _ = _predict(model, semicolons)
    assert status == 0 and len(sniffed.splitlines()) == 61
    assert _predict(model, semicolons, "--delimiter", ";")[1] == sniffed
    status, _, err = _predict(model, semicolons, "--delimiter", ",")
    assert status == 2
    assert "semi.csv: 1 columns, but the model takes 4 features" in err
    tabs = tmp_path / "tabs.csv"
    tabs.write_text("".join("\t".join(r[:4]) + "\n" for r in rows))
    assert _predict(model, tabs, "--delimiter", "tab")[1] == sniffed
    assert _predict(model, tabs, "--no-header")[1] == sniffed
    status, _, err = _predict(model, semicolons, "--header")  # first line taken as names
    assert status == 0 and len(err) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--delimiter", ";;"), "argument --delimiter: expected one character"),
        (("--delimiter", '"'), "argument --delimiter: expected one character"),
    ],
)
def test_bad_csv_flags_are_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as info:
        cli.main(["train", "--data", "x.csv", *args])
    assert info.value.code == 2
    assert message in err.getvalue() and len(err.getvalue().strip().splitlines()) == 1


def test_predict_refuses_fewer_class_names_than_softmax_outputs(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = [[*map(str, rng.normal(size=3).round(4)), "abc"[i % 3]] for i in range(60)]
    data = tmp_path / "three.csv"
    data.write_text("".join(",".join(r) + "\n" for r in [["p", "q", "r", "kind"], *rows]))
    model_path = tmp_path / "model.npz"
    assert cli.main(["train", "--data", str(data), "--save", str(model_path), *FAST]) == 0
    metadata = {**load_metadata(model_path), "class_names": ["a", "b"]}
    broken = tmp_path / "two.npz"
    tg.save_model(tg.load_model(model_path), broken, metadata=metadata)
    status, out, err = _predict(broken, data)
    assert status == 2 and out == ""
    assert err.strip() == (
        f"tensorgraph predict: error: {broken}: the model has 3 outputs, for 3 classes, but "
        "the file names 2 classes (a, b)"
    )
    assert _predict(model_path, data)[0] == 0


# --------------------------------------------------------------------------- tester's findings
@pytest.fixture(scope="module")
def headerless(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """A model trained on a 3-feature CSV without a header (features x0, x1, x2), and rows."""
    folder = tmp_path_factory.mktemp("headerless")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3)).round(4)
    data = folder / "plain.csv"
    data.write_text("".join(f"{a},{b},{c},{'ab'[i % 2]}\n" for i, (a, b, c) in enumerate(X)))
    model = folder / "model.npz"
    assert cli.main(["train", "--data", str(data), "--save", str(model), *FAST]) == 0
    assert load_metadata(model)["feature_names"] == ["x0", "x1", "x2"]
    return model, X


@pytest.mark.parametrize("cell", ["", "NA", "?", "2x"])
def test_predict_and_train_report_a_bad_first_row_instead_of_dropping_it(
    headerless: tuple[Path, np.ndarray], tmp_path: Path, cell: str
) -> None:
    model, _ = headerless
    rows = tmp_path / "p.csv"
    rows.write_text(f"0.3456,{cell},0.3304\n-1.3032,0.9054,0.4464\n-0.537,0.5811,0.3646\n")
    status, out, err = _predict(model, rows)
    assert status == 2 and out == ""  # it printed 2 predictions, exit 0
    assert err.strip().startswith(f"tensorgraph predict: error: {rows}, line 1, column 2: ")
    data = tmp_path / "d.csv"
    data.write_text(f"1,{cell},a\n" + "".join(f"{i},{i % 3},{'ab'[i % 2]}\n" for i in range(30)))
    result = run("train", "--data", str(data), *FAST)
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tensorgraph train: error: {data}, line 1, ")


def test_train_refuses_a_header_naming_a_column_twice(tmp_path: Path) -> None:
    data = tmp_path / "dup.csv"
    data.write_text("a,a,b,label\n" + "".join(f"{i},{i % 3},{i % 5},{i % 2}\n" for i in range(30)))
    result = run("train", "--data", str(data), *FAST)
    assert result.returncode == 2, result.stdout
    assert result.stderr.strip() == (
        f"tensorgraph train: error: {data}, line 1: the header names column 'a' twice "
        "(columns 1 and 2); every column needs its own name"
    )


def test_predict_refuses_rows_whose_output_is_not_finite(
    headerless: tuple[Path, np.ndarray], tmp_path: Path
) -> None:
    model, _ = headerless
    big = tmp_path / "big.csv"
    big.write_text("0.1,0.2,0.3\n3.4e+38,0,0\n0.5,0.5,0.5\n-3.4e38,3e38,0\n")
    result = run("predict", "--model", str(model), "--data", str(big))
    assert result.returncode == 2 and result.stdout == ""  # it printed nan, exit 0
    assert result.stderr.strip() == (
        f"tensorgraph predict: error: {big}: rows 2, 4: the model's output is not finite "
        "(inputs too large for float32?); 2 of 4 rows, no predictions written"
    )


@pytest.mark.parametrize(
    ("header", "order"), [("x2,x1,x0", [2, 1, 0]), ("x1,x2,x0", [1, 2, 0]), ("x0,x1,x2", [0, 1, 2])]
)
def test_predict_matches_made_up_names_by_name(
    headerless: tuple[Path, np.ndarray], tmp_path: Path, header: str, order: list[int]
) -> None:
    model, X = headerless
    plain = tmp_path / "plain.csv"
    plain.write_text("".join(",".join(map(str, row)) + "\n" for row in X))
    status, expected, _ = _predict(model, plain)
    assert status == 0
    named = tmp_path / "named.csv"
    named.write_text(header + "\n" + "".join(",".join(map(str, row[order])) + "\n" for row in X))
    status, got, err = _predict(model, named)
    assert status == 0, err
    assert got == expected  # read by position before: wrong predictions


@pytest.mark.parametrize(
    ("header", "message"),
    [("x2,x0", "missing 'x1'"), ("x0,x1,x2,x3", "not used by the model 'x3'"),
     ("x0,x1,x1", "missing 'x2'; named twice 'x1'")],
)  # fmt: skip
def test_predict_refuses_made_up_names_that_cannot_be_matched(
    headerless: tuple[Path, np.ndarray], tmp_path: Path, header: str, message: str
) -> None:
    model, _ = headerless
    width = len(header.split(","))
    named = tmp_path / "named.csv"
    named.write_text(header + "\n" + ",".join(["0.5"] * width) + "\n")
    status, out, err = _predict(model, named)
    assert status == 2 and out == ""
    assert "the columns do not match the model's 3 features" in err and message in err
