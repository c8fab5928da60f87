"""The page's own CSS and scripts, added by ``ui.app.launch``.

The source panel is a box of fixed height whose text scrolls inside it (``.nr-scroll``, with
``overscroll-behavior: contain`` so that reaching its end never scrolls the page). Opening a citation
moves only that box's ``scrollTop``: ``scrollIntoView`` would also scroll every ancestor, Gradio's
overflow-hidden container among them, and leave the page stuck out of reach.
"""

from __future__ import annotations

CSS = """
.nr-header h1 { margin: 0; font-size: 1.5em; }
.nr-header p { margin: 0.1em 0 0 0; color: #6b7280; }
.nr-cite { cursor: pointer; font-weight: 600; text-decoration: none; color: #2563eb; padding: 0 1px; }
.nr-cite:hover { text-decoration: underline; }
.nr-citations { font-size: 0.9em; margin: 0.4em 0 0 1.2em; padding: 0; list-style: none; }
.nr-query { font-size: 0.85em; color: #6b7280; margin-bottom: 0.4em; }
.nr-abstain { border: 1px solid #f59e0b; background: #fffbeb; color: #92400e; border-radius: 6px; padding: 0.5em; }
.nr-closest { font-size: 0.85em; margin-top: 0.5em; }
.nr-not-answer { background: #e5e7eb; color: #374151; border-radius: 4px; padding: 0 4px; font-size: 0.8em; }
.nr-used { background: #dbeafe; color: #1e40af; border-radius: 4px; padding: 0 4px; font-size: 0.8em; }
.nr-snippet { color: #6b7280; }
.nr-score { color: #6b7280; font-variant-numeric: tabular-nums; }
.nr-searched { font-size: 0.85em; margin-top: 0.6em; }
.nr-searched summary { cursor: pointer; color: #4b5563; }
.nr-searched ol { margin: 0.3em 0 0 1.2em; padding: 0; list-style: none; }
.nr-searched li { margin-bottom: 0.35em; }
.nr-source h3 { margin: 0 0 0.2em 0; font-size: 1.1em; }
.nr-source-head { padding-bottom: 0.4em; border-bottom: 1px solid #e5e7eb; margin-bottom: 0.4em; }
.nr-meta { font-size: 0.85em; color: #6b7280; }
/* The panel scrolls on its own; the page never does. */
.nr-scroll { height: max(240px, calc(100vh - 250px)); overflow-y: auto; overscroll-behavior: contain;
             padding-right: 6px; }
.nr-text { white-space: pre-wrap; line-height: 1.45; overflow-wrap: anywhere; }
.nr-text mark { background: #fde047; padding: 1px 0; }
.nr-text mark .nr-key { background: #f59e0b; color: #111827; border-radius: 2px; }
.nr-empty { color: #6b7280; }
#nr-library-preview .nr-scroll { height: max(200px, calc(100vh - 520px)); }
.nr-eval-summary { font-size: 1.02em; line-height: 1.5; }
.nr-eval-summary .nr-big { font-size: 1.6em; font-weight: 700; }
.nr-eval-summary ul { margin: 0.4em 0 0 1.2em; }
.nr-failed { width: 100%; table-layout: fixed; border-collapse: collapse; font-size: 0.9em; }
.nr-failed th, .nr-failed td { border-bottom: 1px solid #e5e7eb; padding: 4px 6px; vertical-align: top;
                               text-align: left; overflow-wrap: anywhere; }
.nr-failed th { color: #4b5563; font-weight: 600; }
.nr-failed col.nr-c-q { width: 34%; } .nr-failed col.nr-c-a { width: 36%; }
.nr-failed col.nr-c-e { width: 18%; } .nr-failed col.nr-c-w { width: 12%; }
#nr-eval-chart img { max-width: 100%; max-height: 560px; width: auto; height: auto; object-fit: contain; }
.nr-confirm { border: 1px solid #f87171; border-radius: 6px; }
.nr-confirm, .nr-confirm .block, .nr-confirm .prose { background: #fef2f2 !important; }
"""

#: Runs once when the page loads: one delegated click handler for every citation marker.
JS = """
() => {
  if (window.__nrInstalled) return;
  window.__nrInstalled = true;
  document.addEventListener('click', (event) => {
    const el = event.target.closest ? event.target.closest('a.nr-cite, a[href^="#nr-cite:"]') : null;
    if (!el) return;
    const href = el.getAttribute('href') || '';
    const key = el.getAttribute('data-cite') || (href.startsWith('#nr-cite:') ? href.slice(9) : '');
    if (!key) return;
    event.preventDefault();
    event.stopPropagation();
    window.__nrCite = decodeURIComponent(key);
    const btn = document.querySelector('#nr-open-source button') || document.querySelector('button#nr-open-source');
    if (btn) btn.click();
  }, true);
}
"""

#: After the article is shown: scroll its own box so the highlighted span sits in the middle of it.
SCROLL_JS = """
() => {
  const go = (tries) => {
    const box = document.querySelector('#nr-source-panel .nr-scroll');
    const mark = box && box.querySelector('mark');
    const fresh = box && box.closest('.nr-source').getAttribute('data-key') === (window.__nrCite || '');
    if (mark && (fresh || tries === 0)) {
      const offset = mark.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
      box.scrollTop = Math.max(0, offset - (box.clientHeight - mark.offsetHeight) / 2);
      return;
    }
    if (tries > 0) setTimeout(() => go(tries - 1), 100);
  };
  setTimeout(() => go(20), 30);
}
"""
