"""The importer's rule table: JAX primitive name -> function building tiers ops.

A rule gets an `Emitter` (the equation, its location, a builder) and the operands as SSA
values, and returns the result values. Primitives without a rule whose params are plain data
become `lax.generic`; any other raises `UnsupportedPrimitive` naming the user's line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jax import lax as jlax
from xdsl.dialects import func
from xdsl.dialects.builtin import FloatAttr, StringAttr, f64
from xdsl.ir import SSAValue

from tiers.dialects import lax, params
from tiers.frontend.importer import Emitter, Rule, UnsupportedPrimitive, where
from tiers.targets.primitives import remember

RULES: dict[str, Rule] = {}


def rule(*names: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        for name in names:
            RULES[name] = fn
        return fn

    return register


def _build(em: Emitter, cls: type[lax.LaxOp], operands: Sequence, props: dict | None = None,
           result_types: Sequence | None = None) -> list[SSAValue]:
    from tiers.dialects.syntax import group

    defn = cls.get_irdl_definition()
    op = cls.build(
        operands=group(defn.operands, list(operands)),
        result_types=group(defn.results, list(result_types or em.out_types())),
        properties=props or {},
    )
    return list(em.add(op).results)


# Elementwise ops: JAX broadcasts rank-0 literals implicitly, tiers IR is explicit.
def _elementwise(cls: type[lax.LaxOp]) -> Rule:
    def build(em: Emitter, *xs: SSAValue) -> list[SSAValue]:
        out = em.out_type()
        return _build(em, cls, [em.broadcast(x, out) for x in xs])

    return build


for _cls in lax.all_ops():
    if issubclass(_cls, lax.ElementwiseOp) and _cls not in (lax.IntegerPowOp,
                                                            lax.ReducePrecisionOp):
        RULES[_cls.PRIMITIVE] = _elementwise(_cls)


@rule("integer_pow")
def _integer_pow(em: Emitter, x: SSAValue):
    return em.add(lax.IntegerPowOp(x, em.params["y"])).results


@rule("reduce_precision")
def _reduce_precision(em: Emitter, x: SSAValue):
    p = em.params
    return _build(em, lax.ReducePrecisionOp, [x], {
        "exponent_bits": lax.int_attr(p["exponent_bits"]),
        "mantissa_bits": lax.int_attr(p["mantissa_bits"])})


@rule("convert_element_type")
def _convert(em: Emitter, x: SSAValue):
    return _build(em, lax.ConvertElementTypeOp, [x])


@rule("bitcast_convert_type")
def _bitcast(em: Emitter, x: SSAValue):
    return _build(em, lax.BitcastConvertTypeOp, [x])


@rule("select_n")
def _select_n(em: Emitter, which: SSAValue, *cases: SSAValue):
    out = em.out_type()
    return _build(em, lax.SelectNOp, [which, *(em.broadcast(c, out) for c in cases)])


@rule("clamp")
def _clamp(em: Emitter, lo: SSAValue, x: SSAValue, hi: SSAValue):
    return _build(em, lax.ClampOp, [lo, x, hi])


@rule("iota")
def _iota(em: Emitter):
    return _build(em, lax.IotaOp, [], {"dimension": lax.int_attr(em.params["dimension"])})


@rule("broadcast_in_dim")
def _broadcast_in_dim(em: Emitter, x: SSAValue):
    return _build(em, lax.BroadcastInDimOp, [x],
                  {"dims": lax.ints(em.params["broadcast_dimensions"])})


@rule("reshape")
def _reshape(em: Emitter, x: SSAValue):
    if em.params.get("dimensions") is not None:
        # Old-style reshape with a transposition first: make that explicit.
        x = em.add(lax.TransposeOp(x, em.params["dimensions"])).results[0]
    return _build(em, lax.ReshapeOp, [x])


@rule("squeeze", "rev")
def _dimensions(em: Emitter, x: SSAValue):
    cls = lax.SqueezeOp if em.eqn.primitive.name == "squeeze" else lax.RevOp
    return _build(em, cls, [x], {"dimensions": lax.ints(em.params["dimensions"])})


@rule("transpose")
def _transpose(em: Emitter, x: SSAValue):
    return em.add(lax.TransposeOp(x, em.params["permutation"])).results


@rule("slice")
def _slice(em: Emitter, x: SSAValue):
    p = em.params
    strides = p["strides"] or (1,) * len(p["start_indices"])
    return _build(em, lax.SliceOp, [x], {
        "start_indices": lax.ints(p["start_indices"]),
        "limit_indices": lax.ints(p["limit_indices"]),
        "strides": lax.ints(strides)})


@rule("pad")
def _pad(em: Emitter, x: SSAValue, value: SSAValue):
    cfg = em.params["padding_config"]
    return _build(em, lax.PadOp, [x, value], {
        "low": lax.ints([c[0] for c in cfg]),
        "high": lax.ints([c[1] for c in cfg]),
        "interior": lax.ints([c[2] for c in cfg])})


@rule("concatenate")
def _concatenate(em: Emitter, *xs: SSAValue):
    return _build(em, lax.ConcatenateOp, xs, {"dimension": lax.int_attr(em.params["dimension"])})


@rule("split")
def _split(em: Emitter, x: SSAValue):
    return _build(em, lax.SplitOp, [x], {"sizes": lax.ints(em.params["sizes"]),
                                         "axis": lax.int_attr(em.params["axis"])})


@rule("dynamic_slice")
def _dynamic_slice(em: Emitter, x: SSAValue, *idx: SSAValue):
    return _build(em, lax.DynamicSliceOp, [x, *idx],
                  {"slice_sizes": lax.ints(em.params["slice_sizes"])})


@rule("dynamic_update_slice")
def _dynamic_update_slice(em: Emitter, x: SSAValue, update: SSAValue, *idx: SSAValue):
    return _build(em, lax.DynamicUpdateSliceOp, [x, update, *idx])


def _index_flags(p: dict) -> dict:
    return {"mode": lax.int_attr(jlax.GatherScatterMode.from_any(p["mode"]).value),
            "indices_are_sorted": lax.bool_attr(p["indices_are_sorted"]),
            "unique_indices": lax.bool_attr(p["unique_indices"])}


@rule("gather")
def _gather(em: Emitter, x: SSAValue, indices: SSAValue):
    p, dn = em.params, em.params["dimension_numbers"]
    props = {name: lax.ints(getattr(dn, name)) for name in (
        "offset_dims", "collapsed_slice_dims", "start_index_map", "operand_batching_dims",
        "start_indices_batching_dims")}
    props.update(_index_flags(p), slice_sizes=lax.ints(p["slice_sizes"]))
    if p.get("fill_value") is not None:
        props["fill_value"] = FloatAttr(float(p["fill_value"]), f64)
    return _build(em, lax.GatherOp, [x, indices], props)


SCATTERS = {"scatter": lax.ScatterOp, "scatter-add": lax.ScatterAddOp,
            "scatter-mul": lax.ScatterMulOp, "scatter-min": lax.ScatterMinOp,
            "scatter-max": lax.ScatterMaxOp}


@rule(*SCATTERS)
def _scatter(em: Emitter, x: SSAValue, indices: SSAValue, updates: SSAValue):
    p, dn = em.params, em.params["dimension_numbers"]
    if p.get("update_consts"):
        raise UnsupportedPrimitive(
            f"{where(em.eqn.source_info)}: {em.eqn.primitive.name} with a custom combiner")
    props = {name: lax.ints(getattr(dn, name)) for name in (
        "update_window_dims", "inserted_window_dims", "scatter_dims_to_operand_dims",
        "operand_batching_dims", "scatter_indices_batching_dims")}
    props.update(_index_flags(p))
    return _build(em, SCATTERS[em.eqn.primitive.name], [x, indices, updates], props)


REDUCES = {c.PRIMITIVE: c for c in lax.all_ops() if issubclass(c, lax.ReduceOp)}


@rule(*REDUCES)
def _reduce(em: Emitter, x: SSAValue):
    return _build(em, REDUCES[em.eqn.primitive.name], [x], {"axes": lax.ints(em.params["axes"])})


CUMULATIVES = {c.PRIMITIVE: c for c in lax.all_ops() if issubclass(c, lax.CumulativeOp)}


@rule(*CUMULATIVES)
def _cumulative(em: Emitter, x: SSAValue):
    return _build(em, CUMULATIVES[em.eqn.primitive.name], [x], {
        "axis": lax.int_attr(em.params["axis"]), "reverse": lax.bool_attr(em.params["reverse"])})


@rule("sort")
def _sort(em: Emitter, *xs: SSAValue):
    p = em.params
    return _build(em, lax.SortOp, xs, {"dimension": lax.int_attr(p["dimension"]),
                                       "is_stable": lax.bool_attr(p["is_stable"]),
                                       "num_keys": lax.int_attr(p["num_keys"])})


@rule("top_k")
def _top_k(em: Emitter, x: SSAValue):
    if em.params.get("axis", -1) not in (-1, len(lax.shape(x)) - 1):
        return generic_rule(em, x)
    return _build(em, lax.TopKOp, [x], {"k": lax.int_attr(em.params["k"])})


@rule("dot_general")
def _dot_general(em: Emitter, lhs: SSAValue, rhs: SSAValue):
    (lc, rc), (lb, rb) = em.params["dimension_numbers"]
    props = {"lhs_contracting": lax.ints(lc), "rhs_contracting": lax.ints(rc),
             "lhs_batch": lax.ints(lb), "rhs_batch": lax.ints(rb)}
    precision = em.params.get("precision")
    if precision is not None:
        props["precision"] = StringAttr(str(precision))
    return _build(em, lax.DotGeneralOp, [lhs, rhs], props)


# Calls: named sub-jaxprs become private functions, so structure survives import.
def _call(em: Emitter, closed, name: str, args: Sequence[SSAValue]):
    symbol = em.importer.import_function(closed, name, private=True)
    return em.add(func.CallOp(symbol, list(args), em.out_types())).results


@rule("jit", "pjit")
def _jit(em: Emitter, *args: SSAValue):
    return _call(em, em.params["jaxpr"], em.params["name"], args)


@rule("custom_jvp_call", "custom_vjp_call")
def _custom_call(em: Emitter, *args: SSAValue):
    # Import the primal computation; JAX has already applied any derivative rule it needed.
    closed = em.params["call_jaxpr"]
    name = em.params.get("name") or getattr(closed.jaxpr.debug_info, "func_name", None)
    return _call(em, closed, name or em.eqn.primitive.name, args)


def generic_rule(em: Emitter, *args: SSAValue):
    """Any other primitive with plain-data params: an opaque `lax.generic`."""
    name = em.eqn.primitive.name
    remember(em.eqn.primitive)
    try:
        attrs = params.params_to_attr(em.params)
    except params.NotPlainData as e:
        supported = ", ".join(sorted(RULES))
        raise UnsupportedPrimitive(
            f"{where(em.eqn.source_info)}: tiers cannot import primitive '{name}' ({e}). "
            f"Supported primitives: {supported}; any other primitive whose params are plain "
            "data runs as lax.generic."
        ) from None
    return _build(em, lax.GenericOp, args, {"prim": StringAttr(name), "params": attrs})
