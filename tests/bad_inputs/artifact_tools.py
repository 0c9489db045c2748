"""Broken `tiers.save` artifacts, made on demand for the corpus (bad_inputs/artifacts.json) and
test_saving.py: `import bad_inputs.artifact_tools` (pytest puts tests/ on sys.path).

`broken(tmp, ...)` writes a changed copy of a small saved function and returns its path;
`tiers_run(...)` runs the command line in-process and raises `SystemExit(first line of
stderr)` after checking that the run failed cleanly (exit 1, one line, no traceback).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import struct
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import tiers

FILES = Path(__file__).parent / "files"
PAYLOAD = ("imported.mlir", "optimized.mlir", "stablehlo.bin")


def model(x, p):
    """The saved function: an array and a dict in, a dict with a None out."""
    return {"y": x * p["w"] + 1.0, "n": None}


def inputs() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    return np.arange(3, dtype=np.float32), {"w": np.full(3, 2, np.float32)}


@functools.cache
def saved() -> bytes:
    """The bytes of `model` saved by this tiers (once per process)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.tiers"
        tiers.save(model, path, *inputs())
        return path.read_bytes()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {info.filename: z.read(info) for info in z.infolist()}


def zip_of(items: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of `items` in order (a name may repeat)."""
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", method) as z:
        warnings.simplefilter("ignore")  # "Duplicate name", on purpose
        for name, data in items:
            z.writestr(name, data)
    return out.getvalue()


def sign(manifest: bytes) -> bytes:
    """manifest.sha256 for these manifest bytes."""
    return f"{hashlib.sha256(manifest).hexdigest()}  manifest.json\n".encode()


def broken(tmp: Any, *, manifest: Callable[[Any], Any] | None = None,
           replace: dict[str, bytes] | None = None, drop: tuple[str, ...] = (),
           add: tuple[tuple[str, bytes], ...] = (), resign: str | None = "all",
           base: bytes | None = None, name: str = "a.tiers") -> str:
    """Write `tmp/name`: a saved artifact (`base`, else `saved()`) with members replaced,
    dropped and added, the member table re-made (`resign="all"`), then `manifest(m)` applied
    to the parsed manifest (in place; returning bytes gives the raw manifest instead), then
    manifest.sha256 re-made (`"all"` or `"manifest"`; `None` keeps every old digest)."""
    items = members(base if base is not None else saved())
    items.update(replace or {})
    m = json.loads(items["manifest.json"])
    if resign == "all" and isinstance(m.get("members"), dict):
        m["members"] = {n: {"size": len(items[n]), "sha256": hashlib.sha256(items[n]).hexdigest()}
                        for n in PAYLOAD if n in items}
    elif resign == "all" and isinstance(m.get("sha256"), dict):
        m["sha256"] = {n: hashlib.sha256(items[n]).hexdigest() for n in PAYLOAD if n in items}
    raw = manifest(m) if manifest else None
    items["manifest.json"] = raw if isinstance(raw, bytes) else json.dumps(m, indent=1).encode()
    if resign in ("all", "manifest") and "manifest.sha256" in items:
        items["manifest.sha256"] = sign(items["manifest.json"])
    listed = [(n, d) for n, d in items.items() if n not in drop] + list(add)
    path = Path(tmp) / name
    path.write_bytes(zip_of(listed))
    return str(path)


def v1() -> bytes:
    """An artifact of format version 1, as tiers wrote it before version 2 (same `model`)."""
    return (FILES / "art_v1.tiers").read_bytes()


# -- the zip's own headers, patched in place ----------------------------------------------------


def patch(path: str, member: str, **fields: int) -> str:
    """Change header fields of `member` (`flags`, `method`, `size`: the uncompressed size) in
    both its local header and the central directory of the zip at `path`."""
    data = bytearray(Path(path).read_bytes())
    local = {"flags": (6, "<H"), "method": (8, "<H"), "size": (22, "<I")}
    central = {"flags": (8, "<H"), "method": (10, "<H"), "size": (24, "<I")}
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo(member)
        start = z.start_dir  # type: ignore[attr-defined]  # the central directory's offset
    for key, value in fields.items():
        offset, fmt = local[key]
        struct.pack_into(fmt, data, info.header_offset + offset, value)
    at = data.index(b"PK\x01\x02", start)
    while True:  # find the member's central directory entry
        n, extra, comment = struct.unpack_from("<HHH", data, at + 28)
        if data[at + 46: at + 46 + n] == member.encode():
            break
        at += 46 + n + extra + comment
    for key, value in fields.items():
        offset, fmt = central[key]
        struct.pack_into(fmt, data, at + offset, value)
    Path(path).write_bytes(bytes(data))
    return path


# -- the command line ---------------------------------------------------------------------------


def tiers_run(*argv: Any) -> None:
    """Run `tiers-run argv` in-process; it must fail cleanly. Raises `SystemExit` holding the
    one line it printed on stderr."""
    from tiers.tools import run

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            run.main([str(a) for a in argv])
            code: Any = 0
        except SystemExit as e:
            code = e.code
    text = err.getvalue()
    assert code == 1 and "Traceback" not in text, (code, text)
    assert text.count("\n") == 1 and text.endswith("\n"), f"not one line: {text!r}"
    raise SystemExit(text.rstrip("\n"))
