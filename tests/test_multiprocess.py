"""Two processes on JAX's multi-host runtime over 127.0.0.1 (examples/multiprocess.py): the
data-parallel `tiers.jit` training step gives the single-process numbers, and a worker that
never joins or dies gives one clear error within a bounded time, never a hang."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "multiprocess.py"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("multiprocess_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_processes_match_one(example: ModuleType) -> None:
    results = example.launch(2, timeout=90)
    want = example.single_process()
    assert [r["process"] for r in results] == [0, 1]
    assert all(r["devices"] >= 2 for r in results)  # the mesh spans both processes
    for r in results:
        np.testing.assert_allclose(r["losses"], want["losses"], rtol=1e-5)
        for name, value in want["params"].items():
            np.testing.assert_allclose(r["params"][name], value, rtol=1e-5, atol=1e-6)
    assert want["losses"][-1] < want["losses"][0]  # it trains


def test_a_process_that_never_joins_is_a_clear_error(example: ModuleType) -> None:
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"worker 0/2: the cluster at 127\.0\.0\.1:\d+ did "
                       r"not form within 5 s: not all 2 processes joined"):
        example.launch(2, timeout=5, start=1)
    assert time.monotonic() - start < 60


def test_a_process_that_dies_stops_the_run(example: ModuleType) -> None:
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"worker 1/2 failed \(exit 3\): .*crashing after "
                       r"joining"):
        example.launch(2, timeout=30, fail=1)
    assert time.monotonic() - start < 60
