"""Leak test: build the survey chapter on a fixture with small groups in every breakdown.

The chapter "Trivselsmålingen i dybden" is built with Jupyter Book into a temporary folder,
once with ``PLUSDIG_SURVEY`` pointing at a fixture delivery (with the methods appendix) and once
on the bundled synthetic data, both with the site's configuration (tests/survey_builds.py,
built once per test session: the fixture build for this file and
tests/test_survey_small_groups.py, the synthetic one for this file and
tests/test_survey_options_build.py). The fixture has greppable respondent ids,
a school ("Miniskolen") of three pupils and small groups in every other breakdown too
(tests/fixtures/disclosure_fixtures.py). The test asserts that

* the build succeeds with zero warnings (``-n -W``),
* no respondent id from the fixture appears anywhere in the build output (HTML, search index,
  executed notebooks in the Jupyter cache, images' metadata ...),
* the built HTML shows no count or share for the tiny school: every cell in its table rows is a
  suppression marker,
* the "Syntetiske data" label appears on every table and the admonition with synthetic data,
  and disappears with real data,
* the attacker audit (plusdig.sphinx.audit, a Sphinx extension) ran at the end of the build and found
  no suppressed number that the built HTML lets anyone work out; run again here on the built
  page as exact integer programmes, it finds none either,
* every table and figure of the chapter has its downloads (plusdig.sphinx.sitedownloads); none holds a
  value the page does not print (the tiny school's cells are «–» in them too), and the audit
  reads them: a download given one row more than the page fails it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import survey_builds
from bs4 import BeautifulSoup
from fixtures import survey_fixtures as sf
from survey_builds import CHAPTER

from plusdig.sphinx import audit
from plusdig.present.style import SYNTHETIC_LABEL

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.build


@pytest.fixture(scope="module")
def fixture_build(tmp_path_factory):
    """The chapter and the methods appendix on the fixture delivery, with the site's
    configuration and ``-n -W`` (built once for this file and
    tests/test_survey_small_groups.py: tests/survey_builds.py): (the output folder, the log,
    every respondent id of the delivery)."""
    return survey_builds.small_groups_build(tmp_path_factory)


@pytest.fixture(scope="module")
def synthetic_build(tmp_path_factory):
    """The chapter alone on the synthetic data, with the site's configuration (built once for
    this file and tests/test_survey_options_build.py: tests/survey_builds.py)."""
    return survey_builds.synthetic_build(tmp_path_factory)


def _chapter_html(out: Path) -> BeautifulSoup:
    page = out / "_build" / "html" / f"{CHAPTER}.html"
    assert page.is_file()
    return BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")


def test_no_respondent_id_anywhere_in_the_build(fixture_build):
    out, log, ids = fixture_build
    assert len(ids) > 500 and all(re.fullmatch(sf.ID_PATTERN, i) for i in ids)
    pattern = re.compile(sf.ID_PATTERN.encode())
    known = {i.encode() for i in ids}
    n_files = 0
    for path in out.rglob("*"):
        if path.is_file():
            n_files += 1
            # base64 image data (the figures' print PNGs) can hold the id pattern by chance:
            # a leak is one of the fixture's own ids
            hits = set(pattern.findall(path.read_bytes())) & known
            assert not hits, f"{len(hits)} respondent ids leaked into {path.relative_to(out)}"
    assert n_files > 10  # the build wrote HTML, images, the cache ...
    assert not pattern.search(log.encode())


def test_tiny_school_has_no_count_or_share(fixture_build):
    out, _, _ = fixture_build
    soup = _chapter_html(out)
    rows = [tr for tr in soup.find_all("tr") if sf.TINY_SCHOOL in tr.get_text()]
    assert rows, "the tiny school should appear (suppressed) in the school table"
    for tr in rows:
        cells = [td.get_text(strip=True) for td in tr.find_all(["td", "th"])]
        # a wide table's row has empty cells in the years the school has no pupils
        others = [c for c in cells if c not in {sf.TINY_SCHOOL, "2018", ""}]
        assert others and all(c in {"<5", "–"} for c in others), cells
    # nowhere else on the page: not in prose, captions or figure descriptions
    text = soup.get_text()
    assert text.count(sf.TINY_SCHOOL) == len(rows)


def test_real_data_build_has_no_synthetic_label(fixture_build):
    out, _, _ = fixture_build
    soup = _chapter_html(out)
    assert SYNTHETIC_LABEL not in soup.get_text()
    assert "Beregnet på de leverede besvarelser" in soup.get_text()
    assert soup.find("table") is not None


def test_synthetic_build_is_labelled(synthetic_build):
    out, _ = synthetic_build
    soup = _chapter_html(out)
    admonition = soup.find(class_="admonition")
    assert admonition is not None and SYNTHETIC_LABEL in admonition.get_text()
    # the admonition opens the chapter: it comes before any section text or table
    first_para = soup.find("section").find(["div", "p", "table"], recursive=True)
    assert first_para is not None and SYNTHETIC_LABEL in first_para.get_text()
    tables = soup.find_all("table")
    assert len(tables) >= 10
    for table in tables:
        caption = table.find("caption")
        assert caption is not None and SYNTHETIC_LABEL in caption.get_text(), caption
    assert len(soup.find_all("img")) >= 6  # every figure is drawn (label inside the image)
    assert "{glue" not in soup.get_text()


def test_the_audit_ran_and_found_no_leak(fixture_build, synthetic_build):
    for _out, log in ((fixture_build[0], fixture_build[1]), synthetic_build):
        lines = [line for line in log.splitlines() if "Revision af diskretioneringen" in line]
        assert lines, log[-3000:]
        assert ", 0 kan regnes ud" in lines[-1]


def test_the_built_page_leaks_nothing_as_exact_integer_programmes(fixture_build):
    out, _, _ = fixture_build
    report = audit.audit_site(out / "_build" / "html", 5, integral=True)
    assert report.leaks == [], [str(x) for x in report.leaks]
    assert report.cells > 200 and report.min_width >= 5
    # every hidden count on the page is a «–», never a "<5" that would say it is small
    soup = _chapter_html(out)
    cells = [td.get_text(strip=True) for td in soup.find_all("td")]
    assert "–" in cells and not any(c.startswith("<") for c in cells)


def test_downloads_hold_nothing_the_page_does_not_show(fixture_build):
    import json

    from plusdig.publish import downloads

    out, _, _ = fixture_build
    html = out / "_build" / "html"
    index = json.loads((html / "downloads" / "index.json").read_text(encoding="utf-8"))
    entries = index["downloads"]
    assert sum(e["kind"] == "tabel" for e in entries) >= 10
    assert sum(e["kind"] == "figur" for e in entries) >= 6
    tiny_rows = 0
    for e in entries:
        for name in e["files"]:
            if not name.endswith(".csv"):
                continue
            frame = downloads.read_csv(html / "downloads" / name)
            for row in frame.itertuples(index=False):
                if sf.TINY_SCHOOL in row:
                    tiny_rows += 1
                    # a wide table's row is empty in the years the school has no pupils
                    others = [c for c in row if c not in {sf.TINY_SCHOOL, "2018", ""}]
                    assert others and all(c == "–" for c in others), (name, row)
    assert tiny_rows >= 2  # in the school table's download and in the school figure's
    page = html / f"{CHAPTER}.html"
    assert audit.check_downloads(page, page.read_text(encoding="utf-8")) == []


def test_the_audit_refuses_a_download_with_more_than_the_page(fixture_build, tmp_path):
    out, _, _ = fixture_build
    site = tmp_path / "site"
    shutil.copytree(out / "_build" / "html", site)
    from plusdig.publish import downloads

    target = sorted((site / "downloads").glob("tabel-*.csv"))[0]
    width = len(downloads.read_csv(target).columns)
    with target.open("ab") as f:  # one row more, of counts the page does not print
        f.write((",".join(["3"] * width) + "\r\n").encode())
    report = audit.audit_site(site, 5)
    assert report.leaks and "findes ikke i sidens tabeller" in str(report.leaks[0])
    target.unlink()  # a linked data file that is not there is refused too
    assert "cannot read" in str(audit.audit_site(site, 5).leaks[0])
