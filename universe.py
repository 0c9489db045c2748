"""tiers' dialects and passes as an xDSL `Universe` (entry point `xdsl.universe`), so stock
`xdsl-opt` parses and transforms tiers IR.

A tiers pass that replaces an xDSL built-in of the same name (say a faster `canonicalize`) is
left out here: xDSL's multiverse rejects a name given by two universes, and stock `xdsl-opt`
keeps xDSL's pass. tiers' own tools use tiers' version (`tiers.pipeline.registry`).
"""

from xdsl.transforms import get_all_passes as xdsl_passes
from xdsl.universe import Universe

from tiers.passes import tiers_passes
from tiers.pipeline.registry import tiers_dialects

TIERS_UNIVERSE = Universe(
    all_dialects=tiers_dialects(),
    all_passes={k: v for k, v in tiers_passes().items() if k not in xdsl_passes()})
