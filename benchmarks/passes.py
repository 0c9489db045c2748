"""What the optimization passes cost and what they buy.

    python benchmarks/passes.py [--quick]

(a) Pass time on generated modules of 1k, 10k and 100k ops, for every pass on its own and for
    O2 as a whole, with the 100k/10k ratio (linear passes give ~10; the target is <= 12, and
    O2 on 100k ops <= 10 s), and xDSL's own `canonicalize`, `cse` and `dce` on the same
    modules, for comparison with tiers' drivers (same result). The generated programs mix what
    imported JAX programs hold: elementwise chains with literals (a constant broadcast to the
    array's shape), reductions broadcast back, repeated subexpressions, dead values, `x * 1`
    and `neg(neg(x))`, constant-only expressions, and calls to small private helpers
    (inlining adds ~5%).
(b) Op counts before and after O2 on end-to-end programs traced from JAX.
(c) `tiers.jit` with O0 and with O2 against `jax.jit`: first call (trace + compile + run of a
    fresh function with cold caches) and steady-state call, as ratios tiers / jax; the
    programs of (b) and one of 3000 ops of which half repeat the other half.
(d) Where that 3000-op program's first call goes, stage by stage, and O2's passes on it.

The full run takes about 3 minutes; `--quick` runs sizes 1k and 10k only, once each, and
fewer repeats (a smoke run, ~30 s).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from programs import Program, attention, first_call, mlp_fwd_grad, normal  # benchmarks/programs.py
from xdsl.dialects import func
from xdsl.dialects.builtin import FunctionType, ModuleOp
from xdsl.ir import Block, Region, SSAValue
from xdsl.transforms.canonicalize import CanonicalizePass
from xdsl.transforms.common_subexpression_elimination import CommonSubexpressionElimination
from xdsl.transforms.dead_code_elimination import DeadCodeElimination

import tiers
from tiers import pipeline
from tiers.dialects import dtypes, fused, lax
from tiers.dialects.constants import dense
from tiers.frontend.importer import import_jaxpr
from tiers.passes.collector import gc_paused
from tiers.pipeline.context import make_context

CTX = make_context()
PASSES = (*dict.fromkeys(pipeline.PRESETS["O2"].split(",")), "O2")  # each pass of O2, then O2


# ---------------------------------------------------------------------------------------
# (a) Generated modules.
# ---------------------------------------------------------------------------------------

SHAPE = (16, 16)
F32 = dtypes.tensor_type(SHAPE, np.float32)


class Gen:
    """Appends ops to a block; `unit` emits one realistic unit of about 25 ops."""

    def __init__(self, block: Block, rng: np.random.Generator, helpers: list[str]):
        self.block, self.rng, self.helpers = block, rng, helpers
        self.literals: dict[float, SSAValue] = {}
        self.emitted = 0  # (len(block.ops) walks the block's linked list)

    def op(self, op: Any) -> SSAValue:
        self.block.add_op(op)
        self.emitted += 1
        return op.results[0]

    def literal(self, value: float, shared: bool) -> SSAValue:
        """A scalar constant broadcast to the array shape, as the importer makes `x * 0.5`
        (shared: the importer reuses a literal within one equation's scope; sometimes not)."""
        if shared and value in self.literals:
            return self.literals[value]
        c = self.op(lax.ConstantOp(dense(np.array(value, np.float32))))
        b = self.op(lax.BroadcastInDimOp(c, F32, []))
        if shared:
            self.literals[value] = b
        return b

    def unit(self, x: SSAValue, y: SSAValue) -> SSAValue:
        r = self.rng
        # an elementwise chain with literals
        for _ in range(3):
            x = self.op(lax.SinOp(x))
            x = self.op(lax.MulOp(x, self.literal(float(r.choice([1.5, 0.5, 1.0001])),
                                                  bool(r.random() < 0.7))))
            x = self.op(lax.AddOp(x, self.literal(0.25, True)))
        # a repeated subexpression (and a commuted one)
        a = self.op(lax.MulOp(x, y))
        b = self.op(lax.MulOp(y, x) if r.random() < 0.5 else lax.MulOp(x, y))
        x = self.op(lax.AddOp(a, b))
        # a reduction broadcast back (normalization)
        s = self.op(lax.ReduceSumOp(x, [1]))
        m = self.op(lax.BroadcastInDimOp(s, F32, [0]))
        x = self.op(lax.SubOp(x, m))
        # canonicalization fodder: x * 1, neg(neg(x))
        x = self.op(lax.MulOp(x, self.literal(1.0, True)))
        x = self.op(lax.NegOp(self.op(lax.NegOp(x))))
        # a constant-only expression, folded by fold-constants
        k = self.op(lax.ConstantOp(dense(np.full(SHAPE[:1], 3.0, np.float32))))
        k = self.op(lax.ExpOp(self.op(lax.NegOp(k))))
        x = self.op(lax.AddOp(x, self.op(lax.BroadcastInDimOp(k, F32, [0]))))
        # a dead value
        self.op(lax.TanhOp(x))
        # a call to a helper, now and then
        if self.helpers and r.random() < 0.05:
            x = self.op(func.CallOp(str(r.choice(self.helpers)), [x, y], [F32]))
        return x


def generated(ops: int, seed: int = 0) -> ModuleOp:
    """A module of about `ops` ops: @main, and one private helper of two units per 1000 ops
    that @main calls now and then (inlining adds about 5% to the module)."""
    rng = np.random.default_rng(seed)
    module = ModuleOp([])
    helpers = [f"helper{i}" for i in range(max(1, ops // 1000))]
    have = 0
    for name in helpers:
        block = Block(arg_types=[F32, F32])
        g = Gen(block, rng, [])
        x = block.args[0]
        for _ in range(2):
            x = g.unit(x, block.args[1])
        block.add_op(func.ReturnOp(x))
        have += g.emitted + 2
        module.body.block.add_op(func.FuncOp(name, FunctionType.from_lists([F32, F32], [F32]),
                                             Region(block), visibility="private"))
    block = Block(arg_types=[F32, F32])
    g = Gen(block, rng, helpers)
    x = block.args[0]
    while have + g.emitted < ops:
        x = g.unit(x, block.args[1])
    block.add_op(func.ReturnOp(x))
    module.body.block.add_op(func.FuncOp("main", FunctionType.from_lists([F32, F32], [F32]),
                                         Region(block)))
    return module


def count_ops(module: ModuleOp) -> int:
    return sum(1 for _ in module.walk()) - 1


def time_pass(spec: str | Callable[[ModuleOp], object], base: ModuleOp, repeats: int,
              gc_on: bool = True) -> float:
    """Median CPU seconds of `spec` (a pipeline, or a function applying a pass) on fresh copies
    of `base` (CPU time, not wall time: the passes are single-threaded Python, and CPU time is
    steadier on a shared machine)."""
    times = []
    apply = spec if callable(spec) else (
        lambda m: pipeline.compile(m, spec, ctx=CTX, verify=False))
    for _ in range(repeats):
        module = base.clone()
        gc.collect()
        if not gc_on:
            gc.disable()
        start = time.process_time()
        with gc_paused():  # as `pipeline.compile` does, so that xDSL's driver is timed alike
            apply(module)
        times.append(time.process_time() - start)
        gc.enable()
    return statistics.median(times)


def xdsl_pass(name: str) -> Callable[[ModuleOp], object]:
    """xDSL's own pass `name` (`canonicalize`, `cse`, `dce`), which tiers' replaces."""
    cls = {"canonicalize": CanonicalizePass, "cse": CommonSubexpressionElimination,
           "dce": DeadCodeElimination}[name]
    return lambda module: cls().apply(CTX, module)


def pass_table(sizes: list[int], repeats: int) -> None:
    print(f"(a) pass time on generated modules (CPU ms, median of {repeats}, one run at 100k; "
          "realistic op mix, see the docstring)\n")
    for spec in PASSES:  # first use imports modules (scipy for fold-constants): not timed
        pipeline.compile(generated(300), spec, ctx=CTX)
    bases = {n: generated(n) for n in sizes}
    actual = {n: count_ops(m) for n, m in bases.items()}
    both = 10_000 in sizes and 100_000 in sizes
    head = f"{'pass':<20}" + "".join(f"{f'{actual[n]} ops':>14}" for n in sizes)
    head += f"{'100k/10k':>10}{'us/op @100k':>13}" if both else ""
    print(head)
    print("-" * len(head))
    rows: list[tuple[str, str | Callable[[ModuleOp], object], bool]] = [
        (spec, spec, True) for spec in PASSES]
    rows += [("O2, gc paused", "O2", False)]
    rows += [(f"xDSL {name}", xdsl_pass(name), True) for name in ("canonicalize", "cse", "dce")]
    for label, spec, gc_on in rows:
        t = {n: time_pass(spec, m, repeats if n < 100_000 else 1, gc_on)
             for n, m in bases.items()}
        line = f"{label:<20}" + "".join(f"{t[n] * 1e3:14.1f}" for n in sizes)
        if both:
            line += f"{t[100_000] / t[10_000]:10.1f}{t[100_000] / actual[100_000] * 1e6:13.1f}"
        print(line, flush=True)
    print(f"\n(O2 = {pipeline.PRESETS['O2']}; 'gc paused': the same with Python's cycle "
          "collector off, whose full collections scan the whole IR; 'xDSL ...': xDSL's own "
          "canonicalize (same patterns), cse and dce, which tiers' faster drivers replace "
          "with the same result)\n")


# ---------------------------------------------------------------------------------------
# (b, c) End-to-end programs traced from JAX. Each factory returns a fresh function object
# and its arguments.
# ---------------------------------------------------------------------------------------



def softmax_xent() -> Program:
    rng = np.random.default_rng(1)
    logits, labels = normal(rng, 64, 100), jax.nn.one_hot(rng.integers(0, 100, 64), 100)

    def fn(logits: jax.Array, labels: jax.Array) -> jax.Array:
        return -jnp.mean(jnp.sum(labels * jax.nn.log_softmax(logits), axis=-1))

    return jax.value_and_grad(fn), (logits, labels)


def layer_norm() -> Program:
    rng = np.random.default_rng(2)
    x, gamma, beta = normal(rng, 64, 256), normal(rng, 256), normal(rng, 256)

    def fn(x: jax.Array, gamma: jax.Array, beta: jax.Array) -> jax.Array:
        mean = jnp.mean(x, axis=-1, keepdims=True)
        var = jnp.var(x, axis=-1, keepdims=True)
        return (x - mean) * jax.lax.rsqrt(var + 1e-5) * gamma + beta

    return fn, (x, gamma, beta)



def repeated(n: int) -> Callable[[], Program]:
    """About n ops, half of them repeated subexpressions: each step computes the same ten
    elementwise ops twice over and adds the copies (`cse` drops the second copy; XLA too,
    but only after it has been traced, lowered and handed to it)."""

    def block(x: jax.Array, y: jax.Array) -> jax.Array:
        t = jnp.sin(x)
        u = jnp.tanh(t * y) + x
        v = jnp.cos(u) * y - x
        return jnp.tanh(v) * t + y

    def make() -> Program:
        def fn(x: jax.Array, y: jax.Array) -> jax.Array:
            for _ in range(n // 21):
                x = block(x, y) + block(x, y)  # the second block is a repeat of the first
            return x

        rng = np.random.default_rng(4)
        return fn, (normal(rng, 32, 32), normal(rng, 32, 32))

    return make


PROGRAMS: dict[str, Callable[[], Program]] = {
    "mlp fwd+grad": mlp_fwd_grad, "softmax xent grad": softmax_xent, "layer norm": layer_norm,
    "attention": attention, "repeated 300": repeated(300), "repeated 3000": repeated(3000),
}


def imported(make: Callable[[], Program]) -> ModuleOp:
    fn, args = make()
    leaves, in_tree = jax.tree_util.tree_flatten(args)

    def flat(*xs: Any) -> list[Any]:
        return jax.tree_util.tree_leaves(fn(*jax.tree_util.tree_unflatten(in_tree, xs)))

    return import_jaxpr(jax.make_jaxpr(flat)(*leaves), "main")


def op_table() -> None:
    print("(b) ops before and after O2 (every op but modules, functions, returns and "
          "yields; 'after' counts the ops inside kernels, constants cloned into them included; "
          "'dispatched': kernels and the ops outside them, what runs one by one in kernels "
          "mode)\n")
    head = (f"{'program':<20}{'imported':>10}{'after O2':>10}{'kernels':>9}{'in kernels':>12}"
            f"{'dispatched':>12}{'O2 ms':>8}")
    print(head)
    print("-" * len(head))
    for name, make in PROGRAMS.items():
        module = imported(make)
        before = _lax_ops(module)
        start = time.process_time()
        pipeline.compile(module, "O2", ctx=CTX, verify=False)
        elapsed = time.process_time() - start
        kernels = [op for op in module.walk() if isinstance(op, fused.KernelOp)]
        inside = sum(k.ops_count() for k in kernels)
        after = _lax_ops(module)
        print(f"{name:<20}{before:>10}{after:>10}{len(kernels):>9}{inside:>12}"
              f"{after - inside + len(kernels):>12}{elapsed * 1e3:8.1f}", flush=True)
    print()


def _lax_ops(module: ModuleOp) -> int:
    skip = (ModuleOp, func.FuncOp, func.ReturnOp, fused.KernelOp, fused.YieldOp)
    return sum(not isinstance(op, skip) for op in module.walk())


def _steady(jits: list[Callable[..., Any]], make: Callable[[], Program],
            calls: int) -> list[float]:
    fn, args = make()
    compiled = [jit(fn) for jit in jits]
    for f in compiled:
        for _ in range(3):
            jax.block_until_ready(f(*args))
    times: list[list[float]] = [[] for _ in jits]
    for _ in range(calls):
        for i, f in enumerate(compiled):  # take turns, so load hits all alike
            start = time.perf_counter()
            jax.block_until_ready(f(*args))
            times[i].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def jit_table(repeats: int, calls: int) -> None:
    jits = {"O0": lambda f: tiers.jit(f, pipeline="O0"),
            "O2": lambda f: tiers.jit(f, pipeline="O2"), "jax": jax.jit}
    print(f"(c) tiers.jit vs jax.jit (first call: median of {repeats}, cold caches; steady: "
          f"median of {calls} calls); ratios are tiers / jax.jit\n")
    head = (f"{'program':<20}{'jax 1st ms':>11}{'O0 1st':>8}{'O2 1st':>8}"
            f"{'jax call us':>12}{'O0 call':>9}{'O2 call':>9}")
    print(head)
    print("-" * len(head))
    for name, make in PROGRAMS.items():
        n = max(1, repeats // 2) if name == "repeated 3000" else repeats
        first: dict[str, list[float]] = {k: [] for k in jits}
        for _ in range(n):
            for k, jit in jits.items():  # take turns
                first[k].append(first_call(jit, make))
        f = {k: statistics.median(v) for k, v in first.items()}
        s = dict(zip(jits, _steady(list(jits.values()), make, calls), strict=True))
        print(f"{name:<20}{f['jax'] * 1e3:11.1f}{f['O0'] / f['jax']:8.2f}"
              f"{f['O2'] / f['jax']:8.2f}{s['jax'] * 1e6:12.1f}{s['O0'] / s['jax']:9.2f}"
              f"{s['O2'] / s['jax']:9.2f}", flush=True)
    print()


def breakdown_table(name: str, repeats: int) -> None:
    """Where a first call's time goes, tiers' stages (run from outside) against jax.jit's."""
    from tiers.targets import jax as jax_target

    make = PROGRAMS[name]
    print(f"(d) first call of '{name}' by stage (wall ms, median of {repeats}): tiers traces "
          "with JAX, imports, runs the passes, walks the IR inside jax.jit (emit) and XLA "
          "compiles; jax.jit traces and lowers, then XLA compiles\n")
    stages = ("trace", "import", "passes", "emit", "xla")
    head = f"{'':<10}{'ops':>6}" + "".join(f"{s:>9}" for s in stages) + f"{'total':>9}"
    print(head)
    print("-" * len(head))
    for preset in ("O0", "O2"):
        runs = []
        for _ in range(repeats):
            fn, args = make()
            jax.clear_caches()
            gc.collect()
            t = [time.perf_counter()]
            closed = jax.make_jaxpr(fn)(*args)
            t.append(time.perf_counter())
            module = import_jaxpr(closed, "main")
            t.append(time.perf_counter())
            pipeline.compile(module, preset, ctx=CTX, verify=False)
            t.append(time.perf_counter())
            lowered = jax.jit(jax_target.to_callable(module)).lower(*args)
            t.append(time.perf_counter())
            lowered.compile()
            t.append(time.perf_counter())
            runs.append([b - a for a, b in zip(t, t[1:])])
        med = [statistics.median(r[i] for r in runs) for i in range(len(stages))]
        print(f"{'tiers ' + preset:<10}{_lax_ops(module):>6}"
              + "".join(f"{m * 1e3:9.1f}" for m in med) + f"{sum(med) * 1e3:9.1f}")
    runs = []
    for _ in range(repeats):
        fn, args = make()
        jax.clear_caches()
        gc.collect()
        start = time.perf_counter()
        lowered = jax.jit(fn).lower(*args)
        mid = time.perf_counter()
        lowered.compile()
        runs.append((mid - start, time.perf_counter() - mid))
    lower, xla = (statistics.median(r[i] for r in runs) for i in range(2))
    eqns = len(jax.make_jaxpr(make()[0])(*make()[1]).jaxpr.eqns)
    print(f"{'jax.jit':<10}{eqns:>6}{lower * 1e3:9.1f}{'':>9}{'':>9}{'':>9}{xla * 1e3:9.1f}"
          f"{(lower + xla) * 1e3:9.1f}")
    base = imported(make)
    per_pass: dict[str, list[float]] = {}
    for _ in range(repeats):
        module = base.clone()
        for spec in pipeline.PRESETS["O2"].split(","):
            start = time.perf_counter()
            pipeline.compile(module, spec, ctx=CTX, verify=False)
            per_pass.setdefault(spec, []).append(time.perf_counter() - start)
    print("\nO2's passes on it (wall ms, median): " + ", ".join(
        f"{spec} {statistics.median(t) * 1e3:.0f}" for spec, t in per_pass.items()))
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="sizes 1k and 10k only, fewer repeats (a smoke run)")
    opts = parser.parse_args()
    start = time.perf_counter()
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}\n")
    if opts.quick:
        pass_table([1_000, 10_000], repeats=1)
    else:
        pass_table([1_000, 10_000, 100_000], repeats=3)
    op_table()
    jit_table(repeats=1 if opts.quick else 3, calls=20 if opts.quick else 200)
    breakdown_table("repeated 3000", repeats=1 if opts.quick else 3)
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
