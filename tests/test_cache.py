"""The persistent compile cache (pipeline/cache.py): what changes the key, what a new process
finds, and what a bad or contended folder does. Subprocesses only where a fresh process is the
point (a hit across processes, the device count, a plugin's bytes, two writers at once)."""

from __future__ import annotations

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
from tiers.pipeline.cache import DISK, FORMAT, PROGRAMS, CacheWarning, Entry, decode, encode

X = np.linspace(-1.0, 1.0, 8, dtype=np.float32)
SCALE = 2.0  # a global the function reads


def _make(c: float = 0.5) -> Callable[..., Any]:
    """A fresh function object each call: same program, new trace."""

    def f(x: jax.Array) -> jax.Array:
        return jnp.sin(x) * SCALE + c

    return f


def _entries(folder: Path) -> list[Path]:
    return sorted((folder / "programs").glob("*.entry"))


@pytest.fixture(autouse=True)
def _cache_off_around() -> Iterator[None]:
    """Every test starts and ends with the cache off (it is off unless a test sets it)."""
    if os.environ.get("TIERS_CACHE_DIR") is None:
        assert tiers.config.cache_dir() is None
    with tiers.config.set_cache_dir(None):
        yield
    assert jax.config.jax_compilation_cache_dir == _JAX_DIR


_JAX_DIR = jax.config.jax_compilation_cache_dir


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    with tiers.config.set_cache_dir(tmp_path / "cache"):
        PROGRAMS.clear()
        yield tmp_path / "cache"
    PROGRAMS.clear()


def _run(fn: Callable[..., Any], *args: Any, **jit: Any) -> tuple[dict[str, Any], Any]:
    """Compile and call `fn` in a process that forgot its programs; the disk cache's counts."""
    PROGRAMS.clear()
    out = tiers.jit(fn, **jit)(*args)
    return tiers.cache_info()["disk"], out


def _hit(fn: Callable[..., Any], *args: Any, **jit: Any) -> bool:
    info, out = _run(fn, *args, **jit)
    np.testing.assert_allclose(np.asarray(out), np.asarray(fn(*args)), rtol=1e-6)  # op by op
    assert info["hits"] + info["misses"] == 1, info
    return info["hits"] == 1


# -- in the process ------------------------------------------------------------------------------


def test_jax_clear_caches_empties_the_program_caches() -> None:
    """`jax.clear_caches()` forgets tiers' compiled programs as it forgets JAX's: the next
    call of a seen computation compiles afresh (a cold first call is cold), with the same
    numbers; the counts go on."""
    import tiers.numpy as tnp
    from tiers.frontend import eager

    PROGRAMS.clear()
    first = tiers.jit(_make())(X)
    assert tiers.jit(_make())(X) is not None and tiers.cache_info()["hits"] == 1
    tnp.sin(tnp.asarray(X))
    assert eager.cache_info()["entries"] > 0
    jax.clear_caches()
    assert tiers.cache_info()["size"] == 0 and eager.cache_info()["entries"] == 0
    again = tiers.jit(_make())(X)
    info = tiers.cache_info()
    assert (info["hits"], info["miss_reasons"]) == (1, {"new": 2})
    np.testing.assert_array_equal(np.asarray(again), np.asarray(first))
    np.testing.assert_allclose(np.asarray(again), np.sin(X) * SCALE + 0.5, rtol=1e-6)


# -- off by default, and the setting ---------------------------------------------------------------


def test_off_unless_set() -> None:
    PROGRAMS.clear()
    tiers.jit(_make(0.25))(X)
    info = tiers.cache_info()["disk"]
    assert (info["folder"], info["hits"], info["misses"], info["writes"]) == (None, 0, 0, 0)
    assert jax.config.jax_compilation_cache_dir == _JAX_DIR  # JAX's cache untouched too


def test_set_cache_dir_checks_and_restores(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="set_cache_dir: path must be"):
        tiers.config.set_cache_dir(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must name a folder"):
        tiers.config.set_cache_dir("")
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError):
        tiers.config.set_cache_dir(tmp_path / "file")
    assert tiers.config.cache_dir() is None
    with tiers.config.set_cache_dir(tmp_path):
        assert tiers.config.cache_dir() == str(tmp_path)
        assert jax.config.jax_compilation_cache_dir == str(tmp_path / "xla")
        assert jax.config.jax_persistent_cache_min_compile_time_secs == 0
    assert tiers.config.cache_dir() is None
    assert jax.config.jax_compilation_cache_dir == _JAX_DIR
    assert tiers.config.DEFAULT_CACHE_DIR.endswith(os.path.join("", "tiers"))


# -- the key: each change is a miss ----------------------------------------------------------------


def test_same_program_hits(folder: Path) -> None:
    assert not _hit(_make(), X)
    assert _hit(_make(), X)
    assert len(_entries(folder)) == 1
    assert tiers.cache_info()["disk"]["miss_reasons"] == {}


def _with_default(default: float) -> Callable[..., Any]:
    def f(x: jax.Array, c: float = default) -> jax.Array:
        return jnp.sin(x) * SCALE + c

    return f


def _x64(fn: Callable[..., Any], *args: Any) -> bool:
    jax.config.update("jax_enable_x64", True)
    try:
        return _hit(fn, *args)
    finally:
        jax.config.update("jax_enable_x64", False)


def _set(mp: pytest.MonkeyPatch, target: Any, name: str, value: Any) -> None:
    mp.setattr(target, name, value)


# change -> (the program first compiled, whether the changed one hits)
MISSES: dict[str, tuple[Callable[..., Any], Callable[[pytest.MonkeyPatch], bool]]] = {
    "global": (_make(), lambda mp: (_set(mp, sys.modules[__name__], "SCALE", 3.0),
                                    _hit(_make(), X))[1]),
    "closure": (_make(), lambda _: _hit(_make(0.75), X)),
    "default": (_with_default(0.5), lambda _: _hit(_with_default(0.75), X)),
    "pipeline": (_make(), lambda _: _hit(_make(), X, pipeline="cse,dce")),
    "x64": (_make(), lambda _: _x64(_make(), X)),
    "shape": (_make(), lambda _: _hit(_make(), X[:4])),
    "dtype": (_make(), lambda _: _hit(_make(), X.astype(np.float16))),
}


@pytest.mark.parametrize("change", MISSES)
def test_change_misses(folder: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    first, changed = MISSES[change]
    assert not _hit(first, X) and _hit(first, X)  # the entry is there and is found
    assert not changed(monkeypatch)
    assert tiers.cache_info()["disk"]["miss_reasons"] == {"new": 1}
    assert len(_entries(folder)) == 2


# -- bad entries: one warning, a miss, right numbers, the entry written again ----------------------


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1:]


def _reheader(data: bytes, **change: Any) -> bytes:
    end = data.index(b"\n")
    header = json.loads(data[:end])
    header.update(change)
    return json.dumps(header).encode() + data[end:]


DAMAGE: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "truncated": ("corrupt", lambda d: d[:len(d) // 2]),
    "empty": ("corrupt", lambda d: b""),
    "payload byte": ("corrupt", lambda d: _flip(d, len(d) - 40)),
    "header sha256": ("corrupt", lambda d: _flip(d, d.index(b'"sha256": "') + 20)),
    "header syntax": ("corrupt", lambda d: _flip(d, 0)),
    "foreign": ("foreign/version", lambda d: b'{"format": "someone-else"}\n' + d),
    "version": ("foreign/version", lambda d: _reheader(d, version=999)),
    "other key": ("foreign/version", lambda d: _reheader(d, key="0" * 64)),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_bad_entry_is_one_warned_miss(folder: Path, damage: str) -> None:
    _hit(_make(), X)
    [path] = _entries(folder)
    good = path.read_bytes()
    reason, change = DAMAGE[damage]
    path.write_bytes(change(good))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert not _hit(_make(), X)  # right numbers all the same (`_hit` compares)
    cache_warnings = [w for w in seen if issubclass(w.category, CacheWarning)]
    assert len(cache_warnings) == 1, [str(w.message) for w in seen]
    assert str(path) in str(cache_warnings[0].message)
    assert tiers.cache_info()["disk"]["miss_reasons"] == {reason: 1}
    assert path.read_bytes() == good  # removed, compiled again, written again
    assert _hit(_make(), X)


def test_decode_checks_every_field() -> None:
    data = encode("k", Entry("hlo", "ir"))
    assert decode(data, "k") == Entry("hlo", "ir")
    assert json.loads(data.split(b"\n")[0])["format"] == FORMAT
    with pytest.raises(Exception, match="another key"):
        decode(data, "j")
    with pytest.raises(Exception, match="sizes"):
        decode(_reheader(data, sizes={"stablehlo": -1, "ir": 6}), "k")


# -- the bound -------------------------------------------------------------------------------------


def test_eviction_keeps_the_bound(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DISK, "max_bytes", 20_000)
    monkeypatch.setattr(DISK, "max_entries", 12)
    (folder / "xla").mkdir(parents=True)
    (folder / "xla" / "jit_old-cache").write_bytes(b"x" * 3000)  # JAX's count too
    os.utime(folder / "xla" / "jit_old-cache", ns=(0, 0))
    keys = [f"{i:064x}" for i in range(40)]
    for i, key in enumerate(keys):
        DISK.put(key, Entry("h" * 1500, "i" * (i * 10)))
        os.utime(DISK.path(str(folder), key), ns=(i + 1, i + 1))  # a clear order of use
        files = [*_entries(folder), *(folder / "xla").iterdir()]
        assert len(files) <= 12 and sum(f.stat().st_size for f in files) <= 20_000
    assert not (folder / "xla" / "jit_old-cache").exists()  # the oldest went first
    assert DISK.get(keys[-1]) is not None and DISK.get(keys[0]) is None
    assert tiers.cache_info()["disk"]["evictions"] > 0


# -- fresh processes -------------------------------------------------------------------------------

CHILD = """
import json, pathlib, sys, warnings
import jax, jax.numpy as jnp, numpy as np
import tiers
from tiers.pipeline.cache import DISK, Entry, decode

cache, plugin, race = sys.argv[1], sys.argv[2], sys.argv[3] == "race"
pipeline = "default"
if plugin != "-":
    tiers.pipeline.load_plugin(plugin)
    pipeline = "default,cache-test-noop"
tiers.config.set_cache_dir(cache)

def f(x):
    return jnp.sin(x) * 2.0 + jnp.cos(x)

with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    out = tiers.jit(f, pipeline=pipeline)(jnp.arange(8, dtype=jnp.float32))
    bad = 0
    if race:  # rewrite and read the entry as fast as possible while another process does
        [path] = (pathlib.Path(cache) / "programs").glob("*.entry")
        key = path.stem
        real = decode(path.read_bytes(), key)
        for i in range(150):
            DISK.put(key, Entry(real.stablehlo, real.ir + "//" + "y" * (i * 997 % 20000)))
            found = DISK.get(key)
            bad += found is None or found.stablehlo != real.stablehlo
print(json.dumps({"disk": tiers.cache_info()["disk"], "out": np.asarray(out).tolist(),
                  "devices": len(jax.devices()), "bad": bad,
                  "warnings": [str(w.message) for w in seen]}))
"""

PLUGIN = '''
from xdsl.universe import Universe
from tiers.passes import function_pass

@function_pass("cache-test-noop")
def noop(module):
    """Does nothing ({version})."""

UNIVERSE = Universe(all_passes={{"cache-test-noop": lambda: noop}})
'''


def _children(tmp_path: Path, *runs: tuple[str, dict[str, str]], race: bool = False
              ) -> list[dict[str, Any]]:
    """Run CHILD once per (plugin, extra env) of `runs`, all at once, in a clean environment."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIERS_", "XLA_FLAGS"))}
    env.update(JAX_PLATFORMS="cpu", HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "xdg"))
    procs = [subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "cache"), plugin, "race" if race else "-"],
        env={**env, **extra}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for plugin, extra in runs]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_fresh_process_hits_and_what_misses(tmp_path: Path) -> None:
    """A second process finds the first one's entry; the device count or a plugin pass's
    bytes changing is a miss."""
    plugin = tmp_path / "noop_plugin.py"
    plugin.write_text(PLUGIN.format(version="version 1"))
    [first] = _children(tmp_path, (str(plugin), {}))
    two = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    second, devices = _children(tmp_path, (str(plugin), {}), (str(plugin), two))
    assert (first["disk"]["misses"], first["disk"]["writes"]) == (1, 1)
    assert (second["disk"]["hits"], second["disk"]["misses"]) == (1, 0)
    assert second["out"] == first["out"]
    assert devices["devices"] == 2 and devices["disk"]["miss_reasons"] == {"new": 1}
    plugin.write_text(PLUGIN.format(version="version 2"))  # the plugin's bytes change
    [plugin_changed] = _children(tmp_path, (str(plugin), {}))
    assert plugin_changed["disk"]["miss_reasons"] == {"new": 1}
    for result in (first, second, devices, plugin_changed):
        assert result["warnings"] == []
        np.testing.assert_allclose(result["out"], first["out"])
    assert len(_entries(tmp_path / "cache")) == 3
    assert any((tmp_path / "cache" / "xla").iterdir())  # JAX's executables, beside ours
    assert not (tmp_path / "xdg").exists() and not (tmp_path / ".cache").exists()


def test_two_writers_at_once_corrupt_nothing(tmp_path: Path) -> None:
    results = _children(tmp_path, ("-", {}), ("-", {}), race=True)
    for result in results:
        assert result["bad"] == 0 and result["warnings"] == [], result
        np.testing.assert_allclose(result["out"], results[0]["out"])
    [path] = _entries(tmp_path / "cache")
    decode(path.read_bytes(), path.stem)  # one whole entry
    assert not [p for p in (tmp_path / "cache" / "programs").iterdir() if p.suffix == ".tmp"]
