"""NaN and Inf checking for `tiers.jit`: JAX's `jax_debug_nans` re-run, told in tiers' IR.

`tiers.config.check_nans(True)` is `jax.debug_nans(True)` (one switch, JAX's): every compiled
output is checked (the only cost of a run that sees no NaN), and a bad one makes JAX re-run the
computation op by op. For a `tiers.jit` call that re-run is `deoptimized`: the user's Python runs
again under the check, so the error is JAX's, raised at the user's line, and tiers adds which op
of its IR made the value, with the op's text and the values it read (targets/jax/checking.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
from jax._src import config as jax_config

from tiers.frontend.importer import import_jaxpr
from tiers.passes.collector import gc_paused
from tiers.targets.jax.checking import first_invalid


def deoptimized(fun: Any, args: Sequence[Any]) -> Any:
    """The body `fun` of a `tiers_call` run op by op under JAX's checks; a NaN or Inf error it
    raises gets notes naming the tiers op that made the value."""
    try:
        return fun.call_wrapped(*args)
    except FloatingPointError as error:
        for note in _notes(fun, args):
            error.add_note(note)
        raise


def _notes(fun: Any, args: Sequence[Any]) -> list[str]:
    """What the walk of the body's imported IR finds (nothing if the body cannot be traced
    again: the error JAX raised still stands on its own)."""
    try:
        closed = jax.make_jaxpr(lambda *a: fun.call_wrapped(*a))(*args)
        with gc_paused():
            module = import_jaxpr(closed, "main")
        found = first_invalid(module, "main", args,
                              nans=jax_config.debug_nans.value,
                              infs=jax_config.debug_infs.value)
    except Exception:  # a second trace that fails must not hide the user's error
        return []
    return [] if found is None else found.notes()
