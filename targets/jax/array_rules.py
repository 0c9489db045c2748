"""JAX rules of `array` ops, and the JAX definitions of what those ops mean.

The functions here (`layer_norm`, `attention`, ...) are the one JAX spelling of each op: the
JAX target runs them, and `tiers.frontend.highlevel` lowers and differentiates its primitives
with them. Ops that `jax.nn` / `jax.numpy` have call those directly. `ARRAY_RULES`, which
closes the file, is one half of the JAX target's table (`rules.py` joins the two halves).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from tiers.dialects import array
from tiers.targets.walk import OpRule


def layer_norm(x: Any, scale: Any = None, bias: Any = None, *, axis: int,
               epsilon: float) -> Any:
    """(x - mean) / sqrt(var + epsilon) * scale + bias along `axis` (scale, bias: 1-D)."""
    mean = jnp.mean(x, axis, keepdims=True)
    var = jnp.var(x, axis, keepdims=True)
    y = (x - mean) / jnp.sqrt(var + jnp.asarray(epsilon, x.dtype))
    return _affine(y, scale, bias, axis)


def rms_norm(x: Any, scale: Any = None, *, axis: int, epsilon: float) -> Any:
    """x / sqrt(mean(x^2) + epsilon) * scale along `axis`."""
    ms = jnp.mean(jnp.square(x), axis, keepdims=True)
    return _affine(x / jnp.sqrt(ms + jnp.asarray(epsilon, x.dtype)), scale, None, axis)


def _affine(y: Any, scale: Any, bias: Any, axis: int) -> Any:
    # scale and bias run along `axis`: broadcast them there, not on the last axis.
    shape = [1] * y.ndim
    shape[axis] = y.shape[axis]
    if scale is not None:
        y = y * jnp.reshape(scale, shape)
    if bias is not None:
        y = y + jnp.reshape(bias, shape)
    return y


def large_negative(dtype: Any) -> Any:
    """The masked logit of `jax.nn.dot_product_attention`: -0.7 * max (capped at float32's)."""
    top = min(float(jnp.finfo(dtype).max), float(jnp.finfo(np.float32).max))
    return np.asarray(-0.7 * top, dtype=dtype)


def attention(q: Any, k: Any, v: Any, mask: Any = None, *, scale: float) -> Any:
    """softmax(where(mask, q k^T * scale, large_negative)) v over the last two axes."""
    logits = jnp.einsum("...td,...sd->...ts", q, k) * jnp.asarray(scale, q.dtype)
    if mask is not None:
        logits = jnp.where(mask, logits, large_negative(logits.dtype))
    return jnp.einsum("...ts,...se->...te", jax.nn.softmax(logits, axis=-1), v)


ARRAY_RULES: dict[type, OpRule] = {
    array.ReluOp: lambda op, x: jax.nn.relu(x),
    array.GeluOp: lambda op, x: jax.nn.gelu(x, approximate=op.flag("approximate")),
    array.SiluOp: lambda op, x: jax.nn.silu(x),
    array.SoftmaxOp: lambda op, x: jax.nn.softmax(x, axis=op.int("axis")),
    array.LogSoftmaxOp: lambda op, x: jax.nn.log_softmax(x, axis=op.int("axis")),
    array.LogsumexpOp: lambda op, x: jax.nn.logsumexp(x, axis=op.int("axis")),
    array.MeanOp: lambda op, x: jnp.mean(x, op.ints("axes")),
    array.VarOp: lambda op, x: jnp.var(x, op.ints("axes"), ddof=op.int("ddof")),
    array.LayerNormOp: lambda op, x, *affine: layer_norm(
        x, *affine, axis=op.int("axis"), epsilon=op.float("epsilon")),
    array.RmsNormOp: lambda op, x, *scale: rms_norm(
        x, *scale, axis=op.int("axis"), epsilon=op.float("epsilon")),
    array.MatmulOp: lambda op, a, b: jnp.matmul(a, b),
    array.AttentionOp: lambda op, q, k, v, *mask: attention(
        q, k, v, *mask, scale=op.float("scale")),
}
