"""Opt-in performance settings that change process-wide state, so tensorgraph never applies
them by itself.

The allocator
-------------
With glibc's default settings a training step at a large batch spends much of its time in
page faults: every activation of a few megabytes is allocated, freed at the end of the step,
handed back to the operating system (the heap top is trimmed, or the block was a separate
``mmap``), and faulted in again, page by page, on the next step. This is the same for
hand-written numpy code; it is not autograd overhead. :func:`tune_malloc` keeps freed memory
in the process instead:

.. code-block:: python

    import tensorgraph.perf
    tensorgraph.perf.tune_malloc()   # once, at the start of the program

which is the same as starting Python with the environment variables
``MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=268435456``. The cost is memory that
stays reserved by the process after a peak (up to the trim threshold) instead of being
returned to the system. ``docs/performance.md`` has the measurements.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import sys

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "tune_malloc"]

#: Blocks below this many bytes come from the heap rather than from a fresh ``mmap``.
MMAP_THRESHOLD = 32 * 2**20
#: Free memory at the heap top is returned to the system only above this many bytes.
TRIM_THRESHOLD = 256 * 2**20

# glibc's mallopt parameter numbers (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_malloc(mmap_threshold: int = MMAP_THRESHOLD,
                trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Make glibc keep freed memory for reuse instead of returning it to the system.

    Calls ``mallopt(M_MMAP_THRESHOLD, mmap_threshold)`` and
    ``mallopt(M_TRIM_THRESHOLD, trim_threshold)`` through :mod:`ctypes`. It affects the
    whole process (numpy and every other library) from the call on; call it once, early.

    Parameters
    ----------
    mmap_threshold : int
        Allocations of at least this many bytes get their own ``mmap`` (and are unmapped
        when freed). glibc caps it at 32 MiB on 64-bit systems.
    trim_threshold : int
        Free memory at the top of the heap beyond this many bytes is returned to the system.

    Returns
    -------
    bool
        True when the settings were applied; False when the C library is not glibc (macOS,
        Windows, musl), where this does nothing.

    Raises
    ------
    ValueError
        For a negative threshold, or an ``mmap_threshold`` above 32 MiB (glibc would refuse
        it).
    """
    for name, value in (("mmap_threshold", mmap_threshold), ("trim_threshold", trim_threshold)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"tune_malloc: {name} must be a non-negative int, got {value!r}")
    if mmap_threshold > 32 * 2**20:
        raise ValueError(f"tune_malloc: mmap_threshold {mmap_threshold} exceeds glibc's "
                         f"maximum of 33554432 (32 MiB)")
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    mallopt = libc.mallopt
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok: bool = mallopt(_M_MMAP_THRESHOLD, mmap_threshold) == 1
    ok = mallopt(_M_TRIM_THRESHOLD, trim_threshold) == 1 and ok
    return ok
