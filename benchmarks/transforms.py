"""JAX's transformations around `tiers.jit` against the same around `jax.jit`, as ratios.

`jax.grad(tiers.jit(f))` compiles two tiers programs (the forward pass with its residuals,
the backward pass), each after JAX has transformed the user's jaxpr (frontend/call.py). This
measures what that costs:
- first call: `jax.grad` (or `vmap`) of a fresh compiled function, JAX's caches cleared;
- eager call: the same transformed function called again (JAX re-applies the transformation
  on each call, then hits its compile caches);
- steady call: `jax.jit(jax.grad(compiled))`, so only the executables run.
Each pair takes turns, tiers first on even repeats and JAX first on odd ones.

    python benchmarks/transforms.py [--quick]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from programs import attention, mlp_fwd_grad  # noqa: E402

import tiers  # noqa: E402

Make = Callable[[], tuple[Callable[..., Any], tuple[Any, ...]]]


def _mlp_loss() -> tuple[Callable[..., Any], tuple[Any, ...]]:
    value_and_grad, args = mlp_fwd_grad()
    return value_and_grad.__wrapped__, args  # the loss itself, not its value_and_grad


def _attention_sum() -> tuple[Callable[..., Any], tuple[Any, ...]]:
    fn, args = attention()
    return (lambda q, k, v: jnp.sum(fn(q, k, v) ** 2)), args


def _chain(n: int) -> Make:
    def make() -> tuple[Callable[..., Any], tuple[Any, ...]]:
        def fn(x: jax.Array) -> jax.Array:
            for i in range(n // 2):
                x = jnp.sin(x) * (1.0 + 1e-3 * i)
            return jnp.sum(x)
        return fn, (jnp.linspace(0.0, 1.0, 256),)
    return make


PROGRAMS: dict[str, Make] = {"mlp loss": _mlp_loss, "attention": _attention_sum,
                             "chain 300": _chain(300)}
TRANSFORMS: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "grad": jax.grad,
    "vmap": lambda f: jax.vmap(f, in_axes=0),
}


def _batched(args: tuple[Any, ...]) -> tuple[Any, ...]:
    def two(a: jax.Array) -> jax.Array:
        return jnp.stack([a, a * 0.5 if jnp.issubdtype(a.dtype, jnp.floating) else a])

    return tuple(jax.tree_util.tree_map(two, args))


def _args_for(transform: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    return _batched(args) if transform == "vmap" else args


def first(jit: Callable[..., Any], transform: str, make: Make) -> float:
    fn, args = make()
    args = _args_for(transform, args)
    jax.clear_caches()
    gc.collect()
    start = time.perf_counter()
    jax.block_until_ready(TRANSFORMS[transform](jit(fn))(*args))
    return time.perf_counter() - start


def repeated(fns: list[Callable[..., Any]], args: tuple[Any, ...], calls: int) -> list[float]:
    for f in fns:
        for _ in range(3):
            jax.block_until_ready(f(*args))
    times: list[list[float]] = [[] for _ in fns]
    for k in range(calls):
        order = range(len(fns)) if k % 2 == 0 else reversed(range(len(fns)))
        for i in order:
            start = time.perf_counter()
            jax.block_until_ready(fns[i](*args))
            times[i].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    opts = parser.parse_args()
    repeats, calls = (1, 10) if opts.quick else (5, 100)
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; medians of {repeats} first "
          f"calls and {calls} later calls; ratio = tiers / jax\n")
    head = (f"{'program':<12} {'transform':<9} {'1st tiers ms':>12} {'1st jax ms':>10} "
            f"{'ratio':>6} {'eager ratio':>11} {'steady ratio':>12}")
    print(head)
    print("-" * len(head))
    for name, make in PROGRAMS.items():
        for transform, apply in TRANSFORMS.items():
            t_first, j_first = [], []
            for r in range(repeats):
                pair = [(t_first, tiers.jit), (j_first, jax.jit)]
                for times, jit in pair if r % 2 == 0 else reversed(pair):
                    times.append(first(jit, transform, make))
            fn, args = make()
            args = _args_for(transform, args)
            eager = repeated([apply(tiers.jit(fn)), apply(jax.jit(fn))], args, calls)
            steady = repeated([jax.jit(apply(tiers.jit(fn))), jax.jit(apply(jax.jit(fn)))],
                              args, calls)
            tf, jf = statistics.median(t_first), statistics.median(j_first)
            print(f"{name:<12} {transform:<9} {tf * 1e3:12.1f} {jf * 1e3:10.1f} {tf / jf:6.2f} "
                  f"{eager[0] / eager[1]:11.2f} {steady[0] / steady[1]:12.2f}", flush=True)


if __name__ == "__main__":
    main()
