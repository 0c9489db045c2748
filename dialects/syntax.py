"""The custom assembly format shared by tiers' array-level dialects.

    %r = lax.NAME %a, %b prop value prop value {attrs} : TYPES

Properties are printed inline as `name value` in definition order: an i64 array as
`[1, 2]`, an i64 integer as `3`, anything else in MLIR attribute syntax. TYPES is one
type when every operand and the single result share it (`tensor<4xf32>`), otherwise
`T -> R` or `(T1, T2) -> (R1, R2)`. Everything prints and parses back losslessly.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import DenseArrayBase, IntegerAttr, i64
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


def parse_prop_value(parser: Parser) -> Attribute:
    if parser.parse_optional_punctuation("[") is not None:
        values: list[int] = []
        if parser.parse_optional_punctuation("]") is None:
            values.append(parser.parse_integer())
            while parser.parse_optional_punctuation(",") is not None:
                values.append(parser.parse_integer())
            parser.parse_punctuation("]")
        return DenseArrayBase.from_list(i64, values)
    value = parser.parse_attribute()
    return value


def print_types(printer: Printer, op: Operation) -> None:
    ins, outs = op.operand_types, op.result_types
    if len(outs) == 1 and ins and all(t == outs[0] for t in ins):
        printer.print_attribute(outs[0])
        return
    _print_type_list(printer, ins)
    printer.print_string(" -> ")
    _print_type_list(printer, outs)


def _print_type_list(printer: Printer, types: Sequence[Attribute]) -> None:
    if len(types) == 1:
        printer.print_attribute(types[0])
    else:
        printer.print_string("(")
        printer.print_list(types, printer.print_attribute)
        printer.print_string(")")


def _parse_type_list(parser: Parser) -> list[Attribute]:
    if parser.parse_optional_punctuation("(") is not None:
        if parser.parse_optional_punctuation(")") is not None:
            return []
        types = [parser.parse_type()]
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
    for name, value in op.properties.items():
        if name in skip:
            continue
        printer.print_string(f" {name} ")
        print_prop_value(printer, value)
    if op.attributes:
        printer.print_string(" ")
        printer.print_attr_dict(op.attributes)
    printer.print_string(" : ")
    print_types(printer, op)


def parse_op(
    cls: type[IRDLOperation], parser: Parser, properties: dict[str, Attribute] | None = None
) -> IRDLOperation:
    """Parse the shared custom format into an instance of `cls`."""
    pos = parser.pos
    operands = []
    if (first := parser.parse_optional_unresolved_operand()) is not None:
        operands.append(first)
        while parser.parse_optional_punctuation(",") is not None:
            operands.append(parser.parse_unresolved_operand())
    props = dict(properties or {})
    known = cls.get_irdl_definition().properties
    while (name := parser.parse_optional_identifier()) is not None:
        if name not in known:
            parser.raise_error(
                f"'{cls.name}' has no property '{name}' (it has: {', '.join(known) or 'none'})"
            )
        props[name] = parse_prop_value(parser)
    attributes = parser.parse_optional_attr_dict()
    parser.parse_punctuation(":")
    types_pos = parser.pos
    in_types = _parse_type_list(parser)
    if parser.parse_optional_punctuation("->") is not None:
        out_types = _parse_type_list(parser)
    else:
        if len(in_types) != 1:
            parser.raise_error("expected '->' after a list of operand types", types_pos)
        out_types = in_types
        in_types = in_types * len(operands)
    values = parser.resolve_operands(operands, in_types, pos)
    op = cls.build(
        operands=group(cls.get_irdl_definition().operands, values),
        result_types=group(cls.get_irdl_definition().results, out_types),
        properties=props,
        attributes=attributes,
    )
    return op


def group(defs: Sequence[tuple[str, object]], flat: Sequence[SSAValue] | Sequence[Attribute]):
    """Split a flat operand (or result type) list over IRDL definitions with at most one
    variadic, the shape that `IRDLOperation.build` wants."""
    variadic = [i for i, (_, d) in enumerate(defs) if isinstance(d, VarOperandDef | VarResultDef)]
    if not variadic:
        return list(flat)
    i = variadic[0]
    n_var = len(flat) - (len(defs) - 1)
    return [*flat[:i], list(flat[i : i + n_var]), *flat[i + n_var :]]


