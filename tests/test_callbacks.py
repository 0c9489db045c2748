"""Host callbacks inside tiers: `jax.debug.print`, `jax.debug.callback`, `jax.pure_callback`,
`jax.experimental.io_callback` (dialects/lax_effects.py) and `tiers.print`.

Each program runs under `tiers.jit` and `jax.jit`: the same text printed, the same callbacks
called as many times, in the same order, with the same values, and the same results; under
`jax.jit`, `grad` and `vmap` where JAX allows them, and JAX's own error where it does not.
Then the passes: a callback is never erased (but an unused `pure_callback`, as JAX drops
one), merged, hoisted out of a loop, folded or reordered.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import io_callback
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation

import tiers
from tiers.dialects import lax
from tiers.dialects.lax_effects import CallbackAttr, HostCallback
from tiers.frontend.importer import import_jaxpr
from tiers.pipeline.context import make_context
from tiers.pipeline.verify import parse_module
from tiers.targets import jax as jax_target
from tiers.targets import reference
from tiers.targets.jax.hlo_effects import CallbackInText

_CTX = make_context()
X = jnp.arange(1.0, 4.0, dtype=jnp.float32)


class Log:
    """Records each call of its callbacks: (tag, values as lists)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def effect(self, tag: str) -> Callable[..., None]:
        def cb(*values: Any) -> None:
            self.calls.append((tag, [np.asarray(v).tolist() for v in values]))

        cb.__qualname__ = f"effect_{tag}"
        return cb

    def double(self, tag: str) -> Callable[[Any], np.ndarray]:
        def cb(v: Any) -> np.ndarray:
            self.calls.append((tag, np.asarray(v).tolist()))
            return np.asarray(v) * 2

        return cb

    def take(self) -> list[tuple[str, Any]]:
        jax.effects_barrier()
        calls, self.calls = self.calls, []
        return calls


def both(fn: Callable[..., Any], *args: Any, capsys: pytest.CaptureFixture[str],
         log: Log | None = None, wrap: Callable[[Callable], Callable] = lambda f: f) -> Any:
    """`wrap(tiers.jit(fn))` and `wrap(jax.jit(fn))` on `args`: same results, printed text and
    callback calls (twice each: a second call runs the compiled program again)."""
    seen = []
    for compiler in (tiers.jit, jax.jit):
        compiled = wrap(compiler(fn))
        outs = [compiled(*args) for _ in range(2)]
        jax.effects_barrier()
        seen.append((outs, capsys.readouterr().out, log.take() if log else None))
    (ours, out, calls), (theirs, want_out, want_calls) = seen
    for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)
    assert out == want_out
    assert calls == want_calls
    return ours[0], out, calls


def shaped(x: Any) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(x.shape, x.dtype)


# -- running: the same output as jax.jit ----------------------------------------------------


def test_debug_print_and_callback(capsys: pytest.CaptureFixture[str]) -> None:
    log = Log()

    def f(x: jax.Array) -> jax.Array:
        jax.debug.print("x = {x}, sum {}", jnp.sum(x), x=x)
        jax.debug.print("no placeholders", x[0], skip_format_check=True)
        jax.debug.callback(log.effect("dbg"), x, x * 2)
        return x * 3

    _, out, calls = both(f, X, capsys=capsys, log=log)
    assert out.count("x = [1. 2. 3.], sum 6.0\n") == 2 and "no placeholders 1.0" in out
    assert calls == [("dbg", [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])] * 2


def test_ordered_effects_keep_their_order(capsys: pytest.CaptureFixture[str]) -> None:
    """Ordered prints and io_callbacks, in straight code, a while loop, a scan and a cond,
    interleave as under jax.jit."""
    log = Log()

    def f(x: jax.Array) -> jax.Array:
        jax.debug.print("start {}", x, ordered=True)
        y = io_callback(log.double("io"), shaped(x), x, ordered=True)

        def body(c: tuple) -> tuple:
            i, v = c
            jax.debug.print("step {} {}", i, v, ordered=True)
            io_callback(log.effect("loop"), None, v, ordered=True)
            return i + 1, v + 1

        _, y = jax.lax.while_loop(lambda c: c[0] < 3, body, (0, y))

        def scan_body(c: jax.Array, v: jax.Array) -> tuple:
            io_callback(log.effect("scan"), None, c, v, ordered=True)
            return c + v, c

        total, _ = jax.lax.scan(scan_body, jnp.float32(0), y)
        jax.lax.cond(total > 0, lambda: jax.debug.print("positive", ordered=True),
                     lambda: jax.debug.print("negative", ordered=True))
        jax.debug.print("end {}", total, ordered=True)
        return total

    total, out, calls = both(f, X, capsys=capsys, log=log)
    assert out.splitlines()[:5] == ["start [1. 2. 3.]", "step 0 [2. 4. 6.]",
                                    "step 1 [3. 5. 7.]", "step 2 [4. 6. 8.]", "positive"]
    assert [tag for tag, _ in calls[:8]] == ["io", "loop", "loop", "loop", "scan", "scan",
                                            "scan", "io"]
    assert float(total) == 21.0


def test_pure_callback_results(capsys: pytest.CaptureFixture[str]) -> None:
    def f(x: jax.Array) -> tuple:
        s, c = jax.pure_callback(lambda v: (np.sin(v), np.cos(v).astype(np.float32)),
                                 (shaped(x), shaped(x)), x)
        n = jax.pure_callback(lambda v: np.int32(v.size), jax.ShapeDtypeStruct((), jnp.int32),
                              x)
        return s * c, n

    (sc, n), _, _ = both(f, X, capsys=capsys)
    np.testing.assert_allclose(np.asarray(sc), np.sin(X) * np.cos(X), rtol=1e-6)
    assert int(n) == 3


def test_io_callback_call_counts(capsys: pytest.CaptureFixture[str]) -> None:
    log = Log()

    def f(x: jax.Array) -> jax.Array:
        y = io_callback(log.double("unordered"), shaped(x), x)
        return jax.lax.fori_loop(0, 4, lambda i, v: io_callback(log.double("loop"), shaped(v),
                                                                v), y)

    out, _, calls = both(f, X, capsys=capsys, log=log)
    np.testing.assert_allclose(np.asarray(out), np.asarray(X) * 32)
    assert [t for t, _ in calls] == (["unordered"] + ["loop"] * 4) * 2


def test_inside_jax_jit_with_outer_ordered_effects(capsys: pytest.CaptureFixture[str]) -> None:
    """A tiers.jit with ordered effects called from a jax.jit that has its own: one token
    threads both, so the order is the program's."""
    log = Log()

    def inner(x: jax.Array) -> jax.Array:
        jax.debug.print("inner {}", x, ordered=True)
        return io_callback(log.double("inner"), shaped(x), x, ordered=True)

    def outer(f: Callable) -> Callable:
        def g(x: jax.Array) -> jax.Array:
            jax.debug.print("before", ordered=True)
            y = f(x)
            jax.debug.print("after {}", y, ordered=True)
            return y + 1

        return jax.jit(g)

    y = outer(tiers.jit(inner))(X)
    jax.effects_barrier()
    assert capsys.readouterr().out == "before\ninner [1. 2. 3.]\nafter [2. 4. 6.]\n"
    assert log.take() == [("inner", [1.0, 2.0, 3.0])]
    np.testing.assert_allclose(np.asarray(y), np.asarray(X) * 2 + 1)


def test_transformations(capsys: pytest.CaptureFixture[str]) -> None:
    """grad and vmap around and inside tiers.jit, as JAX transforms callbacks."""

    def f(x: jax.Array) -> jax.Array:
        jax.debug.print("f {}", x)
        return jnp.sum(jnp.sin(x))

    both(f, X, capsys=capsys, wrap=jax.grad)
    both(jax.grad(f), X, capsys=capsys)
    both(f, jnp.stack([X, X * 2]), capsys=capsys, wrap=jax.vmap)

    @jax.custom_jvp
    def host_sin(x: jax.Array) -> jax.Array:
        return jax.pure_callback(np.sin, shaped(x), x, vmap_method="sequential")

    host_sin.defjvp(lambda p, t: (host_sin(p[0]), jnp.cos(p[0]) * t[0]))
    both(lambda x: jnp.sum(host_sin(x)), X, capsys=capsys, wrap=jax.grad)
    both(host_sin, jnp.stack([X, X * 2]), capsys=capsys, wrap=jax.vmap)
    both(jax.vmap(jax.grad(lambda x: jnp.sum(host_sin(x)))), jnp.stack([X, X]), capsys=capsys)
    log = Log()
    both(lambda x: io_callback(log.double("io"), shaped(x), x), jnp.stack([X, X * 2]),
         capsys=capsys, log=log, wrap=jax.vmap)


TRANSFORMS: dict[str, Callable[[Callable], Callable]] = {
    "grad": jax.grad, "vmap": jax.vmap, "checkpoint": lambda f: jax.grad(jax.checkpoint(f)),
    "jvp": lambda f: lambda x: jax.jvp(f, (x,), (x,)),
    "linearize": lambda f: lambda x: jax.linearize(f, x)[1](x),
}


@pytest.mark.parametrize("name", TRANSFORMS)
def test_ordered_prints_under_transformations(name: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    def f(x: jax.Array) -> jax.Array:
        jax.debug.print("in {}", x, ordered=True)
        y = jnp.sin(x)
        jax.debug.print("out {}", y, ordered=True)
        return jnp.sum(y)

    x = jnp.stack([X, X + 1]) if name == "vmap" else X
    _, out, _ = both(f, x, capsys=capsys, wrap=TRANSFORMS[name])
    assert out.startswith("in ")


@pytest.mark.parametrize("case", ["vmap ordered io", "grad pure", "grad io"])
def test_jax_errors_where_jax_refuses(case: str) -> None:
    def io(x: jax.Array) -> jax.Array:
        return io_callback(lambda v: v, shaped(x), x, ordered=True)

    def pure(x: jax.Array) -> jax.Array:
        return jnp.sum(jax.pure_callback(np.sin, shaped(x), x))

    programs: dict[str, tuple[Callable, Callable, Any]] = {
        "vmap ordered io": (io, jax.vmap, jnp.ones((2, 3))),
        "grad pure": (pure, jax.grad, X),
        "grad io": (lambda x: jnp.sum(io(x)), jax.grad, X),
    }
    fn, transform, x = programs[case]
    with pytest.raises(ValueError) as want:
        transform(jax.jit(fn))(x)
    with pytest.raises(ValueError) as got:
        transform(tiers.jit(fn))(x)
    assert str(got.value) == str(want.value)


def test_same_structure_other_callback_is_not_shared() -> None:
    """Two programs that differ only in their callbacks print alike as jaxprs: each must
    call its own (no program cache may mistake one for the other)."""
    log = Log()

    def make(tag: str) -> Callable:
        return tiers.jit(lambda x: io_callback(log.double(tag), shaped(x), x))

    for tag in ("a", "b", "c"):
        make(tag)(X)
    assert [t for t, _ in log.take()] == ["a", "b", "c"]
    assert tiers.cache_info()["miss_reasons"]["host callback"] >= 3


def test_never_on_disk(tmp_path: Any) -> None:
    """The persistent cache holds StableHLO text, which cannot hold a callback."""
    log = Log()
    with tiers.config.set_cache_dir(str(tmp_path)):
        disk = tiers.cache_info()["disk"]
        before = (disk["writes"], disk["miss_reasons"].get("host callback", 0))
        tiers.jit(lambda x: io_callback(log.double("disk"), shaped(x), x) + 1)(X)
        disk = tiers.cache_info()["disk"]
        assert (disk["writes"], disk["miss_reasons"]["host callback"]) == \
            (before[0], before[1] + 1)
    assert len(log.take()) == 1


def test_tiers_print_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    """`tiers.print` prints as jax.debug.print in eager, lazy and compiled code, Tensors as
    the arrays they hold."""
    t = tiers.asarray([1.0, 2.0])
    jax.debug.print("v {} {y}", np.asarray([1.0, 2.0], np.float32), y=jnp.arange(2))
    want = capsys.readouterr().out
    tiers.print("v {} {y}", t, y=jnp.arange(2))
    assert capsys.readouterr().out == want
    with tiers.lazy():
        lazy = tiers.asarray([0.5, 1.0]) * 2
        tiers.print("v {} {y}", lazy, y=jnp.arange(2))
        assert capsys.readouterr().out == want  # at once: the pending program ran first
    compiled = tiers.jit(lambda x: (tiers.print("v {} {y}", x, y=jnp.arange(2)), x)[1])
    compiled(t)
    compiled(jnp.asarray([1.0, 2.0]))
    jax.effects_barrier()
    assert capsys.readouterr().out == want * 2
    with pytest.raises(TypeError, match="graph tensor"), tiers.Graph().as_default():
        tiers.print("{}", tiers.placeholder(jnp.float32, (2,)))


# -- the IR: printing, parsing, targets -----------------------------------------------------


def imported(fn: Callable[..., Any], *args: Any) -> ModuleOp:
    return import_jaxpr(jax.make_jaxpr(fn)(*args), "main")


def effect_ops(module: ModuleOp) -> list[Operation]:
    return [op for op in module.walk() if isinstance(op, lax.CallbackOp)]


def test_ir_prints_and_refuses_to_parse() -> None:
    def f(x: jax.Array) -> jax.Array:
        jax.debug.print("x = {}", x, ordered=True)
        return jax.pure_callback(np.sin, shaped(x), x)

    module = imported(f, X)
    text = str(module)
    assert 'lax.debug_print "x = {}" %0 ordered true : tensor<3xf32> -> ()' in text
    assert 'lax.pure_callback "sin" %0 : tensor<3xf32>' in text
    with pytest.raises(Exception, match="Python callback 'x = {}' cannot be read from IR"):
        parse_module(_CTX, text, "callbacks.mlir")
    module.verify()
    op = effect_ops(module)[1]
    assert isinstance(op, lax.PureCallbackOp)
    bad = lax.PureCallbackOp.make(list(op.operands),
                                  [lax.TensorType(lax.elem(op.results[0]), [4])], op.host)
    with pytest.raises(Exception, match="result_avals"):
        bad.verify()


def test_targets_run_the_ir(capsys: pytest.CaptureFixture[str]) -> None:
    log = Log()

    def f(x: jax.Array) -> jax.Array:
        jax.debug.print("ran {}", x)
        return io_callback(log.double("io"), shaped(x), jax.pure_callback(np.cos, shaped(x), x))

    module = imported(f, X)
    want = np.cos(np.asarray(X)) * 2
    for run in (lambda: reference.run(module, [np.asarray(X)])[0],
                lambda: jax_target.compile(module)(X)[0],
                lambda: jax_target.compile(module, emission="walk")(X)[0],
                lambda: jax_target.compile(module, mode="kernels")(X)[0]):
        np.testing.assert_allclose(np.asarray(run()), want, rtol=1e-6)
        jax.effects_barrier()
        assert capsys.readouterr().out == "ran [1. 2. 3.]\n"
        assert len(log.take()) == 1
    with pytest.raises(CallbackInText, match="Python callback 'ran {}'"):
        jax_target.stablehlo_text(module)


# -- the passes: effects respected ---------------------------------------------------------


def run_passes(module: ModuleOp, spec: str) -> ModuleOp:
    tiers.pipeline.compile(module, spec, ctx=_CTX)
    return module


def test_dce_keeps_effects_and_drops_unused_pure_callbacks() -> None:
    def f(x: jax.Array) -> jax.Array:
        jax.debug.print("kept {}", x)
        jax.debug.callback(lambda v: None, x)
        io_callback(lambda v: v, shaped(x), x)  # result unused: still called
        jax.pure_callback(np.sin, shaped(x), x)  # result unused: dropped, as JAX does
        jax.lax.cond(x[0] > 0, lambda: jax.debug.print("in cond"), lambda: None)
        return x + 1

    for spec in ("dce", "cse", "canonicalize"):
        module = run_passes(imported(f, X), spec)
        names = [op.name for op in effect_ops(module)]
        assert names == ["lax.debug_print", "lax.debug_callback", "lax.io_callback",
                         "lax.debug_print"], spec
        assert any(isinstance(op, lax.CondOp) for op in module.walk()), spec


def _twin(module: ModuleOp, cls: type) -> tuple[Operation, Operation]:
    """`module`'s op of class `cls` and a clone of it right after it: the same operands and
    the same callback attribute, so it is structurally equal."""
    (op,) = [o for o in module.walk() if isinstance(o, cls)]
    twin = op.clone()
    assert op.parent is not None
    op.parent.insert_op_after(twin, op)
    return op, twin


def test_cse_merges_no_callbacks() -> None:
    def f(x: jax.Array) -> jax.Array:
        jax.debug.print("twice {}", x)
        y = jax.pure_callback(np.sin, shaped(x), x)
        return io_callback(lambda v: v, shaped(y), y)

    module = imported(f, X)
    block = module.body.block.first_op.regions[0].block
    ret = block.last_op
    _twin(module, lax.DebugPrintOp)
    values = []
    for cls in (lax.PureCallbackOp, lax.IoCallbackOp):
        op, twin = _twin(module, cls)
        values += [op.results[0], twin.results[0]]
    total = values[0]
    for v in values[1:]:  # every result used, so only a merge could remove a twin
        add = lax.AddOp(total, v)
        block.insert_op_before(add, ret)
        total = add.results[0]
    ret.operands = [total]
    module.verify()
    before = [op.name for op in effect_ops(module)]
    assert before == ["lax.debug_print"] * 2 + ["lax.pure_callback"] * 2 + \
        ["lax.io_callback"] * 2
    run_passes(module, "cse")
    assert [op.name for op in effect_ops(module)] == before


@pytest.mark.parametrize("loop", ["while", "scan"])
def test_licm_hoists_no_callback(loop: str) -> None:
    def f(x: jax.Array) -> jax.Array:
        def body(i: jax.Array, v: jax.Array) -> jax.Array:
            jax.debug.print("invariant {}", x)  # reads only values from above the loop
            y = jax.pure_callback(np.sin, shaped(x), x)
            return v + y * jnp.cos(x)  # cos(x): invariant and pure, so hoisted

        if loop == "scan":
            return jax.lax.fori_loop(0, 3, body, x)
        return jax.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, body(c[0], c[1])),
                                  (0, x))[1]

    module = run_passes(imported(f, X), "licm")
    (loop_op,) = [op for op in module.walk() if isinstance(op, lax.WhileOp | lax.ScanOp)]
    assert isinstance(loop_op, lax.WhileOp if loop == "while" else lax.ScanOp)
    inside = {op.name for op in loop_op.body.block.walk()}
    assert {"lax.debug_print", "lax.pure_callback"} <= inside
    assert "lax.cos" not in inside


def test_fold_constants_calls_nothing() -> None:
    log = Log()

    def f(x: jax.Array) -> jax.Array:
        c = jnp.arange(3.0, dtype=jnp.float32)
        return x + jax.pure_callback(log.double("fold"), shaped(c), c)

    module = run_passes(imported(f, X), "fold-constants,canonicalize")
    assert [op.name for op in effect_ops(module)] == ["lax.pure_callback"]
    assert log.take() == []


@pytest.mark.parametrize("preset", ["O1", "O2", "default"])
def test_presets_keep_callbacks_in_order(preset: str) -> None:
    def f(x: jax.Array) -> jax.Array:
        for i in range(3):
            jax.debug.print("p{}", i, ordered=True)
            x = io_callback(lambda v: v, shaped(x), x * 1.0, ordered=True)
            jax.debug.print("p{}", i)
        return x

    module = imported(f, X)
    before = [(op.name, op.host.name, op.is_ordered) for op in effect_ops(module)]
    run_passes(module, preset)
    assert [(op.name, op.host.name, op.is_ordered) for op in effect_ops(module)] == before


def test_callback_attr_is_equal_only_to_itself() -> None:
    a, b = HostCallback("f", {}), HostCallback("f", {})
    assert CallbackAttr(a) == CallbackAttr(a) and CallbackAttr(a) != CallbackAttr(b)


def test_filecheck_helper_prints() -> None:
    """The helper that filecheck/dialects/lax/callbacks.mlir runs works (lit checks its text)."""
    from pathlib import Path

    script = Path(__file__).parent.parent / "filecheck" / "dialects" / "lax" / "Inputs" / \
        "print_callbacks.py"
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         check=True, timeout=300)
    assert "lax.io_callback" in out.stdout
