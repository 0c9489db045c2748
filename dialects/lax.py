"""The `lax` dialect: one op per JAX primitive, on builtin `tensor<...>` types.

Each op names its primitive (`PRIMITIVE`), keeps the primitive's params that the types do
not already say as properties, and verifies shapes and dtypes like JAX's shape rules. All
ops are `Pure`: JAX primitives have no side effects, so `cse`/`dce` may move and drop them.
The custom syntax is shared (see `syntax.py`): `%y = lax.reduce_sum %x axes [1] : T -> R`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from xdsl.dialects.builtin import (
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    IntegerAttr,
    IntegerType,
    Signedness,
    StringAttr,
    TensorType,
    i1,
    i64,
)
from xdsl.ir import Attribute, Dialect, Operation, Region, SSAValue
from xdsl.irdl import (
    AttrSizedOperandSegments,
    IRDLOperation,
    irdl_op_definition,
    lazy_traits_def,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_region_def,
    var_result_def,
)
from xdsl.parser import Parser
from xdsl.pattern_rewriter import RewritePattern
from xdsl.printer import Printer
from xdsl.traits import (
    ConstantLike,
    HasCanonicalizationPatternsTrait,
    HasParent,
    IsTerminator,
    Pure,
    RecursivelySpeculatable,
    RecursiveMemoryEffect,
)
from xdsl.utils.exceptions import VerifyException

from tiers.dialects import syntax
from tiers.dialects.dtypes import is_bool, is_float, is_integer, to_numpy

Tensor = TensorType[Attribute]


def ints(values: Sequence[int]) -> DenseArrayBase:
    """An i64 array property, e.g. `axes [0, 1]`."""
    return DenseArrayBase.from_list(i64, [int(v) for v in values])


def int_attr(value: int) -> IntegerAttr:
    return IntegerAttr(int(value), i64)


def bool_attr(value: bool) -> IntegerAttr:
    return IntegerAttr(int(bool(value)), i1)


def shape(value: SSAValue | Attribute) -> tuple[int, ...]:
    t = value.type if isinstance(value, SSAValue) else value
    assert isinstance(t, TensorType)
    return tuple(t.get_shape())


def elem(value: SSAValue | Attribute) -> Attribute:
    t = value.type if isinstance(value, SSAValue) else value
    assert isinstance(t, TensorType)
    return t.element_type


def _fail(op: Operation, message: str) -> None:
    raise VerifyException(f"'{op.name}': {message}")


_KIND_ERRORS = {
    "float": "expects floating-point operands", "int": "expects integer or bool operands",
    "num": "does not accept bool operands", "integer": "expects integer operands",
    "signed": "expects signed integer or floating-point operands",
}


def _check_kind(op: Operation, t: Attribute, kinds: str) -> None:
    """`t` is an element type of `kinds` (the dtype classes of JAX's shape rules)."""
    ok = {"any": True, "float": is_float(t), "int": not is_float(t), "num": not is_bool(t),
          "integer": is_integer(t), "signed": is_float(t) or (
              isinstance(t, IntegerType) and is_integer(t)
              and t.signedness.data != Signedness.UNSIGNED)}[kinds]
    if not ok:
        _fail(op, f"{_KIND_ERRORS[kinds]}, got {t}")


@dataclass(frozen=True)
class LaxCanonicalization(HasCanonicalizationPatternsTrait):
    """The op's patterns for xDSL's `canonicalize`, kept in `tiers.passes.canonicalization`
    by op class, so the algebra lives in one place and this file stays declarations."""

    def get_patterns(self, op: type[Operation]) -> tuple[RewritePattern, ...]:
        from tiers.passes.canonicalization import patterns_for

        return patterns_for(op)

    @classmethod
    def get_canonicalization_patterns(cls) -> tuple[RewritePattern, ...]:
        return ()


class LaxOp(syntax.SyntaxOp):
    """Base of every `lax` op: the shared syntax and the primitive it stands for."""

    PRIMITIVE: ClassVar[str]


# ---------------------------------------------------------------------------------------
# Elementwise ops. Operands and result have one shape; `kinds` restricts element types.
# ---------------------------------------------------------------------------------------


class ElementwiseOp(LaxOp):
    # "float", "int" (with bool), "integer" (no bool), "num" (no bool), "signed" (float or
    # signed integer), "any"
    KINDS: ClassVar[str] = "any"
    INT_RHS: ClassVar[bool] = False  # the second operand may be any integer type (pow)
    RESULT_BOOL: ClassVar[bool] = False
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        out = self.results[0]
        for i, x in enumerate(self.operands):
            if shape(x) != shape(out):
                _fail(self, f"operand shape {shape(x)} differs from result shape {shape(out)}")
            if self.INT_RHS and i == 1 and is_integer(elem(x)):
                continue
            if elem(x) != elem(self.operands[0]):
                _fail(self, f"operand element types differ: {elem(x)} vs {elem(self.operands[0])}")
        t = elem(self.operands[0])
        _check_kind(self, t, self.KINDS)
        want = i1 if self.RESULT_BOOL else t
        if elem(out) != want:
            _fail(self, f"result element type must be {want}, got {elem(out)}")


class UnaryOp(ElementwiseOp):
    operand = operand_def(Tensor)
    result = result_def(Tensor)

    def __init__(self, operand: SSAValue, result_type: Attribute | None = None):
        super().__init__(operands=[operand], result_types=[result_type or operand.type])


class BinaryOp(ElementwiseOp):
    lhs = operand_def(Tensor)
    rhs = operand_def(Tensor)
    result = result_def(Tensor)
    COMMUTATIVE: ClassVar[bool] = False

    def __init__(self, lhs: SSAValue, rhs: SSAValue, result_type: Attribute | None = None):
        super().__init__(operands=[lhs, rhs], result_types=[result_type or lhs.type])


class CompareOp(BinaryOp):
    RESULT_BOOL: ClassVar[bool] = True

    def __init__(self, lhs: SSAValue, rhs: SSAValue, result_type: Attribute | None = None):
        super().__init__(lhs, rhs, result_type or TensorType(i1, shape(lhs)))


_CONSTS = {"PRIMITIVE": ClassVar[str], "KINDS": ClassVar[str], "RESULT_BOOL": ClassVar[bool],
           "COMMUTATIVE": ClassVar[bool], "INT_RHS": ClassVar[bool]}


def _unary(name: str, kinds: str = "any", result_bool: bool = False, primitive: str = ""):
    cls = type(
        "".join(p.capitalize() for p in name.split("_")) + "Op",
        (UnaryOp,),
        {"name": f"lax.{name}", "PRIMITIVE": primitive or name, "KINDS": kinds,
         "RESULT_BOOL": result_bool, "__module__": __name__, "__annotations__": _CONSTS},
    )
    return irdl_op_definition(cls)


def _binary(name: str, kinds: str = "any", base: type = BinaryOp, commutative: bool = False,
            primitive: str = "", int_rhs: bool = False):
    cls = type(
        "".join(p.capitalize() for p in name.split("_")) + "Op",
        (base,),
        {"name": f"lax.{name}", "PRIMITIVE": primitive or name, "KINDS": kinds,
         "COMMUTATIVE": commutative, "INT_RHS": int_rhs, "__module__": __name__,
         "__annotations__": _CONSTS},
    )
    return irdl_op_definition(cls)


NegOp = _unary("neg", "num")
AbsOp = _unary("abs", "signed")
SignOp = _unary("sign", "num")
FloorOp = _unary("floor", "float")
CeilOp = _unary("ceil", "float")
ExpOp = _unary("exp", "float")
Exp2Op = _unary("exp2", "float")
LogOp = _unary("log", "float")
Log1pOp = _unary("log1p", "float")
Expm1Op = _unary("expm1", "float")
TanhOp = _unary("tanh", "float")
LogisticOp = _unary("logistic", "float")
SinOp = _unary("sin", "float")
CosOp = _unary("cos", "float")
TanOp = _unary("tan", "float")
AsinOp = _unary("asin", "float")
AcosOp = _unary("acos", "float")
AtanOp = _unary("atan", "float")
SinhOp = _unary("sinh", "float")
CoshOp = _unary("cosh", "float")
AsinhOp = _unary("asinh", "float")
AcoshOp = _unary("acosh", "float")
AtanhOp = _unary("atanh", "float")
SqrtOp = _unary("sqrt", "float")
RsqrtOp = _unary("rsqrt", "float")
CbrtOp = _unary("cbrt", "float")
ErfOp = _unary("erf", "float")
ErfcOp = _unary("erfc", "float")
ErfInvOp = _unary("erf_inv", "float")
LgammaOp = _unary("lgamma", "float")
DigammaOp = _unary("digamma", "float")
SquareOp = _unary("square", "num")
NotOp = _unary("not", "int")
IsFiniteOp = _unary("is_finite", "float", result_bool=True)
StopGradientOp = _unary("stop_gradient")
CopyOp = _unary("copy")
PopulationCountOp = _unary("population_count", "integer")
ClzOp = _unary("clz", "integer")

AddOp = _binary("add", "num", commutative=True)
AddAnyOp = _binary("add_any", "num", commutative=True)
SubOp = _binary("sub", "num")
MulOp = _binary("mul", "num", commutative=True)
DivOp = _binary("div", "num")
RemOp = _binary("rem", "num")
PowOp = _binary("pow", "float", int_rhs=True)  # x ** y: y has x's type or is an integer
MaxOp = _binary("max", commutative=True)
MinOp = _binary("min", commutative=True)
Atan2Op = _binary("atan2", "float")
NextafterOp = _binary("nextafter", "float")
AndOp = _binary("and", "int", commutative=True)
OrOp = _binary("or", "int", commutative=True)
XorOp = _binary("xor", "int", commutative=True)
ShiftLeftOp = _binary("shift_left", "integer")
ShiftRightLogicalOp = _binary("shift_right_logical", "integer")
ShiftRightArithmeticOp = _binary("shift_right_arithmetic", "integer")
EqOp = _binary("eq", base=CompareOp, commutative=True)
NeOp = _binary("ne", base=CompareOp, commutative=True)
LtOp = _binary("lt", base=CompareOp)
LeOp = _binary("le", base=CompareOp)
GtOp = _binary("gt", base=CompareOp)
GeOp = _binary("ge", base=CompareOp)


@irdl_op_definition
class IntegerPowOp(UnaryOp):
    """x ** y for a static integer y."""

    name = "lax.integer_pow"
    PRIMITIVE: ClassVar[str] = "integer_pow"
    KINDS: ClassVar[str] = "num"
    y = prop_def(IntegerAttr)

    def __init__(self, operand: SSAValue, y: int):
        IRDLOperation.__init__(
            self, operands=[operand], result_types=[operand.type], properties={"y": int_attr(y)}
        )


@irdl_op_definition
class ReducePrecisionOp(UnaryOp):
    name = "lax.reduce_precision"
    PRIMITIVE: ClassVar[str] = "reduce_precision"
    KINDS: ClassVar[str] = "float"
    exponent_bits = prop_def(IntegerAttr)
    mantissa_bits = prop_def(IntegerAttr)


@irdl_op_definition
class ConvertElementTypeOp(LaxOp):
    """Elementwise cast; the new dtype is the result's element type."""

    name = "lax.convert_element_type"
    PRIMITIVE: ClassVar[str] = "convert_element_type"
    operand = operand_def(Tensor)
    result = result_def(Tensor)
    traits = traits_def(Pure(), LaxCanonicalization())

    def __init__(self, operand: SSAValue, result_type: Attribute):
        super().__init__(operands=[operand], result_types=[result_type])

    def verify_(self) -> None:
        if shape(self.operand) != shape(self.result):
            _fail(self, f"shape changes from {shape(self.operand)} to {shape(self.result)}")


@irdl_op_definition
class BitcastConvertTypeOp(LaxOp):
    """Reinterprets the bits; a narrower result type adds a trailing dimension (of the width
    ratio), a wider one consumes it."""

    name = "lax.bitcast_convert_type"
    PRIMITIVE: ClassVar[str] = "bitcast_convert_type"
    operand = operand_def(Tensor)
    result = result_def(Tensor)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        a, b = elem(self.operand), elem(self.result)
        if (is_bool(a) or is_bool(b)) and a != b:
            _fail(self, f"cannot bitcast between bool and {b if is_bool(a) else a}")
        inp, out = shape(self.operand), shape(self.result)
        wa, wb = a.bitwidth, b.bitwidth  # type: ignore[attr-defined]
        if wa == wb:
            want = inp
        elif wa > wb:
            want = (*inp, wa // wb)
        else:
            want = inp[:-1] if inp and inp[-1] == wb // wa else None
        if want != out:
            _fail(self, f"cannot bitcast {self.operand.type} to {self.result.type}")


@irdl_op_definition
class SelectNOp(LaxOp):
    """cases[which]: `which` is bool (two cases) or int32, elementwise or a scalar."""

    name = "lax.select_n"
    PRIMITIVE: ClassVar[str] = "select_n"
    which = operand_def(Tensor)
    cases = var_operand_def(Tensor)
    result = result_def(Tensor)
    traits = traits_def(Pure(), LaxCanonicalization())

    def __init__(self, which: SSAValue, *cases: SSAValue):
        super().__init__(operands=[which, list(cases)], result_types=[cases[0].type])

    def verify_(self) -> None:
        if not self.cases:
            _fail(self, "needs at least one case")
        for c in self.cases:
            if c.type != self.result.type:
                _fail(self, f"case type {c.type} differs from result type {self.result.type}")
        if shape(self.which) not in ((), shape(self.result)):
            _fail(self, f"predicate shape {shape(self.which)} must be () or {shape(self.result)}")
        t = elem(self.which)
        if is_bool(t) and len(self.cases) > 2:
            _fail(self, "a bool predicate selects between at most two cases")
        if not (is_bool(t) or is_integer(t)):
            _fail(self, f"predicate must be bool or integer, got {t}")


@irdl_op_definition
class ClampOp(LaxOp):
    """min(max(x, lo), hi); `lo` and `hi` are scalars or have x's shape."""

    name = "lax.clamp"
    PRIMITIVE: ClassVar[str] = "clamp"
    lo = operand_def(Tensor)
    x = operand_def(Tensor)
    hi = operand_def(Tensor)
    result = result_def(Tensor)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        for b in (self.lo, self.hi):
            if shape(b) not in ((), shape(self.x)) or elem(b) != elem(self.x):
                _fail(self, f"bound type {b.type} must be a scalar or {self.x.type}")
        if self.result.type != self.x.type:
            _fail(self, f"result type {self.result.type} differs from operand {self.x.type}")


# ---------------------------------------------------------------------------------------
# Constants and index generators.
# ---------------------------------------------------------------------------------------


@irdl_op_definition
class ConstantOp(LaxOp):
    """A dense constant: `%c = lax.constant dense<1.0> : tensor<4xf32>`."""

    name = "lax.constant"
    PRIMITIVE: ClassVar[str] = "constant"
    value = prop_def(DenseIntOrFPElementsAttr)
    result = result_def(Tensor)
    traits = traits_def(Pure(), ConstantLike())

    def __init__(self, value: DenseIntOrFPElementsAttr):
        super().__init__(properties={"value": value}, result_types=[value.type])

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        value = self.value
        element = value.get_element_type()
        if is_float(element) and not np.isfinite(
                np.frombuffer(value.data.data, dtype=to_numpy(element))).all():
            # xDSL 0.74 prints Inf/NaN as hex bit patterns it then parses as integers; the
            # raw-data form `dense<"0x...">` (little-endian, as MLIR) round-trips exactly.
            printer.print_string(f'dense<"0x{value.data.data.hex().upper()}"> : ')
            printer.print_attribute(value.type)
        else:
            printer.print_attribute(value)

    @classmethod
    def parse(cls, parser: Parser) -> ConstantOp:
        value = parser.parse_attribute()
        if not isinstance(value, DenseIntOrFPElementsAttr):
            parser.raise_error("expected a dense elements attribute, e.g. dense<1.0> : tensor<f32>")
        return cls(value)

    def verify_(self) -> None:
        if self.value.type != self.result.type:
            _fail(self, f"value type {self.value.type} differs from result type {self.result.type}")


@irdl_op_definition
class IotaOp(LaxOp):
    """0, 1, 2, ... along `dimension` of the result shape."""

    name = "lax.iota"
    PRIMITIVE: ClassVar[str] = "iota"
    dimension = prop_def(IntegerAttr)
    result = result_def(Tensor)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        if not 0 <= self.int("dimension") < max(len(shape(self.result)), 1):
            _fail(self, f"dimension {self.int('dimension')} out of range for {self.result.type}")


# ---------------------------------------------------------------------------------------
# Shape ops.
# ---------------------------------------------------------------------------------------


class ShapeOp(LaxOp):
    """One operand, one result of the same element type."""

    operand = operand_def(Tensor)
    result = result_def(Tensor)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        if elem(self.operand) != elem(self.result):
            _fail(self, f"element type changes from {elem(self.operand)} to {elem(self.result)}")
        self.verify_shape(shape(self.operand), shape(self.result))

    def verify_shape(self, inp: tuple[int, ...], out: tuple[int, ...]) -> None:
        raise NotImplementedError


def _check_dims(op: Operation, dims: Sequence[int], rank: int, what: str) -> None:
    if any(not 0 <= d < rank for d in dims) or len(set(dims)) != len(dims):
        _fail(op, f"{what} {list(dims)} must be distinct and in [0, {rank})")


@irdl_op_definition
class BroadcastInDimOp(ShapeOp):
    """Operand dimension i becomes result dimension dims[i]; the rest is broadcast."""

    name = "lax.broadcast_in_dim"
    PRIMITIVE: ClassVar[str] = "broadcast_in_dim"
    dims = prop_def(DenseArrayBase)

    def __init__(self, operand: SSAValue, result_type: Attribute, dims: Sequence[int]):
        super().__init__(operands=[operand], result_types=[result_type],
                         properties={"dims": ints(dims)})

    def verify_shape(self, inp, out) -> None:
        dims = self.ints("dims")
        if len(dims) != len(inp):
            _fail(self, f"dims {list(dims)} must have one entry per operand dimension ({len(inp)})")
        _check_dims(self, dims, len(out), "dims")
        for i, d in enumerate(dims):
            if inp[i] not in (1, out[d]):
                _fail(self, f"operand dimension {i} of size {inp[i]} cannot broadcast to {out[d]}")
        if list(dims) != sorted(dims):
            _fail(self, f"dims {list(dims)} must be increasing")


@irdl_op_definition
class ReshapeOp(ShapeOp):
    name = "lax.reshape"
    PRIMITIVE: ClassVar[str] = "reshape"

    def __init__(self, operand: SSAValue, result_type: Attribute):
        super().__init__(operands=[operand], result_types=[result_type])

    def verify_shape(self, inp, out) -> None:
        if _size(inp) != _size(out):
            _fail(self, f"cannot reshape {inp} ({_size(inp)} elements) to {out} ({_size(out)})")


def _size(s: Sequence[int]) -> int:
    n = 1
    for d in s:
        n *= d
    return n


@irdl_op_definition
class SqueezeOp(ShapeOp):
    name = "lax.squeeze"
    PRIMITIVE: ClassVar[str] = "squeeze"
    dimensions = prop_def(DenseArrayBase)

    def verify_shape(self, inp, out) -> None:
        dims = self.ints("dimensions")
        _check_dims(self, dims, len(inp), "dimensions")
        if any(inp[d] != 1 for d in dims):
            _fail(self, f"can only squeeze size-1 dimensions, got {inp} at {list(dims)}")
        if tuple(s for i, s in enumerate(inp) if i not in dims) != out:
            _fail(self, f"result shape {out} is not {inp} without dimensions {list(dims)}")


@irdl_op_definition
class TransposeOp(ShapeOp):
    name = "lax.transpose"
    PRIMITIVE: ClassVar[str] = "transpose"
    permutation = prop_def(DenseArrayBase)

    def __init__(self, operand: SSAValue, permutation: Sequence[int]):
        s = shape(operand)
        super().__init__(
            operands=[operand],
            result_types=[TensorType(elem(operand), [s[p] for p in permutation])],
            properties={"permutation": ints(permutation)},
        )

    def verify_shape(self, inp, out) -> None:
        perm = self.ints("permutation")
        if sorted(perm) != list(range(len(inp))):
            _fail(self, f"permutation {list(perm)} is not a permutation of {len(inp)} dimensions")
        if tuple(inp[p] for p in perm) != out:
            _fail(self, f"result shape {out} is not {inp} permuted by {list(perm)}")


@irdl_op_definition
class RevOp(ShapeOp):
    name = "lax.rev"
    PRIMITIVE: ClassVar[str] = "rev"
    dimensions = prop_def(DenseArrayBase)

    def verify_shape(self, inp, out) -> None:
        _check_dims(self, self.ints("dimensions"), len(inp), "dimensions")
        if inp != out:
            _fail(self, f"result shape {out} differs from operand shape {inp}")


@irdl_op_definition
class SliceOp(ShapeOp):
    name = "lax.slice"
    PRIMITIVE: ClassVar[str] = "slice"
    start_indices = prop_def(DenseArrayBase)
    limit_indices = prop_def(DenseArrayBase)
    strides = prop_def(DenseArrayBase)

    def verify_shape(self, inp, out) -> None:
        start, limit = self.ints("start_indices"), self.ints("limit_indices")
        strides = self.ints("strides")
        if not len(start) == len(limit) == len(strides) == len(inp):
            _fail(self, f"start/limit/strides need one entry per dimension ({len(inp)})")
        want = []
        for s, lo, hi, st in zip(inp, start, limit, strides, strict=True):
            if not (0 <= lo <= hi <= s) or st < 1:
                _fail(self, f"slice [{lo}:{hi}:{st}] out of bounds for dimension of size {s}")
            want.append(max(0, -(-(hi - lo) // st)))
        if tuple(want) != out:
            _fail(self, f"result shape {out} should be {tuple(want)}")


@irdl_op_definition
class PadOp(LaxOp):
    """Pads with a scalar: `low`/`high` edges (may be negative) and `interior` gaps."""

    name = "lax.pad"
    PRIMITIVE: ClassVar[str] = "pad"
    operand = operand_def(Tensor)
    padding_value = operand_def(Tensor)
    result = result_def(Tensor)
    low = prop_def(DenseArrayBase)
    high = prop_def(DenseArrayBase)
    interior = prop_def(DenseArrayBase)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        inp, out = shape(self.operand), shape(self.result)
        lo, hi, mid = self.ints("low"), self.ints("high"), self.ints("interior")
        if not len(lo) == len(hi) == len(mid) == len(inp):
            _fail(self, "low/high/interior need one entry per dimension")
        if shape(self.padding_value) != () or elem(self.padding_value) != elem(self.operand):
            _fail(self, f"padding value must be a scalar of {elem(self.operand)}")
        want = tuple(
            a + b + s + max(0, s - 1) * c for s, a, b, c in zip(inp, lo, hi, mid, strict=True)
        )
        if want != out:
            _fail(self, f"result shape {out} should be {want}")


@irdl_op_definition
class ConcatenateOp(LaxOp):
    name = "lax.concatenate"
    PRIMITIVE: ClassVar[str] = "concatenate"
    inputs = var_operand_def(Tensor)
    result = result_def(Tensor)
    dimension = prop_def(IntegerAttr)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        d, out = self.int("dimension"), shape(self.result)
        if not 0 <= d < len(out):
            _fail(self, f"dimension {d} out of range for rank {len(out)}")
        total = 0
        for x in self.inputs:
            s = shape(x)
            if len(s) != len(out) or any(a != b for i, (a, b) in enumerate(zip(s, out)) if i != d):
                _fail(self, f"operand shape {s} does not match {out} outside dimension {d}")
            if elem(x) != elem(self.result):
                _fail(self, f"operand element type {elem(x)} differs from {elem(self.result)}")
            total += s[d]
        if total != out[d]:
            _fail(self, f"operand sizes along dimension {d} add up to {total}, not {out[d]}")


@irdl_op_definition
class SplitOp(LaxOp):
    name = "lax.split"
    PRIMITIVE: ClassVar[str] = "split"
    operand = operand_def(Tensor)
    outputs = var_result_def(Tensor)
    sizes = prop_def(DenseArrayBase)
    axis = prop_def(IntegerAttr)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        sizes, axis, inp = self.ints("sizes"), self.int("axis"), shape(self.operand)
        if len(sizes) != len(self.outputs) or sum(sizes) != inp[axis]:
            _fail(self, f"sizes {list(sizes)} must match the results and add up to {inp[axis]}")


@irdl_op_definition
class DynamicSliceOp(LaxOp):
    """A `slice_sizes` window at run-time start indices (one scalar per dimension)."""

    name = "lax.dynamic_slice"
    PRIMITIVE: ClassVar[str] = "dynamic_slice"
    operand = operand_def(Tensor)
    start_indices = var_operand_def(Tensor)
    result = result_def(Tensor)
    slice_sizes = prop_def(DenseArrayBase)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        inp, sizes = shape(self.operand), self.ints("slice_sizes")
        if len(self.start_indices) != len(inp) or len(sizes) != len(inp):
            _fail(self, f"needs {len(inp)} start indices and slice sizes")
        if any(shape(i) != () or not is_integer(elem(i)) for i in self.start_indices):
            _fail(self, "start indices must be integer scalars")
        if tuple(sizes) != shape(self.result) or any(s > d for s, d in zip(sizes, inp)):
            _fail(self, f"slice sizes {list(sizes)} must fit {inp} and equal the result shape")


@irdl_op_definition
class DynamicUpdateSliceOp(LaxOp):
    name = "lax.dynamic_update_slice"
    PRIMITIVE: ClassVar[str] = "dynamic_update_slice"
    operand = operand_def(Tensor)
    update = operand_def(Tensor)
    start_indices = var_operand_def(Tensor)
    result = result_def(Tensor)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        inp, upd = shape(self.operand), shape(self.update)
        if len(self.start_indices) != len(inp) or len(upd) != len(inp):
            _fail(self, f"needs {len(inp)} start indices and an update of rank {len(inp)}")
        if any(u > d for u, d in zip(upd, inp)):
            _fail(self, f"update shape {upd} does not fit in {inp}")
        if self.result.type != self.operand.type:
            _fail(self, "result type must equal the operand type")


@irdl_op_definition
class GatherOp(LaxOp):
    name = "lax.gather"
    PRIMITIVE: ClassVar[str] = "gather"
    operand = operand_def(Tensor)
    indices = operand_def(Tensor)
    result = result_def(Tensor)
    offset_dims = prop_def(DenseArrayBase)
    collapsed_slice_dims = prop_def(DenseArrayBase)
    start_index_map = prop_def(DenseArrayBase)
    operand_batching_dims = prop_def(DenseArrayBase)
    start_indices_batching_dims = prop_def(DenseArrayBase)
    slice_sizes = prop_def(DenseArrayBase)
    mode = prop_def(IntegerAttr)
    indices_are_sorted = prop_def(IntegerAttr)
    unique_indices = prop_def(IntegerAttr)
    fill_value = opt_prop_def(Attribute)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        inp = shape(self.operand)
        if len(self.ints("slice_sizes")) != len(inp):
            _fail(self, f"slice_sizes needs one entry per operand dimension ({len(inp)})")
        if not is_integer(elem(self.indices)):
            _fail(self, f"indices must be integers, got {elem(self.indices)}")
        if elem(self.result) != elem(self.operand):
            _fail(self, "result element type must equal the operand's")


class ScatterBase(LaxOp):
    """operand[indices] (op)= updates; the combiner is the op's kind, not a region."""

    operand = operand_def(Tensor)
    indices = operand_def(Tensor)
    updates = operand_def(Tensor)
    result = result_def(Tensor)
    update_window_dims = prop_def(DenseArrayBase)
    inserted_window_dims = prop_def(DenseArrayBase)
    scatter_dims_to_operand_dims = prop_def(DenseArrayBase)
    operand_batching_dims = prop_def(DenseArrayBase)
    scatter_indices_batching_dims = prop_def(DenseArrayBase)
    mode = prop_def(IntegerAttr)
    indices_are_sorted = prop_def(IntegerAttr)
    unique_indices = prop_def(IntegerAttr)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        if self.result.type != self.operand.type:
            _fail(self, "result type must equal the operand type")
        if elem(self.updates) != elem(self.operand):
            _fail(self, "updates must have the operand's element type")
        if not is_integer(elem(self.indices)):
            _fail(self, f"indices must be integers, got {elem(self.indices)}")


@irdl_op_definition
class ScatterOp(ScatterBase):
    name = "lax.scatter"
    PRIMITIVE: ClassVar[str] = "scatter"


@irdl_op_definition
class ScatterAddOp(ScatterBase):
    name = "lax.scatter_add"
    PRIMITIVE: ClassVar[str] = "scatter-add"


@irdl_op_definition
class ScatterMulOp(ScatterBase):
    name = "lax.scatter_mul"
    PRIMITIVE: ClassVar[str] = "scatter-mul"


@irdl_op_definition
class ScatterMinOp(ScatterBase):
    name = "lax.scatter_min"
    PRIMITIVE: ClassVar[str] = "scatter-min"


@irdl_op_definition
class ScatterMaxOp(ScatterBase):
    name = "lax.scatter_max"
    PRIMITIVE: ClassVar[str] = "scatter-max"


# ---------------------------------------------------------------------------------------
# Reductions, scans, sorting, contraction.
# ---------------------------------------------------------------------------------------


class ReduceOp(LaxOp):
    """Reduces `axes` away; the result keeps the other dimensions in order."""

    operand = operand_def(Tensor)
    result = result_def(Tensor)
    axes = prop_def(DenseArrayBase)
    traits = traits_def(Pure(), LaxCanonicalization())
    INDEX_RESULT: ClassVar[bool] = False
    KINDS: ClassVar[str] = "any"

    def __init__(self, operand: SSAValue, axes: Sequence[int],
                 result_type: Attribute | None = None):
        s = shape(operand)
        t = result_type or TensorType(elem(operand), [d for i, d in enumerate(s) if i not in axes])
        super().__init__(operands=[operand], result_types=[t], properties={"axes": ints(axes)})

    def verify_(self) -> None:
        inp, axes = shape(self.operand), self.ints("axes")
        _check_dims(self, axes, len(inp), "axes")
        want = tuple(d for i, d in enumerate(inp) if i not in axes)
        if shape(self.result) != want:
            _fail(self, f"result shape {shape(self.result)} should be {want}")
        _check_kind(self, elem(self.operand), self.KINDS)
        if self.INDEX_RESULT:
            if not is_integer(elem(self.result)):
                _fail(self, f"index result must be an integer type, got {elem(self.result)}")
        elif elem(self.result) != elem(self.operand):
            _fail(self, f"result element type {elem(self.result)} differs from the operand's")


def _reduce(name: str, base: type = ReduceOp, kinds: str = "any"):
    cls = type("".join(p.capitalize() for p in name.split("_")) + "Op", (base,),
               {"name": f"lax.{name}", "PRIMITIVE": name, "KINDS": kinds,
                "__module__": __name__, "__annotations__": _CONSTS})
    return irdl_op_definition(cls)


ReduceSumOp = _reduce("reduce_sum", kinds="num")
ReduceProdOp = _reduce("reduce_prod", kinds="num")
ReduceMaxOp = _reduce("reduce_max")
ReduceMinOp = _reduce("reduce_min")
ReduceAndOp = _reduce("reduce_and", kinds="int")
ReduceOrOp = _reduce("reduce_or", kinds="int")
ReduceXorOp = _reduce("reduce_xor", kinds="int")


class ArgReduceOp(ReduceOp):
    INDEX_RESULT: ClassVar[bool] = True


ArgmaxOp = _reduce("argmax", ArgReduceOp)
ArgminOp = _reduce("argmin", ArgReduceOp)


class CumulativeOp(LaxOp):
    """Running reduction along `axis`, from the end when `reverse` is true."""

    operand = operand_def(Tensor)
    result = result_def(Tensor)
    axis = prop_def(IntegerAttr)
    reverse = prop_def(IntegerAttr)
    traits = traits_def(Pure(), LaxCanonicalization())
    KINDS: ClassVar[str] = "num"

    def verify_(self) -> None:
        if self.result.type != self.operand.type:
            _fail(self, "result type must equal the operand type")
        if not 0 <= self.int("axis") < max(len(shape(self.operand)), 1):
            _fail(self, f"axis {self.int('axis')} out of range")
        _check_kind(self, elem(self.operand), self.KINDS)


CumsumOp = _reduce("cumsum", CumulativeOp, "num")
CumprodOp = _reduce("cumprod", CumulativeOp, "num")
CummaxOp = _reduce("cummax", CumulativeOp, "num")
CumminOp = _reduce("cummin", CumulativeOp, "num")
CumlogsumexpOp = _reduce("cumlogsumexp", CumulativeOp, "float")


@irdl_op_definition
class SortOp(LaxOp):
    """Sorts all operands along `dimension` by the first `num_keys` of them."""

    name = "lax.sort"
    PRIMITIVE: ClassVar[str] = "sort"
    inputs = var_operand_def(Tensor)
    outputs = var_result_def(Tensor)
    dimension = prop_def(IntegerAttr)
    is_stable = prop_def(IntegerAttr)
    num_keys = prop_def(IntegerAttr)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        if [x.type for x in self.inputs] != [r.type for r in self.outputs]:
            _fail(self, "result types must equal the operand types")
        if len({shape(x) for x in self.inputs}) > 1:
            _fail(self, "all operands must have one shape")
        if not 1 <= self.int("num_keys") <= len(self.inputs):
            _fail(self, f"num_keys must be in [1, {len(self.inputs)}]")


@irdl_op_definition
class TopKOp(LaxOp):
    """The `k` largest entries along the last dimension, and their int32 indices."""

    name = "lax.top_k"
    PRIMITIVE: ClassVar[str] = "top_k"
    operand = operand_def(Tensor)
    values = result_def(Tensor)
    indices = result_def(Tensor)
    k = prop_def(IntegerAttr)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        inp, k = shape(self.operand), self.int("k")
        if not inp or not 0 <= k <= inp[-1]:
            _fail(self, f"k = {k} must be in [0, {inp[-1] if inp else 0}] for {self.operand.type}")
        want = (*inp[:-1], k)
        if shape(self.values) != want or elem(self.values) != elem(self.operand):
            _fail(self, f"values must be {want} of {elem(self.operand)}, got {self.values.type}")
        if shape(self.indices) != want or elem(self.indices) != IntegerType(32):
            _fail(self, f"indices must be {want} of i32, got {self.indices.type}")


@irdl_op_definition
class DotGeneralOp(LaxOp):
    """Contracts lhs/rhs contracting dims; result = batch dims, lhs free, rhs free."""

    name = "lax.dot_general"
    PRIMITIVE: ClassVar[str] = "dot_general"
    lhs = operand_def(Tensor)
    rhs = operand_def(Tensor)
    result = result_def(Tensor)
    lhs_contracting = prop_def(DenseArrayBase)
    rhs_contracting = prop_def(DenseArrayBase)
    lhs_batch = prop_def(DenseArrayBase)
    rhs_batch = prop_def(DenseArrayBase)
    precision = opt_prop_def(StringAttr)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        ls, rs = shape(self.lhs), shape(self.rhs)
        lc, rc = self.ints("lhs_contracting"), self.ints("rhs_contracting")
        lb, rb = self.ints("lhs_batch"), self.ints("rhs_batch")
        if len(lc) != len(rc) or len(lb) != len(rb):
            _fail(self, "lhs and rhs need as many contracting and batch dimensions")
        _check_dims(self, (*lc, *lb), len(ls), "lhs dimensions")
        _check_dims(self, (*rc, *rb), len(rs), "rhs dimensions")
        for a, b in (*zip(lc, rc), *zip(lb, rb)):
            if ls[a] != rs[b]:
                _fail(self, f"lhs dimension {a} (size {ls[a]}) does not match rhs "
                      f"dimension {b} (size {rs[b]})")
        want = (
            *(ls[i] for i in lb),
            *(d for i, d in enumerate(ls) if i not in lc and i not in lb),
            *(d for i, d in enumerate(rs) if i not in rc and i not in rb),
        )
        if shape(self.result) != want:
            _fail(self, f"result shape {shape(self.result)} should be {want}")


# ---------------------------------------------------------------------------------------
# Control flow: ops with regions, each region one block ending in `lax.yield`.
#
# Regions are not isolated from above: a region reads values of the enclosing blocks
# directly (JAX's `cond_consts`/`body_consts`/scan consts and cond's operands become such
# captured values), as `scf` does. So `cse` can reuse an outer value inside a body, hoisting
# an op out of a loop is moving it (no operand to add), and a constant-index `cond` folds by
# inlining a branch. Block arguments are exactly the loop-carried values (and, for `scan`,
# the slices of `xs`). The ops have no effects of their own (`RecursiveMemoryEffect`): one is
# pure when its body is, which every `lax` body is, so `cse`/`dce` merge and drop them.
# ---------------------------------------------------------------------------------------


def _types(values: Sequence[SSAValue]) -> list[Attribute]:
    return [v.type for v in values]


def _show(types: Sequence[Attribute]) -> str:
    return "(" + ", ".join(str(t) for t in types) + ")"


def _yielded(op: Operation, region: Region, what: str) -> YieldOp:
    """The `lax.yield` ending the single block of `region` (verified to be there)."""
    last = region.block.last_op if region.blocks else None
    if not isinstance(last, YieldOp):
        _fail(op, f"{what} must end with lax.yield")
    assert isinstance(last, YieldOp)
    return last


def _check_yield(op: Operation, region: Region, want: Sequence[Attribute], what: str) -> None:
    got = _types(_yielded(op, region, what).values)
    if list(got) != list(want):
        _fail(op, f"{what} yields {_show(got)}, expected {_show(want)}")


def _check_args(op: Operation, region: Region, want: Sequence[Attribute], what: str) -> None:
    got = _types(region.block.args)
    if list(got) != list(want):
        _fail(op, f"{what} block arguments {_show(got)} must be {_show(want)}")


def _print_region(printer: Printer, region: Region) -> None:
    printer.print_string(" ")
    printer.print_region(region, print_entry_block_args=bool(region.block.args))


def _print_props(printer: Printer, op: IRDLOperation) -> None:
    for name in type(op).get_irdl_definition().properties:
        if name in op.properties and name != "operandSegmentSizes":  # said by the lists
            printer.print_string(f" {name} ")
            syntax.print_prop_value(printer, op.properties[name])
    if op.attributes:
        printer.print_string(" ")
        printer.print_attr_dict(op.attributes)


def _parse_props(parser: Parser, cls: type[IRDLOperation]) -> tuple[dict, dict]:
    """`name value` properties up to the `:` or an attribute dictionary, then that dict."""
    known, props = cls.get_irdl_definition().properties, {}
    while (name := parser.parse_optional_identifier()) is not None:
        if name not in known or name in props:
            parser.raise_error(f"'{cls.name}' has no property '{name}' or it is given twice "
                               f"(properties: {', '.join(known) or 'none'})")
        props[name] = syntax.parse_prop_value(parser)
    return props, parser.parse_optional_attr_dict()


def _parse_operands(parser: Parser) -> list:
    """`(%a, %b)`: a parenthesized, possibly empty, operand list."""
    return parser.parse_comma_separated_list(
        parser.Delimiter.PAREN, parser.parse_unresolved_operand)


def _print_operands(printer: Printer, values: Sequence[SSAValue]) -> None:
    printer.print_string("(")
    printer.print_list(values, printer.print_operand)
    printer.print_string(")")


def _resolve(parser: Parser, operands: list, types: Sequence[Attribute], pos: int) -> list:
    if len(operands) != len(types):
        parser.raise_error(f"{len(types)} types for {len(operands)} operands", pos)
    return parser.resolve_operands(operands, types, pos)


class RegionOp(LaxOp):
    """Base of the control-flow ops: accessors that passes over regions share."""

    def yielded(self, region: Region) -> YieldOp:
        """The terminator of `region` (one of this op's regions)."""
        last = region.block.last_op
        assert isinstance(last, YieldOp), f"{self.name} region does not end with lax.yield"
        return last


@irdl_op_definition
class CondOp(RegionOp):
    """Runs branch `index` (clamped to the branches, as XLA's conditional) and returns what
    it yields. Branches take no block arguments: they read the values they need from above.
    `jax.lax.cond` is two branches (false first), `jax.lax.switch` any number.

        %r = lax.cond %i : tensor<i32> -> tensor<f32> { ...; lax.yield %a : tensor<f32> },
                                                      { ...; lax.yield %b : tensor<f32> }
    """

    name = "lax.cond"
    PRIMITIVE: ClassVar[str] = "cond"
    index = operand_def(Tensor)
    outputs = var_result_def(Tensor)
    branches = var_region_def("single_block")
    traits = traits_def(RecursiveMemoryEffect(), RecursivelySpeculatable(),
                        LaxCanonicalization())

    def __init__(self, index: SSAValue, result_types: Sequence[Attribute],
                 branches: Sequence[Region]):
        super().__init__(operands=[index], result_types=[list(result_types)],
                         regions=[list(branches)])

    def verify_(self) -> None:
        if shape(self.index) != () or not (is_integer(elem(self.index))
                                           or is_bool(elem(self.index))):
            _fail(self, f"index must be an integer or i1 scalar, got {self.index.type}")
        if not self.branches:
            _fail(self, "needs at least one branch")
        for i, branch in enumerate(self.branches):
            _check_args(self, branch, [], f"branch {i}")
            _check_yield(self, branch, _types(self.outputs), f"branch {i}")

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.index)
        _print_props(printer, self)
        printer.print_string(" : ")
        printer.print_attribute(self.index.type)
        printer.print_string(" -> ")
        syntax.print_type_list(printer, _types(self.outputs))
        for i, branch in enumerate(self.branches):
            if i:
                printer.print_string(",")
            _print_region(printer, branch)

    @classmethod
    def parse(cls, parser: Parser) -> CondOp:
        pos = parser.pos
        index = parser.parse_unresolved_operand()
        _, attrs = _parse_props(parser, cls)
        parser.parse_punctuation(":")
        index_type = parser.parse_type()
        parser.parse_punctuation("->")
        out_types = syntax.parse_type_list(parser)
        branches = [parser.parse_region()]
        while parser.parse_optional_punctuation(",") is not None:
            branches.append(parser.parse_region())
        (value,) = _resolve(parser, [index], [index_type], pos)
        op = cls(value, out_types, branches)
        op.attributes.update(attrs)
        return op


@irdl_op_definition
class WhileOp(RegionOp):
    """Loops while `cond` yields true: both regions take the carried values as block
    arguments; `cond` yields a `tensor<i1>`, `body` the next carried values.

        %r = lax.while (%x) : tensor<f32> cond { ^bb0(%c: tensor<f32>): ... } do { ... }
    """

    name = "lax.while"
    PRIMITIVE: ClassVar[str] = "while"
    init = var_operand_def(Tensor)
    outputs = var_result_def(Tensor)
    cond = region_def("single_block")
    body = region_def("single_block")
    # Not speculatable: a while loop need not terminate.
    traits = traits_def(RecursiveMemoryEffect(), LaxCanonicalization())

    def __init__(self, init: Sequence[SSAValue], cond: Region, body: Region):
        super().__init__(operands=[list(init)], result_types=[_types(init)],
                         regions=[cond, body])

    @property
    def carried_types(self) -> list[Attribute]:
        """The types of the loop-carried values (operands, block arguments, results)."""
        return _types(self.init)

    def verify_(self) -> None:
        carried = self.carried_types
        if _types(self.outputs) != carried:
            _fail(self, f"result types {_show(_types(self.outputs))} must equal the carried "
                  f"types {_show(carried)}")
        _check_args(self, self.cond, carried, "cond region")
        _check_args(self, self.body, carried, "body region")
        _check_yield(self, self.cond, [TensorType(i1, [])], "cond region")
        _check_yield(self, self.body, carried, "body region")

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        _print_operands(printer, self.init)
        _print_props(printer, self)
        printer.print_string(" : ")
        syntax.print_type_list(printer, self.carried_types)
        printer.print_string(" cond")
        _print_region(printer, self.cond)
        printer.print_string(" do")
        _print_region(printer, self.body)

    @classmethod
    def parse(cls, parser: Parser) -> WhileOp:
        pos = parser.pos
        operands = _parse_operands(parser)
        _, attrs = _parse_props(parser, cls)
        parser.parse_punctuation(":")
        types = syntax.parse_type_list(parser)
        parser.parse_keyword("cond")
        cond = parser.parse_region()
        parser.parse_keyword("do")
        body = parser.parse_region()
        op = cls(_resolve(parser, operands, types, pos), cond, body)
        op.attributes.update(attrs)
        return op


@irdl_op_definition
class ScanOp(RegionOp):
    """`length` steps of `body` over the carried values and slice `i` of each of `xs`
    (from the end when `reverse`); results are the final carry, then each yielded slice
    stacked into `ys` (leading dimension `length`). `unroll` is a hint for the target.

        %c, %ys = lax.scan (%c0) xs (%xs) length 5 reverse false unroll 1
            : (tensor<f32>, tensor<5x3xf32>) -> (tensor<f32>, tensor<5xf32>) { ... }
    """

    name = "lax.scan"
    PRIMITIVE: ClassVar[str] = "scan"
    init = var_operand_def(Tensor)
    xs = var_operand_def(Tensor)
    outputs = var_result_def(Tensor)
    length = prop_def(IntegerAttr)
    reverse = prop_def(IntegerAttr)
    unroll = prop_def(IntegerAttr)
    body = region_def("single_block")
    irdl_options = (AttrSizedOperandSegments(as_property=True),)
    traits = traits_def(RecursiveMemoryEffect(), RecursivelySpeculatable(),
                        LaxCanonicalization())

    def __init__(self, init: Sequence[SSAValue], xs: Sequence[SSAValue],
                 y_types: Sequence[Attribute], body: Region, length: int,
                 reverse: bool = False, unroll: int = 1):
        super().__init__(
            operands=[list(init), list(xs)], result_types=[[*_types(init), *y_types]],
            regions=[body], properties={"length": int_attr(length),
                                        "reverse": bool_attr(reverse),
                                        "unroll": int_attr(unroll)})

    @property
    def num_carry(self) -> int:
        return len(self.init)

    @property
    def carry_outputs(self) -> Sequence[SSAValue]:
        """The final carried values."""
        return self.outputs[:self.num_carry]

    @property
    def ys(self) -> Sequence[SSAValue]:
        """The stacked per-step outputs."""
        return self.outputs[self.num_carry:]

    @property
    def carried_types(self) -> list[Attribute]:
        return _types(self.init)

    def verify_(self) -> None:
        n, carried = self.int("length"), self.carried_types
        if n < 0 or self.int("unroll") < 1:
            _fail(self, f"length must be >= 0 and unroll >= 1, got {n} and {self.int('unroll')}")
        if _types(self.carry_outputs) != carried:
            _fail(self, f"carry result types {_show(_types(self.carry_outputs))} must equal "
                  f"the carried types {_show(carried)}")
        slices = []
        for x in self.xs:
            if shape(x)[:1] != (n,):
                _fail(self, f"xs operand {x.type} must have leading dimension {n} (length)")
            slices.append(TensorType(elem(x), shape(x)[1:]))
        _check_args(self, self.body, [*carried, *slices], "body region")
        ys = []
        for y in self.ys:
            if shape(y)[:1] != (n,):
                _fail(self, f"ys result {y.type} must have leading dimension {n} (length)")
            ys.append(TensorType(elem(y), shape(y)[1:]))
        _check_yield(self, self.body, [*carried, *ys], "body region")

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        _print_operands(printer, self.init)
        printer.print_string(" xs ")
        _print_operands(printer, self.xs)
        _print_props(printer, self)
        printer.print_string(" : ")
        syntax.print_type_list(printer, _types(self.operands))
        printer.print_string(" -> ")
        syntax.print_type_list(printer, _types(self.outputs))
        _print_region(printer, self.body)

    @classmethod
    def parse(cls, parser: Parser) -> ScanOp:
        pos = parser.pos
        init = _parse_operands(parser)
        parser.parse_keyword("xs")
        xs = _parse_operands(parser)
        props, attrs = _parse_props(parser, cls)
        parser.parse_punctuation(":")
        in_types = syntax.parse_type_list(parser)
        parser.parse_punctuation("->")
        out_types = syntax.parse_type_list(parser)
        body = parser.parse_region()
        values = _resolve(parser, [*init, *xs], in_types, pos)
        if len(out_types) < len(init):
            parser.raise_error(f"'{cls.name}' needs at least {len(init)} results (the carry)")
        op = cls.build(operands=[values[:len(init)], values[len(init):]],
                       result_types=[out_types], regions=[body], properties=props,
                       attributes=attrs)
        return op


@irdl_op_definition
class YieldOp(IRDLOperation):
    """Ends a region of a control-flow op with the values it passes on."""

    name = "lax.yield"
    values = var_operand_def(Tensor)
    traits = lazy_traits_def(lambda: (IsTerminator(), HasParent(CondOp, WhileOp, ScanOp),
                                      Pure()))
    assembly_format = "($values^ `:` type($values))? attr-dict"

    def __init__(self, values: Sequence[SSAValue]):
        super().__init__(operands=[list(values)])


# ---------------------------------------------------------------------------------------
# Any other primitive whose params are plain data.
# ---------------------------------------------------------------------------------------


@irdl_op_definition
class GenericOp(LaxOp):
    """A JAX primitive tiers has no dedicated op for, params as attributes.

    Passes treat it as opaque: it has no `Pure` trait (a rare primitive may have effects),
    so it is never moved, merged or dropped.
    """

    name = "lax.generic"
    PRIMITIVE: ClassVar[str] = "generic"
    inputs = var_operand_def(Tensor)
    outputs = var_result_def(Tensor)
    prim = prop_def(StringAttr)
    params = prop_def(DictionaryAttr)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_string_literal(self.prim.data)
        syntax.print_op(self, printer, skip=("prim",))

    @classmethod
    def parse(cls, parser: Parser) -> IRDLOperation:
        prim = parser.parse_str_literal()
        return syntax.parse_op(cls, parser, {"prim": StringAttr(prim)})


@irdl_op_definition
class ShardingConstraintOp(LaxOp):
    """`jax.lax.with_sharding_constraint`: the value, laid out over `mesh` as `spec` says.

    Mesh and spec are attributes of `tiers.dialects.sharding`, the spec written first (the
    shared syntax reads a bare `[` as an i64 array):
    `lax.sharding_constraint spec [["x"], []] %x mesh {axes = ["x"], shape = array<i64: 8>}`.
    """

    name = "lax.sharding_constraint"
    PRIMITIVE: ClassVar[str] = "sharding_constraint"
    operand = operand_def(Tensor)
    result = result_def(Tensor)
    mesh = prop_def(DictionaryAttr)
    spec = prop_def(Attribute)
    traits = traits_def(Pure())

    def print(self, printer: Printer) -> None:
        printer.print_string(" spec ")
        printer.print_attribute(self.spec)
        syntax.print_op(self, printer, skip=("spec",))

    @classmethod
    def parse(cls, parser: Parser) -> IRDLOperation:
        parser.parse_keyword("spec")
        return syntax.parse_op(cls, parser, {"spec": parser.parse_attribute()})

    def verify_(self) -> None:
        from tiers.dialects.sharding import ShardingError, check

        if self.operand.type != self.result.type:
            _fail(self, f"result type {self.result.type} differs from {self.operand.type}")
        try:
            check(self.mesh, self.spec, len(shape(self.operand)))
        except ShardingError as e:
            _fail(self, str(e))


def all_ops() -> list[type[LaxOp]]:
    """Every op class of the dialect (for rule tables and their coverage test)."""
    return [v for v in globals().values()
            if isinstance(v, type) and issubclass(v, LaxOp) and "name" in v.__dict__]


Lax = Dialect("lax", [*all_ops(), YieldOp], [])
