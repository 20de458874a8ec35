"""Segment comparison: exact raw and Holm-adjusted p-values, worked by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from funnelmetrics.errors import QueryError
from funnelmetrics.insights.findings import parse_period
from funnelmetrics.insights.segments import cohens_h, segments
from tests.journeys import journeys


def _world(tmp_path: Path):  # noqa: ANN202
    """April's MQLs: source X 83 (5 reach SQL), Y 50 (6), Z 49 (6). January: 10 W leads all
    reach SQL, 2 are won for 500 each (value per SQL reached: 2/10 × 500 = 100)."""
    events, leads, opps = {}, {}, []
    for src, n, conv in (("X", 83, 5), ("Y", 50, 6), ("Z", 49, 6)):
        for i in range(n):
            lid = f"{src}{i}"
            leads[lid] = {"source": src}
            events[lid] = [("lead", "2026-04-01"), ("mql", "2026-04-02")] + \
                ([("sql", "2026-04-06")] if i < conv else [])
    for i in range(10):
        lid = f"W{i}"
        leads[lid] = {"source": "W"}
        events[lid] = [("lead", "2026-01-02"), ("mql", "2026-01-03"), ("sql", "2026-01-05")]
        if i < 2:
            events[lid] += [("opportunity", "2026-01-08"), ("won", "2026-01-20")]
            opps.append({"lead_id": lid, "created_at": "2026-01-08", "status": "won",
                         "amount": 500, "closed_at": "2026-01-20"})
    return journeys(tmp_path, events, leads=leads, opportunities=opps)


def test_worse_segment_with_exact_raw_and_holm_p_values(tmp_path: Path) -> None:
    ws = _world(tmp_path)
    found = segments(ws, parse_period("2026-04"), from_stage="mql", to_stage="sql",
                     dimensions=["source"], min_leads=30, as_of="2026-12-31")
    by_value = {f.dimension_value: f for f in found}
    assert set(by_value) == {"X", "Y", "Z"}  # W has no April leads
    x, y, z = by_value["X"], by_value["Y"], by_value["Z"]
    # X 5/83 against the rest 12/99: statsmodels' documented case, z = −1.4078, p = 0.15918
    assert x.details["z"] == pytest.approx(-1.4078, abs=5e-5)
    assert x.p_value == pytest.approx(0.15918, abs=5e-6)
    # Y 6/50 vs 11/132 and Z 6/49 vs 11/133 (pooled 17/182 each)
    assert y.p_value == pytest.approx(0.447988, abs=5e-6)
    assert z.p_value == pytest.approx(0.413796, abs=5e-6)
    # Holm over 3: X 0.15918 × 3 = 0.47754; Z 0.41380 × 2 = 0.82759; Y 0.44799 × 1 → 0.82759
    assert x.p_adjusted == pytest.approx(0.477544, abs=5e-6)
    assert z.p_adjusted == pytest.approx(0.827592, abs=5e-6)
    assert y.p_adjusted == pytest.approx(0.827592, abs=5e-6)
    # effect: X converts 5/83 − 12/99 worse, Cohen's h = 2 asin √(5/83) − 2 asin √(12/99)
    assert x.details["difference"] == pytest.approx(5 / 83 - 12 / 99)
    assert x.details["cohens_h"] == pytest.approx(
        2 * math.asin(math.sqrt(5 / 83)) - 2 * math.asin(math.sqrt(12 / 99)))
    assert x.details["worse"] and not y.details["worse"]
    # missed conversions at the rest's rate, valued at 100 each: (12/99 × 83 − 5) × 100
    assert x.impact == pytest.approx((12 / 99 * 83 - 5) * 100)
    assert found[0] is x  # ordered by impact: the worst first
    assert (x.current, x.baseline) == (pytest.approx(5 / 83), pytest.approx(12 / 99))


def test_minimum_leads_and_holm_over_the_values_compared(tmp_path: Path) -> None:
    ws = _world(tmp_path)
    found = segments(ws, parse_period("2026-04"), from_stage="mql", to_stage="sql",
                     dimensions=["source"], min_leads=50, as_of="2026-12-31")
    by_value = {f.dimension_value: f for f in found}
    assert set(by_value) == {"X", "Y"}  # Z's 49 leads are under the minimum
    # X is still compared with every other lead (12/99); Holm over 2: 0.15918 × 2 = 0.31836,
    # Y 0.44799 × 1 = 0.44799
    assert by_value["X"].p_value == pytest.approx(0.15918, abs=5e-6)
    assert by_value["X"].p_adjusted == pytest.approx(0.318363, abs=5e-6)
    assert by_value["Y"].p_adjusted == pytest.approx(0.447988, abs=5e-6)
    with pytest.raises(QueryError):
        segments(ws, parse_period("2026-04"), from_stage="mql", to_stage="sql", min_leads=0)


def test_cohens_h_by_hand() -> None:
    assert cohens_h(0.5, 0.5) == 0
    assert cohens_h(1.0, 0.0) == pytest.approx(math.pi)  # 2·(π/2) − 0


def test_empty_period_has_no_findings(tmp_path: Path) -> None:
    ws = _world(tmp_path)
    assert segments(ws, parse_period("2025-04"), from_stage="mql", to_stage="sql",
                    dimensions=["source"], as_of="2026-12-31") == []


def test_never_converting_values_are_left_out_and_unknown_is_named(tmp_path: Path) -> None:
    """April MQLs: 40 of source P never reach SQL (nor did P's in March: not in this funnel),
    40 of Q with 20 SQLs, 40 without a source with 4 SQLs."""
    events, leads = {}, {}
    for src, n, conv, month in (("P", 40, 0, "2026-04"), ("P", 40, 0, "2026-03"),
                                ("Q", 40, 20, "2026-04"), (None, 40, 4, "2026-04")):
        for i in range(n):
            lid = f"{src}{month}{i}"
            leads[lid] = {"source": src}
            events[lid] = [("lead", f"{month}-01"), ("mql", f"{month}-02")] + \
                ([("sql", f"{month}-06")] if i < conv else [])
    ws = journeys(tmp_path, events, leads=leads)
    found = segments(ws, parse_period("2026-04"), from_stage="mql", to_stage="sql",
                     dimensions=["source"], min_leads=30, as_of="2026-12-31")
    assert {f.dimension_value for f in found} == {"Q", "(unknown)"}
    unknown = next(f for f in found if f.dimension_value == "(unknown)")
    # 4/40 against the rest's 20/80 (P's leads still count in the rest)
    assert (unknown.current, unknown.baseline) == (pytest.approx(0.1), pytest.approx(0.25))
    assert unknown.rows["where"] == {"source": None}
