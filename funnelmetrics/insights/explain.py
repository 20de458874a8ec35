"""Root cause of a change (issue 15 §3): a change in bookings, won deals or conversions between
two periods, decomposed per segment into volume × mix × rate (`stats.shift_share`).

An outcome is the numerator of a catalogue ratio and its volume the denominator:

- bookings: revenue_per_lead — won amount = leads created × (won amount per lead);
- won_deals: win_rate — deals won = deals closed × win rate;
- conversions: stage_conversion_rate (from_stage/to_stage) — converted = entered × rate;

and any other ratio metric of the catalogue likewise. Split by a dimension, the outcome is
Σ_s V · m_s · r_s (V the total volume, m_s a segment's share of it, r_s its rate); the volume,
mix and rate effects of every segment sum exactly to the change of the outcome, which is the
difference of the catalogue's numerators of the two periods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from funnelmetrics.errors import QueryError
from funnelmetrics.insights.findings import Finding, Period
from funnelmetrics.insights.stats import ShiftShare, shift_share

if TYPE_CHECKING:
    import pandas as pd

    from funnelmetrics.workspace import Workspace

OUTCOMES = {"bookings": "revenue_per_lead", "won_deals": "win_rate",
            "conversions": "stage_conversion_rate"}
UNKNOWN = "(unknown)"


@dataclass
class Explanation:
    metric: str
    ratio_metric: str
    dimension: str
    period: Period
    against: Period
    before: float
    after: float
    parts: list[ShiftShare] = field(default_factory=list)

    @property
    def change(self) -> float:
        return self.after - self.before

    def effect(self, name: str) -> float:
        """The sum of one effect (volume, mix or rate) over the segments."""
        return sum(getattr(p, name) for p in self.parts)

    def contributors(self, n: int = 3) -> list[ShiftShare]:
        """The segments whose change moved the total most (either way)."""
        return sorted(self.parts, key=lambda p: -abs(p.change))[:n]

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "ratio_metric": self.ratio_metric,
                "dimension": self.dimension, "period": self.period.label,
                "against": self.against.label, "before": self.before, "after": self.after,
                "change": self.change, "volume": self.effect("volume"),
                "mix": self.effect("mix"), "rate": self.effect("rate"),
                "segments": [{"segment": p.segment, "before": p.y0, "after": p.y1,
                              "change": p.change, "volume": p.volume, "mix": p.mix,
                              "rate": p.rate} for p in self.parts]}

    def findings(self, n: int = 3) -> list[Finding]:
        """The biggest contributors as `change` findings (impact: the segment's change)."""
        return [Finding(kind="change", metric=self.metric, dimension=self.dimension,
                        dimension_value=p.segment, current=p.y1, baseline=p.y0,
                        impact=abs(p.change),
                        details={"period": self.period.label, "against": self.against.label,
                                 "change": p.change, "volume": p.volume, "mix": p.mix,
                                 "rate": p.rate, "total_change": self.change},
                        rows=self.rows_of(p.segment))
                for p in self.contributors(n) if p.change != 0]

    def rows_of(self, segment: str) -> dict[str, Any] | None:
        """The rows behind a segment's outcome in the period: the deals closed in it (bookings,
        won deals), else the leads created in it."""
        if segment == UNKNOWN:
            return None
        deals = self.ratio_metric in ("revenue_per_lead", "win_rate")
        return {"table": "opportunities" if deals else "leads",
                "where": {self.dimension: segment}, "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
                **({"date_column": "closed_at"} if deals else {})}


def ratio_metric_of(metric: str) -> str:
    from funnelmetrics import catalog

    metric_id = OUTCOMES.get(metric, metric)
    if not catalog.get(metric_id).is_ratio:
        raise QueryError(f"explain-change needs bookings, won_deals, conversions or a ratio "
                         f"metric (its numerator is the outcome); {metric!r} is not a ratio")
    return metric_id


def _by_segment(df: pd.DataFrame, dim: str, start: Any) -> dict[str, tuple[float, float]]:
    import pandas as pd

    rows = df[df["period_start"] == start]
    out: dict[str, tuple[float, float]] = {}
    for _, row in rows.iterrows():
        seg = UNKNOWN if pd.isna(row[dim]) else str(row[dim])
        y = 0.0 if pd.isna(row["numerator"]) else float(row["numerator"])
        v = 0.0 if pd.isna(row["denominator"]) else float(row["denominator"])
        y0, v0 = out.get(seg, (0.0, 0.0))
        out[seg] = (y0 + y, v0 + v)
    return out


def explain_change(ws: Workspace, metric: str, period: Period, *, by: str,
                   against: Period | None = None, params: dict[str, Any] | None = None,
                   where: dict[str, Any] | None = None, as_of: Any = None) -> Explanation:
    """The change of `metric`'s outcome from `against` (default: the period before) to
    `period`, per value of `by`, as volume, mix and rate effects."""
    ratio = ratio_metric_of(metric)
    if not by or not by.strip() or "," in by:
        raise QueryError(f"explain-change splits by one dimension, not {by!r}")
    against = against or period.back(1)
    if against.grain is not period.grain:
        raise QueryError("the two periods must have the same grain")
    common = {"grain": period.grain.value, "by": by, "params": params or {},
              "where": where or {}, "as_of": as_of}
    before_df, after_df = ws.metrics([
        (ratio, {**common, "start": against.start, "end": against.end}),
        (ratio, {**common, "start": period.start, "end": period.end})])
    before = _by_segment(before_df, by, against.start)
    after = _by_segment(after_df, by, period.start)
    return Explanation(metric=metric, ratio_metric=ratio, dimension=by, period=period,
                       against=against, before=sum(y for y, _ in before.values()),
                       after=sum(y for y, _ in after.values()),
                       parts=shift_share(before, after))
