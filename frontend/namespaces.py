"""`tiers.numpy`, `tiers.nn`, `tiers.random`: JAX's namespaces with every function an eager op.

Each is a module object whose attributes are generated on first access from the JAX module of
the same role (`jax.numpy`, `jax.nn`, `jax.random`): same names, signatures and semantics, but
with eager values they run a cached compiled kernel and return Tensors (frontend/eager.py).
Types, constants and dtypes pass through unchanged; submodules (`tiers.numpy.linalg`) are
namespaces too.

They are registered in `sys.modules` rather than living in `numpy.py`/`random.py` at the
repository root: the root is the package, so when it is the working directory (`python -m
pytest` there) files with those names would shadow the real `numpy` and the standard `random`.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from tiers.frontend import eager, highlevel
from tiers.frontend import tensor as _tensor

# Elementwise functions whose positional Python scalars are array operands (`x * 0.5`): one
# kernel serves every scalar value. `power` stays static: JAX turns `x ** 2` into a multiply.
SCALAR_OPERANDS = frozenset((
    "add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "remainder", "mod",
    "fmod", "divmod", "maximum", "minimum", "fmax", "fmin", "arctan2", "atan2", "hypot",
    "copysign", "nextafter", "logaddexp", "logaddexp2", "heaviside", "equal", "not_equal",
    "less", "less_equal", "greater", "greater_equal", "where", "bitwise_and", "bitwise_or",
    "bitwise_xor", "logical_and", "logical_or", "logical_xor", "left_shift", "right_shift",
))
_UFUNC_METHODS = ("reduce", "accumulate", "outer", "reduceat", "at")


class OpNamespace(types.ModuleType):
    """A module mirroring `source` whose functions are eager ops (made on first access)."""

    def __init__(self, name: str, source: types.ModuleType, overrides: dict[str, Any]):
        super().__init__(name, f"`{source.__name__}` as eager tiers ops.")
        self._source = source
        self.__dict__.update(overrides)
        self.__all__ = sorted({n for n in dir(source) if not n.startswith("_")} | set(overrides))

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") or attr == "_source":
            raise AttributeError(attr)
        try:
            value = getattr(self._source, attr)
        except AttributeError:
            raise AttributeError(
                f"module '{self.__name__}' has no attribute '{attr}' "
                f"(it mirrors {self._source.__name__}, which has none either)"
            ) from None
        wrapped = self._wrap(attr, value)
        setattr(self, attr, wrapped)  # later lookups are plain module attributes
        return wrapped

    def __dir__(self) -> list[str]:
        return sorted(set(self.__all__) | set(self.__dict__))

    def _wrap(self, attr: str, value: Any) -> Any:
        name = f"{self.__name__}.{attr}"
        if isinstance(value, types.ModuleType):
            if not value.__name__.startswith(self._source.__name__):
                return value
            namespace = OpNamespace(name, value, {})
            sys.modules[name] = namespace
            return namespace
        if attr.startswith("_") or isinstance(value, type) or not callable(value):
            return value
        is_ufunc = isinstance(value, jnp.ufunc)
        op = eager.wrap(value, name, is_ufunc or attr in SCALAR_OPERANDS)
        if is_ufunc:  # `tiers.numpy.add.reduce(x)` as with `jnp.add.reduce`
            for method in _UFUNC_METHODS:
                setattr(op, method, eager.wrap(getattr(value, method), f"{name}.{method}"))
        return op


def _register(name: str, source: types.ModuleType, **overrides: Any) -> OpNamespace:
    namespace = OpNamespace(name, source, overrides)
    sys.modules[name] = namespace
    return namespace


def _constant(value: Any, dtype: Any = None) -> Any:
    return jnp.asarray(value, dtype=dtype)


# Data in, not a computation: as kernels they would bake the data into the key and the IR
# (and `from_dlpack` reads a buffer a traced value does not have).
constant: Callable[..., Any] = eager.wrap(_constant, "tiers.constant", direct=True)
_DATA_IN = ("array", "asarray", "from_dlpack", "frombuffer", "fromstring")
numpy = _register(
    "tiers.numpy", jnp,
    **{name: eager.wrap(getattr(jnp, name), f"tiers.numpy.{name}", direct=True)
       for name in _DATA_IN},
    # The array API's metadata, as jax.numpy's (`Tensor.__array_namespace__` is this module).
    __array_api_version__=jnp.__array_api_version__,
    __array_namespace_info__=jnp.__array_namespace_info__)
nn = _register("tiers.nn", jax.nn, **{
    name: eager.wrap(fn, f"tiers.nn.{name}") for name, fn in highlevel.NN_FUNCTIONS.items()})
random = _register("tiers.random", jax.random)

_OPERATOR_OPS = (
    "add", "subtract", "multiply", "true_divide", "floor_divide", "remainder", "power", "matmul",
    "bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift", "less",
    "less_equal", "greater", "greater_equal", "equal", "not_equal", "negative", "positive",
    "abs", "invert", "divmod",
)
# `jax.Array` methods whose positional Python scalars are array operands (`x.clip(0.0, 1.0)`).
_SCALAR_OPERAND_METHODS = frozenset(("clip",))


def _at(x: Any, *values: Any, index: Any, method: str, **kwargs: Any) -> Any:
    """`x.at[index].method(*values, **kwargs)`, JAX's functional update (`Tensor.at`)."""
    return getattr(jnp.asarray(x).at[index], method)(*values, **kwargs)


# An index's integers (`x[i, 1:3, j]`) are operands of the getitem kernel, so one kernel serves
# every position: iterating elements as `x[idx]` (the Array API suite does) compiles once per
# shape, not once per element. JAX takes a static and a traced integer alike: in bounds the
# same element, out of bounds clamped. Integers a 32-bit index cannot hold stay static.
_POSITION = object()  # where an operand integer goes back into the index
_INT32 = range(-(2**31), 2**31)


def _take(x: Any, index: Any, *positions: Any) -> Any:
    """`x[index]`, `index`'s placeholders replaced by `positions` in order."""
    if positions:
        rest = iter(positions)
        index = tuple(next(rest) if i is _POSITION else i for i in index)
    return x[index]


def _take_integers(x: Any, *positions: Any) -> Any:
    """`x[i, j, ...]`, integers only: its own op, so that `x[i]` takes the eager hit path."""
    return x[positions]


_take_op = eager.wrap(_take, "tiers.getitem", scalar_operands=True)
_take_integers_op = eager.wrap(_take_integers, "tiers.getitem", scalar_operands=True)


def _getitem(x: Any, index: Any) -> Any:
    """`x[index]` as an eager op, the index's Python integers as operands."""
    if type(index) is int:
        return _take_integers_op(x, index) if index in _INT32 else _take_op(x, index)
    if type(index) is not tuple:
        return _take_op(x, index)
    positions = [i for i in index if type(i) is int and i in _INT32]
    if not positions:
        return _take_op(x, index)
    if len(positions) == len(index):
        return _take_integers_op(x, *positions)
    template = tuple(_POSITION if type(i) is int and i in _INT32 else i for i in index)
    return _take_op(x, template, *positions)


def _array_op(name: str, is_property: bool) -> Callable[..., Any]:
    """`jax.Array`'s method or property `name` as an eager op on `Tensor`s (and graph tensors)."""

    def fn(x: Any, *args: Any, **kwargs: Any) -> Any:
        value = getattr(x, name)  # on an array while running, on a tracer while tracing
        return value if is_property else value(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    return eager.wrap(fn, f"tiers.Tensor.{name}", name in _SCALAR_OPERAND_METHODS)


# Tensor's operators run `tiers.numpy`'s ops; its `jax.Array` methods run JAX's own.
_tensor.OPS.update({name: _array_op(name, prop) for name, prop in _tensor.ARRAY_OPS.items()})
_tensor.OPS.update({name: getattr(numpy, name) for name in _OPERATOR_OPS},
                   getitem=_getitem,
                   # Python scalar values are operands (one kernel for all); the index is static.
                   at=eager.wrap(_at, "tiers.at", scalar_operands=True))
