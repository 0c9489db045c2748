"""Reference rules of `array` ops: numpy in float64, written from the ops' definitions
(`dialects/array.py`), independent of JAX. Outputs are rounded once to the result type.
`ARRAY_RULES` is one half of the reference target's table (`rules.py` joins the two halves).
"""

from __future__ import annotations

import numpy as np

from tiers.dialects import array
from tiers.targets.reference.common import checked, wide
from tiers.targets.reference.special import special as sp
from tiers.targets.walk import OpRule


def _softmax(op: array.SoftmaxOp, x: np.ndarray) -> np.ndarray:
    axis = op.int("axis")
    e = np.exp(wide(x) - np.max(wide(x), axis, keepdims=True))
    return e / np.sum(e, axis, keepdims=True)


def _log_softmax(op: array.LogSoftmaxOp, x: np.ndarray) -> np.ndarray:
    axis = op.int("axis")
    shifted = wide(x) - np.max(wide(x), axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis, keepdims=True))


def _logsumexp(op: array.LogsumexpOp, x: np.ndarray) -> np.ndarray:
    # The shift is the max where it is finite, else 0: a row of -inf gives -inf, not NaN.
    axis, w = op.int("axis"), wide(x)
    m = np.max(w, axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return np.squeeze(np.log(np.sum(np.exp(w - m), axis, keepdims=True)) + m, axis)


def _gelu(op: array.GeluOp, x: np.ndarray) -> np.ndarray:
    w = wide(x)
    if op.flag("approximate"):
        return 0.5 * w * (1 + np.tanh(np.sqrt(2 / np.pi) * (w + 0.044715 * w**3)))
    return 0.5 * w * sp.erfc(-w / np.sqrt(2))


def _var(w: np.ndarray, axes: tuple[int, ...], ddof: int, keepdims: bool = False) -> np.ndarray:
    n = int(np.prod([w.shape[a] for a in axes]))
    centered = w - np.mean(w, axes, keepdims=True)
    total = np.sum(centered * centered, axes, keepdims=keepdims)
    return total / (n - ddof) if n > ddof else np.full_like(total, np.nan)


def _along(p: np.ndarray, axis: int, rank: int) -> np.ndarray:
    """A 1-D scale or bias shaped to broadcast along `axis` of a rank-`rank` array."""
    shape = [1] * rank
    shape[axis] = p.shape[0]
    return wide(p).reshape(shape)


def _layer_norm(op: array.LayerNormOp, x: np.ndarray, *affine: np.ndarray) -> np.ndarray:
    axis, w = op.int("axis"), wide(x)
    var = _var(w, (axis,), 0, keepdims=True)
    y = (w - np.mean(w, axis, keepdims=True)) / np.sqrt(var + op.float("epsilon"))
    if affine:
        y = y * _along(affine[0], axis, w.ndim)
    if len(affine) > 1:
        y = y + _along(affine[1], axis, w.ndim)
    return y


def _rms_norm(op: array.RmsNormOp, x: np.ndarray, *scale: np.ndarray) -> np.ndarray:
    axis, w = op.int("axis"), wide(x)
    y = w / np.sqrt(np.mean(w * w, axis, keepdims=True) + op.float("epsilon"))
    return y * _along(scale[0], axis, w.ndim) if scale else y


def _matmul(op: array.MatmulOp, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.dtype.kind in "iu":
        return np.matmul(a.astype(np.int64), b.astype(np.int64))  # wraps to the result type
    return np.matmul(wide(a), wide(b))


def _attention(op: array.AttentionOp, q: np.ndarray, k: np.ndarray, v: np.ndarray,
               *mask: np.ndarray) -> np.ndarray:
    logits = np.matmul(wide(q), np.swapaxes(wide(k), -1, -2)) * op.float("scale")
    if mask:
        # jax.nn.dot_product_attention's masked logit, in the operands' type.
        top = min(float(np.finfo(q.dtype).max), float(np.finfo(np.float32).max))
        logits = np.where(mask[0], logits, float(np.asarray(-0.7 * top, q.dtype)))
    e = np.exp(logits - np.max(logits, -1, keepdims=True))
    return np.matmul(e / np.sum(e, -1, keepdims=True), wide(v))


_UNCHECKED: dict[type, OpRule] = {
    array.ReluOp: lambda op, x: np.maximum(wide(x), 0),
    array.GeluOp: _gelu,
    array.SiluOp: lambda op, x: wide(x) * sp.expit(wide(x)),
    array.SoftmaxOp: _softmax,
    array.LogSoftmaxOp: _log_softmax,
    array.LogsumexpOp: _logsumexp,
    array.MeanOp: lambda op, x: np.mean(wide(x), op.ints("axes")),
    array.VarOp: lambda op, x: _var(wide(x), op.ints("axes"), op.int("ddof")),
    array.LayerNormOp: _layer_norm,
    array.RmsNormOp: _rms_norm,
    array.MatmulOp: _matmul,
    array.AttentionOp: _attention,
}
# Each rule's outputs cast to its op's result types, their shapes checked.
ARRAY_RULES: dict[type, OpRule] = {cls: checked(cls, fn) for cls, fn in _UNCHECKED.items()}
