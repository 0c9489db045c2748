"""Complex numbers (complex64, complex128 under x64) through tiers: the IR type and its
constants, the passes that fold or rewrite (exact, or not at all), both targets, `tiers.jit`
against `jax.jit` (values, `jax.grad` through complex intermediates, `jnp.fft`, `vmap`) and
eager `tiers.numpy` ops; and `float0`, the dtype of gradients with respect to integers.

tests/test_lax_ops.py runs each complex op alone on both targets and both emissions.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser
from xdsl.utils.exceptions import VerifyException

import tiers
import tiers.targets.jax as jax_target
from tiers import pipeline
from tiers.dialects import dtypes, lax
from tiers.dialects.constants import constant_array, dense
from tiers.frontend import eager
from tiers.frontend.importer import import_jaxpr
from tiers.passes.canonicalization import splat_value
from tiers.pipeline.context import make_context
from tiers.targets import reference

C64, C128, F32 = np.dtype(np.complex64), np.dtype(np.complex128), np.dtype(np.float32)
CTX = make_context()
tnp = tiers.numpy


def cplx(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype = C64) -> np.ndarray:
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


def assert_same(got, want, rtol: float = 2e-5, atol: float = 2e-6) -> None:
    """Equal trees of arrays: dtypes and shapes exactly, values within tolerance."""
    got_leaves, want_leaves = jax.tree.leaves(got), jax.tree.leaves(want)
    assert jax.tree.structure(got) == jax.tree.structure(want)
    for g, w in zip(got_leaves, want_leaves, strict=True):
        g, w = np.asarray(g), np.asarray(w)
        assert (g.dtype, g.shape) == (w.dtype, w.shape)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def parse(text: str) -> ModuleOp:
    return Parser(CTX, text).parse_module()


# -- tiers.jit against jax.jit -------------------------------------------------------------


def waves(x, z):
    """Elementwise math, mixing real and complex values, with complex and real results."""
    w = z * jnp.exp(1j * x) + jnp.conj(z) / (1 + jnp.abs(z))
    return {"w": w, "abs": jnp.abs(w), "angle": jnp.angle(w), "parts": (w.real, w.imag),
            "fns": jnp.stack([jnp.sqrt(w), jnp.log(w), jnp.tanh(w), jnp.sin(w), jnp.cos(w),
                              w ** 2, w ** (0.5 + 1j), jax.nn.sigmoid(w)]),
            "eq": (w == z, w != jnp.conj(w))}


def reductions(x, z):
    m = z.reshape(3, 4)
    return (jnp.sum(m, axis=0), jnp.prod(m[:, :2], axis=1), jnp.mean(z), jnp.cumsum(z),
            m @ m.T.conj(), jnp.vdot(z, z), jnp.linalg.norm(z), jnp.max(z), jnp.sort(z),
            jnp.where(x > 0, z, 0j), jnp.maximum(z, jnp.conj(z)))


def casts(x, z):
    return (z.astype(jnp.complex64) + x, x.astype(jnp.complex64), jax.lax.complex(x, -x),
            jnp.real(z).astype(jnp.int32), jnp.iscomplex(z), jnp.isfinite(z),
            jnp.concatenate([z, x + 0j])[::-2], jnp.pad(z, 2, constant_values=1 - 1j))


@pytest.mark.parametrize("fn", [waves, reductions, casts], ids=lambda f: f.__name__)
@pytest.mark.parametrize("pipe", ["default", "O0", "O2"])
def test_programs_match_jax(fn, pipe) -> None:
    rng = np.random.default_rng(0)
    x, z = rng.standard_normal(12).astype(F32), cplx(rng, (12,))
    assert_same(tiers.jit(fn, pipeline=pipe)(x, z), jax.jit(fn)(x, z))


def test_complex128_under_x64() -> None:
    rng = np.random.default_rng(1)
    with jax.enable_x64(True):
        x, z = rng.standard_normal(12), cplx(rng, (12,), C128)
        got, want = tiers.jit(waves)(x, z), jax.jit(waves)(x, z)
        assert got["w"].dtype == C128
        assert_same(got, want, rtol=1e-12, atol=1e-13)


def test_grad_of_real_functions_of_complex_intermediates() -> None:
    def loss(x):
        z = jnp.fft.fft(x * jnp.exp(0.3j * x))
        return jnp.sum(jnp.abs(z) ** 2) + jnp.real(jnp.vdot(z, z * 1j)) + jnp.angle(z[1])

    x = np.random.default_rng(2).standard_normal(8).astype(F32)
    want = jax.grad(loss)(x)
    assert_same(jax.grad(tiers.jit(loss))(x), want, rtol=1e-4, atol=1e-5)
    assert_same(tiers.jit(jax.grad(loss))(x), want, rtol=1e-4, atol=1e-5)


def test_grad_with_respect_to_complex_arguments() -> None:
    z = cplx(np.random.default_rng(3), (5,))
    real = lambda z: jnp.sum(jnp.abs(jnp.sin(z)) ** 2)  # noqa: E731
    holo = lambda z: jnp.sum(z ** 3 - 2j * z)  # noqa: E731
    assert_same(jax.grad(tiers.jit(real))(z), jax.grad(real)(z), rtol=1e-4)
    assert_same(tiers.jit(jax.grad(holo, holomorphic=True))(z),
                jax.grad(holo, holomorphic=True)(z), rtol=1e-4)


def test_fft_round_trips() -> None:
    rng = np.random.default_rng(4)
    x, z = rng.standard_normal((3, 8)).astype(F32), cplx(rng, (3, 8))

    def trips(x, z):
        return (jnp.fft.ifft(jnp.fft.fft(z)), jnp.fft.irfft(jnp.fft.rfft(x), n=8),
                jnp.fft.ifft2(jnp.fft.fft2(z)), jnp.fft.irfftn(jnp.fft.rfftn(x), s=x.shape),
                jnp.fft.fft(x, n=12), jnp.fft.rfft(x, axis=0), jnp.fft.fftshift(jnp.fft.fft(z)))

    got = tiers.jit(trips)(x, z)
    assert_same(got, jax.jit(trips)(x, z), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(got[0]), z, atol=1e-5)
    np.testing.assert_allclose(np.asarray(got[1]), x, atol=1e-5)
    np.testing.assert_allclose(np.asarray(got[2]), z, atol=1e-5)
    np.testing.assert_allclose(np.asarray(got[3]), x, atol=1e-5)


def test_vmap_both_ways() -> None:
    rng = np.random.default_rng(5)
    x, z = rng.standard_normal((4, 12)).astype(F32), cplx(rng, (4, 12))
    want = jax.vmap(waves)(x, z)
    assert_same(jax.vmap(tiers.jit(waves))(x, z), want)
    assert_same(tiers.jit(jax.vmap(waves))(x, z), want)
    spectrum = lambda z: jnp.abs(jnp.fft.fft(z)) ** 2  # noqa: E731
    assert_same(jax.vmap(tiers.jit(spectrum))(z), jax.vmap(spectrum)(z), rtol=1e-4)


def test_linalg_of_complex_matrices() -> None:
    # eig has no tiers op: it runs as `lax.generic`, compiled by JAX's own lowering.
    a = cplx(np.random.default_rng(6), (3, 3)) + 3 * np.eye(3, dtype=C64)
    fns = (jnp.linalg.inv, jnp.linalg.eigvals, lambda a: jnp.linalg.svd(a, compute_uv=False))
    for fn in fns:
        assert_same(tiers.jit(fn)(a), jax.jit(fn)(a), rtol=1e-4, atol=1e-5)


# -- the IR: types, constants, verifiers ---------------------------------------------------


def test_dtype_mapping_both_ways() -> None:
    for name, text in (("complex64", "complex<f32>"), ("complex128", "complex<f64>")):
        element = dtypes.element_type(name)
        assert str(element) == text and dtypes.to_numpy(element) == np.dtype(name)
    assert dtypes.needs_x64(C128) and not dtypes.needs_x64(C64)
    assert dtypes.real_part(dtypes.element_type(C64)) == dtypes.element_type(F32)


@pytest.mark.parametrize("values", [
    [1 + 2j, -0.0 - 0.0j, complex(0.1, 1 / 3)],  # printed as numbers, signs kept
    [complex(np.inf, -1), complex(np.nan, 0), complex(1, -np.inf)],  # printed as hex bytes
])
@pytest.mark.parametrize("dtype", [C64, C128])
def test_constants_print_and_parse_back_exactly(values, dtype) -> None:
    array = np.array(values, dtype)
    text = str(lax.ConstantOp(dense(array)))
    parsed = parse("builtin.module {\n" + text + "\n}")
    back = constant_array(next(iter(parsed.body.block.ops)).value)
    assert back.dtype == dtype and back.tobytes() == array.tobytes(), text


def test_fft_op_syntax_round_trips() -> None:
    text = ('%y = "test.op"() : () -> tensor<2x8xf32>\n'
            '%z = lax.fft %y fft_type "RFFT" fft_lengths [8] : tensor<2x8xf32> -> '
            'tensor<2x5xcomplex<f32>>')
    module = parse(f"builtin.module {{\n{text}\n}}")
    module.verify()
    assert 'lax.fft %y fft_type "RFFT" fft_lengths [8] : tensor<2x8xf32> -> ' in str(module)


@pytest.mark.parametrize("body, error", [
    ("%r = lax.lt %z, %z : (tensor<4xcomplex<f32>>, tensor<4xcomplex<f32>>) -> tensor<4xi1>",
     "does not accept complex operands"),
    ("%r = lax.real %x : tensor<4xf32>", "expects complex operands"),
    ("%r = lax.abs %z : tensor<4xcomplex<f32>>", "result element type must be f32"),
    ("%r = lax.floor %z : tensor<4xcomplex<f32>>", "expects real floating-point operands"),
    ("%r = lax.complex %z, %z : (tensor<4xcomplex<f32>>, tensor<4xcomplex<f32>>) -> "
     "tensor<4xcomplex<f32>>", "expects f32 or f64 operands"),
    ('%r = lax.fft %z fft_type "FFT" fft_lengths [8] : tensor<4xcomplex<f32>>',
     "must equal fft_lengths"),
    ('%r = lax.fft %x fft_type "FFT" fft_lengths [4] : (tensor<4xf32>) -> '
     "tensor<4xcomplex<f32>>", "FFT expects a complex operand"),
])
def test_verifiers_reject_what_jax_rejects(body, error) -> None:
    head = ('%x = "test.op"() : () -> tensor<4xf32>\n'
            '%z = "test.op"() : () -> tensor<4xcomplex<f32>>\n')
    module = parse(f"builtin.module {{\n{head}{body}\n}}")
    with pytest.raises(VerifyException, match=error):
        module.verify()


# -- passes: exact for complex numbers, or not applied --------------------------------------


def optimized(fn, *args, spec: str) -> tuple[ModuleOp, ModuleOp]:
    module = import_jaxpr(jax.make_jaxpr(fn)(*args))
    return module, pipeline.compile(module.clone(), spec)


def ops(module: ModuleOp, cls: type) -> list:
    return [op for op in module.walk() if isinstance(op, cls)]


def test_fold_constants_folds_complex_only_where_numpy_is_xla() -> None:
    a = np.array([1.5 - 2j, np.inf + 1j, -0.0 + 3j, 1e30 + 1e-30j], C64)
    b = np.array([0.25 + 1j, 2 - 1j, -0.0 - 0.0j, 3e30 - 7j], C64)

    def fn():
        ca, cb = jnp.asarray(a), jnp.asarray(b)
        exact = (ca + cb, ca - cb, -jnp.conj(ca), ca.real, jax.lax.complex(ca.imag, cb.real))
        inexact = (ca * cb, ca / cb, jnp.exp(ca), jnp.abs(cb))
        return exact, inexact

    before, after = optimized(fn, spec="fold-constants")
    for cls in (lax.AddOp, lax.SubOp, lax.ConjOp, lax.NegOp, lax.RealOp, lax.ComplexOp):
        assert ops(before, cls) and not ops(after, cls), cls.name
    for cls in (lax.MulOp, lax.DivOp, lax.ExpOp, lax.AbsOp):
        assert len(ops(after, cls)) == len(ops(before, cls)) == 1, cls.name
    # The folded constants are XLA's own numbers, to the bit.
    want = jax.tree.leaves(jax.jit(fn)())
    got = jax_target.compile(after)()
    for g, w in zip(got[:5], want[:5], strict=True):
        assert np.asarray(g).tobytes() == np.asarray(w).tobytes()


def test_canonicalize_keeps_complex_rewrites_exact() -> None:
    # Under IEEE arithmetic (the reference target) x + (-0 - 0i) -> x and x - (0 + 0i) -> x
    # are exact; x + (0 + 0i) (turns -0 into +0), x - (0 - 0i), x * (1 + 0i) (inf * 0 is NaN)
    # and x / (1 + 0i) are not, and stay (XLA simplifies them itself). max of complex numbers
    # keeps its operand order: ties in (real, imag) order pick the second operand.
    z = np.array([complex(-0.0, -1.0), complex(1.0, np.inf), complex(-0.0, -0.0)], C64)

    def fn(x):
        neg0 = jax.lax.complex(jnp.float32(-0.0), jnp.float32(-0.0))
        pos0 = jax.lax.complex(jnp.float32(0.0), jnp.float32(0.0))
        mixed = jax.lax.complex(jnp.float32(0.0), jnp.float32(-0.0))
        one = jax.lax.complex(jnp.float32(1.0), jnp.float32(0.0))
        return (x + neg0, x - pos0, x + pos0, x - mixed, x * one, x / one, jnp.negative(-x),
                jnp.maximum(x, jnp.conj(x)), jnp.maximum(jnp.conj(x), x))

    before, after = optimized(fn, z, spec="fold-constants,canonicalize")
    assert len(ops(after, lax.AddOp)) == len(ops(after, lax.SubOp)) == 1
    assert len(ops(after, lax.MulOp)) == len(ops(after, lax.DivOp)) == 1
    assert not ops(after, lax.NegOp)
    first, second = ops(after, lax.MaxOp)
    assert isinstance(first.rhs.owner, lax.ConjOp) and isinstance(second.lhs.owner, lax.ConjOp)
    # The JAX target gives XLA's bits before and after; the reference's IEEE bits do not
    # change either.
    want = [np.asarray(w) for w in jax.jit(fn)(z)]
    for module in (before, after):
        for g, w in zip(jax_target.compile(module)(z), want, strict=True):
            assert np.asarray(g).tobytes() == w.tobytes()
    for g, w in zip(reference.run(after, [z]), reference.run(before, [z]), strict=True):
        assert g.tobytes() == w.tobytes()


def test_splat_values_of_complex_constants() -> None:
    assert splat_value(dense(np.full(3, 1 - 2j, C64))) == 1 - 2j
    assert splat_value(dense(np.full(3, complex(np.nan, 0), C64))) is None
    assert splat_value(dense(np.array([0j, complex(-0.0, 0.0)], C64))) is None


def test_complex_patterns_are_not_raised_to_array_ops() -> None:
    # max(z, 0) is relu only for real numbers; the mean of complex numbers stays lax.
    z = cplx(np.random.default_rng(7), (3, 4))
    fn = lambda z: (jnp.maximum(z, 0), jnp.mean(z, axis=1))  # noqa: E731
    _, after = optimized(fn, z, spec="canonicalize,raise-lax-to-array")
    assert not [op for op in after.walk() if op.name.startswith("array.")]
    assert_same(tiers.jit(fn, pipeline="O2")(z), jax.jit(fn)(z))


# -- eager tiers.numpy ---------------------------------------------------------------------


def test_eager_complex_ops_are_compiled_kernels() -> None:
    rng = np.random.default_rng(8)
    z, w = cplx(rng, (4, 4)), cplx(rng, (4, 4))
    a, b = tnp.asarray(z), tnp.asarray(w)
    cases = [(tnp.add, jnp.add, (a, b)), (tnp.multiply, jnp.multiply, (a, b)),
             (tnp.divide, jnp.divide, (a, b)), (tnp.exp, jnp.exp, (a,)),
             (tnp.abs, jnp.abs, (a,)), (tnp.real, jnp.real, (a,)), (tnp.imag, jnp.imag, (a,)),
             (tnp.conj, jnp.conj, (a,)), (tnp.angle, jnp.angle, (a,)),
             (tnp.matmul, jnp.matmul, (a, b)), (tnp.sum, jnp.sum, (a,)),
             (tnp.fft.fft, jnp.fft.fft, (a,)), (tnp.fft.irfft, jnp.fft.irfft, (a,))]
    for ours, theirs, args in cases:
        got = ours(*args)
        assert isinstance(got, tiers.Tensor)
        assert_same(np.asarray(got), theirs(*(np.asarray(x) for x in args)), rtol=1e-5,
                    atol=1e-5)
        assert eager.kernel_for(ours, *args).why_direct == "", ours.__name__
    assert_same(np.asarray(a * 2j + b.conj()), z * 2j + w.conj())


# -- float0: the gradient with respect to an integer ------------------------------------------


def test_float0_results_and_arguments() -> None:
    def f(x, n):
        return jnp.sum(x * n)

    x = np.ones(3, F32)
    grad_n = jax.grad(f, argnums=1, allow_int=True)
    got = tiers.jit(grad_n)(x, 3)
    assert got.dtype == jax.dtypes.float0 and got.shape == ()
    both = tiers.jit(jax.grad(f, argnums=(0, 1), allow_int=True))(x, 3)
    np.testing.assert_array_equal(both[0], [3, 3, 3])
    assert both[1].dtype == jax.dtypes.float0
    zeros = np.zeros((2,), jax.dtypes.float0)
    out = tiers.jit(lambda x, t: (x * 2, t))(x, zeros)
    assert out[1].dtype == jax.dtypes.float0 and out[1].shape == (2,)
    tangent = np.zeros((), jax.dtypes.float0)
    assert_same(jax.jvp(tiers.jit(f), (x, 3), (x, tangent)), jax.jvp(f, (x, 3), (x, tangent)))
    assert jax.grad(tiers.jit(f), argnums=1, allow_int=True)(x, 3).dtype == jax.dtypes.float0
