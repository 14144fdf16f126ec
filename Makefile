# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCALE ?= 1

.PHONY: demo test install install-dev lint typecheck pytest serve seed bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make demo: install, migrate, seed the demo Sichuan, serve the portal at http://127.0.0.1:8000
demo: install
	$(BIN)/xinyong db upgrade
	$(BIN)/xinyong demo seed --scale $(SCALE) --if-empty
	$(BIN)/xinyong serve --host 127.0.0.1 --port 8000

## make test: lint, format check, types and the whole test suite
test: install-dev lint typecheck pytest

lint:
	$(BIN)/ruff check src tests $(wildcard benchmarks)
	$(BIN)/ruff format --check src tests $(wildcard benchmarks)

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest

bench: install-dev
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
