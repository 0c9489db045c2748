"""`fn.explain(*args)`: compile a `tiers.jit` function afresh for these arguments and report it.

The report (`tiers.pipeline.report.Report`, printable) is that of a first call: JAX traces the
function (its trace cache is bypassed: `explain` traces through a twin of the function's
`jax.jit`, with the same options), tiers imports, optimizes, verifies and emits the program
without looking in its caches (the report says what a call would have found there), JAX
lowers the module and XLA compiles it (`jax.stages.Lowered.compile`). Nothing runs, and the
function's own caches, retrace log and compiled executables are left as they were. The
report's `wall` is the wall time of trace, lowering and compile together, so the stages can be
checked to add up to it.
"""

from __future__ import annotations

import copy
import functools
import time
from typing import Any

from jax._src import pjit

from tiers.frontend import pretrace
from tiers.frontend.retrace import RetraceLog
from tiers.pipeline import report
from tiers.pipeline.report import Report


def explain(compiler: Any, args: tuple, kwargs: dict) -> Report:
    """The compile report of `compiler` (a `JitFunction`) called with `args`, `kwargs`."""
    twin = copy.copy(compiler)  # its own counts and retrace log: the function's stay as they are
    twin.info = type(compiler.info)()
    twin.retraces = RetraceLog(compiler.retraces.name)

    @functools.wraps(compiler._fn)
    def trace(*a: Any, **k: Any) -> Any:
        with pretrace.bypassed():  # the report is of a first call's compile, traced
            return twin._bind(a, k)

    # A `jax.jit` of the same options (JAX's own record of them) on a new function, so JAX's
    # trace, lowering and compile caches, keyed on the function, all miss.
    jitted = pjit._cpp_pjit(trace, compiler.jitted._jit_info)
    with report.Capture(fresh=True) as capture:
        start = time.perf_counter()
        jitted.trace(*args, **kwargs).lower().compile()
        wall = time.perf_counter() - start
    if not capture.reports:
        raise RuntimeError(f"tiers.jit({compiler.name}).explain: no tiers program was compiled "
                           "(is tiers.config.run_functions_eagerly on?)")
    if len(capture.reports) == 1:
        result = capture.reports[0]
    else:  # several programs in one executable (a nested transformation): one report
        result = _merged(compiler.name, capture.reports)
    result.wall = wall
    return result


def _merged(name: str, reports: list[Report]) -> Report:
    """One report of several programs compiled into one executable: shared stages once."""
    merged = Report(name, detailed=True, fresh=True, cache="fresh",
                    reason="; ".join(dict.fromkeys(r.reason for r in reports)))
    for r in reports:
        for stage in r.stages:
            shared = stage.remark.startswith("shared") and stage.name in merged.times
            if not shared:
                merged.add(stage.name, stage.seconds)
        merged.passes += r.passes
        merged.kernels += r.kernels
        for level, counts in r.ops.items():
            total = merged.ops.setdefault(level, {})
            for dialect, n in counts.items():
                total[dialect] = total.get(dialect, 0) + n
    return merged
