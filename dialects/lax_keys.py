"""Typed PRNG keys (`jax.random.key`) in the `lax` dialect: the key element type and the two
ops that convert between keys and their data.

    func.func @main(%k: tensor<4x!lax.key<"threefry2x32">>) -> tensor<4x!lax.key<"threefry2x32">> {
      %d = lax.random_unwrap %k : tensor<4x!lax.key<"threefry2x32">> -> tensor<4x2xui32>
      ...
      %k2 = lax.random_wrap %d2 : tensor<4x2xui32> -> tensor<4x!lax.key<"threefry2x32">>
      func.return %k2 : tensor<4x!lax.key<"threefry2x32">>
    }

A key array is `tensor<shape x !lax.key<"impl">>`, `impl` the name of a PRNG implementation
JAX has registered (`jax._src.random.prng.prngs`: "threefry2x32", "rbg", "unsafe_rbg", ...).
Its data, what JAX's lowering holds (`core.physical_aval`), is `tensor<shape x key_shape x
ui32>`, `key_shape` the implementation's (`[2]` for threefry2x32, `[4]` for rbg): `physical`.

Keys appear only at the boundary of a public function: its arguments and results may be keys,
and `lax.random_unwrap` / `lax.random_wrap` (JAX's `random_unwrap_p` / `random_wrap_p`) turn
them into data and back. Everything in between works on the data, as plain integers, so passes,
fusion and both targets never meet a key (the importer traces JAX's own implementation of each
key operation on the data, `frontend/import_rules.py`). A target maps a key tensor to its data
where it has no keys of its own (StableHLO, numpy), and the two ops are identities there.

The type and ops belong to the `lax` dialect: `lax.py` re-exports them and lists them in `Lax`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar, cast

from xdsl.dialects.builtin import IntegerType, Signedness, StringAttr, TensorType
from xdsl.ir import Attribute, ParametrizedAttribute, TypeAttribute
from xdsl.irdl import irdl_attr_definition, irdl_op_definition, operand_def, result_def, traits_def
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from tiers.dialects.lax_base import LaxCanonicalization, LaxOp, Tensor, elem, fail, shape

UINT32 = IntegerType(32, Signedness.UNSIGNED)  # the element type of every key's data


def implementations() -> dict[str, Any]:
    """JAX's registered PRNG implementations by name (`PRNGImpl`s)."""
    from jax._src.random import prng  # the dialects need JAX only for this registry

    return prng.prngs


@irdl_attr_definition
class KeyType(ParametrizedAttribute, TypeAttribute):
    """`!lax.key<"threefry2x32">`: one PRNG key of a registered implementation, an element
    type of tensors (JAX's `key<impl>` dtype)."""

    name = "lax.key"
    impl: StringAttr

    def __init__(self, impl: str | StringAttr):
        super().__init__(StringAttr(impl) if isinstance(impl, str) else impl)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            return (StringAttr(parser.parse_str_literal()),)

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            printer.print_string_literal(self.impl.data)

    def verify(self) -> None:
        if self.impl.data not in implementations():
            raise VerifyException(
                f"!lax.key: unknown PRNG implementation {self.impl.data!r} (JAX has: "
                f"{', '.join(sorted(implementations()))})")

    @property
    def implementation(self) -> Any:
        """JAX's `PRNGImpl` of these keys."""
        return implementations()[self.impl.data]

    @property
    def key_shape(self) -> tuple[int, ...]:
        """The shape of one key's data (`[2]` for threefry2x32)."""
        return tuple(self.implementation.key_shape)


def is_key(t: Attribute) -> bool:
    """Whether `t` is a tensor of keys."""
    return isinstance(t, TensorType) and isinstance(t.element_type, KeyType)


_TYPES: dict[tuple[str, tuple[int, ...]], TensorType] = {}


def key_tensor(impl: str, keys_shape: Sequence[int]) -> TensorType:
    """`tensor<shape x !lax.key<"impl">>` (memoized, as `dtypes.tensor_type`)."""
    k = (impl, tuple(int(d) for d in keys_shape))
    t = _TYPES.get(k)
    if t is None:
        t = _TYPES[k] = TensorType(KeyType(impl), k[1])
    return t


AttrT = TypeVar("AttrT", bound=Attribute)


def physical(t: AttrT) -> AttrT:
    """The data of a key tensor type (`tensor<4x2xui32>` of `tensor<4x!lax.key<"threefry2x32">>`);
    any other type itself."""
    if not isinstance(t, TensorType) or not isinstance(t.element_type, KeyType):
        return t
    key = t.element_type
    assert isinstance(key, KeyType)
    k = ("", (*t.get_shape(), *key.key_shape))
    data = _TYPES.get(k)
    if data is None:
        data = _TYPES[k] = TensorType(UINT32, k[1])
    return cast(AttrT, data)


class KeyDataOp(LaxOp):
    """Base of `lax.random_wrap` and `random_unwrap`: one operand, one result, one of them
    keys of some shape, the other their data (that shape, then the key shape, ui32)."""

    operand = operand_def(Tensor)
    result = result_def(Tensor)
    traits = traits_def(Pure(), LaxCanonicalization())
    KEYS_IN: ClassVar[bool]  # whether the operand is the keys (unwrap) or the data (wrap)

    @property
    def keys(self) -> Any:
        return self.operand if self.KEYS_IN else self.result

    @property
    def data(self) -> Any:
        return self.result if self.KEYS_IN else self.operand

    @property
    def key_type(self) -> KeyType:
        """The element type of the keys."""
        t = elem(self.keys)
        assert isinstance(t, KeyType)
        return t

    def verify_(self) -> None:
        side = "operand" if self.KEYS_IN else "result"
        if not isinstance(elem(self.keys), KeyType):
            fail(self, f"the {side} must be a tensor of !lax.key, got {self.keys.type}")
        if isinstance(elem(self.data), KeyType) or elem(self.data) != UINT32:
            other = "result" if self.KEYS_IN else "operand"
            fail(self, f"the {other} must be key data of ui32, got {self.data.type}")
        want = (*shape(self.keys), *self.key_type.key_shape)
        if shape(self.data) != want:
            fail(self, f"keys {self.keys.type} have data of shape {list(want)}, got "
                 f"{self.data.type}")


@irdl_op_definition
class RandomWrapOp(KeyDataOp):
    """`jax.random.wrap_key_data` (`random_wrap_p`): key data -> keys."""

    name = "lax.random_wrap"
    PRIMITIVE: ClassVar[str] = "random_wrap"
    KEYS_IN: ClassVar[bool] = False

    def __init__(self, data: Any, impl: str):
        out = key_tensor(impl, shape(data)[:len(shape(data)) - len(
            implementations()[impl].key_shape)])
        super().__init__(operands=[data], result_types=[out])


@irdl_op_definition
class RandomUnwrapOp(KeyDataOp):
    """`jax.random.key_data` (`random_unwrap_p`): keys -> key data."""

    name = "lax.random_unwrap"
    PRIMITIVE: ClassVar[str] = "random_unwrap"
    KEYS_IN: ClassVar[bool] = True

    def __init__(self, keys: Any):
        super().__init__(operands=[keys], result_types=[physical(keys.type)])


KEY_OPS: tuple[type[KeyDataOp], ...] = (RandomWrapOp, RandomUnwrapOp)
