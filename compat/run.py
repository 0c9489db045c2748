"""`make compat`: peer libraries' own test suites on `jax.jit` and on `tiers.jit`, side by side.

For each selected library: install it (pinned, with its test dependencies) into this
environment (.venv-compat/, which the Makefile made with tiers installed editable), fetch its
test suite (the PyPI sdist, or a git clone where the sdist has no tests), run the suite once
per mode with compat/compat_plugin.py loaded, and print the passing counts side by side.
Everything it writes goes under .compat/ (sources, logs, outcomes); `--report` re-prints
from there without running, `--failures` lists the tests failing only on tiers.jit, grouped
by the first line of their error. A library whose install, fetch or collection fails is
reported and the others still run. Options default to environment variables so that
`make compat COMPAT_LIBS=optax,chex` works; see compat/README.md.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

COMPAT = Path(__file__).resolve().parent
ROOT = COMPAT.parent
WORK = ROOT / ".compat"
PY = sys.executable
MODES = ("jax", "tiers")
# What the libraries must not move: tiers' own pins (pyproject.toml) stay as installed.
KEEP = ("jax", "jaxlib", "numpy", "xdsl", "ml_dtypes")


@dataclass(frozen=True)
class Lib:
    """One peer suite: where its tests come from and what they need."""

    name: str
    version: str
    tests: str  # the folder (in the fetched source) pytest runs
    deps: tuple[str, ...] = ()  # test dependencies beyond the library itself
    git: str = ""  # clone this at `tag` when the sdist has no tests
    tag: str = ""
    package: str = ""  # pip name; "" for a suite that is no package (array-api-tests)
    modes: dict[str, dict[str, str]] = field(default_factory=dict)  # mode -> extra env
    ignore: tuple[str, ...] = ()  # test files needing what we do not install (TF, torch)
    args: tuple[str, ...] = ()  # pytest options of the suite's own, before --pytest-args


_JIT_MODES = {m: {"COMPAT_JIT": m} for m in MODES}

LIBS = {lib.name: lib for lib in (
    Lib("optax", "0.2.8", "optax", ("scipy", "scikit-learn", "flax==0.12.8", "cloudpickle"),
        package="optax", modes=_JIT_MODES),
    Lib("chex", "0.1.92", "chex", ("cloudpickle", "dm-tree"), package="chex", modes=_JIT_MODES),
    Lib("flax", "0.12.8", "tests", ("einops", "cloudpickle", "jaxtyping", "ml-collections",
                                     "treescope", "optax==0.2.8", "clu"),
        package="flax", modes=_JIT_MODES,
        ignore=("tests/tensorboard_test.py", "tests/io_test.py")),
    Lib("equinox", "0.13.8", "tests", ("beartype", "jaxtyping", "optax==0.2.8"),
        git="https://github.com/patrick-kidger/equinox", tag="v0.13.8", package="equinox",
        modes=_JIT_MODES),
    # The Array API conformance suite: tiers.numpy (eager Tensors) against jax.numpy.
    Lib("array-api", "main", "array_api_tests", ("ndindex", "pytest-json-report"),
        git="https://github.com/data-apis/array-api-tests", tag="",
        # As JAX's own CI runs it (.github/workflows/jax-array-api.yml): with 64-bit types (or
        # float64 data is rounded to float32 and tests fail by chance), the same examples in
        # both modes, no per-example deadline (it would time compiles, not conformance).
        # Bounded: 20 examples a test, failures not shrunk (shrinking was 95% of the time).
        modes={m: {"ARRAY_API_TESTS_MODULE": module, "JAX_ENABLE_X64": "1",
                   "COMPAT_HYPOTHESIS_SHRINK": "0"}
               for m, module in (("jax", "jax.numpy"), ("tiers", "tiers.numpy"))},
        args=("--max-examples=20", "--derandomize", "--disable-deadline")),
)}


def say(message: str) -> None:
    """Progress on stderr, flushed (the run is long and usually piped to a log)."""
    print(f"[compat {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Skip(Exception):
    """This library cannot run here; the message says why (reported, not raised further)."""


def run(cmd: list[str], *, cwd: Path = ROOT, timeout: float = 1800, log: Path | None = None,
        env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run `cmd` in its own process group, killed whole at `timeout`; (status, output tail)."""
    out = open(log, "w") if log else subprocess.PIPE  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        text, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        text, status = "", -9
    else:
        status = proc.returncode
    if log:
        out.close()  # type: ignore[union-attr]
        text = log.read_text(errors="replace")
    return status, "\n".join((text or "").strip().splitlines()[-5:])


def pip(args: list[str], what: str) -> None:
    """`pip install` into this environment, jax & co held where tiers pinned them."""
    constraints = WORK / "constraints.txt"
    constraints.write_text("".join(f"{p}=={version(p)}\n" for p in KEEP))
    status, tail = run([PY, "-m", "pip", "install", "--quiet", "-c", str(constraints), *args])
    if status != 0:
        raise Skip(f"installing {what} failed: {tail}")


def install(lib: Lib) -> None:
    """Install the library and its test dependencies once (a stamp per library and version)."""
    stamp = Path(sys.prefix) / f".installed-{lib.name}-{lib.version}"
    if stamp.exists():
        return
    say(f"{lib.name}: installing {lib.package or lib.name} {lib.version} and test dependencies")
    spec = [f"{lib.package}=={lib.version}"] if lib.package else []
    pip([*spec, *lib.deps], lib.name)
    stamp.touch()


def fetch(lib: Lib) -> Path:
    """The library's source with its tests, under .compat/src/ (fetched once)."""
    src = WORK / "src"
    src.mkdir(parents=True, exist_ok=True)
    dest = src / f"{lib.name}-{lib.version}"
    if (dest / lib.tests).is_dir():
        return dest
    return clone(lib, dest) if lib.git else unpack_sdist(lib, src, dest)


def unpack_sdist(lib: Lib, src: Path, dest: Path) -> Path:
    say(f"{lib.name}: fetching the {lib.version} sdist from PyPI")
    status, tail = run([PY, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
                        ":all:", f"{lib.package}=={lib.version}", "-d", str(src)], timeout=600)
    archives = sorted(src.glob(f"{lib.package}-{lib.version}.tar.gz"))
    if status != 0 or not archives:
        raise Skip(f"downloading the sdist failed: {tail}")
    with tarfile.open(archives[0]) as tar:
        tar.extractall(src, filter="data")
    unpacked = src / f"{lib.package}-{lib.version}"
    if unpacked != dest:
        unpacked.rename(dest)
    if not (dest / lib.tests).is_dir():
        raise Skip(f"the sdist has no {lib.tests}/ folder")
    return dest


def clone(lib: Lib, dest: Path) -> Path:
    """A git clone (with submodules) at the tag; a clear Skip where GitHub is out of reach."""
    url = os.environ.get(f"COMPAT_{lib.name.upper().replace('-', '_')}_GIT", lib.git)
    say(f"{lib.name}: cloning {url} {lib.tag or '(default branch)'}")
    branch = ["--branch", lib.tag] if lib.tag else []
    status, tail = run(["git", "clone", "--quiet", "--depth", "1", *branch,
                        "--recurse-submodules", "--shallow-submodules", url, str(dest)],
                       timeout=600, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    if status != 0:
        subprocess.run(["rm", "-rf", str(dest)], check=False)
        raise Skip(f"its tests are on GitHub only and `git clone {url}` failed (is GitHub "
                   f"reachable from here?): {tail.splitlines()[-1] if tail else ''}")
    for requirements in ("requirements.txt", "test/requirements.txt", "tests/requirements.txt"):
        if (dest / requirements).is_file():
            pip(["-r", str(dest / requirements)], f"{lib.name}'s {requirements}")
    return dest


def test_paths(lib: Lib, src: Path, patterns: list[str]) -> list[str]:
    """The suite folder, or the test files matching any of `patterns` (fnmatch, relative)."""
    if not patterns:
        return [lib.tests]
    files = sorted(p.relative_to(src).as_posix() for p in (src / lib.tests).rglob("*.py")
                   if p.name.startswith("test_") or p.name.endswith("_test.py"))
    return [f for f in files if any(fnmatch.fnmatch(f, pat) or fnmatch.fnmatch(
        Path(f).name, pat) for pat in patterns)]


def config(src: Path) -> list[str]:
    """pytest options that run the suite under its own configuration (or none), never under
    the nearest one above it, which would be tiers' own (`-W error`, testpaths)."""
    markers = {"pytest.ini": "", "pyproject.toml": "[tool.pytest", "tox.ini": "[pytest]",
               "setup.cfg": "[tool:pytest]"}
    for name, marker in markers.items():
        path = src / name
        if path.is_file() and marker in path.read_text(errors="replace"):
            return ["-c", str(path), f"--rootdir={src}"]
    empty = WORK / "pytest.ini"
    empty.write_text("[pytest]\n")
    return ["-c", str(empty), f"--rootdir={src}"]


def run_suite(lib: Lib, src: Path, mode: str, args: argparse.Namespace) -> dict[str, object]:
    """One pytest run of the suite in one mode; its outcomes land in .compat/results/."""
    results = WORK / "results"
    results.mkdir(parents=True, exist_ok=True)
    outcomes = results / f"{lib.name}.{mode}.jsonl"
    outcomes.unlink(missing_ok=True)
    paths = test_paths(lib, src, args.tests)
    if not paths:
        raise Skip(f"no test file matches {args.tests}")
    env = {**os.environ, **lib.modes[mode], "COMPAT_OUTCOMES": str(outcomes),
           "PYTHONPATH": os.pathsep.join([str(COMPAT), os.environ.get("PYTHONPATH", "")]),
           "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu")}
    cmd = [PY, "-m", "pytest", "-p", "compat_plugin", "-p", "no:cacheprovider", "-q",
           "--tb=short", f"--timeout={args.test_timeout}", "-rN", *config(src),
           *(f"--ignore={i}" for i in lib.ignore), *(["-k", args.k] if args.k else []),
           *lib.args, *args.pytest_args.split(), *paths]
    say(f"{lib.name}: running {len(paths)} path(s) on {mode} (log .compat/results/"
        f"{lib.name}.{mode}.log, limit {args.timeout}s)")
    start = time.monotonic()
    status, tail = run(cmd, cwd=src, timeout=args.timeout,
                       log=results / f"{lib.name}.{mode}.log", env=env)
    seconds = round(time.monotonic() - start)
    reduced = reduce(outcomes)
    (results / f"{lib.name}.{mode}.json").write_text(json.dumps(reduced, indent=1))
    note = "timed out" if status == -9 else ""
    if status not in (0, 1, -9) and not reduced:  # 2-5: interrupted, usage, no tests
        note = f"pytest exit {status}: {tail.splitlines()[-1] if tail else ''}"
    say(f"{lib.name} on {mode}: {Counter(o['outcome'] for o in reduced.values())} "
        f"in {seconds}s {note}")
    return {"status": status, "seconds": seconds, "note": note}


def reduce(path: Path) -> dict[str, dict[str, str]]:
    """The plugin's per-phase lines -> one outcome (and error line) per test id."""
    tests: dict[str, dict[str, str]] = {}
    if not path.exists():
        return tests
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        test = tests.setdefault(rec["id"], {"outcome": "incomplete"})  # killed mid-test
        if rec["when"] == "collect":
            tests[rec["id"]] = {"outcome": "collect-error", "error": rec.get("error", "")}
        elif rec["outcome"] == "failed" and test["outcome"] not in ("failed", "error"):
            test.update(outcome="failed" if rec["when"] == "call" else "error",
                        error=rec.get("error", ""))
        elif test["outcome"] not in ("failed", "error") and (
                rec["when"] == "call" or (rec["when"] == "setup" and rec["outcome"] == "skipped")):
            test.update(outcome=rec["outcome"], error=rec.get("error", ""))
    return tests


def load(lib: str, mode: str) -> dict[str, dict[str, str]] | None:
    path = WORK / "results" / f"{lib}.{mode}.json"
    return json.loads(path.read_text()) if path.exists() else None


def only_on_tiers(lib: str) -> list[tuple[str, str]]:
    """(test id, error line) of the tests that pass on jax and not on tiers."""
    base, mine = load(lib, "jax"), load(lib, "tiers")
    if base is None or mine is None:
        return []
    return [(tid, mine[tid].get("error", "") or mine[tid]["outcome"])
            for tid, o in sorted(base.items())
            if o["outcome"] == "passed" and tid in mine and mine[tid]["outcome"] != "passed"]


def not_reached(lib: str) -> int:
    """Tests passing on jax that the tiers run never got to (it was cut off by its timeout)."""
    base, mine = load(lib, "jax") or {}, load(lib, "tiers") or {}
    return sum(o["outcome"] == "passed" and tid not in mine for tid, o in base.items())


def table(libs: list[str], notes: dict[str, str]) -> str:
    """The side-by-side table, as Markdown."""
    rows = ["| library | tests | passing on jax.jit | passing on tiers.jit | failing only on "
            "tiers.jit | notes |", "|---|---|---|---|---|---|"]
    for lib in libs:
        base, mine = load(lib, "jax"), load(lib, "tiers")
        if base is None and mine is None:
            rows.append(f"| {lib} | - | - | - | - | {notes.get(lib, 'not run')} |")
            continue
        ids = set(base or {}) | set(mine or {})
        passed = [sum(o["outcome"] == "passed" for o in (r or {}).values()) for r in (base, mine)]
        collect = sum(o["outcome"] == "collect-error" for o in (mine or {}).values())
        missing = not_reached(lib)
        note = "; ".join(n for n in (notes.get(lib, ""),
                                     f"{collect} collection errors" if collect else "",
                                     f"{missing} not reached on tiers.jit" if missing else "")
                         if n)
        rows.append(f"| {lib} | {len(ids)} | {passed[0]} | {passed[1]} | "
                    f"{len(only_on_tiers(lib))} | {note} |")
    return "\n".join(rows)


def group_key(error: str) -> str:
    """What errors of one cause share: no source location, address or number, a bounded head."""
    error = re.sub(r"\S+\.py:\d+:\s*", "", error)  # `model.py:12: ` names a line, not a cause
    error = re.sub(r"0x[0-9a-f]+|\d+", "N", error)
    return error[:100]


def failures(libs: list[str], grouped: bool) -> str:
    """The tests failing only on tiers.jit, one per line or grouped by their error's first line."""
    lines = []
    for lib in libs:
        fails = only_on_tiers(lib)
        if not fails:
            continue
        lines.append(f"\n## {lib}: {len(fails)} failing only on tiers.jit")
        if not grouped:
            lines += [f"{tid}  --  {err}" for tid, err in fails]
            continue
        groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for tid, err in fails:
            groups[group_key(err)].append((tid, err))
        for _, members in sorted(groups.items(), key=lambda g: -len(g[1])):
            tid, err = members[0]
            lines.append(f"{len(members):5d}  {err[:200]}\n       e.g. {tid}")
    return "\n".join(lines)


def parse(argv: list[str]) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--libs", default=env("COMPAT_LIBS", ",".join(LIBS)),
                   help=f"comma-separated, of {', '.join(LIBS)} (COMPAT_LIBS)")
    p.add_argument("--tests", default=env("COMPAT_TESTS", ""),
                   help="comma-separated globs on test file paths or names (COMPAT_TESTS)")
    p.add_argument("-k", default=env("COMPAT_K", ""), help="pytest -k expression (COMPAT_K)")
    p.add_argument("--modes", default=env("COMPAT_MODES", ",".join(MODES)))
    p.add_argument("--timeout", type=int, default=int(env("COMPAT_TIMEOUT", "3600")),
                   help="seconds per library and mode (COMPAT_TIMEOUT)")
    p.add_argument("--test-timeout", type=int, default=int(env("COMPAT_TEST_TIMEOUT", "300")))
    p.add_argument("--pytest-args", default=env("COMPAT_PYTEST_ARGS", ""))
    p.add_argument("--report", action="store_true", help="only print, from .compat/results")
    p.add_argument("--failures", action="store_true", default=bool(env("COMPAT_FAILURES")),
                   help="list the tests failing only on tiers.jit (COMPAT_FAILURES=1)")
    p.add_argument("--group", action="store_true", default=bool(env("COMPAT_GROUP")),
                   help="with --failures: group them by their error's first line")
    args = p.parse_args(argv)
    args.libs = [lib for lib in args.libs.split(",") if lib]
    args.tests = [t for t in args.tests.split(",") if t]
    args.modes = [m for m in args.modes.split(",") if m]
    unknown = [lib for lib in args.libs if lib not in LIBS] + [
        m for m in args.modes if m not in MODES]
    if unknown:
        p.error(f"unknown {unknown}; libraries are {list(LIBS)}, modes {list(MODES)}")
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    WORK.mkdir(exist_ok=True)
    notes: dict[str, str] = {}
    for name in [] if args.report else args.libs:
        lib = LIBS[name]
        try:
            src = fetch(lib)  # first: a suite that cannot be fetched is not installed
            install(lib)
            for mode in args.modes:
                note = run_suite(lib, src, mode, args)["note"]
                if note:
                    notes[name] = "; ".join(filter(None, [notes.get(name), f"{mode}: {note}"]))
        except Skip as why:
            notes[name] = f"skipped: {why}"
            say(f"{name}: SKIPPED, {why}")
    print(table(args.libs, notes))
    if args.failures or args.group:
        print(failures(args.libs, args.group))
    if args.report:
        return 0
    path = WORK / "summary.json"  # kept across runs: one library's run updates its own entry
    summary = json.loads(path.read_text()) if path.exists() else {}
    summary.update({lib: {"notes": notes.get(lib, ""), "only_on_tiers": dict(only_on_tiers(lib))}
                    for lib in args.libs})
    path.write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
