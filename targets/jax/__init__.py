"""The JAX target: tiers IR -> one `jax.jit` computation -> an XLA executable.

Two emissions of the same IR, tested against each other (tests/test_emission.py):
"stablehlo" (the default) writes StableHLO text straight from the IR (`hlo.py`) and `lower`
splices it into the `jax.jit` being lowered; "walk" (`to_callable`) is a plain JAX function
that walks the IR with `jax.lax` rules, which JAX traces and lowers again. `compile` wraps
either in `jax.jit`, so XLA compiles the whole function at once and later calls never
look at the IR ("graph" mode, `fused.kernel` regions inlined). The "kernels" mode instead
compiles each `fused.kernel` region as its own XLA executable and runs everything else op by
op, so what fusion did is observable: kernels compiled, kernel launches, ops per kernel.
Nothing here is CPU-specific: it runs on whatever `jax.devices()` offers.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import jax
from jax._src import core
from jax._src.interpreters import mlir
from jax._src.lib.mlir import ir
from jax._src.lib.mlir.dialects import func as func_dialect
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

from tiers.dialects import fused, sharding
from tiers.dialects.lax_effects import has_callbacks
from tiers.targets.jax import hlo
from tiers.targets.jax.checking import first_invalid
from tiers.targets.jax.hlo import JAX_JIT, HloEmitter
from tiers.targets.jax.key_rules import aval_of
from tiers.targets.jax.rules import EMIT_RULES, RULES
from tiers.targets.walk import Walker, find_function

MODES = ("graph", "kernels")
EMISSIONS = ("stablehlo", "walk")


class EmissionError(RuntimeError):
    """StableHLO text that MLIR rejects: a bug in an emission rule, never the user's."""


_TEXTS: weakref.WeakKeyDictionary[ModuleOp, dict[tuple, str]] = weakref.WeakKeyDictionary()
_TEXTS_LOCK = threading.Lock()


def stablehlo_text(module: ModuleOp, entry: str = "main") -> str:
    """`@entry` of `module` (and what it calls) as StableHLO text, `@entry` named `@main`;
    kept per module, which must not change afterwards (the compile caches hold finished IR)."""
    key = (entry, *hlo.emission_settings())
    with _TEXTS_LOCK:
        known = _TEXTS.get(module, {}).get(key)
    if known is None:
        known = HloEmitter(module, EMIT_RULES, RULES).module_text(entry)
        with _TEXTS_LOCK:
            _TEXTS.setdefault(module, {})[key] = known
    return known


_CALLS_BACK: weakref.WeakKeyDictionary[ModuleOp, bool] = weakref.WeakKeyDictionary()


def _calls_back(module: ModuleOp) -> bool:
    """Whether `module` has a host callback op (kept per finished module, as its text)."""
    known = _CALLS_BACK.get(module)
    if known is None:
        known = _CALLS_BACK[module] = has_callbacks(module)
    return known


def lower(ctx: mlir.LoweringRuleContext, module: ModuleOp, args: Sequence[Any],
          entry: str = "main", emission: str = "stablehlo") -> Sequence[Any]:
    """Emit `@entry` into the `jax.jit` lowering of `ctx`; the results' MLIR values. A program
    with host callbacks is lowered by JAX from the walk (`hlo_effects.py` says why)."""
    if emission == "walk" or _calls_back(module):
        return mlir.lower_fun(to_callable(module, entry), multiple_results=True)(ctx, *args)
    if emission != "stablehlo":
        raise ValueError(f"unknown emission '{emission}' (emissions: {', '.join(EMISSIONS)})")
    return lower_text(ctx, stablehlo_text(module, entry), args, f"tiers_{entry}")


def lower_text(ctx: mlir.LoweringRuleContext, text: str, args: Sequence[Any],
               name: str = "tiers_main", what: str = "tiers emitted StableHLO") -> Sequence[Any]:
    """Call the `@main` of StableHLO module `text` from the `jax.jit` lowering of `ctx`, as
    `jax.export` calls a serialized function: parse it in the lowering's MLIR context, merge
    it in as a private function, `func.call` it; the results' MLIR values."""
    try:
        sub = ir.Module.parse(text, context=ctx.module_context.context)
    except ir.MLIRError as e:
        first = e.error_diagnostics[0] if e.error_diagnostics else None
        why = f"{first.location}: {first.message}" if first else str(e).splitlines()[0]
        raise EmissionError(f"{what} that MLIR rejects ({why}); please report it with the "
                            "module (`tiers-opt -t stablehlo`)") from None
    callee = mlir.merge_mlir_modules(ctx.module_context.module, name, sub,
                                     dst_symtab=ctx.module_context.symbol_table)
    types = [mlir.aval_to_ir_type(ctx.module_context, a) for a in ctx.avals_out]
    return list(func_dialect.CallOp(types, ir.FlatSymbolRefAttr.get(callee), list(args)).results)


class _Program:
    """A finished module as a primitive param: hashed by identity, like a jaxpr."""

    def __init__(self, module: ModuleOp, entry: str, emission: str):
        self.module, self.entry, self.emission = module, entry, emission
        fn = find_function(module, entry)
        self.out_avals = [aval_of(t) for t in fn.function_type.outputs]


hlo_call_p = core.Primitive("tiers_program")
hlo_call_p.multiple_results = True
hlo_call_p.def_abstract_eval(lambda *_, program: program.out_avals)


def _impl(*args: Any, program: _Program) -> list[Any]:
    # Bound outside any trace only by JAX's de-optimized re-run (`jax_debug_nans`/`_infs`
    # found a bad value in a compiled output): walk the IR op by op and name the op that made
    # it, with its user line and operands (checking.py). (Calling `jax.jit` here again would
    # find the same NaN and recurse.)
    found = first_invalid(program.module, program.entry, args,
                          nans=jax.config.jax_debug_nans,  # type: ignore[attr-defined]
                          infs=jax.config.jax_debug_infs)  # type: ignore[attr-defined]
    if found is not None:
        error = FloatingPointError(found.message)
        for note in found.notes():
            error.add_note(note)
        raise error
    # No op makes one op by op: JAX then says the de-optimized run found none.
    return list(Walker(program.module, RULES, "jax").call(program.entry, args))


hlo_call_p.def_impl(_impl)
mlir.register_lowering(hlo_call_p, lambda ctx, *args, program: lower(
    ctx, program.module, args, program.entry, program.emission))


def to_callable(module: ModuleOp, entry: str = "main") -> Callable[..., list[Any]]:
    """A traceable JAX function computing `@entry` of `module` (flat args -> list of outs)."""
    find_function(module, entry)
    walker = Walker(module, RULES, "jax")

    def run(*args: Any) -> list[Any]:
        return walker.call(entry, args)

    return run


class KernelsProgram:
    """`@entry` run op by op, each `fused.kernel` as its own compiled XLA executable."""

    def __init__(self, module: ModuleOp, entry: str):
        find_function(module, entry)
        self.entry = entry
        self.walker = _KernelWalker(module, RULES, "jax")

    def __call__(self, *args: Any) -> list[Any]:
        return self.walker.call(self.entry, args)

    @property
    def kernels(self) -> int:
        """Distinct kernels compiled so far."""
        return len(self.walker.compiled)

    @property
    def launches(self) -> int:
        """Kernel executions so far."""
        return self.walker.launches

    def ops_per_kernel(self) -> list[int]:
        return [op.ops_count() for op in self.walker.compiled]


class _KernelWalker(Walker):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.compiled: dict[fused.KernelOp, Callable[..., Any]] = {}
        self.launches = 0

    def kernel(self, op: fused.KernelOp, args: Sequence[Any]) -> list[Any]:
        fn = self.compiled.get(op)
        if fn is None:
            inline = Walker(self.module, self.rules, self.target)
            fn = self.compiled[op] = JAX_JIT(lambda *a: inline.run_block(op.body.block, a))
        self.launches += 1
        return fn(*args)


def placement(fn: func.FuncOp) -> dict[str, Any]:
    """`jax.jit`'s `in_shardings`/`out_shardings` for the `tiers.device`, `tiers.mesh` and
    `tiers.sharding` attributes of `fn` (dialects/sharding.py); none without them."""
    attrs = fn.attributes
    if sharding.DEVICE in attrs:
        where = jax.sharding.SingleDeviceSharding(sharding.to_device(attrs[sharding.DEVICE]))
        return {"in_shardings": where, "out_shardings": where}
    if sharding.MESH not in attrs:
        return {}
    mesh = sharding.to_mesh(attrs[sharding.MESH])

    def each(dicts: Any, n: int) -> tuple[Any, ...]:
        # None leaves the placement of that value to JAX, as in `jax.jit`.
        if dicts is None:
            return (None,) * n
        return tuple(jax.sharding.NamedSharding(mesh, sharding.to_spec(d.data[sharding.SHARDING]))
                     if sharding.SHARDING in d.data else None for d in dicts)

    return {"in_shardings": each(fn.arg_attrs, len(fn.function_type.inputs)),
            # `to_callable` returns a list: the prefix must be one too
            "out_shardings": list(each(fn.res_attrs, len(fn.function_type.outputs)))}


def compile(module: ModuleOp, entry: str = "main", mode: str = "graph",  # noqa: A001
            emission: str = "stablehlo", bare: bool = False) -> Callable[..., Any]:
    """`@entry` of `module` compiled in `mode` ("graph": one `jax.jit`, its body emitted as
    `emission`; "kernels": see above). It returns the list of results, or with `bare` (graph
    mode, one result) the result itself: JAX's dispatcher returns a bare array ~0.1 us faster,
    which eager kernels feel."""
    if mode == "graph":
        where = placement(find_function(module, entry))
        if emission == "walk" or _calls_back(module):  # as in `lower`
            walk = to_callable(module, entry)
            return JAX_JIT((lambda *args: walk(*args)[0]) if bare else walk, **where)
        program = _Program(module, entry, emission)
        if bare:
            return JAX_JIT(lambda *args: hlo_call_p.bind(*args, program=program)[0], **where)
        return JAX_JIT(lambda *args: hlo_call_p.bind(*args, program=program), **where)
    if mode == "kernels":
        return KernelsProgram(module, entry)
    raise ValueError(f"unknown JAX target mode '{mode}' (modes: {', '.join(MODES)})")
