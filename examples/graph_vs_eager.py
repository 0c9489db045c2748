"""The two programming models on one IR stack: TF1-style graphs and eager ops.

The seed example first (5 + 3 = 8 three ways), then a real workload timed in eager mode,
graph mode (Session) and under jax.jit, with the op count before and after optimization.
"""

import time

import jax
import numpy as np

import tiers


def seed_graph() -> int:
    """TF1: build the graph, then run it in a Session."""
    with tiers.Graph().as_default():
        a = tiers.constant(5)
        b = tiers.constant(3)
        c = tiers.add(a, b)
        with tiers.Session() as sess:
            return int(sess.run(c))


def seed_eager() -> int:
    """TF2/JAX: the same three lines run at once."""
    a = tiers.constant(5)
    b = tiers.constant(3)
    c = tiers.add(a, b)
    return int(c.numpy())


@tiers.jit
def add(a, b):
    return tiers.add(a, b)


def seed_run_eagerly() -> int:
    """A decorated function, run op by op for debugging."""
    with tiers.config.run_functions_eagerly(True):
        return int(add(tiers.constant(5), tiers.constant(3)))


def mlp(x, w1, w2):
    h = tiers.nn.gelu(tiers.matmul(x, w1))
    return tiers.nn.softmax(tiers.matmul(h, w2), axis=-1)


def _per_call(fn, *args, repeat: int = 50) -> float:
    jax.block_until_ready(fn(*args))
    start = time.perf_counter()
    for _ in range(repeat):
        jax.block_until_ready(fn(*args))
    return (time.perf_counter() - start) / repeat


def workload() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 32), np.float32)
    w1 = rng.standard_normal((32, 64), np.float32) * 0.1
    w2 = rng.standard_normal((64, 10), np.float32) * 0.1

    eager_args = [tiers.constant(v) for v in (x, w1, w2)]
    with tiers.Graph().as_default() as g:
        px = tiers.placeholder(tiers.float32, (None, 32), name="x")
        out = mlp(px, tiers.constant(w1), tiers.constant(w2))
    sess = tiers.Session(g)
    jitted = jax.jit(lambda x, w1, w2: jax.nn.softmax(jax.nn.gelu(x @ w1) @ w2, axis=-1))

    np.testing.assert_allclose(sess.run(out, {px: x}), mlp(*eager_args).numpy(), rtol=1e-5)
    np.testing.assert_allclose(sess.run(out, {px: x}), jitted(x, w1, w2), rtol=1e-5)
    imported = tiers.jit(mlp, pipeline="O0").lower(x, w1, w2).as_text("import")
    optimized = tiers.jit(mlp).lower(x, w1, w2).as_text("optimized")
    count = lambda text: sum(1 for line in text.splitlines() if " = " in line)  # noqa: E731
    print(f"ops after import: {count(imported)}, after the default pipeline: {count(optimized)}")
    eager_s = _per_call(mlp, *eager_args)
    graph_s = _per_call(lambda: sess.run(out, {px: x}))
    jax_s = _per_call(jitted, x, w1, w2)
    print(f"per call: eager {eager_s * 1e6:.0f} us, graph (Session) {graph_s * 1e6:.0f} us, "
          f"jax.jit {jax_s * 1e6:.0f} us")


def main() -> None:
    print("graph:", seed_graph())
    print("eager:", seed_eager())
    print("run_functions_eagerly:", seed_run_eagerly())
    workload()


if __name__ == "__main__":
    main()
