"""The public API of eager mode, recording and graphs; `tiers/__init__.py` re-exports it."""

from __future__ import annotations

import jax.numpy as _jnp
from jax import vmap  # JAX's own: it composes with tiers.jit

from tiers.frontend import config, eager
from tiers.frontend.autodiff import grad, value_and_grad
from tiers.frontend.devices import device, devices, local_devices
from tiers.frontend.graph import Graph, GraphTensor, Session, get_default_graph, placeholder
from tiers.frontend.lazy import lazy, sync
from tiers.frontend.namespaces import constant, nn, numpy, random
from tiers.frontend.printing import print  # noqa: A004 - tiers.print, as jax.debug.print
from tiers.frontend.record import Recording, record
from tiers.frontend.saving import ArtifactError, load, save
from tiers.frontend.tensor import Tensor
from tiers.pipeline.cache import PROGRAMS


def cache_info() -> dict:
    """The in-process program cache of `tiers.jit` (pipeline/cache.py): hits, misses, each
    miss's reason, size and capacity."""
    return PROGRAMS.info()

asarray = numpy.asarray
zeros, ones, full, arange, linspace, eye = (
    numpy.zeros, numpy.ones, numpy.full, numpy.arange, numpy.linspace, numpy.eye)
# The common ops at top level, TensorFlow-style (`tiers.add(a, b)`).
add, subtract, multiply, divide, matmul = (
    numpy.add, numpy.subtract, numpy.multiply, numpy.divide, numpy.matmul)
exp, log, sqrt, sum, mean, maximum, where = (  # noqa: A001 - numpy's names
    numpy.exp, numpy.log, numpy.sqrt, numpy.sum, numpy.mean, numpy.maximum, numpy.where)
reshape, transpose, concatenate = numpy.reshape, numpy.transpose, numpy.concatenate
# dtypes, as `tiers.float32` (the same objects as `jax.numpy.float32`).
bool_, int8, int16, int32, int64, uint8, uint32 = (
    _jnp.bool_, _jnp.int8, _jnp.int16, _jnp.int32, _jnp.int64, _jnp.uint8, _jnp.uint32)
float16, bfloat16, float32, float64, complex64 = (
    _jnp.float16, _jnp.bfloat16, _jnp.float32, _jnp.float64, _jnp.complex64)

__all__ = [
    "Graph", "GraphTensor", "Recording", "Session", "Tensor", "add", "arange", "asarray",
    "bfloat16", "bool_", "complex64", "concatenate", "config", "constant", "divide", "eager",
    "exp", "eye", "float16", "float32", "float64", "full", "get_default_graph", "grad", "int16",
    "int32", "int64", "int8", "linspace", "log", "matmul", "maximum", "mean", "multiply", "nn",
    "numpy", "ones", "placeholder", "random", "record", "reshape", "sqrt", "subtract", "sum",
    "transpose", "uint32", "uint8", "value_and_grad", "vmap", "where", "zeros",
]
__all__ += ["ArtifactError", "cache_info", "device", "devices", "lazy", "load",
            "local_devices", "print", "save", "sync"]
