"""A day's load into a big workspace on PostgreSQL (and Spark local): the engine-side load
(`ingest/on_engine.py`: the stored rows sharing the load's keys asked of the engine, only the
new and changed rows written back by key) side by side with the whole-table way it replaced
(every stored table copied into a local DuckDB, checked there, each loaded table written back
whole), from the same stored data, with the same resulting tables.

    .venv/bin/python benchmarks/engine_loads.py --postgres postgres://postgres@127.0.0.1:5432/postgres
        [--leads 1000000] [--day 2000] [--spark-master local[2]] [--spark-leads 200000]
        [--out benchmarks/engine-loads.json]

The workspace: `--leads` leads with one stage event each (synthetic, valid), loaded by `ingest`
itself. The day: `--day` new leads with an event each, `--day` stored leads updated (a partial
file: lead_id, created_at, segment) and `--day` new events of stored leads, one load. Both ways
then hold the same rows (checked: counts and a checksum of every loaded table).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def write_workspace_files(folder: Path, leads: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    start = dt.datetime(2025, 1, 1)
    with (folder / "leads.csv").open("w") as f:
        f.write("lead_id,created_at,source\n")
        for i in range(leads):
            f.write(f"L{i},{(start + dt.timedelta(minutes=i)).isoformat()},"
                    f"{('web', 'ads', 'events')[i % 3]}\n")
    with (folder / "stage_events.csv").open("w") as f:
        f.write("lead_id,stage,occurred_at\n")
        for i in range(leads):
            f.write(f"L{i},mql,{(start + dt.timedelta(minutes=i, hours=5)).isoformat()}\n")


def write_day_files(folder: Path, leads: int, day: int) -> None:
    """New leads and their events, updated stored leads, new events of stored leads."""
    folder.mkdir(parents=True, exist_ok=True)
    when = dt.datetime(2027, 1, 1)
    with (folder / "leads.csv").open("w") as f:
        f.write("lead_id,created_at,segment\n")
        for i in range(day):
            f.write(f"N{i},{when.isoformat()},smb\n")
            f.write(f"L{(i * 7919) % leads},2025-01-01T00:00:00,ent\n")
    with (folder / "stage_events.csv").open("w") as f:
        f.write("lead_id,stage,occurred_at\n")
        for i in range(day):
            f.write(f"N{i},mql,{(when + dt.timedelta(hours=1)).isoformat()}\n")
            f.write(f"L{(i * 104729) % leads},sql,{(when + dt.timedelta(hours=2)).isoformat()}\n")


def whole_table_load(ws: Any, paths: list[Path]) -> Any:
    """The way loads on an engine ran before: every stored table copied into a local DuckDB,
    the load checked there, each loaded table written back whole by the engine."""
    import ibis

    from funnelmetrics.ingest import load
    from funnelmetrics.ingest.on_engine import _add_stored_columns, _arrow, _copy_in
    from funnelmetrics.ingest.readers import ident
    from funnelmetrics.schema import QUARANTINE_TABLE, TABLES

    shadow = type(ws)(ibis.duckdb.connect(), config=ws.config, directory=None,
                      location=":memory:")
    try:
        con = shadow.duckdb
        con.execute("SET TimeZone = 'UTC'")
        shadow.init(write_config=False)
        stored = set(ws.con.list_tables())
        _add_stored_columns(ws, con, [n for n in TABLES if n in stored])
        _copy_in(ws, con, stored)
        report = load(shadow, paths)
        tables = {n: _arrow(con, f"SELECT * FROM {ident(n)}") for n in TABLES
                  if n in report.tables}
        ws.engine.replace_tables(ws.con, tables, {
            QUARANTINE_TABLE: _arrow(con, f"SELECT * FROM {QUARANTINE_TABLE}")})
        return report
    finally:
        shadow.close()
        ws.forget()


def fingerprint(ws: Any) -> dict[str, Any]:
    """Row counts and an order-free checksum of the loaded tables, computed by the engine."""
    out = {}
    for name in ("leads", "stage_events"):
        t = ws.con.table(name)
        text = t.lead_id.concat("|", t[t.columns[1]].cast("string").fill_null(""), "|",
                                t[t.columns[2]].cast("string").fill_null(""))
        if name == "leads":
            text = text.concat("|", t.segment.fill_null(""))
        out[name] = {"rows": int(t.count().execute()),
                     "checksum": int(text.length().sum().execute()),
                     "distinct": int(text.nunique().execute())}
    return out


def one_engine(target: str, make_target: Any, folder: Path, leads: int, day: int
               ) -> dict[str, Any]:
    import funnelmetrics

    found: dict[str, Any] = {}
    prints = []
    for way in ("engine-side", "whole tables"):
        ws = funnelmetrics.open(make_target(way))
        try:
            ws.init()
            t0 = time.perf_counter()
            ws.ingest([folder / "workspace"])
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            if way == "engine-side":
                ws.ingest([folder / "day"])
            else:
                whole_table_load(ws, [folder / "day"])
            took = time.perf_counter() - t0
            prints.append(fingerprint(ws))
            found[way] = {"first load s": round(first, 2), "day's load s": round(took, 2)}
            print(f"{target} {way}: first load {first:.1f} s, day's load {took:.2f} s",
                  flush=True)
        finally:
            ws.close()
    found["same tables"] = prints[0] == prints[1]
    found["tables"] = prints[0]
    found["whole / engine-side"] = round(found["whole tables"]["day's load s"]
                                         / found["engine-side"]["day's load s"], 1)
    return found


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--postgres", required=True)
    p.add_argument("--leads", type=int, default=1_000_000)
    p.add_argument("--day", type=int, default=2000)
    p.add_argument("--spark-master")
    p.add_argument("--spark-leads", type=int, default=200_000)
    p.add_argument("--work", type=Path, default=Path("/tmp/fm-engine-loads"))
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="minutes"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load "
                   f"{os.getloadavg()[0]:.1f} at start", "day": args.day}
    data = args.work / f"pg-{args.leads}"
    write_workspace_files(data / "workspace", args.leads)
    write_day_files(data / "day", args.leads, args.day)
    stamp = int(time.time())
    results["postgres"] = {"leads": args.leads, **one_engine(
        "postgres", lambda way: f"{args.postgres}?schema=loads_{way[0]}_{stamp}", data,
        args.leads, args.day)}
    if args.spark_master:
        data = args.work / f"spark-{args.spark_leads}"
        write_workspace_files(data / "workspace", args.spark_leads)
        write_day_files(data / "day", args.spark_leads, args.day)
        # one Spark session per process: both ways in one warehouse, one after the other
        warehouse = args.work / f"warehouse-{stamp}"
        results["spark"] = {"leads": args.spark_leads, **spark_both(
            f"pyspark:///{warehouse.resolve()}?spark.master={args.spark_master}", data, args)}
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


def spark_both(target: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Spark keeps one warehouse per process: each way's tables are dropped before the next."""
    import funnelmetrics
    from funnelmetrics.schema import QUARANTINE_TABLE, TABLES

    def reset(ws: Any) -> None:
        for name in [*TABLES, QUARANTINE_TABLE]:
            ws.con._session.sql(f"DROP TABLE IF EXISTS `{name}`")
        ws.forget()

    ws = funnelmetrics.open(target)
    reset(ws)
    ws.close()
    return one_engine("spark", lambda way: _after_reset(target, reset), folder,
                      args.spark_leads, args.day)


def _after_reset(target: str, reset: Any) -> str:
    import funnelmetrics

    ws = funnelmetrics.open(target)
    reset(ws)
    ws.close()
    return target


if __name__ == "__main__":
    main()
