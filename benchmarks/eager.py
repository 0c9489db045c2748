"""Eager dispatch: a tiers op on Tensors vs the jax.numpy op on jax.Arrays vs numpy, as ratios.

Each eager tiers op is a cached compiled kernel; these timings are the hit path (the kernels
are warm). Also checks that `tiers.jit` adds nothing to a compiled call (the run-eagerly switch
lives in JAX's own dispatcher): tiers.jit vs jax.jit on a 16-element sin.

    .venv/bin/python benchmarks/eager.py [--number N] [--repeat R]
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

import tiers


def best_us(fn: Callable[[], object], number: int, repeat: int) -> float:
    """The best of `repeat` timings of `number` calls, in microseconds per call."""
    fn()
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def interleaved(fns: list[Callable[[], object]], number: int, repeat: int) -> list[float]:
    """Best times of several functions measured in turns, so load changes hit all alike."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            best[i] = min(best[i], best_us(fn, number, 1))
    return best


def cases(shape: tuple[int, ...]) -> list[tuple[str, Callable, Callable, Callable]]:
    x = np.linspace(-1, 1, int(np.prod(shape)), dtype=np.float32).reshape(shape)
    t, j = tiers.constant(x), jnp.asarray(x)
    tnp = tiers.numpy
    return [
        ("add", lambda: tnp.add(t, t), lambda: jnp.add(j, j), lambda: np.add(x, x)),
        ("sin", lambda: tnp.sin(t), lambda: jnp.sin(j), lambda: np.sin(x)),
        ("matmul", lambda: t @ t.T, lambda: j @ j.T, lambda: x @ x.T),
        ("x * 2.0", lambda: t * 2.0, lambda: j * 2.0, lambda: x * 2.0),
        ("sum(axis=0)", lambda: tnp.sum(t, axis=0), lambda: jnp.sum(j, axis=0),
         lambda: np.sum(x, axis=0)),
        ("x[1:]", lambda: t[1:], lambda: j[1:], lambda: x[1:]),
        ("softmax", lambda: tiers.nn.softmax(t), lambda: jax.nn.softmax(j),
         lambda: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
    ]


def repeated(x):
    """A program with repeated subexpressions, as eager code often is."""
    tnp = tiers.numpy
    y = x
    for _ in range(10):
        y = tnp.sin(y) * tnp.cos(y) + tnp.sin(y) * tnp.cos(y)
    return y


def replay_vs_op_by_op(number: int, repeat: int) -> None:
    x = tiers.constant(np.linspace(0, 1, 64, dtype=np.float32))
    with tiers.record() as rec:
        y = repeated(x)
    replay = rec.function(inputs=[x], outputs=[y])
    np.testing.assert_allclose(np.asarray(replay(x)[0]), y.numpy(), rtol=1e-6)
    eager_us, replay_us = interleaved([lambda: repeated(x), lambda: replay(x)],
                                      max(1, number // 50), repeat)
    print(f"\nrecorded program with repeated subexpressions (80 ops): op by op {eager_us:.1f} us,"
          f" compiled replay {replay_us:.1f} us, ratio replay/eager {replay_us / eager_us:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(f"device: {jax.devices()[0]}")
    for shape in ((8,), (256, 256)):
        print(f"\n{'op':<14}{'tiers us':>10}{'jnp us':>10}{'numpy us':>10}"
              f"{'tiers/jnp':>11}{'tiers/np':>10}   (shape {shape})")
        for name, t_fn, j_fn, n_fn in cases(shape):
            t_us, j_us, n_us = interleaved([t_fn, j_fn, n_fn], args.number, args.repeat)
            print(f"{name:<14}{t_us:>10.2f}{j_us:>10.2f}{n_us:>10.2f}"
                  f"{t_us / j_us:>11.2f}{t_us / n_us:>10.1f}")
    replay_vs_op_by_op(args.number, args.repeat)
    info = tiers.eager.cache_info()
    print(f"\neager cache: {info['entries']} kernels, {info['misses']} misses, "
          f"{info['hits']} hits, compile {info['compile_time_s']:.2f} s")

    x = jnp.linspace(0, 1, 16)
    tj, jj = tiers.jit(jnp.sin), jax.jit(jnp.sin)
    ratios = []
    for _ in range(5):
        t_us, j_us = interleaved([lambda: tj(x), lambda: jj(x)], args.number * 5, args.repeat)
        ratios.append(t_us / j_us)
    print(f"\ncompiled call, 16-element sin: tiers.jit {t_us:.2f} us, jax.jit {j_us:.2f} us, "
          f"ratio {np.median(ratios):.3f} (median of 5; <= 1.02 expected)")


if __name__ == "__main__":
    main()
