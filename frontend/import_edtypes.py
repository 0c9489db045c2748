"""Arrays of JAX's other extended dtypes (not PRNG keys): flax's `fp8_meta32`, ...

A library defines one with `jax.dtypes.ExtendedDType` and a rules class: a representation
(`physical_element_aval`, float32 for flax's fp8 metadata), the conversions it allows
(`to_edtype`/`from_edtype`, which JAX lowers to nothing) and how gradients of it accumulate
(`_rules.add`, which JAX's lowering of `add_any` calls: flax's takes the max, not the sum).
tiers IR holds such an array as its representation (`emitter.aval_type`), as JAX's lowering
does, and `EDTYPE_RULES` serves the primitives applied to it: the conversions are no-ops,
`add_any` is the dtype's own `add` traced, and primitives that only move or lay out data keep
their rules where the representation of one element is a scalar (the array's physical shape is
its own, as for `fp8_meta32`). Anything else on such arrays is an error naming the primitive:
a rule written for plain arrays would compute with the representation, which is not what JAX
computes.
"""

from __future__ import annotations

from typing import Any

from jax._src import core as jax_core
from xdsl.ir import SSAValue

from tiers.frontend.emitter import Emitter, Rule, UnsupportedPrimitive, is_extended, rule_adder
from tiers.frontend.import_rules import RULES, traced_lowering

EDTYPE_RULES: dict[str, Rule] = {}
_rule = rule_adder(EDTYPE_RULES)


@_rule("to_edtype", "from_edtype")
def _convert(em: Emitter, x: SSAValue):
    # `lax.convert_element_type` to or from the extended dtype: the representation is the
    # value (JAX lowers both to their operand).
    return [x]


@_rule("add_any")
def _add_any(em: Emitter, x: SSAValue, y: SSAValue):
    # Gradients of the extended dtype accumulate by its own rule (`mlir.add_jaxvals_lowering`).
    dtype = em.eqn.invars[0].aval.dtype
    return traced_lowering(em, lambda a, b: dtype._rules.add(dtype, a, b), False, [x, y])


# Primitives that move, lay out or carry data without computing on it. On an array whose
# element is represented by a scalar, JAX lowers each as on the representation.
LAYOUT = frozenset((
    "broadcast_in_dim", "reshape", "squeeze", "expand_dims", "transpose", "rev", "slice", "pad",
    "dynamic_slice", "dynamic_update_slice", "gather", "scatter", "concatenate", "select_n",
    "copy", "copy_p", "device_put", "optimization_barrier", "sharding_constraint", "reshard",
    "jit", "pjit", "closed_call", "tiers_call", "remat2", "custom_jvp_call", "custom_vjp_call",
    "cond", "while", "scan"))


def edtype_rule(eqn: Any) -> Rule:
    """The rule of `eqn`, which has operands or results of an extended dtype."""
    name = eqn.primitive.name
    rule = EDTYPE_RULES.get(name)
    if rule is not None:
        return rule
    if name in LAYOUT and name in RULES and all(
            _scalar_elements(v.aval) for v in (*eqn.invars, *eqn.outvars)):
        return RULES[name]
    return _unsupported


def _scalar_elements(aval: Any) -> bool:
    """Whether one element of `aval` is represented by a scalar (any plain array's is)."""
    return not is_extended(aval) or jax_core.physical_element_aval(aval.dtype).shape == ()


def _unsupported(em: Emitter, *args: SSAValue) -> Any:
    eqn = em.eqn
    dtype = next(v.aval.dtype for v in (*eqn.invars, *eqn.outvars) if is_extended(v.aval))
    raise UnsupportedPrimitive(
        f"{em.where()}: tiers cannot import primitive '{eqn.primitive.name}' on arrays of "
        f"extended dtype {dtype} yet (they support conversion to and from their "
        "representation, add_any and data movement)")
