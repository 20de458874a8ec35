"""One benchmark step, run in its own process by benchmarks/run.py so that its peak memory
(VmHWM) is its own:

    .venv/bin/python benchmarks/steps.py STEP SPEC.json OUT.json

STEP is ingest_validated, ingest_raw, suite_funnelmetrics, suite_sql or suite_pandas; SPEC holds
its arguments. OUT receives {"runs": [{"seconds": …, "cpu": …, …}], "maxrss_mib": …, "load": [before,
after]}; suite steps also pickle their first run's results (for the cross-checks) to SPEC's
"results" path. With "suite": "revenue" in SPEC, suite_funnelmetrics and suite_sql time the
revenue suite (benchmarks/bench_revenue.py) instead of the funnel suite.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import resource
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.append(str(HERE.parent))  # after PYTHONPATH: a scratch copy can stand in


def _fresh(db: Path) -> None:
    """Remove a DuckDB file, its WAL and a quarantine directory beside it."""
    for p in (db, db.with_name(db.name + ".wal")):
        p.unlink(missing_ok=True)
    shutil.rmtree(db.parent / "quarantine", ignore_errors=True)


def ingest_validated(spec: dict) -> dict:
    import funnelmetrics

    db = Path(spec["db"])
    _fresh(db)
    t0, c0 = time.perf_counter(), time.process_time()
    ws = funnelmetrics.open(db)
    report = ws.ingest([Path(f) for f in spec["files"]])
    ws.close()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    tables = report.to_json()["tables"]
    return {"seconds": seconds, "cpu": cpu,
            "rejected": sum(t["rejected"] for t in tables.values()),
            "tables": {k: v["accepted"] for k, v in tables.items()}}


def ingest_raw(spec: dict) -> dict:
    import duckdb

    db = Path(spec["db"])
    _fresh(db)
    t0, c0 = time.perf_counter(), time.process_time()
    con = duckdb.connect(str(db))
    for f in spec["files"]:
        name = Path(f).stem
        con.execute(f"CREATE TABLE \"{name}\" AS SELECT * FROM read_csv('{f}')")
    con.close()
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}


def _dates(spec: dict) -> tuple[dt.date, dt.date]:
    return dt.date.fromisoformat(spec["start"]), dt.date.fromisoformat(spec["end"])


def _suite_runs(spec: dict, setup: Callable[[], object],
                once: Callable[[object], tuple[dict, dict]]) -> list[dict]:
    """`inner` runs of the suite in this process (the first cold, later ones warm)."""
    t0 = time.perf_counter()
    handle = setup()
    opened = time.perf_counter() - t0
    runs = []
    for i in range(spec.get("inner", 2)):
        t0, c0 = time.perf_counter(), time.process_time()
        results, per_item = once(handle)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        runs.append({"seconds": seconds, "cpu": cpu, "open_seconds": opened if i == 0 else 0.0,
                     "items": per_item})
        if i == 0 and spec.get("results"):
            Path(spec["results"]).write_bytes(pickle.dumps(results))
    return runs


def _items(spec: dict) -> list:
    """The metric items of SPEC's suite: "funnel" (default) or "revenue" (bench_revenue.py)."""
    from suite import revenue_suite, suite

    return revenue_suite() if spec.get("suite") == "revenue" else suite()


def suite_funnelmetrics(spec: dict, *, batch: bool = False) -> list[dict]:
    """The suite through `ws.metric`, one call per item; with `batch`, all of them in one
    `ws.batch()` announced with `ws.prepare` first (what `ws.metrics` and a multi-metric
    `funnelmetrics metric` call do; its time is the item `(prepare)`)."""
    import contextlib

    import funnelmetrics

    start, end = _dates(spec)
    items = _items(spec)

    def once(ws: funnelmetrics.Workspace) -> tuple[dict, dict]:
        results, seconds = {}, {}
        with ws.batch() if batch else contextlib.nullcontext():
            if batch:
                t0 = time.perf_counter()
                ws.prepare([(item.metric, dict(grain="month", start=start, end=end,
                                               **item.kwargs)) for item in items])
                seconds["(prepare)"] = time.perf_counter() - t0
            for item in items:
                t0 = time.perf_counter()
                results[item.key] = ws.metric(item.metric, grain="month", start=start, end=end,
                                              **item.kwargs)
                seconds[item.key] = time.perf_counter() - t0
        return results, seconds

    return _suite_runs(spec, lambda: funnelmetrics.open(spec["db"], read_only=True), once)


def suite_batch(spec: dict) -> list[dict]:
    return suite_funnelmetrics(spec, batch=True)


def suite_sql(spec: dict) -> list[dict]:
    import duckdb
    import hand_sql
    import revenue_sql

    start, end = _dates(spec)
    run = revenue_sql.run if spec.get("suite") == "revenue" else hand_sql.run
    return _suite_runs(spec, lambda: duckdb.connect(spec["db"], read_only=True),
                       lambda con: run(con, start, end))


def suite_pandas(spec: dict) -> dict:
    import pandas_impl

    start, end = _dates(spec)
    t0, c0 = time.perf_counter(), time.process_time()
    tables = pandas_impl.read(Path(spec["data_dir"]))
    read, read_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    results, per_item = pandas_impl.run(tables, start, end)
    compute, cpu = time.perf_counter() - t0, time.process_time() - c0
    if spec.get("results"):
        Path(spec["results"]).write_bytes(pickle.dumps(results))
    return {"seconds": compute, "cpu": cpu, "read_seconds": read, "read_cpu": read_cpu,
            "items": per_item}


STEPS: dict[str, Callable[[dict], object]] = {
    "ingest_validated": ingest_validated, "ingest_raw": ingest_raw,
    "suite_funnelmetrics": suite_funnelmetrics, "suite_batch": suite_batch,
    "suite_sql": suite_sql,
    "suite_pandas": suite_pandas,
}


def peak_rss_mib() -> float:
    """Peak resident memory of this process (VmHWM). Not ru_maxrss: Linux carries that over
    from the parent across fork and exec, so it would never be below the parent's size."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    step, spec_path, out_path = sys.argv[1:4]
    spec = json.loads(Path(spec_path).read_text())
    before = os.getloadavg()
    runs = STEPS[step](spec)
    out = {"runs": runs if isinstance(runs, list) else [runs],
           "maxrss_mib": peak_rss_mib(),
           "load": [before, os.getloadavg()]}
    Path(out_path).write_text(json.dumps(out))


if __name__ == "__main__":
    main()
