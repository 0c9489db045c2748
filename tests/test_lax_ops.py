"""Every `lax` op three ways: the JAX target, the reference target and `jax.lax` itself
(and the JAX target's two emissions against each other, bit for bit).

`ROWS` is one table, a row per program; `test_rows_cover_every_op` fails as soon as an op of
`tiers.dialects.lax` has no row. A row's program is written with `jax.lax`/`jax.numpy`, traced
with `jax.make_jaxpr` and imported (the module must contain the op under test); ops that no
jaxpr yields are built with xDSL, and the row's program is then their JAX equivalent. Each row
runs on a few shapes and dtypes with inputs from a fixed seed; floats are compared with
dtype-aware tolerances (times the row's `tol`), everything else exactly. All cases of a row
run as one program, so each target compiles once per row.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest
from jax import lax as jlax
from jax.experimental import io_callback
from xdsl.dialects import func
from xdsl.dialects.builtin import FunctionType, ModuleOp, StringAttr
from xdsl.ir import Block, Region

import tiers.targets.jax as jax_target
from tiers.dialects import dtypes, lax, params
from tiers.dialects.syntax import group
from tiers.frontend.importer import import_jaxpr
from tiers.targets import reference

F32, F16, BF16 = np.dtype(np.float32), np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)
I32, U32, I8, U8 = np.dtype(np.int32), np.dtype(np.uint32), np.dtype(np.int8), np.dtype(np.uint8)
I16, U16, BOOL = np.dtype(np.int16), np.dtype(np.uint16), np.dtype(np.bool_)
C64 = np.dtype(np.complex64)
FLOATS = (F32, F16, BF16)
NUMS = (*FLOATS, I32)
ALL = (*NUMS, BOOL)
# (rtol, atol) per float dtype: a few ulps in f32, about one ulp in f16/bf16.
TOLERANCE = {F32: (1e-5, 1e-6), F16: (1e-2, 1e-3), BF16: (1e-2, 1e-2), C64: (1e-5, 1e-6)}
SHAPES = ((7,), (2, 3, 4))

# A row's inputs for one case: (rng, shape, dtype) -> arguments.
Gen = Callable[[np.random.Generator, tuple[int, ...], np.dtype], Sequence[np.ndarray]]
# One argument of fixed shape for `fixed`: (rng, the case's dtype) -> array.
Maker = Callable[[np.random.Generator, np.dtype], np.ndarray]
Builder = Callable[[Sequence[Sequence[np.ndarray]]], ModuleOp]


def is_float(dtype: np.dtype) -> bool:
    return dtype in (F32, F16, BF16)


def values(rng: np.random.Generator, shape: Sequence[int], dtype: np.dtype, lo: float = -3.0,
           hi: float = 3.0, ilo: int = -50, ihi: int = 50) -> np.ndarray:
    """Uniform floats in [lo, hi), integers in [ilo, ihi] (clipped to the dtype), or bools;
    complex numbers with both parts uniform in [lo, hi)."""
    if dtype == BOOL:
        return rng.random(shape) < 0.5
    if dtype == C64:
        return (rng.uniform(lo, hi, shape) + 1j * rng.uniform(lo, hi, shape)).astype(dtype)
    if is_float(dtype):
        return rng.uniform(lo, hi, shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(ilo, info.min), min(ihi, info.max) + 1, shape).astype(dtype)


def with_specials(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """`x` with NaN, +-inf and signed zeros at random places (floats only)."""
    if not is_float(x.dtype) or x.size == 0:
        return x
    flat = x.reshape(-1).copy()
    specials = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0])[: max(1, flat.size // 3)]
    flat[rng.choice(flat.size, len(specials), replace=False)] = specials.astype(x.dtype)
    return flat.reshape(x.shape)


def uniform(lo: float = -3.0, hi: float = 3.0, n: int = 1, ilo: int = -50, ihi: int = 50,
            special: bool = False) -> Gen:
    """`n` arrays of the case's shape and dtype (see `values`), optionally with specials."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype):
        out = [values(rng, shape, dtype, lo, hi, ilo, ihi) for _ in range(n)]
        return [with_specials(rng, x) for x in out] if special else out

    return make


def full_range(n: int = 1) -> Gen:
    """Integers over the dtype's whole range."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype):
        info = np.iinfo(dtype)
        return [rng.integers(info.min, int(info.max) + 1, shape).astype(dtype) for _ in range(n)]

    return make


def with_ties(special: bool = False) -> Gen:
    """Two arrays that agree at about half of the places (for comparisons)."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype):
        x = values(rng, shape, dtype, ilo=-5, ihi=5)
        y = np.where(rng.random(shape) < 0.5, x, values(rng, shape, dtype, ilo=-5, ihi=5))
        return [with_specials(rng, x), with_specials(rng, y)] if special else [x, y]

    return make


def wide_floats(rng: np.random.Generator, shape: tuple[int, ...],
                dtype: np.dtype) -> list[np.ndarray]:
    """Floats from 1e-8 to 1e10 in magnitude, with specials: for conversions and rounding."""
    magnitude = 10.0 ** rng.uniform(-8, 10, shape)
    small = rng.uniform(-300, 300, shape)
    x = np.where(rng.random(shape) < 0.5, small, magnitude * rng.choice([-1, 1], shape))
    with np.errstate(over="ignore"):  # past the type's range is meant: it becomes inf
        return [with_specials(rng, x.astype(dtype))]


def few(rng: np.random.Generator, shape: Sequence[int], dtype: np.dtype) -> np.ndarray:
    """Values from a handful of whole numbers, so that keys tie."""
    x = values(rng, shape, dtype, -2, 2, -2, 2)
    return np.round(x.astype(np.float32)).astype(dtype) if is_float(dtype) else x


def fixed(*arrays: Maker) -> Gen:
    """Arrays of fixed shapes (the case's shape is ignored): one maker per argument."""
    return lambda rng, shape, dtype: [make(rng, dtype) for make in arrays]


def arr(shape: Sequence[int], lo: float = -3.0, hi: float = 3.0, ilo: int = -50,
        ihi: int = 50) -> Maker:
    """A maker for `fixed`: values of `shape` in the case's dtype (see `values`)."""
    return lambda rng, dtype: values(rng, shape, dtype, lo, hi, ilo, ihi)


def const(value: Any) -> Maker:
    """A maker for `fixed`: a constant in the case's dtype."""
    return lambda rng, dtype: np.asarray(value).astype(dtype)


def index(shape: Sequence[int], lo: int, hi: int) -> Maker:
    """A maker for `fixed`: int32 indices in [lo, hi]."""
    return lambda rng, dtype: rng.integers(lo, hi + 1, shape).astype(np.int32)


def unique_index(shape: Sequence[int], hi: int) -> Maker:
    """A maker for `fixed`: distinct int32 indices in [0, hi]."""
    return lambda rng, dtype: rng.permutation(hi + 1)[: int(np.prod(shape))].reshape(
        shape).astype(np.int32)


@dataclass(frozen=True)
class Row:
    op: type[lax.LaxOp]
    fn: Callable[..., Any]  # the program, with jax.lax / jax.numpy
    args: Gen
    dtypes: tuple[np.dtype, ...] = FLOATS
    shapes: tuple[tuple[int, ...], ...] = SHAPES
    tol: float = 1.0  # multiplies TOLERANCE
    build: Builder | None = None  # for ops that no jaxpr yields: the module, from all cases
    note: str = ""

    def cases(self) -> list[tuple[np.dtype, tuple[int, ...]]]:
        """Every dtype and every shape, paired up cyclically (not their product: each case
        costs XLA compile time)."""
        n = max(len(self.dtypes), len(self.shapes))
        return [(np.dtype(self.dtypes[i % len(self.dtypes)]), self.shapes[i % len(self.shapes)])
                for i in range(n)]

    @property
    def id(self) -> str:
        return self.op.name.removeprefix("lax.") + (f"[{self.note}]" if self.note else "")


def one_op(cls: type[lax.LaxOp], props: dict[str, Any] | None = None) -> Builder:
    """A builder of `@main`: one `cls` op per case, on that case's arguments, each result
    typed like the case's first argument."""

    def build(cases: Sequence[Sequence[np.ndarray]]) -> ModuleOp:
        types = [dtypes.tensor_type(a.shape, a.dtype) for args in cases for a in args]
        block = Block(arg_types=types)
        defn, block_args, outs = cls.get_irdl_definition(), iter(block.args), []
        for args in cases:
            operands = [next(block_args) for _ in args]
            op = cls.build(operands=group(defn.operands, operands),
                           result_types=group(defn.results, [operands[0].type]),
                           properties=props or {})
            block.add_op(op)
            outs += op.results
        block.add_op(func.ReturnOp(*outs))
        out_types = [v.type for v in outs]
        return ModuleOp([func.FuncOp("main", FunctionType.from_lists(types, out_types),
                                     Region(block))])

    return build


def last(x: Any) -> int:
    return x.ndim - 1


def alternate_axes(x: Any) -> tuple[int, ...]:
    return tuple(range(0, x.ndim, 2))


def reduce_with(computation: Callable, identity: Callable[[np.dtype], Any]) -> Callable:
    """`jax.lax.reduce` with a monoid, which JAX binds as the matching reduce primitive."""
    return lambda x: jlax.reduce(x, np.asarray(identity(x.dtype)).astype(x.dtype), computation,
                                 alternate_axes(x))


def lowest(dtype: np.dtype) -> Any:
    inexact = is_float(dtype) or dtype == C64
    return False if dtype == BOOL else (-np.inf if inexact else np.iinfo(dtype).min)


def highest(dtype: np.dtype) -> Any:
    inexact = is_float(dtype) or dtype == C64
    return True if dtype == BOOL else (np.inf if inexact else np.iinfo(dtype).max)


def int_division(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype):
    """Dividends and divisors of both signs, zero divisors, and INT_MIN / -1."""
    if is_float(dtype):
        x, y = values(rng, shape, dtype, -9, 9), values(rng, shape, dtype, -4, 4)
        return [with_specials(rng, x), y]
    info = np.iinfo(dtype)
    x = values(rng, shape, dtype, ilo=-60, ihi=60)
    y = values(rng, shape, dtype, ilo=-7, ihi=7)
    x.reshape(-1)[0], y.reshape(-1)[0] = info.min, (-1 if info.min < 0 else 0)
    y.reshape(-1)[1] = 0
    return [x, y]


def shift_args(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype):
    """Values over the whole range and shift amounts past the width (negative ones too)."""
    (x,) = full_range()(rng, shape, dtype)
    width = 8 * dtype.itemsize
    amount = rng.integers(-2 if dtype.kind == "i" else 0, width + 3, shape).astype(dtype)
    return [x, amount]


UNARY_FLOAT = [  # (op, jax function, input range)
    (lax.FloorOp, jlax.floor, (-5, 5)), (lax.CeilOp, jlax.ceil, (-5, 5)),
    (lax.ExpOp, jlax.exp, (-5, 5)), (lax.Exp2Op, jlax.exp2, (-5, 5)),
    (lax.LogOp, jlax.log, (0.01, 10)), (lax.Log1pOp, jlax.log1p, (-0.9, 5)),
    (lax.Expm1Op, jlax.expm1, (-3, 3)), (lax.TanhOp, jlax.tanh, (-4, 4)),
    (lax.LogisticOp, jlax.logistic, (-6, 6)), (lax.SinOp, jlax.sin, (-5, 5)),
    (lax.CosOp, jlax.cos, (-5, 5)), (lax.TanOp, jlax.tan, (-1.4, 1.4)),
    (lax.AsinOp, jlax.asin, (-0.99, 0.99)), (lax.AcosOp, jlax.acos, (-0.99, 0.99)),
    (lax.AtanOp, jlax.atan, (-5, 5)), (lax.SinhOp, jlax.sinh, (-4, 4)),
    (lax.CoshOp, jlax.cosh, (-4, 4)), (lax.AsinhOp, jlax.asinh, (-5, 5)),
    (lax.AcoshOp, jlax.acosh, (1.01, 6)), (lax.AtanhOp, jlax.atanh, (-0.95, 0.95)),
    (lax.SqrtOp, jlax.sqrt, (0, 10)), (lax.RsqrtOp, jlax.rsqrt, (0.1, 10)),
    (lax.CbrtOp, jlax.cbrt, (-10, 10)), (lax.ErfOp, jlax.erf, (-3, 3)),
    (lax.ErfcOp, jlax.erfc, (-2, 3)), (lax.ErfInvOp, jlax.erf_inv, (-0.95, 0.95)),
    (lax.LgammaOp, jlax.lgamma, (0.1, 8)), (lax.DigammaOp, jlax.digamma, (0.1, 8)),
]
# Functions whose XLA CPU implementation is a polynomial approximation, not correctly
# rounded: their f32 results sit a few ulps away from float64 math. exp2 is exp(log(2) * x)
# with log(2) rounded to the input type (JAX's lowering), so bf16 is off by ~2 ulps.
LOOSE = {lax.Exp2Op: 2.0, lax.TanOp: 5.0, lax.ErfInvOp: 5.0, lax.LgammaOp: 20.0,
         lax.DigammaOp: 20.0, lax.ErfcOp: 5.0, lax.AcoshOp: 5.0, lax.AtanhOp: 5.0}

ROWS: list[Row] = [
    Row(cls, fn, uniform(lo, hi), tol=LOOSE.get(cls, 1.0)) for cls, fn, (lo, hi) in UNARY_FLOAT
]
ROWS += [Row(cls, fn, uniform(special=True), note="specials")
         for cls, fn in ((lax.ExpOp, jlax.exp), (lax.FloorOp, jlax.floor),
                         (lax.SqrtOp, jlax.sqrt), (lax.IsFiniteOp, jlax.is_finite))]
ROWS += [
    Row(lax.NegOp, jlax.neg, uniform(), dtypes=(*NUMS, U32)),
    Row(lax.AbsOp, jlax.abs, uniform(special=True), dtypes=NUMS),
    Row(lax.AbsOp, jlax.abs, full_range(), dtypes=(I32, I8), note="wrap"),
    Row(lax.SignOp, jlax.sign, uniform(special=True), dtypes=(*NUMS, U32)),
    Row(lax.SquareOp, jlax.square, uniform(special=True), dtypes=(*NUMS, U32)),
    Row(lax.NotOp, jlax.bitwise_not, full_range(), dtypes=(I32, U32, I8)),
    Row(lax.NotOp, jlax.bitwise_not, uniform(), dtypes=(BOOL,), note="bool"),
    Row(lax.StopGradientOp, jlax.stop_gradient, uniform(), dtypes=ALL),
    Row(lax.CopyOp, jnp.copy, uniform(), dtypes=ALL),
    Row(lax.PopulationCountOp, jlax.population_count, full_range(), dtypes=(I32, U32, I8, U16)),
    Row(lax.ClzOp, jlax.clz, full_range(), dtypes=(I32, U32, I8, U16)),
    # Binary elementwise ops.
    Row(lax.AddOp, jlax.add, uniform(n=2, special=True), dtypes=(*NUMS, U32)),
    Row(lax.AddOp, jlax.add, full_range(2), dtypes=(I32, U8), note="wrap"),
    Row(lax.AddAnyOp, jax.grad(lambda x: jnp.sum(jnp.sin(x) * x)), uniform(),
        dtypes=(F32, F16), note="grad"),
    Row(lax.AddAnyOp, jlax.add, uniform(n=2), dtypes=(F32, I32, BF16),
        build=one_op(lax.AddAnyOp), note="built"),
    Row(lax.SubOp, jlax.sub, uniform(n=2, special=True), dtypes=(*NUMS, U32)),
    Row(lax.MulOp, jlax.mul, uniform(n=2, special=True), dtypes=(*NUMS, U32)),
    Row(lax.MulOp, jlax.mul, full_range(2), dtypes=(I32,), note="wrap"),
    Row(lax.DivOp, jlax.div, int_division, dtypes=(*NUMS, U32, I8)),
    Row(lax.RemOp, jlax.rem, int_division, dtypes=(*NUMS, U32, I8)),
    Row(lax.PowOp, jlax.pow, lambda rng, s, d: [values(rng, s, d, 0.1, 3),
                                                values(rng, s, d, -2, 2)], tol=2.0),
    Row(lax.PowOp, jlax.pow, lambda rng, s, d: [values(rng, s, d, -3, 3),
                                                values(rng, s, I32, ilo=-3, ihi=4)],
        tol=2.0, note="int_exponent"),
    Row(lax.MaxOp, jlax.max, with_ties(special=True), dtypes=ALL),
    Row(lax.MinOp, jlax.min, with_ties(special=True), dtypes=ALL),
    Row(lax.Atan2Op, jlax.atan2, uniform(n=2, special=True), tol=2.0),
    Row(lax.NextafterOp, jlax.nextafter, with_ties(special=True)),
    Row(lax.NextafterOp, jlax.nextafter,
        fixed(const([0.0, -0.0, 0.0, 1.0, -1.0, 65504.0]), const([1, 1, -1, 2, 0, np.inf])),
        dtypes=(F32, F16), shapes=((6,),), note="edges"),
    Row(lax.AndOp, jlax.bitwise_and, full_range(2), dtypes=(I32, U32, I8)),
    Row(lax.OrOp, jlax.bitwise_or, full_range(2), dtypes=(I32, U32, I8)),
    Row(lax.XorOp, jlax.bitwise_xor, full_range(2), dtypes=(I32, U32, I8)),
    *(Row(cls, fn, uniform(n=2), dtypes=(BOOL,), note="bool") for cls, fn in (
        (lax.AndOp, jlax.bitwise_and), (lax.OrOp, jlax.bitwise_or),
        (lax.XorOp, jlax.bitwise_xor))),
    Row(lax.ShiftLeftOp, jlax.shift_left, shift_args, dtypes=(I32, U32, I8, U8)),
    Row(lax.ShiftRightLogicalOp, jlax.shift_right_logical, shift_args,
        dtypes=(I32, U32, I8, U8)),
    Row(lax.ShiftRightArithmeticOp, jlax.shift_right_arithmetic, shift_args,
        dtypes=(I32, U32, I8, U8)),
    *(Row(cls, fn, with_ties(special=True), dtypes=ALL) for cls, fn in (
        (lax.EqOp, jlax.eq), (lax.NeOp, jlax.ne), (lax.LtOp, jlax.lt), (lax.LeOp, jlax.le),
        (lax.GtOp, jlax.gt), (lax.GeOp, jlax.ge))),
    Row(lax.IntegerPowOp, lambda x: jlax.integer_pow(x, 3), uniform(special=True),
        dtypes=NUMS, tol=2.0, note="cube"),
    Row(lax.IntegerPowOp, lambda x: jlax.integer_pow(x, -2), uniform(0.5, 2), tol=2.0,
        note="negative"),
    Row(lax.IntegerPowOp, lambda x: jlax.integer_pow(x, 5), uniform(ilo=-3000, ihi=3000),
        dtypes=(I32,), note="wrap"),
    *(Row(lax.ReducePrecisionOp, lambda x, e=e, m=m: jlax.reduce_precision(x, e, m),
          wide_floats, note=f"e{e}m{m}") for e, m in ((5, 10), (8, 7), (4, 3), (2, 0))),
    # Casts.
    *(Row(lax.ConvertElementTypeOp, lambda x, t=to: jlax.convert_element_type(x, t), wide_floats,
          dtypes=tuple(d for d in FLOATS if d != to), note=f"to_{to.name}")
      for to in (I32, U32, I8, U8, BOOL, F16, BF16)),
    *(Row(lax.ConvertElementTypeOp, lambda x, t=to: jlax.convert_element_type(x, t),
          full_range(), dtypes=tuple(d for d in (I32, U32, I8) if d != to),
          note=f"int_to_{to.name}")
      for to in (F32, F16, BF16, I8, U32, BOOL)),
    Row(lax.ConvertElementTypeOp, lambda x: jlax.convert_element_type(x, F32), uniform(),
        dtypes=(BOOL, F16, BF16), note="to_float32"),
    *(Row(lax.BitcastConvertTypeOp, lambda x, t=to: jlax.bitcast_convert_type(x, t), gen,
          dtypes=src, shapes=shapes, note=note) for note, to, gen, src, shapes in (
        ("to_int32", I32, uniform(special=True), (F32,), SHAPES),
        ("to_float32", F32, full_range(), (I32, U32), SHAPES),
        ("narrower", U8, uniform(special=True), (F32,), ((3,), (2, 3))),
        ("to_int16", I16, uniform(), (F16, BF16), SHAPES),
        ("wider", F32, full_range(), (U8,), ((3, 4), (2, 2, 4))))),
    # Selection.
    Row(lax.SelectNOp, jlax.select_n, lambda rng, s, d: [values(rng, s, BOOL), *uniform(n=2)(
        rng, s, d)], dtypes=ALL),
    Row(lax.SelectNOp, jlax.select_n, lambda rng, s, d: [
        values(rng, s, I32, ilo=0, ihi=2), *uniform(n=3)(rng, s, d)], dtypes=NUMS, note="int"),
    Row(lax.SelectNOp, jlax.select_n, lambda rng, s, d: [
        values(rng, (), BOOL), *uniform(n=2)(rng, s, d)], dtypes=NUMS, note="scalar"),
    Row(lax.ClampOp, jlax.clamp, lambda rng, s, d: [
        np.asarray(-1).astype(d), *uniform(special=True)(rng, s, d), np.asarray(2).astype(d)],
        dtypes=NUMS),
    Row(lax.ClampOp, jlax.clamp, lambda rng, s, d: [
        values(rng, s, d, -3, 0, ilo=-30, ihi=0), values(rng, s, d),
        values(rng, s, d, 0, 3, ilo=0, ihi=30)], dtypes=NUMS, note="arrays"),
    # Constants and index generators.
    Row(lax.ConstantOp, lambda x: x * 3 + np.arange(x.size).reshape(x.shape).astype(x.dtype),
        uniform(), dtypes=NUMS),
    Row(lax.ConstantOp, lambda x: x ^ (np.arange(x.size).reshape(x.shape) % 3 == 0), uniform(),
        dtypes=(BOOL,), note="bool"),
    Row(lax.IotaOp, lambda x: x + jlax.broadcasted_iota(x.dtype, x.shape, last(x)), uniform(),
        dtypes=NUMS),
    # Shape ops.
    Row(lax.BroadcastInDimOp, lambda x: jlax.broadcast_in_dim(
        x, (2, 3, 5, x.shape[1]), (1, 3)), uniform(), dtypes=ALL, shapes=((3, 4), (1, 2))),
    Row(lax.ReshapeOp, lambda x: jnp.reshape(x, (x.shape[-1], -1)), uniform(), dtypes=ALL,
        shapes=((3, 4), (2, 3, 4))),
    Row(lax.SqueezeOp, lambda x: jlax.squeeze(x, (1,)), uniform(), dtypes=ALL,
        shapes=((3, 1, 4), (2, 1))),
    Row(lax.TransposeOp, lambda x: jlax.transpose(x, (1, 2, 0) if x.ndim == 3 else (1, 0)),
        uniform(), dtypes=ALL, shapes=((3, 4), (2, 3, 4))),
    Row(lax.RevOp, lambda x: jlax.rev(x, (0, last(x))), uniform(), dtypes=ALL,
        shapes=((3, 4), (2, 3, 4))),
    Row(lax.SliceOp, lambda x: jlax.slice(x, (1,) * x.ndim, x.shape, (2,) * x.ndim), uniform(),
        dtypes=ALL, shapes=((7,), (5, 6))),
    Row(lax.SliceOp, lambda x: jlax.slice(x, (2, 1), (2, 3)), uniform(), dtypes=(F32,),
        shapes=((3, 4),), note="empty"),
    *(Row(lax.PadOp, lambda x, v, c=config: jlax.pad(x, v, c),
          lambda rng, s, d: [values(rng, s, d), values(rng, (), d)], dtypes=ALL,
          shapes=((3, 4),), note=note) for note, config in (
        ("edges", [(1, 2, 0), (0, 1, 0)]), ("interior", [(0, 0, 2), (1, 1, 1)]),
        ("negative", [(-1, 2, 1), (2, -3, 0)]), ("crop", [(-2, -1, 2), (-1, 0, 1)]))),
    Row(lax.ConcatenateOp, lambda x, y: jlax.concatenate([x, y, x], 1),
        fixed(arr((3, 4)), arr((3, 2))), dtypes=ALL, shapes=((),)),
    Row(lax.SplitOp, lambda x: jlax.split(x, (1, 0, 3), axis=1), uniform(), dtypes=ALL,
        shapes=((3, 4),)),
    Row(lax.DynamicSliceOp, lambda x, i, j: jlax.dynamic_slice(x, (i, j), (2, 3)),
        fixed(arr((5, 6)), index((), -7, 8), index((), -8, 8)), dtypes=ALL, shapes=((),)),
    Row(lax.DynamicUpdateSliceOp, lambda x, u, i, j: jlax.dynamic_update_slice(x, u, (i, j)),
        fixed(arr((5, 6)), arr((2, 3)), index((), -7, 8), index((), -8, 8)), dtypes=ALL,
        shapes=((),)),
]

# Gather and scatter: numpy-style indexing, then general dimension numbers in every mode.
GATHER_DN = jlax.GatherDimensionNumbers(offset_dims=(1, 2), collapsed_slice_dims=(0,),
                                        start_index_map=(0, 2))
GATHER_DN_MIDDLE = jlax.GatherDimensionNumbers(offset_dims=(0, 3), collapsed_slice_dims=(1,),
                                               start_index_map=(1,))
GATHER_DN_BATCHED = jlax.GatherDimensionNumbers(
    offset_dims=(2,), collapsed_slice_dims=(1,), start_index_map=(1,),
    operand_batching_dims=(0,), start_indices_batching_dims=(1,))
SCATTER_DN_BATCHED = jlax.ScatterDimensionNumbers(
    update_window_dims=(2,), inserted_window_dims=(1,), scatter_dims_to_operand_dims=(1,),
    operand_batching_dims=(0,), scatter_indices_batching_dims=(1,))
SCATTER_DN = jlax.ScatterDimensionNumbers(update_window_dims=(1, 2), inserted_window_dims=(0,),
                                          scatter_dims_to_operand_dims=(0, 2))
MODES = jlax.GatherScatterMode
ROWS += [
    Row(lax.GatherOp, lambda x, i: x[i], fixed(arr((5, 4)), index((6,), -5, 4)), dtypes=ALL,
        shapes=((),), note="getitem"),
    Row(lax.GatherOp, lambda x, i: jnp.take(x, i, axis=1, mode="fill"),
        fixed(arr((3, 5)), index((2, 3), -2, 7)), dtypes=ALL, shapes=((),), note="fill"),
    Row(lax.GatherOp, lambda x, i: jnp.take(x, i, axis=0, mode="clip"),
        fixed(arr((5, 3)), index((4,), -3, 8)), dtypes=NUMS, shapes=((),), note="clip"),
    *(Row(lax.GatherOp, lambda x, i, m=mode, f=fill: jlax.gather(
        x, i, GATHER_DN, (1, 3, 2), mode=m, fill_value=f), fixed(arr((5, 6, 4)), index(
            (3, 2), lo, hi)), dtypes=NUMS, shapes=((),), note=f"dn_{mode.name}{fill or ''}")
      for mode, fill, lo, hi in ((MODES.CLIP, None, -2, 6), (MODES.FILL_OR_DROP, None, -1, 4),
                                 (MODES.FILL_OR_DROP, -1, -1, 4),
                                 (MODES.PROMISE_IN_BOUNDS, None, 0, 2))),
    Row(lax.GatherOp, lambda x, i: jlax.gather(x, i, GATHER_DN_MIDDLE, (4, 1, 2),
                                               mode=MODES.FILL_OR_DROP),
        fixed(arr((5, 6, 4)), index((2, 3, 1), -1, 6)), dtypes=NUMS, shapes=((),),
        note="dn_batch_between_offsets"),
    Row(lax.GatherOp, jax.vmap(lambda x, i: x[i]), fixed(arr((3, 5, 4)), index((3, 2), -5, 4)),
        dtypes=NUMS, shapes=((),), note="vmap"),
    Row(lax.GatherOp, lambda x, i: jlax.gather(x, i, GATHER_DN_BATCHED, (1, 1, 4),
                                               mode=MODES.FILL_OR_DROP),
        fixed(arr((3, 5, 4)), index((2, 3, 1), -1, 5)), dtypes=NUMS, shapes=((),),
        note="dn_batching"),
    Row(lax.ScatterOp, lambda x, i, u: x.at[i].set(u),
        fixed(arr((5, 4)), unique_index((3,), 6), arr((3, 4))), dtypes=ALL, shapes=((),),
        note="drop"),
    Row(lax.ScatterOp, lambda x, i, u: x.at[i].set(u, mode="clip"),
        fixed(arr((5, 4)), unique_index((2,), 4), arr((2, 4))), dtypes=NUMS, shapes=((),),
        note="clip"),
    Row(lax.ScatterAddOp, lambda x, i, u: x.at[i].add(u),
        fixed(arr((5, 4)), index((6,), 0, 6), arr((6, 4))), dtypes=NUMS, shapes=((),),
        note="drop"),
    Row(lax.ScatterAddOp, lambda x, i, u: x.at[i].add(u, mode="clip"),
        fixed(arr((5, 4)), index((6,), -2, 8), arr((6, 4))), dtypes=NUMS, shapes=((),),
        note="clip"),
    Row(lax.ScatterAddOp, lambda x, i, u: x.at[i].add(u, mode="promise_in_bounds"),
        fixed(arr((5, 4)), index((6,), 0, 4), arr((6, 4))), dtypes=NUMS, shapes=((),),
        note="promise"),
    *(Row(lax.ScatterAddOp, lambda x, i, u, m=mode: jlax.scatter_add(x, i, u, SCATTER_DN, mode=m),
          fixed(arr((5, 6, 4)), index((3, 2), -1, 5), arr((3, 3, 2))), dtypes=NUMS,
          shapes=((),), note=f"dn_{mode.name}") for mode in (MODES.CLIP, MODES.FILL_OR_DROP)),
    Row(lax.ScatterAddOp, jax.vmap(lambda x, i, u: x.at[i].add(u), in_axes=(0, 1, 0)),
        fixed(arr((3, 5, 4)), index((4, 3), -1, 5), arr((3, 4, 4))), dtypes=NUMS,
        shapes=((),), note="vmap"),
    Row(lax.ScatterAddOp, lambda x, i, u: jlax.scatter_add(x, i, u, SCATTER_DN_BATCHED,
                                                           mode=MODES.CLIP),
        fixed(arr((3, 5, 4)), index((2, 3, 1), -1, 6), arr((2, 3, 4))), dtypes=NUMS,
        shapes=((),), note="dn_batching"),
    Row(lax.ScatterMulOp, lambda x, i, u: x.at[i].multiply(u),
        fixed(arr((5, 4), 0.5, 1.5, -3, 3), index((6,), -5, 6), arr((6, 4), 0.5, 1.5, -3, 3)),
        dtypes=NUMS, shapes=((),)),
    Row(lax.ScatterMinOp, lambda x, i, u: x.at[i].min(u),
        fixed(arr((5, 4)), index((6,), -5, 6), arr((6, 4))), dtypes=NUMS, shapes=((),)),
    Row(lax.ScatterMaxOp, lambda x, i, u: x.at[i].max(u, mode="clip"),
        fixed(arr((5, 4)), index((6,), -5, 6), arr((6, 4))), dtypes=NUMS, shapes=((),)),
]

# Reductions and scans: `alternate_axes` reduces axis 0 of a vector, axes (0, 2) of a cube.
ROWS += [
    Row(lax.ReduceSumOp, reduce_with(jlax.add, lambda d: 0), uniform(0, 1), dtypes=(*NUMS, U32),
        tol=2.0),
    Row(lax.ReduceProdOp, reduce_with(jlax.mul, lambda d: 1), uniform(0.7, 1.3, ilo=-3, ihi=3),
        dtypes=(*NUMS, U32), tol=2.0),
    Row(lax.ReduceMaxOp, reduce_with(jlax.max, lowest), uniform(special=True), dtypes=ALL),
    Row(lax.ReduceMinOp, reduce_with(jlax.min, highest), uniform(special=True), dtypes=ALL),
    *(Row(cls, reduce_with(fn, identity), uniform(), dtypes=(F32, I32), shapes=((0, 3),),
          note="empty") for cls, fn, identity in (
        (lax.ReduceSumOp, jlax.add, lambda d: 0), (lax.ReduceMaxOp, jlax.max, lowest),
        (lax.ReduceMinOp, jlax.min, highest))),
    Row(lax.ReduceAndOp, reduce_with(jlax.bitwise_and, lambda d: np.array(-1).astype(d)),
        full_range(), dtypes=(I32, U32)),
    Row(lax.ReduceAndOp, reduce_with(jlax.bitwise_and, lambda d: True),
        lambda rng, s, d: [rng.random(s) < 0.8], dtypes=(BOOL,), note="bool"),
    Row(lax.ReduceOrOp, reduce_with(jlax.bitwise_or, lambda d: 0), full_range(),
        dtypes=(I32, U32)),
    Row(lax.ReduceOrOp, reduce_with(jlax.bitwise_or, lambda d: False),
        lambda rng, s, d: [rng.random(s) < 0.2], dtypes=(BOOL,), note="bool"),
    Row(lax.ReduceXorOp, reduce_with(jlax.bitwise_xor, lambda d: 0), full_range(),
        dtypes=(I32, U32)),
    Row(lax.ReduceXorOp, reduce_with(jlax.bitwise_xor, lambda d: False), uniform(),
        dtypes=(BOOL,), note="bool"),
    Row(lax.ArgmaxOp, lambda x: jlax.argmax(x, last(x), jnp.int32), uniform(special=True),
        dtypes=ALL),
    Row(lax.ArgminOp, lambda x: jlax.argmin(x, 0, jnp.int32), uniform(special=True),
        dtypes=ALL),
    Row(lax.ArgmaxOp, lambda x: jlax.argmax(x, 0, jnp.int32), uniform(ilo=-2, ihi=2),
        dtypes=(I32,), note="ties"),
    Row(lax.ArgminOp, lambda x: jlax.argmin(x, 1, jnp.int32),
        fixed(const([[1.0, np.nan, -2.0, np.nan], [3.0, -1.0, -1.0, 0.0]])), dtypes=FLOATS,
        shapes=((),), note="nan"),
]
for cls, fn, gen, types, tol in (
        (lax.CumsumOp, jlax.cumsum, uniform(0, 1), NUMS, 3.0),
        (lax.CumprodOp, jlax.cumprod, uniform(0.7, 1.3, ilo=-3, ihi=3), NUMS, 3.0),
        (lax.CummaxOp, jlax.cummax, uniform(special=True), NUMS, 1.0),
        (lax.CumminOp, jlax.cummin, uniform(special=True), NUMS, 1.0),
        (lax.CumlogsumexpOp, jlax.cumlogsumexp, uniform(), FLOATS, 3.0)):
    ROWS += [Row(cls, lambda x, fn=fn, r=rev: fn(x, last(x), reverse=r), gen, dtypes=types,
                 tol=tol, note="reverse" if rev else "") for rev in (False, True)]

ROWS += [
    Row(lax.SortOp, lambda x: jlax.sort(x, dimension=last(x)), uniform(special=True),
        dtypes=ALL),
    Row(lax.SortOp, lambda k, v: jlax.sort((k, v), dimension=0, num_keys=1, is_stable=True),
        lambda rng, s, d: [few(rng, s, d), values(rng, s, F32)],
        dtypes=ALL, note="stable_by_key"),
    Row(lax.SortOp, lambda a, b, v: jlax.sort((a, b, v), dimension=last(a), num_keys=2,
                                                is_stable=True),
        lambda rng, s, d: [with_specials(rng, few(rng, s, d)),
                           values(rng, s, I32, ilo=0, ihi=2), values(rng, s, I32)],
        dtypes=ALL, note="two_keys"),
    Row(lax.TopKOp, lambda x: jlax.top_k(x, 3), uniform(special=True), dtypes=NUMS,
        shapes=((7,), (3, 6))),
    Row(lax.TopKOp, lambda x: jlax.top_k(x, 4), uniform(ilo=-2, ihi=2), dtypes=(I32,),
        shapes=((9,),), note="ties"),
]

DOTS = {  # note: (lhs shape, rhs shape, ((lhs contracting, rhs contracting), (batch, batch)))
    "matmul": ((3, 4), (4, 5), (((1,), (0,)), ((), ()))),
    "batched": ((2, 3, 4), (2, 4, 5), (((2,), (1,)), ((0,), (0,)))),
    "two_contracting": ((4, 3, 2), (2, 5, 4), (((0, 2), (2, 0)), ((), ()))),
    "batch_last": ((3, 4, 2), (4, 2), (((1,), (0,)), ((2,), (1,)))),
}
ROWS += [
    Row(lax.DotGeneralOp, lambda a, b, dn=dn: jlax.dot_general(a, b, dn),
        fixed(arr(ls, -1, 1, -5, 5), arr(rs, -1, 1, -5, 5)), dtypes=ALL, shapes=((),), tol=3.0,
        note=note) for note, (ls, rs, dn) in DOTS.items()
]
ROWS += [
    Row(lax.DotGeneralOp, lambda a, b: jnp.dot(a, b, precision="highest"),
        fixed(arr((3, 4)), arr((4, 2))), dtypes=(F32,), shapes=((),), note="precision"),
    *(Row(lax.DotGeneralOp, lambda a, b, t=to: jlax.dot_general(
        a, b, (((1,), (0,)), ((), ())), preferred_element_type=t),
        fixed(arr((3, 4), -1, 1), arr((4, 5), -1, 1)), dtypes=src, shapes=((),), tol=3.0,
        note=f"preferred_{to.name}") for to, src in ((F32, (F16, BF16, I32)), (I32, (I8,)))),
]


# Windowed ops over the last two dimensions: pooling (`jax.lax.reduce_window` with a monoid,
# which JAX binds as reduce_window_{sum,max,min}), its gradient (select_and_scatter_add, from
# `jax.vjp`) and its tangent (select_and_gather_add, from `jax.jvp`). Padding is explicit
# `(low, high)` pairs or "VALID"/"SAME"; `few` values make windows tie. No NaN keys for
# select_and_gather_add: its pair reducer is then not associative, and XLA's reduction
# order is unspecified (targets/reference/lax_windows.py).
WINDOW_SHAPES = ((6, 5), (2, 7, 6))


def pool(computation: Callable, init: Callable[[np.dtype], Any], window: Sequence[int] = (3, 2),
         strides: Sequence[int] = (2, 1), padding: Any = "VALID",
         base: Sequence[int] = (1, 1), dilation: Sequence[int] = (1, 1)) -> Callable:
    def fn(x: Any) -> Any:
        lead = (1,) * (x.ndim - 2)
        pads = padding if isinstance(padding, str) else [(0, 0)] * (x.ndim - 2) + list(padding)
        return jlax.reduce_window(x, np.asarray(init(x.dtype)).astype(x.dtype), computation,
                                  lead + tuple(window), lead + tuple(strides), pads,
                                  lead + tuple(base), lead + tuple(dilation))

    return fn


def pooled(fn: Callable, special: bool = False, ties: bool = False) -> Gen:
    """x of the case's shape (with specials, or tying values), and an array shaped like
    `fn(x)`: the cotangent of a pooling `fn`."""

    def make(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype):
        x = few(rng, shape, dtype) if ties else values(rng, shape, dtype)
        out = jax.eval_shape(fn, jax.ShapeDtypeStruct(shape, dtype)).shape
        return [with_specials(rng, x) if special else x, values(rng, out, dtype)]

    return make


def pool_vjp(fn: Callable) -> Callable:
    return lambda x, ct: jax.vjp(fn, x)[1](ct)[0]


def pool_jvp(fn: Callable) -> Callable:
    return lambda x, t: jax.jvp(fn, (x,), (t,))[1]


def scatter_add_bound(select: Any, window: Sequence[int], strides: Sequence[int],
                      padding: Sequence[tuple[int, int]]) -> Callable:
    """select_and_scatter_add bound directly (on integers and bools, which `jax.vjp` does not
    differentiate), over the last two dimensions."""
    def fn(x: Any, source: Any) -> Any:
        lead = (1,) * (x.ndim - 2)
        return jlax.select_and_scatter_add_p.bind(
            source, x, select_prim=select, window_dimensions=lead + tuple(window),
            window_strides=lead + tuple(strides), padding=((0, 0),) * (x.ndim - 2) + padding)

    return fn


MAX_POOL = pool(jlax.max, lowest, (3, 3), (2, 2), "SAME")
MIN_POOL = pool(jlax.min, highest, (2, 3), (1, 2), ((1, 0), (1, 2)))
DILATED_POOL = pool(jlax.max, lowest, (2, 2), (1, 2), ((1, 1), (0, 1)), base=(2, 1),
                    dilation=(1, 2))
BOUND_SCATTER = scatter_add_bound(jlax.ge_p, (2, 3), (1, 2), ((1, 0), (0, 2)))
BOUND_WINDOWS = pool(jlax.max, lowest, (2, 3), (1, 2), ((1, 0), (0, 2)))  # its source's shape
ROWS += [
    Row(lax.ReduceWindowSumOp, pool(jlax.add, lambda d: 0), uniform(), dtypes=NUMS,
        shapes=WINDOW_SHAPES, tol=2.0),
    Row(lax.ReduceWindowSumOp, pool(jlax.add, lambda d: 0, (2, 2), (1, 1), "SAME", (2, 1),
                                    (1, 2)), uniform(), dtypes=(F32, I32),
        shapes=WINDOW_SHAPES, note="dilated"),
    Row(lax.ReduceWindowSumOp, pool(jlax.add, lambda d: 0, (3, 3), (1, 1), ((2, -1), (1, 1))),
        full_range(), dtypes=(I32, U8), shapes=WINDOW_SHAPES, note="wrap"),
    Row(lax.ReduceWindowMaxOp, MAX_POOL, uniform(special=True), dtypes=(*ALL, U32),
        shapes=WINDOW_SHAPES),
    Row(lax.ReduceWindowMaxOp, DILATED_POOL, uniform(), dtypes=(F32, I32),
        shapes=WINDOW_SHAPES, note="dilated"),
    Row(lax.ReduceWindowMinOp, MIN_POOL, uniform(special=True), dtypes=(*ALL, U32),
        shapes=WINDOW_SHAPES),
    Row(lax.SelectAndScatterAddOp, pool_vjp(MAX_POOL), pooled(MAX_POOL), shapes=WINDOW_SHAPES,
        note="max_pool_grad"),
    Row(lax.SelectAndScatterAddOp, pool_vjp(MAX_POOL), pooled(MAX_POOL, ties=True),
        dtypes=(F32,), shapes=WINDOW_SHAPES, note="ties"),
    Row(lax.SelectAndScatterAddOp, pool_vjp(MAX_POOL), pooled(MAX_POOL, special=True),
        dtypes=(F32,), shapes=WINDOW_SHAPES, note="specials"),
    Row(lax.SelectAndScatterAddOp, pool_vjp(MIN_POOL), pooled(MIN_POOL, ties=True),
        shapes=WINDOW_SHAPES, note="min_pool_grad"),
    Row(lax.SelectAndScatterAddOp, BOUND_SCATTER, pooled(BOUND_WINDOWS, ties=True),
        dtypes=(I32, BOOL), shapes=WINDOW_SHAPES, note="bound"),
    Row(lax.SelectAndGatherAddOp, pool_jvp(MAX_POOL), uniform(n=2), shapes=WINDOW_SHAPES,
        note="max_pool_jvp"),
    Row(lax.SelectAndGatherAddOp, pool_jvp(MIN_POOL), lambda rng, s, d: [
        few(rng, s, d), values(rng, s, d)], dtypes=(F32,), shapes=WINDOW_SHAPES, note="ties"),
    Row(lax.SelectAndGatherAddOp, pool_jvp(DILATED_POOL), uniform(n=2), dtypes=(F32, F16),
        shapes=WINDOW_SHAPES, note="dilated"),
]

# Primitives without a dedicated op arrive as `lax.generic`; it is also built directly.
ROUND_PARAMS = params.params_to_attr({"rounding_method": jlax.RoundingMethod.AWAY_FROM_ZERO})
ROWS += [
    Row(lax.GenericOp, lambda x: jlax.round(x, jlax.RoundingMethod.TO_NEAREST_EVEN),
        uniform(-4, 4), note="round"),
    Row(lax.GenericOp, lambda x: jlax.round(x, jlax.RoundingMethod.AWAY_FROM_ZERO),
        uniform(-4, 4), build=one_op(lax.GenericOp, {"prim": StringAttr("round"),
                                                      "params": ROUND_PARAMS}), note="built"),
]


ONE_DEVICE_MESH = jax.make_mesh((1,), ("x",), (jax.sharding.AxisType.Auto,))

# Control flow: regions walked by each target (tests/test_control_flow.py goes further).
ROWS += [
    Row(lax.CondOp, lambda x: jlax.cond(x.reshape(-1)[0] > 0, jnp.negative, jnp.abs, x),
        uniform(), dtypes=NUMS),
    Row(lax.CondOp, lambda i, x: jlax.switch(i[0], [jnp.negative, jnp.abs, lambda v: v * v], x),
        lambda rng, s, d: [rng.integers(-1, 4, (1,)).astype(np.int32), values(rng, s, d)],
        dtypes=NUMS, note="switch"),
    Row(lax.WhileOp, lambda x: jlax.while_loop(lambda c: c[0] < 5,
                                               lambda c: (c[0] + 1, c[1] * 2 - c[0]), (0, x))[1],
        uniform(-1, 1, ilo=-3, ihi=3), dtypes=NUMS, tol=3.0),
    Row(lax.ScanOp, lambda x: jlax.scan(lambda c, y: (c + y, c * y), jnp.zeros_like(x[0]), x),
        uniform(-1, 1, ilo=-3, ihi=3), dtypes=NUMS, tol=3.0),
    Row(lax.ScanOp, lambda x: jlax.scan(lambda c, y: (c * 2 + y, c), x[0], x, reverse=True,
                                        unroll=2), uniform(-1, 1, ilo=-3, ihi=3),
        dtypes=NUMS, tol=3.0, note="reverse"),
    # On a one-device mesh the constraint changes no value (tests/test_sharding.py checks
    # real placements on 8 devices).
    Row(lax.ShardingConstraintOp, lambda x: jax.lax.with_sharding_constraint(
        x * 2, jax.sharding.NamedSharding(ONE_DEVICE_MESH, jax.sharding.PartitionSpec("x"))),
        uniform(), dtypes=NUMS),
]

# Host callbacks: each target calls the Python function (tests/test_callbacks.py goes further:
# printed text, call counts and order, effects and the passes).
def _host(x: Any) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(x.shape, x.dtype)


ROWS += [
    Row(lax.PureCallbackOp, lambda x: jax.pure_callback(np.negative, _host(x), x) * 2,
        uniform(), dtypes=(F32, I32)),
    Row(lax.IoCallbackOp, lambda x: io_callback(np.negative, _host(x), x, ordered=True) + 1,
        uniform(), dtypes=(F32, I32)),
    Row(lax.DebugCallbackOp, lambda x: (jax.debug.callback(lambda v: None, x), x + 1)[1],
        uniform(), dtypes=(F32,)),
    Row(lax.DebugPrintOp, lambda x: (jax.debug.print("{}", x, ordered=True), x * 3)[1],
        uniform(), dtypes=(F32,)),
]

# A primitive with a Python computation: held as JAX bound it (`lax.opaque`), each target
# binding JAX's primitive.
ROWS += [
    Row(lax.OpaqueOp, lambda x: jlax.reduce(x, np.asarray(0, x.dtype), lambda a, b: a + b * b,
                                            alternate_axes(x)),
        uniform(-1, 1), dtypes=(F32, I32), shapes=((3, 4), (2, 3, 2))),
]


# PRNG keys cross function boundaries as `!lax.key` tensors: their data wrapped, then unwrapped.
def key_round_trip(cases: Sequence[Sequence[np.ndarray]]) -> ModuleOp:
    types = [dtypes.tensor_type(a.shape, a.dtype) for args in cases for a in args]
    block = Block(arg_types=types)
    outs = []
    for data in block.args:
        wrap = lax.RandomWrapOp(data, "threefry2x32")
        unwrap = lax.RandomUnwrapOp(wrap.results[0])
        block.add_ops([wrap, unwrap])
        outs += unwrap.results
    block.add_op(func.ReturnOp(*outs))
    return ModuleOp([func.FuncOp("main", FunctionType.from_lists(types, types), Region(block))])


def _key_data(d: Any) -> Any:
    return jax.random.key_data(jax.random.wrap_key_data(d, impl="threefry2x32"))


ROWS += [Row(cls, _key_data, uniform(0, 2**31, ilo=0, ihi=2**31), dtypes=(U32,),
             shapes=((3, 2), (2, 4, 2)), build=key_round_trip) for cls in (lax.RandomWrapOp,
                                                                       lax.RandomUnwrapOp)]

# Complex numbers (complex64): the complex-only ops, then the ops that take complex operands
# too (on values off their branch cuts). IRFFT runs on spectra of real signals (round trips),
# the input its result is defined for.
def convert_bound(to: np.dtype) -> Callable:
    """`convert_element_type` bound directly: `jax.lax`'s wrapper warns (ComplexWarning) when
    it drops an imaginary part, which is what these rows test."""
    return lambda x: jlax.convert_element_type_p.bind(x, new_dtype=to, weak_type=False,
                                                      sharding=None)


def complex_ties(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype):
    """Two complex arrays from a few whole parts, so real parts tie and imaginary ones decide."""
    def one() -> np.ndarray:
        return (rng.integers(-2, 3, shape) + 1j * rng.integers(-2, 3, shape)).astype(dtype)

    return [one(), one()]


UNARY_COMPLEX = [  # ops whose JAX dtype rule takes complex numbers too
    (lax.ExpOp, jlax.exp), (lax.Exp2Op, jlax.exp2), (lax.LogOp, jlax.log),
    (lax.Log1pOp, jlax.log1p), (lax.Expm1Op, jlax.expm1), (lax.TanhOp, jlax.tanh),
    (lax.LogisticOp, jlax.logistic), (lax.SinOp, jlax.sin), (lax.CosOp, jlax.cos),
    (lax.TanOp, jlax.tan), (lax.AsinOp, jlax.asin), (lax.AcosOp, jlax.acos),
    (lax.AtanOp, jlax.atan), (lax.SinhOp, jlax.sinh), (lax.CoshOp, jlax.cosh),
    (lax.AsinhOp, jlax.asinh), (lax.AcoshOp, jlax.acosh), (lax.AtanhOp, jlax.atanh),
    (lax.SqrtOp, jlax.sqrt), (lax.RsqrtOp, jlax.rsqrt), (lax.NegOp, jlax.neg),
    (lax.AbsOp, jlax.abs), (lax.SignOp, jlax.sign), (lax.SquareOp, jlax.square),
]
ROUND_TRIP = lambda x: jnp.fft.irfft(jnp.fft.rfft(x) * 2, n=x.shape[-1])  # noqa: E731
ROWS += [
    Row(lax.RealOp, jlax.real, uniform(), dtypes=(C64,)),
    Row(lax.ImagOp, jlax.imag, uniform(), dtypes=(C64,)),
    Row(lax.ComplexOp, jlax.complex, uniform(n=2, special=True), dtypes=(F32,)),
    Row(lax.ConjOp, jlax.conj, uniform(), dtypes=(C64, F32)),
    Row(lax.FftOp, jnp.fft.fft, uniform(), dtypes=(C64,), tol=3.0),
    Row(lax.FftOp, jnp.fft.ifft, uniform(), dtypes=(C64,), tol=3.0, note="ifft"),
    Row(lax.FftOp, jnp.fft.rfft, uniform(), dtypes=(F32,), tol=3.0, note="rfft"),
    Row(lax.FftOp, ROUND_TRIP, uniform(), dtypes=(F32,), shapes=((8,), (2, 3, 6)), tol=3.0,
        note="irfft"),
    Row(lax.FftOp, jnp.fft.fft2, uniform(), dtypes=(C64,), shapes=((3, 4), (2, 3, 4)),
        tol=3.0, note="fft2"),
    Row(lax.FftOp, lambda x: jnp.fft.irfft2(jnp.fft.rfft2(x), s=x.shape[-2:]), uniform(),
        dtypes=(F32,), shapes=((3, 4), (2, 3, 6)), tol=3.0, note="irfft2"),
    *(Row(cls, fn, uniform(-2, 2), dtypes=(C64,), tol=5.0, note="complex")
      for cls, fn in UNARY_COMPLEX),
    *(Row(cls, fn, uniform(n=2), dtypes=(C64,), note="complex") for cls, fn in (
        (lax.AddOp, jlax.add), (lax.SubOp, jlax.sub), (lax.MulOp, jlax.mul),
        (lax.DivOp, jlax.div))),
    Row(lax.PowOp, jlax.pow, uniform(0.1, 2, n=2), dtypes=(C64,), tol=5.0, note="complex"),
    Row(lax.PowOp, jlax.pow, lambda rng, s, d: [values(rng, s, d, -2, 2),
                                                values(rng, s, I32, ilo=-3, ihi=4)],
        dtypes=(C64,), tol=3.0, note="complex_int_exponent"),
    Row(lax.IntegerPowOp, lambda x: jlax.integer_pow(x, 3), uniform(), dtypes=(C64,),
        tol=3.0, note="complex"),
    *(Row(cls, fn, complex_ties, dtypes=(C64,), note="complex") for cls, fn in (
        (lax.MaxOp, jlax.max), (lax.MinOp, jlax.min), (lax.EqOp, jlax.eq),
        (lax.NeOp, jlax.ne))),
    *(Row(lax.ConvertElementTypeOp, convert_bound(to), uniform(), dtypes=(C64,),
          note=f"complex_to_{to.name}") for to in (F32, I32, BOOL)),
    Row(lax.ConvertElementTypeOp, convert_bound(C64), uniform(), dtypes=(F32, I32, BOOL),
        note="to_complex64"),
    Row(lax.SelectNOp, jlax.select_n, lambda rng, s, d: [values(rng, s, BOOL), *uniform(n=2)(
        rng, s, d)], dtypes=(C64,), note="complex"),
    Row(lax.ConstantOp, lambda x: x * (1 - 2j) + np.arange(x.size).reshape(x.shape) * 1j,
        uniform(), dtypes=(C64,), note="complex"),
    Row(lax.ReduceSumOp, reduce_with(jlax.add, lambda d: 0), uniform(), dtypes=(C64,),
        tol=2.0, note="complex"),
    Row(lax.ReduceProdOp, reduce_with(jlax.mul, lambda d: 1), uniform(0.7, 1.3),
        dtypes=(C64,), tol=3.0, note="complex"),
    Row(lax.ReduceMaxOp, reduce_with(jlax.max, lowest),
        lambda rng, s, d: complex_ties(rng, s, d)[:1], dtypes=(C64,), note="complex"),
    Row(lax.ReduceMinOp, reduce_with(jlax.min, highest),
        lambda rng, s, d: complex_ties(rng, s, d)[:1], dtypes=(C64,), note="complex"),
    Row(lax.CumsumOp, lambda x: jlax.cumsum(x, last(x)), uniform(), dtypes=(C64,), tol=3.0,
        note="complex"),
    Row(lax.CummaxOp, lambda x: jlax.cummax(x, last(x), reverse=True),
        lambda rng, s, d: complex_ties(rng, s, d)[:1], dtypes=(C64,), note="complex"),
    Row(lax.SortOp, lambda x: jlax.sort(x, dimension=last(x)),
        lambda rng, s, d: complex_ties(rng, s, d)[:1], dtypes=(C64,), note="complex"),
    Row(lax.DotGeneralOp, lambda a, b: jlax.dot_general(a, b, DOTS["batched"][2]),
        fixed(arr((2, 3, 4)), arr((2, 4, 5))), dtypes=(C64,), shapes=((),), tol=3.0,
        note="complex"),
    *(Row(cls, fn, lambda rng, s, d: [complex_ties(rng, (5, 4), d)[0], index((6,), -1, 5)(
        rng, d), complex_ties(rng, (6, 4), d)[0]], dtypes=(C64,), shapes=((),), note="complex")
      for cls, fn in (
        (lax.ScatterAddOp, lambda x, i, u: x.at[i].add(u)),
        (lax.ScatterMulOp, lambda x, i, u: x.at[i].multiply(u)),
        (lax.ScatterMaxOp, lambda x, i, u: x.at[i].max(u)))),
]


def assert_close(got: np.ndarray, want: np.ndarray, tol: float, what: str) -> None:
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, expected {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    if want.dtype == C64:
        rtol, atol = TOLERANCE[C64]
        np.testing.assert_allclose(got.astype(np.complex128), want.astype(np.complex128),
                                   rtol=rtol * tol, atol=atol * tol, err_msg=what)
    elif is_float(want.dtype):
        rtol, atol = TOLERANCE[want.dtype]
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64),
                                   rtol=rtol * tol, atol=atol * tol, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_op(row: Row) -> None:
    # Every case (dtype x shape) of a row goes into one program, so that each target compiles
    # once per row: XLA's compile time, not the ops, is what this suite spends.
    rng = np.random.default_rng(zlib.crc32(row.id.encode()))
    names, cases = [], []
    for dtype, shape in row.cases():
        names.append(f"{row.id} {dtype.name} {shape}")
        cases.append(list(row.args(rng, shape, dtype)))

    def program(*flat: Any) -> list[Any]:
        it = iter(flat)
        return [row.fn(*(next(it) for _ in args)) for args in cases]

    flat = [a for args in cases for a in args]
    if row.build is not None:
        module = row.build(cases)
    else:
        module = import_jaxpr(jax.make_jaxpr(program)(*flat))
    assert any(isinstance(op, row.op) for op in module.walk()), (
        f"{row.id}: the module has no {row.op.name}:\n{module}")
    module.verify()
    # jax.Array inputs: programs may use `x.at`, and JAX stages no numpy array (a compile).
    on_device = [jnp.asarray(a) for a in flat]
    want = [[np.asarray(v) for v in jax.tree.leaves(outs)]
            for outs in jax.jit(program)(*on_device)]
    got = {"jax target": [np.asarray(v) for v in jax_target.compile(module)(*on_device)],
           "reference target": reference.run(module, flat)}
    # The two emissions of the JAX target write what JAX's lowering writes: XLA compiles the
    # same computation, so the results are the same bits (NaNs included).
    walked = [np.asarray(v) for v in jax_target.compile(module, emission="walk")(*on_device)]
    for i, (direct, walk) in enumerate(zip(got["jax target"], walked, strict=True)):
        np.testing.assert_array_equal(direct, walk, err_msg=f"{row.id}: output {i}: the "
                                      "StableHLO emission differs from the jax.lax walk")
    for target, outs in got.items():
        assert len(outs) == sum(map(len, want)), f"{row.id}: {target} gave {len(outs)} outputs"
        it = iter(outs)
        for name, expected in zip(names, want, strict=True):
            for i, w in enumerate(expected):
                assert_close(next(it), w, row.tol, f"{name}: {target}, output {i}")


def test_rows_cover_every_op() -> None:
    missing = sorted(c.name for c in set(lax.all_ops()) - {r.op for r in ROWS})
    assert not missing, f"ops without a row in tests/test_lax_ops.py: {', '.join(missing)}"


def test_row_ids_are_unique() -> None:
    ids = [r.id for r in ROWS]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


# The verifiers accept an element type exactly where JAX does.
TYPED_OPS = [c for c in lax.all_ops()
             if issubclass(c, lax.ElementwiseOp | lax.ReduceOp | lax.CumulativeOp)]


def _op_params(cls: type[lax.LaxOp]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(JAX params, tiers properties) of a one-operand-rank-1 instance of `cls`."""
    if cls is lax.IntegerPowOp:
        return {"y": 2}, {"y": lax.int_attr(2)}
    if cls is lax.ReducePrecisionOp:
        return ({"exponent_bits": 5, "mantissa_bits": 10},
                {"exponent_bits": lax.int_attr(5), "mantissa_bits": lax.int_attr(10)})
    if issubclass(cls, lax.CumulativeOp):
        return {"axis": 0, "reverse": False}, {"axis": lax.int_attr(0),
                                               "reverse": lax.bool_attr(False)}
    if issubclass(cls, lax.ArgReduceOp):
        return {"axes": (0,), "index_dtype": np.dtype(np.int32)}, {"axes": lax.ints([0])}
    if cls in (lax.ReduceSumOp, lax.ReduceProdOp):
        return {"axes": (0,), "out_sharding": None}, {"axes": lax.ints([0])}
    if issubclass(cls, lax.ReduceOp):
        return {"axes": (0,)}, {"axes": lax.ints([0])}
    return {}, {}


# Lowered but not run: add_any lowers for bools, yet runs as lax.add, which rejects them.
JAX_REJECTS_WHEN_RUN = {(lax.AddAnyOp, BOOL)}


def _lower(prim: Any, jax_params: dict[str, Any], avals: list[Any]) -> Any:
    """The output avals of `prim` lowered on `avals`, or None where JAX rejects them.

    Lowered, not only shape-checked: cumlogsumexp's shape rule takes integers, its lowering
    does not."""
    for extra in ({}, {"accuracy": None}):  # some lowering rules want `accuracy` passed
        try:
            bound = {**jax_params, **extra}
            return jax.jit(lambda *xs, p=bound: prim.bind(*xs, **p)).lower(*avals).out_info
        except TypeError as e:
            if "accuracy" not in str(e):
                return None
        except Exception:  # noqa: BLE001 - any JAX error means "rejected"
            return None
    return None


@pytest.mark.parametrize("cls", TYPED_OPS, ids=[c.name for c in TYPED_OPS])
def test_verifier_accepts_the_dtypes_jax_accepts(cls: type[lax.LaxOp]) -> None:
    from tiers.dialects.primitives import primitive

    prim = primitive(cls.PRIMITIVE)
    jax_params, props = _op_params(cls)
    arity = 2 if issubclass(cls, lax.BinaryOp) else 1
    combos = [(d,) * arity for d in (BOOL, I32, U32, F32, F16, C64)]
    if arity == 2:
        combos += [(F32, I32), (C64, I32)]  # pow takes integer exponents
    for combo in combos:
        avals = [jax.ShapeDtypeStruct((3,), d) for d in combo]
        if cls is lax.ConjOp:  # conj_p carries its operand's dtype
            jax_params = {"input_dtype": combo[0]}
        outs = _lower(prim, jax_params, avals)
        jax_ok = outs is not None and (cls, combo[0]) not in JAX_REJECTS_WHEN_RUN
        types = [dtypes.tensor_type((3,), d) for d in combo]
        if outs is None:  # JAX rejects: give the op the result type it would most likely have
            shape = () if issubclass(cls, lax.ReduceOp) else (3,)
            result = dtypes.tensor_type(shape, BOOL if getattr(cls, "RESULT_BOOL", False)
                                        else I32 if issubclass(cls, lax.ArgReduceOp)
                                        else combo[0])
        else:
            result = dtypes.tensor_type(outs.shape, outs.dtype)
        block = Block(arg_types=types)
        op = cls.build(operands=list(block.args), result_types=[result], properties=props)
        try:
            op.verify()
            ok = True
        except Exception:  # noqa: BLE001 - any verify error means "rejected"
            ok = False
        names = ", ".join(d.name for d in combo)
        assert ok == jax_ok, (f"{cls.name}({names}): the verifier "
                              f"{'accepts' if ok else 'rejects'} what JAX "
                              f"{'accepts' if jax_ok else 'rejects'}")


def test_reference_run_checks_its_arguments() -> None:
    module = import_jaxpr(jax.make_jaxpr(jlax.neg)(np.ones(3, np.float32)))
    np.testing.assert_array_equal(reference.run(module, [np.arange(3.0)]), [[-0.0, -1.0, -2.0]])
    with pytest.raises(TypeError, match="takes 1 arguments"):
        reference.run(module, [])
    with pytest.raises(TypeError, match="shape"):
        reference.run(module, [np.ones(4, np.float32)])
    with pytest.raises(TypeError, match="expected float32"):
        reference.run(module, [np.ones(3, np.complex64)])


def test_sum_over_size_one_axes_keeps_negative_zero() -> None:
    # XLA makes a reduction with one element per output a reshape, so -0.0 stays -0.0 (a sum
    # starting from +0.0 would give +0.0); both targets must agree, sign included.
    x = np.array([[[-0.0], [0.0], [np.inf]]], np.float32)

    def program(x: jax.Array) -> jax.Array:
        return jnp.sum(x, axis=(0, 2))

    module = import_jaxpr(jax.make_jaxpr(program)(x))
    want = np.asarray(jax.jit(program)(x))
    assert np.signbit(want[0]), "XLA's own result changed: revisit this test"
    for got in (reference.run(module, [x])[0], np.asarray(jax_target.compile(module)(x)[0])):
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_verification_is_remembered_per_signature_only() -> None:
    """An op verified once is not checked again when another op of its class has the same
    operand, result and property types; any difference is checked, failures never stick, and
    ops with regions are always checked (their bodies can differ)."""
    from xdsl.utils.exceptions import VerifyException

    f32, i32 = dtypes.tensor_type((3,), F32), dtypes.tensor_type((3,), I32)
    block = Block(arg_types=[f32, f32, i32])
    x, y, n = block.args
    lax.AddOp(x, y).verify()
    lax.AddOp(y, x).verify()  # the same signature
    for _ in range(2):  # a failure is not remembered as a success
        with pytest.raises(VerifyException, match="element types differ"):
            lax.AddOp(x, n, f32).verify()
    with pytest.raises(VerifyException, match="result element type"):
        lax.AddOp(x, y, i32).verify()  # only the result differs from a verified one
    ok = lax.ReduceSumOp.build(operands=[x], result_types=[dtypes.tensor_type((), F32)],
                               properties={"axes": lax.ints([0])})
    ok.verify()
    bad = lax.ReduceSumOp.build(operands=[x], result_types=[dtypes.tensor_type((), F32)],
                                properties={"axes": lax.ints([1])})  # only a property differs
    with pytest.raises(VerifyException):
        bad.verify()
    assert all(c.verify_.__qualname__ != "_once.<locals>.verify_"
               for c in (lax.WhileOp, lax.CondOp, lax.ScanOp))
