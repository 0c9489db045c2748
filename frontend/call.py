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
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from jax._src import core, dispatch
from jax._src.interpreters import ad, mlir
from jax._src.interpreters import partial_eval as pe
from xdsl.dialects.builtin import ModuleOp

from tiers import pipeline
from tiers.frontend.importer import import_jaxpr
from tiers.passes.collector import gc_paused
from tiers.pipeline import Debug, Pipeline
from tiers.targets import jax as jax_target


@dataclass(frozen=True)
class Options:
    """How tiers compiles a call: a primitive param, so hashable and part of JAX's caches."""

    # `Pipeline` and `Debug`, not `pipeline.X`: in the class body the field `pipeline` shadows
    # the module.
    pipeline: Pipeline = field(default_factory=lambda: pipeline.parse("default"))
    verify_each: bool = False  # verify after every pass (`tiers.jit(verify=True)`)
    debug: Debug | None = None

    def __repr__(self) -> str:  # as it shows in a printed jaxpr
        return f"tiers(pipeline={self.pipeline.spec!r})"


def build_module(closed: core.ClosedJaxpr, options: Options, name: str = "main") -> ModuleOp:
    """`closed` imported as `@main` and run through `options.pipeline` (verified if asked)."""
    with gc_paused():  # IR is one large object graph: full collections rescan all of it
        module = import_jaxpr(closed, "main")
    optimize(module, closed, options, name)
    return module


def optimize(module: ModuleOp, closed: core.ClosedJaxpr, options: Options, name: str) -> None:
    """Run the pipeline on `module` imported from `closed` (which replays a crash)."""
    replay = functools.partial(import_jaxpr, closed, "main")  # for a crash reproducer
    pipeline.compile(module, options.pipeline, debug=options.debug,
                     verify_each=options.verify_each, name=name, replay=replay)


class _Modules:
    """Optimized modules by call jaxpr (weakly held) and options: a jaxpr lowered twice (a
    second device, `jax.export`, `.lower().compile()`) is imported and optimized once."""

    def __init__(self) -> None:
        self._by_jaxpr: weakref.WeakKeyDictionary[Any, dict[Any, ModuleOp]] = (
            weakref.WeakKeyDictionary())
        self._lock = threading.Lock()
        self.builds = 0  # modules built (import + pipeline), for tests and benchmarks

    def get(self, closed: core.ClosedJaxpr, name: str, options: Options) -> ModuleOp:
        with self._lock:
            known = self._by_jaxpr.get(closed, {}).get(options)
        if known is not None:
            return known
        module = build_module(closed, options, name)
        with self._lock:
            self._by_jaxpr.setdefault(closed, {})[options] = module
            self.builds += 1
        return module


MODULES = _Modules()


class TiersCallPrimitive(core.ClosedCallPrimitive):
    """A call whose body tiers compiles; params `call_jaxpr`, `name`, `options`."""


tiers_call_p = TiersCallPrimitive("tiers_call")
# Bound outside any trace (a jaxpr evaluated eagerly): compile it as `jax.jit` would.
tiers_call_p.def_impl(functools.partial(dispatch.apply_primitive, tiers_call_p))
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
pe.dce_rules[tiers_call_p] = pe.dce_jaxpr_closed_call_rule


def _lower(ctx: mlir.LoweringRuleContext, *args: Any, call_jaxpr: core.ClosedJaxpr,
           name: str = "main", options: Options | None = None, **_: Any) -> Any:
    """The only place tiers sees a program: after JAX has applied every transformation."""
    module = MODULES.get(call_jaxpr, name, options or Options())
    return mlir.lower_fun(jax_target.to_callable(module), multiple_results=True)(ctx, *args)


mlir.register_lowering(tiers_call_p, _lower)
