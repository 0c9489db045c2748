"""The xDSL context that knows every dialect tiers IR may contain."""

from __future__ import annotations

import functools
from collections.abc import Callable

from xdsl.context import Context
from xdsl.ir import Dialect


def tiers_dialects() -> dict[str, Callable[[], Dialect]]:
    """tiers' own dialects, by name (lazy factories)."""

    def get_lax() -> Dialect:
        from tiers.dialects.lax import Lax

        return Lax

    def get_fused() -> Dialect:
        from tiers.dialects.fused import Fused

        return Fused

    def get_array() -> Dialect:
        from tiers.dialects.array import Array

        return Array

    return {"lax": get_lax, "fused": get_fused, "array": get_array}


@functools.cache
def all_dialects() -> dict[str, Callable[[], Dialect]]:
    """Every dialect by name: xDSL's, tiers' and plugins' (`tiers.pipeline.registry`)."""
    from tiers.pipeline import registry as plugins

    return plugins.registry().dialects


def make_context() -> Context:
    """A fresh context with every known dialect registered (each loaded on first use); it also
    learns the dialects of plugins loaded later (`tiers.pipeline.load_plugin`)."""
    from tiers.pipeline import registry as plugins

    ctx = Context()
    for name, factory in all_dialects().items():
        ctx.register_dialect(name, factory)
    return plugins.track_context(ctx)
