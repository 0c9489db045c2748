"""User-facing tracebacks (frontend/tracebacks.py) and trimmed lists of names in errors
(pipeline/messages.py).

An error the user caused shows the user's frames: tiers' own (`frontend/jit.py`'s `trace`,
`_bind`, `flat_fn`, the eager dispatch, `Session.run`, ...) are dropped the way JAX drops its
own, and come back with `jax_traceback_filtering=off` or `TIERS_TRACEBACK_FILTERING=off`. A bug
in tiers keeps its whole traceback. Messages that list known names (passes, primitives) list the
closest few and a count.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import pytest
from jax._src import traceback_util

import tiers
import tiers.numpy as tnp
from tiers import pipeline
from tiers.frontend import tracebacks
from tiers.frontend.errors import CarriedTypeError, TracedBoolConversionError
from tiers.frontend.importer import UnsupportedPrimitive
from tiers.pipeline.messages import closest
from tiers.tools.opt import ToolError, check_pass_names

HERE = os.path.abspath(__file__)
ROOT = os.path.dirname(os.path.dirname(HERE))
JIT_PY = os.path.join(ROOT, "frontend", "jit.py")


def frames(e: BaseException) -> list[traceback.FrameSummary]:
    return list(traceback.extract_tb(e.__traceback__))


def files(e: BaseException) -> list[str]:
    return [os.path.abspath(f.filename) for f in frames(e)]


def formatted(e: BaseException) -> str:
    return "".join(traceback.format_exception(e))


def tiers_frames(e: BaseException) -> list[str]:
    """The frames of tiers' library in `e`'s traceback (its tests are user code)."""
    return [f for f in files(e) if tracebacks.is_library_file(f)]


def raised(fn: Any, *args: Any, **kwargs: Any) -> BaseException:
    try:
        fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the test looks at whatever was raised
        return e
    raise AssertionError("nothing was raised")


@contextlib.contextmanager
def jax_filtering(mode: str) -> Iterator[None]:
    old = jax.config.jax_traceback_filtering  # type: ignore[attr-defined]
    jax.config.update("jax_traceback_filtering", mode)
    try:
        yield
    finally:
        jax.config.update("jax_traceback_filtering", old)


@contextlib.contextmanager
def tiers_filtering_off() -> Iterator[None]:
    tracebacks.set_filtering(False)
    try:
        yield
    finally:
        tracebacks.set_filtering(True)


# -- tiers.jit: JAX's boundary, tiers' frames registered with it ------------------------------


def _bad_matmul(x: jax.Array) -> jax.Array:
    return x @ jnp.ones((5, 2))  # MARK-MATMUL


def _branchy(x: jax.Array) -> jax.Array:
    if x.sum() > 0:  # MARK-IF
        return x
    return -x


def test_jit_shape_error_shows_the_users_frames_only() -> None:
    e = raised(tiers.jit(_bad_matmul), jnp.ones((4, 3)))
    assert isinstance(e, TypeError) and "dot_general" in str(e)
    text = formatted(e)
    assert f'File "{HERE}"' in text and "in _bad_matmul" in text
    assert "MARK-MATMUL" in text  # the user's line, with its source
    assert JIT_PY not in text and tiers_frames(e) == []
    assert files(e)[0] == HERE  # the call in this test, then the user's function


def test_jit_traced_bool_keeps_the_users_frame() -> None:
    # JAX's ConcretizationTypeError shows the `if`; tiers' explanation of it does too (it used
    # to show only `_explained` and contextlib).
    e = raised(tiers.jit(_branchy), jnp.ones(3))
    assert isinstance(e, TracedBoolConversionError)
    assert isinstance(e, jax.errors.TracerBoolConversionError)
    names = [(os.path.abspath(f.filename), f.name) for f in frames(e)]
    assert (HERE, "_branchy") in names
    assert "MARK-IF" in (frames(e)[-1].line or "")  # the innermost frame is the `if`
    assert tiers_frames(e) == [] and "contextlib" not in formatted(e)
    # A located message: one first line, `file:line: source`.
    first = str(e).splitlines()[0]
    assert first == f"{HERE}:{_line_of('MARK-IF')}: if x.sum() > 0:  # MARK-IF"


def test_jit_carried_type_error_keeps_the_users_frame() -> None:
    def loop(x: jax.Array) -> jax.Array:
        return jax.lax.fori_loop(0, 3, lambda i, c: c.astype(jnp.int32), x)  # MARK-LOOP

    e = raised(tiers.jit(loop), jnp.ones(3))
    assert isinstance(e, CarriedTypeError)
    assert any(f.name == "loop" and os.path.abspath(f.filename) == HERE for f in frames(e))
    assert tiers_frames(e) == []
    first = str(e).splitlines()[0]  # located: `file:line: source` on the first line
    assert first.startswith(f"{HERE}:{_line_of('MARK-LOOP')}: return jax.lax.fori_loop(")


def test_jax_filtering_off_shows_every_frame() -> None:
    with jax_filtering("off"):
        e = raised(tiers.jit(_bad_matmul), jnp.ones((4, 3)))
    text = formatted(e)
    assert JIT_PY in text and "in _bind" in text and "in flat_fn" in text
    assert "pjit.py" in text  # JAX's own too


def test_tiers_filtering_off_shows_tiers_frames_not_jaxs() -> None:
    with tiers_filtering_off():
        e = raised(tiers.jit(_bad_matmul), jnp.ones((4, 3)))
        e2 = raised(tnp.add, tiers.Tensor(jnp.ones(3)), tiers.Tensor(jnp.ones(4)))
    assert JIT_PY in formatted(e) and "in _bind" in formatted(e)
    assert "jax/_src/pjit.py" not in formatted(e)  # JAX still drops its own
    assert "eager.py" in formatted(e2) and "in eager_op" in formatted(e2)
    # Back on: gone again.
    assert tiers_frames(raised(tiers.jit(_bad_matmul), jnp.ones((4, 3)))) == []


def test_tiers_traceback_filtering_environment_variable(tmp_path: Path) -> None:
    script = tmp_path / "user.py"
    script.write_text(textwrap.dedent("""
        import jax.numpy as jnp
        import tiers

        @tiers.jit
        def f(x):
            return x @ jnp.ones((5, 2))

        f(jnp.ones((4, 3)))
    """))
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    quiet = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                           env=env, cwd=tmp_path)
    loud = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env={**env, "TIERS_TRACEBACK_FILTERING": "off"}, cwd=tmp_path)
    for run in (quiet, loud):
        assert run.returncode == 1 and "dot_general requires" in run.stderr
        assert f'File "{script}", line 7, in f' in run.stderr
    assert "frontend/jit.py" not in quiet.stderr
    assert "frontend/jit.py" in loud.stderr and "in _bind" in loud.stderr


# -- tiers' own boundaries: eager ops, Session.run, grad, load ----------------------------------


def test_eager_shape_error_shows_the_users_frames_only() -> None:
    a, b = tiers.Tensor(jnp.ones(3)), tiers.Tensor(jnp.ones(4))

    def user() -> Any:
        return tnp.add(a, b)  # MARK-EAGER

    e = raised(user)
    assert "incompatible shapes" in str(e)
    assert tiers_frames(e) == []
    assert [f.name for f in frames(e) if os.path.abspath(f.filename) == HERE] == [
        "raised", "user"]
    # One note, saying how to see everything (JAX's own note, from the inner make_jaxpr, is
    # replaced by it).
    notes = getattr(e, "__notes__", [])
    assert notes == [tracebacks.NOTE]
    assert "TIERS_TRACEBACK_FILTERING=off" in notes[0]


def test_eager_error_inside_jax_jit_is_filtered_by_jax() -> None:
    def f(x: jax.Array) -> Any:
        return tnp.add(tiers.Tensor(x), jnp.ones(4))

    e = raised(jax.jit(f), jnp.ones(3))
    assert "incompatible shapes" in str(e)
    assert tiers_frames(e) == []
    assert any(f.name == "f" for f in frames(e))


def test_lazy_recording_error_is_filtered() -> None:
    with tiers.lazy():
        e = raised(tnp.add, tiers.Tensor(jnp.ones(3)), tiers.Tensor(jnp.ones(4)))
    assert "incompatible shapes" in str(e) and tiers_frames(e) == []


def test_session_run_bad_feed_shows_the_users_frame() -> None:
    g = tiers.Graph()
    with g.as_default():
        x = tiers.placeholder(np.float32, (3,))
        y = tnp.sin(x) * 2
    with tiers.Session(g) as s:
        e = raised(s.run, y, {x: np.ones(4, np.float32)})
    assert isinstance(e, ValueError) and "cannot feed" in str(e)
    assert tiers_frames(e) == [] and files(e) == [HERE]
    assert not hasattr(e, "__notes__")  # tiers' own error: its message is the whole answer


def test_grad_shape_error_shows_the_users_frames() -> None:
    def loss(w: jax.Array) -> jax.Array:
        return jnp.sum(w @ jnp.ones((5, 2)))

    e = raised(tiers.grad(loss), tiers.Tensor(jnp.ones((4, 3))))
    assert "dot_general" in str(e)
    assert tiers_frames(e) == []
    assert any(f.name == "loss" for f in frames(e))


def test_load_of_a_missing_file_is_one_frame(tmp_path: Path) -> None:
    e = raised(tiers.load, tmp_path / "missing.tiers")
    assert "cannot read" in str(e)
    assert files(e) == [HERE] and "contextlib" not in formatted(e)


def test_remove_frames_mode_keeps_the_full_traceback_as_the_cause() -> None:
    with jax_filtering("remove_frames"):
        e = raised(tnp.add, tiers.Tensor(jnp.ones(3)), tiers.Tensor(jnp.ones(4)))
    assert tiers_frames(e) == []
    cause = e.__cause__
    assert isinstance(cause, traceback_util.UnfilteredStackTrace)
    assert any(f.endswith(os.path.join("frontend", "eager.py")) for f in files(cause))


# -- tiers' bugs keep their frames ----------------------------------------------------------------


def test_internal_error_keeps_the_full_traceback() -> None:
    cse = pipeline.get_all_passes()["cse"]()

    def broken(self: Any, ctx: Any, module: Any) -> None:
        raise AssertionError("a bug in a pass")

    with mock.patch.object(cse, "apply", broken):
        e = raised(tnp.sin, tiers.Tensor(jnp.ones((7, 11, 3))))  # a shape no kernel has
    assert isinstance(e, AssertionError)
    assert tracebacks.is_internal(e)
    text = formatted(e)
    assert os.path.join("frontend", "eager.py") in text and "in broken" in text
    assert tracebacks.NOTE not in getattr(e, "__notes__", [])


def test_is_internal() -> None:
    def tiers_raises(kind: type[Exception]) -> BaseException:
        # Compiled as if it were a file of tiers' library.
        code = compile(f"def f():\n    raise {kind.__name__}('x')\n",
                       os.path.join(ROOT, "passes", "fake.py"), "exec")
        scope: dict[str, Any] = {}
        exec(code, scope)
        return raised(scope["f"])

    assert tracebacks.is_internal(tiers_raises(AssertionError))
    assert tracebacks.is_internal(tiers_raises(KeyError))
    assert not tracebacks.is_internal(tiers_raises(ValueError))  # tiers' word to the user
    assert not tracebacks.is_internal(raised(lambda: {}["user's own KeyError"]))
    marked = ValueError("a pass failed")
    marked.tiers_pass = "cse"  # type: ignore[attr-defined]  # what pipeline/instrument.py sets
    assert tracebacks.is_internal(marked)
    assert tracebacks.is_library_file(JIT_PY)
    assert not tracebacks.is_library_file(HERE)
    assert not tracebacks.is_library_file(os.path.join(ROOT, "examples", "x.py"))
    assert not tracebacks.is_library_file(os.path.join(ROOT, "benchmarks", "eager.py"))


# -- trimmed lists of names -----------------------------------------------------------------------


def test_closest_names() -> None:
    many = [f"pass-{i}" for i in range(40)] + ["canonicalize", "cse"]
    text = closest("canonicalise", many, "see the list")
    assert text == "canonicalize and 41 more (see the list)"
    assert closest("zzz", many, "see the list") == "42 known, none close to 'zzz' (see the list)"
    assert closest("x", ["b", "a"], "unused") == "a, b"  # a short list is shown whole


def test_unknown_pass_names_the_closest_and_a_count() -> None:
    n = len(pipeline.get_all_passes())
    e = raised(tiers.jit, lambda x: x, pipeline="cse,canonicalise")
    assert isinstance(e, pipeline.PipelineError)
    message = str(e)
    assert "unknown pass 'canonicalise' (did you mean 'canonicalize'?)" in message
    passes = message.splitlines()[-1]
    assert passes.startswith("passes: canonicalize, ")
    assert "more (tiers-opt --list-passes lists them all)" in passes
    assert "apply-eqsat-pdl" not in message and len(passes) < 200
    shown = passes.removeprefix("passes: ").split(" and ")[0].split(", ")
    assert f" and {n - len(shown)} more " in passes
    far = str(raised(tiers.jit, lambda x: x, pipeline="bogus")).splitlines()[-1]
    assert far == (f"passes: {n} known, none close to 'bogus' "
                   "(tiers-opt --list-passes lists them all)")


def test_tiers_opt_pass_flags_name_the_closest() -> None:
    e = raised(check_pass_names, "--print-ir-before", ["cs"])
    assert isinstance(e, ToolError)
    assert str(e).splitlines() == [
        "tiers-opt: error: --print-ir-before: unknown pass 'cs' (did you mean 'cse'?)",
        f"passes: cse and {len(pipeline.get_all_passes()) - 1} more "
        "(tiers-opt --list-passes lists them all)"]


def test_unsupported_primitive_names_the_closest_primitives() -> None:
    # A primitive of the user's with a function as a param and no lowering: neither tiers nor
    # JAX can compile it.
    prim = jax.extend.core.Primitive("reduce_window_mine")
    prim.def_abstract_eval(lambda x, *, fn: x)

    def window(x: jax.Array) -> jax.Array:
        return prim.bind(x, fn=lambda a: a)  # MARK-WIN

    e = raised(tiers.jit(window), jnp.ones((4, 4)))
    assert isinstance(e, UnsupportedPrimitive)
    message = str(e)
    assert len(message.splitlines()) == 1  # located, one line
    where, _, rest = message.partition(": ")
    line = _line_of("MARK-WIN")
    assert where.endswith(f":{line}") and os.path.samefile(where.rsplit(":", 1)[0], HERE)
    assert rest.startswith("tiers cannot import primitive 'reduce_window_mine'")
    supported = message.split("Supported primitives: ")[1].split(" more (")[0]
    assert supported.startswith("reduce_window") and " and " in supported
    assert "more (docs/primitive-coverage.md lists them all)" in message
    assert "cumsum" not in message and len(message) < 600
    assert files(e) == [HERE]


def test_tiers_opt_list_passes(capsys: pytest.CaptureFixture[str]) -> None:
    from tiers.tools.opt import main

    with pytest.raises(SystemExit) as info:
        main(["--list-passes"])
    assert info.value.code == 0
    listed = capsys.readouterr().out.split()
    assert listed == sorted(pipeline.get_all_passes())
    assert {"cse", "canonicalize", "fuse", "inline"} <= set(listed)


def _line_of(mark: str) -> int:
    with open(HERE) as f:
        return next(i for i, line in enumerate(f, 1) if mark in line and "_line_of" not in line)
