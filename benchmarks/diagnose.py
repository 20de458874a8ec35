"""Where a `ws.metric` call spends its time, against the hand-written SQL of the same metric.

    .venv/bin/python benchmarks/diagnose.py --db WORKSPACE.duckdb [--start 2024-07-01
        --end 2026-06-30] [--repeat 3] [--only win_rate,...] [--explain DIR] [--out FILE.md]

Per suite item (benchmarks/suite.py), best of --repeat, in one warm process:

* total   — `ws.metric(...)` end to end (pandas);
* build   — `ws.expr(...)`: Python building the Ibis expression, including any queries the
            compiler runs while building it (`probes`: their number and seconds);
* compile — Ibis → SQL text of the final expression;
* hooks   — Ibis's pre-execute hooks (memtable registration, graph walks);
* db      — DuckDB running that SQL text to Arrow;
* pandas  — Arrow → pandas;
* hand    — the hand-written query (benchmarks/hand_sql.py) to pandas.

With --explain DIR, writes EXPLAIN ANALYZE of both queries per item into DIR.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.append(str(HERE.parent))  # after PYTHONPATH: a scratch copy can stand in

import duckdb  # noqa: E402
import hand_sql  # noqa: E402
from ibis.backends.duckdb import Backend  # noqa: E402
from suite import Item, suite  # noqa: E402

import funnelmetrics  # noqa: E402


class Probes:
    """Counts and times the queries Ibis runs (execute / to_pyarrow) while active."""

    def __init__(self) -> None:
        self.active, self.count, self.seconds = False, 0, 0.0
        for name in ("execute", "to_pyarrow"):
            setattr(Backend, name, self._wrap(getattr(Backend, name)))

    def _wrap(self, fn: Callable) -> Callable:
        probes = self

        def wrapper(*args: object, **kwargs: object) -> object:
            if not probes.active:
                return fn(*args, **kwargs)
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                probes.count += 1
                probes.seconds += time.perf_counter() - t0

        return wrapper


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def decompose(ws: funnelmetrics.Workspace, item: Item, start: dt.date, end: dt.date,
              probes: Probes, hand: hand_sql.Queries) -> dict[str, float]:
    query = dict(grain="month", start=start, end=end, **item.kwargs)
    backend = ws.con
    out: dict[str, float] = {}
    out["total"], _ = _timed(lambda: ws.metric(item.metric, **query))
    probes.active, probes.count, probes.seconds = True, 0, 0.0
    out["build"], expr = _timed(lambda: ws.expr(item.metric, **query))
    probes.active = False
    out["probes"], out["probe_s"] = probes.count, probes.seconds
    table = expr.as_table()
    out["compile"], sql = _timed(lambda: backend.compile(table))
    out["hooks"], _ = _timed(lambda: backend._run_pre_execute_hooks(table))
    out["db"], arrow = _timed(lambda: backend.con.sql(sql).to_arrow_table())
    out["pandas"], _ = _timed(lambda: arrow.to_pandas(date_as_object=True))
    out["hand"], _ = _timed(lambda: backend.con.sql(hand.sql(item)).df())
    out["sql"] = sql
    return out


def explain(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    rows = con.sql("EXPLAIN ANALYZE " + sql).fetchall()
    return "\n".join(r[-1] for r in rows)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--start", default="2024-07-01")
    p.add_argument("--end", default="2026-06-30")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--only", default=None, help="comma list of metric ids")
    p.add_argument("--explain", type=Path, default=None)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    start, end = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
    items = [i for i in suite() if not args.only or i.metric in args.only.split(",")]
    ws = funnelmetrics.open(args.db, read_only=True)
    probes, hand = Probes(), hand_sql.Queries(start, end)
    cols = ["total", "build", "probes", "probe_s", "compile", "hooks", "db", "pandas", "hand"]
    lines = [f"load {os.getloadavg()[0]:.2f}; best of {args.repeat} (s)", "",
             "| metric | " + " | ".join(cols) + " | total/hand | db/hand |",
             "|---|" + "---:|" * (len(cols) + 2)]
    sums = dict.fromkeys(cols, 0.0)
    for item in items:
        runs = [decompose(ws, item, start, end, probes, hand) for _ in range(args.repeat)]
        best = {c: min(r[c] for r in runs) for c in cols}
        for c in cols:
            sums[c] += best[c]
        cells = [f"{best[c]:.0f}" if c == "probes" else f"{best[c]:.3f}" for c in cols]
        lines.append(f"| {item.key} | " + " | ".join(cells) +
                     f" | {best['total'] / best['hand']:.1f} | {best['db'] / best['hand']:.2f} |")
        print(lines[-1], flush=True)
        if args.explain:
            args.explain.mkdir(parents=True, exist_ok=True)
            name = item.key.replace("(", "_").replace(")", "").replace(",", "_").replace("=", "-")
            (args.explain / f"{name}.funnelmetrics.txt").write_text(
                runs[0]["sql"] + "\n\n" + explain(ws.con.con, runs[0]["sql"]))
            (args.explain / f"{name}.hand.txt").write_text(
                hand.sql(item) + "\n\n" + explain(ws.con.con, hand.sql(item)))
    cells = [f"{sums[c]:.0f}" if c == "probes" else f"{sums[c]:.3f}" for c in cols]
    lines.append("| **sum** | " + " | ".join(cells) +
                 f" | {sums['total'] / sums['hand']:.1f} | {sums['db'] / sums['hand']:.2f} |")
    lines.append(f"\nload at end {os.getloadavg()[0]:.2f}")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
