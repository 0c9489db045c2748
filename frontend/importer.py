"""jaxpr -> tiers IR: a `builtin.module` holding one public `func.func` per imported function.

The walk is `jax.core.eval_jaxpr` building ops instead of computing values: an environment from
jaxpr variables to SSA values and a rule per primitive (`import_rules.RULES`). Each op gets the
user's source line as its location. Named sub-jaxprs (`jit`, `custom_jvp_call`,
`custom_vjp_call`) become private functions called with `func.call`, imported once each.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from jax._src import source_info_util
from jax.extend import core as jcore
from xdsl.builder import Builder, InsertPoint
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    BytesAttr,
    DenseIntOrFPElementsAttr,
    FileLineColLoc,
    FunctionType,
    IntAttr,
    LocationAttr,
    ModuleOp,
    StringAttr,
    TensorType,
    UnknownLoc,
)
from xdsl.ir import Block, Operation, Region, SSAValue

from tiers.dialects import dtypes, lax


class ImportError_(Exception):
    """Base of import failures; the message names the user's source line."""


class UnsupportedPrimitive(ImportError_):
    pass


@dataclass
class Emitter:
    """What a rule sees: the equation, and a way to add ops at the current point."""

    importer: Importer
    builder: Builder
    eqn: Any
    location: LocationAttr
    # Literals and their broadcasts, shared within one function body: a jaxpr repeats
    # the same scalar literal in many equations; importing it once keeps the IR small.
    memo: dict[Any, SSAValue] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, Any]:
        return self.eqn.params

    def out_types(self) -> list[TensorType]:
        return [aval_type(v.aval) for v in self.eqn.outvars]

    def out_type(self) -> TensorType:
        return aval_type(self.eqn.outvars[0].aval)

    def add(self, op: Operation) -> Operation:
        op.location = self.location
        self.builder.insert(op)
        return op

    def constant(self, value: Any, dtype: Any) -> SSAValue:
        array = np.asarray(value, dtype=dtype)
        key = ("constant", array.dtype, array.shape, array.tobytes()) if array.size <= 16 else None
        if key is not None and (known := self.memo.get(key)) is not None:
            return known
        value_ = self._constant(array)
        if key is not None:
            self.memo[key] = value_
        return value_

    def _constant(self, array: np.ndarray) -> SSAValue:
        if array.dtype == dtypes.to_numpy(dtypes.element_type("bfloat16")):
            # MLIR text has no portable bf16 literal in xDSL 0.74: keep f32 and convert.
            wide = self.add(lax.ConstantOp(dense(array.astype(np.float32)))).results[0]
            t = dtypes.tensor_type(array.shape, array.dtype)
            return self.add(lax.ConvertElementTypeOp(wide, t)).results[0]
        return self.add(lax.ConstantOp(dense(array))).results[0]

    def broadcast(self, value: SSAValue, to: TensorType) -> SSAValue:
        """Numpy-style broadcast of `value` to `to`'s shape.

        jaxprs broadcast scalars and size-1 dimensions of elementwise operands implicitly;
        tiers IR says it with an explicit `lax.broadcast_in_dim`.
        """
        src, dst = lax.shape(value), tuple(to.get_shape())
        if src == dst:
            return value
        key = ("broadcast", value, dst)
        if (known := self.memo.get(key)) is not None:
            return known
        t = dtypes.tensor_of(lax.elem(value), dst)
        dims = range(len(dst) - len(src), len(dst))
        self.memo[key] = out = self.add(lax.BroadcastInDimOp(value, t, dims)).results[0]
        return out


Rule = Callable[..., SSAValue | Sequence[SSAValue]]


def aval_type(aval: Any) -> TensorType:
    return dtypes.tensor_type(tuple(aval.shape), aval.dtype)


def dense(array: np.ndarray) -> DenseIntOrFPElementsAttr:
    """A dense attribute straight from numpy bytes (bf16 is stored through f32 by callers)."""
    t = dtypes.tensor_type(array.shape, array.dtype)
    data = array.astype(array.dtype.newbyteorder("<"), copy=False)
    if array.dtype == np.bool_:
        data = array.astype(np.int8)
    return DenseIntOrFPElementsAttr(t, BytesAttr(np.ascontiguousarray(data).tobytes()))


_LOCS: dict[tuple[str, int, int], FileLineColLoc] = {}


def user_location(source_info: Any) -> LocationAttr:
    """The user's own frame of an equation, as `loc("file.py":line:col)`."""
    frame = source_info_util.user_frame(source_info.traceback)
    if frame is None:
        return UnknownLoc()
    key = (frame.file_name, frame.start_line, frame.start_column)
    loc = _LOCS.get(key)
    if loc is None:
        loc = FileLineColLoc(StringAttr(key[0]), IntAttr(key[1]), IntAttr(key[2] + 1))
        _LOCS[key] = loc
    return loc


def where(source_info: Any) -> str:
    frame = source_info_util.user_frame(source_info.traceback)
    if frame is None:
        return "an unknown location"
    return f"{os.path.relpath(frame.file_name)}:{frame.start_line}"


@dataclass
class Importer:
    """Imports closed jaxprs into one module; sub-jaxprs become private functions."""

    module: ModuleOp = field(default_factory=lambda: ModuleOp([]))
    _functions: dict[int, tuple[Any, str]] = field(default_factory=dict)
    _names: set[str] = field(default_factory=set)

    def import_function(self, closed: Any, name: str, private: bool = False) -> str:
        """Add `closed` (a ClosedJaxpr) as a function named like `name`; returns its symbol."""
        known = self._functions.get(id(closed.jaxpr))
        if known is not None:
            return known[1]
        symbol = self._unique(name)
        self._functions[id(closed.jaxpr)] = (closed.jaxpr, symbol)
        jaxpr = closed.jaxpr
        in_types = [aval_type(v.aval) for v in jaxpr.invars]
        out_types = [aval_type(v.aval) for v in jaxpr.outvars]
        block = Block(arg_types=in_types)
        fn = func.FuncOp(
            symbol, FunctionType.from_lists(in_types, out_types), Region(block),
            visibility="private" if private else None,
        )
        self.module.body.block.add_op(fn)
        builder = Builder(InsertPoint.at_end(block))
        outs = self.import_body(builder, jaxpr, closed.consts, list(block.args))
        builder.insert(func.ReturnOp(*outs))
        return symbol

    def import_body(self, builder: Builder, jaxpr: Any, consts: Sequence[Any],
                    args: Sequence[SSAValue]) -> list[SSAValue]:
        from tiers.frontend.import_rules import RULES, generic_rule

        env: dict[Any, SSAValue] = {}
        memo: dict[Any, SSAValue] = {}
        for var, const in zip(jaxpr.constvars, consts, strict=True):
            em = Emitter(self, builder, None, UnknownLoc(), memo)
            env[var] = em.constant(np.asarray(const), np.asarray(const).dtype)
        env.update(zip(jaxpr.invars, args, strict=True))

        def read(em: Emitter, atom: Any) -> SSAValue:
            if isinstance(atom, jcore.Literal):
                return em.constant(atom.val, atom.aval.dtype)
            return env[atom]

        for eqn in jaxpr.eqns:
            em = Emitter(self, builder, eqn, user_location(eqn.source_info), memo)
            rule = RULES.get(eqn.primitive.name)
            if rule is None:
                rule = generic_rule
            try:
                outs = rule(em, *(read(em, a) for a in eqn.invars))
            except dtypes.UnsupportedDType as e:
                raise UnsupportedPrimitive(
                    f"{where(eqn.source_info)}: primitive '{eqn.primitive.name}': {e}"
                ) from None
            if isinstance(outs, SSAValue):
                outs = [outs]
            for var, value in zip(eqn.outvars, outs, strict=True):
                if not isinstance(var, jcore.DropVar):
                    env[var] = value
        em = Emitter(self, builder, None, UnknownLoc(), memo)
        return [read(em, v) for v in jaxpr.outvars]

    def _unique(self, name: str) -> str:
        name = "".join(c if c.isalnum() or c in "_.$" else "_" for c in name) or "fn"
        symbol, n = name, 0
        while symbol in self._names:
            n += 1
            symbol = f"{name}_{n}"
        self._names.add(symbol)
        return symbol


def import_jaxpr(closed: Any, name: str = "main") -> ModuleOp:
    """A module whose public function `name` computes `closed` (a ClosedJaxpr)."""
    importer = Importer()
    importer.import_function(closed, name)
    return importer.module
