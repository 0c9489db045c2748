"""`tiers.config`: process-wide switches for eager mode and for `tiers.jit`.

The values live in one place, `tiers.pipeline.config.SETTINGS` (with the environment
variables that set them at start-up); these functions are how users change them.

Each setter takes effect at once and also works as a context manager that restores the previous
value on exit: `tiers.config.run_functions_eagerly(True)` or
`with tiers.config.run_functions_eagerly(True): ...`. Like TensorFlow's switches they are global
to the process, not per thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import jax

from tiers import pipeline
from tiers.pipeline.config import SETTINGS


class Setting:
    """The previous value of a setting; restores it when used as a context manager."""

    def __init__(self, restore: Callable[[], None]):
        self._restore = restore

    def __enter__(self) -> Setting:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._restore()


_resize_hooks: list[Callable[[int], None]] = []  # the eager cache trims itself


def run_functions_eagerly(flag: bool = True) -> Setting:
    """Make every `tiers.jit` function run its Python code op by op (or compile again).

    This is JAX's own `jax_disable_jit` switch: with it on, the `jax.jit` dispatcher that
    `tiers.jit` hands out calls the Python function with the original arguments instead of a
    compiled executable, so compiled calls cost nothing extra while it is off. It therefore also
    runs plain `jax.jit` functions op by op, as `jax.disable_jit()` does.
    """
    previous = functions_run_eagerly()
    jax.config.update("jax_disable_jit", bool(flag))
    return Setting(lambda: jax.config.update("jax_disable_jit", previous))


def functions_run_eagerly() -> bool:
    """Whether `tiers.jit` functions currently run op by op."""
    return bool(jax.config.jax_disable_jit)


def set_eager_pipeline(spec: str) -> Setting:
    """Compile eager ops with pipeline `spec` (a preset or pass list; checked at once)."""
    pipeline.parse(spec)  # an unknown pass fails here, naming the known ones
    previous = SETTINGS.eager_pipeline
    SETTINGS.eager_pipeline = spec

    def restore() -> None:
        SETTINGS.eager_pipeline = previous

    return Setting(restore)


def eager_pipeline() -> str:
    """The pipeline eager ops are compiled with (default: "default")."""
    return SETTINGS.eager_pipeline


def set_eager_cache_size(n: int) -> Setting:
    """Keep at most `n` compiled eager kernels (least recently used ones are dropped first)."""
    if n < 1:
        raise ValueError(f"the eager cache needs room for at least one kernel, got {n}")
    previous = SETTINGS.eager_cache_size
    SETTINGS.eager_cache_size = int(n)
    for hook in _resize_hooks:
        hook(SETTINGS.eager_cache_size)

    def restore() -> None:
        set_eager_cache_size(previous)

    return Setting(restore)


def eager_cache_size() -> int:
    """How many compiled eager kernels the cache keeps."""
    return SETTINGS.eager_cache_size


def on_cache_resize(hook: Callable[[int], None]) -> None:
    """Call `hook(n)` whenever the eager cache size changes (the cache trims itself)."""
    _resize_hooks.append(hook)


def set_debug(debug: pipeline.Debug | None) -> Setting:
    """Instrument every pipeline run without its own `debug` (tiers.jit, eager ops): a
    `tiers.pipeline.Debug` (print IR after passes, timing, semantic checks), or None."""
    previous, SETTINGS.debug = SETTINGS.debug, debug

    def restore() -> None:
        SETTINGS.debug = previous

    return Setting(restore)


def set_reproducer_dir(path: str | os.PathLike) -> Setting:
    """Write crash reproducers of failing passes under `path` (default: the system temp dir's
    `tiers-reproducers`, or $TIERS_REPRODUCER_DIR); the error message names the file."""
    previous, SETTINGS.reproducer_dir = SETTINGS.reproducer_dir, os.fspath(path)

    def restore() -> None:
        SETTINGS.reproducer_dir = previous

    return Setting(restore)


def set_verify_each(flag: bool = True) -> Setting:
    """Verify the IR after every pass of every pipeline (as `TIERS_VERIFY=1` does); the result
    of a pipeline is verified anyway (`tiers.pipeline.compile` says when)."""
    previous, SETTINGS.verify_each = SETTINGS.verify_each, bool(flag)

    def restore() -> None:
        SETTINGS.verify_each = previous

    return Setting(restore)


if SETTINGS.run_eagerly:  # TIERS_RUN_EAGERLY=1, read with the other variables (pipeline/config)
    run_functions_eagerly(True)
