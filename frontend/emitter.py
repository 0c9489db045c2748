"""What an importer rule sees: the `Emitter` of one jaxpr equation, and the import errors.

A rule (`Rule`) gets an `Emitter` and the equation's operands as SSA values and returns the
result values. The rule tables (`import_rules.py`, `highlevel.py`) build on this module and
the importer's walk (`importer.py`) on them, so imports run one way: emitter <- rules <- importer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jax
import numpy as np
from jax._src import core as jax_core
from xdsl.builder import Builder
from xdsl.dialects.builtin import LocationAttr, TensorType
from xdsl.ir import Operation, SSAValue

from tiers.dialects import dtypes, lax
from tiers.dialects.constants import dense

if TYPE_CHECKING:
    from tiers.frontend.importer import Importer


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

    def where(self) -> str:
        """`file.py:line` of the user's code that made this equation, for error messages."""
        return self.importer.where(self.eqn)

    def add(self, op: Operation) -> Operation:
        op.location = self.location
        self.builder.insert(op)
        return op

    def constant(self, value: Any, dtype: Any) -> SSAValue:
        if is_float0(dtype):  # a float0 literal (a zero tangent): its bool representation
            value, dtype = np.zeros(np.shape(value), np.bool_), np.bool_
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
    """The tensor type of a JAX aval; a PRNG key array is typed as its uint32 key data, an
    array of another extended dtype as its representation (`import_edtypes.py`), a float0
    array (the tangent of an integer) as bool, as JAX's lowering types them."""
    if is_extended(aval):
        aval = jax_core.physical_aval(aval)
    if is_float0(aval.dtype):
        return dtypes.tensor_type(tuple(aval.shape), np.bool_)
    return dtypes.tensor_type(tuple(aval.shape), aval.dtype)


def is_float0(dtype: Any) -> bool:
    """Whether `dtype` is JAX's float0, the dtype of tangents of integers and bools (its one
    value, zero, is an all-false bool array in HLO: `mlir._dtype_to_ir_type`)."""
    return isinstance(dtype, np.dtype) and dtype == jax.dtypes.float0


def is_extended(aval: Any) -> bool:
    """Whether `aval` is an array of an extended dtype: PRNG keys, flax's `fp8_meta32`, ..."""
    dtype = getattr(aval, "dtype", None)
    return not isinstance(dtype, np.dtype) and jax.dtypes.issubdtype(dtype, jax.dtypes.extended)


def is_key(aval: Any) -> bool:
    """Whether `aval` is an array of typed PRNG keys (`jax.random.key`)."""
    dtype = getattr(aval, "dtype", None)
    return not isinstance(dtype, np.dtype) and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


def rule_adder(table: dict[str, Rule]) -> Callable[..., Callable[[Rule], Rule]]:
    """A decorator factory: `@rule("prim", ...)` puts the decorated rule in `table` under
    each primitive name, and returns the rule unchanged."""

    def rule(*names: str) -> Callable[[Rule], Rule]:
        def add(fn: Rule) -> Rule:
            for name in names:
                table[name] = fn
            return fn

        return add

    return rule
