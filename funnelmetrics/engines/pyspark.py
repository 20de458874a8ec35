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
from collections.abc import Mapping, Sequence
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


def matching_rows(con: BaseBackend, name: str, columns: Sequence[str],
                  keys: pa.Table) -> pa.Table:
    """The stored rows of `name` whose `columns` equal one row of `keys` (a left semi-join in
    Spark; the keys typed like the stored columns)."""
    session = con._session
    view = "__fm_keys"
    old = session.table(f"`{name}`")
    _typed(session.createDataFrame(keys), old).createOrReplaceTempView(view)
    try:
        match = " AND ".join(f"t.`{c}` <=> k.`{c}`" for c in columns)
        return con.sql(f"SELECT t.* FROM `{name}` t LEFT SEMI JOIN {view} k "
                       f"ON {match}").to_pyarrow()
    finally:
        session.catalog.dropTempView(view)


def merge_tables(con: BaseBackend, upserts: Mapping[str, tuple[Sequence[str], pa.Table]],
                 appended: Mapping[str, pa.Table]) -> None:
    """In each table of `upserts` the given rows replace the stored rows with the same key;
    each table of `appended` gets its rows added. Each changed table is rebuilt in Spark — the
    stored rows with none of the keys (an anti-join) and the new rows — as a staging table,
    swapped in once all are written (see `_swap_in`)."""
    from pyspark.sql import functions as f

    session = con._session
    frames = {}
    for name, (key, rows) in upserts.items():
        if not rows.num_rows:
            continue
        old = session.table(f"`{name}`")
        new = _typed(session.createDataFrame(rows), old)
        if old.isEmpty():  # a first load: nothing to keep (and no join to plan)
            frames[name] = old.unionByName(new, allowMissingColumns=True)
            continue
        keys = new.select(*[f.col(f"`{k}`").alias(f"__k{i}") for i, k in enumerate(key)])
        kept = old.join(keys, on=[old[f"`{k}`"].eqNullSafe(keys[f"__k{i}"])
                                  for i, k in enumerate(key)], how="left_anti")
        frames[name] = kept.unionByName(new, allowMissingColumns=True)
    for name, rows in appended.items():
        old = session.table(f"`{name}`")
        frames[name] = (old.unionByName(_typed(session.createDataFrame(rows), old),
                                        allowMissingColumns=True) if rows.num_rows else old)
    _swap_in(session, frames)


def replace_tables(con: BaseBackend, tables: Mapping[str, pa.Table],
                   appended: Mapping[str, pa.Table]) -> None:
    """Each table of `tables` gets exactly those rows, each of `appended` gets its rows added
    (see `_swap_in`)."""
    session = con._session
    frames = {}
    for name, rows in {**tables, **appended}.items():
        old = session.table(f"`{name}`")
        new = _typed(session.createDataFrame(rows), old) if rows.num_rows else None
        if name in appended:
            frames[name] = old if new is None else old.unionByName(new, allowMissingColumns=True)
        else:  # the whole table, as the load left it (every stored column included)
            frames[name] = new if new is not None else old.limit(0)
    _swap_in(session, frames)


def _swap_in(session: Any, frames: Mapping[str, Any]) -> None:
    """Spark has no multi-table transaction: every new table is written first, as a staging
    table (`__fm_new_<name>`), and only when all are written are they swapped in (drop the old,
    rename the new: metadata only). A failure while writing leaves every table as it was and
    drops the staging tables; the swap itself is a few catalogue operations per table."""
    staged: list[str] = []
    try:
        for name, frame in frames.items():
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
