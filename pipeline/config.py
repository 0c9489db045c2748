"""The one home of tiers' process-wide settings, and of the environment variables behind them.

Every setting lives on `SETTINGS` as a plain attribute (a read costs ~30 ns, so the eager hot
path reads it directly). Each environment variable is read once, here, when tiers is imported
(with no `TIERS_*` variable set, when its API is first used: `__init__.py`):

| variable | setting | meaning |
|---|---|---|
| `TIERS_VERIFY=1` | `verify_each` | verify the IR after every pass, everywhere (a debug mode) |
| `TIERS_REPRODUCER_DIR` | `reproducer_dir` | where crash reproducers of failing passes go |
| `TIERS_RUN_EAGERLY=1` | `run_eagerly` | start with `tiers.config.run_functions_eagerly(True)` |
| `TIERS_EMISSION=walk` | `emission` | how the JAX target writes programs (`stablehlo` or `walk`) |
| `TIERS_CACHE_DIR` | `cache_dir` | the persistent compile cache's folder (unset: none) |
| `TIERS_CACHE_BEFORE_TRACE=1` | `cache_before_trace` | that cache also keys calls before tracing |
| `TIERS_EAGER=lazy` | `eager_mode` | eager ops record a pending program (`immediate` or `lazy`) |
| `TIERS_LOGS=compile,cache` | `logs` | compile logs on stderr (report.py names them) |
| `TIERS_TRACEBACK_FILTERING=off` | `filter_tiers_frames` | tracebacks show tiers' frames too |
| `TIERS_RETRACE_WARNINGS=1` | `retrace_warnings` | a function that keeps recompiling warns |

Users change settings through `tiers.config` (frontend/config.py), whose setters also restore
the previous value as context managers. `generation` counts changes of the plugin set
(`registry.load_plugin` bumps it): caches of anything built from registered passes key on it,
so a cached entry never outlives the passes it was built with.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # instrument.py imports this module: only the type, for annotations
    from tiers.pipeline.instrument import Debug


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


class Settings:
    """Everything a user may set for the process (see the module docstring)."""

    __slots__ = ("eager_pipeline", "eager_cache_size", "debug", "reproducer_dir",
                 "verify_each", "run_eagerly", "emission", "generation", "cache_dir",
                 "eager_mode", "lazy_limit", "logs", "filter_tiers_frames",
                 "retrace_warnings", "cache_before_trace")

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.eager_pipeline = "default"  # pipeline text of eager kernels (tiers.config)
        self.eager_cache_size = 4096  # compiled eager kernels kept
        self.debug: Debug | None = None  # instrumentation of runs without their own `Debug`
        self.reproducer_dir = environ.get("TIERS_REPRODUCER_DIR") or os.path.join(
            tempfile.gettempdir(), "tiers-reproducers")
        self.verify_each = _flag(environ.get("TIERS_VERIFY"))
        self.run_eagerly = _flag(environ.get("TIERS_RUN_EAGERLY"))
        self.emission = (environ.get("TIERS_EMISSION") or "stablehlo").strip().lower()
        self.generation = 0  # the plugin set's version; bumped when it changes
        # The persistent compile cache's folder; None: off (`tiers.config.set_cache_dir`).
        folder = (environ.get("TIERS_CACHE_DIR") or "").strip()
        self.cache_dir = os.path.abspath(os.path.expanduser(folder)) if folder else None
        # Its opt-in level keyed before tracing (frontend/pretrace.py): a hit skips the trace.
        self.cache_before_trace = _flag(environ.get("TIERS_CACHE_BEFORE_TRACE"))
        # How eager ops run (frontend/lazy.py): "immediate" or "lazy"; checked by tiers.config.
        self.eager_mode = (environ.get("TIERS_EAGER") or "immediate").strip().lower()
        self.lazy_limit = 1000  # a pending lazy program runs when it has this many ops
        # Compile logs that are on (pipeline/report.py checks the names; tiers.config.set_logs).
        self.logs = frozenset(n.strip().lower() for n in (environ.get("TIERS_LOGS") or "")
                              .split(",") if n.strip())
        # Tracebacks of the user's errors hide tiers' frames (frontend/tracebacks.py); `off`
        # shows them (JAX's own frames follow JAX_TRACEBACK_FILTERING).
        self.filter_tiers_frames = (
            (environ.get("TIERS_TRACEBACK_FILTERING") or "").strip().lower() != "off")
        # A function that keeps recompiling raises a `RetraceWarning` (frontend/retrace.py):
        # opt-in, as `jax.jit` warns of nothing and strict test suites make warnings errors.
        self.retrace_warnings = _flag(environ.get("TIERS_RETRACE_WARNINGS"))


SETTINGS = Settings(os.environ)
