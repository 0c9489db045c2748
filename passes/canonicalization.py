"""Canonicalization patterns of `lax` ops, found by xDSL's `canonicalize` through the
`LaxCanonicalization` trait of each op (keyed by op class here).

Every pattern is exact: it never changes a value, NaN, Inf or the sign of zero. Rewrites
that hold only for integers say so and check it. Each carries its algebra as a comment.
Complex numbers are pairs of floats: a rewrite holds for them only where it holds for each
part under XLA's complex arithmetic (x * 1 does not: (a + bi)(1 + 0i) has real part a - b * 0).
"""

from __future__ import annotations

import itertools
import math
import weakref
import zlib
from collections.abc import Sequence

import numpy as np
from xdsl.dialects.builtin import DenseArrayBase, DenseIntOrFPElementsAttr, IntegerAttr
from xdsl.ir import Block, Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern
from xdsl.traits import Commutative

from tiers.dialects import dtypes, lax
from tiers.dialects.constants import dense
from tiers.passes.control_flow import PATTERNS as REGION_PATTERNS  # cond, while, scan
from tiers.passes.statistics import count

# The binary ops with xDSL's `Commutative` trait: a set, read for every value of the program
# (`has_trait` walks the trait list, ~1.7 us, on the hottest loop of canonicalize).
_COMMUTATIVE = frozenset(c for c in lax.ops_of_kind(lax.BinaryOp) if c.has_trait(Commutative))
_ORDERED = (lax.MaxOp, lax.MinOp)


def splat(value: SSAValue) -> complex | float | int | bool | None:
    """The single value of a splat constant, looking through broadcasts; None otherwise."""
    op = value.owner
    if not isinstance(op, lax.ConstantOp | lax.BroadcastInDimOp):
        return None
    # Memoized per op (a constant's value is never rewritten in place, and a broadcast's
    # operand is only ever replaced by an equal value): canonicalize asks about every
    # operand of every add and mul, and about a shared literal again and again.
    v = _SPLATS.get(op, _UNKNOWN)
    if v is _UNKNOWN:
        inner: Operation | Block = op
        while isinstance(inner, lax.BroadcastInDimOp):
            inner = inner.operand.owner
        v = _SPLATS[op] = splat_value(inner.value) if isinstance(inner, lax.ConstantOp) \
            else None
    return v  # type: ignore[return-value]


_SPLATS: weakref.WeakKeyDictionary[Operation, object] = weakref.WeakKeyDictionary()
_UNKNOWN = object()


def splat_value(attr: DenseIntOrFPElementsAttr) -> complex | float | int | bool | None:
    """The value of a constant whose elements are all bit-identical; None if they are not
    (so [0.0, -0.0] is no splat: x + it is not x where x is -0.0), if it is empty or NaN.

    Compared as bytes at C speed, a first few elements first: canonicalize asks this for
    every operand of every commutative op, and most large constants differ early."""
    data = attr.data.data
    dtype = dtypes.to_numpy(attr.get_element_type())
    width = dtype.itemsize  # bool is stored as one byte, like its numpy itemsize
    n = len(data) // width
    if n == 0 or math.prod(attr.get_shape()) == 0:
        return None
    head = data[:width]
    if data[:16 * width] != head * min(n, 16) or data != head * n:
        return None
    raw = np.dtype(np.int8 if dtype == np.bool_ else dtype).newbyteorder("<")
    v = np.frombuffer(head, dtype=raw).astype(dtype)[0].item()
    if isinstance(v, complex):
        return None if math.isnan(v.real) or math.isnan(v.imag) else v
    return None if isinstance(v, float) and math.isnan(v) else v


def _is_negative_zero(v: complex | float | int | bool) -> bool:
    """-0.0, or a complex number whose both parts are -0.0."""
    if isinstance(v, complex):
        return _is_negative_zero(v.real) and _is_negative_zero(v.imag)
    return isinstance(v, float) and v == 0.0 and math.copysign(1.0, v) < 0


def _is_positive_zero(v: complex | float | int | bool) -> bool:
    """0 or +0.0, or a complex number whose both parts are +0.0."""
    if isinstance(v, complex):
        return _is_positive_zero(v.real) and _is_positive_zero(v.imag)
    return v == 0 and not _is_negative_zero(v)


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
    # x + 0 -> x for integers; for floats only x + (-0.0) -> x (x + 0.0 turns -0.0 into 0.0),
    # for complex numbers only x + (-0.0 - 0.0i) -> x
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.AddOp | lax.AddAnyOp)
        for x, c in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            v = splat(c)
            if v is not None and v == 0 and x.type == op.result.type and (
                    not dtypes.is_inexact(lax.elem(x)) or _is_negative_zero(v)):
                _replace_with(rewriter, op, x)
                return self.applied()


class SubZero(_Pattern):
    # x - 0 -> x (exact, -0.0 - 0.0 = -0.0); for complex numbers x - (0.0 + 0.0i) -> x
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.SubOp)
        v = splat(op.rhs)
        if v is not None and _is_positive_zero(v):
            _replace_with(rewriter, op, op.lhs)
            self.applied()


class MulOne(_Pattern):
    # x * 1 -> x, not for complex numbers: (a + bi)(1 + 0i) = (a - b * 0) + (a * 0 + b)i is
    # NaN + ... for b = inf, and +0.0 for a = -0.0, b < 0
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.MulOp)
        if dtypes.is_complex(lax.elem(op.lhs)):
            return
        for x, c in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            if splat(c) == 1 and not dtypes.is_bool(lax.elem(x)):
                _replace_with(rewriter, op, x)
                return self.applied()


class DivOne(_Pattern):
    # x / 1 -> x, not for complex numbers (a complex division is no division of each part)
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.DivOp)
        if splat(op.rhs) == 1 and not dtypes.is_complex(lax.elem(op.rhs)):
            _replace_with(rewriter, op, op.lhs)
            self.applied()


class IntegerSelfSub(_Pattern):
    # x - x -> 0 for integers only (for floats, Inf - Inf and NaN - NaN are NaN)
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.SubOp)
        if op.lhs is op.rhs and dtypes.is_integer(lax.elem(op.lhs)):
            rewriter.replace(op, _zeros_like(op, op.lhs))
            self.applied()


class IntegerMulZero(_Pattern):
    # x * 0 -> 0 for integers only (for floats, Inf * 0 and NaN * 0 are NaN)
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.MulOp)
        if not dtypes.is_integer(lax.elem(op.lhs)):
            return
        for c in (op.lhs, op.rhs):
            if splat(c) == 0:
                rewriter.replace(op, _zeros_like(op, op.lhs))
                return self.applied()


def _zeros_like(op: Operation, like: SSAValue) -> list[Operation]:
    """A scalar 0 broadcast to `like`'s type (the last op's result), at `op`'s location."""
    const = lax.ConstantOp(dense(np.zeros((), dtype=dtypes.to_numpy(lax.elem(like)))))
    bcast = lax.BroadcastInDimOp(const.result, like.type, [])
    const.location = bcast.location = op.location
    return [const, bcast]


class Involution(_Pattern):
    # neg(neg(x)) -> x, not(not(x)) -> x
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        inner = op.operands[0].owner
        if type(inner) is type(op):
            _replace_with(rewriter, op, inner.operands[0])
            self.applied()


class KeyRoundTrip(_Pattern):
    # random_wrap(random_unwrap(k)) -> k, random_unwrap(random_wrap(d)) -> d: keys are their
    # data (dialects/lax_keys.py), so a key passed through a function returns as it came.
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        inner = op.operands[0].owner
        if (isinstance(inner, lax.KeyDataOp) and type(inner) is not type(op)
                and inner.operands[0].type == op.results[0].type):
            _replace_with(rewriter, op, inner.operands[0])
            self.applied()


class Idempotent(_Pattern):
    # stop_gradient(stop_gradient(x)) -> stop_gradient(x). A lone stop_gradient stays: it is
    # the identity on values but not on derivatives, and IR run on its own (`tiers.load`'s
    # recompile, the JAX target) is differentiated by JAX as written.
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        inner = op.operands[0].owner
        if type(inner) is type(op):
            _replace_with(rewriter, op, inner.results[0])
            self.applied()


class StopGradientInward(_Pattern):
    # stop_gradient(shape_op(x)) -> shape_op(stop_gradient(x)), shape_op one of broadcast,
    # reshape, transpose with no other user: the same values and, for any op, the same zero
    # derivative. It lets shape chains meet: softmax's broadcast(stop_gradient(broadcast(m)))
    # becomes broadcast(stop_gradient(m)).
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        inner = op.operands[0].owner
        if not isinstance(inner, lax.BroadcastInDimOp | lax.ReshapeOp | lax.TransposeOp) or \
                not inner.results[0].has_one_use():
            return
        stopped = lax.StopGradientOp(inner.operands[0])
        stopped.location = op.location
        moved = inner.clone(value_mapper={inner.operands[0]: stopped.results[0]})
        rewriter.replace(op, [stopped, moved])
        self.applied()


class Identity(_Pattern):
    # copy(x) -> x: after tracing it computes its operand
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
        c = splat(op.which)  # bool or integer: the predicate's types
        if c is not None and not isinstance(c, complex) and 0 <= int(c) < len(op.cases):
            _replace_with(rewriter, op, op.cases[int(c)])
            self.applied()
        elif all(x is op.cases[0] for x in op.cases):
            # select_n(c, x, x) -> x
            _replace_with(rewriter, op, op.cases[0])
            self.applied()


_KEYS: weakref.WeakKeyDictionary[SSAValue, tuple[bool, int, int]] = weakref.WeakKeyDictionary()
_COUNTER = itertools.count()
_NAMES: dict[type[Operation], int] = {}


def _op_hash(op: Operation) -> int:
    """The op's name and its properties that hash cheaply (constant values, integer arrays and
    integers), as an integer that is the same in every process (str and bytes hashes are
    not, so those go through crc32). Leaving out types and other properties only makes more
    values tie, and ties fall back to the order of first sight."""
    name = _NAMES.get(type(op))
    if name is None:
        name = _NAMES[type(op)] = zlib.crc32(op.name.encode())
    if isinstance(op, lax.ConstantOp):
        return hash((name, zlib.crc32(op.value.data.data)))
    props = []
    for attr in op.properties.values():
        if isinstance(attr, DenseArrayBase):
            props.append(zlib.crc32(attr.data.data))
        elif isinstance(attr, IntegerAttr):
            props.append(attr.value.data)
    return hash((name, *props))


def _operand_key(value: SSAValue) -> tuple[bool, int, int]:
    """Splat constants last (as MLIR), then by the structure of the expression that computes
    the value, then by the order values were first seen in.

    The structure comes first so that the order survives `cse`: `sin(x) + y` and its repeat
    `sin'(x) + y` (a second sin, merged later) must get the same operand order, which an
    order by first sight or by position does not give (sin' is seen, and defined, after y).
    Equal structure makes equal keys, so values that `cse` will merge sort alike. The hash
    of a tuple of integers is the same in every process, so the order, and the IR, is too.
    Memoized; the walk is iterative (chains of 100k ops)."""
    key = _KEYS.get(value)
    if key is not None:
        return key
    stack = [value]
    while stack:
        v = stack[-1]
        if v in _KEYS:
            stack.pop()
            continue
        owner = v.owner
        if isinstance(owner, Operation):
            # The operand tuple itself: iterating xDSL's `operands` view goes through
            # `__getitem__` once per element, and this runs for every value of the program.
            values = owner._operands  # pyright: ignore[reportPrivateUsage]
            pending = [o for o in values if o not in _KEYS]
            if pending:
                stack.extend(pending)
                continue
            operands = [_KEYS[o][1] for o in values]
            if type(owner) in _COMMUTATIVE:
                operands.sort()
            structure = hash((_op_hash(owner), v.index, *operands))  # type: ignore[attr-defined]
            last = isinstance(owner, lax.ConstantOp | lax.BroadcastInDimOp) and \
                splat(v) is not None
        else:  # a block argument
            structure, last = hash((-1, v.index)), False  # type: ignore[attr-defined]
        _KEYS[v] = (last, structure, next(_COUNTER))
        stack.pop()
    return _KEYS[value]


class SortCommutativeOperands(_Pattern):
    # a (op) b -> b (op) a for commutative ops, into one fixed order; not max/min of complex
    # numbers, which pick b when a and b tie in XLA's order of (real, imag) (0.0 and -0.0)
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        a, b = op._operands  # pyright: ignore[reportPrivateUsage] (see `_operand_key`)
        if type(op) in _ORDERED and dtypes.is_complex(lax.elem(a)):
            return
        if _operand_key(a) > _operand_key(b):
            op.operands = [b, a]  # in place: a new op costs 10x more, and loses nothing here
            rewriter.notify_op_modified(op)
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
    add([lax.RandomWrapOp, lax.RandomUnwrapOp], KeyRoundTrip())
    add([lax.StopGradientOp], Idempotent(), StopGradientInward())
    add([lax.CopyOp, lax.ConvertElementTypeOp], Identity())
    add([lax.TransposeOp], TransposeChain())
    add([lax.ReshapeOp], ReshapeChain())
    add([lax.BroadcastInDimOp], BroadcastChain())
    add([lax.SliceOp], SliceChain())
    add([c for c in lax.ops_of_kind(lax.ReduceOp) if not c.INDEX_RESULT], ReduceUnitAxes())
    add([lax.SelectNOp], SelectConstantPredicate())
    add(sorted(_COMMUTATIVE, key=lambda c: c.name), SortCommutativeOperands())
    return {cls: tuple(ps) for cls, ps in table.items()}


PATTERNS = _patterns()


def patterns_for(cls: type[Operation]) -> tuple[RewritePattern, ...]:
    """The canonicalization patterns rooted at ops of class `cls`."""
    return PATTERNS.get(cls, ()) or REGION_PATTERNS.get(cls, ())
