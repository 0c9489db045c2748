"""`tiers_call`: the JAX primitive a `tiers.jit` function binds, and how it stays exact.

Why a primitive. JAX transforms programs, not compilers: `jax.grad`, `vmap`, `jvp`,
`linearize`, `checkpoint` around `tiers.jit` must see the user's program with every construct
that steers them (`stop_gradient`, `custom_jvp`/`custom_vjp` rules, `nondiff_argnums`,
symbolic zeros, checkpoint policies, `custom_vmap`). tiers' optimized IR has none of that
meaning: a pass may drop `stop_gradient` (an identity on values) and the importer keeps only
the primal of a custom rule. So tiers compiles a program only once JAX is done transforming it.

How. `tiers_call` is a closed-call primitive, like the `pjit` that `jax.jit` binds: its
`call_jaxpr` is the user's traced jaxpr. JAX's generic call machinery transforms it: JVP,
partial evaluation (linearize, `grad`), transposition, batching, remat and DCE all rebuild
`call_jaxpr` from the user's jaxpr with JAX's own rules and bind `tiers_call` again. Only the
lowering rule, which runs after every transformation, hands `call_jaxpr` to tiers: import,
passes, verification, emission. So the JVP, transpose and batching of a tiers-compiled call are
themselves tiers-compiled programs, and no pass or emission can change a derivative: nothing
tiers produces is ever differentiated or batched by JAX.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import jaxlib
import xdsl
from jax._src import config as jax_config
from jax._src import core, dispatch, source_info_util
from jax._src.config import trace_context
from jax._src.interpreters import ad, mlir
from jax._src.interpreters import partial_eval as pe
from jax._src.state import discharge as state_discharge
from jax._src.state.types import AbstractRef
from jax._src.tree_util import FlatTree
from xdsl.dialects.builtin import ModuleOp

from tiers import pipeline
from tiers.dialects.lax_effects import has_callbacks
from tiers.frontend.import_effects import calls_back
from tiers.frontend.importer import import_jaxpr
from tiers.frontend.nans import deoptimized
from tiers.frontend.structure import structure_key
from tiers.passes.collector import gc_paused
from tiers.pipeline import Debug, Pipeline, report
from tiers.pipeline.cache import (
    DISK,
    FORMAT_VERSION,
    PROGRAMS,
    TRACES,
    Entry,
    TraceEntry,
    clear_with_jax,
    plugin_fingerprint,
)
from tiers.pipeline.config import SETTINGS
from tiers.targets import jax as jax_target
from tiers.targets.jax import hlo
from tiers.version import __version__


@dataclass(frozen=True)
class Options:
    """How tiers compiles a call: a primitive param, so hashable and part of JAX's caches."""

    # `Pipeline` and `Debug`, not `pipeline.X`: in the class body the field `pipeline` shadows
    # the module.
    pipeline: Pipeline = field(default_factory=lambda: pipeline.parse("default"))
    verify_each: bool = False  # verify after every pass (`tiers.jit(verify=True)`)
    debug: Debug | None = None
    # How the JAX target writes the program for XLA (`jax_target.EMISSIONS`): a param, so a
    # program emitted both ways is two entries of JAX's caches, never one stale one.
    emission: str = field(default_factory=lambda: SETTINGS.emission)

    def __repr__(self) -> str:  # as it shows in a printed jaxpr
        return f"tiers(pipeline={self.pipeline.spec!r})"


def build_module(closed: core.ClosedJaxpr, options: Options, name: str = "main") -> ModuleOp:
    """`closed` imported as `@main` and run through `options.pipeline` (verified if asked)."""
    with gc_paused():  # IR is one large object graph: full collections rescan all of it
        module = import_jaxpr(closed, "main", named=True)
    report.lap("import")  # the compile report's stages (pipeline/report.py), if one is kept
    report.count_ops("import", module)
    optimize(module, closed, options, name)
    return module


def optimize(module: ModuleOp, closed: core.ClosedJaxpr, options: Options, name: str) -> None:
    """Run the pipeline on `module` imported from `closed` (which replays a crash)."""
    replay = functools.partial(import_jaxpr, closed, "main", named=True)  # a crash reproducer
    pipeline.compile(module, options.pipeline, debug=options.debug,
                     verify_each=options.verify_each, name=name, replay=replay)


_VERSIONS = f"tiers {__version__}, jax {jax.__version__}, jaxlib {jaxlib.__version__}, " \
    f"xdsl {xdsl.__version__}"


def program_structure(closed: core.ClosedJaxpr, options: Options, name: str) -> str | None:
    """What decides the optimized program of a traced one, hashed (frontend/structure.py
    lists it), or None when some part of it cannot be keyed by value (a constant without
    bytes, a callable param)."""
    header = repr((_VERSIONS, options.pipeline.text, options.verify_each, name))
    return structure_key(closed, header)


def disk_key(structure: str, options: Options, ctx: mlir.LoweringRuleContext) -> str | None:
    """The key of a program in the persistent cache, or None when the code of a pass cannot
    be told. It covers what a new process can differ in (pipeline/cache.py):
      - the program's structure (`program_structure`, frontend/structure.py: every jaxpr at
        any depth with its constants, params, data flow and user lines, the names, pipeline
        text, verify_each, name, versions of tiers, JAX, jaxlib, xDSL);
      - the lowering platforms;
      - the rest of `environment`."""
    env = environment(options)
    if env is None:
        return None
    text = "\n".join(map(str, [structure, tuple(ctx.module_context.platforms), *env]))
    return hashlib.sha256(text.encode()).hexdigest()


def environment(options: Options) -> list[Any] | None:
    """What a new process can differ in, whatever the program (None when the code of a pass
    cannot be told):
      - the entry format's version;
      - the code of the pipeline's passes (`plugin_fingerprint`: tiers' source, xDSL's version,
        each plugin's file bytes);
      - `jax_enable_x64` and the default matmul precision (`hlo.emission_settings`), and the
        plain values of JAX's trace context (what JAX keys its own `jit` caches on);
      - the backend's platform and version, the kinds and number of devices (`jax.devices()`);
      - the emission."""
    plugins = plugin_fingerprint(options.pipeline)
    if plugins is None:
        return None
    devices = jax.devices()
    context = [_setting_text(v) for v in trace_context()]
    return [FORMAT_VERSION, plugins, hlo.emission_settings(), context,
            devices[0].client.platform, devices[0].client.platform_version,
            [d.device_kind for d in devices], len(devices), options.emission]


def _setting_text(value: Any) -> str:
    """A JAX setting as the key holds it: its repr, or its type where the repr shows an
    address (it differs in every process: a miss there, never a wrong hit)."""
    text = repr(value)
    return type(value).__name__ if " at 0x" in text else text


@dataclass
class Known:
    """What one traced program (jaxpr and options) has given so far: its structure (None when
    it is not cached: `uncached` says why), its optimized module, and StableHLO texts the
    persistent cache gave, by disk key."""

    structure: str | None
    uncached: str | None = None
    module: ModuleOp | None = None
    texts: dict[str, str] = field(default_factory=dict)


class _Modules:
    """Optimized modules by call jaxpr (weakly held) and options: a jaxpr lowered twice (a
    second device, `jax.export`, `.lower().compile()`) is imported and optimized once. A new
    jaxpr of a program seen before (a new function object, a re-created closure) finds its
    module in `PROGRAMS` by structure."""

    def __init__(self) -> None:
        self._by_jaxpr: weakref.WeakKeyDictionary[Any, dict[Any, Known]] = (
            weakref.WeakKeyDictionary())
        self._lock = threading.Lock()
        self.builds = 0  # modules built (import + pipeline), for tests and benchmarks

    def known(self, closed: core.ClosedJaxpr, name: str, options: Options) -> Known:
        """What is known of `closed` under `options` (its structure hashed on first sight)."""
        with self._lock:
            known = self._by_jaxpr.get(closed, {}).get(options)
        if known is not None:
            return known
        if options.debug is not None or SETTINGS.debug is not None:
            known = Known(None, "debug")  # instrumentation must see the passes run
        elif calls_back(closed):
            # A callback is a Python function, which no key can tell from another one
            # printed alike (jaxprs print no addresses): such programs are never shared.
            known = Known(None, "host callback")
        else:
            structure = program_structure(closed, options, name)
            known = Known(structure, None if structure is not None else "unhashable")
        with self._lock:
            return self._by_jaxpr.setdefault(closed, {}).setdefault(options, known)

    def find(self, known: Known) -> ModuleOp | None:
        """The module of `known` if this process has it (here or in `PROGRAMS`)."""
        if known.module is None and known.structure is not None:
            known.module = PROGRAMS.get(f"{known.structure}:{SETTINGS.generation}")
        return known.module

    def build(self, known: Known, closed: core.ClosedJaxpr, name: str,
              options: Options) -> ModuleOp:
        """Import and optimize `closed`, kept in `known` and `PROGRAMS`."""
        module = build_module(closed, options, name)
        if known.structure is not None and has_callbacks(module):
            # A `lax.opaque` op holds params no key can tell apart (functions, jaxprs), as a
            # callback does: never shared, here or on disk (`_lower` checks `structure`).
            known.structure, known.uncached = None, "opaque primitive"
        if known.structure is not None:
            PROGRAMS.put(f"{known.structure}:{SETTINGS.generation}", module)
        else:
            PROGRAMS.uncached(known.uncached or "unhashable")
        with self._lock:
            self.builds += 1
        known.module = module
        return module

    def get(self, closed: core.ClosedJaxpr, name: str, options: Options) -> ModuleOp:
        """The optimized module of `closed`, built unless this process has it."""
        known = self.known(closed, name, options)
        return self.find(known) or self.build(known, closed, name, options)

    def drop(self) -> None:
        with self._lock:
            self._by_jaxpr.clear()


MODULES = _Modules()
clear_with_jax(MODULES.drop, "tiers.jit modules by jaxpr")


class TiersCallPrimitive(core.ClosedCallPrimitive):
    """A call whose body tiers compiles; params `call_jaxpr`, `name`, `options`.

    Bound on a function (`subfuns`), it is staged the way `jax.jit` stages its `jit`: the
    body is traced with the type state of mutable hi-types (`AvalQDD`: a `Box`, flax's hijax
    `Variable`) and the caller's values take the state the body leaves them in, which
    `DynamicJaxprTrace.process_call` drops. A body with hi-types is lowered to plain arrays
    (`_to_lojax`) before it reaches tiers, as `jit`'s is."""

    def bind_with_trace(self, trace: Any, args: Any, avals: Any, params: Any) -> Any:
        if isinstance(trace, pe.DynamicJaxprTrace) or (
                trace.requires_low and any(a.is_high for a in avals)):
            return _stage(trace, args, params)
        return super().bind_with_trace(trace, args, avals, params)

    def to_lojax(self, *hi_args: Any, **params: Any) -> list[Any]:
        return _to_lojax(*hi_args, **params)


tiers_call_p = TiersCallPrimitive("tiers_call")


def _stage(trace: Any, args: Sequence[Any], params: dict[str, Any]) -> list[Any]:
    """`DynamicJaxprTrace.process_call` that keeps the type state (qdd) of mutable hi-types,
    as `jit` does (pjit.py: `_trace_for_jit`, `pjit_staging_rule`, `_to_lojax`): the body is
    traced from each argument's current state, and each argument (closed-over ones included)
    ends in the state the body leaves it in. A high body under a trace that needs low values
    (the eval trace, `pe.lower_jaxpr`) is lowered to plain arrays first."""
    params = dict(params)
    fun, = params.pop("subfuns")
    source_info = source_info_util.current()
    in_type = tuple(core.AvalQDD(a, trace.cur_qdd(x)) if (a := core.typeof(x)).has_qdd else a
                    for x in args)
    if fun.in_type is not None and not any(a.has_qdd for a in in_type):
        in_type = fun.in_type
    fun.in_type = None
    # Traced under the caller's trace, as `jit` traces: a hi-value the body closes over
    # starts in the state the caller has given it so far.
    with core.set_current_trace(trace):
        jaxpr, out_avals, consts = pe.trace_to_jaxpr_dynamic(fun, in_type)
    call_jaxpr = pe.close_jaxpr(pe.convert_constvars_jaxpr(jaxpr))
    params = dict(params, call_jaxpr=call_jaxpr)
    if call_jaxpr.jaxpr.is_high and trace.requires_low:  # as `jit_p.bind` does
        with core.set_current_trace(trace):
            return _to_lojax(*consts, *args, **params)
    assert isinstance(trace, pe.DynamicJaxprTrace), "a call on hi-values is high"
    tracers = [trace.to_jaxpr_tracer(x, source_info) for x in (*consts, *args)]
    trace.frame.is_high |= call_jaxpr.jaxpr.is_high  # `jit` then lowers it (`_to_lojax`)
    outs = trace.emit_eqn(tracers, out_avals, tiers_call_p, params,
                          core.positional_effects(call_jaxpr), source_info=source_info)
    for v, x in zip(call_jaxpr.jaxpr.invars, tracers):
        if v.initial_qdd is not None:  # the state the body left it in
            x.mutable_qdd.update(v.final_qdd)
    return outs


def _to_lojax(*hi_args: Any, call_jaxpr: core.ClosedJaxpr, **params: Any) -> list[Any]:
    """`jit`'s rule (pjit.py `_to_lojax`) binding `tiers_call`: the body on hi-types becomes
    one on their plain arrays (a mutable one's state in, its new state out), and the new
    state is written back into the caller's hi-values. tiers compiles that low body."""
    jaxpr, closed_over = pe.convert_const_himutables(call_jaxpr)
    hi_args = (*closed_over, *hi_args)
    lo_args_lol = [aval.read_loval_in(x) if aval.has_qdd else aval.lower_val(x)
                   for aval, x in zip(jaxpr.in_aval_qdds, hi_args)]
    lo_args = [x for xs in lo_args_lol for x in xs]
    in_avals = FlatTree.flatten(([[core.typeof(x) for x in xs] for xs in lo_args_lol], {}))
    lo_jaxpr, out_avals = pe.lower_jaxpr(jaxpr, in_avals)
    all_outs = tiers_call_p.bind(*lo_args,
                                 **tiers_call_p.get_bind_params(dict(params,
                                                                     call_jaxpr=lo_jaxpr)))
    out_mut, lo_outs = out_avals.update(all_outs).unpack()
    for a, x, u in zip(jaxpr.final_aval_qdds, hi_args, out_mut.unpack()):
        if a.has_qdd:
            a.aval.update_from_loval2(a.qdd, x, u)
    return [a.raise_val2(y) for a, y in zip(jaxpr.out_avals, lo_outs.unpack())]


def _impl(fun: Any, *args: Any, **params: Any) -> Any:
    """Bound outside any trace (a jaxpr evaluated eagerly, `jax.stages.Traced.__call__`):
    compiled, as `jax.jit`'s `pjit` is. A call primitive's impl gets its body as a function
    (`ClosedCallPrimitive.get_bind_params`), which `apply_primitive`'s jit binds again.

    Under `jax_debug_nans`/`jax_debug_infs` this is also JAX's de-optimized re-run of a call
    whose compiled output had a NaN: the body then runs op by op, as JAX re-runs a `jax.jit`
    body, so the error names the user's op and line instead of `tiers_call`, and tiers adds
    the op of its IR that made the value (frontend/nans.py)."""
    if jax_config.debug_nans.value or jax_config.debug_infs.value:
        return deoptimized(fun, args)
    return dispatch.apply_primitive(tiers_call_p, *args, subfuns=(fun,), **params)


tiers_call_p.def_impl(_impl)
tiers_call_p.def_effectful_abstract_eval(
    lambda *_, call_jaxpr, **__: (call_jaxpr.out_avals, core.positional_effects(call_jaxpr)))
core.custom_typechecks[tiers_call_p] = lambda _, *atoms, call_jaxpr, **__: (
    core._check_closed_call(_, *atoms, call_jaxpr=call_jaxpr))


def _transpose(ct: Any, *args: Any, call_jaxpr: core.ClosedJaxpr, **params: Any) -> None:
    # closed_call's rule (ad._closed_call_transpose), binding tiers_call instead.
    jaxpr = pe.convert_constvars_jaxpr(call_jaxpr.jaxpr)
    ad.call_transpose_fancy(tiers_call_p, ct, *call_jaxpr.consts, *args, call_jaxpr=jaxpr,
                            **params)


ad.fancy_transposes[tiers_call_p] = _transpose
# Remat (`jax.checkpoint` and its policies) and DCE: closed_call's rules, params kept.
pe.partial_eval_jaxpr_custom_rules[tiers_call_p] = functools.partial(
    pe.closed_call_partial_eval_custom_rule, "call_jaxpr",
    lambda _, __, ___, ____, _____, ______, known, staged: (known, staged))


def _dce(used_outputs: list[bool], eqn: core.JaxprEqn) -> tuple[list[bool], Any]:
    """closed_call's DCE rule. `jax.jit` runs it on every program before lowering, which
    copies the call's jaxpr: a call keyed before tracing (`PENDING`) stays keyed when the copy
    computes the same results from the same inputs."""
    used_inputs, new = pe.dce_jaxpr_closed_call_rule(used_outputs, eqn)
    pending = PENDING.get(eqn.params["call_jaxpr"])
    if pending is not None and new is not None and all(used_outputs) and all(used_inputs):
        PENDING[new.params["call_jaxpr"]] = pending
    return used_inputs, new


pe.dce_rules[tiers_call_p] = _dce


@state_discharge.register_discharge_rule(tiers_call_p)
def _discharge(in_avals: Any, _: Any, *args: Any, call_jaxpr: core.ClosedJaxpr,
               **params: Any) -> tuple[tuple, list]:
    """`jax.Ref` arguments (`jax.new_ref`): closed_call's rule (`discharge.py`), binding
    tiers_call. The body's reads and writes of a ref become values in and out of the call, so
    tiers compiles a pure program and JAX writes the new values back into the refs."""
    discharged, num_outs, fun = state_discharge._cached_closed_jaxpr_discharge(call_jaxpr)
    outs = tiers_call_p.bind(*args, subfuns=(fun,), call_jaxpr=discharged, **params)
    values, refs = outs[:num_outs], iter(outs[num_outs:])
    return tuple(next(refs) if isinstance(a, AbstractRef) else None for a in in_avals), values


def _lower(ctx: mlir.LoweringRuleContext, *args: Any, call_jaxpr: core.ClosedJaxpr,
           name: str = "main", options: Options | None = None, **_: Any) -> Any:
    """The only place tiers sees a program: after JAX has applied every transformation. Its
    stages are timed for the compile report (pipeline/report.py: a few clock reads)."""
    rep = report.open(name)
    try:
        outs = _lower_program(ctx, args, call_jaxpr, name, options or Options(), rep)
    except BaseException:
        report.close(rep, failed=True)
        raise
    report.close(rep)
    return outs


def _lower_program(ctx: mlir.LoweringRuleContext, args: Sequence[Any],
                   call_jaxpr: core.ClosedJaxpr, name: str, options: Options,
                   rep: report.Report) -> Any:
    known = MODULES.known(call_jaxpr, name, options)
    held = known.module is not None  # this very jaxpr was lowered before
    module = None if rep.fresh else MODULES.find(known)  # `explain` compiles afresh
    key = disk = None
    if module is None and SETTINGS.cache_dir is not None and options.emission != "stablehlo":
        DISK.uncached(f"{options.emission} emission")  # only StableHLO text is stored
        disk = f"{options.emission} emission is not stored"
    elif module is None and SETTINGS.cache_dir is not None:
        before = DISK.info()["miss_reasons"]
        key = _disk_key(known, options, ctx)
        text = None
        if key is not None and rep.fresh:
            stored = os.path.exists(DISK.path(SETTINGS.cache_dir, key))
            disk = _STORED if stored else "new"
        elif key is not None:
            text = known.texts.get(key) or _read(key)  # this jaxpr's, or a file's
        if key is not None and text is not None:
            rep.lap("cache lookup")
            try:
                outs = jax_target.lower_text(ctx, text, args, what="the cached StableHLO")
            except jax_target.EmissionError as e:  # any doubt is a miss
                DISK.reject(key, str(e))
            else:
                known.texts[key] = text
                rep.hit("disk (StableHLO text)")
                rep.lap("emission")
                store_trace(ctx, call_jaxpr, known, options, None, text)
                return outs
        disk = disk or ", ".join(_new_reasons(before, DISK.info()["miss_reasons"])) or "miss"
    rep.lap("cache lookup")
    text = None
    if module is None:
        _missed(rep, known, disk)
        module = MODULES.build(known, call_jaxpr, name, options)
        if key is not None and known.structure is not None:
            text = jax_target.stablehlo_text(module)
            rep.lap("emission")
            DISK.put(key, Entry(text, str(module)))
            rep.lap("cache write")
    else:
        rep.hit("memory (this trace, lowered before)" if held
                else "memory (the same program, traced before)")
    outs = jax_target.lower(ctx, module, args, emission=options.emission)
    rep.lap("emission")
    report.count_ops("optimized", module)
    store_trace(ctx, call_jaxpr, known, options, module, text)
    return outs


# Call jaxprs bound by a `tiers.jit` call keyed before tracing (frontend/pretrace.py), with
# that key and the JSON describing the call's results: written to the trace level when lowered.
PENDING: weakref.WeakKeyDictionary[core.ClosedJaxpr, tuple[str, str]] = (
    weakref.WeakKeyDictionary())


def store_trace(ctx: mlir.LoweringRuleContext, call_jaxpr: core.ClosedJaxpr, known: Known,
                options: Options, module: ModuleOp | None, text: str | None) -> None:
    """Write the trace-level entry of `call_jaxpr` if its call was keyed before tracing and
    its program may be stored (as the disk cache's rules say: no callbacks, StableHLO)."""
    pending = PENDING.pop(call_jaxpr, None)
    if pending is None or known.structure is None or options.emission != "stablehlo":
        return
    key, described = pending
    if text is None:
        if module is None:
            return
        text = jax_target.stablehlo_text(module)
    platforms = list(ctx.module_context.platforms)
    TRACES.put(key, TraceEntry(json.dumps({**json.loads(described), "platforms": platforms}),
                               text))


def _missed(rep: report.Report, known: Known, disk: str | None) -> None:
    """Say in `rep` why the caches had no program (or, for `explain`, what a call finds)."""
    memory: str | None = f"not cached ({known.uncached})"
    if known.structure is not None:
        why = PROGRAMS.why_missing(f"{known.structure}:{SETTINGS.generation}")
        memory = {None: None, "new": "new program", "evicted": "evicted from memory"}[why]
    where = f"{memory or 'in memory'}; disk: {disk or 'off'}"
    if not rep.fresh:
        rep.miss(where)
        return
    would = ("hit memory" if memory is None else "hit disk" if disk == _STORED
             else f"miss: {where}")
    rep.cache, rep.reason = "fresh", f"explain compiles afresh; a call would {would}"


_STORED = "stored"  # `explain`: the disk holds the program (not read, so not checked)


def _new_reasons(before: dict[str, int], after: dict[str, int]) -> list[str]:
    return [reason for reason, n in after.items() if n > before.get(reason, 0)]


def _disk_key(known: Known, options: Options, ctx: mlir.LoweringRuleContext) -> str | None:
    if known.structure is None:
        DISK.uncached(known.uncached or "unhashable")
        return None
    key = disk_key(known.structure, options, ctx)
    if key is None:
        DISK.uncached("pass without source")
    return key


def _read(key: str) -> str | None:
    entry = DISK.get(key)
    return None if entry is None else entry.stablehlo


mlir.register_lowering(tiers_call_p, _lower)
