"""Standby builds: the preview's next build set up before the edit it builds is made.

A build forked by the preview (:mod:`plusdig.authoring.preview`) spends about 40 % of a text
edit's build setting Sphinx up: importing the library and the extensions, Jupyter Book's
configuration and TOC, the Sphinx application with its saved environment, the builder and its
templates. None of that depends on a page's text. So after every build the preview forks the
next one at once (``python -m plusdig.sphinx.standby jb build ...``, with
``$PLUSDIG_BUILD_STANDBY`` naming a FIFO): it does all of that and then waits, just before
Sphinx reads the sources, for the preview to write ``go`` into the FIFO.

The preview says ``go`` only if every change since it forked the standby is a modification of
an existing page source (``book/**/*.ipynb``, ``*.md``); after any other change (``lib/``,
``_config.yml``, ``_toc.yml``, ``references.bib``, data, the survey file, templates, a file
added, removed or renamed) it kills the standby and starts a build as before. The standby
checks the same itself: before it set anything up it took :func:`assumed`, the digest of every
input of the build except the pages' contents (:func:`plusdig.sphinx.inputs.input_digests`'
surroundings: every file of the book's folder, the data, the settings, the installed
distributions, git), the list of the pages' files and the state of the last build (saved
environment, cache); at ``go`` it takes it again. If anything differs (a race between a save
and the standby's set-up, a build by another process), it exits with :data:`STALE` without
writing anything, and the preview builds anew. Otherwise it is the build ``make book`` would
run: the no-change check, the stamp and the log (:mod:`plusdig.sphinx.inputs`,
:mod:`plusdig.sphinx.failures`) come at ``go``, from the inputs as they are then.

A standby may be forked while the last build still runs (the preview does so as soon as a
build is a standby's, i.e. for a page edit): it sets up what does not depend on what that build
leaves (Jupyter Book's configuration, the extensions, the TOC) and then waits, before it loads
Sphinx's saved environment, until the preview writes ``ready`` (the last build has ended; a
standby forked after it is told at once). The state of the last build (its site's generation,
the saved environment, the cache) is taken then and must be the same at ``go``; nothing of the
site or its staging folder is touched before ``ready``.

While it waits the build executes no notebook (:func:`plusdig.sphinx.inputs.standby_waiting`:
the execution :mod:`plusdig.sphinx.build` starts at ``config-inited`` is left to
``env-get-outdated``), compiles the HTML templates as long as no ``go`` came
(:func:`compile_templates`) and writes nothing but its log under another name. A standby that
ends before ``go`` (an error in its set-up, the FIFO closed because the preview ended) exits
with :data:`STALE` too.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The FIFO a standby build waits on (set by the preview; not a setting of the book).
STANDBY_ENV = "PLUSDIG_BUILD_STANDBY"
#: A standby's exit code when it did not build: what it set up is not what the build needs.
STALE = 75
#: The standby's log until ``go`` (``plusdig-build.log.standby-<pid>``; then linked as the
#: build's log, ``plusdig-build.log``).
LOG_SUFFIX = ".standby"
#: The pages' sources: the only files whose changes a standby build may be used for.
PAGES_DIR = "book"


def own_log(log: Path, pid: int) -> Path:
    """The log of the standby with process id ``pid`` until ``go``, beside the build's
    ``log``; it goes when the standby ends, or when the preview discards it."""
    return log.with_name(f"{log.name}{LOG_SUFFIX}-{pid}")


def is_page_source(path: str | Path, srcdir: str | Path) -> bool:
    """True for a page's source: an ``.ipynb`` or ``.md`` file under ``<srcdir>/book``."""
    from plusdig.sphinx.inputs import PAGE_SUFFIXES

    try:
        rel = Path(path).relative_to(Path(srcdir) / PAGES_DIR)
    except ValueError:
        return False
    return bool(rel.parts) and str(path).endswith(PAGE_SUFFIXES)


def assumed(src: Path, out: Path, args: Sequence[str]) -> tuple[str, str, str]:
    """``(digest, surroundings, assumed)``: the build's input digest and surroundings
    (:func:`plusdig.sphinx.inputs.input_digests`) and a digest of the files a standby may rely
    on: the surroundings, the name of every page source, the size and time of every ``.ipynb``
    or ``.md`` file outside ``book/`` (the surroundings leave them out). The last build's state
    (:func:`plusdig.sphinx.inputs._state`) is compared on its own (see :func:`run`)."""
    from plusdig.sphinx import inputs

    digest, around = inputs.input_digests(src, out, args)
    h = hashlib.sha256(around.encode())
    for rel, path, _ in inputs._files(src):
        if not rel.endswith(inputs.PAGE_SUFFIXES):
            continue
        h.update(rel.encode() + b"\0")
        if not is_page_source(path, src):
            try:
                st = path.stat()
                h.update(f"{st.st_size}:{st.st_mtime_ns}\n".encode())
            except OSError:
                h.update(b"gone\n")
    return digest, around, h.hexdigest()


def compile_templates(app: Any, stop: Any = lambda: False) -> int:
    """Compile the HTML builder's page templates now (those of the book, the themes and
    Sphinx) instead of at the first page written, until ``stop()`` is true (the rest are
    compiled when used); returns how many. Jinja keeps them and compiles one again when its
    file changed (its loader's modification-time check)."""
    templates = getattr(getattr(app, "builder", None), "templates", None)
    environment = getattr(templates, "environment", None)
    if environment is None:
        return 0
    names: set[str] = set()
    for loader in [*getattr(templates, "loaders", []), *getattr(templates, "sysloaders", [])]:
        try:
            names.update(n for n in loader.list_templates() if n.endswith(".html"))
        except Exception:  # noqa: BLE001, S112 - a loader that cannot list: compiled when used
            continue
    done = 0
    for name in sorted(names):
        if stop():
            break
        try:
            environment.get_template(name)
            done += 1
        except Exception:  # noqa: BLE001, S112 - one that fails here fails when used, as before
            continue
    return done


def _leave(code: int, message: str = "", remove: Path | None = None) -> None:
    """End this process now (nothing of the build is written after this)."""
    if remove is not None:
        remove.unlink(missing_ok=True)
    if message:
        print(message, flush=True)
    from plusdig.sphinx.forkserver import exit_now

    exit_now(code)


def _told(fd: int) -> bool:
    """True once the preview has written to the FIFO (``go``, or it ended)."""
    import select

    return bool(select.select([fd], [], [], 0)[0])


def _read_line(fd: int) -> bytes:
    """One line from the FIFO (byte by byte: the next line stays in the pipe); b"" at its end."""
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(fd, 1)
        if not chunk:
            break
        line += chunk
    return line.strip()


def _wait_for(fd: int, word: bytes, standby_log: Path) -> None:
    """Block until the preview writes ``word``; leave with :data:`STALE` on anything else."""
    if _read_line(fd) != word:
        os.close(fd)
        _leave(STALE, "", standby_log)


def run(args: Sequence[str]) -> int:
    """``python -m plusdig.sphinx.standby jb build ...``: set up, wait for ``go``, check, build."""
    from plusdig.sphinx import inputs
    from plusdig.sphinx.build import jupyter_book
    from plusdig.sphinx.execute import PAUSE_ENV
    from plusdig.sphinx.failures import LOG_NAME, run_logged

    started = time.monotonic()
    fifo = os.environ.pop(STANDBY_ENV, "")
    jb = list(args[1:]) if args[:1] == ["jb"] else []
    site = inputs._site_build(jb)
    if not fifo or site is None or not site[2] or os.environ.get(PAUSE_ENV):
        _leave(STALE, "plusdig.sphinx.standby: not a build a standby can stand in for")
    src, out, _ = site  # type: ignore[misc]
    stamp = out / "_build" / inputs.STAMP
    log = out / "_build" / LOG_NAME
    # its own name: a standby forked while another one builds must not share that one's log
    standby_log = own_log(log, os.getpid())
    _, _, before = assumed(src, out, jb)
    from sphinx.application import Sphinx

    original, original_env = Sphinx.build, Sphinx._init_env
    went: dict[str, Any] = {}
    fd = os.open(fifo, os.O_RDONLY)  # does not block: the preview holds the other end

    def env_when_ready(app: Sphinx, *env_args: object, **kwargs: object) -> Any:
        # the saved environment, the site and the cache are the last build's: loaded once
        # it has ended (the preview says "ready"; a standby forked while it ran waits here)
        Sphinx._init_env = original_env  # type: ignore[method-assign]
        waiting = time.monotonic()
        _wait_for(fd, b"ready", standby_log)
        went["state"], went["after"] = inputs._state(src, out), time.monotonic() - waiting
        return original_env(app, *env_args, **kwargs)  # type: ignore[arg-type]

    def build_on_go(app: Sphinx, *build_args: object, **kwargs: object) -> None:
        Sphinx.build = original  # type: ignore[method-assign]
        compile_templates(app, lambda: _told(fd))  # as many as there is time for
        ready = time.monotonic()
        _wait_for(fd, b"go", standby_log)
        os.close(fd)
        digest, around, now = assumed(src, out, jb)
        if now != before or inputs._state(src, out) != went.get("state", "not loaded"):
            _leave(STALE, "plusdig.sphinx.standby: the surroundings changed; built anew",
                   standby_log)
        if inputs.unchanged(stamp, digest, inputs._state(src, out)):
            _leave(0, inputs.UNCHANGED.format(site=out / "_build" / "html"), standby_log)
        stamp.unlink(missing_ok=True)
        inputs._SURROUNDINGS[:] = [around]
        went["digest"] = digest
        # the build's log from here on: the same file under the build's log's name (the
        # standby's name goes when the build ends)
        tmp = log.with_name(f"{log.name}.tmp-{os.getpid()}")
        tmp.unlink(missing_ok=True)
        os.link(standby_log, tmp)
        os.replace(tmp, log)
        inputs._STANDBY_WAITING[0] = False
        last = f"; {went['after']:.1f} s waiting for the last build" if went["after"] >= 0.05 \
            else ""
        print(f"plusdig.sphinx.standby: set up ahead ({ready - started - went['after']:.1f} s"
              f"{last}), waited {time.monotonic() - ready:.1f} s; building", flush=True)
        return original(app, *build_args, **kwargs)  # type: ignore[arg-type]

    Sphinx.build = build_on_go  # type: ignore[method-assign]
    Sphinx._init_env = env_when_ready  # type: ignore[method-assign]
    inputs._STANDBY_WAITING[0] = True
    try:
        code = run_logged(lambda: jupyter_book(jb), standby_log, src,
                          inputs.book_cache_path(src, str(out)))
    finally:
        inputs._SURROUNDINGS.clear()
        standby_log.unlink(missing_ok=True)
    if "digest" not in went:  # ended before go: it built nothing
        _leave(STALE)
    inputs.record(stamp, src, out, went["digest"], code)
    return code


# --------------------------------------------------------------------------- the preview's side
@dataclass
class Standby:
    """A build forked ahead and waiting for ``go`` (:mod:`plusdig.sphinx.standby`)."""

    process: Any  #: the forked build (:class:`plusdig.sphinx.forkserver.Forked`)
    fd: int  #: this end of the FIFO it waits on
    fifo: Path
    snapshot: dict[str, tuple[int, int]]  #: the sources when it was forked
    output: Path  #: its output until it is used
    told_ready: bool = False  #: whether the preview said the last build had ended

    def covers(self, now: dict[str, tuple[int, int]], srcdir: Path) -> bool:
        """True if it still waits and every change from its snapshot to ``now`` is a
        modification of an existing page source (``book/**/*.ipynb``, ``*.md``)."""
        return self.process.poll() is None and all(
            p in self.snapshot and p in now and is_page_source(p, srcdir)
            for p in set(self.snapshot) | set(now) if self.snapshot.get(p) != now.get(p))

    @classmethod
    def fork(cls, server: Any, argv: list[str], env: dict[str, str], srcdir: Path,
             output: Path, now: dict[str, tuple[int, int]], ready: bool = True) -> Standby | None:
        """Fork ``python -m plusdig.sphinx.standby ARGV`` from the build server ``server``
        (:class:`plusdig.sphinx.forkserver.ForkServer`) for the sources as in the preview's
        snapshot ``now`` (path → modification time and size, taken before this call).
        ``ready=False`` while the last build still runs: call :meth:`ready` when it ended."""
        import uuid

        fifo = Path(server.path).parent / f"standby-{uuid.uuid4().hex[:8]}"
        os.mkfifo(fifo, 0o600)
        # held open for writing until the standby has ended: its read ends when this process
        # does, and a "go" written before it reads stays in the pipe
        fd = os.open(fifo, os.O_RDWR)
        try:
            proc = server.run_module("plusdig.sphinx.standby", argv,
                                     {**env, STANDBY_ENV: str(fifo)}, str(srcdir), output)
        except (OSError, RuntimeError):
            os.close(fd)
            fifo.unlink(missing_ok=True)
            return None
        standby = cls(proc, fd, fifo, dict(now), output)
        if ready:
            standby.ready()
        return standby

    def ready(self) -> None:
        """The last build has ended: the standby may load what it left (once)."""
        if not self.told_ready:
            os.write(self.fd, b"ready\n")
            self.told_ready = True

    def go(self) -> None:
        self.ready()
        os.write(self.fd, b"go\n")

    def discard(self) -> None:
        """End it (its process group) and wait for it."""
        if self.process.poll() is None:
            # its group, and itself: a child forked a moment ago may not have its own
            # session (group) yet
            for kill in (os.killpg, os.kill):
                try:
                    kill(self.process.pid, signal.SIGKILL)
                except OSError:
                    pass
            self.process.wait()
        from plusdig.sphinx.failures import LOG_NAME

        self.output.unlink(missing_ok=True)  # a killed standby removes neither of its logs
        own_log(self.output.parent / LOG_NAME, self.process.pid).unlink(missing_ok=True)
        self.close()

    def close(self) -> None:
        """After it ended: the FIFO goes."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        self.fifo.unlink(missing_ok=True)


if __name__ == "__main__":  # the module's own copy, not this one (run as __main__)
    from plusdig.sphinx.standby import run as _run

    raise SystemExit(_run(sys.argv[1:]))
