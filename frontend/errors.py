"""Errors raised while tracing a `tiers.jit` function, rewritten to point at the user's line."""

from __future__ import annotations

import os
import traceback
from types import TracebackType

import jax

_INTERNAL = tuple(os.path.dirname(m.__file__ or "") + os.sep for m in (jax,)) + (
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,)


class TracedControlFlowError(TypeError):
    """Python `if`/`while`/`bool()` on a traced value inside `tiers.jit`."""


def user_line(tb: TracebackType | None) -> str:
    """`file:line` of the innermost frame of `tb` outside JAX and tiers."""
    where = "an unknown location"
    for frame in traceback.extract_tb(tb):
        filename = os.path.abspath(frame.filename)
        is_tiers_test = os.sep + "tests" + os.sep in filename or os.sep + "examples" in filename
        if not filename.startswith(_INTERNAL) or is_tiers_test:
            where = f"{frame.filename}:{frame.lineno}"
            if frame.line:
                where += f": {frame.line.strip()}"
    return where


def explain_concretization(error: Exception) -> TracedControlFlowError:
    """The user-facing form of JAX's concretization errors (`if x > 0:` on a tracer)."""
    return TracedControlFlowError(
        f"{user_line(error.__traceback__)}\n"
        "Python control flow depends on a traced value: inside tiers.jit, arrays are "
        "abstract (only shapes and dtypes are known) while the function is traced. "
        "Use tiers.numpy.where / jnp.where for elementwise choices, jax.lax.cond or "
        "jax.lax.switch for branches, jax.lax.while_loop or jax.lax.fori_loop for loops, "
        "or mark the argument static (static_argnums / static_argnames)."
    )
