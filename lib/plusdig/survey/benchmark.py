"""An optional benchmark (issue 19): published municipal-level results of the national
well-being survey beside the book's own survey numbers.

``PLUSDIG_BENCHMARK=/path/to/file.csv`` names a CSV in the contract of
``data/survey/README.md`` ("Benchmark"): one published share per row, with its year,
indicator, area, the item's wording as the source gives it, and the source. Nothing is bundled
and nothing is invented: without the variable chapter 7 shows no benchmark at all. The file is
validated on load; a bad value stops the build with the file, the row, the field and what was
expected. The numbers are published aggregates, not respondents' answers, so disclosure
control does not apply to them; the book's own shares beside them are the ones its tables print.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plusdig.survey.result import SurveyTable

__all__ = ["BENCHMARK_ENV", "COLUMNS", "INDICATORS", "Benchmark", "benchmark_path",
           "load_benchmark", "benchmark_section", "CAPTION"]

#: The environment variable naming the benchmark file.
BENCHMARK_ENV = "PLUSDIG_BENCHMARK"
#: Required columns, then the optional one.
COLUMNS = ("year", "indicator", "area", "share_pct", "wording", "source")
OPTIONAL = ("respondents",)
#: The indicators a benchmark row may give: key -> the book's trend indicator it sits beside.
INDICATORS = {"lonely": "lonely", "not_happy_at_all": "not_happy_at_all"}
#: The caption of the section's table (the disclosure audit recognises it by its first words).
CAPTION = ("Den nationale trivselsmåling: offentliggjorte tal ved siden af bogens egne tal fra "
           "målingen i Lejre")
_YEARS = (2010, 2035)


@dataclass(frozen=True)
class BenchmarkRow:
    """One published share of the national survey."""

    year: int
    indicator: str
    area: str
    share_pct: float
    wording: str
    source: str
    respondents: int | None


@dataclass(frozen=True)
class Benchmark:
    """The validated benchmark file: its rows (its path is never shown to the reader)."""

    rows: tuple[BenchmarkRow, ...]


def benchmark_path(environ: dict[str, str] | None = None) -> Path | None:
    """The benchmark file from :data:`BENCHMARK_ENV` (relative: to the repository root), or
    None when it is not set. A path that names no file is refused."""
    from plusdig.core.errors import DataValidationError
    from plusdig.core.paths import REPO_ROOT

    value = (os.environ if environ is None else environ).get(BENCHMARK_ENV, "").strip()
    if not value:
        return None
    path = REPO_ROOT / Path(value).expanduser()
    if not path.is_file():
        raise DataValidationError(path, "no such file", field=BENCHMARK_ENV,
                                  expected="a CSV in the benchmark contract of "
                                           "data/survey/README.md, or the variable unset")
    return path


def _fail(path: Path, line: int, field: str, problem: str, expected: str) -> None:
    from plusdig.core.errors import DataValidationError

    raise DataValidationError(path, problem, record=f"row {line}", field=field, expected=expected)


def _int(path: Path, line: int, field: str, text: str, low: int, high: int) -> int:
    if not re.fullmatch(r"\d+", text.strip()) or not low <= int(text) <= high:
        _fail(path, line, field, f"not a whole number from {low} to {high}: {text!r}",
              f"a whole number from {low} to {high}")
    return int(text)


def load_benchmark(path: Path | None = None) -> Benchmark | None:
    """The validated benchmark (None when :data:`BENCHMARK_ENV` is unset and no path given)."""
    from plusdig.data.readers import read_csv_rows

    path = path if path is not None else benchmark_path()
    if path is None:
        return None
    rows: list[BenchmarkRow] = []
    seen: dict[tuple[int, str, str], int] = {}
    for line, row in read_csv_rows(path, COLUMNS, OPTIONAL):
        cells = {k: (v or "").strip() for k, v in row.items()}
        year = _int(path, line, "year", cells["year"], *_YEARS)
        if cells["indicator"] not in INDICATORS:
            _fail(path, line, "indicator", f"unknown indicator {cells['indicator']!r}",
                  f"one of {', '.join(INDICATORS)}")
        for field in ("area", "wording", "source"):
            if not cells[field]:
                _fail(path, line, field, "empty value", "a non-empty text")
        share_text = cells["share_pct"].replace(",", ".")
        if not re.fullmatch(r"\d+(\.\d+)?", share_text) or not 0 <= float(share_text) <= 100:
            _fail(path, line, "share_pct", f"not a percentage from 0 to 100: "
                  f"{cells['share_pct']!r}", "a number from 0 to 100, e.g. 21,0 or 21.0")
        respondents = (None if not cells.get("respondents") else
                       _int(path, line, "respondents", cells["respondents"], 0, 10_000_000))
        key = (year, cells["indicator"], cells["area"])
        if key in seen:
            _fail(path, line, "area", f"a second row for {key[1]} in {key[2]}, {year} "
                  f"(first in row {seen[key]})", "one row per year, indicator and area")
        seen[key] = line
        rows.append(BenchmarkRow(year, cells["indicator"], cells["area"], float(share_text),
                                 cells["wording"], cells["source"], respondents))
    if not rows:
        from plusdig.core.errors import DataValidationError

        raise DataValidationError(path, "no rows", expected="at least one published share")
    return Benchmark(tuple(rows))


def _book_share(trend: SurveyTable, indicator: str, year: int) -> float:
    values = trend.values.set_index("indicator")
    key = INDICATORS[indicator]
    if key not in values.index or str(year) not in values.columns:
        return math.nan
    return float(values.loc[key, str(year)])


def benchmark_table(benchmark: Benchmark, tables: dict[str, SurveyTable]) -> SurveyTable:
    """The section's table: each published share, and the book's own share for the same year
    and indicator («–» where the book has no such year or hides it)."""
    import pandas as pd

    from plusdig.core import fmt
    from plusdig.survey.result import SurveyTable, _pct
    from plusdig.survey.tables import TREND_INDICATORS

    trend = tables["trend"]
    rows_d, rows_v = [], []
    for r in benchmark.rows:
        own = _book_share(trend, r.indicator, r.year)
        rows_v.append({"year": r.year, "indicator": r.indicator, "area": r.area,
                       "share": r.share_pct / 100, "book": own})
        rows_d.append({
            "Indikator": TREND_INDICATORS[INDICATORS[r.indicator]], "År": str(r.year),
            "Område": r.area, "Andel (den nationale måling)": fmt.percent(r.share_pct, 1),
            "Besvarelser": "ikke oplyst" if r.respondents is None else fmt.number(r.respondents),
            "Bogens andel (målingen i Lejre)": _pct(own),
            "Spørgsmålets ordlyd (ifølge kilden)": r.wording, "Kilde": r.source})
    return SurveyTable("benchmark", CAPTION, pd.DataFrame(rows_v), pd.DataFrame(rows_d),
                       trend.synthetic, trend.k)


def section_text(synthetic: bool) -> str:
    """The section's lead paragraph (Danish Markdown)."""
    text = ("**Sammenligning med den nationale trivselsmåling.** Tabellen nedenfor stiller "
            "offentliggjorte tal fra den nationale trivselsmåling ved siden af bogens egne tal "
            "fra målingen i Lejre. De to målinger stiller ikke nødvendigvis spørgsmålet med "
            "samme ordlyd, til de samme klassetrin eller på samme tid af året; kildens ordlyd "
            "står i tabellen, og en forskel kan skyldes målingen lige så vel som børnene.")
    if synthetic:
        text += (" Bogens tal er her beregnet på syntetiske data: sammenligningen viser kun, "
                 "hvordan tabellen ser ud, og siger intet om børnene i Lejre.")
    return text


def benchmark_section(tables: dict[str, SurveyTable]) -> Any:
    """Chapter 7's benchmark section, or None (nothing shown) without ``PLUSDIG_BENCHMARK``:
    the lead paragraph is displayed and the table returned, so the cell shows both."""
    benchmark = load_benchmark()
    if benchmark is None:
        return None
    from IPython.display import Markdown, display

    table = benchmark_table(benchmark, tables)
    display(Markdown(section_text(table.synthetic)))
    return table.styler()

