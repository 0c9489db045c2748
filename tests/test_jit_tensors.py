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


def test_tensor_arguments_are_traced_as_their_arrays() -> None:
    seen = []

    def f(x, params):
        seen.extend([x, params["w"]])
        # JAX code that needs arrays: `jax.Array` checks, `jax.grad` of a scalar, a loop cond.
        assert isinstance(x, jax.Array) and isinstance(params["w"], jax.Array)
        g = jax.grad(lambda w: (w * x).sum())(params["w"])
        return jax.lax.while_loop(lambda c: c.sum() < 100.0, lambda c: c * 2, g + 1.0)

    x, w = np.arange(3.0, dtype=np.float32), np.ones(3, np.float32)
    out = tiers.jit(f)(tiers.constant(x), {"w": tiers.constant(w)})
    assert isinstance(out, tiers.Tensor)
    np.testing.assert_allclose(out.numpy(), jax.jit(f)(x, {"w": w}))
    assert all(isinstance(v, jax.core.Tracer) for v in seen)


def test_returned_tensors_are_wrapped_once() -> None:
    t = tiers.constant([1.0, 2.0])
    out = tiers.jit(lambda v: {"same": v, "twice": v * 2, "array": v + 1})(t)
    for value in out.values():
        assert isinstance(value, tiers.Tensor) and isinstance(value.value, jax.Array)
        assert not isinstance(value.value, tiers.Tensor)
    np.testing.assert_allclose(out["twice"].numpy(), [2.0, 4.0])


def test_jax_transformations_of_functions_of_tensors() -> None:
    """Ops on a Tensor traced by `jax.jit` or a loop body give Tensors (a loop carry keeps its
    type); under `jax.grad`/`vmap` they give arrays, as those transformations need."""
    import jax
    import numpy as np

    import tiers

    t = tiers.constant(np.arange(3.0, dtype=np.float32))
    want = 2 * np.arange(3.0)
    np.testing.assert_allclose(np.asarray(jax.grad(lambda v: (v ** 2).sum())(t)), want)
    np.testing.assert_allclose(np.asarray(jax.jit(jax.grad(lambda v: (v ** 2).sum()))(t)), want)
    np.testing.assert_allclose(np.asarray(jax.vmap(lambda v: v * 2)(t)), want)
    loop = jax.lax.fori_loop(0, 3, lambda i, c: c * 2, t)
    assert isinstance(loop, tiers.Tensor)
    np.testing.assert_allclose(loop.numpy(), 8 * np.arange(3.0))
    np.testing.assert_allclose(
        np.asarray(jax.grad(lambda v: jax.lax.fori_loop(0, 3, lambda i, c: c * 2, v).sum())(t)),
        np.full(3, 8.0))
