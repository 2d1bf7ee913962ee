"""Shared fixtures.

Built-book fixtures (``built_pdf``, ``built_site``, ``book_config``, ``site_url``,
``browser``, ``offline_page``): tests of the published book use the build in ``_build/``
(``make pdf``, ``make book``), and build it first when it is missing or older than any of its
sources. ``PLUSDIG_BUILD=/path/to/_build`` points them at another build (for example a
personal ``--path-output`` build), which is then used as it is.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import http.server
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]

# Tests interrupt builds and the preview with SIGINT, as Ctrl-C does. A test run started as a
# background job of a shell without job control has SIGINT ignored, and every process it
# starts would inherit that and never be interrupted: give them Python's default back.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_configure(config: pytest.Config) -> None:
    """nbval's kernels (``--nbval-lax``: every notebook of the book, one kernel each) are
    forked from the session's kernel server (``buildkit.kernel_server``), as the book's build
    forks them, instead of starting a Python and importing pandas, matplotlib and seaborn per
    notebook: each is still a new kernel, used for one notebook, with this process's
    environment and the notebook's folder. tests/test_determinism.py shows that forked and
    cold kernels give the same outputs; ``PLUSDIG_TEST_FORKED_BUILDS=0`` gives nbval its own
    cold kernels."""
    if not config.pluginmanager.hasplugin("nbval") or \
            os.environ.get("PLUSDIG_TEST_FORKED_BUILDS") == "0":
        return
    import nbval.kernel

    cold = nbval.kernel.start_new_kernel

    def start_new_kernel(startup_timeout: float = 60, kernel_name: str = "python",
                         **kwargs: Any) -> tuple[Any, Any]:
        import uuid

        from buildkit import kernel_server
        from jupyter_client import KernelManager
        from traitlets.config import Config

        from plusdig.sphinx.forkkernel import kernel_manager

        server = kernel_server()
        if server is None or kernel_name != "python3":
            return cold(startup_timeout=startup_timeout, kernel_name=kernel_name, **kwargs)
        # nbval drives a blocking manager and client; the forkserver's manager is asynchronous
        # (nbclient's): a blocking one with the same provisioner, which asks the server
        forking = type(kernel_manager(server, kernel_name, Config()).provisioner)
        km = KernelManager(kernel_name=kernel_name, config=Config())
        km.kernel_id = str(uuid.uuid4())
        km.provisioner = forking(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)
        km.start_kernel(**kwargs)
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=startup_timeout)
        except RuntimeError:
            kc.stop_channels()
            km.shutdown_kernel()
            raise
        return km, kc

    nbval.kernel.start_new_kernel = start_new_kernel


#: The files that take longest (worker seconds of ``make test --durations=0`` on a loaded
#: 2-core machine, 2 December 2026 (docs/benchmark.md), with the survey build files' shared
#: builds counted where they are made; the first four as measured after that evening's cuts),
#: longest first. ``make
#: test`` hands whole files to its two processes in collection order (``--dist loadfile
#: --no-loadscope-reorder``): started first, the long files do not end up alone at the end
#: while the other process has nothing left to do. A file not listed keeps its place after
#: these; the order changes no test's outcome. The survey files share builds
#: (tests/survey_builds.py): test_survey_options_build.py comes well after
#: test_survey_linked_build.py and test_survey_leak.py, which make them, so that it finds them
#: made instead of waiting for a process that is making one.
SLOWEST_FIRST = (
    "tests/test_browser_layout.py", "tests/test_determinism.py", "tests/test_hostile.py",
    "tests/test_figure_memo.py", "tests/test_build_integrity.py", "tests/test_build_partial.py",
    "tests/test_build_cache.py", "tests/test_survey_linked_build.py", "tests/test_venv.py",
    "tests/test_chapter.py", "tests/test_requirements.py", "tests/test_survey_leak.py",
    "tests/test_preview.py", "tests/test_editions.py", "tests/test_pdf.py",
    "tests/test_annex_build.py", "tests/test_audit.py", "tests/test_preview_standby.py",
    "tests/test_survey_tables.py", "tests/test_figure_legibility.py",
    "tests/test_survey_design.py", "tests/test_survey_options_build.py",
    "tests/test_precommit.py", "tests/test_cli.py", "tests/test_linked_fast.py",
    "tests/test_downloads.py", "tests/test_reader.py", "tests/test_failures.py",
    "tests/test_warm_kernels.py", "tests/test_chapter_api.py",
    "book/report/aktiviteterne.ipynb", "tests/test_browser.py", "tests/test_sitezip.py",
    "book/report/trivsel-dybden.ipynb",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The files of :data:`SLOWEST_FIRST` first, in its order; each file's tests stay
    together and in their order (a stable sort by file)."""
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


#: What the book is built from; a build older than any of these is rebuilt.
BOOK_SOURCES = ("_config.yml", "_toc.yml", "references.bib", "package-lock.json", "book", "locales",
                "lib/plusdig", "data")
#: Folders under BOOK_SOURCES that the build itself writes.
_GENERATED = ("book/_vendor", "book/annex/generated", "__pycache__", ".ipynb_checkpoints")
#: Written by the Makefile's ``pdf`` and ``book`` targets after a successful build.
BUILD_STAMP = ".plusdig-built"

#: Chromium's flags on this kind of machine (Debian's chromium, as root, closed network).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


# ----------------------------------------------------------------------------- built book
def _newest_source_mtime() -> float:
    newest = 0.0
    for name in BOOK_SOURCES:
        path = REPO / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
            continue
        for root, dirs, files in os.walk(path):
            rel = Path(root).relative_to(REPO).as_posix()
            dirs[:] = [d for d in dirs
                       if not any(f"{rel}/{d}".startswith(g) or d == g for g in _GENERATED)]
            for f in files:
                newest = max(newest, (Path(root) / f).stat().st_mtime)
    return newest


def _fresh(outdir: Path) -> bool:
    stamp = outdir / BUILD_STAMP
    return stamp.is_file() and stamp.stat().st_mtime >= _newest_source_mtime()


def _make(target: str) -> None:
    log = REPO / "_build" / f"make-{target}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        done = subprocess.run(["make", target], cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = "\n".join(log.read_text(encoding="utf-8").splitlines()[-60:])
        pytest.fail(f"`make {target}` failed (log: {log}):\n{tail}", pytrace=False)


@contextlib.contextmanager
def _build_lock(root: Path) -> Iterator[None]:
    """Held while a test process builds or changes ``root`` (``make test`` runs the tests in
    parallel processes, pytest-xdist: one of them builds, the others wait and then find the
    build current)."""
    import fcntl

    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".tests-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build_root() -> tuple[Path, bool]:
    """The ``_build`` folder and whether the tests may (re)build it."""
    env = os.environ.get("PLUSDIG_BUILD")
    return (Path(env).resolve(), False) if env else (REPO / "_build", True)


@pytest.fixture(scope="session")
def built_pdf() -> Path:
    """The book's PDF (``make pdf``), current with its sources."""
    from plusdig.sphinx.site import PDF_NAME

    root, may_build = _build_root()
    outdir = root / "pdf"
    if may_build and not _fresh(outdir):
        with _build_lock(root):
            if not _fresh(outdir):  # another test process may have built it meanwhile
                _make("pdf")
    pdf = outdir / PDF_NAME
    assert pdf.is_file(), f"no PDF at {pdf}"
    return pdf


@pytest.fixture(scope="session")
def built_site(built_pdf: Path) -> Path:
    """The HTML site (``make book``), current with its sources, with the PDF in it."""
    import shutil

    root, may_build = _build_root()
    outdir = root / "html"
    if may_build and not _fresh(outdir):
        with _build_lock(root):
            if not _fresh(outdir):
                _make("book")
    assert (outdir / "index.html").is_file(), f"no site at {outdir}"
    target = outdir / built_pdf.name
    if not target.is_file() or target.stat().st_mtime < built_pdf.stat().st_mtime:
        with _build_lock(root):  # never a half-copied PDF for another test process
            if not target.is_file() or target.stat().st_mtime < built_pdf.stat().st_mtime:
                shutil.copy2(built_pdf, target)
    return outdir


def _expand(entry: dict[str, Any]) -> list[str]:
    if "file" in entry:
        return [str(entry["file"]).removesuffix(".md").removesuffix(".ipynb")]
    if "glob" in entry:
        hits = sorted({Path(p).with_suffix("").as_posix()
                       for p in glob.glob(entry["glob"] + ".*", root_dir=REPO)
                       if p.endswith((".md", ".ipynb"))} | {
                           Path(p).with_suffix("").as_posix()
                           for p in glob.glob(entry["glob"], root_dir=REPO)
                           if p.endswith((".md", ".ipynb"))})
        return hits
    return []


@pytest.fixture(scope="session")
def book_config(built_site: Path) -> dict[str, Any]:
    """The book as configured: title, subtitle, root page, parts and chapter docnames.

    Read from ``_config.yml`` and ``_toc.yml`` (globs expanded after the build, which
    generates some pages).
    """
    import yaml

    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    parts = []
    for part in toc.get("parts", []):
        chapters: list[str] = []
        for entry in part.get("chapters", []):
            chapters.extend(_expand(entry))
        parts.append({"caption": part.get("caption", ""),
                      "numbered": bool(part.get("numbered")), "chapters": chapters})
    return {
        "title": config["title"],
        "subtitle": config["publication"]["subtitle"],
        "root": str(toc["root"]).removesuffix(".md"),
        "parts": parts,
        "chapters": [c for p in parts for c in p["chapters"]],
    }


@pytest.fixture(scope="session")
def chapter_titles(built_site: Path, book_config: dict[str, Any]) -> dict[str, str]:
    """Each chapter's title as the built site shows it (its page's ``<h1>``)."""
    from bs4 import BeautifulSoup

    titles = {}
    for chapter in book_config["chapters"]:
        soup = BeautifulSoup((built_site / f"{chapter}.html").read_text(encoding="utf-8"),
                             "html.parser")
        h1 = (soup.select_one("main article") or soup).find("h1")
        assert h1 is not None, chapter
        for extra in h1.select(".section-number, .headerlink"):
            extra.decompose()
        titles[chapter] = " ".join(h1.get_text(" ", strip=True).split())
    return titles


# ----------------------------------------------------------------------------- served site
#: Served beside the site by :func:`site_url` for the browser tests (axe-core, from npm): a
#: script the browser fetches once and keeps compiled, instead of its 550 kB sent through
#: Playwright into every page the tests scan.
TEST_SCRIPTS = {"/__plusdig-tests__/axe.min.js": REPO / "node_modules" / "axe-core" / "axe.min.js"}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def translate_path(self, path: str) -> str:
        script = TEST_SCRIPTS.get(path.split("?", 1)[0])
        return str(script) if script is not None else super().translate_path(path)

    def end_headers(self) -> None:
        if self.path in TEST_SCRIPTS:  # kept by the browser for the whole run
            self.send_header("Cache-Control", "max-age=3600")
        super().end_headers()


@pytest.fixture(scope="session")
def site_url(built_site: Path) -> Iterator[str]:
    """The built site served on 127.0.0.1 (a free port) by a threaded http.server."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser build).

    Every request to another host than 127.0.0.1 goes to a proxy on a local port that takes
    no connection (bound, never listening), so it fails at once and nothing leaves the
    machine (Chromium never sends loopback requests to a proxy); :func:`record_other_hosts`
    records such requests.

    One per test file, not per session: while Playwright's synchronous API is open, its event
    loop runs in this thread, and a later test file of the same process that calls
    ``asyncio.run`` would fail ("cannot be called from a running event loop")."""
    import socket

    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} missing: apt-get install chromium"
    with socket.socket() as dead, sync_playwright() as p:
        dead.bind(("127.0.0.1", 0))
        proxy = f"--proxy-server=http://127.0.0.1:{dead.getsockname()[1]}"
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=[*CHROMIUM_ARGS, proxy])
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class OfflinePage:
    """A browser page that may only talk to the test server; what else it tried is recorded."""

    page: Any
    base_url: str
    external_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    #: Requests of this context started and not yet finished or failed.
    in_flight: set[Any] = field(default_factory=set)

    def open(self, rel: str, *, settled: bool = False) -> Any:
        """Go to ``rel`` on the served site and wait until the network is idle (no request
        for 500 ms: Playwright's ``networkidle``).

        ``settled=True`` waits for what the page does instead of a fixed quiet time: the
        ``load`` event (every script, style sheet and image the page names), then
        :func:`wait_settled`. A request a page starts later is still recorded in
        ``external_requests``/``console_errors`` (the context's listeners stay on), so a
        caller that checks every load's share of them sees it.
        """
        url = f"{self.base_url}/{rel.lstrip('/')}"
        if not settled:
            self.page.goto(url, wait_until="networkidle")
            return self.page
        self.page.goto(url, wait_until="load")
        self.wait_settled()
        return self.page

    def wait_settled(self, timeout: float = 30.0) -> None:
        """:func:`wait_settled` for this page."""
        wait_settled(self.page, self.in_flight, timeout)


def record_other_hosts(context: Any, site_url: str, record: list[str]) -> None:
    """Append to ``record`` the URL of every request of browser ``context`` to anything but
    ``site_url``'s origin (and ``data:``/``blob:`` URLs). The :func:`browser` sends such
    requests to a proxy that is not there, so they fail without leaving the machine; they are
    recorded from the context's events, not routed: Playwright turns the browser's cache off
    for a routed context, and every page would fetch the theme's files again."""
    origin = site_url.rstrip("/")
    own = (origin + "/", "data:", "blob:")
    context.on("request", lambda r: r.url == origin or r.url.startswith(own)
               or record.append(r.url))


def track_requests(context: Any) -> set[Any]:
    """The requests of browser ``context`` started and not yet finished or failed (a set kept
    current by the context's events, for :func:`wait_settled`)."""
    in_flight: set[Any] = set()
    context.on("request", lambda r: in_flight.add(r))
    context.on("requestfinished", lambda r: in_flight.discard(r))
    context.on("requestfailed", lambda r: in_flight.discard(r))
    return in_flight


def wait_settled(page: Any, in_flight: set[Any], timeout: float = 30.0) -> None:
    """Wait until no request is in flight (``in_flight`` from :func:`track_requests`), the
    fonts the page uses are loaded and two frames are drawn, and then again until no request
    is in flight: what the page does after its ``load`` event, waited for by what it is
    rather than by a fixed quiet time (Playwright's ``networkidle``: 500 ms without a
    request)."""
    import time

    deadline = time.monotonic() + timeout
    for step in ("requests", "frames", "requests"):
        if step == "frames":
            page.evaluate("""async () => { await document.fonts.ready; await new Promise(
                (r) => requestAnimationFrame(() => requestAnimationFrame(r))); }""")
            continue
        while in_flight:
            assert time.monotonic() < deadline, f"requests still open: {in_flight}"
            page.wait_for_timeout(10)


@contextlib.contextmanager
def _offline_page(browser: Any, site_url: str) -> Iterator[OfflinePage]:
    """A fresh browser context whose requests to any other host are blocked and recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK",
                                  service_workers="block")
    page = context.new_page()
    result = OfflinePage(page=page, base_url=site_url)
    record_other_hosts(context, site_url, result.external_requests)
    result.in_flight = track_requests(context)
    page.on("console", lambda m: m.type == "error" and result.console_errors.append(m.text))
    page.on("pageerror", lambda e: result.console_errors.append(f"pageerror: {e}"))
    page.on("response", lambda r: r.status >= 400
            and result.console_errors.append(f"HTTP {r.status}: {r.url}"))
    try:
        yield result
    finally:
        context.close()


@pytest.fixture
def offline_page(browser: Any, site_url: str) -> Iterator[OfflinePage]:
    """A fresh browser context whose requests to any other host are blocked and recorded."""
    with _offline_page(browser, site_url) as result:
        yield result


@pytest.fixture(scope="module")
def module_offline_page(browser: Any, site_url: str) -> Iterator[OfflinePage]:
    """:func:`offline_page` for a module-scoped fixture that opens every page once for
    several tests."""
    with _offline_page(browser, site_url) as result:
        yield result
