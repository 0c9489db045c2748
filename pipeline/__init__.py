"""What runs passes and is not a pass: the registry, pipelines, running and checking them.

Every entry point (`tiers.jit`, eager kernels, `record`, `Session`, `tiers.load`'s recompile,
`tiers-run`, `tiers-opt`) parses, checks, runs and verifies pipelines through this package:
- `registry.py`: one registry of passes and dialects. It merges every `Universe` published
  under the `xdsl.universe` entry point (xDSL itself, tiers, third-party plugins) and plugins
  loaded with `load_plugin`, so a plugin's pass is usable by name everywhere a built-in one
  is; `context.py` makes the xDSL `Context` that knows its dialects.
- here: a pipeline is text in xDSL's (= MLIR's) syntax, `canonicalize,cse,inline`, or a
  preset name; `parse` turns it into pass objects once (cached) and checks the dialect
  contract each pass declares (`check.py`, the contract itself is `passes/authoring.py`).
- `instrument.py`: runs passes, with printing, timing, statistics, verification after each
  pass and semantic checks (`semantics.py`) when a `Debug` asks, and crash reproducers.
- `verify.py`, `dominance.py`: verification with located, MLIR-style diagnostics.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Sequence

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass, get_pass_option_infos
from xdsl.utils.arg_spec import ArgSpec, ArgSpecParseError, parse_pipeline
from xdsl.utils.exceptions import VerifyException

from tiers.pipeline import registry
from tiers.pipeline.check import check_spec
from tiers.pipeline.dominance import check_dominance
from tiers.pipeline.instrument import Debug, PassFailure, run_passes
from tiers.pipeline.registry import PluginError, load_plugin

__all__ = ["PRESETS", "Debug", "PassFailure", "PipelineError", "PluginError", "build",
           "get_all_passes", "load_plugin", "parse", "run", "specs", "verify_result"]

PRESETS: dict[str, str] = {
    "O0": "",
    "O1": "canonicalize,licm,cse,dce",
    "O2": "inline,canonicalize,licm,fold-constants,cse,dce,raise-lax-to-array,fuse",
}
PRESETS["default"] = PRESETS["O2"]


@functools.cache
def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Every pass usable by name: xDSL's, tiers' and plugins' (`PluginError` on a name clash)."""
    return registry.registry(rebuild=True).passes


class PipelineError(ValueError):
    """A pipeline that cannot be built: bad syntax, an unknown pass, bad options."""


def _malformed(spec: str, error: ArgSpecParseError) -> PipelineError:
    """xDSL's text is a header, `pass-pipeline:1:COL`, the spec, a caret and the reason."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    column = lines[1].rsplit(":", 1)[-1] if len(lines) > 1 else "?"
    caret = " " * (int(column) - 1) + "^" if column.isdigit() else ""
    return PipelineError(f"bad pipeline at column {column}: {lines[-1].strip()}\n"
                         f"  {spec.strip()}\n  {caret}")


def specs(spec: str) -> list[ArgSpec]:
    """The passes of `spec`, presets expanded in place (`inline,O1` is fine)."""
    try:
        parsed = list(parse_pipeline(spec.strip())) if spec.strip() else []
    except ArgSpecParseError as e:  # a BaseException in xDSL 0.74
        raise _malformed(spec, e) from None
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


def describe_options(pass_cls: type[ModulePass]) -> str:
    """`name: type = default` for each option of `pass_cls` (MLIR spells names with '-')."""
    infos = get_pass_option_infos(pass_cls)
    return ", ".join(f"{i.name.replace('_', '-')}: {i.expected_type.strip(chr(39))}"
                     + (f" = {i.default_value}" if i.default_value is not None else "")
                     for i in infos) or "(none)"


def build(arg_specs: list[ArgSpec]) -> tuple[ModulePass, ...]:
    """The pass objects of `arg_specs`; `PipelineError` for options a pass does not take."""
    available, passes = get_all_passes(), []
    for s in arg_specs:
        cls = available[s.name]()
        try:
            passes.append(cls.from_pass_spec(s))
        except (ValueError, TypeError) as e:
            known = {i.name for i in get_pass_option_infos(cls)}
            unknown = [k for k in s.normalize_parameter_names().parameters if k not in known]
            what = (f"unknown option '{unknown[0].replace('_', '-')}'" if unknown
                    else f"bad option value ({e})")
            raise PipelineError(f"pass '{s.name}': {what}; its options: "
                                f"{describe_options(cls)}") from None
    return tuple(passes)


@functools.lru_cache(maxsize=256)
def parse(spec: str) -> tuple[ModulePass, ...]:
    """The passes of `spec` (presets and passes, MLIR syntax), checked against what each
    declares (`check.py`); `PipelineError` if invalid."""
    from tiers.pipeline.check import check

    built = build(specs(spec))
    check(built)
    return built


def run(spec: str, ctx: Context, module: ModuleOp, *, debug: Debug | None = None,
        name: str = "module", replay: Callable[[], ModuleOp] | None = None) -> None:
    """Apply the pipeline `spec` to `module` in place; `debug` adds printing, timing and
    checks. A failing pass is named on its exception; with `replay` (a function giving the
    input module again) a reproducer `<name>.reproducer.mlir` is written (instrument.py)."""
    run_passes(parse(spec), ctx, module, debug, name=name, replay=replay)


def verify_result(spec: str, ctx: Context, module: ModuleOp, *, name: str = "module",
                  replay: Callable[[], ModuleOp] | None = None) -> None:
    """Verify `module` after pipeline `spec`; if it is invalid and `replay` gives the input
    again, rerun the pipeline verifying after each pass, to name the pass that broke it."""
    try:
        module.verify()
        check_dominance(module)
    except VerifyException:
        if replay is None:
            raise
        run_passes(parse(spec), ctx, replay(), Debug(verify_each=True), name=name,
                   replay=replay)
        raise  # the rerun did not fail: report what the first run found


def pass_names(passes: Sequence[ModulePass]) -> str:
    """The pipeline text of `passes` (with their options), e.g. `cse,fuse{max_ops=8}`."""
    return ",".join(str(p.pipeline_pass_spec()) for p in passes)


def _invalidate() -> None:
    get_all_passes.cache_clear()
    parse.cache_clear()
    check_spec.cache_clear()


registry.on_change(_invalidate)
