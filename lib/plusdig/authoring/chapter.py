"""Create a new chapter notebook from the book's template and add it to ``_toc.yml``.

Usage (from the repository root; ``make chapter NAME="..."`` calls this)::

    python -m plusdig.authoring.chapter new --title "Alliancen" --part report [--slug alliancen] [--after X]
    python -m plusdig.authoring.chapter run book/report/alliancen.ipynb   # make run NB=...

The new notebook ``book/<part>/<slug>.ipynb`` holds the standard chapter: a hidden first
cell with the imports, ``use_house_style()`` and the data loading; the Danish title; a
headline cell (``keep_output`` + ``nbval-check-output``) that glues a number used in a
sentence; and an example figure made by a library function, placed with ``{glue:figure}``
with ``:name:``, ``:alt:`` and a caption. The notebook is executed once so the headline
cell holds its real output, then stripped like the pre-commit hook strips it. Finally the
chapter is appended to its part of ``_toc.yml`` by a text insertion that keeps the file's
comments and order.

Errors are :class:`ChapterError` with a message in plain Danish; nothing is changed then.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["PARTS", "ChapterError", "CellFailed", "slugify", "find_root", "build_notebook",
           "add_to_toc", "new_chapter", "run_notebook", "main"]

#: The book's parts a chapter can belong to: part → folder under ``book/``.
PARTS: dict[str, str] = {"report": "book/report", "annex": "book/annex"}

_SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "ae", "Ø": "oe", "Å": "aa"})


class ChapterError(Exception):
    """A chapter cannot be created; the message says why and what to do, in Danish."""


def slugify(title: str) -> str:
    """A file name from a Danish title: ``"Børn & unge i Lejre" -> "boern-unge-i-lejre"``."""
    text = unicodedata.normalize("NFKD", title.translate(_DANISH).lower())
    text = text.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def find_root(start: Path | None = None) -> Path:
    """The repository root: the nearest folder at or above ``start`` with ``_toc.yml``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file():
            return folder
    raise ChapterError(f"Kan ikke finde bogens _toc.yml i {here} eller mapperne over den. "
                       "Kør kommandoen fra bogens mappe.")


# --------------------------------------------------------------------------- the notebook
def build_notebook(title: str, slug: str) -> Any:
    """The template chapter as an (unexecuted) nbformat notebook."""
    import nbformat

    v4 = nbformat.v4
    fig_key = "fig_eksempel"
    fig_label = f"fig-{slug}"
    intro = (
        f"(kap-{slug})=\n"
        f"# {title}\n\n"
        "Skriv kapitlets indledning her: hvad kapitlet undersøger, og hvilke data det bygger på."
    )
    setup = (
        "# Standard first cell of a chapter: imports, house style, data.\n"
        "# Hidden from readers (tag remove-cell). Use only the chapter API: import plusdig.\n"
        "from myst_nb import glue\n\n"
        "import plusdig\n\n"
        "plusdig.use_house_style()\n"
        "activities = plusdig.activities_table()\n"
    )
    headline = (
        "# Headline numbers: computed here, glued, and used in the text with {glue:text}.\n"
        "# The printed line is kept in git (keep_output) and checked by nbval.\n"
        "n_activities = len(activities)\n"
        'glue("n_activities", n_activities, display=False)\n'
        'print(f"Aktiviteter: {n_activities}")\n'
    )
    sentence = (
        "Aktivitetskataloget beskriver {glue:text}`n_activities` aktiviteter. "
        f"{{numref}}`Figur %s <{fig_label}>` viser, hvilket år kilden angiver for hver af dem."
    )
    figure_code = (
        "# A figure: a chapter-API function returns it; glue it, place it below.\n"
        "fig = plusdig.activities_per_year(activities)\n"
        f'glue("{fig_key}", fig, display=False)\n'
    )
    figure_md = (
        f"```{{glue:figure}} {fig_key}\n"
        f":name: {fig_label}\n"
        ":alt: Søjlediagram over antal aktiviteter fordelt på det første år, "
        "kilden angiver for aktiviteten.\n\n"
        "Aktiviteter efter det første år, aktivitetskataloget angiver. "
        "Kilde: aktivitetskataloget.\n"
        "```"
    )
    nb = v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                       "name": "python3"},
        "language_info": {"name": "python"},
    }
    nb.cells = [
        v4.new_markdown_cell(intro),
        v4.new_code_cell(setup, metadata={"tags": ["remove-cell"]}),
        v4.new_code_cell(headline, metadata={"keep_output": True,
                                             "tags": ["remove-cell", "nbval-check-output"]}),
        v4.new_markdown_cell(sentence),
        v4.new_code_cell(figure_code, metadata={"tags": ["remove-cell", "nbval-ignore-output"]}),
        v4.new_markdown_cell(figure_md),
    ]
    return nb


@contextmanager
def _data_env(root: Path) -> Iterator[None]:
    """Point the kernel at ``<root>/data`` unless PLUSDIG_DATA is already set."""
    old = os.environ.get("PLUSDIG_DATA")
    if old is None:
        os.environ["PLUSDIG_DATA"] = str(root / "data")
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PLUSDIG_DATA", None)


class CellFailed(ChapterError):
    """A code cell raised: which cell (1-based, counting every cell, text cells too, as the
    build's summary and JupyterLab do) and the error's last line."""

    def __init__(self, cell: int, error: str) -> None:
        super().__init__(f"celle {cell}: {error}")
        self.cell = cell
        self.error = error


def execute(nb: Any, folder: Path, root: Path, timeout: int = 300) -> Any:
    """Run every cell of ``nb`` in ``folder`` with the python3 kernel, as the build does.

    Raises :class:`CellFailed` naming the first code cell that raised.
    """
    import subprocess
    import tempfile

    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from plusdig.sphinx.execute import private_kernel_config

    try:
        with _data_env(root), tempfile.TemporaryDirectory(prefix="pdk-") as sockets:
            client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                    resources={"metadata": {"path": str(folder)}},
                                    config=private_kernel_config(sockets))
            # the kernel's own log lines (stderr) are noise here; cell errors still surface
            client.execute(stderr=subprocess.DEVNULL)
    except CellExecutionError as exc:
        failed = next((n for n, c in enumerate(nb.cells, 1) if c.cell_type == "code"
                       and any(o.get("output_type") == "error" for o in c.get("outputs", []))),
                      len(nb.cells))
        raise CellFailed(failed, f"{exc.ename}: {exc.evalue}") from None
    return nb


def run_notebook(path: Path, root: Path | None = None) -> float:
    """Execute one notebook as the build does, save it stripped (``make run NB=...``).

    Returns the seconds it took. When a cell raises, the file is left as it was and a
    :class:`ChapterError` says, in Danish, which cell and what went wrong.
    """
    import time

    import nbformat

    root = find_root(root or path.parent)
    path = path.resolve()
    if path.suffix != ".ipynb":
        raise ChapterError(f"{path} er ikke en notebook (.ipynb). Angiv fx "
                           "NB=book/report/aktiviteterne.ipynb.")
    if not path.is_file():
        raise ChapterError(f"{path} findes ikke. Angiv stien fra bogens mappe, fx "
                           "NB=book/report/aktiviteterne.ipynb.")
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    try:
        execute(nb, path.parent, root)
    except CellFailed as exc:
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        raise ChapterError(f"{rel}, celle {exc.cell} fejlede: {exc.error}\n"
                           "Notebooken er ikke ændret. Ret cellen (i JupyterLab: make lab), "
                           "og kør igen.") from None
    nbformat.write(nb, path)
    strip(path)
    return time.perf_counter() - start


def strip(path: Path) -> None:
    """Strip outputs except ``keep_output`` cells, exactly as the pre-commit hook does."""
    from plusdig.authoring.hooks import strip_notebook

    strip_notebook(path)


# --------------------------------------------------------------------------- the TOC
_PART_RE = re.compile(r"^(\s*)-\s+caption:")
_FILE_RE = re.compile(r"^\s*-?\s*file:\s*['\"]?([^'\"#\s]+)")


def _toc_files(text: str) -> list[str]:
    return [m.group(1) for line in text.splitlines() if (m := _FILE_RE.match(line))]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _block_end(lines: list[str], start: int, end: int, min_indent: int) -> int:
    """The last line of the YAML block that begins at ``start``: the last line before ``end``
    and before the first content line indented less than ``min_indent`` (blank lines and
    comments do not count)."""
    last = start
    for i in range(start + 1, end):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#"):
            if _indent(lines[i]) < min_indent:
                break
            last = i
    return last


def add_to_toc(toc_text: str, part: str, entry: str, after: str | None = None) -> str:
    """Return ``toc_text`` with ``- file: <entry>`` added to the chapters of ``part``.

    The part is the one whose chapters live in ``PARTS[part]``. The entry goes after the
    chapter ``after`` (its file name without ending, e.g. ``aktiviteterne``, or its path in
    ``_toc.yml``), else at the end of the part. Only one line is inserted; comments, order and
    formatting of everything else are kept.
    """
    import yaml

    folder = PARTS[part] + "/"
    lines = toc_text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if _PART_RE.match(line)]
    if not starts:
        raise ChapterError("_toc.yml har ingen dele ('parts' med 'caption'), så kapitlet kan "
                           "ikke placeres. Tilføj det selv under den rigtige del.")
    target: tuple[int, int] | None = None
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        files = _toc_files("".join(lines[start:end]))
        if files and files[0].startswith(folder):
            target = (start, end)
            break
    if target is None:
        raise ChapterError(f"Ingen del i _toc.yml har kapitler i {folder}, så kapitlet kan ikke "
                           "placeres automatisk. Tilføj det selv under den rigtige del.")
    start, end = target
    chapters_at = next((i for i in range(start, end)
                        if re.match(r"^\s*(-\s+)?chapters:", lines[i])), None)
    items = [i for i in range(start, end) if re.match(r"^\s*-\s+file:", lines[i])
             and chapters_at is not None and i > chapters_at]
    if chapters_at is None or not items:
        raise ChapterError("Delen i _toc.yml har ingen 'chapters:'-liste. Tilføj kapitlet selv.")
    indent = _indent(lines[items[0]])
    last = _block_end(lines, items[0], end, indent)
    if after is not None:
        wanted = after.strip().removesuffix(".ipynb").removesuffix(".md")
        # the part's own chapters (not nested sections): the items at the chapters' indent
        own = {i: m.group(1) for i in items
               if (m := _FILE_RE.match(lines[i])) and _indent(lines[i]) == indent}
        hits = [i for i, path in own.items() if wanted in (path, path.rsplit("/", 1)[-1])]
        if not hits:
            names = ", ".join(path.rsplit("/", 1)[-1] for path in own.values())
            raise ChapterError(f"AFTER={after!r} er ikke et kapitel i denne del. Vælg et af: "
                               f"{names}.")
        last = _block_end(lines, hits[0], end, indent + 1)  # after its nested sections, if any
    if not lines[last].endswith("\n"):
        lines[last] += "\n"
    lines.insert(last + 1, " " * indent + f"- file: {entry}\n")
    new_text = "".join(lines)
    # Check the result: valid YAML, the entry in the intended part, nothing else changed.
    parsed = yaml.safe_load(new_text)
    placed = [p for p in parsed.get("parts", [])
              if any(c.get("file") == entry for c in p.get("chapters", []))]
    if len(placed) != 1 or _toc_files(new_text).count(entry) != 1:
        raise ChapterError("Kapitlet kunne ikke indsættes sikkert i _toc.yml. Tilføj selv linjen "
                           f"'- file: {entry}' under den rigtige del.")
    return new_text


# --------------------------------------------------------------------------- the command
def _check_new(root: Path, slug: str) -> None:
    if not _SLUG_RE.match(slug):
        raise ChapterError(f"Filnavnet {slug!r} kan ikke bruges. Brug små bogstaver a-z, tal og "
                           "bindestreger, fx --slug alliancens-arbejde.")
    taken = sorted(p.relative_to(root).as_posix() for p in (root / "book").rglob(f"{slug}.*")
                   if p.suffix in {".ipynb", ".md"})
    toc = (root / "_toc.yml").read_text(encoding="utf-8")
    in_toc = [f for f in _toc_files(toc) if f.rsplit("/", 1)[-1] == slug]
    if taken or in_toc:
        where = ", ".join(taken + in_toc)
        raise ChapterError(f"Der findes allerede et kapitel med navnet {slug!r} ({where}). "
                           "Vælg et andet filnavn: make chapter ... SLUG=navn "
                           "(eller --slug navn).")


def new_chapter(title: str, part: str, slug: str | None = None, root: Path | None = None,
                run: bool = True, after: str | None = None) -> Path:
    """Create ``book/<part>/<slug>.ipynb`` from the template and add it to ``_toc.yml``."""
    import nbformat

    title = " ".join(title.split())
    if not title:
        raise ChapterError("Kapitlet skal have en titel, fx --title \"Alliancens arbejde\".")
    if part not in PARTS:
        raise ChapterError(f"Ukendt del {part!r}. Vælg 'report' (Del I, evalueringsrapporten) "
                           "eller 'annex' (Del II, aktivitetskataloget).")
    root = find_root(root)
    slug = slug or slugify(title)
    if not slug:
        raise ChapterError(f"Kan ikke lave et filnavn af titlen {title!r}. Angiv et med "
                           "SLUG=navn (eller --slug navn).")
    _check_new(root, slug)
    toc_path = root / "_toc.yml"
    entry = f"{PARTS[part]}/{slug}"
    new_toc = add_to_toc(toc_path.read_text(encoding="utf-8"), part, entry, after)
    path = root / f"{entry}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = build_notebook(title, slug)
    if run:
        try:
            execute(nb, path.parent, root)
        except CellFailed as exc:
            raise ChapterError("Skabelonen kunne ikke køres, så kapitlet er ikke oprettet. Kør "
                               "'make validate' for at se, om data er i orden. Fejlen var:\n"
                               f"{exc.error}") from None
    nbformat.validate(nb)
    nbformat.write(nb, path)
    strip(path)
    toc_path.write_text(new_toc, encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m plusdig.authoring.chapter new --title ... --part report|annex [--slug ...]``."""
    parser = argparse.ArgumentParser(prog="python -m plusdig.authoring.chapter",
                                     description="Opret et nyt kapitel ud fra bogens skabelon.")
    sub = parser.add_subparsers(dest="command", required=True)
    new = sub.add_parser("new", help="opret et nyt kapitel og tilføj det til _toc.yml")
    new.add_argument("--title", required=True, help="kapitlets titel på dansk")
    new.add_argument("--part", choices=sorted(PARTS), default="report",
                     help="report = Del I (evalueringsrapporten), annex = Del II (kataloget)")
    new.add_argument("--slug", help="filnavn uden endelse (standard: lavet ud fra titlen)")
    new.add_argument("--after", help="indsæt efter dette kapitel (filnavn uden endelse, fx "
                     "aktiviteterne); standard: sidst i delen")
    new.add_argument("--no-execute", action="store_true",
                     help="kør ikke skabelonen (overskriftscellen får så intet gemt output)")
    run = sub.add_parser("run", help="kør én notebook, som bogen bygges, og gem den renset")
    run.add_argument("notebook", type=Path, help="fx book/report/aktiviteterne.ipynb")
    args = parser.parse_args(argv)
    if args.command == "run":
        try:
            seconds = run_notebook(args.notebook)
        except ChapterError as exc:
            print(f"Fejl: {exc}", file=sys.stderr)
            return 1
        print(f"Kørt og gemt: {args.notebook} ({seconds:.1f} s). Byg siden med 'make book'.")
        return 0
    try:
        path = new_chapter(args.title, args.part, args.slug, run=not args.no_execute,
                           after=args.after)
    except ChapterError as exc:
        print(f"Fejl: {exc}", file=sys.stderr)
        return 1
    root = find_root()
    rel = path.relative_to(root).as_posix()
    print(f"Oprettet: {rel} (tilføjet til _toc.yml under "
          f"{'Del I' if args.part == 'report' else 'Del II'}).")
    print("Åbn det i JupyterLab med 'make lab', og byg bogen med 'make book'.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
