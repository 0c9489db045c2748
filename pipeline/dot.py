"""Graph pictures: a module as Graphviz DOT text, and that text rendered by Graphviz's `dot`.

`module_to_dot` draws each function as a cluster: its arguments (inverted houses) at the top,
one node per op (the op name and a short summary of its attributes, coloured by dialect level:
`array`, `fused`, `lax`, other), its results (houses) at the bottom, and an edge from each
value's producer to each of its consumers labelled with the value's type (`4x8xf32`). An op
with regions (`fused.kernel`, `lax.while`/`cond`/`scan`, ...) is a nested cluster holding its
block arguments, its member ops and its own node, which the terminators point to (dashed) and
whose results flow on. Each op's user source line (`loc(...)`) is its tooltip.

MLIR's counterpart is `mlir-opt --view-op-graph` (`mlir/lib/Transforms/ViewOpGraph.cpp`). The
text is built in one walk, every lookup is a dict and the cycle collector is paused (its full
scans of the IR grow with it), so it takes time linear in the module;
edges are written after every node, since Graphviz puts a node in the first subgraph that
mentions it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable

from xdsl.dialects.builtin import (
    ArrayAttr,
    CallSiteLoc,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    FileLineColLoc,
    FloatAttr,
    FusedLoc,
    IntegerAttr,
    ModuleOp,
    NameLoc,
    StringAttr,
    SymbolRefAttr,
    TensorType,
    UnitAttr,
    i1,
)
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Attribute, Block, BlockArgument, Operation, SSAValue
from xdsl.traits import IsTerminator

from tiers.passes.collector import gc_paused

RENDER_FORMATS = ("svg", "png")  # what `render` asks `dot -T` for

# Fill colours by dialect level; clusters of region ops take a paler shade of their op's.
COLOURS = {"array": "#cfe2ff", "fused": "#ffd8a8", "lax": "#d3f0d3"}
OTHER_COLOUR = "#e8e8e8"
_CLUSTER_COLOURS = {"array": "#eef4ff", "fused": "#fff3e0", "lax": "#f0faf0"}

# Properties that say nothing a reader of the picture needs (operand bookkeeping, the
# function's own name and type, which its cluster shows).
_HIDDEN = frozenset({"operandSegmentSizes", "resultSegmentSizes", "sym_visibility",
                     "arg_attrs", "res_attrs"})
_MAX_ATTRS = 4  # attributes shown in an op's label, then "..."
_MAX_TEXT = 32  # characters of one attribute's value
_MAX_LOCS = 4  # locations of a fused location shown in a tooltip

_HEADER = """digraph {name} {{
  graph [rankdir=TB, newrank=true, fontname="Helvetica", fontsize=11];
  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, \
fillcolor="{other}"];
  edge [fontname="Helvetica", fontsize=8, color="#555555"];
"""

# DOT's quoted strings: backslashes and quotes escaped, line breaks as `\n`, other control
# characters as spaces; `&` as an entity, since Graphviz reads `&lt;` in a label as `<`.
# Graphviz unescapes a tooltip twice (`\\N` in one shows the node's name), so a backslash
# there is written as four.
_CONTROL = {chr(c): " " for c in (*range(32), 127) if c != 10}
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "&": "&amp;", **_CONTROL})
_TOOLTIP_ESCAPES = str.maketrans({"\\": "\\\\\\\\", '"': '\\"', "\n": "\\n", "&": "&amp;",
                                  **_CONTROL})


class GraphvizNotFoundError(RuntimeError):
    """Rendering asked for, and Graphviz's `dot` program is not on PATH."""


def quote(text: str, tooltip: bool = False) -> str:
    """`text` as a DOT quoted string that `dot` accepts and shows as `text`, whatever it
    holds (`tooltip`: for a tooltip attribute, which Graphviz unescapes once more)."""
    if not text.isascii():  # lone surrogates (undecodable file names) are no UTF-8
        text = text.encode("utf-8", "replace").decode("utf-8")
    return '"' + text.translate(_TOOLTIP_ESCAPES if tooltip else _ESCAPES) + '"'


def module_to_dot(module: ModuleOp, name: str = "tiers") -> str:
    """The DOT text of `module`'s functions (and any other top-level ops), one `digraph`."""
    with gc_paused():  # the walk's allocations would trigger full scans of the whole IR
        return _Writer().write(module, name)


def render(dot_text: str, format: str) -> bytes:
    """`dot_text` rendered by Graphviz's `dot -T<format>` ("svg" or "png");
    `GraphvizNotFoundError` when `dot` is not installed, `RuntimeError` when it fails."""
    if format not in RENDER_FORMATS:
        raise ValueError(f"unknown graph format '{format}' (formats: dot, "
                         f"{', '.join(RENDER_FORMATS)})")
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFoundError(
            f"rendering a graph as {format} needs Graphviz's `dot` program, which is not on "
            "PATH: install Graphviz (the Debian package `graphviz`: apt-get install graphviz), "
            "or take the DOT text (format='dot') and render it elsewhere")
    done = subprocess.run([exe, f"-T{format}"], input=dot_text.encode("utf-8"),
                          capture_output=True, check=False)
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"Graphviz's dot -T{format} failed (exit code {done.returncode}): "
                           f"{why}")
    return done.stdout


def level(op: Operation) -> str:
    """The dialect level an op is coloured by: "array", "fused", "lax" or "other"."""
    dialect = op.name.split(".", 1)[0]
    return dialect if dialect in COLOURS else "other"


# ---------------------------------------------------------------------------------------
# The walk.
# ---------------------------------------------------------------------------------------


class _Writer:
    """One walk over a module: node and cluster lines as it goes, edges at the end."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        # value -> (its node, its result number when its op has several)
        self.nodes: dict[SSAValue, tuple[str, int | None]] = {}
        # (value, consumer node, "" or "style=invis"), resolved once every node exists
        self.edges: list[tuple[SSAValue, str, str]] = []
        self.plain_edges: list[str] = []  # terminator -> its region op, both known when written
        # Labels of types and locations by identity: hashing an attribute hashes all of it.
        self.types: dict[int, str] = {}
        self.locs: dict[int, str] = {}
        self.count = 0

    def write(self, module: ModuleOp, name: str) -> str:
        self.lines.append(_HEADER.format(name=quote(name), other=OTHER_COLOUR))
        for block in module.body.blocks:
            self._block(block, "  ")
        undefined = []  # values defined outside the module (a broken input): still drawn
        for value, consumer, extra in self.edges:
            if value not in self.nodes:
                node = self._new("u")
                undefined.append(f'  {node} [label="?", shape=circle];\n')
                self.nodes[value] = (node, None)
            producer, index = self.nodes[value]
            if extra:  # an invisible edge, for ranking only: no label to take room
                self.lines.append(f"  {producer} -> {consumer} [{extra}];\n")
                continue
            label = self._type(value.type)
            if index is not None:
                label = f"#{index} {label}"
            self.lines.append(f"  {producer} -> {consumer} [label={quote(label)}];\n")
        self.lines[1:1] = undefined
        self.lines.extend(self.plain_edges)
        self.lines.append("}\n")
        return "".join(self.lines)

    def _new(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def _block(self, block: Block, indent: str) -> list[str]:
        """Draw `block`'s ops; the nodes of its terminators (to point at their op)."""
        ends = []
        for op in block.ops:
            if isinstance(op, FuncOp):
                self._function(op, indent)
                continue
            node = self._op(op, indent)
            if op.has_trait(IsTerminator):
                ends.append(node)
        return ends

    def _op(self, op: Operation, indent: str) -> str:
        node = self._new("n")
        colour = COLOURS.get(level(op), OTHER_COLOUR)
        attrs = f"label={quote(_label(op))}, fillcolor=\"{colour}\""
        if tip := self._loc(op.location):
            attrs += f", tooltip={quote(tip, tooltip=True)}"
        if not op.regions:
            self.lines.append(f"{indent}{node} [{attrs}];\n")
        else:
            self._cluster(op, node, attrs, indent)
        several = len(op.results) > 1
        for i, result in enumerate(op.results):
            self.nodes[result] = (node, i if several else None)
        for operand in op.operands:
            self.edges.append((operand, node, ""))
        return node

    def _cluster(self, op: Operation, node: str, attrs: str, indent: str) -> None:
        """`op` with regions: a cluster of its block arguments, its member ops and its node,
        which each terminator points to."""
        inner = indent + "  "
        fill = _CLUSTER_COLOURS.get(level(op), "#fafafa")
        style = "filled,rounded" if level(op) == "fused" else "filled,rounded,dashed"
        self.lines.append(f"{indent}subgraph cluster_{node} {{\n"
                          f"{inner}label={quote(op.name)}; style=\"{style}\"; "
                          f"fillcolor=\"{fill}\"; color=\"#999999\";\n")
        for region in op.regions:
            for block in region.blocks:
                self._arguments(block, op.operands if block is region.blocks.first else (),
                                inner)
                for end in self._block(block, inner):
                    self.plain_edges.append(
                        f"  {end} -> {node} [style=dashed, arrowhead=empty];\n")
        self.lines.append(f"{inner}{node} [{attrs}, penwidth=2];\n{indent}}}\n")

    def _arguments(self, block: Block, operands: Iterable[SSAValue], indent: str) -> None:
        """Nodes for `block`'s arguments; each is ranked below its op's operand of the same
        position (an invisible edge), so a region's inputs sit where its op's inputs arrive."""
        for arg, operand in _paired(block.args, operands):
            node = self._new("b")
            label = f"^arg{arg.index}\n{self._type(arg.type)}"
            self.lines.append(f"{indent}{node} [label={quote(label)}, shape=ellipse, "
                              f"fillcolor=white];\n")
            self.nodes[arg] = (node, None)
            if operand is not None:
                self.edges.append((operand, node, "style=invis"))

    def _function(self, func: FuncOp, indent: str) -> None:
        """`func`: a cluster of its arguments, its body and its results."""
        inner = indent + "  "
        self.lines.append(f"{indent}subgraph {self._new('cluster_f')} {{\n"
                          f"{inner}label={quote('@' + func.sym_name.data)}; "
                          f"style=\"rounded\"; color=\"#666666\";\n")
        if not func.body.blocks:
            self.lines.append(f"{inner}{self._new('d')} [label=\"declaration\", "
                              f"shape=plaintext, style=\"\"];\n")
        outputs = func.function_type.outputs.data if func.body.blocks else ()
        results = [self._new("r") for _ in outputs]
        for n, block in enumerate(func.body.blocks):
            self._function_block(block, n, results, inner)
        for i, (node, type) in enumerate(zip(results, outputs, strict=True)):
            label = f"result {i}\n{self._type(type)}"
            self.lines.append(f"{inner}{node} [label={quote(label)}, shape=house, "
                              f"fillcolor=white];\n")
        self.lines.append(f"{indent}}}\n")

    def _function_block(self, block: Block, n: int, results: list[str], indent: str) -> None:
        """Block `n` of a function: its arguments (the function's, for the first), its ops;
        what `func.return` returns goes to the nodes `results`."""
        for arg in block.args:
            node = self._new("a")
            what = f"arg {arg.index}" if n == 0 else f"^bb{n} arg {arg.index}"
            if arg.name_hint:
                what += f": {arg.name_hint}"
            label = f"{what}\n{self._type(arg.type)}"
            shape = "invhouse" if n == 0 else "ellipse"
            self.lines.append(f"{indent}{node} [label={quote(label)}, shape={shape}, "
                              f"fillcolor=white];\n")
            self.nodes[arg] = (node, None)
        for op in block.ops:
            if isinstance(op, ReturnOp):
                for value, node in zip(op.arguments, results, strict=False):
                    self.edges.append((value, node, ""))
            elif isinstance(op, FuncOp):
                self._function(op, indent)
            else:
                self._op(op, indent)

    def _type(self, type: Attribute) -> str:
        text = self.types.get(id(type))  # the module holds `type` for the whole walk
        if text is None:
            text = self.types[id(type)] = type_label(type)
        return text

    def _loc(self, loc: Attribute | None) -> str:
        if loc is None:
            return ""
        text = self.locs.get(id(loc))
        if text is None:
            text = self.locs[id(loc)] = location_label(loc)
        return text


def _paired(first: Iterable[BlockArgument], second: Iterable[SSAValue]
                       ) -> Iterable[tuple[BlockArgument, SSAValue | None]]:
    """Pairs of `first` with `second`, `second` padded with None (never longer)."""
    rest = iter(second)
    for x in first:
        yield x, next(rest, None)


# ---------------------------------------------------------------------------------------
# Labels.
# ---------------------------------------------------------------------------------------


def type_label(type: Attribute) -> str:
    """A type as an edge label: `4x8xf32` for `tensor<4x8xf32>`, `?` for a dynamic size."""
    if isinstance(type, TensorType):
        dims = ["?" if d < 0 else str(d) for d in type.get_shape()]
        return "x".join([*dims, str(type.element_type)])
    return str(type)


def location_label(loc: Attribute) -> str:
    """A location as a tooltip: `model.py:7:11`, several joined by `; `, "" when unknown."""
    if isinstance(loc, FileLineColLoc):
        return f"{loc.filename.data}:{loc.line.data}:{loc.column.data}"
    if isinstance(loc, NameLoc):
        inner = location_label(loc.location)
        return f"{loc.desc.data} ({inner})" if inner else loc.desc.data
    if isinstance(loc, CallSiteLoc):
        callee, caller = location_label(loc.callee), location_label(loc.caller)
        return f"{callee} called from {caller}" if caller else callee
    if isinstance(loc, FusedLoc) and isinstance(loc.locations, ArrayAttr):
        parts = [p for p in (location_label(x) for x in loc.locations.data) if p]
        more = len(parts) - _MAX_LOCS
        return "; ".join(parts[:_MAX_LOCS]) + (f"; ... {more} more" if more > 0 else "")
    return ""


def _label(op: Operation) -> str:
    """`op`'s name, then up to `_MAX_ATTRS` of its properties and attributes, one a line."""
    shown = [(k, v) for k, v in (*op.properties.items(), *op.attributes.items())
             if k not in _HIDDEN]
    lines = [op.name]
    for key, value in shown[:_MAX_ATTRS]:
        text = attribute_text(value)
        lines.append(key if text is None else f"{key}={text}")
    if len(shown) > _MAX_ATTRS:
        lines.append(f"... {len(shown) - _MAX_ATTRS} more")
    return "\n".join(lines)


def attribute_text(attr: Attribute) -> str | None:
    """A short text for an attribute's value (None for a unit attribute), at most
    `_MAX_TEXT` characters; large constants are summarised, never printed whole."""
    text = _attribute_text(attr)
    if text is not None and len(text) > _MAX_TEXT:
        text = text[:_MAX_TEXT - 3] + "..."
    return text


def _attribute_text(attr: Attribute) -> str | None:
    if isinstance(attr, UnitAttr):
        return None
    if isinstance(attr, IntegerAttr) and attr.type == i1:  # a bool (xDSL's BoolAttr)
        return "true" if attr.value.data else "false"
    if isinstance(attr, IntegerAttr):
        return str(attr.value.data)
    if isinstance(attr, FloatAttr):
        return f"{attr.value.data:.6g}"
    if isinstance(attr, StringAttr):
        return attr.data[:_MAX_TEXT + 1]
    if isinstance(attr, SymbolRefAttr):
        return "@" + attr.string_value()
    if isinstance(attr, DenseArrayBase):
        return _values(attr.get_values()[:_MAX_TEXT])
    if isinstance(attr, ArrayAttr):
        items = [_attribute_text(a) or "" for a in attr.data[:_MAX_TEXT]]
        return "[" + ", ".join(items) + "]"
    if isinstance(attr, DenseIntOrFPElementsAttr):
        return _dense(attr)
    return str(attr)


def _dense(attr: DenseIntOrFPElementsAttr) -> str:
    """A constant's value: its elements when few or all equal, else how many there are."""
    data = attr.data.data
    count = len(attr)
    if count == 0:
        return "[]"
    size = len(data) // count
    if data == data[:size] * count:  # a splat, checked on the bytes (no Python loop)
        count = 1
    try:
        values = attr.get_element_type().unpack(data[:size * min(count, 4)], min(count, 4))
    except Exception:  # an element type xDSL cannot unpack: say what it is
        return f"dense {type_label(attr.type)}"
    if count == 1:
        return _values(values[:1])[1:-1]
    if count <= 4:
        return _values(values)
    return f"dense<{count} values>"


def _values(values: Iterable[object]) -> str:
    return "[" + ", ".join(f"{v:.6g}" if isinstance(v, float) else str(v)
                           for v in values) + "]"
