# Almia — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SAMPLES := knowledge/samples
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: install run test lint typecheck unit bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

## Install, load the fictional sample documents, start the web chat on http://127.0.0.1:3978/
run: install
	$(BIN)/almia ingest $(SAMPLES) --collection documents-exemple --company-wide
	$(BIN)/almia serve

## ruff, mypy and the whole test suite (SQLite, PostgreSQL, headless Chromium)
test: install lint typecheck unit

lint:
	$(BIN)/ruff check bot adapters skills knowledge console tests bench

typecheck:
	$(BIN)/mypy bot skills knowledge console

unit:
	$(BIN)/python -m pytest

## Benchmarks: they print figures, they never fail on timings
bench: install
	$(BIN)/python bench/core_overhead.py
	$(BIN)/python bench/retrieval.py

clean:
	rm -rf $(VENV) .almia .mypy_cache .ruff_cache .pytest_cache
