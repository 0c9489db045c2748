"""What the Array API conformance suite (data-apis/array-api-tests, `make compat`) found in
`tiers.numpy`: indexing elements one by one compiled a kernel per element, and ops with only
empty results crashed in the emitter. Values are compared with `jax.numpy`'s on the same data."""

import jax.numpy as jnp
import numpy as np
import pytest

import tiers
import tiers.numpy as tnp
from tiers.frontend import eager

# Every test runs in immediate and in lazy eager mode (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("eager_mode")

A = np.arange(24, dtype=np.int32).reshape(2, 3, 4) - 7

INDICES = [
    0, 1, -1, -2, 5, -9, 2**31 - 1, -(2**31),  # past the ends: JAX clamps, static or traced
    (1, 2), (1, -1, 3), (-2, 0, -4), (7, -7, 9),
    (1, slice(0, 2)), (slice(None), 2), (Ellipsis, 3), (None, 1, Ellipsis, -1),
    (0, None, slice(1, None, 2), 2), (True, 1), (1, [0, 2]), (np.int32(1), 2), (),
    2**40, (0, 2**33),  # too big for an int32 index: static, as JAX takes them
]


def _outcome(x, index):
    try:
        return np.asarray(x[index])
    except Exception as e:  # noqa: BLE001 - the same error type as JAX's is the check
        return type(e)


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_integer_indices_index_as_jax(index):
    got, want = _outcome(tnp.asarray(A), index), _outcome(jnp.asarray(A), index)
    if isinstance(want, type):
        assert got is want
    else:
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_indexing_an_empty_axis_is_jax_index_error():
    with pytest.raises(IndexError):
        jnp.zeros((0, 3))[0]
    with pytest.raises(IndexError):
        tnp.zeros((0, 3))[0]


@pytest.mark.immediate_only
def test_one_kernel_serves_every_element():
    x, xj = tnp.asarray(A[0] * 3), jnp.asarray(A[0] * 3)
    before = eager.cache_info()["misses"]
    got = [[int(x[i, j]) for j in range(-4, 4)] for i in range(3)]
    assert got == [[int(xj[i, j]) for j in range(-4, 4)] for i in range(3)]
    assert eager.cache_info()["misses"] - before == 1


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 2, 3), (1, 0, 0)])
@pytest.mark.parametrize("dtype", ["bool", "float32", "int8"])
def test_ops_with_only_empty_results(shape, dtype):
    """A zero-size result is computed by JAX directly: there is no value to compile for (and a
    folded zero-size constant is what the emitter cannot write)."""
    for got, want in ((tnp.zeros(shape, dtype), jnp.zeros(shape, dtype)),
                      (tnp.full(shape, 1, dtype), jnp.full(shape, 1, dtype)),
                      (tnp.ones(shape, dtype) + tnp.ones(shape, dtype),
                       jnp.ones(shape, dtype) + jnp.ones(shape, dtype))):
        assert type(got) is tiers.Tensor
        assert got.shape == want.shape and got.dtype == want.dtype
    parts = tnp.unstack(tnp.zeros((2, *shape), dtype))
    assert [(p.shape, p.dtype) for p in parts] == [
        (p.shape, p.dtype) for p in jnp.unstack(jnp.zeros((2, *shape), dtype))]


def test_empty_operands_with_a_nonempty_result():
    x = tnp.concatenate([tnp.zeros((0, 3)), tnp.asarray(A[0, :, :3].astype(np.float32))])
    want = jnp.concatenate([jnp.zeros((0, 3)), jnp.asarray(A[0, :, :3].astype(np.float32))])
    np.testing.assert_array_equal(np.asarray(x), want)
    assert float(tnp.sum(tnp.zeros((4, 0)))) == float(jnp.sum(jnp.zeros((4, 0)))) == 0.0


@pytest.mark.parametrize("source", ["tensor", "numpy", "jax"])
def test_from_dlpack_reads_the_buffer(source):
    """`from_dlpack` (and the other functions that take data in) run directly: a traced value
    has no buffer to hand over."""
    data = A.astype(np.float32)
    x = {"tensor": tnp.asarray(data), "numpy": data, "jax": jnp.asarray(data)}[source]
    got = tnp.from_dlpack(x)
    assert type(got) is tiers.Tensor and got.dtype == jnp.from_dlpack(data).dtype
    np.testing.assert_array_equal(np.asarray(got), jnp.from_dlpack(data))
    np.testing.assert_array_equal(np.asarray(tnp.from_dlpack(x, copy=True)), data)


def test_buffers_and_strings_in():
    raw = np.arange(6, dtype=np.int16).tobytes()
    for got, want in ((tnp.frombuffer(raw, dtype=tnp.int16), jnp.frombuffer(raw, jnp.int16)),
                      (tnp.fromstring("1 2 3", sep=" ", dtype=tnp.float32),
                       jnp.fromstring("1 2 3", sep=" ", dtype=jnp.float32))):
        assert type(got) is tiers.Tensor and got.dtype == want.dtype
        np.testing.assert_array_equal(np.asarray(got), want)
