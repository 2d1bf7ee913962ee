#!/usr/bin/env python
"""Benchmark the book's build: ``make bench`` (or ``.venv/bin/python scripts/bench.py``).

Measures, on a temporary copy of the repository (the working tree is never touched):

* clean HTML build of the whole book, no-change rebuild, rebuild after editing one chapter's
  text and after editing one chapter's code, rebuild after changing one value in ``data/``,
  clean PDF build (notebooks cached), ``make test``;
* the edit loop of ``make preview`` (issue 17): a text cell and a code cell of the slowest
  notebook saved, until the preview serves the rebuilt page;
* plain Jupyter Book 1 on the same book (a copy without ``plusdig.sphinx.build``): clean build,
  no-change rebuild, the same two edits;
* scale: the survey pipeline (load, validate, every table of the survey chapter with disclosure
  control) on the synthetic generator at 1x, 10x and national scale (~600,000 rows), and the
  activity annex with 13, 130 and 1,300 activities (rendering the pages, and an HTML build
  of the annex on its own).

Every figure is the median of ``--runs`` runs, each in a fresh process, with its peak memory:
the largest resident set of the whole process tree (sampled with psutil every 50 ms) and of
the single largest process (``getrusage``). Prints a table and writes it as JSON
(``_build/bench.json`` by default).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
JBFLAGS = ["-n", "-W", "--keep-going"]

#: Targets from the issues (seconds / MB), shown next to the measurements (issue 17: the
#: edit loop; the preview's figures are from the save to the rebuilt page being served).
TARGETS = {
    "clean_html": 9.0,
    "no_change": 1.0,
    "edit_chapter_text": 8.0,
    "edit_chapter_code": 8.0,
    "preview_text": 2.0,
    "preview_code": 4.0,
    "make_test": 150.0,
    "survey_national": 10.0,
    "pdf": 10.0,
}
#: The retired xelatex PDF route, measured once before it was removed (docs/pdf.md).
OLD_PDF_ROUTE = "ikke målt: fjernet; sidst målt 20,3 s, 138 sider, ikke tagget (docs/pdf.md)"
TARGET_SURVEY_MB = 2048.0


@dataclass
class Measure:
    """One benchmark line: runs, median seconds, peak memory."""

    name: str
    label: str
    runs: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peak_tree_mb: float = 0.0
    peak_process_mb: float = 0.0
    target_s: float | None = None
    note: str = ""
    size: int | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs else None

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["median_s"] = None if self.median is None else round(self.median, 3)
        d["runs"] = [round(r, 3) for r in self.runs]
        d["cpu"] = [round(c, 3) for c in self.cpu]
        d["median_cpu_s"] = round(statistics.median(self.cpu), 3) if self.cpu else None
        d["peak_tree_mb"] = round(self.peak_tree_mb, 1)
        d["peak_process_mb"] = round(self.peak_process_mb, 1)
        d["meets_target"] = (None if self.target_s is None or self.median is None
                             else self.median <= self.target_s)
        return d


# --------------------------------------------------------------------------- running
#: Runs the measured command as its child and reports the largest resident set of any process
#: below it (getrusage of the waited-for children; KB on Linux), so each run is measured alone.
_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[1:])\n"
    "ru = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "sys.stdout.flush()\n"
    "print(f'__MAXRSS__ {ru.ru_maxrss} __CPU__ {ru.ru_utime + ru.ru_stime:.3f}', flush=True)\n"
    "sys.exit(code)\n"
)


def run(cmd: Sequence[str], *, env: dict[str, str], cwd: Path | None = None,
        check: bool = True) -> tuple[float, float, float, str]:
    """Run ``cmd`` in a fresh process; return (seconds, peak tree MB, peak process MB, output).

    The output ends with the wrapper's line ``__MAXRSS__ <KB> __CPU__ <seconds>`` (CPU time of
    all processes below it, user + system)."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _WRAPPER, *cmd], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        try:
            root = psutil.Process(proc.pid)
        except psutil.Error:
            return
        while not done.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            peak[0] = max(peak[0], total / 2**20)
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    seconds = time.perf_counter() - t0
    done.set()
    sampler.join()
    match = re.search(r"__MAXRSS__ (\d+)", out)
    process_mb = int(match.group(1)) / 1024 if match else float("nan")
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out[-3000:]}")
    return seconds, peak[0], process_mb, out


def measure(m: Measure, n: int, cmd: Sequence[str], *, env: dict[str, str],
            before: Callable[[int], None] | None = None, cwd: Path | None = None,
            check: bool = True) -> Measure:
    """Run ``cmd`` ``n`` times (calling ``before(i)`` first) into ``m``.

    With ``check=False`` a failing command is measured all the same and its outcome noted
    (``make test`` fails while someone's work is in progress; its time still counts)."""
    for i in range(n):
        if before:
            before(i)
        seconds, tree, process, out = run(cmd, env=env, cwd=cwd, check=check)
        summary = re.findall(r"^=*\s*(\d+ (?:passed|failed)[^\n=]*?)\s*=*$", out, flags=re.M)
        if summary:
            m.note = summary[-1]
        m.runs.append(seconds)
        cpu = re.search(r"__CPU__ (\S+)", out)
        if cpu:
            m.cpu.append(float(cpu.group(1)))
        m.peak_tree_mb = max(m.peak_tree_mb, tree)
        if not math.isnan(process):
            m.peak_process_mb = max(m.peak_process_mb, process)
        executed = re.findall(r"plusdig\.sphinx\.build: (\d+) notebook\(s\) cached and current, (\d+) "
                              r"executed", out)
        if executed:
            fresh, ran = executed[-1]
            m.note = f"{ran} notebook(s) executed, {fresh} cached"
        if "intet er ændret siden sidste bygning" in out:  # plusdig.sphinx.inputs
            m.note = "skipped: no input changed"
        used = f" (CPU {m.cpu[-1]:.1f} s)" if cpu else ""
        print(f"  {m.label}: run {i + 1}/{n}: {seconds:.1f} s{used}  {m.note}", flush=True)
    return m


# --------------------------------------------------------------------------- the copy
def repo_files() -> list[str]:
    """Files of the working tree (tracked and untracked, minus what .gitignore ignores)."""
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                         check=True, capture_output=True).stdout.decode()
    return [f for f in out.split("\0") if f and (REPO / f).is_file()]


def make_copy(dest: Path) -> Path:
    """Copy the working tree (plus the vendored front-end files) to ``dest``."""
    for rel in repo_files():
        if rel.startswith("data/private/"):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, target)
    vendor = REPO / "book" / "_vendor"
    if vendor.is_dir():
        shutil.copytree(vendor, dest / "book" / "_vendor", dirs_exist_ok=True)
    # `make` in the copy (the tests call `make book`/`make pdf`) uses the installed environment
    # and front-end packages instead of installing them again; the tests find the source text
    # next to the repository, as in the working tree
    for name in (".venv", "node_modules"):
        if (REPO / name).is_dir():
            (dest / name).symlink_to(REPO / name, target_is_directory=True)
    shared = REPO.parent / "shared"
    if shared.is_dir() and not (dest.parent / "shared").exists():
        (dest.parent / "shared").symlink_to(shared, target_is_directory=True)
    # a git repository with one commit: the tests that use git (hooks, ignore rules) need one
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org"]
    subprocess.run([*git, "init", "-q"], cwd=dest, check=True)
    with open(dest / ".git" / "info" / "exclude", "a", encoding="utf-8") as fh:
        fh.write(".venv\nnode_modules\n")  # symlinks: the ".venv/" rules do not match them
    subprocess.run([*git, "add", "-A"], cwd=dest, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "benchmark copy"], cwd=dest, check=True)
    return dest


def copy_env(copy: Path) -> dict[str, str]:
    """Environment that makes the copy use its own library and data."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PLUSDIG_") and k != "SOURCE_DATE_EPOCH"}
    env["PYTHONPATH"] = str(copy / "lib")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def jb(copy: Path, out: Path, *extra: str, strict: bool = True,
       validate: bool = True) -> list[str]:
    """The book build as ``make book`` runs it: the data validation and jupyter-book through
    plusdig.sphinx.build in one process (``python -m plusdig build``).

    ``strict=False`` drops ``-n -W`` (the annex-only book lacks the pages its index links to);
    ``validate=False`` builds as ``make pdf`` does, without the validation.
    """
    flags = JBFLAGS if strict else ["--keep-going"]
    command = ["plusdig", "build"] if validate else ["plusdig.sphinx.build", "jb", "build"]
    return [sys.executable, "-m", *command, str(copy), *flags, "--path-output", str(out),
            *extra]


def plain_book(copy: Path, dest: Path) -> Path:
    """The same book for plain Jupyter Book 1: a copy without ``plusdig.sphinx.build`` (no
    dependency fingerprints, no parallel execution, no staged publishing; jupyter-cache and
    myst-nb as they come). Its colophon loses the directive that extension provides."""
    import yaml

    shutil.copytree(copy, dest, symlinks=True, ignore=shutil.ignore_patterns(".git", "_build"))
    cfg_path = dest / "_config.yml"
    cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    ext = cfg.get("sphinx", {}).get("extra_extensions", [])
    cfg["sphinx"]["extra_extensions"] = [e for e in ext if e != "plusdig.sphinx.build"]
    cfg_path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    for page in dest.rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        if "plusdig-provenance" in text:
            page.write_text(re.sub(r"```\{plusdig-provenance\}.*?```", "", text, flags=re.S),
                            encoding="utf-8")
    return dest


def plain_jb(book: Path, out: Path) -> list[str]:
    """``jupyter-book build`` itself (no -n -W: plain JB1 warns where plusdig.sphinx.build is
    missing)."""
    return [str(BIN / "jupyter-book"), "build", str(book), "--keep-going",
            "--path-output", str(out)]


def slowest_notebook(notebook_seconds: dict[str, float], copy: Path) -> Path:
    """The notebook that took longest in the last clean build."""
    name = max(notebook_seconds, key=lambda k: notebook_seconds[k] or 0)
    return copy / name


def measure_preview(copy: Path, out: Path, env: dict[str, str], runs: int,
                    notebook: Path, think_s: float = 0.0) -> list[Measure]:
    """``make preview``'s edit loop: save an edit, wait until the preview has rebuilt and
    serves the new page (its state's generation moves on; the page is fetched). ``think_s``:
    seconds between a page served and the next save (not measured), as an author reads the
    page before editing again; the preview sets its next build up in that time."""
    import urllib.request

    proc = subprocess.Popen([sys.executable, "-m", "plusdig.authoring.preview", "--port", "0",
                             "--srcdir", str(copy), "--path-output", str(out)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    assert proc.stdout is not None
    base = re.search(r"http://127\.0\.0\.1:\d+/", proc.stdout.readline())
    if not base:
        proc.kill()
        raise RuntimeError("the preview did not start")
    rel = notebook.relative_to(copy).with_suffix(".html").as_posix()

    def state() -> dict[str, object]:
        with urllib.request.urlopen(base.group(0) + "__preview__/state", timeout=10) as r:
            return json.loads(r.read())

    def wait(after: int) -> None:
        while True:
            s = state()
            if int(s["generation"]) > after and not s["building"]:  # type: ignore[call-overload]
                if s["failed"]:
                    raise RuntimeError(f"preview build failed: {s['problems']}")
                with urllib.request.urlopen(base.group(0) + rel, timeout=10) as r:
                    r.read()
                return
            time.sleep(0.05)

    measures = []
    try:
        wait(0)
        for kind, label, target in (("text", "tekst", "preview_text"),
                                    ("code", "kode", "preview_code")):
            m = Measure(target, f"make preview: {label}celle i {notebook.name} gemt -> siden "
                        "vist igen", target_s=TARGETS[target])
            for i in range(runs):
                time.sleep(think_s)
                before = int(state()["generation"])  # type: ignore[call-overload]
                t0 = time.perf_counter()
                edit_notebook(notebook, kind, 100 + i)
                wait(before)
                m.runs.append(time.perf_counter() - t0)
                print(f"  {m.label}: run {i + 1}/{runs}: {m.runs[-1]:.1f} s", flush=True)
            measures.append(m)
    finally:
        proc.send_signal(2)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
    return measures


def first_notebook_chapter(copy: Path) -> Path:
    """A report chapter notebook that reads data/activities.yaml (edited by the benchmark)."""
    candidates = sorted((copy / "book" / "report").glob("*.ipynb"))
    for nb in candidates:
        if "activities" in nb.read_text(encoding="utf-8"):
            return nb
    if not candidates:
        raise RuntimeError("no chapter notebook under book/report")
    return candidates[0]


def edit_notebook(path: Path, kind: str, i: int) -> None:
    """Change the last markdown cell's text or the last code cell (a comment) of ``path``."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == ("markdown" if kind == "text" else "code")]
    cell = cells[-1]
    if kind == "text":
        cell.source = re.sub(r"\n\nMåling \d+\.$", "", cell.source) + f"\n\nMåling {i}."
    else:
        cell.source = re.sub(r"\n# benchmark edit \d+$", "", cell.source) \
            + f"\n# benchmark edit {i}"
    nbformat.write(nb, path)


def edit_data_value(copy: Path, i: int) -> None:
    """Change one value in data/activities.yaml: the first activity's title."""
    path = copy / "data" / "activities.yaml"
    text = path.read_text(encoding="utf-8")
    new = re.sub(r"^(  title: .*?)( \(måling \d+\))?$", rf"\1 (måling {i})", text, count=1,
                 flags=re.MULTILINE)
    path.write_text(new, encoding="utf-8")


# --------------------------------------------------------------------------- scale
SURVEY_SCRIPT = """
import resource, sys, time
from pathlib import Path
from plusdig.survey import contract, tables as survey_tables
rows, invited = Path(sys.argv[1]), Path(sys.argv[2])
t0 = time.perf_counter()
tables = survey_tables.run_pipeline(contract.SurveySource(rows, True, invited=invited))
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"RESULT {seconds:.4f} {peak:.1f} {len(tables)}")
"""

ANNEX_SCRIPT = """
import resource, sys, time
from pathlib import Path
from plusdig.sphinx import annex_pages
base = Path(sys.argv[1])
t0 = time.perf_counter()
pages = annex_pages.render_pages(base)
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"RESULT {seconds:.4f} {peak:.1f} {len(pages)}")
"""


def _result(out: str) -> tuple[float, float, int]:
    match = re.search(r"RESULT (\S+) (\S+) (\d+)", out)
    if not match:
        raise RuntimeError(out[-3000:])
    return float(match.group(1)), float(match.group(2)), int(match.group(3))


def scale_survey(copy: Path, tmp: Path, env: dict[str, str], runs: int) -> list[Measure]:
    """Survey pipeline on synthetic data at 1x, 10x and ~600,000 rows."""
    out: list[Measure] = []
    for label, args in [("1x", ["--scale", "1"]), ("10x", ["--scale", "10"]),
                        ("national", ["--scale", "178", "--schools", "1300"])]:
        folder = tmp / f"survey-{label}"
        subprocess.run([sys.executable, "-m", "plusdig.survey.synthetic", "--out", str(folder), *args],
                       env=env, check=True, capture_output=True)
        rows = sorted(folder.glob("*survey*.csv"))[0]
        invited = sorted(folder.glob("*invited*.csv"))[0]
        n = sum(1 for _ in rows.open(encoding="utf-8")) - 1
        m = Measure(f"survey_{label}", f"surveypipeline {label} ({n:,} rækker)", size=n,
                    target_s=TARGETS["survey_national"] if label == "national" else None)
        for i in range(runs):
            _, tree, _, text = run([sys.executable, "-c", SURVEY_SCRIPT, str(rows), str(invited)],
                                   env=env)
            seconds, peak, _ = _result(text)
            m.runs.append(seconds)
            m.peak_process_mb = max(m.peak_process_mb, peak)
            m.peak_tree_mb = max(m.peak_tree_mb, tree)
            print(f"  {m.label}: run {i + 1}/{runs}: {seconds:.2f} s, {peak:.0f} MB", flush=True)
        m.note = f"peak {m.peak_process_mb:.0f} MB (target <= {TARGET_SURVEY_MB:.0f} MB)" \
            if label == "national" else ""
        out.append(m)
    return out


def scaled_data(copy: Path, dest: Path, factor: int) -> Path:
    """A copy of data/ whose activities.yaml repeats the 13 activities ``factor`` times."""
    import yaml

    shutil.copytree(copy / "data", dest, ignore=shutil.ignore_patterns("private"))
    acts = yaml.safe_load((dest / "activities.yaml").read_text(encoding="utf-8"))
    out = []
    for k in range(factor):
        for a in acts:
            b = json.loads(json.dumps(a))
            if k:
                b["id"] = a["id"] + k * len(acts)
                b["slug"] = f"{a['slug']}-{k + 1}"
                b["title"] = f"{a['title']} ({k + 1})"
            out.append(b)
    (dest / "activities.yaml").write_text(yaml.safe_dump(out, allow_unicode=True, sort_keys=False),
                                          encoding="utf-8")
    return dest


def annex_book(copy: Path, dest: Path) -> Path:
    """A book of the annex only (index, generated pages), with the copy's configuration."""
    import yaml

    dest.mkdir(parents=True, exist_ok=True)
    for name in ("_config.yml", "references.bib", "requirements.txt"):
        if (copy / name).exists():
            shutil.copy2(copy / name, dest / name)
    shutil.copytree(copy / "book" / "annex", dest / "book" / "annex",
                    ignore=shutil.ignore_patterns("generated", "*.ipynb"))
    if (copy / "book" / "_vendor").is_dir():
        shutil.copytree(copy / "book" / "_vendor", dest / "book" / "_vendor")
    if (copy / "book" / "_templates").is_dir():
        shutil.copytree(copy / "book" / "_templates", dest / "book" / "_templates")
    (dest / "book" / "index.md").write_text("# Annex\n", encoding="utf-8")
    toc = {"format": "jb-book", "root": "book/index", "chapters": [
        {"file": "book/annex/index"},
        {"glob": "book/annex/generated/aktivitet-*"},
    ]}
    (dest / "_toc.yml").write_text(yaml.safe_dump(toc), encoding="utf-8")
    return dest


def scale_annex(copy: Path, tmp: Path, env: dict[str, str], runs: int,
                build_runs: int) -> list[Measure]:
    """The annex with 13, 130 and 1,300 activities: rendering, and an HTML build of it."""
    out: list[Measure] = []
    for factor in (1, 10, 100):
        n = 13 * factor
        data = scaled_data(copy, tmp / f"annex-data-{n}", factor)
        m = Measure(f"annex_render_{n}", f"annex: dan {n:,} aktivitetssider", size=n)
        for i in range(runs):
            _, tree, _, text = run([sys.executable, "-c", ANNEX_SCRIPT, str(data)], env=env)
            seconds, peak, pages = _result(text)
            m.runs.append(seconds)
            m.peak_process_mb = max(m.peak_process_mb, peak)
            m.peak_tree_mb = max(m.peak_tree_mb, tree)
            print(f"  {m.label}: run {i + 1}/{runs}: {seconds:.2f} s ({pages} pages)", flush=True)
        out.append(m)
        if build_runs:
            book = annex_book(copy, tmp / f"annex-book-{n}")
            benv = dict(env, PLUSDIG_DATA=str(data))
            b = Measure(f"annex_build_{n}", f"annex: HTML-bygning, {n:,} aktiviteter", size=n)

            def clean(_i: int, book: Path = book) -> None:
                shutil.rmtree(book / "_out", ignore_errors=True)

            measure(b, build_runs, jb(book, book / "_out", strict=False, validate=False), env=benv,
                    before=clean)
            out.append(b)
    return out


def growth(measures: list[Measure]) -> str:
    """How time grows with size: the exponent b in t ~ n^b between successive sizes."""
    pts = [(m.size, m.median) for m in measures if m.size and m.median]
    parts = []
    for (n1, t1), (n2, t2) in zip(pts, pts[1:], strict=False):
        b = math.log(t2 / t1) / math.log(n2 / n1) if t1 > 0 and t2 > 0 else float("nan")
        parts.append(f"{n1:,}->{n2:,}: x{t2 / t1:.1f} time for x{n2 / n1:.0f} size "
                     f"(t ~ n^{b:.2f})")
    return "; ".join(parts)


# --------------------------------------------------------------------------- main
def print_table(measures: list[Measure], growths: dict[str, str]) -> None:
    w = max(len(m.label) for m in measures) + 2
    print()
    print(f"{'Måling':<{w}}{'median s':>10}{'CPU s':>8}{'runs':>6}{'mål s':>9}"
          f"{'top MB (træ)':>14}{'top MB (proces)':>17}  note")
    print("-" * (w + 78))
    for m in measures:
        med = "-" if m.median is None else f"{m.median:.2f}"
        tgt = "" if m.target_s is None else f"{m.target_s:.0f}"
        ok = "" if m.target_s is None or m.median is None else (
            " ok" if m.median <= m.target_s else " OVER")
        cpu = f"{statistics.median(m.cpu):.1f}" if m.cpu else "-"
        print(f"{m.label:<{w}}{med:>10}{cpu:>8}{len(m.runs):>6}{tgt + ok:>9}"
              f"{m.peak_tree_mb:>14.0f}{m.peak_process_mb:>17.0f}  {m.note}")
    for name, text in growths.items():
        print(f"growth {name}: {text}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    ap.add_argument("--test-runs", type=int, default=None,
                    help="runs of `make test` (default: --runs)")
    ap.add_argument("--annex-build-runs", type=int, default=1,
                    help="HTML builds of the scaled annex per size (0 skips them)")
    ap.add_argument("--skip", default="",
                    help="comma-separated: html,preview,plain,pdf,test,survey,annex")
    ap.add_argument("--preview-think", type=float, default=0.0,
                    help="seconds between a page the preview served and the next save "
                         "(default 0: saved at once)")
    ap.add_argument("--json", default=str(REPO / "_build" / "bench.json"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary copy")
    args = ap.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    n = args.runs

    load_at_start = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="plusdig-bench-"))
    copy = make_copy(tmp / "repo")
    env = copy_env(copy)
    out = tmp / "out"
    measures: list[Measure] = []
    growths: dict[str, str] = {}
    notebook_seconds: dict[str, float] = {}
    print(f"benchmark on a copy in {tmp}; {os.cpu_count()} core(s); {n} run(s) each; "
          f"load average {load_at_start[0]:.1f}", flush=True)
    try:
        if "html" not in skip:
            clean = measure(Measure("clean_html", "ren HTML-bygning (hele bogen)",
                                    target_s=TARGETS["clean_html"]), n, jb(copy, out), env=env,
                            before=lambda i: shutil.rmtree(out, ignore_errors=True))
            measures.append(clean)
            notebook_seconds = {
                Path(k).relative_to(copy).as_posix(): v.get("seconds")
                for k, v in json.loads((out / "_build" / ".jupyter_cache" / "plusdig-deps.json")
                                       .read_text(encoding="utf-8")).items()}
            measures.append(measure(Measure("no_change", "genbygning uden ændringer",
                                            target_s=TARGETS["no_change"]),
                                    n, jb(copy, out), env=env))
            chapter = first_notebook_chapter(copy)
            rel = chapter.relative_to(copy)
            measures.append(measure(
                Measure("edit_chapter_text", f"ét kapitel redigeret, tekst ({rel.name})",
                        target_s=TARGETS["edit_chapter_text"]),
                n, jb(copy, out), env=env, before=lambda i: edit_notebook(chapter, "text", i)))
            measures.append(measure(
                Measure("edit_chapter_code", f"ét kapitel redigeret, kode ({rel.name})",
                        target_s=TARGETS["edit_chapter_code"]),
                n, jb(copy, out), env=env, before=lambda i: edit_notebook(chapter, "code", i)))
            measures.append(measure(
                Measure("data_change", "én værdi i data/activities.yaml ændret"),
                n, jb(copy, out), env=env, before=lambda i: edit_data_value(copy, i)))
            # back to the committed state for the PDF and the tests (not measured)
            subprocess.run(["git", "checkout", "-q", "--", "."], cwd=copy, check=True)
            run(jb(copy, out), env=env)
        if "preview" not in skip and notebook_seconds:
            slow = slowest_notebook(notebook_seconds, copy)
            measures.extend(measure_preview(copy, out, env, n, slow, args.preview_think))
            subprocess.run(["git", "checkout", "-q", "--", "."], cwd=copy, check=True)
            run(jb(copy, out), env=env)
        if "plain" not in skip:
            # the same measurements with plain Jupyter Book 1 on the same book
            plain = plain_book(copy, tmp / "plain")
            pout = tmp / "plain-out"
            measures.append(measure(Measure("plain_clean_html",
                                            "JB1 uden plusdig.sphinx.build: ren HTML-bygning"),
                                    n, plain_jb(plain, pout), env=env, check=False,
                                    before=lambda i: shutil.rmtree(pout, ignore_errors=True)))
            measures.append(measure(Measure("plain_no_change", "JB1: genbygning uden ændringer"),
                                    n, plain_jb(plain, pout), env=env, check=False))
            pslow = plain / (slowest_notebook(notebook_seconds, copy).relative_to(copy)
                             if notebook_seconds else first_notebook_chapter(plain)
                             .relative_to(plain))
            measures.append(measure(
                Measure("plain_edit_text", f"JB1: tekstcelle i {pslow.name} (+ genindlæs selv)"),
                n, plain_jb(plain, pout), env=env, check=False,
                before=lambda i: edit_notebook(pslow, "text", i)))
            measures.append(measure(
                Measure("plain_edit_code", f"JB1: kodecelle i {pslow.name} (+ genindlæs selv)"),
                n, plain_jb(plain, pout), env=env, check=False,
                before=lambda i: edit_notebook(pslow, "code", i)))
        if "pdf" not in skip:
            # the recipe of `make pdf`: the singlehtml build, then WeasyPrint (plusdig.publish.pdf)
            single = out / "_build" / "singlehtml"
            recipe = (shlex.join(jb(copy, out, "--builder", "singlehtml", validate=False)) + " && "
                      + shlex.join([sys.executable, "-m", "plusdig.publish.pdf", "--html", str(single),
                                    "--out", str(out / "_build" / "pdf" / "bench.pdf")]))
            run(["bash", "-c", recipe], env=env)  # not measured: the notebooks into the cache
            measures.append(measure(Measure("pdf", "PDF-bygning, tagget (notebooks i cache)",
                                            target_s=TARGETS["pdf"]),
                                    n, ["bash", "-c", recipe], env=env))
            # the retired xelatex route cannot run any more (its TeX packages are gone)
            measures.append(Measure("pdf_latex", "PDF-bygning, tidligere xelatex-vej",
                                    note=OLD_PDF_ROUTE))
        if "test" not in skip:
            # the recipe of `make test` (its set-up prerequisites are already satisfied here)
            measures.append(measure(Measure("make_test", "make test (pytest tests book)",
                                            target_s=TARGETS["make_test"]),
                                    args.test_runs or n,
                                    [sys.executable, "-m", "pytest", "-q", "-n", "auto", "--dist",
                                     "loadfile", "--nbval-lax", "tests", "book"],
                                    env=env, cwd=copy, check=False))
        if "survey" not in skip:
            s = scale_survey(copy, tmp, env, n)
            measures.extend(s)
            growths["survey"] = growth(s)
        if "annex" not in skip:
            a = scale_annex(copy, tmp, env, n, args.annex_build_runs)
            measures.extend(a)
            growths["annex render"] = growth([m for m in a if m.name.startswith("annex_render")])
            builds = [m for m in a if m.name.startswith("annex_build")]
            if builds:
                growths["annex build"] = growth(builds)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    print_table(measures, growths)
    if notebook_seconds:
        print("notebook execution (s, last clean build): " + ", ".join(
            f"{Path(k).stem} {v:.1f}" for k, v in sorted(notebook_seconds.items(),
                                                        key=lambda kv: -(kv[1] or 0))))
    result = {
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(),
                    "load_average_at_start": load_at_start,
                    "load_average_at_end": os.getloadavg()},
        "runs": n,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "measures": [m.as_dict() for m in measures],
        "growth": growths,
        "notebook_seconds": notebook_seconds,
    }
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
