"""Deal metrics (catalog/deals.py, SPEC §3) on hand-made opportunities.

Every expected value is worked out by hand in the comment beside its assert. Instants are UTC
unless the test says otherwise.
"""

from __future__ import annotations

import math

import pytest
from journeys import row_for

RANGE = {"start": "2026-01-01", "end": "2026-04-30"}  # Jan, Feb, Mar, Apr (April: nothing closes)

LEADS = {
    "A": [("lead", "2026-01-01")],  # web, rep r1
    "B": [("lead", "2026-01-10")],  # ads
    "C": [("lead", "2026-02-03")],  # web
    "D": [("lead", "2026-02-10")],  # no source
}
LEAD_ATTRS = {"A": {"source": "web"}, "B": {"source": "ads"}, "C": {"source": "web"}}
REPS = {"r1": {"team": "east"}, "r2": {"team": "west"}}

# id  lead rep  created   status closed               amount prob contract expected_close
# O1  A    r1   Jan 5     won    Jan 25               1000   —    24       —
# O2  B    r2   Jan 10    lost   Feb 1 00:00 (sharp)   500   —    —        —
# O3  C    r1   Jan 20    open   —                     800   0.5  —        Mar 15
# O4  A    r2   Feb 2     won    Feb 12               3000   0.9  6        Feb 10
# O5  —    —    Feb 15    open   —                     200   —    —        Mar 20
# O6  —    r1   Feb 20    lost   Mar 10                400   0.2  —        —
DEALS = [
    dict(opportunity_id="O1", lead_id="A", rep_id="r1", created_at="2026-01-05", status="won",
         closed_at="2026-01-25", amount=1000, contract_months=24),
    dict(opportunity_id="O2", lead_id="B", rep_id="r2", created_at="2026-01-10", status="lost",
         closed_at="2026-02-01T00:00:00", amount=500),
    dict(opportunity_id="O3", lead_id="C", rep_id="r1", created_at="2026-01-20", status="open",
         amount=800, probability=0.5, expected_close_at="2026-03-15"),
    dict(opportunity_id="O4", lead_id="A", rep_id="r2", created_at="2026-02-02", status="won",
         closed_at="2026-02-12", amount=3000, probability=0.9, contract_months=6,
         expected_close_at="2026-02-10"),
    dict(opportunity_id="O5", created_at="2026-02-15", status="open", amount=200,
         expected_close_at="2026-03-20"),
    dict(opportunity_id="O6", rep_id="r1", created_at="2026-02-20", status="lost",
         closed_at="2026-03-10", amount=400, probability=0.2),
]
# quotas: Feb r1 2000 + r2 3000 = 5000; Mar r1 1500 + r2 500 = 2000; none in Jan or Apr
QUOTAS = [("r1", "2026-02-01", "2026-02-28", 2000), ("r2", "2026-02-01", "2026-02-28", 3000),
          ("r1", "2026-03-01", "2026-03-31", 1500), ("r2", "2026-03-01", "2026-03-31", 500)]


def null(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def clean(value: object) -> object:
    return None if null(value) else value


def values(df) -> list:
    return [clean(v) for v in df["value"]]


def ratio(df, period, **dims):
    r = row_for(df, period, **dims)
    return clean(r["value"]), clean(r["numerator"]), clean(r["denominator"])


@pytest.fixture
def deals(make_ws):
    return make_ws(LEADS, leads=LEAD_ATTRS, opportunities=DEALS, quotas=QUOTAS, reps=REPS)


# ---- win_rate ---------------------------------------------------------------------------------
def test_win_rate_by_close_month(deals):
    df = deals.metric("win_rate", **RANGE)
    assert [p.isoformat() for p in df["period_start"]] == [
        "2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
    assert ratio(df, "2026-01-01") == (1.0, 1, 1)  # O1 won
    # O2 closed at Feb 1 00:00 belongs to February; O4 won → 1 / (1 + 1)
    assert ratio(df, "2026-02-01") == (0.5, 1, 2)
    assert ratio(df, "2026-03-01") == (0.0, 0, 1)  # O6 lost
    assert ratio(df, "2026-04-01") == (None, 0, 0)  # nothing closed: null, not 0
    # open deals (O3, O5) appear in no denominator: 1 + 2 + 1 closed in all


@pytest.mark.parametrize(("grain", "start", "end", "expected"), [
    ("quarter", "2026-01-01", "2026-06-30",
     [("2026-01-01", 0.5, 2, 4), ("2026-04-01", None, 0, 0)]),  # Q1: O1, O4 of O1, O2, O4, O6
    ("year", "2026-01-01", "2026-12-31", [("2026-01-01", 0.5, 2, 4)]),
    ("all", "2026-01-15", "2026-02-15", [("2026-01-15", 2 / 3, 2, 3)]),  # O1, O2, O4 (O6 later)
    # weeks (Mon): Jan 26 – Feb 1 holds O2 (Sun Feb 1 00:00); Feb 9 – 15 holds O4 (Thu Feb 12)
    ("week", "2026-01-26", "2026-02-15",
     [("2026-01-26", 0.0, 0, 1), ("2026-02-02", None, 0, 0), ("2026-02-09", 1.0, 1, 1)]),
])
def test_win_rate_grains(deals, grain, start, end, expected):
    df = deals.metric("win_rate", grain=grain, start=start, end=end)
    got = [(p.isoformat(), clean(v), n, d) for p, v, n, d in
           zip(df["period_start"], df["value"], df["numerator"], df["denominator"], strict=True)]
    assert got == [(p, pytest.approx(v) if v is not None else None, n, d)
                   for p, v, n, d in expected]


def test_win_rate_by_rep_team_and_source(deals):
    df = deals.metric("win_rate", by="rep.team", **RANGE)
    assert ratio(df, "2026-01-01", **{"rep.team": "east"}) == (1.0, 1, 1)  # O1 (r1)
    assert ratio(df, "2026-02-01", **{"rep.team": "west"}) == (0.5, 1, 2)  # O2 lost, O4 won (r2)
    assert ratio(df, "2026-02-01", **{"rep.team": "east"}) == (None, 0, 0)  # east closed nothing
    assert ratio(df, "2026-03-01", **{"rep.team": "east"}) == (0.0, 0, 1)  # O6 (r1)
    df = deals.metric("win_rate", by="source", **RANGE)  # the lead's source, through lead_id
    assert ratio(df, "2026-02-01", source="ads") == (0.0, 0, 1)  # O2 (lead B)
    assert ratio(df, "2026-02-01", source="web") == (1.0, 1, 1)  # O4 (lead A)
    assert ratio(df, "2026-03-01", source=None) == (0.0, 0, 1)  # O6 has no lead: unknown source


def test_win_rate_where(deals):
    df = deals.metric("win_rate", where={"team": "west"}, **RANGE)
    assert [ratio(df, p)[0] for p in ("2026-01-01", "2026-02-01", "2026-03-01")] == [
        None, 0.5, None]  # west: O2, O4 only
    df = deals.metric("win_rate", where={"rep.team": "east"}, **RANGE)
    assert ratio(df, "2026-03-01") == (0.0, 0, 1)  # O6
    df = deals.metric("win_rate", where={"rep_id": ["r1", "r2"]}, **RANGE)
    assert ratio(df, "2026-02-01") == (0.5, 1, 2)


def test_win_rate_as_of_treats_later_closes_as_open(deals):
    df = deals.metric("win_rate", start="2026-02-01", end="2026-02-28", as_of="2026-02-05")
    # as of Feb 5: O2 lost on Feb 1 counts; O4 (won Feb 12) is still open → 0 / 1
    assert ratio(df, "2026-02-01") == (0.0, 0, 1)


def test_win_rate_in_jakarta_time(make_ws):
    ws = make_ws(timezone="Asia/Jakarta", opportunities=[
        dict(created_at="2026-01-02", status="won", closed_at="2026-01-31T20:00", amount=1),
        # 20:00Z Jan 31 = 03:00 Feb 1 in Jakarta (UTC+7)
        dict(created_at="2026-01-02", status="lost", closed_at="2026-01-31T16:00", amount=1),
        # 16:00Z = 23:00 Jan 31 local
    ])
    df = ws.metric("win_rate", start="2026-01-01", end="2026-02-28")
    assert ratio(df, "2026-01-01") == (0.0, 0, 1)
    assert ratio(df, "2026-02-01") == (1.0, 1, 1)
    # as_of as a date is local midnight: Feb 1 00:00 Jakarta = Jan 31 17:00Z, before the win
    df = ws.metric("win_rate", start="2026-01-01", end="2026-02-28", as_of="2026-02-01")
    assert ratio(df, "2026-01-01") == (0.0, 0, 1)  # the loss (16:00Z) is before it
    assert ratio(df, "2026-02-01") == (None, 0, 0)  # the win (20:00Z) has not happened yet


# ---- daylight saving time: America/New_York ---------------------------------------------------
# 2026: clocks go from 02:00 EST (UTC−5) to 03:00 EDT (UTC−4) on Sun Mar 8 (07:00Z), and back
# from 02:00 EDT to 01:00 EST on Sun Nov 1 (06:00Z). Local midnight is 05:00Z before the spring
# change and 04:00Z after it, until November. An engine that used one offset all year would put the
# deals below in the wrong day, week or month.
# Each engine converts with its own routine (funnelmetrics/engines: DuckDB's and PostgreSQL's
# timezone(), Spark's from_utc_timestamp); a fixed-offset zone adds an interval anywhere.
SPRING = [
    dict(created_at="2026-03-01", status="won", closed_at="2026-03-08T04:59", amount=1),
    # Sat Mar 7 23:59 EST
    dict(created_at="2026-03-01", status="lost", closed_at="2026-03-08T05:00", amount=1),
    # Sun Mar 8 00:00 EST
    dict(created_at="2026-03-01", status="lost", closed_at="2026-03-09T03:30", amount=1),
    # Sun Mar 8 23:30 EDT (a fixed −5 h would say 22:30, the same day)
    dict(created_at="2026-03-01", status="won", closed_at="2026-03-09T04:30", amount=1),
    # Mon Mar 9 00:30 EDT (a fixed −5 h would say Sun 23:30: the day and the week before)
]


def test_win_rate_days_and_weeks_across_the_spring_change(make_ws):
    ws = make_ws(timezone="America/New_York", opportunities=SPRING)
    df = ws.metric("win_rate", grain="day", start="2026-03-07", end="2026-03-09")
    assert ratio(df, "2026-03-07") == (1.0, 1, 1)  # the 04:59Z win
    assert ratio(df, "2026-03-08") == (0.0, 0, 2)  # the 05:00Z and 03:30Z (Mar 9) losses
    assert ratio(df, "2026-03-09") == (1.0, 1, 1)  # the 04:30Z win
    df = ws.metric("win_rate", grain="week", start="2026-03-02", end="2026-03-15")
    # ISO weeks from Monday 00:00 local: Mar 2 (EST) to Mar 9 00:00 EDT = 04:00Z
    assert ratio(df, "2026-03-02") == (pytest.approx(1 / 3), 1, 3)
    assert ratio(df, "2026-03-09") == (1.0, 1, 1)


def test_as_of_a_date_is_local_midnight_after_the_spring_change(make_ws):
    ws = make_ws(timezone="America/New_York", opportunities=SPRING)
    # as of Mar 9 = Mon 00:00 EDT = 04:00Z: the 03:30Z loss has happened, the 04:30Z win not.
    df = ws.metric("win_rate", grain="day", start="2026-03-07", end="2026-03-09",
                   as_of="2026-03-09")
    assert ratio(df, "2026-03-08") == (0.0, 0, 2)
    assert ratio(df, "2026-03-09") == (None, 0, 0)


def test_pipeline_value_at_month_ends_either_side_of_the_autumn_change(make_ws):
    ws = make_ws(timezone="America/New_York", opportunities=[
        dict(created_at="2026-11-01T03:30", amount=100),  # Sat Oct 31 23:30 EDT
        dict(created_at="2026-11-01T04:30", amount=10),  # Sun Nov 1 00:30 EDT
        dict(created_at="2026-12-01T04:30", amount=1),  # Mon Nov 30 23:30 EST
        dict(created_at="2026-12-01T05:30", amount=1000),  # Tue Dec 1 00:30 EST
    ])
    df = ws.metric("pipeline_value", start="2026-10-01", end="2026-11-30")
    # open just before Nov 1 00:00 EDT (04:00Z): 100; before Dec 1 00:00 EST (05:00Z): 100 + 10
    # + 1 (an engine still on EDT would end November at 04:00Z and miss the 1)
    assert values(df) == [100.0, 111.0]


def test_sales_cycle_days_are_elapsed_time_across_both_changes(make_ws):
    ws = make_ws(timezone="America/New_York", opportunities=[
        dict(created_at="2026-03-07T17:00", status="won", closed_at="2026-03-09T16:00",
             amount=1),  # Sat 12:00 EST → Mon 12:00 EDT: 47 h, two calendar days
        dict(created_at="2026-10-31T16:00", status="won", closed_at="2026-11-02T17:00",
             amount=1),  # Sat 12:00 EDT → Mon 12:00 EST: 49 h
    ])
    march = ws.metric("sales_cycle_days", start="2026-03-01", end="2026-03-31")
    assert values(march) == [pytest.approx(47 / 24)]
    november = ws.metric("sales_cycle_days", start="2026-11-01", end="2026-11-30")
    assert values(november) == [pytest.approx(49 / 24)]


# ---- average_deal_size, acv, tcv --------------------------------------------------------------
def test_average_deal_size(deals):
    df = deals.metric("average_deal_size", **RANGE)
    assert ratio(df, "2026-01-01") == (1000.0, 1000, 1)  # O1
    assert ratio(df, "2026-02-01") == (3000.0, 3000, 1)  # O4 (O2 lost: not in it)
    assert ratio(df, "2026-03-01") == (None, 0, 0)  # nothing won
    df = deals.metric("average_deal_size", grain="quarter", start="2026-01-01", end="2026-03-31")
    assert ratio(df, "2026-01-01") == (2000.0, 4000, 2)  # (1000 + 3000) / 2


def test_acv_and_tcv_of_the_main_deals(deals):
    acv = deals.metric("acv", **RANGE)
    assert ratio(acv, "2026-01-01") == (500.0, 500, 1)  # 1000 / max(24, 12) × 12
    assert ratio(acv, "2026-02-01") == (3000.0, 3000, 1)  # 3000 / max(6, 12) × 12
    assert ratio(acv, "2026-03-01") == (None, 0, 0)
    tcv = deals.metric("tcv", **RANGE)
    assert ratio(tcv, "2026-01-01") == (1000.0, 1000, 1)
    assert ratio(tcv, "2026-02-01") == (3000.0, 3000, 1)


def test_acv_contract_lengths(make_ws):
    ws = make_ws(opportunities=[
        dict(created_at="2026-05-01", status="won", closed_at="2026-05-10", amount=2400,
             contract_months=36),  # 2400 / 36 × 12 = 800
        dict(created_at="2026-05-01", status="won", closed_at="2026-05-11", amount=600),
        # no contract_months → 12 → 600
        dict(created_at="2026-05-01", status="won", closed_at="2026-05-12", amount=1000,
             contract_months=6),  # max(6, 12) = 12 → 1000
        dict(created_at="2026-05-01", status="lost", closed_at="2026-05-12", amount=9999),
    ])
    q = {"start": "2026-05-01", "end": "2026-05-31"}
    assert ratio(ws.metric("acv", **q), "2026-05-01") == (800.0, 2400, 3)  # (800+600+1000)/3
    tcv = ratio(ws.metric("tcv", **q), "2026-05-01")  # (2400 + 600 + 1000) / 3
    assert tcv == (pytest.approx(4000 / 3), 4000, 3)


# ---- sales_cycle_days -------------------------------------------------------------------------
def test_sales_cycle_days_from_opportunity_and_from_lead(deals):
    df = deals.metric("sales_cycle_days", **RANGE)
    # Jan: O1 Jan 5 → Jan 25 = 20 d; Feb: O4 Feb 2 → Feb 12 = 10 d; lost deals are not cycles
    assert values(df) == [20.0, 10.0, None, None]
    df = deals.metric("sales_cycle_days", **{"from": "lead"}, **RANGE)
    # from lead A's created_at Jan 1: O1 → Jan 25 = 24 d; O4 → Feb 12 = 31 + 11 = 42 d
    assert values(df) == [24.0, 42.0, None, None]


FOUR_CYCLES = [
    dict(created_at="2026-06-01", status="won", closed_at="2026-06-11", amount=1),  # 10 d, June
    dict(created_at="2026-06-01", status="won", closed_at="2026-06-21", amount=1),  # 20 d, June
    dict(created_at="2026-05-02", status="won", closed_at="2026-06-30T12:00", amount=1),
    # May 2 → Jun 1 = 30 d, → Jun 30 = 29 d more, + 12 h: 59.5 d, June
    dict(created_at="2026-05-02", status="won", closed_at="2026-07-01T00:00", amount=1),
    # May 2 → Jul 1 = 30 + 30 = 60 d, July
]


@pytest.mark.parametrize(("stat", "q2", "both_months"), [
    # Q2 (10, 20, 59.5) and Jun–Jul together (10, 20, 59.5, 60):
    ("mean", 89.5 / 3, 149.5 / 4),
    ("median", 20.0, 39.75),  # odd: the middle; even: (20 + 59.5) / 2
    # p90 at position (n − 1)·0.9: n=3 → 1.8: 20 + 0.8·(59.5 − 20) = 51.6;
    #                              n=4 → 2.7: 59.5 + 0.7·(60 − 59.5) = 59.85
    ("p90", 51.6, 59.85),
])
def test_sales_cycle_days_stats(make_ws, stat, q2, both_months):
    ws = make_ws(opportunities=FOUR_CYCLES)
    df = ws.metric("sales_cycle_days", stat=stat, grain="quarter", start="2026-04-01",
                   end="2026-09-30")
    assert values(df) == [pytest.approx(q2), pytest.approx(60.0)]  # Q3: the July deal alone
    df = ws.metric("sales_cycle_days", stat=stat, grain="all", start="2026-06-01",
                   end="2026-07-31")
    assert values(df) == [pytest.approx(both_months)]


def test_sales_cycle_days_three_deal_stats(make_ws):
    ws = make_ws(opportunities=[
        dict(created_at="2026-06-01", status="won", closed_at="2026-06-11", amount=1),  # 10 d
        dict(created_at="2026-06-01", status="won", closed_at="2026-06-21", amount=1),  # 20 d
        dict(created_at="2026-04-01", status="won", closed_at="2026-05-31", amount=1),  # 60 d
    ])
    q = {"grain": "quarter", "start": "2026-04-01", "end": "2026-06-30"}
    assert values(ws.metric("sales_cycle_days", stat="mean", **q)) == [30.0]  # 90 / 3
    assert values(ws.metric("sales_cycle_days", stat="median", **q)) == [20.0]
    # p90: position (3 − 1)·0.9 = 1.8 → 20 + 0.8·(60 − 20) = 52
    assert values(ws.metric("sales_cycle_days", stat="p90", **q)) == [pytest.approx(52.0)]


# ---- pipeline_value / weighted_pipeline_value -------------------------------------------------
def test_pipeline_value_open_at_period_end(deals):
    df = deals.metric("pipeline_value", **RANGE)
    # end of Jan (next = Feb 1 00:00): O2 (closed at exactly Feb 1 00:00 ≥ next: still open) 500
    #   + O3 800 = 1300; O1 closed Jan 25; O4 not created yet
    # end of Feb (next = Mar 1): O3 800 + O5 200 + O6 (closes Mar 10) 400 = 1400
    # end of Mar: O3 800 + O5 200 = 1000; end of Apr: the same 1000
    assert values(df) == [1300.0, 1400.0, 1000.0, 1000.0]


def test_weighted_pipeline_value(deals):
    df = deals.metric("weighted_pipeline_value", **RANGE)
    # Jan: O2 500 × null→0 + O3 800 × 0.5 = 400
    # Feb: O3 400 + O5 200 × 0 + O6 400 × 0.2 = 480; Mar, Apr: O3 400 + O5 0 = 400
    assert values(df) == [pytest.approx(400), pytest.approx(480), pytest.approx(400),
                          pytest.approx(400)]
    same = deals.metric("pipeline_value", weighted=True, **RANGE)
    assert values(same) == values(df)


def test_pipeline_value_grains(deals):
    weeks = deals.metric("pipeline_value", grain="week", start="2026-01-19", end="2026-02-01")
    # week of Jan 19 ends before Mon Jan 26: O1 (closes Jan 25) no; O2 500 + O3 800 = 1300
    # week of Jan 26 ends before Mon Feb 2: O2 closed Feb 1 < Feb 2 → only O3 = 800
    assert values(weeks) == [1300.0, 800.0]
    quarter = deals.metric("pipeline_value", grain="quarter", start="2026-01-01",
                           end="2026-03-31")
    assert values(quarter) == [1000.0]  # at Apr 1: O3 + O5
    everything = deals.metric("pipeline_value", grain="all", start="2026-01-01",
                              end="2026-02-28")
    assert values(everything) == [1400.0]  # at Mar 1, as the Feb month-end


def test_pipeline_value_by_team_with_null(deals):
    df = deals.metric("pipeline_value", by="rep.team", start="2026-02-01", end="2026-02-28")
    assert row_for(df, "2026-02-01", **{"rep.team": "east"})["value"] == 1200  # O3 800 + O6 400
    assert row_for(df, "2026-02-01", **{"rep.team": None})["value"] == 200  # O5: no rep


def test_pipeline_value_as_of(deals):
    df = deals.metric("pipeline_value", start="2026-01-01", end="2026-02-28",
                      as_of="2026-02-05")
    # seen on Feb 5: O5, O6 do not exist yet; O4 (created Feb 2, won Feb 12) is still open
    # Jan end: O2 500 + O3 800 = 1300; Feb end: O3 800 + O4 3000 = 3800
    assert values(df) == [1300.0, 3800.0]


def test_pipeline_value_in_jakarta_time(make_ws):
    ws = make_ws(timezone="Asia/Jakarta", opportunities=[
        dict(created_at="2026-01-31T18:00", amount=100),  # Feb 1 01:00 local: not open at Jan end
        dict(created_at="2026-01-31T16:00", amount=10),  # Jan 31 23:00 local: open at Jan end
        dict(created_at="2026-01-05", status="won", closed_at="2026-01-31T17:00", amount=1),
        # closed at exactly Feb 1 00:00 local = the next period's first instant: open at Jan end
    ])
    df = ws.metric("pipeline_value", start="2026-01-01", end="2026-02-28")
    assert values(df) == [11.0, 110.0]  # Jan: 10 + 1; Feb: 100 + 10


# ---- pipeline_coverage ------------------------------------------------------------------------
def test_pipeline_coverage(deals):
    df = deals.metric("pipeline_coverage", start="2026-02-01", end="2026-04-30")
    # Feb: open now with expected close in Feb: none (O4 is won) → 0 / (5000 − 3000 won)
    assert ratio(df, "2026-02-01") == (0.0, 0, 2000)
    # Mar: O3 800 (Mar 15) + O5 200 (Mar 20) = 1000 / (2000 − 0)
    assert ratio(df, "2026-03-01") == (0.5, 1000, 2000)
    # Apr: nothing expected, no quota at all → quota still to win unknown → null / null
    assert ratio(df, "2026-04-01") == (None, 0, None)


def test_pipeline_coverage_is_null_once_the_quota_is_met(make_ws):
    ws = make_ws(opportunities=[
        dict(opportunity_id="W1", created_at="2026-01-02", status="won",
             closed_at="2026-01-10", amount=600, rep_id="r1"),
        dict(opportunity_id="W2", created_at="2026-02-02", status="won",
             closed_at="2026-02-10", amount=500, rep_id="r1"),
        dict(opportunity_id="P1", created_at="2026-01-03", status="open", amount=300,
             expected_close_at="2026-01-25", rep_id="r1"),
        dict(opportunity_id="P2", created_at="2026-02-03", status="open", amount=300,
             expected_close_at="2026-02-25", rep_id="r1"),
    ], quotas=[
        dict(rep_id="r1", period_start="2026-01-01", period_end="2026-01-31", amount=500),
        dict(rep_id="r1", period_start="2026-02-01", period_end="2026-02-28", amount=500),
    ])
    df = ws.metric("pipeline_coverage", start="2026-01-01", end="2026-02-28",
                   as_of="2026-03-01")
    # Jan: 500 quota − 600 won = −100 left: quota exceeded, nothing to cover → null (not −3)
    assert ratio(df, "2026-01-01") == (None, 300, None)
    # Feb: 500 − 500 = 0 left: quota exactly met → null (not a division by zero)
    assert ratio(df, "2026-02-01") == (None, 300, None)


def test_pipeline_coverage_as_of(deals):
    df = deals.metric("pipeline_coverage", start="2026-02-01", end="2026-03-31",
                      as_of="2026-02-05")
    # as of Feb 5: O4 is open (expected Feb 10) and not yet won; O5 does not exist yet
    # Feb: 3000 / (5000 − 0) = 0.6; Mar: O3 800 / (2000 − 0) = 0.4
    assert ratio(df, "2026-02-01") == (0.6, 3000, 5000)
    assert ratio(df, "2026-03-01") == (0.4, 800, 2000)


# ---- sales_velocity ---------------------------------------------------------------------------
def test_sales_velocity(deals):
    df = deals.metric("sales_velocity", **RANGE)
    # open count at end × (won amount / closed count) / mean cycle of deals won in period
    # Jan: 2 (O2, O3) × 1000/1 = 2000 / 20 d = 100 per day
    assert ratio(df, "2026-01-01") == (100.0, 2000, 20)
    # Feb: 3 (O3, O5, O6) × 3000/2 = 4500 / 10 d = 450
    assert ratio(df, "2026-02-01") == (450.0, 4500, 10)
    # Mar: 2 × 0/1 = 0, but no deal won → no cycle → null
    assert ratio(df, "2026-03-01") == (None, 0, None)
    # Apr: nothing closed → win rate × deal size has no data → null
    assert ratio(df, "2026-04-01") == (None, None, None)


# ---- revenue_per_lead -------------------------------------------------------------------------
def test_revenue_per_lead(deals):
    df = deals.metric("revenue_per_lead", **RANGE)
    assert ratio(df, "2026-01-01") == (500.0, 1000, 2)  # O1 1000 / leads A, B
    assert ratio(df, "2026-02-01") == (1500.0, 3000, 2)  # O4 3000 / leads C, D
    assert ratio(df, "2026-03-01") == (None, 0, 0)


def test_revenue_per_lead_by_source(deals):
    df = deals.metric("revenue_per_lead", by="source", **RANGE)
    assert ratio(df, "2026-01-01", source="web") == (1000.0, 1000, 1)  # O1 (lead A) / A
    assert ratio(df, "2026-01-01", source="ads") == (0.0, 0, 1)  # B
    assert ratio(df, "2026-02-01", source="web") == (3000.0, 3000, 1)  # O4 (lead A) / C


# ---- quota_attainment -------------------------------------------------------------------------
def test_quota_attainment(deals):
    df = deals.metric("quota_attainment", **RANGE)
    assert ratio(df, "2026-01-01") == (None, 1000, 0)  # won 1000, no quota → null
    assert ratio(df, "2026-02-01") == (0.6, 3000, 5000)  # O4 / (2000 + 3000)
    assert ratio(df, "2026-03-01") == (0.0, 0, 2000)


def test_quota_attainment_by_rep_and_team(deals):
    df = deals.metric("quota_attainment", by="rep_id", start="2026-02-01", end="2026-03-31")
    assert ratio(df, "2026-02-01", rep_id="r1") == (0.0, 0, 2000)
    assert ratio(df, "2026-02-01", rep_id="r2") == (1.0, 3000, 3000)  # O4
    assert ratio(df, "2026-03-01", rep_id="r2") == (0.0, 0, 500)
    df = deals.metric("quota_attainment", by="rep.team", start="2026-02-01", end="2026-02-28")
    assert ratio(df, "2026-02-01", **{"rep.team": "east"}) == (0.0, 0, 2000)
    assert ratio(df, "2026-02-01", **{"rep.team": "west"}) == (1.0, 3000, 3000)
    df = deals.metric("quota_attainment", where={"team": "west"}, start="2026-02-01",
                      end="2026-02-28")
    assert ratio(df, "2026-02-01") == (1.0, 3000, 3000)
