"""The importer's rule table: JAX primitive name -> function building tiers ops.

A rule gets an `Emitter` (the equation, its location, a builder) and the operands as SSA
values, and returns the result values. Primitives without a rule whose params are plain data
become `lax.generic`; others that JAX lowers with `mlir.lower_fun(fun)` become a call of `fun`
traced (`generic_rule`); any other raises `UnsupportedPrimitive` naming the user's line.
docs/primitive-coverage.md lists JAX's primitives and which of these each gets.

`RULES`, at the end of the file, is the table the importer reads: this module's `LAX_RULES`
(JAX's own primitives) joined with `highlevel.HIGHLEVEL_RULES` (tiers' primitives, one
`array` op each). `KEY_RULES` serves primitives applied to PRNG key arrays.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jax import lax as jlax
from jax._src import core as jcore  # not jax.extend's: that package imports Pallas (~15 ms)
from jax._src.random import core as random_core
from jax._src.random import prng
from xdsl.builder import Builder, InsertPoint
from xdsl.dialects import func
from xdsl.dialects.builtin import FloatAttr, StringAttr, TensorType, f64
from xdsl.ir import Attribute, Block, Region, SSAValue
from xdsl.irdl import OperandDef, ResultDef

from tiers.dialects import lax, params, sharding
from tiers.dialects.lax_effects import HostCallback
from tiers.dialects.primitives import primitive, remember
from tiers.dialects.syntax import group
from tiers.frontend.emitter import (
    Emitter,
    ImportError_,
    Rule,
    UnsupportedPrimitive,
    is_key,
    rule_adder,
)
from tiers.frontend.highlevel import HIGHLEVEL_RULES
from tiers.frontend.import_effects import EFFECT_RULES
from tiers.pipeline.messages import closest

LAX_RULES: dict[str, Rule] = {}
_rule = rule_adder(LAX_RULES)


def _build(em: Emitter, cls: type[lax.LaxOp], operands: Sequence, props: dict | None = None,
           result_types: Sequence | None = None) -> list[SSAValue]:
    types = list(result_types or em.out_types())
    defn = cls.get_irdl_definition()
    if _plain(cls) and len(operands) == len(defn.operands) and len(types) == len(defn.results):
        # What IRDL's builder would do for this op: nothing but `Operation.__init__` (a third
        # of the cost; most ops of a program are such)
        op = cls.create(operands=operands, result_types=types,
                        properties={k: v for k, v in (props or {}).items() if v is not None})
    else:
        op = cls.build(operands=group(defn.operands, list(operands)),
                       result_types=group(defn.results, types), properties=props or {})
    return list(em.add(op).results)


@functools.cache
def _plain(cls: type[lax.LaxOp]) -> bool:
    """Whether IRDL builds `cls` as given: one operand per operand definition, one result per
    result definition, no regions, successors or segment-size options."""
    defn = cls.get_irdl_definition()
    return not (defn.options or defn.regions or defn.successors) and all(
        type(d) in (OperandDef, ResultDef) for _, d in (*defn.operands, *defn.results))


# Elementwise ops: JAX broadcasts rank-0 literals implicitly, tiers IR is explicit.
def _elementwise(cls: type[lax.LaxOp]) -> Rule:
    def build(em: Emitter, *xs: SSAValue) -> list[SSAValue]:
        out = em.out_type()
        return _build(em, cls, [em.broadcast(x, out) for x in xs])

    return build


for _cls in lax.ops_of_kind(lax.ElementwiseOp):
    if _cls not in (lax.IntegerPowOp, lax.ReducePrecisionOp):
        LAX_RULES[_cls.PRIMITIVE] = _elementwise(_cls)


@_rule("integer_pow")
def _integer_pow(em: Emitter, x: SSAValue):
    return em.add(lax.IntegerPowOp(x, em.params["y"])).results


@_rule("reduce_precision")
def _reduce_precision(em: Emitter, x: SSAValue):
    p = em.params
    return _build(em, lax.ReducePrecisionOp, [x], {
        "exponent_bits": lax.int_attr(p["exponent_bits"]),
        "mantissa_bits": lax.int_attr(p["mantissa_bits"])})


@_rule("convert_element_type")
def _convert(em: Emitter, x: SSAValue):
    return _build(em, lax.ConvertElementTypeOp, [x])


@_rule("bitcast_convert_type")
def _bitcast(em: Emitter, x: SSAValue):
    return _build(em, lax.BitcastConvertTypeOp, [x])


@_rule("select_n")
def _select_n(em: Emitter, which: SSAValue, *cases: SSAValue):
    out = em.out_type()
    return _build(em, lax.SelectNOp, [which, *(em.broadcast(c, out) for c in cases)])


@_rule("clamp")
def _clamp(em: Emitter, lo: SSAValue, x: SSAValue, hi: SSAValue):
    return _build(em, lax.ClampOp, [lo, x, hi])


@_rule("iota")
def _iota(em: Emitter):
    return _build(em, lax.IotaOp, [], {"dimension": lax.int_attr(em.params["dimension"])})


@_rule("broadcast_in_dim")
def _broadcast_in_dim(em: Emitter, x: SSAValue):
    return _build(em, lax.BroadcastInDimOp, [x],
                  {"dims": lax.ints(em.params["broadcast_dimensions"])})


@_rule("reshape")
def _reshape(em: Emitter, x: SSAValue):
    if em.params.get("dimensions") is not None:
        # Old-style reshape with a transposition first: make that explicit.
        x = em.add(lax.TransposeOp(x, em.params["dimensions"])).results[0]
    return _build(em, lax.ReshapeOp, [x])


@_rule("squeeze", "rev")
def _dimensions(em: Emitter, x: SSAValue):
    cls = lax.SqueezeOp if em.eqn.primitive.name == "squeeze" else lax.RevOp
    return _build(em, cls, [x], {"dimensions": lax.ints(em.params["dimensions"])})


@_rule("transpose")
def _transpose(em: Emitter, x: SSAValue):
    return em.add(lax.TransposeOp(x, em.params["permutation"])).results


@_rule("slice")
def _slice(em: Emitter, x: SSAValue):
    p = em.params
    strides = p["strides"] or (1,) * len(p["start_indices"])
    return _build(em, lax.SliceOp, [x], {
        "start_indices": lax.ints(p["start_indices"]),
        "limit_indices": lax.ints(p["limit_indices"]),
        "strides": lax.ints(strides)})


@_rule("pad")
def _pad(em: Emitter, x: SSAValue, value: SSAValue):
    cfg = em.params["padding_config"]
    return _build(em, lax.PadOp, [x, value], {
        "low": lax.ints([c[0] for c in cfg]),
        "high": lax.ints([c[1] for c in cfg]),
        "interior": lax.ints([c[2] for c in cfg])})


@_rule("concatenate")
def _concatenate(em: Emitter, *xs: SSAValue):
    return _build(em, lax.ConcatenateOp, xs, {"dimension": lax.int_attr(em.params["dimension"])})


@_rule("split")
def _split(em: Emitter, x: SSAValue):
    return _build(em, lax.SplitOp, [x], {"sizes": lax.ints(em.params["sizes"]),
                                         "axis": lax.int_attr(em.params["axis"])})


@_rule("dynamic_slice")
def _dynamic_slice(em: Emitter, x: SSAValue, *idx: SSAValue):
    return _build(em, lax.DynamicSliceOp, [x, *idx],
                  {"slice_sizes": lax.ints(em.params["slice_sizes"])})


@_rule("dynamic_update_slice")
def _dynamic_update_slice(em: Emitter, x: SSAValue, update: SSAValue, *idx: SSAValue):
    return _build(em, lax.DynamicUpdateSliceOp, [x, update, *idx])


def _index_flags(p: dict) -> dict:
    return {"mode": lax.int_attr(jlax.GatherScatterMode.from_any(p["mode"]).value),
            "indices_are_sorted": lax.bool_attr(p["indices_are_sorted"]),
            "unique_indices": lax.bool_attr(p["unique_indices"])}


@_rule("gather")
def _gather(em: Emitter, x: SSAValue, indices: SSAValue):
    p, dn = em.params, em.params["dimension_numbers"]
    props: dict[str, Attribute] = {name: lax.ints(getattr(dn, name)) for name in (
        "offset_dims", "collapsed_slice_dims", "start_index_map", "operand_batching_dims",
        "start_indices_batching_dims")}
    props.update(_index_flags(p), slice_sizes=lax.ints(p["slice_sizes"]))
    if p.get("fill_value") is not None:
        props["fill_value"] = FloatAttr(float(p["fill_value"]), f64)
    return _build(em, lax.GatherOp, [x, indices], props)


SCATTERS = {"scatter": lax.ScatterOp, "scatter-add": lax.ScatterAddOp,
            "scatter-mul": lax.ScatterMulOp, "scatter-min": lax.ScatterMinOp,
            "scatter-max": lax.ScatterMaxOp}


@_rule(*SCATTERS)
def _scatter(em: Emitter, x: SSAValue, indices: SSAValue, updates: SSAValue):
    p, dn = em.params, em.params["dimension_numbers"]
    if p.get("update_consts") or (em.eqn.primitive.name == "scatter"
                                  and p.get("update_jaxpr") is not None):
        # A plain scatter with a combiner is `x.at[i].apply(f)` (`lax.scatter_apply`): each
        # place becomes f(x), which no tiers scatter op computes.
        raise UnsupportedPrimitive(
            f"{em.where()}: {em.eqn.primitive.name} with a custom combiner (x.at[...].apply "
            "or jax.lax.scatter_apply) is not supported by tiers yet")
    props: dict[str, Attribute] = {name: lax.ints(getattr(dn, name)) for name in (
        "update_window_dims", "inserted_window_dims", "scatter_dims_to_operand_dims",
        "operand_batching_dims", "scatter_indices_batching_dims")}
    props.update(_index_flags(p))
    return _build(em, SCATTERS[em.eqn.primitive.name], [x, indices, updates], props)


REDUCES = {c.PRIMITIVE: c for c in lax.ops_of_kind(lax.ReduceOp)}


@_rule(*REDUCES)
def _reduce(em: Emitter, x: SSAValue):
    return _build(em, REDUCES[em.eqn.primitive.name], [x], {"axes": lax.ints(em.params["axes"])})


CUMULATIVES = {c.PRIMITIVE: c for c in lax.ops_of_kind(lax.CumulativeOp)}


@_rule(*CUMULATIVES)
def _cumulative(em: Emitter, x: SSAValue):
    return _build(em, CUMULATIVES[em.eqn.primitive.name], [x], {
        "axis": lax.int_attr(em.params["axis"]), "reverse": lax.bool_attr(em.params["reverse"])})


WINDOWS = {c.PRIMITIVE: c for c in lax.ops_of_kind(lax.WindowOp)}


@_rule(*WINDOWS)
def _window(em: Emitter, *xs: SSAValue):
    # Pooling and its derivatives. `select_prim` is `lax.ge_p` (max) or `lax.le_p` (min): the
    # only two JAX passes (`_reduce_window_chooser_jvp_rule`).
    p, cls = em.params, WINDOWS[em.eqn.primitive.name]
    props: dict[str, Attribute] = {
        "window_dimensions": lax.ints(p["window_dimensions"]),
        "window_strides": lax.ints(p["window_strides"]),
        "padding_low": lax.ints([lo for lo, _ in p["padding"]]),
        "padding_high": lax.ints([hi for _, hi in p["padding"]])}
    if cls.DILATED:
        props["base_dilation"] = lax.ints(p["base_dilation"])
        props["window_dilation"] = lax.ints(p["window_dilation"])
    if "select_prim" in p:
        props["select"] = StringAttr(p["select_prim"].name)
    return _build(em, cls, xs, props)


@_rule("sort")
def _sort(em: Emitter, *xs: SSAValue):
    p = em.params
    return _build(em, lax.SortOp, xs, {"dimension": lax.int_attr(p["dimension"]),
                                       "is_stable": lax.bool_attr(p["is_stable"]),
                                       "num_keys": lax.int_attr(p["num_keys"])})


@_rule("top_k")
def _top_k(em: Emitter, x: SSAValue):
    if em.params.get("axis", -1) not in (-1, len(lax.shape(x)) - 1):
        return generic_rule(em, x)
    return _build(em, lax.TopKOp, [x], {"k": lax.int_attr(em.params["k"])})


@_rule("fft")
def _fft(em: Emitter, x: SSAValue):
    return _build(em, lax.FftOp, [x], {"fft_type": StringAttr(em.params["fft_type"].name),
                                       "fft_lengths": lax.ints(em.params["fft_lengths"])})


@_rule("dot_general")
def _dot_general(em: Emitter, lhs: SSAValue, rhs: SSAValue):
    (lc, rc), (lb, rb) = em.params["dimension_numbers"]
    props: dict[str, Attribute] = {
        "lhs_contracting": lax.ints(lc), "rhs_contracting": lax.ints(rc),
        "lhs_batch": lax.ints(lb), "rhs_batch": lax.ints(rb)}
    precision = _precision(em, em.params.get("precision"))
    if precision is not None:
        props["precision"] = StringAttr(precision)
    return _build(em, lax.DotGeneralOp, [lhs, rhs], props)


def _precision(em: Emitter, precision: Any) -> str | None:
    """`dot_general`'s precision as one `jax.lax.Precision` alias ("highest", "high", ...).

    JAX canonicalizes it to None, a Precision, or a pair (lhs, rhs); the pair collapses to the
    stronger of the two, so tiers computes at least as precisely as asked (on CPU, precision
    changes nothing). The lowercase alias is what `jax.lax.Precision(...)` parses back.
    """
    pair = precision if isinstance(precision, tuple) else (precision, precision)
    if all(p is None for p in pair):
        return None
    if not all(p is None or isinstance(p, jlax.Precision) for p in pair):
        raise UnsupportedPrimitive(
            f"{em.where()}: dot_general with precision={precision!r} (a dot algorithm) is not "
            "supported by tiers IR; use a jax.lax.Precision")
    return max((jlax.Precision(p) for p in pair), key=lambda p: p.value).name.lower()


# Calls: named sub-jaxprs become private functions, so structure survives import.
def _call(em: Emitter, closed, name: str, args: Sequence[SSAValue]):
    symbol = em.importer.import_call(closed, name, em)
    return em.add(func.CallOp(symbol, list(args), em.out_types())).results


@_rule("jit", "pjit")
def _jit(em: Emitter, *args: SSAValue):
    return _call(em, em.params["jaxpr"], em.params["name"], args)


@_rule("tiers_call", "closed_call")
def _closed_call(em: Emitter, *args: SSAValue):
    # A `tiers.jit` (or `jax.closure_convert`'s call) inside the traced function: by the time
    # tiers imports a jaxpr, JAX has finished transforming it, so the callee is plain code.
    return _call(em, em.params["call_jaxpr"], em.params.get("name") or "call", args)


@_rule("remat2")
def _remat(em: Emitter, *args: SSAValue):
    # `jax.checkpoint`: the body's value; rematerialization only concerns the backward pass,
    # which JAX has already built into the jaxpr.
    closed = jcore.ClosedJaxpr(em.params["jaxpr"], ())
    return _call(em, closed, "checkpoint", args)


@_rule("custom_jvp_call", "custom_vjp_call", "custom_vmap_call")
def _custom_call(em: Emitter, *args: SSAValue):
    # Import the primal computation: JAX has already applied any derivative (or batching)
    # rule it needed, since tiers imports only what JAX lowers (frontend/call.py).
    closed = em.params["call_jaxpr"] if "call_jaxpr" in em.params else em.params["call"]
    name = em.params.get("name") or getattr(closed.jaxpr.debug_info, "func_name", None)
    return _call(em, closed, name or em.eqn.primitive.name, args)


@_rule("custom_linear_solve")
def _custom_linear_solve(em: Emitter, *args: SSAValue):
    # `jnp.linalg.solve`/`inv`: operands are the consts of the (matvec, vecmat, solve,
    # transpose_solve) jaxprs, then b. Its value is `solve(*solve_consts, *b)` (JAX's own
    # impl rule); the other jaxprs only serve differentiation, which JAX has already done.
    lengths = em.params["const_lengths"]
    start = lengths.matvec + lengths.vecmat
    solve_consts = args[start:start + lengths.solve]
    b = args[sum(lengths):]
    return _call(em, em.params["jaxprs"].solve, "custom_linear_solve", [*solve_consts, *b])


# Control flow: each sub-jaxpr becomes a region of the op (recursively, so loops nest to any
# depth). Consts and cond's operands are read from above rather than passed in; block
# arguments are the loop-carried values (and scan's slices of `xs`).
@_rule("cond")
def _cond(em: Emitter, index: SSAValue, *operands: SSAValue):
    branches = [em.importer.import_region(b, operands, [], em) for b in em.params["branches"]]
    return em.add(lax.CondOp(index, em.out_types(), branches)).results


@_rule("while")
def _while(em: Emitter, *args: SSAValue):
    p = em.params
    nc, nb = p["cond_nconsts"], p["body_nconsts"]
    cond_consts, body_consts, init = args[:nc], args[nc:nc + nb], args[nc + nb:]
    carried = [v.type for v in init]
    if p["cond_jaxpr"].out_avals[0].shape:
        return _batched_while(em, cond_consts, body_consts, init)
    cond = em.importer.import_region(p["cond_jaxpr"], cond_consts, carried, em)
    body = em.importer.import_region(p["body_jaxpr"], body_consts, carried, em)
    return em.add(lax.WhileOp(init, cond, body)).results


def _batched_while(em: Emitter, cond_consts: Sequence[SSAValue],
                   body_consts: Sequence[SSAValue], init: Sequence[SSAValue]):
    """A `while` whose predicate is an array (`vmap` of a while loop): it loops while any
    element is true, and a step updates only the carried entries whose predicate is true.
    That is JAX's lowering of such a loop, written out in `lax` ops so the op stays simple:
    the cond region reduces with `or`, the body selects between the new and the old carry."""
    p, importer = em.params, em.importer
    carried = [v.type for v in init]

    def region(is_body: bool) -> Region:
        block = Block(arg_types=carried)
        builder = Builder(InsertPoint.at_end(block))
        cj = p["cond_jaxpr"]
        (pred,) = importer.import_body(builder, cj.jaxpr, cj.consts,
                                       [*cond_consts, *block.args])
        sub = Emitter(importer, builder, em.eqn, em.location)
        if not is_body:
            axes = range(len(lax.shape(pred)))
            outs = [sub.add(lax.ReduceOrOp(pred, axes)).results[0]]
        else:
            bj = p["body_jaxpr"]
            new = importer.import_body(builder, bj.jaxpr, bj.consts, [*body_consts, *block.args])
            outs = []
            for old, value in zip(block.args, new, strict=True):
                t = TensorType(lax.elem(pred), lax.shape(value))
                which = pred if lax.shape(pred) == lax.shape(value) else sub.add(
                    lax.BroadcastInDimOp(pred, t, range(len(lax.shape(pred))))).results[0]
                outs.append(sub.add(lax.SelectNOp(which, old, value)).results[0])
        sub.add(lax.YieldOp(outs))
        return Region(block)

    return em.add(lax.WhileOp(init, region(False), region(True))).results


@_rule("scan")
def _scan(em: Emitter, *args: SSAValue):
    p = em.params
    nk, nc = p["num_consts"], p["num_carry"]
    consts, init, xs = args[:nk], args[nk:nk + nc], args[nk + nc:]
    slices = [TensorType(lax.elem(x), lax.shape(x)[1:]) for x in xs]
    body = em.importer.import_region(p["jaxpr"], consts, [*(v.type for v in init), *slices], em)
    y_types = em.out_types()[nc:]
    unroll = p.get("unroll", 1)
    unroll = (max(p["length"], 1) if unroll else 1) if isinstance(unroll, bool) else unroll
    return em.add(lax.ScanOp(init, xs, y_types, body, p["length"], p["reverse"],
                             unroll)).results


# PRNG keys. tiers IR holds a key array as its data (uint32[..., 2] for threefry), as JAX's
# own lowering does (`core.physical_aval`, see `importer.aval_type`). Wrapping and unwrapping
# are then no-ops, and each key operation becomes a call of JAX's implementation of it traced
# on that data, so the IR holds plain integer arithmetic (and the `threefry2x32` primitive).
# Only a public function's key arguments and results keep a key type, `!lax.key<"impl">`,
# converted at its boundary by `lax.random_unwrap`/`random_wrap` (`import_keys.py`).
@_rule("random_wrap", "random_unwrap")
def _key_data(em: Emitter, x: SSAValue):
    return [x]


@_rule("random_seed", "random_split", "random_fold_in", "random_bits")
def _key_operation(em: Emitter, *args: SSAValue):
    name, p = em.eqn.primitive.name, em.params
    avals = tuple((tuple(v.aval.shape), v.aval.dtype) for v in em.eqn.invars)
    impl = p["impl"] if name == "random_seed" else avals[0][1]._impl
    closed = _key_jaxpr(name, impl, tuple(sorted((k, v) for k, v in p.items() if k != "impl")),
                        avals)
    return _call(em, closed, f"{name}_{impl.name}", args)


@functools.lru_cache(maxsize=256)
def _key_jaxpr(name: str, impl: Any, params: tuple, avals: tuple) -> Any:
    """JAX's implementation of key operation `name`, traced on key data (cached, so each
    signature is traced once per process and imported once per module)."""
    p = dict(params)
    keys_shape = avals[0][0]
    impls: dict[str, Callable[..., Any]] = {
        "random_seed": lambda seeds: prng.random_seed_impl_base(seeds, impl=impl),
        "random_split": lambda keys: prng.random_split_impl_base(
            impl, keys, len(keys_shape), shape=p["shape"]),
        "random_fold_in": lambda keys, msgs: prng.random_fold_in_impl_base(
            impl, keys, msgs, keys_shape),
        "random_bits": lambda keys: prng.random_bits_impl_base(
            impl, keys, len(keys_shape), bit_width=p["bit_width"], shape=p["shape"]),
    }
    specs = [jax.ShapeDtypeStruct(shape, dtype) for shape, dtype in avals]
    if name != "random_seed":  # the keys operand, as its data
        specs[0] = jax.ShapeDtypeStruct((*keys_shape, *impl.key_shape), np.uint32)
    return jax.make_jaxpr(impls[name])(*specs)


# Structural primitives applied to key arrays (`k1, k2 = jax.random.split(key)` slices and
# squeezes keys). Their params speak of the key array's shape; on key data, each key is a
# trailing dimension of `key_shape` more, which these rules append (as JAX's lowering does).
# Rules whose params name only leading dimensions (squeeze, reshape, concatenate, ...) serve
# keys as they are; any other primitive on keys is reported as unsupported.
KEY_RULES: dict[str, Rule] = {}
_key_rule = rule_adder(KEY_RULES)


def _key_shape(em: Emitter) -> tuple[int, ...]:
    aval = next(v.aval for v in (*em.eqn.invars, *em.eqn.outvars) if is_key(v.aval))
    return tuple(aval.dtype._impl.key_shape)


@_key_rule("slice")
def _key_slice(em: Emitter, x: SSAValue):
    p, ks = em.params, _key_shape(em)
    strides = p["strides"] or (1,) * len(p["start_indices"])
    return _build(em, lax.SliceOp, [x], {
        "start_indices": lax.ints((*p["start_indices"], *(0 for _ in ks))),
        "limit_indices": lax.ints((*p["limit_indices"], *ks)),
        "strides": lax.ints((*strides, *(1 for _ in ks)))})


@_key_rule("broadcast_in_dim")
def _key_broadcast_in_dim(em: Emitter, x: SSAValue):
    rank, n = len(em.eqn.outvars[0].aval.shape), len(_key_shape(em))
    dims = (*em.params["broadcast_dimensions"], *range(rank, rank + n))
    return _build(em, lax.BroadcastInDimOp, [x], {"dims": lax.ints(dims)})


@_key_rule("transpose")
def _key_transpose(em: Emitter, x: SSAValue):
    perm = em.params["permutation"]
    return em.add(lax.TransposeOp(x, (*perm, *range(len(perm), len(lax.shape(x)))))).results


@_key_rule("dynamic_slice")
def _key_dynamic_slice(em: Emitter, x: SSAValue, *idx: SSAValue):
    ks = _key_shape(em)
    zeros = [em.constant(0, np.dtype(np.int32)) for _ in ks]
    return _build(em, lax.DynamicSliceOp, [x, *idx, *zeros],
                  {"slice_sizes": lax.ints((*em.params["slice_sizes"], *ks))})


@_key_rule("dynamic_update_slice")
def _key_dynamic_update_slice(em: Emitter, x: SSAValue, update: SSAValue, *idx: SSAValue):
    zeros = [em.constant(0, np.dtype(np.int32)) for _ in _key_shape(em)]
    return _build(em, lax.DynamicUpdateSliceOp, [x, update, *idx, *zeros])


@_key_rule("select_n")
def _key_select_n(em: Emitter, which: SSAValue, *cases: SSAValue):
    out = em.out_type()
    if lax.shape(which) != ():  # the predicate covers the keys, not their data: broadcast it
        t = TensorType(lax.elem(which), out.get_shape())
        which = em.add(lax.BroadcastInDimOp(which, t, range(len(lax.shape(which))))).results[0]
    return _build(em, lax.SelectNOp, [which, *(em.broadcast(c, out) for c in cases)])


@_key_rule("eq", "ne")
def _key_compare(em: Emitter, x: SSAValue, y: SSAValue):
    # k1 == k2 on key arrays: keys are equal when all their data is (JAX compares key data
    # the same way); != when any of it differs.
    eq = em.eqn.primitive.name == "eq"
    big = x if len(lax.shape(x)) >= len(lax.shape(y)) else y  # a single key meets an array
    x, y = em.broadcast(x, big.type), em.broadcast(y, big.type)  # type: ignore[arg-type]
    rank, n = len(lax.shape(x)), len(_key_shape(em))
    bools = TensorType(lax.elem(em.out_type()), lax.shape(x))
    each = _build(em, lax.EqOp if eq else lax.NeOp, [x, y], result_types=[bools])[0]
    whole = (lax.ReduceAndOp if eq else lax.ReduceOrOp)(each, range(rank - n, rank))
    return em.add(whole).results


@_key_rule("random_clone")
def _key_clone(em: Emitter, keys: SSAValue):
    # `jax.random.clone`: a copy of the keys, which only matters to JAX's key reuse checks.
    return [keys]


@_key_rule("random_gamma")
def _key_gamma(em: Emitter, keys: SSAValue, a: SSAValue):
    # `jax.random.gamma` (and beta, dirichlet, ...): JAX's lowering of it, traced on key data
    # as the other key operations are.
    impl = em.eqn.invars[0].aval.dtype._impl
    avals = tuple((tuple(v.aval.shape), v.aval.dtype) for v in em.eqn.invars)
    closed = _gamma_jaxpr(impl, bool(em.params["log_space"]), avals)
    return _call(em, closed, f"random_gamma_{impl.name}", [keys, a])


@functools.lru_cache(maxsize=64)
def _gamma_jaxpr(impl: Any, log_space: bool, avals: tuple) -> Any:
    """`random_gamma_p`'s lowering (`_gamma_impl`, vmapped as on every platform) on key data."""
    (keys_shape, _), (a_shape, a_dtype) = avals

    def gamma(data: Any, a: Any) -> Any:
        keys = prng.random_wrap(data, impl=impl)
        return random_core._gamma_impl(keys, a, log_space=log_space, use_vmap=True)

    return jax.make_jaxpr(gamma)(
        jax.ShapeDtypeStruct((*keys_shape, *impl.key_shape), np.uint32),
        jax.ShapeDtypeStruct(a_shape, a_dtype))


# Control flow carries keys as their data, like any other value: its rules apply unchanged.
for _name in ("squeeze", "reshape", "concatenate", "rev", "copy", "jit", "pjit", "tiers_call",
              "closed_call", "cond", "while",
              "scan", "remat2", "custom_jvp_call", "custom_vjp_call", "random_wrap",
              "random_unwrap", "random_seed", "random_split", "random_fold_in", "random_bits"):
    KEY_RULES.setdefault(_name, LAX_RULES[_name])


# Layout applies to key arrays unchanged: a partition spec names the key array's dimensions,
# and on key data the trailing ones it leaves out are replicated, as JAX lays keys out
# (`KeyTyRules.physical_sharding`); `reshard` keeps the data as it is.
@_rule("sharding_constraint")
@_key_rule("sharding_constraint")
def _sharding_constraint(em: Emitter, x: SSAValue):
    p = em.params
    spec, mesh = getattr(p["sharding"], "spec", None), getattr(p["sharding"], "mesh", None)
    try:
        if spec is None or mesh is None:
            raise sharding.ShardingError(f"{type(p['sharding']).__name__} is not a "
                                         "NamedSharding")
        if p.get("unconstrained_dims"):
            raise sharding.ShardingError("unconstrained dimensions (P.UNCONSTRAINED)")
        props = {"mesh": sharding.mesh_of(mesh), "spec": sharding.spec_attr(tuple(spec))}
    except sharding.ShardingError as e:
        raise UnsupportedPrimitive(f"{em.where()}: tiers cannot import this "
                                   f"with_sharding_constraint: {e}") from None
    return _build(em, lax.ShardingConstraintOp, [x], props)


@_rule("reshard")
@_key_rule("reshard")
def _reshard(em: Emitter, x: SSAValue):
    # `jax.sharding.reshard`, and what JAX inserts when it traces on sharded arguments: it
    # moves data, not values. Placement stays with the enclosing `jax.jit`'s shardings (XLA
    # propagates them), as for a `with_sharding_constraint` tiers cannot hold in IR.
    return x


class UnfunctionalizedCheckError(ImportError_, ValueError):
    """JAX's error for a `checkify.check` that no `checkify.checkify` turned into values."""


@_rule("check")
def _check(em: Emitter, *args: SSAValue):
    # `jax.experimental.checkify.check`. Under `checkify.checkify` (around tiers.jit or inside
    # it) JAX has already made every check an error value that the function returns, so no
    # `check` equation reaches tiers; one that does was not functionalized, and is what JAX's
    # own lowering makes of it: `debug_check` a no-op, a plain check JAX's error.
    from jax._src import checkify, config

    if em.params["debug"]:
        return []
    if config.xla_runtime_errors.value:
        # JAX lowers it to a host callback that raises when the check fails at run time.
        raise UnsupportedPrimitive(
            f"{em.where()}: checkify.check under jax_experimental_unsafe_xla_runtime_errors "
            "is a host callback raising at run time, which tiers IR cannot hold yet; wrap "
            "the function in checkify.checkify instead")
    raise UnfunctionalizedCheckError(f"{em.where()}: {checkify.functionalization_error}")


@_rule("device_put")
def _device_put(em: Emitter, *xs: SSAValue):
    # `jax.device_put` inside a traced function: JAX's own lowering returns the operands
    # unchanged (`_common_device_put_lowering`), placement staying with the enclosing jit.
    return list(xs)


class CustomVJPForwardError(ImportError_, TypeError):
    """JAX's error for running a `custom_vjp` function's linear part forward."""


@_rule("custom_lin")
def _custom_lin(em: Emitter, *args: SSAValue):
    # The linear part of a `custom_vjp` function run forward (`jax.linearize`, `jvp` of its
    # backward pass): JAX itself refuses it, with this error.
    raise CustomVJPForwardError(
        "can't apply forward-mode autodiff (jvp) to a custom_vjp function.")


def generic_rule(em: Emitter, *args: SSAValue):
    """Any other primitive: an opaque `lax.generic` when its params are plain data, else the
    function JAX's lowering traces, when the lowering is one (`lowering_function`), else the
    equation as JAX bound it (`lax.opaque`), lowered by JAX's own rule."""
    prim = em.eqn.primitive
    name = prim.name
    remember(prim)
    try:
        if primitive(name) is not prim:
            # Another primitive has this name (libraries reuse names): `lax.generic` names
            # its primitive, so only `lax.opaque`, which holds it, can tell them apart.
            raise params.NotPlainData(f"another primitive is also named {name!r}")
        attrs = params.params_to_attr(em.params)
    except params.NotPlainData as e:
        lowering = lowering_function(prim)
        traced = None if lowering is None else traced_lowering(em, *lowering, args)
        if traced is not None:
            return traced
        if not _has_lowering(prim):
            supported = closest(name, RULES, "docs/primitive-coverage.md lists them all")
            raise UnsupportedPrimitive(
                f"{em.where()}: tiers cannot import primitive '{name}' ({e}) and JAX has no "
                f"lowering for it either. Supported primitives: {supported}; any other "
                "primitive JAX can lower runs, as lax.generic or lax.opaque."
            ) from None
        op = lax.OpaqueOp.make(list(args), em.out_types(), HostCallback(name, em.params, prim))
        return list(em.add(op).results)
    return _build(em, lax.GenericOp, args, {"prim": StringAttr(name), "params": attrs})


def _has_lowering(prim: Any) -> bool:
    """Whether JAX registers a lowering for `prim` (for every platform or for some)."""
    from jax._src.interpreters import mlir

    return prim in mlir._lowerings or any(
        prim in rules for rules in mlir._platform_specific_lowerings.values())


def lowering_function(prim: Any) -> tuple[Callable[..., Any], bool] | None:
    """(fun, multiple_results) when every lowering JAX registers for `prim` is
    `mlir.lower_fun(fun, multiple_results)` of one `fun` (the lowering then traces `fun` on
    the operands and params, so `fun` is the primitive's meaning as compiled); else None.

    Third-party primitives are often made so (equinox's `maybe_set`, `select_if_vmap`, ...),
    with params that are not plain data (tree definitions, functions)."""
    from jax._src.interpreters import mlir

    entries = [mlir._lowerings.get(prim), *(rules.get(prim) for rules in
                                            mlir._platform_specific_lowerings.values())]
    found = set()
    for entry in entries:
        if entry is None:
            continue
        rule = entry.rule
        if getattr(rule, "__qualname__", None) != "lower_fun.<locals>.f_lowered":
            return None
        cells = dict(zip(rule.__code__.co_freevars, rule.__closure__ or (), strict=True))
        found.add((cells["fun"].cell_contents, bool(cells["multiple_results"].cell_contents)))
    return found.pop() if len(found) == 1 else None


def traced_lowering(em: Emitter, fun: Callable[..., Any], multiple_results: bool,
                    args: Sequence[SSAValue]) -> Any:
    """The equation as `fun` traced on its operands and params, a private function called;
    None when `fun` binds the primitive again."""
    prim, p = em.eqn.primitive, em.params

    def lowered(*xs: Any) -> Any:
        out = fun(*xs, **p)
        return list(out) if multiple_results else [out]

    closed = jax.make_jaxpr(lowered)(*(v.aval for v in em.eqn.invars))
    if any(e.primitive is prim for e in closed.jaxpr.eqns):
        return None  # its lowering binds it again: held as it is (`lax.opaque`)
    return _call(em, closed, prim.name, args)



LAX_RULES.update(EFFECT_RULES)  # host callbacks: frontend/import_effects.py

RULES: dict[str, Rule] = {**LAX_RULES, **HIGHLEVEL_RULES}
"""The importer's table. A plugin adds rules for its own primitives here: the importer reads
this dict."""
