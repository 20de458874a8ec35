"""The funnel suite (benchmarks/suite.py: 19 monthly queries) on DuckDB, PostgreSQL and PySpark
local, from one workspace: same figures (to 1e-9) and the time of each engine.

    .venv/bin/python benchmarks/engines.py --data /work/benchdata/csv-10000000-seed7-end2026-07-01
        [--every 10] [--postgres postgres://user@127.0.0.1:5432/db] [--spark-master local[2]]
        [--work /tmp/fm-engines]

`--every K` keeps one lead in K (by a hash of lead_id, so every month keeps its share) with its
stage events, opportunities and their stage events (K=1: the whole data). The DuckDB workspace is
filled straight from the CSV files (the generator's data is valid: this times the queries, not
ingest), then its tables are copied to PostgreSQL (COPY of CSV, one schema) and to a Spark
warehouse (managed Parquet tables); each engine is then opened through its `--db` URL, as a user
would, and runs the suite one metric at a time, twice (cold, then warm). Without `--postgres`
the PostgreSQL step is left out, with `--skip-spark` the Spark one.

Measured 2026-12-07 on this 2-core machine shared with other jobs (load average 9-14),
`--every 20` (499,769 leads, 466,579 stage events, 40,920 opportunities, 135,374 deal stage
events): benchmarks/engines-500k.json; `--every 4 --skip-spark` (2,500,203 leads):
benchmarks/engines-2.5m.json; the whole 10M (`--every 1`), PostgreSQL and Spark in two runs:
benchmarks/engines-10m-pg.json, benchmarks/engines-10m-spark.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

TABLES = ("leads", "stage_events", "opportunities", "deal_stage_events", "fx_rates")
START, END = dt.date(2024, 7, 1), dt.date(2026, 6, 30)


def build_duckdb(data: Path, every: int, db: Path) -> dict[str, int]:
    """The sampled workspace as a DuckDB file; returns its row counts."""
    import funnelmetrics

    ws = funnelmetrics.open(db)
    con = ws.duckdb
    keep = "" if every == 1 else f"WHERE hash(lead_id) % {every} = 0"

    def csv(name: str) -> str:
        return f"read_csv('{data / f'{name}.csv'}', header=true, auto_detect=true)"

    def insert(table: str, source: str) -> None:
        """The source's columns that the table has (extra attributes are left out), instants
        read as UTC."""
        kinds = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE "
                                 f"table_name = '{table}' AND database_name <> 'temp'").fetchall())
        have = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        cols = [f'"{c}"::TIMESTAMPTZ::TIMESTAMP AS "{c}"' if kinds[c] == "TIMESTAMP"
                else f'"{c}"' for c in have if c in kinds]
        con.execute(f'INSERT INTO "{table}" BY NAME SELECT {", ".join(cols)} FROM {source}')

    con.execute(f"CREATE TEMP TABLE picked AS SELECT * FROM {csv('leads')} {keep}")
    insert("leads", "picked")
    insert("stage_events", f"(SELECT * FROM {csv('stage_events')} "
                           "WHERE lead_id IN (SELECT lead_id FROM picked))")
    con.execute(f"CREATE TEMP TABLE opps AS SELECT * FROM {csv('opportunities')} "
                "WHERE lead_id IN (SELECT lead_id FROM picked)")
    insert("opportunities", "opps")
    insert("deal_stage_events", f"(SELECT * FROM {csv('deal_stage_events')} "
                                "WHERE opportunity_id IN (SELECT opportunity_id FROM opps))")
    insert("fx_rates", csv("fx_rates"))
    counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in TABLES}
    ws.close()
    return counts


def copy_to_postgres(db: Path, url: str, schema: str) -> str:
    """The workspace's tables in `schema` (created anew), each by one COPY of CSV text."""
    import duckdb
    import psycopg

    import funnelmetrics

    target = f"{url}?schema={schema}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    funnelmetrics.open(target).close()  # the schema and its canonical tables
    src = duckdb.connect(str(db), read_only=True)
    with psycopg.connect(url) as pg, pg.cursor() as cur:
        for table in TABLES:
            names = [r[0] for r in src.execute(
                f"SELECT column_name FROM duckdb_columns() WHERE table_name = '{table}' "
                "ORDER BY column_index").fetchall()]
            path = db.parent / f"{table}.csv"
            src.execute(f"COPY \"{table}\" TO '{path}' (HEADER, FORMAT csv)")
            cols = ", ".join(f'"{n}"' for n in names)
            with cur.copy(f'COPY "{schema}"."{table}" ({cols}) FROM STDIN (FORMAT csv, '
                          "HEADER)") as copy, path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            path.unlink()
        cur.execute('ANALYZE')
    src.close()
    return target


def copy_to_spark(db: Path, warehouse: Path, master: str, memory: str = "4g"
                  ) -> tuple[str, object]:
    """The workspace's tables as managed Parquet tables of a Spark warehouse."""
    import duckdb

    import funnelmetrics

    target = (f"pyspark:///{warehouse}?spark.master={master}"
              f"&spark.sql.shuffle.partitions=8&spark.driver.memory={memory}")
    ws = funnelmetrics.open(target)
    session = ws.con._session
    src = duckdb.connect(str(db), read_only=True)
    for table in TABLES:
        path = db.parent / f"{table}.parquet"
        src.execute(f"COPY \"{table}\" TO '{path}' (FORMAT parquet)")
        frame = session.read.parquet(str(path))
        stored = session.table(table)
        frame = frame.select(*[frame[c].cast(stored.schema[c].dataType).alias(c)
                               for c in stored.columns])
        frame.write.format("parquet").mode("overwrite").saveAsTable(f"__fm_new_{table}")
        session.sql(f"DROP TABLE `{table}`")
        session.sql(f"ALTER TABLE `__fm_new_{table}` RENAME TO `{table}`")
    src.close()
    ws.forget()
    return target, ws


def run_suite(ws: object) -> tuple[dict, list[float]]:
    from suite import suite

    results, rounds = {}, []
    for _ in range(2):
        t0 = time.perf_counter()
        for item in suite():
            results[item.key] = ws.metric(item.metric, grain="month", start=START, end=END,
                                          **item.kwargs)
        rounds.append(time.perf_counter() - t0)
    return results, rounds


def spark_step(db: Path, args: argparse.Namespace, reference: dict) -> dict:
    """The Spark part: copy into the warehouse, then the suite through its URL."""
    from suite import compare

    t0 = time.perf_counter()
    _, ws = copy_to_spark(db, args.work / "warehouse", args.spark_master, args.spark_memory)
    copied = round(time.perf_counter() - t0, 1)
    results, rounds = run_suite(ws)
    found = {"copy": copied, "cold": round(rounds[0], 2), "warm": round(rounds[1], 2),
             "differences": len(compare(reference, results)), "master": args.spark_master}
    print("pyspark", found, flush=True)
    return found


def main() -> None:
    from suite import compare

    import funnelmetrics

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--every", type=int, default=10)
    p.add_argument("--postgres")
    p.add_argument("--spark-master", default="local[2]")
    p.add_argument("--spark-memory", default="4g", help="spark.driver.memory (local mode: the "
                   "executor's too)")
    p.add_argument("--work", type=Path, default=Path("/tmp/fm-engines"))
    p.add_argument("--skip-spark", action="store_true")
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    db = args.work / "w.duckdb"
    for stale in (db, Path(f"{db}.wal")):
        stale.unlink(missing_ok=True)
    report: dict = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "every": args.every, "cores": os.cpu_count(),
                    "load_start": [round(x, 2) for x in os.getloadavg()]}
    t0 = time.perf_counter()
    report["rows"] = build_duckdb(args.data, args.every, db)
    report["build_seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(report), flush=True)
    ws = funnelmetrics.open(db, read_only=True)
    reference, rounds = run_suite(ws)
    ws.close()
    report["duckdb"] = {"cold": round(rounds[0], 2), "warm": round(rounds[1], 2)}
    print("duckdb", report["duckdb"], flush=True)
    if args.postgres:
        t0 = time.perf_counter()
        target = copy_to_postgres(db, args.postgres, "bench_engines")
        copied = round(time.perf_counter() - t0, 1)
        ws = funnelmetrics.open(target, read_only=True)
        results, rounds = run_suite(ws)
        ws.close()
        report["postgres"] = {"copy": copied, "cold": round(rounds[0], 2),
                              "warm": round(rounds[1], 2),
                              "differences": len(compare(reference, results))}
        print("postgres", report["postgres"], flush=True)
    if not args.skip_spark:
        report["pyspark"] = spark_step(db, args, reference)
    report["load_end"] = [round(x, 2) for x in os.getloadavg()]
    for engine in ("postgres", "pyspark"):
        if engine in report:
            report[engine]["warm_ratio_to_duckdb"] = round(
                report[engine]["warm"] / report["duckdb"]["warm"], 1)
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
