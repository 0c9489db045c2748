"""tiers' high-level functions: JAX primitives of ours, imported as one `array` op each.

`softmax(x)` binds `tiers_softmax_p`, so `jax.make_jaxpr` keeps it as one equation and the
importer makes it one `array.softmax`. Each primitive is declared by one `_declare` call:
its JAX definition (from `tiers.targets.jax.array_rules` or `jax.nn`), used as the eager impl
and, through `mlir.lower_fun`, as the lowering under `jax.jit`; a shape rule; a JVP that binds
the primitive for the primal (so `jax.grad` keeps the op in its forward pass) and spells the
tangent in `jax.numpy` (linear ops JAX can transpose), in closed form where one is short and
else as the JVP of the JAX definition; a batching rule that binds the primitive again on
batched operands (so `jax.vmap` keeps the op too). The importer rules, `HIGHLEVEL_RULES`,
come after the public functions (`import_rules.RULES` joins them to the lax primitives' rules).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax._src.core import Primitive  # not jax.extend's: that package imports Pallas (~15 ms)
from jax.core import ShapedArray
from jax.interpreters import ad, batching, mlir
from xdsl.ir import SSAValue

from tiers.dialects import array
from tiers.frontend.emitter import Emitter, Rule, rule_adder
from tiers.targets.jax import array_rules as defs

Tangent = Callable[..., Any]  # (y, primals, tangents, **params) -> tangent of y


def _declare(name: str, impl: Callable[..., Any], shape: Callable[..., tuple[int, ...]],
             tangent: Tangent | None, batch: Callable[..., Any]) -> Primitive:
    """The primitive `tiers_<name>` with its impl, lowering, shape rule, JVP and batching."""
    p = Primitive(f"tiers_{name}")
    p.def_impl(impl)
    p.def_abstract_eval(lambda x, *rest, **params: ShapedArray(
        shape(x.shape, *(r.shape for r in rest), **params), x.dtype, weak_type=x.weak_type))
    mlir.register_lowering(p, mlir.lower_fun(impl, multiple_results=False))
    ad.primitive_jvps[p] = functools.partial(_jvp, p, impl, tangent)
    batching.primitive_batchers[p] = functools.partial(batch, p, impl)
    return p


def _jvp(p: Primitive, impl: Callable[..., Any], tangent: Tangent | None,
         primals: Sequence[Any], tangents: Sequence[Any], **params: Any) -> tuple[Any, Any]:
    y = p.bind(*primals, **params)
    if tangent is not None:
        return y, tangent(y, primals, tangents, **params)
    # No closed form here: the tangent part of the JAX definition's own JVP, in the float
    # operands only (a bool mask has float0 tangents, which tiers IR has no type for).
    diff = [i for i, x in enumerate(primals) if jnp.issubdtype(x.dtype, jnp.inexact)]

    def of_floats(*floats: Any) -> Any:
        args = list(primals)
        for i, x in zip(diff, floats, strict=True):
            args[i] = x
        return impl(*args, **params)

    dense = tuple(ad.instantiate_zeros(tangents[i]) for i in diff)
    return y, jax.jvp(of_floats, tuple(primals[i] for i in diff), dense)[1]


def _zero(t: Any) -> bool:
    return type(t) is ad.Zero


def _front(x: Any, d: int | None, size: int) -> Any:
    """`x` with its batch dimension first (broadcast in when it has none)."""
    if d is None:
        return jnp.broadcast_to(x, (size, *jnp.shape(x)))
    return jnp.moveaxis(x, d, 0)


def _batch_size(args: Sequence[Any], dims: Sequence[int | None]) -> int:
    return next(jnp.shape(a)[d] for a, d in zip(args, dims, strict=True) if d is not None)


def _batch_along(p: Primitive, impl: Callable[..., Any], args: Sequence[Any],
                 dims: Sequence[int | None], **params: Any) -> tuple[Any, int]:
    # The batch dim goes first and the axes shift by one. A batched scale or bias (norms) is
    # no 1-D operand any more: the op normalizes, then jax.numpy applies them.
    size = _batch_size(args, dims)
    x = _front(args[0], dims[0], size)
    shifted = {k: (v + 1 if k == "axis" else tuple(a + 1 for a in v) if k == "axes" else v)
               for k, v in params.items()}
    if all(d is None for d in dims[1:]):
        return p.bind(x, *args[1:], **shifted), 0
    y = p.bind(x, **shifted)
    axis: int = params["axis"] + 1  # = shifted["axis"], which mypy types as int | tuple
    for i, (a, d) in enumerate(zip(args[1:], dims[1:], strict=True)):
        shape = [size, *(1,) * (x.ndim - 1)]
        shape[axis] = x.shape[axis]
        a = jnp.reshape(_front(a, d, size), shape)
        y = y * a if i == 0 else y + a
    return y, 0


def _batch_matmul(p: Primitive, impl: Callable[..., Any], args: Sequence[Any],
                  dims: Sequence[int | None]) -> tuple[Any, int]:
    # Batch dims broadcast right-aligned: a batched operand gets the batch first, then unit
    # dims up to the other's batch rank, so the new dim lines up with nothing of the other.
    rank = max(jnp.ndim(x) - (d is not None) for x, d in zip(args, dims, strict=True))
    moved = []
    for x, d in zip(args, dims, strict=True):
        if d is not None:
            x = jnp.moveaxis(x, d, 0)
            x = jnp.reshape(x, (x.shape[0], *(1,) * (rank + 1 - x.ndim), *x.shape[1:]))
        moved.append(x)
    return p.bind(*moved), 0


def _batch_all(p: Primitive, impl: Callable[..., Any], args: Sequence[Any],
               dims: Sequence[int | None], **params: Any) -> tuple[Any, int]:
    # Every operand needs the batch dim (attention: equal batch dims): broadcast it in.
    size = _batch_size(args, dims)
    return p.bind(*(_front(x, d, size) for x, d in zip(args, dims, strict=True)), **params), 0


def _drop(s: Sequence[int], axes: Sequence[int]) -> tuple[int, ...]:
    return tuple(d for i, d in enumerate(s) if i not in axes)


def _same(s: tuple[int, ...], *rest: Any, **params: Any) -> tuple[int, ...]:
    return s


# -- tangents: linear in the tangents, in jax.numpy ----------------------------------------
def _softmax_tangent(y, primals, tangents, *, axis):
    # d softmax = y * (t - sum(y * t))
    t = ad.instantiate_zeros(tangents[0])
    return y * (t - jnp.sum(y * t, axis, keepdims=True))


def _log_softmax_tangent(y, primals, tangents, *, axis):
    # d log_softmax = t - sum(softmax * t), softmax = exp(y)
    t = ad.instantiate_zeros(tangents[0])
    return t - jnp.sum(jnp.exp(y) * t, axis, keepdims=True)


def _logsumexp_tangent(y, primals, tangents, *, axis):
    # d logsumexp = sum(exp(x - y) * t) = sum(softmax(x) * t)
    t = ad.instantiate_zeros(tangents[0])
    return jnp.sum(jnp.exp(primals[0] - jnp.expand_dims(y, axis)) * t, axis)


def _relu_tangent(y, primals, tangents):
    # d relu = t where x > 0, else 0 (jax.nn.relu's choice at 0)
    t = ad.instantiate_zeros(tangents[0])
    return jnp.where(primals[0] > 0, t, jnp.zeros_like(t))


def _mean_tangent(y, primals, tangents, *, axes):
    return jnp.mean(ad.instantiate_zeros(tangents[0]), axes)  # mean is linear


def _var_tangent(y, primals, tangents, *, axes, ddof):
    # d var = 2 * sum((x - mean(x)) * t) / (n - ddof); the mean's own tangent sums to zero
    x, t = primals[0], ad.instantiate_zeros(tangents[0])
    n = math.prod(x.shape[a] for a in axes)
    centered = x - jnp.mean(x, axes, keepdims=True)
    return 2 * jnp.sum(centered * t, axes) / jnp.asarray(n - ddof, x.dtype)


def _matmul_tangent(y, primals, tangents):
    # d (a @ b) = da @ b + a @ db, skipping symbolic zeros
    (a, b), (da, db) = primals, tangents
    terms = [jnp.matmul(da, b)] if not _zero(da) else []
    terms += [jnp.matmul(a, db)] if not _zero(db) else []
    return functools.reduce(jnp.add, terms) if terms else jnp.zeros_like(y)


def _matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    out = array.matmul_shape(a, b)
    if out is None:
        raise TypeError(f"matmul: cannot multiply shapes {a} and {b}")
    return out


# -- the primitives ------------------------------------------------------------------------
tiers_relu_p = _declare("relu", lambda x: jax.nn.relu(x), _same, _relu_tangent, _batch_along)
tiers_gelu_p = _declare("gelu", lambda x, *, approximate: jax.nn.gelu(x, approximate),
                        _same, None, _batch_along)
tiers_silu_p = _declare("silu", lambda x: jax.nn.silu(x), _same, None, _batch_along)
tiers_softmax_p = _declare("softmax", lambda x, *, axis: jax.nn.softmax(x, axis), _same,
                           _softmax_tangent, _batch_along)
tiers_log_softmax_p = _declare("log_softmax", lambda x, *, axis: jax.nn.log_softmax(x, axis),
                               _same, _log_softmax_tangent, _batch_along)
tiers_logsumexp_p = _declare("logsumexp", lambda x, *, axis: jax.nn.logsumexp(x, axis),
                             lambda s, *, axis: _drop(s, [axis]), _logsumexp_tangent,
                             _batch_along)
tiers_mean_p = _declare("mean", lambda x, *, axes: jnp.mean(x, axes),
                        lambda s, *, axes: _drop(s, axes), _mean_tangent, _batch_along)
tiers_var_p = _declare("var", lambda x, *, axes, ddof: jnp.var(x, axes, ddof=ddof),
                       lambda s, *, axes, ddof: _drop(s, axes), _var_tangent, _batch_along)
tiers_layer_norm_p = _declare("layer_norm", defs.layer_norm, _same, None, _batch_along)
tiers_rms_norm_p = _declare("rms_norm", defs.rms_norm, _same, None, _batch_along)
tiers_matmul_p = _declare("matmul", jnp.matmul, _matmul_shape, _matmul_tangent,
                          _batch_matmul)
tiers_attention_p = _declare("attention", defs.attention,
                             lambda q, k, v, *mask, scale: (*q[:-1], v[-1]), None, _batch_all)


# -- the public functions ------------------------------------------------------------------
def _float(x: Any) -> jax.Array:
    """`x` as an array of an inexact type (integers promote as in `jax.nn`)."""
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(jnp.result_type(float))


def _axis(axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise ValueError(f"axis {axis} out of range for rank {rank}")
    return axis % rank


def _axes(axes: int | Sequence[int] | None, rank: int) -> tuple[int, ...]:
    if axes is None:
        return tuple(range(rank))
    chosen = (axes,) if isinstance(axes, int) else tuple(axes)
    return tuple(sorted({_axis(a, rank) for a in chosen}))


def relu(x: Any) -> jax.Array:
    """`jax.nn.relu(x)`, one `array.relu` in tiers IR."""
    return tiers_relu_p.bind(jnp.asarray(x))


def gelu(x: Any, approximate: bool = True) -> jax.Array:
    """`jax.nn.gelu(x, approximate)`, one `array.gelu` in tiers IR."""
    return tiers_gelu_p.bind(_float(x), approximate=bool(approximate))


def silu(x: Any) -> jax.Array:
    """`jax.nn.silu(x)`, one `array.silu` in tiers IR."""
    return tiers_silu_p.bind(_float(x))


def softmax(x: Any, axis: int = -1) -> jax.Array:
    """`jax.nn.softmax(x, axis)` along one axis, one `array.softmax` in tiers IR."""
    x = _float(x)
    return tiers_softmax_p.bind(x, axis=_axis(axis, x.ndim))


def log_softmax(x: Any, axis: int = -1) -> jax.Array:
    """`jax.nn.log_softmax(x, axis)` along one axis, one `array.log_softmax` in tiers IR."""
    x = _float(x)
    return tiers_log_softmax_p.bind(x, axis=_axis(axis, x.ndim))


def logsumexp(x: Any, axis: int = -1) -> jax.Array:
    """`jax.nn.logsumexp(x, axis)` along one axis (reduced away), one `array.logsumexp`."""
    x = _float(x)
    return tiers_logsumexp_p.bind(x, axis=_axis(axis, x.ndim))


def mean(x: Any, axes: int | Sequence[int] | None = None) -> jax.Array:
    """`jnp.mean(x, axes)` (None: all axes), one `array.mean` in tiers IR."""
    x = _float(x)
    return tiers_mean_p.bind(x, axes=_axes(axes, x.ndim))


def var(x: Any, axes: int | Sequence[int] | None = None, ddof: int = 0) -> jax.Array:
    """`jnp.var(x, axes, ddof=ddof)` (None: all axes), one `array.var` in tiers IR."""
    x = _float(x)
    return tiers_var_p.bind(x, axes=_axes(axes, x.ndim), ddof=int(ddof))


def layer_norm(x: Any, scale: Any = None, bias: Any = None, axis: int = -1,
               epsilon: float = 1e-5) -> jax.Array:
    """(x - mean) / sqrt(var + epsilon) * scale + bias along `axis` (1-D scale and bias)."""
    x = _float(x)
    axis = _axis(axis, x.ndim)
    affine = [jnp.asarray(p, x.dtype) for p in (scale, bias) if p is not None]
    if scale is None and bias is not None:  # the op takes a bias after a scale: ones
        affine.insert(0, jnp.ones((x.shape[axis],), x.dtype))
    return tiers_layer_norm_p.bind(x, *affine, axis=axis, epsilon=float(epsilon))


def rms_norm(x: Any, scale: Any = None, axis: int = -1, epsilon: float = 1e-6) -> jax.Array:
    """x / sqrt(mean(x^2) + epsilon) * scale along `axis` (1-D scale)."""
    x = _float(x)
    params = [] if scale is None else [jnp.asarray(scale, x.dtype)]
    return tiers_rms_norm_p.bind(x, *params, axis=_axis(axis, x.ndim), epsilon=float(epsilon))


def matmul(a: Any, b: Any) -> jax.Array:
    """`jnp.matmul(a, b)`; one `array.matmul` when both have rank >= 2 (vectors: jnp)."""
    a, b = jnp.asarray(a), jnp.asarray(b)
    if a.ndim < 2 or b.ndim < 2:
        return jnp.matmul(a, b)
    dtype = jnp.result_type(a, b)
    return tiers_matmul_p.bind(a.astype(dtype), b.astype(dtype))


def attention(q: Any, k: Any, v: Any, mask: Any = None, scale: float | None = None) -> jax.Array:
    """softmax(q k^T * scale, masked) v over the last two axes; `scale` defaults to
    1/sqrt(d); `mask` (True: keep) broadcasts to (..., T, S). One `array.attention`."""
    q, k, v = _float(q), _float(k), _float(v)
    batch = jnp.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    q, k, v = (jnp.broadcast_to(x, (*batch, *x.shape[-2:])) for x in (q, k, v))
    operands = [q, k, v]
    if mask is not None:
        operands.append(jnp.broadcast_to(jnp.asarray(mask, bool), (*q.shape[:-1], k.shape[-2])))
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    return tiers_attention_p.bind(*operands, scale=float(scale))


# -- importer rules: each primitive becomes its array op ------------------------------------
HIGHLEVEL_RULES: dict[str, Rule] = {}
_rule = rule_adder(HIGHLEVEL_RULES)


def _one(em: Emitter, op: array.ArrayOp) -> list[SSAValue]:
    return list(em.add(op).results)


@_rule("tiers_relu", "tiers_silu")
def _activation(em: Emitter, x: SSAValue):
    cls = array.ReluOp if em.eqn.primitive is tiers_relu_p else array.SiluOp
    return _one(em, cls(x))


@_rule("tiers_gelu")
def _gelu(em: Emitter, x: SSAValue):
    return _one(em, array.GeluOp(x, em.params["approximate"]))


_AXIS_OPS = {"tiers_softmax": array.SoftmaxOp, "tiers_log_softmax": array.LogSoftmaxOp,
             "tiers_logsumexp": array.LogsumexpOp}


@_rule(*_AXIS_OPS)
def _along_axis(em: Emitter, x: SSAValue):
    return _one(em, _AXIS_OPS[em.eqn.primitive.name](x, em.params["axis"]))


@_rule("tiers_mean")
def _mean(em: Emitter, x: SSAValue):
    return _one(em, array.MeanOp(x, em.params["axes"]))


@_rule("tiers_var")
def _var(em: Emitter, x: SSAValue):
    return _one(em, array.VarOp(x, em.params["axes"], em.params["ddof"]))


@_rule("tiers_layer_norm")
def _layer_norm(em: Emitter, x: SSAValue, *affine: SSAValue):
    return _one(em, array.LayerNormOp(x, affine, em.params["axis"], em.params["epsilon"]))


@_rule("tiers_rms_norm")
def _rms_norm(em: Emitter, x: SSAValue, *scale: SSAValue):
    return _one(em, array.RmsNormOp(x, scale[0] if scale else None, em.params["axis"],
                                    em.params["epsilon"]))


@_rule("tiers_matmul")
def _matmul(em: Emitter, a: SSAValue, b: SSAValue):
    return _one(em, array.MatmulOp(a, b))


@_rule("tiers_attention")
def _attention(em: Emitter, q: SSAValue, k: SSAValue, v: SSAValue, *mask: SSAValue):
    return _one(em, array.AttentionOp(q, k, v, mask[0] if mask else None, em.params["scale"]))


# -- `tiers.nn`: jax.nn's signatures, one array op where the call is in the op's form ----------
def _nn_softmax(x: Any, axis: Any = -1, where: Any = None, **rest: Any) -> jax.Array:
    if isinstance(axis, int) and where is None and not rest:
        return softmax(x, axis)
    return jax.nn.softmax(x, axis=axis, where=where, **rest)


def _nn_log_softmax(x: Any, axis: Any = -1, where: Any = None, **rest: Any) -> jax.Array:
    if isinstance(axis, int) and where is None and not rest:
        return log_softmax(x, axis)
    return jax.nn.log_softmax(x, axis=axis, where=where, **rest)


def _nn_logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False,
                  return_sign: bool = False, where: Any = None) -> Any:
    if isinstance(axis, int) and b is None and not (keepdims or return_sign) and where is None:
        return logsumexp(a, axis)
    return jax.nn.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign,
                            where=where)


def _nn_relu(x: Any) -> jax.Array:
    return relu(x)


def _nn_gelu(x: Any, approximate: bool = True) -> jax.Array:
    return gelu(x, approximate)


def _nn_silu(x: Any) -> jax.Array:
    return silu(x)


NN_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "softmax": _nn_softmax, "log_softmax": _nn_log_softmax, "logsumexp": _nn_logsumexp,
    "relu": _nn_relu, "gelu": _nn_gelu, "silu": _nn_silu, "swish": _nn_silu,
    "layer_norm": layer_norm, "rms_norm": rms_norm, "attention": attention,
}
"""What `tiers.nn` takes from here rather than from `jax.nn` (same names and signatures;
`layer_norm`, `rms_norm`, `attention` are tiers' own)."""
