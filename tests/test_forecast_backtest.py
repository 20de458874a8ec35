"""The back-test: scores worked by hand, and a run on a tiny workspace whose actuals and naive
baselines come from the catalogue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from journeys import journeys
from test_forecast_pipeline import LOST, OPEN, WON

from funnelmetrics.errors import QueryError
from funnelmetrics.forecast.backtest import backtest, percentage_error, summary


def test_percentage_error_is_null_without_an_actual() -> None:
    assert percentage_error(110, 100) == pytest.approx(0.1)
    assert percentage_error(10, 0) is None and percentage_error(None, 5) is None


def test_summary_by_hand() -> None:
    rows = [{"error": 0.1, "covered": True, "last_period_error": 0.5,
             "pipeline_x_win_rate_error": -0.2},
            {"error": -0.3, "covered": False, "last_period_error": -0.5,
             "pipeline_x_win_rate_error": None},
            {"error": None, "covered": None, "last_period_error": None,
             "pipeline_x_win_rate_error": None}]
    out = summary(rows)
    # ours: MAPE (0.1 + 0.3)/2 = 0.2, bias (0.1 - 0.3)/2 = -0.1, coverage 1 of 2
    assert out["model"] == pytest.approx({"mape": 0.2, "bias": -0.1, "coverage_p10_p90": 0.5})
    # last period: MAPE 0.5 → ours better by 0.3 points, 1 - 0.2/0.5 = 60% relative
    assert out["last_period"]["mape"] == pytest.approx(0.5)
    assert out["last_period"]["model_better_by"] == pytest.approx(
        {"mape_points": 0.3, "relative": 0.6})
    # pipeline × win rate: MAPE 0.2 → no better, no worse
    assert out["pipeline_x_win_rate"]["model_better_by"]["mape_points"] == pytest.approx(0)
    assert out["periods"] == 3


@pytest.fixture
def ws(tmp_path: Path):
    w = journeys(tmp_path, opportunities=WON + LOST + OPEN)
    yield w
    w.close()


def test_backtest_on_a_tiny_workspace(ws) -> None:
    out = backtest(ws, grain="month", periods=4, as_of=dt.datetime(2025, 7, 1), simulations=200)
    assert [r["period_start"] for r in out["rows"]] == [
        "2025-03-01", "2025-04-01", "2025-05-01", "2025-06-01"]
    # won: 50 in Jan, Feb, Mar, Apr; none in May, June
    assert [r["actual"] for r in out["rows"]] == [50, 50, 0, 0]
    assert [r["last_period"] for r in out["rows"]] == [50, 50, 50, 0]
    march = out["rows"][0]
    assert march["last_period_error"] == 0
    # at Mar 1 nothing is open (pipeline 0) and 2 of 4 closed deals were won: 0 × 0.5 = 0
    assert march["pipeline_x_win_rate"] == 0 and march["pipeline_x_win_rate_error"] == -1
    # no bookings in May: no percentage error, never a division by zero
    assert out["rows"][2]["error"] is None
    assert out["overall"]["periods"] == 4


def test_backtest_options_are_checked(ws) -> None:
    with pytest.raises(QueryError, match="month or quarter"):
        backtest(ws, grain="year")
    with pytest.raises(QueryError, match="--periods"):
        backtest(ws, periods=0)
