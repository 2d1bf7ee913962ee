"""The preview's standby build (``plusdig.sphinx.standby``): set up ahead, used for page edits only.

A reduced copy of the book is previewed in this process (:class:`plusdig.authoring.preview.Preview`
driven step by step, with the tests' build and kernel servers). After each build the preview
forks the next one, which sets Sphinx up and waits:

- a Markdown edit is built by it (its log says so), and the site equals a clean build's;
- a code edit likewise (the notebook runs after ``go``, with the edit);
- an edit under ``lib/`` (a Sphinx extension's code), a ``_toc.yml`` edit and a data edit each
  make the preview discard it and build anew; each change is on the next page;
- a standby told to go after a file it set up from changed (the race the preview's own check
  cannot see) builds nothing and exits ``STALE``; the site stays as it was.

Run under the shared CPU lock (it builds the reduced book about eight times).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

import nbformat
import pytest
import yaml
from buildkit import (
    _build_server,
    build_command,
    build_env,
    html,
    kernel_server,
    kernel_server_env,
    make_copy,
    page_text,
    run_module,
)
from test_build_integrity import assert_same_site, site

from plusdig.authoring import preview
from plusdig.sphinx.standby import STALE, Standby

pytestmark = pytest.mark.build

CHAPTERS = ["book/probe/data", "book/probe/code"]
CODE = "book/probe/code"
#: What a standby that built prints (plusdig.sphinx.standby).
USED = "plusdig.sphinx.standby: set up ahead"
#: Appended to the copy's plusdig.sphinx.build: a tag in every page written by that code.
LIB_EDIT = '''

_setup_before_test = setup


def setup(app):  # noqa: D103 - the standby test's edit of the library
    def tag(app, pagename, templatename, context, doctree):
        context["metatags"] = (context.get("metatags", "")
                               + '<meta name="plusdig-test" content="ny-kode">')
    app.connect("html-page-context", tag)
    return _setup_before_test(app)
'''


def _edit_cell(path: Path, index: int, old: str, new: str) -> None:
    nb = nbformat.read(path, as_version=4)
    assert old in nb.cells[index].source, nb.cells[index].source
    nb.cells[index].source = nb.cells[index].source.replace(old, new)
    nbformat.write(nb, path)


class Driver:
    """The preview's loop, one step at a time: edit, snapshot, build, fork the standby."""

    def __init__(self, copy: Path, out: Path) -> None:
        self.copy, self.out = copy, out
        self.messages: list[str] = []
        self.preview = preview.Preview(copy, out, say=self.messages.append,
                                       builder=_build_server(), kernels=kernel_server())
        self.roots = preview.watched_paths(copy)
        self.before = preview.snapshot(self.roots)

    def step(self) -> str:
        """Build what changed since the last step (as the preview does after a save), then
        fork the standby; the build's log."""
        time.sleep(0.01)  # a new modification time for the next edit
        now = preview.snapshot(self.roots)
        diff, self.before = preview.changed(self.before, now), now
        assert self.preview.build(diff, now), self.log()
        log = self.log()
        self.preview.make_standby(preview.snapshot(self.roots))
        assert self.preview.standby is not None
        return log

    def log(self) -> str:
        return self.preview.log_path.read_text(encoding="utf-8", errors="replace")

    def page(self, docname: str = CODE) -> str:
        return html(self.out, docname)

    def stop(self) -> None:
        if self.preview.standby is not None:
            self.preview.standby.discard()
            self.preview.standby = None


@pytest.fixture
def driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Driver:
    copy = make_copy(tmp_path / "repo", CHAPTERS)
    for key in [k for k in os.environ if k.startswith("PLUSDIG_")]:
        monkeypatch.delenv(key)
    for key, value in build_env(copy).items():
        monkeypatch.setenv(key, value)
    d = Driver(copy, tmp_path / "out")
    yield d
    d.stop()


def _sidebar(page: str) -> list[str]:
    """The chapters in the page's sidebar, in order."""
    nav = page.split("bd-docs-nav", 1)[1].split("</nav>", 1)[0]
    return [page_text(li) for li in re.findall(r'<li class="toctree-l1[^"]*">(.*?)</li>', nav,
                                               re.S)]


def test_page_edits_are_built_by_the_standby_and_other_changes_discard_it(
        driver: Driver, tmp_path: Path) -> None:
    first = driver.step()
    assert USED not in first  # the first build is an ordinary one
    code_nb = driver.copy / f"{CODE}.ipynb"

    # a Markdown cell: built by the standby, the site as a clean build of the same sources
    _edit_cell(code_nb, 2, "Værdien er", "Det formaterede tal er")
    log = driver.step()
    assert USED in log, log[-3000:]
    assert "Det formaterede tal er" in page_text(driver.page())
    cmd = build_command(driver.copy, tmp_path / "clean")  # from the book's folder, as the preview
    code, clean_log = run_module(cmd[2], cmd[3:], {**build_env(driver.copy), **kernel_server_env()},
                                 cwd=driver.copy)
    assert code == 0, clean_log[-3000:]
    assert_same_site(site(driver.out), site(tmp_path / "clean"))

    # a code cell: the standby runs the notebook with the edit
    _edit_cell(code_nb, 1, "fmt.number(1234567)", "fmt.number(7654321)")
    log = driver.step()
    assert USED in log and "7.654.321" in page_text(driver.page()), log[-3000:]

    # the library's Sphinx code: discarded, and the new code writes the pages
    lib = driver.copy / "lib/plusdig/sphinx/build.py"
    lib.write_text(lib.read_text(encoding="utf-8") + LIB_EDIT, encoding="utf-8")
    log = driver.step()
    assert USED not in log, log[-3000:]
    assert '<meta name="plusdig-test" content="ny-kode">' in driver.page()

    # the TOC: the chapters change places in every page's sidebar
    home, *order = _sidebar(driver.page())
    assert home == "Testbog" and len(order) == 2, order
    toc_path = driver.copy / "_toc.yml"
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    toc["chapters"].reverse()
    toc_path.write_text(yaml.safe_dump(toc), encoding="utf-8")
    log = driver.step()
    assert USED not in log, log[-3000:]
    assert _sidebar(driver.page()) == _sidebar(driver.page("book/probe/data")) \
        == [home, *order[::-1]]

    # a data value: the notebook that reads it runs again
    yaml_path = driver.copy / "data/activities.yaml"
    text = yaml_path.read_text(encoding="utf-8")
    title = re.search(r"^  title: (.+)$", text, flags=re.MULTILINE)
    assert title
    yaml_path.write_text(text.replace(title.group(0), "  title: Standbybussen 4711", 1),
                         encoding="utf-8")
    log = driver.step()
    assert USED not in log, log[-3000:]
    assert "Standbybussen 4711" in page_text(driver.page("book/probe/data"))

    # and the next text edit is the standby's again
    _edit_cell(code_nb, 2, "Det formaterede tal er", "Tallet er")
    log = driver.step()
    assert USED in log and "Tallet er" in page_text(driver.page()), log[-3000:]

    # the discarded standbys (four above, and the one waiting now) leave no log behind
    driver.stop()
    left = sorted(p.name for p in (driver.out / "_build").iterdir() if ".standby" in p.name)
    assert left == [], left


def _wait_until_sphinx_runs(standby: Standby, output: Path) -> None:
    """Until the standby's output shows that Sphinx is setting up."""
    deadline = time.monotonic() + 120
    while "Running Sphinx" not in (output.read_text(encoding="utf-8")
                                   if output.exists() else ""):
        assert standby.process.poll() is None, output.read_text(encoding="utf-8")
        assert time.monotonic() < deadline, "the standby did not set up"
        time.sleep(0.05)


def _wait_until_it_waits_on_its_fifo(standby: Standby, timeout: float = 120) -> None:
    """Until the standby's process is blocked reading its FIFO (Linux: ``/proc/PID/wchan`` is
    a pipe read, ``/proc/PID/syscall``'s file descriptor is the FIFO), i.e. done with what it
    sets up before it is told to go on; 3 s where ``/proc`` does not say."""
    proc = Path("/proc") / str(standby.process.pid)
    deadline = time.monotonic() + timeout
    while True:
        assert standby.process.poll() is None, "the standby ended"
        try:
            wchan = (proc / "wchan").read_text()
            fields = (proc / "syscall").read_text().split()
        except OSError:
            time.sleep(3)
            return
        if "pipe" in wchan and len(fields) > 1:
            with contextlib.suppress(OSError, ValueError):
                if os.readlink(proc / "fd" / str(int(fields[1], 16))) == str(standby.fifo):
                    return
        assert time.monotonic() < deadline, "the standby did not wait on its FIFO"
        time.sleep(0.05)


def test_a_standby_refuses_to_build_when_what_it_set_up_from_changed(driver: Driver) -> None:
    driver.step()
    driver.stop()
    output = driver.out / "_build" / "race.log"
    standby = Standby.fork(driver.preview.builder, driver.preview.command()[3:],
                           driver.preview._env(), driver.copy, output, driver.before)
    assert standby is not None
    try:
        _wait_until_sphinx_runs(standby, output)
        index = driver.out / "_build" / "html" / "index.html"
        mtime = index.stat().st_mtime_ns
        lib = driver.copy / "lib/plusdig/sphinx/build.py"
        lib.write_text(lib.read_text(encoding="utf-8") + LIB_EDIT, encoding="utf-8")
        standby.go()  # as if the preview's own look had missed the edit
        assert standby.process.wait(120) == STALE
        assert "the surroundings changed" in output.read_text(encoding="utf-8")
        assert index.stat().st_mtime_ns == mtime
        assert "ny-kode" not in driver.page()
    finally:
        standby.discard()


def test_the_next_standby_sets_up_while_a_standby_builds(driver: Driver, tmp_path: Path) -> None:
    """A page edit built by the standby forks the next standby at once, while it builds: that
    one sets Jupyter Book and Sphinx up, loads the saved environment only once the build has
    ended (``ready``), and builds the next edit; the site equals a clean build's."""
    import psutil

    driver.step()
    code_nb = driver.copy / f"{CODE}.ipynb"
    for text in ("Det formaterede tal er", "Tallet er"):
        old = "Værdien er" if text == "Det formaterede tal er" else "Det formaterede tal er"
        _edit_cell(code_nb, 2, old, text)
        time.sleep(0.01)
        now = preview.snapshot(driver.roots)
        diff, driver.before = preview.changed(driver.before, now), now
        assert driver.preview.build(diff, now), driver.log()
        ended = time.time()
        log = driver.log()
        assert USED in log and text in page_text(driver.page()), log[-3000:]
        early = driver.preview.standby
        assert early is not None and early.told_ready and early.process.poll() is None
        assert psutil.Process(early.process.pid).create_time() < ended - 0.2
    cmd = build_command(driver.copy, tmp_path / "clean")
    code, clean_log = run_module(cmd[2], cmd[3:], {**build_env(driver.copy), **kernel_server_env()},
                                 cwd=driver.copy)
    assert code == 0, clean_log[-3000:]
    assert_same_site(site(driver.out), site(tmp_path / "clean"))


def test_a_standby_loads_the_environment_only_when_told_ready(driver: Driver) -> None:
    driver.step()
    driver.stop()
    output = driver.out / "_build" / "early.log"
    standby = Standby.fork(driver.preview.builder, driver.preview.command()[3:],
                           driver.preview._env(), driver.copy, output, driver.before, ready=False)
    assert standby is not None
    try:
        _wait_until_sphinx_runs(standby, output)
        _wait_until_it_waits_on_its_fifo(standby)  # the rest of its set-up done
        assert standby.process.poll() is None
        assert "loading pickled environment" not in output.read_text(encoding="utf-8")
        standby.ready()
        standby.go()  # nothing changed: it says so and ends
        assert standby.process.wait(120) == 0, output.read_text(encoding="utf-8")
        text = output.read_text(encoding="utf-8")
        assert "loading pickled environment" in text and "intet er ændret" in text, text
    finally:
        standby.discard()
