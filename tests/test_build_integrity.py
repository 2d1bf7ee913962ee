"""A build's output always belongs to one data source, however the previous build ended.

A reduced copy of the book (a page that reads the survey through the real loader and shows a
count, the source's name and a figure; and the colophon) is built once on the synthetic
survey data and once on a fixture delivery (``PLUSDIG_SURVEY``) from scratch: those two sites
are the references. Then, in one output folder, builds are interrupted with SIGINT at a known
point of each phase (``execute``: a notebook's outputs are in the cache; ``read``: Sphinx has
read some documents but not all; ``write``: Sphinx has written some pages but not all), the
data source is switched (real → synthetic and synthetic → real, and once kept), and a plain
build follows. Its site must equal the clean build of the same source file for file: the
same files (no page, figure or download of the interrupted build or of an earlier one left
over) with the same contents (widget ids normalised). After an interrupted execution the
cache is checked too: a build that reads every page again from the cache publishes the same
site.

The pause points come from ``plusdig.sphinx.execute.pause_point`` (``PLUSDIG_BUILD_PAUSE``): the build
creates a marker file and waits there, so the interrupt lands at the same place on a loaded
machine as on a quiet one. Run these tests under the shared CPU lock
(``flock /tmp/plusdig-cpu.lock .venv/bin/python -m pytest tests/test_build_integrity.py``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from buildkit import (build, build_command, build_env, kernel_server_env, make_copy, normalise,
                      page_text, run_build, start_module)
from fixtures import survey_fixtures as sf

from plusdig.sphinx.execute import PAUSE_ENV
from plusdig.sphinx.build import STAGING_DIR

pytestmark = pytest.mark.build

CHAPTER = "book/probe/survey"
CHAPTERS = [CHAPTER, "book/appendix/byggeoplysninger"]
#: Every build of these tests gets the same build date, so two sites can be compared byte for
#: byte (the colophon and the search index hold the date).
FIXED_DATE = {"SOURCE_DATE_EPOCH": "1767225600"}
#: How long an interrupted build may take to reach its pause point (a loaded 2-core machine).
PAUSE_TIMEOUT = 300


@dataclass
class World:
    copy: Path
    chain: Path                      # the output folder the interrupted builds share
    sources: dict[str, dict[str, str]]
    references: dict[str, dict[str, bytes]] = field(default_factory=dict)


def site(out: Path) -> dict[str, bytes]:
    """Every file of the site in ``out`` (relative path → contents, HTML normalised).

    Build stamps (``.plusdig-*``: the Makefile's stamp, the site's generation id) are left
    out: they identify a build, not what it publishes.
    """
    root = out / "_build" / "html"
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.startswith(".plusdig-"):
            continue
        data = path.read_bytes()
        if path.suffix == ".html":
            data = normalise(data.decode("utf-8")).encode("utf-8")
        files[path.relative_to(root).as_posix()] = data
    return files


def assert_same_site(got: dict[str, bytes], want: dict[str, bytes]) -> None:
    extra = sorted(set(got) - set(want))
    missing = sorted(set(want) - set(got))
    assert not extra, f"files no clean build of this source publishes: {extra[:10]}"
    assert not missing, f"files missing from the site: {missing[:10]}"
    differ = sorted(name for name in want if got[name] != want[name])
    assert differ == [], f"files that differ from the clean build: {differ[:10]}"


def interrupt(copy: Path, out: Path, env: dict[str, str], phase: str, logdir: Path, *,
              own_kernels: bool = False) -> str:
    """Start a build, wait until it pauses at ``phase``, send SIGINT; return its log.

    The build runs in its own process group, which gets the SIGINT (as Ctrl-C in a terminal
    would send it to the build and its kernels); whatever is left afterwards is killed. Its
    notebooks' kernels are forked from the session's kernel server (``kernel_server_env``, as
    the other builds here), or with ``own_kernels`` from a kernel server the build starts and
    that ends with it, as ``make book``'s.
    """
    marker = logdir / f"paused-{phase}-{time.monotonic_ns()}"
    log_path = marker.with_suffix(".log")
    cmd = build_command(copy, out, strict=False)
    kernels = {} if own_kernels else kernel_server_env()
    proc = start_module(cmd[2], cmd[3:], {**build_env(copy), **kernels, **env,
                                          PAUSE_ENV: f"{phase}:{marker}"}, log_path)
    try:
        deadline = time.monotonic() + PAUSE_TIMEOUT
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(f"the build ended before pausing at {phase!r}:\n"
                            + log_path.read_text(encoding="utf-8")[-3000:])
            if time.monotonic() > deadline:
                pytest.fail(f"the build did not reach {phase!r} in {PAUSE_TIMEOUT} s")
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)
        returncode = proc.wait(timeout=120)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)
    text = log_path.read_text(encoding="utf-8")
    assert returncode != 0, f"the interrupted build reported success:\n{text[-3000:]}"
    return text


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The book copy, the two reference sites, and the shared output folder (built on the
    synthetic data: the state the first interrupted build starts from)."""
    base = tmp_path_factory.mktemp("integrity")
    copy = make_copy(base / "repo", CHAPTERS)
    delivery = sf.write_csv(sf.text_frame(0.1, seed=5), base / "levering.csv")
    w = World(copy=copy, chain=base / "chain",
              sources={"synthetic": dict(FIXED_DATE),
                       "real": {**FIXED_DATE, "PLUSDIG_SURVEY": str(delivery)}})
    build(copy, w.chain, strict=False, env=w.sources["synthetic"])
    w.references["synthetic"] = site(w.chain)
    clean_real = base / "clean-real"
    build(copy, clean_real, strict=False, env=w.sources["real"])
    w.references["real"] = site(clean_real)
    return w


def test_the_references_differ_and_agree_with_their_colophon(world: World) -> None:
    """The two clean sites show different chapters, each with its own source named."""
    page = f"{CHAPTER}.html"
    synthetic, real = world.references["synthetic"], world.references["real"]
    assert synthetic[page] != real[page]
    assert {n for n in synthetic if n.startswith("_images/")} \
        != {n for n in real if n.startswith("_images/")}, "the figures do not follow the data"
    assert "syntetiske data" in page_text(synthetic["book/appendix/byggeoplysninger.html"].decode())
    assert "reelle data" in page_text(real["book/appendix/byggeoplysninger.html"].decode())
    assert "syntetiske data" in page_text(synthetic[page].decode())
    assert "de leverede besvarelser" in page_text(real[page].decode())


#: (phase, source of the interrupted build, source of the build after it), in the order the
#: tests run on the shared folder: real → synthetic for every phase, a real build interrupted
#: and run again on the same source, then synthetic → real for every phase. The first one's
#: build starts its own kernel server, as ``make book`` does (:data:`OWN_KERNELS`); the others
#: fork their kernels from the session's (about 3 s of CPU less each: the server's imports).
SCENARIOS = [
    ("execute", "real", "synthetic"),
    ("read", "real", "synthetic"),
    ("write", "real", "synthetic"),
    ("write", "real", "real"),
    ("execute", "synthetic", "real"),
    ("read", "synthetic", "real"),
    ("write", "synthetic", "real"),
]


OWN_KERNELS = SCENARIOS[0]


@pytest.mark.parametrize(("phase", "interrupted", "then"), SCENARIOS,
                         ids=[f"{p}-{a}-then-{b}" for p, a, b in SCENARIOS])
def test_a_build_after_an_interrupted_one_equals_a_clean_build(
        world: World, tmp_path: Path, phase: str, interrupted: str, then: str) -> None:
    log = interrupt(world.copy, world.chain, world.sources[interrupted], phase, tmp_path,
                    own_kernels=(phase, interrupted, then) == OWN_KERNELS)
    assert "KeyboardInterrupt" in log or "Interrupt" in log, log[-2000:]
    build(world.copy, world.chain, strict=False, env=world.sources[then])
    assert_same_site(site(world.chain), world.references[then])
    if phase == "execute":
        # what the cache holds must be this source's too: a build that reads every page
        # again from the cache (Sphinx's environment removed) publishes the same site
        shutil.rmtree(world.chain / "_build" / ".doctrees")
        log = build(world.copy, world.chain, strict=False, env=world.sources[then])
        assert "0 executed" in log
        assert_same_site(site(world.chain), world.references[then])


def test_a_failed_build_publishes_nothing(world: World) -> None:
    """A build that fails (``-W``: a reference to a missing label) leaves the last good site
    in place, every file of it, and keeps its unfinished output out of ``_build/html``."""
    before = site(world.chain)
    index = world.copy / "book" / "index.md"
    text = index.read_text(encoding="utf-8")
    try:
        index.write_text(text + "\nNy sætning: se {ref}`et-maerke-der-ikke-findes`.\n",
                         encoding="utf-8")
        code, log = run_build(world.copy, world.chain, strict=True, env=world.sources["real"])
    finally:
        index.write_text(text, encoding="utf-8")
    assert code != 0, log[-3000:]
    assert "et-maerke-der-ikke-findes" in log
    assert site(world.chain) == before
    assert (world.chain / "_build" / STAGING_DIR / "book" / "index.html").is_file()
