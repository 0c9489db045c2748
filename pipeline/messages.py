"""Lists of names in error messages, trimmed to the few that matter.

An error about an unknown name (a pass, a primitive) names the known ones closest to it and how
many more there are, with where to find them all: a message stays a few lines, not a screen of
150 pass names. Every layer from `pipeline` up uses this one helper.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

SHOWN_WHOLE = 12  # a list this short is shown whole
CLOSEST = 5  # else at most this many of the closest names


def closest(name: str, known: Iterable[str], where: str, *, n: int = CLOSEST,
            whole: int = SHOWN_WHOLE) -> str:
    """`known` for a message about the unknown `name`: every name (sorted) when there are at
    most `whole`, else the at most `n` closest to `name` (closest first) and the count of the
    rest, with `where` saying where the full list is ("tiers-opt --list-passes lists them")."""
    names = sorted(set(known))
    if len(names) <= whole:
        return ", ".join(names) or "(none)"
    near = difflib.get_close_matches(name, names, n=n, cutoff=0.6) if name else []
    if not near:
        return f"{len(names)} known, none close to '{name}' ({where})"
    return f"{', '.join(near)} and {len(names) - len(near)} more ({where})"


def suggestion(name: str, known: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the known name closest to `name`, or ''."""
    near = [c for c in difflib.get_close_matches(name, list(known), n=2) if c != name]
    return f" (did you mean '{near[0]}'?)" if near else ""
