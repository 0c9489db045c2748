"""Lazy eager mode (frontend/lazy.py): ops record a pending program that runs, whole and
optimized, when a value is observed. (test_eager.py and test_tensor.py run in both modes.)"""

import gc
import operator
import subprocess
import sys
import threading
import traceback

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from xdsl.dialects import func

import tiers
from tiers.frontend import lazy
from tiers.frontend.tensor import LazyValue

tnp = tiers.numpy
X = np.linspace(-2.0, 2.0, 12, dtype=np.float32).reshape(3, 4)


@pytest.fixture(autouse=True)
def fresh():
    lazy.clear_cache()
    yield
    tiers.sync()
    lazy.clear_cache()


def pending(t: tiers.Tensor) -> bool:
    return type(t._value) is LazyValue


def n_ops(module, name: str) -> int:
    return sum(1 for op in module.walk() if op.name == name)


def outputs(module) -> int:
    (main,) = [op for op in module.walk() if isinstance(op, func.FuncOp)]
    return len(main.function_type.outputs.data)


# -- observation points -----------------------------------------------------------------------
OBSERVERS = {
    "numpy": lambda t: t.numpy(),
    "np.asarray": np.asarray,
    "repr": repr,
    "str": str,
    "bool": lambda t: bool(t[0, 0] > 0),
    "branch": lambda t: 1 if t[0, 0] > 0 else 0,
    "float": lambda t: float(t[0, 0]),
    "int": lambda t: int(t[0, 0]),
    "index": lambda t: operator.index(t[0, 0].astype(jnp.int32)),
    "item": lambda t: t[0, 0].item(),
    "iteration": list,
    "jax.numpy": jnp.sin,
    "jax.jit": lambda t: jax.jit(jnp.cos)(t),
    "tiers.jit": lambda t: tiers.jit(jnp.cos)(t),
    "tree_leaves": jax.tree_util.tree_leaves,
    "Tensor.to": lambda t: t.to(jax.devices()[0]),
    "device": lambda t: t.device,
    "value": lambda t: t.value,
    "format": lambda t: format(t[0, 0], ".3f"),
    "sync": lambda t: tiers.sync(),
}


@pytest.mark.parametrize("observe", OBSERVERS.values(), ids=OBSERVERS.keys())
def test_each_observation_runs_the_pending_program(observe):
    x = tiers.constant(X)
    with tiers.lazy():
        y = tnp.sin(x) * 2 + 1
        assert pending(y)
        observe(y)
        assert not pending(y) or y._value.array is not None
        np.testing.assert_allclose(np.asarray(y), np.sin(X) * 2 + 1, rtol=1e-6)


def test_shape_dtype_and_len_are_known_without_running():
    with tiers.lazy():
        y = tnp.matmul(tiers.constant(X), tiers.constant(X.T)).astype(jnp.float16)
        assert (y.shape, y.dtype, y.ndim, y.size, len(y)) == ((3, 3), jnp.float16, 2, 9, 3)
        assert pending(y)
        with pytest.raises(TypeError, match="unsized"):
            len(tnp.sum(y))


def test_leaving_the_block_runs_it_and_the_size_limit_too():
    x = tiers.constant(X)
    with tiers.lazy():
        y = x + 1
        assert pending(y)
    assert y._value.array is not None  # ran on leaving, without being read
    with tiers.lazy(), tiers.config.set_lazy_limit(3):
        a = x * 2
        b = a - 1
        assert pending(b)
        c = b * b  # the third op: the program runs
        assert c._value.array is not None and a._value.array is not None
        d = c + 1
        assert pending(d)
    np.testing.assert_allclose(d.numpy(), (X * 2 - 1) ** 2 + 1, rtol=1e-6)


# -- optimization: CSE, fusion, DCE ---------------------------------------------------------------
def test_repeats_are_merged_chains_fused_and_dead_values_dropped():
    x = tiers.constant(X)
    with tiers.lazy():
        total = tnp.sin(x) * 2
        for _ in range(19):
            total = total + tnp.sin(x) * 2
        dead = tnp.exp(x) * 3  # noqa: F841 - held, so computed
        program = total._value.program
        del dead
        gc.collect()
        result = total.numpy()
    np.testing.assert_allclose(result, 20 * np.sin(X) * 2, rtol=1e-5)
    module = program.kernel.module
    assert n_ops(module, "lax.sin") == 1  # 20 copies merged
    assert n_ops(module, "lax.exp") == 0  # its Tensor died before the run: dropped
    assert n_ops(module, "fused.kernel") == 1
    assert outputs(module) == 1  # only `total` is observable


def test_values_still_held_are_computed():
    x = tiers.constant(X)
    with tiers.lazy():
        a = tnp.exp(x)
        b = a * 2
        program = b._value.program
    assert outputs(program.kernel.module) == 2
    np.testing.assert_allclose(a.numpy(), np.exp(X), rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), np.exp(X) * 2, rtol=1e-6)


def test_the_eager_pipeline_and_its_plugins_run_on_programs():
    x = tiers.constant(X)
    with tiers.config.set_eager_pipeline("canonicalize"), tiers.lazy():
        y = tnp.sin(x) * 2 + tnp.sin(x) * 2
        program = y._value.program
    assert n_ops(program.kernel.module, "lax.sin") == 2  # no CSE in this pipeline
    np.testing.assert_allclose(y.numpy(), np.sin(X) * 4, rtol=1e-6)


# -- the program cache ---------------------------------------------------------------------------
def test_a_loop_compiles_once_with_arrays_and_scalars_as_inputs():
    w = tiers.constant(np.ones((4, 4), np.float32) * 0.1)
    h = tiers.constant(X)
    want = X.copy()
    with tiers.lazy():
        for step in range(100):
            h = tnp.tanh(h @ w) + 0.01 * step  # a new scalar each iteration: an input
            want = np.tanh(want @ np.asarray(w)) + np.float32(0.01 * step)
            assert float(h[0, 0]) == pytest.approx(float(want[0, 0]), rel=1e-5)
    info = lazy.cache_info()
    # The getitem program of the first iteration reads a concrete input like every later one.
    assert info["misses"] == 1, info
    assert info["hits"] == 99
    np.testing.assert_allclose(h.numpy(), want, rtol=1e-4)


def test_a_long_loop_runs_in_bounded_memory():
    x = tiers.constant(np.ones(1000, np.float32))
    with tiers.lazy(), tiers.config.set_lazy_limit(50):
        y = x
        for i in range(499):
            y = y * 0.5 + 1.0  # never read: the limit runs it
            if i == 100:
                gc.collect()
                base = len(jax.live_arrays())
        gc.collect()
        assert len(jax.live_arrays()) <= base + 2
        assert len(y._value.program.entries) == 998 % 50
    np.testing.assert_allclose(y.numpy(), 2.0, rtol=1e-6)
    assert lazy.cache_info()["entries"] <= 3


# -- semantics ------------------------------------------------------------------------------------
def program(ns, x):
    y = ns.maximum(x * 1.5 - 0.25, -1.0)
    y = ns.where(y > 0, ns.sqrt(ns.abs(y)), ns.exp(y)) / 3
    z = ns.sum(y * y, axis=1, keepdims=True) + ns.cumsum(y, axis=1)
    return y, ns.sort(y, axis=0), z, ns.tanh(z @ ns.transpose(y))


def test_results_equal_immediate_mode():
    """Bit for bit for elementwise ops and sorts; where XLA fuses a reduction or a dot with the
    ops around it (summing in another order), within 2 ulp (float32: rtol 2.4e-7)."""
    x = tiers.constant(X)
    immediate = [t.numpy() for t in program(tnp, x)]
    with tiers.lazy():
        lazily = [t.numpy() for t in program(tnp, x)]
    for i, (a, b, c) in enumerate(zip(immediate, lazily, program(np, X), strict=True)):
        if i < 2:
            np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, b, rtol=2.4e-7, atol=0)
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)


def test_numpy_operands_are_read_when_the_op_is_recorded():
    data = np.ones(3, np.float32)
    with tiers.lazy():
        y = tnp.add(tiers.constant(data), data)
        data[:] = 100  # after the op, before the program runs
    np.testing.assert_array_equal(y.numpy(), [2, 2, 2])


def test_random_ops_keep_key_semantics():
    key = tiers.random.PRNGKey(7)
    want = np.asarray(jax.random.normal(jax.random.PRNGKey(7), (3, 2)))
    with tiers.lazy():
        k1, k2 = tiers.random.split(key)
        a = tiers.random.normal(key, (3, 2))
        b = tiers.random.uniform(k2, (4,))
        c = tiers.random.normal(key, (3, 2))  # the same key: the same numbers
    np.testing.assert_array_equal(a.numpy(), want)
    np.testing.assert_array_equal(c.numpy(), want)
    np.testing.assert_array_equal(
        b.numpy(), np.asarray(jax.random.uniform(jax.random.split(jax.random.PRNGKey(7))[1],
                                                 (4,))))
    typed = jax.random.key(0)  # typed keys, also in lazy mode (tests/test_prng_keys.py)
    with tiers.lazy():
        np.testing.assert_array_equal(tiers.random.normal(typed, (2,)).numpy(),
                                      jax.random.normal(typed, (2,)))


def test_at_updates():
    x = tiers.constant(np.arange(6.0, dtype=np.float32))
    idx = tiers.constant(np.array([0, 5]))
    with tiers.lazy():
        y = x.at[1].set(10.0).at[2:4].add(1).at[idx].multiply(3.0)
        z = y.at[-1].max(100.0).at[0].get()
        assert pending(y) and pending(z)
    want = np.arange(6.0)
    want[1] = 10
    want[2:4] += 1
    want[[0, 5]] *= 3
    np.testing.assert_array_equal(y.numpy(), want)
    assert float(z) == want[0]
    # The same `at` in graph mode and on a Tensor traced by jax.jit.
    g = tiers.Graph()
    with g.as_default():
        a = tiers.placeholder(tiers.float32, shape=(6,))
        b = a.at[1].set(10.0)
    np.testing.assert_array_equal(tiers.Session(g).run(b, {a: np.arange(6.0)}),
                                  [0, 10, 2, 3, 4, 5])
    np.testing.assert_array_equal(jax.jit(lambda t: t.at[0].set(9.0))(x).numpy(),
                                  [9, 1, 2, 3, 4, 5])


def test_grad_of_a_loss_is_one_op_of_the_program():
    def loss(p, x):
        return tnp.mean((tnp.tanh(x @ p["w"]) + p["b"]) ** 2)

    rng = np.random.default_rng(0)
    params = {"w": rng.normal(size=(4, 3)).astype(np.float32),
              "b": np.zeros(3, np.float32)}
    want = jax.grad(loss)({k: jnp.asarray(v) for k, v in params.items()}, jnp.asarray(X))
    p = {k: tiers.constant(v) for k, v in params.items()}
    with tiers.lazy():
        g = tiers.grad(loss)(p, tiers.constant(X))
        new = {k: p[k] - 0.1 * g[k] for k in p}
        assert pending(g["w"]) and pending(new["w"])
        value, g2 = tiers.value_and_grad(loss)(p, tiers.constant(X))
    for k in p:
        np.testing.assert_allclose(g[k].numpy(), want[k], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(g2[k].numpy(), want[k], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(new[k].numpy(), params[k] - 0.1 * np.asarray(want[k]),
                                   rtol=1e-5, atol=1e-7)
    assert float(value) == pytest.approx(float(loss(params, X)), rel=1e-5)
    # On arrays it is JAX's own function; inside tiers.jit it traces as JAX's.
    np.testing.assert_allclose(tiers.grad(loss)(params, X)["w"], want["w"], rtol=1e-5)
    np.testing.assert_allclose(tiers.jit(tiers.grad(loss))(params, X)["w"], want["w"],
                               rtol=1e-5)


# -- errors ------------------------------------------------------------------------------------
def test_shape_errors_raise_at_the_op_line_before_anything_runs():
    x = tiers.constant(X)
    with tiers.lazy():
        y = x * 2
        with pytest.raises((TypeError, ValueError), match="ncompatible shapes") as e:
            tnp.add(y, tnp.ones(5))  # the op's line
        assert pending(y)  # nothing ran
    line = e.traceback[0].lineno + 1
    frames = traceback.extract_tb(e.value.__traceback__)
    assert any(f.filename == __file__ and f.lineno == line for f in frames)


def test_a_nan_at_run_time_names_the_line_of_the_op_that_made_it():
    x = tiers.constant(np.array([1.0, 3.0], np.float32))
    with jax.debug_nans(True), tiers.lazy():
        y = tnp.log(x - 2)
        line = sys._getframe().f_lineno - 1
        z = y + 1
        with pytest.raises(FloatingPointError) as e:
            z.numpy()
    notes = "\n".join(getattr(e.value, "__notes__", []))
    assert f"tiers.numpy.log recorded at {__file__}:{line}" in notes
    with pytest.raises(FloatingPointError):  # reading a value of the failed program again
        y.numpy()


def test_eager_mode_settings_are_checked():
    with pytest.raises(ValueError, match="modes: immediate, lazy"):
        tiers.config.set_eager_mode("eventually")
    with pytest.raises(TypeError, match="set_lazy_limit: n must be an int"):
        tiers.config.set_lazy_limit(2.5)
    with pytest.raises(ValueError, match="at least one op"):
        tiers.config.set_lazy_limit(0)
    assert tiers.config.eager_mode() == "immediate"


def test_the_environment_variable_sets_the_mode():
    code = ("import tiers, numpy as np\n"
            "y = tiers.constant(np.ones(3)) * 2\n"
            "print(tiers.config.eager_mode(), type(y._value).__name__, y.numpy().sum())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**__import__("os").environ, "TIERS_EAGER": "lazy"}, timeout=120)
    assert done.stdout.split() == ["lazy", "LazyValue", "6.0"], done.stderr
    bad = subprocess.run([sys.executable, "-c", "import tiers"], capture_output=True, text=True,
                         env={**__import__("os").environ, "TIERS_EAGER": "later"}, timeout=120)
    assert bad.returncode != 0
    assert "TIERS_EAGER: unknown eager mode 'later' (modes: immediate, lazy)" in bad.stderr


# -- other modes inside lazy blocks ------------------------------------------------------------
def test_record_graph_and_run_eagerly_behave_as_before():
    x = tiers.constant(X)
    with tiers.lazy():
        with tiers.record() as rec:
            y = tnp.sin(x) + 1
        assert not pending(y) and len(rec.ops) == 2
        np.testing.assert_allclose(rec.function(inputs=[x], outputs=[y])(X)[0],
                                   np.sin(X) + 1, rtol=1e-6)
        g = tiers.Graph()
        with g.as_default():
            a = tiers.placeholder(tiers.float32, shape=(3, 4))
            b = tiers.add(a, tiers.constant(5.0))
        assert int(tiers.Session(g).run(b, {a: X})[0, 0]) == int(X[0, 0] + 5)
        assert int(tiers.add(tiers.constant(5), tiers.constant(3))) == 8

        @tiers.jit
        def f(v):
            return tnp.cos(v) * 2

        with tiers.config.run_functions_eagerly(True):
            np.testing.assert_allclose(np.asarray(f(x)), np.cos(X) * 2, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(f(x)), np.cos(X) * 2, rtol=1e-6)


def test_set_eager_mode_applies_to_every_thread_without_its_own_block():
    x = tiers.constant(X)
    seen = []
    with tiers.config.set_eager_mode("lazy"):
        y = x + 1
        assert pending(y)
        t = threading.Thread(target=lambda: seen.append(pending(x * 3)))
        t.start()
        t.join()
    assert seen == [True]
    assert y._value.array is not None  # leaving lazy mode ran this thread's program
    assert not pending(x + 1)


# -- threads -----------------------------------------------------------------------------------
def test_pending_work_is_per_thread_and_values_cross_threads():
    x = tiers.constant(X)
    results, errors = {}, []
    made, read = threading.Event(), threading.Event()
    shared = []

    def worker(i):
        try:
            with tiers.lazy():
                y = tnp.sin(x) * i
                for _ in range(20):
                    y = y + i
                if i == 0:
                    shared.append(y * 10)  # another thread will read it
                    made.set()
                    read.wait(60)
                results[i] = y.numpy()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    made.wait(60)
    np.testing.assert_allclose(shared[0].numpy(), (np.sin(X) * 0 + 0) * 10)  # runs thread 0's
    more = shared[0] + 1  # immediate on this thread: a value of another thread's program
    read.set()
    for t in threads:
        t.join(60)
    assert not errors
    for i in range(4):
        np.testing.assert_allclose(results[i], np.sin(X) * i + 20 * i, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(more.numpy(), 1.0)
