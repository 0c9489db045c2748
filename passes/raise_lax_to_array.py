"""`raise-lax-to-array`: finds the `lax` subgraphs that JAX 0.10.2 emits for `jax.nn` and
`jax.numpy` functions and replaces each by its one `array` op.

Recognized (after `inline,canonicalize`; commutative operands may come in either order):
softmax, log_softmax, logsumexp (one axis, no keepdims), relu, gelu (both forms), silu, mean,
var (any ddof, keepdims too), layer norm ((x - mean) / sqrt(var + eps), or * rsqrt, then
optional * scale and + bias along the axis), rms norm (x / sqrt(mean(x^2) + eps) or * rsqrt,
optional * scale), `jnp.matmul` dot_generals, and attention `softmax(q k^T * c) @ v`.

Safe: a subgraph is raised only when none of its intermediate values has a user outside it,
so nothing else is recomputed or kept alive; constants it read are erased once unused.
Linear: one sweep per block from the last op to the first, each op tried as the root of a
fixed set of patterns that each look at a bounded number of ops. A pattern is rooted at its
last op, so the backward sweep meets a big pattern (layer norm) before the small ones
inside it (mean, var), and the big one wins.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from tiers.dialects import array, dtypes, fused, lax
from tiers.dialects.constants import constant_array, dense
from tiers.passes.statistics import count
from tiers.targets.reference.rules import RULES as REFERENCE

Ints = tuple[int, ...]
T = TypeVar("T")


class _NoMatch(Exception):
    """The pattern being tried does not apply here."""


def _require(condition: bool) -> None:
    if not condition:
        raise _NoMatch


@dataclass
class _Check:
    """A broadcast whose dims are checked once the pattern knows its axes."""

    op: Operation
    keep: bool  # reduced -> keepdims shape (else: reduced or keepdims -> full shape)


class Match:
    """One attempt at one root: the ops it consumes, the constants it reads."""

    def __init__(self, root: Operation):
        self.root = root
        self.ops: dict[Operation, None] = {}  # interior ops, erased after the rewrite
        self.consts: dict[Operation, None] = {}  # constant leaves, erased when dead
        self.checks: list[_Check] = []

    # -- structure ------------------------------------------------------------------------
    def op(self, value: SSAValue, cls: type[Operation] | tuple[type[Operation], ...]):
        """The op of class `cls` defining `value` in the root's block (an interior op)."""
        owner = value.owner
        _require(isinstance(owner, cls) and owner.parent is self.root.parent)
        if owner is not self.root:
            self.ops[owner] = None  # type: ignore[index]
        return owner

    def skip(self, value: SSAValue, cls: type[Operation]) -> SSAValue:
        """`value` with an op of class `cls` (stop_gradient, abs) looked through if there."""
        return self.op(value, cls).operands[0] if isinstance(value.owner, cls) else value

    def expand(self, value: SSAValue) -> SSAValue:
        # expand(r) = broadcast_in_dim(r) back to the full shape, from reduced or keepdims
        b = self.op(value, lax.BroadcastInDimOp)
        self.checks.append(_Check(b, keep=False))
        return b.operand

    def reduced(self, value: SSAValue, cls: type[lax.ReduceOp]) -> lax.ReduceOp:
        """The reduction of class `cls` at `value`, or under a keepdims broadcast/reshape."""
        owner = value.owner
        if isinstance(owner, lax.BroadcastInDimOp | lax.ReshapeOp) and \
                isinstance(owner.operand.owner, cls):
            self.checks.append(_Check(self.op(value, type(owner)), keep=True))
            value = owner.operand
        return self.op(value, cls)

    def param(self, value: SSAValue) -> tuple[SSAValue, int]:
        """`value` = broadcast_in_dim(p) of a 1-D p along one axis: (p, that axis); a 1-D
        `value` is itself (canonicalize drops the broadcast when x is 1-D).

        The broadcast reads only a leaf, so it may have other users: it is kept if so."""
        b = value.owner
        if len(lax.shape(value)) == 1 and not isinstance(b, lax.BroadcastInDimOp):
            return value, 0
        _require(isinstance(b, lax.BroadcastInDimOp) and len(lax.shape(b.operand)) == 1
                 and b.parent is self.root.parent)
        self.consts[b] = None  # type: ignore[index]
        return b.operand, b.ints("dims")[0]  # type: ignore[union-attr]

    def first(self, *tries: Callable[[], T]) -> T:
        """The result of the first of `tries` that matches (each starts from this state)."""
        for attempt in tries:
            saved = dict(self.ops), dict(self.consts), list(self.checks)
            try:
                return attempt()
            except _NoMatch:
                self.ops, self.consts, self.checks = saved
        raise _NoMatch

    def either(self, fn: Callable[[SSAValue, SSAValue], T], op: Operation) -> T:
        """`fn(a, b)` on a commutative op's operands in one order, else in the other."""
        a, b = op.operands
        return self.first(lambda: fn(a, b), lambda: fn(b, a))

    # -- constants ------------------------------------------------------------------------
    def scalar(self, value: SSAValue, depth: int = 6) -> float | int | bool:
        """The one value of a splat constant, a broadcast of one, or a small rank-0
        expression of them (`n - convert(ddof)` before `fold-constants`)."""
        op = value.owner
        _require(isinstance(op, Operation) and op.has_trait(Pure) and depth > 0)
        assert isinstance(op, Operation)
        # No pattern has complex constants (its array ops are of real numbers).
        _require(not dtypes.is_complex(lax.elem(value)))
        if isinstance(op, lax.BroadcastInDimOp):
            result = self.scalar(op.operand, depth - 1)
        elif isinstance(op, lax.ConstantOp):
            a = constant_array(op.value)
            _require(a.size > 0 and bool(np.all((a == a.flat[0]) | (a != a))))
            result = a.flat[0].item()
        else:
            _require(type(op) in REFERENCE and len(op.results) == 1 and lax.shape(value) == ()
                     and all(lax.shape(v) == () for v in op.operands))
            args = [np.asarray(self.scalar(v, depth - 1), _dtype(v)) for v in op.operands]
            with np.errstate(all="ignore"):
                result = np.asarray(REFERENCE[type(op)](op, *args)).item()
        self.consts[op] = None
        return result

    def const(self, value: SSAValue, expected: float) -> None:
        """`value` is a splat of `expected` rounded to its element type."""
        _require(self.scalar(value) == np.asarray(expected, _dtype(value)).item())

    def other(self, op: Operation, expected: float) -> SSAValue:
        # a (op) c or c (op) a with c = expected -> a
        def check(a: SSAValue, c: SSAValue) -> SSAValue:
            self.const(c, expected)
            return a

        return self.either(check, op)

    def split(self, op: Operation) -> tuple[SSAValue, float | int | bool]:
        # a (op) c or c (op) a with c a constant -> (a, c)
        return self.either(lambda a, c: (a, self.scalar(c)), op)

    # -- validation -----------------------------------------------------------------------
    def fits(self, axes: Ints, full: Sequence[int]) -> None:
        """Every recorded broadcast maps reduced/keepdims shapes along `axes` of `full`."""
        full = tuple(full)
        rank = len(full)
        kept = tuple(i for i in range(rank) if i not in axes)
        reduced = tuple(full[i] for i in kept)
        keep = tuple(1 if i in axes else d for i, d in enumerate(full))
        for c in self.checks:
            src, dst = lax.shape(c.op.operands[0]), lax.shape(c.op.results[0])
            dims = c.op.ints("dims") if isinstance(c.op, lax.BroadcastInDimOp) else kept
            if c.keep:
                _require(src == reduced and dst == keep and dims == kept)
            else:
                _require(dst == full and ((src == reduced and dims == kept)
                                          or (src == keep and dims == tuple(range(rank)))))

    def private(self) -> bool:
        """Whether every use of an interior value is inside the match (early exit)."""
        inside = self.ops.keys() | {self.root}
        return all(use.operation in inside for op in self.ops for r in op.results
                   for use in r.uses)


def _dtype(value: SSAValue) -> np.dtype:
    return dtypes.to_numpy(lax.elem(value))


def _n(full: Sequence[int], axes: Ints) -> int:
    return math.prod(full[a] for a in axes)


def _same(a: SSAValue, b: SSAValue) -> None:
    _require(a is b)


def _one_axis(axes: Ints) -> int:
    _require(len(axes) == 1)
    return axes[0]


# ---------------------------------------------------------------------------------------
# Sub-patterns: each returns what it found or raises _NoMatch.
# ---------------------------------------------------------------------------------------


def _max_of(m: Match, value: SSAValue) -> tuple[SSAValue, Ints]:
    # max(reduce_max(x), -inf) -> (x, axes); jnp.max(initial=-inf), stop_gradient looked through
    value = m.skip(value, lax.StopGradientOp)
    if isinstance(value.owner, lax.MaxOp):
        value = m.other(m.op(value, lax.MaxOp), -math.inf)
    r = m.reduced(value, lax.ReduceMaxOp)
    return r.operand, r.ints("axes")


def _shifted(m: Match, s: SSAValue) -> tuple[SSAValue, Ints]:
    # x - expand(max(x)) -> (x, axes)
    sub = m.op(s, lax.SubOp)
    x, axes = _max_of(m, m.expand(sub.rhs))
    _same(sub.lhs, x)
    return x, axes


def _softmax(m: Match, value: SSAValue) -> tuple[SSAValue, int]:
    # exp(s) / expand(reduce_sum(exp(s))) with s = x - expand(max(x)) -> softmax(x)
    div = m.op(value, lax.DivOp)
    e = m.op(div.lhs, lax.ExpOp)
    x, axes = _shifted(m, e.operand)
    total = m.reduced(m.expand(div.rhs), lax.ReduceSumOp)
    _same(total.operand, e.result)
    _require(total.ints("axes") == axes)
    m.fits(axes, lax.shape(x))
    return x, _one_axis(axes)


def _square(m: Match, value: SSAValue) -> SSAValue:
    # square(d) = d * d = d ** 2 -> d
    op = m.op(value, (lax.SquareOp, lax.MulOp, lax.IntegerPowOp))
    if isinstance(op, lax.MulOp):
        _same(op.lhs, op.rhs)
    if isinstance(op, lax.IntegerPowOp):
        _require(op.int("y") == 2)
    return op.operands[0]


def _mean(m: Match, value: SSAValue) -> tuple[SSAValue, Ints]:
    # reduce_sum(x) / n, n the number of elements reduced -> (x, axes)
    div = m.op(value, lax.DivOp)
    total = m.reduced(div.lhs, lax.ReduceSumOp)
    x, axes = total.operand, total.ints("axes")
    m.const(div.rhs, _n(lax.shape(x), axes))
    return x, axes


def _centered(m: Match, d: SSAValue) -> tuple[SSAValue, Ints]:
    # x - expand(mean(x)) -> (x, axes)
    sub = m.op(d, lax.SubOp)
    x, axes = _mean(m, m.expand(sub.rhs))
    _same(sub.lhs, x)
    return x, axes


def _var(m: Match, value: SSAValue) -> tuple[SSAValue, Ints, int]:
    # select(n - ddof > 0, reduce_sum(square(centered(x))) / (n - ddof), nan) -> (x, axes, ddof)
    # (the select is jnp.var's guard; it is gone once `fold-constants` ran)
    if isinstance(value.owner, lax.SelectNOp):
        sel = m.op(value, lax.SelectNOp)
        _require(len(sel.cases) == 2 and m.scalar(sel.which) is True)
        _require(math.isnan(m.scalar(sel.cases[0])))
        value = sel.cases[1]
    div = m.op(value, lax.DivOp)
    total = m.reduced(div.lhs, lax.ReduceSumOp)
    x, axes = _centered(m, _square(m, total.operand))
    _require(total.ints("axes") == axes)
    n, c = _n(lax.shape(x), axes), m.scalar(div.rhs)
    _require(0 < c <= n and float(c).is_integer())
    return x, axes, n - int(c)


def _over(m: Match, n: lax.DivOp | lax.MulOp, numerator: SSAValue) -> tuple[SSAValue, float]:
    # numerator / expand(sqrt(s + eps)) or numerator * expand(rsqrt(s + eps)) -> (s, eps)
    if isinstance(n, lax.DivOp):
        _same(n.lhs, numerator)
        root = m.op(m.expand(n.rhs), lax.SqrtOp)
    else:
        _require(numerator in n.operands)
        root = m.op(m.expand(n.operands[n.lhs is numerator]), lax.RsqrtOp)
    s, eps = m.split(m.op(root.operand, lax.AddOp))
    _require(isinstance(eps, float) and eps >= 0)
    return s, eps


def _normalizer(value: SSAValue) -> list[SSAValue]:
    """The operands of a div/mul root that may be the normalized value."""
    op = value.owner
    if isinstance(op, lax.DivOp):
        return [op.lhs]
    return list(op.operands) if isinstance(op, lax.MulOp) else []


def _layer_norm(m: Match, value: SSAValue) -> tuple[SSAValue, int, float]:
    # (x - mean(x)) / sqrt(var(x) + eps), or * rsqrt(...) -> (x, axis, eps)
    n = m.op(value, (lax.DivOp, lax.MulOp))

    def given(d: SSAValue) -> tuple[SSAValue, int, float]:
        x, axes = _centered(m, d)
        s, eps = _over(m, n, d)
        vx, v_axes, ddof = _var(m, s)  # of d itself, or of x centered a second time
        _require(vx is x and v_axes == axes and ddof == 0)
        m.fits(axes, lax.shape(x))
        return x, _one_axis(axes), eps

    return m.first(*(lambda d=d: given(d) for d in _normalizer(value)))


def _rms_norm(m: Match, value: SSAValue) -> tuple[SSAValue, int, float]:
    # x / sqrt(mean(square(x)) + eps), or * rsqrt(...) -> (x, axis, eps)
    n = m.op(value, (lax.DivOp, lax.MulOp))

    def given(x: SSAValue) -> tuple[SSAValue, int, float]:
        s, eps = _over(m, n, x)
        sq, axes = _mean(m, s)
        _same(_square(m, sq), x)
        m.fits(axes, lax.shape(x))
        return x, _one_axis(axes), eps

    return m.first(*(lambda x=x: given(x) for x in _normalizer(value)))


# ---------------------------------------------------------------------------------------
# Patterns by root: each returns the new ops (the last one's result replaces the root's).
# ---------------------------------------------------------------------------------------

New = list[Operation]


def _with_keepdims(op: Operation, root: Operation, axes: Ints) -> New:
    # a keepdims root: reduced result, then broadcast back to the unit dims
    out, like = op.results[0], root.results[0]
    if lax.shape(out) == lax.shape(like):
        return [op]
    kept = [i for i in range(len(lax.shape(like))) if i not in axes]
    return [op, lax.BroadcastInDimOp(out, like.type, kept)]


def _softmax_root(m: Match, root: Operation) -> New:
    return [array.SoftmaxOp(*_softmax(m, root.results[0]))]


def _log_softmax_root(m: Match, root: Operation) -> New:
    # s - expand(log(reduce_sum(exp(s)))) with s = x - expand(max(x)) -> log_softmax(x)
    x, axes = _shifted(m, root.operands[0])
    total = m.reduced(m.op(m.expand(root.operands[1]), lax.LogOp).operand, lax.ReduceSumOp)
    _same(m.op(total.operand, lax.ExpOp).operand, root.operands[0])
    _require(total.ints("axes") == axes)
    m.fits(axes, lax.shape(x))
    return [array.LogSoftmaxOp(x, _one_axis(axes))]


def _logsumexp_root(m: Match, root: Operation) -> New:
    # log(|reduce_sum(exp(x - expand(c)))|) + c, c = select(is_finite(mx), mx, 0),
    # mx = max(x) -> logsumexp(x)
    def parts(log_value: SSAValue, c: SSAValue) -> New:
        total = m.op(m.skip(m.op(log_value, lax.LogOp).operand, lax.AbsOp), lax.ReduceSumOp)
        sub = m.op(m.op(total.operand, lax.ExpOp).operand, lax.SubOp)
        _same(m.expand(sub.rhs), c)
        sel = m.op(m.skip(c, lax.StopGradientOp), lax.SelectNOp)
        _require(len(sel.cases) == 2 and m.scalar(sel.cases[0]) == 0)
        _same(m.op(sel.which, lax.IsFiniteOp).operand, sel.cases[1])
        x, axes = _max_of(m, sel.cases[1])
        _same(sub.lhs, x)
        _require(total.ints("axes") == axes)
        m.fits(axes, lax.shape(x))
        return [array.LogsumexpOp(x, _one_axis(axes))]

    return m.either(parts, root)


def _var_root(m: Match, root: Operation) -> New:
    x, axes, ddof = _var(m, root.results[0])
    m.fits(axes, lax.shape(x))
    return _with_keepdims(array.VarOp(x, axes, ddof), root, axes)


def _mean_root(m: Match, root: Operation) -> New:
    x, axes = _mean(m, root.results[0])
    _require(dtypes.is_float(lax.elem(x)))
    m.fits(axes, lax.shape(x))
    return _with_keepdims(array.MeanOp(x, axes), root, axes)


Norm = Callable[[Match, SSAValue], tuple[SSAValue, int, float]]


def _affine(m: Match, root: Operation, norm: Norm, bias: bool) -> tuple:
    """norm(x) [* expand(scale)] [+ expand(bias)] -> (x, axis, eps, scale, bias)."""
    def scaled(y: SSAValue) -> tuple:
        mul = m.op(y, lax.MulOp)
        return m.either(lambda n, g: (*norm(m, n), m.param(g)), mul)

    def body(y: SSAValue) -> tuple:
        return m.first(lambda: scaled(y), lambda: (*norm(m, y), None))

    if bias and isinstance(root, lax.AddOp):
        return m.either(lambda y, b: (*body(y), m.param(b)), root)
    return (*body(root.results[0]), None)


def _params(x: SSAValue, axis: int, *params: tuple[SSAValue, int] | None) -> list[SSAValue]:
    want = TensorType(lax.elem(x), [lax.shape(x)[axis]])
    for p in params:
        _require(p is None or (p[1] == axis and p[0].type == want))
    return [p[0] for p in params if p is not None]


def _layer_norm_root(m: Match, root: Operation) -> New:
    # norm(x) * expand(g) + expand(b) -> layer_norm(x, g, b); g, b optional
    x, axis, eps, g, b = _affine(m, root, _layer_norm, bias=True)
    params, new = _params(x, axis, g, b), []
    if g is None and b is not None:  # the op takes a bias after a scale: ones
        new.append(lax.ConstantOp(dense(np.ones(lax.shape(x)[axis], _dtype(x)))))
        params.insert(0, new[0].results[0])
    return [*new, array.LayerNormOp(x, params, axis, eps)]


def _rms_norm_root(m: Match, root: Operation) -> New:
    # x / sqrt(mean(x^2) + eps) * expand(g) -> rms_norm(x, g); g optional
    x, axis, eps, g, _ = _affine(m, root, _rms_norm, bias=False)
    params = _params(x, axis, g)
    return [array.RmsNormOp(x, params[0] if params else None, axis, eps)]


def _relu_root(m: Match, root: Operation) -> New:
    # max(x, 0) -> relu(x), +0.0 only (max(x, -0.0) differs at zero)
    def parts(x: SSAValue, c: SSAValue) -> New:
        zero = m.scalar(c)
        _require(zero == 0 and math.copysign(1.0, zero) > 0 and not dtypes.is_bool(lax.elem(x)))
        return [array.ReluOp(x)]

    return m.either(parts, root)


def _gelu_tanh_root(m: Match, root: Operation) -> New:
    # x * ((tanh((x + x^3 * 0.044715) * sqrt(2/pi)) + 1) * 0.5) -> gelu(x, approximate)
    def parts(x: SSAValue, cdf: SSAValue) -> New:
        half = m.other(m.op(cdf, lax.MulOp), 0.5)
        tanh = m.op(m.other(m.op(half, lax.AddOp), 1.0), lax.TanhOp)
        poly = m.op(m.other(m.op(tanh.operand, lax.MulOp), math.sqrt(2 / math.pi)), lax.AddOp)
        _require(x in poly.operands)
        term = m.other(m.op(poly.operands[poly.lhs is x], lax.MulOp), 0.044715)
        cube = m.op(term, lax.IntegerPowOp)
        _require(cube.int("y") == 3 and cube.operand is x)
        return [array.GeluOp(x, approximate=True)]

    return m.either(parts, root)


def _gelu_erfc_root(m: Match, root: Operation) -> New:
    # (x * 0.5) * erfc(-x * sqrt(1/2)) -> gelu(x)
    def parts(half: SSAValue, erfc: SSAValue) -> New:
        x = m.other(m.op(half, lax.MulOp), 0.5)
        scaled = m.other(m.op(m.op(erfc, lax.ErfcOp).operand, lax.MulOp), math.sqrt(0.5))
        _same(m.op(scaled, lax.NegOp).operand, x)
        return [array.GeluOp(x, approximate=False)]

    return m.either(parts, root)


def _silu_root(m: Match, root: Operation) -> New:
    # x * logistic(x) -> silu(x)
    def parts(x: SSAValue, s: SSAValue) -> New:
        _same(m.op(s, lax.LogisticOp).operand, x)
        return [array.SiluOp(x)]

    return m.either(parts, root)


def _dot(op: Operation, *, transposed_rhs: bool = False) -> bool:
    """`op` is a dot_general of `jnp.matmul`'s form, ...ij,...jk (or ...ij,...kj)."""
    if not isinstance(op, lax.DotGeneralOp) or "precision" in op.properties:
        return False
    a, b = lax.shape(op.lhs), lax.shape(op.rhs)
    ra, rb = len(a), len(b)
    t = lax.elem(op.lhs)
    if not (ra >= 2 and rb >= 2 and t == lax.elem(op.rhs) == lax.elem(op.result)) \
            or dtypes.is_bool(t):
        return False
    lc, rc = op.ints("lhs_contracting"), op.ints("rhs_contracting")
    lb, rb_ = op.ints("lhs_batch"), op.ints("rhs_batch")
    if transposed_rhs:
        return ra == rb and lb == rb_ == tuple(range(ra - 2)) and lc == (ra - 1,) == rc
    if ra == rb and lb == rb_ == tuple(range(ra - 2)) and lc == (ra - 1,) and rc == (ra - 2,):
        return True
    return rb == 2 and not lb and not rb_ and lc == (ra - 1,) and rc == (0,)  # rhs unbatched


def _matmul_root(m: Match, root: Operation) -> New:
    # dot_general(a, b) contracting a's last and b's second-to-last dims -> matmul(a, b)
    _require(_dot(root))
    return [array.MatmulOp(*root.operands)]


def _attention_root(m: Match, root: Operation) -> New:
    # softmax(q k^T * c) v -> attention(q, k, v, scale c); k^T: a transpose or a dot_general
    # contracting both last dims
    _require(_dot(root) and len(lax.shape(root.operands[0])) == len(lax.shape(root.operands[1])))
    logits, axis = _softmax(m, root.operands[0])
    _require(axis == len(lax.shape(logits)) - 1 and dtypes.is_float(lax.elem(logits)))
    scale = 1.0
    if isinstance(logits.owner, lax.MulOp):
        logits, scale = m.split(m.op(logits, lax.MulOp))
    qk = m.op(logits, lax.DotGeneralOp)
    q, k = qk.operands
    if not _dot(qk, transposed_rhs=True):
        _require(_dot(qk) and len(lax.shape(q)) == len(lax.shape(k)))
        t = m.op(k, lax.TransposeOp)
        r = len(lax.shape(q))
        _require(t.ints("permutation") == (*range(r - 2), r - 1, r - 2))
        k = t.operand
    v = root.operands[1]
    _require(lax.shape(q)[:-2] == lax.shape(k)[:-2] == lax.shape(v)[:-2])
    return [array.AttentionOp(q, k, v, None, float(scale))]


PATTERNS: dict[type[Operation], tuple[Callable[[Match, Operation], New], ...]] = {
    lax.DivOp: (_softmax_root, _layer_norm_root, _rms_norm_root, _var_root, _mean_root),
    lax.MulOp: (_layer_norm_root, _rms_norm_root, _gelu_tanh_root, _gelu_erfc_root,
                _silu_root),
    lax.AddOp: (_layer_norm_root, _logsumexp_root),
    lax.SubOp: (_log_softmax_root,),
    lax.SelectNOp: (_var_root,),
    lax.MaxOp: (_relu_root,),
    lax.DotGeneralOp: (_attention_root, _matmul_root),
}


# ---------------------------------------------------------------------------------------
# The sweep.
# ---------------------------------------------------------------------------------------


def _rewrite(m: Match, new: New) -> None:
    root = m.root
    for op in new:
        op.location = root.location
    block = root.parent
    assert isinstance(block, Block)
    block.insert_ops_before(new, root)
    root.results[0].replace_all_uses_with(new[-1].results[0])
    Rewriter.erase_op(root)
    _erase_dead([*m.ops, *m.consts], must=len(m.ops))
    count("raise-lax-to-array", next(op.name for op in new if isinstance(op, array.ArrayOp)))


def _erase_dead(ops: list[Operation], must: int) -> None:
    """Erase the ops of `ops` that end up unused, users before producers; the first `must`
    (the interior) are unused by construction once the root is gone."""
    left = [op for op in ops if op.parent is not None]
    while left:
        dead = [op for op in left if not any(r.uses for r in op.results)]
        if not dead:
            break
        for op in dead:
            Rewriter.erase_op(op)
        left = [op for op in left if op.parent is not None]
    assert all(op.parent is None for op in ops[:must]), "an interior op kept a user"


def _valid(new: New) -> bool:
    try:
        for op in new:
            op.verify()
    except VerifyException:
        return False
    return True


# What each pattern's match must find in the root's block (`Match.op` looks only there): one
# op of a class of each group. A block lacking one cannot match, so the pattern is not tried
# there: most blocks (an elementwise chain, an optimizer update) have no reductions, and
# trying every norm at every mul and add was most of this pass's time.
_SQRT = (lax.SqrtOp, lax.RsqrtOp)
NEEDS: dict[Callable[[Match, Operation], New], tuple[tuple[type[Operation], ...], ...]] = {
    _softmax_root: ((lax.ExpOp,), (lax.ReduceSumOp,), (lax.ReduceMaxOp,), (lax.SubOp,)),
    _attention_root: ((lax.ExpOp,), (lax.ReduceSumOp,), (lax.ReduceMaxOp,), (lax.SubOp,)),
    _log_softmax_root: ((lax.LogOp,), (lax.ExpOp,), (lax.ReduceSumOp,), (lax.ReduceMaxOp,)),
    _logsumexp_root: ((lax.LogOp,), (lax.ExpOp,), (lax.ReduceSumOp,), (lax.ReduceMaxOp,),
                      (lax.SelectNOp,), (lax.IsFiniteOp,)),
    _layer_norm_root: ((lax.ReduceSumOp,), (lax.SubOp,), _SQRT),
    _rms_norm_root: ((lax.ReduceSumOp,), _SQRT),
    _var_root: ((lax.ReduceSumOp,), (lax.SubOp,)),
    _mean_root: ((lax.ReduceSumOp,),),
    _gelu_tanh_root: ((lax.TanhOp,), (lax.IntegerPowOp,)),
    _gelu_erfc_root: ((lax.ErfcOp,), (lax.NegOp,)),
    _silu_root: ((lax.LogisticOp,),),
}


def _possible(block: Block) -> dict[type[Operation], list[Callable[[Match, Operation], New]]]:
    """`PATTERNS` less the patterns whose `NEEDS` `block` lacks."""
    present = {type(op) for op in block.ops}

    def has(group: tuple[type[Operation], ...]) -> bool:
        return any(issubclass(t, group) for t in present)

    return {root: [p for p in patterns if all(has(g) for g in NEEDS.get(p, ()))]
            for root, patterns in PATTERNS.items()}


def raise_block(block: Block) -> int:
    """Raise every match in `block`, last op first; returns how many were raised."""
    raised = 0
    possible = _possible(block)
    for root in reversed(list(block.ops)):
        if root.parent is None:
            continue  # erased as part of an earlier match
        for pattern in possible.get(type(root), ()):
            m = Match(root)
            try:
                new = pattern(m, root)
            except _NoMatch:
                continue
            # the new ops read only leaves, nothing else reads what they replace, and they
            # verify (e.g. a mean of integers is no array.mean)
            if m.private() and not any(v.owner in m.ops for op in new for v in op.operands) \
                    and _valid(new):
                _rewrite(m, new)
                raised += 1
                break
    return raised


def raise_lax_to_array(module: ModuleOp) -> int:
    """Raise every block of `module` outside `fused.kernel` regions; returns the count."""
    blocks = [b for op in module.walk() if not isinstance(op, fused.KernelOp)
              for r in op.regions for b in r.blocks]
    return sum(raise_block(b) for b in blocks)


@dataclass(frozen=True)
class RaiseLaxToArrayPass(ModulePass):
    """Replaces the `lax` spellings of jax.nn / jnp functions by `array` ops."""

    name = "raise-lax-to-array"
    requires = ("lax",)  # the contract (passes/authoring.py)
    produces = ("array",)

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        raise_lax_to_array(op)
