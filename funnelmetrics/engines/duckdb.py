"""DuckDB, the default engine: a workspace is one database file (tables in its `main` schema)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import ibis

from funnelmetrics.errors import ConfigError

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

NAME = "duckdb"
HAS_ASOF = True  # ASOF JOIN is DuckDB SQL (semantic/currency.py uses it)


def connect(target: str, *, read_only: bool = False) -> tuple[BaseBackend, Path | None]:
    """Open (or create) the database file; returns the connection and the folder beside it
    (where `funnelmetrics.toml` and the quarantine files live)."""
    path = Path(target)
    if read_only and not path.exists():
        raise ConfigError(f"{target}: no workspace here")
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    con = ibis.duckdb.connect(str(path), read_only=read_only)
    con.con.execute("SET TimeZone = 'UTC'")
    # DuckDB's own progress bar writes to stdout, which would corrupt JSON/CSV output.
    con.con.execute("SET enable_progress_bar = false")
    return con, path.resolve().parent


@ibis.udf.scalar.builtin(name="timezone")
def _timezone(zone: str, ts: dt.datetime) -> dt.datetime:  # pragma: no cover - builtin
    """DuckDB's timezone(zone, timestamptz): the local wall time of an instant."""


def to_local(ts: ir.TimestampValue, tz: str) -> ir.TimestampValue:
    utc = ts.cast(ibis.expr.datatypes.Timestamp(timezone="UTC"))
    return _timezone(tz, utc).cast("timestamp")


def create_table(con: BaseBackend, name: str, schema: dict[str, str]) -> None:
    con.create_table(name, schema=ibis.schema(dict(schema)))
