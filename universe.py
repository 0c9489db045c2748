"""tiers' dialects and passes as an xDSL `Universe` (entry point `xdsl.universe`), so stock
`xdsl-opt` parses and transforms tiers IR."""

from xdsl.universe import Universe

from tiers.context import tiers_dialects
from tiers.passes import tiers_passes

TIERS_UNIVERSE = Universe(all_dialects=tiers_dialects(), all_passes=tiers_passes())
