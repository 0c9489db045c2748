"""The dominance check tiers adds to xDSL's verifier (passes/dominance.py)."""

from __future__ import annotations

import pytest
from xdsl.utils.exceptions import VerifyException

from tiers.dialects import lax
from tiers.pipeline.context import make_context
from tiers.pipeline.dominance import DominanceError, check_dominance
from tiers.pipeline.verify import parse_module, verify

CTX = make_context()
IR = """
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.neg %x : tensor<4xf32>
  %1 = lax.exp %0 : tensor<4xf32>
  %2 = lax.scan () xs (%x) length 4 reverse false unroll 1 : tensor<4xf32> -> tensor<4xf32> {
  ^bb0(%s: tensor<f32>):
    %3 = lax.sin %s : tensor<f32>
    lax.yield %3 : tensor<f32>
  }
  %4 = lax.add %1, %2 : tensor<4xf32>
  func.return %4 : tensor<4xf32>
}
"""


def module():
    return parse_module(CTX, IR, "test.mlir")[0]


def test_valid_ir_passes() -> None:
    m = module()
    check_dominance(m)
    verify(m)  # xDSL's verifier and the dominance check, as `pipeline.compile` runs them


def test_op_moved_below_its_user_is_caught() -> None:
    m = module()
    neg = next(op for op in m.walk() if isinstance(op, lax.NegOp))
    exp = next(op for op in m.walk() if isinstance(op, lax.ExpOp))
    m.verify()  # xDSL's verifier alone accepts it after the move below
    neg.detach()
    exp.parent_block().insert_op_after(neg, exp)
    m.verify()
    with pytest.raises(DominanceError, match="operand #0 does not dominate this use") as info:
        check_dominance(m)
    assert info.value.op is exp
    with pytest.raises(VerifyException):
        verify(m)


def test_region_reading_a_later_value_is_caught() -> None:
    m = module()
    sin = next(op for op in m.walk() if isinstance(op, lax.SinOp))
    add = next(op for op in m.walk() if isinstance(op, lax.AddOp))
    late = lax.NegOp(add.results[0])
    add.parent_block().insert_op_after(late, add)
    cos = lax.CosOp(late.results[0])
    sin.parent_block().insert_op_before(cos, sin)  # reads a value defined after the scan
    with pytest.raises(DominanceError) as info:
        check_dominance(m)
    assert info.value.op is cos
