"""Command line: ``python -m plusdig validate`` checks the settings (``PLUSDIG_DISCLOSURE_K``,
``PLUSDIG_SURVEY*``, ``PLUSDIG_DATA``) and loads and validates every data file and the survey.

``python -m plusdig build <jupyter-book build arguments>`` (``make book``) does the same
validation and then, in the same process, the book's build
(``python -m plusdig.sphinx.build jb build ...``): the interpreter and the libraries are
started once, and the validation runs while a clean build's kernel server starts. A failing
validation stops it before anything is built, with the same messages and exit code as
``validate``.
"""

from __future__ import annotations

import sys

USAGE = "usage: python -m plusdig validate | python -m plusdig build <jupyter-book build args>"


def validate() -> int:
    """The ``validate`` command: 0 and one ``ok`` line per file, or 1 and the error."""
    from plusdig.core.errors import DataValidationError
    from plusdig.data.validate import validate_all
    from plusdig.survey.contract import check_environment
    from plusdig.survey.disclosure import threshold
    from plusdig.survey.validation import load_survey

    try:
        # the settings first: a bad PLUSDIG_DISCLOSURE_K would otherwise stop the build
        k = threshold()
        check_environment()
        counts = validate_all()
        # the survey: the real delivery named by PLUSDIG_SURVEY, else the synthetic default
        survey = load_survey()
        counts[f"survey ({survey.source.label})"] = len(survey.frame)
    except DataValidationError as exc:
        print(f"Data error: {exc}", file=sys.stderr, flush=True)
        return 1
    counts["disclosure threshold k"] = k
    for name, n in counts.items():
        print(f"ok  {name}: {n}")
    sys.stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help"}:
        print(USAGE)
        return 0 if args else 2
    if args[0] == "validate":
        return validate()
    if args[0] == "build":
        from plusdig.sphinx.build import main as build_main

        return build_main(["jb", "build", *args[1:]], check=validate)
    print(f"unknown command {args[0]!r}; {USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    code = main()
    if sys.argv[1:2] == ["build"]:
        from plusdig.sphinx.inputs import exit_fast

        exit_fast(code)  # a build's process ends without the interpreter's teardown
    raise SystemExit(code)
