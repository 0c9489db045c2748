"""Sharded `tiers.jit` on 8 devices: JAX's shardings in, the same numbers as one device out,
the output sharding as asked, and the shardings kept in tiers IR (printed, parsed, honoured)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import run_with_devices
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from xdsl.utils.exceptions import VerifyException

import tiers
from tiers.dialects import sharding
from tiers.pipeline.context import make_context
from tiers.pipeline.verify import parse_module
from tiers.targets import jax as jax_target
from tiers.targets import reference

devices = pytest.mark.devices


def test_sharded_tests_in_a_subprocess_with_8_devices() -> None:
    run_with_devices(__file__)


def _mesh() -> Mesh:
    return Mesh(np.array(jax.devices()[:8]).reshape(4, 2), ("x", "y"))


def _mlp(x, w1, w2):
    h = jnp.tanh(x @ w1)
    return jax.nn.softmax(h @ w2, axis=-1)


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((16, 8), np.float32), rng.standard_normal((8, 12), np.float32),
            rng.standard_normal((12, 6), np.float32))


@devices
@pytest.mark.parametrize("pipeline", ["O0", "default"])
def test_data_parallel_matches_one_device_and_output_sharding(pipeline: str) -> None:
    mesh = _mesh()
    row, rep = NamedSharding(mesh, P("x")), NamedSharding(mesh, P())
    out = NamedSharding(mesh, P("x", None))
    f = tiers.jit(_mlp, pipeline=pipeline, in_shardings=(row, rep, rep), out_shardings=out)
    args = _data()
    got = f(*args)
    np.testing.assert_allclose(np.asarray(got), np.asarray(jax.jit(_mlp)(*args)), rtol=1e-5,
                               atol=1e-6)
    assert got.sharding.is_equivalent_to(out, 2)
    assert len(got.sharding.device_set) == 8
    # Each of the 4 row blocks lives on its own pair of devices.
    assert {s.data.shape for s in got.addressable_shards} == {(4, 6)}


@devices
def test_shardings_are_recorded_in_ir_and_round_trip_as_text() -> None:
    mesh = _mesh()
    f = tiers.jit(_mlp, in_shardings=(NamedSharding(mesh, P("x", "y")), None, None),
                  out_shardings=NamedSharding(mesh, P(None, "y")))
    text = f.lower(*_data()).as_text("optimized")
    assert 'tiers.mesh = {axes = ["x", "y"], shape = array<i64: 4, 2>' in text
    assert '{tiers.sharding = [["x"], ["y"]]}' in text
    assert '-> (tensor<16x6xf32> {tiers.name = "result", tiers.sharding = [[], ["y"]]})' in text
    module, _ = parse_module(make_context(), text.encode(), "<test>")
    module.verify()
    assert str(module) == str(parse_module(make_context(), str(module).encode(), "<t>")[0])
    # The JAX target honours them when it compiles the IR alone.
    args = _data()
    out = jax_target.compile(module)(*args)[0]
    assert out.sharding.is_equivalent_to(NamedSharding(mesh, P(None, "y")), 2)
    np.testing.assert_allclose(np.asarray(out), np.asarray(_mlp(*args)), rtol=1e-5, atol=1e-6)


@devices
def test_sharding_constraint_op() -> None:
    mesh = _mesh()

    def f(x, w1, w2):
        h = jax.lax.with_sharding_constraint(jnp.tanh(x @ w1), NamedSharding(mesh, P("x", "y")))
        return h @ w2

    jitted = tiers.jit(f)
    text = jitted.lower(*_data()).as_text("optimized")
    assert ('lax.sharding_constraint spec [["x"], ["y"]] %' in text
            and "devices = array<i64: 0, 1, 2, 3, 4, 5, 6, 7>" in text)
    args = _data()
    np.testing.assert_allclose(np.asarray(jitted(*args)), np.asarray(jax.jit(f)(*args)),
                               rtol=1e-5, atol=1e-6)
    # The reference target treats it as the identity.
    module, _ = parse_module(make_context(), text.encode(), "<test>")
    ref = reference.run(module, [np.asarray(a) for a in args])[0]
    np.testing.assert_allclose(ref, np.asarray(jax.jit(f)(*args)), rtol=1e-4, atol=1e-5)
    # Its JAX rule lays the value out as asked.
    g = tiers.jit(lambda x: jax.lax.with_sharding_constraint(x * 2,
                                                             NamedSharding(mesh, P(None, "x"))))
    out = g(np.ones((2, 8), np.float32))
    assert out.sharding.is_equivalent_to(NamedSharding(mesh, P(None, "x")), 2)


@devices
def test_bare_partition_spec_under_set_mesh() -> None:
    mesh = _mesh()
    f = tiers.jit(lambda x: x * 3.0, in_shardings=P("x"), out_shardings=P("x"))
    x = np.arange(32, dtype=np.float32).reshape(8, 4)
    with jax.set_mesh(mesh):
        out = f(x)
        text = f.lower(x).as_text("optimized")
    np.testing.assert_array_equal(np.asarray(out), x * 3)
    assert out.sharding.spec == P("x")
    assert 'tiers.mesh = {axes = ["x", "y"], shape = array<i64: 4, 2>}' in text


def test_sharding_attribute_errors() -> None:
    mesh = sharding.mesh_attr(["x"], [2])
    with pytest.raises(sharding.ShardingError, match=r"names axes \['z'\] not in mesh"):
        sharding.check(mesh, sharding.spec_attr(("z",)), 1)
    with pytest.raises(sharding.ShardingError, match="2 entries for a value of rank 1"):
        sharding.check(mesh, sharding.spec_attr(("x", None)), 1)
    with pytest.raises(sharding.ShardingError, match="uses a mesh axis twice"):
        sharding.check(mesh, sharding.spec_attr(("x", "x")), 2)
    with pytest.raises(sharding.ShardingError, match="needs 4 distinct device ids"):
        sharding.read_mesh(sharding.mesh_attr(["x", "y"], [2, 2], [0, 1, 2]))
    with pytest.raises(sharding.ShardingError, match="which this process does not have"):
        sharding.to_mesh(sharding.mesh_attr(["x"], [2], [0, 100000]))
    with pytest.raises(VerifyException, match=r"sharding_constraint': .* not in mesh \['x'\]"):
        parse_module(make_context(), b'''
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.sharding_constraint spec [["q"]] %x mesh {axes = ["x"], shape = array<i64: 2>} \
: tensor<4xf32>
  func.return %0 : tensor<4xf32>
}''', "<t>")[0].verify()


@devices
def test_saved_sharded_and_pinned_functions_load_where_they_ran(tmp_path) -> None:
    mesh = _mesh()
    rows, rep = NamedSharding(mesh, P("x")), NamedSharding(mesh, P())
    f = tiers.jit(_mlp, in_shardings=(rows, rep, rep), out_shardings=rows)
    args = _data()
    tiers.save(f, tmp_path / "mlp.tiers", *args)
    loaded = tiers.load(tmp_path / "mlp.tiers")
    assert loaded.manifest["placement"]["mesh"] == {
        "axes": ["x", "y"], "shape": [4, 2], "devices": list(range(8))}
    for out in (loaded(*args), loaded.recompile("O0")(*args)):
        assert out.sharding.is_equivalent_to(rows, 2)
        np.testing.assert_allclose(np.asarray(out), np.asarray(_mlp(*args)), rtol=1e-5,
                                   atol=1e-6)
    d = jax.devices()[5]
    g = tiers.jit(lambda a: a * 2.0, device=d)
    tiers.save(g, tmp_path / "g.tiers", args[0])
    loaded = tiers.load(tmp_path / "g.tiers")
    assert loaded.manifest["placement"] == {"device": f"{d.platform}:{d.id}"}
    assert loaded(args[0]).devices() == {d}
    assert loaded.recompile("O2")(args[0]).devices() == {d}
