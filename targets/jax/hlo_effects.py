"""StableHLO emission of the callback ops: none. A host callback is a Python function that
the executable being compiled must register (JAX's `add_host_callback`) and, when ordered,
a token threaded through the whole computation; text written ahead of that compilation
cannot hold either. `tiers.targets.jax.lower` and `compile` therefore hand a program with a
callback to JAX whole (the walk of `effect_rules.py`), and asking for its text is this error.
"""

from __future__ import annotations

from typing import NoReturn

from tiers.dialects import lax
from tiers.dialects.lax_effects import EFFECT_OPS
from tiers.targets.jax.hlo import EmitRule, HloEmitter


class CallbackInText(NotImplementedError):
    """StableHLO text asked for a program that calls back into Python."""


def _refuse(em: HloEmitter, op: lax.CallbackOp, *operands: str) -> NoReturn:
    what = (f"holds JAX's primitive {op.host.name!r}" if isinstance(op, lax.OpaqueOp)
            else f"calls the Python callback {op.host.name!r}")
    raise CallbackInText(
        f"'{op.name}' {what}, which StableHLO text cannot hold; the JAX target lowers such "
        "programs through JAX (tiers.jit and tiers.targets.jax.compile do so by themselves)")


HLO_EFFECT_RULES: dict[type, EmitRule] = dict.fromkeys(EFFECT_OPS, _refuse)
