"""Two clean builds of the same commit give the same pages and identical figure images.

Builds a reduced copy of the book (a real chapter with a figure, a probe notebook and the
colophon) twice from scratch into separate folders and compares every HTML page (after
removing the random widget model ids and the colophon's build time) and every image byte for
byte. The first build forks its kernels from a kernel server (warm kernels, the default), the
second starts each kernel cold (``PLUSDIG_COLD_KERNELS=1``): the same pages also prove that
warm kernels give a cold run's outputs.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from buildkit import BUILD_TIME, build, html, make_copy, normalise, page_text

pytestmark = pytest.mark.build

CHAPTERS = ["book/report/aktiviteterne", "book/probe/data", "book/appendix/byggeoplysninger"]
IMAGE_SUFFIXES = {".png", ".svg", ".jpg", ".jpeg", ".gif", ".pdf"}


def _files(root: Path, suffixes: set[str]) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix.lower() in suffixes}


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp("determinism")
    copy = make_copy(base / "repo", CHAPTERS, git=True)
    out1, out2 = base / "out1", base / "out2"
    warm = build(copy, out1, strict=False)
    cold = build(copy, out2, strict=False, env={"PLUSDIG_COLD_KERNELS": "1"})
    assert "from the kernel server" in warm and "from the kernel server" not in cold
    return copy, out1 / "_build" / "html", out2 / "_build" / "html"


def test_same_text_on_every_page(two_builds: tuple[Path, Path, Path]) -> None:
    _, html1, html2 = two_builds
    pages1, pages2 = _files(html1, {".html"}), _files(html2, {".html"})
    assert pages1.keys() == pages2.keys()
    assert {"book/report/aktiviteterne.html", "book/appendix/byggeoplysninger.html"} <= pages1.keys()
    differ = [name for name in pages1
              if normalise(pages1[name].read_text(encoding="utf-8"))
              != normalise(pages2[name].read_text(encoding="utf-8"))]
    assert differ == []


def test_identical_figure_images(two_builds: tuple[Path, Path, Path]) -> None:
    _, html1, html2 = two_builds
    images1, images2 = _files(html1, IMAGE_SUFFIXES), _files(html2, IMAGE_SUFFIXES)
    assert images1.keys() == images2.keys()
    figures = [n for n in images1 if n.startswith("_images/")]
    assert figures, "the chapter's figure was not written"
    differ = [n for n in images1 if images1[n].read_bytes() != images2[n].read_bytes()]
    assert differ == []


def test_png_carries_no_timestamp_or_software_tag(two_builds: tuple[Path, Path, Path]) -> None:
    _, html1, _ = two_builds
    for png in _files(html1 / "_images", {".png"}).values():
        data = png.read_bytes()
        assert b"tIME" not in data, png
        assert b"Software" not in data, png


def test_colophon_shows_commit_and_clean_tree(two_builds: tuple[Path, Path, Path]) -> None:
    copy, html1, _ = two_builds
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=copy, check=True,
                            capture_output=True, text=True).stdout.strip()
    text = page_text(html(html1.parents[1], "book/appendix/byggeoplysninger"))
    assert commit in text
    assert "ren (svarer præcis til committet)" in text
    assert "syntetiske data" in text
    assert BUILD_TIME.search(text)
    assert "Sphinx" in text or "sphinx" in text
