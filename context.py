"""The xDSL context that knows every dialect tiers IR may contain."""

from __future__ import annotations

import functools

from xdsl.context import Context
from xdsl.universe import Universe


def tiers_dialects():
    """tiers' own dialects, by name (lazy factories)."""

    def get_lax():
        from tiers.dialects.lax import Lax

        return Lax

    def get_fused():
        from tiers.dialects.fused import Fused

        return Fused

    def get_array():
        from tiers.dialects.array import Array

        return Array

    return {"lax": get_lax, "fused": get_fused, "array": get_array}


@functools.cache
def all_dialects():
    """Every dialect by name: xDSL's, tiers' and installed plugins' (xDSL's multiverse)."""
    return {**Universe.get_multiverse().all_dialects, **tiers_dialects()}


def make_context() -> Context:
    """A fresh context with every known dialect registered (each loaded on first use)."""
    ctx = Context()
    for name, factory in all_dialects().items():
        ctx.register_dialect(name, factory)
    return ctx
