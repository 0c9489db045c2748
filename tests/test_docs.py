"""docs/writing-a-pass.md runs as written: its python blocks in order in one process, its sh
blocks in the same empty directory, so the tutorial cannot rot."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).parent.parent / "docs" / "writing-a-pass.md"
BIN = Path(sys.executable).parent


def blocks(kind: str) -> list[str]:
    return re.findall(rf"^```{kind}\n(.*?)^```", DOC.read_text(), flags=re.S | re.M)


def test_tutorial_runs(tmp_path: Path):
    python = blocks("python")
    shell = blocks("sh")
    assert len(python) >= 4 and len(shell) >= 2
    script = tmp_path / "tutorial.py"
    script.write_text("\n\n".join(python))
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-W", "error", str(script)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    for command in shell:
        args = shlex.split(command)
        assert args[0] == "tiers-opt"
        out = subprocess.run([str(BIN / args[0]), *args[1:]], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120, env=env)
        assert out.returncode == 0, out.stderr
        assert "lax.add %x, %x" in out.stdout and "lax.mul" not in out.stdout
