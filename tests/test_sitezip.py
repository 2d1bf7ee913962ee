"""``make zip``: the built site as one archive that works unpacked, from ``file://``, no server.

The archive is made with the command ``make zip`` runs (``python -m plusdig.publish.sitezip``) from the
built site, unpacked into a temporary folder and opened in Chromium by ``file://`` URLs:
navigation between pages, the search, the widget explorer and the download links all work,
and no page reports a script error.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from plusdig.publish import sitezip

REPO = Path(__file__).resolve().parents[1]


def test_make_zip_runs_the_zip_command():
    dry = subprocess.run(["make", "-n", "zip"], cwd=REPO, capture_output=True, text=True, check=True)
    assert "-m plusdig.publish.sitezip --html _build/html --out _build" in dry.stdout


def test_zip_refuses_a_folder_without_a_site_and_a_bad_edition(tmp_path):
    with pytest.raises(FileNotFoundError, match="make book"):
        sitezip.make_zip(tmp_path, tmp_path / "out", "2026-12-01")
    with pytest.raises(ValueError, match="2027.1"):
        sitezip.make_zip(tmp_path, tmp_path / "out", "../x")
    dry = subprocess.run(["make", "-n", "zip", "EDITION=2027.1"], cwd=REPO, capture_output=True,
                         text=True, check=True)
    assert '--edition "2027.1"' in dry.stdout


@pytest.fixture(scope="module")
def unpacked(built_site, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zip")
    done = subprocess.run([sys.executable, "-m", "plusdig.publish.sitezip", "--html", str(built_site),
                           "--out", str(out), "--edition", "2026-12-01"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    archive = out / "plusdig-evaluering-2026-12-01.zip"
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        assert all(n.startswith("plusdig-evaluering-2026-12-01/") for n in names)
        assert not any(n.endswith((".plusdig-built", ".buildinfo")) for n in names)
        zf.extractall(out / "x")
    again = out / "again"
    subprocess.run([sys.executable, "-m", "plusdig.publish.sitezip", "--html", str(built_site), "--out",
                    str(again), "--edition", "2026-12-01"], check=True, capture_output=True)
    assert (again / archive.name).read_bytes() == archive.read_bytes()  # reproducible
    return out / "x" / "plusdig-evaluering-2026-12-01"


@pytest.fixture
def file_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    page = context.new_page()
    errors: list[str] = []
    external: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: r.url.startswith(("http:", "https:")) and external.append(r.url))
    yield page, errors, external
    context.close()


@pytest.mark.build
@pytest.mark.browser
def test_unpacked_site_works_from_file_urls(unpacked, file_page):
    page, errors, external = file_page
    index = unpacked / "index.html"
    page.goto(index.as_uri(), wait_until="load")
    # navigation: follow the sidebar to a chapter and back to the data page
    page.locator("nav a[href*='aktiviteterne']").first.click()
    page.wait_for_load_state("load")
    assert page.url.startswith("file://") and page.url.endswith("aktiviteterne.html")
    assert "Aktiviteterne samlet" in page.locator("h1").first.inner_text()
    # widgets: the explorer renders from its saved state and answers a choice
    select = page.locator(".widget-dropdown select").first
    select.wait_for(timeout=30000)
    options = select.locator("option").all_inner_texts()
    assert len(options) >= 2
    select.select_option(index=1)
    page.wait_for_timeout(300)
    assert options[1] in page.locator(".widget-stack, .jupyter-widgets").first.inner_text() or \
        page.locator(f"text={options[1]}").count() > 0
    # downloads: every link points at a file in the unpacked archive
    hrefs = page.eval_on_selector_all("a.plusdig-download", "els => els.map(a => a.href)")
    assert len(hrefs) >= 30
    for href in hrefs:
        path = Path(unquote(urlsplit(href).path))
        assert path.is_file() and unpacked in path.parents, href
    assert not errors, errors
    # search: the search page finds a word from the chapters. (Sphinx fetches each result's
    # page for a text snippet; browsers refuse fetch() on file://, so the results come
    # without snippets, and those refusals are the only errors allowed.)
    page.goto((unpacked / "search.html").as_uri() + "?q=Ungebussen", wait_until="load")
    results = page.locator("#search-results li")
    results.first.wait_for(timeout=30000)
    assert results.count() >= 1
    first = results.first.locator("a").first.get_attribute("href")
    assert first and not re.match(r"https?:", first)
    assert set(errors) <= {"Failed to fetch"}, errors
    assert not external, external
