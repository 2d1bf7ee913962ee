"""The no-change fast path (plusdig.sphinx.inputs): a build whose inputs did not change is
skipped, and a change to any kind of input makes the build run.

The build itself is replaced by a function that writes a minimal site (what the stamp checks),
so every kind of input can be changed in turn in a second; tests/test_build_cache.py checks the
fast path on a real build of a reduced copy.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from plusdig.sphinx import inputs


class Book:
    """A book folder, its outside data folder and survey file, and a fake build into ``out``."""

    def __init__(self, root: Path) -> None:
        self.src = root / "repo"
        self.out = root / "out"
        self.data = root / "data"
        self.survey = root / "survey.csv"
        files = {
            "_config.yml": "title: Prøve\n",
            "_toc.yml": "format: jb-book\nroot: book/index\n",
            "references.bib": "@book{a, title={A}}\n",
            "requirements.txt": "pandas==0\n",
            "book/index.md": "# Forside\n",
            "lib/plusdig/core/fmt.py": "X = 1\n",
            "udgaver/2027.1/index.html": "<p>gammel</p>\n",
        }
        for rel, text in files.items():
            (self.src / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.src / rel).write_text(text, encoding="utf-8")
        self.data.mkdir()
        (self.data / "activities.yaml").write_text("- id: a\n", encoding="utf-8")
        self.survey.write_text("svar\n1\n", encoding="utf-8")
        self.runs = 0
        self.result: int | BaseException = 0

    def args(self, *extra: str) -> list[str]:
        return ["build", str(self.src), "-n", "-W", "--keep-going", "--path-output",
                str(self.out), *extra]

    def fake_build(self, args: list[str]) -> int:
        self.runs += 1
        html = self.out / "_build" / "html"
        html.mkdir(parents=True, exist_ok=True)
        (html / "index.html").write_text("<p>side</p>", encoding="utf-8")
        (html / ".plusdig-generation").write_text(uuid.uuid4().hex, encoding="utf-8")
        doctrees = self.out / "_build" / ".doctrees"
        doctrees.mkdir(exist_ok=True)
        (doctrees / "environment.pickle").write_bytes(b"env")
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result

    def build(self, *extra: str) -> bool:
        """Run the fast path; True if the (fake) build ran."""
        before = self.runs
        assert inputs.build_unless_unchanged(self.args(*extra), self.fake_build) == 0
        return self.runs > before

    @property
    def stamp(self) -> Path:
        return self.out / "_build" / inputs.STAMP


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Book:
    for var in ("PLUSDIG_SURVEY", "PLUSDIG_BUILD_PAUSE", "SOURCE_DATE_EPOCH"):
        monkeypatch.delenv(var, raising=False)
    b = Book(tmp_path)
    monkeypatch.setenv("PLUSDIG_DATA", str(b.data))
    return b


def _append(path: Path, text: str = "\nændret\n") -> Callable[[Book], None]:
    return lambda b: (b.src / path).write_text((b.src / path).read_text(encoding="utf-8") + text,
                                               encoding="utf-8")


CHANGES: dict[str, Callable[..., None]] = {
    "book source": _append(Path("book/index.md")),
    "new page": lambda b: (b.src / "book/ny.md").write_text("# Ny\n", encoding="utf-8"),
    "library": _append(Path("lib/plusdig/core/fmt.py"), "Y = 2\n"),
    "_config.yml": _append(Path("_config.yml"), "author: B\n"),
    "_toc.yml": _append(Path("_toc.yml"), "chapters: []\n"),
    "references.bib": _append(Path("references.bib"), "@book{b, title={B}}\n"),
    "requirements.txt": _append(Path("requirements.txt"), "numpy==0\n"),
    "released edition": lambda b: (b.src / "udgaver/2027.1/ny.html").write_text("x"),
    "data value": lambda b: (b.data / "activities.yaml").write_text("- id: b\n"),
    "data file added": lambda b: (b.data / "actors.yaml").write_text("[]\n"),
    "survey file content": lambda b: b.survey.write_text("svar\n2\n", encoding="utf-8"),
    "site's PDF": lambda b: ((b.out / "_build/pdf").mkdir(exist_ok=True),
                             (b.out / "_build/pdf/plusdig-evaluering.pdf").write_bytes(b"%PDF")),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_kind_of_input_change_makes_the_build_run(
        book: Book, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    monkeypatch.setenv("PLUSDIG_SURVEY", str(book.survey))
    assert book.build(), "the first build runs"
    assert book.stamp.is_file()
    assert not book.build(), "nothing changed: the build is skipped"
    CHANGES[change](book)
    assert book.build(), f"{change} changed, but the build was skipped"
    assert not book.build(), "after the build that saw the change, the next is skipped"


def test_settings_commit_and_arguments_count(book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    assert book.build()
    assert not book.build()
    for var, value in (("PLUSDIG_SURVEY", str(book.survey)), ("PLUSDIG_K", "7"),
                       ("SOURCE_DATE_EPOCH", "1700000000")):
        monkeypatch.setenv(var, value)
        assert book.build(), f"{var} set: the build must run"
        assert not book.build()
    monkeypatch.setenv("PLUSDIG_KERNEL_SERVER", "/tmp/x")  # where kernels come from: no output
    assert not book.build()
    assert book.build("--builder", "html") and not book.build("--builder", "html")
    assert book.build(), "other arguments than the stamp's: the build runs"
    # a commit (the colophon names it) makes the build run, even with the same files
    subprocess.run(["git", "init", "-q", str(book.src)], check=True)
    assert book.build() and not book.build()
    git = ["git", "-C", str(book.src), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "første"], check=True)
    assert book.build(), "a new commit: the build runs"
    assert not book.build()


def test_what_the_build_left_must_be_unchanged(book: Book) -> None:
    assert book.build() and not book.build()
    (book.out / "_build/.doctrees/environment.pickle").unlink()  # Sphinx's environment gone
    assert book.build() and not book.build()
    (book.out / "_build/html/.plusdig-generation").write_text("en anden", encoding="utf-8")
    assert book.build() and not book.build()
    (book.out / "_build/html/index.html").unlink()  # the site gone
    assert book.build() and not book.build()
    # a modification time alone is no change
    index = book.src / "book/index.md"
    index.touch()
    assert not book.build()


def test_a_failed_or_interrupted_build_leaves_no_stamp(book: Book) -> None:
    assert book.build()
    book.result = 1
    _append(Path("book/index.md"))(book)
    assert inputs.build_unless_unchanged(book.args(), book.fake_build) == 1
    assert not book.stamp.exists()
    book.result = 0
    assert book.build(), "after a failed build the next one runs, though nothing changed"
    assert book.stamp.is_file()
    book.result = KeyboardInterrupt()
    _append(Path("book/index.md"))(book)
    with pytest.raises(KeyboardInterrupt):
        inputs.build_unless_unchanged(book.args(), book.fake_build)
    assert not book.stamp.exists()
    book.result = 0
    assert book.build()
    # a file changed while the build ran: the digest was taken before, so the next build runs
    def changing_build(args: list[str]) -> int:
        code = book.fake_build(args)
        _append(Path("book/index.md"))(book)
        return code
    _append(Path("references.bib"), "% ny\n")(book)
    runs = book.runs
    assert inputs.build_unless_unchanged(book.args(), changing_build) == 0
    assert book.runs == runs + 1
    assert book.build(), "a file changed during the build: the next build runs"


def test_unknown_arguments_and_interrupt_hooks_always_build(
        book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    assert book.build() and not book.build()
    assert book.build("--all") and book.build("--all")
    assert not book.stamp.exists(), "a build the stamp does not describe removes it"
    assert book.build() and not book.build()
    assert book.build("--builder", "singlehtml")
    assert book.build() and not book.build()
    monkeypatch.setenv("PLUSDIG_BUILD_PAUSE", "read:/tmp/x")
    assert book.build() and book.build()


def test_the_stamp_holds_no_path_or_setting(book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUSDIG_SURVEY", str(book.survey))
    assert book.build()
    (book.src / "book/kapitel.ipynb").write_text(_notebook("x = 1"), encoding="utf-8")
    assert book.build()
    text = book.stamp.read_text(encoding="utf-8")
    stamp = json.loads(text)
    assert set(stamp) == {"inputs", "state", "around", "code"}
    # digests, and the notebooks by their names in the book's folder
    assert stamp["code"].keys() == {"book/kapitel.ipynb"}
    assert str(book.survey) not in text and str(book.src) not in text
    assert str(book.out) not in text and str(book.data) not in text



# --------------------------------------------------------------------------- the validation first
def test_a_check_runs_before_every_build_and_a_failing_one_stops_it(book: Book) -> None:
    """``python -m plusdig build`` (``make book``) passes its data validation as ``check``: it
    runs before the build, whatever the build would do, and a failing one builds nothing."""
    calls: list[str] = []

    def check(code: int) -> Callable[[], int]:
        def run() -> int:
            calls.append(f"check {book.runs}")
            return code
        return run

    def counted(args: list[str]) -> int:
        calls.append("build")
        return book.fake_build(args)

    assert inputs.build_unless_unchanged(book.args(), counted, check(0)) == 0
    assert calls == ["check 0", "build"] and book.stamp.is_file()
    calls.clear()
    # unchanged inputs: the check still runs, the build does not
    assert inputs.build_unless_unchanged(book.args(), counted, check(0)) == 0
    assert calls == ["check 1"]
    calls.clear()
    # ... and a failing check there gives its code (not "nothing changed")
    assert inputs.build_unless_unchanged(book.args(), counted, check(1)) == 1
    assert calls == ["check 1"]
    calls.clear()
    # changed inputs and a failing check: no build, the old stamp is gone
    _append(Path("book/index.md"))(book)
    assert inputs.build_unless_unchanged(book.args(), counted, check(1)) == 1
    assert calls == ["check 1"] and not book.stamp.exists() and book.runs == 1
    calls.clear()
    # a build the stamp does not cover (another builder): the check first as well
    assert inputs.build_unless_unchanged(book.args("--builder", "singlehtml"), counted,
                                         check(1)) == 1
    assert calls == ["check 1"]
    calls.clear()
    assert inputs.build_unless_unchanged(book.args("--all"), counted, check(0)) == 0
    assert calls == ["check 1", "build"]


EXIT_SCRIPT = r"""
import atexit, logging, sys, threading, time
from pathlib import Path
from plusdig.sphinx.inputs import exit_fast
out = Path(sys.argv[1])
atexit.register(lambda: (out / "atexit").write_text("ran"))
handler = logging.FileHandler(out / "log.txt", delay=False)
logging.getLogger("t").addHandler(handler)
logging.getLogger("t").warning("logged")
def late():
    time.sleep(0.3)
    (out / "thread").write_text("done")
threading.Thread(target=late).start()
sys.stdout.write("no newline, still in the buffer")
sys.stderr.write("and on stderr")
exit_fast(3)
print("never")
"""


def test_exit_fast_ends_the_process_without_losing_anything(tmp_path: Path) -> None:
    """A build's process ends with :func:`inputs.exit_fast` (no interpreter teardown): the
    exit code, the buffered output, the atexit handlers, logging's files and the threads
    still running are all as after a normal exit."""
    import sys

    proc = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == "no newline, still in the buffer"
    assert proc.stderr == "and on stderr"
    assert (tmp_path / "atexit").read_text() == "ran"
    assert (tmp_path / "thread").read_text() == "done"
    assert (tmp_path / "log.txt").read_text() == "logged\n"


def _notebook(code: str, text: str = "Tekst", tags: tuple[str, ...] = (),
              outputs: tuple[dict[str, str], ...] = ()) -> str:
    return json.dumps({"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": text},
        {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": code,
         "outputs": list(outputs), "execution_count": 1 if outputs else None}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4, "nbformat_minor": 5})


def test_the_kernel_server_starts_early_when_a_notebook_will_likely_run(
        book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build that runs starts its kernel server before Jupyter Book's imports when its code
    or its surroundings changed since the last successful build; after an edit of text only
    (a text cell, a notebook's outputs, a page) it starts none (plusdig.sphinx.kernels)."""
    from plusdig.sphinx import kernels

    calls: list[bool] = []
    monkeypatch.setattr(kernels, "start_early",
                        lambda state_file, likely=False: calls.append(likely))
    nb = book.src / "book/kapitel.ipynb"
    nb.write_text(_notebook("x = 1"), encoding="utf-8")
    assert book.build()
    steps: list[tuple[str, Callable[[], object], bool]] = [
        ("a text cell", lambda: nb.write_text(_notebook("x = 1", "Ny tekst"), "utf-8"), False),
        ("the outputs", lambda: nb.write_text(_notebook(
            "x = 1", "Ny tekst", outputs=({"output_type": "stream", "name": "stdout",
                                          "text": "1\n"},)), "utf-8"), False),
        ("a page", lambda: _append(Path("book/index.md"))(book), False),
        ("a code cell", lambda: nb.write_text(_notebook("x = 2", "Ny tekst"), "utf-8"), True),
        ("a code cell's tags", lambda: nb.write_text(
            _notebook("x = 2", "Ny tekst", tags=("remove-cell",)), "utf-8"), True),
        ("a new notebook", lambda: (book.src / "book/nyt.ipynb").write_text(
            _notebook("y = 1"), "utf-8"), True),
        ("a data value", lambda: CHANGES["data value"](book), True),
        ("the library", lambda: CHANGES["library"](book), True),
        ("_config.yml", lambda: CHANGES["_config.yml"](book), True),
        ("a text cell again", lambda: nb.write_text(
            _notebook("x = 2", "Tredje tekst", tags=("remove-cell",)), "utf-8"), False),
    ]
    for name, change, likely in steps:
        calls.clear()
        change()
        assert book.build(), name
        assert calls == [likely], name
    assert inputs.code_digest(nb) != inputs.code_digest(book.src / "book/nyt.ipynb")
    # not a notebook's JSON: its bytes
    (book.src / "book/brudt.ipynb").write_text("{ikke json", encoding="utf-8")
    calls.clear()
    assert book.build() and calls == [True]
    assert "book/brudt.ipynb" in inputs.code_digests(book.src)
    # a released edition's copy of a notebook never runs: not the book's code
    (book.src / "udgaver/2027.1/_sources").mkdir(parents=True)
    (book.src / "udgaver/2027.1/_sources/kapitel.ipynb").write_text(_notebook("z = 1"), "utf-8")
    assert inputs.code_digests(book.src).keys() == {
        "book/kapitel.ipynb", "book/nyt.ipynb", "book/brudt.ipynb"}
