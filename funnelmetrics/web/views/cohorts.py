"""Cohorts page: stage conversion by cohort period × transition, lead conversion by cohort ×
segment, and revenue retention by month × segment when the revenue metrics exist."""

from __future__ import annotations

from typing import Any

from funnelmetrics.i18n.ui import t
from funnelmetrics.serialize import flagged, jsonable, mark_notes, marks
from funnelmetrics.web import charts
from funnelmetrics.web.auth import Principal
from funnelmetrics.web.source import Session
from funnelmetrics.web.views.common import (
    Card,
    Filters,
    export_metric_links,
    export_rows_links,
    fetch,
    rows_url,
    series_of,
    unavailable,
    view_or_note,
)

SEGMENTS = 10


def _cell(f: Filters, value: Any, immature: Any) -> str:
    """A conversion rate, † when its cohort is younger than the conversion window."""
    text = f.fmt(value, "ratio")
    return f"{text}{marks(immature=immature is True)}" if value is not None else text


def _row_label(f: Filters, period: Any, partial: bool) -> str:
    """A cohort's period, * while it is not over (the cohort is still filling)."""
    return f"{f.period_label(period)} {marks(partial)}".rstrip()


def _note(f: Filters, df_list: list[Any]) -> str | None:
    """The footnotes of the marks a heat-map of these results uses."""
    rows = [r for df in df_list for r in df.to_dict(orient="records")]
    notes = mark_notes(f.lang, partial=any(flagged(r, "partial") for r in rows),
                       immature=any(flagged(r, "immature") for r in rows))
    return " · ".join(notes) or None


def transitions_card(session: Session, who: Principal, f: Filters, stages: list[str]) -> Card:
    """stage_conversion_rate of every consecutive pair of stages, by cohort period."""
    title = t("conversion_heatmap", f.lang)
    pairs = [(a, b) for a, b in zip(stages[:-1], stages[1:], strict=True)]
    pairs.append((stages[0], stages[-1]))
    columns, z, text, urls, frames = [], [], [], [], []
    periods: list[Any] = []
    for a, b in pairs:
        df = fetch(session, who, f, "stage_conversion_rate", {"from_stage": a, "to_stage": b})
        if isinstance(df, str):
            return unavailable(title, f.lang, df)
        frames.append(df)
        periods = list(df["period_start"])
        columns.append(f"{a} → {b}")
        z.append([jsonable(v) for v in df["value"]])
        imm = list(df["immature"]) if "immature" in df else [False] * len(df)
        text.append([_cell(f, v, i) for v, i in zip(df["value"], imm, strict=True)])
        urls.append([rows_url(f, "stage_events", start=p, end=f.period_end(p),
                              where={"stage": a}) if who.sees_rows else None for p in periods])
    partial = [flagged(r, "partial") for r in frames[-1].to_dict(orient="records")] \
        if frames else []
    rows = [_row_label(f, p, flag) for p, flag in zip(periods, partial, strict=True)]
    transpose = [list(col) for col in zip(*z, strict=True)]
    card = Card(title, chart=charts.heatmap(
        columns, rows, transpose, [list(c) for c in zip(*text, strict=True)], unit="ratio",
        urls=[list(c) for c in zip(*urls, strict=True)]), wide=True,
        height=max(300, 28 * len(rows) + 80), note=_note(f, frames))
    card.links = export_metric_links(f, "stage_conversion_rate", {}, None) + export_rows_links(
        f, who, "stage_events")
    return card


def segment_card(session: Session, who: Principal, f: Filters, metric_id: str, by: str,
                 title: str, params: dict[str, Any] | None = None) -> Card:
    """A metric by period (rows) × the largest segments of `by` (columns)."""
    df = fetch(session, who, f, metric_id, params, [by])
    if isinstance(df, str):
        return unavailable(title, f.lang, df)
    parts = series_of(df, by, SEGMENTS)
    periods = sorted({p for _, part in parts for p in part["period_start"]})
    running = {p for p, flag in zip(df["period_start"], df["partial"], strict=True)
               if jsonable(flag) is True} if "partial" in df.columns else set()
    z, text = [], []
    for p in periods:
        row_z, row_t = [], []
        for _, part in parts:
            hit = part[part["period_start"] == p]
            value = jsonable(hit["value"].iloc[0]) if len(hit) else None
            immature = bool(hit["immature"].iloc[0]) if len(hit) and "immature" in hit else False
            row_z.append(value)
            row_t.append(_cell(f, value, immature))
        z.append(row_z)
        text.append(row_t)
    card = Card(title, chart=charts.heatmap([label for label, _ in parts],
                                            [_row_label(f, p, p in running) for p in periods],
                                            z, text, unit="ratio"),
                wide=True, height=max(300, 28 * len(periods) + 80), note=_note(f, [df]))
    card.links = export_metric_links(f, metric_id, params or {}, by) + export_rows_links(
        f, who, "leads")
    return card


def retention_card(session: Session, who: Principal, f: Filters) -> Card:
    """MRR retained by cohort of first paid subscription × periods since
    (`funnelmetrics.revenue.cohorts.mrr_cohorts`)."""
    title = t("retention_heatmap", f.lang)
    df, note = view_or_note(session, who, title, f.lang, "funnelmetrics.revenue.cohorts",
                            "mrr_cohorts", grain=f.grain, start=f.start, end=f.end,
                            as_of=f.as_of)
    if note is not None:
        return note
    cohorts = list(dict.fromkeys(df["cohort"]))
    ages = sorted(set(int(a) for a in df["periods_since_start"]))
    cells = {(c, int(a)): r for c, a, r in zip(df["cohort"], df["periods_since_start"],
                                               df.to_dict(orient="records"), strict=True)}
    z = [[jsonable(cells[(c, a)]["mrr_retention"]) if (c, a) in cells else None for a in ages]
         for c in cohorts]
    text = [[f.fmt(cells[(c, a)]["mrr_retention"], "ratio") if (c, a) in cells else ""
             for a in ages] for c in cohorts]
    card = Card(title, chart=charts.heatmap([str(a) for a in ages],
                                            [f.period_label(c) for c in cohorts], z, text,
                                            unit="ratio"),
                wide=True, height=max(300, 28 * len(cohorts) + 80),
                note=t("retention_note", f.lang))
    card.links = export_rows_links(f, who, "subscriptions", up_to_end=True)
    return card


def page(session: Session, who: Principal, f: Filters, stages: list[str]) -> dict[str, Any]:
    by = f.by or "source"
    cards = [transitions_card(session, who, f, stages),
             segment_card(session, who, f, "lead_conversion_rate", by,
                          t("lead_conversion_heatmap", f.lang, dim=by))]
    cards.append(retention_card(session, who, f))
    return {"cards": cards}
