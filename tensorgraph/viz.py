"""Pictures of the graph that produced a tensor.

:func:`to_dot` returns Graphviz DOT text and needs nothing but tensorgraph; :func:`render`
turns that text into an SVG, PNG or PDF file through the ``graphviz`` Python package (the
``viz`` extra) and Graphviz's ``dot`` program.

What the picture shows
----------------------
- **Op nodes** (rounded boxes): the op's name, its keyword parameters and scalar arguments,
  and the shape and dtype of the tensor it produced. The tensor you passed is drawn with a
  thick border.
- **Leaf tensors** (ellipses): shape and dtype; orange when they require grad (parameters),
  grey when they do not (data). A ``names`` mapping, such as ``dict(model.named_parameters())``,
  labels them.
- **Constant arrays** (notes): numpy arrays passed straight to an op.
- **Gradient norms** (``show_grad_norms=True``): the Frobenius norm of ``.grad`` for every leaf
  that has one, and for intermediate tensors that called ``retain_grad()``.

Graph lifetime
--------------
``backward()`` frees the graph: each node drops its saved inputs once its VJP has run, so a
graph drawn after an ordinary ``backward()`` shows only the op that made the root, marked
*graph freed*. To draw a graph with its gradient norms, call ``backward(retain_graph=True)``
first (or draw before ``backward()`` and again after it).

Large graphs
------------
Two things keep a big picture readable:

1. ``group_repeated=True`` finds the *spine* of the graph (from the root, always the input
   with the longest history) and cuts it into units: one spine op with everything that
   feeds only it (its parameters, constants and small side computations). When a block of
   consecutive identical units (same ops, parameters, shapes and dtypes) repeats three or
   more times in a row, the first and last repetitions are drawn and the ones in between
   become one box that says how many were hidden and which ops each contains. The hidden
   layers of an MLP collapse this way.
2. ``max_nodes`` caps what is drawn: nodes are kept breadth-first from the root (the layers
   nearest the output), and everything further away is summarised by a single
   "... N more nodes" box.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DomainError

if TYPE_CHECKING:
    from .autograd import Node
    from .tensor import Tensor

__all__ = ["render", "to_dot"]

_OP_FILL = "#dbe9f6"
_PARAM_FILL = "#fdd9a0"
_DATA_FILL = "#eeeeee"
_GROUP_FILL = "#e4f2dc"
_FORMATS = ("svg", "png", "pdf")


@dataclass
class _Vertex:
    """One drawn node: an op, a leaf tensor, a constant array, a group or the elision box."""

    key: str
    kind: str  # "op" | "leaf" | "const" | "group" | "more"
    label: str
    signature: tuple[Any, ...]
    inputs: list[str] = field(default_factory=list)  # keys of the vertices feeding this one
    depth: int = 0  # longest path to a leaf (ops only)
    spine_arg: str | None = None  # the input with the longest history (ops only)
    attrs: dict[str, str] = field(default_factory=dict)


def _short(value: Any, limit: int = 24) -> str:
    if isinstance(value, np.ndarray):  # values would clutter the label and the signature
        return f"array{value.shape}"
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(shape: tuple[int, ...], dtype: Any) -> str:
    return f"{tuple(shape)} {np.dtype(dtype).name}"


def _grad_norm(t: Tensor | None) -> str | None:
    if t is None or t.grad is None:
        return None
    return f"|grad| = {float(np.linalg.norm(t.grad._data)):.3g}"


class _Builder:
    """Collects the vertices of the graph behind ``root``, iteratively."""

    def __init__(self, root: Tensor, names: Mapping[str, Tensor], show_grad_norms: bool):
        self.root = root
        self.show = show_grad_norms
        self.names = {id(t): n for n, t in names.items()}
        self.vertices: dict[str, _Vertex] = {}
        self.freed = False

    def _leaf(self, t: Tensor) -> str:
        key = f"t{id(t)}"
        if key not in self.vertices:
            lines = [self.names[id(t)]] if id(t) in self.names else []
            lines.append(_describe(t.shape, t.dtype))
            if t.requires_grad:
                lines.append("requires grad")
            norm = _grad_norm(t) if self.show else None
            if norm:
                lines.append(norm)
            fill = _PARAM_FILL if t.requires_grad else _DATA_FILL
            self.vertices[key] = _Vertex(
                key, "leaf", "\n".join(lines),
                ("leaf", t.shape, t.dtype.name, t.requires_grad),
                attrs={"shape": "ellipse", "style": "filled", "fillcolor": fill},
            )
        return key

    def _const(self, a: np.ndarray) -> str:
        key = f"a{id(a)}"
        if key not in self.vertices:
            self.vertices[key] = _Vertex(
                key, "const", f"array\n{_describe(a.shape, a.dtype)}",
                ("const", a.shape, a.dtype.name),
                attrs={"shape": "note", "style": "filled", "fillcolor": "white"},
            )
        return key

    def build(self) -> str:
        """Create every vertex; return the key of the root's vertex."""
        from .tensor import Tensor

        root = self.root
        if root._node is None:
            return self._leaf(root)
        # every intermediate tensor we meet, by its node, to label ops with their outputs
        outputs: dict[int, Tensor] = {id(root._node): root}
        stack: list[Node] = [root._node]
        seen: set[int] = set()
        order: list[Node] = []
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            order.append(node)
            for arg in node.args or ():
                if isinstance(arg, Tensor) and arg._node is not None:
                    outputs.setdefault(id(arg._node), arg)
                    stack.append(arg._node)
        for node in order:
            self._op(node, outputs.get(id(node)))
        # longest path to a leaf, children before parents (reverse of discovery is not
        # enough for a DAG, so relax until stable in a topological order)
        for key in self._topological(f"n{id(root._node)}"):
            v = self.vertices[key]
            best: tuple[int, str] | None = None
            for k in v.inputs:
                w = self.vertices[k]
                if w.kind == "op" and (best is None or w.depth + 1 > best[0]):
                    best = (w.depth + 1, k)
            v.depth, v.spine_arg = (best[0], best[1]) if best else (0, None)
        return f"n{id(root._node)}"

    def _op(self, node: Node, out: Tensor | None) -> None:
        from .tensor import Tensor

        key = f"n{id(node)}"
        extras: list[str] = []
        inputs: list[str] = []
        if node.args is None:
            self.freed = True
        for arg in node.args or ():
            if isinstance(arg, Tensor):
                inputs.append(f"n{id(arg._node)}" if arg._node is not None else self._leaf(arg))
            elif isinstance(arg, np.ndarray):
                inputs.append(self._const(arg))
            elif arg is not None:
                extras.append(f"scalar {_short(arg)}")
        extras += [f"{k}={_short(v)}" for k, v in node.params.items()]
        lines = [node.op.name]
        if extras:
            lines.append(", ".join(extras))
        if out is not None:
            lines.append(_describe(out.shape, out.dtype))
            norm = _grad_norm(out) if self.show else None
            if norm:
                lines.append(norm)
        style = "rounded,filled"
        if node.args is None:
            lines.append("(graph freed by backward)")
            style += ",dashed"
        attrs = {"shape": "box", "style": style, "fillcolor": _OP_FILL}
        if out is self.root:
            attrs["penwidth"] = "2.5"
        signature = (
            "op", node.op.name, tuple(extras),
            None if out is None else (out.shape, out.dtype.name),
        )
        self.vertices[key] = _Vertex(key, "op", "\n".join(lines), signature, inputs, attrs=attrs)

    def _topological(self, root_key: str) -> list[str]:
        """Op keys reachable from ``root_key``, each after all of its inputs."""
        order: list[str] = []
        done: set[str] = set()
        stack: list[tuple[str, bool]] = [(root_key, False)]
        while stack:
            key, expanded = stack.pop()
            if expanded:
                order.append(key)
                continue
            if key in done:
                continue
            done.add(key)
            stack.append((key, True))
            for k in self.vertices[key].inputs:
                if k not in done and self.vertices[k].kind == "op":
                    stack.append((k, False))
        return order


def _group_repeated(vertices: dict[str, _Vertex], root_key: str) -> None:
    """Replace runs of three or more identical blocks on the spine by one group vertex."""
    spine: list[str] = []
    key: str | None = root_key
    while key is not None and vertices[key].kind == "op":
        spine.append(key)
        key = vertices[key].spine_arg
    spine.reverse()  # from the input end to the root
    on_spine = set(spine)
    claimed: set[str] = set()
    units: list[list[str]] = []
    signatures: list[tuple[Any, ...]] = []
    for s in spine:
        members = [s]
        parts: list[Any] = [vertices[s].signature]
        stack = [k for k in reversed(vertices[s].inputs) if k != vertices[s].spine_arg]
        while stack:
            k = stack.pop()
            if k in on_spine or k in claimed:
                parts.append(("shared",))
                continue
            claimed.add(k)
            members.append(k)
            parts.append(vertices[k].signature)
            stack.extend(reversed(vertices[k].inputs))
        units.append(members)
        signatures.append(tuple(parts))

    i = 0
    groups = 0
    while i < len(units):
        best = (0, 0)  # (period, repeats)
        for period in range(1, 13):
            block = signatures[i : i + period]
            if len(block) < period:
                break
            repeats = 1
            while signatures[i + repeats * period : i + (repeats + 1) * period] == block:
                repeats += 1
            if repeats >= 3 and period * repeats > best[0] * best[1]:
                best = (period, repeats)
        period, repeats = best
        if not period:
            i += 1
            continue
        hidden = [k for u in units[i + period : i + (repeats - 1) * period] for k in u]
        ops = " -> ".join(vertices[units[i + j][0]].signature[1] for j in range(period))
        group_key = f"g{groups}"
        groups += 1
        vertices[group_key] = _Vertex(
            group_key, "group",
            f"... {repeats - 2} more repetition{'s' if repeats > 3 else ''} of\n{ops}\n"
            f"({len(hidden)} nodes hidden)",
            ("group",),
            attrs={"shape": "box3d", "style": "filled", "fillcolor": _GROUP_FILL},
        )
        _merge(vertices, set(hidden), group_key)
        i += period * repeats


def _merge(vertices: dict[str, _Vertex], hidden: set[str], into: str) -> None:
    """Remove ``hidden`` vertices; edges that touched them now touch ``into``."""
    feeds: list[str] = []
    for k in hidden:
        for src in vertices[k].inputs:
            if src not in hidden and src not in feeds:
                feeds.append(src)
    for k in hidden:
        del vertices[k]
    vertices[into].inputs = feeds
    for v in vertices.values():
        if v.key == into:
            continue
        mapped: list[str] = []
        for src in v.inputs:
            src = into if src in hidden else src
            if src not in mapped:
                mapped.append(src)
        v.inputs = mapped


def _cap(vertices: dict[str, _Vertex], root_key: str, max_nodes: int) -> None:
    """Keep ``max_nodes`` vertices breadth-first from the root; summarise the rest."""
    if len(vertices) <= max_nodes:
        return
    kept: list[str] = [root_key]
    kept_set = {root_key}
    i = 0
    while i < len(kept) and len(kept) < max_nodes:
        for src in vertices[kept[i]].inputs:
            if src not in kept_set and len(kept) < max_nodes:
                kept.append(src)
                kept_set.add(src)
        i += 1
    hidden = set(vertices) - kept_set
    vertices["more"] = _Vertex(
        "more", "more",
        f"... {len(hidden)} more nodes not drawn\n(max_nodes={max_nodes})",
        ("more",), attrs={"shape": "box", "style": "dashed"},
    )
    _merge(vertices, hidden, "more")
    vertices["more"].inputs = []  # what lies beyond the cap is not drawn at all


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def to_dot(
    tensor: Tensor,
    show_grad_norms: bool = False,
    max_nodes: int = 150,
    group_repeated: bool = True,
    names: Mapping[str, Tensor] | None = None,
) -> str:
    """Return the graph that produced ``tensor`` as Graphviz DOT text.

    Parameters
    ----------
    tensor : Tensor
        The result whose history is drawn (usually a loss).
    show_grad_norms : bool
        Add ``|grad|`` (the Frobenius norm) to every tensor that has a ``.grad``. The graph
        must still exist: use ``backward(retain_graph=True)``.
    max_nodes : int
        Draw at most this many nodes, nearest the output first; the rest become one box.
    group_repeated : bool
        Collapse runs of three or more identical blocks (see the module docstring).
    names : mapping of str to Tensor, optional
        Labels for leaf tensors, e.g. ``dict(model.named_parameters())``.

    Returns
    -------
    str
        A ``digraph``; inputs at the top, the result at the bottom.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> w = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> dot = to_dot((w * 3).sum())
    >>> dot.splitlines()[0]
    'digraph tensorgraph {'
    >>> "multiply" in dot and "requires grad" in dot
    True
    """
    from .tensor import Tensor

    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot: expected a Tensor, got {type(tensor).__name__}")
    if max_nodes < 2:
        raise DomainError(f"to_dot: max_nodes must be at least 2, got {max_nodes}")
    builder = _Builder(tensor, names or {}, show_grad_norms)
    root_key = builder.build()
    vertices = builder.vertices
    if tensor._node is None:
        vertices[root_key].attrs["penwidth"] = "2.5"
    if group_repeated and tensor._node is not None:
        _group_repeated(vertices, root_key)
    _cap(vertices, root_key, max_nodes)

    lines = [
        "digraph tensorgraph {",
        '  graph [rankdir=TB, fontname="Helvetica", nodesep=0.25, ranksep=0.35];',
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [color="#555555", arrowsize=0.7];',
    ]
    ids = {k: f"v{i}" for i, k in enumerate(vertices)}
    for k, v in vertices.items():
        attrs = "".join(f", {a}={_quote(val)}" for a, val in v.attrs.items())
        lines.append(f"  {ids[k]} [label={_quote(v.label)}{attrs}];")
    for k, v in vertices.items():
        for src in v.inputs:
            lines.append(f"  {ids[src]} -> {ids[k]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(
    tensor: Tensor,
    path: str | Path,
    format: str | None = None,
    **options: Any,
) -> Path:
    """Draw the graph behind ``tensor`` into an image file.

    Parameters
    ----------
    tensor : Tensor
        The result whose history is drawn.
    path : str or Path
        Where to write; the suffix (``.svg``, ``.png``, ``.pdf``) picks the format unless
        ``format`` is given.
    format : {"svg", "png", "pdf"}, optional
    **options
        Passed to :func:`to_dot` (``show_grad_norms``, ``max_nodes``, ``group_repeated``,
        ``names``).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ImportError
        When the ``graphviz`` Python package is not installed (``pip install
        "tensorgraph[viz]"``).
    RuntimeError
        When Graphviz's ``dot`` program is not on the PATH.
    """
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt not in _FORMATS:
        raise DomainError(
            f"render: cannot tell the image format from {str(path)!r}; use a .svg, .png or "
            f".pdf suffix or pass format= one of {', '.join(_FORMATS)}"
        )
    dot = to_dot(tensor, **options)
    try:
        import graphviz
    except ImportError as exc:
        raise ImportError(
            "render needs the 'graphviz' Python package and Graphviz's 'dot' program: "
            "pip install \"tensorgraph[viz]\" and install Graphviz (Debian/Ubuntu: "
            "apt-get install graphviz). to_dot() returns the DOT text without either."
        ) from exc
    try:
        data = graphviz.Source(dot).pipe(format=fmt)
    except graphviz.ExecutableNotFound as exc:
        raise RuntimeError(
            "render: Graphviz's 'dot' program was not found on the PATH; install Graphviz "
            "(Debian/Ubuntu: apt-get install graphviz) or use to_dot() and render it elsewhere"
        ) from exc
    path.write_bytes(data)
    return path
