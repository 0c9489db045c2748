"""`lax.fft`, JAX's `fft_p` (`jax/_src/lax/fft.py`): the op of the `lax` dialect behind
`jnp.fft`. `lax.py` re-exports it and lists it in `Lax`.

    %y = lax.fft %x fft_type "RFFT" fft_lengths [8] : tensor<3x8xf32> -> tensor<3x5xcomplex<f32>>

`fft_type` is XLA's: "FFT" and "IFFT" (complex to complex), "RFFT" (real to complex: the last
transformed dimension keeps `n // 2 + 1` entries), "IRFFT" (complex to real: the last one
becomes `fft_lengths[-1]`). The transform runs over the trailing `len(fft_lengths)` dimensions.
"""

from __future__ import annotations

from typing import ClassVar

from xdsl.dialects.builtin import DenseArrayBase, Float32Type, Float64Type, StringAttr
from xdsl.irdl import irdl_op_definition, operand_def, prop_def, result_def, traits_def
from xdsl.traits import Pure

from tiers.dialects.dtypes import complex_of, is_complex, real_part
from tiers.dialects.lax_base import LaxCanonicalization, LaxOp, Tensor, elem, fail, shape

FFT_TYPES = ("FFT", "IFFT", "RFFT", "IRFFT")  # `jax.lax.FftType` names, in its value order


@irdl_op_definition
class FftOp(LaxOp):
    """`lax.fft_p`: a discrete Fourier transform over the trailing `fft_lengths` dimensions."""

    name = "lax.fft"
    PRIMITIVE: ClassVar[str] = "fft"
    operand = operand_def(Tensor)
    result = result_def(Tensor)
    fft_type = prop_def(StringAttr)
    fft_lengths = prop_def(DenseArrayBase)
    traits = traits_def(Pure(), LaxCanonicalization())

    def verify_(self) -> None:
        # `fft_abstract_eval`: the shape and element type JAX gives the result.
        kind, lengths = self.fft_type.data, tuple(self.ints("fft_lengths"))
        inp, t = shape(self.operand), elem(self.operand)
        if kind not in FFT_TYPES:
            fail(self, f"fft_type must be one of {', '.join(FFT_TYPES)}, got {kind!r}")
        n = len(lengths)
        if not 1 <= n <= min(3, len(inp)):
            fail(self, f"fft_lengths {list(lengths)} must name 1 to 3 of the operand's "
                 f"{len(inp)} dimensions")
        lead = inp[:len(inp) - n]
        if kind == "RFFT":
            if not isinstance(t, Float32Type | Float64Type):
                fail(self, f"RFFT expects an f32 or f64 operand, got {t}")
            want_in, want, want_t = lengths, (*lead, *lengths[:-1], lengths[-1] // 2 + 1), \
                complex_of(t)
        elif kind == "IRFFT":
            if not is_complex(t):
                fail(self, f"IRFFT expects a complex operand, got {t}")
            want_in, want, want_t = None, (*lead, *lengths), real_part(t)
            if inp[len(inp) - n:-1] != lengths[:-1]:
                fail(self, f"IRFFT operand dimensions {inp[len(inp) - n:]} must match "
                     f"fft_lengths {list(lengths)} but for the last")
        else:
            if not is_complex(t):
                fail(self, f"{kind} expects a complex operand, got {t}")
            want_in, want, want_t = lengths, inp, t
        if want_in is not None and inp[len(inp) - n:] != want_in:
            fail(self, f"operand dimensions {inp[len(inp) - n:]} must equal fft_lengths "
                 f"{list(lengths)}")
        if shape(self.result) != want or elem(self.result) != want_t:
            fail(self, f"result must be {want} of {want_t}, got {self.result.type}")
