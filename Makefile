# vaesweep: `make help` lists every target.
SHELL := /bin/bash
comma := ,
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# ACCEL=cuda adds JAX for NVIDIA GPUs (CUDA 12) to the default CPU-only install.
ACCEL ?=
ifneq ($(filter-out cuda,$(ACCEL)),)
$(error ACCEL must be empty or cuda, got '$(ACCEL)')
endif
STAMP := $(VENV)/.installed$(if $(ACCEL),-$(ACCEL),)

DATASET ?= mnist
BUDGET ?= quick
TUNER ?= hyperband
SPACE ?=
SWEEP_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 5000
# Use the shared offline copy of the datasets when one sits beside the project.
export VAE_DATA_DIR ?= $(if $(wildcard ../shared/datasets),$(abspath ../shared/datasets),)
export TF_CPP_MIN_LOG_LEVEL ?= 2

.DEFAULT_GOAL := help
.PHONY: help install test lint sweep train report ui server bench bench-gpu clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev$(if $(ACCEL),$(comma)$(ACCEL),)]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install vaesweep (CPU); make install ACCEL=cuda adds JAX for GPUs

test: $(STAMP) ## Run the test suite (2 processes), then its backend-neutral tests again on JAX
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup
	KERAS_BACKEND=jax $(BIN)/python -m pytest -q -n 2 --dist loadgroup -m backend_neutral

lint: $(STAMP) ## Check the code with ruff
	$(BIN)/ruff check vae sweeps reports vaesweep tests benchmarks

sweep: $(STAMP) ## Run a sweep: make sweep DATASET=mnist BUDGET=quick TUNER=hyperband [SPACE=autoencoders]
	$(BIN)/vaesweep sweep --dataset $(DATASET) --budget $(BUDGET) --tuner $(TUNER) $(if $(SPACE),--config sweeps/$(SPACE).yaml,) $(SWEEP_ARGS)

train: $(STAMP) ## Train one tracked model: make train DATASET=mnist ARGS="--model conv --epochs 5"
	$(BIN)/vaesweep train --dataset $(DATASET) $(ARGS)

report: $(STAMP) ## Write reports/$(DATASET).html for the latest sweep of DATASET
	$(BIN)/vaesweep report --dataset $(DATASET)

ui: $(STAMP) ## Open the MLflow UI on the project's store (127.0.0.1:$(PORT))
	@mkdir -p mlruns
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlruns/mlflow.db --default-artifact-root $(CURDIR)/mlruns/artifacts --host 127.0.0.1 --port $(PORT) --workers 1

server: $(STAMP) ## Start an MLflow tracking server for several workers (HOST, PORT, BACKEND=postgresql://...)
	@mkdir -p mlruns
	$(if $(filter postgres%,$(BACKEND)),$(BIN)/python -c 'import psycopg2' 2>/dev/null || $(BIN)/pip install --quiet -e '.[postgres]')
	$(BIN)/vaesweep server --host $(HOST) --port $(PORT) $(if $(BACKEND),--backend-store-uri $(BACKEND),)

bench: $(STAMP) ## Print every CPU benchmark's figures (the GPU one: make bench-gpu on a GPU machine)
	@for b in $(filter-out benchmarks/gpu.py,$(wildcard benchmarks/*.py)); do echo "== $$b"; $(BIN)/python $$b || exit 1; done

bench-gpu: $(STAMP) ## The GPU benchmark (JAX backend; make install ACCEL=cuda first)
	KERAS_BACKEND=jax $(BIN)/python benchmarks/gpu.py

clean: ## Remove the virtualenv and caches (keeps mlruns/, the store and the tuner state sweeps resume from)
	rm -rf $(VENV) .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
