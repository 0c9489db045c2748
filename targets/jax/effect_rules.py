"""JAX rules of the callback ops (`dialects/lax_effects.py`): each binds JAX's own primitive
with the Python callback the op holds, so JAX lowers it (host callback, `has_side_effect`) and
threads its tokens where it is ordered. `lax_rules.py` joins `EFFECT_RULES` into its half.

A program holding a callback is therefore lowered by JAX from these rules as a whole (the
"walk" emission, `tiers.targets.jax.lower`): the callback is registered with the executable
being compiled, and an ordered one gets the enclosing computation's token.
"""

from __future__ import annotations

from typing import Any

from tiers.dialects import lax
from tiers.dialects.lax_effects import EFFECT_OPS, bind_eqn, jax_params
from tiers.dialects.primitives import primitive
from tiers.targets.walk import OpRule


def bind(op: lax.CallbackOp, *args: Any) -> list[Any]:
    """`op`'s JAX primitive bound on `args` with the op's callback: its results."""
    prim = op.host.primitive or primitive(op.PRIMITIVE)  # `lax.opaque` holds its own
    outs = bind_eqn(prim, args, jax_params(op))
    return list(outs) if prim.multiple_results else [outs]


def _rule(op: lax.CallbackOp, *args: Any) -> Any:
    outs = bind(op, *args)
    return outs[0] if len(op.results) == 1 else tuple(outs)


EFFECT_RULES: dict[type, OpRule] = dict.fromkeys(EFFECT_OPS, _rule)
