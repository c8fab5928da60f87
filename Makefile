# newsrag: `make run` sets everything up and starts the app; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run ask test test-slow test-reliability test-all lint eval eval-corpora eval-test answer-model bench \
	browser-deps clean

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
test-reliability: setup browser-deps
	$(BIN)/pytest -m reliability

test-all: setup browser-deps
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check rag index ui eval tests
	$(BIN)/mypy

eval: setup
	$(BIN)/newsrag eval --compare llamaindex-default

# Every eval corpus but the test one (the seeds and their 113 sets, the dev corpora built from ../shared/data), each
# in its own store beside the seeds, with the llama-index baseline: one row per corpus (eval/out/corpora/summary.md).
eval-corpora: setup
	$(BIN)/newsrag eval --corpus all --compare llamaindex-default --out eval/out/corpora

# Refit the answer model (rag/answer/model.json) on the dev corpora, with leave-one-corpus-out figures in its notes.
answer-model: setup
	$(BIN)/python -m eval.train

# The test corpus: never tuned or fitted on; run only to report.
eval-test: setup
	$(BIN)/newsrag eval --corpus test --compare llamaindex-default --out eval/out/test

clean:
	rm -rf .newsrag tests/artifacts eval/out

bench: setup
	$(BIN)/python -m eval.bench
