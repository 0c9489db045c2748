"""Canonicalization patterns of `lax` ops, found by xDSL's `canonicalize` through the
`LaxCanonicalization` trait of each op (keyed by op class here).

Every pattern is exact: it never changes a value, NaN, Inf or the sign of zero. Rewrites
that hold only for integers say so and check it. Each carries its algebra as a comment.
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections.abc import Sequence

import numpy as np
from xdsl.ir import Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern

from tiers.dialects import dtypes, lax
from tiers.passes.statistics import count
from tiers.targets.walk import constant_array


def splat(value: SSAValue) -> float | int | bool | None:
    """The single value of a splat constant, looking through broadcasts; None otherwise."""
    op = value.owner
    while isinstance(op, lax.BroadcastInDimOp):
        op = op.operand.owner
    if not isinstance(op, lax.ConstantOp):
        return None
    array = constant_array(op.value)
    if array.size == 0 or not (array == array.flat[0]).all():
        return None  # empty, varied, or NaN (NaN != NaN: never treated as a known value)
    return array.flat[0].item()


def _is_negative_zero(v: float | int | bool) -> bool:
    return isinstance(v, float) and v == 0.0 and math.copysign(1.0, v) < 0


class _Pattern(RewritePattern):
    """A pattern that counts its applications under its class name (`--pass-statistics`)."""

    def applied(self) -> None:
        count("canonicalize", type(self).__name__)


def _replace_with(rewriter: PatternRewriter, op: Operation, value: SSAValue) -> None:
    rewriter.replace(op, [], [value])


def _replace_by(rewriter: PatternRewriter, op: Operation, new: Operation) -> None:
    # `rewriter.replace` does not carry the location over: keep the user's source line.
    new.location = op.location
    rewriter.replace(op, new)


class AddZero(_Pattern):
    # x + 0 -> x for integers; for floats only x + (-0.0) -> x (x + 0.0 turns -0.0 into 0.0)
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.AddOp | lax.AddAnyOp)
        for x, c in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            v = splat(c)
            if v is not None and v == 0 and x.type == op.result.type and (
                    not dtypes.is_float(lax.elem(x)) or _is_negative_zero(v)):
                _replace_with(rewriter, op, x)
                return self.applied()


class SubZero(_Pattern):
    # x - 0 -> x (exact, -0.0 - 0.0 = -0.0)
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.SubOp)
        v = splat(op.rhs)
        if v is not None and v == 0 and not _is_negative_zero(v):
            _replace_with(rewriter, op, op.lhs)
            self.applied()


class MulOne(_Pattern):
    # x * 1 -> x
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.MulOp)
        for x, c in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            if splat(c) == 1 and not dtypes.is_bool(lax.elem(x)):
                _replace_with(rewriter, op, x)
                return self.applied()


class DivOne(_Pattern):
    # x / 1 -> x
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.DivOp)
        if splat(op.rhs) == 1:
            _replace_with(rewriter, op, op.lhs)
            self.applied()


class IntegerSelfSub(_Pattern):
    # x - x -> 0 for integers only (for floats, Inf - Inf and NaN - NaN are NaN)
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.SubOp)
        if op.lhs is op.rhs and dtypes.is_integer(lax.elem(op.lhs)):
            _replace_with(rewriter, op, _zeros_like(rewriter, op, op.lhs))
            self.applied()


class IntegerMulZero(_Pattern):
    # x * 0 -> 0 for integers only (for floats, Inf * 0 and NaN * 0 are NaN)
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.MulOp)
        if not dtypes.is_integer(lax.elem(op.lhs)):
            return
        for c in (op.lhs, op.rhs):
            if splat(c) == 0:
                _replace_with(rewriter, op, _zeros_like(rewriter, op, op.lhs))
                return self.applied()


def _zeros_like(rewriter: PatternRewriter, op: Operation, like: SSAValue) -> SSAValue:
    from tiers.frontend.importer import dense

    const = lax.ConstantOp(dense(np.zeros((), dtype=dtypes.to_numpy(lax.elem(like)))))
    bcast = lax.BroadcastInDimOp(const.result, like.type, [])
    const.location = bcast.location = op.location
    rewriter.insert_op([const, bcast])
    return bcast.result


class Involution(_Pattern):
    # neg(neg(x)) -> x, not(not(x)) -> x
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        inner = op.operands[0].owner
        if type(inner) is type(op):
            _replace_with(rewriter, op, inner.operands[0])  # type: ignore[union-attr]
            self.applied()


class Identity(_Pattern):
    # stop_gradient(x) -> x, copy(x) -> x: after tracing they compute their operand
    # convert(x : T) -> x : T
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if op.operands[0].type == op.results[0].type:
            _replace_with(rewriter, op, op.operands[0])
            self.applied()


class TransposeChain(_Pattern):
    # transpose(transpose(x, p1), p2) -> transpose(x, p1[p2]), -> x when that is the identity
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.TransposeOp)
        perm = op.ints("permutation")
        if list(perm) == list(range(len(perm))):
            _replace_with(rewriter, op, op.operand)
            return self.applied()
        inner = op.operand.owner
        if isinstance(inner, lax.TransposeOp):
            p1 = inner.ints("permutation")
            composed = [p1[p] for p in perm]
            _replace_by(rewriter, op, lax.TransposeOp(inner.operand, composed))
            self.applied()


class ReshapeChain(_Pattern):
    # reshape(reshape(x)) -> reshape(x); reshape(x : T) -> x : T
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.ReshapeOp)
        if op.operand.type == op.result.type:
            _replace_with(rewriter, op, op.operand)
            return self.applied()
        inner = op.operand.owner
        if isinstance(inner, lax.ReshapeOp):
            _replace_by(rewriter, op, lax.ReshapeOp(inner.operand, op.result.type))
            self.applied()


class BroadcastChain(_Pattern):
    # broadcast(broadcast(x, d1), d2) -> broadcast(x, d2[d1]); broadcast(x : T, iota) -> x
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.BroadcastInDimOp)
        if op.operand.type == op.result.type:
            _replace_with(rewriter, op, op.operand)
            return self.applied()
        inner = op.operand.owner
        if isinstance(inner, lax.BroadcastInDimOp):
            d1, d2 = inner.ints("dims"), op.ints("dims")
            _replace_by(rewriter, op, lax.BroadcastInDimOp(inner.operand, op.result.type,
                                                         [d2[d] for d in d1]))
            self.applied()


class SliceChain(_Pattern):
    # slice(slice(x, s1, l1, t1), s2, l2, t2) -> slice(x, s1 + s2*t1, ..., t1*t2);
    # a slice taking everything -> x
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.SliceOp)
        if op.operand.type == op.result.type and set(op.ints("strides")) <= {1}:
            _replace_with(rewriter, op, op.operand)
            return self.applied()
        inner = op.operand.owner
        if not isinstance(inner, lax.SliceOp):
            return
        s1, t1 = inner.ints("start_indices"), inner.ints("strides")
        s2, t2 = op.ints("start_indices"), op.ints("strides")
        out = lax.shape(op.result)
        start = [a + b * s for a, b, s in zip(s1, s2, t1, strict=True)]
        stride = [a * b for a, b in zip(t1, t2, strict=True)]
        # An empty dimension: the composed start may lie past the end of x (x[0:4:3][2:2] would
        # start at 6 in a dimension of 4), so take x[0:0:1] there, which is empty too.
        start = [st if n else 0 for st, n in zip(start, out, strict=True)]
        stride = [sd if n else 1 for sd, n in zip(stride, out, strict=True)]
        limit = [st + (n - 1) * sd + 1 if n else st for st, n, sd in zip(start, out, stride,
                                                                           strict=True)]
        new = lax.SliceOp.build(operands=[inner.operand], result_types=[op.result.type],
                                properties={"start_indices": lax.ints(start),
                                            "limit_indices": lax.ints(limit),
                                            "strides": lax.ints(stride)})
        _replace_by(rewriter, op, new)
        self.applied()


class ReduceUnitAxes(_Pattern):
    # reduce(x, axes) -> reshape(x) when every reduced axis has size 1 (or there are none)
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.ReduceOp) and not op.INDEX_RESULT
        s = lax.shape(op.operand)
        if all(s[a] == 1 for a in op.ints("axes")):
            if op.operand.type == op.result.type:
                _replace_with(rewriter, op, op.operand)
            else:
                _replace_by(rewriter, op, lax.ReshapeOp(op.operand, op.result.type))
            self.applied()


class SelectConstantPredicate(_Pattern):
    # select_n(c, x0, x1, ...) -> x_c for a constant splat predicate c
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.SelectNOp)
        c = splat(op.which)
        if c is not None and 0 <= int(c) < len(op.cases):
            _replace_with(rewriter, op, op.cases[int(c)])
            self.applied()
        elif all(x is op.cases[0] for x in op.cases):
            # select_n(c, x, x) -> x
            _replace_with(rewriter, op, op.cases[0])
            self.applied()


_ORDER: weakref.WeakKeyDictionary[SSAValue, int] = weakref.WeakKeyDictionary()
_COUNTER = itertools.count()


def _operand_key(value: SSAValue) -> tuple[int, int]:
    # Constants last (as MLIR), otherwise the order values were first seen in: fixed for a
    # given program and pipeline, so `a + b` and `b + a` become one form and `cse` merges them.
    number = _ORDER.get(value)
    if number is None:
        number = _ORDER[value] = next(_COUNTER)
    return (isinstance(value.owner, lax.ConstantOp | lax.BroadcastInDimOp)
            and splat(value) is not None, number)


class SortCommutativeOperands(_Pattern):
    # a (op) b -> b (op) a for commutative ops, into one fixed order
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        a, b = op.operands
        if _operand_key(a) > _operand_key(b):
            _replace_by(rewriter, op, type(op).build(
                operands=[b, a], result_types=op.result_types,
                properties=dict(op.properties), attributes=dict(op.attributes)))
            self.applied()


def _patterns() -> dict[type[Operation], tuple[RewritePattern, ...]]:
    table: dict[type[Operation], list[RewritePattern]] = {}

    def add(classes: Sequence[type[Operation]], *patterns: RewritePattern) -> None:
        for cls in classes:
            table.setdefault(cls, []).extend(patterns)

    add([lax.AddOp, lax.AddAnyOp], AddZero())
    add([lax.SubOp], SubZero(), IntegerSelfSub())
    add([lax.MulOp], MulOne(), IntegerMulZero())
    add([lax.DivOp], DivOne())
    add([lax.NegOp, lax.NotOp], Involution())
    add([lax.StopGradientOp, lax.CopyOp, lax.ConvertElementTypeOp], Identity())
    add([lax.TransposeOp], TransposeChain())
    add([lax.ReshapeOp], ReshapeChain())
    add([lax.BroadcastInDimOp], BroadcastChain())
    add([lax.SliceOp], SliceChain())
    add([c for c in lax.all_ops() if issubclass(c, lax.ReduceOp) and not c.INDEX_RESULT],
        ReduceUnitAxes())
    add([lax.SelectNOp], SelectConstantPredicate())
    add([c for c in lax.all_ops() if issubclass(c, lax.BinaryOp) and c.COMMUTATIVE],
        SortCommutativeOperands())
    return {cls: tuple(ps) for cls, ps in table.items()}


PATTERNS = _patterns()


def patterns_for(cls: type[Operation]) -> tuple[RewritePattern, ...]:
    """The canonicalization patterns rooted at ops of class `cls`."""
    return PATTERNS.get(cls, ())
