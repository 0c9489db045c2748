"""Graph pictures (`pipeline/dot.py`, `Lowered.graph`, `tiers-opt --emit=dot`): the DOT text is
read back by a small parser here, so its structure is checked with or without Graphviz; the
tests that render with `dot` skip cleanly where Graphviz is not installed."""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import pytest
from xdsl.dialects.builtin import (
    ArrayAttr,
    CallSiteLoc,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    FileLineColLoc,
    FusedLoc,
    IntAttr,
    IntegerAttr,
    ModuleOp,
    NameLoc,
    NoneAttr,
    StringAttr,
    TensorType,
    UnitAttr,
    UnknownLoc,
    f32,
    i1,
    i32,
    i64,
)
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Region

import tiers
from tiers.dialects.lax import AddOp, ExpOp
from tiers.pipeline import dot

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's `dot` is not installed "
                               "(Debian package graphviz)")
# What tiers prints as a type on an edge: `4x8xf32`, `f32`, `#1 2x3xf32` for a second result.
EDGE_TYPE = re.compile(r"(#\d+ )?([0-9?]+x)*[a-z][a-z0-9]*")


# ---------------------------------------------------------------------------------------
# A minimal DOT reader: enough of the grammar to check what module_to_dot writes.
# ---------------------------------------------------------------------------------------

_TOKEN = re.compile(r'\s+|//[^\n]*|"((?:[^"\\]|\\.)*)"|(->|[{}\[\];,=])|([A-Za-z0-9_.#]+)',
                    re.S)


@dataclass
class Cluster:
    attrs: dict[str, str] = field(default_factory=dict)
    nodes: list[str] = field(default_factory=list)  # declared in it or in a cluster inside
    parent: str | None = None


@dataclass
class Dot:
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    clusters: dict[str, Cluster] = field(default_factory=dict)

    def labelled(self, prefix: str) -> list[str]:
        return [n for n, a in self.nodes.items() if a.get("label", "").startswith(prefix)]


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], text, flags=re.S)


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        assert m, f"not DOT at {pos}: {text[pos:pos + 40]!r}"
        pos = m.end()
        if m[1] is not None:
            out.append('"' + m[1])  # a quoted string, marked by its opening quote
        elif m[2] or m[3]:
            out.append(m[2] or m[3])
    return out


def parse_dot(text: str) -> Dot:
    """The nodes, edges and clusters of one `digraph`; fails on unbalanced braces, an edge
    to an undeclared node, a node declared twice or anything past the closing brace."""
    toks, graph = _tokens(text), Dot()
    assert toks[:1] == ["digraph"] and toks[2] == "{", toks[:3]
    i = _body(toks, 3, graph, [])
    assert i == len(toks), f"text after the graph: {toks[i:i + 5]}"
    for a, b, _ in graph.edges:
        assert a in graph.nodes and b in graph.nodes, f"edge {a} -> {b}: undeclared node"
    return graph


def _attrs(toks: list[str], i: int) -> tuple[dict[str, str], int]:
    attrs: dict[str, str] = {}
    if toks[i] != "[":
        return attrs, i
    i += 1
    while toks[i] != "]":
        key, eq, value = toks[i:i + 3]
        assert eq == "=", toks[i:i + 3]
        attrs[key] = _unescape(value[1:]) if value.startswith('"') else value
        i += 3
        if toks[i] == ",":
            i += 1
    return attrs, i + 1


def _body(toks: list[str], i: int, graph: Dot, stack: list[str]) -> int:
    while toks[i] != "}":
        tok = toks[i]
        if tok == ";":
            i += 1
        elif tok in ("graph", "node", "edge"):
            _, i = _attrs(toks, i + 1)
        elif tok == "subgraph":
            name, brace = toks[i + 1:i + 3]
            assert brace == "{" and name.startswith("cluster_") and name not in graph.clusters
            graph.clusters[name] = Cluster(parent=stack[-1] if stack else None)
            i = _body(toks, i + 3, graph, [*stack, name])
        elif toks[i + 1] == "=":  # a graph attribute of the cluster we are in
            value = toks[i + 2]
            if stack:
                graph.clusters[stack[-1]].attrs[tok] = _unescape(value[1:])
            i += 3
        elif toks[i + 1] == "->":
            head = toks[i + 2]
            attrs, i = _attrs(toks, i + 3)
            graph.edges.append((tok, head, attrs))
        else:
            assert tok not in graph.nodes, f"node {tok} declared twice"
            graph.nodes[tok], i = _attrs(toks, i + 1)
            for name in stack:
                graph.clusters[name].nodes.append(tok)
    return i + 1


# ---------------------------------------------------------------------------------------
# A real model: an MLP's loss and gradient, through tiers.jit.
# ---------------------------------------------------------------------------------------


def mlp_loss(p, x):
    h = jax.nn.relu(x @ p["w1"] + p["b1"])
    y = jax.nn.softmax(h @ p["w2"])
    return jnp.sum(y ** 2)


def train_step(p, x):
    return jax.value_and_grad(mlp_loss)(p, x)


def loops(x):
    y = jax.lax.fori_loop(0, 3, lambda i, c: c * 2.0, x)
    z = jax.lax.cond(x[0] > 0, lambda a: a + 1, lambda a: a - 1, x)
    return jax.lax.while_loop(lambda c: c[0] < 10, lambda c: c + 1, y + z)


@pytest.fixture(scope="module")
def lowered() -> tiers.frontend.jit.Lowered:
    p = {"w1": jnp.ones((4, 8)), "b1": jnp.ones(8), "w2": jnp.ones((8, 3))}
    return tiers.jit(train_step).lower(p, jnp.ones((2, 4)))


def _ops(module: ModuleOp) -> list[str]:
    """The names of the ops drawn as op nodes (functions and returns are drawn otherwise)."""
    return [op.name for op in module.walk()
            if op.name not in ("builtin.module", "func.func", "func.return")]


@pytest.mark.parametrize("stage", ["import", "optimized"])
def test_a_models_graph_has_a_node_per_op_and_typed_edges(lowered, stage):
    text = lowered.graph(stage)
    graph = parse_dot(text)
    ops = _ops(lowered.compiler_ir(stage))
    op_nodes = [a["label"].split("\n")[0] for n, a in graph.nodes.items() if n[0] == "n"]
    assert sorted(op_nodes) == sorted(ops)
    main = next(c for c in graph.clusters.values() if c.attrs["label"] == "@main")
    assert len([n for n in main.nodes if graph.nodes[n].get("shape") == "invhouse"]) == 4
    assert len([n for n in main.nodes if graph.nodes[n].get("shape") == "house"]) == 4
    for _, _, attrs in graph.edges:
        if "style" not in attrs:  # a data edge, not a yield's or an invisible one
            assert EDGE_TYPE.fullmatch(attrs["label"]), attrs
    assert any(a["label"] == "4x8xf32" for _, _, a in graph.edges)
    # The user's lines are the tooltips of the ops traced from them.
    line = mlp_loss.__code__.co_firstlineno + 1
    assert any(a.get("tooltip", "").endswith(f"test_dot.py:{line}:21")
               for a in graph.nodes.values())


def test_fused_kernels_are_clusters_holding_their_ops(lowered):
    graph = parse_dot(lowered.graph())  # "optimized" by default
    kernels = [c for c in graph.clusters.values() if c.attrs["label"] == "fused.kernel"]
    assert len(kernels) == len([o for o in _ops(lowered.program.module) if o == "fused.kernel"])
    assert kernels
    for cluster in kernels:
        labels = [graph.nodes[n]["label"].split("\n")[0] for n in cluster.nodes]
        assert "fused.kernel" in labels and "fused.yield" in labels
        assert any(label.startswith("lax.") for label in labels)
        assert cluster.parent is not None  # inside the function's cluster
    # Colours by dialect level.
    for prefix, level in [("array.", "array"), ("lax.", "lax"), ("fused.", "fused")]:
        assert {graph.nodes[n]["fillcolor"] for n in graph.labelled(prefix)} == \
            {dot.COLOURS[level]}


def test_region_ops_are_clusters_and_their_yields_point_at_them():
    graph = parse_dot(tiers.jit(loops).lower(jnp.ones(3)).graph("import"))
    by_label = {c.attrs["label"]: c for c in graph.clusters.values()}
    assert {"lax.scan", "lax.cond", "lax.while"} <= set(by_label)
    for name in ("lax.scan", "lax.cond", "lax.while"):
        cluster = by_label[name]
        (node,) = [n for n in cluster.nodes if graph.nodes[n]["label"].startswith(name)]
        yields = [a for a, b, attrs in graph.edges if b == node and attrs.get("style") == "dashed"]
        assert len(yields) == 2 if name != "lax.scan" else len(yields) == 1
        assert all(a in cluster.nodes for a in yields)
    scan = by_label["lax.scan"]
    assert any(graph.nodes[n]["label"].startswith("^arg0") for n in scan.nodes)


# ---------------------------------------------------------------------------------------
# Escaping: whatever a location or attribute holds, dot reads the text and shows it as is.
# ---------------------------------------------------------------------------------------

ODD = 'we"ird {a} <b> & &lt; \\N C:\\x\\ line\nbreak'


def _chain(n: int, loc: FileLineColLoc | None = None) -> ModuleOp:
    """@main: n ops alternating `lax.exp` and `lax.add` of the previous value and the input."""
    t = TensorType(f32, [4, 8])
    block = Block(arg_types=[t])
    x = prev = block.args[0]
    for i in range(n):
        op = (ExpOp.create(operands=[prev], result_types=[t]) if i % 2 else
              AddOp.create(operands=[prev, x], result_types=[t]))
        if loc is not None:
            op.location = loc
        block.add_op(op)
        prev = op.results[0]
    block.add_op(ReturnOp(prev))
    return ModuleOp([FuncOp("main", ([t], [t]), Region(block))])


def test_labels_and_tooltips_are_escaped():
    loc = FileLineColLoc(StringAttr(ODD), IntAttr(3), IntAttr(4))
    module = _chain(2, loc)
    for op in module.walk():
        if op.name == "lax.exp":
            op.attributes["note"] = StringAttr('"}{<>\\')
    text = dot.module_to_dot(module, 'a "name" {x}')
    graph = parse_dot(text)
    (exp,) = graph.labelled("lax.exp")
    assert graph.nodes[exp]["label"] == 'lax.exp\nnote="}{<>\\'
    tip = _unescape(graph.nodes[exp]["tooltip"])  # Graphviz unescapes tooltips twice
    assert tip == f"{ODD}:3:4".replace("&", "&amp;")  # Graphviz reads entities
    assert dot.quote("\x07\x00") == '"  "'
    assert dot.quote("\udcff") == '"?"'


def test_location_labels():
    a = FileLineColLoc(StringAttr("m.py"), IntAttr(1), IntAttr(2))
    b = FileLineColLoc(StringAttr("n.py"), IntAttr(3), IntAttr(4))
    assert dot.location_label(a) == "m.py:1:2"
    assert dot.location_label(FusedLoc(ArrayAttr([a, b]), NoneAttr())) == "m.py:1:2; n.py:3:4"
    assert dot.location_label(FusedLoc(ArrayAttr([a] * 6), NoneAttr())).endswith("... 2 more")
    assert dot.location_label(NameLoc(StringAttr("w1"), a)) == "w1 (m.py:1:2)"
    assert dot.location_label(CallSiteLoc(a, b)) == "m.py:1:2 called from n.py:3:4"
    assert dot.location_label(UnknownLoc()) == ""


def test_attribute_summaries_are_short():
    def dense(values, shape):
        return DenseIntOrFPElementsAttr.from_list(TensorType(f32, shape), values)

    assert dot.attribute_text(dense([2.0], [4, 8])) == "2"
    assert dot.attribute_text(dense([0.5] * 6, [2, 3])) == "0.5"  # a splat stored whole
    assert dot.attribute_text(dense([1.0, 2.0, 3.0], [3])) == "[1, 2, 3]"
    assert dot.attribute_text(dense(list(range(1000)), [1000])) == "dense<1000 values>"
    assert dot.attribute_text(DenseArrayBase.from_list(i64, [0, 1])) == "[0, 1]"
    assert dot.attribute_text(IntegerAttr(1, i1)) == "true"
    assert dot.attribute_text(IntegerAttr(-2, i32)) == "-2"
    assert dot.attribute_text(UnitAttr()) is None
    long = dot.attribute_text(DenseArrayBase.from_list(i64, list(range(100))))
    assert long is not None and len(long) == 32 and long.endswith("...")


def test_graph_takes_only_known_stages_and_formats(lowered):
    with pytest.raises(ValueError, match="stages: import, optimized"):
        lowered.graph("hlo")
    with pytest.raises(ValueError, match="formats: dot, svg, png"):
        lowered.graph("optimized", "jpeg")  # type: ignore[call-overload]


def test_rendering_without_graphviz_names_the_package(lowered, monkeypatch):
    monkeypatch.setattr(dot.shutil, "which", lambda name: None)
    with pytest.raises(dot.GraphvizNotFoundError, match="Debian package `graphviz`"):
        lowered.graph("optimized", "svg")


def test_time_is_linear_in_module_size():
    """8x the ops takes about 8x the time (a quadratic walk would take 64x)."""
    small, large = _chain(2000), _chain(16000)
    dot.module_to_dot(small)  # warm up

    def timed(module: ModuleOp) -> float:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            dot.module_to_dot(module)
            best = min(best, time.perf_counter() - start)
        return best

    assert timed(large) < 24 * timed(small)


# ---------------------------------------------------------------------------------------
# Rendering with Graphviz, where it is installed.
# ---------------------------------------------------------------------------------------


@needs_dot
def test_a_models_graph_renders_as_svg_with_its_op_names(lowered):
    svg = lowered.graph("optimized", "svg")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and svg.rstrip().endswith("</svg>")
    for name in ("fused.kernel", "fused.yield", "array.matmul", "lax.dot_general", "@main"):
        assert name in svg
    assert "cluster_" in svg  # the kernels' clusters are drawn
    assert "test_dot.py:" in svg  # tooltips carry the user's lines
    assert lowered.graph("import", format="png").startswith(b"\x89PNG\r\n\x1a\n")


@needs_dot
def test_dot_accepts_odd_labels_and_shows_them_as_they_are():
    loc = FileLineColLoc(StringAttr(ODD), IntAttr(3), IntAttr(4))
    svg = dot.render(dot.module_to_dot(_chain(3, loc), 'a "name" {x}'), "svg").decode()
    shown = ODD.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;") \
        .replace(">", "&gt;").replace("\n", "&#10;")
    assert f'xlink:title="{shown}:3:4"' in svg


@needs_dot
def test_dot_failures_are_reported():
    with pytest.raises(RuntimeError, match="dot -Tsvg failed"):
        dot.render("digraph { a -> }", "svg")
