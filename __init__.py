"""tiers: a multi-level compiler framework for array programs, on xDSL and JAX/XLA.

`import tiers` costs next to nothing: the public names (`tiers.jit`, `tiers.Tensor`,
`tiers.numpy`, ..., the list is `frontend/api.py`'s) are imported on first use (a module
`__getattr__`, PEP 562), and then are plain module attributes, as if imported here. So a
program, a library or a plugin that imports tiers and does not use it (yet) does not pay for
xDSL, the dialects and the JAX target; `import tiers.numpy` (`nn`, `random`) works at once.
With a `TIERS_*` environment variable set, the API loads at import, which reads them.
"""

from __future__ import annotations

import gc
import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import threading
from types import ModuleType
from typing import TYPE_CHECKING, Any

from tiers.version import __version__ as __version__

if TYPE_CHECKING:  # what `_load` binds, for type checkers and editors
    from tiers.frontend.api import *  # noqa: F403
    from tiers.frontend.jit import jit as jit

_LOCK = threading.RLock()
_LOADING: set[int] = set()  # threads inside `_load`


def _load() -> None:
    """Bind the public API here, once: `frontend/api.py`'s names and `jit`. A module of the
    API that asks for a public name while the API loads gets an AttributeError (as a
    partially imported module gives), not a second load."""
    with _LOCK:
        if "jit" in globals():
            return
        if threading.get_ident() in _LOADING:
            raise AttributeError("tiers' API is loading")
        _LOADING.add(threading.get_ident())
        collecting = gc.isenabled()
        gc.disable()  # see `_promote`
        try:
            from tiers.frontend import api  # here, not at the top: see the docstring
            from tiers.frontend.jit import jit  # (importing tiers stays cheap)
        finally:
            _LOADING.discard(threading.get_ident())
            if collecting:
                _promote()
                gc.enable()
        names = {name: getattr(api, name) for name in api.__all__}
        globals().update(names, __all__=["__version__", "jit", *api.__all__])
        globals()["jit"] = jit  # last: `_load` returns early once it is bound


def _promote() -> None:
    """Move every object the cycle collector tracks to its oldest generation, unscanned.

    Loading the API allocates some 50,000 long-lived objects (xDSL's and tiers' op classes,
    rule tables, JAX primitives). Collected as usual, they set off a dozen young collections
    that scan them again and again and a full collection that scans the whole heap, JAX's
    included, for almost no garbage: 60 ms of CPU, more than any module of tiers takes to
    import. So the collector is off while the API loads (as `passes.collector.gc_paused`
    keeps it off while IR is built) and what was allocated then goes straight to the oldest
    generation, which is what the collections would have done to it (`gc.freeze()` then
    `gc.unfreeze()` moves lists, scans nothing). Garbage cycles left there wait for the next
    full collection. Skipped when someone froze objects (a pre-fork server): unfreezing
    would thaw theirs."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


# tiers' subpackages and root modules: `tiers.pipeline` imports just that one (`from tiers
# import pipeline` in a module of the API asks for it while the API loads).
_SUBMODULES = frozenset(("dialects", "frontend", "passes", "pipeline", "targets", "tools",
                         "universe", "version"))


def __getattr__(name: str) -> Any:
    """A public name, imported on first use (after which it is a plain module attribute)."""
    if name in _SUBMODULES:
        return importlib.import_module(f"tiers.{name}")
    if name.startswith("_") and name != "__all__":
        raise AttributeError(f"module 'tiers' has no attribute '{name}'")
    _load()
    try:
        return globals()[name]  # the API's names, and the subpackages importing it loaded
    except KeyError:
        raise AttributeError(f"module 'tiers' has no attribute '{name}'") from None


def __dir__() -> list[str]:
    _load()
    return sorted(globals())


class _Namespaces(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `tiers.numpy`, `tiers.nn` and `tiers.random`: module objects that
    `frontend/namespaces.py` registers in `sys.modules`, not files, so `import tiers.numpy`
    loads the API first. The module is handed over as that file made it."""

    NAMES = frozenset(("tiers.numpy", "tiers.nn", "tiers.random"))
    SET_BY_IMPORT = ("__spec__", "__loader__", "__package__")

    def find_spec(self, fullname: str, path: Any = None, target: Any = None
                  ) -> importlib.machinery.ModuleSpec | None:
        return importlib.machinery.ModuleSpec(fullname, self) if fullname in self.NAMES else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        _load()
        module = sys.modules[spec.name]
        spec.loader_state = {k: module.__dict__.get(k) for k in self.SET_BY_IMPORT}
        return module

    def exec_module(self, module: ModuleType) -> None:
        # Undo what the import system wrote on the module (it was not loaded from here).
        module.__dict__.update(module.__spec__.loader_state)  # type: ignore[union-attr]


sys.meta_path.append(_Namespaces())

# The environment sets tiers up when it is imported (`TIERS_*`, pipeline/config.py; a typo in
# one is an error then, `TIERS_CACHE_DIR` points JAX's own cache there too): with any of them
# set, the API loads now, as it always did.
if any(name.startswith("TIERS_") for name in os.environ):
    _load()
