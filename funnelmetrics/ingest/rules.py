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

from funnelmetrics.schema import Column, Kind, Table

# Stable codes: `check`, `ingest` and the API report problems by these.
MISSING_VALUE = "missing_value"
BAD_TIMESTAMP = "bad_timestamp"
NOT_A_NUMBER = "not_a_number"
NEGATIVE = "negative_amount"
OUT_OF_RANGE = "out_of_range"
BAD_CHOICE = "bad_choice"
UNKNOWN_STAGE = "unknown_stage"
END_BEFORE_START = "end_before_start"
CLOSED_AT_REQUIRED = "closed_at_required"
UNKNOWN_REFERENCE = "unknown_reference"
DUPLICATE_KEY = "duplicate_key"

# Columns whose values must be a configured funnel stage (deal stages are free text).
STAGE_COLUMNS: frozenset[tuple[str, str]] = frozenset({("stage_events", "stage")})
# Opportunities that are closed need a close date (SPEC §2: closed_at "required unless open").
REQUIRED_WHEN: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("opportunities", "closed_at"): ("status", ("won", "lost")),
}
TIMESTAMP_EXAMPLE = "e.g. 2026-01-31 or 2026-01-31T14:00:00+07:00"


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


def sql_list(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


# ---- row rules: one column ----------------------------------------------------------------------
def missing_value(table: Table, col: Column, stages: Sequence[str]) -> Check | None:
    if not col.required:
        return None
    return Check(MISSING_VALUE, col.name, f"{col.name} is required but empty",
                 f"{raw(col.name)} IS NULL")


def bad_timestamp(table: Table, col: Column, stages: Sequence[str]) -> Check | None:
    if col.kind is not Kind.TIMESTAMP:
        return None
    return Check(BAD_TIMESTAMP, col.name,
                 f"{col.name} is not an ISO 8601 date or date-time ({TIMESTAMP_EXAMPLE})",
                 f"{raw(col.name)} IS NOT NULL AND {parsed(col.name)} IS NULL")


def not_a_number(table: Table, col: Column, stages: Sequence[str]) -> Check | None:
    if col.kind not in (Kind.NUMBER, Kind.INTEGER):
        return None
    p = parsed(col.name)
    return Check(NOT_A_NUMBER, col.name, f"{col.name} is not a number",
                 f"{raw(col.name)} IS NOT NULL AND ({p} IS NULL OR NOT isfinite({p}))")


def negative(table: Table, col: Column, stages: Sequence[str]) -> Check | None:
    if not col.non_negative:
        return None
    return Check(NEGATIVE, col.name, f"{col.name} must not be negative",
                 f"{parsed(col.name)} < 0")


def out_of_range(table: Table, col: Column, stages: Sequence[str]) -> Check | None:
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


def bad_choice(table: Table, col: Column, stages: Sequence[str]) -> Check | None:
    if not col.choices:
        return None
    return Check(BAD_CHOICE, col.name, f"{col.name} must be one of {', '.join(col.choices)}",
                 f"{parsed(col.name)} NOT IN ({sql_list(col.choices)})")


def unknown_stage(table: Table, col: Column, stages: Sequence[str]) -> Check | None:
    if (table.name, col.name) not in STAGE_COLUMNS:
        return None
    return Check(UNKNOWN_STAGE, col.name,
                 f"{col.name} is not a stage of a configured funnel ({', '.join(stages)})",
                 f"{raw(col.name)} IS NOT NULL AND {parsed(col.name)} IS NULL")


def required_when(table: Table, col: Column, stages: Sequence[str]) -> Check | None:
    rule = REQUIRED_WHEN.get((table.name, col.name))
    if rule is None:
        return None
    other, values = rule
    return Check(CLOSED_AT_REQUIRED if col.name == "closed_at" else MISSING_VALUE, col.name,
                 f"{col.name} is required when {other} is {' or '.join(values)}",
                 f"{raw(col.name)} IS NULL AND {parsed(other)} IN ({sql_list(values)})")


ColumnRule = Callable[[Table, Column, Sequence[str]], "Check | None"]
COLUMN_RULES: tuple[ColumnRule, ...] = (
    missing_value, bad_timestamp, not_a_number, negative, out_of_range, bad_choice,
    unknown_stage, required_when,
)


# ---- row rules: several columns -----------------------------------------------------------------
def end_before_start(table: Table) -> list[Check]:
    """Each (start, end) pair of the table: the end must not precede the start."""
    return [Check(END_BEFORE_START, end, f"{end} is before {start}",
                  f"{parsed(end)} < {parsed(start)}")
            for start, end in table.ordered]


TABLE_RULES: tuple[Callable[[Table], list[Check]], ...] = (end_before_start,)


def row_checks(table: Table, stages: Sequence[str]) -> list[Check]:
    """Every row rule of a table, in a fixed order (a check's position is its bit)."""
    checks = [c for col in table.columns for rule in COLUMN_RULES
              if (c := rule(table, col, stages)) is not None]
    for rule in TABLE_RULES:
        checks += rule(table)
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
