"""StableHLO emission rules of `lax` ops (see `hlo.py`): op class -> text, written as JAX's
own lowering writes each primitive (`mlir.register_lowering` in `jax/_src/lax/lax.py`), so a
program emitted here and one traced through `jax.lax` compile to the same XLA computation.
`HLO_LAX_RULES` joins the emission table in `rules.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from jax import lax as jlax
from xdsl.dialects.builtin import TensorType
from xdsl.ir import Operation, SSAValue

from tiers.dialects import dtypes, lax
from tiers.targets.jax.hlo import (
    EmitRule,
    HloEmitter,
    broadcast_in_dim,
    compare,
    constant_of,
    dot_general,
    full,
    i64s,
    minmax,
    unit_slice,
)

HLO_LAX_RULES: dict[type, EmitRule] = {}


def _rule(*classes: type) -> Any:
    def register(fn: EmitRule) -> EmitRule:
        for cls in classes:
            HLO_LAX_RULES[cls] = fn
        return fn
    return register


def _type(v: SSAValue) -> TensorType:
    """The tensor type of `v` (every `lax` value is a tensor)."""
    t = v.type
    assert isinstance(t, TensorType)
    return t


def _out(op: Operation) -> TensorType:
    return _type(op.results[0])


def convert(em: HloEmitter, x: str, source: TensorType, target: TensorType) -> str:
    """`x` of tensor type `source` converted to tensor type `target` (`mlir.convert_hlo`):
    to bool is `x != 0`, as NumPy casts, not HLO's truncation of integers; complex to real
    keeps the real part (`_convert_element_type_lower`)."""
    if dtypes.is_complex(source.element_type) and not dtypes.is_complex(target.element_type):
        source = TensorType(dtypes.real_part(source.element_type), source.get_shape())
        x = em.one("stablehlo.real", [x], source)
        if source == target:
            return x
    if dtypes.is_bool(target.element_type) and not dtypes.is_bool(source.element_type):
        x = compare(em, "NE", x, full(em, 0, source), source.element_type, source.get_shape())
    return em.one("stablehlo.convert", [x], target)


# -- elementwise ops -------------------------------------------------------------------


def _same(name: str) -> EmitRule:
    """An elementwise op that is one StableHLO (or CHLO) op of the same operands."""
    return lambda em, op, *xs: em.one(name, xs, op.results[0].type)


UNARY: dict[type, str] = {
    lax.NegOp: "stablehlo.negate", lax.AbsOp: "stablehlo.abs", lax.FloorOp: "stablehlo.floor",
    lax.CeilOp: "stablehlo.ceil", lax.ExpOp: "stablehlo.exponential", lax.LogOp: "stablehlo.log",
    lax.Log1pOp: "stablehlo.log_plus_one", lax.Expm1Op: "stablehlo.exponential_minus_one",
    lax.TanhOp: "stablehlo.tanh", lax.SinOp: "stablehlo.sine", lax.CosOp: "stablehlo.cosine",
    lax.TanOp: "stablehlo.tan", lax.AsinOp: "chlo.asin", lax.AcosOp: "chlo.acos",
    lax.AtanOp: "chlo.atan", lax.SinhOp: "chlo.sinh", lax.CoshOp: "chlo.cosh",
    lax.AsinhOp: "chlo.asinh", lax.AcoshOp: "chlo.acosh", lax.AtanhOp: "chlo.atanh",
    lax.SqrtOp: "stablehlo.sqrt", lax.RsqrtOp: "stablehlo.rsqrt", lax.CbrtOp: "stablehlo.cbrt",
    lax.ErfOp: "chlo.erf", lax.ErfcOp: "chlo.erfc", lax.ErfInvOp: "chlo.erf_inv",
    lax.LgammaOp: "chlo.lgamma", lax.DigammaOp: "chlo.digamma",
    lax.NotOp: "stablehlo.not", lax.IsFiniteOp: "stablehlo.is_finite",
    lax.PopulationCountOp: "stablehlo.popcnt", lax.ClzOp: "stablehlo.count_leading_zeros",
}
# max/min of bools are StableHLO's maximum/minimum on i1 (JAX's `mlir.max_hlo`); add_any is
# `stablehlo.add` (`add_jaxvals_lowering`).
BINARY: dict[type, str] = {
    lax.AddOp: "stablehlo.add", lax.AddAnyOp: "stablehlo.add", lax.SubOp: "stablehlo.subtract",
    lax.MulOp: "stablehlo.multiply", lax.DivOp: "stablehlo.divide",
    lax.RemOp: "stablehlo.remainder", lax.Atan2Op: "stablehlo.atan2",
    lax.NextafterOp: "chlo.next_after", lax.AndOp: "stablehlo.and", lax.OrOp: "stablehlo.or",
    lax.XorOp: "stablehlo.xor", lax.ShiftLeftOp: "stablehlo.shift_left",
    lax.ShiftRightLogicalOp: "stablehlo.shift_right_logical",
    lax.ShiftRightArithmeticOp: "stablehlo.shift_right_arithmetic",
}
for _cls, _name in {**UNARY, **BINARY}.items():
    HLO_LAX_RULES[_cls] = _same(_name)


@_rule(lax.SinOp, lax.CosOp)
def _sin_cos(em: HloEmitter, op: Any, x: str) -> str:
    # On complex numbers JAX lowers its own formula (`_sin_complex`, `_cos_complex`, through
    # `mlir.lower_fun`), which JAX writes here (`fallback`).
    if dtypes.is_complex(lax.elem(op.operands[0])):
        return em.fallback(op, [x])[0]
    return em.one(UNARY[type(op)], [x], _out(op))


@_rule(lax.MaxOp, lax.MinOp)
def _minmax(em: HloEmitter, op: Any, x: str, y: str) -> str:
    # `mlir.max_hlo`/`min_hlo`: complex numbers in the order of their (real, imag) pairs.
    return minmax(em, "max" if isinstance(op, lax.MaxOp) else "min", x, y,
                  lax.elem(op.operands[0]))


@_rule(lax.StopGradientOp, lax.CopyOp)
def _identity(em: HloEmitter, op: Any, x: str) -> str:
    return x  # values are immutable: a copy or a gradient stop is the value itself


@_rule(lax.SignOp)
def _sign(em: HloEmitter, op: Any, x: str) -> str:
    # `stablehlo.sign` rejects unsigned integers; JAX writes `x == 0 ? 0 : 1`.
    t = _out(op)
    if dtypes.to_numpy(t.element_type).kind != "u":
        return em.one("stablehlo.sign", [x], t)
    zero = compare(em, "EQ", x, full(em, 0, t), t.element_type, t.get_shape())
    return em.one("stablehlo.select", [zero, full(em, 0, t), full(em, 1, t)], t)


@_rule(lax.SquareOp)
def _square(em: HloEmitter, op: Any, x: str) -> str:
    # `chlo.square` is for floats and complex numbers; JAX squares integers (unsigned too)
    # with a multiply.
    if dtypes.is_inexact(lax.elem(op.operands[0])):
        return em.one("chlo.square", [x], _out(op))
    return em.one("stablehlo.multiply", [x, x], _out(op))


@_rule(lax.PowOp)
def _pow(em: HloEmitter, op: Any, x: str, y: str) -> str:
    # An integer exponent is converted to the base's type: `stablehlo.power` takes one type.
    t = _out(op)
    if lax.elem(op.operands[1]) != t.element_type:
        y = em.one("stablehlo.convert", [y], t)
    return em.one("stablehlo.power", [x, y], t)


@_rule(lax.Exp2Op)
def _exp2(em: HloEmitter, op: Any, x: str) -> str:
    # exp(log(2) * x), log(2) rounded to x's type, as JAX lowers exp2 (StableHLO has none).
    t = _out(op)
    log2 = full(em, np.log(2), t)
    return em.one("stablehlo.exponential", [em.one("stablehlo.multiply", [log2, x], t)], t)


@_rule(lax.LogisticOp)
def _logistic(em: HloEmitter, op: Any, x: str) -> str:
    # 1 / (1 + exp(-x)): JAX lowers its own formula, not `stablehlo.logistic` (numerics).
    t = _out(op)
    e = em.one("stablehlo.exponential", [em.one("stablehlo.negate", [x], t)], t)
    denominator = em.one("stablehlo.add", [full(em, 1, t), e], t)
    return em.one("stablehlo.divide", [full(em, 1, t), denominator], t)


@_rule(lax.IntegerPowOp)
def _integer_pow(em: HloEmitter, op: Any, x: str) -> str:
    # JAX's `_integer_pow_lowering`: y in (1, 2, 3, -1) directly, else repeated squaring of
    # `_integer_pow` (the same multiplies in the same order), 1 / x**|y| for negative y.
    y, t = op.int("y"), _out(op)
    mul = lambda a, b: em.one("stablehlo.multiply", [a, b], t)  # noqa: E731
    if y in (1, 2, 3):
        return x if y == 1 else mul(x, x) if y == 2 else mul(mul(x, x), x)
    if y == 0:
        return full(em, 1, t)
    acc, n = None, abs(y)
    while n > 0:
        if n & 1:
            acc = x if acc is None else mul(acc, x)
        n >>= 1
        if n > 0:
            x = mul(x, x)
    assert acc is not None  # |y| >= 1 has a set bit
    return em.one("stablehlo.divide", [full(em, 1, t), acc], t) if y < 0 else acc


@_rule(lax.ReducePrecisionOp)
def _reduce_precision(em: HloEmitter, op: Any, x: str) -> str:
    return em.one("stablehlo.reduce_precision", [x], _out(op),
                  f"exponent_bits = {op.int('exponent_bits')} : i32, "
                  f"mantissa_bits = {op.int('mantissa_bits')} : i32")


COMPARE: dict[type, str] = {lax.EqOp: "EQ", lax.NeOp: "NE", lax.LtOp: "LT", lax.LeOp: "LE",
                            lax.GtOp: "GT", lax.GeOp: "GE"}
for _cls, _dir in COMPARE.items():
    HLO_LAX_RULES[_cls] = (lambda em, op, x, y, _dir=_dir: compare(
        em, _dir, x, y, lax.elem(op.operands[0]), lax.shape(op.results[0])))


@_rule(lax.ConvertElementTypeOp)
def _convert(em: HloEmitter, op: Any, x: str) -> str:
    # Same type: `jax.lax.convert_element_type` binds nothing, the value is itself.
    source, target = _type(op.operands[0]), _out(op)
    if target.element_type == _E8M0 and isinstance(op.operands[0].owner, lax.ConstantOp):
        # StableHLO's folder converts a constant to f8E8M0FNU, which has neither zero nor
        # sign, otherwise than XLA does at run time (0 -> 2**-127, -2 -> 2, not NaN). JAX
        # converts its constants when tracing, as ml_dtypes and XLA at run time do; so does
        # this (where tiers inlined a `jit` whose argument was a constant, say).
        value = constant_of(op.operands[0].owner)
        return em.constant(np.real(value).astype(dtypes.to_numpy(_E8M0)))
    return x if source == target else convert(em, x, source, target)


_E8M0 = dtypes.element_type("float8_e8m0fnu")


@_rule(lax.BitcastConvertTypeOp)
def _bitcast(em: HloEmitter, op: Any, x: str) -> str:
    # The result type says any width change (a trailing dimension added or consumed).
    return em.one("stablehlo.bitcast_convert", [x], _out(op))


@_rule(lax.SelectNOp)
def _select_n(em: HloEmitter, op: Any, which: str, *cases: str) -> str:
    # JAX's `_select_hlo_lowering`: a bool picks with one select (true -> cases[1]); an
    # integer by binary search, `which < offset + mid` at each level.
    t, wt = _out(op), _type(op.operands[0])
    if len(cases) == 1:
        return cases[0]
    if dtypes.is_bool(wt.element_type):
        return em.one("stablehlo.select", [which, cases[1], cases[0]], t)

    def pick(offset: int, cs: Sequence[str]) -> str:
        if len(cs) == 1:
            return cs[0]
        mid = len(cs) // 2
        pred = compare(em, "LT", which, full(em, offset + mid, wt), wt.element_type,
                       wt.get_shape())
        return em.one("stablehlo.select", [pred, pick(offset, cs[:mid]),
                                           pick(offset + mid, cs[mid:])], t)

    return pick(0, cases)


@_rule(lax.ClampOp)
def _clamp(em: HloEmitter, op: Any, lo: str, x: str, hi: str) -> str:
    # JAX broadcasts scalar bounds to x's shape (`multi_broadcast_in_dim`), lo first.
    t = _out(op)
    lo, hi = (b if em.types[b] == em.types[x] else broadcast_in_dim(em, b, t, ())
              for b in (lo, hi))
    return em.one("stablehlo.clamp", [lo, x, hi], t)


@_rule(lax.ConstantOp)
def _constant(em: HloEmitter, op: lax.ConstantOp) -> str:
    return em.constant(constant_of(op))


@_rule(lax.IotaOp)
def _iota(em: HloEmitter, op: Any) -> str:
    return em.one("stablehlo.iota", [], _out(op), f"iota_dimension = {op.int('dimension')} : i64")


# -- shape ops -------------------------------------------------------------------------


def _attr_op(name: str, **attrs: str) -> EmitRule:
    """A one-operand op whose attributes are the op's integer-array properties."""
    return lambda em, op, x: em.one(name, [x], _out(op), ", ".join(
        f"{k} = {i64s(op.ints(prop))}" for k, prop in attrs.items()))


HLO_LAX_RULES.update({
    lax.BroadcastInDimOp: _attr_op("stablehlo.broadcast_in_dim", broadcast_dimensions="dims"),
    lax.ReshapeOp: _attr_op("stablehlo.reshape"),
    lax.SqueezeOp: _attr_op("stablehlo.reshape"),  # JAX lowers squeeze as a reshape
    lax.TransposeOp: _attr_op("stablehlo.transpose", permutation="permutation"),
    lax.RevOp: _attr_op("stablehlo.reverse", dimensions="dimensions"),
    lax.SliceOp: _attr_op("stablehlo.slice", start_indices="start_indices",
                          limit_indices="limit_indices", strides="strides"),
})


@_rule(lax.PadOp)
def _pad(em: HloEmitter, op: Any, x: str, value: str) -> str:
    return em.one("stablehlo.pad", [x, value], _out(op), ", ".join(
        f"{k} = {i64s(op.ints(p))}" for k, p in (("edge_padding_low", "low"), (
            "edge_padding_high", "high"), ("interior_padding", "interior"))))


@_rule(lax.ConcatenateOp)
def _concatenate(em: HloEmitter, op: Any, *xs: str) -> str:
    # A tree of concatenations of at most 16 operands each (one-operand ones included), as
    # JAX writes it: wide ones are slow to compile. Parts are (name, size along `d`).
    d, out = op.int("dimension"), _out(op)
    parts = [(x, lax.shape(v)[d]) for x, v in zip(xs, op.operands, strict=True)]
    while len(parts) > 1:
        groups = [parts[i:i + 16] for i in range(0, len(parts), 16)]
        parts = [(em.one("stablehlo.concatenate", [x for x, _ in g],
                         _resized(out, d, sum(n for _, n in g)), f"dimension = {d} : i64"),
                  sum(n for _, n in g)) for g in groups]
    return parts[0][0]


def _resized(t: Any, d: int, size: int) -> TensorType:
    """Tensor type `t` with dimension `d` of `size`."""
    shape = list(t.get_shape())
    shape[d] = size
    return TensorType(t.element_type, shape)


@_rule(lax.SplitOp)
def _split(em: HloEmitter, op: Any, x: str) -> list[str]:
    # One slice per piece, as JAX's `_split_lower`.
    axis, shape = op.int("axis"), list(lax.shape(op.operands[0]))
    start, outs = 0, []
    for r in op.results:
        size = lax.shape(r)[axis]
        lo = [start if i == axis else 0 for i in range(len(shape))]
        hi = [start + size if i == axis else s for i, s in enumerate(shape)]
        outs.append(unit_slice(em, x, r.type, lo, hi))
        start += size
    return outs


# The float8 formats JAX multiplies without converting when the operands' formats differ
# (all but float8_e4m3b11fnuz).
_MIXED_FP8 = frozenset(dtypes.element_type(d) for d in dtypes.FLOAT8_DTYPES
                       if d.name != "float8_e4m3b11fnuz")


@_rule(lax.DotGeneralOp)
def _dot_general(em: HloEmitter, op: Any, a: str, b: str) -> str:
    # JAX's `_dot_general_lower` on CPU and GPU: operands of two types are first converted
    # to the result type, which is the preferred element type, unless both are float8 (a
    # mixed float8 matmul, `_is_fp8_mixed_precision_matmul`); the one precision (tiers keeps
    # the stronger of a pair) applies to both operands.
    t = _out(op)
    ta, tb = _type(op.operands[0]), _type(op.operands[1])
    if ta.element_type != tb.element_type and not (
            ta.element_type in _MIXED_FP8 and tb.element_type in _MIXED_FP8):
        a = convert(em, a, ta, TensorType(t.element_type, ta.get_shape()))
        b = convert(em, b, tb, TensorType(t.element_type, tb.get_shape()))
    p = "DEFAULT" if op.precision is None else jlax.Precision(
        op.precision.data.split(".")[-1]).name  # an alias ("float32") names a member
    return dot_general(em, a, b, t, (op.ints("lhs_batch"), op.ints("rhs_batch")),
                       (op.ints("lhs_contracting"), op.ints("rhs_contracting")), (p, p))
