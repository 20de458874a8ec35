"""Validated ingest against DuckDB's plain load of the same files, Parquet and CSV side by side
(issue 19 item 7: validated ingest within 1.5x of the plain load, every rule still enforced).

    .venv/bin/python benchmarks/ingest_formats.py [--leads 1000000] [--repeat 3]
        [--tables leads,stage_events,touchpoints] [--formats parquet,csv]
        [--source /work/benchdata/csv-10000000-seed7-end2026-07-01]
        [--work /work/benchdata/ingest-formats] [--out benchmarks/ingest_formats.md]

The files are the demo generator's CSV files in --source (not regenerated); --leads N below
their size takes the first N leads and the rows of the other tables that name them. Parquet
files are written once from the CSV files by DuckDB (`COPY … (FORMAT parquet)`, typed as
`read_csv` infers) and cached in --work. Each run is its own process, into a fresh database:

* plain — `CREATE TABLE t AS SELECT * FROM read_parquet(f)` (or `read_csv(f)`) per file;
* validated — `funnelmetrics.open(db).ingest(files)`: every row and set rule, the quarantine.

Rounds interleave plain and validated (order alternating) so that machine load hits both alike;
the best of the rounds is reported, with CPU time (user + system, all threads) beside wall time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCE = Path("/work/benchdata/csv-10000000-seed7-end2026-07-01")
WORK = Path("/work/benchdata/ingest-formats")
TARGET = 1.5
READERS = {"parquet": "read_parquet", "csv": "read_csv"}


# ---- data --------------------------------------------------------------------------------------
def prepare(source: Path, work: Path, leads: int | None, tables: list[str],
            formats: list[str]) -> dict[str, list[Path]]:
    """{format: files}, made once and cached under work/<leads>/<format>/."""
    import duckdb

    tag = "all" if leads is None else str(leads)
    out = {}
    for fmt in formats:
        folder = work / tag / fmt
        done = folder / ".complete"
        files = [folder / f"{t}.{fmt}" for t in tables]
        if done.exists() and all(f.exists() for f in files):
            out[fmt] = files
            continue
        folder.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect()
        con.execute("SET preserve_insertion_order = true")
        con.execute("SET enable_progress_bar = false")
        for table, path in zip(tables, files, strict=True):
            csv = source / f"{table}.csv"
            if fmt == "csv" and leads is None:
                path.unlink(missing_ok=True)
                path.symlink_to(csv)
                continue
            rows = f"SELECT * FROM read_csv('{csv}')"
            if leads is not None:
                chosen = f"(SELECT lead_id FROM read_csv('{source / 'leads.csv'}') LIMIT {leads})"
                rows = (f"SELECT * FROM read_csv('{csv}') LIMIT {leads}" if table == "leads"
                        else f"{rows} WHERE lead_id IN {chosen}")
            options = "(FORMAT parquet)" if fmt == "parquet" else "(FORMAT csv, HEADER)"
            t0 = time.perf_counter()
            con.execute(f"COPY ({rows}) TO '{path}' {options}")
            print(f"  wrote {path} in {time.perf_counter() - t0:.1f} s", flush=True)
        con.close()
        done.write_text(dt.datetime.now(dt.UTC).isoformat())
        out[fmt] = files
    return out


def row_counts(files: list[Path], fmt: str) -> dict[str, int]:
    import duckdb

    con = duckdb.connect()
    return {f.stem: con.execute(f"SELECT count(*) FROM {READERS[fmt]}('{f}')").fetchone()[0]
            for f in files}


# ---- one step in its own process -----------------------------------------------------------------
def step(kind: str, fmt: str, files: list[str], db: str) -> dict:
    path = Path(db)
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
    shutil.rmtree(path.parent / "quarantine", ignore_errors=True)
    t0, c0 = time.perf_counter(), time.process_time()
    result: dict = {}
    if kind == "plain":
        import duckdb

        con = duckdb.connect(db)
        for f in files:
            con.execute(f'CREATE TABLE "{Path(f).stem}" AS SELECT * FROM {READERS[fmt]}(\'{f}\')')
        con.close()
    else:
        import funnelmetrics

        ws = funnelmetrics.open(path)
        report = ws.ingest([Path(f) for f in files])
        ws.close()
        result["rejected"] = report.rejected
        result["accepted"] = {k: v["accepted"] for k, v in report.to_json()["tables"].items()}
    result.update(seconds=time.perf_counter() - t0, cpu=time.process_time() - c0)
    return result


def run_step(kind: str, fmt: str, files: list[Path], db: Path) -> dict:
    spec = json.dumps({"kind": kind, "fmt": fmt, "files": [str(f) for f in files],
                       "db": str(db)})
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))}
    done = subprocess.run([sys.executable, __file__, "--step", spec], capture_output=True,
                          text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{kind} {fmt} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- the run -------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("--leads", type=int, default=None, help="first N leads (default: all)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tables", default="leads,stage_events,touchpoints")
    ap.add_argument("--formats", default="parquet,csv")
    ap.add_argument("--source", type=Path, default=SOURCE)
    ap.add_argument("--work", type=Path, default=WORK)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    if args.step:
        spec = json.loads(args.step)
        print(json.dumps(step(spec["kind"], spec["fmt"], spec["files"], spec["db"])))
        return
    tables, formats = args.tables.split(","), args.formats.split(",")
    files = prepare(args.source, args.work, args.leads, tables, formats)
    scratch = args.work / "db"
    scratch.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    load0 = os.getloadavg()
    runs: dict[tuple[str, str], list[dict]] = {}
    jobs = [(k, f) for f in formats for k in ("plain", "validated")]
    for r in range(args.repeat):
        for kind, fmt in (jobs if r % 2 == 0 else jobs[::-1]):
            out = run_step(kind, fmt, files[fmt], scratch / f"{kind}-{fmt}.duckdb")
            out["load"] = os.getloadavg()[0]
            runs.setdefault((kind, fmt), []).append(out)
            print(f"round {r} {kind:9} {fmt:7} {out['seconds']:8.2f} s wall "
                  f"{out['cpu']:8.2f} s CPU  (load {out['load']:.1f})", flush=True)
    for f in scratch.glob("*"):
        f.unlink()
    rejected = {fmt: runs[("validated", fmt)][0].get("rejected") for fmt in formats}
    counts = row_counts(files[formats[0]], formats[0])
    report = render(args, started, load0, counts, files, runs, formats, rejected)
    print(report)
    if args.out:
        args.out.write_text(report)
        args.out.with_suffix(".json").write_text(json.dumps(
            {f"{k}:{f}": v for (k, f), v in runs.items()}, indent=1))


def render(args: argparse.Namespace, started: dt.datetime, load0: tuple[float, ...],
           counts: dict[str, int], files: dict[str, list[Path]],
           runs: dict[tuple[str, str], list[dict]], formats: list[str],
           rejected: dict[str, int | None]) -> str:
    import duckdb

    size = {fmt: sum(f.resolve().stat().st_size for f in fs) >> 20 for fmt, fs in files.items()}
    lines = [f"## Validated ingest vs DuckDB's plain load ({started:%Y-%m-%d %H:%M} UTC)", "",
             f"{platform.processor() or platform.machine()} · {os.cpu_count()} CPUs · Python "
             f"{platform.python_version()}, DuckDB {duckdb.__version__} · load average at "
             f"start {load0[0]:.2f} / {load0[1]:.2f} / {load0[2]:.2f}, at end "
             f"{os.getloadavg()[0]:.2f}. Best of {args.repeat} rounds, each run its own "
             "process into a fresh database.", "",
             "| table | rows |", "|---|---:|",
             *[f"| {t} | {n:,} |" for t, n in counts.items()], "",
             "| format | size (MiB) | plain wall (s) | validated wall (s) | wall ratio | "
             "plain CPU (s) | validated CPU (s) | CPU ratio | rejected | ≤ 1.5× (wall) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for fmt in formats:
        plain, valid = runs[("plain", fmt)], runs[("validated", fmt)]
        pw, vw = min(r["seconds"] for r in plain), min(r["seconds"] for r in valid)
        pc, vc = min(r["cpu"] for r in plain), min(r["cpu"] for r in valid)
        lines.append(f"| {fmt} | {size[fmt]:,} | {pw:.2f} | {vw:.2f} | {vw / pw:.2f} | "
                     f"{pc:.2f} | {vc:.2f} | {vc / pc:.2f} | {rejected[fmt]} | "
                     f"{'yes' if vw / pw <= TARGET else 'no'} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
