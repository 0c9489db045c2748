"""The ops of the `lax` dialect that call back into Python: JAX's host callbacks, with effects.

    lax.debug_print "x = {x}" %x ordered false : tensor<3xf32> -> ()
    %y = lax.pure_callback "my_sin" %x : tensor<3xf32>
    %z = lax.io_callback "log_step" %x ordered true : tensor<3xf32> -> tensor<3xf32>

One op per JAX primitive (`debug_print`, `debug_callback`, `pure_callback`, `io_callback`).
The Python side of a callback (the function, its pytree structure, JAX's other params) cannot
be IR: it rides in the `callback` property, a `lax.callback` attribute holding a
`HostCallback` by identity. The op prints the callback's name (the format string of a print,
the qualified name of a function) and `ordered`, where JAX has that choice; parsing one back
from text is an error naming the callback, since no text can hold a Python function.

Effects, as xDSL's traits tell them to `cse`, `dce`, `licm`, `canonicalize` and the
control-flow patterns (MLIR's `MemoryEffectOpInterface`):
- `debug_print`, `debug_callback`, `io_callback` read and write the host (`HostEffects`): never
  erased, merged, hoisted, folded or reordered with one another; a region op holding one has
  its effects (`RecursiveMemoryEffect`).
- `pure_callback` allocates its results (`FreshResults`), as MLIR's `memref.alloc`: erased when
  they are unused (JAX's DCE drops it too), never merged, hoisted or folded.
Ordering between callbacks, where JAX orders them (`ordered`), then holds because no pass
moves an op with effects; the JAX target binds JAX's own primitive, so JAX threads its tokens.

The ops belong to the `lax` dialect: `lax.py` re-exports them and lists them in `Lax`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from xdsl.dialects.builtin import IntegerAttr
from xdsl.ir import Data, Operation
from xdsl.irdl import (
    irdl_attr_definition,
    irdl_op_definition,
    prop_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import AttrParser, Parser
from xdsl.printer import Printer
from xdsl.traits import EffectInstance, MemoryEffect, MemoryEffectKind

from tiers.dialects import syntax
from tiers.dialects.dtypes import to_numpy
from tiers.dialects.lax_base import LaxOp, Tensor, bool_attr, elem, fail, shape


@dataclass(frozen=True, eq=False)
class HostCallback:
    """A Python callback of an op: JAX's params of its primitive, less the `ordered` choice
    (a property of the op). Equal only to itself, so two callbacks never look alike."""

    name: str  # what the IR shows: a print's format string, a function's qualified name
    params: Mapping[str, Any] = field(default_factory=dict)
    primitive: Any = None  # the JAX primitive of a `lax.opaque` op (a callback op's is its own)


def _unparsable(name: str) -> str:
    return (f"the Python callback {name!r} cannot be read from IR text: a callback op holds "
            "a Python function, which lives only in the process that traced it (compile the "
            "function with tiers.jit instead of reading its IR back)")


@irdl_attr_definition
class CallbackAttr(Data[HostCallback]):
    """`#lax.callback<"name">`: a `HostCallback`, held by identity; prints, never parses."""

    name = "lax.callback"

    @classmethod
    def parse_parameter(cls, parser: AttrParser) -> HostCallback:
        with parser.in_angle_brackets():
            at = parser.pos
            name = parser.parse_str_literal()
            parser.raise_error(_unparsable(name), at, parser.pos)

    def print_parameter(self, printer: Printer) -> None:
        printer.print_string("<")
        printer.print_string_literal(self.data.name)
        printer.print_string(">")


# The effects of one callback on the rest of the program (xDSL has one universal resource).
_HOST = frozenset((EffectInstance(MemoryEffectKind.READ), EffectInstance(MemoryEffectKind.WRITE)))


class HostEffects(MemoryEffect):
    """Reads and writes the host: the op stays, once, where it is."""

    @classmethod
    def get_effects(cls, op: Operation) -> AbstractSet[EffectInstance]:
        return _HOST


class FreshResults(MemoryEffect):
    """Allocates its results (MLIR's `Allocate` on each result): dead when they are unused,
    never merged with an equal op (each call is its own), never hoisted."""

    @classmethod
    def get_effects(cls, op: Operation) -> AbstractSet[EffectInstance]:
        return frozenset(EffectInstance(MemoryEffectKind.ALLOC, r) for r in op.results)


class CallbackOp(LaxOp):
    """Base of the callback ops: any tensors in, any tensors out, the callback, its effects."""

    inputs = var_operand_def(Tensor)
    outputs = var_result_def(Tensor)
    callback = prop_def(CallbackAttr)
    ORDERED: ClassVar[bool] = True  # has the `ordered` property (JAX's choice to order it)

    @classmethod
    def make(cls, operands: list, result_types: list, callback: HostCallback,
             ordered: bool = False) -> Self:
        """An op calling `callback` on `operands`."""
        props: dict = {"callback": CallbackAttr(callback)}
        if cls.ORDERED:
            props["ordered"] = bool_attr(ordered)
        return cls.build(operands=[operands], result_types=[result_types], properties=props)

    @property
    def host(self) -> HostCallback:
        """The Python side of the callback."""
        return self.callback.data

    @property
    def is_ordered(self) -> bool:
        """Whether JAX orders this callback with the program's other ordered effects."""
        return self.ORDERED and self.flag("ordered")

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_string_literal(self.host.name)
        syntax.print_op(self, printer, skip=("callback",))

    @classmethod
    def parse(cls, parser: Parser) -> Self:
        at = parser.pos
        name = parser.parse_str_literal()
        parser.raise_error(f"'{cls.name}': {_unparsable(name)}", at, parser.pos)


class ResultsCallbackOp(CallbackOp):
    """A callback that returns arrays: its result types are JAX's `result_avals`."""

    def verify_(self) -> None:
        avals = self.host.params.get("result_avals")
        if avals is None:
            return
        got = [(shape(r), to_numpy(elem(r))) for r in self.outputs]
        want = [(tuple(a.shape), a.dtype) for a in avals]
        if got != want:
            fail(self, f"results {got} differ from the callback's result_avals {want}")


@irdl_op_definition
class DebugPrintOp(CallbackOp):
    """`jax.debug.print` (`debugging.debug_print_p`): prints its operands formatted; no
    results. Shown by its format string."""

    name = "lax.debug_print"
    PRIMITIVE: ClassVar[str] = "debug_print"
    ordered = prop_def(IntegerAttr)
    traits = traits_def(HostEffects())


@irdl_op_definition
class DebugCallbackOp(CallbackOp):
    """`jax.debug.callback` (`debugging.debug_callback_p`): calls a function for its effect;
    no results."""

    name = "lax.debug_callback"
    PRIMITIVE: ClassVar[str] = "debug_callback"
    ordered = prop_def(IntegerAttr)
    traits = traits_def(HostEffects())


@irdl_op_definition
class IoCallbackOp(ResultsCallbackOp):
    """`jax.experimental.io_callback` (`callback.io_callback_p`): a function with effects,
    called once per execution, `ordered` or not."""

    name = "lax.io_callback"
    PRIMITIVE: ClassVar[str] = "io_callback"
    ordered = prop_def(IntegerAttr)
    traits = traits_def(HostEffects())


@irdl_op_definition
class PureCallbackOp(ResultsCallbackOp):
    """`jax.pure_callback` (`callback.pure_callback_p`): a function without effects, which
    may be dropped when its results are unused."""

    name = "lax.pure_callback"
    PRIMITIVE: ClassVar[str] = "pure_callback"
    traits = traits_def(FreshResults())
    ORDERED: ClassVar[bool] = False


@irdl_op_definition
class OpaqueOp(CallbackOp):
    """Any other JAX primitive whose params tiers cannot write as data (`jax.shard_map`'s body
    and mesh, `jax.lax.reduce` with a Python computation, a library's own primitive), held as
    JAX bound it and lowered by JAX's own rule. Shown by the primitive's name.

    Its effects are unknown to tiers, so passes never move, merge or drop it; like a callback
    it lives only in the process that traced it (no text form, no program cache), and both
    targets run it by binding JAX's primitive."""

    name = "lax.opaque"
    PRIMITIVE: ClassVar[str] = "opaque"
    ORDERED: ClassVar[bool] = False


EFFECT_OPS = (DebugPrintOp, DebugCallbackOp, IoCallbackOp, PureCallbackOp, OpaqueOp)


def jax_params(op: CallbackOp) -> dict[str, Any]:
    """The params to bind `op`'s JAX primitive with: the held ones and `ordered` in JAX's
    form (`debug_callback` takes it as its effect)."""
    params = dict(op.host.params)
    if isinstance(op, DebugCallbackOp):
        from jax._src import debugging

        params["effect"] = debugging.ordered_debug_effect if op.is_ordered \
            else debugging.debug_effect
    elif op.ORDERED:
        params["ordered"] = op.is_ordered
    return params


def has_callbacks(root: Operation) -> bool:
    """Whether `root` or an op nested in it calls back into Python."""
    return any(isinstance(op, CallbackOp) for op in root.walk())


def bind_eqn(prim: Any, args: Sequence[Any], params: Mapping[str, Any]) -> Any:
    """`prim` bound on `args` with an equation's `params`, as `jax.core.eval_jaxpr` binds one
    (a higher-order primitive's jaxpr params become the functions its `bind` takes)."""
    return prim.bind(*args, **prim.get_bind_params(dict(params)))
