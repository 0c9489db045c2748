"""tiers.Tensor as a jax.Array: every method and property, operators with every operand type,
ops with empty results, and Tensors inside `jax.jit`, `tiers.jit` and `jax.lax` control flow.
Values are compared with `jax.Array`'s own on the same data."""

import copy
import inspect
import operator
import pickle
import weakref

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax
from jax._src.array import ArrayImpl

import tiers
import tiers.numpy as tnp
from tiers.frontend.tensor import ARRAY_OPS, LazyValue

# Every test runs in immediate and in lazy eager mode (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("eager_mode")

X = np.array([[1.5, -2.25, 3.0], [0.5, 4.0, -1.0]], np.float32)
Y = np.array([[2.0, 1.0, -3.0], [1.5, 2.0, 0.5]], np.float32)
IX = np.array([[7, -3, 4], [2, 9, -8]], np.int32)

# jax.Array attributes a Tensor does not define itself, and why.
EXCLUDED = {
    # JAX deprecates it (a DeprecationWarning now, a TypeError later): `dtype=arr` is to be
    # written `dtype=arr.dtype`. A Tensor has `jax.Array`'s own, with that warning.
    "__numpy_dtype__",
}
# What concrete JAX arrays (`ArrayImpl`) have beyond the abstract `jax.Array`, and Tensors too.
CONCRETE = ("__dlpack__", "__dlpack_device__", "__cuda_array_interface__", "block_until_ready",
            "tolist", "tobytes", "weak_type", "devices", "is_ready", "delete", "is_deleted",
            "on_device_size_in_bytes", "unsafe_buffer_pointer", "format", "traceback",
            "__array__", "__array_priority__", "__bool__", "__float__", "__int__", "__complex__",
            "__index__", "__len__", "__iter__", "__jax_array__")


def _public(cls: type) -> set[str]:
    return {n for n in dir(cls) if not n.startswith("_") or n.startswith("__") and n.endswith("__")}


def test_every_jax_array_attribute():
    # A Tensor is a `jax.Array`, whose abstract methods it inherits: count only its own.
    own = {name for cls in tiers.Tensor.__mro__ if cls is not jax.Array for name in vars(cls)}
    missing = sorted((_public(jax.Array) | set(CONCRETE)) - EXCLUDED - own)
    assert not missing, f"tiers.Tensor lacks jax.Array's {missing}"
    assert _public(jax.Array) >= EXCLUDED  # an exclusion JAX dropped leaves the list too


def test_value_methods_have_jax_signatures():
    for name in ARRAY_OPS:
        ours, theirs = getattr(tiers.Tensor, name), getattr(ArrayImpl, name)
        ours, theirs = getattr(ours, "fget", ours), getattr(theirs, "fget", theirs)
        assert inspect.signature(ours) == inspect.signature(theirs), name


SORTED = np.array([-1.0, 0.5, 2.0, 7.0], np.float32)
# (data, method, args, kwargs): each method's result is compared with jax.Array's own.
METHODS = [
    (X, "all", (), {}), (X > 0, "any", (), {"axis": 0}), (X, "argmax", (), {"axis": 1}),
    (X, "argmin", (), {}), (X, "argsort", (), {"axis": -1}), (X, "argpartition", (1,), {}),
    (X, "astype", (jnp.int32,), {}), (X, "view", (jnp.int32,), {}), (IX, "byteswap", (), {}),
    (np.abs(IX) % 2, "choose", ([X, Y],), {}), (X, "clip", (0.0, 2.0), {}),
    (X, "clip", (), {"min": -1.0}), (X, "compress", (np.array([True, False]),), {"axis": 0}),
    (X, "conj", (), {}), (X, "conjugate", (), {}), (X, "copy", (), {}),
    (X, "cumprod", (), {"axis": 1}), (X, "cumsum", (), {}), (X, "diagonal", (), {}),
    (X, "dot", (Y.T,), {}), (X, "flatten", (), {}), (X, "ravel", (), {}),
    (X, "max", (), {"axis": 0, "keepdims": True}), (X, "min", (), {"initial": -5.0}),
    (X, "mean", (), {"axis": 1}), (X, "nonzero", (), {}), (X, "nonzero", (), {"size": 8}),
    (X, "prod", (1,), {}), (X, "ptp", (), {}), (X, "repeat", (2,), {"axis": 0}),
    (X, "reshape", (3, 2), {}), (X, "reshape", ((-1,),), {}), (X, "round", (1,), {}),
    (SORTED, "searchsorted", (1.0,), {}), (X, "sort", (), {"axis": 0}),
    (X[None], "squeeze", (), {}), (X, "std", (), {"ddof": 1}), (X, "sum", (), {"where": X > 0}),
    (IX, "sum", (), {"dtype": jnp.float32}), (X, "swapaxes", (0, 1), {}),
    (X, "take", (np.array([2, 0]),), {"axis": 1}), (X, "trace", (), {}),
    (X, "transpose", (1, 0), {}), (X, "transpose", (), {}), (X, "var", (), {"axis": 0}),
    (X, "__round__", (), {}), (X, "__round__", (1,), {}), (X[0], "__contains__", (3.0,), {}),
]


def _same(got, want):
    """`got` (Tensors) holds `want`'s values and dtypes, in the same structure."""
    leaves, tree = jax.tree_util.tree_flatten(got, is_leaf=lambda x: isinstance(x, tiers.Tensor))
    assert tree == jax.tree_util.tree_structure(want)
    for leaf, expected in zip(leaves, jax.tree_util.tree_leaves(want), strict=True):
        assert isinstance(leaf, tiers.Tensor)
        assert leaf.dtype == expected.dtype and leaf.shape == expected.shape
        np.testing.assert_allclose(leaf.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize(("data", "name", "args", "kwargs"), METHODS,
                         ids=[f"{m[1]}{i}" for i, m in enumerate(METHODS)])
def test_methods_match_jax(data, name, args, kwargs):
    want = getattr(jnp.asarray(data), name)(*args, **kwargs)
    _same(getattr(tiers.constant(data), name)(*args, **kwargs), want)


@pytest.mark.parametrize("name", ["T", "mT", "real", "imag"])
def test_value_properties_match_jax(name):
    _same(getattr(tiers.constant(X), name), getattr(jnp.asarray(X), name))


def test_python_protocols():
    t, x = tiers.constant(X), jnp.asarray(X)
    _same(round(t), round(x))
    _same(round(t, 1), round(x, 1))
    _same(divmod(tiers.constant(IX), 3), divmod(jnp.asarray(IX), 3))
    _same(divmod(7, tiers.constant(IX) + 10), divmod(7, jnp.asarray(IX) + 10))
    assert 3.0 in t[0] and 5.0 not in t[0]
    for copied in (copy.copy(t), copy.deepcopy(t)):
        assert copied is not t
        _same(copied, x)
    assert weakref.ref(t)() is t
    with pytest.raises(TypeError, match="JAX arrays are immutable"):
        t[0, 0] = 1.0
    with pytest.raises(NotImplementedError, match="flatten"):
        t.flat  # noqa: B018


def test_a_tensor_is_a_jax_array():
    t = tiers.constant(X) * 1  # in lazy mode, a pending value
    assert isinstance(t, jax.Array) and isinstance(t.value, jax.Array)
    # JAX code that branches on `isinstance(x, jax.Array)` takes it as the array it holds.
    assert type(tiers.Tensor(t).value) is ArrayImpl  # a Tensor of a Tensor shares its array
    _same(lax.squeeze(t, ()), jnp.asarray(X))
    again = pickle.loads(pickle.dumps(t))
    assert type(again) is tiers.Tensor
    _same(again, jnp.asarray(X))


def test_data_and_placement_read_the_array():
    t, x = tiers.constant(X) * 1, jnp.asarray(X) * 1  # in lazy mode, a pending value
    assert t.nbytes == x.nbytes and t.itemsize == x.itemsize
    assert t.weak_type is False and (tiers.constant(X) * 1).weak_type == x.weak_type
    assert t.tolist() == x.tolist() and t.tobytes() == x.tobytes() and t.item(1) == x.item(1)
    assert t.sharding == x.sharding and t.devices() == x.devices()
    assert t.is_fully_addressable and t.is_fully_replicated and t.committed == x.committed
    assert len(t.addressable_shards) == len(t.global_shards) == 1 and t.format is not None
    assert isinstance(t.addressable_data(0), tiers.Tensor)
    assert t.block_until_ready() is t and t.is_ready() and t.copy_to_host_async() is None
    assert t.on_device_size_in_bytes() >= x.nbytes and isinstance(t.unsafe_buffer_pointer(), int)
    moved = t.to_device(jax.devices()[0])
    assert isinstance(moved, tiers.Tensor) and moved.committed
    np.testing.assert_array_equal(np.from_dlpack(t), X)  # __dlpack__, __dlpack_device__
    assert t.__dlpack_device__() == x.__dlpack_device__()
    gone = tiers.constant(X).copy()
    gone.delete()
    assert gone.is_deleted()


def test_array_namespace_is_tiers_numpy():
    t = tiers.constant(X)
    assert t.__array_namespace__() is tnp
    assert t.__array_namespace__(api_version=jnp.__array_api_version__) is tnp
    with pytest.raises(ValueError, match="not available"):
        t.__array_namespace__(api_version="1999.01")
    assert tnp.__array_api_version__ == jnp.__array_api_version__
    info, jax_info = tnp.__array_namespace_info__(), jnp.__array_namespace_info__()
    assert info.capabilities() == jax_info.capabilities()
    assert info.default_dtypes() == jax_info.default_dtypes()
    xp = t.__array_namespace__()  # array API style: the namespace's functions on its arrays
    _same(xp.sum(xp.abs(t), axis=1), jnp.sum(jnp.abs(X), axis=1))


REFLECTED = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
             operator.mod, operator.pow, operator.and_, operator.or_, operator.xor,
             operator.lshift, operator.rshift, operator.lt, operator.eq]


@pytest.mark.parametrize("op", REFLECTED, ids=lambda op: op.__name__)
def test_scalars_and_arrays_from_either_side(op):
    data = np.abs(IX) % 5 + 1
    t, x = tiers.constant(data), jnp.asarray(data)
    for other in (2, np.int32(3), np.full(3, 2, np.int32)):
        _same(op(t, other), op(x, other))
        _same(op(other, t), op(other, x))


class _HasJaxArray:
    def __init__(self, value):
        self.value = value

    def __jax_array__(self):
        return self.value


def test_other_operands_as_jax_takes_them():
    t, x = tiers.constant(X), jnp.asarray(X)
    # JAX refuses lists and tuples (no concatenation, no elementwise `==` on them): so do we.
    for make in (lambda a: a + [1.0, 2.0, 3.0], lambda a: [1.0, 2.0, 3.0] + a,
                 lambda a: a + (1.0,), lambda a: a == [1.0, 2.0, 3.0], lambda a: a != {1: 2}):
        with pytest.raises(TypeError):
            make(x)
        with pytest.raises(TypeError, match="unsupported operand|can only concatenate"):
            make(t)
    assert (t == None) is (x == None) is False  # noqa: E711 - unknown types defer
    _same(t + _HasJaxArray(x), x + x)  # objects with __jax_array__ are their arrays
    _same(t @ jnp.asarray(Y.T), x @ Y.T)
    # JAX's own operators take the Tensor through `__jax_array__` and answer with a JAX array
    # before Python asks the Tensor: they return NotImplemented for no operand that has
    # `__jax_array__`, and Python asks the right operand first only when its type subclasses
    # the left one's, which jaxlib's ArrayImpl cannot be.
    np.testing.assert_allclose(x + t, 2 * X)
    assert type(x + t) is ArrayImpl and type(np.float32(2) * t) is tiers.Tensor


def test_ops_with_empty_results():
    assert tnp.unstack(tnp.zeros((0, 3))) == jnp.unstack(jnp.zeros((0, 3))) == ()
    assert tnp.broadcast_shapes((), ()) == jnp.broadcast_shapes((), ()) == ()
    assert tnp.meshgrid() == jnp.meshgrid() == []
    assert tnp.unstack(tnp.zeros((0, 3))) == ()  # the second call: from the kernel cache


def _double(i, c):
    return c * 2


def _scan_step(c, row):
    return c + row, c.sum()


@pytest.mark.parametrize("where", ["eager", "tiers.jit", "jax.jit"])
def test_lax_control_flow_carries_tensors(where):
    wrap = {"eager": lambda f: f, "tiers.jit": tiers.jit, "jax.jit": jax.jit}[where]
    t, x = tiers.constant(X), jnp.asarray(X)
    _same(wrap(lambda a: lax.fori_loop(0, 3, _double, a))(t), lax.fori_loop(0, 3, _double, x))
    _same(wrap(lambda a: lax.scan(_scan_step, a[0], a))(t), lax.scan(_scan_step, x[0], x))
    _same(wrap(lambda a: lax.while_loop(lambda c: jnp.sum(c) < 20.0, lambda c: c * 2, a))(t),
          lax.while_loop(lambda c: jnp.sum(c) < 20.0, lambda c: c * 2, x))
    _same(wrap(lambda a: lax.cond(a[0, 0] > 0, lambda c: c.clip(0, 1), lambda c: -c, a))(t),
          lax.cond(x[0, 0] > 0, lambda c: c.clip(0, 1), lambda c: -c, x))
    branches = [lambda c: c.var(axis=0), lambda c: c.std(axis=0)]
    _same(wrap(lambda a: lax.switch(1, branches, a))(t), lax.switch(1, branches, x))


@pytest.mark.parametrize("where", ["eager", "tiers.jit", "jax.jit"])
def test_lax_functions_take_tensors(where):
    wrap = {"eager": lambda f: f, "tiers.jit": tiers.jit, "jax.jit": jax.jit}[where]
    t, x = tiers.constant(X), jnp.asarray(X)
    def f(a):
        return (lax.cumsum(a, axis=1), lax.dynamic_slice(a, (1, 0), (1, 2)),
                lax.broadcast_in_dim(a, (2, *a.shape), (1, 2)))  # reads `jax.typeof(a)`

    got, want = wrap(f)(t), f(x)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), w)


def test_jax_typeof_a_tensor():
    """`jax.typeof` of a Tensor is its array's, and a pending lazy value stays pending."""
    t = tiers.constant(X)
    assert jax.typeof(t) == jax.typeof(jnp.asarray(X))
    with tiers.lazy():
        pending = tnp.sin(t) * 2
        assert jax.typeof(pending) == jax.typeof(jnp.sin(jnp.asarray(X)) * 2)
        assert type(pending._value) is LazyValue  # not run by asking its type


def test_methods_inside_traced_code():
    t, x = tiers.constant(X), jnp.asarray(X)

    def f(a):
        return a.at[0, 1].set(9.0).clip(-1.0, 5.0).var(axis=0), a.any(), a.argmax(), a.mT

    for jitted in (jax.jit(f), tiers.jit(f)):
        _same(jitted(t), f(x))
    seen = []

    def g(a):
        seen.append(a)
        return jax.grad(lambda v: (v ** 2).sum())(a)  # JAX code on the traced array

    _same(tiers.jit(g)(t), g(x))
    assert isinstance(seen[0], jax.core.Tracer)  # tiers.jit traces a Tensor as its array


def test_differentiating_tensor_code():
    # Tensor code is differentiated by `tiers.grad` (one eager op) and by JAX's own `jax.grad`
    # (ops on a Tensor under autodiff give arrays, as JAX needs), eagerly or inside `jax.jit`.
    t = tiers.constant(X)

    def loss(v):
        return (v.clip(-2.0, 2.0) ** 2).mean()

    want = jax.grad(loss)(jnp.asarray(X))
    _same(tiers.grad(loss)(t), want)
    _same(jax.jit(tiers.grad(loss))(t), want)
    _same(jax.grad(loss)(t), want)
    _same(jax.jit(jax.grad(loss))(t), want)


def test_methods_in_a_graph():
    with tiers.Graph().as_default():
        p = tiers.placeholder(tiers.float32, (2, 3), name="p")
        y = p.clip(0.0, 2.0).var(axis=0) + p.mT.sum(axis=1)
        with tiers.Session() as sess:
            out = sess.run(y, feed_dict={p: X})
    x = jnp.asarray(X)
    np.testing.assert_allclose(out, x.clip(0.0, 2.0).var(axis=0) + x.mT.sum(axis=1), rtol=1e-6)
