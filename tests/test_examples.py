"""The seed examples run as tests: 5 + 3 = 8 in graph, eager and run-eagerly modes."""

import runpy
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
