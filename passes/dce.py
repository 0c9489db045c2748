"""`dce`: xDSL's dead code elimination (same name and result) in one backward sweep.

xDSL's `dce` propagates liveness over the whole module until nothing changes (two or more
full sweeps, each asking every op's effect traits), then erases what is not live. In a region
of one block, SSA dominance puts every user after its operands' definitions, so one sweep
from the last op back, nested ops before their parent, erasing each op that is unused and
free of effects, erases everything that liveness would: an op's users are all decided before
it is. Regions of several blocks (where block arguments can carry dead cycles, and whole
blocks can die) go to xDSL's liveness DCE unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.rewriter import Rewriter
from xdsl.transforms.dead_code_elimination import (
    DeadCodeElimination,
    region_dce,
    would_be_trivially_dead,
)

from tiers.passes.canonicalize import only_pure
from tiers.passes.collector import gc_paused


def dce(module: ModuleOp) -> None:
    """Erase every op of `module` whose results are unused and that has no effects."""
    with gc_paused():
        ops = list(module.walk(reverse=True, region_first=True))
        if any(len(r.blocks) > 1 for op in ops for r in op.regions):
            region_dce(module.body)
            return
        for op in ops:  # users (and nested ops) before the ops they use
            if op is module or any(r.first_use is not None for r in op.results):
                continue
            if (op.regions or not only_pure(type(op))) and not would_be_trivially_dead(op):
                continue
            Rewriter.erase_op(op)


@dataclass(frozen=True)
class DCEPass(DeadCodeElimination):
    """xDSL's `dce` (same name and result), in one backward sweep."""

    name = "dce"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        dce(op)
