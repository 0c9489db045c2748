"""Retrace diagnostics and errors for Python control flow on traced values."""

import logging

import jax.numpy as jnp
import pytest

import tiers
from tiers.frontend import retrace
from tiers.frontend.errors import TracedControlFlowError


def test_retrace_is_logged_with_the_changed_argument(caplog: pytest.LogCaptureFixture) -> None:
    @tiers.jit
    def f(x, p):
        return x * p["w"][1]

    f(jnp.ones((3, 4)), {"w": [1.0, jnp.ones(4)]})
    with caplog.at_level(logging.INFO, logger="tiers"):
        f(jnp.ones((3, 5)), {"w": [1.0, jnp.ones(5)]})
    text = caplog.text
    assert "p['w'][1]: shape (4,) float32 -> shape (5,) float32" in text
    assert "x: shape (3, 4) float32 -> shape (3, 5) float32" in text


def test_static_argument_change_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    g = tiers.jit(lambda x, n: x * n, static_argnums=1)
    g(jnp.ones(2), 2)
    with caplog.at_level(logging.INFO, logger="tiers"):
        g(jnp.ones(2), 3)
    assert "static arg n: 2 -> 3" in caplog.text


def test_dtype_and_structure_changes_are_described() -> None:
    def fn(x):
        return x

    a = retrace.signature(fn, (jnp.ones(2),), {}, set(), ())
    b = retrace.signature(fn, (jnp.ones(2, jnp.int32),), {}, set(), ())
    c = retrace.signature(fn, ((jnp.ones(2), jnp.ones(2)),), {}, set(), ())
    assert retrace.diff(a, b) == ["x: shape (2,) float32 -> shape (2,) int32"]
    assert "x: shape (2,) float32 -> absent" in retrace.diff(a, c)


def test_repeated_retraces_warn_once_naming_the_argument(monkeypatch) -> None:
    monkeypatch.setattr(retrace, "WARN_AFTER", 3)
    f = tiers.jit(lambda x: x + 1)
    with pytest.warns(retrace.RetraceWarning, match="'x' changed 3 times"):
        for n in range(1, 5):
            f(jnp.ones(n))
    f(jnp.ones(9))  # no second warning (pytest -W error would fail on one)


def test_python_if_on_traced_value_points_at_user_line() -> None:
    @tiers.jit
    def h(x):
        if x.sum() > 0:  # the line the error must name
            return x
        return -x

    with pytest.raises(TracedControlFlowError) as info:
        h(jnp.ones(3))
    message = str(info.value)
    assert "test_jit_diagnostics.py" in message and "if x.sum() > 0:" in message
    assert "jnp.where" in message and "jax.lax.cond" in message
