"""`tiers.jit` takes every `jax.jit` argument, with JAX's meaning; each case is compared with
`jax.jit` on a tiny program."""

import warnings
from typing import Any
from unittest import mock

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tiers

X = jnp.arange(4.0)


def same(got: Any, want: Any) -> None:
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want), strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-6)


def both(fn: Any, **options: Any) -> tuple[Any, Any]:
    return tiers.jit(fn, **options), jax.jit(fn, **options)


# -- donation ---------------------------------------------------------------------------------
@pytest.mark.parametrize("options, by_name", [
    ({"donate_argnums": 0}, False),
    ({"donate_argnums": (0,)}, False),
    ({"donate_argnames": "x"}, True),
    ({"donate_argnames": ("x",)}, False),  # completed from the signature, as in jax.jit
])
def test_donated_argument_is_deleted_and_results_are_right(options: dict, by_name: bool) -> None:
    def fn(x, y):
        return x * 2 + y

    for f in both(fn, **options):
        x, y = jnp.arange(4.0), jnp.ones(4)
        got = f(y=y, x=x) if by_name else f(x, y)
        same(got, jnp.arange(4.0) * 2 + 1)
        assert x.is_deleted() and not y.is_deleted()


def test_nothing_is_donated_by_default() -> None:
    x = jnp.arange(4.0)
    same(tiers.jit(lambda x: x + 1)(x), X + 1)
    assert not x.is_deleted()


def test_static_and_donated_names_cannot_intersect_as_in_jax() -> None:
    def fn(x, n):
        return x * n

    for jit in (tiers.jit, jax.jit):
        with pytest.raises(ValueError, match="cannot intersect"):
            jit(fn, static_argnames="n", donate_argnames="n")


# -- keep_unused, inline, compiler_options, backend -------------------------------------------
def _main_arity(lowered_text: str) -> int:
    line = next(ln for ln in lowered_text.splitlines() if "func.func public @main" in ln)
    return line.count("%arg")


def test_keep_unused_keeps_the_argument_in_the_executable() -> None:
    f, g = both(lambda x, unused: x + 1, keep_unused=True)
    same(f(X, X), g(X, X))
    assert _main_arity(f.lower(X, X).as_text()) == 2  # JAX's StableHLO, as jax.jit's
    assert _main_arity(g.lower(X, X).as_text()) == 2


def test_inline_puts_the_call_in_the_enclosing_jaxpr() -> None:
    def fn(x):
        return jnp.sin(x) * 2

    inlined, nested = tiers.jit(fn, inline=True), tiers.jit(fn)
    for outer in (jax.jit, tiers.jit):
        same(outer(lambda x: inlined(x) + 1)(X), jax.jit(lambda x: fn(x) + 1)(X))
    text = str(jax.make_jaxpr(jax.jit(lambda x: inlined(x) + 1))(X))
    assert text.count("jit[") == 1 and "tiers_call[" in text  # only the outer jit
    text = str(jax.make_jaxpr(jax.jit(lambda x: nested(x) + 1))(X))
    assert text.count("jit[") == 2


def test_compiler_options_reach_xla() -> None:
    f, g = both(lambda x: jnp.exp(x) / 3, compiler_options={"xla_cpu_enable_fast_math": False})
    same(f(X), g(X))
    f, g = both(lambda x: x + 1, compiler_options={"xla_no_such_option": True})
    for h in (f, g):
        with pytest.raises(jax.errors.JaxRuntimeError, match="No such compile option"):
            h(X)


def test_backend_is_jax_jits_and_is_recorded_in_the_ir() -> None:
    with pytest.warns(DeprecationWarning, match="backend and device argument on jit"):
        f = tiers.jit(lambda x: x + 1, backend="cpu")
    same(f(X), X + 1)
    assert 'tiers.device = "cpu:0"' in f.lower(X).as_text("optimized")
    with pytest.raises(ValueError, match="device or a backend"):
        tiers.jit(lambda x: x, device="cpu:0", backend="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ValueError, match="in_shardings should not be specified"):
            tiers.jit(lambda x: x, backend="cpu",
                      in_shardings=jax.sharding.SingleDeviceSharding(jax.devices()[0]))


@pytest.mark.parametrize("name, value", [
    ("donate_argnums", "a"), ("donate_argnames", 3), ("keep_unused", "yes"), ("inline", 1),
    ("backend", 3), ("compiler_options", ["a"]), ("compiler_options", {1: 2}),
])
def test_bad_types_are_type_errors_naming_the_argument(name: str, value: Any) -> None:
    with pytest.raises(TypeError, match=f"^tiers.jit: {name} must be "):
        tiers.jit(lambda x: x, **{name: value})
    with pytest.raises(TypeError, match=f"^tiers.jit: {name} must be "):
        tiers.jit(**{name: value})  # as a decorator factory, before any function


# -- static arguments, read as jax.jit reads them ---------------------------------------------
def test_none_means_no_static_arguments() -> None:
    f = tiers.jit(lambda x, n: x * n, static_argnums=None, static_argnames=None)
    same(f(X, 3.0), X * 3)
    assert (f.tiers_compiler.static_argnums, f.tiers_compiler.static_argnames) == ((), ())


def test_argnums_and_argnames_both_given_are_taken_as_given() -> None:
    def fn(a, b):
        return a * b

    # jax.jit: b static by position, a static only when passed by name. Completing one from
    # the other would make the array `a` static (unhashable).
    f, g = both(fn, static_argnums=1, static_argnames="a")
    assert (f.tiers_compiler.static_argnums, f.tiers_compiler.static_argnames) == ((1,), ("a",))
    same(f(X, 3), g(X, 3))
    same(f(b=X, a=2), g(b=X, a=2))


def test_an_argument_given_by_name_is_not_static_by_position() -> None:
    def fn(x, n):
        return x * n

    f, g = both(fn, static_argnums=1, static_argnames=())
    for n in (2, 3):
        same(f(X, n=n), g(X, n=n))
    assert f.cache_info()["traces"] == 1 == g._cache_size()  # n traced: one specialization


def test_one_given_alone_is_completed_from_the_signature() -> None:
    def fn(x, n, *, mode="sum"):
        return jnp.sum(x ** n) if mode == "sum" else jnp.max(x ** n)

    f = tiers.jit(fn, static_argnames=("n", "mode"))
    assert (f.tiers_compiler.static_argnums, f.tiers_compiler.static_argnames) == \
        ((1,), ("n", "mode"))
    g = tiers.jit(fn, static_argnums=1)
    assert (g.tiers_compiler.static_argnums, g.tiers_compiler.static_argnames) == ((1,), ("n",))
    same(f(X, 2, mode="max"), jax.jit(fn, static_argnames=("n", "mode"))(X, 2, mode="max"))
    same(g(X, n=3), jax.jit(fn, static_argnums=1)(X, n=3))


class _NoSignature:
    __signature__ = "none"  # inspect.signature raises TypeError, as for some builtins

    def __call__(self, x, n):
        return x * n


def test_a_callable_without_a_signature_takes_them_as_given() -> None:
    f = tiers.jit(_NoSignature(), static_argnums=1)
    assert (f.tiers_compiler.static_argnums, f.tiers_compiler.static_argnames) == ((1,), ())
    same(f(X, 3), X * 3)


# -- tiers' own jax.jit -----------------------------------------------------------------------
def test_a_patched_jax_jit_does_not_change_what_tiers_jit_builds() -> None:
    with mock.patch("jax.jit", side_effect=AssertionError("patched jax.jit called")) as fake:
        f = tiers.jit(lambda x: x * 2 + 1, donate_argnums=0)
        same(f(jnp.arange(4.0)), X * 2 + 1)
    assert not fake.called
    same(f(jnp.arange(4.0)), X * 2 + 1)

    real = jax.jit
    calls = []

    def wrapper(fn, *args, **kwargs):  # as chex's wrappers do
        calls.append(fn)
        return real(fn, *args, **kwargs)

    with mock.patch("jax.jit", wrapper):
        same(tiers.jit(jnp.sin)(X), jnp.sin(X))
    assert calls == []


def test_jax_jit_replaced_by_tiers_jit_never_recurses() -> None:
    """`make compat` runs libraries with `jax.jit = tiers.jit`: tiers' internal compiles (an op
    lowered by JAX from its walk rule, eager kernels, lazy programs) use JAX's own `jit`, not
    whatever `jax.jit` is now (found by optax's tests: `svd` recursed to the limit)."""
    a = np.arange(9.0, dtype=np.float32).reshape(3, 3) + np.eye(3, dtype=np.float32)
    want = np.linalg.svd(a, compute_uv=False)
    with mock.patch("jax.jit", tiers.jit):
        np.testing.assert_allclose(tiers.jit(lambda m: jnp.linalg.svd(m, compute_uv=False))(a),
                                   want, rtol=1e-5)
        t = tiers.constant(a)
        np.testing.assert_allclose((tiers.numpy.sin(t) + t).numpy(), np.sin(a) + a, rtol=1e-6)
        with tiers.lazy():
            y = tiers.numpy.cos(t) * 2
        np.testing.assert_allclose(y.numpy(), np.cos(a) * 2, rtol=1e-6)


def test_ref_arguments_are_written_in_place_as_under_jax_jit() -> None:
    """`jax.Ref` arguments (`jax.new_ref`): the function reads and writes them, and the
    writes land in the caller's refs, call after call, as with `jax.jit`."""
    def step(acc, x):
        acc[...] = acc[...] + x * 2
        return acc[...].sum()

    refs = {jit: jax.new_ref(jnp.zeros(3)) for jit in (jax.jit, tiers.jit)}
    for jit, ref in refs.items():
        f = jit(step)
        totals = [float(f(ref, jnp.arange(3.0))) for _ in range(3)]
        assert totals == [6.0, 12.0, 18.0], jit
        np.testing.assert_array_equal(ref[...], [0.0, 6.0, 12.0])
