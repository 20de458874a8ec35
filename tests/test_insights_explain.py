"""explain-change: volume × mix × rate per segment, summing exactly to the catalogue's change."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from funnelmetrics.errors import QueryError
from funnelmetrics.insights.explain import explain_change
from funnelmetrics.insights.findings import parse_period
from tests.journeys import journeys


def _world(tmp_path: Path):  # noqa: ANN202
    """March: A 10 leads, one won for 1000; B 10 leads, one won for 2000.
    April: A 20 leads, three won for 1000 each; B 10 leads, one won for 2000."""
    events, leads, opps = {}, {}, []
    plan = {("2026-03", "A"): (10, 1, 1000), ("2026-03", "B"): (10, 1, 2000),
            ("2026-04", "A"): (20, 3, 1000), ("2026-04", "B"): (10, 1, 2000)}
    for (month, src), (n, won, amount) in plan.items():
        for i in range(n):
            lid = f"{src}{month}-{i}"
            leads[lid] = {"source": src}
            events[lid] = [("lead", f"{month}-02")]
            if i < won:
                opps.append({"lead_id": lid, "created_at": f"{month}-05", "status": "won",
                             "amount": amount, "closed_at": f"{month}-25"})
    return journeys(tmp_path, events, leads=leads, opportunities=opps)


def test_bookings_change_by_source_worked_by_hand(tmp_path: Path) -> None:
    ws = _world(tmp_path)
    ex = explain_change(ws, "bookings", parse_period("2026-04"), by="source")
    assert ex.against.start == dt.date(2026, 3, 1)
    assert (ex.before, ex.after, ex.change) == (3000, 5000, 2000)
    parts = {p.segment: p for p in ex.parts}
    a, b = parts["A"], parts["B"]
    # leads V 20 → 30; A's share 1/2 → 2/3 at 100 → 150 a lead; B's 1/2 → 1/3 at 200 a lead.
    # A volume: 10 × [(½·100 + ⅔·150)/3 + (½·150 + ⅔·100)/6] = 10 × (50 + 23.6111) = 736.11
    assert a.volume == pytest.approx(10 * (50 + (75 + 200 / 3) / 6))
    # A mix: ⅙ × [(20·100 + 30·150)/3 + (20·150 + 30·100)/6] = ⅙ × (6500/3 + 1000) = 527.78
    assert a.mix == pytest.approx((6500 / 3 + 1000) / 6)
    # A rate: 50 × [(20·½ + 30·⅔)/3 + (20·⅔ + 30·½)/6] = 50 × (10 + 4.7222) = 736.11
    assert a.rate == pytest.approx(50 * (10 + (40 / 3 + 15) / 6))
    # B: same 2000 both months; volume +833.33 and mix −833.33 cancel, no rate effect
    assert b.volume == pytest.approx(833.3333, abs=1e-4)
    assert b.mix == pytest.approx(-833.3333, abs=1e-4)
    assert b.rate == pytest.approx(0, abs=1e-9)
    assert ex.effect("volume") + ex.effect("mix") + ex.effect("rate") == pytest.approx(2000)
    assert [p.segment for p in ex.contributors(1)] == ["A"]
    top = ex.findings()
    assert [(f.kind, f.dimension_value, f.impact) for f in top] == [("change", "A", 2000)]


def test_against_any_period_and_bad_metric(tmp_path: Path) -> None:
    ws = _world(tmp_path)
    ex = explain_change(ws, "bookings", parse_period("2026-03"), by="source",
                        against=parse_period("2026-04"))
    assert ex.change == -2000
    with pytest.raises(QueryError, match="not a ratio"):
        explain_change(ws, "leads_created", parse_period("2026-04"), by="source")
    with pytest.raises(QueryError, match="same grain"):
        explain_change(ws, "bookings", parse_period("2026-04"), by="source",
                       against=parse_period("2026-Q1", "quarter"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from funnelmetrics.demo import build_demo

    ws, _ = build_demo(tmp_path_factory.mktemp("explain") / "demo.duckdb", leads=4000,
                       months=8, seed=21, end=dt.date(2026, 6, 30))
    return ws


@pytest.mark.parametrize(("metric", "params", "total"), [
    ("bookings", {}, "revenue_per_lead"), ("won_deals", {}, "win_rate"),
    ("conversions", {"from_stage": "mql", "to_stage": "sql"}, "stage_conversion_rate")])
@pytest.mark.parametrize("by", ["source", "industry", "segment"])
def test_parts_sum_to_the_catalogue_change_to_the_cent(demo, metric: str,  # noqa: ANN001
                                                       params: dict, total: str,
                                                       by: str) -> None:
    ex = explain_change(demo, metric, parse_period("2026-05"), by=by, params=params,
                        against=parse_period("2026-02"))
    whole = demo.metrics([(total, {"start": start, "end": end, "params": params})
                          for start, end in (("2026-02-01", "2026-02-28"),
                                             ("2026-05-01", "2026-05-31"))])
    before, after = (float(df["numerator"].iloc[0]) for df in whole)
    assert round(ex.before, 2) == round(before, 2) and round(ex.after, 2) == round(after, 2)
    parts = sum(p.volume + p.mix + p.rate for p in ex.parts)
    assert round(parts, 2) == round(after - before, 2)
    effects = ex.effect("volume") + ex.effect("mix") + ex.effect("rate")
    assert round(effects, 2) == round(after - before, 2)
    assert ex.change != 0  # the months differ: the test is not vacuous
