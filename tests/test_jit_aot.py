"""`tiers.jit`'s ahead-of-time stages are JAX's: `trace`, `lower`, `compile` and `eval_shape`
give `jax.stages` objects that answer as `jax.jit`'s do for the same function, and run to the
same numbers; tiers' IR stages ride on them."""

import functools
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P
from xdsl.dialects.builtin import ModuleOp

import tiers

X = jnp.linspace(-1.0, 1.0, 12, dtype=jnp.float32).reshape(3, 4)
W = jnp.linspace(0.5, 2.0, 8, dtype=jnp.float32).reshape(4, 2)


def same(got: Any, want: Any) -> None:
    assert jax.tree_util.tree_structure(got) == jax.tree_util.tree_structure(want)
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want), strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-6, atol=1e-6)


def layer(x, p, *, scale=2.0):
    return {"y": jnp.tanh(x @ p["w"]) * scale, "n": jnp.sum(x), "x": x * scale}


def matmul(x, w):
    return jnp.sin(x) @ w + 1


# (function, jit options, positional arguments, keyword arguments)
CASES = {
    "matmul": (matmul, {}, (X, W), {}),
    "pytrees, static, donated": (layer, {"static_argnames": "scale", "donate_argnums": 0},
                                 (X, {"w": W}), {"scale": 3.0}),
    "by name": (layer, {}, (), {"x": X, "p": {"w": W}}),
}


def lowered_pair(case: str) -> tuple[Any, Any, tuple, dict]:
    fn, options, args, kwargs = CASES[case]
    return (tiers.jit(fn, **options).lower(*args, **kwargs),
            jax.jit(fn, **options).lower(*args, **kwargs), args, kwargs)


def main_signature(text: str) -> str:
    return next(line for line in text.splitlines() if "func.func public @main" in line)


@pytest.mark.parametrize("case", CASES)
def test_lowered_is_jaxs_and_describes_the_call_as_jax_does(case: str) -> None:
    ours, theirs, _, _ = lowered_pair(case)
    assert isinstance(ours, jax.stages.Lowered)
    assert ours.in_tree == theirs.in_tree
    assert ours.out_tree == theirs.out_tree
    assert ours.out_info == theirs.out_info
    assert ours.in_avals == theirs.in_avals
    assert ours.args_info == theirs.args_info  # shapes, dtypes and donation
    # The StableHLO module XLA compiles: named and typed as jax.jit's.
    text, want = ours.as_text(), theirs.as_text()
    assert text.splitlines()[0] == want.splitlines()[0]  # module @jit_<name> attributes ...
    assert main_signature(text) == main_signature(want)
    assert ours.as_text("stablehlo") == text
    assert ours.as_text("hlo").splitlines()[0] == theirs.as_text("hlo").splitlines()[0]
    for dialect in (None, "stablehlo", "hlo"):  # an MLIR module, an XlaComputation
        assert type(ours.compiler_ir(dialect)) is type(theirs.compiler_ir(dialect))
    assert str(ours.compiler_ir()) == ours.as_text()


def test_debug_info_carries_the_users_lines() -> None:
    lowered = tiers.jit(matmul).lower(X, W)
    assert "loc(" not in lowered.as_text()
    text = lowered.as_text(debug_info=True)
    assert "loc(" in text and os.path.basename(__file__) in text
    assert lowered.as_text(debuginfo=True) == text  # tiers' older spelling


def test_cost_analysis_is_jaxs() -> None:
    ours, theirs, _, _ = lowered_pair("matmul")
    # The same XLA ops for this program, so the same estimate; in general a dict like JAX's.
    assert ours.cost_analysis() == theirs.cost_analysis()
    assert {"flops", "bytes accessed"} <= set(ours.cost_analysis())


@pytest.mark.parametrize("case", CASES)
def test_compiled_is_jaxs_and_runs_to_jax_jits_numbers(case: str) -> None:
    ours, theirs, args, kwargs = lowered_pair(case)
    compiled = ours.compile()
    assert isinstance(compiled, jax.stages.Compiled)
    want_compiled = theirs.compile()
    assert compiled.in_tree == want_compiled.in_tree
    assert compiled.out_info == want_compiled.out_info  # with shardings and layouts
    assert compiled.cost_analysis() is not None and "HloModule" in compiled.as_text()
    fn, options, _, _ = CASES[case]

    def fresh() -> tuple[tuple, dict]:  # donation deletes the arrays it is given
        return jax.tree_util.tree_map(
            lambda v: jnp.copy(v) if isinstance(v, jax.Array) else v, (args, kwargs))

    want = jax.jit(fn, **options)(*fresh()[0], **fresh()[1])
    a, k = fresh()
    same(compiled(*a, **{n: v for n, v in k.items() if n != "scale"}), want)  # scale: static
    a, k = fresh()
    same(tiers.jit(fn, **options)(*a, **k), want)


def test_compile_takes_xla_options_as_jax_does() -> None:
    for jit in (tiers.jit, jax.jit):
        lowered = jit(matmul).lower(X, W)
        exe = lowered.compile(compiler_options={"xla_cpu_enable_fast_math": False})
        same(exe(X, W), jax.jit(matmul)(X, W))
        with pytest.raises(jax.errors.JaxRuntimeError, match="No such compile option"):
            lowered.compile({"xla_no_such_option": True})


def test_lower_takes_shapes_and_the_executable_takes_arrays() -> None:
    specs = (jax.ShapeDtypeStruct(X.shape, X.dtype), jax.ShapeDtypeStruct(W.shape, W.dtype))
    compiled = tiers.jit(matmul).lower(*specs).compile()
    same(compiled(X, W), jax.jit(matmul)(X, W))
    with pytest.raises(TypeError):  # JAX's check of the arguments' types
        compiled(W, X)


def test_tiers_stages_stay() -> None:
    lowered = tiers.jit(matmul).lower(X, W)
    imported, optimized = lowered.as_text("import"), lowered.as_text("optimized")
    assert "lax.dot_general" in imported and "array.matmul" not in imported
    assert "array.matmul" in optimized  # the default pipeline raised it
    assert isinstance(lowered.compiler_ir("optimized"), ModuleOp)
    assert lowered.compiler_ir("optimized") is lowered.program.module
    assert str(lowered.compiler_ir("import")) in imported
    assert "loc(" in lowered.as_text("optimized", debug_info=True)
    with pytest.raises(ValueError, match="unknown stage 'llvm'"):
        lowered.as_text("llvm")


def test_lower_reuses_the_trace_and_the_compiled_program() -> None:
    f = tiers.jit(matmul)
    same(f(X, W), jax.jit(matmul)(X, W))
    lowered = f.lower(X, W)
    assert "array.matmul" in lowered.as_text("optimized")
    assert f.cache_info()["traces"] == 1  # JAX's trace cache: lower did not trace again


def test_trace_is_jaxs() -> None:
    traced, want = tiers.jit(layer).trace(X, {"w": W}), jax.jit(layer).trace(X, {"w": W})
    assert isinstance(traced, jax.stages.Traced)
    assert traced.out_info == want.out_info
    assert traced.in_tree == want.in_tree and traced.args_info == want.args_info
    assert traced.fun_name == want.fun_name == "layer"
    assert [e.primitive.name for e in traced.jaxpr.eqns] == ["tiers_call"]
    assert traced.jaxpr.in_avals == want.jaxpr.in_avals
    assert traced.jaxpr.out_avals == want.jaxpr.out_avals
    lowered = traced.lower()
    assert isinstance(lowered, tiers.frontend.jit.Lowered)
    same(lowered.compile()(X, {"w": W}), jax.jit(layer)(X, {"w": W}))
    same(traced(X, {"w": W}), jax.jit(layer)(X, {"w": W}))  # a Traced evaluates its jaxpr


def test_eval_shape_is_jaxs() -> None:
    f = tiers.jit(layer, static_argnames="scale")
    want = jax.jit(layer, static_argnames="scale").eval_shape(X, {"w": W}, scale=1.0)
    assert f.eval_shape(X, {"w": W}, scale=1.0) == want
    assert f.eval_shape(jax.ShapeDtypeStruct((5, 4), jnp.float32), {"w": W}) == \
        jax.jit(layer).eval_shape(jax.ShapeDtypeStruct((5, 4), jnp.float32), {"w": W})


def test_functools_wraps_keeps_the_stages() -> None:
    f = tiers.jit(matmul)

    @functools.wraps(f)  # copies `__dict__`, where tiers puts `lower`, `trace`, ...
    def wrapper(*args: Any) -> Any:
        return f(*args)

    lowered = wrapper.lower(X, W)
    assert isinstance(lowered, jax.stages.Lowered)
    same(lowered.compile()(X, W), jax.jit(matmul)(X, W))
    assert isinstance(wrapper.trace(X, W), jax.stages.Traced)
    assert wrapper.cache_info() == f.cache_info()


def test_a_bare_partition_spec_is_read_against_the_mesh_of_the_trace() -> None:
    mesh = jax.make_mesh((1,), ("x",))
    f = tiers.jit(lambda x: x * 3.0, in_shardings=P("x"), out_shardings=P("x"))
    with jax.set_mesh(mesh):
        lowered = f.lower(X)
    # tiers' stages are built when asked, here outside the mesh: the trace's mesh is used.
    assert "tiers.sharding" in lowered.as_text("optimized")
    assert "tiers.sharding" in lowered.as_text("import")
    same(lowered.compile()(X), X * 3.0)
