"""The reference target: tiers IR evaluated by numpy, the independent oracle for tests.

The same walk as the JAX target (`tiers.targets.walk.Walker`), with the numpy rules of
`rules.py` (which joins `lax_rules.py` and `array_rules.py`). It is slow and eager on purpose:
every op runs on its own, in float64 where that is exact or more accurate, so results can be
trusted to check the JAX target and passes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Attribute

from tiers.dialects import dtypes
from tiers.targets.reference.common import FLOAT_DTYPES
from tiers.targets.reference.key_rules import key_argument
from tiers.targets.reference.rules import RULES
from tiers.targets.walk import Walker, find_function

__all__ = ["RULES", "run", "to_callable"]


def _argument(value: Any, want: Attribute, index: int, entry: str) -> np.ndarray:
    value, want = key_argument(value, want)  # PRNG keys as their data
    if not isinstance(want, TensorType):
        raise TypeError(f"@{entry} argument {index}: the reference target passes tensors only, "
                        f"not {want}")
    array = np.asarray(value)
    dtype, shape = dtypes.to_numpy(want.element_type), tuple(want.get_shape())
    if array.shape != shape:
        raise TypeError(f"@{entry} argument {index}: expected shape {shape}, got {array.shape}")
    if array.dtype != dtype:
        # Casting within a kind or up (bool -> int -> float) is what JAX does to inputs with
        # x64 off; a cast down (a float for an int parameter) is a caller error.
        if _rank(array.dtype) > _rank(dtype):
            raise TypeError(f"@{entry} argument {index}: expected {dtype}, got {array.dtype}")
        array = array.astype(dtype)
    return array


def _rank(dtype: np.dtype) -> int:
    if dtype == np.bool_:
        return 0
    if dtype.kind in "iu":
        return 1
    return 2 if dtype in FLOAT_DTYPES else 3  # complex, object, ...: never cast silently


def run(module: ModuleOp, args: Sequence[Any], entry: str = "main") -> list[np.ndarray]:
    """The outputs of `@entry` of `module` on `args`, computed with numpy (fresh arrays)."""
    fn = find_function(module, entry)
    types = fn.function_type.inputs.data
    if len(args) != len(types):
        raise TypeError(f"@{entry} takes {len(types)} arguments, got {len(args)}")
    inputs = [_argument(a, t, i, entry) for i, (a, t) in enumerate(zip(args, types, strict=True))]
    # Overflow, division by zero and NaN are IEEE results here, not errors.
    with np.errstate(all="ignore"):
        outs = Walker(module, RULES, "reference").call(entry, inputs)
    return [np.array(o) for o in outs]


def to_callable(module: ModuleOp, entry: str = "main") -> Callable[..., list[np.ndarray]]:
    """`@entry` of `module` as a plain function of numpy arrays (flat args -> list of outs)."""
    find_function(module, entry)

    def call(*args: Any) -> list[np.ndarray]:
        return run(module, args, entry)

    return call
