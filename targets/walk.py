"""The one IR walk both targets share: an environment and a rule per op class.

This is `jax.core.eval_jaxpr` for tiers IR. The JAX target runs it once inside `jax.jit`
(so it traces one XLA computation and nothing walks the IR at run time); the reference
target runs it with numpy rules. `func.call` recurses into the callee; rules for other ops
come from the target's table. (xDSL's `Interpreter` does the same walk; this loop is a few
lines, has no per-op listener overhead, and keeps the rule signature plain.)

Control-flow ops (`lax.cond`, `lax.while`, `lax.scan`) get one more argument, `run`: a
function `run(region, args) -> outs` that evaluates one of the op's regions on its block
arguments and returns what it yields. Their regions read values from above, so `run` starts
each region's environment from the values it captures (found once per block, not copied).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation, Region, SSAValue

from tiers.dialects import fused, lax

OpRule = Callable[..., Any]


class MissingRule(NotImplementedError):
    pass


def find_function(module: ModuleOp, name: str) -> func.FuncOp:
    for op in module.body.block.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == name:
            return op
    names = [op.sym_name.data for op in module.body.block.ops if isinstance(op, func.FuncOp)]
    listed = ", ".join("@" + n for n in names) or "none"
    raise KeyError(f"no function @{name} in the module (functions: {listed})")


class Walker:
    """Evaluates functions of one module with a table of rules keyed by op class."""

    def __init__(self, module: ModuleOp, rules: dict[type[Operation], OpRule], target: str):
        self.module = module
        self.rules = rules
        self.target = target
        self._functions = {
            op.sym_name.data: op for op in module.body.block.ops if isinstance(op, func.FuncOp)
        }
        self._captured: dict[Block, list[SSAValue]] = {}

    def call(self, name: str, args: Sequence[Any]) -> list[Any]:
        """The results of function `@name` on `args`."""
        if name not in self._functions:
            find_function(self.module, name)  # raises the helpful KeyError
        return self.run_block(self._functions[name].body.block, args)

    def run_block(self, block: Block, args: Sequence[Any],
                  outer: Mapping[SSAValue, Any] | None = None) -> list[Any]:
        """Evaluate `block` on `args`; returns what its terminator returns or yields.

        `outer`: the environment of the enclosing block, for a region that reads from above.
        """
        env: dict[Any, Any] = {}
        if outer is not None:
            env.update((v, outer[v]) for v in self.captured(block))
        env.update(zip(block.args, args, strict=True))
        rules = self.rules
        for op in block.ops:
            if isinstance(op, func.ReturnOp | fused.YieldOp | lax.YieldOp):
                return [env[v] for v in op.operands]
            if isinstance(op, func.CallOp):
                outs = self.call(op.callee.string_value(), [env[v] for v in op.operands])
            elif isinstance(op, fused.KernelOp):
                outs = self.kernel(op, [env[v] for v in op.operands])
            elif isinstance(op, lax.RegionOp):
                rule = rules.get(type(op))
                if rule is None:
                    raise MissingRule(f"the {self.target} target has no rule for '{op.name}'")

                def run(region: Region, values: Sequence[Any], env: dict = env) -> list[Any]:
                    return self.run_block(region.block, values, env)

                outs = rule(op, *(env[v] for v in op.operands), run=run)
                if len(op.results) == 1:
                    env[op.results[0]] = outs
                    continue
            else:
                rule = rules.get(type(op))
                if rule is None:
                    raise MissingRule(f"the {self.target} target has no rule for '{op.name}'")
                outs = rule(op, *(env[v] for v in op.operands))
                if len(op.results) == 1:
                    env[op.results[0]] = outs
                    continue
            env.update(zip(op.results, outs, strict=True))
        raise ValueError("block has no terminator")

    def captured(self, block: Block) -> list[SSAValue]:
        """The values defined outside `block` that it (or a region nested in it) reads."""
        known = self._captured.get(block)
        if known is None:
            inside: set[SSAValue] = set(block.args)
            seen: dict[SSAValue, None] = {}
            for op in block.walk():
                inside.update(op.results)
                for region in op.regions:
                    for inner in region.blocks:
                        inside.update(inner.args)
            for op in block.walk():
                seen.update((v, None) for v in op.operands if v not in inside)
            known = self._captured[block] = list(seen)
        return known

    def kernel(self, op: fused.KernelOp, args: Sequence[Any]) -> list[Any]:
        """A fused kernel, inline by default; a target may compile it on its own instead."""
        return self.run_block(op.body.block, args)
