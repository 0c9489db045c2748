"""Passes through control-flow regions: `licm`, the loop and cond canonicalizations of
passes/control_flow.py, and cse/dce/fold-constants inside regions.

Each program with loops runs before and after a pass: on the reference target the numbers
must be bit-identical (these passes only move, merge or drop exact computations), on the JAX
target within float tolerance. The structural tests check that each rewrite really happened.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax as jlax
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation, Region

import tiers
from tiers import pipeline
from tiers.dialects import lax
from tiers.frontend.importer import import_jaxpr
from tiers.passes.licm import LicmPass, hoist_loop_invariants
from tiers.pipeline.context import make_context
from tiers.targets import jax as jax_target
from tiers.targets import reference

_CTX = make_context()
_RNG = np.random.default_rng(7)
LOOPS = (lax.WhileOp, lax.ScanOp)
# Passes whose reference-target results must be bit-identical to the input's.
EXACT = ["licm", "canonicalize", "canonicalize,licm", "licm,cse", "cse", "dce",
         "fold-constants", "O1"]


def fl(*shape: int) -> np.ndarray:
    return _RNG.standard_normal(shape).astype(np.float32)


def imported(fn: Callable[..., Any], *args: Any) -> ModuleOp:
    return import_jaxpr(jax.make_jaxpr(fn)(*args), "main")


def optimized(fn: Callable[..., Any], args: tuple[Any, ...], pipeline: str) -> ModuleOp:
    module = imported(fn, *args)
    tiers.pipeline.compile(module, pipeline, ctx=_CTX)  # verifies, dominance included
    return module


def ops_in(node: Operation | Region | Block, cls: type | tuple[type, ...]) -> list[Operation]:
    return [op for op in node.walk() if isinstance(op, cls)]


def in_loops(module: ModuleOp, cls: type | tuple[type, ...]) -> list[Operation]:
    """Ops of class `cls` inside some loop region."""
    return [op for loop in ops_in(module, LOOPS) for r in loop.regions for op in ops_in(r, cls)]


def same_numbers(fn: Callable[..., Any], args: tuple[Any, ...], pipeline: str,
                 exact: bool = True) -> ModuleOp:
    """`pipeline` changes no number: reference target before/after (bit-identical when
    `exact`), the JAX target after against `jax.jit` of `fn`; returns the optimized module."""
    flat = jax.tree_util.tree_leaves(args)
    before = reference.run(imported(fn, *args), flat)
    after_module = optimized(fn, args, pipeline)
    after = reference.run(after_module, flat)
    want = [np.asarray(w) for w in jax.tree_util.tree_leaves(jax.jit(fn)(*args))]
    assert len(before) == len(after) == len(want)
    for b, a in zip(before, after, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype
        if exact:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    got = jax.jit(jax_target.to_callable(after_module))(*flat)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), w, rtol=2e-5, atol=1e-5)
    return after_module


# ---------------------------------------------------------------------------------------
# Programs where the passes apply.
# ---------------------------------------------------------------------------------------


def fori_invariant(a: jax.Array, b: jax.Array, x: jax.Array) -> jax.Array:
    """A matmul and an exp of captured values recomputed every step, and a dead counter."""
    def body(i: jax.Array, c: tuple) -> tuple:
        acc, y = c
        m = jnp.exp(a @ b * 0.1)
        return acc + 1.0, jnp.tanh(y @ m)
    return jlax.fori_loop(0, 5, body, (jnp.float32(0), x))[1]


def scan_unused_ys(w: jax.Array, h0: jax.Array, xs: jax.Array) -> jax.Array:
    """An RNN whose per-step outputs and a carried norm are never used."""
    def cell(c: tuple, x: jax.Array) -> tuple:
        h, norm = c
        h2 = jnp.tanh(h @ jnp.sin(w) + x)
        return (h2, norm + jnp.sum(h2 * h2)), (h2, jnp.sum(h2))
    return jlax.scan(cell, (h0, jnp.float32(0)), xs)[0][0]


def while_invariant_cond(a: jax.Array, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The cond compares with an expression of captured values; the body scales by another;
    one carried value passes through unchanged."""
    def cond(c: tuple) -> jax.Array:
        k, _, _ = c
        return k < jnp.sum(jnp.abs(a)).astype(jnp.int32) % 4 + 2

    def body(c: tuple) -> tuple:
        k, v, same = c
        return k + 1, v * jnp.cos(a) + same, same
    k, v, same = jlax.while_loop(cond, body, (0, x, jnp.tanh(x)))
    return v, same


def nested_loops(a: jax.Array, x: jax.Array) -> jax.Array:
    """An invariant of both loops, one of the inner loop only, one of neither."""
    def outer(i: jax.Array, c: jax.Array) -> jax.Array:
        t = jnp.tanh(c)

        def inner(j: jax.Array, d: jax.Array) -> jax.Array:
            return d * t + jnp.exp(a * 0.1)
        return jlax.fori_loop(0, 3, inner, c) * 0.5
    return jlax.fori_loop(0, 4, outer, x)


def known_branches(i: jax.Array, x: jax.Array) -> jax.Array:
    """A switch on a constant (out of range: clamped), a cond with equal branches, a while
    whose cond is false at entry, and a switch on a traced index."""
    a = jlax.switch(5, [jnp.sin, jnp.cos, jnp.tanh], x)
    b = jlax.cond(i > 0, jnp.exp, jnp.exp, x)
    c = jlax.while_loop(lambda s: s[0] < 0, lambda s: (s[0] + 1, s[1] * 2), (0, x))[1]
    d = jlax.switch(i, [jnp.sin, jnp.cos], x)
    return a + b + c + d


def int_division_in_while(n: jax.Array, x: jax.Array, d: jax.Array) -> jax.Array:
    """An invariant integer division by zero in a loop that may not run: hoisted, it runs
    once more, and XLA (like the reference target) gives it a value instead of trapping."""
    def body(c: tuple) -> tuple:
        k, v = c
        return k - 1, v + x // d
    return jlax.while_loop(lambda c: c[0] > 0, body, (n, x))[1]


def cond_partly_used(i: jax.Array, x: jax.Array) -> jax.Array:
    """A cond with two results, one of them unused, inside a loop."""
    def body(k: jax.Array, c: jax.Array) -> jax.Array:
        used, unused = jlax.cond(i > k, lambda: (jnp.sin(c), jnp.exp(c)),
                                 lambda: (c * 0.5, jnp.cos(c)))
        return used
    return jlax.fori_loop(0, 4, body, x)


PROGRAMS: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {
    "fori_invariant": (fori_invariant, (fl(6, 6), fl(6, 6), fl(3, 6))),
    "scan_unused_ys": (scan_unused_ys, (fl(4, 4), fl(4), fl(7, 4))),
    "while_invariant_cond": (while_invariant_cond, (fl(5), fl(5))),
    "nested_loops": (nested_loops, (fl(3), fl(3))),
    "known_branches": (known_branches, (np.int32(1), fl(4))),
    "cond_partly_used": (cond_partly_used, (np.int32(2), fl(4))),
    "int_division_zero_trips": (int_division_in_while, (np.int32(0), np.int32(5),
                                                        np.int32(0))),
    "int_division_trips": (int_division_in_while, (np.int32(3), np.int32(5), np.int32(2))),
}


@pytest.mark.parametrize("pipeline", [*EXACT, "O2"])
@pytest.mark.parametrize("program", list(PROGRAMS))
def test_passes_keep_the_numbers(program: str, pipeline: str) -> None:
    fn, args = PROGRAMS[program]
    same_numbers(fn, args, pipeline, exact=pipeline != "O2")


def test_licm_hoists_the_invariant_matmul_and_exp() -> None:
    fn, args = PROGRAMS["fori_invariant"]
    assert in_loops(imported(fn, *args), (lax.DotGeneralOp, lax.ExpOp))
    module = same_numbers(fn, args, "licm")
    (loop,) = ops_in(module, LOOPS)
    assert not in_loops(module, lax.ExpOp)
    # the invariant a @ b left; the y @ m reading the carry stayed
    assert len(in_loops(module, lax.DotGeneralOp)) == 1
    assert len([op for op in module.walk() if isinstance(op, lax.DotGeneralOp)
                and op.parent_block() is loop.parent_block()]) == 1


def test_licm_hoists_out_of_while_cond_and_body() -> None:
    fn, args = PROGRAMS["while_invariant_cond"]
    module = same_numbers(fn, args, "licm")
    (loop,) = ops_in(module, lax.WhileOp)
    assert isinstance(loop, lax.WhileOp)
    assert not ops_in(loop.cond, (lax.ReduceSumOp, lax.AbsOp))
    assert not ops_in(loop.body, lax.CosOp)


def test_licm_nested_loops_hoist_as_far_as_they_go() -> None:
    fn, args = PROGRAMS["nested_loops"]
    module = same_numbers(fn, args, "licm")
    outer = next(op for op in module.walk() if isinstance(op, LOOPS))
    inner = next(op for op in ops_in(outer.regions[-1], LOOPS))
    func_block = outer.parent_block()
    exp = ops_in(module, lax.ExpOp)
    tanh = ops_in(module, lax.TanhOp)
    assert len(exp) == 1 and exp[0].parent_block() is func_block  # out of both loops
    assert len(tanh) == 1 and tanh[0].parent_block() is outer.regions[-1].block  # one loop
    assert not ops_in(inner.regions[-1], (lax.ExpOp, lax.TanhOp))


def test_licm_is_the_registered_pass() -> None:
    assert pipeline.get_all_passes()["licm"]() is LicmPass
    fn, args = PROGRAMS["fori_invariant"]
    np.testing.assert_allclose(np.asarray(tiers.jit(fn, pipeline="licm")(*args)),
                               np.asarray(jax.jit(fn)(*args)), rtol=2e-5, atol=1e-5)


def test_licm_leaves_cond_branches_alone() -> None:
    def fn(i: jax.Array, x: jax.Array) -> jax.Array:
        def body(k: jax.Array, c: jax.Array) -> jax.Array:
            return c + jlax.cond(i > 0, lambda: jnp.exp(x), lambda: c)
        return jlax.fori_loop(0, 3, body, x)
    module = same_numbers(fn, (np.int32(1), fl(4)), "licm")
    (cond,) = ops_in(module, lax.CondOp)
    assert ops_in(cond, lax.ExpOp)  # still inside its branch
    assert in_loops(module, lax.CondOp)  # reads the carry: stays in the loop


def test_canonicalize_removes_dead_carries_and_ys() -> None:
    fn, args = PROGRAMS["scan_unused_ys"]
    before = imported(fn, *args)
    (scan,) = ops_in(before, lax.ScanOp)
    assert isinstance(scan, lax.ScanOp) and scan.num_carry == 2 and len(scan.ys) == 2
    module = same_numbers(fn, args, "canonicalize")
    (scan,) = ops_in(module, lax.ScanOp)
    assert isinstance(scan, lax.ScanOp)
    assert scan.num_carry == 1 and not scan.ys and len(scan.xs) == 1
    assert not ops_in(scan, (lax.ReduceSumOp,))  # the norm and the per-step sums are gone

    fn, args = PROGRAMS["fori_invariant"]
    module = same_numbers(fn, args, "canonicalize")
    (scan,) = ops_in(module, lax.ScanOp)
    # a fori_loop with a static trip count is a scan carrying (counter, acc, y): the body
    # reads neither the counter nor acc, so only y stays
    (scan_before,) = ops_in(imported(fn, *args), lax.ScanOp)
    assert isinstance(scan_before, lax.ScanOp) and scan_before.num_carry == 3
    assert isinstance(scan, lax.ScanOp) and scan.num_carry == 1


def test_canonicalize_forwards_pass_through_carry() -> None:
    fn, args = PROGRAMS["while_invariant_cond"]
    module = same_numbers(fn, args, "canonicalize")
    (loop,) = ops_in(module, lax.WhileOp)
    assert isinstance(loop, lax.WhileOp) and len(loop.init) == 2  # k and v; `same` forwarded
    ret = module.body.block.first_op.body.block.last_op  # type: ignore[union-attr]
    assert isinstance(ret.operands[1].owner, lax.TanhOp)


def test_canonicalize_folds_known_branches() -> None:
    fn, args = PROGRAMS["known_branches"]
    before = imported(fn, *args)
    assert len(ops_in(before, lax.CondOp)) == 3 and len(ops_in(before, lax.WhileOp)) == 1
    module = same_numbers(fn, args, "canonicalize")
    assert len(ops_in(module, lax.CondOp)) == 1  # only the switch on the traced index
    assert not ops_in(module, lax.WhileOp)
    assert len(ops_in(module, lax.ExpOp)) == 1 and len(ops_in(module, lax.TanhOp)) == 1


def test_canonicalize_drops_unused_cond_results() -> None:
    fn, args = PROGRAMS["cond_partly_used"]
    (cond,) = ops_in(imported(fn, *args), lax.CondOp)
    assert len(cond.results) == 2
    module = same_numbers(fn, args, "canonicalize")
    (cond,) = ops_in(module, lax.CondOp)
    assert len(cond.results) == 1 and not ops_in(cond, (lax.ExpOp, lax.CosOp))


def test_cond_true_at_entry_stays() -> None:
    def fn(x: jax.Array) -> jax.Array:
        return jlax.while_loop(lambda s: s[0] < 3, lambda s: (s[0] + 1, s[1] * 2), (0, x))[1]
    module = same_numbers(fn, (fl(3),), "canonicalize")
    assert len(ops_in(module, lax.WhileOp)) == 1


# ---------------------------------------------------------------------------------------
# Random loop programs: invariant subexpressions, dead and pass-through carries, unused ys,
# conds inside bodies, loops inside loops.
# ---------------------------------------------------------------------------------------

_UNARY: list[Callable[[jax.Array], jax.Array]] = [
    jnp.sin, jnp.tanh, jnp.cos, lambda v: v * 0.5, lambda v: jnp.exp(-jnp.abs(v))]


def random_program(seed: int) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """A random loop program over captured `a` (4,) and `m` (4, 4) and carries of shape (4,)."""
    rng = np.random.default_rng(seed)
    kind = ["fori", "scan", "while"][seed % 3]
    n = int(rng.integers(1, 5))
    src = [int(rng.integers(0, n)) for _ in range(n)]
    fns = [_UNARY[int(rng.integers(len(_UNARY)))] for _ in range(2 * n)]
    invariant = [int(rng.integers(0, 3)) for _ in range(n)]  # 0 none, 1 of a, 2 of m @ a
    passthrough = [bool(rng.random() < 0.2) for _ in range(n)]
    returned = [i for i in range(n) if rng.random() < 0.5] or [0]
    branchy, nest = bool(rng.random() < 0.4), bool(rng.random() < 0.3)
    trips = int(rng.integers(0, 4))

    def step(a: jax.Array, m: jax.Array, cs: tuple, x: jax.Array) -> tuple:
        out = []
        for i in range(n):
            if passthrough[i]:
                out.append(cs[i])
                continue
            v = fns[i](cs[src[i]]) + x
            if invariant[i] == 1:
                v = v + fns[n + i](a)
            elif invariant[i] == 2:
                v = v + jnp.tanh(m @ a) * 0.3
            if branchy and i == 0:
                v = jlax.cond(jnp.sum(cs[0]) > 0, lambda u: u * 0.5, lambda u: u - a, v)
            if nest and i == n - 1:
                v = jlax.fori_loop(0, 2, lambda j, u: jnp.sin(u) + jnp.cos(a), v)
            out.append(v)
        return tuple(out)

    def fn(a: jax.Array, m: jax.Array, c0: jax.Array, xs: jax.Array) -> tuple:
        init = tuple(c0 * (i + 1) for i in range(n))
        if kind == "fori":
            final = jlax.fori_loop(0, trips, lambda k, cs: step(a, m, cs, a * 0.1), init)
            return tuple(final[i] for i in returned)
        if kind == "scan":
            def body(cs: tuple, x: jax.Array) -> tuple:
                nxt = step(a, m, cs, x)
                return nxt, (nxt[0] * 2, jnp.sum(nxt[-1]))
            final, (y0, y1) = jlax.scan(body, init, xs)
            return (*(final[i] for i in returned), y1) if seed % 2 else \
                tuple(final[i] for i in returned)

        def cond(s: tuple) -> jax.Array:
            return s[0] < trips + jnp.sum(jnp.abs(a) > 10).astype(jnp.int32)

        def wbody(s: tuple) -> tuple:
            return (s[0] + 1, *step(a, m, s[1:], a * 0.1))
        final = jlax.while_loop(cond, wbody, (0, *init))[1:]
        return tuple(final[i] for i in returned)

    return fn, (fl(4), fl(4, 4) * 0.5, fl(4), fl(3, 4))


@pytest.mark.parametrize("pipeline", ["canonicalize,licm", "O2"])
@pytest.mark.parametrize("seed", range(12))
def test_random_loop_programs(seed: int, pipeline: str) -> None:
    fn, args = random_program(seed)
    same_numbers(fn, args, pipeline, exact=pipeline != "O2")


# ---------------------------------------------------------------------------------------
# Linear time.
# ---------------------------------------------------------------------------------------


def chain_in_loop(n: int) -> ModuleOp:
    """A scan whose body holds a chain of `n` invariant ops and `n` ops on a carried value
    (plus a dead carried value feeding `n` more)."""
    def fn(a: jax.Array, c0: jax.Array) -> jax.Array:
        def body(c: tuple, _: None) -> tuple:
            h, dead = c
            v = a
            for _ in range(n):
                v = jnp.sin(v)
            for _ in range(n):
                h = jnp.cos(h) + v
            for _ in range(n):
                dead = jnp.tanh(dead)
            return (h, dead), None
        return jlax.scan(body, (c0, c0), None, length=2)[0][0]
    return imported(fn, np.zeros(2, np.float32), np.zeros(2, np.float32))


def _seconds(pipeline: str, module: ModuleOp) -> float:
    start = time.perf_counter()
    tiers.pipeline.compile(module, pipeline, ctx=_CTX)
    return time.perf_counter() - start


@pytest.mark.parametrize("pipeline", ["licm", "canonicalize"])
def test_linear_time(pipeline: str) -> None:
    t_small = min(_seconds(pipeline, chain_in_loop(500)) for _ in range(2))
    large = chain_in_loop(4000)
    t_large = _seconds(pipeline, large)
    # 8x the ops; quadratic would be 64x. Allow noise on a shared machine.
    assert t_large < 24 * t_small + 0.05, (t_small, t_large)
    if pipeline == "licm":
        assert len(in_loops(large, lax.SinOp)) == 0
        assert len(in_loops(large, lax.CosOp)) == 4000
    else:
        (scan,) = ops_in(large, lax.ScanOp)
        assert isinstance(scan, lax.ScanOp) and scan.num_carry == 1
        assert not in_loops(large, lax.TanhOp)


def test_hoist_function_counts_moves() -> None:
    fn, args = PROGRAMS["nested_loops"]
    module = imported(fn, *args)
    # exp and its operand chain (mul by 0.1 and its constant) leave two loops, tanh one
    moved = hoist_loop_invariants(module)
    assert moved >= 4
    assert hoist_loop_invariants(module) == 0  # a fixed point after one run


def test_every_control_flow_pattern_fires() -> None:
    """Over the programs above, each pattern of passes/control_flow.py applies (else the
    differential tests would test little) and licm hoists."""
    from tiers.passes.control_flow import PATTERNS
    from tiers.passes.statistics import collect

    with collect() as stats:
        for fn, args in [*PROGRAMS.values(), *(random_program(s) for s in range(6))]:
            optimized(fn, args, "canonicalize,licm")
    names = {type(p).__name__ for ps in PATTERNS.values() for p in ps}
    missing = sorted(n for n in names if not stats["canonicalize"][n])
    assert not missing, f"no program exercises {missing}"
    assert stats["canonicalize"]["carried values removed"] > 0
    assert stats["canonicalize"]["scan outputs removed"] > 0
    assert stats["licm"]["ops hoisted"] > 0
