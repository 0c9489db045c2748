import jax
import jax.numpy as jnp
import numpy as np

import tiers


def test_mlp_softmax_matches_jax():
    def f(x, w):
        return jax.nn.softmax(jax.nn.gelu(x @ w), axis=-1).sum(0)

    x = jnp.ones((4, 8))
    w = jnp.arange(64.0).reshape(8, 8) / 64
    np.testing.assert_allclose(tiers.jit(f)(x, w), jax.jit(f)(x, w), rtol=1e-6)
