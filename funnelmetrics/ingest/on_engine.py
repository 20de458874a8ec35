"""A load into a workspace on another engine (Spark, PostgreSQL): the same validation, rules
and quarantine as on DuckDB, then an all-or-nothing write by the engine.

The rules of `ingest` are DuckDB SQL over its readers (CSV, Excel, Parquet, JSON, gzip, the
encodings and date forms of SPEC §2), so they run in a local in-memory DuckDB that holds a copy
of the workspace's canonical tables (the references and keys a load is checked against). The
tables the load changed are then written back by the engine's `replace_tables`
(`funnelmetrics.engines`): one transaction on PostgreSQL; on Spark, staging tables written
first and swapped in only when every one is written. A dry run (`check`), a failure or a
`--strict` load with rejected rows writes nothing to the engine.

What this costs: each load reads the workspace's tables once and writes back each table it
loads whole, so it suits the loads of a CRM copy (millions of rows), not a data lake's bulk
import (load those tables with the engine's own tools, then `check` a sample here).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis

from funnelmetrics.schema import QUARANTINE_TABLE, TABLES

if TYPE_CHECKING:
    from funnelmetrics.connection import Connection as Workspace
    from funnelmetrics.ingest.report import LoadReport


def load_on_engine(ws: Workspace, paths: list[Path], **options: Any) -> LoadReport:
    """`ingest.load` for a workspace whose engine is not DuckDB (see the module docstring)."""
    from funnelmetrics.ingest import load

    shadow = type(ws)(ibis.duckdb.connect(), config=ws.config, directory=None,
                      location=":memory:")
    try:
        shadow.duckdb.execute("SET TimeZone = 'UTC'")
        shadow.duckdb.execute("SET enable_progress_bar = false")
        shadow.init(write_config=False)
        _copy_in(ws, shadow)
        report = load(shadow, paths, **options)  # strict with rejected rows: raises, no write
        if not report.dry_run:
            changed = [name for name in TABLES if name in report.tables]
            tables = {name: shadow.con.table(name).to_pyarrow() for name in changed}
            appended = {QUARANTINE_TABLE: shadow.con.table(QUARANTINE_TABLE).to_pyarrow()}
            ws.engine.replace_tables(ws.con, tables, appended)
        return report
    finally:
        shadow.close()
        ws.forget()


def _copy_in(ws: Workspace, shadow: Workspace) -> None:
    """The workspace's canonical tables, with their extra attribute columns, into the shadow."""
    stored = set(ws.con.list_tables())
    con = shadow.duckdb
    for name in TABLES:
        if name not in stored:
            continue
        rows = ws.con.table(name).to_pyarrow()
        have = {r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [name]).fetchall()}
        for column in rows.column_names:
            if column not in have:
                quoted = column.replace('"', '""')
                con.execute(f'ALTER TABLE "{name}" ADD COLUMN "{quoted}" VARCHAR')
        if rows.num_rows:
            con.register("__fm_engine_rows", rows)
            try:
                con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM __fm_engine_rows')
            finally:
                con.unregister("__fm_engine_rows")
    shadow.forget()
