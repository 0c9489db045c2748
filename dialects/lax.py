"""The `lax` dialect: one op per JAX primitive, on builtin `tensor<...>` types.

Each op names its primitive (`PRIMITIVE`), keeps the primitive's params that the types do
not already say as properties, and verifies shapes and dtypes like JAX's shape rules. All
ops are `Pure`: JAX primitives have no side effects, so `cse`/`dce` may move and drop them;
the exceptions are the host callbacks (`lax.debug_print`, ...: `lax_effects.py`).
The custom syntax is shared (see `syntax.py`): `%y = lax.reduce_sum %x axes [1] : T -> R`.

Ops come in families (`UnaryOp`, `BinaryOp`, `ReduceOp`, ...) whose base class holds the
operands, verifier and builder, so a leaf op is its name, primitive and dtype kind. The op
base class and shared helpers live in `lax_base.py`, the control-flow ops (`lax.cond`,
`lax.while`, `lax.scan`, `lax.yield`) in `lax_regions.py`, the windowed ops (pooling and its
derivatives) in `lax_windows.py`, the host callbacks in `lax_effects.py`, `lax.fft` in
`lax_fft.py`, the PRNG key type and `lax.random_wrap`/`random_unwrap` in `lax_keys.py`; all
are re-exported here, and `Lax` at the end lists every op of the dialect.
Complex numbers are `complex<f32>`/`complex<f64>` elements, accepted where JAX's dtype rules
accept them (`Kind`).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import ClassVar, Self, TypeVar, cast

import numpy as np
from numpy.typing import ArrayLike, DTypeLike
from xdsl.dialects.builtin import (
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    Float32Type,
    Float64Type,
    IntegerAttr,
    IntegerType,
    Signedness,
    StringAttr,
    TensorType,
    i1,
)
from xdsl.ir import Attribute, Dialect, Operation, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import Commutative, ConstantLike, Pure

from tiers.dialects import syntax
from tiers.dialects.constants import constant_array, dense
from tiers.dialects.dtypes import (
    complex_of,
    is_bool,
    is_complex,
    is_float,
    is_inexact,
    is_integer,
    real_part,
    to_numpy,
)
from tiers.dialects.lax_base import (
    LaxCanonicalization,
    LaxOp,
    Tensor,
    elem,
    fail,
    int_attr,
    ints,
    shape,
    verify_once_per_signature,
)

# `name as name`: re-exported, part of this dialect's interface (`lax.CondOp`, `lax.bool_attr`).
from tiers.dialects.lax_base import bool_attr as bool_attr
from tiers.dialects.lax_effects import CallbackAttr
from tiers.dialects.lax_effects import CallbackOp as CallbackOp
from tiers.dialects.lax_effects import DebugCallbackOp as DebugCallbackOp
from tiers.dialects.lax_effects import DebugPrintOp as DebugPrintOp
from tiers.dialects.lax_effects import IoCallbackOp as IoCallbackOp
from tiers.dialects.lax_effects import OpaqueOp as OpaqueOp
from tiers.dialects.lax_effects import PureCallbackOp as PureCallbackOp
from tiers.dialects.lax_fft import FftOp as FftOp
from tiers.dialects.lax_keys import KeyDataOp as KeyDataOp
from tiers.dialects.lax_keys import KeyType as KeyType
from tiers.dialects.lax_keys import RandomUnwrapOp as RandomUnwrapOp
from tiers.dialects.lax_keys import RandomWrapOp as RandomWrapOp
from tiers.dialects.lax_regions import CondOp as CondOp
from tiers.dialects.lax_regions import RegionOp as RegionOp
from tiers.dialects.lax_regions import ScanOp as ScanOp
from tiers.dialects.lax_regions import WhileOp as WhileOp
from tiers.dialects.lax_regions import YieldOp
from tiers.dialects.lax_windows import DilatedWindowOp as DilatedWindowOp
from tiers.dialects.lax_windows import ReduceWindowMaxOp as ReduceWindowMaxOp
from tiers.dialects.lax_windows import ReduceWindowMinOp as ReduceWindowMinOp
from tiers.dialects.lax_windows import ReduceWindowOp as ReduceWindowOp
from tiers.dialects.lax_windows import ReduceWindowSumOp as ReduceWindowSumOp
from tiers.dialects.lax_windows import SelectAndGatherAddOp as SelectAndGatherAddOp
from tiers.dialects.lax_windows import SelectAndScatterAddOp as SelectAndScatterAddOp
from tiers.dialects.lax_windows import WindowOp as WindowOp
from tiers.dialects.sharding import ShardingError, check

# ---------------------------------------------------------------------------------------
# Element type kinds: the dtype classes of JAX's shape rules.
# ---------------------------------------------------------------------------------------


class Kind(enum.Enum):
    """The element types an op accepts."""

    ANY = enum.auto()
    FLOAT = enum.auto()  # real floating point: floor, erf, is_finite, ...
    INEXACT = enum.auto()  # real or complex floating point: exp, log, sin, sqrt, ...
    INT_OR_BOOL = enum.auto()  # integer or bool: the bitwise ops (not, and, or, xor)
    INTEGER = enum.auto()  # integer, not bool: shifts, population_count, clz
    NUMERIC = enum.auto()  # integer, floating point or complex, not bool: arithmetic
    REAL = enum.auto()  # integer or real floating point: rem
    SIGNED = enum.auto()  # floating point, complex or signed integer: abs
    ORDERED = enum.auto()  # anything but complex: lt, le, gt, ge
    COMPLEX = enum.auto()  # complex: real, imag
    PARTS = enum.auto()  # f32 or f64, the parts of a complex number: complex
    PARTS_OR_COMPLEX = enum.auto()  # f32, f64 or complex: conj

    def accepts(self, t: Attribute) -> bool:
        """Whether the element type `t` is of this kind."""
        match self:
            case Kind.ANY:
                return True
            case Kind.FLOAT:
                return is_float(t)
            case Kind.INEXACT:
                return is_inexact(t)
            case Kind.INT_OR_BOOL:
                return not is_inexact(t)
            case Kind.INTEGER:
                return is_integer(t)
            case Kind.NUMERIC:
                return not is_bool(t)
            case Kind.REAL:
                return not is_bool(t) and not is_complex(t)
            case Kind.SIGNED:
                return is_inexact(t) or (isinstance(t, IntegerType) and is_integer(t)
                                         and t.signedness.data != Signedness.UNSIGNED)
            case Kind.ORDERED:
                return not is_complex(t)
            case Kind.COMPLEX:
                return is_complex(t)
            case Kind.PARTS:
                return isinstance(t, Float32Type | Float64Type)
            case Kind.PARTS_OR_COMPLEX:
                return isinstance(t, Float32Type | Float64Type) or is_complex(t)


_KIND_ERRORS = {
    Kind.FLOAT: "expects real floating-point operands",
    Kind.INEXACT: "expects floating-point or complex operands",
    Kind.INT_OR_BOOL: "expects integer or bool operands",
    Kind.INTEGER: "expects integer operands",
    Kind.NUMERIC: "does not accept bool operands",
    Kind.REAL: "expects integer or real floating-point operands",
    Kind.SIGNED: "expects signed integer, floating-point or complex operands",
    Kind.ORDERED: "does not accept complex operands (they have no order)",
    Kind.COMPLEX: "expects complex operands",
    Kind.PARTS: "expects f32 or f64 operands",
    Kind.PARTS_OR_COMPLEX: "expects f32, f64 or complex operands",
}


def _check_kind(op: Operation, t: Attribute, kind: Kind) -> None:
    """Fail unless the element type `t` is of `kind`."""
    if not kind.accepts(t):
        fail(op, f"{_KIND_ERRORS[kind]}, got {t}")


# ---------------------------------------------------------------------------------------
# Elementwise ops. Operands and result have one shape; `KIND` restricts element types.
# ---------------------------------------------------------------------------------------


class ElementwiseOp(LaxOp):
    """Operands and result of one shape and (but for `INT_RHS`/`RESULT_BOOL`) one type."""

    KIND: ClassVar[Kind] = Kind.ANY
    INT_RHS: ClassVar[bool] = False  # the second operand may be any integer type (pow)
    RESULT_BOOL: ClassVar[bool] = False  # the result is i1 (comparisons, is_finite)
    RESULT_REAL: ClassVar[bool] = False  # complex operands give real results (abs)
    traits = traits_def(Pure(), LaxCanonicalization())

    @classmethod
    def result_element(cls, t: Attribute) -> Attribute:
        """The result's element type for operands of element type `t` (JAX's dtype rule)."""
        return i1 if cls.RESULT_BOOL else real_part(t) if cls.RESULT_REAL else t

    def verify_(self) -> None:
        out = self.results[0]
        for i, x in enumerate(self.operands):
            if shape(x) != shape(out):
                fail(self, f"operand shape {shape(x)} differs from result shape {shape(out)}")
            if self.INT_RHS and i == 1 and is_integer(elem(x)):
                continue
            if elem(x) != elem(self.operands[0]):
                fail(self, f"operand element types differ: {elem(x)} vs {elem(self.operands[0])}")
        t = elem(self.operands[0])
        _check_kind(self, t, self.KIND)
        want = self.result_element(t)
        if elem(out) != want:
            fail(self, f"result element type must be {want}, got {elem(out)}")


class UnaryOp(ElementwiseOp):
    """One operand; the result has its type unless the op says otherwise."""

    operand = operand_def(Tensor)
    result = result_def(Tensor)

    def __init__(self, operand: SSAValue, result_type: Attribute | None = None):
        if result_type is None:
            t = elem(operand)
            want = self.result_element(t)
            result_type = operand.type if want == t else TensorType(want, shape(operand))
        super().__init__(operands=[operand], result_types=[result_type])


class BinaryOp(ElementwiseOp):
    """Two operands; the commutative ones carry xDSL's `Commutative` trait, by which
    `canonicalize` puts their operands in one order."""

    lhs = operand_def(Tensor)
    rhs = operand_def(Tensor)
    result = result_def(Tensor)

    def __init__(self, lhs: SSAValue, rhs: SSAValue, result_type: Attribute | None = None):
        super().__init__(operands=[lhs, rhs], result_types=[result_type or lhs.type])


class CompareOp(BinaryOp):
    """A comparison: an i1 result of the operands' shape."""

    RESULT_BOOL: ClassVar[bool] = True

    def __init__(self, lhs: SSAValue, rhs: SSAValue, result_type: Attribute | None = None):
        super().__init__(lhs, rhs, result_type or TensorType(i1, shape(lhs)))


@irdl_op_definition
class NegOp(UnaryOp):
    """`lax.neg_p`: -x elementwise."""

    name = "lax.neg"
    PRIMITIVE: ClassVar[str] = "neg"
    KIND: ClassVar[Kind] = Kind.NUMERIC


@irdl_op_definition
class AbsOp(UnaryOp):
    """`lax.abs_p`: |x| elementwise."""

    name = "lax.abs"
    PRIMITIVE: ClassVar[str] = "abs"
    KIND: ClassVar[Kind] = Kind.SIGNED
    RESULT_REAL: ClassVar[bool] = True  # |a + bi| is real


@irdl_op_definition
class SignOp(UnaryOp):
    """`lax.sign_p`: -1, 0 or 1 by the sign of x, elementwise."""

    name = "lax.sign"
    PRIMITIVE: ClassVar[str] = "sign"
    KIND: ClassVar[Kind] = Kind.NUMERIC


@irdl_op_definition
class FloorOp(UnaryOp):
    """`lax.floor_p`: x rounded down elementwise."""

    name = "lax.floor"
    PRIMITIVE: ClassVar[str] = "floor"
    KIND: ClassVar[Kind] = Kind.FLOAT


@irdl_op_definition
class CeilOp(UnaryOp):
    """`lax.ceil_p`: x rounded up elementwise."""

    name = "lax.ceil"
    PRIMITIVE: ClassVar[str] = "ceil"
    KIND: ClassVar[Kind] = Kind.FLOAT


@irdl_op_definition
class ExpOp(UnaryOp):
    """`lax.exp_p`: e^x elementwise."""

    name = "lax.exp"
    PRIMITIVE: ClassVar[str] = "exp"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class Exp2Op(UnaryOp):
    """`lax.exp2_p`: 2^x elementwise."""

    name = "lax.exp2"
    PRIMITIVE: ClassVar[str] = "exp2"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class LogOp(UnaryOp):
    """`lax.log_p`: ln(x) elementwise."""

    name = "lax.log"
    PRIMITIVE: ClassVar[str] = "log"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class Log1pOp(UnaryOp):
    """`lax.log1p_p`: ln(1 + x) elementwise."""

    name = "lax.log1p"
    PRIMITIVE: ClassVar[str] = "log1p"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class Expm1Op(UnaryOp):
    """`lax.expm1_p`: e^x - 1 elementwise."""

    name = "lax.expm1"
    PRIMITIVE: ClassVar[str] = "expm1"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class TanhOp(UnaryOp):
    """`lax.tanh_p`: tanh(x) elementwise."""

    name = "lax.tanh"
    PRIMITIVE: ClassVar[str] = "tanh"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class LogisticOp(UnaryOp):
    """`lax.logistic_p`: 1 / (1 + e^-x) elementwise."""

    name = "lax.logistic"
    PRIMITIVE: ClassVar[str] = "logistic"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class SinOp(UnaryOp):
    """`lax.sin_p`: sin(x) elementwise."""

    name = "lax.sin"
    PRIMITIVE: ClassVar[str] = "sin"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class CosOp(UnaryOp):
    """`lax.cos_p`: cos(x) elementwise."""

    name = "lax.cos"
    PRIMITIVE: ClassVar[str] = "cos"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class TanOp(UnaryOp):
    """`lax.tan_p`: tan(x) elementwise."""

    name = "lax.tan"
    PRIMITIVE: ClassVar[str] = "tan"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class AsinOp(UnaryOp):
    """`lax.asin_p`: arcsin(x) elementwise."""

    name = "lax.asin"
    PRIMITIVE: ClassVar[str] = "asin"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class AcosOp(UnaryOp):
    """`lax.acos_p`: arccos(x) elementwise."""

    name = "lax.acos"
    PRIMITIVE: ClassVar[str] = "acos"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class AtanOp(UnaryOp):
    """`lax.atan_p`: arctan(x) elementwise."""

    name = "lax.atan"
    PRIMITIVE: ClassVar[str] = "atan"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class SinhOp(UnaryOp):
    """`lax.sinh_p`: sinh(x) elementwise."""

    name = "lax.sinh"
    PRIMITIVE: ClassVar[str] = "sinh"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class CoshOp(UnaryOp):
    """`lax.cosh_p`: cosh(x) elementwise."""

    name = "lax.cosh"
    PRIMITIVE: ClassVar[str] = "cosh"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class AsinhOp(UnaryOp):
    """`lax.asinh_p`: arsinh(x) elementwise."""

    name = "lax.asinh"
    PRIMITIVE: ClassVar[str] = "asinh"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class AcoshOp(UnaryOp):
    """`lax.acosh_p`: arcosh(x) elementwise."""

    name = "lax.acosh"
    PRIMITIVE: ClassVar[str] = "acosh"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class AtanhOp(UnaryOp):
    """`lax.atanh_p`: artanh(x) elementwise."""

    name = "lax.atanh"
    PRIMITIVE: ClassVar[str] = "atanh"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class SqrtOp(UnaryOp):
    """`lax.sqrt_p`: the square root of x elementwise."""

    name = "lax.sqrt"
    PRIMITIVE: ClassVar[str] = "sqrt"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class RsqrtOp(UnaryOp):
    """`lax.rsqrt_p`: 1 / sqrt(x) elementwise."""

    name = "lax.rsqrt"
    PRIMITIVE: ClassVar[str] = "rsqrt"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class CbrtOp(UnaryOp):
    """`lax.cbrt_p`: the cube root of x elementwise."""

    name = "lax.cbrt"
    PRIMITIVE: ClassVar[str] = "cbrt"
    KIND: ClassVar[Kind] = Kind.FLOAT


@irdl_op_definition
class ErfOp(UnaryOp):
    """`lax.erf_p`: the error function of x elementwise."""

    name = "lax.erf"
    PRIMITIVE: ClassVar[str] = "erf"
    KIND: ClassVar[Kind] = Kind.FLOAT


@irdl_op_definition
class ErfcOp(UnaryOp):
    """`lax.erfc_p`: 1 - erf(x) elementwise."""

    name = "lax.erfc"
    PRIMITIVE: ClassVar[str] = "erfc"
    KIND: ClassVar[Kind] = Kind.FLOAT


@irdl_op_definition
class ErfInvOp(UnaryOp):
    """`lax.erf_inv_p`: the inverse of erf elementwise."""

    name = "lax.erf_inv"
    PRIMITIVE: ClassVar[str] = "erf_inv"
    KIND: ClassVar[Kind] = Kind.FLOAT


@irdl_op_definition
class LgammaOp(UnaryOp):
    """`lax.lgamma_p`: ln|gamma(x)| elementwise."""

    name = "lax.lgamma"
    PRIMITIVE: ClassVar[str] = "lgamma"
    KIND: ClassVar[Kind] = Kind.FLOAT


@irdl_op_definition
class DigammaOp(UnaryOp):
    """`lax.digamma_p`: the derivative of lgamma elementwise."""

    name = "lax.digamma"
    PRIMITIVE: ClassVar[str] = "digamma"
    KIND: ClassVar[Kind] = Kind.FLOAT


@irdl_op_definition
class SquareOp(UnaryOp):
    """`lax.square_p`: x * x elementwise."""

    name = "lax.square"
    PRIMITIVE: ClassVar[str] = "square"
    KIND: ClassVar[Kind] = Kind.NUMERIC


@irdl_op_definition
class NotOp(UnaryOp):
    """`lax.not_p`: bitwise not (logical not on bool) elementwise."""

    name = "lax.not"
    PRIMITIVE: ClassVar[str] = "not"
    KIND: ClassVar[Kind] = Kind.INT_OR_BOOL


@irdl_op_definition
class IsFiniteOp(UnaryOp):
    """`lax.is_finite_p`: whether x is neither infinite nor NaN, elementwise (an i1 result)."""

    name = "lax.is_finite"
    PRIMITIVE: ClassVar[str] = "is_finite"
    KIND: ClassVar[Kind] = Kind.FLOAT
    RESULT_BOOL: ClassVar[bool] = True


@irdl_op_definition
class StopGradientOp(UnaryOp):
    """`lax.stop_gradient_p`: x, with no derivative (the identity outside autodiff)."""

    name = "lax.stop_gradient"
    PRIMITIVE: ClassVar[str] = "stop_gradient"


@irdl_op_definition
class CopyOp(UnaryOp):
    """`lax.copy_p`: x, copied (the identity on values)."""

    name = "lax.copy"
    PRIMITIVE: ClassVar[str] = "copy"


@irdl_op_definition
class PopulationCountOp(UnaryOp):
    """`lax.population_count_p`: the number of set bits of x elementwise."""

    name = "lax.population_count"
    PRIMITIVE: ClassVar[str] = "population_count"
    KIND: ClassVar[Kind] = Kind.INTEGER


@irdl_op_definition
class ClzOp(UnaryOp):
    """`lax.clz_p`: the number of leading zero bits of x elementwise."""

    name = "lax.clz"
    PRIMITIVE: ClassVar[str] = "clz"
    KIND: ClassVar[Kind] = Kind.INTEGER


@irdl_op_definition
class RealOp(UnaryOp):
    """`lax.real_p`: the real part of complex x elementwise (a real result)."""

    name = "lax.real"
    PRIMITIVE: ClassVar[str] = "real"
    KIND: ClassVar[Kind] = Kind.COMPLEX
    RESULT_REAL: ClassVar[bool] = True


@irdl_op_definition
class ImagOp(UnaryOp):
    """`lax.imag_p`: the imaginary part of complex x elementwise (a real result)."""

    name = "lax.imag"
    PRIMITIVE: ClassVar[str] = "imag"
    KIND: ClassVar[Kind] = Kind.COMPLEX
    RESULT_REAL: ClassVar[bool] = True


@irdl_op_definition
class ConjOp(UnaryOp):
    """`lax.conj_p`: the complex conjugate of x elementwise; a real x becomes x + 0i."""

    name = "lax.conj"
    PRIMITIVE: ClassVar[str] = "conj"
    KIND: ClassVar[Kind] = Kind.PARTS_OR_COMPLEX

    @classmethod
    def result_element(cls, t: Attribute) -> Attribute:
        return complex_of(t)


@irdl_op_definition
class AddOp(BinaryOp):
    """`lax.add_p`: x + y elementwise."""

    name = "lax.add"
    PRIMITIVE: ClassVar[str] = "add"
    KIND: ClassVar[Kind] = Kind.NUMERIC
    traits = traits_def(Commutative())


@irdl_op_definition
class AddAnyOp(BinaryOp):
    """`ad_util.add_jaxvals_p` (named `add_any`): x + y elementwise, the sum of cotangents."""

    name = "lax.add_any"
    PRIMITIVE: ClassVar[str] = "add_any"
    KIND: ClassVar[Kind] = Kind.NUMERIC
    traits = traits_def(Commutative())


@irdl_op_definition
class SubOp(BinaryOp):
    """`lax.sub_p`: x - y elementwise."""

    name = "lax.sub"
    PRIMITIVE: ClassVar[str] = "sub"
    KIND: ClassVar[Kind] = Kind.NUMERIC


@irdl_op_definition
class MulOp(BinaryOp):
    """`lax.mul_p`: x * y elementwise."""

    name = "lax.mul"
    PRIMITIVE: ClassVar[str] = "mul"
    KIND: ClassVar[Kind] = Kind.NUMERIC
    traits = traits_def(Commutative())


@irdl_op_definition
class DivOp(BinaryOp):
    """`lax.div_p`: x / y elementwise (truncating on integers)."""

    name = "lax.div"
    PRIMITIVE: ClassVar[str] = "div"
    KIND: ClassVar[Kind] = Kind.NUMERIC


@irdl_op_definition
class RemOp(BinaryOp):
    """`lax.rem_p`: the remainder of x / y, with the sign of x, elementwise."""

    name = "lax.rem"
    PRIMITIVE: ClassVar[str] = "rem"
    KIND: ClassVar[Kind] = Kind.REAL


@irdl_op_definition
class PowOp(BinaryOp):
    """`lax.pow_p`: x ** y elementwise; y has x's type or is an integer."""

    name = "lax.pow"
    PRIMITIVE: ClassVar[str] = "pow"
    KIND: ClassVar[Kind] = Kind.INEXACT
    INT_RHS: ClassVar[bool] = True


@irdl_op_definition
class MaxOp(BinaryOp):
    """`lax.max_p`: max(x, y) elementwise."""

    name = "lax.max"
    PRIMITIVE: ClassVar[str] = "max"
    traits = traits_def(Commutative())


@irdl_op_definition
class MinOp(BinaryOp):
    """`lax.min_p`: min(x, y) elementwise."""

    name = "lax.min"
    PRIMITIVE: ClassVar[str] = "min"
    traits = traits_def(Commutative())


@irdl_op_definition
class Atan2Op(BinaryOp):
    """`lax.atan2_p`: arctan(x / y) in the quadrant of (y, x), elementwise."""

    name = "lax.atan2"
    PRIMITIVE: ClassVar[str] = "atan2"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class NextafterOp(BinaryOp):
    """`lax.nextafter_p`: the next float after x towards y, elementwise."""

    name = "lax.nextafter"
    PRIMITIVE: ClassVar[str] = "nextafter"
    KIND: ClassVar[Kind] = Kind.FLOAT


@irdl_op_definition
class ComplexOp(BinaryOp):
    """`lax.complex_p`: x + yi elementwise, of f32 or f64 parts."""

    name = "lax.complex"
    PRIMITIVE: ClassVar[str] = "complex"
    KIND: ClassVar[Kind] = Kind.PARTS

    def __init__(self, lhs: SSAValue, rhs: SSAValue, result_type: Attribute | None = None):
        super().__init__(lhs, rhs, result_type or TensorType(complex_of(elem(lhs)), shape(lhs)))

    @classmethod
    def result_element(cls, t: Attribute) -> Attribute:
        return complex_of(t)


@irdl_op_definition
class AndOp(BinaryOp):
    """`lax.and_p`: bitwise (logical on bool) and, elementwise."""

    name = "lax.and"
    PRIMITIVE: ClassVar[str] = "and"
    KIND: ClassVar[Kind] = Kind.INT_OR_BOOL
    traits = traits_def(Commutative())


@irdl_op_definition
class OrOp(BinaryOp):
    """`lax.or_p`: bitwise (logical on bool) or, elementwise."""

    name = "lax.or"
    PRIMITIVE: ClassVar[str] = "or"
    KIND: ClassVar[Kind] = Kind.INT_OR_BOOL
    traits = traits_def(Commutative())


@irdl_op_definition
class XorOp(BinaryOp):
    """`lax.xor_p`: bitwise (logical on bool) xor, elementwise."""

    name = "lax.xor"
    PRIMITIVE: ClassVar[str] = "xor"
    KIND: ClassVar[Kind] = Kind.INT_OR_BOOL
    traits = traits_def(Commutative())


@irdl_op_definition
class ShiftLeftOp(BinaryOp):
    """`lax.shift_left_p`: x << y elementwise."""

    name = "lax.shift_left"
    PRIMITIVE: ClassVar[str] = "shift_left"
    KIND: ClassVar[Kind] = Kind.INTEGER


@irdl_op_definition
class ShiftRightLogicalOp(BinaryOp):
    """`lax.shift_right_logical_p`: x >> y elementwise, shifting in zeros."""

    name = "lax.shift_right_logical"
    PRIMITIVE: ClassVar[str] = "shift_right_logical"
    KIND: ClassVar[Kind] = Kind.INTEGER


@irdl_op_definition
class ShiftRightArithmeticOp(BinaryOp):
    """`lax.shift_right_arithmetic_p`: x >> y elementwise, shifting in the sign bit."""

    name = "lax.shift_right_arithmetic"
    PRIMITIVE: ClassVar[str] = "shift_right_arithmetic"
    KIND: ClassVar[Kind] = Kind.INTEGER


@irdl_op_definition
class EqOp(CompareOp):
    """`lax.eq_p`: x == y elementwise (an i1 result)."""

    name = "lax.eq"
    PRIMITIVE: ClassVar[str] = "eq"
    traits = traits_def(Commutative())


@irdl_op_definition
class NeOp(CompareOp):
    """`lax.ne_p`: x != y elementwise (an i1 result)."""

    name = "lax.ne"
    PRIMITIVE: ClassVar[str] = "ne"
    traits = traits_def(Commutative())


@irdl_op_definition
class LtOp(CompareOp):
    """`lax.lt_p`: x < y elementwise (an i1 result)."""

    name = "lax.lt"
    PRIMITIVE: ClassVar[str] = "lt"
    KIND: ClassVar[Kind] = Kind.ORDERED


@irdl_op_definition
class LeOp(CompareOp):
    """`lax.le_p`: x <= y elementwise (an i1 result)."""

    name = "lax.le"
    PRIMITIVE: ClassVar[str] = "le"
    KIND: ClassVar[Kind] = Kind.ORDERED


@irdl_op_definition
class GtOp(CompareOp):
    """`lax.gt_p`: x > y elementwise (an i1 result)."""

    name = "lax.gt"
    PRIMITIVE: ClassVar[str] = "gt"
    KIND: ClassVar[Kind] = Kind.ORDERED


@irdl_op_definition
class GeOp(CompareOp):
    """`lax.ge_p`: x >= y elementwise (an i1 result)."""

    name = "lax.ge"
    PRIMITIVE: ClassVar[str] = "ge"
    KIND: ClassVar[Kind] = Kind.ORDERED


@irdl_op_definition
class IntegerPowOp(UnaryOp):
    """`lax.integer_pow_p`: x ** y elementwise, for a static integer y."""

    name = "lax.integer_pow"
    PRIMITIVE: ClassVar[str] = "integer_pow"
    KIND: ClassVar[Kind] = Kind.NUMERIC
    y = prop_def(IntegerAttr)

    def __init__(self, operand: SSAValue, y: int):
        IRDLOperation.__init__(
            self, operands=[operand], result_types=[operand.type], properties={"y": int_attr(y)}
        )


@irdl_op_definition
class ReducePrecisionOp(UnaryOp):
    """`lax.reduce_precision_p`: x rounded to `exponent_bits` and `mantissa_bits`."""

    name = "lax.reduce_precision"
    PRIMITIVE: ClassVar[str] = "reduce_precision"
    KIND: ClassVar[Kind] = Kind.FLOAT
    exponent_bits = prop_def(IntegerAttr)
    mantissa_bits = prop_def(IntegerAttr)


@irdl_op_definition
class ConvertElementTypeOp(LaxOp):
    """`lax.convert_element_type_p`: elementwise cast to the result's element type."""

    name = "lax.convert_element_type"
    PRIMITIVE: ClassVar[str] = "convert_element_type"
    operand = operand_def(Tensor)
    result = result_def(Tensor)
    traits = traits_def(Pure(), LaxCanonicalization())

    def __init__(self, operand: SSAValue, result_type: Attribute):
        super().__init__(operands=[operand], result_types=[result_type])

    def verify_(self) -> None:
        if shape(self.operand) != shape(self.result):
            fail(self, f"shape changes from {shape(self.operand)} to {shape(self.result)}")


@irdl_op_definition
class BitcastConvertTypeOp(LaxOp):
    """`lax.bitcast_convert_type_p`: the bits reinterpreted as the result type.

    A narrower result type adds a trailing dimension (of the width ratio), a wider one
    consumes it.
    """

    name = "lax.bitcast_convert_type"
    PRIMITIVE: ClassVar[str] = "bitcast_convert_type"
    operand = operand_def(Tensor)
    result = result_def(Tensor)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        a, b = elem(self.operand), elem(self.result)
        if (is_bool(a) or is_bool(b)) and a != b:
            fail(self, f"cannot bitcast between bool and {b if is_bool(a) else a}")
        inp, out = shape(self.operand), shape(self.result)
        want: tuple[int, ...] | None
        wa, wb = a.bitwidth, b.bitwidth  # type: ignore[attr-defined]
        if wa == wb:
            want = inp
        elif wa > wb:
            want = (*inp, wa // wb)
        else:
            want = inp[:-1] if inp and inp[-1] == wb // wa else None
        if want != out:
            fail(self, f"cannot bitcast {self.operand.type} to {self.result.type}")


@irdl_op_definition
class SelectNOp(LaxOp):
    """`lax.select_n_p`: cases[which], elementwise.

    `which` is bool (two cases) or int32, a scalar or of the cases' shape.
    """

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
            fail(self, "needs at least one case")
        for c in self.cases:
            if c.type != self.result.type:
                fail(self, f"case type {c.type} differs from result type {self.result.type}")
        if shape(self.which) not in ((), shape(self.result)):
            fail(self, f"predicate shape {shape(self.which)} must be () or {shape(self.result)}")
        t = elem(self.which)
        if is_bool(t) and len(self.cases) > 2:
            fail(self, "a bool predicate selects between at most two cases")
        if not (is_bool(t) or is_integer(t)):
            fail(self, f"predicate must be bool or integer, got {t}")


@irdl_op_definition
class ClampOp(LaxOp):
    """`lax.clamp_p`: min(max(x, lo), hi); `lo` and `hi` are scalars or have x's shape."""

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
                fail(self, f"bound type {b.type} must be a scalar or {self.x.type}")
        if self.result.type != self.x.type:
            fail(self, f"result type {self.result.type} differs from operand {self.x.type}")


# ---------------------------------------------------------------------------------------
# Constants and index generators.
# ---------------------------------------------------------------------------------------


@irdl_op_definition
class ConstantOp(LaxOp):
    """A dense constant, a jaxpr literal or constvar (JAX has no `constant` primitive).

        %c = lax.constant dense<1.0> : tensor<4xf32>
    """

    name = "lax.constant"
    PRIMITIVE: ClassVar[str] = "constant"
    value = prop_def(DenseIntOrFPElementsAttr)
    result = result_def(Tensor)
    traits = traits_def(Pure(), ConstantLike())

    def __init__(self, value: DenseIntOrFPElementsAttr):
        super().__init__(properties={"value": value}, result_types=[value.type])

    @classmethod
    def of(cls, value: ArrayLike, dtype: DTypeLike | None = None) -> ConstantOp:
        """The constant holding `value` (a numpy array or a Python or numpy scalar), as
        `np.asarray(value, dtype)` reads it: `lax.ConstantOp.of(2.0, np.float32)`."""
        return cls(dense(np.asarray(value, dtype)))

    @property
    def array(self) -> np.ndarray:
        """The value as a numpy array."""
        return constant_array(self.value)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        value = self.value
        element = value.get_element_type()
        if is_inexact(element) and not np.isfinite(
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
            fail(self, f"value type {self.value.type} differs from result type {self.result.type}")


@irdl_op_definition
class IotaOp(LaxOp):
    """`lax.iota_p`: 0, 1, 2, ... along `dimension` of the result shape."""

    name = "lax.iota"
    PRIMITIVE: ClassVar[str] = "iota"
    dimension = prop_def(IntegerAttr)
    result = result_def(Tensor)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        if not 0 <= self.int("dimension") < max(len(shape(self.result)), 1):
            fail(self, f"dimension {self.int('dimension')} out of range for {self.result.type}")


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
            fail(self, f"element type changes from {elem(self.operand)} to {elem(self.result)}")
        self.verify_shape(shape(self.operand), shape(self.result))

    def verify_shape(self, inp: tuple[int, ...], out: tuple[int, ...]) -> None:
        raise NotImplementedError


def _check_dims(op: Operation, dims: Sequence[int], rank: int, what: str) -> None:
    if any(not 0 <= d < rank for d in dims) or len(set(dims)) != len(dims):
        fail(op, f"{what} {list(dims)} must be distinct and in [0, {rank})")


@irdl_op_definition
class BroadcastInDimOp(ShapeOp):
    """`lax.broadcast_in_dim_p`: operand dimension i is result dimension dims[i]; the rest
    is broadcast."""

    name = "lax.broadcast_in_dim"
    PRIMITIVE: ClassVar[str] = "broadcast_in_dim"
    dims = prop_def(DenseArrayBase)

    def __init__(self, operand: SSAValue, result_type: Attribute, dims: Sequence[int]):
        super().__init__(operands=[operand], result_types=[result_type],
                         properties={"dims": ints(dims)})

    def verify_shape(self, inp, out) -> None:
        dims = self.ints("dims")
        if len(dims) != len(inp):
            fail(self, f"dims {list(dims)} must have one entry per operand dimension ({len(inp)})")
        _check_dims(self, dims, len(out), "dims")
        for i, d in enumerate(dims):
            if inp[i] not in (1, out[d]):
                fail(self, f"operand dimension {i} of size {inp[i]} cannot broadcast to {out[d]}")
        if list(dims) != sorted(dims):
            fail(self, f"dims {list(dims)} must be increasing")


@irdl_op_definition
class ReshapeOp(ShapeOp):
    """`lax.reshape_p`: the elements in row-major order, in the result's shape."""

    name = "lax.reshape"
    PRIMITIVE: ClassVar[str] = "reshape"

    def __init__(self, operand: SSAValue, result_type: Attribute):
        super().__init__(operands=[operand], result_types=[result_type])

    def verify_shape(self, inp, out) -> None:
        if _size(inp) != _size(out):
            fail(self, f"cannot reshape {inp} ({_size(inp)} elements) to {out} ({_size(out)})")


def _size(s: Sequence[int]) -> int:
    n = 1
    for d in s:
        n *= d
    return n


@irdl_op_definition
class SqueezeOp(ShapeOp):
    """`lax.squeeze_p`: the operand without its size-1 `dimensions`."""

    name = "lax.squeeze"
    PRIMITIVE: ClassVar[str] = "squeeze"
    dimensions = prop_def(DenseArrayBase)

    def verify_shape(self, inp, out) -> None:
        dims = self.ints("dimensions")
        _check_dims(self, dims, len(inp), "dimensions")
        if any(inp[d] != 1 for d in dims):
            fail(self, f"can only squeeze size-1 dimensions, got {inp} at {list(dims)}")
        if tuple(s for i, s in enumerate(inp) if i not in dims) != out:
            fail(self, f"result shape {out} is not {inp} without dimensions {list(dims)}")


@irdl_op_definition
class TransposeOp(ShapeOp):
    """`lax.transpose_p`: result dimension i is operand dimension permutation[i]."""

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
            fail(self, f"permutation {list(perm)} is not a permutation of {len(inp)} dimensions")
        if tuple(inp[p] for p in perm) != out:
            fail(self, f"result shape {out} is not {inp} permuted by {list(perm)}")


@irdl_op_definition
class RevOp(ShapeOp):
    """`lax.rev_p`: the elements in reverse order along `dimensions`."""

    name = "lax.rev"
    PRIMITIVE: ClassVar[str] = "rev"
    dimensions = prop_def(DenseArrayBase)

    def verify_shape(self, inp, out) -> None:
        _check_dims(self, self.ints("dimensions"), len(inp), "dimensions")
        if inp != out:
            fail(self, f"result shape {out} differs from operand shape {inp}")


@irdl_op_definition
class SliceOp(ShapeOp):
    """`lax.slice_p`: the window [start:limit:stride] of each dimension."""

    name = "lax.slice"
    PRIMITIVE: ClassVar[str] = "slice"
    start_indices = prop_def(DenseArrayBase)
    limit_indices = prop_def(DenseArrayBase)
    strides = prop_def(DenseArrayBase)

    def verify_shape(self, inp, out) -> None:
        start, limit = self.ints("start_indices"), self.ints("limit_indices")
        strides = self.ints("strides")
        if not len(start) == len(limit) == len(strides) == len(inp):
            fail(self, f"start/limit/strides need one entry per dimension ({len(inp)})")
        want = []
        for s, lo, hi, st in zip(inp, start, limit, strides, strict=True):
            if not (0 <= lo <= hi <= s) or st < 1:
                fail(self, f"slice [{lo}:{hi}:{st}] out of bounds for dimension of size {s}")
            want.append(max(0, -(-(hi - lo) // st)))
        if tuple(want) != out:
            fail(self, f"result shape {out} should be {tuple(want)}")


@irdl_op_definition
class PadOp(LaxOp):
    """`lax.pad_p`: pads with a scalar: `low`/`high` edges (may be negative) and `interior` gaps."""

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
            fail(self, "low/high/interior need one entry per dimension")
        if shape(self.padding_value) != () or elem(self.padding_value) != elem(self.operand):
            fail(self, f"padding value must be a scalar of {elem(self.operand)}")
        want = tuple(
            a + b + s + max(0, s - 1) * c for s, a, b, c in zip(inp, lo, hi, mid, strict=True)
        )
        if want != out:
            fail(self, f"result shape {out} should be {want}")


@irdl_op_definition
class ConcatenateOp(LaxOp):
    """`lax.concatenate_p`: the operands joined along `dimension`."""

    name = "lax.concatenate"
    PRIMITIVE: ClassVar[str] = "concatenate"
    inputs = var_operand_def(Tensor)
    result = result_def(Tensor)
    dimension = prop_def(IntegerAttr)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        d, out = self.int("dimension"), shape(self.result)
        if not 0 <= d < len(out):
            fail(self, f"dimension {d} out of range for rank {len(out)}")
        total = 0
        for x in self.inputs:
            s = shape(x)
            if len(s) != len(out) or any(a != b for i, (a, b) in enumerate(zip(s, out)) if i != d):
                fail(self, f"operand shape {s} does not match {out} outside dimension {d}")
            if elem(x) != elem(self.result):
                fail(self, f"operand element type {elem(x)} differs from {elem(self.result)}")
            total += s[d]
        if total != out[d]:
            fail(self, f"operand sizes along dimension {d} add up to {total}, not {out[d]}")


@irdl_op_definition
class SplitOp(LaxOp):
    """`lax.split_p`: the operand cut along `axis` into pieces of `sizes`."""

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
            fail(self, f"sizes {list(sizes)} must match the results and add up to {inp[axis]}")


@irdl_op_definition
class DynamicSliceOp(LaxOp):
    """`lax.dynamic_slice_p`: a `slice_sizes` window at run-time start indices (scalars)."""

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
            fail(self, f"needs {len(inp)} start indices and slice sizes")
        if any(shape(i) != () or not is_integer(elem(i)) for i in self.start_indices):
            fail(self, "start indices must be integer scalars")
        if tuple(sizes) != shape(self.result) or any(s > d for s, d in zip(sizes, inp)):
            fail(self, f"slice sizes {list(sizes)} must fit {inp} and equal the result shape")


@irdl_op_definition
class DynamicUpdateSliceOp(LaxOp):
    """`lax.dynamic_update_slice_p`: `update` written into the operand at run-time start indices."""

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
            fail(self, f"needs {len(inp)} start indices and an update of rank {len(inp)}")
        if any(u > d for u, d in zip(upd, inp)):
            fail(self, f"update shape {upd} does not fit in {inp}")
        if self.result.type != self.operand.type:
            fail(self, "result type must equal the operand type")


@irdl_op_definition
class GatherOp(LaxOp):
    """`lax.gather_p`: windows of the operand at `indices`, by XLA's dimension numbers."""

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
            fail(self, f"slice_sizes needs one entry per operand dimension ({len(inp)})")
        if not is_integer(elem(self.indices)):
            fail(self, f"indices must be integers, got {elem(self.indices)}")
        if elem(self.result) != elem(self.operand):
            fail(self, "result element type must equal the operand's")


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
            fail(self, "result type must equal the operand type")
        if elem(self.updates) != elem(self.operand):
            fail(self, "updates must have the operand's element type")
        if not is_integer(elem(self.indices)):
            fail(self, f"indices must be integers, got {elem(self.indices)}")


@irdl_op_definition
class ScatterOp(ScatterBase):
    """`lax.scatter_p`: operand[indices] = updates."""

    name = "lax.scatter"
    PRIMITIVE: ClassVar[str] = "scatter"


@irdl_op_definition
class ScatterAddOp(ScatterBase):
    """`lax.scatter_add_p`: operand[indices] += updates."""

    name = "lax.scatter_add"
    PRIMITIVE: ClassVar[str] = "scatter-add"


@irdl_op_definition
class ScatterMulOp(ScatterBase):
    """`lax.scatter_mul_p`: operand[indices] *= updates."""

    name = "lax.scatter_mul"
    PRIMITIVE: ClassVar[str] = "scatter-mul"


@irdl_op_definition
class ScatterMinOp(ScatterBase):
    """`lax.scatter_min_p`: operand[indices] = min(operand[indices], updates)."""

    name = "lax.scatter_min"
    PRIMITIVE: ClassVar[str] = "scatter-min"


@irdl_op_definition
class ScatterMaxOp(ScatterBase):
    """`lax.scatter_max_p`: operand[indices] = max(operand[indices], updates)."""

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
    KIND: ClassVar[Kind] = Kind.ANY

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
            fail(self, f"result shape {shape(self.result)} should be {want}")
        _check_kind(self, elem(self.operand), self.KIND)
        if self.INDEX_RESULT:
            if not is_integer(elem(self.result)):
                fail(self, f"index result must be an integer type, got {elem(self.result)}")
        elif elem(self.result) != elem(self.operand):
            fail(self, f"result element type {elem(self.result)} differs from the operand's")


@irdl_op_definition
class ReduceSumOp(ReduceOp):
    """`lax.reduce_sum_p`: the sum over `axes`."""

    name = "lax.reduce_sum"
    PRIMITIVE: ClassVar[str] = "reduce_sum"
    KIND: ClassVar[Kind] = Kind.NUMERIC


@irdl_op_definition
class ReduceProdOp(ReduceOp):
    """`lax.reduce_prod_p`: the product over `axes`."""

    name = "lax.reduce_prod"
    PRIMITIVE: ClassVar[str] = "reduce_prod"
    KIND: ClassVar[Kind] = Kind.NUMERIC


@irdl_op_definition
class ReduceMaxOp(ReduceOp):
    """`lax.reduce_max_p`: the maximum over `axes`."""

    name = "lax.reduce_max"
    PRIMITIVE: ClassVar[str] = "reduce_max"


@irdl_op_definition
class ReduceMinOp(ReduceOp):
    """`lax.reduce_min_p`: the minimum over `axes`."""

    name = "lax.reduce_min"
    PRIMITIVE: ClassVar[str] = "reduce_min"


@irdl_op_definition
class ReduceAndOp(ReduceOp):
    """`lax.reduce_and_p`: bitwise (logical on bool) and over `axes`."""

    name = "lax.reduce_and"
    PRIMITIVE: ClassVar[str] = "reduce_and"
    KIND: ClassVar[Kind] = Kind.INT_OR_BOOL


@irdl_op_definition
class ReduceOrOp(ReduceOp):
    """`lax.reduce_or_p`: bitwise (logical on bool) or over `axes`."""

    name = "lax.reduce_or"
    PRIMITIVE: ClassVar[str] = "reduce_or"
    KIND: ClassVar[Kind] = Kind.INT_OR_BOOL


@irdl_op_definition
class ReduceXorOp(ReduceOp):
    """`lax.reduce_xor_p`: bitwise (logical on bool) xor over `axes`."""

    name = "lax.reduce_xor"
    PRIMITIVE: ClassVar[str] = "reduce_xor"
    KIND: ClassVar[Kind] = Kind.INT_OR_BOOL


class ArgReduceOp(ReduceOp):
    """The index of an extreme value over `axes`, of an integer type."""

    INDEX_RESULT: ClassVar[bool] = True
    KIND: ClassVar[Kind] = Kind.ORDERED


@irdl_op_definition
class ArgmaxOp(ArgReduceOp):
    """`lax.argmax_p`: the index of the maximum over `axes` (the first on ties)."""

    name = "lax.argmax"
    PRIMITIVE: ClassVar[str] = "argmax"


@irdl_op_definition
class ArgminOp(ArgReduceOp):
    """`lax.argmin_p`: the index of the minimum over `axes` (the first on ties)."""

    name = "lax.argmin"
    PRIMITIVE: ClassVar[str] = "argmin"


class CumulativeOp(LaxOp):
    """Running reduction along `axis`, from the end when `reverse` is true."""

    operand = operand_def(Tensor)
    result = result_def(Tensor)
    axis = prop_def(IntegerAttr)
    reverse = prop_def(IntegerAttr)
    traits = traits_def(Pure(), LaxCanonicalization())
    KIND: ClassVar[Kind] = Kind.NUMERIC

    def verify_(self) -> None:
        if self.result.type != self.operand.type:
            fail(self, "result type must equal the operand type")
        if not 0 <= self.int("axis") < max(len(shape(self.operand)), 1):
            fail(self, f"axis {self.int('axis')} out of range")
        _check_kind(self, elem(self.operand), self.KIND)


@irdl_op_definition
class CumsumOp(CumulativeOp):
    """`lax.cumsum_p`: the running sum along `axis`."""

    name = "lax.cumsum"
    PRIMITIVE: ClassVar[str] = "cumsum"


@irdl_op_definition
class CumprodOp(CumulativeOp):
    """`lax.cumprod_p`: the running product along `axis`."""

    name = "lax.cumprod"
    PRIMITIVE: ClassVar[str] = "cumprod"


@irdl_op_definition
class CummaxOp(CumulativeOp):
    """`lax.cummax_p`: the running maximum along `axis`."""

    name = "lax.cummax"
    PRIMITIVE: ClassVar[str] = "cummax"


@irdl_op_definition
class CumminOp(CumulativeOp):
    """`lax.cummin_p`: the running minimum along `axis`."""

    name = "lax.cummin"
    PRIMITIVE: ClassVar[str] = "cummin"


@irdl_op_definition
class CumlogsumexpOp(CumulativeOp):
    """`lax.cumlogsumexp_p`: the running ln(sum(e^x)) along `axis`."""

    name = "lax.cumlogsumexp"
    PRIMITIVE: ClassVar[str] = "cumlogsumexp"
    KIND: ClassVar[Kind] = Kind.INEXACT


@irdl_op_definition
class SortOp(LaxOp):
    """`lax.sort_p`: sorts all operands along `dimension` by the first `num_keys` of them."""

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
            fail(self, "result types must equal the operand types")
        if len({shape(x) for x in self.inputs}) > 1:
            fail(self, "all operands must have one shape")
        if not 1 <= self.int("num_keys") <= len(self.inputs):
            fail(self, f"num_keys must be in [1, {len(self.inputs)}]")


@irdl_op_definition
class TopKOp(LaxOp):
    """`lax.top_k_p`: the `k` largest entries along the last dimension and their i32 indices."""

    name = "lax.top_k"
    PRIMITIVE: ClassVar[str] = "top_k"
    operand = operand_def(Tensor)
    values = result_def(Tensor)
    indices = result_def(Tensor)
    k = prop_def(IntegerAttr)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        inp, k = shape(self.operand), self.int("k")
        _check_kind(self, elem(self.operand), Kind.ORDERED)  # JAX: "not compatible with complex"
        if not inp or not 0 <= k <= inp[-1]:
            fail(self, f"k = {k} must be in [0, {inp[-1] if inp else 0}] for {self.operand.type}")
        want = (*inp[:-1], k)
        if shape(self.values) != want or elem(self.values) != elem(self.operand):
            fail(self, f"values must be {want} of {elem(self.operand)}, got {self.values.type}")
        if shape(self.indices) != want or elem(self.indices) != IntegerType(32):
            fail(self, f"indices must be {want} of i32, got {self.indices.type}")


@irdl_op_definition
class DotGeneralOp(LaxOp):
    """`lax.dot_general_p`: contracts the lhs/rhs contracting dimensions.

    The result dimensions are the batch dimensions, then lhs free, then rhs free.
    """

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
            fail(self, "lhs and rhs need as many contracting and batch dimensions")
        _check_dims(self, (*lc, *lb), len(ls), "lhs dimensions")
        _check_dims(self, (*rc, *rb), len(rs), "rhs dimensions")
        for a, b in (*zip(lc, rc), *zip(lb, rb)):
            if ls[a] != rs[b]:
                fail(self, f"lhs dimension {a} (size {ls[a]}) does not match rhs "
                     f"dimension {b} (size {rs[b]})")
        want = (
            *(ls[i] for i in lb),
            *(d for i, d in enumerate(ls) if i not in lc and i not in lb),
            *(d for i, d in enumerate(rs) if i not in rc and i not in rb),
        )
        if shape(self.result) != want:
            fail(self, f"result shape {shape(self.result)} should be {want}")


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
    def parse(cls, parser: Parser) -> Self:
        prim = parser.parse_str_literal()
        return syntax.parse_op(cls, parser, {"prim": StringAttr(prim)})


@irdl_op_definition
class ShardingConstraintOp(LaxOp):
    """`lax.sharding_constraint_p`: the value, laid out over `mesh` as `spec` says.

    `jax.lax.with_sharding_constraint` makes it. Mesh and spec are attributes of
    `tiers.dialects.sharding`, the spec written first (the shared syntax reads a bare `[` as
    an i64 array):
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
    def parse(cls, parser: Parser) -> Self:
        parser.parse_keyword("spec")
        return syntax.parse_op(cls, parser, {"spec": parser.parse_attribute()})

    def verify_(self) -> None:
        if self.operand.type != self.result.type:
            fail(self, f"result type {self.result.type} differs from {self.operand.type}")
        try:
            check(self.mesh, self.spec, len(shape(self.operand)))
        except ShardingError as e:
            fail(self, str(e))


def all_ops() -> list[type[LaxOp]]:
    """Every op class of the dialect (for rule tables and their coverage test)."""
    return [v for v in globals().values()
            # `LaxOp in __mro__`, not issubclass: IRDL op classes are ABCs, and each
            # negative ABC check walks all subclasses of LaxOp, caching weak references.
            if isinstance(v, type) and LaxOp in v.__mro__ and "name" in v.__dict__]


_Kind = TypeVar("_Kind", bound=LaxOp)


def ops_of_kind(kind: type[_Kind]) -> list[type[_Kind]]:
    """The op classes of a family (`ReduceOp`, `ElementwiseOp`, ...), for rule tables. Read
    from `__mro__` for the reason `all_ops` gives."""
    return [cast(type[_Kind], c) for c in all_ops() if kind in c.__mro__]


verify_once_per_signature(all_ops())
Lax = Dialect("lax", [*all_ops(), YieldOp], [CallbackAttr, KeyType])
