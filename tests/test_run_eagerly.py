"""`tiers.config.run_functions_eagerly`: every tiers.jit function runs as plain Python."""

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tiers

X = jnp.arange(6.0).reshape(2, 3)


@pytest.fixture(autouse=True)
def compiled_mode_after_each_test():
    yield
    tiers.config.run_functions_eagerly(False)


def test_the_python_function_runs_with_concrete_values(capsys):
    seen = []

    @tiers.jit
    def f(x):
        seen.append(type(x))
        print("x is", float(x.sum()))  # needs a concrete value: fails while tracing
        return jnp.tanh(x) * 2

    with tiers.config.run_functions_eagerly(True):
        out = f(X)
        f(X)
    assert capsys.readouterr().out == "x is 15.0\nx is 15.0\n"
    assert not any(issubclass(t, jax.core.Tracer) for t in seen)
    with pytest.raises(TypeError, match="(?i)traced|concrete"):
        f(X)  # compiled mode again: the same function is traced, values are abstract
    np.testing.assert_allclose(out, np.tanh(np.asarray(X)) * 2, rtol=1e-6)


def test_exceptions_propagate_as_in_python():
    @tiers.jit
    def f(x):
        if x.sum() > 100:
            raise OverflowError("too big")
        return x + 1

    tiers.config.run_functions_eagerly(True)
    np.testing.assert_array_equal(f(X), X + 1)
    with pytest.raises(OverflowError, match="too big"):
        f(X * 100)


def _programs():
    @tiers.jit
    def inner(x, scale):
        return jnp.sin(x) * scale

    @tiers.jit
    def outer(params, x):
        h = inner(x @ params["w"], 2.0) + params["b"]
        return {"h": h, "total": tiers.sum(h)}

    with_static = tiers.jit(lambda x, n, mode: jnp.power(x, n) if mode == "pow" else x * n,
                            static_argnums=1, static_argnames="mode")
    return outer, with_static


def test_results_equal_compiled_mode_for_nested_pytrees_and_static_args():
    params = {"w": jnp.ones((3, 4)) / 4, "b": jnp.arange(4.0)}
    outer, with_static = _programs()
    compiled = (outer(params, X), with_static(X, 3, mode="pow"), with_static(X, 2, mode="mul"))
    with tiers.config.run_functions_eagerly(True):
        outer, with_static = _programs()
        eager = (outer(params, X), with_static(X, 3, mode="pow"), with_static(X, 2, mode="mul"))
    for got, want in zip(jax.tree_util.tree_leaves(eager), jax.tree_util.tree_leaves(compiled),
                         strict=True):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6)


def test_nested_functions_honour_the_switch():
    calls = []

    @tiers.jit
    def inner(x):
        calls.append(isinstance(x, jax.core.Tracer))
        return x * 2

    @tiers.jit
    def outer(x):
        return inner(x) + inner(x + 1)

    with tiers.config.run_functions_eagerly(True):
        outer(X)
    assert calls == [False, False]


def test_context_manager_restores_and_plain_call_sets():
    assert not tiers.config.functions_run_eagerly()
    with tiers.config.run_functions_eagerly(True):
        assert tiers.config.functions_run_eagerly()
        with tiers.config.run_functions_eagerly(False):
            assert not tiers.config.functions_run_eagerly()
        assert tiers.config.functions_run_eagerly()
    assert not tiers.config.functions_run_eagerly()
    tiers.config.run_functions_eagerly(True)
    assert tiers.config.functions_run_eagerly()


def test_eager_ops_work_while_functions_run_eagerly():
    @tiers.jit
    def f(x):
        y = tiers.exp(x) + 1.0
        assert isinstance(y, tiers.Tensor)  # an eager op, not a traced one
        return y

    tiers.eager.clear_cache()
    with tiers.config.run_functions_eagerly(True):
        out = f(tiers.constant(np.asarray(X)))
    np.testing.assert_allclose(out.numpy(), np.exp(np.asarray(X)) + 1, rtol=1e-6)
    assert tiers.eager.cache_info()["misses"] == 2
    np.testing.assert_allclose(tiers.exp(tiers.constant(np.asarray(X))).numpy(),
                               np.exp(np.asarray(X)), rtol=1e-6)
    assert tiers.eager.cache_info()["misses"] == 2  # the kernels are the compiled-mode ones


def test_compiled_calls_are_jax_dispatcher_calls():
    # The switch lives in JAX's own dispatcher, so tiers.jit hands out jax.jit's object and a
    # compiled call costs exactly a jax.jit call (see benchmarks/eager.py for the timing).
    assert type(tiers.jit(jnp.sin)) is type(jax.jit(jnp.sin))


def test_environment_variable_at_import(tmp_path):
    code = "import tiers; print(tiers.config.functions_run_eagerly())"
    for value, want in [("1", "True"), ("0", "False")]:
        env = {**os.environ, "TIERS_RUN_EAGERLY": value}
        out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path,
                             capture_output=True, text=True, check=True)
        assert out.stdout.strip() == want
