"""Which op of a program makes the first NaN or Inf: the IR walked op by op, every result checked.

A compiled program only shows that some output is bad; JAX's answer (`jax_debug_nans`) is to
re-run the computation op by op, "de-optimized", until an op's result is bad. tiers' programs
are re-run the same way on their own IR, so the op found is a tiers op: its text, its user line
(`op.location`) and the values it read can be shown, which JAX's re-run of the Python cannot do.

The walk is the JAX target's (`targets/walk.py` with `jax.lax` rules), each rule wrapped to
check what it returns (or to catch JAX's own check of the primitives it runs, when on).
It runs only after a compiled run has seen a bad value, so it costs a normal run nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np
from xdsl.dialects.builtin import ArrayAttr, FileLineColLoc, FusedLoc, ModuleOp
from xdsl.ir import Operation
from xdsl.printer import Printer

from tiers.targets.jax.rules import RULES
from tiers.targets.walk import Walker, find_function


@dataclass
class Invalid:
    """The first op whose result holds a NaN (`kind` "nan") or an Inf ("inf")."""

    op: Operation
    kind: str
    inputs: list[Any]
    text: str  # the op as its function prints it (so its operand names are the IR's)
    input_names: list[str]

    @property
    def where(self) -> str:
        """`file.py:line` of the op's user source line, or "an unknown line"."""
        loc = self.op.location
        if isinstance(loc, FusedLoc):  # ops merged by a pass: the first user line
            inner = loc.locations
            members = inner.data if isinstance(inner, ArrayAttr) else ()
            loc = next((x for x in members if isinstance(x, FileLineColLoc)), loc)
        if isinstance(loc, FileLineColLoc):
            return f"{loc.filename.data}:{loc.line.data}"
        return "an unknown line"

    @property
    def message(self) -> str:
        """One line, as JAX words it: `invalid value (nan) encountered in log`, located."""
        name = self.op.name.split(".", 1)[-1]
        return f"{self.where}: invalid value ({self.kind}) encountered in {name}"

    def notes(self) -> list[str]:
        """The op's text and the values it read, for `add_note` on the error raised."""
        values = "; ".join(f"{n} = {_short(v)}" for n, v in zip(self.input_names, self.inputs))
        return [f"tiers: made by the op `{self.text}` from {self.where}",
                f"tiers: its operands: {values or 'none'}"]


class _Found(Exception):
    def __init__(self, op: Operation, kind: str, inputs: Sequence[Any]):
        self.op, self.kind, self.inputs = op, kind, list(inputs)


def first_invalid(module: ModuleOp, entry: str, args: Sequence[Any], *, nans: bool = True,
                  infs: bool = False) -> Invalid | None:
    """Walk `@entry` of `module` on `args` op by op; the first op that makes a NaN (`nans`) or
    an Inf (`infs`) from operands that had none of that kind, or None if no op does."""
    walker = Walker(module, {cls: _checking(rule, nans, infs) for cls, rule in RULES.items()},
                    "jax")
    try:
        walker.call(entry, list(args))
    except _Found as found:
        text, names = _op_text(module, entry, found.op)
        return Invalid(found.op, found.kind, found.inputs, text, names)
    return None


def _checking(rule: Callable[..., Any], nans: bool, infs: bool) -> Callable[..., Any]:
    def checked(op: Operation, *operands: Any, **kw: Any) -> Any:
        try:
            outs = rule(op, *operands, **kw)
        except FloatingPointError as e:  # JAX's own check (`jax_debug_nans`) spoke first
            raise _Found(op, "inf" if "(inf)" in str(e) else "nan", operands) from None
        results = [outs] if len(op.results) == 1 else list(outs)
        for kind, test, wanted in (("nan", jnp.isnan, nans), ("inf", jnp.isinf, infs)):
            # An op that only passes a bad value on (an add of a NaN) is not its maker.
            if wanted and any(_has(test, r) for r in results) and \
                    not any(_has(test, x) for x in operands):
                raise _Found(op, kind, operands)
        return outs

    return checked


def _has(test: Callable[[Any], Any], value: Any) -> bool:
    dtype = getattr(value, "dtype", None)
    if dtype is None or not jnp.issubdtype(dtype, jnp.inexact):
        return False
    return bool(test(value).any())


def _op_text(module: ModuleOp, entry: str, op: Operation) -> tuple[str, list[str]]:
    """`op` printed with the SSA names its function gives its values, and its operands'
    names (the function is printed once, so the names are those `tiers-opt` shows)."""
    printer = Printer(stream=io.StringIO())
    function = op.parent_op()
    while function is not None and function.parent_op() is not module:
        function = function.parent_op()
    printer.print_op(function or find_function(module, entry))
    out = io.StringIO()
    printer.stream = out
    printer.print_op(op)
    text = out.getvalue().split("\n")[0].strip()
    return text, [f"%{printer._ssa_values[v]}" if v in printer._ssa_values else "?"
                  for v in op.operands]


def _short(value: Any) -> str:
    """A value on one line, long arrays cut (`[-1. 1. ... 3.]`)."""
    array = np.asarray(value)
    text = np.array2string(array, threshold=8, edgeitems=3, separator=", ")
    return " ".join(text.split()) + (f" ({array.dtype}{list(array.shape)})" if array.ndim else "")
