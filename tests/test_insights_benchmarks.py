"""Benchmarks: a named source and year for every range, workspace overrides, status by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

import funnelmetrics
from funnelmetrics import catalog
from funnelmetrics.errors import ConfigError
from funnelmetrics.insights.benchmarks import (
    BENCHMARKS,
    Benchmark,
    benchmark_for,
    benchmark_status,
    benchmarks,
)
from tests.journeys import journeys


def test_every_shipped_range_names_its_source_and_year() -> None:
    catalog.load()
    for b in BENCHMARKS:
        assert b.source and 2000 <= b.year <= 2026, b
        assert b.low is not None or b.high is not None, b
        assert b.low is None or b.high is None or b.low <= b.high, b
        catalog.get(b.metric)  # a catalogue metric
    keys = [b.key for b in BENCHMARKS]
    assert len(keys) == len(set(keys))


def test_status_sides() -> None:
    b = Benchmark("win_rate", 0.2, 0.3, "s", 2024)
    assert [b.status(v) for v in (0.19, 0.2, 0.25, 0.3, 0.31, None)] == [
        "below", "within", "within", "within", "above", None]
    assert Benchmark("ltv_to_cac", 3.0, None, "s", 2013).status(99) == "within"


def test_lookup_prefers_transition_and_segment() -> None:
    table = benchmarks()
    mql = benchmark_for(table, "stage_conversion_rate", from_stage="mql", to_stage="sql")
    assert mql is not None and (mql.low, mql.high) == (0.30, 0.45)
    assert benchmark_for(table, "stage_conversion_rate", from_stage="mql",
                         to_stage="won") is None
    smb = benchmark_for(table, "customer_churn_rate", segment="SMB")
    assert smb is not None and smb.segment == "SMB"
    assert benchmark_for(table, "customer_churn_rate") is None  # only per segment
    assert benchmark_for(table, "mrr") is None


def test_workspace_overrides_and_bad_entries() -> None:
    table = benchmarks({"win_rate": {"low": 0.25, "high": 0.35, "source": "Board plan",
                                     "year": 2026},
                        "stage_conversion_rate:mql:sql": {"low": 0.4}})
    win = benchmark_for(table, "win_rate")
    assert win is not None and (win.low, win.high, win.source, win.year) == (
        0.25, 0.35, "Board plan", 2026)
    mql = benchmark_for(table, "stage_conversion_rate", from_stage="mql", to_stage="sql")
    assert mql is not None and (mql.low, mql.high) == (0.4, 0.45)  # high kept from the table
    with pytest.raises(ConfigError, match="benchmarks.win_rate: unknown key"):
        benchmarks({"win_rate": {"lo": 0.1}})
    with pytest.raises(ConfigError, match="needs its source"):
        benchmarks({"mrr": {"low": 1}})
    with pytest.raises(ConfigError, match="above high"):
        benchmarks({"win_rate": {"low": 0.5, "high": 0.4}})
    with pytest.raises(ConfigError, match="numbers"):
        benchmarks({"win_rate": {"low": "x"}})


def test_benchmark_status_from_the_catalogue(tmp_path: Path) -> None:
    # April: 4 deals closed, 1 won: win rate 0.25 (within 0.20–0.30);
    # with the workspace's own range 0.3–0.4 it is below, on the worse side
    deals = [{"created_at": "2026-03-01", "amount": 100, "status": s,
              "closed_at": "2026-04-10"} for s in ("won", "lost", "lost", "lost")]
    ws = journeys(tmp_path / "a", opportunities=deals)
    rows = {r["metric"]: r for r in benchmark_status(ws, "2026-04-01", "2026-04-30")
            if r["segment"] is None and r["from_stage"] is None}
    assert rows["win_rate"]["value"] == 0.25
    assert (rows["win_rate"]["status"], rows["win_rate"]["good"]) == ("within", True)
    assert rows["win_rate"]["source"].startswith("HubSpot")
    config = funnelmetrics.Config(benchmarks={"win_rate": {"low": 0.3, "high": 0.4}})
    ws2 = journeys(tmp_path / "b", opportunities=deals, config=config)
    win = next(r for r in benchmark_status(ws2, "2026-04-01", "2026-04-30")
               if r["metric"] == "win_rate")
    assert (win["status"], win["good"], win["low"]) == ("below", False, 0.3)
