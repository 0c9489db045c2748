"""`compile`: the one path from IR to what a target runs, taken by every entry point.

`tiers.jit` (frontend/call.py), eager kernels (frontend/eager.py), `record` and `Session`
(through `tiers.jit`), `tiers.load(...).recompile`, `tiers-run` and `tiers-opt` all optimize
through `compile(module, pipeline, ...)`: parse the pipeline (once, cached: parse.py), run its
passes (instrument.py), verify the result (verify.py). The target then takes the module.

The verification policy, the same for every entry point:
1. IR read from text (`tiers-opt`, `tiers-run`, `tiers.load`, a reproducer) is verified when
   it is read, before any pass can be blamed, with `file:line:col` diagnostics (verify.py).
   IR built by the importer is not verified on its own: the rule-table tests check every
   rule's output, and the pipeline's result is verified (2).
2. The result of a pipeline with at least one pass is verified after its last pass, always.
   Measured (benchmarks/jit.py, 2-core CPU): ~35 us/op, about 60% of what the default
   pipeline's passes cost and 2-6% of a first `tiers.jit` call (XLA's compile dominates):
   37.5 of 671 ms for a 1,066-op chain, 5.8 of 287 ms for an MLP's forward and gradient. A
   cached program skips it with everything else; an empty pipeline changes nothing, so
   nothing is verified again.
3. After every pass when asked: `Debug(verify_each=True)`, `tiers.jit(verify=True)` or
   `TIERS_VERIFY=1` for the process; `tiers-opt` does it by default, as `mlir-opt` does
   (`--disable-verify` turns it off).
4. When the final verification fails and the caller can give the input again (`replay`), the
   pipeline is run again verifying after each pass, so the error names the pass that broke
   the IR and leaves a reproducer of its input.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import VerifyException

from tiers.pipeline import report
from tiers.pipeline.config import SETTINGS
from tiers.pipeline.context import make_context
from tiers.pipeline.instrument import Debug, run_passes
from tiers.pipeline.parse import Pipeline, parse
from tiers.pipeline.verify import OpSpans, verify


@functools.cache
def shared_context() -> Context:
    """The context `compile` uses when given none: one for the process (passes only read it;
    it learns the dialects of plugins as they load)."""
    return make_context()


def compile(module: ModuleOp, pipeline: str | Pipeline, *, ctx: Context | None = None,
            debug: Debug | None = None, verify_each: bool = False, verify: bool = True,
            name: str = "module",
            replay: Callable[[], ModuleOp] | None = None, spans: OpSpans | None = None
            ) -> ModuleOp:
    """Optimize `module` in place with `pipeline` and verify it (policy above); returns it.

    `debug`: instrumentation (printing, timing, checks; default `tiers.config.set_debug`'s).
    `verify_each`: also verify after every pass; `verify=False`: verify nothing, to look at
    the IR a broken pass leaves (`tiers-opt --disable-verify`, as in `mlir-opt`). `name`:
    names reproducers and messages.
    `replay`: gives the input again, for crash reproducers (without it, an instrumented run
    keeps a copy). `spans`: where each op of a parsed input stood, for located diagnostics.
    A failing pass is named on its exception (`PipelineError` for a bad `pipeline`).
    """
    passes = parse(pipeline)
    ctx = ctx if ctx is not None else shared_context()
    if debug is None:
        debug = SETTINGS.debug
    if not verify:
        if debug is not None and debug.verify_each:  # None: the plain path verifies nothing
            debug = dataclasses.replace(debug, verify_each=False)
    elif (verify_each or SETTINGS.verify_each) and not (debug and debug.verify_each):
        debug = (Debug(verify_each=True) if debug is None
                 else dataclasses.replace(debug, verify_each=True))
    run_passes(passes.passes, ctx, module, debug, name=name, replay=replay, spans=spans)
    report.lap("passes")  # the compile report of a `tiers.jit` program, if one is kept
    if verify and passes.passes and not (debug and debug.verify_each):  # else verified
        _verify_result(passes, ctx, module, name, replay, spans)
        report.lap("verify")
    return module


def _verify_result(passes: Pipeline, ctx: Context, module: ModuleOp, name: str,
                   replay: Callable[[], ModuleOp] | None, spans: OpSpans | None) -> None:
    try:
        verify(module, spans)
    except VerifyException:
        if replay is None:
            raise
        # Find the pass: the rerun raises at the first one leaving invalid IR.
        run_passes(passes.passes, ctx, replay(), Debug(verify_each=True), name=name,
                   replay=replay, spans=spans)
        raise  # the rerun did not fail: report what the first run found
