"""Device placement and sharding as builtin attributes, so they print, parse and survive passes.

A mesh (JAX's `jax.sharding.Mesh`) is a dictionary attribute naming its axes, their sizes and,
when known, the ids of its devices in mesh order:

    {axes = ["x", "y"], shape = array<i64: 4, 2>, devices = array<i64: 0, 1, 2, 3, 4, 5, 6, 7>}

A `PartitionSpec` is an array with one entry per dimension, each the (possibly empty) list of
mesh axes that dimension is split over: `P("x", None)` is `[["x"], []]`, `P(("x", "y"))` is
`[["x", "y"]]`. On a `func.func`, `tiers.mesh` holds the mesh its parameters and results are
sharded over, `tiers.sharding` (in an argument's or result's attribute dictionary) its spec,
and `tiers.device = "cpu:3"` (platform and device id) pins the whole function to one device.
`lax.sharding_constraint` carries its own mesh and spec as properties. JAX objects are only
built in `to_mesh` / `to_spec`, so the IR needs no JAX to print or verify.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    DictionaryAttr,
    StringAttr,
    i64,
)
from xdsl.ir import Attribute

MESH = "tiers.mesh"
SHARDING = "tiers.sharding"
DEVICE = "tiers.device"


class ShardingError(ValueError):
    """A sharding tiers cannot hold in IR, or IR whose sharding does not fit this machine."""


def mesh_attr(axes: Sequence[str], shape: Sequence[int],
              device_ids: Sequence[int] | None = None) -> DictionaryAttr:
    """The attribute of a mesh with named `axes` of sizes `shape` (devices optional)."""
    fields: dict[str, Attribute] = {
        "axes": ArrayAttr([StringAttr(a) for a in axes]),
        "shape": DenseArrayBase.from_list(i64, [int(s) for s in shape]),
    }
    if device_ids is not None:
        fields["devices"] = DenseArrayBase.from_list(i64, [int(d) for d in device_ids])
    return DictionaryAttr(fields)


def mesh_of(mesh: Any) -> DictionaryAttr:
    """The attribute of a JAX `Mesh` (with device ids) or `AbstractMesh` (without)."""
    try:
        ids = [d.id for d in mesh.devices.flat]
    except ValueError:  # an AbstractMesh has axes but no devices
        ids = None
    return mesh_attr(mesh.axis_names, mesh.axis_sizes, ids)


def read_mesh(attr: Attribute) -> tuple[list[str], list[int], list[int] | None]:
    """`(axes, shape, device ids or None)` of a mesh attribute; `ShardingError` if malformed."""
    if not isinstance(attr, DictionaryAttr):
        raise ShardingError(f"a mesh must be a dictionary attribute, got {attr}")
    d = attr.data
    axes, shape, devices = d.get("axes"), d.get("shape"), d.get("devices")
    if not (isinstance(axes, ArrayAttr) and all(isinstance(a, StringAttr) for a in axes)):
        raise ShardingError(f"a mesh needs 'axes', an array of strings: {attr}")
    if not (isinstance(shape, DenseArrayBase) and shape.elt_type == i64):
        raise ShardingError(f"a mesh needs 'shape', an array<i64>: {attr}")
    names = [a.data for a in axes]
    sizes = [int(s) for s in shape.get_values()]
    if len(names) != len(sizes) or len(set(names)) != len(names) or min(sizes, default=1) < 1:
        raise ShardingError(f"mesh axes {names} and shape {sizes} do not match: {attr}")
    ids = None
    if devices is not None:
        if not (isinstance(devices, DenseArrayBase) and devices.elt_type == i64):
            raise ShardingError(f"mesh 'devices' must be an array<i64>: {attr}")
        ids = [int(i) for i in devices.get_values()]
        n = 1
        for s in sizes:
            n *= s
        if len(ids) != n or len(set(ids)) != n:
            raise ShardingError(f"mesh of shape {sizes} needs {n} distinct device ids, got {ids}")
    return names, sizes, ids


def spec_attr(spec: Sequence[Any]) -> ArrayAttr:
    """The attribute of a `PartitionSpec` (any sequence of None, axis name or axis names)."""
    dims = []
    for entry in spec:
        if entry is None:
            names: tuple = ()
        elif isinstance(entry, str):
            names = (entry,)
        elif isinstance(entry, tuple | list) and all(isinstance(n, str) for n in entry):
            names = tuple(entry)
        else:
            raise ShardingError(f"tiers cannot hold partition spec entry {entry!r} in IR "
                                "(supported: None, an axis name, a tuple of axis names)")
        dims.append(ArrayAttr([StringAttr(n) for n in names]))
    return ArrayAttr(dims)


def read_spec(attr: Attribute) -> list[tuple[str, ...]]:
    """The axis names of each dimension of a spec attribute; `ShardingError` if malformed."""
    if not isinstance(attr, ArrayAttr):
        raise _malformed_spec(attr)
    dims: list[tuple[str, ...]] = []
    for d in attr:
        names = [n.data for n in d if isinstance(n, StringAttr)] if isinstance(d, ArrayAttr) else []
        if not isinstance(d, ArrayAttr) or len(names) != len(d):
            raise _malformed_spec(attr)
        dims.append(tuple(names))
    return dims


def _malformed_spec(attr: Attribute) -> ShardingError:
    return ShardingError(f"a partition spec must be an array of arrays of axis names, "
                         f"like [[\"x\"], []], got {attr}")


def check(mesh: Attribute, spec: Attribute, rank: int) -> None:
    """`spec` shards a rank-`rank` value over axes of `mesh`, each axis at most once."""
    axes, _, _ = read_mesh(mesh)
    dims = read_spec(spec)
    if len(dims) > rank:
        raise ShardingError(f"partition spec {spec} has {len(dims)} entries for a value of "
                            f"rank {rank}")
    used = [n for d in dims for n in d]
    unknown = [n for n in used if n not in axes]
    if unknown:
        raise ShardingError(f"partition spec {spec} names axes {unknown} not in mesh {axes}")
    if len(set(used)) != len(used):
        raise ShardingError(f"partition spec {spec} uses a mesh axis twice")


def to_spec(attr: Attribute) -> Any:
    """The `jax.sharding.PartitionSpec` of a spec attribute."""
    from jax.sharding import PartitionSpec

    dims = read_spec(attr)
    return PartitionSpec(*(None if not d else d[0] if len(d) == 1 else d for d in dims))


def to_mesh(attr: Attribute) -> Any:
    """The `jax.sharding.Mesh` a mesh attribute names, on this process's devices.

    With device ids, those devices in that order (all of `jax.devices()`, so a mesh can span
    processes); without, the first devices of `jax.devices()`.
    """
    import jax
    import numpy as np
    from jax.sharding import AxisType, Mesh

    axes, sizes, ids = read_mesh(attr)
    available = {d.id: d for d in jax.devices()}
    n = int(np.prod(sizes))
    if ids is None:
        if n > len(available):
            raise ShardingError(f"mesh {dict(zip(axes, sizes))} needs {n} devices, "
                                f"this process sees {len(available)}")
        devices = list(available.values())[:n]
    else:
        missing = [i for i in ids if i not in available]
        if missing:
            raise ShardingError(f"mesh {dict(zip(axes, sizes))} names device ids {missing}, "
                                f"which this process does not have (it has "
                                f"{sorted(available)})")
        devices = [available[i] for i in ids]
    # Auto axes: the partitioner propagates shardings, as for a `Mesh` built by hand.
    return Mesh(np.array(devices, dtype=object).reshape(sizes), tuple(axes),
                axis_types=(AxisType.Auto,) * len(axes))


def device_attr(device: Any) -> StringAttr:
    """`"platform:id"` for a JAX device (`"cpu:3"`, `"gpu:0"`)."""
    return StringAttr(f"{device.platform}:{device.id}")


def to_device(attr: Attribute) -> Any:
    """The JAX device a `tiers.device` attribute names; `ShardingError` if there is none."""
    import jax

    text = attr.data if isinstance(attr, StringAttr) else None
    platform, _, ident = (text or "").partition(":")
    if not platform or not ident.isdigit():
        raise ShardingError(f"tiers.device must be a string \"platform:id\" (like \"cpu:0\"), "
                            f"got {attr}")
    for d in jax.devices():
        if d.platform == platform and d.id == int(ident):
            return d
    have = ", ".join(f"{d.platform}:{d.id}" for d in jax.devices())
    raise ShardingError(f"no device {text} here (devices: {have})")
