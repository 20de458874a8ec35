"""The pipeline forecast on a tiny pipeline whose distribution is worked out by hand, and the
hierarchical win rates on hand-made counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from journeys import journeys

from funnelmetrics.errors import QueryError
from funnelmetrics.forecast.pipeline import PipelineForecast, bookings_forecast
from funnelmetrics.forecast.winrates import WinRates, bucket_floor

AS_OF = dt.datetime(2025, 7, 1)

# History, every deal closed 10 days after creation: 4 won of 50 each (created Jan 5, Feb 5,
# Mar 5, Apr 5), 6 lost (created on the 20th of Jan-Jun) → overall win rate 4/10 = 0.4.
WON = [{"created_at": f"2025-0{m}-05", "closed_at": f"2025-0{m}-15", "amount": 50,
        "status": "won"} for m in (1, 2, 3, 4)]
LOST = [{"created_at": f"2025-0{m}-20", "closed_at": f"2025-0{m}-30", "amount": 80,
         "status": "lost"} for m in (1, 3, 4, 5, 6)] + [
    {"created_at": "2025-02-10", "closed_at": "2025-02-20", "amount": 80, "status": "lost"}]
# Open on Jul 1: A (100, 3 days old) and B (200, 61 days old); C is created after the instant.
OPEN = [{"created_at": "2025-06-28", "amount": 100, "probability": 0.9},
        {"created_at": "2025-05-01", "amount": 200, "probability": 0.1},
        {"created_at": "2025-07-03", "amount": 999}]


@pytest.fixture
def ws(tmp_path: Path):
    w = journeys(tmp_path, opportunities=WON + LOST + OPEN)
    yield w
    w.close()


def test_tiny_pipeline_distribution_by_hand(ws) -> None:
    f = PipelineForecast(grain="month", horizon=2, simulations=5000, seed=7).fit(ws, as_of=AS_OF)
    # A: 0 days-open bucket → the overall 0.4; B: 61 days → bucket 60, no closed deal was
    # open that long → no evidence, stays 0.4. Both close in July (fewer than 20 won deals
    # still open at their age: the 4 longest, remainder max(10 - age, 1) days).
    assert [d["win_probability"] for d in f.deal_rows()] == pytest.approx([0.4, 0.4])
    july, august = f.rows()
    # July's open bookings: 0 (0.6²=0.36), 100 (0.24), 200 (0.24), 300 (0.16)
    # → expected 0.4 × 300 = 120, P10 0, P50 100 (CDF 0.36 → 0.60), P90 300 (CDF 0.84 → 1)
    assert july["period_start"] == "2025-07-01"
    assert july["open_pipeline"]["expected"] == pytest.approx(120)
    assert (july["open_pipeline"]["p10"], july["open_pipeline"]["p50"],
            july["open_pipeline"]["p90"]) == (0, 100, 300)
    assert august["open_pipeline"] == {"expected": 0, "p10": 0, "p50": 0, "p90": 0, "deals": 0}
    # New pipeline, origins May … Dec 2024 (the 6 starts whose 2 months end by Jul 1): won
    # amount of deals created at or after the origin in its 1st and 2nd month:
    # May (0, 0), Apr (50, 0), Mar (50, 50), Feb (50, 50), Jan (50, 50), Dec (0, 50)
    assert f.new_history_ == [[0, 0], [50, 0], [50, 50], [50, 50], [50, 50], [0, 50]]
    assert july["new_pipeline"]["expected"] == pytest.approx(200 / 6)
    assert july["new_pipeline"]["p10"] == 0 and july["new_pipeline"]["p90"] == 50
    assert july["total"]["expected"] == pytest.approx(
        july["open_pipeline"]["expected"] + july["new_pipeline"]["expected"])


def test_crm_probability_beside_ours(ws) -> None:
    out = bookings_forecast(ws, as_of=AS_OF, grain="month", horizon=1, deals=True,
                            simulations=200)
    assert set(out) == {"forecast", "as_of", "grain", "rows", "deals"}
    assert (out["forecast"], out["as_of"], out["grain"]) == ("bookings", "2025-07-01", "month")
    assert [(d["amount"], d["crm_probability"]) for d in out["deals"]] == [(100, 0.9), (200, 0.1)]
    assert set(out["rows"][0]) == {"period_start", "open_pipeline", "new_pipeline", "total"}


def test_same_seed_same_answer(ws) -> None:
    one = bookings_forecast(ws, as_of=AS_OF, horizon=2, simulations=300, seed=3)
    two = bookings_forecast(ws, as_of=AS_OF, horizon=2, simulations=300, seed=3)
    assert one == two


def test_bad_grain_and_horizon_are_one_line(ws) -> None:
    with pytest.raises(QueryError, match="month or quarter"):
        PipelineForecast(grain="week")
    with pytest.raises(QueryError, match="1 to 24"):
        PipelineForecast(horizon=0)
    with pytest.raises(QueryError, match="not a column of opportunities"):
        bookings_forecast(ws, as_of=AS_OF, by="nope")


def test_no_history_no_probability(tmp_path: Path) -> None:
    w = journeys(tmp_path, opportunities=[{"created_at": "2025-06-01", "amount": 10}])
    try:
        f = PipelineForecast(horizon=1, simulations=100).fit(w, as_of=AS_OF)
        assert f.deal_rows()[0]["win_probability"] is None
        assert f.rows()[0]["open_pipeline"]["expected"] == 0
    finally:
        w.close()


def _counts(rows: list[tuple[str, int, int, int]]) -> list[dict]:
    return [{"segment": "", "stage": s, "won": w, "days": d, "deals": n} for s, w, d, n in rows]


def test_hierarchical_shrinkage_by_hand() -> None:
    # 20 closed deals, 5 won (overall 0.25); 4 reached proposal: won after 5, 5 and 20 days,
    # lost after 30
    rates = WinRates(strength=10).fit(_counts([
        ("*", 1, 10, 5), ("*", 0, 10, 15),
        ("proposal", 1, 5, 2), ("proposal", 1, 20, 1), ("proposal", 0, 30, 1)]))
    assert rates.overall_ == 0.25
    # proposal, 2 days open (first bucket = the stage's deals): (3 + 10 × 0.25) / (4 + 10)
    stage = (3 + 10 * 0.25) / 14
    assert rates.probability(segment="", stage="proposal", days_open=2) == pytest.approx(stage)
    # 20 days open: bucket 15 holds the deals still open at 15 days (won at 20, lost at 30):
    # (1 + 10 × stage) / (2 + 10)
    assert rates.probability(segment="", stage="proposal", days_open=20) == pytest.approx(
        (1 + 10 * stage) / 12)
    # an unknown stage has no deals: the overall rate
    assert rates.probability(segment="", stage="demo", days_open=0) == pytest.approx(0.25)
    assert bucket_floor(61) == 60 and bucket_floor(-1) == 0
    # remaining days of won proposal deals open ≥ 4 days: 5 - 4 (two) and 20 - 4, or the
    # longest when fewer than min_timing
    rem = WinRates(min_timing=1).fit(rates.counts_).remaining_days(stage="proposal", days_open=4)
    assert sorted(map(tuple, rem)) == [(1.0, 2.0), (16.0, 1.0)]
