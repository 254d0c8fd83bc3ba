# reco — the two commands are `make run` and `make test`; each installs what it needs.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := help

PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
TOOLS := .venv-tools
PIP := --disable-pip-version-check --quiet
# Some machines' pip config names find-links folders that do not exist: one warning per package.
QUIET_PIP := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }

# Lambda imports the layer package and each handler module from the top level: so do we.
empty :=
space := $(empty) $(empty)
FUNCTION_DIRS := $(wildcard functions/*)
export PYTHONPATH := layers/core:$(subst $(space),:,$(FUNCTION_DIRS)):.
export SAM_CLI_TELEMETRY := 0

PORT ?= 3000
ROLES ?= backend
TENANT ?= demo
SUBJECT ?= local-user
TTL ?= 3600
FUZZ_EXAMPLES ?= 200
FUZZ_SEED ?= 20261207
ARCH ?= arm64

.PHONY: help install tools run token test lint pytest fuzz build bench bench-storage openapi clean

# The variables a target's help text may name, as $(NAME): `make help` prints their values.
HELP_VARIABLES := PORT ROLES TENANT SUBJECT TTL FUZZ_EXAMPLES ARCH

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) \
		| sed -E $(foreach name,$(HELP_VARIABLES),-e 's|\$$\($(name)\)|$($(name))|g') \
		| awk -F ':.*## ' '{ printf "%-15s%s\n", $$1, $$2 }'

$(VENV)/.installed: requirements-dev.txt layers/core/requirements.txt pyproject.toml
	@test -x $(VENV)/bin/python || $(PY) -m venv $(VENV)
	@echo "installing runtime and test dependencies into $(VENV) ..."
	@$(VENV)/bin/pip install $(PIP) --upgrade pip $(QUIET_PIP)
	@$(VENV)/bin/pip install $(PIP) -r requirements-dev.txt $(QUIET_PIP)
	@$(VENV)/bin/pip install $(PIP) --no-deps -e . $(QUIET_PIP)
	@touch $@

$(TOOLS)/.installed: requirements-tools.txt
	@test -x $(TOOLS)/bin/python || $(PY) -m venv $(TOOLS)
	@echo "installing aws-sam-cli and cfn-lint into $(TOOLS) ..."
	@$(TOOLS)/bin/pip install $(PIP) --upgrade pip $(QUIET_PIP)
	@$(TOOLS)/bin/pip install $(PIP) -r requirements-tools.txt $(QUIET_PIP)
	@touch $@

install: $(VENV)/.installed  ## create .venv with the runtime and test dependencies
tools: $(TOOLS)/.installed  ## create .venv-tools with aws-sam-cli and cfn-lint

run: install  ## serve every route on http://127.0.0.1:$(PORT) against a local AWS that keeps its data in .local/aws (RECO_EPHEMERAL=1: a throwaway one)
	@PORT=$(PORT) $(VENV)/bin/python -m local.serve

token: install  ## print a bearer token for the local API (ROLES=a,b TENANT=t SUBJECT=sub TTL=seconds); the token is the last line
	@$(VENV)/bin/python -m local.tokens --tenant "$(TENANT)" --roles "$(ROLES)" --subject "$(SUBJECT)" --ttl "$(TTL)"

lint: install tools  ## ruff, mypy on the layer, cfn-lint and sam validate --lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	MYPYPATH=layers/core $(VENV)/bin/mypy -p reco
	$(TOOLS)/bin/cfn-lint template.yaml
	$(TOOLS)/bin/sam validate --lint --template template.yaml --region us-east-1

pytest: install
	$(VENV)/bin/python -m pytest

test: lint pytest  ## the linters, then the whole test suite (the schema fuzzer with 30 examples per operation)

fuzz: install  ## the schema fuzzer alone, longer: $(FUZZ_EXAMPLES) random requests per operation (FUZZ_EXAMPLES=n FUZZ_SEED=n)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SEED=$(FUZZ_SEED) $(VENV)/bin/python -m pytest -m fuzz -p no:cacheprovider tests/test_fuzz.py

# sam build runs pip for the python3.12 runtime: it needs python3.12 on PATH (pyenv's, if present).
PY312_DIR := $(lastword $(sort $(wildcard $(HOME)/.pyenv/versions/3.12*/bin)))

# ARCH reaches the layer's wheels through RECO_ARCH (sam build runs layers/core/Makefile with this
# environment) and the functions through the template's Architecture parameter; then the built layer
# is checked against ARCH. Deploy with the same Architecture (default arm64 in both).
build: tools  ## sam build for ARCH=$(ARCH) (or x86_64) into .aws-sam/, then check the layer's wheels match it
	@case "$(ARCH)" in arm64|x86_64) ;; *) echo "ARCH must be arm64 or x86_64, not '$(ARCH)'" >&2; exit 2 ;; esac
	PATH="$(PY312_DIR):$$PATH" RECO_ARCH=$(ARCH) $(TOOLS)/bin/sam build --parameter-overrides Architecture=$(ARCH)
	$(TOOLS)/bin/python -m local.build_check .aws-sam/build/CoreLayer $(ARCH)
	@test "$(ARCH)" = arm64 || echo "deploy this build with Architecture=$(ARCH) in parameter_overrides"

bench: install bench-storage  ## measure the API (latency, memory), the models (ALS fit vs implicit, ranking, artifact load), scenario requests, lists, chat turns, every function's cold start, and the local runner's storage
	$(VENV)/bin/python -m bench.recommend
	$(VENV)/bin/python -m bench.cold_start
	$(VENV)/bin/python -m bench.scenarios
	$(VENV)/bin/python -m bench.lists
	$(VENV)/bin/python -m bench.chat
	$(VENV)/bin/python -m bench.sessions
	$(VENV)/bin/python -m bench.cost
	@$(VENV)/bin/pip install $(PIP) -r requirements-bench.txt $(QUIET_PIP) \
		|| echo "could not install requirements-bench.txt: the comparison with implicit is skipped"
	$(VENV)/bin/python -m bench.models
	$(VENV)/bin/python -m bench.ease

bench-storage: install  ## the local runner with MovieLens, over HTTP and the CLI: start-up, imports, training, ingest, reads under ingest, memory (about 25 min)
	$(VENV)/bin/python -m bench.storage

openapi: install  ## regenerate docs/openapi.json from the composed app
	$(VENV)/bin/python -m local.openapi > docs/openapi.json

clean:  ## remove virtualenvs, build output and caches
	rm -rf $(VENV) $(TOOLS) .aws-sam .pytest_cache .mypy_cache .ruff_cache
