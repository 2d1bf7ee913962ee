"""A failed build, told in a few Danish lines an evaluator can act on.

Jupyter Book ends a failed build with hundreds of lines of English traceback and Sphinx's
"file a bug report" text; the cause (a cell that raised, a misspelt glue key) is somewhere in
the middle. :func:`problems` reads a build's log and finds, for each problem, the file, the
cell (counted from the top of the notebook, the first cell is 1), and what went wrong: the
exception's last line for a cell that raised, and for an unknown glue key the nearest keys the
notebook does define ("stavefejl?"). An exception that ended the build is told by the file it
is about (:func:`problem_of`: a ``_toc.yml`` or ``_config.yml`` that is no YAML, a table of
contents of the wrong shape, a notebook that is no JSON, a data file that does not validate),
and a chapter ``_toc.yml`` names that is not there as the TOC's problem. :func:`summary` writes
them as a short Danish text that names the full log. :func:`run_logged` runs a build with its
output copied to a log file and the Sphinx traceback kept off the terminal, ending a failed
build with the summary.
"""

from __future__ import annotations

import difflib
import io
import json
import re
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from plusdig.core.errors import DataValidationError

#: Colour and cursor codes in a terminal log.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: nbclient's report of a cell that raised: the cell's source between two rulers, then the
#: kernel's traceback, whose last line is the exception.
_CELL_ERROR = re.compile(
    r"An error occurred while executing the following cell:\n-{18}\n(?P<source>.*?)\n-{18}\n"
    r"(?P<traceback>.*?)(?=\n\s*\nThe above exception|\Z)", re.S)
#: The notebook myst-nb was executing when it gave up.
_EXECUTION_ERROR = re.compile(r"ExecutionError: (?P<path>\S+\.ipynb)")
#: plusdig.sphinx.build's line for a notebook that failed in its own run.
_PLUSDIG_FAILED = re.compile(r"plusdig\.sphinx\.build: (?P<path>\S+\.ipynb) failed")
#: A Sphinx warning or error: ``path:line: WARNING: message [type]`` (path and line optional).
_WARNING = re.compile(
    r"^(?:(?P<path>[^\s:][^:\n]*?)(?::(?P<line>\d*))?: )?(?P<level>WARNING|ERROR|CRITICAL|SEVERE): "
    r"(?P<message>.+?)(?: \[(?P<kind>[\w.]+)\])?$", re.M)
#: myst-nb's warning for a glue key a page uses and its notebook does not define.
_GLUE_MISSING = re.compile(r"No key '(?P<key>[^']+)' found in glue data")
#: sphinx-external-toc's warning for a file ``_toc.yml`` names that is not there.
_TOC_MISSING = re.compile(r"toctree contains reference to nonexisting document '(?P<doc>[^']+)'")
#: A literal key in a ``glue("key", ...)`` call of a code cell.
_GLUE_CALL = re.compile(r"""\bglue\(\s*(?:name\s*=\s*)?(['"])(?P<key>[^'"]+)\1""")
#: Where Sphinx's report of an unexpected exception starts in its output.
_SPHINX_EXCEPTION = "Exception occurred:"
#: The line :func:`run_logged` writes into the log for an exception that ended the build: the
#: problem it is (:func:`problem_of`) as JSON.
_MARKER = "[plusdig.sphinx.failures] "
_MARKED = re.compile(r"^" + re.escape(_MARKER) + r"(?P<json>\{.*\})$", re.M)
#: The build's full log, in the build folder (``<output>/_build/``).
LOG_NAME = "plusdig-build.log"
#: At most this many problems are listed; the log has the rest.
MAX_LISTED = 8


@dataclass(frozen=True)
class Problem:
    """One reason a build failed."""

    path: str | None  #: the source file, relative to the book's folder where it is inside it
    cell: int | None  #: the notebook cell, 1 for the first (None: not in a notebook cell)
    message: str  #: what went wrong (Danish where the message is the book's or this module's)

    def line(self) -> str:
        """The problem on one line: ``book/x.ipynb, celle 3: message``."""
        where = self.path or "bogen"
        if self.cell is not None:
            where += f", celle {self.cell}"
        return f"{where}: {self.message}"


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour codes."""
    return _ANSI.sub("", text)


def _relative(path: str, srcdir: Path) -> str:
    try:
        return Path(path).resolve().relative_to(srcdir.resolve()).as_posix()
    except ValueError:
        return path


def _cells(path: Path) -> list[Any]:
    import nbformat

    try:
        return list(nbformat.read(path, as_version=4).cells)
    except (OSError, ValueError):
        return []


def _cell_of_source(path: Path, source: str) -> int | None:
    """The 1-based number of the code cell of ``path`` whose source is ``source``."""
    wanted = source.strip()
    for number, cell in enumerate(_cells(path), start=1):
        if cell.cell_type == "code" and cell.source.strip() == wanted:
            return number
    return None


def defined_glue_keys(path: Path, cache_path: Path | None = None) -> set[str]:
    """The glue keys notebook ``path`` defines: those in its cached outputs (when Jupyter
    Book's cache at ``cache_path`` holds the notebook) and the literal keys of its
    ``glue("...", ...)`` calls."""
    cells = _cells(path)
    keys = {m.group("key") for c in cells if c.cell_type == "code"
            for m in _GLUE_CALL.finditer(c.source)}
    if cache_path is not None and Path(cache_path).is_dir():
        try:
            import nbformat
            from jupyter_cache import get_cache

            cache = get_cache(str(cache_path))
            record = cache.match_cache_notebook(nbformat.read(path, as_version=4))
            executed = cache.get_cache_bundle(record.pk).nb
        except Exception:  # noqa: BLE001 - no cached run: the literal keys are all there is
            executed = None
        for cell in getattr(executed, "cells", []):
            for output in cell.get("outputs", []):
                name = (output.get("metadata") or {}).get("scrapbook", {}).get("name")
                if isinstance(name, str):
                    keys.add(name)
    return keys


def _glue_message(key: str, path: Path | None, cache_path: Path | None) -> str:
    keys = sorted(defined_glue_keys(path, cache_path)) if path and path.is_file() else []
    message = f"glue-nøglen '{key}' er ikke defineret i notebooken"
    near = difflib.get_close_matches(key, keys, n=3, cutoff=0.5)
    if near:
        return message + " – stavefejl? Nærmeste definerede nøgler: " + ", ".join(near)
    if keys:
        shown = ", ".join(keys[:6]) + (" …" if len(keys) > 6 else "")
        return message + f" (ingen ligner; notebooken definerer: {shown})"
    return message + " (notebooken definerer ingen glue-nøgler)"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "ukendt fejl"


def problems(log: str, srcdir: str | Path, cache_path: str | Path | None = None) -> list[Problem]:
    """The problems a build log reports, in the order the build met them.

    A cell that raised: its notebook, its cell number and the exception's last line. A glue
    key a page uses and its notebook does not define: the nearest defined keys. Every other
    Sphinx warning or error: its file and message (myst-nb's line numbers in a notebook,
    cell × 10000 + line, become the cell). An unexpected exception in the build itself: its
    last line.
    """
    text = strip_ansi(log)
    src = Path(srcdir)
    cache = Path(cache_path) if cache_path else None
    found: list[Problem] = []
    failed_notebooks = [m.group("path") for m in _EXECUTION_ERROR.finditer(text)]
    failed_notebooks += [m.group("path") for m in _PLUSDIG_FAILED.finditer(text)]
    cell_errors: set[str] = set()
    for match in _CELL_ERROR.finditer(text):
        # the notebook is named after its traceback (myst-nb's ExecutionError), or by
        # plusdig.sphinx.build's own run; the cell is the one with this source
        after = _EXECUTION_ERROR.search(text, match.end())
        candidates = ([after.group("path")] if after else []) + failed_notebooks
        source = match.group("source")
        path = next((p for p in candidates if _cell_of_source(Path(p), source)),
                    candidates[0] if candidates else None)
        cell = _cell_of_source(Path(path), source) if path else None
        if path:
            cell_errors.add(str(Path(path).resolve()))
        found.append(Problem(_relative(path, src) if path else None, cell,
                             _last_line(match.group("traceback"))))
    for path in dict.fromkeys(failed_notebooks):
        if str(Path(path).resolve()) not in cell_errors:
            cell_errors.add(str(Path(path).resolve()))
            found.append(Problem(_relative(path, src), None,
                                 "notebooken kunne ikke køres (se loggen)"))
    # an exception that ended the build (run_logged): first if it names a file, else only
    # where nothing else says why
    marked = [Problem(f.get("path"), f.get("cell"), str(f["message"]))
              for f in (json.loads(m.group("json")) for m in _MARKED.finditer(text))]
    found += [p for p in marked if p.path]
    for match in _WARNING.finditer(text):
        path, line, message = match.group("path"), match.group("line"), match.group("message")
        if path and str(Path(path).resolve()) in cell_errors \
                and "Executing notebook failed" in message:
            continue  # the cell error above says it
        cell = None
        if path and path.endswith(".ipynb") and line and int(line) >= 10000:
            cell = int(line) // 10000
        glue = _GLUE_MISSING.search(message)
        missing = _TOC_MISSING.search(message) if match.group("kind") == "etoc.ref" else None
        if missing:  # the table of contents names a chapter that is not there
            path, message = str(src / "_toc.yml"), (
                f"kapitlet '{missing.group('doc')}' findes ikke (ingen .ipynb eller .md af det "
                "navn)")
        elif glue:
            message = _glue_message(glue.group("key"), Path(path) if path else None, cache)
        elif path and line and cell is None:
            message = f"linje {line}: {message}"
        found.append(Problem(_relative(path, src) if path else None, cell, message))
    if _SPHINX_EXCEPTION in text and not cell_errors and not any(p.path for p in marked):
        tail = text.split(_SPHINX_EXCEPTION, 1)[1]
        exception = next((line.strip() for line in tail.splitlines()
                          if re.match(r"\s*[\w.]+(Error|Exception|Interrupt)\b", line)), None)
        found.append(Problem(None, None, exception or _last_line(tail)))
    if not found:  # no cell, warning or Sphinx report says why: the exception does
        found += marked
    return list(dict.fromkeys(found))


class UnreadableNotebook(ValueError):
    """A notebook file nbformat cannot read (not JSON, a merge conflict left in it): its path,
    and why in Danish."""

    def __init__(self, path: str | Path, cause: BaseException) -> None:
        self.path = str(path)
        decode = next((e for e in _chain(cause) if isinstance(e, json.JSONDecodeError)), None)
        if decode is not None:
            why = f"ikke gyldig JSON (linje {decode.lineno}, kolonne {decode.colno})"
        else:
            why = f"{type(cause).__name__}: {(str(cause).splitlines() or [''])[0]}"
        try:
            if "\n<<<<<<< " in "\n" + Path(path).read_text(encoding="utf-8", errors="replace"):
                why += "; der står en flettekonflikt fra git i filen (<<<<<<<)"
        except OSError:
            pass
        super().__init__(f"notebooken kan ikke læses: {why}")


def _chain(exc: BaseException | None) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from or while handling, outermost first."""
    chain: list[BaseException] = []
    while exc is not None and exc not in chain:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


def problem_of(exc: BaseException, srcdir: str | Path) -> Problem:
    """The problem an exception that ended a build is, told by the file it is about: a
    notebook nbformat cannot read (:class:`UnreadableNotebook`), a data file that does not
    validate, a YAML file that does not parse (``_config.yml``, ``_toc.yml``: the line and
    column), a table of contents that is not one (``_toc.yml``). An exception raised while
    handling another is told by the one it handled, if that is one of these; else by the
    innermost one that says something (its type and first line)."""
    src = Path(srcdir)
    chain = _chain(exc)
    for err in chain:
        if isinstance(err, UnreadableNotebook):
            return Problem(_relative(err.path, src), None, str(err))
        if isinstance(err, DataValidationError):  # its message names the file first
            told = str(err)
            told = told[len(err.file):].lstrip(",: ") if told.startswith(err.file) else told
            return Problem(_relative(err.file, src), None, told)
        # yaml.MarkedYAMLError: where it failed, and where what failed began (an open
        # bracket or quote, a mapping) when that is another line
        mark = getattr(err, "problem_mark", None)
        if mark is not None and hasattr(err, "problem"):
            name = str(getattr(mark, "name", "") or "")
            what = str(err.problem or "")
            begun = getattr(err, "context_mark", None)
            if getattr(err, "context", None) and begun is not None and begun.line != mark.line:
                what += f"; {err.context} fra linje {begun.line + 1}, kolonne {begun.column + 1}"
            elif getattr(err, "context", None):
                what = f"{err.context}, {what}"
            return Problem(_relative(name, src) if name and not name.startswith("<") else None,
                           None, f"linje {mark.line + 1}, kolonne {mark.column + 1}: ikke gyldig "
                           f"YAML ({what})")
        if type(err).__name__ == "MalformedError" and "external_toc" in type(err).__module__:
            return Problem("_toc.yml", None, f"indholdsfortegnelsen er ugyldig: {err}")
    # else the root cause: the innermost exception that says something (Jupyter Book's own
    # RuntimeError says only "look above", between two rulers)
    said = {id(e): lines for e in chain if (lines := [
        line.strip() for line in strip_ansi(str(e)).splitlines()
        if line.strip() and not set(line.strip()) <= set("=-")])}
    err = next((e for e in reversed(chain) if id(e) in said), chain[0])
    return Problem(None, None, f"{type(err).__name__}: {said.get(id(err), [''])[0]}".rstrip(": "))


def _exception_record(exc: BaseException, srcdir: str | Path) -> str:
    """What the log keeps of an exception that ended a build: its traceback, then the problem
    it is (:func:`problem_of`) on a line :func:`problems` reads back."""
    problem = problem_of(exc, srcdir)
    return "".join(traceback.format_exception(exc)) + _MARKER + json.dumps(
        {"path": problem.path, "cell": problem.cell, "message": problem.message},
        ensure_ascii=False) + "\n"


def _tell_failure(log_file: Path, srcdir: str | Path, cache_path: str | Path | None,
                  stream: TextIO) -> None:
    """Write the Danish summary of the failed build whose log is ``log_file`` to ``stream``."""
    text = log_file.read_text(encoding="utf-8")
    stream.write("\n" + summary(problems(text, srcdir, cache_path), log_file) + "\n")
    stream.flush()


def summary(found: Iterable[Problem], log_path: str | Path | None = None) -> str:
    """The Danish summary of a failed build: what failed, where, and where the full log is."""
    listed = list(found)
    lines = ["Bogen kunne ikke bygges. Intet er publiceret: sitet er som efter den sidste "
             "bygning, der lykkedes."]
    if not listed:
        lines.append("  Årsagen står i loggen.")
    for number, problem in enumerate(listed[:MAX_LISTED], start=1):
        lines.append(f"  {number}. {problem.line()}")
    if len(listed) > MAX_LISTED:
        lines.append(f"  … og {len(listed) - MAX_LISTED} mere (se loggen)")
    if log_path is not None:
        lines.append(f"Hele loggen: {log_path}")
    return "\n".join(lines)


class _Tee(io.TextIOBase):
    """A text stream that copies everything to a log file and passes it on to ``stream``
    until Sphinx starts reporting an unexpected exception (the traceback stays in the log)."""

    def __init__(self, stream: TextIO, log: TextIO, state: dict[str, bool]) -> None:
        self._stream, self._log, self._state = stream, log, state

    def write(self, s: str) -> int:
        self._log.write(strip_ansi(s))
        if _SPHINX_EXCEPTION in strip_ansi(s):
            self._state["hiding"] = True
        if not self._state["hiding"]:
            self._stream.write(s)
        return len(s)

    def flush(self) -> None:
        self._log.flush()
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8")


def run_logged(build: Callable[[], int], log_path: str | Path, srcdir: str | Path,
               cache_path: str | Path | None = None) -> int:
    """Run ``build`` (returns an exit code) with its output copied to ``log_path``.

    The terminal sees the build's output up to an unexpected exception; a failed build (a
    non-zero code or an exception) ends with :func:`summary` on standard error. The log keeps
    everything, tracebacks included.
    """
    log_file = Path(log_path)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    state = {"hiding": False}
    out, err = sys.stdout, sys.stderr
    with log_file.open("w", encoding="utf-8") as log:
        sys.stdout, sys.stderr = _Tee(out, log, state), _Tee(err, log, state)
        try:
            code = build()
        except BaseException as exc:  # noqa: BLE001 - reported below, the traceback in the log
            log.write(_exception_record(exc, srcdir))
            code = 1
        finally:
            sys.stdout, sys.stderr = out, err
    if code:
        _tell_failure(log_file, srcdir, cache_path, err)
    return code


def _build_paths(argv: Sequence[str]) -> tuple[Path, Path] | None:
    """The book folder and the output folder of ``jupyter-book build`` arguments (None for
    another command)."""
    args = list(argv)
    if not args or args[0] != "build":
        return None
    src, out, i = None, None, 1
    while i < len(args):
        arg = args[i]
        if arg == "--path-output" and i + 1 < len(args):
            out, i = args[i + 1], i + 2
            continue
        if arg.startswith("--path-output="):
            out = arg.split("=", 1)[1]
        elif not arg.startswith("-") and src is None and args[i - 1] not in _VALUE_OPTIONS:
            src = arg
        i += 1
    if src is None:
        return None
    book = Path(src).resolve()
    book = book.parent if book.is_file() else book
    return book, Path(out).resolve() if out else book


#: ``jupyter-book build`` options that take a value (so the value is not the book's folder).
_VALUE_OPTIONS = frozenset({"--config", "--toc", "--builder", "--custom-builder",
                            "--path-output"})


def jupyter_book_logged(argv: Sequence[str], run: Callable[[Sequence[str]], int]) -> int:
    """``run(argv)`` (the jupyter-book command line) through :func:`run_logged` when it is a
    build: the log in ``<output>/_build/plusdig-build.log``, a Danish summary if it fails."""
    paths = _build_paths(argv)
    if paths is None:
        return run(argv)
    book, out = paths
    return run_logged(lambda: run(argv), out / "_build" / LOG_NAME, book,
                      out / "_build" / ".jupyter_cache")


def jupyter_book_guarded(argv: Sequence[str], run: Callable[[], int]) -> int:
    """``run()``, all of a ``jb`` call (the no-change check, the validation, the logged build).
    An exception it raises before the build's own log is written (a ``_config.yml`` that is
    no YAML) ends it as a failed build ends: the traceback in the log, the Danish summary."""
    try:
        return run()
    except Exception as exc:
        paths = _build_paths(argv)
        if paths is None:
            raise
        book, out = paths
        log = out / "_build" / LOG_NAME
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(_exception_record(exc, book), encoding="utf-8")
        _tell_failure(log, book, None, sys.stderr)
        return 1


# --------------------------------------------------------------------------- one run only
#: Notebooks plusdig.sphinx.build ran and saw fail in this build, by their code cells'
#: sources: the executed notebook (JSON), the seconds it ran and the error text.
_FAILED_RUNS: dict[tuple[str, ...], tuple[str, float, str]] = {}


def _code_key(nb: Any) -> tuple[str, ...]:
    return tuple(str(c.source) for c in nb.cells if c.cell_type == "code")


def hand_failed_runs_to_mystnb(runs: dict[str, tuple[str, float, str]]) -> None:
    """Let myst-nb report a notebook plusdig.sphinx.build already ran and saw fail, without
    running it a second time (a second kernel, the same error).

    myst-nb executes a notebook its cache lacks (a failed one is not cached) through
    ``jupyter_cache``'s ``single_nb_execution``; for a notebook in ``runs`` (path → the
    executed notebook's JSON, seconds, error text) that call returns this build's run
    instead: the same outputs up to the failing cell and the same error, which myst-nb then
    reports as usual (its warning, its traceback; nothing cached). Any other notebook runs.
    """
    import nbformat
    from myst_nb.core.execute import cache as mystnb_cache

    for nb_json, seconds, err in runs.values():
        _FAILED_RUNS[_code_key(nbformat.reads(nb_json, as_version=4))] = (nb_json, seconds, err)
    original = mystnb_cache.single_nb_execution
    if getattr(original, "plusdig_reuses_runs", False):
        return

    def single_nb_execution(nb: Any, cwd: Any, timeout: Any, allow_errors: bool,
                            meta_override: bool = True, **kwargs: Any) -> Any:
        hit = _FAILED_RUNS.pop(_code_key(nb), None)
        if hit is None:
            return original(nb, cwd, timeout, allow_errors, meta_override=meta_override,
                            **kwargs)
        from jupyter_cache.executors.utils import ExecutionResult
        from nbclient.exceptions import CellExecutionError, CellTimeoutError

        nb_json, seconds, err = hit
        ran = nbformat.reads(nb_json, as_version=4)
        for cell, done in zip(nb.cells, ran.cells, strict=False):
            if cell.cell_type == "code" and done.cell_type == "code":
                cell.outputs, cell.execution_count = done.outputs, done.execution_count
        if "widgets" in ran.metadata:
            nb.metadata["widgets"] = ran.metadata["widgets"]
        last = (err.strip().splitlines() or [""])[-1]
        error = CellTimeoutError(err) if "CellTimeoutError" in last \
            else CellExecutionError(err, "", "")
        return ExecutionResult(nb, cwd, seconds, error, err)

    single_nb_execution.plusdig_reuses_runs = True  # type: ignore[attr-defined]
    mystnb_cache.single_nb_execution = single_nb_execution
