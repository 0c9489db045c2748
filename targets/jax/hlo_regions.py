"""StableHLO emission rules of control flow (cond, while, scan) (see `hlo.py`): op class ->
text, written as JAX's own lowering writes `lax.switch`, `lax.while_loop` and `lax.scan` (the
latter through `_scan_impl`, a while loop), so both emissions compile to the same XLA
computation. `HLO_REGION_RULES` joins the emission table in `rules.py`.

What JAX closes over when it traces a region (`_consts`) it passes in: `stablehlo.case`
branches read those values from above, a `stablehlo.while` carries them (first, unchanged),
and a scan's step reads them as the loop carries them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from xdsl.ir import Block, SSAValue

from tiers.dialects import dtypes, lax
from tiers.targets.jax.hlo import EmitRule, HloEmitter, i64s
from tiers.targets.jax.hlo_array import Builder, weak_int

_I32 = np.dtype(np.int32)


def _consts(block: Block) -> list[SSAValue]:
    """The values `block` (or a region in it) reads from outside it, as JAX's trace of the
    region closes over them; rank-0 constants are literals, written where they are used."""
    inside: set[SSAValue] = set(block.args)
    for op in block.walk():
        inside.update(op.results)
        inside.update(a for r in op.regions for b in r.blocks for a in b.args)
    seen: dict[SSAValue, None] = {}
    for op in block.walk():
        seen.update((v, None) for v in op.operands if v not in inside and not _literal(v))
    return list(seen)


def _literal(v: SSAValue) -> bool:
    """A rank-0 constant: a literal in JAX's trace, written where it is used."""
    return isinstance(v.owner, lax.ConstantOp) and lax.shape(v) == ()


@contextmanager
def _bound(em: HloEmitter, values: Sequence[SSAValue], names: Sequence[str]) -> Iterator[None]:
    """Read `values` as `names` (block arguments that carry them) while emitting a region."""
    saved = [(v, em.env[v]) for v in values]
    em.env.update(zip(values, names, strict=True))
    try:
        yield
    finally:
        for v, name in reversed(saved):
            em.env[v] = name


def _cond(em: HloEmitter, op: lax.CondOp, index: str) -> list[str]:
    if len(op.branches) == 1:  # lax.switch calls a lone branch
        return em.block(op.branches[0].block, [])
    b = Builder(em)  # the walk rule converts a bool index, lax.switch any index, to i32
    index = b.op("stablehlo.clamp", [b.const(0, _I32), b.convert(index, _I32),
                                     b.const(len(op.branches) - 1, _I32)], (), _I32)
    # lax.switch drops an output every branch passes through from above (the same value in
    # all branches is from above; a rank-0 constant is a literal): it is that value
    yields = [op.yielded(r).values for r in op.branches]
    through = [all(y[k] is yields[0][k] for y in yields) and not _literal(yields[0][k])
               for k in range(len(op.outputs))]
    kept = [k for k, t in enumerate(through) if not t]

    def branch(block: Block) -> Callable[[list[str]], list[str]]:
        def body(_: list[str]) -> list[str]:
            outs = em.block(block, [])
            return [outs[k] for k in kept]

        return body

    outs = iter(em.op("stablehlo.case", [index], [op.outputs[k].type for k in kept],
                      regions=[em.region([], branch(r.block)) for r in op.branches])
                if kept else [])
    return [em.env[yields[0][k]] if t else next(outs) for k, t in enumerate(through)]


def _while(em: HloEmitter, op: lax.WhileOp, *init: str) -> list[str]:
    cond_consts, body_consts = _consts(op.cond.block), _consts(op.body.block)
    cond_args, body_args = op.cond.block.args, op.body.block.args
    # lax.while_loop: a value the body passes on unchanged that cond does not read becomes
    # a body const; the loop's result is the initial value.
    yields = op.yielded(op.body).values
    moved = [y is a and c.first_use is None for y, a, c in zip(yields, body_args, cond_args)]
    fixed = [i for i, m in enumerate(moved) if m]
    loop = [i for i, m in enumerate(moved) if not m]
    # carried: cond consts, body consts (moved values first), the loop values
    carry = ([em.env[v] for v in cond_consts] + [init[i] for i in fixed]
             + [em.env[v] for v in body_consts] + [init[i] for i in loop])
    types = [em.types[c] for c in carry]
    nc, nb = len(cond_consts), len(fixed) + len(body_consts)

    def slots(args: list[str]) -> list[str]:  # the block arguments of the tiers regions
        names = dict(zip(fixed, args[nc:nc + len(fixed)]))
        names.update(zip(loop, args[nc + nb:]))
        return [names[i] for i in range(len(init))]

    def cond(args: list[str]) -> list[str]:
        with _bound(em, cond_consts, args[:nc]):
            return em.block(op.cond.block, slots(args))

    def body(args: list[str]) -> list[str]:
        with _bound(em, body_consts, args[nc + len(fixed):nc + nb]):
            outs = em.block(op.body.block, slots(args))
        return args[:nc + nb] + [outs[i] for i in loop]

    results = em.op("stablehlo.while", carry, types,
                    regions=[em.region(types, cond), em.region(types, body)])[nc + nb:]
    named = dict(zip(loop, results))
    return [named.get(i, init[i]) for i in range(len(init))]


def _scan(em: HloEmitter, op: lax.ScanOp, *args: str) -> list[str]:
    """`lax.scan` (a carry the body passes on unchanged is a const, a ys that is a slice of
    xs unchanged is that xs), then `_scan_impl`: a while loop over `length // unroll` trips
    of `unroll` steps, the remaining steps after it, unrolled."""
    b = Builder(em)
    nc, length, unroll = op.num_carry, op.int("length"), op.int("unroll")
    reverse = op.flag("reverse")
    block = op.body.block
    yields = op.yielded(op.body).values
    carry_args, x_args = block.args[:nc], block.args[nc:]
    moved = [yields[i] is carry_args[i] for i in range(nc)]
    captured = _consts(block)
    consts = [a for a, m in zip(args, moved) if m] + [em.env[v] for v in captured]
    carry = [a for a, m in zip(args, moved) if not m]
    xs = list(args[nc:])
    fwd = [next((j for j, x in enumerate(x_args) if x is y), None) for y in yields[nc:]]
    y_types = [(lax.shape(v)[1:], dtypes.to_numpy(lax.elem(v)))
               for v, f in zip(op.ys, fwd) if f is None]

    def step(carry: list[str], xs: list[str], consts: list[str]) -> tuple[list, list]:
        """One application of the body: new carry, the ys it yields (not forwarded)."""
        it, names = iter(carry), iter(consts)
        slots = [next(names) if m else next(it) for m in moved] + xs
        with _bound(em, captured, list(names)):
            outs = em.block(block, slots)
        return ([o for o, m in zip(outs, moved) if not m],
                [o for o, f in zip(outs[nc:], fwd) if f is None])

    def empty(prefix: tuple[int, ...], shape: tuple[int, ...], dt: np.dtype) -> str:
        return b.bcast(b.const(0, dt), (*prefix, *shape), ())

    def inner(n: int, carry: list[str], xs: list[str], consts: list[str]) -> tuple[list, list]:
        steps = []
        for s in range(n):
            i = n - s - 1 if reverse else s
            slices = [b.reshape(b.slice(x, (i, *[0] * (len(b.shape(x)) - 1)),
                                        (i + 1, *b.shape(x)[1:])), b.shape(x)[1:]) for x in xs]
            carry, ys = step(carry, slices, consts)
            steps.append(ys)
        steps = steps[::-1] if reverse else steps
        return carry, [b.concat([b.expand(ys[k], [0]) for ys in steps])
                       for k in range(len(y_types))]

    trips, rest = divmod(length, unroll)
    if unroll != 1 and trips == 1 and rest == 0:  # fully unrolled: no loop
        trips, rest = 0, length
    xs_rest: list[str] = []
    if unroll != 1 and rest:
        split = trips * unroll if not reverse else rest
        pairs = [(b.slice(x, [0] * len(b.shape(x)), (split, *b.shape(x)[1:])),
                  b.slice(x, (split, *[0] * (len(b.shape(x)) - 1)), b.shape(x))) for x in xs]
        xs, xs_rest = ([p[0] for p in pairs], [p[1] for p in pairs])[::-1 if reverse else 1]
    if unroll == 1:
        yss = [empty((length,), s, dt) for s, dt in y_types]
    elif trips:
        xs = [b.reshape(x, (trips, unroll, *b.shape(x)[1:])) for x in xs]
        yss = [empty((trips, unroll), s, dt) for s, dt in y_types]
    else:
        yss = [empty((0,), s, dt) for s, dt in y_types]
    if trips:
        carry, yss = _scan_loop(em, b, trips, unroll, reverse, xs, consts, carry, yss, step,
                                inner)
    if unroll != 1 and trips:
        yss = [b.reshape(y, (trips * unroll, *b.shape(y)[2:])) for y in yss]
    if rest:
        carry, ys_rest = inner(rest, carry, xs_rest, consts)
        yss = [b.concat([r, y] if reverse else [y, r]) for y, r in zip(yss, ys_rest)]
    out_carry, out_ys = iter(carry), iter(yss)
    return ([a if m else next(out_carry) for a, m in zip(args, moved)]
            + [args[nc + f] if f is not None else next(out_ys) for f in fwd])


def _scan_loop(em: HloEmitter, b: Builder, trips: int, unroll: int, reverse: bool,
               xss: list[str], consts: list[str], carry: list[str], yss: list[str],
               step: Callable, inner: Callable) -> tuple[list[str], list[str]]:
    """`_scan_impl`'s while loop: carries xss and consts (unchanged), the trip counter, the
    carry and the stacked ys; each trip slices its xs and writes its ys at the counter."""
    idx = weak_int()
    init = [*xss, *consts, b.const(0, idx), *carry, *yss]
    types = [em.types[v] for v in init]
    nx, nk, ncar = len(xss), len(consts), len(carry)

    def cond(args: list[str]) -> list[str]:
        return [b.compare("LT", args[nx + nk], trips)]

    def body(args: list[str]) -> list[str]:
        xss, consts, i_ = args[:nx], args[nx:nx + nk], args[nx + nk]
        carry, yss = args[nx + nk + 1:nx + nk + 1 + ncar], args[nx + nk + 1 + ncar:]
        i = i_
        if reverse:
            i = b.binary("stablehlo.subtract", b.binary("stablehlo.subtract", trips, i_), 1)
        xs = []
        for x in xss:
            s = b.shape(x)
            zeros = [b.const(0, idx) for _ in s[1:]]
            piece = b.op("stablehlo.dynamic_slice", [x, i, *zeros], (1, *s[1:]), b.dtype(x),
                         f"slice_sizes = {i64s((1, *s[1:]))}")
            xs.append(b.reshape(piece, s[1:]))
        if unroll == 1:
            carry, ys = step(carry, xs, consts)
        else:
            carry, ys = inner(unroll, carry, xs, consts)
        out = []
        for y, upd in zip(yss, ys):
            upd = b.expand(upd, [0])
            zeros = [b.const(0, idx) for _ in b.shape(y)[1:]]
            out.append(b.op("stablehlo.dynamic_update_slice", [y, upd, i, *zeros],
                            b.shape(y), b.dtype(y)))
        return [*xss, *consts, b.binary("stablehlo.add", i_, 1), *carry, *out]

    outs = em.op("stablehlo.while", init, types,
                 regions=[em.region(types, cond), em.region(types, body)])
    return outs[nx + nk + 1:nx + nk + 1 + ncar], outs[nx + nk + 1 + ncar:]


HLO_REGION_RULES: dict[type, EmitRule] = {
    lax.CondOp: _cond,
    lax.WhileOp: _while,
    lax.ScanOp: _scan,
}
