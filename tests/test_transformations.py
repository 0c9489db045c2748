"""JAX's transformations around `tiers.jit` give exactly what they give around `jax.jit`.

`grad`, `vjp`, `jvp`, `linearize`, `vmap`, `hessian`, `jacfwd`, `jacrev` and `grad` of a
`checkpoint` with a policy are applied outside `tiers.jit(f)` and outside `jax.jit(f)`, at O0
and O2, and must agree: on programs built to catch a compiler that differentiates its own
output (`stop_gradient`, custom JVP/VJP rules with `nondiff_argnums` and symbolic zeros,
`checkpoint` policies, `custom_vmap`, control flow, integer arguments with `float0`
tangents), and on every entry of the JAX-function corpus (tests/test_corpus.py). Each corpus
entry runs one cell of the (transformation, pipeline) matrix here, the cell rotating from
entry to entry so every cell is covered; `TIERS_FULL_MATRIX=1` (`make fuzz`) runs all of
them. The reverse nesting, `tiers.jit(jax.grad(f))`, is covered too.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import test_corpus as corpus

import tiers
from tiers.frontend import call
from tiers.frontend.importer import UnsupportedPrimitive
from tiers.pipeline import load_plugin

PIPELINES = ("O0", "O2")
TRANSFORMS = ("grad", "vjp", "jvp", "linearize", "vmap", "hessian", "jacfwd", "jacrev",
              "checkpoint")
FULL = os.environ.get("TIERS_FULL_MATRIX") == "1"


# ---------------------------------------------------------------------------------------
# Applying a transformation to a compiled function.
# ---------------------------------------------------------------------------------------


def _is_float(x: Any) -> bool:
    return jnp.issubdtype(jnp.asarray(x).dtype, jnp.floating)


def _tangent(x: Any, seed: int) -> Any:
    """A random tangent for a float argument, a `float0` zero for any other."""
    x = np.asarray(x)
    if not _is_float(x):
        return np.zeros(x.shape, jax.dtypes.float0)
    return np.random.default_rng(seed).standard_normal(x.shape).astype(x.dtype)


def _loss(f: Callable[..., Any]) -> Callable[..., Any]:
    """A scalar of all of `f`'s float outputs, weighted so each element matters."""
    def loss(*args: Any) -> Any:
        leaves = [leaf for leaf in jax.tree_util.tree_leaves(f(*args)) if _is_float(leaf)]
        return sum(jnp.sum(jnp.sin(leaf) * (1.0 + 0.1 * jnp.arange(leaf.size).reshape(
            leaf.shape))) for leaf in leaves)
    return loss


def _float_argnums(args: tuple[Any, ...]) -> tuple[int, ...]:
    return tuple(i for i, a in enumerate(args) if _is_float(a))


def _batched(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Two different rows per argument, from the same values (so inside each domain)."""
    return tuple(np.stack([a, np.roll(np.asarray(a).ravel(), 1).reshape(np.shape(a))])
                 for a in map(np.asarray, args))


def apply(transform: str, f: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """`transform` of the compiled function `f`, evaluated at `args`."""
    floats = _float_argnums(args)
    if transform == "vmap":
        return jax.vmap(f)(*_batched(args))
    if transform == "jvp":
        return jax.jvp(f, args, tuple(_tangent(a, i) for i, a in enumerate(args)))
    if transform == "linearize":
        out, f_lin = jax.linearize(f, *args)
        return out, f_lin(*(_tangent(a, i) for i, a in enumerate(args)))
    if transform == "vjp":
        out, pullback = jax.vjp(f, *args)
        cts = jax.tree_util.tree_map(
            lambda o: _tangent(o, 7) if _is_float(o) else np.zeros(o.shape, jax.dtypes.float0),
            out)
        return out, pullback(cts)
    if transform == "grad":
        return jax.grad(_loss(f), argnums=floats)(*args)
    if transform == "checkpoint":  # rematerialized around the compiled call, with a policy
        policy = jax.checkpoint_policies.dots_with_no_batch_dims_saveable
        return jax.grad(_loss(jax.checkpoint(f, policy=policy)), argnums=floats)(*args)
    if transform == "hessian":
        return jax.hessian(_loss(f), argnums=floats[0])(*args)
    if transform in ("jacfwd", "jacrev"):
        jac = jax.jacfwd if transform == "jacfwd" else jax.jacrev
        return jac(f, argnums=floats[0])(*args)
    raise ValueError(transform)


def assert_same(got: Any, want: Any, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    got_leaves, got_tree = jax.tree_util.tree_flatten(got)
    want_leaves, want_tree = jax.tree_util.tree_flatten(want)
    assert got_tree == want_tree
    for g, w in zip(got_leaves, want_leaves, strict=True):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, g.dtype, w.shape, w.dtype)
        if w.dtype == jax.dtypes.float0:
            continue
        if not np.issubdtype(w.dtype, np.inexact):
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64),
                                       rtol=rtol, atol=atol)


def check(transform: str, fn: Callable[..., Any], args: tuple[Any, ...], pipeline: str,
          rtol: float = 1e-4, atol: float = 1e-5) -> None:
    """`transform` around `tiers.jit(fn)` equals `transform` around `jax.jit(fn)`."""
    agree(lambda: apply(transform, tiers.jit(fn, pipeline=pipeline), args),
          lambda: apply(transform, jax.jit(fn), args), rtol, atol)


def agree(tiers_side: Callable[[], Any], jax_side: Callable[[], Any], rtol: float = 1e-4,
          atol: float = 1e-5) -> None:
    """The same numbers, or the error JAX raises (forward mode through `custom_vjp`,
    `jacrev` of integers, `grad` of a `custom_vmap` without a JVP...)."""
    try:
        want = jax_side()
    except (TypeError, ValueError) as e:
        with pytest.raises(type(e)) as got:
            tiers_side()
        assert _first_line(got.value) == _first_line(e)
        return
    assert_same(tiers_side(), want, rtol, atol)


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0]


# ---------------------------------------------------------------------------------------
# Programs whose derivatives a compiler could get wrong while their values stay right.
# ---------------------------------------------------------------------------------------


def _stop_gradient(x: jax.Array) -> jax.Array:
    return x * jax.lax.stop_gradient(x) + jnp.sin(jax.lax.stop_gradient(x * 2.0)) * x


@jax.custom_vjp
def _clip_gradient(x: jax.Array) -> jax.Array:
    return x


_clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (g + 2.0,))


def _custom_vjp_user(x: jax.Array) -> jax.Array:
    return jnp.sum(_clip_gradient(jnp.sin(x)) * x)


@jax.custom_jvp
def _five(x: jax.Array) -> jax.Array:
    return x


_five.defjvp(lambda p, t: (p[0], 5.0 * t[0]))


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _scaled(k: int, x: jax.Array) -> jax.Array:
    return jnp.sin(x) * k


@_scaled.defjvp
def _scaled_jvp(k: int, primals: tuple, tangents: tuple) -> tuple:
    (x,), (t,) = primals, tangents
    return _scaled(k, x), 3.0 * k * t  # not cos(x): a rule the primal cannot reproduce


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _pow_nd(x: jax.Array, n: int) -> jax.Array:
    return x ** n


_pow_nd.defvjp(lambda x, n: (x ** n, x), lambda n, x, g: (g * n * 10.0,))


@jax.custom_jvp
def _sym_zeros(x: jax.Array, y: jax.Array) -> jax.Array:
    return x * y


def _sym_zeros_jvp(primals: tuple, tangents: tuple) -> tuple:
    (x, y), (tx, ty) = primals, tangents
    tx = 0.0 if type(tx) is jax.custom_derivatives.SymbolicZero else tx * 7.0
    ty = 0.0 if type(ty) is jax.custom_derivatives.SymbolicZero else ty * 11.0
    return x * y, tx + ty + jnp.zeros_like(x)


_sym_zeros.defjvp(_sym_zeros_jvp, symbolic_zeros=True)


@jax.custom_batching.custom_vmap
def _batch_marker(x: jax.Array) -> jax.Array:
    return jnp.sin(x)


@_batch_marker.def_vmap
def _batch_marker_rule(axis_size: int, in_batched: list, x: jax.Array) -> tuple:
    return jnp.cos(x) + 100.0, in_batched[0]  # differs from sin: a rule that must be kept


def _checkpoint_policy(x: jax.Array) -> jax.Array:
    body = jax.checkpoint(lambda y: jnp.sin(jnp.sin(y) @ y.T) * 2.0,
                          policy=jax.checkpoint_policies.dots_with_no_batch_dims_saveable)
    return jnp.sum(body(x) ** 2)


def _loops(x: jax.Array, n: jax.Array) -> jax.Array:
    y = jax.lax.fori_loop(0, 3, lambda i, c: jnp.sin(c) * jax.lax.stop_gradient(c) + c, x)
    z, _ = jax.lax.scan(lambda c, r: (c * 0.9 + _five(r), None), y[0], y)
    # reverse mode cannot go through a while_loop (in JAX either): it counts, z is carried
    w = z * jax.lax.while_loop(lambda c: c < n, lambda c: c + 1, 0)
    return jax.lax.cond(n > 1, lambda a: a * w, lambda a: a - w, y)


def _int_args(x: jax.Array, i: jax.Array) -> jax.Array:
    return x * i + jnp.sin(x) * jnp.take(x, i % x.shape[0])


def _integer_out(x: jax.Array) -> tuple[jax.Array, jax.Array]:
    return jnp.argmax(x), jnp.cumsum(x ** 2)


M = np.random.default_rng(1).standard_normal((3, 3)).astype(np.float32)
V3 = np.random.default_rng(2).standard_normal(3).astype(np.float32)

PROGRAMS: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {
    "stop_gradient": (_stop_gradient, (V3,)),
    "custom_vjp": (_custom_vjp_user, (V3,)),
    "custom_jvp": (lambda x: jnp.sum(_five(x) * jnp.cos(x)), (V3,)),
    "custom_jvp_nondiff_argnums": (lambda x: _scaled(3, x), (V3,)),
    "custom_vjp_nondiff_argnums": (lambda x: _pow_nd(x, 3), (V3,)),
    "custom_jvp_symbolic_zeros": (lambda x, y: _sym_zeros(x, jax.lax.stop_gradient(y)),
                                  (V3, V3 * 2)),
    "custom_vmap": (lambda x: _batch_marker(x) * 2.0, (V3,)),
    "checkpoint_policy": (_checkpoint_policy, (M,)),
    "control_flow": (_loops, (V3, np.int32(3))),
    "integer_args": (_int_args, (V3, np.arange(3, dtype=np.int32))),
    "integer_outputs": (_integer_out, (V3,)),
    "library_rules": (lambda x: jax.nn.logsumexp(x) + jnp.sum(jax.nn.gelu(x) * jax.nn.relu(x)),
                      (V3,)),
}


def _program_cases() -> list[Any]:
    """Every program under every transformation at O2; at O0 (no passes, so only the
    compile path differs) under the three that exercise JVP, transpose and batching."""
    return [pytest.param(name, t, p, id=f"{name}-{t}-{p}") for name in sorted(PROGRAMS)
            for p in PIPELINES for t in TRANSFORMS
            if FULL or p == "O2" or t in ("grad", "jvp", "vmap")]


@pytest.mark.parametrize("name,transform,pipeline", _program_cases())
def test_program(name: str, transform: str, pipeline: str) -> None:
    fn, args = PROGRAMS[name]
    check(transform, fn, args, pipeline)


@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_reverse_nesting(name: str, pipeline: str) -> None:
    """`tiers.jit(jax.grad(f))`: JAX differentiates before tiers compiles, as it always did."""
    fn, args = PROGRAMS[name]
    grad = jax.grad(_loss(fn), argnums=_float_argnums(args))
    agree(lambda: tiers.jit(grad, pipeline=pipeline)(*args), lambda: jax.jit(grad)(*args))


def test_issue_reproducers() -> None:
    """The two reproducers of the issue: JAX's numbers at every pipeline."""
    for pipeline in ("O0", "O1", "O2"):
        f = tiers.jit(lambda x: x * jax.lax.stop_gradient(x), pipeline=pipeline)
        assert float(jax.grad(f)(2.0)) == 2.0
        assert float(jax.grad(tiers.jit(_clip_gradient, pipeline=pipeline))(1.0)) == 3.0
        assert float(jax.grad(tiers.jit(_five, pipeline=pipeline))(1.0)) == 5.0


# ---------------------------------------------------------------------------------------
# By construction: a pass that changes derivatives cannot change them through tiers.jit.
# ---------------------------------------------------------------------------------------


WRONG = Path(__file__).parent / "plugins" / "wrong_plugin.py"


def test_a_pass_cannot_change_derivatives() -> None:
    """Even a pass that drops every `stop_gradient` leaves `jax.grad` of `tiers.jit` exact,
    while the program it compiles really lost its `stop_gradient`s: JAX differentiated the
    user's jaxpr before tiers saw it."""
    load_plugin(WRONG)
    f = tiers.jit(_stop_gradient, pipeline="drop-stop-gradient,canonicalize")
    lowered = f.lower(V3)
    assert "stop_gradient" in lowered.as_text("import")
    assert "stop_gradient" not in lowered.as_text("optimized")
    np.testing.assert_allclose(jax.grad(lambda x: jnp.sum(f(x)))(V3),
                               jax.grad(lambda x: jnp.sum(_stop_gradient(x)))(V3), rtol=1e-6)


def test_grad_compiles_the_transformed_program_with_tiers() -> None:
    """The forward and backward programs of `jax.grad` are tiers programs of their own."""
    before = call.MODULES.builds
    f = tiers.jit(lambda x: jnp.sum(jnp.sin(x) * jax.lax.stop_gradient(x)))
    jax.grad(f)(V3 + 1.0)
    assert call.MODULES.builds - before == 2  # the forward pass with residuals, the backward


# ---------------------------------------------------------------------------------------
# The corpus: each entry under one rotating cell of the (transformation, pipeline) matrix.
# ---------------------------------------------------------------------------------------


def _corpus_cases() -> list[Any]:
    cases, k = [], 0
    for entry in corpus.ENTRIES:
        if entry.name in corpus.UNSUPPORTED or not entry.args:
            continue
        floats = _float_argnums(entry.args)
        choices = [t for t in TRANSFORMS if entry.grad or t == "vmap"]
        if not floats:
            choices = ["vmap"]
        matrix = [(t, p) for t in choices for p in PIPELINES]
        picked = matrix if FULL else [matrix[k % len(matrix)]]
        k += 1
        for transform, pipeline in dict.fromkeys(picked):
            cases.append(pytest.param(entry, transform, pipeline,
                                      id=f"{transform}-{pipeline}-{entry.name}"))
    return cases


# (transformation, entry) pairs tiers cannot compile yet: -> a regex of the clear error.
UNSUPPORTED: dict[tuple[str, str], str] = {}


@pytest.mark.parametrize("entry,transform,pipeline", _corpus_cases())
def test_corpus(entry: corpus.Entry, transform: str, pipeline: str) -> None:
    if (transform, entry.name) in UNSUPPORTED:
        with pytest.raises(UnsupportedPrimitive, match=UNSUPPORTED[transform, entry.name]):
            apply(transform, tiers.jit(entry.fn, pipeline=pipeline), entry.args)
        return
    rtol = max(entry.grad_rtol, entry.rtol) if transform != "vmap" else entry.rtol
    check(transform, entry.fn, entry.args, pipeline, rtol=rtol * 10, atol=entry.atol * 100)
