"""Plugins: the example package (examples/plugin) through stock xdsl-opt, tiers-opt and
tiers.jit; `load_plugin` with a plain .py file; name clashes; the authoring API; pipeline
checks from what passes declare; pipeline error messages."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

import tiers
from tiers import passes, pipeline
from tiers.pipeline import registry as plugins
from tiers.pipeline.config import SETTINGS

BIN = Path(sys.executable).parent
WRONG = Path(__file__).parent / "plugins" / "wrong_plugin.py"
SILU_IR = """\
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.logistic %x : tensor<4xf32>
  %1 = lax.mul %0, %x : tensor<4xf32>
  func.return %1 : tensor<4xf32>
}
"""


def tool(*args: str | Path, stdin: str | None = None, cwd: Path | None = None
         ) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / str(args[0])), *map(str, args[1:])], input=stdin,
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def test_example_plugin_is_installed_as_an_entry_point():
    names = {ep.name: ep.value for ep in entry_points(group="xdsl.universe")}
    assert names.get("silu") == "silu_plugin:UNIVERSE", (
        "examples/plugin is not installed: `make test` installs it "
        "(pip install --no-deps -e examples/plugin)")
    registry = plugins.registry()
    assert registry.pass_providers["silu-raise"].name == "silu"
    assert registry.dialect_providers["silu"].name == "silu"
    assert registry.pass_providers["fuse"].name == "tiers"


@pytest.mark.parametrize("driver", ["xdsl-opt", "tiers-opt"])
def test_plugin_passes_run_in_both_drivers(driver: str):
    raised = tool(driver, "-p", "silu-raise,dce", stdin=SILU_IR)
    assert raised.returncode == 0, raised.stderr
    assert "%0 = silu.silu %x : tensor<4xf32> -> tensor<4xf32>" in raised.stdout
    assert "lax.mul" not in raised.stdout and "lax.logistic" not in raised.stdout
    lowered = tool(driver, "-p", "silu-lower", stdin=raised.stdout)
    assert lowered.returncode == 0, lowered.stderr
    assert "silu.silu" not in lowered.stdout
    assert "lax.logistic %x" in lowered.stdout and "lax.mul %x, %0" in lowered.stdout


def test_plugin_pass_in_jit_runs_the_plugin_op():
    f = tiers.jit(lambda x: jax.nn.silu(x) * 2 + x * jax.nn.sigmoid(x),
                  pipeline="inline,silu-raise,cse,dce")
    x = jnp.linspace(-4.0, 4.0, 16, dtype=jnp.float32)
    text = f.lower(x).as_text("optimized")
    assert text.count("silu.silu") == 1 and "lax.logistic" not in text  # cse shared the two
    expected = 3 * x / (1 + np.exp(-np.asarray(x, np.float64)))
    np.testing.assert_allclose(np.asarray(f(x)), expected, rtol=1e-6, atol=1e-6)


def test_plugin_lowering_round_trips_in_jit():
    f = tiers.jit(lambda x: x * jax.nn.sigmoid(x), pipeline="silu-raise,silu-lower,O1")
    x = jnp.arange(-3.0, 3.0, 0.5, dtype=jnp.float32)
    assert "silu" not in f.lower(x).as_text("optimized")
    np.testing.assert_allclose(np.asarray(f(x)), np.asarray(jax.nn.silu(x)), rtol=1e-6)


def test_plugin_pass_in_eager_pipeline():
    x = tiers.constant(np.linspace(-2, 2, 5, dtype=np.float32))
    with tiers.config.set_eager_pipeline("silu-raise,default"):
        y = tiers.numpy.exp(x)
    np.testing.assert_allclose(np.asarray(y), np.exp(np.linspace(-2, 2, 5)), rtol=1e-6)


def test_load_plugin_file_registers_passes_and_invalidates_caches(tmp_path):
    # A plugin no other test has loaded into this process: a copy of WRONG, renamed.
    fresh = tmp_path / "fresh_plugin.py"
    fresh.write_text(WRONG.read_text().replace('"double-to-triple"', '"fresh-triple"')
                     .replace('"crash"', '"fresh-crash"').replace('"drop-return"',
                     '"fresh-drop-return"').replace('"needs-', '"fresh-needs-')
                     .replace('"drop-stop-gradient"', '"fresh-drop-stop-gradient"'))
    before = pipeline.get_all_passes()
    generation = SETTINGS.generation
    provider = pipeline.load_plugin(fresh)
    assert provider.name == "fresh_plugin" and provider.origin == str(fresh.resolve())
    after = pipeline.get_all_passes()
    assert after is not before and "fresh-triple" in after and "fresh-triple" not in before
    assert SETTINGS.generation != generation  # eager kernels and pipelines key on it
    assert pipeline.load_plugin(str(fresh)) == provider  # loading again changes nothing
    assert pipeline.get_all_passes() is after
    assert pipeline.parse("fresh-triple")[0].name == "fresh-triple"


def test_load_plugin_errors(tmp_path: Path):
    with pytest.raises(pipeline.PluginError, match="does not exist"):
        pipeline.load_plugin(tmp_path / "nope.py")
    (tmp_path / "empty.py").write_text("X = 1\n")
    with pytest.raises(pipeline.PluginError, match="must define UNIVERSE"):
        pipeline.load_plugin(tmp_path / "empty.py")
    with pytest.raises(pipeline.PluginError, match="cannot load plugin 'no_such_module_x'"):
        pipeline.load_plugin("no_such_module_x")


CLASH = """\
from xdsl.universe import Universe
from tiers.passes import pattern_pass
UNIVERSE = Universe(all_passes={{"{name}": lambda: pattern_pass("{name}", [])}},
                    all_dialects={dialects})
"""


@pytest.mark.parametrize("name, dialects, owner, kind", [
    ("fuse", "{}", "tiers", "pass"),
    ("silu-raise", "{}", "silu", "pass"),
    ("my-new-pass", '{"lax": lambda: None}', "tiers", "dialect"),
])
def test_name_clash_names_both_providers(tmp_path: Path, name, dialects, owner, kind):
    path = tmp_path / f"clash_{kind}_{owner}.py"
    path.write_text(CLASH.format(name=name, dialects=dialects))
    clashing = name if kind == "pass" else "lax"
    with pytest.raises(pipeline.PluginError) as info:
        pipeline.load_plugin(path)
    message = str(info.value)
    assert f"{kind} '{clashing}' is registered twice: by '{owner}'" in message
    assert f"and by '{path.stem}' ({path.resolve()})" in message
    assert "my-new-pass" not in pipeline.get_all_passes()  # the failed load left nothing behind


def test_clash_through_tiers_opt(tmp_path: Path):
    path = tmp_path / "fuse_again.py"
    path.write_text(CLASH.format(name="fuse", dialects="{}"))
    result = tool("tiers-opt", "--load-plugin", path, "-p", "fuse", stdin=SILU_IR)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "tiers-opt: error: pass 'fuse' is registered twice: by 'tiers'" in result.stderr


# -- authoring ---------------------------------------------------------------------------------


def test_pattern_pass_with_options_is_a_module_pass():
    from silu_plugin.passes import RaiseSilu

    seen: list[int] = []

    def patterns(p):
        seen.append(p.threshold)
        return [RaiseSilu()]

    cls = passes.pattern_pass("test-silu-threshold", patterns, options={"threshold": 4},
                              requires=("lax",), produces=("silu",))
    assert issubclass(cls, ModulePass) and cls.name == "test-silu-threshold"
    assert passes.contract(cls) == passes.Contract(("lax",), ("silu",), ())
    from xdsl.utils.arg_spec import parse_pipeline

    instance = cls.from_pass_spec(next(iter(parse_pipeline("test-silu-threshold{threshold=7}"))))
    assert instance.threshold == 7 and str(instance.pipeline_pass_spec()) == (
        "test-silu-threshold{threshold=7}")
    module = tiers.pipeline.context.make_context()  # a context, then the module from text
    from tiers.pipeline.verify import parse_module

    mod, _ = parse_module(module, SILU_IR, "t.mlir")
    instance.apply(module, mod)
    assert seen == [7] and [op.name for op in mod.walk()][2] == "silu.silu"


def test_function_pass_options_from_keywords():
    calls: list[tuple[int, bool]] = []

    @passes.function_pass("test-record")
    def record(module: ModuleOp, *, limit: int = 3, flag: bool = False) -> None:
        calls.append((limit, flag))

    from xdsl.utils.arg_spec import parse_pipeline

    p = record.from_pass_spec(next(iter(parse_pipeline("test-record{limit=9 flag=true}"))))
    p.apply(tiers.pipeline.context.make_context(), ModuleOp([]))
    assert calls == [(9, True)] and record.function is not None


# -- pipeline checking and errors --------------------------------------------------------------


def test_jit_rejects_a_pass_needing_fused_before_fuse():
    pipeline.load_plugin(WRONG)
    with pytest.raises(pipeline.PipelineError, match=(
            r"pass 'needs-fused' \(position 1\) requires 'fused' ops, but the input has no "
            r"'fused' ops and 'fuse' creates them only later")):
        tiers.jit(lambda x: x + 1, pipeline="needs-fused,fuse")
    tiers.jit(lambda x: x + 1, pipeline="fuse,needs-fused")  # the right order is fine


def test_rejects_a_pass_needing_a_lowered_dialect():
    pipeline.load_plugin(WRONG)
    with pytest.raises(pipeline.PipelineError, match=(
            "'needs-silu' .* requires 'silu' ops, but 'silu-lower' before it removes")):
        pipeline.parse("silu-raise,silu-lower,needs-silu")
    pipeline.parse("silu-lower,silu-raise,needs-silu")  # raised again: fine
    NeedsArray = passes.pattern_pass("test-needs-array", [], requires=("array",))
    with pytest.raises(pipeline.PipelineError, match="'convert-array-to-lax' before it removes"):
        pipeline.check.check([*pipeline.parse("convert-array-to-lax"), NeedsArray()])


def test_unknown_option_lists_the_options_and_types():
    with pytest.raises(pipeline.PipelineError) as info:
        pipeline.parse("fuse{max-opz=3}")
    assert str(info.value) == ("pass 'fuse': unknown option 'max-opz'; its options: "
                               "max-ops: int = 64, duplicate-cheap: bool = true")
    with pytest.raises(pipeline.PipelineError, match="bad option value .*its options: max-ops"):
        pipeline.parse("fuse{max-ops=many}")


def test_malformed_pipeline_points_at_the_character():
    with pytest.raises(pipeline.PipelineError) as info:
        pipeline.parse("cse,fuse{max-ops=4,dce")
    lines = str(info.value).splitlines()
    assert lines[0].startswith("bad pipeline at column")
    column = int(lines[0].split("column ")[1].split(":")[0])
    assert lines[1] == "  cse,fuse{max-ops=4,dce" and lines[2] == "  " + " " * (column - 1) + "^"


def test_unknown_pass_suggests_a_plugin_pass():
    with pytest.raises(pipeline.PipelineError, match="unknown pass 'silu-rase' .did you mean "
                                                    "'silu-raise'.") as info:
        pipeline.parse("silu-rase")
    assert "silu-lower" in str(info.value)


def test_tiers_may_replace_xdsl_builtins_without_a_clash():
    from xdsl.transforms import get_all_passes as xdsl_passes

    from tiers.universe import TIERS_UNIVERSE

    replaced = sorted(set(passes.tiers_passes()) & set(xdsl_passes()))
    assert replaced, "no xDSL name is replaced: this rule is untested"
    registry = plugins.registry()
    for name in replaced:
        assert registry.pass_providers[name].name == "tiers"
        assert name not in TIERS_UNIVERSE.all_passes  # stock xdsl-opt keeps xDSL's
    # and stock xdsl-opt, which rejects a name given by two universes, still starts:
    result = tool("xdsl-opt", "-p", ",".join(replaced), stdin=SILU_IR)
    assert result.returncode == 0, result.stderr


def test_load_plugin_by_module_name(tmp_path: Path):
    (tmp_path / "my_tiers_ext.py").write_text(
        "from xdsl.universe import Universe\n"
        "from tiers.passes import pattern_pass\n"
        "OTHER = Universe(all_passes={'test-module-pass': "
        "lambda: pattern_pass('test-module-pass', [])})\n")
    # In a fresh process (the module is importable from its cwd only, and a loaded plugin
    # stays loaded for the process).
    script = (
        "import pytest\n"
        "from tiers import pipeline\n"
        "with pytest.raises(pipeline.PluginError, match=\"no attribute 'UNIVERSE'\"):\n"
        "    pipeline.load_plugin('my_tiers_ext:UNIVERSE')\n"
        "provider = pipeline.load_plugin('my_tiers_ext:OTHER')\n"
        "assert provider.name == 'my_tiers_ext', provider\n"
        "assert 'test-module-pass' in pipeline.get_all_passes()\n"
        "assert pipeline.parse('test-module-pass')[0].name == 'test-module-pass'\n")
    result = subprocess.run([sys.executable, "-W", "error", "-c", script], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    # An installed plugin named again on the command line is the same provider, no clash.
    result = tool("tiers-opt", "--load-plugin", "silu_plugin", "-p", "silu-raise", stdin=SILU_IR)
    assert result.returncode == 0 and "silu.silu" in result.stdout, result.stderr


RAISING = '''
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern
from xdsl.universe import Universe

from tiers.dialects import lax
from tiers.passes import pattern_pass


class Broken(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: lax.MulOp, rewriter: PatternRewriter) -> None:
        third_operand(op)


def third_operand(op):
    return op.operands[2]


UNIVERSE = Universe(all_passes={"broken": lambda: pattern_pass("broken", [Broken()])})
'''


def test_tiers_opt_shows_the_traceback_into_a_plugin_pattern(tmp_path: Path):
    """A pattern that raises: its author sees their frames (and only theirs), then the usual
    one-line error with the reproducer to rerun."""
    path = tmp_path / "broken.py"
    path.write_text(RAISING)
    (tmp_path / "in.mlir").write_text(SILU_IR)
    result = tool("tiers-opt", "in.mlir", "--load-plugin", path, "-p", "broken", cwd=tmp_path)
    err = result.stderr
    assert result.returncode == 1
    assert f'File "{path}", line 12, in match_and_rewrite' in err
    assert f'File "{path}", line 16, in third_operand' in err and "op.operands[2]" in err
    assert "IndexError: tuple index out of range" in err
    assert "pipeline/instrument.py" not in err and "xdsl/pattern_rewriter.py" not in err
    assert err.index("Traceback") < err.index("tiers-opt: error:") < err.index("reproducer")
    assert (tmp_path / "in.reproducer.mlir").exists()
