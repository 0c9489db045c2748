"""Control flow as regions: `lax.cond`, `lax.while`, `lax.scan` from import to both targets.

Every program runs under `tiers.jit` and `jax.jit` (same numbers), through the reference
target (numpy loops over the imported IR, checked against JAX), and through every preset and
the passes that touch regions, whose output must verify and compute the same numbers.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax as jlax
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation, SSAValue

import tiers
from tiers import pipeline
from tiers.dialects import fused, lax
from tiers.frontend.errors import CarriedTypeError, TracedControlFlowError
from tiers.frontend.importer import import_jaxpr
from tiers.pipeline.context import make_context
from tiers.targets import jax as jax_target
from tiers.targets import reference

_RNG = np.random.default_rng(0)
_CTX = make_context()
# Every preset, and each pass that rewrites inside regions on its own.
PIPELINES = [*pipeline.PRESETS, "canonicalize", "cse", "dce", "fold-constants",
             "raise-lax-to-array", "inline", "fuse", "inline,fuse"]


def fl(*shape: int) -> np.ndarray:
    return _RNG.standard_normal(shape).astype(np.float32)


def close(got: Any, want: Any, rtol: float = 1e-5, atol: float = 1e-5) -> None:
    """Same pytree, shapes, dtypes and (within tolerance) values."""
    got_leaves, got_tree = jax.tree_util.tree_flatten(got)
    want_leaves, want_tree = jax.tree_util.tree_flatten(want)
    assert got_tree == want_tree
    for g, w in zip(got_leaves, want_leaves, strict=True):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, g.dtype, w.shape, w.dtype)
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64),
                                   rtol=rtol, atol=atol)


def imported(fn: Callable[..., Any], *args: Any) -> ModuleOp:
    return import_jaxpr(jax.make_jaxpr(fn)(*args), "main")


def ops_named(module: ModuleOp, name: str) -> list[Any]:
    return [op for op in module.walk() if op.name == name]


def check(fn: Callable[..., Any], *args: Any, rtol: float = 1e-5, atol: float = 1e-5) -> None:
    """tiers.jit agrees with jax.jit; the reference target on the imported IR agrees too."""
    want = jax.jit(fn)(*args)
    close(tiers.jit(fn)(*args), want, rtol, atol)
    flat_args = jax.tree_util.tree_leaves(args)
    flat_want = jax.tree_util.tree_leaves(want)
    close(reference.run(imported(fn, *args), flat_args), [np.asarray(w) for w in flat_want],
          rtol, atol)


# ---------------------------------------------------------------------------------------
# Programs.
# ---------------------------------------------------------------------------------------


def mlp_init(sizes: tuple[int, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(fl(a, b) * 0.5, fl(b) * 0.1) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]


def mlp(params: Any, x: jax.Array) -> jax.Array:
    for w, b in params[:-1]:
        x = jnp.tanh(x @ w + b)
    w, b = params[-1]
    return x @ w + b


def train(params: Any, x: jax.Array, y: jax.Array, steps: Any) -> tuple[Any, jax.Array]:
    """SGD on a mean squared error, the loop written with `lax.fori_loop`."""

    def loss(p: Any) -> jax.Array:
        return jnp.mean((mlp(p, x) - y) ** 2)

    def step(i: jax.Array, p: Any) -> Any:
        g = jax.grad(loss)(p)
        return jax.tree_util.tree_map(lambda a, b: a - 0.1 * b, p, g)

    trained = jlax.fori_loop(0, steps, step, params)
    return trained, loss(trained)


def rnn(w: jax.Array, u: jax.Array, h0: jax.Array, xs: jax.Array) -> tuple[jax.Array, jax.Array]:
    def cell(h: jax.Array, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        h = jnp.tanh(h @ w + x @ u)
        return h, jnp.sum(h)

    return jlax.scan(cell, h0, xs)


def newton_sqrt(a: jax.Array) -> tuple[jax.Array, jax.Array]:
    """sqrt(a) by Newton's method until the update is tiny, and the iteration count."""

    def cond(state: tuple) -> jax.Array:
        x, prev, n = state
        return (jnp.max(jnp.abs(x - prev)) > 1e-6) & (n < 50)

    def body(state: tuple) -> tuple:
        x, _, n = state
        return 0.5 * (x + a / x), x, n + 1

    x, _, n = jlax.while_loop(cond, body, (a, a + 1.0, jnp.int32(0)))
    return x, n


def three_way(i: jax.Array, x: jax.Array) -> jax.Array:
    return jlax.switch(i, [jnp.sin, lambda v: v * v - 1.0, lambda v: jnp.cumsum(v)], x)


def nested(i: jax.Array, x: jax.Array, xs: jax.Array) -> jax.Array:
    """A scan inside a while loop inside a cond branch."""

    def grow(c: jax.Array) -> jax.Array:
        def add_all(acc: jax.Array, e: jax.Array) -> tuple[jax.Array, None]:
            return acc + e * c, None

        def body(v: jax.Array) -> jax.Array:
            return jlax.scan(add_all, v, xs)[0] * 1.5 + 1.0

        return jlax.while_loop(lambda v: jnp.sum(v) < 100.0, body, c)

    return jlax.cond(i > 0, grow, lambda c: -c, x)


# ---------------------------------------------------------------------------------------
# Both targets agree with JAX.
# ---------------------------------------------------------------------------------------


def test_mlp_training_loop_static_trip_count() -> None:
    params, x, y = mlp_init((3, 8, 1)), fl(16, 3), fl(16, 1)
    fn = lambda p, x, y: train(p, x, y, 5)  # noqa: E731
    check(fn, params, x, y, rtol=2e-4, atol=1e-5)
    # A static trip count is a scan (no xs); training must lower the loss.
    module = imported(fn, params, x, y)
    assert len(ops_named(module, "lax.scan")) == 1 and not ops_named(module, "lax.while")
    _, before = train(params, x, y, 0)
    assert float(tiers.jit(fn)(params, x, y)[1]) < float(before)


def test_mlp_training_loop_dynamic_trip_count() -> None:
    params, x, y = mlp_init((3, 8, 1)), fl(16, 3), fl(16, 1)
    check(train, params, x, y, np.int32(4), rtol=2e-4, atol=1e-5)
    module = imported(train, params, x, y, np.int32(4))
    assert len(ops_named(module, "lax.while")) == 1


def test_rnn_scan_and_its_gradient() -> None:
    w, u, h0, xs = fl(4, 4) * 0.5, fl(3, 4), fl(4), fl(6, 3)
    check(rnn, w, u, h0, xs, rtol=1e-4)

    def loss(w: jax.Array, u: jax.Array) -> jax.Array:
        h, ys = rnn(w, u, h0, xs)
        return jnp.sum(h ** 2) + jnp.sum(ys)

    check(jax.grad(loss, argnums=(0, 1)), w, u, rtol=1e-4, atol=1e-5)


def test_newton_while_loop() -> None:
    a = np.array([2.0, 9.0, 0.25, 10.0], np.float32)
    check(newton_sqrt, a)
    x, n = tiers.jit(newton_sqrt)(a)
    np.testing.assert_allclose(x, np.sqrt(a), rtol=1e-6)
    assert 0 < int(n) < 50


@pytest.mark.parametrize("index", [-3, 0, 1, 2, 7])
def test_switch_three_branches(index: int) -> None:
    # Out-of-range indices clamp to the first and last branch, as in JAX.
    check(three_way, np.int32(index), fl(5))


def test_cond_on_a_bool_predicate() -> None:
    fn = lambda x: jlax.cond(jnp.sum(x) > 0, lambda: x * 2.0, lambda: x - 1.0)  # noqa: E731
    check(fn, fl(4))
    check(fn, -np.abs(fl(4)))


def test_nested_scan_in_while_in_cond() -> None:
    x, xs = np.abs(fl(3)) + 0.1, np.abs(fl(4, 3)) + 0.1
    for i in (0, 1):
        check(nested, np.int32(i), x, xs, rtol=1e-5)
    module = imported(nested, np.int32(1), x, xs)
    (cond,) = ops_named(module, "lax.cond")
    (loop,) = ops_named(module, "lax.while")
    (scan,) = ops_named(module, "lax.scan")
    assert loop.parent_op() is cond and scan.parent_op() is loop


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("unroll", [1, 3, True])
def test_scan_reverse_and_unroll(reverse: bool, unroll: int | bool) -> None:
    def fn(c: jax.Array, xs: jax.Array) -> tuple[jax.Array, jax.Array]:
        return jlax.scan(lambda c, x: (c * 0.9 + x, c * x), c, xs, reverse=reverse,
                         unroll=unroll)

    check(fn, fl(2), fl(7, 2))
    (scan,) = ops_named(imported(fn, fl(2), fl(7, 2)), "lax.scan")
    assert scan.flag("reverse") == reverse
    assert scan.int("unroll") == (7 if unroll is True else unroll)


def test_scan_of_length_zero() -> None:
    fn = lambda c, xs: jlax.scan(lambda c, x: (c + x, x * 2.0), c, xs)  # noqa: E731
    check(fn, fl(3), np.zeros((0, 3), np.float32))


def test_lax_map_and_fori_loop_forms() -> None:
    check(lambda xs: jlax.map(lambda r: jnp.sum(r ** 2), xs), fl(5, 3))
    check(lambda x, n: jlax.fori_loop(0, n, lambda i, c: c * 1.5 + i, x), fl(3), np.int32(4))
    check(lambda x: jlax.fori_loop(2, 7, lambda i, c: c * 1.5 + i, x), fl(3))


def test_prng_keys_carried_through_loops() -> None:
    def fn(k: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        def body(i: jax.Array, c: tuple) -> tuple:
            key, acc = c
            key, sub = jax.random.split(key)
            return key, acc + jax.random.normal(sub, (3,))

        key, acc = jlax.fori_loop(0, 4, body, (jax.random.wrap_key_data(k), jnp.zeros(3)))
        _, ys = jlax.scan(lambda c, kk: (c, jax.random.uniform(kk, ())), 0.0,
                          jax.random.split(key, 5))
        return acc, ys, jax.random.key_data(key)

    check(fn, jax.random.key_data(jax.random.key(1)))


@pytest.mark.parametrize("name, fn, args", [
    ("solve", jnp.linalg.solve, (fl(4, 4) + 4 * np.eye(4, dtype=np.float32), fl(4, 2))),
    ("inv", jnp.linalg.inv, (fl(4, 4) + 4 * np.eye(4, dtype=np.float32),)),
    ("det", jnp.linalg.det, (fl(4, 4),)),
    ("interp", lambda x: jnp.interp(x, jnp.linspace(-2, 2, 9), jnp.sin(jnp.linspace(-2, 2, 9))),
     (fl(7),)),
])
def test_linalg_and_interp(name: str, fn: Callable[..., Any], args: tuple) -> None:
    check(fn, *args, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------------------
# Passes keep control flow correct.
# ---------------------------------------------------------------------------------------

PROGRAMS = {
    "mlp": (lambda p, x, y: train(p, x, y, 3), (mlp_init((3, 4, 1)), fl(8, 3), fl(8, 1))),
    "rnn": (rnn, (fl(4, 4) * 0.5, fl(3, 4), fl(4), fl(6, 3))),
    "newton": (newton_sqrt, (np.array([2.0, 9.0, 0.5], np.float32),)),
    "switch": (three_way, (np.int32(1), fl(5))),
    "nested": (nested, (np.int32(1), np.abs(fl(3)) + 0.1, np.abs(fl(4, 3)) + 0.1)),
}


@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("program", list(PROGRAMS))
def test_every_preset_keeps_the_numbers(program: str, pipeline: str) -> None:
    fn, args = PROGRAMS[program]
    want = [np.asarray(w) for w in jax.tree_util.tree_leaves(jax.jit(fn)(*args))]
    flat = jax.tree_util.tree_leaves(args)
    module = imported(fn, *args)
    tiers.pipeline.compile(module, pipeline, ctx=_CTX)
    module.verify()
    close(reference.run(module, flat), want, rtol=2e-4, atol=1e-5)
    close(jax.jit(jax_target.to_callable(module))(*flat), want, rtol=2e-4, atol=1e-5)
    close(jax.tree_util.tree_leaves(tiers.jit(fn, pipeline=pipeline)(*args)), want,
          rtol=2e-4, atol=1e-5)


@pytest.mark.parametrize("program", list(PROGRAMS))
def test_kernels_mode_runs_kernels_inside_loops(program: str) -> None:
    fn, args = PROGRAMS[program]
    module = imported(fn, *args)
    pipeline.compile(module, "O2", ctx=_CTX)
    compiled = jax_target.compile(module, mode="kernels")
    want = [np.asarray(w) for w in jax.tree_util.tree_leaves(jax.jit(fn)(*args))]
    close(compiled(*jax.tree_util.tree_leaves(args)), want, rtol=2e-4, atol=1e-5)
    assert compiled.kernels >= 1


def defined_before(value: SSAValue, op: Operation) -> bool:
    """`value` is visible at `op`: earlier in its block, or in a block enclosing it."""
    home = value.owner if isinstance(value.owner, Block) else value.owner.parent_block()
    block: Block | None = op.parent_block()
    at: Operation | None = op
    while block is not None:
        if block is home:
            if isinstance(value.owner, Block):
                return True
            order = list(block.ops)
            return order.index(value.owner) < order.index(at)
        at = block.parent_op()
        block = at.parent_block() if at is not None else None
    return False


def test_fuse_stays_inside_each_region() -> None:
    fn, args = PROGRAMS["rnn"]
    module = imported(fn, *args)
    pipeline.compile(module, "O2", ctx=_CTX)
    module.verify()
    kernels = [op for op in module.walk() if isinstance(op, fused.KernelOp)]
    assert kernels, "the loop body has elementwise chains to fuse"
    for kernel in kernels:
        assert not any(isinstance(op, lax.RegionOp) for op in kernel.walk())
        for v in kernel.operands:
            assert defined_before(v, kernel), (v, kernel)
    scan = next(op for op in module.walk() if isinstance(op, lax.ScanOp))
    assert any(isinstance(op, fused.KernelOp) for op in scan.body.block.ops)


def test_cse_merges_equal_loops_and_dce_drops_dead_ones() -> None:
    def fn(x: jax.Array) -> jax.Array:
        a = jlax.fori_loop(0, 4, lambda i, c: c * 2.0, x)
        b = jlax.fori_loop(0, 4, lambda i, c: c * 2.0, x)
        jlax.while_loop(lambda c: c[0] < 10.0, lambda c: c + 1.0, x)  # unused
        return a + b

    module = imported(fn, fl(2))
    assert len(ops_named(module, "lax.scan")) == 2 and len(ops_named(module, "lax.while")) == 1
    pipeline.compile(module, "cse,dce", ctx=_CTX)
    assert len(ops_named(module, "lax.scan")) == 1 and not ops_named(module, "lax.while")
    x = fl(2)
    close(reference.run(module, [x]), [np.asarray(jax.jit(fn)(x))])


# ---------------------------------------------------------------------------------------
# Composing with JAX's transformations.
# ---------------------------------------------------------------------------------------


def loop_fn(x: jax.Array) -> jax.Array:
    def body(i: jax.Array, c: jax.Array) -> jax.Array:
        return jnp.sin(c) * 1.1 + x

    y = jlax.fori_loop(0, 3, body, x)
    return jlax.cond(jnp.sum(y) > 0, lambda: jnp.sum(y ** 2), lambda: jnp.sum(jnp.abs(y)))


def test_grad_vmap_jit_around_tiers_jit() -> None:
    x, xs = fl(3), fl(5, 3)
    f = tiers.jit(loop_fn)
    close(jax.grad(f)(x), jax.grad(loop_fn)(x))
    close(tiers.grad(f)(x), jax.grad(loop_fn)(x))
    close(tiers.value_and_grad(f)(x), jax.value_and_grad(loop_fn)(x))
    close(jax.vmap(f)(xs), jax.vmap(loop_fn)(xs))
    close(tiers.vmap(f)(xs), jax.vmap(loop_fn)(xs))
    close(jax.jit(f)(x), jax.jit(loop_fn)(x))
    close(jax.jit(jax.vmap(jax.grad(f)))(xs), jax.vmap(jax.grad(loop_fn))(xs))


def test_tiers_jit_inside_a_scan_body() -> None:
    step = tiers.jit(lambda c, x: (loop_fn(c + x) * c, c * 2.0))
    fn = lambda c, xs: jlax.scan(step, c, xs)  # noqa: E731
    ref = lambda c, xs: jlax.scan(lambda c, x: (loop_fn(c + x) * c, c * 2.0), c, xs)  # noqa: E731
    c, xs = fl(3), fl(4, 3)
    close(jax.jit(fn)(c, xs), jax.jit(ref)(c, xs))


def test_vmap_of_a_while_loop_with_a_batched_predicate() -> None:
    # Rows converge after different numbers of steps: JAX batches the predicate, and the loop
    # runs while any row is unconverged, updating only those rows.
    a = np.array([[2.0, 3.0], [1e4, 5e3], [0.01, 0.02]], np.float32)
    check(jax.vmap(newton_sqrt), a)
    x, n = tiers.jit(jax.vmap(newton_sqrt))(a)
    np.testing.assert_allclose(x, np.sqrt(a), rtol=1e-6)
    assert len(set(np.asarray(n).tolist())) > 1
    (loop,) = ops_named(imported(jax.vmap(newton_sqrt), a), "lax.while")
    assert isinstance(loop.cond.block.last_op.values[0].owner, lax.ReduceOrOp)


def test_tiers_jit_of_grad_and_vmap() -> None:
    x, xs = fl(3), fl(5, 3)
    close(tiers.jit(jax.grad(loop_fn))(x), jax.jit(jax.grad(loop_fn))(x))
    close(tiers.jit(jax.vmap(loop_fn))(xs), jax.jit(jax.vmap(loop_fn))(xs))
    close(tiers.jit(jax.vmap(jax.grad(loop_fn)))(xs), jax.vmap(jax.grad(loop_fn))(xs))
    assert tiers.vmap is jax.vmap  # tiers.grad is JAX's on arrays (tests/test_lazy.py)
    close(tiers.jit(tiers.grad(loop_fn))(x), jax.jit(jax.grad(loop_fn))(x))
    close(tiers.vmap(tiers.grad(loop_fn))(xs), jax.vmap(jax.grad(loop_fn))(xs))
    assert {"grad", "value_and_grad", "vmap"} <= set(tiers.__all__)


# ---------------------------------------------------------------------------------------
# Errors point at the user's line.
# ---------------------------------------------------------------------------------------

_THIS = os.path.basename(__file__)


def test_python_if_on_a_traced_value_suggests_cond() -> None:
    def fn(x: jax.Array) -> jax.Array:
        if jnp.sum(x) > 0:  # the line the error names
            return x
        return -x

    with pytest.raises(TracedControlFlowError) as e:
        tiers.jit(fn)(fl(3))
    message = str(e.value)
    assert f"{_THIS}:" in message and "if jnp.sum(x) > 0:" in message
    assert "jax.lax.cond" in message and "while_loop" not in message


@pytest.mark.parametrize("source", ["while x[0] < 10.0:", "while bool(x[0] < 10.0):"])
def test_python_while_on_a_traced_value_suggests_while_loop(source: str,
                                                           tmp_path: pathlib.Path) -> None:
    path = tmp_path / "user_code.py"
    path.write_text(f"def fn(x):\n    {source}\n        x = x * 2.0\n    return x\n")
    spec = importlib.util.spec_from_file_location("user_code", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(TracedControlFlowError) as e:
        tiers.jit(module.fn)(fl(3))
    message = str(e.value)
    assert f"user_code.py:2: {source}" in message
    assert "jax.lax.while_loop" in message and "jax.lax.cond" not in message


@pytest.mark.parametrize("kind, fn", [
    ("while_loop", lambda x: jlax.while_loop(lambda c: c.sum() < 10,
                                             lambda c: jnp.stack([c, c]), x)),
    ("fori_loop", lambda x: jlax.fori_loop(0, 3, lambda i, c: c.astype(jnp.int32), x)),
    ("fori_loop", lambda x: jlax.fori_loop(0, x.astype(int), lambda i, c: c.astype(jnp.int32), x)),
    ("scan", lambda x: jlax.scan(lambda c, e: (jnp.stack([c, e]), e), x, jnp.ones(3))),
    ("cond", lambda x: jlax.cond(x > 0, lambda: x, lambda: x.astype(jnp.int32))),
])
def test_carried_type_mismatch_names_the_loop_and_line(kind: str, fn: Callable) -> None:
    with pytest.raises(CarriedTypeError) as e:
        tiers.jit(fn)(np.float32(1.0))
    message = str(e.value)
    assert f"jax.lax.{kind}:" in message
    assert f"{_THIS}:" in message and f"{kind}(" in message.splitlines()[0]
    assert "type" in message
