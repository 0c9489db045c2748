"""`tiers.record()`: eager ops recorded into tiers IR and replayed as one compiled program."""

import threading

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from xdsl.dialects import func

import tiers
from tiers.frontend.record import ReplayError

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]], np.float32)
W = np.array([[1.0, 2.0], [0.5, -1.0], [0.0, 3.0]], np.float32)


def _mlp(x, w):
    h = tiers.nn.relu(x @ w + 1.0)
    return tiers.nn.softmax(h * 2.0, axis=-1).sum(axis=0)


def test_recorded_ops_run_as_usual_and_replay_compiled():
    x, w = tiers.constant(X), tiers.constant(W)
    with tiers.record() as rec:
        out = _mlp(x, w)
    want = np.asarray(jax.jit(_mlp)(jnp.asarray(X), jnp.asarray(W)))
    assert isinstance(out, tiers.Tensor)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6)

    replay = rec.function(inputs=[x, w], outputs=[out])
    (got,) = replay(X, W)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    x2, w2 = X * 3 - 1, W[::-1].copy()
    (got2,) = replay(x2, w2)
    np.testing.assert_allclose(got2, np.asarray(jax.jit(_mlp)(x2, w2)), rtol=1e-6)
    assert replay.cache_info()["traces"] == 1
    assert "array.softmax" in replay.lower(X, W).as_text("optimized")  # O2 raised the softmax


def test_module_holds_every_recorded_op():
    x, w = tiers.constant(X), tiers.constant(W)
    with tiers.record() as rec:
        y = tiers.exp(x @ w)
        z = tiers.sum(y, axis=1)
    main = next(op for op in rec.module.walk() if isinstance(op, func.FuncOp))
    assert main.sym_name.data == "main"
    names = [op.name for op in main.body.walk()]
    for expected in ("lax.dot_general", "lax.exp", "lax.reduce_sum", "func.return"):
        assert expected in names
    assert [t.get_shape() for t in main.function_type.inputs] == [(2, 3), (3, 2)]
    assert [r.value is z.value for r in rec.outputs] == [True]
    assert [i.value for i in rec.inputs] == [x.value, w.value]
    rec.module.verify()


def test_values_not_listed_as_inputs_become_constants():
    x, w = tiers.constant(X), tiers.constant(W)
    with tiers.record() as rec:
        y = tiers.matmul(x, w) * 2.0
    replay = rec.function(inputs=[x], outputs=y)  # w is a constant now
    np.testing.assert_allclose(replay(np.ones_like(X)), (np.ones_like(X) @ W) * 2, rtol=1e-6)
    text = replay.lower(X).as_text("optimized")
    assert "lax.constant" in text and text.count("tensor<3x2xf32>") >= 1


def test_outputs_keep_their_structure_and_intermediate_inputs():
    x = tiers.constant(X)
    with tiers.record() as rec:
        a = x + 1.0
        b = tiers.exp(a)
        c = b - a
    both = rec.function(inputs=[x], outputs={"b": b, "c": c})(X)
    np.testing.assert_allclose(both["b"], np.exp(X + 1), rtol=1e-6)
    np.testing.assert_allclose(both["c"], np.exp(X + 1) - (X + 1), rtol=1e-6)
    from_a = rec.function(inputs=[a], outputs=c)  # cut the graph at an intermediate
    np.testing.assert_allclose(from_a(X), np.exp(X) - X, rtol=1e-6)


def test_only_ops_in_the_block_and_on_this_thread_are_recorded():
    x = tiers.constant(X)
    before = x * 3.0
    other = []

    with tiers.record() as outer:
        with tiers.record() as inner:
            y = before + 1.0
            t = threading.Thread(target=lambda: other.append(tiers.exp(x)))
            t.start()
            t.join()
        z = y * 2.0
    after = z - 1.0
    assert [op.name for op in inner.ops] == ["tiers.numpy.add"]
    assert [op.name for op in outer.ops] == ["tiers.numpy.add", "tiers.numpy.multiply"]
    replay = outer.function(inputs=[before], outputs=[z])
    np.testing.assert_allclose(replay(X)[0], (X + 1) * 2, rtol=1e-6)
    assert isinstance(after, tiers.Tensor)


def test_a_loop_is_unrolled_into_the_replay():
    x = tiers.constant(np.float32(0.5))
    with tiers.record() as rec:
        y = x
        for _ in range(4):
            y = y * y + 0.25
    replay = rec.function(inputs=[x], outputs=y)
    for v in (0.1, 0.5, 0.9):
        want = v
        for _ in range(4):
            want = want * want + 0.25
        np.testing.assert_allclose(replay(np.float32(v)), want, rtol=1e-6)


def test_ops_run_directly_by_jax_cannot_be_replayed_unless_given():
    x = tiers.constant(np.array([0.0, 2.0, 0.0, 3.0], np.float32))
    with tiers.record() as rec:
        idx = tiers.numpy.flatnonzero(x)  # its shape depends on the values
        y = x[idx] * 2.0
    with pytest.raises(ReplayError, match="flatnonzero"):
        rec.function(inputs=[x], outputs=y)
    replay = rec.function(inputs=[x, idx], outputs=y)
    v = np.array([4.0, 5.0, 6.0, 7.0], np.float32)
    np.testing.assert_allclose(replay(v, np.array([1, 3], np.int32)), [10.0, 14.0])
    with pytest.raises(ValueError, match=r"input 0 was recorded as float32\[4\]"):
        replay(v[:3], np.array([1, 3], np.int32))


def test_replay_accepts_tensors_for_its_inputs():
    x = tiers.constant(np.linspace(0, 1, 8, dtype=np.float32))
    with tiers.record() as rec:
        y = tiers.numpy.sin(x) * 2.0
    replay = rec.function(inputs=[x], outputs=y)
    out = replay(x)
    assert isinstance(out, tiers.Tensor)
    np.testing.assert_allclose(out.numpy(), y.numpy(), rtol=1e-6)
