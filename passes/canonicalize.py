"""`canonicalize`: MLIR's canonicalizer, with a driver that visits only the ops that can change.

The patterns, folders and semantics are xDSL's (= MLIR's): each op's
`HasCanonicalizationPatternsTrait` patterns and `HasFolder` folder are applied greedily, and
ops that are pure and unused are erased, until nothing changes. xDSL's driver does this by
sending every op of the module through a generic applier (a dead-op check, a folder lookup,
a trait lookup, a fresh pattern list) at least twice, with a full liveness DCE after each
sweep: ~45 us/op, 3 s of overhead on a 100k-op module before any pattern matches. This one
looks up an op class's patterns, folder and purity once, seeds a worklist with only the ops
that have patterns or a folder (every op is checked once for deadness), and re-adds what a
change can affect, as MLIR's `GreedyPatternRewriteDriver` does: the users of replaced
results, new and modified ops, and the defining ops of an erased op's operands. Rounds repeat
until one changes nothing (MLIR's fixed point); nested regions are walked like any block.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.folder import Folder
from xdsl.ir import Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriterListener, RewritePattern
from xdsl.rewriter import InsertPoint
from xdsl.traits import (
    ConstantLike,
    HasCanonicalizationPatternsTrait,
    HasFolder,
    IsTerminator,
    MemoryEffect,
    Pure,
    SymbolOpInterface,
)
from xdsl.transforms.canonicalize import CanonicalizePass as XdslCanonicalizePass
from xdsl.transforms.dead_code_elimination import region_dce, would_be_trivially_dead
from xdsl.utils.worklist import Worklist

from tiers.passes.collector import gc_paused

MAX_ROUNDS = 10  # MLIR's GreedyRewriteConfig::maxIterations


@dataclass(frozen=True)
class _ClassInfo:
    """What the driver needs to know of an op class, looked up once per class."""

    patterns: tuple[RewritePattern, ...]
    folds: bool  # has a folder and is not a constant (folding one would loop)
    pure: bool  # `Pure` and nothing else that keeps it: dead when no result is used

    @property
    def visited(self) -> bool:
        return bool(self.patterns) or self.folds


@functools.cache
def only_pure(cls: type[Operation]) -> bool:
    """Whether a regionless op of class `cls` is dead exactly when its results are unused and
    free of effects: `Pure` is its only effect trait, and it is no terminator or symbol, which
    xDSL's `would_be_trivially_dead` keeps. Such ops can skip xDSL's per-op effect queries."""
    # xDSL looks traits up by their abstract base class, which mypy rejects (mypy#4717).
    effects = cls.get_traits_of_type(MemoryEffect)  # type: ignore[type-abstract]
    return len(effects) == 1 and isinstance(effects[0], Pure) and not (
        cls.has_trait(IsTerminator, value_if_unregistered=True)
        or cls.has_trait(SymbolOpInterface, value_if_unregistered=True))


def _class_info(cls: type[Operation]) -> _ClassInfo:
    traits = cls.get_traits_of_type(HasCanonicalizationPatternsTrait)  # type: ignore[type-abstract]
    patterns = tuple(p for trait in traits for p in trait.get_patterns(cls))
    folds = cls.has_trait(HasFolder, value_if_unregistered=False) and \
        not cls.has_trait(ConstantLike, value_if_unregistered=True)
    return _ClassInfo(patterns, folds, only_pure(cls))


class _Driver:
    """One run of the greedy driver over a module; `run` returns whether it changed it."""

    def __init__(self, ctx: Context, root: Operation):
        self.root, self.folder = root, Folder(ctx)
        self.info: dict[type[Operation], _ClassInfo] = {}
        self.worklist: Worklist[Operation] = Worklist()
        self.multi_block = False  # a region with several blocks: xDSL's DCE drops dead blocks
        listener = PatternRewriterListener(
            operation_insertion_handler=[self._push],
            operation_removal_handler=[self._removed],
            operation_modification_handler=[self._push],
            operation_replacement_handler=[self._replaced])
        self.rewriter = PatternRewriter(InsertPoint.at_start(root.regions[0].blocks[0]))
        self.rewriter.extend_from_listener(listener)

    def _info(self, op: Operation) -> _ClassInfo:
        info = self.info.get(type(op))
        if info is None:
            info = self.info[type(op)] = _class_info(type(op))
        return info

    def _dead(self, op: Operation, info: _ClassInfo) -> bool:
        for r in op.results:
            if r.first_use is not None:
                return False
        if info.pure and not op.regions:
            return True
        return op.parent is not None and would_be_trivially_dead(op)

    def _push(self, op: Operation) -> None:
        self.worklist.push(op)

    def _replaced(self, op: Operation, new_results: Sequence[SSAValue | None]) -> None:
        for result in op.results:
            for use in result.uses:
                self.worklist.push(use.operation)

    def _removed(self, op: Operation) -> None:
        # The defining ops of its operands may now be dead, or match with fewer uses.
        for operand in op.operands:
            owner = operand.owner
            if isinstance(owner, Operation):
                self.worklist.push(owner)
        for nested in op.walk():
            self.worklist.remove(nested)

    def _seed(self) -> None:
        """Every op that has patterns or a folder, and every dead op, in program order."""
        ops = []
        for op in self.root.walk():
            if len(op.regions) and any(len(r.blocks) > 1 for r in op.regions):
                self.multi_block = True
            info = self._info(op)
            if info.visited or self._dead(op, info):
                ops.append(op)
        for op in reversed(ops):  # a stack: the first op of the program is popped first
            self.worklist.push(op)

    def _visit(self, op: Operation) -> bool:
        info = self._info(op)
        rewriter = self.rewriter
        rewriter.has_done_action = False
        rewriter.current_operation = op
        rewriter.insertion_point = InsertPoint.before(op)
        rewriter.name_hint = None
        try:
            if self._dead(op, info):
                rewriter.erase(op)
                return True
            if info.folds:
                folded = self.folder.try_fold(op)
                if folded is not None:
                    rewriter.replace(op, folded[1], folded[0])
                    return True
            for pattern in info.patterns:
                pattern.match_and_rewrite(op, rewriter)
                if rewriter.has_done_action:
                    return True
        except Exception as err:  # as xDSL's walker: name the op the pattern failed on
            op.emit_error(f"Error while applying pattern: {err}", underlying_error=err)
        return rewriter.has_done_action

    def run(self) -> bool:
        changed = False
        for _ in range(MAX_ROUNDS):
            self._seed()
            round_changed = False
            while self.worklist:
                op = self.worklist.pop()
                if op.parent is not None or op is self.root:
                    round_changed |= self._visit(op)
            if self.multi_block:
                round_changed |= region_dce(self.root.regions[0])
            changed |= round_changed
            if not round_changed:
                break
        return changed


def canonicalize(module: ModuleOp, ctx: Context) -> bool:
    """Apply every canonicalization pattern and folder of `module`'s ops, and erase dead pure
    ops, until nothing changes; returns whether anything did."""
    with gc_paused():
        return _Driver(ctx, module).run()


@dataclass(frozen=True)
class CanonicalizePass(XdslCanonicalizePass):
    """xDSL's `canonicalize` (same name, options and result), driven by a worklist."""

    name = "canonicalize"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        canonicalize(op, ctx)
