"""Marketing page: spend, cost per lead, CAC and ROI by channel, and the attribution models side
by side (when `funnelmetrics.attribution` is installed)."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from funnelmetrics.errors import QueryError
from funnelmetrics.i18n.ui import t
from funnelmetrics.serialize import jsonable
from funnelmetrics.web import charts, service
from funnelmetrics.web.auth import Principal
from funnelmetrics.web.source import Session
from funnelmetrics.web.views.common import (
    Card,
    Filters,
    TableView,
    export_rows_links,
    metric_card,
    unavailable,
)

METRICS = ("cost_per_lead", "cost_per_opportunity", "cac", "marketing_roi", "ltv_to_cac",
           "cac_payback_months")
TOP_CHANNELS = 10


def attribution_cards(session: Session, who: Principal, f: Filters) -> list[Card]:
    """Credited revenue per channel, one bar per model, and the ROI table beside it."""
    title = t("attribution", f.lang)
    try:
        results = service.attribution(session, who, model="all", start=f.start, end=f.end,
                                      as_of=f.as_of)
    except HTTPException as exc:
        if exc.status_code == 403:
            return [unavailable(title, f.lang, "not_for_role")]
        raise
    except QueryError as exc:
        return [Card(title, note=str(exc))]
    if not results:
        return [unavailable(title, f.lang, "no_data")]
    first = next(iter(results.values()))
    key = first.columns[0]
    channels = [str(c) for c in first[key]][:TOP_CHANNELS]
    traces = []
    for name, df in results.items():
        by_channel = {str(r[key]): jsonable(r["credited_revenue"])
                      for r in df.to_dict(orient="records")}
        traces.append((name, channels, [by_channel.get(c) for c in channels], None))
    chart = charts.lines(traces, unit="currency", kind="bar")
    rows = []
    for c in channels:
        row: list[Any] = [c]
        for df in results.values():
            hit = df[df[key].astype(str) == c]
            row.append(f.fmt(jsonable(hit["roi"].iloc[0]) if len(hit) else None, "ratio"))
        rows.append(row)
    spend = {str(r[key]): r["spend"] for r in first.to_dict(orient="records")}
    for row in rows:
        row.insert(1, f.fmt(jsonable(spend.get(row[0])), "currency"))
    table = TableView([t("channel", f.lang), t("spend", f.lang), *(f"ROI {m}" for m in results)],
                      rows,
                      [False, True, *(True for _ in results)])
    card = Card(f"{title} · {t('credited_revenue', f.lang)}", chart=chart, wide=True,
                height=380)
    card.links = [("JSON", f.url("/api/v1/attribution", grain=None, by=None, lang=None))]
    card.links += export_rows_links(f, who, "touchpoints")
    return [card, Card(f"{title} · ROI", table=table, wide=True)]


def page(session: Session, who: Principal, f: Filters) -> dict[str, Any]:
    cards = []
    if service.has_metric("cost_per_lead"):  # its numerator is the marketing spend
        by = f.by or "channel"
        cards.append(metric_card(session, who, f, "cost_per_lead", by=by, kind="bar",
                                 column="numerator", unit="currency",
                                 title=f"{t('spend', f.lang)} · {t('by', f.lang)} {by}"))
    for metric_id in METRICS:
        if service.has_metric(metric_id):
            cards.append(metric_card(session, who, f, metric_id, by=f.by or "channel",
                                     kind="bar" if metric_id != "marketing_roi" else "scatter"))
    if not cards:
        cards.append(unavailable(t("marketing_metrics", f.lang), f.lang))
    cards += attribution_cards(session, who, f)
    return {"cards": cards}
