"""Reference rules of the complex-number ops (`lax.real`, `imag`, `complex`, `conj`, `fft`)
and the complex cases of other rules (max/min order, sign, sort keys), with numpy, in
complex128 and rounded once to the result type (`common.py`). `COMPLEX_RULES` joins the
reference table in `lax_rules.py`.
"""

from __future__ import annotations

import numpy as np

from tiers.dialects import lax
from tiers.targets.reference.common import checked, is_complex, wide
from tiers.targets.walk import OpRule

COMPLEX_RULES: dict[type, OpRule] = {}


def make_complex(re: np.ndarray, im: np.ndarray) -> np.ndarray:
    """re + im i, each part kept as is (`re + 1j * im` would turn an infinite `im` into a NaN
    real part)."""
    re, im = np.broadcast_arrays(wide(re), wide(im))
    out = np.empty(re.shape, np.complex128)
    out.real, out.imag = re, im
    return out


def _conj(op: lax.ConjOp, x: np.ndarray) -> np.ndarray:
    return np.conj(wide(x)) if is_complex(x) else make_complex(x, np.zeros_like(x))


def minmax(kind: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """JAX's max/min of complex numbers (`mlir._minmax_hlo`): ordered by real part, then by
    imaginary part; `b` wherever the comparison is false (NaN parts included)."""
    a, b = wide(a), wide(b)
    cmp = np.greater if kind == "max" else np.less
    which = np.where(a.real == b.real, cmp(a.imag, b.imag), cmp(a.real, b.real))
    return np.where(which, a, b)


def sign(x: np.ndarray) -> np.ndarray:
    """x / |x|, and 0 at 0 (XLA's sign of complex numbers)."""
    w = wide(x)
    with np.errstate(all="ignore"):
        return np.where(w == 0, w, w / np.abs(w))


def logistic(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x), JAX's formula (scipy's expit has no complex case)."""
    w = wide(x)
    return 1 / (1 + np.exp(-w))


def sort_keys(x: np.ndarray) -> list[np.ndarray]:
    """A complex sort key as two, its real part, then its imaginary part
    (`_operands_to_keys`)."""
    return [x.real, x.imag]


def _fft(op: lax.FftOp, x: np.ndarray) -> np.ndarray:
    kind, lengths = op.fft_type.data, op.ints("fft_lengths")
    axes = tuple(range(x.ndim - len(lengths), x.ndim))
    w = wide(x)
    if kind == "FFT":
        return np.fft.fftn(w, axes=axes)
    if kind == "IFFT":
        return np.fft.ifftn(w, axes=axes)
    if kind == "RFFT":
        return np.fft.rfftn(w, axes=axes)
    return np.fft.irfftn(w, s=lengths, axes=axes)


_RULES: dict[type, OpRule] = {
    lax.RealOp: lambda op, x: np.real(x),
    lax.ImagOp: lambda op, x: np.imag(x),
    lax.ComplexOp: lambda op, a, b: make_complex(a, b),
    lax.ConjOp: _conj,
    lax.FftOp: _fft,
}
for _cls, _fn in _RULES.items():
    COMPLEX_RULES[_cls] = checked(_cls, _fn)
