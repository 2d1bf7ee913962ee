"""Command line: ``python -m plusdig validate`` loads and validates every data file."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help"}:
        print("usage: python -m plusdig validate")
        return 0 if args else 2
    if args[0] == "validate":
        from .errors import DataValidationError
        from .load import validate_all

        try:
            counts = validate_all()
            # the survey: the real delivery named by PLUSDIG_SURVEY, else the synthetic default
            from .survey import load_survey

            survey = load_survey()
            counts[f"survey ({survey.source.label})"] = len(survey.frame)
        except DataValidationError as exc:
            print(f"Data error: {exc}", file=sys.stderr)
            return 1
        for name, n in counts.items():
            print(f"ok  {name}: {n}")
        return 0
    print(f"unknown command {args[0]!r}; usage: python -m plusdig validate", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
