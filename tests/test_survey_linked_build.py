"""Build test of the linked design (issue 19): a reduced book (tests/buildkit.py) built on a
fixture delivery with ``pupil_key`` and ``class_id`` (tests/fixtures/design_fixtures.py, made
in a temporary folder, never committed) shows the section on classes and the same pupils,
recovers the fixture's known design effect and within-pupil changes within the printed
intervals, passes the audit (run by the build and again here), and no key or class id appears
anywhere in the output. Built without the columns (the options tests' build on the synthetic
delivery, which has neither: tests/survey_builds.py, built once per test session), the section
is absent and the methods appendix states the assumption of independence.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
import yaml
from buildkit import build, make_copy
from fixtures import design_fixtures as dfx
from fixtures import survey_fixtures as sf
from survey_builds import APPENDIX, CHAPTER, K, optioned_build

from plusdig.sphinx import audit
from plusdig.sphinx.audit_model import as_long, read_tables
from plusdig.survey.design import CHANGE_CAPTION, DEFF_CAPTION

pytestmark = pytest.mark.build

#: The fixture of tests/test_survey_design.py (its truth is recovered there, table by table).
SEED, ATTRITION = 3, 0.3
#: Prefixes that make every key and class id of the fixture greppable as one string.
KEY_PREFIX, CLASS_PREFIX = "elevnoegle-", "klassekode_"
SECTION = "Klasser og de samme elever"


def _delivery(tmp: Path) -> tuple[Path, set[str]]:
    frame = dfx.design_frame(SEED, attrition=ATTRITION, keys=True)
    frame["pupil_key"] = KEY_PREFIX + frame["pupil_key"].astype(str)
    frame["class_id"] = CLASS_PREFIX + frame["class_id"].astype(str)
    secrets = set(frame["pupil_key"]) | set(frame["class_id"])
    return sf.write_csv(frame, tmp / "linked.csv"), secrets


def _book(tmp: Path) -> Path:
    copy = make_copy(tmp / "repo", [CHAPTER, APPENDIX])
    config_path = copy / "_config.yml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["sphinx"]["extra_extensions"] += ["plusdig.sphinx.sitedownloads",
                                             "plusdig.sphinx.audit"]
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return copy


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, set[str]]:
    """The chapter and the methods appendix on the linked delivery: (the book's copy, the
    output folder, the log, every pupil key and class id of the delivery)."""
    tmp = tmp_path_factory.mktemp("linked")
    delivery, secrets = _delivery(tmp)
    copy = _book(tmp)
    out = tmp / "out"
    log = build(copy, out, strict=False,
                env={"PLUSDIG_SURVEY": str(delivery), "PLUSDIG_DISCLOSURE_K": str(K)})
    return copy, out, log, secrets


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, set[str]]:
    """The same chapter and appendix (and the other survey chapter) on a delivery without
    ``pupil_key`` and ``class_id``: the synthetic one, as the options tests build it (shared
    with tests/test_survey_options_build.py)."""
    copy, out, log = optioned_build(tmp_path_factory)
    header = (copy / "data" / "survey" / "synthetic" / "synthetic_survey_2017-2019.csv"
              ).read_text(encoding="utf-8").splitlines()[0].split(",")
    assert "pupil_key" not in header and "class_id" not in header, header
    return copy, out, log, set()


def _page(out: Path, docname: str) -> str:
    path = out / "_build" / "html" / f"{docname}.html"
    assert path.is_file(), f"{docname} is not in the built site"
    return path.read_text(encoding="utf-8")


def _table(html: str, caption: str):
    found = [t for t in read_tables(html)[0] if caption in t.caption]
    assert found, f"no table «{caption}» on the page"
    return as_long(found[0])


_INTERVAL = re.compile(r"^(−?[\d,]+) \[(−?[\d,]+); (−?[\d,]+)\]$")


def _interval(text: str) -> tuple[float, float, float]:
    match = _INTERVAL.match(text.strip())
    assert match, f"not an estimate with its interval: {text!r}"
    return tuple(float(g.replace("−", "-").replace(",", ".")) for g in match.groups())


def test_the_section_shows_and_recovers_the_truth(linked):
    _copy, out, _log, _secrets = linked
    html = _page(out, CHAPTER)
    text = " ".join(html.split())
    assert SECTION in text
    deff = _table(html, DEFF_CAPTION)
    row = next(r for r in deff.rows if r["År"] == "2017" and "ensomhed" in r["Nøgletal"])
    est, low, high = _interval(row["Designeffekt [95 %-KI]"])
    assert low < dfx.deff(ATTRITION) < high, row
    assert row["Klasser"] == "32"
    change = _table(html, CHANGE_CAPTION)
    by_pair = {r["Sammenligning"]: r for r in change.rows}
    assert set(by_pair) == {"2017 → 2018", "2018 → 2019", "5. klasse 2017 → 7. klasse 2019"}
    column = "Ændring, procentpoint [95 %-KI]"
    for pair, truth in (("2017 → 2018", dfx.CHANGE), ("5. klasse 2017 → 7. klasse 2019",
                                                      dfx.change(2))):
        est, low, high = _interval(by_pair[pair][column])
        assert low < 100 * truth < high, (pair, by_pair[pair][column], truth)
        odds = _interval(by_pair[pair]["Oddsratio [95 %-KI]"])
        assert odds[0] < 1
        naive = _interval(by_pair[pair]["Uafhængige stikprøver, procentpoint [95 %-KI]"])
        ratio = float(by_pair[pair]["Bredde i forhold til uafhængige"].replace(",", "."))
        assert ratio == pytest.approx((high - low) / (naive[2] - naive[1]), abs=0.02)
    for r in by_pair.values():
        assert re.fullmatch(r"\d+", r["Samme elever"]), r  # shown, not suppressed here


def test_the_audit_finds_nothing_derivable(linked):
    _copy, out, log, _secrets = linked
    assert re.search(r"0 kan regnes ud", log), log[-3000:]
    report = audit.audit_html([_page(out, CHAPTER), _page(out, APPENDIX)], K)
    assert not report.leaks, [str(x) for x in report.leaks]
    assert any("Samme elever" in str(label) for label in report.labels.values())


def _everything(root: Path) -> bytes:
    """Every byte under ``root``, with the members of ZIP files (XLSX downloads) unpacked."""
    chunks = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        chunks.append(data)
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                chunks += [z.read(name) for name in z.namelist()]
    return b"\n".join(chunks)


def test_no_key_or_class_id_anywhere_in_the_output(linked):
    copy, out, log, secrets = linked
    assert len(secrets) > 800  # every pupil key and class id of the delivery
    blob = _everything(out) + _everything(copy / "book") + log.encode()
    for prefix in (KEY_PREFIX, CLASS_PREFIX):
        assert prefix.encode() not in blob
    text = blob.decode("utf-8", errors="replace")
    assert not [s for s in secrets if s in text]


def test_the_appendix_says_what_the_delivery_has(linked, plain):
    with_keys = " ".join(_page(linked[1], APPENDIX).split())
    without = " ".join(_page(plain[1], APPENDIX).split())
    assert "Leverancen oplyser elevernes klasse" in with_keys
    assert "leverancen har en elevnøgle" in with_keys
    assert "Leverancen har ingen oplysning om klasse" in without
    assert "antager, at besvarelserne er uafhængige" in without
    assert "fordi leverancen ikke kan koble en elev på tværs af år" in without


def test_without_the_columns_there_is_no_section(plain):
    _copy, out, log, _secrets = plain
    html = _page(out, CHAPTER)
    assert SECTION not in " ".join(html.split())
    assert DEFF_CAPTION not in html and CHANGE_CAPTION not in html
    assert re.search(r"0 kan regnes ud", log)
