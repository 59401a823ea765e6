# relaudit developer tasks. `make demo` and `make test` do all set-up on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAM_VENV := .venv-sam
export MOTO_EC2_LOAD_DEFAULT_AMIS := false

.PHONY: install dev demo test lint format typecheck test-unit test-integration test-acceptance \
        validate build bench pr clean docs

install dev: $(STAMP)

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m relaudit.demo

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

format: $(STAMP)
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

typecheck: $(STAMP)
	$(BIN)/mypy

test-unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

test-integration: $(STAMP)
	$(BIN)/pytest -q -n 2 tests/integration

test-acceptance: $(STAMP)
	$(BIN)/pytest -q -m acceptance tests/acceptance

test: lint typecheck
	$(BIN)/pytest -q -n 2 tests/unit tests/integration

pr: test validate

$(SAM_VENV)/bin/sam:
	$(PY) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli

validate: $(SAM_VENV)/bin/sam
	$(SAM_VENV)/bin/sam validate --lint

build: $(SAM_VENV)/bin/sam
	$(SAM_VENV)/bin/sam build

docs: $(STAMP)
	$(BIN)/python -m relaudit.catalog.schema > checks/check.schema.json

bench: $(STAMP)
	$(BIN)/python -m tests.bench.run

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
