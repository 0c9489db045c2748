"""Located diagnostics, as MLIR prints them: `file:line:col: error: message`, the source line
and a caret. `parse_module` reads IR text remembering where each op starts; `verify` runs
xDSL's verifier and the SSA dominance check (xDSL 0.74's verifier has none) and reports the
first failing op at its place in the input, or at its `loc(...)` (the user's source line).
`tiers-opt`, `tiers-run`, the instrumented pass runner and `tiers.load` all use these.
"""

from __future__ import annotations

import io

from xdsl.context import Context
from xdsl.dialects.builtin import FileLineColLoc, ModuleOp
from xdsl.ir import Operation
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import MultipleSpansParseError, ParseError, VerifyException
from xdsl.utils.lexer import Span

from tiers.pipeline.dominance import DominanceError, check_dominance

OpSpans = dict[Operation, Span]


class IRParseError(ValueError):
    """Malformed IR text; the message is the located diagnostic."""


# ---------------------------------------------------------------------------------------
# Diagnostics: MLIR's `file:line:col: error: message`, then the source line and a caret.
# ---------------------------------------------------------------------------------------


def format_span(span: Span, message: str) -> str:
    """`file:line:col: error: message` and the source line with a caret under `span`."""
    context = span.print_with_context().split("\n", 1)[1]  # drop xDSL's bare location line
    return f"{span.get_location()}: error: {message}\n{context}".rstrip("\n")


def format_parse_error(error: ParseError) -> str:
    """One diagnostic for a parse error (plus the spans it refers to, e.g. a first definition)."""
    text = format_span(error.span, error.msg)
    if isinstance(error, MultipleSpansParseError):
        for span, note in error.refs:
            context = span.print_with_context().split("\n", 1)[1].rstrip("\n")
            text += f"\n{span.get_location()}: note: {note or error.ref_text or ''}\n{context}"
    return text


def _print_op(op: Operation) -> str:
    """`op` alone, in its custom form if that prints (an invalid op may not), else generic."""
    for generic in (False, True):
        out = io.StringIO()
        try:
            Printer(stream=out, print_generic_format=generic).print_op(op)
            return out.getvalue()
        except Exception:  # an op that fails to verify may fail to print
            continue
    return op.name


def format_op_error(op: Operation, message: str, spans: OpSpans) -> str:
    """One diagnostic for `op`: at its place in the input file when it came from there, else
    at its `loc(...)` (the user's source line) and followed by the op itself."""
    if op in spans:
        return format_span(spans[op], message)
    where = ""
    if isinstance(op.location, FileLineColLoc):
        loc = op.location
        where = f"{loc.filename.data}:{loc.line.value.data}:{loc.column.value.data}: "
    return f"{where}error: {message}\n  {_print_op(op)}"


def verify(module: ModuleOp, spans: OpSpans | None = None, after: str | None = None) -> None:
    """Verify `module`; on failure raise `VerifyException` holding one located diagnostic
    (`after`: the pass that just ran, named in the message)."""
    suffix = f" (after pass '{after}')" if after else ""
    try:
        module.verify()
        check_dominance(module)
        return
    except DominanceError as e:
        raise VerifyException(format_op_error(e.op, f"{e}{suffix}", spans or {})) from None
    except VerifyException as e:
        first = e
    # xDSL's exception does not say which op failed: find it, in xDSL's order (nested first).
    for op in module.walk(region_first=True):
        try:
            op.verify(verify_nested_ops=False)
        except VerifyException as e:
            raise VerifyException(format_op_error(op, f"{e}{suffix}", spans or {})) from None
    raise VerifyException(f"error: {first}{suffix}") from None


class LocatingParser(Parser):
    """xDSL's parser, remembering where each op starts so verifier errors can point there."""

    def __init__(self, ctx: Context, text: str | bytes, name: str, line_offset: int = 0):
        super().__init__(ctx, text, name)
        self.line_offset = line_offset
        self.op_spans: OpSpans = {}

    def parse_operation(self) -> Operation:
        start = self.pos
        op = super().parse_operation()
        self.op_spans[op] = Span(start, start, self.lexer.input, self.line_offset)
        return op


def parse_module(ctx: Context, text: str | bytes, name: str, line_offset: int = 0,
                 implicit_module: bool = True) -> tuple[ModuleOp, OpSpans]:
    """The module in `text` and where each op starts; `IRParseError` on malformed IR."""
    parser = LocatingParser(ctx, text, name, line_offset)
    try:
        return parser.parse_module(implicit_module), parser.op_spans
    except ParseError as e:
        e.span = Span(e.span.start, e.span.end, e.span.input, line_offset)
        raise IRParseError(format_parse_error(e)) from None
