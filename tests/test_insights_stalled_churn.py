"""Stalled deals (p90 time in deal stage from history) and churn-risk accounts, by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from funnelmetrics.insights.churn import churn_risk
from funnelmetrics.insights.findings import parse_period
from funnelmetrics.insights.stalled import stage_p90, stalled_deals
from tests.journeys import _insert, journeys


def _deals(tmp_path: Path):  # noqa: ANN202
    """History: three closed deals stayed 10, 20 and 30 days in `demo` (p90, interpolated:
    20 + 0.8 × 10 = 28 days). Open on 2026-04-01: S1 in demo since 1 March (31 days: stalled),
    S2 since 10 March (22 days: not), S3 with no stage event, created 1 February in demo (59
    days: stalled), S4 in discovery, a stage without history (not judged)."""
    opps = [{"opportunity_id": f"H{i}", "created_at": "2026-01-01", "amount": 100,
             "status": "won", "closed_at": "2026-03-01", "deal_stage": "closed"}
            for i in (1, 2, 3)]
    opps += [{"opportunity_id": "S1", "created_at": "2026-02-20", "amount": 5000,
              "deal_stage": "demo", "rep_id": "R1"},
             {"opportunity_id": "S2", "created_at": "2026-03-01", "amount": 9000,
              "deal_stage": "demo"},
             {"opportunity_id": "S3", "created_at": "2026-02-01", "amount": 2000,
              "deal_stage": "demo"},
             {"opportunity_id": "S4", "created_at": "2025-01-01", "amount": 7000,
              "deal_stage": "discovery"}]
    events = []
    for i, days in ((1, 10), (2, 20), (3, 30)):
        events += [{"opportunity_id": f"H{i}", "deal_stage": "demo",
                    "occurred_at": "2026-01-01"},
                   {"opportunity_id": f"H{i}", "deal_stage": "closed",
                    "occurred_at": f"2026-01-{1 + days:02d}" if days < 31 else "2026-01-31"}]
    events += [{"opportunity_id": "S1", "deal_stage": "discovery", "occurred_at": "2026-02-20"},
               {"opportunity_id": "S1", "deal_stage": "demo", "occurred_at": "2026-03-01"},
               {"opportunity_id": "S2", "deal_stage": "demo", "occurred_at": "2026-03-10"}]
    return journeys(tmp_path, opportunities=opps, deal_stage_events=events)


def test_stalled_deals_by_hand(tmp_path: Path) -> None:
    ws = _deals(tmp_path)
    p90 = stage_p90(ws, as_of="2026-04-01", min_history=3).execute()
    # demo: 10, 20, 30 → 28; discovery: S1's 9 days only (under the minimum); closed: none
    assert p90.set_index("deal_stage")["p90_days"].to_dict() == {"demo": pytest.approx(28.0)}
    found = stalled_deals(ws, as_of="2026-04-01", min_history=3)
    assert [(f.dimension_value, f.details["deal_stage"]) for f in found] == [
        ("S1", "demo"), ("S3", "demo")]  # largest amount first
    s1, s3 = found
    assert (s1.current, s1.baseline, s1.impact) == (pytest.approx(31.0), pytest.approx(28.0),
                                                    5000)
    assert s3.current == pytest.approx(59.0) and s3.impact == 2000
    assert s1.details["rep_id"] == "R1" and s1.kind == "stalled_deal"
    # on 20 March S1 is 19 days in demo, S3 47: only S3
    assert [f.dimension_value for f in stalled_deals(ws, as_of="2026-03-20",
                                                     min_history=3)] == ["S3"]
    # not enough history for any stage: nobody is judged
    assert stalled_deals(ws, as_of="2026-04-01", min_history=4) == []


def _accounts(tmp_path: Path):  # noqa: ANN202
    """Four paying accounts, weighted events per month Jan–Jun: A1 40, A2 5, A3 30, A4 20
    (scores 100, 25, 75, 50); July: A1 1, A2 2, A3 50, A4 30 (scores 25, 50, 100, 75)."""
    ws = journeys(tmp_path)
    _insert(ws, "subscriptions", [
        {"subscription_id": f"S{a}", "account_id": f"A{a}", "mrr": mrr,
         "started_at": "2025-12-01"} for a, mrr in ((1, 300), (2, 100), (3, 200), (4, 50))])
    history = {"A1": 40, "A2": 5, "A3": 30, "A4": 20}
    july = {"A1": 1, "A2": 2, "A3": 50, "A4": 30}
    rows = [{"account_id": a, "occurred_at": f"2026-{m:02d}-10", "event": "login",
             "weight": (july if m == 7 else history)[a]}
            for m in range(1, 8) for a in history]
    _insert(ws, "engagement_events", rows)
    return ws


def test_churn_risk_by_hand(tmp_path: Path) -> None:
    ws = _accounts(tmp_path)
    found = churn_risk(ws, parse_period("2026-07"), as_of="2026-12-31")
    # A1: 25 now against a flat 100 (sd 0, floored at 5): z = (25 − 100) / 5 = −15, and 25 is
    # below the cohort's median 50; A2 rose to 50, A3 and A4 rose too
    assert [f.dimension_value for f in found] == ["A1"]
    a1 = found[0]
    assert (a1.current, a1.baseline) == (pytest.approx(25.0), pytest.approx(100.0))
    assert a1.details["z"] == pytest.approx(-15.0)
    assert a1.impact == pytest.approx(12 * 300) and a1.details["mrr"] == pytest.approx(300)
    # a history shorter than the minimum is not judged
    assert churn_risk(ws, parse_period("2026-07"), history_periods=2, min_history=3,
                      as_of="2026-12-31") == []
    # a drop of 75 points is within 20 standard deviations of a 5-point floor: not flagged
    assert churn_risk(ws, parse_period("2026-07"), sigmas=20, as_of="2026-12-31") == []
