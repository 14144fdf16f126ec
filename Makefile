# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCALE ?= 1

.PHONY: demo test install install-dev lint typecheck pytest serve seed lock bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Dependencies come pinned from the lock files (requirements.lock, requirements-dev.lock: `make lock` writes
# them from pyproject.toml); the project itself is installed on top without resolving anything again.
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make demo: install, migrate, seed the demo Sichuan, serve the portal at http://127.0.0.1:8000
demo: install
	$(BIN)/xinyong db upgrade
	$(BIN)/xinyong demo seed --scale $(SCALE) --if-empty
	$(BIN)/xinyong serve --host 127.0.0.1 --port 8000

## make test: lint, format check, the package layers (.importlinter), types and the whole test suite
test: install-dev lint typecheck pytest

lint:
	$(BIN)/ruff check src tests $(wildcard benchmarks)
	$(BIN)/ruff format --check src tests $(wildcard benchmarks)
	$(BIN)/lint-imports --no-cache

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest

## make lock: pin the dependencies again after a change to pyproject.toml (keeps pins that still fit;
## UPGRADE=1 takes the newest releases allowed)
LOCK_FLAGS = --universal --python-version 3.11 --quiet $(if $(UPGRADE),--upgrade)
lock: install-dev
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_FLAGS) -o requirements-dev.lock
	$(BIN)/uv pip compile pyproject.toml -c requirements-dev.lock $(LOCK_FLAGS) -o requirements.lock

bench: install-dev
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
