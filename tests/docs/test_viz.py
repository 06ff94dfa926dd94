"""tensorgraph.viz: DOT text of a graph, grouping, the node cap, gradient norms, render."""

from __future__ import annotations

import builtins
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import viz
from tensorgraph.errors import DomainError


def _labels(dot: str) -> list[str]:
    return re.findall(r'\[label="((?:[^"\\]|\\.)*)"', dot)


def _edges(dot: str) -> list[tuple[str, str]]:
    return re.findall(r"^\s*(v\d+) -> (v\d+);$", dot, flags=re.MULTILINE)


def _mlp_loss(layers: int) -> tuple[tg.Tensor, dict[str, tg.Tensor]]:
    rng = np.random.default_rng(0)
    params: dict[str, tg.Tensor] = {}
    h = tg.tensor(rng.standard_normal((4, 3)))
    for i in range(layers):
        w = tg.tensor(rng.standard_normal((3, 3)), requires_grad=True)
        b = tg.tensor(np.zeros(3), requires_grad=True)
        params[f"w{i}"], params[f"b{i}"] = w, b
        h = (h @ w + b).relu()
    return h.sum(), params


def test_small_graph_nodes_edges_and_styles() -> None:
    x = tg.tensor(np.ones((2, 3), dtype=np.float32))
    w = tg.tensor(np.ones((3, 1), dtype=np.float32), requires_grad=True)
    loss = (x @ w * 2.0).sum(axis=0)
    dot = viz.to_dot(loss, names={"w": w})
    assert dot.startswith("digraph tensorgraph {") and dot.rstrip().endswith("}")
    labels = _labels(dot)
    # two leaves, three ops: matmul, multiply (with its scalar), sum (with its params)
    assert len(labels) == 5
    assert any(lbl.startswith("w\\n(3, 1) float32\\nrequires grad") for lbl in labels)
    assert "(2, 3) float32" in labels  # data leaf: no name, no "requires grad"
    assert any(lbl.startswith("multiply\\nscalar 2.0\\n(2, 1) float32") for lbl in labels)
    assert any(lbl.startswith("sum\\naxis=(0,)") and lbl.endswith("(1,) float32") for lbl in labels)
    assert len(_edges(dot)) == 4
    assert dot.count('penwidth="2.5"') == 1  # the root is marked, and only it


def test_constant_arrays_and_fan_in_are_drawn_once() -> None:
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    c = np.array([3.0, 4.0], dtype=np.float32)
    y = a * c + a  # `a` feeds two ops; `c` is a plain array
    dot = viz.to_dot(y)
    labels = _labels(dot)
    assert labels.count("(2,) float32\\nrequires grad") == 1
    assert "array\\n(2,) float32" in labels
    assert len(_edges(dot)) == 4  # a->multiply, c->multiply, multiply->add, a->add


def test_leaf_root_draws_one_node() -> None:
    dot = viz.to_dot(tg.tensor([1.0], requires_grad=True))
    assert len(_labels(dot)) == 1 and not _edges(dot)


def test_gradient_norms_after_backward_with_retained_graph() -> None:
    w = tg.tensor(np.array([3.0, 4.0]), requires_grad=True)
    hidden = w * 1.0
    hidden.retain_grad()
    loss = (hidden * hidden).sum() / 2.0
    loss.backward(retain_graph=True)
    dot = viz.to_dot(loss, show_grad_norms=True)
    # d loss / d w = w, whose norm is 5; the retained intermediate has the same gradient
    assert dot.count("|grad| = 5") == 2
    assert "|grad|" not in viz.to_dot(loss)


def test_freed_graph_is_marked() -> None:
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    loss = (w.exp() * 2.0).sum()
    loss.backward()
    dot = viz.to_dot(loss)
    labels = _labels(dot)
    assert len(labels) == 1
    assert "sum" in labels[0] and "graph freed" in labels[0]


def test_repeated_layers_are_grouped_and_ungrouped_on_request() -> None:
    loss, params = _mlp_loss(layers=6)
    full = viz.to_dot(loss, group_repeated=False, names=params)
    grouped = viz.to_dot(loss, names=params)
    # per layer: matmul, add, relu and two parameters; plus the input and the final sum
    assert len(_labels(full)) == 6 * 5 + 2
    assert "more repetitions" not in full
    group = [lbl for lbl in _labels(grouped) if "more repetitions" in lbl]
    assert len(group) == 1
    # units along the spine: matmul(x, w0), add(b0), relu, matmul(w1), ..., relu, sum; the
    # first repeating block starts at the first add (the first matmul also takes the data)
    assert group[0].startswith("... 3 more repetitions of\\nadd -> relu -> matmul")
    assert "(15 nodes hidden)" in group[0]
    # the first and last repetitions stay visible, the three in between are hidden
    for name in ("w0", "b0", "w1", "b4", "w5", "b5"):
        assert any(lbl.startswith(name + "\\n") for lbl in _labels(grouped))
    for name in ("b1", "w2", "b2", "w3", "b3", "w4"):
        assert not any(lbl.startswith(name + "\\n") for lbl in _labels(grouped))
    # the drawing stays connected: every vertex except the root feeds something
    ids = set(re.findall(r"^\s*(v\d+) \[", grouped, flags=re.MULTILINE))
    sources = {s for s, _ in _edges(grouped)}
    assert len(ids - sources) == 1


def test_two_repetitions_are_not_grouped() -> None:
    loss, _ = _mlp_loss(layers=2)
    assert "more repetition" not in viz.to_dot(loss)


def test_max_nodes_caps_the_drawing() -> None:
    x = tg.tensor(np.array([0.5]), requires_grad=True)
    y = x
    for i in range(300):
        y = y * (1.0 + i / 1000)  # different scalars: nothing repeats, nothing is grouped
    dot = viz.to_dot(y, max_nodes=10)
    labels = _labels(dot)
    assert len(labels) == 10 + 1
    more = [lbl for lbl in labels if "more nodes not drawn" in lbl]
    assert more == ["... 291 more nodes not drawn\\n(max_nodes=10)"]
    assert len(_labels(viz.to_dot(y, max_nodes=1000))) == 301


def test_deep_chain_does_not_recurse() -> None:
    x = tg.tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y.sin()
    dot = viz.to_dot(y)
    assert "more repetition" in dot
    assert len(_labels(dot)) <= 150


def test_labels_are_escaped() -> None:
    a = tg.tensor([1.0], requires_grad=True)
    dot = viz.to_dot(a * 2.0, names={'say "hi"\\': a})
    assert 'say \\"hi\\"\\\\' in dot


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="to_dot: expected a Tensor"):
        viz.to_dot(np.ones(3))  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="max_nodes"):
        viz.to_dot(tg.tensor([1.0], requires_grad=True), max_nodes=1)
    with pytest.raises(DomainError, match=r"\.svg, \.png or \.pdf"):
        viz.render(tg.tensor([1.0], requires_grad=True), "graph.gif")


def test_render_without_graphviz_package_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "graphviz":
            raise ImportError("No module named 'graphviz'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"tensorgraph\[viz\]"):
        viz.render(tg.tensor([1.0], requires_grad=True), tmp_path / "g.svg")


def test_render_writes_svg(tmp_path: Path) -> None:
    pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    out = viz.render((w * w).sum(), tmp_path / "g.svg")
    text = out.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "multiply" in text
