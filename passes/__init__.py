"""The one pass registry and pipeline parser, shared by `tiers-opt`, `tiers.jit` and plugins.

A pipeline is text in xDSL's (= MLIR's) syntax, `canonicalize,cse,inline`, or a preset name.
The registry is xDSL's multiverse: every package publishing a `Universe` under the
`xdsl.universe` entry point (xDSL itself, tiers, third-party plugins) contributes its passes,
so a plugin's pass is usable by name everywhere a built-in one is.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from xdsl.context import Context
from xdsl.passes import ModulePass, PassPipeline
from xdsl.universe import Universe
from xdsl.utils.arg_spec import parse_pipeline


def tiers_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """tiers' own passes, by name (lazy factories, so the CLI starts fast)."""

    def get_inline():
        from tiers.passes.inline import InlinePass

        return InlinePass

    def get_fuse():
        from tiers.passes.fuse import FusePass

        return FusePass

    return {"inline": get_inline, "fuse": get_fuse}


PRESETS: dict[str, str] = {
    "O0": "",
    "O1": "canonicalize,cse,dce",
    "default": "inline,canonicalize,cse,dce",
}


@functools.cache
def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Every pass usable by name: xDSL's, tiers' and installed plugins'."""
    return {**Universe.get_multiverse().all_passes, **tiers_passes()}


class UnknownPass(ValueError):
    pass


@functools.lru_cache(maxsize=256)
def parse(spec: str) -> PassPipeline:
    """The pipeline for `spec` (a preset name or pass list); unknown names list the known ones."""
    spec = PRESETS.get(spec.strip(), spec).strip()
    available = get_all_passes()
    specs = tuple(parse_pipeline(spec)) if spec else ()
    unknown = [p.name for p in specs if p.name not in available]
    if unknown:
        raise UnknownPass(
            f"unknown pass '{unknown[0]}'. Presets: {', '.join(PRESETS)}. "
            f"Passes: {', '.join(sorted(available))}"
        )
    return PassPipeline(tuple(available[p.name]().from_pass_spec(p) for p in specs))


def run(spec: str, ctx: Context, module) -> None:
    """Apply the pipeline `spec` to `module` in place."""
    parse(spec).apply(ctx, module)
