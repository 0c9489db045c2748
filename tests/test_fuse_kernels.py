"""Fusion seen from the JAX target's kernels mode: each `fused.kernel` is compiled as its own
XLA executable, so what `fuse` grouped is countable (kernels, launches, ops per kernel), and
the numbers must still be those of graph mode and of `jax.jit` on the original function.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from xdsl.dialects.builtin import ModuleOp

from tiers import pipeline as pipeline_api
from tiers.dialects import fused, lax
from tiers.frontend.importer import import_jaxpr
from tiers.pipeline.context import make_context
from tiers.targets import jax as jax_target
from tiers.targets.walk import find_function

CTX = make_context()
# O2's passes up to fusion, named one by one: a preset may gain passes (raising softmax to one
# `array` op, say) that would leave nothing to fuse here.
FUSE = "inline,canonicalize,fold-constants,cse,dce,fuse"


def optimized(fn: Callable[..., Any], *args: Any, pipeline: str = FUSE) -> ModuleOp:
    module = import_jaxpr(jax.make_jaxpr(fn)(*args), "main")
    pipeline_api.compile(module, pipeline, ctx=CTX)  # verified
    return module


def main_ops(module: ModuleOp) -> list:
    """The ops of @main outside kernels (terminator excluded)."""
    return list(find_function(module, "main").body.block.ops)[:-1]


def unary_chain(n: int) -> Callable[[jax.Array], jax.Array]:
    """n elementwise ops, no constants: sin, cos, tanh, neg in turn."""
    ops = (jnp.sin, jnp.cos, jnp.tanh, jnp.negative)

    def fn(x: jax.Array) -> jax.Array:
        for i in range(n):
            x = ops[i % len(ops)](x)
        return x

    return fn


def literal_chain(n: int) -> Callable[[jax.Array], jax.Array]:
    """n elementwise ops with literals, as users write them: sin, * 1.0001, + 0.5 in turn."""

    def fn(x: jax.Array) -> jax.Array:
        for i in range(n):
            x = jnp.sin(x) if i % 3 == 0 else x * 1.0001 if i % 3 == 1 else x + 0.5
        return x

    return fn


def same_numbers(module: ModuleOp, fn: Callable[..., Any], *args: Any) -> Any:
    """Kernels mode == graph mode == jax.jit(fn); returns the kernels-mode program."""
    program = jax_target.compile(module, mode="kernels")
    got = program(*args)
    graph = jax_target.compile(module)(*args)
    want = jax.jit(fn)(*args)
    want = list(want) if isinstance(want, tuple | list) else [want]
    for k, g, w in zip(got, graph, want, strict=True):
        np.testing.assert_allclose(np.asarray(k), np.asarray(g), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(np.asarray(k), np.asarray(w), rtol=1e-5, atol=1e-6)
    return program


X = jnp.linspace(-1.0, 1.0, 64, dtype=jnp.float32).reshape(8, 8)


@pytest.mark.parametrize("chain", [unary_chain, literal_chain])
def test_chain_of_50_is_one_kernel(chain: Callable[[int], Any]) -> None:
    fn = chain(50)
    module = optimized(fn, X)
    assert [type(op) for op in main_ops(module)] == [fused.KernelOp]
    program = same_numbers(module, fn, X)
    assert program.kernels == 1 and program.launches == 1
    # 50 ops, plus the literals' constants cloned into the kernel
    [ops] = program.ops_per_kernel()
    assert 50 <= ops <= 53, ops
    same_numbers(module, fn, X)  # a second call reuses the compiled kernel
    assert program.kernels == 1


@pytest.mark.parametrize("n", [50, 95, 100])
@pytest.mark.parametrize("chain", [unary_chain, literal_chain])
def test_max_ops_splits_a_chain(chain: Callable[[int], Any], n: int) -> None:
    fn = chain(n)
    module = optimized(fn, X, pipeline=FUSE + "{max-ops=10}")
    # every op of the chain is in a kernel: none is left between two full kernels
    assert all(isinstance(op, fused.KernelOp | lax.ConstantOp) for op in main_ops(module))
    program = same_numbers(module, fn, X)
    assert program.kernels == program.launches == math.ceil(n / 10)
    members = [sum(not isinstance(op, lax.ConstantOp | fused.YieldOp)
                   for op in k.body.block.ops) for k in main_ops(module)
               if isinstance(k, fused.KernelOp)]
    assert members == [10] * (n // 10) + ([n % 10] if n % 10 else [])


def test_softmax_fuses_elementwise_into_reductions() -> None:
    fn = jax.nn.softmax
    module = optimized(fn, X)
    ops = main_ops(module)
    # the max reduction reads the input directly (nothing to fuse into it); the subtraction
    # and exp fuse into the sum; the division is the last kernel
    assert [type(op) for op in ops] == [lax.ReduceMaxOp, fused.KernelOp, fused.KernelOp]
    first, second = (list(k.body.block.ops) for k in ops[1:])
    assert isinstance(first[-2], lax.ReduceSumOp)
    assert any(isinstance(op, lax.ExpOp) for op in first)
    assert isinstance(second[-2], lax.DivOp)
    assert len(ops[1].results) == 2  # exp (for the division) and the sum
    program = same_numbers(module, fn, X)
    assert program.kernels == 2 and program.launches == 2


def test_layer_norm_kernels() -> None:
    def fn(x: jax.Array) -> jax.Array:
        mean = jnp.mean(x, axis=-1, keepdims=True)
        var = jnp.mean((x - mean) ** 2, axis=-1, keepdims=True)
        return (x - mean) * jax.lax.rsqrt(var + 1e-5)

    module = optimized(fn, X)
    ops = main_ops(module)
    # the mean's sum reads the input (alone); mean, x - mean and the square fuse into the
    # variance's sum, which also yields x - mean; the rest is one elementwise kernel
    assert [type(op) for op in ops] == [lax.ReduceSumOp, fused.KernelOp, fused.KernelOp]
    assert isinstance(list(ops[1].body.block.ops)[-2], lax.ReduceSumOp)
    assert not any(isinstance(o, lax.ReduceOp) for o in ops[2].body.block.ops)
    program = same_numbers(module, fn, X)
    assert program.kernels == program.launches == 2


def test_unfused_program_has_no_kernels() -> None:
    fn = unary_chain(20)
    module = optimized(fn, X, pipeline="O1")
    program = same_numbers(module, fn, X)
    assert program.kernels == program.launches == 0 and program.ops_per_kernel() == []
