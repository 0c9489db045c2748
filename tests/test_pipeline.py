"""The `Pipeline` value and the one compile path: parsed once, hashable, printable back, and
verified by the same policy at every entry point (`tiers.pipeline.compile`)."""

from __future__ import annotations

from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from xdsl.utils.exceptions import VerifyException

import tiers
from tiers import pipeline
from tiers.frontend import call, eager
from tiers.pipeline import driver, instrument
from tiers.pipeline.config import SETTINGS
from tiers.pipeline.driver import shared_context
from tiers.pipeline.verify import parse_module

WRONG = Path(__file__).parent / "plugins" / "wrong_plugin.py"

IR = """
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.neg %x : tensor<4xf32>
  %1 = lax.neg %0 : tensor<4xf32>
  func.return %1 : tensor<4xf32>
}
"""


def test_a_pipeline_is_a_value_printable_back_to_its_text():
    p = pipeline.parse("default")
    assert p == pipeline.parse("O2") == pipeline.parse(str(p))  # the canonical text
    assert hash(p) == hash(pipeline.parse(" inline,canonicalize,licm,fold-constants,cse,dce,"
                                          "raise-lax-to-array,fuse "))
    assert p != pipeline.parse("O1") and len({p, pipeline.parse("O2")}) == 1
    assert repr(p) == "Pipeline('default')" and p.spec == "default"
    assert [q.name for q in p][:2] == ["inline", "canonicalize"] and len(p) == 8
    fuse8 = pipeline.parse("fuse{max-ops=8}")
    assert str(fuse8) == "fuse{max_ops=8}" and pipeline.parse(str(fuse8)) == fuse8
    assert fuse8 != pipeline.parse("fuse")
    assert pipeline.parse(p) is p  # a Pipeline passes through
    with pytest.raises(AttributeError, match="immutable"):
        p.text = "cse"  # type: ignore[misc]


def test_parsing_is_cached_per_plugin_set(tmp_path: Path):
    p = pipeline.parse("cse,dce")
    assert pipeline.parse("cse,dce") is p
    generation = SETTINGS.generation
    fresh = tmp_path / "another_plugin.py"
    fresh.write_text("from xdsl.universe import Universe\nUNIVERSE = Universe()\n")
    pipeline.load_plugin(fresh)
    assert SETTINGS.generation == generation + 1
    again = pipeline.parse("cse,dce")
    assert again is not p and again != p  # caches keyed by a Pipeline drop the old entries
    assert pipeline.parse(p) == again  # an old value is parsed again under the new set


def test_jit_options_key_on_the_parsed_pipeline():
    f, g = tiers.jit(lambda x: x + 1, pipeline="O2"), tiers.jit(lambda x: x + 1)
    assert f.tiers_compiler.options == g.tiers_compiler.options  # "O2" is "default"
    assert hash(f.tiers_compiler.options) == hash(g.tiers_compiler.options)
    with pytest.raises(pipeline.PipelineError, match="unknown pass 'no-such-pass'"):
        tiers.jit(lambda x: x, pipeline="cse,no-such-pass")


def test_a_preset_takes_no_options():
    with pytest.raises(pipeline.PipelineError, match="a preset takes no options") as info:
        pipeline.parse("O1{x=1}")
    assert "did you mean" not in str(info.value)


def test_compile_verifies_the_result_without_being_asked():
    pipeline.load_plugin(WRONG)
    module, _ = parse_module(shared_context(), IR, "t")
    with pytest.raises(VerifyException, match="func.return|return"):
        pipeline.compile(module, "cse,drop-return")


@pytest.mark.parametrize("entry", ["jit", "eager", "recompile"])
def test_every_entry_point_names_the_pass_that_broke_the_ir(entry: str, tmp_path: Path):
    pipeline.load_plugin(WRONG)
    assert not SETTINGS.verify_each  # the policy, not TIERS_VERIFY, catches it
    x = jnp.linspace(-1, 1, 4, dtype=jnp.float32)
    with tiers.config.set_reproducer_dir(tmp_path), pytest.raises(VerifyException) as info:
        if entry == "jit":
            tiers.jit(lambda v: v * 3.0, pipeline="cse,drop-return")(x)
        elif entry == "eager":
            with tiers.config.set_eager_pipeline("cse,drop-return"):
                tiers.numpy.tanh(tiers.constant(np.asarray(x)))
        else:
            path = tmp_path / "f.tiers"
            tiers.save(tiers.jit(lambda v: v * 3.0), path, x)
            tiers.load(path).recompile("cse,drop-return")
    assert "after pass 'drop-return'" in str(info.value)


def test_an_empty_pipeline_verifies_nothing_again(monkeypatch):
    calls = []
    monkeypatch.setattr(driver, "verify", lambda *a, **k: calls.append(a))
    module, _ = parse_module(shared_context(), IR, "t")
    pipeline.compile(module, "O0")
    assert calls == []
    pipeline.compile(module, "cse")
    assert len(calls) == 1


def test_verify_each_setting_verifies_after_every_pass(monkeypatch):
    seen = []
    real = instrument.verify
    monkeypatch.setattr(instrument, "verify", lambda m, s, after: seen.append(after) or real(
        m, s, after))
    module, _ = parse_module(shared_context(), IR, "t")
    with tiers.config.set_verify_each(True):
        pipeline.compile(module, "canonicalize,cse,dce")
    assert seen == ["canonicalize", "cse", "dce"]
    assert not SETTINGS.verify_each  # restored


def test_settings_have_one_home():
    with tiers.config.set_eager_pipeline("O1"):
        assert SETTINGS.eager_pipeline == "O1" == tiers.config.eager_pipeline()
    assert SETTINGS.eager_pipeline == "default"
    debug = pipeline.Debug(timing=True)
    with tiers.config.set_debug(debug):
        assert SETTINGS.debug is debug
    assert SETTINGS.debug is None
    with tiers.config.set_eager_cache_size(7):
        assert eager.CACHE.size == 7 == SETTINGS.eager_cache_size
    assert isinstance(call.Options().pipeline, pipeline.Pipeline)
