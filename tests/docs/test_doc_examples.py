"""Every ```python block in docs/**/*.md and README.md runs, so the docs cannot rot.

The blocks of one page run in order in one namespace (a page is one session). A block may
opt out only when it is an illustrative fragment that cannot run on its own: the line just
before its fence is ``<!-- no-run: reason -->``. The reason is required and the number of
such blocks is capped, so opting out stays rare.

A block whose fence has ``title="path/to/file.py"`` is a *quotation* of the library's code
(the math pages show each VJP next to its derivation): it is not run, but its lines must
appear, verbatim and contiguous, in that file (a line ``...`` may stand for a gap), so a
quotation cannot drift from the code. Test ids named in the docs
(``tests/x/test_y.py::test_name``) must exist too.
"""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest

from tensorgraph.ops import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>`{3,}|~{3,})(?P<info>[^\n`]*)$")
TITLE = re.compile(r'title="(?P<path>[^"]+\.py)"')
TEST_ID = re.compile(r"(tests/[\w/]+\.py)::(test_\w+)")
NO_RUN = re.compile(r"<!--\s*no-run:\s*(?P<reason>\S.*?)\s*-->")
MAX_NO_RUN = 6


def _pages() -> list[Path]:
    docs = sorted(p for p in (ROOT / "docs").rglob("*.md") if "_tools" not in p.parts)
    return [ROOT / "README.md", *docs]


def code_blocks(text: str) -> list[tuple[int, str, str | None]]:
    """Return ``(line, code, no_run_reason)`` for each python block to run, in order."""
    return [(line, code, reason) for line, code, reason, quoted in _blocks(text) if not quoted]


def quotations(text: str) -> list[tuple[int, str, str]]:
    """Return ``(line, code, path)`` for each block quoting a file of the repository."""
    return [(line, code, quoted) for line, code, _, quoted in _blocks(text) if quoted]


def _blocks(text: str) -> list[tuple[int, str, str | None, str | None]]:
    lines = text.splitlines()
    blocks: list[tuple[int, str, str | None, str | None]] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, ticks = match["indent"], match["ticks"]
        language = match["info"].strip().split(" ")[0].strip("{}.") if match["info"] else ""
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and not (
            lines[i].strip().startswith(ticks) and lines[i].strip().strip(ticks[0]) == ""
        ):
            body.append(lines[i])
            i += 1
        i += 1
        if language not in ("python", "py"):
            continue
        previous = lines[start - 1] if start > 0 else ""
        no_run = NO_RUN.search(previous)
        code = textwrap.dedent("\n".join(b[len(indent):] if b.startswith(indent) else b
                                         for b in body))
        title = TITLE.search(match["info"])
        blocks.append((start + 1, code, no_run["reason"] if no_run else None,
                       title["path"] if title else None))
    return blocks


PAGES = [p for p in _pages() if code_blocks(p.read_text())]


def test_parser_finds_blocks_and_opt_outs() -> None:
    text = (
        "intro\n```python\nx = 1\n```\n\n<!-- no-run: a fragment -->\n```python\nnope(\n```\n"
        "```bash\nls\n```\n!!! note\n    ```python\n    y = x + 1\n    ```\n"
    )
    assert code_blocks(text) == [
        (2, "x = 1", None), (7, "nope(", "a fragment"), (14, "y = x + 1", None),
    ]


def test_opting_out_stays_rare() -> None:
    skipped = [(p.name, line) for p in _pages() for line, _, reason in
               code_blocks(p.read_text()) if reason is not None]
    assert len(skipped) <= MAX_NO_RUN, skipped


def _contains(source: list[str], quoted: list[str]) -> bool:
    """True when the chunks of ``quoted`` (split at ``...`` lines) occur in order in
    ``source``, each as contiguous lines (compared without surrounding whitespace)."""
    chunks: list[list[str]] = [[]]
    for line in quoted:
        if line == "...":
            chunks.append([])
        elif line:
            chunks[-1].append(line)
    start = 0
    for chunk in (c for c in chunks if c):
        for i in range(start, len(source) - len(chunk) + 1):
            if source[i : i + len(chunk)] == chunk:
                start = i + len(chunk)
                break
        else:
            return False
    return True


def test_quotations_match_the_code() -> None:
    stale = []
    count = 0
    for page in _pages():
        for line, code, path in quotations(page.read_text()):
            count += 1
            target = ROOT / path
            source = [s.strip() for s in target.read_text().splitlines()] if target.exists() else []
            if not _contains([s for s in source if s], [q.strip() for q in code.splitlines()]):
                stale.append(f"{page.relative_to(ROOT)}:{line} quotes {path}")
    assert not stale, "quoted code no longer matches the source:\n" + "\n".join(stale)
    assert count > 0


def test_named_tests_exist() -> None:
    missing = []
    for page in _pages():
        for path, name in TEST_ID.findall(page.read_text()):
            target = ROOT / path
            if not target.exists() or not re.search(rf"def {name}\(", target.read_text()):
                missing.append(f"{page.relative_to(ROOT)} names {path}::{name}")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        import matplotlib
    except ImportError:  # the plot extra is optional; examples that plot say so
        pass
    else:
        matplotlib.use("Agg")  # no window even if an example plots
    monkeypatch.chdir(tmp_path)  # files an example writes land in a temporary directory
    monkeypatch.setenv("HYPOTHESIS_PROFILE", os.environ.get("HYPOTHESIS_PROFILE", "dev"))
    namespace: dict[str, object] = {"__name__": f"__docs_{page.stem}__"}
    name = page.relative_to(ROOT).as_posix()
    registered = dict(REGISTRY)  # a tutorial registers its own op; keep it out of other tests
    try:
        for line, code, reason in code_blocks(page.read_text()):
            if reason is not None:
                continue
            try:
                exec(compile(code, f"{name}:{line}", "exec"), namespace)
            except Exception as exc:
                raise AssertionError(
                    f"the example at {name}, line {line}, failed: {exc!r}"
                ) from exc
    finally:
        REGISTRY.clear()
        REGISTRY.update(registered)
