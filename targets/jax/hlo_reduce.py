"""StableHLO emission rules of reductions, arg-reductions, cumulative ops, sort and top_k (see
`hlo.py`): op class -> text, written as JAX's own lowering writes each primitive (JAX 0.10.2,
`lax.py`, `control_flow/loops.py`, `windowed_reductions.py`), so both emissions compile to the
same XLA computation. `HLO_REDUCE_RULES` joins the emission table in `rules.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import Attribute

from tiers.dialects import dtypes, lax
from tiers.targets.jax.hlo import (
    EmitRule,
    HloEmitter,
    compare,
    full,
    i64s,
    minmax,
    scalar_text,
)

HLO_REDUCE_RULES: dict[type, EmitRule] = {}

I1 = "tensor<i1>"


def identity(kind: str, element: Any) -> np.ndarray:
    """The identities of `lax._get_*_identity` (the init of a reduction of `kind`)."""
    d = dtypes.to_numpy(element)
    if kind in ("max", "min"):
        sign = -1 if kind == "max" else 1
        if dtypes.is_inexact(element):  # complex: (-inf, 0) for max
            value: Any = dtypes.infinity(d, sign)
        elif dtypes.is_bool(element):
            value = kind == "min"
        else:
            value = np.iinfo(d).min if kind == "max" else np.iinfo(d).max
        return np.asarray(value, d)
    if kind == "and":
        return np.array(-1).astype(d)
    return np.asarray(1 if kind == "prod" else 0, d)


# A reducer of a region's two scalar operands, given their element type.
Reducer = Callable[[HloEmitter, Attribute, str, str], str]


def reducer(name: str) -> Reducer:
    """A reducer: StableHLO op `name`, or `minmax`'s "max"/"min" (complex numbers ordered)."""
    if name in ("max", "min"):
        return lambda em, element, a, b: minmax(em, name, a, b, element)
    return lambda em, element, a, b: em.one(name, [a, b], em.types[a])


# -- reductions: `_unary_reduce_lower` -----------------------------------------------------

REDUCERS = {
    lax.ReduceSumOp: ("sum", "stablehlo.add"), lax.ReduceProdOp: ("prod", "stablehlo.multiply"),
    lax.ReduceMaxOp: ("max", "max"), lax.ReduceMinOp: ("min", "min"),
    lax.ReduceAndOp: ("and", "stablehlo.and"), lax.ReduceOrOp: ("or", "stablehlo.or"),
    lax.ReduceXorOp: ("xor", "stablehlo.xor"),
}


def _reduce(em: HloEmitter, op: lax.ReduceOp, x: str) -> str:
    kind, name = REDUCERS[type(op)]
    element = lax.elem(op.operand)
    init = em.constant(identity(kind, element))
    scalar, combine = scalar_text(element), reducer(name)
    body = em.region([scalar, scalar], lambda a: [combine(em, element, *a)])
    return em.op("stablehlo.reduce", [x, init], [op.results[0].type],
               f"dimensions = {i64s(op.ints('axes'))}", [body])[0]


HLO_REDUCE_RULES.update(dict.fromkeys(REDUCERS, _reduce))


# -- argmax / argmin: `_compute_argminmax`, a variadic reduce that prefers NaN, then the
# first index on ties (JAX lowers it as a private function; inline here, XLA inlines it) --


def _arg_reduce(em: HloEmitter, op: lax.ArgReduceOp, x: str) -> str:
    is_max = isinstance(op, lax.ArgmaxOp)
    (axis,) = op.ints("axes")
    element, index = lax.elem(op.operand), lax.elem(op.result)
    iota = em.one("stablehlo.iota", [], TensorType(index, lax.shape(op.operand)),
                  f"iota_dimension = {axis} : i64")
    init = em.constant(identity("max" if is_max else "min", element))
    zero = em.scalar(0, index)
    vt, it = scalar_text(element), scalar_text(index)

    def body(a: list[str]) -> list[str]:
        op_val, op_index, acc_val, acc_index = a
        better = compare(em, "GT" if is_max else "LT", op_val, acc_val, element)
        pick_val = em.one("stablehlo.or", [better, compare(em, "NE", op_val, op_val, element)],
                          I1)
        tie = em.one("stablehlo.and", [compare(em, "EQ", op_val, acc_val, element),
                                       compare(em, "LT", op_index, acc_index, index)], I1)
        pick_index = em.one("stablehlo.or", [pick_val, tie], I1)
        return [em.one("stablehlo.select", [pick_val, op_val, acc_val], vt),
                em.one("stablehlo.select", [pick_index, op_index, acc_index], it)]

    region = em.region([vt, it, vt, it], body)
    out_vals = TensorType(element, lax.shape(op.result))
    return em.op("stablehlo.reduce", [x, iota, init, zero], [out_vals, op.results[0].type],
               f"dimensions = {i64s([axis])}", [region])[1]


HLO_REDUCE_RULES[lax.ArgmaxOp] = _arg_reduce
HLO_REDUCE_RULES[lax.ArgminOp] = _arg_reduce


# -- cumulative ops: `cumred_reduce_window_impl`, a reduce_window over the whole axis padded
# on one side. It is JAX's lowering on every platform: the GPU rule of cumsum
# (`_cumred_gpu_lowering`) falls back to it, since `_is_supported_cumred` returns False. ----


def _logaddexp(em: HloEmitter, element: Attribute, x: str, y: str) -> str:
    """`lax.other.logaddexp` of real floats."""
    t = em.types[x]
    amax = em.one("stablehlo.maximum", [x, y], t)
    delta = em.one("stablehlo.subtract", [x, y], t)
    isnan = compare(em, "NE", delta, delta, element)
    both = em.one("stablehlo.add", [x, y], t)
    e = delta
    for name in ("abs", "negate", "exponential", "log_plus_one"):
        e = em.one(f"stablehlo.{name}", [e], t)
    return em.one("stablehlo.select", [isnan, both, em.one("stablehlo.add", [amax, e], t)], t)


# op -> (identity, reducer, whether the init is `full_like_aval` (a broadcast_in_dim of the
# constant: reduce_window_{sum,max,min}_p) rather than a constant (the generic reduce_window_p))
CUMULATIVE: dict[type, tuple[str, Reducer, bool]] = {
    lax.CumsumOp: ("sum", reducer("stablehlo.add"), True),
    lax.CumprodOp: ("prod", reducer("stablehlo.multiply"), False),
    lax.CummaxOp: ("max", reducer("max"), True),
    lax.CumminOp: ("min", reducer("min"), True),
    lax.CumlogsumexpOp: ("max", _logaddexp, False),  # init -inf
}


def _cumulative(em: HloEmitter, op: lax.CumulativeOp, x: str) -> str:
    kind, combine, broadcast = CUMULATIVE[type(op)]
    shape, axis = lax.shape(op.operand), op.int("axis")
    n = shape[axis]
    if n == 0:
        return x
    element = lax.elem(op.operand)
    if isinstance(op, lax.CumlogsumexpOp) and dtypes.is_complex(element):
        return em.fallback(op, [x])[0]  # JAX's complex logaddexp: not written out here
    scalar = scalar_text(element)
    value = identity(kind, element)
    init = full(em, value, TensorType(element, ())) if broadcast else em.constant(value)
    padding = [[0, 0] for _ in shape]
    padding[axis] = [0, n - 1] if op.flag("reverse") else [n - 1, 0]
    window = [1] * len(shape)
    window[axis] = n
    ones = i64s([1] * len(shape))
    attrs = (f"base_dilations = {ones}, padding = dense<{padding}> : "
             f"tensor<{len(shape)}x2xi64>, window_dilations = {ones}, "
             f"window_dimensions = {i64s(window)}, window_strides = {ones}")
    body = em.region([scalar, scalar], lambda a: [combine(em, element, *a)])
    return em.op("stablehlo.reduce_window", [x, init], [op.results[0].type], attrs, [body])[0]


HLO_REDUCE_RULES.update(dict.fromkeys(CUMULATIVE, _cumulative))


# -- sort and top_k --------------------------------------------------------------------------


def _sort_key(em: HloEmitter, x: str, element: Any) -> str:
    """`_canonicalize_float_for_sort`: -0.0 to 0.0 and every NaN to one NaN, so the total
    order comparison treats them as equal."""
    if not dtypes.is_float(element):
        return x
    t = em.types[x]
    is_zero = compare(em, "EQ", x, em.scalar(0, element), element)
    x0 = em.one("stablehlo.select", [is_zero, em.scalar(0, element), x], t)
    isnan = compare(em, "NE", x, x, element)
    return em.one("stablehlo.select", [isnan, em.scalar(np.nan, element), x0], t)


def _sort(em: HloEmitter, op: lax.SortOp, *xs: str) -> list[str]:
    """`_sort_lower` with `_sort_lt_comparator`: lexicographic over the first `num_keys`
    operands, keys compared in total order."""
    elements = [lax.elem(x) for x in op.inputs]
    scalars = [scalar_text(e) for e in elements]

    def parts(x: str, e: Any) -> list[tuple[Any, str]]:
        # `_operands_to_keys`: a complex key is two, its real part, then its imaginary part.
        if not dtypes.is_complex(e):
            return [(e, x)]
        p = dtypes.real_part(e)
        return [(p, em.one(f"stablehlo.{n}", [x], scalar_text(p))) for n in ("real", "imag")]

    def body(a: list[str]) -> list[str]:
        keys = []
        for i, e in enumerate(elements[:op.int("num_keys")]):
            for (f, xk), (_, yk) in zip(parts(a[2 * i], e), parts(a[2 * i + 1], e)):
                keys.append((f, _sort_key(em, xk, f), _sort_key(em, yk, f)))
        p = None
        for e, xk, yk in reversed(keys):
            lt = compare(em, "LT", xk, yk, e, total=True)
            p = lt if p is None else em.one("stablehlo.or", [lt, em.one(
                "stablehlo.and", [compare(em, "EQ", xk, yk, e, total=True), p], I1)], I1)
        assert p is not None  # a sort has at least one key
        return [p]

    region = em.region([t for s in scalars for t in (s, s)], body)
    stable = "true" if op.flag("is_stable") else "false"
    return em.op("stablehlo.sort", xs, [r.type for r in op.results],
               f"dimension = {op.int('dimension')} : i64, is_stable = {stable}", [region])


HLO_REDUCE_RULES[lax.SortOp] = _sort
HLO_REDUCE_RULES[lax.TopKOp] = lambda em, op, x: em.op(  # the last axis: no transposes
    "chlo.top_k", [x], [r.type for r in op.results], f"k = {op.int('k')} : i64")
