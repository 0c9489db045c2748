"""`scipy.special`, imported when a rule first calls into it.

Importing scipy.special costs about 0.2 s, and the default pipeline's `fold-constants` imports
the reference target in every process's first `tiers.jit`: the rules that need a special
function (erf, expit, digamma, ...) reach it through `special` instead.
"""

from __future__ import annotations

import importlib
from typing import Any


class _Special:
    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("scipy.special"), name)


special: Any = _Special()
