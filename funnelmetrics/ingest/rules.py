"""The rules a row must pass (SPEC §2 "Bad input"), each a small function with a stable code.

A *row rule* looks at one staged row and becomes a SQL condition, true when the row breaks it;
the stage evaluates every condition in one vectorised pass. A *set rule* (unknown reference,
conflicting duplicate key) needs other rows or tables and runs as one join over the stage.

In conditions, `raw(c)` is the file's text for column c (null when empty) and `parsed(c)` the
value read from it before any default (null when it could not be read).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from funnelmetrics.ingest import dates
from funnelmetrics.ingest.options import ReadOptions
from funnelmetrics.schema import Column, Kind, Table

# Stable codes: `check`, `ingest` and the API report problems by these.
MISSING_VALUE = "missing_value"
BAD_TIMESTAMP = "bad_timestamp"
NOT_A_NUMBER = "not_a_number"
NEGATIVE = "negative_amount"
NOT_POSITIVE = "not_positive"
OUT_OF_RANGE = "out_of_range"
BAD_CHOICE = "bad_choice"
UNKNOWN_STAGE = "unknown_stage"
END_BEFORE_START = "end_before_start"
CLOSED_AT_REQUIRED = "closed_at_required"
UNKNOWN_REFERENCE = "unknown_reference"
DUPLICATE_KEY = "duplicate_key"
UNDETERMINED_ORDER = "undetermined_date_order"  # never quarantined: the column is inferred
BAD_OFFSET = "bad_offset"
IMPLAUSIBLE_DATE = "implausible_date"
PLACEHOLDER_DATE = "placeholder_date"
CONTROL_CHARACTER = "control_character"

# Columns whose values must be a configured funnel stage (deal stages are free text).
STAGE_COLUMNS: frozenset[tuple[str, str]] = frozenset({("stage_events", "stage")})
# Opportunities that are closed need a close date (SPEC §2: closed_at "required unless open").
REQUIRED_WHEN: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("opportunities", "closed_at"): ("status", ("won", "lost")),
}
# End and close dates: a placeholder (9999-12-31) may be read as "no date" (config).
END_DATES: frozenset[tuple[str, str]] = frozenset({
    ("opportunities", "closed_at"), ("opportunities", "expected_close_at"),
    ("subscriptions", "ended_at"), ("campaigns", "ended_at"),
})
TIMESTAMP_EXAMPLE = "e.g. 2026-01-31 or 2026-01-31T14:00:00+07:00"
# Control characters: rejected in ids and codes (any), removed from free text (but tab and
# line breaks, which free text may hold).
CONTROL = r"[\x00-\x1f\x7f]"
CONTROL_IN_TEXT = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


@dataclass(frozen=True)
class Check:
    """One rule applied to one column: code, column, reason and (row rules) its SQL condition."""

    code: str
    column: str
    reason: str
    condition: str = ""


def raw(column: str) -> str:
    return f'"__r_{column}"'


def parsed(column: str) -> str:
    return f'"__p_{column}"'


def as_text(column: str) -> str:
    """The file's text of timestamp column c: its raw text when the file has text, a typed
    date's text, and null for a typed timestamp (Parquet, XLSX: no offset or time-of-day text
    to judge, and casting millions of them to text would cost more than the whole load)."""
    return f'"__t_{column}"'


def undetermined(column: str) -> str:
    """True when the column's text is a slash date whose day/month order is not known yet."""
    return f'"__u_{column}"'


def has_control(text: str, pattern: str = CONTROL) -> str:
    """The text holds a control character. JSON escapes them, so a text whose JSON is longer
    than itself plus its quotes is the (cheap) first test; the pattern confirms. A CASE, not
    AND: DuckDB evaluates both sides of an AND for every row, a CASE branch only for the rows
    that reach it (the pattern ran on every value: a third of a CSV stage's checks)."""
    return (f"(CASE WHEN strlen(CAST(to_json({text}) AS VARCHAR)) <> strlen({text}) + 2 "
            f"THEN regexp_matches({text}, '{pattern}') ELSE false END)")


def no_date(table: Table, col: Column, options: ReadOptions) -> bool:
    """A placeholder in this column is read as no date (an end date, when configured)."""
    return ((table.name, col.name) in END_DATES
            and options.placeholder_end_dates == "no date")


def sql_list(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


# ---- row rules: one column ----------------------------------------------------------------------
def missing_value(table: Table, col: Column, stages: Sequence[str],
                  options: ReadOptions) -> Check | None:
    if not col.required:
        return None
    return Check(MISSING_VALUE, col.name, f"{col.name} is required but empty",
                 f"{raw(col.name)} IS NULL")


def bad_timestamp(table: Table, col: Column, stages: Sequence[str],
                  options: ReadOptions) -> Check | None:
    if col.kind is not Kind.TIMESTAMP:
        return None
    return Check(BAD_TIMESTAMP, col.name,
                 f"{col.name} is not an ISO 8601 date or date-time ({TIMESTAMP_EXAMPLE})",
                 f"{raw(col.name)} IS NOT NULL AND {parsed(col.name)} IS NULL")


def undetermined_order(table: Table, col: Column, stages: Sequence[str],
                       options: ReadOptions) -> Check | None:
    """Set while a column's day/month order is unknown; the load then infers it or refuses the
    column (see `dates`), so this never reaches the quarantine."""
    if col.kind is not Kind.TIMESTAMP:
        return None
    return Check(UNDETERMINED_ORDER, col.name,
                 f"{col.name} is a slash date whose day/month order is unknown (pass "
                 "--date-format)", undetermined(col.name))


def bad_offset(table: Table, col: Column, stages: Sequence[str],
               options: ReadOptions) -> Check | None:
    if col.kind is not Kind.TIMESTAMP:
        return None
    text = as_text(col.name)
    return Check(BAD_OFFSET, col.name,
                 f"{col.name} has a UTC offset beyond ±14:00",
                 dates.offset_too_far(text, parsed(col.name)))


def placeholder_date(table: Table, col: Column, stages: Sequence[str],
                     options: ReadOptions) -> Check | None:
    if col.kind is not Kind.TIMESTAMP or no_date(table, col, options):
        return None
    hint = (" (to read it as no date, set placeholder_end_dates = \"no date\" under [ingest] "
            "in funnelmetrics.toml)" if (table.name, col.name) in END_DATES else "")
    return Check(PLACEHOLDER_DATE, col.name,
                 f"{col.name} is a placeholder such as 9999-12-31, not a date{hint}",
                 f"{parsed(col.name)} IS NOT NULL AND {dates.placeholder(parsed(col.name))}")


def implausible_date(table: Table, col: Column, stages: Sequence[str],
                     options: ReadOptions) -> Check | None:
    if col.kind is not Kind.TIMESTAMP:
        return None
    p, lo, hi = parsed(col.name), options.min_year, options.max_year
    return Check(IMPLAUSIBLE_DATE, col.name,
                 f"{col.name} is outside the years {lo}–{hi} (min_year and max_year under "
                 "[ingest] in funnelmetrics.toml)",
                 f"{p} IS NOT NULL AND {dates.outside_years(p, lo, hi)} AND NOT "
                 f"{dates.placeholder(p)}")


def control_character(table: Table, col: Column, stages: Sequence[str],
                      options: ReadOptions) -> Check | None:
    """Ids and required text with a control character (NUL, …) are rejected; free text has
    them removed as it is read (see `stage`), and coded columns reject them as bad codes."""
    coded = col.choices is not None or (table.name, col.name) in STAGE_COLUMNS
    if col.kind is not Kind.TEXT or coded or not needs_control_check(table, col):
        return None
    r = raw(col.name)
    return Check(CONTROL_CHARACTER, col.name,
                 f"{col.name} contains a control character (such as NUL)",
                 f"{r} IS NOT NULL AND {has_control(r)}")


def needs_control_check(table: Table, col: Column) -> bool:
    """Ids, keys, references and required text: a control character there is rejected."""
    return (col.required or col.name in table.key
            or any(r.column == col.name for r in table.references))


def not_a_number(table: Table, col: Column, stages: Sequence[str],
                 options: ReadOptions) -> Check | None:
    if col.kind not in (Kind.NUMBER, Kind.INTEGER):
        return None
    p = parsed(col.name)
    return Check(NOT_A_NUMBER, col.name, f"{col.name} is not a number",
                 f"{raw(col.name)} IS NOT NULL AND ({p} IS NULL OR NOT isfinite({p}))")


def negative(table: Table, col: Column, stages: Sequence[str],
             options: ReadOptions) -> Check | None:
    if col.positive:
        return Check(NOT_POSITIVE, col.name, f"{col.name} must be greater than 0",
                     f"{parsed(col.name)} <= 0")
    if not col.non_negative:
        return None
    return Check(NEGATIVE, col.name, f"{col.name} must not be negative",
                 f"{parsed(col.name)} < 0")


def out_of_range(table: Table, col: Column, stages: Sequence[str],
                 options: ReadOptions) -> Check | None:
    integer = col.kind is Kind.INTEGER
    if col.minimum is None and col.maximum is None and not integer:
        return None
    p = parsed(col.name)
    tests = [f"{p} <> floor({p})"] if integer else []
    if col.minimum is not None:
        tests.append(f"{p} < {col.minimum!r}")
    if col.maximum is not None:
        tests.append(f"{p} > {col.maximum!r}")
    return Check(OUT_OF_RANGE, col.name, range_reason(col),
                 f"isfinite({p}) AND ({' OR '.join(tests)})")


def range_reason(col: Column) -> str:
    """'score must be an integer from 0 to 10', 'probability must be between 0 and 1', …"""
    lo, hi = col.minimum, col.maximum
    what = "an integer" if col.kind is Kind.INTEGER else "a number"
    if lo is not None and hi is not None:
        span = f"from {lo:g} to {hi:g}" if col.kind is Kind.INTEGER else f"between {lo:g} and {hi:g}"
        return f"{col.name} must be {what} {span}"
    if lo is not None:
        return f"{col.name} must be {what} of at least {lo:g}"
    if hi is not None:
        return f"{col.name} must be {what} of at most {hi:g}"
    return f"{col.name} must be an integer"


def bad_choice(table: Table, col: Column, stages: Sequence[str],
               options: ReadOptions) -> Check | None:
    if not col.choices:
        return None
    return Check(BAD_CHOICE, col.name, f"{col.name} must be one of {', '.join(col.choices)}",
                 f"{parsed(col.name)} NOT IN ({sql_list(col.choices)})")


def unknown_stage(table: Table, col: Column, stages: Sequence[str],
                  options: ReadOptions) -> Check | None:
    if (table.name, col.name) not in STAGE_COLUMNS:
        return None
    return Check(UNKNOWN_STAGE, col.name,
                 f"{col.name} is not a stage of a configured funnel ({', '.join(stages)})",
                 f"{raw(col.name)} IS NOT NULL AND {parsed(col.name)} IS NULL")


def required_when(table: Table, col: Column, stages: Sequence[str],
                  options: ReadOptions) -> Check | None:
    rule = REQUIRED_WHEN.get((table.name, col.name))
    if rule is None:
        return None
    other, values = rule
    empty = f"{raw(col.name)} IS NULL"
    if no_date(table, col, options):
        empty = f"({empty} OR {dates.placeholder(parsed(col.name))})"
    return Check(CLOSED_AT_REQUIRED if col.name == "closed_at" else MISSING_VALUE, col.name,
                 f"{col.name} is required when {other} is {' or '.join(values)}",
                 f"{empty} AND {parsed(other)} IN ({sql_list(values)})")


ColumnRule = Callable[[Table, Column, Sequence[str], ReadOptions], "Check | None"]
COLUMN_RULES: tuple[ColumnRule, ...] = (
    missing_value, bad_timestamp, undetermined_order, bad_offset, placeholder_date,
    implausible_date, not_a_number, negative, out_of_range, bad_choice, unknown_stage,
    required_when, control_character,
)


# ---- row rules: several columns -----------------------------------------------------------------
def end_before_start(table: Table, options: ReadOptions) -> list[Check]:
    """Each (start, end) pair of the table: the end must not precede the start. An end given
    as a date alone is a day: on the start's day it is valid (closed that day)."""
    checks = []
    for start, end in table.ordered:
        s, e = parsed(start), parsed(end)
        condition = (f"{e} < {s} AND NOT ({date_only(end)} AND "
                     f"CAST({e} AS DATE) = CAST({s} AS DATE))")
        col = table.column(end)
        if col is not None and no_date(table, col, options):
            condition += f" AND NOT {dates.placeholder(e)}"
        checks.append(Check(END_BEFORE_START, end, f"{end} is before {start}", condition))
    return checks


def date_only(column: str) -> str:
    """The file gave a date alone (no time of day) for `column`."""
    return f"coalesce(NOT contains({as_text(column)}, ':'), false)"


TABLE_RULES: tuple[Callable[[Table, ReadOptions], list[Check]], ...] = (end_before_start,)


def row_checks(table: Table, stages: Sequence[str],
               options: ReadOptions = ReadOptions()) -> list[Check]:
    """Every row rule of a table, in a fixed order (a check's position is its bit)."""
    checks = [c for col in table.columns for rule in COLUMN_RULES
              if (c := rule(table, col, stages, options)) is not None]
    for rule in TABLE_RULES:
        checks += rule(table, options)
    return checks


# ---- set rules ----------------------------------------------------------------------------------
def reference_checks(table: Table) -> list[Check]:
    """`column` must name a row of its target table, loaded now or before (SPEC §2)."""
    return [Check(UNKNOWN_REFERENCE, ref.column,
                  f"{ref.column} names no {singular(ref.table)} in this load or the workspace")
            for ref in table.references]


def duplicate_check(table: Table) -> Check | None:
    """Rows sharing a key but differing in any value: all of them are rejected."""
    if not table.key:
        return None
    key = ", ".join(table.key)
    subject = key if len(table.key) == 1 else f"key ({key})"
    return Check(DUPLICATE_KEY, key,
                 f"{subject} appears more than once in this load with different values")


def singular(table: str) -> str:
    """`opportunities` → `opportunity`, `leads` → `lead` (for reasons)."""
    return table[:-3] + "y" if table.endswith("ies") else table.removesuffix("s")


def set_checks(table: Table) -> list[Check]:
    """The set rules of a table, after its row rules."""
    dup = duplicate_check(table)
    return reference_checks(table) + ([dup] if dup else [])
