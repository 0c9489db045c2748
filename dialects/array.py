"""The `array` dialect: high-level ops that passes match as units, on builtin tensor types.

    %y = array.softmax %x axis 1 : tensor<4x8xf32>
    %z = array.layer_norm %x, %g, %b axis 1 epsilon 1.000000e-05 : (...) -> tensor<4x8xf32>

Each op means what its `jax.nn` / `jax.numpy` namesake computes (`frontend/highlevel.py` holds
those definitions); `convert-array-to-lax` spells it out in `lax` ops. Axes are non-negative.
All ops are `Pure`. The syntax is `lax`'s (see `syntax.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from xdsl.dialects.builtin import DenseArrayBase, FloatAttr, IntegerAttr, TensorType, f64, i1
from xdsl.ir import Attribute, Dialect, Operation, OpResult, SSAValue
from xdsl.irdl import (
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from tiers.dialects import syntax
from tiers.dialects.dtypes import is_bool, is_complex, is_float
from tiers.dialects.lax import Tensor, elem, int_attr, ints, shape


def float_attr(value: float) -> FloatAttr:
    """An f64 property, e.g. `epsilon 1.000000e-05 : f64`."""
    return FloatAttr(float(value), f64)


def _fail(op: Operation, message: str) -> None:
    raise VerifyException(f"'{op.name}': {message}")


def _reduced(s: Sequence[int], axes: Sequence[int]) -> tuple[int, ...]:
    return tuple(d for i, d in enumerate(s) if i not in axes)


class ArrayOp(syntax.SyntaxOp):
    """Base of every `array` op: the shared syntax and typed property accessors."""

    traits = traits_def(Pure())

    def _check_float(self, value: SSAValue) -> None:
        if not is_float(elem(value)):
            _fail(self, f"expects floating-point operands, got {elem(value)}")

    def _check_same(self, value: SSAValue, result: SSAValue) -> None:
        if value.type != result.type:
            _fail(self, f"result type {result.type} differs from operand type {value.type}")

    def _check_axis(self, value: SSAValue, axis: int) -> None:
        if not 0 <= axis < len(shape(value)):
            _fail(self, f"axis {axis} out of range for rank {len(shape(value))}")


# ---------------------------------------------------------------------------------------
# Elementwise activations: one operand, result of its type.
# ---------------------------------------------------------------------------------------


class ActivationOp(ArrayOp):
    x = operand_def(Tensor)
    result = result_def(Tensor)
    FLOAT_ONLY: ClassVar[bool] = True

    def __init__(self, x: SSAValue, **properties: Attribute):
        super().__init__(operands=[x], result_types=[x.type], properties=properties)

    def verify_(self) -> None:
        if self.FLOAT_ONLY:
            self._check_float(self.x)
        elif is_bool(elem(self.x)):
            _fail(self, "does not accept bool operands")
        elif is_complex(elem(self.x)):  # relu is max(x, 0): complex numbers have no order
            _fail(self, f"does not accept complex operands, got {elem(self.x)}")
        self._check_same(self.x, self.result)


@irdl_op_definition
class ReluOp(ActivationOp):
    """`jax.nn.relu`: max(x, 0), also on integers."""

    name = "array.relu"
    FLOAT_ONLY: ClassVar[bool] = False


@irdl_op_definition
class GeluOp(ActivationOp):
    """x * Phi(x); `approximate`: the tanh form of `jax.nn.gelu`."""

    name = "array.gelu"
    approximate = prop_def(IntegerAttr)

    def __init__(self, x: SSAValue, approximate: bool):
        super().__init__(x, approximate=IntegerAttr(int(approximate), i1))


@irdl_op_definition
class SiluOp(ActivationOp):
    """`jax.nn.silu`: x * logistic(x)."""

    name = "array.silu"


# ---------------------------------------------------------------------------------------
# Along one axis: softmax, log_softmax (same shape), logsumexp (the axis reduced away).
# ---------------------------------------------------------------------------------------


class AxisOp(ArrayOp):
    x = operand_def(Tensor)
    result = result_def(Tensor)
    axis = prop_def(IntegerAttr)
    REDUCES: ClassVar[bool] = False

    def __init__(self, x: SSAValue, axis: int):
        t = TensorType(elem(x), _reduced(shape(x), [axis])) if self.REDUCES else x.type
        super().__init__(operands=[x], result_types=[t], properties={"axis": int_attr(axis)})

    def verify_(self) -> None:
        self._check_float(self.x)
        axis = self.int("axis")
        self._check_axis(self.x, axis)
        if not self.REDUCES:
            self._check_same(self.x, self.result)
            return
        want = _reduced(shape(self.x), [axis])
        if shape(self.result) != want or elem(self.result) != elem(self.x):
            _fail(self, f"result type {self.result.type} should be {want} of {elem(self.x)}")


@irdl_op_definition
class SoftmaxOp(AxisOp):
    """`jax.nn.softmax` along `axis`: exp(x - max) / sum(exp(x - max))."""

    name = "array.softmax"


@irdl_op_definition
class LogSoftmaxOp(AxisOp):
    """`jax.nn.log_softmax` along `axis`: x - max - log(sum(exp(x - max)))."""

    name = "array.log_softmax"


@irdl_op_definition
class LogsumexpOp(AxisOp):
    """`jax.nn.logsumexp` along `axis` (the axis is reduced away)."""

    name = "array.logsumexp"
    REDUCES: ClassVar[bool] = True


# ---------------------------------------------------------------------------------------
# Statistics over `axes`, reduced away.
# ---------------------------------------------------------------------------------------


class StatOp(ArrayOp):
    """Leaves declare `x`, `result`, `axes` (IRDL orders a subclass' fields first)."""

    if TYPE_CHECKING:  # for the checker only: IRDL rejects a bare annotation on an op class
        x: SSAValue
        result: OpResult

    def verify_(self) -> None:
        self._check_float(self.x)
        axes, rank = self.ints("axes"), len(shape(self.x))
        if not axes or any(not 0 <= a < rank for a in axes) or len(set(axes)) != len(axes):
            _fail(self, f"axes {list(axes)} must be distinct, in [0, {rank}) and not empty")
        want = _reduced(shape(self.x), axes)
        if shape(self.result) != want or elem(self.result) != elem(self.x):
            _fail(self, f"result type {self.result.type} should be {want} of {elem(self.x)}")


@irdl_op_definition
class MeanOp(StatOp):
    """`jnp.mean` over `axes`."""

    name = "array.mean"
    x = operand_def(Tensor)
    result = result_def(Tensor)
    axes = prop_def(DenseArrayBase)

    def __init__(self, x: SSAValue, axes: Sequence[int]):
        t = TensorType(elem(x), _reduced(shape(x), axes))
        super().__init__(operands=[x], result_types=[t], properties={"axes": ints(axes)})


@irdl_op_definition
class VarOp(StatOp):
    """sum((x - mean)^2) / (n - ddof), NaN when n - ddof <= 0 (as `jnp.var`)."""

    name = "array.var"
    x = operand_def(Tensor)
    result = result_def(Tensor)
    axes = prop_def(DenseArrayBase)
    ddof = prop_def(IntegerAttr)

    def __init__(self, x: SSAValue, axes: Sequence[int], ddof: int = 0):
        t = TensorType(elem(x), _reduced(shape(x), axes))
        super().__init__(operands=[x], result_types=[t],
                         properties={"axes": ints(axes), "ddof": int_attr(ddof)})

    def verify_(self) -> None:
        super().verify_()
        if self.int("ddof") < 0:
            _fail(self, f"ddof must be non-negative, got {self.int('ddof')}")


# ---------------------------------------------------------------------------------------
# Normalizations along one axis; scale and bias have that axis' size.
# ---------------------------------------------------------------------------------------


class NormOp(ArrayOp):
    """Leaves declare `x`, their scale/bias operands, `result`, `axis`, `epsilon`."""

    MAX_PARAMS: ClassVar[int]
    if TYPE_CHECKING:  # for the checker only: IRDL rejects a bare annotation on an op class
        x: SSAValue
        result: OpResult

    @property
    def params(self) -> Sequence[SSAValue]:
        raise NotImplementedError

    def verify_(self) -> None:
        self._check_float(self.x)
        axis = self.int("axis")
        self._check_axis(self.x, axis)
        self._check_same(self.x, self.result)
        want = TensorType(elem(self.x), [shape(self.x)[axis]])
        if len(self.params) > self.MAX_PARAMS:
            _fail(self, f"takes at most {self.MAX_PARAMS} scale/bias operands")
        for p in self.params:
            if p.type != want:
                _fail(self, f"scale and bias must be {want}, got {p.type}")
        if self.float("epsilon") < 0:
            _fail(self, f"epsilon must be non-negative, got {self.float('epsilon')}")


@irdl_op_definition
class LayerNormOp(NormOp):
    """`flax.linen.LayerNorm`'s math along `axis`: (x - mean) / sqrt(var + eps) * scale + bias.

    `affine` is [], [scale] or [scale, bias]: a bias alone comes with a scale of ones.
    """

    name = "array.layer_norm"
    x = operand_def(Tensor)
    affine = var_operand_def(Tensor)
    result = result_def(Tensor)
    axis = prop_def(IntegerAttr)
    epsilon = prop_def(FloatAttr)
    MAX_PARAMS: ClassVar[int] = 2

    def __init__(self, x: SSAValue, affine: Sequence[SSAValue], axis: int, epsilon: float):
        super().__init__(operands=[x, list(affine)], result_types=[x.type],
                         properties={"axis": int_attr(axis), "epsilon": float_attr(epsilon)})

    @property
    def params(self) -> Sequence[SSAValue]:
        return tuple(self.affine)

    @property
    def scale(self) -> SSAValue | None:
        return self.affine[0] if len(self.affine) > 0 else None

    @property
    def bias(self) -> SSAValue | None:
        return self.affine[1] if len(self.affine) > 1 else None


@irdl_op_definition
class RmsNormOp(NormOp):
    """`flax.linen.RMSNorm`'s math: x / sqrt(mean(x^2) + epsilon) * scale along `axis`."""

    name = "array.rms_norm"
    x = operand_def(Tensor)
    scale = opt_operand_def(Tensor)
    result = result_def(Tensor)
    axis = prop_def(IntegerAttr)
    epsilon = prop_def(FloatAttr)
    MAX_PARAMS: ClassVar[int] = 1

    def __init__(self, x: SSAValue, scale: SSAValue | None, axis: int, epsilon: float):
        super().__init__(operands=[x, [] if scale is None else [scale]], result_types=[x.type],
                         properties={"axis": int_attr(axis), "epsilon": float_attr(epsilon)})

    @property
    def params(self) -> Sequence[SSAValue]:
        return () if self.scale is None else (self.scale,)


# ---------------------------------------------------------------------------------------
# Contractions.
# ---------------------------------------------------------------------------------------


def matmul_shape(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...] | None:
    """`jnp.matmul`'s result shape for operands of rank >= 2 (batch dims broadcast)."""
    if len(a) < 2 or len(b) < 2 or a[-1] != b[-2]:
        return None
    batch_a, batch_b = a[:-2], b[:-2]
    n = max(len(batch_a), len(batch_b))
    batch_a = (1,) * (n - len(batch_a)) + tuple(batch_a)
    batch_b = (1,) * (n - len(batch_b)) + tuple(batch_b)
    batch = []
    for x, y in zip(batch_a, batch_b, strict=True):
        if x != y and 1 not in (x, y):
            return None
        batch.append(max(x, y))
    return (*batch, a[-2], b[-1])


@irdl_op_definition
class MatmulOp(ArrayOp):
    """`...ij,...jk->...ik`, batch dimensions broadcast as in `jnp.matmul` (ranks >= 2)."""

    name = "array.matmul"
    lhs = operand_def(Tensor)
    rhs = operand_def(Tensor)
    result = result_def(Tensor)

    def __init__(self, lhs: SSAValue, rhs: SSAValue):
        out = matmul_shape(shape(lhs), shape(rhs))
        assert out is not None
        super().__init__(operands=[lhs, rhs], result_types=[TensorType(elem(lhs), out)])

    def verify_(self) -> None:
        if elem(self.lhs) != elem(self.rhs) or elem(self.result) != elem(self.lhs):
            _fail(self, f"element types differ: {self.lhs.type}, {self.rhs.type} -> "
                  f"{self.result.type}")
        if is_bool(elem(self.lhs)):
            _fail(self, "does not accept bool operands")
        want = matmul_shape(shape(self.lhs), shape(self.rhs))
        if want is None:
            _fail(self, f"cannot multiply {shape(self.lhs)} by {shape(self.rhs)}")
        if shape(self.result) != want:
            _fail(self, f"result shape {shape(self.result)} should be {want}")


@irdl_op_definition
class AttentionOp(ArrayOp):
    """`jax.nn.dot_product_attention`: softmax(where(mask, q k^T * scale, -big)) v.

    q: (..., T, D), k: (..., S, D), v: (..., S, E) with equal batch dims; the optional bool
    mask (True: keep) has the logits' shape (..., T, S); the result is (..., T, E).
    big_negative is `jax.nn.dot_product_attention`'s: -0.7 * the dtype's largest value
    (at most float32's).
    """

    name = "array.attention"
    q = operand_def(Tensor)
    k = operand_def(Tensor)
    v = operand_def(Tensor)
    mask = opt_operand_def(Tensor)
    result = result_def(Tensor)
    scale = prop_def(FloatAttr)

    def __init__(self, q: SSAValue, k: SSAValue, v: SSAValue, mask: SSAValue | None,
                 scale: float):
        out = TensorType(elem(q), (*shape(q)[:-1], shape(v)[-1]))
        super().__init__(operands=[q, k, v, [] if mask is None else [mask]], result_types=[out],
                         properties={"scale": float_attr(scale)})

    def verify_(self) -> None:
        q, k, v = shape(self.q), shape(self.k), shape(self.v)
        for x in (self.q, self.k, self.v):
            self._check_float(x)
            if elem(x) != elem(self.q):
                _fail(self, f"q, k and v element types differ: {elem(self.q)} vs {elem(x)}")
        if not len(q) == len(k) == len(v) >= 2 or not q[:-2] == k[:-2] == v[:-2]:
            _fail(self, f"q, k, v need one rank >= 2 and equal batch dims, got {q}, {k}, {v}")
        if q[-1] != k[-1] or k[-2] != v[-2]:
            _fail(self, f"q {q}, k {k} and v {v} do not fit (..., T, D), (..., S, D), (..., S, E)")
        if self.mask is not None and (shape(self.mask) != (*q[:-1], k[-2])
                                      or not is_bool(elem(self.mask))):
            _fail(self, f"mask must be {(*q[:-1], k[-2])} of i1, got {self.mask.type}")
        want = TensorType(elem(self.q), (*q[:-1], v[-1]))
        if self.result.type != want:
            _fail(self, f"result type {self.result.type} should be {want}")


def all_ops() -> list[type[ArrayOp]]:
    """Every op class of the dialect (for rule tables and their coverage test)."""
    return [v for v in globals().values()
            # `ArrayOp in __mro__`, not issubclass: IRDL op classes are ABCs, and each
            # negative ABC check walks all subclasses of ArrayOp, caching weak references.
            if isinstance(v, type) and ArrayOp in v.__mro__ and "name" in v.__dict__]


Array = Dialect("array", [*all_ops()], [])
