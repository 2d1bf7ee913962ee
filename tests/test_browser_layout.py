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
- screenshots of every page at both widths are saved in ``_build/screenshots/layout/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

MIN_PT = 9.0
WIDTHS = (1400, 390)


def _pages(book_config: dict[str, Any]) -> list[str]:
    return [book_config["root"], *book_config["chapters"], "search"]


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
def looked_at(browser: Any, site_url: str, built_site: Path,
              book_config: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    """Every page at both widths: its scroll width, figures and tables (screenshots saved)."""
    shots = built_site.parent / "screenshots" / "layout"
    shots.mkdir(parents=True, exist_ok=True)
    seen: dict[tuple[str, int], dict[str, Any]] = {}
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="da-DK",
                                      service_workers="block")
        page = context.new_page()
        for doc in _pages(book_config):
            page.goto(f"{site_url}/{doc}.html", wait_until="networkidle")
            if page.locator(".widget-subarea").count() == 0 and "widget-view" in page.content():
                page.wait_for_selector(".widget-subarea", timeout=30_000)
            seen[(doc, width)] = {
                "scroll": page.evaluate("document.documentElement.scrollWidth"),
                "viewport": page.evaluate("window.innerWidth"),
                "figures": page.evaluate(_FIGURES_JS),
                "tables": page.evaluate(_TABLES_JS),
                "search": page.evaluate(_SEARCH_JS),
                "cut": page.evaluate(_CUT_JS),
                "glue_weight": page.evaluate(_GLUE_WEIGHT_JS),
                "glued": page.locator("main article span.pasted-text").count(),
            }
            page.screenshot(path=str(shots / f"{doc.replace('/', '__')}-{width}.png"), full_page=True)
        context.close()
    return seen


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
