"""Retrace diagnostics and errors for Python control flow on traced values."""

import logging
import pathlib
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tiers
from tiers.frontend import errors, retrace
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
    with tiers.config.set_retrace_warnings(True):  # opt-in (frontend/retrace.py says why)
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


# -- tiers' errors are JAX's: `except` clauses written for jax.jit still catch them -----------
_JAX_ERRORS = [c for c in vars(jax.errors).values()
               if isinstance(c, type) and issubclass(c, Exception)]


@pytest.mark.parametrize("fn, jax_type, ours", [
    (lambda x: x if x.sum() > 0 else -x, jax.errors.TracerBoolConversionError,
     errors.TracedBoolConversionError),
    (lambda x: x * float(x[0]), jax.errors.ConcretizationTypeError,
     errors.TracedControlFlowError),
    (lambda x: x * len(range(x[0].astype(int))), jax.errors.TracerIntegerConversionError,
     errors.TracedIntegerConversionError),
    (lambda x: x + np.asarray(x), jax.errors.TracerArrayConversionError,
     errors.TracedArrayConversionError),
])
def test_tracer_errors_are_jaxs_types_with_tiers_message(fn, jax_type, ours) -> None:
    with pytest.raises(jax_type) as theirs:
        jax.jit(fn)(jnp.ones(3))
    assert type(theirs.value) is jax_type
    with pytest.raises(jax_type) as info:
        tiers.jit(fn)(jnp.ones(3))
    error = info.value
    assert type(error) is ours and isinstance(error, errors.TracedValueError)
    # Caught by exactly the `except jax.errors.X` clauses that catch JAX's own error.
    assert [isinstance(error, c) for c in _JAX_ERRORS] == \
        [isinstance(theirs.value, c) for c in _JAX_ERRORS]
    # tiers' message: the user's line first, advice after, no JAX error-page footer.
    message = str(error)
    assert message.startswith(f"{__file__}:") and "lambda x:" in message.splitlines()[0]
    assert "tiers.jit" in message and "static_argnums" in message
    assert "docs.jax.dev/en/latest/errors.html" not in message


def test_an_error_in_a_nested_tiers_jit_names_the_inner_line() -> None:
    inner = tiers.jit(lambda x: x if x.sum() > 0 else -x)  # MARK-INNER
    outer = tiers.jit(lambda x: inner(x) + 1)
    with pytest.raises(errors.TracedBoolConversionError) as info:
        outer(jnp.ones(3))
    assert "MARK-INNER" in str(info.value).splitlines()[0]


# -- RetraceWarning: once per function, at the caller's line, under the `warnings` filters ---
def test_retrace_warning_names_the_callers_line(monkeypatch) -> None:
    monkeypatch.setattr(retrace, "WARN_AFTER", 2)
    f = tiers.jit(lambda x: x + 1)
    with warnings.catch_warnings(record=True) as caught, tiers.config.set_retrace_warnings():
        warnings.simplefilter("always")
        for n in range(1, 6):
            f(jnp.ones(n))  # MARK-CALL
    assert [w.category for w in caught] == [retrace.RetraceWarning]  # once for the function
    lines = pathlib.Path(__file__).read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "# MARK-CALL" in text)
    assert (caught[0].filename, caught[0].lineno) == (__file__, line)


def test_retrace_warning_obeys_the_warnings_filters(monkeypatch) -> None:
    monkeypatch.setattr(retrace, "WARN_AFTER", 2)
    f = tiers.jit(lambda x: x * 2)
    with warnings.catch_warnings(), tiers.config.set_retrace_warnings():
        warnings.simplefilter("error")  # a strict test suite
        warnings.filterwarnings("ignore", category=retrace.RetraceWarning)
        for n in range(1, 6):
            np.testing.assert_allclose(f(jnp.ones(n)), 2 * np.ones(n))


def test_by_default_a_function_that_keeps_recompiling_is_logged_not_warned(
        monkeypatch, caplog) -> None:
    """`jax.jit` warns of nothing, so by default neither does tiers: a strict suite (every
    warning an error) passes; the advice is logged once at WARNING, at the caller's line."""
    monkeypatch.setattr(retrace, "WARN_AFTER", 2)
    f = tiers.jit(lambda x: x - 1)
    with warnings.catch_warnings(), caplog.at_level(logging.WARNING, logger="tiers.retrace"):
        warnings.simplefilter("error")
        for n in range(1, 6):
            np.testing.assert_allclose(f(jnp.ones(n)), np.zeros(n))  # MARK-LOGGED
    told = [r for r in caplog.records if "'x' changed" in r.getMessage()]
    assert len(told) == 1 and "pad or bucket" in told[0].getMessage()
    lines = pathlib.Path(__file__).read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "# MARK-LOGGED" in text)
    assert (told[0].pathname, told[0].lineno) == (__file__, line)


def test_debug_nans_names_the_users_op_and_line() -> None:
    """`jax.debug_nans`: JAX re-runs a call whose compiled output has a NaN op by op; tiers'
    programs re-run that way too (they used to recurse, or blame `tiers_call`)."""
    import sys
    import traceback

    import numpy as np

    import tiers

    @tiers.jit
    def f(x):
        return jnp.log(x * 2 - 4) + 1

    line = sys._getframe().f_lineno - 2
    with jax.debug_nans(True):
        with pytest.raises(FloatingPointError, match="encountered in log") as e:
            f(jnp.array([1.0, 3.0]))
        frames = traceback.extract_tb(e.value.__traceback__)
        assert any(fr.filename == __file__ and fr.lineno == line for fr in frames)
        # An eager op: its kernel re-runs as a walk of its IR, naming the op and its operands.
        x = tiers.constant(np.array([1.0, 3.0], np.float32))
        with pytest.raises(FloatingPointError) as e:
            tiers.numpy.log(x - 2)
        op_line = sys._getframe().f_lineno - 1
        note = "\n".join(e.value.__notes__)
        assert "= lax.log %" in note and f"from {__file__}:{op_line}" in note
        assert "[-1., 1.]" in note
    np.testing.assert_allclose(f(jnp.array([3.0])), np.log(2.0) + 1, rtol=1e-6)
