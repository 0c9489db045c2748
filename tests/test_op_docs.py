"""Every op of tiers' dialects says what it is in one line, naming its JAX counterpart (or that
it has none), so `help(lax.LogOp)` and the tutorial's readers find their way."""

from __future__ import annotations

import re

from tiers.pipeline.registry import tiers_dialects

_NAMES_JAX = re.compile(r"`(jax|jnp|lax|ad_util|flax)[.\w]*|JAX|jaxpr|`lax\.")


def test_every_op_has_a_one_line_docstring_naming_its_jax_counterpart():
    missing = []
    for factory in tiers_dialects().values():
        for op in factory().operations:
            doc = (op.__doc__ or "").strip()
            first = doc.splitlines()[0] if doc else ""
            if not first or first.startswith(op.__name__ + "(") or not _NAMES_JAX.search(doc):
                missing.append(op.name)
    assert not missing, f"ops without a docstring naming JAX's counterpart: {missing}"
