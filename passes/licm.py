"""`licm`: loop-invariant code motion out of `lax.while`, `lax.scan` and `scf.for`.

xDSL's `licm` (same name, replaced by this one in the registry) hoists out of `scf.for` only.
This one reuses its test of what may move (`can_be_hoisted`: nothing the op or its nested ops
read is defined at the loop's level; plus `is_side_effect_free` and `is_speculatable`) and
applies it to the regions of tiers' loops as well: the `cond` and `body` regions of
`lax.while` and the `body` of `lax.scan`. Loops are visited innermost first, so an invariant
op climbs out of every loop it does not depend on, and the ops of one region are visited once
in program order (operands before users), so one sweep finds every invariant op: linear.

Why hoisting out of a `while` body (which may run zero times) is sound: the ops that move
are `Pure` (no memory effects) and speculatable, and XLA's ops do not trap (integer division
by zero, out-of-range gathers and the like have defined results), so computing one once more
before the loop changes no result and raises nothing. A `while` nested in a loop is not
speculatable (it need not terminate) and stays. The `cond` region runs at least once, so
anything side-effect free there may move. `lax.cond` branches are not loops: hoisting out of
one would compute it unconditionally, so they are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import builtin, scf
from xdsl.ir import Operation, Region
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.traits import is_side_effect_free, is_speculatable
from xdsl.transforms.loop_invariant_code_motion import (
    LoopInvariantCodeMotionPass,
    can_be_hoisted,
)

from tiers.dialects import lax
from tiers.passes.statistics import count


def loop_regions(op: Operation) -> list[tuple[Region, bool]]:
    """The regions of loop `op` that code may be hoisted out of, each with whether it runs
    at least once per execution of the loop (then ops need not be speculatable)."""
    if isinstance(op, lax.WhileOp):
        return [(op.cond, True), (op.body, False)]
    if isinstance(op, lax.ScanOp):
        return [(op.body, False)]
    if isinstance(op, scf.ForOp):
        return [(op.body, False)]
    return []


def hoist_out_of(loop: Operation) -> int:
    """Move the invariant ops of `loop`'s regions to just before it; returns how many."""
    moved = 0
    for region, runs_once in loop_regions(loop):
        for op in list(region.block.ops):
            if (is_side_effect_free(op) and (runs_once or is_speculatable(op))
                    and can_be_hoisted(op, region)):
                op.detach()
                Rewriter.insert_op(op, InsertPoint.before(loop))
                moved += 1
    return moved


def hoist_loop_invariants(root: Operation) -> int:
    """Hoist loop-invariant ops out of every loop under `root`, innermost loops first, as far
    out as they go; returns how many moves were made (an op leaving two loops counts 2)."""
    loops = [op for op in root.walk() if loop_regions(op)]
    # Pre-order lists an outer loop before the loops inside it: reversed, inner ones go first,
    # and what they hoist lands in the outer loop's region before the outer loop is visited.
    moved = sum(hoist_out_of(loop) for loop in reversed(loops))
    count("licm", "ops hoisted", moved)
    return moved


@dataclass(frozen=True)
class LicmPass(LoopInvariantCodeMotionPass):
    """Hoist loop-invariant, side-effect-free ops out of `lax.while`, `lax.scan`, `scf.for`."""

    name = "licm"

    def apply(self, ctx: Context, op: builtin.ModuleOp) -> None:
        hoist_loop_invariants(op)
