"""`fuse`: groups `lax` ops into `fused.kernel` regions.

What fuses: chains of elementwise ops, elementwise producers into a reduction (which ends its
group), and broadcasts into their consumers. Small constants used by a group are cloned into
it when `duplicate-cheap` is on, so one constant does not tie groups together; so is a
broadcast of such a constant (`x * 2.0` imports as a multiply by a broadcast scalar, which
`cse` then shares program-wide): it never joins a group, each group using it gets its own copy.

One linear sweep per block, in program order. A group stays open while no op outside it uses
its values; an op joins (and merges) the open groups of its operands. A kernel is placed at
its last member, so every input is defined before it, and since a group closes as soon as an
outside op uses it, every outside user comes after it: no cycles, and no reordering beyond
moving members down to the kernel. Fusion never crosses a region boundary: each block is
fused on its own and ops with regions are never members.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects.builtin import (
    ArrayAttr,
    FusedLoc,
    LocationAttr,
    ModuleOp,
    NoneAttr,
    UnknownLoc,
)
from xdsl.ir import Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter

from tiers.dialects import fused, lax
from tiers.passes.collector import gc_paused
from tiers.passes.statistics import count

ELEMENTWISE = (lax.ElementwiseOp, lax.ConvertElementTypeOp, lax.SelectNOp, lax.ClampOp,
               lax.BroadcastInDimOp, lax.IotaOp)
REDUCTIONS = (lax.ReduceSumOp, lax.ReduceProdOp, lax.ReduceMaxOp, lax.ReduceMinOp,
              lax.ReduceAndOp, lax.ReduceOrOp, lax.ReduceXorOp)
FUSIBLE = ELEMENTWISE + REDUCTIONS
CHEAP_CONSTANT_ELEMENTS = 16


@dataclass(eq=False)
class _Group:
    ops: list[Operation] = field(default_factory=list)
    closed: bool = False


def _cheap_constant(value: SSAValue) -> bool:
    """A constant of a few elements, or a splat (`fold-constants` makes `broadcast(2.0)` a
    dense splat of up to `max-elements`; XLA materializes it as cheaply as the broadcast)."""
    op = value.owner
    if not isinstance(op, lax.ConstantOp):
        return False
    n = len(op.value)
    if n <= CHEAP_CONSTANT_ELEMENTS:
        return True
    data = op.value.data.data  # xDSL stores a splat expanded: compare bytes (C speed)
    width = len(data) // n
    head = data[:width]
    return data[:width * 16] == head * 16 and data == head * n


def _cheap_broadcast(op: Operation) -> bool:
    """A broadcast of a small constant: as cheap to recompute in every kernel as a constant."""
    return isinstance(op, lax.BroadcastInDimOp) and _cheap_constant(op.operand)


def fuse_block(block: Block, max_ops: int, duplicate_cheap: bool) -> list[fused.KernelOp]:
    """Fuse the ops of one block; returns the kernels made."""
    group_of: dict[Operation, _Group] = {}
    groups: list[_Group] = []
    for op in list(block.ops):
        if duplicate_cheap and _cheap_broadcast(op):
            continue  # cloned into each group that uses it (`_outline`), never a member
        producers = {group_of[o] for v in _used_values(op)
                     if isinstance(o := v.owner, Operation) and o in group_of}
        fusible = isinstance(op, FUSIBLE) and not op.regions
        joinable = [g for g in producers if not g.closed] if fusible else []
        if sum(len(g.ops) for g in joinable) >= max_ops:
            joinable = []  # too big together: the op starts a group of its own
        if fusible:
            group = joinable[0] if joinable else _Group()
            if not joinable:
                groups.append(group)
            for other in joinable[1:]:  # merging open groups: none has outside users yet
                for member in other.ops:
                    group_of[member] = group
                group.ops.extend(other.ops)
                other.ops, other.closed = [], True
            group.ops.append(op)
            group_of[op] = group
            producers -= set(joinable)
            if isinstance(op, REDUCTIONS):
                group.closed = True  # a reduction ends its group: consumers start anew
        for g in producers:  # an outside op now uses these groups' values
            g.closed = True
    order = {op: i for i, op in enumerate(block.ops)}
    kernels = []
    for group in groups:
        members = sorted(group.ops, key=order.__getitem__)
        if len(members) >= 2:
            kernels.append(_outline(block, members, duplicate_cheap))
    return kernels


def _used_values(op: Operation) -> Iterable[SSAValue]:
    """The values `op` reads: its operands, and for an op with regions also the outer values
    its nested ops read (a group they come from must be closed before `op`, or its kernel,
    placed at its last member, would come after a use)."""
    if not op.regions:
        return op.operands
    return [v for inner in op.walk() for v in inner.operands]


def _outline(block: Block, members: list[Operation], duplicate_cheap: bool) -> fused.KernelOp:
    inside = set(members)
    inputs: list[SSAValue] = []
    cloned: list[Operation] = []  # constants and cheap broadcasts, each after its operand
    seen: set[SSAValue] = set()
    for op in members:
        for v in op.operands:
            if v.owner in inside or v in seen:
                continue
            seen.add(v)
            owner = v.owner
            if not (duplicate_cheap and isinstance(owner, Operation)
                    and (_cheap_constant(v) or _cheap_broadcast(owner))):
                inputs.append(v)
                continue
            chain = [owner]
            if owner.operands:  # a cheap broadcast: its operand is a (cheap) constant's result
                constant = owner.operands[0].owner
                assert isinstance(constant, Operation), "a cheap broadcast reads a constant"
                chain.insert(0, constant)
            cloned.extend(c for c in chain if c not in cloned)
    outputs = [r for op in members for r in op.results
               if any(u.operation not in inside for u in r.uses)]
    body = Block(arg_types=[v.type for v in inputs])
    mapping: dict[SSAValue, SSAValue] = dict(zip(inputs, body.args, strict=True))
    for const in cloned:
        body.add_op(const.clone(value_mapper=mapping))
    kernel = fused.KernelOp.build(
        operands=[inputs], result_types=[[r.type for r in outputs]], regions=[[body]])
    kernel.location = _fused_location(op.location for op in members)
    block.insert_op_before(kernel, members[-1])
    for old, new in zip(outputs, kernel.results, strict=True):
        old.replace_uses_with_if(new, lambda use: use.operation not in inside)
    # The members move into the body (cloning and erasing them cost 3x more): their operands
    # from outside become block arguments or the cloned constants.
    for op in members:
        op.detach()
        body.add_op(op)
        for i, v in enumerate(op.operands):
            if (inner := mapping.get(v)) is not None:
                op.operands[i] = inner
    body.add_op(fused.YieldOp.build(operands=[outputs]))
    for const in reversed(cloned):  # a broadcast before its constant
        if not any(r.uses for r in const.results):
            Rewriter.erase_op(const)
    count("fuse", "kernels")
    count("fuse", "ops fused", len(members))
    return kernel


def _fused_location(locations: Iterable[LocationAttr]) -> LocationAttr:
    unique = list(dict.fromkeys(loc for loc in locations if not isinstance(loc, UnknownLoc)))
    if not unique:
        return UnknownLoc()
    if len(unique) == 1:
        return unique[0]
    return FusedLoc(ArrayAttr(unique), NoneAttr())


def fuse(module: ModuleOp, max_ops: int = 64, duplicate_cheap: bool = True) -> int:
    """Fuse every block of every function in `module`; returns the number of kernels made."""
    blocks = [b for op in module.walk() if not isinstance(op, fused.KernelOp)
              for r in op.regions for b in r.blocks if op is not module]
    return sum(len(fuse_block(b, max_ops, duplicate_cheap)) for b in blocks)


@dataclass(frozen=True)
class FusePass(ModulePass):
    """Options: `max-ops` (largest group), `duplicate-cheap` (clone small constants in)."""

    name = "fuse"
    requires = ("lax",)  # the contract (passes/authoring.py)
    produces = ("fused",)
    max_ops: int = 64
    duplicate_cheap: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        with gc_paused():
            fuse(op, self.max_ops, self.duplicate_cheap)


