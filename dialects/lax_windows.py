"""The windowed ops of the `lax` dialect, JAX's `windowed_reductions.py` primitives: pooling
(`lax.reduce_window_sum`, `_max`, `_min`), the gradient of max/min pooling
(`lax.select_and_scatter_add`) and its forward-mode derivative (`lax.select_and_gather_add`).

Windows are XLA's. Per dimension: the window's size (`window_dimensions`) and stride, the
operand's padding (`padding_low`, `padding_high`, as `lax.pad`'s `low`/`high`), and for the
dilated ops the operand's dilation (`base_dilation`: holes between its elements) and the
window's (`window_dilation`). Padding and holes hold the reduction's identity, so they never
win a window; the result has one element per window position (`window_shape`).

The ops belong to the `lax` dialect: `lax.py` re-exports them and lists them in `Lax`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import DenseArrayBase, StringAttr
from xdsl.irdl import irdl_op_definition, operand_def, prop_def, result_def, traits_def
from xdsl.traits import Pure

from tiers.dialects.dtypes import is_bool, is_float
from tiers.dialects.lax_base import LaxCanonicalization, LaxOp, Tensor, elem, fail, shape

SELECTS = ("ge", "le")  # `select_prim`: ge picks the window's maximum, le its minimum


def window_shape(operand: Sequence[int], window: Sequence[int], strides: Sequence[int],
                 padding: Sequence[tuple[int, int]], base_dilation: Sequence[int] | None = None,
                 window_dilation: Sequence[int] | None = None) -> tuple[int, ...]:
    """The number of window positions along each dimension (`reduce_window_shape_tuple`)."""
    n = len(operand)
    base = base_dilation or (1,) * n
    dilation = window_dilation or (1,) * n
    out = []
    for d, w, s, (lo, hi), b, wd in zip(operand, window, strides, padding, base, dilation,
                                       strict=True):
        padded = (0 if d == 0 else (d - 1) * b + 1) + lo + hi
        span = (w - 1) * wd + 1
        out.append(max(0, (padded - span) // s + 1))
    return tuple(out)


class WindowOp(LaxOp):
    """Base of the windowed ops: window sizes, strides and the operand's padding."""

    window_dimensions = prop_def(DenseArrayBase)
    window_strides = prop_def(DenseArrayBase)
    padding_low = prop_def(DenseArrayBase)
    padding_high = prop_def(DenseArrayBase)
    traits = traits_def(Pure(), LaxCanonicalization())
    DILATED: ClassVar[bool] = False  # has base_dilation and window_dilation

    @property
    def padding(self) -> tuple[tuple[int, int], ...]:
        """(low, high) per dimension, JAX's `padding` param."""
        return tuple(zip(self.ints("padding_low"), self.ints("padding_high"), strict=True))

    def dilations(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(base_dilation, window_dilation), ones where the op has none."""
        if self.DILATED:
            return self.ints("base_dilation"), self.ints("window_dilation")
        ones = (1,) * len(self.ints("window_dimensions"))
        return ones, ones

    def window_shape(self, operand: Sequence[int]) -> tuple[int, ...]:
        """The shape of the reduced result for an operand of shape `operand`."""
        return window_shape(operand, self.ints("window_dimensions"),
                            self.ints("window_strides"), self.padding, *self.dilations())

    def check_window(self, operand: Sequence[int]) -> None:
        """Fail unless every window property has one entry per dimension of `operand`, sizes,
        strides and dilations at least 1."""
        names = ["window_dimensions", "window_strides", "padding_low", "padding_high"]
        if self.DILATED:
            names += ["base_dilation", "window_dilation"]
        for name in names:
            values = self.ints(name)
            if len(values) != len(operand):
                fail(self, f"{name} needs one entry per operand dimension ({len(operand)})")
            if not name.startswith("padding") and any(v < 1 for v in values):
                fail(self, f"{name} must be at least 1, got {list(values)}")

    def check_select(self) -> None:
        select = self.properties.get("select")
        if not isinstance(select, StringAttr) or select.data not in SELECTS:
            fail(self, f"select must be one of {', '.join(map(repr, SELECTS))}, got {select}")


class DilatedWindowOp(WindowOp):
    """A windowed op over a dilated operand with dilated windows."""

    base_dilation = prop_def(DenseArrayBase)
    window_dilation = prop_def(DenseArrayBase)
    DILATED: ClassVar[bool] = True


class ReduceWindowOp(DilatedWindowOp):
    """A monoid reduction of each window; the result has one element per window position."""

    operand = operand_def(Tensor)
    result = result_def(Tensor)
    NUMERIC: ClassVar[bool] = False  # rejects bool operands (sum)

    def verify_(self) -> None:
        inp = shape(self.operand)
        self.check_window(inp)
        if elem(self.result) != elem(self.operand):
            fail(self, f"result element type {elem(self.result)} differs from the operand's")
        if self.NUMERIC and is_bool(elem(self.operand)):
            fail(self, f"does not accept bool operands, got {elem(self.operand)}")
        want = self.window_shape(inp)
        if shape(self.result) != want:
            fail(self, f"result shape {shape(self.result)} should be {want}")


@irdl_op_definition
class ReduceWindowSumOp(ReduceWindowOp):
    """`lax.reduce_window_sum_p`: the sum of each window (average pooling before the divide).

        %y = lax.reduce_window_sum %x window_dimensions [2, 2] window_strides [2, 2]
             padding_low [0, 0] padding_high [0, 0] base_dilation [1, 1]
             window_dilation [1, 1] : tensor<4x4xf32> -> tensor<2x2xf32>
    """

    name = "lax.reduce_window_sum"
    PRIMITIVE: ClassVar[str] = "reduce_window_sum"
    NUMERIC: ClassVar[bool] = True


@irdl_op_definition
class ReduceWindowMaxOp(ReduceWindowOp):
    """`lax.reduce_window_max_p`: the maximum of each window (max pooling)."""

    name = "lax.reduce_window_max"
    PRIMITIVE: ClassVar[str] = "reduce_window_max"


@irdl_op_definition
class ReduceWindowMinOp(ReduceWindowOp):
    """`lax.reduce_window_min_p`: the minimum of each window (min pooling)."""

    name = "lax.reduce_window_min"
    PRIMITIVE: ClassVar[str] = "reduce_window_min"


@irdl_op_definition
class SelectAndScatterAddOp(WindowOp):
    """`lax.select_and_scatter_add_p`: the gradient of max (`select "ge"`) or min (`"le"`)
    pooling. Each window of `operand` selects one element, the first extreme in row-major
    order (XLA's `select_and_scatter`); `source` (one value per window) is added at the
    selected places of a zero array of the operand's shape.

        %g = lax.select_and_scatter_add %ct, %x window_dimensions [2, 2] window_strides [2, 2]
             padding_low [0, 0] padding_high [0, 0] select "ge"
             : (tensor<2x2xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    """

    name = "lax.select_and_scatter_add"
    PRIMITIVE: ClassVar[str] = "select_and_scatter_add"
    source = operand_def(Tensor)
    operand = operand_def(Tensor)
    result = result_def(Tensor)
    select = prop_def(StringAttr)

    def verify_(self) -> None:
        inp = shape(self.operand)
        self.check_window(inp)
        self.check_select()
        if self.result.type != self.operand.type:
            fail(self, f"result type {self.result.type} differs from {self.operand.type}")
        if any(p < 0 for p in (*self.ints("padding_low"), *self.ints("padding_high"))):
            fail(self, f"padding must not be negative, got {list(self.padding)}")
        want = self.window_shape(inp)
        if shape(self.source) != want or elem(self.source) != elem(self.operand):
            fail(self, f"source must be {want} of {elem(self.operand)} (one value per window), "
                 f"got {self.source.type}")


@irdl_op_definition
class SelectAndGatherAddOp(DilatedWindowOp):
    """`lax.select_and_gather_add_p`: the tangent of max (`select "ge"`) or min (`"le"`)
    pooling. Each window of `operand` selects one element; the result holds `tangents` at
    that place, one value per window (XLA reduces (operand, tangents) pairs)."""

    name = "lax.select_and_gather_add"
    PRIMITIVE: ClassVar[str] = "select_and_gather_add"
    tangents = operand_def(Tensor)
    operand = operand_def(Tensor)
    result = result_def(Tensor)
    select = prop_def(StringAttr)

    def verify_(self) -> None:
        inp = shape(self.operand)
        self.check_window(inp)
        self.check_select()
        if self.tangents.type != self.operand.type:
            fail(self, f"tangents type {self.tangents.type} differs from {self.operand.type}")
        if not is_float(elem(self.operand)):  # its identity is an infinity
            fail(self, f"expects floating-point operands, got {elem(self.operand)}")
        want = self.window_shape(inp)
        if shape(self.result) != want or elem(self.result) != elem(self.operand):
            fail(self, f"result must be {want} of {elem(self.operand)}, got {self.result.type}")
