"""What loop optimizations buy: `licm` and dead-carry elimination on loops traced from JAX.

    python benchmarks/control_flow.py [--quick]

Programs whose loop bodies recompute something loop-invariant (a matmul of two captured
matrices and its `exp`; `sin` of a big captured array) and carry a value nothing reads (an
accumulator, per-step outputs). For each:
(a) op counts of the imported IR and after O2: all ops, ops inside loop bodies, carried values
    and scan outputs;
(b) steady-state time of one call of `tiers.jit` with O0 and with O2 and of `jax.jit`, as
    ratios. XLA runs its own while-loop simplifier (dead tuple elements) and loop-invariant
    code motion on both tiers' and JAX's programs, so on XLA the passes mostly save XLA that
    work: the numbers say how much is left;
(c) the same IR, imported and after O2, on the reference target (a numpy interpreter with no
    optimizer of its own): what the passes remove when nothing downstream does.
Takes about a minute (`--quick`: smaller sizes and fewer repeats, ~20 s).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax as jlax
from xdsl.dialects.builtin import ModuleOp

import tiers
from tiers import pipeline
from tiers.dialects import lax
from tiers.frontend.importer import import_jaxpr
from tiers.pipeline.context import make_context
from tiers.targets import reference

CTX = make_context()


def fori_matmul(a: jax.Array, b: jax.Array, y: jax.Array) -> jax.Array:
    """100 steps of y <- tanh(y @ exp(a @ b / n)), with a dead accumulator of |y|^2."""
    def body(i: jax.Array, c: tuple) -> tuple:
        y, acc = c
        m = jnp.exp(a @ b / a.shape[0])  # invariant: a, b are captured
        y = jnp.tanh(y @ m)
        return y, acc + jnp.sum(jnp.exp(y) @ m)  # acc: carried, never read
    return jlax.fori_loop(0, 100, body, (y, jnp.float32(0)))[0]


def scan_sin(big: jax.Array, h0: jax.Array, xs: jax.Array) -> jax.Array:
    """A scan adding a reduction of sin(big) each step, with per-step outputs never used."""
    def body(h: jax.Array, x: jax.Array) -> tuple:
        s = jnp.sum(jnp.sin(big), axis=0)  # invariant
        h2 = jnp.tanh(h * 0.9 + x + s * 1e-3)
        return h2, (jnp.cumsum(h2), jnp.exp(h2))  # ys: stacked, never read
    return jlax.scan(body, h0, xs)[0]


def programs(quick: bool) -> dict[str, tuple[Callable[..., Any], tuple[Any, ...]]]:
    rng = np.random.default_rng(0)
    n, rows, steps = (128, 1024, 64) if quick else (256, 4096, 128)

    def f32(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(np.float32)
    return {
        f"fori_loop matmul {n}x{n}": (fori_matmul, (f32(n, n), f32(n, n), f32(8, n))),
        f"scan sin {rows}x{n}": (scan_sin, (f32(rows, n), f32(n), f32(steps, n))),
    }


def counts(module: ModuleOp) -> dict[str, int]:
    """All ops, ops inside loop regions, carried values and scan outputs of `module`."""
    loops = [op for op in module.walk() if isinstance(op, lax.WhileOp | lax.ScanOp)]
    tops = [op for op in loops if not any(o.is_ancestor(op) for o in loops if o is not op)]
    return {
        "ops": sum(1 for _ in module.walk()) - 1,
        "in loops": sum(1 for loop in tops for r in loop.regions for _ in r.walk()),
        "carried": sum(len(op.init) for op in loops),  # type: ignore[attr-defined]
        "ys": sum(len(op.ys) for op in loops if isinstance(op, lax.ScanOp)),
    }


def steady(fns: list[Callable[..., Any]], args: tuple[Any, ...], repeats: int) -> list[float]:
    """Seconds per call of each of `fns` after warm-up (results waited for): the median of
    `repeats` samples, each timing enough calls back to back to last ~20 ms. Samples of the
    functions alternate, so a busy machine slows them alike and the ratios hold."""
    calls = []
    for fn in fns:
        jax.block_until_ready(fn(*args))
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        calls.append(max(1, int(0.02 / max(time.perf_counter() - start, 1e-6))))
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, n, samples in zip(fns, calls, times, strict=True):
            start = time.perf_counter()
            for _ in range(n):
                jax.block_until_ready(fn(*args))
            samples.append((time.perf_counter() - start) / n)
    return [statistics.median(samples) for samples in times]


def interpreted(module: ModuleOp) -> Callable[..., Any]:
    """`module` as a function on the reference target."""
    return lambda *args: reference.run(module, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    opts = parser.parse_args()
    repeats = 5 if opts.quick else 11
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; steady state = median of "
          f"{repeats} samples\n")
    print("(a) op counts, imported -> O2")
    rows, on_reference = [], []
    for name, (fn, args) in programs(opts.quick).items():
        module = import_jaxpr(jax.make_jaxpr(fn)(*args), "main")
        before = counts(module)
        imported = import_jaxpr(jax.make_jaxpr(fn)(*args), "main")
        pipeline.compile(module, "O2", ctx=CTX, verify=False)
        module.verify()
        after = counts(module)
        on_reference.append((name, *steady([interpreted(imported), interpreted(module)],
                                           args, 3)))
        print(f"  {name:24s} " + "  ".join(f"{k} {before[k]} -> {after[k]}" for k in before))
        o0, o2, ref = (tiers.jit(fn, pipeline="O0"), tiers.jit(fn, pipeline="O2"),
                       jax.jit(fn))
        want = np.asarray(ref(*args))
        for f in (o0, o2):
            np.testing.assert_allclose(np.asarray(f(*args)), want, rtol=1e-4, atol=1e-4)
        rows.append((name, *steady([o0, o2, ref], args, repeats)))
    print("\n(b) steady-state call, ratios to jax.jit (lower is better)")
    print(f"  {'program':24s} {'jax ms':>8s} {'O0/jax':>7s} {'O2/jax':>7s} {'O0/O2':>7s}")
    for name, t0, t2, tj in rows:
        print(f"  {name:24s} {tj * 1e3:8.3f} {t0 / tj:7.2f} {t2 / tj:7.2f} {t0 / t2:7.2f}")
    print("\n(c) reference target (numpy interpreter), imported vs O2, median of 3 samples")
    print(f"  {'program':24s} {'O2 ms':>8s} {'imported/O2':>12s}")
    for name, t_in, t_o2 in on_reference:
        print(f"  {name:24s} {t_o2 * 1e3:8.2f} {t_in / t_o2:12.2f}")


if __name__ == "__main__":
    main()
