"""`cse`: xDSL's common subexpression elimination (same name, semantics and result), with its
per-op costs taken out so that it stays cheap on 100k-op modules.

xDSL's driver recomputes an op's structural hash (name, properties, attributes, result types,
operands) at every dict probe and again inside every equality test, asks every op's effect
traits three times, and copies its whole table of known ops on entering each nested region,
which is quadratic in the number of region ops (`fused.kernel`, control flow). Here a key
hashes its op once (the dict keeps that hash anyway, and known ops are never changed while
known), pure regionless op classes skip the effect queries, and scopes are a stack of dicts
(MLIR's `ScopedHashTable`) instead of copies.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation, Region
from xdsl.traits import IsolatedFromAbove
from xdsl.transforms.common_subexpression_elimination import (
    CommonSubexpressionElimination,
    CSEDriver,
    KnownOps,
    OperationInfo,
)

from tiers.passes.canonicalize import only_pure
from tiers.passes.collector import gc_paused


class _Info(OperationInfo):
    """xDSL's structural key of an op (its `__eq__`), hashed once and more cheaply: the op's
    class, operands, properties and attributes (not its result types, which are the same for
    equal operands nearly always, and which `__eq__` still compares)."""

    def __init__(self, op: Operation):
        self.op = op
        props = op.properties
        attrs = op.attributes
        self._hash = hash((type(op), op._operands,  # pyright: ignore[reportPrivateUsage]
                           sum(map(hash, props.items())) if props else 0,
                           sum(map(hash, attrs.items())) if attrs else 0))

    def __hash__(self) -> int:
        return self._hash

    __eq__ = OperationInfo.__eq__


class _ScopedKnownOps(KnownOps):
    """Known ops per scope, innermost last; a lookup sees every enclosing scope."""

    def __init__(self) -> None:
        self._scopes: list[dict[OperationInfo, Operation]] = [{}]

    def push(self) -> None:
        self._scopes.append({})

    def pop_scope(self) -> None:
        self._scopes.pop()

    def __getitem__(self, k: Operation) -> Operation:
        found = self.get(k)
        if found is None:
            raise KeyError(k)
        return found

    def __setitem__(self, k: Operation, v: Operation) -> None:
        self._scopes[-1][_Info(k)] = v

    def __contains__(self, k: Operation) -> bool:
        return self.get(k) is not None

    def get(self, k: Operation, default: object = None):
        found = self.find(_Info(k))
        return default if found is None else found

    def find(self, key: _Info) -> Operation | None:
        """The known op equal to `key`'s, innermost scope first."""
        for scope in reversed(self._scopes):
            found = scope.get(key)
            if found is not None:
                return found
        return None

    def add(self, key: _Info, op: Operation) -> None:
        self._scopes[-1][key] = op

    def pop(self, k: Operation) -> Operation:
        return self._scopes[-1].pop(_Info(k))


@dataclass
class _Driver(CSEDriver):
    """xDSL's CSE driver with scoped tables and a fast path for pure regionless ops."""

    def __post_init__(self) -> None:
        self._known_ops = _ScopedKnownOps()

    def _simplify_operation(self, op: Operation) -> None:
        if op.regions or not only_pure(type(op)):
            return super()._simplify_operation(op)
        if all(r.first_use is None for r in op.results):
            self._mark_erasure(op)  # trivially dead
            return
        known, key = self._known_ops, _Info(op)
        assert isinstance(known, _ScopedKnownOps)
        existing = known.find(key)
        if existing is not None:
            self._replace_and_delete(op, existing)
        else:
            known.add(key, op)

    def _simplify_block(self, block: Block) -> None:
        for op in block.ops:
            if op.regions:
                if op.has_trait(IsolatedFromAbove, value_if_unregistered=True):
                    # nothing from outside is visible inside: a blank table, as xDSL's
                    outer, self._known_ops = self._known_ops, _ScopedKnownOps()
                    for region in op.regions:
                        self._simplify_region(region)
                    self._known_ops = outer
                else:
                    for region in op.regions:
                        self._simplify_region(region)
            self._simplify_operation(op)

    def _simplify_region(self, region: Region) -> None:
        if len(region.blocks) == 1:  # xDSL leaves regions of several blocks alone, as MLIR
            known = self._known_ops
            assert isinstance(known, _ScopedKnownOps)
            known.push()
            self._simplify_block(region.block)
            known.pop_scope()


def cse(module: Operation) -> None:
    """Merge equal pure ops of `module` whose first occurrence dominates the other; erase
    trivially dead ops."""
    with gc_paused():
        _Driver().simplify(module)


@dataclass(frozen=True)
class CSEPass(CommonSubexpressionElimination):
    """xDSL's `cse` (same name, options and result), with per-op costs taken out."""

    name = "cse"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        cse(op)
