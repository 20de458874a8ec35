"""The revenue views ask the catalogue in one batch and carry `partial` (issue "One semantic
model", item 4): the rep leaderboard, KPI status and MRR cohorts. Instants are UTC.

Data as in tests/test_cli_revenue.py: A 100 (Jan 10 – Mar 1), 150 from Mar 1; B 200 (Jan 5 –
Feb 1), 300 from Mar 2. Deals: r1 O1 won 1000 (Jan 1 → Jan 11); r2 O2 won 500 (Jan 1 → Jan 14),
O3 lost (Jan 15), O4 won 700 (Jan 5 → Feb 4); r3 O5 won 1000 (Jan 10 → Jan 20). January quotas:
r1 2000, r2 1000.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from test_cli_revenue import SQL

import funnelmetrics
from funnelmetrics.insights.kpis import kpi_status, read_targets
from funnelmetrics.revenue.cohorts import mrr_cohorts
from funnelmetrics.revenue.leaderboard import leaderboard


@pytest.fixture
def ws(tmp_path: Path):
    w = funnelmetrics.open(tmp_path / "w.duckdb")
    for sql in SQL:
        w.duckdb.execute(sql)
    yield w
    w.close()


def test_leaderboard_over_all_time_is_one_period(ws):
    """No start, grain all: every metric over one period from the earliest first row (the
    January quotas). r2: 500 + 700 = 1200, won 2 of 3 closed, (13 + 30)/2 = 21.5 days,
    1200/1000 = 1.2; r1: 1000, 1, 10 days, 1000/2000; r3: 1000, 1, 10 days, no quota."""
    df = leaderboard(ws, grain="all")
    assert [str(p) for p in set(df["period_start"])] == ["2026-01-01"]
    got = {r["rep_id"]: (r["won_amount"], r["win_rate"], r["mean_cycle_days"],
                         r["quota_attainment"], r["rank"]) for r in df.to_dict("records")}
    assert got["r2"] == (1200, pytest.approx(2 / 3), 21.5, 1.2, 1)
    assert got["r1"] == (1000, 1, 10, 0.5, 2)
    assert got["r3"][:3] == (1000, 1, 10) and got["r3"][3] != got["r3"][3]  # NaN: no quota
    assert not df["partial"].any()


def test_leaderboard_one_batch_and_partial(ws, monkeypatch):
    """As of Jan 16: January is not over; r1 1000 ranks above r2 500 (O4 and O5 come later)."""
    calls = []
    original = ws.metrics
    monkeypatch.setattr(ws, "metrics", lambda q, **kw: calls.append(1) or original(q, **kw))
    df = leaderboard(ws, start="2026-01-01", end="2026-01-31", as_of="2026-01-16")
    assert len(calls) == 1
    assert [(r["rep_id"], r["won_amount"], r["rank"], r["partial"])
            for r in df.to_dict("records")] == [("r1", 1000, 1, True), ("r2", 500, 2, True)]


def test_kpi_targets_are_read_for_the_day_only(ws):
    """Jan 16: the four January / Q1 targets; the February one is left in the database."""
    targets = read_targets(ws, dt.date(2026, 1, 16))
    assert sorted((t.metric, t.value or "") for t in targets) == [
        ("cac", ""), ("win_rate", "r2"), ("won_revenue", ""), ("won_revenue", "r1")]


def test_kpi_target_that_cannot_be_asked_is_no_data(ws):
    """A bad target (unknown metric, unknown dimension) is "no data" with its reason; the
    others still answer: won_revenue so far 1500 against 3100 × 15/31 = 1500 → on track."""
    ws.duckdb.execute("INSERT INTO kpi_targets (metric, period_start, period_end, target, "
                      "dimension, value) VALUES ('magic', '2026-01-01', '2026-01-31', 1, NULL, "
                      "NULL), ('won_revenue', '2026-01-01', '2026-01-31', 5, 'shoe', 'x')")
    df = kpi_status(ws, as_of="2026-01-16")
    rows = {(r["metric"], r["dimension"]): r for r in df.to_dict("records")}
    assert rows[("magic", None)]["status"] == "no data" and "magic" in rows[("magic", None)][
        "note"]
    assert rows[("won_revenue", "shoe")]["status"] == "no data"
    total = rows[("won_revenue", None)]
    assert total["actual"] == 1500 and total["expected"] == pytest.approx(1500)
    assert total["status"] == "on track"


def test_mrr_cohorts_mark_the_periods_not_over(ws):
    """As of Feb 15: the January cohort (A, B) at age 0 (January, over) and age 1 (February,
    not over: partial). End of January: A 100 + B 200 = 300."""
    df = mrr_cohorts(ws, start="2026-01-01", end="2026-02-28", as_of="2026-02-15")
    got = [(r["periods_since_start"], r["accounts"], r["mrr"], r["partial"])
           for r in df.to_dict("records")]
    assert got[0] == (0, 2, 300, False)
    assert got[1][0] == 1 and got[1][3] is True
