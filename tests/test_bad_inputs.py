"""The bad-input corpus: malformed, truncated, non-UTF-8, hostile and edge-case inputs, each
with the outcome it must get. The cases are data, `tests/bad_inputs/*.json`; this file only
runs them. Case kinds:

- a command line (`"tool": "tiers-opt"` or `"tiers-run"`), run in-process: `args` with `{file}`
  (the input, written from `text`, `hex`, `path` under bad_inputs/files/ or a `generate`d
  hostile text) and `{out}` (an output path). Expected: exit `status` (default 1), stderr's
  first line matching `error` (a regex), no Python traceback, and the output untouched: with
  `"out": TEXT` an existing output file holding TEXT keeps it, else no file appears. A case
  with `"status": 0` may give `stdout`, a regex the output must match.
- Python (`"python": CODE`), run with `tiers`, `jax`, `jnp`, `np` and `tmp` (a folder) in
  scope: it must raise `raises` (a builtin name or a dotted path) with a message matching
  `match`; `{file}` in CODE is replaced as for command lines.
"""

from __future__ import annotations

import builtins
import importlib
import json
import os
import re
import traceback
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tiers
from tiers.tools import opt, run

HERE = Path(__file__).parent / "bad_inputs"
TOOLS = {"tiers-opt": opt.main, "tiers-run": run.main}


def _cases() -> list[dict[str, Any]]:
    cases = []
    for table in sorted(HERE.glob("*.json")):
        for case in json.loads(table.read_text()):
            case.setdefault("table", table.stem)
            cases.append(case)
    return cases


CASES = _cases()


# -- hostile inputs, generated rather than stored ---------------------------------------------
GENERATORS = {
    "deep_brackets": lambda n: ("func.func @main() -> tensor<1xf32> {\n  %0 = lax.constant "
                                + "[" * n + "1.0" + "]" * n + " : tensor<1xf32>\n"
                                "  func.return %0 : tensor<1xf32>\n}\n"),
    "long_line": lambda n: "// " + "x" * n + "\n",
}


def _input(case: dict[str, Any], folder: Path) -> Path:
    name = case.get("name", "input.mlir")
    path = folder / name
    if "text" in case:
        path.write_text(case["text"])
    elif "hex" in case:
        path.write_bytes(bytes.fromhex(case["hex"]))
    elif "path" in case:
        path.write_bytes((HERE / "files" / case["path"]).read_bytes())
    elif "generate" in case:
        kind, _, n = case["generate"].partition(":")
        path.write_text(GENERATORS[kind](int(n)))
    return path


def _exception_type(name: str) -> type[BaseException]:
    if "." not in name:
        return getattr(builtins, name)
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


@pytest.mark.parametrize("case", CASES, ids=[f"{c['table']}:{c['id']}" for c in CASES])
def test_bad_input(case: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = _input(case, tmp_path)
    out = tmp_path / "out.mlir"
    if "out" in case:
        out.write_text(case["out"])
        mode = out.stat().st_mode
    values = {"file": str(path), "out": str(out), "tmp": str(tmp_path)}
    if "tool" in case:
        _run_tool(case, values, capsys)
    else:
        _run_python(case, values, tmp_path)
    if "out" in case:
        assert out.read_text() == case["out"] and out.stat().st_mode == mode, "output changed"
    elif case.get("status", 1) != 0:
        assert not out.exists(), "a failed run left an output file"
    strays = sorted(p.name for p in tmp_path.iterdir() if p.name not in {path.name, out.name})
    assert strays == case.get("leaves", []), f"files left behind: {strays}"


def _run_tool(case: dict[str, Any], values: dict[str, str],
              capsys: pytest.CaptureFixture[str]) -> None:
    argv = [_fill(a, values) for a in case["args"]]
    status = 0
    try:
        TOOLS[case["tool"]](argv)
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else 1
    except BaseException:  # noqa: BLE001 - the point: no Python exception may escape
        pytest.fail(f"{case['tool']} raised instead of reporting:\n{traceback.format_exc()}")
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, captured.err
    assert status == case.get("status", 1), captured.err
    if "error" in case:
        first = captured.err.strip().splitlines()[0] if captured.err.strip() else ""
        assert re.search(_fill(case["error"], {k: re.escape(v) for k, v in values.items()}),
                         first), f"first line of stderr: {first!r}"
    if "stdout" in case:
        assert re.search(case["stdout"], captured.out), captured.out


def _run_python(case: dict[str, Any], values: dict[str, str], tmp_path: Path) -> None:
    code = _fill(case["python"], values)
    scope = {"tiers": tiers, "jax": jax, "jnp": jnp, "np": np, "tmp": tmp_path, "os": os}
    with pytest.raises(_exception_type(case["raises"]), match=case.get("match")):
        exec(compile(code, f"<case {case['id']}>", "exec"), scope)  # noqa: S102 - test data


def test_the_corpus_is_large_and_every_case_says_what_it_expects():
    assert len(CASES) >= 80
    assert len({(c["table"], c["id"]) for c in CASES}) == len(CASES)
    for c in CASES:
        assert ("tool" in c) != ("python" in c), c["id"]
        assert "error" in c or "raises" in c or c.get("status") == 0, c["id"]
