# `make demo` and `make test` set up .venv/ themselves (from PyPI) when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint pytest lit bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

test: $(STAMP) lint pytest lit

lint: $(STAMP)
	$(BIN)/ruff check .

pytest: $(STAMP)
	$(BIN)/python -m pytest -W error

lit: $(STAMP)
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/lit -v filecheck/

bench: $(STAMP)
	$(BIN)/python benchmarks/jit.py

clean:
	rm -rf $(VENV) build *.egg-info
