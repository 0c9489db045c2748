"""The `silu` dialect: one op, `silu.silu`, with its JAX and reference rules.

Importing this module registers the rules with tiers' two targets, so `tiers.jit` runs IR
holding `silu.silu` without lowering it first (any IR holding the op was parsed with this
dialect loaded or built by this plugin's passes, both of which import this module).
"""

from __future__ import annotations

import jax
import numpy as np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import Dialect, SSAValue
from xdsl.irdl import IRDLOperation, irdl_op_definition, operand_def, result_def, traits_def
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from tiers.targets.jax.rules import RULES as JAX_RULES
from tiers.targets.reference.rules import RULES as REFERENCE_RULES


@irdl_op_definition
class SiluOp(IRDLOperation):
    """silu(x) = x * logistic(x), elementwise on a float tensor."""

    name = "silu.silu"
    input = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"

    def __init__(self, x: SSAValue):
        super().__init__(operands=[x], result_types=[x.type])

    def verify_(self) -> None:
        if self.input.type != self.result.type:
            raise VerifyException(f"silu.silu: result type {self.result.type} differs from "
                                  f"the operand's {self.input.type}")


Silu = Dialect("silu", [SiluOp])


def _reference(op: SiluOp, x: np.ndarray) -> np.ndarray:
    # Computed in float64, as tiers' reference rules do, then cast back.
    x64 = x.astype(np.float64)
    return (x64 / (1.0 + np.exp(-x64))).astype(x.dtype)


JAX_RULES[SiluOp] = lambda op, x: jax.nn.silu(x)
REFERENCE_RULES[SiluOp] = _reference
