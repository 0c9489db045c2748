"""`tiers.save` / `tiers.load`: one compiled function in one file, text and documented bytes only.

An artifact (by convention `NAME.tiers`) is a zip archive holding:

    manifest.json     {"format": "tiers-artifact", "format_version": 1, "entry": "main",
                       "pipeline": "...", "versions": {"tiers", "jax", "jaxlib", "xdsl",
                       "python", "plugins": {distribution: version}}, "x64": bool,
                       "signature": {"inputs": SIG, "outputs": SIG},
                       "sha256": {member name: hex digest of its bytes}}
    imported.mlir     the IR right after import from the jaxpr (MLIR syntax, with locations)
    optimized.mlir    the IR after `pipeline` (what the JAX target compiled)
    stablehlo.bin     `jax.export.Exported.serialize()` of the same function: the StableHLO
                      module and its calling convention, loadable with only JAX installed
                      (`jax.export.deserialize(bytes).call(*args)`, args as saved)

SIG is `{"tree": TREE, "leaves": [{"shape": [...], "dtype": "float32", "weak_type": bool}]}`.
TREE encodes the pytree: `{"leaf": i}` (the i-th leaf), `{"tuple": [TREE...]}`,
`{"list": [TREE...]}`, `{"dict": [[key, TREE]...]}` (str keys, sorted, as JAX orders them) and
`{"none": null}`. Other pytree nodes (namedtuples, dataclasses, custom registered classes) and
static arguments are not supported: pass arrays in tuples, lists and dicts, and bind static
values with `functools.partial` before saving. Leaves are arrays (or scalars, taken as
arrays); `tiers.Tensor` leaves are saved as the arrays they hold.

Reading checks the archive (zip CRCs and the sha256 of each member), the format name and
version (a newer version is refused, naming both) and gives `ArtifactError` with one clear
line for anything else. Saving writes a temporary file in the target directory and renames it
over the target (`os.replace`), so a failed save leaves any earlier artifact intact.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import io
import json
import os
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np
import xdsl

from tiers import pipeline as pipelines
from tiers.dialects import sharding
from tiers.frontend.jit import _print, jit
from tiers.frontend.tensor import Tensor
from tiers.pipeline.context import make_context
from tiers.pipeline.verify import parse_module, verify
from tiers.targets import jax as jax_target
from tiers.targets.walk import find_function
from tiers.version import __version__

FORMAT = "tiers-artifact"
FORMAT_VERSION = 1
MANIFEST, IMPORTED, OPTIMIZED, STABLEHLO = (
    "manifest.json", "imported.mlir", "optimized.mlir", "stablehlo.bin")


class ArtifactError(Exception):
    """A file that is no readable tiers artifact, or inputs that do not fit its signature."""


class SignatureError(ArtifactError, TypeError):
    """Arguments that do not fit a loaded function's saved signature."""


def leaf_paths(tree: Any, where: str = "args") -> list[str]:
    """The name of each leaf of TREE in order, e.g. `args[1]['w']`."""
    (kind, body), = tree.items()
    if kind == "leaf":
        return [where]
    if kind in ("tuple", "list"):
        return [p for i, t in enumerate(body) for p in leaf_paths(t, f"{where}[{i}]")]
    if kind == "dict":
        return [p for k, t in body for p in leaf_paths(t, f"{where}[{k!r}]")]
    return []


# -- pytrees as JSON ---------------------------------------------------------------------------


def encode_tree(tree: Any) -> tuple[Any, list[Any]]:
    """`(TREE, leaves)` of a pytree of tuples, lists, str-keyed dicts and None; leaves in
    JAX's flattening order."""

    leaves: list[Any] = []

    def walk(x: Any, where: str) -> Any:
        if x is None:
            return {"none": None}
        if type(x) is tuple or type(x) is list:
            return {type(x).__name__: [walk(v, f"{where}[{i}]") for i, v in enumerate(x)]}
        if type(x) is dict:
            if not all(isinstance(k, str) for k in x):
                raise ArtifactError(f"{where}: dict keys must be str to be saved, got "
                                    f"{sorted(map(repr, x))}")
            return {"dict": [[k, walk(x[k], f"{where}[{k!r}]")] for k in sorted(x)]}
        if isinstance(x, Tensor):
            x = x.value
        if isinstance(x, jax.Array | np.ndarray | np.generic | int | float | bool | complex
                      | jax.ShapeDtypeStruct):
            leaves.append(x)
            return {"leaf": len(leaves) - 1}
        raise ArtifactError(f"{where}: cannot save a {type(x).__name__} in a pytree (saved "
                            "pytrees hold arrays in tuples, lists, str-keyed dicts and None)")

    return walk(tree, "args"), leaves


def decode_tree(tree: Any, leaves: Sequence[Any]) -> Any:
    """The pytree TREE encodes, with `leaves` in its leaf positions."""
    if not isinstance(tree, dict) or len(tree) != 1:
        raise ArtifactError(f"malformed pytree in the manifest: {tree!r}")
    (kind, body), = tree.items()
    if kind == "leaf":
        return leaves[body]
    if kind == "none":
        return None
    if kind in ("tuple", "list"):
        items = [decode_tree(t, leaves) for t in body]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {k: decode_tree(t, leaves) for k, t in body}
    raise ArtifactError(f"malformed pytree in the manifest: unknown node '{kind}'")


def _leaf_spec(x: Any) -> dict[str, Any]:
    aval = x if isinstance(x, jax.ShapeDtypeStruct | jax.core.ShapedArray) else jax.typeof(x)
    return {"shape": list(aval.shape), "dtype": np.dtype(aval.dtype).name,
            "weak_type": bool(getattr(aval, "weak_type", False))}


def _struct(spec: dict[str, Any]) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(tuple(spec["shape"]), jax.numpy.dtype(spec["dtype"]),
                                weak_type=spec["weak_type"])


# -- saving --------------------------------------------------------------------------------------


def _versions() -> dict[str, Any]:
    plugins = {}
    for ep in importlib.metadata.entry_points(group="xdsl.universe"):
        dist = getattr(ep, "dist", None)
        if dist is not None:
            plugins[dist.name] = dist.version
    return {"tiers": __version__, "jax": jax.__version__,
            "jaxlib": importlib.metadata.version("jaxlib"),
            "xdsl": str(getattr(xdsl, "__version__", None) or importlib.metadata.version("xdsl")),
            "python": sys.version.split()[0], "plugins": plugins}


def save(fn: Callable[..., Any], path: str | os.PathLike, *example_args: Any,
         pipeline: str | None = None) -> None:
    """Trace `fn` on `example_args`, compile it, and write the artifact described above to
    `path` (atomically). `fn` may be a `tiers.jit` function (its pipeline, device and
    shardings are kept) or any JAX-traceable function (compiled with `pipeline`)."""

    compiler = getattr(fn, "tiers_compiler", None)
    if compiler is None:
        fn = jit(fn, pipeline=pipeline or "default")
        compiler = fn.tiers_compiler
    elif pipeline is not None and pipelines.parse(pipeline) != compiler.pipeline:
        raise ValueError(f"{fn.__name__} was compiled with pipeline '{compiler.pipeline.spec}'; "
                         "save it with that pipeline or wrap the plain function instead")
    if compiler.static_argnums or compiler.static_argnames:
        raise ArtifactError("cannot save a function with static arguments; bind them first "
                            "with functools.partial")
    in_tree, leaves = encode_tree(tuple(example_args))
    specs = [jax.ShapeDtypeStruct(s["shape"], s["dtype"], weak_type=s["weak_type"])
             for s in map(_leaf_spec, leaves)]
    spec_args = decode_tree(in_tree, specs)
    lowered = compiler.lower(*spec_args)
    program = lowered.program
    exported = jax.export.export(fn)(*spec_args)
    out_specs = [_leaf_spec(a) for a in exported.out_avals]
    out_tree = _encode_treedef(exported.out_tree)
    manifest: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "entry": "main",
        "pipeline": compiler.pipeline.spec, "versions": _versions(),
        "x64": bool(jax.config.jax_enable_x64), "placement": _placement(program.module),
        "signature": {"inputs": {"tree": in_tree, "leaves": [_leaf_spec(x) for x in leaves]},
                      "outputs": {"tree": out_tree, "leaves": out_specs}},
    }
    members = {
        IMPORTED: lowered.as_text("import").encode(),
        OPTIMIZED: _debug_text(program.module).encode(),
        STABLEHLO: bytes(exported.serialize()),
    }
    manifest["sha256"] = {name: hashlib.sha256(data).hexdigest()
                          for name, data in members.items()}
    members = {MANIFEST: json.dumps(manifest, indent=1).encode(), **members}
    _write_atomically(os.fspath(path), members)


def _placement(module: Any) -> dict[str, Any]:
    """Where `@main` runs, from its IR attributes: `{"device": "cpu:3"}`, `{"mesh": {"axes",
    "shape", "devices"}}` (the StableHLO's shardings refer to that mesh) or `{}`."""

    attrs = find_function(module, "main").attributes
    if sharding.DEVICE in attrs:
        return {"device": attrs[sharding.DEVICE].data}
    if sharding.MESH in attrs:
        axes, shape, ids = sharding.read_mesh(attrs[sharding.MESH])
        return {"mesh": {"axes": axes, "shape": shape, "devices": ids}}
    return {}


def _debug_text(module: Any) -> str:

    return _print(module, debuginfo=True)


def _encode_treedef(treedef: Any) -> Any:
    """TREE for a JAX treedef (the output structure JAX recorded)."""
    n = treedef.num_leaves
    tree, _ = encode_tree(jax.tree_util.tree_unflatten(treedef, [np.zeros(())] * n))
    return tree


def _write_atomically(path: str, members: dict[str, bytes]) -> None:
    """Write the zip to a temporary file next to `path`, then rename it over `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
                for name, data in members.items():
                    z.writestr(name, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# -- loading -------------------------------------------------------------------------------------


def read_artifact(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and the members of the artifact at `path`, all checked."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ArtifactError(f"cannot read '{path}': {e.strerror}") from None
    if not data.startswith(b"PK"):
        raise ArtifactError(f"'{path}' is not a tiers artifact (not a zip archive; artifacts "
                            "are written by tiers.save)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            if MANIFEST not in names:
                raise ArtifactError(f"'{path}' is not a tiers artifact (a zip archive without "
                                    f"{MANIFEST})")
            members = {name: z.read(name) for name in names}
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, zlib.error) as e:
        raise ArtifactError(f"'{path}' is a corrupted or truncated tiers artifact ({e})") from None
    try:
        manifest = json.loads(members[MANIFEST])
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ArtifactError(f"'{path}': unreadable {MANIFEST} ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArtifactError(f"'{path}' is not a tiers artifact ({MANIFEST} does not say "
                            f"format \"{FORMAT}\")")
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise ArtifactError(f"'{path}': {MANIFEST} has no integer format_version")
    if version > FORMAT_VERSION:
        written = manifest.get("versions", {}).get("tiers", "?")
        raise ArtifactError(f"'{path}' has artifact format version {version} (written by tiers "
                            f"{written}); this tiers reads versions up to {FORMAT_VERSION}: "
                            "upgrade tiers")
    for name, digest in manifest.get("sha256", {}).items():
        if name not in members:
            raise ArtifactError(f"'{path}' is a corrupted tiers artifact: {name} is missing")
        if hashlib.sha256(members[name]).hexdigest() != digest:
            raise ArtifactError(f"'{path}' is a corrupted tiers artifact: {name} does not match "
                                "its checksum")
    for name in (IMPORTED, OPTIMIZED, STABLEHLO):
        if name not in members:
            raise ArtifactError(f"'{path}' is a corrupted tiers artifact: {name} is missing")
    return manifest, members


def wide_dtypes(manifest: dict[str, Any]) -> list[str]:
    """The 64-bit dtypes of the saved signature (JAX keeps them only with x64 enabled)."""
    sig = manifest["signature"]
    leaves = sig["inputs"]["leaves"] + sig["outputs"]["leaves"]
    return sorted({s["dtype"] for s in leaves if np.dtype(s["dtype"]).itemsize == 8})


class Loaded:
    """A saved function: call it like the original (no tracing, no tiers compiler); its IR,
    pipeline, versions and signature are attributes."""

    def __init__(self, path: str, manifest: dict[str, Any], members: dict[str, bytes]):
        self.path = path
        self.manifest = manifest
        self.pipeline: str = manifest["pipeline"]
        self.versions: dict[str, Any] = manifest["versions"]
        self.signature: dict[str, Any] = manifest["signature"]
        self.imported_text = members[IMPORTED].decode()
        self.optimized_text = members[OPTIMIZED].decode()
        self.stablehlo = members[STABLEHLO]
        try:
            self.exported = jax.export.deserialize(bytearray(self.stablehlo))
        except Exception as e:  # noqa: BLE001 - flatbuffers raise assorted errors on bad bytes
            raise ArtifactError(f"'{path}': cannot read its StableHLO ({e})") from None
        wide = wide_dtypes(manifest)
        if wide and not jax.config.jax_enable_x64:
            raise ArtifactError(f"'{path}' computes with 64-bit types ({', '.join(wide)}); "
                                "enable them first: jax.config.update('jax_enable_x64', True)")
        self._in = [_struct(s) for s in self.signature["inputs"]["leaves"]]
        self._out_tree = self.signature["outputs"]["tree"]
        self._call = self._placed(manifest.get("placement", {}))

    def _placed(self, placement: dict[str, Any]) -> Callable[..., Any]:
        """The exported call in a `jax.jit` that puts it where it was saved to run."""

        exp = self.exported
        try:
            if "device" in placement:
                where = jax.sharding.SingleDeviceSharding(
                    sharding.to_device(sharding.StringAttr(placement["device"])))
                return jax.jit(exp.call, in_shardings=where, out_shardings=where)
            if "mesh" in placement:
                mesh = sharding.to_mesh(sharding.mesh_attr(**{
                    "axes": placement["mesh"]["axes"], "shape": placement["mesh"]["shape"],
                    "device_ids": placement["mesh"]["devices"]}))
                ins, _ = jax.tree_util.tree_unflatten(exp.in_tree, exp.in_shardings_jax(mesh))
                outs = jax.tree_util.tree_unflatten(exp.out_tree, exp.out_shardings_jax(mesh))
                return jax.jit(exp.call, in_shardings=ins, out_shardings=outs)
        except sharding.ShardingError as e:
            raise ArtifactError(f"'{self.path}' was saved to run on {placement}: {e}") from None
        return jax.jit(exp.call)

    def __call__(self, *args: Any) -> Any:
        """Run the saved StableHLO on `args` (checked against the saved signature)."""
        leaves = self._leaves(args)
        outs = jax.tree_util.tree_leaves(
            self._call(*decode_tree(self.signature["inputs"]["tree"], leaves)))
        return decode_tree(self._out_tree, outs)

    def _leaves(self, args: tuple) -> list[Any]:
        """The input leaves of `args`, checked against the signature; `ArtifactError` if not."""
        want_tree = self.signature["inputs"]["tree"]
        try:
            tree, leaves = encode_tree(tuple(args))
        except ArtifactError as e:
            raise SignatureError(f"{self.path}: {e}") from None
        if tree != want_tree:
            raise SignatureError(f"{self.path}: expected arguments shaped like "
                                f"{_show(want_tree, self._in)}, got {_show(tree, leaves)}")
        out = []
        for where, x, want in zip(leaf_paths(want_tree), leaves, self._in, strict=True):
            if isinstance(x, int | float | bool | complex) and want.weak_type:
                x = np.asarray(x, want.dtype)
            got = jax.typeof(x)
            if tuple(got.shape) != want.shape or got.dtype != want.dtype:
                raise SignatureError(f"{self.path}: {where} must be {_aval(want)}, "
                                     f"got {_aval(got)}")
            out.append(x)
        return out

    def module(self, stage: str = "import") -> Any:
        """The saved IR of `stage` ("import" or "optimized") as a verified xDSL module."""

        text = {"import": self.imported_text, "optimized": self.optimized_text}[stage]
        module, spans = parse_module(make_context(), text.encode(), f"{self.path}:{stage}")
        verify(module, spans)  # xDSL's verifier and the dominance check, located errors
        return module

    def recompile(self, pipeline: str, stage: str = "import") -> Callable[..., Any]:
        """The saved IR of `stage` re-optimized with `pipeline` and compiled by the JAX target;
        called like the saved function."""

        module = pipelines.compile(self.module(stage), pipeline, name=Path(self.path).stem,
                                   replay=lambda: self.module(stage))
        run = jax_target.compile(module, self.manifest["entry"])

        def call(*args: Any) -> Any:
            return decode_tree(self._out_tree, list(run(*self._leaves(args))))

        return call

    def __repr__(self) -> str:
        return (f"<tiers.Loaded {self.path}: {_show(self.signature['inputs']['tree'], self._in)}"
                f" pipeline '{self.pipeline}'>")


def _aval(x: Any) -> str:
    return f"{np.dtype(x.dtype).name}{list(x.shape)}"


def _show(tree: Any, leaves: Sequence[Any]) -> str:
    """A pytree of avals as text, e.g. `(float32[4, 8], {'b': float32[8]})`."""
    shown = decode_tree(tree, [_aval(jax.typeof(x) if not isinstance(x, jax.ShapeDtypeStruct)
                                     else x) for x in leaves])
    return repr(shown).replace("'", "")


def load(path: str | os.PathLike) -> Loaded:
    """The function saved at `path` by `tiers.save`, ready to call; `ArtifactError` if the
    file is not a readable artifact."""
    manifest, members = read_artifact(path)
    return Loaded(os.fspath(path), manifest, members)
