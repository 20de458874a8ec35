"""KPI tiles of the overview: the headline metrics (`funnelmetrics.summary.HEADLINE`) for the
last period of a range, the change against the period before, a sparkline, benchmark and target
status. Figures come from `ws.metric`; the change from `summary.Headline`.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import HTTPException

from funnelmetrics import catalog
from funnelmetrics.catalog.model import Metric
from funnelmetrics.compile.time import floor, parse_grain, shift
from funnelmetrics.errors import QueryError
from funnelmetrics.serialize import jsonable
from funnelmetrics.summary import HEADLINE, Headline
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
    benchmark_status: str | None = None  # great | good | below
    target: float | None = None
    target_status: str | None = None  # on_track | at_risk | behind | no_data
    available: bool = True
    immature: bool = False  # a cohort still inside its conversion window (value will grow)
    note: str | None = None  # why a tile has no figure (ui text key)
    params: dict[str, Any] = field(default_factory=dict)
    sparkline: list[dict[str, Any]] = field(default_factory=list)


def default_range(grain: str, as_of: Any = None, start: Any = None,
                  end: Any = None) -> tuple[dt.date, dt.date]:
    """The last `SPARK_PERIODS` full periods before today (or as-of) unless given."""
    g = parse_grain(grain if grain != "all" else "month")
    ref = service.today()
    if as_of:
        ref = dt.date.fromisoformat(str(as_of)[:10])
    end_d = dt.date.fromisoformat(str(end)) if end else floor(ref, g) - dt.timedelta(days=1)
    start_d = (dt.date.fromisoformat(str(start)) if start
               else shift(floor(end_d, g), g, -(SPARK_PERIODS - 1)))
    return start_d, max(end_d, start_d)


def benchmark_status(metric: Metric, value: float | None) -> str | None:
    """great / good / below against the metric's (good, great) benchmark marks."""
    if value is None or metric.benchmark is None:
        return None
    good, great = metric.benchmark
    if metric.higher_is_better:
        return "great" if value >= great else "good" if value >= good else "below"
    return "great" if value <= great else "good" if value <= good else "below"


def _kpis() -> Any:
    """`funnelmetrics.insights.kpis` (KPI targets and their status), when it exists."""
    if importlib.util.find_spec("funnelmetrics.insights") is None or \
            importlib.util.find_spec("funnelmetrics.insights.kpis") is None:
        return None
    return importlib.import_module("funnelmetrics.insights.kpis")


def tiles(session: Session, who: Principal, *, grain: str, start: dt.date, end: dt.date,
          where: Mapping[str, Any], lang: str, as_of: Any = None) -> list[Tile]:
    """One tile per headline metric the catalogue has (remembered per workspace version)."""
    key = ("tiles", who.rep_ids, grain, start, end, service.frozen(dict(where)), lang, as_of)

    def compute() -> list[Tile]:
        with session.batch():  # the headline metrics share one library batch
            return _tiles(session, who, grain=grain, start=start, end=end, where=where,
                          lang=lang, as_of=as_of)

    return session.remember(key, compute)


def _tiles(session: Session, who: Principal, *, grain: str, start: dt.date, end: dt.date,
           where: Mapping[str, Any], lang: str, as_of: Any = None) -> list[Tile]:
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
            tile.available, tile.note = False, str(exc).split(";")[0]
            out.append(tile)
            continue
        _fill(tile, metric, df)
        out.append(tile)
    if who.rep_ids is None and not where:
        _targets(session, out, grain, as_of)
    return out


def _fill(tile: Tile, metric: Metric, df: Any) -> None:
    series = [(row.period_start, jsonable(row.value)) for row in df.itertuples()]
    tile.sparkline = [{"period_start": jsonable(p), "value": v} for p, v in series]
    if not series:
        tile.note = "no_data"
        return
    tile.period_start, tile.value = series[-1]
    tile.immature = "immature" in df.columns and bool(df["immature"].iloc[-1])
    tile.previous = series[-2][1] if len(series) > 1 else None
    head = Headline(metric.id, tile.label, tile.unit, tile.period_start, tile.value,
                    tile.previous)
    tile.change = head.change
    tile.benchmark_status = benchmark_status(metric, tile.value)
    if tile.value is None:
        tile.note = "no_data"


def _targets(session: Session, out: list[Tile], grain: str, as_of: Any) -> None:
    """Each tile's KPI target for its period and its status (`insights.kpis`): on track, at
    risk, behind. Targets are company-wide, so only unscoped, unfiltered tiles get one."""
    kpis = _kpis()
    if kpis is None:
        return
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
