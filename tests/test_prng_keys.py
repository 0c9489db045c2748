"""Typed PRNG keys (`jax.random.key`) through tiers: as arguments, results and loop carries of
`tiers.jit` functions, in both emissions of the JAX target and in the reference target, with
several PRNG implementations, under `jax.vmap`/`jax.grad`, as closed-over constants and in
eager kernels; and the IR that holds them, `tensor<... x !lax.key<"impl">>` with
`lax.random_wrap`/`random_unwrap` at the boundary (dialects/lax_keys.py).

filecheck/dialects/lax/keys*.mlir checks the syntax, the verifier and `tiers-run`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import TensorType

import tiers
from tiers import pipeline
from tiers.dialects import lax, lax_keys
from tiers.frontend import eager
from tiers.frontend.importer import import_jaxpr
from tiers.targets import reference
from tiers.targets.jax import EMISSIONS

tnp = tiers.numpy


def is_keys(x) -> bool:
    return jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def data(x) -> np.ndarray:
    """A key array's data (a `tiers.Tensor`'s too), any other array as numpy."""
    if isinstance(x, tiers.Tensor):
        x = x.value
    return np.asarray(jax.random.key_data(x) if is_keys(x) else x)


def assert_bits(got, want) -> None:
    """Equal trees: keys of the same implementation with equal data, other arrays equal bit
    for bit."""
    assert jax.tree.structure(got) == jax.tree.structure(want)
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, g.shape, w.dtype, w.shape)
        np.testing.assert_array_equal(data(g), data(w))


# -- programs --------------------------------------------------------------------------------


def split_and_sample(k, x):
    """A key in, a new key and numbers out."""
    k1, k2 = jax.random.split(k)
    return k1, x + jax.random.normal(k2, x.shape)


def per_key(ks):
    """Key arrays of shape (4,) in and out."""
    return (jax.vmap(lambda k: jax.random.split(k)[0])(ks),
            jax.vmap(lambda k: jax.random.uniform(k, (2,)))(ks),
            jax.vmap(lambda k: jax.random.fold_in(k, 3))(ks), ks[::2].reshape(1, 2))


def fori(k, x):
    """A key threaded through `fori_loop` as a carry, and returned."""
    def body(i, carry):
        k, x = carry
        k, s = jax.random.split(k)
        return k, x + jax.random.normal(s, x.shape)

    return jax.lax.fori_loop(0, 5, body, (k, x))


def scan(k, xs):
    """Keys carried by `scan` and stacked as its outputs."""
    def body(k, x):
        k, s = jax.random.split(k)
        return k, (s, x * jax.random.uniform(s))

    return jax.lax.scan(body, k, xs)


def while_keys(k):
    def cond(c):
        return c[1] < 3

    def body(c):
        return jax.random.split(c[0])[1], c[1] + 1

    return jax.lax.while_loop(cond, body, (k, 0))


def identity(k):
    return k


def compare(k1, k2):
    """`==` and `!=` on keys: whole keys compared, a single key against an array of them."""
    ks = jax.random.split(k1, 3)
    return k1 == k2, k1 != k2, ks == ks[1], ks != k2


def make_keys(seed):
    return jax.random.key(seed), jax.random.split(jax.random.key(seed, impl="rbg"), 2)


KEY = jax.random.key(0)
KEYS = jax.random.split(jax.random.key(1), 4)
X = jnp.linspace(-1.0, 1.0, 3, dtype=jnp.float32)

PROGRAMS = [
    ("split_and_sample", split_and_sample, (KEY, X)),
    ("rbg", split_and_sample, (jax.random.key(0, impl="rbg"), X)),
    ("unsafe_rbg", split_and_sample, (jax.random.key(0, impl="unsafe_rbg"), X)),
    ("threefry4x32", split_and_sample, (jax.random.key(2, impl="threefry4x32"), X)),
    ("per_key", per_key, (KEYS,)),
    ("per_key_rbg", per_key, (jax.random.split(jax.random.key(1, impl="rbg"), 4),)),
    ("fori", fori, (KEY, X)),
    ("scan", scan, (KEY, jnp.arange(4.0, dtype=jnp.float32))),
    ("while", while_keys, (KEY,)),
    ("identity", identity, (KEYS,)),
    ("make_keys", make_keys, (np.int32(5),)),
    ("compare_equal", compare, (KEY, KEY)),
    ("compare", compare, (KEY, jax.random.key(7))),
    ("compare_rbg", compare, (jax.random.key(1, impl="rbg"), jax.random.key(1, impl="rbg"))),
]


@pytest.mark.parametrize("emission", EMISSIONS)
@pytest.mark.parametrize("name,fn,args", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_matches_jax_jit_bit_for_bit(name, fn, args, emission) -> None:
    with tiers.config.set_emission(emission):
        got = tiers.jit(fn)(*args)
    assert_bits(got, jax.jit(fn)(*args))


@pytest.mark.parametrize("pipe", ["O0", "O2"])
def test_pipelines_keep_keys(pipe) -> None:
    for fn, args in [(split_and_sample, (KEY, X)), (make_keys, (np.int32(3),)),
                     (lambda: jax.random.split(jax.random.key(0), 3), ())]:
        assert_bits(tiers.jit(fn, pipeline=pipe)(*args), jax.jit(fn)(*args))


def test_results_are_key_arrays() -> None:
    k, _ = tiers.jit(split_and_sample)(KEY, X)
    assert isinstance(k, jax.Array) and k.dtype == KEY.dtype and k.shape == ()
    assert jax.random.key_impl(k) == jax.random.key_impl(KEY)
    # The result is a key like any other: JAX's own functions take it.
    np.testing.assert_array_equal(jax.random.normal(k, (2,)),
                                  jax.random.normal(jax.jit(split_and_sample)(KEY, X)[0], (2,)))


# -- the IR ----------------------------------------------------------------------------------


def test_ir_has_key_types_at_the_boundary() -> None:
    lowered = tiers.jit(split_and_sample).lower(KEY, X)
    for stage in ("import", "optimized"):
        text = lowered.as_text(stage)
        assert 'func.func @main(%k: tensor<!lax.key<"threefry2x32">>, %x: tensor<3xf32>) -> ' \
            '(tensor<!lax.key<"threefry2x32">>' in text
        assert '%0 = lax.random_unwrap %k : tensor<!lax.key<"threefry2x32">> -> ' \
            'tensor<2xui32>' in text
        main = next(op for op in lowered.compiler_ir(stage).body.block.ops
                    if isinstance(op, func.FuncOp) and op.sym_name.data == "main")
        key = lax_keys.KeyType("threefry2x32")
        assert main.function_type.inputs.data[0] == TensorType(key, [])
        assert main.function_type.outputs.data[0] == TensorType(key, [])
        assert 'lax.random_wrap %' in text
    # StableHLO has no keys: JAX's own text holds their data.
    assert "tensor<2xui32>" in lowered.as_text()


def test_key_arrays_of_other_implementations_print_theirs() -> None:
    ks = jax.random.split(jax.random.key(0, impl="rbg"), 4)
    text = tiers.jit(identity).lower(ks).as_text("import")
    assert 'func.func @main(%k: tensor<4x!lax.key<"rbg">>) -> (tensor<4x!lax.key<"rbg">>' \
        in text
    assert '%0 = lax.random_unwrap %k : tensor<4x!lax.key<"rbg">> -> tensor<4x4xui32>' in text
    assert '%1 = lax.random_wrap %0 : tensor<4x4xui32> -> tensor<4x!lax.key<"rbg">>' in text
    # Canonicalized, a key passed through is the key.
    text = tiers.jit(identity).lower(ks).as_text("optimized")
    assert "lax.random" not in text and 'func.return %k : tensor<4x!lax.key<"rbg">>' in text


def test_only_the_public_function_takes_keys() -> None:
    # A named sub-jaxpr (a private function) takes and returns key data.
    inner = jax.jit(lambda k: jax.random.split(k)[0])
    module = import_jaxpr(jax.make_jaxpr(lambda k: inner(k))(KEY))
    fns = {op.sym_name.data: op for op in module.body.block.ops if isinstance(op, func.FuncOp)}
    private = [f for name, f in fns.items() if name != "main"]
    assert private
    for f in private:
        assert not any(lax_keys.is_key(t) for t in (*f.function_type.inputs,
                                                    *f.function_type.outputs))
    assert lax_keys.is_key(fns["main"].function_type.inputs.data[0])
    module.verify()


def test_physical_types() -> None:
    assert str(lax_keys.physical(lax_keys.key_tensor("threefry2x32", (4,)))) == \
        "tensor<4x2xui32>"
    assert str(lax_keys.physical(lax_keys.key_tensor("rbg", ()))) == "tensor<4xui32>"
    t = TensorType(lax.elem(lax_keys.key_tensor("rbg", ())), [3])
    assert lax_keys.physical(t) == lax_keys.physical(lax_keys.key_tensor("rbg", (3,)))
    f32 = TensorType(lax_keys.UINT32, [2])
    assert lax_keys.physical(f32) is f32


# -- the reference target --------------------------------------------------------------------


@pytest.mark.parametrize("name,fn,args", [p for p in PROGRAMS if p[0] in (
    "split_and_sample", "per_key", "fori", "identity", "threefry4x32")],
    ids=["split_and_sample", "threefry4x32", "per_key", "fori", "identity"])
def test_reference_target_agrees(name, fn, args) -> None:
    """The reference takes keys (or their data) and gives their data: equal to JAX's, and
    the numbers drawn from them close (it computes floats in float64)."""
    module = tiers.jit(fn).lower(*args).compiler_ir("optimized")
    want = jax.tree.leaves(jax.jit(fn)(*args))
    for inputs in (args, [data(a) for a in args]):
        got = reference.run(module, inputs)
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            if is_keys(w) or np.issubdtype(w.dtype, np.integer):
                np.testing.assert_array_equal(g, data(w))
            else:
                np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_verify_semantics_generates_key_data() -> None:
    fn = tiers.jit(split_and_sample, debug=pipeline.Debug(verify_semantics=True))
    assert_bits(fn(KEY, X), jax.jit(split_and_sample)(KEY, X))


# -- transformations around tiers.jit ----------------------------------------------------------


def test_vmap_over_keys() -> None:
    ks = jax.random.split(jax.random.key(3), 5)
    for axes in [(0, None), (0, 0)]:
        xs = X if axes[1] is None else jnp.stack([X] * 5)
        got = jax.vmap(tiers.jit(split_and_sample), in_axes=axes)(ks, xs)
        assert_bits(got, jax.vmap(jax.jit(split_and_sample), in_axes=axes)(ks, xs))


def test_grad_with_a_key_argument() -> None:
    def loss(k, x):
        return jnp.sum(jnp.sin(x) * jax.random.normal(k, x.shape))

    for argnums in (1, (1,)):
        got = jax.grad(tiers.jit(loss), argnums=argnums)(KEY, X)
        assert_bits(got, jax.grad(jax.jit(loss), argnums=argnums)(KEY, X))
    # And the gradient with respect to the key: float0, as JAX gives it.
    got = jax.grad(tiers.jit(loss), argnums=0, allow_int=True)(KEY, X)
    want = jax.grad(jax.jit(loss), argnums=0, allow_int=True)(KEY, X)
    assert got.dtype == want.dtype and got.shape == want.shape


def test_inside_jax_jit_and_value_and_grad() -> None:
    def step(k, x):
        k, s = jax.random.split(k)
        return jnp.sum(x * jax.random.normal(s, x.shape)), k

    got = jax.jit(jax.value_and_grad(tiers.jit(step), argnums=1, has_aux=True))(KEY, X)
    assert_bits(got, jax.jit(jax.value_and_grad(step, argnums=1, has_aux=True))(KEY, X))


# -- indexing key arrays --------------------------------------------------------------------
# Gathers and scatters on keys (array and traced indices, `take`, `.at[]`), and JAX's
# `stack`/`unstack`/`tile`/`split` primitives: imported as the same ops on the key data
# (frontend/import_keys.py).

RBG_KEYS = jax.random.split(jax.random.key(1, impl="rbg"), 4)
INDEXING = [
    ("traced_index", lambda k, i: k[i], (KEYS, np.int32(1))),
    ("array_index", lambda k: k[jnp.array([0, 2])], (KEYS,)),
    ("take", lambda k, i: jnp.take(k, i, axis=0), (KEYS, jnp.array([3, 1]))),
    ("two_axes", lambda k: k.reshape(2, 2)[jnp.array([1, 0]), jnp.array([0, 1])], (KEYS,)),
    ("column", lambda k, i: k.reshape(2, 2)[:, i], (KEYS, np.int32(1))),
    ("fill", lambda k, i: k.at[i].get(mode="fill"), (KEYS, np.int32(7))),
    ("clip", lambda k, i: k.at[i].get(mode="clip"), (KEYS, np.int32(7))),
    ("set", lambda k, u, i: k.at[i].set(u), (KEYS, KEY, np.int32(2))),
    ("set_drop", lambda k: k.at[jnp.array([1, 9])].set(k[:2], mode="drop"), (KEYS,)),
    ("vmapped_set", lambda k: jax.vmap(lambda j, u: k.at[j].set(u))(jnp.arange(2), k[:2]),
     (KEYS,)),
    ("vmapped_index", lambda k: jax.vmap(lambda j: jax.random.uniform(k[j]))(jnp.arange(3)),
     (KEYS,)),
    ("stack_tile_split", lambda k: (jnp.stack([k, k[::-1]]), jnp.unstack(k),
                                    jnp.tile(k.reshape(2, 2), (2, 3)), jnp.split(k, 2)),
     (KEYS,)),
    ("rbg", lambda k, i: (k[i], k.at[i].set(k[0]), jnp.tile(k, 2)),
     (RBG_KEYS, jnp.array([2, 0]))),
]


@pytest.mark.parametrize("emission", EMISSIONS)
@pytest.mark.parametrize("name,fn,args", INDEXING, ids=[p[0] for p in INDEXING])
def test_indexing_keys_matches_jax_jit(name, fn, args, emission) -> None:
    with tiers.config.set_emission(emission):
        got = tiers.jit(fn)(*args)
    assert_bits(got, jax.jit(fn)(*args))


def test_indexing_keys_under_vmap_and_grad() -> None:
    def pick(k, i):
        return k[i]

    # The key picked by a batched index: a gather whose index is batched.
    got = jax.vmap(lambda i: tiers.jit(pick)(KEYS, i))(jnp.arange(2))
    assert_bits(got, jax.vmap(lambda i: jax.jit(pick)(KEYS, i))(jnp.arange(2)))

    def loss(ks, i, x):
        ks = ks.at[0].set(ks[i])
        return jnp.sum(jnp.sin(x) * jax.random.normal(ks[jnp.array([0, 2])][0], x.shape))

    i = np.int32(1)
    assert_bits(jax.grad(tiers.jit(loss), argnums=2)(KEYS, i, X),
                jax.grad(jax.jit(loss), argnums=2)(KEYS, i, X))
    grads = jax.vmap(jax.grad(tiers.jit(loss), argnums=2), in_axes=(None, 0, None))
    want = jax.vmap(jax.grad(jax.jit(loss), argnums=2), in_axes=(None, 0, None))
    np.testing.assert_allclose(grads(KEYS, jnp.arange(3), X), want(KEYS, jnp.arange(3), X),
                               rtol=1e-6)
    # The keys' own gradient is float0, as JAX gives it.
    got = jax.grad(tiers.jit(loss), argnums=0, allow_int=True)(KEYS, i, X)
    assert got.dtype == jax.dtypes.float0 and got.shape == KEYS.shape


def test_a_gather_on_keys_gathers_whole_keys_of_data() -> None:
    text = tiers.jit(lambda k, i: k[i]).lower(KEYS, jnp.array([3, 1])).as_text("import")
    assert "slice_sizes [1, 2]" in text and "offset_dims [1]" in text
    assert "(tensor<4x2xui32>, tensor<2x1xi32>) -> tensor<2x2xui32>" in text
    module = tiers.jit(lambda k, i: (k[i], k.at[i[0]].set(k[3]), jnp.tile(k, 2))).lower(
        KEYS, jnp.array([3, 1])).compiler_ir("optimized")
    got = reference.run(module, [KEYS, np.array([3, 1], np.int32)])
    for g, w in zip(got, [KEYS[jnp.array([3, 1])], KEYS.at[3].set(KEYS[3]), jnp.tile(KEYS, 2)],
                    strict=True):
        np.testing.assert_array_equal(g, data(w))


# -- keys as constants ----------------------------------------------------------------------


def test_closed_over_keys() -> None:
    k = jax.random.key(11)
    ks = jax.random.split(jax.random.key(12, impl="rbg"), 3)

    def fn(x):
        return x + jax.random.normal(k, x.shape), jax.random.split(ks[1]), k

    for _ in range(2):  # a second call finds its compiled program
        assert_bits(tiers.jit(fn)(X), jax.jit(fn)(X))


# -- eager mode -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["immediate", "lazy"])
def test_eager_ops_on_key_tensors(mode) -> None:
    t = tiers.Tensor(KEYS)
    mask = jnp.array([True, False, True, False])
    cases = [(lambda a: tnp.reshape(a, (2, 2)), lambda a: jnp.reshape(a, (2, 2))),
             (lambda a: a[1], lambda a: a[1]),
             (lambda a: tnp.concatenate([a, a[::-1]]), lambda a: jnp.concatenate([a, a[::-1]])),
             (lambda a: tnp.where(mask, a, a[::-1]), lambda a: jnp.where(mask, a, a[::-1])),
             (lambda a: tiers.random.split(a[0]), lambda a: jax.random.split(a[0])),
             (lambda a: tiers.random.normal(a[2], (3,)), lambda a: jax.random.normal(a[2], (3,))),
             (lambda a: a[jnp.array([3, 0])], lambda a: a[jnp.array([3, 0])]),
             (lambda a: a.at[1].set(a[2]), lambda a: a.at[1].set(a[2])),
             (lambda a: tnp.stack([a, a]), lambda a: jnp.stack([a, a]))]
    with tiers.config.set_eager_mode(mode):
        for op, want in cases:
            got = op(t)
            assert isinstance(got, tiers.Tensor)
            assert_bits(got.value, want(KEYS))


def test_eager_ops_on_keys_are_compiled_kernels() -> None:
    kernel = eager.kernel_for(tnp.reshape, tiers.Tensor(KEYS), (2, 2))
    assert kernel.why_direct == ""
    assert "lax.random_wrap" in str(kernel.module)
    kernel = eager.kernel_for(tnp.take, tiers.Tensor(KEYS), jnp.array([3, 0]), axis=0)
    assert kernel.why_direct == "" and "lax.gather" in str(kernel.module)


JAX_RANDOM = [
    lambda k: jax.random.normal(k, (2,)), lambda k: jax.random.uniform(k, (3,)),
    jax.random.split, lambda k: jax.random.split(k, (2, 3)),
    lambda k: jax.random.fold_in(k, 7), jax.random.key_data, jax.random.clone,
    lambda k: jax.random.bits(k, (2,)), lambda k: jax.random.permutation(k, 5),
    lambda k: jax.random.bernoulli(k, 0.3, (4,)),
    lambda k: jax.random.choice(k, 5, (2,)), lambda k: jax.random.randint(k, (3,), 0, 10)]


@pytest.mark.parametrize("mode", ["immediate", "lazy"])
def test_jax_random_takes_tensors_of_keys(mode) -> None:
    """`jax.random`'s functions take a Tensor of typed keys as those keys (a Tensor is a
    `jax.Array`, which is what they check for), with the results they give on the keys."""
    # Every function on one implementation once; a few on the other and in lazy mode (each
    # is a JAX compile on both sides: the whole product took 20 s).
    few = [JAX_RANDOM[i] for i in (0, 2, 4, 5)]
    runs = [(KEY, JAX_RANDOM), (jax.random.key(4, impl="rbg"), few)] if mode == "immediate" \
        else [(KEY, few)]
    with tiers.config.set_eager_mode(mode):
        for key, fns in runs:
            t = tiers.Tensor(key)
            for fn in fns:
                assert_bits(fn(t), fn(key))
            assert jax.random.key_impl(t) == jax.random.key_impl(key)
        pending = tnp.reshape(tiers.Tensor(KEYS), (2, 2))  # in lazy mode, a pending value
        assert_bits(jax.random.key_data(pending), jax.random.key_data(KEYS.reshape(2, 2)))
        assert_bits(jax.vmap(jax.random.split)(tiers.Tensor(KEYS)),
                    jax.vmap(jax.random.split)(KEYS))
        got = tiers.jit(split_and_sample)(tiers.Tensor(KEY), X)
        assert all(isinstance(g, tiers.Tensor) for g in got)
        assert_bits([g.value for g in got], list(jax.jit(split_and_sample)(KEY, X)))
    # A Tensor of uint32 key data is still raw key data to them, as the array is.
    raw = jax.random.key_data(KEY)
    assert_bits(jax.random.normal(tiers.Tensor(raw), (2,)), jax.random.normal(raw, (2,)))
    assert_bits(jax.random.wrap_key_data(tiers.Tensor(raw)), KEY)


def test_save_and_load_a_function_of_keys(tmp_path) -> None:
    """An artifact's signature writes key leaves as `key<impl>`; the
    loaded function takes and returns key arrays, and refuses keys of another implementation."""
    from tiers.frontend.saving import SignatureError

    def f(k, x):
        k1, k2 = jax.random.split(k)
        return k1, x + jax.random.normal(k2, x.shape)

    key, x = jax.random.key(3), jnp.ones(3)
    path = tmp_path / "keys.tiers"
    tiers.save(tiers.jit(f), path, key, x)
    loaded = tiers.load(path)
    got, want = loaded(key, x), jax.jit(f)(key, x)
    np.testing.assert_array_equal(jax.random.key_data(got[0]), jax.random.key_data(want[0]))
    np.testing.assert_array_equal(got[1], want[1])
    with pytest.raises(SignatureError, match=r"k must be key<threefry2x32>\[\], got key<rbg>\[\]"):
        loaded(jax.random.key(3, impl="rbg"), x)


# -- layout: sharding constraints and reshard keep the keys ----------------------------------


def _constrained(mesh):
    """Keys laid out over mesh axis "x" (flax's `with_sharding_constraint` of a state holding
    its RNG keys), then split and sampled."""
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    def f(ks, x):
        ks = jax.lax.with_sharding_constraint(ks, NamedSharding(mesh, P("x")))
        return ks, jax.vmap(lambda k: x + jax.random.normal(k, x.shape))(ks)

    return f


def _resharded(ks, x):
    """`jax.sharding.reshard` of keys (flax nnx's dropout under an explicit mesh)."""
    from jax.sharding import PartitionSpec as P

    ks = jax.sharding.reshard(ks, P("x"))
    return ks, jax.vmap(lambda k: jax.random.bernoulli(k, 0.5, x.shape))(ks)


def _mesh(n: int, kind: str = "Auto"):
    axis_type = getattr(jax.sharding.AxisType, kind)
    return jax.make_mesh((n,), ("x",), axis_types=(axis_type,), devices=jax.devices()[:n])


@pytest.mark.parametrize("emission", EMISSIONS)
def test_sharding_constraint_and_reshard_keep_key_data(emission) -> None:
    ks = jax.random.split(jax.random.key(4), 4)
    f = _constrained(_mesh(1))
    with tiers.config.set_emission(emission):
        assert_bits(tiers.jit(f)(ks, X), jax.jit(f)(ks, X))
        with jax.set_mesh(_mesh(1, "Explicit")):
            assert_bits(tiers.jit(_resharded)(ks, X), jax.jit(_resharded)(ks, X))
    # The constraint holds the keys' data: its spec names the key dimension, the data's
    # trailing dimension is left replicated.
    module = tiers.jit(f).lower(ks, X).program.module
    op = next(o for o in module.walk() if isinstance(o, lax.ShardingConstraintOp))
    assert op.operand.type == TensorType(lax.elem(op.operand), [4, 2])
    assert str(op.spec) == '[["x"]]'


def test_sharded_key_tests_in_a_subprocess_with_8_devices() -> None:
    from conftest import run_with_devices

    run_with_devices(__file__)


@pytest.mark.devices
def test_keys_laid_out_over_devices() -> None:
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    mesh = _mesh(8)
    ks = jax.device_put(jax.random.split(jax.random.key(5), 8), NamedSharding(mesh, P()))
    f = _constrained(mesh)
    got, want = tiers.jit(f)(ks, X), jax.jit(f)(ks, X)
    assert_bits(got, want)
    assert got[0].sharding.is_equivalent_to(NamedSharding(mesh, P("x")), 1)
    assert {s.data.shape for s in got[0].addressable_shards} == {(1,)}
    with jax.set_mesh(_mesh(8, "Explicit")):
        assert_bits(tiers.jit(_resharded)(ks, X), jax.jit(_resharded)(ks, X))
