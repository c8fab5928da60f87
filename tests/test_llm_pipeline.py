"""A generative backend in the pipeline, on the seeds: streamed, checked sentence by sentence, mapped to exact
spans, and replaced by the extractive answer (with one line saying why) whenever the LLM fails or says nothing
its sources support.

The LLM here is a scripted llama-index ``CustomLLM``: it reads the real prompt and answers by rules written in
each test, token by token, so that what the pipeline does with a supported sentence, a hallucination or an
abstention is checked exactly. The real models run in ``tests/test_llm_real.py`` (``make test-llm``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

import pytest
from click.testing import CliRunner
from scripted import ScriptedLLM

from rag.cli import cli
from rag.llm.backends import LLMBackend
from rag.llm.stream import Checked, Token
from rag.types import Answer

SENATE = "How did the Senate vote on the sanctions bill?"


def source_with(prompt: str, words: str) -> int:
    """The number of the first source in the prompt whose text holds ``words``."""
    for m in re.finditer(r'<source n="(\d+)"[^>]*>\n(.*?)\n</source>', prompt, re.S):
        if words in m.group(2):
            return int(m.group(1))
    raise AssertionError(f"no source has {words!r}")


def scripted(pipeline, reply: Callable[[str], str], name: str = "scripted") -> str:
    """Give ``pipeline`` an LLM backend called ``name`` that answers with ``reply``; return the name."""
    llm = ScriptedLLM(reply=reply, prompts=[])
    pipeline._backends[name] = LLMBackend(name, pipeline.settings, lambda: llm)
    return name


def test_a_supported_generated_sentence_streams_then_stands_with_its_exact_span(seeded):
    backend = scripted(seeded, lambda p: f"The Senate approved the sanctions bill 98-2. [{source_with(p, '98-2')}]")
    events = list(seeded.ask_stream(SENATE, backend=backend))
    tokens = [e.text for e in events if isinstance(e, Token)]
    checked = [e.sentence for e in events if isinstance(e, Checked)]
    answer = events[-1]
    assert isinstance(answer, Answer) and len(tokens) > 5
    assert "".join(tokens).startswith("The Senate approved")
    assert [s.kept for s in checked] == [True]
    assert answer.generated and not answer.abstained and answer.fallback is None
    assert answer.text == "The Senate approved the sanctions bill 98-2. [1]"
    (c,) = answer.citations
    assert "98-2" in c.quote
    assert seeded.store.article(c.article.doc_id).text[c.start : c.end] == c.quote
    timings = answer.trace["timings_ms"]
    assert 0 < timings["first_token"] <= timings["total"]
    assert answer.to_dict()["sentences"][0]["kept"] is True


def test_a_hallucinated_sentence_is_dropped_and_the_extractive_answer_given_with_the_reason(seeded):
    backend = scripted(seeded, lambda p: "The Senate rejected the bill 55-45. [1] Senator Smith wept. [2]")
    answer = seeded.ask(SENATE, backend=backend)
    assert not answer.generated and answer.fallback == (
        "no sentence of the LLM's answer was supported by the passages it cited")
    assert "98-2" in answer.text  # the extractive answer
    assert [(s.text, s.kept) for s in answer.sentences] == [("The Senate rejected the bill 55-45.", False),
                                                            ("Senator Smith wept.", False)]
    assert "55, 45" in answer.sentences[0].reasons[0]


def test_a_half_supported_answer_keeps_only_what_its_source_says(seeded):
    def reply(p: str) -> str:
        n = source_with(p, "98-2")
        return f"The Senate passed the bill 98-2. [{n}] It was the largest vote in history. [{n}]"

    answer = seeded.ask(SENATE, backend=scripted(seeded, reply))
    assert answer.generated and answer.text == "The Senate passed the bill 98-2. [1]"
    assert [s.kept for s in answer.sentences] == [True, False]


def test_the_llm_saying_the_articles_dont_say_is_an_abstention(seeded):
    answer = seeded.ask("What did the Pope say about the bill?", backend=scripted(seeded, lambda p: "The articles "
                                                                                  "don't say."))
    assert answer.abstained and answer.generated and answer.citations == []
    assert answer.text.startswith("The articles don't say.")


def test_with_an_llm_a_follow_up_is_condensed_by_it(seeded):
    def reply(p: str) -> str:
        if "Follow-up:" in p:
            return "What did Tillerson say in Manila?"
        return f"Tillerson spoke in Manila. [{source_with(p, 'Manila')}]"

    answer = seeded.ask("And what did he say there?", history=["What did Lavrov say in Manila?"],
                        backend=scripted(seeded, reply))
    assert answer.query == "What did Tillerson say in Manila?"
    assert answer.trace["rewritten"]


def test_a_missing_extra_gives_one_line_and_the_extractive_answer(seeded, monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_index.llms.ollama", None)  # as if `newsrag[ollama]` were not installed
    seeded._backends.pop("ollama", None)
    answer = seeded.ask(SENATE, backend="ollama")
    assert answer.fallback is not None and "pip install 'newsrag[ollama]'" in answer.fallback
    assert "\n" not in answer.fallback
    assert "98-2" in answer.text and not answer.generated


def test_a_backend_with_no_model_set_says_which_setting_to_give(seeded):
    seeded._backends.pop("llamacpp", None)
    answer = seeded.ask(SENATE, backend="llamacpp")
    assert answer.fallback is not None
    assert "NEWSRAG_LLM_MODEL" in answer.fallback or "newsrag[llamacpp]" in answer.fallback
    assert "98-2" in answer.text


def test_the_cli_prints_the_fallback_as_one_line_on_stderr_and_the_answer_on_stdout(tmp_path):
    runner = CliRunner(env={"COLUMNS": "200", "NEWSRAG_RAISE": None, "NEWSRAG_LLM_URL": "http://127.0.0.1:9/v1",
                            "NEWSRAG_LLM_MODEL": "any"})
    result = runner.invoke(cli, ["--data-dir", str(tmp_path / "store"), "ask", "--backend", "openai", SENATE],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("newsrag:")]
    assert len(lines) == 1 and lines[0].endswith("answering extractively instead.")
    assert "Traceback" not in result.stderr
    assert "98-2" in result.stdout and "[1]" in result.stdout


def test_the_api_key_never_shows(monkeypatch):
    from rag.config import Settings

    monkeypatch.setenv("NEWSRAG_LLM_API_KEY", "sk-very-secret")
    settings = Settings()
    assert settings.llm_api_key is not None and settings.llm_api_key.get_secret_value() == "sk-very-secret"
    assert "sk-very-secret" not in repr(settings) and "sk-very-secret" not in str(settings.model_dump())
    backend = LLMBackend("openai", settings, lambda: None)
    assert "sk-very-secret" not in str(backend.explain(RuntimeError("bad key sk-very-secret")))


@pytest.mark.parametrize("name", ["openai", "ollama", "llamacpp"])
def test_every_generative_backend_is_registered(name):
    from rag.answer import BACKENDS

    assert name in BACKENDS


def test_the_eval_runner_reports_what_the_verifier_kept_and_dropped_per_question(seeded):
    from eval.report import to_markdown
    from eval.run import DEFAULT_QA, evaluate, load_qa, pipeline_system

    def reply(p: str) -> str:
        try:
            return f"The Senate approved the bill 98-2. [{source_with(p, '98-2')}] It was a landslide. [1]"
        except AssertionError:
            return "Nobody knows. [1]"

    backend = scripted(seeded, reply)
    items = [i for i in load_qa(DEFAULT_QA) if not i.history][:4]
    report = evaluate(pipeline_system(seeded, backend), items, k=5, name="scripted")
    for row in report.rows:
        assert row["sentences_generated"] == row["sentences_kept"] + row["sentences_dropped"] >= 1
        assert (row["fallback"] is None) == (row["sentences_kept"] > 0)
    t = report.totals
    assert t["sentences_generated"] == t["sentences_kept"] + t["sentences_dropped"]
    assert t["fallbacks"] == sum(row["fallback"] is not None for row in report.rows)
    assert t["first_token_median_ms"] > 0
    assert "## Verifier: scripted" in to_markdown(report)


def test_a_rewrite_that_loses_the_follow_up_is_not_used(seeded):
    """A weak model repeats the earlier question ("1. What did Lavrov say in Manila?"); the rules' query stands."""
    def reply(p: str) -> str:
        return "1. What did Lavrov say in Manila?" if "Follow-up:" in p else "Nobody knows. [1]"

    answer = seeded.ask("Who did he meet there?", history=["What did Lavrov say in Manila?"],
                        backend=scripted(seeded, reply))
    assert answer.query.startswith("Who did he meet there?") and "Manila" in answer.query
