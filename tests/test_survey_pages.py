"""The survey pages of the built book on the synthetic default (issue 19).

On synthetic data no inferential verdict may appear (the sentences say what the analysis would
show and why it cannot here), every survey figure's alt text says "Syntetiske data", the
foreword names the survey chapter and its data status, and the methods appendix is in the
HTML and the PDF with every number glued.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.build

SURVEY_PAGES = ("book/report/trivsel-dybden.html", "book/appendix/metode-trivselsmaalingen.html")
#: Verdicts the library writes on real data only: seeing one on synthetic data is a bug.
REAL_DATA_VERDICTS = (
    r"Konfidensintervallet omfatter (ikke )?nul",
    r"for \S+ af dem omfatter konfidensintervallet ikke nul",
    r"p-værdi under \S+ %, og \S+ holder ved en falsk-opdagelsesrate",
    r"nøgletal viser testen en trend",
)


def _page(site: Path, rel: str) -> BeautifulSoup:
    path = site / rel
    assert path.is_file(), f"{rel} is not in the built site"
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _text(soup: BeautifulSoup) -> str:
    main = soup.find("main") or soup
    return " ".join(main.get_text(" ").split())


@pytest.fixture(scope="module")
def synthetic_site(built_site: Path) -> Path:
    from plusdig.survey.contract import current_source

    if not current_source().synthetic:
        pytest.skip("the build uses a real delivery (PLUSDIG_SURVEY): these checks are for the "
                    "synthetic default")
    return built_site


@pytest.mark.parametrize("rel", SURVEY_PAGES)
def test_no_inferential_verdict_on_synthetic_data(synthetic_site: Path, rel: str) -> None:
    text = _text(_page(synthetic_site, rel))
    for pattern in REAL_DATA_VERDICTS:
        assert not re.search(pattern, text), f"{rel}: verdict on synthetic data: {pattern}"
    assert "syntetiske data" in text.lower()


def test_the_synthetic_sentences_say_what_the_analysis_would_show(synthetic_site: Path) -> None:
    text = _text(_page(synthetic_site, SURVEY_PAGES[0]))
    assert "Med de rigtige besvarelser ville intervallet vise" in text
    assert "sandt pr. konstruktion" in text


@pytest.mark.parametrize("rel", SURVEY_PAGES)
def test_every_survey_figure_alt_text_says_synthetic(synthetic_site: Path, rel: str) -> None:
    main = _page(synthetic_site, rel).find("main")
    images = [img for img in main.find_all("img") if "_images" in img.get("src", "")]
    if rel.endswith("trivsel-dybden.html"):
        assert len(images) >= 5
    for img in images:
        assert "syntetiske data" in img.get("alt", "").lower(), img.get("src")


def test_foreword_names_the_survey_chapter_and_its_data_status(synthetic_site: Path) -> None:
    soup = _page(synthetic_site, "book/report/forord.html")
    links = [a for a in soup.find("main").find_all("a") if "trivsel-dybden" in a.get("href", "")]
    assert links, "the foreword does not link the survey chapter"
    paragraph = links[0].find_parent(["p", "li"])
    assert "syntetiske data" in paragraph.get_text(" ").lower()
    assert re.search(r"kapitel \d+", paragraph.get_text(" ").lower())


def test_methods_appendix_is_in_the_site_with_every_number_glued(built_site: Path) -> None:
    soup = _page(built_site, SURVEY_PAGES[1])
    text = _text(soup)
    assert soup.find("h1").get_text().startswith("Metode: trivselsmålingen")
    for heading in ("Hvad intervallerne handler om", "Klasser og designeffekt",
                    "De samme elever i flere målinger", "Frafald og manglende svar",
                    "Spørgsmål og definitioner", "SDQ", "Mange sammenligninger",
                    "Diskretionering"):
        assert heading in text, heading
    assert "glue" not in text.lower()  # an unresolved glue key renders its name
    assert len(soup.find("main").find_all("table")) >= 2


def test_methods_appendix_is_in_the_pdf(built_pdf: Path) -> None:
    text = subprocess.run(["pdftotext", "-layout", str(built_pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Metode: trivselsmålingen" in text
    assert "Hvad intervallerne handler om" in text
