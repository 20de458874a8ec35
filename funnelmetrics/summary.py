"""The KPI summary: headline metrics for the last full month and quarter, with the change
against the period before. Every figure comes from the catalogue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from funnelmetrics import catalog
from funnelmetrics.compile.time import Grain, floor, parse_instant, shift

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

# (metric id, parameters) in the order a sales leader reads them; ids not in the catalogue
# (yet) are skipped.
HEADLINE: list[tuple[str, dict[str, Any]]] = [
    ("leads_created", {}),
    ("stage_conversion_rate", {"from_stage": "mql", "to_stage": "sql"}),
    ("lead_conversion_rate", {}),
    ("win_rate", {}),
    ("average_deal_size", {}),
    ("sales_cycle_days", {}),
    ("pipeline_value", {}),
    ("quota_attainment", {}),
    ("mrr", {}),
    ("customer_churn_rate", {}),
    ("ltv_to_cac", {}),
    ("enps", {}),
]


@dataclass(frozen=True)
class Headline:
    metric: str
    label: str
    unit: str
    period: dt.date
    value: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous in (None, 0):
            return None
        return (self.value - self.previous) / abs(self.previous)


def last_full(grain: Grain, today: dt.date) -> tuple[dt.date, dt.date]:
    """(start of the previous period, start of the one before it)."""
    last = shift(floor(today, grain), grain, -1)
    return last, shift(last, grain, -1)


def kpi_summary(ws: Workspace, grain: Grain, *, as_of: Any = None,
                lang: str = "en") -> list[Headline]:
    """Headline metrics for the last full period of `grain` before the as-of date (or today)."""
    moment = parse_instant(as_of, ws.config.timezone) if as_of else None
    today = (moment or dt.datetime.now(dt.UTC).replace(tzinfo=None)).date()
    last, before = last_full(grain, today)
    end = shift(last, grain) - dt.timedelta(days=1)
    known = {m.id for m in catalog.all_metrics()}
    out = []
    wanted = [(metric_id, params) for metric_id, params in HEADLINE if metric_id in known]
    # one batch: the headlines share their reach table, currency probes and aggregates
    results = ws.metrics([(metric_id, {"params": params}) for metric_id, params in wanted],
                         grain=grain.value, start=before, end=end, as_of=as_of)
    frames = {(metric_id, str(params)): df
              for (metric_id, params), df in zip(wanted, results, strict=True)}
    for metric_id, params in HEADLINE:
        if metric_id not in known:
            continue
        metric = catalog.get(metric_id)
        df = frames[(metric_id, str(params))]
        values = {row.period_start: _num(row.value) for row in df.itertuples()}
        stages = " → ".join(str(params[k]) for k in ("from_stage", "to_stage") if k in params)
        label = f"{metric.name(lang)} ({stages})" if stages else metric.name(lang)
        out.append(Headline(metric_id, label, metric.display_unit, last,
                            values.get(last), values.get(before)))
    return out


def _num(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if f != f else f
