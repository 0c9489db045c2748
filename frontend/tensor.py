"""`tiers.Tensor`: the eager value, a thin immutable wrapper around one `jax.Array`.

Arithmetic on Tensors runs `tiers.numpy` ops, so every operator is an eager op with a cached,
compiled kernel (frontend/eager.py). A Tensor is a JAX pytree node with one leaf, so `jax.jit`,
`tiers.jit`, `jax.grad` and the tree utilities take Tensors wherever they take arrays; inside
traced code a Tensor may wrap a tracer, and ops on it then return plain JAX values.

In lazy eager mode (frontend/lazy.py) a Tensor may hold a `LazyValue` instead: the result of an
op of a pending program. Its shape and dtype are known at once; reading it as data (`numpy()`,
`repr`, `bool`, handing it to JAX...) runs the pending program first.

`Tensor(value)` takes what `jnp.asarray` takes (a `jax.Array` is kept as is); anything JAX
cannot hold as an array (a string, an object array, None) is a TypeError at construction, not
at the first use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax._src.array import ArrayImpl

from tiers.frontend.config import shown
from tiers.frontend.devices import placement

# The op behind each operator, filled in by frontend/namespaces.py once the op wrappers exist
# (the wrappers need this module, so it cannot import them).
OPS: dict[str, Callable[..., Any]] = {}

# Operand types an operator accepts; anything else gets NotImplemented, as with `jax.Array`.
_OPERAND_TYPES: set[type] = {int, float, bool, complex, np.ndarray}
_OPERAND_BASES: tuple[type, ...] = (np.generic, jax.Array)


def accept_operand_type(cls: type) -> None:
    """Let operators take `cls` operands (graph tensors register themselves here)."""
    _OPERAND_TYPES.add(cls)


def _binary(name: str, reflected: bool = False) -> Callable[[Any, Any], Any]:
    def method(self: Any, other: Any) -> Any:
        if type(other) not in _OPERAND_TYPES and not isinstance(other, _OPERAND_BASES):
            return NotImplemented
        return OPS[name](other, self) if reflected else OPS[name](self, other)

    method.__name__ = f"__{'r' if reflected else ''}{name}__"
    return method


def _unary(name: str) -> Callable[[Any], Any]:
    def method(self: Any) -> Any:
        return OPS[name](self)

    method.__name__ = f"__{name}__"
    return method


class Operators:
    """Python operators as `tiers.numpy` ops, shared by eager and graph tensors."""

    __slots__ = ()
    # numpy defers `ndarray + tensor` to our reflected operator instead of converting us.
    __array_priority__ = 1000

    __add__, __radd__ = _binary("add"), _binary("add", True)
    __sub__, __rsub__ = _binary("subtract"), _binary("subtract", True)
    __mul__, __rmul__ = _binary("multiply"), _binary("multiply", True)
    __truediv__, __rtruediv__ = _binary("true_divide"), _binary("true_divide", True)
    __floordiv__, __rfloordiv__ = _binary("floor_divide"), _binary("floor_divide", True)
    __mod__, __rmod__ = _binary("remainder"), _binary("remainder", True)
    __pow__, __rpow__ = _binary("power"), _binary("power", True)
    __matmul__, __rmatmul__ = _binary("matmul"), _binary("matmul", True)
    __and__, __rand__ = _binary("bitwise_and"), _binary("bitwise_and", True)
    __or__, __ror__ = _binary("bitwise_or"), _binary("bitwise_or", True)
    __xor__, __rxor__ = _binary("bitwise_xor"), _binary("bitwise_xor", True)
    __lshift__, __rlshift__ = _binary("left_shift"), _binary("left_shift", True)
    __rshift__, __rrshift__ = _binary("right_shift"), _binary("right_shift", True)
    __lt__, __le__ = _binary("less"), _binary("less_equal")
    __gt__, __ge__ = _binary("greater"), _binary("greater_equal")
    __eq__, __ne__ = _binary("equal"), _binary("not_equal")
    __neg__, __pos__ = _unary("negative"), _unary("positive")
    __abs__, __invert__ = _unary("abs"), _unary("invert")
    __hash__ = None  # type: ignore[assignment]  # `==` is elementwise, as for numpy arrays

    def __getitem__(self, index: Any) -> Any:
        return OPS["getitem"](self, index)

    @property
    def at(self) -> _At:
        """Functional updates, as `jax.Array.at`: `x.at[i].set(v)` is a new array."""
        return _At(self)

    @property
    def T(self) -> Any:  # noqa: N802 - numpy's name
        """The transpose (axes reversed)."""
        return OPS["transpose"](self)

    def astype(self, dtype: Any) -> Any:
        """The same values converted to `dtype`."""
        return OPS["astype"](self, dtype)

    def reshape(self, *shape: Any) -> Any:
        """The same values in `shape` (one tuple or several ints; -1 is inferred)."""
        return OPS["reshape"](self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> Any:
        """The axes permuted (reversed when none are given)."""
        return OPS["transpose"](self, (axes[0] if len(axes) == 1 else axes) or None)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Any:
        """The sum over `axis` (all axes by default)."""
        return OPS["sum"](self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Any:
        """The mean over `axis` (all axes by default)."""
        return OPS["mean"](self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Any:
        """The maximum over `axis` (all axes by default)."""
        return OPS["max"](self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Any:
        """The minimum over `axis` (all axes by default)."""
        return OPS["min"](self, axis=axis, keepdims=keepdims)


class _At:
    """`x.at`: indexing it gives the updates of `x` at that index."""

    __slots__ = ("_array",)

    def __init__(self, array: Any):
        self._array = array

    def __getitem__(self, index: Any) -> _AtIndex:
        return _AtIndex(self._array, index)


class _AtIndex:
    """`x.at[index]`: JAX's update methods, each one eager op (`tiers.at`) giving a new array."""

    __slots__ = ("_array", "_index")

    def __init__(self, array: Any, index: Any):
        self._array, self._index = array, index

    def _update(self, method: str, *values: Any, **kwargs: Any) -> Any:
        return OPS["at"](self._array, *values, index=self._index, method=method, **kwargs)

    def get(self, **kwargs: Any) -> Any:
        return self._update("get", **kwargs)

    def set(self, values: Any, **kwargs: Any) -> Any:
        return self._update("set", values, **kwargs)

    def add(self, values: Any, **kwargs: Any) -> Any:
        return self._update("add", values, **kwargs)

    def subtract(self, values: Any, **kwargs: Any) -> Any:
        return self._update("subtract", values, **kwargs)

    def multiply(self, values: Any, **kwargs: Any) -> Any:
        return self._update("multiply", values, **kwargs)

    mul = multiply

    def divide(self, values: Any, **kwargs: Any) -> Any:
        return self._update("divide", values, **kwargs)

    def power(self, values: Any, **kwargs: Any) -> Any:
        return self._update("power", values, **kwargs)

    def min(self, values: Any, **kwargs: Any) -> Any:
        return self._update("min", values, **kwargs)

    def max(self, values: Any, **kwargs: Any) -> Any:
        return self._update("max", values, **kwargs)

    def apply(self, func: Any, **kwargs: Any) -> Any:
        return self._update("apply", func, **kwargs)


class LazyValue:
    """A value an op of a pending lazy program (frontend/lazy.py) will compute.

    `aval` is known from the op's abstract evaluation; `array` is filled in when the program
    runs (`program.flush()`), which also drops the link to the program."""

    __slots__ = ("aval", "program", "slot", "array", "__weakref__")

    def __init__(self, aval: Any, program: Any, slot: int):
        self.aval = aval
        self.program = program  # the pending program; None once `array` is set
        self.slot = slot  # which of its results
        self.array: Any = None

    def get(self) -> Any:
        """The array, after running the pending program if it has not run yet."""
        if self.array is None:
            self.program.flush()
        return self.array

    @property
    def shape(self) -> tuple[int, ...]:
        return self.aval.shape

    @property
    def dtype(self) -> np.dtype:
        return self.aval.dtype

    @property
    def ndim(self) -> int:
        return self.aval.ndim

    @property
    def size(self) -> int:
        return self.aval.size


class Tensor(Operators):
    """An eager array: a `jax.Array` plus numpy-style methods and operators."""

    __slots__ = ("_value",)

    def __init__(self, value: Any):
        # The common case first: eager ops wrap each result (tracers are jax.Arrays too).
        if type(value) is not ArrayImpl and not isinstance(value, jax.Array):
            value = _array(value)
        self._value = value

    @classmethod
    def _leaf(cls, value: Any) -> Tensor:
        """A Tensor around `value` unchecked: JAX rebuilds pytrees with placeholder leaves
        (sentinels, ShapeDtypeStructs) that are no arrays."""
        tensor = object.__new__(cls)
        tensor._value = value
        return tensor

    def _concrete(self) -> Any:
        """The array, computed first if it is a pending lazy value (which it then replaces)."""
        value = self._value
        if type(value) is LazyValue:
            value = self._value = value.get()
        return value

    @property
    def value(self) -> Any:
        """The wrapped `jax.Array` (a tracer inside traced code)."""
        return self._concrete()

    def __jax_array__(self) -> Any:
        return self._concrete()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        out = np.asarray(self._concrete(), dtype=dtype)
        return out.copy() if copy else out

    def numpy(self) -> np.ndarray:
        """The values as a numpy array (copied to the host)."""
        return np.asarray(self._concrete())

    def item(self) -> Any:
        """The single element as a Python scalar."""
        return self._concrete().item()

    @property
    def device(self) -> Any:
        """Where the value lives: its `jax.Device`, or its `Sharding` if spread over several."""
        return self._concrete().device

    def to(self, device: Any) -> Tensor:
        """This value on `device` (a `jax.Device`, "platform[:id]", an index into
        `tiers.devices()`, or a `jax.sharding.Sharding`), committed there as by
        `jax.device_put`: ops on it run where it lives."""
        try:
            where = placement(device)
        except (TypeError, ValueError) as e:
            raise type(e)(f"Tensor.to: device: {e}") from None
        return Tensor(jax.device_put(self._concrete(), where))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._value.shape)

    @property
    def dtype(self) -> np.dtype:
        return self._value.dtype

    @property
    def ndim(self) -> int:
        return self._value.ndim

    @property
    def size(self) -> int:
        return self._value.size

    def __len__(self) -> int:
        shape = self._value.shape
        if not shape:
            raise TypeError("len() of unsized object")  # numpy's and JAX's words
        return shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        # Rows are read, not computed: JAX's own chunked iteration, no kernel per row.
        return (Tensor(row) for row in self._concrete())

    def __bool__(self) -> bool:
        return bool(self._concrete())

    def __float__(self) -> float:
        return float(self._concrete())

    def __int__(self) -> int:
        return int(self._concrete())

    def __complex__(self) -> complex:
        return complex(self._concrete())

    def __index__(self) -> int:
        return self._concrete().__index__()

    def __repr__(self) -> str:
        value = self._concrete()
        if isinstance(value, jax.core.Tracer):
            return f"tiers.Tensor(traced {value.aval.str_short()})"
        try:
            body = np.array2string(np.asarray(value), separator=" ", prefix="tiers.Tensor(")
        except TypeError:  # extended dtypes (typed PRNG keys) have no numpy form
            return f"tiers.Tensor({value!r})"
        return f"tiers.Tensor({body}, dtype={value.dtype})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(self._concrete(), spec) if spec else repr(self)


def holds_numbers(dtype: Any) -> bool:
    """Whether JAX arrays may have `dtype`: a numeric or boolean dtype (bfloat16 included)."""
    return bool(jnp.issubdtype(dtype, jnp.number) or jnp.issubdtype(dtype, jnp.bool_))


def _array(value: Any) -> Any:
    """`value` as a `jax.Array` for a Tensor to hold; a TypeError names what it cannot be."""
    if isinstance(value, Tensor):
        return value._value  # a pending lazy value is shared, not computed
    dtype = getattr(value, "dtype", None)  # numpy's strings and objects: no JAX dtype
    if (value is None or isinstance(value, str | bytes)  # jnp.asarray: a ValueError for None
            or isinstance(dtype, np.dtype) and not holds_numbers(dtype)):
        raise TypeError(f"tiers.Tensor: value must be numeric or boolean array data, got "
                        f"{shown(value)}")
    try:
        return jnp.asarray(value)
    except TypeError as e:  # strings, objects: JAX holds numbers and bools only
        raise TypeError(f"tiers.Tensor: value must be numeric or boolean array data, got "
                        f"{shown(value)}: {e}") from None
    except ValueError as e:  # ragged nested lists
        raise ValueError(f"tiers.Tensor: value is not an array, got {shown(value)}: {e}"
                         ) from None


accept_operand_type(Tensor)
jax.tree_util.register_pytree_node(
    # Flattening hands the array to JAX (`jax.jit`, `tiers.jit`, tree utilities): an observation.
    Tensor, lambda t: ((t._concrete(),), None), lambda _, children: Tensor._leaf(children[0])
)
