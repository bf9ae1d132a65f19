# Two commands for a newcomer: `make quickstart` and `make test` (see README.md).
# A fresh machine needs only python3 with pip (and root, or sudo, for the system packages of tests).

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup system-deps quickstart test bench lint format clean

# Bytecode is compiled at setup, as pip does when it installs a wheel: this machine's
# PYTHONDONTWRITEBYTECODE would otherwise make every process compile every module it imports
# (~60 ms for `eoaccess download`'s modules, seconds for pandas/xarray/dask).
setup: $(VENV)/.synced
	@$(VENV)/bin/python -m compileall -q -j 0 src/eoaccess > /dev/null

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $@

system-deps:
	scripts/install-system-deps.sh

quickstart: setup
	$(VENV)/bin/eoaccess quickstart

test: setup system-deps
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/pytest

bench: setup system-deps
	$(VENV)/bin/python -m benchmarks.run $(SUITES)

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

format: setup
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache eoaccess-quickstart
