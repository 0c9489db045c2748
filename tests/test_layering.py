"""Imports run down the stack: dialects, then passes and targets, then pipeline, then frontend,
then tools. A module may import its own floor and the floors below, never one above; the one
upward edge allowed is listed below with its reason, and any new one fails here."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOORS = {"dialects": 0, "passes": 1, "targets": 1, "pipeline": 2, "frontend": 3, "tools": 4}
# Modules at the package root: the public API and the entry-point universe stand on everything.
ROOT_MODULES = {"universe": 5, "__init__": 5, "version": 0}
PACKAGE_METADATA = {"__version__"}

# (importing module, imported module) -> why the edge points up.
ALLOWED_UP = {
    ("dialects/lax_base.py", "tiers.passes.canonicalization"): (
        "xDSL's HasCanonicalizationPatternsTrait: an op names its patterns, resolved lazily "
        "when canonicalize first asks, as MLIR's getCanonicalizationPatterns does"),
}


def _floor_of_module(name: str) -> int | None:
    """The floor of `tiers.X...`, or None for names outside the floors."""
    parts = name.split(".")
    if parts[0] != "tiers" or len(parts) < 2:
        return None
    return FLOORS.get(parts[1], ROOT_MODULES.get(parts[1]))


def _floor_of_file(path: Path) -> int | None:
    rel = path.relative_to(ROOT)
    if len(rel.parts) == 1:
        return ROOT_MODULES.get(rel.stem)
    return FLOORS.get(rel.parts[0])


def _imports(tree: ast.Module) -> list[tuple[str, int]]:
    """(module imported, line) for every `tiers` import, top-level or inside functions."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "tiers":  # `from tiers import passes`: the subpackages named
                found += [(f"tiers.{a.name}", node.lineno) for a in node.names
                          if a.name not in PACKAGE_METADATA]
            else:
                found.append((node.module, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
    return found


def _sources() -> list[Path]:
    # Not the package: its tests and tools around it, and hidden folders (virtual
    # environments such as `make compat`'s, caches).
    skip = {"tests", "benchmarks", "examples", "filecheck", "docs", "build", "compat"}
    return [p for p in sorted(ROOT.rglob("*.py"))
            if not (set(p.relative_to(ROOT).parts) & skip) and "egg-info" not in str(p)
            and not any(part.startswith(".") for part in p.relative_to(ROOT).parts)]


def test_imports_point_down() -> None:
    up = []
    for path in _sources():
        here = _floor_of_file(path)
        if here is None:
            continue
        rel = str(path.relative_to(ROOT))
        for module, line in _imports(ast.parse(path.read_text(), str(path))):
            there = _floor_of_module(module)
            if there is not None and there > here and (rel, module) not in ALLOWED_UP:
                up.append(f"{rel}:{line} imports {module} (floor {there} above {here})")
    assert not up, "imports pointing up the stack:\n" + "\n".join(up)


def test_allowed_edges_still_exist() -> None:
    """An allowance that is no longer needed is removed, so the list stays the truth."""
    edges = {(str(p.relative_to(ROOT)), m) for p in _sources()
             for m, _ in _imports(ast.parse(p.read_text()))}
    assert not set(ALLOWED_UP) - edges


def test_the_walk_sees_the_package() -> None:
    """The check above is not vacuous: it reads every floor's modules and their imports."""
    floors = {_floor_of_file(p) for p in _sources()}
    assert {0, 1, 2, 3, 4} <= floors
    assert any(m.startswith("tiers.dialects") for p in _sources()
               for m, _ in _imports(ast.parse(p.read_text())))


def test_function_level_imports_say_why() -> None:
    """A `from tiers...` import inside a function stays only with a comment saying why (the
    start-up time it saves, or the cycle it breaks), on its line or the line above."""
    silent = []
    for path in _sources():
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if (isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith(
                        "tiers")) or (isinstance(inner, ast.Import) and any(
                        a.name.startswith("tiers") for a in inner.names)):
                    here, above = lines[inner.lineno - 1], lines[inner.lineno - 2]
                    if "#" not in here and not above.strip().startswith("#"):
                        silent.append(f"{path.relative_to(ROOT)}:{inner.lineno}: {here.strip()}")
    assert not silent, "function-level imports without a reason:\n" + "\n".join(silent)
