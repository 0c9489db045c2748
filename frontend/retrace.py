"""Why did `tiers.jit` compile again? Signatures of calls, and what changed between two.

A signature maps each argument leaf's path (`x[1]['w']`, by the parameter's name) to its
shape, dtype and weak type, and each static argument to its value. On a cache miss after
the first, the difference is logged on the `tiers` logger; after `WARN_AFTER` retraces of
one function a `RetraceWarning` names the argument that keeps changing: once per function,
attributed to the user's line that called it. It is a plain `UserWarning` subclass, so the
standard `warnings` filters control it (`warnings.filterwarnings("ignore",
category=RetraceWarning)`, `-W ignore::tiers.frontend.retrace.RetraceWarning`, pytest's
`filterwarnings`); a filter that turns it into an error fails the one call that retraced.
"""

from __future__ import annotations

import inspect
import logging
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax

from tiers.frontend.errors import user_stacklevel

logger = logging.getLogger("tiers")
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


@dataclass
class RetraceLog:
    """Per-function memory of the last signature and of which arguments keep changing."""

    name: str
    last: Signature | None = None
    changed: Counter = field(default_factory=Counter)
    retraces: int = 0
    warned: bool = False

    def record(self, sig: Signature) -> None:
        if self.last is not None:
            changes = diff(self.last, sig)
            self.retraces += 1
            for line in changes:
                self.changed[line.split(":")[0]] += 1
            logger.info("tiers.jit(%s) compiles again: %s", self.name,
                        "; ".join(changes) or "same signature (cache evicted)")
            if self.retraces >= WARN_AFTER and not self.warned and self.changed:
                self.warned = True
                culprit, times = self.changed.most_common(1)[0]
                self.last = sig  # kept even if a filter turns the warning into an error
                warnings.warn(
                    f"tiers.jit({self.name}) was compiled {self.retraces + 1} times; "
                    f"'{culprit}' changed {times} times. Mark it static, or keep its shape "
                    "and dtype fixed (pad or bucket shapes).", RetraceWarning,
                    stacklevel=user_stacklevel())
        self.last = sig
