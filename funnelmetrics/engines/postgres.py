"""PostgreSQL: a workspace is one schema of a database, `postgres://user:pass@host:port/db`
(`?schema=NAME`, default `funnelmetrics`). The session runs in UTC, so a naive timestamp is a
UTC instant as everywhere else (SPEC §2)."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import ibis

from funnelmetrics.errors import ConfigError

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa
    from ibis.backends import BaseBackend

NAME = "postgres"
HAS_ASOF = False  # no ASOF JOIN in PostgreSQL: rates join by a window (semantic/currency.py)
DEFAULT_SCHEMA = "funnelmetrics"
CONNECT_TIMEOUT_S = 10


def _where(url: Any) -> str:
    """host:port/db of a URL, never its password."""
    port = f":{url.port}" if url.port else ""
    return f"{url.hostname or 'localhost'}{port}{url.path or ''}"


def connect(target: str, *, read_only: bool = False) -> tuple[BaseBackend, Path | None]:
    url = urlsplit(target)
    query = {k: v[-1] for k, v in parse_qs(url.query).items()}
    schema = query.pop("schema", DEFAULT_SCHEMA)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", schema):
        raise ConfigError(f"postgres: schema {schema!r} is not a plain identifier")
    try:
        con = ibis.postgres.connect(
            host=url.hostname or "localhost", port=url.port or 5432,
            user=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            database=url.path.lstrip("/") or None, connect_timeout=CONNECT_TIMEOUT_S, **query)
    except Exception as exc:  # psycopg's OperationalError and the like: the server said no
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"postgres: cannot connect to {_where(url)} ({first})") from None
    with con.con.cursor() as cur:
        if not read_only:
            cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        cur.execute(f'SET search_path TO "{schema}"')
        cur.execute("SET TIME ZONE 'UTC'")
    con.con.commit()
    return con, None


@ibis.udf.scalar.builtin(name="timezone")
def _timezone(zone: str, ts: dt.datetime) -> dt.datetime:  # pragma: no cover - builtin
    """PostgreSQL's timezone(zone, timestamptz) (= `ts AT TIME ZONE zone`): local wall time."""


def to_local(ts: ir.TimestampValue, tz: str) -> ir.TimestampValue:
    utc = ts.cast(ibis.expr.datatypes.Timestamp(timezone="UTC"))
    return _timezone(tz, utc).cast("timestamp")


def create_table(con: BaseBackend, name: str, schema: Mapping[str, str]) -> None:
    con.create_table(name, schema=ibis.schema(dict(schema)))


def replace_tables(con: BaseBackend, tables: Mapping[str, pa.Table],
                   appended: Mapping[str, pa.Table]) -> None:
    """One transaction: each table of `tables` gets exactly those rows (new columns added as
    text), each of `appended` gets its rows added; a failure leaves every table as it was."""
    raw = con.con
    try:
        with raw.transaction(), raw.cursor() as cur:
            for name, rows in tables.items():
                _add_columns(cur, name, rows)
                cur.execute(f'DELETE FROM "{name}"')
                _copy(cur, name, rows)
            for name, rows in appended.items():
                _copy(cur, name, rows)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"postgres: the load was rolled back ({first})") from None


KEYS = "__fm_keys"  # a load's keys, a temporary table of the session
UPSERT = "__fm_upsert"  # a load's new and changed rows of one table, inside its transaction


def matching_rows(con: BaseBackend, name: str, columns: Sequence[str],
                  keys: pa.Table) -> pa.Table:
    """The stored rows of `name` whose `columns` equal one row of `keys`: the keys are copied
    into a temporary table typed like the stored columns, and the server does the semi-join."""
    raw = con.con
    cols = ", ".join(f'"{_ident(c)}"' for c in columns)
    with raw.transaction(), raw.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS pg_temp.{KEYS}")
        cur.execute(f'CREATE TEMP TABLE {KEYS} AS SELECT {cols} FROM "{_ident(name)}" LIMIT 0')
        _copy(cur, KEYS, keys)
        cur.execute(f"ANALYZE {KEYS}")
    try:
        match = " AND ".join(_same(f't."{_ident(c)}"', f'k."{_ident(c)}"', name, c)
                             for c in columns)
        return con.sql(f'SELECT t.* FROM "{_ident(name)}" t WHERE EXISTS '
                       f"(SELECT 1 FROM {KEYS} k WHERE {match})").to_pyarrow()
    finally:
        with raw.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS pg_temp.{KEYS}")


def merge_tables(con: BaseBackend, upserts: Mapping[str, tuple[Sequence[str], pa.Table]],
                 appended: Mapping[str, pa.Table]) -> None:
    """One transaction: in each table of `upserts` the given rows replace the stored rows with
    the same key (new columns added as text), and each table of `appended` gets its rows added;
    a failure leaves every table as it was."""
    raw = con.con
    try:
        with raw.transaction(), raw.cursor() as cur:
            for name, (key, rows) in upserts.items():
                if not rows.num_rows:
                    continue
                _add_columns(cur, name, rows)
                table = f'"{_ident(name)}"'
                cur.execute(f"DROP TABLE IF EXISTS pg_temp.{UPSERT}")
                cur.execute(f"CREATE TEMP TABLE {UPSERT} (LIKE {table}) ON COMMIT DROP")
                _copy(cur, UPSERT, rows)
                match = " AND ".join(_same(f't."{_ident(k)}"', f'u."{_ident(k)}"', name, k)
                                     for k in key)
                cur.execute(f"DELETE FROM {table} t USING {UPSERT} u WHERE {match}")
                names = ", ".join(f'"{_ident(c)}"' for c in rows.column_names)
                cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {UPSERT}")
                cur.execute(f"DROP TABLE {UPSERT}")
            for name, rows in appended.items():
                _copy(cur, name, rows)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"postgres: the load was rolled back ({first})") from None


def _same(left: str, right: str, table: str, column: str) -> str:
    """Key equality: `=` where the column is required (a hash join), null-safe elsewhere."""
    from funnelmetrics.schema import TABLES

    required = table in TABLES and column in TABLES[table].required
    return f"{left} = {right}" if required else f"{left} IS NOT DISTINCT FROM {right}"


def _add_columns(cur: Any, name: str, rows: pa.Table) -> None:
    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "AND table_schema = current_schema()", [name])
    have = {r[0] for r in cur.fetchall()}
    for column in rows.column_names:
        if column not in have:
            cur.execute(f'ALTER TABLE "{name}" ADD COLUMN "{_ident(column)}" TEXT')


def _ident(name: str) -> str:
    return name.replace('"', '""')


def _copy(cur: Any, name: str, rows: pa.Table) -> None:
    """COPY the rows in, column by column name, as CSV written by Arrow (in C++: a string is
    always quoted, a null is an unquoted empty field, which is PostgreSQL's CSV null)."""
    import pyarrow.csv as pacsv

    if not rows.num_rows:
        return
    names = ", ".join(f'"{_ident(c)}"' for c in rows.column_names)
    options = pacsv.WriteOptions(include_header=False, batch_size=50_000)
    with cur.copy(f'COPY "{_ident(name)}" ({names}) FROM STDIN WITH (FORMAT csv)') as copy:
        for batch in rows.to_batches(max_chunksize=50_000):
            sink = io.BytesIO()
            pacsv.write_csv(batch, sink, options)
            copy.write(sink.getvalue())
