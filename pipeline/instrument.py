"""Running passes: the one loop behind `pipeline.compile`, so behind every entry point.

With `debug=None` (the hot path) it is a bare loop over the passes: nothing is printed, timed,
verified or copied (unless a compile report wants each pass's time, report.py: `fn.explain`,
`TIERS_LOGS=compile|passes`). With a `Debug` it adds, around each pass, what mlir-opt's
instrumentation gives: IR dumps before/after passes (to a stream or one numbered file per
pass), a timing report, verification after each pass and semantic checking on the reference
target.

Whichever way it runs, a failing pass (an exception, invalid IR, changed values) is named, and
when the caller can give the input again (`replay`) a crash reproducer is written: the IR that
went into the failing pass, headed by the `tiers-opt` command that reruns it. Replaying the
passes before it (they succeeded once and are deterministic) is what lets the hot path keep
no copy of the IR.
"""

from __future__ import annotations

import io
import re
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from tiers.passes import statistics
from tiers.passes.collector import gc_paused
from tiers.pipeline import report, semantics
from tiers.pipeline.config import SETTINGS
from tiers.pipeline.registry import loaded_plugins
from tiers.pipeline.verify import verify


class PassFailure(Exception):
    """A pass changed the program's values (semantic checking) or left IR that cannot run."""


@dataclass(frozen=True)
class Debug:
    """What to do around each pass; the mlir-opt flag each field mirrors is in its comment."""

    print_ir_before: tuple[str, ...] = ()  # --print-ir-before=PASS (pass names)
    print_ir_after: tuple[str, ...] = ()  # --print-ir-after=PASS
    print_ir_after_all: bool = False  # --print-ir-after-all
    print_ir_after_change: bool = False  # --print-ir-after-change
    print_ir_tree_dir: str | None = None  # --print-ir-tree-dir=DIR: files, not the stream
    stream: IO[str] | None = None  # where dumps and the timing report go (None: stderr)
    timing: bool = False  # --mlir-timing
    verify_each: bool = True  # verify after each pass (--disable-verify turns it off)
    verify_semantics: bool = False  # --verify-semantics
    rtol: float = 1e-4
    atol: float = 1e-5
    reproducer_dir: str | None = None  # None: `config.SETTINGS.reproducer_dir`


def run_passes(passes: Sequence[ModulePass], ctx: Context, module: ModuleOp,
               debug: Debug | None = None, *, name: str = "module",
               replay: Callable[[], ModuleOp] | None = None, spans: Any = None) -> None:
    """Apply `passes` to `module` in place (see the module docstring); `driver.py` is the
    entry point that picks `debug` and verifies the result."""
    if debug is None and report.detailed():  # a compile report wants each pass's time
        debug = _TIMED
    if debug is None:
        i = 0
        try:
            with gc_paused():
                for i, p in enumerate(passes):  # noqa: B007 - `i` names the failing pass
                    p.apply(ctx, module)
        except Exception as e:
            _annotate(e, passes, i, ctx, replay, name, None, f"{type(e).__name__}: {e}")
            raise
        return
    if replay is None:  # debugging is not the hot path: keep the input for a reproducer
        snapshot = module.clone()
        replay = snapshot.clone
    _Instrumented(passes, ctx, module, debug, name, replay, spans).run()


# What a compile report (report.py) adds to a run without `Debug`: the pass times only.
_TIMED = Debug(verify_each=False)


class _Instrumented:
    """One instrumented run: dumps, timing, verification and semantic checks around passes."""

    def __init__(self, passes: Sequence[ModulePass], ctx: Context, module: ModuleOp,
                 debug: Debug, name: str, replay: Callable[[], ModuleOp], spans: Any):
        self.passes, self.ctx, self.module, self.debug = passes, ctx, module, debug
        self.name, self.replay, self.spans = name, replay, spans
        self.stream = debug.stream if debug.stream is not None else sys.stderr
        self.times: list[tuple[str, float]] = []
        self.verifying = 0.0  # seconds verifying after passes
        self.after_all = debug.print_ir_after_all or (
            debug.print_ir_tree_dir is not None and not (
                debug.print_ir_before or debug.print_ir_after or debug.print_ir_after_change))

    def run(self) -> None:
        d = self.debug
        values = entry = inputs = None
        if d.verify_semantics:
            entry = semantics.entry_of(self.module)
            if entry is None:
                raise PassFailure(f"cannot check semantics of '{self.name}': it has no function")
            inputs = semantics.inputs_for(self.module, entry)
            try:
                values = semantics.evaluate(self.module, entry, inputs)
            except Exception as e:
                raise PassFailure(f"cannot check semantics: the reference target cannot run "
                                  f"the input of the pipeline: {type(e).__name__}: {e}") from e
        counting = statistics.enabled()
        ops = sum(1 for _ in self.module.walk()) if counting else 0
        start = time.perf_counter()
        for i, p in enumerate(self.passes):
            before = None
            if p.name in d.print_ir_before:
                self._dump(i, p, "Before", _text(self.module))
            if d.print_ir_after_change:
                before = _text(self.module)
            t0 = time.perf_counter()
            try:
                with gc_paused():
                    p.apply(self.ctx, self.module)
            except Exception as e:
                _annotate(e, self.passes, i, self.ctx, self.replay, self.name,
                          d.reproducer_dir, f"{type(e).__name__}: {e}")
                raise
            self.times.append((str(p.pipeline_pass_spec()), time.perf_counter() - t0))
            if counting:
                now = sum(1 for _ in self.module.walk())
                statistics.count(p.name, "ops erased" if ops >= now else "ops added",
                                 abs(ops - now))
                ops = now
            if d.verify_each:
                t0 = time.perf_counter()
                self._verify(i, p)
                self.verifying += time.perf_counter() - t0
            if self.after_all or p.name in d.print_ir_after or (
                    before is not None and _text(self.module) != before):
                self._dump(i, p, "After", _text(self.module))
            if values is not None:
                values = self._check_values(i, p, entry, inputs, values)
        if d.timing:
            self.stream.write(timing_report(self.times, time.perf_counter() - start))
        report.pass_times([*self.times, *([("(verify after each pass)", self.verifying)]
                                          if d.verify_each else [])])

    def _verify(self, i: int, p: ModulePass) -> None:
        try:
            verify(self.module, self.spans, p.name)
        except VerifyException as e:
            _annotate(e, self.passes, i, self.ctx, self.replay, self.name,
                      self.debug.reproducer_dir, f"it left invalid IR: {str(e).splitlines()[0]}")
            raise

    def _check_values(self, i: int, p: ModulePass, entry: Any, inputs: Any, values: Any) -> Any:
        d = self.debug
        try:
            after = semantics.evaluate(self.module, entry, inputs)
        except Exception as e:
            why = f"the reference target cannot run its output: {type(e).__name__}: {e}"
            raise PassFailure(_failure_text(self.passes, i, self.ctx, self.replay, self.name,
                                            d.reproducer_dir, why, semantic=True)) from e
        mismatch = semantics.compare(values, after, d.rtol, d.atol)
        if mismatch is not None:
            why = (f"it changed the program's values (rtol={d.rtol}, atol={d.atol}): "
                   f"{mismatch}")
            raise PassFailure(_failure_text(self.passes, i, self.ctx, self.replay, self.name,
                                            d.reproducer_dir, why, semantic=True))
        return after

    def _dump(self, i: int, p: ModulePass, when: str, text: str) -> None:
        spec = str(p.pipeline_pass_spec())
        if self.debug.print_ir_tree_dir is not None:
            # MLIR's --mlir-print-ir-tree-dir: one file per dump, numbered in pipeline order.
            folder = Path(self.debug.print_ir_tree_dir) / self.name
            folder.mkdir(parents=True, exist_ok=True)
            suffix = ".before" if when == "Before" else ""
            (folder / f"{i}_{p.name}{suffix}.mlir").write_text(text)
        else:
            self.stream.write(f"// -----// IR Dump {when} {spec} //----- //\n{text}\n")


def _text(module: ModuleOp, debuginfo: bool = False) -> str:
    out = io.StringIO()
    Printer(stream=out, print_debuginfo=debuginfo).print_op(module)
    return out.getvalue() + "\n"


def timing_report(times: Sequence[tuple[str, float]], total: float) -> str:
    """MLIR's `-mlir-timing` report: wall time per pass and in all, with percentages."""
    bar = "===" + "-" * 73 + "==="
    lines = [bar, "... Execution time report ...".center(79), bar,
             f"  Total Execution Time: {total:.4f} seconds", "",
             "  ----Wall Time----  ----Name----"]
    for spec, t in times:
        lines.append(f"  {t:8.4f} ({100 * t / total if total else 0:5.1f}%)  {spec}")
    lines.append(f"  {total:8.4f} (100.0%)  Total")
    return "\n".join(lines) + "\n"


# -- failures and reproducers ----------------------------------------------------------------


def _annotate(e: BaseException, passes: Sequence[ModulePass], i: int, ctx: Context,
              replay: Callable[[], ModuleOp] | None, name: str, folder: str | None,
              why: str) -> None:
    """Add the failing pass, the reproducer and the rerun command to `e` (its type is kept,
    so callers catching xDSL's or Python's exceptions still do)."""
    if getattr(e, "tiers_pass", None) is not None:
        return  # a nested pipeline already said it
    e.tiers_pass = passes[i].name  # type: ignore[attr-defined]
    e.add_note(_failure_text(passes, i, ctx, replay, name, folder, why, semantic=False))


def _failure_text(passes: Sequence[ModulePass], i: int, ctx: Context,
                  replay: Callable[[], ModuleOp] | None, name: str, folder: str | None,
                  why: str, semantic: bool) -> str:
    spec = str(passes[i].pipeline_pass_spec())
    text = f"pass '{spec}' (pass {i + 1} of {len(passes)}) failed: {why}"
    if replay is None:
        return text + "\n(no reproducer: the pipeline's input was not kept)"
    try:
        path = write_reproducer(passes, i, ctx, replay, name, folder, why, semantic)
    except Exception as e:  # a reproducer must never hide the failure it reports
        return text + f"\n(no reproducer: replaying the passes before it failed: {e})"
    return (text + f"\nreproducer (the input of '{spec}'): {path}\n"
            f"rerun it with: {rerun_command(path, spec, semantic)}")


def rerun_command(path: str | Path, spec: str, semantic: bool = False) -> str:
    """The `tiers-opt` command that runs pass `spec` on the reproducer at `path`."""
    args = ["tiers-opt", str(path), "-p", spec]
    for plugin in loaded_plugins():
        args += ["--load-plugin", plugin.origin]
    if semantic:
        args.append("--verify-semantics")
    return shlex.join(args)


def write_reproducer(passes: Sequence[ModulePass], i: int, ctx: Context,
                     replay: Callable[[], ModuleOp], name: str, folder: str | None, why: str,
                     semantic: bool) -> Path:
    """Write `<name>.reproducer.mlir`: the input of pass `i`, headed by how to rerun it."""
    module = replay()
    with gc_paused():
        for p in passes[:i]:
            p.apply(ctx, module)
    out = Path(folder if folder is not None else SETTINGS.reproducer_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(name).stem) or "module"  # `<lambda>`
    path = out / f"{stem}.reproducer.mlir"
    spec = str(passes[i].pipeline_pass_spec())
    head = [f"// tiers crash reproducer: pass '{spec}' failed: {why.splitlines()[0]}",
            f"// pipeline: {','.join(str(p.pipeline_pass_spec()) for p in passes)}",
            f"// this file is the IR that went into pass {i + 1} ('{spec}'); rerun it with:",
            f"//   {rerun_command(path, spec, semantic)}"]
    # Locations kept: they name the user's source lines the failing ops came from.
    path.write_text("\n".join(head) + "\n" + _text(module, debuginfo=True))
    return path
