"""Attacker audit of the built book: can any suppressed survey number be worked out?

The audit plays a reader who has only the built site: it parses the HTML of the survey
chapter (the tables and the prose with its glued numbers), not the library's tables or
registry. From what is printed it writes every relation a careful reader can infer between the
numbers -- a total is the sum of its parts, a share with its denominator is a count (within its
rounding), the same population in two tables is one number, the tables' "I alt" rows are the
year's totals -- and, for every hidden number («–») and every number only implied (the pupils
in a group who are not lonely, say), computes its smallest and largest value consistent with
everything published, by linear programming (:func:`plusdig.survey.linked.ranges`, HiGHS).

A **leak** is a hidden or implied count that :func:`plusdig.survey.linked.is_protected` rejects:
the published numbers leave fewer than ``k + 1`` possible values for it while not proving it is
at least ``k``; or a group of hidden counts (the hidden parts of one published sum) that the
numbers prove smaller than ``k``. By default integrality is relaxed (ranges are real-valued);
that can only widen a range, so ``integral=True`` (exact integer programmes, slower) is the
stricter check, used by the tests.

Not modelled, because they add nothing a reader can use beyond the shares they belong to:
confidence intervals and differences (printed only next to the shares they are computed from);
figures (drawn from the same tables, suppressed values left out); the published-figures check
beyond its recomputed counts. A wide table (groups × years) is read as the long table it shows.
The page's downloads (CSV and XLSX, :mod:`plusdig.publish.downloads`) are read too
(:func:`check_downloads`): every row of a download must be a row of a table the page prints,
restricted to the download's columns, so a download adds nothing to the model.
Any other data file a survey page links (an unknown CSV, a .sav, a .zip ...) fails the audit.

:func:`setup` makes this a Sphinx extension: at the end of every HTML build it audits the
survey chapter. A leak stops a build on a real delivery (``PLUSDIG_SURVEY``), naming the table
and the cell -- never a respondent, and never the number itself, since build logs are public.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plusdig.sphinx.audit_model import as_long, attacker_model, read_tables
from plusdig.survey import contract
from plusdig.survey.linked import EPS, Leak, find_leaks, ranges

if TYPE_CHECKING:
    from sphinx.application import Sphinx

__all__ = ["SURVEY_PAGES", "AuditReport", "audit_html", "audit_site", "setup"]

#: Pages (docname's last part) holding survey tables computed from respondent-level data.
SURVEY_PAGES = ("trivsel-dybden", "metode-trivselsmaalingen")
#: A download of one of these kinds on a survey page fails the audit (it cannot read it).
DATA_SUFFIXES = (".csv", ".xlsx", ".xls", ".sav", ".parquet", ".json", ".zip")


@dataclass
class AuditReport:
    """What the audit found: how many numbers it checked, the narrowest range, the leaks."""

    cells: int
    groups: int
    min_width: float
    seconds: float
    leaks: list[Leak] = field(default_factory=list)
    ranges: dict[Any, tuple[float, float]] = field(default_factory=dict, repr=False)
    labels: dict[Any, str] = field(default_factory=dict, repr=False)

    def summary(self) -> str:
        width = "–" if self.min_width == float("inf") else f"{self.min_width:g}"
        return (f"Revision af diskretioneringen: {self.cells} skjulte eller afledte tal og "
                f"{self.groups} grupper kontrolleret, {len(self.leaks)} kan regnes ud; "
                f"mindste spænd for et skjult tal: {width}; {self.seconds:.1f} s")


# --------------------------------------------------------------------------- the audit
def audit_html(html: str | list[str], k: int, *, integral: bool = False) -> AuditReport:
    """Audit a page, or several pages read together (a reader has them all): every hidden or
    implied count and every hidden group."""
    start = time.perf_counter()
    return _audit([read_tables(page) for page in ([html] if isinstance(html, str) else html)],
                  k, integral, start)


def _audit(pages: list[tuple[list[Any], str]], k: int, integral: bool,
           start: float) -> AuditReport:
    """:func:`audit_html` of pages already read (:func:`read_tables`: tables and prose)."""
    tables = [t for page_tables, _ in pages for t in page_tables]
    model, conflicts = attacker_model(tables, " ".join(prose for _, prose in pages))
    cells, groups = ranges(model, integral=integral)
    leaks = [Leak(where if "ukendt tabel" in where else f"{where}: skjult her, men vist et andet "
                  "sted") for where in conflicts]
    leaks += find_leaks(model, k, solved=(cells, groups))
    widths = [hi - lo for key, (lo, hi) in cells.items()
              if math.ceil(lo - EPS) < k and not model.exempt(key, cells)]
    return AuditReport(len(cells), len(groups), min(widths, default=float("inf")),
                       time.perf_counter() - start, leaks, cells, dict(model.labels))


def _key(value: Any) -> tuple[str, Any]:
    """A cell as a comparable value: a number (rounded), or its text as the page shows it."""
    from plusdig.publish.downloads import Number, cell_value, neutralise

    if isinstance(value, str):
        value = cell_value(value)
    if isinstance(value, Number):
        value = value.value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ("t", "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ("n", round(float(value), 6))
    return ("t", neutralise(str(value)))


def _download_rows(path: Path) -> tuple[list[str], list[list[tuple[str, Any]]]]:
    """A download's header and rows as comparable values (CSV: a plain number is a number).

    A CSV with nothing but its notes lines publishes no value: no header, no rows."""
    from pandas.errors import EmptyDataError

    from plusdig.publish.downloads import read_csv, read_xlsx

    if path.suffix.lower() == ".csv":
        try:
            frame = read_csv(path)
        except EmptyDataError:  # only "# " lines (or nothing): no column, no row
            return [], []

        def cell(text: str) -> tuple[str, Any]:
            if re.fullmatch(r"-?\d+(\.\d+)?", text):
                return ("n", round(float(text), 6))
            return ("t", text)
    else:
        frame = read_xlsx(path).astype(object)

        def cell(value: Any) -> tuple[str, Any]:
            if isinstance(value, str):
                return ("t", value)
            return _key(value)
    return ([str(c) for c in frame.columns],
            [[cell(v) for v in row] for row in frame.itertuples(index=False)])


def check_downloads(page: Path, html: str, tables: list[Any] | None = None) -> list[str]:
    """What a survey page's data downloads hold beyond what it prints (empty: nothing).

    Every CSV and XLSX the page links must be one of the site's downloads, and every row of
    it a row of one of the page's tables, restricted to the download's columns (the same
    header, the same cell texts and numbers). A wide table (groups × years) counts as it is
    printed and as the long table it shows (:func:`plusdig.sphinx.audit_model.as_long`: each
    long row is one printed cell, read with its row's and its column's labels), so a figure's
    long download matches only numbers the page prints. Any other linked data file is refused.
    ``tables``: the page's tables if already read from ``html`` (:func:`read_tables`).
    """
    from plusdig.sphinx.sitedownloads import DOWNLOAD_DIR

    if tables is None:
        tables, _ = read_tables(html)
    tables = [*tables, *(long for t in tables if (long := as_long(t)) is not t)]
    printed = [(t.header, [[_key(r[h]) for h in t.header] for r in t.rows]) for t in tables]
    problems = []
    for href in sorted(set(re.findall(r'href="([^"#?]+)', html))):
        if not href.lower().endswith(DATA_SUFFIXES):
            continue
        path = (page.parent / href).resolve()
        name = Path(href).name
        if (path.suffix.lower() not in (".csv", ".xlsx") or path.parent.name != DOWNLOAD_DIR
                or not path.is_file()):
            problems.append(f"{page.name}: links a data file the audit cannot read ({name})")
            continue
        try:
            header, rows = _download_rows(path)
        except Exception as exc:  # noqa: BLE001 - any unreadable download fails the audit
            problems.append(f"{page.name}: {name} kan ikke læses ({type(exc).__name__}: {exc})")
            continue
        candidates = [(h, body) for h, body in printed if set(header) <= set(h)]
        for i, row in enumerate(rows, start=1):
            if not any(all(row[j] == line[h.index(c)] for j, c in enumerate(header))
                       for h, body in candidates for line in body):
                problems.append(f"{page.name}: {name}, række {i}: findes ikke i sidens tabeller")
                break
    return problems


def audit_site(html_dir: Path, k: int, *, integral: bool = False) -> AuditReport:
    """Audit the survey pages of a built site together (see :data:`SURVEY_PAGES`): a reader
    who has the chapter and the methods appendix combines what both print."""
    pages = [p for p in sorted(Path(html_dir).rglob("*.html")) if p.stem in SURVEY_PAGES]
    if not pages:
        raise FileNotFoundError(f"{html_dir}: no survey chapter page to audit")
    start = time.perf_counter()
    texts = [page.read_text(encoding="utf-8") for page in pages]
    read = [read_tables(html) for html in texts]  # each page parsed once, for both parts
    # the downloads' check (reading every CSV and XLSX) beside the model's linear programmes
    checked = _Beside(lambda: [check_downloads(page, html, tables) for page, html, (tables, _)
                               in zip(pages, texts, read, strict=True)])
    try:
        report = _audit(read, k, integral, start)
    except Exception:
        report = None  # a page whose downloads fail is reported for them, as before
        if not any(checked.result()):
            raise
    bad = next((problems for problems in checked.result() if problems), None)
    if bad:
        return AuditReport(0, 0, 0.0, 0.0, [Leak(x) for x in bad])
    assert report is not None
    report.seconds = time.perf_counter() - start
    return report


class _Beside:
    """``work()`` in a forked process while the caller goes on, on a machine with two or more
    cores (else, or if the fork fails, in this process); :meth:`result` is its return value
    (pickled back), or, if the forked process failed, ``work()`` run here: its result or its
    exception, as without the fork."""

    def __init__(self, work: Any) -> None:
        import os

        self._work, self._pid, self._fd = work, None, None
        if (os.cpu_count() or 1) < 2 or not hasattr(os, "fork"):
            return
        read_fd, write_fd = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            return
        if pid == 0:  # the child: the result or nothing, then exit without any clean-up
            import pickle

            code = 1
            try:
                os.close(read_fd)
                with os.fdopen(write_fd, "wb") as out:
                    out.write(pickle.dumps(work()))
                code = 0
            finally:
                os._exit(code)
        os.close(write_fd)
        self._pid, self._fd = pid, read_fd

    def result(self) -> Any:
        import os
        import pickle

        if self._pid is not None:
            with os.fdopen(self._fd, "rb") as got:
                data = got.read()
            _, status = os.waitpid(self._pid, 0)
            self._pid = None
            if os.waitstatus_to_exitcode(status) == 0:
                self._value = pickle.loads(data)
                self._work = None
        if self._work is not None:
            self._value, self._work = self._work(), None
        return self._value


# --------------------------------------------------------------------------- Sphinx
#: What the audit imports when it runs (the solver's modules: about 1.3 s, most of it
#: ``scipy.optimize``; the readers of the pages and downloads): :class:`_Warm` imports them.
_AUDIT_IMPORTS = ("scipy.optimize._highspy._core", "scipy.sparse", "bs4", "pandas.errors",
                  "openpyxl", "plusdig.publish.downloads", "plusdig.present.tables")


class _Warm:
    """A forked process that imports the audit's modules (:data:`_AUDIT_IMPORTS`) at once,
    while Sphinx reads the pages on the main process (one core busy), and then waits:
    :meth:`run` has it run the audit once the site is written, so the main process does not
    import them at the end of the build. The result is pickled back; if the process failed
    or the audit raised, :meth:`run` runs the audit here instead (its result or its
    exception, as without the process). :meth:`dismiss` (or the main process's exit: the
    request pipe's end) ends it unused."""

    def __init__(self) -> None:
        import os

        self._pid: int | None = None
        self._go: int | None = None
        self._result: int | None = None
        if (os.cpu_count() or 1) < 2 or not hasattr(os, "fork"):
            return
        go_r, go_w = os.pipe()
        res_r, res_w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for fd in (go_r, go_w, res_r, res_w):
                os.close(fd)
            return
        if pid == 0:  # the child: imports, one request, the answer, exit without clean-up
            try:
                os.close(go_w)
                os.close(res_r)
                self._serve(go_r, res_w)
            finally:
                os._exit(0)
        os.close(go_r)
        os.close(res_w)
        self._pid, self._go, self._result = pid, go_w, res_r

    @staticmethod
    def _serve(go_r: int, res_w: int) -> None:
        import importlib
        import os
        import pickle

        for name in _AUDIT_IMPORTS:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the audit imports it again and says why
                pass
        with os.fdopen(go_r, "rb") as got:
            request = got.read()
        if not request:
            return  # dismissed
        work, args = pickle.loads(request)
        answer = pickle.dumps(work(*args))
        with os.fdopen(res_w, "wb") as out:
            out.write(answer)

    def run(self, work: Any, *args: Any) -> Any:
        """``work(*args)`` in the warm process (``work`` a module-level function), or here."""
        import os
        import pickle

        if self._pid is None or self._go is None or self._result is None:
            return work(*args)
        value, ok = None, False
        try:
            with os.fdopen(self._go, "wb") as out:
                out.write(pickle.dumps((work, args)))
            self._go = None
            with os.fdopen(self._result, "rb") as got:
                data = got.read()
            self._result = None
            if data:
                value, ok = pickle.loads(data), True
        except (OSError, pickle.PickleError):
            ok = False
        finally:
            self.dismiss()
        return value if ok else work(*args)

    def dismiss(self) -> None:
        """End the process (unused, or after :meth:`run`) and collect it."""
        import os

        for fd in (self._go, self._result):
            if fd is not None:
                os.close(fd)
        self._go = self._result = None
        if self._pid is not None:
            os.waitpid(self._pid, 0)
            self._pid = None


def _on_before_read(app: Sphinx, env: Any, docnames: list[str]) -> None:
    """Start the warm audit process (:class:`_Warm`) when this HTML build will likely audit:
    a survey page is read again, or no audit has passed yet (a clean build)."""
    if app.builder.format != "html" or app.builder.name == "singlehtml" \
            or getattr(app, "plusdig_audit_warm", None) is not None:
        return
    if not any(doc.rsplit("/", 1)[-1] in SURVEY_PAGES for doc in env.found_docs):
        return
    doctrees = getattr(app, "doctreedir", None)
    audited = doctrees is not None and (Path(doctrees) / AUDITED_FILE).is_file()
    if audited and not any(doc.rsplit("/", 1)[-1] in SURVEY_PAGES for doc in docnames):
        return
    app.plusdig_audit_warm = _Warm()  # type: ignore[attr-defined]


def _on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    warm = getattr(app, "plusdig_audit_warm", None)
    try:
        _audit_built(app, exception)
    finally:
        if warm is not None:
            warm.dismiss()
            del app.plusdig_audit_warm  # type: ignore[attr-defined]


def _audit_built(app: Sphinx, exception: Exception | None) -> None:
    from sphinx.errors import ExtensionError
    from sphinx.util import logging

    from plusdig.survey.disclosure import threshold

    # the site's pages; the PDF's singlehtml build prints the same doctrees in one page
    if exception is not None or app.builder.format != "html" or app.builder.name == "singlehtml":
        return
    from plusdig.sphinx.build import writes_site

    if not writes_site(app):  # nothing written: the site was audited when it was
        return
    if not any(doc.rsplit("/", 1)[-1] in SURVEY_PAGES for doc in app.env.found_docs):
        return
    log = logging.getLogger(__name__)
    synthetic = contract.current_source().synthetic
    # the same survey pages and downloads, threshold, data kind and audit code as at the last
    # audit that passed: the same result (an edit elsewhere in the book re-audits nothing)
    doctrees = getattr(app, "doctreedir", None)
    key = _audit_key(Path(app.outdir), threshold(), synthetic)
    passed = Path(doctrees) / AUDITED_FILE if doctrees else None
    if passed is not None and passed.is_file() and passed.read_text(encoding="utf-8") == key:
        log.info("plusdig.sphinx.audit: the survey pages are unchanged since their last audit "
                 "(no leak)")
        return
    if passed is not None:
        passed.unlink(missing_ok=True)
    warm = getattr(app, "plusdig_audit_warm", None)
    report = warm.run(audit_site, Path(app.outdir), threshold()) if warm is not None \
        else audit_site(Path(app.outdir), threshold())
    log.info(report.summary())
    if report.leaks:
        message = "Diskretioneringen holder ikke: " + "; ".join(str(x) for x in report.leaks)
        if not synthetic:
            raise ExtensionError(message)
        log.warning(message)
        return
    if passed is not None:
        passed.write_text(key, encoding="utf-8")


#: In the doctree folder: the key (:func:`_audit_key`) of the last audit that found no leak.
AUDITED_FILE = "plusdig-audited.txt"


def _audit_key(html_dir: Path, k: int, synthetic: bool) -> str:
    """A digest of what the audit's result depends on: the survey pages, every data file they
    link, the threshold, synthetic or real data, and the library's code."""
    import hashlib

    from plusdig.core.digest import library_digest

    # the library's code (the audit, its model, the table readers it uses ...)
    code = library_digest()
    h = hashlib.sha256(f"{k}\0{synthetic}\0{code}\n".encode())
    for page in sorted(Path(html_dir).rglob("*.html")):
        if page.stem not in SURVEY_PAGES:
            continue
        html = page.read_bytes()
        h.update(page.name.encode() + b"\0" + html)
        for href in sorted(set(re.findall(rb'href="([^"#?]+)', html))):
            target = (page.parent / href.decode("utf-8", "replace")).resolve()
            if href.lower().endswith(tuple(x.encode() for x in DATA_SUFFIXES)):
                h.update(href + b"\0" + (target.read_bytes() if target.is_file() else b"-"))
    return h.hexdigest()


def mark_synthetic_alt(doctree: Any) -> int:
    """Prefix every figure's alt text with "Syntetiske data" unless it already says so, and
    return how many were changed: a screen reader must hear what the figure's red label shows."""
    from docutils import nodes

    from plusdig.present.style import SYNTHETIC_LABEL

    changed = 0
    for image in doctree.findall(nodes.image):
        alt = image.get("alt", "")
        if SYNTHETIC_LABEL.lower() not in alt.lower():
            image["alt"] = f"{SYNTHETIC_LABEL}. {alt}".strip()
            changed += 1
    return changed


def _on_doctree_read(app: Sphinx, doctree: Any) -> None:
    # at read time, so every builder gets the marked doctree: the singlehtml build (the PDF)
    # resolves one assembled doctree under the master document's name
    docname = app.env.docname
    if docname.rsplit("/", 1)[-1] in SURVEY_PAGES and contract.current_source().synthetic:
        mark_synthetic_alt(doctree)


def setup(app: Sphinx) -> dict[str, Any]:
    """Sphinx extension: audit the survey pages at the end of every HTML build, and mark their
    figures' alt texts when they show synthetic data."""
    app.connect("doctree-read", _on_doctree_read)
    app.connect("env-before-read-docs", _on_before_read)
    app.connect("build-finished", _on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
