"""Located diagnostics, as MLIR prints them: `file:line:col: error: message`, the source line
and a caret. `parse_module` reads IR text remembering where each op starts; `verify` runs
xDSL's verifier and the SSA dominance check (xDSL 0.74's verifier has none) and reports the
first failing op at its place in the input, or at its `loc(...)` (the user's source line).
`tiers-opt`, `tiers-run`, the instrumented pass runner and `tiers.load` all use these.

Where xDSL 0.74's parser crashes on malformed text, or reports an error away from its cause,
`LocatingParser` answers as `mlir-opt` does; each such place is marked `xDSL 0.74:`, and the
`xdsl-*` cases of tests/bad_inputs/ir_text.json fail once xDSL fixes it upstream.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
import sys
from collections.abc import Callable, Iterable, Iterator

from xdsl.context import Context
from xdsl.dialects.builtin import (
    AnyDenseElement,
    AnyFloat,
    ComplexType,
    DenseIntOrFPElementsAttr,
    FileLineColLoc,
    IndexType,
    IntegerType,
    ModuleOp,
    RankedStructure,
    StringAttr,
)
from xdsl.ir import (
    Attribute,
    AttributeInvT,
    Block,
    Operation,
    Region,
    SSAValue,
    TypeAttribute,
)
from xdsl.parser import AttrParser, Parser, UnresolvedOperand
from xdsl.printer import Printer
from xdsl.traits import IsolatedFromAbove
from xdsl.utils.exceptions import (
    DiagnosticException,
    MultipleSpansParseError,
    ParseError,
    VerifyException,
)
from xdsl.utils.lexer import Input, Span, Token
from xdsl.utils.mlir_lexer import MLIRTokenKind

from tiers.pipeline.dominance import DominanceError, check_dominance

OpSpans = dict[Operation, Span]

RECURSION_LIMIT = 20_000
"""Python frames allowed while tiers parses and verifies IR (and `tiers-opt` transforms and
prints it): xDSL does all of it recursively, about 6 frames per nested region, so Python's
default of 1000 fails on valid IR ~150 regions deep. Deeper input gets a located error."""

MAX_MESSAGE = 300  # characters; xDSL's message for a huge literal repeats the literal
MAX_LINE = 160  # characters of a source line shown under a diagnostic, around the caret


class IRParseError(ValueError):
    """Malformed IR text; the message is the located diagnostic."""


@contextlib.contextmanager
def deep_recursion() -> Iterator[None]:
    """Run the body with Python's recursion limit at least `RECURSION_LIMIT`, then restore it."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, RECURSION_LIMIT))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


# ---------------------------------------------------------------------------------------
# Diagnostics: MLIR's `file:line:col: error: message`, then the source line and a caret.
# ---------------------------------------------------------------------------------------


def format_span(span: Span[str] | Span[bytes], message: str) -> str:
    """`file:line:col: error: message` and the source line with a caret under `span`."""
    context = span.print_with_context().split("\n", 1)[1]  # drop xDSL's bare location line
    return f"{span.get_location()}: error: {message}\n{_clip(context)}".rstrip("\n")


def _clip(context: str) -> str:
    """xDSL's source lines, each above its line of carets, cut to `MAX_LINE` characters
    around the caret (a minified file can be one line of megabytes)."""
    lines = context.split("\n")
    for i in range(0, len(lines) - 1, 2):
        source, carets = lines[i], lines[i + 1]
        if len(source) <= MAX_LINE:
            continue
        column = len(carets) - len(carets.lstrip(" "))
        first = max(0, min(column - MAX_LINE // 2, len(source) - MAX_LINE))
        head = "..." if first else ""
        tail = "..." if first + MAX_LINE < len(source) else ""
        lines[i] = head + source[first:first + MAX_LINE] + tail
        lines[i + 1] = " " * (len(head) + column - first) + carets.strip()[:MAX_LINE]
    return "\n".join(lines)


def format_parse_error(error: ParseError) -> str:
    """One diagnostic for a parse error (plus the spans it refers to, e.g. a first definition)."""
    span = _before_trailing_space(error.span)
    text = format_span(span, _readable(error.msg, span))
    if isinstance(error, MultipleSpansParseError):
        for span, note in error.refs:
            context = span.print_with_context().split("\n", 1)[1].rstrip("\n")
            text += f"\n{span.get_location()}: note: {note or error.ref_text or ''}\n{context}"
    return text


def _before_trailing_space(span: Span[str] | Span[bytes]) -> Span[str] | Span[bytes]:
    """An error at the end of the input just after its last token, as MLIR puts it, rather
    than on the empty line below the file."""
    end = len(span.input.content.rstrip())
    return dataclasses.replace(span, start=end, end=end) if span.start > end else span


def _readable(message: str, span: Span[str] | Span[bytes]) -> str:
    """xDSL's `message`, shortened, with the character at `span` spelled out where needed."""
    char = span.input.content[span.start:span.start + 1]
    if isinstance(char, str) and char:
        # xDSL 0.74: the lexer's message is an f-string without its `f`.
        message = message.replace("{first_char}", f"'{char}'")
        if message.startswith("Unexpected character") and not char.isprintable():
            message = f"unexpected character U+{ord(char):04X}"
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "..."


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
        where = f"{loc.filename.data}:{loc.line.data}:{loc.column.data}: "
    return f"{where}error: {message}\n  {_print_op(op)}"


# ---------------------------------------------------------------------------------------
# Verification.
# ---------------------------------------------------------------------------------------


def verify(module: ModuleOp, spans: OpSpans | None = None, after: str | None = None) -> None:
    """Verify `module`; on failure raise `VerifyException` holding one located diagnostic
    (`after`: the pass that just ran, named in the message)."""
    suffix = f" (after pass '{after}')" if after else ""
    try:  # at Python's own limit first: the limit is process-wide, so changed only when needed
        _verify(module, spans or {}, suffix)
        return
    except RecursionError:
        pass
    with deep_recursion():
        try:
            _verify(module, spans or {}, suffix)
        except RecursionError:
            raise VerifyException(f"error: the IR is nested too deeply to verify{suffix}") from None


def _verify(module: ModuleOp, spans: OpSpans, suffix: str) -> None:
    try:
        module.verify()
        check_dominance(module)
        return
    except DominanceError as e:
        raise VerifyException(format_op_error(e.op, f"{e}{suffix}", spans)) from None
    except VerifyException as e:
        first = e
    # xDSL's exception does not say which op failed: find it, in xDSL's order (nested first).
    for op in module.walk(region_first=True):
        try:
            op.verify(verify_nested_ops=False)
        except VerifyException as e:
            culprit, message = _culprit(op, str(e))
            raise VerifyException(format_op_error(culprit, f"{message}{suffix}", spans)) from None
    raise VerifyException(f"error: {first}{suffix}") from None


def _culprit(op: Operation, message: str) -> tuple[Operation, str]:
    """The op to blame for `op`'s failure and what to say: for a symbol defined twice, the
    second definition (as MLIR does), not the symbol table holding both."""
    twice = re.search(r'Redefinition of symbol "(.*)"', message)
    if twice is None or not op.regions or not op.regions[0].blocks:
        return op, message
    named = [o for o in op.regions[0].blocks[0].ops
             if o.get_attr_or_prop("sym_name") == StringAttr(twice[1])]
    if len(named) < 2:
        return op, message
    return named[1], f"redefinition of symbol named '{twice[1]}'"


# ---------------------------------------------------------------------------------------
# Parsing.
# ---------------------------------------------------------------------------------------

_USER_ERRORS = (DiagnosticException, ValueError, OverflowError)
"""What xDSL 0.74 raises, instead of a `ParseError`, for an attribute, type or op built from
text that fails its own checks (`300 : i8`, a bad property)."""


@dataclasses.dataclass
class _CheckedElement(AttrParser._TensorLiteralElement):
    """An element of a dense literal that checks an integer against its type where it stands
    (xDSL 0.74 raises a bare ValueError once the whole literal is read)."""

    def to_type(self, parser: AttrParser,
                type: Attribute) -> int | float | tuple[int, int] | tuple[float, float]:
        value = super().to_type(parser, type)  # type: ignore[arg-type]
        if (isinstance(type, IntegerType) and isinstance(value, int)
                and type.normalized_value(value) is None):
            low, high = type.value_range()
            parser.raise_error(f"integer constant {value} out of range for {type} "
                               f"[{low}, {high})", self.span)
        return value


class LocatingParser(Parser):
    """xDSL's parser, remembering where each op starts so verifier errors can point there,
    and answering malformed text with a located `ParseError` where xDSL 0.74 does not."""

    def __init__(self, ctx: Context, text: str | bytes, name: str, line_offset: int = 0):
        if isinstance(text, bytes):
            text = _decode(text, name, line_offset)
        self.line_offset = line_offset
        self.op_spans: OpSpans = {}
        # Where each forward reference is first used.
        self._first_uses: dict[str, Span[str]] = {}
        self._open_regions: list[Span] = []  # the `{` of each region being parsed
        self._dense_typed_at: int | None = None
        super().__init__(ctx, text, name)  # lexes the first token: may raise a ParseError

    def parse_module(self, allow_implicit_module: bool = True) -> ModuleOp:
        with deep_recursion():
            try:
                module = super().parse_module(allow_implicit_module)
            except RecursionError:
                self.raise_error("nested too deeply for tiers to parse (more than "
                                 f"{RECURSION_LIMIT} Python frames)")
            except ParseError as e:
                if not (allow_implicit_module and self._current_token.kind == MLIRTokenKind.EOF
                        and e.msg == "Could not parse entire input!"):
                    raise self._relocated(e) from None
                # mlir-opt reads a file of no operations (empty, comments, aliases) as an
                # empty module; xDSL 0.74 rejects it.
                module = ModuleOp([])
        self.op_spans.setdefault(module, Span(0, 0, self.lexer.input, self.line_offset))
        return module

    def _relocated(self, error: ParseError) -> ParseError:
        """`error` where MLIR reports it, for the errors xDSL 0.74 reports elsewhere."""
        if error.msg.startswith("values used but not defined") and self.forward_ssa_references:
            self._undefined(lambda use: True)  # xDSL 0.74: at the end of the file
        if error.msg.startswith("region ends with missing block") and isinstance(
                error, MultipleSpansParseError) and error.refs:
            # xDSL 0.74: at the end of the region.
            use = error.refs[0][0]
            return ParseError(use, f"reference to an undefined block {use.text}")
        if error.msg == "Could not parse entire input!":  # xDSL 0.74: says not what it found
            token = self._current_token
            return ParseError(token.span, f"expected an operation, found {_found(token)}")
        return error

    def parse_operation(self) -> Operation:
        start = self._current_token.span
        try:
            op = super().parse_operation()
        except _USER_ERRORS as e:
            raise ParseError(start, str(e)) from None
        self.op_spans[op] = Span(start.start, start.start, self.lexer.input, self.line_offset)
        if self.forward_ssa_references and op.has_trait(IsolatedFromAbove):
            # Nothing outside can define what is used inside: report it now, as MLIR does at
            # the end of the function, not at the end of the file (xDSL 0.74).
            self._undefined(lambda use: use.start >= start.start)
        return op

    def _undefined(self, chosen: Callable[[Span[str]], bool]) -> None:
        """Raise at the first use of a value still undefined, among the uses `chosen`."""
        uses = [(use, name) for name in self.forward_ssa_references
                if (use := self._first_uses.get(name)) is not None and chosen(use)]
        if uses:
            use, name = min(uses, key=lambda u: u[0].start)
            self.raise_error(f"use of undeclared SSA value %{name}", use)

    def parse_optional_attribute(self) -> Attribute | None:
        start = self._current_token.span
        try:
            return super().parse_optional_attribute()
        except _USER_ERRORS as e:
            raise ParseError(start, str(e)) from None

    def parse_optional_type(self) -> TypeAttribute | None:
        start = self._current_token.span
        try:
            return super().parse_optional_type()
        except _USER_ERRORS as e:
            raise ParseError(start, str(e)) from None

    def resolve_operand(self, operand: UnresolvedOperand,
                        type: AttributeInvT) -> SSAValue[AttributeInvT]:
        name = operand.operand_name
        if name not in self.ssa_values and name not in self.forward_ssa_references:
            self._first_uses[name] = operand.span
        return super().resolve_operand(operand, type)

    def parse_optional_region(
            self, arguments: Iterable[Parser.Argument] | None = None) -> Region | None:
        self._open_regions.append(self._current_token.span)
        try:
            return super().parse_optional_region(arguments)
        finally:
            self._open_regions.pop()

    def _parse_block(self) -> Block:
        token = self._current_token
        if token.kind != MLIRTokenKind.CARET_IDENT and self._open_regions:
            # xDSL 0.74: "error:  in block definition", with no word of what is wrong.
            raise MultipleSpansParseError(
                token.span, f"expected '}}' to close the region, found {_found(token)}", None,
                [(self._open_regions[-1], "to match this '{'")])
        name = token.text[1:]
        if name in self.blocks and name not in self.forward_block_references:
            # xDSL 0.74: a KeyError when the first definition followed a forward reference.
            self.raise_error(f"redefinition of block '^{name}'", token.span)
        return super()._parse_block()

    def parse_dense_int_or_fp_elements_attr(
            self, type: RankedStructure[AnyDenseElement] | None) -> DenseIntOrFPElementsAttr:
        start = self.pos  # the `<` after `dense`
        self._dense_typed_at = None
        try:
            return super().parse_dense_int_or_fp_elements_attr(type)
        except ParseError as e:
            text = self.lexer.input.content
            closed = (self._dense_typed_at == self.pos if type is None
                      else ">" in text[start + 1:self.pos])
            if not (closed and e.span.start == self.pos):
                raise
            # xDSL 0.74: a literal that does not fit its type is reported at the next token,
            # often the next line; MLIR reports it at the literal.
            keyword = text.rfind("dense", 0, start)
            raise ParseError(Span(keyword if keyword >= 0 else start, start + 1,
                                  self.lexer.input), e.msg) from None

    def _parse_dense_literal_type(
            self) -> RankedStructure[IntegerType | IndexType | AnyFloat | ComplexType]:
        start = self.pos
        self.parse_optional_type()  # a malformed type raises here, where it is wrong
        self._dense_typed_at = self.pos  # xDSL's checks of a good type raise here
        self._resume_from(start)
        return super()._parse_dense_literal_type()

    def _parse_tensor_literal_element(self) -> AttrParser._TensorLiteralElement:
        element = super()._parse_tensor_literal_element()
        return _CheckedElement(element.is_negative, element.value, element.span)


def _found(token: Token[MLIRTokenKind, str]) -> str:
    """How a diagnostic names what it found instead of what it expected."""
    return "the end of the input" if token.kind == MLIRTokenKind.EOF else f"'{token.text}'"


def _decode(text: bytes, name: str, line_offset: int) -> str:
    """`text` as UTF-8; a located `ParseError` at the first byte that is not (xDSL 0.74 lets
    the UnicodeDecodeError out)."""
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as e:
        at = len(text[:e.start].decode("utf-8"))
        shown = Input(text.decode("utf-8", errors="replace"), name)
        raise ParseError(Span(at, at + 1, shown, line_offset),
                         f"invalid UTF-8 byte 0x{text[e.start]:02x} ({e.reason}); IR text "
                         "must be UTF-8") from None


def parse_module(ctx: Context, text: str | bytes, name: str, line_offset: int = 0,
                 implicit_module: bool = True) -> tuple[ModuleOp, OpSpans]:
    """The module in `text` and where each op starts; `IRParseError` on malformed IR."""
    try:
        parser = LocatingParser(ctx, text, name, line_offset)
        return parser.parse_module(implicit_module), parser.op_spans
    except ParseError as e:
        e.span = dataclasses.replace(e.span, line_offset=line_offset)
        raise IRParseError(format_parse_error(e)) from None
