"""A broad corpus of `jax.numpy`, `jax.nn`, `jax.scipy.special`, `jax.lax`, `jnp.linalg` and
`jax.random` programs under `tiers.jit`.

Each entry runs under `tiers.jit` and under `jax.jit` on the same inputs and must give the
same numbers, dtypes and shapes; differentiable entries also check `jax.grad` of their sum.
An entry that tiers cannot run must fail with a clear error (`UnsupportedPrimitive`, naming the
primitive); those are listed in `UNSUPPORTED` with the reason and asserted to still fail, so the
day support lands this test says which entries to move back into the corpus. Entries that trip
a known bug in a file this test does not own are in `KNOWN_BUGS` (strict xfail, with the bug).
The last test prints the pass rate: `corpus: N/M passed`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np
import pytest

import tiers
from tiers.frontend.importer import UnsupportedPrimitive

# ---------------------------------------------------------------------------------------
# Inputs: small, seeded, and inside each function's domain.
# ---------------------------------------------------------------------------------------

_RNG = np.random.default_rng(0)


def fl(*shape: int) -> np.ndarray:
    """Normal float32 values."""
    return _RNG.standard_normal(shape).astype(np.float32)


def pos(*shape: int) -> np.ndarray:
    """float32 in [0.5, 2]: inside the domain of log, sqrt, gamma, ..."""
    return _RNG.uniform(0.5, 2.0, shape).astype(np.float32)


def unit(*shape: int) -> np.ndarray:
    """float32 in [-0.9, 0.9]: inside the domain of arcsin, arctanh, erfinv, ..."""
    return _RNG.uniform(-0.9, 0.9, shape).astype(np.float32)


def prob(*shape: int) -> np.ndarray:
    """float32 in [0.05, 0.95]: probabilities for logit and ndtri."""
    return _RNG.uniform(0.05, 0.95, shape).astype(np.float32)


def ints(*shape: int, lo: int = -5, hi: int = 6) -> np.ndarray:
    return _RNG.integers(lo, hi, shape).astype(np.int32)


def bools(*shape: int) -> np.ndarray:
    return _RNG.random(shape) < 0.5


def spd(n: int) -> np.ndarray:
    """A well-conditioned symmetric positive definite matrix."""
    a = fl(n, n)
    return (a @ a.T + n * np.eye(n)).astype(np.float32)


# ---------------------------------------------------------------------------------------
# The corpus.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    name: str
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    grad: bool = False  # also check jax.grad of sum(fn(...)) with respect to args[0]
    rtol: float = 2e-5
    atol: float = 2e-6
    grad_rtol: float = 1e-4
    kwargs: dict = field(default_factory=dict)


X, Y, V = fl(3, 4), fl(3, 4), fl(5)
P, U, PR = pos(3, 4), unit(3, 4), prob(3, 4)
I, J, B, C = ints(3, 4), ints(3, 4, lo=1, hi=6), bools(3, 4), bools(3, 4)
# Non-finite values where X is negative: for isnan, nan_to_num and the nan* reductions.
NAN = np.where(X < 0, np.float32(np.nan), X)
INF = np.where(X < 0, np.float32(np.inf), X)

# (jnp function, input, differentiable): unary elementwise float functions.
UNARY = [
    ("abs", jnp.abs, X, True), ("negative", jnp.negative, X, True),
    ("positive", jnp.positive, X, True), ("sign", jnp.sign, X, False),
    ("floor", jnp.floor, X, False), ("ceil", jnp.ceil, X, False),
    ("round", jnp.round, X * 3, False), ("rint", jnp.rint, X * 3, False),
    ("trunc", jnp.trunc, X * 3, False),
    ("exp", jnp.exp, X, True), ("exp2", jnp.exp2, X, True), ("expm1", jnp.expm1, X, True),
    ("log", jnp.log, P, True), ("log2", jnp.log2, P, True), ("log10", jnp.log10, P, True),
    ("log1p", jnp.log1p, P, True), ("sqrt", jnp.sqrt, P, True), ("cbrt", jnp.cbrt, P, True),
    ("square", jnp.square, X, True), ("reciprocal", jnp.reciprocal, P, True),
    ("sin", jnp.sin, X, True), ("cos", jnp.cos, X, True), ("tan", jnp.tan, U, True),
    ("arcsin", jnp.arcsin, U, True), ("arccos", jnp.arccos, U, True),
    ("arctan", jnp.arctan, X, True), ("sinh", jnp.sinh, X, True), ("cosh", jnp.cosh, X, True),
    ("tanh", jnp.tanh, X, True), ("arcsinh", jnp.arcsinh, X, True),
    ("arccosh", jnp.arccosh, P + 1, True), ("arctanh", jnp.arctanh, U, True),
    ("deg2rad", jnp.deg2rad, X, True), ("rad2deg", jnp.rad2deg, X, True),
    ("sinc", jnp.sinc, X, True), ("isfinite", jnp.isfinite, INF, False),
    ("isnan", jnp.isnan, NAN, False), ("isinf", jnp.isinf, INF, False),
    ("signbit", jnp.signbit, X, False), ("nan_to_num", jnp.nan_to_num, NAN, False),
    ("fabs", jnp.fabs, X, True), ("logical_not", jnp.logical_not, B, False),
    ("invert", jnp.invert, I, False), ("frexp", jnp.frexp, P * 10, False),
    ("modf", jnp.modf, X * 3, False), ("spacing", jnp.spacing, X, False),
    ("i0", jnp.i0, X, True), ("conj", jnp.conj, X, True), ("real", jnp.real, X, True),
]

BINARY = [
    ("add", jnp.add, X, Y, True), ("subtract", jnp.subtract, X, Y, True),
    ("multiply", jnp.multiply, X, Y, True), ("divide", jnp.divide, X, P, True),
    ("floor_divide", jnp.floor_divide, X * 5, P, False), ("mod", jnp.mod, X * 5, P, False),
    ("fmod", jnp.fmod, X * 5, P, False), ("power", jnp.power, P, X, True),
    ("float_power", jnp.float_power, P, X, False), ("maximum", jnp.maximum, X, Y, True),
    ("minimum", jnp.minimum, X, Y, True), ("fmax", jnp.fmax, X, Y, False),
    ("fmin", jnp.fmin, X, Y, False), ("arctan2", jnp.arctan2, X, Y, True),
    ("hypot", jnp.hypot, X, Y, True), ("copysign", jnp.copysign, X, Y, True),
    ("logaddexp", jnp.logaddexp, X, Y, True), ("logaddexp2", jnp.logaddexp2, X, Y, True),
    ("heaviside", jnp.heaviside, X, Y, False), ("nextafter", jnp.nextafter, X, Y, False),
    ("equal", jnp.equal, X, X * (X > 0), False), ("not_equal", jnp.not_equal, X, Y, False),
    ("less", jnp.less, X, Y, False), ("less_equal", jnp.less_equal, X, Y, False),
    ("greater", jnp.greater, X, Y, False), ("greater_equal", jnp.greater_equal, X, Y, False),
    ("logical_and", jnp.logical_and, B, C, False), ("logical_or", jnp.logical_or, B, C, False),
    ("logical_xor", jnp.logical_xor, B, C, False), ("isclose", jnp.isclose, X, X + 1e-7, False),
    ("bitwise_and", jnp.bitwise_and, I, J, False), ("bitwise_or", jnp.bitwise_or, I, J, False),
    ("bitwise_xor", jnp.bitwise_xor, I, J, False), ("left_shift", jnp.left_shift, I, J, False),
    ("right_shift", jnp.right_shift, I, J, False), ("int_floor_divide", jnp.floor_divide, I, J,
                                                    False),
    ("int_mod", jnp.mod, I, J, False), ("int_power", jnp.power, I, J, False),
    ("ldexp", jnp.ldexp, X, J, False), ("gcd", jnp.gcd, I, J, False),
    ("lcm", jnp.lcm, I, J, False), ("broadcast_add", jnp.add, X, V[:4], True),
    ("outer", jnp.outer, V, V, True), ("matmul", jnp.matmul, X, Y.T, True),
    ("dot", jnp.dot, V, V, True), ("vdot", jnp.vdot, X, Y, True),
    ("inner", jnp.inner, X, Y, True), ("kron", jnp.kron, X[:2, :2], Y[:2, :3], True),
    ("cross", jnp.cross, X[:, :3], Y[:, :3], True), ("allclose", jnp.allclose, X, Y, False),
    ("array_equal", jnp.array_equal, X, X, False),
    ("tensordot", lambda a, b: jnp.tensordot(a, b, axes=([1], [1])), X, Y, True),
    ("einsum_ij_kj", lambda a, b: jnp.einsum("ij,kj->ik", a, b), X, Y, True),
    ("einsum_batch", lambda a, b: jnp.einsum("bij,bjk->bik", a, b), fl(2, 3, 4), fl(2, 4, 2),
     True),
    ("where3", lambda c, a: jnp.where(c, a, -a), B, X, False),
    ("convolve", jnp.convolve, V, V[:3], True), ("correlate", jnp.correlate, V, V[:3], True),
    ("polyval", jnp.polyval, V[:3], X, True),
    ("interp", lambda x, xp: jnp.interp(x, jnp.sort(xp), jnp.sort(xp) ** 2), X, V, False),
]

REDUCTIONS = [
    ("sum", jnp.sum, X, True), ("sum_axis", lambda x: jnp.sum(x, axis=1), X, True),
    ("prod", jnp.prod, P, True), ("mean", jnp.mean, X, True),
    ("mean_keepdims", lambda x: jnp.mean(x, axis=0, keepdims=True), X, True),
    ("var", jnp.var, X, True), ("std", lambda x: jnp.std(x, axis=1), X, True),
    ("max", jnp.max, X, True), ("min", lambda x: jnp.min(x, axis=0), X, True),
    ("ptp", lambda x: jnp.ptp(x, axis=1), X, True), ("argmax", jnp.argmax, X, False),
    ("argmin", lambda x: jnp.argmin(x, axis=1), X, False), ("all", jnp.all, B, False),
    ("any", lambda b: jnp.any(b, axis=1), B, False),
    ("count_nonzero", jnp.count_nonzero, B, False), ("median", jnp.median, X, True),
    ("percentile", lambda x: jnp.percentile(x, 30.0), X, True),
    ("quantile", lambda x: jnp.quantile(x, 0.75, axis=0), X, True),
    ("average", lambda x: jnp.average(x, axis=1, weights=jnp.arange(1.0, 5.0)), X, True),
    ("nansum", jnp.nansum, NAN, False), ("nanmean", jnp.nanmean, NAN, False),
    ("nanmax", jnp.nanmax, NAN, False), ("nanmin", jnp.nanmin, NAN, False),
    ("cumsum", lambda x: jnp.cumsum(x, axis=1), X, True),
    ("cumprod", lambda x: jnp.cumprod(x, axis=0), P, True),
    ("cummax", lambda x: jax.lax.cummax(x, axis=1), X, True),
    ("cumlogsumexp", lambda x: jax.lax.cumlogsumexp(x, axis=1), X, True),
    ("nancumsum", jnp.nancumsum, NAN, False),
    ("int_sum", jnp.sum, I, False), ("int_prod", lambda i: jnp.prod(i, axis=0), I, False),
    ("bool_sum", jnp.sum, B, False), ("diff", jnp.diff, X, True),
    ("trace", jnp.trace, X, True), ("norm", jnp.linalg.norm, X, True),
    ("norm_inf", lambda x: jnp.linalg.norm(x, ord=jnp.inf, axis=1), X, True),
    ("logsumexp", lambda x: jsp.logsumexp(x, axis=1), X, True),
]

SHAPES = [
    ("reshape", lambda x: jnp.reshape(x, (2, 6)), X, True),
    ("transpose", jnp.transpose, fl(2, 3, 4), True),
    ("swapaxes", lambda x: jnp.swapaxes(x, 0, 2), fl(2, 3, 4), True),
    ("moveaxis", lambda x: jnp.moveaxis(x, 0, -1), fl(2, 3, 4), True),
    ("expand_dims", lambda x: jnp.expand_dims(x, 1), X, True),
    ("squeeze", jnp.squeeze, fl(3, 1, 4), True), ("ravel", jnp.ravel, X, True),
    ("flip", jnp.flip, X, True), ("fliplr", jnp.fliplr, X, True),
    ("rot90", jnp.rot90, X, True), ("roll", lambda x: jnp.roll(x, 2, axis=1), X, True),
    ("roll_flat", lambda x: jnp.roll(x, -3), X, True),
    ("tile", lambda x: jnp.tile(x, (2, 1)), X, True),
    ("repeat", lambda x: jnp.repeat(x, 2, axis=0), X, True),
    ("concatenate", lambda x: jnp.concatenate([x, 2 * x], axis=1), X, True),
    ("stack", lambda x: jnp.stack([x, x + 1]), X, True),
    ("hstack", lambda x: jnp.hstack([x, x]), X, True),
    ("vstack", lambda x: jnp.vstack([x, x]), X, True),
    ("split", lambda x: jnp.split(x, 2, axis=1), X, True),
    ("array_split", lambda x: jnp.array_split(x, 3, axis=1), X, True),
    ("broadcast_to", lambda v: jnp.broadcast_to(v, (3, 5)), V, True),
    ("pad_constant", lambda x: jnp.pad(x, ((1, 0), (0, 2))), X, True),
    ("pad_reflect", lambda x: jnp.pad(x, 2, mode="reflect"), X, True),
    ("pad_edge", lambda x: jnp.pad(x, 1, mode="edge"), X, True),
    ("pad_wrap", lambda x: jnp.pad(x, 1, mode="wrap"), X, True),
    ("triu", jnp.triu, X, True), ("tril", lambda x: jnp.tril(x, -1), X, True),
    ("diag", jnp.diag, V, True), ("diagonal", jnp.diagonal, X, True),
    ("atleast_2d", jnp.atleast_2d, V, True),
    ("take", lambda x: jnp.take(x, jnp.array([0, 2, 2]), axis=1), X, True),
    ("take_along_axis", lambda x: jnp.take_along_axis(x, jnp.argsort(x, axis=1), axis=1), X,
     True),
    ("fancy_index", lambda x: x[jnp.array([2, 0])], X, True),
    ("bool_mask", lambda x: jnp.where(x > 0, x, 0.0), X, True),
    ("static_slice", lambda x: x[1:, ::2], X, True), ("int_index", lambda x: x[1, -1], X, True),
    ("newaxis", lambda x: x[:, None, 1], X, True),
    ("dynamic_index", lambda x, i: x[i], X, np.int32(2), True),
    ("dynamic_slice", lambda x, i: jax.lax.dynamic_slice(x, (i, 0), (2, 2)), X, np.int32(1),
     True),
    ("at_set", lambda x: x.at[1, 2].set(5.0), X, True),
    ("at_add", lambda x: x.at[jnp.array([0, 0, 2])].add(1.0), X, True),
    ("at_mul", lambda x: x.at[:, 1].multiply(3.0), X, True),
    ("at_min", lambda x: x.at[0].min(0.0), X, False),
    ("at_max", lambda x: x.at[jnp.array([1, 1])].max(0.5), X, False),
    ("dynamic_update_slice", lambda x: jax.lax.dynamic_update_slice(x, x[:1, :2], (2, 1)), X,
     True),
    ("sort", lambda x: jnp.sort(x, axis=1), X, True),
    ("sort_flat", lambda x: jnp.sort(x, axis=None), X, True),
    ("argsort", lambda x: jnp.argsort(x, axis=0), X, False),
    ("lexsort", lambda a, b: jnp.lexsort((a, b)), I[0], J[0], False),
    ("top_k", lambda x: jax.lax.top_k(x, 2), X, True),
    ("searchsorted", lambda v, x: jnp.searchsorted(jnp.sort(v), x), V, X, False),
    ("clip", lambda x: jnp.clip(x, -0.5, 0.5), X, True),
    ("arange_like", lambda x: x + jnp.arange(4.0), X, True),
    ("linspace", lambda x: x * jnp.linspace(0.0, 1.0, 4), X, True),
    ("eye", lambda x: x[:3, :3] @ jnp.eye(3), X, True),
    ("zeros_like", lambda x: jnp.zeros_like(x) + jnp.ones_like(x) * jnp.full_like(x, 2.0), X,
     False),
    ("meshgrid", lambda v: jnp.meshgrid(v, v[:3]), V, True),
    ("one_hot", lambda i: jax.nn.one_hot(i, 6), ints(5, lo=0, hi=6), False),
    ("bincount", lambda i: jnp.bincount(i, length=6), ints(8, lo=0, hi=6), False),
    ("histogram", lambda x: jnp.histogram(x, bins=4, range=(-2.0, 2.0))[0], X, False),
    ("cast_int", lambda x: (x * 4).astype(jnp.int32), X, False),
    ("cast_f16", lambda x: (x.astype(jnp.float16) * 2).astype(jnp.float32), X, True),
    ("cast_bool", lambda x: x.astype(bool), X, False),
    ("bitcast", lambda x: jax.lax.bitcast_convert_type(x, jnp.int32), X, False),
    ("iota_compare", lambda x: jnp.tri(3, 4) * x, X, True),
    ("unique_size", lambda i: jnp.unique(i, size=4, fill_value=0), ints(8, lo=0, hi=4), False),
    ("nonzero_size", lambda b: jnp.nonzero(b, size=5)[1], B, False),
    ("argwhere_size", lambda b: jnp.argwhere(b, size=5), B, False),
]

LINALG = [
    ("inv", jnp.linalg.inv, spd(3), True), ("det", jnp.linalg.det, spd(3), True),
    ("slogdet", lambda a: jnp.linalg.slogdet(a)[1], spd(3), True),
    ("solve", lambda a: jnp.linalg.solve(a, jnp.ones(3)), spd(3), True),
    ("cholesky", jnp.linalg.cholesky, spd(3), True),
    ("qr", lambda a: jnp.abs(jnp.linalg.qr(a)[1]), spd(3), False),
    ("eigvalsh", jnp.linalg.eigvalsh, spd(3), True),
    ("svd_values", lambda a: jnp.linalg.svd(a, compute_uv=False), spd(3), True),
    ("matrix_power", lambda a: jnp.linalg.matrix_power(a, 3), spd(3) / 4, True),
    ("pinv", jnp.linalg.pinv, spd(3), False),
]

NN = [
    ("relu", jax.nn.relu, X, True), ("relu6", jax.nn.relu6, X * 4, True),
    ("sigmoid", jax.nn.sigmoid, X, True), ("softplus", jax.nn.softplus, X, True),
    ("soft_sign", jax.nn.soft_sign, X, True), ("silu", jax.nn.silu, X, True),
    ("swish", jax.nn.swish, X, True), ("log_sigmoid", jax.nn.log_sigmoid, X, True),
    ("leaky_relu", jax.nn.leaky_relu, X, True), ("hard_sigmoid", jax.nn.hard_sigmoid, X, True),
    ("hard_silu", jax.nn.hard_silu, X, True), ("hard_tanh", jax.nn.hard_tanh, X * 2, True),
    ("elu", jax.nn.elu, X, True), ("celu", jax.nn.celu, X, True),
    ("selu", jax.nn.selu, X, True), ("gelu_tanh", jax.nn.gelu, X, True),
    ("gelu_exact", lambda x: jax.nn.gelu(x, approximate=False), X, True),
    ("glu", jax.nn.glu, X, True), ("mish", jax.nn.mish, X, True),
    ("squareplus", jax.nn.squareplus, X, True), ("sparse_plus", jax.nn.sparse_plus, X, True),
    ("sparse_sigmoid", jax.nn.sparse_sigmoid, X, True),
    ("nn_tanh", jax.nn.tanh, X, True), ("nn_identity", jax.nn.identity, X, True),
    ("log1mexp", jax.nn.log1mexp, P, True),
    ("softmax", jax.nn.softmax, X, True), ("log_softmax", jax.nn.log_softmax, X, True),
    ("softmax_axis0", lambda x: jax.nn.softmax(x, axis=0), X, True),
    ("nn_logsumexp", jax.nn.logsumexp, X, True),
    ("logmeanexp", lambda x: jax.nn.logmeanexp(x, axis=1), X, True),
    ("standardize", jax.nn.standardize, X, True),
    ("dot_product_attention", lambda q: jax.nn.dot_product_attention(q, q, q, is_causal=True),
     fl(1, 4, 2, 8), True),
]

SPECIAL = [
    ("erf", jsp.erf, X, True), ("erfc", jsp.erfc, X, True), ("erfinv", jsp.erfinv, U, True),
    ("erfcx", jsp.erfcx, P, False), ("gammaln", jsp.gammaln, P, True),
    ("digamma", jsp.digamma, P, True), ("gamma", jsp.gamma, P, True),
    ("gammasgn", jsp.gammasgn, X, False), ("loggamma", jsp.loggamma, P, True),
    ("logit", jsp.logit, PR, True), ("expit", jsp.expit, X, True),
    ("xlogy", jsp.xlogy, P, P, True), ("xlog1py", jsp.xlog1py, P, P, True),
    ("entr", jsp.entr, P, True), ("rel_entr", jsp.rel_entr, P, P + 0.1, True),
    ("kl_div", jsp.kl_div, P, P + 0.1, True), ("ndtr", jsp.ndtr, X, True),
    ("ndtri", jsp.ndtri, PR, True), ("log_ndtr", jsp.log_ndtr, X, True),
    ("betaln", jsp.betaln, P, P + 1, True), ("beta", jsp.beta, P, P + 1, False),
    ("i0", jsp.i0, X, True), ("i0e", jsp.i0e, X, True), ("i1", jsp.i1, X, True),
    ("i1e", jsp.i1e, X, True), ("gammainc", jsp.gammainc, P, P + 1, False),
    ("gammaincc", jsp.gammaincc, P, P + 1, False), ("betainc", jsp.betainc, P, P + 1, PR,
                                                    False),
    ("zeta", jsp.zeta, P + 1.5, P, False), ("polygamma", lambda x: jsp.polygamma(1, x), P, False),
    ("multigammaln", lambda x: jsp.multigammaln(x + 2, 2), P, True),
    ("sp_softmax", lambda x: jsp.softmax(x, axis=0), X, True),
    ("sp_log_softmax", jsp.log_softmax, X, True), ("exp1", jsp.exp1, P, False),
    ("expi", jsp.expi, P, False), ("spence", jsp.spence, P, False),
    ("factorial", jsp.factorial, ints(3, 4, lo=0, hi=6).astype(np.float32), False),
    ("poch", jsp.poch, P, P, False), ("dawsn", jsp.dawsn, X, False),
    ("boxcox", jsp.boxcox, P, P, False), ("sici", lambda x: jsp.sici(x)[0], P, False),
    ("fresnel", lambda x: jsp.fresnel(x)[0], P, False),
    ("bessel_jn", lambda x: jsp.bessel_jn(x, v=2)[1], P, False),
    ("expn", lambda x: jsp.expn(2, x), P, False), ("owens_t", jsp.owens_t, X, P, False),
    ("hyp1f1", jsp.hyp1f1, P, P + 1, U, False),
]


IMG, KER = fl(2, 3, 6, 6), fl(4, 3, 3, 3)
WINDOW = ((1, 1, 2, 2), (1, 1, 2, 2), "VALID")


def _checkpointed(x: jax.Array) -> jax.Array:
    return jax.checkpoint(lambda y: jnp.sin(jnp.sin(y)) * 2)(x)


def _custom_vjp() -> Callable[..., Any]:
    @jax.custom_vjp
    def f(x: jax.Array) -> jax.Array:
        return jnp.sin(x)

    f.defvjp(lambda x: (jnp.sin(x), x), lambda x, g: (jnp.clip(g * jnp.cos(x), -0.5, 0.5),))
    return f


LAX = [
    ("conv", lambda i, k: jax.lax.conv_general_dilated(i, k, (1, 1), "SAME"), IMG, KER, True),
    ("conv_strided", lambda i, k: jax.lax.conv_general_dilated(
        i, k, (2, 2), "VALID", rhs_dilation=(1, 2)), IMG, KER, True),
    ("max_pool", lambda i: jax.lax.reduce_window(i, -jnp.inf, jax.lax.max, *WINDOW), IMG, True),
    ("avg_pool", lambda i: jax.lax.reduce_window(i, 0.0, jax.lax.add, *WINDOW) / 4, IMG, True),
    ("reduce_window_min", lambda i: jax.lax.reduce_window(
        i, jnp.inf, jax.lax.min, (1, 1, 3, 3), (1, 1, 1, 1), "SAME"), IMG, False),
    ("clamp", lambda x: jax.lax.clamp(-0.5, x, 0.5), X, True),
    ("pad_interior", lambda x: jax.lax.pad(x, 0.0, ((0, 0, 0), (1, -1, 1))), X, True),
    ("reduce_precision", lambda x: jax.lax.reduce_precision(x, 5, 10), X, False),
    ("population_count", lambda i: (jax.lax.population_count(i), jax.lax.clz(i)),
     ints(6, lo=0, hi=1000), False),
    ("round_even", lambda x: jax.lax.round(x * 3, jax.lax.RoundingMethod.TO_NEAREST_EVEN), X,
     False),
    ("integer_pow", lambda x: jax.lax.integer_pow(x, 3), X, True),
    ("pow_int_exponent", lambda x, n: jax.lax.pow(x, n), P, J, True),
    ("igamma", jax.lax.igamma, P, P + 0.5, False),
    ("bessel_i1e", jax.lax.bessel_i1e, X, True),
    ("rev_expand_dims", lambda x: jax.lax.rev(jax.lax.expand_dims(x, (0,)), (1, 2)), X, True),
    ("approx_max_k", lambda x: jax.lax.approx_max_k(x, 2), X, False),
    ("rng_bit_generator", lambda k: jax.lax.rng_bit_generator(k, (3,))[1],
     np.arange(4, dtype=np.uint32), False),
    ("dot_highest", lambda a, b: jnp.dot(a, b, precision="highest"), X, Y.T, True),
    ("dot_mixed_precision", lambda a, b: jax.lax.dot(a, b, precision=("high", "default")), X,
     Y.T, True),
    ("dot_algorithm", lambda a, b: jnp.dot(
        a, b, precision=jax.lax.DotAlgorithmPreset.F32_F32_F32), X, Y.T, False),
    ("optimization_barrier", lambda x: jax.lax.optimization_barrier(x) * 2, X, True),
    ("split_one", lambda x: jax.lax.split(x, (4,), axis=1)[0] * 2, X, True),
    ("checkpoint", _checkpointed, X, True), ("custom_vjp", _custom_vjp(), X, True),
    ("named_call", lambda x: jax.named_call(lambda y: y * 2, name="double")(x), X, True),
    ("vmap", jax.vmap(lambda a: jnp.outer(a, a)), X, True),
    ("jvp", lambda x: jax.jvp(jnp.sin, (x,), (jnp.cos(x),)), X, False),
    ("hessian", jax.hessian(lambda v: jnp.sum(jnp.sin(v) ** 3)), V, False),
    ("cond", lambda x: jax.lax.cond(x[0, 0] > 0, jnp.sin, jnp.cos, x), X, True),
    ("switch", lambda x: jax.lax.switch(1, [jnp.sin, jnp.cos], x), X, True),
    ("while_loop", lambda x: jax.lax.while_loop(lambda c: c[0] < 3,
                                                lambda c: (c[0] + 1, c[1] * 2), (0, x))[1], X,
     False),
    ("fori_loop", lambda x: jax.lax.fori_loop(0, 3, lambda i, c: c * 2, x), X, True),
    ("scan", lambda x: jax.lax.scan(lambda c, y: (c + y, c * y), jnp.zeros(4), x), X, True),
    ("map", lambda x: jax.lax.map(jnp.sum, x), X, True),
    ("reduce_custom", lambda x: jax.lax.reduce(x, 0.0, lambda a, b: a + 2 * b, (0,)), X, False),
    ("random_gamma_grad", jax.lax.random_gamma_grad, P + 1, P, False),
    ("debug_print", lambda x: (jax.debug.print("{}", x[0, 0]), x * 2)[1], X, False),
    ("pure_callback", lambda x: jax.pure_callback(  # vmappable, as JAX wants it said
        np.sin, jax.ShapeDtypeStruct(x.shape, x.dtype), x, vmap_method="sequential"), X, False),
    ("fft", lambda x: jnp.abs(jnp.fft.fft(x)), X, False),
]

KEY = np.asarray(jax.random.key_data(jax.random.key(7)))

RANDOM = [
    ("uniform", lambda k: jax.random.uniform(jax.random.wrap_key_data(k), (3, 4)), KEY, False),
    ("normal", lambda k: jax.random.normal(jax.random.PRNGKey(3), (5,)) + k[0], KEY, False),
    ("bernoulli_dropout", lambda x: jnp.where(
        jax.random.bernoulli(jax.random.PRNGKey(1), 0.5, x.shape), x / 0.5, 0.0), X, True),
    ("split", lambda k: jax.random.key_data(jax.random.split(jax.random.wrap_key_data(k), 3)),
     KEY, False),
    ("split_unpack", lambda k: [jax.random.normal(s, (2,)) for s in jax.random.split(
        jax.random.wrap_key_data(k), 3)], KEY, False),
    ("key_index", lambda k, i: jax.random.key_data(jax.random.split(
        jax.random.wrap_key_data(k), 4)[i]), KEY, np.int32(2), False),
    ("key_where", lambda k, b: jax.random.key_data(jnp.where(
        b, *jax.random.split(jax.random.wrap_key_data(k), (2, 3)))), KEY, B[:, :3], False),
    ("key_transpose_reshape", lambda k: jax.random.key_data(jax.random.split(
        jax.random.wrap_key_data(k), (2, 3)).T.reshape(6)[::2]), KEY, False),
    ("fold_in", lambda k: jax.random.key_data(jax.random.fold_in(jax.random.wrap_key_data(k),
                                                                 5)), KEY, False),
    ("randint", lambda k: jax.random.randint(jax.random.wrap_key_data(k), (6,), 0, 10), KEY,
     False),
    ("categorical", lambda x: jax.random.categorical(jax.random.PRNGKey(0), x), X, False),
    ("permutation", lambda x: jax.random.permutation(jax.random.PRNGKey(0), x), V, False),
    ("truncated_normal", lambda k: jax.random.truncated_normal(
        jax.random.wrap_key_data(k), -1.0, 1.0, (4,)), KEY, False),
    ("typed_key_arg", lambda k: jax.random.normal(k, (3,)), jax.random.key(0), False),
]


def _entries() -> list[Entry]:
    groups = {"jnp": [*UNARY, *BINARY, *REDUCTIONS, *SHAPES], "linalg": LINALG, "nn": NN,
              "special": SPECIAL, "lax": LAX, "random": RANDOM}
    out = [Entry(f"{group}.{name}", fn, tuple(args), grad=d)
           for group, rows in groups.items() for name, fn, *args, d in rows]
    names = [e.name for e in out]
    assert len(set(names)) == len(names), "corpus names must be unique"
    return out


ENTRIES = _entries()

# Entries tiers cannot import yet: name -> (a regex the UnsupportedPrimitive message must
# match, why).
UNSUPPORTED: dict[str, tuple[str, str]] = {
    "lax.dot_algorithm": ("dot algorithm", "the lax dialect stores a Precision, not an algorithm"),
}

# Entries that trip a bug in a file this test does not own: name -> the bug.
KNOWN_BUGS: dict[str, str] = {}


# ---------------------------------------------------------------------------------------
# Running an entry.
# ---------------------------------------------------------------------------------------


def _grad_fn(fn: Callable[..., Any]) -> Callable[..., Any]:
    def loss(*args: Any) -> Any:
        leaves = jax.tree_util.tree_leaves(fn(*args))
        return sum(jnp.sum(leaf.astype(jnp.float32)) for leaf in leaves)

    return jax.grad(loss)


def assert_same(got: Any, want: Any, rtol: float, atol: float) -> None:
    """Same pytree, shapes, dtypes and (within tolerance) values as JAX."""
    got_leaves, got_tree = jax.tree_util.tree_flatten(got)
    want_leaves, want_tree = jax.tree_util.tree_flatten(want)
    assert got_tree == want_tree
    for g, w in zip(got_leaves, want_leaves, strict=True):
        assert isinstance(g, jax.Array), type(g)
        assert g.shape == w.shape and g.dtype == w.dtype, (g.aval, w.aval)
        if w.dtype == jnp.bool_ or jnp.issubdtype(w.dtype, jnp.integer):
            np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
        else:
            np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(w, np.float64),
                                       rtol=rtol, atol=atol)


def run_entry(entry: Entry, grad: bool) -> None:
    fn = _grad_fn(entry.fn) if grad else entry.fn
    rtol = entry.grad_rtol if grad else entry.rtol
    got = tiers.jit(fn)(*entry.args)
    want = jax.jit(fn)(*entry.args)
    assert_same(got, want, rtol, entry.atol * 10 if grad else entry.atol)


def _cases() -> list[Any]:
    cases = []
    for e in ENTRIES:
        for grad in (False, True) if e.grad else (False,):
            name = f"grad({e.name})" if grad else e.name
            marks = []
            if name in KNOWN_BUGS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name]))
            cases.append(pytest.param(e, grad, id=name, marks=marks))
    return cases


RESULTS: dict[str, bool] = {}


def test_allowlists_name_corpus_entries() -> None:
    names = {p.id for p in _cases()}
    assert not (set(UNSUPPORTED) | set(KNOWN_BUGS)) - names
    assert not set(UNSUPPORTED) & set(KNOWN_BUGS)


@pytest.mark.parametrize("entry,grad", _cases())
def test_corpus(entry: Entry, grad: bool) -> None:
    name = f"grad({entry.name})" if grad else entry.name
    RESULTS[name] = False
    if name in UNSUPPORTED:
        pattern, _ = UNSUPPORTED[name]
        with pytest.raises(UnsupportedPrimitive, match=pattern):
            run_entry(entry, grad)
        return
    run_entry(entry, grad)
    RESULTS[name] = True


def test_corpus_pass_rate(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs last (pytest keeps file order): reports how much of the corpus tiers runs."""
    if not RESULTS:
        pytest.skip("no corpus entry ran in this session")
    passed = sum(RESULTS.values())
    with capsys.disabled():
        print(f"\ncorpus: {passed}/{len(RESULTS)} passed")
    assert len(ENTRIES) >= 150
