"""Eager ops: each call is a one-op program, traced, optimized and compiled once, then cached.

On a cache miss the op is traced with `jax.make_jaxpr` (non-array arguments closed over),
imported into tiers IR, sent through the eager pipeline (`tiers.config`) and compiled by the JAX
target; on a hit the stored executable runs at once: no tracing, IR or pass work. The key holds
everything that changes the result: the op, its static arguments, the avals (shape, dtype, weak
type) of its array arguments, the pipeline, the set of registered passes, x64 and the default
device (`with tiers.device(...)`, which is JAX's `jax.default_device`). Where committed inputs
live (`Tensor.to`) is not in the key: a kernel is a `jax.jit` executable, which follows its
inputs' device as JAX does, so one kernel serves every device. Python scalars are array
operands (one kernel for all values) only for elementwise ops that take them so; elsewhere they
are static (an axis, a shape).

In lazy mode (`tiers.lazy()`, frontend/lazy.py) the same key finds the op's traced jaxpr instead
of a kernel, and the op is appended to a pending program that runs when a value is observed.

Ops whose result depends on concrete values (`nonzero`, boolean masks), that return non-arrays
(`shape`) or only empty arrays, or use primitives the importer lacks (PRNG keys) run as plain
JAX calls; they are cached as "direct" so the decision is made once per key.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np
from jax._src import config as jax_config
from jax._src.array import ArrayImpl
from jax._src.interpreters.partial_eval import DynamicJaxprTracer
from xdsl.dialects.builtin import ModuleOp

from tiers import pipeline
from tiers.dialects.dtypes import UnsupportedDType
from tiers.frontend.config import on_cache_resize
from tiers.frontend.importer import ImportError_, import_jaxpr
from tiers.frontend.tensor import LazyValue, Tensor
from tiers.frontend.tracebacks import filter_raised, register_boundary
from tiers.pipeline.cache import clear_with_jax
from tiers.pipeline.config import SETTINGS
from tiers.targets import jax as jax_target

_SCALARS = frozenset({int, float, bool, complex})
_Tracer = jax.core.Tracer
_Staging = DynamicJaxprTracer  # the tracer of `jax.jit` and of `jax.lax` control-flow bodies
# JAX errors meaning "this op needs concrete values", so it cannot be a compiled kernel.
_NEEDS_VALUES = (jax.errors.ConcretizationTypeError, jax.errors.TracerIntegerConversionError,
                 jax.errors.TracerArrayConversionError, jax.errors.NonConcreteBooleanIndexError)


class _Local(threading.local):
    graphs: tuple = ()  # `Graph.as_default()` blocks open on this thread (frontend/graph.py)
    recorders: tuple = ()  # `tiers.record()` blocks open on this thread (frontend/record.py)
    # Whether eager ops record into a pending program (frontend/lazy.py). The class attribute
    # is the process-wide mode (`tiers.config.set_eager_mode`); `tiers.lazy()` blocks set the
    # thread's own.
    lazy: bool = SETTINGS.eager_mode == "lazy"
    pending: Any = None  # this thread's pending lazy program
    # Any of the above in force: the one flag the inlined hit path reads (`wrap`). The class
    # attribute follows the process-wide mode; a thread inside a block has its own (`refresh`).
    special: bool = lazy


LOCAL = _Local()


def refresh() -> None:
    """Recompute this thread's `special` flag after a graph, record or lazy block opens or
    closes (a thread with no block open reads the class attribute: the process-wide mode)."""
    if LOCAL.graphs or LOCAL.recorders or "lazy" in LOCAL.__dict__:
        LOCAL.special = True
    else:
        LOCAL.__dict__.pop("special", None)


def set_process_lazy(lazy: bool) -> None:
    """The process-wide eager mode, for every thread without a block of its own."""
    _Local.lazy = _Local.special = lazy


@dataclass(frozen=True, eq=False)
class Op:
    """An op callable eagerly: the JAX function and how it takes Python scalars."""

    fn: Callable[..., Any]
    name: str
    scalar_operands: bool  # Python scalars in positional arguments are array operands
    direct: bool = False  # always a plain JAX call (`asarray`: data, not a computation)


@dataclass(eq=False)
class Kernel:
    """A compiled one-op program, or a note that the op runs as a plain JAX call."""

    # flat arrays -> list of arrays (`single`: the array itself); None: run directly
    run: Callable[..., Any] | None
    out_tree: Any = None
    single: bool = False
    jaxpr: Any = None  # the op's ClosedJaxpr (what `tiers.record` replays)
    module: ModuleOp | None = None  # the optimized IR
    why_direct: str = ""
    used: bool = False  # hit since the cache last looked (`KernelCache._trim`'s second chance)

    def wrap(self, outs: list[Any]) -> Any:
        if self.single:
            return Tensor(outs[0])
        return jax.tree_util.tree_unflatten(self.out_tree, [Tensor(o) for o in outs])


# -- the cache -------------------------------------------------------------------------------
_NOT_RUN = object()  # `KernelCache.build`: another thread made the kernel; run it yourself


class KernelCache:
    """A bounded LRU dict of kernels, safe to share between threads.

    Compiling happens outside the lock; a per-key in-flight event makes other threads that
    miss on the same key wait for that compile instead of repeating it.
    """

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict[tuple, Kernel] = OrderedDict()
        self._pending: dict[tuple, threading.Event] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0
        self.compile_s = 0.0

    def get(self, key: tuple) -> Kernel | None:
        # The hit path takes no lock: each OrderedDict call is atomic under the GIL, and an
        # entry evicted between `get` and `move_to_end` is still a valid kernel to run.
        kernel = self._entries.get(key)
        if kernel is not None:
            try:  # noqa: SIM105 - contextlib.suppress costs 0.3 us here, try is free
                self._entries.move_to_end(key)
            except KeyError:
                pass
            self.hits += 1
        return kernel

    def peek(self, key: tuple) -> Kernel | None:
        """The kernel for `key` or None, not counted as a use (`touch` counts it)."""
        return self._entries.get(key)

    def touch(self, key: tuple) -> None:
        """Count a hit on `key` and mark it most recently used."""
        try:  # noqa: SIM105 - as in `get`
            self._entries.move_to_end(key)
        except KeyError:
            pass
        self.hits += 1

    def build(self, key: tuple, make: Callable[[], tuple[Kernel, Any]]) -> tuple[Kernel, Any]:
        """The kernel for `key`, made by `make` (-> kernel, first outputs) if nobody has."""
        while True:
            with self._lock:
                kernel = self._entries.get(key)
                if kernel is not None:
                    self.hits += 1
                    return kernel, _NOT_RUN
                event = self._pending.get(key)
                if event is None:
                    self._pending[key] = threading.Event()
                    self.misses += 1
                    break
            event.wait()  # another thread compiles this key; then look again
        start = time.perf_counter()
        try:
            kernel, outs = make()
            with self._lock:
                self._entries[key] = kernel
                self.compile_s += time.perf_counter() - start
                self._trim()
        finally:
            with self._lock:
                self._pending.pop(key).set()
        return kernel, outs

    def resize(self, size: int) -> None:
        with self._lock:
            self.size = size
            self._trim()

    def _trim(self) -> None:
        # Least recently used first, with a second chance for kernels hit on the inlined path
        # (which marks `used` instead of reordering): they go to the back once, unmarked.
        entries = self._entries
        while len(entries) > self.size:
            key, kernel = entries.popitem(last=False)
            if kernel.used:
                kernel.used = False
                entries[key] = kernel

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0
            self.compile_s = 0.0

    def drop(self) -> None:
        """Forget every kernel, keeping the counts (`jax.clear_caches()` calls it)."""
        with self._lock:
            self._entries.clear()

    def info(self) -> dict[str, Any]:
        with self._lock:
            direct = sum(1 for k in self._entries.values() if k.run is None)
            return {"hits": self.hits, "misses": self.misses, "entries": len(self._entries),
                    "direct": direct, "size": self.size, "compile_time_s": self.compile_s}


CACHE = KernelCache(SETTINGS.eager_cache_size)
on_cache_resize(CACHE.resize)
clear_with_jax(CACHE.drop, "tiers eager kernels")


def cache_info() -> dict[str, Any]:
    """`hits`, `misses`, `entries` (of which `direct`), `size` and total `compile_time_s`."""
    return CACHE.info()


def clear_cache() -> None:
    """Drop every compiled eager kernel and reset the counters."""
    CACHE.clear()


# -- the key ---------------------------------------------------------------------------------
# The x64 and default-device switches, read as JAX's jit key reads them (public
# `jax.config.jax_enable_x64` costs twice as much per read).
_X64 = jax_config.enable_x64
_DEVICE = jax_config.default_device
_DISABLE_JIT = jax_config.disable_jit


class _Traced(Exception):
    """An argument is a tracer: we are inside `jax.jit`/`tiers.jit` tracing."""


class _Symbolic(Exception):
    """An argument is a graph tensor (frontend/graph.py)."""


class _Uncacheable(Exception):
    """A static argument holds arrays we cannot key by value."""


class _SymbolicRoute:
    """Where ops on graph tensors go. frontend/graph.py sets it (it imports this module, so
    this one cannot import it): `types` are its tensor types, `call` builds a graph node."""

    def __init__(self) -> None:
        self.types: set[type] = set()
        self.call: Callable[[Op, tuple, dict], Any] = _no_graph

    def __call__(self, op: Op, args: tuple, kwargs: dict) -> Any:
        return self.call(op, args, kwargs)


def _no_graph(op: Op, args: tuple, kwargs: dict) -> Any:
    raise RuntimeError(f"{op.name}: graph tensors without tiers.frontend.graph loaded")


SYMBOLIC = _SymbolicRoute()


class _LazyRoute:
    """Where ops go in lazy mode: frontend/lazy.py sets `record` (it imports this module)."""

    record: Callable[[Op, tuple, list, tuple, dict], Any]


LAZY = _LazyRoute()


def set_symbolic(cls: type, call: Callable[[Op, tuple, dict], Any]) -> None:
    """Route ops with a `cls` argument (or inside a `Graph.as_default()` block) to `call`."""
    SYMBOLIC.types.add(cls)
    SYMBOLIC.call = call


def _scan(x: Any, scalar_operand: bool, dyn: list, key: list) -> None:
    """Append `x`'s arrays to `dyn` and what identifies its kernel to `key`."""
    t = type(x)
    if t is Tensor:
        x = x._value
        t = type(x)
    if t is ArrayImpl:
        dyn.append(x)
        key.append(x.aval)
    elif t is LazyValue:
        if x.array is None and LOCAL.lazy and not LOCAL.recorders:
            dyn.append(x)  # an operand of an op recorded into a pending program
            key.append(x.aval)
        else:
            x = x.get()  # runs its pending program when needed now
            dyn.append(x)
            key.append(x.aval)
    elif t in _SCALARS:
        if scalar_operand:
            dyn.append(x)
            key.append(t)  # weakly typed: every value of this type shares the kernel
        elif t is float or t is complex:
            # repr, not the value: -0.0 == 0.0 would share a kernel that bakes in the sign
            # (found by the fuzzer: 1 / full((), 0.0) gave -inf after a full((), -0.0)).
            key.append((t, repr(x)))
        else:
            key.append((t, x))  # the type too: 1, 1.0 and True are equal keys otherwise
    elif t is tuple or t is list:
        key.append((t, len(x)))
        for item in x:
            _scan(item, False, dyn, key)
    elif t is dict:  # pytrees of parameters (`tiers.grad(loss)(params, ...)`)
        key.append((dict, tuple(x)))
        for item in x.values():
            _scan(item, False, dyn, key)
    elif t is np.ndarray or isinstance(x, np.generic):
        dyn.append(x)
        key.append((x.shape, x.dtype))
    elif isinstance(x, _Tracer):
        raise _Traced
    elif t in SYMBOLIC.types:
        raise _Symbolic
    elif isinstance(x, jax.Array):
        dyn.append(x)
        key.append(x.aval)
    else:
        key.append(_static_key(x))


def _static_key(x: Any) -> Any:
    t = type(x)
    if t is slice:  # unhashable before Python 3.12
        return (slice, _static_key(x.start), _static_key(x.stop), _static_key(x.step))
    try:
        hash(x)
        return (t, x)
    except TypeError:
        pass
    if any(isinstance(leaf, jax.Array | np.ndarray | Tensor)
           for leaf in jax.tree_util.tree_leaves(x)):
        raise _Uncacheable
    return (t, repr(x))


def _rebuild(x: Any, scalar_operand: bool, values: Any) -> Any:
    """`x` with each array `_scan` took replaced by the next of `values` (same walk)."""
    t = type(x)
    if (t is Tensor or t is ArrayImpl or t is LazyValue or t is np.ndarray
            or isinstance(x, np.generic)):
        return next(values)
    if t in _SCALARS:
        return next(values) if scalar_operand else x
    if t is tuple or t is list:
        return t(_rebuild(item, False, values) for item in x)
    if t is dict:
        return {k: _rebuild(item, False, values) for k, item in x.items()}
    if isinstance(x, jax.Array):
        return next(values)
    return x


def _traced_result(out: Any, args: tuple, kwargs: dict) -> Any:
    """`out` of an op on tracers, its arrays as Tensors if a Tensor of a staging tracer (`jax.jit`,
    a `jax.lax` loop body) was an argument: a Tensor stays a Tensor there, so one carried by
    `jax.lax.fori_loop` keeps its type. Under autodiff and batching tracers (`jax.grad(f)(t)`,
    `vmap`) results stay plain JAX values, as JAX's transformations need their outputs to be
    arrays; so do ops on plain tracers and on Tensor constants, as JAX's own."""

    def is_tensor(x: Any) -> bool:
        return type(x) is Tensor

    leaves = jax.tree_util.tree_leaves((args, kwargs), is_leaf=is_tensor)
    if not any(type(x) is Tensor and isinstance(x._value, _Staging) for x in leaves):
        return out
    return jax.tree_util.tree_map(lambda x: Tensor(x) if isinstance(x, jax.Array) else x, out,
                                  is_leaf=is_tensor)


def _unwrap(x: Any) -> Any:
    """`x` with Tensors replaced by their values (for calls into JAX itself)."""
    t = type(x)
    if t is Tensor:
        return x._concrete()
    if t is tuple or t is list:
        return t(_unwrap(item) for item in x)
    if t is dict:
        return {k: _unwrap(item) for k, item in x.items()}
    return x


# -- dispatch --------------------------------------------------------------------------------


def _key(op: Op, args: tuple, kwargs: dict, dyn: list) -> tuple:
    """The cache key of `op(*args, **kwargs)`; fills `dyn` with the array arguments."""
    # The pipeline's text and the plugin set's generation stand for the passes it runs.
    key: list[Any] = [op, SETTINGS.eager_pipeline, SETTINGS.generation, _X64.value,
                      _DEVICE.value, len(args)]
    scalar_operands = op.scalar_operands
    for arg in args:
        t = type(arg)  # the common case inline: `_scan` does the same, a call slower
        if t is Tensor:
            arg = arg._value
            t = type(arg)
        if t is ArrayImpl:
            dyn.append(arg)
            key.append(arg.aval)
        else:
            _scan(arg, scalar_operands, dyn, key)
    if kwargs:
        for name, value in kwargs.items():
            key.append(name)  # a bare str: static values are (type, value) pairs, never bare
            _scan(value, False, dyn, key)
    return tuple(key)


def call(op: Op, args: tuple, kwargs: dict) -> Any:
    """Run `op` eagerly (a Tensor result), traced (a JAX value) or symbolically (a graph node).
    (`wrap`'s ops inline the common hit path first.)"""
    if LOCAL.graphs:
        return SYMBOLIC(op, args, kwargs)
    if op.direct:
        return _call_direct(op, args, kwargs)
    dyn: list[Any] = []
    try:
        key = _key(op, args, kwargs, dyn)
    except _Traced:  # inside jax.jit/tiers.jit tracing: plain JAX, traced code stays unchanged
        out = op.fn(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})
        return _traced_result(out, args, kwargs)
    except _Symbolic:
        return SYMBOLIC(op, args, kwargs)
    except _Uncacheable:
        return _tensors(op.fn(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()}))
    if LOCAL.lazy and not LOCAL.recorders:  # `tiers.record` needs each op's kernel: immediate
        return LAZY.record(op, key, dyn, args, kwargs)
    kernel = CACHE.get(key)
    outs: Any = _NOT_RUN  # or the outputs `CACHE.build` ran while making the kernel
    if kernel is None:
        kernel, outs = CACHE.build(key, functools.partial(_make, op, args, kwargs, dyn))
    if outs is _NOT_RUN:
        outs = _run(kernel, dyn) if kernel.run is not None else _direct(op, args, kwargs, dyn)
    if kernel.single:
        flat, result = outs, Tensor(outs[0])
    elif kernel.run is None:
        flat, result = jax.tree_util.tree_leaves(outs), _tensors(outs)
    else:
        flat, result = outs, kernel.wrap(outs)
    if LOCAL.recorders:
        for recorder in LOCAL.recorders:
            recorder.add(op, kernel, dyn, flat)
    return result


def _run(kernel: Kernel, dyn: list) -> list[Any]:
    run = kernel.run
    assert run is not None, "a kernel without `run` is called directly (`_direct`)"
    if _DISABLE_JIT.value:
        # Functions run eagerly (`tiers.config`), which is JAX's `jax_disable_jit`; eager ops
        # still run their compiled kernels rather than walking the IR op by op in Python.
        with jax.disable_jit(False):
            outs = run(*dyn)
    else:
        outs = run(*dyn)
    return [outs] if kernel.single else outs


def direct(op: Op, args: tuple, kwargs: dict, dyn: list) -> Any:
    """`op` run as a plain JAX call on the arrays `dyn` (what `_key` took from the arguments),
    its array results as Tensors."""
    return _tensors(_direct(op, args, kwargs, dyn))


def _direct(op: Op, args: tuple, kwargs: dict, dyn: list) -> Any:
    """`op` run as a plain JAX call on the same arrays."""
    values = iter(dyn)
    args = tuple(_rebuild(a, op.scalar_operands, values) for a in args)
    kwargs = {k: _rebuild(v, False, values) for k, v in kwargs.items()}
    return op.fn(*args, **kwargs)


def _call_direct(op: Op, args: tuple, kwargs: dict) -> Any:
    if any(type(leaf) in SYMBOLIC.types for leaf in jax.tree_util.tree_leaves((args, kwargs))):
        return SYMBOLIC(op, args, kwargs)
    return _tensors(op.fn(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()}))


def _tensors(out: Any) -> Any:
    """`out` with each concrete array wrapped in a Tensor (tracers stay plain JAX values)."""
    return jax.tree_util.tree_map(
        lambda x: Tensor(x) if isinstance(x, jax.Array) and not isinstance(x, _Tracer) else x,
        out)


class _NotAnArrayOp(Exception):
    pass


# Why an op cannot be a compiled kernel (or a lazy op): it then runs as a plain JAX call.
NOT_COMPILABLE = (_NotAnArrayOp, ImportError_, UnsupportedDType, *_NEEDS_VALUES)


def spec(x: Any) -> jax.ShapeDtypeStruct:
    """The abstract value JAX traces `x` as (shape, dtype, weak type)."""
    aval = jax.typeof(x)
    return jax.ShapeDtypeStruct(aval.shape, aval.dtype, weak_type=aval.weak_type)


def trace(op: Op, args: tuple, kwargs: dict, specs: list[Any]) -> tuple[Any, Any]:
    """`op` for arguments whose arrays (`_key`'s `dyn`) have abstract values `specs`, traced:
    its ClosedJaxpr and output tree. JAX's shape and dtype errors raise from here; an op that is
    no array computation raises one of `NOT_COMPILABLE`."""
    trees: list[Any] = []

    def one_op(*values: Any) -> list[Any]:
        it = iter(values)
        full_args = [_rebuild(a, op.scalar_operands, it) for a in args]
        full_kwargs = {k: _rebuild(v, False, it) for k, v in kwargs.items()}
        leaves, tree = jax.tree_util.tree_flatten(op.fn(*full_args, **full_kwargs))
        if not leaves:  # `meshgrid()`, `unstack` of an empty array: nothing to compile
            raise _NotAnArrayOp("it returns no arrays")
        if not all(isinstance(leaf, _Tracer) for leaf in leaves):
            raise _NotAnArrayOp("it returns values that are not arrays")
        if not any(leaf.size for leaf in leaves):  # `zeros((3, 0))`: no value to compute,
            raise _NotAnArrayOp("it returns only empty arrays")  # so no kernel per shape
        trees.append(tree)
        return leaves

    closed = jax.make_jaxpr(one_op)(*specs)
    return closed, trees[0]


def why(e: Exception) -> str:
    """The one line saying why an op runs as a plain JAX call."""
    return f"{type(e).__name__}: {e}".split("\n")[0]


def _make(op: Op, args: tuple, kwargs: dict, dyn: list) -> tuple[Kernel, list[Any]]:
    """Trace, import, optimize and compile `op` for these arguments, and run it once."""
    try:
        closed, tree = trace(op, args, kwargs, [spec(x) for x in dyn])
        module = import_jaxpr(closed, "main")
    except NOT_COMPILABLE as e:
        return Kernel(None, why_direct=why(e)), _direct(op, args, kwargs, dyn)
    name = getattr(op.fn, "__name__", "eager_op")
    replay = functools.partial(import_jaxpr, closed, "main")  # for a crash reproducer
    pipeline.compile(module, SETTINGS.eager_pipeline, name=name, replay=replay)
    single = jax.tree_util.treedef_is_leaf(tree)  # then `run` returns the array itself
    kernel = Kernel(jax_target.compile(module, bare=single), tree, single, closed, module)
    return kernel, _run(kernel, dyn)


def kernel_for(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Kernel:
    """The cached kernel the eager call `fn(*args, **kwargs)` runs (compiled if missing)."""
    op: Op = fn.__tiers_op__  # type: ignore[attr-defined]
    fn(*args, **kwargs)
    kernel = CACHE.get(_key(op, args, kwargs, []))
    assert kernel is not None, "the call did not go through the kernel cache"
    return kernel


def wrap(fn: Callable[..., Any], name: str, scalar_operands: bool = False,
         direct: bool = False) -> Callable[..., Any]:
    """`fn` (a JAX function) as an eager op with the same name, docstring and signature."""
    op = Op(fn, name, scalar_operands, direct)
    entries = CACHE._entries

    def eager_op(*args: Any, **kwargs: Any) -> Any:
        # The hit path of the common case, inlined (this is most of an eager op's Python: each
        # call or attribute lookup saved is ~0.05-0.1 us of ~6 us): immediate mode on this
        # thread, positional Tensor/array/scalar operands, a kernel with one result. Anything
        # else, and every miss, takes `call`, which keys the op again the general way.
        try:  # free until an error is raised (Python 3.11's zero-cost try)
            if LOCAL.special or kwargs or direct:
                return call(op, args, kwargs)
            if len(args) == 2:  # binary ops, the most common, without the lists of the loop below
                a, b = args
                if type(a) is Tensor:
                    a = a._value
                if type(b) is Tensor:
                    b = b._value
                ta, tb = type(a), type(b)
                if ta is ArrayImpl:
                    ka: Any = a.aval
                elif ta in _SCALARS and scalar_operands:
                    ka = ta
                else:
                    return call(op, args, kwargs)
                if tb is ArrayImpl:
                    kb: Any = b.aval
                elif tb in _SCALARS and scalar_operands:
                    kb = tb
                else:
                    return call(op, args, kwargs)
                # The same key as `_key` builds.
                kernel = entries.get((op, SETTINGS.eager_pipeline, SETTINGS.generation,
                                      _X64.value, _DEVICE.value, 2, ka, kb))
                if kernel is None or not kernel.single or _DISABLE_JIT.value:
                    return call(op, args, kwargs)
                kernel.used = True  # the cache's second chance instead of an LRU reordering
                CACHE.hits += 1
                return Tensor(kernel.run(a, b))  # type: ignore[misc]  # single: bare `run`
            dyn: list[Any] = []
            avals: list[Any] = []
            for arg in args:
                t = type(arg)
                if t is Tensor:
                    arg = arg._value
                    t = type(arg)
                if t is ArrayImpl:
                    dyn.append(arg)
                    avals.append(arg.aval)
                elif t in _SCALARS and scalar_operands:
                    dyn.append(arg)
                    avals.append(t)
                else:
                    return call(op, args, kwargs)
            kernel = entries.get((op, SETTINGS.eager_pipeline, SETTINGS.generation, _X64.value,
                                  _DEVICE.value, len(args), *avals))
            if kernel is None or not kernel.single or _DISABLE_JIT.value:
                return call(op, args, kwargs)
            kernel.used = True
            CACHE.hits += 1
            return Tensor(kernel.run(*dyn))  # type: ignore[misc]  # single: `run` is set, bare
        except Exception as e:  # the user's mistake shows the user's frames (tracebacks.py)
            filter_raised(e)
            raise

    functools.update_wrapper(eager_op, fn)
    eager_op.__qualname__ = eager_op.__name__ = name.rsplit(".", 1)[-1]
    eager_op.__module__ = name.rsplit(".", 1)[0]
    eager_op.__tiers_op__ = op  # type: ignore[attr-defined]
    register_boundary(eager_op.__code__)  # one code object for every op: a set of one
    return eager_op
