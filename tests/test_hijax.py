"""JAX's hi-types (`jax._src.hijax`) through `tiers.jit` behave as they do through `jax.jit`.

A mutable hi-type (JAX's `Box`, flax's hijax `Variable`) carries type state, its "quasi-dynamic
data" (`core.AvalQDD`): what it holds now. `jax.jit` traces its body from each argument's
current state, the caller's value takes the state the body leaves it in, and a body on
hi-types is lowered to plain arrays (`to_lojax`) before XLA sees it. `tiers_call` must do the
same (frontend/call.py), so each program here runs under both and must agree: results, and
what the boxes hold afterwards. An immutable hi-type (a pair of arrays) must pass through too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax._src import core
from jax._src.hijax import Box, HiPrimitive, HiType, register_hitype

import tiers
from tiers.frontend.call import MODULES

Jit = Callable[..., Any]


# ---------------------------------------------------------------------------------------
# An immutable hi-type: a pair of arrays, lowered to its two arrays.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    a: Any
    b: Any


@dataclass(frozen=True)
class PairTy(HiType):
    a: core.AbstractValue
    b: core.AbstractValue

    def lo_ty(self) -> list[core.AbstractValue]:
        return [self.a, self.b]

    def lower_val(self, hi_val: Pair) -> list[Any]:
        return [hi_val.a, hi_val.b]

    def raise_val(self, a: Any, b: Any) -> Pair:
        return Pair(a, b)

    def str_short(self, *_: Any, **__: Any) -> str:
        return f"Pair[{self.a.str_short()}, {self.b.str_short()}]"


register_hitype(Pair, lambda p: PairTy(core.typeof(p.a), core.typeof(p.b)))


class PairSum(HiPrimitive):
    """`pair.a + pair.b`: a primitive on the hi-type, lowered to an add."""

    def abstract_eval(self, ty: PairTy) -> tuple[core.AbstractValue, set]:
        return ty.a, set()

    def to_lojax(self, pair: Pair) -> Any:  # type: ignore[override]
        return pair.a + pair.b


pair_sum_p = PairSum("pair_sum")


# ---------------------------------------------------------------------------------------
# Programs: each runs with `jit` (jax.jit or tiers.jit) and returns what it observed.
# ---------------------------------------------------------------------------------------


def _add_to(box: Any, x: Any) -> Any:
    box.set(box.get() + x)
    return x * 2


def box_argument(jit: Jit) -> Any:
    box = Box(jnp.float32(1.0))
    y = jit(_add_to)(box, jnp.float32(2.0))
    return y, box.get()


def box_argument_called_again(jit: Jit) -> Any:
    box = Box(jnp.arange(3.0))
    f = jit(_add_to)
    ys = [f(box, jnp.full(3, float(i))) for i in range(3)]
    return ys, box.get()


def box_changes_type(jit: Jit) -> Any:
    def f(box: Any, x: Any) -> Any:
        box.set({"old": box.get(), "new": x * jnp.ones(3)})
        return box.get()["old"] + x

    box = Box(jnp.float32(1.0))
    y = jit(f)(box, jnp.float32(2.0))
    return y, box.get()


def box_made_inside(jit: Jit) -> Any:
    def f(x: Any) -> Any:
        box = Box(x)
        box.set(box.get() * 3)
        box.set((box.get(), box.get() + 1))
        return box.get()

    return jit(f)(jnp.arange(4.0))


def box_closed_over(jit: Jit) -> Any:
    box = Box(jnp.float32(1.0))

    def f(x: Any) -> Any:
        box.set(box.get() + x)
        return x

    y = jit(f)(jnp.float32(5.0))
    return y, box.get()


def box_closed_over_state_from_caller(jit: Jit) -> Any:
    """The caller (a jax.jit) changes a closed-over box's type before the inner call: the
    inner body must start from that state, not from the box's value outside any trace."""
    box = Box(jnp.float32(1.0))

    def inner(x: Any) -> Any:
        old, new = box.get()
        box.set(old + new.sum())
        return new * x

    def outer(x: Any) -> Any:
        box.set((box.get(), jnp.ones(3)))
        return jit(inner)(x)

    y = jax.jit(outer)(jnp.float32(2.0))
    return y, box.get()


def _nested(outer_jit: Jit, inner_jit: Jit) -> Any:
    def f(box: Any, x: Any) -> Any:
        y = inner_jit(_add_to)(box, x)
        box.set(box.get() * 10)
        return y + inner_jit(_add_to)(box, x)

    box = Box(jnp.float32(1.0))
    y = outer_jit(f)(box, jnp.float32(2.0))
    return y, box.get()


def inside_jax_jit(jit: Jit) -> Any:
    return _nested(jax.jit, jit)


def around_jax_jit(jit: Jit) -> Any:
    return _nested(jit, jax.jit)


def inside_itself(jit: Jit) -> Any:
    return _nested(jit, jit)


def immutable_hi_type(jit: Jit) -> Any:
    def f(pair: Pair, x: Any) -> Any:
        return pair_sum_p.bind(pair) * x, pair

    y, pair = jit(f)(Pair(jnp.ones(2), jnp.arange(2.0)), jnp.float32(3.0))
    return y, pair.a, pair.b


PROGRAMS = [box_argument, box_argument_called_again, box_changes_type, box_made_inside,
            box_closed_over, box_closed_over_state_from_caller, inside_jax_jit,
            around_jax_jit, inside_itself, immutable_hi_type]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
def test_agrees_with_jax_jit(program: Callable[[Jit], Any]) -> None:
    expected = program(jax.jit)
    got = program(tiers.jit)
    assert jax.tree.structure(got) == jax.tree.structure(expected)
    for g, e in zip(jax.tree.leaves(got), jax.tree.leaves(expected), strict=True):
        assert jnp.asarray(g).dtype == jnp.asarray(e).dtype
        np.testing.assert_array_equal(np.asarray(g), np.asarray(e))


def test_compiled_once_for_one_state() -> None:
    """Calls with a box in the same state compile one program (JAX retraces a call on
    hi-values every time; tiers' caches find the program its lowered body already has)."""
    def add_to(box: Any, x: Any) -> Any:
        box.set(box.get() + x)
        return x * 2

    box = Box(jnp.zeros(2))
    f = tiers.jit(add_to)
    builds = MODULES.builds
    for i in range(3):
        f(box, jnp.full(2, float(i)))
    assert MODULES.builds - builds == 1
    np.testing.assert_array_equal(np.asarray(box.get()), [3.0, 3.0])
