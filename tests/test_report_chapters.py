"""Static checks of the report chapters (Part I): structure, glue, figures, no typed numbers.

These read the notebooks as files; nbval (``make test``) executes them, and the book build
(``-n -W``) resolves every glue key and cross-reference.
"""

from __future__ import annotations

import re

import nbformat
import pytest
import yaml

from plusdig.core.paths import REPO_ROOT
from plusdig.data.load import vocab_labels

REPORT = REPO_ROOT / "book" / "report"
#: The chapters of Part I written from the published data, in book order.
CHAPTERS = ["forord", "collective-impact", "foerste-aar", "aktiviteterne", "betingelserne",
            "trivselsmaalingen", "erfaringer", "konklusion"]


def notebook(name: str) -> nbformat.NotebookNode:
    return nbformat.read(REPORT / f"{name}.ipynb", as_version=4)


def markdown(nb: nbformat.NotebookNode) -> str:
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def tags(cell: nbformat.NotebookNode) -> set[str]:
    return set(cell.metadata.get("tags", []))


def prose_without_markup(text: str) -> str:
    """Markdown prose with roles, labels, code, URLs and directive options removed."""
    text = re.sub(r"\{[\w:-]+\}`[^`]*`", " ", text)  # {glue:text}`x`, {numref}`...`, {cite}`...`
    text = re.sub(r"`[^`]*`", " ", text)  # inline code
    text = re.sub(r"^\([\w-]+\)=\s*$", " ", text, flags=re.M)  # (label)=
    text = re.sub(r"^```\{[\w:-]+\}.*$", " ", text, flags=re.M)  # directive header lines
    text = re.sub(r"^:(name|class|figwidth|width):.*$", " ", text, flags=re.M)
    return re.sub(r"https?://\S+", " ", text)


def test_toc_lists_the_chapters_in_order() -> None:
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text(encoding="utf-8"))
    part = next(p for p in toc["parts"] if p["caption"].startswith("Del I"))
    files = [c["file"] for c in part["chapters"] if "file" in c]
    mine = [f"book/report/{c}" for c in CHAPTERS]
    assert [f for f in files if f in mine] == mine
    bagstof = next(p for p in toc["parts"] if p["caption"] == "Bagstof")
    assert "book/glossary" in [c.get("file") for c in bagstof["chapters"]]


@pytest.mark.parametrize("name", CHAPTERS)
def test_no_number_typed_in_prose(name: str) -> None:
    prose = prose_without_markup(markdown(notebook(name)))
    digits = [m.group(0) for m in re.finditer(r".{0,30}\d.{0,30}", prose)]
    assert not digits, f"{name}: numbers typed in prose (glue them): {digits}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_figures_are_named_captioned_with_alt_and_referenced(name: str) -> None:
    text = markdown(notebook(name))
    blocks = re.findall(r"```\{glue:figure\}[^\n]*\n(.*?)```", text, flags=re.S)
    names = []
    for block in blocks:
        name_m = re.search(r"^:name: (\S+)$", block, flags=re.M)
        alt_m = re.search(r"^:alt: (.+)$", block, flags=re.M)
        caption = re.sub(r"^:.*$", "", block, flags=re.M).strip()
        assert name_m and alt_m and len(alt_m.group(1)) > 30, block
        assert "Kilde:" in caption, f"caption without source: {caption}"
        names.append(name_m.group(1))
    for fig in names:
        assert re.search(r"\{numref\}`(?:[^`<]*<)?" + re.escape(fig) + r">?`", text), f"{fig} is never referenced"


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_chapter_shows_data_and_checks_its_headline_numbers(name: str) -> None:
    nb = notebook(name)
    cells = code_cells(nb)
    shown = "{glue:figure}" in markdown(nb) or any("remove-input" in tags(c) for c in cells)
    assert shown, f"{name}: no figure or table computed from data"
    headline = [c for c in cells if "nbval-check-output" in tags(c)]
    assert headline, f"{name}: no nbval-check-output cell"
    for c in headline:
        assert c.metadata.get("keep_output") is True and c.outputs, f"{name}: headline cell without stored output"
    assert "use_house_style()" in cells[0].source
    for c in cells:
        assert len(c.source.splitlines()) <= 25, f"{name}: a code cell is long; move computation to lib/"
        if "nbval-check-output" not in tags(c):
            assert not c.outputs, f"{name}: outputs committed outside headline cells"


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapters_using_the_coding_mark_it_as_judgement(name: str) -> None:
    nb = notebook(name)
    src = "\n".join(c.source for c in code_cells(nb))
    if "coding." in src or "network." in src:
        assert "{admonition} Evaluatorernes vurdering" in markdown(nb)


def test_condition_and_theme_labels_exist_for_cross_links() -> None:
    text = "\n".join(markdown(notebook(n)) for n in CHAPTERS)
    for code in vocab_labels("conditions"):
        assert f"(betingelse-{code})=" in text
    themes = yaml.safe_load((REPO_ROOT / "data" / "coding" / "lessons.yaml").read_text(encoding="utf-8"))["themes"]
    for t in themes:
        assert f"(tema-{t['code']})=" in text


def test_conclusion_names_the_limitations() -> None:
    text = markdown(notebook("konklusion")).lower()
    for phrase in ["kontrafaktisk", "omtrentlige tal", "sammenhæng, ikke effekt"]:
        assert phrase in text
    for label in vocab_labels("conditions").values():
        assert label.lower() in text


def test_prose_check_catches_typed_numbers() -> None:
    assert re.search(r"\d", prose_without_markup("Der var 70 aktører."))
    clean = prose_without_markup("(fig-1)=\nDer var {glue:text}`n_70` aktører, se {numref}`fig-1`.")
    assert not re.search(r"\d", clean)


#: Chapters whose language this test holds (the survey chapters have their own owner and tests).
OWN_CHAPTERS = ["forord", "collective-impact", "foerste-aar", "aktiviteterne", "betingelserne",
                "erfaringer", "konklusion"]
#: Wrong idioms and machine plurals found in earlier editions (issue 12).
BAD_PHRASES = ["til trods stor", "holde hinanden fast", "aktivitet(er)", "aktør(er)", "tema(er)",
               "én kodér", "kodér", "Højdepunktet var", "Ved siden af mødtes", "Samtidig blev"]


@pytest.mark.parametrize("name", OWN_CHAPTERS)
def test_no_wrong_idioms_or_machine_plurals(name: str) -> None:
    text = markdown(notebook(name))
    found = [p for p in BAD_PHRASES if p.lower() in text.lower()]
    assert not found, f"{name}: {found}"


def test_the_book_counts_the_conditions_it_codes() -> None:
    """Six codes are coded (five conditions and user involvement): no chapter is titled "De fem
    betingelser", and the method chapter glues the number of codes from the vocabulary."""
    import plusdig

    title = markdown(notebook("betingelserne")).split("\n# ", 1)[1].split("\n", 1)[0]
    assert "fem" not in title.lower(), title
    src = "\n".join(c.source for c in code_cells(notebook("collective-impact")))
    assert "plusdig.collective_impact_numbers()" in src
    assert plusdig.collective_impact_numbers().n_conditions == len(vocab_labels("conditions")) == 6


def test_first_year_states_no_sequence_the_source_does_not_give() -> None:
    """Issue 12: the source gives no dates for the workstreams, so the chapter does not order them
    in time ("Samtidig", "Ved siden af", "Højdepunktet", "Før ... gik i gang")."""
    text = markdown(notebook("foerste-aar"))
    assert "siger ikke, om sporene lå efter hinanden eller samtidig" in " ".join(text.split())
    for phrase in ["Samtidig", "Ved siden af", "Højdepunktet", "gik i gang", "Derefter", "Bagefter"]:
        assert phrase not in text, phrase


def test_one_list_of_data_files() -> None:
    """The foreword counts the data files from the same catalogue as the appendix."""
    import plusdig
    from plusdig.data import datadict, report

    assert not hasattr(report, "DATA_FILES") and not hasattr(report, "data_sources_table")
    src = "\n".join(c.source for c in code_cells(notebook("forord")))
    assert "plusdig.catalogue()" in src and "plusdig.foreword_numbers()" in src
    assert plusdig.foreword_numbers().n_files == len(datadict.catalogue())


def test_activity_9_is_not_called_a_missed_goal() -> None:
    text = " ".join(markdown(notebook("aktiviteterne")).split())
    assert "målet ikke blev nået" not in text
    assert "det var ikke formålet at vinde den" in text
