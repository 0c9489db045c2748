"""`fold-constants`: evaluates `lax` ops whose operands are all constants, with the reference
target's numpy rules, and replaces them by `lax.constant`.

Complex numbers fold only through ops whose numpy result is XLA's to the bit (`EXACT_COMPLEX`:
moves, parts, sign flips, componentwise sums, equality). XLA multiplies, divides and takes
functions of complex numbers with formulas of its own (its rounding, its handling of infinite
parts), which numpy's do not reproduce, so such ops stay for XLA to compute.

float8 results fold only where data moves: XLA computes float8 arithmetic in a wider format,
may keep it there across a fused chain (`xla_allow_excess_precision`) and rounds reductions step
by step, so a folded constant could differ from what XLA would compute.

`max-elements` bounds the size of a result it materializes (default 1024): folding
`broadcast_in_dim` of a scalar into a large tensor would trade a cheap op for a large
constant in the IR and in the executable, so such ops stay. One sweep in program order
folds whole constant chains, since each folded result is a constant for its users.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import BytesAttr, DenseIntOrFPElementsAttr, ModuleOp
from xdsl.ir import Attribute, Operation
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter
from xdsl.traits import Pure

from tiers.dialects import dtypes, lax
from tiers.dialects.constants import constant_array
from tiers.passes.collector import gc_paused
from tiers.passes.statistics import count
from tiers.targets.reference.rules import RULES

_BF16 = dtypes.to_numpy(dtypes.element_type("bfloat16"))

# Ops that move data without computing: their reference rule gives XLA's bits on any type.
MOVES: frozenset[type] = frozenset({
    lax.BroadcastInDimOp, lax.ReshapeOp, lax.SqueezeOp, lax.TransposeOp, lax.RevOp,
    lax.SliceOp, lax.PadOp, lax.ConcatenateOp, lax.SplitOp, lax.DynamicSliceOp,
    lax.DynamicUpdateSliceOp, lax.SelectNOp, lax.CopyOp,
})
# Ops whose reference rule gives, on complex operands or results, exactly XLA's bits: data
# movement, real/imag/complex/conj/neg (parts copied or negated), add/sub (one IEEE operation
# per part, exact through complex128 then rounded: double rounding through 53 bits is innocuous
# for 24-bit sums), conversions (each part rounded or the real part kept), eq/ne.
EXACT_COMPLEX: frozenset[type] = MOVES | {
    lax.RealOp, lax.ImagOp, lax.ComplexOp, lax.ConjOp, lax.NegOp, lax.AddOp, lax.AddAnyOp,
    lax.SubOp, lax.ConvertElementTypeOp, lax.EqOp, lax.NeOp,
}


def _foldable(op: Operation, max_elements: int) -> bool:
    # Cheapest tests first: most ops have a non-constant operand (a trait lookup costs more).
    if not op.operands or not all(isinstance(v.owner, lax.ConstantOp) for v in op.operands):
        return False
    if type(op) not in RULES or op.regions or not op.has_trait(Pure):
        return False
    if type(op) is lax.ShardingConstraintOp:
        return False  # it places its value: a constant in its stead would lose the placement
    for r in op.results:
        t = r.type
        if not isinstance(t, lax.TensorType) or isinstance(t.element_type, lax.KeyType):
            return False  # PRNG keys have no constants: their data does (lax_keys.py)
        if dtypes.to_numpy(t.element_type) == _BF16:
            return False  # xDSL 0.74 has no bf16 dense literal
        if dtypes.is_float8(t.element_type) and type(op) not in MOVES:
            return False  # XLA's float8 arithmetic: see the module docstring
        if int(np.prod(t.get_shape())) > max_elements:
            return False
    # Complex numbers: see the module docstring.
    return type(op) in EXACT_COMPLEX or not any(
        dtypes.is_complex(lax.elem(v)) for v in (*op.operands, *op.results))


def _literal(value: object, type: Attribute) -> DenseIntOrFPElementsAttr:
    """`value` as a dense attribute of the result's own type, as `dense` makes one but without
    building the type again (a tensor type costs more to build than the bytes)."""
    # `_foldable` let through only tensors of an element type `dtypes` maps.
    assert isinstance(type, lax.TensorType)
    type = cast("lax.TensorType[dtypes.Element]", type)
    array = np.asarray(value, dtype=dtypes.to_numpy(type.element_type)).reshape(
        type.get_shape())
    raw = array.astype(np.int8 if array.dtype == np.bool_ else array.dtype.newbyteorder("<"),
                       copy=False)
    return DenseIntOrFPElementsAttr(type, BytesAttr(np.ascontiguousarray(raw).tobytes()))


def fold_constants(module: ModuleOp, max_elements: int = 1024) -> int:
    """Fold every foldable op of `module`; returns how many were folded."""
    folded = 0
    for op in list(module.walk()):
        if op.parent is None or not _foldable(op, max_elements):
            continue
        args = [constant_array(v.owner.value) for v in op.operands]  # type: ignore[union-attr]
        with np.errstate(all="ignore"):
            outs = RULES[type(op)](op, *args)
        outs = [outs] if len(op.results) == 1 else list(outs)
        new = []
        for r, value in zip(op.results, outs, strict=True):
            const = lax.ConstantOp(_literal(value, r.type))
            const.location = op.location
            new.append(const)
        Rewriter.replace_op(op, new, [c.result for c in new])
        folded += 1
    count("fold-constants", "ops folded", folded)
    return folded


@dataclass(frozen=True)
class FoldConstantsPass(ModulePass):
    """Option `max-elements`: the largest result (in elements) worth materializing."""

    name = "fold-constants"
    requires = ("lax",)  # the contract (passes/authoring.py)
    max_elements: int = 1024

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        with gc_paused():
            fold_constants(op, self.max_elements)
