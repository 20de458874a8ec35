"""A load into a workspace on another engine (Spark, PostgreSQL): the same validation, rules
and quarantine as on DuckDB, with the stored data asked of the engine and the merge done there.

What runs where:
- **The files are read locally**: they are the user's (CSV, Excel, Parquet, JSON, gzip, the
  encodings and date forms of SPEC §2), read by DuckDB's readers into stage tables of a local
  in-memory DuckDB, where the row rules are evaluated as they are scanned (`ingest.staging`).
- **The stored rows a load is checked against come from the engine, and only those**: once the
  files are staged, the load's keys (and the ids its references name) are sent to the engine as a
  temporary table, and the engine answers with the stored rows that share a key with the load
  (a semi-join there: `engines.<engine>.matching_rows`) — the rows a load may update, and the
  parents (a stage event's lead, a deal event's opportunity) its references must find. The set
  rules (unknown references, conflicting duplicate keys) and the merge of partial rows then run
  over the staged rows and that subset exactly as on DuckDB, so every message and count is the
  same.
- **The merge is written by the engine, all or nothing**: the rows the load added or changed
  (the subset after the load, less the subset before it) go to the engine with the table's key,
  and the engine replaces the stored rows with those keys (`engines.<engine>.merge_tables`): one
  transaction on PostgreSQL (rows copied into a temporary table, then DELETE … USING and INSERT …
  SELECT); on Spark, each changed table is rebuilt in the engine (stored rows with none of the
  keys, an anti-join, plus the new rows) into a staging table, and the staging tables are swapped
  in only when every one is written. The quarantine lines are appended in the same step.

So a load moves rows in proportion to the files, not to the workspace: loading a day's leads into
a warehouse of ten million reads and writes that day's rows (plus, on Spark, the rewrite of the
changed tables' Parquet files, which Spark does itself). `--replace-missing` is the exception: a
snapshot load compares the export with every stored key, so it copies the loaded tables (and
their dependents) whole, and writes them back whole.

A dry run (`check`), a failure or a `--strict` load with rejected rows writes nothing to the
engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis

from funnelmetrics.ingest.readers import ident
from funnelmetrics.ingest.stage import union
from funnelmetrics.schema import QUARANTINE_TABLE, TABLES

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from funnelmetrics.connection import Connection as Workspace
    from funnelmetrics.ingest.load import Plan
    from funnelmetrics.ingest.report import LoadReport

BEFORE = "__fm_before_"  # + a table's name: the stored subset as the engine gave it


def load_on_engine(ws: Workspace, paths: list[Path], **options: Any) -> LoadReport:
    """`ingest.load` for a workspace whose engine is not DuckDB (see the module docstring)."""
    from funnelmetrics.ingest import load

    shadow = type(ws)(ibis.duckdb.connect(), config=ws.config, directory=None,
                      location=":memory:")
    try:
        con = shadow.duckdb
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        shadow.init(write_config=False)
        stored = set(ws.con.list_tables())
        whole = bool(options.get("replace_missing"))
        if whole:
            _add_stored_columns(ws, con, [name for name in TABLES if name in stored])
            _copy_in(ws, con, stored)
        fetch = None if whole else _Fetch(ws, stored)
        report = load(shadow, paths, prepare=fetch, **options)  # strict + rejected: raises
        if not report.dry_run:
            # the loaded tables, and those a snapshot load removed rows of (a removed deal's
            # events: `--replace-missing`'s cascade)
            changed = [name for name in TABLES
                       if name in report.tables or name in report.removed]
            appended = {QUARANTINE_TABLE: _arrow(con, f"SELECT * FROM {QUARANTINE_TABLE}")}
            if fetch is None:
                tables = {name: _arrow(con, f"SELECT * FROM {ident(name)}") for name in changed}
                ws.engine.replace_tables(ws.con, tables, appended)
            else:
                upserts = {name: (identity(name), fetch.changed(con, name))
                           for name in changed}
                ws.engine.merge_tables(ws.con, upserts, appended)
        return report
    finally:
        shadow.close()
        ws.forget()


def identity(name: str) -> tuple[str, ...]:
    """The columns that tell a table's rows apart: its key, or every canonical column of a
    table without one (an engagement event is its own identity, SPEC §2)."""
    table = TABLES[name]
    return table.key or tuple(table.names)


class _Fetch:
    """`load`'s `prepare` step: the stored rows the staged files are checked against, from the
    engine into the local workspace (and a copy of them, to tell what the load changed)."""

    def __init__(self, ws: Workspace, stored: set[str]) -> None:
        self.ws = ws
        self.stored = stored
        self.empty: dict[str, bool] = {}

    def __call__(self, con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
        wanted: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for table, staged in plan:
            rows = union(staged)
            key = identity(table.name)  # the stored rows the load may update (or repeat)
            wanted.setdefault((table.name, key), []).append(
                f"SELECT {', '.join(ident(k) for k in key)} FROM {rows}")
            for ref in table.references:  # the parents its references must find
                wanted.setdefault((ref.table, (ref.target,)), []).append(
                    f"SELECT {ident(ref.column)} AS {ident(ref.target)} FROM {rows}")
        touched = {name for name, _ in wanted}
        _add_stored_columns(self.ws, con, [n for n in TABLES if n in self.stored and n in touched])
        for (name, columns), parts in wanted.items():
            if name in self.stored:
                self._fetch(con, name, columns, parts)
        for table, _ in plan:  # what the tables held before the load (to write only changes)
            con.execute(f"CREATE TEMP TABLE {ident(BEFORE + table.name)} AS "
                        f"SELECT * FROM {ident(table.name)}")

    def _fetch(self, con: duckdb.DuckDBPyConnection, name: str, columns: tuple[str, ...],
               parts: list[str]) -> None:
        cols = ", ".join(ident(c) for c in columns)
        required = [c for c in columns if c in TABLES[name].required]
        present = " AND ".join(f"{ident(c)} IS NOT NULL" for c in required) or "true"
        keys = _arrow(con, f"SELECT DISTINCT {cols} FROM ({' UNION ALL '.join(parts)}) "
                      f"WHERE {present}")
        if not keys.num_rows or self._empty(name):
            return
        rows = self.ws.engine.matching_rows(self.ws.con, name, columns, keys)
        if not rows.num_rows:
            return
        match = " AND ".join(f"t.{ident(k)} IS NOT DISTINCT FROM r.{ident(k)}"
                             for k in identity(name))
        con.register("__fm_engine_rows", rows)
        try:  # a row fetched twice (a lead both loaded and referenced) is kept once
            con.execute(f"INSERT INTO {ident(name)} BY NAME SELECT * FROM __fm_engine_rows r "
                        f"WHERE NOT EXISTS (SELECT 1 FROM {ident(name)} t WHERE {match})")
        finally:
            con.unregister("__fm_engine_rows")

    def _empty(self, name: str) -> bool:
        """Whether the engine's table has no row (a first load: nothing to ask for)."""
        if name not in self.empty:
            self.empty[name] = not self.ws.con.table(name).limit(1).count().execute()
        return self.empty[name]

    def changed(self, con: duckdb.DuckDBPyConnection, name: str) -> pa.Table:
        """The rows of `name` the load added or changed (the table less what it held before;
        a column the load added is null in the rows from before)."""
        now = _columns(con, name)
        before = set(_columns(con, BEFORE + name))
        then = ", ".join(ident(c) if c in before else f"NULL AS {ident(c)}" for c in now)
        return _arrow(con, f"SELECT * FROM {ident(name)} EXCEPT "
                           f"SELECT {then} FROM {ident(BEFORE + name)}")


def _arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    return con.execute(sql).to_arrow_table()


def _columns(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    return [d[0] for d in con.execute(f"SELECT * FROM {ident(name)} LIMIT 0").description]


def _add_stored_columns(ws: Workspace, con: duckdb.DuckDBPyConnection,
                        names: list[str]) -> None:
    """The extra attribute columns earlier loads added to these tables of the engine (text),
    so a load's merge sees every stored column even where it fetched no row."""
    for name in names:
        have = {c.lower() for c in _columns(con, name)}
        for column in ws.con.table(name).columns:
            if column.lower() not in have:
                con.execute(f"ALTER TABLE {ident(name)} ADD COLUMN {ident(column)} VARCHAR")


def _copy_in(ws: Workspace, con: duckdb.DuckDBPyConnection, stored: set[str]) -> None:
    """The workspace's canonical tables, whole, into the local workspace (`--replace-missing`)."""
    for name in TABLES:
        if name not in stored:
            continue
        rows = ws.con.table(name).to_pyarrow()
        if rows.num_rows:
            con.register("__fm_engine_rows", rows)
            try:
                con.execute(f"INSERT INTO {ident(name)} BY NAME SELECT * FROM __fm_engine_rows")
            finally:
                con.unregister("__fm_engine_rows")
