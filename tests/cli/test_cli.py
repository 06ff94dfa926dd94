"""End-to-end tests of the ``tensorgraph`` command, run as ``python -m tensorgraph``."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.data import load_breast_cancer

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
    files = _bad_files(tmp_path)
    result = run(*(a.format(**files) for a in args), cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert message in lines[-1]
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
