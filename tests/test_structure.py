"""The structural key of a traced program (frontend/structure.py, `program_structure`): the
same program traced again keys alike; anything that could compile differently keys apart; what
cannot be keyed by value has no key."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import run_with_devices
from jax import lax
from jax._src import core, source_info_util
from jax.extend.core import Primitive
from jax.interpreters import mlir
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

import tiers
from tiers.frontend import structure
from tiers.frontend.call import MODULES, Options, program_structure
from tiers.frontend.importer import user_frame

X = np.linspace(-1.0, 1.0, 8, dtype=np.float32)
M = np.arange(16, dtype=np.float32).reshape(4, 4) / 16


def key(fn: Callable[..., Any], *args: Any, options: Options | None = None,
        name: str = "f") -> str | None:
    return program_structure(jax.make_jaxpr(fn)(*args), options or Options(), name)


def keys(*fns: Callable[..., Any], args: tuple[Any, ...] = (X,)) -> list[str | None]:
    out = [key(fn, *args) for fn in fns]
    assert all(k is not None for k in out)
    return out


# -- the same program again: one key ----------------------------------------------------------


def _closure(c: float = 0.5) -> Callable[..., Any]:
    def f(x: jax.Array) -> jax.Array:
        return jnp.sin(x) * 2.0 + c

    return f


def _scaled(x: jax.Array, s: float) -> jax.Array:
    return jnp.tanh(x) * s


def _nested(x: jax.Array) -> jax.Array:
    """Loops, branches, custom rules and calls inside one another."""
    def body(c: jax.Array, xs: jax.Array) -> tuple[jax.Array, jax.Array]:
        c = lax.fori_loop(0, 3, lambda i, v: jax.jit(jnp.tanh)(v) * 0.9 + jax.nn.relu(v), c)
        c = lax.cond(jnp.sum(c) > 0, lambda v: jax.nn.gelu(v), lambda v: jnp.exp(v), c)
        return c + xs, jnp.sum(c)

    y, ys = lax.scan(body, x, jnp.ones((3, *x.shape), x.dtype))
    return jax.checkpoint(jnp.sin)(y) + ys[0]


def test_the_same_program_from_new_functions_keys_alike() -> None:
    a, b = keys(_closure(), _closure())  # a re-created closure
    assert a == b
    c, d = keys(functools.partial(_scaled, s=2.0), functools.partial(_scaled, s=2.0))
    assert c == d
    e, f = keys(_nested, lambda x: _nested(x))
    assert e == f and key(_nested, X) == e


def test_key_covers_options_and_name() -> None:
    base = key(_closure(), X)
    assert key(_closure(), X, options=Options(pipeline=tiers.pipeline.parse("cse,dce"))) != base
    assert key(_closure(), X, options=Options(verify_each=True)) != base
    assert key(_closure(), X, name="g") != base


# -- each difference: another key -------------------------------------------------------------


def _plus(c: Any) -> Callable[..., Any]:
    return lambda x: lax.add(x, c)  # one line for every `c`: only `c` differs


def test_constants_key_by_value() -> None:
    big = np.arange(100, dtype=np.float32)
    y = np.ones(100, np.float32)
    a, b, c = keys(_plus(big), _plus(big.copy()), _plus(big * 2), args=(y,))
    assert a == b != c
    # a constant inside a called function (the old printed-jaxpr key missed these)
    inner = [lambda x, v=v: jax.jit(lambda y: y + v)(x) for v in (big, big * 2)]
    d, e = keys(*inner, args=(y,))
    assert d != e


def test_literals_key_by_value_dtype_and_weak_type() -> None:
    a, b, c = keys(_plus(np.float32(2.0)), _plus(np.float32(2.0)), _plus(np.float32(3.0)))
    assert a == b != c
    # -0.0 and 0.0 print alike in some places; their bits differ
    assert len(set(keys(_plus(np.float32(0.0)), _plus(np.float32(-0.0))))) == 2
    strong, weak = keys(_plus(np.float32(2.0)), _plus(2.0))
    assert strong != weak
    assert key(_plus(np.int32(2)), X.astype(np.int32)) != key(_plus(2), X.astype(np.int32))


def test_a_literal_of_another_dtype_or_weak_type_alone() -> None:
    """One literal replaced, nothing else: each of dtype, weak type and value keys."""
    closed = jax.make_jaxpr(_plus(np.float32(2.0)))(X)

    def with_literal(val: Any, aval: Any) -> core.ClosedJaxpr:
        [eqn] = closed.jaxpr.eqns
        new = eqn.replace(invars=[eqn.invars[0], core.Literal(val, aval)])
        return closed.replace(jaxpr=closed.jaxpr.replace(eqns=[new]))

    variants = [
        with_literal(np.float32(2.0), core.ShapedArray((), np.float32)),
        with_literal(np.float16(2.0), core.ShapedArray((), np.float16)),
        with_literal(np.float32(2.0), core.ShapedArray((), np.float32, weak_type=True)),
        with_literal(np.float32(2.5), core.ShapedArray((), np.float32)),
    ]
    found = [program_structure(v, Options(), "f") for v in variants]
    assert None not in found and len(set(found)) == len(found)
    assert found[0] == program_structure(with_literal(np.float32(2.0), core.ShapedArray(
        (), np.float32)), Options(), "f")


def _sum(axis: int) -> Callable[..., Any]:
    return lambda m: jnp.sum(m, axis=axis)


def _dot(precision: Any) -> Callable[..., Any]:
    return lambda a, b: jnp.dot(a, b, precision=precision)


def test_params_key() -> None:
    a, b = keys(_sum(0), _sum(1), args=(M,))
    assert a != b
    c, d, e = keys(_dot(None), _dot(lax.Precision.HIGHEST), _dot(lax.Precision.HIGH),
                   args=(M, M))
    assert len({c, d, e}) == 3


def _sub(swap: bool) -> Callable[..., Any]:
    return lambda x, y: lax.sub(*((y, x) if swap else (x, y)))


def test_operand_order_keys() -> None:
    a, b = keys(_sub(False), _sub(True), args=(X, X))
    assert a != b


def test_source_lines_key() -> None:
    def f(x: jax.Array) -> jax.Array:
        return jnp.sin(x)

    def g(x: jax.Array) -> jax.Array:
        return jnp.sin(x)

    a, b = keys(f, g)
    assert a != b


def _sin_here(v: jax.Array) -> jax.Array:
    return jnp.sin(v)


def _sin_there(v: jax.Array) -> jax.Array:
    return jnp.sin(v)


def _branch(branch: Callable[..., Any]) -> Callable[..., Any]:
    """A cond on one line, with `branch` as one of its branches."""
    return lambda x: lax.cond(x[0] > 0, branch, jnp.cos, x)


def test_source_lines_inside_sub_jaxprs_key() -> None:
    a, b = keys(_branch(_sin_here), _branch(_sin_there))
    assert a != b  # the ops of the branch carry their own lines into the IR


def test_argument_and_result_names_key() -> None:
    def f(a: jax.Array) -> jax.Array:
        return jnp.sin(a)

    def g(b: jax.Array) -> jax.Array:
        return jnp.sin(b)

    closed_f, closed_g = jax.make_jaxpr(f)(X), jax.make_jaxpr(g)(X)
    # the same equations at the same place: only the parameter's name differs
    closed_g = closed_g.replace(jaxpr=closed_g.jaxpr.replace(eqns=[
        e.replace(source_info=closed_f.jaxpr.eqns[0].source_info)
        for e in closed_g.jaxpr.eqns]))
    assert program_structure(closed_f, Options(), "f") != \
        program_structure(closed_g, Options(), "f")


def _equations(jaxpr: Any) -> Any:
    for eqn in jaxpr.eqns:
        yield eqn
        for v in eqn.params.values():
            for sub in v if isinstance(v, tuple) else (v,):
                if isinstance(sub, core.ClosedJaxpr):
                    yield from _equations(sub.jaxpr)
                elif isinstance(sub, core.Jaxpr):
                    yield from _equations(sub)


def test_locations_are_the_importers() -> None:
    """The key's location of each equation, at any depth, is the one the importer writes
    into the IR (`importer.user_frame`), found per code object instead of per equation."""
    source = "def long(x):\n" + "".join(f"    x = jnp.sin(x) * {i}.0\n" for i in range(60)) + \
        "    return x\n"
    scope: dict[str, Any] = {"jnp": jnp}
    exec(compile(source, "tiers_test_long.py", "exec"), scope)  # noqa: S102
    for fn in (_nested, scope["long"]):
        seen = 0
        for eqn in _equations(jax.make_jaxpr(fn)(X).jaxpr):
            frame = user_frame(eqn.source_info)
            want = "?" if frame is None else \
                f"{frame.file_name!r}:{frame.start_line}:{frame.start_column}"
            assert structure._location(eqn.source_info.traceback) == want
            seen += 1
        assert seen > 20


def test_equations_without_a_user_line_key_the_line_compiling() -> None:
    """The importer locates them at the user's line that is compiling (`caller_site`)."""
    closed = jax.make_jaxpr(jnp.sin)(X)
    bare = closed.replace(jaxpr=closed.jaxpr.replace(eqns=[
        e.replace(source_info=source_info_util.new_source_info()) for e in closed.jaxpr.eqns]))
    here = [program_structure(bare, Options(), "f") for _ in range(2)]
    there = program_structure(bare, Options(), "f")
    assert None not in here and here[0] == here[1] != there


def _cond(other: Callable[..., Any]) -> Callable[..., Any]:
    return lambda x: lax.cond(x[0] > 0, jnp.sin, other, x)


def _scan(body: Callable[..., Any]) -> Callable[..., Any]:
    return lambda x: lax.scan(lambda c, _: (body(c), None), x, None, length=3)[0]


def test_nested_bodies_key() -> None:
    a, b = keys(_cond(jnp.cos), _cond(jnp.tan))
    assert a != b
    c, d = keys(_scan(jnp.cos), _scan(jnp.tan))
    assert c != d


def _twin(name: str) -> Primitive:
    p = Primitive(name)
    p.def_impl(lambda x: x)
    p.def_abstract_eval(lambda x: x)
    mlir.register_lowering(p, lambda ctx, x: [x])
    return p


TWIN_A, TWIN_B = _twin("tiers_test_twin"), _twin("tiers_test_twin")


def _bind(p: Primitive) -> Callable[..., Any]:
    return lambda x: p.bind(x) * 2.0


def test_primitives_of_one_name_key_apart() -> None:
    a, b, c = keys(_bind(TWIN_A), _bind(TWIN_B), _bind(TWIN_A))
    assert a != b and a == c


def test_a_re_created_primitive_of_the_same_home_keys_apart() -> None:
    """A module attribute rebound to a new primitive (a module reloaded): a new token."""
    global TWIN_C
    TWIN_C = _twin("tiers_test_twin_c")
    first = keys(_bind(TWIN_C))[0]
    TWIN_C = _twin("tiers_test_twin_c")
    assert keys(_bind(TWIN_C))[0] != first


TWIN_C: Primitive


FN_PARAM = Primitive("tiers_test_fn_param")
FN_PARAM.def_abstract_eval(lambda x, **_: x)


def test_a_callable_param_has_no_key() -> None:
    for fn in (jnp.sin, functools.partial(jnp.add, 1.0)):
        assert key(lambda x, fn=fn: FN_PARAM.bind(x, fn=fn), X) is None
        assert key(lambda x, fn=fn: FN_PARAM.bind(x, fns=(1, fn)), X) is None  # nested

    class Opaque:  # printed by address
        pass

    assert key(lambda x: FN_PARAM.bind(x, what=Opaque()), X) is None
    assert key(lambda x: FN_PARAM.bind(x, what=(1, "a")), X) is not None


def test_custom_rules_and_checkpoint_policies_key_by_their_primal() -> None:
    """Their callables (JVP, VJP, remat policy) are applied by JAX before tiers imports; the
    primal computation keys."""
    @jax.custom_vjp
    def f(x: jax.Array) -> jax.Array:
        return jnp.sin(x)

    f.defvjp(lambda x: (jnp.sin(x), x), lambda r, g: (g * jnp.cos(r),))
    policy = jax.checkpoint_policies.nothing_saveable

    def program() -> Callable[..., Any]:  # a new trace each call: new rule objects
        return lambda x: jax.checkpoint(f, policy=policy)(jax.nn.relu(x))

    a, b = keys(program(), program())
    assert a == b


CALLS_FN = Primitive("tiers_test_calls_fn")  # lowered as `fn` computes: tiers imports that
CALLS_FN.def_impl(lambda x, *, fn: fn(x))
CALLS_FN.def_abstract_eval(lambda x, *, fn: x)
mlir.register_lowering(CALLS_FN, mlir.lower_fun(lambda x, *, fn: fn(x), multiple_results=False))


def _calls(c: float) -> Callable[..., Any]:
    return lambda x: CALLS_FN.bind(x, fn=lambda v: v * c)  # one line, one printed jaxpr


def test_a_callable_param_is_never_a_wrong_hit() -> None:
    """Two programs that print alike (JAX prints a function without its address) but call
    different functions: each compiles its own, with its own numbers."""
    builds = MODULES.builds
    for c in (2.0, 3.0, 2.0):
        np.testing.assert_allclose(tiers.jit(_calls(c))(X), X * c, rtol=1e-6)
    assert MODULES.builds == builds + 3


def _adds_inside(v: np.ndarray) -> Callable[..., Any]:
    return lambda x: jax.jit(lambda y: y + v)(x)  # `v`: a constant of the inner jaxpr


def test_constants_of_sub_jaxprs_are_never_a_wrong_hit() -> None:
    big = np.arange(100, dtype=np.float32)
    y = np.ones(100, np.float32)
    for v in (big, big * 2):
        np.testing.assert_allclose(tiers.jit(_adds_inside(v))(y), y + v, rtol=1e-6)


def test_equal_keys_compile_once_and_give_right_numbers() -> None:
    """End to end: a new closure with another constant is a new program, the same one is not."""
    builds = MODULES.builds
    for c in (0.25, 0.25, 0.75):
        np.testing.assert_allclose(tiers.jit(_closure(c))(X), _closure(c)(X), rtol=1e-6)
    assert MODULES.builds == builds + 2


# -- meshes: devices in mesh order reach the IR ------------------------------------------------


def test_structure_tests_with_8_devices() -> None:
    run_with_devices(__file__)


@pytest.mark.devices
def test_meshes_key_by_their_devices() -> None:
    devices = np.array(jax.devices()[:4])
    meshes = [Mesh(devices.reshape(2, 2), ("x", "y")),
              Mesh(devices[::-1].reshape(2, 2), ("x", "y"))]
    found = [key(lambda x, m=m: lax.with_sharding_constraint(x, NamedSharding(m, P("x"))), M)
             for m in meshes]
    assert None not in found and found[0] != found[1]
