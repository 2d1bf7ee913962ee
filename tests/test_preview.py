"""``make preview``: serve, watch, rebuild, reload, show failures, stop cleanly.

Starts the preview's entry point (``python -m plusdig.authoring.preview``) on a reduced copy of
the book and edits, in turn, a Markdown cell, a code cell and a data value, polling the served page
over HTTP until each change shows; then a cell that raises (the page keeps the last good
content with the error box, naming the notebook, the cell and the error) and the fix (the box
goes). Stops it with SIGINT and checks that no process it started is left, kernels included.
Unit tests of the page injection and the watcher need no build.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import nbformat
import psutil
import pytest
from buildkit import build_env, make_copy, page_text

from plusdig.authoring import preview
from plusdig.sphinx import failures

CHAPTERS = ["book/probe/data", "book/probe/code"]


# --------------------------------------------------------------------------- unit
def test_inject_adds_script_and_escaped_error_box() -> None:
    state = preview.State(generation=7, failed=True, log="/tmp/x.log", problems=[
        failures.Problem("book/a.ipynb", 3, "ValueError: <b>12</b> & 13")])
    page = preview.inject("<html><head></head><body class='x'><p>Tekst</p></body>"
                                   "</html>", state)
    assert 'id="plusdig-preview"' in page and "var generation = 7;" in page
    assert "book/a.ipynb, celle 3: ValueError: &lt;b&gt;12&lt;/b&gt; &amp; 13" in page
    assert "<b>12</b>" not in page
    assert page.index("plusdig-preview-fejl") < page.index("<p>Tekst</p>")
    good = preview.inject("<html><head></head><body><p>Tekst</p></body></html>",
                          preview.State(generation=8))
    assert 'id="plusdig-preview-fejl"' not in good and "var generation = 8;" in good


def test_wait_answers_when_the_build_state_changes() -> None:
    """The page's open request (``/__preview__/wait``) is answered as soon as a build starts
    or ends, not at the next poll; unchanged, only after its timeout."""
    state = preview.State(generation=3)
    t0 = time.monotonic()
    assert json.loads(state.wait_change(3, False, timeout=0.2))["generation"] == 3
    assert time.monotonic() - t0 >= 0.2
    timer = threading.Timer(0.3, lambda: state.update(building=True))
    timer.start()
    t0 = time.monotonic()
    answer = json.loads(state.wait_change(3, False, timeout=10))
    assert answer["building"] is True and time.monotonic() - t0 < 5
    timer = threading.Timer(0.3, lambda: state.update(building=False, generation=4))
    timer.start()
    answer = json.loads(state.wait_change(3, True, timeout=10))
    assert answer == {"generation": 4, "building": False, "failed": False, "problems": []}
    assert json.loads(state.wait_change(2, False, timeout=10))["generation"] == 4  # at once


def test_a_reader_who_left_is_no_error_in_the_terminal(tmp_path: Path,
                                                        capfd: pytest.CaptureFixture[str]) -> None:
    """A page the reader left (a reload, another page, a closed tab) leaves its ``wait``
    request open; answering it when the next build starts finds the connection reset. The
    terminal stays quiet about that, and still prints any other error of a request."""
    (tmp_path / "index.html").write_text("<html><body>Tekst</body></html>", encoding="utf-8")
    state = preview.State(generation=1)
    answered = threading.Semaphore(0)

    class Probe(preview.Server):
        def shutdown_request(self, request: object) -> None:  # after handle_error, if any
            super().shutdown_request(request)  # type: ignore[arg-type]
            answered.release()

    server = Probe(("127.0.0.1", 0), preview.make_handler(tmp_path, state))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host, port = server.server_address[:2]
        client = socket.create_connection((host, port))
        client.sendall(b"GET /__preview__/wait?generation=1&building=0 HTTP/1.1\r\n"
                       b"Host: x\r\n\r\n")
        time.sleep(0.3)  # the request is read and waits for the state to change
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()  # reset, as a browser that went away
        state.update(building=True)
        assert answered.acquire(timeout=10)
        assert json.loads(_get(f"http://{host}:{port}/__preview__/state"))["building"] is True
        assert answered.acquire(timeout=10)
        try:
            raise ValueError("en anden fejl")
        except ValueError:
            server.handle_error(None, (host, port))
    finally:
        server.shutdown()
        server.server_close()
    err = capfd.readouterr().err
    assert "ConnectionResetError" not in err and "BrokenPipeError" not in err, err
    assert err.count("Traceback") == 1 and "ValueError: en anden fejl" in err, err


@pytest.mark.browser
@pytest.mark.parametrize("width", [1400, 390])
def test_the_error_box_is_in_sight_after_a_reload_mid_page(
        tmp_path: Path, browser: object, width: int) -> None:
    """A reload keeps the reader's place on the page, so the box of a failed build is fixed at
    the foot of the window, in sight wherever the reader is, and the page ends above it."""
    body = "".join(f"<p id='p{i}'>Afsnit {i}</p>" for i in range(300))
    (tmp_path / "index.html").write_text(f"<html><head></head><body>{body}</body></html>",
                                         encoding="utf-8")
    state = preview.State(generation=1, failed=True, log="/tmp/plusdig-build.log", problems=[
        failures.Problem("book/a.ipynb", 3, "ValueError: Tallet passer ikke")])
    server = preview.Server(("127.0.0.1", 0), preview.make_handler(tmp_path, state))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = browser.new_page(viewport={"width": width, "height": 800})  # type: ignore[attr-defined]
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        page.evaluate("window.scrollTo(0, 3000)")
        page.reload()
        assert page.evaluate("window.scrollY") > 1000  # the reader's place is kept
        box = page.locator("#plusdig-preview-fejl").bounding_box()
        assert box and box["height"] > 40 and box["y"] >= 0
        assert abs(box["y"] + box["height"] - 800) < 1, box  # at the foot of the window
        assert "celle 3: ValueError: Tallet passer ikke" in page.inner_text("#plusdig-preview-fejl")
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        last = page.locator("#p299").bounding_box()
        assert last and last["y"] + last["height"] <= box["y"] + 1, (last, box)  # not hidden
    finally:
        page.close()
        server.shutdown()
        server.server_close()


def test_a_port_in_use_is_said_in_danish_with_a_way_out(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            assert preview.main(["--port", str(port), "--srcdir", str(tmp_path)]) == 1
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    err = capsys.readouterr().err
    assert f"porten {port} er optaget" in err and f"make preview PORT={port + 1}" in err, err
    assert "Errno" not in err and "Address already in use" not in err, err


def test_watcher_sees_sources_not_build_output(tmp_path: Path) -> None:
    (tmp_path / "book" / "_build").mkdir(parents=True)
    (tmp_path / "book" / "generated").mkdir()
    (tmp_path / "book" / "a.md").write_text("x", encoding="utf-8")
    before = preview.snapshot([tmp_path / "book"])
    (tmp_path / "book" / "_build" / "page.html").write_text("y", encoding="utf-8")
    (tmp_path / "book" / "generated" / "p.md").write_text("y", encoding="utf-8")
    (tmp_path / "book" / ".a.md.swp").write_text("y", encoding="utf-8")
    (tmp_path / "book" / "a.md~").write_text("y", encoding="utf-8")
    assert preview.changed(before, preview.snapshot([tmp_path / "book"])) == []
    time.sleep(0.01)
    (tmp_path / "book" / "a.md").write_text("xy", encoding="utf-8")
    (tmp_path / "book" / "b.md").write_text("new", encoding="utf-8")
    assert preview.changed(before, preview.snapshot([tmp_path / "book"])) == [
        str(tmp_path / "book" / "a.md"), str(tmp_path / "book" / "b.md")]


# --------------------------------------------------------------------------- end to end
def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - 127.0.0.1
        return response.read().decode("utf-8")


def _wait_for(url: str, predicate: object, what: str, timeout: float = 120) -> tuple[str, float]:
    """Poll ``url`` until ``predicate(page)``; the page and the seconds it took."""
    t0 = time.monotonic()
    page = ""
    while time.monotonic() - t0 < timeout:
        try:
            page = _get(url)
        except OSError:
            page = ""
        if page and predicate(page):  # type: ignore[operator]
            return page, time.monotonic() - t0
        time.sleep(0.1)
    raise AssertionError(f"{what}: not seen within {timeout} s; last page:\n"
                         f"{page_text(page)[:2000]}")


def _edit_cell(path: Path, index: int, old: str, new: str) -> None:
    nb = nbformat.read(path, as_version=4)
    assert old in nb.cells[index].source, nb.cells[index].source
    nb.cells[index].source = nb.cells[index].source.replace(old, new)
    nbformat.write(nb, path)


def _processes_of(copy: Path) -> list[psutil.Process]:
    """Processes whose working folder, command line or environment points into ``copy``."""
    found = []
    for p in psutil.process_iter():
        try:
            if p.pid == os.getpid():
                continue
            where = [p.cwd(), *p.cmdline(), p.environ().get("PLUSDIG_DATA", "")]
        except psutil.Error:
            continue
        if any(str(copy) in w for w in where):
            found.append(p)
    return found


def _is_kernel(p: psutil.Process, copy: Path) -> bool:
    """A notebook's kernel: started cold (``ipykernel_launcher``) or forked from the kernel
    server (its working folder is the notebook's)."""
    try:
        return "ipykernel" in " ".join(p.cmdline()) or Path(p.cwd()).is_relative_to(copy / "book")
    except psutil.Error:
        return False


@pytest.mark.build
def test_preview_rebuilds_reloads_shows_failures_and_stops(tmp_path: Path) -> None:
    copy = make_copy(tmp_path / "repo", CHAPTERS)
    out = tmp_path / "out"
    code_nb = copy / "book/probe/code.ipynb"
    proc = subprocess.Popen(
        [sys.executable, "-m", "plusdig.authoring.preview", "--port", "0", "--srcdir", str(copy),
         "--path-output", str(out)],
        env=build_env(copy), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    output: list[str] = []
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        output.append(first)
        match = re.search(r"http://127\.0\.0\.1:\d+/", first)
        assert match, first
        base = match.group(0)
        code_page = base + "book/probe/code.html"
        data_page = base + "book/probe/data.html"

        page, _ = _wait_for(code_page, lambda p: "1.234.567" in page_text(p), "first build")
        assert 'id="plusdig-preview"' in page  # the served page reloads itself ...
        on_disk = (out / "_build/html/book/probe/code.html").read_text(encoding="utf-8")
        assert "plusdig-preview" not in on_disk  # ... the published file does not
        state = _get(base + "__preview__/state")
        assert '"failed": false' in state

        # a Markdown cell; the page's open request is answered when the build starts
        generation = json.loads(state)["generation"]
        answers: list[dict[str, object]] = []
        waiter = threading.Thread(target=lambda: answers.append(json.loads(_get(
            f"{base}__preview__/wait?generation={generation}&building=0"))))
        waiter.start()
        _edit_cell(code_nb, 2, "Værdien er", "Det formaterede tal er")
        _, md_s = _wait_for(code_page, lambda p: "Det formaterede tal er" in page_text(p),
                            "Markdown edit")
        waiter.join(10)
        assert answers and (answers[0]["building"] or answers[0]["generation"] != generation)
        # a code cell
        _edit_cell(code_nb, 1, "fmt.number(1234567)", "fmt.number(7654321)")
        _, code_s = _wait_for(code_page, lambda p: "7.654.321" in page_text(p), "code edit")
        # a data value: the first activity's title in data/activities.yaml
        yaml_path = copy / "data/activities.yaml"
        text = yaml_path.read_text(encoding="utf-8")
        title = re.search(r"^  title: (.+)$", text, flags=re.MULTILINE)
        assert title
        yaml_path.write_text(text.replace(title.group(0), "  title: Forhåndsbussen 4711", 1),
                             encoding="utf-8")
        _, data_s = _wait_for(data_page, lambda p: "Forhåndsbussen 4711" in page_text(p),
                              "data edit")

        # a cell that raises: the page keeps the last good content and shows the error
        _edit_cell(code_nb, 1, "display=False)",
                   "display=False)\nraise ValueError('Tallet passer ikke med citatet')")
        page, _ = _wait_for(code_page, lambda p: 'id="plusdig-preview-fejl"' in p, "failure box")
        text = page_text(page)
        assert "book/probe/code.ipynb, celle 2: ValueError: Tallet passer ikke med citatet" \
            in text, text[:1500]
        assert "7.654.321" in text  # the last good page, still served
        # the fix clears it
        _edit_cell(code_nb, 1, "\nraise ValueError('Tallet passer ikke med citatet')", "")
        _wait_for(code_page, lambda p: 'id="plusdig-preview-fejl"' not in p
                  and "7.654.321" in page_text(p), "failure box cleared")

        # Ctrl-C while a kernel runs a cell ends the build and the kernel
        _edit_cell(code_nb, 1, "display=False)", "display=False)\nimport time\ntime.sleep(120)")
        deadline = time.monotonic() + 120
        while not any(_is_kernel(p, copy) for p in _processes_of(copy)):
            assert time.monotonic() < deadline, "no kernel started"
            time.sleep(0.2)
    finally:
        try:  # everything the preview started: servers, the build, kernels
            started = psutil.Process(proc.pid).children(recursive=True)
        except psutil.Error:
            started = []
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            rest, _ = proc.communicate()
        output.append(rest or "")
    log = "".join(output)
    assert proc.returncode == 0, log[-3000:]
    assert "ValueError: Tallet passer ikke med citatet" in log  # the terminal said it too
    assert "Traceback" not in log
    deadline = time.monotonic() + 10
    while (left := _processes_of(copy)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, [" ".join(p.cmdline()) for p in left]
    _, alive = psutil.wait_procs(started, timeout=10)
    assert not alive, [" ".join(p.cmdline()) for p in alive]
    print(f"preview: Markdown {md_s:.1f} s, code {code_s:.1f} s, data {data_s:.1f} s")
    # the order of magnitude of the targets (2 s and 4 s on a quiet machine)
    assert md_s < 30 and code_s < 40 and data_s < 40
