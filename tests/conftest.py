"""Test-wide settings: verify the IR after every tiers.jit pipeline (off by default for speed)."""

import os

os.environ.setdefault("TIERS_VERIFY", "1")
