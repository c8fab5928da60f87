"""Hostile and careless inputs, through a real `newsrag ingest` process against a library that holds the seeds:
each gets one line naming it and the reason, the process exits 1 without a traceback, and the library is as it was.
And the file that made cleaning quadratic (2 MB of lines ending in an ellipsis), timed."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import newsrag

from index.clean import clean
from index.load import load_bytes
from index.store import Store
from rag.config import Settings

pytestmark = pytest.mark.reliability

FURNITURE = b"Open in App\nEpaper\nTags: Russia, US\nRelated Stories\nSome Headline Here\n"
BAD: dict[str, tuple[bytes, str]] = {
    "photo.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
    "empty.txt": (b"", "empty"),
    "blank.md": (b"  \n\n\t ", "empty"),
    "cafe.txt": ("Lavrov drank caf\xe9.".encode("latin-1"), "not UTF-8 text"),
    "cut.txt": ("Zürich".encode()[:-1] + b"\xc3", "not UTF-8 text"),
    "nul.txt": (b"Minister\x00said\x00yes" * 20, "binary"),
    "controls.txt": (bytes(range(1, 32)) * 40, "binary"),
    "broken-utf16.txt": ("News.".encode("utf-16") + b"\x00\xd8", "not UTF-16 text"),
    "nav.txt": (FURNITURE, "nothing but page furniture"),
    "dots.txt": (b"... !!! ??? ---\n\n;;; ,,,", "no words"),
    "invisible.txt": ("\u200b\u200c\u200d\u2060".encode() * 50, "no words"),
    "scripts.html": (b"<html><script>fetch('/x')</script><nav>Home</nav><style>p{}</style></html>", "no text"),
    "huge.txt": (b"word " * 400_001, "too large"),
}


def teasers(limit: int = 1_999_000) -> bytes:
    lines, size, n = [], 0, 0
    while size < limit - 80:
        line = f"Report {n:07d} on the council budget, continued on the next page …"
        lines.append(line)
        size += len(line.encode()) + 1
        n += 1
    return "\n".join(lines).encode()


def test_every_hostile_input_is_refused_with_its_reason_and_the_library_is_unchanged(seeded, tmp_path, figures):
    data = tmp_path / "store"
    shutil.copytree(seeded.settings.data_dir, data)
    before = Store(Settings(data_dir=data))
    chunks, sentences = sorted(before.chunks.get(include=[])["ids"]), sorted(before.sentences.get(include=[])["ids"])
    folder = tmp_path / "bad"
    folder.mkdir()
    for name, (data_bytes, _) in BAD.items():
        (folder / name).write_bytes(data_bytes)
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "no-articles").mkdir()
    (tmp_path / "no-articles" / "image.png").write_bytes(b"\x89PNG")
    extra = {tmp_path / "pipe.txt": "not a file", tmp_path / "no-articles": "no articles here",
             tmp_path / "missing.txt": "no such file", Path("/dev/zero"): "not a file",
             folder / "passwd.txt": "symbolic link, not followed"}

    result = newsrag(data, "ingest", str(folder), *(str(p) for p in extra), timeout=300)

    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout
    # one "✗ name: reason" line per refusal (the link twice: found in the folder, and given), then the summary list
    refused = [line for line in result.stderr.strip().splitlines() if line.startswith("✗ ")]
    lines = dict(line[2:].split(": ", 1) for line in refused)
    expected = {str(folder / name): reason for name, (_, reason) in BAD.items()} | {str(p): r for p, r in extra.items()}
    assert set(lines) == set(expected)
    for path, reason in expected.items():
        assert reason in lines[path], (path, lines[path])
    assert all(line.startswith("✗ ") for line in refused) and len(refused) == len(expected) + 1
    # the summary line (after any file a folder holds that is no article, listed as skipped)
    assert result.stdout.strip().splitlines()[-1].startswith(f"{len(refused)} failed")
    after = Store(Settings(data_dir=data))
    assert sorted(after.chunks.get(include=[])["ids"]) == chunks
    assert sorted(after.sentences.get(include=[])["ids"]) == sentences
    figures["hostile inputs tried through the CLI"] = len(expected)
    figures["hostile inputs refused with their reason, library unchanged"] = len(expected)


def test_the_2mb_file_that_made_cleaning_quadratic_loads_and_cleans_in_linear_time(figures):
    data = teasers()
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        text = clean(load_bytes("teasers.txt", data, 2_000_000).text)
        timings.append(time.perf_counter() - started)
    assert len(data) < 2_000_000 and text.count("\n") == data.count(b"\n")
    figures["2 MB file of teasers: load + clean, best of 3 (s)"] = round(min(timings), 3)
    figures["2 MB file of teasers: load + clean, each run (s)"] = [round(t, 3) for t in timings]
