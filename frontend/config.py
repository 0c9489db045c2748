"""`tiers.config`: process-wide switches for eager mode and for `tiers.jit`.

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


class Setting:
    """The previous value of a setting; restores it when used as a context manager."""

    def __init__(self, restore: Callable[[], None]):
        self._restore = restore

    def __enter__(self) -> Setting:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._restore()


class _State:
    """The eager settings read on every eager op (plain attributes: a read costs ~30 ns)."""

    __slots__ = ("pipeline", "cache_size")

    def __init__(self) -> None:
        self.pipeline = "default"
        self.cache_size = 4096


STATE = _State()
_resize_hooks: list[Callable[[int], None]] = []


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
    previous = STATE.pipeline
    STATE.pipeline = spec

    def restore() -> None:
        STATE.pipeline = previous

    return Setting(restore)


def eager_pipeline() -> str:
    """The pipeline eager ops are compiled with (default: "default")."""
    return STATE.pipeline


def set_eager_cache_size(n: int) -> Setting:
    """Keep at most `n` compiled eager kernels (least recently used ones are dropped first)."""
    if n < 1:
        raise ValueError(f"the eager cache needs room for at least one kernel, got {n}")
    previous = STATE.cache_size
    STATE.cache_size = int(n)
    for hook in _resize_hooks:
        hook(STATE.cache_size)

    def restore() -> None:
        set_eager_cache_size(previous)

    return Setting(restore)


def eager_cache_size() -> int:
    """How many compiled eager kernels the cache keeps."""
    return STATE.cache_size


def on_cache_resize(hook: Callable[[int], None]) -> None:
    """Call `hook(n)` whenever the eager cache size changes (the cache trims itself)."""
    _resize_hooks.append(hook)


def set_debug(debug: pipeline.Debug | None) -> Setting:
    """Instrument every pipeline run without its own `debug` (tiers.jit, eager ops): a
    `tiers.pipeline.Debug` (print IR after passes, timing, semantic checks), or None."""
    from tiers.pipeline import instrument

    previous = instrument.set_default_debug(debug)
    return Setting(lambda: instrument.set_default_debug(previous))


def set_reproducer_dir(path: str | os.PathLike) -> Setting:
    """Write crash reproducers of failing passes under `path` (default: the system temp dir's
    `tiers-reproducers`, or $TIERS_REPRODUCER_DIR); the error message names the file."""
    from tiers.pipeline import instrument

    previous = instrument.set_default_reproducer_dir(path)
    return Setting(lambda: instrument.set_default_reproducer_dir(previous))


if os.environ.get("TIERS_RUN_EAGERLY", "").strip().lower() not in ("", "0", "false", "no"):
    run_functions_eagerly(True)
