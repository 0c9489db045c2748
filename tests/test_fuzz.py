"""A seeded slice of the program fuzzer (tests/fuzz_programs.py; `make fuzz` runs thousands):
the same programs every run, each compared between `jax.jit` and every way tiers runs it, and
the shrinker reducing a planted mismatch to the step that causes it."""

from __future__ import annotations

from typing import Any

import fuzz_programs as fuzz
import numpy as np
import pytest

SEEDS = range(8)  # about 10 s on two idle cores: `make test` stays under its budget


def test_generation_is_deterministic() -> None:
    assert fuzz.generate(7) == fuzz.generate(7)
    assert fuzz.source(fuzz.generate(7)) == fuzz.source(fuzz.generate(7))
    for a, b in zip(fuzz.input_values(fuzz.generate(7)), fuzz.input_values(fuzz.generate(7))):
        np.testing.assert_array_equal(a, b)


def test_generator_covers_every_op() -> None:
    ops = {step.op for seed in range(200) for step in fuzz.generate(seed).steps}
    assert ops == set(fuzz.RULES)


@pytest.mark.parametrize("seed", SEEDS)
def test_tiers_matches_jax_jit(seed: int) -> None:
    program = fuzz.generate(seed)
    found = fuzz.check(program)
    if found is not None:
        pytest.fail(fuzz.report(fuzz.shrink(program, found.config), found))


def test_comparison_rules() -> None:
    f32 = np.float32
    assert fuzz.same(np.array([np.nan, np.inf, -0.0], f32), np.array([np.nan, np.inf, 0.0], f32)) \
        is None
    assert fuzz.same(np.array([1.0], f32), np.array([1.0 + 1e-7], f32)) is None
    assert fuzz.same(np.array([1.0], f32), np.array([np.nan], f32)) is not None
    assert fuzz.same(np.array([np.inf], f32), np.array([-np.inf], f32)) is not None
    assert fuzz.same(np.array([1], np.int32), np.array([2], np.int32)) is not None
    assert fuzz.same(np.array([1], np.int32), np.array([1.0], f32)) is not None


def test_shrinker_finds_the_culprit_step() -> None:
    """A planted mismatch (a comparison that fails whenever an output is float32) shrinks to
    one step, with its operand picks and parameters lowered as far as still fails."""
    def floats_mismatch(want: Any, got: Any, err: float) -> str | None:
        return "planted" if np.asarray(want).dtype == np.float32 else fuzz.same(want, got, err)

    program = fuzz.Program(
        inputs=(((3,), fuzz.INT), ((2, 3), fuzz.BOOL)),
        steps=(fuzz.Step("reduce", (5, 1, 2), (3, 9, 4, 1)),
               fuzz.Step("cast", (1, 3, 3), (1, 2, 3, 1)),  # bool -> float32 with p[0] odd
               fuzz.Step("binary", (0, 4, 2), (2, 1, 3, 1)),
               fuzz.Step("compare", (0, 0, 0), (1, 1, 1, 1))),
        data_seed=3)
    found = fuzz.check(program, floats_mismatch)
    assert found is not None and found.detail.endswith("planted")
    small = fuzz.shrink(program, found.config, floats_mismatch)
    assert len(small.steps) == 1 and small.steps[0].op == "cast"
    assert fuzz.check(small, floats_mismatch) is not None
    text = fuzz.report(small, found)
    assert "def f(np_, lax, x0, x1):" in text and "np_.float32" in text
