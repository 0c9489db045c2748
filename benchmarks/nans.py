"""What NaN checking costs (`tiers.config.check_nans`, JAX's `jax_debug_nans`), as ratios.

- a run that sees no NaN: a compiled call with the check on against the same call with it off,
  for `tiers.jit` and, side by side, for `jax.jit` (the check reads every output back);
- finding the op: seconds from the call to the `FloatingPointError` naming the first bad op of
  a 1000-op program (the compiled run, JAX's op-by-op re-run of the Python, tiers' walk of its
  IR), against the compiled call alone.
Each pair takes turns, checked first on even repeats and unchecked first on odd ones.

    python benchmarks/nans.py [--quick]
"""

from __future__ import annotations

import argparse
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


def _chain(n: int) -> Callable[[jax.Array], jax.Array]:
    def fn(x: jax.Array) -> jax.Array:
        for _ in range(n):
            x = jnp.sin(x) + 0.5
        return x
    return fn


def _planted(x: jax.Array, shift: jax.Array) -> jax.Array:
    """1000 ops; op 700 is a sqrt of a negative number when `shift` is 10."""
    for i in range(1000):
        x = jnp.sqrt(x + 0.5 - shift) if i == 700 else jnp.sin(x) + 0.5
    return x


def _per_call(fn: Callable[..., Any], args: tuple, calls: int) -> float:
    jax.block_until_ready(fn(*args))  # compiled (under the current check setting)
    start = time.perf_counter()
    for _ in range(calls):
        jax.block_until_ready(fn(*args))
    return (time.perf_counter() - start) / calls


def clean_run(jit: Callable[..., Any], fn: Callable[..., Any], args: tuple, repeats: int,
              calls: int) -> float:
    """Median of (checked / unchecked) seconds per call."""
    compiled = jit(fn)
    ratios = []
    for r in range(repeats):
        times = {}
        for checked in ((True, False) if r % 2 == 0 else (False, True)):
            with tiers.config.check_nans(checked):
                times[checked] = _per_call(compiled, args, calls)
        ratios.append(times[True] / times[False])
    return statistics.median(ratios)


def finding(repeats: int) -> tuple[float, float]:
    """Median seconds to the error naming op 700 of 1000, and of the same call unchecked."""
    x, good, bad = jnp.ones(256), jnp.float32(0.0), jnp.float32(10.0)
    found, plain = [], []
    for _ in range(repeats):
        f = tiers.jit(_planted)
        jax.block_until_ready(f(x, bad))
        start = time.perf_counter()
        jax.block_until_ready(f(x, bad))
        plain.append(time.perf_counter() - start)
        with tiers.config.check_nans():
            jax.block_until_ready(f(x, good))  # compiled under the check, no NaN
            start = time.perf_counter()
            try:
                f(x, bad)  # sqrt of a negative: NaN
            except FloatingPointError as e:
                assert "lax.sqrt" in "\n".join(getattr(e, "__notes__", []))
            found.append(time.perf_counter() - start)
    return statistics.median(found), statistics.median(plain)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    quick = parser.parse_args().quick
    repeats, calls = (3, 20) if quick else (7, 100)
    mlp, mlp_args = mlp_fwd_grad()
    att, att_args = attention()
    programs = {"mlp fwd+grad": (mlp, mlp_args), "attention": (att, att_args),
                "chain 1000": (_chain(1000), (jnp.ones(256),))}
    print("a run that sees no NaN: checked / unchecked, per call (median of "
          f"{repeats} alternating repeats of {calls} calls)")
    print(f"{'program':<16}{'tiers.jit':>12}{'jax.jit':>12}")
    for name, (fn, args) in programs.items():
        ours = clean_run(tiers.jit, fn, args, repeats, calls)
        theirs = clean_run(jax.jit, fn, args, repeats, calls)
        print(f"{name:<16}{ours:>11.2f}x{theirs:>11.2f}x")
    found, plain = finding(max(1, repeats // 2))
    print(f"\nfinding op 700 of 1000: {found * 1e3:.0f} ms to the error "
          f"({found / plain:.0f}x the unchecked call, {plain * 1e3:.2f} ms)")


if __name__ == "__main__":
    main()
