"""Names of a function's parameters and results: the pytree paths of the leaves they carry.

`tiers.jit` names `@main`'s parameters and results after the user's pytree (JAX's paths:
`params['w']`, `x`, `args[0]`; `result`, `result[0]`, `result['loss']`), so the IR, the
StableHLO, `tiers-run`'s messages and saved artifacts say which leaf is which:

    func.func @main(%params.w: tensor<3x2xf32> loc("params['w']"), %x: tensor<4x3xf32> loc("x"))
        -> (tensor<4x2xf32> {tiers.name = "result['y']"})

A parameter's name is its location, a `NameLoc` (`loc("params['w']")`, printed with debug
info), as MLIR names arguments and as JAX's StableHLO does; its SSA name (`%params.w`) is that
path made an identifier, so it shows without debug info too and names it in hand-written IR
(`%x`). MLIR has no location for a result: its name is `tiers.name` in the function's result
attributes, as JAX writes `jax.result_info`. Both survive passes (they live on the function, not
on the ops passes rewrite), printing and parsing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, NameLoc, NoneAttr, StringAttr
from xdsl.ir import Attribute, BlockArgument

NAME = "tiers.name"

_KEY = re.compile(r"\[(?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"|(-?\d+))\]")
_ODD = re.compile(r"[^\w$.-]+")
_FIRST = re.compile(r"[A-Za-z_$.-]")


def ssa_name(path: str) -> str | None:
    """`path` as an SSA name: `params['w'][0]` -> `params.w.0` (None for no name)."""
    text = _KEY.sub(lambda m: "." + next(g for g in m.groups() if g is not None), path)
    text = _ODD.sub("_", text).strip("_")
    if not text:
        return None
    return text if _FIRST.match(text) else "_" + text  # not a digit, nor a non-ASCII letter


def name_arguments(fn: func.FuncOp, names: Sequence[str]) -> None:
    """Name `fn`'s parameters (`names`: one path per parameter, "" for none)."""
    for arg, name in zip(fn.args, names, strict=True):
        if name:
            arg.location = NameLoc(StringAttr(name), NoneAttr())
            arg.name_hint = ssa_name(name)


def name_results(fn: func.FuncOp, names: Sequence[str]) -> None:
    """Name `fn`'s results (`names`: one path per result, "" for none) in their attributes."""
    if not any(names):
        return
    named = [DictionaryAttr({NAME: StringAttr(n)}) if n else DictionaryAttr({}) for n in names]
    fn.res_attrs = merged(fn.res_attrs, named)


def merged(old: ArrayAttr[DictionaryAttr] | None,
           new: Sequence[DictionaryAttr]) -> ArrayAttr[DictionaryAttr]:
    """Per-argument (or per-result) attribute dictionaries `new` added to `old`'s."""
    if old is None:
        return ArrayAttr(new)
    return ArrayAttr([DictionaryAttr({**a.data, **b.data})
                      for a, b in zip(old.data, new, strict=True)])


def argument_name(arg: BlockArgument) -> str | None:
    """The name of a parameter: its `NameLoc`, else its SSA name (hand-written `%x`)."""
    loc = arg.location
    if isinstance(loc, NameLoc):
        return loc.desc.data
    return arg.name_hint


def argument_names(fn: func.FuncOp) -> list[str | None]:
    """The name of each of `fn`'s parameters (None where it has none)."""
    if not fn.body.blocks:
        return [None] * len(fn.function_type.inputs)
    return [argument_name(a) for a in fn.args]


def result_names(fn: func.FuncOp) -> list[str | None]:
    """The name of each of `fn`'s results (`tiers.name`; None where it has none)."""
    n = len(fn.function_type.outputs)
    if fn.res_attrs is None:
        return [None] * n
    return [_string(d.data.get(NAME)) for d in fn.res_attrs.data]


def _string(attr: Attribute | None) -> str | None:
    return attr.data if isinstance(attr, StringAttr) else None
