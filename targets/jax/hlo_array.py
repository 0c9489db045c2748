"""StableHLO emission rules of `array` ops (see `hlo.py`): op class -> text, written as JAX
lowers the definitions in `array_rules.py` (`jax.nn`, `jnp.mean`, `jnp.var`, `jnp.matmul`,
`jnp.einsum`), op for op, so both emissions compile to the same XLA computation.
`HLO_ARRAY_RULES` joins the emission table in `rules.py`.

`Builder` holds the few jnp-like steps those definitions take, each writing what JAX's
lowering writes for it (`hlo_regions.py` uses it too). The private functions JAX wraps some
of them in (`jit`-ed `relu`, `_var`, `_where`, ...) are written inline: XLA inlines calls.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import ml_dtypes
import numpy as np
from jax._src.lax.lax import canonicalize_precision

from tiers.dialects import array, dtypes
from tiers.targets.jax.array_rules import large_negative
from tiers.targets.jax.hlo import (
    EmitRule,
    HloEmitter,
    broadcast_in_dim,
    compare,
    dot_general,
    i64s,
    tensor_text,
    type_text,
    unit_slice,
    x64_enabled,
)

# The numpy dtype of each element type's text, to read a value's dtype off its type.
_NUMPY = {type_text(dtypes.element_type(d)): np.dtype(d) for d in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
    np.uint64, np.float16, ml_dtypes.bfloat16, np.float32, np.float64, np.complex64,
    np.complex128, *dtypes.FLOAT8_DTYPES)}
_HALF = (np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16))


def weak_int() -> np.dtype:
    """The dtype of a Python int in a JAX trace (a weakly typed literal)."""
    return np.dtype(np.int64 if x64_enabled() else np.int32)


def weak_float() -> np.dtype:
    return np.dtype(np.float64 if x64_enabled() else np.float32)


def _split_type(text: str) -> tuple[tuple[int, ...], str]:
    """(shape, element type text) of `tensor<2x3xf32>` (an `x` can be in the element type:
    `tensor<3xcomplex<f32>>`)."""
    body, dims = text[7:-1], list[int]()
    while True:
        head, sep, rest = body.partition("x")
        if not sep or not head.isdigit():
            return tuple(dims), body
        dims.append(int(head))
        body = rest


class Builder:
    """jnp-like steps over an emitter; values are names whose types `em.types` holds. A
    Python or numpy scalar operand of `binary` is a literal in the other operand's dtype:
    JAX writes a literal as a constant at its use, broadcast like any rank-0 operand."""

    def __init__(self, em: HloEmitter):
        self.em = em

    def shape(self, x: str) -> tuple[int, ...]:
        return _split_type(self.em.types[x])[0]

    def dtype(self, x: str) -> np.dtype:
        return _NUMPY[_split_type(self.em.types[x])[1]]

    def op(self, name: str, xs: Sequence[str], shape: Sequence[int], dtype: np.dtype,
           attrs: str = "", regions: Sequence[str] = ()) -> str:
        return self.em.one(name, xs, tensor_text(shape, dtype), attrs, regions)

    def const(self, value: Any, dtype: np.dtype) -> str:
        return self.em.constant(np.asarray(value, dtype))

    def unary(self, name: str, x: str, dtype: np.dtype | None = None) -> str:
        return self.op(name, [x], self.shape(x), dtype or self.dtype(x))

    def bcast(self, x: str, shape: Sequence[int], dims: Sequence[int]) -> str:
        return broadcast_in_dim(self.em, x, tensor_text(shape, self.dtype(x)), dims)

    def to_shape(self, x: str, shape: Sequence[int]) -> str:
        """`x` broadcast as a lax op broadcasts its rank-0 and size-1 operands."""
        s = self.shape(x)
        return x if s == tuple(shape) else self.bcast(x, shape, range(len(s)))

    def binary(self, name: str, a: Any, b: Any, dtype: np.dtype | None = None) -> str:
        dt = self.dtype(a if isinstance(a, str) else b)
        a, b = (v if isinstance(v, str) else self.const(v, dt) for v in (a, b))
        sa, sb = self.shape(a), self.shape(b)
        shape = sb if not sa else sa if not sb else tuple(p if q == 1 else q
                                                          for p, q in zip(sa, sb))
        return self.op(name, [self.to_shape(a, shape), self.to_shape(b, shape)], shape,
                       dtype or dt)

    def compare(self, direction: str, a: str, b: Any) -> str:
        dt = self.dtype(a)
        b = b if isinstance(b, str) else self.const(b, dt)
        return compare(self.em, direction, a, b, dtypes.element_type(dt), self.shape(a))

    def select(self, pred: str, a: str, b: str) -> str:
        return self.op("stablehlo.select", [pred, a, b], self.shape(a), self.dtype(a))

    def convert(self, x: str, dtype: np.dtype) -> str:
        return x if self.dtype(x) == dtype else self.unary("stablehlo.convert", x, dtype)

    def reshape(self, x: str, shape: Sequence[int]) -> str:
        return x if self.shape(x) == tuple(shape) else self.op(
            "stablehlo.reshape", [x], shape, self.dtype(x))

    def expand(self, x: str, axes: Sequence[int]) -> str:
        """`lax.expand_dims`: size-1 dimensions at `axes` (of the result)."""
        rank = len(self.shape(x)) + len(axes)
        kept = [d for d in range(rank) if d not in axes]
        shape = [1] * rank
        for d, n in zip(kept, self.shape(x)):
            shape[d] = n
        return self.bcast(x, shape, kept)

    def reduce(self, x: str, axes: Sequence[int], body: str, init: Any) -> str:
        """`stablehlo.reduce` of `x` over `axes` by the binary op `body`, from `init`."""
        dt, em = self.dtype(x), self.em
        start = self.const(init, dt)
        scalar = tensor_text((), dt)
        region = em.region([scalar, scalar], lambda a: [em.one(body, a, scalar)])
        shape = [d for i, d in enumerate(self.shape(x)) if i not in axes]
        return self.op("stablehlo.reduce", [x, start], shape, dt,
                       f"dimensions = {i64s(axes)}", [region])

    def slice(self, x: str, start: Sequence[int], limit: Sequence[int]) -> str:
        shape = [b - a for a, b in zip(start, limit)]
        return unit_slice(self.em, x, tensor_text(shape, self.dtype(x)), start, limit)

    def concat(self, xs: Sequence[str], dim: int = 0) -> str:
        """`lax.concatenate` (one operand is itself)."""
        if len(xs) == 1:
            return xs[0]
        shape = list(self.shape(xs[0]))
        shape[dim] = sum(self.shape(x)[dim] for x in xs)
        return self.op("stablehlo.concatenate", xs, shape, self.dtype(xs[0]),
                       f"dimension = {dim} : i64")

    def dot(self, a: str, b: str, contract: tuple[Sequence[int], Sequence[int]],
            batch: tuple[Sequence[int], Sequence[int]], precision: Sequence[str]) -> str:
        """`lax.dot_general` (result: batch, then free dims of `a`, then of `b`)."""
        sa, sb = self.shape(a), self.shape(b)
        free_a = [d for i, d in enumerate(sa) if i not in (*contract[0], *batch[0])]
        free_b = [d for i, d in enumerate(sb) if i not in (*contract[1], *batch[1])]
        shape = [sa[i] for i in batch[0]] + free_a + free_b
        return dot_general(self.em, a, b, tensor_text(shape, self.dtype(a)), batch, contract,
                           precision)


# ---------------------------------------------------------------------------------------
# jax.numpy's reductions, as `jnp.sum` / `jnp.max` / `jnp.mean` / `jnp.var` write them.
# ---------------------------------------------------------------------------------------


def _upcast(dtype: np.dtype) -> np.dtype:
    """jnp sums f16 and bf16 in f32 (`_upcast_f16`)."""
    return np.dtype(np.float32) if dtype in _HALF else dtype


def jsum(b: Builder, x: str, axes: Sequence[int], keepdims: bool,
         dtype: np.dtype | None = None) -> str:
    out = dtype or b.dtype(x)
    r = b.reduce(b.convert(x, _upcast(out)), axes, "stablehlo.add", 0)
    return b.convert(b.expand(r, axes) if keepdims else r, out)


def jmax(b: Builder, x: str, axes: Sequence[int], keepdims: bool) -> str:
    """`jnp.max(x, axes, initial=-inf, keepdims)`."""
    r = b.binary("stablehlo.maximum", -np.inf, b.reduce(x, axes, "stablehlo.maximum", -np.inf))
    return b.expand(r, axes) if keepdims else r


def _count(b: Builder, x: str, axes: Sequence[int]) -> int:
    return math.prod(b.shape(x)[a] for a in axes)


def jmean(b: Builder, x: str, axes: Sequence[int], keepdims: bool) -> str:
    dt = b.dtype(x)
    total = jsum(b, x, axes, keepdims, _upcast(dt))
    return b.convert(b.binary("stablehlo.divide", total, _count(b, x, axes)), dt)


def jvar(b: Builder, x: str, axes: Sequence[int], ddof: int, keepdims: bool) -> str:
    """`jnp.var`: NaN where the count less `ddof` is not positive (ddof is an argument of
    the `jit`-ed `_var`, so JAX writes count - ddof as ops, which XLA folds)."""
    dt, n = b.dtype(x), _count(b, x, axes)
    comp = _upcast(dt)
    a = b.convert(x, comp)
    mean = b.binary("stablehlo.divide", b.expand(b.reduce(a, axes, "stablehlo.add", 0), axes), n)
    centered = b.unary("chlo.square", b.binary("stablehlo.subtract", a, mean))
    normalizer = b.binary("stablehlo.subtract", n, b.convert(b.const(ddof, weak_int()), comp))
    total = jsum(b, centered, axes, keepdims, comp)
    result = b.convert(b.binary("stablehlo.divide", total, normalizer), dt)
    positive = b.compare("GT", normalizer, 0)
    nan = b.convert(b.const(np.nan, weak_float()), dt)
    return b.select(positive, result, b.to_shape(nan, b.shape(result)))


# ---------------------------------------------------------------------------------------
# The ops.
# ---------------------------------------------------------------------------------------


def _relu(b: Builder, op: Any, x: str) -> str:
    return b.binary("stablehlo.maximum", x, 0)


def _gelu(b: Builder, op: Any, x: str) -> str:
    dt = b.dtype(x)
    if op.flag("approximate"):
        cube = b.binary("stablehlo.multiply", b.binary("stablehlo.multiply", x, x), x)
        inner = b.binary("stablehlo.add", x, b.binary("stablehlo.multiply", 0.044715, cube))
        t = b.unary("stablehlo.tanh", b.binary(
            "stablehlo.multiply", np.sqrt(2 / np.pi).astype(dt), inner))
        cdf = b.binary("stablehlo.multiply", 0.5, b.binary("stablehlo.add", 1.0, t))
        return b.binary("stablehlo.multiply", x, cdf)
    half_x = b.binary("stablehlo.multiply", 0.5, x)
    arg = b.binary("stablehlo.multiply", b.unary("stablehlo.negate", x),
                   np.sqrt(0.5).astype(dt))
    return b.binary("stablehlo.multiply", half_x, b.unary("chlo.erfc", arg))


def _silu(b: Builder, op: Any, x: str) -> str:
    # lax.logistic lowers to 1 / (1 + exp(-x))
    e = b.unary("stablehlo.exponential", b.unary("stablehlo.negate", x))
    sigmoid = b.binary("stablehlo.divide", 1, b.binary("stablehlo.add", 1, e))
    return b.binary("stablehlo.multiply", x, sigmoid)


def softmax(b: Builder, x: str, axis: int) -> str:
    m = jmax(b, x, [axis], True)
    unnormalized = b.unary("stablehlo.exponential", b.binary("stablehlo.subtract", x, m))
    return b.binary("stablehlo.divide", unnormalized, jsum(b, unnormalized, [axis], True))


def _log_softmax(b: Builder, op: Any, x: str) -> str:
    axes = [op.int("axis")]
    shifted = b.binary("stablehlo.subtract", x, jmax(b, x, axes, True))
    total = jsum(b, b.unary("stablehlo.exponential", shifted), axes, True)
    return b.binary("stablehlo.subtract", shifted, b.unary("stablehlo.log", total))


def _logsumexp(b: Builder, op: Any, x: str) -> str:
    axes = [op.int("axis")]
    amax = jmax(b, x, axes, False)
    finite = b.unary("stablehlo.is_finite", amax, np.dtype(np.bool_))
    amax = b.select(finite, amax, b.to_shape(b.const(0, b.dtype(amax)), b.shape(amax)))
    e = b.unary("stablehlo.exponential",
                b.binary("stablehlo.subtract", x, b.expand(amax, axes)))
    total = b.unary("stablehlo.abs", jsum(b, e, axes, False))
    return b.binary("stablehlo.add", b.unary("stablehlo.log", total), amax)


def _affine(b: Builder, y: str, params: Sequence[str], ops: Sequence[str], axis: int) -> str:
    shape = [1] * len(b.shape(y))
    shape[axis] = b.shape(y)[axis]
    for p, name in zip(params, ops):
        y = b.binary(name, y, b.reshape(p, shape))
    return y


def _layer_norm(b: Builder, op: Any, x: str, *affine: str) -> str:
    axis, dt = op.int("axis"), b.dtype(x)
    mean, var = jmean(b, x, [axis], True), jvar(b, x, [axis], 0, True)
    y = b.binary("stablehlo.divide", b.binary("stablehlo.subtract", x, mean), b.unary(
        "stablehlo.sqrt", b.binary("stablehlo.add", var, np.asarray(op.float("epsilon"), dt))))
    return _affine(b, y, affine, ["stablehlo.multiply", "stablehlo.add"], axis)


def _rms_norm(b: Builder, op: Any, x: str, *scale: str) -> str:
    axis, dt = op.int("axis"), b.dtype(x)
    ms = jmean(b, b.unary("chlo.square", x), [axis], True)
    y = b.binary("stablehlo.divide", x, b.unary(
        "stablehlo.sqrt", b.binary("stablehlo.add", ms, np.asarray(op.float("epsilon"), dt))))
    return _affine(b, y, scale, ["stablehlo.multiply"], axis)


def precision() -> tuple[str, ...] | None:
    """The operands' precisions of a `dot_general` without a precision, as the config sets
    them; None for a dot algorithm (left to the fallback)."""
    p = canonicalize_precision(None)
    if p is None:
        p = (jax.lax.Precision.DEFAULT,) * 2
    if not isinstance(p, tuple):
        return None
    return tuple(str(q) for q in p)


def _matmul(b: Builder, op: Any, x: str, y: str) -> str | list[str]:
    """`jnp.matmul` on operands of rank >= 2: size-1 batch dimensions are squeezed (and
    broadcast by the dot), equal ones batched, the result transposed back in order."""
    prec = precision()
    if prec is None:
        return b.em.fallback(op, [x, y])
    sa, sb = b.shape(x), b.shape(y)
    n = max(len(sa), len(sb)) - 2
    pa, pb = (None,) * (n - len(sa) + 2) + sa[:-2], (None,) * (n - len(sb) + 2) + sb[:-2]
    squeeze_a: list[int] = []
    squeeze_b: list[int] = []
    both: list[int] = []
    batch_a: list[int] = []
    batch_b: list[int] = []
    idx_batch: list[int] = []
    other_a: list[int] = []
    other_b: list[int] = []
    for i, (da, db) in enumerate(zip(pa, pb)):
        if da is None:
            other_b.append(i)
        elif db is None:
            other_a.append(i)
        elif da == 1 and db == 1:
            squeeze_a.append(len(idx_batch) + len(other_a) + len(squeeze_a))
            squeeze_b.append(len(idx_batch) + len(other_b) + len(squeeze_b))
            both.append(i)
        elif da == 1:
            other_b.append(i)
            squeeze_a.append(len(idx_batch) + len(other_a) + len(squeeze_a))
        elif db == 1:
            other_a.append(i)
            squeeze_b.append(len(idx_batch) + len(other_b) + len(squeeze_b))
        else:
            batch_a.append(len(idx_batch) + len(other_a))
            batch_b.append(len(idx_batch) + len(other_b))
            idx_batch.append(i)
    other_a.append(n)
    other_b.append(n + 1)
    perm = [int(p) for p in np.argsort(np.array(idx_batch + other_a + other_b, dtype=int))]
    x = b.reshape(x, [d for i, d in enumerate(sa) if i not in squeeze_a])
    y = b.reshape(y, [d for i, d in enumerate(sb) if i not in squeeze_b])
    out = b.dot(x, y, ([len(b.shape(x)) - 1], [len(b.shape(y)) - 2]), (batch_a, batch_b),
                prec)
    if perm != sorted(perm):
        shape = b.shape(out)
        out = b.op("stablehlo.transpose", [out], [shape[p] for p in perm], b.dtype(out),
                   f"permutation = {i64s(perm)}")
    return b.expand(out, both) if both else out


def _attention(b: Builder, op: Any, q: str, k: str, v: str, *mask: str) -> str | list[str]:
    """Two `jnp.einsum`s (dot_generals over the leading batch dims) around `jax.nn.softmax`
    of the scaled, masked logits."""
    prec = precision()
    if prec is None:
        return b.em.fallback(op, [q, k, v, *mask])
    n = len(b.shape(q)) - 2
    batch = (list(range(n)), list(range(n)))
    logits = b.binary("stablehlo.multiply", b.dot(q, k, ([n + 1], [n + 1]), batch, prec),
                      op.float("scale"))
    if mask:
        fill = b.const(large_negative(b.dtype(logits)), b.dtype(logits))
        logits = b.select(mask[0], logits, b.to_shape(fill, b.shape(logits)))
    return b.dot(softmax(b, logits, n + 1), v, ([n + 1], [n]), batch, prec)


def _rule(fn: Callable[..., Any]) -> EmitRule:
    return lambda em, op, *xs: fn(Builder(em), op, *xs)


HLO_ARRAY_RULES: dict[type, EmitRule] = {
    array.ReluOp: _rule(_relu),
    array.GeluOp: _rule(_gelu),
    array.SiluOp: _rule(_silu),
    array.SoftmaxOp: _rule(lambda b, op, x: softmax(b, x, op.int("axis"))),
    array.LogSoftmaxOp: _rule(_log_softmax),
    array.LogsumexpOp: _rule(_logsumexp),
    array.MeanOp: _rule(lambda b, op, x: jmean(b, x, op.ints("axes"), False)),
    array.VarOp: _rule(lambda b, op, x: jvar(b, x, op.ints("axes"), op.int("ddof"), False)),
    array.LayerNormOp: _rule(_layer_norm),
    array.RmsNormOp: _rule(_rms_norm),
    array.MatmulOp: _rule(_matmul),
    array.AttentionOp: _rule(_attention),
}
