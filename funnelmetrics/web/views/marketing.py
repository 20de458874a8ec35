"""Marketing page: spend, cost per lead, CAC and ROI by channel — one metric per chart, a bar
per channel over the page's range, each channel in its colour (`funnelmetrics.palette`), an
outlier cut at the axis with a note rather than flattening the rest — and the attribution
models side by side."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from funnelmetrics import catalog
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
    export_metric_links,
    export_rows_links,
    fetch,
    partial_note,
    unavailable,
    unit_of,
    user_message,
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
        return [Card(title, note=t(user_message(exc), f.lang))]
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


def channel_card(session: Session, who: Principal, f: Filters, metric_id: str, by: str, *,
                 column: str = "value", unit: str | None = None,
                 title: str | None = None) -> Card:
    """One metric over the page's whole range, a bar per value of `by` (largest first)."""
    metric = catalog.get(metric_id)
    unit = unit or unit_of(metric)
    title = title or f"{metric.name(f.lang)} · {t('by', f.lang)} {by}"
    df = fetch(session, who, f, metric_id, by=[by], grain="all")
    if isinstance(df, str):
        return unavailable(title, f.lang, df)
    rows = [(("(unknown)" if r[by] is None else str(r[by])), jsonable(r[column]))
            for r in df.to_dict(orient="records")]
    rows = sorted(rows, key=lambda r: (r[1] is None, -(r[1] or 0)))[:TOP_CHANNELS]
    if not rows:
        return unavailable(title, f.lang, "no_data")
    labels, values = [r[0] for r in rows], [r[1] for r in rows]
    cut = charts.clipped_axis(values)
    note = t("axis_cut", f.lang, cut=f.short(cut, unit)) if cut is not None else None
    chart = charts.hbars(labels, values, unit=unit, by_value=True, clip_note=note,
                         text=[f.short(v, unit) if cut is not None and v is not None
                               and abs(v) > cut else None for v in values])
    card = Card(title, chart=chart, note=partial_note(f, df))
    card.links = export_metric_links(f, metric_id, {}, by)
    return card


def page(session: Session, who: Principal, f: Filters) -> dict[str, Any]:
    cards = []
    by = f.by or "channel"
    if service.has_metric("cost_per_lead"):  # its numerator is the marketing spend
        cards.append(channel_card(session, who, f, "cost_per_lead", by, column="numerator",
                                  unit="currency",
                                  title=f"{t('spend', f.lang)} · {t('by', f.lang)} {by}"))
    for metric_id in METRICS:
        if service.has_metric(metric_id):
            cards.append(channel_card(session, who, f, metric_id, by))
    if not cards:
        cards.append(unavailable(t("marketing_metrics", f.lang), f.lang))
    cards += attribution_cards(session, who, f)
    return {"cards": cards}
