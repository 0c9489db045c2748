"""What the benchmarks share: the end-to-end programs and the first-call timer."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Program = tuple[Callable[..., Any], tuple[Any, ...]]


def normal(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> jax.Array:
    return jnp.asarray(rng.standard_normal(shape).astype(np.float32) * scale)


def mlp_fwd_grad() -> Program:
    rng = np.random.default_rng(0)
    sizes = [64, 128, 128, 10]
    params = [{"w": normal(rng, a, b, scale=a ** -0.5), "b": normal(rng, b, scale=0.1)}
              for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    x, labels = normal(rng, 32, 64), jnp.asarray(rng.integers(0, 10, 32))

    def loss(params: list, x: jax.Array, labels: jax.Array) -> jax.Array:
        for layer in params[:-1]:
            x = jax.nn.gelu(x @ layer["w"] + layer["b"])
        logits = x @ params[-1]["w"] + params[-1]["b"]
        logp = jax.nn.log_softmax(logits)
        return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))

    return jax.value_and_grad(loss), (params, x, labels)


def first_call(jit: Callable[..., Any], make: Callable[[], Program]) -> float:
    """Seconds for trace + compile + run of a fresh function, with JAX's caches cleared."""
    fn, args = make()
    jax.clear_caches()
    gc.collect()
    start = time.perf_counter()
    jax.block_until_ready(jit(fn)(*args))
    return time.perf_counter() - start


def attention() -> Program:
    rng = np.random.default_rng(1)
    q, k, v = (normal(rng, 4, 64, 32) for _ in range(3))

    def fn(q: jax.Array, k: jax.Array, v: jax.Array) -> jax.Array:
        scores = jnp.einsum("bqd,bkd->bqk", q, k) / jnp.sqrt(q.shape[-1])
        mask = jnp.arange(q.shape[1])[:, None] >= jnp.arange(q.shape[1])[None, :]
        scores = jnp.where(mask, scores, -jnp.inf)
        return jnp.einsum("bqk,bkd->bqd", jax.nn.softmax(scores, axis=-1), v)

    return fn, (q, k, v)
