"""Why did `tiers.jit` compile again? Signatures of calls, and what changed between two.

A signature maps each argument leaf's path (`x[1]['w']`, by the parameter's name) to its
shape, dtype and weak type, and each static argument to its value. On a cache miss after
the first, the difference and advice that fits it are logged on the `tiers.retrace` logger,
attributed to the user's line that called the function:
  - the first retrace of each function at WARNING, so it shows by default (Python's logging
    prints WARNING records on stderr when the application configured no handler) without
    being a Python warning, which a strict test suite (`-W error`) would turn into a failure
    of the call; `logging.getLogger("tiers").setLevel(logging.ERROR)` silences it;
  - every later one at INFO (shown with `TIERS_LOGS=retrace` or `tiers.config.set_logs`).
The advice fits the argument: a static argument whose value keeps changing should become a
dynamic (traced) one; a changing shape should be padded or bucketed; a dtype cast once; a
Python scalar that alternates with an array passed as an array every time.

After `WARN_AFTER` retraces of one function, the argument that keeps changing is named with
its advice, once per function, at the user's line: logged at WARNING on `tiers.retrace`, and,
when asked for (`tiers.config.set_retrace_warnings(True)`, `TIERS_RETRACE_WARNINGS=1`), raised
as a `RetraceWarning` too. That is opt-in because `jax.jit` warns of nothing: libraries' test
suites turn warnings into errors (flax's and equinox's did, failing 175 tests that pass on
`jax.jit`). `RetraceWarning` is a plain `UserWarning` subclass, under the standard `warnings`
filters; a filter that turns it into an error fails the one call that retraced.
"""

from __future__ import annotations

import inspect
import logging
import re
import sys
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax

from tiers.frontend.errors import user_stacklevel
from tiers.pipeline.config import SETTINGS

logger = logging.getLogger("tiers.retrace")
WARN_AFTER = 8


class RetraceWarning(UserWarning):
    """A `tiers.jit` function keeps being compiled again for new argument signatures."""


Signature = tuple[Any, dict[str, Any]]


def signature(fn: Callable[..., Any], args: tuple, kwargs: dict,
              static: set[int], static_names: tuple[str, ...]) -> Signature:
    """(pytree structure, {argument path: description}) of one call."""
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        names = []
    named = {(names[i] if i < len(names) else f"args[{i}]"): a for i, a in enumerate(args)}
    named.update(kwargs)
    desc: dict[str, Any] = {}
    dynamic = {}
    for i, (name, value) in enumerate(named.items()):
        if i in static or name in static_names:
            desc[f"static arg {name}"] = repr(value)
        else:
            dynamic[name] = value
    leaves, tree = jax.tree_util.tree_flatten_with_path(dynamic)
    for path, leaf in leaves:
        aval = jax.typeof(leaf)
        if not hasattr(aval, "shape"):  # a hi-type (a `Box`, flax's hijax `Variable`)
            desc[_path(path)] = aval.str_short()
            continue
        weak = ", weak" if getattr(aval, "weak_type", False) else ""
        desc[_path(path)] = f"shape {tuple(aval.shape)} {aval.dtype}{weak}"
    return tree, desc


def _path(path: tuple) -> str:
    # keystr gives "['x'][1]['w']"; show the parameter bare, as the user wrote it: x[1]['w']
    text = jax.tree_util.keystr(path)
    head, sep, rest = text[2:].partition("']")
    return head + rest if sep else text


def diff(old: Signature, new: Signature) -> list[str]:
    """What changed from `old` to `new`, one line per argument."""
    lines = []
    if old[0] != new[0] and set(old[1]) == set(new[1]):
        lines.append("pytree structure changed")
    for key in dict.fromkeys([*old[1], *new[1]]):
        a, b = old[1].get(key, "absent"), new[1].get(key, "absent")
        if a != b:
            lines.append(f"{key}: {a} -> {b}")
    if not lines and old[0] != new[0]:
        lines.append("pytree structure changed")
    return lines


_AVAL = re.compile(r"shape (\(.*?\)) (\S+?)(, weak)?$")


def advice(change: str) -> str:
    """What to do about one line of `diff` (`x: shape (2,) float32 -> shape (3,) float32`)."""
    key, _, what = change.partition(": ")
    old, _, new = what.partition(" -> ")
    if key.startswith("static arg "):
        arg = key.removeprefix("static arg ")
        if " at 0x" in old or " at 0x" in new:
            return (f"the static argument {arg} is a new object at each call, and static "
                    "arguments are compared by hash and equality: pass the same object, give "
                    "its class value-based __hash__/__eq__, or make it a dynamic argument")
        return (f"the static argument {arg} is compiled into the program, so each new value "
                "compiles it again: if it keeps changing, make it a dynamic (traced) argument "
                "by dropping it from static_argnums/static_argnames")
    if key == "pytree structure changed":
        return ("keep the structure of the arguments (containers, their keys and lengths, "
                "None leaves) the same from call to call")
    if "absent" in (old, new):
        return f"{key} is passed in some calls and not in others: pass the same arguments"
    a, b = _AVAL.match(old), _AVAL.match(new)
    if a and b and a[1] != b[1]:
        return (f"{key} changes shape and each shape is a new program: pad or bucket it to a "
                "few sizes")
    if a and b and a[2] != b[2]:
        return f"{key} changes dtype: cast it to one dtype before calling"
    if a and b and a[3] != b[3]:
        return (f"{key} is a Python scalar in some calls and an array in others: pass "
                "jnp.asarray(value, dtype) every time")
    return "keep the arguments' shapes, dtypes and structure the same from call to call"


@dataclass
class RetraceLog:
    """Per-function memory of the last signature and of which arguments keep changing."""

    name: str
    last: Signature | None = None
    changed: Counter = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)  # the last change of each argument
    retraces: int = 0
    warned: bool = False
    explained: bool = False  # the first retrace was shown (at WARNING)

    def record(self, sig: Signature) -> None:
        if self.last is not None:
            changes = diff(self.last, sig)
            self.retraces += 1
            for line in changes:
                key = line.split(":")[0]
                self.changed[key] += 1
                self.examples[key] = line
            level = user_stacklevel()  # for warnings.warn, called from this function
            self._log(changes, level)
            if self.retraces >= WARN_AFTER and not self.warned and self.changed:
                self.warned = True
                culprit, times = self.changed.most_common(1)[0]
                self.last = sig  # kept even if a filter turns the warning into an error
                text = (f"tiers.jit({self.name}) was compiled {self.retraces + 1} times; "
                        f"'{culprit}' changed {times} times: {advice(self.examples[culprit])}.")
                frame = sys._getframe(level - 1)  # the user's line `warnings.warn` would name
                logger.warning("tiers: %s:%d: %s", frame.f_code.co_filename, frame.f_lineno,
                               text, stacklevel=level)
                if SETTINGS.retrace_warnings:
                    warnings.warn(text, RetraceWarning, stacklevel=level)
        self.last = sig

    def _log(self, changes: list[str], level: int) -> None:
        """Log one retrace: at WARNING the first time for this function, at INFO after
        (`level`: the user's frame, as `record`'s `warnings.warn` counts it)."""
        first = not self.explained
        if not (logger.isEnabledFor(logging.WARNING if first else logging.INFO)):
            return
        self.explained = True
        frame = sys._getframe(level)  # the user's frame that called the function
        where = f"{frame.f_code.co_filename}:{frame.f_lineno}"
        why = "; ".join(changes) or "same signature (cache evicted)"
        tips = "; ".join(dict.fromkeys(advice(c) for c in changes[:3]))
        text = (f"tiers: {where}: tiers.jit({self.name}) compiles again (compile "
                f"{self.retraces + 1}): {why}" + (f". To avoid it: {tips}" if tips else ""))
        if first:
            text += " (shown for the first retrace of a function; TIERS_LOGS=retrace shows all)"
        logger.log(logging.WARNING if first else logging.INFO, text, stacklevel=level + 1)
