"""StableHLO emission rules of the complex-number ops (see `hlo.py`): `lax.real`, `imag`,
`complex`, `conj` and `fft`, written as JAX 0.10.2 lowers each primitive (`lax.py`, `fft.py`),
so both emissions compile to the same XLA computation. `HLO_COMPLEX_RULES` joins the emission
table in `rules.py`.

A multi-dimensional IRFFT has no rule here on its own: JAX lowers it per platform (on GPU as
an IFFT of the outer dimensions, then a one-dimensional IRFFT, since cuFFT assumes Hermitian
symmetry on every dimension), and an emission rule sees no platform, so JAX lowers it
(`fallback`).
"""

from __future__ import annotations

from typing import Any

from xdsl.dialects.builtin import TensorType

from tiers.dialects import dtypes, lax
from tiers.targets.jax.hlo import EmitRule, HloEmitter, full, i64s

HLO_COMPLEX_RULES: dict[type, EmitRule] = {}


def _out(op: Any) -> TensorType:
    t = op.results[0].type
    assert isinstance(t, TensorType)
    return t


HLO_COMPLEX_RULES.update({
    lax.RealOp: lambda em, op, x: em.one("stablehlo.real", [x], _out(op)),
    lax.ImagOp: lambda em, op, x: em.one("stablehlo.imag", [x], _out(op)),
    lax.ComplexOp: lambda em, op, x, y: em.one("stablehlo.complex", [x, y], _out(op)),
})


def _conj(em: HloEmitter, op: lax.ConjOp, x: str) -> str:
    # `_conj_impl`, lowered with `mlir.lower_fun`: complex(real(x), -imag(x)), and for a real
    # x complex(x, 0) with the zeros a broadcast scalar.
    t = _out(op)
    part = TensorType(dtypes.real_part(t.element_type), t.get_shape())
    if dtypes.is_complex(lax.elem(op.operand)):
        re = em.one("stablehlo.real", [x], part)
        im = em.one("stablehlo.negate", [em.one("stablehlo.imag", [x], part)], part)
        return em.one("stablehlo.complex", [re, im], t)
    return em.one("stablehlo.complex", [x, full(em, 0, part)], t)


def _fft(em: HloEmitter, op: lax.FftOp, x: str) -> str:
    # `_fft_lowering`; see the module docstring for the IRFFT that JAX lowers per platform.
    kind, lengths = op.fft_type.data, op.ints("fft_lengths")
    if kind == "IRFFT" and len(lengths) > 1:
        return em.fallback(op, [x])[0]
    return em.one("stablehlo.fft", [x], _out(op),
                  f"fft_length = {i64s(lengths)}, fft_type = #stablehlo<fft_type {kind}>")


HLO_COMPLEX_RULES[lax.ConjOp] = _conj
HLO_COMPLEX_RULES[lax.FftOp] = _fft
