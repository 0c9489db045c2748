"""The JAX target: tiers IR -> one `jax.jit` computation -> an XLA executable.

`to_callable` gives a plain JAX function that walks the IR with `jax.lax` rules; `compile`
wraps it in `jax.jit`, so XLA compiles the whole function at once and later calls never
look at the IR. Nothing here is CPU-specific: it runs on whatever `jax.devices()` offers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
from xdsl.dialects.builtin import ModuleOp

from tiers.targets.jax.rules import RULES
from tiers.targets.walk import Walker, find_function


def to_callable(module: ModuleOp, entry: str = "main") -> Callable[..., list[Any]]:
    """A traceable JAX function computing `@entry` of `module` (flat args -> list of outs)."""
    find_function(module, entry)
    walker = Walker(module, RULES, "jax")

    def run(*args: Any) -> list[Any]:
        return walker.call(entry, args)

    return run


def compile(module: ModuleOp, entry: str = "main") -> Callable[..., list[Any]]:  # noqa: A001
    """`@entry` of `module` as a `jax.jit`-compiled function."""
    return jax.jit(to_callable(module, entry))
