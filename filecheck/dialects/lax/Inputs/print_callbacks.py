"""Prints the IR of a function with every kind of host callback, for callbacks.mlir: as
imported, after the `default` pipeline (nothing erased, merged, hoisted or reordered) and in
MLIR's generic form (the `#lax.callback` attribute). Callback ops cannot be parsed back from
text, so this script, not `tiers-opt`, makes the IR that FileCheck reads."""

import io

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import io_callback
from xdsl.printer import Printer

import tiers


def log_value(v):
    return np.asarray(v)


def program(x):
    jax.debug.print("x = {x}", x=x, ordered=True)
    jax.debug.callback(print, x)
    y = jax.pure_callback(np.sin, jax.ShapeDtypeStruct(x.shape, x.dtype), x)
    jax.pure_callback(np.cos, jax.ShapeDtypeStruct(x.shape, x.dtype), x)  # unused

    def body(i, v):
        jax.debug.print("step {}", i)
        return io_callback(log_value, jax.ShapeDtypeStruct(v.shape, v.dtype), v + jnp.cos(x),
                           ordered=True)

    return jax.lax.fori_loop(0, 3, body, y)


lowered = tiers.jit(program).lower(jnp.ones(4, jnp.float32))
print("// imported")
print(lowered.as_text("import"))
print("// optimized")
print(lowered.as_text("optimized"))
print("// generic")
out = io.StringIO()
small = tiers.jit(lambda x: jax.pure_callback(np.tanh, jax.ShapeDtypeStruct(x.shape, x.dtype), x))
Printer(stream=out, print_generic_format=True).print_op(small.lower(jnp.ones(2)).program.module)
print(out.getvalue())
