"""`inline`: replaces every `func.call` to a function of the module by the callee's body,
then erases private functions nothing calls any more.

After it, a module imported from JAX (whose nested `jit`s and custom-derivative calls became
private functions) is one flat function, so later passes see across call boundaries. Each
call is visited once; bodies are cloned, so cost is linear in the inlined size.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter


def inline_calls(module: ModuleOp) -> int:
    """Inline all calls to functions defined in `module`; returns how many were inlined."""
    functions = {op.sym_name.data: op for op in module.body.block.ops
                 if isinstance(op, func.FuncOp)}
    worklist = [op for op in module.walk() if isinstance(op, func.CallOp)]
    inlined = 0
    while worklist:
        call = worklist.pop()
        callee = functions.get(call.callee.string_value())
        if callee is None or len(callee.body.blocks) != 1:
            continue
        values: dict[SSAValue, SSAValue] = dict(
            zip(callee.body.block.args, call.operands, strict=True))
        block, results = call.parent_block(), None
        assert block is not None
        for op in callee.body.block.ops:
            if isinstance(op, func.ReturnOp):
                results = [values.get(v, v) for v in op.operands]
                break
            clone = op.clone(value_mapper=values)
            block.insert_op_before(clone, call)
            worklist.extend(o for o in clone.walk() if isinstance(o, func.CallOp))
        assert results is not None
        for old, new in zip(call.results, results, strict=True):
            old.replace_all_uses_with(new)
        Rewriter.erase_op(call)
        inlined += 1
    called = {op.callee.string_value() for op in module.walk() if isinstance(op, func.CallOp)}
    for name, fn in functions.items():
        if fn.sym_visibility is not None and fn.sym_visibility.data == "private" \
                and name not in called:
            Rewriter.erase_op(fn)
    return inlined


@dataclass(frozen=True)
class InlinePass(ModulePass):
    name = "inline"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        inline_calls(op)
