"""Semantic checking: the program's values before and after each pass, on generated inputs.

The reference target (numpy, `targets/reference`) evaluates the entry function on a few
seeded random inputs; a pass whose output differs from its input's beyond tolerance is the
first wrong one. Comparing each stage with the stage before it blames the pass that made the
difference, not one that merely carried it on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType

from tiers.dialects import dtypes, lax_keys
from tiers.targets.walk import find_function

Values = list[list[np.ndarray]]  # per input set, the entry's outputs


@dataclass(frozen=True)
class Mismatch:
    """Where two stages disagree: input set, output index, position, and both values."""

    sample: int
    output: int
    where: tuple[int, ...]
    before: object
    after: object

    def __str__(self) -> str:
        at = f"[{', '.join(map(str, self.where))}]" if self.where else ""
        return (f"output {self.output}{at} on input set {self.sample}: "
                f"{self.before!r} before, {self.after!r} after")


def entry_of(module: ModuleOp) -> str | None:
    """`main` if the module has it, else its first public function (None: no function)."""
    names = [op.sym_name.data for op in module.body.block.ops
             if isinstance(op, func.FuncOp) and (op.sym_visibility is None
                                                  or op.sym_visibility.data == "public")]
    return "main" if "main" in names else (names[0] if names else None)


def inputs_for(module: ModuleOp, entry: str, samples: int = 2, seed: int = 0
               ) -> list[list[np.ndarray]]:
    """Seeded random arguments for `@entry`: normal floats (complex: both parts), small ints,
    random bools."""
    rng = np.random.default_rng(seed)
    types = find_function(module, entry).function_type.inputs.data
    sets = []
    for _ in range(samples):
        args = []
        for t in types:
            if not isinstance(t, TensorType):
                raise TypeError(f"@{entry} takes a {t}, not a tensor: cannot generate inputs")
            t = lax_keys.physical(t)  # PRNG keys: random key data (any data is a key)
            dtype, shape = dtypes.to_numpy(t.element_type), tuple(t.get_shape())
            value: np.ndarray
            if dtype == np.bool_:
                value = rng.random(shape) < 0.5
            elif np.issubdtype(dtype, np.integer):
                value = rng.integers(-8 if np.issubdtype(dtype, np.signedinteger) else 0, 9,
                                     shape)
            elif dtype.kind == "c":
                value = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
            else:
                value = rng.standard_normal(shape)
            args.append(np.asarray(value).astype(dtype))
        sets.append(args)
    return sets


def evaluate(module: ModuleOp, entry: str, inputs: Sequence[Sequence[np.ndarray]]) -> Values:
    """The outputs of `@entry` on each input set, by the reference target."""
    from tiers.targets import reference  # ~180 ms to import: only when semantics are checked

    return [reference.run(module, args, entry) for args in inputs]


def compare(before: Values, after: Values, rtol: float, atol: float) -> Mismatch | None:
    """The first element where `after` differs from `before` beyond tolerance (NaN == NaN)."""
    for s, (outs_a, outs_b) in enumerate(zip(before, after, strict=True)):
        if len(outs_a) != len(outs_b):
            return Mismatch(s, len(outs_a), (), f"{len(outs_a)} outputs", f"{len(outs_b)}")
        for o, (a, b) in enumerate(zip(outs_a, outs_b, strict=True)):
            if a.shape != b.shape:
                return Mismatch(s, o, (), f"shape {a.shape}", f"shape {b.shape}")
            if _inexact(a) or _inexact(b):
                ok = np.isclose(_wide(a), _wide(b), rtol=rtol, atol=atol, equal_nan=True)
            else:
                ok = a == b
            if not np.all(ok):
                where = tuple(int(i) for i in np.argwhere(~np.asarray(ok))[0])
                return Mismatch(s, o, where, a[where].item(), b[where].item())
    return None


def _inexact(x: np.ndarray) -> bool:
    """Floats and complex numbers, bfloat16 and float8 included (numpy kind "V", not "f")."""
    return x.dtype.kind in "fc" or x.dtype in _NARROW


def _wide(x: np.ndarray) -> np.ndarray:
    """bfloat16 and float8 as float64, which numpy's `isclose` computes with."""
    return x.astype(np.float64) if x.dtype in _NARROW else x


_NARROW = frozenset((dtypes.to_numpy(dtypes.element_type("bfloat16")), *dtypes.FLOAT8_DTYPES))
