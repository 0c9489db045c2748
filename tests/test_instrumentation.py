"""Instrumentation: IR dumps, timing, verification after each pass, crash reproducers and
semantic checking, from `tiers-opt` and from `tiers.jit` (one implementation: instrument.py)."""

from __future__ import annotations

import io
import re
import shlex
import subprocess
import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from xdsl.utils.exceptions import VerifyException

import tiers
from tiers import pipeline

BIN = Path(sys.executable).parent
WRONG = Path(__file__).parent / "plugins" / "wrong_plugin.py"
IR = """\
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = lax.constant dense<2.0> : tensor<f32>
  %two = lax.broadcast_in_dim %c dims [] : tensor<f32> -> tensor<4xf32>
  %0 = lax.mul %x, %two : tensor<4xf32>
  %1 = lax.exp %0 : tensor<4xf32>
  %2 = lax.exp %0 : tensor<4xf32>
  %3 = lax.add %1, %2 : tensor<4xf32>
  func.return %3 : tensor<4xf32>
}
"""


def opt(cwd: Path, *args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "tiers-opt"), *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "prog.mlir").write_text(IR)
    return tmp_path


def test_print_ir_before_after_and_after_change(work: Path):
    r = opt(work, "prog.mlir", "-p", "cse,cse,dce", "--print-ir-before=dce",
            "--print-ir-after-change")
    assert r.returncode == 0, r.stderr
    headers = [line for line in r.stderr.splitlines() if line.startswith("// -----//")]
    # The second cse changes nothing, so after-change prints only after the first one.
    assert headers == ["// -----// IR Dump After cse //----- //",
                       "// -----// IR Dump Before dce //----- //"]
    first = r.stderr.split(headers[0])[1].split(headers[1])[0]
    assert first.count("lax.exp") == 1  # cse merged the two exps
    r = opt(work, "prog.mlir", "-p", "cse,dce", "--print-ir-after-all")
    assert r.stderr.count("IR Dump After") == 2


def test_print_ir_tree_dir_writes_one_numbered_file_per_pass(work: Path):
    r = opt(work, "prog.mlir", "-p", "cse,fuse", "--print-ir-tree-dir", "dumps")
    assert r.returncode == 0, r.stderr
    files = sorted(p.name for p in (work / "dumps" / "prog.mlir").iterdir())
    assert files == ["0_cse.mlir", "1_fuse.mlir"]
    assert "fused.kernel" in (work / "dumps" / "prog.mlir" / "1_fuse.mlir").read_text()
    assert "fused.kernel" not in (work / "dumps" / "prog.mlir" / "0_cse.mlir").read_text()


def test_mlir_timing_report(work: Path):
    r = opt(work, "prog.mlir", "-p", "cse,fuse{max-ops=8}", "--mlir-timing")
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert "... Execution time report ..." in lines[1]
    total = float(lines[3].split(":")[1].split()[0])
    rows = [line.split() for line in lines[6:]]
    assert [row[-1] for row in rows] == ["cse", "fuse{max_ops=8}", "Total"]
    times = [float(row[0]) for row in rows]
    assert times[-1] == pytest.approx(total) and sum(times[:-1]) <= total + 1e-3


def _rerun(work: Path, message: str) -> subprocess.CompletedProcess:
    command = next(line for line in message.splitlines() if line.startswith("rerun it with: "))
    args = shlex.split(command.removeprefix("rerun it with: "))
    assert args[0] == "tiers-opt"
    return opt(work, *args[1:])


def test_crash_writes_a_reproducer_that_reruns(work: Path):
    r = opt(work, "prog.mlir", "-p", "cse,crash{message=kaboom}", "--load-plugin", WRONG)
    # The plugin's own frames first (tools/opt.py `plugin_traceback`), then the one-line error.
    assert r.returncode == 1 and "tiers-opt: error" in r.stderr
    trace, _, error = r.stderr.partition("tiers-opt: error: ")
    assert trace.startswith("Traceback") and str(WRONG) in trace and "pipeline/" not in trace
    assert error.startswith(
        "pass 'crash{message=\"kaboom\"}' (pass 2 of 2) failed: RuntimeError: kaboom")
    reproducer = work / "prog.reproducer.mlir"
    text = reproducer.read_text()
    assert "// pipeline: cse,crash" in text and text.count("lax.exp") == 1  # after cse
    again = _rerun(work, r.stderr)
    assert again.returncode == 1 and "RuntimeError: kaboom" in again.stderr
    assert "(pass 1 of 1)" in again.stderr


def test_invalid_ir_names_the_pass_and_writes_a_reproducer(work: Path):
    r = opt(work, "prog.mlir", "-p", "cse,drop-return,dce", "--load-plugin", WRONG,
            "--reproducer-dir", "repro")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "(after pass 'drop-return')" in r.stderr
    assert "pass 'drop-return' (pass 2 of 3) failed: it left invalid IR" in r.stderr
    assert (work / "repro" / "prog.reproducer.mlir").exists()
    assert "after pass 'drop-return'" in _rerun(work, r.stderr).stderr
    assert opt(work, "prog.mlir", "-p", "cse,drop-return", "--load-plugin", WRONG,
               "--disable-verify").returncode == 0


def test_verify_semantics_names_the_wrong_pass(work: Path):
    r = opt(work, "prog.mlir", "-p", "cse,double-to-triple,dce", "--load-plugin", WRONG,
            "--verify-semantics")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "pass 'double-to-triple' (pass 2 of 3) failed: it changed the program's values" \
        in r.stderr
    match = re.search(r"output 0\[(\d+)\] on input set 0: (\S+) before, (\S+) after", r.stderr)
    assert match, r.stderr
    before, after = float(match[2]), float(match[3])
    # 2*exp(2x) before, 2*exp(3x) after, for the same generated x.
    x = np.log(before / 2) / 2
    assert after == pytest.approx(2 * np.exp(3 * x), rel=1e-4)
    again = _rerun(work, r.stderr)
    assert "it changed the program's values" in again.stderr and "(pass 1 of 1)" in again.stderr
    ok = opt(work, "prog.mlir", "-p", "O2", "--verify-semantics")
    assert ok.returncode == 0, ok.stderr


# -- from Python ---------------------------------------------------------------------------------


def test_jit_debug_prints_and_times():
    out = io.StringIO()
    debug = pipeline.Debug(print_ir_after=("fuse",), timing=True, stream=out)
    f = tiers.jit(lambda x: jnp.exp(x) * 2.0, pipeline="cse,fuse", debug=debug)
    x = jnp.arange(4.0, dtype=jnp.float32)
    np.testing.assert_allclose(np.asarray(f(x)), np.exp(np.arange(4.0)) * 2, rtol=1e-6)
    text = out.getvalue()
    assert "// -----// IR Dump After fuse //----- //" in text and "fused.kernel" in text
    assert "Execution time report" in text and text.rstrip().endswith("Total")


def test_config_debug_applies_to_every_jit(tmp_path: Path):
    out = io.StringIO()
    with tiers.config.set_debug(pipeline.Debug(print_ir_after_all=True, stream=out)):
        tiers.jit(lambda x: x + 1, pipeline="cse")(jnp.ones(3))
    assert out.getvalue().count("IR Dump After cse") == 1
    tiers.jit(lambda x: x + 2, pipeline="cse")(jnp.ones(3))
    assert out.getvalue().count("IR Dump After cse") == 1  # restored


def test_jit_crash_writes_a_reproducer(tmp_path: Path):
    pipeline.load_plugin(WRONG)

    def model(x):
        return jnp.tanh(x) * 2.0

    f = tiers.jit(model, pipeline="cse,crash{message=kaboom}")  # a plugin pass with options
    with tiers.config.set_reproducer_dir(tmp_path), pytest.raises(RuntimeError,
                                                                 match="kaboom") as info:
        f(jnp.ones(4, jnp.float32))
    note = "\n".join(info.value.__notes__)
    path = tmp_path / "model.reproducer.mlir"
    assert f"reproducer (the input of 'crash{{message=\"kaboom\"}}'): {path}" in note
    assert "lax.tanh" in path.read_text()
    rerun = _rerun(tmp_path, note)
    assert rerun.returncode == 1 and "RuntimeError: kaboom" in rerun.stderr


def test_eager_crash_writes_a_reproducer(tmp_path: Path):
    pipeline.load_plugin(WRONG)
    x = tiers.constant(np.linspace(-1, 1, 4, dtype=np.float32))
    with (tiers.config.set_eager_pipeline("cse,crash{message=eager-kaboom}"),
          tiers.config.set_reproducer_dir(tmp_path),
          pytest.raises(RuntimeError, match="eager-kaboom") as info):
        tiers.numpy.tanh(x)
    note = "\n".join(info.value.__notes__)
    (path,) = tmp_path.glob("*.reproducer.mlir")
    assert str(path) in note and "lax.tanh" in path.read_text()
    rerun = _rerun(tmp_path, note)
    assert rerun.returncode == 1 and "RuntimeError: eager-kaboom" in rerun.stderr


def test_jit_verify_names_the_pass_that_broke_the_ir(tmp_path: Path):
    pipeline.load_plugin(WRONG)
    f = tiers.jit(lambda x: x * 3.0, pipeline="cse,drop-return", verify=True)
    with tiers.config.set_reproducer_dir(tmp_path), pytest.raises(VerifyException) as info:
        f(jnp.ones(2, jnp.float32))
    assert "after pass 'drop-return'" in str(info.value)
    assert "pass 'drop-return' (pass 2 of 2) failed" in "\n".join(info.value.__notes__)


def test_jit_verify_semantics():
    pipeline.load_plugin(WRONG)
    f = tiers.jit(lambda x: jnp.sin(x * 2), pipeline="double-to-triple",
                  debug=pipeline.Debug(verify_semantics=True))
    with pytest.raises(pipeline.PassFailure, match="pass 'double-to-triple' .* changed"):
        f(jnp.ones(3, jnp.float32))
    good = tiers.jit(lambda x: jnp.sin(x * 2), debug=pipeline.Debug(verify_semantics=True))
    np.testing.assert_allclose(np.asarray(good(jnp.ones(3))), np.sin(2.0), rtol=1e-6)
