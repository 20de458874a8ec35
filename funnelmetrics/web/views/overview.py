"""Overview page: KPI tiles (value, change, sparkline, benchmark and target status), the funnel
and the lead trend — what a sales manager reads first thing in the morning."""

from __future__ import annotations

from typing import Any

from funnelmetrics.i18n.ui import t
from funnelmetrics.web import charts, tiles
from funnelmetrics.web.auth import Principal
from funnelmetrics.web.source import Session
from funnelmetrics.web.views.common import Card, Filters, metric_card
from funnelmetrics.web.views.funnel import funnel_chart


def tile_view(f: Filters, tile: tiles.Tile) -> dict[str, Any]:
    """A tile as the template shows it: formatted figures and a sparkline."""
    change = tile.change
    better = None
    if change is not None and change != 0:
        from funnelmetrics import catalog

        better = (change > 0) == catalog.get(tile.metric).higher_is_better
    values = [p["value"] for p in tile.sparkline]
    params = "&".join(f"param={k}={v}" for k, v in tile.params.items())
    return {
        "metric": tile.metric, "label": tile.label, "unit": tile.unit,
        "value": f.fmt(tile.value, tile.unit) if tile.available else "—",
        "raw": tile.value,
        "period": f.period_label(tile.period_start) if tile.period_start else "",
        "change": None if change is None else
        f"{'▲' if change > 0 else '▼' if change < 0 else '='} {f.fmt(abs(change), 'ratio')}",
        "better": better,
        "benchmark": tile.benchmark_status,
        "benchmark_text": t(tile.benchmark_status, f.lang) if tile.benchmark_status else None,
        "target": f.fmt(tile.target, tile.unit) if tile.target is not None else None,
        "target_status": tile.target_status,
        "target_text": t(tile.target_status, f.lang) if tile.target_status else None,
        "note": t(tile.note, f.lang) if tile.note else None,
        "spark": charts.sparkline_points(values),
        "href": f.url("/trends", metric=tile.metric) + (f"&{params}" if params else ""),
    }


def page(session: Session, who: Principal, f: Filters) -> dict[str, Any]:
    found = tiles.tiles(session, who, grain=f.grain, start=f.start, end=f.end, where=f.where,
                        lang=f.lang, as_of=f.as_of)
    cards: list[Card] = [funnel_chart(session, who, f, None, f.by),
                         metric_card(session, who, f, "leads_created", by=f.by),
                         metric_card(session, who, f, "win_rate", by=f.by),
                         metric_card(session, who, f, "pipeline_value", by=f.by, kind="bar")]
    return {"tiles": [tile_view(f, x) for x in found], "cards": cards}
