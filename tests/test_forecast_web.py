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


def _forecast_tile(html: str) -> str:
    """The overview's bookings-forecast tile (its <a> element)."""
    start = html.index('data-metric="bookings_forecast"')
    return html[html.rindex("<a ", 0, start):html.index("</a>", start)]


def test_overview_forecast_tile(world: World) -> None:
    """The tile shows the API's P50 for the same as-of (the same cached call), links to the
    Forecast page, and says "not available" to roles limited to some reps."""
    import re

    api = world.get("/api/v1/forecast/bookings?as_of=2026-03-01")
    assert api.status_code == 200, api.text
    first = api.json()["rows"][0]
    # a spread-out distribution (two draws of a different size or count would differ here)
    assert first["period_start"] == "2026-03-01"
    assert first["total"]["p10"] < first["total"]["p50"] < first["total"]["p90"]
    r = world.get("/?as_of=2026-03-01&lang=en")
    assert r.status_code == 200, r.text
    tile = _forecast_tile(r.text)
    assert "Bookings forecast (P50)" in tile and 'href="/forecast?' in tile
    raw = re.search(r'data-value="([^"]*)"', tile)
    assert raw is not None and float(raw.group(1)) == first["total"]["p50"]
    assert "P10 " in tile and "P90 " in tile and "not available" not in tile
    # a viewer sees aggregates: the same figure
    tile = _forecast_tile(world.get("/?as_of=2026-03-01&lang=en", "board").text)
    assert float(re.search(r'data-value="([^"]*)"', tile).group(1)) == first["total"]["p50"]
    # reps and a manager limited to a team: no whole-workspace forecast, said on the tile
    for who in ("ana", "east-boss"):
        r = world.get("/?as_of=2026-03-01&lang=en", who)
        assert r.status_code == 200, r.text
        tile = _forecast_tile(r.text)
        assert "not available for your role" in tile and 'data-value=""' in tile
    # a filter does not apply to a whole-workspace forecast: said, not ignored
    tile = _forecast_tile(world.get("/?as_of=2026-03-01&lang=en&where=segment=SMB").text)
    assert "does not apply to this figure" in tile and 'data-value=""' in tile
    r = world.get("/?as_of=2026-03-01&lang=id", "ana")
    assert "tidak tersedia untuk peran Anda" in _forecast_tile(r.text)


def _chart_specs(html: str) -> list[dict[str, Any]]:
    import json
    import re

    return [json.loads(m) for m in re.findall(
        r'<script type="application/json" id="spec-\d+">(.*?)</script>', html, re.S)]


def test_forecast_page_shows_the_apis_figures(world: World) -> None:
    """The Forecast page's P50 line is the API's (and so the overview tile's) for the same
    as-of — one call, the same defaults — and the cohort survival chart counts periods on a
    linear axis (not dates)."""
    api = world.get("/api/v1/forecast/bookings?as_of=2026-03-01").json()
    r = world.get("/forecast?as_of=2026-03-01&lang=en")
    assert r.status_code == 200, r.text
    specs = _chart_specs(r.text)
    fans = [s for s in specs if any(t.get("name") == "P50" for t in s["data"])]
    assert fans, "no bookings fan chart on the page"
    p50 = next(t for t in fans[0]["data"] if t.get("name") == "P50")
    assert p50["x"] == [row["period_start"] for row in api["rows"]]
    assert p50["y"] == [row["total"]["p50"] for row in api["rows"]]
    survival = [s for s in specs if "quarters since start" in str(s["layout"].get("xaxis"))]
    for spec in survival:
        assert spec["layout"]["xaxis"]["type"] == "linear"
