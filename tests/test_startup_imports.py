"""`import tiers` loads nothing of the compiler: its public names load on first use
(`__init__.py`), and are importable exactly as before. Each test starts a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys


def _run(code: str, **env: str) -> list[str]:
    """`code` run by a fresh interpreter (no `TIERS_*` variables but `env`): its output words."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TIERS_")}
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                          text=True, env={**environ, **env}, timeout=240)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_import_tiers_loads_neither_jax_nor_xdsl() -> None:
    code = ("import sys, tiers\n"
            "hasattr(tiers, '_private'), hasattr(tiers, '__wrapped__')  # no load for these\n"
            "print([m for m in ('jax', 'xdsl', 'tiers.frontend.api') if m in sys.modules])\n"
            "print(tiers.__version__)")
    assert _run(code)[0] == "[]"


def test_public_names_are_the_apis_once_used() -> None:
    code = ("import tiers\n"
            "jit = tiers.jit\n"
            "from tiers.frontend import api\n"
            "from tiers.frontend.jit import jit as real\n"
            "assert jit is real\n"
            "assert tiers.__all__ == ['__version__', 'jit', *api.__all__]\n"
            "assert all(getattr(tiers, n) is getattr(api, n) for n in api.__all__)\n"
            "assert set(tiers.__all__) <= set(dir(tiers))\n"
            "assert tiers.pipeline.parse('O1') is not None  # subpackages, as before\n"
            "try:\n"
            "    tiers.no_such_name\n"
            "except AttributeError as e:\n"
            "    print(e)\n")
    assert " ".join(_run(code)) == "module 'tiers' has no attribute 'no_such_name'"


def test_star_import_and_namespaces_first() -> None:
    code = ("import tiers.numpy as tnp, tiers.nn, tiers.random\n"
            "from tiers.numpy import sin\n"
            "import tiers\n"
            "assert tnp is tiers.numpy and tnp.__spec__ is None and tnp.__loader__ is None\n"
            "from tiers import *  # `print` is tiers.print from here\n"
            "import builtins\n"
            "builtins.print(float(sin(zeros(()))), jit is tiers.jit, Tensor is tiers.Tensor)")
    assert _run(code) == ["0.0", "True", "True"]


def test_a_tiers_environment_variable_loads_the_api_at_import() -> None:
    code = "import sys, tiers; print('tiers.frontend.api' in sys.modules)"
    assert _run(code, TIERS_VERIFY="0") == ["True"]


def test_loading_leaves_the_collector_as_it_was() -> None:
    # Loading pauses the collector and moves what it allocated to the oldest generation
    # (`_promote`); a process's own frozen objects and a disabled collector stay so.
    code = ("import gc, tiers\n"
            "tiers.jit\n"
            "print(gc.isenabled(), gc.get_freeze_count())")
    assert _run(code) == ["True", "0"]
    code = ("import gc, tiers\n"
            "gc.freeze()\n"
            "tiers.jit\n"
            "print(gc.isenabled(), gc.get_freeze_count() > 0)")
    assert _run(code) == ["True", "True"]
    code = "import gc, tiers; gc.disable(); tiers.jit; print(gc.isenabled())"
    assert _run(code) == ["False"]
