"""pytest plugin for `make compat`: runs a library's own tests on `tiers.jit`, and records them.

Loaded with `pytest -p compat_plugin` (compat/ on PYTHONPATH), so it is imported before any
conftest or test module, hence before the library under test is imported:

- `COMPAT_JIT=tiers` replaces `jax.jit` by `tiers.jit`, every argument passed through as
  given (none dropped: an argument tiers cannot honour fails as it should). tiers captured
  the real `jax.jit` when it was imported, so `tiers.jit` still builds on JAX's own.
  `COMPAT_JIT=jax` (or unset) leaves JAX alone: the baseline run.
- `COMPAT_OUTCOMES=<file>` appends one JSON line per test phase as it finishes (test id,
  phase, outcome, first line of the error), so a run killed by its timeout keeps what it did.
  compat/run.py reduces the lines to one outcome per test.
- `COMPAT_HYPOTHESIS_SHRINK=0` turns Hypothesis' shrinking off (a property-based suite then
  spends its time on examples, not on minimizing its failures).
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

import pytest


def _install_tiers_jit() -> None:
    """Make `jax.jit` be `tiers.jit` for everything imported from now on."""
    import jax

    import tiers  # only in this mode: the baseline run does not even import tiers

    real = jax.jit

    @functools.wraps(real)
    def jit(*args: Any, **kwargs: Any) -> Any:
        return tiers.jit(*args, **kwargs)

    jit.__compat_real_jit__ = real  # type: ignore[attr-defined]
    jax.jit = jit


_MODE = os.environ.get("COMPAT_JIT", "jax")
if _MODE == "tiers":
    _install_tiers_jit()
elif _MODE != "jax":
    raise pytest.UsageError(f"COMPAT_JIT must be 'jax' or 'tiers', not {_MODE!r}")


def _error_line(report: Any) -> str:
    """The first line of the exception a failed report carries ("TypeError: ..."), if any."""
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    message = getattr(crash, "message", None)
    if not message:  # a collection error or a string longrepr: the last `E ` line says it
        text = str(getattr(report, "longreprtext", "") or report.longrepr or "")
        lines = [ln[1:].strip() for ln in text.splitlines() if ln.startswith("E ")]
        message = lines[0] if lines else (text.strip().splitlines() or [""])[-1]
    if isinstance(report.longrepr, tuple):  # a skip: (file, line, reason)
        message = str(report.longrepr[-1])
    lines = [ln.strip() for ln in message.strip().splitlines() if ln.strip()]
    if len(lines) > 1 and len(lines[0]) < 40:  # "AssertionError:" and the line that says what
        lines[0] = f"{lines[0]} {lines[1]}"
    return lines[0][:300] if lines else ""


def _write(record: dict[str, Any]) -> None:
    path = os.environ.get("COMPAT_OUTCOMES")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    outcome: str = report.outcome
    if hasattr(report, "wasxfail"):
        outcome = "xfailed" if report.skipped else "xpassed"
    record = {"id": report.nodeid, "when": report.when, "outcome": outcome,
              "seconds": round(report.duration, 3)}
    if report.failed or report.skipped:
        record["error"] = _error_line(report)
    _write(record)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _write({"id": report.nodeid, "when": "collect", "outcome": "failed",
                "error": _error_line(report)})


@pytest.hookimpl(trylast=True)  # after the suite's conftest has loaded its own profile
def pytest_configure(config: pytest.Config) -> None:
    """`COMPAT_HYPOTHESIS_SHRINK=0`: Hypothesis reports a failing test's first failing example
    instead of shrinking it (most of a property-based suite's time goes to shrinking the
    failures; the outcome is the same)."""
    if os.environ.get("COMPAT_HYPOTHESIS_SHRINK", "1") != "0":
        return
    from hypothesis import Phase, settings

    suite = settings.default  # the profile the suite loaded
    assert suite is not None, "Hypothesis has a default profile once it is imported"
    phases = [p for p in suite.phases if p not in (Phase.shrink, Phase.explain)]
    settings.register_profile("compat-no-shrink", settings(suite, phases=phases))
    settings.load_profile("compat-no-shrink")
