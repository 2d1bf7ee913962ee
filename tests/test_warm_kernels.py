"""Warm kernels (:mod:`plusdig.sphinx.forkserver`, :mod:`plusdig.sphinx.forkkernel`): forked
from a fork server with the book's libraries imported, they give the outputs of cold kernels
and share no state.

Here: a forked kernel starts with a fresh namespace, its own folder and environment and no
library module loaded; :func:`_outputs` is what of a notebook's outputs two runs must share.
``tests/test_determinism.py`` compares every cell's outputs of every notebook of the book's TOC,
cold and warm, and the pages of a warm and a cold build (in one file, so that the cold build's
runs are also the notebook comparison's: one cold run each).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import psutil
import pytest

from plusdig.sphinx.build import toc_notebooks
from plusdig.sphinx.execute import _execute_one
from plusdig.sphinx.forkkernel import reap_all
from plusdig.sphinx.forkserver import KERNEL_PRELOAD, ForkServer

REPO = Path(__file__).resolve().parents[1]
_ADDRESS = re.compile(r"0x[0-9a-f]{6,}")
_MODEL_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def server() -> Iterator[ForkServer]:
    """A fork server of this file's own (its tests end its kernels and it), started once for
    the tests that fork kernels from it; stopped at the end, and then gone."""
    s = ForkServer.start(tempfile.mkdtemp(prefix="pdz-"))
    yield s
    pid = s.process.pid
    s.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def _outputs(nb_json: str) -> tuple[list[str], list[str]]:
    """Every code cell's outputs, and the widget models, without what differs run to run."""
    nb = json.loads(nb_json)
    cells = [_MODEL_ID.sub("<id>", _ADDRESS.sub("<0x>", json.dumps(
        [c.get("execution_count"), c.get("outputs")], sort_keys=True)))
        for c in nb["cells"] if c["cell_type"] == "code"]
    state = (nb.get("metadata", {}).get("widgets") or {}).get(
        "application/vnd.jupyter.widget-state+json", {}).get("state", {})
    models = sorted(_MODEL_ID.sub("<id>", json.dumps(m, sort_keys=True)) for m in state.values())
    return cells, models


_PROBE = """\
import os, random, sys
import numpy
print("leak" in globals())
leak = 1
print(random.random(), numpy.random.rand())
print(sorted(m for m in sys.modules if m == "plusdig" or m.startswith("plusdig.")))
print(os.getcwd())
print(os.environ.get("PLUSDIG_PROBE"))
print(os.getpid())
print("pandas" in sys.modules)
print(os.environ.get("PYTHONPATH", "") in sys.path)
import signal
print(signal.getsignal(signal.SIGCHLD) == signal.SIG_DFL, signal.set_wakeup_fd(-1))
print("PYDEVD_DISABLE_FILE_VALIDATION" in os.environ, "ipykernel.debugger" in sys.modules,
      hasattr(get_ipython().kernel, "debugger"))
import gc
print(gc.get_freeze_count() > 10000, gc.isenabled())
"""


@contextlib.contextmanager
def _environ(extra: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_forked_kernels_share_no_state(server: ForkServer, tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(_PROBE)]
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    runs = []
    for value in ("a", "b"):
        cwd = tmp_path / value
        cwd.mkdir()
        # the second kernel also gets a PYTHONPATH of its own (a process started with it has
        # that folder on sys.path)
        extra = {"PYTHONPATH": str(tmp_path / "lib")} if value == "b" else {}
        with _environ(extra):
            _, out, _, err, reads, _ = _execute_one(str(path), str(cwd), 60, False,
                                                    {"PLUSDIG_PROBE": value}, server)
        assert err is None, err
        text = nbformat.reads(out, as_version=4).cells[0].outputs[0]["text"].splitlines()
        runs.append((value, str(cwd), text))
    reap_all()  # a kernel ends in the background once its notebook has run
    for value, cwd, text in runs:
        leaked, randoms, modules, where, probe, pid, pandas, pythonpath, sigs, debug, gc = text
        assert leaked == "False"  # a fresh namespace each time
        assert modules == "[]"  # no library module loaded before the notebook's own imports
        assert where == cwd and probe == value  # this launch's folder and environment
        assert pandas == "True" and "pandas" in KERNEL_PRELOAD  # imported by the server, before
        assert pythonpath == "True" or (value == "a" and not os.environ.get("PYTHONPATH"))
        assert sigs == "True -1"  # not the server's SIGCHLD handler and wake-up pipe
        # the debugger imported before the fork (as a cold kernel has it, from its start),
        # and not the server's setting that silenced it
        assert debug == "False True True" and "ipykernel.debugger" in KERNEL_PRELOAD
        assert gc == "True True"  # the server's objects frozen; the kernel's own collected
        assert not psutil.pid_exists(int(pid)) or \
            psutil.Process(int(pid)).status() == psutil.STATUS_ZOMBIE  # one run, then gone
    assert runs[0][2][1] != runs[1][2][1]  # random generators seeded anew in each kernel


# --------------------------------------------------------------------------- no fixed waits
class _Channel:
    """A jupyter_client channel with the messages a test gives it (Empty when none is left)."""

    def __init__(self, messages: list[dict[str, Any]] | None = None) -> None:
        self.messages = list(messages or [])

    def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
        from queue import Empty

        if not self.messages:
            raise Empty
        return self.messages.pop(0)


def _msg(kind: str, parent: str | None, **content: Any) -> dict[str, Any]:
    return {"msg_type": kind, "parent_header": {"msg_id": parent} if parent else {},
            "content": content}


class _Client:
    """A kernel client whose kernel answers each kernel_info request as ``script`` says: the
    messages it puts on the shell and the IOPub channel for request ``m1``, ``m2`` ..."""

    def __init__(self, script: dict[str, tuple[list[Any], list[Any]]]) -> None:
        self.shell_channel, self.iopub_channel = _Channel(), _Channel()
        self.script, self.requests, self.handled = script, [], []  # type: ignore[var-annotated]

    def kernel_info(self) -> str:
        msg_id = f"m{len(self.requests) + 1}"
        self.requests.append(msg_id)
        shell, iopub = self.script.get(msg_id, ([], []))
        self.shell_channel.messages += shell
        self.iopub_channel.messages += iopub
        return msg_id

    def is_alive(self) -> bool:
        return True

    def _handle_kernel_info_reply(self, msg: dict[str, Any]) -> None:
        self.handled.append(msg)


def test_forked_kernel_is_ready_at_the_idle_status_of_its_kernel_info() -> None:
    """The client is ready once the kernel's idle status for its kernel_info request has come
    on IOPub (IOPub is connected, and what the kernel published before is read), with no wait
    for silence; with no such status (IOPub not yet connected) it asks again."""
    from jupyter_core.utils import run_sync  # works with or without a running event loop

    from plusdig.sphinx.forkkernel import _wait_for_ready

    def reply(msg_id: str) -> dict[str, Any]:
        return _msg("kernel_info_reply", msg_id, protocol_version="5.4")

    later = _msg("status", "m9", execution_state="busy")
    client = _Client({"m1": ([reply("m1")], [
        _msg("stream", None, text="warning"), _msg("status", "m1", execution_state="busy"),
        _msg("status", "m0", execution_state="idle"),
        _msg("status", "m1", execution_state="idle"), later])})
    run_sync(_wait_for_ready)(client, timeout=5)
    assert client.requests == ["m1"] and client.handled == [reply("m1")]
    assert client.iopub_channel.messages == [later]  # nothing after its idle status is eaten
    # the first request's statuses were published before IOPub was connected: asked again
    client = _Client({"m1": ([reply("m1")], []),
                      "m2": ([reply("m2")], [_msg("status", "m2", execution_state="busy"),
                                             _msg("status", "m2", execution_state="idle")])})
    run_sync(_wait_for_ready)(client, timeout=5)
    assert client.requests == ["m1", "m2"] and client.handled == [reply("m2")]


def test_fork_server_reports_a_childs_exit_at_once(tmp_path: Path) -> None:
    """The server hears of a child's exit from SIGCHLD, not at its loop's next timeout: with
    a 30 s timeout each exit status still comes within seconds."""
    import subprocess
    import sys
    import time

    from plusdig.sphinx import forkserver

    path = str(tmp_path / "server")
    script = ("import importlib.util, sys; spec = importlib.util.spec_from_file_location("
              "'fs', sys.argv[1]); fs = importlib.util.module_from_spec(spec); "
              "spec.loader.exec_module(fs); fs._TICK = 30.0; fs.serve(sys.argv[2], [])")
    proc = subprocess.Popen([sys.executable, "-c", script, forkserver.__file__, path],
                            stdin=subprocess.PIPE, start_new_session=True)
    server = ForkServer(path, proc)
    try:
        server.wait_ready()
        (tmp_path / "quick.py").write_text("print('done')\n", encoding="utf-8")
        for n in range(3):
            started = time.monotonic()
            child = server.run_module("quick", [], dict(os.environ), str(tmp_path),
                                      tmp_path / f"out{n}.txt")
            assert child.wait(timeout=60) == 0
            assert time.monotonic() - started < 5.0
            assert (tmp_path / f"out{n}.txt").read_text(encoding="utf-8") == "done\n"
    finally:
        server.stop()


def test_fork_server_outlives_a_client_gone_before_its_reply(tmp_path: Path) -> None:
    """A client that goes away before the server's reply (the preview interrupted by Ctrl-C
    while it asked for a build) loses its child; the server says nothing and serves the next
    client (it died with a BrokenPipeError traceback on the preview's terminal)."""
    import json
    import socket
    import subprocess
    import sys
    import time

    import psutil

    from plusdig.sphinx import forkserver

    path = str(tmp_path / "server")
    errors = tmp_path / "server-stderr.txt"
    with errors.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-c", forkserver._RUN_SCRIPT,
                                 forkserver.__file__, path, "[]"],
                                stdin=subprocess.PIPE, stderr=err, start_new_session=True)
    server = ForkServer(path, proc)
    try:
        server.wait_ready()
        pid_file = tmp_path / "pid.txt"
        (tmp_path / "slow.py").write_text(
            "import os, pathlib, time\n"
            f"pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))\n"
            "time.sleep(120)\n", encoding="utf-8")
        request = {"module": "slow", "argv": [], "env": dict(os.environ), "cwd": str(tmp_path),
                   "output": str(tmp_path / "slow.txt")}
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(path)
        conn.sendall(json.dumps(request).encode() + b"\n")
        conn.close()  # gone before the reply
        # its child is ended (at once: it may not even have written its pid) and reaped
        server_proc = psutil.Process(proc.pid)
        deadline = time.monotonic() + 10
        while server_proc.children():
            assert time.monotonic() < deadline, "the gone client's child still runs"
            time.sleep(0.05)
        time.sleep(0.5)  # a child it had not yet forked would be there by now
        assert server_proc.children() == []
        if pid_file.is_file() and pid_file.read_text():
            assert not psutil.pid_exists(int(pid_file.read_text()))
        assert proc.poll() is None, errors.read_text()
        (tmp_path / "quick.py").write_text("print('done')\n", encoding="utf-8")
        assert server.run_module("quick", [], dict(os.environ), str(tmp_path),
                                 tmp_path / "quick.txt").wait(timeout=60) == 0
    finally:
        server.stop()
    assert errors.read_text() == ""


def test_forked_kernel_ends_in_the_background_and_by_force_if_it_must(
        server: ForkServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel's shutdown does not hold up the next notebook: it is asked to end and waited
    for in a thread. One that cannot end (still running a cell that timed out) is ended by
    SIGTERM, then SIGKILL, within jupyter_client's shutdown wait (here 1 s instead of its
    default 5 s, and a 1 s cell timeout: the same steps, 6 s less waiting)."""
    import time

    from plusdig.sphinx import execute, forkkernel

    configured = execute.private_kernel_config

    def short_wait(sockets: Any) -> Any:
        config = configured(sockets)
        config.KernelManager.shutdown_wait_time = 1.0
        return config

    monkeypatch.setattr(execute, "private_kernel_config", short_wait)

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import os\nprint(os.getpid())"),
        nbformat.v4.new_code_cell("import signal, time\n"
                                  "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                  "time.sleep(120)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "stuck.ipynb"
    nbformat.write(nb, path)
    started = time.monotonic()
    _, out, _, err, _, _ = _execute_one(str(path), str(tmp_path), 1, False, {}, server)
    returned = time.monotonic()
    assert err is not None and "CellTimeoutError" in err
    pid = int(nbformat.reads(out, as_version=4).cells[0].outputs[0]["text"])
    assert returned - started < 30  # the timeout and a shutdown request: no wait for the exit
    assert forkkernel._REAPERS  # its exit is waited for in a thread
    reap_all(60)
    assert not forkkernel._REAPERS
    assert time.monotonic() - returned < 30  # SIGTERM ignored: SIGKILL after the wait
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_a_kernels_zeromq_context_ends_in_its_reaper_after_the_kernel(
        server: ForkServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel manager's own ZeroMQ context is ended by the thread that waits for the
    kernel, once the kernel has ended, without a linger: not in the notebook's thread with
    jupyter_client's ``destroy(linger=100)``, which waits 0.1 s a notebook before the next
    one (and the build waits for the reapers), and never left open."""
    import threading

    import zmq

    from plusdig.sphinx import forkkernel

    managers: list[Any] = []
    made = forkkernel.kernel_manager

    def kernel_manager(*args: Any, **kwargs: Any) -> Any:
        km = made(*args, **kwargs)
        managers.append(km)
        return km

    ended: list[tuple[int, str, bool, int | None]] = []  # context, thread, kernel ran, linger
    destroy = zmq.Context.destroy
    pid: list[int] = []

    def spy(self: Any, linger: int | None = None) -> None:
        alive = bool(pid) and psutil.pid_exists(pid[0]) and \
            psutil.Process(pid[0]).status() != psutil.STATUS_ZOMBIE
        ended.append((id(self), threading.current_thread().name, alive, linger))
        destroy(self, linger=linger)

    monkeypatch.setattr(forkkernel, "kernel_manager", kernel_manager)
    monkeypatch.setattr(zmq.Context, "destroy", spy)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os\nprint(os.getpid())")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, tmp_path / "one.ipynb")
    real_fork = ForkServer.fork

    def fork(self: ForkServer, *args: Any, **kwargs: Any) -> Any:
        child = real_fork(self, *args, **kwargs)
        pid.append(child.pid)
        return child

    monkeypatch.setattr(ForkServer, "fork", fork)
    _, out, _, err, _, _ = _execute_one(str(tmp_path / "one.ipynb"), str(tmp_path), 60, False,
                                        {}, server)
    assert err is None
    assert int(nbformat.reads(out, as_version=4).cells[0].outputs[0]["text"]) == pid[0]
    reap_all(60)
    assert len(managers) == 1
    context = managers[0].context
    mine = [(thread, alive, linger) for c, thread, alive, linger in ended if c == id(context)]
    assert len(mine) == 1, ended
    # in the reaper, after the kernel, without waiting for what can no longer be delivered
    assert mine[0][0].startswith("plusdig-reap-") and mine[0][1:] == (False, 0), mine
    assert context.closed


def test_kernel_server_prints_nothing_of_its_own(tmp_path: Path) -> None:
    """A build's terminal shows no line from the kernel server or its kernels' start-up
    (pydevd, imported before the fork, warns about frozen modules unless told not to)."""
    import subprocess
    import sys

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, tmp_path / "one.ipynb")
    script = ("import sys, tempfile\n"
              "from plusdig.sphinx.execute import _execute_one\n"
              "from plusdig.sphinx.forkserver import ForkServer\n"
              "s = ForkServer.start(tempfile.mkdtemp(prefix='pdz-'))\n"
              "try:\n"
              "    r = _execute_one(sys.argv[1], sys.argv[2], 60, False, {}, s)\n"
              "finally:\n"
              "    s.stop()\n"
              "print('42' in r[1] and r[3] is None)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYDEVD_DISABLE_FILE_VALIDATION"}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "one.ipynb"),
                           str(tmp_path)], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
    assert done.stderr == "", done.stderr


# --------------------------------------------------------------------------- order, early start
def test_run_order_slowest_first(tmp_path: Path) -> None:
    """The stale notebooks start slowest first: by the last run's time; never-run ones before
    every timed one, the most code cells first (a clean build: aktiviteterne before forord)."""
    from plusdig.sphinx.kernels import run_order

    def notebook(name: str, code_cells: int) -> str:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")
                                             for _ in range(code_cells)]
                                      + [nbformat.v4.new_markdown_cell("x") for _ in range(5)])
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(nb, path)
        return str(path)

    a, b, c, d = notebook("a", 2), notebook("b", 9), notebook("c", 1), notebook("d", 4)
    assert run_order([a, b, c, d], {}) == [b, d, a, c]
    assert run_order([a, b, c, d], {a: 3.0, b: 1.0, c: None}) == [d, c, a, b]
    book = [str(p) for p in toc_notebooks(REPO)]
    first = Path(run_order(book, {})[0]).stem
    assert first in {"aktiviteterne", "trivsel-dybden"}, first


def test_clean_build_starts_its_kernel_server_early(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """With no dependency state a build starts its kernel server at once and its notebooks are
    forked from that one; with a state file, a preview's server or cold kernels, none starts."""
    from plusdig.sphinx import kernels
    from plusdig.sphinx.forkserver import SERVER_ENV

    monkeypatch.delenv(SERVER_ENV, raising=False)
    monkeypatch.delenv("PLUSDIG_COLD_KERNELS", raising=False)
    state = tmp_path / "plusdig-deps.json"
    kernels.start_early(state)
    assert len(kernels._EARLY) == 1
    early = kernels._EARLY[0]
    kernels.start_early(state)  # once
    assert kernels._EARLY == [early]
    server, own = kernels.kernel_server()
    try:
        assert server is early and own is early and not kernels._EARLY
        assert os.path.exists(server.path)  # ready: it listens
    finally:
        pid = server.process.pid
        kernels.stop(server)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    state.write_text("{}", encoding="utf-8")
    kernels.start_early(state)
    assert kernels._EARLY == []
    # with a state file, when a notebook will likely run (plusdig.sphinx.inputs decides)
    from plusdig.sphinx.forkserver import ForkServer

    started: list[bool] = []
    with monkeypatch.context() as m:
        m.setattr(ForkServer, "start", classmethod(lambda cls, *a, **k: started.append(True)))
        kernels.start_early(state, likely=True)
    assert started == [True] and len(kernels._EARLY) == 1
    kernels._EARLY.clear()
    state.unlink()
    monkeypatch.setenv("PLUSDIG_COLD_KERNELS", "1")
    kernels.start_early(state)
    monkeypatch.delenv("PLUSDIG_COLD_KERNELS")
    monkeypatch.setenv(SERVER_ENV, str(tmp_path / "elsewhere"))
    kernels.start_early(state)
    assert kernels._EARLY == []
