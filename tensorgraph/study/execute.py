"""Running the fits of a study: in this process, in worker processes, or on a Dask cluster.

Every engine calls the same :func:`~tensorgraph.study.fits.run_fit` on the same tasks and
the records are put back in the tasks' order, so the results are the same whatever the
engine and the number of workers (the timings aside).

Worker processes are *spawned* (fresh interpreters, never forked from a process that may
hold threads) with ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` and
friends set to 1 in their environment, so their BLAS starts with one thread: ``N`` workers
on ``N`` cores then never fight over the cores. The data is sent to each worker once.
Dask's workers get the same variables from Dask's own default configuration
(``distributed.nanny.pre-spawn-environ``); each fit also pins BLAS with threadpoolctl when
it is installed.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import math
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

import numpy as np

from ..errors import DomainError
from .fits import FitTask, run_fit, single_blas_thread

__all__ = ["BLAS_VARIABLES", "FitProgress", "default_jobs", "expected_cost", "run_tasks",
           "worker_processes"]

#: The environment variables that set the thread count of the BLAS libraries numpy may use.
BLAS_VARIABLES = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

Record = dict[str, Any]
OnDone = Callable[[Record], None]


def default_jobs() -> int:
    """The number of cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def _blas_environment() -> Iterator[None]:
    # Spawned children copy os.environ when they start: set the variables for them only.
    saved = {name: os.environ.get(name) for name in BLAS_VARIABLES}
    os.environ.update(dict.fromkeys(BLAS_VARIABLES, "1"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_WORKER_DATA: tuple[np.ndarray, np.ndarray] | None = None


def _init_worker(X: np.ndarray, y: np.ndarray) -> None:
    global _WORKER_DATA
    # Ctrl-C reaches every process of the terminal's process group: the parent alone
    # decides what an interrupt does (it stops the workers), so the workers ignore it
    # rather than each printing a traceback or dying in the middle of a result.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # For libraries loaded after this point; numpy's BLAS read the variables at start-up.
    os.environ.update(dict.fromkeys(BLAS_VARIABLES, "1"))
    _WORKER_DATA = (X, y)


def _run_in_worker(task: FitTask) -> Record:
    assert _WORKER_DATA is not None, "the worker was started without its data"
    return run_fit(task, *_WORKER_DATA)


def _in_process(tasks: Sequence[FitTask], X: np.ndarray, y: np.ndarray,
                on_done: OnDone) -> list[Record]:
    records = []
    with single_blas_thread():
        for task in tasks:
            records.append(run_fit(task, X, y))
            on_done(records[-1])
    return records


def _failed(task: FitTask, exc: BaseException) -> Record:
    from .fits import _error_record

    return _error_record(task, exc, float("nan"))


#: Seconds a worker is given to exit after SIGTERM before it is killed.
STOP_GRACE = 1.0


@contextlib.contextmanager
def _interrupts_ignored() -> Iterator[None]:
    # A second Ctrl-C during the cleanup must not abandon it half-way (which left the
    # executor's threads waiting for workers that would never answer, forever).
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop ``pool`` now: cancel the fits not started, terminate the workers (kill those
    still alive after :data:`STOP_GRACE` seconds) and reap them."""
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    for worker in workers:
        worker.join(STOP_GRACE)
        if worker.is_alive():
            worker.kill()
            worker.join(STOP_GRACE)


def expected_cost(task: FitTask) -> float:
    """A rough relative cost of ``task``'s fit, from its spec alone, to hand out the long
    fits first (the order changes no result: a fit's seed comes from its index).

    Per epoch: a fixed cost per optimiser step (the engine's overhead dominates small
    networks) plus a cost per training row and layer width; batch-norm, dropout and the L2
    term add work to each step. Early stopping makes the real epochs unknowable, so every
    fit is assumed to run its full budget.
    """
    spec = task.spec
    rows = len(task.fold.train)
    size = rows if spec.full_batch else min(spec.batch_size or task.batch_size, rows)
    steps = math.ceil(rows / max(size, 1))
    width = sum(spec.hidden or task.hidden)
    # Calibrated on breast_cancer's default study (2-core dev machine): a step of Adam on
    # 64 rows ~0.36 ms, a full-batch step on 341 rows ~0.8 ms; batch-norm +60 %, dropout
    # +20 %, L2 +15 % per step.
    per_step = 1.0 + (0.6 if spec.batch_norm else 0.0) + (0.2 if spec.dropout else 0.0) + (
        0.15 if spec.l2 else 0.0)
    if spec.architecture == "cnn":
        # The study's CNN on digits (2-core dev machine, thread CPU time): 0.30 s per epoch
        # against 0.016 s for Adam + batch-norm, about 18 times; its convolutions dominate,
        # so the widths term (MLP layer widths) does not apply.
        return (spec.epochs or task.epochs) * steps * per_step * 18.0
    per_epoch = steps * per_step + rows * width / 25000.0
    return (spec.epochs or task.epochs) * per_epoch


def _processes(tasks: Sequence[FitTask], X: np.ndarray, y: np.ndarray, jobs: int,
               on_done: OnDone) -> list[Record]:
    context = multiprocessing.get_context("spawn")
    records: list[Record] = []
    # Workers started while SIGINT is ignored ignore it from their first instruction (an
    # ignored signal stays ignored across exec, and Python then installs no handler), so a
    # Ctrl-C during their start-up cannot print a traceback either.
    with _blas_environment(), _interrupts_ignored():
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                   initializer=_init_worker, initargs=(X, y))
        try:
            # Longest first, so that the run does not end on one long fit with the other
            # workers idle (the shortest fits fill the tail).
            order = sorted(tasks, key=expected_cost, reverse=True)
            pending: dict[Future[Record], FitTask] = {
                pool.submit(_run_in_worker, task): task for task in order
            }
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    try:
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                try:
                    record = future.result()
                except Exception as exc:  # a worker died (BrokenProcessPool): record it
                    record = _failed(task, exc)
                records.append(record)
                on_done(record)
    except BaseException:  # KeyboardInterrupt above all: stop the workers, do not wait
        with _interrupts_ignored():
            _stop(pool)
        raise
    pool.shutdown(wait=True)
    return records


def _dask(tasks: Sequence[FitTask], X: np.ndarray, y: np.ndarray, scheduler: Any,
          on_done: OnDone) -> list[Record]:
    try:
        distributed: Any = importlib.import_module("distributed")
    except ImportError:
        raise ImportError(
            "--scheduler needs Dask distributed: pip install \"dask>=2024.1\" "
            "\"distributed>=2024.1\" (from a checkout: pip install \".[distributed]\")"
        ) from None
    own = isinstance(scheduler, str)
    client = (distributed.Client(scheduler, set_as_default=False, timeout="20s") if own
              else scheduler)
    records: list[Record] = []
    try:
        data_X, data_y = client.scatter([X, y], broadcast=True)
        futures = {client.submit(run_fit, task, data_X, data_y, pure=False): task
                   for task in sorted(tasks, key=expected_cost, reverse=True)}
        for future in distributed.as_completed(list(futures), loop=client.loop):
            try:
                record = future.result()
            except Exception as exc:  # the worker running it died
                record = _failed(futures[future], exc)
            records.append(record)
            on_done(record)
    finally:
        if own:
            client.close()
    return records


def _can_pin_here() -> bool:
    return importlib.util.find_spec("threadpoolctl") is not None


def run_tasks(
    tasks: Sequence[FitTask],
    X: np.ndarray,
    y: np.ndarray,
    jobs: int = 1,
    scheduler: Any = None,
    on_done: OnDone | None = None,
) -> list[Record]:
    """Run every task and return the records in the tasks' order.

    ``scheduler`` (a Dask scheduler address such as ``"tcp://host:8786"``, or a
    ``distributed.Client``) sends the fits to that cluster; otherwise ``jobs`` > 1 runs them
    in that many spawned worker processes and ``jobs == 1`` in this process (BLAS pinned
    to one thread with threadpoolctl; without threadpoolctl, in one worker process).
    ``on_done(record)`` is called in this process as each fit finishes.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise DomainError(f"run_tasks: jobs must be a positive integer, got {jobs!r}")
    report = on_done or (lambda record: None)
    workers = worker_processes(jobs, len(tasks))
    if scheduler is not None:
        records = _dask(tasks, X, y, scheduler, report)
    elif workers == 0:
        records = _in_process(tasks, X, y, report)
    else:
        records = _processes(tasks, X, y, workers, report)
    return sorted(records, key=lambda record: int(record["fit"]))


def worker_processes(jobs: int, n_tasks: int) -> int:
    """How many worker processes :func:`run_tasks` starts for ``n_tasks`` fits and
    ``jobs``: never more than the fits; 0 means the fits run in this process (one job, or
    one fit, with threadpoolctl to pin this process's BLAS to one thread)."""
    if jobs == 1 or n_tasks <= 1:
        # Without threadpoolctl this process's BLAS cannot be pinned any more: one worker
        # process, started with one BLAS thread, runs the fits instead.
        return 0 if _can_pin_here() else 1
    return min(jobs, n_tasks)


class FitProgress:
    """Counts finished fits on stderr: a tqdm bar when tqdm is installed, else one line per
    fit. Use as ``on_done``."""

    def __init__(self, total: int, enabled: bool = True) -> None:
        self.total, self.enabled, self.done = total, enabled, 0
        self.bar: Any = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                return
            self.bar = tqdm(total=total, unit="fit", desc="fits", file=sys.stderr,
                            dynamic_ncols=True)

    def __call__(self, record: Record) -> None:
        self.done += 1
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(1)
            return
        what = (f"error: {record['error']}" if record["error"]
                else f"test accuracy {100 * record['test_accuracy']:.2f}%")
        # Repeats and folds are numbered from 0, as in results.json and results.csv.
        print(f"[{self.done}/{self.total}] {record['model']} repeat {record['repeat']} "
              f"fold {record['fold']}: {what}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
