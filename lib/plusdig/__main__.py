"""Command line: ``python -m plusdig validate`` checks the settings (``PLUSDIG_DISCLOSURE_K``,
``PLUSDIG_SURVEY*``, ``PLUSDIG_DATA``) and loads and validates every data file and the survey."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help"}:
        print("usage: python -m plusdig validate")
        return 0 if args else 2
    if args[0] == "validate":
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
            print(f"Data error: {exc}", file=sys.stderr)
            return 1
        counts["disclosure threshold k"] = k
        for name, n in counts.items():
            print(f"ok  {name}: {n}")
        return 0
    print(f"unknown command {args[0]!r}; usage: python -m plusdig validate", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
