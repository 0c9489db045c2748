"""The program caches of `tiers.jit`: optimized modules in the process, StableHLO on disk.

In the process. `tiers.jit` keys a traced program by its structure (frontend/call.py,
`program_structure`; frontend/structure.py lists it): the jaxpr walked at every depth
(primitives by name and identity, params, data flow, literals, avals, effects), its
constants' bytes, the user lines of its equations at every depth, the pytree paths naming its
parameters and results, the `Pipeline`, `verify_each`, the function's name and the versions
of tiers, JAX, jaxlib and xDSL, plus the plugin generation. So the same computation reached
through a new function object, a `functools.partial` or a re-created closure skips import and
passes. Any doubt is a miss: a param that is a Python callable or prints an address leaves the
program without a key ("unhashable"). `PROGRAMS` is bounded (least recently used out first),
safe from several threads, and counted: hits, misses and each miss's reason ("new" program,
"evicted" earlier, "uncached": compiled with `Debug` instrumentation, which must see the passes
run).

On disk (`DISK`, off unless `tiers.config.set_cache_dir` or `TIERS_CACHE_DIR` names a folder).
An entry is what a new process needs to skip import, passes and emission: the StableHLO text
the emission produced for `@main`, and the optimized tiers IR (for inspection only). Its key
(frontend/call.py, `disk_key`) is the structure above with the plugin generation replaced by
what a new process can differ in:
  - the entry format's version (`FORMAT_VERSION`);
  - the providers of the pipeline's passes (`plugin_fingerprint`): xDSL by its version, tiers
    by its version and the bytes of its source, any other plugin by the bytes of its file;
  - `jax_enable_x64` and the default matmul precision (`emission_settings`), and JAX's trace
    context (the settings JAX keys its own `jit` caches on; by type where a repr shows an
    address, so such a setting never hits across processes);
  - the lowering platforms, the backend's platform and version, the kinds and number of
    devices;
  - the emission ("stablehlo": "walk" programs are not stored).
A file is `<folder>/programs/<key>.entry`: one line of JSON (format name and version, key,
sha256 of the payload, the size of each part), then the payload. Reading checks all of it:
an entry cut short, with flipped bytes, of another format or version, or stored under another
key is a miss with one `CacheWarning` naming the file, which is then removed. Writes are atomic
(`replace_file`: a temporary file renamed over the entry), so two processes writing one entry
leave one whole entry. The folder is bounded (`max_bytes`, `max_entries`, counting JAX's
executables too): when a write pushes it over, the entries least recently used (by mtime; a hit
touches its file) go first. The folder is scanned on the first write of a process and every
`RESCAN_EVERY` writes, never on a lookup. `DISK.info()` (in `tiers.cache_info()["disk"]`)
counts hits, writes, evictions and misses by reason: "new", "corrupt", "foreign/version",
"unreadable", "rejected" (MLIR refused the text), and programs not looked up: "debug",
"unhashable" (constants without bytes), "pass without source", "walk emission".

The trace level (`TRACES`, `<folder>/traces/<key>.entry`, opt-in: frontend/pretrace.py) keeps
calls keyed before tracing: the results' types and structure, the lowering platforms and the
StableHLO, in the same file format with the same checks, bound and eviction.

The compiled executable is JAX's business: while a folder is set, JAX's own persistent
compilation cache is on in `<folder>/xla` (`use_folder`), with no minimum compile time or size.
JAX keys it on the StableHLO module, the versions of jax/jaxlib/XLA, the compile options and
flags, and the devices. It applies to every `jax.jit` of the process while set, not only to
tiers' programs; unsetting the folder restores JAX's previous settings. JAX writes its files
in place (no temporary file) and without a checksum of its own, and a hit does not touch them:
a file torn by a crash is a JAX warning and a recompile in each process until it is evicted,
and the bound evicts JAX's files oldest-written first.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import sys
import threading
import time
import warnings
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
from jax._src import compilation_cache
from jax._src import util as jax_util

from tiers.pipeline.config import SETTINGS
from tiers.pipeline.files import replace_file
from tiers.pipeline.parse import Pipeline
from tiers.pipeline.registry import TIERS, XDSL, Provider, registry
from tiers.version import __version__

_EVICTED_REMEMBERED = 4096  # keys of evicted entries kept to name the reason of a miss


class ProgramCache:
    """Finished programs by key, in the process (see the module docstring)."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._evicted: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses: Counter[str] = Counter()

    def get(self, key: str) -> Any | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found
            self.misses["evicted" if key in self._evicted else "new"] += 1
            return None

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            self._evicted.pop(key, None)
            while len(self._entries) > self.capacity:
                old, _ = self._entries.popitem(last=False)
                self._evicted[old] = None
                if len(self._evicted) > _EVICTED_REMEMBERED:
                    self._evicted.popitem(last=False)

    def why_missing(self, key: str) -> str | None:
        """Why `key` is not here ("new" or "evicted"), None when it is; counts nothing (for
        compile reports, pipeline/report.py)."""
        with self._lock:
            if key in self._entries:
                return None
            return "evicted" if key in self._evicted else "new"

    def uncached(self, reason: str) -> None:
        """Count a program built without looking here (`reason` names why)."""
        with self._lock:
            self.misses[reason] += 1

    def info(self) -> dict[str, Any]:
        """Hits, misses, each miss's reason, size, capacity; the disk cache's under "disk", its
        trace level's (calls keyed before tracing) under "traces"."""
        with self._lock:
            return {"hits": self.hits, "misses": sum(self.misses.values()),
                    "miss_reasons": dict(self.misses), "size": len(self._entries),
                    "capacity": self.capacity, "disk": DISK.info(), "traces": TRACES.info()}

    def clear(self) -> None:
        """Forget every program and the counts (of the disk cache too; its files stay)."""
        with self._lock:
            self._entries.clear()
            self._evicted.clear()
            self.hits = 0
            self.misses.clear()
        DISK.clear_counts()
        TRACES.clear_counts()

    def drop(self) -> None:
        """Forget every program, keeping the counts (`jax.clear_caches()` calls it)."""
        with self._lock:
            self._entries.clear()
            self._evicted.clear()


class _ClearedByJax:
    """A tiers cache that `jax.clear_caches()` empties, as it empties JAX's own compilation and
    staging caches: users call it to compile from scratch (cold benchmarks, memory), and a
    tiers program kept past it would make a "first" call a cache hit. JAX calls
    `cache_clear` on what `register_cache` lists; `cache_info`/`cache_keys` complete the
    protocol it documents."""

    def __init__(self, clear: Callable[[], None]) -> None:
        self.cache_clear = clear

    def cache_info(self) -> None:
        return None

    def cache_keys(self) -> tuple[()]:
        return ()


_CLEARED_BY_JAX: list[_ClearedByJax] = []  # JAX's registry holds them weakly


def clear_with_jax(clear: Callable[[], None], what: str) -> None:
    """Run `clear` whenever `jax.clear_caches()` runs."""
    follower = _ClearedByJax(clear)
    _CLEARED_BY_JAX.append(follower)
    jax_util.register_cache(follower, what)


PROGRAMS = ProgramCache()
clear_with_jax(PROGRAMS.drop, "tiers.jit optimized programs")


# -- on disk -----------------------------------------------------------------------------------

FORMAT = "tiers-program-cache"
FORMAT_VERSION = 1
PROGRAMS_DIR, TRACES_DIR, XLA_DIR = "programs", "traces", "xla"  # tiers'; JAX's executables
MAX_BYTES = 256 << 20
MAX_ENTRIES = 4096
RESCAN_EVERY = 64  # writes of one process between two scans of the folder
_LOW_WATER = 0.9  # a trim goes down to this share of the bounds, so it is not redone at once
_MAX_HEADER = 4096  # bytes of the JSON line, at most
_STALE_TEMPORARY_S = 3600  # a writer's temporary file this old was left by a crash


class CacheWarning(RuntimeWarning):
    """A bad persistent cache entry (ignored and removed), or a folder that cannot be written."""


@dataclass(frozen=True)
class Entry:
    """What the disk cache keeps of a program: StableHLO of `@main`, and the optimized IR."""

    stablehlo: str
    ir: str

    PARTS = ("stablehlo", "ir")  # the payload's parts, in order


@dataclass(frozen=True)
class TraceEntry:
    """What the trace level keeps of a call keyed before tracing (frontend/pretrace.py): the
    results' types and structure and the lowering platforms (`meta`, JSON), and the StableHLO
    of `@main`."""

    meta: str
    stablehlo: str

    PARTS = ("meta", "stablehlo")


AnyEntry = Entry | TraceEntry


class BadEntry(Exception):
    """Why an entry's bytes are not an entry: `reason` for `cache_info`, `why` for the user."""

    def __init__(self, reason: str, why: str):
        super().__init__(why)
        self.reason, self.why = reason, why


def encode(key: str, entry: AnyEntry) -> bytes:
    """The bytes of entry `key`: a JSON line (format, version, key, sha256, sizes), payload."""
    parts = [getattr(entry, name).encode() for name in entry.PARTS]
    payload = b"".join(parts)
    header = {"format": FORMAT, "version": FORMAT_VERSION, "key": key, "tiers": __version__,
              "sha256": hashlib.sha256(payload).hexdigest(),
              "sizes": {name: len(part) for name, part in zip(entry.PARTS, parts, strict=True)}}
    return json.dumps(header, sort_keys=True).encode() + b"\n" + payload


def decode(data: bytes, key: str, kind: type[AnyEntry] = Entry) -> AnyEntry:
    """The entry of `kind` in `data`, checked against `key` and its header; `BadEntry` if
    anything is off ("corrupt": cut short or changed bytes; "foreign/version": another format,
    version or key)."""
    end = data.find(b"\n", 0, _MAX_HEADER)
    if end < 0:
        raise BadEntry("corrupt", "no header line")
    try:
        header = json.loads(data[:end])
    except ValueError:  # JSON and UTF-8 errors alike
        raise BadEntry("corrupt", "the header is not JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BadEntry("foreign/version", f"not a {FORMAT} file")
    if header.get("version") != FORMAT_VERSION:
        raise BadEntry("foreign/version", f"format version {header.get('version')!r}, this "
                       f"tiers reads {FORMAT_VERSION}")
    if header.get("key") != key:
        raise BadEntry("foreign/version", "stored under another key")
    sizes = header.get("sizes")
    if not (isinstance(sizes, dict) and set(sizes) == set(kind.PARTS)
            and all(type(n) is int and n >= 0 for n in sizes.values())):
        raise BadEntry("corrupt", "the header's sizes are malformed")
    payload = data[end + 1:]
    total = sum(sizes.values())
    if len(payload) != total:
        raise BadEntry("corrupt", f"{len(payload)} bytes of payload, the header says {total}")
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise BadEntry("corrupt", "the payload's sha256 differs from the header's")
    parts, at = [], 0
    for name in kind.PARTS:
        parts.append(payload[at:at + sizes[name]])
        at += sizes[name]
    try:
        return kind(*(part.decode() for part in parts))
    except UnicodeDecodeError:
        raise BadEntry("corrupt", "the payload is not UTF-8") from None


class DiskCache:
    """Entries by key in `SETTINGS.cache_dir` (see the module docstring); counts in-process."""

    def __init__(self, max_bytes: int = MAX_BYTES, max_entries: int = MAX_ENTRIES,
                 kind: type[AnyEntry] = Entry, subfolder: str = PROGRAMS_DIR) -> None:
        self.max_bytes, self.max_entries = max_bytes, max_entries
        self.kind, self.subfolder = kind, subfolder
        self._lock = threading.Lock()
        self._warned: set[tuple[Any, ...]] = set()  # one warning per bad entry or folder
        self._size: dict[str, tuple[int, int]] = {}  # folder -> (bytes, files), an estimate
        self._writes_since_scan = 0
        self.hits = 0
        self.misses: Counter[str] = Counter()
        self.details: dict[str, str] = {}  # reason -> what the latest such miss was
        self.writes = 0
        self.evictions = 0

    def path(self, folder: str, key: str) -> str:
        return os.path.join(folder, self.subfolder, f"{key}.entry")

    def get(self, key: str, check: Callable[[Any], Any] | None = None) -> Any:
        """The entry of `key` in the folder set now, or None (counted, with its reason);
        with `check`, what `check` makes of the entry, which raises `BadEntry` if the
        entry's contents are not what tiers writes (then the entry is a bad one)."""
        folder = SETTINGS.cache_dir
        if folder is None:
            return None
        path = self.path(folder, key)
        try:
            with open(path, "rb") as f:
                seen = os.fstat(f.fileno())
                data = f.read(self.max_bytes + 1)  # bounded: a huge file is no entry of ours
        except FileNotFoundError:
            self._miss("new")
            return None
        except OSError as e:
            self._warn_once(("read", path), f"cannot read the persistent cache entry {path} "
                            f"({e.strerror or e}); compiling instead")
            self._miss("unreadable")
            return None
        try:
            entry = decode(data, key, self.kind)
            if check is not None:
                entry = check(entry)
        except BadEntry as bad:
            self._reject(path, seen, bad)
            self._miss(bad.reason)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: eviction takes the least recently used first
        with self._lock:
            self.hits += 1
        return entry

    def put(self, key: str, entry: AnyEntry) -> None:
        """Store `entry` under `key` (atomically); a folder that cannot be written warns once."""
        folder = SETTINGS.cache_dir
        if folder is None:
            return
        data = encode(key, entry)
        if len(data) > self.max_bytes // 4:  # one program must not flush the whole cache
            return
        path = self.path(folder, key)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            replace_file(path, lambda f: f.write(data))
        except OSError as e:
            self._warn_once(("write", folder), f"cannot write the persistent cache in {folder} "
                            f"({e.strerror or e}); programs are compiled without it")
            return
        with self._lock:
            self.writes += 1
            self._writes_since_scan += 1
            size, files = self._size.get(folder, (-1, 0))
            self._size[folder] = (size + len(data), files + 1)
            scan = (size < 0 or self._writes_since_scan >= RESCAN_EVERY
                    or size + len(data) > self.max_bytes or files + 1 > self.max_entries)
        if scan:
            self.trim(folder)

    def reject(self, key: str, why: str) -> None:
        """Remove the entry of `key`, which looked whole but failed later (`why`: MLIR rejects
        its text), with one warning, counted as a "rejected" miss."""
        folder = SETTINGS.cache_dir
        if folder is None:
            return
        path = self.path(folder, key)
        with contextlib.suppress(OSError):
            self._reject(path, os.stat(path), BadEntry("rejected", why))
        self._miss("rejected")

    def uncached(self, reason: str, detail: str | None = None) -> None:
        """Count a program compiled without looking on disk (`reason` names why; `detail`,
        the latest of its kind, is kept for `info`)."""
        with self._lock:
            self.misses[reason] += 1
            if detail is not None:
                self.details[reason] = detail

    def trim(self, folder: str) -> None:
        """Scan `folder` (tiers' entries and JAX's executables) and, when over a bound, remove
        the least recently used files until under `_LOW_WATER` of both."""
        files: list[tuple[int, int, str]] = []  # (mtime, size, path)
        now = time.time()
        for sub in (PROGRAMS_DIR, TRACES_DIR, XLA_DIR):
            try:
                listing = list(os.scandir(os.path.join(folder, sub)))
            except OSError:
                continue
            for item in listing:
                try:
                    st = item.stat(follow_symlinks=False)
                except OSError:
                    continue  # removed meanwhile
                if not item.is_file(follow_symlinks=False) or item.name.endswith("-atime"):
                    continue  # JAX's access times go with their executables
                if item.name.startswith(".") and item.name.endswith(".tmp"):
                    if now - st.st_mtime > _STALE_TEMPORARY_S:  # a writer died mid-write
                        with contextlib.suppress(OSError):
                            os.unlink(item.path)
                    continue
                files.append((st.st_mtime_ns, st.st_size, item.path))
        total, count = sum(f[1] for f in files), len(files)
        evicted = 0
        if total > self.max_bytes or count > self.max_entries:
            files.sort()
            for _, size, path in files:
                if total <= self.max_bytes * _LOW_WATER and count <= self.max_entries * _LOW_WATER:
                    break
                with contextlib.suppress(FileNotFoundError):  # another process was first
                    os.unlink(path)
                    evicted += 1
                if path.endswith("-cache"):  # JAX's: its access time file, if it keeps one
                    with contextlib.suppress(OSError):
                        os.unlink(path[:-len("-cache")] + "-atime")
                total, count = total - size, count - 1
        with self._lock:
            self._size[folder] = (total, count)
            self._writes_since_scan = 0
            self.evictions += evicted

    def info(self) -> dict[str, Any]:
        with self._lock:
            return {"folder": SETTINGS.cache_dir, "hits": self.hits,
                    "misses": sum(self.misses.values()), "miss_reasons": dict(self.misses),
                    "miss_details": dict(self.details), "writes": self.writes,
                    "evictions": self.evictions,
                    "max_bytes": self.max_bytes, "max_entries": self.max_entries}

    def clear_counts(self) -> None:
        with self._lock:
            self.hits = self.writes = self.evictions = 0
            self.misses.clear()
            self.details.clear()
            self._warned.clear()

    def _miss(self, reason: str) -> None:
        with self._lock:
            self.misses[reason] += 1

    def _reject(self, path: str, seen: os.stat_result, bad: BadEntry) -> None:
        """Warn once about the bad entry at `path` and remove it, unless another process has
        replaced it since it was read (then the new file is someone's good entry)."""
        self._warn_once(("entry", path, seen.st_ino, seen.st_mtime_ns),
                        f"ignoring the persistent cache entry {path} ({bad.reason}: {bad.why}); "
                        "it is removed and the program compiled again")
        with contextlib.suppress(OSError):
            now = os.stat(path)
            if (now.st_ino, now.st_mtime_ns) == (seen.st_ino, seen.st_mtime_ns):
                os.unlink(path)

    def _warn_once(self, what: tuple[Any, ...], message: str) -> None:
        with self._lock:
            if what in self._warned:
                return
            self._warned.add(what)
        warnings.warn(f"tiers: {message}", CacheWarning, stacklevel=2)


DISK = DiskCache()
TRACES = DiskCache(kind=TraceEntry, subfolder=TRACES_DIR)  # the trace level's entries


# -- the folder, and JAX's persistent cache in it -------------------------------------------------

_JAX_OPTIONS = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs",
                "jax_persistent_cache_min_entry_size_bytes")
_jax_saved: dict[str, Any] | None = None  # JAX's settings from before tiers turned its cache on
_FOLDER_LOCK = threading.Lock()


def use_folder(folder: str | None) -> None:
    """Keep the persistent cache in `folder` (None: none), and JAX's persistent compilation
    cache in `folder/xla`; None gives JAX back the settings it had before."""
    global _jax_saved
    with _FOLDER_LOCK:
        SETTINGS.cache_dir = folder
        if folder is not None:
            if _jax_saved is None:
                _jax_saved = {name: getattr(jax.config, name) for name in _JAX_OPTIONS}
            jax.config.update("jax_compilation_cache_dir", os.path.join(folder, XLA_DIR))
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
            jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)  # -1: no minimum
        elif _jax_saved is not None:
            for name, value in _jax_saved.items():
                jax.config.update(name, value)
            _jax_saved = None
        # JAX opens its cache once per process, on first use: make it open the new folder.
        compilation_cache.reset_cache()


# -- who provides the passes --------------------------------------------------------------------

_FINGERPRINTS: dict[tuple[int, str], str | None] = {}  # (generation, pipeline text) -> print
_FILE_DIGESTS: dict[tuple[int, str], str] = {}  # (generation, path) -> sha256 of its bytes
_SOURCE_DIGEST: list[str] = []  # tiers' own source, hashed once per process


def plugin_fingerprint(pipeline: Pipeline) -> str | None:
    """Which code runs `pipeline`'s passes: each pass's provider, xDSL by version, tiers by
    version and source, any other by the bytes of its file and of the pass class's file; None
    when a pass's code cannot be told (no registered provider, no source file)."""
    memo = (SETTINGS.generation, pipeline.text)
    if memo in _FINGERPRINTS:
        return _FINGERPRINTS[memo]
    providers = registry().pass_providers
    parts = []
    for p in pipeline.passes:
        provider = providers.get(p.name)
        code = _provider_print(provider) if provider is not None else None
        if code is None:
            _FINGERPRINTS[memo] = None
            return None
        if provider is not None and provider.name not in (XDSL, TIERS):
            module = sys.modules.get(type(p).__module__)
            source = _file_digest(getattr(module, "__file__", None) or "")
            if source is None:
                _FINGERPRINTS[memo] = None
                return None
            code += f" class {source}"
        parts.append(f"{p.name}: {code}")
    _FINGERPRINTS[memo] = found = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return found


def _provider_print(provider: Provider) -> str | None:
    if provider.name == XDSL:
        return f"xdsl {_xdsl_version()}"
    if provider.name == TIERS:
        return f"tiers {__version__} {tiers_source_digest()}"
    if os.path.isabs(provider.origin):  # a plugin file (`load_plugin("x.py")`)
        digest = _file_digest(provider.origin)
    else:  # a module or an entry point, "pkg.mod" or "pkg.mod:NAME"
        module = sys.modules.get(provider.origin.partition(":")[0])
        digest = _file_digest(getattr(module, "__file__", None) or "")
    return None if digest is None else f"{provider.name} {provider.origin} {digest}"


def _xdsl_version() -> str:
    import xdsl  # loaded with tiers: its attribute costs nothing, a metadata scan ~5 ms

    return str(getattr(xdsl, "__version__", None) or importlib.metadata.version("xdsl"))


def _file_digest(path: str) -> str | None:
    memo = (SETTINGS.generation, path)
    if memo not in _FILE_DIGESTS:
        try:
            _FILE_DIGESTS[memo] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:  # no file (a module built in memory): its code cannot be told
            return None
    return _FILE_DIGESTS[memo]


def tiers_source_digest() -> str:
    """sha256 of tiers' Python source (what `tiers.jit` runs): a checkout edited between two
    runs is another compiler, whatever its version says."""
    if not _SOURCE_DIGEST:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        files = sorted(e.name for e in os.scandir(root)
                       if e.name.endswith(".py") and e.is_file())
        for floor in ("dialects", "passes", "targets", "pipeline", "frontend"):
            found = []
            for folder, subfolders, names in os.walk(os.path.join(root, floor)):
                subfolders[:] = [d for d in subfolders if d != "__pycache__"]
                rel = os.path.relpath(folder, root)
                found += [os.path.join(rel, n) for n in names if n.endswith(".py")]
            files += sorted(found)
        digest = hashlib.sha256()
        for rel in files:
            digest.update(f"{rel}\0".encode())
            with open(os.path.join(root, rel), "rb") as f:
                digest.update(f.read())
        _SOURCE_DIGEST.append(digest.hexdigest())
    return _SOURCE_DIGEST[0]
