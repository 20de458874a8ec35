"""Benchmark the attribution models (issue #4 §5) on synthetic journeys generated in DuckDB.

    .venv/bin/python benchmarks/bench_attribution.py --leads 1000000 [--conversion won]
        [--threads 2] [--db PATH] [--compare]

Data (made with range() and random(), nothing leaves DuckDB): N leads over 2025; 1–5 touches
each (3 on average, so ≈3N touchpoints) from 40 days before to 20 days after the lead's creation,
over 8 channels × 5 campaigns (later channels of the list are likelier in the journeys that go
further, so channels differ in effect); stages mql 50 %, sql 30 %, opportunity 15 %, won 6 % of leads;
an opportunity (won, lost or open) per opportunity-stage lead; daily spend per campaign.

Prints the data size, then per model the wall time of `attribute()` (journeys, credit, spend and
ROI: everything a user waits for), and with `--compare` Markov against ChannelAttribution's
simulated `markov_model` on the same journeys (when that optional package is installed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import funnelmetrics  # noqa: E402
from funnelmetrics.attribution import MODELS, NO_TOUCH, attribute, build_journeys  # noqa: E402
from funnelmetrics.attribution.markov import Markov  # noqa: E402

CHANNELS = ["paid_search", "paid_social", "organic", "email", "webinar", "events", "referral",
            "display"]

GENERATE = """
CREATE OR REPLACE TEMP TABLE _gen AS
SELECT i, 'L' || i AS lead_id,
       TIMESTAMP '2025-01-01' + to_seconds(CAST(random() * 365 * 86400 AS BIGINT)) AS created_at,
       1 + CAST(floor(random() * 5) AS INTEGER) AS k,
       random() AS u
FROM range({n}) t(i);

INSERT INTO leads (lead_id, created_at, source)
SELECT lead_id, created_at, 'synthetic' FROM _gen;

INSERT INTO touchpoints (lead_id, occurred_at, channel, campaign_id, touch_type)
SELECT lead_id, occurred_at, channel, channel || '-' || c AS campaign_id, 'visit'
FROM (
  SELECT g.lead_id,
         g.created_at + to_seconds(CAST((random() * 60 - 40) * 86400 AS BIGINT)) AS occurred_at,
         {channels}[1 + CAST(floor(8 * pow(random(), 0.5 + 2 * g.u)) AS INTEGER)] AS channel,
         CAST(floor(random() * 5) AS INTEGER) AS c
  FROM _gen g JOIN range(5) r(j) ON r.j < g.k
);

CREATE OR REPLACE TEMP TABLE _st AS
SELECT lead_id, u,
       created_at + to_seconds(CAST(random() * 10 * 86400 AS BIGINT)) AS mql_at
FROM _gen WHERE u < 0.5;
CREATE OR REPLACE TEMP TABLE _st2 AS
SELECT *, mql_at + to_seconds(CAST(random() * 10 * 86400 AS BIGINT)) AS sql_at FROM _st;
CREATE OR REPLACE TEMP TABLE _st3 AS
SELECT *, sql_at + to_seconds(CAST(random() * 10 * 86400 AS BIGINT)) AS opp_at,
       sql_at + to_seconds(CAST((10 + random() * 40) * 86400 AS BIGINT)) AS won_at
FROM _st2;

INSERT INTO stage_events SELECT lead_id, 'mql', mql_at FROM _st3;
INSERT INTO stage_events SELECT lead_id, 'sql', sql_at FROM _st3 WHERE u < 0.30;
INSERT INTO stage_events SELECT lead_id, 'opportunity', opp_at FROM _st3 WHERE u < 0.15;
INSERT INTO stage_events SELECT lead_id, 'won', won_at FROM _st3 WHERE u < 0.06;

INSERT INTO opportunities (opportunity_id, created_at, status, amount, lead_id, closed_at)
SELECT 'O' || lead_id, opp_at,
       CASE WHEN u < 0.06 THEN 'won' WHEN u < 0.12 THEN 'lost' ELSE 'open' END,
       round(1000 + random() * 49000, 2), lead_id,
       CASE WHEN u < 0.12 THEN won_at END
FROM _st3 WHERE u < 0.15;

INSERT INTO spend (date, amount, channel, campaign_id, category)
SELECT TIMESTAMP '2025-01-01' + to_days(CAST(d AS INTEGER)), round(random() * 30 * {scale}, 2),
       ch, ch || '-' || c, 'marketing'
FROM range(365) t(d), unnest({channels}) u(ch), range(5) r(c);
"""


def generate(path: Path, n: int) -> None:
    ws = funnelmetrics.open(path)
    con = ws.duckdb
    if con.execute("select count(*) from leads").fetchone()[0] == n:
        ws.close()
        return
    for table in ("leads", "touchpoints", "stage_events", "opportunities", "spend"):
        con.execute(f"delete from {table}")
    channels = "[" + ", ".join(f"'{c}'" for c in CHANNELS) + "]"
    con.execute("SET enable_progress_bar = false")
    con.execute("SELECT setseed(0.42)")
    con.execute(GENERATE.format(n=n, channels=channels, scale=max(n / 1000, 1)))
    con.execute("CHECKPOINT")
    ws.close()


def sizes(ws: funnelmetrics.Workspace) -> dict[str, int]:
    return {t: ws.duckdb.execute(f"select count(*) from {t}").fetchone()[0]
            for t in ("leads", "touchpoints", "stage_events", "opportunities", "spend")}


def compare_channelattribution(ws: funnelmetrics.Workspace, conversion: str) -> None:
    """Our exact Markov against ChannelAttribution's simulation on the same journeys."""
    try:
        import ChannelAttribution as ca  # noqa: N813 - the package's own name
    except ImportError:
        print("channelattribution is not installed: no comparison")
        return
    journeys = build_journeys(ws, conversion=conversion)
    ours = Markov().fit(journeys)
    p = journeys.paths
    per_lead = p.group_by(p.lead_id).aggregate(
        path=p.key.collect(order_by=[p.occurred_at, p.channel]).join(" > "),
        conv=p.converted.any().cast("int64"), value=p.value.max().fill_null(0.0))
    paths = per_lead.group_by("path").aggregate(
        conv=per_lead.conv.sum(), null=(1 - per_lead.conv).sum(),
        value=per_lead.value.sum()).execute()
    started = time.perf_counter()
    theirs = ca.markov_model(paths, "path", "conv", var_value="value", var_null="null",
                             out_more=True, verbose=False, flg_pro=False)
    took = time.perf_counter() - started
    # Their default max_step (the longest observed path) cuts simulated walks short, which
    # lowers every removal effect; with long walks and more simulations theirs nears ours.
    long = ca.markov_model(paths, "path", "conv", var_null="null", out_more=True,
                           verbose=False, flg_pro=False, max_step=100, nsim_start=1e6)
    re_long = long["removal_effects"].set_index("channel_name")["removal_effect"]
    result = theirs["result"].set_index("channel_name")
    re = theirs["removal_effects"].set_index("channel_name")
    mine = ours.credits_.set_index("key").drop(index=NO_TOUCH, errors="ignore")
    total_c, total_v = mine["credited_conversions"].sum(), mine["credited_revenue"].sum()
    print(f"\nChannelAttribution markov_model (simulated, {took:.1f} s on {len(paths):,} "
          f"distinct paths) vs ours (exact):")
    print(f"  {'channel':<12} {'RE ours':>8} {'RE theirs':>9} {'(long)':>7} {'conv ours':>10} "
          f"{'conv theirs':>11} {'value ours %':>12} {'value theirs %':>14}")
    worst = 0.0
    for ch in sorted(mine.index):
        c_ours, c_theirs = mine.loc[ch, "credited_conversions"], result.loc[ch, "total_conversions"]
        v_ours = mine.loc[ch, "credited_revenue"] / total_v * 100
        v_theirs = result.loc[ch, "total_conversion_value"] / \
            result["total_conversion_value"].sum() * 100
        worst = max(worst, abs(c_ours - c_theirs) / total_c)
        print(f"  {ch:<12} {ours.removal_effects_[ch]:8.4f} "
              f"{re.loc[ch, 'removal_effects_conversion']:9.4f} {re_long[ch]:7.4f} "
              f"{c_ours:10.1f} {c_theirs:11.1f} {v_ours:12.2f} {v_theirs:14.2f}")
    print(f"  largest difference in credited conversions: {worst:.3%} of all conversions")
    print("  RE theirs: default settings (walks cut at the longest observed path); (long): "
          "max_step=100, 1e6 simulations. Value: theirs credits each path's own value through "
          "value-weighted removal effects; ours splits the total by the conversion shares.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leads", type=int, default=1_000_000)
    ap.add_argument("--conversion", default="won")
    ap.add_argument("--by", default="channel")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--db", type=Path, default=None,
                    help="workspace to (re)use; default a file in the temp directory")
    ap.add_argument("--models", default="all")
    ap.add_argument("--compare", action="store_true",
                    help="compare Markov with ChannelAttribution (optional dev dependency)")
    args = ap.parse_args()
    path = args.db or Path(tempfile.gettempdir()) / f"bench_attribution_{args.leads}.duckdb"
    started = time.perf_counter()
    generate(path, args.leads)
    print(f"data: {path} (generated or reused in {time.perf_counter() - started:.1f} s)")
    ws = funnelmetrics.open(path)
    ws.duckdb.execute(f"SET threads = {args.threads}")
    ws.duckdb.execute("SET enable_progress_bar = false")
    n = sizes(ws)
    print("size: " + ", ".join(f"{k} {v:,}" for k, v in n.items()))
    summary = build_journeys(ws, conversion=args.conversion, by=args.by).summary
    print(f"conversion {args.conversion!r}: {summary.conversions:,} converted journeys "
          f"({summary.no_touch_conversions:,} with no touch), by {args.by}, "
          f"DuckDB threads {args.threads}")
    names = list(MODELS) if args.models == "all" else args.models.split(",")
    print("\nwall: elapsed seconds; cpu: process CPU seconds over all threads (cpu / threads is "
          "the wall time on an otherwise idle machine)")
    print(f"{'model':<16} {'wall s':>8} {'cpu s':>8}  {'target':>6}")
    for name in names:
        started, cpu = time.perf_counter(), time.process_time()
        df = attribute(ws, name, conversion=args.conversion, by=args.by)
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        target = 60 if name in ("markov", "shapley") else 30
        total = df["credited_conversions"].sum()
        print(f"{name:<16} {took:8.2f} {cpu:8.2f}  {target:>5}s  "
              f"({'ok' if took < target else 'SLOW'}; credited {total:,.1f})", flush=True)
    if args.compare:
        compare_channelattribution(ws, args.conversion)
    ws.close()


if __name__ == "__main__":
    main()
