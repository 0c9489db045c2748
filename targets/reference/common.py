"""What every reference rule shares: the float formats of tiers IR, float64 widening, and the
wrapper that casts a rule's outputs to the op's result types and checks their shapes.

Floating-point math runs in float64 (complex in complex128) and is rounded once to the result
type, so a rule is at least as accurate as XLA; float8 results are rounded through the format
XLA computes float8 in, as XLA rounds them. Every rule goes through `checked`, so a rule
that computes the wrong shape fails where it runs rather than later.
"""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np
from xdsl.ir import Operation, SSAValue

from tiers.dialects import dtypes, lax
from tiers.targets.walk import OpRule

# The float dtypes of tiers IR (bf16 and float8 are no np.floating subtypes, so kinds do not
# tell).
FLOAT_DTYPES = frozenset(np.dtype(t) for t in (
    np.float16, np.float32, np.float64, ml_dtypes.bfloat16, *dtypes.FLOAT8_DTYPES))


class ReferenceError_(AssertionError):
    """A reference rule broke its own contract (wrong output count or shape)."""


def result_dtype(value: SSAValue) -> np.dtype:
    """The numpy dtype of an SSA value's tensor type."""
    return dtypes.to_numpy(lax.elem(value))


def is_float(x: np.ndarray | np.dtype) -> bool:
    """Whether `x` (an array or a dtype) is of one of tiers' float formats."""
    return (x if isinstance(x, np.dtype) else x.dtype) in FLOAT_DTYPES


def is_complex(x: np.ndarray | np.dtype) -> bool:
    """Whether `x` (an array or a dtype) is complex64 or complex128."""
    return (x if isinstance(x, np.dtype) else x.dtype).kind == "c"


# XLA computes float8 arithmetic in a wider format and rounds each result to float8 (with
# `xla_allow_excess_precision`, its default, a fused chain of ops may skip the roundings in
# between): float16 for every format but float8_e8m0fnu, float32 for that one. `finish` rounds
# a rule's float8 results through the same format, so one elementwise op gives XLA's bits
# (tests/test_float8.py checks every pair of values). XLA on CPU also flushes float32
# subnormals (float8_e8m0fnu's 2**-127) to zero; this target computes with them.
_E8M0 = np.dtype(ml_dtypes.float8_e8m0fnu)
_WIDER = frozenset(np.dtype(t) for t in (np.float32, np.float64))  # what rules compute in


def wide(x: np.ndarray) -> np.ndarray:
    """Floats as float64, complex numbers as complex128 (exact for every supported format);
    anything else unchanged."""
    if is_float(x):
        return x.astype(np.float64)
    return x.astype(np.complex128) if is_complex(x) else x


def finish(op: Operation, value: np.ndarray, result: SSAValue) -> np.ndarray:
    """`value` cast to `result`'s element type; `ReferenceError_` if its shape differs."""
    want, shape = result_dtype(result), lax.shape(result)
    out = np.asarray(value)
    if out.dtype != want:
        if want in dtypes.FLOAT8_DTYPES and out.dtype in _WIDER:
            out = out.astype(np.float32 if want == _E8M0 else np.float16)
        out = out.astype(want)
    if out.shape != shape:
        raise ReferenceError_(f"reference rule for '{op.name}' gave shape {out.shape}, "
                              f"the op's result has shape {shape}")
    return out


def checked(cls: type, fn: OpRule) -> OpRule:
    """`fn`, the rule of op class `cls`, with its outputs cast to the op's result types."""

    def rule(op: Operation, *args: np.ndarray) -> Any:
        out = fn(op, *args)
        many = isinstance(out, list | tuple)
        if len(op.results) == 1:
            return finish(op, out[0] if many and len(out) == 1 else out, op.results[0])
        if not many or len(out) != len(op.results):
            raise ReferenceError_(f"reference rule for '{op.name}' gave "
                                  f"{len(out) if many else 'one'} results, "
                                  f"the op has {len(op.results)}")
        return [finish(op, o, r) for o, r in zip(out, op.results, strict=True)]

    rule.__name__ = rule.__qualname__ = f"reference_{cls.__name__}"
    return rule
