"""Set rules: checks that need other rows or tables, each one join over all of a table's stages.

Each function returns the SQL of the flagged rows as `(ord, bit)` pairs, or None when nothing
can be flagged (so the common, clean case costs one cheap aggregate).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from funnelmetrics.ingest.readers import ident
from funnelmetrics.ingest.stage import BAD, COPY_BIT, ORD
from funnelmetrics.schema import Reference


def unknown_references(ref: Reference, rows: str, bit: int) -> str:
    """Rows whose `ref.column` names no row of `ref.table` (loaded now, earlier or before)."""
    col, target = ident(ref.column), ident(ref.target)
    return (f"SELECT {ORD}, CAST({bit} AS BIGINT) FROM {rows} "
            f"WHERE {col} IS NOT NULL AND {col} NOT IN "
            f"(SELECT {target} FROM {ident(ref.table)} WHERE {target} IS NOT NULL)")


def data_columns(con: duckdb.DuckDBPyConnection, rows: str) -> list[str]:
    """The canonical and extra columns of a stage relation (not the internal ones)."""
    return [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {rows}").fetchall()
            if not r[0].startswith("__fm_")]


def duplicate_keys(con: duckdb.DuckDBPyConnection, key: Sequence[str], rows: str, bit: int,
                   hash_key: Sequence[str] = ()) -> str | None:
    """Rows sharing a key (null-safe): all of them when their values differ, else every copy
    but the first (an exact duplicate is kept once, not rejected). A keyless table passes all
    its columns as the key: then only copies are flagged.

    One pass over the key hashes (of `hash_key`, a part of the key, when given) finds the
    (usually no or few) repeated hashes; only rows with those are compared exactly, in
    `__fm_dups` (the caller drops it).
    """
    keys = ", ".join(ident(k) for k in key)
    hashed = ", ".join(ident(k) for k in (hash_key or key))
    # sorting the hashes and comparing neighbours is about twice as fast as a hash aggregate
    # over (nearly) all-distinct values
    con.execute(f"CREATE OR REPLACE TEMP TABLE __fm_duphash AS SELECT DISTINCT h FROM "
                f"(SELECT h, lag(h) OVER (ORDER BY h) AS before FROM "
                f"(SELECT hash({hashed}) AS h FROM {rows} WHERE {BAD} = 0)) WHERE h = before")
    try:
        if not con.execute("SELECT count(*) FROM __fm_duphash").fetchone()[0]:  # type: ignore[index]
            return None
        content = "struct_pack(" + ", ".join(f"{ident(c)} := {ident(c)}"
                                             for c in data_columns(con, rows)) + ")"
        con.execute(f"CREATE OR REPLACE TEMP TABLE __fm_dups AS SELECT {ORD}, {keys}, "
                    f"{content} AS __fm_content FROM {rows} WHERE {BAD} = 0 AND "
                    f"hash({hashed}) IN (SELECT h FROM __fm_duphash)")
    finally:
        con.execute("DROP TABLE IF EXISTS __fm_duphash")
    on = " AND ".join(f"x.{ident(k)} IS NOT DISTINCT FROM g.{ident(k)}" for k in key)
    return (f"SELECT x.{ORD}, CASE WHEN g.n > 1 THEN CAST({bit} AS BIGINT) "
            f"ELSE CAST({COPY_BIT} AS BIGINT) END FROM __fm_dups x JOIN "
            f"(SELECT {keys}, count(*) AS rows, count(DISTINCT __fm_content) AS n, "
            f"min({ORD}) AS first FROM __fm_dups GROUP BY ALL) g ON {on} "
            f"WHERE g.rows > 1 AND (g.n > 1 OR x.{ORD} <> g.first)")
