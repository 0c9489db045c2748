"""Real programs under `tiers.jit` give `jax.jit`'s numbers; the jit API around them works.

Covers models (MLP, cross-entropy, layer norm, causal attention, each with its gradient), the
indexing and sorting toolbox, dtypes, pytrees, static and Python-scalar arguments, the
signature cache, `lower`/`as_text`/`compile`, source locations, the import of nested calls,
and the error for a primitive tiers cannot import.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap
from typing import Any

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import pytest

import tiers
from tiers.frontend.importer import UnsupportedPrimitive

RNG = np.random.default_rng(42)


def normal(*shape: int, scale: float = 1.0) -> jax.Array:
    return jnp.asarray(RNG.standard_normal(shape).astype(np.float32) * scale)


def assert_tree_close(got: Any, want: Any, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Same pytree structure, shapes, dtypes and values (within tolerance) as JAX."""
    got_leaves, got_tree = jax.tree_util.tree_flatten(got)
    want_leaves, want_tree = jax.tree_util.tree_flatten(want)
    assert got_tree == want_tree
    for g, w in zip(got_leaves, want_leaves, strict=True):
        assert isinstance(g, jax.Array)
        assert (g.shape, g.dtype) == (w.shape, w.dtype)
        np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(w, np.float64),
                                   rtol=rtol, atol=atol)


def line_of(mark: str) -> int:
    """The line of this file that ends with the comment `# mark`."""
    lines = pathlib.Path(__file__).read_text().splitlines()
    return next(i + 1 for i, text in enumerate(lines) if text.rstrip().endswith(f"# {mark}"))


def check(fn: Any, *args: Any, rtol: float = 1e-5, atol: float = 1e-6, **kwargs: Any) -> None:
    """`tiers.jit(fn)` and `jax.jit(fn)` agree on `args`."""
    assert_tree_close(tiers.jit(fn)(*args, **kwargs), jax.jit(fn)(*args, **kwargs), rtol, atol)


# ---------------------------------------------------------------------------------------
# Models and their gradients.
# ---------------------------------------------------------------------------------------

ACTIVATIONS = [jax.nn.relu, jax.nn.gelu, jax.nn.silu, jnp.tanh, jax.nn.sigmoid]


def init_mlp(sizes: list[int]) -> dict[str, list[dict[str, jax.Array]]]:
    return {"layers": [{"w": normal(a, b, scale=a ** -0.5), "b": normal(b, scale=0.1)}
                       for a, b in zip(sizes[:-1], sizes[1:], strict=True)]}


def mlp(params: dict, x: jax.Array, activation: Any) -> jax.Array:
    *hidden, last = params["layers"]
    for layer in hidden:
        x = activation(x @ layer["w"] + layer["b"])
    return x @ last["w"] + last["b"]


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda f: f.__name__)
def test_mlp_forward_and_grad(activation: Any) -> None:
    params, x = init_mlp([8, 16, 16, 4]), normal(5, 8)
    check(lambda p, x: mlp(p, x, activation), params, x)

    def loss(p: dict, x: jax.Array) -> jax.Array:
        return jnp.mean(mlp(p, x, activation) ** 2)

    check(jax.grad(loss), params, x, rtol=1e-4, atol=1e-6)
    check(jax.value_and_grad(loss, argnums=(0, 1)), params, x, rtol=1e-4, atol=1e-6)


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=-1))


def test_softmax_cross_entropy_and_grad() -> None:
    logits, labels = normal(6, 10, scale=3.0), jnp.array([0, 3, 9, 2, 2, 7])
    check(cross_entropy, logits, labels)
    check(jax.grad(cross_entropy), logits, labels, rtol=1e-4)

    def onehot(z: jax.Array, y: jax.Array) -> jax.Array:
        return -jnp.sum(jax.nn.one_hot(y, 10) * jax.nn.log_softmax(z)) / z.shape[0]

    check(jax.value_and_grad(onehot), logits, labels, rtol=1e-4)


def layer_norm(x: jax.Array, gamma: jax.Array, beta: jax.Array) -> jax.Array:
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.var(x, axis=-1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(var + 1e-5) * gamma + beta


def test_layer_norm_and_grad() -> None:
    x, gamma, beta = normal(4, 16, scale=2.0), normal(16), normal(16)
    check(layer_norm, x, gamma, beta, rtol=1e-5, atol=1e-5)

    def loss(x: jax.Array, g: jax.Array, b: jax.Array) -> jax.Array:
        return jnp.sum(jnp.sin(layer_norm(x, g, b)))

    check(jax.grad(loss, argnums=(0, 1, 2)), x, gamma, beta, rtol=1e-4, atol=1e-5)


def attention(q: jax.Array, k: jax.Array, v: jax.Array) -> jax.Array:
    """Scaled dot-product attention with a causal mask; [batch, seq, dim]."""
    scores = jnp.einsum("bqd,bkd->bqk", q, k) / jnp.sqrt(q.shape[-1])
    seq = q.shape[1]
    mask = jnp.arange(seq)[:, None] >= jnp.arange(seq)[None, :]
    scores = jnp.where(mask, scores, -jnp.inf)
    return jnp.einsum("bqk,bkd->bqd", jax.nn.softmax(scores, axis=-1), v)


def test_causal_attention_and_grad() -> None:
    q, k, v = normal(2, 5, 8), normal(2, 5, 8), normal(2, 5, 8)
    check(attention, q, k, v, rtol=1e-5, atol=1e-6)

    def loss(q: jax.Array, k: jax.Array, v: jax.Array) -> jax.Array:
        return jnp.sum(attention(q, k, v) ** 2)

    check(jax.grad(loss, argnums=(0, 1, 2)), q, k, v, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------------------
# Indexing, sorting, dtypes.
# ---------------------------------------------------------------------------------------

X = normal(4, 6)

TOOLBOX = {
    "argmax": lambda x: (jnp.argmax(x), jnp.argmax(x, axis=0), jnp.argmin(x, axis=1)),
    "clip": lambda x: jnp.clip(x, -0.5, 0.75),
    "concatenate": lambda x: jnp.concatenate([x, x[:2] * 2, jnp.zeros((1, 6))], axis=0),
    "cumsum": lambda x: (jnp.cumsum(x, axis=1), jnp.cumsum(x[::-1], axis=0)),
    "take": lambda x: (jnp.take(x, jnp.array([5, 0, 2]), axis=1), x[jnp.array([3, 1])]),
    "static_slice": lambda x: (x[1:3], x[:, ::2], x[::-1, 1:-1], x[-1]),
    "static_index": lambda x: (x[2, 3], x[:, 4], x[None, 1, :2], x[..., 0]),
    "at_update": lambda x: x.at[1, ::2].set(0.0).at[jnp.array([0, 0])].add(1.0),
}


@pytest.mark.parametrize("name", TOOLBOX)
def test_toolbox(name: str) -> None:
    check(TOOLBOX[name], X)


SORTS = {
    "sort": lambda x: jnp.sort(x, axis=1),
    "argsort": lambda x: jnp.argsort(x, axis=0),
    "sort_with_indices": lambda x: jax.lax.sort((x, jnp.argsort(x)), num_keys=1),
}


@pytest.mark.parametrize("name", SORTS)
def test_sort(name: str) -> None:
    check(SORTS[name], X)


@pytest.mark.parametrize("dtype,rtol", [(jnp.float16, 2e-3), (jnp.bfloat16, 2e-2)])
def test_low_precision_floats(dtype: Any, rtol: float) -> None:
    x, w = X.astype(dtype), normal(6, 3).astype(dtype)

    def fn(x: jax.Array, w: jax.Array) -> tuple:
        return jax.nn.gelu(x @ w), jnp.sum(x * 2.5, axis=0), jnp.max(x), x > 0.5

    check(fn, x, w, rtol=rtol, atol=rtol)


def test_int32_and_bool() -> None:
    i = jnp.asarray(RNG.integers(-20, 20, (4, 5)).astype(np.int32))
    b = i % 3 == 0

    def fn(i: jax.Array, b: jax.Array) -> tuple:
        return (i * 3 + 1, i // 4, i % 5, jnp.where(b, i, -i), b & (i > 0), ~b,
                jnp.sum(i, axis=0), jnp.sum(b), jnp.max(i), i.astype(jnp.float32) / 2, i >> 1,
                jnp.abs(i))

    check(fn, i, b)


# ---------------------------------------------------------------------------------------
# Arguments and results: pytrees, statics, Python scalars.
# ---------------------------------------------------------------------------------------


def test_pytrees_in_and_out() -> None:
    def fn(tree: dict, pair: tuple) -> dict:
        a, (b, none) = pair
        assert none is None
        return {"sum": tree["x"] + tree["y"]["z"] * a, "out": (b * 2, None, [tree["x"]])}

    args = ({"x": normal(3), "y": {"z": normal(3)}}, (normal(3), (normal(2), None)))
    got = tiers.jit(fn)(*args)
    assert got["out"][1] is None and isinstance(got["out"][2], list)
    assert_tree_close(got, jax.jit(fn)(*args))  # also compares the tree structures


def test_static_argnums_and_argnames() -> None:
    def fn(x: jax.Array, n: int, *, mode: str = "sum") -> jax.Array:
        y = x ** n
        return jnp.sum(y, axis=0) if mode == "sum" else jnp.max(y, axis=0)

    f = tiers.jit(fn, static_argnums=1, static_argnames="mode")
    g = jax.jit(fn, static_argnums=1, static_argnames="mode")
    for n, mode in [(2, "sum"), (3, "sum"), (3, "max")]:
        assert_tree_close(f(X, n, mode=mode), g(X, n, mode=mode))
    assert f.cache_info()["traces"] == 3
    f(X, 2, mode="sum")
    assert f.cache_info()["traces"] == 3

    h = tiers.jit(lambda x, axis: jnp.sum(x, axis=axis), static_argnames="axis")
    assert_tree_close(h(X, axis=1), jnp.sum(X, axis=1))


def test_python_scalars_as_args() -> None:
    def fn(x: jax.Array, a: int, b: float, flag: bool) -> jax.Array:
        return jnp.where(flag, x * a + b, x)

    check(fn, X, 2, 0.5, True)
    check(lambda a, b: jnp.asarray(a) * b + 1, 3, 1.5)
    check(lambda a, b: a * b, 3, 1.5)


def test_weak_type_results() -> None:
    # A weakly typed result (from Python scalars) must stay weak, as in JAX, or it promotes
    # differently later: weak f32 * f16 array is f16, strong f32 * f16 array is f32.
    got = tiers.jit(lambda a, b: a * b)(3, 1.5)
    want = jax.jit(lambda a, b: a * b)(3, 1.5)
    assert got.dtype == want.dtype and got.weak_type == want.weak_type


def test_signature_cache() -> None:
    f = tiers.jit(lambda x, y: jnp.tanh(x) @ y)
    x, y = normal(3, 4), normal(4, 2)
    f(x, y)
    assert f.cache_info()["traces"] == 1
    assert_tree_close(f(x + 1, y), jnp.tanh(x + 1) @ y)  # same signature: no tracing
    assert f.cache_info()["traces"] == 1
    f(normal(5, 4), y)  # new shape: traces again
    assert f.cache_info()["traces"] == 2
    f(x.astype(jnp.float16), y.astype(jnp.float16))  # new dtype too
    assert f.cache_info()["traces"] == 3
    f(normal(5, 4), y)
    assert f.cache_info()["traces"] == 3


# ---------------------------------------------------------------------------------------
# Inspection: lower, as_text, compile, source locations.
# ---------------------------------------------------------------------------------------


def _softmax_matmul(x: jax.Array, w: jax.Array) -> jax.Array:
    return jax.nn.softmax(x @ w, axis=-1)


def test_lower_as_text() -> None:
    lowered = tiers.jit(_softmax_matmul).lower(normal(3, 4), normal(4, 5))
    text = lowered.as_text("import")
    assert "func.func @main" in text
    assert "lax.dot_general" in text and "lax.exp" in text
    # The default pipeline (O2) raises the matmul and the softmax to `array` ops.
    text = lowered.as_text("optimized")
    assert "func.func @main" in text
    assert "array.matmul" in text and "array.softmax" in text and "lax.exp" not in text
    with pytest.raises(ValueError, match="unknown stage"):
        lowered.as_text("llvm")


def test_lower_compile() -> None:
    x, w = normal(3, 4), normal(4, 5)
    lowered = tiers.jit(_softmax_matmul).lower(x, w)
    assert "stablehlo" in lowered.as_text()  # JAX's default: StableHLO
    assert "HloModule" in lowered.as_text("hlo")
    compiled = lowered.compile()
    assert_tree_close(compiled(x, w), jax.jit(_softmax_matmul)(x, w))


def test_source_locations() -> None:
    def fn(x: jax.Array) -> jax.Array:
        y = jnp.sin(x) * 3.0  # MARK-A
        return jax.nn.relu(y)  # MARK-B

    line_a, line_b = line_of("MARK-A"), line_of("MARK-B")
    text = tiers.jit(fn).lower(X).as_text("optimized", debuginfo=True)
    name = os.path.basename(__file__)
    assert f'{name}":{line_a}:' in text
    # relu's body was traced inside jax.nn, but its ops still point at the user's line.
    assert f'{name}":{line_b}:' in text
    assert "loc(" not in tiers.jit(fn).lower(X).as_text("optimized")


def test_nested_calls_import_as_functions() -> None:
    @jax.jit
    def inner(x: jax.Array) -> jax.Array:
        return jnp.cos(x) * 2

    def fn(x: jax.Array) -> jax.Array:
        return jax.nn.relu(inner(x)) + inner(x + 1)

    o0 = tiers.jit(fn, pipeline="O0").lower(X).as_text("optimized")
    assert "func.call @inner" in o0 and "func.func private @inner" in o0
    assert "func.call @relu" in o0 and "func.func private @relu" in o0
    assert o0.count("func.func private @inner") == 1  # imported once, called twice
    flat = tiers.jit(fn, pipeline="inline,cse,dce").lower(X).as_text("optimized")
    assert "func.call" not in flat and "private" not in flat
    assert flat.count("func.func") == 1
    for pipeline in ("O0", "inline,cse,dce", "default"):
        assert_tree_close(tiers.jit(fn, pipeline=pipeline)(X), jax.jit(fn)(X))


def test_custom_vjp_imports_primal() -> None:
    @jax.custom_vjp
    def clipped(x: jax.Array) -> jax.Array:
        return jnp.sin(x)

    clipped.defvjp(lambda x: (jnp.sin(x), x), lambda x, g: (jnp.clip(g * jnp.cos(x), -1, 1),))

    def loss(x: jax.Array) -> jax.Array:
        return jnp.sum(clipped(x) * 4)

    check(clipped, X)
    check(jax.grad(loss), X)


# ---------------------------------------------------------------------------------------
# Errors.
# ---------------------------------------------------------------------------------------


# (cond and while import since control flow landed: tests/test_control_flow.py.)
def _reduce(x: jax.Array) -> jax.Array:
    return jax.lax.reduce(x, 0.0, lambda a, b: a + jnp.sin(b), (0,))  # MARK-REDUCE


def _reduce_window(x: jax.Array) -> jax.Array:
    add_sin = lambda a, b: a + jnp.sin(b)  # noqa: E731
    return jax.lax.reduce_window(x, 0.0, add_sin, (2, 2), (1, 1), "VALID")  # MARK-WINDOW


# (Callbacks import since issue 18: tests/test_callbacks.py.) A primitive whose params are a
# Python computation runs as `lax.opaque`, lowered by JAX's own rule.
@pytest.mark.parametrize("fn", [_reduce, _reduce_window])
def test_primitives_with_python_computations_run_as_jax_lowers_them(fn: Any) -> None:
    assert "lax.opaque" in tiers.jit(fn).lower(X).as_text("optimized")
    np.testing.assert_allclose(tiers.jit(fn)(X), jax.jit(fn)(X), rtol=1e-6)


UNLOWERED = jax.extend.core.Primitive("tiers_test_unlowered")  # an impl, no lowering anywhere
UNLOWERED.def_impl(lambda x, fn: fn(x))
UNLOWERED.def_abstract_eval(lambda x, fn: x)


def test_unsupported_primitive_names_user_line() -> None:
    def fn(x: jax.Array) -> jax.Array:
        return UNLOWERED.bind(x, fn=jnp.sin) * 2  # MARK-UNLOWERED

    with pytest.raises(UnsupportedPrimitive) as info:
        tiers.jit(fn)(X)
    message = str(info.value)
    assert "'tiers_test_unlowered'" in message and "JAX has no lowering for it" in message
    assert f"{os.path.relpath(__file__)}:{line_of('MARK-UNLOWERED')}" in message


def test_library_loop_gets_calling_line() -> None:
    # jnp.gcd loops with `while` inside jax.numpy: the loop's location is the user's call.
    i = jnp.arange(1, 7, dtype=jnp.int32)
    module = tiers.jit(jnp.gcd).lower(i, i + 2).program.module  # MARK-GCD
    loop = next(op for op in module.walk() if op.name == "lax.while")
    assert (loop.location.filename.data, loop.location.line.data) == (  # type: ignore[attr-defined]
        os.path.abspath(__file__), line_of("MARK-GCD"))


def test_unsupported_dtype_is_a_clear_error() -> None:
    z = jnp.ones(3, jnp.float4_e2m1fn)
    with pytest.raises(UnsupportedPrimitive, match="dtype float4_e2m1fn is not supported"):
        tiers.jit(lambda z: z * 2)(z)
    with pytest.raises(UnsupportedPrimitive, match="dtype int4 is not supported"):
        tiers.jit(lambda x: x.astype(jnp.int4).astype(jnp.int32))(jnp.ones(3, jnp.int32))


# ---------------------------------------------------------------------------------------
# 64-bit types (JAX reads JAX_ENABLE_X64 at import, hence a fresh process).
# ---------------------------------------------------------------------------------------

X64_PROGRAM = textwrap.dedent("""
    import jax, jax.numpy as jnp, numpy as np
    import tiers

    x = jnp.linspace(-1.0, 1.0, 12).reshape(3, 4)
    i = jnp.arange(12).reshape(3, 4)
    assert x.dtype == jnp.float64 and i.dtype == jnp.int64
    fn = lambda x, i: (jnp.exp(x) @ x.T, i * 3 + (i // 2), jnp.sum(i), x / 3 + i,
                       jnp.argmax(x, axis=1), jax.grad(lambda x: jnp.sum(jnp.tanh(x) ** 2))(x))
    got, want = tiers.jit(fn)(x, i), jax.jit(fn)(x, i)
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-12)
    big = jnp.asarray(2**40 + 1, jnp.int64)
    assert int(tiers.jit(lambda b: b * 3)(big)) == 3 * (2**40 + 1)
    print("x64 ok")
""")


def test_x64_in_subprocess() -> None:
    env = {**os.environ, "JAX_ENABLE_X64": "1", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-W", "error", "-c", X64_PROGRAM], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "x64 ok" in out.stdout
