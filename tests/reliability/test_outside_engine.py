"""An outside tester's attacks on the engine's write clock: a write into a tensor saved for
backward is refused, whatever another thread does meanwhile."""

from __future__ import annotations

import dis
import sys
import threading
from types import FrameType
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import autograd
from tensorgraph.errors import InPlaceModificationError


def _pause_before_publishing(paused: threading.Event, resume: threading.Event) -> Any:
    """A trace function that stops the thread in ``autograd._bump`` right before its last
    store (the tick it took becoming ``_last_write``): a thread switch at that instant,
    made deterministic."""
    code = autograd._bump.__code__
    last_store = max(i.offset for i in dis.get_instructions(code) if i.opname == "STORE_SUBSCR")

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "opcode" and frame.f_lasti == last_store:
            paused.set()
            resume.wait(1.0)
        return local

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code is code:
            frame.f_trace_opcodes = True
            return local
        return None

    return trace


def test_a_write_is_refused_though_another_thread_publishes_an_older_tick() -> None:
    paused, resume = threading.Event(), threading.Event()
    elsewhere = tg.tensor(np.zeros(1))

    def write_elsewhere() -> None:
        sys.settrace(_pause_before_publishing(paused, resume))
        try:
            elsewhere[0] = 1.0  # takes its tick, then is switched out before publishing it
        finally:
            sys.settrace(None)

    thread = threading.Thread(target=write_elsewhere)
    thread.start()
    assert paused.wait(10)
    w = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    t = tg.tensor(np.array([3.0, 4.0]))
    loss = (w * t).sum()  # saves t
    writer = threading.Thread(target=t.__iadd__, args=(1.0,))  # a write after the node
    writer.start()
    writer.join(0.2)
    resume.set()  # the other thread now publishes its tick, older than the node
    thread.join()
    writer.join()
    np.testing.assert_array_equal(t.numpy(), [4.0, 5.0])
    with pytest.raises(InPlaceModificationError):
        loss.backward()  # not w.grad = [4, 5] from the new t
