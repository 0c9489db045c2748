"""Compile reports: where one compile of a `tiers.jit` program spent its time, and what it made.

A `Report` covers one tiers program, from JAX's trace to XLA's executable:
  - the cache's answer: a hit (where from) or a miss (why: a new program, one evicted, one
    never cached because of `Debug`, a host callback or unhashable constants; the disk
    cache's own reason);
  - wall time per stage, in order: `trace` (JAX runs the user's function), `cache lookup`
    (the program hashed, the caches asked), `import` (jaxpr -> `array`/`lax` IR), `passes`
    (with one row per pass when asked), `verify`, `emission` (StableHLO text, parsed into
    JAX's module), `JAX lowering` (the rest of JAX's lowering around it), `XLA compile`;
    `report (op counts)` is what collecting the op counts below cost;
  - op counts per dialect (the prefix of op names: `array`, `lax`, `fused`, `func`) after
    import and after the pipeline;
  - the `fused.kernel`s of the result, with their member ops and the user's source lines.

Where the times come from. tiers' own stages are laps (`lap`): each stage ends where the next
begins, so they add up to the whole of tiers' part of the lowering with nothing counted twice.
Per-pass times are instrument.py's (the same timer as `Debug(timing=True)`). JAX's stages come
from JAX's own monitoring events (`jax.monitoring`): the trace, the lowering of the whole
module and the backend compile each report their duration, on the thread that did the work.
The listener is registered when this module is imported and does nothing unless a tiers
program is being reported on that thread; JAX sends these events only when it compiles, so a
call that hits JAX's cache never reaches it.

Who sees a report:
  - `fn.explain(*args)` (frontend/report.py) compiles afresh and returns it (`str()` is a
    table);
  - `TIERS_LOGS=compile,cache,passes,retrace` (or `tiers.config.set_logs`) logs it on the
    `tiers.<channel>` loggers, with a handler that writes `tiers: ...` lines on stderr;
  - a compile slower than `PROGRESS_AFTER` seconds logs a progress line per stage on the
    `tiers.progress` logger at WARNING (`tiers: <fn>: <stage> ... <time>`), which Python's
    logging shows on stderr when the application configured no handler, and which
    `logging.getLogger("tiers").setLevel(logging.ERROR)` silences.
Reports are never built on the hot path: a call that hits JAX's dispatcher cache, or an eager
op that hits the kernel cache, never compiles, and a compile only times its stages (a few
clock reads); counting ops, listing kernels and timing each pass happen only when a report is
asked for (`explain`, or the `compile`/`passes` logs).
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
from xdsl.dialects.builtin import (
    ArrayAttr,
    CallSiteLoc,
    FileLineColLoc,
    FusedLoc,
    ModuleOp,
    NameLoc,
)
from xdsl.ir import Attribute, Operation

from tiers.pipeline.config import SETTINGS

# The names `TIERS_LOGS` and `tiers.config.set_logs` take ("all" for every one).
CHANNELS = {
    "compile": "per compile: time per stage, op counts per dialect, fused kernels",
    "cache": "per compile: the cache's answer, and the reason for a miss",
    "passes": "per compile: time per pass",
    "retrace": "every retrace of a tiers.jit function and what changed (the first is "
               "shown anyway)",
}
# A compile running longer than this (seconds) logs a line per stage; None: never.
PROGRESS_AFTER: float | None = 5.0
# How many kernels a report lists, and source lines a kernel lists, before saying how many
# more there are.
MAX_KERNELS = 12
MAX_LINES = 6

logger = logging.getLogger("tiers")
_progress = logging.getLogger("tiers.progress")

# JAX's monitoring events (jax/_src/dispatch.py), each sent with its duration in seconds.
_TRACE = "/jax/core/compile/jaxpr_trace_duration"
_MODULE = "/jax/core/compile/jaxpr_to_mlir_module_duration"
_BACKEND = "/jax/core/compile/backend_compile_duration"

_local = threading.local()


@dataclass
class Stage:
    """One row: a stage's name, its wall time, and a remark (e.g. "shared by 2 programs")."""

    name: str
    seconds: float
    remark: str = ""


@dataclass
class Kernel:
    """A `fused.kernel` of the optimized program: its member ops (by name, in order) and
    the user's source lines they came from (`file:line`)."""

    ops: list[str]
    lines: list[str]


@dataclass(repr=False)
class Report:
    """One compile of one tiers program (see the module docstring); `str()` is a table."""

    name: str
    detailed: bool = False  # op counts, kernels and per-pass times are collected
    fresh: bool = False  # compiled without looking in the caches (`explain`)
    cache: str = "miss"  # "hit", "miss" or "fresh"
    reason: str = ""  # where a hit came from, why a miss missed
    stages: list[Stage] = field(default_factory=list)
    passes: list[Stage] = field(default_factory=list)  # the rows inside "passes"
    ops: dict[str, dict[str, int]] = field(default_factory=dict)  # "import"/"optimized"
    kernels: list[Kernel] = field(default_factory=list)
    wall: float | None = None  # the wall time of the whole compile, where it was measured
    started: float = field(default_factory=time.perf_counter)
    # Internal: the end of the last lap, the time tiers' lowering took, progress lines shown.
    mark: float = field(default_factory=time.perf_counter)
    opened: float = field(default_factory=time.perf_counter)
    lowering: float = 0.0
    lowered: bool = False
    shown: int = 0
    previous: Report | None = None
    capture: Capture | None = None  # where it goes when finished (None: the logs)

    # -- collecting ------------------------------------------------------------------------
    def lap(self, name: str) -> None:
        """Add the time since the last lap to stage `name` (stages of one name add up)."""
        now = time.perf_counter()
        self.add(name, now - self.mark)
        self.mark = now

    def add(self, name: str, seconds: float, remark: str = "") -> None:
        for stage in self.stages:
            if stage.name == name:
                stage.seconds += seconds
                break
        else:
            self.stages.append(Stage(name, seconds, remark))
        self._progress()

    def hit(self, where: str) -> None:
        self.cache, self.reason = "hit", where

    def miss(self, why: str) -> None:
        self.cache, self.reason = "miss", why

    def _progress(self) -> None:
        """Once the compile has run `PROGRESS_AFTER` seconds, a line per stage done."""
        if PROGRESS_AFTER is None or time.perf_counter() - self.started < PROGRESS_AFTER:
            return
        for stage in self.stages[self.shown:]:
            _progress.warning("tiers: %s: %s ... %s", self.name, stage.name,
                              _time(stage.seconds))
        self.shown = len(self.stages)

    # -- reading ---------------------------------------------------------------------------
    @property
    def times(self) -> dict[str, float]:
        """Seconds per stage, in order."""
        return {s.name: s.seconds for s in self.stages}

    @property
    def total(self) -> float:
        """The stages' times added up."""
        return sum(s.seconds for s in self.stages)

    def cache_line(self) -> str:
        return f"cache {self.cache}: {self.reason}" if self.reason else f"cache {self.cache}"

    def lines(self, sections: Iterable[str] = ("cache", "stages", "passes", "ops",
                                                 "kernels")) -> list[str]:
        """The table's lines, of the sections named (see `__str__`)."""
        want = set(sections)
        out = [f"tiers.jit({self.name}) compile report"]
        if "cache" in want:
            out.append(f"  {self.cache_line()}")
        total = self.total
        if "stages" in want:
            out.append(f"  {'stage':<34}{'time':>11}{'share':>8}")
        elif "passes" in want:
            out.append(f"  {'pass':<34}{'time':>11}")
        for stage in self.stages if "stages" in want else ():
            share = f"{100 * stage.seconds / total:7.1f}%" if total else ""
            remark = f"  ({stage.remark})" if stage.remark else ""
            out.append(f"  {stage.name:<34}{_time(stage.seconds):>11}{share}{remark}")
            if stage.name == "passes" and "passes" in want:
                out += [f"    {p.name[:32]:<32}{_time(p.seconds):>11}" for p in self.passes]
        if "passes" in want and "stages" not in want:
            out += [f"    {p.name[:32]:<32}{_time(p.seconds):>11}" for p in self.passes]
        if "stages" in want:
            out.append(f"  {'total':<34}{_time(total):>11}")
            if self.wall is not None:
                cover = f"{100 * total / self.wall:.1f}" if self.wall else "-"
                out.append(f"  {'wall':<34}{_time(self.wall):>11}  (the stages cover "
                           f"{cover}% of it)")
        if "ops" in want and self.ops:
            stages = list(self.ops)
            out.append(f"  {'ops by dialect':<20}" + "".join(f"{s:>11}" for s in stages))
            dialects = sorted({d for counts in self.ops.values() for d in counts})
            for d in dialects:
                out.append(f"    {d:<18}" + "".join(f"{self.ops[s].get(d, 0):>11}"
                                                    for s in stages))
        if "kernels" in want and self.detailed:
            out.append(f"  fused kernels: {len(self.kernels)}")
            for i, k in enumerate(self.kernels[:MAX_KERNELS], 1):
                names = ", ".join(f"{n} x{c}" if c > 1 else n
                                  for n, c in Counter(k.ops).most_common())
                out.append(f"    #{i}: {len(k.ops)} ops: {names}")
                more = len(k.lines) - MAX_LINES
                where = ", ".join(k.lines[:MAX_LINES]) + (f", +{more} more" if more > 0 else "")
                out.append(f"        from {where or 'unknown lines'}")
            if len(self.kernels) > MAX_KERNELS:
                out.append(f"    ... {len(self.kernels) - MAX_KERNELS} more kernels")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    __repr__ = __str__  # `fn.explain(x)` at a prompt shows the table


# -- the report of the compile running on this thread ---------------------------------------
def current() -> Report | None:
    """The report being collected on this thread (inside the lowering of a tiers program)."""
    return getattr(_local, "report", None)


def detailed() -> bool:
    """Whether the compile running on this thread wants op counts and per-pass times."""
    report = getattr(_local, "report", None)
    return report is not None and report.detailed


def lap(name: str) -> None:
    """End stage `name` of the report of this thread, if there is one."""
    report = getattr(_local, "report", None)
    if report is not None:
        report.lap(name)


def count_ops(stage: str, module: ModuleOp) -> None:
    """Record `module`'s op counts per dialect at `stage` (detailed reports only); the time
    it takes is the `report` stage's."""
    report = getattr(_local, "report", None)
    if report is not None and report.detailed:
        report.ops[stage] = dialect_counts(module)
        if stage == "optimized":
            report.kernels = fused_kernels(module)
        report.lap("report (op counts)")


def pass_times(times: Sequence[tuple[str, float]]) -> None:
    """Per-pass times of an instrumented run (pipeline/instrument.py), for the report."""
    report = getattr(_local, "report", None)
    if report is not None and report.detailed:
        report.passes.extend(Stage(name, seconds) for name, seconds in times)


def open(name: str) -> Report:  # noqa: A001 - the report's open and close
    """Start the report of a program lowered on this thread (`close` ends it)."""
    capture = getattr(_local, "capture", None)
    _finish_unfinished()
    report = Report(name, detailed=capture is not None or bool(SETTINGS.logs & _DETAILED),
                    fresh=capture is not None and capture.fresh, capture=capture)
    trace = getattr(_local, "trace", None)
    if trace is not None:  # JAX has just traced it (or the function around it)
        _local.trace = None
        fun, seconds, end = trace
        report.started = min(report.started, end - seconds)
        report.stages.append(Stage("trace", seconds, "" if fun == name else f"of {fun}"))
    report.previous = getattr(_local, "report", None)
    _local.report = report
    return report


def close(report: Report, failed: bool = False) -> None:
    """End tiers' part of `report`; JAX's lowering and XLA's compile follow (`_on_event`)."""
    _local.report = report.previous
    report.previous = None
    if failed:
        return
    report.lowering = time.perf_counter() - report.opened
    pending = getattr(_local, "pending", None)
    if pending is None:
        pending = _local.pending = []
    pending.append(report)
    if len(pending) > _MAX_PENDING:  # JAX's events stopped coming (listeners cleared)
        _finish(pending.pop(0))


_MAX_PENDING = 64  # programs lowered into one module, awaiting JAX's events


# -- JAX's stages, from its monitoring events ------------------------------------------------
def _on_event(event: str, duration_secs: float, **kwargs: str | int) -> None:
    seconds = duration_secs
    if event == _TRACE:
        _finish_unfinished()
        _local.trace = (str(kwargs.get("fun_name")), seconds, time.perf_counter())
    elif event == _MODULE:
        _local.trace = None
        new = [r for r in getattr(_local, "pending", None) or () if not r.lowered]
        if new:  # the module holding them: the rest of its lowering is JAX's
            rest = max(0.0, seconds - sum(r.lowering for r in new))
            remark = f"shared by {len(new)} programs" if len(new) > 1 else ""
            for report in new:
                report.lowered = True
                report.add("JAX lowering", rest, remark)
    elif event == _BACKEND:
        pending = getattr(_local, "pending", None)
        if pending:
            _local.pending = []
            remark = f"shared by {len(pending)} programs" if len(pending) > 1 else ""
            for report in pending:
                report.add("XLA compile", seconds, remark)
                _finish(report)


def _finish_unfinished() -> None:
    """Reports of programs lowered without an XLA compile on this thread (`jax.export`, a
    `lower()` not compiled yet) end when the next program is traced or lowered."""
    pending = getattr(_local, "pending", None)
    if pending and all(r.lowered for r in pending):
        _local.pending = []
        for report in pending:
            _finish(report)


def _finish(report: Report) -> None:
    if report.capture is not None:
        report.capture.reports.append(report)
        report.capture = None
    else:
        emit(report)


def emit(report: Report) -> None:
    """Log `report` on the channels that are on."""
    logs = SETTINGS.logs
    if "cache" in logs:
        logging.getLogger("tiers.cache").info("tiers: %s: %s", report.name, report.cache_line())
    sections = [s for s, channel in (("stages", "compile"), ("passes", "passes"),
                                     ("ops", "compile"), ("kernels", "compile"))
                if channel in logs]
    if sections:
        text = "\n".join("tiers: " + line for line in report.lines(sections))
        logging.getLogger("tiers.compile" if "compile" in logs else "tiers.passes").info(text)


jax.monitoring.register_event_duration_secs_listener(_on_event)


@atexit.register
def _at_exit() -> None:  # a program lowered last and never compiled
    for report in getattr(_local, "pending", None) or ():
        emit(report)


class Capture:
    """Reports finished on this thread while active, kept instead of logged (`explain`)."""

    def __init__(self, fresh: bool) -> None:
        self.fresh = fresh
        self.reports: list[Report] = []
        self._previous: Capture | None = None

    def __enter__(self) -> Capture:
        self._previous = getattr(_local, "capture", None)
        _local.capture = self
        return self

    def __exit__(self, *exc: Any) -> None:
        _finish_unfinished()
        _local.capture = self._previous


# -- what the IR holds ----------------------------------------------------------------------
def dialect_counts(module: ModuleOp) -> dict[str, int]:
    """Ops per dialect (the prefix of their names), nested ops included, the module not."""
    counts = Counter(op.name.partition(".")[0] for op in module.walk() if op is not module)
    return dict(sorted(counts.items()))


def fused_kernels(module: ModuleOp) -> list[Kernel]:
    """The `fused.kernel` ops of `module`: member ops and their source lines."""
    kernels = []
    for op in module.walk():
        if op.name != "fused.kernel":
            continue
        members = [o for o in op.walk() if o is not op and o.name != "fused.yield"]
        lines: dict[str, None] = {}
        for member in members:
            lines.update(dict.fromkeys(source_lines(member)))
        kernels.append(Kernel([o.name for o in members], list(lines)))
    return kernels


def source_lines(op: Operation) -> list[str]:
    """The user's `file:line`s in `op`'s location (all of a `FusedLoc`'s)."""
    out: list[str] = []
    _lines(op.location, out)
    return out


def _lines(loc: Attribute, out: list[str]) -> None:
    if isinstance(loc, FileLineColLoc):
        out.append(f"{os.path.basename(loc.filename.data)}:{loc.line.data}")
    elif isinstance(loc, NameLoc):
        _lines(loc.location, out)
    elif isinstance(loc, CallSiteLoc):
        _lines(loc.callee, out)
    elif isinstance(loc, FusedLoc) and isinstance(loc.locations, ArrayAttr):
        for inner in loc.locations.data:
            _lines(inner, out)


def _time(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 10 else f"{seconds * 1e3:.1f} ms"


# -- TIERS_LOGS -------------------------------------------------------------------------------
_DETAILED = frozenset({"compile", "passes"})


class _Stderr(logging.Handler):
    """Writes to `sys.stderr` as it is when a record comes (a test's capture included)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


_handler = _Stderr()


def parse_logs(names: str | Iterable[str], where: str) -> frozenset[str]:
    """`names` (comma-separated text or names) checked against `CHANNELS`; "all" is every
    one. A ValueError names an unknown one and lists the valid ones."""
    if not isinstance(names, str | Iterable):
        raise TypeError(f"{where}: logs must be a str or strs, got {type(names).__name__}")
    items = names.split(",") if isinstance(names, str) else list(names)
    out = set()
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{where}: log names are strings, got {type(item).__name__}")
        name = item.strip().lower()
        if name == "all":
            out |= set(CHANNELS)
        elif name in CHANNELS:
            out.add(name)
        elif name:
            raise ValueError(f"{where}: unknown log {name!r}; valid logs: "
                             f"{', '.join(sorted(CHANNELS))} (or all)")
    return frozenset(out)


def set_logs(names: str | Iterable[str], where: str = "tiers.config.set_logs") -> None:
    """Turn on the channels named (and off the others): their loggers log at INFO, and a
    handler on the `tiers` logger writes them on stderr while any is on."""
    logs = parse_logs(names, where)
    SETTINGS.logs = logs
    for channel in CHANNELS:
        logging.getLogger(f"tiers.{channel}").setLevel(
            logging.INFO if channel in logs else logging.NOTSET)
    if logs and _handler not in logger.handlers:
        logger.addHandler(_handler)
    elif not logs and _handler in logger.handlers:
        logger.removeHandler(_handler)


set_logs(SETTINGS.logs, "TIERS_LOGS")  # read by pipeline/config.py; a typo is an error
