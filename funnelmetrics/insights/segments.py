"""Segment comparison (SPEC §4, issue 15 §2): which value of a dimension converts significantly
worse (or better) than the rest of the leads at a stage transition in a period.

For each value v with at least `min_leads` leads entering: v's converted/entered (the
catalogue's stage_conversion_rate ratio parts, split by the dimension) against the rest's
(the period's total minus v's). Effect size: the difference of the rates and Cohen's h
(2·asin √p₁ − 2·asin √p₂; Cohen 1988, §6.2: 0.2 small, 0.5 medium, 0.8 large). `p_value`: the
two-sided pooled two-proportion z-test; `p_adjusted`: Holm's adjustment over the values of the
dimension compared. `impact`: the value of the conversions v missed (or gained) against the
rest's rate — (rest rate − v's rate) × v's leads × value per conversion (the won amount a lead
reaching `to_stage` brought over the previous `baseline_periods` periods, as in bottlenecks).
A value that converted nobody in the period nor in the baseline periods before it does not go
through this transition (product-led leads at lead → mql): it is not compared. Leads without a
value are the segment "(unknown)".
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from funnelmetrics.insights.bottlenecks import (
    RATE,
    comparable_window,
    segment_dimensions,
)
from funnelmetrics.insights.findings import Finding, Period, ask, by_impact
from funnelmetrics.insights.stats import holm, two_proportion_ztest

UNKNOWN = "(unknown)"

if TYPE_CHECKING:
    import pandas as pd

    from funnelmetrics.workspace import Workspace


def cohens_h(p1: float, p2: float) -> float:
    """Cohen's h, the effect size of two proportions (Cohen 1988, §6.2)."""
    return 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2))


def value_per_conversion(ws: Workspace, to_stage: str, period: Period, *, baseline_periods: int,
                         funnel: str | None = None, as_of: Any = None,
                         where: dict[str, Any] | None = None,
                         memo: dict[str, Any] | None = None) -> float | None:
    """Won amount per lead reaching `to_stage` over the `baseline_periods` periods before
    `period`: stage_conversion_rate(to_stage → won) × average_deal_size (catalogue, grain all)."""
    import pandas as pd

    last = ws.config.funnel(funnel).last
    rng = {"grain": "all", "start": period.back(baseline_periods).start,
           "end": period.back(1).end, "as_of": as_of, "where": dict(where or {})}
    queries: list[tuple[str, dict[str, Any]]] = [("average_deal_size", rng)]
    if to_stage != last:
        queries.append((RATE, {**rng, "params": {"from_stage": to_stage, "to_stage": last}}))
    frames = ask(ws, queries, memo)
    values = [None if f.empty or pd.isna(f["value"].iloc[0]) else float(f["value"].iloc[0])
              for f in frames]
    if any(v is None for v in values):
        return None
    return math.prod(v for v in values if v is not None)


def segments(ws: Workspace, period: Period, *, from_stage: str, to_stage: str,
             dimensions: list[str] | None = None, min_leads: int = 30, baseline_periods: int = 3,
             funnel: str | None = None, as_of: Any = None,
             where: dict[str, Any] | None = None,
             memo: dict[str, Any] | None = None) -> list[Finding]:
    """Every value of each dimension with enough leads, against the rest of the leads; the
    findings are ordered by impact (the worst converting first). The query spans the
    baseline too (the same question bottlenecks ask, answered once with a shared `memo`)."""
    if min_leads < 1:
        from funnelmetrics.errors import QueryError

        raise QueryError("min_leads must be at least 1")
    dims = segment_dimensions(ws) if dimensions is None else dimensions
    params = {"from_stage": from_stage, "to_stage": to_stage,
              "window_days": comparable_window(ws, period, as_of)}
    query = {"start": period.back(baseline_periods).start, "end": period.end, "as_of": as_of,
             "where": dict(where or {}), "grain": period.grain.value, "params": params}
    frames = ask(ws, [(RATE, {**query, "by": d}) for d in dims], memo)
    per_conversion = value_per_conversion(ws, to_stage, period, funnel=funnel, as_of=as_of,
                                          where=where,
                                          baseline_periods=baseline_periods, memo=memo)
    out: list[Finding] = []
    for dim, df in zip(dims, frames, strict=True):
        out += _compare(dim, df, period, from_stage, to_stage, min_leads, per_conversion)
    return by_impact(out)


def _compare(dim: str, df: pd.DataFrame, period: Period, from_stage: str, to_stage: str,
             min_leads: int, per_conversion: float | None) -> list[Finding]:
    import pandas as pd

    rows = df[df["period_start"] == period.start]
    earlier = df[df["period_start"] != period.start]
    total_x = float(rows["numerator"].fillna(0).sum())
    total_n = float(rows["denominator"].fillna(0).sum())
    cases = []
    for _, row in rows.iterrows():
        x, n = float(row["numerator"] or 0), float(row["denominator"] or 0)
        if n < min_leads or n == total_n:
            continue
        same = earlier[earlier[dim] == row[dim]] if pd.notna(row[dim]) else \
            earlier[earlier[dim].isna()]
        if x == 0 and float(same["numerator"].fillna(0).sum()) == 0:
            continue  # never converts at this transition: not in this funnel, not a finding
        value = UNKNOWN if pd.isna(row[dim]) else str(row[dim])
        cases.append((value, x, n, total_x - x, total_n - n))
    tests = [two_proportion_ztest(x, n, rx, rn) for _, x, n, rx, rn in cases]
    adjusted = holm([t.p_value for t in tests])
    out = []
    for (value, x, n, rx, rn), test, q in zip(cases, tests, adjusted, strict=True):
        rate, rest = x / n, (rx / rn if rn else None)
        impact = None if rest is None or per_conversion is None else \
            (rest - rate) * n * per_conversion
        out.append(Finding(
            kind="segment", metric=RATE, from_stage=from_stage, to_stage=to_stage,
            dimension=dim, dimension_value=value, current=rate, baseline=rest, impact=impact,
            p_value=test.p_value, p_adjusted=q,
            details={"period": period.label, "converted": x, "entered": n,
                     "rest_converted": rx, "rest_entered": rn, "z": test.z,
                     "difference": None if rest is None else rate - rest,
                     "cohens_h": None if rest is None else cohens_h(rate, rest),
                     "worse": rest is not None and rate < rest,
                     "value_per_conversion": per_conversion, "compared": len(cases)},
            rows={"table": "leads", "where": {dim: None if value == UNKNOWN else value},
                  "stage": from_stage,
                  "start": period.start.isoformat(), "end": period.end.isoformat()}))
    return out
