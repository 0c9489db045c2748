"""Canonicalization patterns of the control-flow ops `lax.cond`, `lax.while`, `lax.scan`,
found by `canonicalize` through `canonicalization.patterns_for` (the `LaxCanonicalization`
trait of the region ops).

- `DeadCarries` (while, scan): a carried value that stays its init (the body yields its own
  block argument) is replaced by the init; the final value of a carry that a scan of at
  least one step sets to a value from above is that value, of a scan of no step its init;
  a carried value whose result is unused and which
  feeds nothing but itself (not the cond, not another live carried value, not a `ys`, not an
  op with effects) is removed with its operand, block arguments, yield operand and result;
  so are unused `ys` of a scan and `xs` whose slices are no longer read. MLIR's `scf.while`
  and `scf.for` canonicalizations remove unused results and pass-through iter_args alike.
- `FoldCond`: a `cond` whose branch is known (a constant index, clamped as XLA does; one
  branch; all branches the same) becomes that branch, inlined. `DeadCondResults`: results
  of a `cond` that nothing uses are no longer yielded.
- `WhileFalseAtEntry`: a `while` whose cond region, evaluated on constant inits with the
  reference target's numpy rules, is false: the loop never runs, its results are its inits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr
from xdsl.ir import Block, BlockArgument, Operation, Region, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern
from xdsl.rewriter import InsertPoint
from xdsl.traits import Pure, is_side_effect_free

from tiers.dialects import lax
from tiers.dialects.constants import constant_array
from tiers.passes.statistics import count

# `WhileFalseAtEntry` evaluates cond regions of at most this many ops on at most this many
# elements per value: a loop test is a comparison or two, not a computation worth running.
MAX_COND_OPS = 16
MAX_COND_ELEMENTS = 64


class _Pattern(RewritePattern):
    """A pattern that counts its applications under its class name (`--pass-statistics`)."""

    def applied(self) -> None:
        count("canonicalize", type(self).__name__)


def live_carries(block: Block, yielded: Sequence[SSAValue], num_carry: int, live: set[int],
                 roots: Sequence[SSAValue]) -> tuple[set[int], set[Operation]]:
    """The carried indices and the top-level ops of loop body `block` that something outside
    the body can observe: from the carried indices `live` (results used, read by the cond)
    and the values `roots`, everything they read, transitively through block arguments
    (carried value i is read: it is live, and so is what the body yields for it). Ops that
    may have effects are roots too. Each op and value is visited once: linear."""
    live = set(live)
    ops: set[Operation] = set()
    stack = [yielded[i] for i in live] + list(roots)
    for op in block.ops:
        if op is not block.last_op and not is_side_effect_free(op):
            ops.add(op)
            stack.extend(_reads(op))
    while stack:
        v = stack.pop()
        if isinstance(v, BlockArgument):
            if v.block is block and v.index < num_carry and v.index not in live:
                live.add(v.index)
                stack.append(yielded[v.index])
            continue
        op = v.owner
        if isinstance(op, Operation) and op.parent is block and op not in ops:
            ops.add(op)
            stack.extend(_reads(op))
    return live, ops


def _reads(op: Operation) -> list[SSAValue]:
    """Every value `op` and the ops nested in it read."""
    return [v for nested in op.walk() for v in nested.operands]


def _is_used(value: SSAValue) -> bool:
    return value.first_use is not None


def _forward_pass_through(rewriter: PatternRewriter, inits: Sequence[SSAValue],
                          regions: Sequence[Region], body: Block, num_carry: int,
                          results: Sequence[SSAValue]) -> bool:
    """A carried value the body yields unchanged is its init throughout: use the init."""
    yielded = body.last_op
    assert yielded is not None
    changed = False
    for i in range(num_carry):
        if yielded.operands[i] is not body.args[i]:
            continue
        uses = [r.block.args[i] for r in regions] + [results[i]]
        if any(_is_used(v) for v in uses if v is not body.args[i]) or \
                any(u.operation is not yielded for u in body.args[i].uses):
            for v in uses:
                rewriter.replace_all_uses_with(v, inits[i])
            changed = True
    return changed


def _drop(rewriter: PatternRewriter, block: Block, keep_ops: set[Operation],
          dead_args: Sequence[int]) -> None:
    """Erase the top-level ops of `block` not in `keep_ops` (they feed only dead carried
    values), then the block arguments `dead_args`."""
    last = block.last_op
    for op in reversed(list(block.ops)):
        if op is not last and op not in keep_ops:
            rewriter.erase(op)
    for i in sorted(dead_args, reverse=True):
        rewriter.erase_block_argument(block.args[i])


def _take(region: Region) -> Region:
    new = Region()
    region.move_blocks(new)
    return new


def _replace_loop(rewriter: PatternRewriter, op: Operation, new: Operation,
                  old_results: Sequence[int]) -> None:
    """Replace `op` by `new`, whose results are `op`'s results at `old_results`."""
    new.location = op.location
    new.attributes.update(op.attributes)
    mapping: list[SSAValue | None] = [None] * len(op.results)
    for new_result, i in zip(new.results, old_results, strict=True):
        mapping[i] = new_result
    rewriter.replace(op, new, mapping)


class DeadCarries(_Pattern):
    # Carried values that stay their init or that nothing observes; unused ys; unread xs.
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if isinstance(op, lax.WhileOp):
            self._while(op, rewriter)
        elif isinstance(op, lax.ScanOp):
            self._scan(op, rewriter)

    def _while(self, op: lax.WhileOp, rewriter: PatternRewriter) -> None:
        body, n = op.body.block, len(op.init)
        changed = _forward_pass_through(rewriter, op.init, [op.cond, op.body], body, n,
                                        op.outputs)
        yielded = op.yielded(op.body).operands
        seeds = {i for i in range(n) if _is_used(op.outputs[i])
                 or _is_used(op.cond.block.args[i])}
        live, ops = live_carries(body, yielded, n, seeds, [])
        if len(live) == n:
            if changed:
                self.applied()
            return
        keep = sorted(live)
        dead = [i for i in range(n) if i not in live]
        term = op.yielded(op.body)
        term.operands = [yielded[i] for i in keep]
        rewriter.notify_op_modified(term)
        _drop(rewriter, body, ops, dead)
        for i in sorted(dead, reverse=True):
            rewriter.erase_block_argument(op.cond.block.args[i])
        new = lax.WhileOp([op.init[i] for i in keep], _take(op.cond), _take(op.body))
        _replace_loop(rewriter, op, new, keep)
        count("canonicalize", "carried values removed", len(dead))
        self.applied()

    def _scan(self, op: lax.ScanOp, rewriter: PatternRewriter) -> None:
        body, n = op.body.block, op.num_carry
        changed = _forward_pass_through(rewriter, op.init, [op.body], body, n,
                                        op.carry_outputs)
        term = op.yielded(op.body)
        yielded = term.operands
        for i in range(n):
            if not _is_used(op.outputs[i]):
                continue
            if op.int("length") == 0:  # no step: the carry is its init
                rewriter.replace_all_uses_with(op.outputs[i], op.init[i])
                changed = True
            elif not op.is_ancestor(yielded[i].owner):  # what the last step yields
                rewriter.replace_all_uses_with(op.outputs[i], yielded[i])
                changed = True
        ys_keep = [j for j, y in enumerate(op.ys) if _is_used(y)]
        seeds = {i for i in range(n) if _is_used(op.outputs[i])}
        live, ops = live_carries(body, yielded, n, seeds, [yielded[n + j] for j in ys_keep])
        keep = sorted(live)
        kept_yields = [yielded[i] for i in keep] + [yielded[n + j] for j in ys_keep]
        read = {v for o in ops for v in _reads(o)}.union(kept_yields)
        xs_keep = [k for k in range(len(op.xs)) if body.args[n + k] in read]
        if len(live) == n and len(ys_keep) == len(op.ys) and len(xs_keep) == len(op.xs):
            if changed:
                self.applied()
            return
        term.operands = kept_yields
        rewriter.notify_op_modified(term)
        dead_args = [i for i in range(n) if i not in live] + \
            [n + k for k in range(len(op.xs)) if k not in xs_keep]
        _drop(rewriter, body, ops, dead_args)
        new = lax.ScanOp([op.init[i] for i in keep], [op.xs[k] for k in xs_keep],
                         [op.ys[j].type for j in ys_keep], _take(op.body), op.int("length"),
                         bool(op.int("reverse")), op.int("unroll"))
        _replace_loop(rewriter, op, new, keep + [n + j for j in ys_keep])
        count("canonicalize", "carried values removed", n - len(keep))
        count("canonicalize", "scan outputs removed", len(op.ys) - len(ys_keep))
        self.applied()


def _inline_region(rewriter: PatternRewriter, op: Operation, region: Region,
                   args: Sequence[SSAValue] = ()) -> None:
    """Replace `op` by the ops of single-block `region` (block arguments bound to `args`),
    its results by what the region yields."""
    block = region.block
    term = block.last_op
    assert isinstance(term, lax.YieldOp)
    values = list(term.values)
    rewriter.erase(term)
    rewriter.inline_block(block, InsertPoint.before(op), args)
    rewriter.replace(op, [], values)


def _scalar_constant(value: SSAValue) -> int | None:
    """The value of a scalar integer or bool constant, or of a clamp of constants (how
    `jax.lax.switch` bounds its index); None if `value` is neither."""
    owner = value.owner
    if isinstance(owner, lax.ClampOp):
        lo, x, hi = (_scalar_constant(v) for v in owner.operands)
        return None if lo is None or x is None or hi is None else min(max(x, lo), hi)
    if not isinstance(owner, lax.ConstantOp) or owner.value.get_shape() not in ((), [], (1,)):
        return None
    return int(constant_array(owner.value).reshape(-1)[0])


class FoldCond(_Pattern):
    # cond(c, b0, ..., bn) -> b_clamp(c, 0, n) for a constant c; one branch or identical
    # branches -> that branch whatever the index
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.CondOp)
        branches = list(op.branches)
        index = _scalar_constant(op.index)
        if index is not None:
            chosen = min(max(index, 0), len(branches) - 1)  # XLA clamps an out-of-range index
        elif all(b.is_structurally_equivalent(branches[0]) for b in branches[1:]):
            chosen = 0
        else:
            return
        _inline_region(rewriter, op, branches[chosen])
        self.applied()


class DeadCondResults(_Pattern):
    # cond results nothing uses are no longer yielded by any branch (MLIR's scf.if alike);
    # what computed them inside the branches is then dead, and `canonicalize` erases it
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.CondOp)
        keep = [i for i, r in enumerate(op.outputs) if _is_used(r)]
        if len(keep) == len(op.outputs) or not keep:  # none used: dce erases the whole op
            return
        for branch in op.branches:
            term = op.yielded(branch)
            term.operands = [term.operands[i] for i in keep]
            rewriter.notify_op_modified(term)
        new = lax.CondOp(op.index, [op.outputs[i].type for i in keep],
                         [_take(b) for b in op.branches])
        _replace_loop(rewriter, op, new, keep)
        self.applied()


def _evaluate_cond(op: lax.WhileOp) -> bool | None:
    """What the cond region of `op` yields on its inits, if everything it reads is constant
    and small and every op in it has a reference rule; None otherwise."""
    # Imported here for start-up time: the reference rules load scipy.special (~150 ms), which
    # every process loading `canonicalize` (O1, `tiers-opt -p canonicalize`) would pay at the
    # top, though only IR holding a `lax.while` calls this.
    from tiers.targets.reference.rules import RULES

    block = op.cond.block
    if len(block.ops) > MAX_COND_OPS:
        return None
    env: dict[SSAValue, np.ndarray] = {}

    def known(v: SSAValue) -> np.ndarray | None:
        if v in env:
            return env[v]
        owner = v.owner
        if isinstance(owner, lax.ConstantOp) and isinstance(owner.value,
                                                            DenseIntOrFPElementsAttr):
            if int(np.prod(owner.value.get_shape())) > MAX_COND_ELEMENTS:
                return None
            env[v] = constant_array(owner.value)
            return env[v]
        return None

    for arg, init in zip(block.args, op.init, strict=True):
        if arg.first_use is None:
            continue
        value = known(init)
        if value is None:
            return None
        env[arg] = value
    for inner in block.ops:
        if isinstance(inner, lax.YieldOp):
            result = known(inner.values[0])
            return None if result is None else bool(np.asarray(result).reshape(-1)[0])
        if isinstance(inner, lax.ConstantOp):
            continue  # read by `known` when used
        if inner.regions or type(inner) not in RULES or not inner.has_trait(Pure) or any(
                int(np.prod(r.type.get_shape())) > MAX_COND_ELEMENTS
                for r in inner.results):
            return None
        args = [known(v) for v in inner.operands]
        if any(a is None for a in args):
            return None
        with np.errstate(all="ignore"):
            outs = RULES[type(inner)](inner, *args)
        outs = [outs] if len(inner.results) == 1 else list(outs)
        for r, value in zip(inner.results, outs, strict=True):
            env[r] = np.asarray(value)
    return None


class WhileFalseAtEntry(_Pattern):
    # while(cond, body, init) -> init when cond(init) is false (the body never runs)
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        assert isinstance(op, lax.WhileOp)
        if _evaluate_cond(op) is False:
            rewriter.replace(op, [], list(op.init))
            self.applied()


# The control-flow patterns by op class (`canonicalization.patterns_for` looks here too).
PATTERNS: dict[type[Operation], tuple[RewritePattern, ...]] = {
    lax.CondOp: (FoldCond(), DeadCondResults()),
    lax.WhileOp: (WhileFalseAtEntry(), DeadCarries()),
    lax.ScanOp: (DeadCarries(),),
}
