"""StableHLO emission rules of the windowed ops (see `hlo.py`): pooling and its gradient,
written as JAX 0.10.2's `windowed_reductions.py` lowers each primitive on CPU and GPU, so both
emissions compile to the same XLA computation. `HLO_WINDOW_RULES` joins the emission table in
`rules.py`.

`lax.select_and_gather_add` has no rule on purpose: JAX lowers it per platform (a variadic
reduce_window of (operand, tangent) pairs, but on GPU one reduce_window of both packed into a
word twice as wide), and an emission rule sees no platform, so JAX lowers it (`fallback`).
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import TensorType

from tiers.dialects import dtypes, lax
from tiers.targets.jax.hlo import (
    EmitRule,
    HloEmitter,
    compare,
    full,
    i64s,
    scalar_text,
    unit_slice,
)
from tiers.targets.jax.hlo_reduce import identity, reducer

HLO_WINDOW_RULES: dict[type, EmitRule] = {}


def padding_attr(padding: Sequence[Sequence[int]]) -> str:
    """`dense<[[lo, hi], ...]> : tensor<Nx2xi64>`, XLA's window padding."""
    if not padding:
        return "dense<> : tensor<0x2xi64>"
    rows = ", ".join(f"[{int(lo)}, {int(hi)}]" for lo, hi in padding)
    return f"dense<[{rows}]> : tensor<{len(padding)}x2xi64>"


def window_attrs(op: lax.WindowOp, padding: Sequence[Sequence[int]] | None = None,
                 dilations: bool = True) -> str:
    """The attributes of `stablehlo.reduce_window` (`dilations`) or `select_and_scatter`."""
    parts = []
    if dilations:
        base, window = op.dilations()
        parts.append(f"base_dilations = {i64s(base)}")
    parts.append(f"padding = {padding_attr(op.padding if padding is None else padding)}")
    if dilations:
        parts.append(f"window_dilations = {i64s(window)}")
    parts += [f"window_dimensions = {i64s(op.ints('window_dimensions'))}",
              f"window_strides = {i64s(op.ints('window_strides'))}"]
    return ", ".join(parts)


# -- reduce_window_{sum,max,min}: `_reduce_window_lower`, the init a `full_like_aval` --------

REDUCERS = {lax.ReduceWindowSumOp: ("sum", "stablehlo.add"),
            lax.ReduceWindowMaxOp: ("max", "max"),  # `mlir.max_hlo`: complex numbers ordered
            lax.ReduceWindowMinOp: ("min", "min")}


def _reduce_window(em: HloEmitter, op: lax.ReduceWindowOp, x: str) -> str:
    kind, name = REDUCERS[type(op)]
    element = lax.elem(op.operand)
    scalar = scalar_text(element)
    init = full(em, identity(kind, element), TensorType(element, ()))
    combine = reducer(name)
    body = em.region([scalar, scalar], lambda a: [combine(em, element, *a)])
    return em.op("stablehlo.reduce_window", [x, init], [op.results[0].type], window_attrs(op),
                 [body])[0]


HLO_WINDOW_RULES.update(dict.fromkeys(REDUCERS, _reduce_window))


def _direction(op: lax.WindowOp) -> tuple[str, str]:
    """("max", "GE") for `select "ge"`, ("min", "LE") for `"le"`."""
    ge = op.properties["select"].data == "ge"  # type: ignore[attr-defined]
    return ("max", "GE") if ge else ("min", "LE")


# -- select_and_scatter_add: `_select_and_scatter_add_impl` with `expand_padding` (JAX's CPU
# and GPU rule): the operand padded with the identity, a select_and_scatter without padding
# from a zero init, then the padding sliced off. ---------------------------------------------


def _select_and_scatter_add(em: HloEmitter, op: lax.SelectAndScatterAddOp, source: str,
                            operand: str) -> str:
    kind, direction = _direction(op)
    element = lax.elem(op.operand)
    scalar = scalar_text(element)
    shape, padding = lax.shape(op.operand), op.padding
    low, high = [lo for lo, _ in padding], [hi for _, hi in padding]
    padded = TensorType(element, [d + lo + hi for d, (lo, hi) in zip(shape, padding)])
    x = em.one("stablehlo.pad", [operand, em.constant(identity(kind, element))], padded,
               f"edge_padding_low = {i64s(low)}, edge_padding_high = {i64s(high)}, "
               f"interior_padding = {i64s([0] * len(shape))}")
    zero = em.scalar(0, element)
    select = em.region([scalar, scalar], lambda a: [compare(em, direction, a[0], a[1], element)])
    combine = "stablehlo.or" if dtypes.is_bool(element) else "stablehlo.add"
    scatter = em.region([scalar, scalar], lambda a: [em.one(combine, a, scalar)])
    out = em.op("stablehlo.select_and_scatter", [x, source, zero], [padded],
                window_attrs(op, [(0, 0)] * len(shape), dilations=False), [select, scatter])[0]
    return unit_slice(em, out, op.results[0].type, low, [lo + d for lo, d in zip(low, shape)])


HLO_WINDOW_RULES[lax.SelectAndScatterAddOp] = _select_and_scatter_add
