"""The eager kernel cache: one-op programs compiled through the pipeline, keyed and bounded."""

import threading

import jax.numpy as jnp
import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.passes import ModulePass

import tiers
from tiers import pipeline
from tiers.frontend import eager
from tiers.pipeline import registry

tnp = tiers.numpy
# Every test runs in immediate and in lazy eager mode (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("eager_mode")


@pytest.fixture(autouse=True)
def fresh_cache():
    eager.clear_cache()
    yield
    eager.clear_cache()


def info():
    return eager.cache_info()


@pytest.mark.immediate_only
def test_miss_then_hit():
    a = tiers.constant(np.arange(4.0, dtype=np.float32))
    np.testing.assert_array_equal(tnp.add(a, a).numpy(), [0, 2, 4, 6])
    assert (info()["misses"], info()["hits"], info()["entries"]) == (1, 0, 1)
    np.testing.assert_array_equal(tnp.add(a, a).numpy(), [0, 2, 4, 6])
    assert (info()["misses"], info()["hits"]) == (1, 1)
    assert info()["compile_time_s"] > 0


@pytest.mark.immediate_only
def test_key_covers_shapes_dtypes_and_static_args():
    a = tiers.constant(np.ones((2, 3), np.float32))
    tnp.sum(a, axis=0)
    tnp.sum(tiers.constant(np.ones((3, 3), np.float32)), axis=0)  # shape
    tnp.sum(tiers.constant(np.ones((2, 3), np.int32)), axis=0)  # dtype
    tnp.sum(a, axis=1)  # static argument
    tnp.sum(a, axis=1, keepdims=True)
    assert info()["misses"] == 5
    tnp.sum(tiers.constant(np.zeros((2, 3), np.float32)), axis=0)  # new values, same kernel
    assert info()["misses"] == 5


@pytest.mark.immediate_only
def test_python_scalars_keep_their_type_in_the_key():
    # 1 == 1.0 == True in Python; as static arguments they give different results.
    ints, floats, bools = tnp.full((2,), 1), tnp.full((2,), 1.0), tnp.full((2,), True)
    assert (ints.dtype, floats.dtype, bools.dtype) == (jnp.int32, jnp.float32, jnp.bool_)
    assert info()["misses"] == 3


def test_static_floats_are_keyed_by_their_bits():
    """-0.0 == 0.0 in Python: a key by value shared the kernel of `full((), -0.0)`, which bakes
    the fill value in, with `full((), 0.0)` (the fuzzer found 1 / 0.0 = -inf)."""
    negative = tiers.numpy.full((), -0.0, dtype=jnp.float32)
    positive = tiers.numpy.full((), 0.0, dtype=jnp.float32)
    assert np.signbit(negative.numpy()) and not np.signbit(positive.numpy())
    assert (tiers.constant(np.float32(-1.0)) / positive).numpy() == -np.inf
    nan = tiers.numpy.full((2,), float("nan"), dtype=jnp.float32)
    assert np.isnan(nan.numpy()).all()


@pytest.mark.immediate_only
def test_scalar_operands_share_one_kernel():
    a = tiers.constant(np.arange(3.0, dtype=np.float32))
    for scale in [0.5, 2.0, 3.25]:
        np.testing.assert_allclose((a * scale).numpy(), np.arange(3.0) * scale)
    assert info()["misses"] == 1 and info()["hits"] == 2
    a * 2  # an int operand is another (weak) type
    assert info()["misses"] == 2


def test_hit_path_does_no_tracing_ir_or_pass_work(monkeypatch):
    a = tiers.constant(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    want = tnp.tanh(a).numpy()

    def forbidden(*args, **kwargs):
        raise AssertionError("a cache hit must not trace, import or run passes")

    monkeypatch.setattr(eager, "_make", forbidden)
    monkeypatch.setattr(eager.jax, "make_jaxpr", forbidden)
    monkeypatch.setattr(eager.pipeline, "compile", forbidden)
    np.testing.assert_array_equal(tnp.tanh(a).numpy(), want)


@pytest.mark.immediate_only
def test_kernel_is_compiled_through_the_eager_pipeline():
    a = tiers.constant(np.arange(4.0, dtype=np.float32))
    kernel = eager.kernel_for(tnp.linalg.norm, a)
    ops = [op.name for op in kernel.module.walk()]
    assert "lax.sqrt" in ops and "func.call" not in ops  # the default pipeline inlines
    with tiers.config.set_eager_pipeline("O0"):
        raw = eager.kernel_for(tnp.linalg.norm, a)
    assert raw is not kernel
    assert sum(isinstance(op, func.FuncOp) for op in raw.module.walk()) == 2  # norm's pjit
    np.testing.assert_allclose(tnp.linalg.norm(a).numpy(), np.sqrt(14.0), rtol=1e-6)
    assert info()["misses"] == 2
    assert tiers.config.eager_pipeline() == "default"
    with pytest.raises(pipeline.PipelineError):
        tiers.config.set_eager_pipeline("no-such-pass")


class CountingPass(ModulePass):
    name = "test-count-kernels"
    applied = 0

    def apply(self, ctx, op):
        CountingPass.applied += 1


@pytest.mark.immediate_only
def test_plugin_passes_run_on_eager_ops_and_key_the_cache(monkeypatch):
    a = tiers.constant(np.arange(4.0, dtype=np.float32))
    tnp.cos(a)
    builtin = registry.tiers_passes
    monkeypatch.setattr(registry, "tiers_passes",
                        lambda: {**builtin(), CountingPass.name: lambda: CountingPass})
    registry.invalidate()  # what registering a plugin does
    try:
        tnp.cos(a)
        assert info()["misses"] == 2  # another set of passes: another kernel
        with tiers.config.set_eager_pipeline("default,test-count-kernels"):
            tnp.cos(a)
            tnp.cos(a)
        assert CountingPass.applied == 1
    finally:
        monkeypatch.undo()
        registry.invalidate()


@pytest.mark.immediate_only
def test_cache_is_bounded_lru():
    with tiers.config.set_eager_cache_size(2):
        x1, x2, x3 = (tiers.constant(np.ones(n, np.float32)) for n in (1, 2, 3))
        tnp.exp(x1)
        tnp.exp(x2)
        tnp.exp(x1)  # x1 is now the most recent
        tnp.exp(x3)  # evicts x2
        assert info()["entries"] == 2 and info()["misses"] == 3
        tnp.exp(x1)
        assert info()["misses"] == 3
        tnp.exp(x2)
        assert info()["misses"] == 4
        assert info()["size"] == 2
    assert tiers.config.eager_cache_size() == 4096
    with pytest.raises(ValueError):
        tiers.config.set_eager_cache_size(0)


@pytest.mark.immediate_only
def test_threads_share_one_compile():
    a = tiers.constant(np.arange(5.0, dtype=np.float32))
    barrier = threading.Barrier(8)
    results, errors = [], []

    def work():
        try:
            barrier.wait()
            results.append(tnp.log1p(a).numpy())
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for r in results:
        np.testing.assert_allclose(r, np.log1p(np.arange(5.0)), rtol=1e-6)
    assert info()["misses"] == 1 and info()["hits"] == 7


@pytest.mark.immediate_only
def test_value_dependent_ops_run_directly_once_decided():
    a = tiers.constant(np.array([0.0, 2.0, 0.0, 3.0], np.float32))
    for _ in range(2):
        np.testing.assert_array_equal(tnp.flatnonzero(a).numpy(), [1, 3])
        assert tnp.shape(a) == (4,)
        np.testing.assert_array_equal(a[a > 1].numpy(), [2.0, 3.0])
    assert info()["direct"] == 3 and info()["misses"] == 4  # and `a > 1`, a real kernel


CASES = [  # (name, positional arguments after the array, keyword arguments)
    ("clip", (-1, 1), {}), ("argmax", (), {"axis": 1}), ("prod", (0,), {}), ("var", (), {}),
    ("std", (), {"axis": 1, "keepdims": True}), ("cumprod", (), {}), ("round", (1,), {}),
    ("transpose", ((1, 0),), {}), ("flip", (), {"axis": 0}), ("tril", (), {}),
    ("sign", (), {}), ("floor", (), {}), ("square", (), {}), ("isfinite", (), {}),
]


@pytest.mark.parametrize("name, args, kwargs", CASES, ids=[c[0] for c in CASES])
def test_results_match_jax_numpy(name, args, kwargs):
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    got = getattr(tnp, name)(tiers.constant(x), *args, **kwargs)
    want = getattr(jnp, name)(jnp.asarray(x), *args, **kwargs)
    assert isinstance(got, tiers.Tensor) and got.dtype == want.dtype
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


def test_sequences_of_arrays():
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    t = tiers.constant(x)
    np.testing.assert_allclose(tnp.einsum("ij,kj->ik", t, t).numpy(), x @ x.T, rtol=1e-5)
    np.testing.assert_allclose(tnp.stack([t, x], axis=0).numpy(), np.stack([x, x]))
    np.testing.assert_allclose(tnp.where(t > 0, t, 0.0).numpy(), np.where(x > 0, x, 0))


def test_errors_are_jax_errors():
    with pytest.raises(TypeError, match="add got incompatible shapes"):
        tnp.add(tiers.constant(np.ones(3)), tiers.constant(np.ones(4)))
    assert info()["entries"] == 0
