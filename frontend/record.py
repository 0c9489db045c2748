"""`tiers.record()`: eager code, run as usual, recorded into tiers IR and replayable compiled.

Every eager op run inside the block (on this thread) is kept with the jaxpr of its kernel and
the identities of its operand and result arrays. Values are wired by identity: an operand that
some recorded op produced is that op's result, any other is an input of the recording (or,
in `function`, a constant unless listed as an input). Replaying evaluates the recorded jaxprs in
order under `tiers.jit`, so the whole graph is imported, optimized and compiled as one program.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax._src.core import jaxpr_as_fun  # not jax.extend's: that package imports Pallas (~15 ms)
from xdsl.dialects.builtin import ModuleOp

from tiers.frontend.config import bad_argument, check_pipeline, eager_pipeline, shown
from tiers.frontend.eager import LOCAL, Kernel, Op, refresh, spec
from tiers.frontend.importer import import_jaxpr
from tiers.frontend.jit import jit
from tiers.frontend.tensor import Tensor, holds_numbers
from tiers.pipeline import Pipeline


class ReplayError(ValueError):
    """A recorded value cannot be recomputed by a replay."""


@dataclass(eq=False)
class RecordedOp:
    """One eager op as run: its jaxpr (None if JAX ran it directly), operands and results."""

    name: str
    jaxpr: Any
    why_direct: str
    inputs: list[Any]
    outputs: list[Any]


class Recording:
    """What `tiers.record()` returns: the ops run in the block, as IR and as a function."""

    def __init__(self) -> None:
        self.ops: list[RecordedOp] = []

    def __enter__(self) -> Recording:
        LOCAL.recorders = (*LOCAL.recorders, self)
        refresh()
        return self

    def __exit__(self, *exc: Any) -> None:
        LOCAL.recorders = tuple(r for r in LOCAL.recorders if r is not self)
        refresh()

    def add(self, op: Op, kernel: Kernel, inputs: Sequence[Any], outputs: Sequence[Any]) -> None:
        """Note that `op` ran (called by the eager dispatcher)."""
        self.ops.append(RecordedOp(op.name, kernel.jaxpr, kernel.why_direct, list(inputs),
                                   list(outputs)))

    @property
    def inputs(self) -> list[Any]:
        """Arrays the recorded ops read but did not compute, in order of first use."""
        made = {id(o) for op in self._replayable() for o in op.outputs}
        seen: dict[int, Any] = {}
        for op in self._replayable():
            for x in op.inputs:
                if id(x) not in made and isinstance(x, jax.Array | np.ndarray):
                    seen.setdefault(id(x), x)
        return [_tensor(x) for x in seen.values()]

    @property
    def outputs(self) -> list[Tensor]:
        """Results of recorded ops that no later recorded op reads."""
        read = {id(x) for op in self._replayable() for x in op.inputs}
        return [Tensor(o) for op in self._replayable() for o in op.outputs if id(o) not in read]

    @property
    def module(self) -> ModuleOp:
        """The recorded ops as tiers IR, before any pass: `@main(inputs) -> outputs`."""
        inputs = [_raw(x) for x in self.inputs]
        program = self._program(inputs, [_raw(x) for x in self.outputs])
        closed = jax.make_jaxpr(program)(*[spec(x) for x in inputs])
        return import_jaxpr(closed, "main")

    def function(self, inputs: Sequence[Any], outputs: Any,
                 pipeline: str | Pipeline | None = None) -> Callable[..., Any]:
        """A compiled replay: arrays for `inputs` -> the values of `outputs` (same structure).

        Values computed before the block (or by JAX directly) that are not listed in `inputs`
        are constants. The program goes through `pipeline` (default: the eager pipeline).
        The replay takes exactly one array per input, of the recorded shape and dtype.
        """
        inputs = _inputs(inputs)
        leaves, tree = jax.tree_util.tree_flatten(outputs, is_leaf=lambda x: type(x) is Tensor)
        for leaf in leaves:
            if not _is_array(leaf) and not isinstance(leaf, int | float | complex):
                raise TypeError(f"Recording.function: outputs must hold Tensors or arrays, got "
                                f"{shown(leaf)}")
        if pipeline is not None:
            check_pipeline(pipeline, "Recording.function")
        program = self._program(inputs, [_raw(x) for x in leaves])
        recorded = [jax.typeof(x) for x in inputs]

        def replay(*values: Any) -> Any:
            values = tuple(_raw(v) for v in values)  # Tensors in (tiers.jit answers Tensors)
            if len(values) != len(recorded):  # what Python says of a call with too few
                avals = ", ".join(a.str_short() for a in recorded) or "none"
                raise TypeError(f"the replay takes {len(recorded)} input(s), one per entry of "
                                f"`inputs` ({avals}), but {len(values)} were given")
            for i, (value, aval) in enumerate(zip(values, recorded, strict=True)):
                if (value.shape, value.dtype) != (aval.shape, aval.dtype):
                    raise ValueError(f"input {i} was recorded as {aval.str_short()}, "
                                     f"got {jax.typeof(value).str_short()}")
            return jax.tree_util.tree_unflatten(tree, program(*values))

        replay.__name__ = "recorded"
        return jit(replay, pipeline=pipeline or eager_pipeline())

    def _replayable(self) -> list[RecordedOp]:
        return [op for op in self.ops if op.jaxpr is not None]

    def _program(self, inputs: list[Any], outputs: list[Any]) -> Callable[..., list[Any]]:
        """A JAX function evaluating the ops `outputs` need, from `inputs`."""
        given = {id(x) for x in inputs}
        need = {id(o) for o in outputs} - given
        kept: list[RecordedOp] = []
        for op in reversed(self.ops):
            if not any(id(o) in need for o in op.outputs):
                continue
            if op.jaxpr is None:
                raise ReplayError(
                    f"'{op.name}' ran as a plain JAX call ({op.why_direct}), so a replay cannot "
                    "recompute its result; list that result in `inputs`")
            kept.append(op)
            need.update(id(x) for x in op.inputs if id(x) not in given)
        kept.reverse()

        def program(*values: Any) -> list[Any]:
            env = {id(x): v for x, v in zip(inputs, values, strict=True)}
            for op in kept:
                args = [env[id(x)] if id(x) in env else _constant(x) for x in op.inputs]
                env.update(zip(map(id, op.outputs), jaxpr_as_fun(op.jaxpr)(*args)))
            return [env.get(id(o), o) for o in outputs]

        return program


def record() -> Recording:
    """Record the eager ops run in a `with` block (on this thread) into tiers IR."""
    return Recording()


def _is_array(x: Any) -> bool:
    return isinstance(x, Tensor | jax.Array | np.ndarray)


def _inputs(inputs: Any) -> list[Any]:
    """`function`'s inputs as arrays: a sequence of Tensors or arrays (wired by identity, so
    Python numbers cannot be inputs), else a TypeError naming the bad entry."""
    if _is_array(inputs) or isinstance(inputs, str) or not isinstance(inputs, Sequence):
        raise bad_argument("Recording.function", "inputs", "a list of Tensors or arrays",
                           inputs)
    for i, x in enumerate(inputs):
        if not _is_array(x) or isinstance(x, np.ndarray) and not holds_numbers(x.dtype):
            raise bad_argument("Recording.function", f"inputs[{i}]", "a Tensor or an array", x)
    return [_raw(x) for x in inputs]


def _raw(x: Any) -> Any:
    return x.value if type(x) is Tensor else x


def _tensor(x: Any) -> Any:
    return Tensor(x) if isinstance(x, jax.Array) else x


def _constant(x: Any) -> Any:
    # Python scalars keep their weak type, as when the op ran.
    return x if isinstance(x, jax.Array) else jnp.asarray(x)
