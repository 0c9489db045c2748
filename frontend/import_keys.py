"""Typed PRNG keys (`jax.random.key`) at the boundary of an imported public function.

Inside a function tiers IR holds a key array as its data (`emitter.aval_type`, the key rules of
`import_rules.py`). A public function's arguments and results that are keys keep their key
type, `tensor<shape x !lax.key<"impl">>` (`dialects/lax_keys.py`), so the IR says what the
caller passes and gets back: each key argument is unwrapped to its data at the top of the
body (`lax.random_unwrap`), each key result wrapped at the end (`lax.random_wrap`). Private
functions (sub-jaxprs called with `func.call`) take and return data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from xdsl.builder import Builder
from xdsl.dialects.builtin import LocationAttr, TensorType
from xdsl.ir import SSAValue

from tiers.dialects import lax_keys
from tiers.frontend.emitter import aval_type, is_key


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
