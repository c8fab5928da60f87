"""Load: what can become an article is read as text; anything else is refused with the file's name and why."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from index.load import find_articles, find_sources, html_to_text, load_bytes, load_file, skipped_in
from rag.errors import InputError

LIMIT = 2_000


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused(path: Path, max_bytes: int = LIMIT) -> InputError:
    with pytest.raises(InputError) as info:
        load_file(path, max_bytes)
    assert info.value.path == path
    assert str(path) in str(info.value)  # the message names the file
    return info.value


def test_a_utf8_text_file_loads_verbatim(tmp_path):
    path = write(tmp_path, "a.txt", b"Lavrov met Tillerson in Manila.\n\nThey talked.\n")
    raw = load_file(path, LIMIT)
    assert raw.name == "a.txt"
    assert raw.text == "Lavrov met Tillerson in Manila.\n\nThey talked.\n"


def test_windows_line_endings_become_newlines(tmp_path):
    path = write(tmp_path, "a.txt", b"One.\r\nTwo.\r\n")
    assert load_file(path, LIMIT).text == "One.\nTwo.\n"


def test_a_file_with_nul_bytes_is_refused_as_binary(tmp_path):
    err = refused(write(tmp_path, "photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"))
    assert "binary" in err.reason


@pytest.mark.parametrize("data", [b"", b"   \n\t\n  "], ids=["empty", "whitespace-only"])
def test_an_empty_or_blank_file_is_refused_as_empty(tmp_path, data):
    err = refused(write(tmp_path, "blank.txt", data))
    assert "empty" in err.reason


def test_a_file_over_the_size_limit_is_refused_and_the_limit_is_named(tmp_path):
    err = refused(write(tmp_path, "big.txt", b"word " * 1_000), max_bytes=LIMIT)  # 5,000 bytes
    assert "too large" in err.reason
    assert "5,000 bytes" in err.reason
    assert "2,000" in err.reason


def test_latin1_bytes_are_refused_as_not_utf8_naming_the_byte(tmp_path):
    err = refused(write(tmp_path, "cafe.txt", "caf\xe9 au lait".encode("latin-1")))
    assert "not UTF-8" in err.reason
    assert "0xe9" in err.reason
    assert "offset 3" in err.reason


def test_a_utf8_file_with_a_byte_order_mark_loads_without_the_mark(tmp_path):
    path = write(tmp_path, "bom.txt", "\ufeffCafé society.".encode())
    assert load_file(path, LIMIT).text == "Café society."


def test_an_upload_goes_through_the_same_checks():
    with pytest.raises(InputError) as info:
        load_bytes("upload.txt", b"\x00\x01\x02", LIMIT)
    assert "binary" in info.value.reason
    assert str(info.value).startswith("upload.txt:")


HTML = b"""<!doctype html>
<html><head><title>t</title><style>p { color: red }</style>
<script>var tracking = "do not index";</script></head>
<body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<h1>Lavrov meets Tillerson</h1>
<p>Russian Foreign Minister Sergey Lavrov met <b>Rex Tillerson</b> in Manila.</p>
<p>They   discussed
sanctions.</p>
</body></html>
"""


def test_html_keeps_the_visible_paragraphs_one_per_line_and_drops_script_style_nav(tmp_path):
    raw = load_file(write(tmp_path, "page.html", HTML), LIMIT)
    assert raw.text.split("\n") == [  # <head> (its <title> too) is not part of the page's visible text
        "Lavrov meets Tillerson",
        "Russian Foreign Minister Sergey Lavrov met Rex Tillerson in Manila.",
        "They discussed sanctions.",  # a line break in the HTML source is only a space
    ]
    for gone in ("tracking", "color: red", "Home", "World"):
        assert gone not in raw.text


def test_html_to_text_hand_example():
    assert html_to_text("<p>Hello <b>world</b></p><script>alert(1)</script><p>Bye</p>") == "Hello world\nBye"


def test_an_html_page_with_no_visible_text_is_refused(tmp_path):
    err = refused(write(tmp_path, "empty.html", b"<html><script>x()</script><nav>Home</nav></html>"))
    assert "no text" in err.reason


def test_find_articles_expands_a_folder_to_its_article_files_sorted(tmp_path):
    for name in ("b.txt", "a.md", "c.html", "notes.pdf", "letter.docx", "img.png"):
        write(tmp_path, name, b"x")
    assert [p.name for p in find_articles([tmp_path])] == ["a.md", "b.txt", "c.html", "letter.docx", "notes.pdf"]
    assert [(p.name, why) for p, why in skipped_in(tmp_path)] == [
        ("img.png", "not an article file (.png; newsrag reads .txt, .md, .html, .htm, .pdf, .docx)")]


def test_find_articles_on_a_folder_without_articles_says_no_articles(tmp_path):
    write(tmp_path, "image.png", b"\x89PNG")
    with pytest.raises(InputError) as info:
        find_articles([tmp_path])
    assert "no articles" in info.value.reason
    assert info.value.path == tmp_path


def test_a_path_that_does_not_exist_is_refused(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(InputError) as info:
        find_articles([missing])
    assert "no such file" in info.value.reason
    with pytest.raises(InputError, match="not a file"):
        load_file(missing, LIMIT)


# -- other encodings ---------------------------------------------------------------------------------

TEXT = "Café talks in Zürich: the minister said “no”.\nThe vote was 12-3.\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"])
def test_a_utf16_or_utf32_file_is_read_as_its_text(tmp_path, encoding):
    """With a byte-order mark (utf-16, utf-32, utf-8-sig write one) or, for UTF-16, without: its zero bytes tell."""
    path = write(tmp_path, "wire.txt", TEXT.encode(encoding))
    assert load_file(path, LIMIT).text == TEXT


def test_an_html_page_saved_as_utf16_keeps_its_visible_text(tmp_path):
    page = "<html><body><p>Café talks in Zürich.</p><script>x()</script></body></html>"
    raw = load_file(write(tmp_path, "page.html", page.encode("utf-16")), LIMIT)
    assert raw.text == "Café talks in Zürich."


def test_utf16_that_does_not_decode_is_named_not_called_binary(tmp_path):
    data = "News.".encode("utf-16") + b"\x00\xd8"  # a lone high surrogate
    err = refused(write(tmp_path, "cut.txt", data))
    assert err.reason.startswith("not UTF-16 text (undecodable") and "re-save it as UTF-8" in err.reason


def test_binary_with_zero_bytes_is_still_binary(tmp_path):
    err = refused(write(tmp_path, "blob.txt", bytes(range(256)) * 4))
    assert "binary" in err.reason


# -- symbolic links and identity -------------------------------------------------------------------


def test_a_symlink_given_by_name_is_refused_and_not_read(tmp_path):
    secret = write(tmp_path, "secret.txt", b"root:x:0:0:root:/root:/bin/bash\n")
    link = tmp_path / "news" / "x.txt"
    link.parent.mkdir()
    link.symlink_to(secret)
    sources, errors = find_sources([link])
    assert sources == [] and [e.path for e in errors] == [link]
    assert "symbolic link, not followed" in errors[0].reason
    with pytest.raises(InputError, match="symbolic link"):
        load_file(link, LIMIT)  # opened without following it, whoever calls


def test_a_symlink_inside_a_folder_is_refused_and_the_other_files_are_found(tmp_path):
    outside = write(tmp_path, "passwd.txt", b"root:x:0:0\n")
    folder = tmp_path / "news"
    folder.mkdir()
    write(folder, "a.txt", b"A story.")
    (folder / "b.txt").symlink_to(outside)
    sources, errors = find_sources([folder])
    assert [s.name for s in sources] == ["a.txt"]
    assert [(e.path.name, "not followed" in e.reason) for e in errors] == [("b.txt", True)]


def test_with_follow_symlinks_a_link_inside_the_folder_is_read_but_never_one_leading_out(tmp_path):
    outside = write(tmp_path, "passwd.txt", b"root:x:0:0\n")
    folder = tmp_path / "news"
    (folder / "sub").mkdir(parents=True)
    story = write(folder / "sub", "story.txt", b"A story.")
    (folder / "same-story.txt").symlink_to(story)
    (folder / "escape.txt").symlink_to(outside)
    (folder / "up").symlink_to(tmp_path, target_is_directory=True)
    sources, errors = find_sources([folder], follow_symlinks=True)
    assert [(s.name, s.key) for s in sources] == [("same-story.txt", str(story.resolve())),
                                                 ("sub/story.txt", str(story.resolve()))]
    assert sorted((e.path.name, "outside" in e.reason) for e in errors) == [("escape.txt", True), ("up", True)]
    for escaping in ("escape.txt", "up"):
        assert escaping not in {s.path.name for s in sources}


def test_a_file_is_named_by_its_path_below_the_folder_and_keyed_by_its_resolved_path(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / "c" / sub).mkdir(parents=True)
        write(tmp_path / "c" / sub, "story.txt", f"The {sub} story.".encode())
    sources, errors = find_sources([tmp_path / "c"])
    assert not errors
    assert [(s.name, s.key) for s in sources] == [
        ("a/story.txt", str((tmp_path / "c/a/story.txt").resolve())),
        ("b/story.txt", str((tmp_path / "c/b/story.txt").resolve())),
    ]
    (alone,), _ = find_sources([tmp_path / "c" / "a" / "story.txt"])
    assert (alone.name, alone.key) == ("story.txt", sources[0].key)  # the same file, however it is named


def test_a_device_or_a_pipe_is_never_read(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a file"):
        load_file(fifo, LIMIT)  # would block forever if opened for reading the usual way
    with pytest.raises(InputError, match="not a file"):
        load_file(Path("/dev/zero"), LIMIT)
