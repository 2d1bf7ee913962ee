"""Helpers for the tests that build the book on a temporary copy of the repository.

The copy holds the library, the data, the configuration and a reduced table of contents (a
root page, the colophon, one real chapter and small probe notebooks that use the real
loaders), so the tests exercise the real pipeline (``plusdig.sphinx.build`` inside
``jupyter-book build -n -W``) in seconds rather than minutes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[1]

#: Configuration keys of the real book that need files a fresh checkout does not have
#: (``make vendor``); the reduced test book does without them.
_DROP_SPHINX_CONFIG = ("html_static_path", "nb_ipywidgets_js", "mathjax_path", "html_favicon",
                       "html_css_files")

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def probe_notebook(title: str, setup: str, glue_name: str) -> nbformat.NotebookNode:
    """A small notebook: one code cell (``setup`` must glue ``glue_name``) and a sentence."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {title}"),
        nbformat.v4.new_code_cell(setup, metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_markdown_cell(f"Værdien er {{glue:text}}`{glue_name}`."),
    ]
    return nb


#: Reads data/activities.yaml through the real loader and glues the first activity's title.
PROBE_DATA = probe_notebook(
    "Dataprobe",
    "from myst_nb import glue\nimport plusdig\n\n"
    "glue('first_title', plusdig.load_activities()[0].title, display=False)",
    "first_title",
)
#: Reads no data file: only the library's Danish number formatting.
PROBE_CODE = probe_notebook(
    "Kodeprobe",
    "from myst_nb import glue\nfrom plusdig.core import fmt\n\n"
    "glue('formatted', fmt.number(1234567), display=False)",
    "formatted",
)

#: Reads the survey (``PLUSDIG_SURVEY`` or the synthetic data) through the real loader: a
#: count and the source's name in the text, a figure of the rows per year (an image whose
#: bytes follow the data).
PROBE_SURVEY = probe_notebook(
    "Surveyprobe",
    "import matplotlib.pyplot as plt\nfrom myst_nb import glue\nfrom plusdig.survey import validation\n\n"
    "data = validation.load_survey()\ncounts = data.frame.groupby('year').size()\n"
    "fig, ax = plt.subplots(figsize=(3, 2), dpi=40)\n"
    "ax.bar([str(y) for y in counts.index], counts.to_numpy())\n"
    "glue('rows', f'{len(data.frame)} besvarelser, {data.source.label}', display=False)\n"
    "glue('rows_per_year', fig, display=False)\nplt.close(fig)",
    "rows",
)
PROBE_SURVEY.cells.append(nbformat.v4.new_markdown_cell(
    "```{glue:figure} rows_per_year\n:name: fig-surveyprobe\n\nBesvarelser pr. år.\n```"))
_PROBES = {"book/probe/data": PROBE_DATA, "book/probe/code": PROBE_CODE,
           "book/probe/survey": PROBE_SURVEY}


def make_copy(dest: Path, chapters: list[str], *, git: bool = False) -> Path:
    """Copy what the book needs into ``dest`` with a reduced TOC listing ``chapters``.

    ``chapters`` are docnames; ``book/probe/data``, ``book/probe/code`` and
    ``book/probe/survey`` are the probe notebooks above, anything else is copied from the
    repository.
    """
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "private", "*.egg-info", "generated")
    shutil.copytree(REPO / "lib", dest / "lib", ignore=ignore)
    shutil.copytree(REPO / "data", dest / "data", ignore=ignore)
    for name in ("requirements.txt", "references.bib", ".gitignore"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, dest / name)
    cfg = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    sphinx = cfg.setdefault("sphinx", {})
    sphinx["extra_extensions"] = ["plusdig.sphinx.build"]
    for key in _DROP_SPHINX_CONFIG:
        (sphinx.get("config") or {}).pop(key, None)
    (dest / "_config.yml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    (dest / "book").mkdir(exist_ok=True)
    (dest / "book" / "index.md").write_text("# Testbog\n\nEn reduceret bog til test.\n",
                                            encoding="utf-8")
    for docname in chapters:
        if docname.startswith("book/probe/"):
            nb = _PROBES[docname]
            target = dest / f"{docname}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, target)
            continue
        for suffix in (".ipynb", ".md"):
            src = REPO / f"{docname}{suffix}"
            if src.exists():
                (dest / docname).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / f"{docname}{suffix}")
                break
        else:
            raise FileNotFoundError(docname)
    toc = {"format": "jb-book", "root": "book/index",
           "chapters": [{"file": d} for d in chapters]}
    (dest / "_toc.yml").write_text(yaml.safe_dump(toc), encoding="utf-8")
    if git:
        run = dict(cwd=dest, check=True, capture_output=True)
        subprocess.run(["git", "init", "-q"], **run)
        subprocess.run(["git", "add", "-A"], **run)
        subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.org",
                        "commit", "-q", "-m", "test copy"], **run)
    return dest


def shared_folder(tmp_path_factory: Any) -> Path:
    """A folder of this test session that every pytest-xdist process of it sees (the run's
    base temporary folder; with one process, that process's own)."""
    base = Path(tmp_path_factory.getbasetemp())
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / "shared-builds"
    folder.mkdir(exist_ok=True)
    return folder


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl

    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def shared(tmp_path_factory: Any, name: str, make: Callable[[Path], None]) -> Path:
    """The folder ``name`` made once per test session by ``make(folder)``, for every test
    file and every pytest-xdist process of the session (a build that several files check).

    The first process to ask makes it under a lock, the others wait for it and then find it
    done (a marker written after ``make`` returned). A ``make`` that fails leaves no marker:
    the next process to ask makes it anew (and fails with its own message). Whoever uses the
    folder must not change it (copy it first).
    """
    root = shared_folder(tmp_path_factory)
    folder, done = root / name, root / f"{name}.done"
    with _locked(root / f"{name}.lock"):
        if not done.is_file():
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir()
            make(folder)
            done.write_text("done\n", encoding="utf-8")
    return folder


def build_env(copy: Path) -> dict[str, str]:
    """Environment for building ``copy``: its own library and data, no inherited settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUSDIG_")}
    env["PYTHONPATH"] = str(copy / "lib")
    env["PLUSDIG_DATA"] = str(copy / "data")
    env.pop("SOURCE_DATE_EPOCH", None)
    return env


def build_command(copy: Path, out: Path, *, strict: bool = True) -> list[str]:
    """The command :func:`build` runs: ``make book``'s build of ``copy`` into ``out``."""
    flags = ["-n", "-W", "--keep-going"] if strict else ["--keep-going"]
    return [sys.executable, "-m", "plusdig.sphinx.build", "jb", "build", str(copy), *flags,
            "--path-output", str(out)]


def build(copy: Path, out: Path, *, strict: bool = True,
          env: dict[str, str] | None = None, args: Sequence[str] = ()) -> str:
    """Build ``copy`` into ``out`` as ``make book`` does (``jupyter-book build -n -W
    --keep-going``, through ``python -m plusdig.sphinx.build jb``); return the log.

    ``strict=False`` drops ``-n -W``: a real chapter in a reduced book may cross-reference
    chapters the reduced book leaves out (the full book's warnings are ``make book``'s job).
    ``env`` adds settings (``PLUSDIG_SURVEY`` ...) to :func:`build_env`; ``args`` are more
    options (``--builder singlehtml``).
    """
    code, log = run_build(copy, out, strict=strict, env=env, args=args)
    assert code == 0, log[-4000:]
    return log


def run_build(copy: Path, out: Path, *, strict: bool = True, env: dict[str, str] | None = None,
              args: Sequence[str] = (), timeout: float = 600) -> tuple[int, str]:
    """:func:`build`, whatever its outcome: the exit code and the log (for builds that must
    fail)."""
    cmd = build_command(copy, out, strict=strict)
    out.parent.mkdir(parents=True, exist_ok=True)
    return run_module(cmd[2], [*cmd[3:], *args],
                      {**build_env(copy), **kernel_server_env(), **(env or {})},
                      output=out.parent / f".{out.name}-build-output.log", timeout=timeout)


def run_module(module: str, argv: Sequence[str], env: dict[str, str], *,
               cwd: Path | None = None, output: Path | None = None,
               timeout: float = 600) -> tuple[int, str]:
    """``python -m module argv`` with exactly ``env`` (in ``cwd``), to its end: the exit code
    and what it printed (stdout and stderr)."""
    if output is None:
        handle, name = tempfile.mkstemp(prefix="buildkit-", suffix=".log")
        os.close(handle)
        output = Path(name)
    child = start_module(module, argv, env, output, cwd=cwd)
    try:
        code = child.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        raise
    log = output.read_text(encoding="utf-8", errors="replace")
    output.unlink(missing_ok=True)
    return code, log


def start_module(module: str, argv: Sequence[str], env: dict[str, str], output: Path, *,
                 cwd: Path | None = None) -> Any:
    """Start ``python -m module argv`` with exactly ``env``, its output (stdout and stderr) to
    ``output``, in a session of its own (a signal to its process group reaches it and what it
    started; SIGINT is Python's KeyboardInterrupt there). Forked from the tests' build server
    (:func:`_build_server`), or a new process with ``PLUSDIG_TEST_FORKED_BUILDS=0``; either
    way the result has ``pid``, ``poll()`` and ``wait(timeout)``."""
    where = str(cwd or os.getcwd())
    server = _build_server()
    if server is not None:  # the same command, forked from the build server
        return server.run_module(module, list(argv), env, where, output)
    with open(output, "w", encoding="utf-8") as log:
        return subprocess.Popen([sys.executable, "-m", module, *argv], env=env, cwd=where,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=_default_sigint)


def _default_sigint() -> None:
    """In a new process: SIGINT as Python's default, even where the tests run with it ignored
    (a background job of a shell without job control)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


_SERVER: list[Any] = []


def _build_server() -> Any:
    """The tests' build server (:mod:`plusdig.sphinx.forkserver`, started at the first build;
    it imports jupyter-book, Sphinx, myst-nb once for every build of the session), or None
    with ``PLUSDIG_TEST_FORKED_BUILDS=0`` (each build a new process)."""
    if os.environ.get("PLUSDIG_TEST_FORKED_BUILDS") == "0":
        return None
    if not _SERVER:
        import atexit

        from plusdig.sphinx.forkserver import BUILD_PRELOAD, ForkServer

        env = {k: v for k, v in os.environ.items() if not k.startswith("PLUSDIG_")}
        server = ForkServer.start(tempfile.mkdtemp(prefix="ptb-"), BUILD_PRELOAD, env=env)
        atexit.register(server.stop)
        _SERVER.append(server)
    return _SERVER[0]


_KERNELS: list[Any] = []


def kernel_server_env() -> dict[str, str]:
    """``PLUSDIG_KERNEL_SERVER`` naming the session's kernel server (started at the first
    build), so that a build forks its notebooks' kernels from it as ``make preview``'s builds
    do, instead of starting a kernel server of its own (about 2 s a build); empty with
    ``PLUSDIG_TEST_FORKED_BUILDS=0``. Its kernels are forked ones, as in a build's own server
    (``plusdig.sphinx.forkserver``): the same preloaded modules, each kernel with the build's
    environment, ``PYTHONPATH`` and working folder. Builds that are interrupted on purpose
    (``start_module``) keep their own server, which ends with them."""
    from plusdig.sphinx.forkserver import SERVER_ENV

    server = kernel_server()
    return {} if server is None else {SERVER_ENV: server.path}


def kernel_server() -> Any:
    """The session's kernel server (:mod:`plusdig.sphinx.forkserver`, started when first
    asked for), or None with ``PLUSDIG_TEST_FORKED_BUILDS=0``."""
    if os.environ.get("PLUSDIG_TEST_FORKED_BUILDS") == "0":
        return None
    if not _KERNELS:
        import atexit

        from plusdig.sphinx.forkserver import ForkServer

        sockets = tempfile.mkdtemp(prefix="ptk-")
        server = ForkServer.start(sockets)
        atexit.register(shutil.rmtree, sockets, ignore_errors=True)  # runs after the stop
        atexit.register(server.stop)
        _KERNELS.append(server)
    return _KERNELS[0]


def executed(log: str) -> list[str]:
    """Notebooks a build executed: by plusdig.sphinx.build, or by myst-nb itself (a cache miss)."""
    ours = re.findall(r"plusdig\.sphinx\.build: executed (\S+\.ipynb)", log)
    mystnb = re.findall(r"(\S+\.ipynb): Executing notebook", log)
    return sorted(set(ours) | set(mystnb))


def html(out: Path, docname: str) -> str:
    """The built HTML page of ``docname``."""
    return (out / "_build" / "html" / f"{docname}.html").read_text(encoding="utf-8")


def page_text(page: str) -> str:
    """A page's visible text (scripts and styles dropped), whitespace collapsed."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")
    for tag in soup(["script", "style"]):
        tag.decompose()
    return " ".join(soup.get_text(" ").split())


# --------------------------------------------------------------------------- comparing builds
_WIDGET_ID = re.compile(r"[0-9a-f]{32}")
#: The colophon's build time.
BUILD_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_WIDGET_STATE = re.compile(
    r'(<script type="application/vnd\.jupyter\.widget-state\+json">)(.*?)(</script>)', re.S)


def _widget_state(match: re.Match[str]) -> str:
    """The embedded widget state with ids removed, its models in a canonical order.

    The state maps random model ids to models; with the ids gone the models are compared as
    a sorted list (their order follows the ids).
    """
    state = json.loads(match.group(2))
    models = sorted(_WIDGET_ID.sub("<model-id>", json.dumps(m, sort_keys=True))
                    for m in state.get("state", {}).values())
    rest = {k: v for k, v in state.items() if k != "state"}
    return match.group(1) + json.dumps({"models": models, **rest}, sort_keys=True) \
        + match.group(3)


def normalise(page: str) -> str:
    """Drop what legitimately differs between two builds: widget model ids, the build time."""
    page = _WIDGET_STATE.sub(_widget_state, page)
    return BUILD_TIME.sub("<build-time>", _WIDGET_ID.sub("<model-id>", page))


# --------------------------------------------------------------------------- short commands
def run_module_apart(module: str, argv: Sequence[str], env: dict[str, str], *,
                     cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m module argv`` with exactly ``env`` in ``cwd``, as ``subprocess.run(...,
    capture_output=True, text=True)`` runs it (exit code, stdout and stderr apart), but forked
    from the tests' build server (:func:`start_module`): its imports (pandas, pydantic ...)
    are done, about 0.4 s of a short command's 0.6 s. A new process with
    ``PLUSDIG_TEST_FORKED_BUILDS=0``."""
    if _build_server() is None:
        return subprocess.run([sys.executable, "-m", module, *argv], env=env, cwd=cwd,
                              capture_output=True, text=True, timeout=timeout)
    folder = Path(tempfile.mkdtemp(prefix="buildkit-apart-"))
    try:
        tests = str(Path(__file__).resolve().parent)  # where stderr_apart is
        path = os.pathsep.join(p for p in (tests, env.get("PYTHONPATH", "")) if p)
        code, stdout = run_module("stderr_apart", [str(folder / "stderr"), module, *argv],
                                  {**env, "PYTHONPATH": path}, cwd=cwd,
                                  output=folder / "stdout", timeout=timeout)
        stderr = (folder / "stderr").read_text(encoding="utf-8", errors="replace") \
            if (folder / "stderr").exists() else ""
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return subprocess.CompletedProcess([sys.executable, "-m", module, *argv], code, stdout,
                                       stderr)
