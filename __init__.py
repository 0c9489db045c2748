"""tiers: a multi-level compiler framework for array programs, on xDSL and JAX/XLA."""

from tiers.frontend.jit import jit

__version__ = "0.1.0"

__all__ = ["__version__", "jit"]
