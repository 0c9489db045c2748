"""The SSA dominance check that xDSL 0.74's verifier lacks (MLIR's verifier has it).

A pass that moves an op below its users, or a user above its operand, leaves IR that still
verifies op by op but cannot run. tiers IR uses single-block regions (function bodies,
`fused.kernel`, `lax.cond`/`while`/`scan` regions), where "dominates" means "defined earlier
in the same block, or visible from an enclosing block before the op holding the region". A
region of an `IsolatedFromAbove` op sees nothing from outside. Multi-block regions (xDSL's
`cf` dialect) are left to a dominator tree we do not need yet: they are skipped.
"""

from __future__ import annotations

from xdsl.ir import Operation, SSAValue
from xdsl.traits import IsolatedFromAbove
from xdsl.utils.exceptions import VerifyException


class DominanceError(VerifyException):
    """An operand that is not defined before its use; `op` is the user."""

    def __init__(self, op: Operation, message: str):
        super().__init__(message)
        self.op = op


def check_dominance(root: Operation) -> None:
    """Raise `DominanceError` at the first use not dominated by its definition (linear)."""
    _check_regions(root, set())


def _check_regions(op: Operation, visible: set[SSAValue]) -> None:
    if op.has_trait(IsolatedFromAbove):
        visible = set()
    for region in op.regions:
        if len(region.blocks) != 1:
            continue
        block = region.block
        added: list[SSAValue] = list(block.args)
        visible.update(added)
        for inner in block.ops:
            for i, operand in enumerate(inner.operands):
                if operand not in visible:
                    raise DominanceError(inner, f"operand #{i} does not dominate this use")
            if inner.regions:
                _check_regions(inner, visible)
            visible.update(inner.results)
            added.extend(inner.results)
        visible.difference_update(added)
