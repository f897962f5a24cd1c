# The two commands that matter: `make run` (chat on the bundled corpus) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export ORT_DISABLE_TELEMETRY := 1

.PHONY: setup setup-dev ingest run test lint eval bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, pinned: the CPU build on this machine; anything else pulls a CUDA build.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	# The peer benchmark's BM25 retriever pins PyStemmer<3, which stems seven of our words
	# differently: installed without its dependencies so our stems stay as indexed.
	$(BIN)/pip install --quiet --no-deps 'llama-index-retrievers-bm25==0.8.0' 'bm25s==0.3.16'
	touch $@

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

# Incremental: unchanged documents are skipped, so this is cheap when the index is current.
ingest: setup
	$(BIN)/npt-assistant ingest --prune

run: ingest
	$(BIN)/npt-assistant chat

lint: setup-dev
	$(BIN)/ruff check assistant ingest eval bench tests
	$(BIN)/mypy

test: setup-dev lint
	$(BIN)/python -m pytest -q

eval: ingest
	$(BIN)/npt-assistant eval run eval/sets/sample.yaml --out eval/out/sample --baseline eval/baselines/sample/report.json
	$(BIN)/npt-assistant eval run eval/sets/dev.yaml --out eval/out/dev --baseline eval/baselines/dev/report.json
	$(BIN)/npt-assistant eval run eval/sets/holdout.yaml --out eval/out/holdout --baseline eval/baselines/holdout/report.json

bench: ingest setup-dev
	$(BIN)/python bench/run.py

clean:
	rm -rf data eval/out artifacts
