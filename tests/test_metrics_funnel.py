"""Funnel metrics (catalog/funnel.py, SPEC §2 reach rule, §3) on hand-made journeys.

Every expected value is worked out by hand in the comment beside its assert. Dates are UTC unless
the test says otherwise; "Jan 3" means 2026-01-03T00:00Z.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from journeys import row_for

import funnelmetrics
from funnelmetrics.funnel import funnel_table

Q1 = {"start": "2026-01-01", "end": "2026-03-31"}  # periods Jan, Feb, Mar (March is empty)

# The shared cast (sales funnel lead → mql → sql → opportunity → won):
#   A  web   lead Jan 1, mql Jan 3, sql Jan 5, opportunity Jan 20, won Feb 20
#   B  ads   lead Jan 10, sql Jan 15                  (skips mql: reaches it only cumulatively)
#   C  web   lead Feb 3, mql Feb 5
#   D  —     lead Feb 10                              (null source; never moves on)
CAST = {
    "A": [("lead", "2026-01-01"), ("mql", "2026-01-03"), ("sql", "2026-01-05"),
          ("opportunity", "2026-01-20"), ("won", "2026-02-20")],
    "B": [("lead", "2026-01-10"), ("sql", "2026-01-15")],
    "C": [("lead", "2026-02-03"), ("mql", "2026-02-05")],
    "D": [("lead", "2026-02-10")],
}
SOURCES = {"A": {"source": "web", "rep_id": "r1"}, "B": {"source": "ads", "rep_id": "r2"},
           "C": {"source": "web", "rep_id": "r9"}, "D": {}}
REPS = {"r1": {"team": "east"}, "r2": {"team": "west"}}  # r9 is not loaded: team unknown


def null(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def values(df) -> list:
    return [None if null(v) else v for v in df["value"]]


def periods(df) -> list[str]:
    return [p.isoformat() for p in df["period_start"]]


@pytest.fixture
def cast(make_ws):
    return make_ws(CAST, leads=SOURCES, reps=REPS)


# ---- leads_created ----------------------------------------------------------------------------
def test_leads_created_by_month_with_empty_period(cast):
    df = cast.metric("leads_created", **Q1)
    assert periods(df) == ["2026-01-01", "2026-02-01", "2026-03-01"]
    assert values(df) == [2, 2, 0]  # Jan: A, B; Feb: C, D; Mar: nobody → 0, not missing
    assert "numerator" not in df.columns  # a count, not a ratio


def test_leads_created_start_and_end_are_inclusive_days(cast):
    df = cast.metric("leads_created", start="2026-01-10", end="2026-02-03")
    # Jan 10 (B) and Feb 3 (C) are the boundary days, both in; A (Jan 1) and D (Feb 10) out.
    assert values(df) == [1, 1]


def test_leads_created_by_source_with_null_dimension(cast):
    df = cast.metric("leads_created", by="source", **Q1)
    assert row_for(df, "2026-01-01", source="web")["value"] == 1  # A
    assert row_for(df, "2026-01-01", source="ads")["value"] == 1  # B
    assert row_for(df, "2026-01-01", source=None)["value"] == 0  # D came in Feb
    assert row_for(df, "2026-02-01", source="web")["value"] == 1  # C
    assert row_for(df, "2026-02-01", source=None)["value"] == 1  # D: null source is a group
    assert row_for(df, "2026-02-01", source="ads")["value"] == 0
    assert row_for(df, "2026-03-01", source="web")["value"] == 0  # empty period, every value
    assert len(df) == 9  # 3 periods × {web, ads, null}


def test_leads_created_by_joined_rep_team(cast):
    df = cast.metric("leads_created", by="rep.team", **Q1)
    assert row_for(df, "2026-01-01", **{"rep.team": "east"})["value"] == 1  # A (r1)
    assert row_for(df, "2026-01-01", **{"rep.team": "west"})["value"] == 1  # B (r2)
    # C's rep r9 was never loaded and D has no rep: both have an unknown (null) team.
    assert row_for(df, "2026-02-01", **{"rep.team": None})["value"] == 2


def test_leads_created_where(cast):
    assert values(cast.metric("leads_created", where={"source": "web"}, **Q1)) == [1, 1, 0]  # A; C
    both = cast.metric("leads_created", where={"source": ["web", "ads"]}, **Q1)
    assert values(both) == [2, 1, 0]  # Jan A, B; Feb C
    assert values(cast.metric("leads_created", where={"source": None}, **Q1)) == [0, 1, 0]  # D
    assert values(cast.metric("leads_created", where={"team": "west"}, **Q1)) == [1, 0, 0]  # B


@pytest.mark.parametrize(("grain", "start", "end", "expected"), [
    # ISO weeks start on Monday: 2026-01-01 is a Thursday, so the first week starts 2025-12-29.
    ("week", "2026-01-01", "2026-01-18",
     [("2025-12-29", 1), ("2026-01-05", 1), ("2026-01-12", 0)]),  # A Jan 1; B Jan 10 (Sat)
    ("quarter", "2026-01-01", "2026-06-30", [("2026-01-01", 4), ("2026-04-01", 0)]),  # A–D in Q1
    ("year", "2026-01-01", "2026-12-31", [("2026-01-01", 4)]),
    ("all", "2026-01-05", "2026-02-05", [("2026-01-05", 2)]),  # B (Jan 10), C (Feb 3)
    ("day", "2026-02-02", "2026-02-04", [("2026-02-02", 0), ("2026-02-03", 1), ("2026-02-04", 0)]),
])
def test_leads_created_grains(cast, grain, start, end, expected):
    df = cast.metric("leads_created", grain=grain, start=start, end=end)
    assert list(zip(periods(df), values(df), strict=True)) == expected


def test_iso_week_boundary_sunday_night_vs_monday(make_ws):
    ws = make_ws({"S": [("lead", "2026-01-11T23:59:59")],  # Sunday → week of Mon Jan 5
                  "M": [("lead", "2026-01-12T00:00:00")]})  # Monday 00:00 → week of Jan 12
    df = ws.metric("leads_created", grain="week", start="2026-01-05", end="2026-01-18")
    assert list(zip(periods(df), values(df), strict=True)) == [("2026-01-05", 1),
                                                                ("2026-01-12", 1)]


# ---- time zone --------------------------------------------------------------------------------
TZ_CAST = {
    "late": [("lead", "2026-01-31T20:00")],  # 20:00Z = Feb 1 03:00 in Jakarta (UTC+7)
    "early": [("lead", "2026-01-31T16:00")],  # 16:00Z = Jan 31 23:00 in Jakarta
    "edge": [("lead", "2026-02-28T18:00")],  # Mar 1 01:00 in Jakarta
}


def test_time_zone_places_events_in_local_months(make_ws):
    utc = make_ws(TZ_CAST)
    jkt = make_ws(TZ_CAST, timezone="Asia/Jakarta")
    q = {"start": "2026-01-01", "end": "2026-03-31"}
    assert values(utc.metric("leads_created", **q)) == [2, 1, 0]  # UTC: late+early Jan, edge Feb
    assert values(jkt.metric("leads_created", **q)) == [1, 1, 1]  # Jakarta: early; late; edge


def test_time_zone_from_toml_beside_the_database(tmp_path, backend):
    from journeys import journeys

    (tmp_path / "funnelmetrics.toml").write_text('timezone = "Asia/Jakarta"\n', encoding="utf-8")
    ws = journeys(tmp_path, TZ_CAST, backend=backend)
    try:
        assert ws.config.timezone == "Asia/Jakarta"
        # start/end are local days: Feb 1 00:00 Jakarta = Jan 31 17:00Z … Mar 1 00:00 = Feb 28 17:00Z
        df = ws.metric("leads_created", start="2026-02-01", end="2026-02-28")
        assert values(df) == [1]  # only "late" (20:00Z on Jan 31); "edge" is already March there
    finally:
        ws.close()


# ---- stage_reached ----------------------------------------------------------------------------
def test_stage_reached_cumulative_counts_skipped_stage(cast):
    df = cast.metric("stage_reached", stage="mql", **Q1)
    assert values(df) == [2, 1, 0]  # Jan: A (mql Jan 3), B (via sql Jan 15); Feb: C; Mar: 0


def test_stage_reached_strict_counts_only_the_stage_itself(cast):
    df = cast.metric("stage_reached", stage="mql", mode="strict", **Q1)
    assert values(df) == [1, 1, 0]  # Jan: A only (B has no mql event); Feb: C


def test_stage_reached_defaults_to_the_second_stage_and_counts_each_stage(cast):
    assert values(cast.metric("stage_reached", **Q1)) == [2, 1, 0]  # default stage = mql
    assert values(cast.metric("stage_reached", stage="sql", **Q1)) == [2, 0, 0]  # A Jan 5, B Jan 15
    assert values(cast.metric("stage_reached", stage="opportunity", **Q1)) == [1, 0, 0]  # A Jan 20
    assert values(cast.metric("stage_reached", stage="won", **Q1)) == [0, 1, 0]  # A Feb 20
    assert values(cast.metric("stage_reached", stage="lead", **Q1)) == [2, 2, 0]  # = created


def test_stage_reached_at_the_earliest_later_event(make_ws):
    # mql on Feb 10 but sql already on Jan 20: cumulatively mql is reached on Jan 20.
    ws = make_ws({"X": [("lead", "2026-01-01"), ("mql", "2026-02-10"), ("sql", "2026-01-20")]})
    assert values(ws.metric("stage_reached", stage="mql", **Q1)) == [1, 0, 0]  # Jan 20
    strict = ws.metric("stage_reached", stage="mql", mode="strict", **Q1)
    assert values(strict) == [0, 1, 0]  # its own mql event, Feb 10


def test_stage_reached_by_source_and_where(cast):
    df = cast.metric("stage_reached", stage="mql", by="source", **Q1)
    assert row_for(df, "2026-01-01", source="web")["value"] == 1  # A
    assert row_for(df, "2026-01-01", source="ads")["value"] == 1  # B (cumulative)
    assert row_for(df, "2026-02-01", source="web")["value"] == 1  # C
    assert row_for(df, "2026-03-01", source="ads")["value"] == 0  # empty period
    df = cast.metric("stage_reached", stage="mql", where={"source": "ads"}, **Q1)
    assert values(df) == [1, 0, 0]  # B


def test_stage_reached_as_of_ignores_events_at_and_after_the_instant(cast):
    # as_of 2026-01-05 (00:00 UTC): A's sql at exactly Jan 5 00:00 is ignored, as is everything
    # later (B created Jan 10, A's opportunity/won…).
    q = {"start": "2026-01-01", "end": "2026-01-31", "as_of": "2026-01-05"}
    assert values(cast.metric("stage_reached", stage="mql", **q)) == [1]  # A's mql Jan 3
    assert values(cast.metric("stage_reached", stage="sql", **q)) == [0]  # Jan 5 is not before
    assert values(cast.metric("leads_created", **q)) == [1]  # A; B is created after as_of


# ---- stage_conversion_rate / stage_drop_off / lead_conversion_rate ----------------------------
def ratio(df, period, **dims):
    r = row_for(df, period, **dims)
    return (None if null(r["value"]) else r["value"], r["numerator"], r["denominator"])


def test_stage_conversion_rate_default_is_first_to_second_stage(cast):
    df = cast.metric("stage_conversion_rate", **Q1)
    assert ratio(df, "2026-01-01") == (1.0, 2, 2)  # cohort A, B → both reach mql (B via sql)
    assert ratio(df, "2026-02-01") == (0.5, 1, 2)  # cohort C, D → C does: 1/2
    assert ratio(df, "2026-03-01") == (None, 0, 0)  # empty cohort → null, 0/0
    assert "immature" in df.columns


def test_stage_conversion_rate_strict(cast):
    df = cast.metric("stage_conversion_rate", from_stage="lead", to_stage="mql", mode="strict",
                     **Q1)
    assert ratio(df, "2026-01-01") == (0.5, 1, 2)  # A has an mql event, B does not: 1/2
    assert ratio(df, "2026-02-01") == (0.5, 1, 2)  # C yes, D no


def test_stage_conversion_rate_mql_to_sql_cohort_by_mql_time(cast):
    df = cast.metric("stage_conversion_rate", from_stage="mql", to_stage="sql", **Q1)
    assert ratio(df, "2026-01-01") == (1.0, 2, 2)  # reached mql in Jan: A (→ sql Jan 5), B (Jan 15)
    assert ratio(df, "2026-02-01") == (0.0, 0, 1)  # C (mql Feb 5) never reaches sql: 0/1


def test_stage_conversion_rate_to_stage_defaults_to_next(cast):
    df = cast.metric("stage_conversion_rate", from_stage="sql", **Q1)
    assert ratio(df, "2026-01-01") == (0.5, 1, 2)  # sql in Jan: A, B; opportunity: A only


def test_stage_conversion_rate_by_source_where_and_team(cast):
    df = cast.metric("stage_conversion_rate", by="source", **Q1)
    assert ratio(df, "2026-01-01", source="web") == (1.0, 1, 1)  # A
    assert ratio(df, "2026-01-01", source="ads") == (1.0, 1, 1)  # B
    assert ratio(df, "2026-02-01", source=None) == (0.0, 0, 1)  # D
    assert ratio(df, "2026-03-01", source="web") == (None, 0, 0)
    df = cast.metric("stage_conversion_rate", where={"source": "web"}, **Q1)
    assert ratio(df, "2026-02-01") == (1.0, 1, 1)  # C only
    df = cast.metric("stage_conversion_rate", by="rep.team", **Q1)
    assert ratio(df, "2026-02-01", **{"rep.team": None}) == (0.5, 1, 2)  # C (r9), D (no rep)


def test_conversion_window_boundary(make_ws):
    ws = make_ws({
        "in": [("lead", "2026-03-01"), ("mql", "2026-03-11T00:00:00")],  # exactly 10 days
        "out": [("lead", "2026-03-01"), ("mql", "2026-03-11T00:00:01")],  # 10 days + 1 s
    })
    q = {"from_stage": "lead", "to_stage": "mql", "start": "2026-03-01", "end": "2026-03-31"}
    df = ws.metric("stage_conversion_rate", window_days=10, **q)
    assert ratio(df, "2026-03-01") == (0.5, 1, 2)  # reach(to) ≤ reach(from) + 10 d: "in" only
    df = ws.metric("stage_conversion_rate", window_days=11, **q)
    assert ratio(df, "2026-03-01") == (1.0, 2, 2)


def test_default_window_is_180_days(make_ws):
    ws = make_ws({
        # 2025-01-01 + 180 days = 2025-06-30 (31+28+31+30+31 = 151 to Jun 1, +29)
        "on": [("lead", "2025-01-01"), ("won", "2025-06-30")],
        "late": [("lead", "2025-01-01"), ("won", "2025-07-01")],  # 181 days
    })
    df = ws.metric("lead_conversion_rate", start="2025-01-01", end="2025-01-31")
    assert ratio(df, "2025-01-01") == (0.5, 1, 2)


def test_stage_drop_off_is_one_minus_conversion(cast):
    df = cast.metric("stage_drop_off", from_stage="mql", to_stage="sql", **Q1)
    assert ratio(df, "2026-01-01") == (0.0, 0, 2)  # 2 entered − 2 converted = 0 lost, 0/2
    assert ratio(df, "2026-02-01") == (1.0, 1, 1)  # C lost: 1/1
    assert ratio(df, "2026-03-01") == (None, 0, 0)  # no cohort: null
    df = cast.metric("stage_drop_off", **Q1)  # default lead → mql
    assert ratio(df, "2026-02-01") == (0.5, 1, 2)  # D lost out of C, D


def test_stage_drop_off_strict(cast):
    df = cast.metric("stage_drop_off", from_stage="lead", to_stage="mql", mode="strict", **Q1)
    assert ratio(df, "2026-01-01") == (0.5, 1, 2)  # B has no mql event: lost 1 of 2


def test_lead_conversion_rate_first_to_won(cast):
    df = cast.metric("lead_conversion_rate", **Q1)
    assert ratio(df, "2026-01-01") == (0.5, 1, 2)  # A won Feb 20 (50 days), B never
    assert ratio(df, "2026-02-01") == (0.0, 0, 2)  # C, D not won
    assert ratio(df, "2026-03-01") == (None, 0, 0)


def test_cohort_as_of_and_immaturity(cast):
    # As of Feb 1, A's won (Feb 20) has not happened yet; the Jan cohort's window ends
    # Feb 1 + 180 d (2026-07-31) > Feb 1 → immature.
    df = cast.metric("lead_conversion_rate", start="2026-01-01", end="2026-01-31",
                     as_of="2026-02-01")
    assert ratio(df, "2026-01-01") == (0.0, 0, 2)
    assert bool(df["immature"].iloc[0]) is True
    # As of 2026-12-31 the window (ends 2026-07-31) is over: mature, and A counts.
    df = cast.metric("lead_conversion_rate", start="2026-01-01", end="2026-01-31",
                     as_of="2026-12-31")
    assert ratio(df, "2026-01-01") == (0.5, 1, 2)
    assert bool(df["immature"].iloc[0]) is False


def test_cohort_quarter_grain(cast):
    df = cast.metric("stage_conversion_rate", grain="quarter", start="2026-01-01",
                     end="2026-03-31")
    assert ratio(df, "2026-01-01") == (0.75, 3, 4)  # A, B, C reach mql of A–D


def test_conversion_in_jakarta_time(make_ws):
    ws = make_ws({"late": [("lead", "2026-01-31T20:00"), ("mql", "2026-02-02")],
                  "early": [("lead", "2026-01-31T16:00")]}, timezone="Asia/Jakarta")
    df = ws.metric("stage_conversion_rate", start="2026-01-01", end="2026-02-28")
    assert ratio(df, "2026-01-01") == (0.0, 0, 1)  # "early": Jan 31 23:00 local, no mql
    assert ratio(df, "2026-02-01") == (1.0, 1, 1)  # "late": Feb 1 03:00 local, mql Feb 2


# ---- time_in_stage ----------------------------------------------------------------------------
def test_time_in_stage_mean_to_next_reached_stage(cast):
    df = cast.metric("time_in_stage", stage="lead", **Q1)
    # A: Jan 1 → mql Jan 3 = 2 d; B: Jan 10 → (cumulative mql =) sql Jan 15 = 5 d → (2+5)/2
    assert values(df) == [pytest.approx(3.5), pytest.approx(2.0), None]  # Feb: C 2 d (D excluded)


def test_time_in_stage_skipped_stage_cumulative_vs_strict(cast):
    # mql → next: A Jan 3 → sql Jan 5 = 2 d; B reaches mql and sql together (Jan 15) = 0 d.
    cumulative = cast.metric("time_in_stage", stage="mql", **Q1)
    assert values(cumulative) == [pytest.approx(1.0), None, None]  # (2 + 0)/2; C never moves on
    strict = cast.metric("time_in_stage", stage="mql", mode="strict", **Q1)
    assert values(strict) == [pytest.approx(2.0), None, None]  # B never reached mql strictly


def test_time_in_stage_is_exact_elapsed_days(make_ws):
    ws = make_ws({"X": [("lead", "2026-01-01T18:00"), ("mql", "2026-01-03T06:00")]})
    df = ws.metric("time_in_stage", stage="lead", start="2026-01-01", end="2026-01-31")
    assert values(df) == [pytest.approx(1.5)]  # 36 h / 24, not the 2 calendar days


STATS = {
    # January: 4 leads (even count) moving to mql after 1, 2, 4, 10 days
    **{f"J{d}": [("lead", "2026-01-01"), ("mql", f"2026-01-{1 + d:02d}")] for d in (1, 2, 4, 10)},
    # February: 5 leads (odd count) after 1, 2, 3, 4, 10 days
    **{f"F{d}": [("lead", "2026-02-01"), ("mql", f"2026-02-{1 + d:02d}")]
       for d in (1, 2, 3, 4, 10)},
}


@pytest.mark.parametrize(("stat", "jan", "feb"), [
    ("mean", 4.25, 4.0),  # Jan (1+2+4+10)/4 = 17/4; Feb 20/5
    ("median", 3.0, 3.0),  # Jan (2+4)/2; Feb the middle of 1,2,3,4,10
    # linear interpolation at (n−1)·0.9: Jan 2.7 → 4 + 0.7·(10−4) = 8.2; Feb 3.6 → 4 + 0.6·6 = 7.6
    ("p90", 8.2, 7.6),
])
def test_time_in_stage_stats_odd_and_even_counts(make_ws, stat, jan, feb):
    ws = make_ws(STATS)
    df = ws.metric("time_in_stage", stage="lead", stat=stat, start="2026-01-01", end="2026-02-28")
    assert values(df) == [pytest.approx(jan), pytest.approx(feb)]


def test_time_in_stage_default_stage_and_week_grain(cast):
    # default stage = mql; A reaches it on Sat Jan 3 (ISO week of Mon Dec 29), B on Jan 15
    # (week of Jan 12); nobody in the week of Jan 5.
    df = cast.metric("time_in_stage", grain="week", start="2026-01-01", end="2026-01-18")
    assert values(df) == [pytest.approx(2.0), None, pytest.approx(0.0)]  # A 2 d; —; B 0 d


# ---- lead_velocity_rate -----------------------------------------------------------------------
def _sql(lead: str, created: str, sql: str) -> tuple[str, list[tuple[str, str]]]:
    return lead, [("lead", created), ("sql", sql)]


LVR = dict([
    _sql("d1", "2025-12-01", "2025-12-05"), _sql("d2", "2025-12-01", "2025-12-20"),  # Dec: 2
    _sql("j1", "2026-01-01", "2026-01-05"), _sql("j2", "2026-01-01", "2026-01-10"),
    ("j3", [("lead", "2026-01-01"), ("opportunity", "2026-01-31T23:00")]),  # Jan: 3 (cumul.)
    _sql("f1", "2026-02-01", "2026-02-02"), _sql("f2", "2026-02-01", "2026-02-03"),
    _sql("f3", "2026-02-01", "2026-02-04"),  # Feb: 3
    ("m1", [("lead", "2026-03-01"), ("mql", "2026-03-02")]),  # Mar: 0 qualified (mql only)
])


def test_lead_velocity_rate_uses_the_period_before_the_range(make_ws):
    ws = make_ws(LVR)
    df = ws.metric("lead_velocity_rate", start="2026-01-01", end="2026-04-30")
    assert periods(df) == ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
    assert ratio(df, "2026-01-01") == (0.5, 1, 2)  # (3 − 2 in Dec) / 2
    assert ratio(df, "2026-02-01") == (0.0, 0, 3)  # (3 − 3) / 3
    assert ratio(df, "2026-03-01") == (-1.0, -3, 3)  # (0 − 3) / 3
    assert ratio(df, "2026-04-01") == (None, 0, 0)  # (0 − 0) / 0 → null


def test_lead_velocity_rate_qualified_stage_from_config(make_ws):
    config = funnelmetrics.Config(qualified_stage="mql")
    ws = make_ws(LVR, config=config)
    df = ws.metric("lead_velocity_rate", start="2026-03-01", end="2026-03-31")
    # cumulative mql = mql or later: Feb f1–f3 = 3; Mar m1 = 1 → (1 − 3)/3
    assert ratio(df, "2026-03-01") == (pytest.approx(-2 / 3), -2, 3)


def test_lead_velocity_rate_counts_no_event_before_start(make_ws):
    # start is mid-month: "events outside [start, end] are not counted" — only f-leads after
    # Feb 2 count for February.
    ws = make_ws(LVR)
    df = ws.metric("lead_velocity_rate", start="2026-02-03", end="2026-02-28")
    # February from Feb 3: f2 (Feb 3), f3 (Feb 4) = 2 (f1 on Feb 2 is before start);
    # January (the period before): j1, j2, j3 = 3 → (2 − 3)/3
    assert ratio(df, "2026-02-01") == (pytest.approx(-1 / 3), -1, 3)


def test_lead_velocity_rate_weekly(make_ws):
    ws = make_ws(LVR)
    df = ws.metric("lead_velocity_rate", grain="week", start="2026-02-02", end="2026-02-08")
    # week of Feb 2: f1, f2, f3 = 3; week before (Jan 26 – Feb 1): j3 (Jan 31 23:00) = 1 → 2/1
    assert ratio(df, "2026-02-02") == (2.0, 2, 1)


# ---- the funnel view --------------------------------------------------------------------------
def _stage(df, stage, **dims):
    rows = df[df["stage"] == stage]
    for name, wanted in dims.items():
        rows = rows[rows[name].isna()] if wanted is None else rows[rows[name] == wanted]
    assert len(rows) == 1, df
    return {k: (None if null(v) else v) for k, v in rows.iloc[0].to_dict().items()}


def test_funnel_view_per_stage(cast):
    df = funnel_table(cast, start="2026-01-01", end="2026-02-28")
    assert list(df["stage"]) == ["lead", "mql", "sql", "opportunity", "won"]
    lead = _stage(df, "lead")
    # reached 4 (A–D); to mql: A, B, C = 3 → 3/4; median days: A 2, B 5, C 2 → 2
    assert (lead["reached"], lead["converted_to_next"]) == (4, 3)
    assert lead["conversion_to_next"] == pytest.approx(0.75)
    assert lead["drop_off"] == pytest.approx(0.25)
    assert lead["median_days_in_stage"] == pytest.approx(2.0)
    mql = _stage(df, "mql")
    # reached A, B, C = 3; to sql: A, B = 2 → 2/3; days A 2, B 0 → median 1
    assert (mql["reached"], mql["converted_to_next"]) == (3, 2)
    assert mql["conversion_to_next"] == pytest.approx(2 / 3)
    assert mql["drop_off"] == pytest.approx(1 / 3)
    assert mql["median_days_in_stage"] == pytest.approx(1.0)
    sql = _stage(df, "sql")
    # reached A, B; to opportunity: A → 1/2; A Jan 5 → Jan 20 = 15 d
    assert (sql["reached"], sql["converted_to_next"]) == (2, 1)
    assert sql["conversion_to_next"] == pytest.approx(0.5)
    assert sql["median_days_in_stage"] == pytest.approx(15.0)
    opp = _stage(df, "opportunity")
    # A: Jan 20 → won Feb 20 = 31 d
    assert (opp["reached"], opp["converted_to_next"], opp["conversion_to_next"]) == (1, 1, 1.0)
    assert opp["drop_off"] == pytest.approx(0.0)
    assert opp["median_days_in_stage"] == pytest.approx(31.0)
    won = _stage(df, "won")
    assert won["reached"] == 1  # A, Feb 20
    assert won["conversion_to_next"] is None and won["drop_off"] is None


def test_funnel_view_by_source(cast):
    df = funnel_table(cast, start="2026-01-01", end="2026-02-28", by="source")
    web = [_stage(df, s, source="web")["reached"] for s in ("lead", "mql", "sql", "opportunity",
                                                             "won")]
    assert web == [2, 2, 1, 1, 1]  # A and C; C stops at mql
    ads = _stage(df, "sql", source="ads")
    assert (ads["reached"], ads["converted_to_next"], ads["conversion_to_next"]) == (1, 0, 0.0)
    nobody = _stage(df, "mql", source=None)  # D never reached mql: no cohort → null rate
    assert (nobody["reached"], nobody["conversion_to_next"]) == (0, None)
    assert _stage(df, "lead", source=None)["conversion_to_next"] == 0.0  # D: 0/1


def test_funnel_view_strict_and_as_of(cast):
    strict = funnel_table(cast, start="2026-01-01", end="2026-02-28", mode="strict")
    assert _stage(strict, "mql")["reached"] == 2  # A and C have mql events; B does not
    assert _stage(strict, "lead")["converted_to_next"] == 2
    as_of = funnel_table(cast, start="2026-01-01", end="2026-02-28", as_of="2026-02-01")
    # as of Feb 1: A, B exist (C, D later); won (Feb 20) has not happened
    assert [_stage(as_of, s)["reached"] for s in ("lead", "mql", "sql", "opportunity", "won")] \
        == [2, 2, 2, 1, 0]


def test_funnel_view_in_jakarta_time(make_ws):
    ws = make_ws(TZ_CAST, timezone="Asia/Jakarta")
    df = funnel_table(ws, start="2026-02-01", end="2026-02-28")
    assert _stage(df, "lead")["reached"] == 1  # only "late" is a local-February lead


def test_every_period_appears_with_dates_as_dates(cast):
    df = cast.metric("stage_conversion_rate", start="2026-01-01", end="2026-12-31")
    assert len(df) == 12
    assert all(isinstance(p, dt.date) for p in df["period_start"])
