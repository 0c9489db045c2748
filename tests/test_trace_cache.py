"""The trace level of the persistent cache (frontend/pretrace.py, frontend/fingerprint.py):
calls keyed before tracing. A hit gives jax.jit's numbers and skips the trace; each change of
what the function can read is a miss; what cannot be fingerprinted is traced, with the reason;
transformations around a hit see the user's program; bad entries are warned misses."""

from __future__ import annotations

import functools
import importlib
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tiers
from tiers.frontend.fingerprint import NoKey, function_print
from tiers.pipeline.cache import PROGRAMS, CacheWarning

X = np.linspace(-1.0, 1.0, 8, dtype=np.float32)
Y = np.linspace(0.5, 2.0, 8, dtype=np.float32)
SCALE = 2.0  # a global the functions read


def _make(c: float = 0.5) -> Callable[..., Any]:
    """A fresh function object each call: the same key, a new `jax.jit` trace."""

    def f(x: jax.Array, y: jax.Array) -> jax.Array:
        return jnp.sin(x) * SCALE * y + c

    return f


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    with tiers.config.set_cache_dir(tmp_path / "cache"), tiers.config.set_cache_before_trace():
        PROGRAMS.clear()
        yield tmp_path / "cache"
    PROGRAMS.clear()


def _traces() -> dict[str, Any]:
    return tiers.cache_info()["traces"]


def _hit(fn: Callable[..., Any], *args: Any, **jit: Any) -> bool:
    """Call a new `tiers.jit` of `fn`; whether the trace level answered (checked against
    `jax.jit`, and against the function's own trace count)."""
    before = _traces()["hits"]
    compiled = tiers.jit(fn, **jit)
    out = compiled(*args)
    # Against the function run op by op (a `jax.jit` of it would keep an old trace of a
    # function whose globals changed: JAX's cache is keyed on the function object).
    jax.tree.map(lambda a, b: np.testing.assert_allclose(np.asarray(a), np.asarray(b),
                                                         rtol=1e-6), out, fn(*args))
    hit = _traces()["hits"] == before + 1
    assert compiled.cache_info()["traces"] == (0 if hit else 1)  # a hit runs no Python
    return hit


# -- on, off, and what a hit is ------------------------------------------------------------------


def test_off_by_default_and_needs_a_folder(tmp_path: Path) -> None:
    assert not tiers.config.cache_before_trace()
    with tiers.config.set_cache_before_trace():  # on, but no folder: nothing is keyed
        tiers.jit(_make())(X, Y)
        assert _traces()["misses"] == 0 and _traces()["folder"] is None
    with pytest.raises(TypeError, match="set_cache_before_trace: flag must be a bool"):
        tiers.config.set_cache_before_trace("yes")  # type: ignore[arg-type]


def test_new_function_object_hits(folder: Path) -> None:
    assert not _hit(_make(), X, Y)
    assert _hit(_make(), X, Y)
    assert _traces()["writes"] == 1
    assert len(list((folder / "traces").glob("*.entry"))) == 1


def test_results_keep_their_structure(folder: Path) -> None:
    def f(x: jax.Array) -> Any:
        return {"a": (x * 2, None), "b": [x + 1, jnp.sum(x)], "c": 3 * x[0]}

    assert not _hit(f, X) and _hit(f, X)
    out = tiers.jit(f)(X)
    assert isinstance(out["a"], tuple) and out["a"][1] is None and isinstance(out["b"], list)
    assert out["c"].weak_type == jax.jit(f)(X)["c"].weak_type


def test_tensor_arguments_give_tensors(folder: Path) -> None:
    f = _make()
    tiers.jit(f)(tiers.asarray(X), Y)
    out = tiers.jit(_make())(tiers.asarray(X), Y)
    assert _traces()["hits"] == 1 and isinstance(out, tiers.Tensor)
    np.testing.assert_allclose(np.asarray(out), np.asarray(f(X, Y)), rtol=1e-6)


def test_stages_and_explain_trace_as_usual(folder: Path) -> None:
    tiers.jit(_make())(X, Y)
    lowered = tiers.jit(_make()).lower(X, Y)
    assert "math.sin" in lowered.as_text("import") or "lax.sin" in lowered.as_text("import")
    assert "tiers_call" in str(jax.make_jaxpr(tiers.jit(_make()))(X, Y))
    assert _traces()["hits"] == 0


# -- the key: each change is a miss ------------------------------------------------------------


def _with_default(default: float) -> Callable[..., Any]:
    def f(x: jax.Array, y: jax.Array, c: float = default) -> jax.Array:
        return jnp.sin(x) * y + c

    return f


def helper(x: jax.Array) -> jax.Array:
    return jnp.cos(x)


def _calls_helper(x: jax.Array, y: jax.Array) -> jax.Array:
    return helper(x) * y


def _other_helper(x: jax.Array) -> jax.Array:
    return jnp.tanh(x)


def _first_leaf(x: jax.Array, tree: Any) -> jax.Array:
    return x * jax.tree.leaves(tree)[0]


def _static(x: jax.Array, n: int) -> jax.Array:
    return x * n


def _x64(fn: Callable[..., Any], *args: Any) -> bool:
    with jax.enable_x64(True):
        return _hit(fn, *args)


def _set(mp: pytest.MonkeyPatch, name: str, value: Any) -> None:
    mp.setattr(sys.modules[__name__], name, value)


# change -> (the function first compiled and its arguments, whether the changed call hits)
MISSES: dict[str, tuple[Callable[..., Any], tuple, Callable[[pytest.MonkeyPatch], bool]]] = {
    "global": (_make(), (X, Y), lambda mp: (_set(mp, "SCALE", 3.0), _hit(_make(), X, Y))[1]),
    "closure": (_make(), (X, Y), lambda _: _hit(_make(0.75), X, Y)),
    "default": (_with_default(0.5), (X, Y), lambda _: _hit(_with_default(0.75), X, Y)),
    "called function": (_calls_helper, (X, Y), lambda mp: (
        _set(mp, "helper", _other_helper), _hit(_calls_helper, X, Y))[1]),
    "pipeline": (_make(), (X, Y), lambda _: _hit(_make(), X, Y, pipeline="cse,dce")),
    "x64": (_make(), (X, Y), lambda _: _x64(_make(), X, Y)),
    "shape": (_make(), (X, Y), lambda _: _hit(_make(), X[:4], Y[:4])),
    "dtype": (_make(), (X, Y), lambda _: _hit(_make(), X.astype(np.float16), Y)),
    "weak type": (_make(), (X, 2.0), lambda _: _hit(_make(), X, np.float32(2.0))),
    "pytree": (_first_leaf, (X, (Y,)), lambda _: _hit(_first_leaf, X, [Y])),
}


@pytest.mark.parametrize("change", MISSES)
def test_change_misses(folder: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    first, args, changed = MISSES[change]
    assert not _hit(first, *args) and _hit(first, *args)  # stored, and found
    assert not changed(monkeypatch)
    assert _traces()["miss_reasons"] == {"new": 2}


def test_static_argument_value(folder: Path) -> None:
    assert not _hit(_static, X, 2, static_argnums=1)
    assert _hit(_static, X, 2, static_argnums=1)
    assert not _hit(_static, X, 3, static_argnums=1)


def test_user_module_attribute(folder: Path, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A user module read as `mod.attr` is keyed by that attribute's value."""
    (tmp_path / "tiers_test_usermod.py").write_text("FACTOR = 2.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("tiers_test_usermod")
    monkeypatch.setitem(_make.__globals__, "usermod", mod)
    try:
        def f(x: jax.Array) -> jax.Array:
            return x * usermod.FACTOR  # type: ignore[name-defined]  # noqa: F821

        assert not _hit(f, X) and _hit(f, X)
        monkeypatch.setattr(mod, "FACTOR", 5.0)
        assert not _hit(f, X)
    finally:
        sys.modules.pop("tiers_test_usermod", None)


# -- what cannot be fingerprinted is traced, with the reason ---------------------------------------


class Config:
    def __init__(self, scale: float):
        self.scale = scale


def test_user_object_is_no_key(folder: Path) -> None:
    config = Config(3.0)

    def f(x: jax.Array) -> jax.Array:
        return x * config.scale

    assert not _hit(f, X) and not _hit(f, X)
    traces = _traces()
    assert traces["miss_reasons"] == {"no key": 2} and traces["writes"] == 0
    assert "'config' in the closure of" in traces["miss_details"]["no key"]
    assert "Config" in traces["miss_details"]["no key"]


def test_fingerprints() -> None:
    def rec(n: int) -> int:
        return n if n < 1 else rec(n - 1)

    function_print(rec)  # recursion is a back reference, not a loop
    function_print(functools.partial(_static, n=3))
    assert function_print(_make(0.5)).hexdigest() == function_print(_make(0.5)).hexdigest()
    assert function_print(_make(0.5)).hexdigest() != function_print(_make(0.25)).hexdigest()
    big = np.zeros(4, np.float32)
    other = big.copy()
    other[2] = 1.0
    assert (function_print(lambda: big).hexdigest()
            != function_print(lambda: other).hexdigest())  # arrays by their bytes
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(NoKey, match="contains itself"):
        function_print(lambda: loop)
    with pytest.raises(NoKey, match="Config"):
        function_print(Config(1.0).__init__)
    function_print(lambda x: jnp.sin(np.cos(x)))  # library modules by name and version


# -- transformations around a hit see the user's program -------------------------------------------


TRANSFORMS: dict[str, Callable[[Callable[..., Any]], Any]] = {
    "grad": lambda f: jax.grad(lambda a, b: f(a, b).sum(), (0, 1))(X, Y),
    "vmap": lambda f: jax.vmap(f, (0, None))(np.stack([X, Y]), Y),
    "jvp": lambda f: jax.jvp(f, (X, Y), (Y, X)),
    "linearize": lambda f: jax.linearize(f, X, Y)[1](Y, X),
    "vjp": lambda f: jax.vjp(f, X, Y)[1](X),
    "jacrev": lambda f: jax.jacrev(f)(X, Y),
    "hessian": lambda f: jax.hessian(lambda a: f(a, Y).sum())(X),
    "checkpoint": lambda f: jax.grad(jax.checkpoint(lambda a: f(a, Y).sum()))(X),
    "jit": lambda f: jax.jit(lambda a: f(a, Y) * 2)(X),
}


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_transformations_of_a_hit(folder: Path, transform: str) -> None:
    def f(x: jax.Array, y: jax.Array) -> jax.Array:
        return jax.lax.stop_gradient(jnp.cos(y)) * x + jnp.sin(x) * y

    tiers.jit(f)(X, Y)
    got = TRANSFORMS[transform](tiers.jit(f))
    assert _traces()["hits"] == 1
    want = TRANSFORMS[transform](jax.jit(f))
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6), got, want)


def test_linear_transpose_of_a_hit(folder: Path) -> None:
    def f(x: jax.Array) -> jax.Array:
        return x * 3.0 + jnp.sum(x) * 2.0

    tiers.jit(f)(X)
    got = jax.linear_transpose(tiers.jit(f), X)(Y)
    assert _traces()["hits"] == 1
    np.testing.assert_allclose(got[0], jax.linear_transpose(f, X)(Y)[0], rtol=1e-6)


# -- bad entries, and other processes -------------------------------------------------------------


def test_bad_entry_is_one_warned_miss(folder: Path) -> None:
    tiers.jit(_make())(X, Y)
    [entry] = (folder / "traces").glob("*.entry")
    data = entry.read_bytes()
    entry.write_bytes(data[:-7])  # cut short
    with pytest.warns(CacheWarning, match="corrupt"):
        assert not _hit(_make(), X, Y)
    assert _traces()["miss_reasons"] == {"new": 1, "corrupt": 1}
    assert _hit(_make(), X, Y)  # written again, whole


def test_malformed_description_is_rejected(folder: Path) -> None:
    from tiers.pipeline.cache import TRACES, TraceEntry

    tiers.jit(_make())(X, Y)
    [entry] = (folder / "traces").glob("*.entry")
    TRACES.put(entry.stem, TraceEntry('{"outs": 3}', "module {}"))
    with pytest.warns(CacheWarning, match="malformed"):
        assert not _hit(_make(), X, Y)
    assert _hit(_make(), X, Y)


CHILD = """
import json, sys, warnings
import jax, jax.numpy as jnp
import tiers
tiers.config.set_cache_dir(sys.argv[1])
tiers.config.set_cache_before_trace()

def f(x):
    return jnp.sin(x) * 2.0 + jnp.cos(x)

with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    compiled = tiers.jit(f)
    out = compiled(jnp.arange(8, dtype=jnp.float32))
print(json.dumps({"traces": tiers.cache_info()["traces"], "out": out.tolist(),
                  "traced": compiled.cache_info()["traces"], "devices": len(jax.devices()),
                  "warnings": [str(w.message) for w in seen]}))
"""


def _child(tmp_path: Path, **env: str) -> dict[str, Any]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TIERS_", "XLA_FLAGS"))}
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "cache")],
                          env={**clean, "JAX_PLATFORMS": "cpu", **env}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_fresh_process_skips_the_trace(tmp_path: Path) -> None:
    """A second process runs the first one's program without tracing; another device count
    is a miss."""
    first = _child(tmp_path)
    second = _child(tmp_path)
    two = _child(tmp_path, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    assert (first["traces"]["writes"], first["traced"]) == (1, 1)
    assert (second["traces"]["hits"], second["traced"]) == (1, 0)
    assert two["devices"] == 2 and two["traces"]["miss_reasons"] == {"new": 1}
    for result in (first, second, two):
        assert result["warnings"] == []
        np.testing.assert_allclose(result["out"], first["out"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        want = jnp.sin(jnp.arange(8.0)) * 2.0 + jnp.cos(jnp.arange(8.0))
    np.testing.assert_allclose(second["out"], want, rtol=1e-6)


def test_not_while_instrumented_or_checking(folder: Path) -> None:
    """Instrumented passes must be seen to run, and a NaN check's re-run must see the
    program: neither reads the trace level."""
    tiers.jit(_make())(X, Y)
    tiers.jit(_make(), debug=tiers.pipeline.Debug())(X, Y)
    with tiers.config.check_nans():
        tiers.jit(_make())(X, Y)
    assert _traces()["hits"] == 0


def test_a_stored_call_evaluated_op_by_op(folder: Path) -> None:
    """A jaxpr holding a hit, run outside `jit` (JAX's op-by-op evaluation), runs the
    function."""
    tiers.jit(_make())(X, Y)
    hit = tiers.jit(_make())
    closed = jax.make_jaxpr(lambda a, b: hit(a, b))(X, Y)  # make_jaxpr traces `hit` as usual
    np.testing.assert_allclose(jax.core.eval_jaxpr(closed.jaxpr, closed.consts, X, Y)[0],
                               _make()(X, Y), rtol=1e-6)
    from tiers.frontend import pretrace

    stored = pretrace.find(next((folder / "traces").glob("*.entry")).stem,
                           lambda *a: [jnp.sin(a[0]) * SCALE * a[1] + 0.5])
    assert stored is not None
    out = pretrace.tiers_cached_p.bind(X, Y, stored=stored)
    np.testing.assert_allclose(out[0], _make()(X, Y), rtol=1e-6)
