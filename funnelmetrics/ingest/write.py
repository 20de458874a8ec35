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
from funnelmetrics.ingest.stage import BAD, FILE, FILE_SHIFT, INTERNAL, ORD, Staged
from funnelmetrics.schema import Table


def table_columns(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    return [r[0] for r in con.execute(
        f"SELECT name FROM pragma_table_info({sql_str(name)}) ORDER BY cid").fetchall()]


def is_empty(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return con.execute(f"SELECT 1 FROM {ident(name)} LIMIT 1").fetchone() is None


def store(con: duckdb.DuckDBPyConnection, table: Table, staged: Sequence[Staged],
          rows: str, *, replace_rows: bool = False) -> None:
    """Write the accepted rows of `rows` (the staged rows with all their rule bits).

    A stored row replaced by a file without some of the table's columns keeps its values of
    those columns (a file of `lead_id,created_at` leaves rep and source alone); `replace_rows`
    replaces whole rows instead (a column the file lacks becomes empty)."""
    if len(staged) == 1 and not staged[0].temporary and can_adopt(con, table):
        adopt(con, table, staged[0], rows)
    else:
        insert(con, table, staged, rows, replace_rows=replace_rows)


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
           rows: str, *, replace_rows: bool = False) -> None:
    """Insert the accepted rows of `rows`, replacing stored rows with the same key (keeping
    their values of the columns a file lacks, unless `replace_rows`)."""
    extras = add_extra_columns(con, table, staged)
    names = ", ".join(ident(c) for c in [*table.names, *extras])
    target = ident(table.name)
    accepted = f"SELECT {names} FROM {rows} WHERE {BAD} = 0"  # copies within the load: flagged
    if is_empty(con, table.name):
        con.execute(f"INSERT INTO {target} ({names}) {accepted}")
        return
    if not table.key:  # a row is its own identity: add only rows not stored yet
        con.execute(f"INSERT INTO {target} ({names}) {accepted} EXCEPT SELECT {names} "
                    f"FROM {target}")
        return
    keys = ", ".join(ident(k) for k in table.key)
    match = " AND ".join(f"{target}.{ident(k)} IS NOT DISTINCT FROM k.{ident(k)}"
                         for k in table.key)
    merged = None if replace_rows else _merged(con, table, staged, rows)
    if merged is not None:  # read the stored values kept before their rows are deleted
        con.execute(f"CREATE OR REPLACE TEMP TABLE {MERGED} AS {merged[1]}")
        names, accepted = merged[0], f"SELECT * FROM {MERGED}"
    try:
        con.execute(f"DELETE FROM {target} USING (SELECT DISTINCT {keys} FROM {rows} "
                    f"WHERE {BAD} = 0) k WHERE {match}")
        con.execute(f"INSERT INTO {target} ({names}) {accepted}")
    finally:
        if merged is not None:
            con.execute(f"DROP TABLE IF EXISTS {MERGED}")


MERGED = "__fm_merged"


def _merged(con: duckdb.DuckDBPyConnection, table: Table, staged: Sequence[Staged],
            rows: str) -> tuple[str, str] | None:
    """(columns, SELECT) of the accepted rows where each column a file lacks takes the stored
    row's value (NULL for a new key); None when every file has every stored column."""
    stored = table_columns(con, table.name)
    has = [{c.lower() for c in [*s.layout.canonical, *s.layout.extras]} for s in staged]
    canonical = {c.lower() for c in table.names}
    select, partial = [], False
    for column in stored:
        files = [i for i, cols in enumerate(has) if column.lower() in cols]
        c = ident(column)
        if len(files) == len(staged):
            select.append(f"s.{c}")
            continue
        partial = True
        # a new key takes the stage's value (its default, e.g. contract_months 12), or none
        new = f"s.{c}" if column.lower() in canonical else "NULL"
        kept = f"CASE WHEN t.{STORED} THEN t.{c} ELSE {new} END"
        select.append(kept if not files else f"CASE WHEN s.{FILE} IN "
                      f"({', '.join(map(str, files))}) THEN s.{c} ELSE {kept} END")
    if not partial:
        return None
    match = " AND ".join(f"t.{ident(k)} IS NOT DISTINCT FROM s.{ident(k)}" for k in table.key)
    columns = ", ".join(ident(c) for c in stored)
    return columns, (f"SELECT {', '.join(select)} FROM {rows} s LEFT JOIN (SELECT *, true AS "
                     f"{STORED} FROM {ident(table.name)}) t ON {match} WHERE s.{BAD} = 0")


STORED = "__fm_stored"


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
