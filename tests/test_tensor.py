"""tiers.Tensor, the tiers.numpy / tiers.nn / tiers.random namespaces and creation functions."""

import inspect
import operator

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tiers

# Every test runs in immediate and in lazy eager mode (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("eager_mode")

X = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], np.float32)
Y = np.array([[2.0, 1.0, -3.0], [1.5, 2.0, 0.5]], np.float32)
IX = np.array([[7, -3, 4], [2, 9, -8]], np.int32)


def test_repr_and_properties():
    t = tiers.constant([1.0, 2.0])
    assert repr(t) == "tiers.Tensor([1. 2.], dtype=float32)"
    assert str(tiers.constant(3)) == "tiers.Tensor(3, dtype=int32)"
    m = tiers.constant(X)
    assert m.shape == (2, 3) and m.ndim == 2 and m.size == 6 and m.dtype == np.float32
    assert len(m) == 2
    np.testing.assert_array_equal(m.numpy(), X)
    np.testing.assert_array_equal(m.T.numpy(), X.T)
    assert tiers.constant([4.5]).item() == 4.5
    assert float(tiers.constant(2.5)) == 2.5 and int(tiers.constant(7)) == 7
    assert [r.numpy().tolist() for r in m] == X.tolist()
    with pytest.raises(ValueError):
        bool(m)


def test_numpy_and_jax_interop():
    t = tiers.constant(X)
    np.testing.assert_array_equal(np.asarray(t), X)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    np.testing.assert_allclose(jnp.sin(t), np.sin(X), rtol=1e-6)  # __jax_array__
    out = X + t  # numpy defers to our reflected operator
    assert isinstance(out, tiers.Tensor)
    np.testing.assert_allclose(out.numpy(), 2 * X)
    np.testing.assert_allclose(jnp.asarray(X) * t, X * X)  # JAX takes it via __jax_array__


BINARY = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
          operator.mod, operator.pow, operator.lt, operator.le, operator.gt, operator.ge,
          operator.eq, operator.ne]


@pytest.mark.parametrize("op", BINARY, ids=lambda op: op.__name__)
def test_binary_operators_match_numpy(op):
    a, b = np.abs(X) + 0.5, np.abs(Y) + 0.5
    ta, tb = tiers.constant(a), tiers.constant(b)
    for got, want in [(op(ta, tb), op(a, b)), (op(ta, 2.0), op(a, np.float32(2.0))),
                      (op(3.0, tb), op(np.float32(3.0), b)), (op(ta, b), op(a, b))]:
        assert isinstance(got, tiers.Tensor)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5)


def test_integer_and_unary_operators():
    t = tiers.constant(IX)
    for got, want in [(t // 3, IX // 3), (t % 3, IX % 3), (t & 6, IX & 6), (t | 1, IX | 1),
                      (t ^ 5, IX ^ 5), (t << 1, IX << 1), (t >> 1, IX >> 1), (-t, -IX),
                      (abs(t), np.abs(IX)), (~t, ~IX), (+t, IX)]:
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got.numpy(), want)
    m = tiers.constant(X)
    np.testing.assert_allclose((m @ m.T).numpy(), X @ X.T, rtol=1e-6)
    assert (m == None) is False  # noqa: E711 - unknown operand types defer, as for jax.Array


def test_weak_types_follow_jax():
    small = tiers.constant(np.array([1, 2], np.int8))
    assert (small + 1).dtype == np.int8
    assert (small * 2.5).dtype == (jnp.array([1, 2], jnp.int8) * 2.5).dtype
    assert (tiers.constant([1.0], dtype=jnp.bfloat16) + 1.0).dtype == jnp.bfloat16


INDICES = [1, -1, slice(1, 3), (slice(None), slice(None, None, 2)), (None, Ellipsis, 0),
           (1, 2), (Ellipsis, slice(0, 1)), np.array([2, 0])]


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_indexing_matches_numpy(index):
    a = np.arange(24, dtype=np.float32).reshape(4, 6)
    np.testing.assert_array_equal(tiers.constant(a)[index].numpy(), a[index])


def test_gather_with_tensor_index():
    a = np.arange(10.0, dtype=np.float32)
    idx = tiers.constant([3, 1, 4])
    np.testing.assert_array_equal(tiers.constant(a)[idx].numpy(), a[[3, 1, 4]])


def test_methods():
    t = tiers.constant(X)
    assert t.astype(jnp.int32).dtype == np.int32
    np.testing.assert_array_equal(t.reshape(3, 2).numpy(), X.reshape(3, 2))
    np.testing.assert_array_equal(t.reshape((-1,)).numpy(), X.reshape(-1))
    np.testing.assert_array_equal(t.transpose().numpy(), X.T)
    np.testing.assert_allclose(t.sum().numpy(), X.sum(), rtol=1e-6)
    np.testing.assert_allclose(t.sum(axis=0).numpy(), X.sum(axis=0), rtol=1e-6)
    np.testing.assert_allclose(t.mean(axis=1, keepdims=True).numpy(),
                               X.mean(axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_array_equal(t.max(axis=1).numpy(), X.max(axis=1))
    np.testing.assert_array_equal(t.min().numpy(), X.min())


def test_creation_functions():
    c = tiers.constant([1, 2], dtype=jnp.float32)
    assert isinstance(c, tiers.Tensor) and c.dtype == np.float32
    assert tiers.asarray(np.ones(3, np.int32)).dtype == np.int32
    assert isinstance(tiers.constant(c), tiers.Tensor)
    for got, want in [(tiers.zeros((2, 3)), np.zeros((2, 3))), (tiers.ones(4), np.ones(4)),
                      (tiers.full((2,), 7.0), np.full((2,), 7.0)), (tiers.arange(5), np.arange(5)),
                      (tiers.linspace(0, 1, 5), np.linspace(0, 1, 5)), (tiers.eye(3), np.eye(3))]:
        assert isinstance(got, tiers.Tensor)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


def test_pytree_node_with_one_leaf():
    t = tiers.constant(X)
    leaves, tree = jax.tree_util.tree_flatten({"t": t})
    assert len(leaves) == 1 and isinstance(leaves[0], jax.Array)
    assert isinstance(jax.tree_util.tree_unflatten(tree, leaves)["t"], tiers.Tensor)
    doubled = jax.jit(lambda v: v * 2)(t)  # ops on a traced Tensor give traced Tensors
    assert isinstance(doubled, tiers.Tensor)
    np.testing.assert_allclose(doubled, 2 * X)
    assert isinstance(jax.jit(lambda v: v)(t), tiers.Tensor)
    seen = []

    def f(v):  # tiers.jit traces a Tensor argument as the array it wraps
        seen.append(type(v))
        return jnp.sin(v)

    np.testing.assert_allclose(tiers.jit(f)(t), np.sin(X), rtol=1e-6)
    assert issubclass(seen[0], jax.core.Tracer)
    grad = jax.grad(lambda v: (v.value ** 2).sum())(t)
    assert isinstance(grad, tiers.Tensor)
    np.testing.assert_allclose(grad.numpy(), 2 * X, rtol=1e-6)


def test_top_level_ops():
    assert tiers.add(tiers.constant(5), tiers.constant(3)).item() == 8
    a, b = tiers.constant(np.abs(X) + 1), tiers.constant(np.abs(Y) + 1)
    A, B = np.abs(X) + 1, np.abs(Y) + 1
    cases = [(tiers.subtract(a, b), A - B), (tiers.multiply(a, b), A * B),
             (tiers.divide(a, b), A / B), (tiers.matmul(a, b.T), A @ B.T),
             (tiers.exp(a), np.exp(A)), (tiers.log(a), np.log(A)), (tiers.sqrt(a), np.sqrt(A)),
             (tiers.sum(a, axis=1), A.sum(1)), (tiers.mean(a), A.mean()),
             (tiers.maximum(a, b), np.maximum(A, B)),
             (tiers.where(a > b, a, b), np.where(A > B, A, B)),
             (tiers.reshape(a, (3, 2)), A.reshape(3, 2)), (tiers.transpose(a), A.T),
             (tiers.concatenate([a, b], axis=0), np.concatenate([A, B]))]
    for got, want in cases:
        assert isinstance(got, tiers.Tensor)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5)


def test_every_jax_numpy_name_is_reachable():
    public = [n for n in dir(jnp) if not n.startswith("_")]
    assert set(public) <= set(dir(tiers.numpy))
    for name in public:
        value = getattr(tiers.numpy, name)
        source = getattr(jnp, name)
        if isinstance(source, type) or not (callable(source) or inspect.ismodule(source)):
            assert value is source  # dtypes, constants, classes pass through
    assert inspect.signature(tiers.numpy.sum).parameters.keys() == \
        inspect.signature(jnp.sum).parameters.keys()
    with pytest.raises(AttributeError, match="tiers.numpy"):
        tiers.numpy.no_such_function  # noqa: B018


def test_namespace_functions_match_jax():
    a = tiers.constant(X)
    np.testing.assert_allclose(tiers.numpy.linalg.norm(a).numpy(), np.linalg.norm(X), rtol=1e-6)
    np.testing.assert_allclose(tiers.numpy.add.reduce(a, axis=0).numpy(), X.sum(0), rtol=1e-6)
    np.testing.assert_allclose(tiers.numpy.cumsum(a, axis=1).numpy(), X.cumsum(1), rtol=1e-6)
    np.testing.assert_array_equal(tiers.numpy.sort(a).numpy(), np.sort(X))
    assert tiers.numpy.shape(a) == (2, 3) and tiers.numpy.ndim(a) == 2
    for got, want in zip(tiers.numpy.nonzero(a > 1), np.nonzero(X > 1), strict=True):
        np.testing.assert_array_equal(got.numpy(), want)
    assert isinstance(tiers.numpy.fft.fft(a), tiers.Tensor)
    q, r = tiers.numpy.divmod(tiers.constant(IX), 3)
    np.testing.assert_array_equal(q.numpy(), IX // 3)
    np.testing.assert_array_equal(r.numpy(), IX % 3)
    np.testing.assert_allclose(tiers.nn.softmax(a, axis=-1).numpy(),
                               jax.nn.softmax(X, axis=-1), rtol=1e-6)
    np.testing.assert_allclose(tiers.nn.relu(a).numpy(), np.maximum(X, 0))
    np.testing.assert_allclose(tiers.nn.gelu(a).numpy(), jax.nn.gelu(X), rtol=1e-6)


def test_random_with_explicit_keys():
    key = tiers.random.PRNGKey(0)
    assert isinstance(key, tiers.Tensor)
    k1, k2 = tiers.random.split(key)
    for got, want in [(tiers.random.normal(k1, (3,)), jax.random.normal(k1.value, (3,))),
                      (tiers.random.uniform(k2, (2, 2)), jax.random.uniform(k2.value, (2, 2)))]:
        assert isinstance(got, tiers.Tensor)
        np.testing.assert_array_equal(got.numpy(), want)
    typed = tiers.random.key(1)
    np.testing.assert_array_equal(tiers.random.normal(typed, (2,)).numpy(),
                                  jax.random.normal(jax.random.key(1), (2,)))


def test_traced_arguments_run_plain_jax():
    seen = []

    def f(x):
        y = tiers.exp(x) + tiers.add(x, 1.0)
        seen.append(type(y))
        return y

    x = jnp.asarray(X)
    np.testing.assert_allclose(jax.jit(f)(x), np.exp(X) + X + 1, rtol=1e-6)
    np.testing.assert_allclose(tiers.jit(f)(x), np.exp(X) + X + 1, rtol=1e-6)
    assert not any(issubclass(t, tiers.Tensor) for t in seen)
    assert "add" in str(jax.make_jaxpr(f)(x))
