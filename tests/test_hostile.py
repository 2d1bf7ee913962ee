"""Nothing from data runs as code (issue 11): hostile strings in every text field.

Unit tests check each route a data string takes (pandas Styler tables, widget views, the annex's
MyST, the theme's print title, LaTeX, control characters). The build test builds a reduced book
(the activity chapter, both survey chapters and the annex) on a temporary copy whose data files
and survey delivery carry the payloads of ``tests/fixtures/hostile``, serves it on 127.0.0.1
and opens every page in Debian's Chromium: no injected script runs (``__hx`` is never called,
no dialog opens, no request for the injected image) and every payload is visible text.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
import urllib.parse
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from bs4 import BeautifulSoup
from buildkit import REPO, make_copy, run_build
from conftest import record_other_hosts, track_requests, wait_settled
from fixtures import survey_fixtures as sf
from fixtures.hostile import payload, write_hostile_data

from plusdig.sphinx import annex_context
from plusdig.sphinx import annex_overview
from plusdig import DataValidationError
from plusdig.sphinx import site
from plusdig.present import tables
from plusdig.present import widgets
from plusdig.data.load import load_activities, load_actors, load_first_year

HOSTILE = payload("HU1")


def norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def no_markup(fragment: str) -> BeautifulSoup:
    """Parse ``fragment``; assert it holds no element the payload would have created."""
    soup = BeautifulSoup(fragment, "html.parser")
    assert not soup.find_all(["script", "svg"]), fragment[:300]
    assert not soup.find_all(attrs={"onerror": True}), fragment[:300]
    assert not soup.find_all("img", src="x")
    return soup


# ----------------------------------------------------------------------------- routes
def test_tables_escape_cells_headers_and_caption() -> None:
    frame = pd.DataFrame({"name": [HOSTILE, "Skole B"], "n": [1234, 5]})
    out = tables.styled(frame, {"name": HOSTILE, "n": "Antal"}, caption=HOSTILE).to_html()
    soup = no_markup(out)
    assert norm(soup.find("caption").get_text()) == norm(HOSTILE)
    assert [norm(th.get_text()) for th in soup.select("thead th")] == [norm(HOSTILE), "Antal"]
    cells = [norm(td.get_text()) for td in soup.select("tbody td")]
    assert cells == [norm(HOSTILE), "1.234", "Skole B", "5"]


def test_annex_overview_escapes_and_keeps_its_links() -> None:
    frame = pd.DataFrame([{"id": 1, "title": HOSTILE, "period": HOSTILE, "target_groups": HOSTILE,
                           "reach": HOSTILE, "partners": HOSTILE, "outcome": HOSTILE,
                           "docname": "book/annex/generated/aktivitet-01"}])
    soup = no_markup(annex_overview.overview_styler(frame).to_html())
    link = soup.select_one("td a")
    assert link["href"] == "generated/aktivitet-01.html" and norm(link.get_text()) == norm(HOSTILE)
    assert [norm(td.get_text()) for td in soup.select("tbody td")][1:] == [norm(HOSTILE)] * 6


def test_widget_views_escape_names_and_alt_texts() -> None:
    from plusdig.present.style import use_house_style

    use_house_style()  # as every chapter does: the figure prints "$" as it is
    partners = pd.DataFrame([{"activity_id": 1, "activity": HOSTILE, "actor_id": "a",
                              "actor": HOSTILE, "sector": "municipality"}])
    views = widgets.sector_views(partners, {1: HOSTILE}, {"municipality": HOSTILE})
    assert list(views) == [HOSTILE]
    soup = no_markup(views[HOSTILE])
    assert norm(HOSTILE) in norm(soup.get_text())
    assert soup.find("img")["alt"].endswith(HOSTILE)  # the attribute holds the text itself


def test_print_title_is_escaped_once() -> None:
    context: dict[str, Any] = {"pagetitle": HOSTILE}
    site._escape_print_title(None, "p", "page.html", context, None)
    site._escape_print_title(None, "p", "page.html", context, None)  # a second handler run
    soup = no_markup(f"<h1>{context['pagetitle']}</h1>")
    assert soup.h1.get_text() == HOSTILE


def test_annex_page_renders_hostile_text_as_text() -> None:
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").render(annex_context.md_text(HOSTILE))
    assert norm(BeautifulSoup(html, "html.parser").get_text()) == norm(HOSTILE)
    no_markup(html)


# ----------------------------------------------------------------------------- control chars
CONTROL = "\x07"


def _with_control(data: Path, name: str) -> None:
    """Put a control character into one text field of data file ``name``."""
    path = data / name
    text = path.read_text(encoding="utf-8")
    if name == "activities.yaml":
        text = text.replace("title: Ungebussen", 'title: "Unge\\abussen"', 1)
    elif name == "actors.csv":
        text = text.replace(",+DIG-sekretariatet,", ",+DIG-sekre\x07tariatet,", 1)
    elif name == "first_year.yaml":
        text = text.replace("title: Udarbejdelse af vidensgrundlag",
                            'title: "Udarbejdelse af \\avidensgrundlag"', 1)
    assert CONTROL in text or "\\a" in text
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(("name", "load"), [
    ("activities.yaml", lambda d: load_activities(d)[0].title),
    ("actors.csv", lambda d: load_actors(d).set_index("id").loc["dig-sekretariatet", "name"]),
    ("first_year.yaml", lambda d: load_first_year(d).workstreams[0].title),
])
def test_a_control_character_is_refused_or_shown(tmp_path: Path, name: str, load: Any) -> None:
    """The loaders refuse a control character with a clear error naming the file; a value that
    gets through is printed with the character visible (``U+0007``) on every route."""
    from plusdig.present.style import use_house_style

    use_house_style()
    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data, ignore=shutil.ignore_patterns("private"))
    _with_control(data, name)
    try:
        value = load(data)
    except DataValidationError as exc:
        assert name in str(exc)
        return
    assert CONTROL in value  # accepted: never silently dropped ...
    assert "U+0007" in annex_context.md_text(value)  # ... and shown on the page and in tables
    assert "U+0007" in tables.html_styler(pd.DataFrame({"x": [value]}), caption=value).to_html()
    assert "U+0007" in widgets.sector_views(
        pd.DataFrame([{"activity_id": 1, "actor": value, "sector": "s"}]), {1: value},
        {"s": "S"})["S"]


# ----------------------------------------------------------------------------- the build
CHAPTERS = ["book/report/aktiviteterne", "book/report/trivselsmaalingen",
            "book/report/trivsel-dybden", "book/annex/index", "book/annex/oversigt"]
TOC = {"format": "jb-book", "root": "book/index", "chapters": [
    *({"file": c} for c in CHAPTERS),
    {"file": "book/annex/generated/det-foerste-aar"},
    {"glob": "book/annex/generated/aktivitet-*"},
]}
#: Vendored front-end files (widgets, RequireJS) from `make vendor`, if present.
VENDOR = REPO / "book" / "_vendor"


def _hostile_delivery(path: Path) -> list[str]:
    """A valid survey delivery whose schools all have hostile names; returns the names."""
    from fixtures.hostile import hostile_schools

    frame = sf.text_frame(0.25, 11)
    schools = sorted(frame["school"].unique())
    names = dict(zip(schools, hostile_schools(len(schools)), strict=True))
    frame["school"] = frame["school"].map(names)
    sf.write_csv(frame, path)
    return list(names.values())


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], list[str]]:
    """The reduced book built on hostile data and a hostile delivery: (html dir, data payloads,
    school names)."""
    tmp = tmp_path_factory.mktemp("hostile")
    copy = make_copy(tmp / "repo", CHAPTERS)
    for folder in ("book/_templates", "locales"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, copy / folder)
    shutil.rmtree(copy / "data")
    payloads = write_hostile_data(REPO / "data", copy / "data")
    schools = _hostile_delivery(tmp / "delivery.csv")
    cfg = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    config = cfg["sphinx"]["config"]
    if VENDOR.is_dir():  # the widgets render in the browser from the vendored manager
        config["html_static_path"] = [str(VENDOR)]
    else:
        for key in ("html_static_path", "nb_ipywidgets_js", "mathjax_path"):
            config.pop(key, None)
    (copy / "_config.yml").write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False),
                                      encoding="utf-8")  # script order matters
    (copy / "_toc.yml").write_text(yaml.safe_dump(TOC, sort_keys=False), encoding="utf-8")
    out = tmp / "out"
    # without -n -W: the chapters cross-reference chapters this reduced book leaves out
    code, log = run_build(copy, out, strict=False,
                          env={"PLUSDIG_SURVEY": str(tmp / "delivery.csv")}, timeout=1200)
    assert code == 0, log[-5000:]
    assert "Traceback" not in log and "ParseFatalException" not in log, log[-5000:]
    return out / "_build" / "html", payloads, schools


def _pages(html: Path) -> list[str]:
    docs = [c for c in CHAPTERS] + ["book/annex/generated/det-foerste-aar"]
    docs += sorted(p.relative_to(html).with_suffix("").as_posix()
                   for p in (html / annex_context.GENERATED_DIR).glob(f"{annex_context.PAGE_PREFIX}*.html"))
    return [f"{d}.html" for d in docs]


def test_the_hostile_build_has_every_page(hostile_site) -> None:
    html, payloads, schools = hostile_site
    pages = _pages(html)
    assert len(pages) == len(CHAPTERS) + 1 + 13
    for rel in pages:
        assert (html / rel).is_file(), rel
    assert len(payloads) > 200 and len(schools) >= 5


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.mark.browser
def test_no_script_from_data_runs_and_every_string_is_text(hostile_site, browser) -> None:
    html, payloads, schools = hostile_site
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  service_workers="block")
    # an injected script would call __hx (defined here before any page script runs)
    context.add_init_script("window.__hits = []; window.__hx = (t) => window.__hits.push(t);")
    dialogs: list[str] = []
    requests: list[str] = []
    errors: list[str] = []
    record_other_hosts(context, base, requests)  # the browser sends them nowhere
    in_flight = track_requests(context)
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: r.url.rstrip("/").endswith("/x") and requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    texts: dict[str, str] = {}
    try:
        for rel in _pages(html):
            page.goto(f"{base}/{rel}", wait_until="load")
            wait_settled(page, in_flight)
            views = page.locator("script[type*='widget-view']").count()
            if views:  # the widget manager renders the saved views: each in its output area
                page.wait_for_function(
                    f"document.querySelectorAll('.widget-subarea').length >= {views}",
                    timeout=30_000)
                wait_settled(page, in_flight)
            hits = page.evaluate("window.__hits")
            assert hits == [] and dialogs == [], f"{rel}: injected script ran: {hits} {dialogs}"
            assert requests == [] and errors == [], f"{rel}: {requests} {errors}"
            # the theme's print header holds the title as text (no element inside it)
            printed = page.evaluate("""() => {
                const h = document.querySelector('#jb-print-docs-body h1');
                return h ? [h.children.length, h.textContent] : null; }""")
            assert printed is not None and printed[0] == 0, rel
            title = page.locator("main article h1").first.text_content()
            assert norm(printed[1]) in norm(title), rel
            # every element's text, hidden widget views and the print header included
            texts[rel] = norm(page.evaluate("""() => { const c = document.body.cloneNode(true);
                c.querySelectorAll('script, style').forEach((e) => e.remove());
                return c.textContent; }"""))
        # the search page lists the page and section titles a query matches (Sphinx inserts
        # them as HTML): a page title; a section title matched by the whole heading (escaped
        # in the index, it is found through its page: "Det første år")
        heading = load_first_year(html.parents[2] / "repo" / "data").workstreams[0].title
        for query, expected in ((payloads[0][:5], payloads[0]), (heading, "Det første år")):
            page.goto(f"{base}/search.html?q={urllib.parse.quote(query)}",
                      wait_until="networkidle")
            page.wait_for_selector("#search-results ul.search li a", timeout=20_000)
            found = page.locator("#search-results ul.search li a").all_text_contents()
            assert page.evaluate("window.__hits") == [] and dialogs == [], "search: script ran"
            assert any(norm(expected) in norm(t) for t in found), (query[:5], found)
            assert requests == [] and errors == [], f"search: {requests} {errors}"
    finally:
        context.close()
        server.shutdown()
        server.server_close()
    # in full, as written or with the book's one quotation-mark style applied (plusdig.sphinx.
    # reader: only the marks change, in the evaluators' text; Part II keeps the annex's marks)
    from plusdig.sphinx.reader import danish_quotes

    by_tag = {p[:5]: (norm(p), norm(danish_quotes(p))) for p in payloads + schools}
    shown = " ".join(texts.values())
    unseen = [t for t, forms in by_tag.items() if not any(f in shown for f in forms)]
    assert unseen == [], f"not shown as text anywhere: {unseen}"
    for rel, text in texts.items():  # where a payload's tag is, the whole payload is, unchanged
        mangled = {t for t in re.findall(r"H[XS]\d{3}", text)
                   if not any(f in text for f in by_tag[t])}
        assert not mangled, f"{rel}: not shown as written: {sorted(mangled)[:10]}"


# ----------------------------------------------------------------------------- downloads
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def test_a_download_holds_hostile_text_as_inert_text(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from plusdig.publish import downloads

    texts = [HOSTILE, "=" + HOSTILE, "@" + HOSTILE, "\r" + HOSTILE, "x" + CONTROL]
    sheet = downloads.sheet_from_cells("Tabel 1.1", HOSTILE, [HOSTILE, "Antal"],
                                       [[t, "1.234"] for t in texts])
    downloads.write_csv(sheet, tmp_path / "h.csv")
    downloads.write_xlsx(sheet, tmp_path / "h.xlsx")
    back = downloads.read_csv(tmp_path / "h.csv")
    assert back.iloc[:, 0].tolist() == [HOSTILE, "'=" + HOSTILE, "'@" + HOSTILE, "'\r" + HOSTILE,
                                        "xU+0007"]
    wb = load_workbook(tmp_path / "h.xlsx")
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    assert cells and not [c for c in cells if c.data_type == "f"]
    assert not [c for c in cells if isinstance(c.value, str) and c.value.startswith(_FORMULA)]


def test_the_hostile_builds_downloads_are_inert(hostile_site) -> None:
    import xml.etree.ElementTree as ET

    from openpyxl import load_workbook

    from plusdig.publish import downloads

    html, payloads, schools = hostile_site
    folder = html / "downloads"
    csvs, xlsxs, svgs = (sorted(folder.glob(f"*.{x}")) for x in ("csv", "xlsx", "svg"))
    assert len(csvs) >= 20 and len(xlsxs) == len(csvs) and len(svgs) >= 10
    seen = ""
    for path in csvs:
        frame = downloads.read_csv(path)
        for text in [*frame.columns, *frame.to_numpy().ravel().tolist()]:
            if re.fullmatch(r"-?\d+(\.\d+)?", str(text)):
                continue  # a number the page prints (−8,3), written as a number
            assert not str(text).startswith(_FORMULA), (path.name, text)
            seen += str(text)
    assert re.search(r"H[A-Z]\d{3}<SCRIPT>", seen)  # the payloads are there, as text
    assert any(s in seen for s in schools)          # and so are the hostile school names
    for path in xlsxs:
        for ws in load_workbook(path):
            for row in ws.iter_rows():
                for c in row:
                    assert c.data_type != "f", (path.name, c.coordinate)
                    assert not (isinstance(c.value, str) and c.value.startswith(_FORMULA))
    for path in svgs:
        root = ET.parse(path).getroot()
        for el in root.iter():
            assert not el.tag.endswith(("script", "foreignObject")), path.name
            assert not any(a.lower().startswith("on") for a in el.attrib), path.name
