"""Typed PRNG keys (`jax.random.key`) at the boundary of an imported public function.

Inside a function tiers IR holds a key array as its data (`emitter.aval_type`, the key rules of
`import_rules.py`). A public function's arguments and results that are keys keep their key
type, `tensor<shape x !lax.key<"impl">>` (`dialects/lax_keys.py`), so the IR says what the
caller passes and gets back: each key argument is unwrapped to its data at the top of the
body (`lax.random_unwrap`), each key result wrapped at the end (`lax.random_wrap`). Private
functions (sub-jaxprs called with `func.call`) take and return data.

Inside the body, indexing a key array (`keys[i]` with a traced or array index, `keys.at[i].set`,
`jnp.stack`, `jnp.tile`, ...) is the same indexing of its data, where each key is `key_shape`
more trailing elements: the rules at the end of this file add them to the key rules of
`import_rules.py`, as JAX's own lowering does (`slicing._gather_lower_opaque`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from xdsl.builder import Builder
from xdsl.dialects.builtin import LocationAttr, TensorType
from xdsl.ir import SSAValue

from tiers.dialects import lax_keys
from tiers.frontend.emitter import Emitter, aval_type, is_key, rule_adder
from tiers.frontend.import_rules import KEY_RULES, LAX_RULES, generic_rule


def boundary_type(aval: Any) -> TensorType:
    """The type of a public function's argument or result of `aval`: keys as keys."""
    if is_key(aval):
        return lax_keys.key_tensor(aval.dtype._impl.name, tuple(aval.shape))
    return aval_type(aval)


def unwrap(builder: Builder, location: LocationAttr, avals: Sequence[Any],
           values: Sequence[SSAValue]) -> list[SSAValue]:
    """`values` (block arguments of `boundary_type`s) as the body sees them: keys as data."""
    return [_add(builder, location, lax_keys.RandomUnwrapOp(v)) if is_key(a) else v
            for a, v in zip(avals, values, strict=True)]


def wrap(builder: Builder, location: LocationAttr, avals: Sequence[Any],
         values: Sequence[SSAValue]) -> list[SSAValue]:
    """`values` (the body's results) as the function returns them: key data as keys."""
    return [_add(builder, location, lax_keys.RandomWrapOp(v, a.dtype._impl.name))
            if is_key(a) else v for a, v in zip(avals, values, strict=True)]


def _add(builder: Builder, location: LocationAttr, op: lax_keys.KeyDataOp) -> SSAValue:
    op.location = location
    builder.insert(op)
    return op.results[0]


def constant_data(value: Any) -> np.ndarray:
    """A closed-over constant as the IR holds it: a key array as its data."""
    if isinstance(getattr(value, "dtype", None), np.dtype | None):
        return np.asarray(value)
    return np.asarray(jax.random.key_data(value)) if is_key(value) else np.asarray(value)


# -- indexing key arrays --------------------------------------------------------------------
# A primitive's params speak of the key array; on its data each key is a window of
# `key_shape` more trailing dimensions, taken whole. So a gather on keys is a gather on their
# data with those dimensions appended to the slice sizes and the result's offset dimensions
# (JAX: `slicing._gather_lower_opaque`), a scatter appends them to the update window
# dimensions (`_scatter_lower_opaque`), and `tile` repeats each key once along them. The
# dimensions the params name otherwise (collapsed, batching, index maps) are leading ones,
# the same on data; `stack`, `unstack` and `split` name one leading axis and apply as they are.
_key_rule = rule_adder(KEY_RULES)


def _key_shape(em: Emitter) -> tuple[int, ...]:
    return tuple(em.eqn.invars[0].aval.dtype._impl.key_shape)


def _with_params(em: Emitter, **changes: Any) -> Emitter:
    """`em` with its equation's params changed: a rule of plain arrays applied to key data."""
    return dataclasses.replace(em, eqn=em.eqn.replace(params={**em.params, **changes}))


def _trailing(start: int, em: Emitter) -> tuple[int, ...]:
    return tuple(range(start, start + len(_key_shape(em))))


@_key_rule("gather")
def _key_gather(em: Emitter, keys: SSAValue, indices: SSAValue) -> Any:
    dn, rank = em.params["dimension_numbers"], em.eqn.outvars[0].aval.ndim
    dn = dn._replace(offset_dims=(*dn.offset_dims, *_trailing(rank, em)))
    slice_sizes = (*em.params["slice_sizes"], *_key_shape(em))
    return LAX_RULES["gather"](_with_params(em, dimension_numbers=dn, slice_sizes=slice_sizes),
                               keys, indices)


@_key_rule("scatter")
def _key_scatter(em: Emitter, keys: SSAValue, indices: SSAValue, updates: SSAValue) -> Any:
    dn, rank = em.params["dimension_numbers"], em.eqn.invars[2].aval.ndim
    dn = dn._replace(update_window_dims=(*dn.update_window_dims, *_trailing(rank, em)))
    return LAX_RULES["scatter"](_with_params(em, dimension_numbers=dn), keys, indices, updates)


@_key_rule("tile")
def _key_tile(em: Emitter, keys: SSAValue) -> Any:
    reps = (*em.params["reps"], *(1 for _ in _key_shape(em)))
    return generic_rule(_with_params(em, reps=reps), keys)


KEY_RULES.update(stack=generic_rule, unstack=generic_rule, split=LAX_RULES["split"])
