"""Every `lax` op has a rule in each table: the importer's, the JAX target's, the reference's.

An op is defined once and every table must know it (DESIGN.md: its dialect op, its importer
rule, its JAX rule, its reference rule); these tests name every op that a table lacks. Each
table joins two halves defined in their own modules (lax, array); the halves are disjoint.
"""

from __future__ import annotations

import pytest

from tiers.dialects import array, lax
from tiers.dialects.primitives import primitive
from tiers.frontend import highlevel, import_rules
from tiers.frontend.emitter import Emitter
from tiers.targets import reference
from tiers.targets.jax import array_rules as jax_array_rules
from tiers.targets.jax import lax_rules as jax_lax_rules
from tiers.targets.jax import rules as jax_rules
from tiers.targets.reference import array_rules as reference_array_rules
from tiers.targets.reference import lax_rules as reference_lax_rules

# Ops the importer makes without a rule keyed by their PRIMITIVE: `lax.constant` holds jaxpr
# literals and constvars (`Emitter.constant`), `lax.generic` and `lax.opaque` any primitive
# without an op of its own (`generic_rule`).
IMPORTED_WITHOUT_RULE = {lax.ConstantOp: Emitter.constant, lax.GenericOp: import_rules.generic_rule,
                         lax.OpaqueOp: import_rules.generic_rule}
# PRIMITIVE values that name no JAX primitive: the three above.
NOT_JAX_PRIMITIVES = {"constant", "generic", "opaque"}


def test_importer_has_a_rule_for_every_op() -> None:
    missing = [f"{cls.name} (primitive '{cls.PRIMITIVE}')" for cls in lax.all_ops()
               if cls not in IMPORTED_WITHOUT_RULE and cls.PRIMITIVE not in import_rules.RULES]
    assert not missing, f"no importer rule in tiers.frontend.import_rules for: {missing}"


def test_ops_imported_without_a_rule_have_their_builder() -> None:
    for cls, maker in IMPORTED_WITHOUT_RULE.items():
        assert cls.PRIMITIVE not in import_rules.RULES, cls.name
        assert callable(maker), cls.name


@pytest.mark.parametrize("target, rules", [("jax", jax_rules.RULES),
                                           ("reference", reference.RULES)])
def test_target_has_a_rule_for_every_op(target: str, rules: dict) -> None:
    ops = [*lax.all_ops(), *array.all_ops()]
    missing = [cls.name for cls in ops if cls not in rules]
    assert not missing, f"the {target} target has no rule for: {', '.join(missing)}"
    # Plugins register rules for their own ops in the same tables: only tiers' are checked.
    stale = [getattr(k, "name", repr(k)) for k in rules
             if k not in set(ops) and k.__module__.startswith("tiers.")]
    assert not stale, f"the {target} target has rules for classes that are no tiers op: {stale}"


def test_every_primitive_name_is_a_jax_primitive() -> None:
    unknown = []
    for cls in lax.all_ops():
        if cls.PRIMITIVE in NOT_JAX_PRIMITIVES:
            continue
        try:
            primitive(cls.PRIMITIVE)
        except KeyError:
            unknown.append(f"{cls.name} ('{cls.PRIMITIVE}')")
    assert not unknown, f"ops whose PRIMITIVE names no JAX primitive: {unknown}"


@pytest.mark.parametrize("table, halves", [
    (import_rules.RULES, (import_rules.LAX_RULES, highlevel.HIGHLEVEL_RULES)),
    (jax_rules.RULES, (jax_lax_rules.LAX_RULES, jax_array_rules.ARRAY_RULES)),
    (reference.RULES, (reference_lax_rules.LAX_RULES, reference_array_rules.ARRAY_RULES)),
], ids=["importer", "jax", "reference"])
def test_table_joins_its_halves(table: dict, halves: tuple[dict, dict]) -> None:
    lax_half, array_half = halves
    both = [getattr(k, "name", k) for k in set(lax_half) & set(array_half)]
    assert not both, f"rules defined in both halves (one would hide the other): {both}"
    # Plugins may have added their own rules to the joined table; none of tiers' is lost.
    assert table.items() >= {**lax_half, **array_half}.items()
    assert all(isinstance(k, str) or issubclass(k, lax.LaxOp) for k in lax_half)
    assert all(isinstance(k, str) or issubclass(k, array.ArrayOp) for k in array_half)
