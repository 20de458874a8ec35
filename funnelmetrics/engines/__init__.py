"""The engines a workspace can live on, and everything that differs between them, one module each:
`duckdb` (a file, the default), `pyspark` (a Spark warehouse: `pyspark:///DIR?spark.master=…`)
and `postgres` (a schema of a PostgreSQL database: `postgres://user:pass@host:port/db`).

Each module declares the same few things: how a `--db` target opens (`connect`), where the
workspace's tables live and how they are created (`create_table`), the local wall time of a UTC
instant in a named zone (`to_local`), whether the engine has an as-of join (`HAS_ASOF`). The
engines other than DuckDB also declare what a load asks of them (`ingest.on_engine`): the stored
rows that share a key with the load (`matching_rows`, a semi-join in the engine), and the
all-or-nothing write of its new and changed rows (`merge_tables`, by key) or of whole tables
(`replace_tables`). Nothing above the connection asks which engine it runs on; it asks this
package.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from funnelmetrics.errors import ConfigError

if TYPE_CHECKING:
    import ibis.expr.types as ir

SCHEMES = {"duckdb": "duckdb", "pyspark": "pyspark", "spark": "pyspark",
           "postgres": "postgres", "postgresql": "postgres"}


def is_url(target: str) -> bool:
    return "://" in target


def for_name(name: str) -> ModuleType:
    """The module of an engine, by its Ibis backend name (`duckdb`, `pyspark`, `postgres`)."""
    if name == "duckdb":
        from funnelmetrics.engines import duckdb as module
    elif name == "pyspark":
        from funnelmetrics.engines import pyspark as module
    elif name == "postgres":
        from funnelmetrics.engines import postgres as module
    else:
        raise ConfigError(f"{name}: not an engine funnelmetrics runs on (duckdb, pyspark, "
                          "postgres)")
    return module


def for_target(target: str) -> ModuleType:
    """The engine a `--db` target names: a URL's scheme, else a DuckDB file."""
    if not is_url(target):
        return for_name("duckdb")
    scheme = urlsplit(target).scheme.lower()
    if scheme not in SCHEMES:
        raise ConfigError(f"{target.split('://')[0]}://: unknown engine; use a DuckDB file, "
                          "pyspark:///WAREHOUSE_DIR or postgres://user:pass@host:port/db")
    return for_name(SCHEMES[scheme])


def of_expr(expr: ir.Expr) -> str:
    """The name of the backend an expression's tables are bound to (DuckDB when it has none,
    e.g. an expression over in-memory tables only)."""
    try:
        return expr._find_backend(use_default=False).name
    except Exception:  # noqa: BLE001 - unbound (memtables only): compiled wherever it runs
        return "duckdb"


def to_local(ts: ir.TimestampValue, tz: str) -> ir.TimestampValue:
    """The local wall time in `tz` of a naive-UTC timestamp column, on the column's engine."""
    return for_name(of_expr(ts)).to_local(ts, tz)


def has_asof(name: str) -> bool:
    return bool(for_name(name).HAS_ASOF)
