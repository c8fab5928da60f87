"""The served app in headless Chromium, as a newsroom uses it: ask, open a citation without losing the page,
read an article to its end, keep the library, run the evaluation, come back to a conversation.

A screenshot of each main screen is kept under tests/artifacts/ (not committed) for a person to look at.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from sample_files import CLOVES_TITLE, write_pdf
from served import serving
from test_ui_api import MANILA

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SIZES = {"1400x1000": (1400, 1000), "1366x768": (1366, 768)}
MEDVEDEV = "What did Medvedev say about the sanctions law?"

#: Every element the page has scrolled, but the source panel's own box (and the chat's).
SCROLLED = """() => {
  const out = {};
  if (window.scrollY) out.window = window.scrollY;
  document.querySelectorAll('*').forEach(e => {
    if (e.scrollTop && !e.closest('.nr-scroll') && !e.classList.contains('nr-scroll') && !e.closest('#nr-chat'))
      out[e.tagName + '.' + (e.id || String(e.className).slice(0, 40))] = e.scrollTop;
  });
  return out;
}"""


def shot(page, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serving(tmp_path_factory, "ui-browser")


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Chromium is not installed: `make browser-deps`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def open_page(browser, server, size=(1400, 1000)):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, accept_downloads=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(server, wait_until="domcontentloaded")
    pg.locator("#nr-question textarea").wait_for(timeout=30_000)
    pg.errors = errors  # type: ignore[attr-defined]
    return pg


@pytest.fixture
def page(browser, server):
    pg = open_page(browser, server)
    yield pg
    pg.context.close()


def ask(page, question: str) -> None:
    box = page.locator("#nr-question textarea")
    box.fill(question)
    box.press("Enter")
    # The final message (after streaming) carries the citation list or the "not answered" box.
    page.locator("#nr-chat .nr-citations, #nr-chat .nr-abstain").last.wait_for(timeout=60_000)


def in_box(page, inner: str, outer: str) -> bool:
    """Is the element ``inner`` wholly inside ``outer`` on the screen (and ``outer`` inside the window)?"""
    return page.evaluate("""([inner, outer]) => {
      const a = document.querySelector(inner).getBoundingClientRect();
      const b = document.querySelector(outer).getBoundingClientRect();
      return a.top >= b.top - 1 && a.bottom <= b.bottom + 1 && b.top >= 0 && b.bottom <= window.innerHeight + 1;
    }""", [inner, outer])


def upload_in_library(page, *paths: Path) -> str:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Library").click()
    page.locator("#nr-upload input[type=file]").set_input_files([str(p) for p in paths])
    page.locator("#nr-add").click()
    status = page.locator("#nr-status textarea")
    expect(status).to_have_value(re.compile(re.escape(paths[-1].name)), timeout=60_000)
    return status.input_value()


def select_row(page, file: str) -> None:
    from playwright.sync_api import expect

    page.locator("#nr-search textarea, #nr-search input").first.fill(file)
    expect(page.locator("#nr-library")).to_contain_text("1 of ")  # the table shows the search's one row
    cell = page.locator("#nr-library").get_by_text(file, exact=True).locator("visible=true").first
    cell.click()
    expect(page.locator("#nr-library-preview .nr-source h3")).to_be_visible(timeout=15_000)


# -- the source panel never traps the page ------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_clicking_a_citation_scrolls_only_the_source_panel(browser, server, size):
    from playwright.sync_api import expect

    page = open_page(browser, server, SIZES[size])
    try:
        ask(page, MEDVEDEV)
        assert page.evaluate(SCROLLED) == {}
        page.locator("#nr-chat .nr-answer a.nr-cite", has_text="[1]").first.click()
        mark = page.locator("#nr-source-panel mark")
        expect(mark).to_contain_text("full-fledged economic war", timeout=15_000)
        page.wait_for_timeout(400)  # the scroll runs after the panel is filled
        assert page.evaluate(SCROLLED) == {}, "the page scrolled"
        assert page.evaluate("document.querySelector('#nr-source-panel .nr-scroll').scrollTop") > 0
        assert in_box(page, "#nr-source-panel mark", "#nr-source-panel .nr-scroll")
        for always in ("h1", "button[role=tab]", "#nr-chat .nr-answer", "#nr-question textarea"):
            expect(page.locator(always).first).to_be_in_viewport(ratio=1)
        shot(page, f"chat-citation-{size}")
        # the reader can still move the page and come back: nothing is stuck
        page.keyboard.press("End")
        page.wait_for_timeout(500)
        page.mouse.move(5, 5)  # over the page's margin, not the chat or the panel
        page.mouse.wheel(0, -3000)
        page.wait_for_timeout(500)
        assert page.evaluate(SCROLLED) == {}
        assert not page.errors  # type: ignore[attr-defined]
    finally:
        page.context.close()


def test_the_end_of_the_longest_article_is_reachable_in_the_panel(browser, server, tmp_path):
    from gradio_client import Client, handle_file
    from playwright.sync_api import expect

    long = tmp_path / "harbour_history.txt"
    paragraphs = [f"In year {1900 + i} the harbour of Kigoma handled {1000 + 37 * i:,} tonnes of freight, the port "
                  f"authority's annual report number {i + 1} said, and the board met {4 + i % 3} times."
                  for i in range(90)]
    long.write_text("A century of freight in Kigoma harbour\n\n" + "\n\n".join(paragraphs)
                    + "\n\nThe last ledger of the old harbour office closes this history.\n", encoding="utf-8")
    client = Client(server, verbose=False)
    status, *_ = client.predict([handle_file(str(long))], "", "", "", "", api_name="/upload")
    assert "added" in status, status
    longest = max(client.predict("", api_name="/library")[0]["value"]["data"], key=lambda row: row[4])
    assert longest[3] == "harbour_history.txt"

    page = open_page(browser, server, SIZES["1366x768"])
    try:
        ask(page, "How many tonnes of freight did Kigoma harbour handle in year 1902?")
        page.locator("#nr-chat .nr-citations a.nr-cite").first.click()
        expect(page.locator("#nr-source-panel mark")).to_contain_text("1902", timeout=15_000)
        box = page.locator("#nr-source-panel .nr-scroll")
        box.hover()
        for _ in range(60):  # the reader scrolls the panel with the wheel to the end
            page.mouse.wheel(0, 600)
            if page.evaluate("(() => { const b = document.querySelector('#nr-source-panel .nr-scroll');"
                             " return b.scrollTop + b.clientHeight >= b.scrollHeight - 1; })()"):
                break
        page.wait_for_timeout(300)
        last = page.locator("#nr-source-panel .nr-text")
        expect(last).to_contain_text("The last ledger of the old harbour office closes this history.")
        end = page.evaluate("""() => {
          const text = document.querySelector('#nr-source-panel .nr-text');
          const range = document.createRange();
          range.selectNodeContents(text);
          const r = range.getBoundingClientRect();
          const b = document.querySelector('#nr-source-panel .nr-scroll').getBoundingClientRect();
          return [r.bottom, b.bottom, window.innerHeight];
        }""")
        assert end[0] <= end[1] + 1 and end[1] <= end[2] + 1, end  # the article's last line is on screen
        assert page.evaluate(SCROLLED) == {}, "the wheel over the panel scrolled the page"
        shot(page, "chat-long-article-end")
    finally:
        page.context.close()


# -- the library ------------------------------------------------------------------------------------


def test_a_pdf_uploaded_in_the_library_is_answerable_and_its_title_and_date_shown(page, tmp_path):
    from playwright.sync_api import expect

    status = upload_in_library(page, write_pdf(tmp_path / "cloves.pdf"))
    assert "✓ cloves.pdf: added to the library" in status
    page.get_by_role("tab", name="Chat").click()
    ask(page, "How many tonnes of cloves did Zanzibar harvest?")
    answer = page.locator("#nr-chat .nr-answer").last
    expect(answer).to_contain_text("9,412 tonnes")
    expect(page.locator("#nr-chat .nr-citations").last).to_contain_text(f"{CLOVES_TITLE} · 2019-03-05")
    # the answer leads with its likeliest sentence: its first citation
    page.locator("#nr-chat .nr-citations").last.locator("a.nr-cite").first.click()
    expect(page.locator("#nr-source-panel h3")).to_have_text(CLOVES_TITLE, timeout=15_000)
    expect(page.locator("#nr-source-panel mark")).to_contain_text("9,412 tonnes")
    searched = page.locator("#nr-chat details.nr-searched").last
    searched.locator("summary").click()  # what was searched, with scores
    expect(searched.locator("li").first).to_contain_text("score ")
    expect(searched.locator(".nr-used").first).to_have_text("cited")
    shot(page, "chat-pdf-answer")
    assert not page.errors  # type: ignore[attr-defined]


def test_delete_asks_for_confirmation_and_can_be_undone(page, tmp_path):
    from playwright.sync_api import expect

    note = tmp_path / "fishing_ban.txt"
    note.write_text("Fishing ban on Lake Victoria extended\n\nThe fishing ban on Lake Victoria was extended by "
                    "three months on Tuesday, the fisheries ministry said.\n", encoding="utf-8")
    upload_in_library(page, note)
    table = page.locator("#nr-library")
    select_row(page, "fishing_ban.txt")
    page.locator("#nr-delete").click()
    confirm = page.locator("#nr-confirm").first  # Gradio puts a group's id on two nested elements
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("Delete “Fishing ban on Lake Victoria extended”")
    shot(page, "library-confirm-delete")
    page.locator("#nr-confirm-no").click()  # cancelling deletes nothing
    expect(confirm).to_be_hidden()
    expect(table.get_by_text("fishing_ban.txt", exact=True).locator("visible=true")).to_have_count(1)

    page.locator("#nr-delete").click()
    page.locator("#nr-confirm-yes").click()
    status = page.locator("#nr-status textarea")
    expect(status).to_have_value(re.compile("fishing_ban.txt: deleted from the library"), timeout=15_000)
    expect(table.get_by_text("fishing_ban.txt", exact=True).locator("visible=true")).to_have_count(0)
    expect(page.locator("#nr-library-preview")).to_contain_text("Click a row")  # nothing left selected

    page.locator("#nr-undo").click()
    expect(status).to_have_value(re.compile("fishing_ban.txt: put back in the library"), timeout=60_000)
    expect(table.get_by_text("fishing_ban.txt", exact=True).locator("visible=true")).to_have_count(1)
    page.wait_for_timeout(500)  # the table settles (it greys while it reloads)
    shot(page, "library")
    assert not page.errors  # type: ignore[attr-defined]


# -- the evaluation ---------------------------------------------------------------------------------


def test_the_evaluation_summary_reads_in_words_without_horizontal_scroll(browser, server, tmp_path):
    from playwright.sync_api import expect

    qa = tmp_path / "mini.jsonl"
    qa.write_text("\n".join(json.dumps(item) for item in [
        {"id": "t1", "type": "numeric", "question": "How did the Senate vote on the sanctions bill?",
         "answers": ["98-2"], "evidence": [{"doc": "000", "text": "98-2"}]},
        {"id": "t2", "type": "factoid", "question": "Where did Lavrov and Tillerson meet in 2017?",
         "answers": ["Vienna"], "evidence": [{"doc": "000", "text": "Manila"}]},
        {"id": "t3", "type": "unanswerable", "question": "Who won the 1998 FIFA World Cup?", "answers": [],
         "evidence": []},
    ]) + "\n", encoding="utf-8")
    page = open_page(browser, server, SIZES["1366x768"])
    try:
        page.get_by_role("tab", name="Evaluate").click()
        page.locator("#nr-eval-file input[type=file]").set_input_files(str(qa))
        page.locator("#nr-run-eval").click()
        summary = page.locator("#nr-eval-summary")
        expect(summary.locator(".nr-big")).to_have_text("2 of 3", timeout=120_000)
        expect(summary).to_contain_text("Answered correctly: 1 of 2 (50%)")
        failed = page.locator("#nr-eval-failed")
        expect(failed).to_contain_text("1 question went wrong")
        expect(failed).to_contain_text("“Vienna”")
        expect(page.locator("#nr-eval-chart img")).to_be_visible()
        for kind in ("md", "json"):  # the full report, to download
            expect(page.locator(f"#nr-eval-report a[href$='report.{kind}']")).to_have_count(1)
        for name in ("recall_share", "mrr", "citation_precision"):  # the runner's names stay in the runner
            assert name not in page.locator("body").inner_text()
        widths = page.evaluate("""() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth,
            ...['#nr-eval-summary', '#nr-eval-failed'].map(s => {
              const e = document.querySelector(s); return e.scrollWidth - e.clientWidth; })]""")
        assert widths[0] <= widths[1] and widths[2] <= 0 and widths[3] <= 0, widths
        shot(page, "evaluate", full_page=True)
    finally:
        page.context.close()


# -- conversations ---------------------------------------------------------------------------------


def test_a_conversation_survives_a_reload_and_exports_as_markdown(browser, server):
    from playwright.sync_api import expect

    page = open_page(browser, server)
    try:
        ask(page, MANILA)
        ask(page, "And what did Tillerson say there?")
        page.wait_for_timeout(500)  # saved to the browser after the answer
        page.reload(wait_until="domcontentloaded")
        page.locator("#nr-question textarea").wait_for(timeout=30_000)
        chat = page.locator("#nr-chat")
        expect(chat).to_contain_text("And what did Tillerson say there?", timeout=15_000)
        expect(chat.locator(".nr-answer")).to_have_count(2)
        shot(page, "chat-after-reload")

        # a follow-up after the reload still knows what the conversation was about
        ask(page, "What else did he say there?")
        expect(chat.locator(".nr-answer")).to_have_count(3)

        with page.expect_download() as download:
            page.locator("#nr-export").click()
        md = Path(download.value.path()).read_text(encoding="utf-8")
        assert md.startswith(f"# {MANILA}")
        assert md.count("\n## ") == 3 and "And what did Tillerson say there?" in md
        assert re.search(r"\[1\] .+ · `000_8a1e73fa9af65f5f\.txt`, characters \d+–\d+", md)
        assert "\n> " in md  # each citation's verbatim quote

        page.locator("#nr-new").click()
        expect(chat.locator(".nr-answer")).to_have_count(0)
        ask(page, "How did the Senate vote on the sanctions bill?")
        page.wait_for_timeout(500)
        page.reload(wait_until="domcontentloaded")
        page.locator("#nr-question textarea").wait_for(timeout=30_000)
        expect(chat).to_contain_text("How did the Senate vote", timeout=15_000)  # the latest is reopened
        page.locator("#nr-picker input").click()
        options = page.locator("[role=option]")
        expect(options).to_have_count(2)
        options.filter(has_text=MANILA).click()
        expect(chat.locator(".nr-answer")).to_have_count(3)
        assert not page.errors  # type: ignore[attr-defined]
    finally:
        page.context.close()


# -- safety -----------------------------------------------------------------------------------------


def test_article_with_script_shows_the_tag_and_never_runs_it(page, server, tmp_path):
    from gradio_client import Client, handle_file
    from playwright.sync_api import expect

    evil = tmp_path / "pwnville_bridge.txt"
    evil.write_text(
        "Pwnville bridge to reopen after repairs\n\n"
        "PWNVILLE, May 2, 2020 - The mayor of Pwnville said the Old Mill bridge will reopen to traffic on 14 May "
        "after eight months of repairs. <script>window.pwned = true</script>\n\n"
        "Engineers replaced the rusted steel girders. <img src=x onerror=\"window.pwned = 'img'\">\n",
        encoding="utf-8",
    )
    client = Client(server, verbose=False)
    status, *_ = client.predict([handle_file(str(evil))], "", "", "", "", api_name="/upload")
    assert "added" in status, status
    result = client.predict("When will the Old Mill bridge in Pwnville reopen?", json.dumps([]), api_name="/ask")
    assert any(c["file"] == "pwnville_bridge.txt" for c in result["citations"]), result

    ask(page, "When will the Old Mill bridge in Pwnville reopen?")
    page.locator("#nr-chat .nr-citations a.nr-cite").first.click()
    panel = page.locator("#nr-source-panel .nr-text")
    expect(panel).to_contain_text("<script>window.pwned = true</script>", timeout=15_000)
    expect(panel).to_contain_text("<img src=x onerror=")
    assert page.locator("#nr-source-panel script").count() == 0
    assert page.locator("#nr-source-panel img").count() == 0
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.pwned") == "undefined"
