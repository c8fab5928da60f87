# newsrag: `make run` sets everything up and starts the app; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run ask test test-slow test-reliability test-all lint eval eval-heldout bench browser-deps clean

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
	$(BIN)/pytest -m "not slow and not reliability"

test-slow: setup
	$(BIN)/pytest -m slow

# Real processes killed with SIGKILL at each write step, concurrent writers, an ingest while the app answers
# (tests/reliability; the figures land in tests/artifacts/reliability.json). .ci/run runs it after `make test`.
test-reliability: setup
	$(BIN)/pytest -m reliability --durations=5

test-all: setup browser-deps
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check rag index ui eval tests
	$(BIN)/mypy

eval: setup
	$(BIN)/newsrag eval --compare llamaindex-default

# Questions written after the answering rules were tuned on eval/qa.jsonl (docs/abstention.md says how each was used).
eval-heldout: setup
	set -e; for set in $$(ls eval/heldout*.jsonl | sort -V | xargs -n1 basename -s .jsonl); do \
		$(BIN)/newsrag eval --qa eval/$$set.jsonl --compare llamaindex-default --out eval/out/$$set; \
	done

clean:
	rm -rf .newsrag tests/artifacts eval/out

bench: setup
	$(BIN)/python -m eval.bench
