"""Every docstring example in the package runs and prints what it says.

Ops carry a doctest each (test_registry checks that they do); this runs them, and the
examples of every other tensorgraph module, as part of the ordinary ``pytest`` run.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from collections.abc import Iterator

import pytest

import tensorgraph as tg


def _module_names() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(tg.__path__, "tensorgraph.")
        if info.name.rsplit(".", 1)[-1] != "__main__"
    )


@pytest.fixture(autouse=True)
def _restore_default_dtype() -> Iterator[None]:
    # an example may change the default dtype; the next module must not see that
    before = tg.get_default_dtype()
    yield
    tg.set_default_dtype(before)


@pytest.mark.parametrize("module_name", ["tensorgraph", *_module_names()])
def test_docstring_examples(module_name: str) -> None:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name is None or err.name.split(".")[0] == "tensorgraph":
            raise
        pytest.skip(f"{module_name} needs the optional dependency {err.name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module_name}"


def test_the_op_modules_have_examples() -> None:
    # guards the runner itself: if it stopped finding examples, every module would "pass"
    from tensorgraph.ops import elementwise

    finder = doctest.DocTestFinder()
    assert sum(len(t.examples) for t in finder.find(elementwise)) > 20
