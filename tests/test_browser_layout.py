"""The built site as a reader sees it on a laptop (1400 px window) and a phone (390 px):
Debian's Chromium driven by Playwright (fixtures in conftest.py).

- no page scrolls sideways on a phone: a wide table scrolls in its own box;
- every figure is SVG, opens large on a click, and its smallest text is at least 9 pt as it
  is shown at 1400 px and at 390 px (the glyph sizes read from the SVG, scaled by its shown
  width): on a phone a figure keeps its drawn width and scrolls in its own box, with a hint;
- every page, the search page included, shows one search entry at both widths, and its
  »Forrige«/»Næste« links are not cut off;
- every table with a caption is numbered ("Tabel 7.2"), its columns do not touch (the text
  of two neighbouring cells is apart), and a number is never broken from its unit;
- a screenshot of each chapter page's window at 1400 px is saved in ``_build/screenshots/``;
  ``PLUSDIG_SCREENSHOTS=full`` also saves every page whole at both widths in
  ``_build/screenshots/layout/`` (for a person to look through: no test reads them, and they
  took a third of the loads' time);
- every page loads without console errors or requests to another host (at both widths),
  shows its title, and axe-core (vendored from npm) finds no serious or critical
  accessibility violations on it (at 1400 px; the page tests of test_browser.py, read from
  the same load so that every page is opened once per width).

The pages are served on 127.0.0.1 with every request to another host blocked and recorded
(``module_offline_page``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_SCRIPTS

pytestmark = pytest.mark.browser

MIN_PT = 9.0
LAPTOP = 1400
WIDTHS = (LAPTOP, 390)
REPO = Path(__file__).resolve().parents[1]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
#: Where the test server serves it (conftest.TEST_SCRIPTS).
AXE_URL = next(url for url, path in TEST_SCRIPTS.items() if path == AXE)
#: ``PLUSDIG_SCREENSHOTS=full``: every page also saved whole at both widths (a person's look
#: through the layout; full-page PNGs of every page cost about 20 s of the loads' 65 s).
FULL_SHOTS = os.environ.get("PLUSDIG_SCREENSHOTS") == "full"


def _chapter_pages(book_config: dict[str, Any]) -> list[str]:
    return [book_config["root"], *book_config["chapters"]]


def _pages(book_config: dict[str, Any]) -> list[str]:
    return [*_chapter_pages(book_config), "search"]


_FIGURES_JS = """
async () => {
  const out = [];
  const imgs = Array.from(document.querySelectorAll('main article figure img, main article .widget-subarea img'))
    .filter((i) => i.getBoundingClientRect().width > 0);
  for (const img of imgs) {
    const src = img.getAttribute('src') || '';
    let svg = null;
    if (src.startsWith('data:image/svg+xml;base64,')) svg = atob(src.split(',')[1]);
    else if (/\\.svg(\\?|$)/.test(src)) svg = await (await fetch(img.src)).text();
    const box = img.closest('a.image-reference') || img.closest('.plusdig-view-figure');
    const hint = box && box.parentElement.querySelector(':scope > p.plusdig-figure-hint');
    const rec = {src: src.slice(0, 80), shown: img.getBoundingClientRect().width, svg: svg !== null,
                 link: !!img.closest('a.image-reference'), widget: !!img.closest('.widget-subarea'),
                 scrolls: box ? box.scrollWidth > box.clientWidth + 1 : false,
                 hint: hint && hint.checkVisibility() ? hint.innerText.trim() : null};
    if (svg !== null) {
      const w = svg.match(/<svg[^>]*\\swidth="([\\d.]+)pt"/);
      const sizes = Array.from(svg.matchAll(/scale\\(([\\d.]+) -\\1\\)/g)).map((m) => parseFloat(m[1]) * 100);
      rec.widthPt = w ? parseFloat(w[1]) : null;
      rec.minFont = sizes.length ? Math.min(...sizes) : null;
    }
    out.push(rec);
  }
  return out;
}
"""

_TABLES_JS = """
() => {
  const rect = (el) => { const r = document.createRange(); r.selectNodeContents(el);
                         return Array.from(r.getClientRects()); };
  return Array.from(document.querySelectorAll('main article table')).map((t) => {
    const cap = t.querySelector('caption');
    let touching = [], broken = [];
    for (const row of t.querySelectorAll('tr')) {
      const cells = Array.from(row.children).filter((c) => c.innerText.trim());
      for (let i = 0; i + 1 < cells.length; i++) {
        const a = rect(cells[i]), b = rect(cells[i + 1]);
        if (!a.length || !b.length) continue;
        const right = Math.max(...a.map((r) => r.right)), left = Math.min(...b.map((r) => r.left));
        if (left - right < 6) touching.push(cells[i].innerText.trim() + '|' + cells[i + 1].innerText.trim());
      }
    }
    for (const td of t.querySelectorAll('td.num')) {
      const lines = new Set(rect(td).map((r) => Math.round(r.top)));
      if (lines.size > 1) broken.push(td.innerText);
    }
    return {caption: cap ? cap.innerText.trim() : null,
            captionRight: cap ? cap.getBoundingClientRect().right : 0, touching: touching.slice(0, 5),
            broken: broken.slice(0, 5), boxed: !!t.closest('div.plusdig-table')};
  });
}
"""


_SEARCH_JS = """
() => Array.from(document.querySelectorAll(
    '.search-button, .search-button-field, input[type=search], input[name=q]'))
  .filter((el) => { const r = el.getBoundingClientRect();
                    return el.checkVisibility({visibilityProperty: true, opacityProperty: true})
                      && r.width > 0 && r.height > 0 && r.right > 0 && r.left < window.innerWidth; })
  .map((el) => (el.matches('input') ? 'felt' : 'knap') + ':' + (el.name || el.className))
"""


#: Links whose text the theme cuts off at their box (overflow hidden): »Forrige«/»Næste«.
_CUT_JS = """
() => Array.from(document.querySelectorAll('.prev-next-area a'))
  .filter((a) => a.scrollWidth > a.clientWidth + 1).map((a) => a.innerText.trim())
"""


#: Glued values ({glue:text}) whose weight differs from their paragraph's (myst-nb sets them bold).
_GLUE_WEIGHT_JS = """
() => Array.from(document.querySelectorAll('main article span.pasted-text'))
  .filter((s) => getComputedStyle(s).fontWeight !== getComputedStyle(s.parentElement).fontWeight)
  .map((s) => s.innerText.trim().slice(0, 60))
"""


@pytest.fixture(scope="module")
def looked_at(module_offline_page: Any, built_site: Path,
              book_config: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    """Every page at both widths, each opened once per width: its scroll width, figures and
    tables, the outside requests and console errors while it loaded (with
    ``PLUSDIG_SCREENSHOTS=full``, a whole-page screenshot in ``_build/screenshots/layout/``).
    At 1400 px also what test_browser.py's page tests read from the same load: whether the
    title shows (a screenshot of each chapter page's window in ``_build/screenshots/``), then
    axe-core's serious or critical violations and what running axe added to the requests and
    errors."""
    assert AXE.is_file(), "axe-core missing: npm ci"
    offline = module_offline_page
    page = offline.page
    shots = built_site.parent / "screenshots"
    (shots / "layout" if FULL_SHOTS else shots).mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):  # only this run's screenshots count
        old.unlink()
    seen: dict[tuple[str, int], dict[str, Any]] = {}
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        docs = _pages(book_config)
        for doc in docs:
            n_req, n_err = len(offline.external_requests), len(offline.console_errors)
            # settled, not a fixed 500 ms of quiet, except the last page of a width: what a
            # page asks for after that is recorded in the next load's share
            offline.open(f"{doc}.html", settled=doc != docs[-1])
            # the page's markup searched in the page (page.content() would send all of it,
            # inline figures included, to this process for every load)
            if page.locator(".widget-subarea").count() == 0 and page.evaluate(
                    "() => document.documentElement.outerHTML.includes('widget-view')"):
                page.wait_for_selector(".widget-subarea", timeout=30_000)
                offline.wait_settled()  # the views' fonts and images
            record: dict[str, Any] = {
                "scroll": page.evaluate("document.documentElement.scrollWidth"),
                "viewport": page.evaluate("window.innerWidth"),
                "figures": page.evaluate(_FIGURES_JS),
                "tables": page.evaluate(_TABLES_JS),
                "search": page.evaluate(_SEARCH_JS),
                "cut": page.evaluate(_CUT_JS),
                "glue_weight": page.evaluate(_GLUE_WEIGHT_JS),
                "glued": page.locator("main article span.pasted-text").count(),
            }
            name = doc.replace("/", "__")
            if FULL_SHOTS:
                page.screenshot(path=str(shots / "layout" / f"{name}-{width}.png"), full_page=True)
            if width == LAPTOP:
                if doc != "search":
                    record["title_shown"] = page.locator("main article h1").first.is_visible()
                    page.screenshot(path=str(shots / f"{name}.png"))  # the window: the title
            record["requests"] = offline.external_requests[n_req:]
            record["errors"] = offline.console_errors[n_err:]
            if width == LAPTOP:
                page.add_script_tag(url=f"{offline.base_url}{AXE_URL}")  # served, cached
                result = page.evaluate(
                    "async () => await axe.run(document, {resultTypes: ['violations']})")
                record["violations"] = [
                    f"{v['id']} ({v['impact']}): {len(v['nodes'])} x {v['nodes'][0]['target']}"
                    for v in result["violations"] if v.get("impact") in ("serious", "critical")]
                record["axe_requests"] = offline.external_requests[n_req + len(record["requests"]):]
                record["axe_errors"] = offline.console_errors[n_err + len(record["errors"]):]
            seen[(doc, width)] = record
    return seen


@pytest.fixture(scope="module")
def visited(looked_at: dict[tuple[str, int], dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The pages as loaded at 1400 px (title, requests, errors, axe), by docname."""
    return {doc: v for (doc, width), v in looked_at.items() if width == LAPTOP}


def test_every_chapter_page_renders_offline(visited: dict[str, dict[str, Any]], built_site: Path,
                                            book_config: dict[str, Any]) -> None:
    shots = built_site.parent / "screenshots"
    for doc in _chapter_pages(book_config):
        assert visited[doc]["title_shown"], doc
        assert visited[doc]["requests"] == [], f"{doc}: requests to other hosts"
        assert visited[doc]["errors"] == [], f"{doc}: console errors"
    assert sorted(p.name for p in shots.glob("*.png")) == sorted(  # this run's, one per page
        f"{doc.replace('/', '__')}.png" for doc in _chapter_pages(book_config))


def test_no_serious_accessibility_violations(visited: dict[str, dict[str, Any]],
                                             book_config: dict[str, Any]) -> None:
    assert AXE.is_file(), "axe-core missing: npm ci"
    assert list(visited) == [*_chapter_pages(book_config), "search"]
    problems = {doc: r["violations"] for doc, r in visited.items() if r["violations"]}
    assert problems == {}
    for doc, r in visited.items():  # the search page's load, and axe's own runs, clean too
        assert r["requests"] + r["axe_requests"] == [], f"{doc} (axe): requests to other hosts"
        assert r["errors"] + r["axe_errors"] == [], f"{doc} (axe): console errors"


def test_every_page_loads_offline_on_a_phone_too(looked_at: dict) -> None:
    """The 390 px loads ask no other host and log no console error either."""
    dirty = {doc: v["requests"] + v["errors"] for (doc, width), v in looked_at.items()
             if width != LAPTOP and v["requests"] + v["errors"]}
    assert dirty == {}


def test_glued_text_reads_as_the_sentence_around_it(looked_at: dict) -> None:
    """A value or sentence glued from data has the weight of its paragraph, as in the PDF (bold
    glued sentences made the methods appendix a wall of bold text)."""
    assert sum(seen["glued"] for seen in looked_at.values()) > 100  # the probe sees the glue
    bold = {doc: seen["glue_weight"] for (doc, _w), seen in looked_at.items() if seen["glue_weight"]}
    assert not bold, bold


def test_no_page_scrolls_sideways_on_a_phone(looked_at: dict) -> None:
    wide = {doc: f"{v['scroll']} px in a {v['viewport']} px window"
            for (doc, width), v in looked_at.items() if v["scroll"] > v["viewport"] + 1}
    assert wide == {}


def _shown_pt(f: dict[str, Any]) -> float:
    """The figure's smallest text in pt as shown (CSS px: 96 to the inch)."""
    return f["minFont"] * f["shown"] / (f["widthPt"] * 96 / 72)


def test_previous_and_next_links_are_not_cut_off(looked_at: dict) -> None:
    cut = {f"{doc} @{width}": v["cut"] for (doc, width), v in looked_at.items() if v["cut"]}
    assert cut == {}


def test_one_search_entry_per_page(looked_at: dict) -> None:
    """One visible search field or button on every page at both widths: on the search page
    its own field only (no icon in the header)."""
    wrong = {f"{doc} @{width}": v["search"] for (doc, width), v in looked_at.items()
             if len(v["search"]) != 1}
    assert wrong == {}
    for width in WIDTHS:
        assert looked_at[("search", width)]["search"][0].startswith("felt:"), width


def test_figures_are_legible_on_a_phone(looked_at: dict) -> None:
    """At 390 px a figure is never shown smaller than drawn (smallest text >= 9 pt): it scrolls
    in its own box (the page does not, see above) and says so above it."""
    figures = [(doc, f) for (doc, width), v in looked_at.items() if width == 390
               for f in v["figures"]]  # the sector explorer's views too
    assert any(f["widget"] for _, f in figures)
    assert len(figures) >= 15, "too few figures found: the test looks in the wrong place"
    problems = []
    for doc, f in figures:
        if f["minFont"] is None or not f["widthPt"]:
            problems.append(f"{doc}: {f['src']}: no text sizes found in the SVG")
            continue
        if _shown_pt(f) < MIN_PT - 0.05:
            problems.append(f"{doc}: {f['src']}: smallest text {_shown_pt(f):.1f} pt at 390 px")
        if f["scrolls"] and not (f["hint"] or "").startswith("Rul sidelæns"):
            problems.append(f"{doc}: {f['src']}: scrolls without a hint")
    assert problems == []
    assert any(f["scrolls"] for _, f in figures)  # the phone's column is narrower than 6.5 in
    laptop = [f for (_, width), v in looked_at.items() if width == 1400 for f in v["figures"]]
    assert not any(f["scrolls"] or f["hint"] for f in laptop)  # no hint where all is in view


def test_figures_are_svg_open_large_and_legible_on_a_laptop(looked_at: dict) -> None:
    figures = [(doc, f) for (doc, width), v in looked_at.items() if width == 1400 for f in v["figures"]]
    assert len(figures) >= 15, "too few figures found: the test looks in the wrong place"
    problems = []
    for doc, f in figures:
        if not f["svg"]:
            problems.append(f"{doc}: {f['src']} is not SVG")
            continue
        if not f["widget"] and not f["link"]:
            problems.append(f"{doc}: {f['src']} does not open large")
        if f["minFont"] is None or not f["widthPt"]:
            problems.append(f"{doc}: {f['src']}: no text sizes found in the SVG")
            continue
        shown_pt = _shown_pt(f)
        if shown_pt < MIN_PT - 0.05:
            problems.append(f"{doc}: {f['src']}: smallest text {shown_pt:.1f} pt as shown "
                            f"({f['minFont']:.1f} pt in a {f['widthPt']:.0f} pt wide figure shown "
                            f"{f['shown']:.0f} px wide)")
    assert problems == []


def test_tables_are_numbered_boxed_and_readable(looked_at: dict, book_config: dict) -> None:
    numbered = re.compile(r"^Tabel (\d+\.)*\d+\b")
    problems = []
    count = 0
    for (doc, width), v in looked_at.items():
        for t in v["tables"]:
            if width == 1400 and t["caption"] is not None:
                count += 1
                if not numbered.match(t["caption"]):
                    problems.append(f"{doc}: caption not numbered: {t['caption'][:60]!r}")
                if not t["boxed"]:
                    problems.append(f"{doc}: table not in its scroll box: {t['caption'][:60]!r}")
            if t["caption"] is not None and t["captionRight"] > v["viewport"] + 1:
                problems.append(f"{doc} @{width}: caption runs off the screen: {t['caption'][:40]!r}")
            if t["touching"]:
                problems.append(f"{doc} @{width}: columns touch: {t['touching']}")
            if t["broken"]:
                problems.append(f"{doc} @{width}: number broken over lines: {t['broken']}")
    assert count >= 10, "too few captioned tables found"
    assert problems == []


@pytest.mark.parametrize("width", WIDTHS)
def test_a_figure_opens_large_and_closes(offline_page: Any, book_config: dict[str, Any],
                                         width: int) -> None:
    """On a laptop the figure opens wider than the column; on a phone wider than the screen
    (the reader pans), at least its drawn width (624 px for 6.5 in), so no text below 9 pt."""
    doc = next(d for d in book_config["chapters"] if d.endswith("aktiviteterne"))
    offline_page.page.set_viewport_size({"width": width, "height": 900})
    page = offline_page.open(f"{doc}.html")
    link = page.locator("main article figure a.image-reference").first
    link.scroll_into_view_if_needed()
    shown = link.locator("img").bounding_box()["width"]
    link.click()
    big = page.locator("dialog.plusdig-figure-dialog img")
    big.wait_for(state="visible")
    assert big.bounding_box()["width"] > shown * 1.2
    assert big.bounding_box()["width"] >= 624
    page.keyboard.press("Escape")
    page.wait_for_selector("dialog.plusdig-figure-dialog", state="detached")
    assert offline_page.console_errors == []
