"""Spark (PySpark): a workspace is a warehouse, `pyspark:///WAREHOUSE_DIR?spark.master=local[2]`
(a relative folder is relative to the current one; `pyspark:////abs/dir` is absolute). Every
`spark.*` setting of the URL passes through (`spark.master=spark://host:7077` reaches a cluster,
`spark.remote=sc://host` a Spark Connect server). The tables are managed Parquet tables of the
warehouse; unless the URL names another catalogue, their metastore is an embedded Derby database
inside the warehouse folder, so a later process (the next CLI command) finds them again.

Spark's session is one per process: a second warehouse in the same process is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import ibis

from funnelmetrics.errors import ConfigError

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa
    from ibis.backends import BaseBackend

NAME = "pyspark"
HAS_ASOF = False  # Ibis compiles no ASOF join for Spark SQL: rates join by a window
STAGING = "__fm_new_"  # a load's new table, before it replaces the table of the same name


def settings(target: str) -> tuple[Path, dict[str, str]]:
    """The warehouse folder and the Spark settings a URL names."""
    url = urlsplit(target)
    where = (url.netloc + url.path) if url.netloc else url.path
    folder = where[1:] if where.startswith("/") else where
    if not folder:
        raise ConfigError("pyspark: the URL names no warehouse folder "
                          "(pyspark:///WAREHOUSE_DIR?spark.master=local[2])")
    conf = {}
    for key, value in parse_qsl(url.query, keep_blank_values=True):
        if not key.startswith("spark."):
            raise ConfigError(f"pyspark: {key!r} is not a Spark setting (spark.*)")
        conf[key] = value
    warehouse = Path(folder).resolve()
    conf.setdefault("spark.master", "local[*]")
    conf.setdefault("spark.sql.warehouse.dir", str(warehouse))
    conf.setdefault("spark.sql.session.timeZone", "UTC")  # naive timestamps are UTC (SPEC §2)
    conf.setdefault("spark.ui.enabled", "false")
    conf.setdefault("spark.ui.showConsoleProgress", "false")  # stderr stays one-line errors
    if "spark.remote" not in conf and "spark.sql.catalogImplementation" not in conf:
        conf["spark.sql.catalogImplementation"] = "hive"
        conf["spark.hadoop.javax.jdo.option.ConnectionURL"] = (
            f"jdbc:derby:;databaseName={warehouse}/metastore_db;create=true")
        conf.setdefault("spark.driver.extraJavaOptions",
                        f"-Dderby.stream.error.file={warehouse}/derby.log")
    return warehouse, conf


def connect(target: str, *, read_only: bool = False) -> tuple[BaseBackend, Path | None]:
    from pyspark.sql import SparkSession

    warehouse, conf = settings(target)
    active = SparkSession.getActiveSession()
    if active is not None:
        current = active.conf.get("spark.sql.warehouse.dir", "")
        if Path(current.removeprefix("file:")).resolve() != warehouse:
            raise ConfigError(f"pyspark: this process already runs Spark on {current}; "
                              "one warehouse per process")
        session = active
    else:
        if not read_only:
            warehouse.mkdir(parents=True, exist_ok=True)
        elif not warehouse.exists() and "spark.remote" not in conf:
            raise ConfigError(f"pyspark: {warehouse}: no warehouse here")
        builder = SparkSession.builder
        for key, value in conf.items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # no Java, a cluster that does not answer…
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"pyspark: cannot start Spark ({first})") from None
        session.sparkContext.setLogLevel("ERROR")
    return ibis.pyspark.connect(session), None


@ibis.udf.scalar.builtin(name="from_utc_timestamp")
def _from_utc(ts: dt.datetime, zone: str) -> dt.datetime:  # pragma: no cover - builtin
    """Spark's from_utc_timestamp(ts, zone): the local wall time of a UTC instant."""


def to_local(ts: ir.TimestampValue, tz: str) -> ir.TimestampValue:
    return _from_utc(ts, tz).cast("timestamp")


def create_table(con: BaseBackend, name: str, schema: Mapping[str, str]) -> None:
    """A managed Parquet table of the warehouse."""
    con.create_table(name, schema=ibis.schema(dict(schema)), format="parquet")


def replace_tables(con: BaseBackend, tables: Mapping[str, pa.Table],
                   appended: Mapping[str, pa.Table]) -> None:
    """Spark has no multi-table transaction: every new table is written first, as a staging
    table (`__fm_new_<name>`), and only when all are written are they swapped in (drop the old,
    rename the new: metadata only). A failure while writing leaves every table as it was and
    drops the staging tables; the swap itself is a few catalogue operations per table."""
    session = con._session
    staged: list[str] = []
    try:
        for name, rows in {**tables, **appended}.items():
            old = session.table(f"`{name}`")
            new = _typed(session.createDataFrame(rows), old) if rows.num_rows else None
            if name in appended:
                frame = old if new is None else old.unionByName(new, allowMissingColumns=True)
            else:  # the whole table, as the load left it (every stored column included)
                frame = new if new is not None else old.limit(0)
            frame.write.format("parquet").mode("overwrite").saveAsTable(f"{STAGING}{name}")
            staged.append(name)
    except Exception as exc:
        for name in staged:
            session.sql(f"DROP TABLE IF EXISTS `{STAGING}{name}`")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"pyspark: the load was not written ({first})") from None
    for name in staged:
        session.sql(f"DROP TABLE IF EXISTS `{name}`")
        session.sql(f"ALTER TABLE `{STAGING}{name}` RENAME TO `{name}`")


def _typed(new: Any, old: Any) -> Any:
    """`new` with the stored table's column types where both have the column."""
    from pyspark.sql import functions as f

    types = {field.name: field.dataType for field in old.schema.fields}
    return new.select(*[f.col(f"`{c}`").cast(types[c]).alias(c) if c in types
                        else f.col(f"`{c}`").cast("string").alias(c) for c in new.columns])
