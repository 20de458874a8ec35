"""LTV, LTV:CAC and CAC payback on a monthly basis at every grain (SPEC §3 ltv, ltv_to_cac,
cac_payback_months; funnelmetrics/revenue/monthly_churn.py).

ltv = monthly ARPA (MRR at the period's end / accounts paying then) × gross margin / the period's
monthly customer churn rate, pooled over its months: Σ churned_m / Σ active-at-start_m. Every
expected value is worked out by hand beside its assert. Instants are UTC unless a test says
otherwise; "Jan 15" means 2025-01-15T00:00Z. A subscription is active at a month's end when
started_at < next and (ended_at is null or ended_at ≥ next), `next` the next month's first instant.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from journeys import DUCKDB, _copy_to, _insert, journeys, row_for, values

import funnelmetrics

# The accounts (industry; subscriptions; mrr per month):
#   P saas     100  Dec 1, 2024 → Jan 15        churns in January
#   Q saas     100  Dec 1, 2024 → Mar 10        churns in March
#   R fintech  100  Dec 1, 2024 → Mar 20        churns in March
#   S saas     100  from Dec 1, 2024
#   T fintech  200  Jan 10 → Aug 20             churns in August
#   U fintech  200  from Jan 10
#   V fintech  400  from Feb 5
#   W fintech  300  from Apr 15
SUBSCRIPTIONS = [
    ("SP", "P", 100, "2024-12-01", "2025-01-15"), ("SQ", "Q", 100, "2024-12-01", "2025-03-10"),
    ("SR", "R", 100, "2024-12-01", "2025-03-20"), ("SS", "S", 100, "2024-12-01", None),
    ("ST", "T", 200, "2025-01-10", "2025-08-20"), ("SU", "U", 200, "2025-01-10", None),
    ("SV", "V", 400, "2025-02-05", None), ("SW", "W", 300, "2025-04-15", None),
]
INDUSTRY = {"P": "saas", "Q": "saas", "S": "saas",
            "R": "fintech", "T": "fintech", "U": "fintech", "V": "fintech", "W": "fintech"}
# Marketing spend, 1000 a month in Q1. New customers (first paid subscription): T, U in January,
# V in February (P, Q, R, S have been customers since December 2024) → Q1 CAC = 3000 / 3 = 1000.
SPEND = [{"date": f"2025-0{m}-05", "amount": 1000} for m in (1, 2, 3)]

# Per month (accounts with MRR at the month's start = at the previous month's end; churned = with
# MRR at the previous month's end and none at this month's end; MRR and accounts at its end):
#   Jan  start P Q R S = 4   churned P = 1      end Q R S T U = 5, MRR 700   → ARPA 140
#   Feb  start Q R S T U = 5 churned 0          end + V = 6, MRR 1100        → ARPA 550/3
#   Mar  start 6             churned Q R = 2    end S T U V = 4, MRR 900     → ARPA 225
#   Apr  start 4             churned 0          end + W = 5, MRR 1200        → ARPA 240
#   May, Jun, Jul  start 5   churned 0
#   Aug  start 5             churned T = 1      end S U V W = 4, MRR 1000    → ARPA 250
#   Sep … Dec  start 4       churned 0                                        ARPA 250
Q1 = {"grain": "quarter", "start": "2025-01-01", "end": "2025-03-31"}
YEAR = {"start": "2025-01-01", "end": "2025-12-31"}


def workspace(directory: Path, backend: str, subscriptions=SUBSCRIPTIONS, *, spend=SPEND,
              industry=INDUSTRY, **options):
    """A journeys() workspace with these subscriptions and spend rows, on `backend`."""
    ws = journeys(directory, accounts={a: {"industry": i} for a, i in industry.items()},
                  **options)
    keys = ("subscription_id", "account_id", "mrr", "started_at", "ended_at")
    _insert(ws, "subscriptions", [dict(zip(keys, row, strict=True)) for row in subscriptions])
    _insert(ws, "spend", spend)
    if backend == DUCKDB:
        return ws
    other = _copy_to(ws, backend)
    ws.close()
    return other


@pytest.fixture
def ws(tmp_path: Path, backend: str):
    workspace_ = workspace(tmp_path / "ws", backend)
    yield workspace_
    workspace_.close()


def approx(items: list) -> list:
    return [None if v is None else pytest.approx(v) for v in items]


def one(df, column: str = "value"):
    """The single row's figure (None for null)."""
    assert len(df) == 1, df
    v = df[column].iloc[0]
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


# ---- month grain: as before --------------------------------------------------------------------
def test_month_grain_is_monthly_arpa_over_the_months_own_churn_rate(ws):
    q = {"start": "2025-01-01", "end": "2025-04-30"}
    # Jan: 140 / (1/4) = 560. Feb: nobody churned → null. Mar: 225 / (2/6) = 675. Apr: null.
    assert values(ws.metric("ltv", **q)) == approx([560, None, 675, None])
    # … which is arpa × margin / customer_churn_rate of each month, as before the change.
    arpa = values(ws.metric("arpa", **q))
    churn = values(ws.metric("customer_churn_rate", **q))
    expected = [None if not c else a / c for a, c in zip(arpa, churn, strict=True)]
    assert values(ws.metric("ltv", **q)) == approx(expected)
    df = ws.metric("ltv", **q)
    assert list(df.denominator) == approx([0.25, 0, 1 / 3, 0])  # the months' own rates


# ---- a quarter pools its months ------------------------------------------------------------------
def test_a_quarter_pools_its_months_churn(ws):
    df = ws.metric("ltv", **Q1)
    # Pooled: (1 + 0 + 2) churned / (4 + 5 + 6) active at the months' starts = 3/15 = 0.2.
    # ARPA at the end of March 225 → 225 / 0.2 = 1125.
    assert values(df) == approx([1125])
    assert one(df, "numerator") == pytest.approx(225)
    assert one(df, "denominator") == pytest.approx(0.2)
    # Not the quarterly rate: P, Q, R had MRR at December's end and none at March's end, of the
    # 4 active at the quarter's start = 3/4 (LTV 225 / 0.75 = 300) …
    assert values(ws.metric("customer_churn_rate", **Q1)) == approx([0.75])
    # … nor the mean of the monthly rates: (1/4 + 0 + 2/6) / 3 = 7/36 (LTV 1157.14…).
    assert one(df) != pytest.approx(225 / (7 / 36))


def test_quarters_of_a_year_and_a_quarter_without_churn_is_null(ws):
    df = ws.metric("ltv", grain="quarter", **YEAR)
    # Q1 1125 (above). Q2: Apr 4, May 5, Jun 5 active at the starts, nobody churned → rate 0 →
    # null, not 0 nor infinite. Q3: T churned in August: 1 / (5 + 5 + 4) = 1/14; ARPA at the end
    # of September 1000 / 4 = 250 → 250 × 14 = 3500. Q4: 4 + 4 + 4, nobody churned → null.
    assert values(df) == approx([1125, None, 3500, None])
    assert list(df.denominator) == approx([0.2, 0, 1 / 14, 0])


def test_a_year_pools_its_twelve_months(ws):
    df = ws.metric("ltv", grain="year", **YEAR)
    # Churned P (Jan), Q R (Mar), T (Aug) = 4; active at the months' starts
    # 4 + 5 + 6 + 4 + 5 + 5 + 5 + 5 + 4 + 4 + 4 + 4 = 55 → 4/55. ARPA at the end of December 250.
    # LTV = 250 × 55 / 4 = 3437.5 (the yearly rate, 3 of the 4 accounts of January 1 = 3/4,
    # would give 333.33).
    assert values(df) == approx([3437.5])
    assert one(df, "denominator") == pytest.approx(4 / 55)


def test_grain_all_pools_every_month_its_range_touches(ws):
    assert values(ws.metric("ltv", grain="all", **YEAR)) == approx([3437.5])  # as the year
    df = ws.metric("ltv", grain="all", start="2025-02-15", end="2025-03-10")
    # Touches February (0 of 5 churned) and March (Q, R of 6), both whole: 2/11. ARPA just before
    # Mar 11: Q ended Mar 10 (gone), R (ends Mar 20), S, T, U, V: 1000 / 5 = 200.
    # LTV = 200 × 11 / 2 = 1100.
    assert values(df) == approx([1100])
    assert one(df, "denominator") == pytest.approx(2 / 11)


def test_week_and_day_grains_are_null_they_hold_no_whole_month(ws):
    for grain in ("week", "day"):
        q = {"grain": grain, "start": "2025-03-01", "end": "2025-03-21"}
        for metric in ("ltv", "ltv_to_cac"):
            df = ws.metric(metric, **q)
            assert len(df) > 0 and set(values(df)) == {None}, (metric, grain)
        # CAC payback reads no churn rate: it stays in months at these grains. The week of
        # Mon Feb 3 and the day Feb 5: spend 1000 / 1 new customer (V) = 1000; ARPA just after
        # (Q R S T U V) = 1100 / 6 → 1000 / (550/3) = 60/11.
        days = ("2025-02-03", "2025-02-09") if grain == "week" else ("2025-02-05",) * 2
        payback = ws.metric("cac_payback_months", grain=grain, start=days[0], end=days[1])
        assert values(payback) == approx([60 / 11])


# ---- unit economics on the quarter ---------------------------------------------------------------
def test_ltv_to_cac_and_cac_payback_on_the_quarter(ws):
    # CAC Q1 = 3000 spend / 3 new customers = 1000. LTV 1125 → LTV:CAC 1.125 (the quarterly
    # churn rate would have shown 300 / 1000 = 0.3).
    df = ws.metric("ltv_to_cac", **Q1)
    assert values(df) == approx([1.125])
    assert one(df, "numerator") == pytest.approx(1125)
    assert one(df, "denominator") == pytest.approx(1000)
    # Payback: CAC 1000 / (monthly ARPA 225 × margin 1.0) = 40/9 ≈ 4.44 months.
    payback = ws.metric("cac_payback_months", **Q1)
    assert values(payback) == approx([1000 / 225])
    assert one(payback, "denominator") == pytest.approx(225)


def test_unit_economics_by_month_for_comparison(ws):
    q = {"start": "2025-01-01", "end": "2025-03-31"}
    # CAC: Jan 1000 / 2 (T, U) = 500; Feb 1000 / 1 (V) = 1000; Mar 1000 / 0 → null.
    # LTV:CAC: Jan 560 / 500 = 1.12; Feb LTV null → null; Mar CAC null → null.
    assert values(ws.metric("ltv_to_cac", **q)) == approx([1.12, None, None])
    # Payback: Jan 500 / 140; Feb 1000 / (550/3) = 60/11; Mar null.
    assert values(ws.metric("cac_payback_months", **q)) == approx([500 / 140, 60 / 11, None])


def test_gross_margin_scales_ltv_and_payback_on_the_quarter(tmp_path, backend):
    ws = workspace(tmp_path / "margin", backend, config=funnelmetrics.Config(gross_margin=0.8))
    try:
        # LTV 225 × 0.8 / 0.2 = 900; LTV:CAC 900 / 1000 = 0.9; payback 1000 / 180 = 50/9.
        assert values(ws.metric("ltv", **Q1)) == approx([900])
        assert values(ws.metric("ltv_to_cac", **Q1)) == approx([0.9])
        assert values(ws.metric("cac_payback_months", **Q1)) == approx([1000 / 180])
    finally:
        ws.close()


# ---- dimensions, as of, time zones ---------------------------------------------------------------
def test_split_and_filter_by_an_account_dimension(ws):
    df = ws.metric("ltv", by="industry", **Q1)
    # saas (P, Q, S): Jan 1 of 3 (P), Feb 0 of 2, Mar 1 of 2 (Q) → 2/7; ARPA end of March
    # S 100 / 1 → 100 × 7/2 = 350.
    # fintech (R, T, U, V): Jan 0 of 1, Feb 0 of 3, Mar 1 of 4 (R) → 1/8; ARPA end of March
    # (T 200 + U 200 + V 400) / 3 = 800/3 → 800/3 × 8 = 6400/3.
    saas, fintech = (row_for(df, "2025-01-01", industry=i) for i in ("saas", "fintech"))
    assert saas["value"] == pytest.approx(350)
    assert saas["denominator"] == pytest.approx(2 / 7)
    assert fintech["value"] == pytest.approx(6400 / 3)
    assert fintech["denominator"] == pytest.approx(1 / 8)
    assert values(ws.metric("ltv", where={"industry": "saas"}, **Q1)) == approx([350])


def test_as_of_mid_quarter_pools_only_the_months_begun(ws):
    df = ws.metric("ltv", as_of="2025-02-15", **Q1)
    # As of Feb 15: P ended (Jan 15); Q and R end later, so they are still paying; V has started
    # (Feb 5), W not. January: 1 churned of 4; February to date: 0 of 5; March has not begun and
    # is left out (it would add 6 accounts and no churn: 1/15) → 1/9. ARPA at the quarter's end
    # as of then: Q R S 100 each, T U 200 each, V 400 = 1100 / 6 → 1100/6 × 9 = 1650.
    assert values(df) == approx([1650])
    assert one(df, "denominator") == pytest.approx(1 / 9)
    assert bool(df.partial.iloc[0]) is True
    # The months themselves as of then: January as before; February and March have no churn.
    months = ws.metric("ltv", as_of="2025-02-15", start="2025-01-01", end="2025-03-31")
    assert values(months) == approx([560, None, None])


def test_pooled_months_are_local_months(tmp_path, backend):
    # Jakarta is UTC+7: local Feb 1 00:00 is Jan 31 17:00 UTC. All four start at local Dec 1.
    #   J1 100 ends exactly at local Feb 1 00:00 → paying at January's end: churns in February
    #   J2 100 ends a minute before it → churns in January
    #   J3 100 and J4 300 stay
    start = "2024-11-30T17:00"
    subs = [("J1", "J1", 100, start, "2025-01-31T17:00"), ("J2", "J2", 100, start,
                                                           "2025-01-31T16:59"),
            ("J3", "J3", 100, start, None), ("J4", "J4", 300, start, None)]
    jkt = workspace(tmp_path / "jkt", backend, subs, spend=[], industry={},
                    timezone="Asia/Jakarta")
    utc = workspace(tmp_path / "utc", backend, subs, spend=[], industry={})
    try:
        q = {"start": "2025-01-01", "end": "2025-03-31"}
        # Local months: Jan 1 (J2) of 4, ARPA at its end (J1 + J3 + J4) = 500/3 → 2000/3;
        # Feb 1 (J1) of 3, ARPA (J3 + J4) / 2 = 200 → 600; Mar 0 of 2 → null.
        assert values(jkt.metric("ltv", **q)) == approx([2000 / 3, 600, None])
        # The quarter: (1 + 1 + 0) / (4 + 3 + 2) = 2/9; ARPA at the end of March 200 → 900.
        assert values(jkt.metric("ltv", grain="quarter", **q)) == approx([900])
        # In UTC both end in January: (2 + 0 + 0) / (4 + 2 + 2) = 1/4 → 200 × 4 = 800.
        assert values(utc.metric("ltv", grain="quarter", **q)) == approx([800])
    finally:
        jkt.close()
        utc.close()


def test_a_batch_gives_the_figures_of_single_queries(ws, backend):
    import pandas as pd

    shapes = [Q1, {**Q1, "as_of": "2025-02-15"}, {**Q1, "by": "industry"},
              {"grain": "year", **YEAR}, {"start": "2025-01-01", "end": "2025-03-31"}]
    metrics = ("ltv", "customer_churn_rate", "arpa", "ltv_to_cac", "cac_payback_months")
    if backend == "pyspark":  # a second a query there: each metric twice, each shape twice
        queries = [(m, shapes[(i + k) % 5]) for i, m in enumerate(metrics) for k in (0, 2)]
    else:
        queries = [(m, q) for m in metrics[:3] for q in shapes]
        queries += [(m, q) for m in metrics[3:] for q in shapes[:2]]
    single = [ws.metric(m, **q) for m, q in queries]
    for (m, q), a, b in zip(queries, single, ws.metrics(queries), strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=False, obj=f"{m} {q}")
