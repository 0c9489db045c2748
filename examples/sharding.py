"""A sharded `tiers.jit`: a data-parallel MLP layer over a mesh, with a sharding constraint
inside, the same numbers as on one device, and the shardings in tiers IR.

    python examples/sharding.py

Run as a script on a CPU-only machine it asks JAX for 8 virtual CPU devices (XLA_FLAGS, set
before JAX starts). The mesh takes whatever devices there are (one is enough to run).
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__" and "jax" not in sys.modules:
    os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import tiers  # noqa: E402


def main() -> None:
    devices = jax.devices()
    model = 2 if len(devices) % 2 == 0 else 1
    mesh = Mesh(np.array(devices).reshape(len(devices) // model, model), ("data", "model"))
    print(f"mesh: {dict(mesh.shape)} over {len(devices)} {devices[0].platform} devices")
    rows = NamedSharding(mesh, P("data"))  # the batch split over "data"
    cols = NamedSharding(mesh, P(None, "model"))  # the weights split over "model"

    def layer(x, w):
        h = jnp.tanh(x @ w)
        # Keep the hidden activations split both ways (jax.lax.with_sharding_constraint).
        return jax.lax.with_sharding_constraint(h, NamedSharding(mesh, P("data", "model")))

    f = tiers.jit(layer, in_shardings=(rows, cols), out_shardings=rows)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8 * len(devices), 16), np.float32)
    w = rng.standard_normal((16, 4 * model), np.float32)
    out = f(x, w)
    gap = float(np.max(np.abs(np.asarray(out) - np.tanh(x @ w))))
    print(f"output sharding: {out.sharding.spec} on {len(out.sharding.device_set)} devices; "
          f"max |sharded - numpy| = {gap:.1e}")
    assert gap < 1e-4
    for line in f.lower(x, w).as_text("optimized").splitlines():
        if "func.func" in line or "sharding_constraint" in line:
            print(line.strip())


if __name__ == "__main__":
    main()
