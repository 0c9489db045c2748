"""The JAX target's rule tables, keyed by tiers op class.

`RULES`: functions of JAX values for the walk (`walk.Walker`, the "walk" emission and the
"kernels" mode). `EMIT_RULES`: StableHLO emission rules (`hlo.py`, the default emission); an
op without one is lowered by JAX from its `RULES` entry. Each joins the parts defined in
their own modules. A plugin adds rules for its own ops here (`RULES[MyOp] = rule`, and
optionally `EMIT_RULES[MyOp] = emit_rule`): the target reads these dicts.
"""

from __future__ import annotations

from tiers.targets.jax.array_rules import ARRAY_RULES
from tiers.targets.jax.hlo import EmitRule
from tiers.targets.jax.hlo_array import HLO_ARRAY_RULES
from tiers.targets.jax.hlo_complex import HLO_COMPLEX_RULES
from tiers.targets.jax.hlo_effects import HLO_EFFECT_RULES
from tiers.targets.jax.hlo_indexing import HLO_INDEXING_RULES
from tiers.targets.jax.hlo_lax import HLO_LAX_RULES
from tiers.targets.jax.hlo_reduce import HLO_REDUCE_RULES
from tiers.targets.jax.hlo_regions import HLO_REGION_RULES
from tiers.targets.jax.hlo_windows import HLO_WINDOW_RULES
from tiers.targets.jax.key_rules import HLO_KEY_RULES
from tiers.targets.jax.lax_rules import LAX_RULES
from tiers.targets.walk import OpRule

RULES: dict[type, OpRule] = {**LAX_RULES, **ARRAY_RULES}
EMIT_RULES: dict[type, EmitRule] = {**HLO_LAX_RULES, **HLO_INDEXING_RULES, **HLO_REDUCE_RULES,
                                    **HLO_WINDOW_RULES, **HLO_REGION_RULES, **HLO_ARRAY_RULES,
                                    **HLO_EFFECT_RULES, **HLO_COMPLEX_RULES,
                                    **HLO_KEY_RULES}
