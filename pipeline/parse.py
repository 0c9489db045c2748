"""Pipeline text to a `Pipeline` value: parsed, built and order-checked once.

A pipeline is text in xDSL's (= MLIR's) syntax, `canonicalize,cse,fuse{max-ops=64}`, where a
preset name (`O0`, `O1`, `O2`, `default`) stands for its passes. `parse` turns it into a
`Pipeline`: the pass objects, and the canonical text (presets expanded, options spelled out)
that identifies it. Equal canonical texts under one plugin set are equal pipelines, so a
`Pipeline` keys caches (`tiers.jit`'s call options, eager kernels, compiled programs).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

from xdsl.passes import ModulePass, get_pass_option_infos
from xdsl.utils.arg_spec import ArgSpec, ArgSpecParseError, parse_pipeline

from tiers.pipeline import registry
from tiers.pipeline.check import PipelineError, check
from tiers.pipeline.config import SETTINGS
from tiers.pipeline.messages import closest, suggestion

# Where the whole list of passes is, for messages that name a few (`messages.closest`).
LIST_PASSES = "tiers-opt --list-passes lists them all"

PRESETS: dict[str, str] = {
    "O0": "",
    "O1": "canonicalize,licm,cse,dce",
    "O2": "inline,canonicalize,licm,fold-constants,cse,dce,raise-lax-to-array,fuse",
}
PRESETS["default"] = PRESETS["O2"]


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Every pass usable by name: xDSL's, tiers' and plugins' (`PluginError` on a name clash)."""
    return registry.registry().passes


class Pipeline:
    """A parsed, checked pipeline: immutable, hashable, printable back to its text.

    `passes`: the pass objects, in order. `text`: the canonical text (`str(p)`), which parses
    back to an equal pipeline. `spec`: the text as the user wrote it (`default`), for display.
    Two pipelines are equal when their canonical texts are, under the same plugin set.
    """

    __slots__ = ("passes", "text", "spec", "generation", "_hash")

    def __init__(self, passes: tuple[ModulePass, ...], spec: str, generation: int):
        self.passes = passes
        self.text = ",".join(str(p.pipeline_pass_spec()) for p in passes)
        self.spec = spec.strip()
        self.generation = generation
        self._hash = hash((self.text, generation))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pipeline) and (self.text, self.generation) == (
            other.text, other.generation)

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Pipeline({self.spec!r})"

    def __len__(self) -> int:
        return len(self.passes)

    def __iter__(self) -> Iterator[ModulePass]:
        return iter(self.passes)

    def __getitem__(self, i: int) -> ModulePass:
        return self.passes[i]

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, "_hash"):
            raise AttributeError("a Pipeline is immutable")
        object.__setattr__(self, name, value)

    def check(self, initial: frozenset[str] | None = None) -> None:
        """`PipelineError` if a pass requires a dialect that cannot be present where it runs
        on input holding the dialects `initial` (None: unknown; `check.py` says how)."""
        check(self.passes, initial)


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
            hint = suggestion(s.name, [*available, *PRESETS])
            what = ("a preset takes no options" if s.name in PRESETS
                    else f"unknown pass '{s.name}'{hint}")
            presets = ", ".join(f"{k} = {v or '(none)'}" for k, v in PRESETS.items())
            raise PipelineError(f"{what}\npresets: {presets}\n"
                                f"passes: {closest(s.name, available, LIST_PASSES)}")
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


def parse(spec: str | Pipeline) -> Pipeline:
    """The `Pipeline` of `spec` (presets and passes, MLIR syntax), checked against what each
    pass declares (`check.py`); `PipelineError` if invalid. Cached per plugin set; a
    `Pipeline` from an earlier plugin set is parsed again from its text."""
    if isinstance(spec, Pipeline):
        if spec.generation == SETTINGS.generation:
            return spec
        return _parse(spec.spec, SETTINGS.generation)
    return _parse(spec, SETTINGS.generation)


@functools.lru_cache(maxsize=256)
def _parse(spec: str, generation: int) -> Pipeline:
    passes = build(specs(spec))
    check(passes)
    return Pipeline(passes, spec, generation)
