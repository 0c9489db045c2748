"""`tiers.config`: process-wide switches for eager mode and for `tiers.jit`.

The values live in one place, `tiers.pipeline.config.SETTINGS` (with the environment
variables that set them at start-up); these functions are how users change them.

Each setter takes effect at once and also works as a context manager that restores the previous
value on exit: `tiers.config.run_functions_eagerly(True)` or
`with tiers.config.run_functions_eagerly(True): ...`. Like TensorFlow's switches they are global
to the process, not per thread. Each checks its argument first: a value of the wrong type is a
TypeError naming the setter and what it takes, and leaves the setting as it was.

`bad_argument` and `check_pipeline` are the argument checks the whole Python API shares
(`tiers.jit`, `Session`, `Recording.function`), so every entry point words them alike.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable, Iterable
from typing import Any

import jax
import numpy as np

from tiers import pipeline
from tiers.pipeline import report
from tiers.pipeline.cache import use_folder
from tiers.pipeline.config import SETTINGS
from tiers.targets.jax import EMISSIONS


class Setting:
    """The previous value of a setting; restores it when used as a context manager."""

    def __init__(self, restore: Callable[[], object]):
        self._restore = restore

    def __enter__(self) -> Setting:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._restore()


_resize_hooks: list[Callable[[int], None]] = []  # the eager cache trims itself
_mode_hooks: list[Callable[[str], None]] = []  # eager dispatch reads the mode its own way

EAGER_MODES = ("immediate", "lazy")

# What a pipeline argument may be, as error messages say it.
PIPELINE = ("pipeline text (a preset such as 'O1' or passes such as 'cse,dce') or a "
            "tiers.pipeline.Pipeline")


def shown(value: Any) -> str:
    """`value` as an error message shows a bad argument: its type, then a short repr."""
    text = " ".join(repr(value).split())  # one line, even for arrays
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def bad_argument(where: str, name: str, expected: str, value: Any) -> TypeError:
    """The TypeError for argument `name` of `where` (what it takes, what it got), as Python
    and JAX word theirs; the caller raises it, so the user's call is the last user frame."""
    return TypeError(f"{where}: {name} must be {expected}, got {shown(value)}")


def check_pipeline(spec: Any, where: str) -> pipeline.Pipeline:
    """`spec` (text or a `Pipeline`) parsed: TypeError for any other type, `PipelineError` (a
    ValueError) naming the known passes for an unknown one."""
    if not isinstance(spec, str | pipeline.Pipeline):
        raise bad_argument(where, "pipeline", PIPELINE, spec)
    return pipeline.parse(spec)


def _flag(flag: Any, where: str) -> bool:
    # bool() would take any object ("no" is true); JAX's bool options take bools only.
    if not isinstance(flag, bool | np.bool_):
        raise bad_argument(where, "flag", "a bool", flag)
    return bool(flag)


def run_functions_eagerly(flag: bool = True) -> Setting:
    """Make every `tiers.jit` function run its Python code op by op (or compile again).

    This is JAX's own `jax_disable_jit` switch: with it on, the `jax.jit` dispatcher that
    `tiers.jit` hands out calls the Python function with the original arguments instead of a
    compiled executable, so compiled calls cost nothing extra while it is off. It therefore also
    runs plain `jax.jit` functions op by op, as `jax.disable_jit()` does.
    """
    flag = _flag(flag, "tiers.config.run_functions_eagerly")
    previous = functions_run_eagerly()
    jax.config.update("jax_disable_jit", flag)
    return Setting(lambda: jax.config.update("jax_disable_jit", previous))


def functions_run_eagerly() -> bool:
    """Whether `tiers.jit` functions currently run op by op."""
    # JAX's options are dynamic attributes of `jax.config`, which its typing does not declare.
    return bool(jax.config.jax_disable_jit)  # type: ignore[attr-defined]


def set_eager_pipeline(spec: str | pipeline.Pipeline) -> Setting:
    """Compile eager ops with pipeline `spec` (a preset or pass list; checked at once)."""
    # An unknown pass fails here, naming the known ones. The setting is text (it keys the
    # eager kernel cache), so a `Pipeline` is kept as the text it was parsed from.
    check_pipeline(spec, "tiers.config.set_eager_pipeline")
    previous = SETTINGS.eager_pipeline
    SETTINGS.eager_pipeline = spec if isinstance(spec, str) else spec.spec

    def restore() -> None:
        SETTINGS.eager_pipeline = previous

    return Setting(restore)


def eager_pipeline() -> str:
    """The pipeline eager ops are compiled with (default: "default")."""
    return SETTINGS.eager_pipeline


def _count(n: Any, where: str, at_least_one: str) -> int:
    """`n` as a positive int (ints and numpy integers, as Python's own size arguments; never
    a bool), or the error naming `where`; `at_least_one` says why 0 makes no sense."""
    if isinstance(n, bool):  # an int to Python, but never meant as a size
        raise bad_argument(where, "n", "an int", n)
    try:
        n = operator.index(n)
    except TypeError:
        raise bad_argument(where, "n", "an int", n) from None
    if n < 1:
        raise ValueError(f"{where}: {at_least_one}, got n={n}")
    return n


def set_eager_cache_size(n: int) -> Setting:
    """Keep at most `n` compiled eager kernels (least recently used ones are dropped first)."""
    n = _count(n, "tiers.config.set_eager_cache_size",
               "the eager cache needs room for at least one kernel")
    previous = SETTINGS.eager_cache_size
    SETTINGS.eager_cache_size = n
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


def set_eager_mode(mode: str) -> Setting:
    """How eager ops run on every thread without its own `tiers.lazy()` block: "immediate"
    (the default: each op runs at once, as JAX's eager mode) or "lazy" (ops record a pending
    program that runs whole, optimized, when a value is observed; see `tiers.lazy`).
    `TIERS_EAGER=lazy` sets it at start-up. Leaving lazy mode runs this thread's pending ops."""
    if mode not in EAGER_MODES:
        raise ValueError(f"tiers.config.set_eager_mode: unknown mode {shown(mode)} "
                         f"(modes: {', '.join(EAGER_MODES)})")
    previous, SETTINGS.eager_mode = SETTINGS.eager_mode, mode
    for hook in _mode_hooks:
        hook(mode)

    def restore() -> None:
        set_eager_mode(previous)

    return Setting(restore)


def eager_mode() -> str:
    """How eager ops run by default: "immediate" or "lazy" (`set_eager_mode`)."""
    return SETTINGS.eager_mode


def on_eager_mode(hook: Callable[[str], None]) -> None:
    """Call `hook(mode)` whenever the process-wide eager mode changes."""
    _mode_hooks.append(hook)


def set_lazy_limit(n: int) -> Setting:
    """Run a pending lazy program once it holds `n` ops (default 1000), so that code which
    never looks at its values still runs in bounded memory and compile time."""
    n = _count(n, "tiers.config.set_lazy_limit", "a pending program holds at least one op")
    previous, SETTINGS.lazy_limit = SETTINGS.lazy_limit, n

    def restore() -> None:
        SETTINGS.lazy_limit = previous

    return Setting(restore)


def set_debug(debug: pipeline.Debug | None) -> Setting:
    """Instrument every pipeline run without its own `debug` (tiers.jit, eager ops): a
    `tiers.pipeline.Debug` (print IR after passes, timing, semantic checks), or None."""
    if debug is not None and not isinstance(debug, pipeline.Debug):
        raise bad_argument("tiers.config.set_debug", "debug", "a tiers.pipeline.Debug or None",
                           debug)
    previous, SETTINGS.debug = SETTINGS.debug, debug

    def restore() -> None:
        SETTINGS.debug = previous

    return Setting(restore)


def _folder(path: Any, where: str, expected: str) -> str:
    """`path` as a folder name (text, not empty), or the error naming `where`."""
    try:
        folder = os.fspath(path)
    except TypeError:
        raise bad_argument(where, "path", expected, path) from None
    if not isinstance(folder, str):  # bytes paths: the setting and messages are text
        raise bad_argument(where, "path", expected, path)
    if not folder:
        raise ValueError(f"{where}: path must name a folder, got ''")
    return folder


def set_reproducer_dir(path: str | os.PathLike) -> Setting:
    """Write crash reproducers of failing passes under `path` (default: the system temp dir's
    `tiers-reproducers`, or $TIERS_REPRODUCER_DIR); the error message names the file."""
    folder = _folder(path, "tiers.config.set_reproducer_dir", "a str or os.PathLike")
    previous, SETTINGS.reproducer_dir = SETTINGS.reproducer_dir, folder

    def restore() -> None:
        SETTINGS.reproducer_dir = previous

    return Setting(restore)


def set_verify_each(flag: bool = True) -> Setting:
    """Verify the IR after every pass of every pipeline (as `TIERS_VERIFY=1` does); the result
    of a pipeline is verified anyway (`tiers.pipeline.compile` says when)."""
    flag = _flag(flag, "tiers.config.set_verify_each")
    previous, SETTINGS.verify_each = SETTINGS.verify_each, flag

    def restore() -> None:
        SETTINGS.verify_each = previous

    return Setting(restore)


def set_emission(emission: str) -> Setting:
    """How the JAX target writes programs for XLA, for functions decorated from now on:
    "stablehlo" (the default: StableHLO text straight from the IR) or "walk" (the IR walked
    with `jax.lax` calls, which JAX traces and lowers again: a cross-check, as
    `TIERS_EMISSION=walk` sets it)."""
    if emission not in EMISSIONS:
        raise ValueError(f"tiers.config.set_emission: unknown emission {shown(emission)} "
                         f"(emissions: {', '.join(EMISSIONS)})")
    previous, SETTINGS.emission = SETTINGS.emission, emission

    def restore() -> None:
        SETTINGS.emission = previous

    return Setting(restore)


def set_retrace_warnings(flag: bool = True) -> Setting:
    """Raise a `RetraceWarning` (a `UserWarning`, under the `warnings` filters) when a
    `tiers.jit` function keeps being compiled again, once per function (`TIERS_RETRACE_WARNINGS=1`
    sets it at start-up). Off by default: `jax.jit` warns of nothing, and a library's test
    suite that turns warnings into errors must pass as it does on `jax.jit`; the same advice
    is logged on `tiers.retrace` either way."""
    flag = _flag(flag, "tiers.config.set_retrace_warnings")
    previous, SETTINGS.retrace_warnings = SETTINGS.retrace_warnings, flag

    def restore() -> None:
        SETTINGS.retrace_warnings = previous

    return Setting(restore)


def check_nans(flag: bool = True) -> Setting:
    """Check every compiled result for NaNs; on one, re-run op by op and raise JAX's
    `FloatingPointError` at the user's line, naming the tiers op that made it, its text and
    the values it read (frontend/nans.py). This is JAX's `jax_debug_nans` (`jax.debug_nans`
    and `JAX_DEBUG_NANS` are the same switch): a run that sees no NaN pays only the check of
    its outputs."""
    return _jax_flag("jax_debug_nans", _flag(flag, "tiers.config.check_nans"))


def check_infs(flag: bool = True) -> Setting:
    """`check_nans` for infinities: JAX's `jax_debug_infs`."""
    return _jax_flag("jax_debug_infs", _flag(flag, "tiers.config.check_infs"))


def _jax_flag(name: str, flag: bool) -> Setting:
    """Set JAX's flag `name` for the process, and for this thread as JAX's context manager
    does: in jax 0.10.2, once a thread has used `with jax.debug_nans(...)`, its `jax.jit`
    dispatch ignores a later process-wide update of these flags (checked: a NaN goes
    unreported), but honours the thread's own setting."""
    previous = getattr(jax.config, name)
    jax.config.update(name, flag)
    local = getattr(jax, name.removeprefix("jax_"))(flag)  # jax.debug_nans(flag)
    local.__enter__()

    def restore() -> None:
        local.__exit__(None, None, None)
        jax.config.update(name, previous)

    return Setting(restore)


# Where users may keep the persistent compile cache (`set_cache_dir(DEFAULT_CACHE_DIR)`), as
# pip and JAX's docs do: under $XDG_CACHE_HOME, else ~/.cache. Nothing is written there unless
# asked: the cache is off by default.
DEFAULT_CACHE_DIR = os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "tiers")


def set_cache_dir(path: str | os.PathLike | None) -> Setting:
    """Keep compiled programs in the folder `path` across processes (None: no persistent cache,
    the default; `TIERS_CACHE_DIR` sets it at start-up; `DEFAULT_CACHE_DIR` is the usual place).

    tiers stores the StableHLO of each optimized program there (pipeline/cache.py lists what
    keys it), and turns JAX's own persistent compilation cache on in `path/xla` for the
    executables: that applies to every `jax.jit` of the process while set. Entries that fail
    their checks are misses with a `CacheWarning`; the folder is kept under a size bound. As
    with JAX's cache, whoever can write the folder decides what runs: keep it private."""
    where = "tiers.config.set_cache_dir"
    folder = None
    if path is not None:
        folder = _folder(path, where, "a str, os.PathLike or None")
        folder = os.path.abspath(os.path.expanduser(folder))
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise NotADirectoryError(f"{where}: {folder} exists and is not a folder")
    previous = SETTINGS.cache_dir
    use_folder(folder)
    return Setting(lambda: use_folder(previous))


def cache_dir() -> str | None:
    """The persistent compile cache's folder, or None when it is off."""
    return SETTINGS.cache_dir


def set_cache_before_trace(flag: bool = True) -> Setting:
    """Key `tiers.jit` calls before tracing too (`TIERS_CACHE_BEFORE_TRACE=1` at start-up),
    while a cache folder is set: a call found there skips JAX's trace of the function, so a
    fresh process starts in about the time of loading its executable.

    The key is the function's code, defaults, closure and the globals it reads, recursively
    (frontend/fingerprint.py), the static arguments, the arguments' types, the options and
    the versions. Library modules (installed packages, the standard library) count by name
    and version: patching one between processes is not seen. Calls whose function reads
    what cannot be fingerprinted (an object of a user class, ...) are traced as usual;
    `tiers.cache_info()["traces"]` counts them with the latest reason. As with `jax.jit`,
    the Python of a call found there does not run: its side effects (prints) are not seen."""
    previous = SETTINGS.cache_before_trace
    SETTINGS.cache_before_trace = _flag(flag, "tiers.config.set_cache_before_trace")

    def restore() -> None:
        SETTINGS.cache_before_trace = previous

    return Setting(restore)


def cache_before_trace() -> bool:
    """Whether `tiers.jit` calls are keyed before tracing (`set_cache_before_trace`)."""
    return SETTINGS.cache_before_trace


def set_logs(names: str | Iterable[str]) -> Setting:
    """Log compile reports on stderr (`TIERS_LOGS` sets them at start-up): "compile" (time
    per stage, op counts per dialect, fused kernels), "cache" (the cache's answer, a miss's
    reason), "passes" (time per pass), "retrace" (every retrace and what changed), "all";
    comma-separated text or a list, "" for none. Each is the `tiers.<name>` logger at INFO,
    written by a handler on the `tiers` logger (pipeline/report.py). An unknown name is a
    ValueError listing the valid ones."""
    previous = SETTINGS.logs
    report.set_logs(names)
    return Setting(lambda: report.set_logs(previous))


def logs() -> tuple[str, ...]:
    """The compile logs that are on (`set_logs`)."""
    return tuple(sorted(SETTINGS.logs))


if SETTINGS.eager_mode not in EAGER_MODES:  # TIERS_EAGER: a typo is an error, not ignored
    raise ValueError(f"TIERS_EAGER: unknown eager mode {SETTINGS.eager_mode!r} "
                     f"(modes: {', '.join(EAGER_MODES)})")
if SETTINGS.run_eagerly:  # TIERS_RUN_EAGERLY=1, read with the other variables (pipeline/config)
    run_functions_eagerly(True)
if SETTINGS.cache_dir is not None:  # TIERS_CACHE_DIR: JAX's cache goes along
    use_folder(SETTINGS.cache_dir)
