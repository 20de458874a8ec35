"""Industry reference ranges with their public source and year (SPEC §4 "benchmark status for
every metric"), and a metric value's status against them.

The shipped table is `BENCHMARKS`; a workspace overrides or adds entries in `funnelmetrics.toml`:

    [benchmarks.win_rate]
    low = 0.25
    high = 0.35
    source = "Our board's plan"
    year = 2026

(`[benchmarks."stage_conversion_rate:mql:sql"]` for one stage transition). A range is what the
source calls typical: below `low` or above `high` is outside it, and whether that is good
follows the metric's direction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from funnelmetrics.errors import ConfigError

BELOW, WITHIN, ABOVE = "below", "within", "above"


@dataclass(frozen=True)
class Benchmark:
    """A reference range for one metric (and, for stage conversions, one transition)."""

    metric: str
    low: float | None
    high: float | None
    source: str
    year: int
    from_stage: str | None = None
    to_stage: str | None = None
    segment: str | None = None
    note: str = ""

    @property
    def key(self) -> str:
        if self.from_stage or self.to_stage:
            return f"{self.metric}:{self.from_stage}:{self.to_stage}"
        return self.metric if self.segment is None else f"{self.metric}@{self.segment}"

    def status(self, value: float | None) -> str | None:
        """below / within / above the range; None without a value."""
        if value is None:
            return None
        if self.low is not None and value < self.low:
            return BELOW
        if self.high is not None and value > self.high:
            return ABOVE
        return WITHIN


_SKOK = "David Skok, 'SaaS Metrics 2.0 – A Guide to Measuring and Improving What Matters', " \
    "forEntrepreneurs.com"
_FPS = "First Page Sage, 'B2B SaaS Funnel Conversion Benchmarks' (firstpagesage.com)"
_TUNGUZ = "Tomasz Tunguz, 'Churn rates by customer segment' (tomtunguz.com)"
_BVP = "Bessemer Venture Partners, 'Scaling to $100 Million' (bvp.com/atlas)"
_HUBSPOT = "HubSpot, 'Sales Statistics' (hubspot.com/sales-statistics)"
_BAIN = "Fred Reichheld / Bain & Company, Net Promoter System (netpromotersystem.com)"

BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("stage_conversion_rate", 0.25, 0.45, _FPS, 2024, "lead", "mql"),
    Benchmark("stage_conversion_rate", 0.30, 0.45, _FPS, 2024, "mql", "sql"),
    Benchmark("stage_conversion_rate", 0.35, 0.60, _FPS, 2024, "sql", "opportunity"),
    Benchmark("stage_conversion_rate", 0.20, 0.40, _FPS, 2024, "opportunity", "won"),
    Benchmark("win_rate", 0.20, 0.30, _HUBSPOT, 2024),
    Benchmark("customer_churn_rate", 0.03, 0.07, _TUNGUZ, 2014, segment="SMB",
              note="monthly logo churn"),
    Benchmark("customer_churn_rate", 0.01, 0.02, _TUNGUZ, 2014, segment="Mid-Market",
              note="monthly logo churn"),
    Benchmark("customer_churn_rate", 0.005, 0.01, _TUNGUZ, 2014, segment="Enterprise",
              note="monthly logo churn"),
    Benchmark("ltv_to_cac", 3.0, None, _SKOK, 2013, note="LTV ≥ 3 × CAC"),
    Benchmark("cac_payback_months", None, 12.0, _SKOK, 2013, note="CAC recovered in < 12 months"),
    Benchmark("net_revenue_retention", 1.0, 1.2, _BVP, 2021,
              note="100% good, 120%+ best in class"),
    Benchmark("enps", 10.0, 40.0, _BAIN, 2021, note="above 0 is good, above 40 excellent"),
)


def _override(base: Benchmark | None, key: str, entry: Mapping[str, Any]) -> Benchmark:
    allowed = {"low", "high", "source", "year", "note", "segment"}
    unknown = set(entry) - allowed
    if unknown:
        raise ConfigError(f"benchmarks.{key}: unknown key(s) {', '.join(sorted(unknown))} "
                          f"(use {', '.join(sorted(allowed))})")
    metric, _, stages = key.partition(":")
    from_stage, _, to_stage = stages.partition(":")
    if base is None:
        if "source" not in entry:
            raise ConfigError(f"benchmarks.{key}: a new benchmark needs its source")
        base = Benchmark(metric, None, None, "", 0, from_stage or None, to_stage or None)
    try:
        low = float(entry["low"]) if "low" in entry else base.low
        high = float(entry["high"]) if "high" in entry else base.high
        year = int(entry.get("year", base.year))
    except (TypeError, ValueError):
        raise ConfigError(f"benchmarks.{key}: low, high and year must be numbers") from None
    if low is not None and high is not None and low > high:
        raise ConfigError(f"benchmarks.{key}: low {low} is above high {high}")
    return replace(base, low=low, high=high, year=year,
                   source=str(entry.get("source", base.source)),
                   note=str(entry.get("note", base.note)), segment=entry.get("segment",
                                                                             base.segment))


def benchmarks(overrides: Mapping[str, Mapping[str, Any]] | None = None) -> list[Benchmark]:
    """The shipped table with a workspace's `[benchmarks.KEY]` entries applied."""
    table = {b.key: b for b in BENCHMARKS}
    for key, entry in (overrides or {}).items():
        if not isinstance(entry, Mapping):
            raise ConfigError(f"benchmarks.{key}: expected a table (low, high, source, year)")
        table[key] = _override(table.get(key), key, entry)
    return list(table.values())


def benchmark_for(table: list[Benchmark], metric: str, *, from_stage: str | None = None,
                  to_stage: str | None = None, segment: str | None = None) -> Benchmark | None:
    """The entry for a metric: a transition's own for stage conversions, a segment's own
    before the metric's general one (a metric with only per-segment entries has none overall)."""
    found = [b for b in table if b.metric == metric
             and (from_stage, to_stage) == ((b.from_stage, b.to_stage)
                                            if b.from_stage or b.to_stage else (from_stage, to_stage))]
    for wanted in (segment, None):
        for b in found:
            if b.segment == wanted:
                return b
    return None


def _query_of(b: Benchmark, start: Any, end: Any, grain: str, as_of: Any,
              where: dict[str, Any] | None = None) -> dict[str, Any]:
    q: dict[str, Any] = {"grain": grain, "start": start, "end": end, "as_of": as_of,
                         "where": dict(where or {})}
    if b.from_stage or b.to_stage:
        q["params"] = {"from_stage": b.from_stage, "to_stage": b.to_stage}
    if b.segment is not None:
        q["where"]["segment"] = b.segment
    return q


def benchmark_status(ws: Any, start: Any, end: Any, *, grain: str = "month",
                     as_of: Any = None,
                     where: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every benchmarked metric's value for the period (catalogue, one batch) against its range:
    status below / within / above, `good` when that side is the metric's better one (within:
    good), None without a value or when the metric cannot be asked of this workspace."""
    import pandas as pd

    from funnelmetrics import catalog
    from funnelmetrics.errors import FunnelmetricsError

    table = benchmarks(ws.config.benchmarks)
    out = []
    with ws.batch():
        for b in table:
            value, note = None, None
            try:
                metric = catalog.get(b.metric)
                df = ws.metric(b.metric, **_query_of(b, start, end, grain, as_of, where))
                if not df.empty and pd.notna(df["value"].iloc[-1]):
                    value = float(df["value"].iloc[-1])
            except FunnelmetricsError as exc:
                metric, note = None, str(exc).splitlines()[0]
            status = b.status(value)
            good = None if status is None or metric is None else (
                status == WITHIN or (status == ABOVE) == metric.higher_is_better)
            out.append({"metric": b.metric, "from_stage": b.from_stage, "to_stage": b.to_stage,
                        "segment": b.segment, "value": value, "low": b.low, "high": b.high,
                        "status": status, "good": good, "source": b.source, "year": b.year,
                        "note": note or b.note or None})
    return out
