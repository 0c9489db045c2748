"""`tiers-opt` and `tiers-run` as a user meets them: exit codes, messages, no tracebacks."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import jax
import numpy as np
import pytest
from xdsl.dialects.builtin import TensorType, f32
from xdsl.utils.exceptions import VerifyException

from tiers.dialects import lax
from tiers.pipeline.context import make_context
from tiers.pipeline.verify import parse_module, verify
from tiers.tools import opt, run
from tiers.tools.run import parse_element_type, parse_literal, read_input

BIN = Path(sys.executable).parent

GOOD = """\
func.func @main(%x: tensor<3xf32>, %y: tensor<3xf32>) -> (tensor<3xf32>, tensor<f32>) {
  %0 = lax.mul %x, %y : tensor<3xf32>
  %1 = lax.reduce_sum %0 axes [0] : tensor<3xf32> -> tensor<f32>
  func.return %0, %1 : tensor<3xf32>, tensor<f32>
}
func.func private @helper(%x: tensor<2xi32>) -> tensor<2xi32> {
  %0 = lax.add %x, %x : tensor<2xi32>
  func.return %0 : tensor<2xi32>
}
"""
MALFORMED = """\
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.add %x, %x : tensor<4xf32>
  %1 = lax.exp %0 tensor<4xf32>
  func.return %1 : tensor<4xf32>
}
"""
INVALID = """\
func.func @main(%x: tensor<4xf32>) -> tensor<3xf32> {
  %0 = lax.add %x, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<3xf32>
  func.return %0 : tensor<3xf32>
}
"""
WIDE = """\
func.func @main(%x: tensor<2xf64>) -> tensor<2xf64> {
  %0 = lax.mul %x, %x : tensor<2xf64>
  func.return %0 : tensor<2xf64>
}
"""


# The tools' entry points (pyproject's console scripts), run in this process: a Python start
# and `import jax` per call made this file the slowest of the suite. A plugin would stay
# loaded in this process, so a command line with `--load-plugin` runs as a subprocess, as do
# the tests of the installed scripts themselves (test_installed_scripts).
ENTRY_POINTS: dict[str, Callable[[list[str]], None]] = {"tiers-opt": opt.main,
                                                        "tiers-run": run.main}


def tool(name: str, *args: str | Path, cwd: Path | None = None,
         subprocess_: bool = False) -> subprocess.CompletedProcess:
    argv = [str(a) for a in args]
    if subprocess_ or "--load-plugin" in argv:
        return subprocess.run([str(BIN / name), *argv], capture_output=True, text=True,
                              cwd=cwd, timeout=120)
    out, err, code = io.StringIO(), io.StringIO(), 0
    x64 = jax.config.read("jax_enable_x64")  # tiers-run turns it on for 64-bit IR: put back
    with contextlib.chdir(cwd or Path.cwd()), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        try:
            ENTRY_POINTS[name](argv)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except Exception:  # what a user would see as a traceback: `failed` rejects it
            traceback.print_exc()
            code = 1
        finally:
            jax.config.update("jax_enable_x64", x64)
    return subprocess.CompletedProcess([name, *argv], code, out.getvalue(), err.getvalue())


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_installed_scripts(name: str, files: Path) -> None:
    """The console scripts themselves, once each: a run and a failure."""
    good = tool(name, files / "good.mlir", *(["--input", "[1, 2, 3]", "--input", "[1, 2, 3]"]
                                             if name == "tiers-run" else []), subprocess_=True)
    assert good.returncode == 0, good.stderr
    assert "Traceback" not in failed(tool(name, files / "malformed.mlir", subprocess_=True))


def failed(result: subprocess.CompletedProcess) -> str:
    """stderr of a run that must have failed cleanly: exit code 1, no traceback."""
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for name, text in {"good.mlir": GOOD, "malformed.mlir": MALFORMED,
                       "invalid.mlir": INVALID, "wide.mlir": WIDE}.items():
        (tmp_path / name).write_text(text)
    return tmp_path


# ---------------------------------------------------------------------------------------
# tiers-opt
# ---------------------------------------------------------------------------------------


def test_opt_malformed_ir_is_one_located_diagnostic(files: Path):
    err = failed(tool("tiers-opt", "malformed.mlir", cwd=files))
    assert err.startswith("malformed.mlir:3:19: error: 'lax.exp' has no property 'tensor'")
    assert err.count("error:") == 1
    assert "  %1 = lax.exp %0 tensor<4xf32>\n" in err  # the source line, with a caret below


def test_opt_verifier_failure_points_at_the_op(files: Path):
    err = failed(tool("tiers-opt", "invalid.mlir", cwd=files))
    assert err.startswith(
        "invalid.mlir:2:3: error: 'lax.add': operand shape (4,) differs from result shape (3,)")
    assert err.count("error:") == 1


def test_opt_unknown_pass_lists_passes_and_presets(files: Path):
    err = failed(tool("tiers-opt", "good.mlir", "-p", "cse,inlin", cwd=files))
    assert "tiers-opt: error: unknown pass 'inlin' (did you mean 'inline'?)" in err
    assert "presets: O0" in err and "O1 = " in err and "default = " in err
    assert "canonicalize" in err and "inline" in err and "dce" in err


def test_opt_bad_pipeline_syntax(files: Path):
    err = failed(tool("tiers-opt", "good.mlir", "-p", "cse{", cwd=files))
    # The message, then the pipeline, then a caret under the column.
    assert err.splitlines()[:3] == [
        "tiers-opt: error: bad pipeline at column 5: Expected argument name here",
        "  cse{", "      ^"]


def test_opt_bad_pass_option(files: Path):
    err = failed(tool("tiers-opt", "good.mlir", "-p", "cse{nope=1}", cwd=files))
    assert "tiers-opt: error: pass 'cse': unknown option 'nope'; its options: (none)" in err
    err = failed(tool("tiers-opt", "good.mlir", "-p", "fuse{max-ops=x}", cwd=files))
    assert "tiers-opt: error: pass 'fuse': bad option value" in err
    assert "its options: max-ops: int = 64, duplicate-cheap: bool = true" in err


def test_opt_missing_file(files: Path):
    err = failed(tool("tiers-opt", "nope.mlir", cwd=files))
    assert "tiers-opt: error: cannot read 'nope.mlir': No such file or directory" in err


@pytest.mark.parametrize("pipeline", ["O0", "O1", "default", "inline,O1", "canonicalize,cse"])
def test_opt_presets_and_pass_lists(files: Path, pipeline: str):
    result = tool("tiers-opt", "good.mlir", "-p", pipeline, cwd=files)
    assert result.returncode == 0, result.stderr
    assert "lax.reduce_sum" in result.stdout


def test_opt_version():
    result = tool("tiers-opt", "--version")
    assert result.returncode == 0
    assert result.stdout.startswith("tiers-opt 0.1.0 (xDSL 0.74.0)")


def test_verify_names_the_pass_after_which_it_failed():
    module, spans = parse_module(make_context(), GOOD, "good.mlir")
    reduce = next(op for op in module.walk() if op.name == "lax.reduce_sum")
    reduce.properties["axes"] = lax.ints([5])  # what a buggy pass might do
    with pytest.raises(VerifyException, match=r"^good.mlir:3:3: error: 'lax.reduce_sum': axes "
                       r"\[5\] must be distinct and in \[0, 1\) \(after pass 'buggy'\)"):
        verify(module, spans, after="buggy")


def test_verify_without_spans_points_at_the_source_location():
    # Without the input's spans (IR built in memory) the diagnostic is at the op's
    # `loc(...)`: xDSL's FileLineColLoc, whose line and column are IntAttrs.
    text = """\
func.func @main(%x: tensor<3xf32>) -> tensor<f32> {
  %0 = lax.reduce_sum %x axes [5] : tensor<3xf32> -> tensor<f32> loc("model.py":12:3)
  func.return %0 : tensor<f32>
}
"""
    module, _ = parse_module(make_context(), text, "in-memory.mlir")
    with pytest.raises(VerifyException, match=r"^model.py:12:3: error: 'lax.reduce_sum': axes "
                       r"\[5\] must be distinct"):
        verify(module)


# ---------------------------------------------------------------------------------------
# tiers-run
# ---------------------------------------------------------------------------------------


def test_run_prints_outputs(files: Path):
    result = tool("tiers-run", "good.mlir", "--input", "[1, 2, 3]", "--input", "ones",
                  cwd=files)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "array([1., 2., 3.], dtype=float32)\narray(6., dtype=float32)\n"


def test_run_writes_npz_and_npy(files: Path):
    np.save(files / "x.npy", np.arange(3, dtype=np.float32))
    result = tool("tiers-run", "good.mlir", "-i", "x.npy", "-i", "[2,2,2]", "-o", "out.npz",
                  cwd=files)
    assert result.returncode == 0, result.stderr
    with np.load(files / "out.npz") as out:
        assert out.files == ["out0", "out1"]
        np.testing.assert_array_equal(out["out0"], [0, 2, 4])
        assert out["out1"] == 6
    # A .npz file stands for all its arrays, in order.
    np.savez(files / "xy.npz", x=np.ones(3, np.float32), y=np.full(3, 2, np.float32))
    result = tool("tiers-run", "good.mlir", "-i", "xy.npz", cwd=files)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("array(6., dtype=float32)\n")
    result = tool("tiers-run", "good.mlir", "--entry", "helper", "-i", "[3, 4]", "-o", "h.npy",
                  cwd=files)
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.load(files / "h.npy"), np.array([6, 8], np.int32))


def test_run_with_a_pipeline_and_64_bits(files: Path):
    result = tool("tiers-run", "wide.mlir", "-i", "[0.1, 3]", "-p", "O1", cwd=files)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{np.array([0.1, 3.0]) ** 2!r}\n"  # float64, not float32


def test_run_malformed_ir(files: Path):
    err = failed(tool("tiers-run", "malformed.mlir", "-i", "ones", cwd=files))
    assert err == ("malformed.mlir:3:19: error: 'lax.exp' has no property 'tensor' "
                   "(it has: none); the types follow a ':'\n")


def test_run_invalid_ir(files: Path):
    err = failed(tool("tiers-run", "invalid.mlir", "-i", "ones", cwd=files))
    assert err == ("invalid.mlir:2:3: error: 'lax.add': operand shape (4,) differs from "
                   "result shape (3,)\n")


def test_run_unknown_entry_lists_functions(files: Path):
    err = failed(tool("tiers-run", "good.mlir", "--entry", "nope", cwd=files))
    assert err == ("tiers-run: error: no function @nope in good.mlir "
                   "(functions: @main, @helper)\n")


@pytest.mark.parametrize("inputs, got", [([], 0), (["ones"], 1), (["1", "2", "3"], 3)])
def test_run_wrong_number_of_inputs(files: Path, inputs: list[str], got: int):
    args = [a for i in inputs for a in ("--input", i)]
    err = failed(tool("tiers-run", "good.mlir", *args, cwd=files))
    assert err == ("tiers-run: error: @main takes 2 input(s) (x: tensor<3xf32>, y: tensor<3xf32>), "
                   f"got {got}\n")


def test_run_wrong_shape(files: Path):
    err = failed(tool("tiers-run", "good.mlir", "-i", "ones", "-i", "[[1, 2, 3]]", cwd=files))
    assert err == ("tiers-run: error: input 2 (y = [[1, 2, 3]]): expected shape 3 "
                   "(tensor<3xf32>), got 1x3\n")


def test_run_wrong_dtype(files: Path):
    np.save(files / "d.npy", np.zeros(3))  # float64
    err = failed(tool("tiers-run", "good.mlir", "-i", "d.npy", "-i", "ones", cwd=files))
    assert err == ("tiers-run: error: input 1 (x = d.npy): expected element type f32 "
                   "(tensor<3xf32>), got f64 (float64)\n")
    err = failed(tool("tiers-run", "good.mlir", "-i", "ones", "-i", "[1, 2, 3]:i32", cwd=files))
    assert "input 2 (y = [1, 2, 3]:i32): expected element type f32 (tensor<3xf32>), got i32" in err


def test_run_missing_input_file(files: Path):
    err = failed(tool("tiers-run", "good.mlir", "-i", "nope.npy", "-i", "ones", cwd=files))
    assert err == "tiers-run: error: input 1: cannot read 'nope.npy': No such file or directory\n"


def test_run_missing_ir_file(files: Path):
    err = failed(tool("tiers-run", "nope.mlir", cwd=files))
    assert err == "tiers-run: error: cannot read 'nope.mlir': No such file or directory\n"


def test_run_bad_literal_and_output(files: Path):
    err = failed(tool("tiers-run", "good.mlir", "-i", "[1, 2", "-i", "ones", cwd=files))
    assert err.startswith("tiers-run: error: input 1: cannot read '[1, 2'")
    err = failed(tool("tiers-run", "good.mlir", "-i", "ones", "-i", "ones", "-o", "o.npy",
                      cwd=files))
    assert "@main has 2 outputs; write them to a .npz file" in err


# Inline inputs, in process (no JAX computation happens here).

F32x3 = TensorType(f32, [3])


@pytest.mark.parametrize("text, value", [
    ("3", 3), ("-1.5", -1.5), ("true", True), ("[1, -2]", [1, -2]), ("(1, 2)", [1, 2]),
    ("[[inf, -inf]]", [[np.inf, -np.inf]]),
])
def test_parse_literal(text: str, value):
    assert parse_literal(text) == value


@pytest.mark.parametrize("text", ["[1, 2", "x", "1 + 2", "'a'", "-true", "{1: 2}"])
def test_parse_literal_rejects(text: str):
    with pytest.raises(ValueError):
        parse_literal(text)


@pytest.mark.parametrize("text, dtype", [
    ("f32", np.float32), ("bf16", "bfloat16"), ("i1", np.bool_), ("ui8", np.uint8),
    ("float64", np.float64), ("int16", np.int16),
])
def test_parse_element_type(text: str, dtype):
    import ml_dtypes  # noqa: F401 - registers bfloat16 with numpy

    assert parse_element_type(text) == np.dtype(dtype)


def test_untyped_literals_take_the_parameter_type():
    [(array, _)] = read_input("[1, 2, 3]", 1, F32x3)
    assert array.dtype == np.float32
    [(array, _)] = read_input("iota", 1, TensorType(f32, [2, 2]))
    np.testing.assert_array_equal(array, [[0, 1], [2, 3]])
