"""Devices and placement, on JAX's own runtime: `tiers.devices()`, `tiers.device(...)`.

A device is a `jax.Device`; tiers adds only ways to name one (`"cpu:1"`: platform and device
id; `"gpu"`; an index into `tiers.devices()`). `with tiers.device(d):` is JAX's
`jax.default_device(d)`: eager ops and `tiers.jit` functions on uncommitted inputs run there,
and the eager kernel cache key holds the default device (frontend/eager.py). A Tensor placed
with `Tensor.to(d)` is committed to `d`, and ops on it run where it lives, as with
`jax.device_put`. Nothing here names a platform: the same code runs on CPU, GPU and TPU.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, TypeAlias

import jax
from xdsl.dialects import func
from xdsl.dialects.builtin import DictionaryAttr

from tiers.dialects import names, sharding

DeviceLike: TypeAlias = jax.Device | str | int


def devices(backend: str | None = None) -> list[jax.Device]:
    """The devices JAX sees (of `backend`, e.g. "cpu" or "gpu", if given), in JAX's order."""
    return list(jax.devices(backend))


def local_devices(backend: str | None = None) -> list[jax.Device]:
    """The devices attached to this process (all of them unless running multi-process)."""
    return list(jax.local_devices(backend=backend))


def resolve(device: DeviceLike) -> jax.Device:
    """The `jax.Device` that `device` names: a device, `"platform"` (its first device),
    `"platform:id"` (as `tiers.device` attributes in IR write it) or an index into `devices()`."""
    if isinstance(device, jax.Device):
        return device
    if isinstance(device, bool):
        raise TypeError(f"not a device: {device!r}")
    if isinstance(device, int):
        found = devices()
        if not -len(found) <= device < len(found):
            raise ValueError(f"device index {device} out of range: there are {len(found)} "
                             f"devices ({_names(found)})")
        return found[device]
    if isinstance(device, str):
        platform, _, index = device.partition(":")
        try:
            found = devices(platform)
        except RuntimeError:
            raise ValueError(f"no '{platform}' devices here (devices: {_names(devices())})"
                             ) from None
        if not index:
            return found[0]
        for d in found:
            if index.isdigit() and d.id == int(index):
                return d
        raise ValueError(f"no device '{device}' (devices: {_names(found)})")
    raise TypeError(f"not a device: {device!r} (give a jax.Device, 'platform[:index]' or an "
                    "index into tiers.devices())")


def _names(found: list[jax.Device]) -> str:
    return ", ".join(f"{d.platform}:{d.id}" for d in found)


@contextlib.contextmanager
def device(d: DeviceLike) -> Iterator[jax.Device]:
    """Run eager ops and jitted functions on `d` inside the block (`jax.default_device`)."""
    dev = resolve(d)
    with jax.default_device(dev):
        yield dev


def placement(d: Any) -> Any:
    """What `jax.device_put` takes for `d`: a `Sharding` as is, else the device `d` names."""
    if isinstance(d, jax.sharding.Sharding):
        return d
    return resolve(d)


# -- placement in IR -------------------------------------------------------------------------


def flat_shardings(prefix: Any, tree: Any) -> list[Any]:
    """One entry of `prefix` per leaf of `tree` (JAX's rule: a pytree prefix, a single
    sharding standing for every leaf)."""
    if prefix is None or _is_sharding_leaf(prefix):
        return [prefix] * len(jax.tree_util.tree_leaves(tree))
    out: list[Any] = []
    jax.tree_util.tree_map(lambda s, sub: out.extend([s] * len(jax.tree_util.tree_leaves(sub))),
                           prefix, tree, is_leaf=lambda x: x is None or _is_sharding_leaf(x))
    return out


def _is_sharding_leaf(x: Any) -> bool:
    return isinstance(x, jax.sharding.Sharding | jax.sharding.PartitionSpec)


def annotate(fn: func.FuncOp, device: jax.Device | None, ins: list[Any],
             outs: list[Any]) -> None:
    """Record on `fn` where it runs: `tiers.device`, or `tiers.mesh` and a `tiers.sharding`
    per parameter and result that has one (`ins`/`outs`: one sharding or None per leaf)."""
    if device is not None:
        fn.attributes[sharding.DEVICE] = sharding.device_attr(device)
    meshes: dict[str, Any] = {}

    def spec_of(s: Any) -> DictionaryAttr:
        mesh: jax.sharding.Mesh | jax.sharding.AbstractMesh
        if isinstance(s, jax.sharding.PartitionSpec):  # resolved against the context mesh
            # Inside tracing only the abstract mesh is known: axes, not device ids.
            mesh, spec = jax.sharding.get_abstract_mesh(), s
            if mesh.empty:
                raise sharding.ShardingError(f"a bare PartitionSpec {s} needs a mesh: give a "
                                             "NamedSharding or use `jax.set_mesh(mesh)`")
        elif isinstance(s, jax.sharding.NamedSharding):
            mesh, spec = s.mesh, s.spec
        else:
            raise sharding.ShardingError(
                f"tiers records NamedSharding and PartitionSpec in IR, not {type(s).__name__}")
        attr = sharding.mesh_of(mesh)
        meshes[str(attr)] = attr
        return DictionaryAttr({sharding.SHARDING: sharding.spec_attr(tuple(spec))})

    empty = DictionaryAttr({})
    arg_attrs = [empty if s is None else spec_of(s) for s in ins]
    res_attrs = [empty if s is None else spec_of(s) for s in outs]
    if len(meshes) > 1:
        raise sharding.ShardingError("the shardings of one tiers.jit function must share one "
                                     f"mesh, got {len(meshes)}: {', '.join(meshes)}")
    if meshes:
        fn.attributes[sharding.MESH] = next(iter(meshes.values()))
        if any(a.data for a in arg_attrs):  # next to the names already there (names.py)
            fn.arg_attrs = names.merged(fn.arg_attrs, arg_attrs)
        if any(a.data for a in res_attrs):
            fn.res_attrs = names.merged(fn.res_attrs, res_attrs)
