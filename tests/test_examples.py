"""The examples run as tests: the seed ones (5 + 3 = 8 in graph, eager and run-eagerly modes),
device placement, sharding, and save then load in another process."""

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np

import tiers

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_graph_vs_eager_example(capsys) -> None:
    runpy.run_path(str(EXAMPLES / "graph_vs_eager.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "graph: 8" in out and "eager: 8" in out and "run_functions_eagerly: 8" in out
    assert "ops after import" in out and "jax.jit" in out


def test_demo_example(capsys) -> None:
    runpy.run_path(str(EXAMPLES / "demo.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "lax.dot_general" in out and "max |tiers - jax.jit| =" in out


def test_session_graph_ir_and_shape_first_placeholder() -> None:
    with tiers.Graph().as_default() as g:
        x = tiers.placeholder((2, 3), tiers.float32, name="x")  # (shape, dtype) order too
        y = tiers.exp(x) * 2.0
    sess = tiers.Session(g)
    feed = {x: np.ones((2, 3), np.float32)}
    text = sess.graph_ir(y, feed)
    assert "func.func @main" in text and "lax.exp" in text
    assert "lax.exp" in sess.graph_ir(y, feed, stage="import")
    np.testing.assert_allclose(sess.run(y, feed), np.exp(np.ones((2, 3))) * 2, rtol=1e-6)


def _run_example(name: str, *args: str) -> str:
    """Run `examples/NAME` as a script in a fresh process (it may set XLA_FLAGS first)."""
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    done = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                          text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_devices_example() -> None:
    out = _run_example("devices.py")
    last = out.splitlines()[0].split(", ")[-1]  # the last device, e.g. cpu:3
    assert f"exp(y) on {last}" in out and f"ran on {last}" in out
    assert f'tiers.device = "{last}"' in out


def test_sharding_example() -> None:
    out = _run_example("sharding.py")
    gap = float(re.search(r"max \|sharded - numpy\| = (\S+)", out).group(1))
    assert gap < 1e-4
    assert "lax.sharding_constraint spec [[\"data\"], [\"model\"]]" in out
    assert "tiers.mesh = {axes = [\"data\", \"model\"]" in out


def test_save_load_example(tmp_path: Path) -> None:
    out = _run_example("save_load.py", str(tmp_path / "predict.tiers"))
    assert "pipeline 'O2'" in out
    gap = float(re.search(r"max \|loaded in another process - jax\| = (\S+)", out).group(1))
    assert gap < 1e-5
    assert (tmp_path / "predict.tiers").is_file()


# examples/multiprocess.py (two processes) runs in tests/test_multiprocess.py.
