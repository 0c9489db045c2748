# `make demo` and `make test` set up .venv/ themselves (from PyPI) when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PLUGIN := $(VENV)/.plugin-installed

.PHONY: demo test lint typecheck pytest lit bench fuzz compat clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The example plugin (examples/plugin), installed editable so its entry point is live: the
# plugin tests run it through stock xdsl-opt, tiers-opt and tiers.jit. Redone only when its
# pyproject.toml changes (an editable install picks up code edits by itself).
$(PLUGIN): $(STAMP) examples/plugin/pyproject.toml
	$(BIN)/python -m pip install --quiet --no-deps -e examples/plugin
	touch $(PLUGIN)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

test: $(STAMP) $(PLUGIN) lint typecheck pytest lit

lint: $(STAMP)
	$(BIN)/ruff check .

# mypy, configured in pyproject.toml (the package only; cache in $(VENV)/mypy_cache). It finds
# the package as `tiers` through a link to this directory, whatever the checkout is called.
typecheck: $(STAMP)
	mkdir -p $(VENV)/typecheck && ln -sfn $(CURDIR) $(VENV)/typecheck/tiers
	$(BIN)/mypy

pytest: $(STAMP) $(PLUGIN)
	$(BIN)/python -m pytest -W error

lit: $(STAMP) $(PLUGIN)
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/lit -v filecheck/

bench: $(STAMP)
	$(BIN)/python benchmarks/jit.py
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/transforms.py
	$(BIN)/python benchmarks/nans.py

# The whole (transformation x pipeline) matrix on every corpus entry, verifying after every
# pass; `make test` runs a rotating share of it (tests/test_transformations.py). Then
# FUZZ_COUNT random programs against jax.jit (tests/fuzz_programs.py; tests/test_fuzz.py in
# `make test` runs a seeded few).
FUZZ_COUNT ?= 10000
FUZZ_JOBS ?= $(shell nproc)
fuzz: $(STAMP) $(PLUGIN)
	TIERS_FULL_MATRIX=1 TIERS_VERIFY=1 $(BIN)/python -m pytest -W error tests/test_transformations.py
	$(BIN)/python tests/fuzz_programs.py --count $(FUZZ_COUNT) --jobs $(FUZZ_JOBS)

# Peer libraries' own test suites (optax, chex, flax, equinox; the Array API suite on
# tiers.numpy) run twice, on jax.jit and with jax.jit replaced by tiers.jit, side by side
# (compat/README.md). Not part of `make test`: it downloads. Its own environment, reused
# while the stamp is newer than what it installs; COMPAT_LIBS=optax,chex selects libraries.
COMPAT_VENV := .venv-compat
COMPAT_STAMP := $(COMPAT_VENV)/.installed
$(COMPAT_STAMP): pyproject.toml compat/requirements.txt
	test -x $(COMPAT_VENV)/bin/python || $(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(COMPAT_VENV)/bin/python -m pip install --quiet -e . -r compat/requirements.txt
	touch $(COMPAT_STAMP)

compat: $(COMPAT_STAMP)
	$(COMPAT_VENV)/bin/python compat/run.py

clean:
	rm -rf $(VENV) build *.egg-info
