"""Plugins: third-party dialects and passes, found the way xDSL finds them, plus one-run loading.

A plugin is an xDSL `Universe(all_dialects=..., all_passes=...)`. Installed packages publish
theirs under the entry-point group `xdsl.universe` (so stock `xdsl-opt` sees them too); a module
or a `.py` file can also be loaded for one process with `load_plugin` (`tiers-opt
--load-plugin`). A module given to `load_plugin` exposes its universe as the module-level name
`UNIVERSE`, or names it explicitly as an entry point does: `pkg.module:MY_UNIVERSE`.

Name rule: a pass or dialect name belongs to one provider. tiers may replace an xDSL built-in
on purpose (tiers' tools then use tiers' version; the `tiers` entry point leaves such names out,
so stock `xdsl-opt` keeps xDSL's); any other name given by two providers is an error that names
both.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from xdsl.context import Context
from xdsl.ir import Dialect
from xdsl.universe import Universe

from tiers.dialects.array import Array
from tiers.dialects.fused import Fused
from tiers.dialects.lax import Lax
from tiers.passes import tiers_passes
from tiers.pipeline.config import SETTINGS

XDSL = "xdsl"
TIERS = "tiers"


class PluginError(ValueError):
    """A plugin that cannot be loaded, or two providers of one pass or dialect name."""


@dataclass(frozen=True)
class Provider:
    """Where a universe came from: `name` (entry point or module) and `origin` (how to load it)."""

    name: str
    origin: str


@dataclass
class Registry:
    """Every pass and dialect by name, with the provider of each."""

    passes: dict[str, Callable[[], Any]]
    dialects: dict[str, Callable[[], Any]]
    pass_providers: dict[str, Provider]
    dialect_providers: dict[str, Provider]


class _Plugins:
    """The process's plugin state: what `load_plugin` loaded, the merged table built from it
    (None until first asked, and again after a change), and the contexts to tell."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.loaded: dict[str, tuple[Provider, Universe]] = {}
        self.table: Registry | None = None
        # by id: a Context is unhashable
        self.contexts: weakref.WeakValueDictionary[int, Context] = weakref.WeakValueDictionary()


_PLUGINS = _Plugins()


def track_context(ctx: Context) -> Context:
    """Remember `ctx` so dialects of plugins loaded later get registered in it too."""
    with _PLUGINS.lock:
        _PLUGINS.contexts[id(ctx)] = ctx
    return ctx


def loaded_plugins() -> list[Provider]:
    """The plugins loaded for this process with `load_plugin`, in load order."""
    return [provider for provider, _ in _PLUGINS.loaded.values()]


def tiers_dialects() -> dict[str, Callable[[], Dialect]]:
    """tiers' own dialects, by name (xDSL's universe wants factories)."""
    return {"lax": lambda: Lax, "fused": lambda: Fused, "array": lambda: Array}


def _universes() -> list[tuple[Provider, Universe]]:
    """xDSL's own universe, tiers', other installed entry points (by name), loaded plugins."""
    found: list[tuple[Provider, Universe]] = []
    for ep in sorted(entry_points(group="xdsl.universe"), key=lambda e: (e.name != XDSL, e.name)):
        if ep.name == TIERS:
            continue  # tiers' full tables are added below
        try:
            universe = ep.load()
        except Exception as e:
            raise PluginError(f"cannot load the xdsl.universe entry point '{ep.name}' "
                              f"({ep.value}): {type(e).__name__}: {e}") from e
        if not isinstance(universe, Universe):
            raise PluginError(f"the xdsl.universe entry point '{ep.name}' ({ep.value}) is a "
                              f"{type(universe).__name__}, not an xdsl.universe.Universe")
        found.append((Provider(ep.name, ep.value), universe))
    # tiers' full tables: its entry point leaves out the xDSL names it replaces (see above).
    tiers = Universe(all_dialects=tiers_dialects(), all_passes=tiers_passes())
    found.insert(1 if found and found[0][0].name == XDSL else 0,
                 (Provider(TIERS, "tiers.universe:TIERS_UNIVERSE"), tiers))
    return found + list(_PLUGINS.loaded.values())


def _merge(kind: str, sources: list[tuple[Provider, dict[str, Callable[[], Any]]]]
           ) -> tuple[dict[str, Callable[[], Any]], dict[str, Provider]]:
    table: dict[str, Callable[[], Any]] = {}
    owner: dict[str, Provider] = {}
    for provider, entries in sources:
        for name, factory in entries.items():
            first = owner.get(name)
            if first is not None and first != provider and table[name] is not factory and not (
                    first.name == XDSL and provider.name == TIERS):  # tiers' deliberate override
                raise PluginError(
                    f"{kind} '{name}' is registered twice: by '{first.name}' ({first.origin}) "
                    f"and by '{provider.name}' ({provider.origin}); rename one of them")
            if first is None or table[name] is not factory:  # the same universe twice: one
                table[name], owner[name] = factory, provider
    return table, owner


def registry() -> Registry:
    """Every registered pass and dialect (built once per plugin set); `PluginError` on a clash."""
    table = _PLUGINS.table
    if table is not None:
        return table
    with _PLUGINS.lock:
        if _PLUGINS.table is None:
            _PLUGINS.table = _build()
        return _PLUGINS.table


def _build() -> Registry:
    universes = _universes()
    passes_, pass_owner = _merge("pass", [(p, u.all_passes) for p, u in universes])
    dialects, dialect_owner = _merge("dialect", [(p, u.all_dialects) for p, u in universes])
    return Registry(passes_, dialects, pass_owner, dialect_owner)


def invalidate() -> None:
    """Forget the table built from the plugin set and start a new plugin generation, which
    every cache of things built from registered passes keys on (`config.SETTINGS`)."""
    with _PLUGINS.lock:
        _PLUGINS.table = None
        SETTINGS.generation += 1


def _import_file(path: Path) -> Any:
    name = f"tiers_plugin_{path.stem}_{abs(hash(str(path.resolve()))):x}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"cannot load plugin file '{path}'")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[name]
        raise
    return module


def _find_universe(module: Any, attr: str | None, where: str) -> Universe:
    if attr is not None:
        if not hasattr(module, attr):
            raise PluginError(f"plugin '{where}' has no attribute '{attr}'")
        universe = getattr(module, attr)
    elif hasattr(module, "UNIVERSE"):
        universe = module.UNIVERSE
    else:
        found = [n for n, v in vars(module).items() if isinstance(v, Universe)]
        if len(found) != 1:
            raise PluginError(
                f"plugin '{where}' must define UNIVERSE = xdsl.universe.Universe(...) "
                f"(or be named as 'module:NAME'); found "
                f"{', '.join(found) if found else 'no Universe'}")
        universe = getattr(module, found[0])
    if not isinstance(universe, Universe):
        raise PluginError(f"plugin '{where}': {attr or 'UNIVERSE'} is a "
                          f"{type(universe).__name__}, not an xdsl.universe.Universe")
    return universe


def load_plugin(module_or_path: str | Path) -> Provider:
    """Register the passes and dialects of a plugin (`pkg.mod`, `pkg.mod:NAME` or `file.py`)
    for this process; loading the same plugin again does nothing. `PluginError` on failure."""
    target = str(module_or_path)
    if Path(target).exists():
        path_part, attr = target, ""
    else:
        path_part, _, attr = target.partition(":")
    path = Path(path_part)
    is_file = path.suffix == ".py" or path.is_file()
    try:
        if is_file:
            if not path.is_file():
                raise PluginError(f"plugin file '{path}' does not exist")
            key, module = str(path.resolve()), _import_file(path)
        else:
            key, module = path_part, importlib.import_module(path_part)
    except PluginError:
        raise
    except Exception as e:
        raise PluginError(f"cannot load plugin '{target}': {type(e).__name__}: {e}") from e
    key = f"{key}:{attr}" if attr else key
    if key in _PLUGINS.loaded:
        return _PLUGINS.loaded[key][0]
    universe = _find_universe(module, attr or None, target)
    provider = Provider(path.stem if is_file else path_part,
                        str(path.resolve()) if is_file else target)
    with _PLUGINS.lock:
        _PLUGINS.loaded[key] = (provider, universe)
        try:
            table = _build()
        except PluginError:
            del _PLUGINS.loaded[key]
            raise
        invalidate()
        _PLUGINS.table = table
        for ctx in list(_PLUGINS.contexts.values()):
            for name in universe.all_dialects:
                if name not in ctx.registered_dialect_names:
                    ctx.register_dialect(name, table.dialects[name])
    return provider
