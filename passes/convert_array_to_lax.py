"""`convert-array-to-lax`: decomposes every `array` op into the `lax` ops JAX emits for it.

Expects any IR; after it, no `array` op is left (checked: the pass fails naming the first
one it finds). Each decomposition is what `jax.nn` / `jnp` trace to after `canonicalize`,
in reduced (not keepdims) form, so `raise-lax-to-array` raises it back. Computation stays
in the operands' element type, as those functions do for float32 and float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter
from xdsl.utils.exceptions import PassFailedException

from tiers.dialects import array, dtypes, lax
from tiers.dialects.constants import dense
from tiers.passes.statistics import count
from tiers.targets.jax.array_rules import large_negative

_BF16 = dtypes.to_numpy(dtypes.element_type("bfloat16"))


class _Builder:
    """Collects the `lax` ops of one decomposition, in order."""

    def __init__(self, elem: Attribute):
        self.ops: list[Operation] = []
        self.elem = elem

    def add(self, op: Operation) -> SSAValue:
        self.ops.append(op)
        return op.results[0]

    def splat(self, value: float, like: SSAValue | Sequence[int]) -> SSAValue:
        """A constant of `value` broadcast to `like`'s shape, in the element type."""
        dtype = dtypes.to_numpy(self.elem)
        if dtype == _BF16:  # no bf16 literal in MLIR text: an f32 constant, converted
            c = self.add(lax.ConstantOp(dense(np.asarray(value, np.float32))))
            c = self.add(lax.ConvertElementTypeOp(c, TensorType(self.elem, [])))
        else:
            c = self.add(lax.ConstantOp(dense(np.asarray(value, dtype))))
        s = lax.shape(like) if isinstance(like, SSAValue) else tuple(like)
        return c if s == () else self.add(lax.BroadcastInDimOp(c, self._t(s), []))

    def _t(self, shape: Sequence[int]) -> TensorType:
        return TensorType(self.elem, list(shape))

    def un(self, cls: type, x: SSAValue) -> SSAValue:
        return self.add(cls(x))

    def bin(self, cls: type, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.add(cls(a, b))

    def reduce(self, cls: type, x: SSAValue, axes: Sequence[int]) -> SSAValue:
        return self.add(cls(x, list(axes)))

    def expand(self, r: SSAValue, axes: Sequence[int], full: Sequence[int]) -> SSAValue:
        """`r` (reduced along `axes`) broadcast back to `full`."""
        kept = [i for i in range(len(full)) if i not in axes]
        return self.add(lax.BroadcastInDimOp(r, self._t(full), kept))

    def along(self, p: SSAValue, axis: int, full: Sequence[int]) -> SSAValue:
        """A 1-D scale or bias broadcast along `axis` of `full`."""
        return self.add(lax.BroadcastInDimOp(p, self._t(full), [axis]))

    def dot(self, a: SSAValue, b: SSAValue, lc: int, rc: int, batch: int) -> SSAValue:
        """dot_general contracting a's dim `lc` with b's dim `rc`, the first `batch` dims
        of both being batch dims."""
        sa, sb = lax.shape(a), lax.shape(b)
        out = (*sa[:batch], *(d for i, d in enumerate(sa) if i >= batch and i != lc),
               *(d for i, d in enumerate(sb) if i >= batch and i != rc))
        return self.add(lax.DotGeneralOp.build(
            operands=[a, b], result_types=[self._t(out)],
            properties={"lhs_contracting": lax.ints([lc]), "rhs_contracting": lax.ints([rc]),
                        "lhs_batch": lax.ints(range(batch)),
                        "rhs_batch": lax.ints(range(batch))}))


def _max(b: _Builder, x: SSAValue, axes: Sequence[int]) -> SSAValue:
    # max(reduce_max(x), -inf): jnp.max(initial=-inf)
    m = b.reduce(lax.ReduceMaxOp, x, axes)
    return b.bin(lax.MaxOp, m, b.splat(-math.inf, m))


def _softmax(b: _Builder, x: SSAValue, axis: int) -> SSAValue:
    # e / expand(reduce_sum(e)), e = exp(x - expand(max(x)))
    full = lax.shape(x)
    e = b.un(lax.ExpOp, b.bin(lax.SubOp, x, b.expand(_max(b, x, [axis]), [axis], full)))
    return b.bin(lax.DivOp, e, b.expand(b.reduce(lax.ReduceSumOp, e, [axis]), [axis], full))


def _log_softmax(b: _Builder, op: array.LogSoftmaxOp, x: SSAValue) -> SSAValue:
    # s - expand(log(reduce_sum(exp(s)))), s = x - expand(max(x))
    axis, full = op.int("axis"), lax.shape(x)
    s = b.bin(lax.SubOp, x, b.expand(_max(b, x, [axis]), [axis], full))
    total = b.reduce(lax.ReduceSumOp, b.un(lax.ExpOp, s), [axis])
    return b.bin(lax.SubOp, s, b.expand(b.un(lax.LogOp, total), [axis], full))


def _logsumexp(b: _Builder, op: array.LogsumexpOp, x: SSAValue) -> SSAValue:
    # log(|reduce_sum(exp(x - expand(c)))|) + c, c = select(is_finite(mx), mx, 0), mx = max(x)
    axis, full = op.int("axis"), lax.shape(x)
    mx = _max(b, x, [axis])
    finite = b.add(lax.IsFiniteOp(mx, TensorType(dtypes.element_type(np.bool_), lax.shape(mx))))
    c = b.add(lax.SelectNOp(finite, b.splat(0.0, mx), mx))
    e = b.un(lax.ExpOp, b.bin(lax.SubOp, x, b.expand(c, [axis], full)))
    total = b.un(lax.AbsOp, b.reduce(lax.ReduceSumOp, e, [axis]))
    return b.bin(lax.AddOp, b.un(lax.LogOp, total), c)


def _mean(b: _Builder, x: SSAValue, axes: Sequence[int]) -> SSAValue:
    # reduce_sum(x) / n
    total = b.reduce(lax.ReduceSumOp, x, axes)
    return b.bin(lax.DivOp, total, b.splat(math.prod(lax.shape(x)[a] for a in axes), total))


def _centered(b: _Builder, x: SSAValue, axes: Sequence[int]) -> SSAValue:
    # x - expand(mean(x))
    return b.bin(lax.SubOp, x, b.expand(_mean(b, x, axes), axes, lax.shape(x)))


def _var(b: _Builder, x: SSAValue, axes: Sequence[int], ddof: int) -> SSAValue:
    # reduce_sum(square(x - expand(mean(x)))) / (n - ddof); NaN when n <= ddof (a constant)
    n = math.prod(lax.shape(x)[a] for a in axes)
    if n <= ddof:
        return b.splat(math.nan, [d for i, d in enumerate(lax.shape(x)) if i not in axes])
    total = b.reduce(lax.ReduceSumOp, b.un(lax.SquareOp, _centered(b, x, axes)), axes)
    return b.bin(lax.DivOp, total, b.splat(n - ddof, total))


def _normalize(b: _Builder, d: SSAValue, s: SSAValue, eps: float, axis: int) -> SSAValue:
    # d / expand(sqrt(s + eps))
    root = b.un(lax.SqrtOp, b.bin(lax.AddOp, s, b.splat(eps, s)))
    return b.bin(lax.DivOp, d, b.expand(root, [axis], lax.shape(d)))


def _layer_norm(b: _Builder, op: array.LayerNormOp, x: SSAValue, *affine: SSAValue) -> SSAValue:
    # centered(x) / expand(sqrt(var(x) + eps)) * expand(scale) + expand(bias)
    axis, full = op.int("axis"), lax.shape(x)
    d = _centered(b, x, [axis])
    var = b.bin(lax.DivOp, b.reduce(lax.ReduceSumOp, b.un(lax.SquareOp, d), [axis]),
                b.splat(full[axis], _reduced(full, axis)))
    y = _normalize(b, d, var, op.float("epsilon"), axis)
    for cls, p in zip((lax.MulOp, lax.AddOp), affine, strict=False):
        y = b.bin(cls, y, b.along(p, axis, full))
    return y


def _reduced(full: Sequence[int], axis: int) -> tuple[int, ...]:
    return tuple(d for i, d in enumerate(full) if i != axis)


def _rms_norm(b: _Builder, op: array.RmsNormOp, x: SSAValue, *scale: SSAValue) -> SSAValue:
    # x / expand(sqrt(mean(square(x)) + eps)) * expand(scale)
    axis = op.int("axis")
    y = _normalize(b, x, _mean(b, b.un(lax.SquareOp, x), [axis]), op.float("epsilon"), axis)
    return b.bin(lax.MulOp, y, b.along(scale[0], axis, lax.shape(x))) if scale else y


def _matmul(b: _Builder, op: array.MatmulOp, x: SSAValue, y: SSAValue) -> SSAValue:
    # an unbatched rhs contracts directly (as jnp.matmul does); otherwise both operands are
    # broadcast to the result's batch dims, which become dot_general batch dims
    sx, sy = lax.shape(x), lax.shape(y)
    if len(sy) == 2:
        return b.dot(x, y, len(sx) - 1, 0, 0)
    batch = lax.shape(op.result)[:-2]
    n = len(batch)

    def widen(v: SSAValue, s: tuple[int, ...]) -> SSAValue:
        want = (*batch, *s[-2:])
        if s == want:
            return v
        dims = range(len(want) - len(s), len(want))
        return b.add(lax.BroadcastInDimOp(v, b._t(want), dims))

    return b.dot(widen(x, sx), widen(y, sy), n + 1, n, n)


def _attention(b: _Builder, op: array.AttentionOp, q: SSAValue, k: SSAValue, v: SSAValue,
               *mask: SSAValue) -> SSAValue:
    # softmax(select(mask, q k^T * scale, large_negative)) v, k^T by contracting last dims
    n = len(lax.shape(q)) - 2
    logits = b.dot(q, k, n + 1, n + 1, n)
    logits = b.bin(lax.MulOp, logits, b.splat(op.float("scale"), logits))
    if mask:
        fill = float(large_negative(dtypes.to_numpy(b.elem)))
        logits = b.add(lax.SelectNOp(mask[0], b.splat(fill, logits), logits))
    return b.dot(_softmax(b, logits, n + 1), v, n + 1, n, n)


def _gelu(b: _Builder, op: array.GeluOp, x: SSAValue) -> SSAValue:
    if op.flag("approximate"):
        # x * ((tanh((x + x^3 * 0.044715) * sqrt(2/pi)) + 1) * 0.5)
        cube = b.add(lax.IntegerPowOp(x, 3))
        poly = b.bin(lax.AddOp, x, b.bin(lax.MulOp, cube, b.splat(0.044715, x)))
        t = b.un(lax.TanhOp, b.bin(lax.MulOp, poly, b.splat(math.sqrt(2 / math.pi), x)))
        cdf = b.bin(lax.MulOp, b.bin(lax.AddOp, t, b.splat(1.0, x)), b.splat(0.5, x))
        return b.bin(lax.MulOp, x, cdf)
    # (x * 0.5) * erfc(-x * sqrt(1/2))
    half = b.bin(lax.MulOp, x, b.splat(0.5, x))
    scaled = b.bin(lax.MulOp, b.un(lax.NegOp, x), b.splat(math.sqrt(0.5), x))
    return b.bin(lax.MulOp, half, b.un(lax.ErfcOp, scaled))


Decomposition = Callable[..., SSAValue]
DECOMPOSITIONS: dict[type[Operation], Decomposition] = {
    # max(x, 0)
    array.ReluOp: lambda b, op, x: b.bin(lax.MaxOp, x, b.splat(0, x)),
    array.GeluOp: _gelu,
    # x * logistic(x)
    array.SiluOp: lambda b, op, x: b.bin(lax.MulOp, x, b.un(lax.LogisticOp, x)),
    array.SoftmaxOp: lambda b, op, x: _softmax(b, x, op.int("axis")),
    array.LogSoftmaxOp: _log_softmax,
    array.LogsumexpOp: _logsumexp,
    array.MeanOp: lambda b, op, x: _mean(b, x, op.ints("axes")),
    array.VarOp: lambda b, op, x: _var(b, x, op.ints("axes"), op.int("ddof")),
    array.LayerNormOp: _layer_norm,
    array.RmsNormOp: _rms_norm,
    array.MatmulOp: _matmul,
    array.AttentionOp: _attention,
}


def convert_array_to_lax(module: ModuleOp) -> int:
    """Decompose every `array` op of `module`; returns how many were decomposed."""
    converted = 0
    for op in list(module.walk()):
        decompose = DECOMPOSITIONS.get(type(op))
        if decompose is None:
            continue
        b = _Builder(lax.elem(op.results[0]))
        value = decompose(b, op, *op.operands)
        for new in b.ops:
            new.location = op.location
        Rewriter.replace_op(op, b.ops, [value])
        count("convert-array-to-lax", op.name)
        converted += 1
    for op in module.walk():
        if isinstance(op, array.ArrayOp):
            raise PassFailedException(f"convert-array-to-lax: '{op.name}' is left after it")
    return converted


@dataclass(frozen=True)
class ConvertArrayToLaxPass(ModulePass):
    """Decomposes `array` ops into `lax` ops; none is left after it."""

    name = "convert-array-to-lax"
    produces = ("lax",)  # the contract (passes/authoring.py)
    removes = ("array",)

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        convert_array_to_lax(op)
