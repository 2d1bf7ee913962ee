"""The methods appendix on a delivery whose last year is too small for any secondary
comparison (tests/fixtures/disclosure_fixtures.py's ``small_groups_frame``: its last year has
three pupils, fewer than the threshold k).

The survey chapter and the methods appendix are built with the site's configuration (downloads
and the disclosure audit) with ``PLUSDIG_SURVEY`` set to that delivery, once per test session
for this file and tests/test_survey_leak.py (tests/survey_builds.py). The test asserts that

* the build succeeds (``-n -W``: without a warning) and the audit (plusdig.sphinx.audit) runs to
  its end and finds no leak (it crashed on an empty download before),
* Tabel 3 ("Sekundære sammenligninger …") is not an empty grid: one row per secondary question,
  every estimate, p, q and verdict the suppression marker «–», and the page says in Danish
  that no secondary comparison can be shown because the groups are smaller than k,
* its CSV download holds the same rows, every value «–» too.

Unit tests: the audit reads a download with a header and no rows, or no header at all, as
publishing nothing; a download it cannot read is an error naming the file.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import survey_builds
from bs4 import BeautifulSoup
from survey_builds import APPENDIX, K

from plusdig.sphinx import audit
from plusdig.survey.disclosure import SUPPRESSED
from plusdig.survey.methods import SECONDARY

#: The start of the secondary table's caption.
TITLE = "Sekundære sammenligninger"


@pytest.fixture(scope="module")
def small_build(tmp_path_factory):
    """(the site, the build's log): built once per session with -n -W and shared with the leak
    tests (tests/survey_builds.py; the build asserts it succeeded without a warning and the
    audit found no leak)."""
    out, log, _ids = survey_builds.small_groups_build(tmp_path_factory)
    return out / "_build" / "html", log


def _secondary(html_dir: Path) -> tuple[BeautifulSoup, object]:
    page = html_dir / f"{APPENDIX}.html"
    assert page.is_file()
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    tables = [t for t in soup.find_all("table")
              if t.caption is not None and TITLE in t.caption.get_text()]
    assert len(tables) == 1, [t.caption.get_text() for t in soup.find_all("table") if t.caption]
    return soup, tables[0]


def test_build_and_audit_succeed(small_build):
    _, log = small_build
    assert "build succeeded" in log, log[-5000:]
    assert "Traceback" not in log, log[-5000:]
    assert "No columns to parse" not in log, log[-5000:]
    assert "0 kan regnes ud" in log, log[-3000:]  # the audit ran to its end: no leak


def test_secondary_table_marks_every_comparison_suppressed(small_build):
    html_dir, _log = small_build
    soup, table = _secondary(html_dir)
    rows = [[c.get_text(" ", strip=True) for c in tr.find_all(["td", "th"])]
            for tr in table.tbody.find_all("tr")]
    assert len(rows) == len(SECONDARY)
    labels = {label for label, _levels, _key in SECONDARY.values()}
    for row in rows:
        assert any(label in row for label in labels), row
        assert row[-4:] == [SUPPRESSED] * 4, row  # estimate, p, q, verdict
    assert "undertrykt" in table.caption.get_text()  # the book's footnote for «–»
    text = " ".join(soup.get_text(" ").split())
    assert "Ingen sekundær sammenligning kan vises" in text
    assert f"færre end {K} besvarelser" in text
    # no "0 differences are tested" before it: the number a large enough delivery tests
    assert f"Når grupperne er store nok, testes {len(SECONDARY)} forskelle" in text
    assert "Der testes 0" not in text


def test_secondary_download_follows_the_table(small_build):
    html_dir, _log = small_build
    page = html_dir / f"{APPENDIX}.html"
    found = []
    for a in BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").find_all("a"):
        href = a.get("href", "")
        if href.endswith(".csv"):
            text = (page.parent / href).read_text(encoding="utf-8-sig")
            if TITLE in text.split("\n", 1)[0]:
                found.append(text)
    assert len(found) == 1
    body = "\n".join(line for line in found[0].splitlines() if not line.startswith("# "))
    rows = list(csv.reader(io.StringIO(body)))
    assert len(rows) == 1 + len(SECONDARY), found[0]  # the header and one row per question
    for row in rows[1:]:
        assert row[-4:] == [SUPPRESSED] * 4, row


def _audit_download(folder: Path, name: str, content: bytes) -> list[str]:
    """What the audit finds in a page that links one download ``name`` holding ``content``."""
    from plusdig.sphinx.sitedownloads import DOWNLOAD_DIR

    (folder / DOWNLOAD_DIR).mkdir()
    (folder / DOWNLOAD_DIR / name).write_bytes(content)
    page = folder / "page.html"
    html = f'<html><body><a href="{DOWNLOAD_DIR}/{name}">Data</a></body></html>'
    page.write_text(html, encoding="utf-8")
    return audit.check_downloads(page, html)


@pytest.mark.parametrize("content", ["# Tabel uden rækker\r\n",
                                     "# Tabel uden rækker\r\nA,B\r\n", ""])
def test_audit_reads_a_download_without_rows(tmp_path, content):
    assert _audit_download(tmp_path, "tom.csv", content.encode("utf-8")) == []


def test_audit_still_checks_a_download_with_rows(tmp_path):
    problems = _audit_download(tmp_path, "en.csv", b"# Tabel\r\nA,B\r\n1,2\r\n")
    assert len(problems) == 1 and "en.csv" in problems[0], problems


def test_audit_names_an_unreadable_download(tmp_path):
    problems = _audit_download(tmp_path, "brudt.xlsx", b"not a workbook")
    assert len(problems) == 1 and "brudt.xlsx" in problems[0], problems
