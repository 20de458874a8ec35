"""The quarantine: every rejected row, one line per broken rule, kept in a table and a CSV file.

SPEC §2: a rejected row is never dropped silently. Lines carry the file, the row number as the
user sees it, the column, the reason, the offending value and the row's original text (`raw`).
The quarantine keeps everything: each load adds its lines (stamped with its `loaded_at`) and
writes its own files, so loading a file again never removes or overwrites an earlier load's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import duckdb

from funnelmetrics.errors import InputError
from funnelmetrics.ingest.readers import ident, sql_str
from funnelmetrics.ingest.report import Problem
from funnelmetrics.ingest.rules import DUPLICATE_KEY, Check, has_control
from funnelmetrics.ingest.stage import BAD, FILE, RAW, ROW
from funnelmetrics.schema import QUARANTINE_COLUMNS, QUARANTINE_TABLE, Table

PROBLEMS = "__fm_problems"
CSV_COLUMNS = ["file", "table_name", "row_number", "column_name", "code", "reason", "value", "raw"]


def create_problems(con: duckdb.DuckDBPyConnection) -> None:
    """The load's problem lines (the quarantine table has no `code` column, so keep it here)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {PROBLEMS} (file VARCHAR, table_name VARCHAR, "
                "row_number BIGINT, column_name VARCHAR, code VARCHAR, reason VARCHAR, "
                "value VARCHAR, raw VARCHAR)")


def _value_sql(check: Check, table: Table) -> str:
    """The offending value of one check: the column's text (the key for a duplicate), with
    control characters escaped as JSON does (`\\u0000`), never stored raw."""
    if check.code == DUPLICATE_KEY:
        value = "concat_ws(', ', " + ", ".join(f"CAST({ident(k)} AS VARCHAR)"
                                              for k in table.key) + ")"
    else:
        path = sql_str(f'$."{check.column}"')
        value = (f"coalesce(json_extract_string({RAW}, {path}), "
                 f"CAST({ident(check.column)} AS VARCHAR))")
    escaped = f"CAST(to_json({value}) AS VARCHAR)"
    return (f"CASE WHEN {has_control(value)} THEN substr({escaped}, 2, strlen({escaped}) - 2) "
            f"ELSE {value} END")


def collect(con: duckdb.DuckDBPyConnection, table: Table, rows: str, checks: Sequence[Check],
            files: Sequence[str]) -> None:
    """Append one problem line per (rejected row, broken check) of `rows` (the bad rows)."""
    raw_row = (f"coalesce({RAW}, CAST(to_json(struct_pack("
               + ", ".join(f"{ident(c)} := {ident(c)}" for c in table.names) + ")) AS VARCHAR))")
    file_case = "CASE " + " ".join(f"WHEN {FILE} = {i} THEN {sql_str(f)}"
                                   for i, f in enumerate(files)) + " END"
    selects = [
        f"SELECT {file_case}, {sql_str(table.name)}, {ROW}, {sql_str(c.column)}, "
        f"{sql_str(c.code)}, {sql_str(c.reason)}, {_value_sql(c, table)}, {raw_row} "
        f"FROM {rows} WHERE ({BAD} & CAST({1 << i} AS BIGINT)) <> 0"
        for i, c in enumerate(checks)
    ]
    if selects:
        con.execute(f"INSERT INTO {PROBLEMS} " + " UNION ALL ".join(selects))


def store(con: duckdb.DuckDBPyConnection, loaded_at: datetime) -> None:
    """Add this load's lines to the quarantine table (earlier loads' lines are kept)."""
    cols = ", ".join(ident(c) for c in QUARANTINE_COLUMNS if c != "loaded_at")
    con.execute(f'INSERT INTO "{QUARANTINE_TABLE}" (loaded_at, {cols}) '
                f"SELECT TIMESTAMP {sql_str(loaded_at.isoformat(sep=' '))}, {cols} "
                f"FROM {PROBLEMS}")


def write_csv(con: duckdb.DuckDBPyConnection, file: str, path: Path) -> bool:
    """Write one input file's problem lines to `path` (a new file for each load); False when
    the file had none."""
    # (literals, not parameters: a parameterised statement is slow here the first time)
    count = con.execute(f"SELECT count(*) FROM {PROBLEMS} WHERE file = {sql_str(file)}").fetchone()
    if not count or not count[0]:
        return False
    cols = ", ".join(CSV_COLUMNS)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY (SELECT {cols} FROM {PROBLEMS} WHERE file = {sql_str(file)} "
                    f"ORDER BY row_number, column_name) TO {sql_str(str(path))} "
                    "(HEADER, DELIMITER ',')")
    except (OSError, duckdb.IOException) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: cannot write the quarantine file ({reason})") from None
    return True


def problems(con: duckdb.DuckDBPyConnection, limit: int) -> tuple[list[Problem], bool]:
    """The first `limit` problem lines of the load (by file and row), and whether there are more."""
    rows = con.execute(f"SELECT file, row_number, column_name, code, reason, value FROM {PROBLEMS} "
                       f"ORDER BY file, row_number, column_name LIMIT {limit + 1}").fetchall()
    return [Problem(*r) for r in rows[:limit]], len(rows) > limit
