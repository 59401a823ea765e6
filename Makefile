# relaudit developer tasks. `make demo` and `make test` do all set-up on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAM_VENV := .venv-sam
export MOTO_EC2_LOAD_DEFAULT_AMIS := false

.PHONY: install dev demo test lint format typecheck test-unit test-integration test-acceptance \
        validate build bench pr clean docs build-AuditFunction build-OrgFunction lambda-code

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

# The Lambda artifact. `sam build` (template.yaml: BuildMethod makefile) runs `make build-AuditFunction`
# with ARTIFACTS_DIR set, from a scratch copy of src/. Dependencies are the manylinux aarch64 wheels
# for the function's runtime (python3.13, arm64) whatever the build host is; the package and checks/
# (as relaudit/checks, where relaudit.catalog.loader looks) come from this repository.
REPO := $(patsubst %/,%,$(dir $(abspath $(firstword $(MAKEFILE_LIST)))))
LAMBDA_PYTHON := 3.13
LAMBDA_PLATFORMS := --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64

build-AuditFunction:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set: run this through sam build (make build)"; exit 2; }
	$(PY) -c 'import sys, tomllib; print(*tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"], sep="\n")' \
	    "$(REPO)/pyproject.toml" > "$(ARTIFACTS_DIR)/.requirements.txt"
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile --upgrade --target "$(ARTIFACTS_DIR)" \
	    --implementation cp --python-version $(LAMBDA_PYTHON) --only-binary=:all: $(LAMBDA_PLATFORMS) \
	    -r "$(ARTIFACTS_DIR)/.requirements.txt"
	rm -f "$(ARTIFACTS_DIR)/.requirements.txt"
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
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
