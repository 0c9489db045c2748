"""`tiers.jit`: trace with JAX, import into tiers IR, run the pipeline, compile with XLA.

The returned object wraps one `jax.jit` whose traced function is tiers' compiler: on a
signature JAX has not seen, JAX calls it with tracers, and it traces the user's function to
a jaxpr, imports it, runs the pass pipeline and walks the optimized IR with `jax.lax` rules.
So the signature cache is JAX's own (keyed by pytree structure, shapes, dtypes, weak types
and static arguments), and a call that hits it costs exactly a `jax.jit` call: no tracing,
importing, passes or IR walking.
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
from xdsl.dialects.builtin import ModuleOp
from xdsl.printer import Printer

from tiers import passes
from tiers.context import make_context
from tiers.frontend import devices, import_rules  # noqa: F401 - import_rules: the rules
from tiers.frontend.errors import explain_carried_type, explain_concretization
from tiers.frontend.importer import import_jaxpr
from tiers.frontend.retrace import RetraceLog, signature
from tiers.frontend.tensor import Tensor
from tiers.passes.check import IMPORT_DIALECTS, check_spec
from tiers.passes.collector import gc_paused
from tiers.targets import jax as jax_target
from tiers.targets.walk import find_function

_UNSET: Any = object()  # jax.jit's "not given" (None is a valid sharding there)


@dataclass
class Program:
    """One specialization: the IR after each stage and the output pytree structure."""

    module: ModuleOp
    out_tree: Any
    out_weak: tuple[bool, ...] = ()
    imported_text: str | None = None

    def run(self, flat_args: Sequence[Any]) -> list[Any]:
        outs = jax_target.to_callable(self.module)(*flat_args)
        # tiers IR types have no weak-type bit; restore JAX's, since it steers later
        # promotion (a weak f32 times an f16 array stays f16).
        return [_weaken(x) if weak else x for x, weak in zip(outs, self.out_weak, strict=True)]


@dataclass
class CacheInfo:
    traces: int = 0  # specializations built (trace + import + pipeline)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def _print(module: ModuleOp, debuginfo: bool = False) -> str:
    import io

    out = io.StringIO()
    Printer(stream=out, print_debuginfo=debuginfo).print_op(module)
    return out.getvalue() + "\n"


class JitFunction:
    """tiers' compiler for one user function; `jit` hands out its `jax.jit` front door."""

    def __init__(self, fn: Callable[..., Any], *, pipeline: str = "default",
                 static_argnums: int | Sequence[int] = (),
                 static_argnames: str | Sequence[str] = (), verify: bool | None = None,
                 device: Any = None, in_shardings: Any = _UNSET, out_shardings: Any = _UNSET,
                 debug: passes.Debug | bool | None = None):
        self._fn = fn
        # Placement goes to JAX's jit as is; `_program` records it in the IR (frontend/devices).
        self.device = None if device is None else devices.resolve(device)
        if self.device is not None:
            if in_shardings is not _UNSET or out_shardings is not _UNSET:
                raise ValueError("tiers.jit takes a device or shardings, not both")
            in_shardings = out_shardings = jax.sharding.SingleDeviceSharding(self.device)
        self.in_shardings, self.out_shardings = in_shardings, out_shardings
        placement = {k: v for k, v in (("in_shardings", in_shardings),
                                       ("out_shardings", out_shardings)) if v is not _UNSET}
        self.pipeline = pipeline
        passes.parse(pipeline)  # fail early on an unknown pass
        check_spec(pipeline, IMPORT_DIALECTS)  # and on passes in an order that cannot work
        # `debug`: a `tiers.passes.Debug` (printing, timing, checks), True for its defaults.
        self.debug = passes.Debug() if debug is True else (debug or None)
        self.static_argnums, self.static_argnames = _static_args(fn, static_argnums,
                                                                 static_argnames)
        # Verifying costs as much as a pass (~25 us/op); off by default on this hot path
        # (passes must leave valid IR, and the test suite verifies), on with TIERS_VERIFY=1.
        self.verify = os.environ.get("TIERS_VERIFY", "0") == "1" if verify is None else verify
        self.info = CacheInfo()
        self.retraces = RetraceLog(getattr(fn, "__name__", repr(fn)))

        @functools.wraps(fn)  # JAX reads the signature for static_argnames and the name
        def compile_and_run(*args: Any, **kwargs: Any) -> Any:
            if jax.config.jax_disable_jit:
                # `tiers.config.run_functions_eagerly` is JAX's `jax_disable_jit`: JAX's
                # dispatcher then calls us with the original arguments instead of an executable.
                # So the switch costs a compiled call nothing (this runs only on a miss).
                return fn(*args, **kwargs)
            return self._compile_and_run(args, kwargs)

        self.jitted = jax.jit(compile_and_run, static_argnums=self.static_argnums,
                              static_argnames=self.static_argnames, **placement)
        self.jax_lower = self.jitted.lower  # JAX's own, before `jit` puts tiers' in its place

    # -- the compiler, run by JAX on a cache miss -----------------------------------------
    def _compile_and_run(self, args: tuple, kwargs: dict) -> Any:
        program, dynamic = self._program(args, kwargs, keep_import=False)
        outs = program.run(dynamic)
        if _has_tensor((args, kwargs)):
            # Called with tiers Tensors (eager style): answer with Tensors. This is decided
            # per signature at trace time (Tensor is a pytree node), so calls with plain
            # arrays keep jax.jit's exact cost and return arrays, as jax.jit does.
            outs = [Tensor(x) for x in outs]
        return jax.tree_util.tree_unflatten(program.out_tree, outs)

    def _program(self, args: tuple, kwargs: dict, keep_import: bool) -> tuple[Program, list]:
        n = len(args)
        static_pos = {i % n for i in self.static_argnums if -n <= i < n}
        dyn_args = [a for i, a in enumerate(args) if i not in static_pos]
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        leaves, in_tree = jax.tree_util.tree_flatten((dyn_args, dyn_kwargs))
        out_tree_box: list[Any] = []

        def flat_fn(*flat: Any) -> list[Any]:
            d_args, d_kwargs = jax.tree_util.tree_unflatten(in_tree, flat)
            it = iter(d_args)
            full = [args[i] if i in static_pos else next(it) for i in range(len(args))]
            full_kwargs = {**kwargs, **d_kwargs}
            out = self._fn(*full, **full_kwargs)
            out_leaves, out_tree = jax.tree_util.tree_flatten(out)
            out_tree_box.append(out_tree)
            return out_leaves

        specs = [_spec(x) for x in leaves]
        try:
            closed = jax.make_jaxpr(flat_fn)(*specs)
        except jax.errors.ConcretizationTypeError as e:
            raise explain_concretization(e) from None
        except TypeError as e:  # a loop body that changes a carried type, at the user's line
            if (explained := explain_carried_type(e)) is None:
                raise
            raise explained from None
        with self.info.lock:
            self.info.traces += 1
            if not keep_import:
                self.retraces.record(signature(self._fn, args, kwargs, static_pos,
                                               self.static_argnames))
        with gc_paused():  # IR is one large object graph: full collections rescan all of it
            module = import_jaxpr(closed, "main")
        self._annotate(module, dyn_args, dyn_kwargs, out_tree_box[0])
        imported = _print(module) if keep_import else None
        name = getattr(self._fn, "__name__", "main")
        replay = functools.partial(import_jaxpr, closed, "main")  # for a crash reproducer
        passes.run(self.pipeline, _CTX, module, debug=self.debug, name=name, replay=replay)
        if self.verify:
            passes.verify_result(self.pipeline, _CTX, module, name=name, replay=replay)
        out_weak = tuple(bool(getattr(a, "weak_type", False)) for a in closed.out_avals)
        return Program(module, out_tree_box[0], out_weak, imported), leaves

    def _annotate(self, module: ModuleOp, dyn_args: list, dyn_kwargs: dict, out_tree: Any) -> None:
        """Record device and shardings on `@main`, as JAX's jit reads them."""
        if self.device is None and self.in_shardings is _UNSET and self.out_shardings is _UNSET:
            return
        tree = tuple(dyn_args) if not dyn_kwargs else (tuple(dyn_args), dyn_kwargs)
        ins = [None] * len(jax.tree_util.tree_leaves(tree))
        outs = [None] * out_tree.num_leaves
        if self.device is None:
            if self.in_shardings is not _UNSET:
                ins = devices.flat_shardings(self.in_shardings, tree)
            if self.out_shardings is not _UNSET:
                outs = devices.flat_shardings(self.out_shardings,
                                              jax.tree_util.tree_unflatten(
                                                  out_tree, [0] * len(outs)))
        devices.annotate(find_function(module, "main"), self.device, ins, outs)

    # -- inspection -------------------------------------------------------------------------
    def lower(self, *args: Any, **kwargs: Any) -> Lowered:
        """The IR of this function for these arguments, after import and after the pipeline."""
        program, _ = self._program(args, kwargs, keep_import=True)
        return Lowered(self.jax_lower, program, args, kwargs)

    def cache_info(self) -> dict[str, int]:
        """`traces`: specializations built so far (each traced, imported, optimized once)."""
        return {"traces": self.info.traces}


@dataclass
class Lowered:
    """What `JitFunction.lower` returns: the IR stages and a way to compile them."""

    jax_lower: Any
    program: Program
    args: tuple
    kwargs: dict

    def as_text(self, stage: str = "optimized", debuginfo: bool = False) -> str:
        """`stage`: "import" (before passes), "optimized" (after them) or "hlo" (StableHLO)."""
        if stage == "import":
            assert self.program.imported_text is not None
            return self.program.imported_text
        if stage == "optimized":
            return _print(self.program.module, debuginfo)
        if stage == "hlo":
            return self.jax_lower(*self.args, **self.kwargs).as_text()
        raise ValueError(f"unknown stage '{stage}' (stages: import, optimized, hlo)")

    def compile(self) -> Any:
        """The XLA executable (a `jax.stages.Compiled`)."""
        return self.jax_lower(*self.args, **self.kwargs).compile()


def _has_tensor(tree: Any) -> bool:
    leaves = jax.tree_util.tree_leaves(tree, is_leaf=lambda x: isinstance(x, Tensor))
    return any(isinstance(x, Tensor) for x in leaves)


def _weaken(x: Any) -> Any:
    from jax._src.lax.lax import _convert_element_type  # the one way to set weak_type

    return _convert_element_type(x, weak_type=True)


def _static_args(fn: Callable[..., Any], argnums: int | Sequence[int],
                 argnames: str | Sequence[str]) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Static arguments by position and by name, each completed from the other (as jax.jit)."""
    nums = {argnums} if isinstance(argnums, int) else set(argnums)
    names = {argnames} if isinstance(argnames, str) else set(argnames)
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return tuple(sorted(nums)), tuple(sorted(names))
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    for i, p in enumerate(positional):
        if p.name in names:
            nums.add(i)
        elif i in nums and p.kind is p.POSITIONAL_OR_KEYWORD:
            names.add(p.name)
    return tuple(sorted(nums)), tuple(sorted(names))


def _spec(x: Any) -> jax.ShapeDtypeStruct:
    aval = jax.typeof(x)
    return jax.ShapeDtypeStruct(aval.shape, aval.dtype, weak_type=aval.weak_type)


_CTX = make_context()


def jit(fn: Callable[..., Any] | None = None, *, pipeline: str = "default",
        static_argnums: int | Sequence[int] = (), static_argnames: str | Sequence[str] = (),
        verify: bool | None = None, device: Any = None, in_shardings: Any = _UNSET,
        out_shardings: Any = _UNSET, debug: passes.Debug | bool | None = None) -> Any:
    """Compile `fn` through tiers; usable as `@jit` or `@jit(pipeline="O1")`.

    `debug` (a `tiers.passes.Debug`, or True) prints, times and checks each pass of the
    pipeline as `tiers-opt`'s flags do; a failing pass writes a reproducer either way.

    `device` (a `jax.Device`, "platform[:id]" or an index into `tiers.devices()`) runs it on
    that device; `in_shardings`/`out_shardings` are `jax.jit`'s (`NamedSharding`s, or
    `PartitionSpec`s under `jax.set_mesh`). Both are recorded in the IR (`tiers.device`,
    `tiers.mesh`, `tiers.sharding`), which the JAX target honours when compiling IR alone.
    """
    options = dict(pipeline=pipeline, static_argnums=static_argnums,
                   static_argnames=static_argnames, verify=verify, device=device,
                   in_shardings=in_shardings, out_shardings=out_shardings, debug=debug)
    if fn is None:
        return lambda f: jit(f, **options)
    compiler = JitFunction(fn, **options)
    # Hand out JAX's own C++ dispatcher so a call that hits the cache costs exactly a
    # `jax.jit` call; tiers' inspection API rides on it as attributes.
    front = compiler.jitted
    front.lower = compiler.lower
    front.cache_info = compiler.cache_info
    front.pipeline = pipeline
    front.tiers_compiler = compiler
    return front
