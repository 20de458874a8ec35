"""ETS forecasts: the classic airline passengers series (Box & Jenkins 1976, series G;
R's AirPassengers), short histories, and metric forecasts read from the catalogue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from journeys import journeys

from funnelmetrics.errors import QueryError
from funnelmetrics.forecast.series import ETSForecast, metric_forecast

AIRLINE = np.array([
    112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118,
    115, 126, 141, 135, 125, 149, 170, 170, 158, 133, 114, 140,
    145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166,
    171, 180, 193, 181, 183, 218, 230, 242, 209, 191, 172, 194,
    196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201,
    204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229,
    242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278,
    284, 277, 317, 313, 318, 374, 413, 405, 355, 306, 271, 306,
    315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336,
    340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337,
    360, 342, 406, 396, 420, 472, 548, 559, 463, 407, 362, 405,
    417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432], dtype=float)


def test_airline_series_is_the_classic_one() -> None:
    assert AIRLINE.sum() == 40363 and len(AIRLINE) == 144  # mean 280.30 over 1949-1960


def test_ets_forecasts_the_held_out_year_within_a_few_percent() -> None:
    m = ETSForecast(season=12).fit(AIRLINE[:132])
    # multiplicative seasonality with a trend is the form this series is known for
    assert m.spec_[3] == "mul" and m.spec_[1] == "add"
    rows = m.forecast(12)
    value = np.array([r["value"] for r in rows])
    mape = np.mean(np.abs(value - AIRLINE[132:]) / AIRLINE[132:])
    assert mape < 0.05
    inside = [r["lower_95"] <= a <= r["upper_95"] for r, a in zip(rows, AIRLINE[132:],
                                                                   strict=True)]
    assert sum(inside) >= 11
    assert all(r["lower_95"] <= r["lower_80"] <= r["value"] <= r["upper_80"] <= r["upper_95"]
               for r in rows)
    assert 0 < m.backtest_mape(12) < 0.15
    assert m.forecast(3) == m.forecast(3)  # simulated intervals: a fixed seed


def test_short_history_says_why_the_model_is_simpler() -> None:
    m = ETSForecast(season=12).fit(AIRLINE[:20])
    assert m.spec_[3] is None and "fewer than 2 seasons" in m.note_
    naive = ETSForecast(season=12).fit(AIRLINE[:3])
    assert naive.name_ == "naive" and "fewer than 4" in naive.note_
    assert [r["value"] for r in naive.forecast(2)] == [132.0, 132.0]


def test_zeros_keep_to_additive_models() -> None:
    y = np.array([0, 5, 3, 0, 6, 4, 0, 5, 3, 0, 6, 4], dtype=float)
    m = ETSForecast(season=3)
    assert all(e == "add" and s != "mul" for e, _, _, s in m.candidates(y))


@pytest.fixture
def leads_ws(tmp_path: Path):
    # leads per month Jan-Jun 2025: 1, 2, 3, 4, 5, 6 (one on the 10th of each, and more)
    leads = {f"L{m}-{k}": {"created_at": f"2025-0{m}-1{k}"} for m in range(1, 7)
             for k in range(m)}
    ws = journeys(tmp_path, leads=leads)
    yield ws
    ws.close()


def test_metric_forecast_reads_the_catalogue(leads_ws) -> None:
    out = metric_forecast(leads_ws, "leads_created", grain="month", horizon=2,
                          as_of="2025-07-01")
    assert out["metric"] == "leads_created" and out["unit"] == "count"
    assert [h["value"] for h in out["history"]][-6:] == [1, 2, 3, 4, 5, 6]
    assert [r["period_start"] for r in out["rows"]] == ["2025-07-01", "2025-08-01"]
    assert "fewer than 2 seasons" in out["note"]
    # a rising line of 6 points: level (about the last value, 6) or trend (7) by AICc
    assert out["model"].endswith(",N)")
    assert 5.5 <= out["rows"][0]["value"] <= 8
    # as of mid-June, June is not over: the history stops in May
    mid = metric_forecast(leads_ws, "leads_created", horizon=1, as_of="2025-06-15")
    assert mid["history"][-1]["period_start"] == "2025-05-01"
    assert mid["rows"][0]["period_start"] == "2025-06-01"


def test_metric_forecast_refuses_ratios_and_bad_options(leads_ws) -> None:
    with pytest.raises(QueryError, match="ratio metric"):
        metric_forecast(leads_ws, "win_rate")
    with pytest.raises(QueryError, match="--horizon"):
        metric_forecast(leads_ws, "leads_created", horizon=0)
    with pytest.raises(QueryError, match="--grain"):
        metric_forecast(leads_ws, "leads_created", grain="all")
