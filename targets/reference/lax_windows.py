"""Reference rules of the windowed `lax` ops (`dialects/lax_windows.py`), in numpy, written
from XLA's semantics on CPU as JAX lowers each primitive there (checked against XLA in
tests/test_lax_ops.py). `WINDOW_RULES` joins `lax_rules.LAX_RULES`.

A window is a set of strided slices of the padded, dilated operand, one slice per window
offset in row-major order (`_slices`), so every rule is a short loop over window offsets
with numpy doing each offset for all windows at once.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np

from tiers.dialects import dtypes, lax
from tiers.targets.reference.common import FLOAT_DTYPES, checked, wide
from tiers.targets.walk import OpRule

WINDOW_RULES: dict[type, OpRule] = {}


def _identity(kind: str, dtype: np.dtype) -> Any:
    """The identity of a sum, max or min over `dtype` (the value of padding and holes)."""
    if kind == "sum":
        return 0
    largest = kind == "min"
    if dtype == np.bool_:
        return largest
    if dtype in FLOAT_DTYPES or dtype.kind == "c":  # complex: (+-inf, 0)
        return dtypes.infinity(dtype, 1 if largest else -1)  # finite without infinities
    info = np.iinfo(dtype)
    return info.max if largest else info.min


def _padded(x: np.ndarray, fill: Any, op: lax.WindowOp) -> np.ndarray:
    """`x` dilated by `base_dilation` and padded as `op` says, holes and padding `fill`
    (negative padding crops, as in `lax.pad`)."""
    base, _ = op.dilations()
    dilated = np.full([0 if d == 0 else (d - 1) * b + 1 for d, b in zip(x.shape, base)],
                      fill, x.dtype)
    dilated[tuple(slice(None, None, b) for b in base)] = x
    grown = np.pad(dilated, [(max(lo, 0), max(hi, 0)) for lo, hi in op.padding],
                   constant_values=fill)
    return grown[tuple(slice(max(-lo, 0), n - max(-hi, 0))
                       for n, (lo, hi) in zip(grown.shape, op.padding))]


def _slices(op: lax.WindowOp, padded: tuple[int, ...]) -> Iterator[tuple[slice, ...]]:
    """For each window offset in row-major order, the slice of the padded operand holding
    that element of every window."""
    window, strides = op.ints("window_dimensions"), op.ints("window_strides")
    _, dilation = op.dilations()
    counts = [max(0, (p - (w - 1) * d - 1) // s + 1)
              for p, w, d, s in zip(padded, window, dilation, strides)]
    for offset in itertools.product(*(range(w) for w in window)):
        yield tuple(slice(k * d, k * d + (n - 1) * s + 1, s) if n else slice(0, 0)
                    for k, d, s, n in zip(offset, dilation, strides, counts))


REDUCERS = {lax.ReduceWindowSumOp: ("sum", np.add), lax.ReduceWindowMaxOp: ("max", np.maximum),
            lax.ReduceWindowMinOp: ("min", np.minimum)}


def _reduce_window(op: lax.ReduceWindowOp, x: np.ndarray) -> np.ndarray:
    # Floats accumulate in float64 and round once; integers wrap in their own type.
    kind, ufunc = REDUCERS[type(op)]
    w = wide(x)
    padded = _padded(w, _identity(kind, x.dtype), op)
    acc = np.full(op.window_shape(x.shape), _identity(kind, x.dtype), w.dtype)
    for where in _slices(op, padded.shape):
        acc = ufunc(acc, padded[where])
    return acc


def _select(op: lax.WindowOp) -> tuple[str, Any]:
    """("max", >=) for `select "ge"`, ("min", <=) for `"le"`."""
    ge = op.properties["select"].data == "ge"  # type: ignore[attr-defined]
    return ("max", np.greater_equal) if ge else ("min", np.less_equal)


def _select_and_scatter_add(op: lax.SelectAndScatterAddOp, source: np.ndarray,
                            operand: np.ndarray) -> np.ndarray:
    # XLA's select_and_scatter: a window's selected element starts as its first and moves to
    # each later element e unless select(selected, e); JAX pads the operand with the
    # identity on CPU and GPU (`_select_and_scatter_add_impl`), so padding can be selected
    # (its share is dropped with the padding).
    kind, select = _select(op)
    padded = _padded(wide(operand), _identity(kind, operand.dtype), op)
    where = list(_slices(op, padded.shape))
    best, chosen = padded[where[0]], np.zeros(source.shape, np.int64)
    for k, place in enumerate(where[1:], 1):
        keep = select(best, padded[place])
        best = np.where(keep, best, padded[place])
        chosen = np.where(keep, chosen, k)
    src = wide(source)
    acc = np.zeros(padded.shape, src.dtype)
    for k, place in enumerate(where):  # one offset's places are distinct: add in place
        share = np.where(chosen == k, src, np.zeros((), src.dtype))
        if src.dtype == np.bool_:
            acc[place] |= share
        else:
            acc[place] += share
    return acc[tuple(slice(lo, lo + n) for n, (lo, _) in zip(operand.shape, op.padding))]


def _select_and_gather_add(op: lax.SelectAndGatherAddOp, tangents: np.ndarray,
                           operand: np.ndarray) -> np.ndarray:
    # JAX's CPU lowering: a variadic reduce_window of (operand, tangents) pairs from
    # (identity, 0), keeping the accumulated pair while select(acc, e); padding and holes
    # are skipped. Folded in row-major order: for keys without NaN the first extreme wins
    # whatever the order of association, which is XLA's result; with NaN keys the reducer
    # is not associative and XLA's order is unspecified (it differs by shape on CPU).
    kind, select = _select(op)
    fill = _identity(kind, operand.dtype)
    keys, values = _padded(wide(operand), fill, op), _padded(wide(tangents), 0, op)
    real = _padded(np.ones(operand.shape, np.bool_), False, op)
    out = op.window_shape(operand.shape)
    best, acc = np.full(out, fill, np.float64), np.zeros(out, np.float64)
    for place in _slices(op, keys.shape):
        take = real[place] & ~select(best, keys[place])
        best = np.where(take, keys[place], best)
        acc = np.where(take, values[place], acc)
    return acc


for _cls in REDUCERS:
    WINDOW_RULES[_cls] = checked(_cls, _reduce_window)
WINDOW_RULES[lax.SelectAndScatterAddOp] = checked(lax.SelectAndScatterAddOp,
                                                  _select_and_scatter_add)
WINDOW_RULES[lax.SelectAndGatherAddOp] = checked(lax.SelectAndGatherAddOp,
                                                 _select_and_gather_add)
