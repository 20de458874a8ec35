"""The funnel view: for one period, each stage's leads reached, conversion to the next stage,
drop-off and median time in stage.

The view asks the catalogue's own building blocks (`stage_reached`, `stage_conversion_rate`,
`time_in_stage` measures) for every stage at once, so one expression scans the data once and the
figures equal what `metric` gives for each stage.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd

from funnelmetrics.catalog import common as c
from funnelmetrics.catalog.model import Agg, Measure, Metric, Text, Time, Unit
from funnelmetrics.compile.compiler import measure_frame
from funnelmetrics.compile.reach import reach_column
from funnelmetrics.compile.time import Grain, Window, floor, shift
from funnelmetrics.query import MetricQuery, _context, _default_range, parse_query

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

COLUMNS = ["stage", "reached", "converted_to_next", "conversion_to_next", "drop_off",
           "median_days_in_stage"]


def _funnel_metric(stages: tuple[str, ...]) -> Metric:
    measures: dict[str, Measure] = {}
    for i, stage in enumerate(stages):
        col = reach_column(stage)
        measures[f"reached:{stage}"] = Measure("reach", Agg.COUNT, time=col)
        if i + 1 < len(stages):
            nxt = stages[i + 1]
            measures[f"entered:{stage}"] = Measure("reach", Agg.COUNT, time=col,
                                                   time_kind=Time.COHORT)
            measures[f"converted:{stage}"] = Measure(
                "reach", Agg.COUNT, time=col, time_kind=Time.COHORT,
                where=c.converted_between(stage, nxt))
            measures[f"days:{stage}"] = Measure("reach", Agg.MEDIAN, time=col,
                                                expr=c.duration_in(stage),
                                                where=c.moved_on_from(stage))

    return Metric(id="funnel", name=Text("Funnel", "Corong", "Corong"),
                  description=Text("Leads through every stage of a funnel.",
                                   "Prospek di setiap tahap corong.",
                                   "Prospek di setiap peringkat corong."),
                  unit=Unit.COUNT, higher_is_better=True, measures=measures,
                  combine=lambda ctx, m: {"value": m[f"reached:{stages[0]}"]}, entity="leads")


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last full quarter before `today`."""
    this_quarter = floor(today, Grain.QUARTER)
    start = shift(this_quarter, Grain.QUARTER, -1)
    return start, this_quarter - dt.timedelta(days=1)


def funnel_table(ws: Workspace, *, start: Any = None, end: Any = None, funnel: str | None = None,
                 by: str | None = None, where: dict[str, Any] | None = None, as_of: Any = None,
                 mode: str | None = None, window_days: float | None = None) -> pd.DataFrame:
    """One row per stage (and dimension value): reached, conversion to next, drop-off, days."""
    chosen = ws.config.funnel(funnel)
    q = parse_query(ws, "stage_reached", grain="all", by=by, start=start, end=end, where=where,
                    as_of=as_of, stage=chosen.stages[1], mode=mode)
    if window_days is not None:
        q.params["window_days"] = float(window_days)
    if q.start is None and q.end is None:
        today = (q.as_of or dt.datetime.now(dt.UTC).replace(tzinfo=None)).date()
        q.start, q.end = default_period(today)
    elif q.start is None or q.end is None:
        q.start, q.end = _default_range(ws, MetricQuery(**{**q.__dict__}))
    metric = _funnel_metric(chosen.stages)
    ctx = _context(ws, q, Window(Grain.ALL, q.start, q.end, ws.config.timezone))
    ctx.funnel, ctx.reach_stages = chosen, None
    frame = measure_frame(ctx, metric)
    raw = frame.select(*ctx.dims, *metric.measures).execute()
    return _shape(raw, chosen.stages, q.by)


def _shape(raw: pd.DataFrame, stages: tuple[str, ...], by: list[str]) -> pd.DataFrame:
    rows = []
    dims = [f"dim:{d}" for d in by]
    for _, rec in raw.iterrows():
        for i, stage in enumerate(stages):
            row: dict[str, Any] = {d[4:]: rec[d] for d in dims}
            row["stage"] = stage
            row["reached"] = int(_num(rec[f"reached:{stage}"]) or 0)
            if i + 1 < len(stages):
                entered = _num(rec[f"entered:{stage}"]) or 0
                conv = _num(rec[f"converted:{stage}"]) or 0
                row["converted_to_next"] = int(conv)
                row["conversion_to_next"] = conv / entered if entered else None
                row["drop_off"] = 1 - conv / entered if entered else None
                row["median_days_in_stage"] = _num(rec[f"days:{stage}"])
            else:
                row.update(converted_to_next=None, conversion_to_next=None, drop_off=None,
                           median_days_in_stage=None)
            rows.append(row)
    return pd.DataFrame(rows, columns=[*(d[4:] for d in dims), *COLUMNS])


def _num(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return float(value)
