"""Revenue page: MRR movements as a waterfall, MRR, churn and net revenue retention — each
section only when the catalogue has its metrics."""

from __future__ import annotations

from typing import Any

from funnelmetrics import catalog
from funnelmetrics.cli.render import jsonable
from funnelmetrics.i18n.ui import t
from funnelmetrics.web import charts, service
from funnelmetrics.web.auth import Principal
from funnelmetrics.web.source import Session
from funnelmetrics.web.views.common import (
    Card,
    Filters,
    export_metric_links,
    export_rows_links,
    fetch,
    metric_card,
    unavailable,
)

# (metric id, sign in the waterfall)
MOVEMENTS = [("new_mrr", 1), ("reactivation_mrr", 1), ("expansion_mrr", 1),
             ("contraction_mrr", -1), ("churned_mrr", -1)]


def waterfall_card(session: Session, who: Principal, f: Filters) -> Card:
    """Start MRR, each movement of the last period of the range, end MRR."""
    title = t("mrr_movements", f.lang)
    ids = ["mrr", *(m for m, _ in MOVEMENTS)]
    if not service.has_metric(*ids):
        return unavailable(title, f.lang)
    mrr = fetch(session, who, f, "mrr")
    if isinstance(mrr, str):
        return unavailable(title, f.lang, mrr)
    if len(mrr) < 2:
        return unavailable(title, f.lang, "no_data")
    last = mrr["period_start"].iloc[-1]
    labels, values, measures = [t("start_mrr", f.lang)], [jsonable(mrr["value"].iloc[-2])], \
        ["absolute"]
    for metric_id, sign in MOVEMENTS:
        df = fetch(session, who, f, metric_id)
        if isinstance(df, str):
            return unavailable(title, f.lang, df)
        hit = df[df["period_start"] == last]
        value = jsonable(hit["value"].iloc[0]) if len(hit) else None
        labels.append(catalog.get(metric_id).name(f.lang))
        values.append(None if value is None else sign * value)
        measures.append("relative")
    labels.append(t("end_mrr", f.lang))
    values.append(jsonable(mrr["value"].iloc[-1]))
    measures.append("total")
    text = [f.fmt(v, "currency") for v in values]
    card = Card(f"{title} · {f.period_label(last)}",
                chart=charts.waterfall(labels, values, measures, text), wide=True)
    card.links = export_metric_links(f, "mrr", {}, None) + export_rows_links(
        f, who, "subscriptions")
    return card


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
