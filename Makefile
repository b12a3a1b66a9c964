# mcloud: one Makefile for developers and operators. Every target that runs a deployment step calls the
# same ops core the console uses (mcloud-tui --headless ...).
SHELL := /bin/bash
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip
# The CPU wheel of torch lies on disk; an unpinned torch would pull a multi-GB CUDA build.
TORCH_PIN := torch==2.13.0

.PHONY: setup test test-unit test-integration test-infra lint proto bench tui faults-soak \
        local-up local-down local-status cloud-init cloud-plan cloud-up cloud-down cloud-status clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# checkov lives in its own venv: its pins clash with the app's (tests/infra finds it here, then on PATH).
TOOLS_VENV := $(VENV)-tools
CHECKOV_PIN := checkov==3.3.30

$(TOOLS_VENV)/bin/checkov:
	$(PY) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install -q $(CHECKOV_PIN)

setup: $(BIN)/python $(TOOLS_VENV)/bin/checkov ## create .venv with every pinned dependency
	$(PIP) install -q -c constraints.txt $(TORCH_PIN) -e '.[dev]'
	@# Put the three source roots on sys.path: the editable finder alone loses to ./worker/ (a namespace
	@# directory) when Python runs from the repo root, and then worker/worker/__init__.py never runs.
	@$(BIN)/python -c "import pathlib, site; root = pathlib.Path.cwd(); \
	  pathlib.Path(site.getsitepackages()[0], 'mcloud-src.pth').write_text(''.join(f'{root / d}\n' for d in ('control-plane', 'worker', 'tui')))"
	@echo "setup done: $(VENV) ready"

test: setup ## every test: unit, integration, infra, tui
	$(BIN)/pytest -q

test-unit: setup
	$(BIN)/pytest -q tests/unit

test-integration: setup
	$(BIN)/pytest -q tests/integration

test-infra: setup ## Terraform fmt/structure/checkov, ansible-lint, inventory and template rendering
	$(BIN)/pytest -q -m infra tests/infra

faults-soak: setup ## 100 random fault cycles behind the WAN emulator; prints invariant counts (all must be 0)
	$(BIN)/python tests/faults/soak.py --cycles $${CYCLES:-100}

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

proto: setup ## regenerate the gRPC stubs from control-plane/proto/mcloud.proto
	$(BIN)/python -m control_plane.protogen

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# --- local target ----------------------------------------------------------------------------------
# The local target: the whole deployment on this machine (terraform/local + Ansible process runtime),
# through the same ops core as the console. State: $${MCLOUD_STATE_DIR:-.mcloud}.
local-up: setup ## provision + deploy the three local hosts (127.0.{1,2,3}.1), wait until healthy
	$(BIN)/mcloud-tui --headless up --target local

local-down: ## stop every local service, terraform destroy, check nothing is left
	$(BIN)/mcloud-tui --headless down --target local

local-status: ## deployment info + health of the local target
	$(BIN)/mcloud-tui --headless status --target local

# --- cloud target (AWS + GCP + Azure; docs/cost.md says what it costs) -------------------------------
# cloud-up / cloud-down run the same ops core as the console; init / plan / status are plain Terraform.
TF_CLOUD := terraform
CLOUD := scripts/cloud-deploy.sh

cloud-init: ## install the cloud root's providers (terraform init)
	@$(CLOUD) preflight init
	terraform -chdir=$(TF_CLOUD) init -input=false

cloud-plan: ## preflight (tfvars, credentials, init), then terraform plan
	@$(CLOUD) preflight plan
	terraform -chdir=$(TF_CLOUD) plan -input=false

cloud-up: setup ## provision the three VMs and deploy (cost preview first)
	@$(CLOUD) preflight plan
	$(BIN)/mcloud-tui --headless up --target cloud

cloud-down: setup ## ansible teardown, terraform destroy, check the state is empty
	$(BIN)/mcloud-tui --headless down --target cloud

cloud-status: ## GET /health of control plane and worker on the three public IPs
	@$(CLOUD) status

tui: setup ## the console on the local target (--target cloud for the clouds)
	$(BIN)/mcloud-tui --target local

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
