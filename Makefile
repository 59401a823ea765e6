# relaudit developer tasks. `make demo` and `make test` do all set-up on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAM_VENV := .venv-sam
export MOTO_EC2_LOAD_DEFAULT_AMIS := false

.PHONY: install dev demo test lint format typecheck test-unit test-integration test-acceptance \
        validate build bench pr clean docs build-AuditFunction build-OrgFunction lambda-code \
        lock lock-check

install dev: $(STAMP)

# Every package comes from a lock in requirements/ (hashes checked, nothing resolved at install time);
# `make lock` writes them from pyproject.toml. The project itself is installed last, editable, built
# with the locked setuptools.
DEV_LOCK := requirements/dev.txt
LAMBDA_LOCK := requirements/lambda.txt
SAM_LOCK := requirements/sam.txt
PIP_LOCKED := --quiet --disable-pip-version-check --require-hashes --no-deps --only-binary=:all:

$(STAMP): pyproject.toml $(DEV_LOCK)
	$(PY) -m venv --clear $(VENV)
	$(BIN)/python -m pip install $(PIP_LOCKED) -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

# Refresh the locks from pyproject.toml, keeping every pin that still fits (UPGRADE=1 takes the newest
# releases instead). The Lambda lock is resolved for the function's runtime and architecture whatever
# the host is, with the dev lock as constraints so that both hold the same versions.
UV_COMPILE = $(BIN)/uv pip compile --quiet --generate-hashes --custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade)

define compile_locks
	$(UV_COMPILE) pyproject.toml requirements/tools.in --extra dev --extra demo --universal \
	    --python-version 3.11 -o $(1)/dev.txt
	$(UV_COMPILE) pyproject.toml --python-version $(LAMBDA_PYTHON) --python-platform aarch64-manylinux2014 \
	    -c $(1)/dev.txt -o $(1)/lambda.txt
	$(UV_COMPILE) requirements/sam.in requirements/tools.in --universal --python-version 3.11 -o $(1)/sam.txt
endef

lock: $(STAMP)
	$(call compile_locks,requirements)

# Fails when a lock is not what `make lock` would write from pyproject.toml today (asks the index).
lock-check: $(STAMP)
	rm -rf .lock-check && mkdir .lock-check && cp requirements/*.txt .lock-check/
	$(call compile_locks,.lock-check)
	for f in dev lambda sam; do diff -u requirements/$$f.txt .lock-check/$$f.txt || exit 1; done
	rm -rf .lock-check

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

$(SAM_VENV)/bin/sam: $(SAM_LOCK)
	$(PY) -m venv --clear $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install $(PIP_LOCKED) -r $(SAM_LOCK)

validate: $(SAM_VENV)/bin/sam
	$(SAM_VENV)/bin/sam validate --lint

build: $(SAM_VENV)/bin/sam
	$(SAM_VENV)/bin/sam build

# The Lambda artifact. `sam build` (template.yaml: BuildMethod makefile) runs `make build-AuditFunction`
# with ARTIFACTS_DIR set, from a scratch copy of src/. Dependencies are the manylinux aarch64 wheels
# for the function's runtime (python3.13, arm64) whatever the build host is; the package and checks/
# (as relaudit/checks, where relaudit.catalog.loader looks) come from this repository.
REPO := $(patsubst %/,%,$(dir $(abspath $(firstword $(MAKEFILE_LIST)))))
LAMBDA_PYTHON := 3.13
LAMBDA_PLATFORMS := --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64

build-AuditFunction:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set: run this through sam build (make build)"; exit 2; }
	$(PY) -m pip install $(PIP_LOCKED) --no-compile --upgrade --target "$(ARTIFACTS_DIR)" \
	    --implementation cp --python-version $(LAMBDA_PYTHON) $(LAMBDA_PLATFORMS) -r "$(REPO)/$(LAMBDA_LOCK)"
	$(MAKE) --no-print-directory -f "$(REPO)/Makefile" lambda-code

# The organization function (template.yaml, OrgMode) ships the same artifact.
build-OrgFunction: build-AuditFunction

# The offline half of the artifact (tests/integration/test_packaging.py runs it): code and checks.
lambda-code:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set"; exit 2; }
	rm -rf "$(ARTIFACTS_DIR)/relaudit"
	cp -R "$(REPO)/src/relaudit" "$(ARTIFACTS_DIR)/relaudit"
	rm -rf "$(ARTIFACTS_DIR)/relaudit/demo"
	mkdir -p "$(ARTIFACTS_DIR)/relaudit/checks"
	cp "$(REPO)"/checks/*.yaml "$(ARTIFACTS_DIR)/relaudit/checks/"
	if [ -f "$(REPO)/relaudit.yaml" ]; then cp "$(REPO)/relaudit.yaml" "$(ARTIFACTS_DIR)/relaudit/relaudit.yaml"; fi
	find "$(ARTIFACTS_DIR)/relaudit" -name __pycache__ -type d -prune -exec rm -rf {} +

docs: $(STAMP)
	$(BIN)/python -m relaudit.catalog.schema > checks/check.schema.json
	$(BIN)/python -m relaudit.catalog.docs > docs/checks.md

# Prints the figures (about 15 minutes on 2 cores); e.g. BENCH_ARGS="--sizes 1000 --json bench.json".
bench: $(STAMP)
	$(BIN)/python -m tests.bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(SAM_VENV) .lock-check .aws-sam .pytest_cache .mypy_cache .ruff_cache
