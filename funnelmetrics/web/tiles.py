"""KPI tiles of the overview: the headline metrics (`funnelmetrics.summary.HEADLINE`) for the
last period of a range, the change against the period before, a sparkline, benchmark and target
status. Figures come from `ws.metric`; the change from `summary.Headline`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import HTTPException

from funnelmetrics import catalog
from funnelmetrics.catalog.model import Metric
from funnelmetrics.compile.time import floor, parse_grain, shift
from funnelmetrics.errors import QueryError
from funnelmetrics.insights import kpis
from funnelmetrics.serialize import flagged, records
from funnelmetrics.summary import HEADLINE, Headline, shown_period
from funnelmetrics.web import service
from funnelmetrics.web.auth import Principal
from funnelmetrics.web.source import Session

SPARK_PERIODS = 12


@dataclass
class Tile:
    metric: str
    label: str
    unit: str
    period_start: dt.date | None = None
    value: float | None = None
    previous: float | None = None
    change: float | None = None
    change_unit: str = "relative"  # "pp": percentage points (rates); else relative
    benchmark_status: str | None = None  # great | good | below
    target: float | None = None
    target_status: str | None = None  # on_track | at_risk | behind | no_data
    available: bool = True
    immature: bool = False  # a cohort still inside its conversion window (value will grow)
    partial: bool = False  # the period is not over at the as-of instant (figures may move)
    note: str | None = None  # why a tile has no figure (ui text key)
    params: dict[str, Any] = field(default_factory=dict)
    sparkline: list[dict[str, Any]] = field(default_factory=list)


def default_range(grain: str, as_of: Any = None, start: Any = None,
                  end: Any = None, include_partial: bool = False, *,
                  data_end: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last `SPARK_PERIODS` full periods before today (or as-of) unless given. With
    `include_partial` the range runs to the end of the current period: by default, or when the
    given end is the last full period's end (the form sends back the range it showed).
    `data_end`: the workspace's last data day; when it is before the current period began (an
    old export) and nothing else is given, the periods are the data's own last full ones."""
    g = parse_grain(grain if grain != "all" else "month")
    ref = service.today()
    if data_ended(grain, data_end) and not (as_of or start or end):
        assert data_end is not None
        ref = data_end + dt.timedelta(days=1)
    if as_of:
        ref = dt.date.fromisoformat(str(as_of)[:10])
    full_end = floor(ref, g) - dt.timedelta(days=1)
    end_d = dt.date.fromisoformat(str(end)) if end else full_end
    if include_partial and end_d == full_end:
        end_d = shift(floor(ref, g), g) - dt.timedelta(days=1)
    start_d = (dt.date.fromisoformat(str(start)) if start
               else shift(floor(end_d, g), g, -(SPARK_PERIODS - 1)))
    return start_d, max(end_d, start_d)


def data_ended(grain: str, data_end: dt.date | None) -> bool:
    """Whether the data ends before the current `grain` period began (today, UTC)."""
    g = parse_grain(grain if grain != "all" else "month")
    return data_end is not None and data_end < floor(service.today(), g)


def benchmark_status(metric: Metric, value: float | None) -> str | None:
    """great / good / below against the metric's (good, great) benchmark marks."""
    if value is None or metric.benchmark is None:
        return None
    good, great = metric.benchmark
    if metric.higher_is_better:
        return "great" if value >= great else "good" if value >= good else "below"
    return "great" if value <= great else "good" if value <= good else "below"


def tiles(session: Session, who: Principal, *, grain: str, start: dt.date, end: dt.date,
          where: Mapping[str, Any], lang: str, as_of: Any = None,
          include_partial: bool = False) -> list[Tile]:
    """One tile per headline metric the catalogue has (remembered per workspace version): the
    last full period of the range, or its last period with `include_partial`."""
    key = ("tiles", who.rep_ids, grain, start, end, service.frozen(dict(where)), lang, as_of,
           include_partial)

    def compute() -> list[Tile]:
        with session.batch():  # the headline metrics share one library batch
            return _tiles(session, who, grain=grain, start=start, end=end, where=where,
                          lang=lang, as_of=as_of, include_partial=include_partial)

    return session.remember(key, compute)


def _tiles(session: Session, who: Principal, *, grain: str, start: dt.date, end: dt.date,
           where: Mapping[str, Any], lang: str, as_of: Any = None,
           include_partial: bool = False) -> list[Tile]:
    out = []
    for metric_id, params in HEADLINE:
        if not service.has_metric(metric_id):
            continue
        metric = catalog.get(metric_id)
        tile = Tile(metric_id, metric.name(lang), metric.unit.value, params=dict(params))
        try:
            df = service.metric(session, who, metric_id, grain=grain, start=start, end=end,
                                where=where, params=params, as_of=as_of)
        except HTTPException as exc:
            if exc.status_code != 403:
                raise
            tile.available, tile.note = False, "not_for_role"
            out.append(tile)
            continue
        except QueryError as exc:  # e.g. a filter on a dimension this metric does not have
            message = str(exc).split(";")[0]
            tile.available = False  # not the library's message: the filter does not apply
            tile.note = "filter_not_applicable" if "dimension" in message else message
            out.append(tile)
            continue
        _fill(tile, metric, df, include_partial)
        out.append(tile)
    if who.rep_ids is None and not where:
        _targets(session, out, grain, as_of)
    return out


def _fill(tile: Tile, metric: Metric, df: Any, include_partial: bool = False) -> None:
    rows = records(df)
    tile.sparkline = [{"period_start": r["period_start"], "value": r["value"],
                       "partial": flagged(r, "partial")} for r in rows]
    if not rows:
        tile.note = "no_data"
        return
    i = shown_period([flagged(r, "partial") for r in rows], include_partial)
    shown = rows[i]
    tile.period_start = dt.date.fromisoformat(str(shown["period_start"])[:10])
    tile.value = shown["value"]
    tile.previous = rows[i - 1]["value"] if i > 0 else None
    tile.immature, tile.partial = flagged(shown, "immature"), flagged(shown, "partial")
    head = Headline(metric.id, tile.label, metric.display_unit, tile.period_start, tile.value,
                    tile.previous, partial=tile.partial, immature=tile.immature)
    tile.change, tile.change_unit = head.change, head.change_unit
    tile.benchmark_status = benchmark_status(metric, tile.value)
    if tile.value is None:
        tile.note = "no_data"


def _targets(session: Session, out: list[Tile], grain: str, as_of: Any) -> None:
    """Each tile's KPI target for its period and its status (`insights.kpis`): on track, at
    risk, behind. Targets are company-wide, so only unscoped, unfiltered tiles get one."""
    targets = session.cached(("kpi_targets",), kpis.read_targets)
    tz = ZoneInfo(session.source.config().timezone)
    now = dt.datetime.now(dt.UTC).astimezone(tz).replace(tzinfo=None)
    for tile in out:
        found = [x for x in targets if x.metric == tile.metric and x.dimension is None
                 and x.period_start == tile.period_start and x.grain.value == grain]
        if not found or tile.value is None:
            continue
        row = session.cached(("kpi_status", found[0], as_of),
                             lambda ws, target=found[0]: kpis.evaluate(ws, target, now, as_of))
        tile.target = row.get("expected") or row.get("target")
        tile.target_status = str(row.get("status") or "").replace(" ", "_") or None
