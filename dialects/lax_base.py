"""What every module of the `lax` dialect shares: the op base class, the canonicalization
trait and the small helpers for tensor types, properties and verifier errors.

`lax.py` (the ops), `lax_regions.py` (the control-flow ops) and `lax_windows.py` (the windowed
ops) build on this module, and `lax.py` re-exports its public names, so
`from tiers.dialects import lax` sees them all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from xdsl.dialects.builtin import DenseArrayBase, IntegerAttr, TensorType, i1, i64
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import irdl_to_attr_constraint
from xdsl.pattern_rewriter import RewritePattern
from xdsl.traits import HasCanonicalizationPatternsTrait, OpTrait
from xdsl.utils.exceptions import VerifyException

from tiers.dialects import syntax

# Any tensor, as the constraint IRDL makes of `TensorType[Attribute]`: made once here, since
# IRDL would derive it again for each of the ~250 operands and results that name it.
Tensor = irdl_to_attr_constraint(TensorType[Attribute])


def ints(values: Sequence[int]) -> DenseArrayBase:
    """An i64 array property, e.g. `axes [0, 1]`."""
    return DenseArrayBase.from_list(i64, [int(v) for v in values])


def int_attr(value: int) -> IntegerAttr:
    """An i64 integer property, e.g. `dimension 1`."""
    return IntegerAttr(int(value), i64)


def bool_attr(value: bool) -> IntegerAttr:
    """A flag property, an i1 integer, e.g. `reverse false`."""
    return IntegerAttr(int(bool(value)), i1)


def shape(value: SSAValue | Attribute) -> tuple[int, ...]:
    """The shape of a tensor value or tensor type."""
    t = value.type if isinstance(value, SSAValue) else value
    assert isinstance(t, TensorType)
    return tuple(t.get_shape())


def elem(value: SSAValue | Attribute) -> Attribute:
    """The element type of a tensor value or tensor type."""
    t = value.type if isinstance(value, SSAValue) else value
    assert isinstance(t, TensorType)
    return t.element_type


def fail(op: Operation, message: str) -> None:
    """Raise the verifier error `'lax.xxx': message`."""
    raise VerifyException(f"'{op.name}': {message}")


@dataclass(frozen=True)
class LaxCanonicalization(HasCanonicalizationPatternsTrait):
    """The op's patterns for xDSL's `canonicalize`, kept in `tiers.passes.canonicalization`
    by op class, so the algebra lives in one place and the dialect stays declarations."""

    def get_patterns(self, op: type[Operation]) -> tuple[RewritePattern, ...]:
        # The one upward import of the dialects floor (tests/test_layering.py allows it):
        # passes sit above dialects, so the patterns are fetched lazily, when `canonicalize`
        # first asks, as MLIR's getCanonicalizationPatterns is called by the driver.
        from tiers.passes.canonicalization import patterns_for

        return patterns_for(op)

    @classmethod
    def get_canonicalization_patterns(cls) -> tuple[RewritePattern, ...]:
        return ()


class LaxOp(syntax.SyntaxOp):
    """Base of every `lax` op: the shared syntax and the primitive it stands for."""

    PRIMITIVE: ClassVar[str]


# -- verification, once per signature ---------------------------------------------------------
# An op without regions or successors whose traits check nothing verifies from its own types,
# properties and attributes alone (the `lax` verifiers read nothing else), so one signature
# verified is verified everywhere. xDSL's generic IRDL checks cost ~30 us per op, most of the
# verification after a pipeline; a 1000-op chain has a handful of signatures.
_VERIFIED: set[tuple] = set()
_VERIFIED_BOUND = 1 << 14


def verify_once_per_signature(classes: Sequence[type[Operation]]) -> None:
    """Make each of `classes` that qualifies (above) skip checks it passed before."""
    for cls in classes:
        definition = cls.get_irdl_definition()  # type: ignore[attr-defined]
        if definition.regions or definition.successors or any(
                type(t).verify is not OpTrait.verify for t in definition.traits):
            continue
        cls.verify_ = _once(cls.verify_)  # type: ignore[method-assign, assignment]


def _once(checked: Callable[[Operation], None]) -> Callable[[Operation], None]:
    def verify_(op: Operation) -> None:
        try:
            key = (type(op), *[v.type for v in op.operands], None,
                   *[r.type for r in op.results], *op.properties.items(),
                   *op.attributes.items())
            known = key in _VERIFIED
        except TypeError:  # an attribute without a hash: check every time
            checked(op)
            return
        if not known:
            checked(op)
            if len(_VERIFIED) >= _VERIFIED_BOUND:
                _VERIFIED.clear()
            _VERIFIED.add(key)

    return verify_
