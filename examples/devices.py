"""Device placement: list devices, move a Tensor, scope eager ops, pin a `tiers.jit` function.

    python examples/devices.py

Run as a script on a CPU-only machine it asks JAX for 4 virtual CPU devices (XLA_FLAGS, set
before JAX starts), so there is somewhere to move things; on GPUs or TPUs it uses those.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__" and "jax" not in sys.modules:
    os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")

import numpy as np  # noqa: E402

import tiers  # noqa: E402


def main() -> None:
    devices = tiers.devices()
    print("devices:", ", ".join(f"{d.platform}:{d.id}" for d in devices))
    last = devices[-1]

    x = tiers.asarray(np.arange(6, dtype=np.float32).reshape(2, 3))
    y = x.to(last)  # committed there: ops on it run there
    print(f"x on {x.device}, y = x.to({last}) on {y.device}, exp(y) on {tiers.exp(y).device}")

    with tiers.device(last):  # eager ops on fresh values run on `last`
        z = tiers.ones((2, 3)) * 3.0
    print(f"made inside `with tiers.device({last})`: on {z.device}")

    f = tiers.jit(lambda a, b: a * b + 1.0, device=last)
    out = f(x, z)
    print(f"tiers.jit(device={last}) ran on {out.device}: {out.numpy().tolist()}")
    ir = f.lower(x, z).as_text("optimized")
    print("its IR:", next(line.strip() for line in ir.splitlines() if "func.func" in line))
    np.testing.assert_allclose(out.numpy(), np.arange(6).reshape(2, 3) * 3.0 + 1.0)


if __name__ == "__main__":
    main()
