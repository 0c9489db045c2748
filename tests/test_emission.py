"""The JAX target's two emissions: StableHLO text straight from the IR (the default) and the
`jax.lax` walk, cross-checked on whole programs; which ops still take the fallback; what
users see of it (their source lines in XLA's metadata, `-t stablehlo`, errors).

Each op's emission is checked bit for bit against the walk in tests/test_lax_ops.py (one row
per `lax` op) and tests/test_array.py (`array` ops)."""

from __future__ import annotations

import inspect
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tiers
import tiers.targets.jax as jax_target
from tiers.dialects import array, lax
from tiers.frontend.importer import import_jaxpr
from tiers.targets.jax import hlo
from tiers.targets.jax.rules import EMIT_RULES

# Ops emitted by JAX from their walk rule, on purpose: `lax.generic` binds any primitive tiers
# has no op for (its lowering is JAX's by definition), a sharding constraint needs the mesh
# JAX builds for the module, and select_and_gather_add is lowered differently per platform.
FALLBACK_OPS = {lax.GenericOp, lax.ShardingConstraintOp, lax.SelectAndGatherAddOp}


def test_every_op_has_an_emission_rule() -> None:
    ops = [*lax.all_ops(), *array.all_ops()]
    missing = sorted(c.name for c in ops if c not in EMIT_RULES and c not in FALLBACK_OPS)
    assert not missing, f"ops emitted through the JAX fallback: {', '.join(missing)}"
    assert not FALLBACK_OPS & set(EMIT_RULES), "an op has a rule: drop it from FALLBACK_OPS"


def _programs() -> dict[str, tuple[Any, tuple[Any, ...]]]:
    rng = np.random.default_rng(0)

    def normal(*shape: int) -> jax.Array:
        return jnp.asarray(rng.standard_normal(shape).astype(np.float32))

    w1, w2, x = normal(8, 16), normal(16, 4), normal(5, 8)

    def mlp(w1: jax.Array, w2: jax.Array, x: jax.Array) -> jax.Array:
        h = jax.nn.gelu(x @ w1)
        return jnp.mean(jax.nn.log_softmax(h @ w2) ** 2)

    def attention(q: jax.Array, k: jax.Array, v: jax.Array) -> jax.Array:
        return jax.nn.dot_product_attention(q, k, v)

    def loops(x: jax.Array) -> Any:
        def body(c: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
            c = jnp.where(c > 0, c * 0.5, c + y)
            return c, jnp.cumsum(c)

        carry, ys = jax.lax.scan(body, x[0], x)
        n = jax.lax.while_loop(lambda s: s[0] < 4, lambda s: (s[0] + 1, s[1] * 1.5), (0, carry))
        return jax.lax.cond(n[1].sum() > 0, jnp.sort, jnp.negative, ys), n[1]

    def indexing(x: jax.Array, i: jax.Array) -> Any:
        y = x.at[i].add(1.0)
        return y[::-1, 1:3], jnp.argmax(y, axis=1), jax.lax.dynamic_slice(y, (i[0], 0), (2, 4))

    q = normal(2, 6, 3, 8)
    return {
        "mlp grad": (jax.grad(mlp, argnums=(0, 1)), (w1, w2, x)),
        "attention": (attention, (q, q * 0.5, q + 1.0)),
        "attention grad": (jax.grad(lambda q: attention(q, q, q).sum()), (q,)),
        "loops": (loops, (normal(4, 3),)),
        "indexing": (indexing, (normal(6, 8), jnp.asarray([3, 0, 5], jnp.int32))),
        "layer norm": (lambda x: (x - x.mean(-1, keepdims=True))
                       * jax.lax.rsqrt(x.var(-1, keepdims=True) + 1e-5), (normal(4, 16),)),
    }


PROGRAMS = _programs()


@pytest.mark.parametrize("name", PROGRAMS)
def test_emissions_agree_on_programs(name: str) -> None:
    """Both emissions of the default pipeline's IR give the same bits, and match `jax.jit`."""
    fn, args = PROGRAMS[name]
    outs = {}
    for emission in jax_target.EMISSIONS:
        with tiers.config.set_emission(emission):
            outs[emission] = jax.tree.leaves(tiers.jit(fn)(*args))
    want = jax.tree.leaves(jax.jit(fn)(*args))
    for direct, walk, expected in zip(outs["stablehlo"], outs["walk"], want, strict=True):
        np.testing.assert_array_equal(np.asarray(direct), np.asarray(walk))
        np.testing.assert_allclose(np.asarray(direct), np.asarray(expected), rtol=2e-5,
                                   atol=2e-6)


def test_transformations_of_the_emitted_program() -> None:
    """`grad` and `vmap` around `tiers.jit` (transformed by JAX before tiers emits anything)."""
    def f(x: jax.Array) -> jax.Array:
        return jnp.sum(jnp.tanh(x) * jnp.cumsum(x))

    x = jnp.linspace(-1.0, 1.0, 6)
    g = jax.grad(tiers.jit(f))(x)
    np.testing.assert_allclose(g, jax.grad(f)(x), rtol=1e-6)
    xs = jnp.stack([x, 2 * x])
    np.testing.assert_allclose(jax.vmap(tiers.jit(f))(xs), jax.vmap(f)(xs), rtol=1e-6)


def test_user_lines_reach_xla_metadata() -> None:
    def f(x: jax.Array) -> jax.Array:
        y = jnp.sin(x) * 3.0
        return jnp.tanh(y)

    line = inspect.getsourcelines(f)[1] + 1  # `y = jnp.sin(x) * 3.0`
    compiled = tiers.jit(f).lower(jnp.ones(4)).compile().as_text()
    assert f'source_file="{__file__}" source_line={line}' in compiled
    hlo_text = tiers.jit(f).lower(jnp.ones(4)).as_text("hlo", debuginfo=True)
    assert "test_emission.py" in hlo_text


def test_an_op_without_a_rule_is_lowered_by_jax_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback: JAX lowers the op's walk rule into a private function, once per distinct
    op; the program still gives the walk's bits."""
    monkeypatch.delitem(EMIT_RULES, lax.SinOp)
    monkeypatch.setattr(hlo, "_FALLBACKS", {})

    def f(x: jax.Array) -> Any:
        return jnp.sin(x) * jnp.sin(x + x)

    x = np.linspace(0, 1, 5, dtype=np.float32)
    module = import_jaxpr(jax.make_jaxpr(f)(x))
    text = jax_target.stablehlo_text(module)
    assert text.count("tiers_fallback_") == 3  # two calls and one definition: same signature
    assert len(hlo._FALLBACKS) == 1
    np.testing.assert_array_equal(jax_target.compile(module)(x)[0], jax.jit(f)(x))


def test_an_emission_bug_is_reported_as_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(EMIT_RULES, lax.SinOp,
                        lambda em, op, x: em.one("stablehlo.sine", [x], "tensor<7xi1>"))
    module = import_jaxpr(jax.make_jaxpr(jnp.sin)(np.ones(3, np.float32)))
    with pytest.raises(jax_target.EmissionError, match="tiers emitted StableHLO that MLIR "
                       "rejects.*please report it"):
        jax_target.compile(module)(np.ones(3, np.float32))


def test_emission_setting() -> None:
    with pytest.raises(ValueError, match="unknown emission .*'xla'.*stablehlo, walk"):
        tiers.config.set_emission("xla")
    with tiers.config.set_emission("walk"):
        walked = tiers.jit(jnp.sin)
    direct = tiers.jit(jnp.sin)
    assert walked.tiers_compiler.options.emission == "walk"
    assert direct.tiers_compiler.options.emission == "stablehlo"
    np.testing.assert_array_equal(walked(jnp.ones(3)), direct(jnp.ones(3)))


def test_constants_are_exact() -> None:
    """Dense literals in hex: every bit of a float constant (NaN payloads, -0.0, subnormals)
    and booleans, splat or not."""
    values = np.array([np.nan, -0.0, 1e-45, np.inf, 1 / 3], np.float32)
    flags = np.array([[True, False], [False, True]])

    def f(x: jax.Array) -> Any:
        return x + values, jnp.logical_and(x[:2, None] > 0, flags), x * 0 + np.float32(-0.0)

    x = np.zeros(5, np.float32)
    module = import_jaxpr(jax.make_jaxpr(f)(x))
    got = jax_target.compile(module)(x)
    for a, b in zip(got, jax.jit(f)(x), strict=True):
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


@pytest.mark.parametrize("shape", [(), (3,), (2, 0, 5)])
def test_type_texts_are_xdsls(shape: tuple[int, ...]) -> None:
    """The emission writes tensor types itself (not through xDSL's printer): the same text
    for every element type tiers has, and for PRNG keys their data's."""
    from xdsl.dialects.builtin import TensorType

    from tiers.dialects import dtypes, lax_keys

    for element in dtypes._BY_NAME.values():
        t = dtypes.tensor_of(element, shape)
        assert hlo.type_text(t) == str(t)
    keys = TensorType(lax_keys.KeyType("threefry2x32"), shape)
    dims = "".join(f"{d}x" for d in shape)
    assert hlo.type_text(keys) == str(lax_keys.physical(keys)) == f"tensor<{dims}2xui32>"


@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 2, 3)])
@pytest.mark.parametrize("dtype", [np.bool_, np.float32, np.int8])
def test_empty_constants_are_valid_stablehlo(shape: tuple[int, ...], dtype: Any) -> None:
    """A constant with no elements is `dense<>` of its type, which MLIR reads back."""
    from jax._src.interpreters import mlir
    from jax._src.lib.mlir import ir

    text = hlo.dense(np.zeros(shape, dtype))
    t = text.split(" : ")[1]
    assert text == f"dense<> : {t}"
    module = (f'module {{ func.func @main() -> {t} {{ %c = "stablehlo.constant"() '
              f'{{value = {text}}} : () -> ({t})\n "func.return"(%c) : ({t}) -> () }} }}')
    with mlir.make_ir_context():
        assert str(ir.Module.parse(module)).count("stablehlo.constant") == 1
