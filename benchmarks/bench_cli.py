"""Benchmark the command line (issue 18): whole processes, start-up included, side by side.

    .venv/bin/python benchmarks/bench_cli.py [--small-db PATH] [--big-db PATH] [--rounds 7]
        [--skip-big | --only-big] [--out benchmarks/cli-results.md]

Pairs, each command A beside its yardstick B, run in turn (A B A B …, after one warm-up
run of each that is not counted, so that Python's compiled bytecode exists as on a user's
machine); the ratio A/B is taken pair by pair and the median quoted (the machine's drift hits
both sides of a pair alike):

* start — `funnelmetrics --help` against a bare Typer application's `--help` (Python, Typer
  and Rich starting: the floor of any Typer command line);
* small metric — `funnelmetrics metric win_rate --db SMALL` (a demo workspace of 20,000 leads,
  made once in benchmarks/data/cli-20000/ unless --small-db) against importing Ibis and opening
  the same DuckDB file read-only (what any Ibis-based tool pays before its first query): asked
  before (the warm-up run kept its compiled SQL, `compile.sqlcache`, in a temporary folder),
  the first time (FUNNELMETRICS_SQL_CACHE=off: built and compiled by every run) and the first
  time kept (each run a new cache folder: compiled, its probes recorded, kept);
* funnel at scale (asked before: the warm-up kept each metric's SQL; and the first time, cache
  off) — five funnel metrics through the CLI in two `metric` calls (monthly over the
  data's whole range: stage_conversion_rate mql→sql with time_in_stage sql; lead_conversion_rate,
  win_rate, sales_cycle_days) against one Python process running the hand-written DuckDB SQL of
  benchmarks/hand_sql.py for the same five (results fetched). --big-db is a validated workspace
  (benchmarks/run.py --keep-data makes one: DATA_DIR/csv-…/work/validated.duckdb).

PYTHONDONTWRITEBYTECODE is removed from the children's environment. Prints a markdown table and
writes it to --out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

PY = sys.executable
CLI = str(Path(sys.executable).parent / "funnelmetrics")
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

BARE_TYPER = """import typer
app = typer.Typer(add_completion=False)
@app.command()
def a() -> None: ...
@app.command()
def b() -> None: ...
app()
"""
OPEN_DUCKDB = "import ibis, sys; ibis.duckdb.connect(sys.argv[1], read_only=True)"
HAND_SQL = """import sys, datetime as dt
sys.path.insert(0, {here!r})
import duckdb
from hand_sql import Queries
from suite import Item
start, end = dt.date.fromisoformat(sys.argv[2]), dt.date.fromisoformat(sys.argv[3])
q = Queries(start, end)
con = duckdb.connect(sys.argv[1], read_only=True)
for item in {items!r}:
    con.sql(q.sql(Item(item[0], tuple(item[1])))).fetchall()
"""
FIVE = [("stage_conversion_rate", (("from_stage", "mql"), ("to_stage", "sql"))),
        ("time_in_stage", (("stage", "sql"), ("stat", "mean"))),
        ("lead_conversion_rate", ()), ("win_rate", ()), ("sales_cycle_days", ())]


def cli_calls(db: str, start: str, end: str) -> list[list[str]]:
    """The five metrics as a user would ask for them: two `metric` calls (CSV out)."""
    common = ["--db", db, "--start", start, "--end", end, "--format", "csv"]
    return [[CLI, "metric", "stage_conversion_rate", "time_in_stage", "--param", "from_stage=mql",
             "--param", "to_stage=sql", "--param", "stage=sql", "--param", "stat=mean",
             *common],
            [CLI, "metric", "lead_conversion_rate", "win_rate", "sales_cycle_days", *common]]


Env = dict[str, str] | Callable[[], dict[str, str]] | None


def timed(commands: list[list[str]], env: Env = None) -> tuple[float, float]:
    """Wall and CPU seconds of running `commands` one after the other (each a process);
    `env`, added to the environment, may be a function giving it anew for each run."""
    before = os.times()
    t0 = time.perf_counter()
    extra = env() if callable(env) else env
    for command in commands:
        subprocess.run(command, env={**ENV, **(extra or {})}, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = os.times()
    cpu = (after.children_user - before.children_user) + \
        (after.children_system - before.children_system)
    return wall, cpu


def side_by_side(a: list[list[str]], b: list[list[str]], rounds: int, env: Env = None) -> dict:
    """`env` is added to A's environment."""
    timed(a, env)
    timed(b)  # warm-up: bytecode compiled, files in the page cache
    pairs = []
    for i in range(rounds):
        if i % 2 == 0:
            wa, ca = timed(a, env)
            wb, cb = timed(b)
        else:
            wb, cb = timed(b)
            wa, ca = timed(a, env)
        pairs.append((wa, ca, wb, cb))
    med = statistics.median
    return {"a_wall": med(p[0] for p in pairs), "a_cpu": med(p[1] for p in pairs),
            "b_wall": med(p[2] for p in pairs), "b_cpu": med(p[3] for p in pairs),
            "ratio_wall": med(p[0] / p[2] for p in pairs),
            "ratio_cpu": med(p[1] / p[3] for p in pairs), "rounds": rounds}


def small_workspace(path: str | None) -> str:
    if path:
        return path
    db = HERE / "data" / "cli-20000" / "funnel.duckdb"
    if not db.exists():
        print(f"building the 20,000-lead demo workspace at {db} …", flush=True)
        subprocess.run([CLI, "demo", "--db", str(db), "--leads", "20000", "--format", "json"],
                       env=ENV, check=True, stdout=subprocess.DEVNULL)
    return str(db)


def row(label: str, a: str, b: str, r: dict, target: str) -> str:
    return (f"| {label} | {a} | {r['a_wall']:.3f} s | {b} | {r['b_wall']:.3f} s | "
            f"**{r['ratio_wall']:.2f}×** (cpu {r['ratio_cpu']:.2f}×) | {target} |")


def small_pairs(lines: list[str], tmp: Path, args: argparse.Namespace) -> None:
    """The start-up and small-metric pairs, appended to `lines`."""
    bare = tmp / "bare_typer.py"
    bare.write_text(BARE_TYPER)
    r = side_by_side([[CLI, "--help"]], [[PY, str(bare), "--help"]], args.rounds)
    lines.append(row("start", "`funnelmetrics --help`", "bare Typer `--help`", r, "≤ 3×"))
    print(lines[-1], flush=True)
    r = side_by_side([[CLI, "--version"]], [[PY, str(bare), "--help"]], args.rounds)
    lines.append(row("version", "`funnelmetrics --version`", "bare Typer `--help`", r,
                     "≤ 3×"))
    print(lines[-1], flush=True)
    small = small_workspace(args.small_db)
    # asked before (the warm-up asked it): answered from its kept SQL (compile.sqlcache)
    kept = {"FUNNELMETRICS_SQL_CACHE": str(tmp / "sqlcache")}
    r = side_by_side([[CLI, "metric", "win_rate", "--db", small]],
                     [[PY, "-c", OPEN_DUCKDB, small]], args.rounds, kept)
    lines.append(row("small metric (20,000 leads), asked before", "`metric win_rate`",
                     "import Ibis + open DuckDB", r, "≤ 1.6×"))
    print(lines[-1], flush=True)
    # never asked: built and compiled every time
    r = side_by_side([[CLI, "metric", "win_rate", "--db", small]],
                     [[PY, "-c", OPEN_DUCKDB, small]], args.rounds,
                     {"FUNNELMETRICS_SQL_CACHE": "off"})
    lines.append(row("small metric (20,000 leads), first time", "`metric win_rate` (cache "
                     "off)", "import Ibis + open DuckDB", r, "≤ 1.6×"))
    print(lines[-1], flush=True)
    # never asked, the cache on: compiled, its probes recorded, kept, answered (a new folder)
    r = side_by_side([[CLI, "metric", "win_rate", "--db", small]],
                     [[PY, "-c", OPEN_DUCKDB, small]], args.rounds,
                     lambda: {"FUNNELMETRICS_SQL_CACHE": tempfile.mkdtemp(dir=tmp)})
    lines.append(row("small metric (20,000 leads), first time, kept", "`metric win_rate` "
                     "(a new cache folder)", "import Ibis + open DuckDB", r, "≤ 1.6×"))
    print(lines[-1], flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--small-db")
    p.add_argument("--big-db", default="/work/benchdata/csv-10000000-seed7-end2026-07-01/work/"
                                       "validated.duckdb")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--skip-big", action="store_true")
    p.add_argument("--only-big", action="store_true", help="only the funnel at scale (no "
                   "start-up or small-metric pairs)")
    p.add_argument("--out", type=Path, default=HERE / "cli-results.md")
    args = p.parse_args(argv)

    lines = [f"CLI benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; "
             f"{os.cpu_count()} cores, Python {platform.python_version()}, load "
             f"{os.getloadavg()[0]:.2f} at start; median of {args.rounds} pairs (the funnel at "
             f"scale: {max(3, args.rounds // 2)}) (A then B, alternating), whole processes.", "",
             "| what | A | A wall | B (yardstick) | B wall | A/B | target |",
             "|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        if not args.only_big:
            small_pairs(lines, Path(tmp), args)
        if not args.skip_big:
            import run

            rows, start, end = run.profile(Path(args.big_db))
            script = Path(tmp) / "hand.py"
            script.write_text(HAND_SQL.format(here=str(HERE), items=FIVE))
            label = f"five funnel metrics ({rows['leads']:,} leads, {start} to {end})"
            hand = [[PY, str(script), args.big_db, str(start), str(end)]]
            calls = cli_calls(args.big_db, str(start), str(end))
            # asked before (the warm-up kept each metric's SQL), then the first time (cache off:
            # the two calls' batches, shared tables and compiling, every run)
            for how, env in (("asked before", {"FUNNELMETRICS_SQL_CACHE": str(Path(tmp) / "big")}),
                             ("first time", {"FUNNELMETRICS_SQL_CACHE": "off"})):
                r = side_by_side(calls, hand, max(3, args.rounds // 2), env)
                lines.append(row(f"{label}, {how}", "two `metric` calls",
                                 "hand-written DuckDB SQL script", r, "≤ 1.25×"))
                print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
