"""The xDSL context that knows every dialect tiers IR may contain."""

from __future__ import annotations

from xdsl.context import Context

from tiers.pipeline import registry


def make_context() -> Context:
    """A fresh context with every known dialect registered (each loaded on first use); it also
    learns the dialects of plugins loaded later (`tiers.pipeline.load_plugin`)."""
    ctx = Context()
    for name, factory in registry.registry().dialects.items():
        ctx.register_dialect(name, factory)
    return registry.track_context(ctx)
