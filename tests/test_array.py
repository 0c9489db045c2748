"""The `array` dialect end to end: tiers' high-level functions, `raise-lax-to-array` and
`convert-array-to-lax`, each checked on numbers against `jax.nn` / `jax.numpy`, on the JAX
target and on the numpy reference target; and the JAX target's StableHLO emission of each op
against its walk emission, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import FunctionType, ModuleOp
from xdsl.rewriter import Rewriter
from xdsl.utils.exceptions import PassFailedException

import tiers
import tiers.targets.jax as jax_target
from tiers import pipeline
from tiers.dialects import array, lax
from tiers.frontend import highlevel as hl
from tiers.frontend import import_rules
from tiers.frontend.importer import import_jaxpr
from tiers.passes.convert_array_to_lax import DECOMPOSITIONS
from tiers.pipeline.context import make_context
from tiers.targets import reference
from tiers.targets.jax import hlo
from tiers.targets.jax import rules as jax_rules

RNG = np.random.default_rng(0)
CTX = make_context()
CLEAN = "inline,canonicalize,cse,dce"
RAISE = f"{CLEAN},raise-lax-to-array"
FOLDED = "inline,canonicalize,fold-constants,canonicalize,cse,dce,raise-lax-to-array"


def f32(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def close(actual: Any, expected: Any, rtol: float = 2e-5, atol: float = 2e-6) -> None:
    for a, e in zip(jax.tree.leaves(actual), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=rtol, atol=atol)


def ops_of(module: ModuleOp) -> list[str]:
    return [op.name for op in module.walk() if op.name.startswith(("array.", "lax."))]


def module_of(fn: Callable[..., Any], args: Sequence[Any], pipeline: str) -> ModuleOp:
    module = import_jaxpr(jax.make_jaxpr(fn)(*args))
    tiers.pipeline.compile(module, pipeline, ctx=CTX)
    module.verify()
    return module


# ---------------------------------------------------------------------------------------
# (1) tiers' high-level functions: one array op each, jax.nn's numbers, also under
# jax.jit, jax.grad and jax.vmap.
# ---------------------------------------------------------------------------------------


def _layer_norm_ref(x, g, b):
    m, v = jnp.mean(x, -1, keepdims=True), jnp.var(x, -1, keepdims=True)
    return (x - m) / jnp.sqrt(v + 1e-5) * g + b


def _attention_ref(q, k, v, mask):
    # jax.nn.dot_product_attention's layout is (B, T, N, H): one head here.
    out = jax.nn.dot_product_attention(q[:, :, None], k[:, :, None], v[:, :, None],
                                       mask=mask[:, None], scale=0.3)
    return out[:, :, 0]


X, G, B = f32(4, 8), f32(8), f32(8)
MASK = RNG.random((2, 4, 6)) > 0.3
# name: (tiers function, reference, args, the op, vmap in_axes)
HIGHLEVEL: dict[str, tuple[Callable, Callable, tuple, str, tuple]] = {
    "relu": (hl.relu, jax.nn.relu, (X,), "array.relu", (0,)),
    "gelu_tanh": (hl.gelu, jax.nn.gelu, (X,), "array.gelu", (0,)),
    "gelu_erf": (lambda x: hl.gelu(x, approximate=False),
                 lambda x: jax.nn.gelu(x, approximate=False), (X,), "array.gelu", (0,)),
    "silu": (hl.silu, jax.nn.silu, (X,), "array.silu", (0,)),
    "softmax": (hl.softmax, jax.nn.softmax, (X,), "array.softmax", (0,)),
    "softmax_axis0": (lambda x: hl.softmax(x, 0), lambda x: jax.nn.softmax(x, 0), (X,),
                      "array.softmax", (1,)),
    "log_softmax": (hl.log_softmax, jax.nn.log_softmax, (X,), "array.log_softmax", (0,)),
    "logsumexp": (lambda x: hl.logsumexp(x, 0), lambda x: jax.nn.logsumexp(x, 0), (X,),
                  "array.logsumexp", (1,)),
    "mean": (lambda x: hl.mean(x, (0, 2)), lambda x: jnp.mean(x, (0, 2)), (f32(3, 4, 5),),
             "array.mean", (1,)),
    "var": (lambda x: hl.var(x, -1, ddof=1), lambda x: jnp.var(x, -1, ddof=1), (X,),
            "array.var", (0,)),
    "layer_norm": (lambda x, g, b: hl.layer_norm(x, g, b), _layer_norm_ref, (X, G, B),
                   "array.layer_norm", (0, None, None)),
    "layer_norm_bias_only": (lambda x, b: hl.layer_norm(x, bias=b),
                             lambda x, b: _layer_norm_ref(x, 1.0, b), (X, B),
                             "array.layer_norm", (0, 0)),
    "rms_norm": (lambda x, g: hl.rms_norm(x, g, epsilon=1e-6),
                 lambda x, g: x / jnp.sqrt(jnp.mean(x * x, -1, keepdims=True) + 1e-6) * g,
                 (X, G), "array.rms_norm", (0, None)),
    "matmul": (hl.matmul, jnp.matmul, (f32(2, 4, 8), f32(8, 3)), "array.matmul", (0, None)),
    "matmul_batched": (hl.matmul, jnp.matmul, (f32(3, 1, 4, 8), f32(2, 8, 5)),
                       "array.matmul", (1, 0)),
    "attention": (lambda q, k, v, m: hl.attention(q, k, v, m, scale=0.3), _attention_ref,
                  (f32(2, 4, 8), f32(2, 6, 8), f32(2, 6, 8), MASK), "array.attention",
                  (0, 0, None, None)),
}


@pytest.mark.parametrize("name", HIGHLEVEL)
def test_highlevel_function(name: str) -> None:
    fn, ref, args, op, _ = HIGHLEVEL[name]
    lowered = tiers.jit(fn, pipeline="O0").lower(*args)
    assert op in ops_of(lowered.program.module), lowered.as_text("optimized")
    want = ref(*args)
    close(tiers.jit(fn, pipeline="O0")(*args), want)
    close(reference.run(lowered.program.module, args)[0], want)
    close(jax.jit(fn)(*args), want)  # the primitive's lowering
    close(fn(*args), want)  # its eager impl


def _float_argnums(args: Sequence[Any]) -> tuple[int, ...]:
    return tuple(i for i, a in enumerate(args) if np.issubdtype(np.asarray(a).dtype, np.floating))


@pytest.mark.parametrize("name", HIGHLEVEL)
def test_highlevel_grad(name: str) -> None:
    fn, ref, args, op, _ = HIGHLEVEL[name]
    argnums = _float_argnums(args)

    def loss(f: Callable) -> Callable:
        return jax.grad(lambda *a: jnp.sum(jnp.sin(f(*a))), argnums=argnums)

    want = loss(ref)(*args)
    close(loss(fn)(*args), want, 1e-4, 1e-5)
    grad = tiers.jit(loss(fn), pipeline="O0")
    assert op in ops_of(grad.lower(*args).program.module)  # the forward op stays one op
    close(grad(*args), want, 1e-4, 1e-5)


@pytest.mark.parametrize("name", HIGHLEVEL)
def test_highlevel_vmap(name: str) -> None:
    fn, ref, args, op, in_axes = HIGHLEVEL[name]
    batched = [a if d is None else np.stack([a, 2 * a, -a], axis=d)
               for a, d in zip(args, in_axes, strict=True)]
    want = jax.vmap(ref, in_axes)(*batched)
    close(jax.vmap(fn, in_axes)(*batched), want)
    mapped = tiers.jit(jax.vmap(fn, in_axes), pipeline="O0")
    assert op in ops_of(mapped.lower(*batched).program.module)
    close(mapped(*batched), want)


def test_every_array_op_has_its_rules() -> None:
    ops = set(array.all_ops())
    assert ops <= set(jax_rules.RULES) and ops <= set(reference.RULES)
    assert ops <= set(jax_rules.EMIT_RULES)
    assert ops == set(DECOMPOSITIONS)
    made = {HIGHLEVEL[n][3] for n in HIGHLEVEL}
    assert {c.name for c in ops} == made
    assert all(f"tiers_{c.name.split('.')[1]}" in import_rules.RULES for c in ops)


# ---------------------------------------------------------------------------------------
# (2) raise-lax-to-array on what JAX traces, and back with convert-array-to-lax.
# ---------------------------------------------------------------------------------------


def _mlp(x, w1, b1, w2, b2):
    return jax.nn.gelu(x @ w1 + b1) @ w2 + b2


def _xent(logits, labels):
    return -jnp.mean(jnp.sum(labels * jax.nn.log_softmax(logits), axis=-1))


def _attention(q, k, v):
    return jax.nn.softmax(jnp.einsum("bqd,bkd->bqk", q, k) * 0.125, axis=-1) @ v


def _attention_swapaxes(q, k, v):
    return jax.nn.softmax(q @ jnp.swapaxes(k, -1, -2) * 0.125) @ v


def _rms_rsqrt(x, g):
    return x * jax.lax.rsqrt(jnp.mean(jnp.square(x), -1, keepdims=True) + 1e-6) * g


def _ln_rsqrt(x, g, b):
    m = jnp.mean(x, -1, keepdims=True)
    return (x - m) * jax.lax.rsqrt(jnp.mean((x - m) ** 2, -1, keepdims=True) + 1e-5) * g + b


QKV = (f32(2, 4, 8), f32(2, 6, 8), f32(2, 6, 5))
# name: (program, args, the array ops it must raise to, sorted)
PROGRAMS: dict[str, tuple[Callable, tuple, list[str]]] = {
    "mlp_gelu": (_mlp, (f32(4, 8), f32(8, 16), f32(16), f32(16, 3), f32(3)),
                 ["array.gelu", "array.matmul", "array.matmul"]),
    "softmax_cross_entropy": (_xent, (f32(4, 10), jax.nn.one_hot(np.arange(4), 10)),
                              ["array.log_softmax", "array.mean"]),
    "layer_norm": (_layer_norm_ref, (X, G, B), ["array.layer_norm"]),
    "layer_norm_rsqrt": (_ln_rsqrt, (X, G, B), ["array.layer_norm"]),
    "attention": (_attention, QKV, ["array.attention"]),
    "attention_swapaxes": (_attention_swapaxes, QKV, ["array.attention"]),
    "rms_norm_rsqrt": (_rms_rsqrt, (X, G), ["array.rms_norm"]),
    "softmax": (jax.nn.softmax, (X,), ["array.softmax"]),
    "logsumexp": (lambda x: jax.nn.logsumexp(x, axis=0), (X,), ["array.logsumexp"]),
    "relu": (jax.nn.relu, (X,), ["array.relu"]),
    "gelu_erf": (lambda x: jax.nn.gelu(x, approximate=False), (X,), ["array.gelu"]),
    "silu": (jax.nn.silu, (X,), ["array.silu"]),
    "var_keepdims": (lambda x: jnp.var(x, (0, 2), ddof=2, keepdims=True), (f32(3, 4, 5),),
                     ["array.var"]),
    "mean_all": (jnp.mean, (f32(3, 4),), ["array.mean"]),
    "batched_matmul": (jnp.matmul, (f32(2, 4, 8), f32(2, 8, 3)), ["array.matmul"]),
}


def _array_ops(module: ModuleOp) -> list[str]:
    return sorted(n for n in ops_of(module) if n.startswith("array."))


@pytest.mark.parametrize("pipeline", [RAISE, FOLDED])
@pytest.mark.parametrize("name", PROGRAMS)
def test_raise_then_convert(name: str, pipeline: str) -> None:
    fn, args, want_ops = PROGRAMS[name]
    raised = module_of(fn, args, pipeline)
    assert _array_ops(raised) == want_ops, ops_of(raised)
    base = module_of(fn, args, "")
    expected = reference.run(base, args)
    close(reference.run(raised, args), expected)
    close(tiers.jit(fn, pipeline=pipeline)(*args), fn(*args))
    # convert-array-to-lax spells each op the way JAX does: the same lax program again
    lowered = module_of(fn, args, f"{pipeline},convert-array-to-lax")
    assert not _array_ops(lowered)
    # (bit for bit, except where the program wrote rsqrt: the ops divide by sqrt)
    exact = 0 if "rsqrt" not in name else 2e-7
    close(reference.run(lowered, args), reference.run(module_of(fn, args, CLEAN), args), exact,
          exact)
    close(tiers.jit(fn, pipeline=f"{pipeline},convert-array-to-lax")(*args), fn(*args))
    # ... which raises back to the same ops
    tiers.pipeline.compile(lowered, "canonicalize,cse,raise-lax-to-array", ctx=CTX)
    assert _array_ops(lowered) == want_ops


@pytest.mark.parametrize("name", HIGHLEVEL)
def test_convert_array_to_lax_keeps_numbers(name: str) -> None:
    fn, ref, args, op, _ = HIGHLEVEL[name]
    module = module_of(fn, args, "")
    before = reference.run(module, args)
    pipeline.compile(module, "convert-array-to-lax", ctx=CTX)
    module.verify()
    assert not _array_ops(module)
    close(reference.run(module, args), before)
    close(jax.jit(lambda *a: tiers.targets.jax.to_callable(module)(*a))(*args), ref(*args))


def test_convert_array_to_lax_fails_on_a_leftover(monkeypatch: pytest.MonkeyPatch) -> None:
    module = module_of(hl.relu, (X,), "")
    monkeypatch.delitem(DECOMPOSITIONS, array.ReluOp)
    with pytest.raises(PassFailedException, match="'array.relu' is left after it"):
        pipeline.compile(module, "convert-array-to-lax", ctx=CTX)


def test_what_is_not_raised() -> None:
    # not jax.nn's softmax (no max subtracted), a softmax over two axes, max on bools, a
    # matrix times a vector, x / sqrt(d) as an attention scale (array.attention multiplies:
    # its matmuls and softmax are raised)
    def programs(x, q, k, v):
        e = jnp.exp(x)
        return (e / e.sum(-1, keepdims=True), jax.nn.softmax(x, axis=(0, 1)),
                jnp.maximum(x > 0, False), x @ x[0],
                jax.nn.softmax(q @ k.mT / math.sqrt(8)) @ v)

    module = module_of(programs, (X, *QKV), RAISE)
    assert _array_ops(module) == ["array.matmul", "array.matmul", "array.softmax"]


def test_linear_in_module_size() -> None:
    # every op is tried as a root once, by bounded patterns: the count of raised ops grows
    # with the program and each program raises completely
    def chain(n: int) -> Callable:
        def f(x, g, b):
            for _ in range(n):
                x = _layer_norm_ref(jax.nn.gelu(jax.nn.softmax(x)), g, b)
            return x

        return f

    for n in (1, 8):
        module = module_of(chain(n), (X, G, B), RAISE)
        assert _array_ops(module) == sorted(
            ["array.gelu", "array.layer_norm", "array.softmax"] * n)
        assert not [o for o in ops_of(module) if o != "lax.broadcast_in_dim"][3 * n:]


# ---------------------------------------------------------------------------------------
# (3) never raised when an intermediate value has another user.
# ---------------------------------------------------------------------------------------


def _also_return(module: ModuleOp, index: int) -> ModuleOp:
    """A copy of `module` whose @main also returns the result of its `index`-th op."""
    module = module.clone()
    fn = next(op for op in module.body.block.ops if isinstance(op, func.FuncOp))
    ops = list(fn.body.block.ops)
    ret = ops[-1]
    new = func.ReturnOp(*ret.operands, ops[index].results[0])
    Rewriter.replace_op(ret, new)
    fn.function_type = FunctionType.from_lists(fn.function_type.inputs.data,
                                               [v.type for v in new.operands])
    return module


def _is_leaf(op: Any) -> bool:
    """Constants, and broadcasts of constants or arguments: readable by anyone."""
    if isinstance(op, lax.ConstantOp):
        return True
    return isinstance(op, lax.BroadcastInDimOp) and not isinstance(op.operand.owner,
                                                                   lax.LaxOp)


PRIVATE = {
    "softmax": (jax.nn.softmax, (X,), "array.softmax"),
    "log_softmax": (jax.nn.log_softmax, (X,), "array.log_softmax"),
    "logsumexp": (lambda x: jax.nn.logsumexp(x, -1), (X,), "array.logsumexp"),
    "gelu_tanh": (jax.nn.gelu, (X,), "array.gelu"),
    "gelu_erf": (lambda x: jax.nn.gelu(x, approximate=False), (X,), "array.gelu"),
    "silu": (jax.nn.silu, (X,), "array.silu"),
    "var": (lambda x: jnp.var(x, -1), (X,), "array.var"),
    "layer_norm": (_layer_norm_ref, (X, G, B), "array.layer_norm"),
    "layer_norm_rsqrt": (_ln_rsqrt, (X, G, B), "array.layer_norm"),
    "rms_norm": (_rms_rsqrt, (X, G), "array.rms_norm"),
    "attention": (_attention, QKV, "array.attention"),
}


def _raised(module: ModuleOp, name: str) -> list[tuple]:
    """The argument positions that each `name` op of `module` reads (None: not an argument)."""
    return [tuple(getattr(v, "index", None) for v in op.operands)
            for op in module.walk() if op.name == name]


@pytest.mark.parametrize("name", PRIVATE)
def test_never_raised_when_an_intermediate_escapes(name: str) -> None:
    fn, args, op = PRIVATE[name]
    clean = module_of(fn, args, "inline,canonicalize,fold-constants,canonicalize,cse,dce")
    whole = clean.clone()
    pipeline.compile(whole, "raise-lax-to-array", ctx=CTX)
    (full,) = _raised(whole, op)  # the op as raised from the whole subgraph
    body = list(next(iter(clean.body.block.ops)).body.block.ops)
    interior = [i for i, o in enumerate(body[:-2]) if not _is_leaf(o)]
    assert len(interior) >= 1
    for i in interior:
        module = _also_return(clean, i)
        expected = reference.run(module, args)
        pipeline.compile(module, "raise-lax-to-array", ctx=CTX)
        module.verify()
        # smaller patterns may still raise (the escaping value is their root): never the whole
        assert full not in _raised(module, op), f"raised though {body[i].name} (op {i}) escapes"
        close(reference.run(module, args), expected)


# ---------------------------------------------------------------------------------------
# (4) the JAX target's StableHLO emission writes each op as JAX lowers its definition in
# `array_rules.py`: the same bits as the walk emission, in every float dtype.
# ---------------------------------------------------------------------------------------


def _same_bits(module: ModuleOp, args: Sequence[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    fallbacks: list[str] = []
    lower = hlo.HloEmitter.fallback

    def record(self: hlo.HloEmitter, op: Any, operands: list[str]) -> list[str]:
        fallbacks.append(op.name)
        return lower(self, op, operands)

    monkeypatch.setattr(hlo.HloEmitter, "fallback", record)
    direct = jax_target.compile(module)(*args)
    assert not [n for n in fallbacks if n.startswith("array.")], fallbacks
    walked = jax_target.compile(module, emission="walk")(*args)
    for i, (d, w) in enumerate(zip(direct, walked, strict=True)):
        np.testing.assert_array_equal(np.asarray(d), np.asarray(w), err_msg=f"output {i}")


@pytest.mark.parametrize("dtype", [np.float32, ml_dtypes.bfloat16, np.float16],
                         ids=["f32", "bf16", "f16"])
@pytest.mark.parametrize("name", HIGHLEVEL)
def test_emission_matches_the_walk(name: str, dtype: Any,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    fn, _, args, op, _ = HIGHLEVEL[name]
    args = tuple(a.astype(dtype) if a.dtype == np.float32 else a for a in map(np.asarray, args))
    module = module_of(fn, args, "")
    assert op in ops_of(module)
    _same_bits(module, args, monkeypatch)


@pytest.mark.parametrize("name", PROGRAMS)
def test_raised_emission_matches_the_walk(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fn, args, _ = PROGRAMS[name]
    _same_bits(module_of(fn, args, RAISE), args, monkeypatch)
