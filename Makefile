# The commands the README names. `make test` is the one test command (CI runs it).
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov pins its own boto3, which conflicts with aws-sam-cli's: it gets a venv of its own.
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
REGION ?= eu-west-1
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= $(REGION)

# Python 3.13, found on a fresh machine: plain python3.13, pyenv's 3.13.0, or any pyenv 3.13.x.
PYTHON313 := $(shell \
	for c in "python3.13" "env PYENV_VERSION=3.13.0 python3.13" \
	         $$(ls -d $$HOME/.pyenv/versions/3.13*/bin/python3.13 2>/dev/null); do \
	  if $$c -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; then \
	    echo "$$c"; break; fi; done)

# The boto3/botocore versions the built artifact is tested on (oldest supported and newest).
RUNTIME_SDKS := $(shell sed 's/\#.*//' tests/artifact/runtime-sdks.txt)
SDK_DIR := .aws-sam/runtime-sdk
# The tests whose outcome depends on the date, run again as if today were a year and more later.
CLOCK_GUARD_DAYS := 400
CLOCK_TESTS := tests/faults tests/opskit/test_dispatch.py tests/instance_scheduler \
	tests/resource_cleanup tests/access_key_auditor tests/rds_backup tests/self_healing \
	tests/access_key_rotation tests/test_clock_guard.py

.PHONY: help venv test unit lint security typecheck cfn-lint pytest demo build artifact lock bench clean member-role templates

help:
	@echo "make demo   run every automation against an in-process moto account (no AWS needed)"
	@echo "make test   ruff, mypy, cfn-lint, sam validate --lint, checkov and pytest (what CI runs)"
	@echo "make unit   the pure unit tests only (pytest -m unit: no moto, no build)"
	@echo "make build  sam build (layer + functions, arm64)"
	@echo "make artifact  sam build plus the runtime SDKs the built-artifact test runs on"
	@echo "make lint   ruff + mypy + cfn-lint + sam validate"
	@echo "make bench  benchmarks, written to bench/results.md (and README's Measured section)"
	@echo "make lock   re-lock the layer's dependencies (shared_layer/requirements.in -> .txt)"
	@echo "make templates  rewrite the templates' shared parts and member-role.yaml (tools/)"
	@echo "make member-role  rewrite member-role.yaml from the templates (tools/member_role.py)"

# The tests run the layer's locked dependencies, the versions `sam build` ships.
$(STAMP): pyproject.toml shared_layer/requirements.txt
	@if [ -z '$(PYTHON313)' ]; then echo "Python 3.13 not found (tried python3.13 and pyenv 3.13.x)" >&2; exit 1; fi
	$(PYTHON313) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r shared_layer/requirements.txt
	touch $(STAMP)

# The layer's lock: exact versions with hashes, from shared_layer/requirements.in. What the Lambda
# runtime already has (boto3, botocore and their dependencies, among them the urllib3 requests uses
# and the jmespath Powertools uses, precompiled there) is left out of the lock and of the layer.
RUNTIME_PACKAGES := boto3 botocore s3transfer python-dateutil six jmespath urllib3
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-tools
	cd shared_layer && ../$(BIN)/pip-compile --quiet --generate-hashes --strip-extras \
	  --no-emit-index-url --no-emit-find-links $(addprefix --unsafe-package ,$(RUNTIME_PACKAGES)) \
	  --output-file requirements.txt requirements.in

venv: $(STAMP)

# The root template and each automation's, which must also stand alone.
TEMPLATES := template.yaml $(sort $(wildcard functions/*/template.yaml))

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m tools.templates --check
	$(BIN)/cfn-lint $(TEMPLATES) member-role.yaml
	for template in $(TEMPLATES); do \
	  PATH="$(abspath $(BIN)):$$PATH" sam validate --lint --region $(REGION) -t $$template || exit 1; \
	done

$(CHECKOV_STAMP):
	@if [ -z '$(PYTHON313)' ]; then echo "Python 3.13 not found (tried python3.13 and pyenv 3.13.x)" >&2; exit 1; fi
	$(PYTHON313) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	touch $(CHECKOV_STAMP)

# The template's security scan: every failing check is fixed or skipped with a reason in place.
# --skip-download: offline, no guidelines fetched from the vendor's platform (nothing to print).
security: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov $(addprefix --file ,$(TEMPLATES)) --file member-role.yaml \
	  --framework cloudformation --compact --quiet --skip-download

# The whole suite (the built artifact included), then the clock guard over the date-bound tests.
test: lint security artifact
	OPSKIT_ARTIFACT_REQUIRED=1 $(BIN)/pytest -q -n auto
	OPSKIT_TEST_CLOCK_OFFSET_DAYS=$(CLOCK_GUARD_DAYS) $(BIN)/pytest -q -n auto $(CLOCK_TESTS)

# The pure unit tests only (no moto, no build): seconds, for the edit-test loop.
unit: $(STAMP)
	$(BIN)/pytest -q -n auto -m unit

member-role: $(STAMP)
	$(BIN)/python -m tools.member_role

# Rewrite what the templates share (tools/templates.py), then the member role they imply.
templates: $(STAMP)
	$(BIN)/python -m tools.templates
	$(BIN)/python -m tools.member_role

demo: $(STAMP)
	$(BIN)/python -m demo

build: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" sam build --region $(REGION)
	@if find .aws-sam/build -type d \( -name boto3 -o -name botocore \) \
	  -not -path '*/aws_xray_sdk/*' | grep -q .; then \
	  echo "error: the build bundles boto3/botocore" >&2; exit 1; fi
	@if find .aws-sam/build -path '*OpskitLayer*' -name '*.so' | grep -q .; then \
	  echo "error: the layer contains native code" >&2; exit 1; fi
	@echo "build ok: no boto3/botocore bundled, no native code in the layer"

# What the built-artifact test needs: the build, and each runtime SDK in a folder of its own
# (boto3 and botocore of the same version, as the Lambda runtime ships them).
artifact: build $(addprefix $(SDK_DIR)/,$(addsuffix /.installed,$(RUNTIME_SDKS)))

$(SDK_DIR)/%/.installed: | $(STAMP)
	rm -rf $(SDK_DIR)/$*
	$(BIN)/python -m pip install --quiet --no-compile --no-warn-conflicts --only-binary=:all: \
	  --target $(SDK_DIR)/$* 'boto3==$*' 'botocore==$*'
	touch $@

bench: artifact
	$(BIN)/python -m bench

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache $(CHECKOV_VENV)
