"""The ``newsrag`` command, driven as a user would: ingest, sources, show, ask --json, errors, --help."""

from __future__ import annotations

import json
import re
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
        assert line.startswith(f"✓ {SEEDS_DIR / name}: added to the library (") and line.endswith(" chunks)")
    assert lines[3].startswith("3 added; ") and lines[3].endswith(" chunks in the store")


def test_ingest_json_gives_each_file_s_result_and_the_summary(ingested, tmp_path):
    data_dir = tmp_path / "store"
    shutil.copytree(ingested[0], data_dir)
    (tmp_path / "new").mkdir()
    vote = tmp_path / "new" / "vote.txt"
    vote.write_text("Ann Lee said the council vote was 12-3.", encoding="utf-8")
    (tmp_path / "new" / "photo.jpg").write_bytes(b"\xff\xd8")
    result = newsrag(data_dir, "ingest", "--json", str(tmp_path / "new"), str(SEEDS_DIR / F000))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [(Path(r["file"]).name, r["status"]) for r in out["results"]] == [
        ("photo.jpg", "skipped"), ("vote.txt", "added"), (F000, "unchanged")]
    assert out["results"][1]["chunks"] == 1 and out["ok"] is True
    assert out["summary"] == "1 added, 1 already in the library, 1 skipped"


def test_a_partly_failed_ingest_says_which_files_failed_and_exits_1(tmp_path):
    good = tmp_path / "vote.txt"
    good.write_text("Ann Lee said the council vote was 12-3.", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = newsrag(tmp_path / "store", "ingest", str(good), str(empty))
    assert result.exit_code == 1
    assert result.stdout.strip().split("\n") == [f"✓ {good}: added to the library (1 chunk)",
                                                 "1 added, 1 failed; 1 chunk in the store"]
    assert result.stderr.strip().split("\n")[-2:] == ["1 file not added:", f"  {empty}: empty file"]


def test_ingest_of_a_bad_file_exits_non_zero_with_one_line_naming_it(tmp_path):
    bad = tmp_path / "cafe.txt"
    bad.write_bytes("Lavrov drank caf\xe9.".encode("latin-1"))
    result = newsrag(tmp_path / "store", "ingest", str(bad))
    assert result.exit_code == 1
    reason = "not UTF-8 text (undecodable byte 0xe9 at offset 16); re-save it as UTF-8"
    assert result.stderr.strip().split("\n") == [f"✗ {bad}: not added: {reason}", "1 file not added:",
                                                 f"  {bad}: {reason}"]
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
    assert result.stdout.startswith(f"✓ {F001}: deleted from the library (")
    assert [a.file for a in Store(Settings(data_dir=data_dir)).articles()] == [F000, F002]


def test_sources_piped_prints_tab_separated_lines_with_full_ids(ingested):
    result = newsrag(ingested[0], "sources")  # CliRunner's stdout is not a terminal, as in `newsrag sources | cut`
    assert result.exit_code == 0, result.output
    header, *lines = result.stdout.strip().split("\n")
    assert header.split("\t") == ["doc_id", "file", "title", "source", "published", "chunks"]
    rows = {cells[1]: cells for cells in (line.split("\t") for line in lines)}
    assert sorted(rows) == [F000, F001, F002]
    store = Store(Settings(data_dir=ingested[0]))
    assert {rows[a.file][0] for a in store.articles()} == {a.doc_id for a in store.articles()}  # whole ids
    assert rows[F000][3:5] == ["unknown", "unknown"]  # source, published: the text gives neither
    assert rows[F000][2].startswith("The Russian Foreign Ministry has said")  # titled by its first sentence
    assert rows[F002][2:5] == ["Russia-US ties approach dangerous confrontational point", "IANS", "2021-07-22"]


def test_sources_on_an_80_column_terminal_never_cuts_an_id():
    from rich.console import Console

    from rag.cli import sources_table

    ids = ["7913dfa1ee98059b", "7bf8068bc071ddb8"]
    cells = [[i, f"{i[:3]}_a_rather_long_file_name_for_a_story.txt", "A headline long enough to need wrapping "
              "in a narrow terminal window", "unknown", "unknown", "9"] for i in ids]
    console = Console(record=True, width=80)
    console.print(sources_table(cells))
    text = console.export_text()
    for i in ids:
        assert i in text


def test_sources_json_lists_every_article_s_details(ingested):
    result = newsrag(ingested[0], "sources", "--json")
    out = json.loads(result.stdout)
    assert [a["file"] for a in out] == [F000, F001, F002]
    assert set(out[0]) == {"doc_id", "file", "title", "source", "published", "chunks", "chars"}
    assert out[2]["published"] == "2021-07-22" and out[0]["published"] is None


def test_edit_sets_an_article_s_details_and_show_json_reads_them(ingested, tmp_path):
    data_dir = tmp_path / "store"
    shutil.copytree(ingested[0], data_dir)
    result = newsrag(data_dir, "edit", "000", "--title", "Senate passes sanctions", "--date", "2017-07-27")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"✓ {F000}: Senate passes sanctions · 2017-07-27 · source unknown"
    shown = json.loads(newsrag(data_dir, "show", "--json", "000").stdout)
    assert (shown["title"], shown["published"], shown["source"]) == ("Senate passes sanctions", "2017-07-27", None)
    assert shown["text"].startswith("The Russian Foreign Ministry")
    assert newsrag(data_dir, "edit", "000").exit_code == 2  # nothing to set: a usage error
    assert newsrag(data_dir, "edit", "000", "--date", "July 27").exit_code == 2


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
        assert c["file"] == F000 and c["title"].startswith("The Russian Foreign Ministry") and c["published"] is None
    for p in senate_json["passages"]:
        assert store.article(p["doc_id"]).text[p["start"] : p["end"]] == p["text"]


def test_ask_on_an_empty_data_dir_ingests_the_seeds_first(tmp_path):
    data_dir = tmp_path / "store"
    result = newsrag(data_dir, "ask", "--json", "What did Medvedev call the US sanctions?")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)  # stdout is the JSON object alone
    assert "full-fledged economic war" in out["answer"]
    assert [a.file for a in Store(Settings(data_dir=data_dir)).articles()] == [F000, F001, F002]


def test_ask_prints_the_answer_its_citations_and_labelled_timings(ingested):
    result = newsrag(ingested[0], "ask", SENATE)
    assert result.exit_code == 0, result.output
    assert "98-2" in result.stdout and "[1] " in result.stdout and "characters " in result.stdout
    assert re.fullmatch(r"answered in \d+ ms( \(.*\))?", result.stderr.strip().split("\n")[-1])
    assert "understood as" not in result.stdout  # a plain question is not restated


def test_help_lists_the_commands_and_the_exit_codes():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("ingest", "ask", "sources", "show", "edit", "--data-dir", "Exit codes: 0"):
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
