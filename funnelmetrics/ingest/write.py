"""Writing accepted rows: replace stored rows by key, add extra attribute columns (SPEC §2).

A keyed table gets delete-by-key then insert, so loading a file again changes nothing and a newer
row replaces the older one. A keyless table (engagement_events) adds only rows not stored yet.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from funnelmetrics.ingest.readers import ident, sql_str
from funnelmetrics.ingest.stage import BAD, Staged
from funnelmetrics.schema import Table


def table_columns(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    return [r[0] for r in con.execute(
        f"SELECT name FROM pragma_table_info({sql_str(name)}) ORDER BY cid").fetchall()]


def is_empty(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return con.execute(f"SELECT 1 FROM {ident(name)} LIMIT 1").fetchone() is None


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
