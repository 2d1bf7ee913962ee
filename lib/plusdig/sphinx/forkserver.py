"""Fork servers: notebook kernels and book builds with their imports done once.

Starting an IPython kernel and importing pandas, matplotlib, seaborn and myst-nb costs about
2.5 s of CPU, in every notebook and on every edit; starting a build (jupyter-book, Sphinx,
myst-nb, the themes) about 2 s more. A *fork server* (this file, run as a script) imports such
third-party modules once and then, for every job asked of it, forks a child that does that one
job with the environment, working folder and arguments of its request, and exits:

- ``kernel``: the child becomes a fresh ipykernel (:data:`KERNEL_PRELOAD`). It runs exactly one
  notebook; nothing is shared between two kernels but the read-only memory of the imports, so
  no state leaks between notebooks or between runs. What a forked kernel has that a cold one
  has not: only those modules, third-party, never ``plusdig`` (the library modules a notebook
  loaded are its dependencies, logged at the end of its run), imported with the ``MPLBACKEND``
  ipykernel sets and without ``rfc3987_syntax``, as the cold kernels run. The random
  generators (``random``, numpy's global one) are seeded anew in each child, as in a new
  process. ``tests/test_determinism.py`` runs the book's notebooks cold and compares every
  output with the book's warm build, and compares a warm and a cold build's pages.
- ``module``: the child runs ``python -m MODULE ARGS`` with its output to a file: the preview's
  builds (:data:`BUILD_PRELOAD`), one fork per build, so a failed or interrupted build leaves
  nothing behind in the next.

Each child gets its own session (signals and kills go to its process group) and is reaped by
the server, which sends its exit status to the client that asked for it. If that client goes
away, the server kills the child's process group; when the process that started the server
ends (its stdin closes), the server kills all its children and exits.

The client side: :class:`ForkServer` (start, fork, stop); the jupyter_client side of a forked
kernel (a ``KernelManager`` whose provisioner asks the server for the kernel instead of
starting ``python -m ipykernel_launcher``) is :mod:`plusdig.sphinx.forkkernel`. This module's
top level imports only the standard library: the server must not load ``plusdig``.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

#: Third-party modules a kernel server imports before it forks (what the book's kernels load).
KERNEL_PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "numpy",
           "pandas", "matplotlib", "matplotlib.pyplot", "seaborn", "myst_nb", "pydantic",
           "yaml", "ipywidgets", "IPython.display",
           # glue (nbformat, jsonschema), styled tables, the network and the survey's models:
           # 0.05-0.3 s each in every notebook that used them
           "myst_nb.ext.glue", "pandas.io.formats.style", "networkx", "statsmodels.api",
           "statsmodels.formula.api",
           # every IPython kernel imports its debugger (debugpy and pydevd) when it starts:
           # 0.3-0.35 s of each notebook's start-up, though no build debugs
           "ipykernel.debugger",
           # ... and these as it starts, runs and ends (sqlite3: its history; psutil: its
           # shutdown), and the book's chapters these (pydantic loads its parts on first use,
           # PIL its image formats): about 0.12 s in every kernel. Only modules whose import
           # does not depend on the kernel: not matplotlib_inline, which sets up the shell
           # it is imported in
           "IPython.core.completerlib", "IPython.core.debugger", "IPython.core.logger",
           "IPython.core.oinspect", "IPython.core.pylabtools", "IPython.extensions.storemagic",
           "IPython.utils.wildcard", "sqlite3", "pdb", "faulthandler", "resource",
           "tornado.platform.asyncio", "psutil", "pydantic.main", "pydantic.fields",
           "pydantic.functional_validators", "pydantic.types", "pydantic.json_schema",
           "pydantic.plugin._schema_validator", "pydantic.plugin._loader",
           "pyarrow.vendored.version", "matplotlib.backends.backend_agg",
           "matplotlib.backends.backend_svg", "matplotlib.backends.backend_mixed",
           "PIL.BmpImagePlugin", "PIL.GifImagePlugin", "PIL.JpegImagePlugin",
           "PIL.PpmImagePlugin", "PIL.features", "pyarrow.csv", "pyarrow.pandas_compat",
           "pandas.core.methods.to_dict", "pandas.core.reshape.reshape", "encodings.utf_8_sig")
#: ... and a build server (what ``python -m plusdig.sphinx.build jb build`` loads).
BUILD_PRELOAD = ("jupyter_book.cli.main", "jupyter_book.sphinx", "sphinx.application",
                 "sphinx.builders.html", "myst_parser", "myst_nb", "myst_nb.sphinx_ext",
                 "sphinx_book_theme", "pydata_sphinx_theme", "sphinx_external_toc",
                 "sphinxcontrib.bibtex", "sphinx_togglebutton", "sphinx_copybutton",
                 "sphinx_design", "jupyter_cache", "nbclient", "jupyter_client", "bs4",
                 "pandas", "pydantic", "yaml", "psutil")
#: The backend ipykernel gives matplotlib (set before matplotlib is imported, as in a kernel).
_MPLBACKEND = "module://matplotlib_inline.backend_inline"
#: How the server is started: as a script (``-c`` puts ``""`` first on ``sys.path``, which the
#: child removes as ``ipykernel_launcher`` does with the folder ``-m`` puts there).
_RUN_SCRIPT = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__main__')"
#: The server's loop wakes at least this often (in seconds); requests, clients that go away and
#: children that exit (SIGCHLD) wake it at once.
_TICK = 0.05
#: Names the running kernel server a build forks its kernels from (kept out of the
#: fingerprints: no setting of the book).
SERVER_ENV = "PLUSDIG_KERNEL_SERVER"


# --------------------------------------------------------------------------- server
def _child(request: dict[str, Any]) -> None:
    """In the forked child: do the job ``request`` asks for, then exit (never returns)."""
    code = 1
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        if request.get("output"):
            out = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(out, 1)
            os.dup2(out, 2)
            os.close(out)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        import random

        random.seed()
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        if sys.path and sys.path[0] == "":  # the server's ``-c``: not on a kernel's path
            del sys.path[0]
        _set_pythonpath(request["env"].get("PYTHONPATH", ""))
        try:
            if request.get("module"):
                import runpy

                sys.path.insert(0, request["cwd"])  # as ``python -m`` does
                sys.argv = [request["module"], *request["argv"]]
                runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
            else:
                _kernel(request["argv"])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported on its stderr, like a process's own
        import traceback

        traceback.print_exc()
    finally:
        exit_now(code)


def exit_now(code: int) -> None:
    """Flush the output and end this (forked) process at once, without any clean-up."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001, S110
            pass
    os._exit(code)


#: ``$PYTHONPATH`` when the server started (its ``sys.path`` holds those folders).
_SERVER_PYTHONPATH = os.environ.get("PYTHONPATH", "")


def _set_pythonpath(wanted: str) -> None:
    """Give ``sys.path`` the folders of ``wanted`` instead of the server's ``$PYTHONPATH``, as
    a process started with ``wanted`` would have them (first, before the standard library)."""
    if wanted == _SERVER_PYTHONPATH:
        return
    old = {p for p in _SERVER_PYTHONPATH.split(os.pathsep) if p}
    sys.path[:] = [p for p in wanted.split(os.pathsep) if p] + \
        [p for p in sys.path if p not in old]


def _kernel(argv: list[str]) -> None:
    """Run ipykernel as ``python -m ipykernel_launcher ARGV`` would."""
    import importlib.util

    spec = importlib.util.find_spec("ipykernel_launcher")
    # as jupyter_client's launcher sets it: the kernel ends when its parent (here the server,
    # which ends with the build) is gone; the trait's default was read from the environment
    # when the server imported ipykernel, so it is given as an argument too
    os.environ["JPY_PARENT_PID"] = str(os.getppid())
    sys.argv = [spec.origin if spec and spec.origin else "ipykernel_launcher", *argv,
                f"--IPKernelApp.parent_handle={os.getppid()}"]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


def serve(path: str, preload: list[str]) -> None:
    """Import ``preload``, listen on the Unix socket ``path`` and fork a child per request
    until stdin closes."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    os.environ.setdefault("MPLBACKEND", _MPLBACKEND)
    # pydevd (ipykernel.debugger) warns on stderr at import that the standard library is
    # frozen: a kernel's stderr goes to a stream no notebook shows, the server's to the build's
    # terminal. The setting only silences that warning (pydevd_file_utils); children get the
    # environment of their request.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    import importlib

    for name in preload:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - a missing module is imported by the kernel
            continue
    # the imported modules' objects live as long as the server: kept out of the children's
    # garbage collections, which would scan them all (0.2 s of a long notebook) and so copy
    # every page the fork shares
    import gc

    gc.collect()
    gc.freeze()
    # a child's exit wakes the loop at once (its client waits for the exit status), not at
    # the next timeout of select: the signal writes a byte to ``wake``
    wake, wake_w = os.pipe()
    os.set_blocking(wake, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path + ".tmp")
    listener.listen(16)
    os.rename(path + ".tmp", path)  # the path appears when the server listens
    kernels: dict[int, socket.socket] = {}  # pid → the client that asked for it
    clients: dict[socket.socket, int] = {}
    try:
        while True:
            ready, _, _ = select.select([sys.stdin, listener, wake, *clients], [], [], _TICK)
            if wake in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake, 4096)
            if sys.stdin in ready and not os.read(sys.stdin.fileno(), 4096):
                return  # the process that started the server has ended
            if listener in ready:
                conn, _ = listener.accept()
                try:
                    request = json.loads(conn.makefile("rb").readline())
                except (OSError, ValueError):  # a client gone before its request was read
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    signal.set_wakeup_fd(-1)  # the server's: a new process has none
                    for held in (listener, conn, *clients):
                        held.close()
                    os.close(wake)
                    os.close(wake_w)
                    _child(request)
                kernels[pid] = conn
                clients[conn] = pid
                try:
                    conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
                except OSError:  # the client went away (Ctrl-C while it waited): so does
                    _kill_group(pid)  # its child; the server serves the others
            for conn in [c for c in ready if c in clients]:
                try:
                    gone = not conn.recv(4096)
                except OSError:
                    gone = True
                if gone:  # the client is gone: its kernel goes too
                    _kill_group(clients[conn])
            while kernels:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                conn = kernels.pop(pid, None)
                if conn is None:
                    continue
                clients.pop(conn, None)
                try:
                    conn.sendall(json.dumps({"exit": os.waitstatus_to_exitcode(status)})
                                 .encode() + b"\n")
                except OSError:
                    pass
                conn.close()
    finally:
        for pid in list(kernels):
            _kill_group(pid)
        listener.close()
        Path(path).unlink(missing_ok=True)


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
            return
        except OSError:
            continue


# --------------------------------------------------------------------------- client
class Forked:
    """A process forked by the server (a kernel, a build), with the part of
    :class:`subprocess.Popen`'s interface jupyter_client and the preview use (``pid``,
    ``poll``, ``wait``, ``send_signal``, ``kill``)."""

    stdin = stdout = stderr = None

    def __init__(self, conn: socket.socket, pid: int) -> None:
        self._conn, self.pid, self.returncode = conn, pid, None
        self._buffer = b""

    def _read(self, timeout: float | None) -> int | None:
        if self.returncode is not None:
            return self.returncode
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self._conn], [], [], left)
            if not ready:
                return None
            chunk = self._conn.recv(4096)
            if not chunk:  # the server went away (and killed its kernels)
                self._buffer += b'{"exit": -9}\n'
                break
            self._buffer += chunk
        self.returncode = int(json.loads(self._buffer.split(b"\n", 1)[0])["exit"])
        self._conn.close()
        return self.returncode

    def poll(self) -> int | None:
        return self._read(0)

    def wait(self, timeout: float | None = None) -> int:
        code = self._read(timeout)
        if code is None:
            import subprocess

            raise subprocess.TimeoutExpired(f"forked process {self.pid}", timeout or 0)
        return code

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkServer:
    """A running fork server: started here (:meth:`start`) or, for kernels, named by
    ``$PLUSDIG_KERNEL_SERVER`` (:meth:`from_env`)."""

    def __init__(self, path: str, process: Any = None) -> None:
        self.path, self.process = path, process

    @classmethod
    def start(cls, sockets_dir: str | Path, preload: tuple[str, ...] = KERNEL_PRELOAD,
              env: dict[str, str] | None = None, wait: bool = True) -> ForkServer:
        """Start a server listening in ``sockets_dir`` (private, short path) with ``env``
        (default: this process's, without ``PLUSDIG_*`` settings); wait until it has imported
        ``preload`` (unless ``wait`` is false: then :meth:`wait_ready` before the first job)."""
        import subprocess

        path = str(Path(sockets_dir) / "server")
        if env is None:
            env = {k: v for k, v in os.environ.items() if not k.startswith("PLUSDIG_")}
        # run as a script, not as plusdig.sphinx.forkserver: its children must not hold plusdig
        proc = subprocess.Popen([sys.executable, "-c", _RUN_SCRIPT, __file__, path,
                                 json.dumps(list(preload))],
                                stdin=subprocess.PIPE, env=env, start_new_session=True)
        server = cls(path, proc)
        if wait:
            server.wait_ready()
        return server

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait until the server listens (it has imported its modules)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            if os.path.exists(self.path):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("plusdig.sphinx.forkserver: the fork server did not start")

    @classmethod
    def from_env(cls) -> ForkServer | None:
        path = os.environ.get(SERVER_ENV)
        return cls(path) if path and Path(path).exists() else None

    def fork(self, cmd: list[str], env: dict[str, str], cwd: str) -> Forked:
        """A new kernel for ``cmd`` (``python -m ipykernel_launcher ARGS``)."""
        return self._request({"argv": cmd[3:], "env": env, "cwd": cwd})

    def run_module(self, module: str, argv: list[str], env: dict[str, str], cwd: str,
                   output: str | Path) -> Forked:
        """``python -m module argv`` in a new child, its output (stdout and stderr) to
        ``output``."""
        return self._request({"module": module, "argv": argv, "env": env, "cwd": cwd,
                              "output": str(output)})

    def _request(self, request: dict[str, Any]) -> Forked:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(self.path)
        conn.sendall(json.dumps(request).encode() + b"\n")
        line = b""
        while not line.endswith(b"\n"):
            chunk = conn.recv(1)
            if not chunk:
                raise RuntimeError("plusdig.sphinx.forkserver: the fork server refused a job")
            line += chunk
        return Forked(conn, int(json.loads(line)["pid"]))

    def stop(self) -> None:
        """End a server started here and every kernel it still runs."""
        if self.process is not None:
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except Exception:  # noqa: BLE001
                self.process.kill()
                self.process.wait()
            self.process = None


def forks(cmd: list[str]) -> bool:
    """True when ``cmd`` starts this Python's ipykernel, i.e. a forked kernel can stand in."""
    return len(cmd) > 3 and cmd[1:3] == ["-m", "ipykernel_launcher"] \
        and os.path.realpath(cmd[0]) == os.path.realpath(sys.executable)


if __name__ == "__main__":
    serve(sys.argv[-2], json.loads(sys.argv[-1]))
