"""PostgreSQL: a workspace is one schema of a database, `postgres://user:pass@host:port/db`
(`?schema=NAME`, default `funnelmetrics`). The session runs in UTC, so a naive timestamp is a
UTC instant as everywhere else (SPEC §2)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
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
    """COPY the rows in (the fast path of psycopg 3), column by column name."""
    if not rows.num_rows:
        return
    names = ", ".join(f'"{_ident(c)}"' for c in rows.column_names)
    with cur.copy(f'COPY "{_ident(name)}" ({names}) FROM STDIN') as copy:
        for batch in rows.to_batches(max_chunksize=50_000):
            for row in zip(*(c.to_pylist() for c in batch.columns), strict=True):
                copy.write_row(row)
