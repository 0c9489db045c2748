"""`tiers.save` / `tiers.load`: one compiled function in one file, text and documented bytes only.

An artifact (by convention `NAME.tiers`) is a zip archive holding exactly these members:

    manifest.json     {"format": "tiers-artifact", "format_version": 3, "entry": "main",
                       "pipeline": "...", "versions": {"tiers", "jax", "jaxlib", "xdsl",
                       "python": str, "plugins": {distribution: version}}, "x64": bool,
                       "placement": PLACEMENT, "signature": {"inputs": SIG, "outputs": SIG},
                       "members": {name: {"size": bytes, "sha256": hex digest}} (the 3 below)}
    manifest.sha256   `HEX  manifest.json`, the sha256 of manifest.json (`sha256sum` format):
                      one digest covers the manifest and, through its "members", every member
    imported.mlir     the IR right after import from the jaxpr (MLIR syntax, with locations)
    optimized.mlir    the IR after `pipeline` (what the JAX target compiled)
    stablehlo.bin     `jax.export.Exported.serialize()` of the same function: the StableHLO
                      module and its calling convention, loadable with only JAX installed
                      (`jax.export.deserialize(bytes).call(*args)`, args as saved)

SIG is `{"tree": TREE, "leaves": [{"shape": [...], "dtype": "float32", "weak_type": bool,
"name": str}]}` (a typed PRNG key's dtype is `key<threefry2x32>`, its implementation named); a
leaf's name is its pytree path as the function names it (`params['w']`, `x`; results
`result['probs']`, `result`), read from the IR (`dialects/names.py`), which errors on a bad
argument give.
TREE encodes the pytree: `{"leaf": i}` (the i-th leaf; leaves are numbered in order),
`{"tuple": [TREE...]}`, `{"list": [TREE...]}`, `{"dict": [[key, TREE]...]}` (str keys, sorted,
as JAX orders them) and `{"none": null}`; the inputs' TREE is the tuple of arguments. PLACEMENT
is `{}`, `{"device": "cpu:0"}` or `{"mesh": {"axes": [str], "shape": [int], "devices": [int] or
null}}`. Other pytree nodes (namedtuples, dataclasses, custom registered classes) and static
arguments are not supported: pass arrays in tuples, lists and dicts, and bind static values
with `functools.partial` before saving. Leaves are arrays (or scalars, taken as arrays);
`tiers.Tensor` leaves are saved as the arrays they hold.

Format version 1 (the first) had `"sha256": {name: hex digest}` instead of "members" and no
manifest.sha256; it is still read, with its manifest checked against the schema only. Versions 1
and 2 have no leaf names: errors name their leaves by position (`args[1]['w']`).

Loading checks, before using anything: the zip directory (exactly these members, each within
its size limit and, for version 2, of the size the manifest gives: checked from the zip header
before inflating, and again after), the manifest's digest, the format version (a newer one is
refused, naming both), the manifest against its schema (types, ranges, required keys:
`_check_manifest`) and the signature against the StableHLO. A member is inflated only when it
is needed (calling needs stablehlo.bin; the IR texts are read on first use), and its digest
is checked then. Every failure is an `ArtifactError` with one line. Saving writes a temporary
file in the target directory and renames it over the target (`replace_file`), so a failed save
leaves any earlier artifact intact; an existing file keeps its mode, a new one gets the
umask's.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import importlib.metadata
import json
import math
import os
import re
import stat
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn, TypeGuard

import jax
import numpy as np
import xdsl
from xdsl.dialects.builtin import StringAttr
from xdsl.utils.exceptions import DiagnosticException, VerifyException

from tiers import pipeline as pipelines
from tiers.dialects import dtypes, sharding
from tiers.dialects.names import argument_names, result_names
from tiers.frontend.jit import _print, jit
from tiers.frontend.tensor import Tensor
from tiers.frontend.tracebacks import boundary
from tiers.pipeline.context import make_context
from tiers.pipeline.files import replace_file
from tiers.pipeline.verify import IRParseError, parse_module, verify
from tiers.targets import jax as jax_target
from tiers.targets.jax.hlo import JAX_JIT
from tiers.targets.walk import find_function
from tiers.version import __version__

FORMAT = "tiers-artifact"
FORMAT_VERSION = 3
MANIFEST, MANIFEST_SHA256, IMPORTED, OPTIMIZED, STABLEHLO = (
    "manifest.json", "manifest.sha256", "imported.mlir", "optimized.mlir", "stablehlo.bin")
PAYLOAD = (IMPORTED, OPTIMIZED, STABLEHLO)
# Largest member sizes read, checked from the zip header before inflating. StableHLO is a
# flatbuffer, which cannot pass 2 GiB; the IR texts hold the same constants.
MANIFEST_LIMIT, MEMBER_LIMIT = 16 << 20, 2 << 30
DEFLATE_RATIO = 1032  # deflate's largest expansion: a header claiming more is lying
TREE_DEPTH = 100


class ArtifactError(Exception):
    """A file that is no readable tiers artifact, or inputs that do not fit its signature."""


class SignatureError(ArtifactError, TypeError):
    """Arguments that do not fit a loaded function's saved signature."""


def _brief(error: BaseException) -> str:
    """The first line of a foreign exception's message (never empty, never long)."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."


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


def encode_tree(tree: Any, verb: str = "save") -> tuple[Any, list[Any]]:
    """`(TREE, leaves)` of a pytree of tuples, lists, str-keyed dicts and None; leaves in
    JAX's flattening order. `verb` names what is done with it in messages."""

    leaves: list[Any] = []

    def walk(x: Any, where: str) -> Any:
        if x is None:
            return {"none": None}
        if type(x) is tuple or type(x) is list:
            return {type(x).__name__: [walk(v, f"{where}[{i}]") for i, v in enumerate(x)]}
        if type(x) is dict:
            if not all(isinstance(k, str) for k in x):
                raise ArtifactError(f"{where}: dict keys must be str, got "
                                    f"{sorted(map(repr, x))}")
            return {"dict": [[k, walk(x[k], f"{where}[{k!r}]")] for k in sorted(x)]}
        if isinstance(x, Tensor):
            x = x.value
        if isinstance(x, jax.Array | np.ndarray | np.generic | int | float | bool | complex
                      | jax.ShapeDtypeStruct):
            leaves.append(x)
            return {"leaf": len(leaves) - 1}
        raise ArtifactError(f"{where}: cannot {verb} a {type(x).__name__} in a pytree (saved "
                            "pytrees hold arrays in tuples, lists, str-keyed dicts and None)")

    return walk(tree, "args"), leaves


def decode_tree(tree: Any, leaves: Sequence[Any]) -> Any:
    """The pytree TREE encodes, with `leaves` in its leaf positions (TREE as checked by
    `_check_manifest`)."""
    (kind, body), = tree.items()
    if kind == "leaf":
        return leaves[body]
    if kind == "none":
        return None
    if kind in ("tuple", "list"):
        items = [decode_tree(t, leaves) for t in body]
        return tuple(items) if kind == "tuple" else items
    return {k: decode_tree(t, leaves) for k, t in body}


def _leaf_spec(x: Any) -> dict[str, Any]:
    aval = x if isinstance(x, jax.ShapeDtypeStruct | jax.core.ShapedArray) else jax.typeof(x)
    return {"shape": list(aval.shape), "dtype": dtype_name(aval.dtype),
            "weak_type": bool(getattr(aval, "weak_type", False))}


def dtype_name(dtype: Any) -> str:
    """A leaf's dtype as the manifest writes it: numpy's name, or `key<impl>` for typed PRNG
    keys (`jax.random.key`), with the implementation's full name (`key<threefry2x32>`, where
    JAX prints its short tag, `key<fry>`), as `!lax.key<"threefry2x32">` in the IR."""
    if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        return f"key<{dtype._impl.name}>"
    return np.dtype(dtype).name


def dtype_of(name: str) -> Any:
    """The dtype `dtype_name` wrote; ValueError for any other text."""
    impl = re.fullmatch(r"key<([A-Za-z0-9_]+)>", name)
    if impl is None:
        return jax.numpy.dtype(name)
    from jax._src.random import prng  # JAX's key dtypes, by implementation name

    if impl.group(1) not in prng.prngs:
        raise ValueError(f"unknown PRNG implementation {impl.group(1)!r}")
    return prng.KeyTy(prng.prngs[impl.group(1)])


def _struct(spec: dict[str, Any]) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(tuple(spec["shape"]), dtype_of(spec["dtype"]),
                                weak_type=spec["weak_type"])


# -- the manifest's schema -----------------------------------------------------------------------


class _Bad(Exception):
    """A manifest that breaks the schema; the message names the field by its JSON path."""


_HEX64 = re.compile(r"[0-9a-f]{64}")
_SYMBOL = re.compile(r"[A-Za-z_][A-Za-z0-9_$.]*")  # MLIR's bare-id
_KEYS = {1: ("format", "format_version", "entry", "pipeline", "versions", "x64", "placement",
             "signature", "sha256"),
         2: ("format", "format_version", "entry", "pipeline", "versions", "x64", "placement",
             "signature", "members")}
_KEYS[3] = _KEYS[2]  # version 3 names the signature's leaves
_VERSION_KEYS = ("tiers", "jax", "jaxlib", "xdsl", "python", "plugins")


def _json(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _at(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    if not re.fullmatch(r"\w+", key):
        return f"{where}[{_json(key)}]"
    return f"{where}.{key}" if where else key


def _need(ok: bool, where: str, want: str, got: Any) -> None:
    if not ok:
        raise _Bad(f"{where} must be {want}, got {_json(got)}")


def _is_int(x: Any) -> TypeGuard[int]:
    return isinstance(x, int) and not isinstance(x, bool)


def _fields(obj: Any, where: str, keys: Sequence[str], *, more: bool = False) -> None:
    """`obj` is an object with `keys` (and, unless `more`, no others)."""
    _need(isinstance(obj, dict), where or "the manifest", "an object", obj)
    for key in keys:
        if key not in obj:
            raise _Bad(f"{_at(where, key)} is missing")
    for key in obj:
        if not more and key not in keys:
            raise _Bad(f"{_at(where, key)} is not a field of {where or 'the manifest'}")


def _check_manifest(m: Any) -> None:
    """Raise `_Bad` unless `m` (parsed JSON, format and version already known to be good)
    holds every field of its format version with the right types and ranges."""
    version = m["format_version"]
    _fields(m, "", _KEYS[version])
    _need(isinstance(m["entry"], str) and bool(_SYMBOL.fullmatch(m["entry"])), "entry",
          "a function name", m["entry"])
    _need(isinstance(m["pipeline"], str), "pipeline", "a string", m["pipeline"])
    _need(isinstance(m["x64"], bool), "x64", "true or false", m["x64"])
    _check_versions(m["versions"])
    _check_placement(m["placement"])
    _fields(m["signature"], "signature", ("inputs", "outputs"))
    for side in ("inputs", "outputs"):
        _check_sig(m["signature"][side], f"signature.{side}", named=version >= 3)
    _need("tuple" in m["signature"]["inputs"]["tree"], "signature.inputs.tree",
          "a tuple (of the arguments)", m["signature"]["inputs"]["tree"])
    wide = wide_dtypes(m)
    if wide and not m["x64"]:
        raise _Bad(f"x64 is false, yet the signature holds {', '.join(wide)} (JAX keeps "
                   "64-bit types only with x64)")
    table = "members" if version >= 2 else "sha256"
    _fields(m[table], table, PAYLOAD)
    for name in PAYLOAD:
        entry, where = m[table][name], _at(table, name)
        if version >= 2:
            _fields(entry, where, ("size", "sha256"))
            size = entry["size"]
            _need(_is_int(size) and 0 <= size <= MEMBER_LIMIT, f"{where}.size",
                  f"a size in bytes up to {MEMBER_LIMIT}", size)
            entry, where = entry["sha256"], f"{where}.sha256"
        _need(isinstance(entry, str) and bool(_HEX64.fullmatch(entry)), where,
              "a sha256 digest (64 lowercase hex digits)", entry)


def _check_versions(versions: Any) -> None:
    _fields(versions, "versions", _VERSION_KEYS, more=True)
    for key, value in versions.items():
        if key != "plugins":
            _need(isinstance(value, str), _at("versions", key), "a version string", value)
    _need(isinstance(versions["plugins"], dict), "versions.plugins", "an object",
          versions["plugins"])
    for dist, value in versions["plugins"].items():
        _need(isinstance(value, str), _at("versions.plugins", dist), "a version string", value)


def _check_placement(placement: Any) -> None:
    _need(isinstance(placement, dict) and len(placement) <= 1, "placement",
          '{}, {"device": ...} or {"mesh": ...}', placement)
    if "device" in placement:
        device = placement["device"]
        _need(isinstance(device, str) and bool(re.fullmatch(r"\w+:\d+", device)),
              "placement.device", 'a device like "cpu:0"', device)
    elif "mesh" in placement:
        mesh = placement["mesh"]
        _fields(mesh, "placement.mesh", ("axes", "shape", "devices"))
        axes, shape, ids = mesh["axes"], mesh["shape"], mesh["devices"]
        _need(isinstance(axes, list) and all(isinstance(a, str) for a in axes)
              and len(set(axes)) == len(axes), "placement.mesh.axes", "distinct axis names",
              axes)
        _need(isinstance(shape, list) and len(shape) == len(axes)
              and all(_is_int(s) and s >= 1 for s in shape), "placement.mesh.shape",
              f"{len(axes)} positive sizes (one per axis)", shape)
        n = math.prod(shape)
        _need(ids is None or (isinstance(ids, list) and len(ids) == n == len(set(ids))
                              and all(_is_int(i) and i >= 0 for i in ids)),
              "placement.mesh.devices", f"null or {n} distinct device ids", ids)
    elif placement:
        raise _Bad(f"placement must be {{}}, {{\"device\": ...}} or {{\"mesh\": ...}}, got "
                   f"{_json(placement)}")


def _check_sig(sig: Any, where: str, named: bool) -> None:
    _fields(sig, where, ("tree", "leaves"))
    leaves = sig["leaves"]
    _need(isinstance(leaves, list), f"{where}.leaves", "a list", leaves)
    for i, leaf in enumerate(leaves):
        _check_leaf(leaf, f"{where}.leaves[{i}]", named)
    found = _check_tree(sig["tree"], f"{where}.tree", len(leaves), 0, 0)
    if found != len(leaves):
        raise _Bad(f"{where}.tree has {found} leaves, {where}.leaves {len(leaves)}")


def _check_leaf(leaf: Any, where: str, named: bool) -> None:
    _fields(leaf, where, ("shape", "dtype", "weak_type", "name") if named
            else ("shape", "dtype", "weak_type"))
    if named:
        _need(isinstance(leaf["name"], str), f"{where}.name", "a string", leaf["name"])
    shape, dtype = leaf["shape"], leaf["dtype"]
    _need(isinstance(shape, list) and all(_is_int(d) and 0 <= d < 2**63 for d in shape),
          f"{where}.shape", "a list of sizes", shape)
    try:
        ok = isinstance(dtype, str) and dtype_name(dtype_of(dtype)) == dtype
        ok = ok and (dtype.startswith("key<")
                     or dtypes.element_type(jax.numpy.dtype(dtype)) is not None)
    except (TypeError, ValueError):  # no dtype, or one the IR lacks (UnsupportedDType)
        ok = False
    _need(ok, f"{where}.dtype", "a dtype tiers' IR holds (float32, int32, bool, key<impl>, ...)",
          dtype)
    _need(isinstance(leaf["weak_type"], bool), f"{where}.weak_type", "true or false",
          leaf["weak_type"])


def _check_tree(tree: Any, where: str, n: int, first: int, depth: int) -> int:
    """Check TREE; the number of the leaf after its last (leaves come numbered in order)."""
    if depth > TREE_DEPTH:
        root = where[:where.index(".tree") + 5]
        raise _Bad(f"{root} is nested deeper than {TREE_DEPTH} levels")
    _need(isinstance(tree, dict) and len(tree) == 1
          and next(iter(tree)) in ("leaf", "none", "tuple", "list", "dict"), where,
          'one of {"leaf": i}, {"none": null}, {"tuple": [...]}, {"list": [...]}, '
          '{"dict": [...]}', tree)
    (kind, body), = tree.items()
    where = _at(where, kind)
    if kind == "leaf":
        _need(_is_int(body) and body == first < n, where,
              f"{first}, the next leaf (of {n})", body)
        return first + 1
    if kind == "none":
        _need(body is None, where, "null", body)
        return first
    _need(isinstance(body, list), where, "a list", body)
    if kind == "dict":
        for i, pair in enumerate(body):
            _need(isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str),
                  _at(where, i), "a [key, TREE] pair with a str key", pair)
        keys = [k for k, _ in body]
        _need(keys == sorted(set(keys)), where, "sorted by key, each key once", keys)
        body = [t for _, t in body]
    for i, child in enumerate(body):
        first = _check_tree(child, _at(where, i), n, first, depth + 1)
    return first


def wide_dtypes(manifest: dict[str, Any]) -> list[str]:
    """The 64-bit dtypes of the saved signature (JAX keeps them only with x64 enabled)."""
    sig = manifest["signature"]
    leaves = sig["inputs"]["leaves"] + sig["outputs"]["leaves"]
    return sorted({s["dtype"] for s in leaves if not s["dtype"].startswith("key<")
                   and dtypes.needs_x64(jax.numpy.dtype(s["dtype"]))})


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


@boundary
def save(fn: Callable[..., Any], path: str | os.PathLike, *example_args: Any,
         pipeline: str | None = None) -> None:
    """Trace `fn` on `example_args`, compile it, and write the artifact described above to
    `path` (atomically). `fn` may be a `tiers.jit` function (its pipeline, device and
    shardings are kept) or any JAX-traceable function (compiled with `pipeline`)."""

    compiler = getattr(fn, "tiers_compiler", None)
    if compiler is None:
        compiler = jit(fn, pipeline=pipeline or "default").tiers_compiler
    elif pipeline is not None and pipelines.parse(pipeline) != compiler.pipeline:
        raise ValueError(f"{fn.__name__} was compiled with pipeline '{compiler.pipeline.spec}'; "
                         "save it with that pipeline or wrap the plain function instead")
    if compiler.static_argnums or compiler.static_argnames:
        raise ArtifactError("cannot save a function with static arguments; bind them first "
                            "with functools.partial")
    in_tree, leaves = encode_tree(tuple(example_args))
    specs = [_struct(s) for s in map(_leaf_spec, leaves)]
    spec_args = decode_tree(in_tree, specs)
    lowered = compiler.lower(*spec_args)
    program = lowered.program
    exported = jax.export.export(compiler.jitted)(*spec_args)
    out_tree = _encode_treedef(exported.out_tree)
    main = find_function(program.module, "main")
    in_names = _names(argument_names(main), leaf_paths(in_tree))
    out_names = _names(result_names(main), leaf_paths(out_tree, "result"))
    in_specs = [{**_leaf_spec(x), "name": n} for x, n in zip(leaves, in_names, strict=True)]
    out_specs = [{**_leaf_spec(a), "name": n}
                 for a, n in zip(exported.out_avals, out_names, strict=True)]
    members = {
        IMPORTED: lowered.as_text("import", debug_info=True).encode(),  # names, user lines
        OPTIMIZED: _debug_text(program.module).encode(),
        STABLEHLO: bytes(exported.serialize()),
    }
    manifest: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "entry": "main",
        "pipeline": compiler.pipeline.spec, "versions": _versions(),
        "x64": bool(jax.config.jax_enable_x64),  # type: ignore[attr-defined]  # see config.py
        "placement": _placement(program.module),
        "signature": {"inputs": {"tree": in_tree, "leaves": in_specs},
                      "outputs": {"tree": out_tree, "leaves": out_specs}},
        "members": {name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                    for name, data in members.items()},
    }
    text = json.dumps(manifest, indent=1).encode()
    digest = f"{hashlib.sha256(text).hexdigest()}  {MANIFEST}\n".encode()
    members = {MANIFEST: text, MANIFEST_SHA256: digest, **members}

    def write(f: IO[bytes]) -> None:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in members.items():
                z.writestr(name, data)

    replace_file(os.fspath(path), write)


def _placement(module: Any) -> dict[str, Any]:
    """Where `@main` runs, from its IR attributes: `{"device": "cpu:3"}`, `{"mesh": {"axes",
    "shape", "devices"}}` (the StableHLO's shardings refer to that mesh) or `{}`."""

    attrs = find_function(module, "main").attributes
    if sharding.DEVICE in attrs:
        device = attrs[sharding.DEVICE]
        assert isinstance(device, StringAttr), "`devices.annotate` writes a string"
        return {"device": device.data}
    if sharding.MESH in attrs:
        axes, shape, ids = sharding.read_mesh(attrs[sharding.MESH])
        return {"mesh": {"axes": axes, "shape": shape, "devices": ids}}
    return {}


def _names(named: Sequence[str | None], paths: Sequence[str]) -> list[str]:
    """The IR's names of a function's leaves (`named`), its pytree `paths` where it has none."""
    if len(named) != len(paths):
        return list(paths)
    return [n or p for n, p in zip(named, paths)]


def _debug_text(module: Any) -> str:

    return _print(module, debuginfo=True)


def _encode_treedef(treedef: Any) -> Any:
    """TREE for a JAX treedef (the output structure JAX recorded)."""
    n = treedef.num_leaves
    tree, _ = encode_tree(jax.tree_util.tree_unflatten(treedef, [np.zeros(())] * n))
    return tree


# -- reading -------------------------------------------------------------------------------------


class Artifact:
    """An artifact file: its manifest, checked (see the module docstring); its members read
    on demand with `read`, each checked against the manifest."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self._identity: tuple[int, ...] = ()
        with self._zip(check_identity=False) as z:
            infos = self._directory(z)
            data = self._inflate(z, infos[MANIFEST], MANIFEST_LIMIT)
            digest = None
            if MANIFEST_SHA256 in infos:
                digest = self._inflate(z, infos[MANIFEST_SHA256], 128)
            self.manifest = self._manifest(data, digest)
            self.version: int = self.manifest["format_version"]
            for name in PAYLOAD:
                if name not in infos:
                    self._fail(f"is a corrupted tiers artifact: {name} is missing")
                self._check_header(infos[name], MEMBER_LIMIT, self._size(name))

    def _fail(self, message: str) -> NoReturn:
        raise ArtifactError(f"'{self.path}' {message}")

    @contextlib.contextmanager
    def _zip(self, check_identity: bool = True) -> Iterator[zipfile.ZipFile]:
        """The open zip; zip-level failures (truncation, bad CRCs, bad headers) as
        `ArtifactError`. The file must be the one first read (`check_identity`)."""
        try:
            if stat.S_ISDIR(os.stat(self.path).st_mode):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
            if not stat.S_ISREG(os.stat(self.path).st_mode):  # a FIFO would block `open`
                self._fail("is not a tiers artifact (not a regular file)")
            f = open(self.path, "rb")  # noqa: SIM115 - closed below; errors need `open` alone
        except OSError as e:
            raise ArtifactError(f"cannot read '{self.path}': {e.strerror}") from None
        with f:
            seen = os.fstat(f.fileno())
            identity = (seen.st_dev, seen.st_ino, seen.st_size, seen.st_mtime_ns)
            if check_identity and identity != self._identity:
                self._fail("changed since it was loaded; load it again")
            self._identity = identity
            if f.read(2) != b"PK":
                self._fail("is not a tiers artifact (not a zip archive; artifacts are written "
                           "by tiers.save)")
            f.seek(0)
            try:
                with zipfile.ZipFile(f) as z:
                    yield z
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, OSError,
                    ValueError, NotImplementedError, RuntimeError, struct.error) as e:
                self._fail(f"is a corrupted or truncated tiers artifact ({_brief(e)})")

    def _directory(self, z: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
        infos: dict[str, zipfile.ZipInfo] = {}
        for info in z.infolist():
            if info.filename in infos:
                self._fail(f"is a corrupted tiers artifact: it holds {info.filename} twice")
            infos[info.filename] = info
        if MANIFEST not in infos:
            self._fail(f"is not a tiers artifact (a zip archive without {MANIFEST})")
        extra = sorted(set(infos) - {MANIFEST, MANIFEST_SHA256, *PAYLOAD})
        if extra:
            self._fail(f"is not an artifact as tiers.save writes it: unexpected member "
                       f"{extra[0]!r} (it holds {MANIFEST}, {MANIFEST_SHA256}, "
                       f"{', '.join(PAYLOAD)})")
        return infos

    def _check_header(self, info: zipfile.ZipInfo, limit: int, size: int | None) -> None:
        """Refuse, from the zip directory alone, a member too big or not as declared."""
        name, n, packed = info.filename, info.file_size, info.compress_size
        if info.flag_bits & 0x1:
            self._fail(f"is a corrupted tiers artifact: {name} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            self._fail(f"is a corrupted tiers artifact: {name} uses compression method "
                       f"{info.compress_type} (tiers writes deflate)")
        if n > limit:
            self._fail(f"is a corrupted tiers artifact: {name} declares {n} bytes, over the "
                       f"limit of {limit}")
        if size is not None and n != size:
            self._fail(f"is a corrupted tiers artifact: {name} is {n} bytes in the zip "
                       f"directory, {size} in {MANIFEST}")
        most = packed if info.compress_type == zipfile.ZIP_STORED else packed * DEFLATE_RATIO
        if n > most + 64:
            self._fail(f"is a corrupted tiers artifact: {name} declares {n} bytes, more than "
                       f"its {packed} compressed bytes can hold")

    def _inflate(self, z: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int,
                 size: int | None = None) -> bytes:
        """Member `info`'s bytes: its header checked first, its inflated size after."""
        self._check_header(info, limit, size)
        with z.open(info) as member:
            data = member.read(info.file_size + 1)
        if len(data) != info.file_size:
            self._fail(f"is a corrupted tiers artifact: {info.filename} inflates to "
                       f"{len(data)} bytes, not the {info.file_size} its header declares")
        return data

    def _manifest(self, data: bytes, digest: bytes | None) -> dict[str, Any]:
        """The parsed manifest: JSON, format, version, checksum and schema checked in turn."""
        matches = digest is None or digest == f"{hashlib.sha256(data).hexdigest()}  " \
            f"{MANIFEST}\n".encode()
        tampered = f"is a corrupted tiers artifact: {MANIFEST} does not match its checksum"
        try:
            manifest = json.loads(data.decode(), object_pairs_hook=_unique_keys,
                                  parse_constant=_no_constant)
        except (ValueError, RecursionError, _Bad) as e:
            if not matches:
                self._fail(tampered)
            self._fail(f"has an unreadable {MANIFEST} ({_brief(e)})")
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            self._fail(tampered if not matches else
                       f"is not a tiers artifact ({MANIFEST} does not say format \"{FORMAT}\")")
        version = manifest.get("format_version")
        if _is_int(version) and version > FORMAT_VERSION:
            written = manifest.get("versions")
            written = written.get("tiers") if isinstance(written, dict) else None
            self._fail(f"has artifact format version {version} (written by tiers "
                       f"{written if isinstance(written, str) else '?'}); this tiers reads "
                       f"versions up to {FORMAT_VERSION}: upgrade tiers")
        if not matches:
            self._fail(tampered)
        try:
            if not (_is_int(version) and version >= 1):
                raise _Bad(f"format_version must be an integer from 1 to {FORMAT_VERSION}, "
                           f"got {_json(version)}")
            if digest is None and version >= 2:
                self._fail(f"is a corrupted tiers artifact: {MANIFEST_SHA256} is missing")
            _check_manifest(manifest)
        except _Bad as e:
            self._fail(f"has an invalid {MANIFEST}: {e}")
        return manifest

    def _size(self, name: str) -> int | None:
        return self.manifest["members"][name]["size"] if self.version >= 2 else None

    def read(self, name: str) -> bytes:
        """Payload member `name`: within its size limit, of its size and sha256 digest."""
        table = self.manifest["members" if self.version >= 2 else "sha256"]
        with self._zip() as z:
            data = self._inflate(z, z.getinfo(name), MEMBER_LIMIT, self._size(name))
        want = table[name]["sha256"] if self.version >= 2 else table[name]
        if hashlib.sha256(data).hexdigest() != want:
            self._fail(f"is a corrupted tiers artifact: {name} does not match its checksum")
        return data


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _Bad(f"the key {_json(key)} appears twice in one object")
        obj[key] = value
    return obj


def _no_constant(name: str) -> Any:
    raise _Bad(f"{name} is not JSON")


def read_artifact(path: str | os.PathLike) -> Artifact:
    """The artifact at `path`, its manifest checked; `ArtifactError` with one line if not."""
    return Artifact(path)


# -- loading -------------------------------------------------------------------------------------


class Loaded:
    """A saved function: call it like the original (no tracing, no tiers compiler); its IR,
    pipeline, versions and signature are attributes (the IR texts read on first use)."""

    def __init__(self, artifact: Artifact):
        self.path = artifact.path
        self.artifact = artifact
        self.manifest = manifest = artifact.manifest
        self.pipeline: str = manifest["pipeline"]
        self.versions: dict[str, Any] = manifest["versions"]
        self.signature: dict[str, Any] = manifest["signature"]
        wide = wide_dtypes(manifest)
        if wide and not jax.config.jax_enable_x64:  # type: ignore[attr-defined]
            raise ArtifactError(f"'{self.path}' computes with 64-bit types ({', '.join(wide)}); "
                                "enable them first: jax.config.update('jax_enable_x64', True)")
        try:
            self.exported = jax.export.deserialize(bytearray(artifact.read(STABLEHLO)))
        except ArtifactError:
            raise
        except Exception as e:  # noqa: BLE001 - flatbuffers raise assorted errors on bad bytes
            raise ArtifactError(f"'{self.path}': cannot read its StableHLO ({_brief(e)})"
                                ) from None
        self._in = [_struct(s) for s in self.signature["inputs"]["leaves"]]
        # What errors call each input: its saved name (format 3), else its place (`args[0]`).
        self._in_names = [s.get("name") or p for s, p in zip(
            self.signature["inputs"]["leaves"], leaf_paths(self.signature["inputs"]["tree"]))]
        self._out_tree = self.signature["outputs"]["tree"]
        self._check_exported()
        self._call = self._placed(manifest["placement"])

    @functools.cached_property
    def imported_text(self) -> str:
        """The IR as imported (imported.mlir)."""
        return self._text(IMPORTED)

    @functools.cached_property
    def optimized_text(self) -> str:
        """The IR after the pipeline (optimized.mlir)."""
        return self._text(OPTIMIZED)

    @property
    def stablehlo(self) -> bytes:
        """The serialized `jax.export.Exported` (stablehlo.bin), read again from the file."""
        return self.artifact.read(STABLEHLO)

    def _text(self, name: str) -> str:
        try:
            return self.artifact.read(name).decode()
        except UnicodeDecodeError as e:
            raise ArtifactError(f"'{self.path}': {name} is not UTF-8 text ({e.reason} at "
                                f"byte {e.start})") from None

    def _check_exported(self) -> None:
        """The manifest's signature is the StableHLO's (a mismatch would fail inside JAX)."""
        exp = self.exported
        for side, avals, treedef in (("inputs", exp.in_avals, exp.in_tree),
                                     ("outputs", exp.out_avals, exp.out_tree)):
            sig = self.signature[side]
            want = decode_tree(sig["tree"], [_aval(_struct(s)) for s in sig["leaves"]])
            got = jax.tree_util.tree_unflatten(treedef, [_aval(a) for a in avals])
            if side == "inputs":
                want = (want, {})  # JAX's calling convention: (args, kwargs)
            if want != got:
                raise ArtifactError(
                    f"'{self.path}': its {MANIFEST} and {STABLEHLO} disagree on the {side}: "
                    f"{_plain(want if side == 'outputs' else want[0])} vs "
                    f"{_plain(got if side == 'outputs' else got[0])}")
        platform = jax.export.default_export_platform()
        if "device" not in self.manifest["placement"] and platform not in exp.platforms:
            raise ArtifactError(f"'{self.path}' was compiled for {', '.join(exp.platforms)}; "
                                f"this process runs on {platform}")

    def _placed(self, placement: dict[str, Any]) -> Callable[..., Any]:
        """The exported call in a `jax.jit` that puts it where it was saved to run."""

        exp = self.exported
        try:
            if "device" in placement:
                where = jax.sharding.SingleDeviceSharding(
                    sharding.to_device(sharding.StringAttr(placement["device"])))
                return JAX_JIT(exp.call, in_shardings=where, out_shardings=where)
            if "mesh" in placement:
                mesh = sharding.to_mesh(sharding.mesh_attr(**{
                    "axes": placement["mesh"]["axes"], "shape": placement["mesh"]["shape"],
                    "device_ids": placement["mesh"]["devices"]}))
                ins, _ = jax.tree_util.tree_unflatten(exp.in_tree, exp.in_shardings_jax(mesh))
                outs = jax.tree_util.tree_unflatten(exp.out_tree, exp.out_shardings_jax(mesh))
                return JAX_JIT(exp.call, in_shardings=ins, out_shardings=outs)
        except sharding.ShardingError as e:
            raise ArtifactError(f"'{self.path}' was saved to run on {placement}: "
                                f"{_brief(e)}") from None
        return JAX_JIT(exp.call)

    @boundary  # the user's mistakes show the user's frames (frontend/tracebacks.py)
    def __call__(self, *args: Any) -> Any:
        """Run the saved StableHLO on `args` (checked against the saved signature)."""
        leaves = self._leaves(args)
        outs = jax.tree_util.tree_leaves(
            self._call(*decode_tree(self.signature["inputs"]["tree"], leaves)))
        return decode_tree(self._out_tree, outs)

    def _leaves(self, args: tuple) -> list[Any]:
        """The input leaves of `args`, checked against the signature; `SignatureError` if not."""
        want_tree = self.signature["inputs"]["tree"]
        try:
            tree, leaves = encode_tree(tuple(args), verb="pass")
        except ArtifactError as e:
            raise SignatureError(f"{self.path}: {e}") from None
        if tree != want_tree:
            raise SignatureError(f"{self.path}: expected arguments shaped like "
                                 f"{_show(want_tree, self._in)}, got {_show(tree, leaves)}")
        return [self._leaf(x, where, want)
                for where, x, want in zip(self._in_names, leaves, self._in, strict=True)]

    def _leaf(self, x: Any, where: str, want: jax.ShapeDtypeStruct) -> Any:
        """`x` if it has `want`'s shape and dtype (a Python scalar may take a weak type)."""
        if isinstance(x, jax.ShapeDtypeStruct):
            raise SignatureError(f"{self.path}: {where} must be an array {_aval(want)}, got a "
                                 f"ShapeDtypeStruct")
        scalar = isinstance(x, int | float | bool | complex) and want.weak_type
        if scalar and np.can_cast(np.min_scalar_type(x), want.dtype, casting="same_kind"):
            try:  # a Python scalar takes a weak type's dtype, as under `jax.jit`
                with np.errstate(over="raise"):
                    return np.asarray(x, want.dtype)
            except (OverflowError, FloatingPointError):
                raise SignatureError(f"{self.path}: {where} must be {_aval(want)}, got {x}, "
                                     "out of its range") from None
        try:
            got = jax.typeof(x)
        except (TypeError, OverflowError):  # no JAX type: strings, objects, huge ints
            what = (f"an array of {x.dtype}" if isinstance(x, np.ndarray) else
                    f"{x}, out of its range" if isinstance(x, int) else type(x).__name__)
            raise SignatureError(f"{self.path}: {where} must be {_aval(want)}, got {what}"
                                 ) from None
        if tuple(got.shape) != want.shape or got.dtype != want.dtype:
            raise SignatureError(f"{self.path}: {where} must be {_aval(want)}, "
                                 f"got {_aval(got)}")
        return x

    def module(self, stage: str = "import") -> Any:
        """The saved IR of `stage` ("import" or "optimized") as a verified xDSL module;
        `ArtifactError` if this tiers cannot parse or verify it."""

        texts = {"import": lambda: self.imported_text, "optimized": lambda: self.optimized_text}
        if stage not in texts:
            raise ValueError(f"stage must be 'import' or 'optimized', not {stage!r}")
        name = f"{self.path}:{stage}"
        try:
            module, spans = parse_module(make_context(), texts[stage]().encode(), name)
            verify(module, spans)  # xDSL's verifier and the dominance check, located errors
        except (IRParseError, VerifyException, DiagnosticException) as e:
            raise ArtifactError(f"'{self.path}': its {stage} IR does not load in this tiers "
                                f"(saved by tiers {self.versions['tiers']}): {_brief(e)}"
                                ) from None
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
    return f"{dtype_name(x.dtype)}{list(x.shape)}"


def _plain(tree: Any) -> str:
    return repr(tree).replace("'", "")


def _show(tree: Any, leaves: Sequence[Any]) -> str:
    """A pytree of avals as text, e.g. `(float32[4, 8], {'b': float32[8]})`."""
    shown = []
    for x in leaves:
        try:
            shown.append(_aval(x if isinstance(x, jax.ShapeDtypeStruct) else jax.typeof(x)))
        except (TypeError, OverflowError):
            shown.append(type(x).__name__)
    return _plain(decode_tree(tree, shown))


@boundary
def load(path: str | os.PathLike) -> Loaded:
    """The function saved at `path` by `tiers.save`, ready to call; `ArtifactError` (one line)
    if the file is not a readable artifact."""
    return Loaded(read_artifact(path))
