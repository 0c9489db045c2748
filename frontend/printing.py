"""`tiers.print`: `jax.debug.print` that also takes tiers Tensors, in every mode.

Inside traced code (`tiers.jit`, `jax.jit`, a `jax.lax` loop body...) it is `jax.debug.print`:
a `lax.debug_print` op that prints each time the compiled program runs. In eager code it
prints at once, as `jax.debug.print` does outside a trace; a lazy Tensor is read as a value,
which runs its pending program first. Tensors print as the arrays they hold, so the text is
the same in every mode.
"""

from __future__ import annotations

from typing import Any

import jax

from tiers.frontend.graph import GraphTensor
from tiers.frontend.tensor import Tensor


def _is_leaf(x: Any) -> bool:
    return isinstance(x, Tensor | GraphTensor)


def _value(x: Any) -> Any:
    if isinstance(x, GraphTensor):
        raise TypeError(
            "tiers.print cannot print a graph tensor: a Session runs only what its fetches "
            "need; fetch the value with Session.run and print that")
    return x._concrete() if isinstance(x, Tensor) else x


def print(fmt: str, *args: Any, **kwargs: Any) -> None:  # noqa: A001 - tiers.print
    """Print `fmt.format(*args, **kwargs)` as `jax.debug.print` does: when a compiled program
    runs (`ordered=True` keeps the order of ordered prints), or at once in eager code."""
    args, kwargs = jax.tree.map(_value, (args, kwargs), is_leaf=_is_leaf)
    jax.debug.print(fmt, *args, **kwargs)
