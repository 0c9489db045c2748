"""The JAX target's rule table: tiers op class -> function of JAX values (`walk.Walker`).

It joins the rules of the two dialects the target runs, each defined in its own module. A
plugin adds rules for its own ops here (`RULES[MyOp] = rule`): the target reads this dict.
"""

from __future__ import annotations

from tiers.targets.jax.array_rules import ARRAY_RULES
from tiers.targets.jax.lax_rules import LAX_RULES
from tiers.targets.walk import OpRule

RULES: dict[type, OpRule] = {**LAX_RULES, **ARRAY_RULES}
