"""How a generated answer shows in the chat: streamed tokens, checked sentences, and every sentence's support
score under the answer, the unsupported ones marked; nothing a model writes is ever live HTML or a loading link."""

from __future__ import annotations

from rag.llm.stream import Checked, Token
from rag.types import Answer, SentenceSupport
from ui.stream import NOT_SUPPORTED, LiveAnswer, checks_html

KEPT = SentenceSupport("The vote was 12-3. [1]", True, 0.93, 1.0, 0.9, (1,))
DROPPED = SentenceSupport("Residents cheered ![x](http://evil.example/p.png) <img src=x onerror=alert(1)>", False,
                          0.12, 0.0, 0.2, (2,), ("has a link or image no cited article gives: ![x](http://evil.e",))


def test_tokens_show_as_they_come_and_a_sentence_once_checked():
    live = LiveAnswer()
    live.add(Token("The vote "))
    html = live.add(Token("was 12-3."))
    assert "The vote was 12-3." in html
    html = live.add(Checked(KEPT))
    assert "✓" in html and "support 0.93" in html
    html = live.add(Checked(DROPPED))
    assert "✗" in html and NOT_SUPPORTED in html


def test_under_a_generated_answer_every_sentence_has_its_score_and_the_unsupported_are_marked():
    answer = Answer("The vote was 12-3. [1]", [], False, "q", generated=True, sentences=[KEPT, DROPPED])
    html = checks_html(answer)
    assert "support 0.93" in html and "support 0.12" in html
    assert html.count(NOT_SUPPORTED) == 1


def test_what_a_model_or_an_article_slips_in_is_shown_as_text():
    html = checks_html(Answer("x", [], False, "q", generated=True, sentences=[DROPPED]))
    assert "<img" not in html and "![x](" not in html and "evil.example" not in html
    assert "(link left out)" in html and "onerror" not in html


def test_a_fallback_says_why_and_an_extractive_answer_adds_nothing():
    answer = Answer("The vote was 12-3. [1]", [], False, "q", fallback="openai backend: cannot reach the LLM")
    assert "cannot reach the LLM" in checks_html(answer) and "extractive" in checks_html(answer)
    assert checks_html(Answer("The vote was 12-3. [1]", [], False, "q")) == ""
