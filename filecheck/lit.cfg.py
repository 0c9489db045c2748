"""lit configuration for tiers' FileCheck tests (`tiers-opt`, `tiers-run`, `xdsl-opt`)."""

# ruff: noqa: F821 - lit injects `config` into this file

import os
import sys

import lit.formats

config.name = "tiers"
config.test_format = lit.formats.ShTest(False)  # lit 23 raises on ShTest(True)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(os.path.abspath(__file__))

# The tools come from the venv that runs lit, else from the repo's .venv: put its bin first.
_bins = [os.path.dirname(sys.executable),
         os.path.join(config.test_source_root, "..", ".venv", "bin")]
_path = [os.path.abspath(b) for b in _bins if os.path.exists(os.path.join(b, "tiers-opt"))]
config.environment["PATH"] = os.pathsep.join(
    [*_path[:1], config.environment.get("PATH", os.environ.get("PATH", ""))])
# Results must not depend on the machine: run JAX on the CPU.
config.environment["JAX_PLATFORMS"] = "cpu"
