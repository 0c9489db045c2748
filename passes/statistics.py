"""Pass statistics: what each pass did, by pass name and counter name.

A pass calls `count("fuse", "groups")`; whoever runs a pipeline collects the counts with
`with collect() as stats:` (a `Counter` per pass) around `tiers.pipeline.compile`, as
`tiers-opt --pass-statistics` does. Counting outside `collect` costs one lookup.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections import Counter, defaultdict
from collections.abc import Iterator

Statistics = defaultdict[str, Counter]

_CURRENT: contextvars.ContextVar[Statistics | None] = contextvars.ContextVar(
    "tiers_pass_statistics", default=None)


def count(pass_name: str, counter: str, n: int = 1) -> None:
    """Add `n` to `counter` of `pass_name` in the statistics being collected, if any."""
    stats = _CURRENT.get()
    if stats is not None and n:
        stats[pass_name][counter] += n


def enabled() -> bool:
    """Whether statistics are being collected (skip expensive counting otherwise)."""
    return _CURRENT.get() is not None


@contextlib.contextmanager
def collect() -> Iterator[Statistics]:
    """Collect the statistics of every pass run inside the block."""
    stats: Statistics = defaultdict(Counter)
    token = _CURRENT.set(stats)
    try:
        yield stats
    finally:
        _CURRENT.reset(token)


def format_statistics(stats: Statistics) -> str:
    """MLIR's `--mlir-pass-statistics` layout: one block per pass, one line per counter."""
    lines = ["===" + "-" * 73 + "===", "... Pass statistics report ...".center(79),
             "===" + "-" * 73 + "==="]
    for name, counters in stats.items():
        lines.append(f"'{name}'")
        for key, value in sorted(counters.items()):
            lines.append(f"  ({key}) {value}")
    return "\n".join(lines) + "\n"
