"""The one mapping between numpy/JAX dtypes and xDSL element types (and `tensor<...>` types)."""

from __future__ import annotations

import ml_dtypes
import numpy as np
from numpy.typing import DTypeLike
from xdsl.dialects.builtin import (
    BFloat16Type,
    ComplexType,
    Float8E3M4Type,
    Float8E4M3B11FNUZType,
    Float8E4M3FNType,
    Float8E4M3FNUZType,
    Float8E4M3Type,
    Float8E5M2FNUZType,
    Float8E5M2Type,
    Float8E8M0FNUType,
    Float16Type,
    Float32Type,
    Float64Type,
    IntegerType,
    Signedness,
    TensorType,
)
from xdsl.ir import Attribute

# The 8-bit float formats of JAX (`jnp.float8_*`, numpy dtypes from ml_dtypes), as MLIR's and
# StableHLO's builtin `f8E4M3FN`, ... types.
Float8 = (Float8E4M3FNType | Float8E5M2Type | Float8E4M3FNUZType | Float8E5M2FNUZType
          | Float8E4M3B11FNUZType | Float8E4M3Type | Float8E3M4Type | Float8E8M0FNUType)
# Every element type tiers' IR uses (all of them valid in a dense elements attribute).
# Complex numbers are builtin `complex<f32>` / `complex<f64>`, as in MLIR and StableHLO.
Element = (IntegerType | Float16Type | BFloat16Type | Float32Type | Float64Type | ComplexType
           | Float8)

_BY_NAME: dict[str, Element] = {
    "bool": IntegerType(1),
    "int8": IntegerType(8),
    "int16": IntegerType(16),
    "int32": IntegerType(32),
    "int64": IntegerType(64),
    "uint8": IntegerType(8, Signedness.UNSIGNED),
    "uint16": IntegerType(16, Signedness.UNSIGNED),
    "uint32": IntegerType(32, Signedness.UNSIGNED),
    "uint64": IntegerType(64, Signedness.UNSIGNED),
    "float16": Float16Type(),
    "bfloat16": BFloat16Type(),
    "float32": Float32Type(),
    "float64": Float64Type(),
    "complex64": ComplexType(Float32Type()),
    "complex128": ComplexType(Float64Type()),
    "float8_e4m3fn": Float8E4M3FNType(),
    "float8_e5m2": Float8E5M2Type(),
    "float8_e4m3fnuz": Float8E4M3FNUZType(),
    "float8_e5m2fnuz": Float8E5M2FNUZType(),
    "float8_e4m3b11fnuz": Float8E4M3B11FNUZType(),
    "float8_e4m3": Float8E4M3Type(),
    "float8_e3m4": Float8E3M4Type(),
    "float8_e8m0fnu": Float8E8M0FNUType(),
}
# The numpy dtypes of the float8 formats, in the order of `_BY_NAME`.
FLOAT8_DTYPES: tuple[np.dtype, ...] = tuple(
    np.dtype(getattr(ml_dtypes, n)) for n in _BY_NAME if n.startswith("float8_"))
# numpy has no bfloat16 or float8: ml_dtypes' dtypes are JAX's (`jnp.bfloat16 is
# ml_dtypes.bfloat16`).
_BY_TYPE: dict[Attribute, np.dtype] = {
    t: np.dtype(getattr(ml_dtypes, n, n)) for n, t in _BY_NAME.items()
}


class UnsupportedDType(TypeError):
    """A dtype tiers' IR has no element type for (int4, float4, PRNG keys, ...)."""


def element_type(dtype: DTypeLike) -> Element:
    """The xDSL element type of a numpy/JAX dtype."""
    name = np.dtype(dtype).name
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnsupportedDType(
            f"dtype {name} is not supported by tiers IR (supported: {', '.join(_BY_NAME)})"
        ) from None


def to_numpy(element: Attribute) -> np.dtype:
    """The numpy dtype of an xDSL element type."""
    try:
        return _BY_TYPE[element]
    except KeyError:
        raise UnsupportedDType(f"element type {element} has no numpy dtype") from None


def tensor_type(shape: tuple[int, ...], dtype: DTypeLike) -> TensorType[Element]:
    """`tensor<shape x dtype>`; rank-0 for scalars (memoized: attribute construction verifies,
    which dominates import time otherwise)."""
    key = (tuple(shape), np.dtype(dtype))
    t = _TENSOR_TYPES.get(key)
    if t is None:
        t = _TENSOR_TYPES[key] = TensorType(element_type(dtype), key[0])
    return t


_TENSOR_TYPES: dict[tuple[tuple[int, ...], np.dtype], TensorType[Element]] = {}


def tensor_of(element: Attribute, shape: tuple[int, ...]) -> TensorType[Element]:
    """`tensor<shape x element>`, memoized like `tensor_type`."""
    return tensor_type(shape, to_numpy(element))


def needs_x64(dtype: DTypeLike) -> bool:
    """Whether JAX keeps `dtype` only with x64 enabled: 64-bit integers and floats, and
    complex128 (whose parts are 64-bit; complex64 is two 32-bit floats in 8 bytes)."""
    d = np.dtype(dtype)
    return d.itemsize == (16 if d.kind == "c" else 8)


def is_float(element: Attribute) -> bool:
    """Real floating point (complex excluded; bfloat16 and the float8 formats included)."""
    return isinstance(element, Float16Type | BFloat16Type | Float32Type | Float64Type | Float8)


def is_float8(element: Attribute) -> bool:
    """One of the 8-bit float formats (`f8E4M3FN`, `f8E5M2`, ...)."""
    return isinstance(element, Float8)


# The formats JAX's `dtypes.supports_inf` says have no infinities (float8_e8m0fnu has none
# either, but JAX treats it as having them: its -inf becomes NaN, as in XLA).
_NO_INF = frozenset(np.dtype(getattr(ml_dtypes, n)) for n in (
    "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e4m3b11fnuz"))


def infinity(dtype: DTypeLike, sign: int = 1) -> float:
    """`sign` * inf, or for a format without infinities its finite extreme of that sign: the
    identities of max and min reductions (JAX's `lax._get_max_identity`/`_get_min_identity`)."""
    d = np.dtype(dtype)
    if d in _NO_INF:
        info = ml_dtypes.finfo(d)
        return float(info.max if sign > 0 else info.min)
    return sign * float("inf")


def is_complex(element: Attribute) -> bool:
    return isinstance(element, ComplexType)


def is_inexact(element: Attribute) -> bool:
    """Real or complex floating point (numpy's `inexact`)."""
    return is_float(element) or isinstance(element, ComplexType)


def real_part(element: Attribute) -> Attribute:
    """The element type of the real and imaginary parts of a complex type (f32 of
    complex<f32>); any other type itself (`np.abs`'s result dtype, JAX's `_complex_basetype`)."""
    return element.element_type if isinstance(element, ComplexType) else element


def complex_of(element: Attribute) -> Attribute:
    """complex<f32> of f32 and complex<f32>, complex<f64> of f64 and complex<f64> (JAX's
    `_complex_dtype` of the `complex` and `conj` primitives)."""
    if isinstance(element, ComplexType):
        return element
    assert isinstance(element, Float32Type | Float64Type), element  # `complex_p`'s parts
    return ComplexType(element)


def is_bool(element: Attribute) -> bool:
    return isinstance(element, IntegerType) and element.width.data == 1


def is_integer(element: Attribute) -> bool:
    """Integer, bool excluded."""
    return isinstance(element, IntegerType) and element.width.data != 1
