"""The control-flow ops of the `lax` dialect: `lax.cond`, `lax.while`, `lax.scan`, each with
single-block regions ending in `lax.yield`, and the custom syntax they share.

Regions are not isolated from above: a region reads values of the enclosing blocks
directly (JAX's `cond_consts`/`body_consts`/scan consts and cond's operands become such
captured values), as `scf` does. So `cse` can reuse an outer value inside a body, hoisting
an op out of a loop is moving it (no operand to add), and a constant-index `cond` folds by
inlining a branch. Block arguments are exactly the loop-carried values (and, for `scan`,
the slices of `xs`). The ops have no effects of their own (`RecursiveMemoryEffect`): one is
pure when its body is, which every `lax` body is, so `cse`/`dce` merge and drop them.

The ops belong to the `lax` dialect: `lax.py` re-exports them and lists them in `Lax`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import IntegerAttr, TensorType, i1
from xdsl.ir import Attribute, Operation, Region, SSAValue
from xdsl.irdl import (
    AttrSizedOperandSegments,
    IRDLOperation,
    irdl_op_definition,
    lazy_traits_def,
    operand_def,
    prop_def,
    region_def,
    traits_def,
    var_operand_def,
    var_region_def,
    var_result_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import (
    HasParent,
    IsTerminator,
    Pure,
    RecursivelySpeculatable,
    RecursiveMemoryEffect,
)

from tiers.dialects import syntax
from tiers.dialects.dtypes import is_bool, is_integer
from tiers.dialects.lax_base import (
    LaxCanonicalization,
    LaxOp,
    Tensor,
    bool_attr,
    elem,
    fail,
    int_attr,
    shape,
)


def _types(values: Sequence[SSAValue]) -> list[Attribute]:
    return [v.type for v in values]


def _show(types: Sequence[Attribute]) -> str:
    return "(" + ", ".join(str(t) for t in types) + ")"


def _yielded(op: Operation, region: Region, what: str) -> YieldOp:
    """The `lax.yield` ending the single block of `region` (verified to be there)."""
    last = region.block.last_op if region.blocks else None
    if not isinstance(last, YieldOp):
        fail(op, f"{what} must end with lax.yield")
    assert isinstance(last, YieldOp)
    return last


def _check_yield(op: Operation, region: Region, want: Sequence[Attribute], what: str) -> None:
    got = _types(_yielded(op, region, what).values)
    if list(got) != list(want):
        fail(op, f"{what} yields {_show(got)}, expected {_show(want)}")


def _check_args(op: Operation, region: Region, want: Sequence[Attribute], what: str) -> None:
    got = _types(region.block.args)
    if list(got) != list(want):
        fail(op, f"{what} block arguments {_show(got)} must be {_show(want)}")


def _print_region(printer: Printer, region: Region) -> None:
    printer.print_string(" ")
    printer.print_region(region, print_entry_block_args=bool(region.block.args))


def _print_props(printer: Printer, op: IRDLOperation) -> None:
    for name in type(op).get_irdl_definition().properties:
        if name in op.properties and name != "operandSegmentSizes":  # said by the lists
            printer.print_string(f" {name} ")
            syntax.print_prop_value(printer, op.properties[name])
    if op.attributes:
        printer.print_string(" ")
        printer.print_attr_dict(op.attributes)


def _parse_props(parser: Parser, cls: type[IRDLOperation]) -> tuple[dict, dict]:
    """`name value` properties up to the `:` or an attribute dictionary, then that dict."""
    known, props = cls.get_irdl_definition().properties, {}
    while (name := parser.parse_optional_identifier()) is not None:
        if name not in known or name in props:
            parser.raise_error(f"'{cls.name}' has no property '{name}' or it is given twice "
                               f"(properties: {', '.join(known) or 'none'})")
        props[name] = syntax.parse_prop_value(parser)
    return props, parser.parse_optional_attr_dict()


def _parse_operands(parser: Parser) -> list:
    """`(%a, %b)`: a parenthesized, possibly empty, operand list."""
    return parser.parse_comma_separated_list(
        parser.Delimiter.PAREN, parser.parse_unresolved_operand)


def _print_operands(printer: Printer, values: Sequence[SSAValue]) -> None:
    printer.print_string("(")
    printer.print_list(values, printer.print_operand)
    printer.print_string(")")


def _resolve(parser: Parser, operands: list, types: Sequence[Attribute], pos: int
             ) -> Sequence[SSAValue]:
    if len(operands) != len(types):
        parser.raise_error(f"{len(types)} types for {len(operands)} operands", pos)
    return parser.resolve_operands(operands, types, pos)


class RegionOp(LaxOp):
    """Base of the control-flow ops: accessors that passes over regions share."""

    def yielded(self, region: Region) -> YieldOp:
        """The terminator of `region` (one of this op's regions)."""
        last = region.block.last_op
        assert isinstance(last, YieldOp), f"{self.name} region does not end with lax.yield"
        return last


@irdl_op_definition
class CondOp(RegionOp):
    """`lax.cond_p`: runs branch `index` (clamped to the branches, as XLA's conditional).

    Returns what the branch yields. Branches take no block arguments: they read the values
    they need from above. `jax.lax.cond` is two branches (false first), `jax.lax.switch` any
    number.

        %r = lax.cond %i : tensor<i32> -> tensor<f32> { ...; lax.yield %a : tensor<f32> },
                                                      { ...; lax.yield %b : tensor<f32> }
    """

    name = "lax.cond"
    PRIMITIVE: ClassVar[str] = "cond"
    index = operand_def(Tensor)
    outputs = var_result_def(Tensor)
    branches = var_region_def("single_block")
    traits = traits_def(RecursiveMemoryEffect(), RecursivelySpeculatable(),
                        LaxCanonicalization())

    def __init__(self, index: SSAValue, result_types: Sequence[Attribute],
                 branches: Sequence[Region]):
        super().__init__(operands=[index], result_types=[list(result_types)],
                         regions=[list(branches)])

    def verify_(self) -> None:
        if shape(self.index) != () or not (is_integer(elem(self.index))
                                           or is_bool(elem(self.index))):
            fail(self, f"index must be an integer or i1 scalar, got {self.index.type}")
        if not self.branches:
            fail(self, "needs at least one branch")
        for i, branch in enumerate(self.branches):
            _check_args(self, branch, [], f"branch {i}")
            _check_yield(self, branch, _types(self.outputs), f"branch {i}")

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.index)
        _print_props(printer, self)
        printer.print_string(" : ")
        printer.print_attribute(self.index.type)
        printer.print_string(" -> ")
        syntax.print_type_list(printer, _types(self.outputs))
        for i, branch in enumerate(self.branches):
            if i:
                printer.print_string(",")
            _print_region(printer, branch)

    @classmethod
    def parse(cls, parser: Parser) -> CondOp:
        pos = parser.pos
        index = parser.parse_unresolved_operand()
        _, attrs = _parse_props(parser, cls)
        parser.parse_punctuation(":")
        index_type = parser.parse_type()
        parser.parse_punctuation("->")
        out_types = syntax.parse_type_list(parser)
        branches = [parser.parse_region()]
        while parser.parse_optional_punctuation(",") is not None:
            branches.append(parser.parse_region())
        (value,) = _resolve(parser, [index], [index_type], pos)
        op = cls(value, out_types, branches)
        op.attributes.update(attrs)
        return op


@irdl_op_definition
class WhileOp(RegionOp):
    """`lax.while_p`: loops while `cond` yields true.

    Both regions take the carried values as block arguments; `cond` yields a `tensor<i1>`,
    `body` the next carried values.

        %r = lax.while (%x) : tensor<f32> cond { ^bb0(%c: tensor<f32>): ... } do { ... }
    """

    name = "lax.while"
    PRIMITIVE: ClassVar[str] = "while"
    init = var_operand_def(Tensor)
    outputs = var_result_def(Tensor)
    cond = region_def("single_block")
    body = region_def("single_block")
    # Not speculatable: a while loop need not terminate.
    traits = traits_def(RecursiveMemoryEffect(), LaxCanonicalization())

    def __init__(self, init: Sequence[SSAValue], cond: Region, body: Region):
        super().__init__(operands=[list(init)], result_types=[_types(init)],
                         regions=[cond, body])

    @property
    def carried_types(self) -> list[Attribute]:
        """The types of the loop-carried values (operands, block arguments, results)."""
        return _types(self.init)

    def verify_(self) -> None:
        carried = self.carried_types
        if _types(self.outputs) != carried:
            fail(self, f"result types {_show(_types(self.outputs))} must equal the carried "
                 f"types {_show(carried)}")
        _check_args(self, self.cond, carried, "cond region")
        _check_args(self, self.body, carried, "body region")
        _check_yield(self, self.cond, [TensorType(i1, [])], "cond region")
        _check_yield(self, self.body, carried, "body region")

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        _print_operands(printer, self.init)
        _print_props(printer, self)
        printer.print_string(" : ")
        syntax.print_type_list(printer, self.carried_types)
        printer.print_string(" cond")
        _print_region(printer, self.cond)
        printer.print_string(" do")
        _print_region(printer, self.body)

    @classmethod
    def parse(cls, parser: Parser) -> WhileOp:
        pos = parser.pos
        operands = _parse_operands(parser)
        _, attrs = _parse_props(parser, cls)
        parser.parse_punctuation(":")
        types = syntax.parse_type_list(parser)
        parser.parse_keyword("cond")
        cond = parser.parse_region()
        parser.parse_keyword("do")
        body = parser.parse_region()
        op = cls(_resolve(parser, operands, types, pos), cond, body)
        op.attributes.update(attrs)
        return op


@irdl_op_definition
class ScanOp(RegionOp):
    """`lax.scan_p`: `length` steps of `body` over the carried values and the slices of `xs`.

    Step `i` sees slice `i` of each of `xs` (from the end when `reverse`); results are the
    final carry, then each yielded slice stacked into `ys` (leading dimension `length`).
    `unroll` is a hint for the target.

        %c, %ys = lax.scan (%c0) xs (%xs) length 5 reverse false unroll 1
            : (tensor<f32>, tensor<5x3xf32>) -> (tensor<f32>, tensor<5xf32>) { ... }
    """

    name = "lax.scan"
    PRIMITIVE: ClassVar[str] = "scan"
    init = var_operand_def(Tensor)
    xs = var_operand_def(Tensor)
    outputs = var_result_def(Tensor)
    length = prop_def(IntegerAttr)
    reverse = prop_def(IntegerAttr)
    unroll = prop_def(IntegerAttr)
    body = region_def("single_block")
    irdl_options = (AttrSizedOperandSegments(as_property=True),)
    traits = traits_def(RecursiveMemoryEffect(), RecursivelySpeculatable(),
                        LaxCanonicalization())

    def __init__(self, init: Sequence[SSAValue], xs: Sequence[SSAValue],
                 y_types: Sequence[Attribute], body: Region, length: int,
                 reverse: bool = False, unroll: int = 1):
        super().__init__(
            operands=[list(init), list(xs)], result_types=[[*_types(init), *y_types]],
            regions=[body], properties={"length": int_attr(length),
                                        "reverse": bool_attr(reverse),
                                        "unroll": int_attr(unroll)})

    @property
    def num_carry(self) -> int:
        return len(self.init)

    @property
    def carry_outputs(self) -> Sequence[SSAValue]:
        """The final carried values."""
        return self.outputs[:self.num_carry]

    @property
    def ys(self) -> Sequence[SSAValue]:
        """The stacked per-step outputs."""
        return self.outputs[self.num_carry:]

    @property
    def carried_types(self) -> list[Attribute]:
        return _types(self.init)

    def verify_(self) -> None:
        n, carried = self.int("length"), self.carried_types
        if n < 0 or self.int("unroll") < 1:
            fail(self, f"length must be >= 0 and unroll >= 1, got {n} and {self.int('unroll')}")
        if _types(self.carry_outputs) != carried:
            fail(self, f"carry result types {_show(_types(self.carry_outputs))} must equal "
                 f"the carried types {_show(carried)}")
        slices = self._slices(self.xs, "xs operand", n)
        _check_args(self, self.body, [*carried, *slices], "body region")
        _check_yield(self, self.body, [*carried, *self._slices(self.ys, "ys result", n)],
                     "body region")

    def _slices(self, values: Sequence[SSAValue], what: str, n: int) -> list[Attribute]:
        """The per-iteration type of each of `values`, whose leading dimension must be `n`."""
        out: list[Attribute] = []
        for v in values:
            if shape(v)[:1] != (n,):
                fail(self, f"{what} {v.type} must have leading dimension {n} (length)")
            out.append(TensorType(elem(v), shape(v)[1:]))
        return out

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        _print_operands(printer, self.init)
        printer.print_string(" xs ")
        _print_operands(printer, self.xs)
        _print_props(printer, self)
        printer.print_string(" : ")
        syntax.print_type_list(printer, _types(self.operands))
        printer.print_string(" -> ")
        syntax.print_type_list(printer, _types(self.outputs))
        _print_region(printer, self.body)

    @classmethod
    def parse(cls, parser: Parser) -> ScanOp:
        pos = parser.pos
        init = _parse_operands(parser)
        parser.parse_keyword("xs")
        xs = _parse_operands(parser)
        props, attrs = _parse_props(parser, cls)
        parser.parse_punctuation(":")
        in_types = syntax.parse_type_list(parser)
        parser.parse_punctuation("->")
        out_types = syntax.parse_type_list(parser)
        body = parser.parse_region()
        values = _resolve(parser, [*init, *xs], in_types, pos)
        if len(out_types) < len(init):
            parser.raise_error(f"'{cls.name}' needs at least {len(init)} results (the carry)")
        op = cls.build(operands=[values[:len(init)], values[len(init):]],
                       result_types=[out_types], regions=[body], properties=props,
                       attributes=attrs)
        return op


@irdl_op_definition
class YieldOp(IRDLOperation):
    """Ends a region of a control-flow op with the values it passes on (a sub-jaxpr's outvars)."""

    name = "lax.yield"
    values = var_operand_def(Tensor)
    traits = lazy_traits_def(lambda: (IsTerminator(), HasParent(CondOp, WhileOp, ScanOp),
                                      Pure()))
    assembly_format = "($values^ `:` type($values))? attr-dict"

    def __init__(self, values: Sequence[SSAValue]):
        super().__init__(operands=[list(values)])

