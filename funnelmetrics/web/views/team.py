"""Team page: the rep leaderboard over the range, quota attainment by rep, win rate by team,
and eNPS when the catalogue has it."""

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
    metric_card,
    partial_note,
    rows_url,
    unavailable,
    user_message,
)


def _name(rec: dict[str, Any]) -> str:
    name = rec.get("rep.name")
    return str(name) if name is not None and name == name else str(rec.get("rep_id"))


def _names(session: Session, who: Principal, f: Filters) -> dict[str, str]:
    """rep_id → name, from the rep dimension of a metric over the range."""
    df = fetch(session, who, f, "quota_attainment", by=["rep_id", "rep.name"], grain="all")
    if isinstance(df, str):
        return {}
    return {str(r["rep_id"]): _name(r) for r in df.to_dict(orient="records")}


def leaderboard(session: Session, who: Principal, f: Filters) -> list[Card]:
    """Reps over the whole range ranked by won amount, with win rate, cycle and attainment
    (`funnelmetrics.revenue.leaderboard`)."""
    title = t("leaderboard", f.lang)
    try:
        df = service.view(session, who, "funnelmetrics.revenue.leaderboard", "leaderboard",
                          grain="all", start=f.start, end=f.end, as_of=f.as_of,
                          where=dict(f.where))
    except HTTPException as exc:
        if exc.status_code != 403:
            raise
        return [unavailable(title, f.lang, "not_for_role")]
    except QueryError as exc:
        return [Card(title, note=t(user_message(exc), f.lang))]
    names = _names(session, who, f)
    records = df.sort_values(["rank", "rep_id"]).to_dict(orient="records")
    rows = []
    for r in records:
        rep = str(r["rep_id"])
        link = rows_url(f, "opportunities", date_column="closed_at",
                        where={"rep_id": rep, "status": "won"}) if who.sees_rows else None
        rows.append([str(r["rank"]), (names.get(rep, rep), link),
                     f.fmt(r["won_amount"], "currency"), f.fmt(r["win_rate"], "ratio"),
                     f.fmt(r["mean_cycle_days"], "days"), f.fmt(r["quota_attainment"], "ratio")])
    table = TableView([t("rank", f.lang), t("rep", f.lang), t("won_amount", f.lang),
                       _metric_name("win_rate", f.lang), _metric_name("sales_cycle_days", f.lang),
                       _metric_name("quota_attainment", f.lang)], rows,
                      [True, False, True, True, True, True])
    labels = [names.get(str(r["rep_id"]), str(r["rep_id"])) for r in records]
    chart = charts.hbars(labels, [jsonable(r["won_amount"]) for r in records], unit="currency",
                         text=[f.fmt(r["won_amount"], "currency") for r in records])
    board = Card(title, table=table, note=partial_note(f, df))  # a range not over yet
    board.links = export_metric_links(f, "won_revenue", {}, "rep_id")
    bars = Card(f"{title} · {t('won_amount', f.lang)}", chart=chart,
                height=max(260, 26 * len(labels) + 60))
    bars.links = export_rows_links(f, who, "opportunities", "closed_at")
    return [board, bars]


def _metric_name(metric_id: str, lang: str) -> str:
    return catalog.get(metric_id).name(lang) if service.has_metric(metric_id) else metric_id


def page(session: Session, who: Principal, f: Filters) -> dict[str, Any]:
    cards = leaderboard(session, who, f)
    cards.append(metric_card(session, who, f, "quota_attainment", by=f.by or "rep.name"))
    cards.append(metric_card(session, who, f, "win_rate", by=f.by or "rep.team"))
    if service.has_metric("enps"):
        cards.append(metric_card(session, who, f, "enps"))
        cards.append(metric_card(session, who, f, "enps", by="team", kind="bar"))
    else:
        cards.append(unavailable("eNPS", f.lang))
    return {"cards": cards}
