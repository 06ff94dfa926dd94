"""docs/optim.md stays true: its Python example runs."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "optim.md"


def test_optim_doc_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert blocks, "docs/optim.md lost its example"
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {})
