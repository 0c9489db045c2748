"""Save a compiled function to one file, then load and run it in another process.

    python examples/save_load.py [PATH.tiers]

The artifact (see `tiers/frontend/saving.py` for its layout) holds the IR after import and
after the pipeline, the pipeline, versions, the signature and the StableHLO. The second
process runs it without tracing; `tiers-run PATH.tiers -i ...` runs it from the shell, and
`jax.export.deserialize` runs its StableHLO where tiers is not installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import jax
import jax.numpy as jnp
import numpy as np

import tiers


def predict(params: dict, x: jax.Array) -> jax.Array:
    """A two-layer MLP classifier."""
    h = jax.nn.relu(x @ params["w1"] + params["b1"])
    return jax.nn.softmax(h @ params["w2"], axis=-1)


def example_inputs() -> tuple[dict, np.ndarray]:
    rng = np.random.default_rng(0)
    params = {"w1": rng.standard_normal((8, 16), np.float32),
              "b1": np.zeros(16, np.float32),
              "w2": rng.standard_normal((16, 3), np.float32)}
    return params, rng.standard_normal((4, 8), np.float32)


def load_and_run(path: str) -> None:
    """The other process: load, run, print."""
    loaded = tiers.load(path)
    print(f"loaded {loaded} (tiers {loaded.versions['tiers']}, jax {loaded.versions['jax']})")
    out = loaded(*example_inputs())
    np.save(path + ".out.npy", np.asarray(out))


def main(path: str) -> None:
    tiers.save(tiers.jit(predict, pipeline="O2"), path, *example_inputs())
    print(f"saved {path} ({os.path.getsize(path)} bytes)")
    done = subprocess.run([sys.executable, __file__, "--load", path], capture_output=True,
                          text=True, timeout=120)
    if done.returncode != 0:
        sys.exit(done.stderr)
    print(done.stdout.strip())
    got = np.load(path + ".out.npy")
    want = predict(*example_inputs())
    print(f"max |loaded in another process - jax| = {float(jnp.max(jnp.abs(got - want))):.1e}")
    assert np.allclose(got, want, rtol=1e-5, atol=1e-6)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--load":
        load_and_run(sys.argv[2])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(tmp, "predict.tiers"))
