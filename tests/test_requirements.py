"""The pinned environment installs on every supported Python, without installing anything.

pip's resolver is asked, for each supported interpreter version, whether every pin in
``requirements.txt`` has a wheel that version accepts (``Requires-Python`` and wheel tags):
``pip install --dry-run --ignore-installed --only-binary=:all: --python-version X``. The
supported range is the one ``pyproject.toml`` declares; the versions checked are its lower
bound (Debian 12's 3.11.2) and the newest minor release below its upper bound, with 3.12 between.

pip reads its package index through :class:`PinnedIndex`, a local copy of it on 127.0.0.1: each
project's page is fetched from pip's index once for the three dry runs, and a pinned project's
page lists the files of the pinned release only, each file's entry as the index has it (URL,
hashes, ``Requires-Python``, yanked, metadata file). pip evaluates the same files and fetches
the same metadata as with the whole page, which lists every file of every release (about
130,000 files, parsed and matched against the target's tags by each of the three dry runs:
most of their ~40 s of CPU). A project that is not pinned (a dependency pip would add) gets its
whole page, as from the index itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import tomllib
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REQUIREMENTS = REPO / "requirements.txt"

#: Debian 12 ships 3.11.2; Ubuntu 24.04 ships 3.12; Debian 13 ships 3.13.
SUPPORTED = ("3.11.2", "3.12", "3.13")


def _range() -> tuple[str, str]:
    spec = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["requires-python"]
    low = re.search(r">=\s*([\d.]+)", spec)
    high = re.search(r"<\s*([\d.]+)", spec)
    assert low and high, f"pyproject.toml: requires-python {spec!r} needs a lower and an upper bound"
    return low.group(1), high.group(1)


def test_declared_range_is_the_one_checked() -> None:
    low, high = _range()
    assert low == SUPPORTED[0], f"pyproject.toml's lower bound {low} is not checked here"
    major, minor = (int(x) for x in high.split(".")[:2])
    assert SUPPORTED[-1] == f"{major}.{minor - 1}", (
        f"pyproject.toml allows Python below {high}; the newest allowed minor release must be "
        f"checked here (SUPPORTED ends with {SUPPORTED[-1]})")


def test_readme_states_the_range() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    assert f"Python {SUPPORTED[0]}" in readme and SUPPORTED[-1] in readme


def _pins() -> list[str]:
    return [line for line in REQUIREMENTS.read_text("utf-8").splitlines()
            if line.strip() and not line.startswith(("#", "-e"))]


def _pip_setting(name: str, default: str | None) -> str | None:
    """One of pip's settings as pip would see it (``$PIP_NAME``, else pip's configuration)."""
    env = os.environ.get(f"PIP_{name.upper().replace('-', '_')}")
    if env:
        return env
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                            text=True, check=True).stdout
    values = re.findall(rf"^[\w:]*\.{name}='([^']+)'$", listed, flags=re.MULTILINE)
    return values[-1] if values else default


#: The index pages' JSON form (PEP 691), which pip asks for first.
JSON_PAGE = "application/vnd.pypi.simple.v1+json"


def _release_of(filename: str) -> str | None:
    """The version of a wheel or source distribution file, normalised (None: not one)."""
    from packaging.utils import (InvalidSdistFilename, InvalidWheelFilename,
                                 parse_sdist_filename, parse_wheel_filename)

    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


class PinnedIndex:
    """pip's package index (``upstream``) served on 127.0.0.1 with each pinned project's page
    reduced to the pinned release's files; every page fetched from upstream once, whichever
    dry run asks first."""

    def __init__(self, pins: list[str], upstream: str) -> None:
        from packaging.utils import canonicalize_name
        from packaging.version import Version

        self.upstream = upstream.rstrip("/")
        #: project -> (the release as pinned, normalised)
        self.pins = {canonicalize_name(p.split("==")[0]): (p.split("==")[1],
                                                            str(Version(p.split("==")[1])))
                     for p in pins}
        self.pages: dict[str, Future[tuple[int, bytes]]] = {}
        self.lock = threading.Lock()
        # one session for every fetch (kept-alive connections: a name lookup and a TLS
        # handshake per connection, not per page), retrying as pip does, with pip's CA file
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        self.session = requests.Session()
        self.session.verify = _pip_setting("cert", None) or True
        retry = Retry(total=5, backoff_factor=0.25, status_forcelist=(500, 502, 503, 520, 527))
        self.session.mount("https://", HTTPAdapter(max_retries=retry, pool_maxsize=16))
        self.session.mount("http://", HTTPAdapter(max_retries=retry, pool_maxsize=16))

    def page(self, project: str) -> tuple[int, bytes]:
        with self.lock:
            future, mine = self.pages.get(project), False
            if future is None:
                future = self.pages[project] = Future()
                mine = True
        if mine:
            try:
                future.set_result(self._fetch(project))
            except BaseException as exc:  # noqa: BLE001 - raised to every asker
                with self.lock:  # not kept: the next ask (pip retries) fetches it again
                    del self.pages[project]
                future.set_exception(exc)
        return future.result()

    def _fetch(self, project: str) -> tuple[int, bytes]:
        response = self.session.get(f"{self.upstream}/{project}/", timeout=120,
                                    headers={"Accept": JSON_PAGE})
        if response.status_code == 404:
            return 404, b""
        response.raise_for_status()
        url, body = response.url, response.content
        page = json.loads(body)
        if project in self.pins:
            pinned, release = self.pins[project]
            # a file of the release has its version in its name (as pinned or normalised):
            # only those are parsed
            page["files"] = [f for f in page["files"]
                             if (pinned in f["filename"] or release in f["filename"])
                             and _release_of(f["filename"]) == release]
            if "versions" in page:
                page["versions"] = [v for v in page["versions"] if v in (pinned, release)]
        for entry in page["files"]:  # absolute URLs: the files stay where the index has them
            entry["url"] = urllib.parse.urljoin(url, entry["url"])
        return 200, json.dumps(page).encode("utf-8")

    @contextlib.contextmanager
    def serving(self) -> Iterator[str]:
        """Serve the index while the block runs; its URL."""
        index = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                project = self.path.strip("/").split("/")[-1]
                try:
                    code, body = index.page(project)
                except Exception:  # noqa: BLE001 - the index could not be read: pip retries
                    code, body = 503, b""
                self.send_response(code)
                self.send_header("Content-Type", JSON_PAGE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        # the pinned projects' pages fetched side by side at once (pip asks for them one
        # after another, each when it gets there)
        prefetch = ThreadPoolExecutor(max_workers=16)
        for project in self.pins:
            prefetch.submit(self.page, project)
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
        finally:
            prefetch.shutdown(wait=False, cancel_futures=True)
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def dry_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, Path]]:
    """pip's dry run for every supported version, the three started at once (they run side
    by side instead of one after another) on the same :class:`PinnedIndex`: version → (exit
    code, stderr, report file)."""
    tmp = tmp_path_factory.mktemp("pins")
    req = tmp / "requirements.txt"
    req.write_text("\n".join(_pins()) + "\n", encoding="utf-8")
    results = {}
    upstream = _pip_setting("index-url", "https://pypi.org/simple")
    assert upstream is not None
    with PinnedIndex(_pins(), upstream).serving() as index:
        started = {}
        for version in SUPPORTED:
            report = tmp / f"report-{version}.json"
            started[version] = (subprocess.Popen(
                [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                 "--only-binary=:all:", "--python-version", version, "--index-url", index,
                 "--trusted-host", "127.0.0.1", "--target", str(tmp / f"t-{version}"),
                 "--quiet", "--report", str(report), "-r", str(req)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), report)
        for version, (proc, report) in started.items():
            _, stderr = proc.communicate(timeout=600)
            results[version] = (proc.returncode, stderr, report)
    return results


@pytest.mark.parametrize("version", SUPPORTED)
def test_pins_install_on(version: str, dry_runs: dict[str, tuple[int, str, Path]]) -> None:
    pins = _pins()
    assert len(pins) > 100, "requirements.txt should pin the whole environment"
    returncode, stderr, report_path = dry_runs[version]
    errors = [line for line in stderr.splitlines() if line.startswith("ERROR")]
    assert returncode == 0, f"the pins do not install on Python {version}:\n" + "\n".join(errors)
    report = json.loads(report_path.read_text("utf-8"))
    names = {item["metadata"]["name"].lower().replace("_", "-") for item in report["install"]}
    missing = {p.split("==")[0].lower().replace("_", "-") for p in pins} - names
    assert not missing, f"Python {version}: pip would not install {sorted(missing)}"
    yanked = sorted(f"{item['metadata']['name']}=={item['metadata']['version']}"
                    for item in report["install"] if item.get("is_yanked"))
    assert not yanked, f"Python {version}: yanked releases pinned: {yanked}"
