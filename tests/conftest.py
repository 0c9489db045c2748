"""Test-wide settings: the `accelerator` marker; running a test file again in a subprocess with
8 CPU devices. (Every pipeline's result is verified anyway: `tiers.pipeline.compile`.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Set in the subprocess that `run_with_devices` starts: its tests then run, the launcher skips.
CHILD = "TIERS_TEST_DEVICES_CHILD"
N_DEVICES = 8
# A developer's persistent cache stays out of the suite (read when tiers is imported, after
# this): tests that need one set their own (tests/test_cache.py).
os.environ.pop("TIERS_CACHE_DIR", None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "accelerator: needs a GPU or TPU (skipped where JAX sees only CPUs)")
    config.addinivalue_line(
        "markers", "immediate_only: about immediate eager mode's per-op kernels (the "
        "`eager_mode` fixture skips it in lazy mode)")
    config.addinivalue_line(
        "markers", f"devices: needs {N_DEVICES} devices (run in a subprocess with "
        f"{N_DEVICES} virtual CPU devices when there are fewer)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    marked = [i for i in items if "accelerator" in i.keywords or "devices" in i.keywords]
    if not marked:
        return
    import jax

    backend = jax.default_backend()
    enough = len(jax.devices()) >= N_DEVICES
    for item in marked:
        if "accelerator" in item.keywords and backend == "cpu":
            item.add_marker(pytest.mark.skip(reason="needs a GPU or TPU"))
        if "devices" in item.keywords and not enough:
            item.add_marker(pytest.mark.skip(
                reason=f"needs {N_DEVICES} devices; run_with_devices runs it in a subprocess"))


def run_with_devices(test_file: str, timeout: float = 240) -> None:
    """Run the `devices`-marked tests of `test_file` in a fresh process with 8 CPU devices
    (XLA_FLAGS must be set before JAX starts), failing with their output if any fails."""
    import jax

    if len(jax.devices()) >= N_DEVICES or os.environ.get(CHILD):
        pytest.skip("the devices tests run in this process")
    env = dict(os.environ, **{CHILD: "1", "JAX_PLATFORMS": "cpu", "XLA_FLAGS": (
        os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={N_DEVICES}"
    ).strip()})
    cmd = [sys.executable, "-m", "pytest", "-W", "error", "-q", "-rs", "-p", "no:cacheprovider",
           "-m", "devices", str(Path(test_file).resolve())]
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"the {N_DEVICES}-device tests did not finish in {timeout} s:\n"
                    f"{(e.stdout or b'')[-4000:]!r}")
    # Exit 0 with nothing skipped: every devices test ran and passed (5: none collected).
    if done.returncode != 0 or "SKIPPED" in done.stdout:
        pytest.fail(f"the {N_DEVICES}-device tests failed (exit {done.returncode}):\n"
                    f"{done.stdout[-8000:]}\n{done.stderr[-4000:]}")


@pytest.fixture(params=["immediate", "lazy"])
def eager_mode(request: pytest.FixtureRequest):
    """Run the test in each eager mode (frontend/lazy.py); tests about immediate mode's own
    kernels carry `@pytest.mark.immediate_only`."""
    import tiers

    if request.param == "lazy" and request.node.get_closest_marker("immediate_only"):
        pytest.skip("about immediate mode's per-op kernels")
    with tiers.config.set_eager_mode(request.param):
        yield request.param
