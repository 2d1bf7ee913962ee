"""The build re-executes a notebook exactly when something it depends on changed.

Builds a reduced copy of the book (two probe notebooks that use the real library) with
``jupyter-book build -n -W`` and ``plusdig.sphinx.build``, then: no change → nothing executes;
one value in ``data/`` changes → the notebook that read it runs again and its page shows the
new value, the other stays cached; a library module changes → the notebook that imported it
runs again and every page is read again (the library's Sphinx code made them).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from buildkit import build, executed, html, kernel_server_env, make_copy, page_text, probe_notebook

from plusdig.sphinx import execute, inputs
from plusdig.core.digest import tree_digest

pytestmark = pytest.mark.build

CHAPTERS = ["book/probe/data", "book/probe/code", "book/appendix/byggeoplysninger"]


def _title_of_first_activity(data: Path) -> str:
    text = (data / "activities.yaml").read_text(encoding="utf-8")
    match = re.search(r"^  title: (.+)$", text, flags=re.MULTILINE)
    assert match, "activities.yaml has no title line"
    return match.group(1).strip()


def test_rebuilds_execute_exactly_the_stale_notebooks(tmp_path: Path) -> None:
    copy = make_copy(tmp_path / "repo", CHAPTERS)
    out = tmp_path / "out"
    data_nb = str((copy / "book/probe/data.ipynb").resolve())
    code_nb = str((copy / "book/probe/code.ipynb").resolve())

    # 1. clean build: both notebooks run, in the pre-build step (myst-nb finds them cached)
    log = build(copy, out)
    assert executed(log) == sorted([data_nb, code_nb])
    assert "Executing notebook" not in log
    old_title = _title_of_first_activity(copy / "data")
    assert old_title in page_text(html(out, "book/probe/data"))
    assert "1.234.567" in page_text(html(out, "book/probe/code"))
    state = json.loads((out / "_build/.jupyter_cache/plusdig-deps.json").read_text())
    assert str((copy / "data/activities.yaml").resolve()) in state[data_nb]["reads"]
    assert not any(p.endswith(".yaml") or p.endswith(".csv") for p in state[code_nb]["reads"])

    fingerprint = tree_digest(copy / "data")[:16]
    assert fingerprint in page_text(html(out, "book/appendix/byggeoplysninger"))

    # 2. nothing changed: the build is skipped before Sphinx starts (plusdig.sphinx.inputs) ...
    site = {p.relative_to(out): p.read_bytes() for p in (out / "_build/html").rglob("*")
            if p.is_file()}
    log = build(copy, out)
    assert "intet er ændret siden sidste bygning" in log
    assert "Running Sphinx" not in log and "executed" not in log
    assert {p.relative_to(out): p.read_bytes() for p in (out / "_build/html").rglob("*")
            if p.is_file()} == site
    # ... and without the stamp Sphinx runs, but nothing executes, no page is read again (not
    # even the colophon)
    log = sphinx_build(copy, out)
    assert executed(log) == []
    assert "0 executed" in log
    assert "0 added, 0 changed, 0 removed" in log

    # 3. one value in data/ changes: the page that uses it shows the new value
    new_title = "Testbussen 4711"
    path = copy / "data" / "activities.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(f"  title: {old_title}\n", f"  title: {new_title}\n", 1),
                    encoding="utf-8")
    log = build(copy, out)
    assert executed(log) == [data_nb]
    page = page_text(html(out, "book/probe/data"))
    assert new_title in page
    assert old_title not in page
    colophon = page_text(html(out, "book/appendix/byggeoplysninger"))  # the data fingerprint follows the data
    assert fingerprint not in colophon
    assert tree_digest(copy / "data")[:16] in colophon

    # 4. a library module the code probe imported changes: that probe runs again
    fmt = copy / "lib" / "plusdig" / "core" / "fmt.py"
    fmt.write_text(fmt.read_text(encoding="utf-8") + "\n# a change\n", encoding="utf-8")
    log = build(copy, out)
    assert code_nb in executed(log)
    assert "1.234.567" in page_text(html(out, "book/probe/code"))
    # ... and every page is read again, the Markdown ones too: the library's transforms and
    # directives made them (a page read with the old code is never kept)
    assert f"0 added, {len(CHAPTERS) + 1} changed, 0 removed" in log  # + the root page
    assert "intet er ændret" in build(copy, out)
    log = sphinx_build(copy, out)
    assert "0 added, 0 changed, 0 removed" in log


def sphinx_build(copy: Path, out: Path) -> str:
    """:func:`buildkit.build` without the no-change fast path (its stamp removed first)."""
    (out / "_build" / inputs.STAMP).unlink()
    log = build(copy, out)
    assert "Running Sphinx" in log
    return log


@pytest.fixture
def shared_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """execute.prepare forks its kernels from the session's kernel server (as the tests'
    builds do, ``buildkit.kernel_server_env``) instead of starting one per call (its imports:
    about 3 s of CPU each time). A kernel server a build starts and stops itself is covered by
    test_warm_kernels and by test_build_integrity's interrupted builds."""
    for name, value in kernel_server_env().items():
        monkeypatch.setenv(name, value)


def test_prepare_runs_stale_notebooks_and_leaves_failures_uncached(
        tmp_path: Path, shared_kernels: None) -> None:
    """plusdig.sphinx.execute.prepare without Sphinx: runs what is stale, caches it, skips failures."""
    import nbformat
    from jupyter_cache import get_cache


    good = probe_notebook("God", "x = 1", "x")
    bad = probe_notebook("Fejl", "raise ValueError('bevidst fejl')", "x")
    paths = [tmp_path / "good.ipynb", tmp_path / "bad.ipynb"]
    for nb, path in zip([good, bad], paths, strict=True):
        nbformat.write(nb, path)
    cache_path = tmp_path / "cache"

    report = execute.prepare(paths, cache_path, timeout=120, jobs=2)
    assert report.executed == [str(paths[0])]
    assert list(report.failed) == [str(paths[1])]
    assert "bevidst fejl" in report.failed[str(paths[1])]
    state = execute.load_state(cache_path)
    assert str(paths[0]) in state and str(paths[1]) not in state
    cache = get_cache(str(cache_path))
    assert cache.match_cache_notebook(nbformat.read(paths[0], as_version=4)) is not None

    again = execute.prepare(paths, cache_path, timeout=120, jobs=2)
    assert again.fresh == [str(paths[0])]
    assert again.executed == [] and list(again.failed) == [str(paths[1])]

    # the fingerprint belongs to one cache record: the run id is in both; a record cached by
    # anyone else for the same code (an interrupted build, myst-nb itself) is not current
    record = cache.match_cache_notebook(nbformat.read(paths[0], as_version=4))
    entry = execute.load_state(cache_path)[str(paths[0])]
    assert entry["run"] == record.data[execute.RUN_KEY]
    env_fp = execute.environment_fingerprint()
    assert execute.is_current(cache, str(paths[0]), {str(paths[0]): entry}, env_fp)[0] \
        is None
    other = {str(paths[0]): {**entry, "run": "0" * 32}}
    assert execute.is_current(cache, str(paths[0]), other, env_fp)[0] \
        == "no dependency record"
    no_run = {str(paths[0]): {k: v for k, v in entry.items() if k != "run"}}
    assert execute.is_current(cache, str(paths[0]), no_run, env_fp)[0] \
        == "no dependency record"


def test_a_stale_notebook_loses_its_fingerprint_on_disk_before_it_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_kernels: None) -> None:
    """Invalidate first, commit last: while a stale notebook runs, the state file on disk
    holds no fingerprint for it, so an interrupt leaves it stale."""
    import nbformat

    path = tmp_path / "nb.ipynb"
    nbformat.write(probe_notebook("Nb", "x = 1", "x"), path)
    cache_path = tmp_path / "cache"
    execute.prepare([path], cache_path, timeout=120)
    assert str(path) in execute.load_state(cache_path)

    seen: list[dict[str, object]] = []
    real_execute = execute._execute_one

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(execute.load_state(cache_path))
        return real_execute(*args, **kwargs)

    monkeypatch.setattr(execute, "_execute_one", spy)
    monkeypatch.setenv("PLUSDIG_SOME_SETTING", "changed")  # every notebook is stale
    report = execute.prepare([path], cache_path, timeout=120)
    assert report.executed == [str(path)]
    assert seen and str(path) not in seen[0]
    assert str(path) in execute.load_state(cache_path)


def test_publish_replaces_the_whole_site_and_leaves_nothing_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from plusdig.sphinx import build as plusdig_build

    for exchange in (True, False):
        root = tmp_path / f"exchange-{exchange}"
        site, staging = root / "html", root / plusdig_build.STAGING_DIR
        (site / "_images").mkdir(parents=True)
        (site / "_images" / "real-data-figure.png").write_text("old", encoding="utf-8")
        (site / "index.html").write_text("old", encoding="utf-8")
        staging.mkdir()
        (staging / "index.html").write_text("new", encoding="utf-8")
        if exchange:
            assert plusdig_build._exchange(staging, site)  # Linux: one step
            plusdig_build._exchange(staging, site)  # and back
        else:
            monkeypatch.setattr(plusdig_build, "_exchange", lambda a, b: False)
        plusdig_build.publish(staging, site)
        assert [p.relative_to(site).as_posix() for p in site.rglob("*")] == ["index.html"]
        assert (site / "index.html").read_text(encoding="utf-8") == "new"
        # the replaced site is retired under a name of its own; the next build removes it
        # (in the background, while it starts) with an unfinished staging folder
        retired = [p for p in root.iterdir() if p.name != "html"]
        assert [p.name.startswith(plusdig_build.RETIRED_DIR + "-") for p in retired] == [True]
        assert (retired[0] / "_images" / "real-data-figure.png").is_file()
        (staging / "book").mkdir(parents=True)  # what a failed build leaves
        plusdig_build.clear_leftovers(site).join()
        assert [p.name for p in root.iterdir()] == ["html"]
        assert plusdig_build.clear_leftovers(site) is None


def test_parallel_kernels_use_private_ipc_sockets(tmp_path: Path) -> None:
    """Kernels started at once in parallel workers never share a socket (CI saw a TCP port
    race kill one: "Kernel died before replying to kernel_info"). Each runs over IPC in its
    own directory, and eight started together all run their notebook."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import nbformat

    from plusdig.sphinx.execute import _execute_one

    code = ("from ipykernel.kernelapp import IPKernelApp\n"
            "app = IPKernelApp.instance()\n"
            "print(app.transport, app.ip)")
    paths = []
    for n in range(8):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        path = tmp_path / f"k{n}.ipynb"
        nbformat.write(nb, path)
        paths.append(str(path))
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=8, mp_context=ctx) as pool:
        results = list(pool.map(_execute_one, paths, [None] * 8, [120] * 8, [False] * 8,
                                [{}] * 8))
    seen = set()
    for _path, nb_json, _secs, err, _reads, _started in results:
        assert err is None, err
        out = nbformat.reads(nb_json, as_version=4).cells[0].outputs[0]["text"].split()
        assert out[0] == "ipc", out
        seen.add(Path(out[1]).parent)
    assert len(seen) == 8, seen  # one socket directory per kernel


def test_the_audit_runs_again_only_when_what_it_reads_changed(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The disclosure audit of the survey pages (plusdig.sphinx.audit) is skipped when the
    pages, their downloads, the threshold and the data kind are those of the last audit that
    passed; any change audits again, and a leak is never remembered as passed."""
    from types import SimpleNamespace

    from plusdig.sphinx import audit

    calls: list[int] = []
    leaks: list[object] = []

    def fake_audit(html_dir: Path, k: int) -> object:
        calls.append(k)
        return audit.AuditReport(1, 1, 1.0, 1.0, list(leaks))

    monkeypatch.setattr(audit, "audit_site", fake_audit)
    site, doctrees = tmp_path / "html", tmp_path / "doctrees"
    page = site / "book/report/trivsel-dybden.html"
    page.parent.mkdir(parents=True)
    doctrees.mkdir()
    (site / "_downloads").mkdir()
    download = site / "_downloads" / "t.csv"
    download.write_text("a\n1\n", encoding="utf-8")
    page.write_text('<p>1</p><a href="../../_downloads/t.csv">csv</a>', encoding="utf-8")
    app = SimpleNamespace(builder=SimpleNamespace(format="html", name="html"), outdir=str(site),
                          doctreedir=str(doctrees),
                          env=SimpleNamespace(found_docs={"book/report/trivsel-dybden"}))
    monkeypatch.delenv("PLUSDIG_SURVEY", raising=False)
    monkeypatch.delenv("PLUSDIG_DISCLOSURE_K", raising=False)
    audit._on_build_finished(app, None)
    audit._on_build_finished(app, None)
    assert len(calls) == 1  # the same pages: audited once
    (site / "book/report/index.html").write_text("<p>other page</p>", encoding="utf-8")
    audit._on_build_finished(app, None)
    assert len(calls) == 1  # another page changed: nothing the audit reads
    page.write_text('<p>2</p><a href="../../_downloads/t.csv">csv</a>', encoding="utf-8")
    audit._on_build_finished(app, None)
    assert len(calls) == 2  # the page changed
    download.write_text("a\n2\n", encoding="utf-8")
    audit._on_build_finished(app, None)
    assert len(calls) == 3  # its download changed
    monkeypatch.setenv("PLUSDIG_DISCLOSURE_K", "7")
    audit._on_build_finished(app, None)
    assert calls[-1] == 7 and len(calls) == 4  # another threshold
    leaks.append(audit.Leak("a leak"))
    download.write_text("a\n3\n", encoding="utf-8")
    audit._on_build_finished(app, None)  # synthetic data: a warning, not an exception
    audit._on_build_finished(app, None)
    assert len(calls) == 6  # a leak is audited again every time
