"""The forecast REST endpoints and the Forecast page, in process, for each role: the same
objects as the library, whole-workspace forecasts refused to roles limited to some reps, no
lists of deals or accounts for viewers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_web_data import Client, build_workspace

import funnelmetrics
from funnelmetrics.forecast.pipeline import bookings_forecast
from funnelmetrics.web.app import create_app


class World:
    def __init__(self, db: Path) -> None:
        self.db = db
        self.tokens = build_workspace(db, leads=400)
        self.client = Client(create_app(db))

    def get(self, url: str, who: str = "root") -> Any:
        return self.client.get(url, token=self.tokens[who])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("forecast_web") / "w.duckdb")
    yield w
    w.client.close()


def test_bookings_is_the_librarys_object(world: World) -> None:
    r = world.get("/api/v1/forecast/bookings?grain=quarter&horizon=2&as_of=2026-01-01")
    assert r.status_code == 200, r.text
    got = r.json()
    ws = funnelmetrics.open(world.db, read_only=True)
    try:
        want = bookings_forecast(ws, as_of=dt.datetime(2026, 1, 1), grain="quarter", horizon=2)
    finally:
        ws.close()
    assert got == want


def test_roles(world: World) -> None:
    # reps (ana, budi) and a manager limited to a team (east-boss): whole-workspace forecasts
    # are refused; a metric forecast is limited to their reps like any metric
    for who in ("ana", "budi", "east-boss"):
        assert world.get("/api/v1/forecast/bookings", who).status_code == 403
        assert world.get("/api/v1/forecast/backtest?periods=1", who).status_code == 403
        assert world.get("/api/v1/ltv", who).status_code == 403
        assert world.get("/api/v1/forecast/metric/leads_created?horizon=1",
                         who).status_code == 200
    # the viewer (board): aggregates, but no list of deals or accounts
    assert world.get("/api/v1/forecast/bookings?deals=true", "board").status_code == 403
    assert world.get("/api/v1/ltv?model=bgnbd&by_account=true", "board").status_code == 403
    assert world.get("/api/v1/forecast/bookings?horizon=1", "board").status_code == 200
    r = world.get("/api/v1/forecast/bookings?deals=true&horizon=1")
    assert r.status_code == 200 and "deals" in r.json()


def test_metric_forecast_and_mistakes(world: World) -> None:
    r = world.get("/api/v1/forecast/metric/leads_created?horizon=2&as_of=2026-01-01")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["metric"] == "leads_created" and len(body["rows"]) == 2
    assert world.get("/api/v1/forecast/metric/win_rate").status_code == 400
    assert world.get("/api/v1/forecast/metric/nope").status_code in (400, 404)
    assert world.get("/api/v1/forecast/bookings?grain=week").status_code == 422
    assert world.get("/api/v1/forecast/bookings?as_of=soon").status_code == 400


def test_ltv_sbg(world: World) -> None:
    r = world.get("/api/v1/ltv?model=sbg&unit=quarter")
    assert r.status_code == 200, r.text
    assert r.json()["model"] == "sbg"


def test_forecast_page(world: World) -> None:
    r = world.get("/forecast?grain=quarter&as_of=2026-01-01")
    assert r.status_code == 200, r.text
    assert "run the back-test" in r.text and "pipeline × win rate error" not in r.text
    r = world.get("/forecast?grain=quarter&as_of=2026-01-01&backtest=1")
    assert r.status_code == 200, r.text
    html = r.text
    for title in ("Bookings forecast (P10–P90)", "Forecast back-test", "Cohort survival (sBG)",
                  'data-nav="forecast"'):
        assert title in html
    assert "pipeline × win rate error" in html
    # a rep sees the metric forecast; the whole-workspace cards say why they are empty
    r = world.get("/forecast?as_of=2026-01-01", "ana")
    assert r.status_code == 200
    assert "reads the whole workspace" in r.text


@pytest.mark.parametrize("url", [
    "/api/v1/forecast/bookings?as_of=1900-01-01",
    "/api/v1/forecast/bookings?as_of=9998-12-31&grain=quarter&horizon=24",
    "/api/v1/forecast/bookings?by=nope",
    "/api/v1/forecast/backtest?periods=2&as_of=1900-03-01",
    "/api/v1/forecast/metric/leads_created?as_of=9998-12-31",
    "/api/v1/forecast/metric/leads_created?grain=day&horizon=120&as_of=1900-01-01",
    "/api/v1/forecast/metric/mrr?where=nope=1",
    "/api/v1/ltv?unit=fortnight",
    "/api/v1/ltv?model=bgnbd&unit=fortnight",
    "/api/v1/ltv?model=bgnbd&calibration_end=yesterday",
    "/api/v1/ltv?model=bgnbd&calibration_end=1900-01-01",
    "/api/v1/ltv?model=sbg&as_of=1900-01-01",
])
def test_edge_inputs_are_never_a_server_error(world: World, url: str) -> None:
    r = world.get(url)
    assert r.status_code < 500, f"{url}: {r.status_code} {r.text[:300]}"
    if r.status_code >= 400:
        assert r.json().get("detail") or r.json().get("error"), r.text
