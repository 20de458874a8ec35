"""Reading dates so that none is ever misread (issue 13 item 3).

ISO 8601 text is read by DuckDB (offsets applied, none = UTC). DuckDB would read a slash date as
year/month/day (`1/2/23` → the year 0001), so slash dates never reach that cast: they are read
with `strptime` in a known order — the user's `--date-format`, or the order the column's own
values prove (a first part above 12 is a day, a second part above 12 is a day). When no value
decides, the column is refused with an example; nothing is guessed. A four-digit first part is
year/month/day. Two-digit years follow POSIX `%y` (69–99 → 1969–1999, 00–68 → 2000–2068).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from funnelmetrics.errors import InputError
from funnelmetrics.ingest.readers import SourceColumn, sql_str

MAX_OFFSET_SECONDS = 14 * 3600  # UTC offsets run from -12:00 to +14:00
# Values that mean "no date" in CRM and spreadsheet exports: the year 9999, the year 1, and the
# spreadsheet zero dates.
PLACEHOLDER_DAYS = ("0001-01-01", "1899-12-30", "1899-12-31", "1900-01-01")
TIMES = ("", " %H:%M:%S", " %H:%M", " %H:%M:%S.%f", " %I:%M %p", " %I:%M:%S %p",
         "T%H:%M:%S", "T%H:%M", ", %H:%M", ", %H:%M:%S", ", %I:%M %p")
DAY_MONTH = {"MDY": "%m/%d/", "DMY": "%d/%m/"}


def formats(order: str) -> list[str]:
    """strptime formats of one order: two-digit years first (`%Y` would read `23` as 0023)."""
    if order == "YMD":
        return [f"%Y/%m/%d{t}" for t in TIMES]
    head = DAY_MONTH[order]
    return [f"{head}%y{t}" for t in TIMES] + [f"{head}%Y{t}" for t in TIMES]


def _strptime(text: str, order: str) -> str:
    return f"try_strptime({text}, [{', '.join(sql_str(f) for f in formats(order))}])"


def iso_timestamp(text: str) -> str:
    """ISO 8601 text as a naive UTC timestamp: offsets applied, none (or a date alone) = UTC.

    The TIMESTAMPTZ → TIMESTAMP cast goes through ICU calendars and is slow; the instant's
    epoch microseconds are the same naive UTC value, so rebuild it from those.
    """
    return (f"make_timestamp(epoch_us(coalesce(TRY_CAST({text} AS TIMESTAMPTZ), "
            f"TRY_CAST(trim({text}) AS TIMESTAMPTZ))))")


def year_first(text: str) -> str:
    """The slash date starts with a four-digit year (2026/01/31)."""
    return f"strpos(trim({text}), '/') = 5"


def text_timestamp(text: str, order: str | None) -> str:
    """A text date or date-time as naive UTC: ISO 8601, or a slash date in `order` (None: only
    year-first slash dates are read; the others are null and flagged by `undetermined`)."""
    slash = (f"CASE WHEN {year_first(text)} THEN {_strptime(f'trim({text})', 'YMD')} "
             + (f"ELSE {_strptime(f'trim({text})', order)} " if order else "") + "END")
    return f"CASE WHEN contains({text}, '/') THEN {slash} ELSE {iso_timestamp(text)} END"


def in_zone(text: str, value: str, zone: str | None) -> str:
    """A timestamp read from text without a UTC offset is local time in `zone` (a CRM's time
    zone): converted to naive UTC. Text with an offset (or `Z`) is already UTC."""
    if zone is None or zone == "UTC":
        return value
    has_offset = (f"regexp_matches({text}, "
                  r"'\d:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)\s*$')")
    return (f"CASE WHEN {has_offset} THEN {value} "
            f"ELSE make_timestamp(epoch_us(timezone({sql_str(zone)}, {value}))) END")


def undetermined(text: str, order: str | None) -> str:
    """True for a slash date whose order is not known (the column must be inferred)."""
    if order is not None:
        return "false"
    # a CASE: the slash test alone runs on every value (an AND would trim them all)
    return f"CASE WHEN contains({text}, '/') THEN NOT {year_first(text)} ELSE false END"


def offset_too_far(text: str, value: str) -> str:
    """The text carries a UTC offset beyond ±14:00 (read value vs. the same clock time).

    The cheap test (a `+`, or a `-` after a time) runs first; only those values are parsed
    again without their offset.
    """
    naive = f"coalesce(TRY_CAST({text} AS TIMESTAMP), TRY_CAST(trim({text}) AS TIMESTAMP))"
    return (f"({value} IS NOT NULL AND (contains({text}, '+') OR {text} LIKE '%:%-%') AND "
            f"abs(epoch_us({naive}) - epoch_us({value})) > {MAX_OFFSET_SECONDS * 1_000_000})")


def placeholder(value: str) -> str:
    """A date that means "no date": 9999-12-31 and friends."""
    days = ", ".join(f"DATE '{d}'" for d in PLACEHOLDER_DAYS)
    return (f"({value} >= TIMESTAMP '9999-01-01' OR ({value} < TIMESTAMP '1900-01-02' AND "
            f"CAST({value} AS DATE) IN ({days})))")


def outside_years(value: str, min_year: int, max_year: int) -> str:
    """The instant falls outside the plausible years (placeholders are reported as such)."""
    return (f"({value} < TIMESTAMP '{min_year:04d}-01-01' OR "
            f"{value} >= TIMESTAMP '{max_year + 1:04d}-01-01')")


# ---- inferring a column's order -----------------------------------------------------------------
@dataclass(frozen=True)
class Evidence:
    """What a column's slash dates show: the largest first and second parts, and examples."""

    column: str
    first_max: int | None
    second_max: int | None
    example: str | None
    day_first_example: str | None
    month_first_example: str | None

    def order(self, path: object) -> str:
        """MDY or DMY, or an InputError that asks for `--date-format`."""
        day_first = (self.first_max or 0) > 12
        month_first = (self.second_max or 0) > 12
        if day_first and not month_first:
            return "DMY"
        if month_first and not day_first:
            return "MDY"
        if day_first and month_first:
            raise InputError(f"{path}: column {self.column!r} mixes day/month/year "
                             f"({self.day_first_example!r}) and month/day/year "
                             f"({self.month_first_example!r}) dates; fix the column or pass "
                             "--date-format DD/MM/YYYY or MM/DD/YYYY")
        raise InputError(f"{path}: column {self.column!r} has dates like {self.example!r} that "
                         "could be month/day or day/month; pass --date-format MM/DD/YYYY or "
                         "--date-format DD/MM/YYYY")


def infer_orders(con: duckdb.DuckDBPyConnection, relation: str,
                 columns: list[SourceColumn]) -> list[Evidence]:
    """One scan of the file: the evidence of each column's day/month slash dates."""
    parts = []
    for i, col in enumerate(columns):
        t = f"trim(CAST({col.expr} AS VARCHAR))"
        is_dm = f"contains({t}, '/') AND NOT {year_first(t)}"
        first = f"TRY_CAST(split_part({t}, '/', 1) AS INTEGER)"
        second = f"TRY_CAST(split_part({t}, '/', 2) AS INTEGER)"
        parts += [f"max({first}) FILTER (WHERE {is_dm}) AS f{i}",
                  f"max({second}) FILTER (WHERE {is_dm}) AS s{i}",
                  f"first({t}) FILTER (WHERE {is_dm}) AS e{i}",
                  f"first({t}) FILTER (WHERE {is_dm} AND {first} > 12) AS d{i}",
                  f"first({t}) FILTER (WHERE {is_dm} AND {second} > 12) AS m{i}"]
    row = con.execute(f"SELECT {', '.join(parts)} FROM {relation}").fetchone()
    assert row is not None
    return [Evidence(col.name, *row[5 * i: 5 * i + 5]) for i, col in enumerate(columns)]

