"""The built site as one file: ``plusdig-evaluering-<edition>.zip`` (issue 16, ``make zip``).

The archive holds ``_build/html`` under one folder, ``plusdig-evaluering-<edition>/``, so it
unpacks tidily; opened from disk (``file://``, no server) its pages, search, widgets and
downloads work, since the site links only relative files and vendors its scripts
(``tests/test_sitezip.py`` checks it in Chromium). Members are sorted and dated with the
edition, so the same site gives the same archive. Build stamps and the PDF's work files are
left out; the PDF itself stays in if ``make pdf`` put it there.

    python -m plusdig.publish.sitezip [--html _build/html] [--out _build] [--edition 2027.1]

The edition is the released edition's name (``make zip EDITION=2027.1``), by default the
edition date (``2026-12-01``); the members are dated with the edition date either way.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import zipfile
from pathlib import Path

__all__ = ["NAME", "archive_name", "make_zip", "site_edition_date", "main"]

NAME = "plusdig-evaluering"
#: Files of the build folder that are not part of the site.
_SKIP = {".buildinfo", ".plusdig-built"}


def archive_name(edition: str) -> str:
    return f"{NAME}-{edition}.zip"


def make_zip(html_dir: Path, out_dir: Path, edition: str, day: dt.date | None = None) -> Path:
    """Zip the built site ``html_dir`` into ``out_dir``; return the archive's path.

    ``edition`` names the archive (letters, digits, ``.`` and ``-``); ``day`` dates its members
    (default: ``edition`` read as an ISO date).
    """
    html_dir = Path(html_dir)
    if not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z.-]*", edition):
        raise ValueError(f"edition {edition!r}: expected letters, digits, '.' and '-' (2027.1)")
    if not (html_dir / "index.html").is_file():
        raise FileNotFoundError(f"{html_dir}: no built site (index.html); run `make book` first")
    day = day or dt.date.fromisoformat(edition)
    stamp = (max(day.year, 1980), day.month, day.day, 0, 0, 0)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / archive_name(edition)
    tmp = target.with_suffix(".zip.tmp")
    root = f"{NAME}-{edition}"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in sorted(p for p in html_dir.rglob("*") if p.is_file()):
            rel = path.relative_to(html_dir)
            if rel.name in _SKIP or rel.parts[0] in (".doctrees",):
                continue
            info = zipfile.ZipInfo(f"{root}/{rel.as_posix()}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, path.read_bytes())
    tmp.replace(target)
    return target


def site_edition_date(html_dir: Path) -> dt.date:
    """The edition date the site was built with (``downloads/index.json``)."""
    import json

    index = Path(html_dir) / "downloads" / "index.json"
    if not index.is_file():
        raise FileNotFoundError(f"{index}: missing; run `make book` first")
    return dt.date.fromisoformat(json.loads(index.read_text(encoding="utf-8"))["edition_date"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plusdig.publish.sitezip", description=__doc__.split("\n")[0])
    parser.add_argument("--html", type=Path, default=Path("_build/html"))
    parser.add_argument("--out", type=Path, default=Path("_build"))
    parser.add_argument("--edition", default=None, help="udgavens dato, YYYY-MM-DD (standard: bogens)")
    args = parser.parse_args(argv)
    from plusdig.publish.editions import current_edition

    try:
        day = site_edition_date(args.html)
        # the released edition (make release) names the archive; the date until the first one
        released = current_edition()
        default = released if released and not released.endswith("+") else day.isoformat()
        target = make_zip(args.html, args.out, args.edition or default, day)
    except (FileNotFoundError, ValueError) as exc:
        print(f"Kan ikke lave zip-filen: {exc}", file=sys.stderr)
        return 1
    print(f"Bogen som én fil: {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
