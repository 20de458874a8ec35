"""Revenue page: MRR movements as a waterfall, MRR, churn and net revenue retention — each
section only when the library has it (`funnelmetrics.revenue`, the catalogue's revenue metrics)."""

from __future__ import annotations

from typing import Any

from funnelmetrics import catalog
from funnelmetrics.i18n.ui import t
from funnelmetrics.serialize import jsonable, marks
from funnelmetrics.web import charts, service
from funnelmetrics.web.auth import Principal
from funnelmetrics.web.source import Session
from funnelmetrics.web.views.common import (
    Card,
    Filters,
    export_metric_links,
    export_rows_links,
    metric_card,
    partial_note,
    unavailable,
    view_or_note,
)

STEPS = [("start", "start_mrr"), ("new", "new_mrr"), ("reactivation", "reactivation_mrr"),
         ("expansion", "expansion_mrr"), ("contraction", "contraction_mrr"),
         ("churn", "churned_mrr"), ("end", "end_mrr")]


def waterfall_card(session: Session, who: Principal, f: Filters) -> Card:
    """Start MRR, each movement of the last period of the range, end MRR
    (`funnelmetrics.revenue.movements.mrr_waterfall`: start + movements = end by construction)."""
    title = t("mrr_movements", f.lang)
    df, note = view_or_note(session, who, title, f.lang, "funnelmetrics.revenue.movements",
                            "mrr_waterfall", grain=f.grain, start=f.start, end=f.end,
                            as_of=f.as_of, where=dict(f.where))
    if note is not None:
        return note
    last = df.iloc[-1]
    labels = [_label(key, f.lang) for _, key in STEPS]
    values = [jsonable(last[column]) for column, _ in STEPS]
    measures = ["absolute", *(["relative"] * (len(STEPS) - 2)), "total"]
    text = [f.fmt(v, "currency") for v in values]
    period = f"{f.period_label(last['period_start'])} {marks(last.get('partial'))}".rstrip()
    card = Card(f"{title} · {period}", chart=charts.waterfall(labels, values, measures, text),
                wide=True, note=partial_note(f, df.tail(1)))
    card.links = export_metric_links(f, "net_new_mrr", {}, None) + export_rows_links(
        f, who, "subscriptions", up_to_end=True)
    return card


def _label(key: str, lang: str) -> str:
    if key in ("start_mrr", "end_mrr"):
        return t(key, lang)
    return catalog.get(key).name(lang) if service.has_metric(key) else key


def page(session: Session, who: Principal, f: Filters) -> dict[str, Any]:
    cards = [waterfall_card(session, who, f)]
    for metric_id, kind in (("mrr", "scatter"), ("net_new_mrr", "bar"),
                            ("customer_churn_rate", "scatter"),
                            ("gross_mrr_churn_rate", "scatter"),
                            ("net_revenue_retention", "scatter"), ("quick_ratio", "scatter"),
                            ("arpa", "scatter"), ("ltv", "scatter")):
        if service.has_metric(metric_id):
            cards.append(metric_card(session, who, f, metric_id, by=f.by, kind=kind))
    if len(cards) == 1:
        cards.append(unavailable(t("churn", f.lang), f.lang))
    return {"cards": cards}
