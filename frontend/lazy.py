"""Lazy eager mode: eager ops append to a pending program that runs, whole, when observed.

`with tiers.lazy():` (this thread), `tiers.config.set_eager_mode("lazy")` or `TIERS_EAGER=lazy`
(every thread without its own block). An op is keyed exactly as in immediate mode
(frontend/eager.py); the first time a key is seen the op is traced with `jax.make_jaxpr` (so
shape and dtype errors raise at once, at the user's line, as in immediate mode) and its jaxpr is
kept as an `Entry`. Recording an op is then a dictionary hit and a few appends: its result
Tensors hold `LazyValue`s (frontend/tensor.py) that know their shape and dtype but no array.

The pending program runs when a value is read as data (`numpy()`, `repr`, `bool`, `float`,
`__index__`, iteration, handing the Tensor to JAX or `tiers.jit`, `Tensor.to`), when the
`lazy()` block ends, on `tiers.sync()`, or when it reaches `SETTINGS.lazy_limit` ops. Its
structure (the entries and how their operands are wired) keys a cache of compiled programs; the
arrays and Python scalar operands it read are the program's inputs, never baked in, so a loop
written op by op compiles on its first iteration and hits the cache from its second. Its results
are the values some Tensor still holds (weak references tell): everything else is dead, and the
eager pipeline's DCE drops it while CSE merges repeats and `fuse` groups chains.

Pending programs are per thread. A value of another thread's pending program (or a stale one)
used as an operand runs that program first. `tiers.record()` blocks need each op's kernel, so
ops inside them run immediately; graph tensors and traced values take their usual routes.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np
from jax._src.core import jaxpr_as_fun  # not jax.extend's: that package imports Pallas (~15 ms)

from tiers import pipeline
from tiers.frontend import eager
from tiers.frontend.config import on_eager_mode
from tiers.frontend.importer import import_jaxpr
from tiers.frontend.tensor import LazyValue, Tensor
from tiers.pipeline.cache import clear_with_jax
from tiers.pipeline.config import SETTINGS
from tiers.targets import jax as jax_target
from tiers.targets.jax.hlo import JAX_JIT

LOCAL = eager.LOCAL
_FRONTEND = os.path.dirname(os.path.abspath(__file__)) + os.sep


@dataclass(eq=False)
class Entry:
    """An eager op as traced for one key: what recording it needs (hashed by identity, so
    a program's structure is a tuple of entries and wirings)."""

    name: str
    closed: Any  # its ClosedJaxpr; None: the op runs as a plain JAX call (`why_direct`)
    out_avals: tuple = ()
    out_tree: Any = None
    single: bool = False
    why_direct: str = ""

    def wrap(self, outs: list[LazyValue]) -> Any:
        if self.single:
            return Tensor._leaf(outs[0])
        return jax.tree_util.tree_unflatten(self.out_tree, [Tensor._leaf(o) for o in outs])


class _Entries:
    """A bounded LRU dict of entries by eager key (a race makes an entry twice: harmless)."""

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict[tuple, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Entry | None:
        return self._entries.get(key)

    def add(self, key: tuple, entry: Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


ENTRIES = _Entries(SETTINGS.eager_cache_size)
PROGRAMS = eager.KernelCache(256)  # compiled pending programs, keyed by structure
clear_with_jax(PROGRAMS.drop, "tiers lazy programs")


def _spec(x: Any) -> Any:
    if type(x) is LazyValue:
        aval = x.aval
        return jax.ShapeDtypeStruct(aval.shape, aval.dtype, weak_type=aval.weak_type)
    return eager.spec(x)


def _entry(op: eager.Op, key: tuple, args: tuple, kwargs: dict, dyn: list) -> Entry:
    """Trace `op` for these arguments (raising JAX's errors for bad shapes and dtypes now)."""
    try:
        closed, tree = eager.trace(op, args, kwargs, [_spec(x) for x in dyn])
        import_jaxpr(closed, "main")  # the importer takes it, or the op runs as plain JAX
        entry = Entry(op.name, closed, tuple(v.aval for v in closed.jaxpr.outvars), tree,
                      jax.tree_util.treedef_is_leaf(tree))
    except eager.NOT_COMPILABLE as e:
        entry = Entry(op.name, None, why_direct=eager.why(e))
    ENTRIES.add(key, entry)
    return entry


def _site() -> tuple[str, int] | None:
    """The user's file and line calling the op being recorded (the first frame outside
    tiers' frontend), named when the program fails at run time."""
    frame: Any = sys._getframe(3)
    while frame is not None and frame.f_code.co_filename.startswith(_FRONTEND):
        frame = frame.f_back
    return None if frame is None else (frame.f_code.co_filename, frame.f_lineno)


class Pending:
    """One thread's pending program: the ops recorded since it last ran."""

    def __init__(self, context: tuple):
        # The eager key's pipeline, plugin generation, x64 and default device: ops recorded
        # under other settings go to a new program (this one runs first).
        self.context = context
        self.entries: list[Entry] = []
        # Per op, where each operand comes from: result slot `i >= 0` of an earlier op of this
        # program, or `externals[-1 - i]`.
        self.wiring: list[tuple[int, ...]] = []
        self.sites: list[tuple[str, int] | None] = []
        self.externals: list[Any] = []  # arrays and Python scalars read, held until the run
        self._external_ids: dict[int, int] = {}
        self._originals: list[Any] = []  # what `_external_ids` keys by id, kept alive
        self.values: list[weakref.ref[LazyValue]] = []  # result slots
        self.lock = threading.Lock()
        self.kernel: eager.Kernel | None = None  # the compiled program, once run (its IR)
        self.done = False
        self.error: BaseException | None = None

    def external(self, x: Any) -> int:
        """Where operand `x` (an array or Python scalar read by the program) is kept."""
        i = self._external_ids.get(id(x))
        if i is None:
            i = self._external_ids[id(x)] = len(self.externals)
            # A numpy array may change in place before the program runs: the op reads it now,
            # as in immediate mode (JAX arrays and scalars are immutable). Keyed by the
            # original's id, held as long as the original is (`_originals`).
            self.externals.append(x.copy() if type(x) is np.ndarray else x)
            self._originals.append(x)
        return -1 - i

    def flush(self) -> None:
        """Run the program (once; later calls return, or raise its error again)."""
        with self.lock:
            if self.done:
                if self.error is not None:
                    raise self.error
                return
            self.done = True
            live = [(slot, value) for slot, ref in enumerate(self.values)
                    if (value := ref()) is not None]
            try:
                if live:
                    outs = self._run([slot for slot, _ in live])
                    for (_, value), out in zip(live, outs, strict=True):
                        value.array, value.program = out, None
            except BaseException as e:
                self.error = e
                raise
            finally:  # what the run read or may explain is no longer needed
                self.externals, self._external_ids, self._originals = [], {}, []
                self.entries, self.wiring, self.sites, self.values = [], [], [], []

    def _run(self, live: list[int]) -> list[Any]:
        pipeline_text, generation, x64, device = self.context
        key = (tuple(self.entries), tuple(self.wiring), tuple(live), len(self.externals),
               *self.context)
        with eager._X64(x64), eager._DEVICE(device):
            kernel = PROGRAMS.get(key)
            if kernel is None:
                kernel, _ = PROGRAMS.build(key, lambda: (self._compile(live), None))
            self.kernel = kernel
            try:
                return eager._run(kernel, self.externals)
            except Exception as e:
                self._locate(e)
                raise

    def _compile(self, live: list[int]) -> eager.Kernel:
        entries, wiring = self.entries, self.wiring

        def program(*externals: Any) -> list[Any]:
            slots: list[Any] = []
            for entry, refs in zip(entries, wiring, strict=True):
                slots.extend(jaxpr_as_fun(entry.closed)(
                    *[slots[r] if r >= 0 else externals[-1 - r] for r in refs]))
            return [slots[i] for i in live]

        closed = jax.make_jaxpr(program)(*[_spec(x) for x in self.externals])
        module = import_jaxpr(closed, "main")
        pipeline.compile(module, self.context[0], name="lazy_program",
                         replay=lambda: import_jaxpr(closed, "main"))
        return eager.Kernel(jax_target.compile(module), jaxpr=closed, module=module)

    def _locate(self, error: Exception) -> None:
        """Run the ops one at a time to find the first that fails as the program did; name its
        user line on the error the program raised (its type and message stay JAX's)."""
        slots: list[Any] = []
        for entry, refs, site in zip(self.entries, self.wiring, self.sites, strict=True):
            try:  # jitted: JAX checks NaNs (`jax_debug_nans`) on compiled outputs only
                slots.extend(JAX_JIT(jaxpr_as_fun(entry.closed))(
                    *[slots[r] if r >= 0 else self.externals[-1 - r] for r in refs]))
            except Exception:
                where = f"{site[0]}:{site[1]}" if site else "an unknown line"
                error.add_note(f"tiers: the lazy op {entry.name} recorded at {where} "
                               f"raised this when its pending program ran")
                return


def record(op: eager.Op, key: tuple, dyn: list, args: tuple, kwargs: dict) -> Any:
    """Append `op` (with eager key `key` and operands `dyn`) to this thread's pending program;
    its results as Tensors of pending values."""
    entry = ENTRIES.get(key)
    if entry is None:
        entry = _entry(op, key, args, kwargs, dyn)
    if entry.closed is None:
        return eager.direct(op, args, kwargs, [_concrete(x) for x in dyn])
    context = key[1:5]
    while True:
        prog = LOCAL.pending
        if prog is None or prog.done or prog.context != context:
            if prog is not None and not prog.done:
                prog.flush()
            prog = LOCAL.pending = Pending(context)
        # Values of other programs are computed before taking this one's lock.
        operands = [x.get() if type(x) is LazyValue and x.program is not prog else x
                    for x in dyn]
        with prog.lock:
            if prog.done:  # another thread ran it meanwhile: record into a new one
                continue
            refs = tuple(x.slot if type(x) is LazyValue else prog.external(x)
                         for x in operands)
            base = len(prog.values)
            outs = [LazyValue(aval, prog, base + i) for i, aval in enumerate(entry.out_avals)]
            prog.values.extend(weakref.ref(v) for v in outs)
            prog.entries.append(entry)
            prog.wiring.append(refs)
            prog.sites.append(_site())
            full = len(prog.entries) >= SETTINGS.lazy_limit
        break
    if full:
        prog.flush()
    return entry.wrap(outs)


def _concrete(x: Any) -> Any:
    return x.get() if type(x) is LazyValue else x


def sync() -> None:
    """Run this thread's pending lazy ops now (a no-op in immediate mode)."""
    prog = LOCAL.pending
    LOCAL.pending = None
    if prog is not None and not prog.done:  # a failed run raised to whoever ran it; its
        prog.flush()  # values raise that error again when read


@contextmanager
def lazy() -> Iterator[None]:
    """Record eager ops on this thread into a pending program, run whole when a value is
    observed (`print`, `numpy()`, `bool`, handing a Tensor to JAX...) or when the block ends.

        with tiers.lazy():
            y = tnp.sin(x) * 2 + tnp.sin(x) * 2   # nothing runs yet
            print(y)                              # one compiled program: CSE'd, fused

    Errors in shapes and dtypes still raise at once, at the op's line."""
    own = "lazy" in LOCAL.__dict__
    previous = LOCAL.lazy
    LOCAL.lazy = True
    eager.refresh()
    try:
        yield
    except BaseException:
        _leave(own, previous)
        _sync_quietly()  # the block's own error is the one to see
        raise
    _leave(own, previous)
    if not LOCAL.lazy:
        sync()


def _leave(own: bool, previous: bool) -> None:
    if own:
        LOCAL.lazy = previous
    else:
        del LOCAL.lazy  # back to the process-wide mode
    eager.refresh()


def _sync_quietly() -> None:
    """`sync()` without raising: a failed run is kept on its program, and reading one of its
    values raises that error again."""
    if not LOCAL.lazy:
        with contextlib.suppress(Exception):
            sync()


def clear_cache() -> None:
    """Drop the traced lazy ops and the compiled pending programs."""
    ENTRIES.clear()
    PROGRAMS.clear()


def cache_info() -> dict[str, Any]:
    """The compiled-program cache of lazy mode: hits, misses, entries, compile time."""
    return PROGRAMS.info()


def _mode_changed(mode: str) -> None:
    eager.set_process_lazy(mode == "lazy")
    if not LOCAL.lazy:
        sync()


on_eager_mode(_mode_changed)
eager.LAZY.record = record
