"""Names and locations end to end: `@main`'s parameters and results carry the pytree paths of
their leaves (dialects/names.py) in the IR at every stage, in the StableHLO, in `tiers-run`'s
messages and in saved artifacts; every stage shows the user's lines."""

from __future__ import annotations

import inspect
import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, StringAttr

import tiers
from tiers.dialects import names
from tiers.frontend.call import MODULES
from tiers.pipeline.context import make_context
from tiers.pipeline.verify import parse_module
from tiers.targets import jax as jax_target
from tiers.targets.walk import find_function
from tiers.tools.opt import ToolError
from tiers.tools.run import run as tiers_run

HERE = os.path.basename(__file__)
TIERS = os.path.dirname(os.path.dirname(os.path.abspath(tiers.__file__ or "")))


def model(params: dict[str, jax.Array], x: jax.Array) -> dict[str, Any]:
    y = jnp.tanh(x @ params["w"] + params["b"])
    return {"y": y, "stats": [y.sum(), y.max()]}


PARAMS = {"w": np.ones((3, 2), np.float32), "b": np.zeros(2, np.float32)}
X = np.ones((4, 3), np.float32)
ARGS = ["params['b']", "params['w']", "x"]  # JAX's leaf order: dict keys sorted
RESULTS = ["result['stats'][0]", "result['stats'][1]", "result['y']"]
LINE = inspect.getsourcelines(model)[1] + 1  # `y = jnp.tanh(...)`


@pytest.fixture(scope="module")
def lowered() -> Any:
    return tiers.jit(model).lower(PARAMS, X)


def test_ssa_names_from_paths() -> None:
    assert names.ssa_name("x") == "x"
    assert names.ssa_name("params['w']") == "params.w"
    assert names.ssa_name("params['layers'][0]['w']") == "params.layers.0.w"
    assert names.ssa_name('d["a b"]') == "d.a_b"
    assert names.ssa_name("args[0]") == "args.0"
    assert names.ssa_name("0") == "_0"
    assert names.ssa_name("") is None


@pytest.mark.parametrize("stage", ["import", "optimized"])
def test_parameters_and_results_are_named_at_every_tiers_stage(lowered: Any, stage: str) -> None:
    main = find_function(lowered.compiler_ir(stage), "main")
    assert names.argument_names(main) == ARGS
    assert names.result_names(main) == RESULTS
    plain = lowered.as_text(stage)
    # Without debug info the SSA names say it; with it, the exact paths as locations.
    assert "@main(%params.b: tensor<2xf32>, %params.w: tensor<3x2xf32>, %x: tensor<4x3xf32>)" \
        in plain
    assert '{tiers.name = "result[\'y\']"}' in plain
    debug = lowered.as_text(stage, debug_info=True)
    assert "%params.w: tensor<3x2xf32> loc(\"params['w']\")" in debug
    assert f'loc("{__file__}":{LINE}:' in debug  # the user's line on the ops


def test_names_round_trip_through_text(lowered: Any) -> None:
    text = lowered.as_text("optimized", debug_info=True)
    module, _ = parse_module(make_context(), text.encode(), "m.mlir")
    main = find_function(module, "main")
    assert names.argument_names(main) == ARGS
    assert names.result_names(main) == RESULTS


def test_stablehlo_carries_names_and_user_lines(lowered: Any) -> None:
    text = lowered.as_text(debug_info=True)
    inner = text[text.index("@tiers_main("):]
    head = inner[:inner.index("{\n")]
    for name in ARGS:
        assert f'loc("{name}")' in head, head
    assert 'jax.result_info = "result[\'y\']"' in head
    assert f'"{__file__}":{LINE}:' in text
    # No location points into tiers itself (the `tiers_call` is located at the user's call) or
    # at positions in the parsed text ("-":line:col).
    assert TIERS + os.sep + "frontend" not in text
    assert '"-":' not in text
    call = re.search(r"call @tiers_main\(.*loc\((#loc\d+)\)", text)
    assert call is not None
    assert HERE in _resolve(text, call.group(1))


def _resolve(text: str, alias: str) -> str:
    """The location `#locN` of MLIR text, its aliases expanded."""
    table = dict(re.findall(r"^(#loc\d*) = loc\((.*)\)$", text, re.M))
    loc = table[alias]
    while (inner := re.search(r"#loc\d*", loc)) is not None:
        loc = loc.replace(inner.group(0), table[inner.group(0)], 1)
    return loc


def test_hlo_shows_user_lines_and_parameter_names(lowered: Any) -> None:
    text = lowered.as_text("hlo", debug_info=True)
    assert f'source_file="{__file__}" source_line={LINE}' in text
    assert "op_name=\"params[\\'w\\']\"" in text


def test_names_are_part_of_the_program_key() -> None:
    """Two programs alike but for their parameters' names: each IR names its own (a cache hit
    across them would show the other's names); the same names again are a hit."""
    def f(a: jax.Array) -> jax.Array:
        return jnp.sin(a) * 2.0

    def g(b: jax.Array) -> jax.Array:
        return jnp.sin(b) * 2.0

    x = np.ones(3, np.float32)
    for fn, name in ((f, "a"), (g, "b")):
        main = find_function(tiers.jit(fn).lower(x).compiler_ir("optimized"), "main")
        assert names.argument_names(main) == [name]
    builds = MODULES.builds
    main = find_function(tiers.jit(g).lower(x).compiler_ir("optimized"), "main")
    assert names.argument_names(main) == ["b"]
    assert MODULES.builds == builds


def test_transformed_calls_compile_with_what_names_jax_keeps() -> None:
    f = tiers.jit(lambda p, x: jnp.sum(jnp.tanh(x @ p["w"])))
    g = jax.grad(f)(PARAMS, X)
    np.testing.assert_allclose(g["w"], jax.grad(lambda p, x: jnp.sum(jnp.tanh(x @ p["w"])))(
        PARAMS, X)["w"], rtol=1e-6)
    out = jax.vmap(tiers.jit(model), in_axes=(None, 0))(PARAMS, np.stack([X, X]))
    assert out["y"].shape == (2, 4, 2)


def test_emission_names_hand_written_parameters() -> None:
    module, _ = parse_module(make_context(), b"""
func.func @main(%x: tensor<3xf32>, %0: tensor<3xf32>) -> tensor<3xf32> {
  %1 = lax.add %x, %0 : tensor<3xf32>
  func.return %1 : tensor<3xf32>
}""", "m.mlir")
    text = jax_target.stablehlo_text(module)
    assert re.search(r'@main\(%\w+: tensor<3xf32> loc\("x"\), %\w+: tensor<3xf32> '
                     r'loc\(unknown\)\)', text), text


def test_merged_attributes_keep_names() -> None:
    named = ArrayAttr([DictionaryAttr({names.NAME: StringAttr("result")})])
    both = names.merged(named, [DictionaryAttr({"tiers.sharding": StringAttr("s")})])
    assert set(both.data[0].data) == {names.NAME, "tiers.sharding"}


def test_tiers_run_names_the_parameters(lowered: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.mlir"
    path.write_text(lowered.as_text("optimized", debug_info=True))
    with pytest.raises(ToolError) as e:
        tiers_run([str(path), "-i", "ones"])
    assert str(e.value) == (
        "tiers-run: error: @main takes 3 input(s) (params['b']: tensor<2xf32>, "
        "params['w']: tensor<3x2xf32>, x: tensor<4x3xf32>), got 1")
    with pytest.raises(ToolError, match=r"input 2 \(params\['w'\] = \[1, 2\]\): expected shape "
                       r"3x2"):
        tiers_run([str(path), "-i", "zeros", "-i", "[1, 2]", "-i", "ones"])


def test_saved_signatures_name_the_leaves(tmp_path: Path) -> None:
    path = tmp_path / "m.tiers"
    tiers.save(model, path, PARAMS, X)
    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read("manifest.json"))
        imported = z.read("imported.mlir").decode()
    signature = manifest["signature"]
    assert [leaf["name"] for leaf in signature["inputs"]["leaves"]] == ARGS
    assert [leaf["name"] for leaf in signature["outputs"]["leaves"]] == RESULTS
    assert "loc(\"params['w']\")" in imported and f'"{__file__}":{LINE}:' in imported
    loaded = tiers.load(path)
    with pytest.raises(tiers.ArtifactError, match=r"params\['w'\] must be float32\[3, 2\], got "
                       r"float32\[2, 3\]"):
        loaded({**PARAMS, "w": PARAMS["w"].T}, X)
    with pytest.raises(ToolError, match=r"takes 3 input\(s\) \(params\['b'\]: tensor<2xf32>, "
                       r"params\['w'\]: tensor<3x2xf32>, x: tensor<4x3xf32>\), got 1"):
        tiers_run([str(path), "-i", "ones"])
