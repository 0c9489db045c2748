"""Device placement on JAX's runtime: `tiers.devices()`, `Tensor.to`/`.device`, the
`tiers.device` scope for eager ops, `tiers.jit(device=...)` and its `tiers.device` IR attribute.

The multi-device tests run in a subprocess with 8 virtual CPU devices (tests/conftest.py);
nothing names a platform, so on a machine with several GPUs they run on those directly.
"""

from __future__ import annotations

import threading

import jax
import numpy as np
import pytest
from conftest import run_with_devices

import tiers
from tiers.frontend import eager
from tiers.frontend.devices import resolve
from tiers.pipeline.context import make_context
from tiers.pipeline.verify import parse_module
from tiers.targets import jax as jax_target

devices = pytest.mark.devices


def test_device_tests_in_a_subprocess_with_8_devices() -> None:
    run_with_devices(__file__)


def test_devices_are_jax_devices() -> None:
    assert tiers.devices() == jax.devices()
    assert tiers.local_devices() == jax.local_devices()
    first = jax.devices()[0]
    assert resolve(0) is first and resolve(first) is first
    assert resolve(first.platform) is first
    assert resolve(f"{first.platform}:{first.id}") is first


def test_bad_device_names() -> None:
    n = len(jax.devices())
    with pytest.raises(ValueError, match=f"device index {n} out of range: there are {n}"):
        resolve(n)
    with pytest.raises(ValueError, match="no device 'cpu:999'"):
        resolve("cpu:999")
    with pytest.raises(ValueError, match="no 'nosuchplatform' devices here"):
        resolve("nosuchplatform")
    with pytest.raises(TypeError, match="not a device: 1.5"):
        resolve(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="a device or shardings, not both"):
        tiers.jit(lambda x: x, device=0, out_shardings=None)


def test_tensor_device_and_to_on_one_device() -> None:
    x = tiers.ones((3,))
    d = jax.devices()[0]
    assert x.device == d
    y = x.to(0)
    assert y.device == d and y.value.committed
    np.testing.assert_array_equal((y + 1).numpy(), [2, 2, 2])


@devices
def test_tensor_to_and_ops_follow_the_data() -> None:
    d3, d5 = jax.devices()[3], jax.devices()[5]
    x = tiers.asarray(np.arange(4, dtype=np.float32))
    a, b = x.to(d3), x.to(f"{d5.platform}:{d5.id}")
    assert a.device == d3 and b.device == d5
    assert (a * 2).device == d3 and tiers.exp(b).device == d5
    np.testing.assert_allclose(tiers.exp(b).numpy(), np.exp(np.arange(4)), rtol=1e-6)
    # One kernel serves both devices: the compiled `jax.jit` follows committed inputs.
    eager.clear_cache()
    _ = (a + 1.0, b + 1.0)
    assert eager.cache_info()["misses"] == 1


@devices
def test_device_scope_places_eager_ops_and_keys_the_cache() -> None:
    eager.clear_cache()
    with tiers.device(2) as d:
        z = tiers.ones((3,)) * 2.0
        assert d == jax.devices()[2] and z.device == d
    w = tiers.ones((3,)) * 2.0
    assert w.device == jax.devices()[0]
    info = eager.cache_info()
    assert info["misses"] == 4  # ones and multiply, once per default device
    np.testing.assert_array_equal(z.numpy(), w.numpy())


@devices
def test_device_scopes_in_threads_do_not_mix() -> None:
    results: dict[int, object] = {}

    def work(i: int) -> None:
        with tiers.device(i):
            for _ in range(20):
                results[i] = (tiers.ones((8,)) + float(i)).device

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == {i: jax.devices()[i] for i in range(4)}


@devices
def test_jit_device_runs_there_and_is_recorded_in_ir() -> None:
    d = jax.devices()[6]
    f = tiers.jit(lambda x, y: x @ y + 1.0, device=d)
    x = np.ones((2, 3), np.float32)
    y = np.ones((3, 4), np.float32)
    out = f(x, y)
    assert out.devices() == {d}
    np.testing.assert_allclose(np.asarray(out), x @ y + 1)
    committed = jax.device_put(x, jax.devices()[1])  # moved, as jax.jit's in_shardings do
    assert f(committed, y).devices() == {d}
    text = f.lower(x, y).as_text("optimized")
    assert f'attributes {{tiers.device = "{d.platform}:{d.id}"}}' in text
    # The JAX target honours the attribute when compiling the IR alone.
    module, _ = parse_module(make_context(), text.encode(), "<test>")
    assert jax_target.compile(module)(x, y)[0].devices() == {d}


def test_ir_naming_a_missing_device_fails_clearly() -> None:
    text = b"""
func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> attributes {tiers.device = "cpu:4096"} {
  func.return %x : tensor<2xf32>
}"""
    module, _ = parse_module(make_context(), text, "<test>")
    with pytest.raises(ValueError, match=r"no device cpu:4096 here \(devices: "):
        jax_target.compile(module)


@pytest.mark.accelerator
def test_between_host_and_accelerator() -> None:
    accel = jax.devices()[0]  # the default backend: a GPU or TPU here
    host = tiers.devices("cpu")[0]
    x = tiers.asarray(np.arange(6, dtype=np.float32)).to(host)
    assert x.device == host
    y = x.to(accel) * 2.0
    assert y.device == accel
    f = tiers.jit(lambda a: a + 1.0, device=accel)
    out = f(x)
    assert out.devices() == {accel}
    assert f"{accel.platform}:{accel.id}" in f.lower(x).as_text("optimized")
    np.testing.assert_allclose(np.asarray(out), np.arange(6) + 1.0)
    with tiers.device(host):
        assert (tiers.ones((2,)) + 1.0).device == host
