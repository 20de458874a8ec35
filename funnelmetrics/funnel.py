"""The funnel view: for one period, each stage's leads reached, conversion to the next stage,
drop-off and median time in stage.

Every figure is a catalogue metric (issue "One semantic model", item 4), asked in one batch with
grain `all`: per stage `stage_reached`; per stage but the last, to the next stage,
`stage_conversion_rate` (`converted_to_next` is its numerator), `stage_drop_off` and
`time_in_stage` with stat=median. The batch fuses the aggregates that read the same rows, so a
stage's four figures come from one scan of the shared reach times. Pandas only lays them out.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pandas as pd

from funnelmetrics.compile.time import Grain, floor, parse_instant, shift
from funnelmetrics.query import query_range

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

COLUMNS = ["stage", "reached", "converted_to_next", "conversion_to_next", "drop_off",
           "median_days_in_stage"]


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last full quarter before `today`."""
    this_quarter = floor(today, Grain.QUARTER)
    start = shift(this_quarter, Grain.QUARTER, -1)
    return start, this_quarter - dt.timedelta(days=1)


def _today(ws: Workspace, as_of: Any) -> dt.date:
    """The workspace's local date at the as-of instant (or now)."""
    instant = parse_instant(as_of, ws.config.timezone) or dt.datetime.now(dt.UTC).replace(
        tzinfo=None)
    zone = ZoneInfo(ws.config.timezone)
    return instant.replace(tzinfo=dt.UTC).astimezone(zone).date()


def _queries(stages: tuple[str, ...], mode: str | None,
             window_days: float | None) -> list[tuple[str, dict[str, Any]]]:
    """The catalogue queries of the view, in the order `_shape` reads them."""
    out: list[tuple[str, dict[str, Any]]] = []
    for stage, nxt in zip(stages, [*stages[1:], None], strict=True):
        out.append(("stage_reached", {"stage": stage, "mode": mode}))
        if nxt is not None:
            pair = {"from_stage": stage, "to_stage": nxt, "mode": mode,
                    "window_days": window_days}
            out += [("stage_conversion_rate", pair), ("stage_drop_off", pair),
                    ("time_in_stage", {"stage": stage, "stat": "median", "mode": mode})]
    return out


def funnel_table(ws: Workspace, *, start: Any = None, end: Any = None, funnel: str | None = None,
                 by: str | None = None, where: dict[str, Any] | None = None, as_of: Any = None,
                 mode: str | None = None, window_days: float | None = None) -> pd.DataFrame:
    """One row per stage (and dimension value): reached, conversion to next, drop-off, days.

    No start and no end: the last full quarter before the as-of date (or today). One of them:
    the other bound is the default of `stage_reached` for the funnel's second stage (the first
    or last day a lead was created or reached a stage), one range for every figure.
    """
    stages = ws.config.funnel(funnel).stages
    if start is None and end is None:
        start, end = default_period(_today(ws, as_of))
    elif start is None or end is None:
        start, end = query_range(ws, "stage_reached", grain="all", by=by, start=start, end=end,
                                 where=where, as_of=as_of, stage=stages[1], mode=mode)
    frames = ws.metrics(_queries(stages, mode, window_days), grain="all", by=by, start=start,
                        end=end, where=where, as_of=as_of)
    dims = [c for c in frames[0].columns if c not in _NOT_DIMS]
    return _shape(frames, stages, dims)


_NOT_DIMS = {"period_start", "value", "numerator", "denominator", "immature", "partial"}


def _key(row: dict[str, Any], dims: list[str]) -> tuple[Any, ...]:
    return tuple(None if pd.isna(row[d]) else row[d] for d in dims)


def _by_key(df: pd.DataFrame, dims: list[str]) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {_key(r, dims): r for r in df.to_dict("records")}


def _shape(frames: list[pd.DataFrame], stages: tuple[str, ...], dims: list[str]) -> pd.DataFrame:
    """The batch's answers laid out one row per dimension value and stage."""
    answers = iter(frames)
    per_stage = []
    for i, _ in enumerate(stages):
        reached = _by_key(next(answers), dims)
        if i + 1 < len(stages):
            conv, drop, days = (_by_key(next(answers), dims) for _ in range(3))
        else:
            conv = drop = days = {}
        per_stage.append((reached, conv, drop, days))
    keys = sorted({k for parts in per_stage for part in parts for k in part},
                  key=lambda k: tuple((v is None, str(v)) for v in k))
    rows = []
    for key in keys:
        for stage, (reached, conv, drop, days) in zip(stages, per_stage, strict=True):
            last = stage == stages[-1]
            rows.append({**dict(zip(dims, key, strict=True)), "stage": stage,
                         "reached": int(_figure(reached, key, "value") or 0),
                         "converted_to_next": None if last else
                         int(_figure(conv, key, "numerator") or 0),
                         "conversion_to_next": _figure(conv, key, "value"),
                         "drop_off": _figure(drop, key, "value"),
                         "median_days_in_stage": _figure(days, key, "value")})
    return pd.DataFrame(rows, columns=[*dims, *COLUMNS])


def _figure(answer: dict[tuple[Any, ...], dict[str, Any]], key: tuple[Any, ...],
            column: str) -> float | None:
    """One figure of a metric's answer for a dimension value; None where it has none."""
    value = answer.get(key, {}).get(column)
    return None if value is None or pd.isna(value) else float(value)
