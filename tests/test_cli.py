"""The ``newsrag`` command, driven as a user would: ingest, sources, show, ask --json, errors, --help."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from index.store import Store
from rag.cli import cli
from rag.config import Settings
from rag.pipeline import SEEDS_DIR

ROOT = Path(__file__).resolve().parent.parent
F000, F001, F002 = "000_8a1e73fa9af65f5f.txt", "001_96ac95c0c53d5726.txt", "002_95e9d33b01bd44bf.txt"
SENATE = "How did the Senate vote on the sanctions bill?"


def newsrag(data_dir: Path, *args: str):
    """Run ``newsrag --data-dir DATA_DIR ARGS…`` in-process, on a wide terminal so tables are not cut."""
    return CliRunner(env={"COLUMNS": "200", "NEWSRAG_RAISE": None}).invoke(
        cli, ["--data-dir", str(data_dir), *args], catch_exceptions=False
    )


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """A data folder after `newsrag ingest seeds/`, and what that command printed."""
    data_dir = tmp_path_factory.mktemp("cli") / "store"
    return data_dir, newsrag(data_dir, "ingest", str(SEEDS_DIR))


@pytest.fixture(scope="module")
def senate_json(ingested):
    data_dir, _ = ingested
    result = newsrag(data_dir, "ask", "--json", SENATE)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_ingest_prints_one_line_per_file_and_a_summary(ingested):
    _, result = ingested
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().split("\n")
    assert len(lines) == 4
    for line, name in zip(lines, (F000, F001, F002), strict=False):
        assert line.startswith(f"✓ {SEEDS_DIR / name}: added (") and line.endswith(" chunks)")
    assert lines[3].startswith("3 added; ") and lines[3].endswith(" chunks in the store")


def test_ingest_of_a_bad_file_exits_non_zero_with_one_line_naming_it(tmp_path):
    bad = tmp_path / "cafe.txt"
    bad.write_bytes("Lavrov drank caf\xe9.".encode("latin-1"))
    result = newsrag(tmp_path / "store", "ingest", str(bad))
    assert result.exit_code == 1
    assert result.stderr.strip().split("\n") == [
        f"✗ {bad}: not UTF-8 text (undecodable byte 0xe9 at offset 16); re-save it as UTF-8"
    ]
    assert result.stdout.strip() == "1 failed; 0 chunks in the store"


def test_ingest_without_arguments_is_a_usage_error(tmp_path):
    result = newsrag(tmp_path, "ingest")
    assert result.exit_code == 2
    assert "Give files or folders to ingest" in result.stderr


def test_ingest_delete_removes_an_article(ingested, tmp_path):
    data_dir = tmp_path / "store"
    shutil.copytree(ingested[0], data_dir)
    result = newsrag(data_dir, "ingest", "--delete", "001")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"✓ {F001}: deleted (")
    assert [a.file for a in Store(Settings(data_dir=data_dir)).articles()] == [F000, F002]


def test_sources_lists_the_three_articles_with_unknown_for_missing_metadata(ingested):
    result = newsrag(ingested[0], "sources")
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[2].strip(): line for line in result.stdout.split("\n") if ".txt" in line}
    assert sorted(rows) == [F000, F001, F002]
    for name in (F000, F001):
        cells = [c.strip() for c in rows[name].split("│")[3:6]]
        assert cells == ["unknown", "unknown", "unknown"]  # title, source, published
    assert [c.strip() for c in rows[F002].split("│")[3:6]] == [
        "Russia-US ties approach dangerous confrontational point", "IANS", "2021-07-22",
    ]


def test_sources_on_an_empty_store_says_how_to_fill_it(tmp_path):
    result = newsrag(tmp_path / "store", "sources")
    assert result.exit_code == 0
    assert "The store is empty" in result.stdout


def test_show_prints_the_title_and_the_body(ingested):
    result = newsrag(ingested[0], "show", "002")
    assert result.exit_code == 0, result.output
    head, body = result.stdout.split("\n\n", 1)
    assert head.split("\n")[0] == "# Russia-US ties approach dangerous confrontational point"
    assert f"file: {F002}" in head and "source: IANS" in head and "published: 2021-07-22" in head
    assert "following a meeting of the Ministry's Collegium." in body
    assert "Open in App" not in body and "Tags:" not in body


def test_show_of_an_unknown_article_fails_with_a_message(ingested):
    result = CliRunner(env={"NEWSRAG_RAISE": None}).invoke(cli, ["--data-dir", str(ingested[0]), "show", "999"])
    assert result.exit_code == 1
    assert "No stored article is named '999'" in result.stderr


def test_ask_json_prints_one_object_with_answer_citations_passages_and_timings(senate_json):
    out = senate_json
    assert {"answer", "abstained", "citations", "passages", "timings_ms"} <= set(out)
    assert out["abstained"] is False
    assert "98-2" in out["answer"]
    assert out["citations"], out
    for c in out["citations"]:
        assert set(c) == {"n", "doc_id", "file", "title", "published", "start", "end", "quote", "answer_start",
                          "answer_end"}
    for p in out["passages"]:
        assert set(p) == {"rank", "doc_id", "file", "start", "end", "score", "text"}
    assert [p["rank"] for p in out["passages"]] == list(range(1, len(out["passages"]) + 1))
    assert out["passages"][0]["file"] == F000
    assert out["timings_ms"]["total"] > 0


def test_every_citation_quotes_the_stored_article_exactly(ingested, senate_json):
    data_dir, _ = ingested
    store = Store(Settings(data_dir=data_dir))
    for c in senate_json["citations"]:
        shown = newsrag(data_dir, "show", c["doc_id"]).stdout
        text = shown.split("\n\n", 1)[1].removesuffix("\n")  # what `show` prints after its header
        assert text == store.article(c["doc_id"]).text
        assert text[c["start"] : c["end"]] == c["quote"]
        assert c["file"] == F000 and c["title"] is None and c["published"] is None
    for p in senate_json["passages"]:
        assert store.article(p["doc_id"]).text[p["start"] : p["end"]] == p["text"]


def test_ask_on_an_empty_data_dir_ingests_the_seeds_first(tmp_path):
    data_dir = tmp_path / "store"
    result = newsrag(data_dir, "ask", "--json", "What did Medvedev call the US sanctions?")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)  # stdout is the JSON object alone
    assert "full-fledged economic war" in out["answer"]
    assert [a.file for a in Store(Settings(data_dir=data_dir)).articles()] == [F000, F001, F002]


def test_help_lists_the_commands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("ingest", "ask", "sources", "show", "--data-dir"):
        assert command in result.stdout


def test_importing_the_cli_and_printing_help_do_not_import_torch():
    code = (
        "import sys\n"
        "import rag.cli\n"
        "print('torch' in sys.modules)\n"
        "try:\n    rag.cli.cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules, 'chromadb' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().split("\n")
    assert lines[0] == "False"
    assert lines[-1] == "False False"
