"""`--replace-missing`: a newer export of the same object is the whole truth (issue 13 item 5).

The canonical tables have no deleted flag (SPEC §2), so a stored record whose key is not in the
new export is removed, in the load's own transaction (all or nothing), with the events that
hang on it (a removed opportunity's deal stage events, a removed lead's stage events and
touchpoints). A record present in the export but rejected keeps its stored version.
"""

from __future__ import annotations

import duckdb

from funnelmetrics.ingest.readers import ident
from funnelmetrics.schema import TABLES, Table


def remove_missing(con: duckdb.DuckDBPyConnection, table: Table, rows: str,
                   removed: dict[str, int]) -> int:
    """Delete stored rows of `table` whose key is not among `rows` (every row of the export,
    accepted or rejected) and their dependents; counts go to `removed` (table → rows)."""
    if not table.key:
        return 0
    target = ident(table.name)
    match = " AND ".join(f"k.{ident(c)} IS NOT DISTINCT FROM {target}.{ident(c)}"
                         for c in table.key)
    n = _count(con.execute(f"DELETE FROM {target} WHERE NOT EXISTS (SELECT 1 FROM {rows} k "
                           f"WHERE {match})"))
    removed[table.name] = removed.get(table.name, 0) + n
    if n:
        for child in TABLES.values():
            for ref in child.references:
                if ref.table == table.name:
                    gone = _count(con.execute(
                        f"DELETE FROM {ident(child.name)} WHERE {ident(ref.column)} NOT IN "
                        f"(SELECT {ident(ref.target)} FROM {target})"))
                    if gone:
                        removed[child.name] = removed.get(child.name, 0) + gone
    return n


def _count(cur: duckdb.DuckDBPyConnection) -> int:
    row = cur.fetchone()
    return int(row[0]) if row else 0
