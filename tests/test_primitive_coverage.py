"""Which of JAX's primitives tiers imports: the table docs/primitive-coverage.md, which a test
here keeps current, and the primitives JAX's own libraries emit, end to end against `jax.jit`.

The table. JAX registers a lowering for every primitive it can compile (`_lowerings` and
`_platform_specific_lowerings` in jax/_src/interpreters/mlir.py). A fresh interpreter imports
JAX and a fixed list of its libraries (`LIBRARIES`, so the set does not depend on what this
process imported) and lists those primitives by name. Each is then `rule` (an importer rule
builds tiers ops for it), `gap` (known not to import: `GAPS` says why) or `lax.generic` or
`lax.opaque` (no
rule: imported as an opaque `lax.generic`, which JAX's own lowering compiles, when its params
are plain data, which each equation decides, else as the function JAX's lowering traces when
that lowering is `mlir.lower_fun`, else as `lax.opaque`, the equation held as JAX bound it).
After adding a rule, rewrite the table with

    UPDATE=1 .venv/bin/python -m pytest tests/test_primitive_coverage.py -k table
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax as jlax
from jax._src import config as jax_config
from jax.experimental import checkify
from jax.extend import core as jcore
from jax.interpreters import mlir as jmlir
from xdsl.dialects import func

import tiers
from tiers.dialects import array, lax
from tiers.frontend import import_edtypes, import_rules
from tiers.frontend.emitter import UnsupportedPrimitive
from tiers.frontend.importer import import_jaxpr
from tiers.pipeline.context import make_context
from tiers.pipeline.verify import parse_module
from tiers.targets import reference

TABLE = Path(__file__).parent.parent / "docs" / "primitive-coverage.md"
LIBRARIES = ("jax", "jax.numpy", "jax.nn", "jax.random", "jax.scipy.special",
             "jax.scipy.linalg", "jax.scipy.signal", "jax.scipy.stats",
             "jax.experimental.checkify", "jax.experimental.sparse", "jax.experimental.pallas",
             "jax.experimental.custom_partitioning")
_LIST = """
import importlib, sys
from jax._src.interpreters import mlir
for name in sys.argv[1:]:
    importlib.import_module(name)
names = {p.name for p in mlir._lowerings}
names |= {p.name for rules in mlir._platform_specific_lowerings.values() for p in rules}
print("\\n".join(sorted(names)))
"""

# Primitives known not to import, with why. None since `lax.opaque` (issue 18): a primitive
# whose params are not data (a body jaxpr, a mesh, a Python function) is held as JAX bound it
# and lowered by JAX's own rule. Kept for the next primitive tiers must refuse.
GAPS: dict[str, str] = {}


def registered_primitives() -> list[str]:
    """The names of every primitive JAX and `LIBRARIES` register a lowering for."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", _LIST, *LIBRARIES],
                         capture_output=True, text=True, check=True, timeout=300, env=env)
    return out.stdout.split()


def has_rule(name: str) -> bool:
    return (name in import_rules.RULES or name in import_rules.KEY_RULES
            or name in import_edtypes.EDTYPE_RULES)


def status(name: str) -> str:
    if name in import_rules.KEY_RULES and not (name in import_rules.RULES
                                               or name in import_edtypes.EDTYPE_RULES):
        return "rule on PRNG keys, else `lax.generic` or `lax.opaque`"
    if has_rule(name):
        ops = [f"`{c.name}`" for c in (*lax.all_ops(), *array.all_ops())
               if getattr(c, "PRIMITIVE", None) == name]
        return "rule" + (f" ({', '.join(ops)})" if ops else "")
    if name in GAPS:
        return f"gap: {GAPS[name]}"
    return "`lax.generic` or `lax.opaque`"


def render(names: list[str]) -> str:
    rows = {n: status(n) for n in names}
    ruled = sum(s.startswith("rule") for s in rows.values())
    gaps = sorted(n for n, s in rows.items() if s.startswith("gap"))
    lines = [
        "# JAX primitives and tiers' importer", "",
        "Written by `tests/test_primitive_coverage.py`, which fails when this file is stale; "
        "rewrite it with `UPDATE=1 .venv/bin/python -m pytest "
        "tests/test_primitive_coverage.py -k table`.", "",
        f"Every primitive JAX {jax.__version__} registers a lowering for, with "
        f"{', '.join(f'`{m}`' for m in LIBRARIES)} imported: {len(names)} primitives. "
        f"{ruled} have an importer rule (`rule`, with the tiers op made when it is one op); "
        f"{len(gaps)} are known not to import (`gap`); the other "
        f"{len(names) - ruled - len(gaps)} have no rule and import as an opaque "
        "`lax.generic`, compiled by JAX's own lowering, when their params are plain data "
        "(numbers, strings, dtypes, enums, primitives, tuples and dataclasses of these); "
        "a primitive with other params that JAX lowers with `mlir.lower_fun(fun)` imports "
        "as a call of `fun` traced; any other (`shard_map`, `reduce` with a Python "
        "computation, a library's own primitive) as `lax.opaque`, the equation as JAX bound "
        "it, lowered by JAX's own rule: passes leave it alone, and its programs have no text form "
        "and are not cached (as with host callbacks).", "",
        *(["## Known gaps", "", "| primitive | why |", "|---|---|",
           *(f"| `{n}` | {GAPS[n]} |" for n in gaps), ""] if gaps else []),
        "## Every primitive", "", "| primitive | tiers |", "|---|---|",
        *(f"| `{n}` | {s.split(':')[0]} |" for n, s in rows.items()), ""]
    return "\n".join(lines)


def test_coverage_table_is_current() -> None:
    text = render(registered_primitives())
    if os.environ.get("UPDATE") == "1":
        TABLE.write_text(text)
    old = TABLE.read_text() if TABLE.exists() else ""
    diff = "\n".join(difflib.unified_diff(old.splitlines(), text.splitlines(), "checked in",
                                          "now", lineterm="", n=0))
    assert old == text, (f"{TABLE.name} is stale: rewrite it with UPDATE=1 .venv/bin/python "
                         f"-m pytest tests/test_primitive_coverage.py -k table\n{diff}")


def test_gaps_are_registered_primitives_without_a_rule() -> None:
    names = set(registered_primitives())
    unknown = sorted(set(GAPS) - names)
    assert not unknown, f"GAPS names primitives JAX does not register: {unknown}"
    ruled = sorted(n for n in GAPS if has_rule(n))
    assert not ruled, f"GAPS names primitives that now have a rule: {ruled}"


# -- pooling and its derivatives: a small CNN trained with both compilers ------------------


def _cnn(params: dict[str, jax.Array], x: jax.Array) -> jax.Array:
    """conv -> relu -> max pool (flax's `max_pool`: -inf init, SAME) -> avg pool -> dense."""
    y = jlax.conv_general_dilated(x, params["conv"], (1, 1), "SAME",
                                  dimension_numbers=("NHWC", "HWIO", "NHWC"))
    y = jax.nn.relu(y)
    y = jlax.reduce_window(y, -jnp.inf, jlax.max, (1, 3, 3, 1), (1, 2, 2, 1), "SAME")
    y = jlax.reduce_window(y, 0.0, jlax.add, (1, 2, 2, 1), (1, 1, 1, 1), "VALID") / 4.0
    return y.reshape(y.shape[0], -1) @ params["dense"]


def _loss(params: dict[str, jax.Array], x: jax.Array, labels: jax.Array) -> jax.Array:
    logits = _cnn(params, x)
    return -jnp.mean(jnp.sum(jax.nn.log_softmax(logits) * labels, axis=-1))


def _cnn_data() -> tuple[dict[str, jax.Array], jax.Array, jax.Array]:
    rng = np.random.default_rng(0)
    params = {"conv": jnp.asarray(rng.standard_normal((3, 3, 2, 4)) * 0.3, jnp.float32),
              "dense": jnp.asarray(rng.standard_normal((4 * 3 * 3, 5)) * 0.1, jnp.float32)}
    x = jnp.asarray(rng.standard_normal((3, 8, 8, 2)), jnp.float32)
    labels = jax.nn.one_hot(jnp.asarray([0, 3, 1]), 5)
    return params, x, labels


def _close(got: Any, want: Any, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


def test_max_pool_gradient_imports_as_select_and_scatter_add() -> None:
    params, x, labels = _cnn_data()
    module = import_jaxpr(jax.make_jaxpr(jax.grad(_loss))(params, x, labels))
    names = {op.name for op in module.walk()}
    assert {"lax.reduce_window_max", "lax.reduce_window_sum",
            "lax.select_and_scatter_add"} <= names
    generic = {op.prim.data for op in module.walk() if isinstance(op, lax.GenericOp)}
    assert generic == {"conv_general_dilated"}  # no tiers op yet: JAX lowers it


def test_cnn_training_matches_jax() -> None:
    """SGD steps with the gradient taken inside and outside `tiers.jit`, as `jax.jit` does."""
    params, x, labels = _cnn_data()

    def step(p: dict[str, jax.Array]) -> tuple[dict[str, jax.Array], jax.Array]:
        loss, grads = jax.value_and_grad(_loss)(p, x, labels)
        return jax.tree.map(lambda a, g: a - 0.1 * g, p, grads), loss

    ours, outside, theirs = params, params, params
    tiers_step, jax_step = tiers.jit(step), jax.jit(step)
    tiers_loss = tiers.jit(_loss)
    for _ in range(3):
        ours, loss = tiers_step(ours)
        theirs, want = jax_step(theirs)
        grads = jax.grad(tiers_loss)(outside, x, labels)
        outside = jax.tree.map(lambda a, g: a - 0.1 * g, outside, grads)
        _close(loss, want)
        _close(ours, theirs)
        _close(outside, theirs)
    assert float(want) < float(_loss(params, x, labels))  # it trains


def test_max_pool_second_order_and_batching() -> None:
    """Forward-mode through max pooling (select_and_gather_add), Hessian-vector products
    (select_and_scatter_add differentiated) and `vmap` of the gradient."""
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.standard_normal((2, 6, 5, 3)), jnp.float32)
    v = jnp.asarray(rng.standard_normal((2, 6, 5, 3)), jnp.float32)

    def f(x: jax.Array) -> jax.Array:
        pooled = jlax.reduce_window(x, -jnp.inf, jlax.max, (1, 2, 3, 1), (1, 2, 1, 1), "SAME")
        return jnp.sum(jnp.sin(pooled) * pooled)

    def hvp(x: jax.Array, v: jax.Array) -> jax.Array:
        return jax.jvp(jax.grad(f), (x,), (v,))[1]

    module = import_jaxpr(jax.make_jaxpr(hvp)(x, v))
    assert any(isinstance(op, lax.SelectAndGatherAddOp) for op in module.walk())
    programs = {"hvp": (hvp, (x, v)),
                "jvp": (lambda x, v: jax.jvp(f, (x,), (v,)), (x, v)),
                "vmap grad": (jax.vmap(jax.grad(f)), (jnp.stack([x, v]),))}
    for fn, args in programs.values():
        _close(tiers.jit(fn)(*args), jax.jit(fn)(*args))
    _close(jax.jvp(tiers.jit(jax.grad(f)), (x,), (v,))[1], hvp(x, v))


# -- nested jax.jit(inline=False) --------------------------------------------------------


def test_nested_noinline_jit_is_a_call() -> None:
    """A `jax.jit(inline=False)` function called inside `tiers.jit` arrives as a `jit`
    equation holding its jaxpr: a private function called twice, imported once."""
    inner = jax.jit(lambda a, b: jnp.tanh(a) * b, inline=False)

    def f(x: jax.Array) -> jax.Array:
        return jnp.sum(inner(x, 2.0) + inner(x * x, 2.0))

    x = jnp.linspace(-1.0, 1.0, 6, dtype=jnp.float32)
    module = import_jaxpr(jax.make_jaxpr(f)(x))
    functions = [op for op in module.walk() if isinstance(op, func.FuncOp)]
    calls = [op for op in module.walk() if isinstance(op, func.CallOp)]
    assert len(functions) == 2 and len(calls) == 2
    assert {c.callee.string_value() for c in calls} == {functions[1].sym_name.data}
    _close(tiers.jit(f)(x), jax.jit(f)(x))
    _close(tiers.jit(jax.grad(f))(x), jax.grad(f)(x))
    _close(jax.grad(tiers.jit(f))(x), jax.grad(f)(x))
    inlined = jax.jit(lambda a: jnp.tanh(a) * 2.0, inline=True)
    _close(tiers.jit(lambda a: inlined(a) + 1.0)(x), jnp.tanh(x) * 2.0 + 1.0)


# -- checkify ------------------------------------------------------------------------------


def _checked(x: jax.Array, i: jax.Array) -> jax.Array:
    checkify.check(jnp.all(x > 0), "x must be positive, got {}", x[0])
    return jnp.log(x)[i] / (x[0] - 1.0)


CHECKS = checkify.user_checks | checkify.index_checks | checkify.nan_checks


@pytest.mark.parametrize("order", ["checkify(tiers.jit)", "tiers.jit(checkify)"])
def test_checkify_around_and_inside_tiers_jit(order: str) -> None:
    if order == "checkify(tiers.jit)":
        ours = checkify.checkify(tiers.jit(_checked), errors=CHECKS)
    else:
        ours = tiers.jit(checkify.checkify(_checked, errors=CHECKS))
    theirs = jax.jit(checkify.checkify(_checked, errors=CHECKS))
    x = jnp.arange(2.0, 6.0)
    cases = [(x, 2), (-x, 1), (x, 7), (x - 1.0, 0)]  # fine, check, index, nan (0 / 0)
    messages = []
    for args in cases:
        (err, out), (want_err, want) = ours(*args), theirs(*args)
        assert err.get() == want_err.get()
        messages.append(err.get())
        np.testing.assert_array_equal(np.asarray(out), np.asarray(want))
    assert messages[0] is None
    assert "x must be positive, got -2.0" in messages[1]
    assert "out-of-bounds" in messages[2] and "nan generated" in messages[3]


def test_unfunctionalized_checks() -> None:
    """Outside `checkify.checkify` a `debug_check` is a no-op and a `check` is JAX's error."""
    def debug(x: jax.Array) -> jax.Array:
        checkify.debug_check(jnp.all(x > 0), "never raised")
        return x * 2

    x = -jnp.arange(3.0)
    np.testing.assert_array_equal(tiers.jit(debug)(x), jax.jit(debug)(x))
    err, _ = checkify.checkify(tiers.jit(debug))(x)
    assert err.get() is not None and "never raised" in err.get()

    def plain(x: jax.Array) -> jax.Array:
        checkify.check(jnp.all(x > 0), "x must be positive")
        return x

    with pytest.raises(ValueError, match="not functionalized") as jax_error:
        jax.jit(plain)(x)
    with pytest.raises(ValueError, match="not functionalized") as ours:
        tiers.jit(plain)(x)
    assert str(jax_error.value) in str(ours.value)
    # JAX then raises at run time from a host callback, which tiers IR cannot hold yet.
    with jax_config.xla_runtime_errors(True), pytest.raises(UnsupportedPrimitive,
                                                           match="host callback"):
        tiers.jit(plain)(x)


# -- other primitives of JAX's libraries ---------------------------------------------------


@pytest.mark.parametrize("name", ["gamma", "beta", "dirichlet", "loggamma", "clone"])
def test_random_gamma_family_is_exact(name: str) -> None:
    """`random_gamma` (and `random_clone`) on typed keys: the same bits as `jax.jit`."""
    samplers = {
        "gamma": lambda k, a: jax.random.gamma(k, a, (3, 4)),
        "beta": lambda k, a: jax.random.beta(k, a, a + 1.0, (5,)),
        "dirichlet": lambda k, a: jax.random.dirichlet(k, jnp.stack([a, a + 1.0, a + 2.0])),
        "loggamma": lambda k, a: jax.random.loggamma(k, a, (2,)),
        "clone": lambda k, a: jax.random.uniform(jax.random.clone(k), (2,)) * a,
    }

    def fn(data: jax.Array, a: jax.Array) -> jax.Array:
        return samplers[name](jax.random.wrap_key_data(data), a)

    data, a = jax.random.key_data(jax.random.key(3)), jnp.float32(0.7)
    np.testing.assert_array_equal(np.asarray(tiers.jit(fn)(data, a)),
                                  np.asarray(jax.jit(fn)(data, a)))
    if name == "gamma":  # the implicit gradient with respect to the shape parameter
        grad = jax.grad(lambda a: fn(data, a).sum())
        _close(tiers.jit(grad)(a), jax.jit(grad)(a))


def test_ragged_dot_imports_its_dataclass_params() -> None:
    rng = np.random.default_rng(2)
    a = jnp.asarray(rng.standard_normal((6, 4)), jnp.float32)
    b = jnp.asarray(rng.standard_normal((2, 4, 3)), jnp.float32)
    groups = jnp.asarray([2, 4], jnp.int32)

    def f(a: jax.Array, b: jax.Array) -> jax.Array:
        return jnp.sum(jnp.sin(jlax.ragged_dot(a, b, groups)))

    _close(tiers.jit(f)(a, b), jax.jit(f)(a, b))
    grad = jax.grad(f, argnums=(0, 1))
    _close(tiers.jit(grad)(a, b), jax.jit(grad)(a, b))
    # The params survive a round trip through text (saved IR, tiers-opt).
    module = import_jaxpr(jax.make_jaxpr(f)(a, b))
    parsed, _ = parse_module(make_context(), str(module), "ragged.mlir")
    assert str(parsed) == str(module)
    _close(reference.run(parsed, [np.asarray(a), np.asarray(b)])[0], f(a, b))


def test_device_put_inside_is_its_operand() -> None:
    def f(x: jax.Array) -> jax.Array:
        return jax.device_put(x, jax.devices()[0]) * 2.0 + jax.device_put(x)

    x = jnp.arange(4.0)
    _close(tiers.jit(f)(x), jax.jit(f)(x))
    _close(jax.grad(tiers.jit(lambda x: f(x).sum()))(x), jnp.full(4, 3.0))


def test_scatter_apply_is_refused_not_miscomputed() -> None:
    """`x.at[i].apply(f)` is a scatter whose combiner is f: refused, never run as a set."""
    x = jnp.arange(4.0)
    with pytest.raises(UnsupportedPrimitive, match="custom combiner"):
        tiers.jit(lambda a: a.at[1].apply(jnp.sin))(x)


# -- primitives of other libraries: lowered by tracing a function --------------------------


def _vprim_impl(x: jax.Array, y: jax.Array, *, fn: Any, tree: Any) -> list[jax.Array]:
    return [fn(x) + y, x * float(tree.num_leaves)]


# As equinox makes its `maybe_set`, `select_if_vmap`, ...: params that are not plain data (a
# function, a tree definition) and the lowering `mlir.lower_fun` of the implementation.
LOWERED = jcore.Primitive("tiers_test_lowered")
LOWERED.multiple_results = True
LOWERED.def_impl(_vprim_impl)
LOWERED.def_abstract_eval(lambda x, y, **_: [jax.core.ShapedArray(x.shape, x.dtype)] * 2)
jmlir.register_lowering(LOWERED, jmlir.lower_fun(_vprim_impl, multiple_results=True))
# The same primitive with a lowering of its own: tiers cannot know what it computes.
OPAQUE = jcore.Primitive("tiers_test_opaque")
OPAQUE.def_impl(lambda x, **_: x)
OPAQUE.def_abstract_eval(lambda x, **_: jax.core.ShapedArray(x.shape, x.dtype))
jmlir.register_lowering(OPAQUE, lambda ctx, x, **_: [x])


def test_a_primitive_lowered_with_lower_fun_imports_as_its_function() -> None:
    def f(x: jax.Array) -> jax.Array:
        a, b = LOWERED.bind(x, x + 1.0, fn=jnp.sin, tree=jax.tree.structure((1, 2, 3)))
        return a * b

    x = jnp.linspace(0.0, 1.0, 5)
    module = import_jaxpr(jax.make_jaxpr(f)(x))
    callees = {op.sym_name.data for op in module.walk() if isinstance(op, func.FuncOp)}
    assert "tiers_test_lowered" in callees
    assert any(isinstance(op, lax.SinOp) for op in module.walk())
    _close(tiers.jit(f)(x), jax.jit(f)(x))


def test_a_primitive_with_its_own_lowering_and_opaque_params_runs_as_jax_lowers_it() -> None:
    from tiers.pipeline.cache import PROGRAMS

    x = jnp.arange(3.0)
    f = tiers.jit(lambda a: OPAQUE.bind(a, fn=jnp.sin) * 2)
    # Unshared: a callable param leaves the program without a key ("unhashable"), and an
    # opaque op in the IR would too ("opaque primitive").
    reasons = ("unhashable", "opaque primitive")
    before = sum(PROGRAMS.info()["miss_reasons"].get(r, 0) for r in reasons)
    _close(f(x), 2 * x)
    assert sum(PROGRAMS.info()["miss_reasons"].get(r, 0) for r in reasons) == before + 1
    text = f.lower(x).as_text("optimized")
    assert 'lax.opaque "tiers_test_opaque"' in text
    with pytest.raises(Exception, match="'tiers_test_opaque' cannot be read from IR text"):
        parse_module(make_context(), text, "opaque.mlir")


def test_shard_map_runs_in_tiers_jit_under_grad_and_vmap() -> None:
    from jax.sharding import PartitionSpec

    mesh = jax.make_mesh((1,), ("x",))

    def f(a: jax.Array) -> jax.Array:
        body = jax.shard_map(lambda b: b * 2 + jax.lax.psum(b.sum(), "x"), mesh=mesh,
                             in_specs=PartitionSpec(), out_specs=PartitionSpec())
        return jnp.sin(body(a))

    x = jnp.arange(4.0)
    assert "lax.opaque \"shard_map\"" in tiers.jit(f).lower(x).as_text("optimized")
    _close(tiers.jit(f)(x), jax.jit(f)(x))
    _close(jax.grad(lambda a: tiers.jit(f)(a).sum())(x), jax.grad(lambda a: f(a).sum())(x))
    xs = jnp.stack([x, x + 1.0])
    _close(jax.vmap(tiers.jit(f))(xs), jax.vmap(jax.jit(f))(xs))


def _same_name(scale: float) -> Any:
    """A primitive named like another, with plain params and its own lowering."""
    prim = jcore.Primitive("tiers_test_same_name")
    prim.def_impl(lambda x, k: x * scale * k)
    prim.def_abstract_eval(lambda x, k: jax.core.ShapedArray(x.shape, x.dtype))
    jmlir.register_lowering(prim, jmlir.lower_fun(lambda x, k: x * scale * k, False))
    return prim


def test_two_primitives_of_one_name_are_never_confused() -> None:
    """Libraries reuse primitive names (equinox's tests make several "newprim"s): the second
    one met must not run as the first (a wrong number), so it is held as itself."""
    first, second = _same_name(2.0), _same_name(10.0)
    x = jnp.arange(3.0)
    _close(tiers.jit(lambda a: first.bind(a, k=1.0))(x), 2 * x)
    _close(tiers.jit(lambda a: second.bind(a, k=1.0))(x), 10 * x)
