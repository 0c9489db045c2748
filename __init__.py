"""tiers: a multi-level compiler framework for array programs, on xDSL and JAX/XLA."""

from tiers.frontend.api import *  # noqa: F403
from tiers.frontend.api import __all__ as _api_all
from tiers.frontend.jit import jit
from tiers.version import __version__

__all__ = ["__version__", "jit", *_api_all]
