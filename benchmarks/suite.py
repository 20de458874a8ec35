"""The metric suites the benchmarks time, shared by the implementations and the result
comparison: the funnel suite (issue #2 item 8: funnelmetrics, hand-written DuckDB SQL, pandas) and
the revenue suite (issue #3: funnelmetrics, hand-written DuckDB SQL in benchmarks/revenue_sql.py).

Every entry is monthly over an explicit [start, end] range. The sales-led funnel of the default
settings is assumed (`lead → mql → sql → opportunity → won`, cumulative mode, a 180-day conversion
window, UTC, reporting currency USD): the benchmark workspaces are made with those defaults.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import pandas as pd

STAGES = ("lead", "mql", "sql", "opportunity", "won")
WINDOW_DAYS = 180
REPORTING = "USD"
COLUMNS = ("value", "numerator", "denominator")


@dataclass(frozen=True)
class Item:
    """One metric query of the suite: the metric id and its parameters."""

    metric: str
    params: tuple[tuple[str, str], ...] = field(default=())

    @property
    def key(self) -> str:
        args = ",".join(f"{k}={v}" for k, v in self.params)
        return f"{self.metric}({args})" if args else self.metric

    @property
    def kwargs(self) -> dict[str, str]:
        return dict(self.params)


def suite() -> list[Item]:
    """leads_created, stage_reached per stage, stage_conversion_rate per adjacent pair,
    lead_conversion_rate, mean time_in_stage per stage that has a next stage (the last stage has
    none: its time in stage is null by definition), win_rate, average_deal_size,
    sales_cycle_days, pipeline_value."""
    items = [Item("leads_created")]
    items += [Item("stage_reached", (("stage", s),)) for s in STAGES]
    items += [Item("stage_conversion_rate", (("from_stage", a), ("to_stage", b)))
              for a, b in zip(STAGES, STAGES[1:], strict=False)]
    items.append(Item("lead_conversion_rate"))
    items += [Item("time_in_stage", (("stage", s), ("stat", "mean"))) for s in STAGES[:-1]]
    items += [Item(m) for m in ("win_rate", "average_deal_size", "sales_cycle_days",
                                "pipeline_value")]
    return items


# SPEC §3 revenue section, then the unit economics and marketing costs they lean on.
REVENUE = ("mrr", "arr", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
           "reactivation_mrr", "net_new_mrr", "customer_churn_rate", "gross_mrr_churn_rate",
           "net_revenue_retention", "net_mrr_churn_rate", "quick_ratio", "arpa", "expansion_rate",
           "ltv", "cac", "cac_payback_months", "ltv_to_cac", "won_revenue", "cost_per_lead")


def revenue_suite() -> list[Item]:
    """The revenue metrics of SPEC §3, monthly with no dimensions (issue #3)."""
    return [Item(m) for m in REVENUE]


def month_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    out, day = [], start.replace(day=1)
    while day <= end:
        out.append(day)
        day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


def normalise(df: pd.DataFrame) -> pd.DataFrame:
    """period_start as ISO text, value/numerator/denominator as float (NaN = null), sorted."""
    out = pd.DataFrame({"period_start": [str(pd.Timestamp(p).date()) for p in df["period_start"]]})
    for col in COLUMNS:
        out[col] = (pd.to_numeric(df[col], errors="coerce").astype("float64").to_numpy()
                    if col in df.columns else float("nan"))
    return out.sort_values("period_start").reset_index(drop=True)


def _same(a: float, b: float, tol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def compare(reference: dict[str, pd.DataFrame], other: dict[str, pd.DataFrame],
            tol: float = 1e-9) -> list[dict]:
    """Every (metric, period, column) where `other` differs from `reference` beyond `tol`
    (relative or absolute), plus missing periods or metrics."""
    problems: list[dict] = []
    for key, ref in reference.items():
        if key not in other:
            problems.append({"metric": key, "period": None, "column": None,
                             "issue": "missing"})
            continue
        a, b = normalise(ref), normalise(other[key])
        if list(a.period_start) != list(b.period_start):
            problems.append({"metric": key, "period": None, "column": "period_start",
                             "issue": f"periods differ: {sorted(set(a.period_start) ^ set(b.period_start))}"})
            b = b.set_index("period_start").reindex(a.period_start).reset_index()
        for col in COLUMNS:
            if ref is not None and col not in ref.columns:
                continue
            for period, x, y in zip(a.period_start, a[col], b[col], strict=True):
                if not _same(float(x), float(y), tol):
                    problems.append({"metric": key, "period": period, "column": col,
                                     "reference": None if math.isnan(x) else float(x),
                                     "other": None if math.isnan(y) else float(y)})
    return problems
