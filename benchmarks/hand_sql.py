"""Hand-written DuckDB SQL for the benchmark's funnel metric suite (benchmarks/suite.py).

What someone fluent in SQL would write against the canonical tables of a validated workspace, one
query per metric, each from the base tables (nothing shared or materialised between queries, as
with `ws.metric`). It relies on what validated ingest guarantees (every stage event names a loaded
lead, statuses are open/won/lost) and follows SPEC §3 to the letter:

* reach time of stage k (cumulative): the lead's earliest event of stage k or any later stage of
  the sales funnel; every lead reaches `lead` at its created_at;
* a deal counts as closed only with status won/lost and a closed_at;
* amounts in USD at the latest fx_rates rate dated on or before closed_at (created_at while
  open), via an ASOF join;
* months in UTC, every month of the range present (0 for counts and sums, null otherwise).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import duckdb
import pandas as pd
from suite import REPORTING, STAGES, WINDOW_DAYS, Item, month_starts, suite


def _later(stage: str) -> str:
    """SQL list of `stage` and every later stage of the funnel."""
    return ", ".join(f"'{s}'" for s in STAGES[STAGES.index(stage):])


class Queries:
    """The SQL text of each suite item for one [start, end] range."""

    def __init__(self, start: dt.date, end: dt.date) -> None:
        months = month_starts(start, end)
        stop = (months[-1].replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        self.lo = f"TIMESTAMP '{start} 00:00:00'"
        self.hi = f"TIMESTAMP '{end + dt.timedelta(days=1)} 00:00:00'"
        self.periods = (f"periods AS (SELECT CAST(range AS DATE) AS period_start FROM "
                        f"range(DATE '{months[0]}', DATE '{stop}', INTERVAL 1 MONTH))")

    def _in_range(self, ts: str) -> str:
        return f"{ts} >= {self.lo} AND {ts} < {self.hi}"

    # ---- shapes -----------------------------------------------------------------------------
    def _count(self, rows: str, ts: str) -> str:
        return f"""
WITH {self.periods},
rows AS ({rows}),
agg AS (SELECT CAST(date_trunc('month', {ts}) AS DATE) AS period_start, count(*) AS n
        FROM rows WHERE {self._in_range(ts)} GROUP BY 1)
SELECT p.period_start, CAST(coalesce(a.n, 0) AS DOUBLE) AS value
FROM periods p LEFT JOIN agg a USING (period_start) ORDER BY 1"""

    @staticmethod
    def _ratio(num: str, den: str) -> str:
        return (f"CASE WHEN coalesce({den}, 0) = 0 THEN NULL "
                f"ELSE CAST({num} AS DOUBLE) / {den} END AS value, "
                f"CAST(coalesce({num}, 0) AS DOUBLE) AS numerator, "
                f"CAST(coalesce({den}, 0) AS DOUBLE) AS denominator")

    @staticmethod
    def _pair(a: str, b: str) -> str:
        """Per lead: reach time of stage a (t_a) and of stage b (t_b, later than a)."""
        if a == STAGES[0]:
            return (f"SELECT l.created_at AS t_a, r.t_b FROM leads l LEFT JOIN "
                    f"(SELECT lead_id, min(occurred_at) AS t_b FROM stage_events "
                    f"WHERE stage IN ({_later(b)}) GROUP BY lead_id) r USING (lead_id)")
        return (f"SELECT min(occurred_at) AS t_a, "
                f"min(occurred_at) FILTER (WHERE stage IN ({_later(b)})) AS t_b "
                f"FROM stage_events WHERE stage IN ({_later(a)}) GROUP BY lead_id")

    def _usd_opportunities(self) -> str:
        """Opportunities with amounts in USD (closed only when won/lost with a closed_at)."""
        return f"""
SELECT o.created_at, o.status, o.closed_at,
       o.amount * CASE WHEN o.currency IS NULL OR o.currency = '{REPORTING}' THEN 1.0
                       ELSE fx.rate_to_reporting END AS amount
FROM (SELECT created_at, amount, currency,
             CASE WHEN status IN ('won', 'lost') AND closed_at IS NOT NULL
                  THEN status ELSE 'open' END AS status,
             CASE WHEN status IN ('won', 'lost') THEN closed_at END AS closed_at,
             coalesce(CASE WHEN status IN ('won', 'lost') THEN closed_at END, created_at)
                 AS fx_on
      FROM opportunities) o
ASOF LEFT JOIN fx_rates fx ON o.currency = fx.currency AND o.fx_on >= fx.date"""

    # ---- metrics ----------------------------------------------------------------------------
    def leads_created(self) -> str:
        return self._count("SELECT created_at FROM leads", "created_at")

    def stage_reached(self, stage: str) -> str:
        if stage == STAGES[0]:
            return self.leads_created()
        return self._count(f"SELECT min(occurred_at) AS t FROM stage_events "
                           f"WHERE stage IN ({_later(stage)}) GROUP BY lead_id", "t")

    def stage_conversion_rate(self, from_stage: str, to_stage: str) -> str:
        return f"""
WITH {self.periods},
rows AS ({self._pair(from_stage, to_stage)}),
agg AS (SELECT CAST(date_trunc('month', t_a) AS DATE) AS period_start, count(*) AS entered,
               count(*) FILTER (WHERE t_b <= t_a + INTERVAL {WINDOW_DAYS} DAY) AS converted
        FROM rows WHERE {self._in_range('t_a')} GROUP BY 1)
SELECT p.period_start, {self._ratio('a.converted', 'a.entered')}
FROM periods p LEFT JOIN agg a USING (period_start) ORDER BY 1"""

    def lead_conversion_rate(self) -> str:
        return self.stage_conversion_rate(STAGES[0], STAGES[-1])

    def time_in_stage(self, stage: str, stat: str = "mean") -> str:
        assert stat == "mean"
        nxt = STAGES[STAGES.index(stage) + 1]
        return f"""
WITH {self.periods},
rows AS ({self._pair(stage, nxt)}),
agg AS (SELECT CAST(date_trunc('month', t_a) AS DATE) AS period_start,
               avg(date_diff('microsecond', t_a, t_b) / 86400000000.0) AS days
        FROM rows WHERE t_b IS NOT NULL AND {self._in_range('t_a')} GROUP BY 1)
SELECT p.period_start, a.days AS value
FROM periods p LEFT JOIN agg a USING (period_start) ORDER BY 1"""

    def win_rate(self) -> str:
        return f"""
WITH {self.periods},
agg AS (SELECT CAST(date_trunc('month', closed_at) AS DATE) AS period_start,
               count(*) FILTER (WHERE status = 'won') AS won, count(*) AS closed
        FROM opportunities
        WHERE status IN ('won', 'lost') AND {self._in_range('closed_at')} GROUP BY 1)
SELECT p.period_start, {self._ratio('a.won', 'a.closed')}
FROM periods p LEFT JOIN agg a USING (period_start) ORDER BY 1"""

    def average_deal_size(self) -> str:
        return f"""
WITH {self.periods},
opps AS ({self._usd_opportunities()}),
agg AS (SELECT CAST(date_trunc('month', closed_at) AS DATE) AS period_start,
               sum(amount) AS won_amount, count(*) AS won
        FROM opps WHERE status = 'won' AND {self._in_range('closed_at')} GROUP BY 1)
SELECT p.period_start, {self._ratio('a.won_amount', 'a.won')}
FROM periods p LEFT JOIN agg a USING (period_start) ORDER BY 1"""

    def sales_cycle_days(self) -> str:
        return f"""
WITH {self.periods},
agg AS (SELECT CAST(date_trunc('month', closed_at) AS DATE) AS period_start,
               avg(date_diff('microsecond', created_at, closed_at) / 86400000000.0) AS days
        FROM opportunities WHERE status = 'won' AND {self._in_range('closed_at')} GROUP BY 1)
SELECT p.period_start, a.days AS value
FROM periods p LEFT JOIN agg a USING (period_start) ORDER BY 1"""

    def pipeline_value(self) -> str:
        return f"""
WITH {self.periods},
ends AS (SELECT period_start, period_start + INTERVAL 1 MONTH AS next_start FROM periods),
opps AS ({self._usd_opportunities()})
SELECT e.period_start, coalesce(sum(o.amount), 0.0) AS value
FROM ends e LEFT JOIN opps o
  ON o.created_at < e.next_start AND (o.closed_at IS NULL OR o.closed_at >= e.next_start)
GROUP BY 1 ORDER BY 1"""

    def sql(self, item: Item) -> str:
        method: Callable[..., str] = getattr(self, item.metric)
        return method(**item.kwargs)


def run(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date,
        items: list[Item] | None = None,
        queries: Queries | None = None) -> tuple[dict[str, pd.DataFrame], dict[str, float]]:
    """Run every query (results as pandas); returns results and seconds per item. `queries`
    (default: this module's funnel queries) gives each item's SQL text."""
    q = queries or Queries(start, end)
    results, seconds = {}, {}
    for item in items or suite():
        t0 = time.perf_counter()
        results[item.key] = con.sql(q.sql(item)).df()
        seconds[item.key] = time.perf_counter() - t0
    return results, seconds
