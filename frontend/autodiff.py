"""`tiers.grad` and `tiers.value_and_grad`: JAX's own, and on Tensors one eager op.

`jax.grad(f)(x)` on concrete values is JAX's eager autodiff: every primitive of `f`'s forward
pass and of its transpose is dispatched alone. Called with Tensors among its arguments, the
function `tiers.grad` returns runs instead as one eager op (frontend/eager.py): one kernel
compiled per function and argument signature in immediate mode, one op of the pending program in
lazy mode (fused with the forward pass and the update around it). Called with anything else
(`jax.Array`s, tracers inside `jax.jit`/`tiers.jit`, graph tensors) it is exactly JAX's
transformed function, so it composes with `tiers.jit`, `vmap` and higher derivatives as JAX's.

The eager op is made once per (function, transformation arguments), so `tiers.grad(loss)`
written inside a training loop keys one kernel (a `functools.partial` made afresh counts by its
function and bound arguments); a new `lambda` each time is a new function, as for `jax.jit`.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import jax

from tiers.frontend import eager
from tiers.frontend.tensor import Tensor
from tiers.frontend.tracebacks import filter_raised, register_boundary

_MADE: OrderedDict[tuple, eager.Op] = OrderedDict()  # (transform, fun, arguments) -> op
_MADE_SIZE = 1024
_LOCK = threading.Lock()


def _is_tensor(x: Any) -> bool:
    return type(x) is Tensor


def _identity(fun: Callable[..., Any]) -> Any:
    """What identifies `fun` as a computation: itself, or for a `functools.partial` (often
    made afresh on each call) its function and bound arguments."""
    if isinstance(fun, functools.partial):
        return (functools.partial, _identity(fun.func), fun.args,
                tuple(sorted(fun.keywords.items())))
    return fun


def _op(transform: Callable[..., Any], fun: Callable[..., Any], kwargs: dict) -> eager.Op:
    name = f"tiers.{transform.__name__}({getattr(fun, '__name__', 'function')})"
    try:
        key: tuple | None = (transform, _identity(fun), tuple(sorted(kwargs.items())))
        hash(key)
    except TypeError:  # unhashable arguments (a list of argnums): an op of its own
        key = None
    with _LOCK:
        op = _MADE.get(key) if key is not None else None
        if op is None:
            op = eager.Op(transform(fun, **kwargs), name, scalar_operands=False)
            if key is not None:
                _MADE[key] = op
                while len(_MADE) > _MADE_SIZE:
                    _MADE.popitem(last=False)
    return op


def _eager_aware(transform: Callable[..., Any], fun: Callable[..., Any],
                 kwargs: dict) -> Callable[..., Any]:
    op = _op(transform, fun, kwargs)
    transformed = op.fn

    @functools.wraps(fun)
    def run(*args: Any, **kw: Any) -> Any:
        try:  # free until an error is raised; then the user's frames show (tracebacks.py)
            # `is_leaf` stops at Tensors: flattening one would compute a pending lazy value.
            if any(type(x) is Tensor for x in jax.tree_util.tree_leaves((args, kw),
                                                                        is_leaf=_is_tensor)):
                return eager.call(op, args, kw)
            return transformed(*args, **kw)
        except Exception as e:
            filter_raised(e)
            raise

    register_boundary(run.__code__)  # type: ignore[attr-defined]  # wraps' type hides it
    return run


def grad(fun: Callable[..., Any], argnums: Any = 0, has_aux: bool = False,
         holomorphic: bool = False, allow_int: bool = False,
         reduce_axes: Any = ()) -> Callable[..., Any]:
    """`jax.grad(fun, ...)`, run as one eager op when called with Tensors (module docstring)."""
    return _eager_aware(jax.grad, fun, {
        "argnums": argnums, "has_aux": has_aux, "holomorphic": holomorphic,
        "allow_int": allow_int, "reduce_axes": reduce_axes})


def value_and_grad(fun: Callable[..., Any], argnums: Any = 0, has_aux: bool = False,
                   holomorphic: bool = False, allow_int: bool = False,
                   reduce_axes: Any = ()) -> Callable[..., Any]:
    """`jax.value_and_grad(fun, ...)`, run as one eager op when called with Tensors."""
    return _eager_aware(jax.value_and_grad, fun, {
        "argnums": argnums, "has_aux": has_aux, "holomorphic": holomorphic,
        "allow_int": allow_int, "reduce_axes": reduce_axes})
