"""The one pass registry and pipeline parser, shared by `tiers-opt`, `tiers.jit` and plugins.

A pipeline is text in xDSL's (= MLIR's) syntax, `canonicalize,cse,inline`, or a preset name.
The registry is xDSL's multiverse: every package publishing a `Universe` under the
`xdsl.universe` entry point (xDSL itself, tiers, third-party plugins) contributes its passes,
so a plugin's pass is usable by name everywhere a built-in one is.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass, PassPipeline
from xdsl.universe import Universe
from xdsl.utils.arg_spec import ArgSpec, ArgSpecParseError, parse_pipeline


def tiers_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """tiers' own passes, by name (lazy factories, so the CLI starts fast)."""

    def get_inline():
        from tiers.passes.inline import InlinePass

        return InlinePass

    def get_fuse():
        from tiers.passes.fuse import FusePass

        return FusePass

    def get_fold_constants():
        from tiers.passes.fold_constants import FoldConstantsPass

        return FoldConstantsPass

    def get_raise_lax_to_array():
        from tiers.passes.raise_lax_to_array import RaiseLaxToArrayPass

        return RaiseLaxToArrayPass

    def get_convert_array_to_lax():
        from tiers.passes.convert_array_to_lax import ConvertArrayToLaxPass

        return ConvertArrayToLaxPass

    return {"inline": get_inline, "fuse": get_fuse, "fold-constants": get_fold_constants,
            "raise-lax-to-array": get_raise_lax_to_array,
            "convert-array-to-lax": get_convert_array_to_lax}


PRESETS: dict[str, str] = {
    "O0": "",
    "O1": "canonicalize,cse,dce",
    "O2": "inline,canonicalize,fold-constants,cse,dce,raise-lax-to-array,fuse",
}
PRESETS["default"] = PRESETS["O2"]


@functools.cache
def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Every pass usable by name: xDSL's, tiers' and installed plugins'."""
    return {**Universe.get_multiverse().all_passes, **tiers_passes()}


class PipelineError(ValueError):
    """A pipeline that cannot be built: bad syntax, an unknown pass, bad options."""


def specs(spec: str) -> list[ArgSpec]:
    """The passes of `spec`, presets expanded in place (`inline,O1` is fine)."""
    try:
        parsed = list(parse_pipeline(spec.strip())) if spec.strip() else []
    except ArgSpecParseError as e:  # a BaseException in xDSL 0.74
        # xDSL's text is a header, `pass-pipeline:1:COL`, the spec, a caret and the reason.
        lines = [line for line in str(e).splitlines() if line.strip()]
        column = lines[1].rsplit(":", 1)[-1] if len(lines) > 1 else "?"
        raise PipelineError(f"bad pipeline '{spec}' at column {column}: "
                            f"{lines[-1].strip()}") from None
    expanded: list[ArgSpec] = []
    for s in parsed:
        if s.name in PRESETS and not s.parameters:
            expanded.extend(parse_pipeline(PRESETS[s.name]) if PRESETS[s.name] else [])
        else:
            expanded.append(s)
    available = get_all_passes()
    for s in expanded:
        if s.name not in available:
            close = difflib.get_close_matches(s.name, [*available, *PRESETS], n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            presets = ", ".join(f"{k} = {v or '(none)'}" for k, v in PRESETS.items())
            raise PipelineError(f"unknown pass '{s.name}'{hint}\npresets: {presets}\n"
                                f"passes: {', '.join(sorted(available))}")
    return expanded


def build(arg_specs: list[ArgSpec]) -> tuple[ModulePass, ...]:
    """The pass objects of `arg_specs`; `PipelineError` for options a pass does not take."""
    available, passes = get_all_passes(), []
    for s in arg_specs:
        try:
            passes.append(available[s.name]().from_pass_spec(s))
        except (ValueError, TypeError) as e:
            raise PipelineError(f"bad options for pass '{s.name}': {e}") from None
    return tuple(passes)


@functools.lru_cache(maxsize=256)
def parse(spec: str) -> PassPipeline:
    """The pipeline for `spec` (presets and passes, MLIR syntax); `PipelineError` if invalid."""
    return PassPipeline(build(specs(spec)))


def run(spec: str, ctx: Context, module: ModuleOp) -> None:
    """Apply the pipeline `spec` to `module` in place."""
    from tiers.passes.collector import gc_paused

    with gc_paused():
        parse(spec).apply(ctx, module)
