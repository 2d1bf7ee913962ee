"""A failed build ends with a short Danish summary (plusdig.sphinx.failures).

Unit tests read build logs shaped as Jupyter Book writes them (a cell that raised, an unknown
glue key, a plain Sphinx warning, an exception in the build itself). The build tests make a
reduced copy fail for real, twice: a cell that raises and a misspelt glue key each give the
summary (notebook, cell, the exception's last line or the nearest defined keys) instead of
Sphinx's traceback and bug-report text, name the full log, and leave the site of the last
good build in place.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from buildkit import PROBE_CODE, build, html, make_copy, page_text, run_build

from plusdig.sphinx import failures

ANSI_RED = "\x1b[91m"


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Titel")] + [
        nbformat.v4.new_code_cell(s) if not s.startswith("md:") else
        nbformat.v4.new_markdown_cell(s[3:]) for s in sources]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def test_raising_cell_names_notebook_cell_and_last_line(tmp_path: Path) -> None:
    nb = _notebook(tmp_path / "book/kapitel.ipynb", "x = 1", "import plusdig\nplusdig.load()")
    log = (f"plusdig.sphinx.build: {nb} failed; the book build will re-run it\n"
           f"{ANSI_RED}{nb}: WARNING: Executing notebook failed: CellExecutionError "
           "[mystnb.exec]\n\nException occurred:\n  File \"x.py\", line 1\n"
           "A bug report can be filed in the tracker at <https://github.com/sphinx-doc/sphinx/"
           "issues>. Thanks!\nTraceback (most recent call last):\n"
           "nbclient.exceptions.CellExecutionError: An error occurred while executing the "
           "following cell:\n------------------\nimport plusdig\nplusdig.load()\n"
           "------------------\n\n\n\x1b[31mDataValidationError\x1b[39m   Traceback\n"
           "----> 2 plusdig.data.load()\n\nDataValidationError: data/activities.yaml: række 3: "
           "feltet 'year' mangler\n\n\nThe above exception was the direct cause of the "
           f"following exception:\n\nmyst_nb.core.execute.base.ExecutionError: {nb}\n")
    found = failures.problems(log, tmp_path)
    assert found == [failures.Problem(
        "book/kapitel.ipynb", 3,
        "DataValidationError: data/activities.yaml: række 3: feltet 'year' mangler")]
    text = failures.summary(found, tmp_path / "build.log")
    assert "book/kapitel.ipynb, celle 3: DataValidationError" in text
    assert f"Hele loggen: {tmp_path / 'build.log'}" in text
    assert "bug report" not in text and "Traceback" not in text


def test_unknown_glue_key_suggests_the_nearest_defined_keys(tmp_path: Path) -> None:
    nb = _notebook(tmp_path / "book/k.ipynb",
                   "glue('antal_aktiviteter', 13, display=False)\n"
                   "glue(\"antal_partnere\", 9, display=False)\nglue('andel', 0.5)",
                   "md:Der var {glue:text}`antal_aktivitter` aktiviteter.")
    log = (f"{nb}:30002: WARNING: No key 'antal_aktivitter' found in glue data for this "
           "document. (use `path::key`, to glue from another document) [mystnb.glue]\n")
    (problem,) = failures.problems(log, tmp_path)
    assert problem.path == "book/k.ipynb" and problem.cell == 3
    assert "glue-nøglen 'antal_aktivitter'" in problem.message
    assert "stavefejl? Nærmeste definerede nøgler: antal_aktiviteter" in problem.message
    # nothing close: the keys there are
    log = log.replace("antal_aktivitter", "xyz")
    (problem,) = failures.problems(log, tmp_path)
    assert "stavefejl" not in problem.message
    assert "andel, antal_aktiviteter, antal_partnere" in problem.message


def test_other_warnings_and_build_exceptions(tmp_path: Path) -> None:
    log = (f"{tmp_path}/book/intro.md:12: WARNING: undefined label: 'fig-x' [ref.ref]\n"
           "[IPKernelApp] WARNING | Kernel is running over TCP without encryption.\n"
           "WARNING: a warning without a place\n")
    found = failures.problems(log, tmp_path)
    assert [p.line() for p in found] == [
        "book/intro.md: linje 12: undefined label: 'fig-x'",
        "bogen: a warning without a place"]
    crash = ("Exception occurred:\n  File \"/x/sphinx/builders/__init__.py\", line 3, in read\n"
             "KeyError: 'book/mangler'\nThe full traceback has been saved in /tmp/x.log\n")
    assert [p.message for p in failures.problems(crash, tmp_path)] == ["KeyError: 'book/mangler'"]
    assert "Årsagen står i loggen" in failures.summary([], None)


def test_run_logged_keeps_the_traceback_off_the_terminal(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    def failing_build() -> int:
        print("Running Sphinx")
        print("Exception occurred:\n  File x\nA bug report can be filed in the tracker")
        raise RuntimeError("There was an error in building your book")

    log = tmp_path / "build.log"
    assert failures.run_logged(failing_build, log, tmp_path) == 1
    out, err = capsys.readouterr()
    assert "Running Sphinx" in out
    assert "bug report" not in out + err and "Traceback" not in out + err
    assert "Bogen kunne ikke bygges" in err and f"Hele loggen: {log}" in err
    kept = log.read_text(encoding="utf-8")
    assert "A bug report can be filed" in kept and "Traceback" in kept
    assert failures.run_logged(lambda: 0, log, tmp_path) == 0
    assert "Bogen kunne ikke bygges" not in capsys.readouterr().err


def test_an_exception_that_ended_the_build_is_told_where_the_files_say_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A ``_toc.yml`` that is no YAML: the file, the line where it failed and the line where
    the open bracket is, in the terminal and (for the preview, which reads the log) in :func:`failures.problems`; a table
    of contents of the wrong shape (Jupyter Book raises its own error while handling
    sphinx-external-toc's); any other exception: its type and first line."""
    import yaml
    from sphinx_external_toc.parsing import MalformedError

    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: index\nchapters:\n  - file: [kapitel\n",
                   encoding="utf-8")

    def yaml_build() -> int:
        with toc.open(encoding="utf-8") as f:
            yaml.safe_load(f)
        return 0

    log = tmp_path / "build.log"
    assert failures.run_logged(yaml_build, log, tmp_path) == 1
    told = ("_toc.yml: linje 5, kolonne 1: ikke gyldig YAML (expected ',' or ']', but got "
            "'<stream end>'; while parsing a flow sequence fra linje 4, kolonne 11)")
    err = capsys.readouterr().err
    assert told in err and "Traceback" not in err, err
    assert told in failures.problems(log.read_text(encoding="utf-8"), tmp_path)[0].line()

    def malformed_build() -> int:
        try:
            raise MalformedError("entry does not contain one of {'file'} @ '/chapters/0'")
        except MalformedError as exc:
            raise RuntimeError("The Table of Contents file is malformed") from exc

    assert failures.run_logged(malformed_build, log, tmp_path) == 1
    assert ("_toc.yml: indholdsfortegnelsen er ugyldig: entry does not contain one of "
            "{'file'} @ '/chapters/0'") in capsys.readouterr().err
    assert failures.problem_of(ValueError("første linje\nanden"), tmp_path).line() == \
        "bogen: ValueError: første linje"


def test_a_notebook_that_is_no_json_is_named_and_a_merge_conflict_said(tmp_path: Path) -> None:
    """The build's first look at a notebook (is it current?) names the file that nbformat
    cannot read, the line of the JSON error, and a merge conflict git left in it; the
    summary says it as that file's problem (Sphinx and Jupyter Book wrap it twice)."""
    from plusdig.sphinx.execute import is_current

    good = nbformat.writes(nbformat.v4.new_notebook())
    path = tmp_path / "book" / "kapitel.ipynb"
    path.parent.mkdir()
    path.write_text("<<<<<<< HEAD\n" + good + "=======\n" + good + ">>>>>>> ny\n",
                    encoding="utf-8")
    with pytest.raises(failures.UnreadableNotebook) as caught:
        is_current(None, str(path), {}, {})
    try:
        try:
            raise caught.value
        except failures.UnreadableNotebook as exc:
            raise RuntimeError(f"{ANSI_RED}{'=' * 40}\x1b[0m\n\nThere was an error") from exc
    except RuntimeError as outer:
        told = failures.problem_of(outer, tmp_path).line()
    assert told == ("book/kapitel.ipynb: notebooken kan ikke læses: ikke gyldig JSON (linje 1, "
                    "kolonne 1); der står en flettekonflikt fra git i filen (<<<<<<<)")
    path.write_text(good[:40], encoding="utf-8")
    with pytest.raises(failures.UnreadableNotebook, match=r"ikke gyldig JSON \(linje \d+") as cut:
        is_current(None, str(path), {}, {})
    assert "flettekonflikt" not in str(cut.value)
    # a data file that is not valid: the file, then the rest of the loader's message
    from plusdig.core.errors import DataValidationError

    bad = DataValidationError(tmp_path / "data/actors.csv", "unknown code 'kommune'",
                              record="row 2 (id=x)", field="sector", expected="a sector code")
    assert failures.problem_of(bad, tmp_path).line() == (
        "data/actors.csv: row 2 (id=x), field 'sector': unknown code 'kommune' (expected: a "
        "sector code)")
    # any other exception: the innermost that says something, not the ruler around it
    try:
        try:
            raise KeyError("book/mangler")
        except KeyError as exc:
            raise RuntimeError(f"{ANSI_RED}{'=' * 40}\x1b[0m\n") from exc
    except RuntimeError as outer:
        assert failures.problem_of(outer, tmp_path).line() == "bogen: KeyError: 'book/mangler'"


def test_a_chapter_the_toc_names_that_is_not_there(tmp_path: Path) -> None:
    """sphinx-external-toc's warning (on the root page, with an empty line number) is told as
    the table of contents' problem, before what follows from it."""
    log = (f"{tmp_path}/book/index.md:: WARNING: toctree contains reference to nonexisting "
           "document 'book/report/forordd' [etoc.ref]\n"
           f"{tmp_path}/book/index.md:28: WARNING: undefined label: 'kap-forord' [ref.ref]\n")
    assert [p.line() for p in failures.problems(log, tmp_path)] == [
        "_toc.yml: kapitlet 'book/report/forordd' findes ikke (ingen .ipynb eller .md af det "
        "navn)",
        "book/index.md: linje 28: undefined label: 'kap-forord'"]


def test_a_config_that_is_no_yaml_ends_as_a_failed_build(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A ``_config.yml`` the build cannot read, before the build's own log exists: the Danish
    summary with the file and line, the traceback in the log, not in the terminal."""
    from plusdig.sphinx import build as plusdig_build

    (tmp_path / "_config.yml").write_text('title: "+DIG\nauthor: x\n', encoding="utf-8")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: index\n", encoding="utf-8")
    out = tmp_path / "out"
    assert plusdig_build.main(["jb", "build", str(tmp_path), "--path-output", str(out)]) == 1
    err = capsys.readouterr().err
    assert "Bogen kunne ikke bygges" in err and "Traceback" not in err, err
    assert ("_config.yml: linje 3, kolonne 1: ikke gyldig YAML (found unexpected end of "
            "stream; while scanning a quoted scalar fra linje 1, kolonne 8)") in err, err
    log = out / "_build" / failures.LOG_NAME
    assert f"Hele loggen: {log}" in err and "Traceback" in log.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- real builds
def _failing_build(copy: Path, out: Path) -> str:
    code, log = run_build(copy, out)
    assert code != 0
    return log


@pytest.mark.build
def test_failed_builds_summarise_in_danish_and_keep_the_site(tmp_path: Path) -> None:
    copy = make_copy(tmp_path / "repo", ["book/probe/data", "book/probe/code"])
    out = tmp_path / "out"
    build(copy, out)
    good_code, good_data = html(out, "book/probe/code"), html(out, "book/probe/data")
    assert "1.234.567" in page_text(good_code)
    log_file = out / "_build" / failures.LOG_NAME

    # a cell that raises
    code_nb = copy / "book/probe/code.ipynb"
    nb = nbformat.read(code_nb, as_version=4)
    nb.cells[1].source += "\nraise ValueError('Antallet passer ikke med citatet: 12 ≠ 13')"
    nbformat.write(nb, code_nb)
    log = _failing_build(copy, out)
    assert "book/probe/code.ipynb, celle 2: ValueError: Antallet passer ikke med citatet: " \
        "12 ≠ 13" in log, log[-3000:]
    assert "Bogen kunne ikke bygges" in log and f"Hele loggen: {log_file}" in log
    assert "bug report" not in log and "Traceback (most recent call last)" not in log
    assert "A bug report can be filed" in log_file.read_text(encoding="utf-8")
    assert html(out, "book/probe/code") == good_code  # the previous site stays

    # an unknown glue key (the code fixed again)
    nbformat.write(PROBE_CODE, code_nb)
    data_nb = copy / "book/probe/data.ipynb"
    nb = nbformat.read(data_nb, as_version=4)
    nb.cells[2].source = nb.cells[2].source.replace("`first_title`", "`first_titel`")
    nbformat.write(nb, data_nb)
    log = _failing_build(copy, out)
    assert ("book/probe/data.ipynb, celle 3: glue-nøglen 'first_titel' er ikke defineret i "
            "notebooken – stavefejl? Nærmeste definerede nøgler: first_title") in log, log[-3000:]
    assert ":30002" not in log.split("Bogen kunne ikke bygges")[1]
    assert html(out, "book/probe/data") == good_data
