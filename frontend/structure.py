"""The structural key of a traced program: everything that decides the module `tiers.jit`
imports and optimizes from a closed jaxpr, read by walking the jaxpr once (no printing), hashed.

Strictness first: two programs that could compile differently never share a key (a wrong hit
is a wrong number), so the walk keys every input of the importer and more:
  - per jaxpr, at every depth: its invars, constvars and outvars with their avals (dtype,
    shape, weak type, sharding, memory space), the constants' dtype, shape and bytes, its
    effects and (below the top) its debug name, which may name a private function;
  - per equation: the primitive by name and identity (`_primitive`: two objects of one name
    never share a token), every param (sub-jaxprs walked the same way, with their consts),
    operands as data flow (variables numbered in order of definition) or literals (value
    bytes, dtype, weak type), results, effects, the `JaxprEqnContext`, and the user's
    file:line:column that becomes the op's location (`importer.user_frame`);
  - a sub-jaxpr met again (one object called twice) is a back-reference, as the importer
    imports it once;
  - where the importer falls back to the line that is compiling (`importer.caller_site`: an
    equation without a user frame, or a parameter or result of an extended dtype: a key),
    that line;
  - the pytree paths naming the public function's parameters and results.
The caller adds the pipeline, options, name and versions (`header`). A param that is a
callable, or whose repr shows an address (`0x`), cannot be keyed by value: such a program has
no key (None), and is compiled for its own trace only. The exceptions are the callables of
`_UNREAD`, which tiers' import rules never read (JAX has applied them before tiers sees the
jaxpr).

Cost: linear in the program; per-object work (primitives, avals, tracebacks, eqn contexts)
is cached across calls, so a 1000-equation chain keys in a few milliseconds.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import itertools
import os
import re
import struct
import sys
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import jax
import numpy as np
from jax._src import ad_checkpoint, core, custom_batching, custom_derivatives, source_info_util
from jax._src.interpreters import ad, mlir
from jax._src.mesh import Mesh
from jax.sharding import NamedSharding
from xdsl.dialects.builtin import FileLineColLoc

from tiers.frontend.import_rules import KEY_RULES, RULES
from tiers.frontend.importer import _is_user_file, boundary_names, caller_site
from tiers.pipeline.parse import Pipeline


class Unkeyable(Exception):
    """Part of a program that no key can tell apart by value."""


def structure_key(closed: core.ClosedJaxpr, header: str) -> str | None:
    """The sha256 (hex) of `header` and of everything in `closed` that reaches its imported
    IR (module docstring), or None when some part of it cannot be keyed by value."""
    _check_heuristic()
    walk = _Walk()
    try:
        walk.closed(closed, top=True)
        arg_names, result_names = boundary_names(closed)
        walk.out.append(repr((arg_names, result_names)))
        boundary = itertools.chain(closed.jaxpr.invars, closed.jaxpr.outvars)
        if walk.needs_site or any(_extended(v.aval) for v in boundary):
            walk.out.append(f"site {_site_text()}")
    except Exception:  # noqa: BLE001 - `Unkeyable`, or anything unforeseen: no key, no doubt
        return None
    digest = hashlib.sha256(header.encode())
    digest.update(b"\n")
    digest.update(walk.finish().encode())
    return digest.hexdigest()


class _Walk:
    """One walk over a program, appending text to `out`. Free text (names, file names, reprs)
    is written quoted (`repr`), so the text reads back unambiguously. Long texts met on every
    equation (avals, locations, contexts, primitives) are written once, in `table`, and
    referred to by number."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.table: dict[str, str] = {}  # text -> "#n", n in order of first use
        # By object -> "#n": avals and contexts (interned), tracebacks (equal by frames),
        # primitives.
        self.avals: dict[Any, str] = {}
        self.locations: dict[Any, str] = {}
        self.contexts: dict[Any, str] = {}
        self.prims: dict[Any, tuple[str, frozenset[str]]] = {}  # and its unread params
        self.jaxprs: dict[int, int] = {}  # id(jaxpr) -> its number, for back-references
        self.alive: list[Any] = []  # what `jaxprs` and `meshes` hold by id, while walking
        self.needs_site = False
        self.meshes: dict[int, str] = {}

    def ref(self, text: str) -> str:
        n = self.table.get(text)
        if n is None:
            n = self.table[text] = f"#{len(self.table)}"
        return n

    def finish(self) -> str:
        return "\n".join([*self.out, f"table {len(self.table)}", *map(repr, self.table)])

    def closed(self, closed: Any, top: bool = False) -> None:
        self.jaxpr(closed.jaxpr, closed.consts, top)

    def jaxpr(self, jaxpr: Any, consts: Sequence[Any] | None, top: bool = False) -> None:
        out = self.out
        number = self.jaxprs.get(id(jaxpr))
        if number is not None:
            out.append(f"jaxpr#{number}")
            if consts:
                out.append(f"consts {len(consts)}")
                out.extend(_const_text(c) for c in consts)
            return
        self.jaxprs[id(jaxpr)] = len(self.jaxprs)
        self.alive.append(jaxpr)
        names: dict[Any, str] = {}
        if top:
            out.append("{")
        else:
            out.append(f"{{ {getattr(jaxpr.debug_info, 'func_name', None)!r}")
        if jaxpr.effects:
            out.append(_effects_text(jaxpr.effects))
        out.append(f"consts {len(jaxpr.constvars)} {self.define(names, jaxpr.constvars)}")
        if consts is not None:
            if len(consts) != len(jaxpr.constvars):
                raise Unkeyable("constants do not match the constvars")
            out.extend(_const_text(c) for c in consts)
        out.append(f"in {self.define(names, jaxpr.invars)}")
        for eqn in jaxpr.eqns:
            self.eqn(eqn, names)
        out.append(f"out {self.atoms(names, jaxpr.outvars)}")
        out.append("}")

    def eqn(self, eqn: Any, names: dict[Any, str]) -> None:
        prim = eqn.primitive
        known = self.prims.get(prim)
        if known is None:
            known = self.prims[prim] = (self.ref(_primitive(prim)), _unread(prim))
        p, skip = known
        tb = eqn.source_info.traceback
        where = self.locations.get(tb)
        if where is None:
            text = _location(tb)
            if text == "?":
                self.needs_site = True  # the importer locates it at the line compiling
            where = self.locations[tb] = self.ref(text)
        ctx = eqn.ctx
        c = self.contexts.get(ctx)
        if c is None:
            c = self.contexts[ctx] = self.ref(_context_text(ctx))
        params = eqn.params
        out = self.out
        out.append(f"{p} {where} {c} {len(params)}")
        if eqn.effects:
            out.append(_effects_text(eqn.effects))
        for k, v in params.items():
            t = type(v)
            if t in _SCALARS or (t is tuple and _SCALARS.issuperset(map(type, v))):
                out.append(f"{k!r}={v!r}")  # the common case, in one piece
            elif k in skip:
                out.append(f"{k!r}=<unread>")
            else:
                out.append(f"{k!r}=")
                self.param(v)
        args = self.atoms(names, eqn.invars)
        out.append(f"args {args} -> {self.define(names, eqn.outvars)}")

    def define(self, names: dict[Any, str], variables: Sequence[Any]) -> str:
        """Number each new variable in order: its text with its aval."""
        texts = []
        avals = self.avals
        for v in variables:
            aval = v.aval
            a = avals.get(aval)
            if a is None:
                a = avals[aval] = self.ref(_aval_text(aval))
            if type(v) is core.DropVar:
                texts.append(f"_{a}")
            else:
                if v in names:
                    raise Unkeyable("a variable defined twice")
                n = names[v] = f"%{len(names)}"
                texts.append(f"{n}{a}")
        return f"{len(texts)} {' '.join(texts)}"

    def atoms(self, names: dict[Any, str], atoms: Sequence[Any]) -> str:
        """Variables by number (data flow), literals by value, dtype and weak type."""
        texts = []
        for a in atoms:
            if type(a) is core.Literal:
                aval = a.aval
                r = self.avals.get(aval)
                if r is None:
                    r = self.avals[aval] = self.ref(_aval_text(aval))
                texts.append(f"lit{r}:{_value_text(a.val)}")
            else:
                texts.append(names[a])  # a KeyError (used before defined): no key
        return f"{len(texts)} {' '.join(texts)}"

    def param(self, v: Any) -> None:
        """Append the text of a param value (recursively); `Unkeyable` when it has none."""
        t = type(v)
        if t in _SCALARS:
            self.out.append(repr(v))
        elif t is tuple and _SCALARS.issuperset(map(type, v)):
            self.out.append(f"tuple{v!r}")  # the common case, at once
        elif t is core.ClosedJaxpr:
            self.closed(v)
        else:
            self.other(v)

    def other(self, v: Any) -> None:
        """`param` of a value of a less common type, by the kind of its type (`_kind`)."""
        out = self.out
        t = type(v)
        kind = _KINDS.get(t)
        if kind is None:
            kind = _KINDS[t] = _kind(t)
        if kind == "float":
            out.append(_float_text(v))
        elif kind == "closed":
            self.closed(v)
        elif kind == "jaxpr":
            self.jaxpr(v, None)
        elif kind == "sequence":
            out.append(f"{t.__module__}.{t.__qualname__}({len(v)}")  # namedtuples by type
            for x in v:
                self.param(x)
            out.append(")")
        elif kind == "dict":
            out.append(f"{t.__qualname__}{{{len(v)}")
            for k, x in v.items():
                self.param(k)
                self.param(x)
            out.append("}")
        elif kind == "set":
            out.append(f"{t.__qualname__}{{{len(v)}")
            out.extend(sorted(repr(self.text(x)) for x in v))
            out.append("}")
        elif kind == "enum":
            out.append(f"{t.__module__}.{t.__qualname__}.{v.name}={self.text(v.value)!r}")
        elif kind == "value":
            out.append(_value_text(v))
        elif kind == "dtype":
            out.append(f"dtype {v!r}")
        elif kind == "type":
            out.append(f"type {v.__module__}.{v.__qualname__}")
        elif kind == "primitive":
            out.append(repr(_primitive(v)))
        elif kind == "pipeline":
            out.append(f"Pipeline({v.text!r})")
        elif kind == "mesh":
            out.append(self.mesh(v))
        elif kind == "sharding":
            # Its repr shows the mesh's axes, not its devices, whose ids reach the IR.
            out.append(f"NamedSharding({_no_address(repr(v))!r}")
            self.param(v.mesh)
            out.append(")")
        elif callable(v):
            raise Unkeyable(f"a callable param: {t.__qualname__}")
        elif dataclasses.is_dataclass(v):
            out.append(f"{t.__module__}.{t.__qualname__}({len(dataclasses.fields(v))}")
            for f in dataclasses.fields(v):
                out.append(f"{f.name}=")
                self.param(getattr(v, f.name))
            out.append(")")
        else:
            out.append(f"{t.__module__}.{t.__qualname__}:{_no_address(repr(v))!r}")

    def text(self, v: Any) -> str:
        """The text of one param value, as `param` appends it."""
        saved, self.out = self.out, []
        try:
            self.param(v)
            return "\n".join(self.out)
        finally:
            self.out = saved

    def mesh(self, mesh: Mesh) -> str:
        text = self.meshes.get(id(mesh))
        if text is None:
            ids = [] if mesh.empty else [int(i) for i in np.asarray(mesh.device_ids).flat]
            text = (f"Mesh({tuple(mesh.axis_names)!r}, {tuple(mesh.axis_sizes)!r}, "
                    f"{_no_address(repr(mesh.axis_types))!r}, devices={ids})")
            self.meshes[id(mesh)] = text
            self.alive.append(mesh)
        return text


# What `_Walk.other` does with a param value, by its type: the first kind it is a subclass of
# (exactly `float` for "float": jax's `TypedFloat` is a "value"), else "object".
_KIND_BASES: tuple[tuple[str, Any], ...] = (
    ("closed", core.ClosedJaxpr), ("jaxpr", core.Jaxpr), ("sequence", (tuple, list)),
    ("dict", dict), ("set", (frozenset, set)), ("enum", enum.Enum),
    ("value", (np.ndarray, np.generic, int, float, complex, jax.Array)), ("dtype", np.dtype),
    ("type", type), ("primitive", core.Primitive), ("pipeline", Pipeline), ("mesh", Mesh),
    ("sharding", NamedSharding))
_KINDS: dict[type, str] = {}


def _kind(t: type) -> str:
    if t is float:
        return "float"
    return next((kind for kind, bases in _KIND_BASES if issubclass(t, bases)), "object")


# -- atoms: avals, literals, constants ---------------------------------------------------------


def _aval_text(aval: Any) -> str:
    """An aval: dtype, shape, weak type, sharding, manual axes, memory space (interned
    `ShapedArray`s: kept by object)."""
    if type(aval) is core.ShapedArray:
        text = _AVALS.get(aval)
        if text is None:
            text = (f"{aval.str_short(short_dtypes=False, mesh_axis_types=True)}"
                    f"{'~weak' if aval.weak_type else ''} {aval.sharding!r} "
                    f"{aval.manual_axis_type!r} {aval.memory_space!r}")
            text = _AVALS.put(aval, _no_address(text))
        return text
    t = type(aval)
    return f"{t.__module__}.{t.__qualname__}:{_no_address(repr(aval))!r}"


def _value_text(v: Any) -> str:
    """A literal's or param's value, exactly: its type, dtype and bytes (float bits, not
    their shortest print)."""
    if isinstance(v, np.ndarray) and v.size <= 4 and v.dtype.kind in _PLAIN_KINDS:
        return f"{type(v).__name__} {_dtype_name(v.dtype)}{v.shape}:{v.tobytes().hex()}"
    t = type(v)
    dtype = getattr(v, "dtype", "")  # jax's TypedInt, TypedFloat, TypedComplex
    if isinstance(v, (bool, int)) and not isinstance(v, np.generic):
        return f"{t.__name__} {dtype} {int(v)}"
    if isinstance(v, float) and not isinstance(v, np.generic):
        return f"{t.__name__} {dtype} {_float_text(v)}"
    if isinstance(v, complex) and not isinstance(v, np.generic):
        return f"{t.__name__} {dtype} {_float_text(v.real)} {_float_text(v.imag)}"
    return _const_text(v)


_SCALARS = frozenset({type(None), bool, int, str})  # their repr says type and value
_PLAIN_KINDS = frozenset("biufcV")  # numbers (ml_dtypes' floats are kind V): bytes say it all


def _dtype_name(dtype: np.dtype) -> str:
    name = _DTYPES.get(dtype)
    if name is None:
        name = _DTYPES[dtype] = str(dtype)
    return name


_DTYPES: dict[Any, str] = {}


def _float_text(v: float) -> str:
    return f"f{struct.pack('<d', v).hex()}"


def _const_text(c: Any) -> str:
    """A constant by dtype, shape and the sha256 of its bytes; `Unkeyable` where numpy
    cannot hold it by value (objects, a PRNG key array)."""
    value = np.asarray(c)
    if value.dtype == object:
        raise Unkeyable("a constant of Python objects")
    data = np.ascontiguousarray(value).tobytes()
    body = data.hex() if len(data) <= 32 else hashlib.sha256(data).hexdigest()
    return f"const {type(c).__name__} {value.dtype}{value.shape} {body}"


def _effects_text(effects: Iterable[Any]) -> str:
    return "effects " + repr(sorted(_no_address(repr(e)) for e in effects))


def _no_address(text: str) -> str:
    """`text`, unless it shows an address: that object cannot be keyed by value."""
    if "0x" in text:
        raise Unkeyable(f"a value printed by address: {text[:80]}")
    return text


# -- caches across calls: avals, eqn contexts, locations, primitives --------------------------


class _Memo:
    """A bounded map by identity-hashed (interned) objects, which it keeps alive."""

    def __init__(self, bound: int) -> None:
        self._data: dict[Any, str] = {}
        self._bound = bound
        self.get = self._data.get

    def put(self, key: Any, text: str) -> str:
        if len(self._data) >= self._bound:
            self._data.clear()
        self._data[key] = text
        return text

    def clear(self) -> None:
        self._data.clear()


_AVALS = _Memo(1 << 14)  # interned `ShapedArray`s (equal avals are one object)
_CONTEXTS = _Memo(1 << 10)  # interned `JaxprEqnContext`s
_LOCATIONS = _Memo(1 << 13)  # tracebacks (equal by their (code, lasti) frames)
# id(code) -> (code, None for a file that is not the user's, else `co_positions()` as a list:
# one position per instruction): code objects compare by content, not by file, so they are
# kept by identity.
_CODES: dict[int, tuple[Any, list[Any] | None]] = {}
_HEURISTIC: list[Any] = [None]  # JAX's user-frame regexes the locations were found with


def _extended(aval: Any) -> bool:
    """Whether `aval` has an extended dtype (a PRNG key's): the importer wraps and unwraps such
    parameters and results at the line compiling (`import_keys`)."""
    dtype = getattr(aval, "dtype", None)
    return dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.extended)


def _check_heuristic() -> None:
    """Forget the locations found while JAX's user-frame heuristic was another one (a path
    excluded or included since)."""
    regexes = (source_info_util._exclude_path_regex(), source_info_util._include_path_regex())
    if _HEURISTIC[0] != regexes:
        _LOCATIONS.clear()
        _CODES.clear()
        _HEURISTIC[0] = regexes


def _location(tb: Any) -> str:
    """The user's frame of a traceback as the importer finds it (`importer.user_frame`):
    'file':line:column, or "?" where there is none."""
    if tb is None:
        return "?"
    text = _LOCATIONS.get(tb)
    if text is None:
        text = _LOCATIONS.put(tb, _user_position(tb))
    return text


def _user_position(tb: Any) -> str:
    """`_location` of a traceback not seen before: its innermost frame in a user file (JAX's
    heuristic, less tiers' internals: `importer._is_user_file`) at the position of its
    instruction, which `co_positions` gives for all of a code object's instructions at once
    (JAX's `raw_frame_to_frame` scans the code object for each: quadratic in a long function)."""
    codes, lastis = tb.raw_frames()
    for code, lasti in zip(codes, lastis, strict=True):
        entry = _CODES.get(id(code))
        if entry is None or entry[0] is not code:
            entry = _code_entry(code)
        positions = entry[1]
        if positions is None:
            continue
        i = lasti // 2  # one position per 2-byte code unit
        if lasti >= 0 and i < len(positions):
            line, _, column, _ = positions[i]
            line = -1 if line is None else line  # as `code_addr2location` has it
            column = -1 if column is None else column
        else:
            frame = source_info_util.raw_frame_to_frame(code, lasti)
            line, column = frame.start_line, frame.start_column
        return f"{code.co_filename!r}:{line}:{column}"
    return "?"


def _code_entry(code: Any) -> tuple[Any, list[Any] | None]:
    positions = list(code.co_positions()) if _is_user_file(code.co_filename) else None
    if len(_CODES) >= 1 << 14:
        _CODES.clear()
    entry = _CODES[id(code)] = (code, positions)
    return entry


def _context_text(ctx: Any) -> str:
    text = _CONTEXTS.get(ctx)
    if text is None:
        text = _CONTEXTS.put(ctx, _no_address(repr(ctx)))
    return text


def _site_text() -> str:
    """The line compiling now, where the importer locates what has no user frame."""
    loc, _ = caller_site()
    if isinstance(loc, FileLineColLoc):
        return f"{loc.filename.data!r}:{loc.line.data}:{loc.column.data}"
    return "?"


# Primitives: a token per object, `name@module.attribute` where a module holds it (stable
# across processes: the disk cache can hit), else `name#<process nonce>:<n>` (this process
# only). A token is issued once: a second object of one home gets the nonce form.
_TOKENS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_HELD_TOKENS: dict[Any, str] = {}  # primitives that take no weak reference
_TOKENS_LOCK = threading.Lock()
_ISSUED: set[str] = set()
_NONCE = os.urandom(8).hex()
_COUNT = itertools.count()
# Modules that define JAX's primitives whose rules live elsewhere (`erf_p`, `zeros_like_p`).
_JAX_HOMES = re.compile(r"jax\._src\.(lax(\.|$)|ad_util$|prng$|random|pjit$|core$)")


def _primitive(prim: Any) -> str:
    """The token of a primitive object (see `_TOKENS`)."""
    tokens: Any = _TOKENS if hasattr(type(prim), "__weakref__") else _HELD_TOKENS
    token = tokens.get(prim)
    if token is not None:
        return token
    home = _home(prim)
    with _TOKENS_LOCK:  # one check-and-issue at a time: no token is issued twice
        token = tokens.get(prim)
        if token is None:
            token = f"{prim.name!r}@{home}" if home is not None else None
            if token is None or token in _ISSUED:
                token = f"{prim.name!r}#{_NONCE}:{next(_COUNT)}"
            _ISSUED.add(token)
            tokens[prim] = token
        return token


def _home(prim: Any) -> str | None:
    """`module.attribute` holding `prim`: looked up in the modules of its rules, then in
    JAX's modules that define primitives; by JAX's naming (`sin_p`) first."""
    guess = re.sub(r"\W", "_", prim.name) + "_p"
    found = _find(prim, guess, list(dict.fromkeys(_rule_modules(prim))))
    if found is None:
        found = _find(prim, guess, sorted(m for m in list(sys.modules) if _JAX_HOMES.match(m)))
    return found


def _find(prim: Any, guess: str, modules: Sequence[str]) -> str | None:
    attrs = [(name, vars(module)) for name in modules
             if (module := sys.modules.get(name)) is not None]
    for name, names in attrs:
        if names.get(guess) is prim:
            return f"{name}.{guess}"
    for name, names in attrs:
        for attr, value in list(names.items()):
            if value is prim:
                return f"{name}.{attr}"
    return None


def _rule_modules(prim: Any) -> Iterable[str]:
    """The modules of `prim`'s class, impl, abstract eval, lowerings and JVP/transpose."""
    yield type(prim).__module__
    rules: list[Any] = [prim.impl, prim.abstract_eval, ad.primitive_jvps.get(prim),
                        ad.primitive_transposes.get(prim)]
    for table in (mlir._lowerings, *mlir._platform_specific_lowerings.values()):
        entry = table.get(prim)
        if entry is not None:
            rules.append(entry.rule)
    while rules:
        f = rules.pop(0)
        if isinstance(f, functools.partial):
            rules.append(f.func)
            rules.extend(a for a in f.args if callable(a))
            continue
        module = getattr(f, "__module__", None)
        if isinstance(module, str):
            yield module


# Params tiers' import rules never read: callables JAX has already applied (derivative,
# batching and rematerialization rules) by the time tiers imports a jaxpr. Keyed by the
# primitive objects and the rules that read them, so another primitive of the same name, or
# a plugin's replacement rule, keys them (and so has no key).
_UNREAD: dict[Any, tuple[frozenset[str], Callable[..., Any] | None, Callable[..., Any] | None]] = {
    p: (frozenset(names), RULES.get(p.name), KEY_RULES.get(p.name)) for p, names in (
        (custom_derivatives.custom_jvp_call_p, ("jvp_jaxpr_fun", "jvp_jaxpr_thunk")),
        (custom_derivatives.custom_vjp_call_p, ("fwd_jaxpr_thunk", "bwd", "out_trees")),
        (custom_batching.custom_vmap_p, ("rule",)),
        (ad_checkpoint.remat_p, ("policy",)),
    )}


def _unread(prim: Any) -> frozenset[str]:
    """The params of `prim` that no import rule reads (`_UNREAD`), while its rules are tiers'."""
    unread = _UNREAD.get(prim)
    if unread is None or RULES.get(prim.name) is not unread[1] or \
            KEY_RULES.get(prim.name) is not unread[2]:
        return frozenset()
    return unread[0]
