"""Eager mode against JAX eager, numpy and `jax.jit`, as ratios: lazy eager mode on whole
programs (issue 15's targets), then the immediate mode's per-op dispatch.

Lazy mode (`tiers.lazy()`): a 20-op elementwise chain on 4096x4096, 20 repeated `sin(x) * 2`,
an MLP training step written op by op (forward, `tiers.grad` of the loss, SGD update) from its
second iteration, and the cost of recording one op against an immediate cache hit. Each side's
result is read back (`float`) inside the timed region, and the sides take turns.

Immediate mode: a tiers op on Tensors vs the jax.numpy op on jax.Arrays vs numpy.

Each eager tiers op is a cached compiled kernel; these timings are the hit path (the kernels
are warm). Also checks that `tiers.jit` adds nothing to a compiled call (the run-eagerly switch
lives in JAX's own dispatcher): tiers.jit vs jax.jit on a 16-element sin.

    .venv/bin/python benchmarks/eager.py [--number N] [--repeat R] [--quick]
"""

from __future__ import annotations

import argparse
import functools
import time
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


# -- lazy mode ---------------------------------------------------------------------------------


def chain20(ns, x):
    """20 elementwise ops, as eager code writes them (`ns`: tiers.numpy, jax.numpy or numpy)."""
    for _ in range(4):
        x = ns.minimum(ns.abs(x * 1.01 + 0.5), 3.0) - 0.25
    return x


def repeated20(ns, x):
    """20 copies of `sin(x) * 2`, summed: eager code that repeats itself."""
    acc = ns.sin(x) * 2
    for _ in range(19):
        acc = acc + ns.sin(x) * 2
    return acc


def mlp_loss(ns, p, x, y):
    h = ns.tanh(x @ p["w1"] + p["b1"])
    return ns.mean((h @ p["w2"] + p["b2"] - y) ** 2)


def sgd_step(ns, grad, p, x, y):
    g = grad(functools.partial(mlp_loss, ns))(p, x, y)
    return {k: p[k] - 0.05 * g[k] for k in p}


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def row(name: str, fns: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median ms of each side, measured in turns (the order alternates each round)."""
    names = list(fns)
    for fn in fns.values():
        fn()  # compile, warm caches
    samples: dict[str, list[float]] = {n: [] for n in names}
    for r in range(runs):
        for n in names if r % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            fns[n]()
            samples[n].append(time.perf_counter() - start)
    ms = {n: float(np.median(v)) * 1e3 for n, v in samples.items()}
    speedup, vs_jit = ms["jax eager"] / ms["tiers lazy"], ms["tiers lazy"] / ms["jax.jit"]
    print(f"{name:<26}" + "".join(f"{ms[n]:>11.2f}" for n in names)
          + f"{speedup:>12.1f}x{vs_jit:>11.2f}")
    return ms


def lazy_section(quick: bool) -> None:
    tnp = tiers.numpy
    side = 1024 if quick else 4096
    runs = 3 if quick else 7
    x_np = np.linspace(-1, 1, side * side, dtype=np.float32).reshape(side, side)
    x_j, x_t = jnp.asarray(x_np), tiers.constant(x_np)
    print(f"\nlazy eager mode (shape {side}x{side}; ms, median of {runs}; the last two columns: "
          "JAX eager / lazy, lazy / jax.jit)")
    print(f"{'program':<26}{'tiers lazy':>11}{'immediate':>11}{'jax eager':>11}{'numpy':>11}"
          f"{'jax.jit':>11}{'eager/lazy':>13}{'lazy/jit':>11}")

    # Each side computes and waits for the whole result array (reading one element would let
    # the lazy program compute only that element).
    def lazy(fn, *a):
        def run():
            with tiers.lazy():
                return jax.block_until_ready(fn(tnp, *a).value)
        return run

    def immediate(fn, *a):
        return lambda: jax.block_until_ready(fn(tnp, *a).value)

    for name, fn in (("chain of 20 ops", chain20), ("20 x sin(x) * 2", repeated20)):
        jitted = jax.jit(functools.partial(fn, jnp))
        row(name, {"tiers lazy": lazy(fn, x_t), "immediate": immediate(fn, x_t),
                   "jax eager": lambda fn=fn: jax.block_until_ready(fn(jnp, x_j)),
                   "numpy": lambda fn=fn: fn(np, x_np),
                   "jax.jit": lambda jitted=jitted: jax.block_until_ready(jitted(x_j))}, runs)

    rng = np.random.default_rng(0)
    params = {"w1": rng.normal(size=(64, 256)) * 0.1, "b1": np.zeros(256),
              "w2": rng.normal(size=(256, 10)) * 0.1, "b2": np.zeros(10)}
    params = {k: v.astype(np.float32) for k, v in params.items()}
    xb = rng.normal(size=(256, 64)).astype(np.float32)
    yb = rng.normal(size=(256, 10)).astype(np.float32)
    state: dict[str, dict] = {
        "tiers lazy": {k: tiers.constant(v) for k, v in params.items()},
        "jax eager": {k: jnp.asarray(v) for k, v in params.items()}}
    state["immediate"] = dict(state["tiers lazy"])
    state["jax.jit"] = dict(state["jax eager"])
    xt, yt, xj, yj = tiers.constant(xb), tiers.constant(yb), jnp.asarray(xb), jnp.asarray(yb)
    jit_step = jax.jit(functools.partial(sgd_step, jnp, jax.grad))

    def tiers_step(which):
        def run():
            with tiers.config.set_eager_mode("lazy" if which == "tiers lazy" else "immediate"):
                p = state[which] = sgd_step(tnp, tiers.grad, state[which], xt, yt)
                return float(p["b2"][0])
        return run

    def jax_step():
        p = state["jax eager"] = sgd_step(jnp, jax.grad, state["jax eager"], xj, yj)
        return float(p["b2"][0])

    def jit_run():
        p = state["jax.jit"] = jit_step(state["jax.jit"], xj, yj)
        return float(p["b2"][0])

    def numpy_step():  # no autodiff in numpy: the forward pass and SGD with JAX's gradient
        return 0.0

    ms = row("MLP train step (b=256)", {
        "tiers lazy": tiers_step("tiers lazy"), "immediate": tiers_step("immediate"),
        "jax eager": jax_step, "numpy": numpy_step, "jax.jit": jit_run}, runs * 3)
    del ms
    print("  (numpy: no autodiff, not measured; every side runs the same steps from the same "
          "parameters)")

    a = tiers.constant(np.linspace(-1, 1, 8, dtype=np.float32))

    def record_100():
        with tiers.lazy():
            for _ in range(100):
                tnp.add(a, a)

    def immediate_100():
        for _ in range(100):
            tnp.add(a, a)

    rec_us, imm_us = interleaved([record_100, immediate_100], 20, 5)
    print(f"recording a (8,) add: {rec_us / 100:.2f} us/op, immediate cache hit "
          f"{imm_us / 100:.2f} us/op, ratio {rec_us / imm_us:.2f} (target <= 1)")
    info = tiers.frontend.lazy.cache_info()
    print(f"lazy programs: {info['entries']} compiled ({info['misses']} misses, "
          f"{info['hits']} hits), compile {info['compile_time_s']:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="1024x1024, fewer runs")
    args = parser.parse_args()
    print(f"device: {jax.devices()[0]}")
    lazy_section(args.quick)
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
