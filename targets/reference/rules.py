"""The reference target's rule table: tiers op class -> numpy function (`walk.Walker`).

It joins the rules of the two dialects the target runs, each defined in its own module. A
plugin adds rules for its own ops here (`RULES[MyOp] = rule`): the target and the passes
that evaluate ops on constants (`fold-constants`, ...) read this dict.
"""

from __future__ import annotations

from tiers.targets.reference.array_rules import ARRAY_RULES
from tiers.targets.reference.lax_rules import LAX_RULES
from tiers.targets.walk import OpRule

RULES: dict[type, OpRule] = {**LAX_RULES, **ARRAY_RULES}
