"""The built site in a real browser: Debian's Chromium driven by Playwright, served on
127.0.0.1, every request to another host blocked and recorded (fixtures in conftest.py).

- every interactive widget renders from its saved state, and choosing another option
  changes the visible view;
- the site search finds the activity page for "Læseheste".

Every page's own checks (it renders offline, its title shows, a screenshot of it is saved in
``_build/screenshots/``, axe-core finds no serious or critical violation) are in
test_browser_layout.py, which opens every page once per width for all of them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

pytestmark = pytest.mark.browser


def _widget_pages(built_site: Path) -> dict[str, int]:
    """Built pages with widget views, and how many each has."""
    found = {}
    for page in sorted(built_site.rglob("*.html")):
        n = page.read_text(encoding="utf-8").count(f'type="{WIDGET_VIEW}"')
        if n:
            found[page.relative_to(built_site).as_posix()] = n
    return found


def _notebooks_with_widgets(book_config: dict[str, Any]) -> list[str]:
    """Chapters whose notebook displays a ``plusdig.present.widgets`` explorer."""
    import nbformat

    chapters = []
    for chapter in book_config["chapters"]:
        path = REPO / f"{chapter}.ipynb"
        if not path.is_file():
            continue
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        if re.search(r"\bwidgets\.show\(|from plusdig\.present\.widgets import|import plusdig\.present\.widgets",
                     code):
            chapters.append(chapter)
    return chapters


def _assert_clean(offline: Any, where: str) -> None:
    assert offline.external_requests == [], f"{where}: requests to other hosts"
    assert offline.console_errors == [], f"{where}: console errors"


# ----------------------------------------------------------------------------- widgets
def test_widget_state_is_saved_with_the_pages(built_site: Path,
                                              book_config: dict[str, Any]) -> None:
    """Chapters that display an explorer have widget views with their saved state."""
    pages = _widget_pages(built_site)
    for chapter in _notebooks_with_widgets(book_config):
        assert f"{chapter}.html" in pages, f"{chapter}: explorer not rendered as a widget"
    for rel in pages:
        html = (built_site / rel).read_text(encoding="utf-8")
        assert f'type="{WIDGET_STATE}"' in html, f"{rel}: widget view without saved state"
        assert "_static/html-manager/embed-amd.js" in html, rel


_VISIBLE_VIEW_JS = """
(root) => {
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const imgs = Array.from(root.querySelectorAll('img')).filter(visible)
    .map((i) => (i.getAttribute('alt') || '') + '|' + (i.getAttribute('src') || '').slice(-80));
  const controls = root.querySelectorAll('select, .widget-toggle-button, .widget-dropdown');
  let text = root.innerText;
  return JSON.stringify({text: text, imgs: imgs});
}
"""


def _view(subarea: Any) -> str:
    return subarea.evaluate(_VISIBLE_VIEW_JS)


def test_every_widget_renders_and_responds(offline_page: Any, built_site: Path,
                                           book_config: dict[str, Any]) -> None:
    pages = _widget_pages(built_site)
    if _notebooks_with_widgets(book_config):
        assert pages, "the book has explorers, but no page has a widget"
    exercised = 0
    for rel, n_views in pages.items():
        page = offline_page.open(rel)
        subareas = page.locator(".widget-subarea")
        page.wait_for_function(
            f"document.querySelectorAll('.widget-subarea').length >= {n_views}", timeout=30_000
        )
        for i in range(subareas.count()):
            area = subareas.nth(i)
            area.scroll_into_view_if_needed()
            selects = area.locator("select")
            toggles = area.locator(".widget-toggle-buttons button")
            assert selects.count() + toggles.count() > 0, f"{rel}: widget {i} has no control"
            for j in range(selects.count()):
                select = selects.nth(j)
                options = select.locator("option")
                assert options.count() >= 2, f"{rel}: a dropdown with one option"
                current = select.evaluate("s => s.selectedIndex")
                for k in range(options.count()):
                    if k == current:
                        continue
                    before = _view(area)
                    select.select_option(index=k)
                    _wait_changed(page, area, before, f"{rel}: widget {i}, option {k}")
                    exercised += 1
            for j in range(toggles.count()):
                button = toggles.nth(j)
                if "mod-active" in (button.get_attribute("class") or ""):
                    continue
                before = _view(area)
                button.click()
                _wait_changed(page, area, before, f"{rel}: widget {i}, button {j}")
                exercised += 1
        _assert_clean(offline_page, rel)
    if pages:
        assert exercised > 0


def _wait_changed(page: Any, area: Any, before: str, where: str) -> None:
    for _ in range(50):
        if _view(area) != before:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{where}: the visible view did not change")


# ----------------------------------------------------------------------------- search
def test_search_finds_the_activity_page(offline_page: Any, book_config: dict[str, Any],
                                        chapter_titles: dict[str, str]) -> None:
    import plusdig

    word = "Læseheste"
    activity = next(a for a in plusdig.load_activities() if word in a.title)
    expected = [c for c, t in chapter_titles.items() if activity.title in t]
    assert expected, f"no page titled {activity.title!r}"
    page = offline_page.open(f"{book_config['root']}.html")
    # the theme's search field (opened with its button, as a reader would)
    page.locator(".search-button-field, .search-button").first.click()
    field = page.locator("form.bd-search input[name='q']:visible").first
    field.fill(word)
    field.press("Enter")
    page.wait_for_url(re.compile(r"search\.html"))
    page.wait_for_selector("#search-results ul.search li a", timeout=20_000)
    hrefs = page.locator("#search-results ul.search li a").evaluate_all(
        "links => links.map(a => a.href)")
    assert any(h.split("?")[0].split("#")[0].endswith(f"{expected[0]}.html") for h in hrefs), hrefs
    _assert_clean(offline_page, "search")


# ----------------------------------------------------------------------------- PDF status
def test_pdf_notice_and_download_link_follow_the_pdf(offline_page: Any,
                                                     book_config: dict[str, Any]) -> None:
    """A chapter page with each of the PDF status stylesheets (plusdig.sphinx.pdfstatus, served
    in place of the site's own): current, no notice and the PDF in the download menu; older,
    the notice says so and the link stays; missing, the notice says there is no PDF and
    neither the link nor the menu it was the only entry of shows, while a menu with another
    entry would keep that one."""
    from plusdig.sphinx import pdfstatus

    state = {"css": ""}
    page = offline_page.page
    page.route(f"**/_static/{pdfstatus.STATUS_CSS}*", lambda route: route.fulfill(
        status=200, content_type="text/css", body=state["css"]))
    notice, link = f".{pdfstatus.NOTICE_CLASS}", f".{pdfstatus.PDF_BUTTON}"
    menu = f".{pdfstatus.DOWNLOAD_MENU}"
    seen = {}
    for name in pdfstatus.STATES:
        state["css"] = pdfstatus.status_css(name)
        offline_page.open(f"{book_config['chapters'][0]}.html", settled=True)
        assert page.locator(f"{menu} .dropdown-item").count() == 1  # the PDF, nothing else
        seen[name] = (page.locator(notice).is_visible(),
                      page.locator(f".{pdfstatus.OLDER_CLASS}").is_visible(),
                      page.locator(f".{pdfstatus.MISSING_CLASS}").is_visible(),
                      page.locator(f"{menu} > button").is_visible(),
                      page.locator(link).evaluate("a => getComputedStyle(a).display"))
    assert seen["current"][:4] == (False, False, False, True) and seen["current"][4] != "none"
    assert seen["older"][:4] == (True, True, False, True) and seen["older"][4] != "none"
    assert seen["missing"] == (True, False, True, False, "none")
    assert "ikke lavet en PDF-udgave" in page.locator(notice).inner_text()
    page.locator(f"{menu} ul").evaluate("""ul => ul.insertAdjacentHTML('beforeend',
        '<li><a class="btn btn-sm dropdown-item" href="#">Kilden</a></li>')""")
    assert page.locator(f"{menu} > button").is_visible()  # a menu with another entry stays
    assert page.locator(link).evaluate("a => getComputedStyle(a).display") == "none"
    _assert_clean(offline_page, "PDF status")
