"""Benchmark funnelmetrics (issue #2 item 8): validated ingest against DuckDB's raw CSV load, and the
funnel metric suite through `ws.metric` against hand-written DuckDB SQL and plain pandas.

    .venv/bin/python benchmarks/run.py [--leads 1000000 --leads 10000000 | --sizes 1m,10m]
        [--seed 7] [--repeat 3] [--ingest-repeat N] [--skip-pandas] [--skip-ingest]
        [--skip-suite] [--keep-data] [--data-dir benchmarks/data] [--out benchmarks/results.md]

Per size: the demo generator's CSV files (cached in --data-dir, keyed by leads, seed and end
date), then `--repeat` rounds of each step, every step in its own process (its peak RSS is its
own; the rounds interleave the implementations so that a change in machine load hits them alike):

* ingest — `ws.ingest(all CSV files)` into a fresh DuckDB file, and DuckDB's own
  `CREATE TABLE t AS SELECT * FROM read_csv(file)` per file into another fresh file;
* suite — the metrics of benchmarks/suite.py, monthly over the data's whole range, through
  funnelmetrics (`ws.metric`, results as pandas), hand-written SQL (benchmarks/hand_sql.py,
  results as pandas) and pandas (benchmarks/pandas_impl.py: read_csv, then compute). The SQL
  suites run three times per process: the first run is *cold* (fresh process and DuckDB buffer
  pool), the later ones *warm*. Results are cross-checked (relative/absolute tolerance 1e-9).

Prints the tables and writes them as markdown to --out (and the raw figures as JSON beside it).
The DuckDB workspaces made by the ingest steps are deleted afterwards unless --keep-data
(--skip-ingest then reuses the kept validated workspace).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.append(str(ROOT))  # after PYTHONPATH: a scratch copy can stand in

from suite import compare, suite  # noqa: E402

END = dt.date(2026, 7, 1)  # fixed, so the cached data never changes with the calendar
MONTHS = 24
GiB = 1024  # MiB
TARGETS = {"ingest": 1.5, "sql": 1.25, "pandas": 10.0, "memory_gib": 4.0}
STEP_LABELS = {
    "ingest_raw": "ingest: DuckDB raw `read_csv` → tables",
    "ingest_validated": "ingest: validated `ws.ingest`",
    "suite_sql": "suite: hand-written DuckDB SQL",
    "suite_funnelmetrics": "suite: funnelmetrics `ws.metric`, one by one",
    "suite_batch": "suite: funnelmetrics `ws.metrics`, one batch",
    "suite_pandas": "suite: pandas",
}


# ---- arguments --------------------------------------------------------------------------------
def _count(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--leads", action="append", default=[],
                   help="leads to generate (repeatable or a comma list; default 1000000)")
    p.add_argument("--sizes", default=None, help="shorthand for --leads: e.g. 1m,10m")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeat", type=int, default=3, help="rounds per step (best of N)")
    p.add_argument("--ingest-repeat", type=int, default=None,
                   help="rounds of the ingest steps (default: --repeat)")
    p.add_argument("--skip-pandas", action="store_true")
    p.add_argument("--skip-suite", action="store_true", help="time the ingest steps only")
    p.add_argument("--skip-ingest", action="store_true",
                   help="reuse a workspace kept by an earlier --keep-data run")
    p.add_argument("--keep-data", action="store_true",
                   help="keep the DuckDB workspaces the ingest steps made")
    p.add_argument("--data-dir", type=Path, default=HERE / "data")
    p.add_argument("--out", type=Path, default=HERE / "results.md")
    args = p.parse_args(argv)
    texts = [*args.leads, *([args.sizes] if args.sizes else [])]
    sizes = [_count(t) for text in texts for t in text.split(",") if t.strip()]
    args.sizes = list(dict.fromkeys(sizes or [1_000_000]))
    args.ingest_repeat = args.ingest_repeat or args.repeat
    return args


# ---- machine ----------------------------------------------------------------------------------
def machine() -> dict:
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    import duckdb
    import ibis
    import pandas

    return {"cpu": cpu, "nproc": os.cpu_count(), "ram_gib": round(mem_kib / 2**20, 1),
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "python": platform.python_version(), "duckdb": duckdb.__version__,
            "ibis": ibis.__version__, "pandas": pandas.__version__,
            "load_start": [round(x, 2) for x in os.getloadavg()]}


# ---- data -------------------------------------------------------------------------------------
def dataset(data_dir: Path, leads: int, seed: int) -> Path:
    """The CSV files for (leads, seed), generated once and cached."""
    d = data_dir / f"csv-{leads}-seed{seed}-end{END}"
    if (d / ".complete").exists():
        print(f"  data: cached {d}", flush=True)
        return d
    from funnelmetrics.demo.generate import generate

    print(f"  data: generating {leads:,} leads as CSV into {d} …", flush=True)
    shutil.rmtree(d, ignore_errors=True)
    t0 = time.perf_counter()
    generate(d, leads=leads, seed=seed, months=MONTHS, end=END, file_format="csv")
    (d / ".complete").write_text(f"{time.perf_counter() - t0:.1f}\n")
    print(f"  data: generated in {time.perf_counter() - t0:.0f} s", flush=True)
    return d


def profile(db: Path) -> tuple[dict[str, int], dt.date, dt.date]:
    """Rows per table, and the whole months the funnel and deal data span."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.sql("SELECT table_name FROM duckdb_tables() "
                                         "WHERE NOT table_name LIKE '\\_%' ESCAPE '\\' "
                                         "ORDER BY 1").fetchall()]
        rows = {t: con.sql(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        lo, hi = con.sql("""
            SELECT min(lo), max(hi) FROM (
              SELECT min(created_at) lo, max(created_at) hi FROM leads UNION ALL
              SELECT min(occurred_at), max(occurred_at) FROM stage_events UNION ALL
              SELECT min(created_at), max(closed_at) FROM opportunities)""").fetchone()
    finally:
        con.close()
    start = lo.date().replace(day=1)
    end = (hi.date().replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(1)
    return rows, start, end


# ---- steps ------------------------------------------------------------------------------------
def run_step(step: str, spec: dict, work: Path, tag: str) -> dict:
    spec_path, out_path = work / f"{tag}.spec.json", work / f"{tag}.out.json"
    spec_path.write_text(json.dumps(spec))
    out_path.unlink(missing_ok=True)
    with open(work / f"{tag}.log", "w") as log:
        proc = subprocess.run([sys.executable, str(HERE / "steps.py"), step, str(spec_path),
                               str(out_path)], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    if proc.returncode != 0 or not out_path.exists():
        tail = (work / f"{tag}.log").read_text(errors="replace")[-2000:]
        print(f"    {step} FAILED (exit {proc.returncode}):\n{tail}", flush=True)
        return {"error": tail, "runs": [], "maxrss_mib": None, "load": []}
    out = json.loads(out_path.read_text())
    secs = ", ".join(f"{r['seconds']:.2f}" for r in out["runs"])
    print(f"    {step:22s} {secs} s   peak {out['maxrss_mib']:.0f} MiB   "
          f"load {out['load'][0][0]:.2f}", flush=True)
    return out


def summarise(outs: list[dict], warm: bool = False) -> dict:
    """Best of the rounds; for SQL suites `warm` takes each process's later runs."""
    runs = [r for o in outs for r in (o["runs"][1:] if warm else o["runs"][:1])]
    if not runs:
        return {"best": None}
    best = min(runs, key=lambda r: r["seconds"])
    out = {"best": best["seconds"], "all": [round(r["seconds"], 3) for r in runs],
           "cpu": min(r["cpu"] for r in runs),
           "peak_mib": max((o["maxrss_mib"] or 0) for o in outs),
           "load": [round(o["load"][0][0], 2) for o in outs if o.get("load")]}
    if "read_seconds" in best:
        out["read_best"] = min(r["read_seconds"] for r in runs)
        out["read_cpu"] = min(r["read_cpu"] for r in runs)
        out["total_best"] = min(r["seconds"] + r["read_seconds"] for r in runs)
        out["total_cpu"] = min(r["cpu"] + r["read_cpu"] for r in runs)
    if "items" in runs[0]:
        out["items"] = {k: min(r["items"][k] for r in runs) for k in runs[0]["items"]}
    return out


def bench_size(args: argparse.Namespace, leads: int) -> dict:
    print(f"\n== {leads:,} leads (seed {args.seed}) ==", flush=True)
    data = dataset(args.data_dir, leads, args.seed)
    files = sorted(str(p) for p in data.glob("*.csv"))
    work = data / "work"
    work.mkdir(exist_ok=True)
    validated, raw = work / "validated.duckdb", work / "raw.duckdb"
    res: dict = {"leads": leads, "seed": args.seed, "data_dir": str(data),
                 "csv_mib": round(sum(Path(f).stat().st_size for f in files) / 2**20)}
    ingest: dict[str, list[dict]] = {"ingest_raw": [], "ingest_validated": []}
    if not args.skip_ingest:
        for r in range(args.ingest_repeat):
            order = ["ingest_raw", "ingest_validated"][:: 1 if r % 2 == 0 else -1]
            for step in order:
                db = raw if step == "ingest_raw" else validated
                ingest[step].append(run_step(step, {"files": files, "db": str(db)}, work,
                                             f"{step}-{r}"))
        raw.unlink(missing_ok=True)
    elif not validated.exists():
        raise SystemExit(f"--skip-ingest: no kept workspace {validated}")
    res["ingest"] = {k: summarise(v) for k, v in ingest.items()}
    rows, start, end = profile(validated)
    res.update(rows=rows, start=str(start), end=str(end))
    print(f"  range {start} … {end}; rows {rows}", flush=True)

    base = {"db": str(validated), "start": str(start), "end": str(end)}
    steps = ["suite_sql", "suite_funnelmetrics", "suite_batch"] + (
        [] if args.skip_pandas else ["suite_pandas"])
    steps = [] if args.skip_suite else steps
    outs: dict[str, list[dict]] = {s: [] for s in steps}
    for r in range(args.repeat):
        for step in steps:
            spec = {**base, "data_dir": str(data), "inner": 3,
                    "results": str(work / f"{step}.pkl") if r == 0 else None}
            outs[step].append(run_step(step, spec, work, f"{step}-{r}"))
    res["suite"] = {}
    for step, o in outs.items():
        if step == "suite_pandas":
            res["suite"][step] = summarise(o)
        else:
            res["suite"][step] = summarise(o, warm=True)
            res["suite"][step + "_cold"] = summarise(o)
    res["checks"] = cross_check(work, steps) if steps else {}
    if not args.keep_data:
        for p in work.iterdir():
            if p.is_file():
                p.unlink()
        shutil.rmtree(work / "quarantine", ignore_errors=True)
    return res


def cross_check(work: Path, steps: list[str]) -> dict:
    def load(step: str) -> dict | None:
        p = work / f"{step}.pkl"
        return pickle.loads(p.read_bytes()) if p.exists() else None

    fm = load("suite_funnelmetrics")
    out = {}
    for step in (s for s in steps if s != "suite_funnelmetrics"):
        other = load(step)
        if fm is None or other is None:
            out[step] = {"error": "results missing"}
            continue
        problems = compare(fm, other)
        out[step] = {"metrics": len(fm), "mismatches": problems,
                     "metrics_differing": sorted({p["metric"] for p in problems})}
    return out


# ---- report -----------------------------------------------------------------------------------
def _s(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _ok(ok: bool | None) -> str:
    return "–" if ok is None else ("yes" if ok else "**no**")


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def size_markdown(r: dict) -> list[str]:
    lines = [f"### {r['leads']:,} leads (seed {r['seed']}, {MONTHS} months to {END})", "",
             f"CSV: {r['csv_mib']:,} MiB. Metrics monthly from {r['start']} to {r['end']}, "
             f"{len(suite())} metric queries.", "",
             "| table | rows |", "|---|---:|"]
    lines += [f"| {t} | {n:,} |" for t, n in r["rows"].items()]
    lines += ["", "| step | best wall (s) | best CPU (s) | runs, wall (s) | peak RSS (MiB) "
              "| 1-min load at start of each |", "|---|---:|---:|---|---:|---|"]
    rows = [(STEP_LABELS[k], v) for k, v in r["ingest"].items()]
    s = r["suite"]
    for key, label in (("suite_sql", "warm"), ("suite_sql_cold", "cold"),
                       ("suite_funnelmetrics", "warm"), ("suite_funnelmetrics_cold", "cold"),
                       ("suite_batch", "warm"), ("suite_batch_cold", "cold")):
        if key in s:
            rows.append((f"{STEP_LABELS[key.removesuffix('_cold')]} ({label})", s[key]))
    if "suite_pandas" in s and s["suite_pandas"]["best"] is not None:
        p = s["suite_pandas"]
        rows.append(("suite: pandas `read_csv` (4 tables)",
                     {**p, "best": p["read_best"], "cpu": p["read_cpu"], "all": ["–"]}))
        rows.append(("suite: pandas compute", p))
    for label, v in rows:
        if v.get("best") is None:
            lines.append(f"| {label} | – | – | – | – | – |")
            continue
        runs = ", ".join(x if isinstance(x, str) else f"{x:.2f}" for x in v["all"])
        lines.append(f"| {label} | {_s(v['best'])} | {_s(v['cpu'])} | {runs} | "
                     f"{v['peak_mib']:,.0f} | "
                     f"{', '.join(str(x) for x in v['load'])} |")
    lines += ["", *ratio_markdown(r)]
    if r["suite"]:
        lines += ["", *check_markdown(r), "", *items_markdown(r)]
    return lines


def ratios(r: dict) -> list[tuple[str, float | None, float | None, str, bool | None]]:
    """(label, wall-clock ratio, CPU-time ratio, target, met); targets judge wall clock."""
    s, i = r["suite"], r["ingest"]

    def both(a: dict | None, b: dict | None, wall: str = "best",
             cpu: str = "cpu") -> tuple[float | None, float | None]:
        a, b = a or {}, b or {}
        return _ratio(a.get(wall), b.get(wall)), _ratio(a.get(cpu), b.get(cpu))

    sql = s.get("suite_sql")
    ing = both(i.get("ingest_validated"), i.get("ingest_raw"))
    out = [("validated ingest / raw DuckDB load", *ing, f"≤ {TARGETS['ingest']}",
            None if ing[0] is None else ing[0] <= TARGETS["ingest"])]
    pd_ = s.get("suite_pandas", {})
    for step, how in (("suite_batch", "one batch"), ("suite_funnelmetrics", "one by one")):
        fm = s.get(step)
        if fm is None:
            continue
        warm = both(fm, sql)
        out += [(f"funnelmetrics ({how}) / hand SQL (warm)", *warm, f"≤ {TARGETS['sql']}",
                 None if warm[0] is None else warm[0] <= TARGETS["sql"]),
                (f"funnelmetrics ({how}) / hand SQL (cold)",
                 *both(s.get(step + "_cold"), s.get("suite_sql_cold")), "", None)]
        if pd_.get("best") is not None:
            comp = both(pd_, fm)
            out += [(f"pandas compute / funnelmetrics ({how}, warm)", *comp,
                     f"≥ {TARGETS['pandas']:.0f}",
                     None if comp[0] is None else comp[0] >= TARGETS["pandas"]),
                    (f"pandas read_csv + compute / funnelmetrics ({how}, warm)",
                     _ratio(pd_["total_best"], fm.get("best")),
                     _ratio(pd_["total_cpu"], fm.get("cpu")), "", None)]
    peaks = [v.get("peak_mib") for k, v in [*i.items(), *s.items()]
             if "funnelmetrics" in k or k == "ingest_validated"]
    peak = max((p for p in peaks if p), default=None)
    out.append(("peak RSS of funnelmetrics steps (GiB)", None if peak is None else peak / GiB,
                None, f"< {TARGETS['memory_gib']:.0f}",
                None if peak is None else peak / GiB < TARGETS["memory_gib"]))
    return out


def ratio_markdown(r: dict) -> list[str]:
    lines = ["| ratio | wall clock | CPU time | target | met (wall) |",
             "|---|---:|---:|---|---|"]
    for label, wall, cpu, target, ok in ratios(r):
        if wall is None and cpu is None:
            continue
        lines.append(f"| {label} | {_s(wall)} | {_s(cpu)} | {target} | "
                     f"{_ok(ok) if target else '–'} |")
    return lines


def check_markdown(r: dict) -> list[str]:
    names = {"suite_sql": "hand SQL", "suite_pandas": "pandas",
             "suite_batch": "funnelmetrics in one batch"}
    lines = []
    for step, c in r["checks"].items():
        if "error" in c:
            lines.append(f"- funnelmetrics vs {names[step]}: {c['error']}")
        elif not c["mismatches"]:
            lines.append(f"- funnelmetrics vs {names[step]}: all {c['metrics']} metrics equal "
                         "(every period; value, numerator, denominator; tolerance 1e-9)")
        else:
            lines.append(f"- funnelmetrics vs {names[step]}: {len(c['mismatches'])} differing "
                         f"figure(s) in {', '.join(c['metrics_differing'])}")
            for m in c["mismatches"][:20]:
                lines.append(f"  - {m}")
    return lines


def items_markdown(r: dict) -> list[str]:
    s = r["suite"]
    fm = s.get("suite_funnelmetrics", {}).get("items", {})
    sql = s.get("suite_sql", {}).get("items", {})
    bat = s.get("suite_batch", {}).get("items", {})
    pdi = s.get("suite_pandas", {}).get("items", {})
    lines = ["<details><summary>per metric, warm best (s)</summary>", "",
             "| metric | funnelmetrics one by one | in one batch | hand SQL | ratio (one by one) "
             "| ratio (batch) | pandas compute |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    if "(prepare)" in bat:  # the batch's shared tables and fused aggregates, built up front
        lines.append(f"| (prepare: shared tables, fused aggregates) | | "
                     f"{_s(bat['(prepare)'], 3)} | | | | |")
    for item in suite():
        k = item.key
        lines.append(f"| {k} | {_s(fm.get(k), 3)} | {_s(bat.get(k), 3)} | {_s(sql.get(k), 3)} "
                     f"| {_s(_ratio(fm.get(k), sql.get(k)))} "
                     f"| {_s(_ratio(bat.get(k), sql.get(k)))} | {_s(pdi.get(k), 3)} |")
    lines += ["", "</details>"]
    return lines


def markdown(info: dict, results: list[dict]) -> str:
    lines = ["## Benchmark", "",
             f"{info['date']} · {info['cpu']} · {info['nproc']} CPUs · {info['ram_gib']} GiB "
             f"RAM · Python {info['python']}, DuckDB {info['duckdb']}, Ibis {info['ibis']}, "
             f"pandas {info['pandas']} · load average at start "
             f"{' / '.join(str(x) for x in info['load_start'])} (1/5/15 min), at end "
             f"{' / '.join(str(x) for x in info['load_end'])}.", "",
             "Best of the rounds; every step in its own process. *Cold*: a suite's first run in "
             "a fresh process; *warm*: its later runs. pandas compute excludes `read_csv`. CPU "
             "time (user + system, all threads) is shown beside wall-clock time because it "
             "suffers less from other processes competing for the CPUs.", ""]
    for r in results:
        lines += size_markdown(r) + [""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    info = machine()
    print(f"{info['cpu']} · {info['nproc']} CPUs · {info['ram_gib']} GiB · "
          f"load {info['load_start']}", flush=True)
    results = [bench_size(args, n) for n in args.sizes]
    info["load_end"] = [round(x, 2) for x in os.getloadavg()]
    text = markdown(info, results)
    print("\n" + text)
    out = args.out
    md, js = (out.with_suffix(".md"), out) if out.suffix == ".json" else (out,
                                                                          out.with_suffix(".json"))
    md.write_text(text + "\n")
    js.write_text(json.dumps({"machine": info, "results": results}, indent=1, default=str))
    print(f"\nwrote {md} and {js}")


if __name__ == "__main__":
    main()
