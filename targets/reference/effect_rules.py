"""Reference rules of the callback ops and `lax.opaque` (`dialects/lax_effects.py`): like
`lax.generic`'s, they bind JAX's primitive eagerly on CPU, which calls the op's Python
callback at once with the numpy values (a print prints, a callback's results come back as
arrays). `lax_rules.py`
joins `EFFECT_RULES` into its half.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from tiers.dialects import lax
from tiers.dialects.lax_effects import EFFECT_OPS, bind_eqn, jax_params
from tiers.dialects.primitives import primitive
from tiers.targets.reference.common import checked
from tiers.targets.walk import OpRule


def _rule(op: lax.CallbackOp, *args: np.ndarray) -> Any:
    with jax.default_device(jax.devices("cpu")[0]):
        prim = op.host.primitive or primitive(op.PRIMITIVE)  # `lax.opaque` holds its own
        outs = bind_eqn(prim, args, jax_params(op))
    return [np.asarray(o) for o in (outs if prim.multiple_results else [outs])]


EFFECT_RULES: dict[type, OpRule] = {cls: checked(cls, _rule) for cls in EFFECT_OPS}
