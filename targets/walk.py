"""The one IR walk both targets share: an environment and a rule per op class.

This is `jax.core.eval_jaxpr` for tiers IR. The JAX target runs it once inside `jax.jit`
(so it traces one XLA computation and nothing walks the IR at run time); the reference
target runs it with numpy rules. `func.call` recurses into the callee; rules for other ops
come from the target's table. (xDSL's `Interpreter` does the same walk; this loop is a few
lines, has no per-op listener overhead, and keeps the rule signature plain.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, ModuleOp
from xdsl.ir import Block, Operation

from tiers.dialects import dtypes, fused

OpRule = Callable[..., Any]


class MissingRule(NotImplementedError):
    pass


def constant_array(value: DenseIntOrFPElementsAttr) -> np.ndarray:
    """The numpy array a dense attribute holds."""
    dtype = dtypes.to_numpy(value.get_element_type())
    raw = np.int8 if dtype == np.bool_ else dtype
    shape = tuple(value.get_shape())
    flat = np.frombuffer(value.data.data, dtype=np.dtype(raw).newbyteorder("<"))
    if flat.size == 1 and int(np.prod(shape)) != 1:
        flat = np.broadcast_to(flat, (int(np.prod(shape)),))
    return flat.reshape(shape).astype(dtype)


def find_function(module: ModuleOp, name: str) -> func.FuncOp:
    for op in module.body.block.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == name:
            return op
    names = [op.sym_name.data for op in module.body.block.ops if isinstance(op, func.FuncOp)]
    raise KeyError(f"no function @{name} in the module (functions: {', '.join(names) or 'none'})")


class Walker:
    """Evaluates functions of one module with a table of rules keyed by op class."""

    def __init__(self, module: ModuleOp, rules: dict[type[Operation], OpRule], target: str):
        self.module = module
        self.rules = rules
        self.target = target
        self._functions = {
            op.sym_name.data: op for op in module.body.block.ops if isinstance(op, func.FuncOp)
        }

    def call(self, name: str, args: Sequence[Any]) -> list[Any]:
        """The results of function `@name` on `args`."""
        if name not in self._functions:
            find_function(self.module, name)  # raises the helpful KeyError
        return self.run_block(self._functions[name].body.block, args)

    def run_block(self, block: Block, args: Sequence[Any]) -> list[Any]:
        """Evaluate `block` on `args`; returns what its terminator returns or yields."""
        env: dict[Any, Any] = dict(zip(block.args, args, strict=True))
        rules = self.rules
        for op in block.ops:
            if isinstance(op, func.ReturnOp | fused.YieldOp):
                return [env[v] for v in op.operands]
            if isinstance(op, func.CallOp):
                outs = self.call(op.callee.string_value(), [env[v] for v in op.operands])
            elif isinstance(op, fused.KernelOp):
                outs = self.kernel(op, [env[v] for v in op.operands])
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

    def kernel(self, op: fused.KernelOp, args: Sequence[Any]) -> list[Any]:
        """A fused kernel, inline by default; a target may compile it on its own instead."""
        return self.run_block(op.body.block, args)
