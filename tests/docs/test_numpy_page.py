"""docs/numpy.md is generated from the routing tables and the registry, and cannot go stale:
the committed page must equal what ``docs/_tools/numpy_page.py`` writes today. The
generator's own findings (which op backs a numpy call, which ops have a zero gradient) are
checked here against facts known independently."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from tensorgraph.ops import FUNCTIONS, REGISTRY, UFUNCS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def page_tool() -> ModuleType:
    path = ROOT / "docs" / "_tools" / "numpy_page.py"
    spec = importlib.util.spec_from_file_location("numpy_page", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["numpy_page"] = module
    spec.loader.exec_module(module)
    return module


def test_the_committed_page_is_the_generated_one(page_tool: ModuleType) -> None:
    committed = (ROOT / "docs" / "numpy.md").read_text()
    assert committed == page_tool.render(), (
        "docs/numpy.md is stale: run `python docs/_tools/numpy_page.py` and commit it")


def test_every_routed_numpy_callable_has_a_row(page_tool: ModuleType) -> None:
    text = (ROOT / "docs" / "numpy.md").read_text()
    rows = {line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| `np.")}
    for obj in (*UFUNCS, *FUNCTIONS):
        assert f"`np.{page_tool.numpy_name(obj)}`" in rows


def test_the_ops_behind_a_numpy_call_are_found(page_tool: ModuleType) -> None:
    def behind(fn: object) -> list[str]:
        return [op.name for op in page_tool.ops_behind(fn, REGISTRY)]

    assert behind(UFUNCS[np.add]) == ["add"]
    assert behind(UFUNCS[np.absolute]) == ["abs"]
    assert behind(FUNCTIONS[np.sum]) == ["sum"]  # through the numpy-signature adapter
    assert behind(FUNCTIONS[np.swapaxes]) == ["transpose"]  # a composition
    assert behind(UFUNCS[np.isfinite]) == []  # a constant: no op
    assert behind(UFUNCS[np.greater]) == []
    assert page_tool.numpy_name(np.linalg.norm) == "linalg.norm"


def test_zero_gradients_are_measured(page_tool: ModuleType) -> None:
    assert page_tool.zero_gradient(REGISTRY["sign"])
    assert page_tool.zero_gradient(REGISTRY["floor"])
    assert not page_tool.zero_gradient(REGISTRY["exp"])
    assert not page_tool.zero_gradient(REGISTRY["var"])  # even with length-1 axes drawn
    assert not page_tool.zero_gradient(REGISTRY["clip"])


def test_entries_without_an_op_say_what_they_return(page_tool: ModuleType) -> None:
    assert "itself" in page_tool.probe(UFUNCS[np.positive], 1)
    assert "boolean tensor without a graph" in page_tool.probe(UFUNCS[np.isnan], 1)
    assert "integer tensor" in page_tool.probe(FUNCTIONS[np.argmax], 1)
    assert "`tuple` (metadata)" in page_tool.probe(FUNCTIONS[np.shape], 1)


def test_refused_names_leave_the_list_once_routed(page_tool: ModuleType) -> None:
    text = (ROOT / "docs" / "numpy.md").read_text()
    refusals = text[text.index("## What is refused"):text.index("## Registered ops")]
    routed = {page_tool.numpy_name(obj) for obj in (*UFUNCS, *FUNCTIONS)}
    for names in page_tool.REFUSED.values():
        for name in names:
            assert (f"`np.{name}`" in refusals) == (name not in routed), name
