"""StableHLO text straight from tiers IR: the JAX target's default emission.

Why text. Walking the IR with `jax.lax` calls inside `jax.jit` makes JAX trace and lower the
whole program a second time (30-100 us per op). Writing StableHLO text from the IR costs a few
us per op, and MLIR parses it into the lowering context of the `jax.jit` being compiled, where
it is merged as a private function and called (`lower`), as `jax.export` calls a serialized
function. So XLA compiles one module, `jax.jit`'s dispatcher and caches stay in front of it,
and the text itself is what `tiers-opt -t stablehlo` prints.

How. `HloEmitter` walks one function like `targets/walk.Walker` and writes one StableHLO op
(or a few) per tiers op, in MLIR's generic form, each with the tiers op's source location as
`loc(...)`, so XLA's metadata and profiles name the user's lines (`loc(unknown)` where it has
none: MLIR would locate it in the text). Parameters are located by their names (`loc("x")`)
and results carry `jax.result_info`, as in JAX's own StableHLO (dialects/names.py). Rules are
keyed by op class (`rules.EMIT_RULES`; a plugin adds its own there), get the emitter, the op
and the operand names, and return the result names. An op without an emission rule is lowered
by JAX from its walk rule (`fallback`): one private function per distinct op signature, cached,
so it costs a JAX trace once per process, not per program. `tests/test_emission.py` lists the
ops that take that path and cross-checks both emissions.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jax._src import api as jax_api
from jax._src.lib.mlir import ir
from numpy.typing import DTypeLike
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    FileLineColLoc,
    FusedLoc,
    ModuleOp,
    NameLoc,
    NoneAttr,
    TensorType,
    UnknownLoc,
)
from xdsl.ir import Attribute, Block, BlockArgument, Operation, Region, SSAValue

from tiers.dialects import dtypes, fused, lax, lax_keys, names
from tiers.dialects.constants import constant_array
from tiers.targets.walk import OpRule, Walker, find_function

# JAX's own `jit`, from where JAX defines it (`jax._src.api`), not the `jax.jit` attribute:
# code that replaces `jax.jit` (with `tiers.jit`, as `make compat` does, or a mock), before or
# after tiers loads, must not send tiers' internal compiles back through itself. Every
# internal `jit` of tiers is this one.
JAX_JIT = jax_api.jit

EmitRule = Callable[..., "str | Sequence[str]"]
_TERMINATORS = frozenset({func.ReturnOp, fused.YieldOp, lax.YieldOp})


class HloEmitter:
    """Writes the StableHLO text of one module's functions; see the module docstring."""

    def __init__(self, module: ModuleOp, rules: dict[type, EmitRule],
                 walk_rules: dict[type, OpRule]):
        self.module = module
        self.rules = rules
        self.walk_rules = walk_rules
        self.lines: list[str] = []
        self.indent = "    "
        self.env: dict[SSAValue, str] = {}
        self.types: dict[str, str] = {}  # value name -> its type's text
        self.loc = ""  # ` loc(...)` of the op being emitted
        self._count = 0
        self._functions: dict[str, str] = {}  # tiers function -> emitted name
        self._pending: list[func.FuncOp] = []
        self.extra: dict[str, str] = {}  # private helper functions (fallbacks) by name

    # -- names, types, ops -------------------------------------------------------------

    def fresh(self, prefix: str = "v") -> str:
        self._count += 1
        return f"%{prefix}{self._count}"

    def op(self, name: str, operands: Sequence[str], result_types: Sequence[str | Attribute],
           attrs: str = "", regions: Sequence[str] = ()) -> list[str]:
        """Append `%r = "name"(operands) {attrs} (regions) : (types) -> (types)`; its results."""
        types = [t if isinstance(t, str) else type_text(t) for t in result_types]
        results = [self.fresh() for _ in types]
        if len(results) == 1:
            lhs = f"{results[0]} = "
        elif results:
            base = results[0]
            results = [f"{base}#{i}" for i in range(len(types))]
            lhs = f"{base}:{len(types)} = "
        else:
            lhs = ""
        for r, t in zip(results, types):
            self.types[r] = t
        attr_text = f" {{{attrs}}}" if attrs else ""
        region_text = f" ({', '.join(regions)})" if regions else ""
        ins = ", ".join(self.types[o] for o in operands)
        outs = ", ".join(types)
        # Generic form: regions come before the attribute dictionary.
        self.lines.append(f"{self.indent}{lhs}\"{name}\"({', '.join(operands)}){region_text}"
                          f"{attr_text} : ({ins}) -> ({outs}){self.loc}")
        return results

    def one(self, name: str, operands: Sequence[str], result_type: str | Attribute,
            attrs: str = "", regions: Sequence[str] = ()) -> str:
        """`op` of one result, its name (`op` inlined: most ops take this path)."""
        if regions:
            return self.op(name, operands, [result_type], attrs, regions)[0]
        t = result_type if isinstance(result_type, str) else type_text(result_type)
        self._count += 1
        result = f"%v{self._count}"
        types = self.types
        types[result] = t
        ins = ", ".join([types[o] for o in operands])
        attr_text = f" {{{attrs}}}" if attrs else ""
        self.lines.append(f"{self.indent}{result} = \"{name}\"({', '.join(operands)}){attr_text}"
                          f" : ({ins}) -> ({t}){self.loc}")
        return result

    def constant(self, array: np.ndarray) -> str:
        """A `stablehlo.constant` holding `array` (bytes in hex: exact and linear in size)."""
        return self.one("stablehlo.constant", [], array_type(array),
                        f"value = {dense(array)}")

    def scalar(self, value: Any, element: Attribute) -> str:
        """A rank-0 constant of `element` type."""
        return self.constant(np.asarray(value, dtypes.to_numpy(element)))

    def region(self, arg_types: Sequence[str | Attribute],
               body: Callable[[list[str]], Sequence[str]]) -> str:
        """The text of a one-block region: `body(block argument names)` emits its ops and
        returns what the block returns (`stablehlo.return`)."""
        types = [t if isinstance(t, str) else type_text(t) for t in arg_types]
        args = [self.fresh("a") for _ in types]
        for a, t in zip(args, types):
            self.types[a] = t
        outer, outer_indent = self.lines, self.indent
        self.lines, self.indent = [], outer_indent + "  "
        try:
            outs = list(body(args))
            self.lines.append(f"{self.indent}\"stablehlo.return\"({', '.join(outs)}) : "
                              f"({', '.join(self.types[o] for o in outs)}) -> (){self.loc}")
            inner = self.lines
        finally:
            self.lines, self.indent = outer, outer_indent
        head = ", ".join(f"{a}: {t}" for a, t in zip(args, types))
        return "{\n" + f"{outer_indent}^bb0({head}):\n" + "\n".join(inner) + f"\n{outer_indent}}}"

    # -- walking tiers IR --------------------------------------------------------------

    def block(self, block: Block, args: Sequence[str]) -> list[str]:
        """Emit `block`'s ops with its arguments named `args`; the names its terminator
        returns or yields."""
        env = self.env
        for a, name in zip(block.args, args, strict=True):
            env[a] = name
        rules = self.rules
        for op in block.ops:
            kind = type(op)  # exact classes: this loop runs once per op of every program
            # `_operands`: the tuple behind xDSL's `operands` view, which is rebuilt and
            # indexed per access
            if kind in _TERMINATORS:
                return [env[v] for v in op._operands]
            self.loc = location_text(op.location)
            operands = [env[v] for v in op._operands]
            if kind is fused.KernelOp:  # inline: XLA fuses by its own rules
                outs = self.block(op.body.block, operands)
            elif kind is func.CallOp:
                outs = self.call(op, operands)
            else:
                rule = rules.get(kind)
                emitted = rule(self, op, *operands) if rule else self.fallback(op, operands)
                if emitted.__class__ is str:
                    results = op.results
                    if len(results) == 1:  # most ops: one result, its name
                        env[results[0]] = emitted
                        continue
                    outs = [emitted]
                else:
                    outs = list(emitted)
            if len(outs) != len(op.results):
                raise ValueError(f"emission of '{op.name}' gave {len(outs)} results, "
                                 f"expected {len(op.results)}")
            for r, name in zip(op.results, outs):
                env[r] = name
        raise ValueError("block has no terminator")

    def call(self, op: func.CallOp, operands: list[str]) -> list[str]:
        callee = self.function_name(find_function(self.module, op.callee.string_value()))
        return self.op("func.call", operands, [r.type for r in op.results],
                       f"callee = @{callee}")

    def function_name(self, fn: func.FuncOp) -> str:
        """The emitted name of tiers function `fn` (emitted once, after the current one)."""
        name = self._functions.get(fn.sym_name.data)
        if name is None:
            name = self._functions[fn.sym_name.data] = f"tiers_{len(self._functions)}"
            self._pending.append(fn)
        return name

    def function(self, fn: func.FuncOp, public: bool) -> list[str]:
        """The text of one function."""
        name = self._functions[fn.sym_name.data]
        block = fn.body.block
        args = [self.fresh("arg") for _ in block.args]
        types = [type_text(a.type) for a in block.args]
        for a, t in zip(args, types):
            self.types[a] = t
        self.lines, self.indent, self.loc = [], "    ", ""
        outs = self.block(block, args)
        out_types = [self.types[o] for o in outs]
        # Parameters located by their names (`loc("params['w']")`, as JAX's StableHLO names
        # them), results named as JAX names them (`jax.result_info`): `dialects/names.py`.
        head = ", ".join(f"{a}: {t}{_argument_loc(b)}"
                         for a, t, b in zip(args, types, block.args))
        results = ", ".join(f"{t} {{jax.result_info = {mlir_string(n)}}}" if n else t
                            for t, n in zip(out_types, names.result_names(fn)))
        visibility = "" if public else "private "
        ret = location_text(block.last_op.location) if block.last_op else _UNKNOWN
        return [f"  func.func {visibility}@{name}({head}) -> ({results}) {{",
                *self.lines,
                f"    \"func.return\"({', '.join(outs)}) : ({', '.join(out_types)}) -> (){ret}",
                f"  }}{location_text(fn.location)}"]

    def module_text(self, entry: str) -> str:
        """The module: `@entry` as the public `@main`, the functions it calls private."""
        self._functions[entry] = "main"
        fns = [self.function(find_function(self.module, entry), public=True)]
        while self._pending:
            fns.append(self.function(self._pending.pop(0), public=False))
        body = [line for fn in fns for line in fn] + list(self.extra.values())
        return "module {\n" + "\n".join(body) + "\n}\n"

    # -- ops without an emission rule --------------------------------------------------

    def fallback(self, op: Operation, operands: list[str]) -> list[str]:
        """`op` lowered by JAX from its walk rule, as a private function called here."""
        walk_rule = self.walk_rules.get(type(op))
        if walk_rule is None:
            raise NotImplementedError(f"the JAX target has no rule for '{op.name}'")
        captured = self._captured(op)
        key = fallback_key(op, captured)
        name, text = _fallback_function(key, op, tuple(captured), self.module, self.walk_rules)
        self.extra.setdefault(name, text)
        ins = operands + [self.env[v] for v in captured]
        return self.op("func.call", ins, [r.type for r in op.results], f"callee = @{name}")

    def _captured(self, op: Operation) -> list[SSAValue]:
        if not op.regions:
            return []
        walker = Walker(self.module, self.walk_rules, "jax")
        values: dict[SSAValue, None] = {}
        for region in op.regions:
            values.update((v, None) for v in walker.captured(region.block))
        return list(values)


# ---------------------------------------------------------------------------------------
# Fallback: JAX lowers an op from its walk rule, once per distinct op.
# ---------------------------------------------------------------------------------------

_FALLBACK_LOCK = threading.Lock()


def emission_settings() -> tuple[Any, ...]:
    """JAX settings some rules read (64-bit types for counters and indices, the default dot
    precision): part of every key of emitted text."""
    return (x64_enabled(), str(jax.default_matmul_precision.value))


def x64_enabled() -> bool:
    """Whether JAX has 64-bit types on (`jax_enable_x64`, a `jax.enable_x64` context included)."""
    return bool(jax.enable_x64.value)


def fallback_key(op: Operation, captured: Sequence[SSAValue]) -> str:
    """What makes two ops lower alike: the op's text without locations, the types of what its
    regions read from above, and the settings JAX's lowering reads."""
    return str(op) + f"|{emission_settings()}|" + ",".join(type_text(v.type) for v in captured)


_FALLBACKS: dict[str, str] = {}  # key -> function text; bounded by the distinct ops seen
_FALLBACK_LIMIT = 4096


def _fallback_function(key: str, op: Operation, captured: tuple[SSAValue, ...],
                       module: ModuleOp, walk_rules: dict[type, OpRule]) -> tuple[str, str]:
    name = f"tiers_fallback_{hashlib.sha256(key.encode()).hexdigest()[:16]}"
    with _FALLBACK_LOCK:
        known = _FALLBACKS.get(key)
    if known is None:  # two threads may both lower it: the texts are equal
        known = _lower_with_jax(name, op, captured, module, walk_rules)
        with _FALLBACK_LOCK:
            if len(_FALLBACKS) >= _FALLBACK_LIMIT:
                _FALLBACKS.clear()
            _FALLBACKS[key] = known
    return name, known


def _lower_with_jax(name: str, op: Operation, captured: tuple[SSAValue, ...],
                    module: ModuleOp, walk_rules: dict[type, OpRule]) -> str:
    """The private function `@name(operands..., captured...)` that JAX lowers from `op`'s
    walk rule (regions walked with the walk rules, reading `captured` from above)."""
    n = len(op.operands)
    walk_rule = walk_rules[type(op)]
    walker = Walker(module, walk_rules, "jax")

    def run(*args: Any) -> list[Any]:
        if not op.regions:
            outs = walk_rule(op, *args[:n])
        else:
            env = dict(zip(captured, args[n:]))

            def run_region(region: Region, values: Sequence[Any]) -> list[Any]:
                return walker.run_block(region.block, values, env)

            outs = walk_rule(op, *args[:n], run=run_region)
        return [outs] if len(op.results) == 1 else list(outs)

    avals = [jax.ShapeDtypeStruct(lax.shape(v), dtypes.to_numpy(lax.elem(v)))
             for v in [*op.operands, *captured]]
    lowered = JAX_JIT(run).lower(*avals)
    ir_module = lowered.compiler_ir("stablehlo")
    assert ir_module is not None  # None only where a backend has no StableHLO to give
    table = ir.SymbolTable(ir_module.operation)
    texts = []
    renames = {}
    for child in ir_module.body.operations:
        old = ir.StringAttr(child.attributes["sym_name"]).value
        renames[old] = name if old == "main" else f"{name}_{old}"
    for old, new in renames.items():
        table.replace_all_symbol_uses(old, new, ir_module.operation)
    for child in ir_module.body.operations:
        old = ir.StringAttr(child.attributes["sym_name"]).value
        table.set_symbol_name(child, renames[old])
        child.attributes["sym_visibility"] = ir.StringAttr.get("private", ir_module.context)
        # No debug info: its locations name tiers internals; the call carries the user line.
        texts.append(child.get_asm(enable_debug_info=False, print_generic_op_form=True))
    return "\n".join(texts)


# ---------------------------------------------------------------------------------------
# Text of types, constants and locations.
# ---------------------------------------------------------------------------------------


def type_text(t: Attribute) -> str:
    """`tensor<2x3xf32>`: xDSL prints builtin types in MLIR's syntax, which StableHLO reads
    (signless integers are signed, `ui32` unsigned, `i1` bool); a tensor of PRNG keys as its
    data (`tensor<4x2xui32>` of `tensor<4x!lax.key<"threefry2x32">>`), as JAX lowers keys."""
    return _by_identity(_TYPE_TEXTS, t, _type_text)


def _type_text(t: Attribute) -> str:
    t = lax_keys.physical(t)
    if isinstance(t, TensorType) and isinstance(t.encoding, NoneAttr):
        # As xDSL prints it, without its printer (rules build fresh tensor types, which
        # miss the table by identity: printing them was a third of emitting a model)
        dims = "".join("?x" if d < 0 else f"{d}x" for d in t.get_shape())
        return f"tensor<{dims}{_by_identity(_TYPE_TEXTS, t.element_type, str)}>"
    return str(t)


# Texts by attribute identity: hashing an xDSL attribute walks its parameters, which cost more
# than the rest of emitting an op; the attribute is kept alive with its text, so its id stays
# its own. Bounded: cleared when full.
_TYPE_TEXTS: dict[int, tuple[Attribute, str]] = {}
_LOC_TEXTS: dict[int, tuple[Attribute, str]] = {}
_TEXTS_LIMIT = 65536


def _by_identity(table: dict[int, tuple[Attribute, str]], attr: Attribute,
                 make: Callable[[Attribute], str]) -> str:
    found = table.get(id(attr))
    if found is not None and found[0] is attr:
        return found[1]
    text = make(attr)
    if len(table) >= _TEXTS_LIMIT:
        table.clear()
    table[id(attr)] = (attr, text)
    return text


def array_type(array: np.ndarray) -> str:
    return type_text(dtypes.tensor_type(array.shape, array.dtype))  # memoized, not built anew


def tensor_text(shape: Sequence[int], dtype: DTypeLike) -> str:
    """`tensor<2x3xf32>`: the type text of a tensor of `shape` and numpy `dtype`."""
    return type_text(dtypes.tensor_type(tuple(shape), dtype))


def scalar_text(element: Attribute) -> str:
    """`tensor<f32>`: the type text of a rank-0 tensor of xDSL `element` type."""
    return type_text(_SCALAR_TYPES.get(element) or _SCALAR_TYPES.setdefault(
        element, TensorType(element, ())))


_SCALAR_TYPES: dict[Attribute, TensorType] = {}  # by element type: a handful


def i64s(values: Sequence[int]) -> str:
    """`array<i64: 1, 2>`, a dense i64 array attribute (`array<i64>` when empty)."""
    if not len(values):
        return "array<i64>"
    return f"array<i64: {', '.join(str(int(v)) for v in values)}>"


def dense(array: np.ndarray) -> str:
    """`dense<...> : tensor<...>` of `array`: raw little-endian bytes in hex (one element's
    bytes make a splat), booleans as words (MLIR packs i1 data differently)."""
    t = array_type(array)
    if array.size == 0:  # no elements, whatever the shape (booleans' nesting would fail)
        return f"dense<> : {t}"
    if array.dtype == np.bool_:
        flat = array.reshape(-1)
        if flat.size and (flat == flat[0]).all():
            return f"dense<{str(bool(flat[0])).lower()}> : {t}"
        words = ", ".join("true" if b else "false" for b in flat)
        return f"dense<{_nest(words, array.shape)}> : {t}"
    data = np.ascontiguousarray(array, array.dtype.newbyteorder("<"))
    flat = data.reshape(-1)
    if flat.size > 1 and (flat.view(np.uint8).reshape(flat.size, -1) == flat[:1].view(
            np.uint8)).all():
        data = flat[:1]
    return f'dense<"0x{data.tobytes().hex().upper()}"> : {t}'


def _nest(words: str, shape: tuple[int, ...]) -> str:
    items = words.split(", ") if words else []
    for d in reversed(shape[1:]):
        items = [f"[{', '.join(items[i:i + d])}]" for i in range(0, len(items), d)]
    return f"[{', '.join(items)}]"


def constant_of(op: lax.ConstantOp) -> np.ndarray:
    return constant_array(op.value)


def mlir_string(s: str) -> str:
    """`s` as an MLIR string literal (printable ASCII kept, everything else `\\XX` bytes)."""
    out = []
    for b in s.encode():
        c = chr(b)
        out.append(c if 32 <= b < 127 and c not in '"\\' else f"\\{b:02X}")
    return '"' + "".join(out) + '"'


@functools.lru_cache(maxsize=8192)
def _loc(loc: Attribute) -> str:
    if isinstance(loc, FileLineColLoc):
        return f"{mlir_string(loc.filename.data)}:{loc.line.data}:{loc.column.data}"
    if isinstance(loc, NameLoc):
        inner = _loc(loc.location)
        return mlir_string(loc.desc.data) + (f"({inner})" if inner else "")
    if isinstance(loc, FusedLoc):
        assert isinstance(loc.locations, ArrayAttr)  # its converter makes one
        parts = [p for p in (_loc(x) for x in loc.locations.data) if p]
        return f"fused[{', '.join(parts)}]" if parts else ""
    return ""


_UNKNOWN = " loc(unknown)"


def _argument_loc(arg: BlockArgument) -> str:
    """` loc("x")` for a parameter: its location, else its name (hand-written `%x`)."""
    if isinstance(arg.location, UnknownLoc) and arg.name_hint:
        return f" loc({mlir_string(arg.name_hint)})"
    return location_text(arg.location)


def location_text(loc: Attribute | None) -> str:
    """` loc(...)` for a tiers op's location (` loc(unknown)` for none: MLIR would give text
    without one its position in the text), or "" for None."""
    if loc is None:
        return ""
    return _by_identity(_LOC_TEXTS, loc, _loc_text)


def _loc_text(loc: Attribute) -> str:
    inner = _loc(loc)
    return f" loc({inner})" if inner else _UNKNOWN


# ---------------------------------------------------------------------------------------
# Ops the rule modules share, each written as JAX's lowering writes it.
# ---------------------------------------------------------------------------------------


def compare_type(element: Attribute, total: bool = False) -> str:
    """StableHLO's comparison type for operands of `element` type, as JAX's
    `_compare_lower_hlo` picks it (complex numbers compare as FLOAT); `total` for the `*_to`
    primitives of sort comparators, which order floats totally (TOTALORDER)."""
    if dtypes.is_inexact(element):
        return "TOTALORDER" if total else "FLOAT"
    if dtypes.is_bool(element) or dtypes.to_numpy(element).kind == "u":
        return "UNSIGNED"
    return "SIGNED"


def compare(em: HloEmitter, direction: str, x: str, y: str, element: Attribute,
            shape: Sequence[int] = (), total: bool = False) -> str:
    """`x <direction> y` (EQ, NE, LT, ...) of operands of `element` type and `shape`: a bool
    tensor of `shape`; `total` as in `compare_type`."""
    return em.one("stablehlo.compare", [x, y], tensor_text(shape, np.bool_),
                  f"comparison_direction = #stablehlo<comparison_direction {direction}>, "
                  f"compare_type = #stablehlo<comparison_type {compare_type(element, total)}>")


def minmax(em: HloEmitter, kind: str, x: str, y: str, element: Attribute) -> str:
    """max (`kind` "max") or min of `x` and `y` of `element` type, as JAX's `mlir.max_hlo`
    and `min_hlo` write it: `stablehlo.maximum`/`minimum`, but for complex numbers an order
    of (real, imag) pairs (`_minmax_hlo`): real parts decide unless equal, then imaginary."""
    t = em.types[x]
    if not dtypes.is_complex(element):
        return em.one("stablehlo.maximum" if kind == "max" else "stablehlo.minimum", [x, y], t)
    # The parts' and the comparisons' tensor types: `t` with its element type replaced.
    element_text = type_text(element)  # `complex<f32>`, in `tensor<3xcomplex<f32>>`
    parts = t.replace(element_text, type_text(dtypes.real_part(element)))
    bools = t.replace(element_text, "i1")
    direction = "GT" if kind == "max" else "LT"
    rx, ry = (em.one("stablehlo.real", [v], parts) for v in (x, y))
    real_eq = _compare_text(em, "EQ", rx, ry, bools)
    real_cmp = _compare_text(em, direction, rx, ry, bools)
    ix, iy = (em.one("stablehlo.imag", [v], parts) for v in (x, y))
    imag_cmp = _compare_text(em, direction, ix, iy, bools)
    which = em.one("stablehlo.select", [real_eq, imag_cmp, real_cmp], bools)
    return em.one("stablehlo.select", [which, x, y], t)


def _compare_text(em: HloEmitter, direction: str, x: str, y: str, result: str) -> str:
    """A FLOAT comparison of `x` and `y` giving a bool tensor of type text `result`."""
    return em.one("stablehlo.compare", [x, y], result,
                  f"comparison_direction = #stablehlo<comparison_direction {direction}>, "
                  "compare_type = #stablehlo<comparison_type FLOAT>")


def broadcast_in_dim(em: HloEmitter, x: str, t: str | Attribute, dims: Sequence[int]) -> str:
    """`x` broadcast to type `t`, its dimension i as dimension `dims[i]` of `t`."""
    return em.one("stablehlo.broadcast_in_dim", [x], t, f"broadcast_dimensions = {i64s(dims)}")


def full(em: HloEmitter, value: Any, t: TensorType) -> str:
    """`value` in every element of tensor type `t`: a scalar constant broadcast, as JAX's
    `mlir.full_like_aval` writes it (a rank-0 `t` too: JAX does not skip that broadcast)."""
    return broadcast_in_dim(em, em.scalar(value, t.element_type), t, ())


def unit_slice(em: HloEmitter, x: str, t: str | Attribute, start: Sequence[int],
               limit: Sequence[int]) -> str:
    """`x[start:limit]` of type `t`: a `stablehlo.slice` with unit strides."""
    return em.one("stablehlo.slice", [x], t,
                  f"start_indices = {i64s(start)}, limit_indices = {i64s(limit)}, "
                  f"strides = {i64s([1] * len(start))}")


def dot_general(em: HloEmitter, a: str, b: str, t: str | Attribute,
                batch: tuple[Sequence[int], Sequence[int]],
                contract: tuple[Sequence[int], Sequence[int]], precision: Sequence[str]) -> str:
    """`stablehlo.dot_general` of `a` and `b` batched over `batch` and contracting `contract`
    (each: the dimensions of `a`, then of `b`; empty lists left out, as MLIR prints them);
    `precision`: one `lax.Precision` name per operand."""
    names = ("lhs_batching_dimensions", "rhs_batching_dimensions",
             "lhs_contracting_dimensions", "rhs_contracting_dimensions")
    dims = ", ".join(f"{n} = [{', '.join(map(str, d))}]"
                     for n, d in zip(names, (*batch, *contract)) if len(d))
    config = ", ".join(f"#stablehlo<precision {p}>" for p in precision)
    return em.one("stablehlo.dot_general", [a, b], t,
                  f"dot_dimension_numbers = #stablehlo.dot<{dims}>, precision_config = [{config}]")
