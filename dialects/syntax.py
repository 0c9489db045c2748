"""The custom assembly format shared by tiers' array-level dialects.

    %r = lax.NAME %a, %b prop value prop value {attrs} : TYPES

Properties are printed inline as `name value` in definition order: an i64 array as
`[1, 2]`, an i64 integer as `3`, anything else in MLIR attribute syntax. TYPES is one
type when every operand and the single result share it (`tensor<4xf32>`), otherwise
`T -> R` or `(T1, T2) -> (R1, R2)`. Everything prints and parses back losslessly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Self, TypeVar

from xdsl.dialects.builtin import (
    AnyFloat,
    DenseArrayBase,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    f64,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import IRDLOperation, VarOperandDef, VarResultDef
from xdsl.parser import Parser
from xdsl.printer import Printer


def print_prop_value(printer: Printer, value: Attribute) -> None:
    if isinstance(value, DenseArrayBase) and value.elt_type == i64:
        printer.print_string("[" + ", ".join(str(v) for v in value.get_values()) + "]")
    elif isinstance(value, IntegerAttr) and value.type == i64:
        printer.print_string(str(value.value.data))
    else:
        printer.print_attribute(value)


# A number written with its own scalar type (`1.5 : f32`): the op's `:` before its types is
# followed by a tensor type or `(`, never by a scalar type, so this lookahead is unambiguous.
_SCALAR_TYPE = re.compile(r":\s*(?:[su]?i\d+|index|bf16|tf32|f\d+)\b")


def parse_prop_value(parser: Parser) -> Attribute:
    if parser.parse_optional_punctuation("[") is not None:
        values: list[int] = []
        if parser.parse_optional_punctuation("]") is None:
            values.append(parser.parse_integer(allow_boolean=False))
            while parser.parse_optional_punctuation(",") is not None:
                values.append(parser.parse_integer(allow_boolean=False))
            parser.parse_punctuation("]")
        return DenseArrayBase.from_list(i64, values)
    # A bare number is ours to parse: xDSL's attribute parser would read the op's
    # `: tensor<...>` as the number's type and fail.
    number = parser.parse_optional_number()
    if number is None:
        return parser.parse_attribute()
    if _SCALAR_TYPE.match(parser.lexer.input.content, parser.pos) is None:
        return FloatAttr(number, f64) if isinstance(number, float) else IntegerAttr(number, i64)
    parser.parse_punctuation(":")
    at = parser.pos
    t = parser.parse_type()
    if isinstance(t, AnyFloat):
        return FloatAttr(float(number), t)
    if isinstance(number, float) or not isinstance(t, IntegerType | IndexType):
        parser.raise_error(f"{number} is not a valid {t} value", at)
    return IntegerAttr(number, t)


def print_types(printer: Printer, op: Operation) -> None:
    ins, outs = op.operand_types, op.result_types
    if len(outs) == 1 and ins and all(t == outs[0] for t in ins):
        printer.print_attribute(outs[0])
        return
    print_type_list(printer, ins)
    printer.print_string(" -> ")
    print_type_list(printer, outs)


def print_type_list(printer: Printer, types: Sequence[Attribute]) -> None:
    """`T`, or `(T1, T2)` / `()` for any other count."""
    if len(types) == 1:
        printer.print_attribute(types[0])
    else:
        printer.print_string("(")
        printer.print_list(types, printer.print_attribute)
        printer.print_string(")")


def parse_type_list(parser: Parser) -> list[Attribute]:
    """`T` or `(T1, T2)` or `()`."""
    if parser.parse_optional_punctuation("(") is not None:
        if parser.parse_optional_punctuation(")") is not None:
            return []
        types: list[Attribute] = [parser.parse_type()]
        while parser.parse_optional_punctuation(",") is not None:
            types.append(parser.parse_type())
        parser.parse_punctuation(")")
        return types
    return [parser.parse_type()]


def print_op(op: IRDLOperation, printer: Printer, skip: Sequence[str] = ()) -> None:
    """Print `op` in the shared custom format (`skip`: properties printed elsewhere)."""
    if op.operands:
        printer.print_string(" ")
        printer.print_list(op.operands, printer.print_operand)
    # Definition order, not insertion order, so that equal ops print the same.
    order = {name: i for i, name in enumerate(type(op).get_irdl_definition().properties)}
    for name in sorted(op.properties, key=lambda n: order.get(n, len(order))):
        if name in skip:
            continue
        printer.print_string(f" {name} ")
        print_prop_value(printer, op.properties[name])
    if op.attributes:
        printer.print_string(" ")
        printer.print_attr_dict(op.attributes)
    printer.print_string(" : ")
    print_types(printer, op)


OpT = TypeVar("OpT", bound=IRDLOperation)


def parse_op(
    cls: type[OpT], parser: Parser, properties: dict[str, Attribute] | None = None
) -> OpT:
    """Parse the shared custom format into an instance of `cls`."""
    pos = parser.pos
    operands = []
    if (first := parser.parse_optional_unresolved_operand()) is not None:
        operands.append(first)
        while parser.parse_optional_punctuation(",") is not None:
            operands.append(parser.parse_unresolved_operand())
    definition = cls.get_irdl_definition()
    _check_count(parser, cls, "operand", definition.operands, len(operands), pos)
    props = dict(properties or {})
    known = definition.properties
    while True:
        name_pos = parser.pos
        if (name := parser.parse_optional_identifier()) is None:
            break
        if name not in known:
            parser.raise_error(
                f"'{cls.name}' has no property '{name}' "
                f"(it has: {', '.join(known) or 'none'}); the types follow a ':'",
                name_pos, parser.pos)
        if name in props:
            parser.raise_error(f"property '{name}' is given twice", name_pos, parser.pos)
        props[name] = parse_prop_value(parser)
    attributes = parser.parse_optional_attr_dict()
    parser.parse_punctuation(":")
    types_pos = parser.pos
    in_types = parse_type_list(parser)
    if parser.parse_optional_punctuation("->") is not None:
        out_types = parse_type_list(parser)
        if len(in_types) != len(operands):
            parser.raise_error(
                f"{len(in_types)} operand types for {len(operands)} operands", types_pos)
    else:
        if len(in_types) != 1:
            parser.raise_error("expected '->' after a list of operand types", types_pos)
        out_types = in_types
        in_types = in_types * len(operands)
    _check_count(parser, cls, "result", definition.results, len(out_types), types_pos)
    values = parser.resolve_operands(operands, in_types, pos)
    op = cls.build(
        operands=group(definition.operands, values),
        result_types=group(definition.results, out_types),
        properties=props,
        attributes=attributes,
    )
    return op


def _check_count(parser: Parser, cls: type[IRDLOperation], what: str,
                 defs: Sequence[tuple[str, object]], n: int, pos: int) -> None:
    """A parse error (not a crash in `build`) when `n` operands/results cannot fit `defs`."""
    fixed = sum(not isinstance(d, VarOperandDef | VarResultDef) for _, d in defs)
    variadic = len(defs) > fixed
    if n == fixed or (variadic and n > fixed):
        return
    want = f"at least {fixed}" if variadic else str(fixed)
    plural = "" if fixed == 1 else "s"
    parser.raise_error(f"'{cls.name}' takes {want} {what}{plural}, got {n}", pos)


# `SyntaxOp.ints` by the identity of the (immutable) attribute.
_INTS: dict[int, tuple[DenseArrayBase, tuple[int, ...]]] = {}


class SyntaxOp(IRDLOperation):
    """Base of ops written in this format, with typed accessors for their properties."""

    def print(self, printer: Printer) -> None:
        print_op(self, printer)

    @classmethod
    def parse(cls, parser: Parser) -> Self:
        return parse_op(cls, parser)

    def ints(self, name: str) -> tuple[int, ...]:
        """The values of an i64 array property."""
        attr = self.properties[name]
        found = _INTS.get(id(attr))
        if found is not None and found[0] is attr:
            return found[1]
        assert isinstance(attr, DenseArrayBase)
        values = tuple(attr.get_values())  # unpacks the bytes: read by every pass and rule
        if len(_INTS) >= 1 << 14:
            _INTS.clear()
        _INTS[id(attr)] = (attr, values)  # the attribute kept alive, so its id stays its own
        return values

    def int(self, name: str) -> int:
        attr = self.properties[name]
        assert isinstance(attr, IntegerAttr)
        return attr.value.data

    def float(self, name: str) -> float:
        attr = self.properties[name]
        assert isinstance(attr, FloatAttr)
        return attr.value.data

    def flag(self, name: str) -> bool:
        return bool(self.int(name))


def group(defs: Sequence[tuple[str, object]], flat: Sequence[SSAValue] | Sequence[Attribute]):
    """Split a flat operand (or result type) list over IRDL definitions with at most one
    variadic, the shape that `IRDLOperation.build` wants."""
    variadic = [i for i, (_, d) in enumerate(defs) if isinstance(d, VarOperandDef | VarResultDef)]
    if not variadic:
        return list(flat)
    i = variadic[0]
    n_var = len(flat) - (len(defs) - 1)
    return [*flat[:i], list(flat[i : i + n_var]), *flat[i + n_var :]]


