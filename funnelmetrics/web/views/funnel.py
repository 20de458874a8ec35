"""Funnel page: the funnel chart (split by a dimension), conversion and drop-off per stage, and
median time in stage — all from `ws.funnel`."""

from __future__ import annotations

from typing import Any

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
    rows_url,
    series_of,
)

TOP_SEGMENTS = 6


def _frame(session: Session, who: Principal, f: Filters, funnel_name: str | None,
           by: str | None) -> Any:
    return service.funnel(session, who, start=f.start, end=f.end, funnel_name=funnel_name,
                          by=by, where=f.where, as_of=f.as_of)


def _stage_urls(f: Filters, who: Principal, stages: list[str],
                extra: dict[str, Any]) -> list[str] | None:
    """Stage k's rows: the leads for the first stage, its stage events for the others."""
    if not who.sees_rows:
        return None
    return [rows_url(f, "leads", where=extra) if i == 0 else
            rows_url(f, "stage_events", where={**extra, "stage": stage})
            for i, stage in enumerate(stages)]


def _segments(df: Any, by: str) -> list[tuple[str, Any, dict[str, Any]]]:
    """(label, its rows, its drill-down filter) for the largest few values of `by`."""
    sizes = df.assign(numerator=df["reached"], value=df["reached"])
    out = []
    for label, _ in series_of(sizes, by, TOP_SEGMENTS):
        part = df[df[by].isna()] if label == "(unknown)" else df[df[by].astype(str) == label]
        out.append((label, part, {by: label} if label != "(unknown)" else {}))
    return out


def funnel_chart(session: Session, who: Principal, f: Filters, funnel_name: str | None = None,
                 by: str | None = None, df: Any = None) -> Card:
    """The funnel chart; split by `by`, grouped bars — a bar per segment (the largest few, in
    their colours) at each stage — rather than funnels drawn over each other."""
    df = _frame(session, who, f, funnel_name, by) if df is None else df
    stages = list(dict.fromkeys(df["stage"]))
    if by:
        traces = [(label, stages, [jsonable(v) for v in part["reached"]],
                   _stage_urls(f, who, stages, extra))
                  for label, part, extra in _segments(df, by)]
        chart = charts.lines(traces, unit="count", kind="bar")
    else:
        chart = charts.funnel(stages, [(t("funnel", f.lang), [jsonable(v) for v in df["reached"]],
                                        _stage_urls(f, who, stages, {}))])
    title = t("funnel_by", f.lang, dim=by) if by else t("funnel", f.lang)
    card = Card(title, chart=chart, height=360 if not by else 420, wide=bool(by))
    card.links = [(f"{t('export_data', f.lang)} CSV", _export(f, "csv", funnel_name, by)),
                  (f"{t('export_data', f.lang)} XLSX", _export(f, "xlsx", funnel_name, by))]
    card.links += export_rows_links(f, who, "leads")
    return card


def _export(f: Filters, fmt: str, funnel_name: str | None, by: str | None) -> str:
    changes: dict[str, Any] = {"funnel": funnel_name, "by": by, "grain": None, "lang": None}
    return f.url(f"/api/v1/export/funnel.{fmt}", **changes)


def funnel_cards(session: Session, who: Principal, f: Filters,
                 funnel_name: str | None) -> list[Card]:
    """The funnel, its table, drop-off and time in stage — all split by the page's `by` when
    it has one (a row or a bar per segment), so that every card tells the same story."""
    by = f.by
    df = _frame(session, who, f, funnel_name, by)
    cards = [funnel_chart(session, who, f, funnel_name, by, df=df)]
    parts = _segments(df, by) if by else [("", df, {})]
    stages = list(dict.fromkeys(df["stage"]))
    rows = [([label] if by else []) + [
        rec["stage"], f.fmt(rec["reached"], "count"), f.fmt(rec["conversion_to_next"], "ratio"),
        f.fmt(rec["drop_off"], "ratio"), f.fmt(rec["median_days_in_stage"], "days")]
        for label, part, _ in parts for rec in part.to_dict(orient="records")]
    head = [t("stage", f.lang), t("reached", f.lang), t("conversion_to_next", f.lang),
            t("drop_off", f.lang), t("median_days", f.lang)]
    table_card = Card(t("conversion_to_next", f.lang), table=TableView(
        ([by] if by else []) + head, rows, ([False] if by else []) + [False, True, True, True,
                                                                       True]), wide=bool(by))
    table_card.links = cards[0].links[:2] + export_rows_links(f, who, "stage_events")
    cards.append(table_card)
    labels = [f"{a} → {b}" for a, b in zip(stages[:-1], stages[1:], strict=True)]
    if by:  # a bar per segment at each step
        drop = [(label, labels, [jsonable(v) for v in part["drop_off"]][:-1],
                 (_stage_urls(f, who, stages, extra) or [None])[1:] or None)
                for label, part, extra in parts]
        days = [(label, stages[:-1], [jsonable(v) for v in part["median_days_in_stage"]][:-1],
                 None) for label, part, _ in parts]
        cards.append(Card(t("drop_off", f.lang), chart=charts.lines(drop, unit="ratio",
                                                                    kind="bar"),
                          height=320, links=export_rows_links(f, who, "stage_events")))
        cards.append(Card(t("time_in_stage", f.lang), chart=charts.lines(days, unit="days",
                                                                          kind="bar"),
                          height=320, links=export_rows_links(f, who, "stage_events")))
        return cards
    moving = df.iloc[:-1]
    urls = _stage_urls(f, who, stages, {})
    cards.append(Card(t("drop_off", f.lang), chart=charts.hbars(
        labels, [jsonable(v) for v in moving["drop_off"]], unit="ratio",
        urls=urls[1:] if urls else None,
        text=[f.fmt(v, "ratio") for v in moving["drop_off"]]), height=260,
        links=export_rows_links(f, who, "stage_events")))
    cards.append(Card(t("time_in_stage", f.lang), chart=charts.hbars(
        stages[:-1], [jsonable(v) for v in moving["median_days_in_stage"]], unit="days",
        urls=urls[:-1] if urls else None,
        text=[f.fmt(v, "days") for v in moving["median_days_in_stage"]]), height=260,
        links=export_rows_links(f, who, "stage_events")))
    return cards
