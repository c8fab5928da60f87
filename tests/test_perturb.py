"""Perturbed question sets: each user's way of typing is a deterministic rewrite, and the runner asks it."""

from __future__ import annotations

import doctest
import json

import pytest
from click.testing import CliRunner

from eval import perturb as p
from eval.run import DEFAULT_QA, load_qa
from rag.errors import NewsragError


def test_docstring_examples_hold():
    result = doctest.testmod(p)
    assert result.attempted >= 6 and result.failed == 0


def test_each_perturbation_rewrites_as_its_user_types():
    question = "What did Tillerson say about Russia's commitments, and what's the U.S. view?"
    assert p.lower(question) == question.lower()
    assert p.nopunct(question) == "What did Tillerson say about Russia's commitments and what's the U.S view"
    assert p.chat(question) == "wat did tillerson say abt russias commitments, and whats the u.s. view?"
    assert p.typo(question) == "What did Tilerson say about Rusia's commitments, and what's the U.S. view?"
    assert p.filler(question).startswith("um can you tell me what did Tillerson")


def test_perturbations_apply_in_a_fixed_order_and_to_the_history_too():
    items = [i for i in load_qa(DEFAULT_QA) if i.history][:1]
    (item,) = p.perturb_items(items, p.parse("nopunct, lower"))
    assert item.question == p.nopunct(items[0].question.lower())
    assert item.history == tuple(p.nopunct(h.lower()) for h in items[0].history)
    assert (item.answers, item.evidence) == (items[0].answers, items[0].evidence)  # the gold stays
    assert p.parse("filler,typo") == ("typo", "filler")


def test_an_unknown_perturbation_names_the_valid_ones():
    with pytest.raises(NewsragError, match="choose from: typo, chat, lower, nopunct, filler"):
        p.parse("shout")


def test_the_runner_asks_the_perturbed_questions(tmp_path):
    from rag.cli import cli

    qa = tmp_path / "qa.jsonl"
    line = next(x for x in DEFAULT_QA.read_text(encoding="utf-8").splitlines() if json.loads(x)["id"] == "q02")
    qa.write_text(line + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "store"), "eval", "--qa", str(qa),
                                      "--out", str(out), "--perturb", "lower,nopunct,filler"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["system"] == "newsrag [lower,nopunct,filler]"
    assert data["rows"][0]["question"] == "um can you tell me how did the senate vote on the sanctions bill"
    assert data["rows"][0]["correct"]  # "98-2", asked as a driver would
