"""KPI targets and their status (SPEC §2 kpi_targets, §4 "KPI targets and their status").

For every target whose period contains the instant (the as-of instant, or now): the metric's actual
value for that period from the catalogue (filtered by `dimension = value` when the target has
one), the target pro-rated to the elapsed share of the period for metrics that accumulate over it
(counts and amounts of period events, e.g. leads_created, won_revenue), and a status:

- on track: at or better than the (pro-rated) target;
- at risk: worse, by at most 10% of the target (≥ 90% of it for higher-is-better metrics);
- behind: worse by more; "no data" when the metric has no value for the period.

"Better" follows the metric's direction: for lower-is-better metrics (cac, churn) the comparison
is inverted. A target period that is one calendar period (week, month, quarter, year) is computed
at that grain; any other range as one period (grain `all`).

The actual values are catalogue metrics, asked in one batch (a target whose query fails is "no
data" with the reason, the others still answer). The expected value (target × elapsed share)
and `pct_of_target` (actual / expected) are computed here: the catalogue has no metric over
`kpi_targets` yet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pandas as pd

from funnelmetrics import catalog
from funnelmetrics.catalog.model import Metric, Time, Unit
from funnelmetrics.compile.time import Grain, floor, parse_instant, shift
from funnelmetrics.errors import FunnelmetricsError

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

AT_RISK_MARGIN = 0.10  # worse than the target by at most this share of it: at risk
CALENDAR = (Grain.MONTH, Grain.QUARTER, Grain.YEAR, Grain.WEEK, Grain.DAY)
ON_TRACK, AT_RISK, BEHIND, NO_DATA = "on track", "at risk", "behind", "no data"
COLUMNS = ["metric", "dimension", "dimension_value", "period_start", "period_end", "unit",
           "target", "expected", "actual", "pct_of_target", "status", "note"]


@dataclass(frozen=True)
class Target:
    """One kpi_targets row; `period_end` is the last day of the period (inclusive)."""

    metric: str
    period_start: dt.date
    period_end: dt.date
    target: float
    dimension: str | None = None
    value: str | None = None

    @property
    def grain(self) -> Grain:
        """The calendar grain the period is exactly one of, else `all` (one custom period)."""
        for grain in CALENDAR:
            if floor(self.period_start, grain) == self.period_start and \
                    shift(self.period_start, grain) - dt.timedelta(days=1) == self.period_end:
                return grain
        return Grain.ALL

    def elapsed(self, today: dt.datetime) -> float:
        """Share of the period gone by at the local instant `today` (0 to 1)."""
        start = dt.datetime.combine(self.period_start, dt.time())
        end = dt.datetime.combine(self.period_end + dt.timedelta(days=1), dt.time())
        return min(max((today - start) / (end - start), 0.0), 1.0)


def inclusive_end(start: dt.datetime, end: dt.datetime) -> dt.date:
    """A period_end at midnight on the first day of the next calendar period is exclusive;
    any other is the period's last day."""
    if end.time() == dt.time() and end.date() > start.date():
        for grain in CALENDAR:
            if floor(start.date(), grain) == start.date() and shift(start.date(), grain) == \
                    end.date():
                return end.date() - dt.timedelta(days=1)
    return end.date()


def read_targets(ws: Workspace, day: dt.date | None = None) -> list[Target]:
    """The `kpi_targets` rows; with `day`, only those whose period contains it (filtered in the
    database: the table is not read whole)."""
    t = ws.table("kpi_targets")
    if day is not None:
        t = t.filter(t.period_start < dt.datetime.combine(day + dt.timedelta(days=1), dt.time()),
                     t.period_end >= dt.datetime.combine(day, dt.time()))
    out = []
    for row in t.execute().itertuples(index=False):
        start, end = pd.Timestamp(row.period_start).to_pydatetime(), \
            pd.Timestamp(row.period_end).to_pydatetime()
        target = Target(str(row.metric), start.date(), inclusive_end(start, end),
                        float(row.target), _text(row.dimension), _text(row.value))
        if day is None or target.period_start <= day <= target.period_end:
            out.append(target)
    return out


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) or \
        str(value).strip() == "" else str(value)


def accumulates(metric: Metric) -> bool:
    """Counts and amounts of the period's events grow through the period: pro-rate them."""
    return metric.time is Time.PERIOD and not metric.is_ratio and \
        metric.unit in (Unit.COUNT, Unit.CURRENCY)


def status_of(actual: float | None, expected: float, higher_is_better: bool) -> str:
    if actual is None:
        return NO_DATA
    shortfall = (expected - actual) if higher_is_better else (actual - expected)
    if shortfall <= 0:
        return ON_TRACK
    return AT_RISK if shortfall <= AT_RISK_MARGIN * abs(expected) else BEHIND


def query_of(target: Target, as_of: Any) -> dict[str, Any]:
    """The catalogue query of a target's actual value: its period (and dimension value)."""
    where = {target.dimension: target.value} if target.dimension else {}
    return {"grain": target.grain.value, "start": target.period_start, "end": target.period_end,
            "where": where, "as_of": as_of}


def actual_of(ws: Workspace, target: Target, as_of: Any) -> float | None:
    """The metric's value for the target's period (and dimension value), from the catalogue."""
    df = ws.metric(target.metric, **query_of(target, as_of))
    rows = df[df["period_start"] == target.period_start]
    if rows.empty:
        return None
    value = rows["value"].iloc[0]
    return None if pd.isna(value) else float(value)


def evaluate(ws: Workspace, target: Target, now_local: dt.datetime, as_of: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"metric": target.metric, "dimension": target.dimension,
                           "dimension_value": target.value, "period_start": target.period_start,
                           "period_end": target.period_end, "target": target.target,
                           "unit": None, "expected": None, "actual": None,
                           "pct_of_target": None, "note": None}
    try:
        metric = catalog.get(target.metric)
        actual = actual_of(ws, target, as_of)
    except FunnelmetricsError as exc:
        return {**row, "status": NO_DATA, "note": str(exc).splitlines()[0]}
    share = target.elapsed(now_local) if accumulates(metric) else 1.0
    expected = target.target * share
    return {**row, "unit": metric.unit.value, "expected": expected, "actual": actual,
            "pct_of_target": None if actual is None or expected == 0 else actual / expected,
            "status": status_of(actual, expected, metric.higher_is_better),
            "note": f"pro-rated to {share:.0%} of the period" if share < 1 else None}


def kpi_status(ws: Workspace, *, as_of: Any = None) -> pd.DataFrame:
    """Every target of the current period (the one containing the as-of instant, or now)."""
    instant = parse_instant(as_of, ws.config.timezone) if as_of is not None else \
        dt.datetime.now(dt.UTC).replace(tzinfo=None)
    local = instant.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(ws.config.timezone)) \
        .replace(tzinfo=None)
    current = read_targets(ws, local.date())
    with ws.batch():  # the targets' metrics share their work; each still fails on its own
        ws.prepare([(t.metric, query_of(t, as_of)) for t in current])
        rows = [evaluate(ws, t, local, as_of) for t in current]
    df = pd.DataFrame(rows, columns=COLUMNS)
    return df.sort_values(["metric", "dimension", "dimension_value"], na_position="first",
                          ignore_index=True)
