"""`tiers.save` / `tiers.load`: one artifact file, loaded without retracing, checked on read,
written atomically, runnable by JAX alone and re-optimizable from its high-level IR."""

from __future__ import annotations

import collections
import hashlib
import json
import os
import stat
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from bad_inputs import artifact_tools  # tests/ is on sys.path (no __init__.py)

import tiers
from tiers.frontend import saving
from tiers.tools import run as run_tool


def model(x, params):
    """A small pytree in, a pytree with a None and a list out."""
    h = jnp.tanh(x @ params["w"] + params["b"])
    return {"probs": jax.nn.softmax(h, axis=-1), "aux": [h.sum(), None]}


def _inputs(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 8), np.float32)
    params = {"w": rng.standard_normal((8, 5), np.float32),
              "b": rng.standard_normal((5,), np.float32)}
    return x, params


def _close(a, b) -> None:
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    for u, v in zip(la, lb, strict=True):
        np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=1e-5, atol=1e-6)


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    path = tmp_path / "model.tiers"
    tiers.save(model, path, *_inputs())
    return path


def test_round_trip_and_contents(artifact: Path) -> None:
    loaded = tiers.load(artifact)
    x, params = _inputs(1)  # other values, same signature
    _close(loaded(x, params), jax.jit(model)(x, params))
    _close(loaded(tiers.asarray(x), params), model(x, params))  # Tensors are arrays
    with zipfile.ZipFile(artifact) as z:
        assert z.namelist() == ["manifest.json", "manifest.sha256", "imported.mlir",
                                "optimized.mlir", "stablehlo.bin"]
        text = z.read("manifest.json")
        manifest = json.loads(text)
        digest = z.read("manifest.sha256")
        sizes = {n: len(z.read(n)) for n in saving.PAYLOAD}
    assert digest == f"{hashlib.sha256(text).hexdigest()}  manifest.json\n".encode()
    assert {n: m["size"] for n, m in manifest["members"].items()} == sizes
    assert manifest["format"] == "tiers-artifact" and manifest["format_version"] == 3
    assert manifest["pipeline"] == "default" == loaded.pipeline
    assert manifest["versions"]["jax"] == jax.__version__
    assert manifest["versions"]["tiers"] == tiers.__version__
    assert {"xdsl", "jaxlib", "plugins"} <= set(manifest["versions"])
    sig = manifest["signature"]
    assert sig["inputs"]["tree"] == {"tuple": [{"leaf": 0}, {"dict": [
        ["b", {"leaf": 1}], ["w", {"leaf": 2}]]}]}
    assert [leaf["shape"] for leaf in sig["inputs"]["leaves"]] == [[4, 8], [5], [8, 5]]
    assert sig["outputs"]["tree"] == {"dict": [
        ["aux", {"list": [{"leaf": 0}, {"none": None}]}], ["probs", {"leaf": 1}]]}
    assert "lax.dot_general" in loaded.imported_text  # as imported, before raising
    assert "func.func @main" in loaded.optimized_text
    assert "array.softmax" in loaded.optimized_text  # the default pipeline raised it


def test_scalars_and_saved_jit_function_keep_their_pipeline(tmp_path: Path) -> None:
    f = tiers.jit(lambda x, s: x * s + 1.0, pipeline="O0")
    path = tmp_path / "f.tiers"
    tiers.save(f, path, np.ones(3, np.float32), 2.0)
    loaded = tiers.load(path)
    assert loaded.pipeline == "O0"
    np.testing.assert_allclose(loaded(np.arange(3, dtype=np.float32), 3.0), [1, 4, 7])
    with pytest.raises(ValueError, match="was compiled with pipeline 'O0'"):
        tiers.save(f, path, np.ones(3, np.float32), 2.0, pipeline="O2")


def test_inputs_are_checked_against_the_signature(artifact: Path) -> None:
    loaded = tiers.load(artifact)
    x, params = _inputs()
    with pytest.raises(saving.SignatureError, match=r"expected arguments shaped like "
                       r"\(float32\[4, 8\], \{b: float32\[5\], w: float32\[8, 5\]\}\), "
                       r"got \(float32\[4, 8\],\)"):
        loaded(x)
    with pytest.raises(saving.SignatureError, match=r"params\['w'\] must be float32\[8, 5\],"
                       r" got float32\[8, 4\]"):
        loaded(x, {**params, "w": params["w"][:, :4]})
    with pytest.raises(TypeError, match=r"x must be float32\[4, 8\], got int32\[4, 8\]"):
        loaded(x.astype(np.int32), params)


def test_unsupported_pytrees_are_named(tmp_path: Path) -> None:
    pair = collections.namedtuple("pair", "a b")
    with pytest.raises(saving.ArtifactError, match=r"args\[0\]: cannot save a pair"):
        tiers.save(lambda p: p.a + p.b, tmp_path / "p.tiers", pair(np.ones(2), np.ones(2)))
    with pytest.raises(saving.ArtifactError, match="dict keys must be str"):
        tiers.save(lambda d: d[1], tmp_path / "p.tiers", {1: np.ones(2)})
    assert not list(tmp_path.iterdir())


def _rewrite(src: Path, dst: Path, change, resign: bool = False) -> None:
    """Copy the zip at `src` to `dst`, passing each member's bytes through `change` (and,
    with `resign`, making manifest.sha256 fit the new manifest)."""
    with zipfile.ZipFile(src) as z:
        members = {n: change(n, z.read(n)) for n in z.namelist()}
    if resign:
        members["manifest.sha256"] = artifact_tools.sign(members["manifest.json"])
    with zipfile.ZipFile(dst, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def test_truncated_corrupted_wrong_and_newer_files(artifact: Path, tmp_path: Path) -> None:
    data = artifact.read_bytes()
    cut = tmp_path / "cut.tiers"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(saving.ArtifactError, match="corrupted or truncated"):
        tiers.load(cut)
    flipped = tmp_path / "flipped.tiers"  # one byte of stored (uncompressed) IR changed
    _rewrite(artifact, flipped, lambda n, d: d.replace(b"@main", b"@mbin", 1)
             if n == "optimized.mlir" else d)
    loaded = tiers.load(flipped)  # an IR text is read, and checked, on first use
    _close(loaded(*_inputs()), model(*_inputs()))
    with pytest.raises(saving.ArtifactError, match="optimized.mlir does not match its checksum"):
        loaded.optimized_text  # noqa: B018 - the read is the point
    crc = bytearray(data)  # a byte flipped inside the compressed stream: the zip CRC fails
    start = data.index(b"stablehlo.bin") + len(b"stablehlo.bin") + 40
    crc[start] ^= 0xFF
    (tmp_path / "crc.tiers").write_bytes(bytes(crc))
    with pytest.raises(saving.ArtifactError, match="corrupted"):
        tiers.load(tmp_path / "crc.tiers")
    text = tmp_path / "notes.tiers"
    text.write_text("hello")
    with pytest.raises(saving.ArtifactError, match="not a tiers artifact .not a zip archive"):
        tiers.load(text)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(saving.ArtifactError, match="a zip archive without manifest.json"):
        tiers.load(other)
    newer = tmp_path / "newer.tiers"

    def bump(name: str, d: bytes) -> bytes:
        if name != "manifest.json":
            return d
        m = json.loads(d)
        m["format_version"], m["versions"]["tiers"] = 4, "9.0"
        return json.dumps(m).encode()

    _rewrite(artifact, newer, bump)  # not re-signed: a newer format may sign otherwise
    with pytest.raises(saving.ArtifactError, match=r"format version 4 \(written by tiers 9.0\);"
                       r" this tiers reads versions up to 3: upgrade tiers"):
        tiers.load(newer)
    with pytest.raises(saving.ArtifactError, match="cannot read .*: No such file"):
        tiers.load(tmp_path / "missing.tiers")
    elsewhere = tmp_path / "elsewhere.tiers"  # saved to run on a device this process lacks

    def move(name: str, d: bytes) -> bytes:
        if name != "manifest.json":
            return d
        return json.dumps({**json.loads(d), "placement": {"device": "cpu:4096"}}).encode()

    _rewrite(artifact, elsewhere, move)
    with pytest.raises(saving.ArtifactError, match="manifest.json does not match its checksum"):
        tiers.load(elsewhere)
    _rewrite(artifact, elsewhere, move, resign=True)
    with pytest.raises(saving.ArtifactError, match=r"was saved to run on \{'device': "
                       r"'cpu:4096'\}: no device cpu:4096 here"):
        tiers.load(elsewhere)


def test_failed_save_leaves_the_old_artifact_intact(artifact: Path, monkeypatch) -> None:
    before = artifact.read_bytes()
    real = zipfile.ZipFile.writestr
    calls = []

    def failing(self, name, data, *args, **kwargs):
        calls.append(name)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    with pytest.raises(OSError, match="No space left"):
        tiers.save(lambda x: x * 2, artifact, np.ones(3, np.float32))
    assert len(calls) == 3  # it failed midway, after writing two members
    assert artifact.read_bytes() == before
    assert os.listdir(artifact.parent) == [artifact.name]  # no temporary file left behind
    monkeypatch.undo()
    _close(tiers.load(artifact)(*_inputs()), model(*_inputs()))


def test_overwriting_keeps_the_mode_and_a_new_file_gets_the_umasks(tmp_path: Path) -> None:
    path = tmp_path / "f.tiers"
    mask = os.umask(0o027)
    try:
        tiers.save(lambda x: x * 2, path, np.ones(3, np.float32))
    finally:
        os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # as open() would have made it
    path.chmod(0o604)
    tiers.save(lambda x: x * 3, path, np.ones(3, np.float32))
    assert stat.S_IMODE(path.stat().st_mode) == 0o604
    np.testing.assert_allclose(tiers.load(path)(np.ones(3, np.float32)), [3, 3, 3])
    with pytest.raises(FileNotFoundError, match=r"No such file or directory: '.*nowhere/f"):
        tiers.save(lambda x: x, tmp_path / "nowhere" / "f.tiers", np.ones(3, np.float32))
    assert os.listdir(tmp_path) == ["f.tiers"]


def test_artifacts_of_format_version_1_still_load_and_run(tmp_path: Path) -> None:
    path = artifact_tools.FILES / "art_v1.tiers"
    loaded = tiers.load(path)
    assert loaded.manifest["format_version"] == 1
    want = artifact_tools.model(*artifact_tools.inputs())
    _close(loaded(*artifact_tools.inputs()), want)
    _close(loaded.recompile("O0")(*artifact_tools.inputs()), want)
    # Its member digests are still checked, and its manifest against the schema.
    bad = artifact_tools.broken(tmp_path, base=path.read_bytes(), resign=None,
                                replace={"stablehlo.bin": b"\0" * 16})
    with pytest.raises(saving.ArtifactError, match="stablehlo.bin does not match its checksum"):
        tiers.load(bad)
    bad = artifact_tools.broken(tmp_path, base=path.read_bytes(),
                                manifest=lambda m: m["sha256"].update({"imported.mlir": [1]}))
    with pytest.raises(saving.ArtifactError, match=r'sha256\["imported.mlir"\] must be a sha256'):
        tiers.load(bad)


def test_members_are_read_when_needed_and_never_past_their_declared_size(
        tmp_path: Path, monkeypatch) -> None:
    big = 64 << 20
    path = artifact_tools.broken(tmp_path, replace={"imported.mlir": bytes(big)})
    reads = []
    real = saving.Artifact.read
    monkeypatch.setattr(saving.Artifact, "read", lambda self, n: reads.append(n) or real(self, n))
    tracemalloc.start()
    try:
        loaded = tiers.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak  # 64 MiB of imported.mlir not inflated
    _close(loaded(*artifact_tools.inputs()), artifact_tools.model(*artifact_tools.inputs()))
    assert reads == ["stablehlo.bin"]
    assert len(loaded.imported_text) == big and reads[-1] == "imported.mlir"
    # A member tiers does not know is refused by its name, uninflated.
    junk = artifact_tools.broken(tmp_path, name="junk.tiers", add=(("junk", bytes(big)),))
    tracemalloc.start()
    try:
        with pytest.raises(saving.ArtifactError, match="unexpected member 'junk'"):
            tiers.load(junk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak
    # A header that claims 1 GiB is refused before inflating anything.
    lie = artifact_tools.patch(artifact_tools.broken(tmp_path, name="lie.tiers"),
                               "stablehlo.bin", size=1 << 30)
    with pytest.raises(saving.ArtifactError, match="stablehlo.bin is 1073741824 bytes in the "
                       "zip directory, [0-9]+ in manifest.json"):
        tiers.load(lie)
    lie = artifact_tools.patch(artifact_tools.broken(tmp_path, name="lie.tiers"),
                               "manifest.json", size=1 << 30)
    with pytest.raises(saving.ArtifactError, match="manifest.json declares 1073741824 bytes, "
                       "over the limit"):
        tiers.load(lie)
    # A header that claims less than the member inflates to: zip's CRC check, then ours.
    short = artifact_tools.patch(artifact_tools.broken(tmp_path, name="short.tiers"),
                                 "manifest.json", size=100)
    with pytest.raises(saving.ArtifactError, match="corrupted or truncated .*CRC"):
        tiers.load(short)


def test_a_file_changed_after_loading_is_not_read_as_the_old_one(tmp_path: Path) -> None:
    path = tmp_path / "f.tiers"
    tiers.save(lambda x: x * 2, path, np.ones(3, np.float32))
    loaded = tiers.load(path)
    tiers.save(lambda x: x * 3, path, np.ones(3, np.float32))
    with pytest.raises(saving.ArtifactError, match="changed since it was loaded; load it again"):
        loaded.optimized_text  # noqa: B018 - the read is the point
    np.testing.assert_allclose(loaded(np.ones(3, np.float32)), [2, 2, 2])  # already in memory


_JAX_ONLY = """
import io, json, sys, zipfile
import jax, numpy as np
with zipfile.ZipFile(sys.argv[1]) as z:
    manifest = json.loads(z.read("manifest.json"))
    exported = jax.export.deserialize(bytearray(z.read("stablehlo.bin")))
inputs = np.load(sys.argv[2])
x, params = inputs["x"], {"b": inputs["b"], "w": inputs["w"]}
out = exported.call(x, params)
assert "tiers" not in sys.modules, "tiers was imported"
np.savez(sys.argv[3], probs=np.asarray(out["probs"]), total=np.asarray(out["aux"][0]))
print(manifest["format_version"])
"""


def test_stablehlo_runs_in_a_process_that_imports_only_jax(artifact: Path,
                                                           tmp_path: Path) -> None:
    x, params = _inputs(2)
    np.savez(tmp_path / "in.npz", x=x, **params)
    done = subprocess.run(
        [sys.executable, "-c", _JAX_ONLY, str(artifact), str(tmp_path / "in.npz"),
         str(tmp_path / "out.npz")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "3"
    out = np.load(tmp_path / "out.npz")
    want = model(x, params)
    np.testing.assert_allclose(out["probs"], want["probs"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["total"], want["aux"][0], rtol=1e-5)


@pytest.mark.parametrize("pipeline", ["O0", "O2"])
def test_high_level_ir_reoptimized_with_another_pipeline(artifact: Path, pipeline: str) -> None:
    loaded = tiers.load(artifact)
    module = loaded.module("import")
    assert "array.softmax" not in str(module)  # the saved IR is the imported one
    x, params = _inputs(3)
    _close(loaded.recompile(pipeline)(x, params), loaded(x, params))
    _close(loaded.recompile(pipeline, stage="optimized")(x, params), model(x, params))


def test_tiers_run_on_an_artifact(artifact: Path, tmp_path: Path, capsys) -> None:
    x, params = _inputs(4)
    np.save(tmp_path / "x.npy", x)
    np.savez(tmp_path / "p.npz", b=params["b"], w=params["w"])
    for extra in ([], ["-p", "O0"]):
        out = tmp_path / "out.npz"
        run_tool.run([str(artifact), "-i", str(tmp_path / "x.npy"), "-i",
                      str(tmp_path / "p.npz"), "-o", str(out), *extra])
        got = np.load(out)
        want = model(x, params)  # leaves in order: aux[0] (None has none), probs
        np.testing.assert_allclose(got["out0"], want["aux"][0], rtol=1e-5)
        np.testing.assert_allclose(got["out1"], want["probs"], rtol=1e-5, atol=1e-6)
    with pytest.raises(run_tool.ToolError, match="takes 3 input.*got 1"):
        run_tool.run([str(artifact), "-i", str(tmp_path / "x.npy")])
    bad = tmp_path / "bad.tiers"
    bad.write_bytes(artifact.read_bytes()[:100])
    with pytest.raises(run_tool.ToolError, match="tiers-run: error: .*corrupted or truncated"):
        run_tool.run([str(bad)])


_X64 = """
import sys, jax, numpy as np
jax.config.update("jax_enable_x64", True)
import tiers
tiers.save(lambda x: x * 2, sys.argv[1], np.ones(3, np.float64))
print(tiers.load(sys.argv[1])(np.arange(3.0)).dtype)
"""


def test_64_bit_artifacts_ask_for_x64(tmp_path: Path) -> None:
    path = tmp_path / "wide.tiers"
    done = subprocess.run([sys.executable, "-c", _X64, str(path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "float64", done.stderr[-2000:]
    with pytest.raises(saving.ArtifactError, match=r"64-bit types \(float64\); enable them "
                       r"first: jax.config.update\('jax_enable_x64', True\)"):
        tiers.load(path)
    # tiers-run turns x64 on for such an artifact, as it does for 64-bit IR.
    done = subprocess.run([sys.executable, "-m", "tiers.tools.run", str(path), "-i", "[1, 2, 3]"],
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "array([2., 4., 6.])", done.stderr[-2000:]


def test_loading_and_calling_never_trace_or_import(artifact: Path, monkeypatch) -> None:
    from tiers.frontend import call
    from tiers.frontend import jit as jit_module

    def no(*args, **kwargs):
        raise AssertionError("the tiers compiler ran")

    monkeypatch.setattr(jit_module, "import_jaxpr", no)
    monkeypatch.setattr(call, "import_jaxpr", no)
    monkeypatch.setattr(call.pipeline, "compile", no)
    loaded = tiers.load(artifact)
    _close(loaded(*_inputs(5)), model(*_inputs(5)))
