"""Reference rules of the PRNG key ops (`dialects/lax_keys.py`). numpy has no keys: the
reference target holds a key tensor as its data (`lax_keys.physical`), as JAX's lowering does,
so `lax.random_wrap` and `lax.random_unwrap` are identities; `reference.run` takes a key
argument as a JAX key array or as its data, and gives key results as their data.
`KEY_RULES` joins the reference table in `lax_rules.py`.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from xdsl.ir import Attribute

from tiers.dialects import lax_keys
from tiers.targets.walk import OpRule


def _same(op: lax_keys.KeyDataOp, x: np.ndarray) -> np.ndarray:
    return x


KEY_RULES: dict[type, OpRule] = dict.fromkeys(lax_keys.KEY_OPS, _same)


def key_argument(value: Any, want: Attribute) -> tuple[Any, Attribute]:
    """An argument of type `want` as the reference target holds it: a key tensor as its
    data, given as a JAX key array or as that data already."""
    if not lax_keys.is_key(want):
        return value, want
    dtype = getattr(value, "dtype", None)
    if not isinstance(dtype, np.dtype) and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        value = jax.random.key_data(value)
    return value, lax_keys.physical(want)
