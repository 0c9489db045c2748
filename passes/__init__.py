"""tiers' passes, one module each, and the authoring API third-party passes use too.

`TIERS_PASSES` names tiers' own passes (lazy, so the command line starts fast); the registry
that merges them with xDSL's and plugins' passes, the pipeline parser and the runner are in
`tiers.pipeline`. A pass is a `ModulePass`; `pattern_pass` and `function_pass` build one from
rewrite patterns or a function, declaring the dialects it needs and leaves (`authoring.py`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from xdsl.passes import ModulePass

from tiers.passes.authoring import Contract, contract, function_pass, pattern_pass

__all__ = ["TIERS_PASSES", "Contract", "contract", "function_pass", "pattern_pass",
           "tiers_passes"]

# tiers' own passes: name -> "module:Class" under tiers.passes (one line per pass).
TIERS_PASSES: dict[str, str] = {
    "canonicalize": "canonicalize:CanonicalizePass",  # xDSL's, with a faster driver
    "cse": "cse:CSEPass",  # xDSL's, with per-op costs taken out
    "dce": "dce:DCEPass",  # xDSL's, in one backward sweep
    "inline": "inline:InlinePass",
    "fuse": "fuse:FusePass",
    "fold-constants": "fold_constants:FoldConstantsPass",
    "raise-lax-to-array": "raise_lax_to_array:RaiseLaxToArrayPass",
    "convert-array-to-lax": "convert_array_to_lax:ConvertArrayToLaxPass",
    "licm": "licm:LicmPass",
}


def _lazy(target: str) -> Callable[[], type[ModulePass]]:
    module, _, cls = target.partition(":")
    return lambda: getattr(importlib.import_module(f"tiers.passes.{module}"), cls)


def tiers_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """tiers' own passes, by name (lazy factories, so the CLI starts fast)."""
    return {name: _lazy(target) for name, target in TIERS_PASSES.items()}
