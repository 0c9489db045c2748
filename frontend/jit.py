"""`tiers.jit`: trace with JAX, compile with tiers after JAX's transformations, run on XLA.

The compile path, and why transformations stay exact:

1. `tiers.jit(f)` hands out one `jax.jit` whose traced function binds the `tiers_call`
   primitive (frontend/call.py) on `f`. JAX traces `f` into the call's jaxpr, once per input
   signature; the signature cache is JAX's own (pytree structure, shapes, dtypes, weak types,
   static arguments), so a call that hits it costs exactly a `jax.jit` call.
2. JAX transforms that jaxpr, not tiers' output: `jax.grad`, `vjp`, `jvp`, `linearize`,
   `vmap`, `hessian`, `jacfwd`/`jacrev` and `checkpoint` around `tiers.jit` rebuild the call's
   jaxpr from the user's program with JAX's own rules (`stop_gradient`, `custom_jvp`/
   `custom_vjp` rules, checkpoint policies, `custom_vmap` included), as they do for `jax.jit`.
3. When XLA needs the program, JAX lowers `tiers_call`; its lowering rule is where tiers
   compiles: import the (possibly transformed) jaxpr, `tiers.pipeline.compile` it (passes
   and verification), emit.
   Nothing tiers emits is transformed again, so no pass can change a derivative or a batching.

The cost: a transformed call is compiled by tiers as its own program (the forward pass with
its residuals and the backward pass of `jax.grad` are two tiers programs), as `jax.jit`'s
are two XLA programs.

Ahead of time, `f.trace`, `f.lower`, `.compile()` and `f.eval_shape` are that `jax.jit`'s own
stages (`jax.stages.Traced`, `Lowered`, `Compiled`), so they answer as `jax.jit`'s do (the
StableHLO, `cost_analysis`, `in_tree`, `out_info`, `compile(compiler_options)`); tiers'
`Lowered` adds its IR before and after the pipeline (`as_text("import" | "optimized")`),
built on first use from the traced `tiers_call`, the optimized one shared with the lowering.

Bad arguments fail at `jit(...)`, as `jax.jit`'s do: a non-callable or an option of the wrong
type is a TypeError naming it, an unknown pass a `PipelineError` (a ValueError). Shapes must be
static: an argument with a symbolic shape (`jax.export.symbolic_shape`) is a
`SymbolicShapeError` (a NotImplementedError) when traced, before tiers imports anything.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import operator
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import jax
from jax._src import api_util, core
from jax._src import linear_util as lu_internal
from xdsl.dialects.builtin import ModuleOp
from xdsl.printer import Printer

from tiers.frontend import devices, pretrace
from tiers.frontend.call import MODULES, Options, tiers_call_p
from tiers.frontend.config import PIPELINE, bad_argument, check_pipeline
from tiers.frontend.errors import (
    EXPLAINED,
    TracedValueError,
    explain_carried_type,
    explain_concretization,
)
from tiers.frontend.fingerprint import NoKey
from tiers.frontend.importer import import_jaxpr
from tiers.frontend.retrace import RetraceLog, signature
from tiers.frontend.tensor import Tensor
from tiers.frontend.tracebacks import boundary
from tiers.passes.collector import gc_paused
from tiers.pipeline import Debug, Pipeline
from tiers.pipeline.check import IMPORT_DIALECTS
from tiers.pipeline.dot import module_to_dot, render
from tiers.targets.jax.hlo import JAX_JIT
from tiers.targets.walk import find_function


class _Unset:
    def __repr__(self) -> str:  # as the trace cache's key reads it (frontend/pretrace.py)
        return "unset"


_UNSET: Any = _Unset()  # jax.jit's "not given" (None is a valid sharding there)

# JAX's `jit`, captured when tiers is imported (targets/jax/hlo.py): a library that patches or
# wraps `jax.jit` later (`mock.patch("jax.jit")`, chex's fake/assert-trace wrappers) must not
# change what `tiers.jit` builds, whose dispatcher and caching are those of the real `jax.jit`.
_jax_jit = JAX_JIT


class SymbolicShapeError(NotImplementedError):
    """An argument of a `tiers.jit` function has a symbolic shape (`jax.export.symbolic_shape`):
    tiers' IR has static shapes only, so shape polymorphism is not supported."""


@dataclass
class Program:
    """One specialization, for inspection: its IR after the pipeline and its output structure."""

    module: ModuleOp
    out_tree: Any


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

    def __init__(self, fn: Callable[..., Any], *, pipeline: str | Pipeline = "default",
                 static_argnums: int | Sequence[int] | None = None,
                 static_argnames: str | Sequence[str] | None = None,
                 donate_argnums: int | Sequence[int] | None = None,
                 donate_argnames: str | Sequence[str] | None = None,
                 keep_unused: bool = False, verify: bool | None = None,
                 device: Any = None, backend: str | None = None, inline: bool = False,
                 compiler_options: dict[str, Any] | None = None,
                 in_shardings: Any = _UNSET, out_shardings: Any = _UNSET,
                 debug: Debug | bool | None = None):
        self._fn = fn
        if device is not None and backend is not None:  # jax.jit's own rule, said up front
            raise ValueError("tiers.jit takes a device or a backend, not both")
        self.backend = backend
        # Placement goes to JAX's jit as is; `_program` records it in the IR (frontend/devices).
        self.device = None if device is None else _device(device)
        if self.device is not None:
            if in_shardings is not _UNSET or out_shardings is not _UNSET:
                raise ValueError("tiers.jit takes a device or shardings, not both")
            in_shardings = out_shardings = jax.sharding.SingleDeviceSharding(self.device)
        self.in_shardings, self.out_shardings = in_shardings, out_shardings
        # What else jax.jit is given, for the trace cache's key (frontend/pretrace.py).
        self.jit_options = (donate_argnums, donate_argnames, keep_unused, inline,
                            compiler_options)
        placement = {k: v for k, v in (("in_shardings", in_shardings),
                                       ("out_shardings", out_shardings)) if v is not _UNSET}
        # Parsed and checked once, here: an unknown pass or an order that cannot work on what
        # the importer produces fails at decoration, naming the known passes.
        self.pipeline = check_pipeline(pipeline, "tiers.jit")
        self.pipeline.check(IMPORT_DIALECTS)
        # `debug`: a `tiers.pipeline.Debug` (printing, timing, checks), True for its defaults.
        self.debug = Debug() if debug is True else (debug or None)
        self.static_argnums, self.static_argnames = _static_args(fn, static_argnums,
                                                                 static_argnames)
        # The result is always verified (tiers.pipeline.compile); `verify=True` also verifies
        # after each pass, naming the pass that broke the IR (TIERS_VERIFY=1 for every jit).
        self.verify = bool(verify)
        self.info = CacheInfo()
        self.retraces = RetraceLog(getattr(fn, "__name__", repr(fn)))
        self.name = getattr(fn, "__name__", "main")

        self.options = Options(self.pipeline, self.verify, self.debug)

        @functools.wraps(fn)  # JAX reads the signature for static_argnames and the name
        def trace(*args: Any, **kwargs: Any) -> Any:
            if jax.config.jax_disable_jit:  # type: ignore[attr-defined]  # see config.py
                # `tiers.config.run_functions_eagerly` is JAX's `jax_disable_jit`: JAX's
                # dispatcher then calls us with the original arguments instead of an executable.
                # So the switch costs a compiled call nothing (this runs only on a miss).
                return fn(*args, **kwargs)
            return self._bind(args, kwargs)

        # Everything else is jax.jit's, with its meaning: donated buffers alias outputs of the
        # executable around `tiers_call`, `inline` inlines that call into an enclosing jit's
        # jaxpr, `compiler_options` go to XLA, `keep_unused` and `backend` are jax.jit's.
        self.jitted = _jax_jit(trace, static_argnums=self.static_argnums,
                               static_argnames=self.static_argnames,
                               donate_argnums=donate_argnums, donate_argnames=donate_argnames,
                               keep_unused=keep_unused, backend=backend, inline=inline,
                               compiler_options=compiler_options, **placement)
        # JAX's own, before `jit` puts tiers' in their place on the same object.
        self.jax_lower, self.jax_trace = self.jitted.lower, self.jitted.trace

    # -- run by JAX on a signature it has not seen ------------------------------------------
    def _bind(self, args: tuple, kwargs: dict) -> Any:
        """Bind `tiers_call` on the user's function: JAX traces it into the call's jaxpr, and
        tiers compiles that jaxpr when JAX lowers the call (frontend/call.py says why). With
        the trace cache on, a call whose key is stored binds its program instead
        (frontend/pretrace.py)."""
        key = None
        if pretrace.active(self.debug):
            found, key = self._stored(args, kwargs)
            if found is not None:
                return found
        outs, out_tree = self._bind_flat(args, kwargs)
        if key is not None:
            pretrace.store(key, out_tree, outs)
        with self.info.lock:
            self.info.traces += 1
            self.retraces.record(signature(self._fn, args, kwargs, self._static_pos(args),
                                           self.static_argnames))
        return self._results(args, kwargs, jax.tree_util.tree_unflatten(out_tree, outs))

    def _bind_flat(self, args: tuple, kwargs: dict) -> tuple[list[Any], Any]:
        """`tiers_call` bound on the user's function: its results, and their treedef."""
        flat_fn, leaves, out_tree, out_paths = self._flatten(args, kwargs)
        debug_info = self._debug_info(args, kwargs)
        self._check_static_shapes(leaves, debug_info)
        # The results' pytree paths (`result['loss']`), known once traced, go in the call's
        # jaxpr as JAX's jit puts them in its own: they name `@main`'s results.
        wrapped = lu_internal.wrap_init(flat_fn, debug_info=debug_info).replace_debug_info(
            debug_info._replace(result_paths=out_paths))
        with _explained():
            outs = tiers_call_p.bind(*leaves, subfuns=(wrapped,), name=self.name,
                                     options=self.options)
        return outs, out_tree()

    @staticmethod
    def _results(args: tuple, kwargs: dict, result: Any) -> Any:
        if _has_tensor((args, kwargs)):
            # Called with tiers Tensors (eager style): answer with Tensors. This is decided
            # per signature at trace time (Tensor is a pytree node), so calls with plain
            # arrays keep jax.jit's exact cost and return arrays, as jax.jit does. Results
            # that are Tensors already (the function returned some) stay as they are.
            result = jax.tree_util.tree_map(_as_tensor, result, is_leaf=_is_tensor)
        return result

    def _stored(self, args: tuple, kwargs: dict) -> tuple[Any, str | None]:
        """The call's results from the trace cache (None on a miss), and its key (None when
        it has none: the reason is counted in `tiers.cache_info()["traces"]`)."""
        dyn_args, dyn_kwargs = self._dynamic(args, kwargs)
        leaves, in_tree = jax.tree_util.tree_flatten((dyn_args, dyn_kwargs))
        try:
            key = pretrace.call_key(self, args, kwargs, leaves, in_tree)
        except NoKey as e:
            pretrace.no_key(str(e))
            return None, None
        stored = pretrace.find(key, self._retracer(args, kwargs, in_tree))
        if stored is None:
            return None, key
        outs = pretrace.tiers_cached_p.bind(*leaves, stored=stored)
        return self._results(args, kwargs, pretrace.results(stored, outs)), key

    def _retracer(self, args: tuple, kwargs: dict, in_tree: Any) -> Callable[..., list[Any]]:
        """The user's function bound as `tiers_call` on flat dynamic leaves, for the rules of
        `tiers_cached`: it keeps the static arguments only (not the call's arrays)."""
        statics = {i: args[i] for i in self._static_pos(args)}
        count = len(args)
        static_kwargs = {k: v for k, v in kwargs.items() if k in self.static_argnames}

        def retrace(*leaves: Any) -> list[Any]:
            d_args, d_kwargs = jax.tree_util.tree_unflatten(in_tree, leaves)
            rest = iter(d_args)
            full = tuple(statics[i] if i in statics else next(rest) for i in range(count))
            return self._bind_flat(full, {**static_kwargs, **d_kwargs})[0]

        return retrace

    def _debug_info(self, args: tuple, kwargs: dict) -> Any:
        """JAX's description of this call (the function, its arguments' names)."""
        return api_util.debug_info("tiers.jit", self._fn, args, kwargs,
                                   static_argnums=self.static_argnums,
                                   static_argnames=self.static_argnames)

    def _check_static_shapes(self, leaves: list[Any], debug_info: Any) -> None:
        """`SymbolicShapeError` naming the first argument whose shape is symbolic."""
        for i, leaf in enumerate(leaves):
            aval = jax.typeof(leaf)
            if all(isinstance(d, int) for d in getattr(aval, "shape", ())):
                continue
            names = getattr(debug_info, "arg_names", None) or ()
            name = names[i] if len(names) == len(leaves) else f"#{i}"
            raise SymbolicShapeError(
                f"tiers.jit({self.name}): argument {name} has the symbolic shape "
                f"{aval.str_short()}; shape polymorphism (jax.export.symbolic_shape) is not "
                "supported, tiers compiles static shapes: lower or export with concrete ones")

    def _static_pos(self, args: tuple) -> set[int]:
        n = len(args)
        return {i % n for i in self.static_argnums if -n <= i < n}

    def _dynamic(self, args: tuple, kwargs: dict) -> tuple[list[Any], dict[str, Any]]:
        """The arguments that are not static, positional and by name."""
        static_pos = self._static_pos(args)
        return ([a for i, a in enumerate(args) if i not in static_pos],
                {k: v for k, v in kwargs.items() if k not in self.static_argnames})

    def _flatten(self, args: tuple, kwargs: dict
                 ) -> tuple[Callable[..., list[Any]], list[Any], Callable[[], Any],
                            Callable[[], tuple[str, ...]]]:
        """The user's function on flat dynamic leaves, those leaves, and its output treedef
        and output paths as JAX writes them (`result['loss']`), known once it has been traced."""
        static_pos = self._static_pos(args)
        dyn_args, dyn_kwargs = self._dynamic(args, kwargs)
        leaves, in_tree = jax.tree_util.tree_flatten((dyn_args, dyn_kwargs))
        out_tree_box: list[Any] = []
        out_paths_box: list[tuple[str, ...]] = []

        def flat_fn(*flat: Any) -> list[Any]:
            # A Tensor argument is traced as the array it wraps: the function sees the tracer,
            # as `jax.jit` with that array would give it (`_bind` answers with Tensors).
            d_args, d_kwargs = jax.tree_util.tree_map(
                _unwrapped, jax.tree_util.tree_unflatten(in_tree, flat), is_leaf=_is_tensor)
            it = iter(d_args)
            full = [args[i] if i in static_pos else next(it) for i in range(len(args))]
            out = self._fn(*full, **{**kwargs, **d_kwargs})
            pairs, tree = jax.tree_util.tree_flatten_with_path(out)
            out_tree_box.append(tree)
            out_paths_box.append(tuple(f"result{lu_internal._clean_keystr_arg_names(p)}"
                                       for p, _ in pairs))
            return [leaf for _, leaf in pairs]

        return flat_fn, leaves, lambda: out_tree_box[-1], lambda: out_paths_box[-1]

    def _annotate(self, module: ModuleOp, dyn_args: list, dyn_kwargs: dict, out_tree: Any) -> None:
        """Record device and shardings on `@main`, as JAX's jit reads them (a `backend` is
        recorded as its first local device, the one jax.jit runs on)."""
        device = self.device
        if device is None and self.backend is not None:
            device = jax.local_devices(backend=self.backend)[0]
        if device is None and self.in_shardings is _UNSET and self.out_shardings is _UNSET:
            return
        tree = tuple(dyn_args) if not dyn_kwargs else (tuple(dyn_args), dyn_kwargs)
        ins = [None] * len(jax.tree_util.tree_leaves(tree))
        outs = [None] * out_tree.num_leaves
        if device is None:
            if self.in_shardings is not _UNSET:
                ins = devices.flat_shardings(self.in_shardings, tree)
            if self.out_shardings is not _UNSET:
                outs = devices.flat_shardings(self.out_shardings,
                                              jax.tree_util.tree_unflatten(
                                                  out_tree, [0] * len(outs)))
        devices.annotate(find_function(module, "main"), device, ins, outs)

    # -- inspection: JAX's AOT stages, with tiers' IR on them -------------------------------
    def trace(self, *args: Any, **kwargs: Any) -> Traced:
        """`jax.jit(f).trace(...)`: JAX's `Traced` (its jaxpr is one `tiers_call`), whose
        `lower()` gives tiers' `Lowered`."""
        with pretrace.bypassed():  # tiers' stages are built from the user's jaxpr
            traced = self.jax_trace(*args, **kwargs)
        return Traced(traced, Specialization(self, _call_jaxpr(traced.jaxpr), args, kwargs,
                                             jax.sharding.get_abstract_mesh()))

    def lower(self, *args: Any, **kwargs: Any) -> Lowered:
        """`jax.jit(f).lower(...)`: JAX's `Lowered` (StableHLO, `compile`, `cost_analysis`),
        with tiers' IR before and after the pipeline as `as_text("import" | "optimized")`."""
        return self.trace(*args, **kwargs).lower()

    def cache_info(self) -> dict[str, int]:
        """`traces`: specializations built so far (each traced, imported, optimized once)."""
        return {"traces": self.info.traces}

    def explain(self, *args: Any, **kwargs: Any) -> Any:
        """Compile afresh for these arguments and return the compile report (printable):
        cache answer, time per stage, op counts per dialect, fused kernels (frontend/report.py)."""
        from tiers.frontend.report import explain  # loaded when first asked for

        return explain(self, args, kwargs)


def _call_jaxpr(jaxpr: core.ClosedJaxpr) -> core.ClosedJaxpr:
    """The program tiers compiles in the jaxpr of a traced call: its one `tiers_call`'s body
    (all of `jaxpr` when the function ran eagerly, under `run_functions_eagerly`)."""
    eqns = jaxpr.eqns
    if len(eqns) == 1 and eqns[0].primitive is tiers_call_p:
        return eqns[0].params["call_jaxpr"]
    return jaxpr


@dataclass(frozen=True)
class Specialization:
    """What tiers' stages of one traced call are built from (and only when asked for)."""

    compiler: JitFunction
    closed: core.ClosedJaxpr  # the body of the call's `tiers_call`
    args: tuple
    kwargs: dict
    mesh: Any  # the abstract mesh at trace time: a bare PartitionSpec is read against it

    def module(self, stage: str, out_tree: Any) -> ModuleOp:
        """A fresh module of `stage` ("import" or "optimized"), placement recorded on `@main`."""
        compiler = self.compiler
        if stage == "import":
            with gc_paused():
                module = import_jaxpr(self.closed, "main", named=True)
        else:  # the module JAX's lowering built (frontend/call.py), copied: it is shared
            module = MODULES.get(self.closed, compiler.name, compiler.options).clone()
        context = (contextlib.nullcontext() if self.mesh.empty
                   else jax.sharding.use_abstract_mesh(self.mesh))
        with context:
            compiler._annotate(module, *compiler._dynamic(self.args, self.kwargs), out_tree)
        return module


class Traced(jax.stages.Traced):
    """JAX's `Traced` of a `tiers.jit` function; `lower()` gives tiers' `Lowered`."""

    def __init__(self, traced: jax.stages.Traced, source: Specialization):
        super().__init__(traced._meta_tys_flat, traced._params, traced._in_tree,
                         traced.out_tree, traced._consts)
        self.source = source

    def lower(self, *, lowering_platforms: tuple[str, ...] | None = None,
              _private_parameters: Any = None) -> Lowered:
        """JAX's lowering (`jax.stages.Traced.lower`), as tiers' `Lowered`."""
        lowered = super().lower(lowering_platforms=lowering_platforms,
                                _private_parameters=_private_parameters)
        return Lowered(lowered, self.source)


_STAGES = ("import", "optimized")  # tiers' own, next to JAX's dialects "stablehlo" and "hlo"


class Lowered(jax.stages.Lowered):
    """JAX's `Lowered` of a `tiers.jit` function, every method with JAX's meaning (`as_text()`
    and `compiler_ir()` are the StableHLO XLA compiles, `compile(compiler_options)` gives a
    `jax.stages.Compiled`), plus tiers' IR stages: "import" (before the pipeline) and
    "optimized" (after it), for `as_text`, `compiler_ir` and `graph` (a Graphviz picture)."""

    def __init__(self, lowered: jax.stages.Lowered, source: Specialization):
        super().__init__(lowered._lowering, lowered.args_info, lowered.out_tree,
                         lowered._no_kwargs, lowered._in_types, lowered._out_types)
        self.source = source

    @functools.cached_property
    def program(self) -> Program:
        """The optimized IR and output structure (built on first use, from JAX's trace)."""
        return Program(self.source.module("optimized", self.out_tree), self.out_tree)

    @functools.cached_property
    def _imported(self) -> ModuleOp:
        return self.source.module("import", self.out_tree)

    def as_text(self, dialect: str | None = None, *, debug_info: bool = False,
                debuginfo: bool | None = None) -> str:
        """JAX's text (`dialect` "stablehlo", the default, or "hlo"), or tiers' IR at a stage
        ("import" or "optimized"); `debuginfo` is tiers' older name of `debug_info`."""
        debug = debug_info if debuginfo is None else debuginfo
        if dialect in _STAGES:
            return _print(self.compiler_ir(dialect), debug)
        if dialect not in (None, "stablehlo", "hlo"):
            raise ValueError(f"unknown stage '{dialect}' (JAX's dialects: stablehlo, hlo; "
                             f"tiers' stages: {', '.join(_STAGES)})")
        return super().as_text(dialect, debug_info=debug)

    def compiler_ir(self, dialect: str | None = None) -> Any:
        """JAX's (`dialect` "stablehlo", the default, or "hlo"), or tiers' `ModuleOp` at a
        stage ("import" or "optimized")."""
        if dialect == "import":
            return self._imported
        if dialect == "optimized":
            return self.program.module
        return super().compiler_ir(dialect)

    @overload
    def graph(self, stage: str = "optimized", format: Literal["dot", "svg"] = "dot") -> str: ...

    @overload
    def graph(self, stage: str, format: Literal["png"]) -> bytes: ...

    @overload
    def graph(self, stage: str = "optimized", *, format: Literal["png"]) -> bytes: ...

    def graph(self, stage: str = "optimized", format: str = "dot") -> str | bytes:
        """tiers' IR at `stage` ("import" or "optimized") as a Graphviz picture: DOT text
        (`format` "dot"), or rendered by Graphviz's `dot` as SVG text ("svg") or PNG bytes
        ("png"), which raises `GraphvizNotFoundError` when Graphviz is not installed."""
        if stage not in _STAGES:
            raise ValueError(f"unknown stage '{stage}' (tiers' stages: {', '.join(_STAGES)})")
        if format not in ("dot", "svg", "png"):
            raise ValueError(f"unknown graph format '{format}' (formats: dot, svg, png)")
        text = module_to_dot(self.compiler_ir(stage), self.source.compiler.name)
        if format == "dot":
            return text
        picture = render(text, format)
        return picture.decode("utf-8") if format == "svg" else picture


def _is_tensor(x: Any) -> bool:
    return isinstance(x, Tensor)


def _has_tensor(tree: Any) -> bool:
    return any(map(_is_tensor, jax.tree_util.tree_leaves(tree, is_leaf=_is_tensor)))


def _as_tensor(x: Any) -> Any:
    return Tensor(x) if isinstance(x, jax.Array) else x


def _unwrapped(x: Any) -> Any:
    return x._value if isinstance(x, Tensor) else x


class _explained:  # a context manager: `with _explained():`
    """Tracing errors JAX raises at the user's line, explained (frontend/errors.py). The
    explanation keeps the original's traceback, so the user's frame that failed stays in it;
    JAX's boundary around `tiers.jit` then drops tiers' and JAX's frames (frontend/tracebacks.py).
    A class, not `contextlib.contextmanager`: contextlib's frame would show between the user's."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, e: BaseException | None,
                 tb: Any) -> Literal[False]:
        if e is None or isinstance(e, TracedValueError):  # or explained by a nested tiers.jit
            return False
        if isinstance(e, EXPLAINED):
            raise explain_concretization(e).with_traceback(tb) from None
        if isinstance(e, TypeError):  # a loop body that changes a carried type, at the user's line
            explained = explain_carried_type(e)
            if explained is not None:
                raise explained.with_traceback(tb) from None
        return False


def _device(device: Any) -> jax.Device:
    """The device `device` names; its errors say they are about `tiers.jit`'s `device`."""
    try:
        return devices.resolve(device)
    except (TypeError, ValueError) as e:
        raise type(e)(f"tiers.jit: device: {e}") from None


def _int_or_ints(value: Any, name: str) -> int | tuple[int, ...] | None:
    """`value` (None, an int or ints, as jax.jit takes `static_argnums`), or a TypeError
    naming it."""
    if value is None:
        return None
    try:
        if isinstance(value, Iterable):
            return tuple(operator.index(v) for v in value)
        return operator.index(value)
    except TypeError:
        raise bad_argument("tiers.jit", name, "an int, a sequence of ints or None", value) from None


def _str_or_strs(value: Any, name: str) -> str | tuple[str, ...] | None:
    """`value` (None, a str or strs, as jax.jit takes `static_argnames`), or a TypeError
    naming it."""
    if value is None or isinstance(value, str):
        return value
    items = tuple(value) if isinstance(value, Iterable) else None
    if items is None or not all(isinstance(v, str) for v in items):
        raise bad_argument("tiers.jit", name, "a str, a sequence of strs or None", value)
    return items


def _checked(options: dict[str, Any]) -> dict[str, Any]:
    """`jit`'s options with their types checked, as `jax.jit` checks its own at once: a
    TypeError names the first bad one (the pipeline's passes are checked by `JitFunction`)."""
    pipeline, verify, debug = options["pipeline"], options["verify"], options["debug"]
    if not isinstance(pipeline, str | Pipeline):
        raise bad_argument("tiers.jit", "pipeline", PIPELINE, pipeline)
    if not (verify is None or isinstance(verify, bool)):
        raise bad_argument("tiers.jit", "verify", "a bool or None", verify)
    if not (debug is None or isinstance(debug, bool | Debug)):
        raise bad_argument("tiers.jit", "debug", "a tiers.pipeline.Debug, a bool or None", debug)
    for name in ("keep_unused", "inline"):
        if not isinstance(options[name], bool):
            raise bad_argument("tiers.jit", name, "a bool", options[name])
    if not (options["backend"] is None or isinstance(options["backend"], str)):
        raise bad_argument("tiers.jit", "backend", "a str or None", options["backend"])
    compiler_options = options["compiler_options"]
    if not (compiler_options is None or isinstance(compiler_options, dict)
            and all(isinstance(k, str) for k in compiler_options)):
        raise bad_argument("tiers.jit", "compiler_options", "a dict with str keys or None",
                           compiler_options)
    return {**options,
            **{name: _int_or_ints(options[name], name)
               for name in ("static_argnums", "donate_argnums")},
            **{name: _str_or_strs(options[name], name)
               for name in ("static_argnames", "donate_argnames")}}


def _static_args(fn: Callable[..., Any], argnums: int | Sequence[int] | None,
                 argnames: str | Sequence[str] | None
                 ) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Static arguments by position and by name, as jax.jit reads them (JAX's own function):
    one given alone is completed from the signature, both given are taken as given, None is
    none. A callable without a signature takes them as given."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        nums = () if argnums is None else (argnums,) if isinstance(argnums, int) else argnums
        names = () if argnames is None else (argnames,) if isinstance(argnames, str) else argnames
        return tuple(nums), tuple(names)
    return api_util.infer_argnums_and_argnames(sig, argnums, argnames)


@boundary  # a bad option is the caller's line, without tiers' frames (frontend/tracebacks.py)
def jit(fn: Callable[..., Any] | None = None, *, pipeline: str | Pipeline = "default",
        static_argnums: int | Sequence[int] | None = None,
        static_argnames: str | Sequence[str] | None = None,
        donate_argnums: int | Sequence[int] | None = None,
        donate_argnames: str | Sequence[str] | None = None, keep_unused: bool = False,
        verify: bool | None = None, device: Any = None, backend: str | None = None,
        inline: bool = False, compiler_options: dict[str, Any] | None = None,
        in_shardings: Any = _UNSET, out_shardings: Any = _UNSET,
        debug: Debug | bool | None = None) -> Any:
    """Compile `fn` through tiers; usable as `@jit` or `@jit(pipeline="O1")`.

    `debug` (a `tiers.pipeline.Debug`, or True) prints, times and checks each pass of the
    pipeline as `tiers-opt`'s flags do; a failing pass writes a reproducer either way.

    `device` (a `jax.Device`, "platform[:id]" or an index into `tiers.devices()`) runs it on
    that device; `in_shardings`/`out_shardings` are `jax.jit`'s (`NamedSharding`s, or
    `PartitionSpec`s under `jax.set_mesh`). Both are recorded in the IR (`tiers.device`,
    `tiers.mesh`, `tiers.sharding`), which the JAX target honours when compiling IR alone.

    The other arguments are `jax.jit`'s, with its meaning: `static_argnums`/`static_argnames`
    (None for none; one given alone is completed from the signature), `donate_argnums`/
    `donate_argnames`, `keep_unused`, `backend`, `inline` and `compiler_options` (XLA's).
    """
    if fn is not None and not callable(fn):  # what jax.jit checks first
        raise bad_argument("tiers.jit", "fn", "a callable", fn)
    options = _checked(dict(pipeline=pipeline, static_argnums=static_argnums,
                            static_argnames=static_argnames, donate_argnums=donate_argnums,
                            donate_argnames=donate_argnames, keep_unused=keep_unused,
                            verify=verify, device=device, backend=backend, inline=inline,
                            compiler_options=compiler_options, in_shardings=in_shardings,
                            out_shardings=out_shardings, debug=debug))
    if fn is None:
        return functools.partial(jit, **options)
    compiler = JitFunction(fn, **options)
    # Hand out JAX's own C++ dispatcher so a call that hits the cache costs exactly a
    # `jax.jit` call; tiers' inspection API rides on it as attributes.
    front: Any = compiler.jitted  # JAX's dispatcher, given tiers' attributes here
    front.lower, front.trace = compiler.lower, compiler.trace  # JAX's stages, tiers' IR on them
    front.cache_info, front.explain = compiler.cache_info, compiler.explain
    front.pipeline = pipeline
    front.tiers_compiler = compiler
    return front
