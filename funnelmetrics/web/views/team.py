"""Team page: the rep leaderboard (quota attainment over the range), win rate by rep, and eNPS
when the catalogue has it."""

from __future__ import annotations

from typing import Any

from funnelmetrics.cli.render import jsonable
from funnelmetrics.i18n.ui import t
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
    metric_card,
    rows_url,
    unavailable,
)


def _name(rec: dict[str, Any]) -> str:
    name = rec.get("rep.name")
    return str(name) if name is not None and name == name else str(rec.get("rep_id"))


def leaderboard(session: Session, who: Principal, f: Filters) -> list[Card]:
    """Reps by quota attainment over the whole range (won amount / quota)."""
    title = t("leaderboard", f.lang)
    df = fetch(session, who, f, "quota_attainment", by=["rep_id", "rep.name"], grain="all")
    if isinstance(df, str):
        return [unavailable(title, f.lang, df)]
    df = df[df["denominator"].fillna(0) > 0].sort_values("value", ascending=False)
    records = df.to_dict(orient="records")
    rows = [[str(i), (_name(r), rows_url(f, "opportunities", date_column="closed_at",
                                         where={"rep_id": r["rep_id"], "status": "won"})
                      if who.sees_rows else None),
             f.fmt(r["numerator"], "currency"), f.fmt(r["denominator"], "currency"),
             f.fmt(r["value"], "ratio")] for i, r in enumerate(records, 1)]
    table = TableView([t("rank", f.lang), t("rep", f.lang), t("won_amount", f.lang),
                       t("quota", f.lang), t("quota", f.lang) + " %"], rows,
                      [True, False, True, True, True])
    labels = [_name(r) for r in records]
    chart = charts.hbars(labels, [jsonable(r["value"]) for r in records], unit="ratio",
                         text=[f.fmt(r["value"], "ratio") for r in records])
    board = Card(title, table=table)
    board.links = export_metric_links(f, "quota_attainment", {}, "rep_id")
    bars = Card(f"{title} · {t('quota', f.lang)} %", chart=chart,
                height=max(260, 26 * len(labels) + 60))
    bars.links = export_rows_links(f, who, "quotas")
    return [board, bars]


def page(session: Session, who: Principal, f: Filters) -> dict[str, Any]:
    cards = leaderboard(session, who, f)
    cards.append(metric_card(session, who, f, "win_rate", by=f.by or "rep.name"))
    cards.append(metric_card(session, who, f, "quota_attainment", by=f.by or "rep.team"))
    if service.has_metric("enps"):
        cards.append(metric_card(session, who, f, "enps"))
        cards.append(metric_card(session, who, f, "enps", by="team", kind="bar"))
    else:
        cards.append(unavailable("eNPS", f.lang))
    return {"cards": cards}
