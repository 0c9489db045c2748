"""tiers in one screen: a Python function, its tiers IR, its result through XLA vs jax.jit."""

import jax
import jax.numpy as jnp
import numpy as np

import tiers


def predict(params, x):
    """A two-layer perceptron with a softmax head."""
    h = jax.nn.relu(x @ params["w1"] + params["b1"])
    return jax.nn.softmax(h @ params["w2"], axis=-1)


def main() -> None:
    key1, key2, key3 = jax.random.split(jax.random.key(0), 3)
    params = {
        "w1": jax.random.normal(key1, (4, 8)) * 0.5,
        "b1": jnp.zeros(8),
        "w2": jax.random.normal(key2, (8, 3)) * 0.5,
    }
    x = jax.random.normal(key3, (2, 4))

    fast = tiers.jit(predict)
    lowered = fast.lower(params, x)
    print("== tiers IR after import (jaxpr -> lax dialect) ==")
    print(lowered.as_text("import"))
    print("== after the default pipeline (inline, canonicalize, cse, dce) ==")
    print(lowered.as_text("optimized"))

    ours = np.asarray(fast(params, x))
    theirs = np.asarray(jax.jit(predict)(params, x))
    print("== result through XLA ==")
    print(ours)
    print("max |tiers - jax.jit| =", float(np.max(np.abs(ours - theirs))))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)

    grad = tiers.jit(jax.grad(lambda p, x: predict(p, x)[:, 0].sum()))
    print("== jax.grad through tiers: d/dw2 ==")
    print(np.asarray(grad(params, x)["w2"]))


if __name__ == "__main__":
    main()
