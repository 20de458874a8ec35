"""Overview page: KPI tiles (value, change, sparkline, benchmark and target status), the funnel
and the lead trend — what a sales manager reads first thing in the morning."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from funnelmetrics import catalog
from funnelmetrics.errors import FunnelmetricsError
from funnelmetrics.i18n.format import number
from funnelmetrics.i18n.ui import t
from funnelmetrics.insights import kpis
from funnelmetrics.web import charts, service, tiles
from funnelmetrics.web.auth import Principal
from funnelmetrics.web.source import Session
from funnelmetrics.web.views.common import (
    Card,
    Filters,
    TableView,
    label_of,
    metric_card,
    unit_of,
)
from funnelmetrics.web.views.funnel import funnel_chart


def change_text(f: Filters, change: float | None, change_unit: str) -> str | None:
    """▲ 4.6% (a relative change), or ▲ 2.1 pp for a rate (percentage points)."""
    if change is None:
        return None
    arrow = "▲" if change > 0 else "▼" if change < 0 else "="
    if change_unit == "pp":
        return f"{arrow} {number(round(abs(change), 1), f.lang, 1)} pp"
    return f"{arrow} {f.fmt(abs(change), 'ratio')}"


def tile_view(f: Filters, tile: tiles.Tile) -> dict[str, Any]:
    """A tile as the template shows it: formatted figures and a sparkline (a dashed end over
    partial periods)."""
    metric = catalog.get(tile.metric)
    unit = unit_of(metric)
    change = tile.change
    better = None if change is None or change == 0 else (change > 0) == metric.higher_is_better
    # an immature cohort's value will still grow: its change and benchmark are not a verdict
    # yet (neither red nor green)
    comparable = not tile.immature
    values = [p["value"] for p in tile.sparkline]
    solid, dashed = charts.sparkline_parts(values, [p.get("partial") is True
                                                    for p in tile.sparkline])
    params = "&".join(f"param={k}={v}" for k, v in tile.params.items())
    return {
        "metric": tile.metric, "label": label_of(metric, f.lang, tile.params), "unit": unit,
        "value": f.short(tile.value, unit) if tile.available else "—",
        "full": f.fmt(tile.value, unit) if tile.available else "",
        "raw": tile.value,
        "period": f.period_label(tile.period_start) if tile.period_start else "",
        "change": change_text(f, change, tile.change_unit) if comparable or change is None
        else t("not_comparable", f.lang),
        "change_note": t("immature_note", f.lang) if not comparable else
        t("pp_note", f.lang) if tile.change_unit == "pp" else None,
        "better": better if comparable else None,
        "benchmark": tile.benchmark_status if comparable else
        ("immature" if tile.benchmark_status else None),
        "benchmark_text": (t(tile.benchmark_status, f.lang) if comparable
                           else t("not_comparable", f.lang)) if tile.benchmark_status else None,
        "target": f.fmt(tile.target, unit) if tile.target is not None else None,
        "target_status": tile.target_status,
        "target_text": t(tile.target_status, f.lang) if tile.target_status else None,
        "note": t(tile.note, f.lang) if tile.note else None,
        "immature": t("immature_short", f.lang) if tile.immature else None,
        "partial": t("partial_short", f.lang) if tile.partial else None,
        "spark": solid,
        "spark_partial": dashed,
        "href": f.url("/trends", metric=tile.metric) + (f"&{params}" if params else ""),
    }


def forecast_tile(session: Session, who: Principal, f: Filters) -> dict[str, Any]:
    """Next period's P50 bookings with its P10-P90, linked to the Forecast page: the first row
    of the bookings forecast (the period holding the as-of instant, from that instant on) as
    `GET /api/v1/forecast/bookings` answers it with its defaults (`web.api_forecast.bookings`:
    the same function, arguments and cache entry, so the tile and the API agree to the cent).
    Roles limited to some reps get no whole-workspace forecast, and a filter does not apply to
    it: the tile says so. On the demo
    workspace (20,000 leads) it takes about 1-2 s once per workspace version (cached after;
    `serve --warm` computes it with the rest of the overview)."""
    from funnelmetrics.web.api_forecast import bookings, whole_workspace

    grain = "quarter" if f.grain == "quarter" else "month"
    view: dict[str, Any] = {
        "metric": "bookings_forecast", "label": t("bookings_p50", f.lang), "unit": "currency",
        "value": "—", "full": "", "raw": None, "period": "", "change": None,
        "better": None, "benchmark": None, "target_status": None, "note": None,
        "immature": None, "partial": None, "spark": None, "spark_partial": None,
        "range": None, "href": f.url("/forecast", grain=grain)}
    try:
        whole_workspace(who, "the bookings forecast")
        if f.where:  # the forecast is of the whole workspace: a filter does not apply to it
            view["note"] = t("filter_not_applicable", f.lang)
            return view
        answer = bookings(session, who, grain=grain, as_of=f.as_of)
    except HTTPException as exc:
        view["note"] = t("not_for_role", f.lang) if exc.status_code == 403 else str(exc.detail)
        return view
    except FunnelmetricsError as exc:
        view["note"] = str(exc).splitlines()[0]
        return view
    if not answer["rows"]:
        view["note"] = t("no_data", f.lang)
        return view
    first = answer["rows"][0]
    total = first["total"]
    view.update(
        value=f.short(total["p50"], "currency"), full=f.fmt(total["p50"], "currency"),
        raw=total["p50"], period=f.period_label(first["period_start"], grain),
        range=f"P10 {f.short(total['p10'], 'currency')} – P90 "
              f"{f.short(total['p90'], 'currency')}")
    return view


def targets_card(session: Session, who: Principal, f: Filters) -> Card | None:
    """This period's KPI targets and their status (`insights.kpis`), for unscoped callers."""
    if who.rep_ids is not None:
        return None
    df = session.cached(("kpi_status_now", f.as_of), lambda ws: kpis.kpi_status(ws, as_of=f.as_of))
    if df.empty:
        return None
    rows = []
    for rec in df.to_dict(orient="records"):
        metric = catalog.get(rec["metric"]) if service.has_metric(rec["metric"]) else None
        unit = unit_of(metric) if metric else rec.get("unit")
        scope = f" ({rec['dimension']} = {rec['dimension_value']})" if rec.get("dimension") \
            else ""
        status = str(rec["status"]).replace(" ", "_")
        rows.append([(metric.name(f.lang) if metric else rec["metric"]) + scope,
                     f.period_label(rec["period_start"], "month"), f.fmt(rec["target"], unit),
                     f.fmt(rec["expected"], unit), f.fmt(rec["actual"], unit),
                     {"badge": status, "text": t(status, f.lang)}])
    return Card(t("targets", f.lang), table=TableView(
        [t("metric", f.lang), t("period", f.lang), t("target", f.lang), t("expected", f.lang),
         t("actual", f.lang), t("status", f.lang)], rows,
        [False, False, True, True, True, False]), wide=True)


def page(session: Session, who: Principal, f: Filters) -> dict[str, Any]:
    found = tiles.tiles(session, who, grain=f.grain, start=f.start, end=f.end, where=f.where,
                        lang=f.lang, as_of=f.as_of, include_partial=f.include_partial)
    cards: list[Card] = [funnel_chart(session, who, f, None, f.by),
                         metric_card(session, who, f, "leads_created", by=f.by),
                         metric_card(session, who, f, "win_rate", by=f.by),
                         metric_card(session, who, f, "pipeline_value", by=f.by, kind="bar")]
    targets = targets_card(session, who, f)
    if targets is not None:
        cards.append(targets)
    if f.data_ended is not None:  # an old export: its own last full periods, and a line
        cards.insert(0, Card(t("data_ends_page", f.lang, end=f.period_label(f.data_ended, "day"),
                                last=f.period_label(f.end, f.grain)), wide=True))
    return {"tiles": [*(tile_view(f, x) for x in found), forecast_tile(session, who, f)],
            "cards": cards}
