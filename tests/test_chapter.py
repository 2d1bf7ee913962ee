"""Tests of plusdig.authoring.chapter (``make chapter``) and of the kernel ``make lab`` uses.

The end-to-end test creates a chapter with the CLI in a temporary copy of the repository,
then builds a reduced book (a minimal root page plus the new chapter) with
``jupyter-book build -n -W --keep-going`` and runs nbval over the new notebook.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest
import yaml
from buildkit import build_command, kernel_server_env, run_module

from plusdig.authoring import chapter
from plusdig.authoring import hooks
from plusdig.authoring.chapter import ChapterError
from plusdig.core.paths import REPO_ROOT

VENV_BIN = Path(sys.executable).parent

TOC = """\
# Table of contents. A comment that must survive.
format: jb-book
root: book/index
parts:
  - caption: "Del I: Evalueringsrapporten"
    numbered: true
    chapters:
      - file: book/report/aktiviteterne
      - file: book/report/alliancen
        sections:
          - file: book/report/alliancen-detaljer  # nested
  - caption: "Del II: Aktivitetskataloget"
    numbered: false  # own numbers
    chapters:
      - file: book/annex/index
      # one page per activity
      - glob: book/annex/generated/aktivitet-*

  - caption: "Bagstof"
    chapters:
      - file: book/references
"""


# --------------------------------------------------------------------------- slugs
@pytest.mark.parametrize(("title", "slug"), [
    ("Alliancens arbejde", "alliancens-arbejde"),
    ("Børn & unge i Lejre – 2017-2019", "boern-unge-i-lejre-2017-2019"),
    ("Ældre, søskende og ÅBNE café", "aeldre-soeskende-og-aabne-cafe"),
    ("  Élan?  ", "elan"),
    ("!!!", ""),
])
def test_slugify(title: str, slug: str) -> None:
    assert chapter.slugify(title) == slug


# --------------------------------------------------------------------------- TOC insertion
def test_add_to_report_keeps_everything_else() -> None:
    new = chapter.add_to_toc(TOC, "report", "book/report/ny")
    added = [line for line in new.splitlines() if line not in TOC.splitlines()]
    assert added == ["      - file: book/report/ny"]
    assert new.replace("      - file: book/report/ny\n", "") == TOC
    # after the nested sections of the last chapter, before the next part
    lines = new.splitlines()
    assert lines.index("      - file: book/report/ny") == lines.index(
        "          - file: book/report/alliancen-detaljer  # nested") + 1
    parts = yaml.safe_load(new)["parts"]
    assert [c.get("file") for c in parts[0]["chapters"]][-1] == "book/report/ny"


def test_add_to_annex_goes_after_glob_and_keeps_blank_line() -> None:
    new = chapter.add_to_toc(TOC, "annex", "book/annex/ny")
    parts = yaml.safe_load(new)["parts"]
    assert parts[1]["chapters"][-1] == {"file": "book/annex/ny"}
    assert "      - glob: book/annex/generated/aktivitet-*\n      - file: book/annex/ny\n\n" in new
    assert "# one page per activity" in new and "# own numbers" in new


def test_add_to_toc_without_matching_part() -> None:
    toc = TOC.replace("book/annex/index", "book/bilag/index")
    with pytest.raises(ChapterError, match="Ingen del i _toc.yml har kapitler i book/annex/"):
        chapter.add_to_toc(toc, "annex", "book/annex/ny")


def test_add_to_toc_without_parts() -> None:
    with pytest.raises(ChapterError, match="ingen dele"):
        chapter.add_to_toc("format: jb-book\nroot: index\n", "report", "book/report/ny")


def test_real_toc_accepts_a_report_and_an_annex_chapter() -> None:
    toc = (REPO_ROOT / "_toc.yml").read_text(encoding="utf-8")
    for part in chapter.PARTS:
        entry = f"{chapter.PARTS[part]}/test-kapitel"
        new = chapter.add_to_toc(toc, part, entry)
        assert len(new.splitlines()) == len(toc.splitlines()) + 1
        assert yaml.safe_load(new)["format"] == "jb-book"


def test_add_after_a_named_chapter() -> None:
    for after in ("aktiviteterne", "book/report/aktiviteterne", "aktiviteterne.ipynb"):
        new = chapter.add_to_toc(TOC, "report", "book/report/ny", after=after)
        files = [c["file"] for c in yaml.safe_load(new)["parts"][0]["chapters"]]
        assert files == ["book/report/aktiviteterne", "book/report/ny", "book/report/alliancen"]
        assert new.replace("      - file: book/report/ny\n", "") == TOC
    # after a chapter with sections: after its sections
    new = chapter.add_to_toc(TOC, "report", "book/report/ny", after="alliancen")
    assert "alliancen-detaljer  # nested\n      - file: book/report/ny\n" in new


def test_add_after_an_unknown_chapter_names_the_choices() -> None:
    with pytest.raises(ChapterError, match=r"AFTER='aktivitet' er ikke et kapitel i denne del\. "
                                           r"Vælg et af: aktiviteterne, alliancen\."):
        chapter.add_to_toc(TOC, "report", "book/report/ny", after="aktivitet")


# --------------------------------------------------------------------------- the template
def test_template_passes_the_projects_lint(tmp_path: Path) -> None:
    """The project's full ruff rules (pyproject.toml), not only the pre-commit subset."""
    path = tmp_path / "kapitel.ipynb"
    nbformat.write(chapter.build_notebook("Alliancens arbejde", "alliancens-arbejde"), path)
    done = subprocess.run([str(VENV_BIN / "ruff"), "check", "--config",
                           str(REPO_ROOT / "pyproject.toml"), str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_template_has_the_standard_cells() -> None:
    nb = chapter.build_notebook("Alliancens arbejde", "alliancens-arbejde")
    nbformat.validate(nb)
    md = [c.source for c in nb.cells if c.cell_type == "markdown"]
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert md[0].startswith("(kap-alliancens-arbejde)=\n# Alliancens arbejde\n")
    assert "use_house_style()" in code[0].source and "plusdig.activities_table()" in code[0].source
    assert code[0].metadata["tags"] == ["remove-cell"]
    headline = code[1]
    assert headline.metadata["keep_output"] is True
    assert "nbval-check-output" in headline.metadata["tags"]
    assert 'glue("n_activities"' in headline.source
    assert "{glue:text}`n_activities`" in md[1]
    # a sentence starts with a capital: the reference names its kind, as the chapters do
    assert "{numref}`Figur %s <fig-alliancens-arbejde>` viser" in md[1]
    assert "nbval-ignore-output" in code[2].metadata["tags"]
    figure = md[2]
    assert figure.startswith("```{glue:figure} fig_eksempel\n:name: fig-alliancens-arbejde\n:alt: ")
    assert "Kilde: aktivitetskataloget." in figure
    assert nb.metadata["kernelspec"]["name"] == "python3"


# --------------------------------------------------------------------------- refusals
@pytest.fixture
def small_repo(tmp_path: Path) -> Path:
    (tmp_path / "_toc.yml").write_text(TOC, encoding="utf-8")
    (tmp_path / "book/report").mkdir(parents=True)
    (tmp_path / "book/report/aktiviteterne.ipynb").write_text("{}", encoding="utf-8")
    return tmp_path


def test_existing_slug_is_refused_and_nothing_changes(small_repo: Path) -> None:
    with pytest.raises(ChapterError, match="findes allerede et kapitel med navnet 'aktiviteterne'"):
        chapter.new_chapter("Aktiviteterne", "report", root=small_repo, run=False)
    # a slug only in the TOC (file not written yet) is refused too, in either part
    with pytest.raises(ChapterError, match="book/report/alliancen"):
        chapter.new_chapter("Alliancen", "annex", root=small_repo, run=False)
    assert (small_repo / "_toc.yml").read_text(encoding="utf-8") == TOC


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"title": "   "}, "skal have en titel"),
    ({"title": "X", "part": "bilag"}, "Ukendt del 'bilag'"),
    ({"title": "X", "slug": "Med Mellemrum"}, "kan ikke bruges"),
    ({"title": "???"}, "Angiv et med SLUG=navn"),
])
def test_plain_language_errors(small_repo: Path, kwargs: dict[str, str], message: str) -> None:
    args = {"part": "report", **kwargs}
    with pytest.raises(ChapterError, match=message):
        chapter.new_chapter(root=small_repo, run=False, **args)
    assert (small_repo / "_toc.yml").read_text(encoding="utf-8") == TOC


def test_cli_error_exit_code(small_repo: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(small_repo / "book")  # the root is found above the working folder
    assert chapter.main(["new", "--title", "Aktiviteterne", "--no-execute"]) == 1
    assert capsys.readouterr().err.startswith("Fejl: Der findes allerede et kapitel")


def test_template_that_cannot_run_changes_nothing(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Broken data: the kernel error comes back as one plain line; no file is written."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "activities.yaml").write_text("- id: [\n", encoding="utf-8")
    monkeypatch.setenv("PLUSDIG_DATA", str(data))
    (tmp_path / "_toc.yml").write_text(TOC, encoding="utf-8")
    with pytest.raises(ChapterError) as info:
        chapter.new_chapter("Nyt kapitel", "report", root=tmp_path)
    message = str(info.value)
    assert message.startswith("Skabelonen kunne ikke køres, så kapitlet er ikke oprettet.")
    assert "DataValidationError: " in message and "malformed YAML" in message
    assert "Traceback" not in message and "\x1b[" not in message
    assert not (tmp_path / "book" / "report" / "nyt-kapitel.ipynb").exists()
    assert (tmp_path / "_toc.yml").read_text(encoding="utf-8") == TOC


def _small_notebook(path: Path, code: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Prøve")]
    nb.cells += [nbformat.v4.new_code_cell(c, metadata={"keep_output": True}) for c in code]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def test_run_one_notebook_saves_it_stripped(small_repo: Path) -> None:
    path = _small_notebook(small_repo / "book/report/proeve.ipynb",
                           ["x = 6 * 7", "print(f'Svar: {x}')"])
    seconds = chapter.run_notebook(path)
    assert seconds > 0
    nb = nbformat.read(path, as_version=4)
    assert [o.get("text") for o in nb.cells[2].outputs] == ["Svar: 42\n"]
    assert nb.cells[2].execution_count == 2
    assert hooks.strip_notebook(path) is False  # saved as the pre-commit hook keeps it


def test_run_a_failing_notebook_says_which_cell_and_changes_nothing(small_repo: Path) -> None:
    path = _small_notebook(small_repo / "book/report/proeve.ipynb",
                           ["x = 1", "y = {'a': 1}['b']", "print(x)"])
    before = path.read_bytes()
    with pytest.raises(ChapterError) as info:
        chapter.run_notebook(path)
    message = str(info.value)
    # counted as the build's summary counts: every cell, the title's text cell is 1
    assert message.startswith("book/report/proeve.ipynb, celle 3 fejlede: KeyError: 'b'")
    assert "Notebooken er ikke ændret." in message and "Traceback" not in message
    assert path.read_bytes() == before


def test_run_refuses_what_is_not_a_notebook(small_repo: Path) -> None:
    with pytest.raises(ChapterError, match="er ikke en notebook"):
        chapter.run_notebook(small_repo / "_toc.yml")
    with pytest.raises(ChapterError, match=r"findes-ikke\.ipynb findes ikke\. Angiv stien"):
        chapter.run_notebook(small_repo / "book/report/findes-ikke.ipynb")


def test_find_root_outside_a_book(tmp_path: Path) -> None:
    with pytest.raises(ChapterError, match="Kan ikke finde bogens _toc.yml"):
        chapter.find_root(tmp_path)


# --------------------------------------------------------------------------- end to end
def _copy_repo(dest: Path) -> None:
    """The committed tree (HEAD), as a fresh clone and CI see it."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=REPO_ROOT,
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


@pytest.mark.build
def test_make_chapter_builds_without_warnings_and_passes_nbval(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _copy_repo(repo)
    env = {**os.environ, "PLUSDIG_DATA": str(repo / "data")}
    title = "Prøvekapitel om alliancen"
    stamp = tmp_path / "installed"  # newer than the pins: make does not reinstall the venv
    stamp.touch()
    result = subprocess.run(
        ["make", "--no-print-directory", "chapter", f"NAME={title}", "PART=report",
         f"VENV={VENV_BIN.parent}", f"STAMP={stamp}"],
        cwd=repo, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pip install" not in result.stdout
    slug = "proevekapitel-om-alliancen"
    nb_path = repo / "book" / "report" / f"{slug}.ipynb"
    assert f"Oprettet: book/report/{slug}.ipynb" in result.stdout

    # in the right part of the real TOC, nothing else changed
    toc_text = (repo / "_toc.yml").read_text(encoding="utf-8")
    original = subprocess.run(["git", "show", "HEAD:_toc.yml"], cwd=REPO_ROOT, check=True,
                              capture_output=True, text=True).stdout
    assert toc_text.replace(f"      - file: book/report/{slug}\n", "") == original
    report_part = next(p for p in yaml.safe_load(toc_text)["parts"]
                       if p["chapters"][0].get("file", "").startswith("book/report/"))
    assert report_part["chapters"][-1] == {"file": f"book/report/{slug}"}

    # committed form: headline output kept, other outputs stripped; hooks would not change it
    nb = nbformat.read(nb_path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    n = len(__import__("plusdig").load_activities(repo / "data"))
    assert [o.get("text") for o in code[1].outputs if o["output_type"] == "stream"] == [
        f"Aktiviteter: {n}\n"]
    assert code[0].outputs == [] and code[2].outputs == []
    assert code[1].execution_count is not None  # nbval compares only "run" cells
    assert hooks.strip_notebook(nb_path) is False  # the pre-commit hook would not change it
    lint = subprocess.run([str(VENV_BIN / "ruff"), "check", "--line-length", "120", "--config",
                           "lint.isort.known-first-party=['plusdig']", str(nb_path)],
                          cwd=repo, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout

    # nbval, as `make test` runs it, on the new notebook and on a copy whose stored headline is
    # wrong (nbval really compares it: that copy fails), in one pytest run; each notebook's
    # result is read from the run's JUnit report
    wrong = nbformat.read(nb_path, as_version=4)
    for out in wrong.cells[2].outputs:
        if out["output_type"] == "stream":
            out["text"] = f"Aktiviteter: {n + 1}\n"
    nbformat.write(wrong, repo / "book" / "report" / "forkert.ipynb")
    report = tmp_path / "nbval.xml"
    nbval = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "--nbval-lax", f"--junitxml={report}", str(nb_path),
                            "book/report/forkert.ipynb"], cwd=repo, env=env,
                           capture_output=True, text=True)
    assert nbval.returncode == 1, nbval.stdout + nbval.stderr  # tests failed, nothing else
    outcomes: dict[str, list[str]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        failed = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None
        outcomes.setdefault(case.get("classname", ""), []).append(
            "failed" if failed else "skipped" if skipped else "passed")
    good = [v for k, v in outcomes.items() if slug in k]
    bad = [v for k, v in outcomes.items() if "forkert" in k]
    assert good == [["passed"] * 3], (outcomes, nbval.stdout)
    assert len(bad) == 1 and sorted(bad[0]) == ["failed", "passed", "passed"], (
        outcomes, nbval.stdout)
    (repo / "book" / "report" / "forkert.ipynb").unlink()

    # a reduced book: a minimal root page and the new chapter; zero warnings
    (repo / "book" / "index.md").write_text("# Prøvebog\n\nEn bog til test.\n", encoding="utf-8")
    (repo / "_toc.yml").write_text(
        "format: jb-book\nroot: book/index\nparts:\n  - caption: Del I\n    numbered: true\n"
        f"    chapters:\n      - file: book/report/{slug}\n", encoding="utf-8")
    vendor = repo / "book" / "_vendor"  # front-end files `make vendor` copies (html_static_path)
    if not vendor.exists():
        if (REPO_ROOT / "book" / "_vendor").is_dir():
            vendor.symlink_to(REPO_ROOT / "book" / "_vendor", target_is_directory=True)
        else:
            vendor.mkdir(parents=True)
    out = tmp_path / "build"
    cmd = build_command(repo, out)  # jupyter-book build -n -W --keep-going, as make book runs it
    code, log = run_module(cmd[2], cmd[3:], {**env, **kernel_server_env()})
    assert code == 0, log[-4000:]
    assert "build succeeded" in log and not re.search(r"WARNING:|ERROR:", log), log[-4000:]
    page = (out / "_build" / "html" / "book" / "report" / f"{slug}.html").read_text(encoding="utf-8")
    assert f"Aktivitetskataloget beskriver {n} aktiviteter." in re.sub(r"<[^>]+>", "", page)
    assert 'alt="Søjlediagram over antal aktiviteter' in page
    assert 'id="fig-proevekapitel-om-alliancen"' in page


# --------------------------------------------------------------------------- make lab
def test_lab_kernel_is_the_venv_python(tmp_path: Path) -> None:
    """The kernel JupyterLab starts for notebooks (python3) runs the venv's Python."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env["HOME"] = str(tmp_path)  # no user-level kernels can shadow the venv's
    specs = json.loads(subprocess.run([str(VENV_BIN / "jupyter"), "kernelspec", "list", "--json"],
                                      env=env, capture_output=True, text=True,
                                      check=True).stdout)["kernelspecs"]
    assert Path(specs["python3"]["resource_dir"]).is_relative_to(VENV_BIN.parent)
    code = ("from jupyter_client.manager import KernelManager;"
            "km = KernelManager(kernel_name='python3');"
            "print(km.format_kernel_cmd()[0])")
    cmd0 = subprocess.run([str(VENV_BIN / "python"), "-c", code], env=env, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert Path(cmd0) == VENV_BIN / "python" or Path(cmd0).resolve() == (
        VENV_BIN / "python").resolve()
    # and `make lab` starts the venv's jupyter lab (dry run: nothing is started)
    dry = subprocess.run(["make", "-n", "--no-print-directory", "lab"], cwd=REPO_ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert re.search(r"(^|\s)\.venv/bin/jupyter lab\b", dry), dry
