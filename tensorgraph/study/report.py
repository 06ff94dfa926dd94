"""What a study shows: the printed table, ``results.json`` / ``results.csv`` and the picture."""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import subprocess
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from .compare import ModelSummary, StudyResult
from .models import describe_overrides
from .stats import FEW_FITS, Estimate

__all__ = ["code_versions", "format_study_table", "plot_study", "write_study_results"]

CSV_FIELDS = ("fit", "model", "repeat", "fold", "seed", "n_train", "n_validation", "n_test",
              "epochs", "train_accuracy", "val_accuracy", "test_accuracy", "test_cost",
              "final_cost", "seconds", "error")


def _pm(estimate: Estimate, scale: float, digits: int, unit: str = "") -> str:
    if math.isnan(estimate.mean):
        return "-"
    mean = f"{scale * estimate.mean:.{digits}f}{unit}"
    if math.isnan(estimate.half_width):
        return mean
    return f"{mean} ± {scale * estimate.half_width:.{digits}f}"


def _points(fraction: float) -> str:
    # Rounded first, so that a difference of -1e-17 prints as +0.00, not -0.00.
    return f"{round(100 * fraction, 2) + 0.0:+.2f}"


def _versus(summary: ModelSummary) -> tuple[str, str, str]:
    test = summary.versus_baseline
    if test is None:
        return "(baseline)", "", ""
    if math.isnan(test.low):
        difference = "-" if math.isnan(test.mean_difference) else _points(
            test.mean_difference)
        return difference, "-", test.verdict
    difference = (f"{_points(test.mean_difference)} "
                  f"[{_points(test.low)}, {_points(test.high)}]")
    verdict = test.verdict
    if test.n < FEW_FITS:
        verdict += f" (few fits: {test.n})"
    return difference, f"{test.p_value:.3f}", verdict


def format_study_table(result: StudyResult) -> str:
    """The summary table: per model the test accuracy and test cost (mean ± half-width of
    the interval), seconds per fit, and the paired difference in test accuracy against the
    baseline (percentage points, with its interval), its p-value and the verdict."""
    settings = result.settings
    per_model = len(result.records) // max(len(result.specs), 1)
    first = result.records[0] if result.records else None
    sizes = (f" (train {first['n_train']} / validation {first['n_validation']} / test "
             f"{first['n_test']} samples)" if first else "")
    baseline = next(s.label for s in result.specs if s.name == result.baseline)
    level = f"{100 * settings.confidence:g}%"
    header = [
        f"{result.dataset}: {result.n_samples} samples, {result.n_features} features, "
        f"{len(result.class_names)} classes; {settings.describe()}, seed {settings.seed}: "
        f"{per_model} fits per model{sizes}",
        f"mean ± half-width of the {level} interval; difference in test accuracy (points) "
        f"against {baseline}, corrected resampled t-test",
    ]
    if result.overrides:
        header.append(f"overrides: {describe_overrides(result.overrides)} applied to every "
                      f"model (a label in [...] names the values that changed)")
    columns = ["model", "test accuracy", "test cost", "epochs", "seconds",
               f"vs {result.baseline} [{level} interval]", "p", "verdict"]
    rows = []
    for s in result.summaries:
        difference, p, verdict = _versus(s)
        if s.failed:
            verdict = f"{verdict}; {s.failed} failed".lstrip("; ")
        rows.append([s.label, _pm(s.accuracy, 100, 2, "%"), _pm(s.cost, 1, 3),
                     "-" if math.isnan(s.epochs) else f"{s.epochs:.0f}",
                     _pm(s.seconds, 1, 1), difference, p, verdict])
    widths = [max(len(row[i]) for row in [columns, *rows]) for i in range(len(columns))]
    lines = []
    for k, row in enumerate([columns, *rows]):
        cells = [row[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(row[1:-1], widths[1:-1], strict=True)]
        cells.append(row[-1])
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    if result.failed:
        first_error = result.failed[0]
        lines.append(f"{len(result.failed)} fit(s) failed; the first: {first_error['model']} "
                     f"repeat {first_error['repeat']} fold {first_error['fold']} (numbered "
                     f"from 0, as in results.json): {first_error['error']}")
    return "\n".join([*header, *lines])


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                              text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def code_versions() -> dict[str, Any]:
    """The versions of the code that ran a study: Python, numpy, tensorgraph (and its git
    commit when it runs from a checkout), SciPy when installed."""
    import tensorgraph

    versions: dict[str, Any] = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "tensorgraph": getattr(tensorgraph, "__version__", None),
        "tensorgraph_git_commit": _git_commit(),
    }
    try:
        import scipy
    except ImportError:
        versions["scipy"] = None
    else:
        versions["scipy"] = scipy.__version__
    return versions


def _estimate(e: Estimate) -> dict[str, Any]:
    return {"mean": e.mean, "std": e.std, "low": e.low, "high": e.high, "n": e.n}


def study_document(result: StudyResult) -> dict[str, Any]:
    """``results.json``'s content: versions, settings, study file, models, the analysis
    and every fit's record with its curves."""
    settings = {**asdict(result.settings), "hidden": list(result.settings.hidden)}
    return {
        "versions": code_versions(),
        "dataset": {"name": result.dataset, "samples": result.n_samples,
                    "features": result.n_features, "classes": list(result.class_names)},
        "settings": settings,
        "study_file": result.study_file,
        "overrides": result.overrides,
        "baseline": result.baseline,
        "models": [asdict(spec) for spec in result.specs],
        "summary": [
            {"model": s.name, "label": s.label, "test_accuracy": _estimate(s.accuracy),
             "test_cost": _estimate(s.cost), "seconds": _estimate(s.seconds),
             "epochs": s.epochs, "failed": s.failed,
             "versus_baseline": None if s.versus_baseline is None
             else asdict(s.versus_baseline)}
            for s in result.summaries
        ],
        "fits": result.records,
    }


def write_study_results(result: StudyResult, out: str | os.PathLike[str]) -> list[Path]:
    """Write ``results.json`` (everything, every fit's curves included) and
    ``results.csv`` (one row per fit) to the directory ``out``; return their paths."""
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = directory / "results.json", directory / "results.csv"
    text = json.dumps(study_document(result), indent=1, allow_nan=True)
    json_path.write_text(text + "\n", encoding="utf-8")
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(CSV_FIELDS), extrasaction="ignore")
        writer.writeheader()
        for record in result.records:
            writer.writerow({**record, "error": record["error"] or ""})
    return [json_path, csv_path]


def _mean_band(curves: list[list[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Fits stop at different epochs: epoch e averages the fits that ran it, and the curve
    # stops where fewer than half of the fits still run (a mean of one or two fits is noise).
    length = max(len(c) for c in curves)
    table = np.full((len(curves), length), np.nan)
    for row, curve in enumerate(curves):
        table[row, : len(curve)] = curve
    counts = (~np.isnan(table)).sum(axis=0)
    keep = int(np.sum(counts >= max(1, (len(curves) + 1) // 2)))
    table, counts = table[:, :keep], counts[:keep]
    mean = np.nansum(table, axis=0) / counts
    spread = np.sqrt(np.nansum((table - mean) ** 2, axis=0) / np.maximum(counts - 1, 1))
    return np.arange(1, keep + 1), mean, spread


def plot_study(result: StudyResult, path: str | os.PathLike[str]) -> Path:
    """Each model's test accuracies over the fits (box and points, sorted by the mean)
    beside the learning curves (training cost and validation accuracy: mean over the fits
    with a band of one standard deviation, drawn while at least half of the fits train).

    Raises ImportError (naming ``pip install tensorgraph[plot]``) without matplotlib.
    """
    from ..training.history import pyplot

    plt = pyplot("the comparison plot")
    fig, (dist_ax, cost_ax, acc_ax) = plt.subplots(
        1, 3, figsize=(17, 5.5), gridspec_kw={"width_ratios": [1.2, 1, 1]})
    colours = plt.get_cmap("tab10")
    labels = {s.name: s.label for s in result.specs}
    colour = {s.name: colours(k % 10) for k, s in enumerate(result.specs)}
    ok = {s.name: [r for r in result.records if r["model"] == s.name and not r["error"]]
          for s in result.specs}
    order = sorted((s for s in result.summaries if ok[s.name]), key=lambda s: s.accuracy.mean)
    data = [[100 * r["test_accuracy"] for r in ok[s.name]] for s in order]
    if data:
        import matplotlib

        version = tuple(int(part) for part in matplotlib.__version__.split(".")[:2])
        # Matplotlib 3.10 renamed vert=False to orientation="horizontal" (3.11 warns).
        sideways: dict[str, Any] = (
            {"orientation": "horizontal"} if version >= (3, 10) else {"vert": False}
        )
        dist_ax.boxplot(data, widths=0.6, showfliers=False, showmeans=True,
                        meanprops={"marker": "^", "markerfacecolor": "black",
                                   "markeredgecolor": "black"}, **sideways)
        jitter = np.random.default_rng(0)
        for row, (summary, values) in enumerate(zip(order, data, strict=True), start=1):
            dist_ax.scatter(values, row + jitter.uniform(-0.15, 0.15, len(values)), s=12,
                            alpha=0.6, color=colour[summary.name], zorder=3)
        dist_ax.set_yticks(range(1, len(order) + 1), [labels[s.name] for s in order],
                           fontsize=8)
    dist_ax.set_xlabel("test accuracy (%): box = quartiles and median, triangle = mean")
    dist_ax.set_title(f"test accuracy over {result.settings.describe()}", fontsize=10)
    lowest = 1.0
    for spec in result.specs:
        for ax, key in ((cost_ax, "loss"), (acc_ax, "val_accuracy")):
            curves = [r["history"][key] for r in ok[spec.name] if r["history"].get(key)]
            if not curves:
                continue
            epochs, mean, spread = _mean_band(curves)
            ax.plot(epochs, mean, color=colour[spec.name], linewidth=1.2, label=spec.label)
            ax.fill_between(epochs, mean - spread, mean + spread, color=colour[spec.name],
                            alpha=0.15, linewidth=0)
            if key == "val_accuracy" and len(mean) > 3:
                lowest = min(lowest, float(mean[3:].min()))
    cost_ax.set_yscale("log")
    # The first epochs start far below where the models end; show where they differ.
    acc_ax.set_ylim(max(0.0, lowest - 0.05), 1.005)
    cost_ax.set_title("training cost (mean ± 1 sd over the fits)", fontsize=10)
    acc_ax.set_title("validation accuracy (mean ± 1 sd over the fits)", fontsize=10)
    for ax in (dist_ax, cost_ax, acc_ax):
        ax.grid(alpha=0.3)
    for ax in (cost_ax, acc_ax):
        ax.set_xlabel("epoch")
    acc_ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(f"tensorgraph compare: {result.dataset}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)
