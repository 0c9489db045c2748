"""Plain-data primitive params <-> attributes, for `lax.generic`.

Plain data is bool, int, float, str, None, numpy dtypes, enum members, JAX primitives (as
`select_and_scatter_add`'s `select_prim`), (named) tuples of these and frozen dataclasses of
these (as `ragged_dot_general`'s `RaggedDotDimensionNumbers`). Enum members, named tuples and
dataclasses are written with their import path and primitives with their name, so that they
come back as the same Python objects after a round trip through text.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import math
from typing import Any

import numpy as np
from jax._src import core as jcore  # not jax.extend's: that package imports Pallas (~15 ms)
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    StringAttr,
    TypeAttribute,
    UnitAttr,
    f64,
    i1,
    i64,
)
from xdsl.ir import Attribute

from tiers.dialects import dtypes, primitives


class NotPlainData(TypeError):
    """A param value that has no attribute form (a jaxpr, a function, an array...)."""


_ENUM = "enum:"
_TUPLE = "tuple:"
_DATACLASS = "dataclass:"
_PRIMITIVE = "primitive:"


def _qualname(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _resolve(path: str) -> Any:
    module, _, qual = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qual.split("."):
        obj = getattr(obj, part)
    return obj


def to_attr(value: Any) -> Attribute:
    """The attribute form of one param value; raises NotPlainData otherwise."""
    if value is None:
        return UnitAttr()
    if isinstance(value, bool | np.bool_):
        return IntegerAttr(int(value), i1)
    if isinstance(value, enum.Enum):
        return StringAttr(f"{_ENUM}{_qualname(type(value))}.{value.name}")
    if isinstance(value, int | np.integer):
        return IntegerAttr(int(value), i64)
    if isinstance(value, float | np.floating):
        return FloatAttr(float(value), f64)
    if isinstance(value, str):
        return StringAttr(value)
    if isinstance(value, jcore.Primitive):
        primitives.remember(value)
        return StringAttr(f"{_PRIMITIVE}{value.name}")
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return dtypes.element_type(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        fields = DictionaryAttr({f: to_attr(getattr(value, f)) for f in value._fields})
        return DictionaryAttr({_TUPLE + _qualname(type(value)): fields})
    if isinstance(value, tuple | list):
        return ArrayAttr([to_attr(v) for v in value])
    if (dataclasses.is_dataclass(value) and not isinstance(value, type)
            and type(value).__dataclass_params__.frozen):  # type: ignore[attr-defined]
        fields = DictionaryAttr({f.name: to_attr(getattr(value, f.name))
                                 for f in dataclasses.fields(value)})
        return DictionaryAttr({_DATACLASS + _qualname(type(value)): fields})
    raise NotPlainData(f"{type(value).__name__} value {value!r:.60} is not plain data")


def from_attr(attr: Attribute) -> Any:
    """The Python value of an attribute made by `to_attr`."""
    if isinstance(attr, UnitAttr):
        return None
    if isinstance(attr, IntegerAttr):
        return bool(attr.value.data) if attr.type == i1 else attr.value.data
    if isinstance(attr, FloatAttr):
        v = attr.value.data
        return float(v) if not math.isnan(v) else math.nan
    if isinstance(attr, StringAttr):
        if attr.data.startswith(_ENUM):
            path, _, member = attr.data[len(_ENUM):].rpartition(".")
            return _resolve(path)[member]
        if attr.data.startswith(_PRIMITIVE):
            return primitives.primitive(attr.data[len(_PRIMITIVE):])
        return attr.data
    if isinstance(attr, ArrayAttr):
        return tuple(from_attr(a) for a in attr.data)
    if isinstance(attr, DictionaryAttr):
        ((key, fields),) = attr.data.items()
        prefix = next((p for p in (_TUPLE, _DATACLASS) if key.startswith(p)), None)
        assert prefix is not None and isinstance(fields, DictionaryAttr)
        cls = _resolve(key[len(prefix):])
        return cls(**{k: from_attr(v) for k, v in fields.data.items()})
    if isinstance(attr, TypeAttribute):
        return dtypes.to_numpy(attr)
    raise NotPlainData(f"attribute {attr} was not made by tiers.dialects.params")


def params_to_attr(params: dict[str, Any]) -> DictionaryAttr:
    return DictionaryAttr({k: to_attr(v) for k, v in params.items()})


def params_from_attr(attr: DictionaryAttr) -> dict[str, Any]:
    return {k: from_attr(v) for k, v in attr.data.items()}
