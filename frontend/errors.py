"""Errors raised while tracing a `tiers.jit` function, rewritten to point at the user's line.

Each is a subclass of the error JAX raises for the same mistake under `jax.jit`, so an
`except jax.errors.ConcretizationTypeError` (or `TracerBoolConversionError`, ...) written for
JAX still catches it; its message is tiers' (the user's line and what to write instead).
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from types import FrameType, TracebackType

import jax
import numpy as np

from tiers.frontend.tracebacks import is_library_file

# Frames inside these are not the user's: JAX and numpy (`np.asarray(tracer)` fails inside it);
# nor are tiers' library's (`tracebacks.is_library_file`: its tests, examples, benchmarks and
# compat suites are user code).
_INTERNAL = tuple(os.path.dirname(m.__file__ or "") + os.sep for m in (jax, np))


class TracedValueError(TypeError):
    """A traced value used where Python needs a concrete one, inside `tiers.jit`: the base of
    tiers' forms of JAX's tracer errors (each also subclasses JAX's own, below)."""

    def __init__(self, message: str):  # JAX's take a tracer; ours are built from its text
        TypeError.__init__(self, message)  # nor do they append JAX's error-page line


class TracedControlFlowError(TracedValueError, jax.errors.ConcretizationTypeError):
    """A concrete value needed from a traced one (`float(x)`, `if`/`while` on it): JAX's
    `ConcretizationTypeError`."""


class TracedBoolConversionError(TracedControlFlowError, jax.errors.TracerBoolConversionError):
    """Python `if`/`while`/`bool()` on a traced value: JAX's `TracerBoolConversionError`."""


class TracedIntegerConversionError(TracedValueError, jax.errors.TracerIntegerConversionError):
    """A traced value used as a Python int (`range(x)`, `lst[x]`): JAX's
    `TracerIntegerConversionError`."""


class TracedArrayConversionError(TracedValueError, jax.errors.TracerArrayConversionError):
    """A traced value turned into a numpy array (`np.asarray(x)`, `np.sin(x)`): JAX's
    `TracerArrayConversionError`."""


# JAX's error type -> tiers' form of it; the most specific first (bool is a concretization).
_FORMS: tuple[tuple[type[Exception], type[TracedValueError]], ...] = (
    (jax.errors.TracerBoolConversionError, TracedBoolConversionError),
    (jax.errors.ConcretizationTypeError, TracedControlFlowError),
    (jax.errors.TracerIntegerConversionError, TracedIntegerConversionError),
    (jax.errors.TracerArrayConversionError, TracedArrayConversionError),
)
EXPLAINED = tuple(jax_type for jax_type, _ in _FORMS)  # what `explain_concretization` takes


class CarriedTypeError(TypeError):
    """A `lax` loop body or branch whose outputs do not match its carried (or sibling) types."""


def _is_internal(filename: str) -> bool:
    """Inside JAX, numpy or tiers' library (tiers' tests and examples are user code)."""
    return os.path.abspath(filename).startswith(_INTERNAL) or is_library_file(filename)


def _user_frame(tb: TracebackType | None) -> traceback.FrameSummary | None:
    """The innermost frame of `tb` outside JAX and tiers (tiers' tests and examples count)."""
    found = None
    for frame in traceback.extract_tb(tb):
        if not _is_internal(frame.filename):
            found = frame
    return found


def user_stacklevel() -> int:
    """The `stacklevel` for `warnings.warn`, called from the function calling this one, that
    names the innermost caller outside JAX and tiers (Python 3.11 has no
    `skip_file_prefixes`)."""
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and _is_internal(frame.f_code.co_filename):
        frame, level = frame.f_back, level + 1
    return level


def user_line(tb: TracebackType | None) -> str:
    """`file:line: source` of the innermost frame of `tb` outside JAX and tiers."""
    frame = _user_frame(tb)
    if frame is None:
        return "an unknown location"
    where = f"{frame.filename}:{frame.lineno}"
    return f"{where}: {frame.line.strip()}" if frame.line else where


_ADVICE = {
    "while": "A Python `while` loop on a traced value cannot be traced: use "
             "jax.lax.while_loop(cond_fun, body_fun, init) (or jax.lax.fori_loop for a counted "
             "loop), whose condition is computed on device.",
    "if": "A Python `if` on a traced value cannot be traced: use jax.lax.cond(pred, "
          "true_fun, false_fun, *operands) or jax.lax.switch for branches, or jnp.where for "
          "elementwise choices.",
}
_ABSTRACT = ("inside tiers.jit, arrays are abstract (only shapes and dtypes are known) while "
             "the function is traced.")
_STATIC = "Or mark the argument static (static_argnums / static_argnames)."


def explain_concretization(error: Exception) -> TracedValueError:
    """The user-facing form of JAX's tracer errors (`if x > 0:`, `range(x)`, `np.asarray(x)`
    on a tracer): the subclass of `type(error)` in `_FORMS`, naming the user's line."""
    form = next(ours for theirs, ours in _FORMS if isinstance(error, theirs))
    where = user_line(error.__traceback__)
    if form is TracedIntegerConversionError:
        return form(f"{where}\nA traced value is used as a Python int (range(), an index into "
                    f"a list or tuple, a shape): {_ABSTRACT} Use jax.lax.fori_loop for a loop "
                    f"of traced length and array indexing (x[i], jnp.take) for a traced index. "
                    f"{_STATIC}")
    if form is TracedArrayConversionError:
        return form(f"{where}\nA traced value is converted to a numpy array (np.asarray, a "
                    f"numpy function): {_ABSTRACT} Use jax.numpy on traced values, or "
                    f"jax.pure_callback to run host code on them. {_STATIC}")
    frame = _user_frame(error.__traceback__)
    words = (frame.line or "").split() if frame is not None else []
    keyword = {"while": "while", "if": "if", "elif": "if", "assert": "if"}.get(
        words[0] if words else "")
    advice = _ADVICE.get(keyword or "", (
        "Use tiers.numpy.where / jnp.where for elementwise choices, jax.lax.cond or "
        "jax.lax.switch for branches, jax.lax.while_loop or jax.lax.fori_loop for loops."))
    return form(f"{where}\nPython control flow depends on a traced value: {_ABSTRACT} "
                f"{advice} {_STATIC}")


# JAX's trace-time messages for loops and branches whose output types do not match.
_CARRY = re.compile(r"^(while_loop|scan) body function carry input and carry output must "
                    r"have equal types|^(cond) branches must have equal output types|"
                    r"^(switch|cond) branch outputs must have the same types")
_KINDS = ("fori_loop", "while_loop", "scan", "switch", "cond", "map", "associative_scan")


def explain_carried_type(error: TypeError) -> CarriedTypeError | None:
    """A tiers error naming the loop kind and the user's line, for JAX's carried-type (or
    branch-type) mismatch at trace time; None for any other TypeError."""
    message = str(error)
    match = _CARRY.match(message)
    if match is None:
        return None
    frame = _user_frame(error.__traceback__)
    source = (frame.line or "") if frame is not None else ""
    # The user's call names the loop (`fori_loop` reaches JAX as a scan or a while_loop).
    kind = next((k for k in _KINDS if re.search(rf"\b{k}\s*\(", source)),
                next(g for g in match.groups() if g))
    what = "branch" if kind in ("cond", "switch") else "loop"
    detail = "\n".join(line for line in message.splitlines()[1:] if line.strip())
    return CarriedTypeError(
        f"{user_line(error.__traceback__)}\n"
        f"jax.lax.{kind}: the {what} body changes the type of a carried value; every output "
        f"must have the shape and dtype of the corresponding input"
        f"{' (all branches must return the same types)' if what == 'branch' else ''}.\n"
        f"{detail}")
