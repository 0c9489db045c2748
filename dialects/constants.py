"""Dense constants <-> numpy arrays: the two helpers every floor above the dialects uses.

The importer, the passes that build constants (canonicalize, fold-constants, the raise and
lower passes), plugins and both targets read and write `DenseIntOrFPElementsAttr`s through
these, so the byte layout (little-endian, bool as int8) is decided in one place.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import BytesAttr, DenseIntOrFPElementsAttr

from tiers.dialects import dtypes


def dense(array: np.ndarray) -> DenseIntOrFPElementsAttr:
    """A dense attribute straight from numpy bytes (bf16 is stored through f32 by callers)."""
    t = dtypes.tensor_type(array.shape, array.dtype)
    data = array.astype(array.dtype.newbyteorder("<"), copy=False)
    if array.dtype == np.bool_:
        data = array.astype(np.int8)
    return DenseIntOrFPElementsAttr(t, BytesAttr(np.ascontiguousarray(data).tobytes()))


def constant_array(value: DenseIntOrFPElementsAttr) -> np.ndarray:
    """The numpy array a dense attribute holds."""
    dtype = dtypes.to_numpy(value.get_element_type())
    raw = np.int8 if dtype == np.bool_ else dtype
    shape = tuple(value.get_shape())
    flat = np.frombuffer(value.data.data, dtype=np.dtype(raw).newbyteorder("<"))
    if flat.size == 1 and int(np.prod(shape)) != 1:
        flat = np.broadcast_to(flat, (int(np.prod(shape)),))
    return flat.reshape(shape).astype(dtype)
