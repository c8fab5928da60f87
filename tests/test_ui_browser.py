"""The served app in headless Chromium: ask, click a citation, see the cited span; no HTML ever runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from served import serving
from test_ui_api import MANILA

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


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


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(server, wait_until="domcontentloaded")
    pg.locator("#nr-question textarea").wait_for(timeout=30_000)
    pg.errors = errors  # type: ignore[attr-defined]
    yield pg
    context.close()


def ask(page, question: str) -> None:
    box = page.locator("#nr-question textarea")
    box.fill(question)
    box.press("Enter")
    # The final message (after streaming) carries the citation list or the "not answered" box.
    page.locator("#nr-chat .nr-citations, #nr-chat .nr-abstain").last.wait_for(timeout=60_000)


def test_click_citation_opens_article_with_the_span_highlighted(page, server):
    from gradio_client import Client
    from playwright.sync_api import expect

    quote = Client(server, verbose=False).predict(MANILA, "[]", api_name="/ask")["citations"][0]["quote"]
    ask(page, MANILA)
    marker = page.locator("#nr-chat .nr-answer a.nr-cite", has_text="[1]").first
    expect(marker).to_be_visible()
    marker.click()
    mark = page.locator("#nr-source-panel mark")
    expect(mark).to_be_visible(timeout=15_000)
    expect(mark).to_be_in_viewport(timeout=5_000)
    assert " ".join(mark.inner_text().split()) == " ".join(quote.split())
    expect(page.locator("#nr-source-panel .nr-meta")).to_contain_text("000_")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "manila-citation.png"), full_page=False)
    assert not page.errors  # type: ignore[attr-defined]


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
    status, *_ = client.predict(handle_file(str(evil)), api_name="/upload")
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
