"""float8 (`jnp.float8_e4m3fn`, ..., MLIR's `f8E4M3FN`, ...) through tiers: the IR types and
their constants, `tiers.jit` against `jax.jit` bit for bit (conversions and arithmetic on every
value or pair of values, float8 matmuls, reductions), the reference target against XLA, passes,
eager ops, artifacts; and extended dtypes other than PRNG keys (flax's `fp8_meta32`), modelled
here by a dtype whose gradients accumulate by their maximum.

filecheck/dialects/lax/float8.mlir and filecheck/passes/fold-constants-float8.mlir show the IR.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest
from jax import lax as jlax
from jax._src import core as jax_core
from jax._src import dtypes as jax_dtypes
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

import tiers
import tiers.targets.jax as jax_target
from tiers import pipeline
from tiers.dialects import dtypes, lax
from tiers.dialects.constants import constant_array, dense
from tiers.frontend import eager
from tiers.frontend.emitter import UnsupportedPrimitive
from tiers.frontend.importer import import_jaxpr
from tiers.pipeline.context import make_context
from tiers.targets import reference

FORMATS = dtypes.FLOAT8_DTYPES
NAMES = [d.name for d in FORMATS]
SPELLING = {"float8_e4m3fn": "f8E4M3FN", "float8_e5m2": "f8E5M2", "float8_e4m3fnuz": "f8E4M3FNUZ",
            "float8_e5m2fnuz": "f8E5M2FNUZ", "float8_e4m3b11fnuz": "f8E4M3B11FNUZ",
            "float8_e4m3": "f8E4M3", "float8_e3m4": "f8E3M4", "float8_e8m0fnu": "f8E8M0FNU"}
E4M3FN, E5M2 = np.dtype(ml_dtypes.float8_e4m3fn), np.dtype(ml_dtypes.float8_e5m2)
E8M0 = np.dtype(ml_dtypes.float8_e8m0fnu)
F32 = np.dtype(np.float32)
CTX = make_context()
tnp = tiers.numpy


def every_value(dtype: np.dtype) -> np.ndarray:
    """All 256 bit patterns of a float8 format, NaNs and infinities included."""
    return np.arange(256, dtype=np.uint8).view(dtype)


def every_pair(dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    x = every_value(dtype)
    return np.repeat(x, 256), np.tile(x, 256)


def assert_bits(got, want) -> None:
    """Equal trees of arrays: dtypes, shapes and bytes (NaN payloads included)."""
    assert jax.tree.structure(got) == jax.tree.structure(want)
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        g, w = np.asarray(g), np.asarray(w)
        assert (g.dtype, g.shape) == (w.dtype, w.shape)
        if g.tobytes() != w.tobytes():
            bad = np.flatnonzero(g.reshape(-1).view(np.uint8) != w.reshape(-1).view(np.uint8))
            raise AssertionError(f"{bad.size} bytes differ, first at byte {bad[0]}: got "
                                 f"{g.reshape(-1)[:1]} ... want {w.reshape(-1)[:1]} ...")


def assert_values(got, want) -> None:
    """Equal lists of arrays: dtypes, shapes and values, -0.0 apart from 0.0, any NaN equal to
    any other (numpy and XLA give NaNs of different signs)."""
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        g, w = np.asarray(g), np.asarray(w)
        assert (g.dtype, g.shape) == (w.dtype, w.shape)
        if g.dtype == np.bool_:
            np.testing.assert_array_equal(g, w)
            continue
        g64, w64 = g.astype(np.float64), w.astype(np.float64)
        same = (g64.view(np.int64) == w64.view(np.int64)) | (np.isnan(g64) & np.isnan(w64))
        assert same.all(), f"{(~same).sum()} differ: got {g[~same][:4]}, want {w[~same][:4]}"


def jit_both_ways(fn, *args, emission: str = "stablehlo"):
    """`tiers.jit(fn)(*args)` with `emission`, and `jax.jit(fn)(*args)`."""
    with tiers.config.set_emission(emission):
        got = tiers.jit(fn)(*args)
    return got, jax.jit(fn)(*args)


def f32_specials() -> np.ndarray:
    """Every float8 value as float32, between-values, overflows, NaNs and infinities."""
    values = [every_value(d).astype(F32) for d in FORMATS]
    extra = np.array([0.0, -0.0, 1e-30, -1e-30, 1e30, -1e30, np.inf, -np.inf, np.nan, -np.nan,
                      448, 464, 480, 57344, 61440, 65536, 3e-3, -2, 0.3, 1.3], F32)
    both = np.concatenate([*values, extra])
    return np.unique(both.view(np.uint32)).view(F32)


# -- the IR: types and constants -----------------------------------------------------------


def test_every_jax_float8_format_is_an_element_type() -> None:
    assert sorted(NAMES) == sorted(SPELLING)
    for d in FORMATS:
        assert np.dtype(getattr(jnp, d.name)) == d
        element = dtypes.element_type(d)
        assert str(element) == SPELLING[d.name] and dtypes.to_numpy(element) == d
        assert dtypes.is_float(element) and dtypes.is_float8(element)
        assert not dtypes.needs_x64(d)
    assert not dtypes.is_float8(dtypes.element_type(np.float16))
    with pytest.raises(dtypes.UnsupportedDType, match="float4_e2m1fn"):
        dtypes.element_type(jnp.float4_e2m1fn)


@pytest.mark.parametrize("dtype", FORMATS, ids=NAMES)
def test_constants_print_and_parse_back_exactly(dtype) -> None:
    # Finite values print as decimals, each exact; a NaN or infinity makes raw bytes.
    values = every_value(dtype)
    for array in (values[np.isfinite(values.astype(F32))], values):
        text = str(lax.ConstantOp(dense(array)))
        assert SPELLING[dtype.name] in text
        parsed = Parser(CTX, "builtin.module {\n" + text + "\n}").parse_module()
        back = constant_array(next(iter(parsed.body.block.ops)).value)  # type: ignore[attr-defined]
        assert back.dtype == dtype and back.tobytes() == array.tobytes(), text


def test_identities_of_max_and_min_without_infinities() -> None:
    # JAX's `_get_max_identity`: -inf, or the lowest finite value where a format has no
    # infinities (-inf would be NaN there).
    assert dtypes.infinity(E4M3FN, -1) == -448.0 and dtypes.infinity(E5M2, -1) == -np.inf
    assert dtypes.infinity(np.dtype(ml_dtypes.float8_e4m3fnuz), 1) == 240.0
    assert dtypes.infinity(F32, 1) == np.inf


# -- tiers.jit against jax.jit, bit for bit ------------------------------------------------


def conversions(x, y):
    """A float8 array to every other type and format, and float32 (and others) to float8."""
    d = x.dtype
    return {"from8": [x.astype(t) for t in (jnp.float32, jnp.float16, jnp.bfloat16, jnp.int32,
                                            jnp.uint8, jnp.bool_, *FORMATS)],
            "to8": [y.astype(d), y.astype(jnp.float16).astype(d),
                    y.astype(jnp.bfloat16).astype(d),
                    jnp.clip(y, -1e9, 1e9).astype(jnp.int32).astype(d)],
            "bits": [jlax.bitcast_convert_type(x, jnp.uint8),
                     jlax.bitcast_convert_type(jlax.bitcast_convert_type(x, jnp.int8), d)]}


@pytest.mark.parametrize("emission", jax_target.EMISSIONS)
@pytest.mark.parametrize("dtype", FORMATS, ids=NAMES)
def test_conversions_match_jax_bit_for_bit(dtype, emission) -> None:
    x, y = every_value(dtype), f32_specials()
    got, want = jit_both_ways(conversions, x, y, emission=emission)
    assert_bits(got, want)
    # XLA rounds to float8 as ml_dtypes does (round to nearest even, its overflow rules; the
    # sign of a NaN aside).
    with np.errstate(all="ignore"):
        for g, w in ((got["to8"][0], y.astype(dtype)), (got["from8"][0], x.astype(F32))):
            np.testing.assert_array_equal(np.asarray(g).astype(F32), w.astype(F32))


def arithmetic(x, y):
    """Elementwise ops, each on the operands themselves (no chain XLA could keep wide)."""
    return [x + y, x - y, x * y, x / y, jnp.maximum(x, y), jnp.minimum(x, y), -x, jnp.abs(x),
            jnp.sign(x), jnp.sqrt(x), jnp.exp(x), jnp.log(x), jnp.tanh(x), jnp.floor(x),
            x < y, x == y, jnp.isnan(x), jnp.where(x > y, x, y)]


@pytest.mark.parametrize("emission", jax_target.EMISSIONS)
@pytest.mark.parametrize("dtype", FORMATS, ids=NAMES)
def test_arithmetic_on_every_pair_matches_jax_bit_for_bit(dtype, emission) -> None:
    assert_bits(*jit_both_ways(arithmetic, *every_pair(dtype), emission=emission))


def program(x, w, s):
    """What an fp8 training step does: scale, quantize, matmul accumulating in f32, dequantize,
    reduce; with constants and literals of float8."""
    q = (x / s).astype(jnp.float8_e4m3fn)
    k = jnp.asarray(np.array([1.5, -2.0, 0.25, 448.0], np.float32).astype(jnp.float8_e4m3fn))
    h = jlax.dot(q, w, preferred_element_type=jnp.float32) * s
    g = (h.astype(jnp.float8_e5m2) * 2 + 1).reshape(-1)[:4] * k.astype(jnp.float8_e5m2)
    return h, g, jnp.max(jnp.abs(x)), jnp.sum(q[0] * k), jnp.full((2,), 0.5, jnp.float8_e4m3fn)


@pytest.mark.parametrize("pipe", ["O0", "O1", "default"])
def test_programs_match_jax_bit_for_bit(pipe) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype(F32) * 100
    w = rng.standard_normal((4, 4)).astype(E4M3FN)
    got = tiers.jit(program, pipeline=pipe)(x, w, np.float32(2.0))
    assert_bits(got, jax.jit(program)(x, w, np.float32(2.0)))


@pytest.mark.parametrize("emission", jax_target.EMISSIONS)
def test_constants_convert_to_e8m0fnu_as_xla_runs(emission) -> None:
    # f8E8M0FNU has no zero and no sign: XLA at run time (and JAX at trace time) makes 0 and
    # -2 NaN, where StableHLO's folder would make them 2**-127 and 2. jnp.pad and jnp.clip
    # convert their int literals inside a `jit` that tiers inlines.
    def fn(x):
        return jnp.pad(x, 3), jnp.clip(x, -2, 2), jnp.where(x > 1, x, 0)

    assert_bits(*jit_both_ways(fn, every_value(E8M0), emission=emission))


@pytest.mark.parametrize("emission", jax_target.EMISSIONS)
def test_dot_general_with_float8_inputs(emission) -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 3, 8)).astype(E4M3FN)
    b = rng.standard_normal((2, 8, 5)).astype(E5M2)
    c = rng.standard_normal((8, 5)).astype(ml_dtypes.float8_e4m3b11fnuz)
    batched = partial(jlax.dot_general, dimension_numbers=(((2,), (1,)), ((0,), (0,))))

    def dots(a, b, c):
        return (batched(a, b.astype(E4M3FN)),  # one format, float8 result
                batched(a, a.transpose(0, 2, 1), preferred_element_type=jnp.float32),
                batched(a, b, preferred_element_type=jnp.float32),  # two float8 formats
                jlax.dot(a[0], c, preferred_element_type=jnp.float32),  # e4m3b11fnuz: converted
                jlax.dot(a[0].astype(jnp.float32), c.astype(jnp.float32)))

    assert_bits(*jit_both_ways(dots, a, b, c, emission=emission))
    # Two float8 formats multiply as they are, as JAX's lowering writes it.
    text = tiers.jit(lambda a, b: batched(a, b, preferred_element_type=jnp.float32)).lower(
        a, b).as_text()
    assert "stablehlo.convert" not in text
    assert "tensor<2x3x8xf8E4M3FN>, tensor<2x8x5xf8E5M2>) -> tensor<2x3x5xf32>" in text


@pytest.mark.parametrize("dtype", FORMATS, ids=NAMES)
def test_reductions_match_jax_bit_for_bit(dtype) -> None:
    # Finite values only: XLA's own results for NaN-laden float8 reductions vary from run to
    # run (jax.jit against itself).
    x = every_value(dtype)
    x = x[np.isfinite(x.astype(F32))][:96].reshape(8, 12)

    def reductions(x):
        return (jnp.max(x, axis=0), jnp.min(x, axis=1), jnp.sum(x[:2], axis=1),
                jnp.argmax(x, axis=1), jnp.argmin(x, axis=0), jlax.reduce_max(x[:0], (0,)),
                jlax.reduce_min(x[:, :0], (1,)), jnp.cumsum(x[0, :6]), jnp.sort(x[1]),
                jlax.top_k(x[2], 3))

    assert_bits(*jit_both_ways(reductions, x))


def test_vmap_and_grad_through_quantization() -> None:
    def loss(w, x):
        q = w.astype(jnp.float8_e4m3fn).astype(jnp.float32)  # fake quantization
        return jnp.sum(jnp.tanh(x @ q) ** 2)

    rng = np.random.default_rng(2)
    w, x = rng.standard_normal((4, 3)).astype(F32), rng.standard_normal((5, 4)).astype(F32)
    want = jax.jit(jax.grad(loss))(w, x)
    assert_bits(tiers.jit(jax.grad(loss))(w, x), want)
    np.testing.assert_allclose(jax.grad(tiers.jit(loss))(w, x), want, rtol=1e-6)
    batched = jax.vmap(lambda w: w.astype(jnp.float8_e5m2) * 3)
    assert_bits(tiers.jit(batched)(w), jax.jit(batched)(w))


# -- the reference target and passes ---------------------------------------------------------


def reference_run(fn, *args) -> list[np.ndarray]:
    return reference.run(import_jaxpr(jax.make_jaxpr(fn)(*args)), list(args))


@pytest.mark.parametrize("dtype", [d for d in FORMATS if d != E8M0],
                         ids=[n for n in NAMES if n != "float8_e8m0fnu"])
def test_reference_rounds_one_op_as_xla_does(dtype) -> None:
    # XLA computes float8 in float16 and rounds: one op on every pair gives its bits. (Not
    # float8_e8m0fnu: XLA on CPU computes it in float32 with subnormals, its 2**-127, flushed;
    # the reference computes with them. Chains differ anyway where XLA keeps a fused chain in
    # float16, `xla_allow_excess_precision`.)
    x, y = every_pair(dtype)

    def ops(x, y):
        return [x + y, x - y, x * y, x / y, jnp.maximum(x, y), jnp.sqrt(x), jnp.exp(x),
                jnp.tanh(x), jnp.log(x), -x, x < y, jlax.reduce_precision(x, 3, 1)]

    assert_values(reference_run(ops, x, y), jax.tree.leaves(jax.jit(ops)(x, y)))


def test_reference_bit_recipes_and_their_limits() -> None:
    for dtype in FORMATS:  # reduce_precision: in the format XLA computes float8 in
        x = every_value(dtype)
        for e, m in ((2, 1), (3, 2), (5, 8)):
            fn = partial(jlax.reduce_precision, exponent_bits=e, mantissa_bits=m)
            assert_values(reference_run(fn, x), [jax.jit(fn)(x)])
    for dtype in (E5M2, np.dtype(ml_dtypes.float8_e4m3), np.dtype(ml_dtypes.float8_e3m4)):
        x, y = every_pair(dtype)  # nextafter: IEEE's layout, in the format itself
        assert_values(reference_run(jnp.nextafter, x, y), [jax.jit(jnp.nextafter)(x, y)])
    x = every_value(E4M3FN)
    with pytest.raises(NotImplementedError, match="'lax.nextafter' on float8_e4m3fn"):
        reference_run(jnp.nextafter, x, x)


def test_reference_sorts_nan_as_xla_orders_it() -> None:
    # The NaN of the FNUZ formats has the bits of -0: XLA sorts it first.
    for dtype in FORMATS[:3]:
        x = every_value(dtype)
        assert_values(reference_run(jnp.sort, x), [jax.jit(jnp.sort)(x)])


def optimized(fn, *args, spec: str) -> tuple[ModuleOp, ModuleOp]:
    module = import_jaxpr(jax.make_jaxpr(fn)(*args))
    return module, pipeline.compile(module.clone(), spec)


def test_fold_constants_folds_float8_only_where_data_moves() -> None:
    a = np.array([1.5, -2.0, 448.0, 0.25], E4M3FN)

    def fn():
        c = jnp.asarray(a)
        return jnp.concatenate([c, c])[::-1], c * c, jnp.sum(c), c.astype(jnp.float32) + 1

    before, after = optimized(fn, spec="fold-constants,dce")
    kinds = {op.name for op in after.walk()} - {"builtin.module", "func.func", "func.return"}
    assert kinds == {"lax.constant", "lax.mul", "lax.reduce_sum"}
    want = jax.tree.leaves(jax.jit(fn)())
    for module in (before, after):
        assert_bits(jax_target.compile(module)(), want)


# -- eager mode and artifacts ----------------------------------------------------------------


def test_eager_float8_ops(eager_mode) -> None:
    x, y = every_value(E4M3FN), np.roll(every_value(E4M3FN), 37)
    a, b = tnp.asarray(x), tnp.asarray(y)
    for ours, theirs, args in [(tnp.add, jnp.add, (a, b)), (tnp.multiply, jnp.multiply, (a, b)),
                               (tnp.exp, jnp.exp, (a,)), (tnp.maximum, jnp.maximum, (a, b)),
                               (tnp.sum, jnp.sum, (a,))]:
        got = ours(*args)
        assert isinstance(got, tiers.Tensor) and got.dtype == E4M3FN
        assert_bits(np.asarray(got), theirs(*(np.asarray(v) for v in args)))
        if eager_mode == "immediate":  # a compiled kernel, not JAX's op by op
            assert eager.kernel_for(ours, *args).why_direct == "", ours.__name__
    assert_bits(np.asarray(a * 2 + b), jnp.asarray(x) * 2 + y)
    z = np.float32([1.3, 500, -0.001])
    assert_bits(np.asarray(tnp.asarray(z).astype(E5M2)), jnp.asarray(z).astype(E5M2))


def test_save_and_load_float8(tmp_path) -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4)).astype(F32) * 100
    w = rng.standard_normal((4, 4)).astype(E4M3FN)
    path = tmp_path / "fp8.tiers"
    tiers.save(tiers.jit(program), path, x, w, np.float32(2.0))
    loaded = tiers.load(path)
    assert_bits(loaded(x, w, np.float32(2.0)), jax.jit(program)(x, w, np.float32(2.0)))
    exported = jax.export.deserialize(bytearray(loaded.stablehlo))
    assert_bits(exported.call(x, w, np.float32(2.0)), jax.jit(program)(x, w, np.float32(2.0)))


# -- extended dtypes other than PRNG keys (flax's fp8_meta32) -------------------------------


class _MaxRules:
    """An extended dtype represented by float32 whose gradients accumulate by their maximum,
    as flax's `fp8_ops.Fp8MetaTyRules` (the amax history of fp8 training)."""

    @staticmethod
    def physical_element_aval(dtype):
        return jax_core.ShapedArray((), dtype.float_dtype)

    @staticmethod
    def convert_from(edtype, other) -> bool:
        return edtype.float_dtype == other

    @staticmethod
    def convert_to(other, edtype) -> bool:
        return edtype.float_dtype == other

    @staticmethod
    def add(dt, x, y):
        wide = partial(jlax.convert_element_type, new_dtype=dt.float_dtype)
        return jlax.convert_element_type(jlax.max(wide(x), wide(y)), dt)

    @staticmethod
    def zero(dt):
        return jlax.convert_element_type(np.array(-np.inf, dt.float_dtype), dt)

    @staticmethod
    def tangent_dtype(dtype):
        return dtype

    @staticmethod
    def full(shape, fill_value, dtype):
        fill = jlax.convert_element_type(fill_value, dtype.float_dtype)
        return jlax.convert_element_type(jlax.full(shape, fill, dtype.float_dtype), dtype)

    @staticmethod
    def global_sharded_result_handler(aval, out_sharding, committed):
        from jax._src import earray
        from jax._src.interpreters import pxla

        handler = pxla.global_result_handlers[jax_core.ShapedArray](
            jax_core.physical_aval(aval), out_sharding, committed)
        return lambda bufs: earray.EArray(aval, handler(bufs))


class _max_dtype(jax_dtypes.extended):
    pass


@dataclasses.dataclass(frozen=True)
class _MaxDType(jax_dtypes.ExtendedDType):
    float_dtype: jax_dtypes.DType
    _rules: type = _MaxRules
    type: type = _max_dtype

    def __repr__(self) -> str:
        return "max32"

    name = property(__repr__)


MAX32 = _MaxDType(F32)
to_max, from_max = (partial(jlax.convert_element_type, new_dtype=t) for t in (MAX32, F32))


@jax.custom_vjp
def scaled(x, scale, history):
    """flax's `fp8_ops.in_qdq`: x quantized with `scale`; the "gradients" of the metadata are
    their next values (the amax history rolled, this step's amax in front)."""
    return (x / from_max(scale)).astype(jnp.float8_e4m3fn).astype(F32) * from_max(scale)


def _scaled_fwd(x, scale, history):
    new_history = jnp.roll(from_max(history), 1).at[0].set(jnp.max(jnp.abs(x)))
    new_scale = jnp.max(new_history) / 448.0
    return scaled(x, scale, history), (to_max(new_scale[None]), to_max(new_history))


scaled.defvjp(_scaled_fwd, lambda res, g: (g, *res))


def amax_step(x, history, scale):
    """flax's `test_fp8_meta_dtype`: metadata used at each step of a loop; the gradients of
    the metadata are the maxima of what each step gives, not their sums."""
    h, s = to_max(history), to_max(scale)
    out, _ = jlax.scan(lambda c, _: (scaled(c, s, h), None), jnp.array([x], F32), None,
                       length=3)
    return out[0]


def test_extended_dtype_gradients_accumulate_by_its_rule() -> None:
    grad = jax.grad(amax_step, (0, 1, 2))
    args = (np.float32(2.0), np.float32([0.5, -1.0, 3.0]), np.float32([1.5]))
    want = jax.jit(grad)(*args)
    for emission in jax_target.EMISSIONS:
        assert_bits(jit_both_ways(grad, *args, emission=emission)[0], want)
    assert_bits(tiers.jit(grad, pipeline="O0")(*args), want)
    np.testing.assert_array_equal(jax.grad(tiers.jit(amax_step), (0, 1, 2))(*args)[1], want[1])
    # `add_any` of two MAX32 values imports as their maximum.
    module = tiers.jit(grad).lower(*args).program.module
    assert not [op for op in module.walk() if op.name == "lax.add_any"]


def test_extended_dtype_arrays_move_and_cross_the_boundary() -> None:
    x = np.float32([1.0, 5.0, -2.0, 0.0])

    def moves(a):
        m = to_max(a)
        return [from_max(v) for v in (
            m[jnp.array([0, 2])], jlax.pad(m, to_max(np.float32(7)), [(1, 1, 0)]),
            jnp.where(a > 0, m, to_max(-a)), m.at[jnp.array([1])].set(m[:1]),
            jnp.zeros_like(m), jlax.rev(m, (0,))[1:3].reshape(2, 1))]

    assert_bits(*jit_both_ways(moves, x))
    got, want = jit_both_ways(to_max, x)  # a result of the extended dtype
    assert got.dtype == want.dtype == MAX32
    assert_bits(tiers.jit(from_max)(got), x)  # and an argument


def test_extended_dtype_computation_is_a_clear_error() -> None:
    def same(a, b):
        return to_max(a) == to_max(b)

    x = np.float32([1.0, 2.0])
    with pytest.raises(UnsupportedPrimitive, match="primitive 'eq' on arrays of extended dtype "
                                                   "max32"):
        tiers.jit(same)(x, x)
