"""`tiers.Tensor`: the eager value, a thin immutable wrapper around one `jax.Array`.

Arithmetic on Tensors runs `tiers.numpy` ops, so every operator is an eager op with a cached,
compiled kernel (frontend/eager.py). A Tensor is a JAX pytree node with one leaf, so `jax.jit`,
`tiers.jit`, `jax.grad` and the tree utilities take Tensors wherever they take arrays; inside
traced code a Tensor may wrap a tracer, and ops on it then give Tensors wrapping tracers, so a
Tensor carried through `jax.lax.fori_loop`/`scan`/`while_loop` keeps its type. `jax.lax`
functions take Tensors as the arrays they hold (a hook of JAX's, at the bottom of this file).

A Tensor is a `jax.Array`: its class derives from the abstract `jax.Array`, as JAX's own PRNG key
arrays' does, so `isinstance(t, jax.Array)` holds and JAX code that branches on it takes a
Tensor as an array (`jax.random.normal(tiers.Tensor(key), ...)` sees typed keys, not legacy
uint32 key data). One asymmetry remains: `jax_array + tensor` is a JAX array, not a Tensor.
JAX's operators convert an operand with `__jax_array__` before anything else and never return
NotImplemented for it, and Python asks the right operand first only when its type subclasses
the left one's, which jaxlib's `ArrayImpl` forbids.

Every `jax.Array` method and property is here with JAX's signature and meaning: those that
compute a value are eager ops (`OPS`, one per name, running JAX's own method), those that read
data or placement (`tolist`, `sharding`, `__dlpack__`...) read the concrete array.

In lazy eager mode (frontend/lazy.py) a Tensor may hold a `LazyValue` instead: the result of an
op of a pending program. Its shape and dtype are known at once; reading it as data (`numpy()`,
`repr`, `bool`, handing it to JAX...) runs the pending program first.

`Tensor(value)` takes what `jnp.asarray` takes (a `jax.Array` is kept as is); anything JAX
cannot hold as an array (a string, an object array, None) is a TypeError at construction, not
at the first use.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax._src import core
from jax._src import dtypes as jax_dtypes
from jax._src.array import ArrayImpl

from tiers.frontend.config import shown
from tiers.frontend.devices import placement

# The op behind each operator, filled in by frontend/namespaces.py once the op wrappers exist
# (the wrappers need this module, so it cannot import them).
OPS: dict[str, Callable[..., Any]] = {}
# The `jax.Array` methods (False) and properties (True) that `_method`/`_property` made, by
# name: frontend/namespaces.py puts an eager op running JAX's own one in `OPS` for each.
ARRAY_OPS: dict[str, bool] = {}

# Operand types an operator accepts; for others it does what `jax.Array`'s does
# (`_other_operand`).
_OPERAND_TYPES: set[type] = {int, float, bool, complex, np.ndarray}
_OPERAND_BASES: tuple[type, ...] = (np.generic, jax.Array)
_SETITEM: Callable[..., None] = ArrayImpl.__setitem__  # raises JAX's TypeError, whatever `self`


def accept_operand_type(cls: type) -> None:
    """Let operators take `cls` operands (graph tensors register themselves here)."""
    _OPERAND_TYPES.add(cls)


# Operands `jax.Array`'s operators reject with a TypeError rather than NotImplemented (so that
# Python neither concatenates nor compares by identity), by op.
_REJECTED: dict[str, tuple[type, ...]] = {
    "add": (list, tuple), "equal": (dict, list, set, tuple), "not_equal": (dict, list, set, tuple)}
_SYMBOLS = {"add": "+", "equal": "==", "not_equal": "!="}


def _binary(name: str, reflected: bool = False) -> Callable[[Any, Any], Any]:
    def method(self: Any, other: Any) -> Any:
        if type(other) not in _OPERAND_TYPES and not isinstance(other, _OPERAND_BASES):
            other = _other_operand(self, other, name, reflected)
            if other is NotImplemented:
                return NotImplemented
        return OPS[name](other, self) if reflected else OPS[name](self, other)

    method.__name__ = f"__{'r' if reflected else ''}{name}__"
    return method


def _other_operand(self: Any, other: Any, name: str, reflected: bool) -> Any:
    """What `jax.Array`'s operators make of an operand of another type: an object with
    `__jax_array__` is that array; lists and tuples (and for `==`, dicts and sets) are a
    TypeError; anything else is NotImplemented."""
    convert = getattr(other, "__jax_array__", None)
    if convert is not None:
        return convert()
    if type(other) in _REJECTED.get(name, ()):
        names = [repr(type(self).__name__), repr(type(other).__name__)]
        left, right = names[::-1] if reflected else names
        raise TypeError(f"unsupported operand type(s) for {_SYMBOLS[name]}: {left} and {right}")
    return NotImplemented


def _unary(name: str) -> Callable[[Any], Any]:
    def method(self: Any) -> Any:
        return OPS[name](self)

    method.__name__ = f"__{name}__"
    return method


def _like_jax(fn: Callable[..., Any], name: str) -> None:
    """Give `fn` the name, docstring and signature (`__wrapped__`) of `jax.Array`'s `name`."""
    source = getattr(ArrayImpl, name)
    source = getattr(source, "fget", source)
    if inspect.isfunction(source):  # not for JAX's C++ methods (`is_ready`)
        functools.update_wrapper(fn, source)
    fn.__name__, fn.__qualname__, fn.__module__ = name, f"Tensor.{name}", __name__


def _method(name: str) -> Callable[..., Any]:
    """`jax.Array`'s method `name`, as the eager op `OPS[name]` (JAX's method run on the array:
    its signature and meaning)."""
    ARRAY_OPS[name] = False

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return OPS[name](self, *args, **kwargs)

    _like_jax(method, name)
    return method


def _property(name: str) -> Any:
    """`jax.Array`'s property `name`, as the eager op `OPS[name]`."""
    ARRAY_OPS[name] = True

    def get(self: Any) -> Any:
        return OPS[name](self)

    _like_jax(get, name)
    return property(get)


def _reads(name: str, wrap: bool = False) -> Callable[..., Any]:
    """`jax.Array`'s method `name` run on the concrete array (data or placement, not an op);
    with `wrap`, its array result as a Tensor."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        out = getattr(self._concrete(), name)(*args, **kwargs)
        return Tensor(out) if wrap else out

    _like_jax(method, name)
    return method


def _reads_property(name: str) -> Any:
    """`jax.Array`'s property `name`, read from the concrete array."""

    def get(self: Tensor) -> Any:
        return getattr(self._concrete(), name)

    _like_jax(get, name)
    return property(get)


class Operators:
    """Python operators and `jax.Array`'s methods as eager ops, shared by eager and graph
    tensors."""

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
    __divmod__, __rdivmod__ = _binary("divmod"), _binary("divmod", True)
    __round__ = _method("__round__")
    __hash__ = None  # type: ignore[assignment]  # `==` is elementwise, as for numpy arrays

    def __getitem__(self, index: Any) -> Any:
        return OPS["getitem"](self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        _SETITEM(self, index, value)  # JAX's TypeError: arrays are immutable

    @property
    def at(self) -> _At:
        """Functional updates, as `jax.Array.at`: `x.at[i].set(v)` is a new array."""
        return _At(self)

    # jax.Array's methods and properties that compute a value, each an eager op.
    T, mT, real, imag = _property("T"), _property("mT"), _property("real"), _property("imag")
    all, any, argmax, argmin = _method("all"), _method("any"), _method("argmax"), _method("argmin")
    argpartition, argsort, sort = _method("argpartition"), _method("argsort"), _method("sort")
    astype, view, byteswap = _method("astype"), _method("view"), _method("byteswap")
    choose, clip, compress = _method("choose"), _method("clip"), _method("compress")
    conj, conjugate, copy = _method("conj"), _method("conjugate"), _method("copy")
    cumprod, cumsum, diagonal = _method("cumprod"), _method("cumsum"), _method("diagonal")
    dot, trace, nonzero = _method("dot"), _method("trace"), _method("nonzero")
    flatten, ravel, squeeze = _method("flatten"), _method("ravel"), _method("squeeze")
    reshape, transpose, swapaxes = _method("reshape"), _method("transpose"), _method("swapaxes")
    repeat, take, searchsorted = _method("repeat"), _method("take"), _method("searchsorted")
    max, min, ptp, round = _method("max"), _method("min"), _method("ptp"), _method("round")
    sum, prod, mean = _method("sum"), _method("prod"), _method("mean")
    std, var = _method("std"), _method("var")

    @property
    def flat(self) -> Any:
        """Not implemented, as in JAX (a NotImplementedError): use `flatten()`."""
        return ArrayImpl.flat.fget(self)  # type: ignore[attr-defined]

    def __array_namespace__(self, *, api_version: str | None = None) -> Any:
        """The array API namespace of these arrays: `tiers.numpy`."""
        if api_version is not None and api_version != jnp.__array_api_version__:
            raise ValueError(f"{api_version=!r} is not available; available versions are: "
                             f"{[jnp.__array_api_version__]}")
        return sys.modules["tiers.numpy"]


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


class Tensor(Operators, jax.Array):  # type: ignore[misc]  # `at`: ours is an eager op
    """An eager array: a `jax.Array` plus numpy-style methods and operators."""

    __slots__ = ("_value", "__weakref__")  # weakly referable, as `jax.Array`s are

    def __init__(self, value: Any):
        # The common case first: eager ops wrap each result (tracers are jax.Arrays too, and
        # so are Tensors, whose array is shared).
        if type(value) is not ArrayImpl and (isinstance(value, Tensor)
                                             or not isinstance(value, jax.Array)):
            value = _array(value)
        self._value = value

    def __reduce__(self) -> tuple[Any, ...]:
        # `jax.Array`'s C base has no pickling of its own: a Tensor pickles as its array.
        return (Tensor, (self._concrete(),))

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

    def __array__(self, dtype: Any = None, context: None = None,
                  copy: bool | None = None) -> np.ndarray:  # JAX's signature
        out = np.asarray(self._concrete(), dtype=dtype)
        return out.copy() if copy else out

    def numpy(self) -> np.ndarray:
        """The values as a numpy array (copied to the host)."""
        return np.asarray(self._concrete())

    def item(self, *args: int) -> Any:
        """An element (the only one, or the one at `args`) as a Python scalar."""
        return self._concrete().item(*args)

    # jax.Array's accessors of data and placement: they read the concrete array.
    tolist, tobytes, devices = _reads("tolist"), _reads("tobytes"), _reads("devices")
    __dlpack__, __dlpack_device__ = _reads("__dlpack__"), _reads("__dlpack_device__")
    copy_to_host_async, is_ready = _reads("copy_to_host_async"), _reads("is_ready")
    delete, is_deleted = _reads("delete"), _reads("is_deleted")
    on_device_size_in_bytes = _reads("on_device_size_in_bytes")
    unsafe_buffer_pointer = _reads("unsafe_buffer_pointer")
    addressable_data, to_device = _reads("addressable_data", True), _reads("to_device", True)
    sharding, committed = _reads_property("sharding"), _reads_property("committed")
    addressable_shards = _reads_property("addressable_shards")
    global_shards = _reads_property("global_shards")
    is_fully_addressable = _reads_property("is_fully_addressable")
    is_fully_replicated = _reads_property("is_fully_replicated")
    format, traceback = _reads_property("format"), _reads_property("traceback")
    __cuda_array_interface__ = _reads_property("__cuda_array_interface__")

    def block_until_ready(self) -> Tensor:
        """This Tensor, once its value is computed (a pending lazy value is run first)."""
        jax.block_until_ready(self._concrete())
        return self

    def __copy__(self) -> Any:
        return OPS["copy"](self)

    def __deepcopy__(self, memo: Any) -> Any:
        return OPS["copy"](self)

    __contains__ = _method("__contains__")  # an eager op; `in` reads its result as a bool

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

    @property
    def itemsize(self) -> int:
        """The size of one element in bytes."""
        return self._value.dtype.itemsize

    @property
    def nbytes(self) -> int:
        """The size of the elements in bytes."""
        return self._value.size * self._value.dtype.itemsize

    @property
    def weak_type(self) -> bool:
        """Whether the dtype is weak (a Python scalar's, giving way in promotion), as JAX's."""
        return self._value.aval.weak_type

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
# `jax.lax` functions bind primitives on their arguments as given, and JAX no longer calls
# `__jax_array__` there; it canonicalizes each argument by its type's handler (the hook its own
# array types use: PRNG key arrays, `Ref`s). A Tensor is the array it holds.
jax_dtypes.register_canonicalize_value_handler(
    Tensor, lambda t: jax_dtypes.canonicalize_value(t._concrete()))
# `jax.typeof` (and the `jax.lax` functions that read their operands' types with it) finds a
# type's aval by this table and refuses `__jax_array__`: a Tensor has its array's, read
# without computing a pending lazy value.
core.pytype_aval_mappings[Tensor] = lambda t: (
    t._value.aval if type(t._value) is LazyValue else core.typeof(t._value))
jax.tree_util.register_pytree_node(
    # Flattening hands the array to JAX (`jax.jit`, `tiers.jit`, tree utilities): an observation.
    Tensor, lambda t: ((t._concrete(),), None), lambda _, children: Tensor._leaf(children[0])
)
