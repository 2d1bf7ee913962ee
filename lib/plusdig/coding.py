"""The evaluators' coding (``data/coding/``): kept apart from the transcribed facts."""

from __future__ import annotations

from pathlib import Path


def validate_coding(base: Path | None = None) -> dict[str, int]:
    """Validate every coding file present; return the number of records per file."""
    return {}
