"""The JAX target's rules of the PRNG key ops (`dialects/lax_keys.py`).

Walk rules (`KEY_RULES`, joined into `lax_rules.LAX_RULES`): a key tensor is a JAX key array
(`jax.random.key`), as `jax.jit` passes one to a function it traces, so `lax.random_unwrap`
is `jax.random.key_data` and `lax.random_wrap` is `jax.random.wrap_key_data` with the key
type's implementation. A caller may also hand the walk key data where the IR says keys (an
eager kernel, `tiers-run`): unwrapping data is then the identity.

Emission rules (`HLO_KEY_RULES`, joined in `rules.py`): StableHLO has no keys; JAX lowers a
key array as its data (`mlir.aval_to_ir_type`, `core.physical_aval`), and `hlo.type_text`
writes a key tensor type as that data's type, so both ops are the identity on the text.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax._src import core
from jax._src.random import prng

from tiers.dialects import dtypes, lax, lax_keys
from tiers.targets.jax.hlo import EmitRule, HloEmitter
from tiers.targets.walk import OpRule


def _is_keys(x: Any) -> bool:
    dtype = getattr(x, "dtype", None)
    return not isinstance(dtype, np.dtype) and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


def _unwrap(op: lax_keys.RandomUnwrapOp, keys: Any) -> Any:
    return jax.random.key_data(keys) if _is_keys(keys) else keys


def _wrap(op: lax_keys.RandomWrapOp, data: Any) -> Any:
    return jax.random.wrap_key_data(data, impl=op.key_type.impl.data)


KEY_RULES: dict[type, OpRule] = {lax_keys.RandomUnwrapOp: _unwrap, lax_keys.RandomWrapOp: _wrap}


def _same(em: HloEmitter, op: lax_keys.KeyDataOp, x: str) -> str:
    return x


HLO_KEY_RULES: dict[type, EmitRule] = dict.fromkeys(lax_keys.KEY_OPS, _same)


def aval_of(t: Any) -> core.ShapedArray:
    """JAX's aval of a value of tensor type `t`: a key tensor as a key array."""
    if lax_keys.is_key(t):
        key = lax.elem(t)
        assert isinstance(key, lax_keys.KeyType)
        return core.ShapedArray(lax.shape(t), prng.KeyTy(key.implementation))
    return core.ShapedArray(lax.shape(t), dtypes.to_numpy(lax.elem(t)))


def as_data(x: Any) -> Any:
    """`x`, a key array as its data (what a caller without keys, `tiers-run`, holds)."""
    return jax.random.key_data(x) if _is_keys(x) else x
