"""The survey chapters built with the options set (issue 19): ``PLUSDIG_SCHOOL_KEY``
(pseudonymous school names) and ``PLUSDIG_BENCHMARK`` (the national benchmark).

A reduced copy of the book (tests/buildkit.py) with the two survey chapters and the methods
appendix is built with the real configuration (downloads, audit, table numbering) on the bundled
synthetic delivery with both variables set; the survey chapter alone is built the same way
without them (tests/survey_builds.py: each build made once per test session, the linked-design
and the leak tests check them too). The benchmark is a fixture made in tmp: its numbers are
invented for the test and never committed as if real. Checks:

* no real school name of the synthetic delivery appears in any file of the site: pages, table
  and figure downloads (CSV, XLSX), ``downloads/index.json``, the search index, alt texts;
* the pseudonyms appear instead, the same on the page and in its downloads, and each stands for
  the school the keyed hash gives it (its pooled number of answers is that school's);
* the benchmark section appears with the fixture's numbers and source, and without the variable
  it is absent (and the real names are back).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from buildkit import REPO
from survey_builds import SCHOOL_KEY, optioned_build, synthetic_build

from plusdig.publish import downloads as dl

pytestmark = pytest.mark.build

SURVEY_PAGE = "book/report/trivsel-dybden.html"
SYNTHETIC = REPO / "data" / "survey" / "synthetic" / "synthetic_survey_2017-2019.csv"


def _real_names() -> list[str]:
    return sorted(pd.read_csv(SYNTHETIC, dtype=str)["school"].unique())


def _name_pattern(names: list[str]) -> re.Pattern[bytes]:
    # the annex's "specialskolen Firkløverskolen" (quoted in chapter 6) is no delivery name
    return re.compile(b"|".join(re.escape(n.encode("utf-8")) + rb"(?![\w])(?! Firkl)"
                                for n in names))


@pytest.fixture(scope="module")
def optioned_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both survey chapters and the methods appendix with both variables set (shared with
    tests/test_survey_linked_build.py: tests/survey_builds.py)."""
    _copy, out, _log = optioned_build(tmp_path_factory)
    return out / "_build" / "html"


@pytest.fixture(scope="module")
def plain_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The survey chapter alone, the same configuration, no variable set (shared with
    tests/test_survey_leak.py, built with ``-n -W``: tests/survey_builds.py)."""
    out, _log = synthetic_build(tmp_path_factory)
    return out / "_build" / "html"


def _file_texts(site: Path) -> dict[str, bytes]:
    """Every published file's bytes (an XLSX's unpacked members)."""
    out = {}
    for path in site.rglob("*"):
        if not path.is_file() or "_static" in path.parts:
            continue
        rel = path.relative_to(site).as_posix()
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                out[rel] = b"".join(z.read(n) for n in z.namelist())
        else:
            out[rel] = path.read_bytes()
    return out


def _soup(site: Path, rel: str = SURVEY_PAGE) -> BeautifulSoup:
    return BeautifulSoup((site / rel).read_text(encoding="utf-8"), "html.parser")


def _school_tables(site: Path) -> list[tuple[list[str], list[str], Path]]:
    """Each table of the survey page with a school column: (header, the school cells, its
    CSV download)."""
    soup = _soup(site)
    out = []
    for table in soup.find("main").find_all("table"):
        head = table.find("thead")
        if head is None:
            continue
        header = [th.get_text(" ", strip=True) for th in head.find_all("th")]
        if "Skole" not in header:
            continue
        col = header.index("Skole")
        cells = [tr.find_all(["td", "th"])[col].get_text(" ", strip=True)
                 for tr in table.find("tbody").find_all("tr")]
        anchor = table
        while anchor.find_next_sibling() is None or "plusdig-downloads" not in (
                anchor.find_next_sibling().get("class") or []):
            anchor = anchor.parent
        csv = [a["href"] for a in anchor.find_next_sibling().find_all("a")
               if a["href"].endswith(".csv")][0]
        out.append((header, cells, (site / SURVEY_PAGE).parent / csv))
    return out


def _pseudonyms(names: list[str]) -> dict[str, str]:
    """The mapping recomputed here from its definition (HMAC-SHA256 order of the names)."""
    order = sorted(names, key=lambda n: hmac.new(SCHOOL_KEY.encode(), n.encode(),
                                                 hashlib.sha256).hexdigest())
    return {name: f"Pseudonym {chr(ord('A') + i)}" for i, name in enumerate(order)}


def test_no_real_school_name_anywhere_in_the_site(optioned_site: Path) -> None:
    names = _real_names()
    assert len(names) == 8
    pattern = _name_pattern(names)
    files = _file_texts(optioned_site)
    kinds = {Path(rel).suffix for rel in files}
    assert {".html", ".csv", ".xlsx", ".json", ".js"} <= kinds  # what is searched
    assert "searchindex.js" in files and "downloads/index.json" in files
    hits = {rel: sorted({m.group(0).decode() for m in pattern.finditer(data)})
            for rel, data in files.items() if pattern.search(data)}
    assert hits == {}, hits
    for rel in (p for p in files if p.endswith(".html")):
        for img in _soup(optioned_site, rel).find_all("img"):
            assert not pattern.search(img.get("alt", "").encode()), (rel, img.get("alt"))


def test_the_pseudonyms_are_on_the_page_and_in_its_downloads(optioned_site: Path) -> None:
    mapping = _pseudonyms(_real_names())
    tables = _school_tables(optioned_site)
    assert len(tables) >= 2  # the wide school table and the funnel's pooled table
    for _header, cells, csv in tables:
        schools = [c for c in cells if c != "I alt"]  # the wide table's total row
        assert set(schools) == set(mapping.values()), cells
        assert schools == sorted(schools)  # listed A, B, … (never in the names' order)
        download = dl.read_csv(csv)
        assert list(download["Skole"]) == cells, csv  # the same pseudonyms, the same rows
    # the funnel figure's data file: every school under its pseudonym
    figure = [p for p in (optioned_site / "downloads").glob("figur-*.csv")
              if "Skole" in dl.read_csv(p).columns]
    assert len(figure) == 1
    assert sorted(dl.read_csv(figure[0])["Skole"]) == sorted(mapping.values())
    text = " ".join(_soup(optioned_site).find("main").get_text(" ").split())
    assert all(p in text for p in mapping.values())


def test_each_pseudonym_stands_for_its_school(optioned_site: Path) -> None:
    """The funnel's pooled table: each pseudonym's number of answers is its school's, counted
    here from the synthetic delivery (completed forms answering loneliness, all years)."""
    raw = pd.read_csv(SYNTHETIC, dtype=str, keep_default_na=False)
    answered = raw[(raw["completed"] == "ja") & (raw["lonely"] != "")]
    counts = answered.groupby("school").size()
    mapping = _pseudonyms(_real_names())
    soup = _soup(optioned_site)
    table = [t for t in soup.find("main").find_all("table")
             if "Skolerne samlet" in (t.find("caption").get_text() if t.find("caption") else "")]
    assert table, "no pooled school table"
    header = [th.get_text(" ", strip=True) for th in table[0].find("thead").find_all("th")]
    n_col = [i for i, h in enumerate(header) if h.startswith(("Besvarelser", "Antal svar"))][0]
    shown = {tr.find_all(["td", "th"])[0].get_text(strip=True):
             tr.find_all(["td", "th"])[n_col].get_text(strip=True)
             for tr in table[0].find("tbody").find_all("tr")}
    checked = 0
    for name, pseudonym in mapping.items():
        if shown[pseudonym] != "–":
            assert shown[pseudonym] == f"{counts[name]:,}".replace(",", "."), pseudonym
            checked += 1
    assert checked >= 5


def test_the_benchmark_section_shows_the_fixture(optioned_site: Path) -> None:
    soup = _soup(optioned_site)
    tables = [t for t in soup.find("main").find_all("table")
              if "Den nationale trivselsmåling" in (t.find("caption").get_text()
                                                   if t.find("caption") else "")]
    assert len(tables) == 1
    text = " ".join(tables[0].get_text(" ").split())
    for expected in ("23,4 %", "6,7 %", "4.321", "Testkommune", "Hele landet",
                     "Testordlyd om ensomhed", "Testkilde for benchmark-testen", "ikke oplyst"):
        assert expected in text, expected
    page = " ".join(soup.find("main").get_text(" ").split())
    assert "Sammenligning med den nationale trivselsmåling" in page
    assert "syntetiske data: sammenligningen viser kun" in page


def test_without_the_variables_no_benchmark_and_the_names_are_back(plain_site: Path) -> None:
    soup = _soup(plain_site)
    page = " ".join(soup.find("main").get_text(" ").split())
    assert "nationale trivselsmåling" not in page and "Testkilde" not in page
    files = _file_texts(plain_site)
    assert not any(b"Testkilde" in data for data in files.values())
    assert not any(b"Pseudonym " in data for data in files.values())
    assert _name_pattern(_real_names()).search(files[SURVEY_PAGE])
