"""A griffe extension: the reStructuredText bits of our numpydoc docstrings, as Markdown.

tensorgraph's docstrings are numpydoc, written for readers of the source and for Sphinx-like
tools: math in ``.. math::`` directives and ``:math:`` roles, cross-references in
``:func:`` / ``:class:`` roles. mkdocstrings renders docstrings as Markdown, so this extension
rewrites, on each object's docstring:

- ``.. math:: expr`` (one line, or an indented block after it) into a ``$$ ... $$`` block,
  which pymdownx.arithmatex hands to KaTeX;
- ``:math:`expr``` into ``$expr$``;
- ``:func:`~pkg.mod.name``` (and ``:class:``, ``:meth:``, ``:mod:``, ``:data:``,
  ``:attr:``, ``:exc:``, ``:obj:``) into inline code, the last component when ``~`` is given;
- a doctest (``>>>`` lines and their output, up to a blank line) into a ``pycon`` fence, so
  its output is not read as Markdown; after a numpydoc section (Parameters, ...), where it
  would be misread as part of that section, it gets an Examples header instead.

The source docstrings stay as they are.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|data|attr|exc|obj|const):`(~?)([^`]+)`")
_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_DIRECTIVE = re.compile(r"^(\s*)\.\. math::\s*(.*)$")


def _role(match: re.Match[str]) -> str:
    target = match.group(2).strip()
    if "<" in target and target.endswith(">"):  # :func:`text <target>`
        target = target.split("<", 1)[0].strip()
    elif match.group(1):
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def _fence_doctests(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    in_fence = False
    section = ""
    while i < len(lines):
        stripped = lines[i].lstrip()
        if stripped.startswith("```"):
            in_fence = not in_fence
        following = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if stripped and len(following) >= 3 and set(following) == {"-"}:
            section = stripped.strip()  # a numpydoc section header
        # griffe parses the doctests of an Examples section itself
        if in_fence or section == "Examples" or not stripped.startswith(">>>"):
            out.append(lines[i])
            i += 1
            continue
        indent = lines[i][: len(lines[i]) - len(stripped)]
        if section:  # a doctest trailing another section: give it its own Examples section
            out += ["", f"{indent}Examples", f"{indent}--------"]
            section = "Examples"
            continue
        block = []
        while i < len(lines) and lines[i].strip():
            block.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        out += ["", f"{indent}```pycon", *[f"{indent}{b}" for b in block], f"{indent}```", ""]
    return out


def rst_to_markdown(text: str) -> str:
    """Return ``text`` with math directives, math roles and cross-reference roles converted."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _DIRECTIVE.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        indent, first = match.group(1), match.group(2).strip()
        body = [first] if first else []
        i += 1
        block: list[str] = []
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > len(indent)
        ):
            block.append(lines[i])
            i += 1
        while block and not block[-1].strip():  # a trailing blank line ends the directive
            block.pop()
            i -= 1
        stripped = [b.strip() for b in block if b.strip() and not b.strip().startswith(":")]
        body += stripped
        out += ["", f"{indent}$$", *[f"{indent}{b}" for b in body], f"{indent}$$", ""]
    converted = "\n".join(_fence_doctests(out))
    converted = _MATH_ROLE.sub(lambda m: f"${m.group(1)}$", converted)
    return _ROLE.sub(_role, converted)


class RstToMarkdown(griffe.Extension):
    """Convert each docstring once the object tree is complete."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
