"""What a `tiers.jit` call is, told before JAX traces it: the key of the trace cache.

The persistent cache's opt-in level (`tiers.config.set_cache_before_trace`, frontend/
pretrace.py) lets a fresh process skip JAX's trace of the user's function. Its key must then
stand for everything the trace could read, so this module fingerprints a Python function the
way PyTorch's FX graph cache and JAX's own cache key learnt to: everything, or nothing.

A function's fingerprint covers:
  - its code (`marshal` of the code object: bytecode, constants, names, nested functions,
    file and line numbers, which become the IR's locations);
  - its defaults and keyword defaults, and the values in its closure cells;
  - every global it (or a function it defines inside) can read: each name of its code found
    in its module's globals, or a builtin; a global of a user module read as `mod.a.b` is
    fingerprinted through that chain;
  - recursively, the same for every user function reached that way.
A value's fingerprint is its type and contents: None, bools, numbers, strings, bytes,
tuples, lists, dicts, sets, slices, numpy and JAX arrays (dtype, shape, sha256 of the bytes;
PRNG keys by implementation and key data), `functools.partial`, bound methods.

Library code (a module under a `site-packages`/`dist-packages` folder, Python's standard
library, a built-in module, or tiers itself) is told by its name and its distribution's
version, not by its contents: a library is assumed not to be patched between processes.

Anything else is a doubt, and a doubt is no key (`NoKey`, with the reason, which the cache's
counts report): an object of a user class, a user class itself, a `jax.jit` function defined
in user code, a traced value in a closure, a container larger than `MAX_ITEMS`, a cycle
through a data structure, a module of user code used other than through attribute chains.
"""

from __future__ import annotations

import builtins
import dis
import functools
import hashlib
import importlib.metadata
import marshal
import os
import sys
import sysconfig
import types
from collections.abc import Callable, Iterator
from typing import Any

import jax
import numpy as np
from jax._src import core

MAX_ITEMS = 10_000  # elements of one container fingerprinted, at most
_MAX_DEPTH = 64  # nesting of values and functions, at most


class NoKey(Exception):
    """The call cannot be keyed before tracing; the message says why (one short line)."""


# -- library code ----------------------------------------------------------------------------

def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib") if k in paths}
    return tuple(sorted(roots))


_ROOTS = _library_roots()
_MODULE_PRINTS: dict[str, str | None] = {}  # module name -> its print, None for user code


def library_print(module_name: str) -> str | None:
    """How library module `module_name` is told ("name dist-version"), or None when it is
    user code (or not loaded: no doubt is taken for a library)."""
    if module_name in _MODULE_PRINTS:
        return _MODULE_PRINTS[module_name]
    module = sys.modules.get(module_name)
    found = None if module is None else _module_print(module)
    _MODULE_PRINTS[module_name] = found
    return found


def _module_print(module: types.ModuleType) -> str | None:
    top = module.__name__.partition(".")[0]
    file = getattr(module, "__file__", None)
    if file is None:  # built into the interpreter, or a namespace package
        if top in sys.builtin_module_names or module.__name__ in sys.builtin_module_names:
            return f"{module.__name__} python {sys.version}"
        return None
    if top == "tiers":  # a checkout, maybe edited: by its source's bytes
        from tiers.pipeline.cache import tiers_source_digest  # loaded with the cache anyway

        return f"{module.__name__} tiers {tiers_source_digest()}"
    path = os.path.realpath(file)
    parts = path.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return f"{module.__name__} {_version(top)}"
    if any(path.startswith(root + os.sep) for root in _ROOTS):
        return f"{module.__name__} python {sys.version}"
    return None


@functools.cache
def _version(top: str) -> str:
    version = getattr(sys.modules.get(top), "__version__", None)
    if isinstance(version, str):
        return version
    try:
        return importlib.metadata.version(top)
    except importlib.metadata.PackageNotFoundError:
        names = importlib.metadata.packages_distributions().get(top) or ["?"]
        try:
            return f"{names[0]} {importlib.metadata.version(names[0])}"
        except importlib.metadata.PackageNotFoundError:
            return "unknown version"


def _named_library_object(value: Any) -> str | None:
    """A library function, class or other object reachable by its module and qualified name
    (`jax.numpy.sin`, `numpy.float32`), told by that name; None otherwise."""
    module_name = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if not isinstance(module_name, str) or not isinstance(qualname, str):
        return None
    module = sys.modules.get(module_name)
    where = library_print(module_name)
    if module is None or where is None:
        return None
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return f"{qualname} of {where}" if found is value else None


# -- values and functions ----------------------------------------------------------------------

_SCALARS = (type(None), bool, int, float, complex, str, bytes, type(Ellipsis))
_STANDARD_NODES = (tuple, list, dict, type(None))


class Fingerprint:
    """A sha256 of what a function and values are, built by `function` and `value`."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._functions: dict[int, int] = {}  # id -> order seen: recursion is a back reference
        self._active: set[int] = set()  # containers being walked: a cycle is a doubt
        self._depth = 0

    def hexdigest(self) -> str:
        return self._digest.hexdigest()

    def text(self, *parts: object) -> None:
        for part in parts:
            self._digest.update(str(part).encode())
            self._digest.update(b"\0")

    def value(self, value: Any, where: str) -> None:
        """Add `value` (read at `where`, for the reason of a `NoKey`)."""
        self._depth += 1
        try:
            if self._depth > _MAX_DEPTH:
                raise NoKey(f"{where} nests deeper than {_MAX_DEPTH} levels")
            self._value(value, where)
        finally:
            self._depth -= 1

    def _value(self, value: Any, where: str) -> None:
        kind = type(value)
        if kind in _SCALARS:
            self.text(kind.__name__, repr(value))
        elif kind in (tuple, list, set, frozenset, dict):
            self._container(value, where)
        elif kind is slice:
            self.text("slice")
            for part in (value.start, value.stop, value.step):
                self.value(part, where)
        elif isinstance(value, core.Tracer):
            raise NoKey(f"{where} is a traced value of an enclosing transformation")
        elif isinstance(value, np.ndarray | np.generic | jax.Array):
            self._array(value, where)
        elif isinstance(value, np.dtype):
            self.text("dtype", value.str, value.name)
        elif isinstance(value, types.ModuleType):
            self._module(value, where)
        elif isinstance(value, functools.partial):
            self.text("partial")
            self.value(value.func, f"{where}.func")
            self.value(value.args, f"{where}.args")
            self.value(value.keywords, f"{where}.keywords")
        elif isinstance(value, types.MethodType):
            self.text("method")
            self.value(value.__func__, f"{where}.__func__")
            self.value(value.__self__, f"{where}.__self__")
        elif isinstance(value, types.FunctionType) and library_print(value.__module__) is None:
            self.function(value, where)
        else:
            named = _named_library_object(value)
            if named is None:
                raise NoKey(f"{where} is {_described(value)}, which tiers cannot fingerprint")
            self.text("library", named)

    def _container(self, value: Any, where: str) -> None:
        if len(value) > MAX_ITEMS:
            raise NoKey(f"{where} holds more than {MAX_ITEMS} items")
        if id(value) in self._active:
            raise NoKey(f"{where} contains itself")
        self._active.add(id(value))
        try:
            self.text(type(value).__name__, len(value))
            if isinstance(value, dict):
                for i, (k, v) in enumerate(value.items()):
                    self.value(k, f"{where} key #{i}")
                    self.value(v, f"{where}[{k!r}]")
            elif isinstance(value, set | frozenset):
                prints = []
                for item in value:
                    sub = Fingerprint()
                    sub.value(item, f"an item of {where}")
                    prints.append(sub.hexdigest())
                self.text(*sorted(prints))
            else:
                for i, item in enumerate(value):
                    self.value(item, f"{where}[{i}]")
        finally:
            self._active.discard(id(value))

    def _array(self, value: Any, where: str) -> None:
        if isinstance(value, jax.Array) and jax.dtypes.issubdtype(value.dtype,
                                                                   jax.dtypes.prng_key):
            self.text("key", str(jax.random.key_impl(value)))
            value = jax.random.key_data(value)
        try:
            array = np.asarray(value)
        except Exception as e:  # an array not on this host (a non-addressable shard)
            raise NoKey(f"{where} is an array tiers cannot read ({type(e).__name__})") from None
        if array.dtype == object:
            raise NoKey(f"{where} is an array of Python objects")
        self.text(type(value).__name__, array.dtype.str, array.dtype.name, array.shape,
                  getattr(value, "weak_type", False))
        self._digest.update(hashlib.sha256(np.ascontiguousarray(array).tobytes()).digest())

    def _module(self, module: types.ModuleType, where: str) -> None:
        found = library_print(module.__name__)
        if found is None:  # user code: only the attribute chains read from it (`function`)
            raise NoKey(f"{where} is the module {module.__name__} of user code, used as a "
                        "value (tiers follows only `module.name` reads of user modules)")
        self.text("module", found)

    def function(self, fn: types.FunctionType, where: str) -> None:
        """Add user function `fn`: code, defaults, closure, the globals its code can read."""
        seen = self._functions.get(id(fn))
        if seen is not None:  # recursion, or one helper reached twice
            self.text("function #", seen)
            return
        self._functions[id(fn)] = len(self._functions)
        code = fn.__code__
        self.text("function", fn.__qualname__, sys.version)
        self._digest.update(hashlib.sha256(marshal.dumps(code)).digest())
        self.value(fn.__defaults__, f"the defaults of {fn.__qualname__}")
        self.value(fn.__kwdefaults__, f"the keyword defaults of {fn.__qualname__}")
        for name, cell in zip(code.co_freevars, fn.__closure__ or (), strict=True):
            try:
                contents = cell.cell_contents
            except ValueError:  # a cell not filled yet
                self.text("empty cell", name)
                continue
            self.text("cell", name)
            self.value(contents, f"'{name}' in the closure of {fn.__qualname__}")
        self._globals(fn, code)

    def _globals(self, fn: types.FunctionType, code: types.CodeType) -> None:
        """The globals `code` (and the code it defines) can read, by name."""
        namespace, builtin = fn.__globals__, _builtins(fn)
        chains: dict[str, set[tuple[str, ...]]] = {}
        for name, chain in _global_reads(code):
            chains.setdefault(name, set()).add(chain)
        for name in sorted(chains):
            where = f"the global '{name}' of {fn.__qualname__}"
            if name.startswith("import "):  # `import m` in the function's body
                module = name.removeprefix("import ")
                found = library_print(module)
                if found is None:
                    raise NoKey(f"{fn.__qualname__} imports {module}, which is user code")
                self.text("import", found)
                continue
            if name in namespace:
                value = namespace[name]
            elif name in builtin:
                value = builtin[name]
                if getattr(builtins, name, None) is value:
                    self.text("builtin", name)
                    continue
            else:
                self.text("undefined", name)  # a NameError if run, as now
                continue
            self.text("global", name)
            if isinstance(value, types.ModuleType) and library_print(value.__name__) is None:
                self._user_module(value, name, chains[name], where)
            else:
                self.value(value, where)

    def _user_module(self, module: types.ModuleType, name: str,
                     chains: set[tuple[str, ...]], where: str) -> None:
        """A user module read as `name.a.b`: each chain's value, as far as it names one."""
        if () in chains:
            raise NoKey(f"{where} is the module {module.__name__} of user code, used as a "
                        "value (tiers follows only `module.name` reads of user modules)")
        for chain in sorted(chains):
            value: Any = module
            for i, attr in enumerate(chain):
                if not hasattr(value, attr):
                    self.text("missing", name, *chain[:i + 1])
                    break
                value = getattr(value, attr)
                if not (isinstance(value, types.ModuleType)
                        and library_print(value.__name__) is None):
                    self.text("read", name, *chain[:i + 1])
                    self.value(value, f"{name}.{'.'.join(chain[:i + 1])}")
                    break
            else:
                raise NoKey(f"{where}.{'.'.join(chain)} is a module of user code, used as a "
                            "value")


def _builtins(fn: types.FunctionType) -> dict[str, Any]:
    found = getattr(fn, "__builtins__", None)
    if isinstance(found, types.ModuleType):
        return vars(found)
    return found if isinstance(found, dict) else vars(builtins)


_ATTRIBUTE_LOADS = frozenset({"LOAD_ATTR", "LOAD_METHOD"})
_GLOBAL_LOADS = frozenset({"LOAD_GLOBAL", "LOAD_NAME"})


def _global_reads(code: types.CodeType) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Each global `code` (and code it defines) loads, with the attribute chain read from it
    at that place (`()` when it is used as a value), from its bytecode. A name of `co_names`
    that is no global load (an attribute, an import) reads no global."""
    for sub in _codes(code):
        instructions = list(dis.get_instructions(sub))
        for i, ins in enumerate(instructions):
            if ins.opname == "IMPORT_NAME":  # `import m` inside: the module, read as a value
                yield f"import {ins.argval}", ()
            if ins.opname not in _GLOBAL_LOADS:
                continue
            chain: list[str] = []
            for nxt in instructions[i + 1:]:
                if nxt.opname not in _ATTRIBUTE_LOADS:
                    break
                chain.append(nxt.argval)
            yield ins.argval, tuple(chain)


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _described(value: Any) -> str:
    kind = type(value)
    if isinstance(value, type):
        return f"the class {value.__module__}.{value.__qualname__} of user code"
    if hasattr(value, "__wrapped__") and callable(value):
        return f"a wrapped function ({kind.__module__}.{kind.__qualname__})"
    return f"an object of type {kind.__module__}.{kind.__qualname__}"


def function_print(fn: Callable[..., Any]) -> Fingerprint:
    """The fingerprint of `fn` (a user function, a partial of one, a bound method...), or
    `NoKey` naming what cannot be told."""
    found = Fingerprint()
    found.value(fn, f"the function {getattr(fn, '__qualname__', repr(type(fn)))}")
    return found
