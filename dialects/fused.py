"""The `fused` dialect: a region holding a group of `lax` ops that run as one kernel.

    %r = fused.kernel (%a, %b) : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32> {
    ^bb0(%x: tensor<8xf32>, %y: tensor<8xf32>):
      %0 = lax.add %x, %y : tensor<8xf32>
      %1 = lax.exp %0 : tensor<8xf32>
      fused.yield %1 : tensor<8xf32>
    }

The region is isolated from above (its block arguments are the operands), so a target may
compile it on its own; it is pure when its body is, so `cse`/`dce` treat it like any op.
"""

from __future__ import annotations

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Attribute, Dialect
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    lazy_traits_def,
    region_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.traits import (
    HasParent,
    IsolatedFromAbove,
    IsTerminator,
    Pure,
    RecursivelySpeculatable,
    RecursiveMemoryEffect,
)
from xdsl.utils.exceptions import VerifyException


@irdl_op_definition
class KernelOp(IRDLOperation):
    """A fused group of `lax` ops (no JAX counterpart): one kernel for XLA, its region
    reading only its operands and ending in `fused.yield`."""

    name = "fused.kernel"
    inputs = var_operand_def(TensorType)
    outputs = var_result_def(TensorType)
    body = region_def("single_block")
    traits = traits_def(IsolatedFromAbove(), RecursiveMemoryEffect(), RecursivelySpeculatable())
    assembly_format = "`(` $inputs `)` `:` functional-type($inputs, $outputs) $body attr-dict"

    def verify_(self) -> None:
        block = self.body.block
        if [a.type for a in block.args] != [v.type for v in self.inputs]:
            raise VerifyException("'fused.kernel': block argument types must match the operands")
        last = block.last_op
        if not isinstance(last, YieldOp):
            raise VerifyException("'fused.kernel': body must end with fused.yield")
        if [v.type for v in last.values] != [r.type for r in self.outputs]:
            raise VerifyException("'fused.kernel': yielded types must match the results")

    def ops_count(self) -> int:
        """Ops in the kernel body, terminator excluded."""
        return len(self.body.block.ops) - 1


@irdl_op_definition
class YieldOp(IRDLOperation):
    """Ends a `fused.kernel` region with the kernel's results (as `lax.yield` ends a
    sub-jaxpr)."""

    name = "fused.yield"
    values = var_operand_def(Attribute)
    traits = lazy_traits_def(lambda: (IsTerminator(), HasParent(KernelOp), Pure()))
    assembly_format = "$values `:` type($values) attr-dict"


Fused = Dialect("fused", [KernelOp, YieldOp], [])
