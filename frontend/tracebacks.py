"""Tracebacks that show the user's frames, not tiers': JAX's traceback filtering, extended.

JAX drops its own frames from the traceback of an error raised through one of its API
boundaries (`jax.jit`, `jax.grad`, `jax.make_jaxpr`, ...): `traceback_util.register_exclusion`
names its files, `traceback_util.api_boundary` filters. tiers uses the same machinery, with the
same switch (`JAX_TRACEBACK_FILTERING` / `jax.config.update("jax_traceback_filtering", ...)`:
`off` shows every frame, `auto` (the default) hides them, `tracebackhide` marks them for
IPython, `remove_frames` keeps the full traceback as a chained cause), and one of its own:

- `TIERS_TRACEBACK_FILTERING=off` (`pipeline.config.SETTINGS.filter_tiers_frames`; `set_filtering`
  at run time) shows tiers' frames while JAX's stay hidden: for working on tiers itself.

Two lists of tiers files, because JAX's boundaries filter every error alike while tiers' own
can tell a user's mistake from a bug in tiers:

- JAX's list gets the layer the user calls (`frontend/` and the package's root files). An error
  raised through `tiers.jit` (whose front door is `jax.jit`'s dispatcher) then shows the user's
  call, the user's function and JAX's public frames (`jax.numpy`), not `trace`/`_bind`/`flat_fn`.
  The layers below (`pipeline/`, `passes/`, `targets/`, `dialects/`) are left to JAX's
  boundaries: what fails there while `tiers.jit` compiles is a bug in tiers (a pass, an emission
  rule) whose frames are the report.
- tiers' own boundaries (`boundary` on entry points that are not JAX's: `Session.run`,
  `tiers.grad`, `tiers.load`; `filter_raised` in the `except` of the eager ops, where a
  decorator would cost every op a call) drop all of tiers' library frames, except for errors
  that are tiers' bugs (`is_internal`), which keep the full traceback.

tiers' tests, examples, benchmarks and compat suites live under the package folder too; they are
user code and are never excluded.
"""

from __future__ import annotations

import contextlib
import functools
import os
import traceback
import types
from collections.abc import Callable
from typing import Any, TypeVar

import xdsl
from jax._src import traceback_util as _jax_tb
from xdsl.utils.exceptions import DiagnosticException

from tiers.pipeline import PassFailure
from tiers.pipeline.config import SETTINGS
from tiers.targets.jax import EmissionError
from tiers.targets.walk import MissingRule

F = TypeVar("F", bound=Callable[..., Any])

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The layer the user calls: excluded by JAX's boundaries too.
USER_FACING = (os.path.join(_ROOT, "frontend"),
               *(os.path.join(_ROOT, f) for f in ("__init__.py", "version.py", "universe.py")))
# Every folder of tiers' library (not tests/, examples/, benchmarks/, compat/: user code).
LIBRARY = (*USER_FACING, *(os.path.join(_ROOT, d)
                           for d in ("pipeline", "passes", "targets", "dialects", "tools")))
_LIBRARY_PREFIXES = tuple(p + os.sep if not p.endswith(".py") else p for p in LIBRARY)
_XDSL = os.path.dirname(os.path.abspath(xdsl.__file__)) + os.sep

NOTE = ("--------------------\nFor simplicity, tiers and JAX have removed their internal frames "
        "from the traceback of the following exception. Set TIERS_TRACEBACK_FILTERING=off to "
        "include tiers' frames, JAX_TRACEBACK_FILTERING=off to include every frame.")
_JAX_NOTE = "--------------------\n" + _jax_tb._simplified_tb_msg

# Errors that, raised inside tiers' library or xDSL, are tiers' bugs rather than the user's.
# (xDSL's `DiagnosticException` is its verifier's: IR from tracing that fails to verify.)
_BUG_TYPES = (AssertionError, AttributeError, LookupError, NameError, RecursionError,
              ArithmeticError, DiagnosticException, PassFailure, EmissionError, MissingRule)


# -- which frames are tiers' ------------------------------------------------------------------
def _jax_registered() -> list[str]:
    return _jax_tb._exclude_paths


def set_filtering(on: bool) -> None:
    """Hide (`on`) or show tiers' frames in tracebacks from now on; JAX's follow
    `jax_traceback_filtering` as always. `TIERS_TRACEBACK_FILTERING=off` starts with them shown."""
    SETTINGS.filter_tiers_frames = on
    registered = _jax_registered()
    for path in USER_FACING:
        if on and path not in registered:
            _jax_tb.register_exclusion(path)  # also JAX's C++ list (its dispatcher's frames)
        elif not on and path in registered:
            registered.remove(path)  # what flax does; the C++ list has no removal, and only
            # decides frames of JAX's own C++ dispatcher, which are never tiers'.


def is_library_file(filename: str) -> bool:
    """Whether `filename` is tiers' own code (not its tests, examples, benchmarks or compat)."""
    return os.path.abspath(filename).startswith(_LIBRARY_PREFIXES)


def is_internal(e: BaseException) -> bool:
    """Whether `e` is a bug in tiers (or a pass it ran) rather than the user's mistake: a pass
    failed (the pipeline marks such errors), or an error of a kind that means a bug
    (`AssertionError`, `KeyError`, xDSL's verifier, ...) raised by tiers' or xDSL's code."""
    if getattr(e, "tiers_pass", None) is not None:  # pipeline/instrument.py's `_annotate`
        return True
    if not isinstance(e, _BUG_TYPES):
        return False
    frames = traceback.extract_tb(e.__traceback__)
    if not frames:
        return False
    where = os.path.abspath(frames[-1].filename)
    return where.startswith(_LIBRARY_PREFIXES) or where.startswith(_XDSL)


# -- tiers' boundaries --------------------------------------------------------------------------
_BOUNDARY_CODES: set[types.CodeType] = set()


def register_boundary(code: types.CodeType) -> None:
    """Mark the frames running `code` as a tiers boundary (the outermost filters)."""
    _BOUNDARY_CODES.add(code)


def _under_boundary(frame: types.FrameType | None) -> bool:
    """Whether a caller of `frame` is a boundary, JAX's or tiers' (then it filters)."""
    frame = frame.f_back if frame is not None else None
    while frame is not None:
        if frame.f_code in _BOUNDARY_CODES or _jax_tb._is_reraiser_frame(frame):
            return True
        frame = frame.f_back
    return False


def _hidden(frames: list[tuple[types.FrameType, int]]) -> list[bool]:
    """Per frame (outermost first): tiers', JAX's, or contextlib's called by tiers (a `with`
    block of tiers' own)."""
    hidden, caller_is_tiers = [], False
    for frame, _ in frames:
        name = frame.f_code.co_filename
        mine = is_library_file(name)
        hidden.append(mine or not _jax_tb.include_frame(frame)
                      or (caller_is_tiers and name == contextlib.__file__))
        caller_is_tiers = mine or (caller_is_tiers and name == contextlib.__file__)
    return hidden


def _drop(tb: types.TracebackType | None) -> types.TracebackType | None:
    """`tb` without tiers' and JAX's frames."""
    frames = list(traceback.walk_tb(tb))
    out = None
    for (frame, lineno), hide in reversed(list(zip(frames, _hidden(frames), strict=True))):
        if not hide:
            out = types.TracebackType(out, frame, frame.f_lasti, lineno)
    return out


def filter_raised(e: BaseException) -> None:
    """Filter `e`'s traceback, in the `except` block of the outermost tiers frame of an entry
    point, before a bare `raise` (which adds no frame): the user's frames stay, tiers' and JAX's
    go, as `jax_traceback_filtering` says (see the module docstring). An error of tiers' own
    (`is_internal`), and one raised under an outer boundary (it filters), are left alone.

    Costs nothing until an error is raised: the eager ops call it from their `except`."""
    tb = e.__traceback__
    if tb is None or not SETTINGS.filter_tiers_frames or not isinstance(e, Exception):
        return
    mode = _jax_tb._filtering_mode()
    if mode == "off" or _under_boundary(tb.tb_frame) or is_internal(e):
        return
    if mode == "tracebackhide":  # IPython hides frames marked so
        frames = list(traceback.walk_tb(tb))
        for (frame, _), hide in zip(frames, _hidden(frames), strict=True):
            if hide:
                frame.f_locals["__tracebackhide__"] = True
        return
    e.with_traceback(_drop(tb))
    if mode == "remove_frames":  # JAX's: the unfiltered traceback as the cause
        full = _jax_tb.UnfilteredStackTrace(
            f"{_jax_tb.format_exception_only(e)}\n\n{_jax_tb._jax_message_append}")
        full.with_traceback(_jax_tb._add_call_stack_frames(tb))
        full.__cause__, full.__context__ = e.__cause__, e.__context__
        full.__suppress_context__ = e.__suppress_context__
        e.__cause__, e.__context__ = full, None
        return
    # An error that came through JAX's boundary has JAX's note on how to see JAX's frames:
    # it becomes ours, which names both switches. tiers' own errors get none: their message is
    # their one clear answer (the switches are documented with the settings).
    notes = getattr(e, "__notes__", None)
    if notes is not None and _JAX_NOTE in notes:
        notes[notes.index(_JAX_NOTE)] = NOTE


def boundary(fn: F) -> F:
    """`fn` as a tiers API boundary: errors raised through it have their traceback filtered
    (`filter_raised`). For entry points called once per program or step, not per op."""

    @functools.wraps(fn)
    def tiers_boundary(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            filter_raised(e)
            raise

    return tiers_boundary  # type: ignore[return-value]


register_boundary(boundary(lambda: None).__code__)  # one code object for every `boundary`


if SETTINGS.filter_tiers_frames:
    set_filtering(True)
