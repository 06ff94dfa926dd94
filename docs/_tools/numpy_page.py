"""Generate docs/numpy.md: every numpy function and ufunc that works on Tensors.

    python docs/_tools/numpy_page.py          # rewrite docs/numpy.md
    python docs/_tools/numpy_page.py --check  # exit 1 when docs/numpy.md is stale

The page is built from the routing tables ``UFUNCS`` / ``FUNCTIONS`` of
``tensorgraph.ops`` and from the op ``REGISTRY``; ``tests/docs/test_numpy_page.py`` fails
when the committed page differs from what this script writes, so regenerate it after adding
an op or a routing entry. Nothing here depends on the numpy version beyond the tables
themselves: the refused names are a fixed list, filtered by what is routed.

For each routed numpy callable the page names the registered ops behind it, found by
following the names the routing function's code refers to (through tensorgraph's own
functions, Tensor methods and closures, never into numpy). It then says:

- whether the gradient is zero everywhere: measured, by back-propagating a random upstream
  gradient through a few inputs drawn from each op's own ``Domain``;
- to which order it is differentiable (``Domain.second_order`` of every op behind it);
- for entries that reach no op: what the call returns, by calling it on a small tensor.
"""

from __future__ import annotations

import builtins
import dis
import functools
import sys
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "numpy.md"

#: numpy callables people reach for that are refused, by reason; a name drops out of the
#: list as soon as a routing table holds it
REFUSED: dict[str, tuple[str, ...]] = {
    "Integer and bitwise functions: their values are integers, so no gradient exists; "
    "call them on `t.detach().numpy()`": (
        "bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift", "right_shift",
        "gcd", "lcm", "floor_divide", "divmod", "isnat",
    ),
    "Complex numbers: tensorgraph holds real numbers only, and refuses complex data in "
    "`tensor()` and in every op with a `DTypeError` (for now)": (
        "real", "imag", "conj", "conjugate", "angle", "iscomplex", "isreal", "fft.fft",
        "fft.ifft", "fft.rfft", "fft.irfft",
    ),
    "Not implemented yet (a `TypeError` names the function; see issue 12)": (
        "einsum", "tensordot", "dot", "vdot", "inner", "outer", "kron", "trace", "diag",
        "diagonal", "tril", "triu", "linalg.norm", "linalg.det", "linalg.slogdet",
        "linalg.inv", "linalg.solve", "linalg.cholesky", "linalg.eigh", "std", "cumsum",
        "cumprod", "diff", "average", "ptp", "nansum", "nanmean", "repeat", "tile", "vstack",
        "hstack", "dstack", "column_stack", "vsplit", "hsplit", "flip", "roll", "rot90",
        "moveaxis", "atleast_1d", "atleast_2d", "atleast_3d", "ravel", "take",
        "take_along_axis", "sort", "gradient", "sinc", "deg2rad", "rad2deg", "nan_to_num",
        "copysign", "ldexp", "frexp", "modf", "heaviside", "spacing", "nextafter", "degrees",
        "radians", "float_power", "true_divide", "signbit", "isclose", "allclose", "median",
        "percentile", "quantile", "interp", "convolve", "cross", "linalg.svd", "linalg.qr",
    ),
}

#: an op has a zero gradient when this many drawn non-empty cases all back-propagate zeros
_ZERO_CASES = 20

#: how a ufunc or function taking arrays is called in the probe of entries that reach no op
_PROBE = np.array([0.5, -1.5, 2.0])


def _load() -> tuple[dict[Any, Callable[..., Any]], dict[Any, Callable[..., Any]], dict[str, Any]]:
    import tensorgraph  # noqa: F401 - fills the tables (tensor.py adds the comparisons)
    from tensorgraph.ops import FUNCTIONS, UFUNCS
    from tensorgraph.testing import load_all_ops

    registry = load_all_ops()
    return UFUNCS, FUNCTIONS, registry


def numpy_name(obj: Any) -> str:
    """``np.linalg.norm`` -> ``linalg.norm``; ``np.exp`` -> ``exp``."""
    module = getattr(obj, "__module__", None) or "numpy"
    prefix = module[len("numpy"):].lstrip(".") if module.startswith("numpy") else module
    prefix = "" if prefix in ("", "core", "_core") or prefix.startswith(("core.", "_core.")) \
        else prefix
    return f"{prefix}.{obj.__name__}" if prefix else obj.__name__


# --------------------------------------------------------------------------- the ops behind
def _ours(value: Any) -> bool:
    module = getattr(value, "__module__", None) or ""
    return callable(value) and module.split(".")[0] == "tensorgraph"


_LOCAL = object()  # what a LOAD_FAST pushes: a local variable, assumed to be a Tensor


def _references(code: types.CodeType, scope: dict[str, Any]) -> list[Any]:
    """What ``code`` (and the lambdas and comprehensions inside it) loads: globals and closure
    variables by name, attributes of tensorgraph modules (``_ops.add``) and methods called on
    local variables (``x.sum``, looked up on Tensor). Attributes of anything else (numpy's
    ``np.prod``, a set's ``add``) are not followed."""
    from tensorgraph.tensor import Tensor

    found: list[Any] = []
    previous: Any = None
    for ins in dis.get_instructions(code):
        current: Any = None
        if ins.opname in ("LOAD_GLOBAL", "LOAD_DEREF", "LOAD_CLOSURE", "LOAD_NAME"):
            current = scope.get(ins.argval)
        elif ins.opname.startswith("LOAD_FAST"):
            current = _LOCAL
        elif ins.opname in ("LOAD_ATTR", "LOAD_METHOD"):
            if previous is _LOCAL:
                current = getattr(Tensor, ins.argval, None)
            elif isinstance(previous, types.ModuleType) and _ours(previous):
                current = getattr(previous, ins.argval, None)
            elif isinstance(previous, type):
                current = previous  # ``Add.apply``: the class is what matters
        if current is not None and current is not _LOCAL:
            found.append(current)
        previous = current
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found += _references(const, scope)
    return found


def ops_behind(fn: Callable[..., Any], registry: dict[str, Any]) -> list[Any]:
    """The registered op classes that ``fn`` may apply, by following what its code loads."""
    from tensorgraph.ops._base import Op

    registered = {id(cls) for cls in registry.values()}
    found: dict[str, Any] = {}
    seen: set[int] = set()
    stack: list[Any] = [fn]
    while stack:
        obj = stack.pop()
        if isinstance(obj, functools.partial):
            stack.append(obj.func)
            continue
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, type):  # a classmethod such as an Op's apply
            obj = owner
        if isinstance(obj, type):
            if issubclass(obj, Op) and id(obj) in registered:
                found[obj.name] = obj
            continue
        code = getattr(obj, "__code__", None)
        if code is None or id(code) in seen or not _ours(obj):
            continue
        seen.add(id(code))
        scope = {**vars(builtins), **getattr(obj, "__globals__", {})}
        for name, cell in zip(code.co_freevars, getattr(obj, "__closure__", None) or ()):
            try:
                scope[name] = cell.cell_contents
            except ValueError:  # an empty cell
                continue
        stack.extend(r for r in _references(code, scope)
                     if isinstance(r, type) or (_ours(r) and not isinstance(r, property)))
    return [found[k] for k in sorted(found)]


# --------------------------------------------------------------------------- measured facts
@functools.cache
def zero_gradient(op: Any) -> bool:
    """Whether back-propagation through ``op`` gives exactly zero on drawn interior cases."""
    from tensorgraph.autograd import gradients
    from tensorgraph.tensor import Tensor
    from tensorgraph.testing.registry_check import draw_case

    rng = np.random.default_rng(0)
    tried = 0
    for _ in range(100):
        case = draw_case(op, rng)
        if any(a.size == 0 for a in case.inputs):
            continue
        xs = [Tensor(a, requires_grad=i not in case.nondiff and a.dtype.kind == "f")
              for i, a in enumerate(case.inputs)]
        out = case.call(*xs)
        diff = [x for x in xs if x.requires_grad]
        if not diff or not out.requires_grad:
            return True
        upstream = rng.normal(size=out.shape).astype(out.dtype)
        grads = gradients(out, diff, grad_outputs=upstream, allow_unused=True)
        if any(np.any(g.numpy() != 0) for g in grads):
            return False
        tried += 1
        if tried == _ZERO_CASES:
            return True
    raise RuntimeError(f"{op.name}: fewer than {_ZERO_CASES} non-empty cases drawn from its "
                       f"Domain in 100 draws")


def probe(fn: Callable[..., Any], nin: int) -> str:
    """What an entry that reaches no op returns for float tensors that require grad."""
    from tensorgraph.tensor import Tensor

    x = Tensor(_PROBE, requires_grad=True)
    try:
        result = fn(*([x] * nin))
    except Exception as err:
        return f"refuses a lone tensor ({type(err).__name__})"
    if result is x:
        return "the tensor itself (gradient passes through)"
    if isinstance(result, Tensor):
        kind = "a boolean" if result.dtype == np.bool_ else (
            "an integer" if result.dtype.kind in "iu" else "a constant")
        return f"{kind} tensor without a graph (no gradient)"
    return f"a plain `{type(result).__name__}` (metadata)"


# --------------------------------------------------------------------------- the page
def _row(obj: Any, fn: Callable[..., Any], registry: dict[str, Any], nin: int) -> str:
    ops = ops_behind(fn, registry)
    name = f"`np.{numpy_name(obj)}`"
    if not ops:
        return f"| {name} | | {probe(fn, nin)} | |"
    backing = ", ".join(f"`{op.name}`" for op in ops)
    zero = [op.name for op in ops if zero_gradient(op)]
    second = all(op.domain.second_order for op in ops)
    order = "1st, 2nd" if second else "1st only"
    if len(zero) == len(ops):
        gradient, order = "**zero** (piecewise constant)", "every order (zero)"
    elif zero:
        gradient = "yes (" + ", ".join(f"`{z}`" for z in zero) + " contributes zero)"
    else:
        gradient = "yes"
    return f"| {name} | {backing} | {gradient} | {order} |"


def _table(title: str, entries: Iterable[tuple[Any, Callable[..., Any]]],
           registry: dict[str, Any], intro: str) -> list[str]:
    rows = sorted(((numpy_name(obj), obj, fn) for obj, fn in entries), key=lambda r: r[0])
    lines = [f"## {title}", "", intro, "",
             "| numpy | op(s) behind it | gradient | order |", "| --- | --- | --- | --- |"]
    for _, obj, fn in rows:
        nin = getattr(obj, "nin", 1)
        lines.append(_row(obj, fn, registry, nin))
    return [*lines, ""]


def render() -> str:
    ufuncs, functions, registry = _load()
    routed = {numpy_name(k) for k in (*ufuncs, *functions)}
    reached: set[str] = set()
    for fn in (*ufuncs.values(), *functions.values()):
        reached |= {op.name for op in ops_behind(fn, registry)}
    lines = [
        "# NumPy on tensors",
        "",
        "<!-- generated by docs/_tools/numpy_page.py from tensorgraph.ops.UFUNCS, FUNCTIONS "
        "and REGISTRY: do not edit by hand; tests/docs/test_numpy_page.py checks it -->",
        "",
        "A `Tensor` implements numpy's `__array_ufunc__` and `__array_function__` protocols, "
        "so plain numpy code such as `np.exp(t)` or `np.sum(t, axis=0)` runs on tensors and "
        "is recorded for backward, as in HIPS autograd. This page lists every numpy ufunc "
        "and function that tensorgraph routes, the registered op(s) that compute it, "
        "whether its gradient is zero everywhere (measured on inputs drawn from each op's "
        "domain), and whether it can be differentiated twice (every op behind it supports "
        "`create_graph=True`). Anything not listed raises a `TypeError` naming the numpy "
        "function.",
        "",
        f"Routed: **{len(ufuncs)} ufuncs** and **{len(functions)} functions**, backed by "
        f"{len(reached)} of the {len(registry)} registered ops.",
        "",
        *_table("Ufuncs", ufuncs.items(), registry,
                "Called as `np.<name>(t, ...)` with positional arguments only (see the "
                "refusals below for keywords)."),
        *_table("Functions", functions.items(), registry,
                "Called with numpy's own signature; arguments tensorgraph cannot honour "
                "(`out=`, `where=`, `dtype=` other than the tensor's, `initial=`, ...) are "
                "refused with a `TypeError` naming the function and the argument."),
        "## What is refused, and why",
        "",
        "- **`out=`, `where=`, `dtype=`, `casting=`, `order=`, `subok=` on ufuncs**: refused "
        "(`TypeError`). `out=` would write the result into an array outside the graph, "
        "`where=` leaves unselected elements undefined; call the op and select with "
        "`np.where(mask, np.exp(t), other)` instead.",
        "- **Ufunc methods** (`np.add.reduce`, `.accumulate`, `.outer`, `.at`, "
        "`.reduceat`): refused; use the reductions (`np.sum`, `np.prod`, `np.max`) and "
        "broadcasting.",
        "- **Complex data**: refused clearly, with a `DTypeError` from `tensor()` and from "
        "every op.",
        "- **Ops with a zero gradient** (marked above): they are differentiable almost "
        "everywhere with derivative zero (PyTorch's convention); gradients do not flow "
        "through them.",
        "",
    ]
    for reason, names in REFUSED.items():
        left = [n for n in names if n not in routed]
        if left:
            lines += [f"**{reason}.**", "", ", ".join(f"`np.{n}`" for n in left), ""]
    unreached = sorted(set(registry) - reached)
    lines += [
        "## Registered ops that no numpy call reaches",
        "",
        "These are tensorgraph functions (`tg.<name>`, `tg.nn.functional`) or Tensor "
        "methods and operators without a numpy counterpart:",
        "",
        ", ".join(f"`{n}`" for n in unreached) + ".",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if PAGE.read_text() != text:
            print(f"{PAGE} is stale: run python docs/_tools/numpy_page.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
