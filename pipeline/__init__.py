"""What runs passes and is not a pass: one package to read for how tiers compiles.

Every entry point (`tiers.jit`, eager kernels, `record`, `Session`, `tiers.load`'s recompile,
`tiers-run`, `tiers-opt`) goes through `compile` (driver.py). In the order a pipeline meets
them:
- `config.py`: the process's settings, and the environment variables behind them, read once.
- `registry.py`: one registry of passes and dialects. It merges every `Universe` published
  under the `xdsl.universe` entry point (xDSL itself, tiers, third-party plugins) and plugins
  loaded with `load_plugin`, so a plugin's pass is usable by name everywhere a built-in one
  is; `context.py` makes the xDSL `Context` that knows its dialects.
- `parse.py`: pipeline text (`canonicalize,cse,fuse{max-ops=64}`, presets `O0`..`O2`) to a
  `Pipeline` value, parsed and built once (cached), immutable and hashable (it keys caches);
  `check.py` rejects pass orders that cannot work, from the dialect contract each pass
  declares (`passes/authoring.py`).
- `instrument.py`: runs the passes, with printing, timing, statistics, verification after
  each pass and semantic checks (`semantics.py`) when a `Debug` asks, and crash reproducers.
- `verify.py`, `dominance.py`: verification with located, MLIR-style diagnostics.
- `driver.py`: `compile(module, pipeline)`, the one compile function, and the one
  verification policy (its docstring).
- `report.py`: compile reports (cache answer, time per stage, op counts, fused kernels) for
  `fn.explain` and `TIERS_LOGS`, and progress lines for slow compiles.
"""

from __future__ import annotations

from tiers.pipeline.check import PipelineError
from tiers.pipeline.driver import compile
from tiers.pipeline.instrument import Debug, PassFailure
from tiers.pipeline.parse import PRESETS, Pipeline, build, get_all_passes, parse, specs
from tiers.pipeline.registry import PluginError, load_plugin

__all__ = ["PRESETS", "Debug", "PassFailure", "Pipeline", "PipelineError", "PluginError",
           "build", "compile", "get_all_passes", "load_plugin", "parse", "specs"]
