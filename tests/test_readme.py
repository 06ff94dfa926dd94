"""README.md stays true: its test command is the one CI runs, and its Python example runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = [c.strip() for c in _code_blocks(readme, "bash")]
    test_commands = [c for c in commands if "pytest" in c]
    assert len(test_commands) == 1, commands
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_commands[0] in [line.strip() for line in ci_lines]


def test_readme_has_exactly_two_fresh_machine_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = [c.strip() for c in _code_blocks(readme, "bash")]
    assert len(commands) == 2
    assert all(c.startswith("pip install") for c in commands)


def test_readme_python_example_runs(capsys: object) -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = _code_blocks(readme, "python")
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "__readme__"})


def test_readme_table_is_the_recorded_real_run() -> None:
    readme = (ROOT / "README.md").read_text()
    (table,) = _code_blocks(readme, "text")
    recorded = (ROOT / "docs" / "compare_breast_cancer.txt").read_text().splitlines()
    rows = [line for line in recorded if line and line[0] not in "$" and
            not line.startswith("wrote ")]
    assert table.strip().splitlines() == rows
