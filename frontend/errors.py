"""Errors raised while tracing a `tiers.jit` function, rewritten to point at the user's line."""

from __future__ import annotations

import os
import re
import traceback
from types import TracebackType

import jax

_INTERNAL = tuple(os.path.dirname(m.__file__ or "") + os.sep for m in (jax,)) + (
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,)


class TracedControlFlowError(jax.errors.ConcretizationTypeError):
    """Python `if`/`while`/`bool()` on a traced value inside `tiers.jit`: JAX's error type, so
    code catching `jax.errors.ConcretizationTypeError` (or `TypeError`) still does."""

    def __init__(self, message: str):  # JAX's takes a tracer; ours is built from its text
        TypeError.__init__(self, message)


class CarriedTypeError(TypeError):
    """A `lax` loop body or branch whose outputs do not match its carried (or sibling) types."""


def _user_frame(tb: TracebackType | None) -> traceback.FrameSummary | None:
    """The innermost frame of `tb` outside JAX and tiers (tiers' tests and examples count)."""
    found = None
    for frame in traceback.extract_tb(tb):
        filename = os.path.abspath(frame.filename)
        is_tiers_test = os.sep + "tests" + os.sep in filename or os.sep + "examples" in filename
        if not filename.startswith(_INTERNAL) or is_tiers_test:
            found = frame
    return found


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


def explain_concretization(error: Exception) -> TracedControlFlowError:
    """The user-facing form of JAX's concretization errors (`if x > 0:` on a tracer)."""
    frame = _user_frame(error.__traceback__)
    words = (frame.line or "").split() if frame is not None else []
    keyword = {"while": "while", "if": "if", "elif": "if", "assert": "if"}.get(
        words[0] if words else "")
    advice = _ADVICE.get(keyword or "", (
        "Use tiers.numpy.where / jnp.where for elementwise choices, jax.lax.cond or "
        "jax.lax.switch for branches, jax.lax.while_loop or jax.lax.fori_loop for loops."))
    return TracedControlFlowError(
        f"{user_line(error.__traceback__)}\n"
        "Python control flow depends on a traced value: inside tiers.jit, arrays are "
        f"abstract (only shapes and dtypes are known) while the function is traced. {advice} "
        "Or mark the argument static (static_argnums / static_argnames)."
    )


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
