"""jaxpr -> tiers IR: a `builtin.module` holding one public `func.func` per imported function.

The walk is `jax.core.eval_jaxpr` building ops instead of computing values: an environment from
jaxpr variables to SSA values and a rule per primitive (`import_rules.RULES`; what a rule sees
is in `emitter.py`). Each op gets the user's source line as its location; with `named`, the
public function's parameters and results get the pytree paths of JAX's debug info
(`dialects/names.py`). Named sub-jaxprs
(`jit`, `custom_jvp_call`, `custom_vjp_call`) become private functions called with
`func.call`, imported once each.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from jax._src import core as jcore  # not jax.extend's: that package imports Pallas (~15 ms)
from jax._src import source_info_util
from xdsl.builder import Builder, InsertPoint
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    FileLineColLoc,
    FunctionType,
    IntAttr,
    LocationAttr,
    ModuleOp,
    StringAttr,
    UnknownLoc,
)
from xdsl.ir import Attribute, Block, Region, SSAValue

from tiers.dialects import dtypes, lax, names
from tiers.frontend import import_keys
from tiers.frontend.emitter import (
    Emitter,
    ImportError_,
    UnsupportedPrimitive,
    aval_type,
    is_extended,
    is_key,
)
from tiers.frontend.import_edtypes import edtype_rule
from tiers.frontend.import_rules import KEY_RULES, RULES, generic_rule

_LOCS: dict[tuple[str, int, int], FileLineColLoc] = {}

# tiers' own modules, which JAX's heuristic takes for user code (they are not under jax/):
# `tiers.jit(jnp.sort)` should point at the user's call, not at tiers.jit's internals.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_INTERNAL = tuple(os.path.join(_ROOT, d) + os.sep
                  for d in ("frontend", "dialects", "passes", "targets", "tools"))
# ... and JAX's own locations skip them too: registered with JAX's user-frame heuristic
# (`source_info_util`, not the traceback filter of frontend/tracebacks.py: another list), the
# `tiers_call` in JAX's StableHLO is located at the user's call, not at `tiers.jit`'s `_bind`.
for _path in _INTERNAL:
    if _path not in source_info_util._exclude_paths:
        source_info_util.register_exclusion(_path)


def _is_user_file(name: str) -> bool:
    return source_info_util.is_user_filename(name) and not name.startswith(_INTERNAL)


def user_frame(source_info: Any) -> Any:
    """The innermost frame of an equation's traceback in neither JAX nor tiers' internals."""
    frame = source_info_util.user_frame(source_info.traceback)
    if frame is None or not frame.file_name.startswith(_INTERNAL):
        return frame  # the common case, at the cost of JAX's own lookup
    for frame in source_info_util.user_frames(source_info.traceback):
        if not frame.file_name.startswith(_INTERNAL):
            return frame
    return None


def _loc(file_name: str, line: int, column: int) -> FileLineColLoc:
    key = (file_name, line, column)
    loc = _LOCS.get(key)
    if loc is None:
        loc = FileLineColLoc(StringAttr(file_name), IntAttr(line), IntAttr(column + 1))
        _LOCS[key] = loc
    return loc


def caller_site() -> tuple[LocationAttr, str]:
    """The user's line on the live Python stack: the call that is compiling right now.

    JAX keeps only the innermost frames of an equation's traceback, so an equation traced
    deep inside a library (`tiers.jit(jnp.gcd)`) may show no user frame at all; importing
    runs inside the user's first call, whose line is still on the stack.
    """
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and not _is_user_file(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return UnknownLoc(), UNKNOWN
    name, line = frame.f_code.co_filename, frame.f_lineno
    return _loc(name, line, 0), f"{os.path.relpath(name)}:{line}"


def user_location(source_info: Any) -> LocationAttr:
    """The user's own frame of an equation, as `loc("file.py":line:col)`."""
    frame = user_frame(source_info)
    if frame is None:
        return UnknownLoc()
    return _loc(frame.file_name, frame.start_line, frame.start_column)


def where(source_info: Any) -> str:
    """`file.py:line` of the user's frame of an equation (the path relative to the cwd)."""
    frame = user_frame(source_info)
    if frame is None:
        return UNKNOWN
    return f"{os.path.relpath(frame.file_name)}:{frame.start_line}"


UNKNOWN = "an unknown location"


@dataclass
class Importer:
    """Imports closed jaxprs into one module; sub-jaxprs become private functions."""

    module: ModuleOp = field(default_factory=lambda: ModuleOp([]))
    _functions: dict[tuple[int, ...], tuple[Any, str]] = field(default_factory=dict)
    _names: set[str] = field(default_factory=set)
    # Call sites being imported, innermost last: (location, "file.py:line"). Equations inside
    # library functions (`jnp.sort`'s jit, a custom_jvp body) carry no user frame, because
    # JAX traced them from its own code; they get the location of the user's call instead,
    # and at the top, the user's line that is compiling (`caller_site`).
    _sites: list[tuple[LocationAttr, str]] = field(default_factory=list)
    # Name the public function's parameters and results after the pytree paths of the
    # jaxpr's debug info (`dialects/names.py`); the caller keys its caches on them.
    named: bool = False

    def _site(self) -> tuple[LocationAttr, str]:
        if not self._sites:
            self._sites.append(caller_site())
        return self._sites[-1]

    def location(self, eqn: Any) -> LocationAttr:
        """The user's source line of `eqn`, else that of the call being imported."""
        loc = user_location(eqn.source_info)
        return self._site()[0] if isinstance(loc, UnknownLoc) else loc

    def where(self, eqn: Any) -> str:
        """`file.py:line` for error messages, with the same fallback as `location`."""
        text = where(eqn.source_info) if eqn is not None else UNKNOWN
        return self._site()[1] if text == UNKNOWN else text

    def import_call(self, closed: Any, name: str, site: Emitter) -> str:
        """Import `closed` as a private function called from `site`; returns its symbol."""
        self._sites.append((site.location, site.where()))
        try:
            return self.import_function(closed, name, private=True)
        finally:
            self._sites.pop()

    def import_function(self, closed: Any, name: str, private: bool = False) -> str:
        """Add `closed` (a ClosedJaxpr) as a function named like `name`; returns its symbol."""
        # One function per jaxpr and constants: two closed jaxprs may share a jaxpr and
        # differ in their constants (the key holds both objects, so no id is reused).
        key = (id(closed.jaxpr), *map(id, closed.consts))
        known = self._functions.get(key)
        if known is not None:
            return known[1]
        symbol = self._unique(name)
        self._functions[key] = ((closed.jaxpr, closed.consts), symbol)
        jaxpr = closed.jaxpr
        # A public function's key arguments and results keep their key type; inside, and in
        # private functions, keys are their data (`import_keys.py`).
        typed = aval_type if private else import_keys.boundary_type
        try:
            in_types = [typed(v.aval) for v in jaxpr.invars]
            out_types = [typed(v.aval) for v in jaxpr.outvars]
        except dtypes.UnsupportedDType as e:
            raise UnsupportedPrimitive(f"{self._site()[1]}: function '{name}': {e}") from None
        block = Block(arg_types=in_types)
        fn = func.FuncOp(
            symbol, FunctionType.from_lists(in_types, out_types), Region(block),
            visibility="private" if private else None,
        )
        self.module.body.block.add_op(fn)
        builder = Builder(InsertPoint.at_end(block))
        args: list[SSAValue] = list(block.args)
        if not private:
            args = import_keys.unwrap(builder, self._site()[0], [v.aval for v in jaxpr.invars],
                                      args)
        outs = self.import_body(builder, jaxpr, closed.consts, args)
        if not private:
            outs = import_keys.wrap(builder, self._site()[0], [v.aval for v in jaxpr.outvars],
                                    outs)
        builder.insert(func.ReturnOp(*outs))
        if self.named and not private:
            arg_names, result_names = boundary_names(closed)
            names.name_arguments(fn, arg_names)
            names.name_results(fn, result_names)
        return symbol

    def import_body(self, builder: Builder, jaxpr: Any, consts: Sequence[Any],
                    args: Sequence[SSAValue]) -> list[SSAValue]:
        env: dict[Any, SSAValue] = {}
        memo: dict[Any, SSAValue] = {}
        for var, const in zip(jaxpr.constvars, consts, strict=True):
            em = Emitter(self, builder, None, UnknownLoc(), memo)
            value = import_keys.constant_data(const)  # a key array: its data
            env[var] = em.constant(value, value.dtype)
        env.update(zip(jaxpr.invars, args, strict=True))

        def read(em: Emitter, atom: Any) -> SSAValue:
            if isinstance(atom, jcore.Literal):
                # JAX types `Literal.aval` as an AbstractValue; a literal's is a ShapedArray.
                return em.constant(atom.val, atom.aval.dtype)  # type: ignore[attr-defined]
            return env[atom]

        for eqn in jaxpr.eqns:
            em = Emitter(self, builder, eqn, self.location(eqn), memo)
            rule = RULES.get(eqn.primitive.name, generic_rule)
            touched = (*eqn.invars, *eqn.outvars)
            if any(is_extended(v.aval) for v in touched):  # PRNG keys, flax's fp8_meta32, ...
                rule = (KEY_RULES.get(eqn.primitive.name, _unsupported_on_keys)
                        if any(is_key(v.aval) for v in touched) else edtype_rule(eqn))
            try:
                outs = rule(em, *(read(em, a) for a in eqn.invars))
            except ImportError_:
                raise
            except dtypes.UnsupportedDType as e:
                raise UnsupportedPrimitive(
                    f"{em.where()}: primitive '{eqn.primitive.name}': {e}") from None
            except Exception as e:
                # A rule that breaks on an equation it did not expect still names the
                # primitive and the user's line; the cause stays chained for tiers' developers.
                raise ImportError_(
                    f"{em.where()}: importing primitive '{eqn.primitive.name}' failed: "
                    f"{type(e).__name__}: {e}") from e
            if isinstance(outs, SSAValue):
                outs = [outs]
            for var, value in zip(eqn.outvars, outs, strict=True):
                if not isinstance(var, jcore.DropVar):
                    env[var] = value
        em = Emitter(self, builder, None, UnknownLoc(), memo)
        return [read(em, v) for v in jaxpr.outvars]

    def import_region(self, closed: Any, captured: Sequence[SSAValue],
                      arg_types: Sequence[Attribute], site: Emitter) -> Region:
        """A one-block region of a control-flow op computing `closed` (a ClosedJaxpr).

        The jaxpr's leading inputs are `captured`, values of the enclosing blocks that the
        region reads directly (regions are not isolated from above); the rest are the block's
        arguments, of `arg_types`. The block ends with `lax.yield` of the jaxpr's outputs.
        """
        block = Block(arg_types=arg_types)
        builder = Builder(InsertPoint.at_end(block))
        outs = self.import_body(builder, closed.jaxpr, closed.consts,
                                [*captured, *block.args])
        builder.insert(lax.YieldOp(outs)).location = site.location
        return Region(block)

    def _unique(self, name: str) -> str:
        name = "".join(c if c.isalnum() or c in "_.$" else "_" for c in name) or "fn"
        symbol, n = name, 0
        while symbol in self._names:
            n += 1
            symbol = f"{name}_{n}"
        self._names.add(symbol)
        return symbol


def _unsupported_on_keys(em: Emitter, *args: SSAValue) -> Any:
    raise UnsupportedPrimitive(
        f"{em.where()}: tiers cannot import primitive '{em.eqn.primitive.name}' on PRNG key "
        "arrays yet (keys support slicing, reshaping, concatenation and selection)")


def boundary_names(closed: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The pytree paths of `closed`'s arguments and results (`params['w']`, `result[0]`) from
    JAX's debug info, "" where JAX does not know one (a transformed program's tangents)."""
    jaxpr = closed.jaxpr
    info = jaxpr.debug_info
    return (_paths(getattr(info, "arg_names", None), len(jaxpr.invars)),
            _paths(getattr(info, "result_paths", None), len(jaxpr.outvars)))


def _paths(paths: Any, n: int) -> tuple[str, ...]:
    if isinstance(paths, tuple) and len(paths) == n:
        return tuple(p if isinstance(p, str) else "" for p in paths)
    return ("",) * n


def import_jaxpr(closed: Any, name: str = "main", *, named: bool = False) -> ModuleOp:
    """A module whose public function `name` computes `closed` (a ClosedJaxpr); `named`: its
    parameters and results named after their pytree paths (`boundary_names`)."""
    importer = Importer(named=named)
    importer.import_function(closed, name)
    return importer.module
