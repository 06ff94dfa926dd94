"""The ``tensorgraph`` command (also ``python -m tensorgraph``).

Sub-commands:

* ``compare``: train the study's models on repeated cross-validation folds and say, with
  intervals and paired tests, which of them differ from the baseline;
* ``train``: train one model of the series and optionally save it (architecture included);
* ``predict``: load a saved model and predict the classes of the rows of a CSV file;
* ``gradcheck``: check every registered op's derivatives on this installation.

Exit status: 0 on success, 1 when ``gradcheck`` finds a failure or a ``compare`` fit failed, 2
for a bad argument or a bad file (with a one-line message on stderr, never a traceback), 141
when the reader of the output went away (``tensorgraph gradcheck | head``), quietly.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib.util
import io
import itertools
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

__all__ = ["main"]

BUILTIN = ("breast_cancer", "digits")
EXIT_FAILED, EXIT_USAGE = 1, 2


class UsageError(Exception):
    """A bad argument or a bad file: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the whole usage block; one line that names the command is enough.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# --------------------------------------------------------------------------- argument types
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))  # "3,,2" is not 3,2: refused
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive layer widths such as 64,32, got {text!r}"
        )
    return sizes


_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";"}


def _delimiter(text: str) -> str:
    value = _DELIMITER_NAMES.get(text.lower(), text)
    if len(value) != 1 or value in '"\r\n':
        raise argparse.ArgumentTypeError(
            f"expected one character such as , ; or tab (\\t), got {text!r}"
        )
    return value


def _add_csv_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--delimiter",
        type=_delimiter,
        metavar="CHAR",
        help="the field separator of a CSV file: , ; tab or another character "
        "(default: sniffed among comma, semicolon and tab)",
    )
    parser.add_argument(
        "--header",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="whether the first line of a CSV file holds column names "
        "(default: detected; a first line of numbers only is data)",
    )


def _add_data_options(parser: argparse.ArgumentParser, epochs: int) -> None:
    parser.add_argument(
        "--data",
        default="breast_cancer",
        metavar="NAME|PATH.csv",
        help="breast_cancer (default), digits, or a CSV file of your own",
    )
    parser.add_argument(
        "--target",
        metavar="COL",
        help="the label column of a CSV file: a header name or a 0-based "
        "index (default: the last column)",
    )
    parser.add_argument(
        "--epochs",
        type=_positive_int,
        default=epochs,
        help=f"maximum epochs per model (default {epochs})",
    )
    parser.add_argument(
        "--batch-size",
        type=_positive_int,
        default=64,
        help="mini-batch size (default 64; full-batch GD uses the whole set)",
    )
    parser.add_argument(
        "--seed",
        type=_non_negative_int,
        default=0,
        help="seed of the split, the initialisation, dropout and shuffling",
    )
    parser.add_argument(
        "--hidden",
        type=_hidden,
        default=(64, 32),
        metavar="W1,W2,...",
        help="hidden layer widths (default 64,32)",
    )
    parser.add_argument(
        "--patience",
        type=_non_negative_int,
        default=20,
        help="early stopping patience on the validation loss, restoring the "
        "best weights (default 20; 0 turns it off)",
    )
    parser.add_argument("--no-progress", action="store_true", help="print no progress")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``tensorgraph`` command."""
    import tensorgraph

    from .study import CATALOGUE, SERIES

    version = getattr(tensorgraph, "__version__", "(unknown version)")

    names = ", ".join(spec.name for spec in CATALOGUE)
    series = ", ".join(spec.name for spec in SERIES)
    parser = _Parser(prog="tensorgraph", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"tensorgraph {version}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    compare = commands.add_parser(
        "compare",
        help="compare the models over repeated cross-validation",
        description="Train the study's models on every fold of repeated stratified k-fold "
        "cross-validation and compare each with a baseline: mean test accuracy with its "
        "95% interval, the paired difference, its p-value (corrected resampled t-test) "
        "and a verdict.",
    )
    _add_data_options(compare, epochs=200)
    # None: not given on the command line, so a study file's value (or the default) applies.
    compare.set_defaults(epochs=None, batch_size=None, hidden=None, patience=None, seed=None)
    compare.add_argument(
        "--models", nargs="+", metavar="NAME",
        help=f"the models, space-separated (default the series: {series}); any of: {names}",
    )
    compare.add_argument(
        "--study", metavar="FILE.toml", help="a study file: the models, their hyper-parameters "
        "and the study's settings (see docs/study.md); flags win over the file"
    )
    compare.add_argument(
        "--folds", type=_positive_int, metavar="K", help="k of the stratified k-fold "
        "cross-validation (default 5)"
    )
    compare.add_argument(
        "--repeats", type=_positive_int, metavar="R", help="repeats of the cross-validation, "
        "each with new folds (default 2)"
    )
    compare.add_argument(
        "--seeds", type=_positive_int, metavar="N", help="instead of k-fold: N random "
        "stratified splits (20%% test)"
    )
    compare.add_argument(
        "--baseline", metavar="NAME", help="the model the others are compared with "
        "(default gd, full-batch gradient descent)"
    )
    compare.add_argument("--lr", type=_positive_float, help="learning rate of every model")
    compare.add_argument("--l2", type=_non_negative_float, metavar="LAMBDA",
                         help="L2 lambda of every model (0: none)")
    compare.add_argument("--dropout", type=_probability, metavar="P",
                         help="dropout rate of every model, in [0, 1)")
    compare.add_argument(
        "--jobs", type=_positive_int, metavar="N", help="worker processes (default: the "
        "number of cores; 1 runs in this process); the results do not depend on it"
    )
    compare.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="run the fits on this Dask "
        "distributed scheduler (pip install tensorgraph[distributed])"
    )
    compare.add_argument(
        "--out",
        default="tensorgraph-results",
        metavar="DIR",
        help="directory for results.json, results.csv and curves.png "
        "(default ./tensorgraph-results)",
    )

    train = commands.add_parser(
        "train",
        help="train one model of the series",
        description="Train one model of the series and report its "
        "accuracy; --save writes it with its architecture.",
    )
    _add_data_options(train, epochs=200)
    train.add_argument(
        "--model",
        default="adam_bn",
        metavar="NAME",
        help=f"the configuration (default adam_bn): {names}",
    )
    train.add_argument("--save", metavar="PATH", help="save the trained model (.npz)")
    train.add_argument(
        "--export", metavar="PATH.onnx", help="also write the trained model as ONNX, with "
        "the feature scaling in front and class probabilities out (needs the onnx package: "
        'pip install "tensorgraph[onnx]")'
    )
    _add_csv_options(train)

    predict = commands.add_parser(
        "predict",
        help="predict with a saved model",
        description="Predict the class of every row of a CSV file "
        "(with or without its label column) with a model saved by "
        "'tensorgraph train --save'; prints CSV.",
    )
    predict.add_argument("--model", required=True, metavar="PATH", help="the saved model")
    predict.add_argument(
        "--data",
        required=True,
        metavar="PATH.csv",
        help="the rows to classify (or breast_cancer / digits)",
    )
    _add_csv_options(predict)
    predict.add_argument("--out", metavar="PATH", help="write the CSV there instead of stdout")

    gradcheck = commands.add_parser(
        "gradcheck",
        help="check every op's derivatives",
        description="Check the derivatives of the registered ops "
        "against finite differences; exit 1 on any failure.",
    )
    gradcheck.add_argument(
        "--op", action="append", metavar="NAME", help="check only this op (repeatable)"
    )
    gradcheck.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    gradcheck.add_argument("--seed", type=_non_negative_int, default=0)
    gradcheck.add_argument(
        "--trials", type=_positive_int, default=3, help="random cases per op (default 3)"
    )
    return parser


# --------------------------------------------------------------------------- data
def _load_data(
    source: str,
    target: str | None,
    *,
    header: bool | None = None,
    delimiter: str | None = None,
) -> Any:
    from .data import load_breast_cancer, load_csv, load_digits

    if source in BUILTIN:
        if target is not None:
            raise UsageError(f"--target applies to CSV files, not to the built-in {source}")
        return load_breast_cancer() if source == "breast_cancer" else load_digits()
    path = Path(source)
    if not path.is_file():
        raise UsageError(
            f"--data: no such file: {source} (built-in data sets: {', '.join(BUILTIN)})"
        )
    column: int | str = -1
    if target is not None:
        column = int(target) if target.lstrip("-").isdigit() else target
    return load_csv(path, target=column, header=header, delimiter=delimiter)


def _source_columns(args: argparse.Namespace, bunch: Any) -> dict[str, Any]:
    """What ``predict`` needs to know of the training file's columns: whether the feature
    names are the file's own (not ``x0, x1, ...`` made up for a file without a header) and
    the position of the label column among all columns."""
    from .data import inspect_csv

    if args.data in BUILTIN:
        return {"named_features": True, "target_index": None}
    column = str(bunch.target_column)
    match = re.fullmatch(r"column ([0-9]+)", column)
    if match is not None:  # load_csv's name for the label column of a file without a header
        index = int(match.group(1)) - 1
        made_up = [f"x{k}" for k in range(len(bunch.feature_names) + 1) if k != index]
        if list(bunch.feature_names) == made_up:
            return {"named_features": False, "target_index": index}
    _, names = inspect_csv(args.data, header=True, delimiter=args.delimiter)
    return {"named_features": True, "target_index": (names or []).index(column)}


def _tqdm_available() -> bool:
    return importlib.util.find_spec("tqdm") is not None


# --------------------------------------------------------------------------- compare
def _number(text: str, ok: Callable[[float], bool], expected: str) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and ok(value)):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    return _number(text, lambda v: v > 0, "a positive number")


def _non_negative_float(text: str) -> float:
    return _number(text, lambda v: v >= 0, "a number >= 0")


def _probability(text: str) -> float:
    return _number(text, lambda v: 0 <= v < 1, "a number in [0, 1)")


def _config(args: argparse.Namespace, progress: bool) -> Any:
    from .study import StudyConfig

    return StudyConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        hidden=args.hidden,
        seed=args.seed,
        patience=args.patience,
        progress=progress,
    )


def _describe(split: Any) -> str:
    return (
        f"{split.name}: {len(split.y_train)} train / {len(split.y_val)} validation / "
        f"{len(split.y_test)} test samples, {split.n_features} features, "
        f"{split.n_classes} classes"
    )


# --------------------------------------------------------------------------- commands
def _study_settings(args: argparse.Namespace, from_file: dict[str, Any]) -> Any:
    """The study's settings: a flag given on the command line wins over the study file,
    which wins over the defaults."""
    from .study import StudySettings

    given = {key: getattr(args, key) for key in ("epochs", "batch_size", "hidden", "patience",
                                                  "seed", "folds", "repeats", "seeds",
                                                  "baseline")}
    given = {key: value for key, value in given.items() if value is not None}
    if "seeds" in given and ("folds" in given or "repeats" in given):
        raise UsageError("--seeds (random splits) and --folds/--repeats (k-fold) exclude "
                         "each other")
    merged = {**from_file, **given}
    if "folds" in given or "repeats" in given:
        merged.pop("seeds", None)  # the command line asked for k-fold
    if merged.get("seeds") == 1:
        raise UsageError("--seeds: a comparison needs at least 2 random splits")
    if merged.get("folds") == 1:
        raise UsageError("--folds: k-fold cross-validation needs at least 2 folds")
    return StudySettings(**merged)


def _check_out(out: str) -> Path:
    """Make sure the results can be written before any training starts."""
    import tempfile

    directory = Path(out)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--out: {out} exists and is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise UsageError(f"--out: cannot write to {out}: {exc.strerror or exc}") from None
    for name in ("results.json", "results.csv", "curves.png"):
        if (directory / name).is_dir():
            raise UsageError(f"--out: {directory / name} is a directory; cannot write it")
    return directory


def _compare(args: argparse.Namespace) -> int:
    from . import study

    study_file = study.load_study_file(args.study) if args.study else None
    series = study_file.models if study_file and study_file.models else None  # the catalogue
    overrides = {key: value for key, value in (("lr", args.lr), ("l2", args.l2),
                                                ("dropout", args.dropout)) if value is not None}
    specs = study.with_overrides(study.select(args.models, series), **overrides)
    settings = _study_settings(args, study_file.settings if study_file else {})
    study.resolve_baseline(specs, settings.baseline)
    bunch = _load_data(args.data, args.target)
    tasks = study.plan(bunch, specs, settings)  # refuses folds the data cannot give
    out = _check_out(args.out)
    cores = study.default_jobs()
    jobs = args.jobs or cores
    if args.jobs and args.jobs > cores and not args.scheduler:
        print(f"tensorgraph compare: warning: --jobs {args.jobs} is more than the {cores} "
              f"core(s) this process may use; the workers will share them",
              file=sys.stderr, flush=True)
    workers = study.worker_processes(jobs, len(tasks))
    where = (f"the Dask scheduler at {args.scheduler}" if args.scheduler
             else "this process" if workers == 0
             else "1 worker process" if workers == 1
             else f"{workers} worker processes")
    show = not args.no_progress
    if show:
        print(f"{len(tasks)} fits ({len(specs)} models x {len(tasks) // len(specs)} "
              f"resamplings) in {where}", file=sys.stderr, flush=True)
    progress = study.FitProgress(len(tasks), enabled=show)
    try:
        result = study.run_study(
            bunch, specs, settings, jobs=jobs, scheduler=args.scheduler, on_done=progress,
            study_file=study_file.record() if study_file else None, overrides=overrides,
        )
    finally:
        progress.close()
    # The results first: nothing after the fits may lose them.
    written = study.write_study_results(result, out)
    try:
        table = study.format_study_table(result)
    except Exception as exc:  # a bug in the table must not hide the written results
        print(f"tensorgraph compare: error: could not format the table "
              f"({type(exc).__name__}: {exc}); the results are in {written[0]}",
              file=sys.stderr)
        return EXIT_FAILED
    print(table, flush=True)
    try:
        written.append(study.plot_study(result, out / "curves.png"))
        note = ""
    except ImportError as exc:
        note = f"; no PNG: {exc}"
    print(f"wrote {', '.join(str(p) for p in written)}{note}", flush=True)
    if result.failed:
        print(f"tensorgraph compare: {len(result.failed)} of {len(result.records)} fits failed; "
              f"their errors are in {written[0]}", file=sys.stderr)
        return EXIT_FAILED
    return 0


MAX_PARAMETERS = 2**31


def _check_model_size(n_features: int, hidden: Sequence[int], n_classes: int) -> None:
    """Refuse, before allocating anything, a model too large to build (--hidden 10**8,10**8
    would need 8 * 10**16 bytes): one line, not a MemoryError traceback."""
    sizes = [n_features, *hidden, n_classes]
    count = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    if count > MAX_PARAMETERS:
        raise UsageError(
            f"--hidden {','.join(map(str, hidden))}: the model would have {count:.3g} "
            f"parameters ({n_features} features, {n_classes} classes); at most "
            f"{MAX_PARAMETERS:.3g} are allowed"
        )


def _check_output_file(path_given: str | None, option: str, example: str) -> None:
    """Make sure a file can be written at ``path_given`` before any training starts."""
    if path_given is None:
        return
    import os

    path = Path(path_given)
    if path.is_dir():
        raise UsageError(f"{option}: {path_given} is a directory; give a file name such as "
                         f"{example}")
    directory = path.parent
    if not directory.is_dir():
        raise UsageError(f"{option}: no such directory: {directory}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"{option}: cannot write to the directory {directory}")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{option}: cannot overwrite {path_given} (no permission)")


def _check_export(export: str | None) -> None:
    """``--export`` needs the onnx package and a writable path; both checked up front."""
    if export is None:
        return
    _check_output_file(export, "--export", "model.onnx")
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise UsageError('--export needs the onnx package: pip install "tensorgraph[onnx]"'
                         ) from None


def _export_onnx(path: str, model: Any, split: Any, metadata: dict[str, Any]) -> None:
    """Write ``model`` with its scaler in front and class probabilities behind: the file
    takes raw feature columns (input ``features``) and gives ``probabilities``."""
    import json

    from .nn import Sequential
    from .onnx import ClassProbabilities, Standardize, export

    dtype = next(iter(model.parameters())).dtype
    pipeline = Sequential(Standardize(split.scaler.mean_, split.scaler.scale_, dtype), model,
                          ClassProbabilities())
    export(pipeline, np.zeros((1, split.n_features), dtype), path,
           input_names=["features"], output_names=["probabilities"],
           metadata={key: json.dumps(metadata[key]) for key in
                     ("class_names", "feature_names", "dataset", "target_column")
                     if key in metadata})


def _train(args: argparse.Namespace) -> int:
    from . import study
    from .serialization import save_model

    (spec,) = study.select([args.model])
    _check_output_file(args.save, "--save", "model.npz")
    _check_export(args.export)
    if args.save and args.export and Path(args.save).resolve() == Path(args.export).resolve():
        raise UsageError(f"--save and --export name the same file ({args.save}); the .npz "
                         "and the .onnx file need one name each")
    bunch = _load_data(args.data, args.target, header=args.header, delimiter=args.delimiter)
    split = study.prepare(bunch, seed=args.seed)
    _check_model_size(split.n_features, args.hidden, split.n_classes)
    print(f"{_describe(split)}; model {spec.label}; seed {args.seed}", flush=True)
    try:
        run = study.train_one(spec, split, _config(args, progress=not args.no_progress))
    except MemoryError:
        raise UsageError(
            f"--hidden {','.join(map(str, args.hidden))}: not enough memory to train this model"
        ) from None
    print(study.format_table([run]))
    if args.save or args.export:
        metadata = {
            "dataset": split.name,
            "feature_names": list(split.feature_names),
            "class_names": list(split.class_names),
            "target_column": split.target_column,
            **_source_columns(args, bunch),
            "scaler": split.scaler.state_dict(),
            "spec": asdict(run.spec),
            "test_accuracy": run.test_accuracy,
            "seed": args.seed,
        }
    if args.save:
        save_model(run.model, args.save, metadata=metadata)
        print(f"saved {args.save}")
    if args.export:
        _export_onnx(args.export, run.model, split, metadata)
        print(f"exported {args.export} (ONNX: input 'features', output 'probabilities')")
    return 0


def _names_the_model(first: list[str], features: list[str]) -> bool:
    """Whether a file's first line is a header naming (some of) the model's features."""
    from .data._csv_text import is_number

    cells = set(first)
    if not features or not cells & set(features):
        return False
    return set(features) <= cells or not any(is_number(c) for c in first)


def _prediction_features(
    args: argparse.Namespace, meta: dict[str, Any], n_features: int
) -> np.ndarray:
    """The rows of ``args.data`` as the model's features, in the model's order: matched by
    header name when the file and the model both have names, else by position."""
    from .data import inspect_csv, load_csv
    from .data._csv_columns import made_up_names, match_columns
    from .data.csv import first_row

    features = [str(n) for n in meta.get("feature_names") or ()]
    label = meta.get("target_column")
    named = bool(meta.get("named_features", not made_up_names(features)))
    named = named and len(features) == n_features
    if args.data in BUILTIN:
        return np.asarray(_load_data(args.data, None).data)
    path = Path(args.data)
    if not path.is_file():
        raise UsageError(f"--data: no such file: {args.data}")
    header, delimiter = args.header, args.delimiter
    first = first_row(path, delimiter=delimiter)
    names: list[str] | None
    if header is not False and _names_the_model(first, features):
        # The first line names the model's features (in any order, some missing or extra):
        # a header, even of numbers ("1990,1991"), matched by name, also for a model trained
        # without a header (x0, x1, ...); match_columns refuses what cannot be matched.
        n_columns, names, header, named = len(first), first, True, True
    else:
        n_columns, names = inspect_csv(path, header=header, delimiter=delimiter)
    if names is not None and named:
        positions = match_columns(str(path), names, features, label)
        column: int | str | None = label if label in names else None
        bunch = load_csv(path, target=column, header=True, delimiter=delimiter, parse_target=False)
        kept = [j for j, name in enumerate(names) if name != column]
        order = [kept.index(j) for j in positions]
        return np.asarray(bunch.data)[:, order]
    if n_columns == n_features:
        return np.asarray(load_csv(path, target=None, header=header, delimiter=delimiter).data)
    if n_columns == n_features + 1:
        # The label column is still there: dropped unread, where training found it.
        index = meta.get("target_index")
        column = label if names and label in names else (-1 if index is None else int(index))
        bunch = load_csv(
            path, target=column, header=header, delimiter=delimiter, parse_target=False
        )
        return np.asarray(bunch.data)
    raise UsageError(
        f"{path}: {n_columns} columns, but the model takes {n_features} features "
        f"({n_features + 1} with the label column)"
    )


def _predict(args: argparse.Namespace) -> int:
    from .data import StandardScaler
    from .serialization import load_metadata, load_model
    from .study import cnn  # noqa: F401  (registers the study's CNN for load_model)
    from .training import predict

    model = load_model(args.model)
    meta = load_metadata(args.model)
    if "scaler" not in meta or "class_names" not in meta:
        raise UsageError(f"{args.model}: not a model saved by 'tensorgraph train --save'")
    scaler = StandardScaler()
    scaler.load_state_dict(meta["scaler"])
    classes = [str(name) for name in meta["class_names"]]
    dtype = next(iter(model.parameters())).dtype
    n_features = int(scaler.mean_.shape[0])
    outputs = int(predict(model, np.zeros((1, n_features), dtype=dtype)).shape[1])
    if (outputs == 1 and len(classes) != 2) or (outputs > 1 and outputs != len(classes)):
        expected = "2 classes (one sigmoid output)" if outputs == 1 else f"{outputs} classes"
        raise UsageError(
            f"{args.model}: the model has {outputs} output{'s' * (outputs > 1)}, for "
            f"{expected}, but the file names {len(classes)} classes"
            + (f" ({', '.join(classes)})" if classes else "")
        )
    X = _prediction_features(args, meta, n_features)
    # Inputs far outside the training range overflow (in float32 first): the warnings are
    # replaced by the check below, which names the rows.
    with np.errstate(all="ignore"):
        logits = np.asarray(predict(model, scaler.transform(X).astype(dtype)), np.float64)
        bad = np.flatnonzero(~np.isfinite(logits).all(axis=1))
        if bad.size:
            listed = ", ".join(str(i + 1) for i in bad[:10]) + (", ..." if bad.size > 10 else "")
            raise UsageError(
                f"{args.data}: row{'s' * (bad.size > 1)} {listed}: the model's output is not "
                f"finite (inputs too large for {np.dtype(dtype)}?); {bad.size} of {len(X)} "
                "rows, no predictions written"
            )
        if logits.shape[1] == 1:
            positive = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            probabilities = np.stack([1.0 - positive, positive], axis=1)
        else:
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            probabilities = shifted / shifted.sum(axis=1, keepdims=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["row", "prediction", *(f"p_{name}" for name in classes)])
    for row, p in enumerate(probabilities):
        writer.writerow([row + 1, classes[int(p.argmax())], *(f"{v:.6f}" for v in p)])
    if args.out:
        Path(args.out).write_text(buffer.getvalue(), encoding="utf-8")
        print(f"wrote {len(probabilities)} predictions to {args.out}")
    else:
        sys.stdout.write(buffer.getvalue())
    return 0


def _gradcheck(args: argparse.Namespace) -> int:
    from .testing.registry_check import check_registry, load_all_ops

    try:
        known = load_all_ops()
    except ImportError as exc:
        if "hypothesis" not in str(exc):
            raise
        raise UsageError(
            "the op registry's checks need hypothesis, which is not installed: "
            'pip install "hypothesis>=6.90" (or, in the tensorgraph checkout, '
            'pip install ".[testing]")'
        ) from None
    unknown = [name for name in args.op or () if name not in known]
    if unknown:
        raise UsageError(
            f"--op: no registered op named {unknown[0]!r}; known: {', '.join(sorted(known))}"
        )
    with contextlib.ExitStack() as stack:
        if args.dtype != "float64":
            import warnings

            stack.enter_context(warnings.catch_warnings())
            warnings.simplefilter("ignore")
            print(
                f"note: {args.dtype} checks use loose tolerances; float64 is the real check",
                file=sys.stderr,
            )
        results = check_registry(args.op, dtype=args.dtype, seed=args.seed, trials=args.trials)
    width = max([len("op"), *(len(r.name) for r in results)])
    print(f"{'op'.ljust(width)}  {'worst error':>11}  {'tolerance':>9}  result")
    for r in results:
        verdict = "pass" if r.passed else f"FAIL  {r.message}".rstrip()
        print(f"{r.name.ljust(width)}  {r.worst_error:11.2e}  {r.tolerance:9.1e}  {verdict}")
    failed = [r.name for r in results if not r.passed]
    print(
        f"{len(results) - len(failed)} of {len(results)} ops pass"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return EXIT_FAILED if failed else 0


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "compare": _compare,
    "train": _train,
    "predict": _predict,
    "gradcheck": _gradcheck,
}


EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a writer killed by SIGPIPE


def _reader_gone() -> int:
    """The reader of stdout went away (``tensorgraph gradcheck | head``): stop quietly.

    Later writes, and the interpreter's final flush of stdout, would raise again; point
    stdout at /dev/null so that they do not (as the Python documentation recommends).
    """
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (captured): nothing to do
        pass
    return EXIT_BROKEN_PIPE


@contextlib.contextmanager
def _one_interrupt() -> Iterator[None]:
    """The first Ctrl-C interrupts the command; later ones are ignored while it stops (a
    second Ctrl-C during the cleanup used to abandon it and hang)."""
    import signal
    import threading

    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield  # not ours to change: a thread, or a caller with its own handler
        return

    def interrupt(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_usage(sys.stderr)
        print(
            "tensorgraph: error: give a command: compare, train, predict or gradcheck",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from .errors import TensorGraphError

    try:
        with _one_interrupt():
            return _COMMANDS[args.command](args)
    except BrokenPipeError:
        return _reader_gone()
    except KeyboardInterrupt:
        print("tensorgraph: interrupted", file=sys.stderr)
        return 130
    except (
        UsageError,
        TensorGraphError,
        OSError,
        ValueError,
        TypeError,
        KeyError,
        ImportError,
    ) as exc:
        message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        message = " ".join(message.split())  # one line, even for multi-line messages
        print(f"tensorgraph {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
