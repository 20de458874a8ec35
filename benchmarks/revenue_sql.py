"""Hand-written DuckDB SQL for the benchmark's revenue suite (issue #3; suite.py REVENUE).

What someone fluent in SQL would write from SPEC §3 (revenue section) against the canonical tables
of a validated workspace, one query per metric, each from the base tables (nothing shared or
materialised between queries, as with `ws.metric`). Monthly in UTC, no dimensions:

* a subscription is active at a month's end when started_at < next and (ended_at is null or
  ended_at ≥ next), `next` being the next month's first instant;
* amounts in USD at the latest fx_rates rate of their currency dated on or before the row's date
  (an ASOF join): a subscription's mrr at started_at, spend at its date, a deal at closed_at;
* per account, MRR at every month's end of its whole history (paying subscriptions, mrr > 0);
  a month's movement compares the previous month's end with this month's end: 0 → x new, or
  reactivation when the account had MRR at an earlier month's end; x → 0 churn; x → y expansion
  (y > x) or contraction (y < x); an account is active when it has MRR > 0;
* ltv = arpa × gross margin / the monthly customer churn rate pooled over the period's months
  (accounts churned in its months / accounts active at each of its months' starts; months not
  begun at the query's instant left out); ltv_to_cac = ltv / cac; cac_payback_months = cac /
  (arpa × gross margin), arpa being MRR at the period's end / the accounts paying then;
* a new customer (cac) is an account at its first won deal or first paying subscription, whichever
  came first (a won deal without an account stands for itself, by its lead);
* every month of the range is present: sums and counts 0, a ratio null when its denominator is 0
  or null; gross margin 1.0 (the default setting).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
from hand_sql import Queries
from hand_sql import run as run_queries
from suite import REPORTING, Item, month_starts, revenue_suite


def _usd(alias: str) -> str:
    """The factor that takes a row's amount into USD (`alias`.currency, the ASOF-joined rate
    `fx`)."""
    return (f"CASE WHEN {alias}.currency IS NULL OR {alias}.currency = '{REPORTING}' THEN 1.0 "
            f"ELSE fx.rate_to_reporting END")


class RevenueQueries(Queries):
    """The SQL text of each revenue suite item for one [start, end] range."""

    def __init__(self, start: dt.date, end: dt.date, gross_margin: float = 1.0) -> None:
        super().__init__(start, end)
        months = month_starts(start, end)
        self.first, self.last = months[0], months[-1]
        self.margin = float(gross_margin)

    # ---- building blocks --------------------------------------------------------------------
    def _movements(self, name: str = "m", *, first_paid: bool = False) -> str:
        """CTEs ending in `name`: one row per month of the range with the MRR at its start and end,
        the movement sums and the account counts (0 where there are none). New and reactivation
        MRR need each account's first month end with MRR (`first_paid`): only then is it looked
        up (they are 0 otherwise)."""
        first = (f"{_FIRST_PAID} f ON f.account_id = cur.account_id" if first_paid else "")
        return f"""
subs AS (
  SELECT s.account_id, s.started_at, s.ended_at, s.mrr * {_usd('s')} AS mrr
  FROM subscriptions s
  ASOF LEFT JOIN fx_rates fx ON s.currency = fx.currency AND s.started_at >= fx.date
  WHERE s.mrr > 0),
month_ends AS (
  SELECT CAST(m AS DATE) AS month, m + INTERVAL 1 MONTH AS next_start
  FROM (SELECT unnest(generate_series(
          least(date_trunc('month', min(started_at)),
                TIMESTAMP '{self.first}' - INTERVAL 1 MONTH),
          TIMESTAMP '{self.last}', INTERVAL 1 MONTH)) AS m
        FROM subs)),
account_month AS (          -- MRR per account at each month's end of its history
  SELECT e.month, CAST(e.next_start AS DATE) AS next_month, s.account_id, sum(s.mrr) AS mrr
  FROM month_ends e JOIN subs s
    ON s.started_at < e.next_start AND (s.ended_at IS NULL OR s.ended_at >= e.next_start)
  GROUP BY ALL),
changes AS (                -- per account: previous month's end (s) → this month's end (e)
  SELECT coalesce(cur.month, prev.next_month) AS period_start,
         coalesce(prev.mrr, 0.0) AS s, coalesce(cur.mrr, 0.0) AS e,
         {"f.first_paid" if first_paid else "CAST(NULL AS DATE)"} AS first_paid
  FROM account_month cur FULL JOIN account_month prev
    ON prev.account_id = cur.account_id AND prev.next_month = cur.month
  {first}),
mv AS (
  SELECT period_start,
         sum(e) FILTER (WHERE s = 0 AND e > 0 AND first_paid = period_start) AS new,
         sum(e) FILTER (WHERE s = 0 AND e > 0 AND first_paid < period_start) AS reactivation,
         sum(e - s) FILTER (WHERE s > 0 AND e > s) AS expansion,
         sum(s - e) FILTER (WHERE e > 0 AND e < s) AS contraction,
         sum(s) FILTER (WHERE s > 0 AND e = 0) AS churn,
         count(*) FILTER (WHERE s > 0 AND e = 0) AS churned,
         sum(s) AS mrr_start, sum(e) AS mrr_end,
         count(*) FILTER (WHERE s > 0) AS active_start,
         count(*) FILTER (WHERE e > 0) AS active_end
  FROM changes
  WHERE period_start BETWEEN DATE '{self.first}' AND DATE '{self.last}'
  GROUP BY 1),
{name} AS (
  SELECT p.period_start,
         {", ".join(f"coalesce(mv.{c}, 0) AS {c}" for c in _MV)}
  FROM periods p LEFT JOIN mv USING (period_start))"""

    def _monthly(self, cte: str, value: str) -> str:
        return f"""
WITH {self.periods},
{cte}
SELECT period_start, {value} FROM m ORDER BY 1"""

    def _from_movements(self, value: str, *, first_paid: bool = False) -> str:
        return self._monthly(self._movements(first_paid=first_paid), value)

    def _acquisition(self) -> str:
        """CTEs `spend_m` (all spend per month, USD) and `customers_m` (new customers per month)."""
        return f"""
spend_m AS (
  SELECT CAST(date_trunc('month', s.date) AS DATE) AS period_start,
         sum(s.amount * {_usd('s')}) AS spend
  FROM spend s ASOF LEFT JOIN fx_rates fx ON s.currency = fx.currency AND s.date >= fx.date
  WHERE {self._in_range('s.date')}
  GROUP BY 1),
became AS (
  SELECT coalesce(account_id, 'lead:' || lead_id, 'opportunity:' || opportunity_id) AS customer,
         closed_at AS became_at
  FROM opportunities WHERE status = 'won' AND closed_at IS NOT NULL
  UNION ALL
  SELECT account_id, started_at FROM subscriptions WHERE mrr > 0),
customers_m AS (
  SELECT CAST(date_trunc('month', first_at) AS DATE) AS period_start, count(*) AS customers
  FROM (SELECT customer, min(became_at) AS first_at FROM became GROUP BY 1)
  WHERE {self._in_range('first_at')}
  GROUP BY 1)"""

    def _economics(self) -> str:
        """`m` with spend, new customers, arpa, the monthly churn rate and cac beside the
        movements. The churn rate is monthly whatever the period, pooled over its months: the
        accounts churned in its months / the accounts active at each of its months' starts, both
        summed over them, leaving out months not begun yet (a period of this suite is a single
        month, which the pooling spells out all the same)."""
        return f"""{self._movements("m0")},
{self._acquisition()},
pooled AS (
  SELECT p.period_start, sum(mo.churned) AS churned, sum(mo.active_start) AS active_start
  FROM m0 p JOIN m0 mo
    ON mo.period_start >= p.period_start AND mo.period_start < p.period_start + INTERVAL 1 MONTH
   AND mo.period_start < get_current_timestamp() AT TIME ZONE 'UTC'
  GROUP BY 1),
m AS (
  SELECT m0.*, {self._margin()} * m0.mrr_end / nullif(m0.active_end, 0) AS arpa_margin,
         CAST(pl.churned AS DOUBLE) / nullif(pl.active_start, 0) AS churn_rate,
         coalesce(sp.spend, 0) / nullif(cu.customers, 0) AS cac
  FROM m0 LEFT JOIN pooled pl USING (period_start)
  LEFT JOIN spend_m sp USING (period_start)
  LEFT JOIN customers_m cu USING (period_start))"""

    def _margin(self) -> str:
        return f"CAST({self.margin!r} AS DOUBLE)"

    @staticmethod
    def _quotient(num: str, den: str) -> str:
        """num / den with both parts as they are (null stays null): value null when den is."""
        return (f"{num} / nullif({den}, 0) AS value, CAST({num} AS DOUBLE) AS numerator, "
                f"CAST({den} AS DOUBLE) AS denominator")

    # ---- metrics ----------------------------------------------------------------------------
    def mrr(self, factor: int = 1) -> str:
        return f"""
WITH {self.periods},
subs AS (
  SELECT s.started_at, s.ended_at, s.mrr * {_usd('s')} AS mrr
  FROM subscriptions s
  ASOF LEFT JOIN fx_rates fx ON s.currency = fx.currency AND s.started_at >= fx.date),
ends AS (SELECT period_start, period_start + INTERVAL 1 MONTH AS next_start FROM periods)
SELECT e.period_start, {factor} * coalesce(sum(s.mrr), 0.0) AS value
FROM ends e LEFT JOIN subs s
  ON s.started_at < e.next_start AND (s.ended_at IS NULL OR s.ended_at >= e.next_start)
GROUP BY 1 ORDER BY 1"""

    def arr(self) -> str:
        return self.mrr(factor=12)

    def new_mrr(self) -> str:
        return self._from_movements("new AS value", first_paid=True)

    def expansion_mrr(self) -> str:
        return self._from_movements("expansion AS value")

    def contraction_mrr(self) -> str:
        return self._from_movements("contraction AS value")

    def churned_mrr(self) -> str:
        return self._from_movements("churn AS value")

    def reactivation_mrr(self) -> str:
        return self._from_movements("reactivation AS value", first_paid=True)

    def net_new_mrr(self) -> str:
        return self._from_movements("new + expansion + reactivation - contraction - churn "
                                    "AS value", first_paid=True)

    def customer_churn_rate(self) -> str:
        return self._from_movements(self._ratio("churned", "active_start"))

    def gross_mrr_churn_rate(self) -> str:
        return self._from_movements(self._ratio("churn + contraction", "mrr_start"))

    def net_revenue_retention(self) -> str:
        return self._from_movements(
            self._ratio("mrr_start + expansion - contraction - churn", "mrr_start"))

    def net_mrr_churn_rate(self) -> str:
        return self._from_movements(
            self._ratio("churn + contraction - expansion - reactivation", "mrr_start"),
            first_paid=True)

    def quick_ratio(self) -> str:
        return self._from_movements(
            self._ratio("new + reactivation + expansion", "(churn + contraction)"),
            first_paid=True)

    def arpa(self) -> str:
        return self._from_movements(self._ratio("mrr_end", "active_end"))

    def expansion_rate(self) -> str:
        return self._from_movements(self._ratio("expansion", "mrr_start"))

    def ltv(self) -> str:
        return self._monthly(self._economics(), self._quotient("arpa_margin", "churn_rate"))

    def ltv_to_cac(self) -> str:
        return self._monthly(self._economics(),
                             self._quotient("arpa_margin / nullif(churn_rate, 0)", "cac"))

    def cac_payback_months(self) -> str:
        return self._monthly(self._economics(), self._quotient("cac", "arpa_margin"))

    def cac(self) -> str:
        return f"""
WITH {self.periods},
{self._acquisition()}
SELECT p.period_start, {self._ratio('coalesce(sp.spend, 0)', 'cu.customers')}
FROM periods p LEFT JOIN spend_m sp USING (period_start)
LEFT JOIN customers_m cu USING (period_start) ORDER BY 1"""

    def won_revenue(self) -> str:
        return f"""
WITH {self.periods},
opps AS ({self._usd_opportunities()}),
agg AS (SELECT CAST(date_trunc('month', closed_at) AS DATE) AS period_start,
               sum(amount) AS won_amount
        FROM opps WHERE status = 'won' AND {self._in_range('closed_at')} GROUP BY 1)
SELECT p.period_start, coalesce(a.won_amount, 0.0) AS value
FROM periods p LEFT JOIN agg a USING (period_start) ORDER BY 1"""

    def cost_per_lead(self) -> str:
        return f"""
WITH {self.periods},
spend_m AS (
  SELECT CAST(date_trunc('month', s.date) AS DATE) AS period_start,
         sum(s.amount * {_usd('s')}) AS spend
  FROM spend s ASOF LEFT JOIN fx_rates fx ON s.currency = fx.currency AND s.date >= fx.date
  WHERE coalesce(s.category, 'marketing') = 'marketing' AND {self._in_range('s.date')}
  GROUP BY 1),
leads_m AS (SELECT CAST(date_trunc('month', created_at) AS DATE) AS period_start,
                   count(*) AS leads
            FROM leads WHERE {self._in_range('created_at')} GROUP BY 1)
SELECT p.period_start, {self._ratio('coalesce(sp.spend, 0)', 'le.leads')}
FROM periods p LEFT JOIN spend_m sp USING (period_start)
LEFT JOIN leads_m le USING (period_start) ORDER BY 1"""


# Each account's first month end with MRR (over its whole history).
_FIRST_PAID = ("LEFT JOIN (SELECT account_id, min(month) AS first_paid FROM account_month "
               "GROUP BY 1)")
_MV = ("new", "reactivation", "expansion", "contraction", "churn", "churned", "mrr_start",
       "mrr_end", "active_start", "active_end")


def run(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date,
        items: list[Item] | None = None, gross_margin: float = 1.0,
        ) -> tuple[dict[str, pd.DataFrame], dict[str, float]]:
    """Run every revenue query (results as pandas); returns results and seconds per item."""
    return run_queries(con, start, end, items or revenue_suite(),
                       RevenueQueries(start, end, gross_margin))
