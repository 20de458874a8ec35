"""Writing accepted rows: replace stored rows by key, add extra attribute columns (SPEC §2).

A keyed table gets delete-by-key then insert, so loading a file again changes nothing and a newer
row replaces the older one. A keyless table (engagement_events) adds only rows not stored yet.
An empty table loaded from one file is replaced by that file's stage instead (`adopt`): the stage
already holds the rows in the table's own columns and types, so they are written only once.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from funnelmetrics.ingest.readers import ident, sql_str
from funnelmetrics.ingest.stage import BAD, FILE_SHIFT, INTERNAL, ORD, Staged
from funnelmetrics.schema import Table


def table_columns(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    return [r[0] for r in con.execute(
        f"SELECT name FROM pragma_table_info({sql_str(name)}) ORDER BY cid").fetchall()]


def is_empty(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return con.execute(f"SELECT 1 FROM {ident(name)} LIMIT 1").fetchone() is None


def store(con: duckdb.DuckDBPyConnection, table: Table, staged: Sequence[Staged],
          rows: str) -> None:
    """Write the accepted rows of `rows` (the staged rows with all their rule bits)."""
    if len(staged) == 1 and not staged[0].temporary and can_adopt(con, table):
        adopt(con, table, staged[0], rows)
    else:
        insert(con, table, staged, rows)


def can_adopt(con: duckdb.DuckDBPyConnection, table: Table) -> bool:
    """The table is empty, has only its contract columns and no index: a stage may replace it."""
    indexed = con.execute(f"SELECT count(*) FROM duckdb_indexes() WHERE schema_name = 'main' "
                          f"AND table_name = {sql_str(table.name)}").fetchone()
    return (not (indexed and indexed[0]) and is_empty(con, table.name)
            and table_columns(con, table.name) == table.names)


def adopt(con: duckdb.DuckDBPyConnection, table: Table, stage: Staged, rows: str) -> None:
    """Turn a committed stage into the (empty) table: drop the internal columns, delete the
    rows not accepted, swap names. Metadata only, except for the delete markers.

    (DuckDB refuses a column change after a row change in one transaction, hence this order.)
    """
    mask = (1 << FILE_SHIFT) - 1
    con.execute(f"CREATE OR REPLACE TEMP TABLE __fm_drop AS SELECT ({ORD} & {mask}) + "
                f"{stage.base} AS rid FROM {rows} WHERE {BAD} <> 0")
    try:
        present = set(table_columns(con, stage.name))
        for column in INTERNAL:
            if column in present:
                con.execute(f"ALTER TABLE {stage.name} DROP COLUMN {column}")
        if con.execute("SELECT count(*) FROM __fm_drop").fetchone()[0]:  # type: ignore[index]
            con.execute(f"DELETE FROM {stage.name} WHERE rowid IN (SELECT rid FROM __fm_drop)")
    finally:
        con.execute("DROP TABLE IF EXISTS __fm_drop")
    con.execute(f"DROP TABLE {ident(table.name)}")
    con.execute(f"ALTER TABLE {stage.name} RENAME TO {ident(table.name)}")


def insert(con: duckdb.DuckDBPyConnection, table: Table, staged: Sequence[Staged],
           rows: str) -> None:
    """Insert the accepted rows of `rows`, replacing stored rows with the same key."""
    extras = add_extra_columns(con, table, staged)
    names = ", ".join(ident(c) for c in [*table.names, *extras])
    target = ident(table.name)
    accepted = f"SELECT {names} FROM {rows} WHERE {BAD} = 0"  # copies within the load: flagged
    if is_empty(con, table.name):
        con.execute(f"INSERT INTO {target} ({names}) {accepted}")
    elif not table.key:  # a row is its own identity: add only rows not stored yet
        con.execute(f"INSERT INTO {target} ({names}) {accepted} EXCEPT SELECT {names} "
                    f"FROM {target}")
    else:
        keys = ", ".join(ident(k) for k in table.key)
        match = " AND ".join(f"{target}.{ident(k)} IS NOT DISTINCT FROM k.{ident(k)}"
                             for k in table.key)
        con.execute(f"DELETE FROM {target} USING (SELECT DISTINCT {keys} FROM {rows} "
                    f"WHERE {BAD} = 0) k WHERE {match}")
        con.execute(f"INSERT INTO {target} ({names}) {accepted}")


def add_extra_columns(con: duckdb.DuckDBPyConnection, table: Table,
                      staged: Sequence[Staged]) -> list[str]:
    """Extra attributes of the files become VARCHAR columns of the table (SPEC §2)."""
    existing = {c.lower() for c in table_columns(con, table.name)}
    extras: list[str] = []
    for s in staged:
        for extra in s.layout.extras:
            if extra.lower() in {x.lower() for x in extras}:
                continue
            extras.append(extra)
            if extra.lower() not in existing:
                con.execute(f"ALTER TABLE {ident(table.name)} ADD COLUMN {ident(extra)} VARCHAR")
                existing.add(extra.lower())
    return extras
