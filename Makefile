# The README's two commands: `make demo` runs rcu on demo data, `make test` runs the tests.
# Both install what they need first (a virtualenv in .venv, the OpenSearch node under .rcu/).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-unit lint install stop bench-ingest bench-resolve bench-search bench-search-quality bench-robustness bench-probes

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: install
	$(BIN)/rcu demo

# The browser tests drive Debian's Chromium (never a downloaded browser).
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

$(CHROMIUM):
	$(SUDO) apt-get update -q && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium

# Lint first: a finding fails the run before the node is started.
test: lint $(CHROMIUM)
	$(BIN)/python -m pytest

# The tests that need no node (those using it are marked `opensearch` in tests/conftest.py).
test-unit: install
	$(BIN)/python -m pytest -m "not opensearch"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

stop:
	$(BIN)/rcu opensearch stop

$(VENV)/.bench-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

bench-ingest: $(VENV)/.bench-installed
	$(BIN)/python -m bench.ingest

bench-resolve: $(VENV)/.bench-installed
	$(BIN)/python -m bench.resolve

bench-search: $(VENV)/.bench-installed
	$(BIN)/python -m bench.search

bench-search-quality: $(VENV)/.bench-installed
	$(BIN)/python -m bench.search_quality

bench-robustness: $(VENV)/.bench-installed
	$(BIN)/python -m bench.robustness

bench-probes: $(VENV)/.bench-installed
	$(BIN)/python -m bench.probes
