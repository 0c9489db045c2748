"""Random JAX programs run by `jax.jit` and by every way tiers can run them; any difference is
shrunk to a minimal program and printed as Python source.

A program is data: input signatures, an input seed and a list of `Step`s (an op name, operand
picks and small integer parameters). Each step is resolved against the values before it when
the source is emitted (an operand pick names an earlier value, or the nearest one before it
that the op can take; an axis is taken modulo the rank; mismatched dtypes are cast up bool <
int32 < float32; a shape that does not broadcast is conformed), so every list of steps is a
valid program and the shrinker may drop any step (what read its value reads its first
operand instead). The
source takes the namespaces as parameters, `def f(np_, lax, x0, ...)`, so the same program
runs with `jax.numpy` (traced) and with `tiers.numpy` on `tiers.Tensor`s (eager).

Ops: elementwise unary and binary ops over float32, int32 and bool with broadcasting, casts up,
comparisons, `where`, `clip`, reductions, `cumsum`, reshapes, transposes, slices (strided and
reversed), `broadcast_to`, `dot`, single float16/bfloat16 ops, constants (0, 1, -1, -0.0,
+-inf, nan, int32 extremes), `lax.cond`, `lax.while_loop`, `lax.fori_loop` and `lax.scan`
with small bodies, and repeats (the expression of an earlier step built again, for `cse`).
Outputs are the values no later step reads, except a few left dead for `dce`.

Each program runs under `jax.jit` (the oracle) and: `tiers.jit` at O0, O1, O2; each of tiers'
own passes alone on the imported module (JAX target; identical IR texts run once); the numpy
reference target on the imported and on the O2 module; the O2 module printed, parsed back and
run; and eagerly on `tiers.Tensor`s (programs without `lax` control flow).

Comparison rules (`same`):
- shapes and dtypes must be equal; int32 and bool values exactly equal;
- float32: NaN matches only NaN, an infinity only the same infinity, finite values
  `allclose(rtol=1e-5, atol=1e-6)` plus the value's error bound (below);
- -0.0 and 0.0 are equal. XLA's simplifier drops the sign of zeros (`x + 0.0` -> `x`,
  `max(-0.0, 0.0)` either way), so a zero's sign is not part of what `jax.jit` promises.
  A wrong sign is still caught wherever it changes a value (a division by the zero, `log`,
  a comparison); only a program returning the bare sign of a zero (`signbit`) would need a
  bitwise rule, and none is generated.
- The oracle's own deviation is kept out of the programs: XLA rewrites `convert(pred) * x`
  to `select(pred, x, 0)`, giving 0.0 where IEEE gives NaN for x = NaN or inf (the reference
  target is right there), so bool -> float casts are emitted as `where(b, 1.0, 0.0)`.
- Exactness: every float value carries whether it is computed without rounding (small dyadic
  inputs, +, -, *, max, min, floor, shape ops, sums within 2**24). Comparisons, `floor`, `sign`,
  casts to bool and `cond`/`where` predicates only take exact operands, so an ulp of
  difference from a different fusion or summation order never flips a branch.
- Error: every float value also carries `err`, a bound on how far two correct
  implementations may be apart, allowed on top of rtol/atol (2 * err). Two sources:
  (1) magnitude: a rounded value of magnitude >= 2**20 (int32 extremes cast to float) differs
  by ulps at that magnitude between summation orders, and cancellation keeps the absolute
  difference (a dot of [2**31, 3, 2**31] and [-2, 2, 2] is 0 or 6 in float32; the numpy
  reference and XLA disagree); (2) low precision: XLA computes float16/bfloat16 ops in
  float32 and may drop the roundings to the low precision ("excess precision",
  `xla_allow_excess_precision`, on by default: bfloat16(25) * bfloat16(25) gives 625 under
  `jax.jit`, 624 in IEEE bfloat16 and in the reference target), a relative 2**-8 (bfloat16)
  or 2**-11 (float16) per rounding, and a value past float16's range may be inf on one side
  only. `err` propagates by Lipschitz bounds (sums add, products scale by the other bound,
  exp by e**bound); through log, sqrt and division a nonzero error makes the value unknown
  (`err = inf`): such an output is compared by shape and dtype only, and never feeds
  `isnan` or a predicate.

`python tests/fuzz_programs.py --count N | --seconds S [--seed K] [--jobs J]`: prints
programs/second and each minimal mismatch; exits 1 if there was one.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import random
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

FLOAT, INT, BOOL = "float32", "int32", "bool"
RANK = {BOOL: 0, INT: 1, FLOAT: 2}
EXACT_LIMIT = 2.0 ** 24  # a float32 value is exact when bound * 2**frac_bits stays below this
F_CONSTS = (0.0, -0.0, 1.0, -1.0, 0.5, 2.0, math.inf, -math.inf, math.nan)
I_CONSTS = (0, 1, -1, 2, 7, 2 ** 31 - 1, -(2 ** 31))
F_INPUTS = (-2.0, -1.5, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0, 3.0, math.inf, -math.inf, math.nan)
SHAPES = ((), (3,), (4,), (2, 3), (3, 4), (2, 2, 3))
CONTROL = ("cond", "while", "fori", "scan")


# ---------------------------------------------------------------------------------------
# Programs as data.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One op: `args` pick operands (modulo the eligible values), `params` its variant."""

    op: str
    args: tuple[int, ...]
    params: tuple[int, ...]


@dataclass(frozen=True)
class Program:
    inputs: tuple[tuple[tuple[int, ...], str], ...]
    steps: tuple[Step, ...]
    data_seed: int


@dataclass(frozen=True)
class Val:
    name: str
    shape: tuple[int, ...]
    dtype: str
    frac: int | None = 0  # float32: fraction bits of an exact value; None when rounded
    bound: float = 0.0  # float32: |x| <= bound for finite x (math.inf: unknown)
    err: float = 0.0  # float32: |x - x'| between two correct implementations (see `same`)

    @property
    def exact(self) -> bool:
        return self.dtype != FLOAT or (self.frac is not None and self.err == 0
                                       and self.bound * 2.0 ** self.frac < EXACT_LIMIT)


OPS = ("unary", "unary", "binary", "binary", "binary", "compare", "where", "clip", "reduce",
       "cumsum", "reshape", "transpose", "slice", "broadcast", "dot", "const", "const",
       "cast", "lowp", "repeat", "repeat", "cond", "while", "fori", "scan")


def generate(seed: int, max_steps: int = 10) -> Program:
    """The program of `seed` (the same one on every machine and run)."""
    rng = random.Random(seed)
    inputs = tuple((rng.choice(SHAPES), rng.choice((FLOAT, FLOAT, INT, BOOL)))
                   for _ in range(rng.randint(1, 3)))
    steps = tuple(Step(rng.choice(OPS), tuple(rng.randrange(len(inputs) + i) for _ in range(3)),
                       tuple(rng.randrange(64) for _ in range(4)))
                  for i in range(rng.randint(1, max_steps)))
    return Program(inputs, steps, seed)


def input_values(program: Program) -> list[np.ndarray]:
    """The arguments: small dyadic floats with +-0.0, +-inf and NaN; small and extreme ints."""
    rng = np.random.default_rng(program.data_seed)
    out = []
    for shape, dtype in program.inputs:
        if dtype == FLOAT:
            out.append(rng.choice(np.array(F_INPUTS, np.float32), shape))
        elif dtype == INT:
            out.append(rng.choice(np.array([-3, -2, -1, 0, 1, 2, 3, 5, 2 ** 31 - 1],
                                           np.int32), shape))
        else:
            out.append(rng.random(shape) < 0.5)
    return [np.asarray(x) for x in out]


# ---------------------------------------------------------------------------------------
# Source emission: each step resolved against the values before it.
# ---------------------------------------------------------------------------------------


BIG = 2.0 ** 20  # below this magnitude float32 rounding stays within `same`'s rtol and atol
LOWP_BITS = {"float16": 11, "bfloat16": 8}  # significand bits: relative rounding 2**-bits
LOWP_MAX = {"float16": 65504.0, "bfloat16": 3.0e38}


def _settle(v: Val) -> Val:
    """`v` after its op: a rounded float32 value of magnitude >= BIG may differ by an ulp at
    that magnitude between summation or fusion orders, and cancellation keeps that absolute
    difference (2**31 - 2**31 + 6 is 0 or 6), so it is carried as error."""
    if v.err != v.err:  # inf * 0 or inf - inf on the way: nothing is known
        v = dataclasses.replace(v, err=math.inf)
    if v.dtype != FLOAT or v.exact or not BIG <= v.bound < math.inf:
        return v
    return dataclasses.replace(v, err=v.err + v.bound * 2.0 ** -22)


def _lipschitz_only(v: Val, bound: float) -> Val:
    """A function with no useful Lipschitz bound (log, sqrt, division) of `v`: an input
    error makes the result unknown (log(0) vs log(6))."""
    return dataclasses.replace(v, frac=None, bound=bound, err=math.inf if v.err else 0.0)


def _size(shape: Sequence[int]) -> int:
    return math.prod(shape)


def _cast(v: Val, dtype: str) -> Val:
    """`v` as `dtype` (never down: float -> int is implementation-defined for NaN and inf)."""
    assert RANK[dtype] >= RANK[v.dtype], (v, dtype)
    if v.dtype == dtype:
        return v
    if v.dtype == BOOL and dtype == FLOAT:
        # Not `astype`: XLA rewrites convert(pred) * x to select(pred, x, 0), which gives 0.0
        # where IEEE (and the reference target) give NaN for x = NaN or inf.
        return Val(f"np_.where({v.name}, 1.0, 0.0).astype(np_.float32)", v.shape, dtype, 0, 1.0)
    bound = 1.0 if v.dtype == BOOL else 2.0 ** 31
    return Val(f"{v.name}.astype(np_.{dtype if dtype != BOOL else 'bool_'})", v.shape, dtype,
               0, bound)


def _conform(v: Val, shape: tuple[int, ...]) -> Val:
    """`v` broadcastable to `shape`: itself, or its first elements reshaped, or its first."""
    try:
        if np.broadcast_shapes(v.shape, shape) == shape:
            return v
    except ValueError:
        pass
    n = _size(shape)
    if _size(v.shape) >= n and n > 0:
        return dataclasses.replace(v, name=f"{v.name}.reshape(-1)[:{n}].reshape({shape})",
                                   shape=shape)
    return dataclasses.replace(v, name=f"{v.name}.reshape(-1)[0]", shape=())


class Emitter:
    """Python source for a program; `vals` are the values so far (inputs, then steps)."""

    def __init__(self, program: Program):
        self.vals = [Val(f"x{i}", shape, dtype, 1 if dtype == FLOAT else 0,
                         3.0 if dtype == FLOAT else 0.0)
                     for i, (shape, dtype) in enumerate(program.inputs)]
        self.lines: list[str] = []
        self.exprs: list[tuple[str, Val]] = []  # each step's expression, for `repeat`
        self.read: set[str] = set()

    def pick(self, i: int, ok: Callable[[Val], bool] = lambda v: True) -> Val:
        """Value `i` if it is `ok`, else the nearest `ok` one before it (wrapping around)."""
        n = len(self.vals)
        order = [self.vals[(i - k) % n] for k in range(n)]
        v = next((v for v in order if ok(v)), order[0])
        self.read.add(v.name)
        return v

    def emit(self, step: Step) -> None:
        expr, val = RULES[step.op](self, step)
        val = _settle(val)
        name = f"v{len(self.vals)}"
        self.lines.append(f"    {name} = {expr}")
        self.exprs.append((expr, val))
        self.vals.append(dataclasses.replace(val, name=name))


def _promote(a: Val, b: Val) -> tuple[Val, Val]:
    dtype = max(a.dtype, b.dtype, key=RANK.__getitem__)
    return _cast(a, dtype), _cast(b, dtype)


UNARY_EXACT = ("np_.negative({})", "np_.abs({})", "np_.floor({})", "np_.sign({})")
UNARY_ROUNDED = ("np_.sin({})", "np_.exp({})", "np_.tanh({})", "np_.sqrt({})", "np_.log({})")


def _unary(em: Emitter, s: Step) -> tuple[str, Val]:
    v = em.pick(s.args[0])
    if v.dtype == BOOL:
        return f"np_.logical_not({v.name})", v
    if v.dtype == INT:
        form = ("np_.negative({})", "np_.abs({})", "np_.sign({})", "~{}")[s.params[0] % 4]
        return form.format(v.name), v
    forms = UNARY_EXACT + UNARY_ROUNDED
    form = forms[s.params[0] % len(forms)]
    if form in UNARY_EXACT[2:] and not v.exact:
        form = "np_.negative({})"  # floor and sign of a rounded value could flip
    expr = form.format(v.name)
    if form not in UNARY_ROUNDED:
        return expr, dataclasses.replace(
            v, frac=0 if "floor" in form or "sign" in form else v.frac,
            bound=1.0 if "sign" in form else v.bound)
    if "sin" in form or "tanh" in form:  # 1-Lipschitz
        return expr, dataclasses.replace(v, frac=None, bound=1.0)
    if "exp" in form:
        scale = math.exp(v.bound) if v.bound < 88 else math.inf
        return expr, dataclasses.replace(v, frac=None, bound=scale, err=v.err * scale
                                         if v.err else 0.0)
    if "sqrt" in form:
        return expr, _lipschitz_only(v, math.sqrt(v.bound))
    return expr, _lipschitz_only(v, max(104.0, math.log(max(v.bound, 1.0))))


BINARY = {FLOAT: ("+", "-", "*", "np_.maximum", "np_.minimum", "/"),
          INT: ("+", "-", "*", "np_.maximum", "np_.minimum", "&", "|", "^"),
          BOOL: ("&", "|", "^", "np_.logical_and", "np_.logical_or")}


def _binary(em: Emitter, s: Step) -> tuple[str, Val]:
    a, b = _promote(em.pick(s.args[0]), em.pick(s.args[1]))
    b = _conform(b, a.shape)
    if s.params[1] % 2:
        a, b = b, a
    shape = tuple(np.broadcast_shapes(a.shape, b.shape))
    op = BINARY[a.dtype][s.params[0] % len(BINARY[a.dtype])]
    expr = f"{op}({a.name}, {b.name})" if op.startswith("np_") else f"({a.name} {op} {b.name})"
    if a.dtype != FLOAT:
        return expr, Val("", shape, a.dtype)
    frac = None if a.frac is None or b.frac is None else max(a.frac, b.frac)
    bound, err = max(a.bound, b.bound), max(a.err, b.err)
    if op in "+-":
        bound, err = a.bound + b.bound, a.err + b.err
    elif op == "*":
        frac = None if frac is None else a.frac + b.frac  # type: ignore[operator]
        bound = a.bound * b.bound
        err = (a.err * b.bound if a.err else 0.0) + (b.err * a.bound if b.err else 0.0) + \
            a.err * b.err
    elif op == "/":
        bound = a.bound * 2.0 ** b.frac if b.exact and b.frac is not None else math.inf
        return expr, _lipschitz_only(Val("", shape, FLOAT, None, 0.0, a.err + b.err), bound)
    return expr, Val("", shape, FLOAT, frac, bound, err)


def _exact_pair(em: Emitter, s: Step) -> tuple[Val, Val]:
    """Two exact operands of one dtype (the first with itself when casting would round)."""
    a = em.pick(s.args[0], lambda v: v.exact)
    b = em.pick(s.args[1], lambda v: v.exact and v.dtype == a.dtype)
    if b.dtype != a.dtype:
        b = a
    return a, _conform(b, a.shape)


def _compare(em: Emitter, s: Step) -> tuple[str, Val]:
    a, b = _exact_pair(em, s)
    op = ("<", "<=", "==", "!=", ">", ">=")[s.params[0] % 6]
    return f"({a.name} {op} {b.name})", Val("", tuple(np.broadcast_shapes(a.shape, b.shape)),
                                            BOOL)


def _predicate(em: Emitter, i: int) -> Val:
    c = em.pick(i, lambda v: v.exact)
    if c.dtype == BOOL:
        return c
    if not c.exact:
        return _isnan(c)
    return Val(f"({c.name} > 0)", c.shape, BOOL)


def _isnan(v: Val) -> Val:
    """Where `v` is NaN: the same on both sides unless `v`'s error is unknown (sqrt of a
    cancelled -0 or +6), then a constant."""
    text = f"np_.isnan({v.name})" if v.err < math.inf else f"np_.full({v.shape}, False)"
    return Val(text, v.shape, BOOL)


def _where(em: Emitter, s: Step) -> tuple[str, Val]:
    c = _predicate(em, s.args[0])
    a, b = _promote(em.pick(s.args[1]), em.pick(s.args[2]))
    b = _conform(b, a.shape)
    c = _conform(c, tuple(np.broadcast_shapes(a.shape, b.shape)))
    shape = tuple(np.broadcast_shapes(c.shape, a.shape, b.shape))
    return f"np_.where({c.name}, {a.name}, {b.name})", _join(a, b, shape)


def _join(a: Val, b: Val, shape: tuple[int, ...]) -> Val:
    """A value that is one of `a`, `b` elementwise."""
    frac = None if a.frac is None or b.frac is None else max(a.frac, b.frac)
    return Val("", shape, a.dtype, frac, max(a.bound, b.bound), max(a.err, b.err))


def _clip(em: Emitter, s: Step) -> tuple[str, Val]:
    v = em.pick(s.args[0], lambda v: v.dtype != BOOL)
    if v.dtype == BOOL:
        return f"np_.logical_not({v.name})", v
    lo, hi = sorted((s.params[0] % 5 - 2, s.params[1] % 5 - 2))
    return f"np_.clip({v.name}, {lo}, {hi})", dataclasses.replace(
        v, bound=min(v.bound, 2.0) if v.dtype == FLOAT else 0.0)


def _axis(v: Val, p: int) -> int | None:
    return None if not v.shape or p % (len(v.shape) + 1) == len(v.shape) else p % len(v.shape)


def _reduce(em: Emitter, s: Step) -> tuple[str, Val]:
    v = em.pick(s.args[0])
    axis, keep = _axis(v, s.params[1]), bool(s.params[2] % 2)
    kinds = {BOOL: ("any", "all"), INT: ("sum", "max", "min", "prod"),
             FLOAT: ("sum", "max", "min", "mean")}[v.dtype]
    kind = kinds[s.params[0] % len(kinds)]
    n = _size(v.shape) if axis is None else v.shape[axis]
    shape = (tuple(1 if keep else d for d in v.shape) if axis is None and keep
             else () if axis is None else
             tuple(1 if i == axis else d for i, d in enumerate(v.shape) if keep or i != axis))
    out = dataclasses.replace(v, shape=shape)
    if kind == "sum":
        out = dataclasses.replace(out, bound=v.bound * n, err=v.err * n)
    elif kind == "mean":
        out = dataclasses.replace(out, frac=None)
    return f"np_.{kind}({v.name}, axis={axis}, keepdims={keep})", out


def _cumsum(em: Emitter, s: Step) -> tuple[str, Val]:
    v = em.pick(s.args[0], lambda v: bool(v.shape) and v.dtype != BOOL)
    if v.dtype == BOOL:
        return f"np_.negative({_cast(v, INT).name})", Val("", v.shape, INT)
    if not v.shape:
        return f"np_.negative({v.name})", v
    axis = s.params[0] % len(v.shape)
    return (f"np_.cumsum({v.name}, axis={axis})",
            dataclasses.replace(v, bound=v.bound * v.shape[axis], err=v.err * v.shape[axis]))


def _reshape(em: Emitter, s: Step) -> tuple[str, Val]:
    v = em.pick(s.args[0])
    n = _size(v.shape)
    options = [(n,), (1, n), (n, 1)] + [(d, n // d) for d in range(2, n) if n % d == 0]
    shape = options[s.params[0] % len(options)]
    return f"{v.name}.reshape({shape})", dataclasses.replace(v, shape=shape)


def _transpose(em: Emitter, s: Step) -> tuple[str, Val]:
    v = em.pick(s.args[0], lambda v: len(v.shape) >= 2)
    perm = list(range(len(v.shape)))
    random.Random(s.params[0]).shuffle(perm)
    return (f"np_.transpose({v.name}, {tuple(perm)})",
            dataclasses.replace(v, shape=tuple(v.shape[i] for i in perm)))


def _slice(em: Emitter, s: Step) -> tuple[str, Val]:
    v = em.pick(s.args[0], lambda v: bool(v.shape))
    if not v.shape:
        return f"{v.name}.reshape((1,))", dataclasses.replace(v, shape=(1,))
    axis = s.params[0] % len(v.shape)
    d = v.shape[axis]
    start = s.params[1] % d
    stop = start + 1 + s.params[2] % (d - start)
    step = (1, 1, 2, -1)[s.params[3] % 4]
    index = f"{start}:{stop}:{step}" if step > 0 else "::-1"
    size = len(range(start, stop, step)) if step > 0 else d
    shape = tuple(size if i == axis else e for i, e in enumerate(v.shape))
    return f"{v.name}[{':, ' * axis}{index}]", dataclasses.replace(v, shape=shape)


def _broadcast(em: Emitter, s: Step) -> tuple[str, Val]:
    v = em.pick(s.args[0], lambda v: len(v.shape) <= 2)
    shape = (s.params[0] % 3 + 1, *v.shape)
    return f"np_.broadcast_to({v.name}, {shape})", dataclasses.replace(v, shape=shape)


def _dot(em: Emitter, s: Step) -> tuple[str, Val]:
    a = em.pick(s.args[0], lambda v: len(v.shape) in (1, 2) and v.dtype != BOOL)
    if len(a.shape) not in (1, 2):
        a = dataclasses.replace(a, name=f"{a.name}.reshape(-1)", shape=(_size(a.shape),))
    a = _cast(a, INT) if a.dtype == BOOL else a
    k, m = a.shape[-1], s.params[0] % 3 + 1
    b_shape = (k,) if s.params[1] % 2 else (k, m)
    a, b = _promote(a, em.pick(s.args[1]))
    b = _conform(b, b_shape)
    b = dataclasses.replace(b, name=f"np_.broadcast_to({b.name}, {b_shape})", shape=b_shape)
    shape = a.shape[:-1] + b_shape[1:]
    if a.dtype != FLOAT:
        return f"np_.dot({a.name}, {b.name})", Val("", shape, a.dtype)
    err = k * ((a.err * b.bound if a.err else 0.0) + (b.err * a.bound if b.err else 0.0)
               + a.err * b.err)
    frac = None if a.frac is None or b.frac is None else a.frac + b.frac
    return f"np_.dot({a.name}, {b.name})", Val("", shape, FLOAT, frac, a.bound * b.bound * k,
                                               err)


def _const(em: Emitter, s: Step) -> tuple[str, Val]:
    dtype = (FLOAT, FLOAT, INT, BOOL)[s.params[0] % 4]
    shape = SHAPES[s.params[2] % len(SHAPES)] if s.params[3] % 2 else ()
    if dtype == FLOAT:
        c = F_CONSTS[s.params[1] % len(F_CONSTS)]
        text, bound = repr(c) if math.isfinite(c) else f"float('{c}')", abs(c)
    elif dtype == INT:
        c = I_CONSTS[s.params[1] % len(I_CONSTS)]
        text, bound = str(c), 0.0
    else:
        text, bound = str(bool(s.params[1] % 2)), 0.0
    np_dtype = "bool_" if dtype == BOOL else dtype
    bound = bound if math.isfinite(bound) else 0.0
    return (f"np_.full({shape}, {text}, dtype=np_.{np_dtype})",
            Val("", shape, dtype, 1 if dtype == FLOAT else 0, bound))


def _cast_step(em: Emitter, s: Step) -> tuple[str, Val]:
    v = em.pick(s.args[0])
    if v.dtype == FLOAT:
        if not v.exact:
            return _isnan(v).name, Val("", v.shape, BOOL)
        return f"({v.name} != 0)", Val("", v.shape, BOOL)
    up = _cast(v, (INT, FLOAT)[s.params[0] % 2] if v.dtype == BOOL else FLOAT)
    return up.name, up


def _lowp(em: Emitter, s: Step) -> tuple[str, Val]:
    """One +, -, *, max or min in float16 or bfloat16, back in float32: correctly rounded
    whether computed in the low precision or in float32 and rounded (24 >= 2 * 11 + 2 bits)."""
    a, b = (_cast(em.pick(i), FLOAT) for i in s.args[:2])
    b = _conform(b, a.shape)
    low = ("float16", "bfloat16")[s.params[0] % 2]
    op = ("+", "-", "*", "np_.maximum", "np_.minimum")[s.params[1] % 5]
    x, y = (f"{v.name}.astype(np_.{low})" for v in (a, b))
    expr = f"{op}({x}, {y})" if op.startswith("np_") else f"({x} {op} {y})"
    # XLA may compute in float32 and drop the roundings to `low` ("excess precision",
    # xla_allow_excess_precision, on by default): each of the three roundings may be
    # missing, a relative 2**-bits each; past `low`'s range, inf on one side only.
    bound = {"+": a.bound + b.bound, "-": a.bound + b.bound, "*": a.bound * b.bound}.get(
        op, max(a.bound, b.bound))
    err = (a.err + b.err if op in "+-" else
           (a.err * b.bound if a.err else 0.0) + (b.err * a.bound if b.err else 0.0)
           + a.err * b.err if op == "*" else max(a.err, b.err))
    err = err + 4 * bound * 2.0 ** -LOWP_BITS[low]
    if max(a.bound, b.bound, bound) >= LOWP_MAX[low]:
        err = math.inf
    return (f"{expr}.astype(np_.float32)",
            Val("", tuple(np.broadcast_shapes(a.shape, b.shape)), FLOAT, None, bound, err))


def _repeat(em: Emitter, s: Step) -> tuple[str, Val]:
    if not em.exprs:
        return _unary(em, s)
    expr, val = em.exprs[s.args[0] % len(em.exprs)]
    return expr, val


def _body(v: Val, p: int, arg: str) -> tuple[str, Val]:
    """A small shape- and dtype-preserving body on `arg` (of `v`'s type)."""
    if v.dtype == BOOL:
        return f"np_.logical_not({arg})", v
    if v.dtype == INT:
        return (f"{arg} * 3 + 1", f"np_.maximum({arg}, 1) - 2")[p % 2], v
    forms = (f"{arg} + 1.0", f"np_.sin({arg})", f"{arg} * -0.5")
    form = forms[p % 3]
    frac = None if "sin" in form or v.frac is None else v.frac + ("0.5" in form)
    return form, _settle(dataclasses.replace(v, frac=frac, bound=v.bound + 1.0))


def _cond(em: Emitter, s: Step) -> tuple[str, Val]:
    c = _predicate(em, s.args[0])
    v = em.pick(s.args[1])
    t, tv = _body(v, s.params[0], "a")
    f, fv = _body(v, s.params[0] + 1, "a")
    return (f"lax.cond(np_.any({c.name}), lambda a: {t}, lambda a: {f}, {v.name})",
            _join(tv, fv, v.shape))


def _while(em: Emitter, s: Step) -> tuple[str, Val]:
    v = em.pick(s.args[0])
    n = s.params[1] % 4
    body, out = _body(v, s.params[0], "c[1]")
    out = dataclasses.replace(out, bound=v.bound + n, err=_iterated(v.err, out.err, n),
                              frac=None if out.frac is None
                              else (out.frac - (v.frac or 0)) * n + (v.frac or 0))
    return (f"lax.while_loop(lambda c: c[0] < {n}, lambda c: (c[0] + 1, {body}), "
            f"(0, {v.name}))[1]", out)


def _fori(em: Emitter, s: Step) -> tuple[str, Val]:
    v = em.pick(s.args[0])
    n = s.params[1] % 4
    if v.dtype == BOOL:
        return (f"lax.fori_loop(0, {n}, lambda i, a: np_.logical_xor(a, i % 2 == 0), "
                f"{v.name})", v)
    cast = "i" if v.dtype == INT else "i.astype(np_.float32)"
    out = dataclasses.replace(v, bound=v.bound + n * n)
    return (f"lax.fori_loop(0, {n}, lambda i, a: a + {cast}, {v.name})",
            dataclasses.replace(out, err=_iterated(v.err, _settle(out).err, n)))


def _iterated(before: float, after_one: float, n: int) -> float:
    """The error after `n` trips of a loop whose one trip takes it from `before` to
    `after_one` (inf stays inf: inf - inf would make it NaN, which compares as no bound)."""
    if n == 0 or math.isinf(before):
        return before
    return before + n * (after_one - before)


def _scan(em: Emitter, s: Step) -> tuple[str, Val]:
    v = em.pick(s.args[0], lambda v: bool(v.shape))
    if not v.shape:
        v = dataclasses.replace(v, name=f"{v.name}.reshape((1,))", shape=(1,))
    combine = {BOOL: "np_.logical_xor(c, x)", INT: "c + x", FLOAT: "c + x"}[v.dtype]
    other = {BOOL: "np_.logical_and(c, x)", INT: "np_.maximum(c, x)",
             FLOAT: "np_.maximum(c, x)"}[v.dtype]
    which = s.params[0] % 2
    out = dataclasses.replace(v, shape=v.shape[1:] if which == 0 else v.shape,
                              bound=v.bound * v.shape[0], err=v.err * v.shape[0])
    return (f"lax.scan(lambda c, x: ({combine}, {other}), {v.name}[0], {v.name})[{which}]",
            out)


RULES: dict[str, Callable[[Emitter, Step], tuple[str, Val]]] = {
    "unary": _unary, "binary": _binary, "compare": _compare, "where": _where, "clip": _clip,
    "reduce": _reduce, "cumsum": _cumsum, "reshape": _reshape, "transpose": _transpose,
    "slice": _slice, "broadcast": _broadcast, "dot": _dot, "const": _const, "cast": _cast_step,
    "lowp": _lowp, "repeat": _repeat, "cond": _cond, "while": _while, "fori": _fori,
    "scan": _scan,
}


def _emit(program: Program) -> tuple[Emitter, list[Val]]:
    """The program's emitter after its last step, and its outputs."""
    em = Emitter(program)
    for step in program.steps:
        em.emit(step)
    outs = [v for i, v in enumerate(em.vals) if v.name not in em.read and (
        v.name.startswith("x") or program.steps[i - len(program.inputs)].params[3] % 5)]
    return em, [v for v in outs if not v.name.startswith("x")] or [em.vals[-1]]


def source(program: Program) -> str:
    """`def f(np_, lax, x0, ...)`: the program as Python source, returning a tuple."""
    em, outs = _emit(program)
    args = ", ".join(f"x{i}" for i in range(len(program.inputs)))
    return "\n".join([f"def f(np_, lax, {args}):", *em.lines,
                      f"    return ({', '.join(v.name for v in outs)},)"]) + "\n"


def output_errors(program: Program) -> list[float]:
    """Each output's allowed error beyond rtol/atol (`Val.err`; 0 for int and bool)."""
    return [v.err for v in _emit(program)[1]]


def function(program: Program) -> Callable[..., Any]:
    """The program's `f(np_, lax, *args)`."""
    scope: dict[str, Any] = {}
    exec(compile(source(program), f"<fuzz program {program.data_seed}>", "exec"), scope)
    return scope["f"]


# ---------------------------------------------------------------------------------------
# Running: the oracle and every way tiers runs a program.
# ---------------------------------------------------------------------------------------

TOLERANCE = {"float32": (1e-5, 1e-6), "float16": (1e-2, 1e-3), "bfloat16": (1e-2, 1e-2)}


def same(want: Any, got: Any, err: float = 0.0) -> str | None:
    """None when `got` matches `want` under the rules of the module docstring, else why not;
    `err` is the output's `Val.err`."""
    want, got = np.asarray(want), np.asarray(got)
    if want.shape != got.shape or want.dtype != got.dtype:
        return f"{got.dtype}{list(got.shape)} where {want.dtype}{list(want.shape)} was expected"
    if want.dtype.name not in TOLERANCE:
        bad = want != got
    elif err == math.inf:
        return None
    else:
        rtol, atol = TOLERANCE[want.dtype.name]
        w, g = want.astype(np.float64), got.astype(np.float64)
        with np.errstate(invalid="ignore"):
            close = np.isfinite(w) & np.isfinite(g) & (
                np.abs(w - g) <= atol + rtol * np.abs(w) + 2 * err)
            bad = ~((np.isnan(w) & np.isnan(g)) | (w == g) | close)
    if not bad.any():
        return None
    at = tuple(int(i) for i in np.argwhere(bad)[0])
    return f"{int(bad.sum())} element(s) differ, first at {at}: {got[at]!r}, expected {want[at]!r}"


def _leaves(out: Any) -> list[np.ndarray]:
    import jax

    return [np.asarray(x.numpy() if hasattr(x, "numpy") else x)
            for x in jax.tree_util.tree_leaves(out)]


def tiers_passes_to_try() -> list[str]:
    """tiers' own passes that can run alone on imported (`lax`) IR."""
    from tiers import pipeline
    from tiers.passes import tiers_passes

    names = []
    for name in tiers_passes():
        try:
            pipeline.parse(name).check(frozenset({"builtin", "func", "lax", "array"}))
        except pipeline.PipelineError:
            continue
        names.append(name)
    return names


def _configs(program: Program, eager: bool) -> dict[str, Callable[[], list[np.ndarray]]]:
    """Each way tiers runs `program`, by name: a thunk giving its flat outputs."""
    import jax
    import jax.numpy as jnp

    import tiers
    import tiers.numpy as tnp
    from tiers import pipeline
    from tiers.frontend.importer import import_jaxpr
    from tiers.frontend.jit import _print
    from tiers.pipeline.driver import shared_context
    from tiers.pipeline.verify import parse_module
    from tiers.targets import jax as jax_target
    from tiers.targets import reference

    f, args = function(program), input_values(program)
    traced = functools.partial(f, jnp, jax.lax)
    imported = import_jaxpr(jax.make_jaxpr(traced)(*args), "main")
    by_pass: dict[str, Any] = {}

    def optimized(spec: str) -> Any:
        module = imported.clone()
        return pipeline.compile(module, spec, name="fuzz") if spec != "O0" else module

    o2 = functools.cache(lambda: optimized("O2"))  # the passes leave their input as it was

    def each_pass() -> dict[str, list[np.ndarray] | Exception]:
        """Every single-pass module run, identical texts once, all in one `jax.jit` (one XLA
        compile instead of twenty: the fuzzer's main cost); one at a time if that raises, so
        each error belongs to its pass."""
        if not by_pass:
            modules: dict[str, Any] = {}
            for name in tiers_passes_to_try():
                try:
                    module = optimized(name)
                except Exception as e:
                    by_pass[name] = e
                    continue
                by_pass[name] = modules.setdefault(_print(module), module)  # type: ignore
            texts = list(modules)
            try:
                outs = jax.jit(lambda *a: [jax_target.to_callable(modules[t])(*a)
                                           for t in texts])(*args)
                results = {t: _leaves(o) for t, o in zip(texts, outs)}
            except Exception:
                results = {}
                for t in texts:
                    try:
                        results[t] = _leaves(jax_target.compile(modules[t])(*args))
                    except Exception as e:
                        results[t] = e  # type: ignore[assignment]
            for name, got in by_pass.items():
                if not isinstance(got, Exception):
                    by_pass[name] = results[_print(got)]
        return by_pass

    def single_pass(name: str) -> list[np.ndarray]:
        got = each_pass()[name]
        if isinstance(got, Exception):
            raise got
        return got

    def round_trip() -> list[np.ndarray]:
        text = _print(o2())
        module, _ = parse_module(shared_context(), text, "fuzz.mlir")
        return _leaves(jax_target.compile(module)(*args))

    configs: dict[str, Callable[[], list[np.ndarray]]] = {
        f"tiers.jit {p}": functools.partial(
            lambda p: _leaves(tiers.jit(traced, pipeline=p)(*args)), p)
        for p in ("O0", "O1", "O2")}
    for name in tiers_passes_to_try():
        configs[f"pass {name}"] = functools.partial(single_pass, name)
    configs["reference O0"] = lambda: reference.run(imported, args, "main")
    configs["reference O2"] = lambda: reference.run(o2(), args, "main")
    configs["print-parse O2"] = round_trip
    if eager:
        configs["eager"] = lambda: _leaves(f(tnp, jax.lax, *map(tiers.constant, args)))
    return configs


@dataclass
class Mismatch:
    config: str
    detail: str


Compare = Callable[[Any, Any, float], "str | None"]


def check(program: Program, compare: Compare = same) -> Mismatch | None:
    """The first way tiers disagrees with `jax.jit` on `program`, or None.

    A program `jax.jit` rejects is a generator bug and raises."""
    import jax
    import jax.numpy as jnp

    args = input_values(program)
    want = _leaves(jax.jit(functools.partial(function(program), jnp, jax.lax))(*args))
    eager = not any(s.op in CONTROL for s in program.steps)
    try:
        configs = _configs(program, eager)
    except Exception as e:  # import failed: every config would
        return Mismatch("import", _error(e))
    for name, run in configs.items():
        try:
            got = run()
        except Exception as e:
            return Mismatch(name, _error(e))
        if len(got) != len(want):
            return Mismatch(name, f"{len(got)} outputs, expected {len(want)}")
        for i, (w, g, err) in enumerate(zip(want, got, output_errors(program))):
            why = compare(w, g, err)
            if why is not None:
                return Mismatch(name, f"output {i}: {why}")
    return None


def _error(e: Exception) -> str:
    lines = traceback.format_exception_only(type(e), e)
    return "raised " + "".join(lines).strip().splitlines()[0][:300]


# ---------------------------------------------------------------------------------------
# Shrinking: drop steps one at a time, then simplify parameters and constants.
# ---------------------------------------------------------------------------------------


def _still_fails(program: Program, config: str, compare: Compare) -> bool:
    try:
        found = check(program, compare)
    except Exception:  # a generator bug in a candidate: not a smaller failure
        return False
    return found is not None and found.config == config


def _drop(program: Program, i: int) -> Program:
    """`program` without step `i`; later steps that read its value read its first operand."""
    gone = len(program.inputs) + i
    bypass = program.steps[i].args[0]

    def moved(a: int) -> int:
        return bypass if a == gone else a - (a > gone)

    later = tuple(dataclasses.replace(s, args=tuple(map(moved, s.args)))
                  for s in program.steps[i + 1:])
    return dataclasses.replace(program, steps=program.steps[:i] + later)


def _simpler(program: Program) -> Any:
    """Programs with one operand pick or parameter of one step lowered (to 0, or halved)."""
    for i, step in enumerate(program.steps):
        for field in ("args", "params"):
            values = getattr(step, field)
            for j, x in enumerate(values):
                for simpler in sorted({0, x // 2} - {x}):
                    new = dataclasses.replace(
                        step, **{field: values[:j] + (simpler,) + values[j + 1:]})
                    yield dataclasses.replace(
                        program, steps=program.steps[:i] + (new,) + program.steps[i + 1:])


def shrink(program: Program, config: str, compare: Compare = same,
           budget: int = 200) -> Program:
    """A smaller program that still fails in `config` (at most `budget` candidates run):
    steps dropped one at a time, then operand picks and parameters, constants included,
    lowered toward 0 (the first input, the first variant, 0.0), until nothing changes."""
    tries = 0
    changed = True
    while changed and tries < budget:
        changed = False
        for i in reversed(range(len(program.steps))):
            if len(program.steps) > 1 and tries < budget:
                tries += 1
                if _still_fails(candidate := _drop(program, i), config, compare):
                    program, changed = candidate, True
        progress = True
        while progress and tries < budget:
            progress = False
            for candidate in _simpler(program):
                tries += 1
                if _still_fails(candidate, config, compare):
                    program, changed, progress = candidate, True, True
                    break
                if tries >= budget:
                    break
    return program


def report(program: Program, mismatch: Mismatch) -> str:
    """A mismatch as text: where, why, the inputs and the program as Python source."""
    args = input_values(program)
    inputs = "\n".join(f"x{i} = np.array({a.tolist()!r}, dtype=np.{a.dtype})"
                       for i, a in enumerate(args)).replace("nan", "np.nan").replace(
                           "inf", "np.inf")
    return (f"MISMATCH in {mismatch.config}: {mismatch.detail}\n"
            f"{program!r}\n{inputs}\n{source(program)}")


# ---------------------------------------------------------------------------------------
# Command line.
# ---------------------------------------------------------------------------------------


def check_seed(seed: int) -> str | None:
    """The shrunk report of the program of `seed`, or None when tiers agrees with jax.jit."""
    program = generate(seed)
    found = check(program)
    if found is None:
        return None
    small = shrink(program, found.config)
    return report(small, check(small) or found)


def run(seeds: Any, seconds: float | None = None, out: Any = sys.stdout,
        jobs: int = 1) -> tuple[int, int]:
    """Check the programs of `seeds` (for at most `seconds`, in `jobs` processes); (programs
    run, mismatches)."""
    import multiprocessing

    start, count, bad = time.perf_counter(), 0, 0
    pool = multiprocessing.get_context("spawn").Pool(jobs) if jobs > 1 else None
    results = pool.imap(check_seed, seeds, chunksize=4) if pool else map(check_seed, seeds)
    try:
        for found in results:
            count += 1
            if found is not None:
                bad += 1
                print(found, file=out, flush=True)
            if count % 500 == 0:
                print(f"{count} programs, {bad} mismatch(es), "
                      f"{time.perf_counter() - start:.0f} s", file=out, flush=True)
            if seconds is not None and time.perf_counter() - start > seconds:
                break
    finally:
        if pool:
            pool.terminate()
    elapsed = time.perf_counter() - start
    print(f"{count} programs in {elapsed:.1f} s: {count / max(elapsed, 1e-9):.2f} programs/s, "
          f"{bad} mismatch(es)", file=out, flush=True)
    return count, bad


def main(argv: Sequence[str] | None = None) -> int:
    """`--count N` programs or `--seconds S`, from `--seed K`; exit 1 on a mismatch."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    options = parser.parse_args(argv)
    count = options.count if options.count is not None else (
        None if options.seconds is not None else 100)
    seeds = (range(options.seed, options.seed + count) if count is not None
             else iter(range(options.seed, sys.maxsize)))
    _, bad = run(seeds, options.seconds, jobs=options.jobs)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
