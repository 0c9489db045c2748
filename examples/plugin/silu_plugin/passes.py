"""`silu-raise`: x * logistic(x) -> silu.silu x; `silu-lower`: silu.silu x -> lax again.

`jax.nn.silu` and `x * jax.nn.sigmoid(x)` both import as `lax.logistic` then `lax.mul` (inside
a private `@silu` function for the former: run `inline` first). Run `silu-raise` before
`raise-lax-to-array`, which otherwise turns the same pattern into `array.silu`.
"""

from __future__ import annotations

from xdsl.ir import SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from silu_plugin.dialect import SiluOp
from tiers.dialects import lax
from tiers.passes import pattern_pass


def _logistic_of(value: SSAValue, x: SSAValue) -> bool:
    return isinstance(value.owner, lax.LogisticOp) and value.owner.operands[0] == x


class RaiseSilu(RewritePattern):
    """x * logistic(x) -> silu(x), either operand order."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: lax.MulOp, rewriter: PatternRewriter) -> None:
        a, b = op.operands
        for x, s in ((a, b), (b, a)):
            if _logistic_of(s, x):
                rewriter.replace(op, SiluOp(x))
                return


class LowerSilu(RewritePattern):
    """silu(x) -> x * logistic(x)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: SiluOp, rewriter: PatternRewriter) -> None:
        logistic = lax.LogisticOp(op.input)
        rewriter.replace(op, [logistic, lax.MulOp(op.input, logistic.results[0])])


SiluRaisePass = pattern_pass("silu-raise", [RaiseSilu()], requires=("lax",),
                             produces=("silu",), doc="x * logistic(x) -> silu.silu x.")
SiluLowerPass = pattern_pass("silu-lower", [LowerSilu()], produces=("lax",),
                             removes=("silu",), doc="silu.silu x -> x * logistic(x).")
