"""Regenerate the graph pictures under docs/images/ (needs the viz extra and Graphviz's dot).

    python docs/_tools/make_images.py

The pictures are committed, so building the site needs neither.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import tensorgraph as tg
from tensorgraph import nn, viz

IMAGES = Path(__file__).resolve().parents[1] / "images"


def first_graph() -> None:
    """The home page's example."""
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    viz.render((x * x).sum(), IMAGES / "first-graph.svg", names={"x": x})


def concepts_graph() -> None:
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0], requires_grad=True)
    loss = (a * b + a).sum()
    viz.render(loss, IMAGES / "concepts-graph.svg", names={"a": a, "b": b})


def mlp_graph() -> None:
    """A real model: the breast-cancer classifier with batch-norm and dropout."""
    from tensorgraph.data import load_breast_cancer

    data = load_breast_cancer()
    x = tg.tensor(data.data[:32])
    y = tg.tensor(data.target[:32].reshape(-1, 1).astype(np.float32))
    model = nn.MLP([30, 16, 16, 16, 16, 16, 1], batch_norm=True, dropout=0.1, output=None,
                   generator=0)
    loss = nn.BCEWithLogitsLoss()(model(x), y)
    loss.backward(retain_graph=True)
    names = dict(model.named_parameters())
    viz.render(loss, IMAGES / "mlp-graph.svg", names=names, show_grad_norms=True)
    viz.render(loss, IMAGES / "mlp-graph-full.svg", names=names, group_repeated=False)


def history_plot() -> None:
    """Run the classifier tutorial's code blocks as written, then draw its History."""
    import os
    import re

    import matplotlib

    matplotlib.use("Agg")
    page = IMAGES.parent / "tutorials" / "classifier.md"
    blocks = re.findall(r"^```python\n(.*?)^```", page.read_text(), flags=re.S | re.M)
    namespace: dict[str, object] = {}
    cwd = os.getcwd()
    os.chdir(IMAGES)
    try:
        for block in blocks:
            if "history.plot(" in block:
                continue
            exec(compile(block, str(page), "exec"), namespace)
        namespace["history"].plot(path=IMAGES / "history.png")  # type: ignore[attr-defined]
    finally:
        os.chdir(cwd)


if __name__ == "__main__":
    IMAGES.mkdir(exist_ok=True)
    first_graph()
    concepts_graph()
    mlp_graph()
    history_plot()
