"""NaN and Inf checking (`tiers.config.check_nans`, JAX's `jax.debug_nans`) on tiers programs:
the error is JAX's `FloatingPointError` at the user's line, and names the tiers op that made
the value, its text and its operands."""

from __future__ import annotations

import sys
import traceback

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tiers


def _notes(error: BaseException) -> str:
    return "\n".join(getattr(error, "__notes__", []))


def test_check_nans_names_the_op_its_line_and_its_operands():
    @tiers.jit
    def f(x):
        y = x * 2
        return jnp.log(y - 4) + 1

    line = sys._getframe().f_lineno - 2
    message = r"invalid value \(nan\) encountered in log"
    with tiers.config.check_nans(True), pytest.raises(FloatingPointError, match=message) as e:
        f(jnp.array([1.0, 3.0], jnp.float32))
    notes = _notes(e.value)
    assert "= lax.log %" in notes and f"from {__file__}:{line}" in notes
    assert "[-2., 2.] (float32[2])" in notes  # the values the log read
    frames = traceback.extract_tb(e.value.__traceback__)
    assert any(fr.filename == __file__ and fr.lineno == line for fr in frames)
    assert not jax.config.jax_debug_nans  # the setting is restored
    np.testing.assert_allclose(f(jnp.array([3.0])), np.log(2.0) + 1, rtol=1e-6)


def test_check_infs_is_the_same_for_infinities():
    with jax.debug_nans(True):  # a thread that used JAX's context manager once (config.py)
        jax.jit(lambda x: x * 2)(jnp.ones(2))
    f = tiers.jit(lambda x: 1.0 / (x - 1) + x)
    line = sys._getframe().f_lineno - 1
    np.testing.assert_array_equal(f(jnp.ones(2)), [np.inf, np.inf])  # unchecked: no error
    with tiers.config.check_infs(True), pytest.raises(FloatingPointError, match="inf") as e:
        f(jnp.ones(2))
    assert "lax.div" in _notes(e.value) and f"{__file__}:{line}" in _notes(e.value)


def test_the_first_bad_op_of_a_thousand_is_named():
    def chain(x):
        for i in range(1000):
            x = jnp.sin(x) + 0.5 if i != 700 else jnp.sqrt(x - 10.0)
        return x

    line = sys._getframe().f_lineno - 3
    with tiers.config.check_nans(), pytest.raises(FloatingPointError, match="sqrt") as e:
        tiers.jit(chain)(jnp.ones(4))
    notes = _notes(e.value)
    assert "= lax.sqrt %" in notes and f"{__file__}:{line}" in notes
    # Its operand is what op 700's input was: x - 10 of a value sin(...) + 0.5 in [-0.5, 1.5].
    values = notes.split("its operands: ")[1].split(" = ")[1]
    assert all(-10.5 <= float(v) <= -8.5 for v in values.split("]")[0].strip("[").split(","))


def test_a_nan_in_the_backward_pass_is_found_too():
    f = tiers.jit(lambda x: jnp.sum(jnp.where(x > 0, jnp.log(x), 0.0)))
    np.testing.assert_array_equal(jax.grad(f)(jnp.array([0.0, 1.0])), [np.nan, 1.0])
    with tiers.config.check_nans(), pytest.raises(FloatingPointError, match="nan") as e:
        jax.grad(f)(jnp.array([0.0, 1.0]))
    assert "tiers: made by the op" in _notes(e.value)


def test_an_op_that_passes_a_nan_on_is_not_blamed():
    f = tiers.jit(lambda x: jnp.log(x) * 2 + 1)
    with jax.debug_nans(True), pytest.raises(FloatingPointError) as e:
        f(jnp.array([-1.0]))
    assert "= lax.log" in _notes(e.value) and "lax.mul" not in _notes(e.value)


def test_eager_ops_are_checked_with_the_same_words():
    x = tiers.constant(np.array([1.0, 3.0], np.float32))
    with tiers.config.check_nans(), pytest.raises(FloatingPointError, match="log") as e:
        tiers.numpy.log(x - 2)
    line = sys._getframe().f_lineno - 1
    assert f"from {__file__}:{line}" in _notes(e.value) and "[-1., 1.]" in _notes(e.value)


def test_check_nans_takes_a_bool():
    with pytest.raises(TypeError, match="check_nans: flag must be a bool"):
        tiers.config.check_nans("yes")
    assert not jax.config.jax_debug_nans
