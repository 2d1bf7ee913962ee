"""Live preview of the book: ``make preview`` (``python -m plusdig.authoring.preview``).

Builds the book as ``make book`` does, serves the site on ``127.0.0.1`` (``--port``, default
8000), watches the book's sources (``book/``, ``data/``, ``lib/``, ``_config.yml``,
``_toc.yml``, ``references.bib`` and the survey file named by ``PLUSDIG_SURVEY``) and rebuilds
when one changes. The build's own dependency tracking (:mod:`plusdig.sphinx.build`) decides
what runs: a data change re-runs exactly the notebooks that read the file, a text edit runs
nothing.

The pages it serves carry a small script that reloads the open page as soon as a build has
finished: it keeps one request open (``/__preview__/wait``) that the server answers when the
build state changes; the files in ``_build/html`` never do (the script is added as a page is
sent). The sources are looked at every 50 ms (a look at the ~150 files takes about a
millisecond), and a build starts 0.1 s after the last write of a save: the *standby* build set
up while or after the last one ran (:mod:`plusdig.sphinx.standby`) if only pages' sources were
modified since. A failed build publishes nothing, so the pages stay those of the last build that
succeeded, with a box at the foot of the window naming the notebook, the cell and the error
(:mod:`plusdig.sphinx.failures`); the terminal shows the same. The next good build removes the
box. Ctrl-C stops the build that is running, the standby, every kernel, and the server.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import html
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from plusdig.sphinx import failures
from plusdig.sphinx.standby import STALE, Standby

#: What the preview watches, relative to the book's folder (plus ``$PLUSDIG_SURVEY``).
WATCHED = ("book", "data", "lib", "_config.yml", "_toc.yml", "references.bib")
#: Folders under the watched ones that are no source: caches, and what the build writes.
IGNORED_DIRS = frozenset({"_build", "__pycache__", ".ipynb_checkpoints", "_vendor", ".git",
                          "generated", "node_modules", "private"})
#: Where the preview's own requests go (never a page of the book).
PREFIX = "/__preview__/"
#: Seconds between two looks at the sources, and the quiet time after a change before a
#: build starts (an editor's save is often several writes).
POLL_S = 0.05
SETTLE_S = 0.1
#: The longest a ``wait`` request is held open before it is answered with the state as it is.
WAIT_S = 25.0

#: The script that reloads a served page after a build, and the style of the error box
#: (fixed at the foot of the window) and of the "building" badge.
_RELOAD_JS = (Path(__file__).with_name("static") / "preview.js").read_text(encoding="utf-8")
_STYLE = (Path(__file__).with_name("static") / "preview.css").read_text(encoding="utf-8")


@dataclass
class State:
    """What the server shows: the last build's outcome, and whether one is running."""

    generation: int = 0  #: renewed after every build, good or failed: pages reload on it
    building: bool = False
    problems: list[failures.Problem] = field(default_factory=list)
    failed: bool = False
    log: str = ""
    lock: threading.Condition = field(default_factory=threading.Condition)

    def as_json(self) -> bytes:
        with self.lock:
            return json.dumps({"generation": self.generation, "building": self.building,
                               "failed": self.failed,
                               "problems": [p.line() for p in self.problems]}).encode()

    def update(self, **values: Any) -> None:
        """Set fields and wake every :meth:`wait_change`."""
        with self.lock:
            for name, value in values.items():
                setattr(self, name, value)
            self.lock.notify_all()

    def wait_change(self, generation: int, building: bool, timeout: float = WAIT_S) -> bytes:
        """The state (:meth:`as_json`) once its generation or building flag differs from the
        given ones, or after ``timeout`` seconds."""
        with self.lock:
            self.lock.wait_for(lambda: (self.generation, self.building) != (generation, building),
                               timeout)
        return self.as_json()


def inject(page: str, state: State) -> str:
    """``page`` with the reload script, the "building" badge and, after a failed build, the
    error box (every text escaped)."""
    with state.lock:
        generation, failed, found, log = (state.generation, state.failed,
                                          list(state.problems), state.log)
    head = f"<style>{_STYLE}</style>"
    box = ""
    if failed:
        items = "".join(f"<li>{html.escape(p.line())}</li>" for p in found) \
            or "<li>Årsagen står i loggen.</li>"
        box = ('<section id="plusdig-preview-fejl" role="alert">'
               "<h2>Bygningen fejlede – siden er fra den sidste bygning, der lykkedes</h2>"
               f"<ol>{items}</ol><p>Hele loggen: <code>{html.escape(log)}</code></p></section>")
    badge = '<div id="plusdig-preview-bygger" hidden>Bygger …</div>'
    script = (f'<script id="plusdig-preview">'
              f"{_RELOAD_JS % {'generation': generation, 'prefix': PREFIX}}</script>")
    page = page.replace("</head>", head + "</head>", 1) if "</head>" in page else head + page
    start = page.find("<body")
    if start >= 0 and (end := page.find(">", start)) >= 0:
        page = page[:end + 1] + box + badge + page[end + 1:]
    else:
        page = box + badge + page
    if "</body>" in page:
        return page.replace("</body>", script + "</body>", 1)
    return page + script


_WAITING_PAGE = ("<!DOCTYPE html><html lang=\"da\"><head><meta charset=\"utf-8\">"
                 "<title>Forhåndsvisning</title></head><body><main><h1>Bogen bygges …</h1>"
                 "<p>Siden genindlæses, når bygningen er færdig.</p></main></body></html>")


def make_handler(site: Path, state: State) -> type[http.server.SimpleHTTPRequestHandler]:
    """A request handler serving ``site`` (read anew for each request: the build swaps the
    folder) with :func:`inject` applied to every HTML page, and the state at ``PREFIX``."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(site), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def end_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def _send(self, body: bytes, content_type: str, status: int = 200) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path, _, query = self.path.split("#", 1)[0].partition("?")
            if path == PREFIX + "state":
                self._send(state.as_json(), "application/json")
                return
            if path == PREFIX + "wait":
                args = urllib.parse.parse_qs(query)
                try:
                    generation = int(args.get("generation", ["-1"])[0])
                except ValueError:
                    generation = -1
                building = args.get("building", ["0"])[0] == "1"
                self._send(state.wait_change(generation, building), "application/json")
                return
            target = Path(self.translate_path(path))
            if target.is_dir():
                if not path.endswith("/"):
                    super().do_GET()  # the redirect to the folder
                    return
                target = target / "index.html"
            if target.suffix == ".html" or not (site / "index.html").is_file():
                if target.is_file():
                    page = target.read_text(encoding="utf-8", errors="replace")
                elif not (site / "index.html").is_file():
                    page = _WAITING_PAGE
                else:
                    super().do_GET()  # 404
                    return
                self._send(inject(page, state).encode("utf-8"), "text/html; charset=utf-8")
                return
            super().do_GET()

        do_HEAD = do_GET  # noqa: N815

    return Handler


class Server(http.server.ThreadingHTTPServer):
    """The preview's HTTP server: a page the reader left (a reload, another page, a closed
    tab) leaves its ``wait`` request open; answering it then is no error to print."""
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


# --------------------------------------------------------------------------- watching
def watched_paths(srcdir: Path) -> list[Path]:
    """The files and folders the preview watches for ``srcdir``."""
    survey = os.environ.get("PLUSDIG_SURVEY")
    return [srcdir / name for name in WATCHED] + ([Path(survey).resolve()] if survey else [])


def _ignored(name: str) -> bool:
    """Editors' and tools' temporary files: hidden, backup, swap and lock files."""
    return name.startswith((".", "#", "~")) or name.endswith(("~", ".swp", ".swx", ".tmp"))


def snapshot(roots: Iterable[Path]) -> dict[str, tuple[int, int]]:
    """Every watched file → (modification time in ns, size)."""
    seen: dict[str, tuple[int, int]] = {}
    for root in roots:
        if root.is_file():
            st = root.stat()
            seen[str(root)] = (st.st_mtime_ns, st.st_size)
            continue
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in IGNORED_DIRS and not d.startswith(".")]
            for name in files:
                if _ignored(name):
                    continue
                path = os.path.join(folder, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                seen[path] = (st.st_mtime_ns, st.st_size)
    return seen


def changed(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[str]:
    """Files added, removed or modified between two snapshots."""
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))


# --------------------------------------------------------------------------- building
@dataclass
class Preview:
    """One preview: the book in ``srcdir``, built into ``outdir`` (``<outdir>/_build/html``)."""

    srcdir: Path
    outdir: Path
    port: int = 8000
    state: State = field(default_factory=State)
    process: Any = None  #: the running build (a forked child or a ``subprocess.Popen``)
    say: Any = print
    #: fork servers (:mod:`plusdig.sphinx.forkserver`): builds forked with their imports done,
    #: notebook kernels likewise; None: a fresh process per build, cold kernels
    builder: Any = None
    kernels: Any = None
    standby: Standby | None = None  #: the next build, set up and waiting
    used: Standby | None = None  #: the standby the running build is

    @property
    def build_dir(self) -> Path:
        return self.outdir / "_build"

    @property
    def log_path(self) -> Path:
        return self.build_dir / "preview-build.log"

    def command(self) -> list[str]:
        """``make book``'s build (``-n -W --keep-going``)."""
        cmd = [sys.executable, "-m", "plusdig.sphinx.build", "jb", "build", str(self.srcdir),
               "-n", "-W", "--keep-going"]
        if self.outdir != self.srcdir:
            cmd += ["--path-output", str(self.outdir)]
        return cmd

    def start_servers(self) -> None:
        """Start the build and kernel servers (a build then costs no imports, a notebook no
        kernel start); without them each build is a new process, as ``make book``."""
        from plusdig.sphinx.forkserver import BUILD_PRELOAD, ForkServer

        try:
            self.kernels = ForkServer.start(tempfile.mkdtemp(prefix="pdk-"), wait=False)
            self.builder = ForkServer.start(tempfile.mkdtemp(prefix="pdb-"), BUILD_PRELOAD,
                                            env=dict(os.environ), wait=False)
            self.kernels.wait_ready()
            self.builder.wait_ready()
        except (OSError, RuntimeError) as exc:
            self.say(f"Bygger uden forvarmede processer ({exc}).")
            self.stop_servers()

    def stop_servers(self) -> None:
        for server in (self.builder, self.kernels):
            if server is not None:
                server.stop()
                shutil.rmtree(Path(server.path).parent, ignore_errors=True)
        self.builder = self.kernels = None

    def _env(self) -> dict[str, str]:
        from plusdig.sphinx.forkserver import SERVER_ENV

        return {**os.environ, **({SERVER_ENV: self.kernels.path} if self.kernels else {})}

    def _start(self, log: Any, now: dict[str, tuple[int, int]] | None = None) -> Any:
        """Start one build: the standby if it covers every change up to the snapshot ``now``
        (:class:`Standby`), else one forked from the build server, else a new process."""
        standby, self.standby = self.standby, None
        if standby is not None:
            if now is not None and standby.covers(now, self.srcdir):
                os.replace(standby.output, self.log_path)
                standby.go()
                self.used = standby
                self.make_standby(now, ready=False)  # the next one sets up while this builds
                return standby.process
            standby.discard()
        if self.builder is not None:
            return self.builder.run_module("plusdig.sphinx.build", self.command()[3:],
                                           self._env(), str(self.srcdir), self.log_path)
        return subprocess.Popen(self.command(), cwd=self.srcdir, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)

    def make_standby(self, now: dict[str, tuple[int, int]], ready: bool = True) -> None:
        """Fork the next build ahead (:mod:`plusdig.sphinx.standby`; one at a time) for the
        sources as in the snapshot ``now``; ``ready=False`` while a build runs (:meth:`build`
        tells it when that one has ended)."""
        if self.standby is not None:
            self.standby.discard()
        self.standby = None if self.builder is None else Standby.fork(
            self.builder, self.command()[3:], self._env(), self.srcdir,
            self.build_dir / "preview-build.standby.log", now, ready)

    def build(self, because: Sequence[str] = (),
              now: dict[str, tuple[int, int]] | None = None) -> bool:
        """Run one build of the sources as in the snapshot ``now`` (None: not known, no
        standby is used); record its outcome in :attr:`state`. True if it succeeded."""
        if because:
            shown = ", ".join(_short(p, self.srcdir) for p in because[:3])
            more = f" og {len(because) - 3} mere" if len(because) > 3 else ""
            self.say(f"Ændret: {shown}{more}. Bygger …")
        self.state.update(building=True)
        self.build_dir.mkdir(parents=True, exist_ok=True)
        t0, started = time.perf_counter(), time.time() - 1
        for snap in (now, None):  # anew if the standby could not stand in (STALE)
            with self.log_path.open("wb") as log:
                self.process = self._start(log, snap)
                code = self.process.wait()
            if self.standby is not None:  # forked while it ran: it may load what it left
                self.standby.ready()
            used, self.used = self.used, None
            if used is not None:
                used.close()
            if used is None or code != STALE:
                break
        self.process = None
        seconds = time.perf_counter() - t0
        found: list[failures.Problem] = []
        # the build's own full log (plusdig.sphinx.failures.run_logged) if it wrote one, else the
        # output this process captured (the build keeps tracebacks off its output)
        full = self.build_dir / failures.LOG_NAME
        log = full if full.is_file() and full.stat().st_mtime >= started else self.log_path
        if code != 0:
            text = log.read_text(encoding="utf-8", errors="replace")
            found = failures.problems(text, self.srcdir, self.build_dir / ".jupyter_cache")
        self.state.update(building=False, failed=code != 0, problems=found, log=str(log),
                          generation=self.state.generation + 1)
        if code == 0:
            self.say(f"Bygget på {seconds:.1f} s.".replace(".", ",", 1))
        else:
            self.say(failures.summary(found, log))
        return code == 0

    def stop_build(self, grace_s: float = 20.0) -> None:
        """Interrupt the running build and end every process below it, kernels included."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        try:
            below = psutil.Process(proc.pid).children(recursive=True)
        except psutil.Error:
            below = []
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, psutil.Error):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        # kernels run in sessions of their own: end any the interrupt did not
        _, alive = psutil.wait_procs(below, timeout=5)
        for p in alive:
            with contextlib.suppress(ProcessLookupError, psutil.Error):
                p.kill()
        psutil.wait_procs(alive, timeout=5)

    def serve(self) -> http.server.ThreadingHTTPServer:
        handler = make_handler(self.build_dir / "html", self.state)
        server = Server(("127.0.0.1", self.port), handler)
        threading.Thread(target=server.serve_forever, name="plusdig-preview-http",
                         daemon=True).start()
        return server

    def run(self) -> None:
        """Serve, build, and rebuild on every change until interrupted."""
        server = self.serve()
        host, port = server.server_address[:2]
        self.say(f"Forhåndsvisning: http://{host}:{port}/  (Ctrl-C stopper)")
        roots = watched_paths(self.srcdir)
        try:
            self.start_servers()
            before = snapshot(roots)
            self.build()
            self.make_standby(snapshot(roots))
            while True:
                now = snapshot(roots)
                diff = changed(before, now)
                if not diff:
                    time.sleep(POLL_S)
                    continue
                while True:  # wait until the writes have settled
                    time.sleep(SETTLE_S)
                    later = snapshot(roots)
                    if later == now:
                        break
                    now = later
                diff, before = changed(before, now), now
                self.build(diff, now)
                if self.standby is None:  # none forked while it ran
                    self.make_standby(snapshot(roots))
        except KeyboardInterrupt:
            self.say("Stopper …")
        finally:
            if self.standby is not None:
                self.standby.discard()
            self.stop_build()
            self.stop_servers()
            server.shutdown()
            server.server_close()


def _short(path: str, srcdir: Path) -> str:
    return Path(path).relative_to(srcdir).as_posix() if Path(path).is_relative_to(srcdir) \
        else Path(path).name


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m plusdig.authoring.preview [--port 8000] [--srcdir .] [--path-output DIR]``."""
    ap = argparse.ArgumentParser(prog="python -m plusdig.authoring.preview",
                                 description="Byg, vis og genbyg bogen, mens du skriver.")
    ap.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000),
                    help="porten på 127.0.0.1 (standard 8000; 0: en ledig port)")
    ap.add_argument("--srcdir", default=".", help="bogens mappe (standard: denne)")
    ap.add_argument("--path-output", default=None,
                    help="byg i DIR/_build (som jupyter-book build --path-output)")
    args = ap.parse_args(argv)
    src = Path(args.srcdir).resolve()
    out = Path(args.path_output).resolve() if args.path_output else src

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    # Ctrl-C, also where the shell started the preview with SIGINT ignored (in the background)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        Preview(src, out, port=args.port, say=lambda message: print(message, flush=True)).run()
    except OSError as exc:
        why = (f"porten {args.port} er optaget (kører der allerede en forhåndsvisning?); vælg en "
               f"anden, fx make preview PORT={args.port + 1}"
               if exc.errno == errno.EADDRINUSE else str(exc))
        print(f"Forhåndsvisningen kunne ikke starte: {why}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
