"""Importer rules for JAX's host callbacks: `jax.debug.print`, `jax.debug.callback`,
`jax.pure_callback` and `jax.experimental.io_callback` become the `lax` ops of
`dialects/lax_effects.py`, their Python side (function, pytree structure, params) held by
the op. `import_rules.py` joins `EFFECT_RULES` into its table.
"""

from __future__ import annotations

from typing import Any

from xdsl.ir import SSAValue

from tiers.dialects import lax
from tiers.dialects.lax_effects import HostCallback
from tiers.frontend.emitter import Emitter, Rule, rule_adder

EFFECT_RULES: dict[str, Rule] = {}
_rule = rule_adder(EFFECT_RULES)


def callback_name(fn: Any) -> str:
    """A readable name for a callback: the user's function where JAX wrapped it (its
    `_FlatCallback`, `jax.debug.callback`'s flat closure, a `functools.partial`)."""
    for _ in range(8):  # wrappers of wrappers, never a cycle
        inner = getattr(fn, "callback_func", None) or getattr(fn, "func", None)
        if inner is None and getattr(fn, "__closure__", None):
            cells = dict(zip(fn.__code__.co_freevars, fn.__closure__, strict=True))
            cell = cells.get("callback")
            inner = cell.cell_contents if cell is not None else None
        if inner is None or inner is fn:
            break
        fn = inner
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _build(em: Emitter, cls: type[lax.CallbackOp], args: tuple[SSAValue, ...],
           name: str, drop: str, ordered: bool) -> list[SSAValue]:
    params = {k: v for k, v in em.params.items() if k != drop}
    op = cls.make(list(args), em.out_types(), HostCallback(name, params), ordered)
    return list(em.add(op).results)


@_rule("debug_print")
def _debug_print(em: Emitter, *args: SSAValue) -> list[SSAValue]:
    return _build(em, lax.DebugPrintOp, args, em.params["fmt"], "ordered",
                  bool(em.params["ordered"]))


@_rule("debug_callback")
def _debug_callback(em: Emitter, *args: SSAValue) -> list[SSAValue]:
    from jax._src import debugging

    ordered = em.params["effect"] is debugging.ordered_debug_effect
    return _build(em, lax.DebugCallbackOp, args, callback_name(em.params["callback"]),
                  "effect", ordered)


@_rule("io_callback")
def _io_callback(em: Emitter, *args: SSAValue) -> list[SSAValue]:
    return _build(em, lax.IoCallbackOp, args, callback_name(em.params["callback"]),
                  "ordered", bool(em.params["ordered"]))


@_rule("pure_callback")
def _pure_callback(em: Emitter, *args: SSAValue) -> list[SSAValue]:
    return _build(em, lax.PureCallbackOp, args, callback_name(em.params["callback"]),
                  "", False)


CALLBACK_PRIMITIVES = frozenset(EFFECT_RULES)


def calls_back(closed: Any) -> bool:
    """Whether a ClosedJaxpr (or a sub-jaxpr of it, at any depth) has a host callback."""
    from jax._src import core

    stack = [closed.jaxpr]
    while stack:
        jaxpr = stack.pop()
        for eqn in jaxpr.eqns:
            if eqn.primitive.name in CALLBACK_PRIMITIVES:
                return True
            stack.extend(core.jaxprs_in_params(eqn.params))
    return False
