"""JAX primitives by name, for `lax.generic` (which stores only the name)."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from typing import Any

from jax._src import core as jcore  # not jax.extend's: that package imports Pallas (~15 ms)

_SEEN: dict[str, Any] = {}


def remember(prim: Any) -> None:
    """Record a primitive met while importing, so lookups by name find it at once."""
    _SEEN.setdefault(prim.name, prim)


@functools.cache
def _scan() -> dict[str, Any]:
    import jax._src.lax as jax_lax_pkg

    found: dict[str, Any] = {}
    modules = [f"jax._src.lax.{m.name}" for m in pkgutil.iter_modules(jax_lax_pkg.__path__)]
    modules += ["jax._src.lax.linalg", "jax._src.lax.fft", "jax._src.lax.special",
                "jax._src.prng", "jax._src.ad_util", "jax._src.random",
                "jax._src.random.prng",  # random_wrap, random_unwrap, ... (jax >= 0.10)
                "jax._src.pjit",  # sharding_constraint
                "jax._src.debugging", "jax._src.callback"]  # host callbacks
    for name in modules:
        try:
            module = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - optional backends may fail to import
            continue
        for value in vars(module).values():
            if isinstance(value, jcore.Primitive):
                found.setdefault(value.name, value)
    return found


def primitive(name: str) -> Any:
    """The JAX primitive called `name`."""
    prim = _SEEN.get(name) or _scan().get(name)
    if prim is None:
        raise KeyError(f"JAX has no primitive named '{name}'")
    return prim
