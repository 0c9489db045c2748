"""tiers.jit with tiers Tensors: Tensors in, Tensors out; plain arrays in, arrays out."""

import jax
import jax.numpy as jnp
import numpy as np

import tiers


def test_tensors_in_tensors_out_with_pytrees() -> None:
    f = tiers.jit(lambda x, y: {"s": x + y, "p": (x * y, None)})
    out = f(tiers.constant([1.0, 2.0]), 3.0)
    assert isinstance(out["s"], tiers.Tensor) and isinstance(out["p"][0], tiers.Tensor)
    np.testing.assert_allclose(out["s"].numpy(), [4.0, 5.0])
    np.testing.assert_allclose(out["p"][0].numpy(), [3.0, 6.0])
    assert out["p"][1] is None


def test_arrays_in_arrays_out_like_jax_jit() -> None:
    f = tiers.jit(lambda x: x * 2)
    out = f(jnp.ones(3))
    assert isinstance(out, jax.Array) and not isinstance(out, tiers.Tensor)
    assert isinstance(f(tiers.ones(3)), tiers.Tensor)
    np.testing.assert_allclose(f(np.arange(3.0)), [0.0, 2.0, 4.0])
