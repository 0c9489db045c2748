"""The trace level of the persistent cache: `tiers.jit` calls keyed before JAX traces them.

Opt-in (`tiers.config.set_cache_before_trace()`, `TIERS_CACHE_BEFORE_TRACE=1`), and only
while a cache folder is set (`tiers.config.set_cache_dir`). Without it a fresh process pays
JAX's trace of the user's function (and tiers' program hash) before the program cache can
answer; with it, a call whose key is on disk skips both.

The key (`call_key`) covers the user's function as `frontend/fingerprint.py` tells it (code,
defaults, closure, globals read, recursively), the static arguments by value, the dynamic
arguments' pytree structure and types (shape, dtype, weak type), the `tiers.jit` options,
and everything the program cache's disk key holds besides the program
(`frontend/call.py`, `environment`: versions, the passes' code, JAX's trace context, x64,
backend, devices). A call that cannot be keyed (`NoKey`: an object of a user class in a
closure, ...) is traced as usual and counted under its reason in
`tiers.cache_info()["traces"]`.

How a hit runs. JAX's dispatcher misses (a new process, a new signature) and traces tiers'
wrapper as usual; the wrapper finds the call's entry (`<folder>/traces/<key>.entry`: the
results' types and structure and the StableHLO of the program) and binds `tiers_cached`
instead of calling the user's function. Its lowering splices the stored StableHLO in, as a
program-cache hit does, and XLA's executable comes from JAX's persistent cache. From then on
JAX's dispatcher holds the executable, as for any `jax.jit` call.

Transformations stay exact. `tiers_cached` stands for the `tiers_call` the user's function
would have bound: its JVP, batching and partial-evaluation rules trace the user's function
then (`Stored.retrace`) and hand it to `tiers_call`'s own rules, so `jax.grad`, `vmap` and
`linearize` of a hit see the user's program, never the stored one. A lowering for other
platforms than the stored program's traces too.

What is stored is written after a normal call's program is lowered (frontend/call.py
`store_trace`), only for programs the disk cache may hold (no host callbacks, no opaque
primitives) whose results are plain arrays in tuples, lists, dicts and None.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jax
import numpy as np
from jax._src import config as jax_config
from jax._src import core
from jax._src.interpreters import ad, batching, mlir
from jax._src.interpreters import partial_eval as pe

from tiers.frontend.call import PENDING, environment, tiers_call_p
from tiers.frontend.fingerprint import NoKey, function_print
from tiers.frontend.tensor import Tensor
from tiers.pipeline.cache import TRACES, BadEntry, TraceEntry
from tiers.pipeline.config import SETTINGS
from tiers.targets import jax as jax_target

if TYPE_CHECKING:
    from tiers.frontend.jit import JitFunction

_LOCAL = threading.local()
_SHOWN = 12  # characters of an unreadable object's repr kept in a key, at most


def active(debug: Any = None) -> bool:
    """Whether calls are keyed before tracing now: opt-in, with a cache folder set, and
    not while the passes are instrumented (`debug`, `tiers.config.set_debug`: they must be
    seen to run) nor while JAX checks for NaNs or Infs (whose re-run must see the program)."""
    return (SETTINGS.cache_before_trace and SETTINGS.cache_dir is not None
            and not getattr(_LOCAL, "bypassed", False) and debug is None
            and SETTINGS.debug is None and not jax_config.debug_nans.value
            and not jax_config.debug_infs.value)


class bypassed:  # a context manager: `with bypassed():`
    """Trace as usual inside (`fn.trace`, `fn.lower`, `explain`: tiers' stages need the
    user's jaxpr)."""

    def __enter__(self) -> None:
        self._before = getattr(_LOCAL, "bypassed", False)
        _LOCAL.bypassed = True

    def __exit__(self, *_: Any) -> None:
        _LOCAL.bypassed = self._before


# -- the key -----------------------------------------------------------------------------------

def call_key(compiler: JitFunction, args: tuple, kwargs: dict, leaves: list[Any],
             in_tree: Any) -> str:
    """The key of this call of `compiler`'s function, or `NoKey` saying why there is none."""
    env = environment(compiler.options)
    if env is None:
        raise NoKey("a pass of the pipeline has no source file to fingerprint")
    found = function_print(compiler._fn)
    found.text("environment", *env, compiler.options.pipeline.text,
               compiler.options.verify_each, compiler.name)
    found.text("jit", compiler.static_argnums, compiler.static_argnames,
               *(_plain(getattr(compiler, a), a) for a in _JIT_OPTIONS))
    static_pos = compiler._static_pos(args)
    for i in sorted(static_pos):
        found.value(args[i], f"static argument #{i}")
    for name in sorted(k for k in kwargs if k in compiler.static_argnames):
        found.value(kwargs[name], f"static argument '{name}'")
    _check_tree(in_tree, "the arguments")
    found.text("tree", str(in_tree), len(args))
    for i, leaf in enumerate(leaves):
        aval = jax.typeof(leaf)
        if type(aval) is not core.ShapedArray or not isinstance(aval.dtype, np.dtype):
            raise NoKey(f"argument leaf #{i} is a {aval.str_short()}, not a plain array")
        found.text(aval.str_short(short_dtypes=False), aval.weak_type)
    return found.hexdigest()


# jax.jit's options as `JitFunction` keeps them; they change the executable around the call
# (donation, shardings, placement), so a key holds them too.
_JIT_OPTIONS = ("device", "backend", "in_shardings", "out_shardings", "jit_options")


def _plain(value: Any, name: str) -> str:
    text = repr(value)
    if " at 0x" in text:
        raise NoKey(f"tiers.jit's {name} has no stable text ({text[:_SHOWN]}...)")
    return text


_NODES = (tuple, list, dict, type(None), Tensor)


def _check_tree(treedef: Any, what: str) -> None:
    """`NoKey` unless `treedef` holds only tuples, lists, dicts, None and Tensors: a custom
    pytree node's flattening is user code a key cannot see."""
    data = treedef.node_data()
    if data is None:
        return
    kind, aux = data
    if kind not in _NODES:
        raise NoKey(f"{what} hold a {kind.__module__}.{kind.__qualname__} pytree node")
    if kind is dict and not all(isinstance(k, str) for k in aux):
        raise NoKey(f"{what} hold a dict with keys that are not strings")
    for child in treedef.children():
        _check_tree(child, what)


def no_key(reason: str) -> None:
    """Count a call traced because it has no key (`reason`, kept as the latest "no key")."""
    TRACES.uncached("no key", reason)


# -- entries -------------------------------------------------------------------------------------

def meta(out_tree: Any, out_avals: list[Any]) -> str | None:
    """What an entry says of a call's results (JSON), or None when they cannot be stored."""
    try:
        _check_tree(out_tree, "the results")
    except NoKey:
        return None
    outs = []
    for aval in out_avals:
        if type(aval) is not core.ShapedArray or not isinstance(aval.dtype, np.dtype):
            return None
        outs.append([aval.dtype.name, list(aval.shape), bool(aval.weak_type)])
    return json.dumps({"outs": outs, "tree": _encode(out_tree)})


def _encode(treedef: Any) -> Any:
    data = treedef.node_data()
    if data is None:
        return "*"
    kind, aux = data
    children = [_encode(c) for c in treedef.children()]
    if kind is dict:
        return {"dict": list(aux), "of": children}
    return {"tuple": children} if kind is tuple else (
        {"list": children} if kind is list else {"none": None})


def _leaf_count(tree: Any) -> int:
    """The leaves of an encoded structure; ValueError or TypeError if it is malformed."""
    if tree == "*":
        return 1
    if not isinstance(tree, dict) or len(tree) not in (1, 2):
        raise ValueError(f"not a structure: {str(tree)[:40]}")
    if "dict" in tree:
        keys, children = tree["dict"], tree["of"]
        if len(keys) != len(children) or not all(isinstance(k, str) for k in keys):
            raise ValueError("a dict's keys and values disagree")
        return sum(map(_leaf_count, children))
    (kind, children), = tree.items()
    if kind == "none":
        return 0
    if kind not in ("tuple", "list") or not isinstance(children, list):
        raise ValueError(f"a malformed node {kind!r}")
    return sum(map(_leaf_count, children))


def _decode(tree: Any, leaves: Iterator[Any]) -> Any:
    if tree == "*":
        return next(leaves)
    if "dict" in tree:
        return {k: _decode(c, leaves) for k, c in zip(tree["dict"], tree["of"], strict=True)}
    if "tuple" in tree:
        return tuple(_decode(c, leaves) for c in tree["tuple"])
    if "list" in tree:
        return [_decode(c, leaves) for c in tree["list"]]
    return None


@dataclass(frozen=True, eq=False)  # a primitive param: hashed by identity, like a jaxpr
class Stored:
    """A call's stored program, and how to trace the user's function when JAX needs it."""

    key: str
    stablehlo: str
    platforms: tuple[str, ...]
    out_avals: tuple[core.ShapedArray, ...]
    tree: Any
    retrace: Callable[..., list[Any]]  # the flat leaves -> tiers_call's results, traced

    def __repr__(self) -> str:  # as it shows in a printed jaxpr
        return f"stored({self.key[:12]})"


def find(key: str, retrace: Callable[..., list[Any]]) -> Stored | None:
    """The stored program of `key`, or None (a miss, counted with its reason)."""

    def read(entry: TraceEntry) -> Stored:
        try:
            info = json.loads(entry.meta)
            out_avals = tuple(core.ShapedArray(tuple(shape), np.dtype(jax.numpy.dtype(dtype)),
                                               weak_type=weak)
                              for dtype, shape, weak in info["outs"])
            if _leaf_count(info["tree"]) != len(out_avals):
                raise ValueError("the results' structure and types disagree")
            return Stored(key, entry.stablehlo, tuple(info["platforms"]), out_avals,
                          info["tree"], retrace)
        except (ValueError, KeyError, TypeError) as e:  # whole, but not what tiers writes
            raise BadEntry("foreign/version", "its description of the results is malformed "
                           f"({type(e).__name__}: {e})") from None

    found: Stored | None = TRACES.get(key, read)
    return found


def results(stored: Stored, outs: list[Any]) -> Any:
    """The call's results, in the structure the function returned them (`find` has checked
    that the structure holds as many leaves as there are results)."""
    return _decode(stored.tree, iter(outs))


def store(key: str, out_tree: Any, outs: list[Any]) -> None:
    """Remember that the `tiers_call` just bound (its results `outs`) answers `key`: its
    program is written to the trace level once lowered (frontend/call.py `store_trace`)."""
    if not outs:
        return
    eqn: Any = getattr(outs[0], "parent", None)  # JAX's tracing equation of the results
    if eqn is None or getattr(eqn, "primitive", None) is not tiers_call_p:
        return
    described = meta(out_tree, [jax.typeof(o) for o in outs])
    if described is not None:
        PENDING[eqn.params["call_jaxpr"]] = (key, described)


# -- the primitive ------------------------------------------------------------------------------

tiers_cached_p = core.Primitive("tiers_cached")
tiers_cached_p.multiple_results = True
tiers_cached_p.def_abstract_eval(lambda *_, stored: stored.out_avals)
# Evaluated outside any trace (a jaxpr run op by op): the user's function, bound as usual.
tiers_cached_p.def_impl(lambda *args, stored: stored.retrace(*args))


def _lower(ctx: mlir.LoweringRuleContext, *args: Any, stored: Stored) -> Any:
    """Splice the stored StableHLO in; for other platforms, or if MLIR rejects the text (then
    the entry is removed), lower the user's function traced now."""
    if tuple(ctx.module_context.platforms) == stored.platforms:
        try:
            return jax_target.lower_text(ctx, stored.stablehlo, args,
                                         what="the trace cache's StableHLO")
        except jax_target.EmissionError as e:
            TRACES.reject(stored.key, str(e))
    return mlir.lower_fun(stored.retrace, multiple_results=True)(ctx, *args)


mlir.register_lowering(tiers_cached_p, _lower)


def _jvp(primals: list[Any], tangents: list[Any], *, stored: Stored) -> tuple[Any, Any]:
    tangents = [ad.instantiate_zeros(t) for t in tangents]
    return jax.jvp(stored.retrace, tuple(primals), tuple(tangents))


def _batch(axis: Any, args: list[Any], dims: list[Any], *, stored: Stored
           ) -> tuple[Any, list[int]]:
    # `vmap` of the user's function with the axis of the enclosing one (its name, for
    # collectives in the function; its size, for calls whose arguments are all unmapped).
    outs = jax.vmap(stored.retrace, in_axes=tuple(dims), axis_name=axis.name,
                    axis_size=axis.size, spmd_axis_name=axis.spmd_name)(*args)
    return outs, [0] * len(outs)


def _partial_eval(trace: Any, *tracers: Any, stored: Stored) -> Any:
    with core.set_current_trace(trace):
        return stored.retrace(*tracers)


ad.primitive_jvps[tiers_cached_p] = _jvp
batching.fancy_primitive_batchers[tiers_cached_p] = _batch
pe.custom_partial_eval_rules[tiers_cached_p] = _partial_eval
