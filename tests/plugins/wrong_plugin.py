"""A deliberately wrong plugin for tests, loaded as a plain file (`--load-plugin FILE.py`).

`double-to-triple` rewrites x*2 as x+x+x, `crash` raises, `drop-return` leaves invalid IR,
`drop-stop-gradient` is exact on values and wrong on derivatives;
`needs-fused` and `needs-silu` do nothing but declare what they require.
"""

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern
from xdsl.rewriter import Rewriter
from xdsl.universe import Universe

from tiers.dialects import lax
from tiers.dialects.constants import constant_array
from tiers.passes import function_pass, pattern_pass


def _is_two(value) -> bool:
    op = value.owner
    if isinstance(op, lax.BroadcastInDimOp):
        op = op.operands[0].owner
    if not isinstance(op, lax.ConstantOp):
        return False
    data = constant_array(op.value)
    return data.size >= 1 and bool((data == 2).all())


class MulTwoToThreeAdds(RewritePattern):
    """x * 2 -> x + x + x (wrong on purpose: the semantic checker must catch it)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: lax.MulOp, rewriter: PatternRewriter) -> None:
        x, two = op.operands
        if not _is_two(two):
            return
        first = lax.AddOp(x, x)
        rewriter.replace(op, [first, lax.AddOp(first.results[0], x)])


DoubleToTriple = pattern_pass("double-to-triple", [MulTwoToThreeAdds()], requires=("lax",))


@function_pass("crash")
def crash(module: ModuleOp, *, message: str = "boom") -> None:
    """Raises, to test crash reproducers."""
    raise RuntimeError(message)


UNIVERSE = Universe(all_passes={"double-to-triple": lambda: DoubleToTriple,
                                "crash": lambda: crash})


@function_pass("drop-return")
def drop_return(module: ModuleOp) -> None:
    """Leaves invalid IR: every `func.return` loses its operands."""
    for op in list(module.walk()):
        if isinstance(op, func.ReturnOp) and op.operands:
            Rewriter.replace_op(op, func.ReturnOp())


NeedsFused = pattern_pass("needs-fused", [], requires=("fused",))
NeedsSilu = pattern_pass("needs-silu", [], requires=("silu",))

UNIVERSE.all_passes.update({"drop-return": lambda: drop_return,
                            "needs-fused": lambda: NeedsFused,
                            "needs-silu": lambda: NeedsSilu})


@function_pass("drop-stop-gradient")
def drop_stop_gradient(module: ModuleOp) -> None:
    """stop_gradient(x) -> x: exact on values, wrong on derivatives."""
    for op in list(module.walk()):
        if isinstance(op, lax.StopGradientOp):
            op.results[0].replace_all_uses_with(op.operands[0])
            Rewriter.erase_op(op)


UNIVERSE.all_passes["drop-stop-gradient"] = lambda: drop_stop_gradient
