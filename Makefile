# Two entry points (README): `make dev` runs the product locally, `make test` runs every check.
# Both install what they need and are safe to run again.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(shell $(PYTHON) -c 'import sys; print(sys.executable)')
export UV_LINK_MODE := copy

.PHONY: help install gpu-deps system-deps node-deps dev chat test lint typecheck unit package bench clean

help:
	@echo "make dev    - start the local stack (simulator at the printed URL)"
	@echo "make test   - lint, type-check, every test (browser included), package + cfn-lint"
	@echo "make bench  - print the benchmarks' figures"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q "uv==$(UV_VERSION)"

# The virtual environment follows the lock file exactly (--locked fails if pyproject and lock disagree).
.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --extra dev
	@touch $@

install: .venv/.synced

# The GPU app's model code (gpu/, espaluz/voice) runs in the tests on tiny random-weight models, on the CPU
# build of torch that this machine kind carries in /opt/wheels (uv does not look there by itself; an
# unpinned torch from PyPI pulls gigabytes of CUDA). Where that wheel is missing, those tests skip.
TORCH_WHEELS ?= /opt/wheels
.venv/.gpu-deps: .venv/.synced
	@if ls $(TORCH_WHEELS)/torch-2.13.0+cpu-*.whl >/dev/null 2>&1; then \
	  $(UV) pip install -q --python .venv/bin/python --find-links $(TORCH_WHEELS) \
	    "torch==2.13.0+cpu" "transformers>=4.50,<5"; \
	else echo "no CPU torch wheel in $(TORCH_WHEELS): the GPU model tests will be skipped"; fi
	@touch $@

gpu-deps: .venv/.gpu-deps

system-deps:
	@bash scripts/system-deps.sh

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node-deps: node_modules/.installed

dev: install
	.venv/bin/espaluz dev $(ARGS)

chat: install
	.venv/bin/espaluz chat $(ARGS)

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: install
	.venv/bin/mypy

unit: install
	.venv/bin/pytest tests/unit -q

package: install node-deps
	bash scripts/package.sh

# The suite runs twice: as a developer's `pytest` runs it (today, single-node Redis), then as production
# and the calendar will see it: cluster-mode Redis (ElastiCache Serverless is always cluster-mode) and the
# clock 40 days ahead, so no test holds only on the day it was written (tests/conftest.py).
FUTURE_DAYS ?= 40

test: install gpu-deps system-deps node-deps
	$(MAKE) --no-print-directory lint typecheck
	.venv/bin/pytest
	ESPALUZ_TEST_DAYS_AHEAD=$(FUTURE_DAYS) ESPALUZ_TEST_REDIS=cluster .venv/bin/pytest
	$(MAKE) --no-print-directory package

bench: install
	@for b in bench/bench_*.py; do echo "== $$b"; .venv/bin/python $$b || exit 1; done

clean:
	rm -rf .venv $(TOOLS) node_modules .serverless build .pytest_cache .mypy_cache .ruff_cache
