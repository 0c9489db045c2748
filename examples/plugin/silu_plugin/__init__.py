"""A tiers plugin: the `silu` dialect (`silu.silu`), `silu-raise` (x * logistic(x) -> silu.silu)
and `silu-lower` (back to `lax`). Published under the `xdsl.universe` entry point."""

from xdsl.universe import Universe


def _dialect():
    from silu_plugin.dialect import Silu

    return Silu


def _raise():
    from silu_plugin.passes import SiluRaisePass

    return SiluRaisePass


def _lower():
    from silu_plugin.passes import SiluLowerPass

    return SiluLowerPass


UNIVERSE = Universe(all_dialects={"silu": _dialect},
                    all_passes={"silu-raise": _raise, "silu-lower": _lower})
