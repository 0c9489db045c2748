"""The xDSL context that knows every dialect tiers IR may contain."""

from __future__ import annotations

from xdsl.context import Context
from xdsl.dialects import get_all_dialects as xdsl_dialects


def tiers_dialects():
    """tiers' own dialects, by name (lazy factories)."""

    def get_lax():
        from tiers.dialects.lax import Lax

        return Lax

    return {"lax": get_lax}


def make_context() -> Context:
    """A fresh context with xDSL's and tiers' dialects registered (loaded lazily)."""
    ctx = Context()
    for name, factory in {**xdsl_dialects(), **tiers_dialects()}.items():
        ctx.register_dialect(name, factory)
    return ctx
