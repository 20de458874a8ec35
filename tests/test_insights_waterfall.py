"""Pipeline-change waterfall: start → new, increased, decreased, pulled in, pushed out, won,
lost → end, summing exactly; start and end equal the catalogue's pipeline_value as of then."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from funnelmetrics.errors import QueryError
from funnelmetrics.insights.waterfall import PARTS, pipeline_waterfall
from tests.journeys import journeys

D = dt.date


def _world(tmp_path: Path):  # noqa: ANN202
    deals = [
        # open all along, expected to close in May: unchanged
        {"opportunity_id": "O1", "created_at": "2026-01-05", "amount": 1000,
         "expected_close_at": "2026-05-01"},
        # created in February, still open: new
        {"opportunity_id": "O2", "created_at": "2026-02-10", "amount": 650,
         "expected_close_at": "2026-03-20"},
        # open at the start, won / lost in February
        {"opportunity_id": "O3", "created_at": "2026-01-10", "amount": 300, "status": "won",
         "closed_at": "2026-02-15", "expected_close_at": "2026-03-10"},
        {"opportunity_id": "O4", "created_at": "2026-01-12", "amount": 200, "status": "lost",
         "closed_at": "2026-02-20", "expected_close_at": "2026-04-10"},
        # created and won inside the interval: in neither pipeline
        {"opportunity_id": "O5", "created_at": "2026-02-01", "amount": 999, "status": "won",
         "closed_at": "2026-02-25"},
        # open all along, expected in March
        {"opportunity_id": "O6", "created_at": "2026-01-03", "amount": 400,
         "expected_close_at": "2026-03-15"},
        # amount unknown: 0 in the pipeline (pipeline_value leaves it out)
        {"opportunity_id": "O7", "created_at": "2026-02-11", "amount": None},
    ]
    return journeys(tmp_path, opportunities=deals)


def test_waterfall_worked_by_hand(tmp_path: Path) -> None:
    ws = _world(tmp_path)
    w = pipeline_waterfall(ws, D(2026, 1, 31), D(2026, 2, 28))
    # start: O1 1000 + O3 300 + O4 200 + O6 400 = 1900; end: O1 1000 + O2 650 + O6 400 = 2050
    assert (w.start_value, w.end_value) == (1900, 2050)
    assert w.parts == {"new": 650, "increased": 0, "decreased": 0, "pulled_in": 0,
                       "pushed_out": 0, "won": -300, "lost": -200}
    assert w.deals["new"] == 2 and w.deals["won"] == 1 and w.deals["lost"] == 1  # O2, O7 new
    assert w.start_value + sum(w.parts.values()) == w.end_value
    steps = w.to_json()["steps"]
    assert [s["step"] for s in steps] == ["start", *PARTS, "end"] and w.to_json()["change"] == 150
    # the two ends are the catalogue's pipeline_value at those days, as the workspace stood
    for day, value in ((D(2026, 1, 31), 1900), (D(2026, 2, 28), 2050)):
        df = ws.metric("pipeline_value", grain="day", start=day, end=day,
                       as_of=day + dt.timedelta(days=1))
        assert df["value"].iloc[0] == value


def test_close_window(tmp_path: Path) -> None:
    ws = _world(tmp_path)
    w = pipeline_waterfall(ws, D(2026, 1, 31), D(2026, 2, 28), close_from=D(2026, 3, 1),
                           close_to=D(2026, 3, 31))
    # expected to close in March: start O3 300 + O6 400 = 700; end O2 650 + O6 400 = 1050
    assert (w.start_value, w.end_value) == (700, 1050)
    assert w.parts["new"] == 650 and w.parts["won"] == -300 and w.parts["lost"] == 0


def test_bad_ranges(tmp_path: Path) -> None:
    ws = _world(tmp_path)
    with pytest.raises(QueryError, match="before"):
        pipeline_waterfall(ws, D(2026, 2, 1), D(2026, 1, 1))
    with pytest.raises(QueryError, match="both"):
        pipeline_waterfall(ws, D(2026, 1, 1), D(2026, 2, 1), close_from=D(2026, 3, 1))


def test_demo_waterfall_sums_to_the_cent(tmp_path: Path) -> None:
    from funnelmetrics.demo import build_demo

    ws, _ = build_demo(tmp_path / "demo.duckdb", leads=3000, months=8, seed=5,
                       end=D(2026, 6, 30))
    w = pipeline_waterfall(ws, D(2026, 3, 31), D(2026, 5, 31))
    assert w.deals["new"] > 0 and w.deals["won"] > 0 and w.deals["lost"] > 0
    assert round(w.start_value + sum(w.parts.values()), 2) == round(w.end_value, 2)
    for day, value in ((D(2026, 3, 31), w.start_value), (D(2026, 5, 31), w.end_value)):
        df = ws.metric("pipeline_value", grain="day", start=day, end=day,
                       as_of=day + dt.timedelta(days=1))
        assert round(df["value"].iloc[0], 2) == round(value, 2)
