"""TF1-style graphs: Graph, placeholder, Session."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tiers

X = np.array([[1.0, -2.0, 3.0], [4.0, 0.5, -1.0]], np.float32)


def test_the_same_op_is_eager_outside_and_symbolic_inside_a_graph():
    assert tiers.add(tiers.constant(5), tiers.constant(3)).item() == 8
    with tiers.Graph().as_default() as g:
        c = tiers.add(tiers.constant(5), tiers.constant(3))
        assert isinstance(c, tiers.GraphTensor) and c.graph is g
        assert (c.shape, c.dtype) == ((), np.int32)
        with tiers.Session() as sess:
            assert sess.run(c) == 8
            assert isinstance(sess.run(c), np.ndarray)
    assert isinstance(tiers.add(tiers.constant(5), tiers.constant(3)), tiers.Tensor)


def test_placeholders_feed_and_compile_once_per_signature():
    g = tiers.Graph()
    with g.as_default():
        x = tiers.placeholder(tiers.float32, (None, 3), name="x")
        w = tiers.constant(np.ones((3, 2), np.float32))
        y = tiers.nn.relu(x @ w + 1.0)
        total = tiers.sum(y)
    assert x.shape == (None, 3) and y.shape == (None, 2) and total.shape == ()
    sess = tiers.Session(g)
    for rows in (X, X * 2, X[:1]):
        out = sess.run(y, feed_dict={x: rows})
        np.testing.assert_allclose(out, np.maximum(rows @ np.ones((3, 2)) + 1, 0), rtol=1e-6)
    assert sess.cache_info() == {"programs": 1, "traces": 2}  # two row counts
    both = sess.run({"y": y, "total": [total]}, {x: X})
    np.testing.assert_allclose(both["total"][0], both["y"].sum(), rtol=1e-6)
    assert sess.cache_info()["programs"] == 2


def test_graph_tensors_outside_the_block_stay_in_their_graph():
    g = tiers.Graph()
    with g.as_default():
        x = tiers.placeholder("float32", (2, 3), name="x")
    y = (x * 2.0).T[0] - tiers.numpy.mean(x, axis=1)
    assert isinstance(y, tiers.GraphTensor) and y.graph is g and y.shape == (2,)
    assert isinstance(tiers.constant(1.0) * 2.0, tiers.Tensor)
    with tiers.Session(g) as sess:
        np.testing.assert_allclose(sess.run(y, {x: X}), (X * 2).T[0] - X.mean(1), rtol=1e-6)
        np.testing.assert_allclose(y.eval({x: X}), sess.run(y, {x: X}))


def test_feeds_by_name_and_overriding_an_intermediate():
    with tiers.Graph().as_default() as g:
        a = tiers.placeholder(tiers.float32, (3,), name="a")
        b = tiers.exp(a)
        c = b * 3.0
    assert g.get_tensor_by_name("a:0") is a and b.name == "exp:0"
    with tiers.Session(g) as sess:
        np.testing.assert_allclose(sess.run(c, {"a": X[0]}), np.exp(X[0]) * 3, rtol=1e-6)
        np.testing.assert_allclose(sess.run(c, {b: X[1]}), X[1] * 3)  # `a` is not needed


def test_graph_ops_match_numpy():
    with tiers.Graph().as_default():
        x = tiers.placeholder(tiers.float32, (2, 3))
        outs = [tiers.numpy.where(x > 0, x, 0.0), tiers.numpy.concatenate([x, x], axis=1),
                tiers.reshape(x, (3, 2)), tiers.nn.softmax(x, axis=-1), x[:, 1:], abs(-x),
                tiers.numpy.linalg.norm(x, axis=0), tiers.numpy.cumsum(x, axis=1)]
        q, r = tiers.numpy.divmod(x, 2.0)
        sess = tiers.Session()
    got = sess.run(outs + [q, r], {x: X})
    want = [np.where(X > 0, X, 0), np.concatenate([X, X], 1), X.reshape(3, 2),
            np.asarray(jax.nn.softmax(X, axis=-1)), X[:, 1:], np.abs(X), np.linalg.norm(X, axis=0),
            X.cumsum(1), X // 2, X % 2]
    for g_, w_ in zip(got, want, strict=True):
        np.testing.assert_allclose(g_, w_, rtol=1e-6)


def test_feed_errors_name_the_placeholder():
    with tiers.Graph().as_default():
        x = tiers.placeholder(tiers.float32, (None, 3), name="images")
        n = tiers.placeholder(tiers.int32, (), name="count")
        y = tiers.sum(x) * n
        sess = tiers.Session()
    with pytest.raises(ValueError, match=r"missing feed for placeholder 'count'"):
        sess.run(y, {x: X})
    with pytest.raises(ValueError, match=r"shape \(2, 4\) for placeholder 'images' of shape "
                                         r"\(\?, 3\)"):
        sess.run(y, {x: np.ones((2, 4), np.float32), n: 2})
    with pytest.raises(TypeError, match="dtype float32 for placeholder 'count' of dtype int32"):
        sess.run(y, {x: X, n: np.float32(2)})
    np.testing.assert_allclose(sess.run(y, {x: X.tolist(), n: 2}), X.sum() * 2, rtol=1e-6)


def test_graph_errors():
    with tiers.Graph().as_default() as g:
        x = tiers.placeholder(tiers.float32, (2, 3))
        with pytest.raises((TypeError, ValueError), match="ncompatible shapes"):
            x + tiers.constant(np.ones(4, np.float32))  # shapes are checked as ops are written
        assert [n.name for n in g.nodes] == ["Placeholder", "constant"]  # no half-made node
        with pytest.raises(TypeError, match="no value"):
            bool(x > 0)
        first, second = x  # rows, as graph tensors
        assert first.shape == (3,) and second.name == "getitem_1:0"
        with pytest.raises(TypeError, match="no known length"):
            list(tiers.placeholder(tiers.float32, (None,)))
    with tiers.Graph().as_default():
        y = tiers.placeholder(tiers.float32, (2, 3))
        with pytest.raises(ValueError, match="another graph"):
            x + y
        with pytest.raises(ValueError, match="another graph"):
            tiers.Session().run(x, {x: X})


def test_session_pipeline_and_the_global_default_graph():
    x = tiers.placeholder(tiers.float32, (3,), name="g")  # no block: the global default graph
    assert x.graph is tiers.get_default_graph()
    y = tiers.numpy.sin(x) + tiers.numpy.sin(x)
    for pipeline in ("O0", "default"):
        out = tiers.Session(pipeline=pipeline).run(y, {x: X[0]})
        np.testing.assert_allclose(out, 2 * np.sin(X[0]), rtol=1e-6)
    assert jnp.asarray(X).shape == (2, 3)
