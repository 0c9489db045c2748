"""Pipeline checking before anything runs, from the dialect contract passes declare.

Each pass may declare `requires`, `produces` and `removes` (tuples of dialect names, see
`authoring.py`). Walking the pipeline with the set of dialects that may be present, a pass is
rejected when a dialect it requires cannot be there: an earlier pass removed it, or the input
has none and only a later pass produces it (a pass on `fused` regions placed before `fuse`).
Passes that declare nothing are never rejected.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from tiers.passes.authoring import contract


class PipelineError(ValueError):
    """A pipeline that cannot be built or cannot work: bad syntax, an unknown pass, bad
    options, passes in an order that cannot work."""

# What the jaxpr importer emits: the dialects present before a `tiers.jit` pipeline runs.
IMPORT_DIALECTS = frozenset({"builtin", "func", "lax", "array"})


def check(passes: Sequence[ModulePass], initial: frozenset[str] | None = None) -> None:
    """Raise `PipelineError` if a pass of `passes` requires a dialect that cannot be present
    where it runs; `initial`: the dialects of the input (None: unknown, anything may be)."""
    present = None if initial is None else set(initial)
    removed_by: dict[str, str] = {}
    for i, p in enumerate(passes):
        c = contract(p)
        for d in c.requires:
            problem = None
            if d in removed_by:
                problem = (f"'{removed_by[d]}' before it removes every '{d}' op; "
                           f"run '{p.name}' before '{removed_by[d]}'")
            elif present is not None and d not in present:
                later = next((q.name for q in passes[i + 1:] if d in contract(q).produces), None)
                if later is not None:
                    problem = (f"the input has no '{d}' ops and '{later}' creates them only "
                               f"later; run '{p.name}' after '{later}'")
            if problem:
                raise PipelineError(f"pipeline '{_text(passes)}' cannot work: pass "
                                    f"'{p.name}' (position {i + 1}) requires '{d}' ops, but "
                                    f"{problem}")
        for d in c.removes:
            removed_by[d] = p.name
            if present is not None:
                present.discard(d)
        for d in c.produces:
            removed_by.pop(d, None)
            if present is not None:
                present.add(d)


def _text(passes: Sequence[ModulePass]) -> str:
    return ",".join(str(p.pipeline_pass_spec()) for p in passes)


def dialects_of(module: ModuleOp) -> frozenset[str]:
    """The dialect names of the ops in `module` (one walk)."""
    return frozenset(op.dialect_name() for op in module.walk())
