"""StableHLO emission rules of dynamic slicing, gather and scatter (see `hlo.py`): op class ->
text, written as JAX's own lowering writes it (`jax/_src/lax/slicing.py`), so both emissions
compile to the same XLA computation. `HLO_INDEXING_RULES` joins the emission table in
`rules.py`.

Modes: XLA's gather clamps and its scatter drops out-of-bounds windows, so CLIP and
PROMISE_IN_BOUNDS gathers and FILL_OR_DROP and PROMISE_IN_BOUNDS scatters are the bare op.
JAX lowers a FILL_OR_DROP gather as an in-bounds mask selecting the fill value
(`_gather_fill`) and a CLIP scatter as clamped indices (`_clamp_scatter_indices`); the rules
below write the same ops in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from jax.lax import GatherScatterMode as Mode
from xdsl.dialects.builtin import FloatAttr

from tiers.dialects import dtypes, lax
from tiers.targets.jax.hlo import (
    EmitRule,
    HloEmitter,
    broadcast_in_dim,
    compare,
    i64s,
    minmax,
    scalar_text,
    tensor_text,
)

HLO_INDEXING_RULES: dict[type, EmitRule] = {}
_I32_MAX = np.iinfo(np.int32).max


def _dims(**fields: Sequence[int] | int) -> str:
    """The fields of `#stablehlo.gather<...>` / `#stablehlo.scatter<...>`, empty lists left out
    as MLIR prints them."""
    return ", ".join(f"{k} = {list(v) if isinstance(v, tuple) else v}"
                     for k, v in fields.items() if v != ())


def _bcast(em: HloEmitter, x: str, shape: Sequence[int], dims: Sequence[int], dtype: Any) -> str:
    """`lax.broadcast_in_dim`; JAX forwards one that keeps the shape (`pe.forwarding_rules`)."""
    t = tensor_text(shape, dtype)
    return x if em.types[x] == t else broadcast_in_dim(em, x, t, dims)


def _convert(em: HloEmitter, x: str, shape: Sequence[int], have: Any, want: Any) -> str:
    """`lax.convert_element_type` of a traced value: no op when the dtype is already `want`."""
    return x if np.dtype(have) == np.dtype(want) else em.one("stablehlo.convert", [x],
                                                               tensor_text(shape, want))


def _dynamic_slice(em: HloEmitter, op: lax.DynamicSliceOp, x: str, *idx: str) -> str:
    return em.one("stablehlo.dynamic_slice", [x, *idx], op.results[0].type,
                  f"slice_sizes = {i64s(op.ints('slice_sizes'))}")


def _dynamic_update_slice(em: HloEmitter, op: lax.DynamicUpdateSliceOp, x: str, u: str,
                          *idx: str) -> str:
    return em.one("stablehlo.dynamic_update_slice", [x, u, *idx], op.results[0].type)


def _gather_op(em: HloEmitter, op: lax.GatherOp, x: str, idx: str, index_rank: int) -> str:
    out, shape = op.results[0].type, lax.shape(op.results[0])
    if 0 in shape:  # JAX writes zeros, not a gather, for an empty result
        element = lax.elem(op.results[0])
        return _bcast(em, em.scalar(0, element), shape, (), dtypes.to_numpy(element))
    dn = _dims(offset_dims=op.ints("offset_dims"),
               collapsed_slice_dims=op.ints("collapsed_slice_dims"),
               operand_batching_dims=op.ints("operand_batching_dims"),
               start_indices_batching_dims=op.ints("start_indices_batching_dims"),
               start_index_map=op.ints("start_index_map"), index_vector_dim=index_rank - 1)
    return em.one("stablehlo.gather", [x, idx], out,
                  f"dimension_numbers = #stablehlo.gather<{dn}>, indices_are_sorted = "
                  f"{str(op.flag('indices_are_sorted')).lower()}, "
                  f"slice_sizes = {i64s(op.ints('slice_sizes'))}")


def _index_dtype(largest: int) -> np.dtype:
    """The dtype JAX gives index arithmetic up to `largest`: int32 unless it overflows."""
    return np.dtype(np.int64 if largest > _I32_MAX else np.int32)


def _default_fill(dtype: np.dtype) -> Any:
    """`lax.gather`'s fill value when none is given (the walk rule passes none then)."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return info.min if info.min else info.max
    return True if dtype == np.bool_ else np.nan


def _gather(em: HloEmitter, op: lax.GatherOp, x: str, idx: str) -> str:
    if Mode(op.int("mode")) != Mode.FILL_OR_DROP:
        return _gather_op(em, op, x, idx, len(lax.shape(op.indices)))
    in_shape, ishape = lax.shape(op.operand), lax.shape(op.indices)
    out_shape, out_dtype = lax.shape(op.results[0]), dtypes.to_numpy(lax.elem(op.results[0]))
    given = op.properties.get("fill_value")
    value = given.value.data if isinstance(given, FloatAttr) else _default_fill(out_dtype)
    fill: np.ndarray | None
    try:  # `lax.full_like`'s conversion of a Python float
        fill = None if np.issubdtype(out_dtype, np.integer) and not np.isfinite(value) else (
            np.asarray(value, out_dtype))
    except OverflowError:
        fill = None
    if not in_shape or fill is None:
        # JAX traces these (a rank-0 operand's shape, a fill value NumPy does not convert)
        # instead of folding them to constants: let it lower them itself.
        return em.fallback(op, [x, idx])[0]
    # `_gather_fill`: a window is in bounds where 0 <= index <= dim - slice size.
    itype = _index_dtype(max(in_shape))
    smap, sizes = op.ints("start_index_map"), op.ints("slice_sizes")
    bound = em.constant(np.array([in_shape[d] - sizes[d] for d in smap], itype))
    idx = _convert(em, idx, ishape, dtypes.to_numpy(lax.elem(op.indices)), itype)
    nb = len(ishape) - 1
    zero = _bcast(em, em.scalar(0, dtypes.element_type(itype)), ishape, (), itype)
    low = compare(em, "GE", idx, zero, dtypes.element_type(itype), ishape)
    expanded = (1,) * nb + (len(smap),)
    bound = _bcast(em, bound, expanded, (nb,), itype)
    bound = _bcast(em, bound, ishape, range(len(ishape)), itype)  # `lax.le` broadcasts 1s
    high = compare(em, "LE", idx, bound, dtypes.element_type(itype), ishape)
    both = em.one("stablehlo.and", [low, high], tensor_text(ishape, np.bool_))
    i1 = tensor_text((), np.bool_)
    mask = em.one("stablehlo.reduce", [both, em.constant(np.array(True))],
                  tensor_text(ishape[:-1], np.bool_), f"dimensions = {i64s([nb])}",
                  [em.region([i1, i1], lambda a: [em.one("stablehlo.and", a, i1)])])
    got = _gather_op(em, op, x, idx, len(ishape))
    offsets = op.ints("offset_dims")
    mask = _bcast(em, mask, out_shape, [d for d in range(len(out_shape)) if d not in offsets],
                  np.bool_)
    filler = _bcast(em, em.constant(fill), out_shape, (), out_dtype)
    return em.one("stablehlo.select", [mask, got, filler], op.results[0].type)


# The update computation of each scatter: `None` (plain scatter) returns the update; "min" and
# "max" are `hlo.minmax` (complex numbers in JAX's order).
COMBINE = {lax.ScatterOp: None, lax.ScatterAddOp: "stablehlo.add",
           lax.ScatterMulOp: "stablehlo.multiply", lax.ScatterMinOp: "min",
           lax.ScatterMaxOp: "max"}


def _clamp_scatter_indices(em: HloEmitter, op: lax.ScatterBase, idx: str) -> str:
    """JAX's `_clamp_scatter_indices`: 0 <= index <= dim - window size."""
    in_shape, ishape = lax.shape(op.operand), lax.shape(op.indices)
    idtype = dtypes.to_numpy(lax.elem(op.indices))
    windows = iter(op.ints("update_window_dims"))
    skipped = {*op.ints("inserted_window_dims"), *op.ints("operand_batching_dims")}
    sizes = [1 if d in skipped else lax.shape(op.updates)[next(windows)]
             for d in range(len(in_shape))]
    bounds = [in_shape[d] - sizes[d] for d in op.ints("scatter_dims_to_operand_dims")]
    btype = _index_dtype(max(bounds))
    bound = em.constant(np.array(bounds, btype))
    cap = em.scalar(min(np.iinfo(btype).max, np.iinfo(idtype).max), dtypes.element_type(btype))
    bound = em.one("stablehlo.minimum", [bound, _bcast(em, cap, [len(bounds)], (), btype)],
                   tensor_text([len(bounds)], btype))
    bound = _convert(em, bound, [len(bounds)], btype, idtype)
    bound = _bcast(em, bound, ishape, (len(ishape) - 1,), idtype)
    zero = _bcast(em, em.scalar(0, lax.elem(op.indices)), ishape, (), idtype)
    return em.one("stablehlo.clamp", [zero, idx, bound], op.indices.type)


def _scatter(em: HloEmitter, op: lax.ScatterBase, x: str, idx: str, upd: str) -> str:
    if Mode(op.int("mode")) == Mode.CLIP:
        if not op.ints("scatter_dims_to_operand_dims"):  # JAX traces an empty shape value
            return em.fallback(op, [x, idx, upd])[0]
        idx = _clamp_scatter_indices(em, op, idx)
    dn = _dims(update_window_dims=op.ints("update_window_dims"),
               inserted_window_dims=op.ints("inserted_window_dims"),
               input_batching_dims=op.ints("operand_batching_dims"),
               scatter_indices_batching_dims=op.ints("scatter_indices_batching_dims"),
               scatter_dims_to_operand_dims=op.ints("scatter_dims_to_operand_dims"),
               index_vector_dim=len(lax.shape(op.indices)) - 1)
    element = lax.elem(op.operand)
    scalar = scalar_text(element)
    combine = COMBINE[type(op)]

    def body(a: list[str]) -> list[str]:
        if combine is None:
            return [a[1]]
        if combine in ("min", "max"):
            return [minmax(em, combine, a[0], a[1], element)]
        return [em.one(combine, a, scalar)]

    region = em.region([scalar, scalar], body)
    return em.one("stablehlo.scatter", [x, idx, upd], op.results[0].type,
                  f"indices_are_sorted = {str(op.flag('indices_are_sorted')).lower()}, "
                  f"scatter_dimension_numbers = #stablehlo.scatter<{dn}>, "
                  f"unique_indices = {str(op.flag('unique_indices')).lower()}", [region])


HLO_INDEXING_RULES[lax.DynamicSliceOp] = _dynamic_slice
HLO_INDEXING_RULES[lax.DynamicUpdateSliceOp] = _dynamic_update_slice
HLO_INDEXING_RULES[lax.GatherOp] = _gather
for _cls in COMBINE:
    HLO_INDEXING_RULES[_cls] = _scatter
