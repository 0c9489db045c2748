"""JAX rules of `lax` ops: tiers op class -> function of JAX values, called while `jax.jit`
traces. `LAX_RULES` is one half of the JAX target's table (`rules.py` joins the two halves).

Rules use `jax.lax`'s public functions, so what XLA sees is what `jax.jit` would emit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import lax as jlax
from jax.sharding import NamedSharding
from xdsl.dialects.builtin import FloatAttr

from tiers.dialects import dtypes, lax, params
from tiers.dialects.constants import constant_array
from tiers.dialects.primitives import primitive
from tiers.dialects.sharding import to_mesh, to_spec
from tiers.targets.jax.effect_rules import EFFECT_RULES
from tiers.targets.jax.key_rules import KEY_RULES
from tiers.targets.walk import OpRule

LAX_RULES: dict[type, OpRule] = {}


def _register(cls: type, fn: OpRule) -> None:
    LAX_RULES[cls] = fn


def _dtype(value) -> np.dtype:
    return dtypes.to_numpy(lax.elem(value))


def _results(op, values) -> Any:
    """What the walker wants from a rule: one value for a one-result op, else a tuple."""
    values = tuple(values)
    return values[0] if len(op.results) == 1 else values


UNARY: dict[type, Callable[..., Any]] = {
    lax.NegOp: jlax.neg, lax.AbsOp: jlax.abs, lax.SignOp: jlax.sign, lax.FloorOp: jlax.floor,
    lax.CeilOp: jlax.ceil, lax.ExpOp: jlax.exp, lax.Exp2Op: jlax.exp2, lax.LogOp: jlax.log,
    lax.Log1pOp: jlax.log1p, lax.Expm1Op: jlax.expm1, lax.TanhOp: jlax.tanh,
    lax.LogisticOp: jlax.logistic, lax.SinOp: jlax.sin, lax.CosOp: jlax.cos,
    lax.TanOp: jlax.tan, lax.AsinOp: jlax.asin, lax.AcosOp: jlax.acos, lax.AtanOp: jlax.atan,
    lax.SinhOp: jlax.sinh, lax.CoshOp: jlax.cosh, lax.AsinhOp: jlax.asinh,
    lax.AcoshOp: jlax.acosh, lax.AtanhOp: jlax.atanh, lax.SqrtOp: jlax.sqrt,
    lax.RsqrtOp: jlax.rsqrt, lax.CbrtOp: jlax.cbrt, lax.ErfOp: jlax.erf, lax.ErfcOp: jlax.erfc,
    lax.ErfInvOp: jlax.erf_inv, lax.LgammaOp: jlax.lgamma, lax.DigammaOp: jlax.digamma,
    lax.SquareOp: jlax.square, lax.NotOp: jlax.bitwise_not, lax.IsFiniteOp: jlax.is_finite,
    lax.StopGradientOp: jlax.stop_gradient, lax.CopyOp: jnp.copy,
    lax.PopulationCountOp: jlax.population_count, lax.ClzOp: jlax.clz,
    lax.RealOp: jlax.real, lax.ImagOp: jlax.imag, lax.ConjOp: jlax.conj,
}
BINARY: dict[type, Callable[..., Any]] = {
    lax.AddOp: jlax.add, lax.AddAnyOp: jlax.add, lax.SubOp: jlax.sub, lax.MulOp: jlax.mul,
    lax.DivOp: jlax.div, lax.RemOp: jlax.rem, lax.PowOp: jlax.pow, lax.MaxOp: jlax.max,
    lax.MinOp: jlax.min, lax.Atan2Op: jlax.atan2, lax.NextafterOp: jlax.nextafter,
    lax.AndOp: jlax.bitwise_and, lax.OrOp: jlax.bitwise_or, lax.XorOp: jlax.bitwise_xor,
    lax.ShiftLeftOp: jlax.shift_left, lax.ShiftRightLogicalOp: jlax.shift_right_logical,
    lax.ShiftRightArithmeticOp: jlax.shift_right_arithmetic, lax.EqOp: jlax.eq,
    lax.NeOp: jlax.ne, lax.LtOp: jlax.lt, lax.LeOp: jlax.le, lax.GtOp: jlax.gt, lax.GeOp: jlax.ge,
    lax.ComplexOp: jlax.complex,
}
for _cls, _fn in UNARY.items():
    _register(_cls, lambda op, x, _fn=_fn: _fn(x))
for _cls, _fn in BINARY.items():
    _register(_cls, lambda op, x, y, _fn=_fn: _fn(x, y))

_register(lax.IntegerPowOp, lambda op, x: jlax.integer_pow(x, op.int("y")))
_register(lax.ReducePrecisionOp, lambda op, x: jlax.reduce_precision(
    x, op.int("exponent_bits"), op.int("mantissa_bits")))
# The primitive, bound: the wrapper warns (ComplexWarning) when it drops an imaginary part,
# which the user's own conversion has already warned about when JAX traced it.
_register(lax.ConvertElementTypeOp, lambda op, x: jlax.convert_element_type_p.bind(
    x, new_dtype=_dtype(op.result), weak_type=False, sharding=None))
_register(lax.BitcastConvertTypeOp,
          lambda op, x: jlax.bitcast_convert_type(x, _dtype(op.result)))
_register(lax.FftOp, lambda op, x: jlax.fft(x, op.fft_type.data, op.ints("fft_lengths")))
_register(lax.SelectNOp, lambda op, which, *cases: jlax.select_n(which, *cases))
_register(lax.ClampOp, lambda op, lo, x, hi: jlax.clamp(lo, x, hi))


@functools.lru_cache(maxsize=4096)
def _constant(value) -> np.ndarray:
    return constant_array(value)


_register(lax.ConstantOp, lambda op: _constant(op.value))
_register(lax.IotaOp, lambda op: jlax.broadcasted_iota(
    _dtype(op.result), lax.shape(op.result), op.int("dimension")))
_register(lax.BroadcastInDimOp, lambda op, x: jlax.broadcast_in_dim(
    x, lax.shape(op.result), op.ints("dims")))
_register(lax.ReshapeOp, lambda op, x: jlax.reshape(x, lax.shape(op.result)))
_register(lax.SqueezeOp, lambda op, x: jlax.squeeze(x, op.ints("dimensions")))
_register(lax.TransposeOp, lambda op, x: jlax.transpose(x, op.ints("permutation")))
_register(lax.RevOp, lambda op, x: jlax.rev(x, op.ints("dimensions")))
_register(lax.SliceOp, lambda op, x: jlax.slice(
    x, op.ints("start_indices"), op.ints("limit_indices"), op.ints("strides")))
_register(lax.PadOp, lambda op, x, v: jlax.pad(
    x, v, list(zip(op.ints("low"), op.ints("high"), op.ints("interior"), strict=True))))
_register(lax.ConcatenateOp, lambda op, *xs: jlax.concatenate(xs, op.int("dimension")))
_register(lax.SplitOp, lambda op, x: _results(op, jlax.split(x, op.ints("sizes"), op.int("axis"))))
# Bind the primitives: the `jax.lax` wrappers would wrap negative start indices a second time
# (the jaxpr already holds that arithmetic), where the primitive clamps them.
_register(lax.DynamicSliceOp, lambda op, x, *idx: jlax.dynamic_slice_p.bind(
    x, *idx, slice_sizes=op.ints("slice_sizes")))
_register(lax.DynamicUpdateSliceOp,
          lambda op, x, u, *idx: jlax.dynamic_update_slice_p.bind(x, u, *idx))


def _gather(op: lax.GatherOp, x, indices):
    dn = jlax.GatherDimensionNumbers(
        offset_dims=op.ints("offset_dims"), collapsed_slice_dims=op.ints("collapsed_slice_dims"),
        start_index_map=op.ints("start_index_map"),
        operand_batching_dims=op.ints("operand_batching_dims"),
        start_indices_batching_dims=op.ints("start_indices_batching_dims"))
    fill = op.properties.get("fill_value")
    return jlax.gather(
        x, indices, dn, op.ints("slice_sizes"), indices_are_sorted=op.flag("indices_are_sorted"),
        unique_indices=op.flag("unique_indices"), mode=jlax.GatherScatterMode(op.int("mode")),
        fill_value=fill.value.data if isinstance(fill, FloatAttr) else None)


_register(lax.GatherOp, _gather)

SCATTER_FNS = {lax.ScatterOp: jlax.scatter, lax.ScatterAddOp: jlax.scatter_add,
               lax.ScatterMulOp: jlax.scatter_mul, lax.ScatterMinOp: jlax.scatter_min,
               lax.ScatterMaxOp: jlax.scatter_max}


def _scatter(op: lax.ScatterBase, x, indices, updates):
    dn = jlax.ScatterDimensionNumbers(
        update_window_dims=op.ints("update_window_dims"),
        inserted_window_dims=op.ints("inserted_window_dims"),
        scatter_dims_to_operand_dims=op.ints("scatter_dims_to_operand_dims"),
        operand_batching_dims=op.ints("operand_batching_dims"),
        scatter_indices_batching_dims=op.ints("scatter_indices_batching_dims"))
    return SCATTER_FNS[type(op)](
        x, indices, updates, dn, indices_are_sorted=op.flag("indices_are_sorted"),
        unique_indices=op.flag("unique_indices"), mode=jlax.GatherScatterMode(op.int("mode")))


for _cls in SCATTER_FNS:
    _register(_cls, _scatter)

REDUCE_FNS = {lax.ReduceSumOp: jlax.reduce_sum_p, lax.ReduceProdOp: jlax.reduce_prod_p,
              lax.ReduceMaxOp: jlax.reduce_max_p, lax.ReduceMinOp: jlax.reduce_min_p,
              lax.ReduceAndOp: jlax.reduce_and_p, lax.ReduceOrOp: jlax.reduce_or_p,
              lax.ReduceXorOp: jlax.reduce_xor_p}


def _reduce(op: lax.ReduceOp, x):
    # The monoid reductions have no public single-primitive wrapper; bind the primitive
    # as jax.numpy does, so XLA gets the same reduce.
    prim = REDUCE_FNS[type(op)]
    axes = op.ints("axes")
    if prim in (jlax.reduce_sum_p, jlax.reduce_prod_p):
        return prim.bind(x, axes=axes, out_sharding=None)
    return prim.bind(x, axes=axes)


for _cls in REDUCE_FNS:
    _register(_cls, _reduce)
_register(lax.ArgmaxOp, lambda op, x: jlax.argmax(x, op.ints("axes")[0], _dtype(op.result)))
_register(lax.ArgminOp, lambda op, x: jlax.argmin(x, op.ints("axes")[0], _dtype(op.result)))

CUMULATIVE_FNS = {lax.CumsumOp: jlax.cumsum, lax.CumprodOp: jlax.cumprod,
                  lax.CummaxOp: jlax.cummax, lax.CumminOp: jlax.cummin,
                  lax.CumlogsumexpOp: jlax.cumlogsumexp}
for _cls, _fn in CUMULATIVE_FNS.items():
    _register(_cls, lambda op, x, _fn=_fn: _fn(x, op.int("axis"), op.flag("reverse")))

_register(lax.SortOp, lambda op, *xs: _results(op, jlax.sort(
    xs, dimension=op.int("dimension"), is_stable=op.flag("is_stable"),
    num_keys=op.int("num_keys"))))
_register(lax.TopKOp, lambda op, x: tuple(jlax.top_k(x, op.int("k"))))


WINDOW_PRIMITIVES = {
    lax.ReduceWindowSumOp: jlax.reduce_window_sum_p,
    lax.ReduceWindowMaxOp: jlax.reduce_window_max_p,
    lax.ReduceWindowMinOp: jlax.reduce_window_min_p,
    lax.SelectAndScatterAddOp: jlax.select_and_scatter_add_p,
    lax.SelectAndGatherAddOp: jlax.select_and_gather_add_p}
SELECT_PRIMITIVES = {"ge": jlax.ge_p, "le": jlax.le_p}


def _window(op: lax.WindowOp, *xs):
    # The primitives themselves: `jax.lax.reduce_window` would pick them again from a
    # computation and an init value, and the select_and_* ones have no public wrapper.
    params: dict[str, Any] = {"window_dimensions": op.ints("window_dimensions"),
                              "window_strides": op.ints("window_strides"),
                              "padding": op.padding}
    if op.DILATED:
        params["base_dilation"], params["window_dilation"] = op.dilations()
    if "select" in op.properties:
        params["select_prim"] = SELECT_PRIMITIVES[op.select.data]  # type: ignore[attr-defined]
    return WINDOW_PRIMITIVES[type(op)].bind(*xs, **params)


for _cls in WINDOW_PRIMITIVES:
    _register(_cls, _window)


def _precision(op: lax.DotGeneralOp) -> Any:
    p = op.precision
    return None if p is None else jlax.Precision(p.data.split(".")[-1])


_register(lax.DotGeneralOp, lambda op, a, b: jlax.dot_general(
    a, b, ((op.ints("lhs_contracting"), op.ints("rhs_contracting")),
           (op.ints("lhs_batch"), op.ints("rhs_batch"))),
    precision=_precision(op), preferred_element_type=_dtype(op.result)))


def _generic(op: lax.GenericOp, *args):
    prim = primitive(op.prim.data)
    outs = prim.bind(*args, **params.params_from_attr(op.params))
    if prim.multiple_results and len(op.results) == 1:
        return outs[0]
    return tuple(outs) if prim.multiple_results else outs


_register(lax.GenericOp, _generic)


_SHARDINGS: dict[tuple[str, str], Any] = {}


def _named_sharding(op: lax.ShardingConstraintOp) -> Any:
    """The `NamedSharding` of `op`, its mesh rebuilt from the device ids the IR names."""
    key = (str(op.mesh), str(op.spec))
    found = _SHARDINGS.get(key)
    if found is None:  # a race only builds an equal sharding twice
        found = _SHARDINGS[key] = NamedSharding(to_mesh(op.mesh), to_spec(op.spec))
    return found


_register(lax.ShardingConstraintOp,
          lambda op, x: jlax.with_sharding_constraint(x, _named_sharding(op)))


# Control flow: JAX's own loops and branches, each region evaluated by the walker inside the
# function JAX traces (so a region's ops become the body of the XLA loop or conditional).
def _cond(op: lax.CondOp, index, *, run):
    if np.dtype(_dtype(op.index)) == np.bool_:
        index = jlax.convert_element_type(index, np.int32)
    branches = [lambda r=r: tuple(run(r, ())) for r in op.branches]
    return _results(op, jlax.switch(index, branches))


def _while(op: lax.WhileOp, *init, run):
    outs = jlax.while_loop(lambda c: run(op.cond, c)[0], lambda c: tuple(run(op.body, c)),
                           tuple(init))
    return _results(op, outs)


def _scan(op: lax.ScanOp, *args, run):
    n = op.num_carry

    def step(carry: tuple, x: tuple) -> tuple[tuple, tuple]:
        outs = run(op.body, (*carry, *x))
        return tuple(outs[:n]), tuple(outs[n:])

    carry, ys = jlax.scan(step, tuple(args[:n]), tuple(args[n:]), length=op.int("length"),
                          reverse=op.flag("reverse"), unroll=op.int("unroll"))
    return _results(op, (*carry, *ys))


_register(lax.CondOp, _cond)
_register(lax.WhileOp, _while)
_register(lax.ScanOp, _scan)
# Host callbacks (print, debug/pure/io callbacks): their own module.
LAX_RULES.update(EFFECT_RULES)
LAX_RULES.update(KEY_RULES)  # lax.random_wrap, random_unwrap (key_rules.py)
