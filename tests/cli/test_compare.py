"""``tensorgraph compare`` end to end (tiny studies), and the command line's handling of a
reader that goes away and of a missing hypothesis for ``gradcheck``."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tensorgraph.cli import main
from tensorgraph.data import load_breast_cancer

TINY = ["--folds", "2", "--repeats", "1", "--epochs", "2", "--hidden", "8", "--jobs", "1"]
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tensorgraph", *args], capture_output=True,
                          text=True, cwd=cwd, env=ENV, timeout=180)


def _fits(out: Path) -> list[dict[str, object]]:
    document = json.loads((out / "results.json").read_text())
    return [{k: v for k, v in r.items() if k != "seconds"} for r in document["fits"]]


def test_compare_prints_intervals_and_verdicts_and_writes_the_files(tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = run("compare", "--models", "gd", "adam_bn_l2_dropout", "--seed", "3", *TINY,
                 "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("breast_cancer: 569 samples, 30 features, 2 classes; 2-fold "
                               "stratified cross-validation once, seed 3: 2 fits per model")
    assert "against full-batch gradient descent, corrected resampled t-test" in lines[1]
    assert lines[2].split()[:3] == ["model", "test", "accuracy"] and "vs gd" in lines[2]
    assert lines[4].startswith("full-batch gradient descent") and "(baseline)" in lines[4]
    assert lines[5].startswith("Adam + batch-norm + L2 + dropout") and "±" in lines[5]
    assert lines[5].endswith(("(few fits: 2)", "identical in every fit"))
    assert lines[-1].startswith("wrote ") and "curves.png" in lines[-1]
    document = json.loads((out / "results.json").read_text())
    assert [f["model"] for f in document["fits"]] == ["gd", "adam_bn_l2_dropout"] * 2
    assert [(f["repeat"], f["fold"]) for f in document["fits"]] == [(0, 0)] * 2 + [(0, 1)] * 2
    assert all(f["epochs"] == 2 and len(f["history"]["loss"]) == 2 for f in document["fits"])
    assert document["settings"]["seed"] == 3 and document["study_file"] is None
    with open(out / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 and float(rows[1]["test_accuracy"]) == (
        document["fits"][1]["test_accuracy"])
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
    # Progress on stderr: what runs where, and a bar counting finished fits (tqdm is in the
    # test extra).
    assert "4 fits (2 models x 2 resamplings) in this process" in result.stderr
    assert "4/4" in result.stderr and "Traceback" not in result.stderr


def test_worker_processes_give_the_numbers_of_one_process(tmp_path: Path) -> None:
    args = ("compare", "--models", "gd", "adam_dropout", "--no-progress", *TINY)
    one = run(*args, "--out", str(tmp_path / "one"))
    two = run(*args, "--jobs", "2", "--out", str(tmp_path / "two"))
    assert one.returncode == 0 and two.returncode == 0, (one.stderr, two.stderr)
    assert _fits(tmp_path / "one") == _fits(tmp_path / "two")
    assert one.stderr == two.stderr == ""  # --no-progress
    assert one.stdout.splitlines()[0] == two.stdout.splitlines()[0]


def test_a_study_file_and_the_flags_that_apply_to_every_model(tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    path.write_text('[study]\nfolds = 3\nepochs = 3\nhidden = [4]\nbaseline = "fast"\n\n'
                    '[[models]]\nname = "adam"\n\n'
                    '[[models]]\nname = "fast"\noptimizer = "adam"\nlr = 0.05\n')
    out = tmp_path / "out"
    result = run("compare", "--study", str(path), "--repeats", "1", "--dropout", "0.1",
                 "--jobs", "1", "--no-progress", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "3-fold stratified cross-validation once" in result.stdout
    assert "against fast [dropout=0.1]," in result.stdout
    document = json.loads((out / "results.json").read_text())
    assert [m["name"] for m in document["models"]] == ["adam", "fast"]
    assert [m["dropout"] for m in document["models"]] == [0.1, 0.1]
    assert [m["lr"] for m in document["models"]] == [0.001, 0.05]
    assert document["study_file"]["text"] == path.read_text()
    assert document["settings"]["epochs"] == 3 and document["settings"]["hidden"] == [4]
    assert all(f["epochs"] == 3 for f in document["fits"])
    # The flag wins over the file; --seeds replaces the file's k-fold.
    seeds = run("compare", "--study", str(path), "--seeds", "2", "--lr", "0.02", "--jobs", "1",
                "--no-progress", "--out", str(out))
    assert seeds.returncode == 0, seeds.stderr
    assert "2 random stratified splits (20% test)" in seeds.stdout
    document = json.loads((out / "results.json").read_text())
    assert [m["lr"] for m in document["models"]] == [0.02, 0.02]


def test_compare_on_a_csv_with_a_named_target(tmp_path: Path) -> None:
    bunch = load_breast_cancer()
    data = tmp_path / "cells.csv"
    with open(data, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["radius", "texture", "perimeter", "area", "diagnosis"])
        for i in range(60):
            writer.writerow([*bunch.data[i, :4].tolist(), bunch.target_names[bunch.target[i]]])
    result = run("compare", "--data", str(data), "--target", "diagnosis", "--models", "adam",
                 *TINY, "--no-progress", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("cells.csv: 60 samples, 4 features, 2 classes")
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert document["dataset"]["classes"] == ["benign", "malignant"]


BAD = [
    (("--out", "{file}"), "--out: {file} exists and is not a directory"),
    (("--out", "{busy}"), "results.json is a directory; cannot write it"),
    (("--seeds", "3", "--folds", "4"), "--seeds (random splits) and --folds/--repeats"),
    (("--seeds", "1"), "--seeds: a comparison needs at least 2 random splits"),
    (("--folds", "1"), "--folds: k-fold cross-validation needs at least 2 folds"),
    (("--baseline", "sgd"), "the baseline 'sgd' is not one of the study's models"),
    (("--models", "adam", "--baseline", "gd"), "the baseline 'gd' is not one of the study's"),
    (("--lr", "0"), "argument --lr: expected a positive number, got '0'"),
    (("--l2", "-1"), "argument --l2: expected a number >= 0, got '-1'"),
    (("--dropout", "1"), "argument --dropout: expected a number in [0, 1), got '1'"),
    (("--jobs", "0"), "argument --jobs: expected a positive integer"),
    (("--study", "absent.toml"), "--study: no such file: absent.toml"),
    (("--folds", "300"), "class 'malignant' has 212 samples, fewer than the 300 folds; use --folds "
     "between 2 and 212 or random splits (--seeds)"),
    (("--batch-size", "1"), "model 'adam_bn' uses batch-norm, which cannot train on "
     "mini-batches of one sample (batch_size 1): use a batch size of at least 2"),
    (("--models", "gd", "--data", "{rare}", "--target", "y", "--folds", "2"),
     "class 'c' has 3 samples: with 2 folds a fold's training part keeps only 1 of them, "
     "and its validation split (early stopping) needs 2 per class; use --folds 3 or "
     "random splits (--seeds)"),
    (("--models", "gd", "--data", "{pair}", "--target", "y", "--folds", "2"),
     "class 'c' has 2 samples: with 2 folds a fold's training part keeps only 1 of them, "
     "and its validation split (early stopping) needs 2 per class; every class needs at "
     "least 3 samples (one to test, 2 to train and validate)"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_refused_before_any_training(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    message: str,
) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "busy" / "results.json").mkdir(parents=True)
    paths = {"file": str(tmp_path / "file"), "busy": str(tmp_path / "busy"),
             "rare": str(tmp_path / "rare.csv"), "pair": str(tmp_path / "pair.csv")}
    for name, rare in (("rare", 3), ("pair", 2)):
        rows = [f"{i},{i % 7},a" for i in range(20)] + [f"{i},{i % 5},b" for i in range(20)]
        rows += [f"{i},{i},c" for i in range(rare)]
        (tmp_path / f"{name}.csv").write_text("u,v,y\n" + "\n".join(rows) + "\n")
    monkeypatch.chdir(tmp_path)
    try:
        status = main(["compare", "--no-progress", *(a.format(**paths) for a in args)])
    except SystemExit as exc:  # argparse's own refusals
        status = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and message.format(**paths) in err[0]
    assert not (tmp_path / "tensorgraph-results" / "results.json").exists()


def test_the_scheduler_needs_dask(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    status = main(["compare", "--models", "gd", *TINY, "--no-progress", "--scheduler",
                   "tcp://127.0.0.1:8786", "--out", str(tmp_path)])
    assert status == 2
    assert 'needs Dask distributed: pip install "dask>=2024.1"' in capsys.readouterr().err


@pytest.mark.parametrize("args", [("gradcheck", "--op", "exp"), ("compare", "--models", "gd",
                                                                  *TINY, "--no-progress")])
def test_a_reader_that_goes_away_ends_the_command_quietly(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    # `tensorgraph ... | true`: the pipe is closed before anything is written.
    process = subprocess.Popen([sys.executable, "-m", "tensorgraph", *args], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=180) == 141
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr


def test_gradcheck_without_hypothesis_says_how_to_install_it() -> None:
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "from tensorgraph.cli import main\n"
            "sys.exit(main(['gradcheck', '--op', 'exp']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=ENV, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "tensorgraph gradcheck: error: the op registry's checks need hypothesis, which is not "
        'installed: pip install "hypothesis>=6.90" (or, in the tensorgraph checkout, '
        'pip install ".[testing]")'
    )



def _alive_in_group(group: int) -> list[str]:
    # The processes of the process group still running (zombies, dead but not yet reaped
    # by init, do not count), with their command lines.
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[2]) == group:
                with open(f"/proc/{entry}/cmdline") as handle:
                    alive.append(handle.read().replace("\0", " "))
        except OSError:
            continue
    return alive


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_two_interrupts_end_the_study_promptly_with_130_and_no_processes(
    tmp_path: Path, jobs: str
) -> None:
    import signal
    import time

    # Enough work that the fits are still running when Ctrl-C (twice) arrives; without
    # threadpoolctl --jobs 1 runs in a spawned worker, the case of the report.
    code = ("import sys\n"
            + ("sys.modules['threadpoolctl'] = None\n" if jobs == "1" else "")
            + "from tensorgraph.cli import main\nsys.exit(main(sys.argv[1:]))")
    process = subprocess.Popen(
        [sys.executable, "-c", code, "compare", "--models", "gd", "adam", "--folds", "2",
         "--repeats", "1", "--epochs", "5000", "--patience", "5000", "--hidden", "8",
         "--jobs", jobs, "--out", str(tmp_path / "out")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
        start_new_session=True)
    assert process.stderr is not None
    assert "fits (2 models" in process.stderr.readline()  # the fits have been handed out
    time.sleep(1.5)  # the workers are up and training
    os.killpg(process.pid, signal.SIGINT)
    time.sleep(0.3)
    os.killpg(process.pid, signal.SIGINT)
    started = time.monotonic()
    try:
        status = process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        pytest.fail("the study did not end within 10 s of two interrupts")
    stderr = process.stderr.read()
    assert status == 130, stderr
    assert time.monotonic() - started < 10
    assert "tensorgraph: interrupted" in stderr and "Traceback" not in stderr
    deadline = time.monotonic() + 5
    while _alive_in_group(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _alive_in_group(process.pid) == []


def test_overrides_are_in_the_header_the_labels_and_results_json(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("compare", "--models", "gd", "adam_l2", "--l2", "0", "--dropout", "0",
                 "--lr", "0.01", *TINY, "--no-progress", "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[2] == ("overrides: lr=0.01, l2=0, dropout=0 applied to every model (a label "
                        "in [...] names the values that changed)")
    # adam_l2 did not run with L2: its label says so; gd's l2 and dropout were 0 already.
    assert any(line.startswith("Adam + L2 [lr=0.01, l2=0]") for line in lines)
    assert any(line.startswith("full-batch gradient descent [lr=0.01]") for line in lines)
    document = json.loads((out / "results.json").read_text())
    assert document["overrides"] == {"lr": 0.01, "l2": 0.0, "dropout": 0.0}
    assert [m["label"] for m in document["models"]] == [
        "full-batch gradient descent [lr=0.01]", "Adam + L2 [lr=0.01, l2=0]"]
    plain = run("compare", "--models", "gd", *TINY, "--no-progress", "--out", str(out))
    assert "overrides:" not in plain.stdout
    assert json.loads((out / "results.json").read_text())["overrides"] == {}


def test_the_results_are_written_before_the_table_is_formatted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tensorgraph import study

    def broken(result: object) -> str:
        raise AttributeError("'list' object has no attribute 'ljust'")

    monkeypatch.setattr(study, "format_study_table", broken)
    status = main(["compare", "--models", "gd", *TINY, "--no-progress", "--out",
                   str(tmp_path)])
    assert status == 1
    assert len(json.loads((tmp_path / "results.json").read_text())["fits"]) == 2
    err = capsys.readouterr().err
    assert "could not format the table (AttributeError" in err and "results.json" in err


def test_help_shows_percent_signs_once(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    text = capsys.readouterr().out
    assert "95% interval" in " ".join(text.split()) and "%%" not in text


def test_jobs_are_capped_at_the_fits_and_more_than_the_cores_warns(tmp_path: Path) -> None:
    from tensorgraph.study import default_jobs

    many = str(default_jobs() + 5)
    result = run("compare", "--models", "gd", *TINY[:-2], "--jobs", many, "--out",
                 str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == (f"tensorgraph compare: warning: --jobs {many} is more than the "
                        f"{default_jobs()} core(s) this process may use; the workers will "
                        f"share them")
    assert lines[1] == "2 fits (1 models x 2 resamplings) in 2 worker processes"


def test_jobs_1_says_where_the_fits_really_run(tmp_path: Path) -> None:
    # Without threadpoolctl this process cannot pin its BLAS: one spawned worker runs them.
    code = ("import sys; sys.modules['threadpoolctl'] = None\n"
            "from tensorgraph.cli import main\nsys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", code, "compare", "--models", "gd", *TINY,
                             "--out", str(tmp_path)], capture_output=True, text=True,
                            env=ENV, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "2 fits (1 models x 2 resamplings) in 1 worker process\n" in result.stderr
