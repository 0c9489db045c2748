"""Compile reports: `fn.explain`, `TIERS_LOGS`/`tiers.config.set_logs`, progress lines for slow
compiles, and retrace explanations (pipeline/report.py, frontend/report.py, frontend/retrace.py).
No test asserts a time: stages are checked present and non-negative."""

from __future__ import annotations

import logging
import os
import pathlib
import subprocess
import sys
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tiers
from tiers.frontend import retrace
from tiers.pipeline import report
from tiers.pipeline.cache import PROGRAMS

ROOT = pathlib.Path(__file__).resolve().parent.parent
STAGES = ["trace", "cache lookup", "import", "passes", "verify", "emission", "JAX lowering",
          "XLA compile"]


def _line(mark: str) -> int:
    lines = pathlib.Path(__file__).read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if mark in text and "_line(" not in text)


def _chain(x):
    for _ in range(4):
        x = jnp.sin(x) * 2.0 + 1.0  # MARK-CHAIN
    return jnp.sum(x * x)


def test_explain_reports_every_stage_ops_and_kernels() -> None:
    f = tiers.jit(_chain)
    r = f.explain(jnp.ones(16))
    assert isinstance(r, report.Report)
    assert list(r.times)[:3] == ["trace", "cache lookup", "import"]
    for stage in STAGES:
        assert stage in r.times and r.times[stage] >= 0, stage
    assert r.wall is not None and r.wall > 0 and r.total > 0
    assert r.cache == "fresh" and "a call would" in r.reason
    # Per-pass rows, from the instrumentation `Debug(timing=True)` uses.
    names = [p.name for p in r.passes]
    assert "cse" in names and "fuse" in names and all(p.seconds >= 0 for p in r.passes)
    # Op counts per dialect, after import and after the pipeline.
    assert r.ops["import"]["lax"] > 0 and r.ops["optimized"]["fused"] > 0
    # The fused kernels, with their member ops and the user's source lines.
    assert r.kernels and any("lax.sin" in k.ops for k in r.kernels)
    line = f"test_report.py:{_line('# MARK-CHAIN')}"
    assert any(line in k.lines for k in r.kernels)
    text = str(r)
    for piece in [*STAGES, "total", "wall", "ops by dialect", "fused kernels", "lax.sin", line]:
        assert piece in text, piece
    assert repr(r) == text


def test_explain_leaves_the_function_as_it_was() -> None:
    f = tiers.jit(lambda x, n: x * n, static_argnums=1)
    np.testing.assert_allclose(f(jnp.ones(3), 2), 2 * np.ones(3))
    before = f.cache_info()
    r1 = f.explain(jnp.ones(3), 2)
    r2 = f.explain(jnp.ones(3), n=5)  # static by name too; explaining twice compiles twice
    assert f.cache_info() == before
    assert f.tiers_compiler.retraces.retraces == 0
    assert r1.cache == r2.cache == "fresh" and "hit memory" in r1.reason
    assert r2.times["trace"] >= 0 and r2.times["XLA compile"] >= 0
    np.testing.assert_allclose(f(jnp.ones(3), 2), 2 * np.ones(3))


def test_logs_print_each_compile_with_the_cache_answer(capsys) -> None:
    def make():
        return tiers.jit(lambda x: jnp.tanh(x) + 1.0)

    with tiers.config.set_logs("compile,cache,passes"):
        assert tiers.config.logs() == ("cache", "compile", "passes")
        make()(jnp.ones(5))
        first = capsys.readouterr().err
        make()(jnp.ones(5))  # a new function object, the same program: a memory hit
        second = capsys.readouterr().err
    assert tiers.config.logs() == ()
    assert "tiers: <lambda>: cache miss: new program" in first
    for stage in [*STAGES, "canonicalize", "ops by dialect", "fused kernels"]:
        assert stage in first, stage
    assert all(line.startswith("tiers: ") for line in first.splitlines())
    assert "cache hit: memory (the same program, traced before)" in second
    assert "XLA compile" in second and "import " not in second
    make()(jnp.ones(5))  # logs off: nothing
    assert "tiers:" not in capsys.readouterr().err


def test_cache_log_names_the_disk_cache(tmp_path, capsys) -> None:
    def make():
        return tiers.jit(lambda x: jnp.cos(x) * 3.0)

    with tiers.config.set_cache_dir(tmp_path), tiers.config.set_logs("cache"):
        make()(jnp.ones(4))
        assert "cache miss: new program; disk: new" in capsys.readouterr().err
        PROGRAMS.clear()
        make()(jnp.ones(4))
        assert "cache hit: disk" in capsys.readouterr().err
        PROGRAMS.clear()
        assert "a call would hit disk" in make().explain(jnp.ones(4)).reason
        # Another line is another program: the user's lines are part of it.
        r = tiers.jit(lambda x: jnp.cos(x) * 3.0).explain(jnp.ones(4))
        assert "a call would miss: new program; disk: new" in r.reason


def test_unknown_log_names_are_an_error_listing_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown log 'bogus'; valid logs: cache, compile, "
                                         "passes, retrace"):
        tiers.config.set_logs("compile,bogus")
    with pytest.raises(TypeError):
        tiers.config.set_logs(3)  # type: ignore[arg-type]
    assert tiers.config.logs() == ()
    with tiers.config.set_logs(["all"]):
        assert set(tiers.config.logs()) == set(report.CHANNELS)


def test_tiers_logs_environment_variable() -> None:
    code = ("import jax.numpy as jnp, tiers\n"
            "f = tiers.jit(lambda x: x * 2.0)\n"
            "f(jnp.ones(3)); f(jnp.ones(4))\n")
    env = {**os.environ, "TIERS_LOGS": "compile,cache,retrace", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=240, cwd=ROOT.parent)
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("tiers.jit(<lambda>) compile report") == 2
    assert "cache miss: new program" in out.stderr and "XLA compile" in out.stderr
    assert "<string>:3: tiers.jit(<lambda>) compiles again" in out.stderr
    env["TIERS_LOGS"] = "compile,nonsense"
    out = subprocess.run([sys.executable, "-c", "import tiers"], env=env, capture_output=True,
                         text=True, timeout=240, cwd=ROOT.parent)
    assert out.returncode != 0
    assert "TIERS_LOGS: unknown log 'nonsense'; valid logs: cache, compile" in out.stderr


def test_slow_compiles_print_a_progress_line_per_stage(monkeypatch, caplog) -> None:
    f = tiers.jit(lambda x: jnp.exp(x) - 1.0)
    with caplog.at_level(logging.WARNING, logger="tiers"):
        f(jnp.ones(2))  # fast: no progress lines
    assert not [r for r in caplog.records if r.name == "tiers.progress"]
    monkeypatch.setattr(report, "PROGRESS_AFTER", 0.0)
    with caplog.at_level(logging.WARNING, logger="tiers"):
        f(jnp.ones(3))
    lines = [r.getMessage() for r in caplog.records if r.name == "tiers.progress"]
    stages = [line.split(": ")[2].split(" ... ")[0] for line in lines]
    assert stages[:3] == ["trace", "cache lookup", "import"], lines
    assert "XLA compile" in stages and all(line.startswith("tiers: <lambda>: ") for line in lines)


# -- retraces ---------------------------------------------------------------------------------
def test_first_retrace_is_shown_once_at_the_callers_line(caplog) -> None:
    f = tiers.jit(lambda x: x + 1)
    with caplog.at_level(logging.INFO, logger="tiers"):
        for n in range(1, 4):
            f(jnp.ones(n))  # MARK-RETRACE
    records = [r for r in caplog.records if r.name == "tiers.retrace"]
    assert [r.levelno for r in records] == [logging.WARNING, logging.INFO]
    first = records[0]
    line = _line("# MARK-RETRACE")
    assert f"{__file__}:{line}: tiers.jit(<lambda>) compiles again" in first.getMessage()
    assert (first.pathname, first.lineno) == (__file__, line)
    assert "pad or bucket" in first.getMessage()
    assert "static" not in first.getMessage()


def test_retrace_advice_fits_the_argument() -> None:
    static = retrace.advice("static arg n: 2 -> 3")
    assert "dynamic" in static and "static_argnums" in static
    assert "new object" in retrace.advice("static arg f: <A object at 0x1> -> <A object at 0x2>")
    assert "pad or bucket" in retrace.advice("x: shape (2,) float32 -> shape (3,) float32")
    assert "cast" in retrace.advice("x: shape (2,) float32 -> shape (2,) int32")
    assert "jnp.asarray" in retrace.advice(
        "x: shape () float32, weak -> shape () float32")
    assert "structure" in retrace.advice("pytree structure changed")
    assert "same arguments" in retrace.advice("y: shape (2,) float32 -> absent")


def test_retrace_warning_tells_a_changing_static_argument_to_become_dynamic(monkeypatch) -> None:
    monkeypatch.setattr(retrace, "WARN_AFTER", 2)
    g = tiers.jit(lambda x, n: x * n, static_argnums=1)
    with warnings.catch_warnings(record=True) as caught, tiers.config.set_retrace_warnings():
        warnings.simplefilter("always")
        for n in range(4):
            g(jnp.ones(2), n)
    assert [w.category for w in caught] == [retrace.RetraceWarning]
    message = str(caught[0].message)
    assert "'static arg n' changed" in message and "dynamic" in message
    assert "Mark it static" not in message


def test_reports_cost_nothing_when_no_compile_happens() -> None:
    f = tiers.jit(lambda x: x * 3)
    f(jnp.ones(2))
    with report.Capture(fresh=False) as capture:
        for _ in range(3):
            jax.block_until_ready(f(jnp.ones(2)))  # JAX's dispatcher: no compile, no report
    assert capture.reports == []
