"""SaaS revenue metrics (catalog/revenue.py, SPEC §3) on a hand-made subscription history.

Every expected value is worked out by hand in the comment beside its assert. Instants are UTC;
"Feb 1" means 2026-02-01T00:00Z. A subscription is active at a period's end when
started_at < next and (ended_at is null or ended_at ≥ next), `next` the next period's first
instant — so one that ends at Feb 1 00:00 is still active at the end of January.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

import funnelmetrics
from funnelmetrics.revenue.cohorts import mrr_cohorts
from funnelmetrics.revenue.movements import mrr_waterfall

Q = {"start": "2026-01-01", "end": "2026-04-30"}  # Jan, Feb, Mar, Apr

# The accounts (mrr per month):
#   A  S1 100  Jan 10 → Mar 1 00:00 (ends exactly on the boundary)  then S2 150 from Mar 1
#   B  S3 200  Jan 5 → Feb 1 00:00; comes back with S4 300 from Apr 2 (reactivation)
#   C  S5 100  Feb 3 → Mar 10, S6 250 Mar 10 → Mar 20 (upgrade), S7 80 from Mar 20 (downgrade)
#   D  S8 60   Jan 3 → Jan 20 (never spans a period end), S9 40 from Feb 15
#   E  S10 0   from Jan 1 (a free plan: never paying)
SUBSCRIPTIONS = [
    ("S1", "A", 100, "2026-01-10", "2026-03-01"), ("S2", "A", 150, "2026-03-01", None),
    ("S3", "B", 200, "2026-01-05", "2026-02-01"), ("S4", "B", 300, "2026-04-02", None),
    ("S5", "C", 100, "2026-02-03", "2026-03-10"), ("S6", "C", 250, "2026-03-10", "2026-03-20"),
    ("S7", "C", 80, "2026-03-20", None),
    ("S8", "D", 60, "2026-01-03", "2026-01-20"), ("S9", "D", 40, "2026-02-15", None),
    ("S10", "E", 0, "2026-01-01", None),
]
# MRR at each month's end (by hand):
#   end Jan (next Feb 1): A 100, B 200 (ends Feb 1 ≥ Feb 1)            = 300
#   end Feb (next Mar 1): A 100 (S1 ends Mar 1 ≥ Mar 1; S2 not yet), C 100, D 40 = 240
#   end Mar (next Apr 1): A 150, C 80, D 40                             = 270
#   end Apr (next May 1): A 150, B 300, C 80, D 40                      = 570
ACCOUNTS = [("A", "saas"), ("B", "fintech"), ("C", "saas")]  # D is not in accounts


def fill(ws) -> None:
    ws.duckdb.executemany(
        "INSERT INTO subscriptions (subscription_id, account_id, mrr, started_at, ended_at, plan) "
        "VALUES (?, ?, ?, CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP), 'basic')", SUBSCRIPTIONS)
    ws.duckdb.executemany("INSERT INTO accounts (account_id, industry) VALUES (?, ?)", ACCOUNTS)


@pytest.fixture
def ws(make_sql_ws):
    """The accounts above, on each backend."""
    return make_sql_ws(fill)


def values(df) -> list:
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else v
            for v in df["value"]]


def approx(items: list) -> list:
    return [None if v is None else pytest.approx(v) for v in items]


# ---- mrr, arr -------------------------------------------------------------------------------
def test_mrr_counts_subscriptions_active_just_before_the_next_period(ws):
    # A's S1 ends Mar 1 00:00 and B's S3 Feb 1 00:00: both still count at the month before.
    assert values(ws.metric("mrr", **Q)) == [300, 240, 270, 570]


def test_arr_is_twelve_times_mrr(ws):
    assert values(ws.metric("arr", **Q)) == [3600, 2880, 3240, 6840]  # 12 × 300, 240, 270, 570


def test_mrr_by_account_industry_unknown_without_an_account_row(ws):
    df = ws.metric("mrr", by="industry", **Q)
    apr = df[df.period_start.astype(str) == "2026-04-01"].set_index("industry")["value"]
    assert apr["saas"] == 230  # A 150 + C 80
    assert apr["fintech"] == 300  # B
    assert apr[apr.index.isna()].iloc[0] == 40  # D has no accounts row: unknown industry


# ---- movements ------------------------------------------------------------------------------
def test_new_mrr_first_paid_accounts_only(ws):
    # Jan: A 0→100, B 0→200 = 300. Feb: C 0→100, D 0→40 — D's January subscription ended
    # before any month end, so D never had MRR at a period end: new, not reactivation = 140.
    assert values(ws.metric("new_mrr", **Q)) == [300, 140, 0, 0]


def test_reactivation_when_the_account_had_mrr_at_an_earlier_period_end(ws):
    # Apr: B 0 (end Mar) → 300 (end Apr); B had 200 at the end of January.
    assert values(ws.metric("reactivation_mrr", **Q)) == [0, 0, 0, 300]


def test_reactivation_looks_before_the_query_start(ws):
    # Only April is asked for; B's January MRR still makes April a reactivation.
    assert values(ws.metric("reactivation_mrr", start="2026-04-01", end="2026-04-30")) == [300]
    assert values(ws.metric("new_mrr", start="2026-04-01", end="2026-04-30")) == [0]


def test_churned_mrr(ws):
    assert values(ws.metric("churned_mrr", **Q)) == [0, 200, 0, 0]  # Feb: B 200 → 0


def test_upgrade_and_downgrade_in_one_month_count_their_net_effect(ws):
    # Mar: A 100 → 150 = +50 expansion. C 100 → 80 at the period ends (the 250 in between is
    # not seen): 20 contraction, no expansion.
    assert values(ws.metric("expansion_mrr", **Q)) == [0, 0, 50, 0]
    assert values(ws.metric("contraction_mrr", **Q)) == [0, 0, 20, 0]


def test_net_new_mrr_is_the_change_of_mrr(ws):
    # Jan 300; Feb 140 − 200 = −60 (300 → 240); Mar 50 − 20 = 30 (240 → 270); Apr 300.
    assert values(ws.metric("net_new_mrr", **Q)) == [300, -60, 30, 300]


def test_movements_by_account(ws):
    df = ws.metric("new_mrr", by="account_id", start="2026-02-01", end="2026-02-28")
    assert dict(zip(df.account_id, df.value, strict=True)) == {
        "A": 0, "B": 0, "C": 100, "D": 40}  # E (free plan) never appears


def test_movements_split_by_a_subscription_column_is_a_clear_error(ws):
    with pytest.raises(funnelmetrics.QueryError, match="per account.*'plan'"):
        ws.metric("new_mrr", by="plan", **Q)


# ---- rates ----------------------------------------------------------------------------------
def test_customer_churn_rate(ws):
    df = ws.metric("customer_churn_rate", **Q)
    # Jan: nobody active at the start → null. Feb: B churned of A, B = 1/2.
    # Mar: of A, C, D none churned = 0/3. Apr: 0/3.
    assert values(df) == [None, 0.5, 0, 0]
    assert list(df.denominator) == [0, 2, 3, 3]


def test_gross_mrr_churn_rate(ws):
    # Feb: (200 + 0) / 300; Mar: (0 + 20) / 240; Apr: 0 / 270.
    assert values(ws.metric("gross_mrr_churn_rate", **Q)) == approx([None, 2 / 3, 1 / 12, 0])


def test_net_revenue_retention(ws):
    # Feb: (300 + 0 − 0 − 200)/300 = 1/3; Mar: (240 + 50 − 20)/240 = 1.125;
    # Apr: (270 + 0)/270 = 1 (B's reactivation is not retention).
    assert values(ws.metric("net_revenue_retention", **Q)) == approx([None, 1 / 3, 1.125, 1])


def test_net_mrr_churn_rate_is_negative_on_net_expansion(ws):
    # Feb: 200/300; Mar: (20 − 50)/240 = −0.125; Apr: (0 − 300)/270 = −10/9.
    assert values(ws.metric("net_mrr_churn_rate", **Q)) == approx(
        [None, 2 / 3, -0.125, -10 / 9])


def test_quick_ratio(ws):
    # Feb: (140 new) / (200 churn) = 0.7; Mar: 50 / 20 = 2.5; Apr: 300 / 0 → null.
    assert values(ws.metric("quick_ratio", **Q)) == approx([None, 0.7, 2.5, None])


def test_expansion_rate(ws):
    assert values(ws.metric("expansion_rate", **Q)) == approx([None, 0, 50 / 240, 0])


def test_arpa(ws):
    # Jan 300/2 (A, B); Feb 240/3 (A, C, D); Mar 270/3; Apr 570/4. E's free plan is no account.
    assert values(ws.metric("arpa", **Q)) == approx([150, 80, 90, 142.5])


def test_totals_start_from_the_accounts_paying_at_the_query_start(ws):
    # March and April only: MRR and accounts at the start of March (the end of February) are
    # A 100, C 100, D 40 = 240 over 3 accounts — none of them changes in the range but A and C.
    # Mar: 240 + 50 (A) − 20 (C) = 270, 3 accounts; Apr: 270 + 300 (B returns) = 570, 4 accounts.
    q = {"start": "2026-03-01", "end": "2026-04-30"}
    arpa = ws.metric("arpa", **q)
    assert values(arpa) == approx([90, 142.5])  # 270 / 3, 570 / 4
    assert list(arpa.denominator) == [3, 4]
    churn = ws.metric("customer_churn_rate", **q)
    assert values(churn) == [0, 0] and list(churn.denominator) == [3, 3]
    assert values(ws.metric("net_revenue_retention", **q)) == approx([1.125, 1])  # 270/240
    assert values(ws.metric("gross_mrr_churn_rate", **q)) == approx([1 / 12, 0])  # 20/240
    assert values(ws.metric("net_mrr_churn_rate", **q)) == approx([-0.125, -10 / 9])
    df = mrr_waterfall(ws, **q)
    assert list(df.start) == approx([240, 270]) and list(df.end) == approx([270, 570])


def test_totals_by_account_attribute_from_a_later_start(ws):
    df = ws.metric("arpa", by="industry", start="2026-03-01", end="2026-04-30")
    got = {(str(p), i): v for p, i, v in zip(df.period_start, df.industry, values(df),
                                             strict=True)}
    # saas (A, C): 150 + 80 over 2 in both months; fintech (B): nobody in March → null, 300 in
    # April; D has no accounts row (unknown industry): 40 over 1.
    assert got == {("2026-03-01", "saas"): 115, ("2026-04-01", "saas"): 115,
                   ("2026-03-01", "fintech"): None, ("2026-04-01", "fintech"): 300,
                   ("2026-03-01", None): 40, ("2026-04-01", None): 40}


SHAPES = [{**Q}, {"start": "2026-03-01", "end": "2026-04-30"}, {**Q, "as_of": "2026-02-15"},
          {**Q, "grain": "quarter"}, {**Q, "by": "industry"}, {**Q, "where": {"industry": "saas"}}]
BATCH = [(m, q) for m in ("new_mrr", "reactivation_mrr", "customer_churn_rate",
                          "net_revenue_retention", "arpa", "ltv", "mrr") for q in SHAPES]
BATCH += [("ltv_to_cac", q) for q in SHAPES[:4]]  # spend splits by no account attribute


# Spark answers each query in about a second: there every metric meets two of the shapes and
# every shape two metrics (batching is the compiler's, the same on every engine)
ROTATED = [(m, q) for i, m in enumerate(dict.fromkeys(m for m, _ in BATCH))
           for q in (SHAPES[i % 4], SHAPES[(i + 1) % 4] if m == "ltv_to_cac" else SHAPES[4 + i % 2])]


def test_a_batch_gives_the_figures_of_single_queries(ws, backend):
    queries = ROTATED if backend == "pyspark" else BATCH
    single = [ws.metric(m, **q) for m, q in queries]
    batched = ws.metrics(queries)
    for (m, q), a, b in zip(queries, single, batched, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=False, obj=f"{m} {q}")


@pytest.mark.duckdb_only("reads DuckDB's own catalogue (duckdb_tables) for temporary tables")
def test_a_batch_drops_its_shared_movement_tables(ws):
    ws.metrics(BATCH)
    temporary = ws.duckdb.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary")
    assert temporary.fetchone()[0] == 0


# ---- ltv ------------------------------------------------------------------------------------
def test_ltv_is_null_without_churned_accounts(ws):
    # Feb: arpa 80 × margin 1.0 / churn 0.5 = 160. Mar, Apr: nobody churned → null, not 0.
    # Jan: no account at the start → churn rate null → null.
    assert values(ws.metric("ltv", **Q)) == approx([None, 160, None, None])


def test_ltv_uses_the_configured_gross_margin(make_sql_ws):
    ws = make_sql_ws(fill, config=funnelmetrics.Config(gross_margin=0.8))
    df = ws.metric("ltv", start="2026-02-01", end="2026-02-28")
    assert values(df) == [pytest.approx(128)]  # 80 × 0.8 / 0.5


# ---- as of, grains, time zones ----------------------------------------------------------------
def test_as_of_sees_later_endings_as_active_and_later_starts_as_absent(ws):
    df = ws.metric("mrr", as_of="2026-02-15", **Q)
    # As of Feb 15 00:00: S1 and S5 end later (treated as active), S9 starts exactly then (not
    # yet), S2/S4/S6/S7 later. Jan: A 100 + B 200; Feb, Mar, Apr: A 100 + C 100.
    assert values(df) == [300, 200, 200, 200]


def test_quarter_grain(ws):
    df = ws.metric("net_new_mrr", grain="quarter", start="2026-01-01", end="2026-06-30")
    # Q1: 0 → 270 (MRR at the end of March); Q2: 270 → 570 (end of June) = 300.
    assert values(df) == [270, 300]
    # Quarter ends are the only period ends now: B's S3 (Jan 5 → Feb 1) spans none, so B's
    # return in April is new MRR at this grain, not a reactivation.
    assert values(ws.metric("new_mrr", grain="quarter", start="2026-04-01",
                            end="2026-06-30")) == [300]
    assert values(ws.metric("reactivation_mrr", grain="quarter", start="2026-04-01",
                            end="2026-06-30")) == [0]


def test_period_ends_follow_the_workspace_time_zone(make_sql_ws):
    # Jakarta is UTC+7: Feb 1 00:00 local = Jan 31 17:00 UTC.
    ws = make_sql_ws(
        "INSERT INTO subscriptions (subscription_id, account_id, mrr, started_at, ended_at) VALUES "
        "('T1', 'X', 10, '2026-01-05', '2026-01-31 17:00'),"  # ends exactly at local Feb 1
        "('T2', 'Y', 20, '2026-01-05', '2026-01-31 16:59')",  # ends a minute before it
        config=funnelmetrics.Config(timezone="Asia/Jakarta"))
    assert values(ws.metric("mrr", start="2026-01-01", end="2026-01-31")) == [10]


# ---- the waterfall and cohorts (library behind `funnelmetrics mrr`) ---------------------------
def test_waterfall_adds_up(ws):
    df = mrr_waterfall(ws, **Q)
    rows = df.set_index(df.pop("period_start").astype(str)).to_dict("index")
    assert rows["2026-02-01"] == {"start": 300, "new": 140, "expansion": 0, "reactivation": 0,
                                  "contraction": 0, "churn": -200, "end": 240, "net_new": -60,
                                  "partial": False}
    assert rows["2026-03-01"]["contraction"] == -20  # shrinking steps are negative
    assert rows["2026-04-01"]["reactivation"] == 300
    for row in rows.values():  # start + movements = end, every period
        steps = ("new", "expansion", "reactivation", "contraction", "churn")
        assert row["start"] + sum(row[s] for s in steps) == pytest.approx(row["end"])


def test_waterfall_from_a_day_inside_a_period_has_each_period_once(ws):
    # A range that begins on 2026-03-20 (a default range begins on the data's first day) covers
    # the whole of March: one March row, one April row, March starting at February's end (240,
    # the figures of test_totals_from_a_later_start) — never a second April built from the
    # mid-March instant.
    df = mrr_waterfall(ws, start="2026-03-20", end="2026-04-30")
    assert [str(p) for p in df.period_start] == ["2026-03-01", "2026-04-01"]
    assert list(df.start) == approx([240, 270]) and list(df.end) == approx([270, 570])


def test_cohort_retention(ws):
    df = mrr_cohorts(ws, **Q)
    jan = df[df.cohort.astype(str) == "2026-01-01"].set_index("periods_since_start")
    # January cohort: first paid start in Jan — A (Jan 10), B (Jan 5), D (Jan 3) = 3 accounts.
    # Age 0 (end Jan): A 100, B 200 = 2 accounts, 300. Age 1 (end Feb): A 100, D 40 = 2, 140.
    # Age 2 (end Mar): A 150, D 40 = 2, 190. Age 3 (end Apr): A, B, D = 3, 490.
    assert list(jan.cohort_accounts) == [3, 3, 3, 3]
    assert list(jan.accounts) == [2, 2, 2, 3]
    assert list(jan.mrr) == [300, 140, 190, 490]
    assert list(jan.account_retention) == approx([2 / 3, 2 / 3, 2 / 3, 1])
    assert list(jan.mrr_retention) == approx([1, 140 / 300, 190 / 300, 490 / 300])
    feb = df[df.cohort.astype(str) == "2026-02-01"]
    assert list(feb.accounts) == [1, 1, 1]  # C: end Feb 100, Mar 80, Apr 80
    assert list(feb.mrr_retention) == approx([1, 0.8, 0.8])
