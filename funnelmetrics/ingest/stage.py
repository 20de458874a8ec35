"""The staging SQL: one scan of a file into a table of typed values and rule results.

For each canonical column the stage reads the file's text once (`__r_c`, empty = null, ids and
codes trimmed, control characters removed from free text), parses it (`__p_c`: ISO 8601 or a
slash date in a known order → naive UTC timestamp, text → double under the decimal mark; `__u_c`:
a slash date whose order is not known yet) and evaluates every row rule as one bit of `__fm_bad`. The stage keeps the table's own columns and types, so
accepted rows go from it to the table as they are; rejected rows keep their original text as
JSON in `__fm_raw` for the quarantine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from funnelmetrics.ingest import dates
from funnelmetrics.ingest.numbers import number_sql
from funnelmetrics.ingest.options import ReadOptions
from funnelmetrics.ingest.readers import DataFile, Source, ident, sql_str
from funnelmetrics.ingest.rules import (
    CONTROL_IN_TEXT,
    STAGE_COLUMNS,
    Check,
    as_text,
    date_only,
    has_control,
    needs_control_check,
    no_date,
    parsed,
    raw,
    sql_list,
    undetermined,
)
from funnelmetrics.schema import Column, Kind, Table

BAD = "__fm_bad"  # bit i set: the row breaks check i
RAW = "__fm_raw"  # the row's original text as JSON, for rejected rows
ROW = "__fm_row"  # explicit row numbers (spreadsheets); otherwise derived from rowid
INTERNAL = (BAD, RAW, ROW)
FILE = "__fm_file"  # in `union`: which of a table's files a row came from
ORD = "__fm_ord"  # in `union`: file index << FILE_SHIFT | row index in its stage
COPY_BIT = 1 << 62  # an exact duplicate of an accepted row: skipped, not rejected
PROBLEM_MASK = COPY_BIT - 1
FILE_SHIFT = 40  # __fm_ord = file index << 40 | row index in its stage
# Parsed values keep integers as doubles, so a 7.5 score can be reported before it is cast.
PARSED_TYPE = {Kind.TEXT: "VARCHAR", Kind.TIMESTAMP: "TIMESTAMP", Kind.NUMBER: "DOUBLE",
               Kind.INTEGER: "DOUBLE"}


@dataclass(frozen=True)
class Layout:
    """How a file's columns map onto a table: canonical columns found, and extra attributes."""

    canonical: dict[str, str]  # canonical column -> file column name
    extras: list[str]  # file column names kept as extra VARCHAR attributes


@dataclass
class Staged:
    """One file in its stage table; `base` is the rowid of its first row (rows written in a
    transaction are numbered from a high offset), `row_sql` the row number the user sees."""

    file: DataFile
    name: str
    layout: Layout
    row_sql: str
    base: int
    temporary: bool = True
    skipped: int = 0  # rows of the file a preset leaves out on purpose
    skip_reason: str | None = None

    @property
    def key(self) -> str:
        """The file as the quarantine names it."""
        return self.file.key


def with_flags(rows: str, flags: str) -> str:
    """`rows` with the bits of the set rules (`flags`: ord, bit) ORed into `__fm_bad`."""
    return (f"(SELECT u.* REPLACE ((u.{BAD} | coalesce(f.bits, 0)) AS {BAD}) FROM {rows} u "
            f"LEFT JOIN (SELECT ord, bit_or(bit) AS bits FROM {flags} GROUP BY ord) f "
            f"ON u.{ORD} = f.ord)")


def union(staged: Sequence[Staged]) -> str:
    """All stage tables of one table as one relation, with file index, ordinal and row number."""
    parts = [f"SELECT *, CAST({i} AS BIGINT) AS {FILE}, "
             f"(CAST({i} AS BIGINT) << {FILE_SHIFT}) | (rowid - {s.base}) AS {ORD}"
             + ("" if s.row_sql == ROW else f", {s.row_sql} AS {ROW}") + f" FROM {s.name}"
             for i, s in enumerate(staged)]
    return "(" + " UNION ALL BY NAME ".join(parts) + ")"


def layout(table: Table, source: Source) -> Layout:
    """Match the file's header to the table (case-insensitively); the rest are extras."""
    wanted = {c.name.lower(): c.name for c in table.columns}
    canonical: dict[str, str] = {}
    extras: list[str] = []
    for col in source.columns:
        if col.name.startswith("__fm_"):
            continue
        name = wanted.get(col.name.lower())
        if name is not None:
            canonical[name] = col.name
        else:
            extras.append(col.name)
    return Layout(canonical, extras)


def _cleaned(expr: str, sql_type: str, *, trim: bool, empty_is_null: bool) -> str:
    """A file value with empty text as null and, where `trim`, surrounding spaces removed.

    `trim` is costly, so it runs only on values that start or end with a space, and only for
    columns where a stray space changes meaning (ids, required, parsed and coded columns).
    """
    if sql_type != "VARCHAR":
        return expr
    value = expr if empty_is_null else f"NULLIF({expr}, '')"
    if not trim:
        return value
    return (f"CASE WHEN starts_with({expr}, ' ') OR ends_with({expr}, ' ') "
            f"THEN NULLIF(trim({expr}), '') ELSE {value} END")


def needs_trim(table: Table, col: Column) -> bool:
    """Ids, required and coded text is trimmed; free text is kept as written. (Numbers parse
    with spaces around them, and timestamps retry trimmed only when they fail to parse.)"""
    if col.kind is not Kind.TEXT:
        return False
    return (col.required or col.choices is not None or col.name in table.key
            or any(r.column == col.name for r in table.references)
            or (table.name, col.name) in STAGE_COLUMNS)


def _stage_value(r: str, stages: Sequence[str]) -> str:
    """A stage name matched case-insensitively to the configured spelling (null if unknown)."""
    whens = " ".join(f"WHEN {sql_str(s.lower())} THEN {sql_str(s)}" for s in stages)
    return (f"CASE WHEN {r} IN ({sql_list(stages)}) THEN {r} "
            f"ELSE (CASE lower({r}) {whens} END) END")


@dataclass(frozen=True)
class Reading:
    """How one file's values are read: the load's options, the day/month order of each
    timestamp column (None: not known yet), and whether numbers are text to localise."""

    options: ReadOptions
    orders: dict[str, str | None]
    text_numbers: bool = False

    def decimal(self) -> str | None:
        return self.options.decimal if self.text_numbers else None


def parse_sql(table: Table, col: Column, r: str, sql_type: str | None,
              stages: Sequence[str], reading: Reading | None = None) -> str:
    """SQL reading column `col` from its raw value `r` (of DuckDB type `sql_type`)."""
    reading = reading or Reading(ReadOptions(), {})
    if sql_type is None:
        return f"NULL::{PARSED_TYPE[col.kind]}"
    text = sql_type == "VARCHAR"
    as_text = r if text else f"CAST({r} AS VARCHAR)"
    if (table.name, col.name) in STAGE_COLUMNS:
        return _stage_value(as_text, stages)
    if col.choices:
        return f"lower({as_text})"
    if col.kind is Kind.TEXT:
        return as_text
    if col.kind is Kind.TIMESTAMP:
        if sql_type.startswith(("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")):
            return f"make_timestamp(epoch_us({r}))"
        if sql_type.startswith(("TIMESTAMP", "DATE")):
            return f"TRY_CAST({r} AS TIMESTAMP)"
        value = dates.text_timestamp(as_text, reading.orders.get(col.name))
        return dates.in_zone(as_text, value, reading.options.timezone)
    return number_sql(r, reading.decimal() if text else None)


def text_sql(r: str, sql_type: str | None) -> str:
    """`__t_c` (see `rules.as_text`): the text of a timestamp column as the file wrote it."""
    if sql_type == "VARCHAR":
        return r
    if sql_type == "DATE":
        return f"CAST({r} AS VARCHAR)"
    return "NULL::VARCHAR"


def undetermined_sql(col: Column, r: str, sql_type: str | None, reading: Reading) -> str:
    """`__u_c`: a text slash date of a column whose day/month order is not known."""
    if col.kind is not Kind.TIMESTAMP or sql_type != "VARCHAR":
        return f"false AS {undetermined(col.name)}"
    return f"{dates.undetermined(r, reading.orders.get(col.name))} AS {undetermined(col.name)}"


def _final(table: Table, col: Column, options: ReadOptions) -> str:
    """The stored value: the table's own type, the column default when null; an end date that
    is a placeholder read as no date (when configured), and a date-only end on its start's day
    as the start (closed that day, never before it opened)."""
    value = parsed(col.name)
    if no_date(table, col, options):
        value = f"CASE WHEN {dates.placeholder(value)} THEN NULL ELSE {value} END"
    start = next((s for s, e in table.ordered if e == col.name), None)
    if start is not None:
        s = parsed(start)
        value = (f"CASE WHEN {value} < {s} AND {date_only(col.name)} THEN {s} "
                 f"ELSE {value} END")
    if col.kind is Kind.INTEGER:
        value = f"TRY_CAST({value} AS BIGINT)"
    if col.default is not None:
        value = f"coalesce({value}, CAST({col.default} AS {col.kind.sql}))"
    return f"{value} AS {ident(col.name)}"


def bad_bits(checks: Sequence[Check]) -> str:
    """One BIGINT whose bit i is set when the row breaks checks[i]."""
    if not checks:
        return "CAST(0 AS BIGINT)"
    return " | ".join(f"(CASE WHEN {c.condition} THEN CAST({1 << i} AS BIGINT) ELSE 0 END)"
                      for i, c in enumerate(checks))


def free_text(table: Table, col: Column) -> bool:
    """Text kept as written (names, sources, reasons): control characters are removed."""
    coded = col.choices is not None or (table.name, col.name) in STAGE_COLUMNS
    return col.kind is Kind.TEXT and not coded and not needs_control_check(table, col)


def without_control(value: str) -> str:
    """Text with its control characters (but tab and line breaks) removed."""
    return (f"CASE WHEN {has_control(value, CONTROL_IN_TEXT)} THEN "
            f"regexp_replace({value}, '{CONTROL_IN_TEXT}', '', 'g') ELSE {value} END")


def _raw_columns(table: Table, source: Source, lay: Layout) -> list[str]:
    """First level: each canonical column's raw text (`__r_c`), the extras, the row number."""
    cols = {c.name: c for c in source.columns}
    empty = source.empty_is_null
    out = []
    for col in table.columns:
        if col.name in lay.canonical:
            src = cols[lay.canonical[col.name]]
            value = _cleaned(src.expr, src.type, trim=needs_trim(table, col), empty_is_null=empty)
            if src.type == "VARCHAR" and free_text(table, col):
                value = without_control(value)
        else:
            value = "NULL::VARCHAR"
        out.append(f"{value} AS {raw(col.name)}")
    for e in lay.extras:
        text_null = empty and cols[e].type == "VARCHAR"
        value = _cleaned(f"CAST({cols[e].expr} AS VARCHAR)", "VARCHAR", trim=False,
                         empty_is_null=text_null)
        out.append(f"{without_control(value)} AS {ident(e)}")
    if source.row_expr:
        out.append(f"{source.row_expr} AS {ROW}")
    return out


def stage_sql(name: str, table: Table, source: Source, checks: Sequence[Check],
              stages: Sequence[str], reading: Reading | None = None) -> str:
    """CREATE TEMP TABLE `name`: the file's rows, typed, with rule bits and raw text if bad.

    Columns: the table's columns in order and type, the extras, then the internal ones.
    """
    reading = reading or Reading(ReadOptions(), {})
    lay = layout(table, source)
    types = {c: next(s.type for s in source.columns if s.name == f)
             for c, f in lay.canonical.items()}
    l2 = [f"{parse_sql(table, c, raw(c.name), types.get(c.name), stages, reading)} "
          f"AS {parsed(c.name)}" for c in table.columns]
    l2 += [undetermined_sql(c, raw(c.name), types.get(c.name), reading) for c in table.columns
           if c.kind is Kind.TIMESTAMP]
    l2 += [f"{text_sql(raw(c.name), types.get(c.name))} AS {as_text(c.name)}"
           for c in table.columns if c.kind is Kind.TIMESTAMP]
    pairs = [f"{sql_str(c)}, CAST({raw(c)} AS VARCHAR)" for c in lay.canonical]
    pairs += [f"{sql_str(e)}, {ident(e)}" for e in lay.extras]
    final = ([_final(table, c, reading.options) for c in table.columns]
             + [ident(e) for e in lay.extras])
    if source.row_expr:
        final.append(ROW)
    return (
        f"CREATE TEMP TABLE {name} AS "
        f"WITH l1 AS (SELECT {', '.join(_raw_columns(table, source, lay))} "
        f"FROM {source.relation}), "
        f"l2 AS (SELECT *, {', '.join(l2)} FROM l1), "
        f"l3 AS (SELECT *, {bad_bits(checks)} AS {BAD} FROM l2) "
        f"SELECT {', '.join(final)}, {BAD}, CASE WHEN {BAD} <> 0 THEN "
        f"CAST(json_object({', '.join(pairs)}) AS VARCHAR) END AS {RAW} FROM l3"
    )
