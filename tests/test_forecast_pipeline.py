"""The pipeline forecast on a tiny pipeline whose distribution is worked out by hand, and the
win-by-day probabilities (competing risks with censoring) on hand-made counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from journeys import journeys

from funnelmetrics.errors import QueryError
from funnelmetrics.forecast.pipeline import PipelineForecast, bookings_forecast
from funnelmetrics.forecast.winrates import Incidence, WinRates

AS_OF = dt.datetime(2025, 7, 1)

# One rep (R1) so that the segment level is everyone. History, every deal closed 10 days after
# creation: 4 won of 50 each (created Jan 5, Feb 5, Mar 5, Apr 5), 6 lost (created on the 20th
# of Jan, Mar-Jun and on Feb 10). Open on Jul 1: A (100, created Jun 28: 3 days) and
# B (200, Jun 25: 6 days); C is created after the instant.
WON = [{"created_at": f"2025-0{m}-05", "closed_at": f"2025-0{m}-15", "amount": 50,
        "status": "won", "rep_id": "R1"} for m in (1, 2, 3, 4)]
LOST = [{"created_at": f"2025-0{m}-20", "closed_at": f"2025-0{m}-30", "amount": 80,
         "status": "lost", "rep_id": "R1"} for m in (1, 3, 4, 5, 6)] + [
    {"created_at": "2025-02-10", "closed_at": "2025-02-20", "amount": 80, "status": "lost",
     "rep_id": "R1"}]
OPEN = [{"created_at": "2025-06-28", "amount": 100, "probability": 0.9, "rep_id": "R1"},
        {"created_at": "2025-06-25", "amount": 200, "probability": 0.1, "rep_id": "R1"},
        {"created_at": "2025-07-03", "amount": 999, "rep_id": "R1"}]


@pytest.fixture
def ws(tmp_path: Path):
    w = journeys(tmp_path, opportunities=WON + LOST + OPEN)
    yield w
    w.close()


def test_tiny_pipeline_distribution_by_hand(ws) -> None:
    f = PipelineForecast(grain="month", horizon=2, simulations=5000, seed=7,
                         by="rep_id").fit(ws, as_of=AS_OF)
    # A, 3 days open: the deals open at day 3 are the 10 closed (day 10), A (censored at 3)
    # and B (censored at 6): on day 10, 4 won of the 10 still open → P(win) = 0.4; the same
    # for B (open at 6: the 10 closed and B). Both would close on day 10: in July.
    assert [d["win_probability"] for d in f.deal_rows()] == pytest.approx([0.4, 0.4])
    july, august = f.rows()
    # July's open bookings: 0 (0.6²=0.36), 100 (0.24), 200 (0.24), 300 (0.16)
    # → expected 0.4 × 300 = 120, P10 0, P50 100 (CDF 0.36 → 0.60), P90 300 (CDF 0.84 → 1)
    assert july["period_start"] == "2025-07-01"
    assert july["open_pipeline"]["expected"] == pytest.approx(120)
    assert (july["open_pipeline"]["p10"], july["open_pipeline"]["p50"],
            july["open_pipeline"]["p90"]) == (0, 100, 300)
    assert august["open_pipeline"] == {"expected": 0, "p10": 0, "p50": 0, "p90": 0, "deals": 0}
    # New pipeline, origins May, Apr, Mar, Feb (the 4 starts whose 2 months end by Jul 1):
    # won amount of deals created at or after the origin in its 1st and 2nd month:
    # May (0, 0), Apr (50, 0), Mar (50, 50), Feb (50, 50); scaled by deals created in June
    # (3: lost Jun 20, B, A) over those created in the origin's month (May 1; Apr, Mar, Feb 2)
    assert f.new_scale_ == [3, 1.5, 1.5, 1.5]
    assert f.new_history_ == [[0, 0], [75, 0], [75, 75], [75, 75]]
    assert july["new_pipeline"]["expected"] == pytest.approx(225 / 4)
    assert august["new_pipeline"]["expected"] == pytest.approx(150 / 4)
    assert july["new_pipeline"]["p10"] == 0 and july["new_pipeline"]["p90"] == 75
    assert july["total"]["expected"] == pytest.approx(120 + 225 / 4)


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


def _rows(rows: list[tuple[str, str, int, int, int]]) -> list[dict]:
    return [{"segment": "", "stage": st, "outcome": o, "days": d, "spell": sp, "deals": n}
            for st, o, d, sp, n in rows]


def test_incidence_with_censoring_by_hand() -> None:
    # won on day 2, lost on day 2, open (censored) at day 1, won on day 4
    inc = Incidence.of(np.array([[1, 2, 1], [-1, 2, 1], [0, 1, 1], [1, 4, 1]], dtype=float))
    assert list(inc.at_risk[:5]) == [4, 4, 3, 1, 1]
    # day 2: 1 win of 3 open → 1/3, survival 1/3 after; day 4: the last one wins → 1/3
    assert inc.win_by_day(0) == pytest.approx([0, 0, 1 / 3, 0, 1 / 3, 0])
    assert inc.win_by_day(3) == pytest.approx([0, 1, 0])  # open at day 3: only the day-4 win


def test_hierarchical_shrinkage_by_hand() -> None:
    # 20 deals closed on day 10, 5 won (overall 0.25). At proposal: 2 won on day 5 after 3
    # days there, 1 won on day 20 and 1 lost on day 30, each still at proposal until then.
    rates = WinRates(strength=10).fit(_rows([
        ("*", "won", 10, 10, 5), ("*", "lost", 10, 10, 15),
        ("proposal", "won", 5, 3, 2), ("proposal", "won", 20, 20, 1),
        ("proposal", "lost", 30, 30, 1)]))
    assert rates.overall_ == 0.25
    # 2 days at proposal (and since creation), days j from now: the overall's hazards are
    # won 5/20 and lost 15/20 at j = 8 (day 10). Proposal's, shrunk toward them by
    # (events + 10 · parent) / (open + 10): j = 3 (day 5, 4 open, 2 won) won 2/14; j = 8 (2
    # open) won 2.5/12, lost 7.5/12; j = 18 (2 open, 1 won) won 1/12; j = 28 lost 1/11.
    # P: 1/7 on j = 3, then survival 6/7 × 2.5/12 = 15/84 on j = 8, then survival
    # 6/7 × 2/12 = 1/7 × 1/12 = 1/84 on j = 18 → 1/7 + 15/84 + 1/84 = 1/3
    by_day = rates.win_by_day(segment="", stage="proposal", days_open=2, created_days=2)
    assert np.nonzero(by_day)[0].tolist() == [3, 8, 18]
    assert by_day[[3, 8, 18]] == pytest.approx([1 / 7, 15 / 84, 1 / 84])
    assert rates.probability(segment="", stage="proposal", days_open=2,
                             created_days=2) == pytest.approx(1 / 3)
    # 4 days at proposal: the two that moved on after 3 days are not comparable; the 2 left:
    # j = 6 (day 10) won 2.5/12, lost 7.5/12; j = 16 (day 20) won 1/12
    # → 5/24 + (1 - 10/12) × 1/12 = 5/24 + 1/72 = 2/9
    assert rates.probability(segment="", stage="proposal", days_open=4,
                             created_days=4) == pytest.approx(2 / 9)
    # an unknown stage has no deals of its own: the overall figure
    assert rates.probability(segment="", stage="demo", days_open=0,
                             created_days=0) == pytest.approx(0.25)


def test_size_bands_are_the_default_segment(ws) -> None:
    from funnelmetrics.forecast.history import durations, open_deals, size_cuts

    # 12 amounts created before Jul 1: 50 ×4, 80 ×6, 100, 200 → thirds at positions 11/3 and
    # 22/3 of the sorted list (linear interpolation): 50 + 2/3 × 30 = 70, and 80
    cuts = size_cuts(ws, AS_OF)
    assert cuts == pytest.approx((70, 80))
    # below 70 small, below 80 mid, else large: the won 50s are small, the lost 80s large
    assert [d["segment"] for d in open_deals(ws, AS_OF, None, cuts)] == ["large", "large"]
    seen = {(r["segment"], r["outcome"]) for r in durations(ws, AS_OF, None, cuts)}
    assert seen == {("small", "won"), ("large", "lost"), ("large", "open")}
    # with --by the column is the segment
    assert {d["segment"] for d in open_deals(ws, AS_OF, "rep_id")} == {"R1"}
