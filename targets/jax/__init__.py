"""The JAX target: tiers IR -> one `jax.jit` computation -> an XLA executable.

`to_callable` gives a plain JAX function that walks the IR with `jax.lax` rules; `compile`
wraps it in `jax.jit`, so XLA compiles the whole function at once and later calls never
look at the IR ("graph" mode, `fused.kernel` regions inlined). The "kernels" mode instead
compiles each `fused.kernel` region as its own XLA executable and runs everything else op by
op, so what fusion did is observable: kernels compiled, kernel launches, ops per kernel.
Nothing here is CPU-specific: it runs on whatever `jax.devices()` offers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

from tiers.dialects import fused, sharding
from tiers.targets.jax.rules import RULES
from tiers.targets.walk import Walker, find_function

MODES = ("graph", "kernels")


def to_callable(module: ModuleOp, entry: str = "main") -> Callable[..., list[Any]]:
    """A traceable JAX function computing `@entry` of `module` (flat args -> list of outs)."""
    find_function(module, entry)
    walker = Walker(module, RULES, "jax")

    def run(*args: Any) -> list[Any]:
        return walker.call(entry, args)

    return run


class KernelsProgram:
    """`@entry` run op by op, each `fused.kernel` as its own compiled XLA executable."""

    def __init__(self, module: ModuleOp, entry: str):
        find_function(module, entry)
        self.entry = entry
        self.walker = _KernelWalker(module, RULES, "jax")

    def __call__(self, *args: Any) -> list[Any]:
        return self.walker.call(self.entry, args)

    @property
    def kernels(self) -> int:
        """Distinct kernels compiled so far."""
        return len(self.walker.compiled)

    @property
    def launches(self) -> int:
        """Kernel executions so far."""
        return self.walker.launches

    def ops_per_kernel(self) -> list[int]:
        return [op.ops_count() for op in self.walker.compiled]


class _KernelWalker(Walker):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.compiled: dict[fused.KernelOp, Callable[..., Any]] = {}
        self.launches = 0

    def kernel(self, op: fused.KernelOp, args: Sequence[Any]) -> list[Any]:
        fn = self.compiled.get(op)
        if fn is None:
            inline = Walker(self.module, self.rules, self.target)
            fn = self.compiled[op] = jax.jit(lambda *a: inline.run_block(op.body.block, a))
        self.launches += 1
        return fn(*args)


def placement(fn: func.FuncOp) -> dict[str, Any]:
    """`jax.jit`'s `in_shardings`/`out_shardings` for the `tiers.device`, `tiers.mesh` and
    `tiers.sharding` attributes of `fn` (dialects/sharding.py); none without them."""
    attrs = fn.attributes
    if sharding.DEVICE in attrs:
        where = jax.sharding.SingleDeviceSharding(sharding.to_device(attrs[sharding.DEVICE]))
        return {"in_shardings": where, "out_shardings": where}
    if sharding.MESH not in attrs:
        return {}
    mesh = sharding.to_mesh(attrs[sharding.MESH])

    def each(dicts: Any, n: int) -> tuple[Any, ...]:
        # None leaves the placement of that value to JAX, as in `jax.jit`.
        if dicts is None:
            return (None,) * n
        return tuple(jax.sharding.NamedSharding(mesh, sharding.to_spec(d.data[sharding.SHARDING]))
                     if sharding.SHARDING in d.data else None for d in dicts)

    return {"in_shardings": each(fn.arg_attrs, len(fn.function_type.inputs)),
            # `to_callable` returns a list: the prefix must be one too
            "out_shardings": list(each(fn.res_attrs, len(fn.function_type.outputs)))}


def compile(module: ModuleOp, entry: str = "main", mode: str = "graph") -> Callable[..., Any]:  # noqa: A001
    """`@entry` of `module` compiled in `mode` ("graph": one `jax.jit`; "kernels": see above)."""
    if mode == "graph":
        return jax.jit(to_callable(module, entry), **placement(find_function(module, entry)))
    if mode == "kernels":
        return KernelsProgram(module, entry)
    raise ValueError(f"unknown JAX target mode '{mode}' (modes: {', '.join(MODES)})")
