"""Benchmark the revenue suite (issue #3): every revenue metric of SPEC §3 through funnelmetrics
(`ws.metric` per metric, results as pandas: one call after the other, and all in one `ws.batch()`)
against hand-written DuckDB SQL (benchmarks/revenue_sql.py, results as pandas), monthly over the
data's whole range, on a validated workspace.

    .venv/bin/python benchmarks/bench_revenue.py --db PATH [--repeat 3] [--inner 3]
        [--start DATE --end DATE] [--work DIR] [--keep] [--out benchmarks/results-revenue.md]

As benchmarks/run.py does for the funnel suite (with its helpers and steps): `--repeat` rounds,
each implementation in its own process per round (its peak RSS is its own), the rounds
interleaved and their order alternated so that a change in machine load hits all alike; in each
process the suite runs `--inner` times, the first *cold* (fresh process and DuckDB buffer pool),
the later ones *warm*; best of the rounds. The workspace is opened read-only (others may read it meanwhile). The
first round's results are cross-checked figure by figure (every period; value, numerator,
denominator; relative/absolute tolerance 1e-9). Prints the per-metric table and the suite totals
and writes them as markdown to --out (the raw figures as JSON beside it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import _ratio, _s, machine, profile, run_step, summarise  # noqa: E402
from suite import compare, revenue_suite  # noqa: E402

TARGET = 1.25  # funnelmetrics / hand SQL, suite total, warm (issue #3)
STEPS = {"suite_sql": "hand-written DuckDB SQL",
         "suite_funnelmetrics": "funnelmetrics, `ws.metric` one by one",
         "suite_batch": "funnelmetrics, `ws.metric` in one `ws.batch()`"}
SIZE_TABLES = ("leads", "subscriptions", "accounts", "opportunities", "spend")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", type=Path, required=True, help="a validated workspace (read-only)")
    p.add_argument("--repeat", type=int, default=3, help="rounds per implementation (best of N)")
    p.add_argument("--inner", type=int, default=3, help="suite runs per process (1 cold + warm)")
    p.add_argument("--start", type=dt.date.fromisoformat, default=None,
                   help="first day (default: the data's first whole month)")
    p.add_argument("--end", type=dt.date.fromisoformat, default=None,
                   help="last day (default: the data's last whole month)")
    p.add_argument("--work", type=Path, default=None,
                   help="directory for the steps' specs, logs and results "
                        "(default: a temporary one)")
    p.add_argument("--keep", action="store_true", help="keep the temporary --work directory")
    p.add_argument("--out", type=Path, default=HERE / "results-revenue.md")
    args = p.parse_args(argv)
    if not args.db.exists():
        p.error(f"--db {args.db}: no such workspace")
    return args


def bench(args: argparse.Namespace, work: Path) -> dict:
    rows, start, end = profile(args.db)
    start, end = args.start or start, args.end or end
    print(f"  range {start} … {end}; rows {rows}", flush=True)
    spec = {"db": str(args.db.resolve()), "start": str(start), "end": str(end),
            "suite": "revenue", "inner": args.inner}
    outs: dict[str, list[dict]] = {s: [] for s in STEPS}
    for r in range(args.repeat):
        for step in list(STEPS)[:: 1 if r % 2 == 0 else -1]:
            results = str(work / f"{step}.pkl") if r == 0 else None
            outs[step].append(run_step(step, {**spec, "results": results}, work,
                                       f"revenue-{step}-{r}"))
    res = {"db": str(args.db), "rows": rows, "start": str(start), "end": str(end),
           "repeat": args.repeat, "inner": args.inner, "timings": {}}
    for step, o in outs.items():
        res["timings"][step] = summarise(o, warm=True)
        res["timings"][step + "_cold"] = summarise(o)
    res["checks"] = {step: cross_check(work, step)
                     for step in ("suite_funnelmetrics", "suite_batch")}
    return res


def cross_check(work: Path, step: str) -> dict:
    """`step`'s first results against the hand SQL's, figure by figure."""
    paths = [work / f"{name}.pkl" for name in (step, "suite_sql")]
    if not all(p.exists() for p in paths):
        return {"error": "results missing"}
    fm, sql = (pickle.loads(p.read_bytes()) for p in paths)
    problems = compare(fm, sql)
    return {"metrics": len(fm), "periods": len(next(iter(fm.values()))),
            "mismatches": problems, "metrics_differing": sorted({p["metric"] for p in problems})}


# ---- report -----------------------------------------------------------------------------------
FM_STEPS = (("suite_funnelmetrics", "one by one"), ("suite_batch", "one batch"))


def total_rows(res: dict) -> list[str]:
    t = res["timings"]
    lines = ["| suite total | funnelmetrics (s) | hand SQL (s) | ratio | CPU fm / hand (s) "
             "| peak RSS fm / hand (MiB) | target |", "|---|---:|---:|---:|---:|---:|---|"]
    for step, how in FM_STEPS:
        for temp in ("warm", "cold"):
            suffix = "" if temp == "warm" else "_cold"
            fm, sql = t.get(step + suffix, {}), t.get("suite_sql" + suffix, {})
            ratio = _ratio(fm.get("best"), sql.get("best"))
            met = "met" if ratio is not None and ratio <= TARGET else "**not met**"
            lines.append(
                f"| {how}, {temp} | {_s(fm.get('best'))} | {_s(sql.get('best'))} | {_s(ratio)} "
                f"| {_s(fm.get('cpu'))} / {_s(sql.get('cpu'))} "
                f"| {fm.get('peak_mib') or 0:,.0f} / {sql.get('peak_mib') or 0:,.0f} "
                f"| {f'≤ {TARGET} ({met})' if temp == 'warm' else ''} |")
    return lines


def item_rows(res: dict) -> list[str]:
    t = res["timings"]
    fm, bat, sql = (t.get(step, {}).get("items", {})
                    for step in ("suite_funnelmetrics", "suite_batch", "suite_sql"))
    lines = ["| metric (warm best, s) | funnelmetrics one by one | in one batch | hand SQL "
             "| ratio (one by one) | ratio (batch) |", "|---|---:|---:|---:|---:|---:|"]
    for item in revenue_suite():
        k = item.key
        lines.append(f"| {k} | {_s(fm.get(k), 3)} | {_s(bat.get(k), 3)} | {_s(sql.get(k), 3)} "
                     f"| {_s(_ratio(fm.get(k), sql.get(k)))} "
                     f"| {_s(_ratio(bat.get(k), sql.get(k)))} |")
    return lines


def markdown(info: dict, res: dict) -> str:
    rows = res["rows"]
    size = ", ".join(f"{t} {rows[t]:,}" for t in SIZE_TABLES if t in rows)
    lines = ["## Revenue suite benchmark (issue #3)", "",
             f"{info['date']} · {info['cpu']} · {info['nproc']} CPUs · {info['ram_gib']} GiB RAM "
             f"· Python {info['python']}, DuckDB {info['duckdb']}, Ibis {info['ibis']}, pandas "
             f"{info['pandas']} · load average at start "
             f"{' / '.join(str(x) for x in info['load_start'])} (1/5/15 min), at end "
             f"{' / '.join(str(x) for x in info['load_end'])}.", "",
             f"Workspace `{res['db']}`: {size}. {len(revenue_suite())} metrics, monthly from "
             f"{res['start']} to {res['end']}, no dimensions. Best of {res['repeat']} rounds, "
             f"each implementation in its own process; *cold* = a process's first suite run, "
             f"*warm* = its {res['inner'] - 1} later one(s).", "",
             *total_rows(res), ""]
    for step, how in FM_STEPS:
        lines += check_lines(f"funnelmetrics ({how}) vs hand SQL", res["checks"][step])
    return "\n".join([*lines, "", *item_rows(res)])


def check_lines(label: str, check: dict) -> list[str]:
    if "error" in check:
        return [f"- {label}: {check['error']}"]
    if not check["mismatches"]:
        return [f"- {label}: all {check['metrics']} metrics equal in all {check['periods']} "
                "periods (value, numerator, denominator; tolerance 1e-9)"]
    out = [f"- {label}: {len(check['mismatches'])} differing figure(s) in "
           f"{', '.join(check['metrics_differing'])}"]
    return out + [f"  - {m}" for m in check["mismatches"][:20]]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    info = machine()
    print(f"{info['cpu']} · {info['nproc']} CPUs · {info['ram_gib']} GiB · "
          f"load {info['load_start']}", flush=True)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-revenue-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        res = bench(args, work)
    finally:
        if args.work is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    info["load_end"] = [round(x, 2) for x in os.getloadavg()]
    text = markdown(info, res)
    print("\n" + text)
    md, js = args.out.with_suffix(".md"), args.out.with_suffix(".json")
    md.write_text(text + "\n")
    js.write_text(json.dumps({"machine": info, "results": res}, indent=1, default=str))
    print(f"\nwrote {md} and {js}")


if __name__ == "__main__":
    main()
