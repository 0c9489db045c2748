"""Reference rules of `lax` ops: tiers op class -> numpy function, written from JAX/XLA
semantics on CPU. `LAX_RULES` is one half of the reference target's table (`rules.py` joins
the two halves).

This table is the oracle that the JAX target and every pass are checked against, so no rule
calls JAX. The one exception is `lax.generic`: it names an arbitrary JAX primitive and keeps
only its name and params, so its rule binds that primitive eagerly on CPU (on numpy inputs).

Floating-point math runs in float64 and is rounded once to the result type (`common.py`), so
a rule is at least as accurate as XLA; bit-level ops (`nextafter`, `reduce_precision`,
`bitcast`) work on the native format.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import ml_dtypes
import numpy as np
from xdsl.dialects.builtin import FloatAttr
from xdsl.ir import Operation

from tiers.dialects import dtypes, lax, params
from tiers.dialects.constants import constant_array
from tiers.dialects.primitives import primitive
from tiers.targets.reference.common import (
    FLOAT_DTYPES,
    checked,
    finish,
    is_complex,
    is_float,
    result_dtype,
    wide,
)
from tiers.targets.reference.complex_rules import COMPLEX_RULES, logistic, minmax, sign, sort_keys
from tiers.targets.reference.effect_rules import EFFECT_RULES
from tiers.targets.reference.key_rules import KEY_RULES
from tiers.targets.reference.lax_windows import WINDOW_RULES
from tiers.targets.reference.special import special as sp
from tiers.targets.walk import OpRule

LAX_RULES: dict[type, OpRule] = {}

# bits as unsigned, exponent bits and mantissa bits of each float format (for bit-level rules).
_LAYOUT: dict[np.dtype, tuple[type[np.unsignedinteger], int, int]] = {
    np.dtype(np.float16): (np.uint16, 5, 10), np.dtype(ml_dtypes.bfloat16): (np.uint16, 8, 7),
    np.dtype(np.float32): (np.uint32, 8, 23), np.dtype(np.float64): (np.uint64, 11, 52),
    # the float8 formats with IEEE's infinities, NaNs and signed zeros
    np.dtype(ml_dtypes.float8_e5m2): (np.uint8, 5, 2),
    np.dtype(ml_dtypes.float8_e4m3): (np.uint8, 4, 3),
    np.dtype(ml_dtypes.float8_e3m4): (np.uint8, 3, 4),
}
_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
_E8M0 = np.dtype(ml_dtypes.float8_e8m0fnu)


def _layout(op: Operation, dtype: np.dtype) -> tuple[type[np.unsignedinteger], int, int]:
    """`_LAYOUT[dtype]`; the other float8 formats (without infinities, some without -0, one
    unsigned) have no IEEE layout these bit recipes could use: a clear error, not wrong bits."""
    try:
        return _LAYOUT[dtype]
    except KeyError:
        raise NotImplementedError(f"reference target: '{op.name}' on {dtype} is not "
                                  "supported (run it on the JAX target)") from None


def _register(cls: type, fn: OpRule) -> None:
    """Add `fn` for `cls`, its outputs cast to the op's result types (`common.checked`)."""
    LAX_RULES[cls] = checked(cls, fn)


def _float_only(fn: Callable[[np.ndarray], np.ndarray]) -> OpRule:
    return lambda op, x: fn(wide(x))


# ---------------------------------------------------------------------------------------
# Elementwise ops.
# ---------------------------------------------------------------------------------------


def _sign(op: Operation, x: np.ndarray) -> np.ndarray:
    if is_complex(x):
        return sign(x)
    if is_float(x):
        w = wide(x)
        # XLA keeps the sign of zeros and NaN as is; np.sign(-0.0) would give +0.0.
        return np.where((w == 0) | np.isnan(w), w, np.sign(w))
    if x.dtype.kind == "u":
        return (x != 0).astype(x.dtype)
    return np.sign(x)


def _digamma(x: np.ndarray) -> np.ndarray:
    # XLA gives NaN at the poles (non-positive integers); scipy gives -inf at zero.
    return np.where((x <= 0) & (x == np.floor(x)), np.nan, sp.psi(x))


def _unsigned(x: np.ndarray) -> np.ndarray:
    """The two's complement bits of an integer array, as unsigned of the same width."""
    return x.view(_UNSIGNED[x.dtype.itemsize])


def _population_count(op: Operation, x: np.ndarray) -> np.ndarray:
    return np.bitwise_count(_unsigned(x)).astype(x.dtype)


def _clz(op: Operation, x: np.ndarray) -> np.ndarray:
    u, width = _unsigned(x), 8 * x.dtype.itemsize
    length = np.zeros(x.shape, np.int64)  # bit length: 1 + index of the highest set bit
    for b in range(width):
        length = np.where((u >> u.dtype.type(b)) != 0, b + 1, length)
    return (width - length).astype(x.dtype)


UNARY_FLOAT: dict[type, Callable[[np.ndarray], np.ndarray]] = {
    lax.FloorOp: np.floor, lax.CeilOp: np.ceil, lax.ExpOp: np.exp, lax.Exp2Op: np.exp2,
    lax.LogOp: np.log, lax.Log1pOp: np.log1p, lax.Expm1Op: np.expm1, lax.TanhOp: np.tanh,
    lax.SinOp: np.sin, lax.CosOp: np.cos, lax.TanOp: np.tan,
    lax.AsinOp: np.arcsin, lax.AcosOp: np.arccos, lax.AtanOp: np.arctan, lax.SinhOp: np.sinh,
    lax.CoshOp: np.cosh, lax.AsinhOp: np.arcsinh, lax.AcoshOp: np.arccosh,
    lax.AtanhOp: np.arctanh, lax.SqrtOp: np.sqrt, lax.RsqrtOp: lambda x: 1.0 / np.sqrt(x),
    lax.CbrtOp: np.cbrt, lax.DigammaOp: _digamma, lax.IsFiniteOp: np.isfinite,
    # scipy.special's, looked up at the call (`special.py` says why)
    lax.LogisticOp: lambda x: logistic(x) if is_complex(x) else sp.expit(x),
    lax.ErfOp: lambda x: sp.erf(x),
    lax.ErfcOp: lambda x: sp.erfc(x), lax.ErfInvOp: lambda x: sp.erfinv(x),
    lax.LgammaOp: lambda x: sp.gammaln(x),
}
for _cls, _fn in UNARY_FLOAT.items():
    _register(_cls, _float_only(_fn))

# Integer overflow wraps (two's complement), as in XLA: numpy arrays wrap silently.
_register(lax.NegOp, lambda op, x: np.negative(wide(x)))
_register(lax.AbsOp, lambda op, x: np.abs(wide(x)))
_register(lax.SignOp, _sign)
_register(lax.SquareOp, lambda op, x: wide(x) * wide(x))
_register(lax.NotOp, lambda op, x: np.invert(x))
for _cls in (lax.StopGradientOp, lax.CopyOp):
    _register(_cls, lambda op, x: np.array(x, copy=True))
_register(lax.PopulationCountOp, _population_count)
_register(lax.ClzOp, _clz)


def _max(op: Operation, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if is_complex(a):
        return minmax("max", a, b)
    if not is_float(a):
        return np.maximum(a, b)
    a, b = wide(a), wide(b)
    out = np.maximum(a, b)  # propagates NaN from either side, like XLA
    zeros = (a == 0) & (b == 0)  # XLA orders -0 below +0
    return np.where(zeros, np.where(np.signbit(a) & np.signbit(b), -0.0, 0.0), out)


def _min(op: Operation, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if is_complex(a):
        return minmax("min", a, b)
    if not is_float(a):
        return np.minimum(a, b)
    a, b = wide(a), wide(b)
    out = np.minimum(a, b)
    zeros = (a == 0) & (b == 0)
    return np.where(zeros, np.where(np.signbit(a) | np.signbit(b), -0.0, 0.0), out)


def _div(op: Operation, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if is_float(a) or is_complex(a):
        return wide(a) / wide(b)
    # Rounds toward zero. XLA defines x / 0 = -1 (all bits set) and INT_MIN / -1 = INT_MIN.
    a64, b64 = a.astype(np.int64), b.astype(np.int64)
    safe = np.where(b64 == 0, 1, b64)
    q = np.abs(a64) // np.abs(safe) * np.sign(a64) * np.sign(safe)
    q = np.where(b64 == 0, -1, q)
    return q.astype(a.dtype)  # wraps INT_MIN / -1 back to INT_MIN


def _rem(op: Operation, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if is_float(a):
        return np.fmod(wide(a), wide(b))
    # C fmod: the result takes the dividend's sign. XLA defines x % 0 = x.
    a64, b64 = a.astype(np.int64), b.astype(np.int64)
    safe = np.where(b64 == 0, 1, b64)
    r = np.abs(a64) % np.abs(safe) * np.sign(a64)
    return np.where(b64 == 0, a64, r).astype(a.dtype)


def _shift(kind: str) -> OpRule:
    def shift(op: Operation, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        u, width = _unsigned(x), 8 * x.dtype.itemsize
        # The shift amount is read as unsigned: negative amounts are out of range too.
        s = _unsigned(y)
        oob = s >= width
        s = np.where(oob, 0, s).astype(u.dtype)
        if kind == "left":
            out = (u << s).view(x.dtype)
            return np.where(oob, 0, out)
        if kind == "logical":
            out = (u >> s).view(x.dtype)
            return np.where(oob, 0, out)
        signed = x.view(np.dtype(f"i{x.dtype.itemsize}"))
        out = (signed >> s.astype(signed.dtype)).view(x.dtype)
        fill = np.where(signed < 0, -1, 0).astype(signed.dtype).view(x.dtype)
        return np.where(oob, fill, out)

    return shift


def _nextafter(op: Operation, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # In the native format: the step is one unit in the last place of x's own type.
    utype, _, _ = _layout(op, x.dtype)
    bits = x.view(utype)
    sign = utype(1) << utype(8 * x.dtype.itemsize - 1)
    xw, yw = wide(x), wide(y)
    magnitude = bits & ~sign
    away = (xw < yw) == (xw > 0)  # moving away from zero grows the magnitude
    stepped = np.where(away, bits + utype(1), bits - utype(1))
    from_zero = (sign * (yw < 0)).astype(utype) | utype(1)  # smallest subnormal toward y
    out = np.where(magnitude == 0, from_zero, stepped)
    out = np.where(xw == yw, y.view(utype), out)
    out = out.view(x.dtype)
    return np.where(np.isnan(xw) | np.isnan(yw), np.nan, wide(out))


BINARY: dict[type, OpRule] = {
    lax.AddOp: lambda op, a, b: wide(a) + wide(b),
    lax.AddAnyOp: lambda op, a, b: wide(a) + wide(b),
    lax.SubOp: lambda op, a, b: wide(a) - wide(b),
    lax.MulOp: lambda op, a, b: wide(a) * wide(b),
    lax.DivOp: _div, lax.RemOp: _rem,
    lax.PowOp: lambda op, a, b: np.power(wide(a), wide(b) if is_complex(b) else
                                         b.astype(np.float64)),
    lax.MaxOp: _max, lax.MinOp: _min,
    lax.Atan2Op: lambda op, a, b: np.arctan2(wide(a), wide(b)),
    lax.NextafterOp: _nextafter,
    lax.AndOp: lambda op, a, b: a & b, lax.OrOp: lambda op, a, b: a | b,
    lax.XorOp: lambda op, a, b: a ^ b,
    lax.ShiftLeftOp: _shift("left"), lax.ShiftRightLogicalOp: _shift("logical"),
    lax.ShiftRightArithmeticOp: _shift("arithmetic"),
    lax.EqOp: lambda op, a, b: wide(a) == wide(b),
    lax.NeOp: lambda op, a, b: wide(a) != wide(b),
    lax.LtOp: lambda op, a, b: wide(a) < wide(b),
    lax.LeOp: lambda op, a, b: wide(a) <= wide(b),
    lax.GtOp: lambda op, a, b: wide(a) > wide(b),
    lax.GeOp: lambda op, a, b: wide(a) >= wide(b),
}
for _cls, _rule in BINARY.items():
    _register(_cls, _rule)


def _integer_pow(op: lax.IntegerPowOp, x: np.ndarray) -> np.ndarray:
    y = op.int("y")
    if is_float(x) or is_complex(x):
        return wide(x) ** float(y)
    if y < 0:
        raise ValueError(f"lax.integer_pow: integer {x.dtype} to the negative power {y}")
    # Square-and-multiply in the operand's own type, so overflow wraps like XLA.
    acc, base = np.ones_like(x), x.copy()
    while y:
        if y & 1:
            acc = acc * base
        base = base * base
        y >>= 1
    return acc


def _reduce_precision(op: lax.ReducePrecisionOp, x: np.ndarray) -> np.ndarray:
    # XLA's bit recipe: round the mantissa to nearest-even, then send exponents outside the
    # reduced range to signed infinity (overflow) or signed zero (underflow, denormals
    # included); NaN stays NaN. XLA applies it to float8 in the format it computes float8 in.
    e_bits, m_bits = op.int("exponent_bits"), op.int("mantissa_bits")
    if x.dtype in dtypes.FLOAT8_DTYPES:
        x = x.astype(np.float32 if x.dtype == _E8M0 else np.float16)
    utype, src_e, src_m = _layout(op, x.dtype)
    one, nbits = utype(1), 8 * x.dtype.itemsize
    bits = x.view(utype).copy()
    if m_bits < src_m:
        shift = utype(src_m - m_bits)
        last = one << shift
        bias = ((bits & last) >> shift) + ((last >> one) - one)
        bits = (bits + bias) & ~(last - one)
    if e_bits < src_e:
        sign_mask = one << utype(nbits - 1)
        exp_mask = ((one << utype(src_e)) - one) << utype(src_m)
        src_bias = (1 << (src_e - 1)) - 1
        new_bias = (1 << (e_bits - 1)) - 1
        exponent = bits & exp_mask
        overflow = exponent > utype((src_bias + new_bias) << src_m)
        underflow = exponent <= utype((src_bias - new_bias) << src_m)
        signed_zero = bits & sign_mask
        bits = np.where(overflow, signed_zero | exp_mask, bits)
        bits = np.where(underflow, signed_zero, bits)
    out = bits.astype(utype).view(x.dtype)
    return np.where(np.isnan(wide(x)), x, out)


def _convert(op: lax.ConvertElementTypeOp, x: np.ndarray) -> np.ndarray:
    to = result_dtype(op.result)
    if is_complex(x) and not is_complex(to):
        x = np.real(x)  # JAX converts the real part (`_convert_element_type_lower`)
    if to == np.bool_:
        return x != 0  # NaN is nonzero, so it converts to True
    if is_float(x) and to not in FLOAT_DTYPES and not is_complex(to):
        # XLA saturates: NaN -> 0, values past the range -> its ends, else truncation.
        info = np.iinfo(to)
        w = np.trunc(wide(x))
        high, low = w >= float(info.max), w <= float(info.min)
        out = np.where(high | low | np.isnan(w), 0, w).astype(to)
        out[high] = info.max
        out[low] = info.min
        return out
    if to == np.dtype(ml_dtypes.bfloat16) and x.dtype not in FLOAT_DTYPES:
        return x.astype(np.float32).astype(to)  # XLA converts integers to bf16 through f32
    return x.astype(to)  # int -> int wraps; floats round to nearest even


def _bitcast(op: lax.BitcastConvertTypeOp, x: np.ndarray) -> np.ndarray:
    # A narrower result gains a trailing dimension, a wider one consumes it.
    to = result_dtype(op.result)
    return np.ascontiguousarray(x).view(to).reshape(lax.shape(op.result))


def _select_n(op: lax.SelectNOp, which: np.ndarray, *cases: np.ndarray) -> np.ndarray:
    if len(cases) == 1:
        return cases[0]
    index = np.broadcast_to(which.astype(np.intp), cases[0].shape)
    return np.choose(index, cases, mode="clip")


def _clamp(op: lax.ClampOp, lo: np.ndarray, x: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return _min(op, _max(op, x, np.broadcast_to(lo, x.shape)), np.broadcast_to(hi, x.shape))


_register(lax.IntegerPowOp, _integer_pow)
_register(lax.ReducePrecisionOp, _reduce_precision)
_register(lax.ConvertElementTypeOp, _convert)
_register(lax.BitcastConvertTypeOp, _bitcast)
_register(lax.SelectNOp, _select_n)
_register(lax.ClampOp, _clamp)

# ---------------------------------------------------------------------------------------
# Constants, index generators and shape ops.
# ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _constant(value: Any) -> np.ndarray:
    out = constant_array(value)
    out.flags.writeable = False  # shared by every run: no rule may write into it
    return out


def _iota(op: lax.IotaOp) -> np.ndarray:
    out, d = lax.shape(op.result), op.int("dimension")
    along = np.arange(out[d]).reshape([-1 if i == d else 1 for i in range(len(out))])
    return np.broadcast_to(along, out)


def _broadcast_in_dim(op: lax.BroadcastInDimOp, x: np.ndarray) -> np.ndarray:
    out = lax.shape(op.result)
    placed = [1] * len(out)
    for i, d in enumerate(op.ints("dims")):
        placed[d] = x.shape[i]
    return np.broadcast_to(x.reshape(placed), out)


def _slice(op: lax.SliceOp, x: np.ndarray) -> np.ndarray:
    return x[tuple(slice(a, b, s) for a, b, s in zip(
        op.ints("start_indices"), op.ints("limit_indices"), op.ints("strides"), strict=True))]


def _pad(op: lax.PadOp, x: np.ndarray, value: np.ndarray) -> np.ndarray:
    low, high, interior = op.ints("low"), op.ints("high"), op.ints("interior")
    # Dilate with `interior` gaps and pad the positive edges, then crop negative edges.
    dilated = [s + max(0, s - 1) * c for s, c in zip(x.shape, interior, strict=True)]
    full = [d + max(lo, 0) + max(hi, 0) for d, lo, hi in zip(dilated, low, high, strict=True)]
    out = np.full(full, value, dtype=x.dtype)
    out[tuple(slice(max(lo, 0), max(lo, 0) + d, c + 1)
              for lo, d, c in zip(low, dilated, interior, strict=True))] = x
    return out[tuple(slice(max(-lo, 0), n - max(-hi, 0))
                     for lo, hi, n in zip(low, high, full, strict=True))]


def _split(op: lax.SplitOp, x: np.ndarray) -> list[np.ndarray]:
    return np.split(x, np.cumsum(op.ints("sizes"))[:-1], axis=op.int("axis"))


def _clamped_starts(idx: Sequence[np.ndarray], dims: Sequence[int],
                    sizes: Sequence[int]) -> list[int]:
    # XLA clamps start indices so that the whole window is in bounds.
    return [min(max(int(i), 0), d - s) for i, d, s in zip(idx, dims, sizes, strict=True)]


def _dynamic_slice(op: lax.DynamicSliceOp, x: np.ndarray, *idx: np.ndarray) -> np.ndarray:
    sizes = op.ints("slice_sizes")
    starts = _clamped_starts(idx, x.shape, sizes)
    return x[tuple(slice(a, a + s) for a, s in zip(starts, sizes, strict=True))]


def _dynamic_update_slice(op: lax.DynamicUpdateSliceOp, x: np.ndarray, update: np.ndarray,
                          *idx: np.ndarray) -> np.ndarray:
    starts = _clamped_starts(idx, x.shape, update.shape)
    out = x.copy()
    out[tuple(slice(a, a + s) for a, s in zip(starts, update.shape, strict=True))] = update
    return out


_register(lax.ConstantOp, lambda op: _constant(op.value))
_register(lax.IotaOp, _iota)
_register(lax.BroadcastInDimOp, _broadcast_in_dim)
_register(lax.ReshapeOp, lambda op, x: x.reshape(lax.shape(op.result)))
_register(lax.SqueezeOp, lambda op, x: x.reshape(lax.shape(op.result)))
_register(lax.TransposeOp, lambda op, x: np.transpose(x, op.ints("permutation")))
_register(lax.RevOp, lambda op, x: np.flip(x, op.ints("dimensions")))
_register(lax.SliceOp, _slice)
_register(lax.PadOp, _pad)
_register(lax.ConcatenateOp, lambda op, *xs: np.concatenate(xs, axis=op.int("dimension")))
_register(lax.SplitOp, _split)
_register(lax.DynamicSliceOp, _dynamic_slice)
_register(lax.DynamicUpdateSliceOp, _dynamic_update_slice)

# ---------------------------------------------------------------------------------------
# Gather and scatter, from their dimension numbers (XLA's definitions, index vector last).
# ---------------------------------------------------------------------------------------

_CLIP, _FILL_OR_DROP, _PROMISE_IN_BOUNDS = 1, 2, 3  # jax.lax.GatherScatterMode values


def _mode(op: lax.GatherOp | lax.ScatterBase) -> int:
    mode = op.int("mode")
    if mode not in (_CLIP, _FILL_OR_DROP, _PROMISE_IN_BOUNDS):
        raise NotImplementedError(f"reference target: '{op.name}' with mode {mode} "
                                  "(supported: CLIP, FILL_OR_DROP, PROMISE_IN_BOUNDS)")
    return mode


def _window_indices(starts: np.ndarray, window: Sequence[int]) -> tuple[np.ndarray, ...]:
    """Per operand dim d, an index array of shape (N, *window): starts[:, d] + offset."""
    n, rank = starts.shape
    out = []
    for d in range(rank):
        offset = np.arange(window[d]).reshape([1] + [-1 if i == d else 1 for i in range(rank)])
        out.append(starts[:, d].reshape([n] + [1] * rank) + offset)
    return tuple(out)


def _starts(indices: np.ndarray, index_map: Sequence[int], rank: int,
            operand_batching: Sequence[int], indices_batching: Sequence[int]) -> np.ndarray:
    """Full start vectors (N, rank), one per index vector (in C order over the batch dims of
    `indices`): the vector on `index_map`, the batch position on the operand's batching
    dimensions, zero elsewhere."""
    flat = indices.reshape(-1, indices.shape[-1]).astype(np.int64)
    starts = np.zeros((flat.shape[0], rank), np.int64)
    starts[:, list(index_map)] = flat
    if operand_batching:
        batch = indices.shape[:-1]
        position = np.indices(batch).reshape(len(batch), -1)
        for d, i in zip(operand_batching, indices_batching, strict=True):
            starts[:, d] = position[i]
    return starts


def _in_bounds(starts: np.ndarray, dims: Sequence[int], window: Sequence[int]) -> np.ndarray:
    upper = np.asarray(dims, np.int64) - np.asarray(window, np.int64)
    return np.all((starts >= 0) & (starts <= upper), axis=1)


def _default_fill(dtype: np.dtype) -> Any:
    # jax.lax.gather's defaults for FILL_OR_DROP.
    if dtype in FLOAT_DTYPES or is_complex(dtype):
        return np.nan
    if dtype == np.bool_:
        return True
    return np.iinfo(dtype).min if dtype.kind == "i" else np.iinfo(dtype).max


def _gather(op: lax.GatherOp, x: np.ndarray, indices: np.ndarray) -> np.ndarray:
    mode = _mode(op)
    sizes, batching = op.ints("slice_sizes"), op.ints("operand_batching_dims")
    collapsed = (*op.ints("collapsed_slice_dims"), *batching)  # both leave the window
    offset_dims, out_rank = op.ints("offset_dims"), len(lax.shape(op.result))
    starts = _starts(indices, op.ints("start_index_map"), x.ndim, batching,
                     op.ints("start_indices_batching_dims"))
    ok = _in_bounds(starts, x.shape, sizes)
    # XLA clamps gather starts in every mode; FILL_OR_DROP then masks whole windows.
    starts = np.clip(starts, 0, np.asarray(x.shape) - np.asarray(sizes))
    windows = x[_window_indices(starts, sizes)]  # (N, *slice_sizes)
    if mode == _FILL_OR_DROP:
        fill = op.properties.get("fill_value")
        value = fill.value.data if isinstance(fill, FloatAttr) else _default_fill(x.dtype)
        windows = np.where(ok.reshape([-1] + [1] * x.ndim), windows,
                           np.asarray(value).astype(x.dtype))
    keep = [d for d in range(x.ndim) if d not in collapsed]
    windows = windows.reshape((*indices.shape[:-1], *(sizes[d] for d in keep)))
    # Output dimension p is the next window dimension if p is an offset dim, else the next
    # batch dimension.
    n_batch, perm, b, w = indices.ndim - 1, [], 0, 0
    for p in range(out_rank):
        if p in offset_dims:
            perm.append(n_batch + w)
            w += 1
        else:
            perm.append(b)
            b += 1
    return np.transpose(windows, perm)


SCATTER_UFUNCS: dict[type, np.ufunc | None] = {
    lax.ScatterOp: None, lax.ScatterAddOp: np.add, lax.ScatterMulOp: np.multiply,
    lax.ScatterMinOp: np.minimum, lax.ScatterMaxOp: np.maximum,
}


def _scatter(op: lax.ScatterBase, x: np.ndarray, indices: np.ndarray,
             updates: np.ndarray) -> np.ndarray:
    mode = _mode(op)
    window_dims, batching = op.ints("update_window_dims"), op.ints("operand_batching_dims")
    inserted = (*op.ints("inserted_window_dims"), *batching)  # size-1 window dimensions
    scatter_dims = [d for d in range(updates.ndim) if d not in window_dims]
    # Updates as (N, *window) with the window spelled over every operand dimension.
    window, it = [], iter(updates.shape[d] for d in window_dims)
    for d in range(x.ndim):
        window.append(1 if d in inserted else next(it))
    upd = np.transpose(updates, [*scatter_dims, *window_dims]).reshape(-1, *window)
    starts = _starts(indices, op.ints("scatter_dims_to_operand_dims"), x.ndim, batching,
                     op.ints("scatter_indices_batching_dims"))
    if mode == _CLIP:
        starts = np.clip(starts, 0, np.asarray(x.shape) - np.asarray(window))
    # Out-of-bounds windows are dropped whole: FILL_OR_DROP by definition, and what XLA
    # does for PROMISE_IN_BOUNDS.
    ok = _in_bounds(starts, x.shape, window)
    where = tuple(i[ok] for i in _window_indices(starts, window))
    out = x.copy()
    ufunc = SCATTER_UFUNCS[type(op)]
    if ufunc is None:
        out[where] = upd[ok]  # with repeated indices the last update wins (XLA: unspecified)
    elif is_float(x) or is_complex(x):
        acc = wide(out)
        ufunc.at(acc, where, wide(upd[ok]))
        out = acc
    else:
        ufunc.at(out, where, upd[ok])
    return out


_register(lax.GatherOp, _gather)
for _cls in SCATTER_UFUNCS:
    _register(_cls, _scatter)

# ---------------------------------------------------------------------------------------
# Reductions, scans, sorting, contraction.
# ---------------------------------------------------------------------------------------


def _identity(op: Operation, dtype: np.dtype) -> Any:
    """The identity of a max/min/and/or/xor reduction over `dtype`."""
    largest = type(op) in (lax.ReduceMinOp, lax.ReduceAndOp)
    if dtype == np.bool_:
        return largest
    if type(op) in (lax.ReduceAndOp, lax.ReduceOrOp, lax.ReduceXorOp):
        return np.array(-1 if largest else 0).astype(dtype)
    if dtype in FLOAT_DTYPES or is_complex(dtype):  # complex: (+-inf, 0)
        return dtypes.infinity(dtype, 1 if largest else -1)  # finite without infinities
    info = np.iinfo(dtype)
    return info.max if largest else info.min


REDUCE_UFUNCS: dict[type, np.ufunc] = {
    lax.ReduceSumOp: np.add, lax.ReduceProdOp: np.multiply, lax.ReduceMaxOp: np.maximum,
    lax.ReduceMinOp: np.minimum, lax.ReduceAndOp: np.bitwise_and,
    lax.ReduceOrOp: np.bitwise_or, lax.ReduceXorOp: np.bitwise_xor,
}


def _reduce(op: lax.ReduceOp, x: np.ndarray) -> np.ndarray:
    ufunc, axes = REDUCE_UFUNCS[type(op)], op.ints("axes")
    if all(x.shape[a] == 1 for a in axes):
        # One element per output: XLA turns this reduction into a reshape, so -0.0 stays
        # -0.0 (numpy's float sum starts from +0.0 and would give +0.0).
        return np.squeeze(x, axis=tuple(axes))
    if ufunc in (np.add, np.multiply):
        # Integers wrap in their own type; floats accumulate in float64.
        return ufunc.reduce(wide(x), axis=axes, dtype=wide(x).dtype)
    return ufunc.reduce(wide(x), axis=axes, initial=_identity(op, x.dtype))


def _arg_reduce(pick: Callable[..., np.ndarray]) -> OpRule:
    # numpy's argmax/argmin return the first extreme, and treat NaN as the extreme (first
    # NaN wins), which is what jax.lax.argmax/argmin do.
    return lambda op, x: pick(wide(x), axis=op.ints("axes")[0])


CUMULATIVE_UFUNCS: dict[type, np.ufunc] = {
    lax.CumsumOp: np.add, lax.CumprodOp: np.multiply, lax.CummaxOp: np.maximum,
    lax.CumminOp: np.minimum, lax.CumlogsumexpOp: np.logaddexp,
}


def _cumulative(op: lax.CumulativeOp, x: np.ndarray) -> np.ndarray:
    axis, reverse = op.int("axis"), op.flag("reverse")
    w = wide(x)
    if reverse:
        w = np.flip(w, axis)
    if isinstance(op, lax.CumlogsumexpOp) and is_complex(w):  # np.logaddexp is real only
        out = np.log(np.add.accumulate(np.exp(w), axis=axis))
    else:
        out = CUMULATIVE_UFUNCS[type(op)].accumulate(w, axis=axis, dtype=w.dtype)
    return np.flip(out, axis) if reverse else out


def _sort_key(x: np.ndarray) -> np.ndarray:
    # JAX's sort order: -0.0 equals 0.0 and every NaN equals every other NaN, after +inf;
    # but first where NaN has the bits of -0 (the float8 FNUZ formats, which have no
    # infinities): XLA orders it as a negative NaN.
    if is_float(x):
        w = wide(x)
        nan = -np.inf if np.signbit(wide(np.array(np.nan, x.dtype))) else np.nan
        return np.where(w == 0, 0.0, np.where(np.isnan(w), nan, w))
    return x.astype(np.int8) if x.dtype == np.bool_ else x


def _sort(op: lax.SortOp, *xs: np.ndarray) -> list[np.ndarray]:
    dim, num_keys = op.int("dimension"), op.int("num_keys")
    keys = [_sort_key(k) for x in xs[:num_keys]
            for k in (sort_keys(wide(x)) if is_complex(x) else [x])]
    # np.lexsort is stable and sorts by its last key first.
    order = np.lexsort(keys[::-1], axis=dim)
    return [np.take_along_axis(x, order, axis=dim) for x in xs]


def _total_order(x: np.ndarray) -> np.ndarray:
    """Integer keys in IEEE total order (-NaN < -inf < ... < -0 < +0 < ... < +inf < NaN)."""
    if not is_float(x):
        return x.astype(np.int64)
    bits = wide(x).view(np.int64)
    return bits ^ ((bits >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))


def _top_k(op: lax.TopKOp, x: np.ndarray) -> list[np.ndarray]:
    # XLA's top_k compares floats in total order; ties keep the lower index first.
    k = op.int("k")
    order = np.argsort(~_total_order(x), axis=-1, kind="stable")[..., :k]
    return [np.take_along_axis(x, order, axis=-1), order]


def _dot_general(op: lax.DotGeneralOp, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lc, rc = op.ints("lhs_contracting"), op.ints("rhs_contracting")
    lb, rb = op.ints("lhs_batch"), op.ints("rhs_batch")
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    lhs = [next(letters) for _ in range(a.ndim)]
    rhs = [next(letters) for _ in range(b.ndim)]
    for i, j in (*zip(lc, rc), *zip(lb, rb)):
        rhs[j] = lhs[i]
    out = ([lhs[i] for i in lb] + [s for i, s in enumerate(lhs) if i not in lc and i not in lb]
           + [s for i, s in enumerate(rhs) if i not in rc and i not in rb])
    spec = f"{''.join(lhs)},{''.join(rhs)}->{''.join(out)}"
    to = result_dtype(op.result)
    if is_complex(to):
        return np.einsum(spec, a.astype(np.complex128), b.astype(np.complex128))
    if to in FLOAT_DTYPES:
        return np.einsum(spec, a.astype(np.float64), b.astype(np.float64))
    # Integers: int64 arithmetic, then wrap to the result type (the same residues).
    result = np.einsum(spec, a.astype(np.int64), b.astype(np.int64))
    return result != 0 if to == np.bool_ else result


for _cls in REDUCE_UFUNCS:
    _register(_cls, _reduce)
_register(lax.ArgmaxOp, _arg_reduce(np.argmax))
_register(lax.ArgminOp, _arg_reduce(np.argmin))
for _cls in CUMULATIVE_UFUNCS:
    _register(_cls, _cumulative)
_register(lax.SortOp, _sort)
_register(lax.TopKOp, _top_k)
_register(lax.DotGeneralOp, _dot_general)
LAX_RULES.update(WINDOW_RULES)  # pooling and its derivatives (lax_windows.py)

# ---------------------------------------------------------------------------------------
# Any other primitive.
# ---------------------------------------------------------------------------------------


# Control flow: plain Python loops, each region evaluated by the walker (`run`).
def _cond(op: lax.CondOp, index: np.ndarray, *, run: Callable) -> list[np.ndarray]:
    # XLA's conditional runs the last branch for an out-of-range index; so does lax.switch.
    i = int(np.clip(int(index), 0, len(op.branches) - 1))
    return run(op.branches[i], ())


def _while(op: lax.WhileOp, *carry: np.ndarray, run: Callable) -> list[np.ndarray]:
    values = list(carry)
    while bool(run(op.cond, values)[0]):
        values = run(op.body, values)
    return values


def _scan(op: lax.ScanOp, *args: np.ndarray, run: Callable) -> list[np.ndarray]:
    n, length = op.num_carry, op.int("length")
    carry, xs = list(args[:n]), args[n:]
    ys: list[list[np.ndarray]] = [[None] * length for _ in op.ys]  # type: ignore[list-item]
    steps = range(length - 1, -1, -1) if op.flag("reverse") else range(length)
    for i in steps:
        outs = run(op.body, [*carry, *(x[i] for x in xs)])
        carry = outs[:n]
        for stack, y in zip(ys, outs[n:], strict=True):
            stack[i] = y
    stacked = [np.stack(stack) if length else np.zeros(lax.shape(y), result_dtype(y))
               for stack, y in zip(ys, op.ys, strict=True)]
    return [*carry, *stacked]


def _region_rule(fn: Callable) -> OpRule:
    """`fn` with its outputs checked against the op's result types, as `checked` does."""

    def rule(op: Operation, *args: np.ndarray, run: Callable) -> Any:
        outs = fn(op, *args, run=run)
        finished = [finish(op, v, r) for v, r in zip(outs, op.results, strict=True)]
        return finished[0] if len(finished) == 1 else finished

    return rule


LAX_RULES[lax.CondOp] = _region_rule(_cond)
LAX_RULES[lax.WhileOp] = _region_rule(_while)
LAX_RULES[lax.ScanOp] = _region_rule(_scan)


def _generic(op: lax.GenericOp, *args: np.ndarray) -> Any:
    # The one rule that uses JAX: `lax.generic` keeps only a primitive's name and params,
    # so the reference evaluates that primitive eagerly on CPU. It is no independent check
    # of the primitive itself, only of everything around it.
    prim = primitive(op.prim.data)
    with jax.default_device(jax.devices("cpu")[0]):
        outs = prim.bind(*args, **params.params_from_attr(op.params))
    return [np.asarray(o) for o in outs] if prim.multiple_results else np.asarray(outs)


_register(lax.GenericOp, _generic)
LAX_RULES.update(COMPLEX_RULES)  # real, imag, complex, conj, fft (complex_rules.py)
# Where a value lives does not change its numbers.
_register(lax.ShardingConstraintOp, lambda op, x: x)
# Host callbacks (print, debug/pure/io callbacks): their own module.
LAX_RULES.update(EFFECT_RULES)
LAX_RULES.update(KEY_RULES)  # lax.random_wrap, random_unwrap (key_rules.py)
