"""The docstring converter the API pages use: numpydoc's reStructuredText bits to Markdown."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

PATH = Path(__file__).resolve().parents[2] / "docs" / "_tools" / "griffe_rst.py"


@pytest.fixture(scope="module")
def conv() -> ModuleType:
    pytest.importorskip("griffe")
    spec = importlib.util.spec_from_file_location("griffe_rst", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["griffe_rst"] = module
    spec.loader.exec_module(module)
    return module


def test_one_line_math_directive_becomes_a_display_block(conv: ModuleType) -> None:
    text = "Softmax.\n\n.. math:: z_i = e^{x_i} / \\sum_j e^{x_j}\n\nMore."
    assert conv.rst_to_markdown(text) == (
        "Softmax.\n\n\n$$\nz_i = e^{x_i} / \\sum_j e^{x_j}\n$$\n\n\nMore."
    )


def test_indented_math_block_keeps_its_lines_and_the_text_after_it(conv: ModuleType) -> None:
    text = "    .. math::\n\n        a = b\n        c = d\n\n    After."
    out = conv.rst_to_markdown(text)
    assert "    $$\n    a = b\n    c = d\n    $$" in out
    assert out.rstrip().endswith("    After.")


def test_continuation_lines_of_a_one_line_directive(conv: ModuleType) -> None:
    text = ".. math:: z = x,\\quad\n          \\bar x = \\bar z\nnext"
    out = conv.rst_to_markdown(text)
    assert "$$\nz = x,\\quad\n\\bar x = \\bar z\n$$" in out and out.endswith("next")


def test_roles(conv: ModuleType) -> None:
    text = (":math:`x^2` and :func:`~tensorgraph.broadcast.sum_to`, "
            ":class:`tensorgraph.Tensor`, :meth:`label <a.b>`")
    assert conv.rst_to_markdown(text) == "$x^2$ and `sum_to`, `tensorgraph.Tensor`, `label`"


def test_bare_doctest_is_fenced_so_its_output_is_not_markdown(conv: ModuleType) -> None:
    text = "Sum.\n\n>>> f([1, 2])\n[(4, 2), (1, 4)]\n\nEnd."
    out = conv.rst_to_markdown(text)
    assert "```pycon\n>>> f([1, 2])\n[(4, 2), (1, 4)]\n```" in out


def test_doctest_after_a_section_gets_an_examples_header(conv: ModuleType) -> None:
    text = "Lin.\n\nParameters\n----------\nx : Tensor\n\n>>> lin(x)\n(2, 4)"
    out = conv.rst_to_markdown(text)
    assert "\nExamples\n--------\n>>> lin(x)\n(2, 4)" in out
    assert "```" not in out


def test_examples_sections_are_left_to_griffe(conv: ModuleType) -> None:
    text = "Examples\n--------\n>>> 1 + 1\n2"
    assert conv.rst_to_markdown(text) == text


def test_conversion_is_idempotent(conv: ModuleType) -> None:
    text = "A :func:`f`.\n\n.. math:: a\n\n>>> g()\n1"
    once = conv.rst_to_markdown(text)  # griffe may hand us an alias's docstring again
    assert conv.rst_to_markdown(once).rstrip() == once.rstrip()
