"""Hand-made journeys: a tiny workspace from a readable literal (à la PostHog's `journeys_for`).

    ws = journeys(tmp_path, {
        "A": [("lead", "2026-01-01"), ("mql", "2026-01-03"), ("won", "2026-02-20")],
        "B": [("lead", "2026-01-10"), ("sql", "2026-01-15")],
    }, leads={"A": {"source": "web"}},
       opportunities=[{"opportunity_id": "O1", "lead_id": "A", "created_at": "2026-01-20",
                       "status": "won", "amount": 1000, "closed_at": "2026-02-20"}])

A journey is the lead's events in any order: the funnel's first stage (`lead`, or `signup` for
the product-led funnel) is the lead's `created_at`, every other stage a `stage_events` row.
Instants are ISO 8601 text: a date alone is 00:00 UTC, `2026-01-31T20:00` is UTC too (SPEC §2,
timestamps are stored naive UTC). Rows are inserted straight into the canonical tables (no ingest
validation): these are fixtures for the metric engine, not for the loader.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import funnelmetrics
from funnelmetrics.schema import TABLES
from funnelmetrics.workspace import Workspace

# Backends the metric suite can run on; `duckdb` always (the `backend` fixture picks from these).
DUCKDB = "duckdb"
POSTGRES_URL: str | None = None  # the session's PostgreSQL server (conftest.postgres_server)
_schemas = 0  # workspaces copied to it so far (each gets its own schema)

Journey = Sequence[tuple[str, str]]


def ts(value: str | dt.datetime | None) -> dt.datetime | None:
    """ISO text → naive UTC datetime (a trailing Z or offset is converted to UTC)."""
    if value is None or isinstance(value, dt.datetime):
        return value
    moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def _insert(ws: Workspace, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
    rows = list(rows)
    if not rows:
        return
    kinds = {c.name: c.kind.value for c in TABLES[table].columns}
    columns = list(dict.fromkeys(k for row in rows for k in row))
    unknown = [c for c in columns if c not in kinds]
    if unknown:
        raise ValueError(f"{table}: unknown columns {unknown} (extra attributes need ALTER)")
    values = [[ts(row.get(c)) if kinds[c] == "timestamp" else row.get(c) for c in columns]
              for row in rows]
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    ws.duckdb.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', values)


def _first_stages(config: funnelmetrics.Config) -> set[str]:
    return {f.first for f in config.funnels}


def _lead_rows(events: Mapping[str, Journey], leads: Mapping[str, Mapping[str, Any]],
               firsts: set[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    lead_rows: dict[str, dict[str, Any]] = {}
    stage_rows: list[dict[str, Any]] = []
    for lead_id in dict.fromkeys([*events, *leads]):
        row: dict[str, Any] = {"lead_id": lead_id, **leads.get(lead_id, {})}
        for stage, when in events.get(lead_id, ()):
            if stage in firsts:
                row["created_at"] = when
            else:
                stage_rows.append({"lead_id": lead_id, "stage": stage, "occurred_at": when})
        if row.get("created_at") is None:
            raise ValueError(f"lead {lead_id!r}: no ('lead', date) event and no created_at")
        lead_rows[lead_id] = row
    return list(lead_rows.values()), stage_rows


def _opportunity_rows(opportunities: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for i, opp in enumerate(opportunities, start=1):
        row = {"opportunity_id": f"O{i}", "status": "open", **opp}
        missing = {"created_at", "amount"} - set(row)
        if missing:
            raise ValueError(f"opportunity {row['opportunity_id']}: missing {sorted(missing)}")
        out.append(row)
    return out


def _quota_rows(quotas: Sequence[Sequence[Any] | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """(rep_id, period_start, period_end, amount) tuples or dicts."""
    keys = ("rep_id", "period_start", "period_end", "amount")
    return [dict(q) if isinstance(q, Mapping) else dict(zip(keys, q, strict=True))
            for q in quotas]


def _keyed(rows: Mapping[str, Mapping[str, Any]], key: str) -> list[dict[str, Any]]:
    return [{key: k, **v} for k, v in rows.items()]


def journeys(directory: str | Path, events: Mapping[str, Journey] | None = None, *,
             leads: Mapping[str, Mapping[str, Any]] | None = None,
             opportunities: Sequence[Mapping[str, Any]] = (),
             quotas: Sequence[Sequence[Any] | Mapping[str, Any]] = (),
             reps: Mapping[str, Mapping[str, Any]] | None = None,
             accounts: Mapping[str, Mapping[str, Any]] | None = None,
             campaigns: Mapping[str, Mapping[str, Any]] | None = None,
             deal_stage_events: Sequence[Mapping[str, Any]] = (),
             timezone: str | None = None, config: funnelmetrics.Config | None = None,
             backend: str = DUCKDB) -> Workspace:
    """A fresh workspace in `directory` holding exactly the rows described."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "journeys.duckdb"
    if db.exists():
        raise ValueError(f"{db} exists: one journeys() workspace per directory")
    if timezone is not None:
        config = (config or funnelmetrics.Config()).model_copy(update={"timezone": timezone})
    ws = funnelmetrics.open(db, config=config)
    lead_rows, stage_rows = _lead_rows(events or {}, leads or {}, _first_stages(ws.config))
    _insert(ws, "leads", lead_rows)
    _insert(ws, "stage_events", stage_rows)
    _insert(ws, "opportunities", _opportunity_rows(opportunities))
    _insert(ws, "quotas", _quota_rows(quotas))
    _insert(ws, "reps", _keyed(reps or {}, "rep_id"))
    _insert(ws, "accounts", _keyed(accounts or {}, "account_id"))
    _insert(ws, "campaigns", _keyed(campaigns or {}, "campaign_id"))
    _insert(ws, "deal_stage_events", deal_stage_events)
    if backend == DUCKDB:
        return ws
    return _copy_to(ws, backend)


def _copy_to(ws: Workspace, backend: str) -> Workspace:
    """The same rows on another Ibis backend (the second engine of the backend matrix)."""
    import ibis

    if backend == "pyspark":
        session = _spark().newSession()  # its own temporary views: one workspace each
        for name in ws.con.list_tables():
            session.createDataFrame(ws.con.table(name).to_pyarrow()).createOrReplaceTempView(name)
        con = ibis.pyspark.connect(session)
        location = f"{backend}://"
    elif backend == "postgres":
        return _copy_to_postgres(ws)
    else:
        raise ValueError(f"no journeys() support for backend {backend!r}")
    return Workspace(con, config=ws.config, directory=None, location=location)


def _copy_to_postgres(ws: Workspace) -> Workspace:
    """The workspace's tables, with their rows and column types, in a schema of its own on the
    session's PostgreSQL server (`POSTGRES_URL`, set by the `backend` fixture): one transaction
    of CREATE TABLE and COPY statements, then the workspace opened on that schema."""
    from ibis.backends.sql.datatypes import PostgresType

    global _schemas
    if POSTGRES_URL is None:
        raise ValueError("no PostgreSQL server: use the `backend` fixture")
    _schemas += 1
    schema = f"ws_{os.getpid()}_{_schemas}"
    admin = _postgres_admin()
    with admin.transaction(), admin.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
        for name in ws.con.list_tables():
            table = ws.con.table(name)
            columns = ", ".join(f'"{c}" {PostgresType.from_ibis(t).sql("postgres")}'
                                for c, t in table.schema().items())
            cur.execute(f'CREATE TABLE "{schema}"."{name}" ({columns})')
            rows = table.to_pyarrow()
            if not rows.num_rows:
                continue
            names = ", ".join(f'"{c}"' for c in rows.column_names)
            with cur.copy(f'COPY "{schema}"."{name}" ({names}) FROM STDIN') as copy:
                for row in zip(*(c.to_pylist() for c in rows.columns), strict=True):
                    copy.write_row(row)
    return funnelmetrics.open(f"{POSTGRES_URL}?schema={schema}", config=ws.config,
                              read_only=True)


_admin: Any = None


def _postgres_admin() -> Any:
    """One plain connection to the session's server, for creating the test workspaces."""
    global _admin
    if _admin is None or _admin.closed:
        import psycopg

        _admin = psycopg.connect(POSTGRES_URL, autocommit=True)
    return _admin


def _spark() -> Any:
    """One local Spark for the test run: UTC, no UI, a fresh warehouse directory (a reused one
    fails with LOCATION_ALREADY_EXISTS)."""
    import tempfile

    from pyspark.sql import SparkSession

    return (SparkSession.builder.master("local[2]")
            .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="spark-warehouse-"))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .getOrCreate())


def row_for(df: Any, period: str | dt.date, **dims: Any) -> Any:
    """The row of `df` for one period (and dimension values), as a dict."""
    period = dt.date.fromisoformat(period) if isinstance(period, str) else period
    mask = df["period_start"] == period
    for name, wanted in dims.items():
        mask &= df[name].isna() if wanted is None else df[name] == wanted
    rows = df[mask]
    if len(rows) != 1:
        raise AssertionError(f"{len(rows)} rows for {period} {dims}:\n{df}")
    return rows.iloc[0].to_dict()


def values(df: Any) -> list[Any]:
    """The `value` column with NaN as None ("no data")."""
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else v
            for v in df["value"]]


def by(df: Any, period: str, dim: str) -> dict[Any, Any]:
    """{dimension value: value} for one period, NaN as None."""
    rows = df[df.period_start.astype(str) == period]
    return {k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in zip(rows[dim], rows["value"], strict=True)}
