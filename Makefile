# newsrag: `make run` sets everything up and starts the app; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run ask test test-slow test-all lint eval eval-heldout bench browser-deps clean

setup: $(STAMP)

# torch is installed first and pinned, so pip takes the CPU build on disk, not gigabytes of CUDA wheels.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work offline).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

run: setup
	$(BIN)/newsrag serve

test: setup browser-deps
	$(BIN)/pytest -m "not slow"

test-slow: setup
	$(BIN)/pytest -m slow

test-all: setup browser-deps
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check rag index ui eval tests
	$(BIN)/mypy

eval: setup
	$(BIN)/newsrag eval --compare llamaindex-default

# Questions written after the answering rules were tuned on eval/qa.jsonl (docs/abstention.md says how each was used).
eval-heldout: setup
	$(BIN)/newsrag eval --qa eval/heldout.jsonl --compare llamaindex-default --out eval/out/heldout
	$(BIN)/newsrag eval --qa eval/heldout2.jsonl --compare llamaindex-default --out eval/out/heldout2
	$(BIN)/newsrag eval --qa eval/heldout3.jsonl --compare llamaindex-default --out eval/out/heldout3
	$(BIN)/newsrag eval --qa eval/heldout4.jsonl --compare llamaindex-default --out eval/out/heldout4
	$(BIN)/newsrag eval --qa eval/heldout5.jsonl --compare llamaindex-default --out eval/out/heldout5
	$(BIN)/newsrag eval --qa eval/heldout6.jsonl --compare llamaindex-default --out eval/out/heldout6
	$(BIN)/newsrag eval --qa eval/heldout7.jsonl --compare llamaindex-default --out eval/out/heldout7
	$(BIN)/newsrag eval --qa eval/heldout8.jsonl --compare llamaindex-default --out eval/out/heldout8
	$(BIN)/newsrag eval --qa eval/heldout9.jsonl --compare llamaindex-default --out eval/out/heldout9
	$(BIN)/newsrag eval --qa eval/heldout10.jsonl --compare llamaindex-default --out eval/out/heldout10
	$(BIN)/newsrag eval --qa eval/heldout11.jsonl --compare llamaindex-default --out eval/out/heldout11
	$(BIN)/newsrag eval --qa eval/heldout12.jsonl --compare llamaindex-default --out eval/out/heldout12
	$(BIN)/newsrag eval --qa eval/heldout13.jsonl --compare llamaindex-default --out eval/out/heldout13
	$(BIN)/newsrag eval --qa eval/heldout14.jsonl --compare llamaindex-default --out eval/out/heldout14
	$(BIN)/newsrag eval --qa eval/heldout15.jsonl --compare llamaindex-default --out eval/out/heldout15
	$(BIN)/newsrag eval --qa eval/heldout16.jsonl --compare llamaindex-default --out eval/out/heldout16
	$(BIN)/newsrag eval --qa eval/heldout17.jsonl --compare llamaindex-default --out eval/out/heldout17
	$(BIN)/newsrag eval --qa eval/heldout18.jsonl --compare llamaindex-default --out eval/out/heldout18
	$(BIN)/newsrag eval --qa eval/heldout19.jsonl --compare llamaindex-default --out eval/out/heldout19
	$(BIN)/newsrag eval --qa eval/heldout20.jsonl --compare llamaindex-default --out eval/out/heldout20

clean:
	rm -rf .newsrag tests/artifacts eval/out

bench: setup
	$(BIN)/python -m eval.bench
